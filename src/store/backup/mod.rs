//! Backup and restore of the database file: consistent copies taken from one
//! read transaction, the checks a backup must pass before it replaces the
//! live database, and the atomic swap.
//!
//! A copy is made table by table from one redb read transaction (a snapshot:
//! writers keep committing while it runs) into a fresh redb file. Tables are
//! found with `list_tables`, not from a fixed list, so a table added to
//! [`super::tables`] is copied without a change here as long as its key and
//! value types are among the ones [`copy_table_of`] knows; a table of
//! another type makes the copy fail loudly (and the test that backs up a
//! store with every table fails first).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use redb::{
    Database, Key, MultimapTableDefinition, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
    Value, WriteTransaction,
};

use super::{DB_FILE_NAME, SCHEMA_VERSION, StoreError, codec, migrate, tables};

mod files;
mod restore;

pub use files::online_temp_path;
pub(crate) use files::remove_leftovers;
use files::{copy_file_synced, parent_dir, sync_dir, temp_path};
pub use restore::{Restored, restore};

/// File name of the previous database kept by a restore.
pub const BAK_FILE_NAME: &str = "attune.redb.bak";

/// Prefixes of the temporary files backup and restore make in the data dir.
const ONLINE_TEMP_PREFIX: &str = ".attune-online-backup";
const RESTORE_TEMP_PREFIX: &str = ".attune.redb.restore";

/// Errors of backup and restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no database at {}: nothing to back up; check --data-dir or data_dir", .path.display())]
    NoDatabase { path: PathBuf },
    #[error("{} already exists; choose another file or pass --force to overwrite it", .path.display())]
    Exists { path: PathBuf },
    #[error("{}: {action}: {source}", .path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{} is not a usable attune backup: {reason}", .path.display())]
    BadBackup { path: PathBuf, reason: String },
    #[error(
        "table '{table}' has key type {key} and value type {value}, which the backup cannot \
         copy; add the types to src/store/backup.rs"
    )]
    UnknownTableType {
        table: String,
        key: String,
        value: String,
    },
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

fn db_err(e: impl Into<redb::Error>) -> BackupError {
    BackupError::Store(StoreError::Db(e.into()))
}

/// What a backup holds: its schema version and the number of records of
/// each table (sorted by table name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub schema_version: u64,
    pub tables: Vec<(String, u64)>,
}

impl Summary {
    /// Number of records in `table` (0 when the table is absent).
    pub fn count(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(name, _)| name == table)
            .map_or(0, |(_, n)| *n)
    }

    /// `"2 users, 3 packs, 10 workflows"`: the records an operator cares about.
    pub fn describe(&self) -> String {
        ["users", "packs", "workflows", "runs"]
            .iter()
            .map(|t| format!("{} {t}", self.count(t)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl super::Store {
    /// Writes a consistent copy of the live database to `dest`, which must
    /// not exist yet. Runs while the server keeps serving: the copy is one
    /// read transaction, so concurrent writes are either wholly in it or not.
    pub fn backup_to(&self, dest: &Path) -> Result<Summary, BackupError> {
        let txn = self.db().begin_read()?;
        copy_snapshot(&txn, dest)
    }
}

/// `attune backup` while no server runs: copies `{data_dir}/attune.redb`
/// to `out` (through a temporary file beside it, renamed when complete).
/// Opens the database without creating or migrating it.
pub fn backup_offline(data_dir: &Path, out: &Path, force: bool) -> Result<Summary, BackupError> {
    let live = data_dir.join(DB_FILE_NAME);
    if !live.is_file() {
        return Err(BackupError::NoDatabase { path: live });
    }
    if !force && out.exists() {
        return Err(BackupError::Exists {
            path: out.to_path_buf(),
        });
    }
    let db = open_existing(&live)?;
    let dir = parent_dir(out);
    let tmp = temp_path(dir, ".attune-backup")?;
    let result = (|| {
        let txn = db.begin_read().map_err(db_err)?;
        let summary = copy_snapshot(&txn, &tmp)?;
        std::fs::rename(&tmp, out)
            .map_err(io(out, "cannot move the finished backup into place"))?;
        sync_dir(dir);
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Opens an existing database file (never creates one); a file held by
/// another process is [`StoreError::InUse`].
fn open_existing(path: &Path) -> Result<Database, BackupError> {
    crate::store::handle::database_builder()
        .open(path)
        .map_err(|cause| BackupError::Store(StoreError::opening(path, cause)))
}

/// Counts the records of every table of a snapshot.
fn summarize(txn: &ReadTransaction) -> Result<Summary, BackupError> {
    let mut tables = Vec::new();
    for handle in txn.list_tables().map_err(db_err)? {
        let name = handle.name().to_string();
        let n = txn
            .open_untyped_table(handle)
            .map_err(db_err)?
            .len()
            .map_err(db_err)?;
        tables.push((name, n));
    }
    for handle in txn.list_multimap_tables().map_err(db_err)? {
        let name = handle.name().to_string();
        let n = txn
            .open_untyped_multimap_table(handle)
            .map_err(db_err)?
            .len()
            .map_err(db_err)?;
        tables.push((name, n));
    }
    tables.sort();
    let schema_version = match txn.open_table(tables::META) {
        Ok(meta) => meta
            .get(tables::SCHEMA_VERSION_KEY)
            .map_err(db_err)?
            .map_or(0, |v| v.value()),
        Err(redb::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(db_err(e)),
    };
    Ok(Summary {
        schema_version,
        tables,
    })
}

/// Copies every table of the snapshot `src` into a new redb file at `dest`
/// (one write transaction), fsyncs it and returns what it holds.
fn copy_snapshot(src: &ReadTransaction, dest: &Path) -> Result<Summary, BackupError> {
    // Database::create would open an existing file as a database: refuse it.
    File::create_new(dest).map_err(io(dest, "cannot create the backup file"))?;
    let result = (|| {
        // attune's cache size: redb holds a transaction's dirty pages up to
        // half of it before spilling to the file, and its 1 GiB default let
        // an online backup of 10,000 workflows grow the server by ~300 MiB.
        let out = crate::store::handle::database_builder()
            .create(dest)
            .map_err(|cause| BackupError::Store(StoreError::opening(dest, cause)))?;
        let mut txn = out.begin_write().map_err(db_err)?;
        txn.set_durability(redb::Durability::Immediate)
            .map_err(db_err)?;
        for handle in src.list_tables().map_err(db_err)? {
            let name = handle.name().to_string();
            if name == tables::SECRETS.name() {
                // Backups are not credentials: the token signing secret
                // stays behind (the table is created empty).
                txn.open_table(tables::SECRETS).map_err(db_err)?;
                continue;
            }
            let (key, value) = stored_types(src, &name)?;
            copy_table_of(src, &txn, &name, &key, &value, false)?;
        }
        for handle in src.list_multimap_tables().map_err(db_err)? {
            let name = handle.name().to_string();
            let (key, value) = stored_multimap_types(src, &name)?;
            copy_table_of(src, &txn, &name, &key, &value, true)?;
        }
        txn.commit().map_err(db_err)?;
        let summary = summarize(&out.begin_read().map_err(db_err)?)?;
        drop(out);
        File::open(dest)
            .and_then(|f| f.sync_all())
            .map_err(io(dest, "cannot flush the backup file"))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

fn type_name<T: Value>() -> String {
    T::type_name().name().to_string()
}

/// The stored key and value type names of a table, learnt from the type
/// mismatch error of opening it with a probe type.
fn stored_types(txn: &ReadTransaction, name: &str) -> Result<(String, String), BackupError> {
    match txn.open_table(TableDefinition::<(), ()>::new(name)) {
        Ok(_) => Ok((type_name::<()>(), type_name::<()>())),
        Err(redb::TableError::TableTypeMismatch { key, value, .. }) => {
            Ok((key.name().to_string(), value.name().to_string()))
        }
        Err(e) => Err(db_err(e)),
    }
}

fn stored_multimap_types(
    txn: &ReadTransaction,
    name: &str,
) -> Result<(String, String), BackupError> {
    match txn.open_multimap_table(MultimapTableDefinition::<(), ()>::new(name)) {
        Ok(_) => Ok((type_name::<()>(), type_name::<()>())),
        Err(redb::TableError::TableTypeMismatch { key, value, .. }) => {
            Ok((key.name().to_string(), value.name().to_string()))
        }
        Err(e) => Err(db_err(e)),
    }
}

/// Dispatches on the stored key type; see [`copy_with_key`] for values.
fn copy_table_of(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    name: &str,
    key: &str,
    value: &str,
    multimap: bool,
) -> Result<u64, BackupError> {
    macro_rules! keys {
        ($($K:ty),*) => {$(
            if key == type_name::<$K>() {
                return copy_with_key::<$K>(src, dst, name, key, value, multimap);
            }
        )*};
    }
    keys!(
        u64,
        &str,
        &[u8],
        (&str, u64),
        (u64, u64),
        (&str, &str),
        u128,
        ()
    );
    Err(BackupError::UnknownTableType {
        table: name.to_string(),
        key: key.to_string(),
        value: value.to_string(),
    })
}

fn copy_with_key<K: Key + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    name: &str,
    key: &str,
    value: &str,
    multimap: bool,
) -> Result<u64, BackupError> {
    macro_rules! values {
        ($($V:ty),*) => {$(
            if value == type_name::<$V>() {
                return if multimap {
                    copy_multimap::<K, $V>(src, dst, name)
                } else {
                    copy_table::<K, $V>(src, dst, name)
                };
            }
        )*};
    }
    values!(&[u8], u64, &str, (), (&str, u64), u128);
    Err(BackupError::UnknownTableType {
        table: name.to_string(),
        key: key.to_string(),
        value: value.to_string(),
    })
}

fn copy_table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    name: &str,
) -> Result<u64, BackupError> {
    let def = TableDefinition::<K, V>::new(name);
    let from = src.open_table(def).map_err(db_err)?;
    let mut to = dst.open_table(def).map_err(db_err)?;
    let mut n = 0;
    for entry in from.iter().map_err(db_err)? {
        let (k, v) = entry.map_err(db_err)?;
        to.insert(k.value(), v.value()).map_err(db_err)?;
        n += 1;
    }
    Ok(n)
}

fn copy_multimap<K: Key + 'static, V: Key + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    name: &str,
) -> Result<u64, BackupError> {
    let def = MultimapTableDefinition::<K, V>::new(name);
    let from = src.open_multimap_table(def).map_err(db_err)?;
    let mut to = dst.open_multimap_table(def).map_err(db_err)?;
    let mut n = 0;
    for entry in from.iter().map_err(db_err)? {
        let (k, values) = entry.map_err(db_err)?;
        for v in values {
            let v = v.map_err(db_err)?;
            to.insert(k.value(), v.value()).map_err(db_err)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewPack, Store};

    fn sample_store(dir: &Path) -> Store {
        let store = Store::open(dir).unwrap();
        store.create_user("alice", "hash-a").unwrap();
        store.create_user("bob", "hash-b").unwrap();
        store
            .create_pack(NewPack {
                pack_ref: "demo".into(),
                label: "Demo".into(),
                description: None,
                version: "1.0.0".into(),
                conf_schema: serde_json::json!({}),
                config: serde_json::json!({}),
                meta: serde_json::json!({}),
                tags: vec!["t".into()],
                runtime_deps: vec![],
                is_standard: false,
            })
            .unwrap();
        store.jwt_secret_or_insert(vec![7; 32]).unwrap();
        store
    }

    /// A workflow's large parts live in their own tables (schema 5): a
    /// backup carries them, and the restored copy reads the workflow whole.
    #[test]
    fn a_backup_holds_each_workflows_definition_and_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(&dir.path().join("data"));
        let json = |v: serde_json::Value| codec::JsonText::from_value(&v).unwrap();
        let rec = super::super::WorkflowRecord {
            id: 0,
            r#ref: "demo.w".into(),
            pack_ref: "demo".into(),
            name: "w".into(),
            label: "W".into(),
            description: None,
            version: "1.0.0".into(),
            param_schema: codec::JsonText::null(),
            out_schema: codec::JsonText::null(),
            tags: vec![],
            task_count: 1,
            enabled: true,
            stale: false,
            source_file: "demo/workflows/w.yaml".into(),
            action_file: None,
            content_hash: "h".into(),
            deps: vec![],
            dep_packs: vec![],
            deps_fingerprint: String::new(),
            warnings: vec![],
            diagnostics: json(serde_json::json!([])),
            created: time::OffsetDateTime::UNIX_EPOCH,
            updated: time::OffsetDateTime::UNIX_EPOCH,
            definition: json(serde_json::json!({"tasks": [{"name": "a"}]})),
            source: "label: W\n".into(),
        };
        let (written, _) = store
            .create_workflow(rec, &super::super::RevisionCtx::default())
            .unwrap();
        let out = dir.path().join("copy.redb");
        let summary = store.backup_to(&out).unwrap();
        for table in ["workflows", "workflow_definitions", "workflow_sources"] {
            assert_eq!(summary.count(table), 1, "{table}");
        }
        drop(store);
        let copy_dir = dir.path().join("restored");
        std::fs::create_dir(&copy_dir).unwrap();
        std::fs::copy(&out, copy_dir.join(DB_FILE_NAME)).unwrap();
        let copy = Store::open(&copy_dir).unwrap();
        assert_eq!(copy.get_workflow("demo.w").unwrap().unwrap(), written);
    }

    #[test]
    fn a_backup_copies_every_table_of_the_schema_with_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(&dir.path().join("data"));
        let out = dir.path().join("copy.redb");
        let summary = store.backup_to(&out).unwrap();
        // every table the schema creates is in the copy: a table of a type
        // the copier does not know would have failed the backup
        let live = summarize(&store.db().begin_read().unwrap()).unwrap();
        assert_eq!(live.count("secrets"), 1);
        assert_eq!(
            summary.count("secrets"),
            0,
            "the signing secret stays behind"
        );
        let without_secrets = |s: &Summary| -> Vec<(String, u64)> {
            s.tables
                .iter()
                .filter(|(name, _)| name != "secrets")
                .cloned()
                .collect()
        };
        assert_eq!(without_secrets(&summary), without_secrets(&live));
        assert_eq!(summary.count("users"), 2);
        assert_eq!(summary.count("packs"), 1);
        assert_eq!(summary.schema_version, SCHEMA_VERSION);
        drop(store);

        let copy_dir = dir.path().join("restored");
        std::fs::create_dir(&copy_dir).unwrap();
        std::fs::copy(&out, copy_dir.join(DB_FILE_NAME)).unwrap();
        let copy = Store::open(&copy_dir).unwrap();
        assert_eq!(
            copy.user_by_login("bob").unwrap().unwrap().password_hash,
            "hash-b"
        );
        // the copy gets a new secret of its own
        assert_eq!(copy.jwt_secret_or_insert(vec![0; 32]).unwrap(), vec![0; 32]);
    }

    #[test]
    fn tables_of_every_supported_shape_are_copied_entry_for_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(&dir.path().join("data"));
        const INDEX: TableDefinition<(&str, u64), ()> = TableDefinition::new("t_index");
        const PAIRS: TableDefinition<(u64, u64), &str> = TableDefinition::new("t_pairs");
        const MULTI: MultimapTableDefinition<&str, u64> = MultimapTableDefinition::new("t_multi");
        {
            let txn = store.db().begin_write().unwrap();
            {
                let mut index = txn.open_table(INDEX).unwrap();
                index.insert(("pack.a", 3), ()).unwrap();
                index.insert(("pack.a", 1), ()).unwrap();
                index.insert(("pack.b", 2), ()).unwrap();
                txn.open_table(PAIRS)
                    .unwrap()
                    .insert((1, 2), "one-two")
                    .unwrap();
                let mut multi = txn.open_multimap_table(MULTI).unwrap();
                multi.insert("k", 1).unwrap();
                multi.insert("k", 2).unwrap();
                multi.insert("j", 9).unwrap();
            }
            txn.commit().unwrap();
        }
        let out = dir.path().join("copy.redb");
        let summary = store.backup_to(&out).unwrap();
        assert_eq!(summary.count("t_index"), 3);
        assert_eq!(summary.count("t_pairs"), 1);
        assert_eq!(summary.count("t_multi"), 3);

        let copy = Database::open(&out).unwrap();
        let txn = copy.begin_read().unwrap();
        let keys: Vec<(String, u64)> = txn
            .open_table(INDEX)
            .unwrap()
            .iter()
            .unwrap()
            .map(|e| {
                let (k, _) = e.unwrap();
                let (r, n) = k.value();
                (r.to_string(), n)
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("pack.a".into(), 1),
                ("pack.a".into(), 3),
                ("pack.b".into(), 2)
            ]
        );
        assert_eq!(
            txn.open_table(PAIRS)
                .unwrap()
                .get((1, 2))
                .unwrap()
                .unwrap()
                .value(),
            "one-two"
        );
        let values: Vec<u64> = txn
            .open_multimap_table(MULTI)
            .unwrap()
            .get("k")
            .unwrap()
            .map(|v| v.unwrap().value())
            .collect();
        assert_eq!(values, [1, 2]);
    }

    #[test]
    fn a_table_of_an_unknown_shape_fails_the_backup_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(&dir.path().join("data"));
        {
            let txn = store.db().begin_write().unwrap();
            txn.open_table(TableDefinition::<i8, bool>::new("odd"))
                .unwrap()
                .insert(1, true)
                .unwrap();
            txn.commit().unwrap();
        }
        let out = dir.path().join("copy.redb");
        let err = store.backup_to(&out).unwrap_err();
        assert!(
            matches!(&err, BackupError::UnknownTableType { table, .. } if table == "odd"),
            "{err}"
        );
        assert!(!out.exists(), "no partial backup is left");
    }

    #[test]
    fn opening_the_store_removes_what_a_crashed_backup_or_restore_left() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(sample_store(&data));
        let online = online_temp_path(&data).unwrap();
        let restore = temp_path(&data, RESTORE_TEMP_PREFIX).unwrap();
        std::fs::write(&online, b"half a copy").unwrap();
        std::fs::write(&restore, b"half a copy").unwrap();
        std::fs::write(data.join(".attune-online-backupish"), b"not ours").unwrap();
        std::fs::write(data.join("notes.txt"), b"not ours").unwrap();
        drop(Store::open(&data).unwrap());
        assert!(!online.exists() && !restore.exists());
        assert!(data.join(".attune-online-backupish").exists());
        assert!(data.join("notes.txt").exists());
    }

    #[test]
    fn a_backup_never_overwrites_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(&dir.path().join("data"));
        let out = dir.path().join("taken");
        std::fs::write(&out, b"precious").unwrap();
        let err = store.backup_to(&out).unwrap_err();
        assert!(matches!(err, BackupError::Io { .. }), "{err}");
        assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    }

    #[test]
    fn an_offline_backup_refuses_a_database_held_by_another_handle() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = sample_store(&data);
        let err = backup_offline(&data, &dir.path().join("b.redb"), false).unwrap_err();
        assert!(
            matches!(err, BackupError::Store(StoreError::InUse { .. })),
            "{err}"
        );
        drop(store);
        let summary = backup_offline(&data, &dir.path().join("b.redb"), false).unwrap();
        assert_eq!(summary.count("users"), 2);
        let err = backup_offline(&data, &dir.path().join("b.redb"), false).unwrap_err();
        assert!(matches!(err, BackupError::Exists { .. }), "{err}");
        backup_offline(&data, &dir.path().join("b.redb"), true).unwrap();
        let err =
            backup_offline(&dir.path().join("none"), &dir.path().join("c"), false).unwrap_err();
        assert!(matches!(err, BackupError::NoDatabase { .. }), "{err}");
    }

    #[test]
    fn restore_replaces_the_database_and_keeps_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let backup = dir.path().join("b.redb");
        {
            let store = sample_store(&data);
            store.backup_to(&backup).unwrap();
            store.create_user("carol", "hash-c").unwrap();
        }
        {
            use std::os::unix::fs::PermissionsExt;
            let live = data.join(DB_FILE_NAME);
            std::fs::set_permissions(&live, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let restored = restore(&data, &backup).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(DB_FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the restored file keeps the mode");
        }
        assert_eq!(restored.summary.count("users"), 2);
        assert_eq!(restored.previous, Some(data.join(BAK_FILE_NAME)));
        let store = Store::open(&data).unwrap();
        assert!(store.user_by_login("carol").unwrap().is_none());
        drop(store);
        // the kept copy is the database as it was, carol included
        let bak_dir = dir.path().join("bak");
        std::fs::create_dir(&bak_dir).unwrap();
        std::fs::copy(data.join(BAK_FILE_NAME), bak_dir.join(DB_FILE_NAME)).unwrap();
        assert!(
            Store::open(&bak_dir)
                .unwrap()
                .user_by_login("carol")
                .unwrap()
                .is_some()
        );
        // no temporary file is left behind
        let names: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[test]
    fn restore_into_an_empty_data_dir_needs_no_previous_database() {
        let dir = tempfile::tempdir().unwrap();
        let backup = dir.path().join("b.redb");
        sample_store(&dir.path().join("a"))
            .backup_to(&backup)
            .unwrap();
        let restored = restore(&dir.path().join("fresh"), &backup).unwrap();
        assert_eq!(restored.previous, None);
        assert_eq!(restored.summary.count("packs"), 1);
    }

    #[test]
    fn restore_refuses_files_that_are_not_attune_backups_and_keeps_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(sample_store(&data));

        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"this is not a database").unwrap();
        let foreign = dir.path().join("foreign.redb");
        {
            let db = Database::create(&foreign).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(TableDefinition::<u64, u64>::new("other"))
                .unwrap()
                .insert(1, 2)
                .unwrap();
            txn.commit().unwrap();
        }
        let newer = dir.path().join("newer.redb");
        let corrupt = dir.path().join("corrupt.redb");
        {
            let store = Store::open(&dir.path().join("n")).unwrap();
            store.create_user("x", "h").unwrap();
            store.backup_to(&newer).unwrap();
            store.backup_to(&corrupt).unwrap();
        }
        {
            let db = Database::create(&newer).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(tables::META)
                .unwrap()
                .insert(tables::SCHEMA_VERSION_KEY, SCHEMA_VERSION + 1)
                .unwrap();
            txn.commit().unwrap();
            let db = Database::create(&corrupt).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(tables::USERS)
                .unwrap()
                .insert(99, [200u8, 1, 2].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        for (file, expected) in [
            (&junk, "cannot open it as a redb database"),
            (&foreign, "no schema version record"),
            (&newer, "is newer than this attune supports"),
            (&corrupt, "a record in table 'users' is unreadable"),
            (&dir.path().join("missing"), "cannot read the backup file"),
            (&dir.path().to_path_buf(), "not a regular file"),
        ] {
            let err = restore(&data, file).unwrap_err().to_string();
            assert!(err.contains(expected), "{}: {err}", file.display());
        }
        assert!(!data.join(BAK_FILE_NAME).exists());
        let names: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
        assert_eq!(names.len(), 1, "only attune.redb is left: {names:?}");
        let store = Store::open(&data).unwrap();
        assert_eq!(store.user_count().unwrap(), 2, "the database is untouched");
        assert!(store.get_pack("demo").unwrap().is_some());
    }

    #[test]
    fn restore_refuses_while_the_database_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let backup = dir.path().join("b.redb");
        let store = sample_store(&data);
        store.backup_to(&backup).unwrap();
        let err = restore(&data, &backup).unwrap_err();
        assert!(
            matches!(err, BackupError::Store(StoreError::InUse { .. })),
            "{err}"
        );
    }
}
