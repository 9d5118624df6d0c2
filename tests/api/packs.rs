//! `/api/v1/packs`: every endpoint's success and error statuses, field
//! names, pagination, ref validation and body handling.

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, pack_body, spawn_app};

const PACK_FIELDS: [&str; 16] = [
    "config",
    "conf_schema",
    "created",
    "description",
    "id",
    "is_standard",
    "label",
    "last_sync",
    "last_validation",
    "meta",
    "ref",
    "runtime_deps",
    "tags",
    "updated",
    "version",
    "workflow_count",
];

fn assert_pack_fields(pack: &Value) {
    let mut keys: Vec<&str> = pack
        .as_object()
        .expect("pack object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut expected = PACK_FIELDS.to_vec();
    expected.sort();
    assert_eq!(keys, expected);
    for field in ["created", "updated"] {
        let text = pack[field].as_str().expect("timestamp string");
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{field} {text:?} is not RFC 3339: {e}"));
    }
}

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    let token = app.token().await;
    (app, token)
}

#[tokio::test]
async fn creating_a_pack_answers_201_with_every_field() {
    let (app, token) = setup().await;
    let body = json!({
        "ref": "demo",
        "label": "Demo pack",
        "description": "A demo",
        "version": "1.2.3",
        "conf_schema": {"type": "object"},
        "config": {"greeting": "hi"},
        "meta": {"author": "me"},
        "tags": ["a", "b"],
        "runtime_deps": ["shell"],
        "is_standard": true
    });
    let reply = app.create_pack(&token, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack created successfully");
    let pack = &reply.body["data"];
    assert_pack_fields(pack);
    assert_eq!(pack["ref"], "demo");
    assert_eq!(pack["label"], "Demo pack");
    assert_eq!(pack["description"], "A demo");
    assert_eq!(pack["version"], "1.2.3");
    assert_eq!(pack["conf_schema"], json!({"type": "object"}));
    assert_eq!(pack["config"], json!({"greeting": "hi"}));
    assert_eq!(pack["meta"], json!({"author": "me"}));
    assert_eq!(pack["tags"], json!(["a", "b"]));
    assert_eq!(pack["runtime_deps"], json!(["shell"]));
    assert_eq!(pack["is_standard"], true);
    assert_eq!(pack["last_sync"], Value::Null);
    assert!(pack["id"].as_u64().is_some());
    assert_eq!(pack["created"], pack["updated"]);
}

#[tokio::test]
async fn a_minimal_pack_gets_defaults() {
    let (app, token) = setup().await;
    let reply = app.create_pack(&token, &pack_body("mini")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let pack = &reply.body["data"];
    assert_eq!(pack["description"], Value::Null);
    assert_eq!(pack["config"], json!({}));
    assert_eq!(pack["tags"], json!([]));
    assert_eq!(pack["is_standard"], false);
}

#[tokio::test]
async fn creating_a_duplicate_pack_is_409() {
    let (app, token) = setup().await;
    assert_eq!(app.create_pack(&token, &pack_body("dup")).await.status, 201);
    let reply = app.create_pack(&token, &pack_body("dup")).await;
    reply.assert_error(409, "CONFLICT");
    assert_eq!(reply.body["error"], "Pack 'dup' already exists");
}

#[tokio::test]
async fn creating_a_pack_with_missing_or_invalid_fields_is_refused() {
    let (app, token) = setup().await;
    app.create_pack(&token, &json!({"ref": "x", "version": "1"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.create_pack(
        &token,
        &json!({"ref": "x", "label": "X", "version": "1", "lable": "typo"}),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
    app.create_pack(&token, &json!({"ref": "x", "label": "", "version": "1"}))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    app.create_pack(
        &token,
        &json!({"ref": "x", "label": "X", "version": "1", "config": [1]}),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    app.create_pack(
        &token,
        &json!({"ref": "../etc", "label": "X", "version": "1"}),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
    // nothing was created
    let list = app.list_packs(&token, "").await;
    assert_eq!(list.body["meta"]["total"], 0);
}

#[tokio::test]
async fn getting_a_pack_returns_it_and_a_missing_one_is_404() {
    let (app, token) = setup().await;
    let created = app.create_pack(&token, &pack_body("core")).await;
    let reply = app.get_pack(&token, "core").await;
    assert_eq!(reply.status, 200);
    assert_pack_fields(&reply.body["data"]);
    assert_eq!(reply.body["data"], created.body["data"]);
    let missing = app.get_pack(&token, "nonexistent_pack").await;
    missing.assert_error(404, "NOT_FOUND");
    assert_eq!(missing.body["error"], "Pack 'nonexistent_pack' not found");
}

#[tokio::test]
async fn updating_a_pack_changes_only_the_given_fields() {
    let (app, token) = setup().await;
    let mut body = pack_body("my_pack");
    body["description"] = json!("keep me");
    body["tags"] = json!(["keep"]);
    let created = app.create_pack(&token, &body).await.body["data"].clone();
    let reply = app
        .update_pack(
            &token,
            "my_pack",
            &json!({"version": "1.1.0", "label": "My Pack (Updated)"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack updated successfully");
    let pack = &reply.body["data"];
    assert_pack_fields(pack);
    assert_eq!(pack["version"], "1.1.0");
    assert_eq!(pack["label"], "My Pack (Updated)");
    assert_eq!(pack["description"], "keep me");
    assert_eq!(pack["tags"], json!(["keep"]));
    assert_eq!(pack["id"], created["id"]);
    assert_eq!(pack["created"], created["created"]);
    assert_ne!(pack["updated"], created["updated"]);

    // the same ref in the body is fine; null clears the description
    let reply = app
        .update_pack(
            &token,
            "my_pack",
            &json!({"ref": "my_pack", "description": null}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["description"], Value::Null);
    assert_eq!(
        app.get_pack(&token, "my_pack").await.body["data"]["description"],
        Value::Null
    );
}

#[tokio::test]
async fn updating_with_another_ref_in_the_body_is_400_and_a_missing_pack_is_404() {
    let (app, token) = setup().await;
    app.create_pack(&token, &pack_body("a")).await;
    app.update_pack(&token, "a", &json!({"ref": "b"}))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.update_pack(&token, "ghost", &json!({"label": "x"}))
        .await
        .assert_error(404, "NOT_FOUND");
    app.update_pack(&token, "a", &json!({"version": ""}))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    app.update_pack(&token, "a", &json!({"id": 5}))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn deleting_a_pack_answers_200_then_404() {
    let (app, token) = setup().await;
    app.create_pack(&token, &pack_body("gone")).await;
    let reply = app.delete_pack(&token, "gone").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack 'gone' deleted");
    assert_eq!(reply.body["data"]["ref"], "gone");
    app.get_pack(&token, "gone")
        .await
        .assert_error(404, "NOT_FOUND");
    app.delete_pack(&token, "gone")
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn listing_packs_pages_in_ref_order_with_meta() {
    let (app, token) = setup().await;
    for r in ["e", "c", "a", "d", "b"] {
        assert_eq!(app.create_pack(&token, &pack_body(r)).await.status, 201);
    }
    let reply = app.list_packs(&token, "?page=1&per_page=2").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body["meta"],
        json!({"page": 1, "per_page": 2, "total": 5, "total_pages": 3})
    );
    let refs: Vec<&str> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["a", "b"]);
    for p in reply.body["data"].as_array().unwrap() {
        assert_pack_fields(p);
    }
    let last = app.list_packs(&token, "?page=3&per_page=2").await;
    assert_eq!(last.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["data"][0]["ref"], "e");
    let beyond = app.list_packs(&token, "?page=9&per_page=2").await;
    assert_eq!(beyond.status, 200);
    assert_eq!(beyond.body["data"], json!([]));

    let default = app.list_packs(&token, "").await;
    assert_eq!(
        default.body["meta"],
        json!({"page": 1, "per_page": 20, "total": 5, "total_pages": 1})
    );
    let max = app.list_packs(&token, "?per_page=100").await;
    assert_eq!(max.status, 200);
}

#[tokio::test]
async fn bad_pagination_parameters_are_400() {
    let (app, token) = setup().await;
    for q in [
        "?per_page=101",
        "?per_page=0",
        "?page=0",
        "?page=abc",
        "?per_page=-1",
    ] {
        app.list_packs(&token, q)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn bad_pack_refs_are_400_before_any_lookup() {
    let (app, token) = setup().await;
    let long = "x".repeat(300);
    for bad in ["..%2Fetc", "a%2Fb", ".x", "a..b", "a%20b", long.as_str()] {
        let get = app.get_pack(&token, bad).await;
        get.assert_error(400, "BAD_REQUEST");
        assert!(
            get.body["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid pack ref"),
            "{bad}: {}",
            get.body
        );
        app.update_pack(&token, bad, &json!({"label": "x"}))
            .await
            .assert_error(400, "BAD_REQUEST");
        app.delete_pack(&token, bad)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    for bad in ["../etc", "a/b", ".x", long.as_str()] {
        app.create_pack(&token, &pack_body(bad))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn every_packs_route_requires_an_access_token() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.create_pack(&token, &pack_body("p")).await;
    let c = &app.client;
    let requests = [
        c.get(app.url("/api/v1/packs")),
        c.post(app.url("/api/v1/packs")).json(&pack_body("q")),
        c.get(app.url("/api/v1/packs/p")),
        c.put(app.url("/api/v1/packs/p"))
            .json(&json!({"label": "x"})),
        c.delete(app.url("/api/v1/packs/p")),
    ];
    for req in requests {
        let reply = Reply::from(req.send().await.unwrap()).await;
        reply.assert_error(401, "UNAUTHORIZED");
    }
    // nothing changed
    let p = app.get_pack(&token, "p").await;
    assert_eq!(p.body["data"]["label"], "Pack p");
    assert_eq!(app.get_pack(&token, "q").await.status, 404);
}

#[tokio::test]
async fn malformed_json_is_400_with_the_envelope() {
    let (app, token) = setup().await;
    for body in ["{bad", "", "[1,2]", "{\"ref\": 5}"] {
        let res = app
            .client
            .post(app.url("/api/v1/packs"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        Reply::from(res).await.assert_error(400, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_415() {
    let (app, token) = setup().await;
    let res = app
        .client
        .post(app.url("/api/v1/packs"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(pack_body("p").to_string())
        .send()
        .await
        .unwrap();
    Reply::from(res)
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn a_body_over_2_mib_is_413_with_the_envelope() {
    let (app, token) = setup().await;
    let mut body = pack_body("big");
    body["description"] = json!("x".repeat(2 * 1024 * 1024 + 1));
    let reply = app.create_pack(&token, &body).await;
    reply.assert_error(413, "PAYLOAD_TOO_LARGE");
    // a large body under the limit is accepted
    let mut body = pack_body("fits");
    body["description"] = json!("x".repeat(1024 * 1024));
    assert_eq!(app.create_pack(&token, &body).await.status, 201);
}
