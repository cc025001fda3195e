//! `languages` (only with the `languages` option): the site's languages from
//! `site/languages/*.php`. Writes are refused for now, after the `languages.*` permissions
//! (GHSA-jm9m-rqr3-wfmh).

use folio_core::Error;
use folio_core::permissions::{Target, can};

use super::extract::{Read, Write};
use super::lookup::collection;
use super::reply::ApiResult;
use super::table::{Doc, Table};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("languages")
        .get("/languages", list, Doc::new("The languages").collection())
        .post(
            "/languages",
            |Write(call): Write| async move { write(call, "create") },
            Doc::new("Creates a language").json(),
        )
        .get("/languages/{code}", get_language, Doc::new("One language"))
        .patch(
            "/languages/{code}",
            |Write(call): Write| async move { write(call, "update") },
            Doc::new("Updates a language").json(),
        )
        .delete(
            "/languages/{code}",
            |Write(call): Write| async move { write(call, "delete") },
            Doc::new("Deletes a language").ok(),
        )
}

async fn list(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let plan = call.collection_plan("default");
        let v = call.v();
        let items = call
            .snap
            .languages
            .list
            .iter()
            .map(|l| v.language(l, &plan));
        collection(call, items.collect())
    })
}

async fn get_language(Read(call): Read) -> ApiResult {
    let languages = &call.snap.languages;
    match languages.find(&super::request::decode_path_segment(call.param(0))) {
        Some(i) => Ok(super::reply::Reply::model(
            call.v().language(&languages.list[i], &call.model_plan()),
        )),
        None => Err(call.err(Error::NullResult)),
    }
}

fn write(call: super::extract::Call, action: &str) -> ApiResult {
    if !can(&call.snap, &call.actor, Target::Area("languages"), action) {
        return Err(call.err(Error::Permission {
            key: match action {
                "create" => "error.language.create.permission",
                "update" => "error.language.update.permission",
                _ => "error.language.delete.permission",
            },
            message: format!("You are not allowed to {action} a language"),
        }));
    }
    Err(call.err(Error::Logic {
        key: "error.language.unsupported",
        message: "Folio does not support multi-language content yet".into(),
    }))
}
