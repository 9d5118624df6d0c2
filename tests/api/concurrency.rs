//! Two simultaneous syncs of one pack and one of another pack while reads go
//! on: the syncs of one pack serialize (the second finds everything
//! unchanged), nothing is duplicated, no request fails, and a reader never
//! sees a half-registered pack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::helpers::good_workflow;
use crate::helpers::{Reply, spawn_app};

const N: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_syncs_serialize_per_pack_and_readers_see_whole_states() {
    let app = Arc::new(spawn_app().await);
    let token = app.token().await;
    app.new_pack(&token, "one").await;
    app.new_pack(&token, "two").await;
    for i in 0..N {
        app.write_workflow(
            "one",
            &format!("w{i:04}.yaml"),
            &good_workflow(&format!("one {i}")),
        );
        app.write_workflow(
            "two",
            &format!("w{i:04}.yaml"),
            &good_workflow(&format!("two {i}")),
        );
    }

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let app = app.clone();
        let token = token.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut reads = 0u32;
            let mut totals = Vec::new();
            // At least a few reads, then until the syncs are over.
            while reads < 5 || !done.load(Ordering::SeqCst) {
                let list = app
                    .get("/api/v1/workflows?pack_ref=one&per_page=1", Some(&token))
                    .await;
                assert_eq!(list.status, 200, "{}", list.body);
                totals.push(list.body["meta"]["total"].as_u64().expect("total"));
                let health = app.health().await;
                assert_eq!(health.status, 200);
                reads += 1;
            }
            totals
        })
    };

    let (a, b, c) = tokio::join!(
        app.sync(&token, "one", ""),
        app.sync(&token, "one", ""),
        app.sync(&token, "two", ""),
    );
    done.store(true, Ordering::SeqCst);
    let totals = reader.await.expect("reader");

    for r in [&a, &b, &c] {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["data"]["errors"], serde_json::json!([]));
        assert_eq!(r.body["data"]["registered_count"], N);
    }
    let created = |r: &Reply| {
        r.body["data"]["workflows"]
            .as_array()
            .expect("workflows")
            .iter()
            .filter(|w| w["status"] == "created")
            .count()
    };
    let (first, second) = if created(&a) == N { (&a, &b) } else { (&b, &a) };
    assert_eq!(created(first), N, "one sync creates every workflow");
    assert_eq!(
        second.body["data"]["unchanged_count"], N,
        "the other ran after it and found everything unchanged"
    );
    assert_eq!(created(&c), N);
    assert!(
        totals.iter().all(|&t| t == 0 || t == N as u64),
        "a reader saw a partial sync: {totals:?}"
    );

    let mut ids = std::collections::HashSet::new();
    for pack in ["one", "two"] {
        let mut page = 1;
        loop {
            let list = app
                .get(
                    &format!("/api/v1/workflows?pack_ref={pack}&per_page=100&page={page}"),
                    Some(&token),
                )
                .await;
            let data = list.body["data"].as_array().expect("data");
            for w in data {
                assert!(
                    ids.insert(w["id"].as_u64().expect("id")),
                    "duplicate id {w}"
                );
            }
            if data.len() < 100 {
                break;
            }
            page += 1;
        }
    }
    assert_eq!(ids.len(), 2 * N, "no duplicates, nothing lost");
}

/// A client that gives up on a sync (or a request cut off at its deadline)
/// drops the request, not the sync: the sync runs to its end holding the
/// pack's lock, and the next sync of the pack starts only after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_whose_client_gives_up_keeps_the_pack_locked_until_it_ends() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "big").await;
    for i in 0..600 {
        app.write_workflow(
            "big",
            &format!("w{i:04}.yaml"),
            &good_workflow(&format!("big {i}")),
        );
    }
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(30))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(app.url("/api/v1/packs/big/workflows/sync"))
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client was meant to give up first");

    let second = app.sync(&token, "big", "").await;
    assert_eq!(second.status, 200, "{}", second.body);
    let runs = app.runs(&token, "?pack_ref=big").await;
    let runs = runs.body["data"].as_array().unwrap().clone();
    // Newest first: this request's sync, then the abandoned one (the
    // auto-sync of the pack's creation found no folder and recorded none).
    assert_eq!(runs.len(), 2, "{runs:?}");
    let at = |r: &serde_json::Value| {
        time::OffsetDateTime::parse(
            r["started"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let first_end =
        at(&runs[1]) + time::Duration::milliseconds(runs[1]["duration_ms"].as_i64().unwrap());
    assert_eq!(
        runs[1]["counts"]["created"], 600,
        "the abandoned sync finished: {}",
        runs[1]
    );
    assert!(
        at(&runs[0]) >= first_end - time::Duration::milliseconds(1),
        "the second sync started at {} before the first ended at {first_end}",
        runs[0]["started"]
    );
    assert_eq!(second.body["data"]["registered_count"], 600);
}
