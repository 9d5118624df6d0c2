//! `POST /api/v1/packs/{ref}/workflows/validate`: the API document's fields and
//! messages, no workflow written, the run recorded on the pack.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::helpers::{SEED_BROKEN, good_workflow, keys, warning_workflow};

#[tokio::test]
async fn validation_answers_the_seeds_example_and_registers_nothing() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    app.write_workflow("my_pack", "broken_workflow.yaml", SEED_BROKEN);
    app.write_workflow("my_pack", "deploy_app.yaml", &good_workflow("Deploy"));
    app.write_workflow("my_pack", "warned.yaml", &warning_workflow());
    app.write_workflow("my_pack", "unparsable.yaml", "tasks: [unclosed\n");

    let reply = app.validate(&token, "my_pack").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack workflows validated");
    let data = &reply.body["data"];
    assert_eq!(
        keys(data),
        [
            "diagnostics",
            "duration_ms",
            "error_count",
            "errors",
            "pack_ref",
            "run_id",
            "validated_count",
            "warnings"
        ]
    );
    assert_eq!(data["pack_ref"], "my_pack");
    assert_eq!(data["validated_count"], 4);
    assert_eq!(data["error_count"], 2);
    assert_eq!(
        data["errors"]["my_pack.broken_workflow"],
        json!([
            "Missing required field: version",
            "Task 'step1' references undefined action 'invalid.action'"
        ])
    );
    assert_eq!(
        data["errors"]["my_pack.unparsable"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(data["errors"].get("my_pack.deploy_app").is_none());
    assert_eq!(
        data["warnings"]["my_pack.warned"].as_array().map(Vec::len),
        Some(1)
    );
    let diags = data["diagnostics"].as_array().expect("diagnostics");
    let missing = diags
        .iter()
        .find(|d| d["code"] == "missing-field")
        .expect("missing-field");
    assert_eq!(missing["file"], "my_pack/workflows/broken_workflow.yaml");
    assert_eq!(missing["snippet"]["start_line"], 1);
    let undefined = diags
        .iter()
        .find(|d| d["code"] == "unknown-pack")
        .expect("unknown-pack");
    assert_eq!(undefined["line"], 4);
    assert!(
        undefined["snippet"]["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l == "    action: invalid.action")
    );
    let syntax = diags
        .iter()
        .find(|d| d["ref"] == "my_pack.unparsable")
        .expect("unparsable diagnostic");
    assert_eq!(syntax["code"], "yaml-syntax");

    assert_eq!(app.pack_workflows(&token, "my_pack").await.len(), 0);
    let pack = app.get_pack(&token, "my_pack").await;
    let last = &pack.body["data"]["last_validation"];
    assert_eq!(last["run_id"], data["run_id"]);
    assert_eq!(last["ok"], false);
    assert_eq!(last["error_count"], 2);
    assert_eq!(last["workflow_count"], 4);
}

#[tokio::test]
async fn a_clean_pack_validates_with_no_errors_like_the_seeds_ci_script_expects() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("clean", "a.yaml", &good_workflow("A"));
    app.new_pack(&token, "clean").await;
    let reply = app.validate(&token, "clean").await;
    assert_eq!(reply.body["data"]["error_count"], 0);
    assert_eq!(reply.body["data"]["errors"], json!({}));
    assert_eq!(reply.body["data"]["validated_count"], 1);
    let pack = app.get_pack(&token, "clean").await;
    assert_eq!(pack.body["data"]["last_validation"]["ok"], true);
}

#[tokio::test]
async fn validating_a_pack_without_a_folder_says_so() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "empty").await;
    let reply = app.validate(&token, "empty").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["validated_count"], 0);
    assert_eq!(reply.body["data"]["error_count"], 0);
    assert_eq!(
        reply.body["data"]["load_error"],
        "Failed to load workflows: Directory not found"
    );
    let pack = app.get_pack(&token, "empty").await;
    assert_eq!(pack.body["data"]["last_validation"]["ok"], false);
}

#[tokio::test]
async fn workflows_may_call_actions_of_their_pack_and_of_other_packs_and_registered_workflows() {
    let app = spawn_app().await;
    let token = app.token().await;
    let tools = app.pack_dir("tools").join("actions");
    std::fs::create_dir_all(&tools).expect("mkdir");
    std::fs::write(
        tools.join("build.yaml"),
        "name: build\nparameters:\n  target: {type: string, required: true}\n",
    )
    .expect("action");
    app.write_workflow(
        "app",
        "uses_tools.yaml",
        "label: U\nversion: \"1.0.0\"\ntasks:\n  - name: b\n    action: tools.build\n    input:\n      target: x\n",
    );
    app.write_workflow(
        "app",
        "misses_input.yaml",
        "label: M\nversion: \"1.0.0\"\ntasks:\n  - name: b\n    action: tools.build\n",
    );
    app.write_workflow(
        "app",
        "calls_sibling.yaml",
        "label: C\nversion: \"1.0.0\"\ntasks:\n  - name: w\n    type: workflow\n    action: app.uses_tools\n",
    );
    app.write_workflow(
        "app",
        "calls_registered.yaml",
        "label: R\nversion: \"1.0.0\"\ntasks:\n  - name: w\n    type: workflow\n    action: lib.flow\n",
    );
    // lib.flow exists only in the store: its file is gone after the sync.
    app.write_workflow("lib", "flow.yaml", &good_workflow("Flow"));
    app.new_pack(&token, "lib").await;
    app.remove_workflow("lib", "flow.yaml");
    app.new_pack(&token, "app").await;
    let reply = app.validate(&token, "app").await;
    let errors = &reply.body["data"]["errors"];
    assert!(errors.get("app.calls_registered").is_none(), "{errors}");
    assert!(errors.get("app.uses_tools").is_none(), "{errors}");
    assert!(errors.get("app.calls_sibling").is_none(), "{errors}");
    let codes: Vec<&str> = reply.body["data"]["diagnostics"]
        .as_array()
        .expect("diags")
        .iter()
        .filter(|d| d["ref"] == "app.misses_input")
        .map(|d| d["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["missing-input"]);
}
