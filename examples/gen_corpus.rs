//! Writes a deterministic corpus of generated packs to disk for the
//! benchmarks (scripts/bench.sh): `N` packs × `M` workflows (5–30 tasks
//! each, see `attune_workflow::generator`), each pack with its `pack.yaml` and
//! the `actions/*.yaml` its workflows call. Same arguments, same bytes.
//!
//! Usage: `cargo run --example gen_corpus -- OUT_DIR [--packs N]
//! [--workflows M] [--seed S] [--broken PCT] [--name REF]`. One pack is named `bench`
//! (or REF); several are named `p000`, `p001`, ...

use attune::workflow::generator as gen_support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    out: PathBuf,
    packs: usize,
    workflows: usize,
    seed: u64,
    broken: u64,
    name: String,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut out = None;
    let mut a = Args {
        out: PathBuf::new(),
        packs: 1,
        workflows: 1000,
        seed: 42,
        broken: 0,
        name: "bench".to_string(),
    };
    while let Some(arg) = it.next() {
        let mut num = |flag: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{flag} needs a number"))
        };
        match arg.as_str() {
            "--packs" => a.packs = num("--packs")? as usize,
            "--workflows" => a.workflows = num("--workflows")? as usize,
            "--seed" => a.seed = num("--seed")?,
            "--broken" => a.broken = num("--broken")?.min(100),
            "--name" => a.name = it.next().ok_or("--name needs a pack ref")?,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => out = Some(PathBuf::from(s)),
        }
    }
    a.out = out.ok_or("usage: gen_corpus OUT_DIR [--packs N] [--workflows M] [--seed S] [--broken PCT] [--name REF]")?;
    Ok(a)
}

fn write_pack(out: &Path, pack_ref: &str, a: &Args, seed: u64) -> std::io::Result<usize> {
    let dir = out.join(pack_ref);
    std::fs::create_dir_all(dir.join("workflows"))?;
    std::fs::create_dir_all(dir.join("actions"))?;
    std::fs::write(
        dir.join("pack.yaml"),
        format!("ref: {pack_ref}\nlabel: \"Generated pack {pack_ref}\"\nversion: \"1.0.0\"\n"),
    )?;
    for (name, text) in gen_support::action_files(pack_ref) {
        std::fs::write(dir.join("actions").join(name), text)?;
    }
    let mut bytes = 0;
    for (name, text) in gen_support::pack_named(pack_ref, a.workflows, seed, a.broken) {
        bytes += text.len();
        std::fs::write(dir.join("workflows").join(format!("{name}.yaml")), text)?;
    }
    Ok(bytes)
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut total = 0usize;
    for p in 0..a.packs {
        let pack_ref = if a.packs == 1 {
            a.name.clone()
        } else {
            format!("p{p:03}")
        };
        match write_pack(&a.out, &pack_ref, &a, a.seed.wrapping_add(p as u64)) {
            Ok(b) => total += b,
            Err(e) => {
                eprintln!(
                    "error: cannot write {}: {e}",
                    a.out.join(&pack_ref).display()
                );
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "{} packs x {} workflows, {} bytes of workflow YAML in {}",
        a.packs,
        a.workflows,
        total,
        a.out.display()
    );
    ExitCode::SUCCESS
}
