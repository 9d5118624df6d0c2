//! Did-you-mean: the nearest name to a misspelled one (task names, keys,
//! actions, functions, namespaces; the config's unknown keys use it too),
//! and the hints for keys with a known misspelling.

use super::*;

/// The nearest candidate to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lw = word.to_ascii_lowercase();
    let len = word.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        // Cheap length filter first: the distance is at least the length gap.
        .filter(|c| {
            c.len().abs_diff(word.len()) <= limit * 4 && c.chars().count().abs_diff(len) <= limit
        })
        .map(|c| (strsim::damerau_levenshtein(&lw, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= limit && *c != word)
        // Ties go to the smallest name, so the hint never depends on the
        // order of a hash set.
        .min()
        .map(|(_, c)| c)
}

pub(super) fn did_you_mean_ref<'r>(s: &str, refs: &'r [String]) -> Option<&'r str> {
    let name = split_ref(s).map(|(_, n)| n).unwrap_or(s);
    let lw = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    refs.iter()
        .map(|r| {
            let rn = split_ref(r).map(|(_, n)| n).unwrap_or(r);
            (
                strsim::damerau_levenshtein(&lw, &rn.to_ascii_lowercase()),
                r.as_str(),
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, r)| r)
}

pub(super) fn preview(refs: &[String]) -> String {
    let mut s = refs.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if refs.len() > 5 {
        s.push_str(&format!(" and {} more", refs.len() - 5));
    }
    s
}

pub(super) fn special_key_hint(what: &str, k: &str) -> Option<String> {
    match (what, k) {
        ("the workflow", "name") => Some(
            "a workflow's name is its file name; remove `name` (use `label` for a title)"
                .to_string(),
        ),
        ("the workflow", "input") => {
            Some("workflow inputs are declared under `parameters`".to_string())
        }
        _ => None,
    }
}

/// A key proposed for a known misspelling (dashes for underscores).
pub(super) fn special_key_proposal(what: &str, k: &str) -> Option<&'static str> {
    match (what, k) {
        ("a task", "on-success") => Some("on_success"),
        ("a task", "on-failure") => Some("on_failure"),
        ("a task", "on-complete") => Some("on_complete"),
        ("a task", "on-timeout") => Some("on_timeout"),
        _ => None,
    }
}
