//! `{{ }}` templates: `when` conditions and every templated value,
//! checked by the expression language against the workflow's scope.

use super::*;

impl Checker<'_> {
    // --------------------------------------------------------- expressions

    pub(super) fn check_when(&mut self, w: &Node, path: &Loc<'_>) {
        match &w.kind {
            NodeKind::Str(s) => {
                let scope = ExprScope {
                    parameters: self.params.as_ref(),
                    vars: &self.vars,
                    tasks: &self.all_tasks,
                    in_iteration: false,
                };
                let (issues, constant) = match &mut self.memo {
                    Some(memo) => match memo.conditions.get(&**s) {
                        Some(hit) => hit.clone(),
                        None => {
                            let checked = expr::check_condition(s, &scope);
                            memo.conditions.insert(s.to_string(), checked.clone());
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
                        w.mark(),
                        path,
                    )
                    .hint = Some(hint);
                }
            }
            NodeKind::Bool(b) => {
                self.push(
                    Code::ConstantCondition,
                    format!("this condition is always {b}"),
                    w.mark(),
                    path,
                )
                .hint = Some("remove the condition or test real data in {{ }}".to_string());
            }
            NodeKind::Null => {}
            _ => self.wrong_type(w, "when", "a template string", path),
        }
    }

    /// Check every string inside `node` (values only, not keys).
    pub(super) fn check_templates_in(&mut self, node: &Node, path: &Loc<'_>, in_iter: bool) {
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

    pub(super) fn check_expr(&mut self, node: &Node, path: &Loc<'_>, in_iter: bool) {
        let Some(s) = node.as_str() else { return };
        if !expr::has_template(s) {
            return;
        }
        let scope = ExprScope {
            parameters: self.params.as_ref(),
            vars: &self.vars,
            tasks: &self.all_tasks,
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

    pub(super) fn push_expr_issues(
        &mut self,
        node: &Node,
        path: &Loc<'_>,
        issues: Vec<expr::ExprIssue>,
    ) {
        for issue in issues {
            let code = Code::parse(issue.code).unwrap_or(Code::ExpressionSyntax);
            let start = self.pos_of(node.mark());
            let pos = node.pos_in_value_from(self.src, start, issue.offset);
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
            let in_action = self.in_action(node.mark());
            let d = self.push_pos(code, issue.message, pos, in_action, path);
            d.hint = issue.hint;
            d.fix = fix;
        }
    }
}
