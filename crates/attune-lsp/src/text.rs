//! Positions: byte offsets in a document ↔ LSP positions (0-based line,
//! UTF-16 code units, the protocol's default encoding) ↔ the core's 1-based
//! line and character column. Out-of-range positions are clamped, never a
//! panic.

use lsp_types::{Position, Range};

/// Line starts of one text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text).map(|i| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte range of line `line` (0-based), without its line end.
    pub fn line_span(&self, text: &str, line: usize) -> (usize, usize) {
        let Some(&start) = self.starts.get(line) else {
            return (self.len, self.len);
        };
        let mut end = self.starts.get(line + 1).map(|s| s - 1).unwrap_or(self.len);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        (start, end.max(start))
    }

    /// The text of line `line` (0-based), without its line end.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let (s, e) = self.line_span(text, line);
        text.get(s..e).unwrap_or("")
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The LSP position of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char(text, offset.min(self.len));
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col: usize = text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(line as u32, col as u32)
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(
            self.position(text, start),
            self.position(text, end.max(start)),
        )
    }

    /// The byte offset of an LSP position (clamped to the line and the text).
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return self.len;
        }
        let (start, end) = self.line_span(text, line);
        let mut units = 0usize;
        for (i, c) in text.get(start..end).unwrap_or("").char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The byte offset of the core's 1-based line and character column.
    pub fn offset_of_line_col(&self, text: &str, line: u32, column: u32) -> usize {
        let l = (line.max(1) - 1) as usize;
        if l >= self.starts.len() {
            return self.len;
        }
        let (start, end) = self.line_span(text, l);
        let want = column.max(1) as usize - 1;
        text.get(start..end)
            .unwrap_or("")
            .char_indices()
            .nth(want)
            .map(|(i, _)| start + i)
            .unwrap_or(end)
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
}

/// The largest char boundary at or before `i`.
pub fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        let t = "a: 1\nb: \"é😀x\"\r\nc";
        let li = LineIndex::new(t);
        assert_eq!(li.line_count(), 3);
        assert_eq!(li.line(t, 1), "b: \"é😀x\"");
        let x = t.find('x').unwrap();
        let p = li.position(t, x);
        assert_eq!(p, Position::new(1, 7));
        assert_eq!(li.offset(t, p), x);
        assert_eq!(li.offset(t, Position::new(99, 0)), t.len());
        assert_eq!(li.offset(t, Position::new(0, 99)), 4);
        assert_eq!(li.offset_of_line_col(t, 2, 6), t.find('😀').unwrap());
    }
}
