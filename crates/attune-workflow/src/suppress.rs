//! Suppression comments: `# attune: ignore[code, code]` at the end of a line
//! silences those codes on that line; `# attune: ignore-file[code]` anywhere
//! silences them for the whole file. Found by scanning the raw text, so the
//! YAML layer need not keep comments.

use super::diagnostic::{Code, Diagnostic};
use std::collections::{HashMap, HashSet};

/// The suppressions declared in one file.
#[derive(Debug, Default, Clone)]
pub struct Suppressions {
    file: HashSet<Code>,
    lines: HashMap<u32, HashSet<Code>>,
}

impl Suppressions {
    /// Scan `text` for suppression comments. Unknown codes are ignored.
    pub fn scan(text: &str) -> Self {
        let mut s = Suppressions::default();
        if !text.contains("attune:") {
            return s;
        }
        for (i, line) in text.lines().enumerate() {
            let Some(at) = comment_start(line) else {
                continue;
            };
            let comment = line[at + 1..].trim_start();
            let Some(rest) = comment.strip_prefix("attune:") else {
                continue;
            };
            let rest = rest.trim_start();
            let (whole_file, list) = if let Some(r) = rest.strip_prefix("ignore-file[") {
                (true, r)
            } else if let Some(r) = rest.strip_prefix("ignore[") {
                (false, r)
            } else {
                continue;
            };
            let Some(end) = list.find(']') else {
                continue;
            };
            let codes = list[..end]
                .split(',')
                .filter_map(|c| Code::parse(c.trim()))
                .filter(|c| c.suppressible());
            if whole_file {
                s.file.extend(codes);
            } else {
                s.lines.entry(i as u32 + 1).or_default().extend(codes);
            }
        }
        s
    }

    /// True when `d` is silenced.
    pub fn silences(&self, d: &Diagnostic) -> bool {
        if !d.code.suppressible() {
            return false;
        }
        self.file.contains(&d.code)
            || self
                .lines
                .get(&d.line)
                .is_some_and(|set| set.contains(&d.code))
    }

    pub fn is_empty(&self) -> bool {
        self.file.is_empty() && self.lines.is_empty()
    }
}

/// Byte index of the `#` that starts a comment: at the line start or after
/// whitespace, outside quotes (a best-effort scan of one line).
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => {
                if c == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') {
                    return Some(i);
                }
                if (c == b'"' || c == b'\'') && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
                    quote = Some(c);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_file_suppressions_are_found() {
        let s = Suppressions::scan(
            "a: 1 # attune: ignore[unknown-key, missing-label]\n# attune: ignore-file[unreachable-task]\nb: \"# attune: ignore[unknown-task]\"\nc: 2 # attune: ignore[yaml-syntax]\n",
        );
        let d = |code, line| Diagnostic::new(code, "m", line, 1);
        assert!(s.silences(&d(Code::UnknownKey, 1)));
        assert!(s.silences(&d(Code::MissingLabel, 1)));
        assert!(!s.silences(&d(Code::UnknownKey, 2)));
        assert!(s.silences(&d(Code::UnreachableTask, 40)));
        assert!(!s.silences(&d(Code::UnknownTask, 3)));
        assert!(!s.silences(&d(Code::YamlSyntax, 4)));
    }
}
