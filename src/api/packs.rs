//! `/api/v1/packs`: pack CRUD.
//!
//! Every route needs an access token. Refs in the path are checked before
//! any lookup (400). Create answers 201 (409 when the ref exists); `PUT` is a
//! partial update whose body `ref`, if present, must equal the path's. After
//! each create and update [`after_pack_write`] runs: the hook where
//! auto-sync of the pack's workflows plugs in.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{AuthUser, Caller, Json, PackRefPath, Query};
use super::routes::{Access, Routes, endpoint};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::events::Event;
use crate::refs::PackRef;
use crate::store::{NewPack, Pack, PackUpdate, RunSummary};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(list_packs))
        .add(Access::Operator, endpoint!(create_pack))
        .add(Access::Viewer, endpoint!(get_pack))
        .add(Access::Operator, endpoint!(update_pack))
        .add(Access::Operator, endpoint!(delete_pack))
}

/// Longest accepted `label`, in characters.
pub const MAX_LABEL_CHARS: usize = 255;
/// Longest accepted `version`, in characters.
pub const MAX_VERSION_CHARS: usize = 50;

/// Summary of a sync or validation run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunSummaryView {
    pub run_id: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub ok: bool,
    pub error_count: u64,
    pub warning_count: u64,
    pub workflow_count: u64,
}

impl From<RunSummary> for RunSummaryView {
    fn from(r: RunSummary) -> Self {
        RunSummaryView {
            run_id: r.run_id,
            at: r.at,
            ok: r.ok,
            error_count: r.error_count,
            warning_count: r.warning_count,
            workflow_count: r.workflow_count,
        }
    }
}

/// A pack as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackView {
    pub id: u64,
    #[serde(rename = "ref")]
    pub pack_ref: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    #[schema(value_type = Object)]
    pub conf_schema: serde_json::Value,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    #[schema(value_type = Object)]
    pub meta: serde_json::Value,
    pub tags: Vec<String>,
    pub runtime_deps: Vec<String>,
    pub is_standard: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated: OffsetDateTime,
    /// Workflows registered for this pack.
    pub workflow_count: u64,
    /// Latest sync run, if any.
    pub last_sync: Option<RunSummaryView>,
    /// Latest validation run, if any.
    pub last_validation: Option<RunSummaryView>,
}

impl From<Pack> for PackView {
    fn from(p: Pack) -> Self {
        PackView {
            id: p.id,
            pack_ref: p.pack_ref,
            label: p.label,
            description: p.description,
            version: p.version,
            conf_schema: p.conf_schema,
            config: p.config,
            meta: p.meta,
            tags: p.tags,
            runtime_deps: p.runtime_deps,
            is_standard: p.is_standard,
            created: p.created,
            updated: p.updated,
            workflow_count: 0,
            last_sync: p.last_sync.map(Into::into),
            last_validation: p.last_validation.map(Into::into),
        }
    }
}

/// `POST /api/v1/packs` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePackRequest {
    #[serde(rename = "ref")]
    pub pack_ref: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    #[schema(value_type = Option<Object>)]
    pub conf_schema: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub runtime_deps: Vec<String>,
    #[serde(default)]
    pub is_standard: bool,
}

/// `PUT /api/v1/packs/{ref}` body: every field optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePackRequest {
    /// If present, must equal the ref in the path (refs cannot be renamed).
    #[serde(rename = "ref")]
    pub pack_ref: Option<String>,
    pub label: Option<String>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub version: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub conf_schema: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub meta: Option<serde_json::Value>,
    pub tags: Option<Vec<String>>,
    pub runtime_deps: Option<Vec<String>>,
    pub is_standard: Option<bool>,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn check_label(label: &str) -> Result<(), ApiError> {
    let n = label.chars().count();
    if label.trim().is_empty() || n > MAX_LABEL_CHARS {
        return Err(ApiError::ValidationFailed(format!(
            "label must be 1 to {MAX_LABEL_CHARS} characters (got {n})"
        )));
    }
    Ok(())
}

fn check_version(version: &str) -> Result<(), ApiError> {
    let n = version.chars().count();
    if version.trim().is_empty() || n > MAX_VERSION_CHARS {
        return Err(ApiError::ValidationFailed(format!(
            "version must be 1 to {MAX_VERSION_CHARS} characters (got {n})"
        )));
    }
    Ok(())
}

fn check_object(field: &str, value: &serde_json::Value) -> Result<(), ApiError> {
    if value.is_object() {
        Ok(())
    } else {
        Err(ApiError::ValidationFailed(format!(
            "{field} must be a JSON object"
        )))
    }
}

fn object_or_empty(
    field: &str,
    value: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiError> {
    let value = value.unwrap_or_else(|| serde_json::json!({}));
    check_object(field, &value)?;
    Ok(value)
}

/// Hook run after a pack is created or updated: auto-sync of its workflow
/// files with skip-validation-errors semantics, when the pack has a folder
/// (without one there is nothing to load and `last_sync` stays as it was).
/// It never fails the request: files with errors are in the run record and
/// the pack's `last_sync`; a failure of the sync itself is logged.
pub async fn after_pack_write(state: &AppState, pack: &PackRef, caller: &Caller) {
    let dir = state.config.packs_base_dir.join(pack.as_str());
    let has_folder = tokio::task::spawn_blocking(move || dir.is_dir())
        .await
        .unwrap_or(false);
    if !has_folder {
        return;
    }
    let options = crate::sync::SyncOptions {
        dry_run: false,
        prune: false,
        user: caller.user.login.clone(),
        token: caller.token_name(),
        trigger: crate::sync::Trigger::Auto,
        revision_trigger: None,
    };
    if let Err(e) = super::pack_workflows::run_sync(state, pack, options).await {
        tracing::warn!(pack = %pack, error = %e, "auto-sync failed");
    }
}

/// Fills `workflow_count` of pack views from the pack → workflows index.
async fn with_counts(
    state: &AppState,
    mut views: Vec<PackView>,
) -> Result<Vec<PackView>, ApiError> {
    let refs: Vec<String> = views.iter().map(|v| v.pack_ref.clone()).collect();
    let counts = state
        .store
        .call(move |s| {
            refs.iter()
                .map(|r| s.pack_workflow_count(r))
                .collect::<Result<Vec<u64>, _>>()
        })
        .await?;
    for (v, c) in views.iter_mut().zip(counts) {
        v.workflow_count = c;
    }
    Ok(views)
}

pub(crate) async fn view(state: &AppState, pack: Pack) -> Result<PackView, ApiError> {
    let mut v = with_counts(state, vec![pack.into()]).await?;
    v.pop()
        .ok_or_else(|| ApiError::Internal("pack view vanished".into()))
}

/// List packs, ordered by ref.
#[utoipa::path(get, path = "/api/v1/packs", tag = "packs", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = ListEnvelope<PackView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list_packs(
    State(state): State<AppState>,
    _user: AuthUser,
    Query(params): Query<PageParams>,
) -> Result<ListEnvelope<PackView>, ApiError> {
    let (page, per_page) = params.resolve()?;
    let (packs, total) = state
        .store
        .call(move |s| s.list_packs(page, per_page))
        .await?;
    Ok(ListEnvelope {
        data: with_counts(&state, packs.into_iter().map(Into::into).collect()).await?,
        meta: PageParams::meta(page, per_page, total),
        message: None,
    })
}

/// Create a pack (201; 409 when the ref exists).
#[utoipa::path(post, path = "/api/v1/packs", tag = "packs", security(("bearer" = [])),
    request_body = CreatePackRequest,
    responses((status = 201, body = Envelope<PackView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_pack(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreatePackRequest>,
) -> Result<(StatusCode, Envelope<PackView>), ApiError> {
    let pack_ref = PackRef::parse(&body.pack_ref).map_err(ApiError::BadRequest)?;
    check_label(&body.label)?;
    check_version(&body.version)?;
    let new = NewPack {
        pack_ref: pack_ref.as_str().to_string(),
        label: body.label,
        description: body.description,
        version: body.version,
        conf_schema: object_or_empty("conf_schema", body.conf_schema)?,
        config: object_or_empty("config", body.config)?,
        meta: object_or_empty("meta", body.meta)?,
        tags: body.tags,
        runtime_deps: body.runtime_deps,
        is_standard: body.is_standard,
    };
    let pack = state.store.call(move |s| s.create_pack(new)).await?;
    state.events.publish(Event::PackCreated {
        pack_ref: pack_ref.as_str().to_string(),
    });
    after_pack_write(&state, &pack_ref, &caller).await;
    let pack = reread(&state, &pack_ref).await?.unwrap_or(pack);
    Ok((
        StatusCode::CREATED,
        Envelope::with_message(view(&state, pack).await?, "Pack created successfully"),
    ))
}

async fn reread(state: &AppState, pack_ref: &PackRef) -> Result<Option<Pack>, ApiError> {
    let r = pack_ref.as_str().to_string();
    Ok(state.store.call(move |s| s.get_pack(&r)).await?)
}

/// Fetch one pack.
#[utoipa::path(get, path = "/api/v1/packs/{ref}", tag = "packs", security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref")),
    responses((status = 200, body = Envelope<PackView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_pack(
    State(state): State<AppState>,
    _user: AuthUser,
    PackRefPath(pack_ref): PackRefPath,
) -> Result<Envelope<PackView>, ApiError> {
    match reread(&state, &pack_ref).await? {
        Some(pack) => Ok(Envelope::new(view(&state, pack).await?)),
        None => Err(ApiError::NotFound(crate::store::pack_not_found_message(
            pack_ref.as_str(),
        ))),
    }
}

/// Partially update a pack.
#[utoipa::path(put, path = "/api/v1/packs/{ref}", tag = "packs", security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref")),
    request_body = UpdatePackRequest,
    responses((status = 200, body = Envelope<PackView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_pack(
    State(state): State<AppState>,
    caller: Caller,
    PackRefPath(pack_ref): PackRefPath,
    Json(body): Json<UpdatePackRequest>,
) -> Result<Envelope<PackView>, ApiError> {
    if let Some(body_ref) = &body.pack_ref
        && body_ref != pack_ref.as_str()
    {
        return Err(ApiError::BadRequest(format!(
            "ref '{body_ref}' in the body does not match '{pack_ref}' in the path; a pack's ref cannot change"
        )));
    }
    if let Some(label) = &body.label {
        check_label(label)?;
    }
    if let Some(version) = &body.version {
        check_version(version)?;
    }
    for (field, value) in [
        ("conf_schema", &body.conf_schema),
        ("config", &body.config),
        ("meta", &body.meta),
    ] {
        if let Some(v) = value {
            check_object(field, v)?;
        }
    }
    let update = PackUpdate {
        label: body.label,
        description: body.description,
        version: body.version,
        conf_schema: body.conf_schema,
        config: body.config,
        meta: body.meta,
        tags: body.tags,
        runtime_deps: body.runtime_deps,
        is_standard: body.is_standard,
    };
    let r = pack_ref.as_str().to_string();
    let pack = state.store.call(move |s| s.update_pack(&r, update)).await?;
    state.events.publish(Event::PackUpdated {
        pack_ref: pack_ref.as_str().to_string(),
    });
    after_pack_write(&state, &pack_ref, &caller).await;
    let pack = reread(&state, &pack_ref).await?.unwrap_or(pack);
    Ok(Envelope::with_message(
        view(&state, pack).await?,
        "Pack updated successfully",
    ))
}

/// Delete a pack.
#[utoipa::path(delete, path = "/api/v1/packs/{ref}", tag = "packs", security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref")),
    responses((status = 200, body = Envelope<PackView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_pack(
    State(state): State<AppState>,
    _user: AuthUser,
    PackRefPath(pack_ref): PackRefPath,
) -> Result<Envelope<PackView>, ApiError> {
    let r = pack_ref.as_str().to_string();
    // Wait for a running sync of this pack, then delete the pack, its
    // workflows and its runs in one transaction.
    let _guard = state.sync_locks.lock(pack_ref.as_str()).await;
    let pack = state.store.call(move |s| s.delete_pack_cascade(&r)).await?;
    state.events.publish(Event::PackDeleted {
        pack_ref: pack_ref.as_str().to_string(),
    });
    Ok(Envelope::with_message(
        pack.into(),
        format!("Pack '{pack_ref}' deleted"),
    ))
}
