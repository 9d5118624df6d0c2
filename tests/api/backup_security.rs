//! Backups are not credentials: the signing secret stays out of them, only
//! admins take them, and stalled downloads are capped and cut off.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::helpers::{TestApp, attune_command, run_to_end, spawn_app, spawn_app_configured};

async fn download_backup(app: &TestApp, token: &str) -> Vec<u8> {
    let res = app
        .client
        .get(app.url("/api/v1/admin/backup"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    res.bytes().await.expect("body").to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The attack: take a backup, put it in a data dir of one's own,
/// mint an admin token there with `attune token`, use it on the live server.
#[tokio::test]
async fn a_token_minted_from_a_backup_is_refused_by_the_live_server() {
    let app = spawn_app().await;
    let admin = app.token().await;
    let bytes = download_backup(&app, &admin).await;
    let store = app.state.store.clone();
    let live_secret = tokio::task::spawn_blocking(move || store.jwt_secret_or_insert(vec![0; 32]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live_secret.len(), 32);
    assert!(
        !contains(&bytes, &live_secret),
        "the signing secret is in the backup"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("attune.redb"), &bytes).unwrap();
    let mut cmd = attune_command();
    cmd.args(["token", "--user", "admin", "--ttl", "365d"])
        .env("ATTUNE__DATA_DIR", dir.path());
    let (code, stdout, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(0), "{stderr}");
    let forged = stdout.trim();
    assert!(forged.len() > 20, "{stdout}");
    let reply = app.me(forged).await;
    reply.assert_error(401, "UNAUTHORIZED");
    assert!(
        reply.body["error"].as_str().unwrap().contains("signature"),
        "{}",
        reply.body
    );
    // the live admin token still works
    assert_eq!(app.me(&admin).await.status, 200);
}

#[tokio::test]
async fn only_admins_take_backups() {
    let app = spawn_app().await;
    for role in ["viewer", "operator"] {
        let token = app.token_as(role).await;
        let reply = app.get("/api/v1/admin/backup", Some(&token)).await;
        reply.assert_error(403, "FORBIDDEN");
        assert!(reply.body["error"].as_str().unwrap().contains("'admin'"));
    }
}

/// Open file descriptors of this process (the in-process server) on online
/// backup copies (unlinked files named `.attune-online-backup…`).
fn open_backup_copies() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter(|target| target.to_string_lossy().contains(".attune-online-backup"))
                .count()
        })
        .unwrap_or(0)
}

/// Sends a backup request on a raw connection and reads only the status
/// line: the client then stalls.
fn stalled_backup(address: &str, token: &str) -> (std::net::TcpStream, String) {
    let host = address.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(host).expect("connect");
    write!(
        conn,
        "GET /api/v1/admin/backup HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("send");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).expect("status line");
    (conn, String::from_utf8_lossy(&head).to_string())
}

#[tokio::test]
async fn stalled_backup_downloads_are_capped_and_their_copies_removed() {
    let app = spawn_app_configured(|c| {
        c.backup.max_concurrent = 1;
        c.backup.write_timeout = 1;
    })
    .await;
    let admin = app.token().await;
    // a database much larger than the socket buffers (~24 MiB)
    let store = app.state.store.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..8 {
            store
                .create_pack(attune::store::NewPack {
                    pack_ref: format!("big{i}"),
                    label: "big".into(),
                    description: None,
                    version: "1.0.0".into(),
                    conf_schema: serde_json::json!({}),
                    config: serde_json::json!({}),
                    meta: serde_json::json!({"blob": "x".repeat(3 << 20)}),
                    tags: vec![],
                    runtime_deps: vec![],
                    is_standard: false,
                })
                .expect("pack");
        }
    })
    .await
    .unwrap();

    let address = app.address.clone();
    let token = admin.clone();
    let conns = tokio::task::spawn_blocking(move || {
        (0..10)
            .map(|_| stalled_backup(&address, &token))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let statuses: Vec<&str> = conns.iter().map(|(_, s)| &s[9..12]).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "200").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == "429").count(),
        9,
        "{statuses:?}"
    );
    assert!(open_backup_copies() <= 1);

    // the stalled download is cut off and its copy freed, within a bound
    let deadline = Instant::now() + Duration::from_secs(30);
    while open_backup_copies() > 0 {
        assert!(
            Instant::now() < deadline,
            "the stalled backup copy is still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the slot is free again: a client that reads gets the whole file
    let res = app
        .client
        .get(app.url("/api/v1/admin/backup"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let declared: usize = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = res.bytes().await.unwrap();
    assert_eq!(body.len(), declared);
    assert!(declared > 20 << 20, "{declared}");
    drop(conns);
}
