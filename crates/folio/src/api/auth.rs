//! `auth`: the logged-in user, login (session + CSRF, e-mail and password), logout and ping.

use axum::http::StatusCode;
use serde_json::{Value, json};

use folio_core::Error;
use folio_core::permissions::Actor;

use super::extract::{Call, Login, Open, Read};
use super::reply::{ApiResult, Reply};
use super::request::get_ci;
use super::table::{Doc, Table};
use super::views::Plan;
use crate::auth::password::{Check, validate_password};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("auth")
        .get("/auth", get_auth, Doc::new("The signed-in user"))
        .post(
            "/auth/login",
            login,
            Doc::new("Signs in with e-mail and password; sets the session cookie")
                .open()
                .fields(login_fields),
        )
        .post(
            "/auth/logout",
            logout,
            Doc::new("Signs out and destroys the session").open().ok(),
        )
        .post(
            "/auth/ping",
            ping,
            Doc::new("Keeps the session alive").open().bare(),
        )
}

/// `GET auth`: the logged-in user (Kirby's `auth` view unless `?select`).
async fn get_auth(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let Some(u) = call.actor.user_idx(&call.snap) else {
            return Err(Error::user_not_found(""));
        };
        let plan = match call.query("select") {
            Some(s) if !s.is_empty() => call.model_plan(),
            _ => Plan::View("auth".into()),
        };
        Ok(Reply::model(call.v().user(u, &plan)))
    })
}

/// The login body; without `long` Kirby fails with a PHP `TypeError`.
fn login_fields() -> Value {
    json!({
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string"},
            "long": {"type": "boolean", "description": "Keep the session for `session.durationLong`"}
        },
        "required": ["email", "password", "long"]
    })
}

/// `POST auth/login`: checks the CSRF token first (a session that could not be loaded fails
/// closed with 503 before anything else), then the password; a success turns the session
/// into a logged-in one with a new token.
async fn login(Login(call): Login) -> ApiResult {
    let auth = &call.state.auth;
    check_csrf(&call).map_err(|e| call.err(e))?;
    let (email, password, long) = credentials(&call.req.body()).map_err(|e| call.err(e))?;
    let snap = &call.snap;
    let u = validate_password(auth, snap, call.caller.ip, &email, &password, Check::Full)
        .await
        .map_err(|e| call.err(e))?;
    let has_password = snap.users[u].password_mtime.is_some();
    call.session
        .lock()
        .begin_login(auth, &snap.users[u].id, long, has_password)
        .map_err(|e| call.err(e))?;
    let actor = Actor::user(snap, u);
    let v = super::views::V {
        snap,
        actor: &actor,
        base: &call.base,
    };
    let user = v.user(u, &Plan::View("auth".into()));
    Ok(Reply::json(
        StatusCode::OK,
        json!({"code": 200, "status": "ok", "user": user}),
    ))
}

/// The login's `X-CSRF` header against the session's token, in constant time.
fn check_csrf(call: &Call) -> Result<(), Error> {
    let reference = call.session.lock().csrf_reference(&call.state.auth)?;
    let sent = call.req.header("x-csrf").unwrap_or("");
    let ok = !sent.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            reference.as_bytes(),
        ));
    ok.then_some(())
        .ok_or_else(|| Error::invalid_argument("Invalid CSRF token"))
}

/// The login body: e-mail, password and `long`, read with PHP's loose types.
fn credentials(body: &Value) -> Result<(String, String, bool), Error> {
    let text = |k: &str| match get_ci(body, k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let (email, password) = (text("email"), text("password"));
    if password.is_empty() {
        return Err(Error::invalid_argument(
            "Login without password is not enabled",
        ));
    }
    let long = match get_ci(body, "long") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !(s.is_empty() || s == "0" || s == "false"),
        // Kirby 5.5.2 fails with a PHP TypeError here; Folio keeps the same status.
        _ => {
            return Err(Error::Unexpected {
                code: 500,
                exception: "TypeError",
                detail: "The login field `long` is required (true or false)".into(),
            });
        }
    };
    Ok((email, password, long))
}

/// `POST auth/logout`: ends the session's login (pending login challenges go too).
async fn logout(Open(call): Open) -> ApiResult {
    let mut sess = call.session.lock();
    if let Some(s) = sess.get() {
        let challenge_keys: Vec<String> = s
            .record
            .data
            .keys()
            .filter(|k| k.starts_with("kirby.challenge"))
            .cloned()
            .collect();
        for k in challenge_keys {
            s.remove(&k);
        }
    }
    sess.logout(&call.state.auth);
    Ok(Reply::ok())
}

/// `POST auth/ping`: keeps the session alive.
async fn ping(Open(_call): Open) -> ApiResult {
    Ok(Reply::ok())
}
