//! The document root: the workflow's own keys, its parameter and output
//! schemas, and `vars`.

use super::*;

impl<'a> Checker<'a> {
    // ---------------------------------------------------------------- root

    pub(super) fn check_root(&mut self, root: &'a Node) -> Option<Workflow> {
        if root.as_map().is_none() {
            let msg = if root.is_null() {
                "the file is empty; a workflow is a mapping with version and tasks".to_string()
            } else {
                format!(
                    "a workflow file must be a mapping, found {}",
                    root.type_name()
                )
            };
            self.push(Code::NotAMapping, msg, root.mark(), &ROOT).hint =
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
                            r.mark(),
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
                    root.mark(),
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
                    root.mark(),
                    &ROOT,
                )
                .hint = Some("add `version: \"1.0.0\"`".to_string());
            }
            Some(v) => match v.as_str() {
                Some("") => {
                    self.push(
                        Code::WrongType,
                        "version must not be empty",
                        v.mark(),
                        &ROOT.key("version"),
                    );
                }
                Some(s) => {
                    self.max_len(v, s, 50, "version", &ROOT.key("version"));
                    if !is_semver(s) {
                        self.push(
                            Code::VersionNotSemver,
                            format!("version '{s}' is not a semantic version (MAJOR.MINOR.PATCH)"),
                            v.mark(),
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
                        cp.mark(),
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
                &mut self.list_paths,
                &mut self.vars,
            );
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

        // In text form the definition is written now, all but its tasks,
        // which are streamed into it one at a time.
        let mut vars_json = vars_json;
        let mut sink = self.def_text.take().map(|mut buf| {
            // Room for twice the text once, instead of growth by doubling
            // (which holds the old and the new buffer at once): the JSON of
            // a workflow is 1–2× its YAML (the flood's chain of small tasks
            // is near the top, 1.8×).
            buf.reserve(2 * self.src.len());
            let head = definition_head(root, &expected_ref, &label, vars_json.take());
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut buf, &Value::Object(head));
            if root.get("tasks").is_some() {
                buf.pop();
                buf.extend_from_slice(if buf.len() > 1 {
                    b",\"tasks\":["
                } else {
                    b"\"tasks\":["
                });
            }
            buf
        });

        // tasks
        let mut task_count = 0u32;
        let tasks_json = match root.get("tasks") {
            None => {
                self.push(
                    Code::MissingField,
                    "Missing required field: tasks",
                    root.mark(),
                    &ROOT,
                )
                .hint = Some(
                    "add `tasks:` with a list of tasks, each with a name and an action".to_string(),
                );
                None
            }
            Some(t) => self.check_task_list(t, &ROOT.key("tasks"), &mut task_count, sink.as_mut()),
        };

        if !self.normalize {
            return None;
        }
        // Normalized definition.
        let definition = match sink {
            Some(mut buf) => {
                if root.get("tasks").is_some() {
                    buf.extend_from_slice(b"]}");
                }
                // Tasks that are no list: an error, so no definition.
                if tasks_json.is_some() || root.get("tasks").is_none() {
                    self.def_text = Some(buf);
                }
                Value::Null
            }
            None => {
                let mut def = definition_head(root, &expected_ref, &label, vars_json);
                if let Some(t) = tasks_json {
                    def.insert("tasks".into(), Value::Array(t));
                }
                Value::Object(def)
            }
        };
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
            definition,
            task_count,
        })
    }

    pub(super) fn max_len(&mut self, node: &Node, s: &str, max: usize, what: &str, path: &Loc<'_>) {
        let n = s.chars().count();
        if n > max {
            self.push(
                Code::FieldTooLong,
                format!("{what} is {n} characters long; the limit is {max}"),
                node.mark(),
                path,
            );
        }
    }

    // ------------------------------------------------------------- schemas

    /// Check `parameters` / `output`; returns the JSON-Schema form.
    pub(super) fn check_schema(
        &mut self,
        node: Option<&Node>,
        key: &str,
        is_params: bool,
    ) -> Option<Value> {
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
                    t.mark(),
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
                            p.mark(),
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
                                        it.mark(),
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
                                        it.mark(),
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
                            r.mark(),
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

    pub(super) fn check_param_def(
        &mut self,
        def: &Node,
        name: &str,
        path: &Loc<'_>,
        key: &str,
        flat: bool,
    ) {
        if def.as_map().is_none() {
            let d = self.push(
                Code::InvalidSchema,
                format!(
                    "{key} '{name}' must be a mapping like {{type: string}}, found {}",
                    def.type_name()
                ),
                def.mark(),
                path,
            );
            if flat && key == "output" && def.as_str().is_some() {
                d.hint = Some("output describes the result's schema; map results to templates under `output_map`".to_string());
            }
            return;
        }
        if let Some(t) = def.get("type") {
            let ok = match &t.kind {
                NodeKind::Str(s) => JSON_TYPES.contains(&&**s),
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
                    t.mark(),
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
                r.mark(),
                &path.key("required"),
            );
        }
    }

    // ---------------------------------------------------------------- vars

    pub(super) fn check_vars(&mut self, node: Option<&Node>) -> Option<Value> {
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
                                it.mark(),
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
                        node.mark(),
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

    pub(super) fn var_name(&mut self, key: &Node, name: &str, path: &Loc<'_>) {
        if !is_valid_name(name) {
            self.push(
                Code::InvalidVariableName,
                format!("variable name '{name}' must match ^[A-Za-z0-9_-]+$"),
                key.mark(),
                path,
            );
        }
    }
}

/// The normalized definition without its tasks: the root's keys as written
/// (but `tasks` and `vars`), then `ref`, `label` and `vars` normalized.
/// `tasks` always comes last, which lets [`crate::validate_json`] write it
/// after this head.
fn definition_head(
    root: &Node,
    expected_ref: &str,
    label: &str,
    vars_json: Option<Value>,
) -> Map<String, Value> {
    let mut def = Map::new();
    for e in root.as_map().unwrap_or(&[]) {
        if let Some(k) = e.key_str()
            && k != "tasks"
            && k != "vars"
        {
            def.insert(k.to_string(), e.value.to_json());
        }
    }
    def.insert("ref".into(), Value::String(expected_ref.to_string()));
    def.insert("label".into(), Value::String(label.to_string()));
    if let Some(v) = vars_json {
        def.insert("vars".into(), v);
    }
    def
}
