//! attune: a single-binary appliance that loads, validates and registers
//! automation-pack workflows, and serves a REST API and a web UI over them.
//!
//! The library holds everything; `src/main.rs` only parses the command line.
//! [`app`] builds the HTTP application from an [`AppState`] and [`serve`]
//! runs it on an already bound listener until the shutdown future resolves,
//! so tests bind `127.0.0.1:0` and drive the real server.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod pack;
pub mod refs;
mod state;
pub mod store;
pub mod sync;
pub mod web;
pub mod workflow;

use std::future::Future;

pub use state::{AppState, StartupError};

/// The HTTP application.
pub fn app(state: AppState) -> axum::Router {
    api::router(state)
        .merge(web::router())
        .layer(axum::middleware::from_fn(web::security_headers))
}

/// Serves [`app`] on `listener` until `shutdown` resolves; in-flight requests
/// finish first. The database closes when the last state clone drops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
