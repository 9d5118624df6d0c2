//! Checking one document and turning the core's diagnostics into LSP ones:
//! a range from the start to the end of the offending node, the severity,
//! the code with a link to the rules reference, related information where
//! a rule has a second location, and the hint on a second line.

use crate::analysis::Analysis;
use crate::text::LineIndex;
use attune_workflow::{ActionCatalog, Code, Diagnostic, Severity, SourceContext};
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Url,
};

/// Where the document sits.
#[derive(Debug, Clone)]
pub struct DocContext {
    pub pack_ref: String,
    /// The file name without extension.
    pub name: String,
}

/// The core's diagnostics of a text (a too-large text or a bad file name
/// gives one diagnostic, as `attune validate` does).
pub fn check(
    text: &str,
    ctx: &DocContext,
    catalog: &dyn ActionCatalog,
    max_bytes: u64,
) -> Vec<Diagnostic> {
    if text.len() as u64 > max_bytes {
        return vec![
            Diagnostic::new(
                Code::FileTooLarge,
                format!(
                    "file is {} bytes; the limit is {max_bytes} bytes",
                    text.len()
                ),
                1,
                1,
            )
            .with_hint(
                "split the workflow or raise max_workflow_file_bytes (the server's maxFileBytes)",
            ),
        ];
    }
    let sc = SourceContext {
        pack_ref: &ctx.pack_ref,
        name: &ctx.name,
        file: None,
    };
    let mut diags = attune_workflow::check(text.as_bytes(), &sc, catalog).diagnostics;
    diags.splice(0..0, name_diagnostic(ctx));
    diags
}

/// The `invalid-workflow-name` error of a file whose name is no workflow
/// name (its content is still checked), as `attune validate` gives it.
fn name_diagnostic(ctx: &DocContext) -> Option<Diagnostic> {
    if attune_workflow::is_valid_name(&ctx.name) {
        return None;
    }
    let proposal: String = ctx
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let d = Diagnostic::new(
        Code::InvalidWorkflowName,
        format!(
            "'{}' is not a valid workflow name; names match ^[A-Za-z0-9_-]+$",
            ctx.name
        ),
        1,
        1,
    );
    Some(if attune_workflow::is_valid_name(&proposal) {
        d.with_hint(format!(
            "rename the file to {proposal}.yaml (the workflow's ref becomes {}.{proposal})",
            ctx.pack_ref
        ))
    } else {
        d.with_hint("rename the file: letters, digits, '_' and '-' before .yaml")
    })
}

/// The marker `file` of the action file's diagnostics in [`check_linked`].
pub const ACTION_FILE: &str = "action";

/// The diagnostics of an action-linked workflow: graph file `graph` and
/// its action file `action` checked as one. Those whose `file` is
/// [`ACTION_FILE`] belong to the action file (positions and fixes in its
/// text), the others to the graph file.
pub fn check_linked(
    graph: &str,
    action: &str,
    ctx: &DocContext,
    catalog: &dyn ActionCatalog,
    max_bytes: u64,
) -> Vec<Diagnostic> {
    let too_large = |t: &str, file: Option<&str>| {
        let mut d = Diagnostic::new(
            Code::FileTooLarge,
            format!("file is {} bytes; the limit is {max_bytes} bytes", t.len()),
            1,
            1,
        )
        .with_hint(
            "split the workflow or raise max_workflow_file_bytes (the server's maxFileBytes)",
        );
        d.file = file.map(str::to_string);
        d
    };
    if graph.len() as u64 > max_bytes {
        return vec![too_large(graph, None)];
    }
    if action.len() as u64 > max_bytes {
        return vec![too_large(action, Some(ACTION_FILE))];
    }
    let sc = SourceContext {
        pack_ref: &ctx.pack_ref,
        name: &ctx.name,
        file: None,
    };
    let la = attune_workflow::LinkedAction {
        text: action.as_bytes(),
        file: Some(ACTION_FILE),
    };
    attune_workflow::check_linked(graph.as_bytes(), la, &sc, catalog).diagnostics
}

/// True for a diagnostic of the action file (see [`check_linked`]).
pub fn in_action_file(d: &Diagnostic) -> bool {
    d.file.as_deref() == Some(ACTION_FILE)
}

/// Codes reported at a mapping or list whose range is the node's first
/// line rather than its first key.
fn on_collection(code: Code) -> bool {
    matches!(
        code,
        Code::MissingField
            | Code::MissingInput
            | Code::MissingLabel
            | Code::NotAMapping
            | Code::EmptyTasks
            | Code::NoEntryPoint
            | Code::NonCanonicalForm
    )
}

fn trimmed_line_end(text: &str, li: &LineIndex, start: usize) -> usize {
    let line = li.line_of(start);
    let (ls, le) = li.line_span(text, line);
    let s = start.max(ls);
    let seg = text.get(s..le).unwrap_or("");
    let cut = seg.find(" #").unwrap_or(seg.len());
    let end = s + seg[..cut].trim_end().len();
    if end <= s { le.max(s) } else { end }
}

/// The byte range a diagnostic covers.
pub fn span_of(d: &Diagnostic, text: &str, li: &LineIndex, a: Option<&Analysis>) -> (usize, usize) {
    let start = li.offset_of_line_col(text, d.line, d.column);
    if let Some(ext) = a.and_then(|a| a.extents.get(&start)) {
        if ext.collection && (on_collection(d.code) || ext.scalar_end.is_none()) {
            return (start, trimmed_line_end(text, li, start));
        }
        if let Some(e) = ext.scalar_end {
            return (start, e.max(start));
        }
    }
    let rest = text.get(start..).unwrap_or("");
    let ident = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        .count();
    if ident > 0 {
        return (start, start + ident);
    }
    if rest.starts_with("{{") {
        let le = li.line_span(text, li.line_of(start)).1;
        if let Some(i) = text.get(start..le).and_then(|s| s.find("}}")) {
            return (start, start + i + 2);
        }
    }
    (start, trimmed_line_end(text, li, start))
}

/// The LSP diagnostics for one document.
pub fn to_lsp(
    diags: &[Diagnostic],
    text: &str,
    li: &LineIndex,
    a: Option<&Analysis>,
    uri: &Url,
    rules_url: &str,
) -> Vec<lsp_types::Diagnostic> {
    diags
        .iter()
        .map(|d| {
            let (s, e) = span_of(d, text, li, a);
            let mut message = d.message.clone();
            if let Some(h) = &d.hint {
                message.push_str("\nhint: ");
                message.push_str(h);
            }
            let related = related(d, s, text, li, a, uri);
            let tags = match d.code {
                Code::UnreachableTask => Some(vec![DiagnosticTag::UNNECESSARY]),
                _ => None,
            };
            lsp_types::Diagnostic {
                range: li.range(text, s, e),
                severity: Some(match d.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.as_str().to_string())),
                code_description: Url::parse(&format!("{rules_url}#{}", d.code.as_str()))
                    .ok()
                    .map(|href| CodeDescription { href }),
                source: Some("attune".to_string()),
                message,
                related_information: related,
                tags,
                data: None,
            }
        })
        .collect()
}

fn related(
    d: &Diagnostic,
    start: usize,
    text: &str,
    li: &LineIndex,
    a: Option<&Analysis>,
    uri: &Url,
) -> Option<Vec<DiagnosticRelatedInformation>> {
    let a = a?;
    let loc = |s: usize, e: usize, msg: String| DiagnosticRelatedInformation {
        location: Location {
            uri: uri.clone(),
            range: li.range(text, s, e),
        },
        message: msg,
    };
    match d.code {
        Code::DuplicateTask => {
            let dup = a.occ_at(start)?;
            let first = a.task_def(&dup.name, Some(dup.list))?;
            (first.span.start < dup.span.start).then(|| {
                vec![loc(
                    first.span.start,
                    first.span.end,
                    format!("task '{}' is first defined here", dup.name),
                )]
            })
        }
        Code::YamlSyntax => {
            let doc = a.doc.as_ref()?;
            let dup = doc.duplicates.iter().find(|k| k.pos.offset == start)?;
            let s = dup.first.offset;
            let e = a.extents.get(&s).and_then(|x| x.scalar_end).unwrap_or(s);
            Some(vec![loc(
                s,
                e,
                format!("key '{}' is first defined here", dup.key),
            )])
        }
        _ => None,
    }
}
