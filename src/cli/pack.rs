//! `attune pack build DIR -o FILE`: validates a pack folder offline (its
//! `pack.yaml`, then every workflow as `attune validate` does) and, when
//! nothing is an error, writes the folder's deterministic `.tar.gz` — the
//! same bytes `GET /api/v1/packs/{ref}/archive` answers for the same folder.
//! Exit 1 on errors (no file is written then).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::validate::{DEFAULT_RULES_URL, Format, ValidateArgs, run_validate, write_one};
use crate::pack::{archive, manifest};

/// `attune pack …`
#[derive(Debug, clap::Subcommand)]
pub enum PackCommand {
    /// Validate a pack folder, then write its deterministic .tar.gz (for
    /// POST /api/v1/packs/upload); exit 1 on errors
    Build(BuildArgs),
}

/// Arguments of `attune pack build`.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// The pack folder (holding pack.yaml); its name must be the pack's ref
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The archive to write
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
    /// Largest file read, in bytes (max_workflow_file_bytes)
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    pub max_file_bytes: u64,
    /// A packs folder of the pack's dependencies, as for `attune validate
    /// --packs-path` (repeatable)
    #[arg(long = "packs-path", value_name = "DIR")]
    pub packs_path: Vec<PathBuf>,
}

/// Runs a pack command; returns the exit status.
pub fn run(cmd: &PackCommand, out: &mut dyn Write) -> anyhow::Result<i32> {
    match cmd {
        PackCommand::Build(args) => build(args, out),
    }
}

fn build(args: &BuildArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let dir = std::fs::canonicalize(&args.dir)
        .with_context(|| format!("cannot open the pack folder {}", args.dir.display()))?;
    if !dir.is_dir() {
        anyhow::bail!("{} is not a folder", args.dir.display());
    }
    let shown = args.dir.join(manifest::MANIFEST_FILE).display().to_string();
    let load = manifest::load_manifest(&dir, None, args.max_file_bytes);
    for d in &load.diagnostics {
        write_one(out, &shown, load.source.as_deref(), d)?;
    }
    let Some(m) = load.manifest.as_ref() else {
        writeln!(out, "{shown}: not a valid pack; no archive written")?;
        return Ok(1);
    };
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if folder != m.pack_ref.as_str() {
        writeln!(
            out,
            "error: the folder is named '{folder}' but pack.yaml says ref '{}'; rename the folder to its ref (workflow refs are checked against it)",
            m.pack_ref
        )?;
        return Ok(1);
    }
    let status = run_validate(
        &ValidateArgs {
            paths: vec![dir.clone()],
            format: Format::Text,
            max_file_bytes: args.max_file_bytes,
            rules_url: DEFAULT_RULES_URL.to_string(),
            packs_path: args.packs_path.clone(),
        },
        out,
    )?;
    if status != 0 {
        writeln!(out, "no archive written: fix the errors above")?;
        return Ok(status);
    }
    let tmp = args.out.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    archive::build_tar_gz(&dir, m.pack_ref.as_str(), &mut w)
        .with_context(|| format!("cannot archive {}", args.dir.display()))?;
    let file = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", tmp.display(), e.error()))?;
    file.sync_all()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let bytes = std::fs::read(&args.out).unwrap_or_default();
    writeln!(
        out,
        "wrote {} ({} bytes, sha256 {}): pack '{}' version {}",
        args.out.display(),
        bytes.len(),
        crate::sync::content_hash(&bytes),
        m.pack_ref,
        m.version
    )?;
    Ok(0)
}
