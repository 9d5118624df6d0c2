//! `attune backup --out FILE`: an offline copy of the database. While a
//! server holds the database, points to the online endpoint instead.

use std::path::PathBuf;

use super::user::DbArgs;
use crate::store::StoreError;
use crate::store::backup::{self, BackupError};

/// Flags of `attune backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// File to write the copy to (a redb database file)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite FILE when it exists
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Writes the copy and reports what it holds on stderr.
pub fn run(args: BackupArgs) -> anyhow::Result<()> {
    let config = args.db.load_config()?;
    match backup::backup_offline(&config.data_dir, &args.out, args.force) {
        Ok(summary) => {
            eprintln!(
                "backup written to {} (schema version {}; {})",
                args.out.display(),
                summary.schema_version,
                summary.describe()
            );
            Ok(())
        }
        Err(BackupError::Store(StoreError::InUse { .. })) => Err(anyhow::anyhow!(
            "the database is in use by a running attune server; back it up online instead: \
             curl -fsS -H \"Authorization: Bearer $TOKEN\" -o {} http://{}/api/v1/admin/backup \
             (a token comes from POST /auth/login)",
            shell_word(&args.out.display().to_string()),
            super::server_address(&config)
        )),
        Err(e) => Err(e.into()),
    }
}

/// `s` quoted for a shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn file_names_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(shell_word("/var/backups/a.redb"), "/var/backups/a.redb");
        assert_eq!(shell_word("my backup.redb"), "'my backup.redb'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
