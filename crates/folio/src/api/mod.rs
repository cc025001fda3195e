//! Kirby's REST API: the route table (matched before authentication, as Kirby does), the
//! dispatcher, and the collection helpers (status filters, search, pagination). Handlers
//! live in the resource modules; every model they return passes the permission check.

pub mod blueprints;
pub mod content;
pub mod resources;
pub mod system;
pub mod views;
pub mod write_files;
pub mod write_pages;
pub mod write_users;

use axum::http::Method;
use serde_json::{Value, json};

use folio_core::Error;
use folio_core::permissions::Actor;

use crate::http::App;
use crate::http::auth::{SessionCtx, gate};
use crate::http::request::Req;
use crate::http::response::{Reply, error_reply};

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H {
    Auth,
    Login,
    Logout,
    Ping,
    System,
    Translations,
    Translation,
    Site,
    SiteChildren,
    SiteChildrenSearch,
    SiteSearch,
    SiteFind,
    SiteBlueprint,
    SiteBlueprints,
    SiteSection,
    Page,
    PageChildren,
    PageChildrenSearch,
    PageBlueprint,
    PageBlueprints,
    PageSection,
    Files,
    FilesSearch,
    File,
    Users,
    UsersSearch,
    User,
    UserAvatar,
    UserBlueprint,
    UserBlueprints,
    UserRoles,
    Roles,
    Role,
    Languages,
    Language,
    LanguageWrite,
    // ---- writes: pages and site (write_pages.rs)
    SiteUpdate,
    SiteTitle,
    PageCreate,
    PageUpdate,
    PageDelete,
    PageStatus,
    PageSlug,
    PageTitle,
    PageTemplate,
    PageDuplicate,
    Changes,
    // ---- writes: files (write_files.rs)
    FileUpload,
    FileReplace,
    FileUpdate,
    FileName,
    FilesSort,
    FileDelete,
    AvatarUpload,
    AvatarDelete,
    // ---- writes: users (write_users.rs)
    UserCreate,
    UserUpdate,
    UserDelete,
    UserEmail,
    UserName,
    UserLanguage,
    UserPassword,
    UserRole,
}

/// (methods, Kirby pattern, handler, needs auth). `(:any)` matches one segment.
const ROUTES: &[(&[&str], &str, H, bool)] = &[
    (&["GET"], "auth", H::Auth, true),
    (&["POST"], "auth/login", H::Login, false),
    (&["POST"], "auth/logout", H::Logout, false),
    (&["POST"], "auth/ping", H::Ping, false),
    (&["GET"], "system", H::System, false),
    (&["GET"], "translations", H::Translations, false),
    (&["GET"], "translations/(:any)", H::Translation, false),
    (&["GET"], "site", H::Site, true),
    (&["GET"], "site/children", H::SiteChildren, true),
    (
        &["GET", "POST"],
        "site/children/search",
        H::SiteChildrenSearch,
        true,
    ),
    (&["GET", "POST"], "site/search", H::SiteSearch, true),
    (&["POST"], "site/find", H::SiteFind, true),
    (&["GET"], "site/blueprint", H::SiteBlueprint, true),
    (&["GET"], "site/blueprints", H::SiteBlueprints, true),
    (&["GET"], "site/sections/(:any)", H::SiteSection, true),
    (&["GET"], "site/files", H::Files, true),
    (&["GET", "POST"], "site/files/search", H::FilesSearch, true),
    (&["GET"], "site/files/(:any)", H::File, true),
    (&["GET"], "pages/(:any)", H::Page, true),
    (&["GET"], "pages/(:any)/children", H::PageChildren, true),
    (
        &["GET", "POST"],
        "pages/(:any)/children/search",
        H::PageChildrenSearch,
        true,
    ),
    (&["GET"], "pages/(:any)/blueprint", H::PageBlueprint, true),
    (&["GET"], "pages/(:any)/blueprints", H::PageBlueprints, true),
    (
        &["GET"],
        "pages/(:any)/sections/(:any)",
        H::PageSection,
        true,
    ),
    (&["GET"], "pages/(:any)/files", H::Files, true),
    (
        &["GET", "POST"],
        "pages/(:any)/files/search",
        H::FilesSearch,
        true,
    ),
    (&["GET"], "pages/(:any)/files/(:any)", H::File, true),
    (&["GET"], "users", H::Users, true),
    (&["GET", "POST"], "users/search", H::UsersSearch, true),
    (&["GET"], "users/(:any)", H::User, true),
    (&["GET"], "users/(:any)/avatar", H::UserAvatar, true),
    (&["GET"], "users/(:any)/blueprint", H::UserBlueprint, true),
    (&["GET"], "users/(:any)/blueprints", H::UserBlueprints, true),
    (&["GET"], "users/(:any)/roles", H::UserRoles, true),
    (&["GET"], "users/(:any)/files", H::Files, true),
    (
        &["GET", "POST"],
        "users/(:any)/files/search",
        H::FilesSearch,
        true,
    ),
    (&["GET"], "users/(:any)/files/(:any)", H::File, true),
    (&["GET"], "account", H::User, true),
    (&["GET"], "account/avatar", H::UserAvatar, true),
    (&["GET"], "account/blueprint", H::UserBlueprint, true),
    (&["GET"], "account/blueprints", H::UserBlueprints, true),
    (&["GET"], "account/roles", H::UserRoles, true),
    (&["GET"], "account/files", H::Files, true),
    (
        &["GET", "POST"],
        "account/files/search",
        H::FilesSearch,
        true,
    ),
    (&["GET"], "account/files/(:any)", H::File, true),
    (&["GET"], "roles", H::Roles, true),
    (&["GET"], "roles/(:any)", H::Role, true),
    // Only registered when the `languages` option is on (see `dispatch`).
    (&["GET"], "languages", H::Languages, true),
    (&["POST"], "languages", H::LanguageWrite, true),
    (&["GET"], "languages/(:any)", H::Language, true),
    (
        &["PATCH", "DELETE"],
        "languages/(:any)",
        H::LanguageWrite,
        true,
    ),
    // Writes: site and pages.
    (&["PATCH"], "site", H::SiteUpdate, true),
    (&["PATCH"], "site/title", H::SiteTitle, true),
    (&["POST"], "site/children", H::PageCreate, true),
    (&["POST"], "site/changes/(:any)", H::Changes, true),
    (&["PATCH"], "pages/(:any)", H::PageUpdate, true),
    (&["DELETE"], "pages/(:any)", H::PageDelete, true),
    (&["POST"], "pages/(:any)/children", H::PageCreate, true),
    (&["PATCH"], "pages/(:any)/status", H::PageStatus, true),
    (&["PATCH"], "pages/(:any)/slug", H::PageSlug, true),
    (&["PATCH"], "pages/(:any)/title", H::PageTitle, true),
    (&["PATCH"], "pages/(:any)/template", H::PageTemplate, true),
    (&["POST"], "pages/(:any)/duplicate", H::PageDuplicate, true),
    (&["POST"], "pages/(:any)/changes/(:any)", H::Changes, true),
    // Writes: files (sort before the single-file routes).
    (&["POST"], "site/files", H::FileUpload, true),
    (&["PATCH"], "site/files/sort", H::FilesSort, true),
    (&["POST"], "site/files/(:any)", H::FileReplace, true),
    (&["PATCH"], "site/files/(:any)", H::FileUpdate, true),
    (&["DELETE"], "site/files/(:any)", H::FileDelete, true),
    (&["PATCH"], "site/files/(:any)/name", H::FileName, true),
    (&["POST"], "pages/(:any)/files", H::FileUpload, true),
    (&["PATCH"], "pages/(:any)/files/sort", H::FilesSort, true),
    (&["POST"], "pages/(:any)/files/(:any)", H::FileReplace, true),
    (&["PATCH"], "pages/(:any)/files/(:any)", H::FileUpdate, true),
    (
        &["DELETE"],
        "pages/(:any)/files/(:any)",
        H::FileDelete,
        true,
    ),
    (
        &["PATCH"],
        "pages/(:any)/files/(:any)/name",
        H::FileName,
        true,
    ),
    (&["POST"], "users/(:any)/avatar", H::AvatarUpload, true),
    (&["DELETE"], "users/(:any)/avatar", H::AvatarDelete, true),
    (&["POST"], "account/avatar", H::AvatarUpload, true),
    (&["DELETE"], "account/avatar", H::AvatarDelete, true),
    // Writes: users.
    (&["POST"], "users", H::UserCreate, true),
    (&["PATCH"], "users/(:any)", H::UserUpdate, true),
    (&["DELETE"], "users/(:any)", H::UserDelete, true),
    (&["PATCH"], "users/(:any)/email", H::UserEmail, true),
    (&["PATCH"], "users/(:any)/name", H::UserName, true),
    (&["PATCH"], "users/(:any)/language", H::UserLanguage, true),
    (&["PATCH"], "users/(:any)/password", H::UserPassword, true),
    (&["PATCH"], "users/(:any)/role", H::UserRole, true),
    (&["PATCH"], "account", H::UserUpdate, true),
    (&["DELETE"], "account", H::UserDelete, true),
    (&["PATCH"], "account/email", H::UserEmail, true),
    (&["PATCH"], "account/name", H::UserName, true),
    (&["PATCH"], "account/language", H::UserLanguage, true),
    (&["PATCH"], "account/password", H::UserPassword, true),
    (&["PATCH"], "account/role", H::UserRole, true),
];

/// A matched route.
pub struct Matched {
    /// The handler.
    pub handler: H,
    /// Captured `(:any)` segments, raw.
    pub params: Vec<String>,
    /// The first segment (`site`, `pages`, `users`, `account`, ...).
    pub root: String,
    /// The pattern with wildcards expanded (debug output).
    pub pattern: String,
    /// Whether the route needs an authenticated user.
    pub auth: bool,
}

fn match_route(method: &Method, path: &str) -> Option<Matched> {
    let segs: Vec<&str> = path.split('/').collect();
    for (methods, pattern, handler, auth) in ROUTES {
        if !methods.contains(&method.as_str()) {
            continue;
        }
        let pat: Vec<&str> = pattern.split('/').collect();
        if pat.len() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        let ok = pat.iter().zip(&segs).all(|(p, s)| {
            if *p == "(:any)" {
                params.push(s.to_string());
                folio_wire::query::is_any_segment(s)
            } else {
                p == s
            }
        });
        if ok {
            return Some(Matched {
                handler: *handler,
                params,
                root: segs[0].to_string(),
                pattern: pattern.replace("(:any)", "([a-zA-Z0-9\\.\\-_%= \\+\\@\\(\\)]+)"),
                auth: *auth,
            });
        }
    }
    None
}

/// What a route reads of the request body.
enum Needs {
    /// Nothing: the body is never read.
    Nothing,
    /// The whole body in memory, up to this many bytes.
    Bytes(usize),
    /// An upload form, streamed to temporary files.
    Form,
}

/// Anonymous routes that read a body (the login) get at most this much.
const ANONYMOUS_BODY_LIMIT: usize = 64 * 1024;

fn needs(app: &App, m: &Matched, method: &Method) -> Needs {
    match m.handler {
        H::FileUpload | H::FileReplace | H::AvatarUpload => Needs::Form,
        H::Logout | H::Ping => Needs::Nothing,
        H::Login => Needs::Bytes(ANONYMOUS_BODY_LIMIT.min(app.max_body)),
        _ if *method == Method::GET || *method == Method::HEAD => Needs::Nothing,
        _ => Needs::Bytes(app.max_body),
    }
}

/// Reads what the route needs of the body into `req`. Called only after the route matched
/// and the caller passed the gate, so unknown routes and anonymous callers never make the
/// server buffer anything.
async fn read_body(
    app: &App,
    req: &mut Req,
    body: axum::body::Body,
    m: &Matched,
) -> Result<(), Error> {
    use crate::http::request::{read_bytes, read_form};
    match needs(app, m, &req.method) {
        Needs::Nothing => Ok(()),
        Needs::Bytes(limit) => {
            req.body = read_bytes(body, &req.headers, limit, app.body_timeout)
                .await
                .map_err(|e| e.to_error())?;
            Ok(())
        }
        Needs::Form => {
            let spool = app.root.join("content");
            req.form = Some(
                read_form(body, &req.headers, app.max_body, app.body_timeout, spool)
                    .await
                    .map_err(|e| e.to_error())?,
            );
            Ok(())
        }
    }
}

/// Handles one API request (`rest` is the path after `/<api.slug>/`).
pub async fn dispatch(
    app: &App,
    req: &mut Req,
    body: axum::body::Body,
    sess: &mut SessionCtx,
    rest: &str,
) -> Reply {
    let path = rest.trim_matches('/');
    let Some(m) = (!path.is_empty())
        .then(|| match_route(&req.method, path))
        .flatten()
        .filter(|m| m.root != "languages" || app.config.truthy("languages"))
    else {
        return error_reply(app, &Error::no_route(path, req.method.as_str()), None);
    };
    let snap = app.snapshot.load_full();
    let actor = if m.auth {
        match gate(app, req, sess, &snap).await {
            Ok(a) => a,
            Err(e) => return error_reply(app, &e, Some(&m.pattern)),
        }
    } else {
        Actor::Nobody
    };
    if let Err(e) = read_body(app, req, body, &m).await {
        return error_reply(app, &e, Some(&m.pattern));
    }
    let req: &Req = req;
    // Reads are answered from the response cache when the same user asked the same thing
    // of the same snapshot before.
    let cache_key = (req.method == Method::GET
        && !matches!(m.handler, H::System | H::Translations | H::Translation)
        && crate::http::cache::cacheable_query(&req.raw_query))
    .then(|| match &actor {
        Actor::User(id) => Some(crate::http::cache::Key {
            version: snap.version,
            who: id.clone(),
            base: resources::base_url(app, req),
            target: format!("{}?{}", req.path, req.raw_query),
        }),
        _ => None,
    })
    .flatten();
    if let Some(key) = &cache_key
        && let Some(hit) = app.responses.get(key)
    {
        let mut r = Reply::raw(
            axum::http::StatusCode::from_u16(hit.status).unwrap_or(axum::http::StatusCode::OK),
            "application/json; charset=UTF-8",
            hit.body,
        );
        r.headers = hit.headers;
        return r;
    }
    let result = match m.handler {
        H::SiteUpdate
        | H::SiteTitle
        | H::PageCreate
        | H::PageUpdate
        | H::PageDelete
        | H::PageStatus
        | H::PageSlug
        | H::PageTitle
        | H::PageTemplate
        | H::PageDuplicate
        | H::Changes => write_pages::handle(app, req, &snap, &actor, &m).await,
        H::FileUpload
        | H::FileReplace
        | H::FileUpdate
        | H::FileName
        | H::FilesSort
        | H::FileDelete
        | H::AvatarUpload
        | H::AvatarDelete => write_files::handle(app, req, &snap, &actor, &m).await,
        H::UserCreate
        | H::UserUpdate
        | H::UserDelete
        | H::UserEmail
        | H::UserName
        | H::UserLanguage
        | H::UserPassword
        | H::UserRole => write_users::handle(app, req, sess, &snap, &actor, &m).await,
        _ => resources::handle(app, req, sess, &snap, &actor, &m).await,
    };
    match result {
        Ok(r) if cache_key.is_some() && r.raw.is_none() => {
            let body = bytes::Bytes::from(serde_json::to_vec(&r.body).unwrap_or_default());
            let entry = crate::http::cache::Entry {
                status: r.status.as_u16(),
                body: body.clone(),
                headers: r.headers.clone(),
            };
            if let Some(key) = cache_key {
                app.responses.put(key, entry);
            }
            let mut out = Reply::raw(r.status, "application/json; charset=UTF-8", body);
            out.headers = r.headers;
            out
        }
        Ok(r) => r,
        Err(e) => error_reply(app, &e, Some(&m.pattern)),
    }
}

/// Pagination of a collection from `?page` / `?limit`; returns the slice bounds and the
/// pagination object.
pub fn paginate(req: &Req, total: usize) -> Result<(usize, usize, Value), Error> {
    let number = |name: &str| -> Result<Option<usize>, Error> {
        match req.query(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s.parse::<usize>().map(Some).map_err(|_| Error::Unexpected {
                code: 500,
                exception: "TypeError",
                detail: format!("The `{name}` query parameter must be a whole number"),
            }),
        }
    };
    let limit = match number("limit")? {
        None => 100,
        Some(0) => 20,
        Some(n) => n,
    };
    let page = match number("page")? {
        None | Some(0) => 1,
        Some(n) => n,
    };
    let pages = total.div_ceil(limit);
    if total == 0 {
        if page != 1 {
            return Err(Error::ErrorPage {
                key: "error.errorPage",
                message: format!("Pagination page {page} does not exist, expected 1-1"),
            });
        }
        return Ok((
            0,
            0,
            json!({"page": 0, "total": 0, "offset": 0, "limit": limit}),
        ));
    }
    if page > pages {
        return Err(Error::ErrorPage {
            key: "error.errorPage",
            message: format!("Pagination page {page} does not exist, expected 1-{pages}"),
        });
    }
    let offset = (page - 1) * limit;
    let end = (offset + limit).min(total);
    Ok((
        offset,
        end,
        json!({"page": page, "total": total, "offset": offset, "limit": limit}),
    ))
}

/// A paginated collection envelope.
pub fn collection(req: &Req, items: Vec<Value>) -> Result<Reply, Error> {
    let (start, end, pagination) = paginate(req, items.len())?;
    let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    Ok(Reply::json(
        axum::http::StatusCode::OK,
        json!({"code": 200, "data": data, "pagination": pagination, "status": "ok", "type": "collection"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_like_kirby() {
        let m = match_route(&Method::GET, "pages/blog+first-light").unwrap();
        assert_eq!(m.handler, H::Page);
        assert_eq!(m.params, ["blog+first-light"]);
        assert!(match_route(&Method::GET, "pages/blog/first-light").is_none());
        assert!(match_route(&Method::PUT, "pages/blog").is_none());
        assert!(match_route(&Method::GET, "auth/login").is_none());
        let m = match_route(&Method::GET, "pages/..+..+etc").unwrap();
        assert_eq!(m.params, ["..+..+etc"]);
        assert!(match_route(&Method::GET, "pages/a:b").is_none());
        assert_eq!(
            match_route(&Method::GET, "account").unwrap().handler,
            H::User
        );
    }
}
