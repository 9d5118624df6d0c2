//! The real upstream files, copied verbatim (with their Apache-2.0
//! LICENSE) into `tests/corpus/attune/` so a clone tests on its own: each workflow file's diagnostics and verdict are pinned in
//! `tests/data/corpus/<pack>.<name>.expected` (UPDATE_EXPECT=1 rewrites).
//! docs/COMPATIBILITY.md explains every verdict. The corpus must be present:
//! a missing corpus fails the test.

use crate::helpers::render;
use attune::pack::{self, PackCatalog};
use attune::workflow::{BuiltinCatalog, LayeredCatalog};
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/attune");
    assert!(
        d.join("packs").is_dir(),
        "the corpus is missing: expected {} (a verbatim copy of the upstream files)",
        d.display()
    );
    d
}

#[test]
fn corpus_verdicts_are_pinned() {
    let root = corpus_dir();
    let packs = root.join("packs");
    let mut pc = PackCatalog::default();
    for p in ["core", "test_pack"] {
        pack::add_pack(&mut pc, &packs.join(p), p, 1 << 20);
    }
    assert!(pc.problems.is_empty(), "{:?}", pc.problems);
    let builtins = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &builtins]);
    // (pack folder, pack ref): the examples folder is treated as a pack
    // named `examples` whose files sit directly in it.
    let mut jobs = Vec::new();
    for p in ["core", "test_pack"] {
        for f in pack::list_workflow_files(&packs.join(p)).expect("corpus pack") {
            jobs.push((packs.join(p), p.to_string(), f));
        }
    }
    let examples = root.join("examples");
    for name in ["complete-workflow", "simple-workflow"] {
        jobs.push((
            examples.clone(),
            "examples".to_string(),
            pack::WorkflowFile {
                linked: None,
                name: name.to_string(),
                rel_path: format!("{name}.yaml"),
                path: examples.join(format!("{name}.yaml")),
            },
        ));
    }
    assert_eq!(jobs.len(), 4, "corpus workflow files changed");
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for (dir, pack_ref, f) in &jobs {
        let o = pack::load_and_validate(f, dir, pack_ref, 1 << 20, &cat);
        let actual = render(&o);
        let path = out_dir.join(format!("{}.expected", o.r#ref));
        if update {
            std::fs::create_dir_all(&out_dir).expect("create dir");
            std::fs::write(&path, &actual).expect("write");
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "--- {}\nexpected:\n{expected}actual:\n{actual}",
                o.r#ref
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus verdicts changed:\n{}",
        failures.join("\n")
    );
}
