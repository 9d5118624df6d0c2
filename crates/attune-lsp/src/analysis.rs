//! What the editor features need from one workflow text, from the core's
//! spanned YAML tree: the tasks (nested for parallel), every occurrence of
//! a name (task definitions and references, action refs, parameter and
//! variable declarations, `parameters.x` / `vars.x` / `task.x` inside
//! `{{ }}`) with its byte span, the source extent of every node start, and
//! the canonical rewrites of legacy transitions and a `vars` list.

use attune_workflow::yaml::{self, Document, Limits, Node, NodeKind, Style};
use std::collections::HashMap;

/// A byte range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn contains(&self, off: usize) -> bool {
        self.start <= off && off <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OccKind {
    /// A task's `name`.
    TaskDef,
    /// A task name in `do`, a legacy transition or a decision.
    TaskRef,
    /// The value of `action:`.
    Action,
    ParamDef,
    VarDef,
    /// `parameters.x` in an expression.
    ExprParam,
    /// `vars.x` in an expression.
    ExprVar,
    /// `task.x` / `tasks.x` in an expression.
    ExprTask,
}

/// One occurrence of a name.
#[derive(Debug, Clone)]
pub struct Occ {
    pub kind: OccKind,
    pub name: String,
    /// The task list a task name belongs to (0 = the top level).
    pub list: usize,
    /// The name's own characters (without quotes).
    pub span: Span,
}

/// A task.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: Option<String>,
    pub name_span: Option<Span>,
    pub list: usize,
    pub parent: Option<usize>,
    /// The task's mapping, first key to last value.
    pub span: Span,
    /// Byte offset of the line start of the task's first key, and the
    /// column (in bytes) its keys are at.
    pub key_col: usize,
    pub action: Option<String>,
    pub action_line: Option<usize>,
    /// `input` written as a block mapping: (line of `input:`, column of its
    /// keys, if it has any).
    pub input_block: Option<(usize, Option<usize>)>,
    /// `input` present in another form (flow, null...).
    pub input_other: bool,
    /// The canonical `next` that replaces the legacy transitions, with the
    /// span of the lines it replaces.
    pub legacy_fix: Option<(Span, String)>,
}

/// Where a node starts and how far it reaches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extent {
    /// The end of the scalar starting here.
    pub scalar_end: Option<usize>,
    /// A mapping or a list starts here.
    pub collection: bool,
}

/// The analysis of one text; `doc` is `None` when it is not valid YAML.
#[derive(Debug, Default)]
pub struct Analysis {
    pub doc: Option<Document>,
    pub tasks: Vec<Task>,
    pub occs: Vec<Occ>,
    pub extents: HashMap<usize, Extent>,
    /// The mapping that replaces a `vars` list, with the span it replaces.
    pub vars_fix: Option<(Span, String)>,
}

const LEGACY: &[(&str, Option<&str>)] = &[
    ("on_success", Some("succeeded()")),
    ("on_failure", Some("failed()")),
    ("on_complete", None),
    ("on_timeout", Some("timed_out()")),
];

impl Analysis {
    /// What diagnostics need, no more: node extents, plus the tasks when a
    /// diagnostic points at a second task (`with_tasks`, a duplicate).
    pub fn for_diagnostics(src: &str, with_tasks: bool) -> Analysis {
        let Ok(doc) = yaml::parse(src, &Limits::default()) else {
            return Analysis::default();
        };
        let mut a = Analysis::default();
        a.extents_of(src, &doc.root);
        if with_tasks && let Some(items) = doc.root.get("tasks").and_then(Node::as_seq) {
            a.walk_tasks(&yaml::Lines::new(src), items, 0, None, &mut 0);
        }
        a.doc = Some(doc);
        a
    }

    pub fn new(src: &str) -> Analysis {
        let Ok(doc) = yaml::parse(src, &Limits::default()) else {
            return Analysis::default();
        };
        let mut a = Analysis::default();
        a.extents_of(src, &doc.root);
        let mut lists = 0usize;
        if let Some(tasks) = doc.root.get("tasks")
            && let Some(items) = tasks.as_seq()
        {
            a.walk_tasks(&yaml::Lines::new(src), items, 0, None, &mut lists);
        }
        if let Some(p) = doc.root.get("parameters") {
            let props = if attune_workflow::catalog::is_json_schema_form(p) {
                p.get("properties")
            } else {
                Some(p)
            };
            for e in props.and_then(Node::as_map).unwrap_or(&[]) {
                a.push_name(src, &e.key, OccKind::ParamDef, 0);
            }
        }
        if let Some(v) = doc.root.get("vars") {
            match &v.kind {
                NodeKind::Map(es) => {
                    for e in es {
                        a.push_name(src, &e.key, OccKind::VarDef, 0);
                    }
                }
                NodeKind::Seq(items) => {
                    for it in items {
                        if let Some([e]) = it.as_map() {
                            a.push_name(src, &e.key, OccKind::VarDef, 0);
                        }
                    }
                    a.vars_fix = vars_fix(src, &doc.root, items);
                }
                _ => {}
            }
        }
        a.expressions(src, &doc.root);
        a.doc = Some(doc);
        a
    }

    fn push_name(&mut self, src: &str, node: &Node, kind: OccKind, list: usize) {
        if let Some(name) = node.as_str()
            && let Some(span) = value_span(src, node)
        {
            self.occs.push(Occ {
                kind,
                name: name.to_string(),
                list,
                span,
            });
        }
    }

    fn extents_of(&mut self, src: &str, node: &Node) {
        match &node.kind {
            NodeKind::Map(es) => {
                self.extents.entry(node.offset()).or_default().collection = true;
                for e in es {
                    self.extents_of(src, &e.key);
                    self.extents_of(src, &e.value);
                }
            }
            NodeKind::Seq(items) => {
                self.extents.entry(node.offset()).or_default().collection = true;
                for it in items {
                    self.extents_of(src, it);
                }
            }
            _ => {
                let end = scalar_end(src, node);
                let e = self.extents.entry(node.offset()).or_default();
                e.scalar_end = Some(e.scalar_end.map_or(end, |x| x.max(end)));
            }
        }
    }

    fn walk_tasks(
        &mut self,
        lines: &yaml::Lines<'_>,
        items: &[Node],
        list: usize,
        parent: Option<usize>,
        lists: &mut usize,
    ) {
        let src = lines.text();
        for t in items {
            if t.as_map().is_none() {
                continue;
            }
            let idx = self.tasks.len();
            let name_node = t.get("name");
            let name = name_node.and_then(Node::as_str).map(str::to_string);
            if let Some(n) = name_node {
                self.push_name(src, n, OccKind::TaskDef, list);
            }
            let action_node = t.get("action");
            if let Some(a) = action_node {
                self.push_name(src, a, OccKind::Action, list);
            }
            let line_start = src[..t.offset().min(src.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let input = t.entry("input");
            let input_block = input.and_then(|e| match &e.value.kind {
                NodeKind::Map(es)
                    if e.value.style == Style::Collection && is_block(src, &e.value) =>
                {
                    Some((
                        (lines.of(&e.key).line as usize).saturating_sub(1),
                        es.first().map(|k| lines.of(&k.key).column as usize - 1),
                    ))
                }
                _ => None,
            });
            let input_other = input.is_some() && input_block.is_none();
            self.tasks.push(Task {
                name,
                name_span: name_node.and_then(|n| value_span(src, n)),
                list,
                parent,
                span: Span {
                    start: t.offset(),
                    end: node_end(src, t),
                },
                key_col: t.offset() - line_start,
                action: action_node.and_then(Node::as_str).map(str::to_string),
                action_line: action_node.map(|a| (lines.of(a).line as usize).saturating_sub(1)),
                input_block,
                input_other,
                legacy_fix: legacy_fix(src, t),
            });
            if let Some(next) = t.get("next").and_then(Node::as_seq) {
                for tr in next {
                    if let Some(d) = tr.get("do") {
                        self.refs(src, d, list);
                    }
                }
            }
            for (k, _) in LEGACY {
                if let Some(v) = t.get(k) {
                    match &v.kind {
                        NodeKind::Seq(items) => {
                            for it in items {
                                match it.get("do") {
                                    Some(d) => self.refs(src, d, list),
                                    None => self.refs(src, it, list),
                                }
                            }
                        }
                        _ => self.refs(src, v, list),
                    }
                }
            }
            if let Some(dec) = t.get("decision").and_then(Node::as_seq) {
                for d in dec {
                    for k in ["next", "default"] {
                        if let Some(n) = d.get(k)
                            && n.as_str().is_some()
                        {
                            self.push_name(src, n, OccKind::TaskRef, list);
                        }
                    }
                }
            }
            if let Some(sub) = t.get("tasks").and_then(Node::as_seq) {
                *lists += 1;
                let id = *lists;
                self.walk_tasks(lines, sub, id, Some(idx), lists);
            }
        }
    }

    fn refs(&mut self, src: &str, node: &Node, list: usize) {
        match &node.kind {
            NodeKind::Str(_) => self.push_name(src, node, OccKind::TaskRef, list),
            NodeKind::Seq(items) => {
                for it in items {
                    if it.as_str().is_some() {
                        self.push_name(src, it, OccKind::TaskRef, list);
                    }
                }
            }
            _ => {}
        }
    }

    fn expressions(&mut self, src: &str, node: &Node) {
        match &node.kind {
            NodeKind::Map(es) => {
                for e in es {
                    self.expressions(src, &e.value);
                }
            }
            NodeKind::Seq(items) => {
                for it in items {
                    self.expressions(src, it);
                }
            }
            NodeKind::Str(s) if s.contains("{{") || s.contains("{%") => {
                for (ns, kind) in [
                    ("parameters.", OccKind::ExprParam),
                    ("vars.", OccKind::ExprVar),
                    ("variables.", OccKind::ExprVar),
                    ("tasks.", OccKind::ExprTask),
                    ("task.", OccKind::ExprTask),
                ] {
                    let mut from = 0;
                    while let Some(i) = s[from..].find(ns) {
                        let at = from + i;
                        from = at + ns.len();
                        let before_ok = at == 0
                            || !s.as_bytes()[at - 1].is_ascii_alphanumeric()
                                && s.as_bytes()[at - 1] != b'_'
                                && s.as_bytes()[at - 1] != b'.';
                        if !before_ok {
                            continue;
                        }
                        let rest = &s[from..];
                        let len = rest
                            .bytes()
                            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                            .count();
                        if len == 0 {
                            continue;
                        }
                        let start = node.offset_in_value(src, from);
                        let end = node.offset_in_value(src, from + len);
                        if src.get(start..end) == Some(&rest[..len]) {
                            self.occs.push(Occ {
                                kind: kind.clone(),
                                name: rest[..len].to_string(),
                                list: 0,
                                span: Span { start, end },
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The occurrence at a byte offset.
    pub fn occ_at(&self, off: usize) -> Option<&Occ> {
        self.occs.iter().find(|o| o.span.contains(off))
    }

    /// The innermost task whose span holds `off`.
    pub fn task_at(&self, off: usize) -> Option<&Task> {
        self.tasks
            .iter()
            .filter(|t| t.span.start <= off && off <= t.span.end)
            .max_by_key(|t| t.span.start)
    }

    /// The definition of task `name` in list `list`.
    pub fn task_def(&self, name: &str, list: Option<usize>) -> Option<&Occ> {
        self.occs.iter().find(|o| {
            o.kind == OccKind::TaskDef && o.name == name && list.is_none_or(|l| o.list == l)
        })
    }
}

/// The span of a string scalar's characters in the source, when the source
/// spells the value verbatim (no escapes, one line).
pub fn value_span(src: &str, node: &Node) -> Option<Span> {
    let v = node.as_str()?;
    let s = node.offset_in_value(src, 0);
    let e = node.offset_in_value(src, v.len());
    (src.get(s..e) == Some(v) && (!v.is_empty() || e > node.offset() || node.style == Style::Plain))
        .then_some(Span { start: s, end: e })
}

fn line_end(src: &str, off: usize) -> usize {
    src[off.min(src.len())..]
        .find('\n')
        .map_or(src.len(), |i| off + i)
}

/// Where a scalar that starts at `node.pos` ends in the source.
pub fn scalar_end(src: &str, node: &Node) -> usize {
    let start = node.offset().min(src.len());
    if let Some(sp) = value_span(src, node) {
        let quoted = matches!(node.style, Style::SingleQuoted | Style::DoubleQuoted);
        return if quoted { sp.end + 1 } else { sp.end }.min(src.len());
    }
    let rest = &src[start..];
    let b = rest.as_bytes();
    match node.style {
        Style::DoubleQuoted => {
            let mut i = 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return start + i + 1,
                    _ => i += 1,
                }
            }
            src.len()
        }
        Style::SingleQuoted => {
            let mut i = 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return start + i + 1;
                }
                i += 1;
            }
            src.len()
        }
        _ => {
            let le = line_end(src, start);
            let line = &src[start..le];
            let mut end = line.len();
            for pat in [" #", ": ", ", ", "]", "}"] {
                if let Some(i) = line.find(pat) {
                    end = end.min(i);
                }
            }
            if line[..end].ends_with(':') {
                end -= 1;
            }
            start + line[..end].trim_end().len()
        }
    }
}

/// Where a node ends: the end of its last scalar.
pub fn node_end(src: &str, node: &Node) -> usize {
    match &node.kind {
        NodeKind::Map(es) => match es.last() {
            Some(e) if e.value.is_null() => scalar_end(src, &e.key).max(e.value.offset()),
            Some(e) => node_end(src, &e.value),
            None => node.offset() + 2,
        },
        NodeKind::Seq(items) => match items.last() {
            Some(it) => node_end(src, it),
            None => node.offset() + 2,
        },
        _ => scalar_end(src, node),
    }
    .min(src.len())
}

/// True when a collection is written in block style (its first child is
/// not on a `{` / `[` line).
fn is_block(src: &str, node: &Node) -> bool {
    let b = src.as_bytes().get(node.offset()).copied();
    !matches!(b, Some(b'{') | Some(b'['))
}

/// The span of whole lines from the line of `from` to the end of the line
/// of `to`, including its newline.
fn whole_lines(src: &str, from: usize, to: usize) -> Span {
    let start = src[..from.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = line_end(src, to);
    Span {
        start,
        end: (end + 1).min(src.len()),
    }
}

/// A YAML double-quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn names_of(node: &Node) -> Option<Vec<String>> {
    match &node.kind {
        NodeKind::Str(s) => Some(vec![s.to_string()]),
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// The `next:` block that replaces a task's legacy transitions, when they
/// are plain (task names or `{when, do}` items, no `decision`/`publish`),
/// block style, and the task has no `next`.
fn legacy_fix(src: &str, t: &Node) -> Option<(Span, String)> {
    let es = t.as_map()?;
    if t.get("next").is_some() || t.get("decision").is_some() || t.get("publish").is_some() {
        return None;
    }
    let legacy: Vec<&yaml::Entry> = es
        .iter()
        .filter(|e| LEGACY.iter().any(|(k, _)| e.key_str() == Some(k)))
        .collect();
    let first = legacy.first()?;
    let key_col = yaml::column_of(src, &first.key) as usize - 1;
    // Every legacy entry must start its own line, at the task's key column.
    for e in &legacy {
        let ls = src[..e.key.offset()].rfind('\n').map_or(0, |i| i + 1);
        if src[ls..e.key.offset()].trim() != "" && !src[ls..e.key.offset()].trim().starts_with('-')
        {
            return None;
        }
        if yaml::column_of(src, &e.key) as usize - 1 != key_col {
            return None;
        }
    }
    let pad = " ".repeat(key_col);
    let mut out = "next:\n".to_string();
    for e in &legacy {
        let k = e.key_str().unwrap_or("");
        let cond = LEGACY.iter().find(|(n, _)| *n == k).and_then(|(_, c)| *c);
        let mut items: Vec<(Option<String>, Vec<String>)> = Vec::new();
        match &e.value.kind {
            NodeKind::Seq(list) if list.iter().any(|i| i.as_map().is_some()) => {
                for it in list {
                    let names = names_of(it.get("do")?)?;
                    let when = match (cond, it.get("when").and_then(Node::as_str)) {
                        (Some(c), Some(w)) => {
                            Some(format!("{{{{ {c} and ({}) }}}}", strip_block(w)))
                        }
                        (None, Some(w)) => Some(w.to_string()),
                        (Some(c), None) => Some(format!("{{{{ {c} }}}}")),
                        (None, None) => None,
                    };
                    items.push((when, names));
                }
            }
            _ => items.push((cond.map(|c| format!("{{{{ {c} }}}}")), names_of(&e.value)?)),
        }
        for (when, names) in items {
            let dash = match &when {
                Some(w) => {
                    out.push_str(&format!("{pad}  - when: {}\n", quote(w)));
                    format!("{pad}    ")
                }
                None => format!("{pad}  - "),
            };
            out.push_str(&format!("{dash}do: [{}]\n", names.join(", ")));
        }
    }
    // Replace the legacy entries' lines (they may not be adjacent: the
    // first entry's lines take the new block, the others are removed).
    let spans: Vec<Span> = legacy
        .iter()
        .map(|e| {
            whole_lines(
                src,
                e.key.offset(),
                node_end(src, &e.value).max(e.key.offset()),
            )
        })
        .collect();
    let mut edits_text = String::new();
    let start = spans.first()?.start;
    let end = spans.last()?.end;
    // Keep the lines between legacy entries that are not legacy.
    let mut cursor = start;
    for (i, sp) in spans.iter().enumerate() {
        if sp.start > cursor {
            edits_text.push_str(&src[cursor..sp.start]);
        }
        if i == 0 {
            // The first entry's line may start with the task's `- `.
            let ls = sp.start;
            let lead = &src[ls..first.key.offset()];
            edits_text.push_str(lead);
            edits_text.push_str(&out[..]);
        }
        cursor = sp.end;
    }
    if !src[..end].ends_with('\n') && edits_text.ends_with('\n') {
        edits_text.pop();
    }
    Some((Span { start, end }, edits_text))
}

fn strip_block(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("{{")
        .and_then(|x| x.strip_suffix("}}"))
        .map(str::trim)
        .unwrap_or(t)
}

/// The mapping that replaces a `vars` list of single-key mappings.
fn vars_fix(src: &str, root: &Node, items: &[Node]) -> Option<(Span, String)> {
    let entry = root.entry("vars")?;
    let key_col = yaml::column_of(src, &entry.key) as usize - 1;
    if key_col != 0 {
        return None;
    }
    let mut out = String::from("vars:\n");
    for it in items {
        let [e] = it.as_map()? else { return None };
        let k = e.key.scalar_text()?;
        let v = e.value.to_json();
        let v = match &v {
            serde_json::Value::String(s) => quote(s),
            other => other.to_string(),
        };
        let key = if attune_workflow::is_valid_name(&k) {
            k
        } else {
            quote(&k)
        };
        out.push_str(&format!("  {key}: {v}\n"));
    }
    let span = whole_lines(src, entry.key.offset(), node_end(src, &entry.value));
    if !src[..span.end].ends_with('\n') {
        out.pop();
    }
    Some((span, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WF: &str = "version: \"1.0.0\"\nparameters:\n  region: {type: string}\nvars:\n  - count: 1\ntasks:\n  - name: build\n    action: core.echo\n    input:\n      message: \"{{ parameters.region }} {{ task.build.result }}\"\n    on_success: deploy\n  - name: deploy\n    type: parallel\n    tasks:\n      - name: a\n        action: core.noop\n        next:\n          - do: [b]\n      - name: b\n        action: core.noop\n";

    #[test]
    fn tasks_and_occurrences_are_found() {
        let a = Analysis::new(WF);
        let names: Vec<_> = a
            .tasks
            .iter()
            .map(|t| (t.name.clone().unwrap(), t.list))
            .collect();
        assert_eq!(
            names,
            [
                ("build".into(), 0),
                ("deploy".into(), 0),
                ("a".into(), 1),
                ("b".into(), 1)
            ]
        );
        assert_eq!(a.tasks[2].parent, Some(1));
        let refs: Vec<_> = a
            .occs
            .iter()
            .filter(|o| o.kind == OccKind::TaskRef)
            .map(|o| (o.name.as_str(), o.list, &WF[o.span.start..o.span.end]))
            .collect();
        assert_eq!(refs, [("deploy", 0, "deploy"), ("b", 1, "b")]);
        let p = a
            .occs
            .iter()
            .find(|o| o.kind == OccKind::ExprParam)
            .unwrap();
        assert_eq!(&WF[p.span.start..p.span.end], "region");
        let t = a.occs.iter().find(|o| o.kind == OccKind::ExprTask).unwrap();
        assert_eq!(&WF[t.span.start..t.span.end], "build");
        assert!(
            a.occs
                .iter()
                .any(|o| o.kind == OccKind::ParamDef && o.name == "region")
        );
        let (span, text) = a.vars_fix.clone().unwrap();
        assert_eq!(&WF[span.start..span.end], "vars:\n  - count: 1\n");
        assert_eq!(text, "vars:\n  count: 1\n");
        let (span, text) = a.tasks[0].legacy_fix.clone().unwrap();
        assert_eq!(&WF[span.start..span.end], "    on_success: deploy\n");
        assert_eq!(
            text,
            "    next:\n      - when: \"{{ succeeded() }}\"\n        do: [deploy]\n"
        );
    }

    #[test]
    fn scalar_ends_cover_quotes_and_stop_at_comments() {
        let src = "a: \"x y\" # c\nb: plain words # c\nc: 12\n";
        let doc = yaml::parse(src, &Limits::default()).unwrap();
        let end = |k: &str| {
            let n = doc.root.get(k).unwrap();
            &src[n.offset()..scalar_end(src, n)]
        };
        assert_eq!(end("a"), "\"x y\"");
        assert_eq!(end("b"), "plain words");
        assert_eq!(end("c"), "12");
    }
}
