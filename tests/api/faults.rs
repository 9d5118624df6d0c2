//! Faults around the real binary and the real server: a database written by
//! a newer attune, a corrupted or truncated database file (each refused at
//! start with a clear message and exit status 1, the same way on every
//! restart, never a panic), and a packs folder that disappears or becomes
//! unreadable while the server runs (the sync answers, the earlier state
//! stays, the server keeps serving). SIGKILL during a sync is `crash.rs`;
//! a full disk needs a tmpfs mount and lives in `scripts/disk-full.sh`.

use std::path::Path;

use attune::store::{DB_FILE_NAME, Store, tables};

use crate::helpers::good_workflow;
use crate::helpers::{TestApp, run_to_end, serve_command, spawn_app};

/// Starts `attune serve` on `dir`, expecting a refusal; returns stderr.
fn refused_start(dir: &Path) -> String {
    let (code, _, stderr) = run_to_end(serve_command(dir));
    assert_eq!(code, Some(1), "expected exit status 1, stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic at start:\n{stderr}");
    assert!(
        !stderr.contains("listening on"),
        "started on a bad database:\n{stderr}"
    );
    stderr
}

fn fresh_database(dir: &Path) {
    let store = Store::open(dir).expect("open");
    store.create_user("someone", "hash").expect("user");
}

#[test]
fn a_database_from_a_newer_attune_is_refused_clearly_every_time() {
    let dir = tempfile::tempdir().expect("dir");
    fresh_database(dir.path());
    {
        let db = redb::Database::open(dir.path().join(DB_FILE_NAME)).expect("redb");
        let txn = db.begin_write().expect("txn");
        {
            let mut meta = txn.open_table(tables::META).expect("meta");
            meta.insert(tables::SCHEMA_VERSION_KEY, 9_999)
                .expect("insert");
        }
        txn.commit().expect("commit");
    }
    for _ in 0..3 {
        let stderr = refused_start(dir.path());
        assert!(
            stderr.contains("database schema version 9999 is newer than this attune supports"),
            "{stderr}"
        );
        assert!(stderr.contains("run a newer attune"), "{stderr}");
    }
    // Refusing did not rewrite the version.
    let db = redb::Database::open(dir.path().join(DB_FILE_NAME)).expect("redb");
    let txn = redb::ReadableDatabase::begin_read(&db).expect("read");
    let meta = txn.open_table(tables::META).expect("meta");
    assert_eq!(
        meta.get(tables::SCHEMA_VERSION_KEY)
            .expect("get")
            .map(|v| v.value()),
        Some(9_999)
    );
}

#[test]
fn a_database_file_of_garbage_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let junk: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join(DB_FILE_NAME), &junk).expect("write");
    for _ in 0..2 {
        let stderr = refused_start(dir.path());
        assert!(stderr.contains("cannot open database"), "{stderr}");
        assert!(stderr.contains(DB_FILE_NAME), "names the file: {stderr}");
    }
    assert_eq!(
        std::fs::read(dir.path().join(DB_FILE_NAME)).expect("read"),
        junk,
        "the refused file was modified"
    );
}

#[test]
fn a_truncated_database_file_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    fresh_database(dir.path());
    let path = dir.path().join(DB_FILE_NAME);
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len().min(700)]).expect("truncate");
    let stderr = refused_start(dir.path());
    assert!(stderr.contains("cannot open database"), "{stderr}");
}

#[test]
fn a_database_with_damaged_pages_never_panics_at_start() {
    // Bytes flipped after the header: redb may or may not notice at open
    // (it checksums what it reads). Either a clear refusal or a clean
    // start; never a panic.
    let dir = tempfile::tempdir().expect("dir");
    fresh_database(dir.path());
    let path = dir.path().join(DB_FILE_NAME);
    let mut bytes = std::fs::read(&path).expect("read");
    for i in (4096..bytes.len()).step_by(97) {
        bytes[i] ^= 0x5a;
    }
    std::fs::write(&path, &bytes).expect("write");
    let mut cmd = serve_command(dir.path());
    cmd.env("RUST_BACKTRACE", "0");
    match crate::helpers::spawn_binary(cmd) {
        Ok(app) => {
            let (_, rest) = app.terminate();
            let all = rest.join("\n");
            assert!(!all.contains("panicked"), "{all}");
        }
        Err(lines) => {
            let all = lines.join("\n");
            assert!(!all.contains("panicked"), "{all}");
            assert!(all.contains("error: "), "no error line on refusal:\n{all}");
        }
    }
}

// ---------------------------------------------------------------------------
// The packs folder under the running server

async fn synced_pack(app: &TestApp, token: &str, pack: &str, n: usize) {
    for i in 0..n {
        app.write_workflow(
            pack,
            &format!("wf_{i}.yaml"),
            &good_workflow(&format!("W{i}")),
        );
    }
    app.new_pack(token, pack).await;
    let reply = app.sync(token, pack, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(total(app, token, pack).await, n);
}

#[tokio::test]
async fn a_pack_folder_removed_after_a_sync_keeps_what_was_registered() {
    let app = spawn_app().await;
    let token = app.token().await;
    synced_pack(&app, &token, "gone", 3).await;
    std::fs::remove_dir_all(app.pack_dir("gone")).expect("remove");
    let reply = app.sync(&token, "gone", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["loaded_count"], 0, "{}", reply.body);
    assert!(
        reply.body.to_string().contains("Directory not found"),
        "{}",
        reply.body
    );
    assert_eq!(app.pack_workflows(&token, "gone").await.len(), 3);
    assert_eq!(app.health().await.status, 200);
}

#[tokio::test]
async fn a_workflows_folder_replaced_by_a_file_or_locked_is_reported_not_fatal() {
    let app = spawn_app().await;
    let token = app.token().await;
    synced_pack(&app, &token, "odd", 3).await;
    let wf = app.pack_dir("odd").join("workflows");
    // Made unreadable. (As root the mode is not enforced, and the sync
    // simply reads the files: either way no 5xx and nothing lost.)
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wf, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let reply = app.sync(&token, "odd", "").await;
    std::fs::set_permissions(&wf, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    assert!(reply.status.as_u16() < 500, "{}", reply.body);
    assert_eq!(app.pack_workflows(&token, "odd").await.len(), 3);
    // Replaced by a regular file.
    std::fs::remove_dir_all(&wf).expect("remove");
    std::fs::write(&wf, "not a folder").expect("file");
    let reply = app.sync(&token, "odd", "").await;
    assert!(reply.status.as_u16() < 500, "{}", reply.body);
    assert_eq!(app.pack_workflows(&token, "odd").await.len(), 3);
    assert_eq!(app.health().await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_folder_removed_while_syncing_never_breaks_the_server() {
    let app = spawn_app().await;
    let token = app.token().await;
    let n = 300;
    synced_pack(&app, &token, "racy", n).await;
    for round in 0..5 {
        // Change every file so the sync has real work, then race it.
        for i in 0..n {
            app.write_workflow(
                "racy",
                &format!("wf_{i}.yaml"),
                &good_workflow(&format!("R{round}-{i}")),
            );
        }
        let dir = app.pack_dir("racy");
        let remover = std::thread::spawn(move || std::fs::remove_dir_all(&dir).is_ok());
        let reply = app.sync(&token, "racy", "").await;
        assert!(
            remover.join().expect("remover"),
            "round {round}: folder not removed"
        );
        assert!(reply.status.as_u16() < 500, "round {round}: {}", reply.body);
        let listed = total(&app, &token, "racy").await;
        assert!(listed <= n, "round {round}: {listed} workflows");
        assert_eq!(app.health().await.status, 200);
    }
    // Back in place, one sync registers everything again.
    for i in 0..n {
        app.write_workflow(
            "racy",
            &format!("wf_{i}.yaml"),
            &good_workflow(&format!("Back-{i}")),
        );
    }
    let reply = app.sync(&token, "racy", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(total(&app, &token, "racy").await, n);
}

async fn total(app: &TestApp, token: &str, pack: &str) -> usize {
    let reply = app
        .get(
            &format!("/api/v1/packs/{pack}/workflows?per_page=1"),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["meta"]["total"].as_u64().expect("total") as usize
}
