//! Embedded web UI: serves the single-page app in `web/` from the binary
//! (rust-embed), under versioned asset URLs, and owns the security headers
//! middleware applied to every response of the appliance.
//!
//! - `GET /` answers `index.html` with `Cache-Control: no-cache`; the
//!   placeholder `__ASSET_BASE__` in it is replaced by `/ui/{version}`.
//! - `GET /docs/rules` answers the rules reference (`rules.html`, generated
//!   from the data-driven cases by `tests/workflow/rules_doc.rs`; each rule
//!   is an anchor named by its code), the same way and without login, so a
//!   diagnostic's `help_uri` works offline.
//! - `GET /ui/{version}/{path}` answers an embedded asset with
//!   `Cache-Control: public, max-age=31536000, immutable`. The version is a
//!   hash of every embedded file, computed once when the router is built, so
//!   a new binary with changed assets gets new URLs and browsers never mix
//!   old and new files.
//! - Anything else under `/ui/` is a 404 with the API error envelope.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::{Path, Request},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

/// The web UI files, embedded in release builds (read from `web/` on disk in
/// debug builds, which keeps UI work free of recompiles).
#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// Placeholder in `index.html` replaced by the versioned asset prefix.
const ASSET_BASE_PLACEHOLDER: &str = "__ASSET_BASE__";

/// The Content-Security-Policy sent with every response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
const CACHE_NO_CACHE: &str = "no-cache";

/// What the router needs at request time: the asset version and the
/// rendered index page.
struct Ui {
    version: String,
    index: Option<Vec<u8>>,
    rules: Option<Vec<u8>>,
}

impl Ui {
    fn load() -> Self {
        let version = assets_version();
        let base = format!("/ui/{version}");
        let page = |name: &str| {
            Assets::get(name).and_then(|file| {
                std::str::from_utf8(&file.data)
                    .ok()
                    .map(|text| text.replace(ASSET_BASE_PLACEHOLDER, &base).into_bytes())
            })
        };
        Ui {
            index: page("index.html"),
            rules: page("rules.html"),
            version,
        }
    }
}

/// A short hash over the names and contents of every embedded file.
fn assets_version() -> String {
    let mut names: Vec<String> = Assets::iter().map(|name| name.into_owned()).collect();
    names.sort();
    let mut hasher = Sha256::new();
    for name in &names {
        hasher.update(name.as_bytes());
        hasher.update([0u8]);
        if let Some(file) = Assets::get(name) {
            hasher.update(file.metadata.sha256_hash());
        }
    }
    let digest = hasher.finalize();
    hex::encode(&digest[..6])
}

/// The UI routes: `/` and `/ui/{version}/{path}`. Stateless, so it merges
/// into any application router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let ui = Arc::new(Ui::load());
    let index_ui = ui.clone();
    let index_ui2 = ui.clone();
    let rules_ui = ui.clone();
    Router::new()
        .route("/", get(move || index(index_ui.clone())))
        .route("/index.html", get(move || index(index_ui2.clone())))
        .route(
            crate::workflow::rules::RULES_PATH,
            get(move || page(rules_ui.rules.clone(), "the rules reference")),
        )
        .route(
            "/ui/{*path}",
            get(move |Path(path): Path<String>| asset(ui.clone(), path)),
        )
}

async fn index(ui: Arc<Ui>) -> Response {
    page(ui.index.clone(), "the web ui").await
}

async fn page(body: Option<Vec<u8>>, what: &str) -> Response {
    match body {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, CACHE_NO_CACHE),
            ],
            body,
        )
            .into_response(),
        None => not_found(&format!("{what} is not part of this build")),
    }
}

async fn asset(ui: Arc<Ui>, path: String) -> Response {
    let Some((version, file)) = path.split_once('/') else {
        return not_found("no such ui asset; reload the page");
    };
    if version != ui.version || !is_safe_asset_path(file) {
        return not_found("no such ui asset; reload the page");
    }
    match Assets::get(file) {
        Some(content) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type(file))
            .header(header::CACHE_CONTROL, CACHE_IMMUTABLE)
            .body(Body::from(content.data.into_owned()))
            .unwrap_or_else(|_| not_found("no such ui asset; reload the page")),
        None => not_found("no such ui asset; reload the page"),
    }
}

/// Relative, forward-slash paths of plain segments only.
fn is_safe_asset_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// Content type from the file extension; the UI only ships these kinds.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// A 404 in the API's error envelope.
fn not_found(message: &str) -> Response {
    crate::api::ApiError::NotFound(message.to_string()).into_response()
}

/// Middleware that adds the security headers to every response (UI and API).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    fn app() -> Router {
        router().layer(axum::middleware::from_fn(security_headers))
    }

    async fn get_path(path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let request = HttpRequest::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request builds");
        let response = app().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("body reads");
        (status, headers, body.to_vec())
    }

    fn header_str(headers: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    fn asset_base() -> String {
        format!("/ui/{}", assets_version())
    }

    #[tokio::test]
    async fn index_is_html_not_cached_and_points_at_versioned_assets() {
        let (status, headers, body) = get_path("/").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header_str(&headers, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_str(&headers, header::CACHE_CONTROL), "no-cache");
        let text = String::from_utf8(body).expect("index is utf-8");
        assert!(!text.contains(ASSET_BASE_PLACEHOLDER));
        assert!(text.contains(&format!("{}/app.css", asset_base())));
        assert!(text.contains(&format!("{}/js/main.js", asset_base())));
    }

    #[tokio::test]
    async fn versioned_assets_have_their_content_type_and_are_immutable() {
        for (file, expected) in [
            ("app.css", "text/css; charset=utf-8"),
            ("js/main.js", "text/javascript; charset=utf-8"),
            ("js/graph.js", "text/javascript; charset=utf-8"),
        ] {
            let (status, headers, body) = get_path(&format!("{}/{file}", asset_base())).await;
            assert_eq!(status, StatusCode::OK, "{file}");
            assert_eq!(header_str(&headers, header::CONTENT_TYPE), expected);
            assert_eq!(
                header_str(&headers, header::CACHE_CONTROL),
                "public, max-age=31536000, immutable"
            );
            assert!(!body.is_empty());
        }
    }

    #[tokio::test]
    async fn every_response_carries_the_security_headers() {
        for path in ["/", "/ui/nope/app.css"] {
            let (_, headers, _) = get_path(path).await;
            assert_eq!(
                header_str(&headers, header::CONTENT_SECURITY_POLICY),
                CONTENT_SECURITY_POLICY
            );
            assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
            assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
            assert_eq!(
                header_str(&headers, header::X_CONTENT_TYPE_OPTIONS),
                "nosniff"
            );
            assert_eq!(header_str(&headers, header::REFERRER_POLICY), "no-referrer");
            assert_eq!(header_str(&headers, header::X_FRAME_OPTIONS), "DENY");
        }
    }

    #[tokio::test]
    async fn unknown_assets_answer_the_not_found_envelope() {
        let base = asset_base();
        for path in [
            format!("{base}/no-such-file.js"),
            "/ui/0000000000/app.css".to_string(),
            "/ui/app.css".to_string(),
            format!("{base}/../Cargo.toml"),
            format!("{base}/js/../../Cargo.toml"),
            format!("{base}/"),
        ] {
            let (status, headers, body) = get_path(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                header_str(&headers, header::CONTENT_TYPE),
                "application/json"
            );
            let json: serde_json::Value = serde_json::from_slice(&body).expect("json body");
            assert_eq!(json["code"], "NOT_FOUND");
            assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
    }

    #[test]
    fn no_embedded_file_names_an_external_url_or_inline_code() {
        for name in Assets::iter() {
            let file = Assets::get(&name).expect("listed file exists");
            let text = String::from_utf8_lossy(&file.data).to_lowercase();
            assert!(!text.contains("http://"), "{name} names an http url");
            assert!(!text.contains("https://"), "{name} names an https url");
            assert!(!text.contains("//cdn"), "{name} names a cdn");
            if name.ends_with(".html") {
                assert!(!text.contains(" style="), "{name} has an inline style");
                assert!(!text.contains("<style"), "{name} has an inline style");
                assert!(!text.contains(" onclick="), "{name} has an inline handler");
                for (index, _) in text.match_indices("<script") {
                    let tag =
                        &text[index..text[index..].find('>').map_or(text.len(), |e| index + e)];
                    assert!(tag.contains(" src="), "{name} has an inline script");
                }
            }
        }
    }

    #[test]
    fn asset_paths_must_be_plain_relative_paths() {
        assert!(is_safe_asset_path("js/main.js"));
        assert!(is_safe_asset_path("app.css"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "js/../../x",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(!is_safe_asset_path(bad), "{bad}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("a.JS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
