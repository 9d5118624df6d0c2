//! `attune serve` (also plain `attune`): start the appliance.

use std::path::PathBuf;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::auth::{ADMIN_LOGIN, AdminBootstrap};
use crate::config::{Config, LogFormat};
use crate::{AppState, StartupError};

/// Flags of `attune serve`; each overrides config file and environment.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Config file (default: $ATTUNE_CONFIG; none if unset)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding one folder per pack (packs_base_dir)
    #[arg(long, value_name = "DIR")]
    pub packs_dir: Option<String>,
    /// Directory of the database file attune.redb (data_dir)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Address to listen on (server.host)
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free one (server.port)
    #[arg(long)]
    pub port: Option<String>,
    /// Log format: text or json (log.format)
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Watch the packs folder and sync changed packs by themselves (watch)
    #[arg(long)]
    pub watch: bool,
    /// Register every valid pack folder that is not registered yet, at
    /// start-up (register_packs_on_start)
    #[arg(long)]
    pub register_packs: bool,
}

impl ServeArgs {
    /// The configuration these flags select.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        let register = self.register_packs.then(|| "true".to_string());
        let watch = self.watch.then(|| "true".to_string());
        let flags = [
            super::flag("packs_base_dir", "--packs-dir", self.packs_dir.as_ref()),
            super::flag("data_dir", "--data-dir", self.data_dir.as_ref()),
            super::flag("server.host", "--host", self.host.as_ref()),
            super::flag("server.port", "--port", self.port.as_ref()),
            super::flag("log.format", "--log-format", self.log_format.as_ref()),
            super::flag("watch", "--watch", watch.as_ref()),
            super::flag(
                "register_packs_on_start",
                "--register-packs",
                register.as_ref(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(super::load_config(self.config.clone(), flags)?)
    }
}

/// Sets up logging on stderr in the configured format.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: keep the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Threads of tokio's blocking pool (store calls, file reads).
const MAX_BLOCKING_THREADS: usize = 32;

/// Runs the server until SIGTERM or ctrl-c.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.load_config()?;
    init_tracing(config.log.format);
    // Store calls run on tokio's blocking pool. Its default cap (512
    // threads) only adds memory on two cores — each thread keeps its own
    // allocator heap — so it is capped; calls beyond the cap queue.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(config))
}

async fn run_async(config: Config) -> anyhow::Result<()> {
    let addr = format!("{}:{}", config.server.host, config.server.port);
    let packs_dir = config.packs_base_dir.clone();
    let data_dir = config.data_dir.clone();
    let tls = crate::tls::setup(&config)?;
    let (state, admin) = tokio::task::spawn_blocking(move || AppState::init(config))
        .await
        .context("start-up task failed")?
        .map_err(|e| match e {
            StartupError::Store(crate::store::StoreError::InUse { path }) => anyhow::anyhow!(
                "database is in use by another attune process ({}); stop that process or choose another --data-dir",
                path.display()
            ),
            other => anyhow::Error::new(other),
        })?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || prepare_packs(&st))
        .await
        .context("start-up task failed")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = state.with_tls(tls.as_ref().map(|(tls, _)| tls.clone()));
    if let Some((tls, generated)) = &tls {
        eprintln!(
            "TLS certificate {}{} SHA-256 fingerprint {}",
            tls.cert_file().display(),
            if *generated {
                " (self-signed, generated now)"
            } else {
                ""
            },
            tls.fingerprint()
        );
        reload_on_sighup(tls.clone())?;
    }
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e}; choose another address with --host/--port or ATTUNE__SERVER__PORT"
        )
    })?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    if let AdminBootstrap::CreatedWithGeneratedPassword(password) = &admin {
        eprintln!(
            "\n\
             ==================================================================\n\
             \x20 first start: created user '{ADMIN_LOGIN}' with a generated password\n\
             \n\
             \x20     {password}\n\
             \n\
             \x20 it is shown only this once: store it now, then change it with\n\
             \x20 POST /auth/change-password (or set ATTUNE__ADMIN_PASSWORD before\n\
             \x20 the first start next time)\n\
             ==================================================================\n"
        );
    }
    tracing::info!(
        address = %local,
        packs_base_dir = %packs_dir.display(),
        data_dir = %data_dir.display(),
        "attune {} started",
        env!("CARGO_PKG_VERSION")
    );
    if !packs_dir.is_dir() {
        tracing::warn!(
            packs_base_dir = %packs_dir.display(),
            "packs_base_dir is not a directory; create it or set --packs-dir / ATTUNE__PACKS_BASE_DIR"
        );
    }
    let password_hint = match &admin {
        AdminBootstrap::CreatedWithGeneratedPassword(_) => "the password in the banner above",
        AdminBootstrap::CreatedWithConfiguredPassword => "the password from ATTUNE__ADMIN_PASSWORD",
        AdminBootstrap::Existing => "your password",
    };
    if tls.is_none() && !local.ip().is_loopback() {
        tracing::warn!(address = %local, "serving plain HTTP on a non-loopback address");
        eprintln!(
            "\n\
             WARNING: attune serves plain HTTP on {local}, reachable from the network:\n\
             \x20 passwords and bearer tokens cross it in clear text. Turn TLS on\n\
             \x20 (server.tls.self_signed: true, or server.tls.cert_file and\n\
             \x20 server.tls.key_file), or bind server.host to 127.0.0.1 behind a\n\
             \x20 TLS-terminating proxy.\n"
        );
    }
    eprintln!("listening on {scheme}://{local}");
    eprintln!(
        "log in as '{ADMIN_LOGIN}' with {password_hint}: curl -s -X POST {scheme}://{local}/auth/login -H 'Content-Type: application/json' -d '{{\"login\":\"{ADMIN_LOGIN}\",\"password\":\"...\"}}'"
    );
    crate::serve(listener, state, shutdown)
        .await
        .context("server failed")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Before listening: finishes what an interrupted upload left (see
/// `pack::stage::recover`; the packs it touched are synced again so the
/// database agrees with their folders) and, with `register_packs_on_start`,
/// registers every valid unregistered folder. Failures are logged; the
/// server starts anyway.
pub fn prepare_packs(state: &AppState) {
    let base = &state.config.packs_base_dir;
    let limits = state.sync_limits();
    for r in crate::pack::stage::recover(base) {
        if matches!(state.store.get_pack(&r), Ok(Some(_))) {
            // The folder's pack.yaml first (the upload may have been killed
            // between the swap and the pack update), then its workflows.
            let dir = base.join(&r);
            let load = crate::pack::manifest::load_manifest(&dir, Some(&r), limits.max_file_bytes);
            if let Some(m) = &load.manifest
                && let Err(e) = crate::sync::register::apply_manifest(&state.store, m, true)
            {
                tracing::warn!(pack = %r, error = %e, "cannot update a pack from its pack.yaml after an interrupted upload");
            }
            let options = crate::sync::SyncOptions {
                dry_run: false,
                prune: true,
                user: "attune".to_string(),
                token: None,
                trigger: crate::sync::Trigger::Auto,
                revision_trigger: None,
            };
            match crate::sync::sync_pack(&state.store, base, limits, &r, options) {
                Ok(_) => tracing::info!(pack = %r, "synced a pack an interrupted upload touched"),
                Err(e) => {
                    tracing::warn!(pack = %r, error = %e, "cannot sync a pack after an interrupted upload")
                }
            }
        }
    }
    if !state.config.register_packs_on_start {
        return;
    }
    match crate::sync::register::register_all_unregistered(&state.store, base, limits, "attune") {
        Ok(done) => {
            for r in &done.registered {
                tracing::info!(pack = %r, "registered pack folder at start-up");
            }
            for (folder, why) in &done.skipped {
                tracing::warn!(folder = %folder, reason = %why, "pack folder not registered at start-up");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot register pack folders at start-up"),
    }
}

/// Re-reads the TLS certificate and key on every SIGHUP; new connections
/// use the new pair, open ones keep theirs. A bad pair is logged and the
/// one in force stays.
#[cfg(unix)]
fn reload_on_sighup(tls: std::sync::Arc<crate::tls::Tls>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let t = tls.clone();
            match tokio::task::spawn_blocking(move || t.reload()).await {
                Ok(Ok(fingerprint)) => {
                    tracing::info!(%fingerprint, "TLS certificate reloaded");
                    eprintln!("TLS certificate reloaded, SHA-256 fingerprint {fingerprint}");
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "TLS reload failed; the certificate in force stays")
                }
                Err(e) => tracing::error!(error = %e, "TLS reload task failed"),
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn reload_on_sighup(_tls: std::sync::Arc<crate::tls::Tls>) -> anyhow::Result<()> {
    Ok(())
}

/// Installs the SIGTERM and SIGINT (ctrl-c) handlers now, so a signal that
/// arrives right after "listening on" is already caught, and returns the
/// future that resolves on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    })
}
