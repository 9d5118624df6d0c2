//! Registering a pack from its folder's `pack.yaml`: create the pack (or
//! update it, with `force`) from what the manifest says, then sync its
//! workflows. Used by `POST /api/v1/packs/register`, by uploads and by
//! `attune serve --register-packs`. Blocking; the caller holds the pack's
//! lock when other requests may run.

use std::path::Path;

use super::{ReportDiagnostic, SyncError, SyncLimits, SyncOptions, SyncReport, sync_pack};
use crate::pack::discover;
use crate::pack::manifest::{Manifest, ManifestLoad};
use crate::refs::PackRef;
use crate::store::{NewPack, Pack, PackUpdate, Store, StoreError};

/// Why a folder was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(
        "no folder '{0}' under packs_base_dir; copy the pack there or upload it with POST /api/v1/packs/upload"
    )]
    FolderNotFound(String),
    #[error("{message}")]
    Invalid {
        message: String,
        diagnostics: Vec<ReportDiagnostic>,
    },
    #[error(
        "pack '{0}' is already registered; send \"force\": true to update it from its pack.yaml"
    )]
    Exists(String),
    #[error("cannot read packs_base_dir: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        RegisterError::Sync(SyncError::Store(e))
    }
}

/// A registered pack and its first sync.
#[derive(Debug, Clone)]
pub struct Registered {
    pub pack: Pack,
    /// False when an existing pack was updated (`force`).
    pub created: bool,
    pub sync: SyncReport,
}

/// The diagnostics of a manifest load, with snippets.
pub fn manifest_diagnostics(load: &ManifestLoad) -> Vec<ReportDiagnostic> {
    load.diagnostics
        .iter()
        .map(|d| ReportDiagnostic::new(d.clone(), load.source.as_deref()))
        .collect()
}

/// The 422 of a manifest that failed its checks.
pub fn invalid(load: &ManifestLoad, what: &str) -> RegisterError {
    let diagnostics = manifest_diagnostics(load);
    let (errors, first) = super::error_summary(&diagnostics);
    RegisterError::Invalid {
        message: format!(
            "{what} is not a valid pack: {first} ({errors} error(s); see diagnostics)"
        ),
        diagnostics,
    }
}

/// Creates the pack from `manifest`, or updates it when `force` (else
/// [`RegisterError::Exists`]).
pub fn apply_manifest(
    store: &Store,
    manifest: &Manifest,
    force: bool,
) -> Result<(Pack, bool), RegisterError> {
    let r = manifest.pack_ref.as_str();
    if store.get_pack(r)?.is_some() {
        if !force {
            return Err(RegisterError::Exists(r.to_string()));
        }
        let update = PackUpdate {
            label: Some(manifest.label.clone()),
            description: Some(manifest.description.clone()),
            version: Some(manifest.version.clone()),
            conf_schema: Some(manifest.conf_schema.clone()),
            config: Some(manifest.config.clone()),
            meta: Some(manifest.meta.clone()),
            tags: Some(manifest.tags.clone()),
            runtime_deps: Some(manifest.runtime_deps.clone()),
            is_standard: Some(manifest.is_standard),
        };
        return Ok((store.update_pack(r, update)?, false));
    }
    let new = NewPack {
        pack_ref: r.to_string(),
        label: manifest.label.clone(),
        description: manifest.description.clone(),
        version: manifest.version.clone(),
        conf_schema: manifest.conf_schema.clone(),
        config: manifest.config.clone(),
        meta: manifest.meta.clone(),
        tags: manifest.tags.clone(),
        runtime_deps: manifest.runtime_deps.clone(),
        is_standard: manifest.is_standard,
    };
    match store.create_pack(new) {
        Ok(p) => Ok((p, true)),
        Err(StoreError::Conflict(_)) => Err(RegisterError::Exists(r.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Registers `{packs_base_dir}/{folder}` from its `pack.yaml` and syncs it
/// with `sync` (a real sync: its `dry_run` is ignored).
pub fn register_folder(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    folder: &PackRef,
    force: bool,
    sync: SyncOptions,
) -> Result<Registered, RegisterError> {
    let dir = packs_base_dir.join(folder.as_str());
    if !dir.is_dir() {
        return Err(RegisterError::FolderNotFound(folder.to_string()));
    }
    let info = discover::inspect(&dir, folder.as_str(), true, limits.max_file_bytes);
    let Some(manifest) = info.load.manifest.as_ref().filter(|_| info.is_valid()) else {
        return Err(invalid(&info.load, &format!("folder '{folder}'")));
    };
    let (_, created) = apply_manifest(store, manifest, force)?;
    let sync = sync_pack(
        store,
        packs_base_dir,
        limits,
        folder.as_str(),
        SyncOptions {
            dry_run: false,
            ..sync
        },
    )?;
    let pack = store
        .get_pack(folder.as_str())?
        .ok_or_else(|| SyncError::PackNotFound(folder.to_string()))?;
    Ok(Registered {
        pack,
        created,
        sync,
    })
}

/// What start-up registration did, for the log.
#[derive(Debug, Default)]
pub struct StartupRegistration {
    pub registered: Vec<String>,
    /// Folder and why it was skipped.
    pub skipped: Vec<(String, String)>,
}

/// `register_packs_on_start`: registers every valid folder that is not a
/// registered pack yet (registered ones are left as they are).
pub fn register_all_unregistered(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    user: &str,
) -> Result<StartupRegistration, RegisterError> {
    let mut out = StartupRegistration::default();
    let folders = discover::discover(packs_base_dir, limits.max_file_bytes)?;
    for f in folders {
        let Ok(r) = PackRef::parse(&f.name) else {
            out.skipped
                .push((f.name.clone(), "folder name is not a pack ref".into()));
            continue;
        };
        if store.get_pack(r.as_str())?.is_some() {
            continue;
        }
        let options = SyncOptions {
            user: user.to_string(),
            ..SyncOptions::default()
        };
        match register_folder(store, packs_base_dir, limits, &r, false, options) {
            Ok(_) => out.registered.push(f.name),
            Err(e @ (RegisterError::Invalid { .. } | RegisterError::Exists(_))) => {
                out.skipped.push((f.name, e.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
