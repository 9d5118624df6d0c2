//! `/auth/*` and bearer-token checks.

use attune::auth::{Claims, TokenType};
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, spawn_app};

#[tokio::test]
async fn login_with_the_right_password_returns_a_bearer_token_pair() {
    let app = spawn_app().await;
    let reply = app.login_with("admin", ADMIN_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    let mut keys: Vec<_> = data.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 3600);
    let me = app.me(data["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["data"]["login"], "admin");
}

#[tokio::test]
async fn login_with_a_wrong_password_or_an_unknown_user_is_401() {
    let app = spawn_app().await;
    let wrong = app.login_with("admin", "wrong-password").await;
    wrong.assert_error(401, "UNAUTHORIZED");
    let unknown = app.login_with("nobody", ADMIN_PASSWORD).await;
    unknown.assert_error(401, "UNAUTHORIZED");
    // the same message for both, so logins cannot be probed
    assert_eq!(wrong.body["error"], unknown.body["error"]);
}

#[tokio::test]
async fn login_with_a_malformed_body_is_400_with_the_envelope() {
    let app = spawn_app().await;
    app.post("/auth/login", None, &json!({"login": "admin"}))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn refresh_returns_a_new_pair_that_works() {
    let app = spawn_app().await;
    let (_, refresh) = app.login().await;
    let reply = app.refresh(&refresh).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let access = reply.body["data"]["access_token"].as_str().unwrap();
    assert_eq!(app.me(access).await.status, 200);
    let refresh2 = reply.body["data"]["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(refresh2).await.status, 200);
}

#[tokio::test]
async fn an_access_token_is_refused_where_a_refresh_token_is_expected() {
    let app = spawn_app().await;
    let (access, _) = app.login().await;
    app.refresh(&access).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_refresh_token_is_refused_where_an_access_token_is_expected() {
    let app = spawn_app().await;
    let (_, refresh) = app.login().await;
    app.me(&refresh).await.assert_error(401, "UNAUTHORIZED");
    app.list_packs(&refresh, "")
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_missing_or_malformed_authorization_header_is_401() {
    let app = spawn_app().await;
    app.get("/auth/me", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    let res = app
        .client
        .get(app.url("/auth/me"))
        .header("Authorization", "Basic YWRtaW46eA==")
        .send()
        .await
        .unwrap();
    crate::helpers::Reply::from(res)
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.me("not-a-jwt").await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_tampered_token_is_401() {
    let app = spawn_app().await;
    let (access, refresh) = app.login().await;
    let parts: Vec<&str> = access.split('.').collect();
    // a payload character changed: the signature no longer matches
    let mut payload: Vec<char> = parts[1].chars().collect();
    let mid = payload.len() / 2;
    payload[mid] = if payload[mid] == 'A' { 'B' } else { 'A' };
    let payload: String = payload.into_iter().collect();
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    app.me(&tampered).await.assert_error(401, "UNAUTHORIZED");
    // a well-formed token whose signature belongs to another token
    let other_signature = refresh.rsplit('.').next().unwrap();
    let swapped = format!("{}.{}.{}", parts[0], parts[1], other_signature);
    let reply = app.me(&swapped).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(reply.body["error"].as_str().unwrap().contains("signature"));
    // and a token signed with another secret
    let other = attune::auth::TokenKeys::from_secret(&[9u8; 32])
        .issue(1, "admin", 1, TokenType::Access, 60)
        .unwrap();
    app.me(&other).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let app = spawn_app().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let user = app.state.store.user_by_login("admin").unwrap().unwrap();
    let claims = Claims {
        sub: user.id.to_string(),
        login: user.login.clone(),
        typ: TokenType::Access,
        iat: now - 7200,
        nbf: now - 7200,
        exp: now - 3600,
        jti: "expired".into(),
        r#gen: user.token_gen,
        sid: None,
    };
    let expired = app.state.keys.sign(&claims).unwrap();
    let reply = app.me(&expired).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(
        reply.body["error"].as_str().unwrap().contains("expired"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn an_alg_none_token_is_401() {
    let app = spawn_app().await;
    let access = app.token().await;
    let payload = access.split('.').nth(1).unwrap();
    // base64url of {"alg":"none","typ":"JWT"}
    let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    for unsigned in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        app.me(&unsigned).await.assert_error(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn change_password_revokes_earlier_tokens_and_returns_working_ones() {
    let app = spawn_app().await;
    let (access, refresh) = app.login().await;
    let reply = app
        .change_password(&access, ADMIN_PASSWORD, "a-new-password")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let new_access = reply.body["data"]["access_token"].as_str().unwrap();

    app.me(&access).await.assert_error(401, "UNAUTHORIZED");
    app.refresh(&refresh)
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(app.me(new_access).await.status, 200);

    app.login_with("admin", ADMIN_PASSWORD)
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(app.login_with("admin", "a-new-password").await.status, 200);
}

#[tokio::test]
async fn change_password_refuses_a_short_password_and_a_wrong_current_one() {
    let app = spawn_app().await;
    let access = app.token().await;
    let short = app.change_password(&access, ADMIN_PASSWORD, "short").await;
    short.assert_error(422, "VALIDATION_FAILED");
    assert!(short.body["error"].as_str().unwrap().contains("at least 8"));
    app.change_password(&access, "not-the-password", "long-enough-1")
        .await
        .assert_error(422, "VALIDATION_FAILED");
    // nothing changed: the token still works
    assert_eq!(app.me(&access).await.status, 200);
}
