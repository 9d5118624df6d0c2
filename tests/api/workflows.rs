//! `/api/v1/workflows…`: list with filters, create (201/422/404/409), get
//! with source and diagnostics, update (enabled, yaml), delete, validation of
//! a text, ref checks; the workflow JSON Schema and the OpenAPI document.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::helpers::{SEED_BROKEN, good_workflow, warning_workflow};

#[tokio::test]
async fn workflows_are_listed_with_filters_and_pages() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow(
        "alpha",
        "deploy.yaml",
        "label: \"Deploy Web\"\ndescription: \"Ships the APP\"\nversion: \"1.0.0\"\ntags: [prod, web]\ntasks:\n  - name: s\n    action: core.noop\n",
    );
    app.write_workflow(
        "alpha",
        "backup.yaml",
        "label: \"Backup\"\ndescription: \"nightly\"\nversion: \"1.0.0\"\ntags: [prod]\ntasks:\n  - name: s\n    action: core.noop\n",
    );
    app.write_workflow("beta", "other.yaml", &good_workflow("Other"));
    app.new_pack(&token, "alpha").await;
    app.new_pack(&token, "beta").await;
    app.put_json(
        "/api/v1/workflows/alpha.backup",
        &token,
        &json!({"enabled": false}),
    )
    .await;

    let refs = |reply: &crate::helpers::Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|w| w["ref"].as_str().expect("ref").to_string())
            .collect()
    };
    let all = app.get("/api/v1/workflows", Some(&token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["meta"]["total"], 3);
    assert!(
        all.body["data"][0].get("source").is_none(),
        "lists carry no source"
    );
    let prod = app.get("/api/v1/workflows?tags=prod", Some(&token)).await;
    assert_eq!(refs(&prod).len(), 2);
    let both = app
        .get("/api/v1/workflows?tags=prod,web", Some(&token))
        .await;
    assert_eq!(refs(&both), ["alpha.deploy"]);
    let enabled = app
        .get("/api/v1/workflows?enabled=false", Some(&token))
        .await;
    assert_eq!(refs(&enabled), ["alpha.backup"]);
    let search = app
        .get("/api/v1/workflows?search=the%20app", Some(&token))
        .await;
    assert_eq!(refs(&search), ["alpha.deploy"]);
    let search = app
        .get("/api/v1/workflows?search=NIGHT", Some(&token))
        .await;
    assert_eq!(refs(&search), ["alpha.backup"]);
    let by_pack = app
        .get("/api/v1/workflows?pack_ref=beta", Some(&token))
        .await;
    assert_eq!(refs(&by_pack), ["beta.other"]);
    let page = app
        .get(
            "/api/v1/workflows?pack_ref=alpha&per_page=1&page=2",
            Some(&token),
        )
        .await;
    assert_eq!(refs(&page), ["alpha.deploy"]);
    assert_eq!(
        page.body["meta"],
        json!({"page": 2, "per_page": 1, "total": 2, "total_pages": 2})
    );
    let pack_list = app.get("/api/v1/packs/alpha/workflows", Some(&token)).await;
    assert_eq!(refs(&pack_list), ["alpha.backup", "alpha.deploy"]);
    app.get("/api/v1/workflows?per_page=101", Some(&token))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.get("/api/v1/workflows?pack_ref=..", Some(&token))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.get("/api/v1/packs/nope/workflows", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/v1/workflows", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn workflow_lists_walk_by_cursor_and_filter_stale_workflows_and_refs() {
    let app = spawn_app().await;
    let token = app.token().await;
    for i in 0..7 {
        app.write_workflow(
            "alpha",
            &format!("w{i}.yaml"),
            &good_workflow(&format!("A {i}")),
        );
    }
    app.write_workflow("beta", "b.yaml", &good_workflow("B"));
    app.new_pack(&token, "alpha").await;
    app.new_pack(&token, "beta").await;
    // alpha.w3 breaks: the sync keeps its last good version, stale
    app.write_workflow("alpha", "w3.yaml", SEED_BROKEN);
    let synced = app.sync(&token, "alpha", "").await;
    assert_eq!(synced.status, 200, "{}", synced.body);

    let refs = |reply: &crate::helpers::Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|w| w["ref"].as_str().expect("ref").to_string())
            .collect()
    };
    let walk = |first: String| {
        let app = &app;
        let token = &token;
        async move {
            let mut seen = Vec::new();
            let mut path = first.clone();
            let mut pages = Vec::new();
            loop {
                let reply = app.get(&path, Some(token)).await;
                seen.extend(refs(&reply));
                pages.push(reply.body["meta"]["page"].as_u64().expect("page"));
                let total = reply.body["meta"]["total"].clone();
                match reply.body["meta"]["next_cursor"].as_str() {
                    Some(c) => path = format!("{first}&cursor={c}"),
                    None => return (seen, pages, total),
                }
            }
        }
    };
    // across packs, by id; the same as one big page
    let (seen, pages, total) = walk("/api/v1/workflows?per_page=3".into()).await;
    let all = app
        .get("/api/v1/workflows?per_page=100", Some(&token))
        .await;
    assert_eq!(seen, refs(&all));
    assert_eq!((seen.len(), total), (8, json!(8)));
    assert_eq!(pages, [1, 2, 3], "cursor pages carry their number");
    // a pack's list, by name, also through /packs/{ref}/workflows
    let (seen, _, _) = walk("/api/v1/workflows?pack_ref=alpha&per_page=2".into()).await;
    let names: Vec<String> = (0..7).map(|i| format!("alpha.w{i}")).collect();
    assert_eq!(seen, names);
    let (seen, _, _) = walk("/api/v1/packs/alpha/workflows?per_page=4".into()).await;
    assert_eq!(seen, names);
    // filters keep the cursor's promise
    let (seen, _, total) =
        walk("/api/v1/workflows?stale=false&enabled=true&per_page=2".into()).await;
    assert_eq!(seen.len(), 7);
    assert!(!seen.contains(&"alpha.w3".to_string()));
    assert_eq!(total, json!(7));
    let stale = app.get("/api/v1/workflows?stale=true", Some(&token)).await;
    assert_eq!(refs(&stale), ["alpha.w3"]);
    // search covers the ref as well as label and description
    let by_ref = app
        .get("/api/v1/workflows?search=BETA.b", Some(&token))
        .await;
    assert_eq!(refs(&by_ref), ["beta.b"]);

    // a first page shows the cursor of the second
    let first = app.get("/api/v1/workflows?per_page=5", Some(&token)).await;
    let cursor = first.body["meta"]["next_cursor"].as_str().expect("cursor");
    for bad in [
        format!("/api/v1/workflows?cursor={cursor}&page=2"),
        format!("/api/v1/workflows?cursor={cursor}&pack_ref=alpha"),
        "/api/v1/workflows?cursor=nonsense".into(),
        "/api/v1/workflows?cursor=1.i3".into(),
        "/api/v1/workflows?cursor=2.n..%2F".into(),
        "/api/v1/workflows?cursor=99999999999999999999999.i1".into(),
        format!("/api/v1/workflows?cursor=2.i{}", "9".repeat(400)),
        format!("/api/v1/workflows?cursor={cursor}&per_page=0"),
    ] {
        app.get(&bad, Some(&token))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    // a cursor past the end is an empty last page, not an error
    let past = app
        .get(
            &format!("/api/v1/workflows?cursor=9.i{}", u64::MAX),
            Some(&token),
        )
        .await;
    assert_eq!(refs(&past), Vec::<String>::new());
    assert_eq!(past.body["meta"]["total"], 8);
    assert!(past.body["meta"].get("next_cursor").is_none());
}

#[tokio::test]
async fn a_workflow_is_created_through_the_api_and_checked_like_a_file() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "p").await;
    let body = json!({"pack_ref": "p", "name": "made", "yaml": warning_workflow()});
    let created = app.post("/api/v1/workflows", Some(&token), &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let data = &created.body["data"];
    assert_eq!(data["ref"], "p.made");
    assert_eq!(data["source"], warning_workflow());
    assert_eq!(data["source_file"], "");
    assert_eq!(data["diagnostics"][0]["code"], "version-not-semver");
    assert_eq!(data["warnings"].as_array().map(Vec::len), Some(1));

    app.post("/api/v1/workflows", Some(&token), &body)
        .await
        .assert_error(409, "CONFLICT");
    app.post(
        "/api/v1/workflows",
        Some(&token),
        &json!({"pack_ref": "nope", "name": "x", "yaml": good_workflow("X")}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    app.post(
        "/api/v1/workflows",
        Some(&token),
        &json!({"pack_ref": "p", "name": "a.b", "yaml": good_workflow("X")}),
    )
    .await
    .assert_error(400, "BAD_REQUEST");

    let bad = app
        .post(
            "/api/v1/workflows",
            Some(&token),
            &json!({"pack_ref": "p", "name": "broken", "yaml": SEED_BROKEN}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["code"], "VALIDATION_FAILED");
    let codes: Vec<&str> = bad.body["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["missing-field", "unknown-pack"]);
    assert_eq!(bad.body["diagnostics"][1]["line"], 4);
    assert_eq!(app.workflow(&token, "p.broken").await.status, 404);

    // A sync of the pack neither reports nor prunes API-made workflows.
    let sync = app.sync(&token, "p", "?prune=true").await;
    assert_eq!(sync.body["data"]["missing"], json!([]));
    assert_eq!(app.workflow(&token, "p.made").await.status, 200);
}

#[tokio::test]
async fn a_workflow_is_fetched_updated_and_deleted() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("p", "w.yaml", &warning_workflow());
    app.new_pack(&token, "p").await;
    let got = app.workflow(&token, "p.w").await;
    assert_eq!(got.status, 200, "{}", got.body);
    let id = got.body["data"]["id"].clone();
    for field in DETAIL_KEYS {
        assert!(got.body["data"].get(field).is_some(), "missing {field}");
    }
    assert_eq!(
        got.body["data"]["diagnostics"][0]["snippet"]["lines"][1],
        "version: \"one\""
    );

    let put = app
        .put_json(
            "/api/v1/workflows/p.w",
            &token,
            &json!({"yaml": good_workflow("Replaced"), "enabled": false}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["data"]["id"], id);
    assert_eq!(put.body["data"]["label"], "Replaced");
    assert_eq!(put.body["data"]["enabled"], false);
    assert_eq!(put.body["data"]["diagnostics"], json!([]));

    let bad = app
        .put_json(
            "/api/v1/workflows/p.w",
            &token,
            &json!({"yaml": SEED_BROKEN}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        app.workflow(&token, "p.w").await.body["data"]["label"],
        "Replaced"
    );
    app.put_json("/api/v1/workflows/p.w", &token, &json!({"colour": 1}))
        .await
        .assert_error(400, "BAD_REQUEST");
    app.put_json(
        "/api/v1/workflows/p.nope",
        &token,
        &json!({"enabled": true}),
    )
    .await
    .assert_error(404, "NOT_FOUND");

    let deleted = app.delete_path("/api/v1/workflows/p.w", &token).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(app.workflow(&token, "p.w").await.status, 404);
    app.delete_path("/api/v1/workflows/p.w", &token)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn workflow_refs_in_paths_are_checked_before_any_lookup() {
    let app = spawn_app().await;
    let token = app.token().await;
    for bad in ["nodot", "..x.y", "p.a%20b", "p.", ".w", "a..b.c"] {
        app.get(&format!("/api/v1/workflows/{bad}"), Some(&token))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    // A pack ref with dots splits at the last dot.
    app.get("/api/v1/workflows/aws.ec2.deploy", Some(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/v1/runs/abc", Some(&token))
        .await
        .assert_error(400, "BAD_REQUEST");
    // The token is checked first: without a good one, a bad ref is a 401.
    for token in [None, Some("not-a-token")] {
        for path in ["/api/v1/workflows/nodot", "/api/v1/workflows/p.w"] {
            app.get(path, token).await.assert_error(401, "UNAUTHORIZED");
        }
    }
}

#[tokio::test]
async fn a_yaml_text_is_validated_without_storing_anything() {
    let app = spawn_app().await;
    let token = app.token().await;
    let ok = app
        .post(
            "/api/v1/workflows/validate",
            Some(&token),
            &json!({"pack_ref": "anything", "name": "w", "yaml": good_workflow("W")}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["valid"], true);
    assert_eq!(ok.body["data"]["diagnostics"], json!([]));
    assert_eq!(ok.body["data"]["workflow"]["tasks"][0]["name"], "start");

    let bad = app
        .post(
            "/api/v1/workflows/validate",
            Some(&token),
            &json!({"pack_ref": "my_pack", "name": "broken", "yaml": SEED_BROKEN}),
        )
        .await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    assert_eq!(bad.body["data"]["valid"], false);
    assert_eq!(bad.body["data"]["workflow"], json!(null));
    let d = &bad.body["data"]["diagnostics"][1];
    assert_eq!(
        d["message"],
        "Task 'step1' references undefined action 'invalid.action'"
    );
    assert_eq!(d["ref"], "my_pack.broken");
    assert_eq!(d["snippet"]["start_line"], 2);
    assert_eq!(
        app.get("/api/v1/workflows", Some(&token)).await.body["meta"]["total"],
        0
    );
    app.post(
        "/api/v1/workflows/validate",
        Some(&token),
        &json!({"yaml": "x"}),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn the_workflow_schema_and_the_openapi_document_are_served() {
    let app = spawn_app().await;
    let token = app.token().await;
    let schema = app.get("/api/v1/schema/workflow.json", Some(&token)).await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.body, attune::workflow::schema::workflow_schema());
    app.get("/api/v1/schema/workflow.json", None)
        .await
        .assert_error(401, "UNAUTHORIZED");

    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert!(
        doc.body["openapi"]
            .as_str()
            .expect("openapi")
            .starts_with("3.")
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/health", "get"),
        ("/auth/login", "post"),
        ("/auth/refresh", "post"),
        ("/auth/me", "get"),
        ("/auth/change-password", "post"),
        ("/api/v1/packs", "get"),
        ("/api/v1/packs", "post"),
        ("/api/v1/packs/{ref}", "get"),
        ("/api/v1/packs/{ref}", "put"),
        ("/api/v1/packs/{ref}", "delete"),
        ("/api/v1/packs/{ref}/workflows", "get"),
        ("/api/v1/packs/{ref}/workflows/sync", "post"),
        ("/api/v1/packs/{ref}/workflows/validate", "post"),
        ("/api/v1/workflows", "get"),
        ("/api/v1/workflows", "post"),
        ("/api/v1/workflows/validate", "post"),
        ("/api/v1/workflows/{ref}", "get"),
        ("/api/v1/workflows/{ref}", "put"),
        ("/api/v1/workflows/{ref}", "delete"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs/{id}", "get"),
        ("/api/v1/schema/workflow.json", "get"),
        ("/api/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let schemas = doc.body["components"]["schemas"]
        .as_object()
        .expect("schemas");
    for name in [
        "SyncReport",
        "ValidateReport",
        "Diagnostic",
        "WorkflowView",
        "RunView",
        "PackView",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let sync_fields = &schemas["SyncReport"]["properties"];
    for f in [
        "pack_ref",
        "loaded_count",
        "registered_count",
        "workflows",
        "errors",
    ] {
        assert!(sync_fields.get(f).is_some(), "SyncReport.{f} missing");
    }
}

/// The fields of a workflow in the order the API has always written them
/// (`action_file` since the record learned it; the rest unchanged).
const DETAIL_KEYS: [&str; 21] = [
    "id",
    "ref",
    "pack_ref",
    "name",
    "label",
    "description",
    "version",
    "param_schema",
    "out_schema",
    "definition",
    "tags",
    "enabled",
    "stale",
    "source_file",
    "action_file",
    "content_hash",
    "warnings",
    "created",
    "updated",
    "source",
    "diagnostics",
];

const SHAPED: &str = r#"label: "Shaped"
description: "unicode é ✓, \"quotes\" and a \\ backslash"
version: "one"
tags: [web, prod]
parameters:
  message: {type: string, required: true, description: "Message"}
  count: {type: integer, default: 3}
output:
  type: object
  properties:
    ratio: {type: number, default: 1.5e-3}
tasks:
  - name: start
    action: core.echo
    input:
      message: "{{ parameters.message }} – ünïcode"
      ratio: 0.1
      big: 12345678901234567890
"#;

/// The stored JSON fields are spliced into answers as text: the body is
/// byte for byte what printing its own parsed tree gives (which is what
/// the API wrote when it parsed the stored text and printed it again),
/// with the keys in the documented order and the stored values.
#[tokio::test]
async fn a_workflow_is_served_byte_for_byte_as_its_parsed_form() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.write_workflow("p", "shaped.yaml", SHAPED);
    app.new_pack(&token, "p").await;
    let rec = app
        .state
        .store
        .get_workflow("p.shaped")
        .unwrap()
        .expect("synced on create");
    let client = reqwest::Client::new();
    for path in [
        "/api/v1/workflows/p.shaped",
        "/api/v1/workflows?per_page=100",
        "/api/v1/packs/p/workflows",
    ] {
        let res = client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "application/json", "{path}");
        let text = res.text().await.unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text, "{path}");
        let data = if parsed["data"].is_array() {
            parsed["data"][0].clone()
        } else {
            parsed["data"].clone()
        };
        let keys: Vec<&str> = data
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: &[&str] = if path.ends_with("p.shaped") {
            &DETAIL_KEYS
        } else {
            &DETAIL_KEYS[..19]
        };
        assert_eq!(keys, expected, "{path}");
        for (field, stored) in [
            ("param_schema", &rec.param_schema),
            ("out_schema", &rec.out_schema),
            ("definition", &rec.definition),
        ] {
            let stored: serde_json::Value = stored.parse().unwrap();
            assert_eq!(data[field], stored, "{path} {field}");
            assert!(!stored.is_null(), "{field} is set in this workflow");
        }
        assert_eq!(data["tags"], json!(["web", "prod"]), "{path}");
    }
    let detail = app.workflow(&token, "p.shaped").await;
    assert_eq!(detail.body["data"]["source"], SHAPED);
    assert_eq!(
        detail.body["data"]["diagnostics"][0]["code"], "version-not-semver",
        "{}",
        detail.body
    );
    // numbers come back as the definition holds them (a u64 past i64 as
    // the YAML layer reads it), printed as before
    assert!(
        detail.body["data"]["definition"]["tasks"][0]["input"]["big"].is_number(),
        "{}",
        detail.body
    );
}
