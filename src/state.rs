//! `AppState`: what every request handler shares (a cheap clone of `Arc`s),
//! and the start-up sequence that builds it.

use std::sync::Arc;

use crate::auth::{self, AdminBootstrap, TokenKeys, TokenTtls};
use crate::config::Config;
use crate::store::{Store, StoreError};

/// Shared state of the HTTP layer.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<TokenKeys>,
    pub config: Arc<Config>,
    /// Serializes syncs (and workflow writes) of one pack.
    pub sync_locks: Arc<crate::sync::PackLocks>,
    /// Permits of concurrent online backups (`backup.max_concurrent`).
    pub backup_slots: Arc<tokio::sync::Semaphore>,
    /// TLS in force (set by `attune serve` when `server.tls` is on).
    pub tls: Option<Arc<crate::tls::Tls>>,
}

/// Errors while preparing the state before the server listens.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
}

impl AppState {
    /// Opens the store (running migrations), loads or generates the token
    /// secret, and creates the first `admin` user on an empty database.
    pub fn init(config: Config) -> Result<(AppState, AdminBootstrap), StartupError> {
        let store = Store::open(&config.data_dir)?;
        AppState::with_store(config, store)
    }

    /// [`AppState::init`] on a store already open (tests open it through a
    /// [`crate::store::Storage`] that injects faults).
    pub fn with_store(
        config: Config,
        store: Store,
    ) -> Result<(AppState, AdminBootstrap), StartupError> {
        let secret = match &config.auth.jwt_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => store.jwt_secret_or_insert(auth::random_bytes(32)?)?,
        };
        let admin = auth::ensure_admin(&store, config.admin_password.as_ref().map(|s| s.expose()))?;
        let backup_slots = Arc::new(tokio::sync::Semaphore::new(
            config.backup.max_concurrent as usize,
        ));
        Ok((
            AppState {
                store,
                keys: Arc::new(TokenKeys::from_secret(&secret)),
                config: Arc::new(config),
                sync_locks: Arc::new(crate::sync::PackLocks::new()),
                backup_slots,
                tls: None,
            },
            admin,
        ))
    }

    /// Load limits of sync and validation, from the configuration.
    pub fn sync_limits(&self) -> crate::sync::SyncLimits {
        crate::sync::SyncLimits {
            max_file_bytes: self.config.max_workflow_file_bytes,
        }
    }

    /// Token lifetimes from the configuration.
    pub fn ttls(&self) -> TokenTtls {
        TokenTtls {
            access: self.config.auth.access_token_ttl,
            refresh: self.config.auth.refresh_token_ttl,
        }
    }
}
