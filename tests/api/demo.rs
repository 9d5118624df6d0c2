//! The demo pack in `examples/packs/demo` says what a newcomer will see:
//! two valid workflows and one with two deliberate mistakes. Keep it true.

use std::path::Path;

use attune::workflow::{BuiltinCatalog, LayeredCatalog, Severity, SourceContext, validate};

fn check(name: &str, ext: &str) -> Vec<(Severity, String, u32, Option<String>)> {
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/packs");
    let pack_catalog = attune::pack::load_pack_catalog(&packs, &["demo".to_string()], 1024 * 1024);
    assert!(
        pack_catalog.problems.is_empty(),
        "{:?}",
        pack_catalog.problems
    );
    let builtin = BuiltinCatalog::new();
    let catalog = LayeredCatalog::new(vec![&pack_catalog, &builtin]);
    let file = format!("demo/workflows/{name}.{ext}");
    let src = std::fs::read(packs.join(&file)).expect("demo file");
    let ctx = SourceContext {
        pack_ref: "demo",
        name,
        file: Some(&file),
    };
    validate(&src, &ctx, &catalog)
        .diagnostics
        .into_iter()
        .map(|d| (d.severity, d.code.to_string(), d.line, d.hint))
        .collect()
}

#[test]
fn the_demo_hello_workflow_is_clean() {
    assert_eq!(check("hello", "yaml"), []);
}

#[test]
fn the_demo_nightly_report_workflow_is_clean() {
    assert_eq!(check("nightly_report", "yml"), []);
}

#[test]
fn the_demo_broken_deploy_workflow_shows_its_two_mistakes() {
    let diags = check("broken_deploy", "yaml");
    assert_eq!(
        diags.len(),
        2,
        "exactly the two documented mistakes: {diags:?}"
    );
    let error = diags
        .iter()
        .find(|d| d.1 == "unknown-task")
        .unwrap_or_else(|| panic!("unknown-task expected: {diags:?}"));
    assert_eq!(error.0, Severity::Error);
    assert_eq!(error.3.as_deref(), Some("did you mean 'verify'?"));
    let warning = diags
        .iter()
        .find(|d| d.1 == "unknown-key")
        .unwrap_or_else(|| panic!("unknown-key expected: {diags:?}"));
    assert_eq!(warning.0, Severity::Warning);
    assert_eq!(warning.3.as_deref(), Some("did you mean 'on_success'?"));
}
