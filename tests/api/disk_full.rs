//! A full disk under the database, without root: the store opens its file
//! through redb's real file backend wrapped in one whose writes fail with
//! "no space left on device" while the test says the disk is full (and whose
//! room check then fails too). Shown: the failing write answers a clear
//! error (500 with code INSUFFICIENT_STORAGE over HTTP), reads keep working, health reports the database
//! failed, and once there is room again the store reopens the file in place
//! (redb repairs it) without a restart, with the earlier data intact. The
//! real thing on a tmpfs is `scripts/disk-full.sh`.

use std::fs::OpenOptions;
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use attune::store::handle::{database_builder, probe_room};
use attune::store::{NewPack, Storage, Store, StoreError};
use redb::backends::FileBackend;
use redb::{BackendError, Database, DatabaseError, StorageBackend};

use crate::helpers::good_workflow;
use crate::helpers::spawn_app_with;

/// The test's disk: full or not.
#[derive(Debug, Default)]
struct Disk {
    full: AtomicBool,
    /// Reads fail as well (a dying disk), for the catalog test.
    unreadable: AtomicBool,
}

impl Disk {
    fn fill(&self) {
        self.full.store(true, Ordering::SeqCst);
    }

    fn free(&self) {
        self.full.store(false, Ordering::SeqCst);
    }

    fn check(&self) -> io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (test disk)",
            ))
        } else {
            Ok(())
        }
    }
}

/// redb's file backend whose writes fail while the disk is full (growing
/// the file still works, as on a tmpfs, where only writing pages fails).
#[derive(Debug)]
struct FullableBackend {
    inner: FileBackend,
    disk: Arc<Disk>,
}

impl StorageBackend for FullableBackend {
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        if self.disk.unreadable.load(Ordering::SeqCst) {
            return Err(io::Error::other("read error (test disk)"));
        }
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.disk.check()?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> io::Result<()> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

/// Opens the database file through [`FullableBackend`]; `uncached`: with
/// no page cache, so every read reaches the backend.
struct FullableStorage {
    disk: Arc<Disk>,
    uncached: bool,
}

impl Storage for FullableStorage {
    fn open(&self, path: &Path) -> Result<Database, DatabaseError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut builder = database_builder();
        if self.uncached {
            builder.set_cache_size(0);
        }
        builder.create_with_backend(FullableBackend {
            inner: FileBackend::new(file)?,
            disk: self.disk.clone(),
        })
    }

    fn check_room(&self, dir: &Path) -> io::Result<()> {
        self.disk.check()?;
        probe_room(dir)
    }
}

fn open_store(dir: &Path, disk: &Arc<Disk>) -> Store {
    Store::open_with(
        dir,
        Arc::new(FullableStorage {
            disk: disk.clone(),
            uncached: false,
        }),
    )
    .expect("open store")
}

fn open_uncached_store(dir: &Path, disk: &Arc<Disk>) -> Store {
    Store::open_with(
        dir,
        Arc::new(FullableStorage {
            disk: disk.clone(),
            uncached: true,
        }),
    )
    .expect("open store")
}

fn pack(r: &str) -> NewPack {
    NewPack {
        pack_ref: r.into(),
        label: r.into(),
        description: None,
        version: "1.0.0".into(),
        conf_schema: serde_json::json!({}),
        config: serde_json::json!({}),
        meta: serde_json::json!({}),
        tags: Vec::new(),
        runtime_deps: Vec::new(),
        is_standard: false,
    }
}

const DISK_FULL_MESSAGE: &str = "database write failed: no space left on device; free disk space in the data directory (attune resumes writing by itself once there is room)";

#[test]
fn the_store_refuses_writes_while_the_disk_is_full_and_reopens_in_place_once_there_is_room() {
    let dir = tempfile::tempdir().expect("dir");
    let disk = Arc::new(Disk::default());
    let store = open_store(dir.path(), &disk);
    store.create_user("alice", "hash-a").expect("alice");
    store.create_pack(pack("first")).expect("first pack");

    disk.fill();
    let err = store.create_user("bob", "hash-b").unwrap_err();
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert_eq!(err.to_string(), DISK_FULL_MESSAGE);
    // Reads keep working; the health check and later writes say why they
    // fail, and nothing is reopened while the disk is still full.
    assert_eq!(
        store.user_by_login("alice").unwrap().unwrap().login,
        "alice"
    );
    assert!(store.get_pack("first").unwrap().is_some());
    assert!(matches!(store.ping(), Err(StoreError::DiskFull)));
    let err = store.create_pack(pack("second")).unwrap_err();
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert_eq!(store.reopens(), 0);
    assert!(store.user_by_login("alice").unwrap().is_some());

    disk.free();
    // The next write reopens the file (redb repairs it) and succeeds.
    store
        .create_user("carol", "hash-c")
        .expect("write after the disk has room");
    assert_eq!(store.reopens(), 1);
    store.ping().expect("healthy again");
    assert!(store.user_by_login("alice").unwrap().is_some());
    assert!(store.user_by_login("bob").unwrap().is_none());
    assert!(store.user_by_login("carol").unwrap().is_some());
    assert!(store.get_pack("first").unwrap().is_some());
    assert!(
        !dir.path()
            .join(attune::store::handle::SPACE_PROBE_NAME)
            .exists()
    );

    // The file is sound for a later process too.
    drop(store);
    let again = Store::open(dir.path()).expect("reopen from disk");
    assert!(again.user_by_login("carol").unwrap().is_some());
    assert_eq!(
        again.user_by_login("alice").unwrap().unwrap().login,
        "alice"
    );
}

#[test]
fn the_health_check_notices_a_latched_failure_and_reopens_when_there_is_room() {
    let dir = tempfile::tempdir().expect("dir");
    let disk = Arc::new(Disk::default());
    let store = open_store(dir.path(), &disk);
    store.create_user("alice", "hash-a").expect("alice");
    disk.fill();
    assert!(store.create_user("bob", "hash-b").is_err());
    disk.free();
    // No write since: the health check alone brings the database back.
    assert_eq!(store.reopens(), 0);
    store.ping().expect("health check reopens");
    assert_eq!(store.reopens(), 1);
    store.create_user("carol", "hash-c").expect("write");
    assert_eq!(store.reopens(), 1);
}

#[tokio::test]
async fn a_sync_on_a_full_disk_answers_500_and_the_server_recovers_without_a_restart() {
    let disk = Arc::new(Disk::default());
    let opener = disk.clone();
    let app = spawn_app_with(move |dir| open_store(dir, &opener)).await;
    let token = app.token().await;
    app.new_pack(&token, "first").await;
    app.new_pack(&token, "second").await;
    for i in 0..5 {
        app.write_workflow("first", &format!("wf_{i}.yaml"), &good_workflow("First"));
        app.write_workflow("second", &format!("wf_{i}.yaml"), &good_workflow("Second"));
    }
    let reply = app.sync(&token, "first", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    disk.fill();
    let reply = app.sync(&token, "second", "").await;
    reply.assert_error(500, "INSUFFICIENT_STORAGE");
    assert_eq!(reply.body["error"], DISK_FULL_MESSAGE);
    let health = app.health().await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["database"], "error");
    assert_eq!(health.body["status"], "degraded");
    // Reads and logins keep working; writes keep answering 500. A login
    // on a full disk stores no session: its access token reads, its
    // refresh token is refused (log in again).
    assert_eq!(app.pack_workflows(&token, "first").await.len(), 5);
    let login = app
        .login_with("admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let full_token = login.body["data"]["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    assert_eq!(app.pack_workflows(&full_token, "first").await.len(), 5);
    let refresh = app
        .post(
            "/auth/refresh",
            None,
            &serde_json::json!({"refresh_token": login.body["data"]["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, 401, "{}", refresh.body);
    app.sync(&token, "second", "")
        .await
        .assert_error(500, "INSUFFICIENT_STORAGE");

    disk.free();
    let health = app.health().await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.body["database"], "ok");
    let reply = app.sync(&token, "second", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["registered_count"], 5);
    assert_eq!(app.pack_workflows(&token, "first").await.len(), 5);
    assert_eq!(app.pack_workflows(&token, "second").await.len(), 5);
    assert_eq!(app.state.store.reopens(), 1);
}

/// A store read that fails behind the action catalog is kept and fails the
/// validation: it is never answered as "no such action" (which a sync
/// would commit as `undefined-action` on a good workflow).
#[test]
fn a_store_read_failing_behind_the_catalog_is_an_error_not_a_missing_action() {
    use attune::workflow::ActionCatalog;
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(Disk::default());
    let store = open_uncached_store(dir.path(), &disk);
    store.create_pack(pack("lib")).expect("pack");
    let packs = dir.path().join("packs");
    std::fs::create_dir_all(&packs).unwrap();

    let healthy = attune::sync::SyncCatalog::new(store.clone(), packs.clone(), 1 << 20);
    assert!(healthy.has_pack("lib"));
    assert!(healthy.failure().is_ok());

    let catalog = attune::sync::SyncCatalog::new(store.clone(), packs.clone(), 1 << 20);
    disk.unreadable.store(true, Ordering::SeqCst);
    assert!(catalog.lookup("lib.build").is_none());
    let err = catalog.failure().expect_err("the failed read is kept");
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "a read error, not an empty pack: {err:?}"
    );
    // Taken once: the caller has it.
    assert!(catalog.failure().is_ok());
    disk.unreadable.store(false, Ordering::SeqCst);
}

/// A sync whose store reads fail ends with the store's error and writes
/// nothing: no workflow, no run record.
#[test]
fn a_sync_whose_store_reads_fail_fails_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(Disk::default());
    let store = open_uncached_store(dir.path(), &disk);
    store.create_pack(pack("app")).expect("pack");
    let packs = dir.path().join("packs");
    std::fs::create_dir_all(packs.join("app/workflows")).unwrap();
    std::fs::write(packs.join("app/workflows/one.yaml"), good_workflow("One")).unwrap();
    let options = || attune::sync::SyncOptions {
        dry_run: false,
        prune: false,
        user: "test".into(),
        token: None,
        trigger: attune::sync::Trigger::Api,
        revision_trigger: None,
    };
    let limits = attune::sync::SyncLimits {
        max_file_bytes: 1 << 20,
        revisions: attune::store::RevisionPolicy {
            keep: attune::store::revisions::DEFAULT_KEEP,
            max_total: attune::store::revisions::DEFAULT_MAX_TOTAL,
        },
    };

    disk.unreadable.store(true, Ordering::SeqCst);
    let result = attune::sync::sync_pack(&store, &packs, limits, "app", options());
    disk.unreadable.store(false, Ordering::SeqCst);
    match result {
        Err(attune::sync::SyncError::Store(_)) => {}
        other => panic!("expected the store's error, got {other:?}"),
    }
    // What the file holds, read afresh: nothing of the failed sync.
    drop(store);
    let store = Store::open(dir.path()).expect("reopen");
    assert!(store.pack_workflow_names("app").unwrap().is_empty());
    assert!(store.list_runs(Some("app"), 1, 10).unwrap().0.is_empty());
    // The disk works again: the same sync registers the workflow.
    let report = attune::sync::sync_pack(&store, &packs, limits, "app", options()).expect("sync");
    assert_eq!(report.registered_count, 1);
}
