//! User actions: create an account, update its `user.txt` fields, change its e-mail, name,
//! Panel language, role or password, and delete it. Each action checks, in Kirby's order
//! (`UserRules`), the input and the actor's permission with [`can`], and only then writes
//! through [`crate::accounts`] in Kirby's on-disk format. A failed action leaves the disk
//! untouched. Password hashing (bcrypt) runs here: call from a blocking context.

use serde_json::{Map, Value};
use std::path::Path;

use super::{Ctx, PRIVILEGED_KEYS, merge, raw_stored, validate};
use crate::accounts::{self, AccountFiles};
use crate::blueprint::Field;
use crate::format::txt;
use crate::model::{Content, User, UserIdx};
use crate::permissions::{Actor, Target, can};
use crate::snapshot::Snapshot;
use crate::{Error, Result, password};

/// Account keys that live in `index.php` / `.htpasswd` and never become `user.txt` fields.
const CREDENTIAL_KEYS: &[&str] = &["email", "language", "name", "password", "role"];

/// The body of `POST users`.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Wanted account id; used only when valid and free (else a random one is made).
    pub id: Option<String>,
    /// E-mail address.
    pub email: String,
    /// Plain password (`None` or empty: the account has no password).
    pub password: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Role name (default `default`; an unknown role is stored as `nobody`).
    pub role: Option<String>,
    /// Panel language (default `en`).
    pub language: Option<String>,
    /// Fields for `user.txt`.
    pub content: Map<String, Value>,
}

fn is_admin(snap: &Snapshot, actor: &Actor) -> bool {
    crate::permissions::role_of(snap, actor).name == "admin"
}

fn denied(key: &'static str, message: String) -> Error {
    Error::Permission { key, message }
}

/// `<verb> the user "<username>"` permission failure.
fn denied_for(key: &'static str, what: &str, user: &User) -> Error {
    denied(
        key,
        format!(
            "You are not allowed to {what} the user \"{}\"",
            user.username()
        ),
    )
}

/// Submitted content without the keys that must never become fields.
fn content_input(input: &Map<String, Value>) -> Map<String, Value> {
    input
        .iter()
        .filter(|(k, _)| {
            let key = txt::canonical_key(k);
            !PRIVILEGED_KEYS.contains(&key.as_str()) && !CREDENTIAL_KEYS.contains(&key.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The user blueprint fields of a role (the `default` user blueprint as fallback).
fn role_fields(snap: &Snapshot, role: &str) -> Vec<Field> {
    snap.blueprints
        .user(role)
        .map(|bp| bp.fields.clone())
        .unwrap_or_default()
}

/// Field types that hold no value.
fn is_layout_only(kind: &str) -> bool {
    matches!(kind, "headline" | "info" | "line" | "gap")
}

/// The id of a new account: the wanted one when it is valid and free, else a random one.
fn new_account_id(root: &Path, snap: &Snapshot, wanted: Option<&str>) -> String {
    if let Some(id) = wanted
        && accounts::valid_id(id)
        && accounts::id_is_free(root, snap, id)
    {
        return id.to_string();
    }
    loop {
        let id = accounts::new_id();
        if accounts::id_is_free(root, snap, &id) {
            return id;
        }
    }
}

/// Whether the actor may create a user with `role` (Kirby asks the new user's permissions).
fn can_create(snap: &Snapshot, actor: &Actor, role: &str) -> bool {
    let mut probe = snap.clone();
    probe.users.push(User {
        id: String::new(),
        email: String::new(),
        name: None,
        role: role.to_string(),
        language: "en".into(),
        content: Content::default(),
        translation: None,
        password_hash: None,
        password_mtime: None,
        files: Vec::new(),
        dir: std::path::PathBuf::new(),
    });
    let idx = probe.users.len() - 1;
    can(&probe, actor, Target::User(idx), "create")
}

/// `POST users`: creates an account and returns its id. Kirby's order: id, e-mail (valid,
/// not taken), language, password, then the permission (admins always may; nobody else may
/// create an admin; others need `users.create` for the new user's role).
/// The account `id` in the snapshot an action runs on (a write addresses users by id, so it
/// finds them again in the latest snapshot).
pub fn by_id(ctx: &Ctx<'_>, id: &str) -> Result<UserIdx> {
    ctx.snap
        .user_by_id(id)
        .ok_or_else(|| Error::user_not_found(id))
}

pub fn create(ctx: &Ctx<'_>, root: &Path, input: &NewUser) -> Result<String> {
    let snap = ctx.snap;
    let id = new_account_id(root, snap, input.id.as_deref().map(str::trim));
    let email = accounts::check_email(&input.email)?;
    if snap.user_by_key(&email).is_some() {
        return Err(Error::Duplicate {
            key: "error.user.duplicate",
            message: format!("A user with the email address \"{email}\" already exists"),
        });
    }
    let language = input.language.clone().unwrap_or_else(|| "en".into());
    accounts::check_language(&language)?;
    let password = input.password.as_deref().filter(|p| !p.is_empty());
    match password {
        Some(pw) => accounts::check_password(pw)?,
        // The first account must have a password.
        None if snap.users.is_empty() => accounts::check_password("")?,
        None => {}
    }
    let wanted_role = input
        .role
        .as_deref()
        .unwrap_or("default")
        .trim()
        .to_lowercase();
    let role = if snap.roles.contains_key(&wanted_role) {
        wanted_role.clone()
    } else {
        "nobody".to_string()
    };
    if !is_admin(snap, ctx.actor) {
        let refuse = || {
            denied(
                "error.user.create.permission",
                "You are not allowed to create this user".into(),
            )
        };
        if wanted_role == "admin" {
            return Err(refuse());
        }
        if !snap.users.is_empty() && !can_create(snap, ctx.actor, &role) {
            return Err(refuse());
        }
    }
    // Content: every field of the role's blueprint (its default or empty), then the input.
    let fields = role_fields(snap, &role);
    let mut base = Content::default();
    for f in fields.iter().filter(|f| !is_layout_only(&f.kind)) {
        let default = f.props.get("default").and_then(raw_stored);
        base.insert(f.name.clone(), default.unwrap_or_default());
    }
    let content = merge(snap, &fields, &base, &content_input(&input.content));
    let hash = match password {
        Some(pw) => Some(password::hash(pw).map_err(|e| Error::internal(e.to_string()))?),
        None => None,
    };
    let name = input.name.as_deref().map(str::trim);
    accounts::write_new(
        root,
        &AccountFiles {
            id: &id,
            email: &email,
            language: &language,
            name,
            role: &role,
            password_hash: hash.as_deref(),
            content: &content,
            content_name: &accounts::default_content_name(snap),
        },
    )?;
    Ok(id)
}

/// `PATCH users/<id>`: merges fields into `user.txt` (validated against the role's
/// blueprint). Needs `update`.
pub fn update(ctx: &Ctx<'_>, root: &Path, u: UserIdx, input: &Map<String, Value>) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if !can(snap, ctx.actor, Target::User(u), "update") {
        return Err(denied_for("error.user.update.permission", "update", user));
    }
    let fields = role_fields(snap, &user.role);
    let mut content = super::submit(
        snap,
        Some(crate::model::FileParent::User(u)),
        &fields,
        &user.content,
        &content_input(input),
    );
    for k in CREDENTIAL_KEYS {
        content.shift_remove(*k);
    }
    validate(&fields, &content)?;
    let name = accounts::content_name(snap);
    let base = super::on_disk(snap, &user.content, &user.translation);
    super::ensure_unchanged(&user.dir.join(&name), &base)?;
    accounts::write_content(root, &user.id, &name, &content)
}

/// `PATCH users/<id>/email`: needs `changeEmail`; the address must be valid and not taken
/// by another account.
pub fn change_email(ctx: &Ctx<'_>, root: &Path, u: UserIdx, email: &str) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if !can(snap, ctx.actor, Target::User(u), "changeEmail") {
        return Err(denied_for(
            "error.user.changeEmail.permission",
            "change the email for",
            user,
        ));
    }
    let email = accounts::check_email(email)?;
    if snap
        .users
        .iter()
        .enumerate()
        .any(|(i, x)| i != u && x.email == email)
    {
        return Err(Error::Duplicate {
            key: "error.user.duplicate",
            message: format!("A user with the email address \"{email}\" already exists"),
        });
    }
    accounts::set_field(root, &user.id, "email", Some(&email))
}

/// `PATCH users/<id>/name`: needs `changeName`; the name is trimmed.
pub fn change_name(ctx: &Ctx<'_>, root: &Path, u: UserIdx, name: &str) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if !can(snap, ctx.actor, Target::User(u), "changeName") {
        return Err(denied_for(
            "error.user.changeName.permission",
            "change the name for",
            user,
        ));
    }
    accounts::set_field(root, &user.id, "name", Some(name.trim()))
}

/// `PATCH users/<id>/language`: needs `changeLanguage`; the code must be a Panel language.
pub fn change_language(ctx: &Ctx<'_>, root: &Path, u: UserIdx, language: &str) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if !can(snap, ctx.actor, Target::User(u), "changeLanguage") {
        return Err(denied_for(
            "error.user.changeLanguage.permission",
            "change the language for",
            user,
        ));
    }
    accounts::check_language(language)?;
    accounts::set_field(root, &user.id, "language", Some(language))
}

/// `PATCH users/<id>/role`, in Kirby's order: a non-admin may not touch an admin's role,
/// nor promote anyone (themselves included) to admin; the role must exist; the last admin
/// keeps the role; finally the `changeRole` permission.
pub fn change_role(ctx: &Ctx<'_>, root: &Path, u: UserIdx, role: &str) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    let actor_admin = is_admin(snap, ctx.actor);
    let target_admin = user.role == "admin";
    let wanted = role.trim().to_lowercase();
    if !actor_admin && target_admin {
        return Err(denied_for(
            "error.user.changeRole.permission",
            "change the role for",
            user,
        ));
    }
    if !actor_admin && wanted == "admin" {
        return Err(denied(
            "error.user.changeRole.toAdmin",
            "You are not allowed to promote someone to the admin role".into(),
        ));
    }
    let Some(role) = snap.roles.keys().find(|r| r.to_lowercase() == wanted) else {
        return Err(Error::InvalidArgument {
            key: "error.user.role.invalid",
            message: "Please enter a valid role".into(),
            details: Value::Array(Vec::new()),
        });
    };
    if role != "admin" && target_admin && snap.admin_count() <= 1 {
        return Err(Error::Logic {
            key: "error.user.changeRole.lastAdmin",
            message: "The role for the last admin cannot be changed".into(),
        });
    }
    if !can(snap, ctx.actor, Target::User(u), "changeRole") {
        return Err(denied_for(
            "error.user.changeRole.permission",
            "change the role for",
            user,
        ));
    }
    accounts::set_field(root, &user.id, "role", Some(role))
}

/// Checks the acting user's own password (Kirby's `validatePassword`): no password 404,
/// too short or too long 400, wrong **401** `error.user.password.wrong`.
fn verify_actor_password(snap: &Snapshot, actor: &Actor, given: &str) -> Result<()> {
    let hash = match actor {
        Actor::Kirby => return Ok(()),
        Actor::Nobody => None,
        Actor::User(_) => actor
            .user_idx(snap)
            .and_then(|a| snap.users[a].password_hash.as_deref()),
    };
    let Some(hash) = hash.filter(|h| !h.is_empty()) else {
        return Err(Error::NotFound {
            key: "error.user.password.undefined",
            message: "The user does not have a password".into(),
        });
    };
    accounts::check_password(given)?;
    if password::verify(given, hash) {
        Ok(())
    } else {
        Err(Error::Auth {
            key: "error.user.password.wrong",
            message: "Wrong password".into(),
        })
    }
}

/// `PATCH users/<id>/password`. `current` is the **acting** user's password, checked first
/// (`None` skips the check: a password-reset session changing its own password). Then the
/// `changePassword` permission and the new password's length. `.htpasswd` is rewritten,
/// which logs out every session of the account that started before this call.
pub fn change_password(
    ctx: &Ctx<'_>,
    root: &Path,
    u: UserIdx,
    current: Option<&str>,
    new_password: &str,
) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if let Some(current) = current {
        verify_actor_password(snap, ctx.actor, current)?;
    }
    if !can(snap, ctx.actor, Target::User(u), "changePassword") {
        return Err(denied_for(
            "error.user.changePassword.permission",
            "change the password for",
            user,
        ));
    }
    accounts::check_password(new_password)?;
    let hash = password::hash(new_password).map_err(|e| Error::internal(e.to_string()))?;
    accounts::write_password_hash(root, &user.id, &hash)
}

/// `DELETE users/<id>`: never the last admin, never the last user, then `delete`.
pub fn delete(ctx: &Ctx<'_>, root: &Path, u: UserIdx) -> Result<()> {
    let snap = ctx.snap;
    let user = &snap.users[u];
    if user.role == "admin" && snap.admin_count() <= 1 {
        return Err(Error::Logic {
            key: "error.user.delete.lastAdmin",
            message: "The last admin cannot be deleted".into(),
        });
    }
    if snap.users.len() <= 1 {
        return Err(Error::Logic {
            key: "error.user.delete.lastUser",
            message: "The last user cannot be deleted".into(),
        });
    }
    if !can(snap, ctx.actor, Target::User(u), "delete") {
        return Err(denied_for("error.user.delete.permission", "delete", user));
    }
    accounts::delete(root, &user.id)?;
    // Public copies of the account's files, if any.
    let _ = std::fs::remove_dir_all(root.join("media").join("users").join(&user.id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SnapshotOptions;
    use serde_json::json;
    use std::path::PathBuf;

    fn fixture() -> (tempfile::TempDir, PathBuf, Snapshot) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root");
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&src, dir.path());
        let root = dir.path().to_path_buf();
        let snap = Snapshot::build(&root, SnapshotOptions::default()).unwrap();
        (dir, root, snap)
    }

    fn copy_tree(src: &Path, dst: &Path) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap().flatten() {
            let to = dst.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_tree(&e.path(), &to);
            } else {
                std::fs::copy(e.path(), &to).unwrap();
            }
        }
    }

    fn rebuild(root: &Path) -> Snapshot {
        Snapshot::build(root, SnapshotOptions::default()).unwrap()
    }

    fn actor(snap: &Snapshot, id: &str) -> Actor {
        Actor::user(snap, snap.user_by_key(id).unwrap())
    }

    fn accounts_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = format!("{rel}/{}", e.file_name().to_string_lossy());
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path(), &name, out);
                } else {
                    out.push((name, std::fs::read(e.path()).unwrap()));
                }
            }
        }
        walk(&root.join("site/accounts"), "", &mut out);
        out
    }

    fn new_user(email: &str, role: &str) -> NewUser {
        NewUser {
            email: email.into(),
            password: Some("writer-secret-5".into()),
            role: Some(role.into()),
            ..NewUser::default()
        }
    }

    #[test]
    fn create_writes_kirby_files() {
        let (_d, root, snap) = fixture();
        let admin = actor(&snap, "admin001");
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        let input = NewUser {
            id: Some("writer01".into()),
            name: Some("Wendy Writer".into()),
            language: Some("en".into()),
            content: json!({"bio": "Writes the newsletter.", "role": "admin", "Password": "x"})
                .as_object()
                .unwrap()
                .clone(),
            ..new_user(" Writer@Example.com ", "editor")
        };
        let id = create(&ctx, &root, &input).unwrap();
        assert_eq!(id, "writer01");
        let dir = root.join("site/accounts/writer01");
        assert_eq!(
            std::fs::read_to_string(dir.join("index.php")).unwrap(),
            "<?php\n\nreturn [\n    'email' => 'writer@example.com',\n    'language' => 'en',\n    'name' => 'Wendy Writer',\n    'role' => 'editor'\n];"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("user.txt")).unwrap(),
            "Bio: Writes the newsletter."
        );
        let hash = std::fs::read_to_string(dir.join(".htpasswd")).unwrap();
        assert!(hash.starts_with("$2y$10$"));
        assert!(password::verify("writer-secret-5", &hash));
    }

    #[test]
    fn create_quirks_and_errors() {
        let (_d, root, snap) = fixture();
        let admin = actor(&snap, "admin001");
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        let before = accounts_tree(&root);
        // Taken, reserved and malformed ids are replaced by a random one.
        for wanted in ["editor01", "kirby", "Nobody", "../evil", ""] {
            let input = NewUser {
                id: Some(wanted.into()),
                ..new_user(&format!("x{}@example.com", wanted.len()), "client")
            };
            let id = create(&ctx, &root, &input).unwrap();
            assert_ne!(id, wanted);
            assert_eq!(id.len(), 8);
            accounts::delete(&root, &id).unwrap();
        }
        // Unknown role → nobody; no role → default → nobody; language defaults to en.
        let id = create(&ctx, &root, &new_user("role@example.com", "superhero")).unwrap();
        let php = std::fs::read_to_string(root.join("site/accounts").join(&id).join("index.php"))
            .unwrap();
        assert!(php.contains("'role' => 'nobody'"), "{php}");
        assert!(php.contains("'language' => 'en'"));
        assert!(php.contains("'name' => NULL"));
        accounts::delete(&root, &id).unwrap();
        assert_eq!(accounts_tree(&root), before);

        let err = |input: NewUser| create(&ctx, &root, &input).unwrap_err();
        let e = err(new_user("editor@example.com", "editor"));
        assert_eq!(e.key(), Some("error.user.duplicate"));
        assert_eq!(
            e.to_string(),
            "A user with the email address \"editor@example.com\" already exists"
        );
        assert_eq!(
            err(new_user("nope", "editor")).key(),
            Some("error.user.email.invalid")
        );
        let short = NewUser {
            password: Some("short".into()),
            ..new_user("short@example.com", "editor")
        };
        assert_eq!(err(short).key(), Some("error.user.password.invalid"));
        let lang = NewUser {
            language: Some("xx".into()),
            ..new_user("lang@example.com", "editor")
        };
        assert_eq!(err(lang).key(), Some("error.user.language.invalid"));
        assert_eq!(accounts_tree(&root), before, "errors write nothing");
    }

    #[test]
    fn create_permissions() {
        let (_d, root, snap) = fixture();
        let before = accounts_tree(&root);
        let editor = actor(&snap, "editor01");
        let ctx = Ctx {
            snap: &snap,
            actor: &editor,
        };
        let e = create(&ctx, &root, &new_user("w@example.com", "editor")).unwrap_err();
        assert_eq!(e.code(), 403);
        assert_eq!(e.key(), Some("error.user.create.permission"));
        assert_eq!(e.to_string(), "You are not allowed to create this user");
        let e = create(&ctx, &root, &new_user("w@example.com", "admin")).unwrap_err();
        assert_eq!(e.key(), Some("error.user.create.permission"));
        let nobody = Actor::Nobody;
        let ctx = Ctx {
            snap: &snap,
            actor: &nobody,
        };
        assert_eq!(
            create(&ctx, &root, &new_user("w@example.com", "client"))
                .unwrap_err()
                .code(),
            403
        );
        assert_eq!(accounts_tree(&root), before);
        // An admin may create another admin.
        let admin = actor(&snap, "admin001");
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        create(&ctx, &root, &new_user("second@example.com", "admin")).unwrap();
        assert_eq!(rebuild(&root).admin_count(), 2);
    }

    #[test]
    fn update_and_credential_changes() {
        let (_d, root, snap) = fixture();
        let admin = actor(&snap, "admin001");
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        let ed = snap.user_by_key("editor01").unwrap();
        let input =
            json!({"Bio": "Keeps the log.", "role": "admin", "email": "x@y.org", "mood": "calm"});
        update(&ctx, &root, ed, input.as_object().unwrap()).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("site/accounts/editor01/user.txt")).unwrap(),
            "Bio: Keeps the log.\n\n----\n\nMood: calm"
        );
        change_name(&ctx, &root, ed, "  Eddie E.  ").unwrap();
        change_email(&ctx, &root, ed, "Eddie@Example.com").unwrap();
        change_language(&ctx, &root, ed, "de").unwrap();
        change_role(&ctx, &root, ed, "client").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("site/accounts/editor01/index.php")).unwrap(),
            "<?php\n\nreturn [\n    'email' => 'eddie@example.com',\n    'language' => 'de',\n    'name' => 'Eddie E.',\n    'role' => 'client'\n];"
        );
        let snap = rebuild(&root);
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        let ed = snap.user_by_key("editor01").unwrap();
        let before = accounts_tree(&root);
        let e = change_email(&ctx, &root, ed, "client@example.com").unwrap_err();
        assert_eq!(e.key(), Some("error.user.duplicate"));
        assert_eq!(
            change_email(&ctx, &root, ed, "bad").unwrap_err().key(),
            Some("error.user.email.invalid")
        );
        assert_eq!(
            change_language(&ctx, &root, ed, "klingon")
                .unwrap_err()
                .key(),
            Some("error.user.language.invalid")
        );
        assert_eq!(
            change_role(&ctx, &root, ed, "superhero").unwrap_err().key(),
            Some("error.user.role.invalid")
        );
        assert_eq!(
            change_role(&ctx, &root, ed, "nobody").unwrap_err().key(),
            Some("error.user.role.invalid")
        );
        assert_eq!(accounts_tree(&root), before);
    }

    #[test]
    fn self_service_permissions() {
        let (_d, root, snap) = fixture();
        let before = accounts_tree(&root);
        let client = actor(&snap, "client01");
        let me = snap.user_by_key("client01").unwrap();
        let ctx = Ctx {
            snap: &snap,
            actor: &client,
        };
        let e = update(&ctx, &root, me, json!({"bio": "x"}).as_object().unwrap()).unwrap_err();
        assert_eq!(e.code(), 403);
        assert_eq!(e.key(), Some("error.user.update.permission"));
        assert_eq!(
            e.to_string(),
            "You are not allowed to update the user \"Clara Client\""
        );
        let e = change_name(&ctx, &root, me, "Clara C.").unwrap_err();
        assert_eq!(
            e.to_string(),
            "You are not allowed to change the name for the user \"Clara Client\""
        );
        let e = change_email(&ctx, &root, me, "c@example.com").unwrap_err();
        assert_eq!(e.key(), Some("error.user.changeEmail.permission"));
        // The editor may not promote anybody (itself included) to admin…
        let editor = actor(&snap, "editor01");
        let ed = snap.user_by_key("editor01").unwrap();
        let ctx = Ctx {
            snap: &snap,
            actor: &editor,
        };
        let e = change_role(&ctx, &root, ed, "Admin").unwrap_err();
        assert_eq!(e.code(), 403);
        assert_eq!(e.key(), Some("error.user.changeRole.toAdmin"));
        // …nor touch an admin's role, nor change its own role.
        let ad = snap.user_by_key("admin001").unwrap();
        let e = change_role(&ctx, &root, ad, "client").unwrap_err();
        assert_eq!(e.key(), Some("error.user.changeRole.permission"));
        let e = change_role(&ctx, &root, ed, "client").unwrap_err();
        assert_eq!(e.key(), Some("error.user.changeRole.permission"));
        let e = delete(&ctx, &root, ed).unwrap_err();
        assert_eq!(e.key(), Some("error.user.delete.permission"));
        assert_eq!(
            e.to_string(),
            "You are not allowed to delete the user \"Eddie Editor\""
        );
        assert_eq!(accounts_tree(&root), before);
    }

    #[test]
    fn last_admin_and_delete() {
        let (_d, root, snap) = fixture();
        let before = accounts_tree(&root);
        let admin = actor(&snap, "admin001");
        let ad = snap.user_by_key("admin001").unwrap();
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        let e = delete(&ctx, &root, ad).unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.key(), Some("error.user.delete.lastAdmin"));
        let e = change_role(&ctx, &root, ad, "editor").unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.key(), Some("error.user.changeRole.lastAdmin"));
        // Keeping the role passes the last-admin rule but not `changeRole` (never allowed
        // for the last admin).
        let e = change_role(&ctx, &root, ad, "admin").unwrap_err();
        assert_eq!(e.key(), Some("error.user.changeRole.permission"));
        assert_eq!(accounts_tree(&root), before);
        let robot = snap.user_by_key("robot001").unwrap();
        delete(&ctx, &root, robot).unwrap();
        assert!(!root.join("site/accounts/robot001").exists());
        assert!(rebuild(&root).user_by_key("robot001").is_none());
    }

    #[test]
    fn password_changes() {
        let (_d, root, snap) = fixture();
        let before = accounts_tree(&root);
        let admin = actor(&snap, "admin001");
        let ed = snap.user_by_key("editor01").unwrap();
        let ctx = Ctx {
            snap: &snap,
            actor: &admin,
        };
        // `currentPassword` is the acting admin's, not the target's.
        let e = change_password(&ctx, &root, ed, Some("editor-secret-2"), "new-password-1")
            .unwrap_err();
        assert_eq!(e.code(), 401);
        assert_eq!(e.key(), Some("error.user.password.wrong"));
        assert_eq!(e.to_string(), "Wrong password");
        let e = change_password(&ctx, &root, ed, Some("short"), "new-password-1").unwrap_err();
        assert_eq!(e.key(), Some("error.user.password.invalid"));
        let e = change_password(&ctx, &root, ed, Some("admin-secret-1"), "tiny").unwrap_err();
        assert_eq!(e.code(), 400);
        assert_eq!(e.key(), Some("error.user.password.invalid"));
        let long = "x".repeat(1001);
        let e = change_password(&ctx, &root, ed, Some("admin-secret-1"), &long).unwrap_err();
        assert_eq!(e.key(), Some("error.user.password.excessive"));
        assert_eq!(accounts_tree(&root), before);

        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        change_password(&ctx, &root, ed, Some("admin-secret-1"), "new-password-1").unwrap();
        let snap = rebuild(&root);
        let user = &snap.users[snap.user_by_key("editor01").unwrap()];
        assert!(password::verify(
            "new-password-1",
            user.password_hash.as_deref().unwrap()
        ));
        let pw_time = user.password_mtime.unwrap();
        assert!(
            pw_time > started,
            "a login in the same second is older than the password"
        );
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(after >= pw_time, "a login after the change is not older");

        // A client changing its own password (allowed by its role).
        let client = actor(&snap, "client01");
        let me = snap.user_by_key("client01").unwrap();
        let ctx = Ctx {
            snap: &snap,
            actor: &client,
        };
        change_password(&ctx, &root, me, Some("client-secret-3"), "client-new-pass").unwrap();
        // Reset mode (no current password) on its own account.
        let snap = rebuild(&root);
        let ctx = Ctx {
            snap: &snap,
            actor: &client,
        };
        change_password(&ctx, &root, me, None, "client-newer-pass").unwrap();
        // The client may not change somebody else's password.
        let e = change_password(&ctx, &root, ed, None, "whatever-pass").unwrap_err();
        assert_eq!(e.key(), Some("error.user.changePassword.permission"));
    }
}
