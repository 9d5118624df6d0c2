//! A pack folder's `pack.yaml`: read safely (like a workflow file), parsed
//! with the positioned YAML layer, and checked field by field. Failures are
//! diagnostics in the same form as a workflow's (code, message, line,
//! column, path, hint), with `file` = `{folder}/pack.yaml`.
//!
//! Keys attune does not use (upstream Attune's `author`, `email`,
//! `enabled`, `testing`, …) are accepted and ignored, so upstream packs
//! register unchanged; `system: true` is upstream's spelling of
//! `is_standard`.

use std::path::Path;

use crate::refs::PackRef;
use crate::workflow::diagnostic::{Code, Diagnostic};
use crate::workflow::yaml::{self, Node, NodeKind};

/// File name of a pack's manifest.
pub const MANIFEST_FILE: &str = "pack.yaml";
/// Longest accepted `label`, in characters (as `POST /api/v1/packs`).
pub const MAX_LABEL_CHARS: usize = 255;
/// Longest accepted `version`, in characters (as `POST /api/v1/packs`).
pub const MAX_VERSION_CHARS: usize = 50;

/// What a `pack.yaml` says.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub pack_ref: PackRef,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    pub conf_schema: serde_json::Value,
    pub config: serde_json::Value,
    pub meta: serde_json::Value,
    pub tags: Vec<String>,
    pub runtime_deps: Vec<String>,
    pub is_standard: bool,
}

/// The outcome of reading one folder's manifest: the manifest when it is
/// valid, every problem found, and the text (for snippets) when it was read.
#[derive(Debug, Clone, Default)]
pub struct ManifestLoad {
    pub manifest: Option<Manifest>,
    pub diagnostics: Vec<Diagnostic>,
    pub source: Option<String>,
}

/// Reads and checks `{pack_dir}/pack.yaml`. `folder` is the folder's name
/// (relative to `packs_base_dir`), used for the diagnostics' `file` and for
/// the rule that the manifest's `ref` equals the folder name (`None` skips
/// that rule: an uploaded archive's top folder may be named anything).
pub fn load_manifest(pack_dir: &Path, folder: Option<&str>, max_bytes: u64) -> ManifestLoad {
    let file = match folder {
        Some(f) => format!("{f}/{MANIFEST_FILE}"),
        None => MANIFEST_FILE.to_string(),
    };
    let path = pack_dir.join(MANIFEST_FILE);
    let here = |d: Diagnostic| d.with_source(folder, Some(&file));
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return ManifestLoad {
                diagnostics: vec![here(
                    Diagnostic::new(Code::MissingField, "the folder has no pack.yaml", 1, 1)
                        .with_hint(
                            "add a pack.yaml with at least ref, label and version (see examples/packs/demo)",
                        ),
                )],
                ..ManifestLoad::default()
            };
        }
        _ => {}
    }
    let bytes = match super::read_workflow_file(&path, pack_dir, max_bytes) {
        Ok(b) => b,
        Err(e) => {
            return ManifestLoad {
                diagnostics: vec![e.to_diagnostic(folder, Some(&file))],
                ..ManifestLoad::default()
            };
        }
    };
    // read_workflow_file checked UTF-8.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (manifest, diagnostics) = parse_manifest(&text, folder);
    ManifestLoad {
        manifest,
        diagnostics: diagnostics.into_iter().map(here).collect(),
        source: Some(text),
    }
}

/// Parses and checks a manifest's text; `folder`, when given, must equal
/// the `ref`. Returns the manifest only when there is no error.
pub fn parse_manifest(text: &str, folder: Option<&str>) -> (Option<Manifest>, Vec<Diagnostic>) {
    let root = match yaml::parse_document(text, &yaml::Limits::default()) {
        Ok(root) => root,
        Err(e) => {
            let code = match e.kind {
                yaml::YamlErrorKind::Syntax => Code::YamlSyntax,
                yaml::YamlErrorKind::Limits => Code::YamlLimits,
            };
            return (
                None,
                vec![Diagnostic::new(code, e.message, e.pos.line, e.pos.column)],
            );
        }
    };
    if root.as_map().is_none() {
        return (
            None,
            vec![
                Diagnostic::new(
                    Code::NotAMapping,
                    format!(
                        "pack.yaml must be a mapping of ref, label, version, …; found {}",
                        root.type_name()
                    ),
                    yaml::Lines::new(text).of(&root).line,
                    yaml::Lines::new(text).of(&root).column,
                )
                .with_hint("start the file with 'ref: my_pack'"),
            ],
        );
    }
    let lines = yaml::Lines::new(text);
    let mut c = Checker {
        text,
        lines: &lines,
        root: &root,
        diags: Vec::new(),
    };
    let pack_ref = c
        .required_string("ref")
        .and_then(|(s, node)| match PackRef::parse(&s) {
            Ok(r) => Some(r),
            Err(m) => {
                c.diags.push(
                    Diagnostic::new(
                        Code::WrongType,
                        m,
                        lines.of(node).line,
                        lines.of(node).column,
                    )
                    .with_path("ref"),
                );
                None
            }
        });
    if let (Some(r), Some(folder)) = (&pack_ref, folder)
        && r.as_str() != folder
        && let Some(node) = root.get("ref")
    {
        c.diags.push(
            Diagnostic::new(
                Code::RefMismatch,
                format!(
                    "ref '{r}' differs from the folder name '{folder}'; a pack's folder is named by its ref"
                ),
                lines.of(node).line,
                lines.of(node).column,
            )
            .with_path("ref")
            .with_hint(format!("rename the folder to '{r}' or set ref: {folder}")),
        );
    }
    let label = c.required_string("label");
    if let Some((l, node)) = &label {
        let n = l.chars().count();
        if l.trim().is_empty() || n > MAX_LABEL_CHARS {
            c.diags.push(
                Diagnostic::new(
                    Code::FieldTooLong,
                    format!("label must be 1 to {MAX_LABEL_CHARS} characters (got {n})"),
                    lines.of(node).line,
                    lines.of(node).column,
                )
                .with_path("label"),
            );
        }
    }
    let version = c.required_scalar("version");
    if let Some((v, node)) = &version {
        let n = v.chars().count();
        if v.trim().is_empty() || n > MAX_VERSION_CHARS {
            c.diags.push(
                Diagnostic::new(
                    Code::FieldTooLong,
                    format!("version must be 1 to {MAX_VERSION_CHARS} characters (got {n})"),
                    lines.of(node).line,
                    lines.of(node).column,
                )
                .with_path("version"),
            );
        }
    }
    let description = c.optional_string("description");
    let conf_schema = c.object("conf_schema");
    let config = c.object("config");
    let meta = c.object("meta");
    let tags = c.strings("tags");
    let runtime_deps = c.strings("runtime_deps");
    let is_standard = c.flag("is_standard") || c.flag("system");
    let diags = c.diags;
    if diags.iter().any(Diagnostic::is_error) {
        return (None, diags);
    }
    let (Some(pack_ref), Some((label, _)), Some((version, _))) = (pack_ref, label, version) else {
        return (None, diags);
    };
    (
        Some(Manifest {
            pack_ref,
            label,
            description,
            version,
            conf_schema,
            config,
            meta,
            tags,
            runtime_deps,
            is_standard,
        }),
        diags,
    )
}

struct Checker<'a> {
    text: &'a str,
    /// Line and column of the nodes (the index is built on first use).
    lines: &'a yaml::Lines<'a>,
    root: &'a Node,
    diags: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn wrong(&mut self, key: &str, node: &Node, expected: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::WrongType,
                format!("{key} must be {expected}; found {}", node.type_name()),
                self.lines.of(node).line,
                self.lines.of(node).column,
            )
            .with_path(key),
        );
    }

    fn missing(&mut self, key: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::MissingField,
                format!("pack.yaml has no '{key}'"),
                self.lines.of(self.root).line,
                self.lines.of(self.root).column,
            )
            .with_path(key)
            .with_hint(format!("add '{key}: …' at the top level")),
        );
    }

    fn required_string(&mut self, key: &str) -> Option<(String, &'a Node)> {
        let Some(node) = self.root.get(key) else {
            self.missing(key);
            return None;
        };
        match &node.kind {
            NodeKind::Str(s) => Some((s.to_string(), node)),
            _ => {
                self.wrong(key, node, "a string");
                None
            }
        }
    }

    /// A string, or a number written unquoted (`version: 1.0`).
    fn required_scalar(&mut self, key: &str) -> Option<(String, &'a Node)> {
        let Some(node) = self.root.get(key) else {
            self.missing(key);
            return None;
        };
        match &node.kind {
            NodeKind::Str(_) | NodeKind::Int(_) | NodeKind::Float(_) => {
                let text = if node.style == yaml::Style::Plain {
                    // Keep `1.10` as written, not as the float 1.1.
                    self.raw_plain(node).unwrap_or_else(|| node.found_text())
                } else {
                    node.scalar_text().unwrap_or_default()
                };
                Some((text, node))
            }
            _ => {
                self.wrong(key, node, "a string");
                None
            }
        }
    }

    /// A plain scalar's text as written (up to the line end or a comment).
    fn raw_plain(&self, node: &Node) -> Option<String> {
        let rest = self.text.get(node.offset()..)?;
        let line = rest.split(['\n', '\r']).next()?;
        let line = line.split(" #").next()?.trim();
        (!line.is_empty()).then(|| line.to_string())
    }

    fn optional_string(&mut self, key: &str) -> Option<String> {
        let node = self.root.get(key)?;
        match &node.kind {
            NodeKind::Null => None,
            NodeKind::Str(s) => Some(s.to_string()),
            _ => {
                self.wrong(key, node, "a string");
                None
            }
        }
    }

    fn object(&mut self, key: &str) -> serde_json::Value {
        match self.root.get(key) {
            None => serde_json::json!({}),
            Some(node) if node.is_null() => serde_json::json!({}),
            Some(node) if node.as_map().is_some() => node.to_json(),
            Some(node) => {
                self.wrong(key, node, "a mapping");
                serde_json::json!({})
            }
        }
    }

    fn strings(&mut self, key: &str) -> Vec<String> {
        let Some(node) = self.root.get(key) else {
            return Vec::new();
        };
        if node.is_null() {
            return Vec::new();
        }
        let Some(items) = node.as_seq() else {
            self.wrong(key, node, "a list of strings");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.scalar_text() {
                Some(s) => out.push(s),
                None => self.wrong(&format!("{key}[{i}]"), item, "a string"),
            }
        }
        out
    }

    fn flag(&mut self, key: &str) -> bool {
        match self.root.get(key) {
            None => false,
            Some(node) => match node.as_bool() {
                Some(b) => b,
                None => {
                    self.wrong(key, node, "true or false");
                    false
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_manifest_parses() {
        let text = include_str!("../../examples/packs/demo/pack.yaml");
        let (m, d) = parse_manifest(text, Some("demo"));
        assert!(d.is_empty(), "{d:?}");
        let m = m.unwrap();
        assert_eq!(m.pack_ref.as_str(), "demo");
        assert_eq!(m.label, "Demo Pack");
        assert_eq!(m.version, "1.0.0");
        assert_eq!(m.tags, ["demo", "examples"]);
        assert_eq!(m.config["default_name"], "world");
    }

    #[test]
    fn problems_are_positioned() {
        let (m, d) = parse_manifest("ref: other\nlabel: [1]\n", Some("demo"));
        assert!(m.is_none());
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(
            codes,
            [
                (Code::RefMismatch, 1, 6),
                (Code::WrongType, 2, 8),
                (Code::MissingField, 1, 1)
            ]
        );
        let (_, d) = parse_manifest("ref: demo\n  label: x: y\n", None);
        assert_eq!(d[0].code, Code::YamlSyntax);
        assert!(d[0].line >= 1);
        let (_, d) = parse_manifest("ref: ../x\nlabel: a\nversion: 1\n", None);
        assert_eq!(d[0].code, Code::WrongType);
        assert!(
            d[0].message.contains("invalid pack ref"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn unquoted_versions_keep_their_text_and_upstream_keys_are_accepted() {
        let (m, d) = parse_manifest(
            "ref: core\nlabel: Core\nversion: 1.10\nauthor: x\nsystem: true\n",
            None,
        );
        assert!(d.is_empty(), "{d:?}");
        let m = m.unwrap();
        assert_eq!(m.version, "1.10");
        assert!(m.is_standard);
    }
}
