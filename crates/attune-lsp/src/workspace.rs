//! The workspace: the packs found under the editor's folders and the
//! catalog built from them (action files, sibling workflows, built-in
//! `core` actions), with what hover and go-to-definition need beyond what
//! the validator needs (file, description, parameter types and defaults).
//!
//! The catalog is immutable once built and shared as an `Arc`: a check in
//! flight keeps the catalog it started with, a change builds the next one.

use crate::disk;
use attune_workflow::catalog::split_ref;
use attune_workflow::catalog::{
    ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, MapCatalog, ParamInfo, builtin_sources,
    is_json_schema_form, parse_action_metadata,
};
use attune_workflow::yaml::{self, Limits, Node, NodeKind};
use attune_workflow::{Code, Diagnostic, is_valid_name};
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

/// The byte span of parameter `name`'s key in an action text (flat or
/// JSON-Schema form), for go-to-definition from a graph-only file.
pub fn param_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let root = yaml::parse_document(text, &Limits::default()).ok()?;
    let params = root.get("parameters")?;
    let props = if is_json_schema_form(params) {
        params.get("properties")?
    } else {
        params
    };
    let e = props
        .as_map()?
        .iter()
        .find(|e| e.key.scalar_text().as_deref() == Some(name))?;
    let start = e.key.offset();
    // A quoted key: the name inside the quotes.
    let at = text
        .get(start..)?
        .find(name)
        .filter(|i| *i <= 1)
        .unwrap_or(0);
    Some((start + at, start + at + name.len()))
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
    /// The `workflow_file` of every action file that has one, by action
    /// file (the editor's text when open, else the disk's).
    pub links: BTreeMap<PathBuf, Link>,
}

/// An action file's `workflow_file` (upstream's action-linked layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Index into [`Workspace::packs`].
    pub pack: usize,
    /// `actions/{file}`, relative to the pack folder.
    pub action_rel: String,
    /// The linked workflow's name: the name part of the action's ref.
    pub name: String,
    /// `workflow_file` as written, and the position of its value.
    pub wf: String,
    pub line: u32,
    pub column: u32,
    /// The graph file relative to the pack folder (`workflow_file` is
    /// relative to `actions/`); `None` when it leaves the pack.
    pub rel: Option<String>,
}

/// How a file of a pack is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// A workflow file on its own.
    Standalone { pack_ref: String, name: String },
    /// A graph-only file and the action file that links it: one workflow.
    Linked {
        pack_ref: String,
        name: String,
        graph: PathBuf,
        action: PathBuf,
    },
    /// A file whose content is not checked: only these diagnostics (an
    /// action file's broken link, a shadowed workflow file, or nothing).
    Fixed(Vec<Diagnostic>),
}

/// `rel` (as written in a file of `base/`) as a path inside the pack,
/// `None` when it is absolute or climbs out of the pack (as the
/// appliance's `src/pack` resolves `workflow_file`).
pub fn resolve_in_pack(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A workflow file's name: the stem, `.workflow` dropped (`x.workflow.yaml`
/// is `x`, as upstream names graph files).
pub fn workflow_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.strip_suffix(".workflow")
        .filter(|s| !s.is_empty())
        .unwrap_or(stem)
        .to_string()
}

/// The link an action text declares, if any.
fn parse_link(text: &str, stem: &str, pack: usize, pack_ref: &str) -> Option<Link> {
    let meta = parse_action_metadata(text, stem, pack_ref).ok()?;
    let (wf, pos) = meta.workflow_file?;
    let name = split_ref(&meta.r#ref)
        .filter(|(p, _)| *p == pack_ref)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| stem.to_string());
    Some(Link {
        pack,
        action_rel: format!("actions/{stem}.yaml"),
        name,
        rel: resolve_in_pack("actions", &wf),
        wf,
        line: pos.line,
        column: pos.column,
    })
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
        let index = self.packs.len();
        for (stem, path) in disk::list_yaml(&pack.dir.join("actions")) {
            if let Ok(text) = disk::read_text(&path, self.max_bytes) {
                if let Some(mut l) = parse_link(&text, &stem, index, &pack.pack_ref) {
                    l.action_rel = rel_name(&path, "actions");
                    self.links.insert(path.clone(), l);
                }
                if let Some(d) = action_doc(
                    &text,
                    &stem,
                    &pack.pack_ref,
                    Some(path.clone()),
                    ActionKind::Action,
                ) {
                    cat.insert(d);
                }
            }
        }
        self.packs.push(pack);
        self.add_pack_workflows(cat, index);
        index
    }

    /// The standalone workflow files of pack `i` into the catalog: its
    /// `workflows/` and the graph files of `actions/workflows/` no action
    /// links to (those are the action's workflow, listed by the action).
    fn add_pack_workflows(&self, cat: &mut Catalog, i: usize) {
        let pack = &self.packs[i];
        for sub in ["actions/workflows", "workflows"] {
            for (_, path) in disk::list_yaml(&pack.dir.join(sub)) {
                if !self.is_link_target(&path) {
                    add_workflow(cat, &pack.pack_ref, &workflow_name(&path), &path);
                }
            }
        }
    }

    /// Drop pack `i`'s standalone workflows from the catalog and list them
    /// again (after a link changed).
    fn refresh_pack_workflows(&self, cat: &mut Catalog, i: usize) {
        let dir = &self.packs[i].dir;
        let stale: Vec<PathBuf> = cat
            .docs
            .values()
            .filter(|d| d.kind == ActionKind::Workflow)
            .filter_map(|d| d.file.clone())
            .filter(|f| f.starts_with(dir))
            .collect();
        for f in stale {
            cat.remove_file(&f);
        }
        self.add_pack_workflows(cat, i);
    }

    /// The graph file a link points to, when inside its pack.
    fn link_target(&self, l: &Link) -> Option<PathBuf> {
        Some(self.packs.get(l.pack)?.dir.join(l.rel.as_ref()?))
    }

    fn is_link_target(&self, path: &Path) -> bool {
        self.links
            .values()
            .any(|l| self.link_target(l).as_deref() == Some(path))
    }

    /// Why the link of action file `action` cannot be followed (the
    /// `invalid-workflow-file` error `attune validate` gives), `None` when
    /// it can: missing, leaving the pack, or another action's graph file
    /// (the first action file by name keeps it).
    pub fn link_problem(&self, action: &Path) -> Option<Diagnostic> {
        let l = self.links.get(action)?;
        let target = self.link_target(l);
        let message = match &target {
            None => format!(
                "workflow_file '{}' leaves the pack folder; it is not read",
                l.wf
            ),
            Some(t) if !t.exists() => format!(
                "workflow_file '{}' does not exist (looked for {} in the pack)",
                l.wf,
                l.rel.as_deref().unwrap_or_default()
            ),
            Some(t) => {
                let first = self.claimant(t)?;
                if first == action {
                    return None;
                }
                format!(
                    "workflow_file '{}' is already the graph of {}; each action needs its own graph file",
                    l.wf, self.links[&first].action_rel
                )
            }
        };
        Some(
            Diagnostic::new(Code::InvalidWorkflowFile, message, l.line, l.column)
                .with_path("workflow_file")
                .with_hint(
                    "workflow_file is relative to actions/: write e.g. `workflow_file: workflows/NAME.workflow.yaml` for actions/workflows/NAME.workflow.yaml",
                ),
        )
    }

    /// The action file that owns graph file `graph` (the first by name of
    /// those linking to it).
    fn claimant(&self, graph: &Path) -> Option<PathBuf> {
        self.links
            .iter()
            .filter(|(_, l)| self.link_target(l).as_deref() == Some(graph))
            .min_by(|a, b| a.1.action_rel.cmp(&b.1.action_rel))
            .map(|(p, _)| p.clone())
    }

    /// How a file of a pack is checked, from the current links.
    pub fn unit_of(&mut self, path: &Path) -> Option<Unit> {
        let (i, role) = self.classify(path)?;
        let pack_ref = self.packs[i].pack_ref.clone();
        if role == FileRole::Action {
            if !self.links.contains_key(path) {
                return Some(Unit::Fixed(Vec::new()));
            }
            if let Some(d) = self.link_problem(path) {
                return Some(Unit::Fixed(vec![d]));
            }
            let graph = self.link_target(&self.links[path])?;
            return Some(Unit::Linked {
                pack_ref,
                name: self.links[path].name.clone(),
                graph,
                action: path.to_path_buf(),
            });
        }
        if let Some(action) = self.claimant(path)
            && self.link_problem(&action).is_none()
        {
            return Some(Unit::Linked {
                pack_ref,
                name: self.links[&action].name.clone(),
                graph: path.to_path_buf(),
                action,
            });
        }
        let name = workflow_name(path);
        if let Some(winner) = self.shadowed_by(i, path, &name)
            && is_valid_name(&name)
        {
            let d = Diagnostic::new(
                Code::ShadowedWorkflow,
                format!(
                    "workflow '{name}' is also defined by {winner}, which wins; this file is not read"
                ),
                1,
                1,
            )
            .with_hint(format!(
                "remove this file or rename it; upstream Attune, too, takes {winner}"
            ));
            return Some(Unit::Fixed(vec![d]));
        }
        Some(Unit::Standalone { pack_ref, name })
    }

    /// What defines workflow `name` of pack `i` ahead of the standalone
    /// file `path` (upstream's order: action-linked, then
    /// `actions/workflows/`, then `workflows/`), as `attune validate` names it.
    fn shadowed_by(&self, i: usize, path: &Path, name: &str) -> Option<String> {
        let dir = &self.packs[i].dir;
        if let Some(l) = self
            .links
            .values()
            .filter(|l| l.pack == i && l.name == name)
            .min_by(|a, b| a.action_rel.cmp(&b.action_rel))
        {
            let rel = l.rel.clone().unwrap_or_else(|| l.action_rel.clone());
            return Some(format!("the action-linked {} ({rel})", l.action_rel));
        }
        if path.parent()? == dir.join("workflows") {
            for (_, g) in disk::list_yaml(&dir.join("actions/workflows")) {
                if workflow_name(&g) == name && !self.is_link_target(&g) {
                    return Some(rel_name(&g, "actions/workflows"));
                }
            }
        }
        None
    }

    /// The pack a file belongs to and its role there (a file directly in a
    /// pack's `workflows/` or `actions/`); a pack not seen yet is added.
    pub fn classify(&mut self, path: &Path) -> Option<(usize, FileRole)> {
        let ext = path.extension()?.to_str()?;
        if ext != "yaml" && ext != "yml" {
            return None;
        }
        let parent = path.parent()?;
        let folder = parent.file_name().and_then(|n| n.to_str());
        // A graph file an action links to, wherever it is in the pack (an
        // action file stays an action file).
        if folder != Some("actions")
            && let Some(l) = self
                .links
                .values()
                .find(|l| self.link_target(l).as_deref() == Some(path))
        {
            return Some((l.pack, FileRole::Workflow));
        }
        let role = match folder? {
            "workflows" => FileRole::Workflow,
            "actions" => FileRole::Action,
            _ => return None,
        };
        let mut dir = parent.parent()?.to_path_buf();
        // `actions/workflows/` (graph files) belongs to the pack above
        // `actions/`, unless `actions` is itself a known pack.
        if role == FileRole::Workflow
            && dir.file_name().and_then(|n| n.to_str()) == Some("actions")
            && !self.packs.iter().any(|p| p.dir == dir)
            && let Some(up) = dir.parent()
        {
            dir = up.to_path_buf();
        }
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
        let name = workflow_name(path);
        if role == FileRole::Workflow && text.is_some() {
            // An edit of a workflow the catalog already lists: nothing to
            // change (the common case, once per keystroke).
            let r = format!("{pack_ref}.{name}");
            let known =
                self.catalog.docs.get(&r).is_some_and(|d| {
                    d.kind == ActionKind::Action || d.file.as_deref() == Some(path)
                });
            if known || !is_valid_name(&name) || self.is_link_target(path) {
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
                let link = text.and_then(|t| {
                    let mut l = parse_link(t, &stem, i, &pack_ref)?;
                    l.action_rel = rel_name(path, "actions");
                    Some(l)
                });
                if self.links.get(path) != link.as_ref() {
                    match link {
                        Some(l) => self.links.insert(path.to_path_buf(), l),
                        None => self.links.remove(path),
                    };
                    self.refresh_pack_workflows(&mut cat, i);
                    self.catalog = Arc::new(cat);
                    return true;
                }
            }
            FileRole::Workflow => {
                if (text.is_some() || path.exists()) && !self.is_link_target(path) {
                    add_workflow(&mut cat, &pack_ref, &name, path);
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

/// `{sub}/{file name}`.
fn rel_name(path: &Path, sub: &str) -> String {
    let f = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    format!("{sub}/{f}")
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

    #[test]
    fn workflow_file_resolves_inside_the_pack_only() {
        assert_eq!(
            resolve_in_pack("actions", "workflows/x.workflow.yaml").as_deref(),
            Some("actions/workflows/x.workflow.yaml")
        );
        assert_eq!(
            resolve_in_pack("actions", "./../graphs/x.yaml").as_deref(),
            Some("graphs/x.yaml")
        );
        assert_eq!(resolve_in_pack("actions", "../../x.yaml"), None);
        assert_eq!(resolve_in_pack("actions", "/etc/passwd"), None);
        assert_eq!(resolve_in_pack("actions", "..\\x.yaml"), None);
        assert_eq!(resolve_in_pack("actions", ".."), None);
        assert_eq!(workflow_name(Path::new("a/deploy.workflow.yaml")), "deploy");
        assert_eq!(workflow_name(Path::new("a/.workflow.yaml")), ".workflow");
        assert_eq!(workflow_name(Path::new("a/x.yml")), "x");
    }

    #[test]
    fn action_linked_packs_link_graph_files_and_report_broken_links() {
        let t = tempfile::tempdir().unwrap();
        // Only actions/ and actions/workflows/: the pack is `up`, not `actions`.
        let p = t.path().join("up");
        std::fs::create_dir_all(p.join("actions/workflows")).unwrap();
        let w = |f: &str, text: &str| std::fs::write(p.join(f), text).unwrap();
        w(
            "actions/ship.yaml",
            "ref: up.ship\nworkflow_file: workflows/ship.workflow.yaml\nparameters:\n  env: {type: string}\n",
        );
        w("actions/workflows/ship.workflow.yaml", "version: x\n");
        w("actions/workflows/solo.workflow.yaml", "version: x\n");
        w("actions/gone.yaml", "workflow_file: workflows/gone.yaml\n");
        w("actions/out.yaml", "workflow_file: ../../../etc/passwd\n");
        w(
            "actions/twin.yaml",
            "workflow_file: ./workflows/ship.workflow.yaml\n",
        );
        let mut ws = Workspace::new(&[t.path().to_path_buf()], 1 << 20);
        assert_eq!(ws.packs.len(), 1);
        assert_eq!(ws.packs[0].pack_ref, "up");
        // The linked workflow is the action; the unlinked graph file is a
        // workflow named without `.workflow`; the linked graph is not one.
        assert_eq!(ws.catalog.doc("up.ship").unwrap().kind, ActionKind::Action);
        assert_eq!(
            ws.catalog.doc("up.solo").unwrap().kind,
            ActionKind::Workflow
        );
        assert!(ws.catalog.doc("up.ship.workflow").is_none());

        let graph = p.join("actions/workflows/ship.workflow.yaml");
        assert_eq!(ws.classify(&graph), Some((0, FileRole::Workflow)));
        assert_eq!(
            ws.unit_of(&graph),
            Some(Unit::Linked {
                pack_ref: "up".into(),
                name: "ship".into(),
                graph: graph.clone(),
                action: p.join("actions/ship.yaml"),
            })
        );
        assert_eq!(
            ws.unit_of(&p.join("actions/workflows/solo.workflow.yaml")),
            Some(Unit::Standalone {
                pack_ref: "up".into(),
                name: "solo".into()
            })
        );
        let problem = |ws: &mut Workspace, f: &str| match ws.unit_of(&p.join(f)) {
            Some(Unit::Fixed(ds)) => ds
                .first()
                .map(|d| (d.code, d.message.clone(), d.line, d.column)),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problem(&mut ws, "actions/gone.yaml"),
            Some((
                Code::InvalidWorkflowFile,
                "workflow_file 'workflows/gone.yaml' does not exist (looked for actions/workflows/gone.yaml in the pack)".into(),
                1,
                16
            ))
        );
        assert!(
            problem(&mut ws, "actions/out.yaml")
                .unwrap()
                .1
                .contains("leaves the pack folder")
        );
        assert!(
            problem(&mut ws, "actions/twin.yaml")
                .unwrap()
                .1
                .contains("is already the graph of actions/ship.yaml")
        );
        assert_eq!(problem(&mut ws, "actions/nolink.yaml"), None);

        // The link edited away: the graph file becomes a workflow of its own.
        let a = p.join("actions/ship.yaml");
        assert!(ws.file_changed(&a, Some("ref: up.ship\n")));
        assert_eq!(
            ws.catalog.doc("up.ship").unwrap().file.as_deref(),
            Some(a.as_path())
        );
        assert_eq!(ws.catalog.doc("up.twin").unwrap().kind, ActionKind::Action);
        assert!(
            matches!(ws.unit_of(&graph), Some(Unit::Linked { action, .. }) if action == p.join("actions/twin.yaml"))
        );
        assert!(ws.file_changed(&p.join("actions/twin.yaml"), Some("name: twin\n")));
        assert!(
            matches!(ws.unit_of(&graph), Some(Unit::Standalone { name, .. }) if name == "ship")
        );
    }
}
