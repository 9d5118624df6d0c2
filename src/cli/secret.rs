//! `attune rotate-jwt-secret`: replace the JWT signing secret kept in the
//! database (offline), so that every token issued before is refused.

use super::user::DbArgs;
use crate::auth;

/// Flags of `attune rotate-jwt-secret`.
#[derive(Debug, Clone, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub db: DbArgs,
}

/// Stores a fresh random secret and says what it means.
pub fn run(args: RotateArgs) -> anyhow::Result<()> {
    let (store, config) = args.db.open_store(
        "stop the server (systemctl stop attune), run the command again, then start it",
    )?;
    store.replace_jwt_secret(&auth::random_bytes(32)?)?;
    eprintln!("the JWT secret in the database was replaced; every token issued before is refused");
    if config.auth.jwt_secret.is_some() {
        eprintln!(
            "note: auth.jwt_secret is configured and takes precedence over the database secret; \
             change or remove it to rotate the secret the server uses"
        );
    }
    Ok(())
}
