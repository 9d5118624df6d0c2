//! `/api/v1/users`: user management over the API (admin only).
//!
//! `GET/POST /api/v1/users`, `GET/PUT/DELETE /api/v1/users/{login}`. A
//! change of role, of `disabled` or a password reset revokes the user's
//! tokens at once (the token generation is bumped in the same write);
//! deleting a user makes their tokens unusable (authentication looks the
//! user up). The last enabled admin can be neither deleted, disabled nor
//! demoted (409). Password hashes are never answered.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::UserView;
use super::error::{ApiError, ErrorBody};
use super::extract::{AuthUser, Json};
use super::routes::{Access, Routes, endpoint};
use super::{Envelope, ListEnvelope, PageParams};
use crate::AppState;
use crate::auth;
use crate::store::{Role, UserChange};

pub fn router() -> Routes {
    Routes::new()
        .add(Access::Admin, endpoint!(list_users))
        .add(Access::Admin, endpoint!(create_user))
        .add(Access::Admin, endpoint!(get_user))
        .add(Access::Admin, endpoint!(update_user))
        .add(Access::Admin, endpoint!(delete_user))
}

/// `POST /api/v1/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub login: String,
    /// At least 8 characters.
    pub password: String,
    /// Default `operator`.
    pub role: Option<Role>,
}

/// `PUT /api/v1/users/{login}` body: every field optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new password (a reset by an admin).
    pub password: Option<String>,
}

/// The `{login}` of the path, checked.
#[derive(Debug)]
pub struct LoginPath(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LoginPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::BadRequest(format!("invalid path: {e}")))?;
        auth::check_login(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        Ok(LoginPath(raw))
    }
}

/// List users, by id.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = ListEnvelope<UserView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_users(State(state): State<AppState>) -> Result<ListEnvelope<UserView>, ApiError> {
    let users = state.store.call(|s| s.list_users()).await?;
    let total = users.len() as u64;
    Ok(ListEnvelope {
        data: users.into_iter().map(UserView::from).collect(),
        meta: PageParams::meta(1, total.max(1), total),
        message: None,
    })
}

/// Create a user (default role `operator`).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = Envelope<UserView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    Json(body): Json<CreateUserRequest>,
) -> Result<(StatusCode, Envelope<UserView>), ApiError> {
    auth::check_login(&body.login)?;
    auth::check_password_rules(&body.password)?;
    let role = body.role.unwrap_or(Role::Operator);
    let user = state
        .store
        .call(move |store| {
            let hash = auth::hash_password(&body.password)
                .map_err(|e| crate::store::StoreError::Task(e.to_string()))?;
            store.create_user_as(&body.login, &hash, Some(role))
        })
        .await?;
    tracing::info!(by = %admin.login, user = %user.login, role = %user.role, "user created");
    Ok((
        StatusCode::CREATED,
        Envelope::with_message(user.into(), "User created"),
    ))
}

/// Fetch one user.
#[utoipa::path(get, path = "/api/v1/users/{login}", tag = "users",
    params(("login" = String, Path, description = "Login name")),
    responses((status = 200, body = Envelope<UserView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    LoginPath(login): LoginPath,
) -> Result<Envelope<UserView>, ApiError> {
    let found = {
        let login = login.clone();
        state.store.call(move |s| s.user_by_login(&login)).await?
    };
    found
        .map(|u| Envelope::new(u.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no user '{login}'")))
}

/// Change a user's role, enable or disable them, or reset their password.
/// Any of these revokes the user's tokens at once.
#[utoipa::path(put, path = "/api/v1/users/{login}", tag = "users",
    params(("login" = String, Path, description = "Login name")),
    request_body = UpdateUserRequest,
    responses((status = 200, body = Envelope<UserView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "would leave no enabled admin", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    LoginPath(login): LoginPath,
    Json(body): Json<UpdateUserRequest>,
) -> Result<Envelope<UserView>, ApiError> {
    if let Some(p) = &body.password {
        auth::check_password_rules(p)?;
    }
    let user = {
        let login = login.clone();
        state
            .store
            .call(move |store| {
                let password_hash = match &body.password {
                    Some(p) => Some(
                        auth::hash_password(p)
                            .map_err(|e| crate::store::StoreError::Task(e.to_string()))?,
                    ),
                    None => None,
                };
                store.update_user(
                    &login,
                    &UserChange {
                        role: body.role,
                        disabled: body.disabled,
                        password_hash,
                    },
                )
            })
            .await?
    };
    tracing::info!(by = %admin.login, user = %user.login, role = %user.role,
        disabled = user.disabled, "user changed");
    Ok(Envelope::with_message(
        user.into(),
        "User updated; tokens issued to them before are no longer valid",
    ))
}

/// Delete a user; their tokens stop working.
#[utoipa::path(delete, path = "/api/v1/users/{login}", tag = "users",
    params(("login" = String, Path, description = "Login name")),
    responses((status = 200, body = Envelope<UserView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the last enabled admin", body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    LoginPath(login): LoginPath,
) -> Result<Envelope<UserView>, ApiError> {
    let user = state.store.call(move |s| s.delete_user(&login)).await?;
    tracing::info!(by = %admin.login, user = %user.login, "user deleted");
    Ok(Envelope::with_message(user.into(), "User deleted"))
}
