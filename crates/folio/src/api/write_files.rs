//! Placeholder module replaced by the real write routes.

use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot};

use super::Matched;
use crate::http::App;
use crate::http::request::Req;
use crate::http::response::Reply;

/// Handles a write route of this group.
pub async fn handle(
    _app: &App,
    req: &Req,
    _snap: &Snapshot,
    _actor: &Actor,
    m: &Matched,
) -> Result<Reply, Error> {
    Err(Error::no_route(&m.pattern, req.method.as_str()))
}
