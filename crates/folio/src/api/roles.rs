//! `roles`: the roles the caller may see (a role is visible when the caller could access a
//! user with it), and one role by name.

use axum::Router;
use axum::routing::get;

use folio_core::Error;

use super::ApiState;
use super::extract::Read;
use super::lookup::collection;
use super::reply::{ApiResult, Reply};

/// The routes of this resource.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/roles", get(list))
        .route("/roles/{name}", get(get_role))
}

async fn list(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let plan = call.collection_plan("compact");
        collection(
            call,
            call.snap
                .roles
                .keys()
                .filter(|r| v.role_accessible(r))
                .map(|r| v.role(r, &plan))
                .collect(),
        )
    })
}

async fn get_role(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let name = call.param(0);
        if !call.snap.roles.contains_key(name) || !v.role_accessible(name) {
            return Err(Error::role_not_found(name));
        }
        Ok(Reply::model(v.role(name, &call.model_plan())))
    })
}
