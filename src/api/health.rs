//! `GET /health`: liveness and database status, no authentication.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::routes::{Access, Routes, endpoint};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new().add(Access::Public, endpoint!(health))
}

/// Health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    pub version: &'static str,
    /// `ok` or `error`.
    pub database: &'static str,
    /// Watch mode: `off`, `inotify` or `polling` (with the reason), the
    /// packs waiting to be synced and the syncs running.
    pub watch: crate::watch::WatchReport,
}

/// Health of the appliance: 200 when the database answers reads and
/// accepts writes, 503 otherwise (for instance after a write failed on a
/// full disk: each check then tries to reopen the database, so the report
/// turns `ok` by itself once there is room again).
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Response {
    let db_ok = matches!(state.store.call(|s| s.ping()).await, Ok(()));
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database: if db_ok { "ok" } else { "error" },
        watch: state.watch.report(),
    };
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
