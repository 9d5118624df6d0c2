//! `attune lsp` end to end: the real binary, spoken to over its stdio in
//! JSON-RPC, on a real pack folder in a temp dir.

mod client;
mod linked;

use client::{Client, Fixture, apply_edits, file_uri};
use serde_json::{Value, json};

const BROKEN: &str = "version: \"1.0.0\"
label: Release
parameters:
  region:
    type: string
tasks:
  - name: build
    action: demo.deploy
    input:
      host: \"{{ parameters.regoin }}\"
    next:
      - do: [verfy]
  - name: verify
    action: core.echo
";

pub(crate) fn codes(ds: &[Value]) -> Vec<&str> {
    ds.iter()
        .map(|d| d["code"].as_str().unwrap_or(""))
        .collect()
}

pub(crate) fn find<'a>(ds: &'a [Value], code: &str) -> &'a Value {
    ds.iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {ds:#?}"))
}

pub(crate) fn range(d: &Value) -> (u64, u64, u64, u64) {
    let r = &d["range"];
    (
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    )
}

pub(crate) fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

#[test]
fn a_broken_workflow_gets_ranged_diagnostics_and_a_fix_clears_them() {
    let fx = Fixture::new();
    let (_, uri) = fx.workflow("release", BROKEN);
    let mut c = Client::start(&fx.root());
    c.open(&uri, BROKEN, 1);
    let ds = c.diagnostics(&uri, 1);
    assert_eq!(codes(&ds), ["unknown-variable", "unknown-task"], "{ds:#?}");
    let t = find(&ds, "unknown-task");
    // `verfy` on line 12 (0-based 11), columns 13..18: the whole name.
    assert_eq!(range(t), (11, 13, 11, 18));
    assert_eq!(t["severity"], 1);
    assert_eq!(t["source"], "attune");
    assert_eq!(
        t["codeDescription"]["href"],
        "http://attune.test:8080/docs/rules#unknown-task"
    );
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'verify'?")
    );
    let v = find(&ds, "unknown-variable");
    assert_eq!(v["severity"], 2);
    let (l, s, l2, e) = range(v);
    assert_eq!((l, l2), (9, 9));
    let line = BROKEN.lines().nth(9).unwrap();
    assert_eq!(&line[s as usize..e as usize], "regoin");

    let fixed = BROKEN
        .replace("verfy", "verify")
        .replace("regoin", "region");
    c.change(&uri, &fixed, 2);
    assert_eq!(c.diagnostics(&uri, 2), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn edits_within_the_debounce_are_checked_once_for_the_last_text() {
    let fx = Fixture::new();
    let (_, uri) = fx.workflow("release", BROKEN);
    let mut c = Client::spawn();
    let r = c.request(
        "initialize",
        json!({"processId": null, "rootUri": file_uri(&fx.root()), "capabilities": {},
               "initializationOptions": {"debounceMs": 1500}}),
    );
    assert!(r.get("result").is_some(), "{r}");
    c.notify("initialized", json!({}));
    // Three versions in a burst (microseconds apart, well inside 1.5 s).
    c.open(&uri, BROKEN, 1);
    c.change(&uri, &BROKEN.replace("verfy", "verify"), 2);
    let fixed = BROKEN
        .replace("verfy", "verify")
        .replace("regoin", "region");
    c.change(&uri, &fixed, 3);
    assert_eq!(c.diagnostics(&uri, 3), Vec::<Value>::new());
    let earlier: Vec<&Value> = c
        .backlog
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(
        earlier.is_empty(),
        "versions 1 and 2 were checked: {earlier:#?}"
    );
}

#[test]
fn a_duplicate_task_points_at_the_first_definition() {
    let fx = Fixture::new();
    let text = "version: \"1.0.0\"\nlabel: D\ntasks:\n  - name: a\n    action: core.noop\n    next:\n      - do: [b]\n  - name: b\n    action: core.noop\n  - name: b\n    action: core.noop\n";
    let (_, uri) = fx.workflow("dup", text);
    let mut c = Client::start(&fx.root());
    c.open(&uri, text, 1);
    let ds = c.diagnostics(&uri, 1);
    let d = find(&ds, "duplicate-task");
    assert_eq!(range(d), (9, 10, 9, 11));
    let rel = &d["relatedInformation"][0];
    assert_eq!(rel["location"]["uri"], uri);
    assert_eq!(rel["location"]["range"]["start"], pos(7, 10));
    assert_eq!(rel["message"], "task 'b' is first defined here");
}

#[test]
fn suppressed_diagnostics_are_not_published() {
    let fx = Fixture::new();
    let text = "version: \"1.0.0\" # attune: ignore[missing-label]\ntasks:\n  - name: a\n    action: core.noop\n    colour: red # attune: ignore[unknown-key]\n";
    let (_, uri) = fx.workflow("quiet", text);
    let mut c = Client::start(&fx.root());
    c.open(&uri, text, 1);
    assert_eq!(c.diagnostics(&uri, 1), Vec::<Value>::new());
}

#[test]
fn completion_lists_tasks_in_do_actions_inputs_and_expression_members() {
    let fx = Fixture::new();
    let (_, uri) = fx.workflow("release", BROKEN);
    let mut c = Client::start(&fx.root());
    // Half-typed: `do: [` is not valid YAML yet.
    let typing = BROKEN.replace("      - do: [verfy]", "      - do: [");
    c.open(&uri, &typing, 1);
    let labels = |r: &Value| -> Vec<String> {
        r["result"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|i| i["label"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let at = |line: u32, ch: u32| json!({"textDocument": {"uri": uri}, "position": pos(line, ch)});
    let r = c.request("textDocument/completion", at(11, 14));
    assert_eq!(labels(&r), ["build", "verify"], "{r}");

    let r = c.request("textDocument/completion", at(7, 12));
    let l = labels(&r);
    assert!(
        l.contains(&"demo.deploy".to_string()) && l.contains(&"core.http_request".to_string()),
        "{l:?}"
    );
    let dep = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "demo.deploy")
        .unwrap();
    assert_eq!(dep["detail"], "Deploy the release");
    assert!(
        dep["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("| `host` | string | yes |")
    );

    // Inputs of the task's action (a new line under `input:`).
    let with_blank = BROKEN.replace(
        "      host: \"{{ parameters.regoin }}\"\n",
        "      host: x\n      \n",
    );
    c.change(&uri, &with_blank, 2);
    let r = c.request("textDocument/completion", at(10, 6));
    assert_eq!(labels(&r), ["host", "region"], "{r}");

    // Task keys at a task's key column, top-level keys at column 0.
    let r = c.request("textDocument/completion", at(14, 0));
    assert!(labels(&r).contains(&"parameters".to_string()), "{r}");

    // Inside {{ }}: parameters' members, and namespaces + functions.
    let expr = BROKEN.replace("{{ parameters.regoin }}", "{{ parameters. }}");
    c.change(&uri, &expr, 3);
    let col = BROKEN.lines().nth(9).unwrap().find("regoin").unwrap() as u32;
    let r = c.request("textDocument/completion", at(9, col));
    assert_eq!(labels(&r), ["region"], "{r}");
    let r = c.request("textDocument/completion", at(9, col - 11));
    let l = labels(&r);
    assert!(
        l.contains(&"parameters".to_string()) && l.contains(&"length".to_string()),
        "{l:?}"
    );
    let len = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "length")
        .unwrap();
    assert_eq!(len["detail"], "length(value)");
}

#[test]
fn navigation_definition_hover_references_symbols_and_rename() {
    let fx = Fixture::new();
    let fixed = BROKEN
        .replace("verfy", "verify")
        .replace("regoin", "region");
    let (_, uri) = fx.workflow("release", &fixed);
    let mut c = Client::start(&fx.root());
    c.open(&uri, &fixed, 1);
    let at = |line: u32, ch: u32| json!({"textDocument": {"uri": uri}, "position": pos(line, ch)});

    // Definition on the action ref: the action file.
    let r = c.request("textDocument/definition", at(7, 14));
    assert_eq!(
        r["result"]["uri"],
        file_uri(&fx.pack().join("actions/deploy.yaml")),
        "{r}"
    );
    // On a task name in do: the task.
    let r = c.request("textDocument/definition", at(11, 15));
    assert_eq!(r["result"]["uri"], uri);
    assert_eq!(r["result"]["range"]["start"], pos(12, 10));
    // On parameters.region: its declaration.
    let col = fixed.lines().nth(9).unwrap().find("region").unwrap() as u32;
    let r = c.request("textDocument/definition", at(9, col + 1));
    assert_eq!(r["result"]["range"]["start"], pos(3, 2), "{r}");

    // Hover on the action ref: parameters with required and default.
    let r = c.request("textDocument/hover", at(7, 14));
    let h = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(h.contains("**demo.deploy** (action)"), "{h}");
    assert!(
        h.contains("| `host` | string | yes |  | Where to deploy |"),
        "{h}"
    );
    assert!(h.contains("| `region` | string | no | `\"eu\"` |"), "{h}");

    // References of `verify`: its definition and the do: entry.
    let mut p = at(12, 11);
    p["context"] = json!({"includeDeclaration": true});
    let r = c.request("textDocument/references", p);
    let lines: Vec<u64> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [11, 12]);

    // Document symbols: the tasks.
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build", "verify"]);

    // Rename verify → check, everywhere; the result re-checks clean.
    let r = c.request("textDocument/prepareRename", at(11, 15));
    assert_eq!(r["result"]["start"], pos(11, 13));
    let mut p = at(11, 15);
    p["newName"] = json!("check");
    let r = c.request("textDocument/rename", p);
    let edits = r["result"]["changes"][&uri].as_array().unwrap().clone();
    assert_eq!(edits.len(), 2);
    let renamed = apply_edits(&fixed, &edits);
    assert!(
        renamed.contains("do: [check]") && renamed.contains("- name: check"),
        "{renamed}"
    );
    c.change(&uri, &renamed, 2);
    assert_eq!(c.diagnostics(&uri, 2), Vec::<Value>::new());
    let mut p = at(11, 15);
    p["newName"] = json!("not valid!");
    let r = c.request("textDocument/rename", p);
    assert_eq!(r["error"]["code"], -32602, "{r}");
}

pub(crate) fn actions_at(c: &mut Client, uri: &str, line: u32) -> Vec<Value> {
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos(line, 0), "end": pos(line, 0)}, "context": {"diagnostics": []}}),
    );
    r["result"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn apply(text: &str, action: &Value, uri: &str) -> String {
    apply_edits(text, action["edit"]["changes"][uri].as_array().unwrap())
}

#[test]
fn code_actions_are_those_of_the_diagnostics_at_the_cursor() {
    // Seen in VS Code: Ctrl+. on `verfy` also offered the fix of another
    // line's diagnostic. Each line gets only its own fixes.
    let fx = Fixture::new();
    let (_, uri) = fx.workflow("release", BROKEN);
    let mut c = Client::start(&fx.root());
    c.open(&uri, BROKEN, 1);
    assert_eq!(
        codes(&c.diagnostics(&uri, 1)),
        ["unknown-variable", "unknown-task"]
    );
    let titles = |acts: Vec<Value>| -> Vec<String> {
        acts.iter()
            .filter_map(|a| a["title"].as_str().map(str::to_string))
            .collect()
    };
    let on_task = titles(actions_at(&mut c, &uri, 11));
    assert!(
        on_task.iter().any(|t| t == "change to 'verify'"),
        "{on_task:?}"
    );
    assert!(!on_task.iter().any(|t| t.contains("region")), "{on_task:?}");
    let on_expr = titles(actions_at(&mut c, &uri, 9));
    assert!(
        on_expr.iter().any(|t| t == "change to 'region'"),
        "{on_expr:?}"
    );
    assert!(!on_expr.iter().any(|t| t.contains("verify")), "{on_expr:?}");
    // A line without a diagnostic gets no quick fix.
    let elsewhere = actions_at(&mut c, &uri, 1);
    assert!(
        !elsewhere.iter().any(|a| a["kind"] == "quickfix"),
        "{elsewhere:#?}"
    );
}

#[test]
fn code_actions_apply_and_recheck_clean() {
    let fx = Fixture::new();
    let text = BROKEN.replace("{{ parameters.regoin }}", "{{ parameters.region }}");
    let (_, uri) = fx.workflow("release", &text);
    let mut c = Client::start(&fx.root());
    c.open(&uri, &text, 1);
    assert_eq!(codes(&c.diagnostics(&uri, 1)), ["unknown-task"]);
    let acts = actions_at(&mut c, &uri, 11);
    let fix = acts
        .iter()
        .find(|a| a["title"] == "change to 'verify'")
        .expect("did-you-mean");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "unknown-task");
    assert!(
        acts.iter()
            .any(|a| a["title"] == "ignore unknown-task on this line")
    );
    let fixed = apply(&text, fix, &uri);
    c.change(&uri, &fixed, 2);
    assert_eq!(c.diagnostics(&uri, 2), Vec::<Value>::new());

    // Did-you-mean inside an expression and on an action ref.
    let typos = BROKEN
        .replace("verfy", "verify")
        .replace("action: core.echo", "action: demo.deplyo");
    c.change(&uri, &typos, 10);
    assert_eq!(
        codes(&c.diagnostics(&uri, 10)),
        ["unknown-variable", "undefined-action"]
    );
    let mut t = typos.clone();
    for (line, title) in [
        (9u32, "change to 'region'"),
        (13, "change to 'demo.deploy'"),
    ] {
        let acts = actions_at(&mut c, &uri, line);
        let a = acts
            .iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no {title}: {acts:#?}"));
        t = apply(&t, a, &uri);
        c.change(&uri, &t, 11 + line as i64);
        let _ = c.diagnostics(&uri, 11 + line as i64);
    }
    assert!(
        t.contains("{{ parameters.region }}") && t.contains("action: demo.deploy\n"),
        "{t}"
    );
    c.change(&uri, &t, 40);
    assert_eq!(codes(&c.diagnostics(&uri, 40)), ["missing-input"]);

    // The ignore comment silences it instead.
    let ign = acts
        .iter()
        .find(|a| a["title"] == "ignore unknown-task on this line")
        .unwrap();
    let ignored = apply(&text, ign, &uri);
    assert!(
        ignored.contains("do: [verfy] # attune: ignore[unknown-task]"),
        "{ignored}"
    );
    c.change(&uri, &ignored, 50);
    assert_eq!(c.diagnostics(&uri, 50), Vec::<Value>::new());
}

#[test]
fn code_actions_add_inputs_and_label_and_rewrite_legacy_forms() {
    let fx = Fixture::new();
    let text = "version: \"1.0.0\"\nvars:\n  - attempts: 3\n  - greeting: \"hi {{ parameters.x }}\"\nparameters:\n  x: {type: string}\ntasks:\n  - name: build\n    action: demo.deploy\n    on_success: verify\n  - name: verify\n    action: core.echo\n    input:\n      message: \"{{ vars.attempts }}\"\n";
    let (_, uri) = fx.workflow("legacy_flow", text);
    let mut c = Client::start(&fx.root());
    c.open(&uri, text, 1);
    let ds = c.diagnostics(&uri, 1);
    assert_eq!(
        codes(&ds),
        ["missing-label", "non-canonical-form", "missing-input"],
        "{ds:#?}"
    );

    let mut t = text.to_string();
    let mut v = 1;
    for (line, title) in [
        (0u32, "add label \"Legacy flow\""),
        // The list's first item, one line down once the label is in.
        (3, "write vars as a mapping"),
    ] {
        let acts = actions_at(&mut c, &uri, line);
        let a = acts
            .iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no '{title}' in {acts:#?}"));
        t = apply(&t, a, &uri);
        v += 1;
        c.change(&uri, &t, v);
        let _ = c.diagnostics(&uri, v);
    }
    assert!(t.starts_with("label: \"Legacy flow\"\nversion"), "{t}");
    assert!(
        t.contains("vars:\n  attempts: 3\n  greeting: \"hi {{ parameters.x }}\"\nparameters"),
        "{t}"
    );
    // missing-input is on the task's first line.
    let line = t.lines().position(|l| l.contains("- name: build")).unwrap() as u32;
    let acts = actions_at(&mut c, &uri, line);
    let a = acts
        .iter()
        .find(|a| a["title"] == "add the missing inputs: host")
        .unwrap_or_else(|| panic!("{acts:#?}"));
    t = apply(&t, a, &uri);
    assert!(
        t.contains("    action: demo.deploy\n    input:\n      host: \"TODO\"\n"),
        "{t}"
    );
    v += 1;
    c.change(&uri, &t, v);
    assert_eq!(codes(&c.diagnostics(&uri, v)), Vec::<&str>::new(), "{t}");
    // The legacy transition, rewritten where the cursor is.
    let line = t.lines().position(|l| l.contains("on_success")).unwrap() as u32;
    let acts = actions_at(&mut c, &uri, line);
    let a = acts
        .iter()
        .find(|a| a["title"] == "convert the legacy transitions to next")
        .unwrap_or_else(|| panic!("{acts:#?}"));
    t = apply(&t, a, &uri);
    assert!(
        t.contains("    next:\n      - when: \"{{ succeeded() }}\"\n        do: [verify]\n"),
        "{t}"
    );
    v += 1;
    c.change(&uri, &t, v);
    assert_eq!(c.diagnostics(&uri, v), Vec::<Value>::new(), "{t}");
}

#[test]
fn an_action_changed_on_disk_or_in_the_editor_rechecks_its_users() {
    let fx = Fixture::new();
    let text = "version: \"1.0.0\"\nlabel: R\ntasks:\n  - name: ship\n    action: demo.deploy\n    input:\n      host: h\n";
    let (_, uri) = fx.workflow("ship", text);
    let mut c = Client::start(&fx.root());
    // The server asks to watch YAML files.
    let reg = c.wait_for(|m| m["method"] == "client/registerCapability");
    assert_eq!(
        reg["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );
    let id = reg["id"].clone();
    c.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
    c.open(&uri, text, 1);
    assert_eq!(c.diagnostics(&uri, 1), Vec::<Value>::new());

    // On disk: deploy now requires `token` too.
    let action = fx.pack().join("actions/deploy.yaml");
    std::fs::write(&action, "name: deploy\nparameters:\n  host: {type: string, required: true}\n  token: {type: string, required: true}\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&action), "type": 2}]}),
    );
    let ds = c.diagnostics(&uri, 1);
    assert_eq!(codes(&ds), ["missing-input"], "{ds:#?}");
    assert!(ds[0]["message"].as_str().unwrap().contains("'token'"));

    // In the editor (unsaved): the editor's text wins over the disk's.
    let auri = file_uri(&action);
    c.open(
        &auri,
        "name: deploy\nparameters:\n  host: {type: string, required: true}\n",
        1,
    );
    assert_eq!(c.diagnostics(&uri, 1), Vec::<Value>::new());
    // Deleted: the action is gone once the editor closes it.
    std::fs::remove_file(&action).unwrap();
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": auri}}),
    );
    let ds = c.diagnostics(&uri, 1);
    assert_eq!(codes(&ds), ["undefined-action"], "{ds:#?}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn hostile_input_gets_errors_never_a_crash_or_a_hang() {
    let fx = Fixture::new();
    let mut c = Client::spawn();
    // Before initialize: a request is refused.
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002, "{r}");
    let r = c.request("initialize", json!({"processId": null, "rootUri": file_uri(&fx.root()), "capabilities": {}, "initializationOptions": {"debounceMs": 0}}));
    assert!(
        r["result"]["capabilities"]["completionProvider"].is_object(),
        "{r}"
    );
    c.notify("initialized", json!({}));

    // Not JSON, not an object, no Content-Length, a bad id: each answered.
    c.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    let e = c.wait_for(|m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    c.send_raw(b"Content-Length: 5\r\n\r\n[1,2]");
    c.wait_for(|m| m["error"]["code"] == -32600 && m["id"].is_null());
    c.send_raw(b"Garbage-Header\r\n\r\n");
    c.wait_for(|m| m["error"]["code"] == -32700);
    c.send(&json!({"jsonrpc": "2.0", "id": 77, "method": 5}));
    c.wait_for(|m| m["id"] == 77 && m["error"]["code"] == -32600);
    // Unknown method: method not found; unknown notification: ignored.
    let r = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": "file:///x.yaml"}}),
    );
    assert_eq!(r["error"]["code"], -32601, "{r}");
    c.notify("$/unknownNotification", json!({"x": 1}));
    // Wrong params: invalid params.
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": "file:///a/workflows/x.yaml"}, "position": "here"}),
    );
    assert!(r["error"]["code"] == -32602 || r["result"].is_null(), "{r}");

    // A 10 MB document: one file-too-large diagnostic, features answer.
    let (_, big_uri) = fx.workflow("big", "version: x\n");
    let big = format!(
        "version: \"1.0.0\"\ntasks:\n{}",
        "  - name: t\n    action: core.noop\n".repeat(300_000)
    );
    assert!(big.len() > 10_000_000);
    c.open(&big_uri, &big, 1);
    let ds = c.diagnostics(&big_uri, 1);
    assert_eq!(codes(&ds), ["file-too-large"]);
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": big_uri}, "position": pos(5, 4)}),
    );
    assert!(r.get("result").is_some(), "{r}");

    // A binary file's bytes (as an editor would send them, lossily): a diagnostic.
    let (_, bin_uri) = fx.workflow("bin", "x");
    let bin: String = (0u8..=255).cycle().take(4096).map(|b| b as char).collect();
    c.open(&bin_uri, &bin, 1);
    let ds = c.diagnostics(&bin_uri, 1);
    assert!(!ds.is_empty(), "a binary document must get a diagnostic");
    for m in [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/documentSymbol",
    ] {
        let r = c.request(
            m,
            json!({"textDocument": {"uri": bin_uri}, "position": pos(3, 7)}),
        );
        assert!(r.get("result").is_some(), "{m}: {r}");
    }
    // Positions past the end are clamped.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": bin_uri}, "position": pos(99999, 99999)}),
    );
    assert!(r.get("result").is_some(), "{r}");

    // A frame announcing more than the limit is dropped, the stream goes on.
    let n = 70 * 1024 * 1024;
    let mut frame = format!("Content-Length: {n}\r\n\r\n").into_bytes();
    frame.extend(std::iter::repeat_n(b' ', n));
    c.send_raw(&frame);
    c.wait_for(|m| {
        m["error"]["code"] == -32600
            && m["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("larger than the limit")
    });

    // Still alive: shutdown, then other requests are refused, exit is 0.
    let r = c.request("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null);
    let r = c.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32600);
    c.notify("exit", Value::Null);
    let end = std::time::Instant::now() + client::DEADLINE;
    loop {
        if let Some(st) = c.child.try_wait().unwrap() {
            assert_eq!(st.code(), Some(0));
            break;
        }
        assert!(std::time::Instant::now() < end, "no exit");
        c.backlog.clear();
        let _ = c.wait_for_or_timeout();
    }
}

#[test]
fn did_you_mean_fixes_keys_functions_and_namespaces() {
    let fx = Fixture::new();
    let text = "version: \"1.0.0\"\nlabel: K\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{{ lenght(paramters.x) }}\"\n    on_sucess: b\n  - name: b\n    action: core.noop\n";
    let (_, uri) = fx.workflow("keys", text);
    let mut c = Client::start(&fx.root());
    c.open(&uri, text, 1);
    let ds = c.diagnostics(&uri, 1);
    let want = ["unknown-function", "unknown-variable", "unknown-key"];
    for w in want {
        assert!(codes(&ds).contains(&w), "{w} missing: {ds:#?}");
    }
    let mut t = text.to_string();
    let mut v = 1;
    for (line, title) in [
        (6u32, "change to 'length'"),
        (6, "change to 'parameters'"),
        (7, "change to 'on_success'"),
    ] {
        let acts = actions_at(&mut c, &uri, line);
        let a = acts
            .iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no {title}: {acts:#?}"));
        t = apply(&t, a, &uri);
        v += 1;
        c.change(&uri, &t, v);
        let _ = c.diagnostics(&uri, v);
    }
    assert!(
        t.contains("{{ length(parameters.x) }}") && t.contains("on_success: b"),
        "{t}"
    );
    v += 1;
    c.change(&uri, &t, v);
    let ds = c.diagnostics(&uri, v);
    // parameters.x is still not declared: that is the only one left.
    assert_eq!(codes(&ds), ["unknown-variable"], "{ds:#?}");
}
