//! `/api/v1/packs/{ref}/workflows…`: the API document's sync and validate endpoints
//! and the list of a pack's workflows, plus the auto-sync run after a pack
//! is created or updated.
//!
//! Sync and validation run on the blocking pool (`spawn_blocking`), so a big
//! pack never stalls other requests; a per-pack lock serializes syncs of one
//! pack while other packs proceed.

use axum::extract::State;
use serde::Deserialize;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthUser, Caller, PackRefPath, Query};
use super::reports::{SyncReportView, ValidateReportView};
use super::routes::{Access, Routes, endpoint};
use super::workflows::{WorkflowPageParams, WorkflowView, page_meta, resolve_position};
use super::{Envelope, ListEnvelope};
use crate::AppState;
use crate::refs::PackRef;
use crate::sync::{self, SyncOptions, SyncReport};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(list_pack_workflows))
        .add(Access::Operator, endpoint!(sync_workflows))
        .add(Access::Viewer, endpoint!(validate_workflows))
}

/// The API document's success message of a sync.
pub const SYNCED_MESSAGE: &str = "Pack workflows synced successfully";
/// The API document's success message of a validation.
pub const VALIDATED_MESSAGE: &str = "Pack workflows validated";

/// `?dry_run=&prune=` of a sync.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncParams {
    /// Report what a sync would do and write nothing.
    pub dry_run: Option<bool>,
    /// Delete registered workflows whose file is gone.
    pub prune: Option<bool>,
}

/// Runs a sync of `pack_ref` under its lock (see [`AppState::run_sync`]).
pub async fn run_sync(
    state: &AppState,
    pack_ref: &PackRef,
    options: SyncOptions,
) -> Result<SyncReport, ApiError> {
    Ok(state.run_sync(pack_ref.as_str(), options).await?)
}

/// Sync the pack's workflow files into the database.
#[utoipa::path(post, path = "/api/v1/packs/{ref}/workflows/sync", tag = "pack workflows",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref"), SyncParams),
    responses((status = 200, description = "message \"Pack workflows synced successfully\"",
            body = Envelope<SyncReportView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn sync_workflows(
    State(state): State<AppState>,
    caller: Caller,
    PackRefPath(pack_ref): PackRefPath,
    Query(params): Query<SyncParams>,
) -> Result<Envelope<SyncReportView>, ApiError> {
    super::require_pack(&state, &pack_ref).await?;
    let options = SyncOptions {
        dry_run: params.dry_run.unwrap_or(false),
        prune: params.prune.unwrap_or(false),
        token: caller.token_name(),
        user: caller.user.login,
        trigger: sync::Trigger::Api,
        revision_trigger: None,
    };
    let report = run_sync(&state, &pack_ref, options).await?;
    Ok(Envelope::with_message(report.into(), SYNCED_MESSAGE))
}

/// Validate the pack's workflow files without registering them.
#[utoipa::path(post, path = "/api/v1/packs/{ref}/workflows/validate", tag = "pack workflows",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref")),
    responses((status = 200, description = "message \"Pack workflows validated\"",
            body = Envelope<ValidateReportView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn validate_workflows(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PackRefPath(pack_ref): PackRefPath,
) -> Result<Envelope<ValidateReportView>, ApiError> {
    super::require_pack(&state, &pack_ref).await?;
    let report = state.run_validate(pack_ref.as_str(), &user.login).await?;
    Ok(Envelope::with_message(report.into(), VALIDATED_MESSAGE))
}

/// The workflows registered for a pack (without their source).
#[utoipa::path(get, path = "/api/v1/packs/{ref}/workflows", tag = "pack workflows",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref"), WorkflowPageParams),
    responses((status = 200, body = ListEnvelope<WorkflowView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_pack_workflows(
    State(state): State<AppState>,
    _user: AuthUser,
    PackRefPath(pack_ref): PackRefPath,
    Query(params): Query<WorkflowPageParams>,
) -> Result<ListEnvelope<WorkflowView>, ApiError> {
    let (page, per_page, start) =
        resolve_position(params.page, params.per_page, params.cursor.as_deref(), true)?;
    super::require_pack(&state, &pack_ref).await?;
    let filter = crate::store::WorkflowFilter {
        pack_ref: Some(pack_ref.into_string()),
        ..Default::default()
    };
    let mut listed = state
        .store
        .call(move |s| s.list_workflows(&filter, &start, per_page))
        .await?;
    let meta = page_meta(page, per_page, &listed);
    Ok(ListEnvelope {
        data: std::mem::take(&mut listed.items)
            .into_iter()
            .map(WorkflowView::from)
            .collect(),
        meta,
        message: None,
    })
}
