//! The connection loop (HTTP/1.1 on hyper, plain or TLS): it enforces the
//! [`ServerLimits`] — header size and count (431), header read timeout, a
//! whole-request deadline (408, so a client trickling its body is cut off)
//! and a cap on open connections — closes a connection a handler asks to
//! close (a slow event subscriber), starts watch mode, and drains on
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

use crate::{AppState, api, app_with_limits, watch};

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
