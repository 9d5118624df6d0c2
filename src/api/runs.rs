//! `/api/v1/runs…`: the history of syncs and validations, newest first
//! (the last 100 per pack are kept).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthUser, Query};
use super::reports::{DiagnosticSchema, FailedWorkflowView, SyncedWorkflowView, TriggerView};
use super::routes::{Access, Routes, endpoint};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::refs::PackRef;
use crate::store::{RunCounts, RunRecord};
use crate::sync::{FailedWorkflow, SyncedWorkflow, Trigger};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(list_runs))
        .add(Access::Viewer, endpoint!(get_run))
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct RunCountsView {
    pub loaded: u64,
    pub registered: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub missing: u64,
    pub pruned: u64,
    pub errors: u64,
    pub warnings: u64,
    pub suppressed: u64,
}

impl From<RunCounts> for RunCountsView {
    fn from(c: RunCounts) -> Self {
        RunCountsView {
            loaded: c.loaded,
            registered: c.registered,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            failed: c.failed,
            missing: c.missing,
            pruned: c.pruned,
            errors: c.errors,
            warnings: c.warnings,
            suppressed: c.suppressed,
        }
    }
}

/// A sync or validation run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    pub id: u64,
    pub pack_ref: String,
    /// `sync` or `validate`.
    pub kind: String,
    /// Login of the user who started it; empty when no user did (a
    /// watch sync).
    pub user: String,
    /// What started it: `api` (a request), `auto` (the sync after a pack
    /// was created or updated), `watch` (a change on disk) or `upload`
    /// (the sync of an uploaded archive).
    pub trigger: TriggerView,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started: OffsetDateTime,
    pub duration_ms: u64,
    pub dry_run: bool,
    pub prune: bool,
    pub counts: RunCountsView,
}

impl From<&RunRecord> for RunView {
    fn from(r: &RunRecord) -> Self {
        RunView {
            id: r.id,
            pack_ref: r.pack_ref.clone(),
            kind: r.kind.clone(),
            user: r.user.clone(),
            trigger: r
                .details
                .get("trigger")
                .and_then(|t| serde_json::from_value::<Trigger>(t.clone()).ok())
                .unwrap_or_default()
                .into(),
            started: r.started,
            duration_ms: r.duration_ms,
            dry_run: r.dry_run,
            prune: r.prune,
            counts: r.counts.into(),
        }
    }
}

/// A run with everything it reported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunView,
    /// Registered workflows (sync runs; empty for validations).
    pub workflows: Vec<SyncedWorkflowView>,
    pub failed: Vec<FailedWorkflowView>,
    pub missing: Vec<String>,
    pub pruned: Vec<String>,
    /// Sync: one string per failed workflow (or the folder error).
    /// Validation: map ref → every error message.
    #[schema(value_type = serde_json::Value)]
    pub errors: serde_json::Value,
    /// Validation runs: map ref → every warning message; null for syncs.
    #[schema(value_type = Option<Object>)]
    pub warnings: serde_json::Value,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: serde_json::Value,
}

fn field<T: serde::de::DeserializeOwned + Default>(details: &serde_json::Value, key: &str) -> T {
    details
        .get(key)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

impl From<RunRecord> for RunDetail {
    fn from(r: RunRecord) -> Self {
        let d = &r.details;
        let errors = match d.get("errors") {
            Some(v) => v.clone(),
            None => serde_json::json!([]),
        };
        let diagnostics = match d.get("diagnostics") {
            Some(v @ serde_json::Value::Array(_)) => v.clone(),
            _ => serde_json::json!([]),
        };
        RunDetail {
            run: (&r).into(),
            workflows: field::<Vec<SyncedWorkflow>>(d, "workflows")
                .into_iter()
                .map(Into::into)
                .collect(),
            failed: field::<Vec<FailedWorkflow>>(d, "failed")
                .into_iter()
                .map(Into::into)
                .collect(),
            missing: field(d, "missing"),
            pruned: field(d, "pruned"),
            errors,
            warnings: d
                .get("warnings")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            diagnostics,
        }
    }
}

/// `GET /api/v1/runs` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Only runs of this pack.
    pub pack_ref: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// List runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", security(("bearer" = [])),
    params(RunQuery),
    responses((status = 200, body = ListEnvelope<RunView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(q): Query<RunQuery>,
) -> Result<ListEnvelope<RunView>, ApiError> {
    let (page, per_page) = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve()?;
    let pack = match q.pack_ref {
        Some(p) => Some(PackRef::parse(&p).map_err(ApiError::BadRequest)?),
        None => None,
    };
    let (runs, total) = state
        .store
        .call(move |s| s.list_runs(pack.as_ref().map(PackRef::as_str), page, per_page))
        .await?;
    Ok(ListEnvelope {
        data: runs.iter().map(RunView::from).collect(),
        meta: PageParams::meta(page, per_page, total),
        message: None,
    })
}

/// Fetch one run with its report.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Run id")),
    responses((status = 200, body = Envelope<RunDetail>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    _user: AuthUser,
    raw: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Envelope<RunDetail>, ApiError> {
    let axum::extract::Path(raw) =
        raw.map_err(|e| ApiError::BadRequest(format!("invalid path: {e}")))?;
    let id: u64 = raw.parse().map_err(|_| {
        let shown: String = raw.chars().take(32).collect();
        ApiError::BadRequest(format!(
            "invalid run id '{shown}': expected a positive integer"
        ))
    })?;
    match state.store.call(move |s| s.get_run(id)).await? {
        Some(run) => Ok(Envelope::new(run.into())),
        None => Err(ApiError::NotFound(format!("Run {id} not found"))),
    }
}
