//! `GET /health` and the JSON fallbacks.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_needs_no_token_and_reports_version_and_database() {
    let app = spawn_app().await;
    let reply = app.health().await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["database"], "ok");
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_envelope() {
    let app = spawn_app().await;
    app.get("/no/such/route", None)
        .await
        .assert_error(404, "NOT_FOUND");
    let res = app
        .client
        .delete(app.url("/health"))
        .send()
        .await
        .expect("request");
    crate::helpers::Reply::from(res)
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let reply = app.get("/api/openapi.json", None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/auth/login",
        "/auth/refresh",
        "/auth/me",
        "/auth/change-password",
        "/api/v1/packs",
        "/api/v1/packs/{ref}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(reply.body["components"]["securitySchemes"]["bearer"].is_object());
}
