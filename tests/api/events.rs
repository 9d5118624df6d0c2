//! `GET /api/v1/events` (server-sent events): tickets, the events a sync
//! and pack writes publish, and a slow subscriber dropped while others
//! keep receiving.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::good_workflow;
use crate::helpers::{TestApp, spawn_app, spawn_app_configured};

const DEADLINE: Duration = Duration::from_secs(30);

/// An open event stream read through reqwest.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

/// One SSE event: its name and parsed data.
#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

impl Stream {
    /// The next event (comments skipped), within the deadline.
    async fn next(&mut self) -> Option<Sse> {
        let start = Instant::now();
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue; // a comment (heartbeat)
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(Sse { event, data });
            }
            let left = DEADLINE.checked_sub(start.elapsed())?;
            match tokio::time::timeout(left, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// Skips events until one named `name` matches `pred`.
    async fn until(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let e = self
                .next()
                .await
                .unwrap_or_else(|| panic!("stream ended before a {name} event"));
            if e.event == name && pred(&e.data) {
                return e.data;
            }
        }
    }
}

async fn ticket(app: &TestApp, token: &str) -> String {
    let reply = app
        .post("/api/v1/events/ticket", Some(token), &json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["expires_in"], 30);
    reply.body["data"]["ticket"]
        .as_str()
        .expect("ticket")
        .to_string()
}

/// Opens the stream with a fresh ticket and waits for `ready`.
async fn open(app: &TestApp, token: &str) -> Stream {
    let t = ticket(app, token).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/events?ticket={t}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut s = Stream {
        res,
        buf: String::new(),
    };
    let first = s.next().await.expect("ready");
    assert_eq!(first.event, "ready");
    s
}

#[tokio::test]
async fn a_sync_and_pack_writes_arrive_as_events() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut stream = open(&app, &token).await;

    app.write_workflow("p", "one.yaml", &good_workflow("One"));
    app.new_pack(&token, "p").await;
    let created = stream.until("pack_created", |_| true).await;
    assert_eq!(created, json!({"kind": "pack_created", "pack_ref": "p"}));
    // The auto-sync after the create.
    let auto = stream
        .until("run_finished", |d| d["trigger"] == "auto")
        .await;
    assert_eq!(auto["pack_ref"], "p");
    assert_eq!(auto["counts"]["created"], 1);

    let reply = app.sync(&token, "p", "").await;
    let run = stream
        .until("run_finished", |d| d["trigger"] == "api")
        .await;
    assert_eq!(run["run_kind"], "sync");
    assert_eq!(run["run_id"], reply.body["data"]["run_id"]);
    assert_eq!(run["ok"], true);
    assert_eq!(run["counts"]["unchanged"], 1);

    app.validate(&token, "p").await;
    let v = stream.until("run_finished", |_| true).await;
    assert_eq!(v["run_kind"], "validate");

    // A dry run records nothing and announces nothing: the next event is
    // the delete.
    app.sync(&token, "p", "?dry_run=true").await;
    app.delete_pack(&token, "p").await;
    let next = stream.next().await.expect("an event");
    assert_eq!(next.event, "pack_deleted", "{next:?}");
}

#[tokio::test]
async fn without_a_valid_ticket_the_stream_answers_401() {
    let app = spawn_app().await;
    let token = app.token().await;
    // No ticket, no token.
    app.get("/api/v1/events", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    // A made-up ticket.
    app.get("/api/v1/events?ticket=0123abcd", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    // A ticket is good once.
    let t = ticket(&app, &token).await;
    let first = app
        .client
        .get(app.url(&format!("/api/v1/events?ticket={t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = app.get(&format!("/api/v1/events?ticket={t}"), None).await;
    again.assert_error(401, "UNAUTHORIZED");
    assert!(
        again.body["error"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/events/ticket")
    );
    // A ticket needs a token.
    app.post("/api/v1/events/ticket", None, &json!({}))
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.post("/api/v1/events/ticket", Some("not-a-token"), &json!({}))
        .await
        .assert_error(401, "UNAUTHORIZED");
    // The access token itself works in the header (curl), never needed in the URL.
    let res = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_ticket_of_another_server_is_refused() {
    // Tickets live in the memory of the server that issued them (their
    // 30 s expiry is unit-tested in src/api/events.rs).
    let a = spawn_app().await;
    let b = spawn_app_configured(|_| {}).await;
    let t = ticket(&a, &a.token().await).await;
    b.get(&format!("/api/v1/events?ticket={t}"), None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_slow_subscriber_is_dropped_while_others_keep_receiving() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut fast = open(&app, &token).await;

    // The slow one: a raw socket with a tiny receive buffer that reads
    // the response head and then nothing.
    let t = ticket(&app, &token).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(addr.parse().unwrap()).await.unwrap();
    slow.write_all(
        format!("GET /api/v1/events?ticket={t} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = vec![0u8; 512];
    let n = slow.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
    let start = Instant::now();
    while app.state.events.subscribers() != 2 {
        assert!(start.elapsed() < DEADLINE);
        tokio::task::yield_now().await;
    }

    // Publish in rounds; the fast client reads every round.
    let padding = "x".repeat(1000);
    let mut sent = 0u64;
    while app.state.events.subscribers() == 2 {
        assert!(
            start.elapsed() < DEADLINE && sent < 200_000,
            "slow subscriber never dropped after {sent} events"
        );
        for _ in 0..50 {
            app.state
                .events
                .publish(attune::events::Event::PackUpdated {
                    pack_ref: format!("p{sent}-{padding}"),
                });
            sent += 1;
        }
        let last = format!("p{}-{padding}", sent - 1);
        fast.until("pack_updated", |d| d["pack_ref"] == last.as_str())
            .await;
    }
    assert_eq!(app.state.events.subscribers(), 1);
    // The slow client's connection was closed: reading drains what was
    // buffered, then ends.
    let mut sink = vec![0u8; 65536];
    let drained = tokio::time::timeout(DEADLINE, async {
        loop {
            match slow.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "slow connection still open");
    // The fast one still receives.
    app.state
        .events
        .publish(attune::events::Event::DiscoveryChanged);
    let e = fast.until("discovery_changed", |_| true).await;
    assert_eq!(e["kind"], "discovery_changed");
}
