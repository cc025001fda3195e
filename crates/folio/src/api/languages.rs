//! `languages` (only with the `languages` option): Folio serves single-language content so
//! far, so the list is empty and writes are refused, but the `languages.*` permissions are
//! still checked first on every write (GHSA-jm9m-rqr3-wfmh).

use axum::Router;
use axum::routing::get;

use folio_core::Error;
use folio_core::permissions::{Target, can};

use super::ApiState;
use super::extract::{Read, Write};
use super::lookup::collection;
use super::reply::ApiResult;

/// The routes of this resource.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/languages",
            get(list).post(|Write(call): Write| async move { write(call, "create") }),
        )
        .route(
            "/languages/{code}",
            get(get_language)
                .patch(|Write(call): Write| async move { write(call, "update") })
                .delete(|Write(call): Write| async move { write(call, "delete") }),
        )
}

async fn list(Read(call): Read) -> ApiResult {
    call.cached(|call| collection(call, Vec::new()))
}

async fn get_language(Read(call): Read) -> ApiResult {
    Err(call.err(Error::NullResult))
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
