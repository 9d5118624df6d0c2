//! Packs onto the appliance: discovery of pack folders on disk
//! (`GET /api/v1/packs/available`), registering them from their
//! `pack.yaml` (`POST /api/v1/packs/register`), uploading an archive
//! (`POST /api/v1/packs/upload`) and exporting a pack folder
//! (`GET /api/v1/packs/{ref}/archive`). Operator actions; every route needs
//! an access token.
//!
//! An upload is streamed to an unnamed temporary file in the data dir
//! (never held in memory; `max_pack_archive_bytes`, 413 past it), unpacked
//! into a staging folder under `packs_base_dir` (`pack::archive`: hostile
//! entries refused by name), checked, and swapped in by rename under the
//! pack's lock (`pack::stage`), then registered and synced with `prune` in
//! the same request. `dry_run` stops after a dry-run sync of the staged
//! folder and leaves nothing behind. Bad manifests answer 422 with
//! diagnostics in the form workflow validation uses.

use std::io::{Seek, SeekFrom, Write};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Envelope;
use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use super::extract::{Caller, Json, PackRefPath, Query};
use super::packs::{PackView, view};
use super::reports::{DiagnosticSchema, SyncReportView};
use super::routes::{Access, Routes, endpoint};
use crate::AppState;
use crate::pack::archive::{self, ArchiveError, ArchiveLimits};
use crate::pack::{discover, manifest, stage};
use crate::refs::PackRef;
use crate::sync::register::{self, RegisterError};
use crate::sync::{ReportDiagnostic, SyncOptions};
use crate::workflow::diagnostic::{Code, Diagnostic};

/// Routes under the 2 MiB JSON body limit.
pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(available))
        .add(Access::Operator, endpoint!(register_packs))
        .add(Access::Viewer, endpoint!(export_archive))
        // Outside the JSON body limit, bounded by `max_pack_archive_bytes`
        // while it streams.
        .add_streaming(Access::Operator, endpoint!(upload))
}

fn from_register(e: RegisterError) -> ApiError {
    match e {
        RegisterError::FolderNotFound(_) => ApiError::NotFound(e.to_string()),
        RegisterError::Exists(_) => ApiError::Conflict(e.to_string()),
        RegisterError::Invalid {
            message,
            diagnostics,
        } => ApiError::Invalid {
            message,
            diagnostics,
        },
        RegisterError::Io(e) => ApiError::Internal(e.to_string()),
        RegisterError::Sync(e) => e.into(),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("pack task failed: {e}")))?
}

/// One folder on disk that is not a registered pack.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableFolder {
    /// The folder's name under `packs_base_dir`.
    pub folder: String,
    /// What its `pack.yaml` says (null when it has no valid one).
    #[serde(rename = "ref")]
    pub pack_ref: Option<String>,
    pub label: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    /// `*.yaml`/`*.yml` files in its `workflows/` folder.
    pub workflow_count: u64,
    /// True when `POST /api/v1/packs/register` would accept it.
    pub valid: bool,
    /// Every problem: no `pack.yaml`, unparsable (with line and column),
    /// ref differing from the folder name, invalid folder name.
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub problems: Vec<ReportDiagnostic>,
}

/// Folders under `packs_base_dir` that are not registered packs, each with
/// what its `pack.yaml` says and its problems (sorted by folder name).
#[utoipa::path(get, path = "/api/v1/packs/available", tag = "pack delivery",
    security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<AvailableFolder>>),
        (status = 401, body = ErrorBody)))]
pub async fn available(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Envelope<Vec<AvailableFolder>>, ApiError> {
    let base = state.config.packs_base_dir.clone();
    let max = state.config.max_workflow_file_bytes;
    let store = state.store.clone();
    let list = blocking(move || {
        let folders = discover::discover(&base, max)
            .map_err(|e| ApiError::Internal(format!("cannot list packs_base_dir: {e}")))?;
        let mut out = Vec::new();
        for f in folders {
            if PackRef::parse(&f.name).is_ok() && store.get_pack(&f.name)?.is_some() {
                continue;
            }
            let m = f.load.manifest.as_ref();
            out.push(AvailableFolder {
                valid: f.is_valid(),
                folder: f.name.clone(),
                pack_ref: m.map(|m| m.pack_ref.to_string()),
                label: m.map(|m| m.label.clone()),
                version: m.map(|m| m.version.clone()),
                description: m.and_then(|m| m.description.clone()),
                workflow_count: f.workflow_count,
                problems: register::manifest_diagnostics(&f.load),
            });
        }
        Ok(out)
    })
    .await?;
    Ok(Envelope::new(list))
}

/// `POST /api/v1/packs/register` body: `ref` or `"all": true`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The folder (and ref) to register.
    #[serde(rename = "ref")]
    pub pack_ref: Option<String>,
    /// Register every valid folder that is not registered yet.
    #[serde(default)]
    pub all: bool,
    /// Update packs that are already registered from their `pack.yaml`
    /// (409 otherwise; with `all`, also re-register registered folders).
    #[serde(default)]
    pub force: bool,
}

/// A pack registered from its folder, and its sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredPack {
    pub pack: PackView,
    /// False when an existing pack was updated (`force`).
    pub created: bool,
    pub sync: SyncReportView,
}

/// A folder `all` did not register, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedFolder {
    pub folder: String,
    pub reason: String,
    #[schema(value_type = Vec<DiagnosticSchema>)]
    pub diagnostics: Vec<ReportDiagnostic>,
}

/// Answer of `"all": true`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterAllResult {
    pub registered: Vec<RegisteredPack>,
    pub skipped: Vec<SkippedFolder>,
}

/// The answer of a register call: one pack, or all.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RegisterResult {
    One(Box<RegisteredPack>),
    All(RegisterAllResult),
}

async fn register_one(
    state: &AppState,
    pack_ref: &PackRef,
    force: bool,
    caller: &Caller,
) -> Result<RegisteredPack, ApiError> {
    let guard = state.sync_locks.lock(pack_ref.as_str()).await;
    // The sync of the registered folder takes a run's budget.
    let admitted = state.admit_run(crate::budget::Wait::Bounded).await?;
    let store = state.store.clone();
    let base = state.config.packs_base_dir.clone();
    let limits = state.sync_limits();
    let r = pack_ref.clone();
    let options = SyncOptions {
        user: caller.user.login.clone(),
        token: caller.token_name(),
        ..SyncOptions::default()
    };
    let done = blocking(move || {
        // Lock and budget held by the work (see `AppState::run_sync`).
        let _held = (guard, admitted);
        register::register_folder(&store, &base, limits, &r, force, options).map_err(from_register)
    })
    .await?;
    state.events.publish(if done.created {
        crate::events::Event::PackCreated {
            pack_ref: pack_ref.as_str().to_string(),
        }
    } else {
        crate::events::Event::PackUpdated {
            pack_ref: pack_ref.as_str().to_string(),
        }
    });
    Ok(RegisteredPack {
        pack: view(state, done.pack).await?,
        created: done.created,
        sync: done.sync.into(),
    })
}

/// Register pack folders from their `pack.yaml` and sync their workflows.
#[utoipa::path(post, path = "/api/v1/packs/register", tag = "pack delivery",
    security(("bearer" = [])),
    request_body = RegisterRequest,
    responses((status = 201, description = "one pack created", body = Envelope<RegisteredPack>),
        (status = 200, description = "a pack updated (force), or the result of all", body = Envelope<RegisterResult>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "bad pack.yaml", body = ValidationErrorBody)))]
pub async fn register_packs(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Envelope<RegisterResult>), ApiError> {
    match (&body.pack_ref, body.all) {
        (Some(r), false) => {
            let pack_ref = PackRef::parse(r).map_err(ApiError::BadRequest)?;
            let one = register_one(&state, &pack_ref, body.force, &caller).await?;
            let status = if one.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let message = if one.created {
                format!("Pack '{pack_ref}' registered")
            } else {
                format!("Pack '{pack_ref}' updated from its pack.yaml")
            };
            Ok((
                status,
                Envelope::with_message(RegisterResult::One(Box::new(one)), message),
            ))
        }
        (None, true) => {
            let base = state.config.packs_base_dir.clone();
            let max = state.config.max_workflow_file_bytes;
            let store = state.store.clone();
            let force = body.force;
            let folders = blocking(move || {
                let folders = discover::discover(&base, max)
                    .map_err(|e| ApiError::Internal(format!("cannot list packs_base_dir: {e}")))?;
                let mut out = Vec::new();
                for f in folders {
                    let registered =
                        PackRef::parse(&f.name).is_ok() && store.get_pack(&f.name)?.is_some();
                    if !registered || force {
                        out.push(f);
                    }
                }
                Ok(out)
            })
            .await?;
            let mut result = RegisterAllResult {
                registered: Vec::new(),
                skipped: Vec::new(),
            };
            for f in folders {
                let skip = |reason: String, diagnostics| SkippedFolder {
                    folder: f.name.clone(),
                    reason,
                    diagnostics,
                };
                let Ok(pack_ref) = PackRef::parse(&f.name) else {
                    result.skipped.push(skip(
                        "the folder name is not a valid pack ref".into(),
                        register::manifest_diagnostics(&f.load),
                    ));
                    continue;
                };
                match register_one(&state, &pack_ref, force, &caller).await {
                    Ok(one) => result.registered.push(one),
                    Err(ApiError::Invalid {
                        message,
                        diagnostics,
                    }) => result.skipped.push(skip(message, diagnostics)),
                    Err(ApiError::Conflict(m) | ApiError::NotFound(m)) => {
                        result.skipped.push(skip(m, Vec::new()))
                    }
                    Err(other) => return Err(other),
                }
            }
            let message = format!(
                "{} pack(s) registered, {} folder(s) skipped",
                result.registered.len(),
                result.skipped.len()
            );
            Ok((
                StatusCode::OK,
                Envelope::with_message(RegisterResult::All(result), message),
            ))
        }
        _ => Err(ApiError::BadRequest(
            "send either {\"ref\": \"<folder>\"} or {\"all\": true}".into(),
        )),
    }
}

/// `?force=&dry_run=` of an upload (the multipart fields of the same names
/// win).
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// Replace an existing pack (and its folder); 409 otherwise.
    pub force: Option<bool>,
    /// Unpack, check and dry-run sync only; nothing is kept.
    pub dry_run: Option<bool>,
}

/// The multipart body of an upload, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The archive: `.tar.gz` or `.zip` holding one pack, its `pack.yaml` at
    /// the top or inside one top folder.
    #[schema(value_type = String, format = Binary)]
    pub pack: Vec<u8>,
    /// `true` to replace an existing pack.
    pub force: Option<bool>,
    /// `true` to check only.
    pub dry_run: Option<bool>,
}

/// Answer of an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResult {
    #[serde(rename = "ref")]
    pub pack_ref: String,
    pub dry_run: bool,
    /// True when the pack is new (or would be, for a dry run).
    pub created: bool,
    /// Files and bytes the archive unpacked to.
    pub files: u64,
    pub bytes: u64,
    /// The registered pack (null for a dry run).
    pub pack: Option<PackView>,
    /// The sync (a dry-run sync for a dry run).
    pub sync: SyncReportView,
}

/// Most bytes of a text field (`force`, `dry_run`).
const MAX_TEXT_FIELD: usize = 16;

fn parse_flag(name: &str, text: &str) -> Result<bool, ApiError> {
    match text.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "field '{name}' must be true or false, not '{}'",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!(
        "malformed multipart body: {}; send multipart/form-data with the archive in field 'pack'",
        e.body_text()
    ))
}

/// Upload a pack archive (multipart field `pack`): unpack, check, swap in,
/// register and sync; or check only (`dry_run`).
#[utoipa::path(post, path = "/api/v1/packs/upload", tag = "pack delivery",
    security(("bearer" = [])),
    params(UploadParams),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "a new pack registered", body = Envelope<UploadResult>),
        (status = 200, description = "a pack replaced (force), or a dry run", body = Envelope<UploadResult>),
        (status = 400, description = "not an archive, corrupt, or a hostile entry (named)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "bad pack.yaml or a file over max_workflow_file_bytes", body = ValidationErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UploadParams>,
    req: Request,
) -> Result<(StatusCode, Envelope<UploadResult>), ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType(
            "send the archive as multipart/form-data in field 'pack' (curl -F pack=@my_pack.tar.gz)"
                .into(),
        ));
    }
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let max = state.config.max_pack_archive_bytes;
    let data_dir = state.config.data_dir.clone();
    let mut force = params.force.unwrap_or(false);
    let mut dry_run = params.dry_run.unwrap_or(false);
    let mut archive: Option<(std::fs::File, u64)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "pack" => {
                if archive.is_some() {
                    return Err(ApiError::BadRequest(
                        "field 'pack' appears twice; send one archive per upload".into(),
                    ));
                }
                let dir = data_dir.clone();
                let file = blocking(move || {
                    tempfile::tempfile_in(&dir).map_err(|e| {
                        ApiError::Internal(format!("cannot create a temporary file: {e}"))
                    })
                })
                .await?;
                let std_copy = file.try_clone().map_err(|e| {
                    ApiError::Internal(format!("cannot reopen the temporary file: {e}"))
                })?;
                let mut out = tokio::fs::File::from_std(file);
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > max {
                        return Err(ApiError::PayloadTooLarge(format!(
                            "the pack archive is larger than {max} bytes (max_pack_archive_bytes); send a smaller archive or raise the limit"
                        )));
                    }
                    tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
                        .await
                        .map_err(|e| write_error(&e))?;
                }
                tokio::io::AsyncWriteExt::flush(&mut out)
                    .await
                    .map_err(|e| write_error(&e))?;
                archive = Some((std_copy, size));
            }
            "force" | "dry_run" => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_FIELD {
                        return Err(ApiError::BadRequest(format!(
                            "field '{name}' must be true or false"
                        )));
                    }
                }
                let v = parse_flag(&name, &String::from_utf8_lossy(&text))?;
                if name == "force" {
                    force = v;
                } else {
                    dry_run = v;
                }
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown field '{}'; an upload has the fields pack, force and dry_run",
                    other.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    let Some((file, _size)) = archive else {
        return Err(ApiError::BadRequest(
            "no field 'pack'; send the archive as multipart field 'pack' (curl -F pack=@my_pack.tar.gz)"
                .into(),
        ));
    };
    deliver(&state, file, force, dry_run, &caller).await
}

fn write_error(e: &std::io::Error) -> ApiError {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        ApiError::InsufficientStorage(
            "no space left in the data directory for the uploaded archive; free disk space and retry"
                .into(),
        )
    } else {
        ApiError::Internal(format!("cannot write the uploaded archive: {e}"))
    }
}

fn from_archive(e: ArchiveError, limits: &ArchiveLimits) -> ApiError {
    match e {
        ArchiveError::FileTooLarge { ref entry, limit } => ApiError::Invalid {
            message: e.to_string(),
            diagnostics: vec![ReportDiagnostic::new(
                Diagnostic::new(
                    Code::FileTooLarge,
                    format!("file is larger than {limit} bytes; the limit is {} bytes", limits.max_file_bytes),
                    1,
                    1,
                )
                .with_hint("split the file or raise max_workflow_file_bytes")
                .with_source(None, Some(entry)),
                None,
            )],
        },
        ArchiveError::Io(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
            ApiError::InsufficientStorage(
                "no space left under packs_base_dir to unpack the archive; free disk space and retry"
                    .into(),
            )
        }
        ArchiveError::Io(e) => {
            ApiError::Internal(format!("cannot unpack the archive: {e}"))
        }
        other => ApiError::BadRequest(other.to_string()),
    }
}

/// Unpack, check, and (unless `dry_run`) swap in, register and sync.
pub async fn deliver(
    state: &AppState,
    mut file: std::fs::File,
    force: bool,
    dry_run: bool,
    caller: &Caller,
) -> Result<(StatusCode, Envelope<UploadResult>), ApiError> {
    let user = caller.user.login.as_str();
    let token = caller.token_name();
    let base = state.config.packs_base_dir.clone();
    let limits = ArchiveLimits {
        max_files: state.config.max_pack_files,
        max_unpacked_bytes: state.config.max_pack_unpacked_bytes,
        max_file_bytes: state.config.max_workflow_file_bytes,
    };
    let started = std::time::Instant::now();
    let (staging, manifest, unpacked) = blocking(move || {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ApiError::Internal(format!("cannot rewind the archive: {e}")))?;
        let staging = stage::Staging::create(&base).map_err(|e| {
            ApiError::Internal(format!(
                "cannot create a staging folder under packs_base_dir: {e}"
            ))
        })?;
        let unpacked = archive::unpack(&mut file, &staging.unpacked(), limits)
            .map_err(|e| from_archive(e, &limits))?;
        drop(file);
        let root = archive::pack_root(&staging.unpacked()).map_err(|e| from_archive(e, &limits))?;
        let pack_dir = staging
            .settle(&root)
            .map_err(|e| ApiError::Internal(format!("cannot move the staged pack: {e}")))?;
        let load = manifest::load_manifest(&pack_dir, None, limits.max_file_bytes);
        match load.manifest.clone() {
            Some(m) if !load.diagnostics.iter().any(Diagnostic::is_error) => {
                Ok((staging, m, unpacked))
            }
            _ => Err(from_register(register::invalid(
                &load,
                "the archive's pack.yaml",
            ))),
        }
    })
    .await?;
    let unpack_ms = started.elapsed().as_millis();
    let pack_ref = manifest.pack_ref.clone();
    // Two uploads of one pack, or an upload and a sync, run one after the other.
    let guard = state.sync_locks.lock(pack_ref.as_str()).await;
    // The sync (or dry run) of the unpacked pack takes a run's budget.
    let admitted = state.admit_run(crate::budget::Wait::Bounded).await?;
    let store = state.store.clone();
    let base = state.config.packs_base_dir.clone();
    let sync_limits = state.sync_limits();
    let user = user.to_string();
    let (created, sync, pack, swap_ms) = blocking(move || {
        // Lock and budget held by the work: a request dropped at its
        // deadline leaves the swap and sync running to their end, still
        // serialized with other uploads and syncs of the pack.
        let _held = (guard, admitted);
        let r = pack_ref.as_str();
        let registered = store.get_pack(r)?.is_some();
        let target = base.join(r);
        let folder = std::fs::symlink_metadata(&target).is_ok();
        if (registered || folder) && !force {
            let what = if registered {
                format!("pack '{r}' is already registered")
            } else {
                format!("a folder '{r}' already exists under packs_base_dir")
            };
            return Err(ApiError::Conflict(format!(
                "{what}; send force=true to replace it with the uploaded one"
            )));
        }
        let staged = staging.path().join("pack");
        if dry_run {
            let sync = crate::sync::dry_run_staged(&store, &base, &staged, sync_limits, r)?;
            return Ok((!registered, sync, None, 0));
        }
        let swap_start = std::time::Instant::now();
        staging
            .swap_into(&target)
            .map_err(|e| ApiError::Internal(format!("cannot swap the pack folder in: {e}")))?;
        let swap_ms = swap_start.elapsed().as_millis();
        let (_, created) =
            register::apply_manifest(&store, &manifest, true).map_err(from_register)?;
        let sync = crate::sync::sync_pack(
            &store,
            &base,
            sync_limits,
            r,
            SyncOptions {
                dry_run: false,
                prune: true,
                user: user.clone(),
                token,
                trigger: crate::sync::Trigger::Upload,
                revision_trigger: None,
            },
        )?;
        // The previous folder (now in the staging folder) goes with it.
        drop(staging);
        let pack = store.get_pack(r)?;
        Ok((created, sync, pack, swap_ms))
    })
    .await?;
    tracing::info!(
        pack = %sync.pack_ref,
        dry_run,
        files = unpacked.files,
        bytes = unpacked.bytes,
        unpack_ms,
        swap_ms,
        sync_ms = sync.duration_ms,
        "pack upload"
    );
    if let Some(p) = &pack {
        let pack_ref = p.pack_ref.clone();
        state.events.publish(if created {
            crate::events::Event::PackCreated { pack_ref }
        } else {
            crate::events::Event::PackUpdated { pack_ref }
        });
    }
    let pack = match pack {
        Some(p) => Some(view(state, p).await?),
        None => None,
    };
    let r = sync.pack_ref.clone();
    let result = UploadResult {
        pack_ref: r.clone(),
        dry_run,
        created,
        files: unpacked.files,
        bytes: unpacked.bytes,
        pack,
        sync: sync.into(),
    };
    let (status, message) = if dry_run {
        (
            StatusCode::OK,
            format!("Dry run of pack '{r}': nothing was changed"),
        )
    } else if created {
        (
            StatusCode::CREATED,
            format!("Pack '{r}' uploaded and registered"),
        )
    } else {
        (StatusCode::OK, format!("Pack '{r}' replaced by the upload"))
    };
    Ok((status, Envelope::with_message(result, message)))
}

/// The pack's folder as a deterministic `.tar.gz` (sorted entries, fixed
/// mtimes and owners): uploading it elsewhere gives the same content hashes.
#[utoipa::path(get, path = "/api/v1/packs/{ref}/archive", tag = "pack delivery",
    security(("bearer" = [])),
    params(("ref" = String, Path, description = "Pack ref")),
    responses((status = 200, description = "the pack folder (application/gzip)",
            content_type = "application/gzip", body = Vec<u8>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export_archive(
    State(state): State<AppState>,
    _caller: Caller,
    PackRefPath(pack_ref): PackRefPath,
) -> Result<Response, ApiError> {
    let r = pack_ref.as_str().to_string();
    if state.store.call(move |s| s.get_pack(&r)).await?.is_none() {
        return Err(ApiError::NotFound(format!("Pack '{pack_ref}' not found")));
    }
    let guard = state.sync_locks.lock(pack_ref.as_str()).await;
    let dir = state.config.packs_base_dir.join(pack_ref.as_str());
    let data_dir = state.config.data_dir.clone();
    let top = pack_ref.as_str().to_string();
    let (file, len) = blocking(move || {
        let _held = guard;
        if !dir.is_dir() {
            return Err(ApiError::NotFound(format!(
                "pack '{top}' has no folder under packs_base_dir; there is nothing to export"
            )));
        }
        let mut file = tempfile::tempfile_in(&data_dir)
            .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
        archive::build_tar_gz(&dir, &top, std::io::BufWriter::new(&mut file)).map_err(
            |e| match e {
                archive::BuildError::Io(e) => {
                    ApiError::Internal(format!("cannot build the archive: {e}"))
                }
                other => ApiError::ValidationFailed(other.to_string()),
            },
        )?;
        file.flush()
            .map_err(|e| ApiError::Internal(format!("cannot build the archive: {e}")))?;
        let len = file
            .seek(SeekFrom::End(0))
            .and_then(|len| file.seek(SeekFrom::Start(0)).map(|_| len))
            .map_err(|e| ApiError::Internal(format!("cannot read the archive: {e}")))?;
        Ok((file, len))
    })
    .await?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut res = Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{pack_ref}.tar.gz\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
