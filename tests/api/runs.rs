//! `/api/v1/runs…`: every sync and validation is recorded (who, when,
//! counts, full report), listed newest first, and only the last 100 per pack
//! are kept.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::helpers::{SEED_BROKEN, good_workflow, keys};

#[tokio::test]
async fn syncs_and_validations_are_recorded_newest_first_with_their_report() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("p", "a.yaml", &good_workflow("A"));
    app.write_workflow("p", "bad.yaml", SEED_BROKEN);
    app.new_pack(&token, "p").await; // auto-sync: run 1
    let validation = app.validate(&token, "p").await; // run 2
    let sync = app.sync(&token, "p", "").await; // run 3
    app.write_workflow("other", "x.yaml", &good_workflow("X"));
    app.new_pack(&token, "other").await; // run of another pack

    let list = app.runs(&token, "?pack_ref=p").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["meta"]["total"], 3);
    let runs = list.body["data"].as_array().expect("runs");
    assert_eq!(runs[0]["id"], sync.body["data"]["run_id"]);
    assert_eq!(runs[1]["id"], validation.body["data"]["run_id"]);
    assert_eq!(runs[0]["kind"], "sync");
    assert_eq!(runs[1]["kind"], "validate");
    assert_eq!(runs[0]["user"], "admin");
    assert_eq!(
        keys(&runs[0]),
        [
            "counts",
            "dry_run",
            "duration_ms",
            "id",
            "kind",
            "pack_ref",
            "prune",
            "started",
            "trigger",
            "user"
        ]
    );
    assert_eq!(runs[0]["trigger"], "api");
    // The auto-sync after the create (the oldest run of p).
    assert_eq!(runs[2]["trigger"], "auto");
    assert_eq!(
        runs[0]["counts"],
        json!({"loaded": 2, "registered": 1, "created": 0, "updated": 0, "unchanged": 1,
               "failed": 1, "missing": 0, "pruned": 0, "errors": 2, "warnings": 0,
               "suppressed": 0})
    );
    assert!(
        time::OffsetDateTime::parse(
            runs[0]["started"].as_str().expect("started"),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    assert_eq!(app.runs(&token, "").await.body["meta"]["total"], 4);

    let detail = app
        .get(&format!("/api/v1/runs/{}", runs[0]["id"]), Some(&token))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let d = &detail.body["data"];
    assert_eq!(d["workflows"][0]["ref_name"], "p.a");
    assert_eq!(d["failed"][0]["ref_name"], "p.bad");
    assert_eq!(
        d["errors"],
        json!(["Validation failed for p.bad: Missing required field: version"])
    );
    assert_eq!(d["diagnostics"].as_array().map(Vec::len), Some(2));
    assert!(d["diagnostics"][0]["snippet"]["lines"].is_array());

    let vdetail = app
        .get(&format!("/api/v1/runs/{}", runs[1]["id"]), Some(&token))
        .await;
    let v = &vdetail.body["data"];
    assert_eq!(v["kind"], "validate");
    assert_eq!(v["failed"][0]["ref_name"], "p.bad");
    assert_eq!(v["errors"]["p.bad"][0], "Missing required field: version");

    let page = app.runs(&token, "?pack_ref=p&per_page=2&page=2").await;
    assert_eq!(page.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(page.body["meta"]["total_pages"], 2);
    app.get("/api/v1/runs/999999", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    app.runs(&token, "?pack_ref=a..b")
        .await
        .assert_error(400, "BAD_REQUEST");
    app.get("/api/v1/runs", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn only_the_last_hundred_runs_of_a_pack_are_kept() {
    let app = spawn_app().await;
    let token = app.token().await;
    std::fs::create_dir_all(app.pack_dir("busy")).expect("mkdir");
    app.new_pack(&token, "busy").await; // run 1 (auto-sync)
    let first = app.runs(&token, "?pack_ref=busy").await.body["data"][0]["id"].clone();
    let mut last = json!(null);
    for _ in 0..104 {
        last = app.sync(&token, "busy", "").await.body["data"]["run_id"].clone();
    }
    let list = app.runs(&token, "?pack_ref=busy&per_page=100").await;
    assert_eq!(list.body["meta"]["total"], 100);
    assert_eq!(list.body["data"][0]["id"], last);
    app.get(&format!("/api/v1/runs/{first}"), Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(app.runs(&token, "").await.body["meta"]["total"], 100);
}
