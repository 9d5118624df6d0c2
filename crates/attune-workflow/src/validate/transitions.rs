//! Transitions: `next` with `when`/`do`/`publish`, the legacy
//! `on_success`-style keys and decisions, and their targets.

use super::*;

impl Checker<'_> {
    // --------------------------------------------------------- transitions

    pub(super) fn check_transitions<'n>(
        &mut self,
        t: &'n Node,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
    ) -> Vec<Value> {
        let legacy: Vec<&crate::yaml::Entry> = t
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
                    first.key.mark(),
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
    pub(super) fn legacy_transition<'n>(
        &mut self,
        v: &'n Node,
        key: &str,
        cond: Option<&str>,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
        out: &mut Vec<Value>,
    ) {
        let base_when = cond.map(|c| format!("{{{{ {c} }}}}"));
        let mut push = |when: Option<String>, names: Vec<String>| {
            let mut m = Map::with_capacity(2);
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
                push(base_when, vec![s.to_string()]);
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
                        v.mark(),
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
                        v.mark(),
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

    pub(super) fn check_decision<'n>(
        &mut self,
        v: &'n Node,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
        out: &mut Vec<Value>,
    ) {
        let Some(items) = v.as_seq() else {
            self.push(
                Code::InvalidDecision,
                format!(
                    "decision must be a list of {{when, next}} items, found {}",
                    v.type_name()
                ),
                v.mark(),
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
                    it.mark(),
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
                            it.mark(),
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
                            n.mark(),
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
                        d.mark(),
                        &ip.key("default"),
                    );
                }
                (Some(w), None) => {
                    self.check_when(w, &ip.key("when"));
                    if let (Some(ws), Some(tg)) = (w.as_str(), &target) {
                        conds.push(strip_block(ws).to_string());
                        let mut m = Map::with_capacity(2);
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
                            d.mark(),
                            &ip.key("default"),
                        )
                        .hint = Some(hint);
                    }
                },
                (None, None) => {
                    self.push(
                        Code::InvalidDecision,
                        "a decision item needs when (a condition) or `default: true`",
                        it.mark(),
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

    pub(super) fn check_next<'n>(
        &mut self,
        next: &'n Node,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
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
            let keys = ["when", "publish", "do"];
            let mut m = Map::with_capacity(keys.iter().filter(|k| it.get(k).is_some()).count());
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

    pub(super) fn check_do<'n>(
        &mut self,
        d: &'n Node,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
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
                    d.mark(),
                    path,
                )
                .hint = Some(format!("write do: [{s}]"));
                vec![s.to_string()]
            }
            NodeKind::Null => Vec::new(),
            _ => {
                self.wrong_type(d, "do", "a list of task names", path);
                Vec::new()
            }
        }
    }

    pub(super) fn target<'n>(
        &mut self,
        node: &Node,
        name: &'n str,
        task: &str,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
    ) {
        targets.push(name);
        if local.contains_key(name) {
            return;
        }
        let (hint, fix) = match self.all_tasks.get(name) {
            Some(&list) => (
                Some(format!(
                    "'{name}' is defined in another task list ({}); transitions stay within their own list",
                    self.list_paths
                        .get(list as usize)
                        .map_or("", String::as_str)
                )),
                None,
            ),
            // Hints cost a string distance per candidate: on hostile input
            // with thousands of problems, stop computing them. The task the
            // transition leaves is never proposed (a loop onto itself is not
            // what a typo meant).
            None if self.diags.len() < HINT_BUDGET => {
                match did_you_mean(name, local.keys().copied().filter(|c| *c != task)) {
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
            node.mark(),
            path,
        );
        d.hint = hint;
        d.fix = fix;
    }

    pub(super) fn check_publish(&mut self, p: &Node, path: &Loc<'_>) -> Option<Value> {
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
                    p.mark(),
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
}
