//! Workflow revisions: one per changed workflow per sync and none for an
//! unchanged one, written by sync, the workflows API and restore; the run
//! record's revision pairs; history, one revision, diff (unified and
//! semantic); retention per workflow and global; delete keeps them, purge
//! removes them; restore for API and file workflows, with the on-disk
//! conflict refused.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_configured};
use crate::helpers::{entry, good_workflow};

fn revisions_of(app: &TestApp, r: &str) -> Vec<(u64, String)> {
    let (items, _) = app
        .state
        .store
        .list_revisions(r, 1, 100)
        .expect("list revisions");
    items.into_iter().map(|i| (i.n, i.trigger)).collect()
}

fn total(app: &TestApp) -> u64 {
    app.state.store.revision_count().expect("count")
}

async fn create_api_workflow(app: &TestApp, token: &str, name: &str, yaml: &str) -> Value {
    let reply = app
        .post(
            "/api/v1/workflows",
            Some(token),
            &json!({"pack_ref": "p", "name": name, "yaml": yaml}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn put_yaml(app: &TestApp, token: &str, r: &str, yaml: &str) -> Value {
    let reply = app
        .put_json(
            &format!("/api/v1/workflows/{r}"),
            token,
            &json!({"yaml": yaml}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// `good_workflow` with a second task after `start`.
fn two_tasks(message: &str) -> String {
    format!(
        "label: \"Two\"\nversion: \"1.0.0\"\ntasks:\n  - name: start\n    action: core.echo\n    input:\n      message: \"{message}\"\n    next:\n      - when: \"{{{{ succeeded() }}}}\"\n        do: [finish]\n  - name: finish\n    action: core.noop\n"
    )
}

#[tokio::test]
async fn a_sync_that_changes_one_of_three_workflows_writes_exactly_one_revision() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    for n in ["a", "b", "c"] {
        app.write_workflow("p", &format!("{n}.yaml"), &good_workflow(n));
    }
    let first = app.sync(&token, "p", "").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(total(&app), 3, "one revision per created workflow");
    assert_eq!(revisions_of(&app, "p.a"), [(1, "sync".to_string())]);

    app.write_workflow("p", "b.yaml", &good_workflow("b changed"));
    let second = app.sync(&token, "p", "").await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(total(&app), 4, "exactly one new revision");
    assert_eq!(revisions_of(&app, "p.b").len(), 2);
    assert_eq!(revisions_of(&app, "p.a").len(), 1);
    // the sync's answer and its run record name the pair
    assert_eq!(
        entry(&second, "p.b")["revision"],
        json!({"from": 1, "to": 2})
    );
    assert!(entry(&second, "p.a").get("revision").is_none());
    let run_id = second.body["data"]["run_id"].as_u64().expect("run id");
    let run = app
        .get(&format!("/api/v1/runs/{run_id}"), Some(&token))
        .await;
    assert_eq!(run.status, 200, "{}", run.body);
    let b = run.body["data"]["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["ref_name"] == "p.b")
        .expect("p.b in the run")
        .clone();
    assert_eq!(b["revision"], json!({"from": 1, "to": 2}));
    let rev = app
        .get("/api/v1/workflows/p.b/revisions/2", Some(&token))
        .await;
    assert_eq!(rev.body["data"]["run_id"], run_id);
    assert_eq!(rev.body["data"]["by"], "admin");

    let before: Vec<_> = ["p.a", "p.b", "p.c"]
        .iter()
        .map(|r| app.state.store.list_revisions(r, 1, 100).expect("list"))
        .map(|(items, _)| format!("{items:?}"))
        .collect();
    let third = app.sync(&token, "p", "").await;
    assert_eq!(third.body["data"]["unchanged_count"], 3, "{}", third.body);
    assert_eq!(total(&app), 4, "an unchanged sync writes no revision");
    let after: Vec<_> = ["p.a", "p.b", "p.c"]
        .iter()
        .map(|r| app.state.store.list_revisions(r, 1, 100).expect("list"))
        .map(|(items, _)| format!("{items:?}"))
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn history_lists_newest_first_with_who_and_trigger_and_pages() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let created = create_api_workflow(&app, &token, "w", &good_workflow("one")).await;
    assert_eq!(created["data"]["revision"], json!({"from": null, "to": 1}));
    put_yaml(&app, &token, "p.w", &good_workflow("two")).await;
    let updated = put_yaml(&app, &token, "p.w", &good_workflow("three")).await;
    assert_eq!(updated["data"]["revision"], json!({"from": 2, "to": 3}));
    // `enabled` alone is no content change
    app.put_json("/api/v1/workflows/p.w", &token, &json!({"enabled": false}))
        .await;

    let list = app
        .get("/api/v1/workflows/p.w/revisions", Some(&token))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["meta"]["total"], 3);
    let items = list.body["data"].as_array().expect("items");
    let ns: Vec<u64> = items.iter().filter_map(|i| i["n"].as_u64()).collect();
    assert_eq!(ns, [3, 2, 1]);
    assert_eq!(items[0]["trigger"], "update");
    assert_eq!(items[2]["trigger"], "create");
    assert_eq!(items[0]["by"], "admin");
    assert_eq!(items[0]["error_count"], 0);
    assert!(items[0].get("source").is_none(), "lists carry no source");

    let page = app
        .get(
            "/api/v1/workflows/p.w/revisions?per_page=2&page=2",
            Some(&token),
        )
        .await;
    assert_eq!(page.body["data"][0]["n"], 1, "{}", page.body);

    let one = app
        .get("/api/v1/workflows/p.w/revisions/1", Some(&token))
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["data"]["source"], good_workflow("one"));
    assert_eq!(one.body["data"]["definition"]["label"], "one");

    app.get("/api/v1/workflows/p.w/revisions/9", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    for bad in ["0", "x", "-1", "99999999999999999999999"] {
        app.get(
            &format!("/api/v1/workflows/p.w/revisions/{bad}"),
            Some(&token),
        )
        .await
        .assert_error(400, "BAD_REQUEST");
    }
    app.get("/api/v1/workflows/p.none/revisions", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/v1/workflows/p.w/revisions", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn the_diff_shows_the_changed_line_and_the_changed_task() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "w.yaml", &two_tasks("hello"));
    app.sync(&token, "p", "").await;
    app.write_workflow("p", "w.yaml", &two_tasks("bonjour"));
    app.sync(&token, "p", "").await;

    let viewer = app.token_as("viewer").await;
    let diff = app.get("/api/v1/workflows/p.w/diff", Some(&viewer)).await;
    assert_eq!(diff.status, 200, "{}", diff.body);
    let d = &diff.body["data"];
    assert_eq!(
        (d["from"]["n"].clone(), d["to"]["n"].clone()),
        (json!(1), json!(2))
    );
    let unified = d["unified"].as_str().expect("unified");
    assert!(unified.starts_with("--- p.w@1\n+++ p.w@2\n"), "{unified}");
    assert!(unified.contains("-      message: \"hello\"\n"), "{unified}");
    assert!(
        unified.contains("+      message: \"bonjour\"\n"),
        "{unified}"
    );
    assert_eq!(
        (d["added_lines"].clone(), d["removed_lines"].clone()),
        (json!(1), json!(1))
    );
    let sem = &d["semantic"];
    assert_eq!(sem["changed"], true);
    assert_eq!(sem["summary"], "1 task changed");
    assert_eq!(sem["tasks"][0]["path"], "start");
    assert_eq!(sem["tasks"][0]["fields"][0]["path"], "input.message");

    // the same pair asked explicitly, and the reverse
    let explicit = app
        .get("/api/v1/workflows/p.w/diff?from=1&to=2", Some(&viewer))
        .await;
    assert_eq!(explicit.body["data"]["unified"], d["unified"]);
    let first = app
        .get("/api/v1/workflows/p.w/diff?to=1", Some(&viewer))
        .await;
    assert_eq!(first.body["data"]["from"], Value::Null, "{}", first.body);
    assert!(
        first.body["data"]["semantic"]["summary"]
            .as_str()
            .unwrap_or("")
            .starts_with("2 tasks added"),
        "{}",
        first.body
    );
    app.get("/api/v1/workflows/p.w/diff?from=7", Some(&viewer))
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/v1/workflows/p.w/diff?from=0", Some(&viewer))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.get("/api/v1/workflows/p.w/diff?from=x", Some(&viewer))
        .await
        .assert_error(400, "BAD_REQUEST");

    // reformatting and reordering keys only: a revision, but no semantic change
    let reordered = "version: \"1.0.0\"\nlabel: Two   # same label\ntasks:\n  - name: finish\n    action: core.noop\n  - action: core.echo\n    name: start\n    input: {message: bonjour}\n    next:\n      - do: [finish]\n        when: \"{{ succeeded() }}\"\n";
    app.write_workflow("p", "w.yaml", reordered);
    app.sync(&token, "p", "").await;
    let fmt = app.get("/api/v1/workflows/p.w/diff", Some(&viewer)).await;
    assert_eq!(fmt.body["data"]["to"]["n"], 3, "{}", fmt.body);
    assert_eq!(fmt.body["data"]["semantic"]["changed"], false);
    assert_eq!(
        fmt.body["data"]["semantic"]["summary"],
        "no semantic change"
    );
    assert!(
        !fmt.body["data"]["unified"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
}

#[tokio::test]
async fn retention_prunes_the_oldest_per_workflow_and_in_all() {
    let app = spawn_app_configured(|c| {
        c.revisions.keep = 3;
        c.revisions.max_total = 5;
    })
    .await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    create_api_workflow(&app, &token, "w", &good_workflow("v1")).await;
    for i in 2..=6 {
        put_yaml(&app, &token, "p.w", &good_workflow(&format!("v{i}"))).await;
    }
    let ns: Vec<u64> = revisions_of(&app, "p.w").iter().map(|(n, _)| *n).collect();
    assert_eq!(ns, [6, 5, 4], "the newest 3 are kept");
    create_api_workflow(&app, &token, "x", &good_workflow("x1")).await;
    put_yaml(&app, &token, "p.x", &good_workflow("x2")).await;
    put_yaml(&app, &token, "p.x", &good_workflow("x3")).await;
    assert_eq!(total(&app), 5, "the global cap holds");
    let ns: Vec<u64> = revisions_of(&app, "p.w").iter().map(|(n, _)| *n).collect();
    assert_eq!(ns, [6, 5], "the oldest of all went first");
    assert_eq!(revisions_of(&app, "p.x").len(), 3);
}

#[tokio::test]
async fn revisions_off_writes_none() {
    let app = spawn_app_configured(|c| c.revisions.keep = 0).await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let created = create_api_workflow(&app, &token, "w", &good_workflow("v1")).await;
    assert!(created["data"].get("revision").is_none());
    app.write_workflow("p", "f.yaml", &good_workflow("f"));
    app.sync(&token, "p", "").await;
    assert_eq!(total(&app), 0);
}

#[tokio::test]
async fn deleting_keeps_revisions_so_a_restore_brings_an_api_workflow_back_and_purge_removes_them()
{
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    create_api_workflow(&app, &token, "w", &good_workflow("one")).await;
    put_yaml(&app, &token, "p.w", &good_workflow("two")).await;

    // restore 1 while it exists: a new revision with the old content
    let restored = app
        .post(
            "/api/v1/workflows/p.w/revisions/1/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["data"]["mode"], "api");
    assert_eq!(
        restored.body["data"]["revision"],
        json!({"from": 2, "to": 3})
    );
    assert_eq!(
        restored.body["message"],
        "Revision 1 of workflow 'p.w' restored as revision 3"
    );
    let wf = app.workflow(&token, "p.w").await;
    assert_eq!(wf.body["data"]["source"], good_workflow("one"));
    assert_eq!(revisions_of(&app, "p.w")[0].1, "restore");
    // restoring the content it already has writes nothing
    let again = app
        .post(
            "/api/v1/workflows/p.w/revisions/3/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(
        again.body["data"]["revision"],
        Value::Null,
        "{}",
        again.body
    );
    assert_eq!(revisions_of(&app, "p.w").len(), 3);

    // a viewer may not restore
    let viewer = app.token_as("viewer").await;
    app.post(
        "/api/v1/workflows/p.w/revisions/1/restore",
        Some(&viewer),
        &json!({}),
    )
    .await
    .assert_error(403, "FORBIDDEN");

    let del = app.delete_path("/api/v1/workflows/p.w", &token).await;
    assert_eq!(del.status, 200, "{}", del.body);
    assert_eq!(revisions_of(&app, "p.w").len(), 3, "a delete keeps them");
    let back = app
        .post(
            "/api/v1/workflows/p.w/revisions/2/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["data"]["revision"], json!({"from": 3, "to": 4}));
    assert_eq!(
        app.workflow(&token, "p.w").await.body["data"]["label"],
        "two"
    );

    let purged = app
        .delete_path("/api/v1/workflows/p.w?purge=true", &token)
        .await;
    assert_eq!(purged.status, 200, "{}", purged.body);
    assert!(revisions_of(&app, "p.w").is_empty());
    app.get("/api/v1/workflows/p.w/revisions", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    // a re-created workflow does not reuse numbers a link may still name
    let again = create_api_workflow(&app, &token, "w", &good_workflow("new")).await;
    assert_eq!(again["data"]["revision"]["to"], 5);
}

/// The newest revision holds no copy of the workflow's content until that
/// content goes (store::revisions, "the lean newest revision"): its every
/// answer is the same before and after it gets its own copy.
#[tokio::test]
async fn a_revision_answers_the_same_whether_it_reads_the_workflow_or_its_own_copy() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let reply = app.get(&path, Some(token)).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
            reply.body["data"].clone()
        }
    };
    create_api_workflow(&app, &token, "w", &two_tasks("one")).await;
    let first = get("/api/v1/workflows/p.w/revisions/1".into()).await;
    assert_eq!(first["source"], two_tasks("one"));
    assert_eq!(first["definition"]["tasks"][0]["input"]["message"], "one");

    put_yaml(&app, &token, "p.w", &two_tasks("two")).await;
    assert_eq!(
        get("/api/v1/workflows/p.w/revisions/1".into()).await,
        first,
        "revision 1, now with its own copy"
    );
    let second = get("/api/v1/workflows/p.w/revisions/2".into()).await;
    assert_eq!(second["source"], two_tasks("two"));
    let diff = get("/api/v1/workflows/p.w/diff".into()).await;
    assert_eq!(
        (diff["from"]["n"].clone(), diff["to"]["n"].clone()),
        (json!(1), json!(2))
    );
    let unified = diff["unified"].as_str().unwrap_or("");
    assert!(unified.contains("-      message: \"one\"\n"), "{diff}");
    assert!(unified.contains("+      message: \"two\"\n"), "{diff}");
    assert_eq!(diff["semantic"]["summary"], "1 task changed", "{diff}");
    assert_eq!(diff["semantic"]["tasks"][0]["path"], "start", "{diff}");
    // restoring the newest (the current content) changes nothing
    let same = app
        .post(
            "/api/v1/workflows/p.w/revisions/2/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body["data"]["revision"], Value::Null);

    // the workflow goes: revision 2 gets its own copy, answers the same
    let del = app.delete_path("/api/v1/workflows/p.w", &token).await;
    assert_eq!(del.status, 200, "{}", del.body);
    assert_eq!(
        get("/api/v1/workflows/p.w/revisions/2".into()).await,
        second
    );
    assert_eq!(get("/api/v1/workflows/p.w/diff".into()).await, diff);
    let back = app
        .post(
            "/api/v1/workflows/p.w/revisions/2/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["data"]["revision"], json!({"from": 2, "to": 3}));
    let third = get("/api/v1/workflows/p.w/revisions/3".into()).await;
    assert_eq!(third["source"], two_tasks("two"));
    assert_eq!(third["definition"], second["definition"]);
    assert_eq!(
        get("/api/v1/workflows/p.w/diff?from=1&to=3".into()).await["semantic"],
        diff["semantic"]
    );

    // the pack goes: every revision is still whole
    let gone = app.delete_pack(&token, "p").await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let third_after = get("/api/v1/workflows/p.w/revisions/3".into()).await;
    assert_eq!(third_after, third);
}

#[tokio::test]
async fn a_file_workflow_is_restored_by_writing_its_file_back_and_syncing() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    app.write_workflow("p", "w.yaml", &two_tasks("v1"));
    app.sync(&token, "p", "").await;
    app.write_workflow("p", "w.yaml", &two_tasks("v2"));
    app.sync(&token, "p", "").await;
    let file = app.pack_dir("p").join("workflows/w.yaml");

    let restored = app
        .post(
            "/api/v1/workflows/p.w/revisions/1/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    let data = &restored.body["data"];
    assert_eq!(data["mode"], "file");
    assert_eq!(data["revision"], json!({"from": 2, "to": 3}));
    assert!(data["run_id"].as_u64().is_some());
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        two_tasks("v1")
    );
    let rev = app
        .get("/api/v1/workflows/p.w/revisions/3", Some(&token))
        .await;
    assert_eq!(rev.body["data"]["trigger"], "restore");
    assert_eq!(rev.body["data"]["run_id"], data["run_id"]);
    let names: Vec<String> = std::fs::read_dir(file.parent().expect("dir"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["w.yaml"], "no temporary file is left");

    // changed on disk since the current revision: refused, file kept
    app.write_workflow("p", "w.yaml", &two_tasks("edited by hand"));
    let conflict = app
        .post(
            "/api/v1/workflows/p.w/revisions/2/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    conflict.assert_error(409, "CONFLICT");
    assert!(
        conflict.body["error"]
            .as_str()
            .unwrap_or("")
            .contains("changed on disk since the current revision"),
        "{}",
        conflict.body
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        two_tasks("edited by hand")
    );

    // a pruned workflow (file deleted) comes back with its file
    std::fs::remove_file(&file).expect("rm");
    let pruned = app.sync(&token, "p", "?prune=true").await;
    assert_eq!(
        pruned.body["data"]["pruned"],
        json!(["p.w"]),
        "{}",
        pruned.body
    );
    let back = app
        .post(
            "/api/v1/workflows/p.w/revisions/2/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["data"]["revision"], json!({"from": 3, "to": 4}));
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        two_tasks("v2")
    );
    assert_eq!(app.workflow(&token, "p.w").await.status, 200);
}

#[tokio::test]
async fn a_backup_carries_the_revisions() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    create_api_workflow(&app, &token, "w", &good_workflow("one")).await;
    put_yaml(&app, &token, "p.w", &good_workflow("two")).await;
    let out = app.data_dir.path().join("copy.redb");
    let store = app.state.store.clone();
    let summary = {
        let out = out.clone();
        tokio::task::spawn_blocking(move || store.backup_to(&out))
            .await
            .expect("task")
            .expect("backup")
    };
    assert_eq!(summary.count("revisions"), 2);
    let restored = tempfile::tempdir().expect("tmp");
    std::fs::copy(&out, restored.path().join(attune::store::DB_FILE_NAME)).expect("copy");
    let copy = attune::store::Store::open(restored.path()).expect("open the copy");
    let rev = copy
        .get_revision("p.w", 1)
        .expect("read")
        .expect("revision 1");
    assert_eq!(rev.source, good_workflow("one"));
    // the newest reads the workflow's content in the copy too
    let newest = copy
        .get_revision("p.w", 2)
        .expect("read")
        .expect("revision 2");
    assert_eq!(newest.source, good_workflow("two"));
    assert_eq!(copy.revision_count().expect("count"), 2);
}

#[tokio::test]
async fn a_restore_that_no_longer_validates_is_refused_with_its_diagnostics_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    create_api_workflow(&app, &token, "callee", &good_workflow("callee")).await;
    let calls = "label: Caller\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: p.callee\n";
    create_api_workflow(&app, &token, "caller", calls).await;
    put_yaml(&app, &token, "p.caller", &good_workflow("caller two")).await;
    let gone = app
        .delete_path("/api/v1/workflows/p.callee?purge=true", &token)
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let refused = app
        .post(
            "/api/v1/workflows/p.caller/revisions/1/restore",
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body["diagnostics"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        refused.body
    );
    assert_eq!(
        app.workflow(&token, "p.caller").await.body["data"]["label"],
        "caller two"
    );
    assert_eq!(revisions_of(&app, "p.caller").len(), 2, "nothing recorded");
}

#[tokio::test]
async fn an_api_token_write_names_the_token_in_its_revision() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let made = app
        .post(
            "/api/v1/tokens",
            Some(&token),
            &json!({"name": "ci", "role": "operator"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let api_token = made.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    create_api_workflow(&app, &api_token, "w", &good_workflow("one")).await;
    let rev = app
        .get("/api/v1/workflows/p.w/revisions/1", Some(&token))
        .await;
    assert_eq!(
        rev.body["data"]["by"], "admin via token 'ci'",
        "{}",
        rev.body
    );

    // A sync asked with the token names it too; the run keeps the login.
    app.write_workflow("p", "f.yaml", &good_workflow("from a file"));
    let synced = app.sync(&api_token, "p", "").await;
    assert_eq!(synced.status, 200, "{}", synced.body);
    let rev = app
        .get("/api/v1/workflows/p.f/revisions/1", Some(&token))
        .await;
    assert_eq!(
        rev.body["data"]["by"], "admin via token 'ci'",
        "{}",
        rev.body
    );
    let run_id = synced.body["data"]["run_id"].as_u64().unwrap();
    let run = app
        .get(&format!("/api/v1/runs/{run_id}"), Some(&token))
        .await;
    assert_eq!(run.body["data"]["user"], "admin", "{}", run.body);
}
