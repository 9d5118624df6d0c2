//! The audit log: an entry for each mutation with the right user, failures
//! included, filters and pages, and bounded retention.

use serde_json::{Value, json};

use crate::helpers::{TestApp, pack_body, spawn_app, spawn_app_configured};

async fn entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/api/v1/audit?per_page=100{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], action: &str) -> Vec<&'a Value> {
    list.iter().filter(|e| e["action"] == action).collect()
}

#[tokio::test]
async fn every_mutation_is_audited_with_its_user_and_outcome() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let bad = app.login_with("admin", "wrong-password").await;
    assert_eq!(bad.status, 401);
    let bob = app.token_as("operator").await;
    assert_eq!(
        app.create_pack(&bob, &pack_body("audited")).await.status,
        201
    );
    app.write_workflow("audited", "a.yaml", &crate::helpers::good_workflow("A"));
    assert_eq!(app.sync(&bob, "audited", "").await.status, 200);
    assert_eq!(app.delete_pack(&bob, "audited").await.status, 200);
    let viewer = app.token_as("viewer").await;
    app.create_pack(&viewer, &pack_body("nope"))
        .await
        .assert_error(403, "FORBIDDEN");
    let token = app
        .post("/api/v1/tokens", Some(&admin), &json!({"name": "ci"}))
        .await;
    assert_eq!(token.status, 201);

    let log = entries(&app, &admin, "").await;
    let logins = find(&log, "login");
    assert!(
        logins
            .iter()
            .any(|e| e["user"] == "admin" && e["outcome"] == "failed (401)"),
        "{logins:?}"
    );
    assert!(
        logins
            .iter()
            .any(|e| e["user"] == "operator-user" && e["outcome"] == "ok"),
        "{logins:?}"
    );
    for (action, user, target) in [
        ("create_pack", "operator-user", "/api/v1/packs"),
        (
            "sync_workflows",
            "operator-user",
            "/api/v1/packs/audited/workflows/sync",
        ),
        ("delete_pack", "operator-user", "/api/v1/packs/audited"),
        ("create_token", "admin", "/api/v1/tokens"),
    ] {
        let found = find(&log, action);
        assert!(
            found.iter().any(|e| e["user"] == user
                && e["target"] == target
                && e["outcome"] == "ok"
                && e["client"] == "127.0.0.1"
                && e["via"].as_str().unwrap().starts_with("session ")),
            "{action}: {found:?}"
        );
    }
    let refused = find(&log, "create_pack");
    assert!(
        refused
            .iter()
            .any(|e| e["user"] == "viewer-user" && e["outcome"] == "failed (403)"),
        "{refused:?}"
    );

    // filters and pages
    let only_bob = entries(&app, &admin, "&user=operator-user").await;
    assert!(only_bob.iter().all(|e| e["user"] == "operator-user"));
    assert!(only_bob.len() >= 4);
    let deletes = entries(&app, &admin, "&action=delete_pack&target=audited").await;
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    let page = app
        .get("/api/v1/audit?per_page=2&page=2", Some(&admin))
        .await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 2);
    assert!(page.body["meta"]["total"].as_u64().unwrap() >= 8);
    let future = entries(&app, &admin, "&since=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    app.get("/api/v1/audit?since=yesterday", Some(&admin))
        .await
        .assert_error(400, "BAD_REQUEST");
    // reads are not audited
    assert!(find(&log, "list_packs").is_empty());
}

#[tokio::test]
async fn only_the_newest_entries_are_kept() {
    let app = spawn_app_configured(|c| c.audit.max_entries = 5).await;
    let admin = app.token().await;
    for i in 0..8 {
        assert_eq!(
            app.create_pack(&admin, &pack_body(&format!("p{i}")))
                .await
                .status,
            201
        );
    }
    let log = entries(&app, &admin, "").await;
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[0]["target"], "/api/v1/packs");
    let ids: Vec<u64> = log.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
}
