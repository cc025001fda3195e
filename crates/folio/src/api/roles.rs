//! `roles`: the roles the caller may see (a role is visible when the caller could access a
//! user with it), and one role by name.

use folio_core::Error;

use super::extract::Read;
use super::lookup::collection;
use super::reply::{ApiResult, Reply};
use super::table::{Doc, Table};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("roles")
        .get("/roles", list, Doc::new("The roles").collection())
        .get("/roles/{name}", get_role, Doc::new("One role"))
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
