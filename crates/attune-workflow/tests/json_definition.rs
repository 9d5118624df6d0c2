//! `validate_json` (the definition written as JSON text, task by task) says
//! exactly what `validate` says: the same diagnostics, the same workflow,
//! and a definition text byte for byte `serde_json::to_string` of
//! `validate`'s tree. Over every workflow file of the repository's test
//! data and example packs, the generated packs, and the edge cases of the
//! definition's head (where `tasks` goes).

use attune_workflow::{
    BuiltinCatalog, LinkedAction, SourceContext, Validation, validate, validate_json,
    validate_linked, validate_linked_json,
};
use std::path::{Path, PathBuf};

fn same(a: Validation, b_json: attune_workflow::JsonValidation, what: &str) {
    let mut a = a;
    let b = b_json.validation;
    assert_eq!(a.diagnostics, b.diagnostics, "{what}: diagnostics");
    assert_eq!(a.suppressed, b.suppressed, "{what}: suppressed");
    match (a.workflow.as_mut(), b.workflow) {
        (None, None) => assert!(b_json.definition.is_none(), "{what}: text without workflow"),
        (Some(wa), Some(wb)) => {
            let tree = std::mem::take(&mut wa.definition);
            assert!(
                wb.definition.is_null(),
                "{what}: the text form holds no tree"
            );
            let text = b_json.definition.expect("a definition text");
            assert_eq!(
                text,
                serde_json::to_string(&tree).expect("json"),
                "{what}: definition text"
            );
            let mut wa = wa.clone();
            wa.definition = serde_json::Value::Null;
            assert_eq!(wa, wb, "{what}: workflow");
        }
        (x, y) => panic!("{what}: workflow {} vs {}", x.is_some(), y.is_some()),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn check_text(text: &str, what: &str) {
    static CATALOG: std::sync::OnceLock<BuiltinCatalog> = std::sync::OnceLock::new();
    check_with(text, what, CATALOG.get_or_init(BuiltinCatalog::new));
}

/// Compares the two forms on `text`; true when it is valid.
fn check_with(text: &str, what: &str, cat: &BuiltinCatalog) -> bool {
    let ctx = SourceContext {
        pack_ref: "p",
        name: "w",
        file: Some("p/workflows/w.yaml"),
    };
    let json = validate_json(text.as_bytes(), &ctx, cat);
    let valid = json.definition.is_some();
    same(validate(text.as_bytes(), &ctx, cat), json, what);
    valid
}

#[test]
fn every_workflow_file_of_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for d in ["tests/data", "examples/packs", "tests/fixtures"] {
        yaml_files(&root.join(d), &mut files);
    }
    assert!(files.len() > 50, "found {} files", files.len());
    let mut valid = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        check_text(&text, &f.display().to_string());
        let ctx = SourceContext {
            pack_ref: "p",
            name: "w",
            file: None,
        };
        valid += usize::from(
            validate(text.as_bytes(), &ctx, &BuiltinCatalog::new())
                .workflow
                .is_some(),
        );
    }
    assert!(valid > 10, "only {valid} valid files");
}

#[test]
fn the_head_and_the_tasks_in_every_arrangement() {
    let task = "  - name: a\n    action: core.noop\n";
    for text in [
        // ref and label written before tasks, after, and absent
        format!("ref: p.w\nlabel: L\nversion: \"1.0.0\"\ntasks:\n{task}"),
        format!("version: \"1.0.0\"\ntasks:\n{task}label: L\nref: p.w\n"),
        format!("tasks:\n{task}version: \"1.0.0\"\n"),
        // vars as a list (normalized) and a mapping, output_map, x- keys
        format!(
            "version: \"1.0.0\"\nvars:\n  - a: 1\n  - b: \"{{{{ parameters.x }}}}\"\nparameters:\n  x: {{type: string}}\ntasks:\n{task}x-note: hi\noutput_map:\n  r: \"{{{{ vars.a }}}}\"\n"
        ),
        // empty task list (an error), tasks as a mapping (an error), none
        "version: \"1.0.0\"\ntasks: []\n".to_string(),
        "version: \"1.0.0\"\ntasks:\n  a: {action: core.noop}\n".to_string(),
        "version: \"1.0.0\"\nlabel: L\n".to_string(),
        // nested parallel lists, legacy transitions, publish, aliases
        concat!(
            "version: \"1.0.0\"\nlabel: L\ntasks:\n",
            "  - name: p\n    type: parallel\n    on_success: z\n    tasks:\n",
            "      - name: a\n        action: core.noop\n        publish: [{r: \"{{ result() }}\"}]\n",
            "      - name: b\n        action: core.echo\n        input: {message: hi}\n        permission_set_ref: ops\n",
            "  - name: z\n    action: core.noop\n    decision:\n      - when: \"{{ parameters.x }}\"\n        next: y\n      - default: true\n        next: y\n",
            "  - name: y\n    action: core.noop\n    next:\n      - when: \"{{ failed() }}\"\n        publish:\n          k: v\n        do: z\n",
        )
        .to_string(),
        // not YAML, not a mapping, not UTF-8 handled before any text
        "a: [1,\n".to_string(),
        "- 1\n- 2\n".to_string(),
        String::new(),
    ] {
        check_text(&text, &text);
    }
}

#[test]
fn generated_texts_of_every_size() {
    // The flood's shape and a wide one, small to large.
    for n in [1usize, 2, 10, 300, 3000] {
        let mut s = String::from("label: \"Flood\"\nversion: \"1.0.0\"\ntasks:\n");
        for i in 0..n {
            s.push_str(&format!(
                "  - name: t{i}\n    action: core.echo\n    input: {{message: \"{{{{ task.t0.result }}}} {i}\"}}\n    on_success: t{}\n",
                i + 1
            ));
        }
        s.push_str(&format!("  - name: t{n}\n    action: core.noop\n"));
        check_text(&s, &format!("{n} tasks"));
    }
}

#[test]
fn linked_workflows_too() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/actions");
    let mut n = 0;
    for (action, graph) in [
        ("linked-ok.yaml", "workflows/linked-ok.workflow.yaml"),
        ("linked-fail.yaml", "workflows/linked-fail.workflow.yaml"),
        (
            "invalid-workflow-file-ok.yaml",
            "workflows/invalid-workflow-file-ok.workflow.yaml",
        ),
    ] {
        let (Ok(a), Ok(g)) = (
            std::fs::read(root.join(action)),
            std::fs::read(root.join(graph)),
        ) else {
            continue;
        };
        n += 1;
        let ctx = SourceContext {
            pack_ref: "p",
            name: "deploy",
            file: Some("p/actions/workflows/deploy.yaml"),
        };
        let la = LinkedAction {
            text: &a,
            file: Some("p/actions/deploy.yaml"),
        };
        let cat = BuiltinCatalog::new();
        same(
            validate_linked(&g, la, &ctx, &cat),
            validate_linked_json(&g, la, &ctx, &cat),
            action,
        );
    }
    let inline_action = b"ref: p.deploy\nlabel: Deploy\nparameters:\n  env: {type: string}\n";
    let inline_graph = b"version: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n";
    let ctx = SourceContext {
        pack_ref: "p",
        name: "deploy",
        file: None,
    };
    let la = LinkedAction {
        text: inline_action,
        file: None,
    };
    let cat = BuiltinCatalog::new();
    let v = validate_linked_json(inline_graph, la, &ctx, &cat);
    assert!(v.definition.is_some(), "{:?}", v.validation.diagnostics);
    same(validate_linked(inline_graph, la, &ctx, &cat), v, "inline");
    assert_eq!(n, 3, "the linked test files moved");
}

/// Lines of workflow files, good and bad, that a generated text is made of.
const FRAGMENTS: &[&str] = &[
    "version: \"1.0.0\"",
    "label: L",
    "ref: p.w",
    "vars:",
    "  - a: 1",
    "  b: \"{{ parameters.x }}\"",
    "parameters:",
    "  x: {type: string, required: true}",
    "output_map: {r: \"{{ vars.a }}\"}",
    "tasks:",
    "tasks: []",
    "tasks: {a: 1}",
    "  - name: a",
    "  - name: b",
    "  - name: a",
    "    action: core.noop",
    "    action: core.echo",
    "    action: nope.x",
    "    type: parallel",
    "    tasks:",
    "      - name: c",
    "        action: core.noop",
    "    on_success: b",
    "    on_failure: [a, b]",
    "    publish: {k: \"{{ result() }}\"}",
    "    permission_set_ref: ops",
    "    next:",
    "      - when: \"{{ succeeded() }}\"",
    "        do: [b]",
    "        do: a",
    "    decision:",
    "      - when: \"{{ parameters.x }}\"",
    "        next: b",
    "      - default: true",
    "    input: {message: \"{{ task.a.result }}\"}",
    "x-note: &n {y: 1}",
    "  <<: *n",
    "\t- bad",
    "# a comment",
    "",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
    #[test]
    fn generated_files_agree(lines in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)) {
        let text: String = lines.iter().map(|&i| format!("{}\n", FRAGMENTS[i])).collect();
        check_text(&text, &text);
    }

    /// A valid head and task, then task lines: many of these are valid or
    /// have warnings only, so the definition texts are compared too.
    #[test]
    fn generated_tasks_agree(lines in proptest::collection::vec(12..35usize, 0..12)) {
        let mut text = String::from(
            "version: \"1.0.0\"\nlabel: L\nparameters:\n  x: {type: string}\ntasks:\n  - name: a\n    action: core.noop\n",
        );
        for &i in &lines {
            text.push_str(FRAGMENTS[i]);
            text.push('\n');
        }
        check_text(&text, &text);
    }
}

#[test]
fn task_lines_in_many_orders_with_definitions_among_them() {
    // A fixed pseudo-random walk over the task lines: the same texts every
    // run, and some of them valid, so definition texts are compared.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let cat = BuiltinCatalog::new();
    let mut valid = 0;
    for _ in 0..300 {
        let mut text = String::from(
            "version: \"1.0.0\"\nlabel: L\nparameters:\n  x: {type: string}\ntasks:\n  - name: a\n    action: core.noop\n",
        );
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for _ in 0..(x >> 60) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = 12 + ((x >> 33) as usize) % 23;
            text.push_str(FRAGMENTS[i]);
            text.push('\n');
        }
        valid += usize::from(check_with(&text, &text, &cat));
    }
    assert!(valid >= 10, "only {valid} of 300 valid");
}
