//! `attune restore FILE`: replace the database with a backup, offline.
//! Refuses while a server holds the database; checks the file before the
//! atomic swap; keeps the previous database as `attune.redb.bak`.

use std::path::PathBuf;

use super::user::DbArgs;
use crate::store::StoreError;
use crate::store::backup::{self, BackupError};

/// Flags of `attune restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// Backup file (from `attune backup` or GET /api/v1/admin/backup)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Restores and reports what the database now holds on stderr.
pub fn run(args: RestoreArgs) -> anyhow::Result<()> {
    let config = args.db.load_config()?;
    match backup::restore(&config.data_dir, &args.file) {
        Ok(restored) => {
            let migrated = if restored.backup_schema_version < restored.summary.schema_version {
                format!(
                    "; migrated from schema version {} to {}",
                    restored.backup_schema_version, restored.summary.schema_version
                )
            } else {
                String::new()
            };
            eprintln!(
                "restored {} into {} ({}{migrated})",
                args.file.display(),
                config.data_dir.display(),
                restored.summary.describe()
            );
            if let Some(previous) = restored.previous {
                eprintln!("the previous database was kept as {}", previous.display());
            }
            eprintln!(
                "backups carry no token signing secret: the server makes a new one at its next \
                 start, so every token issued before is refused and everyone logs in again"
            );
            Ok(())
        }
        Err(BackupError::Store(StoreError::InUse { path })) => Err(anyhow::anyhow!(
            "the database is in use by a running attune server ({}); stop the server \
             (systemctl stop attune), run attune restore again, then start it",
            path.display()
        )),
        Err(e) => Err(e.into()),
    }
}
