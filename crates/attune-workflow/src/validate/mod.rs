//! The validator: every rule of docs/WORKFLOW_FORMAT.md ("Validation"; explained per code in docs/RULES.md) over the spanned tree, in one
//! pass that collects all problems, plus the normalization of §3 (legacy
//! transitions folded into `next`, `vars` as a mapping, schemas in
//! JSON-Schema form). Pure: bytes and a catalog in, a `Validation` out.

use super::diagnostic::{Code, Diagnostic, Fix};
use super::expr::{self, ExprScope};
use super::model::{SourceContext, Validation, Workflow, is_valid_name};
use super::suppress::Suppressions;
use super::yaml::{self, Limits, Node, NodeKind, Pos, YamlErrorKind};
use crate::catalog::{ActionCatalog, is_json_schema_form, split_ref};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

mod expressions;
mod hints;
mod root;
mod tasks;
mod transitions;

pub use hints::did_you_mean;
use hints::{did_you_mean_ref, preview, special_key_hint, special_key_proposal};

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
    run(src, None, ctx, catalog, &Limits::default(), Form::Check).0
}

/// Validate a workflow file with explicit YAML budgets.
pub fn validate_with_limits(
    src: &[u8],
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
    limits: &Limits,
) -> Validation {
    run(src, None, ctx, catalog, limits, Form::Value).0
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
    run(
        graph,
        Some(action),
        ctx,
        catalog,
        &Limits::default(),
        Form::Value,
    )
    .0
}

/// [`validate_linked`] without the normalized definition (as [`check`]).
pub fn check_linked(
    graph: &[u8],
    action: LinkedAction<'_>,
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
) -> Validation {
    run(
        graph,
        Some(action),
        ctx,
        catalog,
        &Limits::default(),
        Form::Check,
    )
    .0
}

/// A validation whose normalized definition is compact JSON text, written
/// task by task while the rules run, never held as a `serde_json::Value`
/// tree: what a caller that stores or sends the definition as text wants
/// (the working set stays a small multiple of the file, see
/// docs/PERFORMANCE.md, "Issue 18: validator memory").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonValidation {
    /// As [`validate`] returns it, except that `workflow.definition` is
    /// `null`: the definition is in `definition`.
    pub validation: Validation,
    /// The normalized definition, byte for byte what
    /// `serde_json::to_string(&validate(..).workflow.definition)` gives;
    /// `Some` exactly when `validation.workflow` is.
    pub definition: Option<String>,
}

/// [`validate`] with the definition as JSON text ([`JsonValidation`]).
pub fn validate_json(
    src: &[u8],
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
) -> JsonValidation {
    let (validation, definition) = run(src, None, ctx, catalog, &Limits::default(), Form::Text);
    JsonValidation {
        validation,
        definition,
    }
}

/// [`validate_linked`] with the definition as JSON text ([`JsonValidation`]).
pub fn validate_linked_json(
    graph: &[u8],
    action: LinkedAction<'_>,
    ctx: &SourceContext,
    catalog: &dyn ActionCatalog,
) -> JsonValidation {
    let (validation, definition) = run(
        graph,
        Some(action),
        ctx,
        catalog,
        &Limits::default(),
        Form::Text,
    );
    JsonValidation {
        validation,
        definition,
    }
}

/// What a run builds besides the diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Nothing ([`check`]).
    Check,
    /// The definition as a `serde_json::Value` ([`validate`]).
    Value,
    /// The definition as JSON text ([`validate_json`]).
    Text,
}

/// Adds `by` to the offset of every node of `n` (the action file's nodes
/// live after the graph file's text in the checker's source).
fn shift(n: &mut Node, by: u32) {
    n.at += by;
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
    form: Form,
) -> (Validation, Option<String>) {
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
            return (finish(vec![d], 0, None), None);
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
        Err(e) => return (finish(vec![parse_err(e)], 0, None), None),
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
                return (finish(vec![in_action(d)], 0, None), None);
            }
        };
        let mut adoc = match yaml::parse(atext, limits) {
            Ok(d) => d,
            Err(e) => return (finish(vec![in_action(parse_err(e))], 0, None), None),
        };
        action_base = text.len() + 1;
        // Both texts are under 4 GiB each (yaml::parse checked), and the
        // action file is a few MiB at most: the sum fits a node's offset.
        let fits = action_base
            .checked_add(atext.len())
            .is_some_and(|end| u32::try_from(end).is_ok());
        let (true, Ok(by)) = (fits, u32::try_from(action_base)) else {
            let d = Diagnostic::new(
                Code::YamlLimits,
                "the workflow and its action file are 4 GiB or more together",
                1,
                1,
            );
            return (finish(vec![d], 0, None), None);
        };
        shift(&mut adoc.root, by);
        for dup in &mut adoc.duplicates {
            dup.pos.offset += action_base;
        }
        joined = format!("{text}\n{atext}");
        action_text = atext;
        let (graph_root_at, graph_root_past_end) = (doc.root.at, doc.root.past_end);
        let graph_lines = yaml::Lines::new(text);
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
                            graph_lines.of(&e.key).line,
                            graph_lines.of(&e.key).column,
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
            kind: NodeKind::Map(entries.into_boxed_slice()),
            at: graph_root_at,
            past_end: graph_root_past_end,
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
        lines: yaml::Lines::new(text),
        action_lines: yaml::Lines::new(action_text),
        ctx,
        catalog,
        diags: Vec::new(),
        params: None,
        vars: HashSet::new(),
        all_tasks: HashMap::new(),
        list_paths: Vec::new(),
        normalize: form != Form::Check,
        def_text: (form == Form::Text).then(Vec::new),
        memo: None,
        action_base,
    };
    c.diags.append(&mut early);
    for dup in &doc.duplicates {
        c.push_pos(
            Code::YamlSyntax,
            format!(
                "duplicate key '{}' (first defined at line {})",
                dup.key, dup.first.line
            ),
            dup.pos,
            dup.pos.offset >= action_base,
            &ROOT,
        )
        .hint = Some("remove one of the two keys; YAML keeps only one".to_string());
    }
    let wf = c.check_root(&doc.root);
    let mut def_text = c.def_text.take();
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
    // The tree is no longer needed: free it before the definition's text
    // is trimmed to its length (a copy, on most allocators).
    drop(doc);
    let text = def_text.take().and_then(|mut t| {
        t.shrink_to_fit();
        String::from_utf8(t).ok()
    });
    let v = finish(diags, suppressed, wf);
    let text = if v.workflow.is_some() { text } else { None };
    (v, text)
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

/// The names of one task list, borrowed from the tree: each name with the
/// index of the first task that has it.
type Local<'n> = HashMap<&'n str, u32>;

/// One task list's transitions, for reachability: the targets of task `i`
/// are `targets[ends[i - 1]..ends[i]]` (one flat list, no list per task).
struct ListGraph<'n> {
    targets: Vec<&'n str>,
    ends: Vec<u32>,
}

impl<'n> ListGraph<'n> {
    fn of(&self, i: usize) -> &[&'n str] {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        } as usize;
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.targets.get(start..end).unwrap_or(&[])
    }
}

struct Checker<'a> {
    /// The text the nodes' offsets point into: the workflow file's, or for
    /// an action-linked workflow the graph file's, a newline and the
    /// action file's.
    src: &'a str,
    /// Line and column of the workflow (graph) file's offsets…
    lines: yaml::Lines<'a>,
    /// … and of the action file's (offsets from `action_base` on).
    action_lines: yaml::Lines<'a>,
    ctx: &'a SourceContext<'a>,
    catalog: &'a dyn ActionCatalog,
    diags: Vec<Diagnostic>,
    /// Declared parameter names; None when `parameters` is not understood.
    params: Option<HashSet<String>>,
    vars: HashSet<String>,
    /// Every task name in the file (borrowed from the tree), with the
    /// index of its list's path in `list_paths`.
    all_tasks: HashMap<&'a str, u32>,
    /// The path of every task list (`tasks`, `tasks[3].tasks`), once each.
    list_paths: Vec<String>,
    /// Build the normalized definition (off for [`check`]).
    normalize: bool,
    /// In text form ([`validate_json`]): the definition's JSON, written as
    /// the rules go (the root's keys, then one task after the other).
    def_text: Option<Vec<u8>>,
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
    /// True when a node of `src` is in the action file.
    fn in_action(&self, at: yaml::Mark) -> bool {
        at.offset as usize >= self.action_base
    }

    /// The line and column of a node of `src`, in its own file.
    fn pos_of(&self, at: yaml::Mark) -> Pos {
        match (at.offset as usize).checked_sub(self.action_base) {
            Some(in_action) => self.action_lines.at(yaml::Mark {
                offset: in_action as u32,
                past_end: at.past_end,
            }),
            None => self.lines.at(at),
        }
    }

    /// A diagnostic at a node's start (`node.mark()`).
    fn push(
        &mut self,
        code: Code,
        msg: impl Into<String>,
        at: yaml::Mark,
        path: &Loc<'_>,
    ) -> &mut Diagnostic {
        let pos = self.pos_of(at);
        let in_action = self.in_action(at);
        self.push_pos(code, msg, pos, in_action, path)
    }

    /// A diagnostic at a known line and column (`in_action`: of the action
    /// file).
    fn push_pos(
        &mut self,
        code: Code,
        msg: impl Into<String>,
        pos: Pos,
        in_action: bool,
        path: &Loc<'_>,
    ) -> &mut Diagnostic {
        let mut d = Diagnostic::new(code, msg, pos.line, pos.column).with_path(path.to_string());
        if in_action {
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
            node.mark(),
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
                    e.key.mark(),
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
                e.key.mark(),
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
            n.as_str().is_some_and(|s| {
                self.all_tasks
                    .get(s)
                    .and_then(|&l| self.list_paths.get(l as usize))
                    .is_some_and(|l| l == list)
            })
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
}

/// Pre-pass: every task name (with the path of its list) and every
/// variable published anywhere.
fn collect_names<'n>(
    items: &'n [Node],
    path: &Loc<'_>,
    tasks: &mut HashMap<&'n str, u32>,
    lists: &mut Vec<String>,
    vars: &mut HashSet<String>,
) {
    let list = lists.len() as u32;
    lists.push(path.to_string());
    for (i, t) in items.iter().enumerate() {
        if let Some(n) = t.get("name").and_then(Node::as_str) {
            tasks.entry(n).or_insert(list);
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
                                vars.insert(s.to_string());
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
            collect_names(sub, &path.index(i).key("tasks"), tasks, lists, vars);
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
