//! `/api/v1/tokens`: API tokens for scripts.
//!
//! `POST` makes a token for the caller and answers its secret once
//! (`att_…`, 64 hex digits after the prefix; only its SHA-256 is stored);
//! its role is at most the caller's (403 otherwise) and it acts with the
//! lower of that role and the owner's role at each request. A token can
//! only be made from a login session, not with another API token (a
//! leaked token cannot mint longer-lived ones). `GET` lists the caller's
//! tokens (an admin sees everyone's); `DELETE /api/v1/tokens/{id}` revokes
//! one of the caller's (an admin: anyone's; someone else's token is 404
//! for non-admins, as if it did not exist).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::{NoStore, no_store};
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json};
use super::routes::{Access, Routes, endpoint};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::auth;
use crate::store::{ApiToken, Role};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Viewer, endpoint!(create_token))
        .add(Access::Viewer, endpoint!(list_tokens))
        .add(Access::Viewer, endpoint!(revoke_token))
}

/// Longest accepted token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest accepted lifetime: ten years, in seconds.
pub const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// `POST /api/v1/tokens` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for (1 to 64 characters).
    pub name: String,
    /// At most the caller's role (default: the caller's role).
    pub role: Option<Role>,
    /// Lifetime in seconds (default: no expiry).
    pub expires_in: Option<u64>,
}

/// An API token as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: u64,
    pub name: String,
    pub role: Role,
    /// Login of the owner.
    pub owner: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires: Option<OffsetDateTime>,
    /// Last use, to the minute.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used: Option<OffsetDateTime>,
}

impl TokenView {
    fn new(t: ApiToken, owner: String) -> TokenView {
        TokenView {
            id: t.id,
            name: t.name,
            role: t.role,
            owner,
            created: t.created,
            expires: t.expires,
            last_used: t.last_used,
        }
    }
}

/// A new token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret: send it as `Authorization: Bearer att_…`. Not shown again.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// Make an API token for the caller; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = Envelope<CreatedToken>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "role above the caller's, or called with an API token",
            body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateTokenRequest>,
) -> Result<(StatusCode, NoStore<Envelope<CreatedToken>>), ApiError> {
    if caller.api_token.is_some() {
        return Err(ApiError::Forbidden(
            "API tokens cannot make API tokens; log in (POST /auth/login) and use that access token"
                .into(),
        ));
    }
    let name = body.name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::ValidationFailed(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    let expires = match body.expires_in {
        None => None,
        Some(0) => {
            return Err(ApiError::ValidationFailed(
                "expires_in must be a positive number of seconds (omit it for no expiry)".into(),
            ));
        }
        Some(secs) if secs > MAX_EXPIRES_IN => {
            return Err(ApiError::ValidationFailed(format!(
                "expires_in must be at most {MAX_EXPIRES_IN} seconds (ten years)"
            )));
        }
        Some(secs) => Some(OffsetDateTime::now_utc() + time::Duration::seconds(secs as i64)),
    };
    let role = body.role.unwrap_or(caller.user.role);
    let owner = caller.user.clone();
    let (secret, record) = state
        .store
        .call(move |store| Ok(auth::issue_api_token(store, &owner, &name, role, expires)))
        .await??;
    tracing::info!(user = %caller.user.login, token = record.id, name = %record.name,
        role = %record.role, "API token created");
    Ok((
        StatusCode::CREATED,
        no_store(Envelope::with_message(
            CreatedToken {
                token: secret,
                info: TokenView::new(record, caller.user.login),
            },
            "API token created; copy it now, it is not shown again",
        )),
    ))
}

/// The caller's API tokens (an admin sees everyone's), by id.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = ListEnvelope<TokenView>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ListEnvelope<TokenView>, ApiError> {
    let only = (caller.role < Role::Admin).then_some(caller.user.id);
    let (tokens, users) = state
        .store
        .call(move |s| Ok((s.list_api_tokens(only)?, s.list_users()?)))
        .await?;
    let login = |id: u64| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.login.clone())
            .unwrap_or_else(|| format!("(deleted user {id})"))
    };
    let data: Vec<TokenView> = tokens
        .into_iter()
        .map(|t| {
            let owner = login(t.user_id);
            TokenView::new(t, owner)
        })
        .collect();
    let total = data.len() as u64;
    Ok(ListEnvelope {
        data,
        meta: PageParams::meta(1, total.max(1), total),
        message: None,
    })
}

/// Revoke an API token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = u64, Path, description = "Token id")),
    responses((status = 200, body = Envelope<TokenView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    raw: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Envelope<TokenView>, ApiError> {
    let axum::extract::Path(raw) =
        raw.map_err(|e| ApiError::BadRequest(format!("invalid path: {e}")))?;
    let id: u64 = raw.parse().map_err(|_| {
        let shown: String = raw.chars().take(32).collect();
        ApiError::BadRequest(format!(
            "invalid token id '{shown}': expected a positive integer"
        ))
    })?;
    let only = (caller.role < Role::Admin).then_some(caller.user.id);
    let (token, owner) = state
        .store
        .call(move |s| {
            let t = s.revoke_api_token(id, only)?;
            let owner = s
                .user_by_id(t.user_id)?
                .map(|u| u.login)
                .unwrap_or_default();
            Ok((t, owner))
        })
        .await?;
    tracing::info!(user = %caller.user.login, token = token.id, name = %token.name,
        "API token revoked");
    Ok(Envelope::with_message(
        TokenView::new(token, owner),
        "API token revoked",
    ))
}
