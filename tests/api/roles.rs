//! The route table and its roles: every served route is in the OpenAPI
//! document with its minimum role (`x-min-role`), and every route of the
//! document answers by that role when called as no one, viewer, operator
//! and admin.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Who calls in the role matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    NoOne,
    Viewer,
    Operator,
    Admin,
}

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::NoOne => "no one",
            Who::Viewer => "viewer",
            Who::Operator => "operator",
            Who::Admin => "admin",
        }
    }
}

fn min_role(value: &str) -> Who {
    match value {
        "public" => Who::NoOne,
        "viewer" => Who::Viewer,
        "operator" => Who::Operator,
        "admin" => Who::Admin,
        other => panic!("unknown x-min-role '{other}'"),
    }
}

/// Every `(method, path, x-min-role)` of the served document.
async fn documented_routes(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    let mut out = Vec::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            out.push((
                method.clone(),
                path.clone(),
                op["x-min-role"].as_str().map(str::to_string),
            ));
        }
    }
    out
}

/// A concrete URL path for a documented one: refs and ids that name
/// nothing, so a call that passes the role check answers 404 (or 400/422
/// for a body) and changes nothing.
fn concrete(path: &str) -> String {
    path.replace("/workflows/{ref}", "/workflows/nosuch.flow")
        .replace("{ref}", "nosuch")
        .replace("{id}", "999999")
        .replace("{login}", "nosuch")
}

/// Calls a route; the status and the JSON body (`Null` when not JSON).
async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = app.client.request(method.clone(), app.url(path));
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        req = req.json(&json!({}));
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    // An event stream never ends: its 200 head is the answer.
    if content_type.starts_with(b"text/event-stream") {
        return (status, Value::Null);
    }
    let is_json = content_type.starts_with(b"application/json");
    let body = if is_json {
        res.json().await.expect("json body")
    } else {
        let _ = res.bytes().await;
        Value::Null
    };
    (status, body)
}

/// Routes public in the route table because they carry their own
/// credential, checked by the handler: the event stream (a single-use
/// ticket in the query, since `EventSource` cannot send headers, or the
/// bearer token). Called by no one they answer 401; `/metrics` (its own
/// token) is off in these tests and answers 404 to everyone.
const OWN_CREDENTIAL: &[&str] = &["/api/v1/events"];

/// Checks one call against the documented minimum role.
fn check(who: Who, min: Who, method: &str, path: &str, status: u16, body: &Value) {
    let what = format!("{method} {path} as {}: {status} {body}", who.name());
    if who == Who::NoOne && OWN_CREDENTIAL.contains(&path) {
        assert_eq!(status, 401, "{what}");
        assert_eq!(body["code"], "UNAUTHORIZED", "{what}");
        return;
    }
    if who == Who::NoOne && min != Who::NoOne {
        assert_eq!(status, 401, "{what}");
        assert_eq!(body["code"], "UNAUTHORIZED", "{what}");
    } else if who < min {
        assert_eq!(status, 403, "{what}");
        assert_eq!(body["code"], "FORBIDDEN", "{what}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("'{}'", min.name())), "{what}");
    } else {
        assert!(![401, 403, 405].contains(&status), "{what}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(!message.starts_with("no route for"), "{what}");
    }
}

#[tokio::test]
async fn every_route_of_the_openapi_document_answers_by_its_minimum_role() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let viewer = app.token_as("viewer").await;
    let operator = app.token_as("operator").await;
    let mut routes = documented_routes(&app).await;
    assert!(routes.len() >= 23, "{routes:?}");
    // logging out ends the caller's session: walk it last
    routes.sort_by_key(|(_, path, _)| path == "/auth/logout");
    for (method, path, role) in &routes {
        let role = role
            .as_deref()
            .unwrap_or_else(|| panic!("{method} {path} has no x-min-role in the document"));
        let min = min_role(role);
        let url = concrete(path);
        // every ref names nothing, so a call that passes changes nothing
        let (status, body) = call(&app, method, &url, None).await;
        check(Who::NoOne, min, method, path, status, &body);
        for (who, token) in [
            (Who::Viewer, &viewer),
            (Who::Operator, &operator),
            (Who::Admin, &admin),
        ] {
            let (status, body) = call(&app, method, &url, Some(token)).await;
            check(who, min, method, path, status, &body);
        }
    }
}

#[tokio::test]
async fn every_declared_route_is_in_the_openapi_document_with_its_role() {
    let app = spawn_app().await;
    let documented = documented_routes(&app).await;
    let declared = attune::api::routes();
    let declared = declared.declared();
    assert_eq!(
        declared.len(),
        documented.len(),
        "{declared:?}\n{documented:?}"
    );
    for route in declared {
        assert!(
            documented.iter().any(|(m, p, r)| m == route.method
                && p == &route.path
                && r.as_deref() == Some(route.access.as_str())),
            "{route:?} is served but not documented with its role"
        );
    }
}

/// Routes can only be added through the route table: no `.route(` call in
/// the server's code outside `src/api/routes.rs` and the embedded UI's
/// asset routes (`src/web.rs`), test modules aside.
#[test]
fn no_route_is_served_outside_the_route_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs")
                || path.ends_with("api/routes.rs")
                || path.ends_with("src/web.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for needle in [".route(", ".route_service(", ".nest("] {
                if code.contains(needle) {
                    offenders.push(format!("{} ({needle})", path.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes declared outside the route table (declare them in the module's router() with \
         Routes::add and a minimum role): {offenders:?}"
    );
}

/// docs/SECURITY.md's role table lists every route with the role the route
/// table declares (so the document cannot drift from the code).
#[test]
fn the_security_document_lists_every_route_with_its_role() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/SECURITY.md"),
    )
    .expect("docs/SECURITY.md");
    let routes = attune::api::routes();
    let missing: Vec<String> = routes
        .declared()
        .iter()
        .map(|r| {
            format!(
                "| `{} {}` | {} |",
                r.method.to_uppercase(),
                r.path,
                r.access.as_str()
            )
        })
        .filter(|line| !doc.contains(line.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add these rows to the role table of docs/SECURITY.md:\n{}",
        missing.join("\n")
    );
}
