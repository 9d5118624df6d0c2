//! `GET /api/v1/audit` (admin): the audit log, newest first, with filters
//! (`user` exact, `action` and `target` substrings, `since` RFC 3339) and
//! pages. What is recorded and when: `store::audit`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Query;
use super::routes::{Access, Routes, endpoint};
use super::{ListEnvelope, PageParams};
use crate::AppState;
use crate::store::audit::{AuditEntry, AuditFilter};

pub fn router() -> Routes {
    Routes::new().add(Access::Admin, endpoint!(list_audit))
}

/// `?user=&action=&target=&since=&page=&per_page=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this login.
    pub user: Option<String>,
    /// Only actions containing this (e.g. `delete_pack`, `login`).
    pub action: Option<String>,
    /// Only targets containing this (e.g. a pack ref).
    pub target: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    pub since: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub user: String,
    /// `session <id>`, `token <name>`, or empty.
    pub via: String,
    pub client: String,
    pub action: String,
    pub target: String,
    /// `ok` or `failed (<status>)`.
    pub outcome: String,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at,
            user: e.user,
            via: e.via,
            client: e.client,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
        }
    }
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = ListEnvelope<AuditView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<ListEnvelope<AuditView>, ApiError> {
    let (page, per_page) = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let since = match q.since.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(
                |_| {
                    ApiError::BadRequest(
                        "since must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z".into(),
                    )
                },
            )?,
        ),
    };
    let filter = AuditFilter {
        user: q.user.filter(|s| !s.is_empty()),
        action: q.action.filter(|s| !s.is_empty()),
        target: q.target.filter(|s| !s.is_empty()),
        since,
    };
    let (entries, total) = state
        .store
        .call(move |s| s.list_audit(&filter, page, per_page))
        .await?;
    Ok(ListEnvelope {
        data: entries.into_iter().map(AuditView::from).collect(),
        meta: PageParams::meta(page, per_page, total),
        message: None,
    })
}
