//! docs/EXPRESSIONS.md stays true: every built-in function with its
//! signature, and every Jinja filter the code knows, are in it.

use attune::workflow::expr::FUNCTIONS;
use attune::workflow::expr::filters::{FILTERS, SIGNATURES};

fn doc() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/EXPRESSIONS.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_function_is_documented_with_its_signature() {
    let doc = doc();
    assert_eq!(SIGNATURES.len(), FUNCTIONS.len());
    for s in SIGNATURES {
        let params: Vec<String> = s
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i < s.required {
                    p.to_string()
                } else {
                    format!("{p}?")
                }
            })
            .collect();
        let shown = format!("| `{}({})` |", s.name, params.join(", "));
        assert!(doc.contains(&shown), "docs/EXPRESSIONS.md lacks {shown}");
    }
}

#[test]
fn every_known_filter_is_documented() {
    let doc = doc();
    for (name, _) in FILTERS {
        let shown = format!("`x \\| {name}");
        let listed = doc.contains(&shown) || doc.contains(&format!("`{name}`"));
        assert!(listed, "docs/EXPRESSIONS.md lacks the filter {name}");
    }
}
