//! `users` and `account`: the user list, search, one user (by id, e-mail or `account`),
//! its blueprint(s), assignable roles; and the user writes (create, content, e-mail, name,
//! language, role, password, delete), each a core action committed through the app's
//! pipeline (bcrypt included, on a blocking thread). Changing your own password logs you in
//! again, so that answer starts a fresh session cookie.

use serde_json::{Map, Value, json};

use folio_core::Error;
use folio_core::actions::user::{self, NewUser};
use folio_core::actions::{Change, Ctx, Precondition};
use folio_core::collections::search_users;
use folio_core::model::{UserIdx, content_etag};
use folio_core::permissions::{Target, can};

use super::extract::{Call, Read, Write};
use super::lookup::{collection, find_user, search_query};
use super::reply::{ApiResult, Reply};
use super::request::get_ci;
use super::table::{Doc, Table, strings};
use super::views::V;

/// The routes of this resource.
pub fn routes() -> Table {
    let mut t = Table::new("users")
        .get("/users", list, Doc::new("The users").collection())
        .post("/users", create, Doc::new("Creates a user").json())
        .get(
            "/users/search",
            |Read(call): Read| async move { search(call, true) },
            Doc::new("Searches the users (`q`)").collection(),
        )
        .post(
            "/users/search",
            |Write(call): Write| async move { search(call, false) },
            Doc::new("Searches the users").json().collection(),
        );
    // `/account` is the signed-in user's own `/users/{id}`.
    for prefix in ["/users/{id}", "/account"] {
        let at = |tail: &str| format!("{prefix}{tail}");
        t = t
            .get(&at(""), get_user, Doc::new("One user"))
            .get(
                &at("/sections/{section}"),
                get_section,
                Doc::new("One section of a user's blueprint").bare(),
            )
            .patch(
                &at(""),
                |Write(call): Write| write(call, Op::Update),
                Doc::new("Updates a user's content").json(),
            )
            .delete(
                &at(""),
                |Write(call): Write| write(call, Op::Delete),
                Doc::new("Deletes a user").ok(),
            )
            .get(
                &at("/blueprint"),
                get_blueprint,
                Doc::new("A user's blueprint"),
            )
            .get(
                &at("/blueprints"),
                get_blueprints,
                Doc::new("Blueprints of a user").bare(),
            )
            .get(
                &at("/roles"),
                get_roles,
                Doc::new("Roles a user may change to").collection(),
            )
            .patch(
                &at("/email"),
                |Write(call): Write| write(call, Op::Email),
                Doc::new("Changes a user's e-mail").fields(|| strings(&["email"])),
            )
            .patch(
                &at("/name"),
                |Write(call): Write| write(call, Op::Name),
                Doc::new("Changes a user's name").fields(|| strings(&["name"])),
            )
            .patch(
                &at("/language"),
                |Write(call): Write| write(call, Op::Language),
                Doc::new("Changes a user's interface language").fields(|| strings(&["language"])),
            )
            .patch(
                &at("/password"),
                |Write(call): Write| write(call, Op::Password),
                Doc::new("Changes a user's password (`currentPassword` for one's own)")
                    .fields(password_fields),
            )
            .patch(
                &at("/role"),
                |Write(call): Write| write(call, Op::Role),
                Doc::new("Changes a user's role").fields(|| strings(&["role"])),
            );
    }
    t
}

/// The key a `users/<key>/…` or `account/…` route names.
fn key(call: &Call) -> String {
    call.params
        .first()
        .cloned()
        .unwrap_or_else(|| "account".into())
}

// ------------------------------------------------------------------------ reads

async fn list(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let list: Vec<UserIdx> = v
            .sorted_users()
            .into_iter()
            .filter(|u| can(&call.snap, &call.actor, Target::User(*u), "list"))
            .collect();
        let plan = call.collection_plan("compact");
        collection(call, list.iter().map(|u| v.user(*u, &plan)).collect())
    })
}

fn search(call: Call, cacheable: bool) -> ApiResult {
    let run = |call: &Call| {
        let v = call.v();
        let list: Vec<UserIdx> = v
            .sorted_users()
            .into_iter()
            .filter(|u| can(&call.snap, &call.actor, Target::User(*u), "list"))
            .collect();
        let found = search_users(&call.snap, list, &search_query(call));
        let plan = call.collection_plan("compact");
        collection(call, found.iter().map(|u| v.user(*u, &plan)).collect())
    };
    if cacheable {
        call.cached(run)
    } else {
        run(&call).map_err(|e| call.err(e))
    }
}

async fn get_user(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let u = find_user(&call.v(), &key(call))?;
        Ok(Reply::model(call.v().user(u, &call.model_plan()))
            .with_header("etag", content_etag(&call.snap.users[u].content)))
    })
}

/// `users/<id>/sections/<name>`.
async fn get_section(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let owner = if call.params.len() >= 2 {
            call.param(0).to_string()
        } else {
            "account".to_string()
        };
        let u = find_user(&call.v(), &owner)?;
        let Some(bp) = call.snap.blueprints.user(&call.snap.users[u].role) else {
            return Err(Error::NullResult);
        };
        let api = format!("users/{}", call.snap.users[u].id);
        super::site::section(
            call,
            bp,
            folio_core::query::Model::User(u),
            &api,
            call.last_param(),
        )
    })
}

async fn get_blueprint(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let u = find_user(&call.v(), &key(call))?;
        Ok(Reply::model(call.v().user_blueprint(u)))
    })
}

async fn get_blueprints(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let u = find_user(&call.v(), &key(call))?;
        let role = &call.snap.users[u].role;
        let list = match call.snap.blueprints.user(role) {
            Some(bp) => call.v().section_blueprints(bp, call.query("section"))?,
            None => Vec::new(),
        };
        Ok(Reply::bare(Value::Array(list)))
    })
}

async fn get_roles(Read(call): Read) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let u = find_user(&v, &key(call))?;
        let plan = call.collection_plan("compact");
        collection(
            call,
            v.assignable_roles(u)
                .iter()
                .map(|r| v.role(r, &plan))
                .collect(),
        )
    })
}

// ------------------------------------------------------------------------ writes

/// What a write does to an existing account.
#[derive(Debug, Clone, Copy)]
enum Op {
    Update,
    Email,
    Name,
    Language,
    Role,
    Password,
    Delete,
}

/// `POST users`.
async fn create(Write(call): Write) -> ApiResult {
    let input = new_user(&call.req.body());
    let root = call.state.app.root.clone();
    let (id, new) = call
        .commit(Precondition::None, move |ctx| {
            Ok((user::create(ctx, &root, &input)?, Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    render(&call, &new, &id)
}

/// A write on `users/<key>` or `account`: the target must be accessible (404 otherwise, on
/// every verb); the action checks the permission.
async fn write(call: Call, op: Op) -> ApiResult {
    let u = find_user(&call.v(), &key(&call)).map_err(|e| call.err(e))?;
    let target_id = call.snap.users[u].id.clone();
    let own = call.actor.is(&call.snap, u);
    let input = input(&call, op, own).map_err(|e| call.err(e))?;
    let (root, target) = (call.state.app.root.clone(), target_id.clone());
    let (_, new) = call
        .commit(Precondition::None, move |ctx| {
            // The account may have changed since the request's snapshot: look again.
            apply(ctx, &root, again(ctx, &target)?, op, &input)?;
            Ok(((), Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    match op {
        Op::Delete => Ok(Reply::ok()),
        Op::Password if own => {
            relogin(&call, &target_id).map_err(|e| call.err(e))?;
            render(&call, &new, &target_id)
        }
        _ => render(&call, &new, &target_id),
    }
}

/// What a user write reads of the body.
fn input(call: &Call, op: Op, own: bool) -> Result<Input, Error> {
    let body = call.req.body();
    Ok(match op {
        Op::Update => {
            call.strict_language()?;
            Input::Map(body.as_object().cloned().unwrap_or_default())
        }
        Op::Email => Input::Text(string_arg(&body, "email")?),
        Op::Name => Input::Text(string_arg(&body, "name")?),
        Op::Language => Input::Text(string_arg(&body, "language")?),
        Op::Role => Input::Text(string_arg(&body, "role")?),
        Op::Password => {
            // Only a password-reset session changing its own password skips the check of
            // the acting user's current password.
            let reset = own
                && call.session.lock().get().is_some_and(|s| {
                    s.record.data.get("kirby.resetPassword") == Some(&Value::Bool(true))
                });
            let current = (!reset).then(|| optional_string(&body, "currentPassword"));
            Input::Password {
                current: current.map(Option::unwrap_or_default),
                new: optional_string(&body, "password").unwrap_or_default(),
            }
        }
        Op::Delete => Input::None,
    })
}

/// The user action for a write.
fn apply(
    ctx: &Ctx<'_>,
    root: &std::path::Path,
    u: UserIdx,
    op: Op,
    input: &Input,
) -> Result<(), Error> {
    match (op, input) {
        (Op::Update, Input::Map(m)) => user::update(ctx, root, u, m),
        (Op::Email, Input::Text(t)) => user::change_email(ctx, root, u, t),
        (Op::Name, Input::Text(t)) => user::change_name(ctx, root, u, t),
        (Op::Language, Input::Text(t)) => user::change_language(ctx, root, u, t),
        (Op::Role, Input::Text(t)) => user::change_role(ctx, root, u, t),
        (Op::Password, Input::Password { current, new }) => {
            user::change_password(ctx, root, u, current.as_deref(), new)
        }
        (Op::Delete, _) => user::delete(ctx, root, u),
        _ => Err(Error::internal("mismatched user write")),
    }
}

/// Kirby's `loginPasswordless` after changing one's own password: a new session token, even
/// for a Basic-auth request, with a login timestamp taken after the new `.htpasswd` was
/// written, so this session stays valid while every older one is logged out.
fn relogin(call: &Call, id: &str) -> Result<(), Error> {
    let mut sess = call.session.lock();
    sess.begin_login(&call.state.auth, id, false, true)?;
    if let Some(s) = sess.get() {
        s.remove("kirby.resetPassword");
    }
    Ok(())
}

/// The input of a user write.
enum Input {
    Map(Map<String, Value>),
    Text(String),
    Password {
        current: Option<String>,
        new: String,
    },
    None,
}

fn again(ctx: &Ctx<'_>, id: &str) -> Result<UserIdx, Error> {
    ctx.snap
        .user_by_id(id)
        .filter(|u| can(ctx.snap, ctx.actor, Target::User(*u), "access"))
        .ok_or_else(|| Error::user_not_found(id))
}

/// A created or changed user in its default view (or `?select` / `?view`), rendered from
/// the snapshot the write published.
fn render(call: &Call, new: &folio_core::Snapshot, id: &str) -> ApiResult {
    let u = new.user_by_id(id).ok_or_else(|| {
        call.err(Error::internal(format!(
            "the account {id} was not found after writing"
        )))
    })?;
    let v = V {
        snap: new,
        actor: &call.actor,
        base: &call.base,
    };
    Ok(Reply::model(v.user(u, &call.model_plan())))
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

/// The body of a password change: the new `password`, and `currentPassword` when one's
/// own.
fn password_fields() -> Value {
    json!({
        "type": "object",
        "properties": {"password": {"type": "string"}, "currentPassword": {"type": "string"}},
        "required": ["password"]
    })
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
