//! `AppState`: what every request handler shares (a cheap clone of `Arc`s),
//! and the start-up sequence that builds it.

use std::sync::Arc;

use crate::auth::{self, AdminBootstrap, TokenKeys, TokenTtls};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::{Event, EventBus, RunEventCounts};
use crate::store::{Store, StoreError};
use crate::sync::{SyncError, SyncOptions, SyncReport, ValidateReport};

/// Shared state of the HTTP layer: one [`Arc`] around [`AppStateParts`],
/// so that the clone every handler and layer takes is one reference count
/// (it was fourteen, about 4 % of a small request's CPU in a profile).
/// Fields read through `Deref` (`state.store`).
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppStateParts>);

impl std::ops::Deref for AppState {
    type Target = AppStateParts;
    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Clone, Debug)]
pub struct AppStateParts {
    pub store: Store,
    pub keys: Arc<TokenKeys>,
    pub config: Arc<Config>,
    /// Serializes syncs (and workflow writes) of one pack.
    pub sync_locks: Arc<crate::sync::PackLocks>,
    /// What happened (runs finished, packs changed), for `/api/v1/events`.
    pub events: EventBus,
    /// Prometheus series (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Watch mode's state, for `/health` and `/metrics`.
    pub watch: Arc<crate::watch::WatchStatus>,
    /// Cancelled when the server shuts down: ends event streams and the
    /// watcher, so a graceful shutdown does not wait for them.
    pub shutdown: CancellationToken,
    /// Outstanding `/api/v1/events` tickets.
    pub tickets: Arc<crate::events::Tickets>,
    /// Permits of concurrent online backups (`backup.max_concurrent`).
    pub backup_slots: Arc<tokio::sync::Semaphore>,
    /// TLS in force (set by `attune serve` when `server.tls` is on).
    pub tls: Option<Arc<crate::tls::Tls>>,
    /// The memory budget of validation work (`validation.*`).
    pub work_budget: crate::budget::WorkBudget,
    /// Bearer tokens authenticated lately (`api::auth_cache`).
    pub auth_cache: Arc<crate::api::auth_cache::AuthCache>,
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
    /// The state with `tls` in force (copied first if already shared).
    pub fn with_tls(mut self, tls: Option<Arc<crate::tls::Tls>>) -> AppState {
        Arc::make_mut(&mut self.0).tls = tls;
        self
    }

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
        let work_budget = crate::budget::WorkBudget::new(
            config.validation.memory_budget_bytes,
            std::time::Duration::from_millis(config.validation.max_wait_ms),
        );
        Ok((
            AppState(Arc::new(AppStateParts {
                work_budget,
                store,
                keys: Arc::new(TokenKeys::from_secret(&secret)),
                config: Arc::new(config),
                sync_locks: Arc::new(crate::sync::PackLocks::new()),
                events: EventBus::new(),
                metrics: Arc::new(crate::metrics::Metrics::new()),
                watch: Arc::new(crate::watch::WatchStatus::default()),
                shutdown: CancellationToken::new(),
                tickets: Arc::new(crate::events::Tickets::default()),
                backup_slots,
                tls: None,
                auth_cache: Arc::default(),
            })),
            admin,
        ))
    }

    /// Load limits of sync and validation, from the configuration.
    pub fn sync_limits(&self) -> crate::sync::SyncLimits {
        crate::sync::SyncLimits {
            max_file_bytes: self.config.max_workflow_file_bytes,
            revisions: self.revision_policy(),
        }
    }

    /// `revisions.*` as the store applies it.
    pub fn revision_policy(&self) -> crate::store::RevisionPolicy {
        crate::store::RevisionPolicy {
            keep: self.config.revisions.keep,
            max_total: self.config.revisions.max_total,
        }
    }

    /// Reserves the memory budget of one sync or validation run.
    pub async fn admit_run(
        &self,
        wait: crate::budget::Wait,
    ) -> Result<crate::budget::Admission, crate::budget::Busy> {
        let cost = crate::budget::WorkBudget::cost_of_run(self.config.max_workflow_file_bytes);
        let admitted = self.work_budget.admit(cost, wait).await;
        if admitted.is_err() {
            tracing::warn!(
                cost,
                "validation work refused: the memory budget stayed full"
            );
        }
        admitted
    }

    /// Syncs a pack under its lock on the blocking pool (so two syncs of
    /// one pack never overlap and a big pack never stalls requests), then
    /// publishes `run_finished`. Every sync of the server goes through
    /// here: the API, the auto-sync after a pack write, watch mode.
    pub async fn run_sync(
        &self,
        pack_ref: &str,
        options: SyncOptions,
    ) -> Result<SyncReport, SyncError> {
        let trigger = options.trigger;
        let dry_run = options.dry_run;
        let guard = self.sync_locks.lock(pack_ref).await;
        let wait = match trigger {
            crate::sync::Trigger::Watch => crate::budget::Wait::Unbounded,
            _ => crate::budget::Wait::Bounded,
        };
        let admitted = self.admit_run(wait).await?;
        let store = self.store.clone();
        let base = self.config.packs_base_dir.clone();
        let limits = self.sync_limits();
        let r = pack_ref.to_string();
        let start = std::time::Instant::now();
        // The request's audit scope (none for a watch sync) follows the
        // work onto the blocking pool.
        let scope = crate::store::audit::AuditScope::current();
        // The pack's lock and the budget go with the work, not with this
        // future: a request dropped at its deadline or by its client leaves
        // the sync running to its end, still serialized and still counted.
        let result = tokio::task::spawn_blocking(move || {
            let _held = (guard, admitted);
            crate::store::audit::on_thread(scope, || {
                crate::sync::sync_pack(&store, &base, limits, &r, options)
            })
        })
        .await
        .map_err(|e| SyncError::Task(e.to_string()))
        .and_then(|r| r);
        let seconds = start.elapsed().as_secs_f64();
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                if !matches!(e, SyncError::PackNotFound(_) | SyncError::Busy(_)) {
                    self.metrics
                        .run_finished(pack_ref, "sync", trigger, "error", seconds, None);
                }
                return Err(e);
            }
        };
        if !dry_run {
            let outcome = if report.errors.is_empty() {
                "ok"
            } else {
                "failed"
            };
            self.metrics.run_finished(
                pack_ref,
                "sync",
                trigger,
                outcome,
                seconds,
                Some(&report.diagnostics),
            );
            let count = |n: usize| n as u64;
            self.events.publish(Event::RunFinished {
                pack_ref: report.pack_ref.clone(),
                run_kind: "sync".into(),
                trigger,
                ok: report.errors.is_empty(),
                run_id: report.run_id,
                counts: RunEventCounts {
                    loaded: report.loaded_count,
                    registered: report.registered_count,
                    created: count(
                        report
                            .workflows
                            .iter()
                            .filter(|w| w.status == crate::sync::WorkflowStatus::Created)
                            .count(),
                    ),
                    updated: count(
                        report
                            .workflows
                            .iter()
                            .filter(|w| w.status == crate::sync::WorkflowStatus::Updated)
                            .count(),
                    ),
                    unchanged: report.unchanged_count,
                    failed: count(report.failed.len()),
                    missing: count(report.missing.len()),
                    errors: count(
                        report
                            .diagnostics
                            .iter()
                            .filter(|d| d.diagnostic.is_error())
                            .count(),
                    ),
                    warnings: count(
                        report
                            .diagnostics
                            .iter()
                            .filter(|d| !d.diagnostic.is_error())
                            .count(),
                    ),
                },
            });
        }
        Ok(report)
    }

    /// Validates a pack on the blocking pool (recording the run), then
    /// publishes `run_finished`.
    pub async fn run_validate(
        &self,
        pack_ref: &str,
        user: &str,
    ) -> Result<ValidateReport, SyncError> {
        let store = self.store.clone();
        let base = self.config.packs_base_dir.clone();
        let limits = self.sync_limits();
        let r = pack_ref.to_string();
        let login = user.to_string();
        let admitted = self.admit_run(crate::budget::Wait::Bounded).await?;
        let start = std::time::Instant::now();
        let scope = crate::store::audit::AuditScope::current();
        let result = tokio::task::spawn_blocking(move || {
            let _held = admitted;
            crate::store::audit::on_thread(scope, || {
                crate::sync::validate_pack(&store, &base, limits, &r, &login)
            })
        })
        .await
        .map_err(|e| SyncError::Task(e.to_string()))
        .and_then(|r| r);
        let seconds = start.elapsed().as_secs_f64();
        let trigger = crate::sync::Trigger::Api;
        let report = match result {
            Ok(report) => report,
            Err(e) => {
                if !matches!(e, SyncError::PackNotFound(_) | SyncError::Busy(_)) {
                    self.metrics
                        .run_finished(pack_ref, "validate", trigger, "error", seconds, None);
                }
                return Err(e);
            }
        };
        let ok = report.error_count == 0 && report.load_error.is_none();
        self.metrics.run_finished(
            pack_ref,
            "validate",
            trigger,
            if ok { "ok" } else { "failed" },
            seconds,
            Some(&report.diagnostics),
        );
        let errors = report
            .diagnostics
            .iter()
            .filter(|d| d.diagnostic.is_error())
            .count() as u64;
        self.events.publish(Event::RunFinished {
            pack_ref: report.pack_ref.clone(),
            run_kind: "validate".into(),
            trigger,
            ok,
            run_id: report.run_id,
            counts: RunEventCounts {
                loaded: report.validated_count,
                failed: report.error_count,
                errors,
                warnings: report.diagnostics.len() as u64 - errors,
                ..RunEventCounts::default()
            },
        });
        Ok(report)
    }

    /// Token lifetimes from the configuration.
    pub fn ttls(&self) -> TokenTtls {
        TokenTtls {
            access: self.config.auth.access_token_ttl,
            refresh: self.config.auth.refresh_token_ttl,
        }
    }
}
