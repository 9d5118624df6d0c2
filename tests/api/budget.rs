//! The memory budget of validation work (`validation.*`): with the budget
//! full, validations, syncs, validation runs and uploads are answered 503
//! `BUSY` with `Retry-After` while `/health` and reads keep answering, and
//! the same requests pass once the budget frees. The budget is filled by
//! holding a reservation, so nothing here depends on timing.

use serde_json::json;

use crate::helpers::good_workflow;
use crate::helpers::spawn_app_configured;

#[tokio::test]
async fn a_full_budget_answers_503_busy_and_reads_go_on_until_it_frees() {
    let app = spawn_app_configured(|c| {
        c.validation.memory_budget_bytes = 8 * 1024 * 1024;
        c.validation.max_wait_ms = 0;
        c.metrics.enabled = true;
    })
    .await;
    let token = app.token().await;
    app.write_workflow("alpha", "w.yaml", &good_workflow("W"));
    app.new_pack(&token, "alpha").await;
    let validate = json!({"pack_ref": "alpha", "name": "t", "yaml": good_workflow("T")});

    let budget = app.state.work_budget.clone();
    let held = budget
        .admit(budget.budget_bytes(), attune::budget::Wait::Bounded)
        .await
        .expect("an idle budget admits");
    assert_eq!(budget.in_flight_bytes(), budget.budget_bytes());

    let busy = [
        app.post("/api/v1/workflows/validate", Some(&token), &validate)
            .await,
        app.post("/api/v1/workflows", Some(&token), &validate).await,
        app.sync(&token, "alpha", "").await,
        app.validate(&token, "alpha").await,
    ];
    for reply in &busy {
        reply.assert_error(503, "BUSY");
        assert_eq!(
            reply
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("1"),
            "{}",
            reply.body
        );
        let message = reply.body["error"].as_str().expect("message");
        assert!(
            message.contains("validation.memory_budget_bytes") && message.contains("retry"),
            "{message}"
        );
    }
    // no-budget paths answer meanwhile, and the metrics say why
    assert_eq!(app.health().await.status, 200);
    let metrics = scrape(&app).await;
    assert!(
        metrics.contains("attune_validation_in_flight_bytes 8388608"),
        "{metrics}"
    );
    assert!(
        metrics.contains("attune_validation_budget_bytes 8388608"),
        "{metrics}"
    );
    assert!(
        metrics.contains("attune_validation_refused_total 4"),
        "{metrics}"
    );
    let list = app.get("/api/v1/workflows", Some(&token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["meta"]["total"], 1);
    assert_eq!(app.workflow(&token, "alpha.w").await.status, 200);
    assert!(
        app.get("/api/v1/workflows/alpha.t", Some(&token))
            .await
            .status
            == 404,
        "the refused create wrote nothing"
    );

    drop(held);
    assert_eq!(budget.in_flight_bytes(), 0);
    let ok = app
        .post("/api/v1/workflows/validate", Some(&token), &validate)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["valid"], true);
    let synced = app.sync(&token, "alpha", "").await;
    assert_eq!(synced.status, 200, "{}", synced.body);
    assert_eq!(app.validate(&token, "alpha").await.status, 200);
    let created = app.post("/api/v1/workflows", Some(&token), &validate).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(budget.in_flight_bytes(), 0, "every reservation came back");
}

#[tokio::test]
async fn a_request_waiting_for_the_budget_is_admitted_when_it_frees() {
    let app = spawn_app_configured(|c| {
        c.validation.memory_budget_bytes = 8 * 1024 * 1024;
        c.validation.max_wait_ms = 600_000;
    })
    .await;
    let token = app.token().await;
    app.new_pack(&token, "alpha").await;
    let budget = app.state.work_budget.clone();
    let held = budget
        .admit(budget.budget_bytes(), attune::budget::Wait::Bounded)
        .await
        .expect("an idle budget admits");
    let body = json!({"pack_ref": "alpha", "name": "t", "yaml": good_workflow("T")});
    let waiting = app.post("/api/v1/workflows/validate", Some(&token), &body);
    let release = async {
        // /health answers while the validation waits
        assert_eq!(app.health().await.status, 200);
        drop(held);
    };
    let (reply, ()) = tokio::join!(waiting, release);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["valid"], true);
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    res.text().await.expect("metrics text")
}
