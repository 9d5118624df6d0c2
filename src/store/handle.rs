//! The reopenable database handle: [`Db`] holds the current redb
//! `Database` and replaces it in place after an I/O failure.
//!
//! redb latches an I/O error (typically a full disk): every later write
//! transaction fails with "previous I/O error" until the database is closed
//! and opened again, which repairs the file. `Db` notices the failure (a
//! failed commit or a refused `begin_write`), refuses writes with a clear error while it
//! lasts, and reopens the file at the next write or health check once a
//! probe file shows there is room again (a reopen on a still-full disk could
//! fail and leave no database at all, so reads keep working on the old one
//! until then). A reopen makes new transactions wait, waits (bounded) for
//! those in flight to end, closes the old `Database` (redb locks the file:
//! the old handle must be gone before the new open) and opens the file
//! again, which runs redb's repair.
//!
//! Transactions are handed out as [`ReadTxn`] and [`WriteTxn`], which
//! dereference to redb's transactions and count as "in flight" until
//! dropped.

use std::cell::Cell;
use std::io::{self, Write};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redb::{Database, ReadableDatabase, StorageError, TransactionError};

use super::StoreError;

/// How long a reopen waits for the transactions in flight to end before it
/// gives up (it is tried again at the next write or health check).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Free space a reopen requires in the data directory: a probe file of this
/// size is written, synced and removed first.
pub const ROOM_BYTES: usize = 1024 * 1024;

/// Name of the probe file in the data directory.
pub const SPACE_PROBE_NAME: &str = ".attune-space-check";

/// redb's page cache (reads and the write buffer of a transaction, which
/// spills to the file beyond half of it). redb's default is 1 GiB, which let
/// the resident memory of a 10,000-workflow sync grow past 3 GiB; the
/// operating system's page cache serves re-reads anyway (docs/PERFORMANCE.md).
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// A redb builder with attune's settings (the cache size).
pub fn database_builder() -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

/// How the store opens its database file and checks for room before a
/// reopen. [`FileStorage`] in the appliance; tests pass one that injects
/// faults under redb's file backend.
pub trait Storage: Send + Sync + 'static {
    /// Opens (or creates) the database file at `path`.
    fn open(&self, path: &Path) -> Result<Database, redb::DatabaseError>;
    /// Fails when `dir` has no room for a reopen.
    fn check_room(&self, dir: &Path) -> io::Result<()>;
}

/// redb's file backend with attune's settings; room is checked with a
/// probe file of [`ROOM_BYTES`].
#[derive(Debug, Default, Clone, Copy)]
pub struct FileStorage;

impl Storage for FileStorage {
    fn open(&self, path: &Path) -> Result<Database, redb::DatabaseError> {
        database_builder().create(path)
    }

    fn check_room(&self, dir: &Path) -> io::Result<()> {
        probe_room(dir)
    }
}

/// Writes, syncs and removes a probe file of [`ROOM_BYTES`] in `dir`.
pub fn probe_room(dir: &Path) -> io::Result<()> {
    let probe = dir.join(SPACE_PROBE_NAME);
    let result = (|| {
        let mut file = std::fs::File::create(&probe)?;
        file.write_all(&vec![0u8; ROOM_BYTES])?;
        file.sync_all()
    })();
    let _ = std::fs::remove_file(&probe);
    result
}

/// Whether an I/O error means the disk (or the quota) is full.
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// Why writes are refused.
#[derive(Debug, Clone)]
enum Failure {
    DiskFull,
    Io(String),
}

impl Failure {
    fn of_io(e: &io::Error) -> Failure {
        if is_disk_full(e) {
            Failure::DiskFull
        } else {
            Failure::Io(format!("i/o error: {e}"))
        }
    }

    fn of_storage(e: &StorageError) -> Option<Failure> {
        match e {
            StorageError::Io(e) => Some(Failure::of_io(e)),
            StorageError::PreviousIo => {
                Some(Failure::Io("an earlier database write failed".into()))
            }
            _ => None,
        }
    }

    fn of_transaction(e: &TransactionError) -> Option<Failure> {
        match e {
            TransactionError::Storage(e) => Failure::of_storage(e),
            _ => None,
        }
    }

    fn of_commit(e: &redb::CommitError) -> Option<Failure> {
        match e {
            redb::CommitError::Storage(e) => Failure::of_storage(e),
            _ => None,
        }
    }

    fn error(&self) -> StoreError {
        match self {
            Failure::DiskFull => StoreError::DiskFull,
            Failure::Io(cause) => StoreError::Unavailable(cause.clone()),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::DiskFull => f.write_str("no space left on device"),
            Failure::Io(cause) => f.write_str(cause),
        }
    }
}

struct State {
    /// The open database; `None` after a reopen whose open failed.
    db: Option<Arc<Database>>,
    /// Transactions in flight (live [`Token`]s).
    active: usize,
    /// A reopen is under way: new transactions wait.
    reopening: bool,
    /// Set while writes are refused.
    failure: Option<Failure>,
    /// Successful reopens so far.
    reopens: u64,
}

impl State {
    fn healthy(&self) -> bool {
        self.failure.is_none() && self.db.is_some()
    }

    fn error(&self) -> StoreError {
        match &self.failure {
            Some(f) => f.error(),
            None => StoreError::Unavailable("the database file is closed".into()),
        }
    }
}

struct Shared {
    path: PathBuf,
    dir: PathBuf,
    storage: Arc<dyn Storage>,
    state: Mutex<State>,
    changed: Condvar,
    /// Bumped after every commit (whatever its outcome) and every reopen:
    /// a value read before a read transaction still equals the current
    /// one only if nothing was written since ([`Db::write_epoch`]).
    epoch: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark_failed(&self, failure: Failure) {
        let mut st = self.lock();
        match &st.failure {
            None => {
                tracing::warn!(
                    path = %self.path.display(),
                    cause = %failure,
                    "database write failed; writes are refused until the database file is \
                     reopened (at the next write or health check, once the data directory has room)"
                );
                st.failure = Some(failure);
            }
            // A full disk is the more useful cause to report.
            Some(Failure::Io(_)) if matches!(failure, Failure::DiskFull) => {
                st.failure = Some(failure)
            }
            Some(_) => {}
        }
    }
}

thread_local! {
    /// Transactions the current thread holds. A thread holding one neither
    /// waits for a reopen nor starts one: the reopen would wait for it.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

fn held_here() -> bool {
    HELD.with(|h| h.get() > 0)
}

/// One transaction in flight; dropping it lets a pending reopen proceed.
struct Token {
    shared: Arc<Shared>,
}

impl Token {
    /// Call with `active` already counted.
    fn new(shared: Arc<Shared>) -> Token {
        HELD.with(|h| h.set(h.get() + 1));
        Token { shared }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
        let mut st = self.shared.lock();
        st.active = st.active.saturating_sub(1);
        if st.active == 0 {
            self.shared.changed.notify_all();
        }
    }
}

/// Ends a reopen (whatever its outcome, panics included) and wakes waiters.
struct ReopenFlag<'a>(&'a Shared);

impl Drop for ReopenFlag<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.reopening = false;
        self.0.changed.notify_all();
    }
}

/// A read transaction of the store (redb's, counted as in flight).
pub struct ReadTxn {
    txn: redb::ReadTransaction,
    _token: Token,
}

impl Deref for ReadTxn {
    type Target = redb::ReadTransaction;
    fn deref(&self) -> &redb::ReadTransaction {
        &self.txn
    }
}

/// A write transaction of the store (redb's, counted as in flight); a
/// commit that fails with an I/O error puts the store in the failed state.
pub struct WriteTxn {
    txn: redb::WriteTransaction,
    token: Token,
}

impl WriteTxn {
    /// Commits; an I/O failure marks the store failed (writes are refused
    /// until the file is reopened).
    pub fn commit(self) -> Result<(), redb::CommitError> {
        let WriteTxn { txn, token } = self;
        let audited = super::audit::record_in(&txn);
        let result = txn.commit();
        token.shared.epoch.fetch_add(1, Ordering::AcqRel);
        if result.is_err() {
            super::audit::commit_failed(audited);
        }
        if let Err(e) = &result
            && let Some(failure) = Failure::of_commit(e)
        {
            token.shared.mark_failed(failure);
        }
        drop(token);
        result
    }
}

impl Deref for WriteTxn {
    type Target = redb::WriteTransaction;
    fn deref(&self) -> &redb::WriteTransaction {
        &self.txn
    }
}

impl DerefMut for WriteTxn {
    fn deref_mut(&mut self) -> &mut redb::WriteTransaction {
        &mut self.txn
    }
}

/// The database of a store, reopenable in place. Clones share it.
#[derive(Clone)]
pub(crate) struct Db {
    shared: Arc<Shared>,
}

impl Db {
    /// Wraps an open (and migrated) `database` at `path` in `dir`.
    pub(crate) fn new(
        database: Database,
        path: PathBuf,
        dir: PathBuf,
        storage: Arc<dyn Storage>,
    ) -> Db {
        Db {
            shared: Arc::new(Shared {
                path,
                dir,
                storage,
                state: Mutex::new(State {
                    db: Some(Arc::new(database)),
                    active: 0,
                    reopening: false,
                    failure: None,
                    reopens: 0,
                }),
                changed: Condvar::new(),
                epoch: AtomicU64::new(0),
            }),
        }
    }

    /// The write epoch: read it before reading, and what was read is still
    /// the database's content as long as the epoch has not moved. Caches
    /// of store data (the authentication cache) key on it.
    pub(crate) fn write_epoch(&self) -> u64 {
        self.shared.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Successful reopens since the store was opened.
    pub(crate) fn reopens(&self) -> u64 {
        self.shared.lock().reopens
    }

    /// Begins a read transaction. Reads keep working while writes are
    /// refused; only after a reopen whose open failed is there nothing to
    /// read (each read then tries the reopen again).
    pub fn begin_read(&self) -> Result<ReadTxn, StoreError> {
        if self.shared.lock().db.is_none() {
            self.recover()?;
        }
        let (db, token) = self.enter()?;
        let txn = db.begin_read()?;
        Ok(ReadTxn { txn, _token: token })
    }

    /// Begins a write transaction; in the failed state, reopens the file
    /// first (or answers why it cannot yet).
    pub fn begin_write(&self) -> Result<WriteTxn, StoreError> {
        if !self.shared.lock().healthy() {
            self.recover()?;
        }
        {
            let (db, token) = self.enter()?;
            match db.begin_write() {
                Ok(txn) => return Ok(WriteTxn { txn, token }),
                Err(e) => {
                    drop(token);
                    let Some(failure) = Failure::of_transaction(&e) else {
                        return Err(e.into());
                    };
                    self.shared.mark_failed(failure);
                }
            }
        }
        // redb refused because of an I/O failure nobody had noticed yet:
        // reopen and try once more.
        self.recover()?;
        let (db, token) = self.enter()?;
        match db.begin_write() {
            Ok(txn) => Ok(WriteTxn { txn, token }),
            Err(e) => {
                drop(token);
                if let Some(failure) = Failure::of_transaction(&e) {
                    self.shared.mark_failed(failure);
                }
                Err(e.into())
            }
        }
    }

    /// Runs `f` on the current database (a transaction's worth of time).
    pub(crate) fn with_database<R>(
        &self,
        f: impl FnOnce(&Database) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let (db, _token) = self.enter()?;
        f(&db)
    }

    /// The health check: fails while writes are refused (after trying a
    /// reopen). Only the failed state is consulted — no write transaction
    /// is probed, so `/health` stays as cheap as a read under load; a
    /// failure shows here once a write has met it.
    pub fn check(&self) -> Result<(), StoreError> {
        if !self.shared.lock().healthy() {
            return self.recover();
        }
        Ok(())
    }

    /// Counts a transaction in: waits while a reopen is under way (unless
    /// this thread already holds one) and hands out the current database.
    fn enter(&self) -> Result<(Arc<Database>, Token), StoreError> {
        let held = held_here();
        let mut st = self.shared.lock();
        if !held {
            st = self
                .shared
                .changed
                .wait_while(st, |s| s.reopening)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let Some(db) = st.db.clone() else {
            return Err(st.error());
        };
        st.active += 1;
        drop(st);
        Ok((db, Token::new(self.shared.clone())))
    }

    /// Leaves the failed state by reopening the file, unless there is no
    /// room yet (checked before anything waits), another thread is doing
    /// it (then waits for its outcome) or this thread holds a transaction
    /// (then answers the failure).
    fn recover(&self) -> Result<(), StoreError> {
        let shared = &*self.shared;
        {
            let st = shared.lock();
            if st.healthy() {
                return Ok(());
            }
            if held_here() {
                return Err(st.error());
            }
        }
        if let Err(e) = shared.storage.check_room(&shared.dir) {
            let failure = Failure::of_io(&e);
            tracing::debug!(dir = %shared.dir.display(), cause = %e, "no room to reopen the database yet");
            let mut st = shared.lock();
            if st.failure.is_none() || matches!(failure, Failure::DiskFull) {
                st.failure = Some(failure);
            }
            return Err(st.error());
        }
        let mut st = shared.lock();
        if st.reopening {
            st = shared
                .changed
                .wait_while(st, |s| s.reopening)
                .unwrap_or_else(PoisonError::into_inner);
            return if st.healthy() {
                Ok(())
            } else {
                Err(st.error())
            };
        }
        if st.healthy() {
            return Ok(());
        }
        st.reopening = true;
        drop(st);
        let _flag = ReopenFlag(shared);
        self.reopen()
    }

    /// The reopen itself; the caller has set `reopening`.
    fn reopen(&self) -> Result<(), StoreError> {
        let shared = &*self.shared;
        let st = shared.lock();
        let (mut st, waited) = shared
            .changed
            .wait_timeout_while(st, DRAIN_TIMEOUT, |s| s.active > 0)
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() {
            tracing::warn!(
                path = %shared.path.display(),
                in_flight = st.active,
                "database reopen postponed: transactions still running after {}s",
                DRAIN_TIMEOUT.as_secs()
            );
            return Err(st.error());
        }
        let cause = st.failure.as_ref().map_or_else(
            || "the database file was closed".to_string(),
            |f| f.to_string(),
        );
        let old = st.db.take();
        drop(st);
        if let Some(old) = old {
            match Arc::try_unwrap(old) {
                // A failed close is expected here (the latched I/O error):
                // the file is left for the open to repair.
                Ok(db) => {
                    if let Err(e) = db.close() {
                        tracing::debug!(cause = %e, "closing the failed database");
                    }
                }
                Err(still_shared) => drop(still_shared),
            }
        }
        let opened = shared.storage.open(&shared.path);
        let mut st = shared.lock();
        match opened {
            Ok(db) => {
                st.db = Some(Arc::new(db));
                st.failure = None;
                st.reopens += 1;
                shared.epoch.fetch_add(1, Ordering::AcqRel);
                tracing::warn!(
                    path = %shared.path.display(),
                    %cause,
                    "database reopened in place after a failed write; writes work again"
                );
                Ok(())
            }
            Err(e) => {
                let e = StoreError::opening(&shared.path, e);
                tracing::error!(
                    path = %shared.path.display(),
                    cause = %e,
                    "cannot reopen the database; reads and writes fail until it opens \
                     (tried again at each request)"
                );
                st.failure = Some(Failure::Io(e.to_string()));
                Err(st.error())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The reopen's drain on a real file: the failed state is set by hand
    //! (the tests in `tests/api/disk_full.rs` fill a disk for real).

    use super::*;
    use crate::store::Store;

    fn failed_store(dir: &Path) -> Store {
        let store = Store::open(dir).unwrap();
        store.create_user("alice", "hash-a").unwrap();
        store
            .db()
            .shared
            .mark_failed(Failure::Io("injected by the test".into()));
        store
    }

    #[test]
    fn a_reopen_waits_for_the_transactions_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let store = failed_store(dir.path());
        let read = store.db().begin_read().unwrap();

        let writer_store = store.clone();
        let writer = std::thread::spawn(move || writer_store.create_user("bob", "hash-b"));
        // Wait (without a timer) until the writer's reopen is pending.
        while !store.db().shared.lock().reopening && !writer.is_finished() {
            std::thread::yield_now();
        }
        assert!(
            !writer.is_finished(),
            "the reopen did not wait for the read"
        );
        // The thread holding a transaction still reads (it does not wait
        // for a reopen that waits for it).
        assert!(store.user_by_login("alice").unwrap().is_some());
        assert_eq!(store.reopens(), 0);

        drop(read);
        writer.join().unwrap().unwrap();
        assert_eq!(store.reopens(), 1);
        assert!(store.user_by_login("bob").unwrap().is_some());
        store.ping().unwrap();
    }

    #[test]
    fn a_thread_holding_a_transaction_gets_the_failure_instead_of_waiting_for_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = failed_store(dir.path());
        let read = store.db().begin_read().unwrap();
        let err = store.create_user("bob", "hash-b").unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "database unavailable: injected by the test; check the disk holding the data \
             directory and the server log (attune reopens the database by itself at the next \
             request)"
        );
        assert_eq!(store.reopens(), 0);
        drop(read);
        store.create_user("bob", "hash-b").unwrap();
        assert_eq!(store.reopens(), 1);
    }

    #[test]
    fn the_room_probe_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        probe_room(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let missing = dir.path().join("missing");
        assert!(probe_room(&missing).is_err());
    }

    #[test]
    fn full_disk_errors_are_told_apart() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(28)));
        assert!(!is_disk_full(&io::Error::from_raw_os_error(5)));
        let full = StoreError::from_redb(redb::Error::Io(io::Error::from_raw_os_error(28)));
        assert!(matches!(full, StoreError::DiskFull), "{full:?}");
        let other = StoreError::from_redb(redb::Error::Io(io::Error::from_raw_os_error(5)));
        assert!(matches!(other, StoreError::Unavailable(_)), "{other:?}");
    }
}
