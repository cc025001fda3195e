//! The HTTP server: the listener ([`server`], with TLS in [`tls`]), and the one router that
//! merges the API's routes and the site's, wrapped in the layers every request passes:
//! where it comes from ([`crate::auth::Caller`]: client IP and HTTPS behind trusted proxies),
//! Kirby's `X-HTTP-Method-Override` on POST and trailing slashes on API paths (both before
//! routing), a trace span, and a panic guard that answers Kirby's generic 500.

pub mod server;
pub mod tls;

use axum::Router;
use axum::http::{Method, Request, Uri};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::api::{self, ApiState};
use crate::app::App;
use crate::auth::{self, Auth, Caller};
use crate::site::{self, SiteState, Templates};

/// Everything a server serves.
#[derive(Clone)]
pub struct Served {
    /// The site.
    pub app: Arc<App>,
    /// Authentication state.
    pub auth: Arc<Auth>,
    /// The compiled templates.
    pub templates: Arc<Templates>,
    /// The file watcher; it stops when the last clone is dropped.
    pub watcher: Arc<crate::app::watch::Watcher>,
}

/// The router: the API under `/<api.slug>` (with the session layer), the site's media and
/// assets, declared routes and pages.
pub fn router(served: &Served) -> Router {
    let api = api::router(ApiState::new(served.app.clone(), served.auth.clone())).layer(
        axum::middleware::from_fn_with_state(served.auth.clone(), auth::session_layer),
    );
    let site = site::router(SiteState {
        app: served.app.clone(),
        auth: served.auth.clone(),
        templates: served.templates.clone(),
    });
    api.merge(site)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            api::reply::panic_response,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_failure(()),
        )
}

/// What happens to a request before routing: the caller is worked out, a POST with
/// `X-HTTP-Method-Override` takes that method, and an API path loses trailing slashes (Kirby
/// matches `pages/x/` as `pages/x`).
pub fn prepare<B>(req: &mut Request<B>, served: &Served, peer: SocketAddr, tls: bool) {
    let settings = &served.app.settings;
    let proxies = &settings.trusted_proxies;
    let caller = Caller {
        peer,
        ip: auth::client::client_ip(peer.ip(), req.headers(), proxies),
        https: auth::client::is_https(tls, peer.ip(), req.headers(), proxies),
    };
    req.extensions_mut().insert(caller);
    if req.method() == Method::POST
        && let Some(m) = req
            .headers()
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Method::from_bytes(s.trim().to_ascii_uppercase().as_bytes()).ok())
    {
        *req.method_mut() = m;
    }
    let path = req.uri().path();
    let below_api = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(settings.api_slug.as_str()))
        .and_then(|p| p.strip_prefix('/'))
        .is_some_and(|rest| !rest.is_empty());
    if below_api && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/').to_string();
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed,
        };
        if let Ok(uri) = pq.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
}

/// Serves on a listener until Ctrl-C / SIGTERM, over TLS when an acceptor is given, with
/// the connection limits of the settings.
pub async fn serve(
    served: Served,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> anyhow::Result<()> {
    let limits = server::Limits::from_settings(&served.app.settings);
    server::serve(served, listener, tls, limits, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
