//! `attune validate` and `attune schema` as library functions: real pack
//! folders in a temp dir, real output, exit codes.

use attune::cli::schema::run_schema;
use attune::cli::validate::{Format, ValidateArgs, run_validate};
use std::path::{Path, PathBuf};

const GOOD: &str = "label: Good\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n";
const BAD: &str = "label: Bad\nversion: \"1.0.0\"\ntasks:\n  - name: deploy\n    action: core.noop\n    next:\n      - do: [verfy]\n  - name: verify\n    action: mine.act\n";
const WARN: &str = "version: \"1.0\"\ntasks:\n  - name: a\n    action: core.noop\n";

fn packs() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let write = |rel: &str, body: &str| {
        let p = t.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    write("mine/workflows/good.yaml", GOOD);
    write("mine/workflows/bad.yaml", BAD);
    write("mine/workflows/notes.txt", "ignored");
    write("mine/actions/act.yaml", "name: act\nparameters: {}\n");
    write("other/workflows/warn.yml", WARN);
    t
}

fn run(paths: &[PathBuf], format: Format) -> (i32, String) {
    let args = ValidateArgs {
        paths: paths.to_vec(),
        format,
        max_file_bytes: 1 << 20,
        rules_url: attune::cli::validate::DEFAULT_RULES_URL.to_string(),
    };
    let mut out = Vec::new();
    let code = run_validate(&args, &mut out).unwrap();
    (code, String::from_utf8(out).unwrap())
}

fn p(base: &Path, rel: &str) -> PathBuf {
    base.join(rel)
}

#[test]
fn text_output_reads_like_a_compiler() {
    let t = packs();
    let (code, out) = run(&[p(t.path(), "mine")], Format::Text);
    assert_eq!(code, 1);
    let file = p(t.path(), "mine/workflows/bad.yaml").display().to_string();
    let expected = format!(
        "{file}:7:14: error[unknown-task]: Task 'deploy' references non-existent task 'verfy'\n7 |       - do: [verfy]\n  |              ^\n  = hint: did you mean 'verify'?\n\n"
    );
    assert!(out.contains(&expected), "{out}");
    assert!(
        out.ends_with("checked 2 files in 1 pack: 1 error, 0 warnings; 1 file with errors\n"),
        "{out}"
    );
}

#[test]
fn warnings_only_exit_zero_and_a_packs_folder_checks_every_pack_in_order() {
    let t = packs();
    let (code, out) = run(&[p(t.path(), "other")], Format::Text);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[version-not-semver]"), "{out}");
    assert!(out.contains("warning[missing-label]"), "{out}");

    let (code, out) = run(&[t.path().to_path_buf()], Format::Json);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "mine/workflows/bad.yaml",
            "mine/workflows/good.yaml",
            "other/workflows/warn.yml"
        ]
    );
    assert_eq!(v["files"][0]["status"], "failed");
    assert_eq!(v["files"][1]["status"], "ok");
    assert_eq!(v["files"][2]["status"], "warnings");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["warnings"], 2);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "unknown-task");
    assert_eq!(d["ref"], "mine.bad");
    assert_eq!(d["file"], "mine/workflows/bad.yaml");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(14))
    );
    assert_eq!(d["path"], "tasks[0].next[0].do[0]");
    assert_eq!(d["hint"], "did you mean 'verify'?");
    assert_eq!(
        d["help_uri"],
        "http://127.0.0.1:8080/docs/rules#unknown-task"
    );
}

#[test]
fn sarif_has_one_result_per_diagnostic_with_regions() {
    let t = packs();
    let (code, out) = run(&[p(t.path(), "mine"), p(t.path(), "other")], Format::Sarif);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "attune");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), attune::workflow::Code::ALL.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let r = &results[0];
    assert_eq!(r["ruleId"], "unknown-task");
    assert_eq!(r["level"], "error");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "unknown-task"
    );
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(7), Some(14))
    );
    let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(
        rule["helpUri"],
        "http://127.0.0.1:8080/docs/rules#unknown-task"
    );
    assert!(
        rule["help"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Fix:")),
        "{rule}"
    );
}

#[test]
fn a_single_file_can_be_validated() {
    let t = packs();
    let (code, out) = run(&[p(t.path(), "mine/workflows/good.yaml")], Format::Json);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["ref"], "mine.good");
    assert_eq!(v["ok"], true);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let t = packs();
    let (code, out) = run(&[p(t.path(), "nope")], Format::Json);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let empty = tempfile::tempdir().unwrap();
    let (code, _) = run(&[empty.path().to_path_buf()], Format::Text);
    assert_eq!(code, 2);
}

#[test]
fn hostile_files_are_diagnostics_not_failures() {
    let t = packs();
    let wf = p(t.path(), "mine/workflows");
    std::process::Command::new("mkfifo")
        .arg(wf.join("fifo.yaml"))
        .status()
        .unwrap();
    std::fs::create_dir(wf.join("dir.yaml")).unwrap();
    let (code, out) = run(&[p(t.path(), "mine")], Format::Json);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let unreadable: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "file-unreadable")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        unreadable,
        ["mine/workflows/dir.yaml", "mine/workflows/fifo.yaml"]
    );
}

#[test]
fn schema_command_prints_the_schema() {
    let mut out = Vec::new();
    assert_eq!(run_schema(&mut out).unwrap(), 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

#[test]
fn snippets_of_crlf_and_bom_files_are_clean() {
    let t = tempfile::tempdir().unwrap();
    let wf = t.path().join("p/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("w.yaml"),
        "\u{feff}label: L\r\nversion: \"1.0.0\"\r\ntasks:\r\n  - name: a\r\n    action: core.nop\r\n",
    )
    .unwrap();
    let (code, out) = run(&[t.path().join("p")], Format::Text);
    assert_eq!(code, 1);
    assert!(
        out.contains(":5:13: error[undefined-action]: Task 'a' references undefined action 'core.nop'\n5 |     action: core.nop\n  |             ^\n  = hint: did you mean 'core.noop'?\n"),
        "{out:?}"
    );
}
