//! Operations: the online backup endpoint while the server serves, offline
//! backup and restore through the real binary, the user and token commands,
//! the "database in use" message of every database command, and opening a
//! database written by an earlier version.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use attune::store::Store;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, admin_token, attune_command, good_workflow, login_at, pack_body, run_to_end,
    serve_command, spawn_app, start_serving,
};

/// `attune ARGS --data-dir DIR`.
fn db_command(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = attune_command();
    cmd.args(args).arg("--data-dir").arg(data_dir);
    cmd
}

/// Runs with `input` on stdin; returns (exit code, stdout, stderr).
fn run_with_stdin(mut cmd: Command, input: &str) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn attune");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait attune");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs to the end and asserts success; returns stdout.
fn ok(cmd: Command) -> String {
    let (code, stdout, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

async fn create_pack(address: &str, token: &str, pack_ref: &str) {
    let res = reqwest::Client::new()
        .post(format!("{address}/api/v1/packs"))
        .bearer_auth(token)
        .json(&pack_body(pack_ref))
        .send()
        .await
        .expect("create pack");
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

async fn pack_status(address: &str, token: &str, pack_ref: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{address}/api/v1/packs/{pack_ref}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get pack")
        .status()
        .as_u16()
}

/// Downloads `GET /api/v1/admin/backup` into `dest`, checking the headers.
async fn download_backup(address: &str, token: &str, dest: &Path) {
    let res = reqwest::Client::new()
        .get(format!("{address}/api/v1/admin/backup"))
        .bearer_auth(token)
        .send()
        .await
        .expect("backup request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("backup body");
    std::fs::write(dest, &bytes).expect("write backup");
    let declared: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(declared, bytes.len());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"attune-"),
    );
    assert_eq!(
        headers["x-attune-schema-version"],
        attune::store::SCHEMA_VERSION.to_string().as_str()
    );
}

/// Opens a backup file as the database of a fresh data dir.
fn open_backup(file: &Path) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join("attune.redb")).unwrap();
    let store = Store::open(dir.path()).expect("the backup opens as a database");
    (dir, store)
}

const IN_USE: &str = "the database is in use by a running attune server";

#[tokio::test]
async fn an_online_backup_holds_every_pack_user_and_workflow_while_writes_go_on() {
    let app = spawn_app().await;
    let token = app.token().await;
    for i in 0..5 {
        create_pack(&app.address, &token, &format!("before.{i}")).await;
    }
    app.new_pack(&token, "flows").await;
    for name in ["deploy", "rollback", "health_check"] {
        app.write_workflow("flows", &format!("{name}.yaml"), &good_workflow(name));
    }
    let reply = app.sync(&token, "flows", "").await;
    assert_eq!(reply.body["data"]["registered_count"], 3, "{}", reply.body);
    let live_flows = app.state.store.pack_workflows("flows").unwrap();
    app.state
        .store
        .create_user("operator", "$argon2id$not-a-real-hash")
        .unwrap();

    // a writer keeps creating packs while the backup is taken
    let writer = {
        let address = app.address.clone();
        let token = token.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                create_pack(&address, &token, &format!("during.{i}")).await;
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("online.redb");
    download_backup(&app.address, &token, &file).await;
    writer.await.unwrap();
    assert_eq!(app.health().await.status, 200, "the server kept serving");

    let (_keep, copy) = open_backup(&file);
    for i in 0..5 {
        assert!(copy.get_pack(&format!("before.{i}")).unwrap().is_some());
    }
    let copied_flows = copy.pack_workflows("flows").unwrap();
    assert_eq!(copied_flows.len(), 3);
    for (live, copied) in live_flows.iter().zip(&copied_flows) {
        assert_eq!(
            (
                &copied.id,
                &copied.r#ref,
                &copied.content_hash,
                &copied.definition
            ),
            (&live.id, &live.r#ref, &live.content_hash, &live.definition)
        );
    }
    let (runs, _) = copy.list_runs(Some("flows"), 1, 10).unwrap();
    assert_eq!(runs.len(), 1, "the sync run record is in the copy");
    let logins: Vec<_> = copy
        .list_users()
        .unwrap()
        .into_iter()
        .map(|u| u.login)
        .collect();
    assert_eq!(logins, ["admin", "operator"]);
    // a snapshot: the packs written during the copy are a prefix of the
    // writer's sequence, never a gap
    let (packs, total) = copy.list_packs(1, 100).unwrap();
    assert_eq!(total as usize, packs.len());
    let during: Vec<usize> = packs
        .iter()
        .filter_map(|p| p.pack_ref.strip_prefix("during."))
        .map(|n| n.parse().unwrap())
        .collect();
    let mut sorted = during.clone();
    sorted.sort();
    assert_eq!(sorted, (0..during.len()).collect::<Vec<_>>());
    // the live database still holds everything and no temporary file is left
    assert_eq!(app.state.store.list_packs(1, 100).unwrap().1, 26);
    let leftovers: Vec<_> = std::fs::read_dir(app.data_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn the_backup_endpoint_needs_a_token() {
    let app = spawn_app().await;
    app.get("/api/v1/admin/backup", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.get("/api/v1/admin/backup", Some("not-a-token"))
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn backup_and_restore_round_trip_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let online = dir.path().join("online.redb");
    let offline = dir.path().join("offline.redb");

    let server = start_serving(serve_command(&data));
    let token = admin_token(&server.address).await;
    create_pack(&server.address, &token, "kept").await;
    download_backup(&server.address, &token, &online).await;
    create_pack(&server.address, &token, "later").await;
    let (clean, log) = server.terminate();
    assert!(clean, "{}", log.join("\n"));

    // offline backup of the current state (kept + later)
    let (code, _, stderr) = run_to_end(db_command(
        &data,
        &["backup", "--out", offline.to_str().unwrap()],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("backup written to"), "{stderr}");
    assert!(stderr.contains("1 users, 2 packs"), "{stderr}");
    let (code, _, stderr) = run_to_end(db_command(
        &data,
        &["backup", "--out", offline.to_str().unwrap()],
    ));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("pass --force"), "{stderr}");

    // restore the online backup: "later" is gone, the old database is kept
    let mut restore = db_command(&data, &["restore"]);
    restore.arg(&online);
    let (code, _, stderr) = run_to_end(restore);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("1 users, 1 packs"), "{stderr}");
    assert!(stderr.contains("attune.redb.bak"), "{stderr}");
    assert!(data.join("attune.redb.bak").is_file());
    assert!(stderr.contains("everyone logs in again"), "{stderr}");

    // backups carry no signing secret: earlier tokens are refused, and
    // logging in again works
    let server = start_serving(serve_command(&data));
    assert_eq!(pack_status(&server.address, &token, "kept").await, 401);
    let token = admin_token(&server.address).await;
    assert_eq!(pack_status(&server.address, &token, "kept").await, 200);
    assert_eq!(pack_status(&server.address, &token, "later").await, 404);
    let _ = server.terminate();

    // and back to the offline one
    let mut restore = db_command(&data, &["restore"]);
    restore.arg(&offline);
    ok(restore);
    let server = start_serving(serve_command(&data));
    assert_eq!(pack_status(&server.address, &token, "later").await, 401);
    let token = admin_token(&server.address).await;
    assert_eq!(pack_status(&server.address, &token, "later").await, 200);
    let _ = server.terminate();
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(start_serving(serve_command(&data)));
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, "not a database").unwrap();
    let mut restore = db_command(&data, &["restore"]);
    restore.arg(&junk);
    let (code, _, stderr) = run_to_end(restore);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("is not a usable attune backup: cannot open it as a redb database"),
        "{stderr}"
    );
    assert!(!data.join("attune.redb.bak").exists());
    let server = start_serving(serve_command(&data));
    assert_eq!(
        login_at(&server.address, "admin", ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn every_database_command_says_the_database_is_in_use_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _server = start_serving(serve_command(&data));
    let backup = dir.path().join("b.redb");
    std::fs::write(&backup, "x").unwrap();
    let backup = backup.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["user", "add", "bob", "--generate"], "stop the server"),
        (
            &["user", "passwd", "admin", "--generate"],
            "POST /auth/change-password",
        ),
        (&["user", "list"], "stop the server"),
        (&["user", "delete", "admin"], "stop the server"),
        (&["token", "--user", "admin"], "POST /auth/login"),
        (&["rotate-jwt-secret"], "stop the server"),
        (
            &["backup", "--out", "/nonexistent/b.redb"],
            "curl -fsS -H \"Authorization: Bearer $TOKEN\" -o /nonexistent/b.redb http://",
        ),
        (&["restore", backup], "stop the server"),
    ];
    for (args, what_to_do) in cases {
        let (code, stdout, stderr) = run_to_end(db_command(&data, args));
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(IN_USE), "{args:?}: {stderr}");
        assert!(stderr.contains(what_to_do), "{args:?}: {stderr}");
    }
    assert!(
        run_to_end(db_command(&data, &["backup", "--out", "x"]))
            .2
            .contains("/api/v1/admin/backup")
    );
}

#[tokio::test]
async fn user_commands_add_list_change_and_delete_users() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // the first start creates admin
    drop(start_serving(serve_command(&data)));

    let (code, stdout, stderr) = run_with_stdin(
        db_command(&data, &["user", "add", "bob"]),
        "bob-password-1\n",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "a typed password is never echoed");
    assert!(stderr.contains("created user 'bob'"), "{stderr}");
    let (code, _, stderr) = run_with_stdin(
        db_command(&data, &["user", "add", "bob"]),
        "bob-password-2\n",
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("user 'bob' already exists"), "{stderr}");
    let (code, _, stderr) = run_with_stdin(db_command(&data, &["user", "add", "carol"]), "x\n");
    assert_eq!(code, Some(1), "a weak password is refused");
    assert!(!stderr.is_empty());

    let carol_password = ok(db_command(&data, &["user", "add", "carol", "--generate"]));
    let carol_password = carol_password.trim().to_string();
    assert!(carol_password.len() >= 12, "{carol_password}");

    let text = ok(db_command(&data, &["user", "list"]));
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].contains("LOGIN") && lines[0].contains("CREATED"),
        "{text}"
    );
    assert!(
        lines[1].contains("admin") && lines[2].contains("bob"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&ok(db_command(
        &data,
        &["user", "list", "--format", "json"],
    )))
    .unwrap();
    let logins: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin", "bob", "carol"]);
    assert!(json[0].get("password_hash").is_none());

    let (code, _, stderr) = run_with_stdin(
        db_command(&data, &["user", "passwd", "bob"]),
        "bob-password-new\n",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("tokens issued before"), "{stderr}");
    let (code, _, stderr) = run_to_end(db_command(&data, &["user", "passwd", "nobody"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no user 'nobody'; create it with"),
        "{stderr}"
    );

    let server = start_serving(serve_command(&data));
    assert_eq!(
        login_at(&server.address, "bob", "bob-password-1")
            .await
            .status(),
        401
    );
    assert_eq!(
        login_at(&server.address, "bob", "bob-password-new")
            .await
            .status(),
        200
    );
    assert_eq!(
        login_at(&server.address, "carol", &carol_password)
            .await
            .status(),
        200
    );
    let res = login_at(&server.address, "carol", &carol_password).await;
    let carol_token = res.json::<Value>().await.unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let _ = server.terminate();

    let (code, _, stderr) = run_to_end(db_command(&data, &["user", "delete", "carol"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("deleted user 'carol'"), "{stderr}");
    let (code, _, stderr) = run_to_end(db_command(&data, &["user", "delete", "carol"]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no user 'carol'"), "{stderr}");
    ok(db_command(&data, &["user", "delete", "bob"]));
    let (code, _, stderr) = run_to_end(db_command(&data, &["user", "delete", "admin"]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("last user"), "{stderr}");

    let server = start_serving(serve_command(&data));
    let res = reqwest::Client::new()
        .get(format!("{}/auth/me", server.address))
        .bearer_auth(&carol_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a deleted user's token stops working");
    let _ = server.terminate();
}

#[tokio::test]
async fn token_mints_an_access_token_with_the_asked_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(start_serving(serve_command(&data)));

    let token = ok(db_command(
        &data,
        &["token", "--user", "admin", "--ttl", "90m"],
    ));
    let token = token.trim().to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");
    {
        let store = Store::open(&data).unwrap();
        let secret = store.jwt_secret_or_insert(vec![0; 32]).unwrap();
        let claims = attune::auth::TokenKeys::from_secret(&secret)
            .decode(&token, attune::auth::TokenType::Access)
            .unwrap();
        assert_eq!(claims.exp - claims.iat, 90 * 60);
        assert_eq!(claims.login, "admin");
    }
    let default_token = ok(db_command(&data, &["token", "--user", "admin"]));
    assert_ne!(default_token.trim(), token);

    for (args, message) in [
        (
            &["token", "--user", "admin", "--ttl", "soon"][..],
            "invalid value 'soon' for --ttl",
        ),
        (&["token", "--user", "admin", "--ttl", "0"][..], "--ttl"),
        (
            &["token", "--user", "ghost"][..],
            "no user 'ghost'; create it with 'attune user add ghost'",
        ),
    ] {
        let (code, stdout, stderr) = run_to_end(db_command(&data, args));
        assert_eq!(code, Some(1), "{args:?}");
        assert!(stdout.is_empty());
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    let server = start_serving(serve_command(&data));
    let res = reqwest::Client::new()
        .get(format!("{}/auth/me", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["login"], "admin");
    let _ = server.terminate();
}

#[tokio::test]
async fn rotating_the_jwt_secret_refuses_every_earlier_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start_serving(serve_command(&data));
    let (access, refresh) = {
        let res = login_at(&server.address, "admin", ADMIN_PASSWORD).await;
        let body: Value = res.json().await.unwrap();
        (
            body["data"]["access_token"].as_str().unwrap().to_string(),
            body["data"]["refresh_token"].as_str().unwrap().to_string(),
        )
    };
    let _ = server.terminate();

    let (code, _, stderr) = run_to_end(db_command(&data, &["rotate-jwt-secret"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("every token issued before is refused"),
        "{stderr}"
    );

    let server = start_serving(serve_command(&data));
    let client = reqwest::Client::new();
    let me = client
        .get(format!("{}/auth/me", server.address))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let refreshed = client
        .post(format!("{}/auth/refresh", server.address))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 401);
    let new_token = admin_token(&server.address).await;
    let me = client
        .get(format!("{}/auth/me", server.address))
        .bearer_auth(&new_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "logging in again works");
    let _ = server.terminate();
}

#[tokio::test]
async fn a_database_written_by_attune_0_1_0_opens_with_this_build() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attune-0.1.0.redb");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut restore = db_command(&data, &["restore"]);
    restore.arg(&fixture);
    let (code, _, stderr) = run_to_end(restore);
    assert_eq!(code, Some(0), "{stderr}");

    let server = start_serving(serve_command(&data));
    let res = login_at(&server.address, "admin", "fixture-admin-pw").await;
    assert_eq!(
        res.status(),
        200,
        "the fixture's admin password still works"
    );
    let token = res.json::<Value>().await.unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/packs/fixture.pack", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["label"], "Fixture pack");
    assert_eq!(body["data"]["version"], "1.2.3");
    assert_eq!(body["data"]["tags"], json!(["kept"]));
    assert_eq!(body["data"]["description"], "written by attune 0.1.0");
    // schema version 2 gave the fixture's users roles: its `admin` is admin
    let me: Value = reqwest::Client::new()
        .get(format!("{}/auth/me", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["role"], "admin", "{me}");
    assert_eq!(me["data"]["disabled"], false, "{me}");
    let _ = server.terminate();
}

/// Copies a directory tree (the fixture's packs).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Removes every `action_file` key (the one field schema 5 added) from
/// `v`, checking each was `null`: what a schema-4 record knows of it.
fn without_action_file(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(a) = map.remove("action_file") {
                assert_eq!(a, Value::Null, "a migrated record has no action file yet");
            }
            map.values_mut().for_each(without_action_file);
        }
        Value::Array(items) => items.iter_mut().for_each(without_action_file),
        _ => {}
    }
}

/// A database written by the previous record layout (schema version 4:
/// tests/fixtures/README.md) is migrated on restore and answers every GET
/// as the build that wrote it did (tests/fixtures/attune-schema-4.answers.json),
/// the new `action_file` aside; the next sync fills that in for the
/// action-linked workflow without a new revision.
#[tokio::test]
async fn a_database_written_at_schema_4_answers_as_before_after_migration_5() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut restore = db_command(&data, &["restore"]);
    restore.arg(fixtures.join("attune-schema-4.redb"));
    let (code, _, stderr) = run_to_end(restore);
    assert_eq!(code, Some(0), "{stderr}");
    // the packs folder as it was when the fixture was taken
    copy_tree(&fixtures.join("schema-4/packs"), &data.join("packs"));
    std::fs::copy(
        fixtures.join("schema-4/later/flaky.yaml"),
        data.join("packs/four/workflows/flaky.yaml"),
    )
    .unwrap();

    let server = start_serving(serve_command(&data));
    let res = login_at(&server.address, "admin", "fixture-admin-pw").await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let client = reqwest::Client::new();
    let get = |path: String| {
        let req = client
            .get(format!("{}{path}", server.address))
            .bearer_auth(&token);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.json::<Value>().await.unwrap()
        }
    };
    let answers: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("attune-schema-4.answers.json")).unwrap(),
    )
    .unwrap();
    let answers = answers.as_object().unwrap();
    assert!(answers.len() >= 10);
    for (path, expected) in answers {
        let mut now = get(path.clone()).await;
        without_action_file(&mut now);
        assert_eq!(&now, expected, "{path}");
    }
    let detail = get("/api/v1/workflows/four.deploy".into()).await;
    assert!(
        detail["data"]["source"]
            .as_str()
            .unwrap()
            .contains("Deploy the service")
    );
    assert_eq!(detail["data"]["definition"]["tasks"][0]["name"], "start");

    let revisions = |r: &str| get(format!("/api/v1/workflows/{r}/revisions"));
    let before = revisions("four.release").await;
    let res = client
        .post(format!(
            "{}/api/v1/packs/four/workflows/sync",
            server.address
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let release = get("/api/v1/workflows/four.release".into()).await;
    assert_eq!(release["data"]["action_file"], "four/actions/release.yaml");
    assert_eq!(
        release["data"]["source_file"],
        "four/actions/workflows/release.workflow.yaml"
    );
    assert_eq!(
        revisions("four.release").await,
        before,
        "same content: no revision"
    );
    let deploy = get("/api/v1/workflows/four.deploy".into()).await;
    assert_eq!(deploy["data"]["action_file"], Value::Null);
    let _ = server.terminate();
}

/// The packaging files agree with each other and with docs/OPERATIONS.md,
/// so a rename in one cannot ship a package that the checks in
/// scripts/package-check.sh would only catch on a Debian machine.
#[test]
fn the_package_metadata_unit_config_and_docs_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let cargo = read("Cargo.toml");
    let deb = &cargo[cargo.find("[package.metadata.deb]").expect("deb metadata")..];
    // every asset source exists (the binary is built by package.sh, dist profile)
    let assets = &deb[deb.find("assets = [").expect("assets")..];
    let assets = &assets[..assets.find("\n]").expect("end of assets")];
    let mut destinations = Vec::new();
    for line in assets.lines().filter(|l| l.trim_start().starts_with("[\"")) {
        let fields: Vec<&str> = line.split('"').collect();
        let (source, dest) = (fields[1], fields[3]);
        if source != "target/dist/attune" {
            assert!(root.join(source).is_file(), "asset {source} is missing");
        }
        destinations.push(format!("/{dest}"));
    }
    assert!(destinations.contains(&"/usr/bin/".to_string()));
    assert!(destinations.contains(&"/etc/attune/config.yaml".to_string()));
    assert!(deb.contains("conf-files = [\"/etc/attune/config.yaml\"]"));
    assert!(deb.contains("unit-scripts = \"packaging/\""));
    for script in ["packaging/debian/postinst", "packaging/debian/postrm"] {
        assert!(read(script).contains("#DEBHELPER#"), "{script}");
    }

    // the unit runs the installed binary with the installed config, and may
    // write where the config keeps the database
    let unit = read("packaging/attune.service");
    assert!(unit.contains("ExecStart=/usr/bin/attune serve --config /etc/attune/config.yaml"));
    let config = read("packaging/config.yaml");
    assert!(config.contains("data_dir: /var/lib/attune"));
    assert!(config.contains("packs_base_dir: /opt/attune/packs"));
    assert!(unit.contains("ReadWritePaths=/var/lib/attune"));
    assert!(unit.contains("StateDirectory=attune"));
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "Restart=on-failure",
    ] {
        assert!(unit.contains(hardening), "unit lacks {hardening:?}");
    }
    let postinst = read("packaging/debian/postinst");
    assert!(postinst.contains("/var/lib/attune") && postinst.contains("/opt/attune/packs"));

    // the operations guide documents every installed path
    let ops = read("docs/OPERATIONS.md");
    for path in [
        "/usr/bin/attune",
        "/etc/attune/config.yaml",
        "/etc/attune/attune.env",
        "/usr/lib/systemd/system/attune.service",
        "/var/lib/attune/attune.redb",
        "/opt/attune/packs",
        "/usr/share/doc/attune/",
    ] {
        assert!(
            ops.contains(path),
            "docs/OPERATIONS.md does not mention {path}"
        );
    }
    // and the profiles it justifies: `release` (quick to build) keeps
    // panic = unwind, and `dist` (what ships) inherits it with full LTO
    let profile = |name: &str| {
        let p = &cargo[cargo.find(name).expect("profile")..];
        p[..p.find("\n\n").unwrap_or(p.len())].to_string()
    };
    let release = profile("[profile.release]");
    let dist = profile("[profile.dist]");
    assert!(
        !release.contains("panic") && !dist.contains("panic"),
        "docs/OPERATIONS.md explains why panic stays unwind"
    );
    assert!(dist.contains("inherits = \"release\""));
    assert!(dist.contains("lto = true") && dist.contains("codegen-units = 1"));
}
