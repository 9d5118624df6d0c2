//! Where the validator's peak working memory comes from (issue 18): peak
//! live heap bytes, counted by a wrapping allocator, for the YAML layer
//! alone, `check` (diagnostics only), `validate` (with the normalized
//! definition as a `serde_json::Value` tree) and `validate_json` (with the
//! definition as JSON text), on the flood's text shape (a chain of tasks,
//! scripts/lib/flood.py) at 1 KiB … 1 MiB. Peak: the most bytes live at
//! once during the call, above those live before it, over the text's size;
//! kept: what the result still holds. Requested sizes, so the allocator's
//! own rounding is not in it (compare `examples/validate_memory.rs`, RSS).
//!
//! Usage: `cargo run --release -p attune-workflow --example memory_stages`

/// Counts live heap bytes and their peak (reset before each measurement).
#[global_allocator]
static ALLOC: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

fn text_of(target: usize) -> String {
    let mut s = String::from("label: \"Flood\"\nversion: \"1.0.0\"\ntasks:\n");
    let mut i = 0;
    loop {
        let task = format!(
            "  - name: t{i:05}\n    action: core.noop\n    on_success: t{:05}\n",
            i + 1
        );
        if s.len() + task.len() + 60 > target {
            break;
        }
        s.push_str(&task);
        i += 1;
    }
    s.push_str(&format!("  - name: t{i:05}\n    action: core.noop\n"));
    s
}

/// Peak live bytes above the level before `f`, and what `f` kept.
fn measure<T>(f: impl FnOnce() -> T) -> (usize, usize, T) {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let out = f();
    (
        ALLOC.peak_usage().saturating_sub(base),
        ALLOC.current_usage().saturating_sub(base),
        out,
    )
}

fn main() {
    use attune_workflow::{BuiltinCatalog, SourceContext, check, validate, validate_json, yaml};
    let ctx = SourceContext {
        pack_ref: "flood",
        name: "big",
        file: None,
    };
    let cat = BuiltinCatalog::new();
    println!(
        "| text (bytes) | tasks | yaml peak (kept) | check peak | validate peak (kept) | validate_json peak (kept) |"
    );
    println!("|---|---|---|---|---|---|");
    for kib in [1usize, 16, 256, 1024] {
        let text = text_of(kib * 1024);
        let n = text.len() as f64;
        let x = |b: usize| format!("{:.1}×", b as f64 / n);
        let (yp, yk, d) = measure(|| yaml::parse(&text, &yaml::Limits::default()));
        drop(d);
        let (cp, _, c) = measure(|| check(text.as_bytes(), &ctx, &cat));
        drop(c);
        let (vp, vk, v) = measure(|| validate(text.as_bytes(), &ctx, &cat));
        assert!(v.workflow.is_some());
        drop(v);
        let (jp, jk, j) = measure(|| validate_json(text.as_bytes(), &ctx, &cat));
        assert!(j.definition.is_some());
        drop(j);
        println!(
            "| {} | {} | {} ({}) | {} | {} ({}) | {} ({}) |",
            text.len(),
            text.matches("- name:").count(),
            x(yp),
            x(yk),
            x(cp),
            x(vp),
            x(vk),
            x(jp),
            x(jk)
        );
    }
}
