//! `/api/v1/events`: server-sent events from the [`crate::events`] bus.
//!
//! A browser's `EventSource` cannot send an `Authorization` header, and an
//! access token in a URL ends up in logs and history. So a client first
//! asks `POST /api/v1/events/ticket` (bearer token) for a ticket: random,
//! single use, valid [`TICKET_TTL`], kept only in memory; then opens
//! `GET /api/v1/events?ticket=…`. Clients that can send headers (curl) may
//! open the stream with the bearer token instead.
//!
//! The stream: `ready` first, then one SSE event per bus event (`event:`
//! is its kind, `data:` its JSON), a `: heartbeat` comment every
//! [`HEARTBEAT`] when idle. It ends when the server shuts down and after
//! the access-token lifetime (the client reconnects with a new ticket, so
//! a revoked user stops receiving). A client that falls behind — more than
//! [`CLIENT_BUFFER`] events waiting because it does not read — is dropped:
//! its connection is closed, nothing is buffered for it beyond that.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::Envelope;
use super::error::{ApiError, ErrorBody};
use super::extract::{AuthUser, Query};
use super::routes::{Access, Routes, endpoint};
use crate::AppState;
use crate::events::{Published, TICKET_TTL, TicketError};

/// The stream is declared public in the route table because it carries
/// its own credential (a ticket, or the bearer token checked by the
/// handler): `EventSource` cannot send the header `require_role` reads.
/// Without either it answers 401.
pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(create_ticket))
        .add(Access::Public, endpoint!(stream_events))
}

/// Event streams open at once; more → 503. Each holds one connection
/// (of `ServerLimits::max_connections`, 1,024 by default).
pub const MAX_SUBSCRIBERS: usize = 1000;
/// Events waiting for one client; one more and it is dropped.
pub const CLIENT_BUFFER: usize = 64;
/// Comment sent on an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Set by the server loop on each request: cancelling it closes the
/// request's connection (used to drop a slow event subscriber, whose
/// stream the connection no longer polls).
#[derive(Debug, Clone)]
pub struct CloseConnection(pub CancellationToken);

/// A ticket for `GET /api/v1/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    pub ticket: String,
    /// Seconds left to open the stream with it.
    pub expires_in: u64,
}

/// Get a single-use ticket (valid 30 s) to open the event stream.
#[utoipa::path(post, path = "/api/v1/events/ticket", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = Envelope<Ticket>), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn create_ticket(
    AuthUser(user): AuthUser,
    State(state): State<AppState>,
) -> Result<Envelope<Ticket>, ApiError> {
    let ticket = state.tickets.issue(&user.login).map_err(|e| match e {
        TicketError::TooMany => ApiError::TooManyRequests {
            message: "too many event tickets outstanding; use the ones issued or retry later"
                .into(),
            retry_after: TICKET_TTL.as_secs(),
        },
        TicketError::Random(m) => ApiError::Internal(format!("cannot generate a ticket: {m}")),
    })?;
    Ok(Envelope::new(Ticket {
        ticket,
        expires_in: TICKET_TTL.as_secs(),
    }))
}

/// `?ticket=` of the stream.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// From `POST /api/v1/events/ticket`; or send the bearer token instead.
    pub ticket: Option<String>,
}

/// Server-sent events: `run_finished`, `pack_created`, `pack_updated`,
/// `pack_deleted`, `discovery_changed` (data: the event's JSON, with
/// `kind`), after a first `ready`.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security((), ("bearer" = [])),
    params(StreamParams),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream",
            body = crate::events::Event),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn stream_events(
    State(state): State<AppState>,
    Query(params): Query<StreamParams>,
    bearer: Result<AuthUser, ApiError>,
    close: Option<Extension<CloseConnection>>,
) -> Result<Response, ApiError> {
    let login = match &params.ticket {
        Some(t) => state.tickets.redeem(t).ok_or_else(|| {
            ApiError::Unauthorized(
                "invalid or expired event ticket; get a new one with POST /api/v1/events/ticket"
                    .into(),
            )
        })?,
        None => bearer?.0.login,
    };
    if state.events.subscribers() >= MAX_SUBSCRIBERS {
        return Err(ApiError::Unavailable(format!(
            "too many event streams open ({MAX_SUBSCRIBERS}); close some and retry"
        )));
    }
    let rx = state.events.subscribe();
    let (tx, out) = mpsc::channel::<Published>(CLIENT_BUFFER);
    let lifetime = Duration::from_secs(state.config.auth.access_token_ttl.max(1));
    tokio::spawn(forward(
        rx,
        tx,
        state.shutdown.clone(),
        close.map(|Extension(c)| c.0),
        lifetime,
        login,
    ));
    let ready = SseEvent::default()
        .event("ready")
        .data(r#"{"kind":"ready"}"#);
    let first = futures_util::stream::once(async move { Ok::<_, Infallible>(ready) });
    let rest = futures_util::stream::unfold(out, |mut out| async move {
        let p = out.recv().await?;
        Some((
            Ok::<_, Infallible>(SseEvent::default().event(p.name).data(&*p.json)),
            out,
        ))
    });
    use futures_util::StreamExt;
    let sse = Sse::new(first.chain(rest))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"));
    let mut res = sse.into_response();
    // No proxy buffering (nginx), no caching.
    res.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// Moves events from the bus to one client's buffer until the client
/// goes, the server stops, the stream's lifetime ends, or the client falls
/// behind (then its connection is closed).
async fn forward(
    mut rx: broadcast::Receiver<Published>,
    tx: mpsc::Sender<Published>,
    stop: CancellationToken,
    close: Option<CancellationToken>,
    lifetime: Duration,
    login: String,
) {
    let end = tokio::time::sleep(lifetime);
    tokio::pin!(end);
    let drop_client = |why: &str| {
        tracing::info!(user = %login, reason = why, "event subscriber dropped");
        if let Some(c) = &close {
            c.cancel();
        }
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = &mut end => break,
            () = tx.closed() => break,
            got = rx.recv() => match got {
                Ok(p) => match tx.try_send(p) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        drop_client("client does not read its events");
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => break,
                },
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    drop_client(&format!("fell {n} events behind"));
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
}
