//! `attune user add|passwd`: manage users directly in the database (only
//! while no server holds it).

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;

use crate::auth;
use crate::store::Store;

/// Where the database is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DbArgs {
    /// Config file (default: $ATTUNE_CONFIG; none if unset)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the database file attune.redb (data_dir)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
}

impl DbArgs {
    /// Opens the store named by config/env/flags; a running server is
    /// reported with `api_hint`.
    pub fn open_store(&self, api_hint: &str) -> anyhow::Result<(Store, crate::config::Config)> {
        let flags = super::flag("data_dir", "--data-dir", self.data_dir.as_ref())
            .into_iter()
            .collect();
        let config = super::load_config(self.config.clone(), flags)?;
        let store = Store::open(&config.data_dir).map_err(|e| super::in_use_hint(e, api_hint))?;
        Ok((store, config))
    }
}

/// `attune user ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of stdin
    Add {
        /// Login name
        login: String,
        /// Generate a password and print it instead of reading stdin
        #[arg(long)]
        generate: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a user's password (revokes the user's tokens); read from stdin
    Passwd {
        /// Login name
        login: String,
        /// Generate a password and print it instead of reading stdin
        #[arg(long)]
        generate: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn read_password(generate: bool, login: &str) -> anyhow::Result<(String, bool)> {
    if generate {
        return Ok((auth::generate_password()?, true));
    }
    eprintln!("password for '{login}' (read from stdin, one line):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    auth::check_password_rules(&password)?;
    Ok((password, false))
}

/// Runs a user subcommand.
pub fn run(cmd: UserCommand) -> anyhow::Result<()> {
    const HINT: &str = "POST /auth/change-password";
    match cmd {
        UserCommand::Add {
            login,
            generate,
            db,
        } => {
            auth::check_login(&login)?;
            let (store, _) = db.open_store(HINT)?;
            let (password, generated) = read_password(generate, &login)?;
            let hash = auth::hash_password(&password)?;
            store.create_user(&login, &hash)?;
            eprintln!("created user '{login}'");
            if generated {
                println!("{password}");
            }
        }
        UserCommand::Passwd {
            login,
            generate,
            db,
        } => {
            let (store, _) = db.open_store(HINT)?;
            let user = store.user_by_login(&login)?.with_context(|| {
                format!("no user '{login}'; create it with 'attune user add {login}'")
            })?;
            let (password, generated) = read_password(generate, &login)?;
            let hash = auth::hash_password(&password)?;
            store.set_password(user.id, &hash)?;
            eprintln!("password of '{login}' changed; tokens issued before are no longer valid");
            if generated {
                println!("{password}");
            }
        }
    }
    Ok(())
}
