//! The editor features over one open workflow: completion, hover, go to
//! definition, find references, document symbols, rename and code actions.
//! Each takes a [`View`] of the document and answers plain LSP types.

use crate::analysis::{Analysis, OccKind, Span, quote};
use crate::context::{self, Step};
use crate::diag::{self, DocContext};
use crate::text::LineIndex;
use crate::workspace::{ActionDoc, Catalog, ParamDoc, param_span};
use attune_workflow::catalog::ActionKind;
use attune_workflow::validate::{ACTION_KEYS, NEXT_KEYS, RETRY_KEYS, TASK_KEYS, TOP_KEYS};
use attune_workflow::{Code, Diagnostic};
use lsp_types::{
    CodeAction, CodeActionKind, CompletionItem, CompletionItemKind, DocumentSymbol, Documentation,
    Hover, HoverContents, Location, MarkupContent, MarkupKind, Position, Range, SymbolKind,
    TextEdit, Url, WorkspaceEdit,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The action file of an action-linked graph file: where its parameters
/// are declared.
pub struct LinkView {
    pub uri: Url,
    pub text: Arc<str>,
    pub li: LineIndex,
    /// `None` when the action file cannot be read as an action.
    pub doc: Option<ActionDoc>,
}

impl LinkView {
    fn params(&self) -> &[ParamDoc] {
        self.doc
            .as_ref()
            .and_then(|d| d.params.as_deref())
            .unwrap_or(&[])
    }
}

/// One document as the features see it.
pub struct View<'a> {
    pub uri: &'a Url,
    pub text: &'a str,
    pub li: &'a LineIndex,
    pub analysis: &'a Analysis,
    pub catalog: &'a Catalog,
    pub ctx: &'a DocContext,
    /// Set for a graph-only file: its action file.
    pub link: Option<&'a LinkView>,
}

/// Built-in functions with their signatures (PRODUCT.md §3).
const SIGNATURES: &[(&str, &str)] = &[
    ("string", "string(value)"),
    ("number", "number(value)"),
    ("int", "int(value)"),
    ("bool", "bool(value)"),
    ("type_of", "type_of(value)"),
    ("length", "length(value)"),
    ("keys", "keys(object)"),
    ("values", "values(object)"),
    ("abs", "abs(n)"),
    ("floor", "floor(n)"),
    ("ceil", "ceil(n)"),
    ("round", "round(n[, digits])"),
    ("min", "min(a, b, ...)"),
    ("max", "max(a, b, ...)"),
    ("sum", "sum(list)"),
    ("lower", "lower(s)"),
    ("upper", "upper(s)"),
    ("trim", "trim(s)"),
    ("split", "split(s, sep)"),
    ("join", "join(list, sep)"),
    ("replace", "replace(s, old, new)"),
    ("starts_with", "starts_with(s, prefix)"),
    ("ends_with", "ends_with(s, suffix)"),
    ("match", "match(s, pattern)"),
    ("contains", "contains(haystack, needle)"),
    ("reversed", "reversed(list)"),
    ("sort", "sort(list)"),
    ("unique", "unique(list)"),
    ("flat", "flat(list)"),
    ("zip", "zip(a, b)"),
    ("range", "range([start,] end[, step])"),
    ("slice", "slice(list, start[, end])"),
    ("index_of", "index_of(list, value)"),
    ("count", "count(list, value)"),
    ("merge", "merge(a, b)"),
    ("chunks", "chunks(list, size)"),
    ("result", "result()"),
    ("succeeded", "succeeded()"),
    ("failed", "failed()"),
    ("timed_out", "timed_out()"),
    ("item", "item()"),
    ("index", "index()"),
];

fn signature(f: &str) -> String {
    SIGNATURES
        .iter()
        .find(|(n, _)| *n == f)
        .map(|(_, s)| s.to_string())
        .unwrap_or_else(|| format!("{f}(...)"))
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

fn markdown(value: String) -> MarkupContent {
    MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    }
}

/// The hover text of an action: kind, file, description, parameters.
pub fn action_markdown(d: &ActionDoc) -> String {
    let kind = match d.kind {
        ActionKind::Action => "action",
        ActionKind::Workflow => "workflow",
        ActionKind::Builtin => "built-in action",
    };
    let mut s = format!("**{}** ({kind})", d.r#ref);
    if let Some(desc) = &d.description {
        s.push_str(&format!("\n\n{desc}"));
    }
    match &d.params {
        Some(ps) if !ps.is_empty() => {
            s.push_str("\n\n| parameter | type | required | default | description |\n|---|---|---|---|---|\n");
            for p in ps {
                s.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    p.name,
                    p.ty.as_deref().unwrap_or(""),
                    if p.required { "yes" } else { "no" },
                    p.default
                        .as_deref()
                        .map(|d| format!("`{d}`"))
                        .unwrap_or_default(),
                    p.description
                        .as_deref()
                        .unwrap_or("")
                        .replace('|', "\\|")
                        .replace('\n', " "),
                ));
            }
        }
        Some(_) => s.push_str("\n\nno parameters"),
        None => s.push_str("\n\nparameters unknown"),
    }
    s
}

/// Completion at a position.
pub fn completion(v: &View, pos: Position) -> Vec<CompletionItem> {
    let lines: Vec<&str> = v
        .text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let line = pos.line as usize;
    let Some(cur) = lines.get(line) else {
        return Vec::new();
    };
    let off = v.li.offset(v.text, pos);
    let col = off
        .saturating_sub(v.li.line_span(v.text, line).0)
        .min(cur.len());
    let before = &cur[..col];

    // Inside `{{ ... }}`.
    if let Some(open) = before.rfind("{{")
        && !before[open..].contains("}}")
    {
        return expr_completion(v, &before[open + 2..]);
    }
    let path = context::path_at(&lines, line, col);
    let shape = context::shape(&path);
    let trimmed = before.trim_start().trim_start_matches("- ").trim_start();

    // `action: ` → action refs.
    if let Some(rest) = trimmed.strip_prefix("action:") {
        let _ = rest;
        return v
            .catalog
            .all()
            .map(|d| CompletionItem {
                label: d.r#ref.clone(),
                kind: Some(match d.kind {
                    ActionKind::Workflow => CompletionItemKind::MODULE,
                    _ => CompletionItemKind::FUNCTION,
                }),
                detail: d.description.clone(),
                documentation: Some(Documentation::MarkupContent(markdown(action_markdown(d)))),
                ..CompletionItem::default()
            })
            .collect();
    }

    // Task names: `do:`, legacy transitions, items of a `do` list.
    let legacy = [
        "on_success:",
        "on_failure:",
        "on_complete:",
        "on_timeout:",
        "do:",
    ];
    let names_ctx = legacy.iter().any(|k| trimmed.starts_with(k))
        || shape.last() == Some(&"do")
        || (shape.len() >= 2 && shape[shape.len() - 2] == "do");
    if names_ctx {
        let names = task_names_here(v, &lines, &path, off);
        return names
            .into_iter()
            .map(|n| item(&n, CompletionItemKind::REFERENCE, Some("task".to_string())))
            .collect();
    }

    // A key being typed (nothing after it yet).
    if trimmed.contains(':') {
        return Vec::new();
    }
    let keys: Vec<CompletionItem> = if shape.is_empty() && v.link.is_some() {
        // A graph-only file: what the action file supplies is not its.
        let graph_keys: Vec<&str> = TOP_KEYS
            .iter()
            .copied()
            .filter(|k| !ACTION_KEYS.contains(k))
            .collect();
        keys(&graph_keys)
    } else if shape.is_empty() {
        keys(TOP_KEYS)
    } else if context::in_task(&shape) {
        keys(TASK_KEYS)
    } else if shape.last() == Some(&"input") && context::in_task(&shape[..shape.len() - 1]) {
        input_keys(v, &lines, &path)
    } else if shape.len() >= 2 && shape[shape.len() - 1] == "-" && shape[shape.len() - 2] == "next"
    {
        keys(NEXT_KEYS)
    } else if shape.last() == Some(&"retry") {
        keys(RETRY_KEYS)
    } else {
        Vec::new()
    };
    keys
}

fn keys(ks: &[&str]) -> Vec<CompletionItem> {
    ks.iter()
        .map(|k| CompletionItem {
            insert_text: Some(format!("{k}: ")),
            ..item(k, CompletionItemKind::PROPERTY, None)
        })
        .collect()
}

fn input_keys(v: &View, lines: &[&str], path: &[Step]) -> Vec<CompletionItem> {
    let Some(Step::Item(l, d)) = path.iter().rev().find(|s| matches!(s, Step::Item(..))) else {
        return Vec::new();
    };
    let Some(action) = context::item_value(lines, *l, *d, "action") else {
        return Vec::new();
    };
    let Some(doc) = v.catalog.doc(action) else {
        return Vec::new();
    };
    doc.params
        .iter()
        .flatten()
        .map(|p| CompletionItem {
            insert_text: Some(format!("{}: ", p.name)),
            documentation: p.description.clone().map(Documentation::String),
            ..item(
                &p.name,
                CompletionItemKind::FIELD,
                Some(format!(
                    "{}{}",
                    p.ty.as_deref().unwrap_or("any"),
                    if p.required && p.default.is_none() {
                        ", required"
                    } else {
                        ""
                    }
                )),
            )
        })
        .collect()
}

/// The task names a transition at the cursor may name: the tasks of the
/// cursor's task list (from the text's lines, so a half-typed `do: [` works).
fn task_names_here(v: &View, lines: &[&str], path: &[Step], off: usize) -> Vec<String> {
    // The innermost `tasks:` key above the cursor's task.
    let key_line = path.iter().rev().find_map(|s| match s {
        Step::Key(k, l) if k == "tasks" => Some(*l),
        _ => None,
    });
    let mut names = key_line
        .map(|l| context::list_names(lines, l))
        .unwrap_or_default();
    if names.is_empty()
        && let Some(t) = v.analysis.task_at(off)
    {
        names = v
            .analysis
            .tasks
            .iter()
            .filter(|x| x.list == t.list)
            .filter_map(|x| x.name.clone())
            .collect();
    }
    names.dedup();
    names
}

fn expr_completion(v: &View, inside: &str) -> Vec<CompletionItem> {
    let word: String = inside
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if let Some((ns, _)) = word.rsplit_once('.') {
        let kind = match ns {
            "parameters" => Some(OccKind::ParamDef),
            "vars" | "variables" => Some(OccKind::VarDef),
            "task" | "tasks" => Some(OccKind::TaskDef),
            _ => None,
        };
        let Some(kind) = kind else {
            return Vec::new();
        };
        let mut seen = Vec::new();
        if kind == OccKind::ParamDef
            && let Some(l) = v.link
        {
            // A graph-only file: the action file declares the parameters.
            return l
                .params()
                .iter()
                .map(|p| CompletionItem {
                    documentation: p.description.clone().map(Documentation::String),
                    ..item(&p.name, CompletionItemKind::VARIABLE, Some(param_detail(p)))
                })
                .collect();
        }
        for o in v.analysis.occs.iter().filter(|o| o.kind == kind) {
            if !seen.contains(&o.name) {
                seen.push(o.name.clone());
            }
        }
        if seen.is_empty() && kind == OccKind::TaskDef {
            // Not valid YAML right now: the task names of the lines.
            let lines: Vec<&str> = v.text.lines().collect();
            if let Some(l) = lines.iter().position(|l| l.trim_end() == "tasks:") {
                seen = context::list_names(&lines, l);
            }
        }
        let detail = match ns {
            "parameters" => "parameter",
            "task" | "tasks" => "task",
            _ => "variable",
        };
        return seen
            .iter()
            .map(|n| item(n, CompletionItemKind::VARIABLE, Some(detail.to_string())))
            .collect();
    }
    let mut out: Vec<CompletionItem> = attune_workflow::expr::NAMESPACES
        .iter()
        .map(|n| item(n, CompletionItemKind::MODULE, Some("namespace".to_string())))
        .collect();
    out.extend(
        attune_workflow::expr::FUNCTIONS
            .iter()
            .map(|f| CompletionItem {
                insert_text: Some(format!("{f}(")),
                ..item(f, CompletionItemKind::FUNCTION, Some(signature(f)))
            }),
    );
    out
}

/// `string, required` / `integer, default 22`.
fn param_detail(p: &ParamDoc) -> String {
    let mut s = p.ty.clone().unwrap_or_else(|| "any".to_string());
    if p.required && p.default.is_none() {
        s.push_str(", required");
    }
    if let Some(d) = &p.default {
        s.push_str(&format!(", default {d}"));
    }
    s
}

/// The hover text of a parameter declared in a linked action file.
fn param_markdown(p: &ParamDoc) -> String {
    let mut s = format!("parameter **{}**: {}", p.name, param_detail(p));
    if let Some(d) = &p.description {
        s.push_str("\n\n");
        s.push_str(d);
    }
    s.push_str("\n\ndeclared in the action file");
    s
}

fn loc(v: &View, s: Span) -> Location {
    Location {
        uri: v.uri.clone(),
        range: v.li.range(v.text, s.start, s.end),
    }
}

/// Hover at a byte offset.
pub fn hover(v: &View, off: usize) -> Option<Hover> {
    let o = v.analysis.occ_at(off)?;
    let text = match o.kind {
        OccKind::Action => match v.catalog.doc(&o.name) {
            Some(d) => action_markdown(d),
            None => format!("**{}**: no such action, workflow or built-in", o.name),
        },
        OccKind::TaskRef | OccKind::TaskDef | OccKind::ExprTask => {
            let list = (o.kind != OccKind::ExprTask).then_some(o.list);
            let t =
                v.analysis.tasks.iter().find(|t| {
                    t.name.as_deref() == Some(&o.name) && list.is_none_or(|l| t.list == l)
                });
            match t {
                Some(t) => format!(
                    "task **{}**{}",
                    o.name,
                    t.action
                        .as_deref()
                        .map(|a| format!(" → `{a}`"))
                        .unwrap_or_default()
                ),
                None => format!("task **{}**: not defined in this list", o.name),
            }
        }
        OccKind::ParamDef | OccKind::ExprParam => {
            match v
                .link
                .and_then(|l| l.params().iter().find(|p| p.name == o.name))
            {
                Some(p) => param_markdown(p),
                None => format!("parameter **{}**", o.name),
            }
        }
        OccKind::VarDef | OccKind::ExprVar => format!("variable **{}**", o.name),
    };
    Some(Hover {
        contents: HoverContents::Markup(markdown(text)),
        range: Some(v.li.range(v.text, o.span.start, o.span.end)),
    })
}

/// Go to definition at a byte offset.
pub fn definition(v: &View, off: usize) -> Option<Location> {
    let o = v.analysis.occ_at(off)?;
    let a = v.analysis;
    let def_of = |kind: OccKind, name: &str| {
        a.occs
            .iter()
            .find(|x| x.kind == kind && x.name == name)
            .map(|x| loc(v, x.span))
    };
    match o.kind {
        OccKind::TaskDef | OccKind::TaskRef => {
            a.task_def(&o.name, Some(o.list)).map(|d| loc(v, d.span))
        }
        OccKind::ExprTask => a.task_def(&o.name, None).map(|d| loc(v, d.span)),
        OccKind::ParamDef | OccKind::ExprParam => match v.link {
            // A graph-only file: into the action file's `parameters`.
            Some(l) => {
                let (s, e) = param_span(&l.text, &o.name)?;
                Some(Location {
                    uri: l.uri.clone(),
                    range: l.li.range(&l.text, s, e),
                })
            }
            None => def_of(OccKind::ParamDef, &o.name),
        },
        OccKind::VarDef | OccKind::ExprVar => def_of(OccKind::VarDef, &o.name),
        OccKind::Action => {
            let d = v.catalog.doc(&o.name)?;
            let file = d.file.as_ref()?;
            let uri = Url::from_file_path(file).ok()?;
            Some(Location {
                uri,
                range: Range::default(),
            })
        }
    }
}

/// The task occurrences that name the same task as the one at `off`
/// (definition first when asked).
fn task_occs(v: &View, off: usize) -> Option<(String, Vec<Span>)> {
    let o = v.analysis.occ_at(off)?;
    let list = match o.kind {
        OccKind::TaskDef | OccKind::TaskRef => o.list,
        OccKind::ExprTask => v.analysis.task_def(&o.name, None)?.list,
        _ => return None,
    };
    let mut spans: Vec<Span> = v
        .analysis
        .occs
        .iter()
        .filter(|x| x.name == o.name)
        .filter(|x| match x.kind {
            OccKind::TaskDef | OccKind::TaskRef => x.list == list,
            OccKind::ExprTask => true,
            _ => false,
        })
        .map(|x| x.span)
        .collect();
    spans.sort();
    spans.dedup();
    Some((o.name.clone(), spans))
}

/// Find references of the task at `off`.
pub fn references(v: &View, off: usize, include_decl: bool) -> Vec<Location> {
    let Some((name, spans)) = task_occs(v, off) else {
        return Vec::new();
    };
    let def = v
        .analysis
        .occs
        .iter()
        .find(|o| o.kind == OccKind::TaskDef && o.name == name)
        .map(|o| o.span);
    spans
        .into_iter()
        .filter(|s| include_decl || Some(*s) != def)
        .map(|s| loc(v, s))
        .collect()
}

/// The range a rename at `off` would change.
pub fn prepare_rename(v: &View, off: usize) -> Option<Range> {
    let o = v.analysis.occ_at(off)?;
    matches!(
        o.kind,
        OccKind::TaskDef | OccKind::TaskRef | OccKind::ExprTask
    )
    .then(|| v.li.range(v.text, o.span.start, o.span.end))
}

/// Rename the task at `off`; `Err` says why not.
pub fn rename(v: &View, off: usize, new_name: &str) -> Result<Option<WorkspaceEdit>, String> {
    if !attune_workflow::is_valid_name(new_name) {
        return Err(format!(
            "'{new_name}' is not a valid task name; task names match ^[A-Za-z0-9_-]+$"
        ));
    }
    let Some((_, spans)) = task_occs(v, off) else {
        return Ok(None);
    };
    let edits = spans
        .into_iter()
        .map(|s| TextEdit {
            range: v.li.range(v.text, s.start, s.end),
            new_text: new_name.to_string(),
        })
        .collect();
    Ok(Some(WorkspaceEdit {
        changes: Some(HashMap::from([(v.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }))
}

/// The tasks as a tree of symbols.
pub fn symbols(v: &View) -> Vec<DocumentSymbol> {
    fn build(v: &View, parent: Option<usize>) -> Vec<DocumentSymbol> {
        v.analysis
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.parent == parent)
            .map(|(i, t)| {
                let sel = t.name_span.unwrap_or(Span {
                    start: t.span.start,
                    end: t.span.start,
                });
                let children = build(v, Some(i));
                #[allow(deprecated)]
                DocumentSymbol {
                    name: t
                        .name
                        .clone()
                        .unwrap_or_else(|| "(unnamed task)".to_string()),
                    detail: t.action.clone(),
                    kind: if children.is_empty() {
                        SymbolKind::FUNCTION
                    } else {
                        SymbolKind::NAMESPACE
                    },
                    tags: None,
                    deprecated: None,
                    range: v.li.range(v.text, t.span.start, t.span.end.max(sel.end)),
                    selection_range: v.li.range(v.text, sel.start, sel.end),
                    children: (!children.is_empty()).then_some(children),
                }
            })
            .collect()
    }
    build(v, None)
}

fn edit(
    v: &View,
    title: String,
    edits: Vec<TextEdit>,
    diag: Option<lsp_types::Diagnostic>,
    preferred: bool,
) -> CodeAction {
    CodeAction {
        title,
        kind: Some(if diag.is_some() {
            CodeActionKind::QUICKFIX
        } else {
            CodeActionKind::REFACTOR_REWRITE
        }),
        diagnostics: diag.map(|d| vec![d]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(v.uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    }
}

/// The name a hint proposes: "did you mean 'x'?", or "the closest is 'x'"
/// (the core's wording when the closest name needs more than the rename,
/// such as a required input, so it carries no one-edit fix).
fn did_you_mean(hint: &str) -> Option<&str> {
    if let Some(rest) = hint.split("did you mean '").nth(1) {
        return rest.split("'?").next();
    }
    let rest = hint.split("the closest is '").nth(1)?;
    rest.split('\'').next()
}

/// The quoted name of a message that the covered text is, or holds.
fn bad_name<'m>(msg: &'m str, covered: &str) -> Option<&'m str> {
    let quoted: Vec<&str> = msg.split('\'').skip(1).step_by(2).collect();
    quoted
        .iter()
        .find(|q| **q == covered)
        .or_else(|| {
            quoted
                .iter()
                .filter(|q| !q.is_empty() && covered.contains(**q))
                .max_by_key(|q| q.len())
        })
        .copied()
}

/// Code actions for the diagnostics that touch `range`, plus the
/// rewrites available at the cursor.
pub fn code_actions(
    v: &View,
    range: Range,
    diags: &[Diagnostic],
    rules_url: &str,
) -> Vec<CodeAction> {
    let start = v.li.offset(v.text, range.start);
    let end = v.li.offset(v.text, range.end);
    let mut out = Vec::new();
    let mut missing_done: Vec<usize> = Vec::new();
    for d in diags {
        let (s, e) = diag::span_of(d, v.text, v.li, Some(v.analysis));
        // Only the diagnostics the range touches (the whole first line of
        // each counts, so a cursor anywhere on it gets its fixes).
        let (ls, le) = v.li.line_span(v.text, v.li.line_of(s));
        if e.max(le) < start || s.min(ls) > end {
            continue;
        }
        let lsp = diag::to_lsp(
            std::slice::from_ref(d),
            v.text,
            v.li,
            Some(v.analysis),
            v.uri,
            rules_url,
        )
        .pop();
        // The core's own proposed edit (every proposal is text the
        // validator accepts), else the did-you-mean of the hint.
        if let Some(fix) = d.fix.as_ref().filter(|f| {
            f.offset
                .checked_add(f.len)
                .is_some_and(|end| v.text.get(f.offset..end).is_some())
        }) {
            let shown: String = fix.text.chars().take(60).collect();
            let title = if shown.contains('\n') || shown.len() < fix.text.len() {
                "apply the hint's fix".to_string()
            } else {
                format!("change to '{shown}'")
            };
            out.push(edit(
                v,
                title,
                vec![TextEdit {
                    range: v.li.range(v.text, fix.offset, fix.offset + fix.len),
                    new_text: fix.text.clone(),
                }],
                lsp.clone(),
                true,
            ));
        } else if let Some(sugg) = d.hint.as_deref().and_then(did_you_mean) {
            let covered = &v.text[s..e];
            let bad = bad_name(&d.message, covered).unwrap_or(covered);
            let new_text = if covered == bad {
                Some(sugg.to_string())
            } else if let Some(i) = covered.rfind(bad).filter(|_| !bad.is_empty()) {
                let sugg = if !bad.contains('.') && covered[..i].ends_with('.') {
                    sugg.rsplit('.').next().unwrap_or(sugg)
                } else {
                    sugg
                };
                Some(format!(
                    "{}{}{}",
                    &covered[..i],
                    sugg,
                    &covered[i + bad.len()..]
                ))
            } else {
                None
            };
            if let Some(t) = new_text {
                out.push(edit(
                    v,
                    format!("change to '{sugg}'"),
                    vec![TextEdit {
                        range: v.li.range(v.text, s, e),
                        new_text: t,
                    }],
                    lsp.clone(),
                    true,
                ));
            }
        }
        match d.code {
            Code::MissingInput => {
                if let Some((ti, t)) = v
                    .analysis
                    .tasks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.span.start <= s && s <= t.span.end)
                    .max_by_key(|(_, t)| t.span.start)
                    && !missing_done.contains(&ti)
                    && !t.input_other
                {
                    missing_done.push(ti);
                    let names: Vec<String> = diags
                        .iter()
                        .filter(|x| x.code == Code::MissingInput)
                        .filter(|x| {
                            let (xs, _) = diag::span_of(x, v.text, v.li, Some(v.analysis));
                            v.analysis.task_at(xs).is_some_and(|xt| xt.span == t.span)
                        })
                        .filter_map(|x| {
                            x.message
                                .split("input '")
                                .nth(1)?
                                .split('\'')
                                .next()
                                .map(str::to_string)
                        })
                        .collect();
                    if let Some(te) = missing_inputs_edit(v, t, &names) {
                        out.push(edit(
                            v,
                            format!("add the missing inputs: {}", names.join(", ")),
                            vec![te],
                            lsp.clone(),
                            true,
                        ));
                    }
                }
            }
            Code::MissingLabel => {
                let at = v
                    .text
                    .split_inclusive('\n')
                    .scan(0usize, |o, l| {
                        let here = *o;
                        *o += l.len();
                        Some((here, l))
                    })
                    .find(|(_, l)| {
                        let c = l.chars().next().unwrap_or(' ');
                        !c.is_whitespace() && c != '#' && !l.starts_with("---")
                    })
                    .map(|(o, _)| o)
                    .unwrap_or(0);
                let label = label_for(&v.ctx.name);
                out.push(edit(
                    v,
                    format!("add label \"{label}\""),
                    vec![TextEdit {
                        range: v.li.range(v.text, at, at),
                        new_text: format!("label: {}\n", quote(&label)),
                    }],
                    lsp.clone(),
                    true,
                ));
            }
            Code::NonCanonicalForm => {
                if let Some((span, text)) = &v.analysis.vars_fix
                    && span.contains(s)
                {
                    out.push(edit(
                        v,
                        "write vars as a mapping".to_string(),
                        vec![TextEdit {
                            range: v.li.range(v.text, span.start, span.end),
                            new_text: text.clone(),
                        }],
                        lsp.clone(),
                        true,
                    ));
                }
                if let Some(t) = v.analysis.task_at(s)
                    && let Some((span, text)) = &t.legacy_fix
                    && span.contains(s)
                {
                    out.push(edit(
                        v,
                        "convert the legacy transitions to next".to_string(),
                        vec![TextEdit {
                            range: v.li.range(v.text, span.start, span.end),
                            new_text: text.clone(),
                        }],
                        lsp.clone(),
                        true,
                    ));
                }
            }
            _ => {}
        }
        if d.code.suppressible() {
            out.push(ignore_action(v, d, s, lsp));
        }
    }
    // The legacy rewrite where the cursor is, without a diagnostic.
    if let Some(t) = v.analysis.task_at(start)
        && let Some((span, text)) = &t.legacy_fix
        && span.start <= end
        && start <= span.end
        && !out
            .iter()
            .any(|a| a.title.starts_with("convert the legacy"))
    {
        out.push(edit(
            v,
            "convert the legacy transitions to next".to_string(),
            vec![TextEdit {
                range: v.li.range(v.text, span.start, span.end),
                new_text: text.clone(),
            }],
            None,
            false,
        ));
    }
    out
}

fn label_for(name: &str) -> String {
    let words = name.replace(['_', '-'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => name.to_string(),
    }
}

fn missing_inputs_edit(v: &View, t: &crate::analysis::Task, names: &[String]) -> Option<TextEdit> {
    if names.is_empty() {
        return None;
    }
    let key_pad = " ".repeat(t.key_col);
    match t.input_block {
        Some((line, child)) => {
            let pad = " ".repeat(child.unwrap_or(t.key_col + 2));
            let at = v.li.line_span(v.text, line).1;
            let text: String = names
                .iter()
                .map(|n| format!("\n{pad}{n}: \"TODO\""))
                .collect();
            Some(TextEdit {
                range: v.li.range(v.text, at, at),
                new_text: text,
            })
        }
        None => {
            let line = t.action_line?;
            let at = v.li.line_span(v.text, line).1;
            let mut text = format!("\n{key_pad}input:");
            for n in names {
                text.push_str(&format!("\n{key_pad}  {n}: \"TODO\""));
            }
            Some(TextEdit {
                range: v.li.range(v.text, at, at),
                new_text: text,
            })
        }
    }
}

fn ignore_action(
    v: &View,
    d: &Diagnostic,
    s: usize,
    lsp: Option<lsp_types::Diagnostic>,
) -> CodeAction {
    let line = v.li.line_of(s);
    let (ls, le) = v.li.line_span(v.text, line);
    let text = &v.text[ls..le];
    let code = d.code.as_str();
    let te = if let Some(i) = text.find("# attune: ignore[") {
        let close = text[i..].find(']').map(|j| ls + i + j);
        match close {
            Some(c) => TextEdit {
                range: v.li.range(v.text, c, c),
                new_text: format!(", {code}"),
            },
            None => TextEdit {
                range: v.li.range(v.text, le, le),
                new_text: format!(" # attune: ignore[{code}]"),
            },
        }
    } else {
        TextEdit {
            range: v.li.range(v.text, le, le),
            new_text: format!(" # attune: ignore[{code}]"),
        }
    };
    edit(
        v,
        format!("ignore {code} on this line"),
        vec![te],
        lsp,
        false,
    )
}
