//! Finding the models a route names, the way Kirby's API does: a page by its `+`-separated id,
//! a user by id or e-mail (or `account`, the caller), a file by its decoded name under its
//! parent, and the site. A model the actor may not `access` is the same 404 as a missing one.
//! Also the collection envelopes (status filters, search, pagination) shared by the routes.

use axum::http::Method;
use serde_json::Value;

use folio_core::collections::{PageRequest, Pagination, listable_pages, search_pages};
use folio_core::model::{File, FileParent, PageIdx, UserIdx};
use folio_core::permissions::{Target, can};
use folio_core::{Error, Snapshot};

use super::extract::Call;
use super::reply::Reply;
use super::request::{decode_path_segment, get_ci};
use super::views::V;

/// 404 unless the actor may access the site.
pub fn site_access(v: &V<'_>) -> Result<(), Error> {
    if can(v.snap, v.actor, Target::Site, "access") {
        Ok(())
    } else {
        Err(Error::NotFound {
            key: "error.site.notAccessible",
            message: "The site is not accessible".into(),
        })
    }
}

/// A page from the `+`-separated id in the path (drafts also through `_drafts`);
/// inaccessible pages are 404.
pub fn find_page(v: &V<'_>, raw: &str) -> Result<PageIdx, Error> {
    let id = folio_wire::query::model_id(raw);
    // Kirby also finds a draft through its folder path (`blog+_drafts+notes`): the
    // `_drafts/` segments are dropped when the id itself names no page.
    v.snap
        .page_by_id(&id)
        .or_else(|| {
            id.contains("_drafts/")
                .then(|| v.snap.page_by_id(&id.replace("_drafts/", "")))
                .flatten()
        })
        .or_else(|| by_translated_path(v.snap, &id))
        .filter(|p| can(v.snap, v.actor, Target::Page(*p), "access"))
        .ok_or_else(|| Error::page_not_found(&id))
}

/// In a translation, Kirby also walks an id segment by segment, each segment naming a
/// child by its folder slug or by its slug in the current language.
fn by_translated_path(snap: &folio_core::Snapshot, id: &str) -> Option<PageIdx> {
    if !snap.is_translation() {
        return None;
    }
    let mut current: Option<PageIdx> = None;
    for segment in id.split('/') {
        let (children, drafts) = match current {
            Some(p) => (&snap.pages[p].children, &snap.pages[p].drafts),
            None => (&snap.site.children, &snap.site.drafts),
        };
        let matches = |c: &&PageIdx| {
            let page = &snap.pages[**c];
            page.slug == segment || page.slug_in_language() == segment
        };
        current = Some(
            *children
                .iter()
                .find(matches)
                .or_else(|| drafts.iter().find(matches))?,
        );
    }
    current
}

/// A user by route key: `account` is the caller, else an id or e-mail (decoded).
pub fn find_user(v: &V<'_>, key: &str) -> Result<UserIdx, Error> {
    let u = if key == "account" {
        v.actor.user_idx(v.snap)
    } else {
        v.snap.user_by_key(&decode_path_segment(key))
    };
    u.filter(|u| can(v.snap, v.actor, Target::User(*u), "access"))
        .ok_or_else(|| Error::user_not_found(key))
}

/// Whose files a route names: `site`, `pages/<id>`, `users/<key>` or `account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// `site/files…`.
    Site,
    /// `pages/<id>/files…`.
    Page,
    /// `users/<key>/files…`.
    User,
    /// `account/files…`.
    Account,
}

/// The file parent of a files route (404 when unknown or inaccessible).
pub fn file_parent(v: &V<'_>, owner: Owner, key: &str) -> Result<FileParent, Error> {
    match owner {
        Owner::Site => {
            site_access(v)?;
            Ok(FileParent::Site)
        }
        Owner::Page => Ok(FileParent::Page(find_page(v, key)?)),
        Owner::User => Ok(FileParent::User(find_user(v, key)?)),
        Owner::Account => Ok(FileParent::User(find_user(v, "account")?)),
    }
}

/// A file of a parent by its (percent-decoded) name, if the actor may access it.
pub fn find_file<'s>(v: &V<'s>, parent: FileParent, raw: &str) -> Result<&'s File, Error> {
    let name = decode_path_segment(raw);
    v.snap
        .file_by_key(parent, &name)
        .filter(|f| {
            can(
                v.snap,
                v.actor,
                Target::File(f.parent, &f.filename),
                "access",
            )
        })
        .ok_or_else(|| Error::file_not_found(&name))
}

/// The pagination of a call (`?page`, `?limit`).
pub fn pagination(call: &Call, total: usize) -> Result<Pagination, Error> {
    Pagination::of(
        PageRequest {
            page: call.query("page"),
            limit: call.query("limit"),
        },
        total,
    )
}

/// A paginated collection envelope of rendered items.
pub fn collection(call: &Call, items: Vec<Value>) -> Result<Reply, Error> {
    let p = pagination(call, items.len())?;
    let data: Vec<Value> = items
        .into_iter()
        .skip(p.offset)
        .take(p.end - p.offset)
        .collect();
    Ok(Reply::collection(data, p.to_json()))
}

/// A pages collection: the `status` filter and list permission, then the requested page
/// only is rendered.
pub fn pages_collection(call: &Call, list: Vec<PageIdx>) -> Result<Reply, Error> {
    let v = call.v();
    let plan = call.collection_plan("compact");
    let visible = listable_pages(&call.snap, &call.actor, list, call.query("status"));
    let p = pagination(call, visible.len())?;
    let data: Vec<Value> = visible[p.offset..p.end]
        .iter()
        .map(|i| v.page(*i, &plan))
        .collect();
    Ok(Reply::collection(data, p.to_json()))
}

/// The search query: the `search` field of a POST body, else `?q`.
pub fn search_query(call: &Call) -> String {
    let q = if call.req.method == Method::POST {
        get_ci(&call.req.body(), "search")
            .and_then(Value::as_str)
            .map(str::to_string)
    } else {
        None
    };
    q.or_else(|| call.query("q").map(str::to_string))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Kirby's page search over `list`.
pub fn search(snap: &Snapshot, list: Vec<PageIdx>, q: &str) -> Vec<PageIdx> {
    search_pages(snap, list, q)
}
