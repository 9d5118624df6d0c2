//! Pack folders on disk and calls of the pack-workflow, workflow and run
//! endpoints, shared by the sync, validate, workflows, runs, hostile-file
//! and concurrency tests.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, pack_body};

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
