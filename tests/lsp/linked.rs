//! The action-linked layout (upstream's `actions/x.yaml` with
//! `workflow_file:` and a graph-only file in `actions/workflows/`) in the
//! language server: the real binary over stdio, real files.

use crate::client::{Client, Fixture, file_uri};
use crate::{codes, find, pos, range};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const ACTION: &str = "ref: demo.ship
label: Ship it
description: Ship the release
runner_type: workflow
workflow_file: workflows/ship.workflow.yaml
parameters:
  env:
    type: string
    required: true
    description: Where to ship
output:
  url:
    type: strng
";

const GRAPH: &str = "version: \"1.0.0\"
tasks:
  - name: deploy
    action: demo.deploy
    input:
      host: \"{{ parameters.env }}\"
      region: \"{{ parameters.zone }}\"
    next:
      - do: [verfy]
  - name: verify
    action: core.echo
";

/// The demo pack of [`Fixture`] with the linked workflow `demo.ship`.
fn linked_fixture() -> (Fixture, String, String) {
    let fx = Fixture::new();
    let p = fx.pack();
    std::fs::create_dir_all(p.join("actions/workflows")).unwrap();
    let a = p.join("actions/ship.yaml");
    let g = p.join("actions/workflows/ship.workflow.yaml");
    std::fs::write(&a, ACTION).unwrap();
    std::fs::write(&g, GRAPH).unwrap();
    (fx, file_uri(&a), file_uri(&g))
}

/// The diagnostics published for `uri` at `version` once `done` holds
/// (earlier publications of the same version are skipped).
fn diags_until(
    c: &mut Client,
    uri: &str,
    version: i64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    loop {
        let ds = c.diagnostics(uri, version);
        if done(&ds) {
            return ds;
        }
    }
}

#[test]
fn a_linked_graph_file_is_checked_with_its_action_file() {
    let (fx, auri, guri) = linked_fixture();
    let mut c = Client::start(&fx.root());
    c.open(&guri, GRAPH, 1);
    let ds = c.diagnostics(&guri, 1);
    // The tasks' problems, in the graph file; `env` is known (declared by
    // the action file), `zone` is not; the action file's own problem
    // (`strng`) is not the graph file's.
    assert_eq!(codes(&ds), ["unknown-variable", "unknown-task"], "{ds:#?}");
    let v = find(&ds, "unknown-variable");
    let (l, s, _, e) = range(v);
    assert_eq!(l, 6);
    assert_eq!(
        &GRAPH.lines().nth(6).unwrap()[s as usize..e as usize],
        "zone"
    );
    assert_eq!(range(find(&ds, "unknown-task")), (8, 13, 8, 18));

    // The action file opened: the parameter problem lands on its URI.
    c.open(&auri, ACTION, 1);
    let ads = c.diagnostics(&auri, 1);
    assert_eq!(codes(&ads), ["invalid-schema"], "{ads:#?}");
    let (l, s, _, e) = range(&ads[0]);
    assert_eq!(l, 12);
    assert_eq!(
        &ACTION.lines().nth(12).unwrap()[s as usize..e as usize],
        "strng"
    );
    assert!(
        ads[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'string'?")
    );

    // Editing the action file (unsaved) to declare `zone` and fix the type
    // re-checks the graph file: the unknown variable is gone.
    let fixed = ACTION.replace("strng", "string").replace(
        "output:",
        "  zone:\n    type: string\n    default: eu\noutput:",
    );
    c.change(&auri, &fixed, 2);
    assert_eq!(c.diagnostics(&auri, 2), Vec::<Value>::new());
    let ds = diags_until(&mut c, &guri, 1, |ds| ds.len() == 1);
    assert_eq!(codes(&ds), ["unknown-task"], "{ds:#?}");

    // `parameters.` completes from the action file (the editor's text).
    let at = GRAPH.lines().nth(5).unwrap().find("env").unwrap() as u32;
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": guri}, "position": pos(5, at)}),
    );
    let labels: BTreeSet<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, BTreeSet::from(["env", "zone"]), "{r}");
    let env = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "env")
        .unwrap();
    assert_eq!(env["detail"], "string, required");

    // Top-level keys of a graph-only file: not those the action supplies.
    let with_key = format!("{GRAPH}\n");
    c.change(&guri, &with_key, 2);
    let _ = c.diagnostics(&guri, 2);
    let last = with_key.lines().count() as u32;
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": guri}, "position": pos(last, 0)}),
    );
    let keys: BTreeSet<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(keys.contains("output_map") && keys.contains("vars"), "{r}");
    assert!(
        !keys.contains("parameters") && !keys.contains("label"),
        "{r}"
    );
    c.change(&guri, GRAPH, 3);
    let _ = c.diagnostics(&guri, 3);

    // Go to definition of `parameters.env`: its key in the action file.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": guri}, "position": pos(5, at + 1)}),
    );
    assert_eq!(r["result"]["uri"], auri.as_str(), "{r}");
    assert_eq!(r["result"]["range"]["start"], pos(6, 2));
    assert_eq!(r["result"]["range"]["end"], pos(6, 5));
    // Hover: type, required, description.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": guri}, "position": pos(5, at + 1)}),
    );
    let h = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(h.contains("**env**: string, required"), "{r}");
    assert!(h.contains("Where to ship"), "{r}");

    // Closing the action file: the graph file is checked against the
    // disk's action again (no `zone` there).
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": auri}}),
    );
    let ds = diags_until(&mut c, &guri, 3, |ds| ds.len() == 2);
    assert_eq!(codes(&ds), ["unknown-variable", "unknown-task"], "{ds:#?}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_call_to_a_linked_workflow_resolves_and_its_parameters_are_known() {
    let (fx, _, _) = linked_fixture();
    let call = "version: \"1.0.0\"
label: Release
tasks:
  - name: ship
    action: demo.ship
    input:
      env: prod
";
    let (_, uri) = fx.workflow("release", call);
    let mut c = Client::start(&fx.root());
    let log = c.wait_for(|m| m["method"] == "window/logMessage");
    assert_eq!(
        log["params"]["message"],
        "attune lsp: 1 packs, 3 actions and workflows in the catalog, 1 action-linked"
    );
    c.open(&uri, call, 1);
    assert_eq!(c.diagnostics(&uri, 1), Vec::<Value>::new());
    // Without the required `env`: the linked workflow's parameters are
    // its action file's.
    let missing = call.replace("    input:\n      env: prod\n", "");
    c.change(&uri, &missing, 2);
    let ds = c.diagnostics(&uri, 2);
    assert_eq!(codes(&ds), ["missing-input"], "{ds:#?}");
    assert!(ds[0]["message"].as_str().unwrap().contains("'env'"));
    // Definition on the ref: the action file.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": pos(4, 14)}),
    );
    assert!(
        r["result"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/actions/ship.yaml"),
        "{r}"
    );
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_link_made_or_broken_in_the_editor_moves_the_checks() {
    let (fx, auri, guri) = linked_fixture();
    let mut c = Client::start(&fx.root());
    c.open(&guri, GRAPH, 1);
    assert_eq!(
        codes(&c.diagnostics(&guri, 1)),
        ["unknown-variable", "unknown-task"]
    );
    // The link now points nowhere: the action file gets the error
    // `attune validate` gives; the graph file, linked by no action, is
    // shadowed by the (broken) action-linked workflow of the same name, as
    // `attune validate` says too.
    let broken = ACTION.replace(
        "workflows/ship.workflow.yaml",
        "workflows/nope.workflow.yaml",
    );
    c.open(&auri, &broken, 1);
    let ads = diags_until(&mut c, &auri, 1, |ds| {
        ds.len() == 1 && ds[0]["code"] == "invalid-workflow-file"
    });
    assert_eq!(range(&ads[0]), (4, 15, 4, 43), "{ads:#?}");
    assert!(
        ads[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("workflow_file 'workflows/nope.workflow.yaml' does not exist (looked for actions/workflows/nope.workflow.yaml in the pack)"),
        "{ads:#?}"
    );
    let ds = diags_until(&mut c, &guri, 1, |ds| codes(ds) == ["shadowed-workflow"]);
    assert!(
        ds[0]["message"].as_str().unwrap().starts_with(
            "workflow 'ship' is also defined by the action-linked actions/ship.yaml (actions/workflows/nope.workflow.yaml), which wins"
        ),
        "{ds:#?}"
    );
    // Mended: the pair again.
    c.change(&auri, ACTION, 2);
    assert_eq!(codes(&c.diagnostics(&auri, 2)), ["invalid-schema"]);
    let ds = diags_until(&mut c, &guri, 1, |ds| ds.len() == 2);
    assert_eq!(codes(&ds), ["unknown-variable", "unknown-task"], "{ds:#?}");
    assert_eq!(c.finish(), 0);
}

/// (file relative to the pack, code, line, column, message) of a JSON
/// diagnostic list.
type Key = (String, String, u64, u64, String);

/// Every file of `tests/data` an editor can open (UTF-8) — the action-linked
/// cases (linked, standalone graph, broken links, shadowed files) and every
/// rule's data-driven case — opened in the editor, gets exactly the
/// diagnostics `attune validate` gives for that file: code, position and
/// message.
#[test]
fn every_file_of_tests_data_gets_what_attune_validate_gives() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files = Vec::new();
    for sub in ["actions", "actions/workflows", "workflows"] {
        for e in std::fs::read_dir(data.join(sub)).unwrap() {
            let e = e.unwrap();
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // What an editor can open: UTF-8 text.
            if (name.ends_with(".yaml") || name.ends_with(".yml"))
                && std::fs::read_to_string(e.path()).is_ok()
            {
                files.push(format!("{sub}/{name}"));
            }
        }
    }
    files.sort();
    let linked = files
        .iter()
        .filter(|f| f.starts_with("actions/workflows/"))
        .count();
    assert!(files.len() >= 100 && linked >= 5, "{files:?}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_attune"))
        .args(["validate", "--format", "json"])
        .arg(&data)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut expected: BTreeSet<Key> = BTreeSet::new();
    for d in v["diagnostics"].as_array().unwrap() {
        let Some(f) = d["file"].as_str().and_then(|f| f.strip_prefix("data/")) else {
            continue;
        };
        if files.iter().any(|x| x == f) {
            expected.insert((
                f.to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            ));
        }
    }

    let mut c = Client::start(&data);
    for f in &files {
        let text = std::fs::read_to_string(data.join(f)).unwrap();
        c.open(&file_uri(&data.join(f)), &text, 1);
    }
    let mut got: BTreeSet<Key> = BTreeSet::new();
    for f in &files {
        for d in c.diagnostics(&file_uri(&data.join(f)), 1) {
            let msg = d["message"].as_str().unwrap();
            got.insert((
                f.clone(),
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap() + 1,
                d["range"]["start"]["character"].as_u64().unwrap() + 1,
                msg.split('\n').next().unwrap().to_string(),
            ));
        }
    }
    assert!(expected.len() >= 100, "{}", expected.len());
    assert_eq!(got, expected);
    assert_eq!(c.finish(), 0);
}

#[test]
fn the_action_file_offers_its_fixes_and_follows_its_graph_on_disk() {
    let (fx, auri, _) = linked_fixture();
    let mut c = Client::start(&fx.root());
    let reg = c.wait_for(|m| m["method"] == "client/registerCapability");
    c.send(&json!({"jsonrpc": "2.0", "id": reg["id"].clone(), "result": null}));
    // Only the action file is open: the pair is checked with the disk's
    // graph file, and the action file gets its part.
    c.open(&auri, ACTION, 1);
    assert_eq!(codes(&c.diagnostics(&auri, 1)), ["invalid-schema"]);
    // Its quick fix (the core's proposal, an edit of the action file).
    let acts = crate::actions_at(&mut c, &auri, 12);
    let fix = acts
        .iter()
        .find(|a| a["title"] == "change to 'string'")
        .unwrap_or_else(|| panic!("{acts:#?}"));
    let fixed = crate::apply(ACTION, fix, &auri);
    assert!(fixed.contains("type: string\n") && !fixed.contains("strng"));
    c.change(&auri, &fixed, 2);
    assert_eq!(c.diagnostics(&auri, 2), Vec::<Value>::new());

    // The link points at a graph file not written yet: the error; once it
    // is created on disk, the action file is checked again and it is gone.
    let later = fixed.replace(
        "workflows/ship.workflow.yaml",
        "workflows/later.workflow.yaml",
    );
    c.change(&auri, &later, 3);
    let ds = c.diagnostics(&auri, 3);
    assert_eq!(codes(&ds), ["invalid-workflow-file"], "{ds:#?}");
    let g = fx.pack().join("actions/workflows/later.workflow.yaml");
    std::fs::write(&g, GRAPH).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&g), "type": 1}]}),
    );
    assert_eq!(c.diagnostics(&auri, 3), Vec::<Value>::new());
    // The graph file broken on disk: the pair stops at its YAML error
    // (the graph file's), so the action file's own problem is not
    // reported until the graph file reads again.
    c.change(
        &auri,
        &later.replace("type: string\n    required", "type: strng\n    required"),
        4,
    );
    assert_eq!(codes(&c.diagnostics(&auri, 4)), ["invalid-schema"]);
    std::fs::write(&g, "tasks: [\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&g), "type": 2}]}),
    );
    assert_eq!(c.diagnostics(&auri, 4), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn odd_links_never_crash_or_hang_the_server() {
    let fx = Fixture::new();
    let p = fx.pack();
    // An action that names itself as its graph, two that name each other,
    // one that names a folder, one that names a FIFO.
    let files = [
        (
            "actions/selfie.yaml",
            "workflow_file: selfie.yaml\nversion: x\ntasks: []\n",
        ),
        ("actions/ping.yaml", "workflow_file: pong.yaml\n"),
        ("actions/pong.yaml", "workflow_file: ping.yaml\n"),
        ("actions/dir.yaml", "workflow_file: .\n"),
        ("actions/fifo.yaml", "workflow_file: workflows/fifo.yaml\n"),
    ];
    std::fs::create_dir_all(p.join("actions/workflows")).unwrap();
    for (f, t) in files {
        std::fs::write(p.join(f), t).unwrap();
    }
    let st = std::process::Command::new("mkfifo")
        .arg(p.join("actions/workflows/fifo.yaml"))
        .status()
        .unwrap();
    assert!(st.success());
    let mut c = Client::start(&fx.root());
    for (f, t) in files {
        c.open(&file_uri(&p.join(f)), t, 1);
    }
    let mut fifo_ds = Vec::new();
    for (f, _) in files {
        // Each gets an answer (whatever it is), in bounded time.
        let ds = c.diagnostics(&file_uri(&p.join(f)), 1);
        if f == "actions/fifo.yaml" {
            fifo_ds = ds;
        }
    }
    // The graph file that cannot be read shows at `workflow_file`.
    assert_eq!(codes(&fifo_ds), ["file-unreadable"], "{fifo_ds:#?}");
    assert_eq!(range(&fifo_ds[0]).0, 0);
    assert!(
        fifo_ds[0]["message"].as_str().unwrap().starts_with(
            "cannot read the graph file actions/workflows/fifo.yaml: not a regular file"
        ),
        "{fifo_ds:#?}"
    );
    let fifo = file_uri(&p.join("actions/workflows/fifo.yaml"));
    c.open(&fifo, "version: x\n", 1);
    let _ = c.diagnostics(&fifo, 1);
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_pair_is_published_under_the_uris_the_editor_spelled() {
    let (fx, auri, guri) = linked_fixture();
    // The same files, spelled with percent-escapes the server must not
    // normalise away (`%68` is `h`): answers go to the editor's URIs.
    let (auri, guri) = (
        auri.replace("ship.yaml", "s%68ip.yaml"),
        guri.replace("ship.workflow", "s%68ip.workflow"),
    );
    let mut c = Client::start(&fx.root());
    c.open(&guri, GRAPH, 1);
    assert_eq!(
        codes(&c.diagnostics(&guri, 1)),
        ["unknown-variable", "unknown-task"]
    );
    c.open(&auri, ACTION, 1);
    assert_eq!(codes(&c.diagnostics(&auri, 1)), ["invalid-schema"]);
    let fixed = ACTION.replace("output:", "  zone: {type: string}\noutput:");
    c.change(&auri, &fixed, 2);
    assert_eq!(codes(&c.diagnostics(&auri, 2)), ["invalid-schema"]);
    let ds = diags_until(&mut c, &guri, 1, |ds| ds.len() == 1);
    assert_eq!(codes(&ds), ["unknown-task"], "{ds:#?}");
    assert_eq!(c.finish(), 0);
}
