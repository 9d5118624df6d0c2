//! docs/COMPATIBILITY.md's table of verdicts on upstream Attune's files:
//! its packs' and tests' workflows (`tests/corpus/attune/`) and every
//! workflow quoted in its docs (`tests/corpus/upstream/docs/`, gathered by
//! `scripts/gather-upstream-docs.py`). The table between the
//! `compat-table` markers is generated here; `scripts/compat-table.sh`
//! (UPDATE_EXPECT=1) rewrites it, and this test fails when it is stale.

use attune::pack::{self, FileOutcome, PackCatalog};
use attune::workflow::{BuiltinCatalog, Code, LayeredCatalog};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

const START: &str = "<!-- compat-table:start -->";
const END: &str = "<!-- compat-table:end -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why attune says what it says, per code (the "why" column).
fn why(code: Code) -> &'static str {
    match code {
        Code::UnknownPack => {
            "calls packs that are not there (`unknown-pack`; a pack's CI passes them with `--packs-path`)"
        }
        Code::UndefinedAction => "calls actions its packs do not have",
        Code::ExpressionSyntax => {
            "Jinja filters, tests or `?:` (the hint gives the function form or says there is none)"
        }
        Code::RefMismatch => "`ref` is not `{pack}.{file name}`",
        Code::InvalidDecision => "`decision` items in a form upstream's parser cannot read either",
        Code::WrongType => "a field of the wrong type (e.g. `tasks` as a mapping, Orquesta style)",
        Code::InvalidSchema => "`output` maps results to templates (that is `output_map`)",
        Code::UnknownTask => "a transition to a task that does not exist",
        Code::MissingField => "a required field is missing (a snippet, not a whole workflow)",
        Code::NotAMapping => "not a workflow document",
        Code::YamlSyntax => "not well-formed YAML (a snippet with `...` elisions)",
        Code::MissingInput => "a required action input is not given",
        Code::InvalidActionRef => "an action ref that is not `pack.action`",
        Code::DuplicateTask => "two tasks share a name",
        Code::InvalidTaskType => "a task type that is not action, parallel or workflow",
        _ => "",
    }
}

struct Row {
    file: String,
    upstream: String,
    outcome: FileOutcome,
}

fn rows() -> Vec<Row> {
    let corpus = root().join("tests/corpus/attune");
    let mut pc = PackCatalog::default();
    for p in ["core", "test_pack"] {
        pack::add_pack(&mut pc, &corpus.join("packs").join(p), p, 1 << 20);
    }
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    let mut out = Vec::new();
    let mut add =
        |dir: &Path, pack_ref: &str, f: pack::WorkflowFile, shown: String, upstream: &str| {
            out.push(Row {
                file: shown,
                upstream: upstream.to_string(),
                outcome: pack::load_and_validate(&f, dir, pack_ref, 1 << 20, &cat),
            });
        };
    for (p, upstream) in [
        ("core", "ships it in its `core` pack (loads it)"),
        ("test_pack", "an end-to-end test fixture (loads it)"),
    ] {
        let dir = corpus.join("packs").join(p);
        for f in pack::list_workflow_files(&dir).expect("corpus pack") {
            let shown = format!("packs/{p}/{}", f.rel_path);
            add(&dir, p, f, shown, upstream);
        }
    }
    let examples = corpus.join("examples");
    for name in ["complete-workflow", "simple-workflow"] {
        let f = pack::WorkflowFile {
            name: name.to_string(),
            rel_path: format!("{name}.yaml"),
            path: examples.join(format!("{name}.yaml")),
            linked: None,
        };
        add(
            &examples,
            "examples",
            f,
            format!("docs/examples/{name}.yaml"),
            "a documented example",
        );
    }
    let docs = root().join("tests/corpus/upstream/docs");
    let mut names: Vec<String> = std::fs::read_dir(&docs)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run scripts/gather-upstream-docs.py)",
                docs.display()
            )
        })
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".yaml").map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let (md, n) = name.rsplit_once("--").unwrap_or((&name, "1"));
        let f = pack::WorkflowFile {
            name: name.clone(),
            rel_path: format!("{name}.yaml"),
            path: docs.join(format!("{name}.yaml")),
            linked: None,
        };
        let upstream = format!("quoted in `docs/{}.md` (block {n})", md.replace("__", "/"));
        add(
            &docs,
            "docs",
            f,
            format!("docs/{}.md #{n}", md.replace("__", "/")),
            &upstream,
        );
    }
    out
}

fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{START}");
    let _ = writeln!(
        s,
        "<!-- generated by tests/workflow/compat.rs; scripts/compat-table.sh rewrites it -->\n"
    );
    let accepted = rows
        .iter()
        .filter(|r| !r.outcome.validation.has_errors())
        .count();
    let mut totals: BTreeMap<Code, usize> = BTreeMap::new();
    for r in rows {
        for d in &r.outcome.validation.diagnostics {
            *totals.entry(d.code).or_insert(0) += 1;
        }
    }
    let _ = writeln!(
        s,
        "{} files: {accepted} accepted (no error), {} rejected.\n",
        rows.len(),
        rows.len() - accepted
    );
    let _ = writeln!(
        s,
        "| file | upstream | attune | errors | warnings | codes | why |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for r in rows {
        let v = &r.outcome.validation;
        let mut codes: BTreeMap<Code, usize> = BTreeMap::new();
        for d in &v.diagnostics {
            *codes.entry(d.code).or_insert(0) += 1;
        }
        let shown: Vec<String> = codes.iter().map(|(c, n)| format!("`{c}` ×{n}")).collect();
        let mut whys: Vec<&str> = codes
            .keys()
            .filter(|c| c.severity() == attune::workflow::Severity::Error)
            .map(|c| why(*c))
            .filter(|w| !w.is_empty())
            .collect();
        whys.dedup();
        let verdict = if v.has_errors() {
            "rejected"
        } else {
            "accepted"
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {verdict} | {} | {} | {} | {} |",
            r.file,
            r.upstream,
            v.error_count(),
            v.warning_count(),
            shown.join(", "),
            whys.join("; ")
        );
    }
    let _ = writeln!(s, "\nAll diagnostics by code:\n");
    let _ = writeln!(s, "| code | count |");
    let _ = writeln!(s, "|---|---|");
    for (c, n) in &totals {
        let _ = writeln!(s, "| `{c}` | {n} |");
    }
    let _ = writeln!(s, "\n{END}");
    s
}

#[test]
fn the_compatibility_table_is_current() {
    let rows = rows();
    assert!(rows.len() >= 40, "only {} upstream files", rows.len());
    let path = root().join("docs/COMPATIBILITY.md");
    let doc = std::fs::read_to_string(&path).expect("docs/COMPATIBILITY.md");
    let (Some(a), Some(b)) = (doc.find(START), doc.find(END)) else {
        panic!("docs/COMPATIBILITY.md has no {START} … {END} section");
    };
    let fresh = format!("{}{}{}", &doc[..a], table(&rows), &doc[b + END.len() + 1..]);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &fresh).expect("write");
        return;
    }
    assert!(
        fresh == doc,
        "docs/COMPATIBILITY.md's table is stale; run scripts/compat-table.sh"
    );
}
