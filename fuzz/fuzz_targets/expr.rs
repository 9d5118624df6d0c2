//! Fuzz target for the expression language (`attune_workflow::expr`).
//!
//! Feeds arbitrary text to `parse`, `check_template`, `constant_condition` and
//! `has_template`, and checks the invariants the validator relies on: no
//! panic, no hang, issue offsets inside the string and on char boundaries,
//! nothing reported for a string `has_template` rejects, the dotted-name fast
//! path agreeing with the full parser, and every parsed
//! expression printing to text that parses back to the same tree.
#![no_main]

use foldhash::HashSet;

use libfuzzer_sys::fuzz_target;

use attune_workflow::expr::{self, Expr, ExprKind, ExprScope, Span};

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

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
    let params = names(&["app_name", "version", "force"]);
    let vars = names(&["counter", "start_time"]);
    let tasks = names(&["build", "deploy", "verify"]);

    for (parameters, in_iteration) in [(Some(&params), false), (None, true)] {
        let scope = ExprScope {
            parameters,
            vars: &vars,
            tasks: &tasks,
            in_iteration,
        };
        let issues = expr::check_template(s, &scope);
        assert_eq!(
            issues,
            expr::check_template_reference(s, &scope),
            "the fast path disagrees with the parser"
        );
        if !expr::has_template(s) {
            assert!(issues.is_empty(), "issues without a template: {issues:?}");
        }
        for i in &issues {
            assert!(i.offset + i.len <= s.len(), "{i:?}");
            assert!(s.is_char_boundary(i.offset), "{i:?}");
            assert!(s.is_char_boundary(i.offset + i.len), "{i:?}");
            assert!(!i.message.is_empty());
        }
    }
    let _ = expr::constant_condition(s);

    if let Ok(mut e) = expr::parse(s) {
        let printed = e.to_string();
        let mut back = match expr::parse(&printed) {
            Ok(b) => b,
            Err(err) => panic!("{s:?} printed as {printed:?} which fails: {err:?}"),
        };
        strip(&mut e);
        strip(&mut back);
        assert!(e == back, "{s:?} printed as {printed:?} parses differently");
    }
});
