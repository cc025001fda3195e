//! Kirby's REST API under `/<api.slug>`: one module per Kirby resource, each with its
//! `routes()` of `verb_noun` handlers; the extractors that run the gate and read bodies in
//! Kirby's order; the JSON views; and the response cache. Every model a handler returns
//! passed the permission check, and an inaccessible model answers exactly like a missing one.
//!
//! Routing is axum's, matched before authentication as Kirby does. A path that matches no
//! route, or a route with another method, is Kirby's "No route found" 404.

pub mod auth;
pub mod blueprints;
pub mod cache;
pub mod content;
pub mod extract;
pub mod fields;
pub mod files;
pub mod languages;
pub mod lookup;
pub mod pages;
pub mod query;
pub mod reply;
pub mod request;
pub mod roles;
pub mod site;
pub mod system;
pub mod table;
pub mod users;
pub mod views;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::app::App;

/// What every API handler can reach, behind one `Arc`: axum clones the state for every
/// request, and one reference count touched per request (not four) keeps the cores from
/// passing cache lines back and forth.
#[derive(Clone)]
pub struct ApiState(Arc<Shared>);

/// The parts of [`ApiState`].
pub struct Shared {
    /// The site.
    pub app: Arc<App>,
    /// Sessions, trials, Basic auth.
    pub auth: Arc<crate::auth::Auth>,
    /// Serialised answers of API reads.
    pub cache: cache::ResponseCache,
    /// The serialised OpenAPI document.
    pub openapi: std::sync::OnceLock<axum::body::Bytes>,
}

impl std::ops::Deref for ApiState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl ApiState {
    /// The state for a site.
    pub fn new(app: Arc<App>, auth: Arc<crate::auth::Auth>) -> Self {
        let s = &app.settings;
        let cache = cache::ResponseCache::new(s.response_cache_entries, s.response_cache_bytes);
        ApiState(Arc::new(Shared {
            app,
            auth,
            cache,
            openapi: std::sync::OnceLock::new(),
        }))
    }
}

async fn no_route(State(state): State<ApiState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    extract::no_route(&state, &parts).into_response()
}

/// Every API route with its description. The languages routes exist only with the
/// `languages` option, as in Kirby; `query` (KQL) only where the site has KQL.
pub fn table(languages: bool, kql: bool) -> table::Table {
    let mut t = table::Table::new("api")
        .merge(auth::routes())
        .merge(system::routes())
        .merge(site::routes())
        .merge(pages::routes())
        .merge(files::routes())
        .merge(fields::routes())
        .merge(users::routes())
        .merge(roles::routes());
    if kql {
        t = t.merge(query::routes());
    }
    if languages {
        t = t.merge(languages::routes());
    }
    t.merge(
        table::Table::new("meta").get(
            "/openapi.json",
            get_openapi,
            table::Doc::new("This document: the OpenAPI 3.1 description of the API")
                .open()
                .bare(),
        ),
    )
}

/// The OpenAPI document, made from the same table as the router on first use.
async fn get_openapi(State(state): State<ApiState>) -> Response {
    let body = state.openapi.get_or_init(|| {
        let s = &state.app.settings;
        let doc = table::openapi(&table(s.languages, s.kql_enabled).ops, &s.api_slug);
        axum::body::Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default())
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.clone(),
    )
        .into_response()
}

/// Every API route, under `/<api.slug>`. A path below the prefix that matches no route, or
/// a route with another method, is Kirby's "No route found".
pub fn router(state: ApiState) -> Router {
    let prefix = format!("/{}", state.app.settings.api_slug);
    table(state.app.settings.languages, state.app.settings.kql_enabled)
        .router(&prefix)
        .route(&prefix, axum::routing::any(no_route))
        .route(&format!("{prefix}/{{*rest}}"), axum::routing::any(no_route))
        .method_not_allowed_fallback(no_route)
        .with_state(state)
}
