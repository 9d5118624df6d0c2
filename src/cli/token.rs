//! `attune token --user NAME [--ttl 1h]`: mint an access token for scripts.

use anyhow::Context;

use super::user::DbArgs;
use crate::auth::{self, TokenKeys, TokenType};

/// Flags of `attune token`.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// Login of the user the token acts as
    #[arg(long)]
    pub user: String,
    /// Lifetime: seconds, or a number with s, m, h or d (default: auth.access_token_ttl)
    #[arg(long)]
    pub ttl: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Prints an access token on stdout.
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let (store, config) = args.db.open_store(
        "get a token over the API instead (POST /auth/login), or stop the server first",
    )?;
    let ttl = match &args.ttl {
        Some(t) => crate::config::parse_duration_secs(t).with_context(|| {
            format!("invalid value '{t}' for --ttl: expected seconds or a number with s, m, h or d (\"1h\")")
        })?,
        None => config.auth.access_token_ttl,
    };
    let user = store.user_by_login(&args.user)?.with_context(|| {
        format!(
            "no user '{}'; create it with 'attune user add {}'",
            args.user, args.user
        )
    })?;
    let secret = match &config.auth.jwt_secret {
        Some(s) => s.expose().as_bytes().to_vec(),
        None => store.jwt_secret_or_insert(auth::random_bytes(32)?)?,
    };
    let keys = TokenKeys::from_secret(&secret);
    let token = keys.issue(user.id, &user.login, user.token_gen, TokenType::Access, ttl)?;
    println!("{token}");
    Ok(())
}
