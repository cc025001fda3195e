//! The file write routes: upload (`POST …/files`), replace (`POST …/files/<f>`), meta update
//! (`PATCH …/files/<f>`), rename (`PATCH …/files/<f>/name`), sort (`PATCH …/files/sort`),
//! delete, and user avatars. Each route resolves its parent the way the read routes do (an
//! unknown or inaccessible parent is the normal 404), runs the action from
//! `folio_core::actions::file` under the writer lock, and answers like Kirby: uploads and
//! replaces use Kirby's upload envelope (`{status,data}` / 400 `{status,message}`), the
//! other routes the model, collection or `true` envelopes.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use folio_core::actions::Ctx;
use folio_core::actions::file::{self, Bytes, Created, Upload};
use folio_core::model::{FileParent, UserIdx};
use folio_core::permissions::{Actor, Target, can};
use folio_core::{Error, Snapshot};

use super::resources::{base_url, find_page};
use super::views::{Plan, V};
use super::{H, Matched, collection};
use crate::http::App;
use crate::http::request::{Req, decode_path_segment, get_ci, whole_number};
use crate::http::response::{Reply, UNEXPECTED};
use folio_wire::multipart::{self, FilePart};

/// Handles a write route of this group.
pub async fn handle(
    app: &App,
    req: &Req,
    snap: &Snapshot,
    actor: &Actor,
    m: &Matched,
) -> Result<Reply, Error> {
    let base = base_url(app, req);
    let v = V {
        snap,
        actor,
        base: &base,
    };
    let who = actor.clone();
    match m.handler {
        H::FileUpload => {
            let parent = resolve_parent(&v, m)?;
            upload(app, req, snap, actor, &who, parent, &base).await
        }
        H::FileReplace => {
            let parent = resolve_parent(&v, m)?;
            let filename = find_file(&v, parent, m)?;
            let form = form(req);
            let Some(part) = first_file(&form) else {
                return Err(no_files());
            };
            if part.filename.is_empty() {
                return Ok(upload_envelope(vec![(filename, Err(no_file()))], app.debug));
            }
            let key = ParentKey::of(snap, parent);
            let name = filename.clone();
            let result = app
                .write(move |s| {
                    let ctx = Ctx {
                        snap: s,
                        actor: &who,
                    };
                    let parent = key.resolve(s)?;
                    let upload = Upload {
                        name: &part.filename,
                        bytes: Bytes::Spooled(&part.data.spool),
                    };
                    file::replace(&ctx, parent, &name, &upload)
                })
                .await;
            let reply = match result {
                Ok(((), new)) => {
                    let parent = ParentKey::of(snap, parent).resolve(&new)?;
                    let actor = actor.clone();
                    let data = render(&new, &actor, &base, parent, &filename, None, req);
                    upload_envelope(vec![(filename, Ok(data))], app.debug)
                }
                Err(e) => upload_envelope(vec![(filename, Err(e))], app.debug),
            };
            Ok(reply)
        }
        H::FileUpdate => {
            let parent = resolve_parent(&v, m)?;
            let filename = find_file(&v, parent, m)?;
            let input = match req.body() {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let key = ParentKey::of(snap, parent);
            let name = filename.clone();
            let ((), new) = app
                .write(move |s| {
                    let ctx = Ctx {
                        snap: s,
                        actor: &who,
                    };
                    file::update(&ctx, key.resolve(s)?, &name, &input)
                })
                .await?;
            model_reply(snap, actor, &new, &base, parent, &filename, None, req)
        }
        H::FileName => {
            let parent = resolve_parent(&v, m)?;
            let filename = find_file(&v, parent, m)?;
            let body = req.body();
            let name = match get_ci(&body, "name") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let key = ParentKey::of(snap, parent);
            let old = filename.clone();
            let (new_name, new) = app
                .write(move |s| {
                    let ctx = Ctx {
                        snap: s,
                        actor: &who,
                    };
                    file::change_name(&ctx, key.resolve(s)?, &old, &name)
                })
                .await?;
            // Kirby answers with the renamed file appended to the parent's (cached) files.
            let order = (new_name != filename).then(|| {
                let mut order: Vec<String> = snap
                    .files_of(parent)
                    .iter()
                    .map(|f| f.filename.clone())
                    .filter(|n| *n != filename && *n != new_name)
                    .collect();
                order.push(new_name.clone());
                order
            });
            model_reply(
                snap,
                actor,
                &new,
                &base,
                parent,
                &new_name,
                order.as_deref(),
                req,
            )
        }
        H::FilesSort => {
            let parent = resolve_parent(&v, m)?;
            let body = req.body();
            let ids: Vec<String> = match get_ci(&body, "files") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| match x {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => return Err(type_error("The `files` field must be a list of file ids")),
            };
            // An offset for the new `Sort` numbers: bounded so `index + n` cannot overflow.
            let index = whole_number(
                get_ci(&body, "index"),
                "index",
                -i64::from(i32::MAX),
                i64::from(i32::MAX),
            )?
            .unwrap_or(0);
            let key = ParentKey::of(snap, parent);
            app.write(move |s| {
                let ctx = Ctx {
                    snap: s,
                    actor: &who,
                };
                file::sort(&ctx, key.resolve(s)?, &ids, index)
            })
            .await?;
            // Kirby returns the collection it sorted, in its order before the re-sort.
            let plan = Plan::for_collection(req.query("select"), req.query("view"), "default");
            let items = snap
                .files_of(parent)
                .iter()
                .filter(|f| v.listable_file(f))
                .map(|f| v.file(f, &plan))
                .collect();
            collection(req, items)
        }
        H::FileDelete => {
            let parent = resolve_parent(&v, m)?;
            let filename = find_file(&v, parent, m)?;
            let key = ParentKey::of(snap, parent);
            app.write(move |s| {
                let ctx = Ctx {
                    snap: s,
                    actor: &who,
                };
                file::delete(&ctx, key.resolve(s)?, &filename)
            })
            .await?;
            Ok(Reply::ok())
        }
        H::AvatarUpload => {
            let u = find_user(&v, m)?;
            let form = form(req);
            let Some(part) = first_file(&form) else {
                return Err(no_files());
            };
            let label = part.filename.clone();
            if label.is_empty() {
                return Ok(upload_envelope(vec![(label, Err(no_file()))], app.debug));
            }
            let key = ParentKey::of(snap, FileParent::User(u));
            let result = app
                .write(move |s| {
                    let ctx = Ctx {
                        snap: s,
                        actor: &who,
                    };
                    let FileParent::User(u) = key.resolve(s)? else {
                        return Err(Error::internal("an avatar belongs to a user"));
                    };
                    let upload = Upload {
                        name: &part.filename,
                        bytes: Bytes::Spooled(&part.data.spool),
                    };
                    file::create_avatar(&ctx, u, &upload)
                })
                .await;
            let reply = match result {
                Ok((filename, new)) => {
                    let parent = ParentKey::of(snap, FileParent::User(u)).resolve(&new)?;
                    let actor = actor.clone();
                    let data = render(&new, &actor, &base, parent, &filename, None, req);
                    upload_envelope(vec![(label, Ok(data))], app.debug)
                }
                Err(e) => upload_envelope(vec![(label, Err(e))], app.debug),
            };
            Ok(reply)
        }
        H::AvatarDelete => {
            let u = find_user(&v, m)?;
            let key = ParentKey::of(snap, FileParent::User(u));
            app.write(move |s| {
                let ctx = Ctx {
                    snap: s,
                    actor: &who,
                };
                let FileParent::User(u) = key.resolve(s)? else {
                    return Err(Error::internal("an avatar belongs to a user"));
                };
                file::delete_avatar(&ctx, u)
            })
            .await?;
            Ok(Reply::ok())
        }
        _ => Err(Error::no_route(&m.pattern, req.method.as_str())),
    }
}

/// `POST {parent}/files`: every file part is uploaded on its own; the answer lists each
/// file (rendered right after its upload, as Kirby does) or each error.
async fn upload(
    app: &App,
    req: &Req,
    snap: &Snapshot,
    actor: &Actor,
    who: &Actor,
    parent: FileParent,
    base: &str,
) -> Result<Reply, Error> {
    let form = form(req);
    let parts: Vec<FilePart> = form.files.values().cloned().collect();
    if parts.is_empty() {
        // Only `name[]` file arrays: Kirby skips them and reports no upload at all.
        if form.array_files > 0 {
            return Ok(upload_envelope(Vec::new(), app.debug));
        }
        return Err(no_files());
    }
    let template = form.field("template").map(str::to_string);
    let sort = form.field("sort").map(str::to_string);
    let key = ParentKey::of(snap, parent);
    let who = who.clone();
    let uploads = parts.clone();
    let (results, new) = app
        .write(move |s| {
            let ctx = Ctx {
                snap: s,
                actor: &who,
            };
            let parent = key.resolve(s)?;
            let results: Vec<Result<Created, Error>> = uploads
                .iter()
                .map(|p| {
                    if p.filename.is_empty() {
                        return Err(no_file());
                    }
                    let upload = Upload {
                        name: &p.filename,
                        bytes: Bytes::Spooled(&p.data.spool),
                    };
                    file::create(&ctx, parent, &upload, template.as_deref(), sort.as_deref())
                })
                .collect();
            Ok(results)
        })
        .await?;
    let new_parent = ParentKey::of(snap, parent).resolve(&new)?;
    let new_actor = actor.clone();
    // Kirby's view of the parent's files while it uploads: a page (or user) has read its
    // files before the upload, so new files are appended; the site reads them after the
    // first file is written, in the usual order.
    let old: Vec<String> = snap
        .files_of(parent)
        .iter()
        .map(|f| f.filename.clone())
        .collect();
    let mut cached: Option<Vec<String>> = match parent {
        FileParent::Site => None,
        _ => Some(old.clone()),
    };
    let mut created: Vec<String> = Vec::new();
    let mut out: Vec<(String, Result<Value, Error>)> = Vec::new();
    for (part, result) in parts.iter().zip(results) {
        let label = if part.filename.is_empty() {
            String::new()
        } else {
            part.filename.clone()
        };
        match result {
            Ok(c) => {
                created.push(c.filename.clone());
                let list = cached.get_or_insert_with(|| {
                    new.files_of(new_parent)
                        .iter()
                        .map(|f| f.filename.clone())
                        .filter(|n| old.contains(n) || created.contains(n))
                        .collect()
                });
                if !list.contains(&c.filename) {
                    list.push(c.filename.clone());
                }
                let mut data = render(
                    &new,
                    &new_actor,
                    base,
                    new_parent,
                    &c.filename,
                    Some(list.as_slice()),
                    req,
                );
                // The file object Kirby just created says `default` until it is read again.
                if let Some(t) = data.get_mut("template")
                    && t.is_null()
                {
                    *t = json!("default");
                }
                out.push((label, Ok(data)));
            }
            Err(e) => out.push((label, Err(e))),
        }
    }
    Ok(upload_envelope(out, app.debug))
}

// ------------------------------------------------------------------------------- helpers

/// A file parent, independent of snapshot indices.
#[derive(Debug, Clone)]
enum ParentKey {
    Site,
    Page(String),
    User(String),
}

impl ParentKey {
    fn of(snap: &Snapshot, parent: FileParent) -> Self {
        match parent {
            FileParent::Site => ParentKey::Site,
            FileParent::Page(p) => ParentKey::Page(snap.pages[p].id.clone()),
            FileParent::User(u) => ParentKey::User(snap.users[u].id.clone()),
        }
    }

    fn resolve(&self, s: &Snapshot) -> Result<FileParent, Error> {
        match self {
            ParentKey::Site => Ok(FileParent::Site),
            ParentKey::Page(id) => s
                .page_by_id(id)
                .map(FileParent::Page)
                .ok_or_else(|| Error::page_not_found(id)),
            ParentKey::User(id) => s
                .users
                .iter()
                .position(|u| &u.id == id)
                .map(FileParent::User)
                .ok_or_else(|| Error::user_not_found(id)),
        }
    }
}

/// The parent of a files route (`site`, `pages/<id>`, `users/<id>`, `account`); unknown or
/// inaccessible parents are 404 like on the read routes.
fn resolve_parent(v: &V<'_>, m: &Matched) -> Result<FileParent, Error> {
    match m.root.as_str() {
        "site" => {
            if can(v.snap, v.actor, Target::Site, "access") {
                Ok(FileParent::Site)
            } else {
                Err(Error::NotFound {
                    key: "error.site.notAccessible",
                    message: "The site is not accessible".into(),
                })
            }
        }
        "pages" => Ok(FileParent::Page(find_page(v, &m.params[0])?)),
        _ => Ok(FileParent::User(find_user(v, m)?)),
    }
}

/// The user of a `users/<id>/…` or `account/…` route (404 when unknown or inaccessible).
fn find_user(v: &V<'_>, m: &Matched) -> Result<UserIdx, Error> {
    let key = if m.root == "account" {
        "account"
    } else {
        m.params.first().map(String::as_str).unwrap_or("")
    };
    let u = if key == "account" {
        v.actor.user_idx(v.snap)
    } else {
        v.snap.user_by_key(&decode_path_segment(key))
    };
    u.filter(|u| can(v.snap, v.actor, Target::User(*u), "access"))
        .ok_or_else(|| Error::user_not_found(key))
}

/// The (decoded) file name of a `…/files/<f>` route, if the file exists and is accessible.
fn find_file(v: &V<'_>, parent: FileParent, m: &Matched) -> Result<String, Error> {
    let name = decode_path_segment(m.params.last().map(String::as_str).unwrap_or(""));
    v.snap
        .file(parent, &name)
        .filter(|f| {
            can(
                v.snap,
                v.actor,
                Target::File(f.parent, &f.filename),
                "access",
            )
        })
        .map(|f| f.filename.clone())
        .ok_or_else(|| Error::file_not_found(&name))
}

fn form(req: &Req) -> multipart::Form {
    req.form.clone().unwrap_or_default()
}

/// The first uploaded file of a single-file route.
fn first_file(form: &multipart::Form) -> Option<FilePart> {
    form.files.values().next().cloned()
}

/// Kirby's "No files were uploaded" (a plain PHP exception: generic 500).
fn no_files() -> Error {
    Error::internal("No files were uploaded")
}

/// PHP's `UPLOAD_ERR_NO_FILE`: a file field that was sent empty.
fn no_file() -> Error {
    Error::invalid_argument("No file was uploaded")
}

/// A PHP type error (generic 500), as Kirby fails on a body of the wrong shape.
fn type_error(detail: &str) -> Error {
    Error::Unexpected {
        code: 500,
        exception: "TypeError",
        detail: detail.into(),
    }
}

/// Renders a file of `snap` with the request's `select`/`view`. When `order` is given, the
/// parent's files are seen in that order (only those names), so `prev`/`next` match the
/// collection Kirby rendered the file from.
fn render(
    snap: &Snapshot,
    actor: &Actor,
    base: &str,
    parent: FileParent,
    filename: &str,
    order: Option<&[String]>,
    req: &Req,
) -> Value {
    let plan = Plan::for_model(req.query("select"), req.query("view"));
    let natural: Vec<&str> = snap
        .files_of(parent)
        .iter()
        .map(|f| f.filename.as_str())
        .collect();
    let reordered = order.filter(|o| o.iter().map(String::as_str).ne(natural.iter().copied()));
    let owned;
    let snap = match reordered {
        Some(order) => {
            let mut copy = snap.clone();
            let files: Vec<folio_core::model::File> = order
                .iter()
                .filter_map(|n| snap.file(parent, n).cloned())
                .collect();
            match parent {
                FileParent::Site => copy.site.files = files,
                FileParent::Page(p) => std::sync::Arc::make_mut(&mut copy.pages[p]).files = files,
                FileParent::User(u) => copy.users[u].files = files,
            }
            owned = copy;
            &owned
        }
        None => snap,
    };
    let v = V { snap, actor, base };
    match snap.file(parent, filename) {
        Some(f) => v.file(f, &plan),
        None => Value::Null,
    }
}

/// A file model envelope rendered from the new snapshot.
#[allow(clippy::too_many_arguments)]
fn model_reply(
    old: &Snapshot,
    actor: &Actor,
    new: &Snapshot,
    base: &str,
    parent: FileParent,
    filename: &str,
    order: Option<&[String]>,
    req: &Req,
) -> Result<Reply, Error> {
    let parent = ParentKey::of(old, parent).resolve(new)?;
    let actor = actor.clone();
    if new.file(parent, filename).is_none() {
        return Err(Error::file_not_found(filename));
    }
    Ok(Reply::model(render(
        new, &actor, base, parent, filename, order, req,
    )))
}

/// Kirby's upload answer: one file → `{status, data}` or 400 `{status, message}`; several →
/// `{status, data: {name: file}}` or, if any failed, 400 `{status, errors: {name: message}}`.
fn upload_envelope(results: Vec<(String, Result<Value, Error>)>, debug: bool) -> Reply {
    let message = |e: &Error| match e {
        Error::Unexpected { .. } if !debug => UNEXPECTED.to_string(),
        other => other.to_string(),
    };
    if results.len() <= 1 {
        return match results.into_iter().next() {
            Some((_, Err(e))) => Reply::json(
                StatusCode::BAD_REQUEST,
                json!({"status": "error", "message": message(&e)}),
            ),
            Some((_, Ok(data))) => {
                Reply::json(StatusCode::OK, json!({"status": "ok", "data": data}))
            }
            None => Reply::json(StatusCode::OK, json!({"status": "ok", "data": null})),
        };
    }
    let mut errors = Map::new();
    let mut data = Map::new();
    for (name, r) in results {
        match r {
            Ok(v) => {
                data.insert(name, v);
            }
            Err(e) => {
                errors.insert(name, Value::String(message(&e)));
            }
        }
    }
    if errors.is_empty() {
        Reply::json(StatusCode::OK, json!({"status": "ok", "data": data}))
    } else {
        Reply::json(
            StatusCode::BAD_REQUEST,
            json!({"status": "error", "errors": errors}),
        )
    }
}
