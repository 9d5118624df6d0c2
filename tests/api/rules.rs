//! The rules reference at `/docs/rules`: served offline without a login,
//! one anchor per code, and every diagnostic in an answer links to it.

use crate::helpers::SEED_BROKEN;
use crate::helpers::spawn_app;
use attune::workflow::Code;

#[tokio::test]
async fn the_rules_reference_is_served_without_a_login_with_an_anchor_per_code() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/docs/rules"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    let page = res.text().await.expect("body");
    for &c in Code::ALL {
        assert!(page.contains(&format!("id=\"{c}\"")), "{c} has no anchor");
    }
    // Its stylesheet is the UI's own, under the versioned asset path.
    assert!(!page.contains("__ASSET_BASE__"));
    let css = page
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/ui/") && href.ends_with("/app.css"))
        .expect("the page links the UI stylesheet");
    let css = app.client.get(app.url(css)).send().await.expect("css");
    assert_eq!(css.status(), 200);
}

#[tokio::test]
async fn every_diagnostic_of_a_validation_links_to_its_rule() {
    let app = spawn_app().await;
    let token = app.token().await;
    app.new_pack(&token, "my_pack").await;
    app.write_workflow("my_pack", "broken_workflow.yaml", SEED_BROKEN);
    let reply = app.validate(&token, "my_pack").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let diags = reply.body["data"]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    assert!(!diags.is_empty());
    for d in diags {
        let code = d["code"].as_str().expect("code");
        assert_eq!(d["help_uri"], format!("/docs/rules#{code}"), "{d}");
    }
}
