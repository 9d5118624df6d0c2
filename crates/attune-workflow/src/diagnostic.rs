//! Diagnostics: the stable rule codes with their severities, and the
//! `Diagnostic` record every part of attune reports (docs/WORKFLOW_FORMAT.md, "Validation").

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a diagnostic is: an error keeps a workflow from being registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! codes {
    ($( $variant:ident = $text:literal, $sev:ident, $descr:literal; )*) => {
        /// Every rule code. The strings are stable: tests and clients match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Code {
            $( #[serde(rename = $text)] $variant, )*
        }

        impl Code {
            /// All codes, in the order of docs/WORKFLOW_FORMAT.md, "Validation".
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable string, e.g. `"unknown-task"`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }

            /// The severity this rule always reports with.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One line saying what the rule checks (used by SARIF and docs).
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $descr, )* }
            }

            /// Parse a code string.
            pub fn parse(s: &str) -> Option<Code> {
                match s { $( $text => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    FileUnreadable = "file-unreadable", Error, "the file is not a regular file inside the pack, is not UTF-8, or cannot be read";
    InvalidWorkflowName = "invalid-workflow-name", Error, "the file name does not make a valid workflow name (^[A-Za-z0-9_-]+$ once the extension and .workflow are dropped)";
    InvalidWorkflowFile = "invalid-workflow-file", Error, "an action's workflow_file is missing, leaves the pack, or is another action's graph file";
    ShadowedWorkflow = "shadowed-workflow", Warning, "a workflow file defines a workflow that an action-linked one (or actions/workflows/) also defines, and is not read";
    SkippedFile = "skipped-file", Warning, "a file in workflows/ looks like a workflow but is not read (its extension is not lowercase .yaml/.yml, or its name is not UTF-8)";
    FileTooLarge = "file-too-large", Error, "the file is larger than max_workflow_file_bytes";
    YamlSyntax = "yaml-syntax", Error, "the file is not well-formed YAML (one document, no duplicate keys)";
    YamlLimits = "yaml-limits", Error, "alias expansion or nesting exceeds the parser's budget";
    NotAMapping = "not-a-mapping", Error, "the document is not a mapping";
    MissingField = "missing-field", Error, "a required field is missing";
    WrongType = "wrong-type", Error, "a field has the wrong type or an invalid value";
    EmptyTasks = "empty-tasks", Error, "a task list is empty";
    DuplicateTask = "duplicate-task", Error, "two tasks in one list share a name";
    UnknownTask = "unknown-task", Error, "a transition names a task that does not exist in its list";
    InvalidTaskType = "invalid-task-type", Error, "a task type is not action, parallel or workflow";
    RefMismatch = "ref-mismatch", Error, "ref differs from {pack_ref}.{name}";
    ReservedName = "reserved-name", Error, "a task uses a reserved name";
    FieldTooLong = "field-too-long", Error, "a field exceeds its maximum length";
    InvalidActionRef = "invalid-action-ref", Error, "an action ref is not of the form pack.action";
    UndefinedAction = "undefined-action", Error, "an action ref names a present pack that has no such action or workflow";
    UnknownPack = "unknown-pack", Error, "an action ref names a pack that is not present where packs are looked for";
    InvalidRetry = "invalid-retry", Error, "a retry policy is invalid";
    InvalidIteration = "invalid-iteration", Error, "batch_size or concurrency is below 1";
    InvalidDecision = "invalid-decision", Error, "a legacy decision entry is malformed";
    InvalidVariableName = "invalid-variable-name", Error, "a variable name does not match ^[A-Za-z0-9_-]+$";
    InvalidSchema = "invalid-schema", Error, "a parameters or output schema is malformed";
    ExpressionSyntax = "expression-syntax", Error, "a {{ }} expression does not parse";
    MissingInput = "missing-input", Error, "a required action parameter without default is not given";
    UnknownKey = "unknown-key", Warning, "a key is not part of the workflow format";
    MissingLabel = "missing-label", Warning, "the workflow has no label";
    VersionNotSemver = "version-not-semver", Warning, "version is not a semantic version";
    LegacyTransitionsIgnored = "legacy-transitions-ignored", Warning, "legacy transitions are ignored because next is present";
    UnreachableTask = "unreachable-task", Warning, "no transition path leads to the task";
    NoEntryPoint = "no-entry-point", Warning, "every task is the target of a transition, so nothing starts";
    UnusedIterationOption = "unused-iteration-option", Warning, "batch_size or concurrency without with_items";
    UnknownFunction = "unknown-function", Warning, "an expression calls an unknown function";
    UnknownVariable = "unknown-variable", Warning, "an expression names an unknown parameter, task or variable";
    UnexpectedInput = "unexpected-input", Warning, "an input key is not a declared action parameter";
    NonCanonicalForm = "non-canonical-form", Warning, "an accepted compatibility spelling; the hint shows the canonical one";
    ConstantCondition = "constant-condition", Warning, "a when condition is always true or always false";
}

impl Code {
    /// Errors that stop registration before any rule runs cannot be silenced.
    pub fn suppressible(self) -> bool {
        !matches!(
            self,
            Code::YamlSyntax
                | Code::YamlLimits
                | Code::FileUnreadable
                | Code::FileTooLarge
                | Code::SkippedFile
                | Code::ShadowedWorkflow
                | Code::InvalidWorkflowFile
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a file, positioned at the offending node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// The workflow ref (`pack.name`).
    pub r#ref: Option<String>,
    /// The file, relative to `packs_base_dir`.
    pub file: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Where in the document, e.g. `tasks[1].next[0].do[0]`; "" for the document.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The edit the hint proposes, when it proposes text: applying it makes
    /// this diagnostic go away without introducing an error (a property the
    /// tests check over every case). The hint always quotes `fix.text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// A proposed edit of the file: replace the `len` bytes at byte `offset`
/// (of the file as read, BOM included) with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub offset: usize,
    pub len: usize,
    pub text: String,
}

impl Fix {
    /// `src` with the edit applied; `None` when the range is not in `src`.
    pub fn apply(&self, src: &str) -> Option<String> {
        let end = self.offset.checked_add(self.len)?;
        let (before, after) = (src.get(..self.offset)?, src.get(end..)?);
        Some(format!("{before}{}{after}", self.text))
    }
}

impl Diagnostic {
    /// A diagnostic with the code's severity and no ref, file or hint.
    pub fn new(code: Code, message: impl Into<String>, line: u32, column: u32) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            message: message.into(),
            r#ref: None,
            file: None,
            line,
            column,
            path: String::new(),
            hint: None,
            fix: None,
        }
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_source(mut self, r#ref: Option<&str>, file: Option<&str>) -> Self {
        self.r#ref = r#ref.map(str::to_string);
        self.file = file.map(str::to_string);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_strings() {
        for &c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(c));
            let j = serde_json::to_string(&c).unwrap();
            assert_eq!(j, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Code::ALL.len(), 40);
    }

    #[test]
    fn diagnostic_serializes_with_product_field_names() {
        let d = Diagnostic::new(Code::UnknownTask, "m", 14, 13)
            .with_path("tasks[1].next[0].do[0]")
            .with_source(Some("p.w"), Some("p/workflows/w.yaml"));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"severity": "error", "code": "unknown-task", "message": "m",
                "ref": "p.w", "file": "p/workflows/w.yaml", "line": 14, "column": 13,
                "path": "tasks[1].next[0].do[0]"})
        );
        let back: Diagnostic = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }
}
