//! What each Jinja filter becomes. attune's expressions have no filters
//! (`x | f`); upstream files use them, so the `expression-syntax` error at
//! the `|` proposes the whole filter chain rewritten as function calls, with
//! the edit, when every filter in it has an equivalent, and otherwise says
//! plainly which filter has none (no edit). docs/EXPRESSIONS.md lists the
//! table; the hint-validity property test feeds every proposal back.

use super::{ExprFix, Span};

/// A built-in function's parameters: names in order, how many are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub name: &'static str,
    pub params: &'static [&'static str],
    pub required: usize,
}

const fn sig(name: &'static str, params: &'static [&'static str], required: usize) -> Signature {
    Signature {
        name,
        params,
        required,
    }
}

/// Every built-in function (the order of [`super::FUNCTIONS`]), with the
/// arity upstream Attune's evaluator enforces.
pub const SIGNATURES: &[Signature] = &[
    sig("string", &["value"], 1),
    sig("number", &["value"], 1),
    sig("int", &["value"], 1),
    sig("bool", &["value"], 1),
    sig("type_of", &["value"], 1),
    sig("length", &["value"], 1),
    sig("keys", &["object"], 1),
    sig("values", &["object"], 1),
    sig("abs", &["number"], 1),
    sig("floor", &["number"], 1),
    sig("ceil", &["number"], 1),
    sig("round", &["number"], 1),
    sig("min", &["a", "b"], 2),
    sig("max", &["a", "b"], 2),
    sig("sum", &["list"], 1),
    sig("lower", &["string"], 1),
    sig("upper", &["string"], 1),
    sig("trim", &["string"], 1),
    sig("split", &["string", "separator"], 2),
    sig("join", &["list", "separator"], 2),
    sig("replace", &["string", "old", "new"], 3),
    sig("starts_with", &["string", "prefix"], 2),
    sig("ends_with", &["string", "suffix"], 2),
    sig("match", &["string", "pattern"], 2),
    sig("contains", &["collection", "value"], 2),
    sig("reversed", &["value"], 1),
    sig("sort", &["list"], 1),
    sig("unique", &["list"], 1),
    sig("flat", &["list"], 1),
    sig("zip", &["a", "b"], 2),
    sig("range", &["start", "end"], 1),
    sig("slice", &["value", "start", "end"], 2),
    sig("index_of", &["list", "value"], 2),
    sig("count", &["list", "value"], 2),
    sig("merge", &["a", "b"], 2),
    sig("chunks", &["list", "size"], 2),
    sig("result", &[], 0),
    sig("succeeded", &[], 0),
    sig("failed", &[], 0),
    sig("timed_out", &[], 0),
    sig("item", &[], 0),
    sig("index", &[], 0),
];

/// The signature of a built-in function.
pub fn signature(name: &str) -> Option<&'static Signature> {
    SIGNATURES.iter().find(|s| s.name == name)
}

/// What a Jinja filter becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// The operand itself (`| list`: lists are already lists).
    Operand,
    /// `operand[0]`.
    First,
    /// `operand[-1]`.
    Last,
    /// `function(operand, args…)`, keyword arguments matched to the
    /// function's parameters.
    Call(&'static str),
    /// No equivalent; the text says what to do instead.
    None(&'static str),
}

/// The Jinja filters upstream files use, and Jinja's common ones. A filter
/// not listed here that is the name of a built-in function becomes a call
/// of it; any other filter has no equivalent.
pub const FILTERS: &[(&str, Rewrite)] = &[
    ("list", Rewrite::Operand),
    ("first", Rewrite::First),
    ("last", Rewrite::Last),
    ("length", Rewrite::Call("length")),
    ("count", Rewrite::Call("length")),
    ("reverse", Rewrite::Call("reversed")),
    ("float", Rewrite::Call("number")),
    ("flatten", Rewrite::Call("flat")),
    ("join", Rewrite::Call("join")),
    (
        "default",
        Rewrite::None(
            "attune's expressions have no default value for a missing one; give the parameter a `default:` under `parameters`, or test it with a `when` condition",
        ),
    ),
    (
        "d",
        Rewrite::None(
            "attune's expressions have no default value for a missing one; give the parameter a `default:` under `parameters`, or test it with a `when` condition",
        ),
    ),
    (
        "map",
        Rewrite::None(
            "attune's expressions cannot map over a list; publish the values you need from the task that produces them, or iterate with `with_items`",
        ),
    ),
    (
        "selectattr",
        Rewrite::None(
            "attune's expressions cannot filter a list; iterate with `with_items` and a `when` condition on the task",
        ),
    ),
    (
        "rejectattr",
        Rewrite::None(
            "attune's expressions cannot filter a list; iterate with `with_items` and a `when` condition on the task",
        ),
    ),
    (
        "select",
        Rewrite::None(
            "attune's expressions cannot filter a list; iterate with `with_items` and a `when` condition on the task",
        ),
    ),
    (
        "reject",
        Rewrite::None(
            "attune's expressions cannot filter a list; iterate with `with_items` and a `when` condition on the task",
        ),
    ),
    (
        "tojson",
        Rewrite::None("values are passed to actions as JSON already; pass the value itself"),
    ),
    (
        "to_json",
        Rewrite::None("values are passed to actions as JSON already; pass the value itself"),
    ),
];

/// What filter `name` becomes.
pub fn rewrite(name: &str) -> Rewrite {
    if let Some((_, r)) = FILTERS.iter().find(|(n, _)| *n == name) {
        return *r;
    }
    match signature(name) {
        Some(s) if !s.params.is_empty() => Rewrite::Call(s.name),
        _ => Rewrite::None("it is not a built-in function (see docs/EXPRESSIONS.md)"),
    }
}

/// One filter of a chain: its name and its arguments (keyword or not).
struct Filter<'s> {
    name: &'s str,
    args: Vec<(Option<&'s str>, &'s str)>,
}

/// The hint (and the edit) for the filter chain whose first `|` is at
/// `pipe` in `src`, applied to the operand at `operand`.
pub fn proposal(src: &str, operand: Span, pipe: usize) -> (String, Option<ExprFix>) {
    // A parenthesized operand's span is what is inside the parentheses.
    let (mut start, mut end) = (operand.start, operand.end);
    let b = src.as_bytes();
    loop {
        let before = src.get(..start).unwrap_or("").trim_end();
        let after_end = end
            + (src.get(end..pipe).unwrap_or("").len()
                - src.get(end..pipe).unwrap_or("").trim_start().len());
        if before.ends_with('(') && b.get(after_end) == Some(&b')') && after_end < pipe {
            start = before.len() - 1;
            end = after_end + 1;
        } else {
            break;
        }
    }
    let operand = Span::new(start, end);
    let lhs = src.get(operand.start..operand.end).unwrap_or("x");
    let Some((chain, end)) = parse_chain(src, pipe) else {
        return (
            "filters are not supported; call a function instead, e.g. length(x)".to_string(),
            None,
        );
    };
    let mut text = lhs.trim().to_string();
    for f in &chain {
        match convert(f, &text) {
            Ok(t) => text = t,
            Err(why) => {
                return (
                    format!(
                        "filters are not supported, and `| {}` has no equivalent: {why}",
                        f.name
                    ),
                    None,
                );
            }
        }
    }
    let how = if text.ends_with(')') {
        "use the function form"
    } else {
        "write it as"
    };
    (
        format!("filters are not supported; {how}: {text}"),
        Some(ExprFix::new(operand.start, end - operand.start, text)),
    )
}

fn convert(f: &Filter<'_>, operand: &str) -> Result<String, String> {
    let no_args = |what: &str| {
        if f.args.is_empty() {
            Ok(what.to_string())
        } else {
            Err(format!(
                "`{}` takes no arguments here; write {what}",
                f.name
            ))
        }
    };
    match rewrite(f.name) {
        Rewrite::Operand => no_args(operand),
        Rewrite::First => no_args(&format!("{}[0]", postfix_operand(operand))),
        Rewrite::Last => no_args(&format!("{}[-1]", postfix_operand(operand))),
        Rewrite::None(why) => Err(why.to_string()),
        Rewrite::Call(func) => {
            let Some(sig) = signature(func) else {
                return Err("it is not a built-in function".to_string());
            };
            // The operand is the first parameter; the rest come from the
            // filter's arguments, positional first, keywords by name.
            let rest = sig.params.get(1..).unwrap_or(&[]);
            let mut slots: Vec<Option<&str>> = vec![None; rest.len()];
            let mut next = 0;
            for (kw, val) in &f.args {
                let at = match kw {
                    None => {
                        let at = next;
                        next += 1;
                        at
                    }
                    Some(k) => rest.iter().position(|p| p == k).ok_or_else(|| {
                        format!(
                            "{func}() has no parameter '{k}' (it takes {})",
                            sig.params.join(", ")
                        )
                    })?,
                };
                let slot = slots
                    .get_mut(at)
                    .ok_or_else(|| format!("{func}() takes {} argument(s)", sig.params.len()))?;
                if slot.is_some() {
                    return Err(format!("argument {} of {func}() is given twice", at + 2));
                }
                *slot = Some(val);
            }
            // Jinja's `join` defaults to no separator.
            if func == "join" && slots.first().is_some_and(Option::is_none) {
                slots[0] = Some("''");
            }
            let given = slots.iter().take_while(|s| s.is_some()).count();
            if slots.iter().skip(given).any(Option::is_some) || 1 + given < sig.required {
                return Err(format!(
                    "{func}() needs {} ({} given)",
                    sig.params[..sig.required].join(", "),
                    1 + given
                ));
            }
            let mut out = format!("{func}({operand}");
            for v in slots.iter().flatten() {
                out.push_str(", ");
                out.push_str(v);
            }
            out.push(')');
            Ok(out)
        }
    }
}

/// The operand as something `[i]` may follow: parenthesized unless it is a
/// plain name, member, index or call chain.
fn postfix_operand(s: &str) -> String {
    let simple =
        !s.is_empty() && scan_top(s, |c| c.is_whitespace() || "+-*/%<>=!,".contains(c)).is_none();
    if simple {
        s.to_string()
    } else {
        format!("({s})")
    }
}

/// The byte offset of the first char outside quotes and brackets for which
/// `stop` holds.
fn scan_top(s: &str, stop: impl Fn(char) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            _ if depth == 0 && stop(c) => return Some(i),
            _ => {}
        }
    }
    None
}

/// The filters from the `|` at `pipe`: `| name`, `| name(args)`, repeated;
/// with the offset where the chain ends. `None` when it is not of that
/// shape (e.g. an unclosed parenthesis).
fn parse_chain(src: &str, pipe: usize) -> Option<(Vec<Filter<'_>>, usize)> {
    let b = src.as_bytes();
    let skip_ws = |mut i: usize| {
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut i = pipe;
    let mut end = pipe;
    loop {
        let at = skip_ws(i);
        if b.get(at) != Some(&b'|') || b.get(at + 1) == Some(&b'|') {
            break;
        }
        let n0 = skip_ws(at + 1);
        let mut n1 = n0;
        while b
            .get(n1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            n1 += 1;
        }
        if n1 == n0 || !b[n0].is_ascii_alphabetic() && b[n0] != b'_' {
            return None;
        }
        let name = src.get(n0..n1)?;
        let mut args = Vec::new();
        let mut after = n1;
        let open = skip_ws(n1);
        if b.get(open) == Some(&b'(') {
            let inner_start = open + 1;
            let close = inner_start + scan_top(src.get(inner_start..)?, |c| c == ')')?;
            let inner = src.get(inner_start..close)?;
            let mut rest = inner;
            while !rest.trim().is_empty() {
                let cut = scan_top(rest, |c| c == ',').unwrap_or(rest.len());
                let piece = rest.get(..cut)?.trim();
                if piece.is_empty() {
                    return None;
                }
                args.push(keyword(piece));
                rest = rest.get(cut + 1..).unwrap_or("");
            }
            after = close + 1;
        }
        out.push(Filter { name, args });
        end = after;
        i = after;
    }
    (!out.is_empty()).then_some((out, end))
}

/// `name=value` → (Some(name), value); anything else → (None, piece).
fn keyword(piece: &str) -> (Option<&str>, &str) {
    let b = piece.as_bytes();
    let mut j = 0;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        j += 1;
    }
    let name = &piece[..j];
    let rest = piece[j..].trim_start();
    if j > 0 && !b[0].is_ascii_digit() && rest.starts_with('=') && !rest.starts_with("==") {
        (Some(name), rest[1..].trim())
    } else {
        (None, piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{FUNCTIONS, parse};

    fn hint(src: &str) -> (String, Option<String>) {
        let e = parse(src).expect_err("a filter is an error");
        let fixed = e
            .fix
            .map(|f| format!("{}{}{}", &src[..f.offset], f.text, &src[f.offset + f.len..]));
        (e.hint.unwrap_or_default(), fixed)
    }

    #[test]
    fn every_function_has_a_signature_and_back() {
        for f in FUNCTIONS {
            assert!(signature(f).is_some(), "{f}");
        }
        assert_eq!(SIGNATURES.len(), FUNCTIONS.len());
    }

    #[test]
    fn upstream_filter_chains_become_function_calls() {
        for (src, want) in [
            ("x | length", "length(x)"),
            ("a.b | length > 0", "length(a.b) > 0"),
            ("x | first", "x[0]"),
            ("x | last", "x[-1]"),
            ("(a + b) | first", "(a + b)[0]"),
            ("x | list", "x"),
            ("x | join(', ')", "join(x, ', ')"),
            ("x | join", "join(x, '')"),
            (
                "parameters.regions | slice(start=1)",
                "slice(parameters.regions, 1)",
            ),
            ("x | reverse | list", "reversed(x)"),
            (
                "x | replace('a', 'b') | upper",
                "upper(replace(x, 'a', 'b'))",
            ),
        ] {
            let (h, fixed) = hint(src);
            assert_eq!(fixed.as_deref(), Some(want), "{src}: {h}");
            assert!(h.starts_with("filters are not supported; "), "{h}");
            parse(want).unwrap_or_else(|e| panic!("{want}: {e:?}"));
        }
    }

    #[test]
    fn filters_without_equivalent_say_so_and_propose_nothing() {
        for (src, name) in [
            ("x | map(attribute='pack_path') | list", "map"),
            ("x | selectattr('a')", "selectattr"),
            ("x | default('a')", "default"),
            ("x | frobnicate", "frobnicate"),
            ("x | join(', ', attribute='a')", "join"),
            ("x | first(1)", "first"),
        ] {
            let (h, fixed) = hint(src);
            assert_eq!(fixed, None, "{src}");
            assert!(
                h.contains(&format!("`| {name}` has no equivalent")),
                "{src}: {h}"
            );
        }
    }
}
