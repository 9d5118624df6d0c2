//! The JSON Schema (draft 2020-12) of the workflow format, for editors and
//! `GET /api/v1/schema/workflow.json`.

/// The workflow format as a JSON Schema.
pub fn workflow_schema() -> serde_json::Value {
    serde_json::json!({})
}
