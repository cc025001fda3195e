//! `pages/<id>`: a page, its children, search, blueprints and sections; and the page writes
//! (create, update, delete, status, slug, title, template, duplicate, content versions), each
//! one core action committed through [`crate::app::App::commit`]. The site's writes share
//! the commit-and-render step ([`commit`]).

use serde_json::{Map, Value, json};

use folio_core::Error;
use folio_core::actions::{Change, Ctx, ModelRef, Precondition, page};
use folio_core::collections::by_status;
use folio_core::model::{PageIdx, content_etag};

use super::extract::{Call, Read, Write};
use super::lookup::{find_page, pages_collection, search, search_query};
use super::reply::{ApiResult, Reply};
use super::request::{get_ci, whole_number};
use super::site::section;
use super::table::{Doc, Table};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("pages")
        .get("/pages/{id}", get_page, Doc::new("One page"))
        .patch(
            "/pages/{id}",
            update_page,
            Doc::new("Updates a page's content").json(),
        )
        .delete(
            "/pages/{id}",
            delete_page,
            Doc::new("Deletes a page (`force` for one with children)").ok(),
        )
        .get(
            "/pages/{id}/children",
            get_children,
            Doc::new("A page's children").collection(),
        )
        .post(
            "/pages/{id}/children",
            create_child,
            Doc::new("Creates a child page").json(),
        )
        .get(
            "/pages/{id}/children/search",
            search_children,
            Doc::new("Searches a page's children (`q`)").collection(),
        )
        .post(
            "/pages/{id}/children/search",
            search_children_post,
            Doc::new("Searches a page's children").json().collection(),
        )
        .get(
            "/pages/{id}/blueprint",
            get_blueprint,
            Doc::new("A page's blueprint"),
        )
        .get(
            "/pages/{id}/blueprints",
            get_blueprints,
            Doc::new("Blueprints a page may change to").bare(),
        )
        .get(
            "/pages/{id}/sections/{section}",
            get_section,
            Doc::new("One section of a page's blueprint").bare(),
        )
        .patch(
            "/pages/{id}/status",
            change_status,
            Doc::new("Changes a page's status (`draft`, `unlisted`, `listed` with `position`)")
                .json(),
        )
        .patch(
            "/pages/{id}/slug",
            change_slug,
            Doc::new("Changes a page's slug").json(),
        )
        .patch(
            "/pages/{id}/title",
            change_title,
            Doc::new("Changes a page's title").json(),
        )
        .patch(
            "/pages/{id}/template",
            change_template,
            Doc::new("Changes a page's template").json(),
        )
        .post(
            "/pages/{id}/duplicate",
            duplicate,
            Doc::new("Duplicates a page (`slug`, `title`, `children`, `files`)").json(),
        )
        .post(
            "/pages/{id}/changes/{op}",
            changes,
            Doc::new(
                "Saves, publishes or discards a page's changes (`save`, `publish`, `discard`)",
            )
            .json()
            .bare(),
        )
}

/// The request body as an object (anything else is an empty one).
pub fn body_object(call: &Call) -> Map<String, Value> {
    match call.req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

/// A text field of a body (numbers as text; anything else empty).
pub fn text(body: &Map<String, Value>, key: &str) -> String {
    match get_ci(&Value::Object(body.clone()), key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// What a site or page write answers with.
pub enum Answer {
    /// The site model (with its ETag).
    Site,
    /// The page with this id (with its ETag).
    Page(String),
    /// Kirby's `true`.
    Ok,
    /// `{"status":"ok"}` (content versions).
    Changes,
}

/// The page a route names, and the `If-Match` precondition on it (or on the site).
fn target(call: &Call) -> Result<(PageIdx, String, Precondition), Error> {
    let p = find_page(&call.v(), call.param(0))?;
    let id = call.snap.pages[p].id.clone();
    Ok((p, id.clone(), if_match(call, ModelRef::Page(id))))
}

/// The `If-Match` precondition of a request on a model (beyond Kirby).
pub fn if_match(call: &Call, model: ModelRef) -> Precondition {
    match call.req.header("if-match") {
        Some(etag) => Precondition::IfMatch(model, etag.to_string()),
        None => Precondition::None,
    }
}

/// Commits a site or page write and renders what it answers with from the new snapshot.
pub async fn commit<F>(call: &Call, precondition: Precondition, action: F) -> ApiResult
where
    F: Fn(&Ctx<'_>) -> Result<(Answer, Change), Error> + Send + 'static,
{
    let (answer, snap) = call
        .commit(precondition, action)
        .await
        .map_err(|e| call.err(e))?;
    let v = super::views::V {
        snap: &snap,
        actor: &call.actor,
        base: &call.base,
    };
    match answer {
        Answer::Site => Ok(Reply::model(v.site(&call.model_plan()))
            .with_header("etag", content_etag(&snap.site.content))),
        Answer::Ok => Ok(Reply::ok()),
        Answer::Changes => Ok(Reply::json(
            axum::http::StatusCode::OK,
            json!({"status": "ok"}),
        )),
        Answer::Page(id) => {
            let p = snap
                .page_by_id(&id)
                .ok_or_else(|| call.err(Error::page_not_found(&id)))?;
            Ok(Reply::model(v.page(p, &call.model_plan()))
                .with_header("etag", content_etag(&snap.pages[p].content)))
        }
    }
}

/// The page `id` in the snapshot a write runs on.
pub fn again(ctx: &Ctx<'_>, id: &str) -> Result<PageIdx, Error> {
    ctx.snap
        .page_by_id(id)
        .ok_or_else(|| Error::page_not_found(id))
}

// ------------------------------------------------------------------------ reads

/// `GET pages/<id>`.
async fn get_page(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let p = find_page(&call.v(), call.param(0))?;
        Ok(Reply::model(call.v().page(p, &call.model_plan()))
            .with_header("etag", content_etag(&call.snap.pages[p].content)))
    })
}

/// `GET pages/<id>/children`.
async fn get_children(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let p = find_page(&call.v(), call.param(0))?;
        let page = &call.snap.pages[p];
        pages_collection(
            call,
            by_status(call.query("status"), &page.children, &page.drafts),
        )
    })
}

fn children_search(call: &Call) -> Result<Reply, Error> {
    let p = find_page(&call.v(), call.param(0))?;
    let page = &call.snap.pages[p];
    let list = by_status(call.query("status"), &page.children, &page.drafts);
    pages_collection(call, search(&call.snap, list, &search_query(call)))
}

/// `GET pages/<id>/children/search?q=`.
async fn search_children(Read(call): Read) -> ApiResult {
    call.cached(children_search)
}

/// `POST pages/<id>/children/search` with `{"search": …}`.
async fn search_children_post(Write(call): Write) -> ApiResult {
    children_search(&call).map_err(|e| call.err(e))
}

/// `GET pages/<id>/blueprint`.
async fn get_blueprint(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let p = find_page(&call.v(), call.param(0))?;
        Ok(Reply::model(call.v().page_blueprint(p)))
    })
}

/// `GET pages/<id>/blueprints`.
async fn get_blueprints(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let p = find_page(&call.v(), call.param(0))?;
        let v = call.v();
        let list = match call.query("section") {
            Some(name) => {
                let bp = call.snap.blueprints.page(&call.snap.pages[p].template);
                v.section_blueprints(&bp, Some(name))?
            }
            None => v.page_blueprints(p),
        };
        Ok(Reply::bare(Value::Array(list)))
    })
}

/// `GET pages/<id>/sections/<name>`.
async fn get_section(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let p = find_page(&call.v(), call.param(0))?;
        let bp = call.snap.blueprints.page(&call.snap.pages[p].template);
        let api = format!("pages/{}", call.snap.pages[p].id.replace('/', "+"));
        section(
            call,
            &bp,
            folio_core::query::Model::Page(p),
            &api,
            call.param(1),
        )
    })
}

// ------------------------------------------------------------------------ writes

/// `POST pages/<id>/children`: a new draft (or published page) below the page.
async fn create_child(Write(call): Write) -> ApiResult {
    let (_, id, _) = target(&call).map_err(|e| call.err(e))?;
    let body = body_object(&call);
    commit(&call, Precondition::None, move |ctx| {
        let p = again(ctx, &id)?;
        let new = page::create(ctx, Some(p), &body)?;
        Ok((Answer::Page(new), Change::Structure))
    })
    .await
}

/// `PATCH pages/<id>`: field updates.
async fn update_page(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    call.strict_language().map_err(|e| call.err(e))?;
    let body = body_object(&call);
    commit(&call, pre, move |ctx| {
        let p = again(ctx, &id)?;
        let change = page::update(ctx, p, &body)?;
        Ok((Answer::Page(id.clone()), change))
    })
    .await
}

/// `DELETE pages/<id>` (`force` for pages with children).
async fn delete_page(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let body = Value::Object(body_object(&call));
    let force = matches!(get_ci(&body, "force"), Some(Value::Bool(true)))
        || matches!(get_ci(&body, "force"), Some(Value::String(s)) if s == "true" || s == "1");
    commit(&call, pre, move |ctx| {
        page::delete(ctx, again(ctx, &id)?, force)?;
        Ok((Answer::Ok, Change::Structure))
    })
    .await
}

/// `PATCH pages/<id>/status` with `status` and an optional `position`.
async fn change_status(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let body = body_object(&call);
    let position = whole_number(
        get_ci(&Value::Object(body.clone()), "position"),
        "position",
        -i64::from(i32::MAX),
        i64::from(i32::MAX),
    )
    .map_err(|e| call.err(e))?;
    let status = text(&body, "status");
    commit(&call, pre, move |ctx| {
        page::change_status(ctx, again(ctx, &id)?, &status, position)?;
        Ok((Answer::Page(id.clone()), Change::Structure))
    })
    .await
}

/// `PATCH pages/<id>/slug`: renames the folder (or, in a translation, stores the
/// translated slug); the page answers under its new id.
async fn change_slug(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let raw = text(&body_object(&call), "slug");
    commit(&call, pre, move |ctx| {
        let new_id = page::change_slug(ctx, again(ctx, &id)?, &raw)?;
        Ok((Answer::Page(new_id), Change::Structure))
    })
    .await
}

/// `PATCH pages/<id>/title`.
async fn change_title(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let title = text(&body_object(&call), "title");
    commit(&call, pre, move |ctx| {
        page::change_title(ctx, again(ctx, &id)?, &title)?;
        Ok((Answer::Page(id.clone()), Change::PageContent(id.clone())))
    })
    .await
}

/// `PATCH pages/<id>/template`.
async fn change_template(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let template = text(&body_object(&call), "template");
    commit(&call, pre, move |ctx| {
        page::change_template(ctx, again(ctx, &id)?, &template)?;
        Ok((Answer::Page(id.clone()), Change::Structure))
    })
    .await
}

/// `POST pages/<id>/duplicate` with `slug`, `children`, `files`.
async fn duplicate(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let body = Value::Object(body_object(&call));
    let flag = |k: &str| matches!(get_ci(&body, k), Some(Value::Bool(true)));
    let (children, files) = (flag("children"), flag("files"));
    let slug = match get_ci(&body, "slug") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    commit(&call, pre, move |ctx| {
        let new = page::duplicate(ctx, again(ctx, &id)?, Some(slug.as_str()), children, files)?;
        Ok((Answer::Page(new), Change::Structure))
    })
    .await
}

/// `POST pages/<id>/changes/<save|publish|discard|unlock>`.
async fn changes(Write(call): Write) -> ApiResult {
    let (_, id, pre) = target(&call).map_err(|e| call.err(e))?;
    let op = call.param(1).to_string();
    let body = body_object(&call);
    commit(&call, pre, move |ctx| {
        page::changes(ctx, again(ctx, &id)?, &op, &body)?;
        Ok((Answer::Changes, Change::Structure))
    })
    .await
}
