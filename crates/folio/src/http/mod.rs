//! The HTTP server: one axum service whose fallback handler reads the request the way Kirby
//! does (raw path, method override, body), dispatches to the API or a declared route, and
//! finishes every response the same way (session cookie, cache headers, content type).

pub mod auth;
pub mod cache;
pub mod client;
pub mod media;
pub mod redis;
pub mod request;
pub mod response;
pub mod secret;
pub mod server;
pub mod session;
pub mod tls;
pub mod trials;

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

use folio_core::Snapshot;

use crate::config::Config;
use request::Req;
use response::Reply;

/// The options the request path reads, resolved once at start-up (a lookup per request
/// would cost more than the rest of the session check).
#[derive(Clone)]
pub struct Settings {
    /// `session.cookieName`.
    pub cookie_name: String,
    /// `cookie.key` (the cookie signature key; never printed).
    pub cookie_key: String,
    /// `session.cookieDomain`.
    pub cookie_domain: Option<String>,
    /// `api.csrf`: a fixed CSRF token (never printed).
    pub csrf_fixed: Option<String>,
    /// `panel.dev`: the CSRF token is `dev`.
    pub panel_dev: bool,
    /// `api.basicAuth` (strictly `true`).
    pub basic_auth: bool,
    /// `api.allowInsecure` (strictly `true`).
    pub allow_insecure: bool,
    /// `auth.trials` / `auth.timeout`.
    pub limits: trials::Limits,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_key", &"<redacted>")
            .field("cookie_domain", &self.cookie_domain)
            .field(
                "csrf_fixed",
                &self.csrf_fixed.as_ref().map(|_| "<redacted>"),
            )
            .field("panel_dev", &self.panel_dev)
            .field("basic_auth", &self.basic_auth)
            .field("allow_insecure", &self.allow_insecure)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Settings {
    /// Reads the options from the effective configuration.
    pub fn from_config(config: &Config) -> Self {
        Settings {
            cookie_name: config
                .string("session.cookieName")
                .unwrap_or_else(|| "kirby_session".into()),
            cookie_key: config
                .string("cookie.key")
                .unwrap_or_else(|| "KirbyHttpCookieKey".into()),
            cookie_domain: config.string("session.cookieDomain"),
            csrf_fixed: config.string("api.csrf").filter(|s| !s.is_empty()),
            panel_dev: config.truthy("panel.dev"),
            basic_auth: config.is_true("api.basicAuth"),
            allow_insecure: config.is_true("api.allowInsecure"),
            limits: trials::Limits {
                trials: config.int("auth.trials", 10),
                timeout: config.int("auth.timeout", 3600),
            },
        }
    }
}

/// Shared server state.
pub struct App {
    /// The options the request path reads, resolved once.
    pub settings: Settings,
    /// Effective configuration.
    pub config: Config,
    /// The current site snapshot (swapped atomically on change).
    pub snapshot: ArcSwap<Snapshot>,
    /// Session store.
    pub sessions: session::Store,
    /// The secret pre-login sessions and their CSRF tokens derive from.
    pub secret: secret::SiteSecret,
    /// Verified Basic-auth credentials (keyed hash → expiry).
    pub basic_cache: auth::BasicCache,
    /// `api.slug`.
    pub api_slug: String,
    /// `debug`.
    pub debug: bool,
    /// Upper bound for request bodies (`folio.maxBodySize`).
    pub max_body: usize,
    /// How long a request body may take to arrive (`folio.bodyTimeout`).
    pub body_timeout: std::time::Duration,
    /// Login trial counters.
    pub trials: trials::TrialStore,
    /// `folio.trustedProxies`.
    pub trusted_proxies: Vec<client::Net>,
    /// The Kirby install root.
    pub root: std::path::PathBuf,
    /// How snapshots of this site are built.
    pub snapshot_options: folio_core::SnapshotOptions,
    /// One writer at a time per site; readers never take it.
    pub writer: tokio::sync::Mutex<()>,
    /// Serialized answers of API reads.
    pub responses: cache::ResponseCache,
    /// The site's compiled templates (`site/templates`, `site/snippets`).
    pub templates: crate::site::Templates,
}

impl App {
    /// `auth.trials` / `auth.timeout`.
    pub fn limits(&self) -> trials::Limits {
        self.settings.limits
    }

    /// Runs a write under the site's writer lock, on a blocking thread, then rebuilds and
    /// publishes the snapshot. The closure gets the latest published snapshot. When it fails
    /// nothing was written (actions validate before they touch the disk), so nothing is
    /// republished. When a file it was about to overwrite changed on disk since the snapshot
    /// was built (an outside edit the watcher has not caught up with), the site is re-read
    /// and the action runs once more on the fresh content.
    pub async fn write<T, F>(&self, f: F) -> Result<(T, Arc<Snapshot>), folio_core::Error>
    where
        F: Fn(&Snapshot) -> Result<T, folio_core::Error> + Send + 'static,
        T: Send + 'static,
    {
        self.write_effect(move |s| f(s).map(|out| (out, Effect::Rebuild)))
            .await
    }

    /// Like [`App::write`], but the action says what it changed, so a write that touched
    /// one content file republishes by re-reading that file only (not the whole site).
    pub async fn write_effect<T, F>(&self, f: F) -> Result<(T, Arc<Snapshot>), folio_core::Error>
    where
        F: Fn(&Snapshot) -> Result<(T, Effect), folio_core::Error> + Send + 'static,
        T: Send + 'static,
    {
        let _guard = self.writer.lock().await;
        let snap = self.snapshot.load_full();
        let root = self.root.clone();
        let opts = self.snapshot_options.clone();
        let rebuild = move |root: &std::path::Path, opts: &folio_core::SnapshotOptions| {
            Snapshot::build(root, opts.clone())
                .map_err(|e| folio_core::Error::internal(format!("re-reading the site: {e}")))
        };
        let (out, new) = tokio::task::spawn_blocking(move || {
            let (snap, first) = match f(&snap) {
                Err(folio_core::Error::Conflict { .. }) => {
                    tracing::info!("a file changed on disk before this write: re-reading the site");
                    let fresh = Arc::new(rebuild(&root, &opts)?);
                    let again = f(&fresh);
                    (fresh, again)
                }
                other => (snap, other),
            };
            let (out, effect) = first?;
            let new = match effect {
                Effect::PageContent(id) => match snap.page_by_id(&id) {
                    Some(p) => snap.with_page_content(p),
                    None => rebuild(&root, &opts)?,
                },
                Effect::SiteContent => snap.with_site_content(),
                Effect::Rebuild => rebuild(&root, &opts)?,
            };
            Ok::<_, folio_core::Error>((out, new))
        })
        .await
        .map_err(|e| folio_core::Error::internal(format!("write task failed: {e}")))??;
        let new = Arc::new(new);
        self.snapshot.store(new.clone());
        Ok((out, new))
    }

    /// The client IP of a request (proxy headers only from trusted proxies).
    pub fn client_ip(&self, req: &Req) -> std::net::IpAddr {
        client::client_ip(req.peer.ip(), &req.headers, &self.trusted_proxies)
    }
}

/// The state handle passed to handlers.
pub type AppState = Arc<App>;

/// What a write changed on disk, so the snapshot can be updated with as little work as
/// possible.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Only the content file of this page (by id).
    PageContent(String),
    /// Only `site.txt`.
    SiteContent,
    /// Anything else: re-read the whole site.
    Rebuild,
}

/// Marker extension: the request arrived over TLS.
#[derive(Debug, Clone, Copy)]
pub struct Tls;

/// Builds the router.
pub fn router(app: AppState) -> Router {
    Router::new()
        .fallback(handle)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            response::panic_response,
        ))
        .with_state(app)
}

async fn handle(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    let mut method = parts.method.clone();
    if method == Method::POST
        && let Some(m) = parts
            .headers
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Method::from_bytes(s.trim().to_ascii_uppercase().as_bytes()).ok())
    {
        method = m;
    }
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query = request::parse_query(&raw_query);
    let tls = parts.extensions.get::<Tls>().is_some();
    let https = client::is_https(tls, peer.ip(), &parts.headers, &app.trusted_proxies);
    let mut req = Req {
        method,
        path,
        query,
        raw_query,
        headers: parts.headers,
        body: bytes::Bytes::new(),
        form: None,
        peer,
        https,
    };
    if let Some(resp) = media::serve(&app, &req).await {
        return resp;
    }
    // Site rendering (issue 7): static files from `<root>/assets/`, before any session work.
    if let Some(resp) = crate::site::assets::serve(&app, &req).await {
        return resp;
    }
    let mut sess = auth::SessionCtx::load(&app, &req).await;
    let prefix = format!("/{}/", app.api_slug);
    let reply = if let Some(rest) = req.path.strip_prefix(&prefix) {
        let rest = rest.to_string();
        crate::api::dispatch(&app, &mut req, body, &mut sess, &rest).await
    } else if let Some(r) = custom_route(&app, &req, &mut sess) {
        r
    } else {
        // Site rendering (issue 7): pages through `site/templates`, the error page for
        // unknown URLs. The session is lent to the template (`csrf()` may create it).
        let (reply, back) = crate::site::respond(&app, &req, sess);
        sess = back;
        reply
    };
    let (reply, cookies) = match sess.finish(&app).await {
        Ok(cookies) => (reply, cookies),
        // The session could not be written: the answer would not hold, so fail closed.
        Err(e) => (response::error_reply(&app, &e, None), Vec::new()),
    };
    if let Some(n) = app
        .config
        .int("session.gcInterval", 100)
        .try_into()
        .ok()
        .filter(|n: &u64| *n > 0)
        && random_below(n) == 0
    {
        let store = app.sessions.clone();
        tokio::task::spawn_blocking(move || store.gc());
        trials::expire(&app.trials, app.limits());
    }
    response::finish(&app, reply, cookies, req.has_credentials())
}

/// A cheap per-request counter for the 1-in-N session sweep (no syscall per request; the
/// sweep needs no unpredictability).
fn random_below(n: u64) -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n
}

/// Routes declared in `folio.toml` (`{{ csrf() }}` templates).
fn custom_route(app: &App, req: &Req, sess: &mut auth::SessionCtx) -> Option<Reply> {
    let path = req.path.trim_matches('/');
    let route = app.config.routes.iter().find(|r| {
        r.pattern.trim_matches('/') == path && r.method.eq_ignore_ascii_case(req.method.as_str())
    })?;
    let mut body = route.body.clone();
    if body.contains("{{ csrf() }}") || body.contains("{{csrf()}}") {
        let token = match sess.csrf_token(app) {
            Ok(t) => t,
            Err(e) => return Some(response::error_reply(app, &e, None)),
        };
        body = body
            .replace("{{ csrf() }}", &token)
            .replace("{{csrf()}}", &token);
    }
    let ctype = match route.kind.as_str() {
        "html" => "text/html; charset=UTF-8",
        "text" => "text/plain; charset=UTF-8",
        _ => "application/json; charset=UTF-8",
    };
    Some(Reply::raw(StatusCode::OK, ctype, body.into_bytes()))
}

/// Serves the app on a listener until Ctrl-C / SIGTERM, over TLS when an acceptor is given,
/// with the connection limits of [`server::Limits`].
pub async fn serve(
    app: AppState,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: server::Limits,
) -> anyhow::Result<()> {
    let router = router(app);
    server::serve(router, listener, tls, limits, shutdown_signal()).await
}

async fn shutdown_signal() {
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

/// A header value from a string known to be valid.
pub fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
