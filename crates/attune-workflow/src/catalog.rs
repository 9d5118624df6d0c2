//! The action catalog seen by the validator: the `ActionCatalog` trait, the
//! embedded built-in `core` actions, and the pure parser of action metadata
//! files (`actions/*.yaml`) shared with the on-disk loader in `src/pack/`.

use super::diagnostic::{Code, Diagnostic};
use super::yaml::{self, Limits, Node, NodeKind};
use std::collections::BTreeMap;

/// What an action ref resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ActionKind {
    /// An action file in a pack's `actions/`.
    Action,
    /// A workflow (registered, or found in the same sync).
    Workflow,
    /// A built-in `core` action.
    Builtin,
}

/// One declared parameter of an action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamInfo {
    pub name: String,
    pub required: bool,
    pub has_default: bool,
}

/// What the validator needs to know about an action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionInfo {
    pub kind: ActionKind,
    /// `None` when the parameters are unknown: input checks are skipped.
    pub parameters: Option<Vec<ParamInfo>>,
}

/// A read-only view of the actions and workflows a workflow may call.
pub trait ActionCatalog: Sync {
    /// The action or workflow named by `action_ref`, if any.
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo>;
    /// Every action and workflow ref of a pack (for did-you-mean hints).
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String>;
    /// Whether the pack is present at all (it may have no actions): tells
    /// `unknown-pack` from `undefined-action`.
    fn has_pack(&self, pack_ref: &str) -> bool {
        !self.refs_in_pack(pack_ref).is_empty()
    }
    /// Where packs are looked for, said in the `unknown-pack` hint.
    fn pack_sources(&self) -> String {
        "the packs folder".to_string()
    }
}

/// A catalog backed by a map from ref to info; the building block of the
/// other catalogs, and handy in tests.
#[derive(Debug, Clone, Default)]
pub struct MapCatalog {
    pub entries: BTreeMap<String, ActionInfo>,
}

impl MapCatalog {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&mut self, action_ref: impl Into<String>, info: ActionInfo) {
        self.entries.insert(action_ref.into(), info);
    }
}

impl ActionCatalog for MapCatalog {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.entries.get(action_ref).cloned()
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        self.entries
            .keys()
            .filter(|r| split_ref(r).is_some_and(|(p, _)| p == pack_ref))
            .cloned()
            .collect()
    }
}

/// Split a ref at its last dot: `aws.ec2.deploy` → (`aws.ec2`, `deploy`).
pub fn split_ref(r: &str) -> Option<(&str, &str)> {
    let (p, n) = r.rsplit_once('.')?;
    if p.is_empty() || n.is_empty() {
        None
    } else {
        Some((p, n))
    }
}

const BUILTIN_FILES: &[(&str, &str)] = &[
    ("echo", include_str!("builtin/echo.yaml")),
    ("noop", include_str!("builtin/noop.yaml")),
    ("sleep", include_str!("builtin/sleep.yaml")),
    ("http_request", include_str!("builtin/http_request.yaml")),
    ("ask", include_str!("builtin/ask.yaml")),
    (
        "register_packs",
        include_str!("builtin/register_packs.yaml"),
    ),
    (
        "download_packs",
        include_str!("builtin/download_packs.yaml"),
    ),
    (
        "build_pack_envs",
        include_str!("builtin/build_pack_envs.yaml"),
    ),
    (
        "get_pack_dependencies",
        include_str!("builtin/get_pack_dependencies.yaml"),
    ),
    (
        "run_agent_command",
        include_str!("builtin/run_agent_command.yaml"),
    ),
];

/// The embedded metadata files of the built-in `core` actions, as (action
/// name, YAML text): what the editor shows on hover.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN_FILES
}

/// The built-in `core` actions, embedded in the binary.
#[derive(Debug, Clone)]
pub struct BuiltinCatalog {
    inner: MapCatalog,
}

impl Default for BuiltinCatalog {
    fn default() -> Self {
        Self::new()
    }
}

impl BuiltinCatalog {
    pub fn new() -> Self {
        let mut inner = MapCatalog::new();
        for (name, text) in BUILTIN_FILES {
            let parameters = parse_action_metadata(text, name, "core")
                .ok()
                .and_then(|m| m.parameters);
            inner.insert(
                format!("core.{name}"),
                ActionInfo {
                    kind: ActionKind::Builtin,
                    parameters,
                },
            );
        }
        BuiltinCatalog { inner }
    }
    /// The refs of all built-in actions, sorted.
    pub fn refs(&self) -> Vec<String> {
        self.inner.entries.keys().cloned().collect()
    }
}

impl ActionCatalog for BuiltinCatalog {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.inner.lookup(action_ref)
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        self.inner.refs_in_pack(pack_ref)
    }
}

/// Several catalogs asked in order; the first that knows a ref wins.
#[derive(Default)]
pub struct LayeredCatalog<'a> {
    pub layers: Vec<&'a dyn ActionCatalog>,
}

impl<'a> LayeredCatalog<'a> {
    pub fn new(layers: Vec<&'a dyn ActionCatalog>) -> Self {
        LayeredCatalog { layers }
    }
}

impl ActionCatalog for LayeredCatalog<'_> {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.layers.iter().find_map(|c| c.lookup(action_ref))
    }
    fn has_pack(&self, pack_ref: &str) -> bool {
        self.layers.iter().any(|c| c.has_pack(pack_ref))
    }
    fn pack_sources(&self) -> String {
        // The first layer is the one that reads packs (the built-ins say
        // nothing useful).
        self.layers
            .first()
            .map(|c| c.pack_sources())
            .unwrap_or_else(|| "the packs folder".to_string())
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .layers
            .iter()
            .flat_map(|c| c.refs_in_pack(pack_ref))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The parts of an action metadata file the catalog uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMeta {
    /// `ref` from the file, or `{pack}.{name}`.
    pub r#ref: String,
    /// `None` when the file's `parameters` could not be understood.
    pub parameters: Option<Vec<ParamInfo>>,
    /// `workflow_file` (upstream's action-linked workflows: relative to
    /// the `actions/` folder) with the position of its value.
    pub workflow_file: Option<(String, yaml::Pos)>,
}

/// Parse an action metadata file. `file_stem` is the name used when the file
/// has no `ref`. Parameters may be in flat form (`{name: {type, required,
/// default}}`) or JSON-Schema form (`{type: object, properties, required}`).
pub fn parse_action_metadata(
    text: &str,
    file_stem: &str,
    pack_ref: &str,
) -> Result<ActionMeta, Box<Diagnostic>> {
    let root = yaml::parse_document(text, &Limits::default()).map_err(|e| {
        let code = match e.kind {
            yaml::YamlErrorKind::Syntax => Code::YamlSyntax,
            yaml::YamlErrorKind::Limits => Code::YamlLimits,
        };
        Box::new(Diagnostic::new(
            code,
            format!("action file is not usable: {}", e.message),
            e.pos.line,
            e.pos.column,
        ))
    })?;
    if root.as_map().is_none() {
        return Err(Box::new(
            Diagnostic::new(
                Code::NotAMapping,
                "action file is not usable: its document is not a mapping".to_string(),
                yaml::Lines::new(text).of(&root).line,
                yaml::Lines::new(text).of(&root).column,
            )
            .with_hint("an action file is a mapping with ref, parameters, …"),
        ));
    }
    let r#ref = match root.get("ref").and_then(Node::as_str) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => {
            let name = root
                .get("name")
                .and_then(Node::as_str)
                .filter(|n| !n.is_empty() && !n.contains('.'))
                .unwrap_or(file_stem);
            format!("{pack_ref}.{name}")
        }
    };
    let parameters = match root.get("parameters") {
        None => Some(Vec::new()),
        Some(p) if p.is_null() => Some(Vec::new()),
        Some(p) => params_from_node(p),
    };
    let workflow_file = root.get("workflow_file").and_then(|n| {
        n.as_str()
            .map(|s| (s.to_string(), yaml::Lines::new(text).of(n)))
    });
    Ok(ActionMeta {
        r#ref,
        parameters,
        workflow_file,
    })
}

/// True when a parameters mapping is in JSON-Schema form.
pub fn is_json_schema_form(node: &Node) -> bool {
    let Some(entries) = node.as_map() else {
        return false;
    };
    let props_is_map = node.get("properties").is_some_and(|p| p.as_map().is_some());
    let type_object = node.get("type").and_then(Node::as_str) == Some("object");
    if type_object {
        return true;
    }
    props_is_map
        && entries.iter().all(|e| {
            matches!(
                e.key_str(),
                Some(
                    "properties"
                        | "required"
                        | "additionalProperties"
                        | "description"
                        | "title"
                        | "$schema"
                )
            )
        })
}

/// The parameters declared by a parameters node in either form; `None`
/// when the node is not understood.
pub fn params_from_node(node: &Node) -> Option<Vec<ParamInfo>> {
    let entries = node.as_map()?;
    let mut out = Vec::new();
    if is_json_schema_form(node) {
        let required: Vec<&str> = match node.get("required").map(|r| &r.kind) {
            Some(NodeKind::Seq(items)) => items.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(props) = node.get("properties").and_then(Node::as_map) {
            for e in props {
                let name = e.key.scalar_text()?;
                let has_default = e.value.get("default").is_some();
                let required = required.contains(&name.as_str())
                    || e.value.get("required").and_then(Node::as_bool) == Some(true);
                out.push(ParamInfo {
                    name,
                    required,
                    has_default,
                });
            }
        }
        return Some(out);
    }
    for e in entries {
        let name = e.key.scalar_text()?;
        let (required, has_default) = match &e.value.kind {
            NodeKind::Map(_) => (
                e.value.get("required").and_then(Node::as_bool) == Some(true),
                e.value.get("default").is_some(),
            ),
            _ => (false, false),
        };
        out.push(ParamInfo {
            name,
            required,
            has_default,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_hold_the_ten_core_actions_with_parameters() {
        let c = BuiltinCatalog::new();
        assert_eq!(c.refs().len(), 10);
        let echo = c.lookup("core.echo").unwrap();
        assert_eq!(echo.kind, ActionKind::Builtin);
        let p = echo.parameters.unwrap();
        assert_eq!(p[0].name, "message");
        assert!(!p[0].required);
        let http = c.lookup("core.http_request").unwrap().parameters.unwrap();
        assert!(
            http.iter()
                .any(|p| p.name == "url" && p.required && !p.has_default)
        );
        assert!(c.lookup("core.nope").is_none());
        assert_eq!(c.refs_in_pack("core").len(), 10);
    }

    #[test]
    fn metadata_in_both_forms_gives_the_same_parameters() {
        let flat = "name: a\nparameters:\n  x: {type: string, required: true}\n  y: {default: 1}\n";
        let schema = "ref: p.a\nparameters:\n  type: object\n  properties:\n    x: {type: string}\n    y: {default: 1}\n  required: [x]\n";
        let a = parse_action_metadata(flat, "file", "p").unwrap();
        let b = parse_action_metadata(schema, "file", "p").unwrap();
        assert_eq!(a.r#ref, "p.a");
        assert_eq!(a, b);
        let none = parse_action_metadata("description: d\n", "stem", "p").unwrap();
        assert_eq!(none.r#ref, "p.stem");
        assert_eq!(none.parameters, Some(vec![]));
        assert!(parse_action_metadata("- a\n", "x", "p").is_err());
    }

    #[test]
    fn split_ref_uses_the_last_dot() {
        assert_eq!(split_ref("aws.ec2.deploy"), Some(("aws.ec2", "deploy")));
        assert_eq!(split_ref("nodot"), None);
        assert_eq!(split_ref(".x"), None);
    }
}
