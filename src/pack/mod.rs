//! Pack folders on disk: listing workflow files in a stable order, reading
//! one file safely (regular files only, symlinks only inside the pack, no
//! blocking on FIFOs, size checked first, UTF-8 required), and building an
//! action catalog from packs' `actions/*.yaml`. The only part of the
//! workflow pipeline that touches the filesystem; used by `attune validate`
//! and by sync.

pub mod archive;
pub mod discover;
pub mod manifest;
pub mod restore;
pub mod stage;

use crate::workflow::catalog::{
    ActionCatalog, ActionInfo, ActionKind, MapCatalog, parse_action_metadata,
};
use crate::workflow::diagnostic::{Code, Diagnostic};
use crate::workflow::model::is_valid_name;
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One `*.yaml`/`*.yml` entry of a pack's `workflows/` folder (not yet
/// checked to be a regular file: reading does that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowFile {
    /// File name without extension: the workflow's name.
    pub name: String,
    /// `workflows/{file name}`, relative to the pack folder.
    pub rel_path: String,
    /// Full path.
    pub path: PathBuf,
    /// Set for an action-linked workflow: `path` is its graph-only file.
    pub linked: Option<LinkedFile>,
}

/// The action file of an action-linked workflow (upstream's layout:
/// `actions/x.yaml` with `workflow_file: workflows/x.workflow.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedFile {
    /// `actions/{file name}`, relative to the pack folder.
    pub action_rel: String,
    pub action_path: PathBuf,
    /// Why the link cannot be followed (`invalid-workflow-file`): the
    /// message and the position of `workflow_file`'s value.
    pub problem: Option<(String, u32, u32)>,
}

/// What a pack folder holds: its workflow files (standalone and
/// action-linked, sorted by file) and the warnings of listing it.
#[derive(Debug, Clone, Default)]
pub struct PackListing {
    pub files: Vec<WorkflowFile>,
    /// `skipped-file` and `shadowed-workflow` warnings.
    pub warnings: Vec<Diagnostic>,
}

impl WorkflowFile {
    /// The file relative to `packs_base_dir`: `{pack_ref}/workflows/{file}`.
    pub fn file_for(&self, pack_ref: &str) -> String {
        format!("{pack_ref}/{}", self.rel_path)
    }
    /// True when the name is a valid workflow name (`^[A-Za-z0-9_-]+$`).
    pub fn has_valid_name(&self) -> bool {
        is_valid_name(&self.name)
    }

    /// The `invalid-workflow-name` error for this file, when its name is
    /// not valid. The file's content is still checked: this is one more
    /// problem of the file, not a reason to stop reading it.
    pub fn name_diagnostic(&self, pack_ref: &str) -> Option<Diagnostic> {
        if self.has_valid_name() {
            return None;
        }
        let proposal: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let ext = self
            .rel_path
            .rsplit_once('.')
            .map(|(_, e)| e)
            .unwrap_or("yaml");
        let d = Diagnostic::new(
            Code::InvalidWorkflowName,
            format!(
                "'{}' is not a valid workflow name; names match ^[A-Za-z0-9_-]+$",
                self.name
            ),
            1,
            1,
        )
        .with_source(
            Some(&format!("{pack_ref}.{}", self.name)),
            Some(&self.file_for(pack_ref)),
        );
        Some(if is_valid_name(&proposal) {
            d.with_hint(format!(
                "rename the file to {proposal}.{ext} (the workflow's ref becomes {pack_ref}.{proposal})"
            ))
        } else {
            d.with_hint("rename the file: letters, digits, '_' and '-' before .yaml")
        })
    }
}

/// Why a pack folder could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The pack has no `workflows/` folder (or the pack folder is missing).
    #[error("Directory not found")]
    DirectoryNotFound(PathBuf),
    /// The pack folder, or its `workflows/` or `actions/` folder, resolves
    /// (through a symbolic link) outside where it must stay; nothing in it
    /// is read or listed.
    #[error(
        "{what} resolves outside {boundary} (a symbolic link?); it is not read: move the files \
         there instead of linking to them"
    )]
    Outside {
        what: String,
        boundary: &'static str,
    },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why a file could not be read; becomes a `file-unreadable` or
/// `file-too-large` diagnostic. Messages never hold file content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
    pub line: u32,
    pub column: u32,
}

impl ReadError {
    fn new(code: Code, message: impl Into<String>, hint: Option<&str>) -> Self {
        ReadError {
            code,
            message: message.into(),
            hint: hint.map(str::to_string),
            line: 1,
            column: 1,
        }
    }
    /// The diagnostic for this failure.
    pub fn to_diagnostic(&self, r#ref: Option<&str>, file: Option<&str>) -> Diagnostic {
        let mut d = Diagnostic::new(self.code, self.message.clone(), self.line, self.column)
            .with_source(r#ref, file);
        d.hint = self.hint.clone();
        d
    }
}

/// The workflow files of a pack ([`list_pack`] without its warnings).
pub fn list_workflow_files(pack_dir: &Path) -> Result<Vec<WorkflowFile>, LoadError> {
    list_pack(pack_dir, "", ACTION_FILE_MAX_BYTES).map(|l| l.files)
}

/// The largest action file read while listing (its `workflow_file`).
pub const ACTION_FILE_MAX_BYTES: u64 = 1024 * 1024;

/// List a pack's workflows, as upstream's loader finds them:
/// - `workflows/*.yaml|yml` (standalone workflow files);
/// - every action file `actions/*.yaml` with `workflow_file` (relative to
///   `actions/`): an action-linked workflow named by the action, whose
///   graph-only file may be anywhere inside the pack (a link that is
///   missing, leaves the pack or is shared by two actions is listed with
///   its problem, reported as `invalid-workflow-file` on the action file);
/// - `actions/workflows/*.yaml|yml` no action links to (standalone).
///
/// `.workflow` is dropped from file names (`x.workflow.yaml` is `x`). When
/// two layouts define the same workflow, the action-linked one wins, then
/// `actions/workflows/`, then `workflows/` (upstream's order); each loser
/// gets a `shadowed-workflow` warning and is not listed. Entries that are
/// not regular files are listed (reading them reports why). Error only
/// when the pack has neither `workflows/` nor any of the above.
pub fn list_pack(
    pack_dir: &Path,
    pack_ref: &str,
    max_bytes: u64,
) -> Result<PackListing, LoadError> {
    let standalone = list_yaml(&pack_dir.join("workflows"), "workflows");
    let graphs = match list_yaml(&pack_dir.join("actions/workflows"), "actions/workflows") {
        Err(LoadError::DirectoryNotFound(_)) => Vec::new(),
        other => other?,
    };
    let mut linked: Vec<WorkflowFile> = Vec::new();
    let mut claimed: std::collections::BTreeMap<String, String> = Default::default();
    for a in list_action_files(pack_dir).unwrap_or_default() {
        let Ok(bytes) = read_workflow_file(&a.path, pack_dir, max_bytes.min(ACTION_FILE_MAX_BYTES))
        else {
            continue;
        };
        let text = String::from_utf8(bytes).unwrap_or_default();
        let Ok(meta) = parse_action_metadata(&text, &a.name, pack_ref) else {
            continue;
        };
        let Some((wf, pos)) = meta.workflow_file else {
            continue;
        };
        let name = crate::workflow::catalog::split_ref(&meta.r#ref)
            .filter(|(p, _)| *p == pack_ref || pack_ref.is_empty())
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| a.name.clone());
        let (rel, mut problem) = match resolve_in_pack("actions", &wf) {
            None => (
                String::new(),
                Some(format!(
                    "workflow_file '{wf}' leaves the pack folder; it is not read"
                )),
            ),
            Some(rel) => {
                let problem = if !pack_dir.join(&rel).exists() {
                    Some(format!(
                        "workflow_file '{wf}' does not exist (looked for {rel} in the pack)"
                    ))
                } else {
                    None
                };
                (rel, problem)
            }
        };
        if problem.is_none() {
            if let Some(first) = claimed.get(&rel) {
                problem = Some(format!(
                    "workflow_file '{wf}' is already the graph of {first}; each action needs its own graph file"
                ));
            } else {
                claimed.insert(rel.clone(), a.rel_path.clone());
            }
        }
        linked.push(WorkflowFile {
            name,
            path: if rel.is_empty() {
                a.path.clone()
            } else {
                pack_dir.join(&rel)
            },
            rel_path: if rel.is_empty() {
                a.rel_path.clone()
            } else {
                rel
            },
            linked: Some(LinkedFile {
                action_rel: a.rel_path.clone(),
                action_path: a.path.clone(),
                problem: problem.map(|m| (m, pos.line, pos.column)),
            }),
        });
    }
    let no_workflows = matches!(standalone, Err(LoadError::DirectoryNotFound(_)));
    if no_workflows && linked.is_empty() && graphs.is_empty() {
        return Err(LoadError::DirectoryNotFound(pack_dir.join("workflows")));
    }
    let standalone = match standalone {
        Err(LoadError::DirectoryNotFound(_)) => Vec::new(),
        other => other?,
    };
    let mut warnings = skipped_workflow_files(pack_dir, pack_ref);
    // Winners first: linked, then actions/workflows/, then workflows/.
    let mut by_name: std::collections::BTreeMap<String, String> = Default::default();
    let mut files = Vec::new();
    let graphs = graphs
        .into_iter()
        .filter(|g| !claimed.contains_key(&g.rel_path));
    for f in linked.into_iter().chain(graphs).chain(standalone) {
        // Two files of one folder (`a.yaml`, `a.yml`) are both listed: the
        // sync refuses the second as defined twice.
        let same_folder = |w: &String| {
            f.linked.is_none()
                && w.rsplit_once('/').map(|(d, _)| d) == f.rel_path.rsplit_once('/').map(|(d, _)| d)
        };
        if let Some(winner) = by_name.get(&f.name)
            && !same_folder(winner)
        {
            if f.linked.is_none() && f.has_valid_name() {
                let r = format!("{pack_ref}.{}", f.name);
                warnings.push(
                    Diagnostic::new(
                        Code::ShadowedWorkflow,
                        format!(
                            "workflow '{}' is also defined by {winner}, which wins; this file is not read",
                            f.name
                        ),
                        1,
                        1,
                    )
                    .with_source(Some(&r), Some(&f.file_for(pack_ref)))
                    .with_hint(format!(
                        "remove this file or rename it; upstream Attune, too, takes {winner}"
                    )),
                );
                continue;
            }
        } else {
            let origin = match &f.linked {
                Some(l) => format!("the action-linked {} ({})", l.action_rel, f.rel_path),
                None => f.rel_path.clone(),
            };
            by_name.insert(f.name.clone(), origin);
        }
        files.push(f);
    }
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    warnings.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(PackListing { files, warnings })
}

/// `rel` (as written in a file of `base/`) as a path inside the pack,
/// `None` when it is absolute or climbs out of the pack.
fn resolve_in_pack(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// List the `*.yaml`/`*.yml` entries of `pack_dir/actions`, sorted; an
/// absent folder is an empty list.
pub fn list_action_files(pack_dir: &Path) -> Result<Vec<WorkflowFile>, LoadError> {
    match list_yaml(&pack_dir.join("actions"), "actions") {
        Err(LoadError::DirectoryNotFound(_)) => Ok(Vec::new()),
        other => other,
    }
}

/// The files of `pack_dir/workflows` that look like workflow files but are
/// not read, one `skipped-file` warning each: an extension that is .yaml or
/// .yml in another case (`UP.YAML`), or a name that is not UTF-8.
pub fn skipped_workflow_files(pack_dir: &Path, pack_ref: &str) -> Vec<Diagnostic> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(rd) = std::fs::read_dir(pack_dir.join("workflows")) else {
        return Vec::new();
    };
    let mut out: Vec<Diagnostic> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let os = e.file_name();
            let bytes = os.as_bytes();
            let lower = bytes.to_ascii_lowercase();
            let ext_len = if lower.ends_with(b".yaml") {
                5
            } else if lower.ends_with(b".yml") {
                4
            } else {
                return None;
            };
            let shown = String::from_utf8_lossy(bytes).into_owned();
            let stem = shown.get(..shown.len().saturating_sub(ext_len)).unwrap_or("");
            let (message, hint) = match os.to_str() {
                None => (
                    format!("'{shown}' is not read: its file name is not valid UTF-8"),
                    "rename the file with a UTF-8 name, e.g. letters, digits, '_' and '-'"
                        .to_string(),
                ),
                Some(name) if !name.ends_with(".yaml") && !name.ends_with(".yml") => (
                    format!(
                        "'{name}' is not read: only the lowercase extensions .yaml and .yml are workflow files"
                    ),
                    format!(
                        "rename it to {stem}{}",
                        if ext_len == 5 { ".yaml" } else { ".yml" }
                    ),
                ),
                Some(_) => return None,
            };
            Some(
                Diagnostic::new(Code::SkippedFile, message, 1, 1)
                    .with_source(
                        Some(&format!("{pack_ref}.{stem}")),
                        Some(&format!("{pack_ref}/workflows/{shown}")),
                    )
                    .with_hint(hint),
            )
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// `base/pack_ref`, refused when it resolves outside `base` (a pack folder
/// that is a symbolic link to elsewhere): check it before listing a pack.
pub fn pack_dir_within(base: &Path, pack_ref: &str) -> Result<PathBuf, LoadError> {
    let dir = base.join(pack_ref);
    let (Ok(real_base), Ok(real_dir)) = (std::fs::canonicalize(base), std::fs::canonicalize(&dir))
    else {
        return Err(LoadError::DirectoryNotFound(dir));
    };
    if !real_dir.starts_with(&real_base) || real_dir == real_base {
        return Err(LoadError::Outside {
            what: format!("pack folder '{pack_ref}'"),
            boundary: "packs_base_dir",
        });
    }
    Ok(dir)
}

fn list_yaml(dir: &Path, sub: &str) -> Result<Vec<WorkflowFile>, LoadError> {
    // The folder itself must resolve inside its pack: a `workflows/` that
    // links elsewhere is neither listed nor read.
    if let (Some(pack), Ok(real)) = (dir.parent(), std::fs::canonicalize(dir))
        && let Ok(real_pack) = std::fs::canonicalize(pack)
        && !real.starts_with(&real_pack)
    {
        return Err(LoadError::Outside {
            what: format!("the {sub}/ folder"),
            boundary: "its pack folder",
        });
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::DirectoryNotFound(dir.to_path_buf()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(LoadError::DirectoryNotFound(dir.to_path_buf()));
        }
        Err(source) => {
            return Err(LoadError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let Some(stem) = file_name
            .strip_suffix(".yaml")
            .or_else(|| file_name.strip_suffix(".yml"))
        else {
            continue;
        };
        // `deploy_app.workflow.yaml` is workflow `deploy_app`, as upstream
        // names it (the action-linked layout's graph files).
        let stem = if sub == "actions" {
            stem
        } else {
            stem.strip_suffix(".workflow").unwrap_or(stem)
        };
        if stem.is_empty() {
            continue;
        }
        out.push(WorkflowFile {
            name: stem.to_string(),
            rel_path: format!("{sub}/{file_name}"),
            path: entry.path(),
            linked: None,
        });
    }
    out.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    Ok(out)
}

/// Read one file of a pack safely: only a regular file, or a symlink whose
/// canonical target stays inside `pack_dir`; opened with `O_NONBLOCK |
/// O_NOFOLLOW` and checked with fstat on the handle (a FIFO, socket or
/// directory is refused without blocking); size checked before reading;
/// content must be UTF-8.
pub fn read_workflow_file(
    path: &Path,
    pack_dir: &Path,
    max_bytes: u64,
) -> Result<Vec<u8>, ReadError> {
    let unreadable = |m: String, h: Option<&str>| ReadError::new(Code::FileUnreadable, m, h);
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| unreadable(format!("cannot read the file: {}", io_reason(&e)), None))?;
    let target = if meta.file_type().is_symlink() {
        let pack = std::fs::canonicalize(pack_dir).map_err(|e| {
            unreadable(
                format!("cannot resolve the pack folder: {}", io_reason(&e)),
                None,
            )
        })?;
        let t = std::fs::canonicalize(path).map_err(|_| {
            unreadable(
                "symbolic link points to nothing".to_string(),
                Some("fix or remove the link"),
            )
        })?;
        if !t.starts_with(&pack) {
            return Err(unreadable(
                "symbolic link resolves outside the pack folder; it is not followed".to_string(),
                Some("copy the file into the pack instead of linking to it"),
            ));
        }
        t
    } else {
        path.to_path_buf()
    };
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&target)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) {
                unreadable(
                    "not a regular file (a socket)".to_string(),
                    Some(REGULAR_HINT),
                )
            } else if e.raw_os_error() == Some(libc::ELOOP) {
                unreadable("symbolic link is not followed".to_string(), None)
            } else {
                unreadable(format!("cannot open the file: {}", io_reason(&e)), None)
            }
        })?;
    // Where the opened file really is (every directory on the way resolved,
    // with no window between check and open): it must be inside the pack.
    if let Ok(real) = std::fs::read_link(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&file)
    )) {
        let pack = std::fs::canonicalize(pack_dir).map_err(|e| {
            unreadable(
                format!("cannot resolve the pack folder: {}", io_reason(&e)),
                None,
            )
        })?;
        if !real.starts_with(&pack) {
            return Err(unreadable(
                "file resolves outside the pack folder (a symbolic link on the way); it is not read"
                    .to_string(),
                Some("copy the files into the pack instead of linking a folder"),
            ));
        }
    }
    let fmeta = file
        .metadata()
        .map_err(|e| unreadable(format!("cannot read the file: {}", io_reason(&e)), None))?;
    let ft = fmeta.file_type();
    if !ft.is_file() {
        let what = if ft.is_dir() {
            "a directory"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "a special file"
        };
        return Err(unreadable(
            format!("not a regular file ({what})"),
            Some(REGULAR_HINT),
        ));
    }
    let too_large = |size: u64| {
        ReadError::new(
            Code::FileTooLarge,
            format!("file is {size} bytes; the limit is {max_bytes} bytes"),
            Some("split the workflow or raise max_workflow_file_bytes"),
        )
    };
    if fmeta.len() > max_bytes {
        return Err(too_large(fmeta.len()));
    }
    let mut buf = Vec::with_capacity(fmeta.len() as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| unreadable(format!("cannot read the file: {}", io_reason(&e)), None))?;
    if buf.len() as u64 > max_bytes {
        return Err(too_large(buf.len() as u64));
    }
    if let Err(e) = std::str::from_utf8(&buf) {
        let at = e.valid_up_to();
        let before = &buf[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let ls = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        let column = String::from_utf8_lossy(&before[ls..]).chars().count() as u32 + 1;
        let mut err = unreadable(
            format!("file is not valid UTF-8 (invalid byte at offset {at})"),
            Some("save the file as UTF-8"),
        );
        err.line = line;
        err.column = column;
        return Err(err);
    }
    Ok(buf)
}

const REGULAR_HINT: &str = "only regular files are read from a pack's workflows folder";

fn io_reason(e: &std::io::Error) -> String {
    let s = e.kind().to_string();
    s.to_lowercase()
}

/// The actions and workflows found in pack folders, plus why some action
/// files could not be used.
#[derive(Debug, Default)]
pub struct PackCatalog {
    pub catalog: MapCatalog,
    /// Why action files (or a pack folder) were skipped: one diagnostic
    /// each, on the file (relative to `packs_base_dir`).
    pub problems: Vec<Diagnostic>,
    /// Every pack added, with or without actions.
    pub packs: BTreeSet<String>,
    /// The folders packs were read from, for the `unknown-pack` hint.
    pub sources: Vec<String>,
}

impl ActionCatalog for PackCatalog {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.catalog.lookup(action_ref)
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        self.catalog.refs_in_pack(pack_ref)
    }
    fn has_pack(&self, pack_ref: &str) -> bool {
        self.packs.contains(pack_ref)
    }
    fn pack_sources(&self) -> String {
        if self.sources.is_empty() {
            "the packs folder".to_string()
        } else {
            self.sources.join(", ")
        }
    }
}

/// Build a catalog from the given packs under `packs_base_dir`: each pack's
/// `actions/*.yaml` (ref `{pack}.{name}` unless the file has `ref`;
/// parameters in flat or JSON-Schema form) and the names of its workflow
/// files (as `Workflow` entries with unknown parameters). Built-ins are not
/// included: layer a [`crate::workflow::BuiltinCatalog`] beside it.
pub fn load_pack_catalog(
    packs_base_dir: &Path,
    pack_refs: &[String],
    max_bytes: u64,
) -> PackCatalog {
    let mut pc = PackCatalog::default();
    for pack in pack_refs {
        match pack_dir_within(packs_base_dir, pack) {
            Ok(dir) => add_pack(&mut pc, &dir, pack, max_bytes),
            Err(e @ LoadError::Outside { .. }) => pc.problems.push(
                Diagnostic::new(Code::FileUnreadable, e.to_string(), 1, 1)
                    .with_source(None, Some(pack)),
            ),
            Err(_) => add_pack(&mut pc, &packs_base_dir.join(pack), pack, max_bytes),
        }
    }
    pc
}

/// Add one pack folder's actions and workflow names to a catalog.
pub fn add_pack(pc: &mut PackCatalog, pack_dir: &Path, pack_ref: &str, max_bytes: u64) {
    pc.packs.insert(pack_ref.to_string());
    match list_action_files(pack_dir) {
        Ok(files) => {
            for f in files {
                let rel = f.file_for(pack_ref);
                let text = match read_workflow_file(&f.path, pack_dir, max_bytes) {
                    Ok(b) => String::from_utf8(b).unwrap_or_default(),
                    Err(e) => {
                        pc.problems.push(e.to_diagnostic(None, Some(&rel)));
                        continue;
                    }
                };
                match parse_action_metadata(&text, &f.name, pack_ref) {
                    Ok(meta) => pc.catalog.insert(
                        meta.r#ref,
                        ActionInfo {
                            kind: ActionKind::Action,
                            parameters: meta.parameters,
                        },
                    ),
                    Err(d) => pc.problems.push((*d).with_source(None, Some(&rel))),
                }
            }
        }
        Err(e) => pc.problems.push(
            Diagnostic::new(Code::FileUnreadable, e.to_string(), 1, 1)
                .with_source(None, Some(&format!("{pack_ref}/actions"))),
        ),
    }
    if let Ok(files) = list_workflow_files(pack_dir) {
        for f in files {
            if f.has_valid_name() {
                let r = format!("{pack_ref}.{}", f.name);
                if pc.catalog.lookup(&r).is_none() {
                    pc.catalog.insert(
                        r,
                        ActionInfo {
                            kind: ActionKind::Workflow,
                            parameters: None,
                        },
                    );
                }
            }
        }
    }
}

/// A workflow file read and checked: what `attune validate` reports.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// `{pack_ref}.{name}`.
    pub r#ref: String,
    /// Relative to `packs_base_dir`.
    pub file: String,
    /// The text, when it could be read (for source snippets).
    pub source: Option<String>,
    /// An action-linked workflow's action file (relative to
    /// `packs_base_dir`) and its text, when read: the diagnostics whose
    /// `file` it is take their snippets from it.
    pub action: Option<(String, Option<String>)>,
    pub validation: crate::workflow::Validation,
}

impl FileOutcome {
    /// The source text a diagnostic of this outcome points into.
    pub fn source_of(&self, d: &Diagnostic) -> Option<&str> {
        match &self.action {
            Some((file, text)) if d.file.as_deref() == Some(file.as_str()) => text.as_deref(),
            _ => self.source.as_deref(),
        }
    }
}

/// Read `f` safely and check it (a bad file name, an unreadable or too
/// large file become diagnostics of that file). Diagnostics only: the
/// normalized definition is not built (`validation.workflow` is `None`).
pub fn load_and_validate(
    f: &WorkflowFile,
    pack_dir: &Path,
    pack_ref: &str,
    max_bytes: u64,
    catalog: &dyn ActionCatalog,
) -> FileOutcome {
    use crate::workflow::{SourceContext, Validation, check};
    let r#ref = format!("{pack_ref}.{}", f.name);
    let file = f.file_for(pack_ref);
    let fail = |d: Diagnostic| Validation {
        workflow: None,
        diagnostics: vec![d],
        suppressed: 0,
    };
    let bad_name = f.name_diagnostic(pack_ref);
    if let Some(l) = &f.linked {
        return load_linked(f, l, pack_dir, pack_ref, max_bytes, catalog, bad_name);
    }
    match read_workflow_file(&f.path, pack_dir, max_bytes) {
        Err(e) => {
            let d = e.to_diagnostic(Some(&r#ref), Some(&file));
            let mut v = fail(d);
            v.diagnostics.splice(0..0, bad_name);
            FileOutcome {
                r#ref,
                file,
                source: None,
                action: None,
                validation: v,
            }
        }
        Ok(bytes) => {
            let ctx = SourceContext {
                pack_ref,
                name: &f.name,
                file: Some(&file),
            };
            let mut validation = check(&bytes, &ctx, catalog);
            validation.diagnostics.splice(0..0, bad_name);
            FileOutcome {
                r#ref,
                file,
                source: String::from_utf8(bytes).ok(),
                action: None,
                validation,
            }
        }
    }
}

/// The `invalid-workflow-file` error of an action-linked workflow whose
/// link cannot be followed (on its action file); `None` otherwise.
pub fn link_problem(f: &WorkflowFile, pack_ref: &str) -> Option<Diagnostic> {
    let l = f.linked.as_ref()?;
    let (message, line, column) = l.problem.as_ref()?;
    Some(
        Diagnostic::new(Code::InvalidWorkflowFile, message.clone(), *line, *column)
            .with_source(
                Some(&format!("{pack_ref}.{}", f.name)),
                Some(&format!("{pack_ref}/{}", l.action_rel)),
            )
            .with_path("workflow_file")
            .with_hint(
                "workflow_file is relative to actions/: write e.g. `workflow_file: workflows/NAME.workflow.yaml` for actions/workflows/NAME.workflow.yaml",
            ),
    )
}

/// [`load_and_validate`] for an action-linked workflow: its action file and
/// graph-only file read safely and checked as one workflow.
fn load_linked(
    f: &WorkflowFile,
    l: &LinkedFile,
    pack_dir: &Path,
    pack_ref: &str,
    max_bytes: u64,
    catalog: &dyn ActionCatalog,
    bad_name: Option<Diagnostic>,
) -> FileOutcome {
    use crate::workflow::{LinkedAction, SourceContext, Validation, check_linked};
    let r#ref = format!("{pack_ref}.{}", f.name);
    let file = f.file_for(pack_ref);
    let action_file = format!("{pack_ref}/{}", l.action_rel);
    let outcome =
        |source: Option<String>, action_text: Option<String>, mut diagnostics: Vec<Diagnostic>| {
            diagnostics.splice(0..0, bad_name.clone());
            FileOutcome {
                r#ref: r#ref.clone(),
                file: file.clone(),
                source,
                action: Some((action_file.clone(), action_text)),
                validation: Validation {
                    workflow: None,
                    diagnostics,
                    suppressed: 0,
                },
            }
        };
    let action_bytes = match read_workflow_file(&l.action_path, pack_dir, max_bytes) {
        Ok(b) => b,
        Err(e) => {
            return outcome(
                None,
                None,
                vec![e.to_diagnostic(Some(&r#ref), Some(&action_file))],
            );
        }
    };
    let action_text = String::from_utf8(action_bytes.clone()).ok();
    if let Some(d) = link_problem(f, pack_ref) {
        return outcome(None, action_text, vec![d]);
    }
    let graph = match read_workflow_file(&f.path, pack_dir, max_bytes) {
        Ok(b) => b,
        Err(e) => {
            return outcome(
                None,
                action_text,
                vec![e.to_diagnostic(Some(&r#ref), Some(&file))],
            );
        }
    };
    let ctx = SourceContext {
        pack_ref,
        name: &f.name,
        file: Some(&file),
    };
    let action = LinkedAction {
        text: &action_bytes,
        file: Some(&action_file),
    };
    let mut validation = check_linked(&graph, action, &ctx, catalog);
    validation.diagnostics.splice(0..0, bad_name.clone());
    FileOutcome {
        r#ref: r#ref.clone(),
        file: file.clone(),
        source: String::from_utf8(graph).ok(),
        action: Some((action_file.clone(), action_text)),
        validation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const MAX: u64 = 1024 * 1024;

    fn pack() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("mypack");
        std::fs::create_dir_all(p.join("workflows")).unwrap();
        std::fs::create_dir_all(p.join("actions")).unwrap();
        (t, p)
    }

    #[test]
    fn listing_is_sorted_and_ignores_other_files() {
        let (_t, p) = pack();
        for f in ["b.yaml", "a.yml", "c.txt", "README.md", "z.yaml"] {
            std::fs::write(p.join("workflows").join(f), "x: 1").unwrap();
        }
        let l = list_workflow_files(&p).unwrap();
        let names: Vec<&str> = l.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(
            names,
            ["workflows/a.yml", "workflows/b.yaml", "workflows/z.yaml"]
        );
        assert_eq!(l[0].name, "a");
        assert_eq!(l[0].file_for("mypack"), "mypack/workflows/a.yml");
        assert!(matches!(
            list_workflow_files(&p.join("nope")),
            Err(LoadError::DirectoryNotFound(_))
        ));
    }

    #[test]
    fn a_regular_file_is_read() {
        let (_t, p) = pack();
        let f = p.join("workflows/a.yaml");
        std::fs::write(&f, "version: 1\n").unwrap();
        assert_eq!(read_workflow_file(&f, &p, MAX).unwrap(), b"version: 1\n");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let (_t, p) = pack();
        let f = p.join("workflows/fifo.yaml");
        let st = Command::new("mkfifo").arg(&f).status().unwrap();
        assert!(st.success());
        let e = read_workflow_file(&f, &p, MAX).unwrap_err();
        assert_eq!(e.code, Code::FileUnreadable);
        assert_eq!(e.message, "not a regular file (a FIFO)");
    }

    #[test]
    fn a_directory_named_yaml_is_refused() {
        let (_t, p) = pack();
        let f = p.join("workflows/x.yaml");
        std::fs::create_dir(&f).unwrap();
        assert_eq!(list_workflow_files(&p).unwrap().len(), 1);
        let e = read_workflow_file(&f, &p, MAX).unwrap_err();
        assert_eq!(e.message, "not a regular file (a directory)");
    }

    #[test]
    fn a_socket_is_refused() {
        let (_t, p) = pack();
        let f = p.join("workflows/sock.yaml");
        let _l = std::os::unix::net::UnixListener::bind(&f).unwrap();
        let e = read_workflow_file(&f, &p, MAX).unwrap_err();
        assert_eq!(e.code, Code::FileUnreadable);
        assert!(e.message.contains("socket"), "{}", e.message);
    }

    #[test]
    fn symlinks_are_followed_only_inside_the_pack() {
        let (t, p) = pack();
        let secret = t.path().join("secret.yaml");
        std::fs::write(&secret, "password: hunter2\n").unwrap();
        let out = p.join("workflows/out.yaml");
        std::os::unix::fs::symlink(&secret, &out).unwrap();
        let e = read_workflow_file(&out, &p, MAX).unwrap_err();
        assert_eq!(e.code, Code::FileUnreadable);
        assert!(!e.message.contains("hunter2") && !e.message.contains("password"));
        assert!(e.message.contains("outside the pack"));

        let inside = p.join("shared.yaml");
        std::fs::write(&inside, "version: x\n").unwrap();
        let link = p.join("workflows/in.yaml");
        std::os::unix::fs::symlink(&inside, &link).unwrap();
        assert_eq!(read_workflow_file(&link, &p, MAX).unwrap(), b"version: x\n");

        let dangling = p.join("workflows/gone.yaml");
        std::os::unix::fs::symlink(p.join("nothing"), &dangling).unwrap();
        assert!(read_workflow_file(&dangling, &p, MAX).is_err());
    }

    #[test]
    fn a_large_file_is_reported_not_read() {
        let (_t, p) = pack();
        let f = p.join("workflows/big.yaml");
        std::fs::write(&f, vec![b'#'; 5 * 1024 * 1024]).unwrap();
        let e = read_workflow_file(&f, &p, MAX).unwrap_err();
        assert_eq!(e.code, Code::FileTooLarge);
        assert_eq!(
            e.message,
            "file is 5242880 bytes; the limit is 1048576 bytes"
        );
    }

    #[test]
    fn non_utf8_is_reported_with_its_position() {
        let (_t, p) = pack();
        let f = p.join("workflows/bin.yaml");
        std::fs::write(&f, b"a: 1\nb: \xff\n").unwrap();
        let e = read_workflow_file(&f, &p, MAX).unwrap_err();
        assert_eq!((e.code, e.line, e.column), (Code::FileUnreadable, 2, 4));
        let d = e.to_diagnostic(Some("mypack.bin"), Some("mypack/workflows/bin.yaml"));
        assert_eq!(d.code, Code::FileUnreadable);
    }

    #[test]
    fn the_catalog_reads_actions_in_both_forms_and_workflow_names() {
        let (t, p) = pack();
        std::fs::write(
            p.join("actions/deploy.yaml"),
            "name: deploy\nparameters:\n  host: {type: string, required: true}\n",
        )
        .unwrap();
        std::fs::write(
            p.join("actions/other.yml"),
            "ref: mypack.renamed\nparameters:\n  type: object\n  properties:\n    a: {type: string}\n  required: [a]\n",
        )
        .unwrap();
        std::fs::write(p.join("actions/broken.yaml"), "- not a mapping\n").unwrap();
        std::fs::write(p.join("workflows/flow.yaml"), "version: x\n").unwrap();
        let c = load_pack_catalog(t.path(), &["mypack".to_string()], MAX);
        let d = c.lookup("mypack.deploy").unwrap();
        assert_eq!(d.kind, ActionKind::Action);
        assert!(d.parameters.unwrap()[0].required);
        assert!(c.lookup("mypack.renamed").unwrap().parameters.unwrap()[0].required);
        assert_eq!(c.lookup("mypack.flow").unwrap().kind, ActionKind::Workflow);
        assert_eq!(c.problems.len(), 1);
        assert_eq!(
            c.problems[0].file.as_deref(),
            Some("mypack/actions/broken.yaml")
        );
        assert_eq!(
            c.refs_in_pack("mypack"),
            ["mypack.deploy", "mypack.flow", "mypack.renamed"]
        );
    }
}
