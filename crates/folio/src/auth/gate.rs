//! The gate of the API routes that need a user, in Kirby's order: HTTP Basic (when
//! `api.basicAuth` is on, and only over HTTPS unless `api.allowInsecure`), else the session
//! with its `X-CSRF` header, then the role's `access.panel`. Every refusal is Kirby's error
//! envelope with Kirby's status; the reason is logged at debug level.

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use folio_core::permissions::{Actor, Target, can};
use folio_core::{Error, Snapshot};
use folio_wire::credentials::{is_basic, parse_basic};

use super::context::SessionCtx;
use super::password::{Check, invalid_login, unauthenticated, validate_password};
use super::{Auth, Caller, unavailable};

/// The API's authentication gate for routes that need a user.
pub async fn gate(
    auth: &Auth,
    headers: &HeaderMap,
    caller: &Caller,
    sess: &mut SessionCtx,
    snap: &Snapshot,
) -> Result<Actor, Error> {
    let basic = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_basic(h))
        .filter(|_| auth.settings.basic_auth);
    let user = if let Some(h) = basic {
        if !caller.https && !auth.settings.allow_insecure {
            tracing::debug!(ip = %caller.ip, "refused: Basic auth over plain HTTP without api.allowInsecure");
            return Err(Error::Permission {
                key: "error.permission",
                message: "Basic authentication is only allowed over HTTPS".into(),
            });
        }
        let ip = caller.ip;
        match parse_basic(h) {
            Some((email, password)) => {
                validate_password(auth, snap, ip, &email, &password, Check::Cached).await?
            }
            None => {
                tracing::debug!(ip = %caller.ip, "refused: malformed Basic credentials");
                return Err(invalid_login());
            }
        }
    } else {
        if let Some(e) = &sess.unavailable {
            tracing::debug!("refused: the session store is unavailable");
            return Err(unavailable(e));
        }
        let reference = sess.csrf_reference(auth)?;
        let sent = headers
            .get("x-csrf")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let matches = !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(reference.as_bytes()));
        if !matches {
            let why = if sent.is_empty() {
                "no X-CSRF header"
            } else {
                "X-CSRF does not match the session"
            };
            tracing::debug!(ip = %caller.ip, "refused: {why}");
            return Err(unauthenticated());
        }
        match sess.user(snap) {
            Some(u) => u,
            None => {
                tracing::debug!(ip = %caller.ip, "refused: the session has no (existing) user");
                return Err(unauthenticated());
            }
        }
    };
    let actor = Actor::user(snap, user);
    if !can(snap, &actor, Target::Area("access"), "panel") {
        tracing::debug!(ip = %caller.ip, user = %snap.users[user].id, "refused: the role may not access the panel");
        return Err(Error::Auth {
            key: "error.access.panel",
            message: "You are not allowed to access the panel".into(),
        });
    }
    Ok(actor)
}
