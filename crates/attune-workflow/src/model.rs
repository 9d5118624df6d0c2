//! The validated workflow model: `Workflow` (normalized, what the store
//! keeps), the `SourceContext` a file is validated in, the `Validation`
//! result, and the name/ref syntax rules of docs/WORKFLOW_FORMAT.md ("Packs on disk").

use super::diagnostic::Diagnostic;
use serde::{Deserialize, Serialize};

/// Where a workflow text comes from.
#[derive(Debug, Clone, Copy)]
pub struct SourceContext<'a> {
    pub pack_ref: &'a str,
    /// The workflow name (file name without extension).
    pub name: &'a str,
    /// The file relative to `packs_base_dir`, for diagnostics.
    pub file: Option<&'a str>,
}

impl SourceContext<'_> {
    /// `{pack_ref}.{name}`.
    pub fn workflow_ref(&self) -> String {
        format!("{}.{}", self.pack_ref, self.name)
    }
}

/// A workflow that passed validation, normalized.
///
/// `param_schema` and `out_schema` are the workflow's `parameters` and
/// `output`, always in JSON-Schema form (`{type: object, properties,
/// required}`; the flat form is converted). `definition` is the whole
/// normalized document: `vars` as a mapping, every task with `type` and
/// `next` (legacy transitions folded in), `parameters`/`output` as written.
/// No `skip_serializing_if` here: other modules store it with postcard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub r#ref: String,
    pub pack_ref: String,
    pub name: String,
    /// Defaults to the name.
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    pub param_schema: Option<serde_json::Value>,
    pub out_schema: Option<serde_json::Value>,
    pub tags: Vec<String>,
    pub definition: serde_json::Value,
    /// Number of tasks, nested ones included.
    pub task_count: u32,
}

/// The outcome of validating one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validation {
    /// Some only when there is no error.
    pub workflow: Option<Workflow>,
    /// Sorted by line and column; suppressed ones removed.
    pub diagnostics: Vec<Diagnostic>,
    /// How many diagnostics suppression comments silenced.
    pub suppressed: usize,
}

impl Validation {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A workflow (or task, var) name: `^[A-Za-z0-9_-]+$`.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A pack ref: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`, no `..`, no trailing `.`.
pub fn is_valid_pack_ref(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
        && !s.contains("..")
        && !s.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pack_refs_follow_the_spec() {
        assert!(is_valid_name("deploy_app-2"));
        assert!(!is_valid_name("a.b"));
        assert!(!is_valid_name(""));
        assert!(is_valid_pack_ref("aws.ec2"));
        assert!(!is_valid_pack_ref("../etc"));
        assert!(!is_valid_pack_ref("a..b"));
        assert!(!is_valid_pack_ref("a."));
        assert!(!is_valid_pack_ref(".a"));
        assert!(!is_valid_pack_ref(&"a".repeat(129)));
    }

    #[test]
    fn workflow_round_trips_through_json() {
        let w = Workflow {
            r#ref: "p.w".into(),
            pack_ref: "p".into(),
            name: "w".into(),
            label: "w".into(),
            description: None,
            version: "1.0.0".into(),
            param_schema: Some(serde_json::json!({"type": "object"})),
            out_schema: None,
            tags: vec!["t".into()],
            definition: serde_json::json!({"tasks": []}),
            task_count: 0,
        };
        let j = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Workflow>(&j).unwrap(), w);
    }
}
