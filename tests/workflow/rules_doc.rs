//! The rules reference, generated: `docs/RULES.md` (read on disk and in the
//! repository) and `web/rules.html` (embedded in the binary, served offline
//! at `/docs/rules`) are rendered from `attune::workflow::rules` (why each
//! rule matters, how to fix it), the codes' severities and suppressibility,
//! and the data-driven cases (`tests/data/workflows/<code>-fail.yaml` with
//! its `.expected` diagnostics, `<code>-ok.yaml` as the fixed version). The
//! test fails when either checked-in file differs from what the cases give;
//! `UPDATE_EXPECT=1 cargo test --test workflow rules` rewrites both.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use attune::workflow::rules::explain;
use attune::workflow::{Code, Severity};

/// Longest example shown; longer cases are cut with a note.
const MAX_EXAMPLE_LINES: usize = 24;

struct Entry {
    code: Code,
    fail_name: String,
    fail_yaml: String,
    fail_expected: Vec<String>,
    ok_yaml: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The file's text; bytes that are not UTF-8 (the `file-unreadable` case)
/// are shown as U+FFFD.
fn read(p: &Path) -> String {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn entries() -> Vec<Entry> {
    let dir = root().join("tests/data/workflows");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/data/workflows")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        // `skipped-file-fail.YAML` is a case too (its extension is the point).
        .filter_map(|n| {
            n.strip_suffix(".yaml")
                .or_else(|| n.strip_suffix(".YAML"))
                .map(str::to_string)
        })
        // Action-linked cases are named by their action file.
        .chain(
            std::fs::read_dir(dir.join("../actions"))
                .expect("tests/data/actions")
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".yaml").map(str::to_string)),
        )
        .collect();
    names.sort();
    Code::ALL
        .iter()
        .map(|&code| {
            let c = code.as_str();
            // The plain `<code>-fail` case first, else the first variant.
            let fail_name = names
                .iter()
                .find(|n| *n == &format!("{c}-fail"))
                .or_else(|| {
                    names
                        .iter()
                        .find(|n| n.starts_with(&format!("{c}-")) && n.ends_with("-fail"))
                })
                .unwrap_or_else(|| panic!("no failing case for {c}"))
                .clone();
            let expected = read(&dir.join(format!("{fail_name}.expected")));
            Entry {
                code,
                fail_yaml: case_text(&dir, &fail_name),
                fail_expected: expected
                    .lines()
                    .filter(|l| l.split(' ').nth(1) == Some(c))
                    .map(str::to_string)
                    .collect(),
                ok_yaml: case_text(&dir, &format!("{c}-ok")),
                fail_name,
            }
        })
        .collect()
}

/// A case's YAML: `workflows/<name>.yaml` (or `.YAML`), else the action
/// file `actions/<name>.yaml` of an action-linked case.
fn case_text(dir: &Path, name: &str) -> String {
    for p in [
        dir.join(format!("{name}.yaml")),
        dir.join(format!("{name}.YAML")),
        dir.join(format!("../actions/{name}.yaml")),
    ] {
        if p.exists() {
            return read(&p);
        }
    }
    panic!("no case file for {name}")
}

/// At most [`MAX_EXAMPLE_LINES`] lines, with a note for what was cut.
fn example(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_EXAMPLE_LINES {
        return lines.join("\n");
    }
    let mut s = lines[..MAX_EXAMPLE_LINES].join("\n");
    let _ = write!(s, "\n# … {} more lines", lines.len() - MAX_EXAMPLE_LINES);
    s
}

fn severity(code: Code) -> &'static str {
    match code.severity() {
        Severity::Error => "error (the workflow is not registered)",
        Severity::Warning => "warning (the workflow is registered)",
    }
}

fn suppressible(code: Code) -> String {
    if code.suppressible() {
        format!("yes: `# attune: ignore[{code}]` on the line, or `# attune: ignore-file[{code}]`")
    } else {
        "no: nothing after it can be checked".to_string()
    }
}

/// The reported diagnostic lines as `line:column message`.
fn reported(e: &Entry) -> Vec<String> {
    e.fail_expected
        .iter()
        .map(|l| {
            // `severity code line:col path | message`
            let pos = l.split(' ').nth(2).unwrap_or("");
            let msg = l.split_once(" | ").map(|(_, m)| m).unwrap_or("");
            format!("{pos} {msg}")
        })
        .collect()
}

fn markdown(entries: &[Entry]) -> String {
    let mut s = String::new();
    s.push_str(
        "# Rules reference\n\n\
         <!-- Generated by tests/workflow/rules_doc.rs from the data-driven cases in\n\
         tests/data/workflows/ and crates/attune-workflow/src/rules.rs; do not edit by hand:\n\
         UPDATE_EXPECT=1 cargo test --test workflow rules regenerates it. -->\n\n\
         Every diagnostic attune reports has a stable code. The same page is served by the\n\
         appliance at `/docs/rules` (no network needed); each diagnostic in the API, in\n\
         `attune validate --format json` and in SARIF links to its entry here.\n\n\
         Errors keep a workflow from being registered; warnings do not. Suppression\n\
         comments are described in [WORKFLOW_FORMAT.md](WORKFLOW_FORMAT.md#suppression).\n\n\
         | code | severity | what it checks |\n|---|---|---|\n",
    );
    for e in entries {
        let _ = writeln!(
            s,
            "| [`{c}`](#{c}) | {} | {} |",
            e.code.severity(),
            e.code.description(),
            c = e.code
        );
    }
    for e in entries {
        let doc = explain(e.code);
        let c = e.code.as_str();
        let _ = write!(
            s,
            "\n## {c}\n\n{descr}.\n\n- Severity: {sev}\n- Can be suppressed: {sup}\n\n\
             **Why it matters.** {why}\n\n**Fails** (`tests/data/workflows/{fail}.yaml`):\n\n\
             ```yaml\n{yaml}\n```\n\nattune reports:\n\n```\n{rep}\n```\n\n\
             **Fix.** {fix}\n\n```yaml\n{ok}\n```\n",
            descr = capitalized(e.code.description()),
            sev = severity(e.code),
            sup = suppressible(e.code),
            why = doc.why,
            fail = e.fail_name,
            yaml = example(&e.fail_yaml),
            rep = reported(e).join("\n"),
            fix = doc.fix,
            ok = example(&e.ok_yaml),
        );
    }
    s
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `code` spans for backticks in the explanation texts.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn html(entries: &[Entry]) -> String {
    let mut s = String::new();
    s.push_str(
        "<!doctype html>\n<!-- Generated by tests/workflow/rules_doc.rs; do not edit by hand \
         (UPDATE_EXPECT=1 cargo test --test workflow rules). -->\n<html lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>attune · rules reference</title>\n\
         <link rel=\"stylesheet\" href=\"__ASSET_BASE__/app.css\">\n</head>\n\
         <body class=\"rules-page\">\n<header class=\"topbar\"><a class=\"brand\" href=\"/\">attune</a>\
         <span class=\"topbar-title\">Rules reference</span></header>\n<main class=\"rules\">\n\
         <h1>Rules reference</h1>\n<p>Every diagnostic attune reports has a stable code. Errors keep \
         a workflow from being registered; warnings do not.</p>\n<table class=\"rules-index\">\n\
         <thead><tr><th>code</th><th>severity</th><th>what it checks</th></tr></thead>\n<tbody>\n",
    );
    for e in entries {
        let c = e.code.as_str();
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#{c}\"><code>{c}</code></a></td><td class=\"sev-{sev}\">{sev}</td><td>{d}</td></tr>",
            sev = e.code.severity(),
            d = esc(e.code.description())
        );
    }
    s.push_str("</tbody>\n</table>\n");
    for e in entries {
        let doc = explain(e.code);
        let c = e.code.as_str();
        let _ = write!(
            s,
            "<section class=\"rule\" id=\"{c}\">\n<h2><a href=\"#{c}\">{c}</a></h2>\n\
             <p>{descr}.</p>\n<ul>\n<li>Severity: {sev}</li>\n<li>Can be suppressed: {sup}</li>\n</ul>\n\
             <p><strong>Why it matters.</strong> {why}</p>\n\
             <p><strong>Fails</strong> (<code>tests/data/workflows/{fail}.yaml</code>):</p>\n\
             <pre class=\"rule-example rule-fail\">{yaml}</pre>\n<p>attune reports:</p>\n\
             <pre class=\"rule-reported\">{rep}</pre>\n<p><strong>Fix.</strong> {fix}</p>\n\
             <pre class=\"rule-example rule-ok\">{ok}</pre>\n</section>\n",
            descr = esc(&capitalized(e.code.description())),
            sev = esc(severity(e.code)),
            sup = inline(&suppressible(e.code)),
            why = inline(doc.why),
            fail = esc(&e.fail_name),
            yaml = esc(&example(&e.fail_yaml)),
            rep = esc(&reported(e).join("\n")),
            fix = inline(doc.fix),
            ok = esc(&example(&e.ok_yaml)),
        );
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

#[test]
fn the_rules_reference_is_generated_from_the_cases() {
    let all = entries();
    assert_eq!(all.len(), Code::ALL.len());
    for e in &all {
        assert!(
            !e.fail_expected.is_empty(),
            "{}: its case reports no {} diagnostic",
            e.fail_name,
            e.code
        );
    }
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut stale = Vec::new();
    for (path, text) in [
        (root().join("docs/RULES.md"), markdown(&all)),
        (root().join("web/rules.html"), html(&all)),
    ] {
        if update {
            std::fs::write(&path, &text).expect("write the rules reference");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run UPDATE_EXPECT=1 cargo test --test workflow rules"
    );
}

#[test]
fn every_rule_has_an_anchor_in_both_renderings() {
    let all = entries();
    let md = markdown(&all);
    let page = html(&all);
    for &c in Code::ALL {
        assert!(
            md.contains(&format!("\n## {c}\n")),
            "{c} missing in RULES.md"
        );
        assert!(
            page.contains(&format!("id=\"{c}\"")),
            "{c} missing in rules.html"
        );
    }
    assert!(!page.contains("<script"), "the page runs no script");
}

/// The words of the first paragraph of `docs/WORKFLOW_FORMAT.md` that
/// starts with `lead`, up to its period, that look like names.
fn documented_words(lead: &str) -> Vec<String> {
    let doc = read(&root().join("docs/WORKFLOW_FORMAT.md"));
    let at = doc
        .find(lead)
        .unwrap_or_else(|| panic!("WORKFLOW_FORMAT.md has no '{lead}'"));
    let rest = &doc[at + lead.len()..];
    let end = rest.find(".\n").unwrap_or(rest.len());
    rest[..end]
        .split(|c: char| c.is_whitespace() || c == '`')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_format_document_lists_the_functions_and_codes_there_are() {
    let mut documented = documented_words("Built-in functions:");
    documented.sort();
    let mut functions: Vec<String> = attune::workflow::expr::FUNCTIONS
        .iter()
        .map(|f| f.to_string())
        .collect();
    functions.sort();
    assert_eq!(
        documented, functions,
        "docs/WORKFLOW_FORMAT.md ('Built-in functions:') differs from expr::FUNCTIONS"
    );
    let doc = read(&root().join("docs/WORKFLOW_FORMAT.md"));
    for &c in Code::ALL {
        assert!(
            doc.contains(&format!("`{c}`")),
            "docs/WORKFLOW_FORMAT.md does not name the rule {c}"
        );
    }
}
