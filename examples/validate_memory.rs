//! Peak working memory of validation per input size (issue 18): for
//! generated workflow texts of 1 KiB to 1 MiB, how far each path raises the
//! process's peak RSS (VmHWM) above its RSS just before it runs, and that
//! over the text's size. Each measurement runs in a fresh child process
//! (this program with `--one PATH KIB`), so one path's freed memory cannot
//! hide another's; the resolution is a page, and allocator set-up shows as
//! a floor of a few hundred KiB at the small sizes.
//!
//! Paths:
//! - `yaml`: the YAML layer alone (the spanned tree);
//! - `check`: the core's rules without the normalized definition;
//! - `validate`: the core with the definition (a `serde_json::Value` tree);
//! - `validate_json`: the core with the definition written as JSON text,
//!   task by task (what a caller that stores or answers text wants);
//! - `endpoint_before`: what `POST /api/v1/workflows/validate` did before
//!   (`sync::prepare_workflow`, which also builds the stored content, then a
//!   clone of the definition for the answer), up to the answer's JSON;
//! - `endpoint_after`: what it does now (`sync::check_text`), up to the
//!   answer's JSON.
//!
//! Usage: `cargo run --release --example validate_memory` (the peak of
//! live heap bytes, without the allocator's rounding and page resolution,
//! per stage: `cargo run --release -p attune-workflow --example
//! memory_stages`)

/// The appliance's allocator (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PATHS: [&str; 6] = [
    "yaml",
    "check",
    "validate",
    "validate_json",
    "endpoint_before",
    "endpoint_after",
];
const SIZES_KIB: [usize; 6] = [1, 4, 16, 64, 256, 1024];

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The flood's text shape (scripts/lib/flood.py): a chain of tasks.
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

/// Runs one path on one size; prints the peak above the baseline in KiB.
fn one(path: &str, kib: usize) {
    use attune::workflow::{BuiltinCatalog, SourceContext, check, validate, validate_json};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = attune::store::Store::open(&dir.path().join("data")).expect("store");
    let packs = dir.path().join("packs");
    std::fs::create_dir_all(&packs).expect("packs dir");
    let limits = attune::sync::SyncLimits {
        max_file_bytes: 2 * 1024 * 1024,
        revisions: attune::store::RevisionPolicy {
            keep: attune::store::revisions::DEFAULT_KEEP,
            max_total: attune::store::revisions::DEFAULT_MAX_TOTAL,
        },
    };
    let ctx = SourceContext {
        pack_ref: "flood",
        name: "big",
        file: None,
    };
    let text = text_of(kib * 1024);
    let cat = BuiltinCatalog::new();
    // "5" resets the peak RSS to the current RSS (Linux 4.0+)
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let base = status_kib("VmRSS:");
    let hwm0 = if reset { base } else { status_kib("VmHWM:") };
    let out = match path {
        "yaml" => attune::workflow::yaml::parse_document(
            &text,
            &attune::workflow::yaml::Limits::default(),
        )
        .is_ok() as usize,
        "check" => check(text.as_bytes(), &ctx, &cat).diagnostics.len(),
        "validate" => validate(text.as_bytes(), &ctx, &cat).workflow.is_some() as usize,
        "validate_json" => validate_json(text.as_bytes(), &ctx, &cat)
            .definition
            .map_or(0, |d| d.len()),
        "endpoint_before" => {
            let p = attune::sync::prepare_workflow(&store, &packs, limits, "flood", "big", &text)
                .expect("store");
            let def = p.validation.workflow.as_ref().map(|w| w.definition.clone());
            serde_json::to_vec(&(def, &p.diagnostics))
                .expect("json")
                .len()
        }
        _ => {
            let c = attune::sync::check_text(&store, &packs, limits, "flood", "big", &text)
                .expect("store");
            serde_json::to_vec(&(&c.definition, &c.diagnostics))
                .expect("json")
                .len()
        }
    };
    let hwm = status_kib("VmHWM:");
    // the peak of this path: above the RSS before it, or above the
    // earlier peak when set-up had peaked higher
    let peak = hwm.saturating_sub(base.max(hwm0));
    println!(
        "{} {} {peak} {out}",
        text.len(),
        text.matches("- name:").count()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--one" {
        one(&args[2], args[3].parse().expect("KiB"));
        return;
    }
    let me = std::env::current_exe().expect("own path");
    println!("| text (bytes) | tasks | {} |", PATHS.join(" | "));
    println!("|---|---|{}", "---|".repeat(PATHS.len()));
    for kib in SIZES_KIB {
        let mut cells = Vec::new();
        let mut shape = (0u64, 0u64);
        for path in PATHS {
            let out = std::process::Command::new(&me)
                .args(["--one", path, &kib.to_string()])
                .output()
                .expect("child");
            let line = String::from_utf8_lossy(&out.stdout);
            let v: Vec<u64> = line
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if v.len() < 3 {
                cells.push("failed".to_string());
                continue;
            }
            shape = (v[0], v[1]);
            cells.push(format!(
                "{} KiB ({:.1}×)",
                v[2],
                (v[2] * 1024) as f64 / v[0] as f64
            ));
        }
        println!("| {} | {} | {} |", shape.0, shape.1, cells.join(" | "));
    }
}
