//! Attack suite: what a hostile client tries against a real server on
//! 127.0.0.1, and what it must get back. Login guessing is throttled (429 +
//! `Retry-After`) without locking the owner out; forged, expired, premature
//! and otherwise bent tokens are 401; traversal in every path parameter
//! (plain, URL-encoded, double-encoded) is 400/404 and never serves a file;
//! oversized heads are 431, oversized bodies 413; a client trickling its
//! body is cut off while others are served; CORS is off; the security
//! headers are on every response. Raw requests go through a `TcpStream`
//! so no client library normalizes the path first.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use attune::auth::{Claims, TokenType};
use attune::config::{Config, Secret};
use attune::{AppState, ServerLimits};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, spawn_app};

// ---------------------------------------------------------------------------
// Raw HTTP

struct RawReply {
    status: u16,
    head: String,
    body: String,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

fn host_port(address: &str) -> &str {
    address.trim_start_matches("http://")
}

/// Sends `request` as is on a fresh connection and reads until the server
/// closes it.
fn raw(address: &str, request: &[u8]) -> RawReply {
    let mut stream = TcpStream::connect(host_port(address)).expect("connect");
    // Turns a hang into a failure; times nothing.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    // The server may answer and close before taking all of a large request.
    let _ = stream.write_all(request);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_reply(&bytes)
}

fn parse_reply(bytes: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    RawReply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// [`raw`] off the async runtime (the server shares it).
async fn send(address: &str, request: impl Into<Vec<u8>>) -> RawReply {
    let address = address.to_string();
    let request = request.into();
    tokio::task::spawn_blocking(move || raw(&address, &request))
        .await
        .expect("raw request task")
}

// ---------------------------------------------------------------------------
// Login throttling

async fn login_status(
    app: &crate::helpers::TestApp,
    login: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    let res = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_string());
    let body: Value = res.json().await.expect("json");
    (status, body, retry)
}

#[tokio::test]
async fn guessing_a_password_is_throttled_with_429_and_retry_after() {
    let app = spawn_app().await;
    for i in 0..6 {
        let (status, body, _) = login_status(&app, "admin", &format!("guess-{i}")).await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    let (status, body, retry) = login_status(&app, "admin", "guess-7").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "TOO_MANY_REQUESTS");
    let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=300).contains(&retry), "retry after {retry}");
    // While throttled, even the right password does not get through (else
    // the throttle would tell a guesser when it guessed right).
    let (status, _, _) = login_status(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 429);
    // Another login is not affected.
    let (status, _, _) = login_status(&app, "alice", "whatever-1").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_successful_login_resets_the_count() {
    let app = spawn_app().await;
    for round in 0..3 {
        for i in 0..5 {
            let (status, body, _) = login_status(&app, "admin", &format!("bad-{i}")).await;
            assert_eq!(status, 401, "round {round} attempt {i}: {body}");
        }
        let (status, body, _) = login_status(&app, "admin", ADMIN_PASSWORD).await;
        assert_eq!(status, 200, "round {round}: {body}");
    }
}

#[tokio::test]
async fn one_address_guessing_many_logins_is_throttled() {
    let app = spawn_app().await;
    let mut throttled = false;
    for i in 0..40 {
        let (status, body, retry) = login_status(&app, &format!("user{i}"), "nope-nope").await;
        match status {
            401 => {}
            429 => {
                assert!(retry.is_some(), "{body}");
                throttled = true;
                break;
            }
            other => panic!("status {other}: {body}"),
        }
    }
    assert!(
        throttled,
        "40 failed logins from one address were never throttled"
    );
}

#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_throttle() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let client = app.client.clone();
        let url = app.url("/auth/login");
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"login": "admin", "password": format!("p-{i}")}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    for t in tasks {
        if t.await.expect("task") == 401 {
            checked += 1;
        }
    }
    // 5 free attempts plus the one that starts the backoff.
    assert!(checked <= 6, "{checked} passwords were checked");
}

// ---------------------------------------------------------------------------
// Tokens

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

struct Forge {
    secret: Vec<u8>,
    admin_id: u64,
    token_gen: u64,
}

impl Forge {
    fn of(state: &AppState) -> Forge {
        let secret = state.store.jwt_secret_or_insert(vec![]).expect("secret");
        let admin = state
            .store
            .user_by_login("admin")
            .expect("store")
            .expect("admin");
        Forge {
            secret,
            admin_id: admin.id,
            token_gen: admin.token_gen,
        }
    }

    fn claims(&self) -> Value {
        json!({
            "sub": self.admin_id.to_string(), "login": "admin", "typ": "access",
            "iat": now() - 10, "nbf": now() - 10, "exp": now() + 600,
            "jti": "forged", "gen": self.token_gen,
        })
    }

    /// A correctly signed HS256 token over `claims`.
    fn hs256(&self, claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .expect("sign")
    }

    /// A token with a hand-written header, signed (HMAC-SHA256 with the real
    /// secret) or not.
    fn with_header(&self, header: &Value, claims: &Value, sign: bool) -> String {
        let msg = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = if sign {
            jsonwebtoken::crypto::sign(
                msg.as_bytes(),
                &EncodingKey::from_secret(&self.secret),
                Algorithm::HS256,
            )
            .expect("hmac")
        } else {
            String::new()
        };
        format!("{msg}.{sig}")
    }
}

#[tokio::test]
async fn the_forger_controls_the_baseline() {
    // The forged-token tests below are meaningful only if a correctly
    // forged token is accepted.
    let app = spawn_app().await;
    let forge = Forge::of(&app.state);
    let reply = app.me(&forge.hs256(&forge.claims())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn bent_tokens_are_refused_with_401() {
    let app = spawn_app().await;
    let forge = Forge::of(&app.state);
    let base = forge.claims();
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    let mut no_sub = base.clone();
    no_sub.as_object_mut().expect("object").remove("sub");
    let other = Forge {
        secret: b"another secret of thirty-two bytes!".to_vec(),
        ..Forge::of(&app.state)
    };
    let cases: Vec<(&str, String)> = vec![
        ("expired", forge.hs256(&with("exp", json!(now() - 1)))),
        (
            "not yet valid",
            forge.hs256(&with("nbf", json!(now() + 3600))),
        ),
        ("refresh typ", forge.hs256(&with("typ", json!("refresh")))),
        ("unknown typ", forge.hs256(&with("typ", json!("admin")))),
        ("wrong signature", other.hs256(&base)),
        ("missing sub", forge.hs256(&no_sub)),
        (
            "sub not a number",
            forge.hs256(&with("sub", json!("admin"))),
        ),
        ("unknown user", forge.hs256(&with("sub", json!("999999")))),
        (
            "old generation",
            forge.hs256(&with("gen", json!(forge.token_gen + 1))),
        ),
        (
            "alg none",
            forge.with_header(&json!({"alg": "none", "typ": "JWT"}), &base, false),
        ),
        (
            "alg none, signed",
            forge.with_header(&json!({"alg": "none", "typ": "JWT"}), &base, true),
        ),
        (
            "alg RS256 with an HMAC signature",
            forge.with_header(&json!({"alg": "RS256", "typ": "JWT"}), &base, true),
        ),
        (
            "alg HS512",
            forge.with_header(&json!({"alg": "HS512", "typ": "JWT"}), &base, true),
        ),
        ("signature stripped", {
            let t = forge.hs256(&base);
            t[..t.rfind('.').expect("dot") + 1].to_string()
        }),
        ("garbage", "not.a.token".to_string()),
        ("empty segments", "..".to_string()),
    ];
    for (name, token) in cases {
        let reply = app.me(&token).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(reply.body["code"], "UNAUTHORIZED", "{name}");
        let reply = app.get("/api/v1/packs", Some(&token)).await;
        assert_eq!(reply.status, 401, "{name} on packs: {}", reply.body);
    }
}

#[tokio::test]
async fn a_token_of_a_deleted_user_is_refused() {
    let app = spawn_app().await;
    let hash = attune::auth::hash_password("bob-password-1").expect("hash");
    let bob = app.state.store.create_user("bob", &hash).expect("bob");
    let token = app
        .state
        .keys
        .issue(bob.id, "bob", bob.token_gen, TokenType::Access, 600)
        .expect("issue");
    assert_eq!(app.me(&token).await.status, 200);
    app.state.store.delete_user("bob").expect("delete");
    let reply = app.me(&token).await;
    reply.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_refresh_token_signed_by_us_but_expired_is_refused() {
    let app = spawn_app().await;
    let forge = Forge::of(&app.state);
    let claims = Claims {
        sub: forge.admin_id.to_string(),
        login: "admin".into(),
        typ: TokenType::Refresh,
        iat: now() - 100,
        nbf: now() - 100,
        exp: now() - 1,
        jti: "x".into(),
        r#gen: forge.token_gen,
        sid: None,
    };
    let token = app.state.keys.sign(&claims).expect("sign");
    app.refresh(&token).await.assert_error(401, "UNAUTHORIZED");
}

// ---------------------------------------------------------------------------
// Path traversal

const TRAVERSALS: &[&str] = &[
    "..",
    "..%2f..%2fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "..%252f..%252fsecret.txt",
    "..%5c..%5csecret.txt",
    "....%2f%2fsecret.txt",
    "%c0%ae%c0%ae%2fsecret.txt",
    "..%00",
    "%2fetc%2fpasswd",
    "secret.txt%00.yaml",
];

/// Every route with a path parameter, `{}` standing for it.
const PARAM_ROUTES: &[&str] = &[
    "/api/v1/packs/{}",
    "/api/v1/packs/{}/workflows",
    "/api/v1/packs/{}/workflows/sync",
    "/api/v1/packs/{}/workflows/validate",
    "/api/v1/workflows/{}",
    "/api/v1/workflows/core.{}",
    "/api/v1/runs/{}",
    "/ui/{}",
    "/ui/v1/{}",
    "/ui/{}/index.html",
];

#[tokio::test]
async fn traversal_in_every_path_parameter_is_refused_and_serves_no_file() {
    let app = spawn_app().await;
    let token = app.token().await;
    let marker = "TOP-SECRET-MARKER-7f3a";
    std::fs::create_dir_all(app.data_dir.path().join("packs/core")).expect("packs");
    std::fs::write(app.data_dir.path().join("secret.txt"), marker).expect("secret");
    std::fs::write(app.data_dir.path().join("packs/secret.txt"), marker).expect("secret");
    let address = app.address.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let mut checked = 0;
        for route in PARAM_ROUTES {
            for attack in TRAVERSALS {
                let path = route.replace("{}", attack);
                for method in ["GET", "POST", "PUT", "DELETE"] {
                    let req = format!(
                        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
                         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                    );
                    let reply = raw(&address, req.as_bytes());
                    assert!(
                        matches!(reply.status, 400 | 404 | 405),
                        "{method} {path}: {} {}",
                        reply.status,
                        reply.body
                    );
                    assert!(!reply.body.contains(marker), "{method} {path} leaked the file");
                    assert!(!reply.body.contains("root:"), "{method} {path} leaked passwd");
                    checked += 1;
                }
            }
        }
        checked
    })
    .await
    .expect("task");
    assert_eq!(checked, PARAM_ROUTES.len() * TRAVERSALS.len() * 4);
    // The server is still fine.
    assert_eq!(app.health().await.status, 200);
}

// ---------------------------------------------------------------------------
// Sizes

#[tokio::test]
async fn an_oversized_header_is_refused_with_431() {
    let app = spawn_app().await;
    let big = "a".repeat(64 * 1024);
    let reply = send(
        &app.address,
        format!(
            "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(reply.status, 431, "{}", reply.head);
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let reply = send(
        &app.address,
        format!("GET /health HTTP/1.1\r\nHost: localhost\r\n{many}Connection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(reply.status, 431, "{}", reply.head);
    let long_path = format!("/api/v1/packs/{}", "a".repeat(64 * 1024));
    let reply = send(
        &app.address,
        format!("GET {long_path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(reply.status, 431, "{}", reply.head);
    assert_eq!(app.health().await.status, 200);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413_declared_or_chunked() {
    let app = spawn_app().await;
    let token = app.token().await;
    let limit = attune::config::REQUEST_BODY_LIMIT;
    // Declared: refused from the Content-Length alone.
    let reply = send(
        &app.address,
        format!(
            "POST /api/v1/packs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
            limit + 1
        ),
    )
    .await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    // Streamed in chunks, without a length.
    let mut req =
        b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..=(limit / chunk.len()) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let reply = send(&app.address, req).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(app.health().await.status, 200);
}

// ---------------------------------------------------------------------------
// Slow clients

struct LimitedApp {
    address: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A server with short timeouts, so the test does not wait a minute.
async fn spawn_limited(limits: ServerLimits) -> LimitedApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        packs_base_dir: dir.path().join("packs"),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        ..Config::default()
    };
    let (state, _) = tokio::task::spawn_blocking(move || AppState::init(config))
        .await
        .expect("init task")
        .expect("init");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        attune::serve_with_limits(listener, state, limits, async {
            let _ = rx.await;
        })
        .await
        .expect("server");
    });
    LimitedApp {
        address,
        _dir: dir,
        _stop: tx,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_body_is_cut_off_and_others_are_served() {
    let app = spawn_limited(ServerLimits {
        request_timeout: Duration::from_secs(2),
        header_read_timeout: Duration::from_secs(2),
        ..ServerLimits::default()
    })
    .await;
    let address = app.address.clone();
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(host_port(&address)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        stream
            .write_all(
                b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                  Content-Length: 100000\r\n\r\n{",
            )
            .expect("head");
        let writer = stream.try_clone().expect("clone");
        // The attacker: one byte every 100 ms, for up to 100 s. The pacing
        // is the attack, not a wait for the server.
        let trickle = std::thread::spawn(move || {
            let mut writer = writer;
            for _ in 0..1000 {
                if writer.write_all(b" ").is_err() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            false
        });
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let cut = trickle.join().expect("trickle");
        (parse_reply(&bytes), cut)
    });
    // Meanwhile the server answers others.
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let res = client
            .get(format!("{}/health", app.address))
            .send()
            .await
            .expect("health");
        assert_eq!(res.status(), 200);
    }
    let (reply, cut) = tokio::task::spawn_blocking(move || slow.join().expect("slow"))
        .await
        .expect("task");
    assert_eq!(reply.status, 408, "{} {}", reply.head, reply.body);
    assert!(reply.body.contains("REQUEST_TIMEOUT"), "{}", reply.body);
    assert!(cut, "the connection stayed open for the trickling client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_limited(ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    })
    .await;
    let address = app.address.clone();
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(host_port(&address)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: local")
            .expect("partial head");
        let mut bytes = Vec::new();
        // Ok(_) means the server closed the connection; a read timeout
        // (60 s) would be an error.
        stream.read_to_end(&mut bytes).is_ok()
    })
    .await
    .expect("task");
    assert!(closed, "the server kept a half-sent request head open");
    let res = reqwest::get(format!("{}/health", app.address))
        .await
        .expect("health");
    assert_eq!(res.status(), 200);
}

// ---------------------------------------------------------------------------
// CORS and security headers

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let token = app.token().await;
    let preflight = send(
        &app.address,
        "OPTIONS /api/v1/packs HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\n\
         Connection: close\r\n\r\n",
    )
    .await;
    assert!(
        !(200..300).contains(&preflight.status),
        "preflight honoured: {}",
        preflight.head
    );
    for path in ["/health", "/api/v1/packs", "/auth/me", "/", "/nope"] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&token)
            .header("origin", "https://evil.example")
            .send()
            .await
            .expect("request");
        for h in res.headers().keys() {
            assert!(
                !h.as_str().starts_with("access-control-"),
                "{path} answered {h}"
            );
        }
    }
    assert!(preflight.header("access-control-allow-origin").is_none());
}

fn assert_security_headers(what: &str, get: impl Fn(&str) -> Option<String>) {
    assert_eq!(
        get("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(get("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert_eq!(
        get("referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    let csp = get("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src"), "{what}: csp {csp:?}");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut cases: Vec<(String, RawReply)> = Vec::new();
    let get = |path: &str, auth: bool| {
        let auth = if auth {
            format!("Authorization: Bearer {token}\r\n")
        } else {
            String::new()
        };
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
    };
    for (path, auth) in [
        ("/health", false),
        ("/api/openapi.json", false),
        ("/api/v1/packs", true),
        ("/api/v1/packs", false),
        ("/api/v1/packs/nope", true),
        ("/api/v1/packs/..", true),
        ("/no/such/route", false),
        ("/", false),
        ("/ui/no-such-asset.js", false),
    ] {
        cases.push((
            format!("GET {path}"),
            send(&app.address, get(path, auth)).await,
        ));
    }
    cases.push((
        "DELETE /health (405)".into(),
        send(
            &app.address,
            "DELETE /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await,
    ));
    cases.push((
        "413".into(),
        send(
            &app.address,
            format!(
                "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                attune::config::REQUEST_BODY_LIMIT + 1
            ),
        )
        .await,
    ));
    cases.push((
        "400 malformed json".into(),
        send(
            &app.address,
            "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 1\r\nConnection: close\r\n\r\n{",
        )
        .await,
    ));
    for i in 0..7 {
        let body = format!("{{\"login\":\"admin\",\"password\":\"bad-{i:03}\"}}");
        let reply = send(
            &app.address,
            format!(
                "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await;
        cases.push((format!("login failure {i} ({})", reply.status), reply));
    }
    assert_eq!(cases.last().map(|c| c.1.status), Some(429));
    for (what, reply) in &cases {
        assert_security_headers(&format!("{what}: {}", reply.status), |h| reply.header(h));
    }
}
