//! Route handlers for the read API: auth, system, site, pages, files, users and roles.
//! Each handler finds its model, checks that the actor may access it (an inaccessible model
//! answers exactly like a missing one) and renders it through the views.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use folio_core::model::{FileParent, PageIdx, UserIdx, content_etag};
use folio_core::permissions::{Actor, Target, can};
use folio_core::snapshot::UuidTarget;
use folio_core::{Error, Snapshot, search};

use super::views::{Plan, V};
use super::{H, Matched, collection, system};
use crate::http::App;
use crate::http::auth::{Check, SessionCtx, is_basic, parse_basic, validate_password};
use crate::http::request::{Req, decode_path_segment, get_ci};
use crate::http::response::Reply;

/// The site's base URL: the `url` option, or the request's scheme and host.
pub fn base_url(app: &App, req: &Req) -> String {
    if let Some(url) = app.config.string("url").filter(|u| !u.is_empty()) {
        return url.trim_end_matches('/').to_string();
    }
    let host = req
        .header("host")
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| "localhost".into());
    let scheme = if req.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Dispatches a matched route.
pub async fn handle(
    app: &App,
    req: &Req,
    sess: &mut SessionCtx,
    snap: &Snapshot,
    actor: &Actor,
    m: &Matched,
) -> Result<Reply, Error> {
    let base = base_url(app, req);
    let select = req.query("select");
    let view = req.query("view");
    let model_plan = || Plan::for_model(select, view);
    match m.handler {
        H::Login => return login(app, req, sess, snap, &base).await,
        H::Logout => return Ok(logout(app, sess)),
        H::Ping => return Ok(Reply::ok()),
        H::System => {
            let who = soft_user(app, req, sess, snap).await;
            let v = V {
                snap,
                actor: &who,
                base: &base,
            };
            let local = req.peer.ip().is_loopback();
            let installable = local || app.config.is_true("panel.install");
            return Ok(Reply::model(system::system(
                &v,
                snap.site.title(),
                installable,
            )));
        }
        _ => {}
    }
    let v = V {
        snap,
        actor,
        base: &base,
    };
    match m.handler {
        H::Auth => {
            let Some(u) = actor.user_idx(snap) else {
                return Err(Error::user_not_found(""));
            };
            let plan = match select {
                Some(s) if !s.is_empty() => model_plan(),
                _ => Plan::View("auth".into()),
            };
            Ok(Reply::model(v.user(u, &plan)))
        }
        H::Translations => collection(
            req,
            system::TRANSLATIONS
                .iter()
                .filter_map(|t| {
                    system::translation(t.0, &Plan::for_collection(select, view, "compact"))
                })
                .collect(),
        ),
        H::Translation => system::translation(&m.params[0], &model_plan())
            .map(Reply::model)
            .ok_or(Error::NullResult),
        H::Site => {
            site_access(&v)?;
            Ok(Reply::model(v.site(&model_plan()))
                .with_header("etag", content_etag(&snap.site.content)))
        }
        H::SiteChildren | H::PageChildren => {
            let (children, drafts) = match m.handler {
                H::SiteChildren => {
                    site_access(&v)?;
                    (&snap.site.children, &snap.site.drafts)
                }
                _ => {
                    let p = find_page(&v, &m.params[0])?;
                    (&snap.pages[p].children, &snap.pages[p].drafts)
                }
            };
            let list = by_status(req.query("status"), children, drafts);
            pages_collection(&v, req, list)
        }
        H::SiteChildrenSearch | H::PageChildrenSearch => {
            let (children, drafts) = match m.handler {
                H::SiteChildrenSearch => {
                    site_access(&v)?;
                    (&snap.site.children, &snap.site.drafts)
                }
                _ => {
                    let p = find_page(&v, &m.params[0])?;
                    (&snap.pages[p].children, &snap.pages[p].drafts)
                }
            };
            let list = by_status(req.query("status"), children, drafts);
            let q = search_query(req);
            pages_collection(&v, req, search_pages(&v, list, &q))
        }
        H::SiteSearch => {
            site_access(&v)?;
            let q = search_query(req);
            pages_collection(&v, req, search_pages(&v, snap.index_order(), &q))
        }
        H::SiteFind => {
            site_access(&v)?;
            let body = req.body();
            let ids: Vec<String> = match &body {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                Value::Object(o) => o
                    .values()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let mut found = Vec::new();
            for id in ids {
                let p = if id.starts_with("page://") {
                    match snap.by_uuid(&id) {
                        Some(UuidTarget::Page(p)) => Some(*p),
                        _ => None,
                    }
                } else {
                    snap.page_by_id(&id.replace('+', "/"))
                };
                if let Some(p) = p
                    && can(snap, actor, Target::Page(p), "access")
                {
                    found.push(p);
                }
            }
            let plan = Plan::for_collection(select, view, "compact");
            collection(req, found.iter().map(|p| v.page(*p, &plan)).collect())
        }
        H::SiteBlueprint => {
            site_access(&v)?;
            Ok(Reply::model(v.site_blueprint()))
        }
        H::SiteBlueprints => {
            site_access(&v)?;
            Ok(bare(site_blueprints(&v, req.query("section"))))
        }
        H::SiteSection | H::PageSection => {
            let (bp, owner) = match m.handler {
                H::SiteSection => {
                    site_access(&v)?;
                    (snap.blueprints.site().into_owned(), None)
                }
                _ => {
                    let p = find_page(&v, &m.params[0])?;
                    (
                        snap.blueprints.page(&snap.pages[p].template).into_owned(),
                        Some(p),
                    )
                }
            };
            let name = m.params.last().map(String::as_str).unwrap_or("");
            let section = bp
                .sections
                .iter()
                .find(|s| s.name == name)
                .ok_or(Error::NullResult)?;
            pages_section(&v, req, owner, section)
        }
        H::Page => {
            let p = find_page(&v, &m.params[0])?;
            Ok(Reply::model(v.page(p, &model_plan()))
                .with_header("etag", content_etag(&snap.pages[p].content)))
        }
        H::PageBlueprint => {
            let p = find_page(&v, &m.params[0])?;
            Ok(Reply::model(v.page_blueprint(p)))
        }
        H::PageBlueprints => {
            let p = find_page(&v, &m.params[0])?;
            Ok(bare(Value::Array(v.page_blueprints(p))))
        }
        H::Files | H::FilesSearch => {
            let parent = file_parent(&v, m)?;
            let mut files: Vec<&folio_core::model::File> = snap
                .files_of(parent)
                .iter()
                .filter(|f| v.listable_file(f))
                .collect();
            if m.handler == H::FilesSearch {
                let q = search_query(req);
                let words = search::words(&q);
                let mut scored: Vec<(u64, &folio_core::model::File)> = files
                    .into_iter()
                    .filter(|_| q.chars().count() >= 2)
                    .map(|f| {
                        let fields = std::iter::once(("id", f.id.as_str()))
                            .chain(f.content.iter().map(|(k, x)| (k.as_str(), x.as_str())));
                        (search::score(&q, &words, fields, &["id", "title"]), f)
                    })
                    .filter(|(s, _)| *s > 0)
                    .collect();
                scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
                files = scored.into_iter().map(|(_, f)| f).collect();
            }
            let plan = Plan::for_collection(select, view, "default");
            collection(req, files.iter().map(|f| v.file(f, &plan)).collect())
        }
        H::File => {
            let parent = file_parent(&v, m)?;
            let name = decode_path_segment(m.params.last().map(String::as_str).unwrap_or(""));
            let f = snap
                .file(parent, &name)
                .filter(|f| can(snap, actor, Target::File(f.parent, &f.filename), "access"))
                .ok_or_else(|| Error::file_not_found(&name))?;
            Ok(
                Reply::model(v.file(f, &model_plan()))
                    .with_header("etag", content_etag(&f.content)),
            )
        }
        H::Users | H::UsersSearch => {
            let mut list: Vec<UserIdx> = v
                .sorted_users()
                .into_iter()
                .filter(|u| can(snap, actor, Target::User(*u), "list"))
                .collect();
            if m.handler == H::UsersSearch {
                let q = search_query(req);
                let words = search::words(&q);
                let mut scored: Vec<(u64, UserIdx)> = list
                    .into_iter()
                    .filter(|_| q.chars().count() >= 2)
                    .map(|u| {
                        let user = &snap.users[u];
                        let role = user.role.as_str();
                        let name = user.name.as_deref().unwrap_or("");
                        let fields = [
                            ("id", user.id.as_str()),
                            ("email", user.email.as_str()),
                            ("name", name),
                            ("role", role),
                        ]
                        .into_iter()
                        .chain(user.content.iter().map(|(k, x)| (k.as_str(), x.as_str())));
                        (search::score(&q, &words, fields, &[]), u)
                    })
                    .filter(|(s, _)| *s > 0)
                    .collect();
                scored.sort_by(|a, b| {
                    b.0.cmp(&a.0)
                        .then_with(|| snap.users[a.1].id.cmp(&snap.users[b.1].id))
                });
                list = scored.into_iter().map(|(_, u)| u).collect();
            }
            let plan = Plan::for_collection(select, view, "compact");
            collection(req, list.iter().map(|u| v.user(*u, &plan)).collect())
        }
        H::User => {
            let u = find_user(&v, m)?;
            Ok(Reply::model(v.user(u, &model_plan()))
                .with_header("etag", content_etag(&snap.users[u].content)))
        }
        H::UserAvatar => {
            let u = find_user(&v, m)?;
            let f = snap.users[u].avatar().ok_or(Error::NullResult)?;
            Ok(Reply::model(v.file(f, &model_plan())))
        }
        H::UserBlueprint => {
            let u = find_user(&v, m)?;
            Ok(Reply::model(v.user_blueprint(u)))
        }
        H::UserBlueprints => {
            let u = find_user(&v, m)?;
            let role = &snap.users[u].role;
            let title = snap
                .blueprints
                .user(role)
                .map(|b| b.title.clone())
                .unwrap_or_else(|| snap.role_named(role).title.clone());
            Ok(bare(json!([{"name": role, "title": title}])))
        }
        H::UserRoles => {
            let u = find_user(&v, m)?;
            let plan = Plan::for_collection(select, view, "compact");
            collection(
                req,
                v.assignable_roles(u)
                    .iter()
                    .map(|r| v.role(r, &plan))
                    .collect(),
            )
        }
        H::Roles => {
            let plan = Plan::for_collection(select, view, "compact");
            collection(
                req,
                snap.roles
                    .keys()
                    .filter(|r| v.role_accessible(r))
                    .map(|r| v.role(r, &plan))
                    .collect(),
            )
        }
        H::Role => {
            let name = &m.params[0];
            if !snap.roles.contains_key(name.as_str()) || !v.role_accessible(name) {
                return Err(Error::role_not_found(name));
            }
            Ok(Reply::model(v.role(name, &model_plan())))
        }
        H::Languages => collection(req, Vec::new()),
        H::Language => Err(Error::NullResult),
        H::LanguageWrite => {
            // GHSA-jm9m-rqr3-wfmh: the languages permissions are checked for every write.
            let (action, verb) = match req.method.as_str() {
                "POST" => ("create", "create"),
                "PATCH" => ("update", "update"),
                _ => ("delete", "delete"),
            };
            if !snap.role_of(actor).permissions.get("languages", action) {
                return Err(Error::Permission {
                    key: match action {
                        "create" => "error.language.create.permission",
                        "update" => "error.language.update.permission",
                        _ => "error.language.delete.permission",
                    },
                    message: format!("You are not allowed to {verb} a language"),
                });
            }
            Err(Error::Logic {
                key: "error.language.unsupported",
                message: "Folio does not support multi-language content yet".into(),
            })
        }
        _ => Err(Error::internal("route handled elsewhere")),
    }
}

/// A bare JSON value (no envelope), as Kirby returns plain arrays.
fn bare(v: Value) -> Reply {
    Reply::json(StatusCode::OK, v)
}

fn site_access(v: &V<'_>) -> Result<(), Error> {
    if can(v.snap, v.actor, Target::Site, "access") {
        Ok(())
    } else {
        Err(Error::NotFound {
            key: "error.site.notAccessible",
            message: "The site is not accessible".into(),
        })
    }
}

/// Finds a page from the `+`-separated id in the path; inaccessible pages are 404.
pub fn find_page(v: &V<'_>, raw: &str) -> Result<PageIdx, Error> {
    let id = folio_wire::query::model_id(raw);
    v.snap
        .page_by_id(&id)
        .filter(|p| can(v.snap, v.actor, Target::Page(*p), "access"))
        .ok_or_else(|| Error::page_not_found(&id))
}

fn find_user(v: &V<'_>, m: &Matched) -> Result<UserIdx, Error> {
    let key = if m.root == "account" {
        "account"
    } else {
        m.params[0].as_str()
    };
    let u = if key == "account" {
        v.actor.user_idx(v.snap)
    } else {
        v.snap.user_by_key(&decode_path_segment(key))
    };
    u.filter(|u| can(v.snap, v.actor, Target::User(*u), "access"))
        .ok_or_else(|| Error::user_not_found(key))
}

fn file_parent(v: &V<'_>, m: &Matched) -> Result<FileParent, Error> {
    match m.root.as_str() {
        "site" => {
            site_access(v)?;
            Ok(FileParent::Site)
        }
        "pages" => Ok(FileParent::Page(find_page(v, &m.params[0])?)),
        _ => Ok(FileParent::User(find_user(v, m)?)),
    }
}

/// Kirby's `status` filter for children collections.
fn by_status(status: Option<&str>, children: &[PageIdx], drafts: &[PageIdx]) -> Vec<PageIdx> {
    match status.unwrap_or("published") {
        "listed" | "unlisted" => children.to_vec(),
        "draft" | "drafts" => drafts.to_vec(),
        "all" => children.iter().chain(drafts).copied().collect(),
        _ => children.to_vec(),
    }
}

fn pages_collection(v: &V<'_>, req: &Req, list: Vec<PageIdx>) -> Result<Reply, Error> {
    let status = req.query("status");
    let plan = Plan::for_collection(req.query("select"), req.query("view"), "compact");
    let mut memo: Vec<(&str, bool)> = Vec::new();
    let visible: Vec<PageIdx> = list
        .into_iter()
        .filter(|p| match status {
            Some("listed") => v.snap.pages[*p].num.is_some() && !v.is_draft(*p),
            Some("unlisted") => v.snap.pages[*p].num.is_none() && !v.is_draft(*p),
            _ => true,
        })
        .filter(|p| {
            // `list` depends only on the role and the page's blueprint (no built-in rule
            // touches it), so it is decided once per template.
            let t = v.snap.pages[*p].template.as_str();
            match memo.iter().find(|(m, _)| *m == t) {
                Some((_, ok)) => *ok,
                None => {
                    let ok = can(v.snap, v.actor, Target::Page(*p), "list");
                    memo.push((t, ok));
                    ok
                }
            }
        })
        .collect();
    // Paginate first, then render only the requested slice.
    let (start, end, pagination) = super::paginate(req, visible.len())?;
    let data: Vec<Value> = visible[start..end]
        .iter()
        .map(|p| v.page(*p, &plan))
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        json!({"code": 200, "data": data, "pagination": pagination, "status": "ok", "type": "collection"}),
    ))
}

fn search_query(req: &Req) -> String {
    let q = if req.method == Method::POST {
        get_ci(&req.body(), "search")
            .and_then(Value::as_str)
            .map(str::to_string)
    } else {
        None
    };
    q.or_else(|| req.query("q").map(str::to_string))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn search_pages(v: &V<'_>, list: Vec<PageIdx>, q: &str) -> Vec<PageIdx> {
    if q.chars().count() < 2 {
        return Vec::new();
    }
    let q = q.to_lowercase();
    let words = search::words(&q);
    let query = search::Query::new(&q, &words);
    let mut scored: Vec<(u64, u32, PageIdx)> = list
        .into_iter()
        .filter_map(|p| {
            let page = &v.snap.pages[p];
            let fields = page.search.iter().map(|(k, x)| (k.as_str(), x.as_str()));
            let score = query.score(fields, &["title", "id"]);
            (score > 0).then(|| (score, v.snap.id_rank.get(p).copied().unwrap_or(u32::MAX), p))
        })
        .collect();
    // Best score first; equal scores in id order (as Kirby sorts its results).
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, p)| p).collect()
}

/// `site/blueprints`: templates named in the site's pages sections first, then (for a
/// section without templates) every page blueprint alphabetically.
fn site_blueprints(v: &V<'_>, section: Option<&str>) -> Value {
    let bp = v.snap.blueprints.site();
    let mut names: Vec<String> = Vec::new();
    let mut any = false;
    for s in bp.sections.iter().filter(|s| s.kind == "pages") {
        if section.is_some_and(|want| want != s.name) {
            continue;
        }
        if s.templates.is_empty() {
            any = true;
        }
        for t in &s.templates {
            if !names.contains(t) {
                names.push(t.clone());
            }
        }
    }
    if any {
        let mut all: Vec<&String> = v.snap.blueprints.pages.keys().collect();
        all.sort();
        for t in all {
            if !names.contains(t) {
                names.push(t.clone());
            }
        }
    }
    Value::Array(
        names
            .into_iter()
            .map(|n| {
                let title = v.snap.blueprints.page(&n).title.clone();
                json!({"name": n, "title": title})
            })
            .collect(),
    )
}

/// A Panel pages section (`…/sections/<name>`), rendered like Kirby's section API.
fn pages_section(
    v: &V<'_>,
    req: &Req,
    owner: Option<PageIdx>,
    section: &folio_core::blueprint::Section,
) -> Result<Reply, Error> {
    if section.kind != "pages" {
        return Err(Error::NullResult);
    }
    let (children, drafts) = match owner {
        Some(p) => (&v.snap.pages[p].children, &v.snap.pages[p].drafts),
        None => (&v.snap.site.children, &v.snap.site.drafts),
    };
    let status = section
        .props
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("all");
    let list: Vec<PageIdx> = match status {
        "draft" | "drafts" => drafts.clone(),
        "listed" => children
            .iter()
            .copied()
            .filter(|p| v.snap.pages[*p].num.is_some())
            .collect(),
        "unlisted" => children
            .iter()
            .copied()
            .filter(|p| v.snap.pages[*p].num.is_none())
            .collect(),
        "published" => children.clone(),
        _ => children.iter().chain(drafts).copied().collect(),
    };
    let list: Vec<PageIdx> = list
        .into_iter()
        .filter(|p| {
            section.templates.is_empty() || section.templates.contains(&v.snap.pages[*p].template)
        })
        .filter(|p| can(v.snap, v.actor, Target::Page(*p), "list"))
        .collect();
    let limit = section
        .props
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(20) as usize;
    let page: usize = req
        .query("page")
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let total = list.len();
    let data: Vec<Value> = list
        .iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(|p| {
            let mut item = v.page_picker(*p, false);
            if let Some(o) = item.as_object_mut() {
                o.remove("sortable");
                o.remove("hasChildren");
            }
            item
        })
        .collect();
    let headline = section
        .props
        .get("headline")
        .cloned()
        .unwrap_or_else(|| json!(section.name));
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "status": "ok",
            "code": 200,
            "name": section.name,
            "type": "pages",
            "data": data,
            "errors": [],
            "options": {
                "add": false,
                "batch": false,
                "columns": [],
                "empty": null,
                "headline": headline,
                "help": null,
                "layout": "list",
                "link": null,
                "max": null,
                "min": null,
                "search": false,
                "size": "auto",
                "sortable": true,
            },
            "pagination": {"limit": limit, "offset": (page - 1) * limit, "page": page, "total": total},
        }),
    ))
}

/// Login: CSRF, then credentials; regenerates the session token.
async fn login(
    app: &App,
    req: &Req,
    sess: &mut SessionCtx,
    snap: &Snapshot,
    base: &str,
) -> Result<Reply, Error> {
    // A session that could not be loaded (store down) fails closed before anything else.
    let reference = sess.csrf_reference(app)?;
    let sent = req.header("x-csrf").unwrap_or("");
    if sent.is_empty()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            reference.as_bytes(),
        ))
    {
        return Err(Error::invalid_argument("Invalid CSRF token"));
    }
    let body = req.body();
    let text = |k: &str| match get_ci(&body, k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let email = text("email");
    let password = text("password");
    if password.is_empty() {
        return Err(Error::invalid_argument(
            "Login without password is not enabled",
        ));
    }
    let long = match get_ci(&body, "long") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !(s.is_empty() || s == "0" || s == "false"),
        // Kirby 5.5.2 fails with a PHP TypeError here; Folio keeps the same status.
        _ => {
            return Err(Error::Unexpected {
                code: 500,
                exception: "TypeError",
                detail: "The login field `long` is required (true or false)".into(),
            });
        }
    };
    let u = validate_password(
        app,
        snap,
        app.client_ip(req),
        &email,
        &password,
        Check::Full,
    )
    .await?;
    let has_password = snap.users[u].password_mtime.is_some();
    sess.begin_login(app, &snap.users[u].id, long, has_password)?;
    let actor = Actor::user(snap, u);
    let v = V {
        snap,
        actor: &actor,
        base,
    };
    Ok(Reply::json(
        StatusCode::OK,
        json!({"code": 200, "status": "ok", "user": v.user(u, &Plan::View("auth".into()))}),
    ))
}

/// Logout: no CSRF, no auth. Drops the user; destroys an empty session, else regenerates.
fn logout(app: &App, sess: &mut SessionCtx) -> Reply {
    if let Some(s) = sess.get() {
        let challenge_keys: Vec<String> = s
            .record
            .data
            .keys()
            .filter(|k| k.starts_with("kirby.challenge"))
            .cloned()
            .collect();
        for k in challenge_keys {
            s.remove(&k);
        }
    }
    sess.logout(app);
    Reply::ok()
}

/// The user of a route without the auth gate (`GET system`): Basic if valid, else the
/// session's user; never an error.
async fn soft_user(app: &App, req: &Req, sess: &mut SessionCtx, snap: &Snapshot) -> Actor {
    if app.config.is_true("api.basicAuth")
        && (req.https || app.config.is_true("api.allowInsecure"))
        && let Some(h) = req.header("authorization").filter(|h| is_basic(h))
    {
        return match parse_basic(h) {
            Some((email, pw)) => {
                match validate_password(app, snap, app.client_ip(req), &email, &pw, Check::Cached)
                    .await
                {
                    Ok(u) => Actor::user(snap, u),
                    Err(_) => Actor::Nobody,
                }
            }
            None => Actor::Nobody,
        };
    }
    match sess.user(snap) {
        Some(u) => Actor::user(snap, u),
        None => Actor::Nobody,
    }
}
