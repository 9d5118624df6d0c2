//! Extractors whose rejections use the error envelope: [`Json`], [`Query`],
//! [`PackRefPath`] and the bearer-token [`AuthUser`].
//!
//! Body errors: malformed JSON or a body of the wrong shape → 400
//! `BAD_REQUEST`; a missing or non-JSON `Content-Type` → 415
//! `UNSUPPORTED_MEDIA_TYPE`; a body over 2 MiB → 413 `PAYLOAD_TOO_LARGE`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::AppState;
use crate::auth::{self, Role, TokenType};
use crate::refs::PackRef;
use crate::store::User;

/// JSON body extractor with envelope rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// The innermost cause of an error, which for serde is the useful message.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::body_too_large();
    }
    match rejection {
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::BadRequest(format!("malformed JSON body: {}", root_cause(&e)))
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::BadRequest(format!("invalid request body: {}", root_cause(&e)))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "request body must be JSON: send the header 'Content-Type: application/json'".into(),
        ),
        other => ApiError::BadRequest(format!("cannot read request body: {}", other.body_text())),
    }
}

/// Query-string extractor with envelope rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| {
                ApiError::BadRequest(format!("invalid query string: {}", root_cause(&e)))
            })
    }
}

/// Path extractor for routes with one `{ref}` segment: 400 for a bad ref,
/// before any lookup.
#[derive(Debug, Clone)]
pub struct PackRefPath(pub PackRef);

impl<S: Send + Sync> FromRequestParts<S> for PackRefPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e: PathRejection| {
                    ApiError::BadRequest(format!("invalid path: {}", root_cause(&e)))
                })?;
        PackRef::parse(&raw)
            .map(PackRefPath)
            .map_err(ApiError::BadRequest)
    }
}

/// The bearer token of the request, not yet verified: for handlers that
/// verify it in the same blocking call as their own store work (one trip
/// to the blocking pool instead of two). Missing or malformed → 401.
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        BearerToken::from_headers(&parts.headers)
    }
}

impl BearerToken {
    /// The token of an `Authorization: Bearer` header; 401 when missing or
    /// malformed.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Result<BearerToken, ApiError> {
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "missing access token: send 'Authorization: Bearer <token>' (get one from POST /auth/login)"
                        .into(),
                )
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "malformed Authorization header: expected 'Bearer <token>'".into(),
                )
            })?
            .to_string();
        Ok(BearerToken(token))
    }
}

/// The authenticated caller of a route: the user, the role the request
/// acts with, and how it authenticated. The route layer
/// (`api::routes::require_role`) resolves it once, checks the route's
/// minimum role, and stores it in the request extensions; handlers take it
/// (or [`AuthUser`]) as an extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The effective role of this request (an API token's role is capped
    /// by its owner's current role).
    pub role: Role,
    /// The login session of a JWT access token.
    pub session: Option<u64>,
    /// The API token used, if any: `(id, name)`.
    pub api_token: Option<(u64, String)>,
}

impl Caller {
    /// Authenticates the request's bearer token (401 when missing, invalid,
    /// expired or revoked).
    ///
    /// A token seen lately answers from the
    /// [authentication cache](super::auth_cache) until the store changes.
    pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = BearerToken::from_headers(&parts.headers)?;
        let key = super::auth_cache::key_of(&token.0);
        // Read before the lookup: a write after it makes the entry stale.
        let epoch = state.store.write_epoch();
        if let Some(caller) = state.auth_cache.get(&key, epoch) {
            return Ok(caller);
        }
        let (caller, expires) = if token.0.starts_with(auth::API_TOKEN_PREFIX) {
            let (user, role, api) = state
                .store
                .call(move |store| Ok(auth::authenticate_api_token(store, &token.0)))
                .await??;
            let expires = api.expires.map_or(i64::MAX, |t| t.unix_timestamp());
            let caller = Caller {
                user,
                role,
                session: None,
                api_token: Some((api.id, api.name)),
            };
            (caller, expires)
        } else {
            let claims = state.keys.decode(&token.0, TokenType::Access)?;
            let expires = claims.exp;
            let (user, session) = state
                .store
                .call(move |store| Ok(auth::session_user(store, &claims)))
                .await??;
            let caller = Caller {
                role: user.role,
                user,
                session,
                api_token: None,
            };
            (caller, expires)
        };
        state.auth_cache.put(key, epoch, expires, caller.clone());
        Ok(caller)
    }

    /// The name of the API token the request came with, if any.
    pub fn token_name(&self) -> Option<String> {
        self.api_token.as_ref().map(|(_, name)| name.clone())
    }

    async fn from_parts(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(caller) => Ok(caller.clone()),
            None => Caller::authenticate(parts, state).await,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Caller::from_parts(parts, state).await
    }
}

/// The caller's user (see [`Caller`]).
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Caller::from_parts(parts, state)
            .await
            .map(|caller| AuthUser(caller.user))
    }
}
