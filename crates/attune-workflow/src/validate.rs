//! The validator: every rule of docs/WORKFLOW_FORMAT.md ("Validation"; explained per code in docs/RULES.md) over the spanned tree, in one
//! pass that collects all problems, plus the normalization of §3 (legacy
//! transitions folded into `next`, `vars` as a mapping, schemas in
//! JSON-Schema form). Pure: bytes and a catalog in, a `Validation` out.

use super::catalog::{ActionCatalog, is_json_schema_form, split_ref};
use super::diagnostic::{Code, Diagnostic, Fix};
use super::expr::{self, ExprScope};
use super::model::{SourceContext, Validation, Workflow, is_valid_name};
use super::suppress::Suppressions;
use super::yaml::{self, Limits, Node, NodeKind, Pos, YamlErrorKind};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// The top-level keys of the workflow format (also the editor's key completion).
pub const TOP_KEYS: &[&str] = &[
    "ref",
    "label",
    "description",
    "version",
    "parameters",
    "output",
    "vars",
    "tasks",
    "output_map",
    "tags",
    "cancellation_policy",
];

/// The keys of a task.
pub const TASK_KEYS: &[&str] = &[
    "name",
    "type",
    "action",
    "input",
    "when",
    "with_items",
    "batch_size",
    "concurrency",
    "retry",
    "timeout",
    "next",
    "on_success",
    "on_failure",
    "on_complete",
    "on_timeout",
    "decision",
    "publish",
    "join",
    "tasks",
    "permission_set_refs",
    // Upstream's alias of permission_set_refs (non-canonical-form).
    "permission_set_ref",
    "worker_selector",
    "worker_tolerations",
    "worker_affinity",
    "__chart_meta__",
];

/// The legacy transition keys (their value names tasks).
const TRANSITION_KEYS: &[&str] = &["on_success", "on_failure", "on_complete", "on_timeout"];

const LEGACY_KEYS: &[&str] = &[
    "on_success",
    "on_failure",
    "on_complete",
    "on_timeout",
    "decision",
    "publish",
];

/// Past this many diagnostics in one file, did-you-mean hints over task
/// names are no longer computed (keeps hostile files linear).
const HINT_BUDGET: usize = 100;

/// The keys of a `next` transition. `__chart_meta__` is where upstream's
/// visual builder keeps an edge's drawing; accepted and kept like the
/// task-level one.
pub const NEXT_KEYS: &[&str] = &["when", "publish", "do", "__chart_meta__"];
/// The keys of a retry policy.
pub const RETRY_KEYS: &[&str] = &["count", "delay", "backoff", "max_delay", "on_error"];
const DECISION_KEYS: &[&str] = &["when", "default", "next"];
const RESERVED: &[&str] = &[
    "parameters",
    "vars",
    "task",
    "system",
    "kv",
    "pack",
    "item",
    "batch",
    "index",
];
const JSON_TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "array", "object", "null",
];

/// Validate a workflow file with the default YAML budgets.
pub fn validate(src: &[u8], ctx: &SourceContext, catalog: &dyn ActionCatalog) -> Validation {
    validate_with_limits(src, ctx, catalog, &Limits::default())
}

/// Validate a YAML text (the HTTP "validate this text" endpoint).
pub fn validate_text(text: &str, ctx: &SourceContext, catalog: &dyn ActionCatalog) -> Validation {
    validate(text.as_bytes(), ctx, catalog)
}

/// Only the diagnostics of a workflow file: every rule of [`validate`], but
/// the normalized definition is not built, so `workflow` is always `None`.
/// For callers that report and store nothing (`attune validate`, validation
/// runs): about a fifth less work per file.
pub fn check(src: &[u8], ctx: &SourceContext, catalog: &dyn ActionCatalog) -> Validation {
    run(src, None, ctx, catalog, &Limits::default(), false)
}

/// Validate a workflow file with explicit YAML budgets.
pub fn validate_with_limits(
    src: &[u8],
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
    limits: &Limits,
) -> Validation {
    run(src, None, ctx, catalog, limits, true)
}

/// The action file of an action-linked workflow (upstream's layout): it
/// supplies `ref`, `label`, `description`, `tags`, `parameters` and
/// `output`; the graph-only file (`workflow_file`) supplies the rest.
#[derive(Debug, Clone, Copy)]
pub struct LinkedAction<'a> {
    pub text: &'a [u8],
    /// The action file relative to `packs_base_dir`, for its diagnostics.
    pub file: Option<&'a str>,
}

/// The keys an action-linked workflow takes from its action file.
pub const ACTION_KEYS: &[&str] = &[
    "ref",
    "label",
    "description",
    "tags",
    "parameters",
    "output",
];

/// Validate an action-linked workflow: the graph-only file `graph` and its
/// action file as one workflow. Diagnostics about what the action supplies
/// (parameters, label, …) carry the action's file and positions; the rest
/// the graph file's (`ctx.file`).
pub fn validate_linked(
    graph: &[u8],
    action: LinkedAction<'_>,
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
) -> Validation {
    run(graph, Some(action), ctx, catalog, &Limits::default(), true)
}

/// [`validate_linked`] without the normalized definition (as [`check`]).
pub fn check_linked(
    graph: &[u8],
    action: LinkedAction<'_>,
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
) -> Validation {
    run(graph, Some(action), ctx, catalog, &Limits::default(), false)
}

/// Adds `by` to the offset of every node of `n` (the action file's nodes
/// live after the graph file's text in the checker's source).
fn shift(n: &mut Node, by: usize) {
    n.pos.offset += by;
    match &mut n.kind {
        NodeKind::Seq(items) => items.iter_mut().for_each(|i| shift(i, by)),
        NodeKind::Map(entries) => {
            for e in entries {
                shift(&mut e.key, by);
                shift(&mut e.value, by);
            }
        }
        _ => {}
    }
}

fn run(
    src: &[u8],
    linked: Option<LinkedAction<'_>>,
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
    limits: &Limits,
    normalize: bool,
) -> Validation {
    let wref = ctx.workflow_ref();
    let action_file = linked.and_then(|l| l.file);
    let finish = |mut diags: Vec<Diagnostic>, suppressed: usize, wf: Option<Workflow>| {
        for d in &mut diags {
            d.r#ref = Some(wref.clone());
            // The checker marks the action file's diagnostics.
            if d.file.is_some() {
                d.file = action_file.map(str::to_string);
            } else {
                d.file = ctx.file.map(str::to_string);
            }
        }
        // Graph file first, then the action file's; each by position.
        diags.sort_by_key(|d| {
            (
                d.file.as_deref() == action_file && action_file.is_some(),
                d.line,
                d.column,
            )
        });
        let workflow = if diags.iter().any(Diagnostic::is_error) {
            None
        } else {
            wf
        };
        Validation {
            workflow,
            diagnostics: diags,
            suppressed,
        }
    };
    let text = match std::str::from_utf8(src) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let (line, column) = line_col(src, at);
            let d = Diagnostic::new(
                Code::FileUnreadable,
                format!("file is not valid UTF-8 (invalid byte at offset {at})"),
                line,
                column,
            )
            .with_hint("save the file as UTF-8");
            return finish(vec![d], 0, None);
        }
    };
    let parse_err = |e: yaml::YamlError| {
        let code = match e.kind {
            YamlErrorKind::Syntax => Code::YamlSyntax,
            YamlErrorKind::Limits => Code::YamlLimits,
        };
        Diagnostic::new(code, e.message, e.pos.line, e.pos.column)
    };
    let mut doc = match yaml::parse(text, limits) {
        Ok(d) => d,
        Err(e) => return finish(vec![parse_err(e)], 0, None),
    };
    // An action-linked workflow: the checker's source is the graph file's
    // text, a newline, then the action file's, so every node's offset
    // points into one string; the action's nodes are marked by offset.
    let mut joined = String::new();
    let mut action_base = usize::MAX;
    let mut action_text = "";
    let mut early = Vec::new();
    if let Some(l) = linked {
        let in_action = |mut d: Diagnostic| {
            d.file = Some(String::new());
            d
        };
        let atext = match std::str::from_utf8(l.text) {
            Ok(t) => t,
            Err(e) => {
                let at = e.valid_up_to();
                let (line, column) = line_col(l.text, at);
                let d = Diagnostic::new(
                    Code::FileUnreadable,
                    format!("file is not valid UTF-8 (invalid byte at offset {at})"),
                    line,
                    column,
                )
                .with_hint("save the file as UTF-8");
                return finish(vec![in_action(d)], 0, None);
            }
        };
        let mut adoc = match yaml::parse(atext, limits) {
            Ok(d) => d,
            Err(e) => return finish(vec![in_action(parse_err(e))], 0, None),
        };
        action_base = text.len() + 1;
        shift(&mut adoc.root, action_base);
        for dup in &mut adoc.duplicates {
            dup.pos.offset += action_base;
        }
        joined = format!("{text}\n{atext}");
        action_text = atext;
        let graph_root_pos = doc.root.pos;
        let mut entries: Vec<yaml::Entry> = Vec::new();
        if let NodeKind::Map(es) = std::mem::replace(&mut doc.root.kind, NodeKind::Null) {
            for e in es {
                match e.key_str() {
                    Some(k) if ACTION_KEYS.contains(&k) => {
                        let mut d = Diagnostic::new(
                            Code::UnknownKey,
                            format!(
                                "key '{k}' in a graph-only file is ignored: the action file supplies it"
                            ),
                            e.key.pos.line,
                            e.key.pos.column,
                        )
                        .with_path(k.to_string());
                        d.hint = Some(format!("remove `{k}` here; set it in the action file"));
                        early.push(d);
                    }
                    _ => entries.push(e),
                }
            }
        }
        if let NodeKind::Map(aes) = &adoc.root.kind {
            for e in aes {
                if e.key_str().is_some_and(|k| ACTION_KEYS.contains(&k)) {
                    entries.push(e.clone());
                }
            }
        }
        doc.root = Node {
            kind: NodeKind::Map(entries),
            pos: graph_root_pos,
            style: doc.root.style,
        };
        doc.duplicates.extend(adoc.duplicates);
    }
    let checker_src = if linked.is_some() {
        joined.as_str()
    } else {
        text
    };
    let mut c = Checker {
        src: checker_src,
        ctx,
        catalog,
        diags: Vec::new(),
        params: None,
        vars: HashSet::new(),
        all_tasks: HashMap::new(),
        task_set: HashSet::new(),
        normalize,
        memo: None,
        action_base,
    };
    c.diags.append(&mut early);
    for dup in &doc.duplicates {
        c.push(
            Code::YamlSyntax,
            format!(
                "duplicate key '{}' (first defined at line {})",
                dup.key, dup.first.line
            ),
            dup.pos,
            &ROOT,
        )
        .hint = Some("remove one of the two keys; YAML keeps only one".to_string());
    }
    let wf = c.check_root(&doc.root);
    let sup = Suppressions::scan(text);
    let action_sup = Suppressions::scan(action_text);
    let before = c.diags.len();
    let mut diags: Vec<Diagnostic> = if sup.is_empty() && action_sup.is_empty() {
        c.diags
    } else {
        c.diags
            .into_iter()
            .filter(|d| {
                if d.file.is_some() {
                    !action_sup.silences(d)
                } else {
                    !sup.silences(d)
                }
            })
            .collect()
    };
    let suppressed = before - diags.len();
    if linked.is_some() {
        // Edits in the action file: offsets into that file.
        for d in &mut diags {
            if let Some(f) = &mut d.fix
                && f.offset >= action_base
            {
                f.offset -= action_base;
            }
        }
    }
    finish(diags, suppressed, wf)
}

fn line_col(src: &[u8], at: usize) -> (u32, u32) {
    let before = &src[..at.min(src.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count() as u32
        + 1;
    (line, col)
}

/// The nearest candidate to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lw = word.to_ascii_lowercase();
    let len = word.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        // Cheap length filter first: the distance is at least the length gap.
        .filter(|c| {
            c.len().abs_diff(word.len()) <= limit * 4 && c.chars().count().abs_diff(len) <= limit
        })
        .map(|c| (strsim::damerau_levenshtein(&lw, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= limit && *c != word)
        // Ties go to the smallest name, so the hint never depends on the
        // order of a hash set.
        .min()
        .map(|(_, c)| c)
}

/// One task list's graph, for reachability.
struct ListGraph<'n> {
    /// (name, task node, index in its list)
    names: Vec<(String, &'n Node, usize)>,
    edges: Vec<Vec<String>>,
}

struct Checker<'a> {
    src: &'a str,
    ctx: &'a SourceContext<'a>,
    catalog: &'a dyn ActionCatalog,
    diags: Vec<Diagnostic>,
    /// Declared parameter names; None when `parameters` is not understood.
    params: Option<HashSet<String>>,
    vars: HashSet<String>,
    /// Every task name in the file, with the path of its list.
    all_tasks: HashMap<String, String>,
    /// The same names, as the expression checker wants them.
    task_set: HashSet<String>,
    /// Build the normalized definition (off for [`check`]).
    normalize: bool,
    /// Template checks already made in this file, once every name is known
    /// (`None` before): the same text in the same scope gives the same
    /// issues, and workflows repeat their templates (`{{ succeeded() }}`,
    /// `{{ parameters.env }}`).
    memo: Option<ExprMemo>,
    /// Where the action file's text starts in `src` (an action-linked
    /// workflow); `usize::MAX` otherwise.
    action_base: usize,
}

#[derive(Default)]
struct ExprMemo {
    /// By text; index 1 inside `with_items`.
    templates: [HashMap<String, Vec<expr::ExprIssue>>; 2],
    /// `when` strings: issues and constant value.
    conditions: HashMap<String, (Vec<expr::ExprIssue>, Option<bool>)>,
}

impl<'a> Checker<'a> {
    fn push(
        &mut self,
        code: Code,
        msg: impl Into<String>,
        pos: Pos,
        path: &Loc<'_>,
    ) -> &mut Diagnostic {
        let mut d = Diagnostic::new(code, msg, pos.line, pos.column).with_path(path.to_string());
        if pos.offset >= self.action_base {
            // In the action file; `finish` names it.
            d.file = Some(String::new());
        }
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str, path: &Loc<'_>) {
        self.push(
            Code::WrongType,
            format!("{what} must be {expected}, found {}", node.type_name()),
            node.pos,
            path,
        );
    }

    fn unknown_keys(&mut self, map: &Node, known: &[&str], path: &Loc<'_>, what: &str) {
        let Some(entries) = map.as_map() else {
            return;
        };
        for e in entries {
            let Some(k) = e.key_str() else {
                let p = path.key("?");
                self.push(
                    Code::UnknownKey,
                    format!(
                        "{what} has a key that is {}, not a string",
                        e.key.type_name()
                    ),
                    e.key.pos,
                    &p,
                );
                continue;
            };
            if known.contains(&k) || (matches!(path, Loc::Root) && k.starts_with("x-")) {
                // `x-*` top-level keys are extension keys (anchors, notes).
                continue;
            }
            let p = path.key(k);
            // Never propose a key the mapping already has: that would be a
            // duplicate key.
            let absent = |c: &&str| map.get(c).is_none();
            let special = special_key_proposal(what, k).filter(absent);
            let proposal =
                special.or_else(|| did_you_mean(k, known.iter().copied().filter(absent)));
            let (hint, fix) = match proposal {
                // A transition under its dashed name was never checked:
                // propose the rename only when its targets are tasks of
                // this list (else the edit would bring an unknown-task).
                Some(m)
                    if TRANSITION_KEYS.contains(&m) && !self.names_local_tasks(&e.value, path) =>
                {
                    (
                        Some(format!(
                            "attune spells it `{m}`; note that it names a task that is not in this task list"
                        )),
                        None,
                    )
                }
                Some(m) => (
                    Some(format!("did you mean '{m}'?")),
                    self.scalar_fix(&e.key, m),
                ),
                None => (special_key_hint(what, k), None),
            };
            let d = self.push(
                Code::UnknownKey,
                format!("unknown key '{k}' in {what}"),
                e.key.pos,
                &p,
            );
            d.hint = hint;
            d.fix = fix;
        }
    }

    /// True when `value` is a task name or a list of task names, all in the
    /// task list of the task at `task_path`.
    fn names_local_tasks(&self, value: &Node, task_path: &Loc<'_>) -> bool {
        let task_path = task_path.to_string();
        let list = task_path
            .rsplit_once('[')
            .map(|(l, _)| l)
            .unwrap_or(&task_path);
        let known = |n: &Node| {
            n.as_str()
                .is_some_and(|s| self.all_tasks.get(s).is_some_and(|l| l == list))
        };
        match value.as_seq() {
            Some(items) => !items.is_empty() && items.iter().all(known),
            None => known(value),
        }
    }

    /// The edit that replaces the whole scalar `node` by `text`, when the
    /// source spells the scalar verbatim.
    fn scalar_fix(&self, node: &Node, text: &str) -> Option<Fix> {
        let len = node.as_str()?.len();
        let (offset, len) = node.source_range(self.src, 0, len)?;
        Some(Fix {
            offset,
            len,
            text: text.to_string(),
        })
    }

    // ---------------------------------------------------------------- root

    fn check_root(&mut self, root: &Node) -> Option<Workflow> {
        if root.as_map().is_none() {
            let msg = if root.is_null() {
                "the file is empty; a workflow is a mapping with version and tasks".to_string()
            } else {
                format!(
                    "a workflow file must be a mapping, found {}",
                    root.type_name()
                )
            };
            self.push(Code::NotAMapping, msg, root.pos, &ROOT).hint =
                Some("start the file with `version: \"1.0.0\"` and `tasks:`".to_string());
            return None;
        }
        self.unknown_keys(root, TOP_KEYS, &ROOT, "the workflow");

        // ref
        let expected_ref = self.ctx.workflow_ref();
        if let Some(r) = root.get("ref") {
            match r.as_str() {
                Some(s) => {
                    self.max_len(r, s, 255, "ref", &ROOT.key("ref"));
                    if s != expected_ref {
                        self.push(
                            Code::RefMismatch,
                            format!("ref '{s}' does not match the file: expected '{expected_ref}'"),
                            r.pos,
                            &ROOT.key("ref"),
                        )
                        .hint = Some(format!(
                            "a workflow's ref is {{pack_ref}}.{{file name}}; write `ref: {expected_ref}` or remove ref"
                        ));
                    }
                }
                None => self.wrong_type(r, "ref", "a string", &ROOT.key("ref")),
            }
        }
        // label
        let mut label = self.ctx.name.to_string();
        match root.get("label") {
            None => {
                self.push(
                    Code::MissingLabel,
                    format!("the workflow has no label; '{}' is used", self.ctx.name),
                    root.pos,
                    &ROOT,
                )
                .hint = Some("add `label: \"A readable title\"`".to_string());
            }
            Some(l) => match l.as_str() {
                Some(s) => {
                    self.max_len(l, s, 255, "label", &ROOT.key("label"));
                    label = s.to_string();
                }
                None => self.wrong_type(l, "label", "a string", &ROOT.key("label")),
            },
        }
        let mut description = None;
        if let Some(d) = root.get("description") {
            match d.as_str() {
                Some(s) => description = Some(s.to_string()),
                None if d.is_null() => {}
                None => self.wrong_type(d, "description", "a string", &ROOT.key("description")),
            }
        }
        // version
        let mut version = String::new();
        match root.get("version") {
            None => {
                self.push(
                    Code::MissingField,
                    "Missing required field: version",
                    root.pos,
                    &ROOT,
                )
                .hint = Some("add `version: \"1.0.0\"`".to_string());
            }
            Some(v) => match v.as_str() {
                Some("") => {
                    self.push(
                        Code::WrongType,
                        "version must not be empty",
                        v.pos,
                        &ROOT.key("version"),
                    );
                }
                Some(s) => {
                    self.max_len(v, s, 50, "version", &ROOT.key("version"));
                    if !is_semver(s) {
                        self.push(
                            Code::VersionNotSemver,
                            format!("version '{s}' is not a semantic version (MAJOR.MINOR.PATCH)"),
                            v.pos,
                            &ROOT.key("version"),
                        )
                        .hint = Some("write a version like \"1.0.0\"".to_string());
                    }
                    version = s.to_string();
                }
                None => {
                    self.wrong_type(v, "version", "a string", &ROOT.key("version"));
                    if let Some(d) = self.diags.last_mut() {
                        d.hint = Some("quote it: version: \"1.0.0\"".to_string());
                    }
                }
            },
        }
        // parameters / output
        let param_schema = self.check_schema(root.get("parameters"), "parameters", true);
        let out_schema = self.check_schema(root.get("output"), "output", false);
        // vars
        let vars_json = self.check_vars(root.get("vars"));
        // tags
        let mut tags = Vec::new();
        if let Some(t) = root.get("tags") {
            match t.as_seq() {
                Some(items) => {
                    for (i, it) in items.iter().enumerate() {
                        match it.as_str() {
                            Some(s) => tags.push(s.to_string()),
                            None => {
                                self.wrong_type(it, "a tag", "a string", &ROOT.key("tags").index(i))
                            }
                        }
                    }
                }
                None if t.is_null() => {}
                None => self.wrong_type(t, "tags", "a list of strings", &ROOT.key("tags")),
            }
        }
        if let Some(cp) = root.get("cancellation_policy") {
            match cp.as_str() {
                Some("allow_finish" | "cancel_running") => {}
                _ => {
                    let found = cp
                        .scalar_text()
                        .unwrap_or_else(|| cp.type_name().to_string());
                    self.push(
                        Code::WrongType,
                        format!("cancellation_policy must be allow_finish or cancel_running, found '{found}'"),
                        cp.pos,
                        &ROOT.key("cancellation_policy"),
                    );
                }
            }
        }

        // Pre-pass: every task name and every published variable.
        if let Some(tasks) = root.get("tasks").and_then(Node::as_seq) {
            self.all_tasks.reserve(tasks.len());
            collect_names(
                tasks,
                &ROOT.key("tasks"),
                &mut self.all_tasks,
                &mut self.vars,
            );
            self.task_set = self.all_tasks.keys().cloned().collect();
        }
        // Every name templates may use is known from here on.
        self.memo = Some(ExprMemo::default());

        // vars values and output_map may use templates.
        if let Some(v) = root.get("vars") {
            self.check_templates_in(v, &ROOT.key("vars"), false);
        }
        if let Some(om) = root.get("output_map") {
            match om.as_map() {
                Some(_) => self.check_templates_in(om, &ROOT.key("output_map"), false),
                None if om.is_null() => {}
                None => self.wrong_type(
                    om,
                    "output_map",
                    "a mapping of names to templates",
                    &ROOT.key("output_map"),
                ),
            }
        }

        // tasks
        let mut task_count = 0u32;
        let tasks_json = match root.get("tasks") {
            None => {
                self.push(
                    Code::MissingField,
                    "Missing required field: tasks",
                    root.pos,
                    &ROOT,
                )
                .hint = Some(
                    "add `tasks:` with a list of tasks, each with a name and an action".to_string(),
                );
                None
            }
            Some(t) => self.check_task_list(t, &ROOT.key("tasks"), &mut task_count),
        };

        if !self.normalize {
            return None;
        }
        // Normalized definition.
        let mut def = Map::new();
        for e in root.as_map().unwrap_or(&[]) {
            if let Some(k) = e.key_str()
                && k != "tasks"
                && k != "vars"
            {
                def.insert(k.to_string(), e.value.to_json());
            }
        }
        def.insert("ref".into(), Value::String(expected_ref.clone()));
        def.insert("label".into(), Value::String(label.clone()));
        if let Some(v) = vars_json {
            def.insert("vars".into(), v);
        }
        if let Some(t) = tasks_json {
            def.insert("tasks".into(), Value::Array(t));
        }
        Some(Workflow {
            r#ref: expected_ref,
            pack_ref: self.ctx.pack_ref.to_string(),
            name: self.ctx.name.to_string(),
            label,
            description,
            version,
            param_schema,
            out_schema,
            tags,
            definition: Value::Object(def),
            task_count,
        })
    }

    fn max_len(&mut self, node: &Node, s: &str, max: usize, what: &str, path: &Loc<'_>) {
        let n = s.chars().count();
        if n > max {
            self.push(
                Code::FieldTooLong,
                format!("{what} is {n} characters long; the limit is {max}"),
                node.pos,
                path,
            );
        }
    }

    // ------------------------------------------------------------- schemas

    /// Check `parameters` / `output`; returns the JSON-Schema form.
    fn check_schema(&mut self, node: Option<&Node>, key: &str, is_params: bool) -> Option<Value> {
        let node = match node {
            None => {
                if is_params {
                    self.params = Some(HashSet::new());
                }
                return None;
            }
            Some(n) if n.is_null() => {
                if is_params {
                    self.params = Some(HashSet::new());
                }
                return None;
            }
            Some(n) => n,
        };
        let base = ROOT.key(key);
        let Some(entries) = node.as_map() else {
            self.wrong_type(node, key, "a mapping", &base);
            return None;
        };
        let errors_before = self.diags.len();
        let mut names = HashSet::new();
        let schema = if is_json_schema_form(node) {
            if let Some(t) = node.get("type")
                && t.as_str() != Some("object")
            {
                self.push(
                    Code::InvalidSchema,
                    format!("{key} in JSON-Schema form must have `type: object`"),
                    t.pos,
                    &base.key("type"),
                );
            }
            let props = node.get("properties");
            let mut prop_names = Vec::new();
            if let Some(p) = props {
                match p.as_map() {
                    Some(pe) => {
                        for e in pe {
                            let name = e.key.scalar_text().unwrap_or_default();
                            let props = base.key("properties");
                            let path = props.key(&name);
                            self.check_param_def(&e.value, &name, &path, key, false);
                            names.insert(name.clone());
                            prop_names.push(name);
                        }
                    }
                    None => {
                        self.push(
                            Code::InvalidSchema,
                            format!(
                                "{key}.properties must be a mapping, found {}",
                                p.type_name()
                            ),
                            p.pos,
                            &base.key("properties"),
                        );
                    }
                }
            }
            if let Some(r) = node.get("required") {
                match r.as_seq() {
                    Some(items) => {
                        for (i, it) in items.iter().enumerate() {
                            let required = base.key("required");
                            let path = required.index(i);
                            match it.as_str() {
                                Some(s) if prop_names.iter().any(|p| p == s) => {}
                                Some(s) => {
                                    let m = did_you_mean(s, prop_names.iter().map(String::as_str));
                                    let hint = m.map(|m| format!("did you mean '{m}'?"));
                                    let fix = m.and_then(|m| self.scalar_fix(it, m));
                                    let d = self.push(
                                        Code::InvalidSchema,
                                        format!(
                                            "required names '{s}', which is not in {key}.properties"
                                        ),
                                        it.pos,
                                        &path,
                                    );
                                    d.hint = hint;
                                    d.fix = fix;
                                }
                                None => {
                                    self.push(
                                        Code::InvalidSchema,
                                        format!(
                                            "required must list property names, found {}",
                                            it.type_name()
                                        ),
                                        it.pos,
                                        &path,
                                    );
                                }
                            }
                        }
                    }
                    None => {
                        self.push(
                            Code::InvalidSchema,
                            format!(
                                "{key}.required must be a list of property names, found {}",
                                r.type_name()
                            ),
                            r.pos,
                            &base.key("required"),
                        );
                    }
                }
            }
            node.to_json()
        } else {
            let mut props = Map::new();
            let mut required = Vec::new();
            for e in entries {
                let name = e.key.scalar_text().unwrap_or_default();
                let path = base.key(&name);
                self.check_param_def(&e.value, &name, &path, key, true);
                names.insert(name.clone());
                let mut def = e.value.to_json();
                if let Value::Object(m) = &mut def
                    && m.remove("required") == Some(Value::Bool(true))
                {
                    required.push(Value::String(name.clone()));
                }
                props.insert(name, def);
            }
            let mut s = Map::new();
            s.insert("type".into(), json!("object"));
            s.insert("properties".into(), Value::Object(props));
            if !required.is_empty() {
                s.insert("required".into(), Value::Array(required));
            }
            Value::Object(s)
        };
        if is_params {
            self.params = if self.diags.len() == errors_before {
                Some(names)
            } else {
                None
            };
        }
        Some(schema)
    }

    fn check_param_def(&mut self, def: &Node, name: &str, path: &Loc<'_>, key: &str, flat: bool) {
        if def.as_map().is_none() {
            let d = self.push(
                Code::InvalidSchema,
                format!(
                    "{key} '{name}' must be a mapping like {{type: string}}, found {}",
                    def.type_name()
                ),
                def.pos,
                path,
            );
            if flat && key == "output" && def.as_str().is_some() {
                d.hint = Some("output describes the result's schema; map results to templates under `output_map`".to_string());
            }
            return;
        }
        if let Some(t) = def.get("type") {
            let ok = match &t.kind {
                NodeKind::Str(s) => JSON_TYPES.contains(&s.as_str()),
                NodeKind::Seq(items) => items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| JSON_TYPES.contains(&s))),
                _ => false,
            };
            if !ok {
                let found = t.found_text();
                let m = t
                    .as_str()
                    .and_then(|s| did_you_mean(s, JSON_TYPES.iter().copied()));
                let fix = m.and_then(|m| self.scalar_fix(t, m));
                let hint = m
                    .map(|m| format!("did you mean '{m}'?"))
                    .unwrap_or_else(|| format!("use one of: {}", JSON_TYPES.join(", ")));
                let d = self.push(
                    Code::InvalidSchema,
                    format!("{key} '{name}' has an unknown type '{found}'"),
                    t.pos,
                    &path.key("type"),
                );
                d.hint = Some(hint);
                d.fix = fix;
            }
        }
        if let Some(r) = def.get("required")
            && r.as_bool().is_none()
        {
            self.push(
                Code::InvalidSchema,
                format!(
                    "{key} '{name}': required must be true or false, found {}",
                    r.type_name()
                ),
                r.pos,
                &path.key("required"),
            );
        }
    }

    // ---------------------------------------------------------------- vars

    fn check_vars(&mut self, node: Option<&Node>) -> Option<Value> {
        let node = node?;
        match &node.kind {
            NodeKind::Null => None,
            NodeKind::Map(entries) => {
                for e in entries {
                    let name = e.key.scalar_text().unwrap_or_default();
                    self.var_name(&e.key, &name, &ROOT.key("vars").key(&name));
                    self.vars.insert(name);
                }
                Some(node.to_json())
            }
            NodeKind::Seq(items) => {
                let mut m = Map::new();
                let mut ok = true;
                for (i, it) in items.iter().enumerate() {
                    let vars = ROOT.key("vars");
                    let path = vars.index(i);
                    match it.as_map() {
                        Some([e]) => {
                            let name = e.key.scalar_text().unwrap_or_default();
                            self.var_name(&e.key, &name, &path);
                            self.vars.insert(name.clone());
                            m.insert(name, e.value.to_json());
                        }
                        _ => {
                            ok = false;
                            self.push(
                                Code::WrongType,
                                format!("a vars list item must be a single `name: value` mapping, found {}", it.type_name()),
                                it.pos,
                                &path,
                            );
                        }
                    }
                }
                if ok {
                    let example = m
                        .keys()
                        .next()
                        .map(|k| format!("vars:\n  {k}: ..."))
                        .unwrap_or_else(|| "vars: {}".to_string());
                    self.push(
                        Code::NonCanonicalForm,
                        "vars is given as a list of single-key mappings; it is read as a mapping",
                        node.pos,
                        &ROOT.key("vars"),
                    )
                    .hint = Some(format!("write vars as a mapping: {example}"));
                }
                Some(Value::Object(m))
            }
            _ => {
                self.wrong_type(
                    node,
                    "vars",
                    "a mapping of names to values",
                    &ROOT.key("vars"),
                );
                None
            }
        }
    }

    fn var_name(&mut self, key: &Node, name: &str, path: &Loc<'_>) {
        if !is_valid_name(name) {
            self.push(
                Code::InvalidVariableName,
                format!("variable name '{name}' must match ^[A-Za-z0-9_-]+$"),
                key.pos,
                path,
            );
        }
    }

    // --------------------------------------------------------------- tasks

    fn check_task_list(
        &mut self,
        node: &Node,
        path: &Loc<'_>,
        count: &mut u32,
    ) -> Option<Vec<Value>> {
        let items = match &node.kind {
            NodeKind::Seq(items) => items,
            NodeKind::Map(entries) => {
                let first = entries
                    .first()
                    .and_then(|e| e.key_str())
                    .unwrap_or("task_name");
                self.push(
                    Code::WrongType,
                    format!("{path} must be a list of tasks, found a mapping"),
                    node.pos,
                    path,
                )
                .hint = Some(format!(
                    "this looks like StackStorm Orquesta syntax (tasks keyed by name); attune uses a list:\ntasks:\n  - name: {first}\n    action: ..."
                ));
                return None;
            }
            _ => {
                self.wrong_type(node, &path.to_string(), "a list of tasks", path);
                return None;
            }
        };
        if items.is_empty() {
            self.push(
                Code::EmptyTasks,
                format!("{path} is empty; a workflow needs at least one task"),
                node.pos,
                path,
            );
            return Some(Vec::new());
        }
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut graph = ListGraph {
            names: Vec::new(),
            edges: Vec::new(),
        };
        let local: HashSet<String> = items
            .iter()
            .filter_map(|t| t.get("name").and_then(Node::as_str).map(str::to_string))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (i, t) in items.iter().enumerate() {
            let tpath = path.index(i);
            *count += 1;
            let mut targets = Vec::new();
            if let Some(v) = self.check_task(t, &tpath, &local, &mut targets, count) {
                out.push(v);
            }
            if let Some(n) = t.get("name")
                && let Some(name) = n.as_str()
            {
                if let Some(first) = seen.get(name) {
                    self.push(
                        Code::DuplicateTask,
                        format!("duplicate task name '{name}' (first defined at line {first})"),
                        n.pos,
                        &tpath.key("name"),
                    )
                    .hint =
                        Some("task names must be unique within their list; rename one".to_string());
                } else {
                    seen.insert(name.to_string(), n.line());
                    graph.names.push((name.to_string(), t, i));
                    graph.edges.push(targets);
                }
            }
        }
        self.reachability(node, path, &graph);
        Some(out)
    }

    fn reachability(&mut self, list: &Node, path: &Loc<'_>, g: &ListGraph) {
        if g.names.is_empty() {
            return;
        }
        let index: HashMap<&str, usize> = g
            .names
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| (n.as_str(), i))
            .collect();
        let mut inbound = vec![false; g.names.len()];
        for (from, targets) in g.edges.iter().enumerate() {
            for t in targets {
                if let Some(&j) = index.get(t.as_str())
                    && j != from
                {
                    inbound[j] = true;
                }
            }
        }
        let entries: Vec<usize> = (0..g.names.len()).filter(|&i| !inbound[i]).collect();
        if entries.is_empty() {
            self.push(
                Code::NoEntryPoint,
                format!(
                    "every task in {path} is the target of a transition, so none of them starts"
                ),
                list.pos,
                path,
            )
            .hint = Some(format!(
                "a task with no incoming transition starts the list; remove the transitions into '{}'",
                g.names[0].0
            ));
            return;
        }
        let mut reached = vec![false; g.names.len()];
        let mut q: VecDeque<usize> = entries.into_iter().collect();
        for &i in &q {
            reached[i] = true;
        }
        while let Some(i) = q.pop_front() {
            for t in &g.edges[i] {
                if let Some(&j) = index.get(t.as_str())
                    && !reached[j]
                {
                    reached[j] = true;
                    q.push_back(j);
                }
            }
        }
        for (i, (name, node, idx)) in g.names.iter().enumerate() {
            if !reached[i] {
                let pos = node.get("name").map(|n| n.pos).unwrap_or(node.pos);
                self.push(
                    Code::UnreachableTask,
                    format!("Task '{name}' is never reached: only tasks that are themselves unreachable lead to it"),
                    pos,
                    &path.index(*idx).key("name"),
                );
            }
        }
    }

    fn check_task(
        &mut self,
        t: &Node,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
        count: &mut u32,
    ) -> Option<Value> {
        if t.as_map().is_none() {
            self.wrong_type(t, "a task", "a mapping with name and action", path);
            return None;
        }
        self.unknown_keys(t, TASK_KEYS, path, "a task");
        if let Some(e) = t.entry("permission_set_ref") {
            let both = t.get("permission_set_refs").is_some();
            let fix = if both {
                None
            } else {
                self.scalar_fix(&e.key, "permission_set_refs")
            };
            let d = self.push(
                Code::NonCanonicalForm,
                "`permission_set_ref` is upstream's alias of `permission_set_refs`",
                e.key.pos,
                &path.key("permission_set_ref"),
            );
            d.hint = Some(if both {
                "remove `permission_set_ref`; `permission_set_refs` is given and wins".to_string()
            } else {
                "did you mean 'permission_set_refs'?".to_string()
            });
            d.fix = fix;
        }
        // name
        let name = match t.get("name") {
            None => {
                self.push(
                    Code::MissingField,
                    "Missing required field: name",
                    t.pos,
                    path,
                )
                .hint = Some("every task needs `name:`".to_string());
                String::from("?")
            }
            Some(n) => match n.as_str() {
                Some("") => {
                    self.push(
                        Code::WrongType,
                        "a task name must not be empty",
                        n.pos,
                        &path.key("name"),
                    );
                    String::from("?")
                }
                Some(s) => {
                    self.max_len(n, s, 255, "the task name", &path.key("name"));
                    if RESERVED.contains(&s) {
                        self.push(
                            Code::ReservedName,
                            format!("task name '{s}' is reserved"),
                            n.pos,
                            &path.key("name"),
                        )
                        .hint = Some(format!(
                            "'{s}' is an expression namespace; rename the task, e.g. '{s}_task'"
                        ));
                    }
                    s.to_string()
                }
                None => {
                    self.wrong_type(n, "a task name", "a string", &path.key("name"));
                    String::from("?")
                }
            },
        };
        // type
        let mut ttype = "action";
        if let Some(ty) = t.get("type") {
            match ty.as_str() {
                Some(s @ ("action" | "parallel" | "workflow")) => ttype = s,
                _ => {
                    let found = ty
                        .scalar_text()
                        .unwrap_or_else(|| ty.type_name().to_string());
                    // Only a type the task's other fields fit: `parallel`
                    // has `tasks`, the others an `action`.
                    let fits: &[&str] = match (t.get("tasks").is_some(), t.get("action").is_some())
                    {
                        (true, false) => &["parallel"],
                        (false, true) => &["action", "workflow"],
                        _ => &[],
                    };
                    let m = did_you_mean(&found, fits.iter().copied());
                    let fix = m.and_then(|m| self.scalar_fix(ty, m));
                    let hint = m
                        .map(|m| format!("did you mean '{m}'?"))
                        .unwrap_or_else(|| "use action, parallel or workflow".to_string());
                    let d = self.push(
                        Code::InvalidTaskType,
                        format!("Task '{name}' has an invalid type '{found}'"),
                        ty.pos,
                        &path.key("type"),
                    );
                    d.hint = Some(hint);
                    d.fix = fix;
                    ttype = "";
                }
            }
        }
        // action
        let mut action_info = None;
        let mut action_ref = String::new();
        match t.get("action") {
            None if ttype == "action" || ttype == "workflow" => {
                self.push(
                    Code::MissingField,
                    format!("Task '{name}' is missing required field: action"),
                    t.pos,
                    path,
                )
                .hint = Some(
                    "add `action: pack.action`, or `type: parallel` with `tasks:`".to_string(),
                );
            }
            None => {}
            Some(a) => match a.as_str() {
                Some(s) => {
                    action_ref = s.to_string();
                    action_info = self.check_action_ref(t, a, s, &name, &path.key("action"));
                }
                None => self.wrong_type(a, "action", "a string `pack.action`", &path.key("action")),
            },
        }
        // with_items and iteration options
        let with_items = t.get("with_items");
        if let Some(w) = with_items {
            match &w.kind {
                NodeKind::Str(_) => self.check_expr(w, &path.key("with_items"), false),
                NodeKind::Seq(_) => self.check_templates_in(w, &path.key("with_items"), false),
                _ => self.wrong_type(
                    w,
                    "with_items",
                    "a template or a list",
                    &path.key("with_items"),
                ),
            }
        }
        for opt in ["batch_size", "concurrency"] {
            if let Some(o) = t.get(opt) {
                let p = path.key(opt);
                match o.as_i64() {
                    Some(v) if v < 1 => {
                        self.push(
                            Code::InvalidIteration,
                            format!("{opt} must be at least 1, found {v}"),
                            o.pos,
                            &p,
                        );
                    }
                    Some(_) => {}
                    None => self.wrong_type(o, opt, "an integer", &p),
                }
                if with_items.is_none() {
                    self.push(
                        Code::UnusedIterationOption,
                        format!(
                            "Task '{name}' sets {opt} but has no with_items, so it has no effect"
                        ),
                        o.pos,
                        &p,
                    )
                    .hint = Some(format!("add `with_items:` or remove `{opt}`"));
                }
            }
        }
        let in_iter = with_items.is_some();
        // input
        if let Some(inp) = t.get("input") {
            let p = path.key("input");
            match inp.as_map() {
                Some(_) => self.check_templates_in(inp, &p, in_iter),
                None if inp.is_null() => {}
                None => self.wrong_type(inp, "input", "a mapping", &p),
            }
        }
        if let Some(info) = &action_info
            && let Some(params) = &info.parameters
        {
            self.check_inputs(t, &name, &action_ref, params, path);
        }
        // when
        if let Some(w) = t.get("when") {
            self.check_when(w, &path.key("when"));
        }
        // retry
        if let Some(r) = t.get("retry") {
            self.check_retry(r, &path.key("retry"));
        }
        for (key, what) in [
            ("timeout", "a positive integer (seconds)"),
            ("join", "an integer"),
        ] {
            if let Some(v) = t.get(key) {
                match v.as_i64() {
                    Some(n) if key == "timeout" && n < 1 => {
                        self.push(
                            Code::WrongType,
                            format!("timeout must be {what}, found {n}"),
                            v.pos,
                            &path.key(key),
                        );
                    }
                    Some(n) if n < 0 => {
                        self.push(
                            Code::WrongType,
                            format!("{key} must not be negative, found {n}"),
                            v.pos,
                            &path.key(key),
                        );
                    }
                    Some(_) => {}
                    None => self.wrong_type(v, key, what, &path.key(key)),
                }
            }
        }
        // transitions
        let next = self.check_transitions(t, &name, path, local, targets);
        // nested tasks
        let mut sub = None;
        match (ttype, t.get("tasks")) {
            ("parallel", None) => {
                self.push(
                    Code::MissingField,
                    format!("parallel task '{name}' is missing required field: tasks"),
                    t.pos,
                    path,
                )
                .hint = Some("a parallel task runs the tasks listed under `tasks:`".to_string());
            }
            ("parallel", Some(list)) => {
                sub = self.check_task_list(list, &path.key("tasks"), count);
            }
            (_, Some(list)) => {
                self.push(
                    Code::UnknownKey,
                    format!("Task '{name}' has tasks but is not a parallel task"),
                    t.entry("tasks").map(|e| e.key.pos).unwrap_or(list.pos),
                    &path.key("tasks"),
                )
                .hint = Some("add `type: parallel` or remove `tasks`".to_string());
            }
            _ => {}
        }

        if !self.normalize {
            return Some(Value::Null);
        }
        // Normalized task.
        let mut m = Map::new();
        m.insert("name".into(), Value::String(name));
        m.insert("type".into(), Value::String(ttype.to_string()));
        if let Some(entries) = t.as_map() {
            for e in entries {
                let Some(k) = e.key_str() else { continue };
                if k == "name"
                    || k == "type"
                    || k == "next"
                    || k == "tasks"
                    || k == "permission_set_ref"
                    || LEGACY_KEYS.contains(&k)
                {
                    continue;
                }
                m.insert(k.to_string(), e.value.to_json());
            }
            // The alias, normalized: a list, under the canonical key.
            if let Some(v) = t.get("permission_set_ref")
                && !m.contains_key("permission_set_refs")
            {
                let v = match v.to_json() {
                    Value::Array(a) => Value::Array(a),
                    Value::Null => Value::Array(Vec::new()),
                    other => Value::Array(vec![other]),
                };
                m.insert("permission_set_refs".into(), v);
            }
        }
        m.insert("next".into(), Value::Array(next));
        if let Some(s) = sub {
            m.insert("tasks".into(), Value::Array(s));
        }
        Some(Value::Object(m))
    }

    fn check_action_ref(
        &mut self,
        task_node: &Node,
        node: &Node,
        s: &str,
        task: &str,
        path: &Loc<'_>,
    ) -> Option<super::catalog::ActionInfo> {
        if expr::has_template(s) {
            self.check_expr(node, path, false);
            return None;
        }
        if !is_action_ref(s) {
            self.push(
                Code::InvalidActionRef,
                format!("Task '{task}' has an invalid action ref '{s}'"),
                node.pos,
                path,
            )
            .hint = Some("an action ref is `pack.action`, e.g. `core.echo`".to_string());
            return None;
        }
        if let Some(info) = self.catalog.lookup(s) {
            return Some(info);
        }
        let (pack, action_name) = split_ref(s).unwrap_or(("", s));
        let refs = self.catalog.refs_in_pack(pack);
        if refs.is_empty() && pack != self.ctx.pack_ref && !self.catalog.has_pack(pack) {
            let sources = self.catalog.pack_sources();
            let d = self.push(
                Code::UnknownPack,
                // The seed's message, whichever of the two it is; the code
                // and the hint tell them apart.
                format!("Task '{task}' references undefined action '{s}'"),
                node.pos,
                path,
            );
            d.hint = Some(format!(
                "pack '{pack}' is not present: packs are looked for in {sources}; install pack '{pack}' there, or name the folder holding it with `attune validate --packs-path DIR`"
            ));
            return None;
        }
        let m = did_you_mean_ref(s, &refs);
        // A ref whose required inputs the task does not give would trade
        // this error for missing-input: say so instead of proposing it.
        let missing: Vec<String> = m
            .and_then(|m| self.catalog.lookup(m))
            .and_then(|info| info.parameters)
            .map(|ps| {
                let given: Vec<String> = task_node
                    .get("input")
                    .and_then(Node::as_map)
                    .map(|es| es.iter().filter_map(|e| e.key.scalar_text()).collect())
                    .unwrap_or_default();
                ps.into_iter()
                    .filter(|p| p.required && !p.has_default && !given.contains(&p.name))
                    .map(|p| p.name)
                    .collect()
            })
            .unwrap_or_default();
        let fix = m
            .filter(|_| missing.is_empty())
            .and_then(|m| self.scalar_fix(node, m));
        let hint = match m {
            Some(m) if !missing.is_empty() => format!(
                "the closest is '{m}', which also needs input {}; add it under `input` and write `action: {m}`",
                missing
                    .iter()
                    .map(|p| format!("'{p}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(m) => format!("did you mean '{m}'?"),
            None if refs.is_empty() => format!(
                "pack '{pack}' has no actions or workflows here; add actions/{action_name}.yaml to pack '{pack}' or fix the ref"
            ),
            None => format!("pack '{pack}' has: {}", preview(&refs)),
        };
        let d = self.push(
            Code::UndefinedAction,
            format!("Task '{task}' references undefined action '{s}'"),
            node.pos,
            path,
        );
        d.hint = Some(hint);
        d.fix = fix;
        None
    }

    fn check_inputs(
        &mut self,
        t: &Node,
        task: &str,
        action: &str,
        params: &[super::catalog::ParamInfo],
        path: &Loc<'_>,
    ) {
        let input = t.get("input").filter(|i| i.as_map().is_some());
        let given: Vec<String> = input
            .and_then(Node::as_map)
            .map(|es| es.iter().filter_map(|e| e.key.scalar_text()).collect())
            .unwrap_or_default();
        let at = input.map(|i| i.pos).unwrap_or(t.pos);
        let at_path = if input.is_some() {
            path.key("input")
        } else {
            *path
        };
        for p in params {
            if p.required && !p.has_default && !given.iter().any(|g| g == &p.name) {
                self.push(
                    Code::MissingInput,
                    format!(
                        "Task '{task}' is missing required input '{}' of action '{action}'",
                        p.name
                    ),
                    at,
                    &at_path,
                )
                .hint = Some(format!("add `{}: ...` under input", p.name));
            }
        }
        if let Some(es) = input.and_then(Node::as_map) {
            for e in es {
                let Some(k) = e.key.scalar_text() else {
                    continue;
                };
                if params.iter().any(|p| p.name == k) {
                    continue;
                }
                // Never propose an input the task already passes.
                let m = did_you_mean(
                    &k,
                    params
                        .iter()
                        .map(|p| p.name.as_str())
                        .filter(|c| !given.iter().any(|g| g == c)),
                );
                let fix = m.and_then(|m| self.scalar_fix(&e.key, m));
                let hint = m.map(|m| format!("did you mean '{m}'?")).or_else(|| {
                    (!params.is_empty()).then(|| {
                        format!(
                            "'{action}' declares: {}",
                            params
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                });
                let d = self.push(
                    Code::UnexpectedInput,
                    format!(
                        "Task '{task}' passes input '{k}' that action '{action}' does not declare"
                    ),
                    e.key.pos,
                    &path.key("input").key(&k),
                );
                d.hint = hint;
                d.fix = fix;
            }
        }
    }

    fn check_retry(&mut self, r: &Node, path: &Loc<'_>) {
        if r.as_map().is_none() {
            self.push(
                Code::InvalidRetry,
                format!(
                    "retry must be a mapping with count, delay and backoff, found {}",
                    r.type_name()
                ),
                r.pos,
                path,
            );
            return;
        }
        self.unknown_keys(r, RETRY_KEYS, path, "retry");
        let mut delay = None;
        match r.get("count") {
            None => {
                self.push(
                    Code::InvalidRetry,
                    "retry needs a count between 1 and 100",
                    r.pos,
                    path,
                );
            }
            Some(c) => match c.as_i64() {
                Some(n) if (1..=100).contains(&n) => {}
                _ => {
                    let found = c.found_text();
                    self.push(
                        Code::InvalidRetry,
                        format!("retry count must be an integer between 1 and 100, found {found}"),
                        c.pos,
                        &path.key("count"),
                    );
                }
            },
        }
        if let Some(d) = r.get("delay") {
            match d.as_i64() {
                Some(n) if n >= 0 => delay = Some(n),
                _ => {
                    let found = d.found_text();
                    self.push(
                        Code::InvalidRetry,
                        format!("retry delay must be an integer of seconds ≥ 0, found {found}"),
                        d.pos,
                        &path.key("delay"),
                    );
                }
            }
        }
        if let Some(b) = r.get("backoff") {
            match b.as_str() {
                Some("constant" | "linear" | "exponential") => {}
                _ => {
                    let found = b.found_text();
                    let m = did_you_mean(&found, ["constant", "linear", "exponential"]);
                    let fix = m.and_then(|m| self.scalar_fix(b, m));
                    let hint = m
                        .map(|m| format!("did you mean '{m}'?"))
                        .unwrap_or_else(|| "use constant, linear or exponential".to_string());
                    let d = self.push(
                        Code::InvalidRetry,
                        format!(
                            "retry backoff must be constant, linear or exponential, found '{found}'"
                        ),
                        b.pos,
                        &path.key("backoff"),
                    );
                    d.hint = Some(hint);
                    d.fix = fix;
                }
            }
        }
        if let Some(md) = r.get("max_delay") {
            match md.as_i64() {
                Some(n) if n >= delay.unwrap_or(0) && n >= 0 => {}
                Some(n) => {
                    self.push(
                        Code::InvalidRetry,
                        format!(
                            "retry max_delay ({n}) must be at least delay ({})",
                            delay.unwrap_or(0)
                        ),
                        md.pos,
                        &path.key("max_delay"),
                    );
                }
                None => {
                    self.push(
                        Code::InvalidRetry,
                        format!(
                            "retry max_delay must be an integer of seconds, found {}",
                            md.type_name()
                        ),
                        md.pos,
                        &path.key("max_delay"),
                    );
                }
            }
        }
        if let Some(oe) = r.get("on_error") {
            self.check_templates_in(oe, &path.key("on_error"), false);
        }
    }

    // --------------------------------------------------------- transitions

    fn check_transitions(
        &mut self,
        t: &Node,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
    ) -> Vec<Value> {
        let legacy: Vec<&super::yaml::Entry> = t
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter(|e| e.key_str().is_some_and(|k| LEGACY_KEYS.contains(&k)))
            .collect();
        if let Some(next) = t.get("next") {
            if let Some(first) = legacy.first() {
                let k = first.key_str().unwrap_or("");
                self.push(
                    Code::LegacyTransitionsIgnored,
                    format!("Task '{task}' has both next and {k}; {k} is ignored"),
                    first.key.pos,
                    &path.key(k),
                )
                .hint = Some(format!("move the {k} transition into next"));
            }
            return self.check_next(next, task, &path.key("next"), local, targets);
        }
        let mut out: Vec<Value> = Vec::new();
        let mut publish: Option<Value> = None;
        for e in legacy {
            let k = e.key_str().unwrap_or("");
            let p = path.key(k);
            match k {
                "publish" => {
                    publish = self.check_publish(&e.value, &p);
                }
                "decision" => self.check_decision(&e.value, task, &p, local, targets, &mut out),
                _ => {
                    let cond = match k {
                        "on_success" => Some("succeeded()"),
                        "on_failure" => Some("failed()"),
                        "on_timeout" => Some("timed_out()"),
                        _ => None,
                    };
                    self.legacy_transition(&e.value, k, cond, task, &p, local, targets, &mut out);
                }
            }
        }
        if let Some(p) = publish {
            // Task-level publish: on the on_success transition when there is
            // one, otherwise a transition of its own, first.
            let succ = json!("{{ succeeded() }}");
            if let Some(Value::Object(m)) = out
                .iter_mut()
                .find(|v| v.get("when") == Some(&succ) && v.get("publish").is_none())
            {
                m.insert("publish".into(), p);
            } else {
                let mut m = Map::new();
                m.insert("when".into(), succ);
                m.insert("publish".into(), p);
                out.insert(0, Value::Object(m));
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn legacy_transition(
        &mut self,
        v: &Node,
        key: &str,
        cond: Option<&str>,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
        out: &mut Vec<Value>,
    ) {
        let base_when = cond.map(|c| format!("{{{{ {c} }}}}"));
        let mut push = |when: Option<String>, names: Vec<String>| {
            let mut m = Map::new();
            if let Some(w) = when {
                m.insert("when".into(), Value::String(w));
            }
            m.insert(
                "do".into(),
                Value::Array(names.into_iter().map(Value::String).collect()),
            );
            out.push(Value::Object(m));
        };
        match &v.kind {
            NodeKind::Str(s) => {
                self.target(v, s, task, path, local, targets);
                push(base_when, vec![s.clone()]);
            }
            NodeKind::Seq(items) => {
                let all_names = items.iter().all(|i| i.as_str().is_some());
                let canonical_example = format!(
                    "next:\n  - {}do: [...]",
                    base_when
                        .as_ref()
                        .map(|w| format!("when: \"{w}\"\n    "))
                        .unwrap_or_default()
                );
                if all_names {
                    let mut names = Vec::new();
                    for (i, it) in items.iter().enumerate() {
                        let s = it.as_str().unwrap_or_default();
                        self.target(it, s, task, &path.index(i), local, targets);
                        names.push(s.to_string());
                    }
                    self.push(
                        Code::NonCanonicalForm,
                        format!(
                            "{key} is given as a list of task names; it is read as one transition"
                        ),
                        v.pos,
                        path,
                    )
                    .hint = Some(format!("write {canonical_example}"));
                    push(base_when, names);
                    return;
                }
                let mut ok = true;
                for (i, it) in items.iter().enumerate() {
                    let ip = path.index(i);
                    if it.as_map().is_none() {
                        ok = false;
                        self.wrong_type(
                            it,
                            &format!("an item of {key}"),
                            "a task name or a `{when, do}` mapping",
                            &ip,
                        );
                        continue;
                    }
                    self.unknown_keys(it, &["when", "do"], &ip, &format!("an item of {key}"));
                    let mut when = base_when.clone();
                    if let Some(w) = it.get("when") {
                        self.check_when(w, &ip.key("when"));
                        if let Some(ws) = w.as_str() {
                            let inner = strip_block(ws);
                            when = Some(match cond {
                                Some(c) => format!("{{{{ {c} and ({inner}) }}}}"),
                                None => ws.to_string(),
                            });
                        }
                    }
                    let names = match it.get("do") {
                        Some(d) => self.check_do(d, task, &ip.key("do"), local, targets),
                        None => Vec::new(),
                    };
                    push(when, names);
                }
                if ok {
                    self.push(
                        Code::NonCanonicalForm,
                        format!("{key} is given as a list of {{when, do}} items; each is read as a transition whose condition is combined with {key}'s"),
                        v.pos,
                        path,
                    )
                    .hint = Some(format!(
                        "write next:\n  - when: \"{{{{ {} and (...) }}}}\"\n    do: [...]",
                        cond.unwrap_or("succeeded()")
                    ));
                }
            }
            _ => self.wrong_type(v, key, "a task name", path),
        }
    }

    fn check_decision(
        &mut self,
        v: &Node,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
        out: &mut Vec<Value>,
    ) {
        let Some(items) = v.as_seq() else {
            self.push(
                Code::InvalidDecision,
                format!(
                    "decision must be a list of {{when, next}} items, found {}",
                    v.type_name()
                ),
                v.pos,
                path,
            );
            return;
        };
        let mut conds: Vec<String> = Vec::new();
        let mut default_target: Option<String> = None;
        for (i, it) in items.iter().enumerate() {
            let ip = path.index(i);
            if it.as_map().is_none() {
                self.push(
                    Code::InvalidDecision,
                    format!(
                        "a decision item must be a mapping with when and next, found {}",
                        it.type_name()
                    ),
                    it.pos,
                    &ip,
                );
                continue;
            }
            self.unknown_keys(it, DECISION_KEYS, &ip, "a decision item");
            let next = it.get("next");
            let target = match next {
                None => {
                    // `- default: task` (a string) is reported once, below.
                    if it.get("default").and_then(Node::as_str).is_none() {
                        self.push(
                            Code::InvalidDecision,
                            format!("Task '{task}': decision item is missing next"),
                            it.pos,
                            &ip,
                        )
                        .hint = Some("add `next: task_name`".to_string());
                    }
                    None
                }
                Some(n) => match n.as_str() {
                    Some(s) => {
                        self.target(n, s, task, &ip.key("next"), local, targets);
                        Some(s.to_string())
                    }
                    None => {
                        self.push(
                            Code::InvalidDecision,
                            format!("decision next must be a task name, found {}", n.type_name()),
                            n.pos,
                            &ip.key("next"),
                        );
                        None
                    }
                },
            };
            match (it.get("when"), it.get("default")) {
                (Some(_), Some(d)) => {
                    self.push(
                        Code::InvalidDecision,
                        "a decision item has either when or default, not both",
                        d.pos,
                        &ip.key("default"),
                    );
                }
                (Some(w), None) => {
                    self.check_when(w, &ip.key("when"));
                    if let (Some(ws), Some(tg)) = (w.as_str(), &target) {
                        conds.push(strip_block(ws).to_string());
                        let mut m = Map::new();
                        m.insert("when".into(), Value::String(ws.to_string()));
                        m.insert("do".into(), json!([tg]));
                        out.push(Value::Object(m));
                    }
                }
                (None, Some(d)) => match d.as_bool() {
                    Some(true) => default_target = target,
                    _ => {
                        let found = d.found_text();
                        let hint = if next.is_none() && d.as_str().is_some() {
                            format!("write `- default: true` and `next: {found}`")
                        } else {
                            "write `default: true`".to_string()
                        };
                        self.push(
                            Code::InvalidDecision,
                            format!("decision default must be true, found '{found}'"),
                            d.pos,
                            &ip.key("default"),
                        )
                        .hint = Some(hint);
                    }
                },
                (None, None) => {
                    self.push(
                        Code::InvalidDecision,
                        "a decision item needs when (a condition) or `default: true`",
                        it.pos,
                        &ip,
                    );
                }
            }
        }
        if let Some(tg) = default_target {
            let mut m = Map::new();
            if !conds.is_empty() {
                let neg: Vec<String> = conds.iter().map(|c| format!("not ({c})")).collect();
                m.insert(
                    "when".into(),
                    Value::String(format!("{{{{ {} }}}}", neg.join(" and "))),
                );
            }
            m.insert("do".into(), json!([tg]));
            out.push(Value::Object(m));
        }
    }

    fn check_next(
        &mut self,
        next: &Node,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
    ) -> Vec<Value> {
        let Some(items) = next.as_seq() else {
            if !next.is_null() {
                self.wrong_type(next, "next", "a list of {when, publish, do} items", path);
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let ip = path.index(i);
            if it.as_map().is_none() {
                self.wrong_type(
                    it,
                    "a next item",
                    "a mapping with when, publish and do",
                    &ip,
                );
                continue;
            }
            self.unknown_keys(it, NEXT_KEYS, &ip, "a next item");
            let mut m = Map::new();
            if let Some(w) = it.get("when") {
                self.check_when(w, &ip.key("when"));
                m.insert("when".into(), w.to_json());
            }
            if let Some(p) = it.get("publish")
                && let Some(v) = self.check_publish(p, &ip.key("publish"))
            {
                m.insert("publish".into(), v);
            }
            if let Some(d) = it.get("do") {
                let names = self.check_do(d, task, &ip.key("do"), local, targets);
                m.insert(
                    "do".into(),
                    Value::Array(names.into_iter().map(Value::String).collect()),
                );
            }
            out.push(Value::Object(m));
        }
        out
    }

    fn check_do(
        &mut self,
        d: &Node,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
    ) -> Vec<String> {
        match &d.kind {
            NodeKind::Seq(items) => {
                let mut names = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let ip = path.index(i);
                    match it.as_str() {
                        Some(s) => {
                            self.target(it, s, task, &ip, local, targets);
                            names.push(s.to_string());
                        }
                        None => self.wrong_type(it, "a do item", "a task name", &ip),
                    }
                }
                names
            }
            NodeKind::Str(s) => {
                self.target(d, s, task, path, local, targets);
                self.push(
                    Code::NonCanonicalForm,
                    "do is given as a single task name; it is read as a list",
                    d.pos,
                    path,
                )
                .hint = Some(format!("write do: [{s}]"));
                vec![s.clone()]
            }
            NodeKind::Null => Vec::new(),
            _ => {
                self.wrong_type(d, "do", "a list of task names", path);
                Vec::new()
            }
        }
    }

    fn target(
        &mut self,
        node: &Node,
        name: &str,
        task: &str,
        path: &Loc<'_>,
        local: &HashSet<String>,
        targets: &mut Vec<String>,
    ) {
        targets.push(name.to_string());
        if local.contains(name) {
            return;
        }
        let (hint, fix) = match self.all_tasks.get(name) {
            Some(list) => (
                Some(format!(
                    "'{name}' is defined in another task list ({list}); transitions stay within their own list"
                )),
                None,
            ),
            // Hints cost a string distance per candidate: on hostile input
            // with thousands of problems, stop computing them. The task the
            // transition leaves is never proposed (a loop onto itself is not
            // what a typo meant).
            None if self.diags.len() < HINT_BUDGET => {
                match did_you_mean(
                    name,
                    local.iter().map(String::as_str).filter(|c| *c != task),
                ) {
                    Some(m) => (
                        Some(format!("did you mean '{m}'?")),
                        self.scalar_fix(node, m),
                    ),
                    None => (None, None),
                }
            }
            None => (None, None),
        };
        let d = self.push(
            Code::UnknownTask,
            format!("Task '{task}' references non-existent task '{name}'"),
            node.pos,
            path,
        );
        d.hint = hint;
        d.fix = fix;
    }

    fn check_publish(&mut self, p: &Node, path: &Loc<'_>) -> Option<Value> {
        match &p.kind {
            NodeKind::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    let ip = path.index(i);
                    match &it.kind {
                        NodeKind::Str(s) => self.var_name(it, s, &ip),
                        NodeKind::Map(entries) => {
                            for e in entries {
                                let k = e.key.scalar_text().unwrap_or_default();
                                self.var_name(&e.key, &k, &ip.key(&k));
                                self.check_templates_in(&e.value, &ip.key(&k), false);
                            }
                        }
                        _ => self.wrong_type(it, "a publish item", "`name: value` or a name", &ip),
                    }
                }
                Some(p.to_json())
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    let k = e.key.scalar_text().unwrap_or_default();
                    self.var_name(&e.key, &k, &path.key(&k));
                    self.check_templates_in(&e.value, &path.key(&k), false);
                }
                self.push(
                    Code::NonCanonicalForm,
                    "publish is given as a mapping; it is read as a list of single-key mappings",
                    p.pos,
                    path,
                )
                .hint = Some("write publish:\n  - name: value".to_string());
                Some(Value::Array(
                    entries
                        .iter()
                        .map(|e| {
                            let mut m = Map::new();
                            m.insert(e.key.scalar_text().unwrap_or_default(), e.value.to_json());
                            Value::Object(m)
                        })
                        .collect(),
                ))
            }
            NodeKind::Null => None,
            _ => {
                self.wrong_type(p, "publish", "a list of `name: value` items", path);
                None
            }
        }
    }

    // --------------------------------------------------------- expressions

    fn check_when(&mut self, w: &Node, path: &Loc<'_>) {
        match &w.kind {
            NodeKind::Str(s) => {
                let scope = ExprScope {
                    parameters: self.params.as_ref(),
                    vars: &self.vars,
                    tasks: &self.task_set,
                    in_iteration: false,
                };
                let (issues, constant) = match &mut self.memo {
                    Some(memo) => match memo.conditions.get(s.as_str()) {
                        Some(hit) => hit.clone(),
                        None => {
                            let checked = expr::check_condition(s, &scope);
                            memo.conditions.insert(s.clone(), checked.clone());
                            checked
                        }
                    },
                    None => expr::check_condition(s, &scope),
                };
                self.push_expr_issues(w, path, issues);
                if let Some(v) = constant {
                    let hint = if expr::has_template(s) {
                        "the condition does not depend on any result or parameter; remove it or test real data".to_string()
                    } else {
                        format!(
                            "a plain string is always true; wrap the condition in braces: when: \"{{{{ {} }}}}\"",
                            s.trim()
                        )
                    };
                    self.push(
                        Code::ConstantCondition,
                        format!("this condition is always {v}"),
                        w.pos,
                        path,
                    )
                    .hint = Some(hint);
                }
            }
            NodeKind::Bool(b) => {
                self.push(
                    Code::ConstantCondition,
                    format!("this condition is always {b}"),
                    w.pos,
                    path,
                )
                .hint = Some("remove the condition or test real data in {{ }}".to_string());
            }
            NodeKind::Null => {}
            _ => self.wrong_type(w, "when", "a template string", path),
        }
    }

    /// Check every string inside `node` (values only, not keys).
    fn check_templates_in(&mut self, node: &Node, path: &Loc<'_>, in_iter: bool) {
        match &node.kind {
            NodeKind::Str(_) => self.check_expr(node, path, in_iter),
            NodeKind::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    // Paths are built only for subtrees that hold templates.
                    if contains_template(it) {
                        self.check_templates_in(it, &path.index(i), in_iter);
                    }
                }
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    if !contains_template(&e.value) {
                        continue;
                    }
                    let k = e.key.scalar_text().unwrap_or_default();
                    self.check_templates_in(&e.value, &path.key(&k), in_iter);
                }
            }
            _ => {}
        }
    }

    fn check_expr(&mut self, node: &Node, path: &Loc<'_>, in_iter: bool) {
        let Some(s) = node.as_str() else { return };
        if !expr::has_template(s) {
            return;
        }
        let scope = ExprScope {
            parameters: self.params.as_ref(),
            vars: &self.vars,
            tasks: &self.task_set,
            in_iteration: in_iter,
        };
        let issues = match &mut self.memo {
            Some(memo) => {
                let m = &mut memo.templates[usize::from(in_iter)];
                match m.get(s) {
                    Some(issues) => issues.clone(),
                    None => {
                        let issues = expr::check_template(s, &scope);
                        m.insert(s.to_string(), issues.clone());
                        issues
                    }
                }
            }
            None => expr::check_template(s, &scope),
        };
        self.push_expr_issues(node, path, issues);
    }

    fn push_expr_issues(&mut self, node: &Node, path: &Loc<'_>, issues: Vec<expr::ExprIssue>) {
        for issue in issues {
            let code = Code::parse(issue.code).unwrap_or(Code::ExpressionSyntax);
            let pos = node.pos_in_value(self.src, issue.offset);
            let fix = issue.fix.and_then(|f| {
                let (offset, len) = node.source_range(self.src, f.offset, f.offset + f.len)?;
                // The edit stays on one line of a plain scalar's source, or
                // inside the quotes it is in: a quote or a newline in the
                // text would change the YAML around it.
                let text = match node.style {
                    yaml::Style::Plain if f.text.contains(": ") || f.text.contains(" #") => {
                        return None;
                    }
                    yaml::Style::SingleQuoted => f.text.replace('\'', "''"),
                    yaml::Style::DoubleQuoted => f.text.replace('\\', "\\\\").replace('"', "\\\""),
                    _ => f.text,
                };
                (!text.contains('\n')).then_some(Fix { offset, len, text })
            });
            let d = self.push(code, issue.message, pos, path);
            d.hint = issue.hint;
            d.fix = fix;
        }
    }
}

/// Pre-pass: every task name (with the path of its list) and every
/// variable published anywhere.
fn collect_names(
    items: &[Node],
    path: &Loc<'_>,
    tasks: &mut HashMap<String, String>,
    vars: &mut HashSet<String>,
) {
    for (i, t) in items.iter().enumerate() {
        if let Some(n) = t.get("name").and_then(Node::as_str) {
            tasks
                .entry(n.to_string())
                .or_insert_with(|| path.to_string());
        }
        let next = t.get("next").and_then(Node::as_seq).unwrap_or(&[]);
        let publishes = t
            .get("publish")
            .into_iter()
            .chain(next.iter().filter_map(|n| n.get("publish")));
        for p in publishes {
            match &p.kind {
                NodeKind::Seq(items) => {
                    for it in items {
                        match &it.kind {
                            NodeKind::Str(s) => {
                                vars.insert(s.clone());
                            }
                            NodeKind::Map(es) => {
                                vars.extend(es.iter().filter_map(|e| e.key.scalar_text()));
                            }
                            _ => {}
                        }
                    }
                }
                NodeKind::Map(es) => vars.extend(es.iter().filter_map(|e| e.key.scalar_text())),
                _ => {}
            }
        }
        if let Some(sub) = t.get("tasks").and_then(Node::as_seq) {
            collect_names(sub, &path.index(i).key("tasks"), tasks, vars);
        }
    }
}

/// True when a string anywhere in `node` holds `{{`.
fn contains_template(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Str(s) => expr::has_template(s),
        NodeKind::Seq(items) => items.iter().any(contains_template),
        NodeKind::Map(entries) => entries.iter().any(|e| contains_template(&e.value)),
        _ => false,
    }
}

/// Where a node sits in the document (`tasks[2].next[0].do`), built as a
/// chain of borrowed segments on the stack and turned into text only when a
/// diagnostic needs it: most paths are never printed.
#[derive(Clone, Copy)]
enum Loc<'a> {
    Root,
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

/// The document root; `ROOT.key("tasks")` prints as `tasks`.
const ROOT: Loc<'static> = Loc::Root;

impl<'a> Loc<'a> {
    fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc::Key(self, key)
    }
    fn index(&'a self, i: usize) -> Loc<'a> {
        Loc::Index(self, i)
    }
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Root => Ok(()),
            Loc::Key(Loc::Root, key) => f.write_str(key),
            Loc::Key(parent, key) => write!(f, "{parent}.{key}"),
            Loc::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// `{{ x }}` → `x` when the string is exactly one block; else the string.
fn strip_block(s: &str) -> &str {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
        && !inner.contains("{{")
    {
        return inner.trim();
    }
    t
}

fn is_action_ref(s: &str) -> bool {
    let ok_seg = |seg: &str| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    s.contains('.') && s.split('.').all(ok_seg)
}

fn is_semver(s: &str) -> bool {
    let (core, _) = s.split_once(['-', '+']).unwrap_or((s, ""));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && s[core.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+')
}

fn did_you_mean_ref<'r>(s: &str, refs: &'r [String]) -> Option<&'r str> {
    let name = split_ref(s).map(|(_, n)| n).unwrap_or(s);
    let lw = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    refs.iter()
        .map(|r| {
            let rn = split_ref(r).map(|(_, n)| n).unwrap_or(r);
            (
                strsim::damerau_levenshtein(&lw, &rn.to_ascii_lowercase()),
                r.as_str(),
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, r)| r)
}

fn preview(refs: &[String]) -> String {
    let mut s = refs.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if refs.len() > 5 {
        s.push_str(&format!(" and {} more", refs.len() - 5));
    }
    s
}

fn special_key_hint(what: &str, k: &str) -> Option<String> {
    match (what, k) {
        ("the workflow", "name") => Some(
            "a workflow's name is its file name; remove `name` (use `label` for a title)"
                .to_string(),
        ),
        ("the workflow", "input") => {
            Some("workflow inputs are declared under `parameters`".to_string())
        }
        _ => None,
    }
}

/// A key proposed for a known misspelling (dashes for underscores).
fn special_key_proposal(what: &str, k: &str) -> Option<&'static str> {
    match (what, k) {
        ("a task", "on-success") => Some("on_success"),
        ("a task", "on-failure") => Some("on_failure"),
        ("a task", "on-complete") => Some("on_complete"),
        ("a task", "on-timeout") => Some("on_timeout"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BuiltinCatalog;

    fn run(src: &str) -> Validation {
        let ctx = SourceContext {
            pack_ref: "p",
            name: "w",
            file: Some("p/workflows/w.yaml"),
        };
        validate(src.as_bytes(), &ctx, &BuiltinCatalog::new())
    }

    fn codes(v: &Validation) -> Vec<(&'static str, u32, u32)> {
        v.diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.line, d.column))
            .collect()
    }

    #[test]
    fn a_good_workflow_is_normalized() {
        let v = run(
            "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.noop\n    on_success: b\n  - name: b\n    action: core.echo\n",
        );
        assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
        let w = v.workflow.unwrap();
        assert_eq!(w.r#ref, "p.w");
        assert_eq!(
            w.definition["tasks"][0]["next"],
            json!([{"when": "{{ succeeded() }}", "do": ["b"]}])
        );
        assert_eq!(w.definition["tasks"][1]["next"], json!([]));
        assert_eq!(w.definition["tasks"][1]["type"], json!("action"));
    }

    #[test]
    fn seed_messages_read_exactly_as_written() {
        let v = run("label: L\ntasks:\n  - name: step1\n    action: invalid.action\n");
        let msgs: Vec<&str> = v.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "Missing required field: version",
                "Task 'step1' references undefined action 'invalid.action'"
            ]
        );
        assert!(v.workflow.is_none());
        assert_eq!(
            codes(&v),
            [("missing-field", 1, 1), ("unknown-pack", 4, 13)]
        );
    }

    #[test]
    fn unknown_task_has_position_path_and_hint() {
        let v = run(
            "label: L\nversion: 1.0.0\ntasks:\n  - name: deploy\n    action: core.noop\n    next:\n      - do: [verfy]\n  - name: verify\n    action: core.noop\n",
        );
        let d = v
            .diagnostics
            .iter()
            .find(|d| d.code == Code::UnknownTask)
            .unwrap();
        assert_eq!(
            d.message,
            "Task 'deploy' references non-existent task 'verfy'"
        );
        assert_eq!((d.line, d.column), (7, 14));
        assert_eq!(d.path, "tasks[0].next[0].do[0]");
        assert_eq!(d.hint.as_deref(), Some("did you mean 'verify'?"));
        assert_eq!(d.r#ref.as_deref(), Some("p.w"));
    }

    #[test]
    fn legacy_forms_fold_into_next() {
        let v = run(concat!(
            "label: L\nversion: \"1.0.0\"\n",
            "vars:\n  - started: null\n",
            "parameters:\n  env: {type: string, required: true}\n  n: {type: integer, default: 1}\n",
            "tasks:\n",
            "  - name: a\n    action: core.noop\n",
            "    publish:\n      - started: \"{{ result() }}\"\n",
            "    on_success: b\n    on_timeout: c\n",
            "    on_failure:\n      - when: \"{{ result().code == 2 }}\"\n        do: c\n",
            "  - name: b\n    action: core.noop\n",
            "    decision:\n      - when: \"{{ parameters.env == 'x' }}\"\n        next: c\n      - default: true\n        next: d\n",
            "  - name: c\n    action: core.noop\n",
            "  - name: d\n    action: core.noop\n",
        ));
        assert!(!v.has_errors(), "{:?}", v.diagnostics);
        let w = v.workflow.unwrap();
        let d = &w.definition;
        assert_eq!(d["vars"], json!({"started": null}));
        assert_eq!(
            d["tasks"][0]["next"],
            json!([
                {"when": "{{ succeeded() }}", "do": ["b"], "publish": [{"started": "{{ result() }}"}]},
                {"when": "{{ timed_out() }}", "do": ["c"]},
                {"when": "{{ failed() and (result().code == 2) }}", "do": ["c"]}
            ])
        );
        assert!(d["tasks"][0].get("on_success").is_none());
        assert!(d["tasks"][0].get("publish").is_none());
        assert_eq!(
            d["tasks"][1]["next"],
            json!([
                {"when": "{{ parameters.env == 'x' }}", "do": ["c"]},
                {"when": "{{ not (parameters.env == 'x') }}", "do": ["d"]}
            ])
        );
        assert_eq!(
            w.param_schema,
            Some(json!({"type": "object", "properties": {
                "env": {"type": "string"}, "n": {"type": "integer", "default": 1}},
                "required": ["env"]}))
        );
        assert_eq!(w.label, "L");
        assert_eq!(w.task_count, 4);
    }

    #[test]
    fn a_yaml_bomb_and_deep_nesting_fail_fast_as_yaml_limits() {
        let mut s = String::from("version: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            s.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 10].join(", ")
            ));
        }
        let v = run(&s);
        assert_eq!(codes(&v).len(), 1);
        assert_eq!(v.diagnostics[0].code, Code::YamlLimits);
        let deep = format!(
            "version: x\nv: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(run(&deep).diagnostics[0].code, Code::YamlLimits);
        let block: String = (0..2_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(run(&block).diagnostics[0].code, Code::YamlLimits);
    }

    #[test]
    fn hostile_files_with_many_problems_stay_linear() {
        // ~1 MiB: thousands of tasks, each with an unknown target and a
        // duplicate name; must finish (no quadratic hint search).
        let mut s = String::from("label: L\nversion: \"1.0.0\"\ntasks:\n");
        for i in 0..6_000 {
            s.push_str(&format!(
                "  - name: t{}\n    action: core.noop\n    next: [{{do: [x{i}]}}]\n",
                i % 3000
            ));
        }
        let v = run(&s);
        assert!(v.diagnostics.len() >= 6_000);
        assert!(v.workflow.is_none());
    }
}
