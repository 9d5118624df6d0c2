//! Fuzz target for the workflow parser and validator (the `attune-workflow` crate).
//!
//! Feeds arbitrary bytes to `validate` (YAML layer with its budgets, model,
//! rules, expressions, suppression comments) with the built-in action catalog
//! and checks what the API and the CLI rely on: no panic, no hang, and every
//! diagnostic well formed: a non-empty message, a 1-based line within the
//! input's line count (+1 for "end of file") and a 1-based column; a
//! workflow only when there is no error; counts that add up; and `check`
//! reporting exactly the diagnostics of `validate`. It builds
//! against the `attune-workflow` core crate, so the fuzz build needs only
//! the core's own dependencies, never the server's.
#![no_main]

use libfuzzer_sys::fuzz_target;

use attune_workflow as workflow;

use workflow::{BuiltinCatalog, SourceContext};

thread_local! {
    // Parsing the built-in action files once, not per input.
    static CATALOG: BuiltinCatalog = BuiltinCatalog::new();
}

fuzz_target!(|data: &[u8]| CATALOG.with(|catalog| check(data, catalog)));

fn check(data: &[u8], catalog: &BuiltinCatalog) {
    let ctx = SourceContext {
        pack_ref: "fuzz",
        name: "wf",
        file: Some("fuzz/workflows/wf.yaml"),
    };
    let v = workflow::validate(data, &ctx, catalog);
    // Lines: count '\n' (and lone '\r') generously; a diagnostic may point
    // one past the last line ("end of file").
    let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u32 + 2;
    for d in &v.diagnostics {
        assert!(!d.message.is_empty(), "empty message: {d:?}");
        assert!(d.line >= 1 && d.column >= 1, "0-based position: {d:?}");
        assert!(
            d.line <= lines,
            "line {} past the input ({lines}): {d:?}",
            d.line
        );
    }
    assert_eq!(v.workflow.is_some(), !v.has_errors(), "workflow xor errors");
    assert_eq!(v.error_count() + v.warning_count(), v.diagnostics.len());
    if let Some(wf) = &v.workflow {
        assert_eq!(wf.pack_ref, "fuzz");
        assert!(serde_json::to_string(&wf.definition).is_ok());
    }
    // `check` (no normalized definition: the CLI, validation runs) must
    // report exactly what `validate` reports.
    let c = workflow::check(data, &ctx, catalog);
    assert!(c.workflow.is_none(), "check builds no workflow");
    assert_eq!(c.diagnostics, v.diagnostics, "check and validate disagree");
    assert_eq!(c.suppressed, v.suppressed);
}
