//! `GET /metrics`: the Prometheus / OpenMetrics text of [`crate::metrics`].
//!
//! Off by default (`metrics.enabled`): then the route answers 404 like an
//! unknown one. With `metrics.token` set, a scrape must send
//! `Authorization: Bearer <token>` (compared in constant time; 401
//! otherwise). Not behind the user tokens: a Prometheus server has no
//! attune account, and the series carry no pack names, refs or logins.

use std::collections::HashSet;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody};
use super::routes::{Access, Routes, endpoint};
use crate::AppState;
use crate::metrics::Snapshot;

/// Public in the route table: it has its own credential (`metrics.token`),
/// checked by the handler.
pub fn router() -> Routes {
    Routes::new().add(Access::Public, endpoint!(metrics))
}

/// The OpenMetrics content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Equal-length digests: the comparison time does not depend on where
    // the inputs differ, nor on the token's length.
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// Prometheus metrics (OpenMetrics text); `metrics.enabled`, optional
/// `metrics.token`.
#[utoipa::path(get, path = "/metrics", tag = "metrics", security((), ("metrics_token" = [])),
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let config = &state.config.metrics;
    if !config.enabled {
        return Err(ApiError::NotFound(
            "metrics are disabled; set metrics.enabled (ATTUNE__METRICS__ENABLED=true)".into(),
        ));
    }
    if let Some(token) = &config.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), token.expose().as_bytes())) {
            return Err(ApiError::Unauthorized(
                "missing or wrong metrics token: send 'Authorization: Bearer <metrics.token>'"
                    .into(),
            ));
        }
    }
    let st = state.clone();
    let (workflows, packs, db_up) = state
        .store
        .call(move |s| {
            let up = s.ping().is_ok();
            let counts = s.workflow_counts().ok();
            let packs = s
                .list_packs(1, u64::MAX)
                .ok()
                .map(|(p, _)| p.into_iter().map(|p| p.pack_ref).collect::<HashSet<_>>());
            Ok((counts, packs, up))
        })
        .await?;
    let db_size = tokio::fs::metadata(st.store.path())
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    st.metrics.set_snapshot(&Snapshot {
        workflows,
        packs: packs.as_ref(),
        db_size,
        db_up,
        reopens: st.store.reopens(),
        watch: &st.watch,
        event_streams: st.events.subscribers(),
        budget: &st.work_budget,
    });
    let text = st
        .metrics
        .encode()
        .map_err(|e| ApiError::Internal(format!("cannot encode metrics: {e}")))?;
    let mut res = text.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Records every request: matched route template, method, status, time
/// to the response head.
pub async fn record(
    State(metrics): State<std::sync::Arc<crate::metrics::Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = crate::metrics::method_label(req.method());
    // A cheap clone (the template is shared), not a copy of the text.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    metrics.http_request(
        method,
        route.as_ref().map(MatchedPath::as_str),
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}
