//! The workspace: the packs found under the editor's folders and the
//! catalog built from them (action files, sibling workflows, built-in
//! `core` actions), with what hover and go-to-definition need beyond what
//! the validator needs (file, description, parameter types and defaults).
//!
//! The catalog is immutable once built and shared as an `Arc`: a check in
//! flight keeps the catalog it started with, a change builds the next one.

use crate::disk;
use attune_workflow::catalog::{
    ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, MapCatalog, ParamInfo, builtin_sources,
    is_json_schema_form, parse_action_metadata,
};
use attune_workflow::is_valid_name;
use attune_workflow::yaml::{self, Limits, Node, NodeKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// One declared parameter, as hover shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: String,
    pub ty: Option<String>,
    pub required: bool,
    pub default: Option<String>,
    pub description: Option<String>,
}

/// An action, workflow or built-in the catalog knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDoc {
    pub r#ref: String,
    pub kind: ActionKind,
    /// The file that defines it (none for built-ins).
    pub file: Option<PathBuf>,
    pub description: Option<String>,
    /// `None` when unknown (workflows) or not understood.
    pub params: Option<Vec<ParamDoc>>,
}

impl ActionDoc {
    fn info(&self) -> ActionInfo {
        ActionInfo {
            kind: self.kind,
            parameters: self.params.as_ref().map(|ps| {
                ps.iter()
                    .map(|p| ParamInfo {
                        name: p.name.clone(),
                        required: p.required,
                        has_default: p.default.is_some(),
                    })
                    .collect()
            }),
        }
    }
}

/// Parse an action metadata text into its doc (ref, description, params).
pub fn action_doc(
    text: &str,
    stem: &str,
    pack_ref: &str,
    file: Option<PathBuf>,
    kind: ActionKind,
) -> Option<ActionDoc> {
    let meta = parse_action_metadata(text, stem, pack_ref).ok()?;
    let root = yaml::parse_document(text, &Limits::default()).ok()?;
    let description = root
        .get("description")
        .and_then(Node::as_str)
        .map(str::to_string);
    let params = match root.get("parameters") {
        None => Some(Vec::new()),
        Some(p) if p.is_null() => Some(Vec::new()),
        Some(p) => param_docs(p),
    };
    // The validator's reading of required/default wins where both exist.
    let params = match (params, meta.parameters) {
        (Some(mut docs), Some(infos)) => {
            for d in &mut docs {
                if let Some(i) = infos.iter().find(|i| i.name == d.name) {
                    d.required = i.required;
                }
            }
            Some(docs)
        }
        (None, Some(infos)) => Some(
            infos
                .into_iter()
                .map(|i| ParamDoc {
                    name: i.name,
                    ty: None,
                    required: i.required,
                    default: i.has_default.then(|| "…".to_string()),
                    description: None,
                })
                .collect(),
        ),
        (_, None) => None,
    };
    Some(ActionDoc {
        r#ref: meta.r#ref,
        kind,
        file,
        description,
        params,
    })
}

fn param_docs(node: &Node) -> Option<Vec<ParamDoc>> {
    node.as_map()?;
    let schema = is_json_schema_form(node);
    let required: Vec<String> = match node.get("required").map(|r| &r.kind) {
        Some(NodeKind::Seq(items)) if schema => {
            items.iter().filter_map(Node::scalar_text).collect()
        }
        _ => Vec::new(),
    };
    let props = if schema {
        node.get("properties").and_then(Node::as_map).unwrap_or(&[])
    } else {
        node.as_map().unwrap_or(&[])
    };
    let mut out = Vec::new();
    for e in props {
        let name = e.key.scalar_text()?;
        let v = &e.value;
        out.push(ParamDoc {
            required: required.contains(&name)
                || v.get("required").and_then(Node::as_bool) == Some(true),
            ty: v.get("type").and_then(Node::scalar_text),
            default: v.get("default").map(|d| d.to_json().to_string()),
            description: v
                .get("description")
                .and_then(Node::as_str)
                .map(str::to_string),
            name,
        });
    }
    Some(out)
}

fn builtins() -> &'static (BuiltinCatalog, Vec<ActionDoc>) {
    static B: OnceLock<(BuiltinCatalog, Vec<ActionDoc>)> = OnceLock::new();
    B.get_or_init(|| {
        let docs = builtin_sources()
            .iter()
            .filter_map(|(name, text)| action_doc(text, name, "core", None, ActionKind::Builtin))
            .collect();
        (BuiltinCatalog::new(), docs)
    })
}

/// The actions and workflows of every pack of the workspace.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    docs: BTreeMap<String, Arc<ActionDoc>>,
    map: MapCatalog,
    /// Which ref each file defines (to drop it when the file changes).
    by_file: BTreeMap<PathBuf, String>,
}

impl ActionCatalog for Catalog {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        self.map
            .lookup(action_ref)
            .or_else(|| builtins().0.lookup(action_ref))
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        let mut v = self.map.refs_in_pack(pack_ref);
        v.extend(builtins().0.refs_in_pack(pack_ref));
        v.sort();
        v.dedup();
        v
    }
}

impl Catalog {
    /// The doc of a ref (pack actions and workflows first, then built-ins).
    pub fn doc(&self, r: &str) -> Option<&ActionDoc> {
        self.docs
            .get(r)
            .map(|d| d.as_ref())
            .or_else(|| builtins().1.iter().find(|d| d.r#ref == r))
    }

    /// Every ref with its doc, built-ins last.
    pub fn all(&self) -> impl Iterator<Item = &ActionDoc> {
        self.docs
            .values()
            .map(|d| d.as_ref())
            .chain(builtins().1.iter())
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn insert(&mut self, doc: ActionDoc) {
        if let Some(f) = &doc.file {
            self.by_file.insert(f.clone(), doc.r#ref.clone());
        }
        self.map.insert(doc.r#ref.clone(), doc.info());
        self.docs.insert(doc.r#ref.clone(), Arc::new(doc));
    }

    fn remove_file(&mut self, file: &Path) {
        if let Some(r) = self.by_file.remove(file) {
            let owned = self
                .docs
                .get(&r)
                .is_some_and(|d| d.file.as_deref() == Some(file));
            if owned {
                self.docs.remove(&r);
                self.map.entries.remove(&r);
            }
        }
    }
}

/// A pack of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub pack_ref: String,
    pub dir: PathBuf,
}

/// What a file of a pack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Workflow,
    Action,
}

/// The packs and their catalog.
#[derive(Debug, Default)]
pub struct Workspace {
    pub packs: Vec<Pack>,
    pub catalog: Arc<Catalog>,
    pub max_bytes: u64,
}

fn dir_ref(dir: &Path) -> String {
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    canon
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("pack")
        .to_string()
}

impl Workspace {
    /// Find the packs under `roots` and build their catalog.
    pub fn new(roots: &[PathBuf], max_bytes: u64) -> Self {
        let mut ws = Workspace {
            max_bytes,
            ..Workspace::default()
        };
        let mut cat = Catalog::default();
        for r in roots {
            for dir in disk::find_packs(r) {
                ws.add_pack_to(&mut cat, dir);
            }
        }
        ws.catalog = Arc::new(cat);
        ws
    }

    fn add_pack_to(&mut self, cat: &mut Catalog, dir: PathBuf) -> usize {
        if let Some(i) = self.packs.iter().position(|p| p.dir == dir) {
            return i;
        }
        let pack = Pack {
            pack_ref: dir_ref(&dir),
            dir,
        };
        for (stem, path) in disk::list_yaml(&pack.dir.join("actions")) {
            if let Ok(text) = disk::read_text(&path, self.max_bytes)
                && let Some(d) = action_doc(
                    &text,
                    &stem,
                    &pack.pack_ref,
                    Some(path.clone()),
                    ActionKind::Action,
                )
            {
                cat.insert(d);
            }
        }
        for (stem, path) in disk::list_yaml(&pack.dir.join("workflows")) {
            add_workflow(cat, &pack.pack_ref, &stem, &path);
        }
        self.packs.push(pack);
        self.packs.len() - 1
    }

    /// The pack a file belongs to and its role there (a file directly in a
    /// pack's `workflows/` or `actions/`); a pack not seen yet is added.
    pub fn classify(&mut self, path: &Path) -> Option<(usize, FileRole)> {
        let parent = path.parent()?;
        let role = match parent.file_name()?.to_str()? {
            "workflows" => FileRole::Workflow,
            "actions" => FileRole::Action,
            _ => return None,
        };
        let ext = path.extension()?.to_str()?;
        if ext != "yaml" && ext != "yml" {
            return None;
        }
        let dir = parent.parent()?.to_path_buf();
        if let Some(i) = self.packs.iter().position(|p| p.dir == dir) {
            return Some((i, role));
        }
        let mut cat = (*self.catalog).clone();
        let i = self.add_pack_to(&mut cat, dir);
        self.catalog = Arc::new(cat);
        Some((i, role))
    }

    /// A file of a pack changed: `text` is its new content (the editor's,
    /// or the disk's), `None` when it was deleted. Returns true when the
    /// catalog changed.
    pub fn file_changed(&mut self, path: &Path, text: Option<&str>) -> bool {
        let Some((i, role)) = self.classify(path) else {
            return false;
        };
        let pack_ref = self.packs[i].pack_ref.clone();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if role == FileRole::Workflow && text.is_some() {
            // An edit of a workflow the catalog already lists: nothing to
            // change (the common case, once per keystroke).
            let r = format!("{pack_ref}.{stem}");
            let known =
                self.catalog.docs.get(&r).is_some_and(|d| {
                    d.kind == ActionKind::Action || d.file.as_deref() == Some(path)
                });
            if known || !is_valid_name(&stem) {
                return false;
            }
        }
        let before = self.catalog.clone();
        let mut cat = (*self.catalog).clone();
        cat.remove_file(path);
        match role {
            FileRole::Action => {
                let disk_text;
                let text = match text {
                    Some(t) => Some(t),
                    None if path.exists() => {
                        disk_text = disk::read_text(path, self.max_bytes).ok();
                        disk_text.as_deref()
                    }
                    None => None,
                };
                if let Some(t) = text
                    && let Some(d) = action_doc(
                        t,
                        &stem,
                        &pack_ref,
                        Some(path.to_path_buf()),
                        ActionKind::Action,
                    )
                {
                    cat.insert(d);
                }
            }
            FileRole::Workflow => {
                if text.is_some() || path.exists() {
                    add_workflow(&mut cat, &pack_ref, &stem, path);
                }
            }
        }
        let changed = cat.docs != before.docs;
        if changed {
            self.catalog = Arc::new(cat);
        }
        changed
    }
}

fn add_workflow(cat: &mut Catalog, pack_ref: &str, stem: &str, path: &Path) {
    if !is_valid_name(stem) {
        return;
    }
    let r = format!("{pack_ref}.{stem}");
    if cat
        .docs
        .get(&r)
        .is_some_and(|d| d.kind == ActionKind::Action)
    {
        return;
    }
    cat.insert(ActionDoc {
        r#ref: r,
        kind: ActionKind::Workflow,
        file: Some(path.to_path_buf()),
        description: None,
        params: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_holds_actions_workflows_and_builtins() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("mypack");
        std::fs::create_dir_all(p.join("actions")).unwrap();
        std::fs::create_dir_all(p.join("workflows")).unwrap();
        std::fs::write(
            p.join("actions/deploy.yaml"),
            "name: deploy\ndescription: Deploy it\nparameters:\n  host: {type: string, required: true, description: where}\n  port: {type: integer, default: 22}\n",
        )
        .unwrap();
        std::fs::write(p.join("workflows/flow.yaml"), "version: x\n").unwrap();
        let mut ws = Workspace::new(&[t.path().to_path_buf()], 1 << 20);
        assert_eq!(ws.packs.len(), 1);
        let d = ws.catalog.doc("mypack.deploy").unwrap();
        assert_eq!(d.description.as_deref(), Some("Deploy it"));
        let ps = d.params.as_ref().unwrap();
        assert_eq!(ps[0].ty.as_deref(), Some("string"));
        assert!(ps[0].required);
        assert_eq!(ps[1].default.as_deref(), Some("22"));
        assert_eq!(
            ws.catalog.doc("mypack.flow").unwrap().kind,
            ActionKind::Workflow
        );
        assert!(ws.catalog.doc("core.http_request").is_some());
        assert!(ws.catalog.lookup("core.echo").is_some());

        let f = p.join("actions/deploy.yaml");
        assert!(ws.file_changed(&f, Some("ref: mypack.ship\n")));
        assert!(ws.catalog.doc("mypack.deploy").is_none());
        assert!(ws.catalog.doc("mypack.ship").is_some());
        assert!(!ws.file_changed(&p.join("README.yaml"), None));
    }
}
