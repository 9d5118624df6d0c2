//! API tokens (`att_…`) and sessions: hash-only storage, role limits,
//! revocation and expiry, refresh rotation with replay detection, logout,
//! and `Cache-Control: no-store` on every answer that carries a token.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Reply, TestApp, spawn_app};

async fn create_token(app: &TestApp, bearer: &str, body: &Value) -> (Reply, Option<String>) {
    let res = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .expect("request");
    let cache = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string());
    (Reply::from(res).await, cache)
}

async fn new_token(app: &TestApp, bearer: &str, body: Value) -> (String, u64) {
    let (reply, cache) = create_token(app, bearer, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(cache.as_deref(), Some("no-store"));
    (
        reply.body["data"]["token"].as_str().unwrap().to_string(),
        reply.body["data"]["id"].as_u64().unwrap(),
    )
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    let res = app
        .client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    Reply::from(res).await
}

#[tokio::test]
async fn only_the_hash_of_an_api_token_is_stored() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let (secret, _) = new_token(&app, &admin, json!({"name": "ci"})).await;
    assert!(secret.starts_with("att_") && secret.len() == 68, "{secret}");
    let file = std::fs::read(app.data_dir.path().join("attune.redb")).unwrap();
    let contains = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(secret.as_bytes()),
        "the secret is in the database"
    );
    assert!(
        !contains(&secret.as_bytes()[4..36]),
        "part of the secret is in the database"
    );
    let hash = attune::auth::api_token_hash(&secret);
    assert!(contains(hash.as_bytes()), "the hash is what is kept");
    // and it works as a bearer token
    let me = app.me(&secret).await;
    assert_eq!(me.body["data"]["login"], "admin", "{}", me.body);
}

#[tokio::test]
async fn an_api_token_acts_with_at_most_its_role() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let (viewer_token, _) =
        new_token(&app, &admin, json!({"name": "read-only", "role": "viewer"})).await;
    assert_eq!(app.list_packs(&viewer_token, "").await.status, 200);
    let refused = app
        .create_pack(&viewer_token, &crate::helpers::pack_body("p1"))
        .await;
    refused.assert_error(403, "FORBIDDEN");
    app.get("/api/v1/admin/backup", Some(&viewer_token))
        .await
        .assert_error(403, "FORBIDDEN");

    // an operator cannot make an admin token
    let operator = app.token_as("operator").await;
    let (reply, _) = create_token(&app, &operator, &json!({"name": "x", "role": "admin"})).await;
    reply.assert_error(403, "FORBIDDEN");
    assert!(reply.body["error"].as_str().unwrap().contains("'operator'"));
    // and an API token cannot make tokens at all
    let (reply, _) = create_token(&app, &viewer_token, &json!({"name": "again"})).await;
    reply.assert_error(403, "FORBIDDEN");
    // bad names and lifetimes
    for body in [
        json!({"name": ""}),
        json!({"name": "x".repeat(65)}),
        json!({"name": "ok", "expires_in": 0}),
    ] {
        let (reply, _) = create_token(&app, &admin, &body).await;
        reply.assert_error(422, "VALIDATION_FAILED");
    }
}

#[tokio::test]
async fn revoked_and_expired_api_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let (secret, id) = new_token(&app, &admin, json!({"name": "ci", "expires_in": 3600})).await;
    assert_eq!(app.me(&secret).await.status, 200);
    let list = app.get("/api/v1/tokens", Some(&admin)).await;
    let listed = &list.body["data"][0];
    assert_eq!(listed["name"], "ci");
    assert!(listed["last_used"].is_string(), "{listed}");
    assert!(listed["expires"].is_string(), "{listed}");
    assert!(listed.get("token").is_none() && listed.get("hash").is_none());

    let revoked = delete(&app, &format!("/api/v1/tokens/{id}"), &admin).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let reply = app.me(&secret).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(reply.body["error"].as_str().unwrap().contains("revoked"));
    delete(&app, &format!("/api/v1/tokens/{id}"), &admin)
        .await
        .assert_error(404, "NOT_FOUND");

    // an expired token, stored as the server would have
    let expired = "att_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let store = app.state.store.clone();
    tokio::task::spawn_blocking(move || {
        let admin = store.user_by_login("admin").unwrap().unwrap();
        store
            .create_api_token(
                admin.id,
                admin.token_gen,
                "old",
                attune::store::Role::Admin,
                &attune::auth::api_token_hash(expired),
                Some(time::OffsetDateTime::now_utc() - time::Duration::seconds(1)),
            )
            .unwrap();
    })
    .await
    .unwrap();
    let reply = app.me(expired).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(reply.body["error"].as_str().unwrap().contains("expired"));
    app.me("att_nonsense")
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn users_see_and_revoke_their_own_tokens_and_admins_everyones() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let bob = app.token_as("operator").await;
    let (_, bobs) = new_token(&app, &bob, json!({"name": "bob-ci"})).await;
    let (_, admins) = new_token(&app, &admin, json!({"name": "admin-ci"})).await;
    let mine = app.get("/api/v1/tokens", Some(&bob)).await;
    let names: Vec<_> = mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob-ci"]);
    let all = app.get("/api/v1/tokens", Some(&admin)).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["data"][0]["owner"], "operator-user");
    delete(&app, &format!("/api/v1/tokens/{admins}"), &bob)
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(
        delete(&app, &format!("/api/v1/tokens/{bobs}"), &admin)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_role_change_of_the_owner_revokes_their_api_tokens() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let bob = app.token_as("operator").await;
    let (secret, _) = new_token(&app, &bob, json!({"name": "bob-ci"})).await;
    assert_eq!(app.me(&secret).await.status, 200);
    let res = app
        .client
        .put(app.url("/api/v1/users/operator-user"))
        .bearer_auth(&admin)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.me(&secret).await.assert_error(401, "UNAUTHORIZED");
}

async fn login_pair(app: &TestApp) -> (String, String, Option<String>) {
    let res = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cache = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = res.json().await.unwrap();
    (
        body["data"]["access_token"].as_str().unwrap().to_string(),
        body["data"]["refresh_token"].as_str().unwrap().to_string(),
        cache,
    )
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_ends_the_session() {
    let app = spawn_app().await;
    let (access1, refresh1, cache) = login_pair(&app).await;
    assert_eq!(cache.as_deref(), Some("no-store"));
    let other_session = login_pair(&app).await;

    let res = app
        .client
        .post(app.url("/auth/refresh"))
        .json(&json!({"refresh_token": refresh1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second: Value = res.json().await.unwrap();
    let refresh2 = second["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let access2 = second["data"]["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2);
    assert_eq!(app.me(&access2).await.status, 200);
    assert_eq!(
        app.me(&access1).await.status,
        200,
        "same session, still valid"
    );

    // the used refresh token again: a replay ends the whole session
    let replay = app.refresh(&refresh1).await;
    replay.assert_error(401, "UNAUTHORIZED");
    assert!(
        replay.body["error"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    app.refresh(&refresh2)
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.me(&access2).await.assert_error(401, "UNAUTHORIZED");
    app.me(&access1).await.assert_error(401, "UNAUTHORIZED");
    // another session of the same user is not touched
    assert_eq!(app.me(&other_session.0).await.status, 200);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let (access, refresh, _) = login_pair(&app).await;
    let out = app.post("/auth/logout", Some(&access), &json!({})).await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body["data"]["session_ended"], true);
    app.me(&access).await.assert_error(401, "UNAUTHORIZED");
    app.refresh(&refresh)
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.post("/auth/logout", None, &json!({}))
        .await
        .assert_error(401, "UNAUTHORIZED");
}

/// Tokens answer from the authentication cache once seen; every change
/// that ends a token still ends it on the very next request.
#[tokio::test]
async fn a_token_in_steady_use_is_refused_the_moment_it_is_revoked() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let seen_twice = |token: String| {
        let app = &app;
        async move {
            for _ in 0..3 {
                assert_eq!(app.me(&token).await.status, 200);
            }
            token
        }
    };

    // An API token, revoked by its id.
    let (secret, id) = new_token(&app, &admin, json!({"name": "steady"})).await;
    let secret = seen_twice(secret).await;
    assert_eq!(
        delete(&app, &format!("/api/v1/tokens/{id}"), &admin)
            .await
            .status,
        200
    );
    app.me(&secret).await.assert_error(401, "UNAUTHORIZED");

    // A session, ended by logout.
    let (access, _, _) = login_pair(&app).await;
    let access = seen_twice(access).await;
    assert_eq!(
        app.post("/auth/logout", Some(&access), &json!({}))
            .await
            .status,
        200
    );
    app.me(&access).await.assert_error(401, "UNAUTHORIZED");

    // A user disabled, then one demoted: both take effect at once.
    app.add_user("dora", "operator").await;
    let dora = app.login_with("dora", ADMIN_PASSWORD).await.body["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let dora = seen_twice(dora).await;
    let off = app
        .put_json("/api/v1/users/dora", &admin, &json!({"disabled": true}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    app.me(&dora).await.assert_error(401, "UNAUTHORIZED");

    app.add_user("eve", "operator").await;
    let eve = app.login_with("eve", ADMIN_PASSWORD).await;
    let eve_access = eve.body["data"]["access_token"].as_str().unwrap();
    let (eve_token, _) = new_token(&app, eve_access, json!({"name": "eve-ci"})).await;
    let eve_token = seen_twice(eve_token).await;
    let down = app
        .put_json("/api/v1/users/eve", &admin, &json!({"role": "viewer"}))
        .await;
    assert_eq!(down.status, 200, "{}", down.body);
    app.me(&eve_token).await.assert_error(401, "UNAUTHORIZED");
}
