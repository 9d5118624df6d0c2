//! Shared helpers: paths of the test data and a catalog for it.

use attune::pack::FileOutcome;
use attune::pack::{self, PackCatalog};
use std::fmt::Write;
use std::path::PathBuf;

/// `tests/data`: a pack named `data` (workflows/ and actions/).
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The file size limit the data-driven cases run with.
pub const CASE_MAX_BYTES: u64 = 16 * 1024;

/// The catalog of the `data` pack (its actions and workflows).
pub fn data_catalog() -> PackCatalog {
    let mut pc = PackCatalog::default();
    pack::add_pack(&mut pc, &data_dir(), "data", CASE_MAX_BYTES);
    assert!(pc.problems.is_empty(), "{:?}", pc.problems);
    pc
}

/// The expectation text of one file: `severity code line:column path |
/// message` per diagnostic (with its hint's lines and its proposed edit
/// indented below), `suppressed N`, then the verdict.
pub fn render(o: &FileOutcome) -> String {
    let mut s = String::new();
    for d in &o.validation.diagnostics {
        let _ = writeln!(
            s,
            "{} {} {}:{} {} | {}",
            d.severity, d.code, d.line, d.column, d.path, d.message
        );
        // The file, when it is not the case's own (an action-linked
        // workflow's action file).
        if d.file.as_deref() != Some(o.file.as_str()) {
            let _ = writeln!(s, "  in: {}", d.file.as_deref().unwrap_or("-"));
        }
        // The hint, one line per line of it, then the proposed edit.
        for (i, l) in d.hint.as_deref().unwrap_or("").lines().enumerate() {
            let _ = writeln!(s, "  {} {l}", if i == 0 { "hint:" } else { "     " });
        }
        if let Some(f) = &d.fix {
            let _ = writeln!(s, "  fix: {}+{} -> {}", f.offset, f.len, f.text);
        }
    }
    if o.validation.suppressed > 0 {
        let _ = writeln!(s, "suppressed {}", o.validation.suppressed);
    }
    let verdict = if !o.validation.has_errors() {
        "valid"
    } else {
        "invalid"
    };
    let _ = writeln!(s, "verdict: {verdict}");
    s
}
