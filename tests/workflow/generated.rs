//! The benchmark's generated pack is realistic and valid: no errors, every
//! workflow registered, so the benchmark measures the full path.

use attune::workflow::generator as gen_support;

use attune::workflow::{BuiltinCatalog, LayeredCatalog, SourceContext, validate};

#[test]
fn the_generated_pack_is_valid() {
    let files = gen_support::pack(200, 7);
    let pc = gen_support::catalog();
    let b = BuiltinCatalog::new();
    let cat = LayeredCatalog::new(vec![&pc, &b]);
    let mut tasks = 0;
    for (name, text) in &files {
        let ctx = SourceContext {
            pack_ref: "bench",
            name,
            file: None,
        };
        let v = validate(text.as_bytes(), &ctx, &cat);
        assert!(
            v.diagnostics.iter().all(|d| !d.is_error()),
            "{name}: {:?}\n{text}",
            v.diagnostics
        );
        assert!(v.diagnostics.is_empty(), "{name}: {:?}", v.diagnostics);
        tasks += v.workflow.map(|w| w.task_count).unwrap_or(0);
    }
    assert!(tasks > 200 * 5);
    assert_eq!(gen_support::pack(3, 7), gen_support::pack(3, 7));
}
