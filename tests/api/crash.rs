//! Crash safety with the real binary: the 2,000 workflow files of a pack are
//! switched to the other generation (two folders swapped by rename), a sync
//! starts, the process is killed with
//! SIGKILL at a different moment each time (12 runs, from before the sync
//! begins to after it would have ended), the binary is restarted, and every
//! workflow of the pack must belong to one generation (all old or all new)
//! while the database opens cleanly, and every workflow's newest revision
//! must be its registered content (revisions commit with the change) and
//! read it back in full, one revision per generation change.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{admin_token, start_binary};

const WORKFLOWS: usize = 2000;
const RUNS: u32 = 12;

fn write_generation(folder: &Path, generation: u32) {
    std::fs::create_dir_all(folder).expect("mkdir");
    for i in 0..WORKFLOWS {
        let text = format!(
            "label: \"gen-{generation} wf-{i}\"\nversion: \"1.0.{generation}\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{generation}\"\n    next:\n      - do: [b]\n  - name: b\n    action: core.noop\n"
        );
        std::fs::write(folder.join(format!("w{i:04}.yaml")), text).expect("write");
    }
}

/// The generation of the files now in `workflows/`.
fn disk_generation(pack: &Path) -> u32 {
    let text = std::fs::read_to_string(pack.join("workflows/w0000.yaml")).expect("read");
    text.split("gen-")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|g| g.parse().ok())
        .expect("generation in file")
}

/// Swaps `workflows/` and `spare/`: every file changes in two renames.
fn swap(pack: &Path) {
    std::fs::rename(pack.join("workflows"), pack.join("tmp")).expect("rename");
    std::fs::rename(pack.join("spare"), pack.join("workflows")).expect("rename");
    std::fs::rename(pack.join("tmp"), pack.join("spare")).expect("rename");
}

/// Generation → number of the pack's workflows that carry it, read from the
/// database file directly (the server is down); checks that each
/// workflow's newest revision holds its registered content.
fn generations(dir: &Path) -> BTreeMap<u32, usize> {
    generations_and_revisions(dir).0
}

/// [`generations`] and the number of revisions of `big.w0000`.
fn generations_and_revisions(dir: &Path) -> (BTreeMap<u32, usize>, u64) {
    let store = attune::store::Store::open(dir).expect("the database opens cleanly");
    let mut seen = BTreeMap::new();
    let mut first_revisions = 0;
    for w in store.pack_workflows("big").expect("read workflows") {
        let (revs, total) = store.list_revisions(&w.r#ref, 1, 1).expect("revisions");
        let newest = revs.first().expect("a workflow without a revision");
        assert_eq!(
            newest.content_hash, w.content_hash,
            "{}: the newest revision is not the registered content",
            w.r#ref
        );
        // the newest revision reads the registered content (lean) in full
        let full = store
            .get_revision(&w.r#ref, newest.n)
            .expect("read the newest revision")
            .expect("the newest revision");
        assert_eq!(
            (&full.source, &full.definition),
            (&w.source, &w.definition),
            "{}: the newest revision reads other content",
            w.r#ref
        );
        if w.name == "w0000" {
            first_revisions = total;
        }
        let g: u32 = w
            .label
            .strip_prefix("gen-")
            .and_then(|r| r.split(' ').next())
            .and_then(|g| g.parse().ok())
            .unwrap_or_else(|| panic!("unexpected label {}", w.label));
        *seen.entry(g).or_insert(0) += 1;
    }
    (seen, first_revisions)
}

async fn sync(client: &reqwest::Client, address: &str, token: &str) -> Value {
    let res = client
        .post(format!("{address}/api/v1/packs/big/workflows/sync"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sync");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_any_moment_leaves_one_whole_generation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = dir.path().join("packs/big");
    let client = reqwest::Client::new();
    write_generation(&pack.join("workflows"), 1);
    write_generation(&pack.join("spare"), 2);

    let mut app = start_binary(dir.path());
    let mut token = admin_token(&app.address).await;
    let res = client
        .post(format!("{}/api/v1/packs", app.address))
        .bearer_auth(&token)
        .json(&json!({"ref": "big", "label": "Big", "version": "1.0.0"}))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    // How long a whole sync of changed files takes here, to spread the kills.
    swap(&pack);
    let began = Instant::now();
    let cold = sync(&client, &app.address, &token).await;
    let full_ms = began.elapsed().as_millis() as u64;
    let warm = sync(&client, &app.address, &token).await;
    assert_eq!(cold["data"]["workflows"][0]["status"], "updated");
    assert_eq!(warm["data"]["unchanged_count"], WORKFLOWS);
    eprintln!(
        "sync of {WORKFLOWS} changed files: {} ms server-side ({full_ms} ms round trip); \
         unchanged re-sync: {} ms server-side",
        cold["data"]["duration_ms"], warm["data"]["duration_ms"]
    );

    let mut db_generation = 2;
    // created by the auto-sync (generation 1), then the cold sync (2)
    let mut expected_revisions = 2;
    let mut outcomes = Vec::new();
    for run in 0..RUNS {
        if disk_generation(&pack) == db_generation {
            swap(&pack);
        }
        let next = disk_generation(&pack);
        let address = app.address.clone();
        let request = {
            let client = client.clone();
            let token = token.clone();
            tokio::spawn(async move {
                client
                    .post(format!("{address}/api/v1/packs/big/workflows/sync"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        };
        // This wait picks the kill moment (from 0 to 1.1× a whole sync); the
        // assertions below hold whatever moment it turns out to be.
        let kill_after = Duration::from_millis(full_ms * u64::from(run) / 10);
        tokio::time::sleep(kill_after).await;
        app.child.kill().expect("SIGKILL");
        app.child.wait().expect("wait");
        let answered = request.await.expect("task").ok();
        drop(app);

        let (seen, revisions) = generations_and_revisions(dir.path());
        assert_eq!(
            seen.values().sum::<usize>(),
            WORKFLOWS,
            "run {run}: workflows lost or duplicated: {seen:?}"
        );
        assert_eq!(seen.len(), 1, "run {run}: mixed generations {seen:?}");
        let (&generation, _) = seen.iter().next().expect("one generation");
        assert!(
            generation == db_generation || generation == next,
            "run {run}: generation {generation}, expected {db_generation} or {next}"
        );
        if answered == Some(200) {
            assert_eq!(generation, next, "run {run}: an answered sync is durable");
        }
        if generation != db_generation {
            expected_revisions += 1;
        }
        assert_eq!(
            revisions, expected_revisions,
            "run {run}: one revision per generation change, none for a lost sync"
        );
        outcomes.push(format!(
            "run {run}: kill after {} ms, answer {answered:?} → {}",
            kill_after.as_millis(),
            if generation == next { "new" } else { "old" }
        ));
        db_generation = generation;

        app = start_binary(dir.path());
        let health: Value = client
            .get(format!("{}/health", app.address))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        assert_eq!(health["database"], "ok", "the server opens the database");
        token = admin_token(&app.address).await;
    }
    eprintln!("{}", outcomes.join("\n"));

    // The last state syncs forward normally.
    if disk_generation(&pack) == db_generation {
        swap(&pack);
    }
    let next = disk_generation(&pack);
    let last = sync(&client, &app.address, &token).await;
    assert_eq!(last["data"]["registered_count"], WORKFLOWS);
    drop(app);
    assert_eq!(generations(dir.path()), BTreeMap::from([(next, WORKFLOWS)]));
}
