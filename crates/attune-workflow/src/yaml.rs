//! The YAML layer: text in, a spanned node tree out.
//!
//! Built on `saphyr-parser`'s event stream (chosen by measurement, see
//! `docs/YAML_LAYER.md`). Every node keeps its byte offset in the original
//! text (a `u32`: texts over 4 GiB are refused); its 1-based line and
//! column (in characters) are computed from that offset by [`Lines`], an
//! index of line starts built on first use, so a tree without diagnostics
//! never pays for one. Mapping keys are nodes too, so they keep theirs.
//! A node is 32 bytes, an entry 64 (issue 18: the tree is most of the
//! validator's working set). Anchors and aliases are expanded under an
//! alias-expansion budget, nesting is bounded by a depth budget, so a YAML
//! bomb or 10,000-deep nesting stops early in bounded memory. A UTF-8 BOM is
//! skipped, CRLF line ends are accepted, more than one document is an error,
//! duplicate mapping keys are collected (first one wins). Merge keys
//! (`<<: *base`) are applied. Scalars resolve with the YAML 1.2 core schema.
//!
//! Comments are not kept here: suppression comments are found by scanning
//! the raw text line by line (see `suppress.rs`).

use foldhash::{HashMap, HashMapExt, HashSet};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

/// Budgets that bound the work and memory of one parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest allowed nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes that alias expansion may add to the tree, in total.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
        }
    }
}

/// A position in the source: 1-based line and column (column counted in
/// characters), and the byte offset into the original text (BOM included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

/// How a scalar was written, which decides how it resolves and how an
/// offset inside its value maps back to a source column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
    /// Not a scalar.
    Collection,
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte offset of the node's start in the original text (BOM
    /// included); [`Lines::of`] gives its line and column.
    pub at: u32,
    pub style: Style,
    /// See [`Mark::past_end`].
    pub past_end: bool,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Seq(Box<[Node]>),
    Map(Box<[Entry]>),
}

/// One `key: value` pair of a mapping; the key keeps its own span.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Entry {
    /// The key as text when it is a scalar (`1` → "1", `true` → "true").
    pub fn key_str(&self) -> Option<&str> {
        match &self.key.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Where an offset inside a scalar's value is in the source, relative to
/// the scalar's start (see [`Node::pos_in_value`]).
enum InValue {
    /// Not exactly known: the scalar's start.
    Start,
    /// On the scalar's first line, `chars` characters after its start.
    SameLine { chars: u32, offset: usize },
    /// `lines` lines below the scalar's first, at `column`.
    Below {
        lines: u32,
        column: u32,
        offset: usize,
    },
}

/// What went wrong while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// Not well-formed YAML (including more than one document).
    Syntax,
    /// A budget of [`Limits`] was exceeded.
    Limits,
}

/// A parse failure with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {} column {}", pos.line, pos.column)]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    pub pos: Pos,
}

/// A duplicate mapping key (the later one is dropped from the tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub pos: Pos,
    /// Where the key was first defined.
    pub first: Pos,
}

/// A parsed document: the root node and the duplicate keys found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
    pub duplicates: Vec<DuplicateKey>,
}

/// Line starts of a text, to turn byte offsets (a [`Node`]'s) into
/// positions: built on the first question, so a parse whose tree nobody
/// asks a position of holds none. Lines end at `\n`, `\r\n` or a lone
/// `\r` (as YAML and the parser count them); columns count characters,
/// and BOMs that start a line are no column (the parser skips them).
#[derive(Debug, Clone)]
pub struct Lines<'t> {
    text: &'t str,
    starts: std::cell::OnceCell<Vec<u32>>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        Lines {
            text,
            starts: std::cell::OnceCell::new(),
        }
    }

    /// The text the offsets point into.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// The position of a node's start.
    pub fn of(&self, node: &Node) -> Pos {
        self.at(node.mark())
    }

    /// The position of a node's start, from its [`Mark`].
    pub fn at(&self, mark: Mark) -> Pos {
        let p = self.pos(mark.offset as usize);
        if mark.past_end {
            Pos {
                line: p.line + 1,
                column: 1,
                offset: p.offset,
            }
        } else {
            p
        }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let text = self.text;
        let offset = offset.min(text.len());
        let starts = self.starts.get_or_init(|| line_starts(text));
        let idx = starts.partition_point(|&s| s as usize <= offset).max(1) - 1;
        let start = starts.get(idx).map_or(0, |&s| s as usize);
        Pos {
            line: (idx + 1) as u32,
            column: in_line(text, start, offset),
            offset,
        }
    }
}

/// Where a node starts, in 8 bytes: its byte offset, and whether the
/// parser puts it on the line after the text's last. That happens only to
/// an empty node at the very end of a text without a final line break
/// (`key:` as the last bytes): the parser counts the end of the text as
/// the start of one more line for some events and not for others, so the
/// offset alone does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    pub offset: u32,
    pub past_end: bool,
}

/// The column (1-based, in characters) of a node's start in `text`, found
/// from the start of its line: what [`Lines::of`] gives, without an index
/// (for a few positions on short lines).
pub fn column_of(text: &str, node: &Node) -> u32 {
    if node.past_end {
        return 1;
    }
    let offset = node.offset().min(text.len());
    let b = text.as_bytes();
    let start = b
        .get(..offset)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .map_or(0, |(i, _)| i + 1);
    in_line(text, start, offset)
}

/// The column of `offset` on the line that starts at `start`.
fn in_line(text: &str, start: usize, offset: usize) -> u32 {
    // A BOM is no column where the parser skips it: at a line's start
    // (the file's own, and one between documents).
    let mut from = start;
    while from + 3 <= offset && text.get(from..from + 3) == Some("\u{feff}") {
        from += 3;
    }
    let before = text.get(from..offset).unwrap_or("");
    let chars = if before.is_ascii() {
        before.len()
    } else {
        before.chars().count()
    };
    chars as u32 + 1
}

/// Byte offset of every line's start (the first is 0).
fn line_starts(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut starts = vec![0u32];
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            starts.push((i + 1) as u32);
        }
    }
    starts
}

impl Node {
    /// Byte offset of the node's start in the original text.
    pub fn offset(&self) -> usize {
        self.at as usize
    }
    /// Where the node starts ([`Lines::at`] gives its line and column).
    pub fn mark(&self) -> Mark {
        Mark {
            offset: self.at,
            past_end: self.past_end,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            NodeKind::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }
    /// The entry whose key is the string `key`, if this is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key_str() == Some(key))
    }
    /// The value under the string key `key`, if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }
    /// A short description of the kind, for messages: "a string", "a list"...
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
    /// What a diagnostic says was found: the scalar's text, or the node's
    /// type for a list, mapping or null.
    pub fn found_text(&self) -> String {
        self.scalar_text()
            .unwrap_or_else(|| self.type_name().to_string())
    }

    /// The scalar as text (strings as they are, numbers and booleans
    /// printed), `None` for collections and null.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str(s) => Some(s.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    /// Convert to JSON. Mapping keys become strings (non-scalar keys are
    /// written as compact JSON); non-finite floats become null.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeKind::Str(s) => Value::String(s.to_string()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut m = serde_json::Map::with_capacity(entries.len());
                for e in entries {
                    let k = match e.key.scalar_text() {
                        Some(k) => k,
                        None if e.key.is_null() => "null".to_string(),
                        None => e.key.to_json().to_string(),
                    };
                    m.insert(k, e.value.to_json());
                }
                Value::Object(m)
            }
        }
    }

    /// Map a byte offset inside this string scalar's value back to a source
    /// position. Exact for plain and quoted single-line scalars without
    /// escapes and for literal (`|`) blocks; otherwise the scalar's start.
    pub fn pos_in_value(&self, lines: &Lines<'_>, value_offset: usize) -> Pos {
        self.pos_in_value_from(lines.text(), lines.of(self), value_offset)
    }

    /// [`Node::pos_in_value`] for a node of `src` whose own position is
    /// `start` (when `src` joins several files, `start` is in the node's).
    pub fn pos_in_value_from(&self, src: &str, start: Pos, value_offset: usize) -> Pos {
        match self.in_value(src, value_offset) {
            InValue::Start => start,
            InValue::SameLine { chars, offset } => Pos {
                line: start.line,
                column: start.column + chars,
                offset,
            },
            InValue::Below {
                lines: down,
                column,
                offset,
            } => Pos {
                line: start.line + down,
                column,
                offset,
            },
        }
    }

    /// The byte offset in `src` of byte `value_offset` of this string
    /// scalar's value, where [`Node::pos_in_value`] puts it.
    pub fn offset_in_value(&self, src: &str, value_offset: usize) -> usize {
        match self.in_value(src, value_offset) {
            InValue::Start => self.offset(),
            InValue::SameLine { offset, .. } | InValue::Below { offset, .. } => offset,
        }
    }

    /// The byte range in `src` of `value[start..end]` of this string scalar,
    /// as (offset, length), when the source spells that part verbatim there;
    /// `None` otherwise. What a proposed edit ([`crate::Fix`]) needs.
    pub fn source_range(&self, src: &str, start: usize, end: usize) -> Option<(usize, usize)> {
        let value = self.as_str()?;
        let part = value.get(start..end)?;
        let here = self.offset();
        if self.style == Style::SingleQuoted && value.contains('\'') {
            // `''` in the source is one `'` in the value: walk both.
            let body = src.get(here + 1..)?;
            let (mut si, mut from) = (0usize, None);
            for (vi, c) in value.char_indices() {
                if vi == start {
                    from = Some(si);
                }
                if vi == end {
                    let from = from?;
                    return Some((here + 1 + from, si - from));
                }
                let spelled = if c == '\'' {
                    "''"
                } else {
                    &value[vi..vi + c.len_utf8()]
                };
                if !body.get(si..)?.starts_with(spelled) {
                    return None;
                }
                si += spelled.len();
            }
            let from = if start == value.len() { si } else { from? };
            return (end == value.len()).then_some((here + 1 + from, si - from));
        }
        let at = self.offset_in_value(src, start);
        (src.get(at..at.checked_add(part.len())?)? == part).then_some((at, part.len()))
    }

    /// Where byte `value_offset` of this string scalar's value is in `src`,
    /// relative to the scalar's start.
    fn in_value(&self, src: &str, value_offset: usize) -> InValue {
        let Some(value) = self.as_str() else {
            return InValue::Start;
        };
        let value_offset = value_offset.min(value.len());
        let prefix = match value.get(..value_offset) {
            Some(p) => p,
            None => return InValue::Start,
        };
        let start = self.offset();
        let rest = match src.get(start..) {
            Some(r) => r,
            None => return InValue::Start,
        };
        match self.style {
            Style::Plain | Style::SingleQuoted | Style::DoubleQuoted => {
                if value.contains('\n') {
                    return InValue::Start;
                }
                let skip = usize::from(self.style != Style::Plain);
                let body = match rest.get(skip..) {
                    Some(b) => b,
                    None => return InValue::Start,
                };
                // Exact only when the source spells the value verbatim.
                if !body.starts_with(value) {
                    return InValue::Start;
                }
                InValue::SameLine {
                    chars: skip as u32 + prefix.chars().count() as u32,
                    offset: start + skip + prefix.len(),
                }
            }
            Style::Literal => {
                // saphyr places a block scalar at its first content line.
                let line_idx = prefix.matches('\n').count();
                let col_chars = prefix.rsplit('\n').next().unwrap_or("");
                let line_start = rest_before(src, start)
                    .rfind('\n')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let body_lines: Vec<&str> = src[line_start..].split_inclusive('\n').collect();
                let indent = body_lines
                    .iter()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start_matches(' ').len())
                    .unwrap_or(0);
                let mut off = line_start;
                for l in body_lines.iter().take(line_idx) {
                    off += l.len();
                }
                let Some(line_text) = body_lines.get(line_idx) else {
                    return InValue::Start;
                };
                match line_text.get(indent..) {
                    Some(t) if t.starts_with(col_chars) => {}
                    _ => return InValue::Start,
                }
                InValue::Below {
                    lines: line_idx as u32,
                    column: indent as u32 + 1 + col_chars.chars().count() as u32,
                    offset: off + indent + col_chars.len(),
                }
            }
            _ => InValue::Start,
        }
    }

    /// True for scalars other than null (keys that can be compared).
    fn scalar_text_cheap(&self) -> bool {
        matches!(
            self.kind,
            NodeKind::Str(_) | NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_)
        )
    }

    fn count(&self) -> usize {
        match &self.kind {
            NodeKind::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            NodeKind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|e| e.key.count() + e.value.count())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
}

/// Parse one YAML document (for config files and the like). Duplicate keys
/// are an error here.
pub fn parse_document(text: &str, limits: &Limits) -> Result<Node, YamlError> {
    let doc = parse(text, limits)?;
    if let Some(d) = doc.duplicates.first() {
        return Err(YamlError {
            kind: YamlErrorKind::Syntax,
            message: format!(
                "duplicate key '{}' (first defined at line {})",
                d.key, d.first.line
            ),
            pos: d.pos,
        });
    }
    Ok(doc.root)
}

/// Parse one YAML document into a spanned tree, collecting duplicate keys.
/// Texts of 4 GiB or more are refused (a [`YamlErrorKind::Limits`] error):
/// offsets are `u32`. Every caller's input is far smaller (a workflow file
/// or request body is capped at a few MiB, see docs/CONFIG.md).
pub fn parse(text: &str, limits: &Limits) -> Result<Document, YamlError> {
    if u32::try_from(text.len()).is_err() {
        return Err(YamlError {
            kind: YamlErrorKind::Limits,
            message: "the text is 4 GiB or more; split it".to_string(),
            pos: Pos {
                line: 1,
                column: 1,
                offset: 0,
            },
        });
    }
    let (body, base) = match text.strip_prefix('\u{feff}') {
        Some(b) => (b, 3),
        None => (text, 0),
    };
    let offsets = OffsetMap::new(body, base);
    let mut b = Builder {
        limits: *limits,
        offsets,
        lines: Lines::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        duplicates: Vec::new(),
        root: None,
    };
    let mut parser = Parser::new_from_str(body);
    let mut docs = 0usize;
    loop {
        let (ev, span) = match parser.next_event() {
            None => break,
            Some(Ok(x)) => x,
            Some(Err(e)) => return Err(at_the_tab(text, base, b.scan_error(&e))),
        };
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(YamlError {
                        kind: YamlErrorKind::Syntax,
                        message:
                            "more than one YAML document in the file; keep one workflow per file"
                                .to_string(),
                        pos: b.marker_pos(&span),
                    });
                }
            }
            other => b.event(other, &span)?,
        }
    }
    let root = b.root.take().unwrap_or(Node {
        kind: NodeKind::Null,
        at: base as u32,
        style: Style::Plain,
        past_end: false,
    });
    Ok(Document {
        root,
        duplicates: b.duplicates,
    })
}

/// Converts saphyr's character indices into byte offsets.
struct OffsetMap {
    base: usize,
    /// Byte offset of each character, only for non-ASCII text.
    char_bytes: Option<Vec<u32>>,
    len: usize,
}

impl OffsetMap {
    fn new(text: &str, base: usize) -> Self {
        let char_bytes = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(i, _)| i as u32).collect())
        };
        OffsetMap {
            base,
            char_bytes,
            len: text.len(),
        }
    }
    fn byte(&self, char_index: usize) -> usize {
        let b = match &self.char_bytes {
            None => char_index.min(self.len),
            Some(v) => v.get(char_index).map(|&b| b as usize).unwrap_or(self.len),
        };
        b + self.base
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        at: Mark,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        at: Mark,
        anchor: usize,
        key: Option<Node>,
        seen: Option<HashSet<String>>,
        merges: Vec<Node>,
    },
}

/// saphyr reports a tab where it gave up scanning (often the end of the
/// line before); point at the tab itself: the first one from there on.
fn at_the_tab(text: &str, base: usize, mut e: YamlError) -> YamlError {
    if e.kind != YamlErrorKind::Syntax || !e.message.contains("tab") {
        return e;
    }
    let from = e.pos.offset.min(text.len());
    let Some(k) = text.get(from..).and_then(|t| t.find('\t')) else {
        return e;
    };
    let at = from + k;
    let before = &text[..at];
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = before.matches('\n').count() as u32 + 1;
    // The BOM is no column.
    let col_from = if line_start == 0 { base } else { line_start };
    let column = text
        .get(col_from.min(at)..at)
        .map(|t| t.chars().count())
        .unwrap_or(0) as u32
        + 1;
    e.pos = Pos {
        line,
        column,
        offset: at,
    };
    if !e.message.contains("use spaces") {
        e.message
            .push_str("; indent with spaces, YAML does not allow tabs there");
    }
    e
}

struct Builder<'t> {
    limits: Limits,
    offsets: OffsetMap,
    /// Positions for errors and duplicate keys (built only for those).
    lines: Lines<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    duplicates: Vec<DuplicateKey>,
    root: Option<Node>,
}

impl Builder<'_> {
    /// The byte offset of an event (the text is under 4 GiB: checked).
    fn at(&self, span: &Span) -> u32 {
        self.offsets.byte(span.start.index()) as u32
    }

    /// The byte offset of an event that starts a node. The debug build
    /// checks that the line index puts it where the parser does (the tests,
    /// property tests included, run every node through this).
    fn node_at(&self, span: &Span) -> Mark {
        let at = self.at(span);
        // The end of a text without a final line break (see `Mark`): rare,
        // so the line index is built for it.
        let past_end = at as usize == self.lines.text().len()
            && span.start.line() as u32 > self.lines.pos(at as usize).line;
        let mark = Mark {
            offset: at,
            past_end,
        };
        #[cfg(debug_assertions)]
        {
            let (p, m) = (self.lines.at(mark), self.marker_pos(span));
            debug_assert_eq!(
                (p.line, p.column),
                (m.line, m.column),
                "line index disagrees with the parser at offset {at}"
            );
        }
        mark
    }

    /// The parser's own position of an event (for errors).
    fn marker_pos(&self, span: &Span) -> Pos {
        let m = span.start;
        Pos {
            line: m.line().max(1) as u32,
            column: m.col() as u32 + 1,
            offset: self.offsets.byte(m.index()),
        }
    }

    fn scan_error(&self, e: &ScanError) -> YamlError {
        let m = e.marker();
        // saphyr's scanner has its own flow-nesting guard; it is a budget too.
        let kind = if e.info().contains("recursion limit") {
            YamlErrorKind::Limits
        } else {
            YamlErrorKind::Syntax
        };
        let message = if kind == YamlErrorKind::Limits {
            "nesting is too deep for the parser's budget; flatten the document".to_string()
        } else {
            e.info().to_string()
        };
        YamlError {
            kind,
            message,
            pos: Pos {
                line: m.line().max(1) as u32,
                column: m.col() as u32 + 1,
                offset: self.offsets.byte(m.index()),
            },
        }
    }

    fn limits_error(&self, message: String, span: &Span) -> YamlError {
        YamlError {
            kind: YamlErrorKind::Limits,
            message,
            pos: self.marker_pos(span),
        }
    }

    fn event(&mut self, ev: Event<'_>, span: &Span) -> Result<(), YamlError> {
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let at = self.node_at(span);
                let forced_str = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                // saphyr hands scalars over in its scan buffers, often with
                // several times their length in capacity: keep exact copies.
                let node = scalar(&value, style, forced_str, at);
                if anchor != 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.push(node)
            }
            Event::SequenceStart(anchor, _) => {
                let at = self.node_at(span);
                self.open(span)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    at,
                    anchor,
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                let at = self.node_at(span);
                self.open(span)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    at,
                    anchor,
                    key: None,
                    seen: None,
                    merges: Vec::new(),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                // A collection's list is grown by doubling; the tree keeps
                // only what it holds (a 3-key task mapping: 3 entries, not 4).
                let (node, anchor) = match frame {
                    Frame::Seq { items, at, anchor } => (
                        Node {
                            kind: NodeKind::Seq(items.into_boxed_slice()),
                            at: at.offset,
                            past_end: at.past_end,
                            style: Style::Collection,
                        },
                        anchor,
                    ),
                    Frame::Map {
                        mut entries,
                        at,
                        anchor,
                        merges,
                        ..
                    } => {
                        apply_merges(&mut entries, merges);
                        (
                            Node {
                                kind: NodeKind::Map(entries.into_boxed_slice()),
                                at: at.offset,
                                past_end: at.past_end,
                                style: Style::Collection,
                            },
                            anchor,
                        )
                    }
                };
                if anchor != 0 {
                    let n = node.count();
                    self.anchors.insert(anchor, (node.clone(), n));
                }
                self.push(node)
            }
            Event::Alias(id) => {
                let at = self.node_at(span);
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        kind: YamlErrorKind::Syntax,
                        message: "alias refers to an unknown anchor".to_string(),
                        pos: self.marker_pos(span),
                    });
                };
                self.alias_nodes = self.alias_nodes.saturating_add(*size);
                if self.alias_nodes > self.limits.max_alias_nodes {
                    return Err(self.limits_error(
                        format!(
                            "alias expansion exceeds the budget of {} nodes (a YAML bomb?); use fewer aliases",
                            self.limits.max_alias_nodes
                        ),
                        span,
                    ));
                }
                let mut node = node.clone();
                node.at = at.offset;
                node.past_end = at.past_end;
                self.push(node)
            }
            _ => Ok(()),
        }
    }

    fn open(&self, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.limits_error(
                format!(
                    "nesting deeper than {} levels; flatten the document",
                    self.limits.max_depth
                ),
                span,
            ));
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                seen,
                merges,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if k.style == Style::Plain && k.as_str() == Some("<<") {
                        merges.push(node);
                        return Ok(());
                    }
                    if k.scalar_text_cheap() {
                        let dup = if entries.len() < 16 {
                            entries
                                .iter()
                                .find(|e| same_key(&e.key, &k))
                                .map(|e| e.key.mark())
                        } else {
                            let text = k.scalar_text().unwrap_or_default();
                            let set = seen.get_or_insert_with(|| {
                                entries.iter().filter_map(|e| e.key.scalar_text()).collect()
                            });
                            if set.contains(&text) {
                                entries
                                    .iter()
                                    .find(|e| e.key.scalar_text().as_deref() == Some(text.as_str()))
                                    .map(|e| e.key.mark())
                            } else {
                                set.insert(text.clone());
                                None
                            }
                        };
                        if let Some(first) = dup {
                            self.duplicates.push(DuplicateKey {
                                key: k.scalar_text().unwrap_or_default(),
                                pos: self.lines.of(&k),
                                first: self.lines.at(first),
                            });
                            return Ok(());
                        }
                    }
                    entries.push(Entry {
                        key: k,
                        value: node,
                    });
                }
            },
        }
        Ok(())
    }
}

/// Apply `<<` merge keys: entries of the merged mappings that the mapping
/// does not define itself are appended (earlier merge sources win).
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    for m in merges {
        let sources: Vec<Node> = match m.kind {
            NodeKind::Map(_) => vec![m],
            NodeKind::Seq(items) => items.into_vec(),
            _ => Vec::new(),
        };
        for src in sources {
            if let NodeKind::Map(src_entries) = src.kind {
                for e in src_entries.into_vec() {
                    let k = e.key.scalar_text();
                    let exists = entries.iter().any(|x| x.key.scalar_text() == k);
                    if !exists {
                        entries.push(e);
                    }
                }
            }
        }
    }
}

/// Resolve a scalar with the YAML 1.2 core schema.
fn scalar(value: &str, style: ScalarStyle, forced_str: bool, at: Mark) -> Node {
    let style = match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    };
    let kind = if style == Style::Plain && !forced_str {
        resolve_plain(value)
    } else {
        NodeKind::Str(value.into())
    };
    Node {
        kind,
        at: at.offset,
        style,
        past_end: at.past_end,
    }
}

fn resolve_plain(v: &str) -> NodeKind {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    let first = v.as_bytes().first().copied().unwrap_or(b'a');
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return NodeKind::Str(v.into());
    }
    if let Some(h) = v.strip_prefix("0x")
        && !h.is_empty()
        && h.bytes().all(|c| c.is_ascii_hexdigit())
        && let Ok(i) = i64::from_str_radix(h, 16)
    {
        return NodeKind::Int(i);
    }
    if let Some(o) = v.strip_prefix("0o")
        && !o.is_empty()
        && o.bytes().all(|c| (b'0'..=b'7').contains(&c))
        && let Ok(i) = i64::from_str_radix(o, 8)
    {
        return NodeKind::Int(i);
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = v.parse::<i64>() {
            return NodeKind::Int(i);
        }
        if let Ok(f) = v.parse::<f64>() {
            return NodeKind::Float(f);
        }
    }
    if is_core_float(digits)
        && let Ok(f) = v.parse::<f64>()
    {
        return NodeKind::Float(f);
    }
    NodeKind::Str(v.into())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` without the sign.
fn is_core_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - fs;
        if int_digits == 0 && frac_digits == 0 {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len() && (int_digits > 0 || frac_digits > 0)
}

/// Two mapping keys are the same when their scalar texts are equal.
fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (NodeKind::Str(x), NodeKind::Str(y)) => x == y,
        _ => a.scalar_text() == b.scalar_text(),
    }
}

fn rest_before(src: &str, at: usize) -> &str {
    src.get(..at).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Document, YamlError> {
        parse(s, &Limits::default())
    }

    #[test]
    fn keys_and_values_keep_their_positions() {
        let src = "a: 1\nb:\n  - x\n  - 'y'\n";
        let d = p(src).unwrap();
        let lines = Lines::new(src);
        let b = d.root.entry("b").unwrap();
        let k = lines.of(&b.key);
        assert_eq!((k.line, k.column), (2, 1));
        let items = b.value.as_seq().unwrap();
        let i = lines.of(&items[1]);
        assert_eq!((i.line, i.column), (4, 5));
        assert_eq!(items[1].as_str(), Some("y"));
        assert_eq!(d.root.get("a").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn scalars_resolve_with_the_core_schema() {
        let d = p("a: [1, -2, 1.5, .5, 1e3, true, null, ~, yes, '1', 0x1F, 1.2.3, '']").unwrap();
        let v = d.root.get("a").unwrap().to_json();
        assert_eq!(
            v,
            serde_json::json!([
                1, -2, 1.5, 0.5, 1000.0, true, null, null, "yes", "1", 31, "1.2.3", ""
            ])
        );
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let src = "\u{feff}a: 1\r\nb: two\r\n";
        let d = p(src).unwrap();
        let b = d.root.get("b").unwrap();
        assert_eq!(b.as_str(), Some("two"));
        let at = Lines::new(src).of(b);
        assert_eq!((at.line, at.column), (2, 4));
        let a = Lines::new(src).of(d.root.entry("a").map(|e| &e.key).unwrap());
        assert_eq!((a.line, a.column, a.offset), (1, 1, 3));
        assert_eq!(b.offset(), 3 + 6 + 3);
    }

    #[test]
    fn non_ascii_offsets_are_bytes_and_columns_are_chars() {
        let src = "é: ü\nb: x\n";
        let d = p(src).unwrap();
        let b = d.root.get("b").unwrap();
        assert_eq!(&src[b.offset()..b.offset() + 1], "x");
        let e = d.root.get("é").unwrap();
        assert_eq!(Lines::new(src).of(e).column, 4);
        assert_eq!(&src[e.offset()..], "ü\nb: x\n");
    }

    #[test]
    fn duplicate_keys_are_reported_and_first_wins() {
        let d = p("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!(d.duplicates[0].pos.line, 3);
        assert_eq!(d.root.get("a").unwrap().as_i64(), Some(1));
        assert!(parse_document("a: 1\na: 2", &Limits::default()).is_err());
    }

    #[test]
    fn many_keys_still_find_duplicates() {
        let mut s = String::new();
        for i in 0..100 {
            s.push_str(&format!("k{i}: {i}\n"));
        }
        s.push_str("k50: again\n");
        let d = p(&s).unwrap();
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!(d.duplicates[0].first.line, 51);
    }

    #[test]
    fn anchors_aliases_and_merge_keys_expand() {
        let src = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n";
        let d = p(src).unwrap();
        let u = d.root.get("use").unwrap().to_json();
        assert_eq!(u, serde_json::json!({"y": 3, "x": 1}));
        let alias = &d.root.get("list").unwrap().as_seq().unwrap()[0];
        assert_eq!(Lines::new(src).of(alias).line, 5);
    }

    #[test]
    fn billion_laughs_hits_the_alias_budget() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = p(&s).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::Limits);
    }

    #[test]
    fn deep_nesting_hits_the_depth_budget() {
        let s = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = p(&s).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::Limits, "{e}");
        assert_eq!(e.kind, YamlErrorKind::Limits);
        let s = "- ".repeat(10_000);
        let e = p(&s).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::Limits);
    }

    #[test]
    fn several_documents_are_an_error() {
        let e = p("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::Syntax);
        assert_eq!(e.pos.line, 2);
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let e = p("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::Syntax);
        assert!(e.pos.line >= 1);
        let e = p("a: b: c\n").unwrap_err();
        assert_eq!((e.pos.line, e.kind), (1, YamlErrorKind::Syntax));
    }

    #[test]
    fn empty_text_is_a_null_root() {
        assert!(p("").unwrap().root.is_null());
        assert!(p("# only a comment\n").unwrap().root.is_null());
    }

    #[test]
    fn offsets_inside_values_map_back_to_columns() {
        let src = "a: \"x {{ y }}\"\nb: plain {{ z }}\nc: |\n  one\n  two {{ w }}\n";
        let d = p(src).unwrap();
        let src = &Lines::new(src);
        let a = d.root.get("a").unwrap();
        let pa = a.pos_in_value(src, 2);
        assert_eq!((pa.line, pa.column), (1, 7));
        assert_eq!(&src.text()[pa.offset..pa.offset + 2], "{{");
        let b = d.root.get("b").unwrap();
        let pb = b.pos_in_value(src, 6);
        assert_eq!((pb.line, pb.column), (2, 10));
        let c = d.root.get("c").unwrap();
        let off = c.as_str().unwrap().find("{{").unwrap();
        let pc = c.pos_in_value(src, off);
        assert_eq!((pc.line, pc.column), (5, 7));
        assert_eq!(&src.text()[pc.offset..pc.offset + 2], "{{");
    }

    #[test]
    fn line_index_counts_lines_as_the_parser_does() {
        // Lone CR is a line break; the end of a text without a final break
        // is the start of one more line; a BOM is no column.
        for src in [
            "a: 1\rb: 2\r",
            "a:",
            "-",
            "  - name: a\n\t",
            "a: [x,\r\n  y]",
            "\u{feff}k: v",
            "version: \"1.0.0\"\n\u{feff}",
            "\u{feff}\u{feff}a: 1\n",
            "- é\n- ü: \n",
            "",
        ] {
            // The debug build checks every node against the parser's own
            // position (`Builder::at`); this runs that check on these texts.
            let d = p(src).unwrap();
            let lines = Lines::new(src);
            assert!(lines.of(&d.root).line >= 1, "{src:?}");
        }
        // Empty nodes at the end: where the parser puts them.
        let d = p("a:").unwrap();
        let at = Lines::new("a:").of(&d.root.as_map().unwrap()[0].value);
        assert_eq!((at.line, at.column, at.offset), (1, 2, 1));
        let d = p("-").unwrap();
        let at = Lines::new("-").of(&d.root.as_seq().unwrap()[0]);
        assert_eq!((at.line, at.column, at.offset), (1, 2, 1));
        let l = Lines::new("a\rb\r\nc");
        assert_eq!((l.pos(2).line, l.pos(5).line, l.pos(5).column), (2, 3, 1));
        assert_eq!(l.pos(99).offset, 6);
    }

    #[test]
    fn node_and_entry_sizes() {
        // The tree's cost per node (issue 18): keep it from growing back.
        assert_eq!(std::mem::size_of::<Node>(), 32);
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }
}
