//! Benchmark of the language server over a real pipe, as an editor sees it
//! (docs/PERFORMANCE.md, "Language server"):
//!
//! 1. didChange → publishDiagnostics on a 2,000-line workflow in a pack of
//!    200 actions and 100 workflows, 500 edits, debounce 0 (so the figure
//!    excludes the debounce); p50 / p99 / max.
//!    The same on that workflow as an action-linked graph-only file
//!    (`actions/workflows/big_linked.workflow.yaml`, its action file
//!    `actions/big_linked.yaml` read from disk for each check).
//! 2. completion in `do: [` on that document, 500 requests; p50 / p99.
//! 3. the server's RSS with the 1,000-workflow generated pack as its
//!    workspace, one workflow open and checked.
//!
//! The server is `attune lsp` when `ATTUNE_BIN` names the binary, else this
//! example itself in server mode (`lsp_bench serve`: the same
//! `attune_lsp::run` on stdin/stdout, with the system allocator).
//!
//!     cargo run --release -p attune-lsp --example lsp_bench
//!     ATTUNE_BIN=target/release/attune cargo run --release -p attune-lsp --example lsp_bench

use attune_workflow::generator;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    id: i64,
}

fn spawn() -> Server {
    let mut cmd = match std::env::var("ATTUNE_BIN") {
        Ok(b) => {
            let mut c = Command::new(b);
            c.arg("lsp");
            c
        }
        Err(_) => {
            let mut c = Command::new(std::env::current_exe().expect("current exe"));
            c.arg("serve");
            c
        }
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let out = child.stdout.take().expect("stdout");
    let stdin = child.stdin.take().expect("stdin");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        loop {
            let mut len = 0usize;
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                let l = l.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some(v) = l.strip_prefix("Content-Length: ") {
                    len = v.parse().unwrap_or(0);
                }
            }
            let mut buf = vec![0; len];
            if r.read_exact(&mut buf).is_err() {
                return;
            }
            if let Ok(v) = serde_json::from_slice(&buf)
                && tx.send(v).is_err()
            {
                return;
            }
        }
    });
    Server {
        child,
        stdin,
        rx,
        id: 0,
    }
}

impl Server {
    fn send(&mut self, v: Value) {
        let b = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{b}", b.len()).expect("write");
        self.stdin.flush().expect("flush");
    }
    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self
                .rx
                .recv_timeout(Duration::from_secs(60))
                .expect("server answer within 60 s");
            if pred(&m) {
                return m;
            }
        }
    }
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }
    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }
    fn init(&mut self, root: &Path) {
        self.request(
            "initialize",
            json!({"processId": null, "rootUri": format!("file://{}", root.display()),
                   "capabilities": {}, "initializationOptions": {"debounceMs": 0}}),
        );
        self.notify("initialized", json!({}));
    }
    fn diagnostics(&mut self, uri: &str, version: i64) -> usize {
        let m = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        m["params"]["diagnostics"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    }
    fn rss_kib(&self) -> (u64, u64) {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let get = |k: &str| {
            s.lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (get("VmRSS:"), get("VmHWM:"))
    }
}

fn big_workflow(tasks: usize) -> String {
    let mut s = String::from(
        "version: \"1.0.0\"\nlabel: Big\nparameters:\n  environment: {type: string, default: dev}\n  hosts: {type: array, required: true}\nvars:\n  attempts: 0\ntasks:\n",
    );
    for i in 0..tasks {
        let prev = if i == 0 { 0 } else { i - 1 };
        let _ = write!(
            s,
            "  - name: step_{i}\n    action: bench.act_{:03}\n    input:\n      target: \"{{{{ parameters.environment }}}}-{i}\"\n      timeout: 30\n      message: \"after {{{{ task.step_{prev}.result }}}}\"\n",
            i % 180
        );
        if i + 1 < tasks {
            let _ = write!(
                s,
                "    next:\n      - when: \"{{{{ succeeded() }}}}\"\n        do: [step_{}]\n",
                i + 1
            );
        } else {
            s.push_str("    timeout: 60\n    retry: {count: 1}\n    with_items: []\n");
        }
    }
    s
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn write_pack(dir: &Path, workflows: &[(String, String)], extra_actions: usize) {
    std::fs::create_dir_all(dir.join("actions")).expect("mkdir");
    std::fs::create_dir_all(dir.join("workflows")).expect("mkdir");
    for (f, t) in generator::action_files("bench") {
        std::fs::write(dir.join("actions").join(f), t).expect("write");
    }
    for i in 0..extra_actions {
        std::fs::write(
            dir.join("actions").join(format!("act_{i:03}.yaml")),
            format!("ref: bench.act_{i:03}\ndescription: \"Action {i}\"\nparameters:\n  target: {{type: string, required: true}}\n  timeout: {{type: integer, default: 60}}\n  message: {{type: string}}\n"),
        )
        .expect("write");
    }
    for (n, t) in workflows {
        std::fs::write(dir.join("workflows").join(format!("{n}.yaml")), t).expect("write");
    }
}

/// The same work inside this process, without the pipe: core check, node
/// extents (analysis), the JSON decode of one didChange; medians of 200.
fn in_process(pack: &Path, text: &str) {
    use attune_lsp::{analysis::Analysis, diag, disk, workspace::Workspace};
    let mut ws = Workspace::new(&[pack.to_path_buf()], 1 << 20);
    let ctx = diag::DocContext {
        pack_ref: "bench".into(),
        name: "big".into(),
    };
    let median = |f: &mut dyn FnMut()| {
        let mut v: Vec<f64> = (0..200)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        pct(&mut v, 0.5)
    };
    let ds = diag::check(text, &ctx, ws.catalog.as_ref(), 1 << 20);
    let mut codes: Vec<&str> = ds.iter().map(|d| d.code.as_str()).collect();
    codes.dedup();
    let check = median(&mut || {
        let _ = diag::check(text, &ctx, ws.catalog.as_ref(), 1 << 20);
    });
    let analysis = median(&mut || {
        let _ = Analysis::for_diagnostics(text, false);
    });
    let full = median(&mut || {
        let _ = Analysis::new(text);
    });
    let msg = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///x/workflows/big.yaml", "version": 2}, "contentChanges": [{"text": text}]}}).to_string();
    let decode = median(&mut || {
        let v: Value = serde_json::from_str(&msg).unwrap_or_default();
        let m: Result<lsp_server::Message, _> = serde_json::from_value(v);
        if let Ok(lsp_server::Message::Notification(n)) = m {
            let _: Result<lsp_types::DidChangeTextDocumentParams, _> =
                serde_json::from_value(n.params);
        }
    });
    // What the server adds per edit for the action-linked layout: how the
    // file is checked (twice per edit: on the edit, when due), and for a
    // graph file the read of its action file from disk.
    let (big, graph) = (
        pack.join("workflows/big.yaml"),
        pack.join("actions/workflows/big_linked.workflow.yaml"),
    );
    let unit_standalone = median(&mut || {
        let _ = ws.unit_of(&big);
    });
    let unit_graph = median(&mut || {
        let _ = ws.unit_of(&graph);
    });
    let action_read = median(&mut || {
        let _ = disk::read_text(&pack.join("actions/big_linked.yaml"), 1 << 20);
    });
    println!(
        "in process, medians of 200: unit_of a workflow file {:.1} µs, of a graph file {:.1} µs, read of its action file {:.1} µs",
        unit_standalone * 1000.0,
        unit_graph * 1000.0,
        action_read * 1000.0
    );
    println!(
        "in process, medians of 200: core check {check:.2} ms, node extents (only when there are diagnostics) {analysis:.2} ms, full analysis (requests; cached per version) {full:.2} ms, didChange JSON decode {decode:.2} ms; {} diagnostics on the unedited text {codes:?}",
        ds.len()
    );
}

/// 500 full-text edits of `uri`, every other one breaking a transition;
/// time from writing each didChange to reading its publishDiagnostics.
fn edits(s: &mut Server, uri: &str, text: &str, first: usize, what: &str) {
    let mut times = Vec::with_capacity(500);
    let (mut broken, mut clean) = (Vec::new(), Vec::new());
    let mut errs = 0;
    for v in 0..500i64 {
        let k = (v as usize * 37) % 199;
        let good = format!("do: [step_{}]\n", k + 1);
        let bad = format!("do: [step_{}x]\n", k + 1);
        let edited = if v % 2 == 0 {
            text.replacen(&good, &bad, 1)
        } else {
            text.to_string()
        };
        let version = v + 2;
        let t0 = Instant::now();
        s.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": edited}]}),
        );
        errs += s.diagnostics(uri, version);
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        if v % 2 == 0 {
            broken.push(ms);
        } else {
            clean.push(ms);
        }
    }
    let (p50, p99, max) = (
        pct(&mut times, 0.5),
        pct(&mut times, 0.99),
        pct(&mut times, 1.0),
    );
    println!(
        "didChange→publishDiagnostics: {what}, 500 edits: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (first check {first} diagnostics; {errs} over the edits)"
    );
    println!(
        "  edits that break a transition (1 diagnostic): p50 {:.2} ms, p99 {:.2} ms; edits that fix it (none): p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut broken, 0.5),
        pct(&mut broken, 0.99),
        pct(&mut clean, 0.5),
        pct(&mut clean, 0.99)
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        let code = attune_lsp::run(
            std::io::stdin(),
            std::io::stdout(),
            attune_lsp::Options::default(),
        )
        .unwrap_or(1);
        std::process::exit(code);
    }
    let tmp = tempfile::tempdir().expect("tempdir");

    // 1 + 2: 200 actions, 100 workflows, one of 2,000 lines.
    let pack = tmp.path().join("bench");
    // 20 generated actions + act_000..act_179 = 200.
    write_pack(&pack, &generator::pack_named("bench", 100, 7, 0), 180);
    // The action file of the action-linked copy of the big workflow.
    std::fs::write(
        pack.join("actions/big_linked.yaml"),
        "ref: bench.big_linked\nlabel: Big, linked\nworkflow_file: workflows/big_linked.workflow.yaml\nparameters:\n  environment: {type: string, default: dev}\n  hosts: {type: array, required: true}\n",
    )
    .expect("write");
    let n_actions = std::fs::read_dir(pack.join("actions"))
        .map(|d| d.count())
        .unwrap_or(0);
    let text = big_workflow(221);
    let lines = text.lines().count();
    let path = pack.join("workflows/big.yaml");
    std::fs::write(&path, &text).expect("write");
    let uri = format!("file://{}", path.display());
    let mut s = spawn();
    s.init(&pack);
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let first = s.diagnostics(&uri, 1);
    edits(
        &mut s,
        &uri,
        &text,
        first,
        &format!("{lines}-line workflow, {n_actions} actions, 101 workflows"),
    );

    // The same text as an action-linked graph-only file.
    let graph: String = text
        .replacen("label: Big\n", "", 1)
        .replacen(
            "parameters:\n  environment: {type: string, default: dev}\n  hosts: {type: array, required: true}\n",
            "",
            1,
        );
    std::fs::create_dir_all(pack.join("actions/workflows")).expect("mkdir");
    let gpath = pack.join("actions/workflows/big_linked.workflow.yaml");
    std::fs::write(&gpath, &graph).expect("write");
    let guri = format!("file://{}", gpath.display());
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": guri, "languageId": "yaml", "version": 1, "text": graph}}),
    );
    let first = s.diagnostics(&guri, 1);
    in_process(&pack, &text);
    edits(
        &mut s,
        &guri,
        &graph,
        first,
        &format!(
            "{}-line graph-only file of an action-linked workflow",
            graph.lines().count()
        ),
    );

    // Completion inside `do: [` of task 100.
    let typing = text.replacen("do: [step_101]", "do: [", 1);
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 1000}, "contentChanges": [{"text": typing}]}),
    );
    s.diagnostics(&uri, 1000);
    let line = typing
        .lines()
        .position(|l| l.trim() == "do: [")
        .unwrap_or(0);
    let col = typing.lines().nth(line).map(str::len).unwrap_or(0);
    let mut ctimes = Vec::with_capacity(500);
    let mut items = 0;
    for _ in 0..500 {
        let t0 = Instant::now();
        let r = s.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}),
        );
        ctimes.push(t0.elapsed().as_secs_f64() * 1000.0);
        items = r["result"].as_array().map(Vec::len).unwrap_or(0);
    }
    let (c50, c99) = (pct(&mut ctimes, 0.5), pct(&mut ctimes, 0.99));
    println!(
        "completion in do: [ ({items} task names): 500 requests: p50 {c50:.2} ms, p99 {c99:.2} ms"
    );
    let (rss, hwm) = s.rss_kib();
    println!(
        "RSS after the edits (201 actions, 101 workflows, 1 action-linked): {:.1} MiB (peak {:.1} MiB)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    let _ = s.child.kill();
    let _ = s.child.wait();

    // 3: RSS with the 1,000-workflow generated pack.
    let big = tmp.path().join("gen/bench");
    let wfs = generator::pack_named("bench", 1000, 42, 5);
    write_pack(&big, &wfs, 0);
    let mut s = spawn();
    s.init(&big);
    let p = big.join("workflows/wf_0500.yaml");
    let u = format!("file://{}", p.display());
    let t = std::fs::read_to_string(&p).unwrap_or_default();
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": u, "languageId": "yaml", "version": 1, "text": t}}),
    );
    s.diagnostics(&u, 1);
    let (rss, hwm) = s.rss_kib();
    println!(
        "RSS, 1,000-workflow generated pack as workspace, one workflow open: {:.1} MiB (peak {:.1} MiB)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
    );
    let _ = s.child.kill();
    let _ = s.child.wait();
}
