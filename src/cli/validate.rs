//! `attune validate PATH…`: offline validation of pack folders, packs
//! folders or single workflow files, with compiler-style text output,
//! `--format json` or `--format sarif` (2.1.0). Files are validated in
//! parallel; output order is stable. Exit status: 1 when any error, 0
//! otherwise, 2 for bad usage.

use crate::pack::{self, FileOutcome, PackCatalog, WorkflowFile};
use crate::workflow::{BuiltinCatalog, Code, Diagnostic, LayeredCatalog, Severity};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output format of `attune validate`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Compiler-style messages with source snippets.
    #[default]
    Text,
    /// One JSON document with a `diagnostics` array and per-file status.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// Arguments of `attune validate`.
#[derive(clap::Args, Debug, Clone)]
pub struct ValidateArgs {
    /// Pack folders (with a workflows/ folder), packs folders (each subfolder
    /// a pack) or single workflow files
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Largest workflow file read, in bytes
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    pub max_file_bytes: u64,
    /// Where the rules reference is served (an appliance's `/docs/rules`);
    /// JSON and SARIF link each diagnostic to `URL#<code>`
    #[arg(long, default_value = DEFAULT_RULES_URL, value_name = "URL")]
    pub rules_url: String,
    /// A packs folder (each subfolder a pack) whose actions and workflows
    /// refs may name, without checking its workflows: a pack's
    /// dependencies. Repeatable; a pack folder is taken as one pack.
    #[arg(long = "packs-path", value_name = "DIR")]
    pub packs_path: Vec<PathBuf>,
}

/// The rules reference of an appliance on its default address; `docs/RULES.md`
/// in the repository is the same text.
pub const DEFAULT_RULES_URL: &str = "http://127.0.0.1:8080/docs/rules";

/// `URL#code`: one rule's entry in the rules reference.
fn help_uri(rules_url: &str, code: Code) -> String {
    format!("{}#{}", rules_url.trim_end_matches('#'), code.as_str())
}

/// One pack to check: its folder, ref and which of its files.
struct PackJob {
    dir: PathBuf,
    pack_ref: String,
    files: Vec<WorkflowFile>,
    /// The warnings of listing the pack (`skipped-file`, `shadowed-workflow`).
    skipped: Vec<Diagnostic>,
}

struct Checked {
    display: String,
    /// An action-linked workflow's action file, as shown.
    action_display: Option<String>,
    outcome: FileOutcome,
}

/// The path shown for a diagnostic: the action file's for those in it.
fn display_of(c: &Checked, d: &Diagnostic) -> String {
    match (&c.action_display, &c.outcome.action) {
        (Some(shown), Some((file, _))) if d.file.as_deref() == Some(file.as_str()) => shown.clone(),
        _ => c.display.clone(),
    }
}

/// Run `attune validate`; returns the exit status. Usage errors are printed
/// to stderr (so JSON/SARIF output stays clean) and give 2.
pub fn run_validate(args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let jobs = match collect_jobs(&args.paths) {
        Ok(j) => j,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(2);
        }
    };
    // Catalog: built-ins, every pack found, sibling packs of each, and the
    // packs of every --packs-path folder.
    let mut pc = PackCatalog::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut sources: Vec<String> = Vec::new();
    let mut source = |dir: &Path| {
        let shown = display_path(dir);
        if !sources.contains(&shown) {
            sources.push(shown);
        }
    };
    for j in &jobs {
        if let Some(parent) = j.dir.parent() {
            source(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            });
            for (dir, r) in sibling_packs(parent) {
                if seen.insert(dir.clone()) {
                    pack::add_pack(&mut pc, &dir, &r, args.max_file_bytes);
                }
            }
        }
        if seen.insert(j.dir.clone()) {
            pack::add_pack(&mut pc, &j.dir, &j.pack_ref, args.max_file_bytes);
        }
    }
    for dir in &args.packs_path {
        if !dir.is_dir() {
            eprintln!(
                "error: --packs-path '{}' is not a folder; give a packs folder (each subfolder a pack) or a pack folder",
                dir.display()
            );
            return Ok(2);
        }
        source(dir);
        let packs = if is_pack_dir(dir) {
            dir_name(dir)
                .map(|r| vec![(dir.clone(), r)])
                .unwrap_or_default()
        } else {
            sibling_packs(dir)
        };
        for (d, r) in packs {
            if seen.insert(d.clone()) {
                pack::add_pack(&mut pc, &d, &r, args.max_file_bytes);
            }
        }
    }
    pc.sources = sources;
    let builtins = BuiltinCatalog::new();
    let catalog = LayeredCatalog::new(vec![&pc, &builtins]);

    let work: Vec<(&PackJob, &WorkflowFile)> = jobs
        .iter()
        .flat_map(|j| j.files.iter().map(move |f| (j, f)))
        .collect();
    let mut checked: Vec<Checked> = work
        .par_iter()
        .map(|(j, f)| Checked {
            display: display_path(&f.path),
            action_display: f
                .linked
                .as_ref()
                .map(|l| display_path(&j.dir.join(&l.action_rel))),
            outcome: pack::load_and_validate(f, &j.dir, &j.pack_ref, args.max_file_bytes, &catalog),
        })
        .collect();
    for j in &jobs {
        checked.extend(j.skipped.iter().map(|d| pack_level(j, d)));
    }

    // Action files of the checked packs that could not be used.
    for d in &pc.problems {
        let file = d.file.as_deref().unwrap_or("");
        if let Some(j) = jobs
            .iter()
            .find(|j| file.starts_with(&format!("{}/", j.pack_ref)))
        {
            checked.push(pack_level(j, d));
        }
    }

    match args.format {
        Format::Text => write_text(out, &checked, jobs.len())?,
        Format::Json => write_json(out, &checked, &args.rules_url)?,
        Format::Sarif => write_sarif(out, &checked, &args.rules_url)?,
    }
    let any_error = checked.iter().any(|c| c.outcome.validation.has_errors());
    Ok(i32::from(any_error))
}

/// A diagnostic of a pack's listing or of one of its action files, shown
/// as the result of its own file.
fn pack_level(j: &PackJob, d: &Diagnostic) -> Checked {
    let prefix = format!("{}/", j.pack_ref);
    let rel = d
        .file
        .as_deref()
        .and_then(|f| f.strip_prefix(&prefix))
        .unwrap_or("");
    Checked {
        display: display_path(&j.dir.join(rel)),
        action_display: None,
        outcome: FileOutcome {
            r#ref: d.r#ref.clone().unwrap_or_default(),
            file: d.file.clone().unwrap_or_default(),
            source: None,
            action: None,
            validation: crate::workflow::Validation {
                workflow: None,
                diagnostics: vec![d.clone()],
                suppressed: 0,
            },
        },
    }
}

fn display_path(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn is_workflow_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml")
}

fn dir_name(p: &Path) -> Option<String> {
    let canon = std::fs::canonicalize(p).ok()?;
    canon.file_name()?.to_str().map(str::to_string)
}

/// The workflow files of a pack folder and the warnings of listing it;
/// none when it has no workflows (a pack of actions only).
fn pack_files(dir: &Path, pack_ref: &str) -> Result<pack::PackListing, String> {
    match pack::list_pack(dir, pack_ref, pack::ACTION_FILE_MAX_BYTES) {
        Ok(l) => Ok(l),
        Err(pack::LoadError::DirectoryNotFound(_)) => Ok(pack::PackListing::default()),
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}

/// A pack folder: it has workflows/, actions/ or pack.yaml.
fn is_pack_dir(p: &Path) -> bool {
    p.join("workflows").is_dir() || p.join("actions").is_dir() || p.join("pack.yaml").is_file()
}

/// The pack folders directly under `dir` (those with workflows/ or actions/).
fn sibling_packs(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, String)> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let p = e.path();
            let name = e.file_name().to_str()?.to_string();
            (p.join("workflows").is_dir() || p.join("actions").is_dir()).then_some((p, name))
        })
        .collect();
    v.sort();
    v
}

fn collect_jobs(paths: &[PathBuf]) -> Result<Vec<PackJob>, String> {
    let mut jobs: Vec<PackJob> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|_| {
            format!(
                "path '{}' does not exist; give a pack folder, a packs folder or a workflow file",
                p.display()
            )
        })?;
        if meta.is_file() || (!meta.is_dir() && is_workflow_file(p)) {
            if !is_workflow_file(p) {
                return Err(format!(
                    "'{}' is not a workflow file (*.yaml or *.yml)",
                    p.display()
                ));
            }
            let parent = p
                .parent()
                .filter(|x| !x.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let up = |x: &Path| {
                x.parent()
                    .filter(|y| !y.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf()
            };
            // `pack/workflows/x.yaml`, `pack/actions/workflows/x.yaml`, or
            // a file in a folder that is taken as the pack.
            let in_workflows = dir_name(parent).as_deref() == Some("workflows");
            let in_actions = in_workflows && dir_name(&up(parent)).as_deref() == Some("actions");
            let dir = if in_actions {
                up(&up(parent))
            } else if in_workflows {
                up(parent)
            } else {
                parent.to_path_buf()
            };
            let pack_ref = dir_name(&dir);
            let pack_ref = pack_ref.unwrap_or_else(|| "pack".to_string());
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let name = stem.strip_suffix(".workflow").unwrap_or(stem).to_string();
            let file_name = p
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let rel_sub = if in_actions {
                format!("actions/workflows/{file_name}")
            } else if in_workflows {
                format!("workflows/{file_name}")
            } else {
                file_name
            };
            // As the pack lists it (an action may link to it).
            let listed = pack::list_pack(&dir, &pack_ref, pack::ACTION_FILE_MAX_BYTES)
                .ok()
                .and_then(|l| l.files.into_iter().find(|f| f.rel_path == rel_sub));
            if let Some(f) = listed {
                jobs.push(PackJob {
                    dir,
                    pack_ref,
                    files: vec![f],
                    skipped: Vec::new(),
                });
                continue;
            }
            jobs.push(PackJob {
                dir,
                pack_ref,
                files: vec![WorkflowFile {
                    name,
                    rel_path: rel_sub,
                    path: p.clone(),
                    linked: None,
                }],
                skipped: Vec::new(),
            });
            continue;
        }
        if is_pack_dir(p) {
            let pack_ref = dir_name(p).unwrap_or_else(|| "pack".to_string());
            let l = pack_files(p, &pack_ref)?;
            jobs.push(PackJob {
                dir: p.clone(),
                pack_ref,
                files: l.files,
                skipped: l.warnings,
            });
            continue;
        }
        let packs: Vec<(PathBuf, String)> = sibling_packs(p);
        if packs.is_empty() {
            return Err(format!(
                "no packs found in '{}': a pack folder has a workflows/ or actions/ folder (or a pack.yaml), a packs folder has pack folders",
                p.display()
            ));
        }
        for (dir, pack_ref) in packs {
            let l = pack_files(&dir, &pack_ref)?;
            jobs.push(PackJob {
                dir,
                pack_ref,
                files: l.files,
                skipped: l.warnings,
            });
        }
    }
    Ok(jobs)
}

struct Totals {
    files: usize,
    errors: usize,
    warnings: usize,
    suppressed: usize,
    failed: usize,
}

fn totals(checked: &[Checked]) -> Totals {
    let mut t = Totals {
        files: checked.len(),
        errors: 0,
        warnings: 0,
        suppressed: 0,
        failed: 0,
    };
    for c in checked {
        let v = &c.outcome.validation;
        t.errors += v.error_count();
        t.warnings += v.warning_count();
        t.suppressed += v.suppressed;
        t.failed += usize::from(v.has_errors());
    }
    t
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn write_text(out: &mut dyn Write, checked: &[Checked], packs: usize) -> std::io::Result<()> {
    for c in checked {
        for d in &c.outcome.validation.diagnostics {
            write_one(out, &display_of(c, d), c.outcome.source_of(d), d)?;
        }
    }
    let t = totals(checked);
    let mut summary = format!(
        "checked {} in {}: {}, {}",
        plural(t.files, "file"),
        plural(packs, "pack"),
        plural(t.errors, "error"),
        plural(t.warnings, "warning")
    );
    if t.suppressed > 0 {
        summary.push_str(&format!(" ({} suppressed)", t.suppressed));
    }
    if t.failed > 0 {
        summary.push_str(&format!("; {} with errors", plural(t.failed, "file")));
    }
    writeln!(out, "{summary}")
}

/// One diagnostic, rustc style, with the source line and a caret.
pub fn write_one(
    out: &mut dyn Write,
    path: &str,
    src: Option<&str>,
    d: &Diagnostic,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{path}:{}:{}: {}[{}]: {}",
        d.line, d.column, d.severity, d.code, d.message
    )?;
    let line_text = src.and_then(|s| s.lines().nth(d.line.saturating_sub(1) as usize));
    if let Some(lt) = line_text {
        let lt = lt
            .strip_prefix('\u{feff}')
            .unwrap_or(lt)
            .trim_end_matches('\r');
        let num = d.line.to_string();
        let pad = " ".repeat(num.len());
        let caret_pad: String = lt
            .chars()
            .take(d.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(out, "{num} | {lt}")?;
        writeln!(out, "{pad} | {caret_pad}^")?;
    }
    if let Some(h) = &d.hint {
        let mut lines = h.lines();
        if let Some(first) = lines.next() {
            writeln!(out, "  = hint: {first}")?;
        }
        for l in lines {
            writeln!(out, "          {l}")?;
        }
    }
    writeln!(out)
}

fn status(v: &crate::workflow::Validation) -> &'static str {
    if v.has_errors() {
        "failed"
    } else if v.diagnostics.is_empty() {
        "ok"
    } else {
        "warnings"
    }
}

fn write_json(out: &mut dyn Write, checked: &[Checked], rules_url: &str) -> anyhow::Result<()> {
    let t = totals(checked);
    let files: Vec<Value> = checked
        .iter()
        .map(|c| {
            let v = &c.outcome.validation;
            json!({
                "path": c.display,
                "file": c.outcome.file,
                "ref": c.outcome.r#ref,
                "status": status(v),
                "errors": v.error_count(),
                "warnings": v.warning_count(),
                "suppressed": v.suppressed,
            })
        })
        .collect();
    let diagnostics: Vec<Value> = checked
        .iter()
        .flat_map(|c| c.outcome.validation.diagnostics.iter())
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("help_uri".into(), help_uri(rules_url, d.code).into());
            }
            v
        })
        .collect();
    let doc = json!({
        "ok": t.errors == 0,
        "summary": {
            "files": t.files,
            "failed_files": t.failed,
            "errors": t.errors,
            "warnings": t.warnings,
            "suppressed": t.suppressed,
        },
        "files": files,
        "diagnostics": diagnostics,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// SARIF 2.1.0: one run, rule ids = our codes, one result per diagnostic.
/// Each rule carries its explanation (`fullDescription`, `help`) and a
/// `helpUri` into the rules reference at `rules_url`.
pub fn sarif(checked: &[(String, &[Diagnostic])], rules_url: &str) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|&c| {
            let doc = crate::workflow::rules::explain(c);
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": {"text": c.description()},
                "fullDescription": {"text": doc.why},
                "help": {
                    "text": format!("{} Fix: {}", doc.why, doc.fix),
                    "markdown": format!("**Why it matters.** {}\n\n**Fix.** {}", doc.why, doc.fix),
                },
                "helpUri": help_uri(rules_url, c),
                "defaultConfiguration": {"level": level(c.severity())},
            })
        })
        .collect();
    let index: BTreeMap<Code, usize> = Code::ALL.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut results = Vec::new();
    for (uri, diags) in checked {
        for d in diags.iter() {
            let mut text = d.message.clone();
            if let Some(h) = &d.hint {
                // A multi-line hint stays multi-line (SARIF viewers show
                // the text's lines).
                if h.contains('\n') {
                    text.push_str(&format!("\nhint:\n{h}"));
                } else {
                    text.push_str(&format!(" (hint: {h})"));
                }
            }
            let fixes: Vec<Value> = d
                .fix
                .iter()
                .map(|f| {
                    json!({
                        "description": {"text": d.hint.clone().unwrap_or_default()},
                        "artifactChanges": [{
                            "artifactLocation": {"uri": uri},
                            "replacements": [{
                                "deletedRegion": {"byteOffset": f.offset, "byteLength": f.len},
                                "insertedContent": {"text": f.text},
                            }],
                        }],
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index.get(&d.code).copied().unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": d.line, "startColumn": d.column},
                    },
                    "logicalLocations": [{"fullyQualifiedName": d.path}],
                }],
            });
            if !fixes.is_empty() {
                result["fixes"] = Value::Array(fixes);
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "attune",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn write_sarif(out: &mut dyn Write, checked: &[Checked], rules_url: &str) -> anyhow::Result<()> {
    let items: Vec<(String, &[Diagnostic])> = checked
        .iter()
        .flat_map(|c| {
            let ds = c.outcome.validation.diagnostics.as_slice();
            // One group per file shown (an action-linked workflow's
            // diagnostics sit in two files).
            let mut groups: Vec<(String, &[Diagnostic])> = Vec::new();
            let mut start = 0;
            for i in 1..=ds.len() {
                if i == ds.len() || display_of(c, &ds[i]) != display_of(c, &ds[start]) {
                    groups.push((display_of(c, &ds[start]), &ds[start..i]));
                    start = i;
                }
            }
            if ds.is_empty() {
                groups.push((c.display.clone(), ds));
            }
            groups
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &sarif(&items, rules_url))?;
    writeln!(out)?;
    Ok(())
}
