//! The HTTP layer: the only module that speaks HTTP.
//!
//! One module per resource, each with `pub fn router() -> routes::Routes`
//! declaring every route once with its minimum role (see [`routes`]), and
//! its handlers beside the routes. [`routes`] gathers them; the axum router
//! and the OpenAPI document are both derived from that one table.
//! [`router`] assembles them with the shared layers: request-body limit (413 in the envelope), one log line per
//! request, the login throttle, and JSON fallbacks for unknown routes and
//! methods. [`request_deadline`] (408) is applied by `crate::app_with_limits`.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod auth_cache;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod openapi_rules;
pub mod pack_delivery;
pub mod pack_workflows;
pub mod packs;
pub mod reports;
pub mod revisions;
pub mod routes;
pub mod runs;
pub mod tokens;
pub mod users;
pub mod workflows;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;

use crate::AppState;
pub use error::ApiError;

/// Success envelope: `{"data": …, "message": …}` (message only when set).
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl<T: Serialize> Envelope<T> {
    pub fn new(data: T) -> Self {
        Envelope {
            data,
            message: None,
        }
    }

    pub fn with_message(data: T, message: impl Into<String>) -> Self {
        Envelope {
            data,
            message: Some(message.into()),
        }
    }
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

/// Pagination facts of a list response.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct PageMeta {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub total_pages: u64,
    /// Workflow lists: pass it back as `?cursor=` for the next page (as
    /// cheap as the first); absent on the last page and on other lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// List envelope: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEnvelope<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl<T: Serialize> IntoResponse for ListEnvelope<T> {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

/// The pack with this ref, or 404 "Pack '…' not found".
pub(crate) async fn require_pack(
    state: &AppState,
    pack_ref: &crate::refs::PackRef,
) -> Result<crate::store::Pack, ApiError> {
    let r = pack_ref.as_str().to_string();
    Ok(state.store.call(move |s| s.require_pack(&r)).await?)
}

/// Default and maximum page sizes of list endpoints.
pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;

/// `?page=&per_page=` of list endpoints.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1 (default 1).
    pub page: Option<u64>,
    /// Items per page, 1..=100 (default 20).
    pub per_page: Option<u64>,
}

impl PageParams {
    /// Checked `(page, per_page)`.
    pub fn resolve(self) -> Result<(u64, u64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page == 0 {
            return Err(ApiError::BadRequest(
                "page must be 1 or more (pages count from 1)".into(),
            ));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ApiError::BadRequest(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        Ok((page, per_page))
    }

    /// Meta for a page of a list of `total` items.
    pub fn meta(page: u64, per_page: u64, total: u64) -> PageMeta {
        PageMeta {
            page,
            per_page,
            total,
            total_pages: total.div_ceil(per_page),
            next_cursor: None,
        }
    }
}

/// Every route of the API, each declared once with its minimum role (and
/// its body kind: JSON under the 2 MiB limit, or streaming).
pub fn routes() -> routes::Routes {
    routes::Routes::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(packs::router())
        .merge(pack_delivery::router())
        .merge(pack_workflows::router())
        .merge(workflows::router())
        .merge(revisions::router())
        .merge(runs::router())
        .merge(admin::router())
        .merge(events::router())
        .merge(metrics::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(openapi::router())
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let router = routes()
        .into_router(&state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_response));
    // The request series cost a little per request: recorded only when
    // metrics are on.
    let router = if state.config.metrics.enabled {
        // Only the registry is cloned into each request, not the whole
        // state (a dozen reference counts touched per request otherwise).
        router.layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
    } else {
        router
    };
    router
        .layer(axum::Extension(Arc::new(
            crate::auth::ratelimit::LoginLimiter::default(),
        )))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn(envelope_for_plain_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // Fields are evaluated only when the span is enabled:
                    // no allocation per request at the default log level.
                    tracing::info_span!("request", method = %req.method(),
                        path = %req.extensions().get::<MatchedPath>().map_or("(unmatched)", |p| p.as_str()),
                        user = tracing::field::Empty)
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_ms = (latency.as_secs_f64() * 100_000.0).round() / 100.0,
                        "request"
                    );
                })
                .on_failure(()),
        )
        .with_state(state)
}

/// A handler that panics (a bug) answers 500 in the envelope, logged with
/// the panic message, and every other request goes on (the release build
/// unwinds; see docs/OPERATIONS.md, "Panics").
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    ApiError::Internal(format!("request handler panicked: {detail}")).into_response()
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("method {method} is not allowed on {}", uri.path()))
}

/// Layers below (the body limit) answer some errors in plain text; rewrite
/// those into the envelope so every error a client sees has the same shape.
async fn envelope_for_plain_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json && res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let mut res = ApiError::body_too_large().into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    res
}

/// Answers 408 (and closes the connection) when a request, body upload
/// included, is not answered within `limit`: a client that trickles its
/// body cannot hold a connection and a task forever.
pub async fn request_deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::RequestTimeout(format!(
            "request was not completed within {} s; send the whole request at once and retry",
            limit.as_secs()
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod panic_tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_envelope() {
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let v: Vec<u8> = Vec::new();
                    format!("{}", v[3])
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let res = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "INTERNAL");
        assert_eq!(body["error"], "internal server error; see the server log");
    }
}
