//! `attune diff OLD NEW`: the semantic diff of two workflow files, or of
//! every workflow of two pack folders, offline (no database, no server),
//! for code review in CI.
//!
//! Each file is normalized by the validator with every action taken as
//! known (a diff is not a validation: `attune validate` resolves actions),
//! then the two definitions are compared by the core's
//! [`crate::workflow::diff`]. Exit status: 0 when nothing changed
//! semantically, 1 when something did, 2 on a usage error or a file that
//! cannot be normalized (its first error is printed).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pack;
use crate::workflow::diff::{SemanticDiff, diff_definitions};
use crate::workflow::{
    ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, LinkedAction, SourceContext,
};

/// Output format of `attune diff`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    /// The summary line and one line per change.
    #[default]
    Text,
    /// One JSON document: `changed` and a `workflows` array.
    Json,
}

/// Arguments of `attune diff`.
#[derive(clap::Args, Debug, Clone)]
pub struct DiffArgs {
    /// The old workflow file or pack folder
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new workflow file or pack folder
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Also print the unified diff of the sources (text format)
    #[arg(long)]
    pub unified: bool,
    /// Largest workflow file read, in bytes
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    pub max_file_bytes: u64,
}

/// Built-in actions as they are, any other ref known with unknown
/// parameters: structure is normalized, references are not resolved.
struct AnyAction(BuiltinCatalog);

impl ActionCatalog for AnyAction {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.0.lookup(action_ref).or(Some(ActionInfo {
            kind: ActionKind::Action,
            parameters: None,
        }))
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        self.0.refs_in_pack(pack_ref)
    }
    fn has_pack(&self, _pack_ref: &str) -> bool {
        true
    }
}

/// One workflow of the comparison.
#[derive(Debug, Serialize)]
struct WorkflowDiff {
    name: String,
    /// `added`, `removed`, `changed` or `unchanged`.
    status: &'static str,
    old_file: Option<String>,
    new_file: Option<String>,
    semantic: SemanticDiff,
    #[serde(skip)]
    unified: String,
}

#[derive(Debug, Serialize)]
struct DiffReport {
    changed: bool,
    workflows: Vec<WorkflowDiff>,
}

/// A file to normalize: where it is and, for an action-linked workflow,
/// its action file.
struct Input {
    name: String,
    path: PathBuf,
    action: Option<PathBuf>,
}

struct Normalized {
    definition: serde_json::Value,
    source: String,
}

fn shown(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn read(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", shown(path)))?;
    if meta.len() > max {
        return Err(format!(
            "{}: {} bytes is over the limit of {max} (--max-file-bytes)",
            shown(path),
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", shown(path)))
}

fn normalize(input: &Input, pack_ref: &str, max: u64) -> Result<Normalized, String> {
    let bytes = read(&input.path, max)?;
    let file = shown(&input.path);
    let ctx = SourceContext {
        pack_ref,
        name: &input.name,
        file: Some(&file),
    };
    let catalog = AnyAction(BuiltinCatalog::new());
    let validation = match &input.action {
        Some(a) => {
            let text = read(a, max)?;
            let afile = shown(a);
            crate::workflow::validate_linked(
                &bytes,
                LinkedAction {
                    text: &text,
                    file: Some(&afile),
                },
                &ctx,
                &catalog,
            )
        }
        None => crate::workflow::validate(&bytes, &ctx, &catalog),
    };
    match validation.workflow {
        Some(w) => Ok(Normalized {
            definition: w.definition,
            source: String::from_utf8_lossy(&bytes).into_owned(),
        }),
        None => {
            let first = validation
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| format!("{}:{}:{}: {}", file, d.line, d.column, d.message))
                .unwrap_or_else(|| format!("{file}: not a workflow"));
            Err(format!(
                "cannot diff {file}: it has errors ({first}); run `attune validate` on it"
            ))
        }
    }
}

fn file_name(p: &Path) -> Option<String> {
    let stem = p.file_stem()?.to_str()?;
    Some(stem.strip_suffix(".workflow").unwrap_or(stem).to_string())
}

/// The pack ref of a path: the folder name of a pack folder, or of the
/// pack holding `workflows/x.yaml`; `local` otherwise.
fn pack_ref_of(p: &Path, is_dir: bool) -> String {
    let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let dir = if is_dir {
        Some(canon.as_path())
    } else {
        canon
            .parent()
            .filter(|d| d.file_name().is_some_and(|n| n == "workflows"))
            .and_then(Path::parent)
    };
    dir.and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .filter(|n| crate::workflow::is_valid_pack_ref(n))
        .unwrap_or("local")
        .to_string()
}

fn list(dir: &Path) -> Result<BTreeMap<String, Input>, String> {
    let listing = pack::list_pack(dir, "", pack::ACTION_FILE_MAX_BYTES)
        .map_err(|e| format!("{}: {e}", shown(dir)))?;
    Ok(listing
        .files
        .into_iter()
        .map(|f| {
            let action = f.linked.as_ref().map(|l| l.action_path.clone());
            (
                f.name.clone(),
                Input {
                    name: f.name,
                    path: f.path,
                    action,
                },
            )
        })
        .collect())
}

fn compare(
    name: &str,
    old: Option<(&Input, &str)>,
    new: Option<(&Input, &str)>,
    max: u64,
) -> Result<WorkflowDiff, String> {
    let empty = || serde_json::Value::Object(Default::default());
    let o = old.map(|(i, p)| normalize(i, p, max)).transpose()?;
    let n = new.map(|(i, p)| normalize(i, p, max)).transpose()?;
    let old_def = o
        .as_ref()
        .map(|x| x.definition.clone())
        .unwrap_or_else(empty);
    let new_def = n
        .as_ref()
        .map(|x| x.definition.clone())
        .unwrap_or_else(empty);
    let semantic = diff_definitions(&old_def, &new_def);
    let status = match (&o, &n) {
        (None, _) => "added",
        (_, None) => "removed",
        _ if semantic.changed => "changed",
        _ => "unchanged",
    };
    let old_file = old.map(|(i, _)| shown(&i.path));
    let new_file = new.map(|(i, _)| shown(&i.path));
    let unified = crate::textdiff::diff_text(
        o.as_ref().map(|x| x.source.as_str()).unwrap_or(""),
        n.as_ref().map(|x| x.source.as_str()).unwrap_or(""),
        old_file.as_deref().unwrap_or("/dev/null"),
        new_file.as_deref().unwrap_or("/dev/null"),
    )
    .unified;
    Ok(WorkflowDiff {
        name: name.to_string(),
        status,
        old_file,
        new_file,
        semantic,
        unified,
    })
}

fn build(args: &DiffArgs) -> Result<DiffReport, String> {
    let max = args.max_file_bytes;
    let (od, nd) = (args.old.is_dir(), args.new.is_dir());
    for p in [&args.old, &args.new] {
        if !p.exists() {
            return Err(format!("{}: no such file or folder", shown(p)));
        }
    }
    let workflows = match (od, nd) {
        (false, false) => {
            // Two versions of one workflow: both read under NEW's name and
            // pack, so a renamed file is no `ref` change.
            let name = file_name(&args.new).unwrap_or_else(|| "workflow".into());
            let input = |p: &Path| Input {
                name: name.clone(),
                path: p.to_path_buf(),
                action: None,
            };
            let (oi, ni) = (input(&args.old), input(&args.new));
            let pack = pack_ref_of(&args.new, false);
            vec![compare(&name, Some((&oi, &pack)), Some((&ni, &pack)), max)?]
        }
        (true, true) => {
            // Both under NEW's pack ref (`old/` may be a checkout elsewhere).
            let pack = pack_ref_of(&args.new, true);
            let (op, np) = (pack.clone(), pack);
            let old = list(&args.old)?;
            let new = list(&args.new)?;
            let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
            names.sort();
            names.dedup();
            let mut out = Vec::new();
            for name in names {
                out.push(compare(
                    name,
                    old.get(name).map(|i| (i, op.as_str())),
                    new.get(name).map(|i| (i, np.as_str())),
                    max,
                )?);
            }
            out
        }
        _ => {
            return Err(
                "OLD and NEW must both be workflow files or both be pack folders".to_string(),
            );
        }
    };
    Ok(DiffReport {
        changed: workflows.iter().any(|w| w.status != "unchanged"),
        workflows,
    })
}

/// Run `attune diff`; returns the exit status (0 no semantic change,
/// 1 changes, 2 usage error or a file with errors, printed to stderr).
pub fn run_diff(args: &DiffArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let report = match build(args) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(2);
        }
    };
    match args.format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        DiffFormat::Text => {
            for w in &report.workflows {
                let file = w
                    .new_file
                    .as_deref()
                    .or(w.old_file.as_deref())
                    .unwrap_or("");
                match w.status {
                    "added" => writeln!(out, "+ workflow {} ({file}): added", w.name)?,
                    "removed" => writeln!(out, "- workflow {} ({file}): removed", w.name)?,
                    _ => {
                        let text = w.semantic.to_text();
                        let mut lines = text.lines();
                        let summary = lines.next().unwrap_or_default();
                        writeln!(out, "workflow {} ({file}): {summary}", w.name)?;
                        for line in lines {
                            writeln!(out, "  {line}")?;
                        }
                    }
                }
                if args.unified && !w.unified.is_empty() {
                    write!(out, "{}", w.unified)?;
                }
            }
        }
    }
    Ok(i32::from(report.changed))
}
