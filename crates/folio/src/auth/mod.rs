//! Who is calling. This layer owns sessions (Kirby's tokens, pre-login sessions, the file and
//! Redis stores), CSRF, HTTP Basic with its verification cache, brute-force trials, the
//! client IP behind trusted proxies, and the gate that turns a request into an
//! [`folio_core::permissions::Actor`]. It sits on the app layer and knows nothing of routes.
//!
//! [`session_layer`] loads the request's session before the handler runs and writes it (with
//! Kirby's `Set-Cookie` headers) after; handlers reach it through [`SessionHandle`].

pub mod client;
pub mod context;
pub mod gate;
pub mod password;
pub mod redis;
pub mod secret;
pub mod session;
pub mod trials;

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use folio_core::Error;

use crate::app::App;
use crate::app::settings::{SessionStore, Settings};
use context::SessionCtx;

/// Authentication state shared by every request.
pub struct Auth {
    /// The settings the checks read.
    pub settings: Settings,
    /// The session store.
    pub sessions: session::Store,
    /// The secret pre-login sessions and their CSRF tokens derive from.
    pub secret: secret::SiteSecret,
    /// Login trial counters.
    pub trials: trials::TrialStore,
    /// Verified Basic-auth credentials.
    pub basic_cache: password::BasicCache,
    redis: Option<redis::Redis>,
}

/// Authentication fails closed when the session or trial store is down (503).
pub fn unavailable(detail: &str) -> Error {
    tracing::error!("auth store unavailable: {detail}");
    Error::Unavailable {
        key: "error.unavailable",
        message: "The authentication service is temporarily unavailable".into(),
    }
}

impl Auth {
    /// The stores `session.store` names: files under the site (the site secret in
    /// `site/sessions/.folio-secret` unless `folio.secret` is set), or Redis, connected in
    /// the background so a node starts while Redis is down.
    pub async fn open(app: &App) -> anyhow::Result<Arc<Auth>> {
        let settings = app.settings.clone();
        let lifetimes = settings.lifetimes;
        let fixed = settings.secret.as_deref().map(secret::SiteSecret::fixed);
        let (sessions, trials, secret, redis) = match &settings.session_store {
            SessionStore::Redis(url) => {
                let redis = redis::Redis::open(url)?;
                let _ = redis.connect().await;
                (
                    session::Store::new(session::Backend::Redis(redis.clone()), lifetimes),
                    trials::TrialStore::Redis(redis.clone()),
                    fixed.unwrap_or_else(secret::SiteSecret::pending),
                    Some(redis),
                )
            }
            SessionStore::Files => {
                let folder = app.root.join("site").join("sessions");
                let secret = match fixed {
                    Some(s) => s,
                    None => secret::SiteSecret::from_folder(&folder)
                        .context("reading the site secret")?,
                };
                (
                    session::Store::new(session::Backend::Files(folder), lifetimes),
                    trials::TrialStore::file(
                        app.root.join("site").join("accounts").join(".logins"),
                    ),
                    secret,
                    None,
                )
            }
        };
        let auth = Arc::new(Auth {
            settings,
            sessions,
            secret,
            trials,
            basic_cache: password::BasicCache::default(),
            redis,
        });
        if let Some(r) = &auth.redis {
            // Agree on the site secret whenever Redis is reachable (unless it is configured).
            let agree = auth.settings.secret.is_none();
            let this = auth.clone();
            r.spawn_keeper(move |r| {
                let this = this.clone();
                async move {
                    if agree {
                        this.secret.agree(&r).await;
                    }
                }
            });
        }
        Ok(auth)
    }

    /// Occasionally sweeps expired sessions and trial counters (1 in `session.gcInterval`
    /// requests; a counter, not a random number, decides).
    pub fn maybe_sweep(&self) {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = self.settings.gc_interval;
        if n == 0
            || !COUNTER
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .is_multiple_of(n)
        {
            return;
        }
        let store = self.sessions.clone();
        tokio::task::spawn_blocking(move || store.gc());
        trials::expire(&self.trials, self.settings.limits);
    }
}

/// Where a request comes from: the socket peer, the client IP (proxy headers believed only
/// from `folio.trustedProxies`), and whether it arrived over HTTPS (TLS, or a trusted proxy
/// saying so). The HTTP layer puts it into every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The socket peer.
    pub peer: SocketAddr,
    /// The client's IP address.
    pub ip: IpAddr,
    /// Whether the request arrived over HTTPS.
    pub https: bool,
}

/// The request's session, shared between the session layer and the handler (and a
/// template's `csrf()`).
#[derive(Clone)]
pub struct SessionHandle(Arc<Mutex<SessionCtx>>);

impl SessionHandle {
    /// Locks the session for a moment (never across an `.await`).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, SessionCtx> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs an async step with the session taken out of the handle and puts it back.
    pub async fn with<T, F, Fut>(&self, f: F) -> T
    where
        F: FnOnce(SessionCtx) -> Fut,
        Fut: std::future::Future<Output = (SessionCtx, T)>,
    {
        let taken = std::mem::replace(&mut *self.lock(), SessionCtx::empty(false));
        let (back, out) = f(taken).await;
        *self.lock() = back;
        out
    }
}

/// Loads the session before the handler and finishes it after: writes it when it carries a
/// login and changed, deletes destroyed ones, and appends Kirby's `Set-Cookie` headers. A
/// session that cannot be written turns the answer into a 503 (fail closed). Responses to
/// requests with credentials, or that set a cookie, are `no-store, private`; others vary on
/// `Authorization, Cookie`.
pub async fn session_layer(
    State(auth): State<Arc<Auth>>,
    mut req: Request,
    next: Next,
) -> Response {
    let https = req.extensions().get::<Caller>().is_some_and(|c| c.https);
    let had_credentials = req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key(header::COOKIE);
    let ctx = SessionCtx::load(&auth, req.headers(), https).await;
    let handle = SessionHandle(Arc::new(Mutex::new(ctx)));
    req.extensions_mut().insert(handle.clone());
    let mut resp = next.run(req).await;
    let finished = handle
        .with(|mut ctx| async {
            let r = ctx.finish(&auth).await;
            (ctx, r)
        })
        .await;
    auth.maybe_sweep();
    let cookies = match finished {
        Ok(c) => c,
        Err(e) => {
            let (status, body) = crate::app::envelope(&e, auth.settings.debug, None);
            resp = (
                axum::http::StatusCode::from_u16(status)
                    .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE),
                [(header::CONTENT_TYPE, crate::app::JSON)],
                body.to_string(),
            )
                .into_response();
            Vec::new()
        }
    };
    let private = had_credentials || !cookies.is_empty();
    let h = resp.headers_mut();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if private {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, private"),
        );
    } else if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::VARY,
            HeaderValue::from_static("Authorization, Cookie"),
        );
    }
    resp
}
