//! Crash safety of uploads with the real binary: a pack of 300 workflows is
//! replaced by an upload of the other generation (`force`), and the process
//! is killed with SIGKILL at a different moment each time (10 uploads, from
//! before the upload is sent to after it would have been answered). While
//! it is down, the pack folder must be wholly one generation (all files, no
//! mix, nothing missing); after the restart (which removes what the
//! interrupted upload left and re-syncs the pack it touched) no staging
//! folder is left and the database agrees with the folder.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{admin_token, start_binary};

const WORKFLOWS: usize = 300;
const RUNS: u32 = 10;

/// The `.tar.gz` of generation `g` of pack `big`.
fn archive(g: u32) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut add = |name: &str, text: String| {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, text.as_bytes())
            .expect("append");
    };
    add(
        "big/pack.yaml",
        format!("ref: big\nlabel: \"Big gen-{g}\"\nversion: \"1.0.{g}\"\n"),
    );
    for i in 0..WORKFLOWS {
        add(
            &format!("big/workflows/w{i:04}.yaml"),
            format!(
                "label: \"gen-{g} wf-{i}\"\nversion: \"1.0.{g}\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{g}\"\n"
            ),
        );
    }
    b.into_inner().expect("tar").finish().expect("gzip")
}

fn generation_of(text: &str) -> u32 {
    text.split("gen-")
        .nth(1)
        .and_then(|r| r.split([' ', '"']).next())
        .and_then(|g| g.parse().ok())
        .unwrap_or_else(|| panic!("no generation in {text:?}"))
}

/// The one generation of every file of the folder (panics on a mix or a
/// missing file).
fn folder_generation(pack: &Path) -> u32 {
    let manifest = std::fs::read_to_string(pack.join("pack.yaml")).expect("pack.yaml");
    let g = generation_of(&manifest);
    let mut count = 0;
    for e in std::fs::read_dir(pack.join("workflows")).expect("workflows") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("read");
        assert_eq!(generation_of(&text), g, "a file of another generation");
        count += 1;
    }
    assert_eq!(count, WORKFLOWS, "files missing or extra");
    g
}

fn staging_left(packs: &Path) -> Vec<String> {
    std::fs::read_dir(packs)
        .expect("packs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

async fn upload(client: &reqwest::Client, address: &str, token: &str, g: u32) -> Option<u16> {
    let form = reqwest::multipart::Form::new()
        .part(
            "pack",
            reqwest::multipart::Part::bytes(archive(g)).file_name("big.tar.gz"),
        )
        .text("force", "true");
    client
        .post(format!("{address}/api/v1/packs/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Generation of every registered workflow of `big` (through the API).
async fn db_generations(client: &reqwest::Client, address: &str, token: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for page in 1.. {
        let body: Value = client
            .get(format!(
                "{address}/api/v1/packs/big/workflows?per_page=100&page={page}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let items = body["data"].as_array().expect("list");
        if items.is_empty() {
            break;
        }
        out.extend(
            items
                .iter()
                .map(|w| generation_of(w["label"].as_str().unwrap_or(""))),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_at_any_moment_leaves_the_old_or_the_new_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let packs = dir.path().join("packs");
    let pack = packs.join("big");
    let client = reqwest::Client::new();
    let mut app = start_binary(dir.path());
    let mut token = admin_token(&app.address).await;
    assert_eq!(upload(&client, &app.address, &token, 1).await, Some(201));
    // How long a whole replacing upload takes here, to spread the kills.
    let began = Instant::now();
    assert_eq!(upload(&client, &app.address, &token, 2).await, Some(200));
    let full_ms = began.elapsed().as_millis() as u64;
    eprintln!("upload of {WORKFLOWS} changed workflows: {full_ms} ms round trip");

    let mut outcomes = Vec::new();
    for run in 0..RUNS {
        let old = folder_generation(&pack);
        let next = old + 1;
        let address = app.address.clone();
        let request = {
            let client = client.clone();
            let token = token.clone();
            tokio::spawn(async move { upload(&client, &address, &token, next).await })
        };
        // This wait picks the kill moment (0 to 1.1× a whole upload); the
        // assertions below hold whatever moment it turns out to be.
        let kill_after =
            Duration::from_millis(full_ms * 11 * u64::from(run) / (10 * u64::from(RUNS - 1)));
        tokio::time::sleep(kill_after).await;
        app.child.kill().expect("SIGKILL");
        app.child.wait().expect("wait");
        let answered = request.await.expect("task");
        drop(app);

        // Down: the folder is wholly old or wholly new.
        let on_disk = folder_generation(&pack);
        assert!(
            on_disk == old || on_disk == next,
            "run {run}: folder generation {on_disk}, expected {old} or {next}"
        );
        if answered.is_some_and(|s| s == 200) {
            assert_eq!(on_disk, next, "run {run}: an answered upload is kept");
        }

        // Up again: staging gone, the database agrees with the folder.
        app = start_binary(dir.path());
        token = admin_token(&app.address).await;
        assert_eq!(staging_left(&packs), Vec::<String>::new(), "run {run}");
        let db = db_generations(&client, &app.address, &token).await;
        assert_eq!(db.len(), WORKFLOWS, "run {run}: registered workflows");
        assert!(
            db.iter().all(|g| *g == on_disk),
            "run {run}: database {:?} vs folder {on_disk}",
            db.iter().collect::<std::collections::BTreeSet<_>>()
        );
        let pack_view: Value = client
            .get(format!("{}/api/v1/packs/big", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .expect("pack")
            .json()
            .await
            .expect("json");
        let label = pack_view["data"]["label"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            generation_of(&label),
            on_disk,
            "run {run}: the pack record agrees too"
        );
        outcomes.push(format!(
            "run {run}: kill after {} ms, answer {answered:?} → {} (pack label {label})",
            kill_after.as_millis(),
            if on_disk == next { "new" } else { "old" }
        ));
    }
    eprintln!("{}", outcomes.join("\n"));
}
