//! Files of the site, of pages and of users (`…/files`, `…/files/<name>`), and avatars: the
//! reads, and the writes — upload (multipart, streamed to spool files), replace, meta update,
//! rename, sort, delete — each one core action committed through the app's pipeline.
//! Uploads and replaces answer in Kirby's upload envelope (`{status,data}`, or 400
//! `{status,message}` / `{status,errors}`).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use folio_core::actions::file::{self, Bytes, Created, Upload as Uploaded};
use folio_core::actions::{Change, ModelRef, Precondition};
use folio_core::collections::search_files;
use folio_core::model::FileParent;
use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot};
use folio_wire::multipart::{self, FilePart};

use super::extract::{Call, Read, Upload, Write};
use super::lookup::{Owner, collection, file_parent, find_file, find_user, search_query};
use super::pages::if_match;
use super::reply::{ApiResult, Reply};
use super::request::{get_ci, whole_number};
use super::table::{Doc, Table};
use super::views::{Plan, V};

/// The routes of this resource.
pub fn routes() -> Table {
    let mut t = Table::new("files");
    for (prefix, owner) in [
        ("/site", Owner::Site),
        ("/pages/{id}", Owner::Page),
        ("/users/{id}", Owner::User),
        ("/account", Owner::Account),
    ] {
        t = t
            .get(
                &format!("{prefix}/files"),
                move |Read(call): Read| async move { list(call, owner) },
                Doc::new("The files of a site, page or user").collection(),
            )
            .get(
                &format!("{prefix}/files/search"),
                move |Read(call): Read| async move { search(call, owner, true) },
                Doc::new("Searches the files (`q`)").collection(),
            )
            .post(
                &format!("{prefix}/files/search"),
                move |Write(call): Write| async move { search(call, owner, false) },
                Doc::new("Searches the files").json().collection(),
            )
            .get(
                &format!("{prefix}/files/{{file}}"),
                move |Read(call): Read| async move { get_file(call, owner) },
                Doc::new("One file"),
            )
            .get(
                &format!("{prefix}/files/{{file}}/sections/{{section}}"),
                move |Read(call): Read| async move { get_section(call, owner) },
                Doc::new("One section of a file's blueprint").bare(),
            );
    }
    // Writes: site and page files; avatars of users and of the account.
    for (prefix, owner) in [("/site", Owner::Site), ("/pages/{id}", Owner::Page)] {
        t = t
            .post(
                &format!("{prefix}/files"),
                move |Upload(call): Upload| upload(call, owner),
                Doc::new("Uploads a file").multipart(),
            )
            .patch(
                &format!("{prefix}/files/sort"),
                move |Write(call): Write| sort(call, owner),
                Doc::new("Sorts the files (`files`: their ids in order)")
                    .fields(sort_fields)
                    .ok(),
            )
            .post(
                &format!("{prefix}/files/{{file}}"),
                move |Upload(call): Upload| replace(call, owner),
                Doc::new("Replaces a file's bytes").multipart(),
            )
            .patch(
                &format!("{prefix}/files/{{file}}"),
                move |Write(call): Write| update(call, owner),
                Doc::new("Updates a file's content").json(),
            )
            .delete(
                &format!("{prefix}/files/{{file}}"),
                move |Write(call): Write| delete(call, owner),
                Doc::new("Deletes a file").ok(),
            )
            .patch(
                &format!("{prefix}/files/{{file}}/name"),
                move |Write(call): Write| rename(call, owner),
                Doc::new("Renames a file").json(),
            )
            .post(
                &format!("{prefix}/files/{{file}}/changes/{{op}}"),
                move |Write(call): Write| changes(call, owner),
                Doc::new(
                    "Saves, publishes or discards a file's changes (`save`, `publish`, `discard`)",
                )
                .json(),
            );
    }
    for (prefix, owner) in [("/users/{id}", Owner::User), ("/account", Owner::Account)] {
        let path = format!("{prefix}/avatar");
        t = t
            .get(
                &path,
                move |Read(call): Read| async move { get_avatar(call, owner) },
                Doc::new("A user's avatar"),
            )
            .post(
                &path,
                move |Upload(call): Upload| upload_avatar(call, owner),
                Doc::new("Uploads a user's avatar").multipart(),
            )
            .delete(
                &path,
                move |Write(call): Write| delete_avatar(call, owner),
                Doc::new("Deletes a user's avatar").ok(),
            );
    }
    t
}

/// The route key of the owner (`site`/`account` have none).
fn owner_key(call: &Call, owner: Owner) -> String {
    match owner {
        Owner::Page | Owner::User => call.param(0).to_string(),
        Owner::Site => String::new(),
        Owner::Account => "account".into(),
    }
}

fn parent_of(call: &Call, owner: Owner) -> Result<FileParent, Error> {
    file_parent(&call.v(), owner, &owner_key(call, owner))
}

// ------------------------------------------------------------------------ reads

fn list(call: Call, owner: Owner) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let parent = parent_of(call, owner)?;
        let files = call
            .snap
            .files_of(parent)
            .iter()
            .filter(|f| v.listable_file(f));
        let plan = call.collection_plan("default");
        collection(call, files.map(|f| v.file(f, &plan)).collect())
    })
}

fn search(call: Call, owner: Owner, cacheable: bool) -> ApiResult {
    let run = |call: &Call| {
        let v = call.v();
        let parent = parent_of(call, owner)?;
        let files: Vec<_> = call
            .snap
            .files_of(parent)
            .iter()
            .filter(|f| v.listable_file(f))
            .collect();
        let found = search_files(files, &search_query(call));
        let plan = call.collection_plan("default");
        collection(call, found.iter().map(|f| v.file(f, &plan)).collect())
    };
    if cacheable {
        call.cached(run)
    } else {
        run(&call).map_err(|e| call.err(e))
    }
}

fn get_file(call: Call, owner: Owner) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let parent = parent_of(call, owner)?;
        let f = find_file(&v, parent, call.last_param())?;
        Ok(Reply::model(v.file(f, &call.model_plan()))
            .with_header("etag", folio_core::model::content_etag(&f.content)))
    })
}

/// `…/files/<file>/sections/<name>`.
fn get_section(call: Call, owner: Owner) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let parent = parent_of(call, owner)?;
        let n = call.params.len();
        let f = find_file(&v, parent, call.param(n.saturating_sub(2)))?;
        let idx = call
            .snap
            .files_of(parent)
            .iter()
            .position(|x| x.filename == f.filename)
            .ok_or(Error::NullResult)?;
        let model = folio_core::query::Model::File(folio_core::query::FileRef { parent, idx });
        let bp = call.snap.blueprints.file(f.template());
        let api = format!(
            "{}/files/{}",
            v.panel_link(match parent {
                FileParent::Site => folio_core::query::Model::Site,
                FileParent::Page(p) => folio_core::query::Model::Page(p),
                FileParent::User(u) => folio_core::query::Model::User(u),
            })
            .trim_start_matches('/'),
            f.filename
        );
        super::site::section(call, &bp, model, &api, call.last_param())
    })
}

fn get_avatar(call: Call, owner: Owner) -> ApiResult {
    call.cached(|call| {
        let v = call.v();
        let u = find_user(&v, &owner_key(call, owner))?;
        let f = call.snap.users[u].avatar().ok_or(Error::NullResult)?;
        Ok(Reply::model(v.file(f, &call.model_plan())))
    })
}

// ------------------------------------------------------------------------ writes

fn form(call: &Call) -> multipart::Form {
    call.req.form.clone().unwrap_or_default()
}

/// The first uploaded file of a single-file route.
fn first_file(form: &multipart::Form) -> Option<FilePart> {
    form.files.values().next().cloned()
}

/// Kirby's "No files were uploaded" (a plain PHP exception: generic 500).
pub(super) fn no_files() -> Error {
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

/// The parent and the accessible file a single-file route names (as references that find
/// them again in the snapshot the write runs on).
fn file_target(call: &Call, owner: Owner) -> Result<(FileParent, ModelRef, String), Error> {
    let parent = parent_of(call, owner)?;
    let filename = find_file(&call.v(), parent, call.last_param())?
        .filename
        .clone();
    Ok((parent, ModelRef::of_parent(&call.snap, parent), filename))
}

/// A file of the new snapshot as a model envelope (404 when it is gone).
fn file_reply(
    call: &Call,
    snap: &folio_core::Snapshot,
    parent: &ModelRef,
    filename: &str,
    order: Option<&[String]>,
) -> ApiResult {
    let parent = parent.parent(snap).map_err(|e| call.err(e))?;
    if snap.file(parent, filename).is_none() {
        return Err(call.err(Error::file_not_found(filename)));
    }
    Ok(Reply::model(render(
        snap,
        &call.actor,
        &call.base,
        parent,
        filename,
        order,
        &call.model_plan(),
    )))
}

/// `POST …/files`: every file part is uploaded on its own; the answer lists each file
/// (rendered right after its upload, as Kirby does) or each error.
async fn upload(call: Call, owner: Owner) -> ApiResult {
    let parent = parent_of(&call, owner).map_err(|e| call.err(e))?;
    let debug = call.state.app.settings.debug;
    let form = form(&call);
    let parts: Vec<FilePart> = form.files.values().cloned().collect();
    if parts.is_empty() {
        // Only `name[]` file arrays: Kirby skips them and reports no upload at all.
        if form.array_files > 0 {
            return Ok(upload_envelope(Vec::new(), debug));
        }
        return Err(call.err(no_files()));
    }
    let template = form.field("template").map(str::to_string);
    let sort = form.field("sort").map(str::to_string);
    let key = ModelRef::of_parent(&call.snap, parent);
    let (target, uploads) = (key.clone(), parts.clone());
    let (results, new) = call
        .commit(Precondition::None, move |ctx| {
            let parent = target.parent(ctx.snap)?;
            let created = uploads
                .iter()
                .map(|p| create_one(ctx, parent, p, template.as_deref(), sort.as_deref()))
                .collect();
            Ok((created, Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    let new_parent = key.parent(&new).map_err(|e| call.err(e))?;
    let out = upload_answers(&call, parent, &new, new_parent, &parts, results);
    Ok(upload_envelope(out, debug))
}

/// Creates one uploaded file (a part without a filename is PHP's "no file").
pub(super) fn create_one(
    ctx: &folio_core::actions::Ctx<'_>,
    parent: FileParent,
    part: &FilePart,
    template: Option<&str>,
    sort: Option<&str>,
) -> Result<Created, Error> {
    if part.filename.is_empty() {
        return Err(no_file());
    }
    let upload = Uploaded {
        name: &part.filename,
        bytes: Bytes::Spooled(&part.data.spool),
    };
    file::create(ctx, parent, &upload, template, sort)
}

/// Each upload's answer, labelled with the name the client sent. Kirby renders each new
/// file with its view of the parent's files while it uploads: a page (or user) has read its
/// files before the upload, so new files are appended; the site reads them after the first
/// file is written, in the usual order.
fn upload_answers(
    call: &Call,
    parent: FileParent,
    new: &Snapshot,
    new_parent: FileParent,
    parts: &[FilePart],
    results: Vec<Result<Created, Error>>,
) -> Vec<(String, Result<Value, Error>)> {
    // Kirby renders uploads in the default view, whatever `?select=` asks for.
    let plan = super::views::Plan::Default;
    let old: Vec<String> = call
        .snap
        .files_of(parent)
        .iter()
        .map(|f| f.filename.clone())
        .collect();
    let mut cached: Option<Vec<String>> = match parent {
        FileParent::Site => None,
        _ => Some(old.clone()),
    };
    let mut created: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (part, result) in parts.iter().zip(results) {
        let c = match result {
            Ok(c) => c,
            Err(e) => {
                out.push((part.filename.clone(), Err(e)));
                continue;
            }
        };
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
            new,
            &call.actor,
            &call.base,
            new_parent,
            &c.filename,
            Some(list.as_slice()),
            &plan,
        );
        // The file object Kirby just created says `default` until it is read again.
        if let Some(t) = data.get_mut("template")
            && t.is_null()
        {
            *t = json!("default");
        }
        out.push((part.filename.clone(), Ok(data)));
    }
    out
}

/// `POST …/files/<name>`: replaces the bytes (name, meta and UUID stay).
async fn replace(call: Call, owner: Owner) -> ApiResult {
    let (_, key, filename) = file_target(&call, owner).map_err(|e| call.err(e))?;
    let debug = call.state.app.settings.debug;
    let form = form(&call);
    let Some(part) = first_file(&form) else {
        return Err(call.err(no_files()));
    };
    if part.filename.is_empty() {
        return Ok(upload_envelope(vec![(filename, Err(no_file()))], debug));
    }
    let name = filename.clone();
    let target = key.clone();
    let result = call
        .commit(Precondition::None, move |ctx| {
            let upload = Uploaded {
                name: &part.filename,
                bytes: Bytes::Spooled(&part.data.spool),
            };
            file::replace(ctx, target.parent(ctx.snap)?, &name, &upload)?;
            Ok(((), Change::Structure))
        })
        .await;
    Ok(match result {
        Ok(((), new)) => {
            let parent = key.parent(&new).map_err(|e| call.err(e))?;
            one_upload(&call, &new, parent, &filename, filename.clone())
        }
        Err(e) => upload_envelope(vec![(filename, Err(e))], debug),
    })
}

/// `PATCH …/files/<name>`: meta fields.
async fn update(call: Call, owner: Owner) -> ApiResult {
    let (_, key, filename) = file_target(&call, owner).map_err(|e| call.err(e))?;
    call.strict_language().map_err(|e| call.err(e))?;
    let input = match call.req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    let pre = if_match(
        &call,
        ModelRef::File(Box::new(key.clone()), filename.clone()),
    );
    let (name, target) = (filename.clone(), key.clone());
    let ((), new) = call
        .commit(pre, move |ctx| {
            file::update(ctx, target.parent(ctx.snap)?, &name, &input)?;
            Ok(((), Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    file_reply(&call, &new, &key, &filename, None)
}

/// `POST …/files/<name>/changes/<op>`: the file's content versions in the call's language.
async fn changes(call: Call, owner: Owner) -> ApiResult {
    let parent = parent_of(&call, owner).map_err(|e| call.err(e))?;
    let raw = call
        .params
        .len()
        .checked_sub(2)
        .map_or("", |i| call.param(i));
    let filename = find_file(&call.v(), parent, raw)
        .map_err(|e| call.err(e))?
        .filename
        .clone();
    let key = ModelRef::of_parent(&call.snap, parent);
    let op = call.last_param().to_string();
    let input = match call.req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    call.commit(Precondition::None, move |ctx| {
        let model = folio_core::actions::changes::Versioned::file(
            ctx.snap,
            key.parent(ctx.snap)?,
            &filename,
        )?;
        folio_core::actions::changes::run(ctx, &model, &op, &input)?;
        Ok(((), Change::Structure))
    })
    .await
    .map_err(|e| call.err(e))?;
    Ok(Reply::json(
        axum::http::StatusCode::OK,
        serde_json::json!({"status": "ok"}),
    ))
}

/// `PATCH …/files/<name>/name`: renames the file and its meta file.
async fn rename(call: Call, owner: Owner) -> ApiResult {
    let (parent, key, filename) = file_target(&call, owner).map_err(|e| call.err(e))?;
    let name = match get_ci(&call.req.body(), "name") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let (old, target) = (filename.clone(), key.clone());
    let (new_name, new) = call
        .commit(Precondition::None, move |ctx| {
            let n = file::change_name(ctx, target.parent(ctx.snap)?, &old, &name)?;
            Ok((n, Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    // Kirby answers with the renamed file appended to the parent's (cached) files.
    let order = (new_name != filename).then(|| {
        let mut order: Vec<String> = call
            .snap
            .files_of(parent)
            .iter()
            .map(|f| f.filename.clone())
            .filter(|n| *n != filename && *n != new_name)
            .collect();
        order.push(new_name.clone());
        order
    });
    file_reply(&call, &new, &key, &new_name, order.as_deref())
}

/// The sort body; without the `files` list Kirby fails with a PHP `TypeError`.
fn sort_fields() -> Value {
    json!({
        "type": "object",
        "properties": {
            "files": {"type": "array", "items": {"type": "string"}},
            "index": {"type": "integer", "minimum": 0}
        },
        "required": ["files"]
    })
}

/// `PATCH …/files/sort` with `files` (ids) and an `index` offset.
async fn sort(call: Call, owner: Owner) -> ApiResult {
    let parent = parent_of(&call, owner).map_err(|e| call.err(e))?;
    let body = call.req.body();
    let ids: Vec<String> = match get_ci(&body, "files") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => {
            return Err(call.err(type_error("The `files` field must be a list of file ids")));
        }
    };
    // An offset for the new `Sort` numbers: bounded so `index + n` cannot overflow.
    let index = whole_number(
        get_ci(&body, "index"),
        "index",
        -i64::from(i32::MAX),
        i64::from(i32::MAX),
    )
    .map_err(|e| call.err(e))?
    .unwrap_or(0);
    let key = ModelRef::of_parent(&call.snap, parent);
    call.commit(Precondition::None, move |ctx| {
        file::sort(ctx, key.parent(ctx.snap)?, &ids, index)?;
        Ok(((), Change::Structure))
    })
    .await
    .map_err(|e| call.err(e))?;
    // Kirby returns the collection it sorted, in its order before the re-sort.
    let v = call.v();
    let plan = call.collection_plan("default");
    let items = call
        .snap
        .files_of(parent)
        .iter()
        .filter(|f| v.listable_file(f))
        .map(|f| v.file(f, &plan))
        .collect();
    collection(&call, items).map_err(|e| call.err(e))
}

/// `DELETE …/files/<name>`.
async fn delete(call: Call, owner: Owner) -> ApiResult {
    let (_, key, filename) = file_target(&call, owner).map_err(|e| call.err(e))?;
    call.commit(Precondition::None, move |ctx| {
        file::delete(ctx, key.parent(ctx.snap)?, &filename)?;
        Ok(((), Change::Structure))
    })
    .await
    .map_err(|e| call.err(e))?;
    Ok(Reply::ok())
}

/// The user id an avatar route names.
fn avatar_owner(call: &Call, owner: Owner) -> Result<String, Error> {
    let u = find_user(&call.v(), &owner_key(call, owner))?;
    Ok(call.snap.users[u].id.clone())
}

/// `POST …/avatar`: a raster image stored as `profile.<ext>`.
async fn upload_avatar(call: Call, owner: Owner) -> ApiResult {
    let id = avatar_owner(&call, owner).map_err(|e| call.err(e))?;
    let debug = call.state.app.settings.debug;
    let form = form(&call);
    let Some(part) = first_file(&form) else {
        return Err(call.err(no_files()));
    };
    let label = part.filename.clone();
    if label.is_empty() {
        return Ok(upload_envelope(vec![(label, Err(no_file()))], debug));
    }
    let user = id.clone();
    let result = call
        .commit(Precondition::None, move |ctx| {
            let upload = Uploaded {
                name: &part.filename,
                bytes: Bytes::Spooled(&part.data.spool),
            };
            let name =
                file::create_avatar(ctx, folio_core::actions::user::by_id(ctx, &user)?, &upload)?;
            Ok((name, Change::Structure))
        })
        .await;
    Ok(match result {
        Ok((filename, new)) => {
            let u = new
                .user_by_id(&id)
                .ok_or_else(|| call.err(Error::user_not_found(&id)))?;
            one_upload(&call, &new, FileParent::User(u), &filename, label)
        }
        Err(e) => upload_envelope(vec![(label, Err(e))], debug),
    })
}

/// The upload envelope of one file written by a call: `filename` rendered from the new
/// snapshot, under the name the client sent (`label`).
fn one_upload(
    call: &Call,
    new: &Snapshot,
    parent: FileParent,
    filename: &str,
    label: String,
) -> Reply {
    let data = render(
        new,
        &call.actor,
        &call.base,
        parent,
        filename,
        None,
        &call.model_plan(),
    );
    upload_envelope(vec![(label, Ok(data))], call.state.app.settings.debug)
}

/// `DELETE …/avatar`.
async fn delete_avatar(call: Call, owner: Owner) -> ApiResult {
    let id = avatar_owner(&call, owner).map_err(|e| call.err(e))?;
    call.commit(Precondition::None, move |ctx| {
        file::delete_avatar(ctx, folio_core::actions::user::by_id(ctx, &id)?)?;
        Ok(((), Change::Structure))
    })
    .await
    .map_err(|e| call.err(e))?;
    Ok(Reply::ok())
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
    plan: &Plan,
) -> Value {
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
        Some(f) => v.file(f, plan),
        None => Value::Null,
    }
}

/// Kirby's upload answer: one file → `{status, data}` or 400 `{status, message}`; several →
/// `{status, data: {name: file}}` or, if any failed, 400 `{status, errors: {name: message}}`.
pub(super) fn upload_envelope(results: Vec<(String, Result<Value, Error>)>, debug: bool) -> Reply {
    let message = |e: &Error| match e {
        Error::Unexpected { .. } if !debug => crate::app::UNEXPECTED.to_string(),
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
