//! `site`: the site model, its children, search, find, blueprints and sections, and the
//! site's writes (update, title, a new top-level page).

use axum::http::StatusCode;
use serde_json::{Value, json};

use folio_core::Error;
use folio_core::actions::{Change, ModelRef, Precondition, page};
use folio_core::blueprint::Blueprint;
use folio_core::collections::by_status;
use folio_core::model::content_etag;
use folio_core::permissions::{Target, can};
use folio_core::snapshot::UuidTarget;

use super::extract::{Call, Read, Write};
use super::lookup::{pages_collection, search, search_query, site_access};
use super::pages::{Answer, body_object, commit, if_match, text};
use super::reply::{ApiResult, Reply};
use super::table::{Doc, Table};
use super::views::V;

/// The routes of this resource (site files are in `files`).
pub fn routes() -> Table {
    Table::new("site")
        .get("/site", get_site, Doc::new("The site"))
        .patch(
            "/site",
            update_site,
            Doc::new("Updates the site's content").json(),
        )
        .patch(
            "/site/title",
            change_title,
            Doc::new("Changes the site's title").json(),
        )
        .get(
            "/site/children",
            get_children,
            Doc::new("The site's pages").collection(),
        )
        .post(
            "/site/children",
            create_child,
            Doc::new("Creates a page at the top level").json(),
        )
        .get(
            "/site/children/search",
            search_children,
            Doc::new("Searches the site's pages (`q`)").collection(),
        )
        .post(
            "/site/children/search",
            search_children_post,
            Doc::new("Searches the site's pages (`search`, `limit`, `page`)")
                .json()
                .collection(),
        )
        .get(
            "/site/search",
            search_site,
            Doc::new("Searches every page (`q`)").collection(),
        )
        .post(
            "/site/search",
            search_site_post,
            Doc::new("Searches every page").json().collection(),
        )
        .post(
            "/site/find",
            find,
            Doc::new("Finds pages by id").json().collection(),
        )
        .get(
            "/site/blueprint",
            get_blueprint,
            Doc::new("The site's blueprint"),
        )
        .get(
            "/site/blueprints",
            get_blueprints,
            Doc::new("Blueprints a new top-level page may use").bare(),
        )
        .get(
            "/site/sections/{section}",
            get_section,
            Doc::new("One section of the site's blueprint").bare(),
        )
        .post(
            "/site/changes/{op}",
            changes,
            Doc::new(
                "Saves, publishes or discards the site's changes (`save`, `publish`, `discard`)",
            )
            .json()
            .bare(),
        )
}

/// `GET site`.
async fn get_site(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        site_access(&v)?;
        Ok(Reply::model(v.site(&call.model_plan()))
            .with_header("etag", content_etag(&call.snap.site.content)))
    })
}

/// `GET site/children`.
async fn get_children(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        site_access(&call.v())?;
        let site = &call.snap.site;
        pages_collection(
            call,
            by_status(call.query("status"), &site.children, &site.drafts),
        )
    })
}

fn children_search(call: &Call) -> Result<Reply, Error> {
    site_access(&call.v())?;
    let site = &call.snap.site;
    let list = by_status(call.query("status"), &site.children, &site.drafts);
    pages_collection(call, search(&call.snap, list, &search_query(call)))
}

/// `GET site/children/search?q=`.
async fn search_children(Read(call): Read) -> ApiResult {
    call.cached(children_search)
}

/// `POST site/children/search`.
async fn search_children_post(Write(call): Write) -> ApiResult {
    children_search(&call).map_err(|e| call.err(e))
}

fn site_search(call: &Call) -> Result<Reply, Error> {
    site_access(&call.v())?;
    let list = call.snap.index_order();
    pages_collection(call, search(&call.snap, list, &search_query(call)))
}

/// `GET site/search?q=`: every page of the site.
async fn search_site(Read(call): Read) -> ApiResult {
    call.cached(site_search)
}

/// `POST site/search`.
async fn search_site_post(Write(call): Write) -> ApiResult {
    site_search(&call).map_err(|e| call.err(e))
}

/// `POST site/find` with a list of page ids or `page://` UUIDs.
async fn find(Write(call): Write) -> ApiResult {
    let v = call.v();
    site_access(&v).map_err(|e| call.err(e))?;
    let snap = &call.snap;
    let ids: Vec<String> = match &call.req.body() {
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
            && can(snap, &call.actor, Target::Page(p), "access")
        {
            found.push(p);
        }
    }
    let plan = call.collection_plan("compact");
    super::lookup::collection(&call, found.iter().map(|p| v.page(*p, &plan)).collect())
        .map_err(|e| call.err(e))
}

/// `GET site/blueprint`.
async fn get_blueprint(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        site_access(&v)?;
        Ok(Reply::model(v.site_blueprint()))
    })
}

/// `GET site/blueprints` (`?section=`).
async fn get_blueprints(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        site_access(&v)?;
        Ok(Reply::bare(site_blueprints(&v, call.query("section"))))
    })
}

/// `GET site/sections/<name>`.
async fn get_section(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        site_access(&call.v())?;
        let bp = call.snap.blueprints.site();
        section(
            call,
            &bp,
            folio_core::query::Model::Site,
            "site",
            call.param(0),
        )
    })
}

/// A section of a model's blueprint by name (`null` when it does not exist).
pub fn section(
    call: &Call,
    bp: &Blueprint,
    model: folio_core::query::Model,
    api: &str,
    name: &str,
) -> Result<Reply, Error> {
    let v = call.v();
    let req = crate::api::views::SectionRequest {
        page: call.query("page"),
        searchterm: call.query("searchterm"),
        errors_only: false,
    };
    let body = v.section(model, bp, api, name, req)?;
    Ok(Reply::json(StatusCode::OK, body))
}

/// `PATCH site`.
async fn update_site(Write(call): Write) -> ApiResult {
    call.strict_language().map_err(|e| call.err(e))?;
    let body = body_object(&call);
    commit(&call, if_match(&call, ModelRef::Site), move |ctx| {
        page::update_site(ctx, &body)?;
        Ok((Answer::Site, Change::SiteContent))
    })
    .await
}

/// `PATCH site/title`.
async fn change_title(Write(call): Write) -> ApiResult {
    let title = text(&body_object(&call), "title");
    commit(&call, if_match(&call, ModelRef::Site), move |ctx| {
        page::change_site_title(ctx, &title)?;
        Ok((Answer::Site, Change::SiteContent))
    })
    .await
}

/// `POST site/children`: a new top-level page.
async fn create_child(Write(call): Write) -> ApiResult {
    let body = body_object(&call);
    commit(&call, Precondition::None, move |ctx| {
        let id = page::create(ctx, None, &body)?;
        Ok((Answer::Page(id), Change::Structure))
    })
    .await
}

/// `POST site/changes/<op>`: the site's content versions in the call's language.
async fn changes(Write(call): Write) -> ApiResult {
    let op = call.param(0).to_string();
    let body = body_object(&call);
    commit(&call, Precondition::None, move |ctx| {
        let model = folio_core::actions::changes::Versioned::site(ctx.snap);
        folio_core::actions::changes::run(ctx, &model, &op, &body)?;
        Ok((Answer::Changes, Change::SiteContent))
    })
    .await
}

/// `site/blueprints`: templates named in the site's pages sections first, then (for a
/// section without templates) every page blueprint alphabetically.
pub fn site_blueprints(v: &V<'_>, section: Option<&str>) -> Value {
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
