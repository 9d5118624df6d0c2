//! Discovery: every folder under `packs_base_dir` with what its
//! `pack.yaml` says and its problems. Folders whose name starts with `.`
//! (upload staging, editor and VCS folders) and plain files are skipped;
//! every other folder is listed, a broken one with its problem.

use std::path::Path;

use super::manifest::{ManifestLoad, load_manifest};
use crate::refs::PackRef;
use crate::workflow::diagnostic::{Code, Diagnostic};

/// One folder under `packs_base_dir`.
#[derive(Debug, Clone)]
pub struct Folder {
    /// The folder's name (lossy when it is not UTF-8).
    pub name: String,
    /// Its manifest, or why there is none.
    pub load: ManifestLoad,
    /// `*.yaml`/`*.yml` entries in its `workflows/` folder.
    pub workflow_count: u64,
}

impl Folder {
    /// True when the folder can be registered as it is.
    pub fn is_valid(&self) -> bool {
        self.load.manifest.is_some() && !self.load.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Every folder of `base`, sorted by name. An unreadable `base` is an error;
/// a missing one is an empty list.
pub fn discover(base: &Path, max_bytes: u64) -> std::io::Result<Vec<Folder>> {
    let rd = match std::fs::read_dir(base) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry?;
        let raw = entry.file_name();
        let name = raw.to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        out.push(inspect(
            &entry.path(),
            &name,
            raw.to_str().is_some(),
            max_bytes,
        ));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// One folder: its manifest (the `ref` must equal the folder name) and
/// workflow count.
pub fn inspect(dir: &Path, name: &str, utf8: bool, max_bytes: u64) -> Folder {
    let workflow_count = super::list_workflow_files(dir)
        .map(|f| f.len() as u64)
        .unwrap_or(0);
    let name_problem = match PackRef::parse(name) {
        Ok(_) if utf8 => None,
        Ok(_) => Some("the folder name is not valid UTF-8".to_string()),
        Err(m) => Some(m),
    };
    let mut load = match &name_problem {
        None => load_manifest(dir, Some(name), max_bytes),
        // The ref-equals-folder rule cannot hold; report the name instead.
        Some(_) => load_manifest(dir, None, max_bytes),
    };
    if let Some(m) = name_problem {
        load.manifest = None;
        load.diagnostics.insert(
            0,
            Diagnostic::new(Code::WrongType, format!("folder name: {m}"), 1, 1)
                .with_path("(folder name)")
                .with_hint("rename the folder to the pack's ref")
                .with_source(None, Some(name)),
        );
    }
    Folder {
        name: name.to_string(),
        load,
        workflow_count,
    }
}
