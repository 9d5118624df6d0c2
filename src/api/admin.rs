//! `/api/v1/admin`: operations over HTTP while the server runs.
//!
//! `GET /api/v1/admin/backup` streams a consistent copy of the database: the
//! store copies one read transaction (a snapshot) into a temporary redb file
//! in the data directory on the blocking pool, the file is unlinked while
//! still open, and its bytes are streamed. Requests keep being served, and
//! writes keep committing, while the copy is made.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::error::{ApiError, ErrorBody};
use super::extract::AuthUser;
use super::routes::{Access, Routes, endpoint};
use crate::AppState;
use crate::store::backup::{self, BackupError};

pub fn router() -> Routes {
    Routes::new().add(Access::Admin, endpoint!(backup))
}

/// Header carrying the schema version of the streamed backup.
pub const SCHEMA_VERSION_HEADER: &str = "x-attune-schema-version";

/// A consistent copy of the database, as a redb file (`attune restore FILE`
/// takes it back).
#[utoipa::path(get, path = "/api/v1/admin/backup", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the database file (application/octet-stream)",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody),
        (status = 500, body = ErrorBody)))]
pub async fn backup(
    AuthUser(user): AuthUser,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let dir = state.config.data_dir.clone();
    let (file, summary) = state
        .store
        .call(move |store| Ok(copy_and_open(store, &dir)))
        .await?
        .map_err(|e| ApiError::Internal(format!("backup failed: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| ApiError::Internal(format!("backup failed: {e}")))?
        .len();
    tracing::info!(
        user = %user.login,
        bytes = len,
        records = %summary.describe(),
        "database backup streamed"
    );
    let stamp = OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "now".into());
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut res = Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"attune-{stamp}.redb\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        SCHEMA_VERSION_HEADER,
        HeaderValue::from(summary.schema_version),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Copies the database into a temporary file of `dir`, opens it and unlinks
/// it, so the bytes live exactly as long as the response streams them.
fn copy_and_open(
    store: &crate::store::Store,
    dir: &std::path::Path,
) -> Result<(std::fs::File, backup::Summary), BackupError> {
    let tmp = backup::online_temp_path(dir)?;
    let summary = store.backup_to(&tmp)?;
    let opened = std::fs::File::open(&tmp);
    let _ = std::fs::remove_file(&tmp);
    let file = opened.map_err(|source| BackupError::Io {
        path: tmp,
        action: "cannot reopen the backup copy",
        source,
    })?;
    Ok((file, summary))
}
