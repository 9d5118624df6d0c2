//! Watch mode against a real folder and the real server: an edit is synced
//! once after the debounce; a burst of 500 writes gives one sync (or a
//! small bounded number); an editor's atomic save by rename; a delete is
//! reported `missing`; the packs folder removed and re-created; polling
//! forced by config; a change during a sync gives exactly one follow-up.
//!
//! Every wait polls a condition with a deadline: first the expected run
//! count, then `/health` saying the watcher is idle, then the exact count.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{SEED_BROKEN, good_workflow};
use crate::helpers::{TestApp, spawn_app_configured};

const DEADLINE: Duration = Duration::from_secs(30);

async fn watch_app(poll: bool) -> TestApp {
    watch_app_debounce(poll, 150).await
}

async fn watch_app_debounce(poll: bool, debounce_ms: u64) -> TestApp {
    spawn_app_configured(|c| {
        c.watch.enabled = true;
        c.watch.debounce_ms = debounce_ms;
        c.watch.poll = poll;
        c.watch.poll_interval_ms = 100;
    })
    .await
}

/// Runs of `pack` started by the watcher, newest first.
async fn watch_runs(app: &TestApp, token: &str, pack: &str) -> Vec<Value> {
    let reply = app
        .runs(token, &format!("?pack_ref={pack}&per_page=100"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|r| r["trigger"] == "watch")
        .cloned()
        .collect()
}

/// Waits until the pack has at least `n` watch runs; returns them.
async fn wait_runs(app: &TestApp, token: &str, pack: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let runs = watch_runs(app, token, pack).await;
        if runs.len() >= n {
            return runs;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "expected {n} watch runs of {pack}, have {}; health: {}",
            runs.len(),
            app.health().await.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until nothing is queued or syncing, several checks in a row
/// spanning more than the debounce.
async fn wait_idle(app: &TestApp) {
    let start = Instant::now();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let h = app.health().await.body;
        let idle = h["watch"]["queue_depth"] == 0 && h["watch"]["syncing"] == 0;
        match (idle, quiet_since) {
            (true, Some(t)) if t.elapsed() > Duration::from_millis(400) => return,
            (true, None) => quiet_since = Some(Instant::now()),
            (false, _) => quiet_since = None,
            _ => {}
        }
        assert!(start.elapsed() < DEADLINE, "watcher never idle: {h}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The full record of a run.
async fn run_detail(app: &TestApp, token: &str, run: &Value) -> Value {
    let reply = app
        .get(&format!("/api/v1/runs/{}", run["id"]), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// A registered pack `p` whose folder (two good workflows) appears after
/// registration, so its first sync is the watcher's.
async fn pack_with_two(app: &TestApp, token: &str) {
    app.new_pack(token, "p").await;
    app.write_workflow("p", "one.yaml", &good_workflow("One"));
    app.write_workflow("p", "two.yaml", &good_workflow("Two"));
    let runs = wait_runs(app, token, "p", 1).await;
    wait_idle(app).await;
    let runs_now = watch_runs(app, token, "p").await;
    assert_eq!(runs_now.len(), runs.len());
    let last = &runs_now[0];
    assert_eq!(last["counts"]["registered"], 2, "{last}");
}

#[tokio::test]
async fn an_edit_is_synced_once_after_the_debounce_with_trigger_watch_and_no_user() {
    let app = watch_app(false).await;
    let h = app.health().await.body;
    assert_eq!(h["watch"]["mode"], "inotify", "{h}");
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();

    app.write_workflow("p", "one.yaml", SEED_BROKEN);
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    wait_idle(&app).await;
    assert_eq!(watch_runs(&app, &token, "p").await.len(), before + 1);
    let run = &runs[0];
    assert_eq!(run["trigger"], "watch");
    assert_eq!(run["user"], "");
    assert_eq!(run["kind"], "sync");
    assert_eq!(run["prune"], false);
    assert_eq!(run["counts"]["failed"], 1, "{run}");
    assert_eq!(
        run["counts"]["unchanged"], 1,
        "only the edited file is revalidated: {run}"
    );
    let detail = run_detail(&app, &token, run).await;
    assert!(
        detail["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "missing-field"),
        "{detail}"
    );
    // The good version stays registered, flagged stale, as with a manual sync.
    let w = app.workflow(&token, "p.one").await;
    assert_eq!(w.status, 200);
}

#[tokio::test]
async fn a_burst_of_500_writes_gives_one_sync_or_a_few_not_500() {
    // The production default (300 ms), so a busy test machine pausing
    // between two writes does not split the burst.
    let app = watch_app_debounce(false, 300).await;
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();

    let dir = app.pack_dir("p").join("workflows");
    for i in 0..500 {
        std::fs::write(
            dir.join(format!("w{i:03}.yaml")),
            good_workflow(&format!("W{i}")),
        )
        .expect("write");
    }
    let start = Instant::now();
    loop {
        let runs = watch_runs(&app, &token, "p").await;
        if runs.len() > before && runs[0]["counts"]["loaded"] == 502 {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no sync saw all 502 files: {:?}",
            runs.first()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_idle(&app).await;
    let runs = watch_runs(&app, &token, "p").await;
    let syncs = runs.len() - before;
    assert!(
        (1..=3).contains(&syncs),
        "{syncs} syncs for one burst of 500 writes"
    );
    assert_eq!(runs[0]["counts"]["registered"], 502);
}

#[tokio::test]
async fn an_atomic_save_by_rename_over_the_file_is_synced() {
    let app = watch_app(false).await;
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();

    // What vim (backupcopy=no), VS Code and most editors do: write a
    // temporary file beside it, then rename it over the original.
    let dir = app.pack_dir("p").join("workflows");
    std::fs::write(dir.join(".two.yaml.tmp~"), SEED_BROKEN).expect("write temp");
    std::fs::rename(dir.join(".two.yaml.tmp~"), dir.join("two.yaml")).expect("rename");
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    wait_idle(&app).await;
    assert_eq!(watch_runs(&app, &token, "p").await.len(), before + 1);
    assert_eq!(runs[0]["counts"]["failed"], 1, "{}", runs[0]);
    assert_eq!(runs[0]["counts"]["loaded"], 2, "{}", runs[0]);
}

#[tokio::test]
async fn a_deleted_file_is_reported_missing_and_never_pruned() {
    let app = watch_app(false).await;
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();

    app.remove_workflow("p", "two.yaml");
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    wait_idle(&app).await;
    assert_eq!(runs[0]["counts"]["missing"], 1, "{}", runs[0]);
    assert_eq!(runs[0]["counts"]["pruned"], 0);
    let detail = run_detail(&app, &token, &runs[0]).await;
    assert_eq!(detail["missing"], serde_json::json!(["p.two"]));
    assert_eq!(app.workflow(&token, "p.two").await.status, 200);
}

#[tokio::test]
async fn the_packs_folder_removed_and_re_created_keeps_being_watched() {
    let app = watch_app(false).await;
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();
    let base = app.state.config.packs_base_dir.clone();

    std::fs::remove_dir_all(&base).expect("remove the packs folder");
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    let detail = run_detail(&app, &token, &runs[0]).await;
    assert_eq!(
        detail["errors"],
        serde_json::json!(["Failed to load workflows: Directory not found"]),
        "{detail}"
    );
    wait_idle(&app).await;
    let before = watch_runs(&app, &token, "p").await.len();

    // Re-created (as `git clone` or a restore would), with one changed file.
    app.write_workflow("p", "one.yaml", &good_workflow("One"));
    app.write_workflow("p", "two.yaml", &good_workflow("Two again"));
    let start = Instant::now();
    loop {
        let runs = watch_runs(&app, &token, "p").await;
        if runs.len() > before && runs[0]["counts"]["registered"] == 2 {
            assert_eq!(runs[0]["counts"]["missing"], 0);
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "re-created folder not synced: {:?}",
            runs.first()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_idle(&app).await;

    // And edits in the new folder are still seen.
    let before = watch_runs(&app, &token, "p").await.len();
    app.write_workflow("p", "two.yaml", SEED_BROKEN);
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    assert_eq!(runs[0]["counts"]["failed"], 1, "{}", runs[0]);

    // Renamed away and back.
    wait_idle(&app).await;
    let moved = base.with_file_name("packs-moved");
    std::fs::rename(&base, &moved).expect("rename away");
    std::fs::rename(&moved, &base).expect("rename back");
    let before = watch_runs(&app, &token, "p").await.len();
    app.write_workflow("p", "two.yaml", &good_workflow("Two, third"));
    let start = Instant::now();
    loop {
        let runs = watch_runs(&app, &token, "p").await;
        if runs.len() > before && runs[0]["counts"]["failed"] == 0 {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "edit after rename not synced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn polling_forced_by_config_is_reported_and_syncs_edits() {
    let app = watch_app(true).await;
    let h = app.health().await.body;
    assert_eq!(h["watch"]["mode"], "polling", "{h}");
    assert!(
        h["watch"]["reason"].as_str().unwrap().contains("forced"),
        "{h}"
    );
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();
    app.write_workflow("p", "one.yaml", SEED_BROKEN);
    let runs = wait_runs(&app, &token, "p", before + 1).await;
    assert_eq!(runs[0]["counts"]["failed"], 1, "{}", runs[0]);
}

#[tokio::test]
async fn a_change_during_a_sync_gives_exactly_one_follow_up() {
    let app = watch_app(false).await;
    let token = app.token().await;
    pack_with_two(&app, &token).await;
    let before = watch_runs(&app, &token, "p").await.len();

    // Hold the pack's sync lock, as a long sync would: the watcher's sync
    // starts and waits inside it.
    let guard = app.state.sync_locks.lock("p").await;
    app.write_workflow("p", "one.yaml", &good_workflow("Edit 1"));
    let start = Instant::now();
    while app.health().await.body["watch"]["syncing"] != 1 {
        assert!(start.elapsed() < DEADLINE, "watch sync never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Three more edits while it "runs".
    for i in 2..=4 {
        app.write_workflow("p", "one.yaml", &good_workflow(&format!("Edit {i}")));
    }
    let start = Instant::now();
    while app.health().await.body["watch"]["queue_depth"] != 1 {
        assert!(start.elapsed() < DEADLINE, "follow-up never queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        app.health().await.body["watch"]["syncing"],
        1,
        "never concurrent"
    );
    drop(guard);

    wait_runs(&app, &token, "p", before + 2).await;
    wait_idle(&app).await;
    let runs = watch_runs(&app, &token, "p").await;
    assert_eq!(runs.len(), before + 2, "exactly one follow-up");
    let w = app.workflow(&token, "p.one").await;
    assert_eq!(w.body["data"]["label"], "Edit 4", "{}", w.body);
}
