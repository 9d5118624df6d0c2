//! `GET /api/openapi.json`: the OpenAPI 3 document of the whole HTTP API
//! (no authentication, so tools can fetch it). Its `paths` come from the
//! route table (`api::routes()`: each handler's `#[utoipa::path]`
//! annotation plus its minimum role as `x-min-role`); this module adds the
//! info, tags, shared schemas and the `bearer` security scheme.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::routes::{Access, Routes, endpoint};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "attune", description = "Pack workflow appliance: packs, workflow sync and validation, workflows, run history."),
    components(schemas(
        super::error::ErrorBody,
        super::PageMeta,
        super::reports::DiagnosticSchema,
        super::reports::SnippetSchema,
        super::reports::SyncReportView,
        super::reports::ValidateReportView,
        super::reports::SyncedWorkflowView,
        super::reports::FailedWorkflowView,
        super::reports::WorkflowStatusView,
        super::reports::TriggerView,
        super::reports::RevisionPairView,
        crate::events::Event,
        crate::watch::WatchReport,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health"), (name = "auth"), (name = "packs"),
        (name = "pack workflows", description = "The sync and validate endpoints of the pack-workflows API document"),
        (name = "pack delivery", description = "Packs onto the appliance: discover, register from disk, upload an archive, export"),
        (name = "workflows"), (name = "runs"), (name = "schema"), (name = "admin"), (name = "users"), (name = "tokens"), (name = "audit"),
        (name = "events", description = "Server-sent events: runs finished, packs changed"),
        (name = "metrics", description = "Prometheus metrics (metrics.enabled, metrics.token)"),
        (name = "openapi"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the paths refer to.
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
                    .description(Some("access token from POST /auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("metrics.token from the configuration"))
                    .build(),
            ),
        );
    }
}

pub fn router() -> Routes {
    Routes::new().add(Access::Public, endpoint!(openapi_json))
}

/// The document as served (with the crate version).
pub fn document_value() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::routes().into_doc());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// This document, with the value rules of `openapi_rules` applied.
#[utoipa::path(get, path = "/api/openapi.json", tag = "openapi",
    responses((status = 200, description = "OpenAPI 3 document", body = Object)))]
pub async fn openapi_json() -> axum::Json<serde_json::Value> {
    let mut doc = serde_json::to_value(document_value()).unwrap_or_default();
    super::openapi_rules::apply(&mut doc);
    axum::Json(doc)
}
