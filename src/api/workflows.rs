//! `/api/v1/workflows…`: workflow CRUD, validation of a YAML text, and the
//! JSON Schema of the workflow format.
//!
//! Refs in the path split at their last dot into a pack ref and a workflow
//! name, both checked (400) before any lookup. Definitions sent through the
//! API pass the same validator and catalog as a sync: 422 with
//! `diagnostics` when they have errors. Writes take the pack's sync lock.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use super::extract::{AuthUser, Caller, Json, Query};
use super::reports::DiagnosticSchema;
use super::routes::{Access, Routes, endpoint};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::refs::PackRef;
use crate::store::codec::JsonText;
use crate::store::{
    Author, ListKey, ListPage, RevisionCtx, RevisionPair, Start, WorkflowFilter, WorkflowRecord,
};
use crate::sync::{self, ReportDiagnostic};
use crate::workflow::{Diagnostic, is_valid_name};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(list_workflows))
        .add(Access::Operator, endpoint!(create_workflow))
        .add(Access::Viewer, endpoint!(validate_workflow))
        .add(Access::Viewer, endpoint!(get_workflow))
        .add(Access::Operator, endpoint!(update_workflow))
        .add(Access::Operator, endpoint!(delete_workflow))
        .add(Access::Viewer, endpoint!(workflow_schema))
        .add(Access::Viewer, endpoint!(workflow_graph_schema))
}

/// A workflow as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowView {
    pub id: u64,
    #[serde(rename = "ref")]
    pub r#ref: String,
    pub pack_ref: String,
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    /// JSON-Schema form; null when none is declared.
    #[schema(value_type = Object)]
    pub param_schema: JsonText,
    #[schema(value_type = Object)]
    pub out_schema: JsonText,
    /// The normalized definition.
    #[schema(value_type = Object)]
    pub definition: JsonText,
    pub tags: Vec<String>,
    pub enabled: bool,
    /// The file now has errors; this is the last good version.
    pub stale: bool,
    /// The workflow file (for an action-linked workflow its graph file),
    /// relative to `packs_base_dir`; empty for workflows created through the API.
    pub source_file: String,
    /// An action-linked workflow's action file (the one whose
    /// `workflow_file` names `source_file`), relative to `packs_base_dir`;
    /// null for a standalone workflow file.
    pub action_file: Option<String>,
    /// Hex sha256 of the source.
    pub content_hash: String,
    pub warnings: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated: OffsetDateTime,
}

impl From<WorkflowRecord> for WorkflowView {
    fn from(w: WorkflowRecord) -> Self {
        WorkflowView {
            id: w.id,
            r#ref: w.r#ref,
            pack_ref: w.pack_ref,
            name: w.name,
            label: w.label,
            description: w.description,
            version: w.version,
            param_schema: w.param_schema,
            out_schema: w.out_schema,
            definition: w.definition,
            tags: w.tags,
            enabled: w.enabled,
            stale: w.stale,
            source_file: w.source_file,
            action_file: w.action_file,
            content_hash: w.content_hash,
            warnings: w.warnings,
            created: w.created,
            updated: w.updated,
        }
    }
}

/// One workflow with its source text and warning diagnostics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub workflow: WorkflowView,
    /// The original YAML text.
    pub source: String,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
    /// The revisions this write went from and to (create and update
    /// answers; absent when nothing was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<super::reports::RevisionPairView>,
}

impl WorkflowDetail {
    fn with_revision(mut self, revision: Option<RevisionPair>) -> WorkflowDetail {
        self.revision = revision.map(Into::into);
        self
    }
}

/// Who a revision names for an API write: the login, and the API token's
/// name when one was used.
pub fn author_of(caller: &Caller, trigger: &str) -> Author {
    let token = caller.api_token.as_ref().map(|(_, name)| name.as_str());
    Author::of_login(&caller.user.login, token, trigger)
}

/// The revision context of an API write.
pub fn revision_ctx(state: &AppState, caller: &Caller, trigger: &str) -> RevisionCtx {
    RevisionCtx {
        policy: state.revision_policy(),
        author: author_of(caller, trigger),
        run_id: None,
    }
}

impl From<WorkflowRecord> for WorkflowDetail {
    fn from(mut w: WorkflowRecord) -> Self {
        // Most workflows have no warning: skip the parse of `[]`.
        let diags: Vec<Diagnostic> = if w.diagnostics.get() == "[]" {
            Vec::new()
        } else {
            w.diagnostics.parse().unwrap_or_default()
        };
        let source = std::mem::take(&mut w.source);
        let diagnostics = diags
            .into_iter()
            .map(|d| ReportDiagnostic::new(d, Some(&source)))
            .collect();
        WorkflowDetail {
            workflow: w.into(),
            source,
            diagnostics,
            revision: None,
        }
    }
}

/// A checked workflow ref from the path: `{pack_ref}.{name}`.
#[derive(Debug, Clone)]
pub struct WorkflowRef {
    pub pack_ref: PackRef,
    pub name: String,
}

impl WorkflowRef {
    /// Splits at the last dot; both parts checked.
    pub fn parse(s: &str) -> Result<WorkflowRef, String> {
        let shown: String = s.chars().take(64).collect();
        let Some((pack, name)) = s.rsplit_once('.') else {
            return Err(format!(
                "invalid workflow ref '{shown}': expected '{{pack_ref}}.{{name}}'"
            ));
        };
        let pack_ref = PackRef::parse(pack)?;
        check_name(name)?;
        Ok(WorkflowRef {
            pack_ref,
            name: name.to_string(),
        })
    }

    pub fn as_ref_string(&self) -> String {
        format!("{}.{}", self.pack_ref, self.name)
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.len() > 255 || !is_valid_name(name) {
        let shown: String = name.chars().take(64).collect();
        return Err(format!(
            "invalid workflow name '{shown}': use 1 to 255 letters, digits, '_' and '-'"
        ));
    }
    Ok(())
}

/// Path extractor for `{ref}` of a workflow: 400 before any lookup.
pub struct WorkflowRefPath(pub WorkflowRef);

impl<S: Send + Sync> FromRequestParts<S> for WorkflowRefPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e: PathRejection| ApiError::BadRequest(format!("invalid path: {e}")))?;
        WorkflowRef::parse(&raw)
            .map(WorkflowRefPath)
            .map_err(ApiError::BadRequest)
    }
}

/// `GET /api/v1/workflows` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// Page number, from 1 (default 1); not with `cursor`.
    pub page: Option<u64>,
    /// Items per page, 1..=100 (default 20).
    pub per_page: Option<u64>,
    /// `meta.next_cursor` of the previous page: the next page, as cheap as
    /// the first; not with `page`.
    pub cursor: Option<String>,
    /// Comma-separated tags; every one must be present.
    pub tags: Option<String>,
    pub enabled: Option<bool>,
    /// `true`: only workflows whose file now has errors; `false`: only the others.
    pub stale: Option<bool>,
    /// Case-insensitive text searched in the ref, label and description.
    pub search: Option<String>,
    pub pack_ref: Option<String>,
}

/// `?page=&per_page=&cursor=` of a workflow list (`GET /api/v1/packs/{ref}/workflows`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowPageParams {
    /// Page number, from 1 (default 1); not with `cursor`.
    pub page: Option<u64>,
    /// Items per page, 1..=100 (default 20).
    pub per_page: Option<u64>,
    /// `meta.next_cursor` of the previous page; not with `page`.
    pub cursor: Option<String>,
}

/// Longest cursor accepted (a page number, a kind and a 255-byte name).
const MAX_CURSOR_LEN: usize = 300;

/// Where a workflow list page starts: `(page, per_page, start)`. `by_name`
/// is the list's order (a pack's list is by name, others by id); a cursor
/// of the other order is refused.
pub(crate) fn resolve_position(
    page: Option<u64>,
    per_page: Option<u64>,
    cursor: Option<&str>,
    by_name: bool,
) -> Result<(u64, u64, Start), ApiError> {
    let Some(cursor) = cursor else {
        let (page, per_page) = PageParams { page, per_page }.resolve()?;
        let skip = page.saturating_sub(1).saturating_mul(per_page);
        return Ok((page, per_page, Start::Offset(skip)));
    };
    if page.is_some() {
        return Err(ApiError::BadRequest(
            "use either page or cursor, not both".into(),
        ));
    }
    let (_, per_page) = PageParams {
        page: None,
        per_page,
    }
    .resolve()?;
    let invalid = || {
        ApiError::BadRequest(
            "invalid cursor: pass back meta.next_cursor of the previous page unchanged".into(),
        )
    };
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let (page, key) = cursor.split_once('.').ok_or_else(invalid)?;
    let page: u64 = page.parse().map_err(|_| invalid())?;
    if page < 2 {
        return Err(invalid());
    }
    let key = match key.split_at_checked(1) {
        Some(("i", id)) => ListKey::Id(id.parse().map_err(|_| invalid())?),
        Some(("n", name)) => {
            check_name(name).map_err(|_| invalid())?;
            ListKey::Name(name.to_string())
        }
        _ => return Err(invalid()),
    };
    if matches!(key, ListKey::Name(_)) != by_name {
        return Err(ApiError::BadRequest(
            "this cursor belongs to a list of another order (pack_ref given or not); \
             start again without cursor"
                .into(),
        ));
    }
    Ok((page, per_page, Start::After(key)))
}

/// The `meta` of a workflow list page, with its `next_cursor`.
pub(crate) fn page_meta(page: u64, per_page: u64, listed: &ListPage) -> super::PageMeta {
    let mut meta = PageParams::meta(page, per_page, listed.total);
    meta.next_cursor = listed.next.as_ref().map(|k| match k {
        ListKey::Id(id) => format!("{}.i{id}", page.saturating_add(1)),
        ListKey::Name(n) => format!("{}.n{n}", page.saturating_add(1)),
    });
    meta
}

/// Body of `POST /api/v1/workflows` and `POST /api/v1/workflows/validate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowTextRequest {
    pub pack_ref: String,
    /// Workflow name (the ref is `{pack_ref}.{name}`).
    pub name: String,
    /// The workflow's YAML text.
    pub yaml: String,
}

/// `DELETE /api/v1/workflows/{ref}` options.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also remove the workflow's revisions (default: they are kept, so the
    /// delete can be undone by a restore).
    pub purge: Option<bool>,
}

/// Body of `PUT /api/v1/workflows/{ref}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflowRequest {
    pub enabled: Option<bool>,
    /// New YAML text, validated like a create.
    pub yaml: Option<String>,
}

/// Answer of `POST /api/v1/workflows/validate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextValidation {
    pub valid: bool,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
    /// The normalized definition, null when there are errors.
    #[schema(value_type = Option<Object>)]
    pub workflow: Option<JsonText>,
}

fn text_ref(body: &WorkflowTextRequest) -> Result<WorkflowRef, ApiError> {
    let pack_ref = PackRef::parse(&body.pack_ref).map_err(ApiError::BadRequest)?;
    check_name(&body.name).map_err(ApiError::BadRequest)?;
    Ok(WorkflowRef {
        pack_ref,
        name: body.name.clone(),
    })
}

/// The size check and the memory budget every text validation passes.
async fn admit_text(state: &AppState, yaml: &str) -> Result<crate::budget::Admission, ApiError> {
    let limits = state.sync_limits();
    if yaml.len() as u64 > limits.max_file_bytes {
        return Err(ApiError::PayloadTooLarge(format!(
            "yaml is {} bytes; the limit is {} bytes (max_workflow_file_bytes)",
            yaml.len(),
            limits.max_file_bytes
        )));
    }
    let cost = crate::budget::WorkBudget::cost_of_text(yaml.len() as u64);
    let admitted = state
        .work_budget
        .admit(cost, crate::budget::Wait::Bounded)
        .await;
    Ok(admitted.inspect_err(|_| {
        tracing::warn!(cost, "validation refused: the memory budget stayed full");
    })?)
}

/// The signature of a text validation on the sync pool.
type TextCheck<T> = fn(
    &crate::store::Store,
    &std::path::Path,
    sync::SyncLimits,
    &str,
    &str,
    &str,
) -> Result<T, crate::store::StoreError>;

/// Runs one text validation after the size check and the memory budget, on
/// the sync pool (threads at nice 10), so requests keep the cores.
async fn on_pool<T: Send + 'static>(
    state: &AppState,
    wref: &WorkflowRef,
    yaml: String,
    f: TextCheck<T>,
) -> Result<T, ApiError> {
    let admitted = admit_text(state, &yaml).await?;
    let store = state.store.clone();
    let base = state.config.packs_base_dir.clone();
    let limits = state.sync_limits();
    let pack = wref.pack_ref.as_str().to_string();
    let name = wref.name.clone();
    tokio::task::spawn_blocking(move || {
        // The budget is held by the work, not the request: a client that
        // gives up does not free memory the validation still uses.
        let _held = admitted;
        sync::run_in_pool(|| f(&store, &base, limits, &pack, &name, &yaml))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))?
    .map_err(ApiError::from)
}

/// Validates a text to store (create, update, restore): the content comes
/// with it.
pub(crate) async fn prepare(
    state: &AppState,
    wref: &WorkflowRef,
    yaml: String,
) -> Result<sync::PreparedWorkflow, ApiError> {
    on_pool(state, wref, yaml, sync::prepare_workflow).await
}

/// Validates a text that is not stored (`POST /api/v1/workflows/validate`).
async fn check(
    state: &AppState,
    wref: &WorkflowRef,
    yaml: String,
) -> Result<sync::CheckedText, ApiError> {
    on_pool(state, wref, yaml, sync::check_text).await
}

/// List workflows.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", security(("bearer" = [])),
    params(WorkflowQuery),
    responses((status = 200, body = ListEnvelope<WorkflowView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(q): Query<WorkflowQuery>,
) -> Result<ListEnvelope<WorkflowView>, ApiError> {
    let (page, per_page, start) = resolve_position(
        q.page,
        q.per_page,
        q.cursor.as_deref(),
        q.pack_ref.is_some(),
    )?;
    if let Some(p) = &q.pack_ref {
        PackRef::parse(p).map_err(ApiError::BadRequest)?;
    }
    let filter = WorkflowFilter {
        pack_ref: q.pack_ref,
        tags: q
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        enabled: q.enabled,
        stale: q.stale,
        search: q.search.filter(|s| !s.trim().is_empty()),
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

/// Create a workflow from a YAML text (201; 422 with diagnostics; 404
/// unknown pack; 409 duplicate).
#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows", security(("bearer" = [])),
    request_body = WorkflowTextRequest,
    responses((status = 201, body = Envelope<WorkflowDetail>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ValidationErrorBody)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<WorkflowTextRequest>,
) -> Result<Response, ApiError> {
    let wref = text_ref(&body)?;
    super::require_pack(&state, &wref.pack_ref).await?;
    let r = wref.as_ref_string();
    {
        let r2 = r.clone();
        if state
            .store
            .call(move |s| s.get_workflow(&r2))
            .await?
            .is_some()
        {
            return Err(ApiError::Conflict(format!("Workflow '{r}' already exists")));
        }
    }
    let _guard = state.sync_locks.lock(wref.pack_ref.as_str()).await;
    let prepared = prepare(&state, &wref, body.yaml).await?;
    let Some(content) = prepared.content else {
        return Err(ApiError::invalid(&r, prepared.diagnostics));
    };
    let ctx = revision_ctx(&state, &caller, "create");
    let (rec, revision) = state
        .store
        .call(move |s| s.create_workflow(content, &ctx))
        .await?;
    Ok((
        StatusCode::CREATED,
        Envelope::with_message(
            WorkflowDetail::from(rec).with_revision(revision),
            "Workflow created successfully",
        ),
    )
        .into_response())
}

/// Validate a YAML text as a workflow of a pack; nothing is stored.
#[utoipa::path(post, path = "/api/v1/workflows/validate", tag = "workflows",
    security(("bearer" = [])),
    request_body = WorkflowTextRequest,
    responses((status = 200, body = Envelope<TextValidation>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn validate_workflow(
    State(state): State<AppState>,
    _user: AuthUser,
    Json(body): Json<WorkflowTextRequest>,
) -> Result<Envelope<TextValidation>, ApiError> {
    let wref = text_ref(&body)?;
    let checked = check(&state, &wref, body.yaml).await?;
    Ok(Envelope::new(TextValidation {
        valid: checked.valid,
        diagnostics: checked.diagnostics,
        workflow: checked.definition,
    }))
}

/// Fetch one workflow with its source and diagnostics.
#[utoipa::path(get, path = "/api/v1/workflows/{ref}", tag = "workflows", security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}")),
    responses((status = 200, body = Envelope<WorkflowDetail>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    _user: AuthUser,
    WorkflowRefPath(wref): WorkflowRefPath,
) -> Result<Envelope<WorkflowDetail>, ApiError> {
    let r = wref.as_ref_string();
    let found = state
        .store
        .call({
            let r = r.clone();
            move |store| store.get_workflow(&r)
        })
        .await?;
    match found {
        Some(rec) => Ok(Envelope::new(rec.into())),
        None => Err(ApiError::NotFound(format!("Workflow '{r}' not found"))),
    }
}

/// Change `enabled` and/or replace the YAML text (re-validated).
#[utoipa::path(put, path = "/api/v1/workflows/{ref}", tag = "workflows", security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}")),
    request_body = UpdateWorkflowRequest,
    responses((status = 200, body = Envelope<WorkflowDetail>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ValidationErrorBody)))]
pub async fn update_workflow(
    State(state): State<AppState>,
    caller: Caller,
    WorkflowRefPath(wref): WorkflowRefPath,
    Json(body): Json<UpdateWorkflowRequest>,
) -> Result<Response, ApiError> {
    let r = wref.as_ref_string();
    let _guard = state.sync_locks.lock(wref.pack_ref.as_str()).await;
    let existing = {
        let r = r.clone();
        state.store.call(move |s| s.get_workflow(&r)).await?
    }
    .ok_or_else(|| ApiError::NotFound(format!("Workflow '{r}' not found")))?;
    let mut rec = existing;
    let mut revision = None;
    if let Some(yaml) = body.yaml {
        let prepared = prepare(&state, &wref, yaml).await?;
        let Some(mut content) = prepared.content else {
            return Err(ApiError::invalid(&r, prepared.diagnostics));
        };
        content.source_file = rec.source_file.clone();
        let ctx = revision_ctx(&state, &caller, "update");
        (rec, revision) = state
            .store
            .call(move |s| s.replace_workflow(content, &ctx))
            .await?;
    }
    if let Some(enabled) = body.enabled {
        let r = r.clone();
        rec = state
            .store
            .call(move |s| s.set_workflow_enabled(&r, enabled))
            .await?;
    }
    Ok(Envelope::with_message(
        WorkflowDetail::from(rec).with_revision(revision),
        "Workflow updated successfully",
    )
    .into_response())
}

/// Delete a workflow; its revisions are kept unless `purge=true`.
#[utoipa::path(delete, path = "/api/v1/workflows/{ref}", tag = "workflows",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}"), DeleteQuery),
    responses((status = 200, body = Envelope<WorkflowView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    _user: AuthUser,
    WorkflowRefPath(wref): WorkflowRefPath,
    Query(q): Query<DeleteQuery>,
) -> Result<Envelope<WorkflowView>, ApiError> {
    let r = wref.as_ref_string();
    let purge = q.purge.unwrap_or(false);
    let _guard = state.sync_locks.lock(wref.pack_ref.as_str()).await;
    let rec = {
        let r = r.clone();
        state
            .store
            .call(move |s| s.delete_workflow(&r, purge))
            .await?
    };
    Ok(Envelope::with_message(
        rec.into(),
        format!("Workflow '{r}' deleted"),
    ))
}

/// The JSON Schema of the workflow format.
#[utoipa::path(get, path = "/api/v1/schema/workflow.json", tag = "schema",
    security(("bearer" = [])),
    responses((status = 200, description = "JSON Schema (draft 2020-12)", body = Object),
        (status = 401, body = ErrorBody)))]
pub async fn workflow_schema(_user: AuthUser) -> axum::Json<serde_json::Value> {
    axum::Json(crate::workflow::schema::workflow_schema())
}

/// The JSON Schema of graph-only files: an action-linked workflow's
/// `workflow_file` (upstream's layout).
#[utoipa::path(get, path = "/api/v1/schema/workflow-graph.json", tag = "schema",
    security(("bearer" = [])),
    responses((status = 200, description = "JSON Schema (draft 2020-12)", body = Object),
        (status = 401, body = ErrorBody)))]
pub async fn workflow_graph_schema(_user: AuthUser) -> axum::Json<serde_json::Value> {
    axum::Json(crate::workflow::schema::graph_schema())
}
