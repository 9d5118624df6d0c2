//! `/api/v1/users` (admin): create, list, change role, disable, reset a
//! password, delete; every change revokes the user's tokens; the last
//! enabled admin is protected.

use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, pack_body, spawn_app};

async fn login_token(app: &TestApp, login: &str, password: &str) -> String {
    let reply = app.login_with(login, password).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

#[tokio::test]
async fn an_admin_creates_lists_and_fetches_users_without_their_hashes() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"login": "bob", "password": "bob-password-1"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["data"]["role"], "operator");
    assert!(created.body["data"].get("password_hash").is_none());
    app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"login": "bob", "password": "bob-password-1"}),
    )
    .await
    .assert_error(409, "CONFLICT");
    app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"login": "eve", "password": "short"}),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
    app.post(
        "/api/v1/users",
        Some(&admin),
        &json!({"login": "eve", "password": "eve-password-1", "role": "root"}),
    )
    .await
    .assert_error(400, "BAD_REQUEST");

    let list = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(list.status, 200);
    let logins: Vec<_> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["login"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(logins, [("admin", "admin"), ("bob", "operator")]);
    assert!(!list.body.to_string().contains("argon2"));
    let bob = app.get("/api/v1/users/bob", Some(&admin)).await;
    assert_eq!(bob.body["data"]["login"], "bob");
    app.get("/api/v1/users/nobody", Some(&admin))
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/v1/users/..%2Fx", Some(&admin))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn a_role_change_revokes_the_users_tokens_and_the_new_role_applies() {
    let app = spawn_app().await;
    let admin = app.token().await;
    app.add_user("bob", "operator").await;
    let bob = login_token(&app, "bob", ADMIN_PASSWORD).await;
    let reply = app.create_pack(&bob, &pack_body("bobs")).await;
    assert_eq!(
        reply.status, 201,
        "an operator creates packs: {}",
        reply.body
    );

    let changed = app
        .put_json("/api/v1/users/bob", &admin, &json!({"role": "viewer"}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["data"]["role"], "viewer");
    app.me(&bob).await.assert_error(401, "UNAUTHORIZED");

    let bob = login_token(&app, "bob", ADMIN_PASSWORD).await;
    assert_eq!(app.me(&bob).await.body["data"]["role"], "viewer");
    assert_eq!(app.get_pack(&bob, "bobs").await.status, 200, "viewers read");
    let refused = app.create_pack(&bob, &pack_body("more")).await;
    refused.assert_error(403, "FORBIDDEN");
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("'operator'"),
        "{}",
        refused.body
    );
    app.delete_pack(&bob, "bobs")
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_their_tokens_stop_working() {
    let app = spawn_app().await;
    let admin = app.token().await;
    app.add_user("bob", "operator").await;
    let bob = login_token(&app, "bob", ADMIN_PASSWORD).await;
    let reply = app
        .put_json("/api/v1/users/bob", &admin, &json!({"disabled": true}))
        .await;
    assert_eq!(reply.body["data"]["disabled"], true, "{}", reply.body);
    app.me(&bob).await.assert_error(401, "UNAUTHORIZED");
    let login = app.login_with("bob", ADMIN_PASSWORD).await;
    login.assert_error(401, "UNAUTHORIZED");
    assert!(login.body["error"].as_str().unwrap().contains("disabled"));
    // a wrong password does not tell that the account exists and is disabled
    let wrong = app.login_with("bob", "not-the-password").await;
    assert_eq!(wrong.body["error"], "invalid login or password");

    app.put_json("/api/v1/users/bob", &admin, &json!({"disabled": false}))
        .await;
    login_token(&app, "bob", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn an_admin_resets_a_password_and_deletes_a_user() {
    let app = spawn_app().await;
    let admin = app.token().await;
    app.add_user("bob", "operator").await;
    let bob = login_token(&app, "bob", ADMIN_PASSWORD).await;
    let reply = app
        .put_json(
            "/api/v1/users/bob",
            &admin,
            &json!({"password": "a-new-password"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    app.me(&bob).await.assert_error(401, "UNAUTHORIZED");
    app.login_with("bob", ADMIN_PASSWORD)
        .await
        .assert_error(401, "UNAUTHORIZED");
    let bob = login_token(&app, "bob", "a-new-password").await;

    let deleted = app.delete_path("/api/v1/users/bob", &admin).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    app.me(&bob).await.assert_error(401, "UNAUTHORIZED");
    app.delete_path("/api/v1/users/bob", &admin)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_deleted_disabled_or_demoted() {
    let app = spawn_app().await;
    let admin = app.token().await;
    for body in [json!({"role": "operator"}), json!({"disabled": true})] {
        let reply = app.put_json("/api/v1/users/admin", &admin, &body).await;
        reply.assert_error(409, "CONFLICT");
        assert!(
            reply.body["error"]
                .as_str()
                .unwrap()
                .contains("last enabled admin")
        );
    }
    app.delete_path("/api/v1/users/admin", &admin)
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(app.me(&admin).await.status, 200, "nothing changed");

    // with a second admin, the first can step down
    app.add_user("root2", "admin").await;
    let reply = app
        .put_json("/api/v1/users/admin", &admin, &json!({"role": "viewer"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let root2 = login_token(&app, "root2", ADMIN_PASSWORD).await;
    app.delete_path("/api/v1/users/root2", &root2)
        .await
        .assert_error(409, "CONFLICT");
}
