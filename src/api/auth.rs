//! `/auth/*`: login (throttled by `auth::ratelimit`), refresh, me,
//! change-password.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Extension, FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::Envelope;
use super::error::ApiError;
use super::extract::{AuthUser, Json};
use super::routes::{Access, Routes, endpoint};
use crate::AppState;
use crate::auth::ratelimit::LoginLimiter;
use crate::auth::{self, TokenPair};
use crate::store::User;

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Public, endpoint!(login))
        .add(Access::Public, endpoint!(refresh))
        .add(Access::Viewer, endpoint!(me))
        .add(Access::Viewer, endpoint!(change_password))
        .add(Access::Viewer, endpoint!(logout))
}

/// `POST /auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// `POST /auth/refresh` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /auth/change-password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

/// A token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        TokenResponse {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: "Bearer",
            expires_in: p.expires_in,
        }
    }
}

/// The current user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: u64,
    pub login: String,
    pub role: crate::store::Role,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated: OffsetDateTime,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            login: u.login,
            role: u.role,
            disabled: u.disabled,
            created: u.created,
            updated: u.updated,
        }
    }
}

/// The peer address of the connection (the server inserts
/// `ConnectInfo<SocketAddr>`); `None` when served without one. Proxy
/// headers such as `X-Forwarded-For` are deliberately not trusted.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Exchange a login and password for an access and a refresh token.
///
/// Failed attempts are throttled per login and per client address with
/// exponential backoff (capped at five minutes): a throttled attempt gets
/// 429 with `Retry-After`, whatever the password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Envelope<TokenResponse>), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody),
        (status = 429, description = "too many failed attempts; wait `Retry-After` seconds",
            body = super::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<NoStore<Envelope<TokenResponse>>, ApiError> {
    let attempt = limiter
        .begin(&body.login, ip, Instant::now())
        .map_err(|wait| {
            state.metrics.login_throttled();
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                message: format!(
                    "too many failed login attempts; wait {secs} s before trying again"
                ),
                retry_after: secs,
            }
        })?;
    if let Some(scope) = crate::store::audit::AuditScope::current() {
        scope.set_user(&body.login.chars().take(64).collect::<String>(), "");
    }
    let keys = state.keys.clone();
    let ttls = state.ttls();
    let pair = state
        .store
        .call(move |store| {
            Ok(auth::check_credentials(store, &body.login, &body.password)
                .and_then(|user| auth::start_session(store, &keys, &user, ttls)))
        })
        .await?
        .inspect_err(|e| {
            if matches!(e, auth::AuthError::BadCredentials) {
                state.metrics.login_failed();
            }
        })?;
    limiter.succeeded(attempt);
    Ok(no_store(Envelope::with_message(pair.into(), "Logged in")))
}

/// A response that caches must not keep (token responses).
pub type NoStore<T> = ([(axum::http::HeaderName, &'static str); 1], T);

/// Marks a response `Cache-Control: no-store`.
pub fn no_store<T>(body: T) -> NoStore<T> {
    ([(axum::http::header::CACHE_CONTROL, "no-store")], body)
}

/// Exchange a refresh token for a new token pair. The refresh token is
/// rotated: the one sent stops working, and sending it again (a replay)
/// ends the whole session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Envelope<TokenResponse>), (status = 401, body = super::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<NoStore<Envelope<TokenResponse>>, ApiError> {
    let keys = state.keys.clone();
    let ttls = state.ttls();
    let pair = state
        .store
        .call(move |store| {
            Ok(auth::refresh_session(
                store,
                &keys,
                &body.refresh_token,
                ttls,
            ))
        })
        .await??;
    Ok(no_store(Envelope::with_message(
        pair.into(),
        "Token refreshed",
    )))
}

/// The authenticated user.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Envelope<UserView>), (status = 401, body = super::error::ErrorBody)))]
pub async fn me(AuthUser(user): AuthUser) -> Envelope<UserView> {
    Envelope::new(user.into())
}

/// Change the caller's password. Every token issued before is revoked; the
/// response carries a fresh pair.
#[utoipa::path(post, path = "/auth/change-password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = Envelope<TokenResponse>), (status = 401, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<NoStore<Envelope<TokenResponse>>, ApiError> {
    let keys = state.keys.clone();
    let ttls = state.ttls();
    let pair = state
        .store
        .call(move |store| {
            Ok((|| {
                if !auth::verify_password(&body.current_password, &user.password_hash) {
                    return Err(auth::AuthError::WrongCurrentPassword);
                }
                auth::check_password_rules(&body.new_password)?;
                let hash = auth::hash_password(&body.new_password)?;
                let updated = store.set_password(user.id, &hash)?;
                auth::start_session(store, &keys, &updated, ttls)
            })())
        })
        .await??;
    Ok(no_store(Envelope::with_message(
        pair.into(),
        "Password changed; tokens issued before are no longer valid",
    )))
}

/// End the caller's session: its refresh token and every access token of
/// the session stop working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 200, body = Envelope<Object>), (status = 401, body = super::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: super::extract::Caller,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let ended = match caller.session {
        Some(sid) => state.store.call(move |s| s.end_session(sid)).await?,
        None => false,
    };
    Ok(Envelope::with_message(
        serde_json::json!({"session_ended": ended}),
        if ended {
            "Logged out"
        } else {
            "No session to end (API tokens are revoked with DELETE /api/v1/tokens/{id})"
        },
    ))
}
