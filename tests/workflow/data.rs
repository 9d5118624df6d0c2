//! Data-driven validator cases: `tests/data/workflows/<case>.yaml` with the
//! expected diagnostics in `<case>.expected` beside it, one line each:
//! `severity code line:column path | message`, then `suppressed N` when
//! suppression comments silenced some, then the verdict. All cases are
//! checked by one function; `UPDATE_EXPECT=1 cargo test --test workflow`
//! rewrites the expectations (review the diff by hand).

use crate::helpers::{CASE_MAX_BYTES, data_catalog, data_dir, render};
use attune::pack::{self, FileOutcome};
use attune::workflow::{
    BuiltinCatalog, Code, LayeredCatalog, LinkedAction, SourceContext, validate, validate_linked,
};

fn outcomes() -> Vec<(String, FileOutcome)> {
    let dir = data_dir();
    let pc = data_catalog();
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    let listing = pack::list_pack(&dir, "data", CASE_MAX_BYTES).expect("tests/data is a pack");
    let mut all: Vec<(String, FileOutcome)> = listing
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                pack::load_and_validate(f, &dir, "data", CASE_MAX_BYTES, &cat),
            )
        })
        .collect();
    // Files that are not read (look-alikes, shadowed): their one warning is
    // the outcome.
    for d in listing.warnings {
        let r = d.r#ref.clone().unwrap_or_default();
        let name = r.strip_prefix("data.").unwrap_or(&r).to_string();
        // A shadowed file's warning joins the winner's case.
        if let Some((_, o)) = all.iter_mut().find(|(n, _)| *n == name) {
            o.validation.diagnostics.push(d);
            continue;
        }
        all.push((
            name,
            FileOutcome {
                r#ref: r,
                file: d.file.clone().unwrap_or_default(),
                source: None,
                action: None,
                validation: attune::workflow::Validation {
                    workflow: None,
                    diagnostics: vec![d],
                    suppressed: 0,
                },
            },
        ));
    }
    all
}

#[test]
fn every_case_yields_its_expected_diagnostics() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let dir = data_dir().join("workflows");
    let mut failures = Vec::new();
    let all = outcomes();
    assert!(all.len() > 70, "only {} cases found", all.len());
    for (name, o) in &all {
        let actual = render(o);
        let path = dir.join(format!("{name}.expected"));
        if update {
            std::fs::write(&path, &actual).expect("write expectation");
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "--- {name}\nexpected:\n{expected}actual:\n{actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ (UPDATE_EXPECT=1 regenerates):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_code_has_a_failing_and_a_passing_case() {
    let all = outcomes();
    for code in Code::ALL {
        let c = code.as_str();
        let fails: Vec<_> = all
            .iter()
            .filter(|(n, _)| n.starts_with(c) && n.ends_with("fail"))
            .collect();
        assert!(!fails.is_empty(), "no failing case for {c}");
        for (n, o) in fails {
            assert!(
                o.validation.diagnostics.iter().any(|d| d.code == *code),
                "case {n} does not report {c}"
            );
        }
        let ok = all
            .iter()
            .find(|(n, _)| n == &format!("{c}-ok"))
            .unwrap_or_else(|| panic!("no passing case {c}-ok"));
        assert!(
            ok.1.validation.diagnostics.is_empty(),
            "case {c}-ok has diagnostics: {:?}",
            ok.1.validation.diagnostics
        );
        assert!(!ok.1.validation.has_errors());
    }
}

/// `attune validate` runs `check` (no normalized definition); sync runs
/// `validate`. Both must report the same diagnostics, and `validate` must
/// give a workflow exactly when there is no error.
#[test]
fn a_workflow_is_registered_exactly_when_there_is_no_error() {
    let pc = data_catalog();
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    for (n, o) in outcomes() {
        assert!(
            o.validation.workflow.is_none(),
            "case {n}: check builds no workflow"
        );
        if let Some(src) = &o.source {
            let ctx = SourceContext {
                pack_ref: "data",
                name: &n,
                file: Some(&o.file),
            };
            let v = match &o.action {
                Some((afile, Some(atext))) => validate_linked(
                    src.as_bytes(),
                    LinkedAction {
                        text: atext.as_bytes(),
                        file: Some(afile),
                    },
                    &ctx,
                    &cat,
                ),
                _ => validate(src.as_bytes(), &ctx, &cat),
            };
            // The file name's problem is the loader's, not the content's.
            let content: Vec<_> = o
                .validation
                .diagnostics
                .iter()
                .filter(|d| d.code != Code::InvalidWorkflowName && d.code != Code::ShadowedWorkflow)
                .cloned()
                .collect();
            assert_eq!(v.diagnostics, content, "case {n}");
            assert_eq!(
                v.workflow.is_none(),
                content.iter().any(|d| d.is_error()),
                "case {n}"
            );
        }
        for d in &o.validation.diagnostics {
            assert_eq!(d.r#ref.as_deref(), Some(format!("data.{n}").as_str()));
            let f = d.file.as_deref().unwrap_or("");
            assert!(
                f.starts_with("data/workflows/") || f.starts_with("data/actions/"),
                "case {n}: {f}"
            );
            assert!(d.line >= 1 && d.column >= 1, "case {n}: {d:?}");
        }
    }
}
