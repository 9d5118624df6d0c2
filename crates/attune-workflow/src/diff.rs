//! The semantic diff of two normalized workflow definitions (the
//! `definition` of a [`crate::Workflow`]): which workflow fields changed,
//! which tasks were added, removed, renamed or changed (fields and
//! transitions), nested tasks of `parallel` tasks included.
//!
//! Pure: JSON in, a [`SemanticDiff`] out. Mappings compare without regard
//! to key order and tasks are matched by name, so reformatting, reordering
//! keys or moving a task in its list is "no semantic change". A task whose
//! name changed while its body stayed the same (its own references to the
//! old name renamed too) reads as a rename, and references to it elsewhere
//! that follow the rename are not reported as changed transitions. When one
//! task disappears and one appears in the same list with the same action,
//! that is a rename with changed fields.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The sentence of a diff with no change.
pub const NO_SEMANTIC_CHANGE: &str = "no semantic change";

/// What happened to a field, task or transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    Renamed,
}

/// A changed value at a dotted `path` (`version`, `input.message`,
/// `parameters.properties.env.default`); `before`/`after` absent when the
/// field was added/removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// A changed entry of a task's `next` list (by position, from 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionChange {
    pub index: usize,
    pub kind: ChangeKind,
    /// The changed parts of the entry: `when`, `do`, `publish`, ….
    pub fields: Vec<FieldChange>,
}

/// A task that was added, removed, renamed or changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskChange {
    /// Names from the top-level task down, joined by `/` (`fan/left`).
    pub path: String,
    /// The task's name (the new one for a rename).
    pub name: String,
    pub kind: ChangeKind,
    /// The old path of a renamed task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Changed fields other than `next` and nested `tasks`.
    pub fields: Vec<FieldChange>,
    pub transitions: Vec<TransitionChange>,
}

/// The semantic difference between two definitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SemanticDiff {
    /// False when nothing but formatting, comments or order changed.
    pub changed: bool,
    /// One line: `no semantic change`, or counts (`1 task added, 1 changed`).
    pub summary: String,
    /// Workflow-level fields (everything but `tasks`).
    pub workflow: Vec<FieldChange>,
    pub tasks: Vec<TaskChange>,
}

impl SemanticDiff {
    /// Paths of the tasks to mark in a graph, with their kind.
    pub fn marked_tasks(&self) -> impl Iterator<Item = (&str, ChangeKind)> {
        self.tasks.iter().map(|t| (t.path.as_str(), t.kind))
    }

    /// The diff as text lines, for the CLI and code review.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.summary);
        out.push('\n');
        for f in &self.workflow {
            out.push_str(&format!("~ workflow {}\n", field_line(f)));
        }
        for t in &self.tasks {
            match t.kind {
                ChangeKind::Added => out.push_str(&format!("+ task {}\n", t.path)),
                ChangeKind::Removed => out.push_str(&format!("- task {}\n", t.path)),
                ChangeKind::Renamed => out.push_str(&format!(
                    "> task {} renamed to {}\n",
                    t.renamed_from.as_deref().unwrap_or("?"),
                    t.path
                )),
                ChangeKind::Changed => out.push_str(&format!("~ task {}\n", t.path)),
            }
            for f in &t.fields {
                out.push_str(&format!("    {}\n", field_line(f)));
            }
            for tr in &t.transitions {
                let what = match tr.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    _ => "changed",
                };
                out.push_str(&format!("    transition {} {what}\n", tr.index));
                for f in &tr.fields {
                    out.push_str(&format!("      {}\n", field_line(f)));
                }
            }
        }
        out
    }
}

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 120 {
                let cut: String = s.chars().take(117).collect();
                format!("{cut}...")
            } else {
                s
            }
        }
    }
}

fn field_line(f: &FieldChange) -> String {
    match f.kind {
        ChangeKind::Added => format!("{}: added {}", f.path, short(&f.after)),
        ChangeKind::Removed => format!("{}: removed (was {})", f.path, short(&f.before)),
        _ => format!("{}: {} -> {}", f.path, short(&f.before), short(&f.after)),
    }
}

/// Compares two normalized definitions.
pub fn diff_definitions(old: &Value, new: &Value) -> SemanticDiff {
    let empty = Map::new();
    let old_map = old.as_object().unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let mut workflow = Vec::new();
    let strip = |m: &Map<String, Value>| {
        let mut m = m.clone();
        m.remove("tasks");
        Value::Object(m)
    };
    diff_values("", &strip(old_map), &strip(new_map), &mut workflow);
    let mut tasks = Vec::new();
    diff_task_lists(
        "",
        old_map.get("tasks"),
        new_map.get("tasks"),
        &mut tasks,
        0,
    );
    let changed = !workflow.is_empty() || !tasks.is_empty();
    let summary = summarize(&workflow, &tasks);
    SemanticDiff {
        changed,
        summary,
        workflow,
        tasks,
    }
}

fn summarize(workflow: &[FieldChange], tasks: &[TaskChange]) -> String {
    if workflow.is_empty() && tasks.is_empty() {
        return NO_SEMANTIC_CHANGE.to_string();
    }
    let mut parts = Vec::new();
    let count = |k: ChangeKind| tasks.iter().filter(|t| t.kind == k).count();
    let plural = |n: usize| if n == 1 { "task" } else { "tasks" };
    for (kind, word) in [
        (ChangeKind::Added, "added"),
        (ChangeKind::Removed, "removed"),
        (ChangeKind::Renamed, "renamed"),
        (ChangeKind::Changed, "changed"),
    ] {
        let n = count(kind);
        if n > 0 {
            parts.push(format!("{n} {} {word}", plural(n)));
        }
    }
    if !workflow.is_empty() {
        let n = workflow.len();
        parts.push(format!(
            "{n} workflow {} changed",
            if n == 1 { "field" } else { "fields" }
        ));
    }
    parts.join(", ")
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Leaf-level differences of two JSON values: mappings recurse by key
/// (order ignored), anything else is compared whole.
fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => diff_values(&join(path, k), va, vb, out),
                    None => out.push(FieldChange {
                        path: join(path, k),
                        kind: ChangeKind::Removed,
                        before: Some(va.clone()),
                        after: None,
                    }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(FieldChange {
                        path: join(path, k),
                        kind: ChangeKind::Added,
                        before: None,
                        after: Some(vb.clone()),
                    });
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
            path: path.to_string(),
            kind: ChangeKind::Changed,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

/// Nesting bound for hostile input (the validator's own limits are lower).
const MAX_DEPTH: usize = 64;

fn task_name(t: &Value) -> Option<&str> {
    t.get("name").and_then(Value::as_str)
}

fn tasks_by_name(list: Option<&Value>) -> BTreeMap<&str, &Value> {
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| Some((task_name(t)?, t))).collect())
        .unwrap_or_default()
}

/// `task` with `name`, nested `tasks` removed, and task references in its
/// `next` entries mapped through `renames`.
fn body(task: &Value, renames: &BTreeMap<String, String>) -> Value {
    let mut m = task.as_object().cloned().unwrap_or_default();
    m.remove("name");
    m.remove("tasks");
    if let Some(Value::Array(next)) = m.get_mut("next") {
        for entry in next {
            rename_refs(entry, renames);
        }
    }
    Value::Object(m)
}

fn rename_refs(entry: &mut Value, renames: &BTreeMap<String, String>) {
    if let Some(Value::Array(targets)) = entry.get_mut("do") {
        for t in targets {
            if let Some(name) = t.as_str()
                && let Some(new) = renames.get(name)
            {
                *t = Value::String(new.clone());
            }
        }
    }
}

fn path_of(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}/{name}")
    }
}

fn diff_task_lists(
    scope: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<TaskChange>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let old_tasks = tasks_by_name(old);
    let new_tasks = tasks_by_name(new);
    let removed: Vec<&str> = old_tasks
        .keys()
        .copied()
        .filter(|n| !new_tasks.contains_key(n))
        .collect();
    let added: Vec<&str> = new_tasks
        .keys()
        .copied()
        .filter(|n| !old_tasks.contains_key(n))
        .collect();

    // Renames: first bodies equal once the old name is replaced by the new
    // one; then a unique pair with the same action.
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    for &r in &removed {
        for &a in &added {
            if renames.values().any(|v| v == a) {
                continue;
            }
            let map = BTreeMap::from([(r.to_string(), a.to_string())]);
            if body(old_tasks[r], &map) == body(new_tasks[a], &BTreeMap::new())
                && old_tasks[r].get("tasks") == new_tasks[a].get("tasks")
            {
                renames.insert(r.to_string(), a.to_string());
                break;
            }
        }
    }
    let action = |t: &Value| t.get("action").cloned();
    let left: Vec<&str> = removed
        .iter()
        .copied()
        .filter(|r| !renames.contains_key(*r))
        .collect();
    let right: Vec<&str> = added
        .iter()
        .copied()
        .filter(|a| !renames.values().any(|v| v == a))
        .collect();
    for &r in &left {
        let act = action(old_tasks[r]);
        let same_l = left
            .iter()
            .filter(|x| action(old_tasks[**x]) == act)
            .count();
        let cands: Vec<&str> = right
            .iter()
            .copied()
            .filter(|a| action(new_tasks[*a]) == act)
            .collect();
        if act.is_some() && same_l == 1 && cands.len() == 1 {
            renames.insert(r.to_string(), cands[0].to_string());
        }
    }

    // Every task in old order of names, then the added ones.
    for (name, old_task) in &old_tasks {
        let (new_name, new_task) = match renames.get(*name) {
            Some(n) => (n.as_str(), new_tasks[n.as_str()]),
            None => match new_tasks.get(name) {
                Some(t) => (*name, *t),
                None => {
                    out.push(TaskChange {
                        path: path_of(scope, name),
                        name: name.to_string(),
                        kind: ChangeKind::Removed,
                        renamed_from: None,
                        fields: Vec::new(),
                        transitions: Vec::new(),
                    });
                    continue;
                }
            },
        };
        let renamed = new_name != *name;
        let mut fields = Vec::new();
        let mut transitions = Vec::new();
        let ob = body(old_task, &renames);
        let nb = body(new_task, &BTreeMap::new());
        let strip_next = |v: &Value| {
            let mut m = v.as_object().cloned().unwrap_or_default();
            m.remove("next");
            Value::Object(m)
        };
        diff_values("", &strip_next(&ob), &strip_next(&nb), &mut fields);
        diff_transitions(ob.get("next"), nb.get("next"), &mut transitions);
        if renamed || !fields.is_empty() || !transitions.is_empty() {
            out.push(TaskChange {
                path: path_of(scope, new_name),
                name: new_name.to_string(),
                kind: if renamed {
                    ChangeKind::Renamed
                } else {
                    ChangeKind::Changed
                },
                renamed_from: renamed.then(|| path_of(scope, name)),
                fields,
                transitions,
            });
        }
        diff_task_lists(
            &path_of(scope, new_name),
            old_task.get("tasks"),
            new_task.get("tasks"),
            out,
            depth + 1,
        );
    }
    for &a in &added {
        if renames.values().any(|v| v == a) {
            continue;
        }
        out.push(TaskChange {
            path: path_of(scope, a),
            name: a.to_string(),
            kind: ChangeKind::Added,
            renamed_from: None,
            fields: Vec::new(),
            transitions: Vec::new(),
        });
        // nested tasks of an added parallel task are added too
        diff_task_lists(
            &path_of(scope, a),
            None,
            new_tasks[a].get("tasks"),
            out,
            depth + 1,
        );
    }
}

fn diff_transitions(old: Option<&Value>, new: Option<&Value>, out: &mut Vec<TransitionChange>) {
    let none = Vec::new();
    let a = old.and_then(Value::as_array).unwrap_or(&none);
    let b = new.and_then(Value::as_array).unwrap_or(&none);
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => {
                let mut fields = Vec::new();
                diff_values("", x, y, &mut fields);
                if !fields.is_empty() {
                    out.push(TransitionChange {
                        index: i,
                        kind: ChangeKind::Changed,
                        fields,
                    });
                }
            }
            (Some(x), None) => out.push(TransitionChange {
                index: i,
                kind: ChangeKind::Removed,
                fields: whole(x, ChangeKind::Removed),
            }),
            (None, Some(y)) => out.push(TransitionChange {
                index: i,
                kind: ChangeKind::Added,
                fields: whole(y, ChangeKind::Added),
            }),
            (None, None) => {}
        }
    }
}

fn whole(v: &Value, kind: ChangeKind) -> Vec<FieldChange> {
    let Some(m) = v.as_object() else {
        return Vec::new();
    };
    m.iter()
        .map(|(k, v)| FieldChange {
            path: k.clone(),
            kind,
            before: (kind == ChangeKind::Removed).then(|| v.clone()),
            after: (kind == ChangeKind::Added).then(|| v.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltinCatalog, SourceContext, validate};

    /// The normalized definition of a YAML text (must be valid).
    fn def(src: &str) -> Value {
        let ctx = SourceContext {
            pack_ref: "p",
            name: "w",
            file: None,
        };
        let v = validate(src.as_bytes(), &ctx, &BuiltinCatalog::new());
        v.workflow
            .unwrap_or_else(|| panic!("invalid: {:?}", v.diagnostics))
            .definition
    }

    const BASE: &str = "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: a\n    action: core.echo\n    input:\n      message: hi\n    next:\n      - when: \"{{ succeeded() }}\"\n        do: [b]\n  - name: b\n    action: core.noop\n";

    #[test]
    fn reformatting_and_reordering_keys_is_no_semantic_change() {
        let reordered = "# a comment\nversion: '1.0.0'\nlabel:   L\ntasks:\n  - name: b\n    action: core.noop\n  - input: {message: hi}\n    action: core.echo\n    name: a\n    next:\n      - do: [b]\n        when: \"{{ succeeded() }}\"\n";
        let d = diff_definitions(&def(BASE), &def(reordered));
        assert!(!d.changed, "{d:#?}");
        assert_eq!(d.summary, NO_SEMANTIC_CHANGE);
        assert!(d.to_text().starts_with(NO_SEMANTIC_CHANGE));
    }

    #[test]
    fn a_workflow_field_change_is_listed_with_before_and_after() {
        let d = diff_definitions(
            &def(BASE),
            &def(&BASE.replace("1.0.0", "1.1.0").replace(
                "label: L\n",
                "label: L\ndescription: new\nparameters:\n  env: {type: string}\n",
            )),
        );
        let paths: Vec<(&str, ChangeKind)> = d
            .workflow
            .iter()
            .map(|f| (f.path.as_str(), f.kind))
            .collect();
        assert!(
            paths.contains(&("version", ChangeKind::Changed)),
            "{paths:?}"
        );
        assert!(
            paths.contains(&("description", ChangeKind::Added)),
            "{paths:?}"
        );
        assert!(
            paths.contains(&("parameters", ChangeKind::Added)),
            "{paths:?}"
        );
        assert!(d.tasks.is_empty());
        assert_eq!(d.summary, "3 workflow fields changed");
        let v = d.workflow.iter().find(|f| f.path == "version").unwrap();
        assert_eq!(v.before, Some(Value::from("1.0.0")));
        assert_eq!(v.after, Some(Value::from("1.1.0")));
    }

    #[test]
    fn a_task_field_change_names_the_leaf_path() {
        let d = diff_definitions(
            &def(BASE),
            &def(&BASE.replace("message: hi", "message: ho")),
        );
        assert_eq!(d.tasks.len(), 1, "{d:#?}");
        let t = &d.tasks[0];
        assert_eq!((t.path.as_str(), t.kind), ("a", ChangeKind::Changed));
        assert_eq!(t.fields[0].path, "input.message");
        assert_eq!(t.fields[0].after, Some(Value::from("ho")));
        assert!(t.transitions.is_empty());
        assert_eq!(d.summary, "1 task changed");
        assert!(
            d.to_text().contains("input.message: \"hi\" -> \"ho\""),
            "{}",
            d.to_text()
        );
    }

    #[test]
    fn a_changed_transition_condition_is_a_transition_change() {
        let d = diff_definitions(
            &def(BASE),
            &def(&BASE.replace("{{ succeeded() }}", "{{ failed() }}")),
        );
        let t = &d.tasks[0];
        assert!(t.fields.is_empty(), "{t:#?}");
        assert_eq!(t.transitions.len(), 1);
        let tr = &t.transitions[0];
        assert_eq!((tr.index, tr.kind), (0, ChangeKind::Changed));
        assert_eq!(tr.fields[0].path, "when");
        assert_eq!(tr.fields[0].before, Some(Value::from("{{ succeeded() }}")));
        assert_eq!(tr.fields[0].after, Some(Value::from("{{ failed() }}")));
    }

    #[test]
    fn added_and_removed_transitions_and_tasks() {
        let more =
            format!("{BASE}    next:\n      - do: [c]\n  - name: c\n    action: core.noop\n");
        let d = diff_definitions(&def(BASE), &def(&more));
        let kinds: Vec<(&str, ChangeKind)> =
            d.tasks.iter().map(|t| (t.path.as_str(), t.kind)).collect();
        assert_eq!(
            kinds,
            [("b", ChangeKind::Changed), ("c", ChangeKind::Added)],
            "{d:#?}"
        );
        assert_eq!(d.tasks[0].transitions[0].kind, ChangeKind::Added);
        assert_eq!(d.summary, "1 task added, 1 task changed");
        let back = diff_definitions(&def(&more), &def(BASE));
        assert_eq!(back.tasks[0].transitions[0].kind, ChangeKind::Removed);
        assert_eq!(back.tasks[1].kind, ChangeKind::Removed);
        assert!(back.to_text().contains("- task c"), "{}", back.to_text());
    }

    #[test]
    fn renaming_a_task_and_its_references_reads_as_a_rename() {
        let renamed = BASE
            .replace("do: [b]", "do: [finish]")
            .replace("name: b", "name: finish");
        let d = diff_definitions(&def(BASE), &def(&renamed));
        assert_eq!(d.tasks.len(), 1, "{d:#?}");
        let t = &d.tasks[0];
        assert_eq!(t.kind, ChangeKind::Renamed);
        assert_eq!(
            (t.path.as_str(), t.renamed_from.as_deref()),
            ("finish", Some("b"))
        );
        assert!(t.fields.is_empty() && t.transitions.is_empty());
        assert_eq!(d.summary, "1 task renamed");
        assert!(d.to_text().contains("> task b renamed to finish"));
    }

    #[test]
    fn a_rename_with_a_changed_field_pairs_by_action() {
        let renamed = BASE
            .replace("name: a", "name: start")
            .replace("message: hi", "message: hello");
        let d = diff_definitions(&def(BASE), &def(&renamed));
        assert_eq!(d.tasks.len(), 1, "{d:#?}");
        let t = &d.tasks[0];
        assert_eq!((t.name.as_str(), t.kind), ("start", ChangeKind::Renamed));
        assert_eq!(t.renamed_from.as_deref(), Some("a"));
        assert_eq!(t.fields[0].path, "input.message");
        assert!(t.transitions.is_empty());
    }

    #[test]
    fn adding_a_parallel_branch_marks_the_nested_task() {
        let par = "label: L\nversion: \"1.0.0\"\ntasks:\n  - name: fan\n    type: parallel\n    tasks:\n      - name: left\n        action: core.noop\n";
        let wider = format!(
            "{par}      - name: right\n        action: core.echo\n        input: {{message: x}}\n"
        );
        let d = diff_definitions(&def(par), &def(&wider));
        let kinds: Vec<(&str, ChangeKind)> =
            d.tasks.iter().map(|t| (t.path.as_str(), t.kind)).collect();
        assert_eq!(kinds, [("fan/right", ChangeKind::Added)], "{d:#?}");
        assert_eq!(d.marked_tasks().count(), 1);
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        for (a, b) in [
            (Value::Null, Value::from(3)),
            (
                serde_json::json!({"tasks": 5}),
                serde_json::json!({"tasks": [1, {"name": 2}]}),
            ),
            (
                serde_json::json!({"tasks": [{"name": "a", "next": "x", "tasks": {"y": 1}}]}),
                serde_json::json!({"tasks": [{"name": "a", "next": [1, null]}]}),
            ),
        ] {
            let d = diff_definitions(&a, &b);
            let _ = d.to_text();
        }
    }
}
