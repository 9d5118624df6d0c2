//! Command implementations; `src/main.rs` parses arguments and calls in.

pub mod backup;
pub mod diff;
pub mod lsp;
pub mod pack;
pub mod restore;
pub mod schema;
pub mod secret;
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

/// Message for commands that need the database while a server holds it;
/// `what_instead` says what to do (use the API, or stop the server first).
pub(crate) fn in_use_hint(err: crate::store::StoreError, what_instead: &str) -> anyhow::Error {
    match err {
        crate::store::StoreError::InUse { path } => anyhow::anyhow!(
            "the database is in use by a running attune server ({}); {what_instead}",
            path.display()
        ),
        other => anyhow::Error::new(other),
    }
}

/// `host:port` a local client reaches the configured server at (a wildcard
/// listen address is reached on loopback).
pub(crate) fn server_address(config: &Config) -> String {
    let host = match config.server.host.as_str() {
        "0.0.0.0" | "" => "127.0.0.1".to_string(),
        "::" | "[::]" => "[::1]".to_string(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    };
    format!("{host}:{}", config.server.port)
}
