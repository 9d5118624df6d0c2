//! Diagnostics as reports carry them: the core's `Diagnostic` plus a
//! `snippet` of the source around its line, so a client can show the error
//! in place without fetching the file.

use serde::{Deserialize, Serialize};

use crate::workflow::Diagnostic;

/// Lines shown before and after the diagnostic's line.
pub const CONTEXT_LINES: u32 = 2;
/// Longest line kept in a snippet, in characters.
pub const MAX_LINE_CHARS: usize = 240;

/// Source lines around a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// 1-based number of the first line in `lines`.
    pub start_line: u32,
    pub lines: Vec<String>,
}

/// A diagnostic with its snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDiagnostic {
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Snippet>,
    /// `/docs/rules#<code>` (absent in run records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
}

impl ReportDiagnostic {
    /// Adds the snippet taken from `source` (none without a source) and the
    /// link to the rule's entry in the rules reference.
    pub fn new(diagnostic: Diagnostic, source: Option<&str>) -> Self {
        let snippet = source.and_then(|s| snippet(s, diagnostic.line));
        ReportDiagnostic {
            help_uri: Some(crate::workflow::rules::rule_path(diagnostic.code)),
            diagnostic,
            snippet,
        }
    }
}

/// The number of errors among `diagnostics` and the first one's message
/// (empty when there is none): what a "validation failed" message names.
pub fn error_summary(diagnostics: &[ReportDiagnostic]) -> (usize, String) {
    let mut errors = diagnostics.iter().filter(|d| d.diagnostic.is_error());
    match errors.next() {
        Some(first) => (1 + errors.count(), first.diagnostic.message.clone()),
        None => (0, String::new()),
    }
}

/// Up to [`CONTEXT_LINES`] lines before and after `line` (1-based), each cut
/// to [`MAX_LINE_CHARS`] characters; `None` when `line` is not in `source`.
pub fn snippet(source: &str, line: u32) -> Option<Snippet> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    if line == 0 {
        return None;
    }
    let first = line.saturating_sub(CONTEXT_LINES).max(1);
    let last = line.saturating_add(CONTEXT_LINES);
    let mut lines = Vec::new();
    let mut found = false;
    for (i, text) in source.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if n < first {
            continue;
        }
        if n > last {
            break;
        }
        if n == line {
            found = true;
        }
        let text = text.strip_suffix('\r').unwrap_or(text);
        lines.push(text.chars().take(MAX_LINE_CHARS).collect());
    }
    found.then_some(Snippet {
        start_line: first,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_holds_two_lines_each_side_cut_to_the_limit() {
        let src = format!("a\nb\nc\nd\ne\nf\n{}\n", "x".repeat(300));
        let s = snippet(&src, 4).unwrap();
        assert_eq!(s.start_line, 2);
        assert_eq!(s.lines, ["b", "c", "d", "e", "f"]);
        let s = snippet(&src, 1).unwrap();
        assert_eq!((s.start_line, s.lines.len()), (1, 3));
        let s = snippet(&src, 7).unwrap();
        assert_eq!(s.lines.last().unwrap().chars().count(), MAX_LINE_CHARS);
        assert!(snippet(&src, 99).is_none());
        assert!(snippet(&src, 0).is_none());
    }

    #[test]
    fn crlf_and_bom_do_not_leak_into_lines() {
        let s = snippet("\u{feff}a: 1\r\nb: 2\r\n", 2).unwrap();
        assert_eq!(s.lines, ["a: 1", "b: 2"]);
    }
}
