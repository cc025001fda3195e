//! Site rendering, as Kirby does it: a URL names a page by id (`/` is the home page), the
//! page is rendered with `site/templates/<template>.html` (or `default.html`), snippets
//! come from `site/snippets/`, and an unknown URL renders the `error` page with status 404.
//! Drafts (and pages below drafts) are 404 unless a logged-in user who may preview them asks.
//! Templates are minijinja with HTML autoescaping; they are compiled once and recompiled when
//! the watcher sees a change (see `watch.rs`), never read from disk per request.

pub mod assets;
use folio_core::date;
mod filters;
pub mod media;
mod objects;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_core::Snapshot;
use folio_core::kirbytext::MdOptions;
use folio_core::model::PageIdx;
use folio_core::permissions::{Actor, Target, can};
use folio_wire::query::decode_path_segment;

use crate::app::{App, Config};
use crate::auth::{Auth, Caller, SessionHandle};
use objects::{Cx, KirbyObj, PageObj, PagesObj, SiteObj};

const HTML: &str = "text/html; charset=UTF-8";

/// The compiled templates of a site.
pub struct Compiled {
    env: Environment<'static>,
    /// Names of the page templates (`site/templates/<name>.html`, top level).
    pages: HashSet<String>,
    /// Templates that failed to compile: name → error.
    broken: HashMap<String, String>,
}

impl Compiled {
    /// Whether the site has any page template at all (a site without templates, like an
    /// API-only install, keeps the plain 404 for every non-API URL).
    pub fn has_templates(&self) -> bool {
        !self.pages.is_empty() || !self.broken.is_empty()
    }
}

/// The template cache: compiled at start-up and again after changes on disk.
pub struct Templates {
    root: PathBuf,
    opts: MdOptions,
    current: ArcSwap<Compiled>,
}

impl Templates {
    /// Compiles the templates of a site.
    pub fn load(root: &Path, config: &Config) -> Templates {
        let opts = MdOptions {
            allow_html: config.is_true("folio.markdownHtml"),
        };
        let compiled = compile(root, opts);
        Templates {
            root: root.to_path_buf(),
            opts,
            current: ArcSwap::from_pointee(compiled),
        }
    }

    /// Recompiles everything (called by the watcher after a change in the template folders).
    pub fn reload(&self) {
        self.current.store(Arc::new(compile(&self.root, self.opts)));
    }

    /// The current compiled templates.
    pub fn current(&self) -> Arc<Compiled> {
        self.current.load_full()
    }

    /// The folders to watch for changes.
    pub fn folders(root: &Path) -> [PathBuf; 2] {
        [
            root.join("site").join("templates"),
            root.join("site").join("snippets"),
        ]
    }
}

/// Every `.html` file below `dir` as (relative name with `/`, path). Hidden entries are
/// skipped; symlinks are followed only when they stay inside the site root.
fn html_files(root: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let path = e.path();
            let Ok(real) = std::fs::canonicalize(&path) else {
                continue;
            };
            if !real.starts_with(root) {
                tracing::warn!(
                    "template {} points outside the site: skipped",
                    path.display()
                );
                continue;
            }
            if real.is_dir() {
                walk(root, base, &path, out);
            } else if name.ends_with(".html")
                && let Ok(rel) = path.strip_prefix(base)
            {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    let mut out = Vec::new();
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    walk(&root, dir, dir, &mut out);
    out.sort();
    out
}

fn compile(root: &Path, opts: MdOptions) -> Compiled {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    // Rendering runs on the server's worker threads: keep recursion well inside their stack.
    env.set_recursion_limit(100);
    filters::register(&mut env, opts);
    let mut pages = HashSet::new();
    let mut broken = HashMap::new();
    let [templates, snippets] = Templates::folders(root);
    for (folder, prefix) in [(templates, ""), (snippets, "snippets/")] {
        for (rel, path) in html_files(root, &folder) {
            let name = format!("{prefix}{rel}");
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("template {name}: {e}");
                    broken.insert(name, e.to_string());
                    continue;
                }
            };
            if prefix.is_empty() && !rel.contains('/') {
                pages.insert(rel.trim_end_matches(".html").to_string());
            }
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                tracing::warn!("template {name}: {e}");
                broken.insert(name, e.to_string());
            }
        }
    }
    Compiled { env, pages, broken }
}

/// The page a URL path names (raw path; segments are percent-decoded).
fn page_for_path(snap: &Snapshot, raw: &str) -> Option<PageIdx> {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        return snap.page_by_id(&snap.options.home);
    }
    let segs: Vec<String> = trimmed.split('/').map(decode_path_segment).collect();
    if segs.iter().any(|s| s.is_empty() || s.contains('/')) {
        return None;
    }
    snap.page_by_id(&segs.join("/"))
}

/// Whether a logged-in user may see a draft: Panel access, and `access` + `preview` on it.
fn may_preview(snap: &Snapshot, user: Option<usize>, p: PageIdx) -> bool {
    let Some(u) = user else { return false };
    let actor = Actor::user(snap, u);
    can(snap, &actor, Target::Area("access"), "panel")
        && can(snap, &actor, Target::Page(p), "access")
        && can(snap, &actor, Target::Page(p), "preview")
}

/// The template for a page: its own, else `default`.
fn template_for(compiled: &Compiled, snap: &Snapshot, p: PageIdx) -> Option<String> {
    let t = &snap.pages[p].template;
    if compiled.pages.contains(t) {
        Some(format!("{t}.html"))
    } else if compiled.pages.contains("default") {
        Some("default.html".into())
    } else {
        None
    }
}

fn server_error(debug: bool, detail: &str) -> Response {
    let mut body = String::from(
        "<!doctype html><title>Error</title><h1>Internal Server Error</h1><p>The page could not be rendered.</p>",
    );
    if debug {
        body.push_str("<pre>");
        body.push_str(
            &detail
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
        );
        body.push_str("</pre>");
    }
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, HTML)],
        body,
    )
        .into_response()
}

fn html_reply(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HTML),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        ],
        body,
    )
        .into_response()
}

/// The plain 404 for URLs outside the API when the site has no templates.
fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, HTML)],
        "<!doctype html><title>Not found</title><h1>Not found</h1>",
    )
        .into_response()
}

/// Header value from a string known to be valid (an empty value otherwise).
pub fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What the site's handlers read of a request.
#[derive(Debug)]
pub struct SiteReq {
    /// The method.
    pub method: Method,
    /// The raw path, exactly as sent.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
}

impl SiteReq {
    fn of(req: &Request) -> Self {
        SiteReq {
            method: req.method().clone(),
            path: req.uri().path().to_string(),
            headers: req.headers().clone(),
        }
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the site's handlers can reach.
#[derive(Clone)]
pub struct SiteState {
    /// The site.
    pub app: Arc<App>,
    /// Sessions (templates call `csrf()`).
    pub auth: Arc<Auth>,
    /// The compiled templates.
    pub templates: Arc<Templates>,
}

/// The site's routes: `/media/…` and `/assets/…` (no session work at all), then Kirby's
/// routes declared in `folio.toml` and every page URL (with the session layer, because
/// `csrf()` may create a session).
pub fn router(state: SiteState) -> Router {
    let mut statics = Router::new()
        .route("/media/", any(media_file))
        .route("/media/{*path}", any(media_file))
        .route("/assets/", any(asset))
        .route("/assets/{*path}", any(asset));
    for (prefix, dir) in &state.app.settings.static_dirs {
        let dir = state.app.root.join(dir);
        let at = prefix.clone();
        let handler = move |req: Request| {
            let dir = dir.clone();
            let at = at.clone();
            async move {
                let r = SiteReq::of(&req);
                let Some(rest) = r.path.strip_prefix(at.as_str()) else {
                    return not_found_page();
                };
                match rest.strip_prefix('/') {
                    Some(rest) => assets::serve_static(dir, rest, &r).await,
                    // `/headless` → `/headless/`, so relative links resolve
                    None => axum::response::Redirect::permanent(&format!("{at}/")).into_response(),
                }
            }
        };
        statics = statics
            .route(prefix, any(handler.clone()))
            .route(&format!("{prefix}/"), any(handler.clone()))
            .route(&format!("{prefix}/{{*path}}"), any(handler));
    }
    let pages = Router::new()
        .fallback(page)
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::session_layer,
        ));
    statics.merge(pages).with_state(state)
}

async fn media_file(State(state): State<SiteState>, req: Request) -> Response {
    media::serve(&state.app, &SiteReq::of(&req))
        .await
        .unwrap_or_else(not_found_page)
}

async fn asset(State(state): State<SiteState>, req: Request) -> Response {
    assets::serve(&state.app, &SiteReq::of(&req))
        .await
        .unwrap_or_else(not_found_page)
}

/// A route declared in `folio.toml` (`{{ csrf() }}` templates).
fn declared_route(state: &SiteState, req: &SiteReq, session: &SessionHandle) -> Option<Response> {
    let path = req.path.trim_matches('/');
    let route = state.app.config.routes.iter().find(|r| {
        r.pattern.trim_matches('/') == path && r.method.eq_ignore_ascii_case(req.method.as_str())
    })?;
    let mut body = route.body.clone();
    if body.contains("{{ csrf() }}") || body.contains("{{csrf()}}") {
        let token = match session.lock().csrf_token(&state.auth) {
            Ok(t) => t,
            Err(e) => {
                let (status, body) = crate::app::envelope(&e, state.app.settings.debug, None);
                return Some(
                    (
                        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                        [(header::CONTENT_TYPE, crate::app::JSON)],
                        body.to_string(),
                    )
                        .into_response(),
                );
            }
        };
        body = body
            .replace("{{ csrf() }}", &token)
            .replace("{{csrf()}}", &token);
    }
    let ctype = match route.kind.as_str() {
        "html" => HTML,
        "text" => "text/plain; charset=UTF-8",
        _ => crate::app::JSON,
    };
    Some((StatusCode::OK, [(header::CONTENT_TYPE, ctype)], body).into_response())
}

/// Renders one page; the template reaches the session for `csrf()`.
fn render(
    state: &SiteState,
    compiled: &Compiled,
    cx: &Arc<Cx>,
    p: PageIdx,
    template: &str,
    session: &SessionHandle,
    user: Option<usize>,
) -> Result<String, String> {
    if let Some(e) = compiled.broken.get(template) {
        return Err(format!("{template}: {e}"));
    }
    let snap = &cx.snap;
    let user_value = match user {
        Some(u) => {
            let user = &snap.users[u];
            minijinja::context! {
                id => user.id.as_str(),
                email => user.email.as_str(),
                name => user.name.as_deref(),
                username => user.username(),
                role => user.role.as_str(),
            }
        }
        None => Value::UNDEFINED,
    };
    let kirby = Value::from_object(KirbyObj {
        auth: state.auth.clone(),
        session: session.clone(),
        user: user_value,
    });
    let ctx = minijinja::context! {
        page => PageObj::value(cx, p),
        site => SiteObj::value(cx),
        pages => PagesObj::value(cx, snap.site.children.clone()),
        kirby => kirby,
    };
    compiled
        .env
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            let mut msg = format!("{e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!("\ncaused by: {s}"));
                src = s.source();
            }
            msg
        })
}

/// Answers a site URL (anything that is not the API, media or assets): a declared route, a
/// page, or the error page with 404.
async fn page(State(state): State<SiteState>, req: Request) -> Response {
    let session = req
        .extensions()
        .get::<SessionHandle>()
        .cloned()
        .expect("the session layer runs before the site's pages");
    let caller = req.extensions().get::<Caller>().copied();
    let sreq = SiteReq::of(&req);
    if let Some(r) = declared_route(&state, &sreq, &session) {
        return r;
    }
    let compiled = state.templates.current();
    if !compiled.has_templates() {
        return not_found_page();
    }
    if sreq.method != Method::GET && sreq.method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [
                (header::CONTENT_TYPE, "text/plain; charset=UTF-8"),
                (header::ALLOW, "GET, HEAD"),
            ],
            "Method not allowed",
        )
            .into_response();
    }
    let snap = state.app.snapshot();
    let https = caller.is_some_and(|c| c.https);
    let cx = Arc::new(Cx {
        snap: snap.clone(),
        base: state.app.base_url(sreq.header("host"), https),
    });
    let user = session.lock().user(&snap);
    let visible = page_for_path(&snap, &sreq.path)
        .filter(|p| cx.is_public(*p) || may_preview(&snap, user, *p));
    let chosen = visible.and_then(|p| template_for(&compiled, &snap, p).map(|t| (p, t)));
    // Missing, hidden and template-less pages all get the same answer: the error page.
    let (p, template, status) = match chosen {
        Some((p, t)) if snap.is_error(p) => (p, t, StatusCode::NOT_FOUND),
        Some((p, t)) => (p, t, StatusCode::OK),
        None => {
            let error = cx
                .find_public(&snap.options.error)
                .and_then(|p| template_for(&compiled, &snap, p).map(|t| (p, t)));
            match error {
                Some((p, t)) => (p, t, StatusCode::NOT_FOUND),
                None => return not_found_page(),
            }
        }
    };
    match render(&state, &compiled, &cx, p, &template, &session, user) {
        Ok(html) => html_reply(status, html),
        Err(e) => {
            tracing::error!("rendering {} with {template}: {e}", snap.pages[p].id);
            server_error(state.app.settings.debug, &e)
        }
    }
}
