//! One-thread validate throughput of a pack folder against the floor,
//! measured in the same process on the same bytes (scripts/bench.sh):
//! the floor is libyaml-based `serde_yaml_ng` parsing into
//! `serde_json::Value`; the attune row is the full parse + validate that a
//! sync runs (catalog from the pack's `actions/` plus the built-ins).
//! Rounds alternate the rows (floor, YAML layer, `check`, `validate`) so
//! load changes hit all alike; the medians are printed as one line of
//! `key=value` pairs (`ratio` is the floor's time over `validate`'s).
//!
//! Usage: `cargo run --release --example validate_throughput -- PACK_DIR
//! [ROUNDS]` (the pack's ref is the folder name).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The appliance's allocator (src/main.rs), so both rows run on what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use attune::pack::{PackCatalog, add_pack, list_workflow_files};
use attune::workflow::{BuiltinCatalog, LayeredCatalog, SourceContext, validate};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: validate_throughput PACK_DIR [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let pack_ref = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let files = match list_workflow_files(&dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot list {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let mut texts = Vec::with_capacity(files.len());
    for f in &files {
        match std::fs::read_to_string(&f.path) {
            Ok(t) => texts.push((f.name.clone(), t)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let mut pc = PackCatalog::default();
    add_pack(&mut pc, &dir, &pack_ref, 1 << 20);
    let builtin = BuiltinCatalog::new();
    let catalog = LayeredCatalog::new(vec![&pc, &builtin]);

    // Rows, each timed in every round, in turn: the floor, then attune's
    // YAML layer alone, `check` (all rules, diagnostics only: what
    // `attune validate` and validation runs do) and `validate` (all rules
    // plus the normalized definition: what a sync stores).
    let mut floor = Vec::new();
    let mut yaml = Vec::new();
    let mut check = Vec::new();
    let mut full = Vec::new();
    let mut errors = 0usize;
    for _ in 0..rounds {
        let t = Instant::now();
        for (_, text) in &texts {
            let v: Result<serde_json::Value, _> = serde_yaml_ng::from_str(text);
            std::hint::black_box(v.is_ok());
        }
        floor.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for (_, text) in &texts {
            let d = attune::workflow::yaml::parse(text, &Default::default());
            std::hint::black_box(d.is_ok());
        }
        yaml.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for (name, text) in &texts {
            let ctx = SourceContext {
                pack_ref: &pack_ref,
                name,
                file: None,
            };
            let v = attune::workflow::check(text.as_bytes(), &ctx, &catalog);
            std::hint::black_box(v.has_errors());
        }
        check.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        errors = 0;
        for (name, text) in &texts {
            let ctx = SourceContext {
                pack_ref: &pack_ref,
                name,
                file: None,
            };
            let v = validate(text.as_bytes(), &ctx, &catalog);
            errors += usize::from(v.workflow.is_none());
            std::hint::black_box(v.workflow.is_some());
        }
        full.push(t.elapsed().as_secs_f64());
    }
    let (f, y, c, a) = (median(floor), median(yaml), median(check), median(full));
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "files={} bytes={} rounds={} floor_s={:.4} floor_mibs={:.2} yaml_s={:.4} yaml_ratio={:.3} check_s={:.4} check_mibs={:.2} check_ratio={:.3} attune_s={:.4} attune_mibs={:.2} attune_files_per_s={:.0} ratio={:.3} invalid={}",
        texts.len(),
        bytes,
        rounds,
        f,
        mib / f,
        y,
        f / y,
        c,
        mib / c,
        f / c,
        a,
        mib / a,
        texts.len() as f64 / a,
        f / a,
        errors
    );
    ExitCode::SUCCESS
}
