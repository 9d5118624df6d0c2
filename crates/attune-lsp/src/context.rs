//! Where the cursor is, read from the lines of the text by indentation, so
//! it works on the half-typed, not-yet-valid YAML of a keystroke: the chain
//! of parent keys and list items above the cursor, the task the cursor is
//! in, and the task names of that task's list.

/// One step of the path from the document root to the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A `key:` whose block value holds the cursor (with its line).
    Key(String, usize),
    /// A `- ` list item (with its line and the column of its dash).
    Item(usize, usize),
}

#[derive(Debug, Clone)]
struct Line<'a> {
    /// Column of the first `- ` (if the line starts a list item).
    dash: Option<usize>,
    /// Column of the content after all leading `- `.
    content: usize,
    /// `key` when the content is `key:` or `key: value`.
    key: Option<&'a str>,
    /// True when the content is `key:` with nothing (or a comment) after.
    opens: bool,
    blank: bool,
}

fn parse_line(l: &str) -> Line<'_> {
    let indent = l.len() - l.trim_start_matches(' ').len();
    let mut rest = &l[indent..];
    let mut col = indent;
    let mut dash = None;
    while let Some(r) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        dash.get_or_insert(col);
        let ws = r.len() - r.trim_start_matches(' ').len();
        col += rest.len() - r.len() + ws;
        rest = &r[ws..];
    }
    let blank = rest.trim().is_empty() && dash.is_none() || rest.starts_with('#');
    let (key, opens) = match rest.find(':') {
        Some(i)
            if rest[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$'))
                && i > 0 =>
        {
            let after = rest[i + 1..].trim();
            let after_ok = rest[i + 1..].is_empty() || rest[i + 1..].starts_with(' ');
            (
                after_ok.then_some(&rest[..i]),
                after_ok && (after.is_empty() || after.starts_with('#')),
            )
        }
        _ => (None, false),
    };
    Line {
        dash,
        content: col,
        key,
        opens,
        blank,
    }
}

/// The path of keys and items that contain the cursor at (`line`, `col`),
/// outermost first. `col` is a byte column of the cursor line.
pub fn path_at(lines: &[&str], line: usize, col: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    let Some(cur) = lines.get(line) else {
        return steps;
    };
    let before = &cur[..col.min(cur.len())];
    let pl = parse_line(before);
    let mut indent = if before.trim().is_empty() {
        before.len()
    } else {
        pl.content
    };
    if let Some(d) = pl.dash
        && !before.trim().is_empty()
    {
        steps.push(Step::Item(line, d));
        indent = d;
    }
    for i in (0..line).rev() {
        let l = parse_line(lines[i]);
        if l.blank {
            continue;
        }
        if l.content < indent && l.key.is_some() && l.opens {
            steps.push(Step::Key(l.key.unwrap_or_default().to_string(), i));
            indent = l.content;
            if let Some(d) = l.dash {
                steps.push(Step::Item(i, d));
                indent = d;
            }
        } else if let Some(d) = l.dash
            && d < indent
        {
            // An item whose first key is a sibling of the cursor's line.
            steps.push(Step::Item(i, d));
            indent = d;
        } else if l.content < indent && l.dash.is_none() {
            // A `key: value` line at a lower indent closes the block.
            indent = l.content;
        }
        if indent == 0 {
            break;
        }
    }
    steps.reverse();
    steps
}

/// The names in a path, e.g. `["tasks", "-", "input"]`.
pub fn shape(steps: &[Step]) -> Vec<&str> {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k, _) => k.as_str(),
            Step::Item(..) => "-",
        })
        .collect()
}

/// True when the path ends in a task (an item of a `tasks` list).
pub fn in_task(shape: &[&str]) -> bool {
    shape.len() >= 2 && shape[shape.len() - 1] == "-" && shape[shape.len() - 2] == "tasks"
}

/// The value of `key` among the keys of the item that starts at
/// `item_line` (dash at column `dash`).
pub fn item_value<'a>(
    lines: &[&'a str],
    item_line: usize,
    dash: usize,
    key: &str,
) -> Option<&'a str> {
    let mut content_col = None;
    for (i, raw) in lines.iter().enumerate().skip(item_line) {
        let l = parse_line(raw);
        if i > item_line && !l.blank && (l.content <= dash || l.dash == Some(dash)) {
            break;
        }
        let col = content_col.get_or_insert(l.content);
        if l.content == *col
            && l.key == Some(key)
            && let Some(v) = raw.split_once(':').map(|x| x.1)
        {
            let v = v.split(" #").next().unwrap_or("").trim();
            return Some(v.trim_matches(|c| c == '"' || c == '\''));
        }
    }
    None
}

/// The names of the items of the list opened by `key:` on `key_line`.
pub fn list_names(lines: &[&str], key_line: usize) -> Vec<String> {
    let Some(k) = lines.get(key_line) else {
        return Vec::new();
    };
    let key_col = parse_line(k).content;
    let mut dash_col = None;
    let mut out = Vec::new();
    for (i, raw) in lines.iter().enumerate().skip(key_line + 1) {
        let l = parse_line(raw);
        if l.blank {
            continue;
        }
        if l.content <= key_col && l.dash.is_none_or(|d| d < key_col) {
            break;
        }
        if let Some(d) = l.dash {
            let dc = *dash_col.get_or_insert(d);
            if d == dc
                && let Some(n) = item_value(lines, i, d, "name")
                && !n.is_empty()
            {
                out.push(n.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "version: 1\ntasks:\n  - name: a\n    action: p.x\n    input:\n      \n    next:\n      - do: [\n  - name: b\n    type: parallel\n    tasks:\n      - name: c\n";

    #[test]
    fn paths_follow_indentation() {
        let lines: Vec<&str> = T.split('\n').collect();
        assert_eq!(shape(&path_at(&lines, 5, 6)), ["tasks", "-", "input"]);
        assert_eq!(shape(&path_at(&lines, 7, 14)), ["tasks", "-", "next", "-"]);
        assert_eq!(shape(&path_at(&lines, 3, 4)), ["tasks", "-"]);
        assert_eq!(shape(&path_at(&lines, 0, 0)), Vec::<&str>::new());
        assert_eq!(
            shape(&path_at(&lines, 11, 14)),
            ["tasks", "-", "tasks", "-"]
        );
        assert_eq!(list_names(&lines, 1), ["a", "b"]);
        assert_eq!(item_value(&lines, 2, 2, "action"), Some("p.x"));
    }
}
