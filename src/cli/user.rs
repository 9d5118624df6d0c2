//! `attune user add|passwd|list|delete`: manage users directly in the
//! database (only while no server holds it), and the `--config`/`--data-dir`
//! flags every database command shares.

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
    /// The configuration named by config file, environment and flags.
    pub fn load_config(&self) -> anyhow::Result<crate::config::Config> {
        let flags = super::flag("data_dir", "--data-dir", self.data_dir.as_ref())
            .into_iter()
            .collect();
        Ok(super::load_config(self.config.clone(), flags)?)
    }

    /// Opens the store named by config/env/flags; a running server is
    /// reported with `what_instead` (what to do about it).
    pub fn open_store(&self, what_instead: &str) -> anyhow::Result<(Store, crate::config::Config)> {
        let config = self.load_config()?;
        let store =
            Store::open(&config.data_dir).map_err(|e| super::in_use_hint(e, what_instead))?;
        Ok((store, config))
    }
}

/// What to do when a server holds the database and the API has no
/// equivalent of the command.
const STOP_THE_SERVER: &str =
    "stop the server (systemctl stop attune), run the command again, then start it";

/// `attune user ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of stdin
    Add {
        /// Login name
        login: String,
        /// Role: viewer, operator or admin (default: admin for the first
        /// user of an empty database, operator otherwise)
        #[arg(long, value_name = "ROLE")]
        role: Option<crate::store::Role>,
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
    /// List users (id, login, created, updated)
    List {
        /// Output format: text (aligned columns) or json
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Delete a user; its tokens stop working (the last user cannot be deleted)
    Delete {
        /// Login name
        login: String,
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
    match cmd {
        UserCommand::Add {
            login,
            role,
            generate,
            db,
        } => {
            auth::check_login(&login)?;
            let (store, _) = db.open_store(
                "while the server runs, an admin adds users over the API (POST /api/v1/users); \
                 otherwise stop the server first",
            )?;
            let (password, generated) = read_password(generate, &login)?;
            let hash = auth::hash_password(&password)?;
            let user = store.create_user_as(&login, &hash, role)?;
            eprintln!("created user '{login}' with role '{}'", user.role);
            if generated {
                println!("{password}");
            }
        }
        UserCommand::Passwd {
            login,
            generate,
            db,
        } => {
            let (store, _) = db.open_store(
                "a user changes their own password over the API (POST /auth/change-password); \
                 to reset another user's, stop the server first",
            )?;
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
        UserCommand::List { format, db } => {
            let (store, _) = db.open_store(STOP_THE_SERVER)?;
            let users = store.list_users()?;
            print!("{}", format_users(&users, &format)?);
        }
        UserCommand::Delete { login, db } => {
            let (store, _) = db.open_store(STOP_THE_SERVER)?;
            store.delete_user(&login).map_err(|e| match e {
                crate::store::StoreError::NotFound(_) => {
                    anyhow::anyhow!("no user '{login}'; list users with 'attune user list'")
                }
                other => other.into(),
            })?;
            eprintln!("deleted user '{login}'; its tokens are no longer valid");
        }
    }
    Ok(())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The users as aligned text columns or a JSON array.
fn format_users(users: &[crate::store::User], format: &str) -> anyhow::Result<String> {
    if format == "json" {
        let rows: Vec<_> = users
            .iter()
            .map(|u| {
                serde_json::json!({
                    "id": u.id,
                    "login": u.login,
                    "role": u.role,
                    "disabled": u.disabled,
                    "created": rfc3339(u.created),
                    "updated": rfc3339(u.updated),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&rows)? + "\n");
    }
    let width = users
        .iter()
        .map(|u| u.login.chars().count())
        .max()
        .unwrap_or(0)
        .max("LOGIN".len());
    let mut out = format!(
        "{:>4}  {:<width$}  {:<8}  {:<8}  {:<25}  UPDATED\n",
        "ID", "LOGIN", "ROLE", "STATE", "CREATED"
    );
    for u in users {
        out.push_str(&format!(
            "{:>4}  {:<width$}  {:<8}  {:<8}  {:<25}  {}\n",
            u.id,
            u.login,
            u.role.as_str(),
            if u.disabled { "disabled" } else { "enabled" },
            rfc3339(u.created),
            rfc3339(u.updated)
        ));
    }
    Ok(out)
}
