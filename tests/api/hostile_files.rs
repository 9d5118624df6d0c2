//! A pack holding a FIFO, a symlink to /etc/passwd, a 5 MiB file, a YAML
//! bomb, non-UTF-8 bytes, a directory named like a workflow and good files:
//! the good ones are registered, each bad one is reported with its code,
//! the requests are answered (a FIFO never blocks them), the server stays
//! healthy and no byte of /etc/passwd reaches a response.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::good_workflow;
use crate::helpers::{Reply, TestApp, spawn_app};

fn yaml_bomb() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        s.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    s.push_str("version: \"1.0.0\"\ntasks:\n  - name: t\n    action: core.noop\n");
    s
}

fn hostile_pack(app: &TestApp) {
    let wf = app.pack_dir("hostile").join("workflows");
    app.write_workflow("hostile", "good_one.yaml", &good_workflow("One"));
    app.write_workflow("hostile", "good_two.yml", &good_workflow("Two"));
    let fifo = wf.join("fifo.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");
    std::os::unix::fs::symlink("/etc/passwd", wf.join("passwd.yaml")).expect("symlink");
    let mut big = good_workflow("Big").into_bytes();
    big.resize(5 * 1024 * 1024, b'#');
    std::fs::write(wf.join("big.yaml"), big).expect("big");
    std::fs::write(wf.join("bomb.yaml"), yaml_bomb()).expect("bomb");
    std::fs::write(
        wf.join("binary.yaml"),
        b"version: \"1.0.0\"\nlabel: \xff\xfe\x00\n",
    )
    .expect("binary");
    std::fs::create_dir(wf.join("dir.yaml")).expect("dir");
}

/// Code of the (single) diagnostic reported for each ref.
fn codes_by_ref(reply: &Reply) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in reply.body["data"]["diagnostics"].as_array().expect("diags") {
        m.entry(d["ref"].as_str().expect("ref").to_string())
            .or_default()
            .push(d["code"].as_str().expect("code").to_string());
    }
    m
}

fn assert_no_passwd_bytes(text: &str) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    for line in passwd.lines().filter(|l| l.len() >= 8) {
        assert!(
            !text.contains(line),
            "response leaks /etc/passwd line {line:?}"
        );
    }
    assert!(!text.contains("root:x:0:0") && !text.contains("/bin/bash"));
}

async fn post_text(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    // The timeout only turns a hang into a failure; it times nothing.
    let res = tokio::time::timeout(
        Duration::from_secs(120),
        app.client.post(app.url(path)).bearer_auth(token).send(),
    )
    .await
    .expect("the request must not hang")
    .expect("request");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

#[tokio::test]
async fn hostile_files_are_reported_and_good_files_registered() {
    let app = spawn_app().await;
    let token = app.token().await;
    hostile_pack(&app);
    // Auto-sync on create meets the hostile files first.
    let created = app.new_pack(&token, "hostile").await;
    assert_eq!(created.body["data"]["workflow_count"], 2);

    let (status, text) = post_text(&app, &token, "/api/v1/packs/hostile/workflows/sync").await;
    assert_eq!(status, 200, "{text}");
    assert_no_passwd_bytes(&text);
    let reply = Reply {
        status: reqwest::StatusCode::OK,
        headers: Default::default(),
        body: serde_json::from_str(&text).expect("json"),
    };
    let data = &reply.body["data"];
    assert_eq!(data["loaded_count"], 8);
    assert_eq!(data["registered_count"], 2);
    let registered: Vec<&str> = data["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .map(|w| w["ref_name"].as_str().expect("ref"))
        .collect();
    assert_eq!(registered, ["hostile.good_one", "hostile.good_two"]);
    let codes = codes_by_ref(&reply);
    let expect = |r: &str, code: &str| {
        assert_eq!(
            codes.get(r).map(Vec::as_slice),
            Some([code.to_string()].as_slice()),
            "{r}: {codes:?}"
        );
    };
    expect("hostile.fifo", "file-unreadable");
    expect("hostile.passwd", "file-unreadable");
    expect("hostile.big", "file-too-large");
    expect("hostile.bomb", "yaml-limits");
    expect("hostile.binary", "file-unreadable");
    expect("hostile.dir", "file-unreadable");
    assert_eq!(data["errors"].as_array().expect("errors").len(), 6);
    assert_eq!(data["failed"].as_array().expect("failed").len(), 6);

    let (status, text) = post_text(&app, &token, "/api/v1/packs/hostile/workflows/validate").await;
    assert_eq!(status, 200, "{text}");
    assert_no_passwd_bytes(&text);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["data"]["validated_count"], 8);
    assert_eq!(v["data"]["error_count"], 6);

    // Stored runs hold no passwd bytes either.
    let runs = app.runs(&token, "?pack_ref=hostile").await;
    for run in runs.body["data"].as_array().expect("runs") {
        let detail = app
            .get(&format!("/api/v1/runs/{}", run["id"]), Some(&token))
            .await;
        assert_no_passwd_bytes(&detail.body.to_string());
    }

    let health = app.health().await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["database"], "ok");
}

#[tokio::test]
async fn a_symlink_inside_the_pack_is_followed() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "linked").await;
    let dir = app.pack_dir("linked");
    app.write_workflow("linked", "real.yaml", &good_workflow("Real"));
    std::fs::write(dir.join("shared.yaml"), good_workflow("Shared")).expect("write");
    std::os::unix::fs::symlink(dir.join("shared.yaml"), dir.join("workflows/alias.yaml"))
        .expect("symlink");
    let reply = app.sync(&token, "linked", "").await;
    assert_eq!(reply.body["data"]["registered_count"], 2, "{}", reply.body);
}
