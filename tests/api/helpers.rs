//! The one test app: `spawn_app()` starts a real attune server in-process
//! on 127.0.0.1:0 with a fresh data dir, and `TestApp` has a reqwest client,
//! one method per endpoint and the pack folders on disk; the workflow texts
//! the tests share; and `start_binary()` / `spawn_binary()` for tests that
//! need the real `attune` process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use attune::AppState;
use attune::config::Config;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|dir| attune::store::Store::open(dir).expect("open store")).await
}

/// [`spawn_app`] on a store that `open` opens in the data dir (fault tests
/// open it through their own `Storage`).
pub async fn spawn_app_with(
    open: impl FnOnce(&Path) -> attune::store::Store + Send + 'static,
) -> TestApp {
    spawn_app_full(open, |_| {}).await
}

/// [`spawn_app`] with configuration changed by `tweak` (limits and the like).
pub async fn spawn_app_configured(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_full(
        |dir| attune::store::Store::open(dir).expect("open store"),
        tweak,
    )
    .await
}

async fn spawn_app_full(
    open: impl FnOnce(&Path) -> attune::store::Store + Send + 'static,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: data_dir.path().to_path_buf(),
        packs_base_dir: data_dir.path().join("packs"),
        admin_password: Some(attune::config::Secret::new(ADMIN_PASSWORD)),
        ..Config::default()
    };
    tweak(&mut config);
    let (state, _) = tokio::task::spawn_blocking(move || {
        let store = open(&config.data_dir);
        AppState::with_store(config, store)
    })
    .await
    .expect("init task")
    .expect("init state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(async move {
        attune::serve(listener, server_state, async {
            let _ = rx.await;
        })
        .await
        .expect("server");
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        data_dir,
        shutdown: Some(tx),
    }
}

/// A response's status and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from(res: Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?} (status {status})"));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Asserts the error envelope with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert!(
            self.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "error message missing: {}",
            self.body
        );
        let keys: Vec<_> = self.body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["error", "code"], "envelope keys");
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn login_with(&self, login: &str, password: &str) -> Reply {
        let res = self
            .client
            .post(self.url("/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .expect("request");
        Reply::from(res).await
    }

    /// Logs in as admin; returns (access, refresh).
    pub async fn login(&self) -> (String, String) {
        let reply = self.login_with("admin", ADMIN_PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        (
            reply.body["data"]["access_token"]
                .as_str()
                .expect("access")
                .to_string(),
            reply.body["data"]["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_string(),
        )
    }

    pub async fn token(&self) -> String {
        self.login().await.0
    }

    /// Creates user `login` with `role` (`viewer`, `operator`, `admin`) and
    /// password [`ADMIN_PASSWORD`] straight in the store.
    pub async fn add_user(&self, login: &str, role: &str) {
        let role: attune::store::Role = role.parse().expect("role");
        let store = self.state.store.clone();
        let login = login.to_string();
        tokio::task::spawn_blocking(move || {
            let hash = attune::auth::hash_password(ADMIN_PASSWORD).expect("hash");
            store
                .create_user_as(&login, &hash, Some(role))
                .expect("create user");
        })
        .await
        .expect("task");
    }

    /// An access token of a new user `{role}-user` with that role.
    pub async fn token_as(&self, role: &str) -> String {
        let login = format!("{role}-user");
        self.add_user(&login, role).await;
        let reply = self.login_with(&login, ADMIN_PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["data"]["access_token"]
            .as_str()
            .expect("access")
            .to_string()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let res = self
            .client
            .post(self.url("/auth/refresh"))
            .json(&json!({"refresh_token": refresh_token}))
            .send()
            .await
            .expect("request");
        Reply::from(res).await
    }

    pub async fn me(&self, token: &str) -> Reply {
        self.get("/auth/me", Some(token)).await
    }

    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Reply {
        self.post(
            "/auth/change-password",
            Some(token),
            &json!({"current_password": current, "new_password": new}),
        )
        .await
    }

    pub async fn health(&self) -> Reply {
        self.get("/health", None).await
    }

    pub async fn list_packs(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/api/v1/packs{query}"), Some(token))
            .await
    }

    pub async fn create_pack(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/packs", Some(token), body).await
    }

    pub async fn get_pack(&self, token: &str, pack_ref: &str) -> Reply {
        self.get(&format!("/api/v1/packs/{pack_ref}"), Some(token))
            .await
    }

    pub async fn update_pack(&self, token: &str, pack_ref: &str, body: &Value) -> Reply {
        self.put_json(&format!("/api/v1/packs/{pack_ref}"), token, body)
            .await
    }

    pub async fn delete_pack(&self, token: &str, pack_ref: &str) -> Reply {
        self.delete_path(&format!("/api/v1/packs/{pack_ref}"), token)
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Reply::from(req.send().await.expect("request")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Reply::from(req.send().await.expect("request")).await
    }
}

/// A minimal valid pack body.
pub fn pack_body(pack_ref: &str) -> Value {
    json!({"ref": pack_ref, "label": format!("Pack {pack_ref}"), "version": "1.0.0"})
}

// ---------------------------------------------------------------------------
// The real binary

/// A running `attune` process.
pub struct BinaryApp {
    pub child: Child,
    pub address: String,
    /// Every stderr line read so far (more arrive on `lines`).
    pub stderr: Vec<String>,
    lines: mpsc::Receiver<String>,
}

/// Command for the attune binary with a clean attune environment: the
/// binary cargo built for the tests, or the one named by `ATTUNE_TEST_BIN`
/// (CI runs the TLS tests against the shipped `target/dist/attune`).
pub fn attune_command() -> Command {
    let bin =
        std::env::var_os("ATTUNE_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_attune").into());
    let mut cmd = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ATTUNE") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// Starts `attune serve` with `args` (plus `--port 0` unless given) and
/// waits for its "listening on" line.
pub fn spawn_binary(mut cmd: Command) -> Result<BinaryApp, Vec<String>> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn attune");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    // The timeout only turns a hang into a failure; it times nothing.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
        if let Some(rest) = line.strip_prefix("listening on ") {
            let address = rest.trim().to_string();
            seen.push(line);
            return Ok(BinaryApp {
                child,
                address,
                stderr: seen,
                lines: rx,
            });
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(seen)
}

/// `attune serve` on `data_dir` with port 0 and a known admin password.
pub fn serve_command(data_dir: &Path) -> Command {
    let mut cmd = attune_command();
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--packs-dir")
        .arg(data_dir.join("packs"))
        .arg("--port")
        .arg("0")
        .env("ATTUNE__ADMIN_PASSWORD", ADMIN_PASSWORD);
    cmd
}

/// `attune serve` on `data_dir` (packs in `data_dir/packs`), started and
/// listening, or a panic with its stderr.
pub fn start_binary(data_dir: &Path) -> BinaryApp {
    start_serving(serve_command(data_dir))
}

/// Starts `cmd` (an `attune serve …` command) and waits until it listens,
/// or panics with its stderr.
pub fn start_serving(cmd: Command) -> BinaryApp {
    spawn_binary(cmd).unwrap_or_else(|lines| panic!("attune did not start:\n{}", lines.join("\n")))
}

/// `POST /auth/login` on a server at `address`.
pub async fn login_at(address: &str, login: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{address}/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("login request")
}

/// Logs in as admin on a server at `address`; its access token.
pub async fn admin_token(address: &str) -> String {
    let res = login_at(address, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    body["data"]["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

impl BinaryApp {
    /// Sends SIGTERM and waits; returns the exit status success flag and
    /// the remaining stderr.
    pub fn terminate(mut self) -> (bool, Vec<String>) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let exit = self.child.wait().expect("wait");
        let mut rest = std::mem::take(&mut self.stderr);
        rest.extend(self.lines.iter());
        (exit.success(), rest)
    }
}

impl Drop for BinaryApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion; returns (exit code, stdout, stderr).
pub fn run_to_end(mut cmd: Command) -> (Option<i32>, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("run attune");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary with `input` on stdin; returns (exit code, stdout, stderr).
pub fn run_with_stdin(mut cmd: Command, input: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn attune");
    if let Some(mut stdin) = child.stdin.take() {
        // The command may exit before reading (bad arguments): a broken pipe
        // here is expected, and its exit status tells the story.
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// Pack folders, workflow texts and the pack-workflow, workflow and run
// endpoints.

/// A valid workflow with no diagnostic at all.
pub fn good_workflow(label: &str) -> String {
    format!(
        "label: \"{label}\"\ndescription: \"about {label}\"\nversion: \"1.0.0\"\ntasks:\n  - name: start\n    action: core.echo\n    input:\n      message: \"hello\"\n"
    )
}

/// A valid workflow with one warning (`version-not-semver`).
pub fn warning_workflow() -> String {
    "label: \"Warned\"\nversion: \"one\"\ntasks:\n  - name: start\n    action: core.echo\n"
        .to_string()
}

/// The seed's broken workflow: no version, an undefined action.
pub const SEED_BROKEN: &str =
    "label: \"Broken\"\ntasks:\n  - name: step1\n    action: invalid.action\n";

impl TestApp {
    /// `{packs_base_dir}/{pack}`.
    pub fn pack_dir(&self, pack: &str) -> PathBuf {
        self.state.config.packs_base_dir.join(pack)
    }

    /// Writes `{pack}/workflows/{file}`, creating folders.
    pub fn write_workflow(&self, pack: &str, file: &str, text: &str) {
        let dir = self.pack_dir(pack).join("workflows");
        std::fs::create_dir_all(&dir).expect("mkdir workflows");
        std::fs::write(dir.join(file), text).expect("write workflow");
    }

    pub fn remove_workflow(&self, pack: &str, file: &str) {
        std::fs::remove_file(self.pack_dir(pack).join("workflows").join(file))
            .expect("remove workflow");
    }

    /// Creates the pack record (its folder may or may not exist).
    pub async fn new_pack(&self, token: &str, pack: &str) -> Reply {
        let reply = self.create_pack(token, &pack_body(pack)).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply
    }

    pub async fn sync(&self, token: &str, pack: &str, query: &str) -> Reply {
        self.post(
            &format!("/api/v1/packs/{pack}/workflows/sync{query}"),
            Some(token),
            &json!({}),
        )
        .await
    }

    pub async fn validate(&self, token: &str, pack: &str) -> Reply {
        self.post(
            &format!("/api/v1/packs/{pack}/workflows/validate"),
            Some(token),
            &json!({}),
        )
        .await
    }

    pub async fn workflow(&self, token: &str, r: &str) -> Reply {
        self.get(&format!("/api/v1/workflows/{r}"), Some(token))
            .await
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        let res = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        Reply::from(res).await
    }

    pub async fn delete_path(&self, path: &str, token: &str) -> Reply {
        let res = self
            .client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        Reply::from(res).await
    }

    /// Every workflow of a pack, via the pack's list endpoint.
    pub async fn pack_workflows(&self, token: &str, pack: &str) -> Vec<Value> {
        let reply = self
            .get(
                &format!("/api/v1/packs/{pack}/workflows?per_page=100"),
                Some(token),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["data"].as_array().expect("data").clone()
    }

    pub async fn runs(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/api/v1/runs{query}"), Some(token)).await
    }
}

/// The `workflows[]` entry of a sync reply for `r`.
pub fn entry<'a>(reply: &'a Reply, r: &str) -> &'a Value {
    reply.body["data"]["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["ref_name"] == r)
        .unwrap_or_else(|| panic!("{r} not in {}", reply.body))
}

/// Field names of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}
