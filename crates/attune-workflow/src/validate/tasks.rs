//! Task lists and tasks: names, types, reachability, action refs and
//! their inputs, retry and iteration options.

use super::*;

impl Checker<'_> {
    // --------------------------------------------------------------- tasks

    pub(super) fn check_task_list<'n>(
        &mut self,
        node: &'n Node,
        path: &Loc<'_>,
        count: &mut u32,
        mut sink: Option<&mut Vec<u8>>,
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
                    node.mark(),
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
                node.mark(),
                path,
            );
            return Some(Vec::new());
        }
        // Every name of the list, borrowed, with its first task: the list's
        // targets, its duplicates and its graph's nodes in one map.
        let mut local: Local<'n> = HashMap::with_capacity(items.len());
        for (i, t) in items.iter().enumerate() {
            if let Some(n) = task_name(t) {
                local.entry(n).or_insert(i as u32);
            }
        }
        let mut graph = ListGraph {
            targets: Vec::new(),
            ends: Vec::with_capacity(items.len()),
        };
        // A sink (the text form's top-level list) takes each task's JSON as
        // soon as it is built; otherwise the list keeps the trees.
        let keep = self.normalize && sink.is_none();
        let mut out = Vec::with_capacity(if keep { items.len() } else { 0 });
        let mut written = 0usize;
        for (i, t) in items.iter().enumerate() {
            let tpath = path.index(i);
            *count += 1;
            let start = graph.targets.len();
            if let Some(v) = self.check_task(t, &tpath, &local, &mut graph.targets, count)
                && self.normalize
            {
                match sink.as_deref_mut() {
                    Some(buf) => {
                        if written > 0 {
                            buf.push(b',');
                        }
                        written += 1;
                        // Writing into a Vec cannot fail.
                        let _ = serde_json::to_writer(&mut *buf, &v);
                    }
                    None => out.push(v),
                }
            }
            let mut first_of_name = false;
            if let Some(n) = t.get("name")
                && let Some(name) = n.as_str()
            {
                let first = local.get(name).map_or(i, |&f| f as usize);
                if first != i {
                    let line = items
                        .get(first)
                        .and_then(|f| f.get("name"))
                        .map_or(0, |f| self.pos_of(f.mark()).line);
                    self.push(
                        Code::DuplicateTask,
                        format!("duplicate task name '{name}' (first defined at line {line})"),
                        n.mark(),
                        &tpath.key("name"),
                    )
                    .hint =
                        Some("task names must be unique within their list; rename one".to_string());
                } else {
                    first_of_name = true;
                }
            }
            // Only the first task of a name is a node of the graph.
            if !first_of_name {
                graph.targets.truncate(start);
            }
            graph.ends.push(graph.targets.len() as u32);
        }
        self.reachability(node, path, items, &local, &graph);
        Some(out)
    }

    pub(super) fn reachability(
        &mut self,
        list: &Node,
        path: &Loc<'_>,
        items: &[Node],
        local: &Local<'_>,
        g: &ListGraph,
    ) {
        // The graph's nodes: the first task of each name, in list order.
        let active = |i: usize, t: &Node| {
            task_name(t).is_some_and(|n| local.get(n).is_some_and(|&f| f as usize == i))
        };
        let Some(first) = items
            .iter()
            .enumerate()
            .find(|&(i, t)| active(i, t))
            .and_then(|(_, t)| task_name(t))
        else {
            return;
        };
        let mut inbound = vec![false; items.len()];
        for from in 0..items.len() {
            for t in g.of(from) {
                if let Some(&j) = local.get(t)
                    && j as usize != from
                    && let Some(slot) = inbound.get_mut(j as usize)
                {
                    *slot = true;
                }
            }
        }
        let entries: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|&(i, t)| !inbound[i] && active(i, t))
            .map(|(i, _)| i)
            .collect();
        if entries.is_empty() {
            self.push(
                Code::NoEntryPoint,
                format!(
                    "every task in {path} is the target of a transition, so none of them starts"
                ),
                list.mark(),
                path,
            )
            .hint = Some(format!(
                "a task with no incoming transition starts the list; remove the transitions into '{first}'"
            ));
            return;
        }
        let mut reached = vec![false; items.len()];
        let mut q: VecDeque<usize> = entries.into_iter().collect();
        for &i in &q {
            reached[i] = true;
        }
        while let Some(i) = q.pop_front() {
            for t in g.of(i) {
                if let Some(&j) = local.get(t)
                    && let Some(r) = reached.get_mut(j as usize)
                    && !*r
                {
                    *r = true;
                    q.push_back(j as usize);
                }
            }
        }
        for (i, node) in items.iter().enumerate() {
            if !reached[i] && active(i, node) {
                let name = task_name(node).unwrap_or_default();
                let pos = node.get("name").map(|n| n.mark()).unwrap_or(node.mark());
                self.push(
                    Code::UnreachableTask,
                    format!("Task '{name}' is never reached: only tasks that are themselves unreachable lead to it"),
                    pos,
                    &path.index(i).key("name"),
                );
            }
        }
    }

    pub(super) fn check_task<'n>(
        &mut self,
        t: &'n Node,
        path: &Loc<'_>,
        local: &Local<'_>,
        targets: &mut Vec<&'n str>,
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
                e.key.mark(),
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
                    t.mark(),
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
                        n.mark(),
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
                            n.mark(),
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
                        ty.mark(),
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
                    t.mark(),
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
                            o.mark(),
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
                        o.mark(),
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
                            v.mark(),
                            &path.key(key),
                        );
                    }
                    Some(n) if n < 0 => {
                        self.push(
                            Code::WrongType,
                            format!("{key} must not be negative, found {n}"),
                            v.mark(),
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
                    t.mark(),
                    path,
                )
                .hint = Some("a parallel task runs the tasks listed under `tasks:`".to_string());
            }
            ("parallel", Some(list)) => {
                sub = self.check_task_list(list, &path.key("tasks"), count, None);
            }
            (_, Some(list)) => {
                self.push(
                    Code::UnknownKey,
                    format!("Task '{name}' has tasks but is not a parallel task"),
                    t.entry("tasks")
                        .map(|e| e.key.mark())
                        .unwrap_or(list.mark()),
                    &path.key("tasks"),
                )
                .hint = Some("add `type: parallel` or remove `tasks`".to_string());
            }
            _ => {}
        }

        if !self.normalize {
            return Some(Value::Null);
        }
        // Normalized task, its map sized once (a map grown by doubling
        // holds up to twice its entries).
        let skipped = |k: &str| {
            k == "name"
                || k == "type"
                || k == "next"
                || k == "tasks"
                || k == "permission_set_ref"
                || LEGACY_KEYS.contains(&k)
        };
        let kept = t
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter(|e| e.key_str().is_some_and(|k| !skipped(k)))
            .count();
        let extra = usize::from(t.get("permission_set_ref").is_some()) + usize::from(sub.is_some());
        let mut m = Map::with_capacity(3 + kept + extra);
        m.insert("name".into(), Value::String(name));
        m.insert("type".into(), Value::String(ttype.to_string()));
        if let Some(entries) = t.as_map() {
            for e in entries {
                let Some(k) = e.key_str() else { continue };
                if skipped(k) {
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

    pub(super) fn check_action_ref(
        &mut self,
        task_node: &Node,
        node: &Node,
        s: &str,
        task: &str,
        path: &Loc<'_>,
    ) -> Option<crate::catalog::ActionInfo> {
        if expr::has_template(s) {
            self.check_expr(node, path, false);
            return None;
        }
        if !is_action_ref(s) {
            self.push(
                Code::InvalidActionRef,
                format!("Task '{task}' has an invalid action ref '{s}'"),
                node.mark(),
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
                node.mark(),
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
            node.mark(),
            path,
        );
        d.hint = Some(hint);
        d.fix = fix;
        None
    }

    pub(super) fn check_inputs(
        &mut self,
        t: &Node,
        task: &str,
        action: &str,
        params: &[crate::catalog::ParamInfo],
        path: &Loc<'_>,
    ) {
        let input = t.get("input").filter(|i| i.as_map().is_some());
        let given: Vec<String> = input
            .and_then(Node::as_map)
            .map(|es| es.iter().filter_map(|e| e.key.scalar_text()).collect())
            .unwrap_or_default();
        let at = input.map(|i| i.mark()).unwrap_or(t.mark());
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
                    e.key.mark(),
                    &path.key("input").key(&k),
                );
                d.hint = hint;
                d.fix = fix;
            }
        }
    }

    pub(super) fn check_retry(&mut self, r: &Node, path: &Loc<'_>) {
        if r.as_map().is_none() {
            self.push(
                Code::InvalidRetry,
                format!(
                    "retry must be a mapping with count, delay and backoff, found {}",
                    r.type_name()
                ),
                r.mark(),
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
                    r.mark(),
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
                        c.mark(),
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
                        d.mark(),
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
                        b.mark(),
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
                        md.mark(),
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
                        md.mark(),
                        &path.key("max_delay"),
                    );
                }
            }
        }
        if let Some(oe) = r.get("on_error") {
            self.check_templates_in(oe, &path.key("on_error"), false);
        }
    }
}

/// A task's name, when it is a string.
fn task_name(t: &Node) -> Option<&str> {
    t.get("name").and_then(Node::as_str)
}
