//! The user write routes: `POST users`, and `PATCH` / `DELETE` on `users/<id>` or `account`
//! (content, e-mail, name, language, role, password). The target must be accessible to the
//! actor (otherwise 404, on every verb); the action itself checks the permission and runs
//! under the writer lock on a blocking thread (bcrypt included). Answers are Kirby's: the
//! user's default view from the new snapshot, or `ok` for a delete. Changing your own
//! password logs you in again, so the response starts a fresh session cookie.

use serde_json::{Map, Value};

use folio_core::actions::Ctx;
use folio_core::actions::user::{self, NewUser};
use folio_core::model::UserIdx;
use folio_core::permissions::{Actor, Target, can};
use folio_core::{Error, Snapshot};

use super::resources::base_url;
use super::views::{Plan, V};
use super::{H, Matched};
use crate::http::App;
use crate::http::auth::SessionCtx;
use crate::http::request::{Req, decode_path_segment, get_ci};
use crate::http::response::Reply;

/// What to do with an existing account.
#[derive(Debug)]
enum Op {
    Update(Map<String, Value>),
    Email(String),
    Name(String),
    Language(String),
    Role(String),
    Password {
        current: Option<String>,
        new: String,
    },
    Delete,
}

/// Handles a write route of this group.
pub async fn handle(
    app: &App,
    req: &Req,
    sess: &mut SessionCtx,
    snap: &Snapshot,
    actor: &Actor,
    m: &Matched,
) -> Result<Reply, Error> {
    let body = req.body();
    let who = actor.clone();
    let root = app.root.clone();
    if m.handler == H::UserCreate {
        let input = new_user(&body);
        let (id, new) = app
            .write(move |s| {
                let actor = who.clone();
                user::create(
                    &Ctx {
                        snap: s,
                        actor: &actor,
                    },
                    &root,
                    &input,
                )
            })
            .await?;
        return render(app, req, actor, &new, &id);
    }

    let key = if m.root == "account" {
        "account".to_string()
    } else {
        m.params.first().cloned().unwrap_or_default()
    };
    let u = find_target(snap, actor, &key)?;
    let target_id = snap.users[u].id.clone();
    let own = actor.is(snap, u);
    let op = match m.handler {
        H::UserUpdate => Op::Update(body.as_object().cloned().unwrap_or_default()),
        H::UserEmail => Op::Email(string_arg(&body, "email")?),
        H::UserName => Op::Name(string_arg(&body, "name")?),
        H::UserLanguage => Op::Language(string_arg(&body, "language")?),
        H::UserRole => Op::Role(string_arg(&body, "role")?),
        H::UserPassword => {
            // Only a password-reset session changing its own password skips the check of
            // the acting user's current password.
            let reset = own
                && sess.get().is_some_and(|s| {
                    s.record.data.get("kirby.resetPassword") == Some(&Value::Bool(true))
                });
            let current = (!reset).then(|| optional_string(&body, "currentPassword"));
            Op::Password {
                current: current.map(Option::unwrap_or_default),
                new: optional_string(&body, "password").unwrap_or_default(),
            }
        }
        H::UserDelete => Op::Delete,
        _ => return Err(Error::no_route(&m.pattern, req.method.as_str())),
    };
    let is_password = matches!(op, Op::Password { .. });
    let is_delete = matches!(op, Op::Delete);
    let (_, new) = app
        .write(move |s| {
            let actor = who.clone();
            // The account may have changed since the request's snapshot: look again.
            let u = s
                .users
                .iter()
                .position(|x| x.id == target_id)
                .filter(|u| can(s, &actor, Target::User(*u), "access"))
                .ok_or_else(|| Error::user_not_found(&key))?;
            let ctx = Ctx {
                snap: s,
                actor: &actor,
            };
            match &op {
                Op::Update(input) => user::update(&ctx, &root, u, input),
                Op::Email(email) => user::change_email(&ctx, &root, u, email),
                Op::Name(name) => user::change_name(&ctx, &root, u, name),
                Op::Language(code) => user::change_language(&ctx, &root, u, code),
                Op::Role(role) => user::change_role(&ctx, &root, u, role),
                Op::Password { current, new } => {
                    user::change_password(&ctx, &root, u, current.as_deref(), new)
                }
                Op::Delete => user::delete(&ctx, &root, u),
            }
        })
        .await?;
    let target_id = snap.users[u].id.clone();
    if is_delete {
        return Ok(Reply::ok());
    }
    if is_password && own {
        relogin(app, sess, &target_id)?;
    }
    render(app, req, actor, &new, &target_id)
}

/// Logs the acting user in again after changing their own password (Kirby's
/// `loginPasswordless`): a new session token, even for a Basic-auth request, with a login
/// timestamp taken after the new `.htpasswd` was written, so this session stays valid while
/// every older one is logged out.
fn relogin(app: &App, sess: &mut SessionCtx, user_id: &str) -> Result<(), Error> {
    sess.begin_login(app, user_id, false, true)?;
    if let Some(s) = sess.get() {
        s.remove("kirby.resetPassword");
    }
    Ok(())
}

/// The user of `users/<key>` or `account`; missing or inaccessible users are 404.
fn find_target(snap: &Snapshot, actor: &Actor, key: &str) -> Result<UserIdx, Error> {
    let u = if key == "account" {
        actor.user_idx(snap)
    } else {
        snap.user_by_key(&decode_path_segment(key))
    };
    u.filter(|u| can(snap, actor, Target::User(*u), "access"))
        .ok_or_else(|| Error::user_not_found(key))
}

/// A created or changed user in its default view (or `?select` / `?view`), rendered from
/// the snapshot the write published.
fn render(app: &App, req: &Req, actor: &Actor, new: &Snapshot, id: &str) -> Result<Reply, Error> {
    let actor = actor.clone();
    let u =
        new.users.iter().position(|x| x.id == id).ok_or_else(|| {
            Error::internal(format!("the account {id} was not found after writing"))
        })?;
    let base = base_url(app, req);
    let v = V {
        snap: new,
        actor: &actor,
        base: &base,
    };
    let plan = Plan::for_model(req.query("select"), req.query("view"));
    Ok(Reply::model(v.user(u, &plan)))
}

/// A scalar body value as PHP would pass it to a `string` parameter; `None` for a missing
/// value, `null`, arrays and objects.
fn optional_string(body: &Value, key: &str) -> Option<String> {
    match get_ci(body, key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "" }.to_string()),
        _ => None,
    }
}

/// A required string argument: missing or not a scalar is PHP's `TypeError` (500), as in
/// Kirby (`changeEmail(null)`).
fn string_arg(body: &Value, key: &str) -> Result<String, Error> {
    optional_string(body, key).ok_or_else(|| Error::Unexpected {
        code: 500,
        exception: "TypeError",
        detail: format!("The request body needs a string `{key}`"),
    })
}

/// The body of `POST users`.
fn new_user(body: &Value) -> NewUser {
    NewUser {
        id: optional_string(body, "id"),
        email: optional_string(body, "email").unwrap_or_default(),
        password: optional_string(body, "password"),
        name: optional_string(body, "name"),
        role: optional_string(body, "role"),
        language: optional_string(body, "language"),
        content: get_ci(body, "content")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    }
}
