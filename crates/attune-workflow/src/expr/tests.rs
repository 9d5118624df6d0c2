//! Tests for the expression language: parsing, precedence, error offsets,
//! checks, hints, constant folding, limits, and property tests.

use foldhash::{HashSet, HashSetExt};

use proptest::prelude::*;

use super::*;

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Prints every unary and binary node in parentheses, to show the tree.
fn sexp(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(sexp).collect::<Vec<_>>().join(", ");
    match &e.kind {
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::Map(entries) => {
            let body: Vec<_> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", sexp(k), sexp(v)))
                .collect();
            format!("{{{}}}", body.join(", "))
        }
        ExprKind::Member(b, field) => format!("{}.{}", sexp(b), field.name),
        ExprKind::Index(b, i) => format!("{}[{}]", sexp(b), sexp(i)),
        ExprKind::Call(c, args) => format!("{}({})", sexp(c), list(args)),
        ExprKind::Unary(UnaryOp::Neg, x) => format!("(-{})", sexp(x)),
        ExprKind::Unary(UnaryOp::Not, x) => format!("(not {})", sexp(x)),
        ExprKind::Binary(op, l, r) => format!("({} {} {})", sexp(l), op.symbol(), sexp(r)),
        _ => e.to_string(),
    }
}

/// Parses and prints back in the fully parenthesised form.
fn p(src: &str) -> String {
    match parse(src) {
        Ok(e) => sexp(&e),
        Err(e) => panic!("{src:?} did not parse: {e:?}"),
    }
}

/// Parses and prints back in the canonical form.
fn canon(src: &str) -> String {
    match parse(src) {
        Ok(e) => e.to_string(),
        Err(e) => panic!("{src:?} did not parse: {e:?}"),
    }
}

fn perr(src: &str) -> ExprError {
    match parse(src) {
        Ok(e) => panic!("{src:?} parsed as {e}"),
        Err(e) => e,
    }
}

struct Fixture {
    params: HashSet<String>,
    vars: HashSet<String>,
    tasks: HashSet<String>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            params: set(&["app_name", "version", "environment", "force"]),
            vars: set(&["counter", "start_time"]),
            tasks: set(&["build", "deploy", "verify"]),
        }
    }

    /// Every name of the fixture known, parameters included.
    fn scope(&self, in_iteration: bool) -> ExprScope<'_> {
        ExprScope {
            parameters: Some(&self.params),
            vars: &self.vars,
            tasks: &self.tasks,
            in_iteration,
        }
    }

    fn check(&self, s: &str, in_iteration: bool) -> Vec<ExprIssue> {
        let scope = self.scope(in_iteration);
        check_template(s, &scope)
    }
}

fn check(s: &str) -> Vec<ExprIssue> {
    Fixture::new().check(s, false)
}

/// The single issue for `s`, as (code, offending text, hint).
fn one(s: &str) -> (&'static str, String, Option<String>) {
    let issues = check(s);
    assert_eq!(issues.len(), 1, "{s:?}: {issues:#?}");
    let i = &issues[0];
    (
        i.code,
        s[i.offset..i.offset + i.len].to_string(),
        i.hint.clone(),
    )
}

// ---------------------------------------------------------------- parsing

#[test]
fn every_literal_parses() {
    assert_eq!(p("42"), "42");
    assert_eq!(p("1.5"), "1.5");
    assert_eq!(p("2e3"), "2000.0");
    assert_eq!(p("1.5E-2"), "0.015");
    assert_eq!(p("'it\\'s'"), "'it\\'s'");
    assert_eq!(p(r#""a\"b\n\t\\""#), r#"'a"b\n\t\\'"#);
    assert_eq!(p(r"'\u00e9'"), "'é'");
    assert_eq!(p(r"'C:\data'"), r"'C:\\data'");
    assert_eq!(p("true"), "true");
    assert_eq!(p("false"), "false");
    assert_eq!(p("null"), "null");
    assert_eq!(p("True"), "true");
    assert_eq!(p("False"), "false");
    assert_eq!(p("None"), "null");
    assert_eq!(p("'héllo wörld'"), "'héllo wörld'");
}

#[test]
fn collections_and_postfix_parse() {
    assert_eq!(p("[]"), "[]");
    assert_eq!(p("[1, 'a', [2]]"), "[1, 'a', [2]]");
    assert_eq!(p("[1, 2,]"), "[1, 2]");
    assert_eq!(p("{}"), "{}");
    assert_eq!(p("{'k': 1, 'm': [x]}"), "{'k': 1, 'm': [x]}");
    assert_eq!(p("a.b.c"), "a.b.c");
    assert_eq!(p("a[0]['k']"), "a[0]['k']");
    assert_eq!(p("f()"), "f()");
    assert_eq!(p("f(x, y,)"), "f(x, y)");
    assert_eq!(p("task.step1.result()"), "task.step1.result()");
    assert_eq!(p("a.not.in"), "a.not.in");
    assert_eq!(p("-x"), "(-x)");
    assert_eq!(p("not x"), "(not x)");
    assert_eq!(p("not not x"), "(not (not x))");
    assert_eq!(p("x not in y"), "(x not in y)");
    assert_eq!(p("x in y"), "(x in y)");
    assert_eq!(p("  ( ( x ) )  "), "x");
}

#[test]
fn precedence_is_standard() {
    assert_eq!(p("1 + 2 * 3"), "(1 + (2 * 3))");
    assert_eq!(p("1 * 2 + 3"), "((1 * 2) + 3)");
    assert_eq!(p("1 - 2 - 3"), "((1 - 2) - 3)");
    assert_eq!(p("8 / 4 % 3"), "((8 / 4) % 3)");
    assert_eq!(p("(1 + 2) * 3"), "((1 + 2) * 3)");
    assert_eq!(p("-a.b"), "(-a.b)");
    assert_eq!(p("-2 * 3"), "((-2) * 3)");
    assert_eq!(p("a + b == c * d"), "((a + b) == (c * d))");
    assert_eq!(p("a or b and c"), "(a or (b and c))");
    assert_eq!(p("a and b or c"), "((a and b) or c)");
    assert_eq!(p("not a == b"), "(not (a == b))");
    assert_eq!(p("not a and b"), "((not a) and b)");
    assert_eq!(p("a and not b or c"), "((a and (not b)) or c)");
    assert_eq!(p("x in [1, 2] and y"), "((x in [1, 2]) and y)");
    assert_eq!(p("a < b < c"), "((a < b) < c)");
    assert_eq!(p("a <= b != c >= d"), "(((a <= b) != c) >= d)");
    assert_eq!(
        p("length(task.x.result) > 0 or parameters.force"),
        "((length(task.x.result) > 0) or parameters.force)"
    );
}

#[test]
fn the_printer_keeps_only_the_parentheses_precedence_needs() {
    assert_eq!(canon("(1 + 2) * 3"), "(1 + 2) * 3");
    assert_eq!(canon("1 + (2 * 3)"), "1 + 2 * 3");
    assert_eq!(canon("(a - b) - c"), "a - b - c");
    assert_eq!(canon("a - (b - c)"), "a - (b - c)");
    assert_eq!(canon("(not a) and b"), "not a and b");
    assert_eq!(canon("(not a) == b"), "(not a) == b");
    assert_eq!(canon("not (a or b)"), "not (a or b)");
    assert_eq!(canon("-(a + b)"), "-(a + b)");
    assert_eq!(canon("-(-a)"), "--a");
    assert_eq!(canon("(a + b).c(d)[e]"), "(a + b).c(d)[e]");
    assert_eq!(canon("(-a).b"), "(-a).b");
    assert_eq!(canon("x not in (y or z)"), "x not in (y or z)");
    assert_eq!(canon("{'a':1,'b':[2,3]}"), "{'a': 1, 'b': [2, 3]}");
}

#[test]
fn spans_cover_their_source() {
    let src = "a.b + f(c)[0]";
    let e = parse(src).unwrap();
    assert_eq!((e.span.start, e.span.end), (0, src.len()));
    let ExprKind::Binary(_, l, r) = &e.kind else {
        panic!("not binary")
    };
    assert_eq!(&src[l.span.start..l.span.end], "a.b");
    assert_eq!(&src[r.span.start..r.span.end], "f(c)[0]");
    let ExprKind::Member(_, field) = &l.kind else {
        panic!("not member")
    };
    assert_eq!(&src[field.span.start..field.span.end], "b");
}

// ------------------------------------------------------------ syntax errors

#[test]
fn syntax_errors_point_at_the_offending_token() {
    // (input, offset of the error, text at that offset)
    let cases: &[(&str, usize, &str)] = &[
        ("1 +", 3, ""),
        ("(1 + 2", 6, ""),
        ("[1, 2", 5, ""),
        ("a b", 2, "b"),
        ("f(a b)", 4, "b"),
        ("a..b", 2, "."),
        ("a.1", 2, "1"),
        ("'abc", 0, "'"),
        ("x = 1", 2, "="),
        ("a && b", 2, "&&"),
        ("a || b", 2, "||"),
        ("!a", 0, "!"),
        ("a ? b : c", 2, "?"),
        ("a ~ b", 2, "~"),
        ("x is defined", 2, "is"),
        ("a if b else c", 2, "if"),
        ("{'a' 1}", 5, "1"),
        ("a)", 1, ")"),
        ("99999999999999999999", 0, "99999999999999999999"),
        ("1 + and", 4, "and"),
        ("a $ b", 2, "$"),
        ("2 ** 3", 2, "**"),
    ];
    for (src, offset, text) in cases {
        let e = perr(src);
        assert_eq!(e.offset, *offset, "{src:?}: {e:?}");
        assert!(
            src[e.offset..].starts_with(text),
            "{src:?}: error at {} not at {text:?}",
            e.offset
        );
        assert!(!e.message.is_empty() && !e.message.ends_with('.'));
    }
}

#[test]
fn filters_are_refused_with_the_function_form_in_the_hint() {
    let e = perr("x | length");
    assert_eq!(e.offset, 2);
    assert_eq!(
        e.hint.as_deref(),
        Some("filters are not supported; use the function form: length(x)")
    );
    let e = perr("workflow.failed_regions | join(', ')");
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "filters are not supported; use the function form: join(workflow.failed_regions, ', ')"
        )
    );
    // The filter is reported before the lexer's complaint about '=' further on.
    let e = perr("workflow.packs | map(attribute='pack_path') | list");
    assert_eq!(e.offset, 15);
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "filters are not supported, and `| map` has no equivalent: attune's expressions cannot map over a list; publish the values you need from the task that produces them, or iterate with `with_items`"
        )
    );
    assert_eq!(e.fix, None);
    // A lexical error before any parse error is still reported first.
    assert_eq!(perr("a = b | length").offset, 2);
    let e = perr("task.a.result.items | length > 0");
    assert_eq!(
        e.hint.as_deref(),
        Some("filters are not supported; use the function form: length(task.a.result.items)")
    );
}

#[test]
fn template_errors_carry_offsets_into_the_original_string() {
    let s = "deploy {{ parameters.app_name | upper }} now";
    let issues = check(s);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, SYNTAX);
    assert_eq!(issues[0].offset, s.find('|').unwrap());
    assert_eq!(issues[0].len, 1);
    assert_eq!(
        issues[0].hint.as_deref(),
        Some("filters are not supported; use the function form: upper(parameters.app_name)")
    );

    // Error at the end of the expression points at the closing braces.
    let s = "x{{ 1 + }}";
    let (code, text, _) = one(s);
    assert_eq!((code, text.as_str()), (SYNTAX, "}}"));
    assert_eq!(check(s)[0].offset, 8);
}

#[test]
fn unterminated_empty_and_statement_blocks_are_syntax_errors() {
    let (code, text, _) = one("a {{ x");
    assert_eq!((code, text.as_str()), (SYNTAX, "{{"));
    let issues = check("ok {{ 1 }} then {{ broken");
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].offset, 16);

    let (code, text, _) = one("a {{  }} b");
    assert_eq!((code, text.as_str()), (SYNTAX, "{{  }}"));
    let (code, text, _) = one("{{}}");
    assert_eq!((code, text.as_str()), (SYNTAX, "{{}}"));

    let s = "{% if x %}yes{% endif %}";
    let issues = check(s);
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].code, SYNTAX);
    assert_eq!(
        &s[issues[0].offset..issues[0].offset + issues[0].len],
        "{% if x %}"
    );
    assert!(issues[0].hint.as_deref().unwrap_or("").contains("when"));
}

#[test]
fn every_block_is_checked_not_just_the_first() {
    let issues = check("{{ 1 + }} {{ lenght(counter) }} {{ parameters.nope }}");
    let codes: Vec<_> = issues.iter().map(|i| i.code).collect();
    assert_eq!(codes, vec![SYNTAX, UNKNOWN_FUNCTION, UNKNOWN_VARIABLE]);
}

#[test]
fn block_scanning_respects_strings_and_braces() {
    assert!(check("{{ '}}' }}").is_empty());
    assert!(check("{{ {'a': {'b': 1}} }}").is_empty());
    assert!(check("{{ \"a}}b\" + 'c' }} and {{ 1 }}").is_empty());
    // Stray closing braces and single braces outside blocks are text.
    assert!(check("}} { x } {").is_empty());
    assert!(check("json: {\"a\": 1}").is_empty());
    // `{{{ x }}}`: the extra brace is a map that never gets its ':'.
    assert_eq!(check("{{{ x }}}")[0].code, SYNTAX);
}

// ------------------------------------------------------------------ checks

#[test]
fn known_references_are_clean() {
    let f = Fixture::new();
    for s in [
        "{{ parameters.app_name }}",
        "{{ parameters['version'] }}",
        "{{ task.build.result.image }}",
        "{{ tasks.deploy.result }}",
        "{{ vars.counter + 1 }}",
        "{{ variables.start_time }}",
        "{{ counter }}",
        "{{ environment == 'production' }}",
        "{{ workflow.anything.at.all }}",
        "{{ config.x }} {{ keystore.secret }} {{ system.timestamp }}",
        "{{ succeeded() and not failed() }}",
        "{{ length(task.verify.result.items) > 0 }}",
        "{{ result().x }}",
        "{{ parameters }}",
        "plain text { not a template }",
    ] {
        assert_eq!(f.check(s, false), vec![], "{s}");
    }
    assert_eq!(
        f.check("{{ item.name }} {{ index }} {{ item() }}", true),
        vec![]
    );
}

#[test]
fn unknown_function_has_did_you_mean() {
    let (code, text, hint) = one("{{ lenght(x) }}".replace('x', "counter").as_str());
    assert_eq!((code, text.as_str()), (UNKNOWN_FUNCTION, "lenght"));
    assert_eq!(hint.as_deref(), Some("did you mean 'length'?"));
    let (code, text, hint) = one("{{ now() }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_FUNCTION, "now"));
    assert!(
        hint.unwrap()
            .starts_with("the built-in functions are: string, number")
    );
    // Method-style calls on values are not checked against the built-ins.
    assert!(check("{{ task.build.result.get('x') }}").is_empty());
}

#[test]
fn unknown_parameter_is_reported_at_its_name() {
    let s = "{{ parameters.app_nme }}";
    let (code, text, hint) = one(s);
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "app_nme"));
    assert_eq!(hint.as_deref(), Some("did you mean 'app_name'?"));
    assert_eq!(check(s)[0].offset, 14);
    let (_, text, hint) = one("{{ parameters['zzz'] }}");
    assert_eq!(text, "'zzz'");
    assert_eq!(hint.as_deref(), Some("declare 'zzz' under `parameters`"));
}

#[test]
fn unknown_parameters_are_not_reported_when_parameters_are_unknown() {
    let f = Fixture::new();
    let scope = ExprScope {
        parameters: None,
        vars: &f.vars,
        tasks: &f.tasks,
        in_iteration: false,
    };
    assert!(check_template("{{ parameters.whatever }} {{ bare }}", &scope).is_empty());
    assert_eq!(check_template("{{ task.nope }}", &scope).len(), 1);
}

#[test]
fn unknown_task_has_did_you_mean() {
    let (code, text, hint) = one("{{ task.verfy.result }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "verfy"));
    assert_eq!(hint.as_deref(), Some("did you mean 'verify'?"));
    let (_, text, _) = one("{{ tasks['nothing_like_it'].result }}");
    assert_eq!(text, "'nothing_like_it'");
}

#[test]
fn unknown_var_is_reported() {
    let (code, text, hint) = one("{{ vars.countr }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "countr"));
    assert_eq!(hint.as_deref(), Some("did you mean 'counter'?"));
}

#[test]
fn unknown_bare_name_is_reported_with_hints() {
    let (code, text, hint) = one("{{ paramters.app_name }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "paramters"));
    assert_eq!(hint.as_deref(), Some("did you mean 'parameters'?"));
    let (_, _, hint) = one("{{ build.result }}");
    assert_eq!(hint.as_deref(), Some("did you mean 'task.build'?"));
    let (_, _, hint) = one("{{ enviroment }}");
    assert_eq!(hint.as_deref(), Some("did you mean 'environment'?"));
    let (_, text, hint) = one("{{ 1 + zzz_unknown }}");
    assert_eq!(text, "zzz_unknown");
    assert_eq!(
        hint.as_deref(),
        Some("declare 'zzz_unknown' under `parameters` or `vars`")
    );
    let (_, text, hint) = one("{{ pack.config.registry }}");
    assert_eq!(text, "pack");
    assert!(
        hint.unwrap()
            .contains("write `config` instead of `pack.config`")
    );
}

#[test]
fn item_and_index_need_an_iteration() {
    let (code, text, _) = one("{{ item.name }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "item"));
    let (code, text, _) = one("{{ index() }}");
    assert_eq!((code, text.as_str()), (UNKNOWN_VARIABLE, "index"));
    assert!(Fixture::new().check("{{ item.name }}", true).is_empty());
}

#[test]
fn offsets_are_bytes_in_the_original_string_with_multibyte_text() {
    let s = "héllo → {{ parameters.nope }}";
    let issues = check(s);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        &s[issues[0].offset..issues[0].offset + issues[0].len],
        "nope"
    );
}

#[test]
fn real_corpus_templates_give_the_expected_verdicts() {
    let f = Fixture::new();
    let scope = ExprScope {
        parameters: None,
        vars: &f.vars,
        tasks: &f.tasks,
        in_iteration: false,
    };
    let clean = [
        "{{ parameters.rollback_on_failure == true }}",
        "{{ system.timestamp - workflow.start_time }}",
        "{{ not parameters.force and not parameters.skip_env_build }}",
        "{{ task.build.result.image_uri }}",
    ];
    for s in clean {
        assert!(check_template(s, &scope).is_empty(), "{s}");
    }
    let syntax = [
        "{{ workflow.downloaded_packs | map(attribute='pack_path') | list }}",
        "{{ workflow.rollback_initiated ? 'rolled_back' : 'success' }}",
        "{{ parameters.regions | slice(start=1) }}",
    ];
    for s in syntax {
        let issues = check_template(s, &scope);
        assert_eq!(issues.len(), 1, "{s}");
        assert_eq!(issues[0].code, SYNTAX, "{s}");
    }
}

// --------------------------------------------------------- constant folding

#[test]
fn check_condition_parses_a_one_block_condition_once_for_both_answers() {
    let f = Fixture::new();
    let scope = f.scope(false);
    for s in [
        "{{ 1 == 1 }}",
        " {{ true }} ",
        "{{ succeeded() and vars.x }}",
        "{{ parameters.nope }}",
        "{{ 1 + }}",
        "plain text",
        "",
        "{{ a }} and {{ b }}",
        "{{ not false }}",
    ] {
        assert_eq!(
            check_condition(s, &scope),
            (check_template(s, &scope), constant_condition(s)),
            "{s:?}"
        );
    }
}

#[test]
fn constant_conditions_fold() {
    assert_eq!(constant_condition("always"), Some(true));
    assert_eq!(constant_condition("false"), Some(true));
    assert_eq!(constant_condition(""), None);
    assert_eq!(constant_condition("{{ true }}"), Some(true));
    assert_eq!(constant_condition(" {{ False }} "), Some(false));
    assert_eq!(constant_condition("{{ 1 + 1 == 2 }}"), Some(true));
    assert_eq!(constant_condition("{{ 'a' in ['b', 'c'] }}"), Some(false));
    assert_eq!(constant_condition("{{ 'ell' in 'hello' }}"), Some(true));
    assert_eq!(constant_condition("{{ not null }}"), Some(true));
    assert_eq!(constant_condition("{{ [] }}"), Some(false));
    assert_eq!(constant_condition("{{ {'a': 0}['a'] }}"), Some(false));
    assert_eq!(
        constant_condition("{{ 7 % 3 == 1 and 1.5 < 2 }}"),
        Some(true)
    );
    assert_eq!(constant_condition("{{ -7 % 3 == 2 }}"), Some(true));
    assert_eq!(constant_condition("{{ 0 or '' }}"), Some(false));
    // Anything that depends on run-time data or fails is not constant.
    assert_eq!(constant_condition("{{ succeeded() }}"), None);
    assert_eq!(constant_condition("{{ parameters.force }}"), None);
    assert_eq!(constant_condition("{{ true and x }}"), None);
    assert_eq!(constant_condition("{{ 1 / 0 }}"), None);
    assert_eq!(constant_condition("{{ 9223372036854775807 + 1 }}"), None);
    assert_eq!(constant_condition("{{ 1 + }}"), None);
    assert_eq!(constant_condition("{{ true }} {{ true }}"), None);
    assert_eq!(constant_condition("x {{ true }}"), None);
    assert_eq!(constant_condition("{{ true"), None);
}

// ------------------------------------------------------------------ limits

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for open in ["(", "[", "-", "not ", "{'a': "] {
        let src = open.repeat(100_000);
        let e = perr(&src);
        assert_eq!(e.message, "expression nested too deeply", "{open}");
    }
    // Long flat chains build tall trees; they are refused too.
    let chain = vec!["1"; 50_000].join(" + ");
    assert_eq!(perr(&chain).message, "expression nested too deeply");
    let calls = "f".to_string() + &"()".repeat(50_000);
    assert_eq!(perr(&calls).message, "expression nested too deeply");
    let members = "a".to_string() + &".b".repeat(50_000);
    assert_eq!(perr(&members).message, "expression nested too deeply");
    // Through check_template as well.
    let s = format!("{{{{ {} }}}}", "(".repeat(10_000));
    assert_eq!(check(&s)[0].message, "expression nested too deeply");
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let depth = MAX_DEPTH - 2;
    let src = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(p(&src), "1");
    let src = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&src).is_ok());
    let chain = vec!["1"; 100].join(" + ");
    assert!(parse(&chain).is_ok());
}

#[test]
fn deepest_accepted_nesting_of_every_kind_fits_a_test_thread_stack() {
    // Test threads have 2 MiB of stack, like rayon workers: the deepest
    // expression the parser accepts must parse, check, fold and print there.
    let d = MAX_DEPTH - 2;
    let cases = [
        format!("{}1{}", "(".repeat(d), ")".repeat(d)),
        format!("{}1{}", "[".repeat(d), "]".repeat(d)),
        format!("{}1{}", "{1: ".repeat(d), "}".repeat(d)),
        format!("{}1{}", "f(".repeat(d), ")".repeat(d)),
        format!("{}1{}", "a[".repeat(d), "]".repeat(d)),
        format!("{}1", "-".repeat(d)),
        format!("{}true", "not ".repeat(d)),
        format!("{}1{}", "(1 + ".repeat(d / 2), ")".repeat(d / 2)),
    ];
    for src in &cases {
        let e = parse(src).unwrap_or_else(|e| panic!("{}: {e:?}", &src[..20]));
        let printed = e.to_string();
        assert!(parse(&printed).is_ok());
        let s = format!("{{{{ {src} }}}}");
        let _ = check(&s);
        let _ = constant_condition(&s);
    }
}

#[test]
fn an_unbalanced_block_ends_at_the_first_closing_braces() {
    // Each block holds an unterminated string; each is reported on its own.
    let s = r"{{ \' }} {{ \' }} {{ \' }}";
    let issues = check(s);
    assert_eq!(issues.len(), 3, "{issues:#?}");
    assert!(issues.iter().all(|i| i.code == SYNTAX));
    let s = "{{ { }} {{ 1 }}";
    let issues = check(s);
    assert_eq!(issues.len(), 1, "{issues:#?}");
}

#[test]
fn has_template_is_exact() {
    assert!(!has_template(""));
    assert!(!has_template("plain { text }"));
    assert!(!has_template("{"));
    assert!(has_template("{{"));
    assert!(has_template("a {{ x }}"));
    assert!(has_template("{% if %}"));
    assert!(has_template("{ {{"));
}

// ------------------------------------------------------------- properties

fn arb_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}".prop_filter("not a keyword", |s| {
        !matches!(
            s.as_str(),
            "and" | "or" | "not" | "in" | "is" | "if" | "else" | "true" | "false" | "null"
        )
    })
}

fn leaf() -> impl Strategy<Value = ExprKind> {
    prop_oneof![
        Just(ExprKind::Null),
        any::<bool>().prop_map(ExprKind::Bool),
        (0i64..=i64::MAX).prop_map(ExprKind::Int),
        (0f64..1e300).prop_map(ExprKind::Float),
        ".*".prop_map(ExprKind::Str),
        arb_name().prop_map(ExprKind::Name),
    ]
}

fn mk(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_map(mk).prop_recursive(6, 64, 4, |inner| {
        let binop = prop_oneof![
            Just(BinOp::Or),
            Just(BinOp::And),
            Just(BinOp::Eq),
            Just(BinOp::Ne),
            Just(BinOp::Lt),
            Just(BinOp::Gt),
            Just(BinOp::Le),
            Just(BinOp::Ge),
            Just(BinOp::In),
            Just(BinOp::NotIn),
            Just(BinOp::Add),
            Just(BinOp::Sub),
            Just(BinOp::Mul),
            Just(BinOp::Div),
            Just(BinOp::Mod),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| mk(ExprKind::List(v))),
            prop::collection::vec((inner.clone(), inner.clone()), 0..3)
                .prop_map(|v| mk(ExprKind::Map(v))),
            (inner.clone(), arb_name()).prop_map(|(e, n)| mk(ExprKind::Member(
                Box::new(e),
                Ident {
                    name: n,
                    span: Span::default()
                }
            ))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| mk(ExprKind::Index(Box::new(a), Box::new(b)))),
            (inner.clone(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| mk(ExprKind::Call(Box::new(f), args))),
            inner
                .clone()
                .prop_map(|e| mk(ExprKind::Unary(UnaryOp::Neg, Box::new(e)))),
            inner
                .clone()
                .prop_map(|e| mk(ExprKind::Unary(UnaryOp::Not, Box::new(e)))),
            (binop, inner.clone(), inner).prop_map(|(op, a, b)| mk(ExprKind::Binary(
                op,
                Box::new(a),
                Box::new(b)
            ))),
        ]
    })
}

/// Resets every span so trees can be compared by shape.
fn strip(e: &mut Expr) {
    e.span = Span::default();
    match &mut e.kind {
        ExprKind::List(items) => items.iter_mut().for_each(strip),
        ExprKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            strip(k);
            strip(v);
        }),
        ExprKind::Member(obj, field) => {
            strip(obj);
            field.span = Span::default();
        }
        ExprKind::Index(a, b) => {
            strip(a);
            strip(b);
        }
        ExprKind::Call(f, args) => {
            strip(f);
            args.iter_mut().for_each(strip);
        }
        ExprKind::Unary(_, x) => strip(x),
        ExprKind::Binary(_, a, b) => {
            strip(a);
            strip(b);
        }
        _ => {}
    }
}

/// Characters that exercise the lexer and the block scanner.
fn template_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{{".to_string()),
            Just("}}".to_string()),
            Just("{%".to_string()),
            Just("%}".to_string()),
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just(" | ".to_string()),
            Just("parameters.".to_string()),
            Just("task.".to_string()),
            Just("item".to_string()),
            Just("not in".to_string()),
            "[-+*/%<>=!(){}\\[\\],:.a-z0-9 é→]{1,3}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_the_same_tree(e in arb_expr()) {
        let printed = e.to_string();
        let mut back = parse(&printed).map_err(|err| {
            TestCaseError::fail(format!("{printed:?} failed: {err:?}"))
        })?;
        strip(&mut back);
        prop_assert_eq!(back, e, "printed as {}", printed);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = parse(&s);
        let f = Fixture::new();
        for issue in f.check(&s, false) {
            prop_assert!(issue.offset + issue.len <= s.len());
            prop_assert!(s.is_char_boundary(issue.offset));
        }
        let _ = constant_condition(&s);
        let _ = has_template(&s);
    }

    #[test]
    fn template_like_strings_never_panic_and_offsets_are_in_bounds(s in template_text()) {
        let f = Fixture::new();
        for in_iteration in [false, true] {
            for issue in f.check(&s, in_iteration) {
                prop_assert!(issue.offset + issue.len <= s.len(), "{:?} {:?}", s, issue);
                prop_assert!(s.is_char_boundary(issue.offset), "{:?} {:?}", s, issue);
                prop_assert!(s.is_char_boundary(issue.offset + issue.len), "{:?} {:?}", s, issue);
                prop_assert!(!issue.message.is_empty());
            }
        }
        let _ = constant_condition(&s);
        if let Ok(e) = parse(&s) {
            // Whatever parses prints to something that parses to the same tree.
            let mut a = e.clone();
            strip(&mut a);
            let mut b = parse(&e.to_string()).map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
            strip(&mut b);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn the_dotted_name_fast_path_matches_the_parser(
        segs in prop::collection::vec(
            prop_oneof![
                Just("parameters".to_string()),
                Just("app_nme".to_string()),
                Just("task".to_string()),
                Just("verfy".to_string()),
                Just("vars".to_string()),
                Just("item".to_string()),
                Just("not".to_string()),
                Just("true".to_string()),
                Just("1".to_string()),
                Just("".to_string()),
                arb_name(),
            ],
            1..5,
        ),
        pad in prop_oneof![Just(""), Just(" "), Just("\t\n ")],
        in_iteration in any::<bool>(),
        known in any::<bool>(),
    ) {
        let s = format!("x {{{{{pad}{}{pad}}}}} y", segs.join("."));
        let f = Fixture::new();
        let scope = ExprScope {
            parameters: known.then_some(&f.params),
            vars: &f.vars,
            tasks: &f.tasks,
            in_iteration,
        };
        prop_assert_eq!(check_template(&s, &scope), check_template_reference(&s, &scope));
    }

    #[test]
    fn fast_and_reference_checks_agree_on_template_like_text(s in template_text()) {
        let f = Fixture::new();
        let scope = f.scope(false);
        prop_assert_eq!(check_template(&s, &scope), check_template_reference(&s, &scope));
    }

    #[test]
    fn check_condition_is_check_template_plus_constant_condition(s in template_text()) {
        let f = Fixture::new();
        let scope = f.scope(false);
        prop_assert_eq!(
            check_condition(&s, &scope),
            (check_template(&s, &scope), constant_condition(&s))
        );
    }

    #[test]
    fn strings_without_braces_have_no_issues(s in "[^{]*") {
        prop_assert!(!has_template(&s));
        prop_assert!(check(&s).is_empty());
        prop_assert_eq!(constant_condition(&s), (!s.is_empty()).then_some(true));
    }
}

// ------------------------------------------------------------ real corpus

/// Every string value in a YAML document, depth-first.
fn strings(v: &serde_yaml_ng::Value, out: &mut Vec<String>) {
    match v {
        serde_yaml_ng::Value::String(s) => out.push(s.clone()),
        serde_yaml_ng::Value::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
        serde_yaml_ng::Value::Mapping(m) => m.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        serde_yaml_ng::Value::Tagged(t) => strings(&t.value, out),
        _ => {}
    }
}

/// Every `name:` value under a `tasks:` list, at any depth.
fn task_names(v: &serde_yaml_ng::Value, out: &mut HashSet<String>) {
    match v {
        serde_yaml_ng::Value::Sequence(items) => items.iter().for_each(|i| task_names(i, out)),
        serde_yaml_ng::Value::Mapping(m) => {
            if let Some(serde_yaml_ng::Value::Sequence(tasks)) = m.get("tasks") {
                for t in tasks {
                    if let Some(serde_yaml_ng::Value::String(n)) = t.get("name") {
                        out.insert(n.clone());
                    }
                }
            }
            m.values().for_each(|v| task_names(v, out));
        }
        _ => {}
    }
}

#[test]
fn real_workflow_files_give_pinned_expression_verdicts() {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/attune");
    // (file, expression-syntax, unknown-function, unknown-variable): the
    // syntax errors are Jinja filters and one `?:`; the unknown functions are
    // `now()` and `uuid()`.
    let expected: &[(&str, usize, usize, usize)] = &[
        ("examples/complete-workflow.yaml", 13, 0, 0),
        ("examples/simple-workflow.yaml", 0, 0, 0),
        ("packs/test_pack/workflows/simple_workflow.yaml", 0, 0, 0),
        ("packs/core/workflows/install_packs.yaml", 8, 2, 0),
    ];
    let mut got = Vec::new();
    for (file, ..) in expected {
        let text = std::fs::read_to_string(base.join(file)).unwrap_or_else(|e| {
            panic!(
                "read {file}: {e} (tests/corpus/attune is a verbatim copy of the upstream corpus)"
            )
        });
        let doc: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut tasks = HashSet::new();
        task_names(&doc, &mut tasks);
        let vars: HashSet<String> = match doc.get("vars") {
            Some(serde_yaml_ng::Value::Mapping(m)) => m
                .keys()
                .filter_map(|k| k.as_str())
                .map(str::to_string)
                .collect(),
            _ => HashSet::new(),
        };
        let scope = ExprScope {
            parameters: None,
            vars: &vars,
            tasks: &tasks,
            in_iteration: true,
        };
        let mut all = Vec::new();
        strings(&doc, &mut all);
        let mut counts = (0, 0, 0);
        for s in &all {
            for issue in check_template(s, &scope) {
                match issue.code {
                    SYNTAX => {
                        assert!(
                            issue.message.contains("jinja filters")
                                || issue.message.contains("'?:'"),
                            "{file}: {issue:?}"
                        );
                        counts.0 += 1;
                    }
                    UNKNOWN_FUNCTION => counts.1 += 1,
                    _ => counts.2 += 1,
                }
            }
        }
        got.push((*file, counts.0, counts.1, counts.2));
    }
    assert_eq!(got, expected);
}
