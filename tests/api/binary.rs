//! Tests that run the real `attune` binary: restart survival, a second
//! process on the same data dir, graceful shutdown, config precedence and
//! configuration errors.

use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, admin_token, attune_command, run_to_end, serve_command, start_serving,
};

#[tokio::test]
async fn data_and_tokens_survive_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_serving(serve_command(dir.path()));
    let token = admin_token(&first.address).await;
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/v1/packs", first.address))
        .bearer_auth(&token)
        .json(&json!({"ref": "kept", "label": "Kept", "version": "1.0.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (clean, log) = first.terminate();
    assert!(
        clean,
        "SIGTERM should end attune cleanly:\n{}",
        log.join("\n")
    );
    assert!(
        log.iter().any(|l| l.contains("shut down cleanly")),
        "{}",
        log.join("\n")
    );

    // second start: no new admin, same secret, same data
    let second = start_serving(serve_command(dir.path()));
    assert!(
        !second
            .stderr
            .iter()
            .any(|l| l.contains("generated password")),
        "no new admin on restart"
    );
    let res = client
        .get(format!("{}/api/v1/packs/kept", second.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the old token and the pack survive");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["label"], "Kept");
}

#[tokio::test]
async fn a_second_process_on_the_same_data_dir_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _server = start_serving(serve_command(dir.path()));

    let (code, _, stderr) = run_to_end(serve_command(dir.path()));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("database is in use by another attune process"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let mut user = attune_command();
    user.args(["user", "add", "bob", "--generate", "--data-dir"])
        .arg(dir.path());
    let (code, _, stderr) = run_to_end(user);
    assert_eq!(code, Some(1), "{stderr}");
    // No API creates users, so the message says to stop the server first.
    assert!(
        stderr.contains("the database is in use by a running attune server")
            && stderr.contains("stop the server"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_first_start_prints_a_generated_admin_password_that_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve_command(dir.path());
    cmd.env_remove("ATTUNE__ADMIN_PASSWORD");
    let app = start_serving(cmd);
    let banner = app
        .stderr
        .iter()
        .position(|l| l.contains("generated password"))
        .expect("banner");
    let password = app.stderr[banner + 2].trim().to_string();
    assert_eq!(password.len(), 20, "{:?}", app.stderr);
    let res = reqwest::Client::new()
        .post(format!("{}/auth/login", app.address))
        .json(&json!({"login": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_bad_port_stops_startup_naming_the_key_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = attune_command();
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .env("ATTUNE__SERVER__PORT", "abc");
    let (code, _, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "invalid value 'abc' for server.port from ATTUNE__SERVER__PORT: expected a port number 0-65535"
        ),
        "{stderr}"
    );

    let mut cmd = attune_command();
    cmd.args(["serve", "--port", "70000", "--data-dir"])
        .arg(dir.path());
    let (code, _, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("invalid value '70000' for server.port from --port"),
        "{stderr}"
    );

    let mut cmd = attune_command();
    cmd.args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("ATTUNE__SERVER__PROT", "1");
    let (code, _, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("did you mean 'ATTUNE__SERVER__PORT'?"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_flag_wins_over_the_environment() {
    let root = tempfile::tempdir().unwrap();
    let env_dir = root.path().join("from-env");
    let flag_dir = root.path().join("from-flag");
    let mut cmd = attune_command();
    cmd.args(["serve", "--port", "0", "--data-dir"])
        .arg(&flag_dir)
        .env("ATTUNE__DATA_DIR", &env_dir)
        .env("ATTUNE__ADMIN_PASSWORD", ADMIN_PASSWORD);
    let app = start_serving(cmd);
    assert!(flag_dir.join("attune.redb").is_file());
    assert!(!env_dir.exists());
    drop(app);

    // without the flag the environment applies
    let mut cmd = attune_command();
    cmd.args(["serve", "--port", "0"])
        .env("ATTUNE__DATA_DIR", &env_dir)
        .env("ATTUNE__ADMIN_PASSWORD", ADMIN_PASSWORD);
    let _app = start_serving(cmd);
    assert!(env_dir.join("attune.redb").is_file());
}

#[tokio::test]
async fn version_prints_the_crate_version() {
    let mut cmd = attune_command();
    cmd.arg("--version");
    let (code, stdout, _) = run_to_end(cmd);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.trim(),
        format!("attune {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn bad_usage_exits_with_status_2() {
    let mut cmd = attune_command();
    cmd.arg("--no-such-flag");
    let (code, _, _) = run_to_end(cmd);
    assert_eq!(code, Some(2));
}

#[tokio::test]
async fn a_token_minted_by_the_cli_is_accepted_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    // first start creates the admin and the secret, then stops
    let first = start_serving(serve_command(dir.path()));
    let (clean, _) = first.terminate();
    assert!(clean);

    let mut cmd = attune_command();
    cmd.args(["token", "--user", "admin", "--ttl", "10m", "--data-dir"])
        .arg(dir.path());
    let (code, stdout, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(0), "{stderr}");
    let token = stdout.trim().to_string();

    let app = start_serving(serve_command(dir.path()));
    let res = reqwest::Client::new()
        .get(format!("{}/auth/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn config_precedence_is_file_then_environment_then_flag() {
    let root = tempfile::tempdir().unwrap();
    let file_dir = root.path().join("from-file");
    let env_dir = root.path().join("from-env");
    let flag_dir = root.path().join("from-flag");
    let config = root.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nserver:\n  port: 0\nlog:\n  format: json\n",
            file_dir.display()
        ),
    )
    .unwrap();
    let with_config = || {
        let mut cmd = attune_command();
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .env("ATTUNE__ADMIN_PASSWORD", ADMIN_PASSWORD);
        cmd
    };

    // the file alone decides
    let app = start_serving(with_config());
    assert!(file_dir.join("attune.redb").is_file());
    assert!(
        app.stderr
            .iter()
            .any(|l| l.starts_with('{') && l.contains("\"level\"")),
        "log.format json from the file: {:?}",
        app.stderr
    );
    drop(app);

    // the environment beats the file
    let mut cmd = with_config();
    cmd.env("ATTUNE__DATA_DIR", &env_dir);
    let app = start_serving(cmd);
    assert!(env_dir.join("attune.redb").is_file());
    drop(app);

    // a flag beats both
    let mut cmd = with_config();
    cmd.env("ATTUNE__DATA_DIR", &env_dir)
        .arg("--data-dir")
        .arg(&flag_dir);
    let _app = start_serving(cmd);
    assert!(flag_dir.join("attune.redb").is_file());
}

#[tokio::test]
async fn a_bad_config_file_stops_startup_with_its_position() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("config.yaml");
    std::fs::write(&config, "server:\n  prot: 8080\n").unwrap();
    let mut cmd = attune_command();
    cmd.arg("serve").arg("--config").arg(&config);
    let (code, _, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "unknown key 'server.prot' in {}:2:3; did you mean 'server.port'?",
            config.display()
        )),
        "{stderr}"
    );

    let mut cmd = attune_command();
    cmd.arg("serve")
        .env("ATTUNE_CONFIG", root.path().join("missing.yaml"));
    let (code, _, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot read config file"), "{stderr}");
}

#[tokio::test]
async fn users_added_and_changed_on_the_command_line_log_in() {
    use crate::helpers::run_with_stdin;
    let dir = tempfile::tempdir().unwrap();
    let user_cmd = |args: &[&str]| {
        let mut cmd = attune_command();
        cmd.arg("user").args(args).arg("--data-dir").arg(dir.path());
        cmd
    };

    let (code, _, stderr) = run_with_stdin(user_cmd(&["add", "bob"]), "first-password\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("created user 'bob'"), "{stderr}");

    let (code, _, stderr) = run_with_stdin(user_cmd(&["add", "bob"]), "first-password\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("user 'bob' already exists"), "{stderr}");

    let (code, _, stderr) = run_with_stdin(user_cmd(&["add", "carol"]), "short\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("at least 8 characters"), "{stderr}");

    let (code, _, stderr) = run_with_stdin(user_cmd(&["add", "bad/name"]), "long-enough\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("invalid login"), "{stderr}");

    let (code, _, stderr) = run_with_stdin(user_cmd(&["passwd", "bob"]), "second-password\n");
    assert_eq!(code, Some(0), "{stderr}");

    let (code, stdout, stderr) = run_with_stdin(user_cmd(&["add", "dave", "--generate"]), "");
    assert_eq!(code, Some(0), "{stderr}");
    let dave_password = stdout.trim().to_string();
    assert_eq!(dave_password.len(), 20);

    let (code, _, stderr) = run_with_stdin(user_cmd(&["passwd", "nobody"]), "whatever-pw\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no user 'nobody'"), "{stderr}");

    let app = start_serving(serve_command(dir.path()));
    let client = reqwest::Client::new();
    let login = |login: &'static str, password: String| {
        let client = client.clone();
        let url = format!("{}/auth/login", app.address);
        async move {
            client
                .post(url)
                .json(&json!({"login": login, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(login("bob", "second-password".into()).await, 200);
    assert_eq!(login("bob", "first-password".into()).await, 401);
    assert_eq!(login("dave", dave_password).await, 200);
    // users existed, so no admin was created on this first server start
    assert_eq!(login("admin", ADMIN_PASSWORD.into()).await, 401);
}

#[tokio::test]
async fn plain_attune_serves_like_attune_serve() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = attune_command();
    cmd.args(["--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("ATTUNE__ADMIN_PASSWORD", ADMIN_PASSWORD);
    let app = start_serving(cmd);
    assert!(!admin_token(&app.address).await.is_empty());
}
