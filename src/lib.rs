//! attune: a single-binary appliance that loads, validates and registers
//! automation-pack workflows, and serves a REST API and a web UI over them.
//!
//! The library holds everything; `src/main.rs` only parses the command line.
//! [`app`] builds the HTTP application from an [`AppState`] and [`serve`]
//! runs it on an already bound listener until the shutdown future resolves,
//! so tests bind `127.0.0.1:0` and drive the real server. The connection
//! loop lives in `server.rs`.

pub mod api;
pub mod auth;
pub mod budget;
pub mod cli;
pub mod config;
pub mod events;
pub mod metrics;
pub mod pack;
mod server;
pub use attune_workflow::refs;
mod state;
pub mod store;
pub mod sync;
pub mod textdiff;
pub mod tls;
pub mod watch;
pub mod web;
pub use attune_workflow as workflow;

use std::sync::Arc;

pub use server::{ServerLimits, serve, serve_with_limits};
pub use state::{AppState, StartupError};

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
/// The host name of a `Host` value, without port or IPv6 brackets (as
/// written: compare it ignoring ASCII case). Borrowed: no allocation per
/// request.
fn host_name(value: &str) -> &str {
    let v = value.trim();
    if let Some(rest) = v.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        match v.rsplit_once(':') {
            Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n,
            _ => v,
        }
    }
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
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
            let ok = name.eq_ignore_ascii_case("localhost")
                || ends_with_ignore_case(name, ".localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
                || allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
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
