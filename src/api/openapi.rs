//! `GET /api/openapi.json`: the OpenAPI 3 document of the API, generated
//! from the handlers' `#[utoipa::path]` annotations (no authentication, so
//! tools can fetch it). A new resource adds its paths and schemas here.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "attune", description = "Pack workflow appliance API"),
    paths(
        super::health::health,
        super::auth::login,
        super::auth::refresh,
        super::auth::me,
        super::auth::change_password,
        super::packs::list_packs,
        super::packs::create_pack,
        super::packs::get_pack,
        super::packs::update_pack,
        super::packs::delete_pack,
    ),
    components(schemas(super::error::ErrorBody, super::PageMeta)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness"),
        (name = "auth", description = "Login and tokens"),
        (name = "packs", description = "Pack CRUD"),
    )
)]
pub struct ApiDoc;

/// The document as served.
pub fn document_value() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

async fn document() -> Json<serde_json::Value> {
    let mut doc = serde_json::to_value(document_value()).unwrap_or_default();
    super::openapi_rules::apply(&mut doc);
    Json(doc)
}
