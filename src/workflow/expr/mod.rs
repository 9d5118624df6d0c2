//! Expression language stub (the real module is built by the expr helper and
//! replaces this file on merge). Same public API, reports nothing.

use std::collections::HashSet;

pub struct ExprScope<'a> {
    pub parameters: Option<&'a HashSet<String>>,
    pub vars: &'a HashSet<String>,
    pub tasks: &'a HashSet<String>,
    pub in_iteration: bool,
}

pub struct ExprIssue {
    pub code: &'static str,
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Scan a string for `{{ … }}` blocks, parse each, check them.
pub fn check_template(_s: &str, _scope: &ExprScope) -> Vec<ExprIssue> {
    Vec::new()
}

/// True if the string contains at least one `{{`.
pub fn has_template(s: &str) -> bool {
    s.contains("{{")
}

/// For `when` conditions: Some(v) if the condition is constant, None if it
/// depends on runtime data.
pub fn constant_condition(s: &str) -> Option<bool> {
    if has_template(s) {
        None
    } else {
        Some(!s.trim().is_empty())
    }
}
