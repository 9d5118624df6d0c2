//! Pack folders stay inside the packs directory: a `workflows/` or
//! `actions/` folder, or a whole pack folder, that is a symbolic link to
//! somewhere else is reported and never read, and no byte (nor file name)
//! of what it points to reaches any answer.

use crate::helpers::good_workflow;
use crate::helpers::{Reply, TestApp, pack_body, spawn_app};

const SECRET: &str = "TOP-SECRET-OUTSIDE-7f3a";
const SECRET_NAME: &str = "leaky_name";

/// A folder outside the packs directory whose YAML files hold the secret
/// (broken YAML, so a snippet would quote it).
fn outside_dir(app: &TestApp) -> std::path::PathBuf {
    let dir = app.data_dir.path().join("outside");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{SECRET_NAME}.yaml")),
        format!("label: [{SECRET}\ntasks: {{{{ {SECRET}\n"),
    )
    .unwrap();
    dir
}

fn assert_clean(what: &str, reply: &Reply) {
    let text = reply.body.to_string();
    assert!(
        !text.contains(SECRET),
        "{what} leaked the outside file: {text}"
    );
    assert!(
        !text.contains(SECRET_NAME),
        "{what} leaked an outside name: {text}"
    );
}

async fn every_answer_is_clean(app: &TestApp, token: &str, pack: &str) -> (Reply, Reply) {
    let sync = app.sync(token, pack, "").await;
    assert_clean("sync", &sync);
    let validate = app.validate(token, pack).await;
    assert_clean("validate", &validate);
    for path in [
        format!("/api/v1/packs/{pack}"),
        format!("/api/v1/packs/{pack}/workflows"),
        "/api/v1/workflows?per_page=100".to_string(),
        "/api/v1/runs?per_page=100".to_string(),
    ] {
        let reply = app.get(&path, Some(token)).await;
        assert_clean(&path, &reply);
    }
    let runs = app.get("/api/v1/runs?per_page=100", Some(token)).await;
    for run in runs.body["data"].as_array().unwrap() {
        let detail = app
            .get(&format!("/api/v1/runs/{}", run["id"]), Some(token))
            .await;
        assert_clean("run detail", &detail);
    }
    (sync, validate)
}

#[tokio::test]
async fn a_workflows_folder_linking_outside_the_pack_is_refused_unread() {
    let app = spawn_app().await;
    let token = app.token().await;
    let outside = outside_dir(&app);
    std::fs::create_dir_all(app.pack_dir("linked")).unwrap();
    std::os::unix::fs::symlink(&outside, app.pack_dir("linked").join("workflows")).unwrap();
    let created = app.create_pack(&token, &pack_body("linked")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_clean("create", &created);
    let (sync, validate) = every_answer_is_clean(&app, &token, "linked").await;
    for reply in [&sync, &validate] {
        let text = reply.body.to_string();
        assert!(
            text.contains("the workflows/ folder resolves outside its pack folder"),
            "{text}"
        );
    }
    assert!(app.pack_workflows(&token, "linked").await.is_empty());
}

#[tokio::test]
async fn a_pack_folder_linking_outside_the_packs_directory_is_refused_unread() {
    let app = spawn_app().await;
    let token = app.token().await;
    let outside = app.data_dir.path().join("outside-pack");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(app.state.config.packs_base_dir.clone()).unwrap();
    let wf = outside_dir(&app);
    std::os::unix::fs::symlink(&wf, outside.join("workflows")).unwrap();
    // a regular workflows/ folder inside the linked pack, too
    std::fs::create_dir_all(outside.join("actions")).unwrap();
    std::fs::write(
        outside.join("actions").join(format!("{SECRET_NAME}.yaml")),
        format!("name: [{SECRET}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, app.pack_dir("evil")).unwrap();
    let created = app.create_pack(&token, &pack_body("evil")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_clean("create", &created);
    let (sync, _) = every_answer_is_clean(&app, &token, "evil").await;
    let text = sync.body.to_string();
    assert!(
        text.contains("pack folder 'evil' resolves outside packs_base_dir"),
        "{text}"
    );
}

#[tokio::test]
async fn an_actions_folder_linking_outside_is_not_read_and_files_inside_still_are() {
    let app = spawn_app().await;
    let token = app.token().await;
    let outside = outside_dir(&app);
    app.write_workflow("mixed", "fine.yaml", &good_workflow("Fine"));
    std::os::unix::fs::symlink(&outside, app.pack_dir("mixed").join("actions")).unwrap();
    // a link to a folder inside the pack is fine
    std::fs::create_dir_all(app.pack_dir("mixed").join("more")).unwrap();
    app.new_pack(&token, "mixed").await;
    let (sync, _) = every_answer_is_clean(&app, &token, "mixed").await;
    assert_eq!(sync.status, 200, "{}", sync.body);
    assert_eq!(sync.body["data"]["registered_count"], 1, "{}", sync.body);
}

#[test]
fn a_file_reached_through_a_linked_folder_is_refused_by_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(pack.join("workflows")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("x.yaml"), SECRET).unwrap();
    std::os::unix::fs::symlink(&outside, pack.join("workflows").join("sub")).unwrap();
    let err = attune::pack::read_workflow_file(
        &pack.join("workflows").join("sub").join("x.yaml"),
        &pack,
        1 << 20,
    )
    .unwrap_err();
    assert!(err.message.contains("outside the pack folder"), "{err}");
    assert!(!err.message.contains(SECRET));
}
