//! The route table: each route is declared once, with its minimum role, and
//! both the axum router and the OpenAPI `paths` are derived from it.
//!
//! A resource module declares its routes in `router()`, one line each:
//!
//! ```text
//! pub fn router() -> Routes {
//!     Routes::new()
//!         .add(Access::Viewer, endpoint!(list_packs))
//!         .add(Access::Operator, endpoint!(create_pack))
//! }
//! ```
//!
//! [`endpoint!`] takes a handler annotated with `#[utoipa::path]`: its path
//! and method come from that annotation (so the router and the document can
//! never disagree), its operation goes into the OpenAPI document with the
//! minimum role as `x-min-role` (plus a `bearer` security requirement for
//! every role but [`Access::Public`]), and the handler is served behind
//! [`require_role`], the one place roles are enforced: it authenticates the
//! caller (401), compares the caller's effective role with the route's
//! minimum (403 `FORBIDDEN` naming the role needed) and hands the caller to
//! the handler as a request extension ([`super::extract::Caller`]).

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::SecurityRequirement;

use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

use super::error::ApiError;
use super::extract::Caller;
use crate::AppState;
use crate::auth::Role;
use crate::config::REQUEST_BODY_LIMIT;
use crate::store::audit::{AUDIT, AuditScope};

/// Who may call a route: anyone, or an authenticated caller with at least
/// this role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No authentication (health, login, the OpenAPI document).
    Public,
    Viewer,
    Operator,
    Admin,
}

impl Access {
    /// The minimum role, `None` for a public route.
    pub fn role(self) -> Option<Role> {
        match self {
            Access::Public => None,
            Access::Viewer => Some(Role::Viewer),
            Access::Operator => Some(Role::Operator),
            Access::Admin => Some(Role::Admin),
        }
    }

    /// The `x-min-role` value of the OpenAPI document.
    pub fn as_str(self) -> &'static str {
        match self.role() {
            None => "public",
            Some(role) => role.as_str(),
        }
    }
}

/// Name of the OpenAPI operation extension carrying the minimum role.
pub const MIN_ROLE_EXTENSION: &str = "x-min-role";

/// One handler with its OpenAPI operation, as [`endpoint!`] builds it.
pub struct Endpoint {
    doc: utoipa::openapi::OpenApi,
    make: fn(MethodFilter) -> MethodRouter<AppState>,
}

impl Endpoint {
    /// Used by [`endpoint!`]; `doc` holds the handler's one path.
    pub fn new(
        doc: utoipa::openapi::OpenApi,
        make: fn(MethodFilter) -> MethodRouter<AppState>,
    ) -> Endpoint {
        Endpoint { doc, make }
    }
}

/// Declares a handler annotated with `#[utoipa::path]` as an [`Endpoint`].
macro_rules! endpoint {
    ($handler:ident) => {{
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($handler))]
        struct One;
        $crate::api::routes::Endpoint::new(<One as utoipa::OpenApi>::openapi(), |filter| {
            axum::routing::on(filter, $handler)
        })
    }};
}
pub(crate) use endpoint;

/// One declared route: path, method, minimum role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRoute {
    pub path: String,
    /// Lowercase, as in the OpenAPI document (`get`, `post`, ...).
    pub method: &'static str,
    pub access: Access,
}

struct Entry {
    path: String,
    method_router: MethodRouter<AppState>,
    access: Access,
    body: Body,
    method: &'static str,
    /// The operation id (the handler's name): the audit log's action.
    action: String,
}

/// Routes of one or more resource modules, not yet bound to the state.
#[derive(Default)]
pub struct Routes {
    entries: Vec<Entry>,
    declared: Vec<DeclaredRoute>,
    doc: utoipa::openapi::OpenApi,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Adds a handler with its minimum role. Its request body is limited to
    /// [`REQUEST_BODY_LIMIT`] (413 past it).
    pub fn add(self, access: Access, endpoint: Endpoint) -> Routes {
        self.add_with(access, endpoint, Body::Json)
    }

    /// Adds a handler whose body streams past the JSON limit (a pack
    /// archive); the handler bounds it with its own limit.
    pub fn add_streaming(self, access: Access, endpoint: Endpoint) -> Routes {
        self.add_with(access, endpoint, Body::Streaming)
    }

    fn add_with(mut self, access: Access, endpoint: Endpoint, body: Body) -> Routes {
        let Endpoint { mut doc, make } = endpoint;
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, filter, op) in operations(item) {
                mark(op, access);
                self.entries.push(Entry {
                    path: path.clone(),
                    method_router: make(filter),
                    access,
                    body,
                    method,
                    action: op.operation_id.clone().unwrap_or_else(|| path.clone()),
                });
                self.declared.push(DeclaredRoute {
                    path: path.clone(),
                    method,
                    access,
                });
            }
        }
        self.doc.merge(doc);
        self
    }

    /// Adds every route of `other`.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.entries.extend(other.entries);
        self.declared.extend(other.declared);
        self.doc.merge(other.doc);
        self
    }

    /// Every declared route, in declaration order.
    pub fn declared(&self) -> &[DeclaredRoute] {
        &self.declared
    }

    /// The OpenAPI paths and the schemas they use.
    pub fn into_doc(self) -> utoipa::openapi::OpenApi {
        self.doc
    }

    /// The axum router, each route behind [`require_role`] and, unless it
    /// streams, the JSON body limit.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        let mut router = Router::new();
        for entry in self.entries {
            let Entry {
                path,
                method_router,
                access,
                body,
                method,
                action,
            } = entry;
            let method_router = match body {
                Body::Json => method_router.layer(RequestBodyLimitLayer::new(REQUEST_BODY_LIMIT)),
                Body::Streaming => method_router,
            };
            let mut guarded = match access {
                Access::Public => method_router,
                // One shared pair per route: the layer clones its state per
                // request, and an `Arc` is one count, not the state's dozen.
                _ => method_router.route_layer(middleware::from_fn_with_state(
                    Arc::new((state.clone(), access)),
                    require_role,
                )),
            };
            if method != "get" {
                guarded = guarded.route_layer(middleware::from_fn_with_state(
                    (state.clone(), Arc::<str>::from(action)),
                    audit_request,
                ));
            }
            router = router.route(&path, guarded);
        }
        router
    }
}

/// How a route's request body is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// By [`REQUEST_BODY_LIMIT`].
    Json,
    /// By the handler (it streams, with a limit of its own).
    Streaming,
}

/// The operations of a path item with their method names and filters.
fn operations(item: &mut PathItem) -> Vec<(&'static str, MethodFilter, &mut Operation)> {
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        ..
    } = item;
    [
        ("get", MethodFilter::GET, get),
        ("put", MethodFilter::PUT, put),
        ("post", MethodFilter::POST, post),
        ("delete", MethodFilter::DELETE, delete),
        ("options", MethodFilter::OPTIONS, options),
        ("head", MethodFilter::HEAD, head),
        ("patch", MethodFilter::PATCH, patch),
        ("trace", MethodFilter::TRACE, trace),
    ]
    .into_iter()
    .filter_map(|(name, filter, op)| op.as_mut().map(|op| (name, filter, op)))
    .collect()
}

/// Writes the access rule into the operation: `x-min-role`, the security
/// requirement, and a sentence in the description.
fn mark(op: &mut Operation, access: Access) {
    let ext = op.extensions.get_or_insert_with(Default::default);
    ext.insert(
        MIN_ROLE_EXTENSION.to_string(),
        serde_json::Value::String(access.as_str().to_string()),
    );
    let sentence = match access.role() {
        None => {
            op.security = None;
            "No authentication.".to_string()
        }
        Some(role) => {
            op.security = Some(vec![SecurityRequirement::new::<_, _, &str>("bearer", [])]);
            format!("Minimum role: `{role}`.")
        }
    };
    op.description = Some(match op.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{sentence}"),
        _ => sentence,
    });
}

/// The route layer of every non-public route: authenticates the caller,
/// checks the minimum role, and passes the [`Caller`] on.
pub async fn require_role(
    State(guard): State<Arc<(AppState, Access)>>,
    req: Request,
    next: Next,
) -> Response {
    let (state, access) = &*guard;
    let Some(needed) = access.role() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let caller = match Caller::authenticate(&parts, state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    // Only writes run in an audit scope; reads format nothing here.
    if let Some(scope) = AuditScope::current() {
        let via = match (&caller.api_token, caller.session) {
            (Some((_, name)), _) => format!("token {name}"),
            (None, Some(sid)) => format!("session {sid}"),
            (None, None) => String::new(),
        };
        scope.set_user(&caller.user.login, &via);
    }
    tracing::Span::current().record("user", caller.user.login.as_str());
    if caller.role < needed {
        return ApiError::Forbidden(format!(
            "this needs the '{needed}' role; you act as '{}' (ask an admin for a higher role)",
            caller.role
        ))
        .into_response();
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// The route layer of every mutating route (any method but GET): runs the
/// request in an audit scope, so the write it makes carries its audit
/// entry; a request that fails without writing is recorded afterwards.
pub async fn audit_request(
    State((state, action)): State<(AppState, Arc<str>)>,
    req: Request,
    next: Next,
) -> Response {
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let target = req.uri().path().to_string();
    let scope = AuditScope::new(&action, &target, &client, state.config.audit.max_entries);
    let res = AUDIT.scope(scope.clone(), next.run(req)).await;
    let status = res.status().as_u16();
    if status >= 400 && !scope.recorded() {
        let result = state
            .store
            .call(move |store| store.record_audit_failure(&scope, status))
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot write the audit entry of a failed request");
        }
    }
    res
}
