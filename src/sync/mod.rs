//! Sync and validation of a pack's workflow files: load (safe reads, stable
//! order), validate in parallel, and register in one write transaction
//! together with the run record and the pack's summary. Knows no HTTP: the
//! API calls [`sync_pack`] and [`validate_pack`] on the blocking pool, and
//! the CLI or tests may call them directly.
//!
//! Decisions (see also docs/ARCHITECTURE.md, "A sync, end to end"):
//! - A file is *unchanged* when its bytes hash to the stored `content_hash`,
//!   it comes from the same file, its record is not stale, and the catalog
//!   answers the questions its last validation asked (the action refs it
//!   looked up, the packs it listed) the same way — a per-workflow catalog
//!   fingerprint, so changing an unrelated action does not revalidate the
//!   whole pack. Unchanged files are not validated again and not rewritten.
//! - `dry_run` computes everything and writes nothing, not even a run
//!   record (`run_id` is null).
//! - A missing pack folder answers the API document's
//!   `"Failed to load workflows: Directory not found"` and never prunes.
//! - Workflows created through the API (no source file) are never reported
//!   missing nor pruned by a sync.
//! - Two files naming one workflow (`x.yaml` and `x.yml`): the first in
//!   sorted order wins, the other fails with `file-unreadable`.

mod catalog;
mod locks;
mod pool;
pub mod register;
mod snippet;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::pack::{LoadError, WorkflowFile, read_workflow_file};
use crate::store::codec::JsonText;
use crate::store::{
    Author, NewRun, PendingChanges, RevisionPair, RevisionPolicy, RunCounts, RunSummary, Store,
    StoreError, WorkflowRecord,
};
use crate::workflow::{ActionCatalog, Code, Diagnostic, SourceContext, Validation};

pub use catalog::{Recorder, SyncCatalog, fingerprint};
pub use locks::PackLocks;
pub(crate) use pool::run as run_in_pool;
pub use pool::{BACKGROUND_NICE, background_pool, pool_threads};
pub use snippet::{ReportDiagnostic, Snippet, error_summary, snippet};

/// The API document's message when the pack folder (or its `workflows/`) is missing.
pub const DIRECTORY_NOT_FOUND: &str = "Failed to load workflows: Directory not found";

/// Limits applied while loading files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLimits {
    pub max_file_bytes: u64,
    /// Revision retention (`revisions.*`); [`RevisionPolicy::OFF`] writes none.
    pub revisions: RevisionPolicy,
}

/// Options of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    pub dry_run: bool,
    pub prune: bool,
    /// Login of the user who asked (recorded in the run); empty when no
    /// user did (a watch sync).
    pub user: String,
    /// The name of the API token the user asked with, if any: revisions
    /// name `login via token 'name'`.
    pub token: Option<String>,
    /// What started the sync (recorded in the run).
    pub trigger: Trigger,
    /// What the revisions of this sync name as their trigger instead of
    /// the sync's (`upload`, `restore`).
    pub revision_trigger: Option<&'static str>,
}

impl SyncOptions {
    /// Who and what made the revisions of this sync.
    fn author(&self) -> Author {
        let trigger = self.revision_trigger.unwrap_or(match self.trigger {
            Trigger::Api => "sync",
            Trigger::Auto => "auto",
            Trigger::Watch => "watch",
            Trigger::Upload => "upload",
        });
        if self.user.is_empty() && self.trigger == Trigger::Watch {
            return Author {
                by: "watch".to_string(),
                trigger: trigger.to_string(),
            };
        }
        Author::of_login(&self.user, self.token.as_deref(), trigger)
    }
}

/// What started a sync or validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// A request to the sync or validate endpoint.
    #[default]
    Api,
    /// The sync that follows creating or updating a pack.
    Auto,
    /// A change in the pack's folder seen by watch mode.
    Watch,
    /// The sync of a pack archive just uploaded (`POST /api/v1/packs/upload`).
    Upload,
}

impl Trigger {
    /// The lowercase name, as in run records and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Api => "api",
            Trigger::Auto => "auto",
            Trigger::Watch => "watch",
            Trigger::Upload => "upload",
        }
    }
}

/// The run record of a sync: the report plus its trigger. The trigger
/// lives in the details (free JSON) rather than in a new record field, so
/// the record format is unchanged; a run without it was started through
/// the API.
#[derive(Serialize)]
struct SyncDetails<'a> {
    #[serde(flatten)]
    report: &'a SyncReport,
    trigger: Trigger,
}

/// What happened to a registered workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowStatus {
    Created,
    Updated,
    Unchanged,
}

/// One registered workflow of a sync (the API document's fields plus `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedWorkflow {
    pub ref_name: String,
    /// True when the workflow was created, false when it existed.
    pub created: bool,
    /// Stable id; null only for a workflow a dry run would create.
    pub workflow_def_id: Option<u64>,
    pub warnings: Vec<String>,
    pub status: WorkflowStatus,
    /// The revisions this sync went from and to (diff:
    /// `/api/v1/workflows/{ref}/diff?from=…&to=…`); absent when the
    /// registered content did not change or revisions are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionPair>,
}

/// A workflow file with errors: not registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedWorkflow {
    pub ref_name: String,
    /// Relative to `packs_base_dir`.
    pub file: String,
    /// Every error message.
    pub errors: Vec<String>,
    /// True when an earlier good version stays registered (flagged stale).
    pub stale: bool,
}

/// The answer of a sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    pub pack_ref: String,
    /// Workflow files found.
    pub loaded_count: u64,
    /// Workflows registered and current after the sync (created, updated
    /// or unchanged).
    pub registered_count: u64,
    pub unchanged_count: u64,
    pub dry_run: bool,
    pub workflows: Vec<SyncedWorkflow>,
    pub failed: Vec<FailedWorkflow>,
    /// `"Validation failed for {ref}: {first error}"` per failed workflow,
    /// or the folder error.
    pub errors: Vec<String>,
    /// Registered refs whose file is gone.
    pub missing: Vec<String>,
    /// Refs deleted because of `prune`.
    pub pruned: Vec<String>,
    pub diagnostics: Vec<ReportDiagnostic>,
    /// Null for a dry run (nothing is written).
    pub run_id: Option<u64>,
    pub duration_ms: u64,
}

/// The answer of a validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateReport {
    pub pack_ref: String,
    /// Workflow files found, unparsable ones included.
    pub validated_count: u64,
    /// Workflows with at least one error.
    pub error_count: u64,
    /// ref → every error message.
    pub errors: BTreeMap<String, Vec<String>>,
    /// ref → every warning message.
    pub warnings: BTreeMap<String, Vec<String>>,
    pub diagnostics: Vec<ReportDiagnostic>,
    /// Set when the folder could not be listed (the API document's message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    pub run_id: Option<u64>,
    pub duration_ms: u64,
}

/// Why a sync or validation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{}", crate::store::pack_not_found_message(.0))]
    PackNotFound(String),
    #[error(transparent)]
    Store(StoreError),
    /// The blocking task running the sync failed (a bug; logged).
    #[error("sync task failed: {0}")]
    Task(String),
    /// The memory budget of validation work stayed full (503 `BUSY`).
    #[error(transparent)]
    Busy(#[from] crate::budget::Busy),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => SyncError::PackNotFound(
                m.strip_prefix("Pack '")
                    .and_then(|r| r.strip_suffix("' not found"))
                    .unwrap_or(&m)
                    .to_string(),
            ),
            other => SyncError::Store(other),
        }
    }
}

/// Hex sha256 of bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn millis(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Files validated per parallel batch. A batch's results are folded into
/// the report (and a sync's contents into its [`PendingChanges`]) before
/// the next batch starts, so what is held at once does not grow with the
/// pack; at this size the two threads idle for under 1 % of a batch.
const BATCH: usize = 256;

/// Where a sync's pending contents overflow to: the data directory.
fn spill_dir(store: &Store) -> PathBuf {
    store
        .path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The run record of a validation: the report plus `failed`, as the runs
/// API shows it.
#[derive(Serialize)]
struct ValidateDetails<'a> {
    #[serde(flatten)]
    report: &'a ValidateReport,
    failed: Vec<FailedWorkflow>,
}

/// A listed file with its ref and the name check done.
struct Listed {
    file: WorkflowFile,
    r#ref: String,
    rel: String,
    /// Set when the file cannot be used whatever its content.
    refused: Option<Diagnostic>,
}

type ListResult = Result<(PathBuf, Vec<Listed>, Vec<Diagnostic>), LoadError>;

fn list(packs_base_dir: &Path, pack_ref: &str, max_bytes: u64) -> ListResult {
    let pack_dir = match crate::pack::pack_dir_within(packs_base_dir, pack_ref) {
        Ok(dir) => dir,
        Err(e @ LoadError::Outside { .. }) => return Err(e),
        Err(_) => packs_base_dir.join(pack_ref),
    };
    list_at(pack_dir, pack_ref, max_bytes)
}

fn list_at(pack_dir: PathBuf, pack_ref: &str, max_bytes: u64) -> ListResult {
    let listing = crate::pack::list_pack(&pack_dir, pack_ref, max_bytes)?;
    let files = listing.files;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let r#ref = format!("{pack_ref}.{}", f.name);
        let rel = f.file_for(pack_ref);
        let refused = if !f.has_valid_name() {
            // Checked in `process` (its content too); never registered.
            None
        } else if let Some(first) = seen.get(&f.name) {
            Some(
                Diagnostic::new(
                    Code::FileUnreadable,
                    format!(
                        "workflow '{}' is already defined by {first}; this file is ignored",
                        f.name
                    ),
                    1,
                    1,
                )
                .with_hint("keep only one of the two files (.yaml, .yml and .workflow.yaml name the same workflow)"),
            )
        } else {
            seen.insert(f.name.clone(), f.rel_path.clone());
            None
        };
        let refused = refused.map(|d| d.with_source(Some(&r#ref), Some(&rel)));
        out.push(Listed {
            file: f,
            r#ref,
            rel,
            refused,
        });
    }
    Ok((pack_dir, out, listing.warnings))
}

/// What became of one file.
enum Outcome {
    Unchanged {
        record: Box<WorkflowRecord>,
        /// Only kept when the stored diagnostics need a snippet.
        source: Option<String>,
    },
    Valid {
        content: Box<WorkflowRecord>,
        validation: Validation,
    },
    Failed {
        validation: Validation,
        source: Option<String>,
    },
    /// Validated only (a validation run, which registers nothing): no
    /// content, no catalog fingerprint, the workflow dropped at once so a
    /// large pack is not held in memory.
    Checked {
        validation: Validation,
        source: Option<String>,
    },
}

/// Fingerprints already computed in this sync, by question set: most
/// workflows ask the catalog the same few questions.
#[derive(Default)]
struct Memo {
    map: std::sync::Mutex<HashMap<Questions, String>>,
}

/// The action refs looked up and the packs listed by one validation.
type Questions = (Vec<String>, Vec<String>);

impl Memo {
    fn fingerprint(
        &self,
        catalog: &dyn ActionCatalog,
        deps: &[String],
        packs: &[String],
    ) -> String {
        let key = (deps.to_vec(), packs.to_vec());
        if let Ok(map) = self.map.lock()
            && let Some(f) = map.get(&key)
        {
            return f.clone();
        }
        let f = fingerprint(catalog, deps, packs);
        if let Ok(mut map) = self.map.lock() {
            map.insert(key, f.clone());
        }
        f
    }
}

struct FileResult {
    r#ref: String,
    rel: String,
    outcome: Outcome,
    /// An action-linked workflow's action file (relative to the packs
    /// folder) and its text, for the snippets of its diagnostics.
    action: Option<(String, String)>,
}

/// A valid file's record encoded for the pending changes (`None` for
/// other outcomes and dry runs).
type Encoded = Option<Result<Vec<u8>, StoreError>>;

fn failed_one(d: Diagnostic) -> Outcome {
    Outcome::Failed {
        validation: Validation {
            workflow: None,
            diagnostics: vec![d],
            suppressed: 0,
        },
        source: None,
    }
}

/// Validates `bytes` with a recording catalog; the content when valid.
/// The workflow moves into the content (`Validation::workflow` is then
/// None) and its definition is written as JSON text straight from the
/// model (`validate_json`: no definition tree, a third of the working
/// memory): a sync holds every file's content until its one transaction
/// commits, so one copy matters.
fn validate_recorded(
    bytes: &[u8],
    action: Option<crate::workflow::LinkedAction<'_>>,
    pack_ref: &str,
    name: &str,
    rel: Option<&str>,
    catalog: &dyn ActionCatalog,
    hash: String,
) -> (Validation, Option<WorkflowRecord>) {
    let recorder = Recorder::new(catalog);
    let ctx = SourceContext {
        pack_ref,
        name,
        file: rel,
    };
    let action_file = action.as_ref().and_then(|a| a.file).map(str::to_string);
    let checked = match action {
        Some(a) => crate::workflow::validate_linked_json(bytes, a, &ctx, &recorder),
        None => crate::workflow::validate_json(bytes, &ctx, &recorder),
    };
    let (mut validation, definition) = (checked.validation, checked.definition);
    let (deps, dep_packs) = recorder.into_deps();
    let workflow = validation.workflow.take();
    let definition = definition.and_then(|t| JsonText::from_text(t).ok());
    let content = workflow.map(|workflow| {
        let record = WorkflowRecord::new(workflow);
        let definition = definition.unwrap_or(record.definition);
        let warnings: Vec<&Diagnostic> = validation.diagnostics.iter().collect();
        WorkflowRecord {
            source_file: rel.unwrap_or_default().to_string(),
            action_file,
            content_hash: hash,
            deps_fingerprint: fingerprint(catalog, &deps, &dep_packs),
            deps,
            dep_packs,
            warnings: warnings.iter().map(|d| d.message.clone()).collect(),
            diagnostics: JsonText::from_value(&warnings).unwrap_or_default(),
            source: String::from_utf8_lossy(bytes).into_owned(),
            definition,
            ..record
        }
    });
    (validation, content)
}

fn process(
    l: &Listed,
    pack_dir: &Path,
    pack_ref: &str,
    max_bytes: u64,
    catalog: &dyn ActionCatalog,
    existing: Option<&HashMap<String, WorkflowRecord>>,
    memo: &Memo,
) -> FileResult {
    let mut action: Option<(String, String)> = None;
    let mut action_bytes: Vec<u8> = Vec::new();
    if let Some(link) = &l.file.linked {
        let action_rel = format!("{pack_ref}/{}", link.action_rel);
        match read_workflow_file(&link.action_path, pack_dir, max_bytes) {
            Ok(b) => {
                action = Some((action_rel, String::from_utf8_lossy(&b).into_owned()));
                action_bytes = b;
            }
            Err(e) => {
                return FileResult {
                    r#ref: l.r#ref.clone(),
                    rel: l.rel.clone(),
                    outcome: failed_one(e.to_diagnostic(Some(&l.r#ref), Some(&action_rel))),
                    action: None,
                };
            }
        }
    }
    let result = |outcome| FileResult {
        r#ref: l.r#ref.clone(),
        rel: l.rel.clone(),
        outcome,
        action: action.clone(),
    };
    if let Some(d) = &l.refused {
        return result(failed_one(d.clone()));
    }
    if let Some(d) = crate::pack::link_problem(&l.file, pack_ref) {
        return result(failed_one(d));
    }
    let linked = action
        .as_ref()
        .map(|(file, _)| crate::workflow::LinkedAction {
            text: &action_bytes,
            file: Some(file.as_str()),
        });
    let bad_name = l.file.name_diagnostic(pack_ref);
    let bytes = match read_workflow_file(&l.file.path, pack_dir, max_bytes) {
        Ok(b) => b,
        Err(e) => {
            let mut o = failed_one(e.to_diagnostic(Some(&l.r#ref), Some(&l.rel)));
            if let Outcome::Failed { validation, .. } = &mut o {
                validation.diagnostics.splice(0..0, bad_name);
            }
            return result(o);
        }
    };
    if let Some(d) = bad_name {
        // The content is checked and reported; the file is not registered.
        let ctx = SourceContext {
            pack_ref,
            name: &l.file.name,
            file: Some(&l.rel),
        };
        let mut validation = match linked {
            Some(a) => crate::workflow::check_linked(&bytes, a, &ctx, catalog),
            None => crate::workflow::check(&bytes, &ctx, catalog),
        };
        validation.diagnostics.insert(0, d);
        let source = String::from_utf8(bytes).ok();
        return result(Outcome::Failed { validation, source });
    }
    let Some(existing) = existing else {
        let ctx = SourceContext {
            pack_ref,
            name: &l.file.name,
            file: Some(&l.rel),
        };
        let validation = match linked {
            Some(a) => crate::workflow::check_linked(&bytes, a, &ctx, catalog),
            None => crate::workflow::check(&bytes, &ctx, catalog),
        };
        let source = String::from_utf8(bytes).ok();
        return result(Outcome::Checked { validation, source });
    };
    // An action-linked workflow changes when either of its files does.
    let hash = if linked.is_some() {
        let mut both = bytes.clone();
        both.push(0);
        both.extend_from_slice(&action_bytes);
        content_hash(&both)
    } else {
        content_hash(&bytes)
    };
    if let Some(rec) = existing.get(&l.file.name)
        && !rec.stale
        && rec.content_hash == hash
        && rec.source_file == l.rel
        && rec.action_file.as_deref() == action.as_ref().map(|(file, _)| file.as_str())
        && memo.fingerprint(catalog, &rec.deps, &rec.dep_packs) == rec.deps_fingerprint
    {
        let source =
            (rec.diagnostics.get() != "[]").then(|| String::from_utf8_lossy(&bytes).into_owned());
        return result(Outcome::Unchanged {
            record: Box::new(rec.clone()),
            source,
        });
    }
    let (validation, content) = validate_recorded(
        &bytes,
        linked,
        pack_ref,
        &l.file.name,
        Some(&l.rel),
        catalog,
        hash,
    );
    let source = String::from_utf8(bytes).ok();
    match content {
        Some(content) => result(Outcome::Valid {
            content: Box::new(content),
            validation,
        }),
        None => result(Outcome::Failed { validation, source }),
    }
}

fn error_messages(v: &Validation) -> Vec<String> {
    v.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect()
}

fn warning_messages(v: &Validation) -> Vec<String> {
    v.diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| d.message.clone())
        .collect()
}

fn with_snippets(diags: &[Diagnostic], source: Option<&str>) -> Vec<ReportDiagnostic> {
    with_snippets_in(diags, source, None)
}

/// Snippets from `source`, or from the action file's text for the
/// diagnostics in it (an action-linked workflow).
fn with_snippets_in(
    diags: &[Diagnostic],
    source: Option<&str>,
    action: Option<&(String, String)>,
) -> Vec<ReportDiagnostic> {
    diags
        .iter()
        .map(|d| {
            let src = match action {
                Some((file, text)) if d.file.as_deref() == Some(file.as_str()) => {
                    Some(text.as_str())
                }
                _ => source,
            };
            ReportDiagnostic::new(d.clone(), src)
        })
        .collect()
}

fn stored_diagnostics(rec: &WorkflowRecord) -> Vec<Diagnostic> {
    if rec.diagnostics.get() == "[]" {
        return Vec::new();
    }
    rec.diagnostics.parse().unwrap_or_default()
}

fn count_severity(diags: &[ReportDiagnostic]) -> (u64, u64) {
    let errors = diags.iter().filter(|d| d.diagnostic.is_error()).count() as u64;
    (errors, diags.len() as u64 - errors)
}

/// Loads, validates and registers the workflow files of one pack. Blocking;
/// the caller serializes syncs of one pack (see [`PackLocks`]).
pub fn sync_pack(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    options: SyncOptions,
) -> Result<SyncReport, SyncError> {
    // All of it, the sequential parts and the commit included, at the
    // background pool's lower priority.
    pool::run(|| sync_pack_in_pool(store, packs_base_dir, limits, pack_ref, options, None))
}

/// A dry-run sync of a pack folder staged at `staged_dir` (an upload not
/// yet swapped in) as if it were `{packs_base_dir}/{pack_ref}`: the same
/// report, against the same catalog (other packs' actions from their
/// folders, registered workflows), writing nothing. The pack need not be
/// registered yet. Blocking.
pub fn dry_run_staged(
    store: &Store,
    packs_base_dir: &Path,
    staged_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
) -> Result<SyncReport, SyncError> {
    let options = SyncOptions {
        dry_run: true,
        prune: true,
        user: String::new(),
        token: None,
        trigger: Trigger::Api,
        revision_trigger: None,
    };
    pool::run(|| {
        sync_pack_in_pool(
            store,
            packs_base_dir,
            limits,
            pack_ref,
            options,
            Some(staged_dir),
        )
    })
}

/// One pass over a pack's files, shared by a sync and a validation run:
/// list the folder, build the catalog, validate the files in parallel
/// batches, and tally what every file said (its diagnostics with snippets,
/// the suppressed count) before handing each result to the caller, in
/// listing order.
struct Scan<'a> {
    store: &'a Store,
    packs_base_dir: &'a Path,
    limits: SyncLimits,
    pack_ref: &'a str,
    /// An upload's staged folder standing in for the pack's own.
    staged_dir: Option<&'a Path>,
    /// The registered workflows a sync compares against; `None` for a
    /// validation run, which checks every file and keeps no content.
    existing: Option<&'a HashMap<String, WorkflowRecord>>,
    /// Encode each valid file's record on the pool's threads (a sync that
    /// writes).
    encode: bool,
}

/// What every file of a scan said.
#[derive(Default)]
struct Tally {
    diagnostics: Vec<ReportDiagnostic>,
    suppressed: u64,
}

/// A listed pack: how many files, and their workflow names.
struct Scanned {
    loaded: u64,
    present: HashSet<String>,
}

impl Scan<'_> {
    /// Runs the pass. The inner `Err` is a folder that cannot be listed
    /// (reported, not a failure); the outer one a store read that failed
    /// behind the catalog, or what `each` returns.
    fn run(
        &self,
        tally: &mut Tally,
        mut each: impl FnMut(FileResult, Encoded) -> Result<(), SyncError>,
    ) -> Result<Result<Scanned, LoadError>, SyncError> {
        let listing = match self.staged_dir {
            Some(dir) => list_at(dir.to_path_buf(), self.pack_ref, self.limits.max_file_bytes),
            None => list(
                self.packs_base_dir,
                self.pack_ref,
                self.limits.max_file_bytes,
            ),
        };
        let (pack_dir, listed, list_warnings) = match listing {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let mut catalog = SyncCatalog::new(
            self.store.clone(),
            self.packs_base_dir.to_path_buf(),
            self.limits.max_file_bytes,
        );
        if let Some(dir) = self.staged_dir {
            catalog = catalog.with_staged(self.pack_ref, dir.to_path_buf());
        }
        tally
            .diagnostics
            .extend(with_snippets(&list_warnings, None));
        tally
            .diagnostics
            .extend(with_snippets(&catalog.pack_problems(self.pack_ref), None));
        let memo = Memo::default();
        for batch in listed.chunks(BATCH) {
            // Each valid file's record is encoded on the pool's threads,
            // not on the one thread that gathers the batch.
            let results: Vec<(FileResult, Encoded)> = batch
                .par_iter()
                .map(|l| {
                    let r = process(
                        l,
                        &pack_dir,
                        self.pack_ref,
                        self.limits.max_file_bytes,
                        &catalog,
                        self.existing,
                        &memo,
                    );
                    let encoded = match &r.outcome {
                        Outcome::Valid { content, .. } if self.encode => {
                            Some(PendingChanges::encode(content))
                        }
                        _ => None,
                    };
                    (r, encoded)
                })
                .collect();
            // A failed store read behind a catalog answer fails the pass
            // before anything is written.
            catalog.failure()?;
            for (r, encoded) in results {
                tally.add(&r);
                each(r, encoded)?;
            }
        }
        Ok(Ok(Scanned {
            loaded: listed.len() as u64,
            present: listed.into_iter().map(|l| l.file.name).collect(),
        }))
    }
}

impl Tally {
    fn add(&mut self, r: &FileResult) {
        let action = r.action.as_ref();
        match &r.outcome {
            Outcome::Unchanged { record, source } => {
                let diags = stored_diagnostics(record);
                self.diagnostics
                    .extend(with_snippets_in(&diags, source.as_deref(), action));
            }
            Outcome::Valid {
                content,
                validation,
            } => {
                self.suppressed += validation.suppressed as u64;
                self.diagnostics.extend(with_snippets_in(
                    &validation.diagnostics,
                    Some(&content.source),
                    action,
                ));
            }
            Outcome::Failed { validation, source } | Outcome::Checked { validation, source } => {
                self.suppressed += validation.suppressed as u64;
                self.diagnostics.extend(with_snippets_in(
                    &validation.diagnostics,
                    source.as_deref(),
                    action,
                ));
            }
        }
    }
}

/// The message of a pack folder that cannot be listed.
fn load_error_message(e: LoadError) -> String {
    match e {
        LoadError::DirectoryNotFound(_) => DIRECTORY_NOT_FOUND.to_string(),
        other => format!("Failed to load workflows: {other}"),
    }
}

fn sync_pack_in_pool(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    options: SyncOptions,
    staged_dir: Option<&Path>,
) -> Result<SyncReport, SyncError> {
    let start = Instant::now();
    let started = OffsetDateTime::now_utc();
    if staged_dir.is_none() && store.get_pack(pack_ref)?.is_none() {
        return Err(SyncError::PackNotFound(pack_ref.to_string()));
    }
    let existing: HashMap<String, WorkflowRecord> = store
        .pack_workflow_heads(pack_ref)?
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    let mut report = SyncReport {
        pack_ref: pack_ref.to_string(),
        loaded_count: 0,
        registered_count: 0,
        unchanged_count: 0,
        dry_run: options.dry_run,
        workflows: Vec::new(),
        failed: Vec::new(),
        errors: Vec::new(),
        missing: Vec::new(),
        pruned: Vec::new(),
        diagnostics: Vec::new(),
        run_id: None,
        duration_ms: 0,
    };
    let mut counts = RunCounts::default();
    // Nothing is gathered for a dry run, which writes nothing.
    let mut changes = (!options.dry_run).then(|| PendingChanges::new(&spill_dir(store)));
    // Position in `report.workflows` of each upsert, to fill ids after commit.
    let mut upsert_slots: HashMap<String, usize> = HashMap::new();

    let scan = Scan {
        store,
        packs_base_dir,
        limits,
        pack_ref,
        staged_dir,
        existing: Some(&existing),
        encode: changes.is_some(),
    };
    let mut tally = Tally::default();
    let scanned = scan.run(&mut tally, |r, encoded| {
        match r.outcome {
            Outcome::Unchanged { record, .. } => {
                report.workflows.push(SyncedWorkflow {
                    ref_name: record.r#ref.clone(),
                    created: false,
                    workflow_def_id: Some(record.id),
                    warnings: record.warnings.clone(),
                    status: WorkflowStatus::Unchanged,
                    revision: None,
                });
                counts.unchanged += 1;
            }
            Outcome::Valid {
                content,
                validation,
            } => {
                let known = existing.get(&content.name);
                let status = if known.is_some() {
                    WorkflowStatus::Updated
                } else {
                    WorkflowStatus::Created
                };
                upsert_slots.insert(r.r#ref.clone(), report.workflows.len());
                report.workflows.push(SyncedWorkflow {
                    ref_name: r.r#ref.clone(),
                    created: known.is_none(),
                    workflow_def_id: known.map(|k| k.id),
                    warnings: warning_messages(&validation),
                    status,
                    revision: None,
                });
                if let (Some(changes), Some(bytes)) = (&mut changes, encoded) {
                    changes.upsert_encoded(&bytes?)?;
                }
            }
            Outcome::Failed { validation, .. } | Outcome::Checked { validation, .. } => {
                let errors = error_messages(&validation);
                let first = errors.first().cloned().unwrap_or_default();
                report
                    .errors
                    .push(format!("Validation failed for {}: {first}", r.r#ref));
                let name = r.r#ref.rsplit('.').next().unwrap_or_default();
                let stale = existing.get(name).is_some_and(|rec| rec.r#ref == r.r#ref);
                if stale && let Some(changes) = &mut changes {
                    changes.mark_stale(r.r#ref.clone());
                }
                report.failed.push(FailedWorkflow {
                    ref_name: r.r#ref,
                    file: r.rel,
                    errors,
                    stale,
                });
            }
        }
        Ok(())
    })?;
    report.diagnostics = tally.diagnostics;
    counts.suppressed = tally.suppressed;
    match scanned {
        Err(e) => {
            report.errors.push(load_error_message(e));
            report.missing = existing
                .values()
                .filter(|r| !r.source_file.is_empty())
                .map(|r| r.r#ref.clone())
                .collect();
            report.missing.sort();
        }
        Ok(Scanned { loaded, present }) => {
            report.loaded_count = loaded;
            let mut missing: Vec<&WorkflowRecord> = existing
                .values()
                .filter(|rec| !rec.source_file.is_empty() && !present.contains(&rec.name))
                .collect();
            missing.sort_by(|a, b| a.r#ref.cmp(&b.r#ref));
            report.missing = missing.iter().map(|r| r.r#ref.clone()).collect();
            if options.prune {
                report.pruned = report.missing.clone();
                if let Some(changes) = &mut changes {
                    for r in &report.pruned {
                        changes.prune(r.clone());
                    }
                }
            }
        }
    }

    counts.loaded = report.loaded_count;
    counts.created = report
        .workflows
        .iter()
        .filter(|w| w.status == WorkflowStatus::Created)
        .count() as u64;
    counts.updated = report
        .workflows
        .iter()
        .filter(|w| w.status == WorkflowStatus::Updated)
        .count() as u64;
    counts.failed = report.failed.len() as u64;
    counts.missing = report.missing.len() as u64;
    counts.pruned = report.pruned.len() as u64;
    (counts.errors, counts.warnings) = count_severity(&report.diagnostics);
    counts.registered = report.workflows.len() as u64;
    report.registered_count = counts.registered;
    report.unchanged_count = counts.unchanged;
    report.duration_ms = millis(start);

    let Some(changes) = changes else {
        return Ok(report);
    };
    let ok = report.errors.is_empty();
    let summary = move |run_id| RunSummary {
        run_id,
        at: started,
        ok,
        error_count: counts.failed + u64::from(counts.loaded == 0 && !ok),
        warning_count: counts.warnings,
        workflow_count: counts.registered,
    };
    let author = options.author();
    let trigger = options.trigger;
    let user = options.user;
    let prune = options.prune;
    let report_ref = &mut report;
    // Built inside the commit, once ids and revision pairs are known, so
    // the run record links each updated workflow to its diff.
    let run = move |upserted: &[(String, crate::store::Upserted)]| {
        for (r, u) in upserted {
            if let Some(&slot) = upsert_slots.get(r)
                && let Some(w) = report_ref.workflows.get_mut(slot)
            {
                w.workflow_def_id = Some(u.id);
                w.created = u.created;
                w.status = if u.created {
                    WorkflowStatus::Created
                } else {
                    WorkflowStatus::Updated
                };
                // per updated workflow: a created one is at its first
                // revision (its history is one GET away)
                w.revision = if u.created { None } else { u.revision };
            }
        }
        NewRun {
            pack_ref: pack_ref.to_string(),
            kind: "sync".to_string(),
            user,
            started,
            duration_ms: report_ref.duration_ms,
            dry_run: false,
            prune,
            counts,
            details: JsonText::from_value(&SyncDetails {
                report: report_ref,
                trigger,
            })
            .unwrap_or_default(),
        }
    };
    let (run_id, _) =
        store.commit_sync(pack_ref, changes, limits.revisions, author, run, summary)?;
    report.run_id = Some(run_id);
    // The run record cannot hold its own commit time; the answer does.
    report.duration_ms = millis(start);
    Ok(report)
}

/// Loads and validates the workflow files of one pack without registering
/// them; records the run and the pack's `last_validation`. Blocking.
pub fn validate_pack(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    user: &str,
) -> Result<ValidateReport, SyncError> {
    pool::run(|| validate_pack_in_pool(store, packs_base_dir, limits, pack_ref, user))
}

fn validate_pack_in_pool(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    user: &str,
) -> Result<ValidateReport, SyncError> {
    let start = Instant::now();
    let started = OffsetDateTime::now_utc();
    if store.get_pack(pack_ref)?.is_none() {
        return Err(SyncError::PackNotFound(pack_ref.to_string()));
    }
    let mut report = ValidateReport {
        pack_ref: pack_ref.to_string(),
        validated_count: 0,
        error_count: 0,
        errors: BTreeMap::new(),
        warnings: BTreeMap::new(),
        diagnostics: Vec::new(),
        load_error: None,
        run_id: None,
        duration_ms: 0,
    };
    let mut counts = RunCounts::default();
    let scan = Scan {
        store,
        packs_base_dir,
        limits,
        pack_ref,
        staged_dir: None,
        existing: None,
        encode: false,
    };
    let mut tally = Tally::default();
    let scanned = scan.run(&mut tally, |r, _| {
        let validation = match &r.outcome {
            Outcome::Valid { validation, .. }
            | Outcome::Failed { validation, .. }
            | Outcome::Checked { validation, .. } => validation,
            // `existing` is None, so nothing is skipped.
            Outcome::Unchanged { .. } => return Ok(()),
        };
        let errors = error_messages(validation);
        let warnings = warning_messages(validation);
        if !errors.is_empty() {
            report.errors.insert(r.r#ref.clone(), errors);
        }
        if !warnings.is_empty() {
            report.warnings.insert(r.r#ref, warnings);
        }
        Ok(())
    })?;
    report.diagnostics = tally.diagnostics;
    counts.suppressed = tally.suppressed;
    match scanned {
        Err(e) => report.load_error = Some(load_error_message(e)),
        Ok(scanned) => report.validated_count = scanned.loaded,
    }
    report.error_count = report.errors.len() as u64;
    counts.loaded = report.validated_count;
    counts.failed = report.error_count;
    (counts.errors, counts.warnings) = count_severity(&report.diagnostics);
    report.duration_ms = millis(start);
    let ok = report.error_count == 0 && report.load_error.is_none();
    let summary = move |run_id| RunSummary {
        run_id,
        at: started,
        ok,
        error_count: counts.failed,
        warning_count: counts.warnings,
        workflow_count: counts.loaded,
    };
    let failed: Vec<FailedWorkflow> = report
        .errors
        .iter()
        .map(|(r, errs)| FailedWorkflow {
            ref_name: r.clone(),
            file: report
                .diagnostics
                .iter()
                .find(|d| d.diagnostic.r#ref.as_deref() == Some(r))
                .and_then(|d| d.diagnostic.file.clone())
                .unwrap_or_default(),
            errors: errs.clone(),
            stale: false,
        })
        .collect();
    let details = JsonText::from_value(&ValidateDetails {
        report: &report,
        failed,
    })
    .unwrap_or_default();
    let run = NewRun {
        pack_ref: pack_ref.to_string(),
        kind: "validate".to_string(),
        user: user.to_string(),
        started,
        duration_ms: report.duration_ms,
        dry_run: false,
        prune: false,
        counts,
        details,
    };
    report.run_id = Some(store.commit_validation(pack_ref, run, summary)?);
    Ok(report)
}

/// A YAML text validated for the API (create, replace, validate-only).
#[derive(Debug, Clone)]
pub struct PreparedWorkflow {
    pub validation: Validation,
    /// Present when the text has no error.
    pub content: Option<WorkflowRecord>,
    pub diagnostics: Vec<ReportDiagnostic>,
}

/// What `POST /api/v1/workflows/validate` answers: the diagnostics with
/// snippets and the normalized definition as JSON text.
#[derive(Debug)]
pub struct CheckedText {
    pub valid: bool,
    pub diagnostics: Vec<ReportDiagnostic>,
    pub definition: Option<JsonText>,
}

/// Validates a text that will not be stored: unlike [`prepare_workflow`] no
/// stored content (a second copy of the definition and of the source) is
/// built, and the definition's tree becomes compact JSON text and is
/// dropped before the snippets are cut, so the peak is one validation. A
/// store read failing on the way is the error, never a diagnostic.
pub fn check_text(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    name: &str,
    yaml: &str,
) -> Result<CheckedText, StoreError> {
    let catalog = SyncCatalog::new(
        store.clone(),
        packs_base_dir.to_path_buf(),
        limits.max_file_bytes,
    );
    let ctx = SourceContext {
        pack_ref,
        name,
        file: None,
    };
    // Only the definition's text is answered: written straight from the
    // model, never built as a tree.
    let checked = crate::workflow::validate_json(yaml.as_bytes(), &ctx, &catalog);
    catalog.failure()?;
    let validation = checked.validation;
    let valid = validation.workflow.is_some();
    let definition = checked.definition.and_then(|t| JsonText::from_text(t).ok());
    let diagnostics = with_snippets(&validation.diagnostics, Some(yaml));
    Ok(CheckedText {
        valid,
        diagnostics,
        definition,
    })
}

/// Validates a YAML text as workflow `name` of `pack_ref` against the same
/// catalog a sync would use; a store read failing on the way is the
/// error, never a diagnostic. Blocking.
pub fn prepare_workflow(
    store: &Store,
    packs_base_dir: &Path,
    limits: SyncLimits,
    pack_ref: &str,
    name: &str,
    yaml: &str,
) -> Result<PreparedWorkflow, StoreError> {
    let catalog = SyncCatalog::new(
        store.clone(),
        packs_base_dir.to_path_buf(),
        limits.max_file_bytes,
    );
    let (validation, content) = validate_recorded(
        yaml.as_bytes(),
        None,
        pack_ref,
        name,
        None,
        &catalog,
        content_hash(yaml.as_bytes()),
    );
    catalog.failure()?;
    let diagnostics = with_snippets(&validation.diagnostics, Some(yaml));
    Ok(PreparedWorkflow {
        validation,
        content,
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewPack;

    const LIMITS: SyncLimits = SyncLimits {
        revisions: RevisionPolicy {
            keep: crate::store::revisions::DEFAULT_KEEP,
            max_total: crate::store::revisions::DEFAULT_MAX_TOTAL,
        },
        max_file_bytes: 1024 * 1024,
    };

    fn setup() -> (tempfile::TempDir, Store, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        let packs = dir.path().join("packs");
        store.create_pack(NewPack::minimal("p", "P")).unwrap();
        std::fs::create_dir_all(packs.join("p/workflows")).unwrap();
        (dir, store, packs)
    }

    fn write(packs: &Path, file: &str, text: &str) {
        std::fs::write(packs.join("p/workflows").join(file), text).unwrap();
    }

    const GOOD: &str = "label: G\nversion: \"1.0.0\"\ntasks:\n  - name: t\n    action: core.noop\n";

    #[test]
    fn sync_runs_without_http_and_a_dry_run_writes_nothing() {
        let (_dir, store, packs) = setup();
        write(&packs, "a.yaml", GOOD);
        write(&packs, "a.yml", GOOD);
        write(&packs, "bad.name.yaml", GOOD);
        let opts = |dry_run| SyncOptions {
            dry_run,
            prune: false,
            user: "tester".into(),
            token: None,
            trigger: Trigger::Api,
            revision_trigger: None,
        };
        let dry = sync_pack(&store, &packs, LIMITS, "p", opts(true)).unwrap();
        assert_eq!(dry.run_id, None);
        assert_eq!(dry.workflows[0].status, WorkflowStatus::Created);
        assert_eq!(dry.workflows[0].workflow_def_id, None);
        assert!(store.pack_workflows("p").unwrap().is_empty());
        assert!(store.list_runs(Some("p"), 1, 10).unwrap().0.is_empty());

        let real = sync_pack(&store, &packs, LIMITS, "p", opts(false)).unwrap();
        assert_eq!(real.loaded_count, 3);
        assert_eq!(real.registered_count, 1);
        let failed: Vec<(&str, &str)> = real
            .failed
            .iter()
            .map(|f| (f.ref_name.as_str(), f.errors[0].as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                (
                    "p.a",
                    "workflow 'a' is already defined by workflows/a.yaml; this file is ignored"
                ),
                (
                    "p.bad.name",
                    "'bad.name' is not a valid workflow name; names match ^[A-Za-z0-9_-]+$"
                ),
            ]
        );
        let run = store.get_run(real.run_id.unwrap()).unwrap().unwrap();
        assert_eq!((run.kind.as_str(), run.user.as_str()), ("sync", "tester"));
        assert_eq!(run.counts.created, 1);
        assert_eq!(run.counts.failed, 2);
        let pack = store.get_pack("p").unwrap().unwrap();
        assert_eq!(pack.last_sync.unwrap().run_id, run.id);

        assert!(matches!(
            sync_pack(&store, &packs, LIMITS, "nope", opts(false)),
            Err(SyncError::PackNotFound(r)) if r == "nope"
        ));
    }

    #[test]
    fn a_recorder_notes_lookups_and_the_fingerprint_follows_the_answers() {
        let mut a = crate::workflow::MapCatalog::new();
        a.insert(
            "p.x",
            crate::workflow::ActionInfo {
                kind: crate::workflow::ActionKind::Action,
                parameters: None,
            },
        );
        let r = Recorder::new(&a);
        assert!(r.lookup("p.x").is_some());
        assert!(r.lookup("p.y").is_none());
        r.refs_in_pack("p");
        let (lookups, packs) = r.into_deps();
        assert_eq!(lookups, ["p.x", "p.y"]);
        assert_eq!(packs, ["p"]);
        let before = fingerprint(&a, &lookups, &packs);
        assert_eq!(before, fingerprint(&a, &lookups, &packs));
        a.insert(
            "p.y",
            crate::workflow::ActionInfo {
                kind: crate::workflow::ActionKind::Workflow,
                parameters: None,
            },
        );
        assert_ne!(before, fingerprint(&a, &lookups, &packs));
    }
}
