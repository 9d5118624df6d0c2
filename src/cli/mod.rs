//! Command implementations; `src/main.rs` parses arguments and calls in.

pub mod schema;
pub mod serve;
pub mod token;
pub mod user;
pub mod validate;

use std::path::PathBuf;

use crate::config::{Config, ConfigError, FlagValue, Sources};

/// Loads the configuration from the process environment, `config_flag`
/// and the given flags.
pub fn load_config(
    config_flag: Option<PathBuf>,
    flags: Vec<FlagValue>,
) -> Result<Config, ConfigError> {
    let sources = Sources {
        config_flag,
        env: Sources::process_env()?,
        flags,
    };
    Config::load(&sources)
}

/// `Some(flag)` when a flag was given.
pub(crate) fn flag(
    key: &'static str,
    flag: &'static str,
    value: Option<&String>,
) -> Option<FlagValue> {
    value.map(|v| FlagValue {
        key,
        flag,
        value: v.clone(),
    })
}

/// Message for commands that need the database while a server holds it.
pub(crate) fn in_use_hint(err: crate::store::StoreError, api_hint: &str) -> anyhow::Error {
    match err {
        crate::store::StoreError::InUse { .. } => anyhow::anyhow!(
            "the database is in use by a running attune server; use the API instead ({api_hint})"
        ),
        other => anyhow::Error::new(other),
    }
}
