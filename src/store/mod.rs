//! The embedded redb database: the only module that touches redb.
//!
//! [`Store`] is a cheap clone around one database handle ([`handle`]) opened
//! once per process, which reopens the file in place after an I/O failure
//! such as a full disk. Each resource is one file of methods on `Store`
//! (`users.rs`, `packs.rs`, `secrets.rs`, `workflows.rs`, `runs.rs`) plus
//! its tables in [`tables`]; records go through [`codec`]. Beside them:
//! `migrate.rs` (schema version, migrations before the server listens),
//! `pending.rs` (a sync's records, spilled to an unnamed temporary file past
//! 1 MiB), `backup.rs` (online snapshot copy, offline backup and restore). Every mutation is one short write
//! transaction. Methods are blocking; async callers use [`Store::call`],
//! which runs them on the blocking thread pool.

pub mod audit;
pub mod backup;
pub mod codec;
pub mod handle;
mod migrate;
mod packs;
mod pending;
pub mod revisions;
mod role;
mod runs;
mod secrets;
mod stats;
pub mod tables;
mod tokens;
mod users;
mod workflow_index;
mod workflows;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use handle::Db;
pub use handle::{FileStorage, ReadTxn, Storage, WriteTxn};
pub use migrate::SCHEMA_VERSION;
pub use packs::{NewPack, Pack, PackUpdate, RunSummary, pack_not_found_message};
pub use pending::PendingChanges;
pub use revisions::{Author, Revision, RevisionPair, RevisionPolicy};
pub use role::Role;
pub use runs::{NewRun, RUNS_KEPT_PER_PACK, RunCounts, RunRecord};
pub use stats::WorkflowCounts;
pub use tokens::{ApiToken, LAST_USED_RESOLUTION_SECS, Refresh, Session};
pub use users::{USER_FORMAT, User, UserChange};
pub use workflow_index::{ListKey, ListPage, Start, WorkflowFilter};
pub use workflows::{RevisionCtx, Upserted, WORKFLOW_FORMAT, WorkflowRecord};

/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "attune.redb";

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (usually a running server) holds the database.
    #[error("database is in use by another attune process ({})", .path.display())]
    InUse { path: PathBuf },
    #[error(
        "cannot create data directory {}: {cause}; choose another with --data-dir or ATTUNE__DATA_DIR",
        .path.display()
    )]
    CreateDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "cannot open database {}: {cause}; check the file's permissions, or restore it from a backup if it is damaged",
        .path.display()
    )]
    Open {
        path: PathBuf,
        cause: redb::DatabaseError,
    },
    #[error(
        "database schema version {found} is newer than this attune supports ({supported}); \
         run a newer attune or restore a backup"
    )]
    SchemaTooNew { found: u64, supported: u64 },
    /// The record already exists (message names it).
    #[error("{0}")]
    Conflict(String),
    /// The record does not exist (message names it).
    #[error("{0}")]
    NotFound(String),
    #[error("corrupt record in table '{table}': {message}")]
    Codec {
        table: &'static str,
        message: String,
    },
    /// A redb failure (its message is part of ours, so it is not also a
    /// `source`: `{:#}` would print it twice).
    #[error("database error: {0}")]
    Db(redb::Error),
    #[error("database task failed: {0}")]
    Task(String),
    /// A write failed because the disk (or quota) of the data directory is
    /// full; writes are refused until there is room again.
    #[error(
        "database write failed: no space left on device; free disk space in the data directory \
         (attune resumes writing by itself once there is room)"
    )]
    DiskFull,
    /// The database file failed an I/O operation (or could not be reopened
    /// after one); writes are refused until it reopens.
    #[error(
        "database unavailable: {0}; check the disk holding the data directory and the server log \
         (attune reopens the database by itself at the next request)"
    )]
    Unavailable(String),
}

impl StoreError {
    /// Sorts a redb error: I/O failures (a full disk above all) get their
    /// own variants, the rest is [`StoreError::Db`].
    pub(crate) fn from_redb(e: redb::Error) -> StoreError {
        match e {
            redb::Error::Io(e) if handle::is_disk_full(&e) => StoreError::DiskFull,
            redb::Error::Io(e) => StoreError::Unavailable(format!("i/o error: {e}")),
            redb::Error::PreviousIo => {
                StoreError::Unavailable("an earlier database write failed".into())
            }
            other => StoreError::Db(other),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::from_redb(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Handle to the database. Clone it freely.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.db.path())
            .finish()
    }
}

impl StoreError {
    /// The error for a failed open of the database file at `path`: another
    /// process holding it is [`StoreError::InUse`].
    pub(crate) fn opening(path: &Path, cause: redb::DatabaseError) -> StoreError {
        match cause {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
                path: path.to_path_buf(),
            },
            cause => StoreError::Open {
                path: path.to_path_buf(),
                cause,
            },
        }
    }
}

impl Store {
    /// Opens (or creates) `{data_dir}/attune.redb`, creating the directory,
    /// and runs the migrations. Fails with [`StoreError::InUse`] when another
    /// process holds the file.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(data_dir, Arc::new(FileStorage))
    }

    /// [`Store::open`] through `storage` (tests inject faults with it).
    pub fn open_with(data_dir: &Path, storage: Arc<dyn Storage>) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|cause| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            cause,
        })?;
        let path = data_dir.join(DB_FILE_NAME);
        let db = storage
            .open(&path)
            .map_err(|cause| StoreError::opening(&path, cause))?;
        migrate::run(&db)?;
        // Holding the database, no backup or restore can be running: their
        // temporary files are leftovers of a crash (and so is a probe file).
        backup::remove_leftovers(data_dir);
        let _ = std::fs::remove_file(data_dir.join(handle::SPACE_PROBE_NAME));
        Ok(Store {
            db: Db::new(db, path, data_dir.to_path_buf(), storage),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// The database handle, for the store's resource files: its
    /// `begin_read()` / `begin_write()` hand out redb transactions.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The database's write epoch: unchanged between two reads only if no
    /// write committed in between (see `Db::write_epoch`).
    pub fn write_epoch(&self) -> u64 {
        self.db.write_epoch()
    }

    /// Successful in-place reopens of the database since the store opened.
    pub fn reopens(&self) -> u64 {
        self.db.reopens()
    }

    /// Runs blocking store work on tokio's blocking pool.
    pub async fn call<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.clone();
        let scope = audit::AuditScope::current();
        tokio::task::spawn_blocking(move || audit::on_thread(scope, || f(&store)))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Checks that the database accepts writes (after a failed write, tries
    /// to reopen it first) and answers a read transaction.
    pub fn ping(&self) -> Result<(), StoreError> {
        use redb::ReadableTableMetadata;
        self.db.check()?;
        let txn = self.db.begin_read()?;
        let table = txn.open_table(tables::META)?;
        table.len()?;
        Ok(())
    }

    /// Current schema version recorded in the database.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        self.db.with_database(migrate::read_version)
    }
}

/// Takes the next id of the named counter inside a write transaction.
pub(crate) fn next_id(txn: &redb::WriteTransaction, counter: &str) -> Result<u64, StoreError> {
    use redb::ReadableTable;
    let mut table = txn.open_table(tables::COUNTERS)?;
    let next = table.get(counter)?.map(|v| v.value()).unwrap_or(0) + 1;
    table.insert(counter, next)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_creates_the_directory_and_records_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let store = Store::open(&data).unwrap();
        assert!(data.join(DB_FILE_NAME).is_file());
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store.ping().unwrap();
    }

    #[test]
    fn every_commit_moves_the_write_epoch_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let before = store.write_epoch();
        store.ping().unwrap();
        store.list_packs(1, 10).unwrap();
        assert_eq!(store.write_epoch(), before, "reads leave it");
        store.jwt_secret_or_insert(vec![1; 32]).unwrap();
        assert!(store.write_epoch() > before, "a commit moves it");
    }

    #[test]
    fn a_second_open_of_the_same_file_is_reported_as_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("database is in use by another attune process ("),
            "{err}"
        );
    }

    #[test]
    fn reopening_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.create_user("alice", "hash").unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.user_by_login("alice").unwrap().unwrap().login,
            "alice"
        );
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
