//! `POST /api/v1/packs/{ref}/workflows/sync`: the API document's fields and message,
//! stable ids, unchanged files, `enabled` kept, stale flag, missing and
//! prune, dry run, auto-sync, 404/401/400, missing folder, pack delete.

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::helpers::{SEED_BROKEN, entry, good_workflow, keys, warning_workflow};

#[tokio::test]
async fn a_sync_registers_good_workflows_with_the_seed_fields_and_message() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    app.write_workflow("my_pack", "deploy_app.yaml", &good_workflow("Deploy"));
    app.write_workflow("my_pack", "health_check.yml", &warning_workflow());
    app.write_workflow("my_pack", "notes.txt", "not a workflow");

    let reply = app.sync(&token, "my_pack", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack workflows synced successfully");
    let data = &reply.body["data"];
    assert_eq!(
        keys(data),
        [
            "diagnostics",
            "dry_run",
            "duration_ms",
            "errors",
            "failed",
            "loaded_count",
            "missing",
            "pack_ref",
            "pruned",
            "registered_count",
            "run_id",
            "unchanged_count",
            "workflows"
        ]
    );
    assert_eq!(data["pack_ref"], "my_pack");
    assert_eq!(data["loaded_count"], 2);
    assert_eq!(data["registered_count"], 2);
    assert_eq!(data["unchanged_count"], 0);
    assert_eq!(data["errors"], json!([]));
    assert!(data["run_id"].as_u64().is_some());
    let deploy = entry(&reply, "my_pack.deploy_app");
    assert_eq!(
        keys(deploy),
        [
            "created",
            "ref_name",
            "status",
            "warnings",
            "workflow_def_id"
        ]
    );
    assert_eq!(deploy["created"], true);
    assert_eq!(deploy["status"], "created");
    assert_eq!(deploy["warnings"], json!([]));
    assert!(deploy["workflow_def_id"].as_u64().is_some());
    let health = entry(&reply, "my_pack.health_check");
    let warnings = health["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{health}");
    let diag = &data["diagnostics"][0];
    assert_eq!(diag["code"], "version-not-semver");
    assert_eq!(diag["severity"], "warning");
    assert_eq!(diag["file"], "my_pack/workflows/health_check.yml");
    assert_eq!(diag["ref"], "my_pack.health_check");
    assert_eq!(diag["snippet"]["start_line"], 1);
    assert!(
        diag["snippet"]["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l == "version: \"one\""),
        "{diag}"
    );

    let wf = app.workflow(&token, "my_pack.deploy_app").await;
    assert_eq!(wf.status, 200, "{}", wf.body);
    assert_eq!(wf.body["data"]["id"], deploy["workflow_def_id"]);
    assert_eq!(wf.body["data"]["label"], "Deploy");
    assert_eq!(wf.body["data"]["enabled"], true);
    assert_eq!(wf.body["data"]["stale"], false);
    assert_eq!(wf.body["data"]["source"], good_workflow("Deploy"));
    assert_eq!(
        wf.body["data"]["source_file"],
        "my_pack/workflows/deploy_app.yaml"
    );
    assert_eq!(wf.body["data"]["definition"]["tasks"][0]["name"], "start");
}

#[tokio::test]
async fn a_resync_keeps_ids_updates_in_place_and_does_not_rewrite_unchanged_files() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "a.yaml", &good_workflow("A"));
    app.write_workflow("p", "b.yaml", &good_workflow("B"));
    let first = app.sync(&token, "p", "").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let id_a = entry(&first, "p.a")["workflow_def_id"].clone();
    let id_b = entry(&first, "p.b")["workflow_def_id"].clone();
    assert_ne!(id_a, id_b);
    let b_before = app.workflow(&token, "p.b").await.body["data"].clone();

    app.write_workflow("p", "a.yaml", &good_workflow("A2"));
    let second = app.sync(&token, "p", "").await;
    assert_eq!(second.status, 200, "{}", second.body);
    let a = entry(&second, "p.a");
    assert_eq!(a["created"], false);
    assert_eq!(a["status"], "updated");
    assert_eq!(a["workflow_def_id"], id_a);
    let b = entry(&second, "p.b");
    assert_eq!(b["created"], false);
    assert_eq!(b["status"], "unchanged");
    assert_eq!(b["workflow_def_id"], id_b);
    assert_eq!(second.body["data"]["unchanged_count"], 1);
    assert_eq!(second.body["data"]["registered_count"], 2);
    assert_ne!(second.body["data"]["run_id"], first.body["data"]["run_id"]);

    assert_eq!(
        app.workflow(&token, "p.a").await.body["data"]["label"],
        "A2"
    );
    let b_after = app.workflow(&token, "p.b").await.body["data"].clone();
    assert_eq!(b_after, b_before, "an unchanged workflow is not rewritten");
    assert_eq!(
        app.pack_workflows(&token, "p").await.len(),
        2,
        "no duplicates"
    );
}

#[tokio::test]
async fn the_enabled_flag_survives_an_update_by_sync() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "a.yaml", &good_workflow("A"));
    app.sync(&token, "p", "").await;
    let off = app
        .put_json("/api/v1/workflows/p.a", &token, &json!({"enabled": false}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["data"]["enabled"], false);

    app.write_workflow("p", "a.yaml", &good_workflow("A changed"));
    let reply = app.sync(&token, "p", "").await;
    assert_eq!(entry(&reply, "p.a")["status"], "updated");
    let wf = app.workflow(&token, "p.a").await;
    assert_eq!(wf.body["data"]["label"], "A changed");
    assert_eq!(wf.body["data"]["enabled"], false);
}

#[tokio::test]
async fn a_broken_file_keeps_the_good_version_registered_and_flagged_stale() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    app.write_workflow("my_pack", "broken.yaml", &good_workflow("Good"));
    let first = app.sync(&token, "my_pack", "").await;
    let id = entry(&first, "my_pack.broken")["workflow_def_id"].clone();

    app.write_workflow("my_pack", "broken.yaml", SEED_BROKEN);
    let reply = app.sync(&token, "my_pack", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(
        data["errors"],
        json!(["Validation failed for my_pack.broken: Missing required field: version"])
    );
    assert_eq!(data["loaded_count"], 1);
    assert_eq!(data["registered_count"], 0);
    assert_eq!(data["workflows"], json!([]));
    assert_eq!(data["failed"][0]["ref_name"], "my_pack.broken");
    assert_eq!(data["failed"][0]["file"], "my_pack/workflows/broken.yaml");
    assert_eq!(data["failed"][0]["stale"], true);
    assert_eq!(
        data["failed"][0]["errors"],
        json!([
            "Missing required field: version",
            "Task 'step1' references undefined action 'invalid.action'"
        ])
    );
    let codes: Vec<&str> = data["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains(&"missing-field"), "{codes:?}");
    assert!(codes.contains(&"unknown-pack"), "{codes:?}");

    let wf = app.workflow(&token, "my_pack.broken").await;
    assert_eq!(wf.body["data"]["id"], id);
    assert_eq!(wf.body["data"]["label"], "Good", "old version kept");
    assert_eq!(wf.body["data"]["stale"], true);

    app.write_workflow("my_pack", "broken.yaml", &good_workflow("Fixed"));
    let fixed = app.sync(&token, "my_pack", "").await;
    assert_eq!(entry(&fixed, "my_pack.broken")["status"], "updated");
    assert_eq!(entry(&fixed, "my_pack.broken")["workflow_def_id"], id);
    let wf = app.workflow(&token, "my_pack.broken").await;
    assert_eq!(wf.body["data"]["stale"], false);
    assert_eq!(wf.body["data"]["label"], "Fixed");
}

#[tokio::test]
async fn a_new_broken_file_is_not_registered() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    app.write_workflow("my_pack", "broken.yaml", SEED_BROKEN);
    app.write_workflow("my_pack", "ok.yaml", &good_workflow("Ok"));
    let reply = app.sync(&token, "my_pack", "").await;
    let data = &reply.body["data"];
    assert_eq!(data["loaded_count"], 2);
    assert_eq!(data["registered_count"], 1);
    assert_eq!(data["failed"][0]["stale"], false);
    assert_eq!(app.workflow(&token, "my_pack.broken").await.status, 404);
}

#[tokio::test]
async fn missing_files_are_reported_and_deleted_only_with_prune() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "keep.yaml", &good_workflow("Keep"));
    app.write_workflow("p", "gone.yaml", &good_workflow("Gone"));
    app.sync(&token, "p", "").await;
    app.remove_workflow("p", "gone.yaml");

    let reply = app.sync(&token, "p", "").await;
    assert_eq!(reply.body["data"]["missing"], json!(["p.gone"]));
    assert_eq!(reply.body["data"]["pruned"], json!([]));
    assert_eq!(app.workflow(&token, "p.gone").await.status, 200);

    let dry = app.sync(&token, "p", "?prune=true&dry_run=true").await;
    assert_eq!(dry.body["data"]["pruned"], json!(["p.gone"]));
    assert_eq!(app.workflow(&token, "p.gone").await.status, 200);

    let pruned = app.sync(&token, "p", "?prune=true").await;
    assert_eq!(pruned.status, 200, "{}", pruned.body);
    assert_eq!(pruned.body["data"]["missing"], json!(["p.gone"]));
    assert_eq!(pruned.body["data"]["pruned"], json!(["p.gone"]));
    assert_eq!(app.workflow(&token, "p.gone").await.status, 404);
    assert_eq!(app.workflow(&token, "p.keep").await.status, 200);

    let after = app.sync(&token, "p", "").await;
    assert_eq!(after.body["data"]["missing"], json!([]));
}

#[tokio::test]
async fn a_dry_run_reports_the_plan_and_writes_nothing() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "a.yaml", &good_workflow("A"));
    app.sync(&token, "p", "").await;
    app.write_workflow("p", "a.yaml", &good_workflow("A2"));
    app.write_workflow("p", "b.yaml", &good_workflow("B"));
    app.write_workflow("p", "c.yaml", SEED_BROKEN);
    let pack_before = app.get_pack(&token, "p").await.body["data"].clone();
    let list_before = app.pack_workflows(&token, "p").await;
    let runs_before = app.runs(&token, "?pack_ref=p").await.body.clone();

    let dry = app.sync(&token, "p", "?dry_run=true").await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    let data = &dry.body["data"];
    assert_eq!(data["dry_run"], true);
    assert_eq!(data["run_id"], json!(null));
    assert_eq!(entry(&dry, "p.a")["status"], "updated");
    assert_eq!(entry(&dry, "p.b")["status"], "created");
    assert_eq!(entry(&dry, "p.b")["created"], true);
    assert_eq!(entry(&dry, "p.b")["workflow_def_id"], json!(null));
    assert_eq!(data["failed"][0]["ref_name"], "p.c");
    assert_eq!(data["registered_count"], 2);

    assert_eq!(app.get_pack(&token, "p").await.body["data"], pack_before);
    assert_eq!(app.pack_workflows(&token, "p").await, list_before);
    assert_eq!(app.runs(&token, "?pack_ref=p").await.body, runs_before);
}

#[tokio::test]
async fn creating_and_updating_a_pack_syncs_its_workflows() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("auto", "one.yaml", &good_workflow("One"));
    app.write_workflow("auto", "bad.yaml", SEED_BROKEN);
    let created = app.new_pack(&token, "auto").await;
    assert_eq!(created.body["message"], "Pack created successfully");
    let pack = &created.body["data"];
    assert_eq!(pack["workflow_count"], 1);
    let last = &pack["last_sync"];
    assert_eq!(last["ok"], false, "{pack}");
    assert_eq!(last["error_count"], 1);
    assert_eq!(last["workflow_count"], 1);
    assert!(last["run_id"].as_u64().is_some());
    assert_eq!(app.workflow(&token, "auto.one").await.status, 200);

    app.write_workflow("auto", "two.yaml", &good_workflow("Two"));
    let updated = app
        .update_pack(
            &token,
            "auto",
            &json!({"version": "1.1.0", "label": "Auto (Updated)"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["data"]["version"], "1.1.0");
    assert_eq!(updated.body["data"]["workflow_count"], 2);
    assert_ne!(updated.body["data"]["last_sync"]["run_id"], last["run_id"]);
    assert_eq!(app.workflow(&token, "auto.two").await.status, 200);
}

#[tokio::test]
async fn a_pack_without_a_folder_is_created_and_syncs_to_the_seed_error() {
    let app = spawn_app().await;
    let token = app.token().await;
    let created = app.new_pack(&token, "nofolder").await;
    assert_eq!(
        created.body["data"]["last_sync"],
        json!(null),
        "no folder, nothing to auto-sync"
    );
    let reply = app.sync(&token, "nofolder", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["message"], "Pack workflows synced successfully");
    let data = &reply.body["data"];
    assert_eq!(data["loaded_count"], 0);
    assert_eq!(data["registered_count"], 0);
    assert_eq!(
        data["errors"],
        json!(["Failed to load workflows: Directory not found"])
    );
}

#[tokio::test]
async fn unknown_packs_bad_refs_and_missing_tokens_are_refused() {
    let app = spawn_app().await;
    let token = app.token().await;
    for path in [
        "/api/v1/packs/nonexistent_pack/workflows/sync",
        "/api/v1/packs/nonexistent_pack/workflows/validate",
    ] {
        let reply = app.post(path, Some(&token), &json!({})).await;
        reply.assert_error(404, "NOT_FOUND");
        assert_eq!(reply.body["error"], "Pack 'nonexistent_pack' not found");
        app.post(path, None, &json!({}))
            .await
            .assert_error(401, "UNAUTHORIZED");
        app.post(path, Some("not-a-token"), &json!({}))
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
    for bad in ["a..b", "-x", "a%20b"] {
        app.post(
            &format!("/api/v1/packs/{bad}/workflows/sync"),
            Some(&token),
            &json!({}),
        )
        .await
        .assert_error(400, "BAD_REQUEST");
    }
    let bad_query = app
        .post(
            "/api/v1/packs/x/workflows/sync?dry_run=maybe",
            Some(&token),
            &json!({}),
        )
        .await;
    bad_query.assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn a_sync_without_a_body_or_content_type_works_as_in_the_seeds_curl() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let res = app
        .client
        .post(app.url("/api/v1/packs/p/workflows/sync"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn deleting_a_pack_deletes_its_workflows_and_runs() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("gone", "a.yaml", &good_workflow("A"));
    app.write_workflow("stays", "b.yaml", &good_workflow("B"));
    app.new_pack(&token, "gone").await;
    app.new_pack(&token, "stays").await;
    assert_eq!(app.workflow(&token, "gone.a").await.status, 200);
    let deleted = app.delete_pack(&token, "gone").await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(app.workflow(&token, "gone.a").await.status, 404);
    assert_eq!(app.workflow(&token, "stays.b").await.status, 200);
    let runs = app.runs(&token, "?pack_ref=gone").await;
    assert_eq!(runs.body["meta"]["total"], 0);
    let all = app.runs(&token, "").await;
    assert!(
        all.body["data"]
            .as_array()
            .expect("runs")
            .iter()
            .all(|r| r["pack_ref"] == "stays")
    );
    // A new pack of the same name starts empty.
    std::fs::remove_dir_all(app.pack_dir("gone")).expect("rm");
    app.new_pack(&token, "gone").await;
    assert_eq!(app.pack_workflows(&token, "gone").await.len(), 0);
}

#[tokio::test]
async fn a_changed_action_revalidates_only_the_workflows_that_use_it() {
    let app = spawn_app().await;
    let token = app.token().await;
    let actions = app.pack_dir("p").join("actions");
    std::fs::create_dir_all(&actions).expect("mkdir");
    std::fs::write(
        actions.join("act.yaml"),
        "name: act\nparameters:\n  a: {type: string}\n",
    )
    .expect("action");
    app.write_workflow(
        "p",
        "uses_act.yaml",
        "label: U\nversion: \"1.0.0\"\ntasks:\n  - name: t\n    action: p.act\n",
    );
    app.write_workflow("p", "plain.yaml", &good_workflow("Plain"));
    app.new_pack(&token, "p").await;
    let again = app.sync(&token, "p", "").await;
    assert_eq!(again.body["data"]["unchanged_count"], 2);

    // An unrelated action appears: nothing is revalidated.
    std::fs::write(actions.join("other.yaml"), "name: other\n").expect("action");
    let unrelated = app.sync(&token, "p", "").await;
    assert_eq!(
        unrelated.body["data"]["unchanged_count"], 2,
        "{}",
        unrelated.body
    );

    // The used action now requires an input the workflow lacks.
    std::fs::write(
        actions.join("act.yaml"),
        "name: act\nparameters:\n  a: {type: string, required: true}\n",
    )
    .expect("action");
    let changed = app.sync(&token, "p", "").await;
    let data = &changed.body["data"];
    assert_eq!(data["unchanged_count"], 1, "{data}");
    assert_eq!(entry(&changed, "p.plain")["status"], "unchanged");
    assert_eq!(data["failed"][0]["ref_name"], "p.uses_act");
    assert_eq!(data["failed"][0]["stale"], true);
    assert_eq!(data["diagnostics"][0]["code"], "missing-input");
    assert_eq!(
        app.workflow(&token, "p.uses_act").await.body["data"]["stale"],
        true
    );
}

/// Names in the data directory (the temporary file of a large sync has
/// none, so none may appear or stay).
fn data_dir_names(app: &crate::helpers::TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&app.state.config.data_dir)
        .expect("data dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// 1,800 files encode to ~1.1 MB of pending records, past the 1 MiB after
/// which a sync keeps them in a temporary file until its commit: a dry run
/// still writes nothing, the real sync registers every file exactly as
/// read, and no file is left in the data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_past_the_spill_point_registers_every_file_and_leaves_nothing_behind() {
    const N: usize = 1800;
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "big").await;
    let text = |i: usize| {
        format!(
            "label: \"wf-{i}\"\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: \"{i}\"\n    next:\n      - do: [b]\n  - name: b\n    action: core.noop\n"
        )
    };
    for i in 0..N {
        app.write_workflow("big", &format!("w{i:04}.yaml"), &text(i));
    }
    let names = data_dir_names(&app);
    let db = app.state.store.path().to_path_buf();
    let size = std::fs::metadata(&db).expect("db").len();

    let dry = app.sync(&token, "big", "?dry_run=true").await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["data"]["registered_count"], N);
    assert_eq!(dry.body["data"]["run_id"], serde_json::Value::Null);
    assert!(app.state.store.pack_workflows("big").unwrap().is_empty());
    assert_eq!(std::fs::metadata(&db).expect("db").len(), size);
    assert_eq!(data_dir_names(&app), names);

    let real = app.sync(&token, "big", "").await;
    assert_eq!(real.status, 200, "{}", real.body);
    assert_eq!(real.body["data"]["registered_count"], N);
    let stored = app.state.store.pack_workflows("big").unwrap();
    assert_eq!(stored.len(), N);
    for (i, w) in stored.iter().enumerate() {
        assert_eq!(w.name, format!("w{i:04}"));
        assert_eq!(w.source, text(i), "{}", w.r#ref);
        assert_eq!(w.label, format!("wf-{i}"));
        let def: serde_json::Value = w.definition.parse().expect("definition is JSON");
        assert_eq!(
            def["tasks"][0]["input"]["message"],
            i.to_string(),
            "{}",
            w.r#ref
        );
    }
    let ids: std::collections::BTreeSet<u64> = real.body["data"]["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["workflow_def_id"].as_u64().expect("id after commit"))
        .collect();
    assert_eq!(ids, stored.iter().map(|w| w.id).collect());
    assert_eq!(data_dir_names(&app), names);
}

/// Upstream's action-linked layout: `actions/deploy_app.yaml` names its
/// graph-only file; sync registers the pair as `my_pack.deploy_app`, with
/// what the action supplies, and a problem in the action file comes with
/// that file's name and snippet.
#[tokio::test]
async fn a_sync_registers_action_linked_workflows() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    let dir = app.pack_dir("my_pack");
    std::fs::create_dir_all(dir.join("actions/workflows")).expect("mkdir");
    let write = |rel: &str, text: &str| std::fs::write(dir.join(rel), text).expect("write");
    write(
        "actions/deploy_app.yaml",
        "ref: my_pack.deploy_app\nlabel: Deploy the app\ndescription: linked\ntags: [deploy]\nworkflow_file: workflows/deploy_app.workflow.yaml\nparameters:\n  env: {type: string, required: true}\n",
    );
    write(
        "actions/workflows/deploy_app.workflow.yaml",
        "version: \"1.0.0\"\ntasks:\n  - name: go\n    action: core.echo\n    input:\n      message: \"{{ parameters.env }}\"\n",
    );
    write(
        "actions/broken.yaml",
        "label: Broken\nworkflow_file: workflows/broken.workflow.yaml\nparameters:\n  env:\n    type: strng\n",
    );
    write(
        "actions/workflows/broken.workflow.yaml",
        "version: \"1.0.0\"\ntasks:\n  - name: go\n    action: core.noop\n",
    );

    let reply = app.sync(&token, "my_pack", "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    assert_eq!(data["loaded_count"], 2, "{data}");
    assert_eq!(data["registered_count"], 1, "{data}");
    let deploy = entry(&reply, "my_pack.deploy_app");
    assert_eq!(deploy["status"], "created");
    let wf = app.workflow(&token, "my_pack.deploy_app").await;
    assert_eq!(wf.status, 200, "{}", wf.body);
    assert_eq!(wf.body["data"]["label"], "Deploy the app");
    assert_eq!(wf.body["data"]["tags"], json!(["deploy"]));
    let bad = data["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "invalid-schema")
        .expect("invalid-schema");
    assert_eq!(bad["file"], "my_pack/actions/broken.yaml");
    assert_eq!(bad["line"], 5);
    assert!(
        bad["snippet"]["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l == "    type: strng"),
        "{bad}"
    );
    // Unchanged on a second sync; a change to the action file alone is
    // seen.
    let again = app.sync(&token, "my_pack", "").await;
    assert_eq!(entry(&again, "my_pack.deploy_app")["status"], "unchanged");
    write(
        "actions/deploy_app.yaml",
        "ref: my_pack.deploy_app\nlabel: Deploy it\nworkflow_file: workflows/deploy_app.workflow.yaml\nparameters:\n  env: {type: string, required: true}\n",
    );
    let third = app.sync(&token, "my_pack", "").await;
    assert_eq!(entry(&third, "my_pack.deploy_app")["status"], "updated");
    let wf = app.workflow(&token, "my_pack.deploy_app").await;
    assert_eq!(wf.body["data"]["label"], "Deploy it");
}

/// `GET /api/v1/workflows/{ref}` says which files a workflow came from:
/// the graph file and the action file of an action-linked workflow, the
/// one file of a standalone one (no action file), neither for one created
/// through the API. Lists carry the same two fields.
#[tokio::test]
async fn a_workflow_says_which_files_it_came_from() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let dir = app.pack_dir("p");
    std::fs::create_dir_all(dir.join("actions/workflows")).expect("mkdir");
    std::fs::write(
        dir.join("actions/ship.yaml"),
        "ref: p.ship\nlabel: Ship\nworkflow_file: workflows/ship.workflow.yaml\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("actions/workflows/ship.workflow.yaml"),
        "version: \"1.0.0\"\ntasks:\n  - name: go\n    action: core.noop\n",
    )
    .expect("write");
    app.write_workflow("p", "plain.yaml", &crate::helpers::good_workflow("Plain"));
    let reply = app.sync(&token, "p", "").await;
    assert_eq!(reply.body["data"]["registered_count"], 2, "{}", reply.body);

    let ship = app.workflow(&token, "p.ship").await;
    assert_eq!(
        ship.body["data"]["source_file"],
        "p/actions/workflows/ship.workflow.yaml"
    );
    assert_eq!(ship.body["data"]["action_file"], "p/actions/ship.yaml");
    let plain = app.workflow(&token, "p.plain").await;
    assert_eq!(plain.body["data"]["source_file"], "p/workflows/plain.yaml");
    assert_eq!(
        plain.body["data"]["action_file"],
        Value::Null,
        "{}",
        plain.body
    );
    let listed = app.get("/api/v1/workflows?pack_ref=p", Some(&token)).await;
    let files: Vec<(&Value, &Value)> = listed.body["data"]
        .as_array()
        .expect("items")
        .iter()
        .map(|w| (&w["source_file"], &w["action_file"]))
        .collect();
    assert_eq!(
        files,
        [
            (&json!("p/workflows/plain.yaml"), &Value::Null),
            (
                &json!("p/actions/workflows/ship.workflow.yaml"),
                &json!("p/actions/ship.yaml")
            ),
        ]
    );
    let made = app
        .post(
            "/api/v1/workflows",
            Some(&token),
            &json!({"pack_ref": "p", "name": "made", "yaml": crate::helpers::good_workflow("Made")}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["data"]["source_file"], "");
    assert_eq!(made.body["data"]["action_file"], Value::Null);
    // the OpenAPI document describes the field
    let doc = app.get("/api/openapi.json", None).await;
    assert!(
        doc.body["components"]["schemas"]["WorkflowView"]["properties"]["action_file"].is_object(),
        "{}",
        doc.body["components"]["schemas"]["WorkflowView"]
    );
}

/// An action file that cannot be used is reported on that file (not only
/// as `undefined-action` on the workflows that call it), in syncs and
/// validation runs alike.
#[tokio::test]
async fn a_broken_action_file_is_a_diagnostic_on_that_file() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let dir = app.pack_dir("p");
    std::fs::create_dir_all(dir.join("actions")).expect("mkdir");
    std::fs::write(
        dir.join("actions/broken.yaml"),
        "ref: p.broken\nparameters: [\n",
    )
    .expect("write");
    app.write_workflow("p", "one.yaml", &crate::helpers::good_workflow("One"));
    for path in [
        "/api/v1/packs/p/workflows/sync",
        "/api/v1/packs/p/workflows/validate",
    ] {
        let reply = app.post(path, Some(&token), &json!({})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let d = reply.body["data"]["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .find(|d| d["file"] == "p/actions/broken.yaml")
            .unwrap_or_else(|| panic!("no diagnostic on the action file: {}", reply.body))
            .clone();
        assert_eq!(d["code"], "yaml-syntax", "{d}");
        assert_eq!(d["severity"], "error", "{d}");
        assert!(d["line"].as_u64().is_some_and(|l| l >= 2), "{d}");
    }
}
