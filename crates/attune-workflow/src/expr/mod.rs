//! The template expression language: `{{ expr }}` blocks inside workflow strings.
//!
//! This module owns template scanning, the tokenizer ([`lexer`]), the parser
//! ([`parser`]) and syntax tree ([`ast`]), the name checks behind the
//! `expression-syntax`, `unknown-function` and `unknown-variable` rules, and
//! the constant folding behind `constant-condition` ([`eval`]). It is pure:
//! no I/O, and it never panics on any input.
//!
//! Language decisions (docs/WORKFLOW_FORMAT.md, "Templates", leaves these open):
//! - Literals: integers (64-bit), floats (`1.5`, `2e3`), single- or
//!   double-quoted strings with escapes `\n \t \r \0 \\ \' \" \uXXXX`
//!   (any other escape is kept as written, so `'C:\data'` works), lists,
//!   maps, and `true false null`. Jinja's `True False None` are accepted as
//!   the same literals.
//! - Jinja filters (`x | length`), tests (`x is defined`), conditional
//!   expressions (`a if c else b`, `c ? a : b`), `**`, `//`, `~`, `&&`, `||`,
//!   `!` and keyword arguments are syntax errors whose hint gives the
//!   supported spelling. `{% … %}` statements are syntax errors too.
//! - Comparisons do not chain: `a < b < c` is `(a < b) < c`.
//! - `item` and `index` (as names or as `item()` / `index()`) are reported as
//!   `unknown-variable` outside a task with `with_items`, as upstream Attune
//!   defines them only while iterating.
//! - A bare name is accepted when it is a namespace, a variable or a
//!   parameter. When the parameters are unknown (`ExprScope::parameters` is
//!   `None`) bare names are not reported, since any of them could be one.
//! - Only calls of a bare name (`length(x)`) are checked against the
//!   built-in functions; method-style calls (`task.a.result.get(k)`) are not.
//! - Block scanning skips quoted strings and balanced braces, so
//!   `{{ {'a': {'b': 1}} }}` and `{{ '}}' }}` are single blocks.
//!
//! Speed: this runs on every string of every file. A string without `{`
//! costs one `memchr`; a block that is a plain dotted name (the commonest
//! kind) is checked without tokenizing or allocating, and tests and the fuzz
//! target check that this fast path reports exactly what the parser would.
//!
//! Offsets in [`ExprIssue`] are byte offsets into the string given to
//! [`check_template`], pointing at the offending token.

pub mod ast;
pub mod eval;
pub mod filters;
pub mod lexer;
pub mod parser;

#[cfg(test)]
mod tests;

use foldhash::HashSet;

pub use ast::{BinOp, Expr, ExprKind, Ident, Span, UnaryOp};
pub use parser::{MAX_DEPTH, parse};

/// What names are defined where a template appears.
#[derive(Debug, Clone, Copy)]
pub struct ExprScope<'a> {
    /// Declared workflow parameters; `None` when unknown (then nothing about
    /// parameters is reported).
    pub parameters: Option<&'a HashSet<String>>,
    pub vars: &'a HashSet<String>,
    /// Every task name in the workflow, at any nesting level (a set of
    /// names or the validator's name index, see [`Names`]).
    pub tasks: &'a dyn Names,
    /// Inside a `with_items` task, where `item` and `index` are defined.
    pub in_iteration: bool,
}

/// A set of names a template may use: a `HashSet<String>`, or a map keyed
/// by names borrowed from the tree (the validator's task index, so the
/// names are not copied once more for the expression checker).
pub trait Names: std::fmt::Debug {
    /// True when `name` is in the set.
    fn has(&self, name: &str) -> bool;
    /// Every name, in no particular order.
    fn each(&self) -> Box<dyn Iterator<Item = &str> + '_>;
}

impl<S: std::hash::BuildHasher> Names for std::collections::HashSet<String, S> {
    fn has(&self, name: &str) -> bool {
        self.contains(name)
    }
    fn each(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.iter().map(String::as_str))
    }
}

impl<S: std::hash::BuildHasher, V: std::fmt::Debug> Names
    for std::collections::HashMap<&str, V, S>
{
    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }
    fn each(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.keys().copied())
    }
}

/// One problem found in a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprIssue {
    /// `expression-syntax`, `unknown-function` or `unknown-variable`.
    pub code: &'static str,
    /// Byte offset into the string passed to [`check_template`].
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The edit the hint proposes, in the same offsets as `offset`.
    pub fix: Option<ExprFix>,
}

/// A syntax error in one expression; `offset` is relative to the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The edit the hint proposes, relative to the expression (boxed: the
    /// parser's recursion carries this error in every frame's result).
    pub fix: Option<Box<ExprFix>>,
}

/// A proposed edit: replace `len` bytes at `offset` with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprFix {
    pub offset: usize,
    pub len: usize,
    pub text: String,
}

impl ExprFix {
    pub fn new(offset: usize, len: usize, text: impl Into<String>) -> Self {
        ExprFix {
            offset,
            len,
            text: text.into(),
        }
    }

    fn shifted(self, by: usize) -> Self {
        ExprFix {
            offset: self.offset + by,
            ..self
        }
    }
}

pub const SYNTAX: &str = "expression-syntax";
pub const UNKNOWN_FUNCTION: &str = "unknown-function";
pub const UNKNOWN_VARIABLE: &str = "unknown-variable";

/// Names that are always defined.
pub const NAMESPACES: &[&str] = &[
    "parameters",
    "workflow",
    "vars",
    "variables",
    "task",
    "tasks",
    "config",
    "keystore",
    "item",
    "index",
    "system",
];

/// Words the parser treats specially; never plain names.
const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "else", "true", "false", "null", "True", "False", "None",
];

/// Built-in functions (docs/WORKFLOW_FORMAT.md, "Templates").
pub const FUNCTIONS: &[&str] = &[
    "string",
    "number",
    "int",
    "bool",
    "type_of",
    "length",
    "keys",
    "values",
    "abs",
    "floor",
    "ceil",
    "round",
    "min",
    "max",
    "sum",
    "lower",
    "upper",
    "trim",
    "split",
    "join",
    "replace",
    "starts_with",
    "ends_with",
    "match",
    "contains",
    "reversed",
    "sort",
    "unique",
    "flat",
    "zip",
    "range",
    "slice",
    "index_of",
    "count",
    "merge",
    "chunks",
    "result",
    "succeeded",
    "failed",
    "timed_out",
    "item",
    "index",
];

/// True when `s` contains `{{` or `{%`, i.e. anything [`check_template`]
/// could report on. A fast scan that never allocates.
pub fn has_template(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'{', &b[i..]) {
        let at = i + k;
        if matches!(b.get(at + 1), Some(b'{' | b'%')) {
            return true;
        }
        i = at + 1;
    }
    false
}

/// A piece of template syntax found in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// `{{ … }}`: `open` is the offset of `{{`, the expression is
    /// `start..end`, and `}}` starts at `end`.
    Block {
        open: usize,
        start: usize,
        end: usize,
    },
    /// `{{` with no closing `}}`.
    Unterminated { open: usize },
    /// `{% … %}` spanning `start..end`.
    Statement { start: usize, end: usize },
}

/// Calls `f` for each template segment of `s`, left to right.
fn scan(s: &str, mut f: impl FnMut(Segment)) {
    let b = s.as_bytes();
    let mut i = 0;
    let mut naive = false;
    while i < b.len() {
        let Some(k) = memchr::memchr(b'{', &b[i..]) else {
            return;
        };
        let at = i + k;
        match b.get(at + 1) {
            Some(b'{') => {
                let start = at + 2;
                match find_close(b, start, &mut naive) {
                    Some(end) => {
                        f(Segment::Block {
                            open: at,
                            start,
                            end,
                        });
                        i = end + 2;
                    }
                    None => {
                        f(Segment::Unterminated { open: at });
                        return;
                    }
                }
            }
            Some(b'%') => match memchr::memmem::find(&b[at + 2..], b"%}") {
                Some(e) => {
                    let end = at + 2 + e + 2;
                    f(Segment::Statement { start: at, end });
                    i = end;
                }
                None => i = at + 2,
            },
            _ => i = at + 1,
        }
    }
}

/// The offset of the `}}` closing a block whose expression starts at `start`,
/// skipping quoted strings and balanced braces. When the content is
/// unbalanced (an unterminated string, a stray `{`), the block ends at the
/// first `}}` and the parser reports why; from then on `naive` is set and the
/// rest of the string is scanned for plain `}}`, so scanning stays linear.
fn find_close(b: &[u8], start: usize, naive: &mut bool) -> Option<usize> {
    let fallback = || memchr::memmem::find(&b[start..], b"}}").map(|k| start + k);
    if *naive {
        return fallback();
    }
    let mut depth = 0usize;
    let mut j = start;
    while j < b.len() {
        match b[j] {
            q @ (b'\'' | b'"') => {
                j += 1;
                while j < b.len() && b[j] != q {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
            }
            b'{' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b'}' if b.get(j + 1) == Some(&b'}') => return Some(j),
            _ => {}
        }
        j += 1;
    }
    *naive = true;
    fallback()
}

const STATEMENT_HINT: &str =
    "use the task's `when`, `with_items` or `next` instead of '{% if %}' or '{% for %}'";

/// Checks every template block in `s`: syntax, function names and variable
/// references. Strings without `{` return at once without allocating.
pub fn check_template(s: &str, scope: &ExprScope) -> Vec<ExprIssue> {
    let mut out = Vec::new();
    if memchr::memchr(b'{', s.as_bytes()).is_none() {
        return out;
    }
    check_segments(s, scope, true, &mut out);
    out
}

/// The same checks as [`check_template`], always through the full parser
/// (no fast path for plain dotted names). Tests and the fuzz target compare
/// the two.
#[doc(hidden)]
pub fn check_template_reference(s: &str, scope: &ExprScope) -> Vec<ExprIssue> {
    let mut out = Vec::new();
    check_segments(s, scope, false, &mut out);
    out
}

fn check_segments(s: &str, scope: &ExprScope, fast: bool, out: &mut Vec<ExprIssue>) {
    scan(s, |seg| match seg {
        Segment::Block { open, start, end } => {
            check_block(s, (open, start, end), scope, fast, out);
        }
        Segment::Unterminated { open } => out.push(ExprIssue {
            code: SYNTAX,
            offset: open,
            len: 2,
            message: "unterminated template block: '{{' has no matching '}}'".into(),
            hint: Some("close the expression with '}}'".into()),
            fix: None,
        }),
        Segment::Statement { start, end } => out.push(ExprIssue {
            code: SYNTAX,
            offset: start,
            len: end - start,
            message: "jinja statements ('{% … %}') are not supported".into(),
            hint: Some(STATEMENT_HINT.into()),
            fix: None,
        }),
    });
}

/// Checks one `{{ … }}` block (`open`, expression `start..end`) and returns
/// its tree, or `None` when it did not parse or the dotted-name fast path
/// checked it without one.
fn check_block(
    s: &str,
    (open, start, end): (usize, usize, usize),
    scope: &ExprScope,
    fast: bool,
    out: &mut Vec<ExprIssue>,
) -> Option<Expr> {
    let src = s.get(start..end).unwrap_or("");
    let mut checker = Checker {
        base: start,
        scope,
        out,
    };
    if fast && checker.path(src) {
        return None;
    }
    match parse(src) {
        Ok(expr) => {
            checker.walk(&expr);
            Some(expr)
        }
        Err(e) => {
            let (offset, len, message) = if src.trim().is_empty() {
                (open, end + 2 - open, "empty template block".to_string())
            } else if e.offset >= src.len() {
                (end, 2, e.message)
            } else {
                (start + e.offset, e.len.max(1), e.message)
            };
            out.push(ExprIssue {
                code: SYNTAX,
                offset,
                len,
                message,
                hint: e.hint,
                fix: e.fix.map(|f| (*f).shifted(start)),
            });
            None
        }
    }
}

/// The block when `s` is exactly one `{{ … }}` (surrounding whitespace
/// allowed), as `(open, start, end)`.
fn only_block(s: &str) -> Option<(usize, usize, usize)> {
    let lead = s.len() - s.trim_start().len();
    let trail = s.trim_end().len();
    let mut only = None;
    let mut count = 0;
    scan(s, |seg| {
        count += 1;
        only = Some(seg);
    });
    match only {
        Some(Segment::Block { open, start, end })
            if count == 1 && open == lead && end + 2 == trail =>
        {
            Some((open, start, end))
        }
        _ => None,
    }
}

/// [`check_template`] and [`constant_condition`] of a `when` string in one
/// pass: a condition that is exactly one block is parsed once for both.
pub fn check_condition(s: &str, scope: &ExprScope) -> (Vec<ExprIssue>, Option<bool>) {
    let mut out = Vec::new();
    if !has_template(s) {
        return (out, (!s.is_empty()).then_some(true));
    }
    let constant = match only_block(s) {
        // A dotted name (the fast path) is never constant.
        Some(block) => check_block(s, block, scope, true, &mut out)
            .and_then(|expr| eval::eval(&expr))
            .map(|v| v.truthy()),
        None => {
            check_segments(s, scope, true, &mut out);
            None
        }
    };
    (out, constant)
}

/// Whether a `when` string is constant: `Some(true)` for a non-empty plain
/// string (always truthy), `Some(b)` for a string that is exactly one block
/// whose expression folds to a constant, `None` otherwise.
pub fn constant_condition(s: &str) -> Option<bool> {
    if !has_template(s) {
        return (!s.is_empty()).then_some(true);
    }
    let (_, start, end) = only_block(s)?;
    let expr = parse(s.get(start..end)?).ok()?;
    eval::eval(&expr).map(|v| v.truthy())
}

/// The nearest candidate to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            (
                strsim::damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

struct Checker<'s, 'o> {
    base: usize,
    scope: &'s ExprScope<'s>,
    out: &'o mut Vec<ExprIssue>,
}

impl Checker<'_, '_> {
    fn report(&mut self, code: &'static str, span: Span, message: String, hint: Option<String>) {
        self.out.push(ExprIssue {
            code,
            offset: self.base + span.start,
            len: span.len(),
            message,
            hint,
            fix: None,
        });
    }

    /// A did-you-mean: `proposal` replaces the text at `span`.
    fn report_proposal(&mut self, code: &'static str, span: Span, message: String, proposal: &str) {
        self.out.push(ExprIssue {
            code,
            offset: self.base + span.start,
            len: span.len(),
            message,
            hint: Some(format!("did you mean '{proposal}'?")),
            fix: Some(ExprFix::new(self.base + span.start, span.len(), proposal)),
        });
    }

    /// Fast path for the commonest template, a dotted name such as
    /// `parameters.app_name` or `task.build.result.uri` (whitespace around
    /// it allowed): checks it exactly as [`Checker::walk`] would check its
    /// tree, without tokenizing or allocating. Returns false, having checked
    /// nothing, when `src` has any other shape.
    fn path(&mut self, src: &str) -> bool {
        let b = src.as_bytes();
        let Some(start) = b.iter().position(|c| !c.is_ascii_whitespace()) else {
            return false;
        };
        let end = b.len()
            - b.iter()
                .rev()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        let mut first: Option<(&str, usize)> = None;
        let mut second: Option<(&str, usize)> = None;
        let mut at = start;
        for seg in src[start..end].split('.') {
            let sb = seg.as_bytes();
            let ok = sb
                .first()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                && sb.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if !ok {
                return false;
            }
            if first.is_none() {
                first = Some((seg, at));
            } else if second.is_none() {
                second = Some((seg, at));
            }
            at += seg.len() + 1;
        }
        let Some((name, name_at)) = first else {
            return false;
        };
        if KEYWORDS.contains(&name) {
            return false;
        }
        self.check_name(name, Span::new(name_at, name_at + name.len()));
        if let Some((field, field_at)) = second {
            if name == "pack" && field == "config" {
                self.pack_config(name_at, field_at + field.len());
            }
            self.check_member(name, field, Span::new(field_at, field_at + field.len()));
        }
        true
    }

    /// `pack.config` spanning `start..end` was just reported as the unknown
    /// name `pack`: propose `config` for the whole of it.
    fn pack_config(&mut self, start: usize, end: usize) {
        let at = self.base + start;
        if let Some(last) = self.out.last_mut()
            && last.code == UNKNOWN_VARIABLE
            && last.offset == at
        {
            last.hint = Some(
                "the pack's configuration is the `config` namespace: write `config` instead of `pack.config`"
                    .into(),
            );
            last.fix = Some(ExprFix::new(at, end - start, "config"));
        }
    }

    fn walk(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_) => {}
            ExprKind::List(items) => items.iter().for_each(|i| self.walk(i)),
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    self.walk(k);
                    self.walk(v);
                }
            }
            ExprKind::Name(n) => self.check_name(n, e.span),
            ExprKind::Member(obj, field) => {
                self.walk(obj);
                if let ExprKind::Name(ns) = &obj.kind {
                    if ns == "pack" && field.name == "config" {
                        self.pack_config(obj.span.start, field.span.end);
                    }
                    self.check_member(ns, &field.name, field.span);
                }
            }
            ExprKind::Index(obj, index) => {
                self.walk(obj);
                self.walk(index);
                if let (ExprKind::Name(ns), ExprKind::Str(key)) = (&obj.kind, &index.kind) {
                    self.check_member(ns, key, index.span);
                }
            }
            ExprKind::Call(callee, args) => {
                if let ExprKind::Name(f) = &callee.kind {
                    self.check_function(f, callee.span);
                } else {
                    self.walk(callee);
                }
                args.iter().for_each(|a| self.walk(a));
            }
            ExprKind::Unary(_, x) => self.walk(x),
            ExprKind::Binary(_, l, r) => {
                self.walk(l);
                self.walk(r);
            }
        }
    }

    fn iteration_only(&mut self, name: &str, span: Span) -> bool {
        if (name == "item" || name == "index") && !self.scope.in_iteration {
            self.report(
                UNKNOWN_VARIABLE,
                span,
                format!("'{name}' is only defined inside a task with `with_items`"),
                Some("add `with_items` to this task, or remove the reference".into()),
            );
            return true;
        }
        false
    }

    fn check_function(&mut self, f: &str, span: Span) {
        if self.iteration_only(f, span) || FUNCTIONS.contains(&f) {
            return;
        }
        let message = format!("unknown function '{f}'");
        match did_you_mean(f, FUNCTIONS.iter().copied()) {
            Some(s) => self.report_proposal(UNKNOWN_FUNCTION, span, message, s),
            None => {
                let hint = format!("the built-in functions are: {}", FUNCTIONS.join(", "));
                self.report(UNKNOWN_FUNCTION, span, message, Some(hint));
            }
        }
    }

    fn check_name(&mut self, n: &str, span: Span) {
        if self.iteration_only(n, span) || NAMESPACES.contains(&n) || self.scope.vars.contains(n) {
            return;
        }
        let Some(params) = self.scope.parameters else {
            return;
        };
        if params.contains(n) {
            return;
        }
        let message = format!("unknown name '{n}': not a namespace, a variable or a parameter");
        if self.scope.tasks.has(n) {
            return self.report_proposal(UNKNOWN_VARIABLE, span, message, &format!("task.{n}"));
        }
        if n == "pack" {
            // `pack.config.x` (upstream's docs): the pack's configuration is
            // the `config` namespace; the caller proposes the edit when it
            // sees the `.config` member.
            let hint = "the pack's configuration is the `config` namespace: write `config.<key>`";
            return self.report(UNKNOWN_VARIABLE, span, message, Some(hint.into()));
        }
        let candidates = NAMESPACES
            .iter()
            .copied()
            .chain(self.scope.vars.iter().map(String::as_str))
            .chain(params.iter().map(String::as_str));
        match did_you_mean(n, candidates) {
            Some(s) => self.report_proposal(UNKNOWN_VARIABLE, span, message, s),
            None => {
                let hint = format!("declare '{n}' under `parameters` or `vars`");
                self.report(UNKNOWN_VARIABLE, span, message, Some(hint));
            }
        }
    }

    fn check_member(&mut self, ns: &str, key: &str, span: Span) {
        let (set, what, section): (&dyn Names, &str, &str) = match ns {
            "parameters" => match self.scope.parameters {
                Some(p) => (p, "parameter", "`parameters`"),
                None => return,
            },
            "vars" | "variables" => (self.scope.vars, "variable", "`vars`"),
            "task" | "tasks" => (self.scope.tasks, "task", "`tasks`"),
            _ => return,
        };
        if set.has(key) {
            return;
        }
        let message = if what == "task" {
            format!("task '{key}' does not exist in this workflow")
        } else {
            format!("{what} '{key}' is not declared in {section}")
        };
        let quoted = span.len() != key.len();
        match did_you_mean(key, set.each()) {
            // `ns['key']`: the span is the string literal, quotes included.
            Some(s) if quoted => {
                self.report_proposal(UNKNOWN_VARIABLE, span, message, &format!("'{s}'"))
            }
            Some(s) => self.report_proposal(UNKNOWN_VARIABLE, span, message, s),
            None => {
                let hint = if what == "task" {
                    "no task in this workflow has that name".to_string()
                } else {
                    format!("declare '{key}' under {section}")
                };
                self.report(UNKNOWN_VARIABLE, span, message, Some(hint));
            }
        }
    }
}
