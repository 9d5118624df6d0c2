//! Configuration: defaults, then `config.yaml`, then `ATTUNE__…` environment
//! variables, then command-line flags; later wins.
//!
//! Every key has a fixed environment name (`server.port` ↔
//! `ATTUNE__SERVER__PORT`). Unknown keys and unknown `ATTUNE__*` variables are
//! errors, and every error names the key and where the value came from
//! (`file:line:column`, the variable, or the flag). Loading is a pure
//! function of its [`Sources`] so tests need not touch the process
//! environment.

use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the config file (when `--config` is absent).
pub const CONFIG_ENV: &str = "ATTUNE_CONFIG";
/// Prefix of the per-key environment variables.
pub const ENV_PREFIX: &str = "ATTUNE__";
/// Request bodies above this many bytes are refused with 413 (fixed).
pub const REQUEST_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Minimum password length, in characters (every password: users,
/// `admin_password`).
pub const MIN_PASSWORD_LEN: usize = 8;
/// Maximum password length, in bytes (bounds hashing work for hostile input).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What is wrong with a password under the password rule, saying what to do;
/// `None` when it is acceptable. The one place the rule is written.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Some(format!(
            "password is too short: use at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some(format!(
            "password is too long: use at most {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    None
}

/// A string that never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `server.*`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Extra host names accepted in `Host` on a loopback bind (DNS
    /// rebinding protection), and put in a self-signed certificate.
    pub allowed_hosts: Vec<String>,
    pub tls: TlsConfig,
}

/// `server.tls.*`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain; re-read on SIGHUP.
    pub cert_file: Option<PathBuf>,
    /// PEM private key; re-read on SIGHUP.
    pub key_file: Option<PathBuf>,
    /// Generate a key and certificate in the data dir at first start.
    pub self_signed: bool,
}

impl TlsConfig {
    /// Whether the server speaks TLS.
    pub fn enabled(&self) -> bool {
        self.self_signed || self.cert_file.is_some() || self.key_file.is_some()
    }
}

/// `auth.*`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Access token lifetime in seconds.
    pub access_token_ttl: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_token_ttl: u64,
    /// Signing secret; generated and kept in the database when absent.
    pub jwt_secret: Option<Secret>,
}

/// `backup.*`: limits of the online backup (`GET /api/v1/admin/backup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// Online backups streamed at once; one more is refused with 429.
    pub max_concurrent: u32,
    /// Seconds a backup download may make no progress before it is cut off
    /// and its temporary copy removed.
    pub write_timeout: u64,
}

/// `validation.*`: the memory budget of server-side validation work
/// (see `crate::budget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationConfig {
    /// Estimated working memory all validations, syncs and uploads may hold
    /// at once.
    pub memory_budget_bytes: u64,
    /// How long a request waits for the budget before it is answered 503.
    pub max_wait_ms: u64,
}

/// `audit.*`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Newest audit entries kept; older ones are dropped as new ones come.
    pub max_entries: u64,
}

/// `revisions.*`: workflow revision retention (see `store::revisions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionsConfig {
    /// Newest revisions kept per workflow; 0 turns revisions off.
    pub keep: u32,
    /// Most revisions kept in all, oldest dropped first.
    pub max_total: u64,
}

/// `log.*`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// `watch`, `watch_*`: watch mode (see `crate::watch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// Watch the packs folder and sync changed packs by themselves.
    pub enabled: bool,
    /// Quiet time after a pack's last change before it is synced.
    pub debounce_ms: u64,
    /// Poll instead of using inotify even when inotify works.
    pub poll: bool,
    /// Interval of the polling fallback.
    pub poll_interval_ms: u64,
}

/// `metrics.*`: `GET /metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub packs_base_dir: PathBuf,
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    /// Password of the first `admin` user (first start only).
    pub admin_password: Option<Secret>,
    pub max_workflow_file_bytes: u64,
    /// Largest pack archive `POST /api/v1/packs/upload` accepts (413 past it).
    pub max_pack_archive_bytes: u64,
    /// Most entries in an uploaded pack archive.
    pub max_pack_files: u64,
    /// Most bytes an uploaded pack archive may unpack to.
    pub max_pack_unpacked_bytes: u64,
    /// Register every valid unregistered pack folder at start-up.
    pub register_packs_on_start: bool,
    pub auth: AuthConfig,
    pub backup: BackupConfig,
    pub validation: ValidationConfig,
    pub audit: AuditConfig,
    pub revisions: RevisionsConfig,
    pub log: LogConfig,
    pub watch: WatchConfig,
    pub metrics: MetricsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            packs_base_dir: PathBuf::from("/opt/attune/packs"),
            data_dir: PathBuf::from("/var/lib/attune"),
            server: ServerConfig {
                host: "127.0.0.1".into(),
                port: 8080,
                allowed_hosts: Vec::new(),
                tls: TlsConfig::default(),
            },
            admin_password: None,
            max_workflow_file_bytes: 1024 * 1024,
            max_pack_archive_bytes: 64 * 1024 * 1024,
            max_pack_files: 10_000,
            max_pack_unpacked_bytes: 256 * 1024 * 1024,
            register_packs_on_start: false,
            auth: AuthConfig {
                access_token_ttl: 3600,
                refresh_token_ttl: 7 * 24 * 3600,
                jwt_secret: None,
            },
            backup: BackupConfig {
                max_concurrent: 1,
                write_timeout: 30,
            },
            validation: ValidationConfig {
                memory_budget_bytes: 512 * 1024 * 1024,
                max_wait_ms: 10_000,
            },
            audit: AuditConfig {
                max_entries: 100_000,
            },
            revisions: RevisionsConfig {
                keep: crate::store::revisions::DEFAULT_KEEP,
                max_total: crate::store::revisions::DEFAULT_MAX_TOTAL,
            },
            log: LogConfig {
                format: LogFormat::Text,
            },
            watch: WatchConfig {
                enabled: false,
                debounce_ms: 300,
                poll: false,
                poll_interval_ms: 1000,
            },
            metrics: MetricsConfig {
                enabled: false,
                token: None,
            },
        }
    }
}

/// Every configuration key, in documentation order.
pub const KEYS: &[&str] = &[
    "packs_base_dir",
    "data_dir",
    "server.host",
    "server.port",
    "server.allowed_hosts",
    "server.tls.cert_file",
    "server.tls.key_file",
    "server.tls.self_signed",
    "admin_password",
    "max_workflow_file_bytes",
    "max_pack_archive_bytes",
    "max_pack_files",
    "max_pack_unpacked_bytes",
    "register_packs_on_start",
    "auth.access_token_ttl",
    "auth.refresh_token_ttl",
    "auth.jwt_secret",
    "backup.max_concurrent",
    "backup.write_timeout",
    "validation.memory_budget_bytes",
    "validation.max_wait_ms",
    "audit.max_entries",
    "revisions.keep",
    "revisions.max_total",
    "log.format",
    "watch",
    "watch_debounce_ms",
    "watch_poll",
    "watch_poll_interval_ms",
    "metrics.enabled",
    "metrics.token",
];

/// Keys whose values are never echoed in messages.
const SECRET_KEYS: &[&str] = &["admin_password", "auth.jwt_secret", "metrics.token"];

/// The environment variable of a key (`server.port` → `ATTUNE__SERVER__PORT`).
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Source::Env(name) => f.write_str(name),
            Source::Flag(name) => f.write_str(name),
        }
    }
}

/// A configuration error; the message names the key and its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown key '{key}' in {origin}{}", did_you_mean(.suggestion))]
    UnknownKey {
        key: String,
        origin: Source,
        suggestion: Option<String>,
    },
    #[error("invalid value {} for {key} from {origin}: {expected}", shown(.value))]
    InvalidValue {
        key: String,
        /// `None` for secrets.
        value: Option<String>,
        origin: Source,
        expected: String,
    },
    #[error("cannot read config file {}: {message}", .path.display())]
    File { path: PathBuf, message: String },
    #[error("invalid YAML in {}:{line}:{column}: {message}", .path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean '{s}'?"),
        None => format!("; known keys: {}", KEYS.join(", ")),
    }
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("'{v}'"),
        None => "(hidden)".into(),
    }
}

/// A raw value: text (environment, flags) or a parsed YAML/JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Text(String),
    Json(serde_json::Value),
}

impl RawValue {
    fn display(&self) -> String {
        match self {
            RawValue::Text(s) => s.clone(),
            RawValue::Json(serde_json::Value::String(s)) => s.clone(),
            RawValue::Json(v) => v.to_string(),
        }
    }

    fn as_text(&self) -> Option<String> {
        match self {
            RawValue::Text(s) => Some(s.clone()),
            RawValue::Json(serde_json::Value::String(s)) => Some(s.clone()),
            RawValue::Json(serde_json::Value::Number(n)) => Some(n.to_string()),
            RawValue::Json(serde_json::Value::Bool(b)) => Some(b.to_string()),
            RawValue::Json(_) => None,
        }
    }
}

/// One flag given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValue {
    pub key: &'static str,
    pub flag: &'static str,
    pub value: String,
}

/// Everything configuration is loaded from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--config` (wins over `ATTUNE_CONFIG` in `env`).
    pub config_flag: Option<PathBuf>,
    /// Environment variables (only `ATTUNE_CONFIG` and `ATTUNE__*` matter).
    pub env: Vec<(String, String)>,
    pub flags: Vec<FlagValue>,
}

impl Sources {
    /// The process environment's relevant variables. A non-UTF-8 value of an
    /// attune variable is reported, not ignored.
    pub fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
        let mut out = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if name != CONFIG_ENV && !name.starts_with(ENV_PREFIX) {
                continue;
            }
            match value.into_string() {
                Ok(v) => out.push((name.to_string(), v)),
                Err(_) => {
                    return Err(ConfigError::InvalidValue {
                        key: name.to_string(),
                        value: None,
                        origin: Source::Env(name.to_string()),
                        expected: "expected valid UTF-8".into(),
                    });
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Config {
    /// Loads defaults → file → environment → flags.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let file = sources.config_flag.clone().or_else(|| {
            sources
                .env
                .iter()
                .find(|(k, _)| k == CONFIG_ENV)
                .map(|(_, v)| PathBuf::from(v))
        });
        if let Some(path) = file {
            for (key, value, source) in read_file_entries(&path)? {
                config.set(&key, &value, source)?;
            }
        }
        for (name, value) in &sources.env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest.to_lowercase().replace("__", ".");
            if !KEYS.contains(&key.as_str()) {
                let suggestion = suggest(&key).map(|k| env_name(&k));
                return Err(ConfigError::UnknownKey {
                    key: name.clone(),
                    origin: Source::Env("the environment".into()),
                    suggestion,
                });
            }
            config.set(
                &key,
                &RawValue::Text(value.clone()),
                Source::Env(name.clone()),
            )?;
        }
        for flag in &sources.flags {
            config.set(
                flag.key,
                &RawValue::Text(flag.value.clone()),
                Source::Flag(flag.flag.to_string()),
            )?;
        }
        Ok(config)
    }

    /// Sets one key from one source.
    pub fn set(&mut self, key: &str, raw: &RawValue, source: Source) -> Result<(), ConfigError> {
        let invalid = |expected: &str| ConfigError::InvalidValue {
            key: key.to_string(),
            value: if SECRET_KEYS.contains(&key) {
                None
            } else {
                Some(raw.display())
            },
            origin: source.clone(),
            expected: expected.to_string(),
        };
        match key {
            "packs_base_dir" | "data_dir" => {
                let text = raw
                    .as_text()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| invalid("expected a directory path"))?;
                let path = PathBuf::from(text);
                if key == "data_dir" {
                    self.data_dir = path;
                } else {
                    self.packs_base_dir = path;
                }
            }
            "server.host" => {
                let text = raw
                    .as_text()
                    .filter(|s| valid_host(s))
                    .ok_or_else(|| invalid("expected an IP address or host name"))?;
                self.server.host = text;
            }
            "server.port" => {
                self.server.port = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u16>().ok())
                    .ok_or_else(|| invalid("expected a port number 0-65535"))?;
            }
            "server.allowed_hosts" => {
                let names: Option<Vec<String>> = match raw {
                    RawValue::Json(serde_json::Value::Array(items)) => items
                        .iter()
                        .map(|v| v.as_str().map(|s| s.trim().to_string()))
                        .collect(),
                    other => other.as_text().map(|t| {
                        t.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    }),
                };
                self.server.allowed_hosts = names
                    .filter(|n| n.iter().all(|h| valid_host(h)))
                    .ok_or_else(|| {
                        invalid("expected a list of host names (YAML list, or comma-separated)")
                    })?;
            }
            "server.tls.cert_file" | "server.tls.key_file" => {
                let path = raw
                    .as_text()
                    .filter(|s| !s.trim().is_empty())
                    .map(PathBuf::from)
                    .ok_or_else(|| invalid("expected a file path"))?;
                if key == "server.tls.cert_file" {
                    self.server.tls.cert_file = Some(path);
                } else {
                    self.server.tls.key_file = Some(path);
                }
            }
            "server.tls.self_signed" => {
                self.server.tls.self_signed = match raw.as_text().as_deref().map(str::trim) {
                    Some("true") => true,
                    Some("false") => false,
                    _ => return Err(invalid("expected true or false")),
                };
            }
            "admin_password" => {
                let text = raw
                    .as_text()
                    .ok_or_else(|| invalid("expected a password"))?;
                if let Some(problem) = password_problem(&text) {
                    return Err(invalid(&format!("expected a valid password: {problem}")));
                }
                self.admin_password = Some(Secret::new(text));
            }
            "max_workflow_file_bytes"
            | "max_pack_archive_bytes"
            | "max_pack_files"
            | "max_pack_unpacked_bytes" => {
                let n = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        invalid(if key == "max_pack_files" {
                            "expected a positive number of entries"
                        } else {
                            "expected a positive number of bytes"
                        })
                    })?;
                match key {
                    "max_workflow_file_bytes" => self.max_workflow_file_bytes = n,
                    "max_pack_archive_bytes" => self.max_pack_archive_bytes = n,
                    "max_pack_files" => self.max_pack_files = n,
                    _ => self.max_pack_unpacked_bytes = n,
                }
            }
            "register_packs_on_start" => {
                self.register_packs_on_start = match raw.as_text().as_deref().map(str::trim) {
                    Some("true") => true,
                    Some("false") => false,
                    _ => return Err(invalid("expected true or false")),
                };
            }
            "auth.access_token_ttl" | "auth.refresh_token_ttl" => {
                let secs = raw
                    .as_text()
                    .and_then(|s| parse_duration_secs(&s))
                    .ok_or_else(|| {
                        invalid("expected a positive duration: seconds, or a number with s, m, h or d (\"30m\", \"7d\")")
                    })?;
                if key == "auth.access_token_ttl" {
                    self.auth.access_token_ttl = secs;
                } else {
                    self.auth.refresh_token_ttl = secs;
                }
            }
            "auth.jwt_secret" => {
                let text = raw
                    .as_text()
                    .filter(|s| s.len() >= 32)
                    .ok_or_else(|| invalid("expected a secret of at least 32 characters"))?;
                self.auth.jwt_secret = Some(Secret::new(text));
            }
            "backup.max_concurrent" => {
                self.backup.max_concurrent = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .filter(|n| (1..=16).contains(n))
                    .ok_or_else(|| invalid("expected a number from 1 to 16"))?;
            }
            "backup.write_timeout" => {
                self.backup.write_timeout = raw
                    .as_text()
                    .and_then(|s| parse_duration_secs(&s))
                    .ok_or_else(|| {
                        invalid("expected a positive duration: seconds, or a number with s, m, h or d (\"30s\", \"2m\")")
                    })?;
            }
            "revisions.keep" => {
                self.revisions.keep = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .filter(|n| *n <= 10_000)
                    .ok_or_else(|| {
                        invalid("expected a number of revisions from 0 (off) to 10000")
                    })?;
            }
            "revisions.max_total" => {
                self.revisions.max_total = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| (1..=100_000_000).contains(n))
                    .ok_or_else(|| invalid("expected a number of revisions from 1 to 100000000"))?;
            }
            "validation.memory_budget_bytes" => {
                self.validation.memory_budget_bytes = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| *n >= 1024 * 1024)
                    .ok_or_else(|| {
                        invalid("expected a number of bytes, at least 1048576 (1 MiB)")
                    })?;
            }
            "validation.max_wait_ms" => {
                self.validation.max_wait_ms = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| *n <= 600_000)
                    .ok_or_else(|| invalid("expected milliseconds between 0 and 600000"))?;
            }
            "audit.max_entries" => {
                self.audit.max_entries = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| (1..=10_000_000).contains(n))
                    .ok_or_else(|| invalid("expected a number of entries from 1 to 10000000"))?;
            }
            "log.format" => {
                self.log.format = match raw.as_text().as_deref().map(str::trim) {
                    Some("text") => LogFormat::Text,
                    Some("json") => LogFormat::Json,
                    _ => return Err(invalid("expected 'text' or 'json'")),
                };
            }
            "watch" | "watch_poll" | "metrics.enabled" => {
                let on = raw
                    .as_text()
                    .and_then(|s| parse_bool(&s))
                    .ok_or_else(|| invalid("expected true or false"))?;
                match key {
                    "watch" => self.watch.enabled = on,
                    "watch_poll" => self.watch.poll = on,
                    _ => self.metrics.enabled = on,
                }
            }
            "watch_debounce_ms" => {
                self.watch.debounce_ms = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| (10..=60_000).contains(n))
                    .ok_or_else(|| invalid("expected milliseconds between 10 and 60000"))?;
            }
            "watch_poll_interval_ms" => {
                self.watch.poll_interval_ms = raw
                    .as_text()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .filter(|n| (100..=3_600_000).contains(n))
                    .ok_or_else(|| invalid("expected milliseconds between 100 and 3600000"))?;
            }
            "metrics.token" => {
                let text = raw
                    .as_text()
                    .filter(|s| s.len() >= 16 && s.bytes().all(|b| b.is_ascii_graphic()))
                    .ok_or_else(|| {
                        invalid("expected a token of at least 16 printable characters, no spaces")
                    })?;
                self.metrics.token = Some(Secret::new(text));
            }
            _ => {
                return Err(ConfigError::UnknownKey {
                    key: key.to_string(),
                    origin: source,
                    suggestion: suggest(key),
                });
            }
        }
        Ok(())
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn valid_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The closest known key, if it is close enough (the validator's
/// did-you-mean, so both read the same way).
fn suggest(key: &str) -> Option<String> {
    crate::workflow::validate::did_you_mean(key, KEYS.iter().copied()).map(str::to_string)
}

/// Parses `3600`, `90s`, `30m`, `1h`, `7d` into seconds (> 0).
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let factor = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|v| *v > 0)
}

/// Reads `config.yaml` into (key, value, source) entries, keys flattened
/// with dots (`server: {port: 1}` → `server.port`).
fn read_file_entries(path: &Path) -> Result<Vec<(String, RawValue, Source)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    file::entries(path, &text)
}

mod file {
    //! `config.yaml` → flat `(key, value, source)` entries through the
    //! project's YAML layer (positions for every key and value).
    use super::*;
    use crate::workflow::yaml::{self, Node, NodeKind};

    /// Sections whose keys are nested one level (`server: {port: 1}`).
    const SECTIONS: &[&str] = &[
        "server",
        "server.tls",
        "auth",
        "backup",
        "validation",
        "audit",
        "revisions",
        "log",
        "metrics",
    ];

    pub(super) fn entries(
        path: &Path,
        text: &str,
    ) -> Result<Vec<(String, RawValue, Source)>, ConfigError> {
        let root = yaml::parse_document(text, &yaml::Limits::default()).map_err(|e| {
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line: e.pos.line as usize,
                column: e.pos.column as usize,
                message: e.message.clone(),
            }
        })?;
        let mut out = Vec::new();
        let lines = yaml::Lines::new(text);
        let at = At {
            path,
            lines: &lines,
        };
        match &root.kind {
            NodeKind::Null => {}
            NodeKind::Map(_) => collect(&at, &root, "", &mut out)?,
            _ => {
                return Err(ConfigError::InvalidValue {
                    key: "(top level)".into(),
                    value: None,
                    origin: source(&at, &root),
                    expected: format!(
                        "expected a mapping of keys such as 'server: {{port: 8080}}', found {}",
                        root.type_name()
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The file being read and its line index (for the nodes' positions).
    struct At<'a> {
        path: &'a Path,
        lines: &'a yaml::Lines<'a>,
    }

    fn source(at: &At<'_>, node: &Node) -> Source {
        let pos = at.lines.of(node);
        Source::File {
            path: at.path.to_path_buf(),
            line: pos.line as usize,
            column: pos.column as usize,
        }
    }

    fn collect(
        at: &At<'_>,
        map: &Node,
        prefix: &str,
        out: &mut Vec<(String, RawValue, Source)>,
    ) -> Result<(), ConfigError> {
        for entry in map.as_map().unwrap_or_default() {
            let name = entry
                .key
                .scalar_text()
                .unwrap_or_else(|| entry.key.to_json().to_string());
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if SECTIONS.contains(&key.as_str()) {
                match &entry.value.kind {
                    NodeKind::Map(_) => collect(at, &entry.value, &key, out)?,
                    NodeKind::Null => {}
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key,
                            value: None,
                            origin: source(at, &entry.value),
                            expected: format!(
                                "expected a mapping of keys, found {}",
                                entry.value.type_name()
                            ),
                        });
                    }
                }
                continue;
            }
            if !KEYS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    suggestion: suggest(&key),
                    key,
                    origin: source(at, &entry.key),
                });
            }
            // `key:` with no value means "not set here".
            if entry.value.is_null() {
                continue;
            }
            out.push((
                key,
                RawValue::Json(entry.value.to_json()),
                source(at, &entry.value),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Sources {
        Sources {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_the_product_table() {
        let c = Config::load(&Sources::default()).unwrap();
        assert_eq!(c.packs_base_dir, PathBuf::from("/opt/attune/packs"));
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/attune"));
        assert_eq!(c.server.host, "127.0.0.1");
        assert_eq!(c.server.port, 8080);
        assert_eq!(c.max_workflow_file_bytes, 1_048_576);
        assert_eq!(c.auth.access_token_ttl, 3600);
        assert_eq!(c.auth.refresh_token_ttl, 604_800);
    }

    #[test]
    fn watch_and_metrics_keys_load_from_env_and_check_their_values() {
        let c = Config::load(&env(&[
            ("ATTUNE__WATCH", "true"),
            ("ATTUNE__WATCH_DEBOUNCE_MS", "50"),
            ("ATTUNE__WATCH_POLL", "yes"),
            ("ATTUNE__METRICS__ENABLED", "1"),
            ("ATTUNE__METRICS__TOKEN", "0123456789abcdef"),
        ]))
        .unwrap();
        assert!(c.watch.enabled && c.watch.poll && c.metrics.enabled);
        assert_eq!(c.watch.debounce_ms, 50);
        assert_eq!(c.metrics.token.unwrap().expose(), "0123456789abcdef");
        let e = Config::load(&env(&[("ATTUNE__WATCH", "sometimes")])).unwrap_err();
        assert!(e.to_string().contains("expected true or false"), "{e}");
        let e = Config::load(&env(&[("ATTUNE__WATCH_DEBOUNCE_MS", "0")])).unwrap_err();
        assert!(e.to_string().contains("between 10 and 60000"), "{e}");
        let e = Config::load(&env(&[("ATTUNE__METRICS__TOKEN", "short secret")])).unwrap_err();
        assert!(!e.to_string().contains("short secret"), "{e}");
        let d = Config::default();
        assert!(!d.watch.enabled && !d.metrics.enabled);
        assert_eq!(d.watch.debounce_ms, 300);
    }

    #[test]
    fn env_names_follow_the_fixed_table() {
        assert_eq!(env_name("packs_base_dir"), "ATTUNE__PACKS_BASE_DIR");
        assert_eq!(env_name("server.port"), "ATTUNE__SERVER__PORT");
        assert_eq!(env_name("admin_password"), "ATTUNE__ADMIN_PASSWORD");
    }

    #[test]
    fn flags_win_over_environment() {
        let mut s = env(&[
            ("ATTUNE__SERVER__PORT", "9000"),
            ("ATTUNE__PACKS_BASE_DIR", "/env/packs"),
            ("PATH", "/bin"),
        ]);
        s.flags.push(FlagValue {
            key: "server.port",
            flag: "--port",
            value: "9100".into(),
        });
        let c = Config::load(&s).unwrap();
        assert_eq!(c.server.port, 9100);
        assert_eq!(c.packs_base_dir, PathBuf::from("/env/packs"));
    }

    #[test]
    fn a_bad_port_names_the_key_and_the_variable() {
        let err = Config::load(&env(&[("ATTUNE__SERVER__PORT", "abc")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'abc' for server.port from ATTUNE__SERVER__PORT: expected a port number 0-65535"
        );
    }

    #[test]
    fn an_unknown_variable_suggests_the_right_one() {
        let err = Config::load(&env(&[("ATTUNE__SERVER__PROT", "1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown key 'ATTUNE__SERVER__PROT' in the environment; did you mean 'ATTUNE__SERVER__PORT'?"
        );
    }

    #[test]
    fn secrets_are_not_echoed() {
        let err = Config::load(&env(&[("ATTUNE__ADMIN_PASSWORD", "s3Kr")])).unwrap_err();
        assert!(!err.to_string().contains("s3Kr"), "{err}");
        assert!(err.to_string().contains("at least 8 characters"), "{err}");
        let c = Config::load(&env(&[("ATTUNE__ADMIN_PASSWORD", "long-enough")])).unwrap();
        assert!(!format!("{c:?}").contains("long-enough"));
    }

    fn with_file(text: &str, env_pairs: &[(&str, &str)]) -> (tempfile::TempDir, Sources) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, text).unwrap();
        let mut s = env(env_pairs);
        s.config_flag = Some(path);
        (dir, s)
    }

    #[test]
    fn the_packaged_config_file_loads() {
        let text = include_str!("../packaging/config.yaml");
        let (_dir, s) = with_file(text, &[]);
        let c = Config::load(&s).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn the_validation_budget_loads_from_the_file_and_env_and_checks_its_values() {
        let d = Config::default();
        assert_eq!(d.validation.memory_budget_bytes, 512 * 1024 * 1024);
        assert_eq!(d.validation.max_wait_ms, 10_000);
        let text = "validation:\n  memory_budget_bytes: 2097152\n  max_wait_ms: 0\n";
        let (_dir, s) = with_file(text, &[]);
        let c = Config::load(&s).unwrap();
        assert_eq!(c.validation.memory_budget_bytes, 2_097_152);
        assert_eq!(c.validation.max_wait_ms, 0);
        let (_dir, s) = with_file(text, &[("ATTUNE__VALIDATION__MAX_WAIT_MS", "250")]);
        assert_eq!(Config::load(&s).unwrap().validation.max_wait_ms, 250);
        let e =
            Config::load(&env(&[("ATTUNE__VALIDATION__MEMORY_BUDGET_BYTES", "1000")])).unwrap_err();
        assert!(e.to_string().contains("at least 1048576"), "{e}");
        let e = Config::load(&env(&[("ATTUNE__VALIDATION__MAX_WAIT_MS", "600001")])).unwrap_err();
        assert!(e.to_string().contains("between 0 and 600000"), "{e}");
    }

    #[test]
    fn file_values_lose_to_environment_and_flags() {
        let text = "data_dir: /from/file\nserver:\n  port: 1000\n  host: 0.0.0.0\nauth:\n  access_token_ttl: 30m\nlog:\n  format: json\n";
        let (_dir, mut s) = with_file(text, &[("ATTUNE__SERVER__PORT", "2000")]);
        let c = Config::load(&s).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.server.port, 2000);
        assert_eq!(c.server.host, "0.0.0.0");
        assert_eq!(c.auth.access_token_ttl, 1800);
        assert_eq!(c.log.format, LogFormat::Json);
        s.flags.push(FlagValue {
            key: "server.port",
            flag: "--port",
            value: "3000".into(),
        });
        assert_eq!(Config::load(&s).unwrap().server.port, 3000);
    }

    #[test]
    fn the_config_env_var_names_the_file_and_the_flag_wins_over_it() {
        let (dir, _) = with_file("server:\n  port: 1111\n", &[]);
        let path = dir.path().join("config.yaml");
        let s = env(&[(CONFIG_ENV, path.to_str().unwrap())]);
        assert_eq!(Config::load(&s).unwrap().server.port, 1111);
        let other = dir.path().join("other.yaml");
        std::fs::write(&other, "server:\n  port: 2222\n").unwrap();
        let mut s = s;
        s.config_flag = Some(other);
        assert_eq!(Config::load(&s).unwrap().server.port, 2222);
    }

    #[test]
    fn an_unknown_key_in_the_file_names_its_position_and_a_suggestion() {
        let (dir, s) = with_file("# attune\nserver:\n  prot: 8080\n", &[]);
        let err = Config::load(&s).unwrap_err().to_string();
        let path = dir.path().join("config.yaml");
        assert_eq!(
            err,
            format!(
                "unknown key 'server.prot' in {}:3:3; did you mean 'server.port'?",
                path.display()
            )
        );
    }

    #[test]
    fn a_bad_value_in_the_file_names_key_and_position() {
        let (dir, s) = with_file("server:\n  port: abc\n", &[]);
        let err = Config::load(&s).unwrap_err().to_string();
        let path = dir.path().join("config.yaml");
        assert_eq!(
            err,
            format!(
                "invalid value 'abc' for server.port from {}:2:9: expected a port number 0-65535",
                path.display()
            )
        );
    }

    #[test]
    fn broken_or_missing_files_are_clear_errors() {
        let (_dir, s) = with_file("server: [1,\n", &[]);
        let err = Config::load(&s).unwrap_err().to_string();
        assert!(err.starts_with("invalid YAML in "), "{err}");
        let (_dir, s) = with_file("- a\n- b\n", &[]);
        let err = Config::load(&s).unwrap_err().to_string();
        assert!(err.contains("expected a mapping"), "{err}");
        let (_dir, s) = with_file("server: 5\n", &[]);
        assert!(Config::load(&s).is_err());
        let s = Sources {
            config_flag: Some(PathBuf::from("/nonexistent/attune.yaml")),
            ..Default::default()
        };
        let err = Config::load(&s).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read config file /nonexistent/attune.yaml: "),
            "{err}"
        );
        // an empty file is no configuration at all
        let (_dir, s) = with_file("", &[]);
        assert_eq!(Config::load(&s).unwrap(), Config::default());
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration_secs("3600"), Some(3600));
        assert_eq!(parse_duration_secs("1h"), Some(3600));
        assert_eq!(parse_duration_secs("30m"), Some(1800));
        assert_eq!(parse_duration_secs("7d"), Some(604_800));
        assert_eq!(parse_duration_secs("0"), None);
        assert_eq!(parse_duration_secs("1w"), None);
        assert_eq!(parse_duration_secs(""), None);
        assert_eq!(parse_duration_secs("99999999999999999999d"), None);
    }
}
