//! `GET /metrics`: off by default, behind its own token when set, and the
//! OpenMetrics text checked by a real parser (`promtool check metrics`,
//! from Debian's `prometheus` package) with the expected series after a
//! sync.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{SEED_BROKEN, good_workflow};
use crate::helpers::{spawn_app, spawn_app_configured};

const TOKEN: &str = "scrape-token-0123456789";

/// `promtool check metrics` on the text: its exit status and output.
fn promtool(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (apt-get install prometheus) must be installed to run this test");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool output");
    let mut msg = String::from_utf8_lossy(&out.stdout).into_owned();
    msg.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), msg)
}

/// The value of the sample whose line starts with `series` (name and
/// labels exactly as written).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l[series.len()..].trim().split(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    app.get("/metrics", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn metrics_need_their_token_and_parse_with_promtool_after_a_sync() {
    let app = spawn_app_configured(|c| {
        c.metrics.enabled = true;
        c.metrics.token = Some(attune::config::Secret::new(TOKEN));
    })
    .await;
    let token = app.token().await;
    // A refused login, then a pack with one good and one broken workflow.
    assert_eq!(app.login_with("admin", "wrong-password").await.status, 401);
    app.write_workflow("p", "good.yaml", &good_workflow("Good"));
    app.write_workflow("p", "bad.yaml", SEED_BROKEN);
    app.new_pack(&token, "p").await;
    app.sync(&token, "p", "").await;

    // No token, a user's access token, a wrong one: 401.
    app.get("/metrics", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.get("/metrics", Some(&token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.get("/metrics", Some("scrape-token-0123456780"))
        .await
        .assert_error(401, "UNAUTHORIZED");

    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text().await.expect("body");
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );

    // promtool 2.x parses with the classic text parser and lints with the
    // classic conventions: an OpenMetrics counter family `x` (HELP and
    // TYPE on `x`, samples `x_total`) is reported as "x_total no help
    // text". That one remark is expected, for counters whose HELP is
    // there; a parse error or any other problem fails.
    let (ok, msg) = promtool(&text);
    let problems: Vec<&str> = msg
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            let expected = l.strip_suffix("_total no help text").is_some_and(|family| {
                text.contains(&format!("# HELP {family} "))
                    && text.contains(&format!("# TYPE {family} counter\n"))
            });
            !expected
        })
        .collect();
    assert!(
        problems.is_empty() && (ok || !msg.is_empty()),
        "promtool check metrics: {problems:?}\n{text}"
    );

    let expect = |series: &str, want: f64| {
        assert_eq!(value(&text, series), Some(want), "{series} in\n{text}");
    };
    expect(
        r#"attune_runs_total{kind="sync",trigger="auto",outcome="failed"}"#,
        1.0,
    );
    expect(
        r#"attune_runs_total{kind="sync",trigger="api",outcome="failed"}"#,
        1.0,
    );
    expect(
        r#"attune_run_duration_seconds_count{kind="sync",trigger="api"}"#,
        1.0,
    );
    expect(r#"attune_workflows{state="registered"}"#, 1.0);
    expect(r#"attune_workflows{state="stale"}"#, 0.0);
    expect(r#"attune_workflows{state="disabled"}"#, 0.0);
    expect(
        r#"attune_diagnostics{code="unknown-pack",severity="error"}"#,
        1.0,
    );
    expect(
        r#"attune_http_requests_total{method="POST",route="/api/v1/packs",status="201"}"#,
        1.0,
    );
    expect(
        r#"attune_http_requests_total{method="POST",route="/api/v1/packs/{ref}/workflows/sync",status="200"}"#,
        1.0,
    );
    expect("attune_login_failures_total", 1.0);
    expect("attune_login_throttled_total", 0.0);
    expect("attune_database_up", 1.0);
    expect(r#"attune_watch_mode{mode="off"}"#, 1.0);
    expect("attune_watch_queue_depth", 0.0);
    expect(
        &format!(
            r#"attune_build_info{{version="{}"}}"#,
            env!("CARGO_PKG_VERSION")
        ),
        1.0,
    );
    assert!(value(&text, "attune_database_size_bytes").unwrap() > 0.0);
    // No pack names or refs in any label.
    assert!(!text.contains("\"p\""), "a pack name leaked into a label");

    // The edit is fixed: the diagnostics series follows the last run.
    app.write_workflow("p", "bad.yaml", &good_workflow("Fixed"));
    app.sync(&token, "p", "").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        value(
            &text,
            r#"attune_diagnostics{code="unknown-pack",severity="error"}"#
        ),
        None
    );
    assert_eq!(
        value(&text, r#"attune_workflows{state="registered"}"#),
        Some(2.0)
    );
}
