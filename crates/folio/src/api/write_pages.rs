//! Write routes for the site and pages: create, update, status, slug, title, template,
//! duplicate, delete, content versions, and the site's update and title. Each runs a core
//! action under the writer lock and answers with the model from the new snapshot.

use serde_json::{Map, Value};

use folio_core::actions::{Ctx, page};
use folio_core::model::content_etag;
use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot};

use super::resources::{base_url, find_page};
use super::views::{Plan, V};
use super::{H, Matched};
use crate::http::request::{Req, get_ci, whole_number};
use crate::http::response::Reply;
use crate::http::{App, Effect};

fn body_object(req: &Req) -> Map<String, Value> {
    match req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

fn text(body: &Map<String, Value>, key: &str) -> String {
    match get_ci(&Value::Object(body.clone()), key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Handles a site or page write route.
pub async fn handle(
    app: &App,
    req: &Req,
    snap: &Snapshot,
    actor: &Actor,
    m: &Matched,
) -> Result<Reply, Error> {
    let base = base_url(app, req);
    let body = body_object(req);
    // The target page (404 when missing or not accessible to the actor).
    let target = if m.root == "pages" {
        let v = V {
            snap,
            actor,
            base: &base,
        };
        Some(find_page(&v, &m.params[0])?)
    } else {
        None
    };
    let old_id = target.map(|p| snap.pages[p].id.clone());
    let who = actor.clone();
    let handler = m.handler;
    let op = m.params.last().cloned().unwrap_or_default();
    let if_match = req.header("if-match").map(str::to_string);
    let (new_id, new_snap) = app
        .write_effect(move |s: &Snapshot| {
            // Resolve again on the latest snapshot: another write may have run since.
            let p = match &old_id {
                Some(id) => Some(s.page_by_id(id).ok_or_else(|| Error::page_not_found(id))?),
                None => None,
            };
            let actor = who.clone();
            // Optimistic concurrency (beyond Kirby): a stale `If-Match` changes nothing.
            if let Some(expect) = &if_match {
                let current = match p {
                    Some(p) => content_etag(&s.pages[p].content),
                    None => content_etag(&s.site.content),
                };
                if expect.trim() != "*" && !expect.split(',').any(|e| e.trim().trim_start_matches("W/") == current) {
                    return Err(Error::Precondition {
                        key: "error.precondition",
                        message: "The content was changed since you loaded it (If-Match does not match)".into(),
                    });
                }
            }
            let ctx = Ctx { snap: s, actor: &actor };
            let id_of = |p: Option<usize>| p.map(|p| s.pages[p].id.clone());
            let content_of = |p: Option<usize>| match p {
                Some(p) => Effect::PageContent(s.pages[p].id.clone()),
                None => Effect::Rebuild,
            };
            let renamed = std::cell::Cell::new(false);
            let result = match handler {
                H::SiteUpdate => page::update_site(&ctx, &body).map(|_| None),
                H::SiteTitle => page::change_site_title(&ctx, &text(&body, "title")).map(|_| None),
                H::PageCreate => page::create(&ctx, p, &body).map(Some),
                H::PageUpdate => page::update(&ctx, p.expect("page route"), &body).map(|moved| {
                    renamed.set(moved);
                    id_of(p)
                }),
                H::PageDelete => {
                    let force = matches!(get_ci(&Value::Object(body.clone()), "force"), Some(Value::Bool(true)))
                        || matches!(get_ci(&Value::Object(body.clone()), "force"), Some(Value::String(s)) if s == "true" || s == "1");
                    page::delete(&ctx, p.expect("page route"), force).map(|_| None)
                }
                H::PageStatus => {
                    let p = p.expect("page route");
                    let position = whole_number(
                        get_ci(&Value::Object(body.clone()), "position"),
                        "position",
                        -i64::from(i32::MAX),
                        i64::from(i32::MAX),
                    )?;
                    page::change_status(&ctx, p, &text(&body, "status"), position).map(|_| id_of(Some(p)))
                }
                H::PageSlug => {
                    let p = p.expect("page route");
                    let slug = folio_core::format::txt::slug(&text(&body, "slug"), 255);
                    page::change_slug(&ctx, p, &text(&body, "slug")).map(|_| {
                        let id = &s.pages[p].id;
                        Some(match id.rsplit_once('/') {
                            Some((parent, _)) => format!("{parent}/{slug}"),
                            None => slug.clone(),
                        })
                    })
                }
                H::PageTitle => page::change_title(&ctx, p.expect("page route"), &text(&body, "title")).map(|_| id_of(p)),
                H::PageTemplate => {
                    page::change_template(&ctx, p.expect("page route"), &text(&body, "template")).map(|_| id_of(p))
                }
                H::PageDuplicate => {
                    let b = Value::Object(body.clone());
                    let flag = |k: &str| matches!(get_ci(&b, k), Some(Value::Bool(true)));
                    let slug = text(&body, "slug");
                    page::duplicate(&ctx, p.expect("page route"), Some(slug.as_str()), flag("children"), flag("files"))
                        .map(Some)
                }
                H::Changes => match p {
                    Some(p) => page::changes(&ctx, p, &op, &body).map(|_| None),
                    None => Err(Error::no_route("site/changes", "POST")),
                },
                _ => Err(Error::internal("not a page route")),
            };
            // What changed on disk decides how much of the snapshot is re-read.
            let effect = match handler {
                H::SiteUpdate | H::SiteTitle => Effect::SiteContent,
                H::PageTitle => content_of(p),
                H::PageUpdate => {
                    if renamed.get() {
                        Effect::Rebuild
                    } else {
                        content_of(p)
                    }
                }
                _ => Effect::Rebuild,
            };
            result.map(|id| (id, effect))
        })
        .await?;
    let actor = actor.clone();
    let v = V {
        snap: &new_snap,
        actor: &actor,
        base: &base,
    };
    match m.handler {
        H::SiteUpdate | H::SiteTitle => Ok(Reply::model(v.site(&Plan::Default))
            .with_header("etag", content_etag(&new_snap.site.content))),
        H::PageDelete => Ok(Reply::ok()),
        H::Changes => Ok(Reply::json(
            axum::http::StatusCode::OK,
            serde_json::json!({"status": "ok"}),
        )),
        _ => {
            let id = new_id.ok_or_else(|| Error::internal("missing page id"))?;
            let p = new_snap
                .page_by_id(&id)
                .ok_or_else(|| Error::page_not_found(&id))?;
            Ok(Reply::model(v.page(p, &Plan::Default))
                .with_header("etag", content_etag(&new_snap.pages[p].content)))
        }
    }
}
