//! The line diff of two workflow sources (two revisions, or two files for
//! `attune diff`): a unified-format text and the same hunks as data for the
//! UI's unified and side-by-side views. Built on `similar`, with a time
//! budget so a hostile pair of large texts cannot hold a thread (past it
//! the diff is still correct, only less minimal).

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// Time budget of the line diff.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    /// `equal`, `delete` or `insert`.
    pub op: &'static str,
    /// Line number in the old text, from 1 (absent for an inserted line).
    pub old: Option<usize>,
    /// Line number in the new text, from 1 (absent for a deleted line).
    pub new: Option<usize>,
    /// The line without its line break.
    pub text: String,
}

/// A group of changes with context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// The line diff of two texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TextChange {
    /// Unified format with `--- {old_name}` / `+++ {new_name}` headers;
    /// empty when the texts are equal.
    pub unified: String,
    pub hunks: Vec<Hunk>,
    pub added_lines: usize,
    pub removed_lines: usize,
}

/// Diffs `old` and `new` line by line.
pub fn diff_text(old: &str, new: &str, old_name: &str, new_name: &str) -> TextChange {
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(TIMEOUT)
        .diff_lines(old, new);
    let mut hunks = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for group in diff.grouped_ops(CONTEXT) {
        let header = similar::udiff::UnifiedHunkHeader::new(&group).to_string();
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let op = match change.tag() {
                    ChangeTag::Equal => "equal",
                    ChangeTag::Delete => {
                        removed += 1;
                        "delete"
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        "insert"
                    }
                };
                let text = change.value();
                let text = text.strip_suffix('\n').unwrap_or(text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                lines.push(DiffLine {
                    op,
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: text.to_string(),
                });
            }
        }
        hunks.push(Hunk { header, lines });
    }
    let unified = if hunks.is_empty() {
        String::new()
    } else {
        diff.unified_diff()
            .context_radius(CONTEXT)
            .header(old_name, new_name)
            .to_string()
    };
    TextChange {
        unified,
        hunks,
        added_lines: added,
        removed_lines: removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_one_delete_and_one_insert_with_numbers() {
        let d = diff_text("a\nb\nc\n", "a\nB\nc\n", "old", "new");
        assert_eq!((d.added_lines, d.removed_lines), (1, 1));
        assert!(
            d.unified.starts_with("--- old\n+++ new\n@@ -1,3 +1,3 @@"),
            "{}",
            d.unified
        );
        assert!(d.unified.contains("-b\n+B\n"), "{}", d.unified);
        let lines = &d.hunks[0].lines;
        assert_eq!(lines[1].op, "delete");
        assert_eq!((lines[1].old, lines[1].new), (Some(2), None));
        assert_eq!(
            (lines[2].op, lines[2].new, lines[2].text.as_str()),
            ("insert", Some(2), "B")
        );
    }

    #[test]
    fn equal_texts_have_no_hunk_and_no_text() {
        let d = diff_text("a\n", "a\n", "x", "y");
        assert!(d.hunks.is_empty() && d.unified.is_empty());
    }
}
