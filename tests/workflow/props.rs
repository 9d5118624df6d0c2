//! Property tests: arbitrary bytes and YAML-ish text never panic, always
//! return, and a file that does not parse always yields a diagnostic.

use attune::workflow::yaml::{Limits, parse};
use attune::workflow::{BuiltinCatalog, SourceContext, validate};
use proptest::prelude::*;

fn ctx() -> SourceContext<'static> {
    SourceContext {
        pack_ref: "p",
        name: "w",
        file: None,
    }
}

/// Fragments that make text look like a workflow, to reach deep rules.
fn yamlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("version: \"1.0.0\"\n".to_string()),
        Just("tasks:\n".to_string()),
        Just("  - name: a\n".to_string()),
        Just("    action: core.echo\n".to_string()),
        Just("    next:\n      - do: [b]\n".to_string()),
        Just("    on_success: [x, y]\n".to_string()),
        Just("    decision:\n      - default: z\n".to_string()),
        Just("    with_items: \"{{ item }}\"\n".to_string()),
        Just("    retry: {count: 0}\n".to_string()),
        Just("    type: parallel\n".to_string()),
        Just("vars:\n  - a: 1\n".to_string()),
        Just("parameters: {x: {type: str}}\n".to_string()),
        Just("&a [*a]\n".to_string()),
        Just("x: &b {y: 1}\nz: *b\n".to_string()),
        Just("  <<: *b\n".to_string()),
        Just("\t".to_string()),
        Just("- \n".to_string()),
        Just("{{ ( }}\n".to_string()),
        Just("# attune: ignore[unknown-key]\n".to_string()),
        Just("---\n".to_string()),
        Just("\u{feff}".to_string()),
        Just("\r\n".to_string()),
        "[ -~]{0,20}\n",
        "\\PC{0,10}",
    ];
    prop::collection::vec(frag, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let v = validate(&bytes, &ctx(), &BuiltinCatalog::new());
        if v.workflow.is_none() {
            prop_assert!(v.has_errors());
        }
        for d in &v.diagnostics {
            prop_assert!(d.line >= 1 && d.column >= 1);
        }
    }

    #[test]
    fn yamlish_text_never_panics_and_positions_are_in_the_file(text in yamlish()) {
        let v = validate(text.as_bytes(), &ctx(), &BuiltinCatalog::new());
        prop_assert_eq!(v.workflow.is_some(), !v.has_errors());
        let lines = text.split('\n').count() as u32 + 1;
        for d in &v.diagnostics {
            prop_assert!(d.line >= 1 && d.line <= lines, "{:?} in {:?}", d, text);
            prop_assert!(d.column >= 1);
        }
        if parse(&text, &Limits::default()).is_err() {
            prop_assert!(v.has_errors());
        }
    }
}
