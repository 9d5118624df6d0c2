//! `/api/v1/workflows/{ref}/revisions…` and `/diff`: a workflow's revision
//! history, one revision in full, the diff of two revisions (unified text
//! plus the semantic diff of their normalized definitions), and restore.
//!
//! Reads are for viewers and work after the workflow was deleted (its
//! revisions are kept). Restore is for operators. A workflow created
//! through the API is restored by registering that revision's text as a
//! new revision (validated again: 422 when it no longer passes). A
//! workflow that comes from a file is restored by writing the text back to
//! its file (atomically, inside the pack folder) and syncing the pack; when
//! the file changed on disk since the current revision (or exists while
//! the workflow is not registered) it is refused with 409 and nothing is
//! written.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use super::extract::{AuthUser, Caller, Query};
use super::reports::DiagnosticSchema;
use super::routes::{Access, Routes, endpoint};
use super::workflows::{WorkflowRef, WorkflowRefPath, prepare, revision_ctx};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::pack::restore::{Expect, WriteBackError};
use crate::store::codec::JsonText;
use crate::store::{Revision, RevisionPair};
use crate::sync::{ReportDiagnostic, SyncOptions, Trigger};
use crate::textdiff::{self, TextChange};
use crate::workflow::Diagnostic;
use crate::workflow::diff::{SemanticDiff, diff_definitions};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(list_revisions))
        .add(Access::Viewer, endpoint!(get_revision))
        .add(Access::Viewer, endpoint!(diff_revisions))
        .add(Access::Operator, endpoint!(restore_revision))
}

/// A revision as the history lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionSummary {
    #[serde(rename = "ref")]
    pub r#ref: String,
    /// Number within the workflow, from 1.
    pub n: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Login (`… via token 'name'` for an API token), `watch`, or empty for
    /// a `baseline` (the content registered before history began).
    pub by: String,
    /// `sync`, `auto`, `watch`, `upload`, `create`, `update`, `restore`,
    /// `baseline`.
    pub trigger: String,
    /// The sync run that made it.
    pub run_id: Option<u64>,
    /// Relative to `packs_base_dir`; empty for API workflows.
    pub source_file: String,
    pub content_hash: String,
    pub error_count: u32,
    pub warning_count: u32,
}

impl From<&Revision> for RevisionSummary {
    fn from(r: &Revision) -> Self {
        RevisionSummary {
            r#ref: r.r#ref.clone(),
            n: r.n,
            at: r.at,
            by: r.by.clone(),
            trigger: r.trigger.clone(),
            run_id: r.run_id,
            source_file: r.source_file.clone(),
            content_hash: r.content_hash.clone(),
            error_count: r.error_count,
            warning_count: r.warning_count,
        }
    }
}

/// One revision in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionView {
    #[serde(flatten)]
    pub revision: RevisionSummary,
    /// The YAML text.
    pub source: String,
    /// The normalized definition.
    #[schema(value_type = Object)]
    pub definition: JsonText,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
}

impl From<Revision> for RevisionView {
    fn from(r: Revision) -> Self {
        let diags: Vec<Diagnostic> = if r.diagnostics.get() == "[]" {
            Vec::new()
        } else {
            r.diagnostics.parse().unwrap_or_default()
        };
        let diagnostics = diags
            .into_iter()
            .map(|d| ReportDiagnostic::new(d, Some(&r.source)))
            .collect();
        RevisionView {
            revision: (&r).into(),
            diagnostics,
            definition: r.definition,
            source: r.source,
        }
    }
}

/// The diff of two revisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiffView {
    #[serde(rename = "ref")]
    pub r#ref: String,
    /// Null when `to` is the first revision (everything is added).
    pub from: Option<RevisionSummary>,
    pub to: RevisionSummary,
    #[serde(flatten)]
    pub text: TextChange,
    /// Workflow fields and tasks changed, on the normalized definitions;
    /// `changed: false` and `summary: "no semantic change"` for a
    /// formatting-only change.
    #[schema(value_type = Object)]
    pub semantic: SemanticDiff,
}

/// `?from=N&to=M` of the diff (default: the revision before `to` → the
/// newest).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    pub from: Option<u64>,
    pub to: Option<u64>,
}

/// Answer of a restore.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RestoreResult {
    #[serde(rename = "ref")]
    pub r#ref: String,
    /// The revision whose content was restored.
    pub restored: u64,
    /// The revisions the restore went from and to; null when the workflow
    /// already had that content.
    pub revision: Option<super::reports::RevisionPairView>,
    /// `api` (registered directly) or `file` (written back and synced).
    pub mode: &'static str,
    /// The sync run of a file restore.
    pub run_id: Option<u64>,
}

/// `{ref}` and `{n}` from the path, both checked (400) before any lookup.
pub struct RevisionPath(pub WorkflowRef, pub u64);

impl<S: Send + Sync> FromRequestParts<S> for RevisionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((raw, n)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|e: PathRejection| ApiError::BadRequest(format!("invalid path: {e}")))?;
        let wref = WorkflowRef::parse(&raw).map_err(ApiError::BadRequest)?;
        let n = n
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| revision_number_error(&n))?;
        Ok(RevisionPath(wref, n))
    }
}

fn revision_number_error(n: &str) -> ApiError {
    let shown: String = n.chars().take(32).collect();
    ApiError::BadRequest(format!(
        "invalid revision number '{shown}': use a whole number from 1"
    ))
}

fn revision_not_found(r: &str, n: u64) -> ApiError {
    ApiError::NotFound(format!(
        "Revision {n} of workflow '{r}' not found; list its revisions at /api/v1/workflows/{r}/revisions"
    ))
}

fn no_history(r: &str) -> ApiError {
    ApiError::NotFound(format!("Workflow '{r}' has no revisions"))
}

/// List a workflow's revisions, newest first.
#[utoipa::path(get, path = "/api/v1/workflows/{ref}/revisions", tag = "revisions",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}"), PageParams),
    responses((status = 200, body = ListEnvelope<RevisionSummary>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_revisions(
    State(state): State<AppState>,
    _user: AuthUser,
    WorkflowRefPath(wref): WorkflowRefPath,
    Query(q): Query<PageParams>,
) -> Result<ListEnvelope<RevisionSummary>, ApiError> {
    let (page, per_page) = q.resolve()?;
    let r = wref.as_ref_string();
    let (items, total, exists) = state
        .store
        .call({
            let r = r.clone();
            move |s| {
                let (items, total) = s.list_revisions(&r, page, per_page)?;
                let exists = total > 0 || s.get_workflow(&r)?.is_some();
                Ok((items, total, exists))
            }
        })
        .await?;
    if !exists {
        return Err(ApiError::NotFound(format!("Workflow '{r}' not found")));
    }
    Ok(ListEnvelope {
        data: items.iter().map(RevisionSummary::from).collect(),
        meta: PageParams::meta(page, per_page, total),
        message: None,
    })
}

/// One revision in full: source, normalized definition, diagnostics.
#[utoipa::path(get, path = "/api/v1/workflows/{ref}/revisions/{n}", tag = "revisions",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}"),
        ("n" = u64, Path, description = "Revision number, from 1")),
    responses((status = 200, body = Envelope<RevisionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_revision(
    State(state): State<AppState>,
    _user: AuthUser,
    RevisionPath(wref, n): RevisionPath,
) -> Result<Envelope<RevisionView>, ApiError> {
    let r = wref.as_ref_string();
    let found = state
        .store
        .call({
            let r = r.clone();
            move |s| s.get_revision(&r, n)
        })
        .await?;
    match found {
        Some(rev) => Ok(Envelope::new(rev.into())),
        None => Err(revision_not_found(&r, n)),
    }
}

/// Diff two revisions: unified text of the sources and the semantic diff
/// of the normalized definitions (default: previous → newest).
#[utoipa::path(get, path = "/api/v1/workflows/{ref}/diff", tag = "revisions",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}"), DiffQuery),
    responses((status = 200, body = Envelope<DiffView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn diff_revisions(
    State(state): State<AppState>,
    _user: AuthUser,
    WorkflowRefPath(wref): WorkflowRefPath,
    Query(q): Query<DiffQuery>,
) -> Result<Envelope<DiffView>, ApiError> {
    if q.from == Some(0) || q.to == Some(0) {
        return Err(revision_number_error("0"));
    }
    let r = wref.as_ref_string();
    let view = state
        .store
        .call(move |s| {
            let to_n = match q.to {
                Some(n) => n,
                None => match s.revision_before(&r, u64::MAX)? {
                    Some(n) => n,
                    None => return Ok(Err(no_history(&r))),
                },
            };
            let Some(to) = s.get_revision(&r, to_n)? else {
                return Ok(Err(revision_not_found(&r, to_n)));
            };
            let from_n = match q.from {
                Some(n) => Some(n),
                None => s.revision_before(&r, to_n)?,
            };
            let from = match from_n {
                Some(n) => match s.get_revision(&r, n)? {
                    Some(rev) => Some(rev),
                    None => return Ok(Err(revision_not_found(&r, n))),
                },
                None => None,
            };
            Ok(Ok(diff_view(&r, from, to)))
        })
        .await??;
    Ok(Envelope::new(view))
}

/// The diff of two revisions (`from` none: against nothing). Blocking.
pub fn diff_view(r: &str, from: Option<Revision>, to: Revision) -> DiffView {
    let empty = serde_json::Value::Object(Default::default());
    let parse = |rev: &Revision| rev.definition.parse().unwrap_or_else(|_| empty.clone());
    let old_def = from.as_ref().map(parse).unwrap_or_else(|| empty.clone());
    let new_def = parse(&to);
    let old_name = match &from {
        Some(f) => format!("{r}@{}", f.n),
        None => "/dev/null".to_string(),
    };
    let text = textdiff::diff_text(
        from.as_ref().map(|f| f.source.as_str()).unwrap_or(""),
        &to.source,
        &old_name,
        &format!("{r}@{}", to.n),
    );
    DiffView {
        r#ref: r.to_string(),
        from: from.as_ref().map(RevisionSummary::from),
        to: (&to).into(),
        text,
        semantic: diff_definitions(&old_def, &new_def),
    }
}

/// Restore a revision: registered again (API workflows) or written back to
/// its file and synced (file workflows; 409 when the file changed on disk).
#[utoipa::path(post, path = "/api/v1/workflows/{ref}/revisions/{n}/restore", tag = "revisions",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Workflow ref: {pack_ref}.{name}"),
        ("n" = u64, Path, description = "Revision number, from 1")),
    responses((status = 200, body = Envelope<RestoreResult>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ValidationErrorBody)))]
pub async fn restore_revision(
    State(state): State<AppState>,
    caller: Caller,
    RevisionPath(wref, n): RevisionPath,
) -> Result<Envelope<RestoreResult>, ApiError> {
    let r = wref.as_ref_string();
    super::require_pack(&state, &wref.pack_ref).await?;
    let guard = state.sync_locks.lock(wref.pack_ref.as_str()).await;
    let (rev, current) = state
        .store
        .call({
            let r = r.clone();
            move |s| Ok((s.get_revision(&r, n)?, s.get_workflow(&r)?))
        })
        .await?;
    let rev = rev.ok_or_else(|| revision_not_found(&r, n))?;
    // The workflow's kind now decides; a deleted one is what it was.
    let source_file = match &current {
        Some(c) => c.source_file.clone(),
        None => rev.source_file.clone(),
    };
    // Validated against today's catalog before anything is written.
    let prepared = prepare(&state, &wref, rev.source.clone()).await?;
    let Some(mut content) = prepared.content else {
        return Err(ApiError::invalid(&r, prepared.diagnostics));
    };
    if source_file.is_empty() {
        content.source_file = String::new();
        let ctx = revision_ctx(&state, &caller, "restore");
        let exists = current.is_some();
        let (_, revision) = state
            .store
            .call(move |s| {
                if exists {
                    s.replace_workflow(content, &ctx)
                } else {
                    s.create_workflow(content, &ctx)
                }
            })
            .await?;
        drop(guard);
        return Ok(Envelope::with_message(
            RestoreResult {
                r#ref: r.clone(),
                restored: n,
                revision: revision.map(Into::into),
                mode: "api",
                run_id: None,
            },
            restored_message(&r, n, revision),
        ));
    }
    let base = state.config.packs_base_dir.clone();
    let pack = wref.pack_ref.as_str().to_string();
    let name = wref.name.clone();
    let expected = current.as_ref().map(|c| c.content_hash.clone());
    let max_bytes = state.config.max_workflow_file_bytes;
    let text = rev.source;
    tokio::task::spawn_blocking(move || {
        let expect = match &expected {
            Some(h) => Expect::Hash(h),
            None => Expect::Absent,
        };
        crate::pack::restore::write_back(
            &base,
            &pack,
            &name,
            &source_file,
            &text,
            expect,
            max_bytes,
        )
    })
    .await
    .map_err(|e| ApiError::Internal(format!("restore task failed: {e}")))?
    .map_err(|e| match e {
        WriteBackError::Conflict(m) | WriteBackError::NotRestorable(m) => ApiError::Conflict(m),
        e @ WriteBackError::Io { .. } => ApiError::Internal(e.to_string()),
    })?;
    // The sync takes the pack's lock itself.
    drop(guard);
    let report = state
        .run_sync(
            wref.pack_ref.as_str(),
            SyncOptions {
                dry_run: false,
                prune: false,
                user: caller.user.login.clone(),
                token: caller.token_name(),
                trigger: Trigger::Api,
                revision_trigger: Some("restore"),
            },
        )
        .await?;
    // The sync answer has pairs of updated workflows only; a restored
    // deleted workflow was created again: its newest revision names the run.
    let run_id = report.run_id;
    let revision = state
        .store
        .call({
            let r = r.clone();
            move |s| {
                let Some(newest) = s.revision_before(&r, u64::MAX)? else {
                    return Ok(None);
                };
                let made_now = s
                    .get_revision(&r, newest)?
                    .is_some_and(|rev| rev.run_id.is_some() && rev.run_id == run_id);
                Ok(made_now.then_some(RevisionPair {
                    from: s.revision_before(&r, newest)?,
                    to: newest,
                }))
            }
        })
        .await?;
    Ok(Envelope::with_message(
        RestoreResult {
            r#ref: r.clone(),
            restored: n,
            revision: revision.map(Into::into),
            mode: "file",
            run_id,
        },
        restored_message(&r, n, revision),
    ))
}

fn restored_message(r: &str, n: u64, revision: Option<RevisionPair>) -> String {
    match revision {
        Some(p) => format!(
            "Revision {n} of workflow '{r}' restored as revision {}",
            p.to
        ),
        None => format!("Workflow '{r}' already has the content of revision {n}"),
    }
}
