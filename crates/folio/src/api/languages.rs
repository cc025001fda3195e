//! `languages` (only with the `languages` option): the site's languages from
//! `site/languages/*.php`, and their create/update/delete through the core language
//! actions (validation first, then the `languages.*` permissions, GHSA-jm9m-rqr3-wfmh).

use serde_json::{Map, Value};

use folio_core::Error;
use folio_core::actions::{Change, language};
use folio_core::language::Language;

use super::extract::{Call, Read, Write};
use super::lookup::collection;
use super::reply::ApiResult;
use super::reply::Reply;
use super::request::decode_path_segment;
use super::table::{Doc, Table};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("languages")
        .get("/languages", list, Doc::new("The languages").collection())
        .post("/languages", create, Doc::new("Creates a language").json())
        .get("/languages/{code}", get_language, Doc::new("One language"))
        .patch(
            "/languages/{code}",
            update,
            Doc::new("Updates a language").json(),
        )
        .delete(
            "/languages/{code}",
            delete,
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
    match languages.find(&decode_path_segment(call.param(0))) {
        Some(i) => Ok(Reply::model(
            call.v().language(&languages.list[i], &call.model_plan()),
        )),
        None => Err(call.err(Error::NullResult)),
    }
}

fn body(call: &Call) -> Map<String, Value> {
    match call.req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

/// Commits a language write and answers with the language it returns.
async fn answer<F>(call: &Call, action: F) -> ApiResult
where
    F: Fn(&folio_core::actions::Ctx<'_>) -> Result<Language, Error> + Send + 'static,
{
    let (l, _) = call
        .commit(folio_core::actions::Precondition::None, move |ctx| {
            Ok((action(ctx)?, Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    Ok(Reply::model(call.v().language(&l, &call.model_plan())))
}

/// `POST languages`.
async fn create(Write(call): Write) -> ApiResult {
    let input = body(&call);
    answer(&call, move |ctx| language::create(ctx, &input)).await
}

/// `PATCH languages/<code>`.
async fn update(Write(call): Write) -> ApiResult {
    let input = body(&call);
    let code = decode_path_segment(call.param(0));
    answer(&call, move |ctx| language::update(ctx, &code, &input)).await
}

/// `DELETE languages/<code>`.
async fn delete(Write(call): Write) -> ApiResult {
    let code = decode_path_segment(call.param(0));
    call.commit(folio_core::actions::Precondition::None, move |ctx| {
        language::delete(ctx, &code)?;
        Ok(((), Change::Structure))
    })
    .await
    .map_err(|e| call.err(e))?;
    Ok(Reply::ok())
}
