//! attune: a single-binary appliance that loads, validates and registers
//! automation-pack workflows, and serves a REST API and a web UI over them.
//!
//! The library holds everything; `src/main.rs` only parses the command line.
//! [`app`] builds the HTTP application from an [`AppState`] and [`serve`]
//! runs it on an already bound listener until the shutdown future resolves,
//! so tests bind `127.0.0.1:0` and drive the real server. The connection
//! loop (HTTP/1.1 on hyper) enforces the [`ServerLimits`]: header size and
//! count (431), header read timeout, a whole-request deadline (408, so a
//! client trickling its body is cut off) and a cap on open connections.

pub mod api;
pub mod auth;
pub mod budget;
pub mod cli;
pub mod config;
pub mod events;
pub mod metrics;
pub mod pack;
pub use attune_workflow::refs;
mod state;
pub mod store;
pub mod sync;
pub mod tls;
pub mod watch;
pub mod web;
pub use attune_workflow as workflow;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

pub use state::{AppState, StartupError};

/// Connection-level limits of [`serve_with_limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send the complete request head; past it the
    /// connection is closed.
    pub header_read_timeout: Duration,
    /// Time from the request head to the end of the response future: body
    /// upload plus handling. Past it: 408 and the connection is closed.
    pub request_timeout: Duration,
    /// Largest request head (request line plus headers); more → 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more → 431.
    pub max_headers: usize,
    /// Most connections served at once; further clients wait in the
    /// listen backlog.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_connections: 1024,
        }
    }
}

/// The HTTP application with the default request deadline.
pub fn app(state: AppState) -> axum::Router {
    app_with_limits(state, &ServerLimits::default())
}

/// The HTTP application; `limits.request_timeout` bounds every request.
pub fn app_with_limits(state: AppState, limits: &ServerLimits) -> axum::Router {
    let state_config = state.config.clone();
    api::router(state)
        .merge(web::router())
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            api::request_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            HostPolicy::of(&state_config),
            check_host,
        ))
        .layer(axum::middleware::from_fn(web::security_headers))
}

/// What `check_host` accepts: on a loopback bind, only loopback names and
/// `server.allowed_hosts` in `Host` (a DNS-rebinding page cannot reach the
/// API through a name it controls); with TLS, HSTS is sent.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    loopback_only: Option<Arc<Vec<String>>>,
    hsts: bool,
}

impl HostPolicy {
    fn of(config: &config::Config) -> HostPolicy {
        let host = config.server.host.trim_matches(['[', ']']);
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        HostPolicy {
            loopback_only: loopback.then(|| {
                Arc::new(
                    config
                        .server
                        .allowed_hosts
                        .iter()
                        .map(|h| h.to_ascii_lowercase())
                        .collect(),
                )
            }),
            hsts: config.server.tls.enabled(),
        }
    }
}

/// The name of a `Host` header value, without port and brackets.
fn host_name(value: &str) -> String {
    let v = value.trim();
    let name = if let Some(rest) = v.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        match v.rsplit_once(':') {
            Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n,
            _ => v,
        }
    };
    name.to_ascii_lowercase()
}

async fn check_host(
    axum::extract::State(policy): axum::extract::State<HostPolicy>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(allowed) = &policy.loopback_only {
        let host = req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(host_name);
        if let Some(name) = host {
            let ok = name == "localhost"
                || name.ends_with(".localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
                || allowed.contains(&name);
            if !ok {
                return api::ApiError::Forbidden(format!(
                    "host '{}' is not accepted on this loopback-only server; add it to \
                     server.allowed_hosts if you reach attune through it",
                    name.chars().take(64).collect::<String>()
                ))
                .into_response();
            }
        }
    }
    let mut res = next.run(req).await;
    if policy.hsts {
        res.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Serves [`app`] on `listener` with the default [`ServerLimits`] until
/// `shutdown` resolves; in-flight requests finish first. The database
/// closes when the last state clone drops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(listener, state, ServerLimits::default(), shutdown).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = state.tls.clone();
    let server_stop = state.shutdown.clone();
    let _watch = state
        .config
        .watch
        .enabled
        .then(|| watch::start(state.clone()));
    let app = app_with_limits(state, &limits);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Per-connection errors (reset before accept) are
                    // harmless; resource errors (EMFILE) need a pause
                    // instead of a busy loop.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    if !is_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // Cancelled by a handler to close this connection (a slow event
        // subscriber).
        let close = tokio_util::sync::CancellationToken::new();
        let close_req = close.clone();
        let service =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(remote));
                    req.extensions_mut()
                        .insert(api::events::CloseConnection(close_req.clone()));
                    req
                });
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        let handshake_limit = limits.header_read_timeout;
        tokio::spawn(async move {
            let serve = async move {
                match tls {
                    None => {
                        let conn = builder.serve_connection(
                            TokioIo::new(stream),
                            TowerToHyperService::new(service),
                        );
                        watcher.watch(conn).await
                    }
                    Some(tls) => {
                        // A client that does not finish its handshake in
                        // time, or speaks plain HTTP to the TLS port, is
                        // dropped.
                        match tokio::time::timeout(handshake_limit, tls.acceptor().accept(stream))
                            .await
                        {
                            Ok(Ok(stream)) => {
                                let conn = builder.serve_connection(
                                    TokioIo::new(stream),
                                    TowerToHyperService::new(service),
                                );
                                watcher.watch(conn).await
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, peer = %remote, "TLS handshake failed");
                                Ok(())
                            }
                            Err(_) => {
                                tracing::debug!(peer = %remote, "TLS handshake timed out");
                                Ok(())
                            }
                        }
                    }
                }
            };
            tokio::select! {
                result = serve => if let Err(e) = result {
                    tracing::debug!(error = %e, peer = %remote, "connection ended with an error");
                },
                () = close.cancelled() => {
                    tracing::debug!(peer = %remote, "connection closed by the server");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    // Ends event streams and the watcher: open streams would otherwise
    // hold the graceful shutdown forever.
    server_stop.cancel();
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
