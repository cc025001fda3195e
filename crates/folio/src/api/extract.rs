//! The extractors API handlers take, in Kirby's order: the route has matched (axum routing),
//! then the caller passes the gate, and only then is the body read (within its limits). A
//! handler names what it needs by the extractor it takes:
//!
//! | extractor | gate | body |
//! |---|---|---|
//! | [`Read`] | yes | never read |
//! | [`Write`] | yes | JSON, form or query string, up to `folio.maxBodySize` |
//! | [`Upload`] | yes | `multipart/form-data`, streamed to spool files |
//! | [`Open`] | no (Kirby's unauthenticated routes) | never read |
//! | [`Login`] | no | up to 64 KiB |
//!
//! Each yields a [`Call`]: the request, the actor, the snapshot the call reads, the session,
//! the raw route parameters (Kirby matches the undecoded path; each must fit `(:any)`), and
//! the helpers to render views, errors and cached answers.

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use std::sync::Arc;

use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot};

use super::ApiState;
use super::cache::{Entry, Key, cacheable_query};
use super::reply::{ApiError, ApiResult, Reply};
use super::request::{Req, parse_query, read_bytes, read_form};
use super::views::{Plan, V};
use crate::auth::{Caller, SessionHandle, gate::gate};

/// Kirby's `(:any)` placeholder, as the debug `route` shows it.
const ANY: &str = "([a-zA-Z0-9\\.\\-_%= \\+\\@\\(\\)]+)";

/// Anonymous routes that read a body (the login) get at most this much.
pub const ANONYMOUS_BODY_LIMIT: usize = 64 * 1024;

/// One API call, after routing (and the gate, for the extractors that run it).
pub struct Call {
    /// Shared state.
    pub state: ApiState,
    /// The request as the handlers read it.
    pub req: Req,
    /// Who is calling (`Nobody` on open routes).
    pub actor: Actor,
    /// The snapshot this call reads.
    pub snap: Arc<Snapshot>,
    /// The request's session.
    pub session: SessionHandle,
    /// Where the call comes from.
    pub caller: Caller,
    /// The raw (undecoded) route parameters, in order.
    pub params: Vec<String>,
    /// The matched route (`/api/pages/{id}`); see [`Call::route`].
    pub matched: Arc<str>,
    /// The site's base URL for this request.
    pub base: String,
    /// The content language the client asked for: `?language=` when present (even
    /// empty), else `X-Language`; `snap` is already in that language (or the default).
    pub language: Option<String>,
}

impl Call {
    /// A view renderer for this call's snapshot and actor.
    pub fn v(&self) -> V<'_> {
        V {
            snap: &self.snap,
            actor: &self.actor,
            base: &self.base,
        }
    }

    /// Content writes resolve the language strictly: a language the site does not have is
    /// a 404 (`Invalid language: xx`) before anything is written. Single-language sites
    /// ignore the language.
    pub fn strict_language(&self) -> Result<(), Error> {
        let languages = &self.snap.languages;
        match self.language.as_deref() {
            Some(code)
                if languages.is_multilang()
                    && !code.is_empty()
                    && languages.find(code).is_none() =>
            {
                Err(Error::NotFound {
                    key: "error.notFound",
                    message: format!("Invalid language: {code}"),
                })
            }
            _ => Ok(()),
        }
    }

    /// Commits a write through the app's pipeline in this call's language.
    pub async fn commit<T, F>(
        &self,
        precondition: folio_core::actions::Precondition,
        action: F,
    ) -> Result<(T, Arc<Snapshot>), Error>
    where
        F: Fn(&folio_core::actions::Ctx<'_>) -> Result<(T, folio_core::actions::Change), Error>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.state
            .app
            .commit_in(self.snap.lang, &self.actor, precondition, action)
            .await
    }

    /// The error in Kirby's envelope for this route.
    pub fn err(&self, err: Error) -> ApiError {
        let lang = match &self.actor {
            Actor::User(id) => self
                .snap
                .user_by_id(id)
                .map(|u| self.snap.users[u].language.clone())
                .filter(|l| !l.is_empty() && l != "en"),
            _ => None,
        };
        ApiError {
            err: Box::new(err),
            debug: self.state.app.settings.debug,
            route: Some(self.route()),
            lang,
        }
    }

    /// The route pattern in Kirby's form (`pages/(:any)`), for debug output.
    pub fn route(&self) -> String {
        kirby_route(&self.matched, &self.state.app.settings.api_slug)
    }

    /// A query parameter (case-insensitive name).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.req.query(name)
    }

    /// The plan of a single model from `?select` / `?view`.
    pub fn model_plan(&self) -> Plan {
        Plan::for_model(self.query("select"), self.query("view"))
    }

    /// The plan of collection items from `?select` / `?view`, else `item_view`.
    pub fn collection_plan(&self, item_view: &str) -> Plan {
        Plan::for_collection(self.query("select"), self.query("view"), item_view)
    }

    /// A route parameter, raw.
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or("")
    }

    /// The last route parameter, raw.
    pub fn last_param(&self) -> &str {
        self.params.last().map(String::as_str).unwrap_or("")
    }

    /// Answers a read from the response cache when the same user asked the same thing of
    /// the same snapshot before (known query parameters only), else runs `f` and keeps a
    /// successful answer.
    pub fn cached(&self, f: impl FnOnce(&Call) -> Result<Reply, Error>) -> ApiResult {
        let key = match &self.actor {
            Actor::User(id) if cacheable_query(&self.req.raw_query) => Some(Key::new(
                self.snap.version,
                id,
                &self.base,
                &self.req.path,
                &self.req.raw_query,
            )),
            _ => None,
        };
        let cache = &self.state.cache;
        if let Some(key) = &key
            && let Some(hit) = cache.get(key)
        {
            let mut r = Reply::raw(
                axum::http::StatusCode::from_u16(hit.status).unwrap_or_default(),
                crate::app::JSON,
                hit.body,
            );
            r.headers = hit.headers;
            return Ok(r);
        }
        let reply = f(self).map_err(|e| self.err(e))?;
        match key {
            Some(key) if reply.raw.is_none() => {
                let (ctype, body) = reply.bytes();
                cache.put(
                    key,
                    Entry {
                        status: reply.status.as_u16(),
                        body: body.clone(),
                        headers: reply.headers.clone(),
                    },
                );
                let mut out = Reply::raw(reply.status, ctype, body);
                out.headers = reply.headers;
                Ok(out)
            }
            _ => Ok(reply),
        }
    }
}

/// The raw parameters of the matched route (`{name}` segments), from the undecoded path.
fn route_params(matched: &str, raw_path: &str) -> Option<Vec<String>> {
    let (mut pattern, mut raw) = (matched.split('/'), raw_path.split('/'));
    let mut params = Vec::new();
    loop {
        match (pattern.next(), raw.next()) {
            (None, None) => return Some(params),
            // Kirby's `(:all?)`: the rest of the path, whatever it holds.
            (Some(p), Some(r)) if p.starts_with("{*") => {
                let rest: Vec<&str> = std::iter::once(r).chain(raw).collect();
                params.push(rest.join("/"));
                return Some(params);
            }
            (Some(p), Some(r)) if p.starts_with('{') => {
                if !folio_wire::query::is_any_segment(r) {
                    return None;
                }
                params.push(r.to_string());
            }
            (Some(_), Some(_)) => {}
            _ => return None,
        }
    }
}

/// The route pattern in Kirby's debug form (`pages/(…)+/files`), without the API prefix.
fn kirby_route(matched: &str, slug: &str) -> String {
    let rest = matched
        .strip_prefix('/')
        .and_then(|m| m.strip_prefix(slug))
        .map(|m| m.trim_start_matches('/'))
        .unwrap_or(matched);
    rest.split('/')
        .map(|s| match s {
            s if s.starts_with("{*") => "(.*)",
            s if s.starts_with('{') => ANY,
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The request's URI as sent (a nested router sees its own part of the path only).
fn original_uri(parts: &Parts) -> axum::http::Uri {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| parts.uri.clone())
}

/// Kirby's router miss: 404 with the path and method (a plain PHP exception).
pub fn no_route(state: &ApiState, parts: &Parts) -> ApiError {
    let slug = &state.app.settings.api_slug;
    let uri = original_uri(parts);
    let path = uri.path();
    let rest = path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(slug.as_str()))
        .unwrap_or(path)
        .trim_matches('/');
    ApiError {
        err: Box::new(Error::no_route(rest, parts.method.as_str())),
        debug: state.app.settings.debug,
        route: None,
        lang: None,
    }
}

async fn prepare(
    parts: &mut Parts,
    state: &ApiState,
    authenticate: bool,
) -> Result<Call, ApiError> {
    let settings = &state.app.settings;
    let caller = parts
        .extensions
        .get::<Caller>()
        .copied()
        .ok_or_else(|| ApiError::plain(Error::internal("no caller information")))?;
    let session = parts
        .extensions
        .get::<SessionHandle>()
        .cloned()
        .ok_or_else(|| ApiError::plain(Error::internal("no session layer")))?;
    let matched: Arc<str> = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| Arc::from(m.as_str()))
        .unwrap_or_else(|| Arc::from(""));
    // Not nested, so the URI is the one the client sent.
    let uri = parts.uri.clone();
    let path = uri.path().to_string();
    let params = route_params(&matched, &path).ok_or_else(|| no_route(state, parts))?;
    let raw_query = uri.query().unwrap_or("").to_string();
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let base = state.app.base_url(host, caller.https);
    let snap = state.app.snapshot();
    let actor = if authenticate {
        let headers = &parts.headers;
        let auth = &state.auth;
        let result = session
            .with(|mut ctx| async {
                let r = gate(auth, headers, &caller, &mut ctx, &snap).await;
                (ctx, r)
            })
            .await;
        result.map_err(|err| ApiError {
            err: Box::new(err),
            debug: settings.debug,
            route: Some(kirby_route(&matched, &settings.api_slug)),
            lang: None,
        })?
    } else {
        Actor::Nobody
    };
    let query = parse_query(&raw_query);
    let language = query
        .iter()
        .find(|(k, _)| k == "language")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            parts
                .headers
                .get("x-language")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    let snap = snap.in_language(language.as_deref());
    let req = Req {
        method: parts.method.clone(),
        path,
        query,
        raw_query,
        // The handler reads the headers from here; nothing after the extractor needs them.
        headers: std::mem::take(&mut parts.headers),
        body: bytes::Bytes::new(),
        form: None,
        peer: caller.peer,
        https: caller.https,
    };
    Ok(Call {
        state: state.clone(),
        req,
        actor,
        snap,
        session,
        caller,
        params,
        matched,
        base,
        language,
    })
}

macro_rules! parts_extractor {
    ($name:ident, $auth:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub Call);

        impl FromRequestParts<ApiState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &ApiState,
            ) -> Result<Self, Self::Rejection> {
                prepare(parts, state, $auth).await.map($name)
            }
        }
    };
}

parts_extractor!(
    Read,
    true,
    "A call that passed the gate; the body is never read."
);
parts_extractor!(
    Open,
    false,
    "A call on one of Kirby's open routes (no gate, no body)."
);

/// A call that passed the gate, with its body read (JSON, form or query string).
pub struct Write(pub Call);

impl FromRequest<ApiState> for Write {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let mut call = prepare(&mut parts, state, true).await?;
        let s = &state.app.settings;
        call.req.body = read_bytes(body, &call.req.headers, s.max_body, s.body_timeout)
            .await
            .map_err(|e| call.err(e.to_error()))?;
        Ok(Write(call))
    }
}

/// A KQL call (`/api/query`): the gate unless `kql.auth` is `false`, then the body.
pub struct Query(pub Call);

impl FromRequest<ApiState> for Query {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let s = &state.app.settings;
        // (the route exists only where the site has KQL: `api::table`)
        let mut call = prepare(&mut parts, state, s.kql_auth).await?;
        let limit = if s.kql_auth {
            s.max_body
        } else {
            ANONYMOUS_BODY_LIMIT.min(s.max_body)
        };
        call.req.body = read_bytes(body, &call.req.headers, limit, s.body_timeout)
            .await
            .map_err(|e| call.err(e.to_error()))?;
        Ok(Query(call))
    }
}

/// The login: no gate (it is how one gets past it), a small body.
pub struct Login(pub Call);

impl FromRequest<ApiState> for Login {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let mut call = prepare(&mut parts, state, false).await?;
        let s = &state.app.settings;
        let limit = ANONYMOUS_BODY_LIMIT.min(s.max_body);
        call.req.body = read_bytes(body, &call.req.headers, limit, s.body_timeout)
            .await
            .map_err(|e| call.err(e.to_error()))?;
        Ok(Login(call))
    }
}

/// A call that passed the gate, with its upload form streamed to spool files.
pub struct Upload(pub Call);

impl FromRequest<ApiState> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let mut call = prepare(&mut parts, state, true).await?;
        let s = &state.app.settings;
        let spool = state.app.root.join("content");
        call.req.form = Some(
            read_form(body, &call.req.headers, s.max_body, s.body_timeout, spool)
                .await
                .map_err(|e| call.err(e.to_error()))?,
        );
        Ok(Upload(call))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_come_from_the_raw_path() {
        assert_eq!(
            route_params(
                "/api/pages/{id}/files/{file}",
                "/api/pages/blog+a/files/x%20y.png"
            ),
            Some(vec!["blog+a".to_string(), "x%20y.png".to_string()])
        );
        assert_eq!(
            route_params("/api/pages/{id}", "/api/pages/a:b"),
            None,
            "(:any)"
        );
        assert_eq!(route_params("/api/pages/{id}", "/api/pages/a/b"), None);
        assert_eq!(
            kirby_route("/api/pages/{id}/files", "api"),
            format!("pages/{ANY}/files")
        );
        assert_eq!(kirby_route("/rest/site", "rest"), "site");
        assert_eq!(
            route_params(
                "/api/pages/{id}/fields/{field}/{*path}",
                "/api/pages/a/fields/body/fieldsets/image/fields/image"
            ),
            Some(vec![
                "a".to_string(),
                "body".to_string(),
                "fieldsets/image/fields/image".to_string()
            ]),
            "(:all?)"
        );
    }
}
