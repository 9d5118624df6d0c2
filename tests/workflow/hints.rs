//! Every hint that proposes text proposes text attune accepts.
//!
//! A hint proposes text when it carries a `fix` (the edit it describes).
//! Over the data-driven cases, the upstream corpus and a generated set
//! (valid generated workflows with typos and Jinja filters put in), every
//! diagnostic with a fix is checked: apply the edit, validate again, and
//! the diagnostic is gone (its code, path and message occur fewer times)
//! and no error appears that was not there before. A hint that reads like
//! a proposal ("did you mean …", "use the function form: …", "write it
//! as: …") must carry
//! its fix, so no proposal escapes the check. The number of proposals
//! checked is printed and has a floor.

use crate::helpers::{CASE_MAX_BYTES, data_catalog, data_dir};
use attune::pack::{self, PackCatalog};
use attune::workflow::generator as gen_support;
use attune::workflow::{
    ActionCatalog, BuiltinCatalog, Diagnostic, LayeredCatalog, SourceContext, check,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One file to check: pack, name, text.
struct Case {
    pack: String,
    name: String,
    text: String,
}

fn key(d: &Diagnostic) -> (String, String, String) {
    (d.code.to_string(), d.path.clone(), d.message.clone())
}

fn counts<'a>(
    ds: impl Iterator<Item = &'a Diagnostic>,
) -> BTreeMap<(String, String, String), usize> {
    let mut m = BTreeMap::new();
    for d in ds {
        *m.entry(key(d)).or_insert(0) += 1;
    }
    m
}

fn reads_like_a_proposal(hint: &str) -> bool {
    hint.starts_with("did you mean '")
        || hint.contains("use the function form:")
        || hint.contains("write it as:")
}

#[derive(Default)]
struct Tally {
    proposals: usize,
    failures: Vec<String>,
}

fn check_case(c: &Case, cat: &dyn ActionCatalog, t: &mut Tally) {
    let ctx = SourceContext {
        pack_ref: &c.pack,
        name: &c.name,
        file: None,
    };
    let before = check(c.text.as_bytes(), &ctx, cat);
    let before_counts = counts(before.diagnostics.iter());
    let before_errors = counts(before.diagnostics.iter().filter(|d| d.is_error()));
    for d in &before.diagnostics {
        let hint = d.hint.as_deref().unwrap_or("");
        let Some(fix) = &d.fix else {
            if reads_like_a_proposal(hint) {
                t.failures.push(format!(
                    "{}.{}: {} at {}:{} proposes text but has no fix: {hint}",
                    c.pack, c.name, d.code, d.line, d.column
                ));
            }
            continue;
        };
        t.proposals += 1;
        let what = format!(
            "{}.{}: {} at {}:{} ({hint}; fix {:?})",
            c.pack, c.name, d.code, d.line, d.column, fix
        );
        if !fix.text.contains(['\'', '"', '\\']) && !hint.contains(fix.text.trim()) {
            t.failures
                .push(format!("{what}: the hint does not show the text"));
        }
        let Some(fixed) = fix.apply(&c.text) else {
            t.failures
                .push(format!("{what}: the edit is outside the file"));
            continue;
        };
        let after = check(fixed.as_bytes(), &ctx, cat);
        let k = key(d);
        let n_before = before_counts.get(&k).copied().unwrap_or(0);
        let n_after = after.diagnostics.iter().filter(|a| key(a) == k).count();
        if n_after >= n_before {
            t.failures
                .push(format!("{what}: still reported after the edit"));
        }
        // The expression parser stops at the first syntax error of a
        // block: one further on in the same string, in text the edit did
        // not touch, was there before and is not the edit's doing.
        let edit_end = fix.offset + fix.text.len();
        let unmasked = |a: &Diagnostic| {
            a.code == d.code
                && a.code.as_str() == "expression-syntax"
                && a.path == d.path
                && offset_of(&fixed, a.line, a.column) >= edit_end
        };
        let after_errors = counts(
            after
                .diagnostics
                .iter()
                .filter(|a| a.is_error() && !unmasked(a)),
        );
        for (e, n) in &after_errors {
            if before_errors.get(e).copied().unwrap_or(0) < *n {
                t.failures
                    .push(format!("{what}: the edit introduces the error {e:?}"));
            }
        }
    }
}

/// The byte offset of 1-based `line`:`column` (in characters) in `text`.
fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map(|(i, _)| i)
            .unwrap_or(rest.len())
}

fn data_cases() -> Vec<Case> {
    let dir = data_dir();
    pack::list_workflow_files(&dir)
        .expect("tests/data/workflows exists")
        .into_iter()
        .filter_map(|f| {
            let bytes = pack::read_workflow_file(&f.path, &dir, CASE_MAX_BYTES).ok()?;
            Some(Case {
                pack: "data".into(),
                name: f.name,
                text: String::from_utf8(bytes).ok()?,
            })
        })
        .collect()
}

fn corpus_cases() -> Vec<Case> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/attune");
    let mut out = Vec::new();
    for (pack, dir) in [
        ("core", root.join("packs/core/workflows")),
        ("test_pack", root.join("packs/test_pack/workflows")),
        ("examples", root.join("examples")),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for p in files {
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("w");
            out.push(Case {
                pack: pack.into(),
                name: name.to_string(),
                text: std::fs::read_to_string(&p).expect("corpus file"),
            });
        }
    }
    out
}

/// Swap two neighbouring letters of the word at `at..at+len`.
fn typo(text: &str, at: usize, len: usize, rng: &mut gen_support::Rng) -> String {
    let w: Vec<char> = text[at..at + len].chars().collect();
    let i = rng.below(w.len() as u64 - 1) as usize;
    let mut m = w.clone();
    match rng.below(3) {
        0 => m.swap(i, i + 1),
        1 => {
            m.remove(i);
        }
        _ => m.insert(i, m[i]),
    }
    let m: String = m.into_iter().collect();
    format!("{}{m}{}", &text[..at], &text[at + len..])
}

/// Words of 4+ lowercase letters/underscores, with their offsets.
fn words(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_lowercase() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_') {
                i += 1;
            }
            if i - s >= 4 && (s == 0 || !b[s - 1].is_ascii_alphanumeric()) {
                out.push((s, i - s));
            }
        } else {
            i += 1;
        }
    }
    out
}

const FILTERS: &[&str] = &[
    " | length",
    " | first",
    " | last",
    " | list",
    " | join(', ')",
    " | join",
    " | reverse | list",
    " | upper",
    " | lower | trim",
    " | slice(start=1)",
    " | replace('a', 'b')",
    " | map(attribute='x') | list",
    " | default('x')",
    " | selectattr('a')",
    " | length > 0",
];

/// Valid generated workflows, each with one typo in a random word, and
/// each with a Jinja filter put into one of its templates.
fn generated_cases() -> (Vec<Case>, gen_support::Rng) {
    let mut rng = gen_support::Rng::new(15);
    let mut out = Vec::new();
    for (name, text) in gen_support::pack(60, 15) {
        let ws = words(&text);
        for k in 0..6 {
            let (at, len) = ws[rng.below(ws.len() as u64) as usize];
            out.push(Case {
                pack: "bench".into(),
                name: name.clone(),
                text: typo(&text, at, len, &mut rng),
            });
            // A filter inside one template block.
            let blocks: Vec<usize> = text.match_indices(" }}").map(|(i, _)| i).collect();
            if let Some(&at) = blocks.get(rng.below(blocks.len().max(1) as u64) as usize) {
                let f = FILTERS[(k + rng.below(FILTERS.len() as u64) as usize) % FILTERS.len()];
                out.push(Case {
                    pack: "bench".into(),
                    name: name.clone(),
                    text: format!("{}{f}{}", &text[..at], &text[at..]),
                });
            }
        }
    }
    // Hand-made ones for proposals the typos above rarely reach.
    for text in [
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    when: \"{{ succeeded() && failed() }}\"\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    when: \"{{ succeeded() || !failed() }}\"\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{{ pack.config.registry }}\"\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    type: paralel\n    tasks:\n      - name: b\n        action: core.noop\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    retry: {count: 2, backoff: exponentail}\n",
        "label: L\nversion: \"1.0.0\"\nparameters:\n  type: object\n  properties:\n    env: {type: strng}\n  required: [evn]\ntasks:\n  - name: a\n    action: core.noop\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    permission_set_ref: core.admin\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    on-success: b\n  - name: b\n    action: core.noop\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: task1\n    action: core.noop\n    next:\n      - do: [task2]\n  - name: task3\n    action: core.noop\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    on_sucess: b\n    on_success: b\n  - name: b\n    action: core.noop\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      mesage: hi\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    when: '{{ a not b }}'\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: '{{ task.a.result.items | join('', '') }}'\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{{ (task.a.result.x + 1) | first }}\"\n",
        "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: build\n    action: core.echo\n    input:\n      message: \"{{ build.result }}\"\n",
    ] {
        out.push(Case {
            pack: "bench".into(),
            name: "hand".into(),
            text: text.to_string(),
        });
    }
    (out, rng)
}

#[test]
fn every_proposed_edit_is_accepted_and_removes_its_diagnostic() {
    let builtins = BuiltinCatalog::new();
    let mut t = Tally::default();

    let dc = data_catalog();
    let cat = LayeredCatalog::new(vec![&dc, &builtins]);
    for c in data_cases() {
        check_case(&c, &cat, &mut t);
    }
    let data_proposals = t.proposals;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/attune/packs");
    let mut cc = PackCatalog::default();
    for p in ["core", "test_pack"] {
        pack::add_pack(&mut cc, &root.join(p), p, 1 << 20);
    }
    let cat = LayeredCatalog::new(vec![&cc, &builtins]);
    for c in corpus_cases() {
        check_case(&c, &cat, &mut t);
    }
    let corpus_proposals = t.proposals - data_proposals;

    let gc = gen_support::catalog();
    let cat = LayeredCatalog::new(vec![&gc, &builtins]);
    let (cases, _) = generated_cases();
    let n_generated = cases.len();
    for c in &cases {
        check_case(c, &cat, &mut t);
    }
    let generated_proposals = t.proposals - data_proposals - corpus_proposals;

    eprintln!(
        "hint validity: {} proposals checked ({data_proposals} in the data cases, {corpus_proposals} in the upstream corpus, {generated_proposals} in {n_generated} generated files)",
        t.proposals
    );
    assert!(
        t.failures.is_empty(),
        "{} proposal(s) fail:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
    assert!(
        data_proposals >= 10,
        "only {data_proposals} in the data cases"
    );
    assert!(
        corpus_proposals >= 10,
        "only {corpus_proposals} in the corpus"
    );
    assert!(
        generated_proposals >= 150,
        "only {generated_proposals} generated"
    );
}
