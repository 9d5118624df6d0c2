//! `attune diff OLD NEW` as a library function: two files and two pack
//! folders in a temp dir, text and JSON output, exit codes.

use attune::cli::diff::{DiffArgs, DiffFormat, run_diff};
use std::path::{Path, PathBuf};

const V1: &str = "label: W\nversion: \"1.0.0\"\ntasks:\n  - name: build\n    action: ci.build\n    input:\n      target: app\n    next:\n      - when: \"{{ succeeded() }}\"\n        do: [ship]\n  - name: ship\n    action: core.noop\n";

fn write(base: &Path, rel: &str, text: &str) -> PathBuf {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, text).expect("write");
    p
}

fn run(old: &Path, new: &Path, format: DiffFormat) -> (i32, String) {
    let args = DiffArgs {
        old: old.to_path_buf(),
        new: new.to_path_buf(),
        format,
        unified: false,
        max_file_bytes: 1 << 20,
    };
    let mut out = Vec::new();
    let code = run_diff(&args, &mut out).expect("run");
    (code, String::from_utf8(out).expect("utf-8"))
}

#[test]
fn two_files_with_a_changed_condition_and_a_renamed_task() {
    let t = tempfile::tempdir().expect("tmp");
    let old = write(t.path(), "old/p/workflows/w.yaml", V1);
    let changed = V1
        .replace("{{ succeeded() }}", "{{ failed() }}")
        .replace("do: [ship]", "do: [deliver]")
        .replace("name: ship", "name: deliver");
    let new = write(t.path(), "new/p/workflows/w.yaml", &changed);
    let (code, out) = run(&old, &new, DiffFormat::Text);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("workflow w ("), "{out}");
    assert!(out.contains("1 task renamed, 1 task changed"), "{out}");
    assert!(out.contains("> task ship renamed to deliver"), "{out}");
    assert!(
        out.contains("when: \"{{ succeeded() }}\" -> \"{{ failed() }}\""),
        "{out}"
    );

    let (code, json) = run(&old, &new, DiffFormat::Json);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["changed"], true);
    assert_eq!(v["workflows"][0]["status"], "changed");
    assert_eq!(v["workflows"][0]["semantic"]["tasks"][0]["kind"], "changed");
}

#[test]
fn reformatting_only_exits_0_with_no_semantic_change() {
    let t = tempfile::tempdir().expect("tmp");
    let old = write(t.path(), "a.yaml", V1);
    let reformatted = "# reviewed\nversion: '1.0.0'\nlabel: W\ntasks:\n  - name: ship\n    action: core.noop\n  - {name: build, action: ci.build, input: {target: app}, next: [{do: [ship], when: '{{ succeeded() }}'}]}\n";
    let new = write(t.path(), "b.yaml", reformatted);
    let args = DiffArgs {
        old,
        new,
        format: DiffFormat::Text,
        unified: true,
        max_file_bytes: 1 << 20,
    };
    let mut out = Vec::new();
    let code = run_diff(&args, &mut out).expect("run");
    let out = String::from_utf8(out).expect("utf-8");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no semantic change"), "{out}");
    assert!(
        out.contains("+# reviewed"),
        "--unified prints the text diff: {out}"
    );
}

#[test]
fn two_pack_folders_list_added_removed_and_changed_workflows() {
    let t = tempfile::tempdir().expect("tmp");
    write(t.path(), "old/p/workflows/same.yaml", V1);
    write(t.path(), "old/p/workflows/gone.yaml", V1);
    write(t.path(), "old/p/workflows/edit.yaml", V1);
    write(t.path(), "new/p/workflows/same.yaml", V1);
    write(t.path(), "new/p/workflows/fresh.yml", V1);
    write(
        t.path(),
        "new/p/workflows/edit.yaml",
        &V1.replace("target: app", "target: web"),
    );
    let (code, json) = run(
        &t.path().join("old/p"),
        &t.path().join("new/p"),
        DiffFormat::Json,
    );
    assert_eq!(code, 1, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let status: Vec<(String, String)> = v["workflows"]
        .as_array()
        .expect("array")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap_or("").to_string(),
                w["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("edit", "changed"),
        ("fresh", "added"),
        ("gone", "removed"),
        ("same", "unchanged"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(status, want);
    let (_, text) = run(
        &t.path().join("old/p"),
        &t.path().join("new/p"),
        DiffFormat::Text,
    );
    assert!(text.contains("input.target: \"app\" -> \"web\""), "{text}");
    assert!(text.contains("+ workflow fresh"), "{text}");
    assert!(text.contains("- workflow gone"), "{text}");
}

#[test]
fn usage_errors_and_broken_files_exit_2() {
    let t = tempfile::tempdir().expect("tmp");
    let file = write(t.path(), "a.yaml", V1);
    let broken = write(t.path(), "b.yaml", "label: [unclosed\n");
    assert_eq!(
        run(&file, &t.path().join("missing.yaml"), DiffFormat::Text).0,
        2
    );
    assert_eq!(run(&file, t.path(), DiffFormat::Text).0, 2);
    assert_eq!(run(&file, &broken, DiffFormat::Text).0, 2);
}
