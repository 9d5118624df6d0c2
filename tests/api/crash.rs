//! Crash safety with the real binary: a pack of 2,000 workflows is
//! rewritten to a new generation, a sync starts, the process is killed with
//! SIGKILL at a different moment each time (12 runs, from before the sync
//! begins to after it would have ended), the binary is restarted, and every
//! workflow of the pack must belong to one generation (all old or all new)
//! while the database opens cleanly.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, BinaryApp, serve_command, spawn_binary};

const WORKFLOWS: usize = 2000;
const RUNS: u32 = 12;

fn start(dir: &Path) -> BinaryApp {
    spawn_binary(serve_command(dir))
        .unwrap_or_else(|lines| panic!("attune did not start:\n{}", lines.join("\n")))
}

async fn login(client: &reqwest::Client, address: &str) -> String {
    let res = client
        .post(format!("{address}/auth/login"))
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    body["data"]["access_token"].as_str().expect("token").to_string()
}

fn write_generation(dir: &Path, generation: u32) {
    let wf = dir.join("packs/big/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    for i in 0..WORKFLOWS {
        let text = format!(
            "label: \"gen-{generation} wf-{i}\"\nversion: \"1.0.{generation}\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{generation}\"\n    next:\n      - do: [b]\n  - name: b\n    action: core.noop\n"
        );
        std::fs::write(wf.join(format!("w{i:04}.yaml")), text).expect("write");
    }
}

/// Generation → number of the pack's workflows that carry it.
async fn generations(client: &reqwest::Client, address: &str, token: &str) -> BTreeMap<u32, usize> {
    let mut seen = BTreeMap::new();
    for page in 1.. {
        let res = client
            .get(format!(
                "{address}/api/v1/workflows?pack_ref=big&per_page=100&page={page}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        let data = body["data"].as_array().expect("data");
        for w in data {
            let label = w["label"].as_str().expect("label");
            let g: u32 = label
                .strip_prefix("gen-")
                .and_then(|r| r.split(' ').next())
                .and_then(|g| g.parse().ok())
                .unwrap_or_else(|| panic!("unexpected label {label}"));
            *seen.entry(g).or_insert(0) += 1;
        }
        if data.len() < 100 {
            break;
        }
    }
    seen
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
    let client = reqwest::Client::new();
    write_generation(dir.path(), 1);
    let app = start(dir.path());
    let token = login(&client, &app.address).await;
    let res = client
        .post(format!("{}/api/v1/packs", app.address))
        .bearer_auth(&token)
        .json(&json!({"ref": "big", "label": "Big", "version": "1.0.0"}))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    assert_eq!(
        generations(&client, &app.address, &token).await,
        BTreeMap::from([(1, WORKFLOWS)])
    );
    // How long a whole sync of changed files takes here, to spread the kills.
    write_generation(dir.path(), 2);
    let began = Instant::now();
    let full = sync(&client, &app.address, &token).await;
    let full_ms = began.elapsed().as_millis() as u64;
    let warm = sync(&client, &app.address, &token).await;
    eprintln!(
        "cold sync of {WORKFLOWS} changed files: {} ms server-side ({full_ms} ms round trip); \
         unchanged re-sync: {} ms server-side",
        full["data"]["duration_ms"], warm["data"]["duration_ms"]
    );
    assert_eq!(warm["data"]["unchanged_count"], WORKFLOWS);
    let mut current = 2;
    let mut app = Some(app);

    let mut outcomes = Vec::new();
    for run in 0..RUNS {
        let next = current + 1;
        write_generation(dir.path(), next);
        let running = app.take().expect("running app");
        let address = running.address.clone();
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
        let mut running = running;
        running.child.kill().expect("SIGKILL");
        running.child.wait().expect("wait");
        let answered = request.await.expect("task");
        drop(running);

        let restarted = start(dir.path());
        let health: Value = client
            .get(format!("{}/health", restarted.address))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        assert_eq!(health["database"], "ok", "the database opens cleanly");
        let token = login(&client, &restarted.address).await;
        let seen = generations(&client, &restarted.address, &token).await;
        assert_eq!(
            seen.values().sum::<usize>(),
            WORKFLOWS,
            "run {run}: workflows lost or duplicated: {seen:?}"
        );
        assert_eq!(seen.len(), 1, "run {run}: mixed generations {seen:?}");
        let (&generation, _) = seen.iter().next().expect("one generation");
        assert!(
            generation == current || generation == next,
            "run {run}: generation {generation}, expected {current} or {next}"
        );
        outcomes.push(format!(
            "run {run}: kill after {} ms, request {:?} → generation {generation} ({})",
            kill_after.as_millis(),
            answered.ok(),
            if generation == next { "new" } else { "old" }
        ));
        current = generation;
        app = Some(restarted);
    }
    eprintln!("{}", outcomes.join("\n"));

    // The last state syncs forward normally.
    let running = app.take().expect("app");
    let token = login(&client, &running.address).await;
    write_generation(dir.path(), 99);
    sync(&client, &running.address, &token).await;
    assert_eq!(
        generations(&client, &running.address, &token).await,
        BTreeMap::from([(99, WORKFLOWS)])
    );
}
