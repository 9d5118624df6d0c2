//! Benchmarks of workflow revisions (issue 17), all in one process so the
//! ratios compare like with like:
//!
//! 1. sync of 1,000 generated workflows, cold and then with 10 % of the
//!    files changed, with revisions on (`keep` 50) and off (`keep` 0),
//!    alternating on/off for `--rounds` rounds, each on a fresh database;
//! 2. database size after 50 syncs of those 1,000 workflows with a
//!    different 10 % changed each time, on and off;
//! 3. `GET /api/v1/workflows/{ref}/diff` on a 2,000-line workflow whose
//!    two revisions differ in 10 % of its tasks, through the real server
//!    on 127.0.0.1 (release build), `--requests` sequential requests: p50,
//!    p99, max.
//!
//! Each sync is timed twice: wall clock, and the process's CPU time
//! (user + system of every thread, from `/proc/self/stat`, 10 ms ticks),
//! which a shared box's other processes disturb much less than the wall
//! clock (the sync threads run at nice 10). The database size is the
//! file's and redb's own count of the bytes its tables hold and of its
//! free (fragmented) space, after the first two syncs and after all.
//!
//! Usage: `cargo run --release --example revisions_bench -- [--rounds 3]
//! [--syncs 50] [--requests 500]`.

use std::path::Path;
use std::time::Instant;

use attune::store::{NewPack, RevisionPolicy, Store};
use attune::sync::{SyncLimits, SyncOptions, Trigger, sync_pack};
use attune::workflow::generator as gen_support;

const WORKFLOWS: usize = 1000;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_pack(packs: &Path, seed: u64) -> Vec<(String, String)> {
    let dir = packs.join("bench");
    std::fs::create_dir_all(dir.join("workflows")).expect("mkdir");
    std::fs::create_dir_all(dir.join("actions")).expect("mkdir");
    for (name, text) in gen_support::action_files("bench") {
        std::fs::write(dir.join("actions").join(name), text).expect("write action");
    }
    let files = gen_support::pack_named("bench", WORKFLOWS, seed, 0);
    for (name, text) in &files {
        std::fs::write(dir.join("workflows").join(format!("{name}.yaml")), text)
            .expect("write workflow");
    }
    files
}

/// Changes every 10th file (offset `k % 10`): a real edit (the label and
/// a comment), so content hash and definition both change.
fn change_tenth(packs: &Path, files: &[(String, String)], k: usize) {
    let dir = packs.join("bench/workflows");
    for (i, (name, text)) in files.iter().enumerate() {
        if i % 10 == k % 10 {
            let edited = format!(
                "# edit {k}\n{}",
                text.replacen("label: \"", &format!("label: \"e{k} "), 1)
            );
            std::fs::write(dir.join(format!("{name}.yaml")), edited).expect("write");
        }
    }
}

fn new_store(data: &Path) -> Store {
    let store = Store::open(data).expect("open store");
    store
        .create_pack(NewPack {
            pack_ref: "bench".into(),
            label: "Bench".into(),
            description: None,
            version: "1.0.0".into(),
            conf_schema: serde_json::json!({}),
            config: serde_json::json!({}),
            meta: serde_json::json!({}),
            tags: vec![],
            runtime_deps: vec![],
            is_standard: false,
        })
        .expect("create pack");
    store
}

/// CPU time of this process so far (user + system, all threads, dead
/// ones included), in ms; `/proc/self/stat` counts in USER_HZ = 100 ticks.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name, which is in parentheses
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

/// Bytes this process has passed to write calls so far (`wchar` of
/// `/proc/self/io`): for a sync, redb's pages and the pending records'
/// temporary file; the same on a loaded box as on a quiet one.
fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// MiB written by the syncs, printed once per mode (the same every round).
static WRITTEN: std::sync::Mutex<Vec<(bool, &'static str, u64)>> =
    std::sync::Mutex::new(Vec::new());

/// Wall ms, CPU ms and unchanged count of one sync.
fn sync_ms(store: &Store, packs: &Path, policy: RevisionPolicy) -> (f64, f64, u64) {
    let (ms, cpu, unchanged, _) = sync_measured(store, packs, policy);
    (ms, cpu, unchanged)
}

/// [`sync_ms`] and the bytes the sync wrote.
fn sync_measured(store: &Store, packs: &Path, policy: RevisionPolicy) -> (f64, f64, u64, u64) {
    let written = written_bytes();
    let limits = SyncLimits {
        max_file_bytes: 1 << 20,
        revisions: policy,
    };
    let options = SyncOptions {
        dry_run: false,
        prune: false,
        user: "bench".into(),
        token: None,
        trigger: Trigger::Api,
        revision_trigger: None,
    };
    let cpu = cpu_ms();
    let t = Instant::now();
    let report = sync_pack(store, packs, limits, "bench", options).expect("sync");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let cpu = cpu_ms() - cpu;
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    assert_eq!(
        report.registered_count as usize, WORKFLOWS,
        "every file registers"
    );
    (ms, cpu, report.unchanged_count, written_bytes() - written)
}

fn policy(on: bool) -> RevisionPolicy {
    if on {
        RevisionPolicy::default()
    } else {
        RevisionPolicy::OFF
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn sync_rounds(rounds: usize) {
    // [off, on] each: wall ms, CPU ms
    let mut cold = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    let mut changed = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for round in 0..rounds {
        // alternate which mode goes first
        for step in 0..2 {
            let on = (round + step) % 2 == 0;
            let tmp = tempfile::tempdir().expect("tmp");
            let packs = tmp.path().join("packs");
            let files = write_pack(&packs, 42);
            let store = new_store(&tmp.path().join("data"));
            let (c, c_cpu, _, c_bytes) = sync_measured(&store, &packs, policy(on));
            // settles the catalog fingerprints of workflows calling
            // workflows registered by the cold sync itself
            let (_, _, settled) = sync_ms(&store, &packs, policy(on));
            change_tenth(&packs, &files, 0);
            let (r, r_cpu, unchanged, r_bytes) = sync_measured(&store, &packs, policy(on));
            if round == 0 && step == 0 {
                println!(
                    "unchanged: {settled} after the warm re-sync, {unchanged} after the 10% change"
                );
            }
            if round < 2 {
                let mut w = WRITTEN.lock().expect("lock");
                w.push((on, "cold", c_bytes));
                w.push((on, "10% changed", r_bytes));
            }
            let i = usize::from(on);
            cold[i].0.push(c);
            cold[i].1.push(c_cpu);
            changed[i].0.push(r);
            changed[i].1.push(r_cpu);
            println!(
                "round {round} revisions {}: cold {c:.0} ms (cpu {c_cpu:.0}), 10% changed {r:.0} ms (cpu {r_cpu:.0})",
                if on { "on " } else { "off" }
            );
        }
    }
    let range = |v: &[f64]| {
        let lo = v.iter().cloned().fold(f64::MAX, f64::min);
        let hi = v.iter().cloned().fold(0.0, f64::max);
        format!("{lo:.0}–{hi:.0}")
    };
    for (on, what, bytes) in WRITTEN.lock().expect("lock").iter() {
        println!(
            "written by the {what} sync, revisions {}: {:.1} MiB",
            if *on { "on " } else { "off" },
            *bytes as f64 / (1024.0 * 1024.0)
        );
    }
    for (what, [off, on]) in [
        ("cold sync 1,000", &mut cold),
        ("10% changed re-sync", &mut changed),
    ] {
        let (w_off, w_on) = (median(&mut off.0), median(&mut on.0));
        let (c_off, c_on) = (median(&mut off.1), median(&mut on.1));
        println!(
            "{what}: off {w_off:.0} ms ({}), on {w_on:.0} ms ({}): {:.3}x; cpu off {c_off:.0} ms ({}), on {c_on:.0} ms ({}): {:.3}x",
            range(&off.0),
            range(&on.0),
            w_on / w_off,
            range(&off.1),
            range(&on.1),
            c_on / c_off
        );
    }
}

/// File size, bytes redb's tables hold and fragmented bytes of the
/// database file (closed).
fn db_stats(file: &Path) -> String {
    let size = std::fs::metadata(file).expect("db").len();
    let db = redb::Database::open(file).expect("open db");
    let txn = db.begin_write().expect("txn");
    let stats = txn.stats().expect("stats");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!(
        "db {:.1} MiB (stored {:.1} MiB, fragmented {:.1} MiB)",
        mib(size),
        mib(stats.stored_bytes() + stats.metadata_bytes()),
        mib(stats.fragmented_bytes())
    )
}

fn db_size(syncs: usize) {
    for on in [false, true] {
        let mode = if on { "on " } else { "off" };
        let tmp = tempfile::tempdir().expect("tmp");
        let packs = tmp.path().join("packs");
        let files = write_pack(&packs, 42);
        let data = tmp.path().join("data");
        let file = data.join(attune::store::DB_FILE_NAME);
        let store = new_store(&data);
        sync_ms(&store, &packs, policy(on));
        sync_ms(&store, &packs, policy(on));
        drop(store);
        println!(
            "after 1 cold + 1 warm sync, revisions {mode}: {}",
            db_stats(&file)
        );
        let store = Store::open(&data).expect("reopen store");
        for k in 0..syncs {
            change_tenth(&packs, &files, k);
            sync_ms(&store, &packs, policy(on));
        }
        let revisions = store.revision_count().expect("count");
        drop(store);
        println!(
            "after 1 cold + 1 warm + {syncs} syncs with 10% changed, revisions {mode}: {}, {revisions} revisions",
            db_stats(&file)
        );
    }
}

/// A workflow of about `lines` lines: a chain of echo tasks; `variant`
/// changes the message of every 10th task.
fn big_workflow(lines: usize, variant: u32) -> String {
    let tasks = lines / 7;
    let mut s = String::from("label: Big\nversion: \"1.0.0\"\ntasks:\n");
    for i in 0..tasks {
        let msg = if variant > 0 && i % 10 == 0 {
            format!("step {i} v{variant}")
        } else {
            format!("step {i}")
        };
        s.push_str(&format!(
            "  - name: t{i}\n    action: core.echo\n    input:\n      message: \"{msg}\"\n"
        ));
        if i + 1 < tasks {
            s.push_str(&format!(
                "    next:\n      - when: \"{{{{ succeeded() }}}}\"\n        do: [t{}]\n",
                i + 1
            ));
        }
    }
    s
}

async fn diff_latency(requests: usize) {
    let tmp = tempfile::tempdir().expect("tmp");
    let password = "bench-password-123";
    let config = attune::config::Config {
        data_dir: tmp.path().join("data"),
        packs_base_dir: tmp.path().join("packs"),
        admin_password: Some(attune::config::Secret::new(password)),
        ..attune::config::Config::default()
    };
    std::fs::create_dir_all(&config.packs_base_dir).expect("mkdir");
    let (state, _) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&config.data_dir).expect("open");
        attune::AppState::with_store(config, store)
    })
    .await
    .expect("init")
    .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(attune::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"login": "admin", "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["data"]["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let post = |path: &str, body: serde_json::Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let put = |path: &str, body: serde_json::Value| {
        client
            .put(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = post(
        "/api/v1/packs",
        serde_json::json!({"ref": "p", "label": "P", "version": "1.0.0"}),
    )
    .await
    .expect("pack");
    assert_eq!(r.status(), 201);
    let v1 = big_workflow(2000, 0);
    let v2 = big_workflow(2000, 1);
    println!(
        "diff workflow: {} lines, {} bytes",
        v1.lines().count(),
        v1.len()
    );
    let r = post(
        "/api/v1/workflows",
        serde_json::json!({"pack_ref": "p", "name": "big", "yaml": v1}),
    )
    .await
    .expect("create");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = put("/api/v1/workflows/p.big", serde_json::json!({"yaml": v2}))
        .await
        .expect("update");
    assert_eq!(r.status(), 200);
    let url = format!("{base}/api/v1/workflows/p.big/diff");
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for i in 0..requests + 20 {
        let t = Instant::now();
        let res = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("diff");
        assert_eq!(res.status(), 200);
        let body = res.bytes().await.expect("body");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= 20 {
            times.push(ms);
            bytes = body.len();
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "GET …/diff (2,000 lines, 10% of tasks changed, {bytes} B answer), {requests} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        times[times.len() - 1]
    );
}

fn main() {
    let rounds = arg("--rounds", 3);
    let syncs = arg("--syncs", 50);
    let requests = arg("--requests", 500);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    sync_rounds(rounds);
    db_size(syncs);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(diff_latency(requests));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.trim());
}
