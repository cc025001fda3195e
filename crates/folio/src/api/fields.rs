//! Field API routes (`…/fields/<name>/<path>`) of the site, pages, users and files: Kirby
//! hands the rest of the path to the field's own routes. Files, pages and users fields answer
//! their pickers (`search`, `page`, `parent`) and files fields take uploads; textareas list
//! and take files; blocks and layout fields give new ids, default blocks of their fieldsets,
//! split pasted HTML into blocks, make new layout rows, and pass on to the fields of a
//! fieldset (or of the layout settings). A field type without routes, or a path none of its
//! routes takes, is Kirby's "no route" 404.

use axum::extract::{FromRequest, Request, State};
use axum::http::Method;
use serde_json::{Map, Value, json};

use folio_core::Error;
use folio_core::actions::blocks::{self, Block};
use folio_core::actions::{Change, ModelRef, Precondition, uuid_v4};
use folio_core::blueprint::Field;
use folio_core::collections::{search_files, search_pages, search_users};
use folio_core::fieldsets::Fieldsets;
use folio_core::model::{File, FileParent, PageIdx, UserIdx};
use folio_core::permissions::{Target, can};
use folio_core::query::{FileRef, Gate, Model, Scope, Val};

use super::ApiState;
use super::content::{empty_value, file_item, form_blocks, form_content, typed};
use super::extract::{Call, Read, Upload, Write};
use super::files::{create_one, no_files, upload_envelope};
use super::lookup::{Owner, file_parent, find_file};
use super::reply::{ApiResult, Reply};
use super::table::{Doc, Table};
use super::views::V;

/// Whose fields a route names: a model, or a file of a model.
#[derive(Debug, Clone, Copy)]
enum Of {
    Model(Owner),
    File(Owner),
}

/// The routes: `GET` and `POST` of `…/fields/<name>` and `…/fields/<name>/<path>` for the
/// site, pages, users, the account, and their files.
pub fn routes() -> Table {
    let mut t = Table::new("fields");
    let owners = [
        ("/site", Owner::Site),
        ("/pages/{id}", Owner::Page),
        ("/users/{id}", Owner::User),
        ("/account", Owner::Account),
    ];
    let mut prefixes: Vec<(String, Of)> = Vec::new();
    for (p, o) in owners {
        prefixes.push((p.to_string(), Of::Model(o)));
    }
    for (p, o) in owners {
        prefixes.push((format!("{p}/files/{{file}}"), Of::File(o)));
    }
    for (prefix, of) in prefixes {
        for sub in [false, true] {
            let path = if sub {
                format!("{prefix}/fields/{{field}}/{{*path}}")
            } else {
                format!("{prefix}/fields/{{field}}")
            };
            t = t
                .get(
                    &path,
                    move |Read(call): Read| async move { get(call, of, sub) },
                    Doc::new("A field's API: pickers, files, block fieldsets, new ids").bare(),
                )
                .post(
                    &path,
                    move |State(state): State<ApiState>, req: Request| post(state, req, of, sub),
                    Doc::new("A field's API: uploads, pasted blocks, new layout rows")
                        .json()
                        .bare(),
                );
        }
    }
    t
}

/// The model a route names and its blueprint fields.
struct Target2 {
    model: Model,
    /// Whose files an upload goes to.
    parent: FileParent,
    fields: Vec<Field>,
}

fn target(call: &Call, of: Of) -> Result<(Target2, usize), Error> {
    let v = call.v();
    let snap = &call.snap;
    let key = |owner: Owner| match owner {
        Owner::Page | Owner::User => call.param(0).to_string(),
        Owner::Site => String::new(),
        Owner::Account => "account".into(),
    };
    let keyed = |owner: Owner| usize::from(matches!(owner, Owner::Page | Owner::User));
    match of {
        Of::Model(owner) => {
            let parent = file_parent(&v, owner, &key(owner))?;
            let (model, fields) = match parent {
                FileParent::Site => (Model::Site, snap.blueprints.site().fields.clone()),
                FileParent::Page(p) => (
                    Model::Page(p),
                    snap.blueprints.page(&snap.pages[p].template).fields.clone(),
                ),
                FileParent::User(u) => (
                    Model::User(u),
                    snap.blueprints
                        .user(&snap.users[u].role)
                        .map(|b| b.fields.clone())
                        .unwrap_or_default(),
                ),
            };
            Ok((
                Target2 {
                    model,
                    parent,
                    fields,
                },
                keyed(owner),
            ))
        }
        Of::File(owner) => {
            let parent = file_parent(&v, owner, &key(owner))?;
            let at = keyed(owner);
            let file = find_file(&v, parent, call.param(at))?;
            let idx = snap
                .files_of(parent)
                .iter()
                .position(|f| f.filename == file.filename)
                .unwrap_or(0);
            let fields = snap.blueprints.file(file.template()).fields.clone();
            Ok((
                Target2 {
                    model: Model::File(FileRef { parent, idx }),
                    parent,
                    fields,
                },
                at + 1,
            ))
        }
    }
}

/// A field by name (case-insensitive); `a+b` names field `b` of the nested form of `a`.
fn find_field(fields: &[Field], name: &str) -> Result<Field, Error> {
    let missing = || Error::NotFound {
        key: "error.notFound",
        message: "The field could not be found".into(),
    };
    let mut list = fields;
    let mut found: Option<&Field> = None;
    for part in name.split('+').filter(|p| !p.is_empty()) {
        let f = list
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(part))
            .ok_or_else(missing)?;
        list = &f.fields;
        found = Some(f);
    }
    found.cloned().ok_or_else(missing)
}

/// The field named by the route and the rest of the path.
fn resolve(call: &Call, of: Of, sub: bool) -> Result<(Target2, Field, String), Error> {
    let (target, at) = target(call, of)?;
    let name = super::request::decode_path_segment(call.param(at));
    let mut field = find_field(&target.fields, &name)?;
    let mut path = if sub {
        call.param(at + 1).trim_matches('/').to_string()
    } else {
        String::new()
    };
    // into the fields of fieldsets and layout settings
    loop {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match nested(call, &field, &segments) {
            Some(found) => {
                let (inner, rest) = found?;
                let rest = rest.join("/");
                field = inner;
                path = rest;
            }
            None => break,
        }
    }
    Ok((target, field, path))
}

fn get(call: Call, of: Of, sub: bool) -> ApiResult {
    let (target, field, path) = resolve(&call, of, sub).map_err(|e| call.err(e))?;
    let body = Map::new();
    route(&call, &target, &field, &Method::GET, &path, &body).map_err(|e| call.err(e))
}

async fn post(state: ApiState, req: Request, of: Of, sub: bool) -> ApiResult {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let call = if multipart {
        Upload::from_request(req, &state).await?.0
    } else {
        Write::from_request(req, &state).await?.0
    };
    let (target, field, path) = resolve(&call, of, sub).map_err(|e| call.err(e))?;
    if let Some(answer) = upload_route(&field, &path) {
        return upload(&call, &target, &field, answer).await;
    }
    let body = match call.req.body() {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    route(&call, &target, &field, &Method::POST, &path, &body).map_err(|e| call.err(e))
}

/// Kirby's answer when no route of the field takes the path.
fn no_route(path: &str, method: &Method) -> Error {
    Error::no_route(path, method.as_str())
}

/// How an upload answers: a files field with the picker item, a textarea with the name and
/// the KirbyText to insert.
#[derive(Debug, Clone, Copy)]
enum UploadAnswer {
    Picker,
    DragText,
}

/// Whether a path is a field's upload route, and how it answers.
fn upload_route(field: &Field, path: &str) -> Option<UploadAnswer> {
    match (field.kind.as_str(), path) {
        ("files", "upload") => Some(UploadAnswer::Picker),
        ("textarea", "upload") => Some(UploadAnswer::DragText),
        _ => None,
    }
}

/// The nested field and path of `fieldsets/<type>/fields/<name>/…` (blocks, layout) or
/// `fields/<name>/…` (layout settings).
fn nested<'p>(
    call: &Call,
    field: &Field,
    segments: &[&'p str],
) -> Option<Result<(Field, Vec<&'p str>), Error>> {
    let snap = &call.snap;
    match (field.kind.as_str(), segments) {
        ("blocks" | "layout", ["fieldsets", kind, "fields", name, rest @ ..]) => {
            let sets = Fieldsets::of(&snap.blueprints, field);
            Some(
                fieldset_fields(&sets, kind)
                    .and_then(|fields| find_field(&fields, name))
                    .map(|f| (f, rest.to_vec())),
            )
        }
        ("layout", ["fields", name, rest @ ..]) => {
            let fields = blocks::settings_fields(snap, field).unwrap_or_default();
            Some(find_field(&fields, name).map(|f| (f, rest.to_vec())))
        }
        _ => None,
    }
}

fn fieldset_fields(sets: &Fieldsets, kind: &str) -> Result<Vec<Field>, Error> {
    sets.find(kind)
        .map(|s| s.fields.clone())
        .ok_or_else(|| Error::NotFound {
            key: "error.notFound",
            message: format!("The fieldset {kind} could not be found"),
        })
}

/// One field route.
fn route(
    call: &Call,
    target: &Target2,
    field: &Field,
    method: &Method,
    path: &str,
    body: &Map<String, Value>,
) -> Result<Reply, Error> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let v = call.v();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let answer = match (field.kind.as_str(), segments.as_slice()) {
        ("files", []) if get => files_picker(call, target, field, field.props.get("query")),
        ("pages", []) if get => pages_picker(call, target, field)?,
        ("users", []) if get => users_picker(call, target, field),
        ("textarea", ["files"]) if get => {
            let files = textarea_files(field);
            files_picker(call, target, &files, files.props.get("query"))
        }
        ("blocks" | "layout", ["uuid"]) if get => json!({"uuid": uuid_v4()}),
        ("blocks" | "layout", ["paste"]) if post && field.kind == "blocks" => {
            let sets = Fieldsets::of(&call.snap.blueprints, field);
            let html = body.get("html").cloned().unwrap_or(Value::Null);
            let list = blocks::blocks_of(&blocks::parse_blocks(&html));
            let mut out = Vec::new();
            for b in form_blocks(&v, &sets, &list, target.parent) {
                let known = b
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| sets.find(t).is_some());
                if known {
                    let mut b = b;
                    b["id"] = json!(uuid_v4());
                    out.push(b);
                }
            }
            Value::Array(out)
        }
        ("blocks" | "layout", ["fieldsets", kind]) if get => {
            let sets = Fieldsets::of(&call.snap.blueprints, field);
            let fields = fieldset_fields(&sets, kind)?;
            Block {
                content: defaults(&v, &fields, target.parent),
                id: json!(uuid_v4()),
                hidden: json!(false),
                kind: kind.to_string(),
            }
            .to_json()
        }
        ("layout", ["layout"]) if post => {
            let columns: Vec<Value> = match body.get("columns") {
                Some(Value::Array(a)) => a.clone(),
                _ => vec![json!("1/1")],
            };
            let fields = blocks::settings_fields(&call.snap, field).unwrap_or_default();
            let mut attrs = defaults(&v, &fields, target.parent);
            if let Some(Value::Object(given)) = body.get("attrs") {
                let given: Map<String, Value> = given
                    .iter()
                    .map(|(k, v)| (k.to_lowercase(), v.clone()))
                    .collect();
                for (k, val) in form_content(&v, &fields, &given, target.parent) {
                    if given.contains_key(&k) {
                        attrs.insert(k, val);
                    }
                }
            }
            let row = blocks::Layout {
                attrs,
                columns: columns
                    .into_iter()
                    .map(|w| (json!(uuid_v4()), w, Vec::new()))
                    .collect(),
                id: json!(uuid_v4()),
            };
            row.to_json(|_| Vec::new())
        }
        _ => return Err(no_route(path, method)),
    };
    Ok(Reply::bare(answer))
}

/// A form filled with its fields' defaults (`now` for dates and times is the current time).
fn defaults(v: &V<'_>, fields: &[Field], owner: FileParent) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields.iter().filter(|f| f.stores_value()) {
        let raw = match f.props.get("default") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) if s == "now" && matches!(f.kind.as_str(), "date" | "time") => {
                folio_core::actions::now_for(f)
            }
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => folio_core::format::yaml::dump(other),
        };
        let value = if raw.is_empty() && f.kind == "toggle" {
            json!(false)
        } else if raw.is_empty() {
            match empty_value(f) {
                Value::Null => typed(v, f, "", owner),
                other => other,
            }
        } else {
            typed(v, f, &raw, owner)
        };
        out.insert(f.name.clone(), value);
    }
    out
}

/// A textarea's `files:` options as a files field (a string is the query).
fn textarea_files(field: &Field) -> Field {
    let props = match field.props.get("files") {
        Some(Value::String(q)) => {
            let mut m = Map::new();
            m.insert("query".into(), json!(q));
            m
        }
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    Field {
        name: field.name.clone(),
        kind: "files".into(),
        fields: Vec::new(),
        props,
    }
}

/// `?page` and the field's `limit` (20): `{limit, page, total}` and the page's range; a page
/// past the end is the last one (0 when there is nothing).
fn paginate(call: &Call, field: &Field, total: usize) -> (Value, std::ops::Range<usize>) {
    let limit = field
        .props
        .get("limit")
        .and_then(Value::as_u64)
        .filter(|l| *l > 0)
        .unwrap_or(20) as usize;
    // Kirby's pagination of nothing is page 0.
    let pages = total.div_ceil(limit);
    let page = call
        .query("page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(pages.min(1), pages);
    let start = (page.saturating_sub(1) * limit).min(total);
    let end = (start + limit).min(total);
    (
        json!({"limit": limit, "page": page, "total": total}),
        start..end,
    )
}

fn scope<'a>(call: &'a Call, v: &'a V<'a>, model: Model) -> Scope<'a> {
    Scope::new(&call.snap, Gate::Actor(&call.actor))
        .with_host(v)
        .for_model(model)
}

fn search_term(call: &Call) -> Option<String> {
    call.query("search")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Kirby's file picker: the field's `query` (default: the model's files, a file's
/// siblings), listable files only, searched, paginated.
fn files_picker(call: &Call, target: &Target2, field: &Field, query: Option<&Value>) -> Value {
    let v = call.v();
    let snap = &call.snap;
    let own = |parent: FileParent| {
        (0..snap.files_of(parent).len())
            .map(|idx| FileRef { parent, idx })
            .collect::<Vec<_>>()
    };
    // Kirby's default queries (a file's siblings; the model's files otherwise).
    let default = match target.model {
        Model::Site => "site.files",
        Model::Page(_) => "page.files",
        Model::User(_) => "user.files",
        Model::File(_) => "file.siblings",
    };
    let q = query
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty())
        .unwrap_or(default);
    let refs: Vec<FileRef> = match scope(call, &v, target.model).eval(q) {
        Ok(Val::Files(l)) => l,
        Ok(Val::File(f)) => vec![f],
        Ok(Val::Site) => own(FileParent::Site),
        Ok(Val::Page(p)) => own(FileParent::Page(p)),
        Ok(Val::User(u)) => own(FileParent::User(u)),
        _ if q == default => match target.model {
            Model::File(f) => own(f.parent),
            _ => own(target.parent),
        },
        _ => Vec::new(),
    };
    let mut files: Vec<&File> = refs
        .iter()
        .map(|f| &snap.files_of(f.parent)[f.idx])
        .filter(|f| v.listable_file(f))
        .collect();
    if let Some(term) = search_term(call) {
        files = search_files(files, &term);
    }
    let (pagination, range) = paginate(call, field, files.len());
    let data: Vec<Value> = files[range]
        .iter()
        .map(|f| file_item(&v, field, f))
        .collect();
    json!({"data": data, "pagination": pagination})
}

/// The parent all pages share (the site for top-level pages), if they share one.
fn common_parent(call: &Call, list: &[PageIdx]) -> Option<Option<PageIdx>> {
    let first = call.snap.pages[*list.first()?].parent;
    list.iter()
        .all(|p| call.snap.pages[*p].parent == first)
        .then_some(first)
}

/// Kirby's page picker: the field's `query` (a page or the site means its children), or the
/// children of `?parent` (the site without one); listable pages only, searched, paginated,
/// with the model the picker shows (`null` without subpages).
fn pages_picker(call: &Call, target: &Target2, field: &Field) -> Result<Value, Error> {
    let v = call.v();
    let snap = &call.snap;
    let subpages = field.props.get("subpages") != Some(&Value::Bool(false));
    let query = field
        .props
        .get("query")
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty());
    // `?parent`, when the actor may see it; else the site.
    let parent_param: Option<PageIdx> = call
        .query("parent")
        .filter(|p| !p.is_empty())
        .and_then(|p| snap.page_by_id(&folio_wire::query::model_id(p)))
        .filter(|p| can(snap, &call.actor, Target::Page(*p), "access"));
    let children = |parent: Option<PageIdx>| match parent {
        Some(p) => snap.pages[p].children.clone(),
        None => snap.site.children.clone(),
    };
    // (pages, the collection's parent: Some(None) is the site)
    let (list, collection_parent): (Vec<PageIdx>, Option<Option<PageIdx>>) = match query {
        None => (children(parent_param), Some(parent_param)),
        Some(q) => {
            let from_query = match scope(call, &v, target.model).eval(q) {
                Ok(Val::Pages(l)) => {
                    let parent = common_parent(call, &l);
                    (l, parent)
                }
                Ok(Val::Page(p)) => (children(Some(p)), Some(Some(p))),
                Ok(Val::Site) => (children(None), Some(None)),
                _ => {
                    return Err(Error::invalid_argument(
                        "Your query must return a set of pages",
                    ));
                }
            };
            let start = from_query.1.unwrap_or(None);
            match parent_param {
                Some(p) if subpages && Some(p) != start => (children(Some(p)), Some(Some(p))),
                _ => from_query,
            }
        }
    };
    let start = match query {
        Some(_) => collection_parent.unwrap_or(None),
        None => None,
    };
    let mut list: Vec<PageIdx> = list
        .into_iter()
        .filter(|p| can(snap, &call.actor, Target::Page(*p), "list"))
        .collect();
    if let Some(term) = search_term(call) {
        list = search_pages(snap, list, &term);
    }
    let (pagination, range) = paginate(call, field, list.len());
    let data: Vec<Value> = list[range]
        .iter()
        .map(|p| page_item(&v, field, *p))
        .collect();
    let model = match (subpages, collection_parent) {
        (false, _) | (true, None) => Value::Null,
        (true, Some(model)) => {
            let title = |p: Option<PageIdx>| match p {
                Some(p) => json!(snap.pages[p].title()),
                None => json!(snap.site.title()),
            };
            match model {
                Some(p) if Some(p) != start => json!({
                    "id": snap.pages[p].id,
                    "parent": snap.pages[p].parent.map(|x| json!(snap.pages[x].id)).unwrap_or(Value::Null),
                    "title": title(Some(p)),
                }),
                other => json!({"id": null, "parent": null, "title": title(other)}),
            }
        }
    };
    Ok(json!({"data": data, "pagination": pagination, "model": model}))
}

fn page_item(v: &V<'_>, field: &Field, p: PageIdx) -> Value {
    let mut item = v.page_picker(p, true);
    for key in ["text", "info"] {
        if let (Some(Value::String(t)), Value::Object(m)) = (field.props.get(key), &mut item) {
            m.insert(key.into(), json!(v.model_string(Model::Page(p), t, true)));
        }
    }
    item
}

/// Kirby's user picker: the field's `query` (default every user), listable users only,
/// searched, sorted by name, paginated.
fn users_picker(call: &Call, target: &Target2, field: &Field) -> Value {
    let v = call.v();
    let snap = &call.snap;
    let all = || (0..snap.users.len()).collect::<Vec<UserIdx>>();
    let list: Vec<UserIdx> = match field.props.get("query").and_then(Value::as_str) {
        Some(q) if !q.is_empty() => match scope(call, &v, target.model).eval(q) {
            Ok(Val::Users(l)) => l,
            _ => Vec::new(),
        },
        _ => all(),
    };
    let mut list: Vec<UserIdx> = list
        .into_iter()
        .filter(|u| can(snap, &call.actor, Target::User(*u), "list"))
        .collect();
    if let Some(term) = search_term(call) {
        list = search_users(snap, list, &term);
    }
    list.sort_by_cached_key(|u| snap.users[*u].username().to_lowercase());
    let (pagination, range) = paginate(call, field, list.len());
    let data: Vec<Value> = list[range]
        .iter()
        .map(|u| {
            let mut item = v.user_picker(*u);
            for key in ["text", "info"] {
                if let (Some(Value::String(t)), Value::Object(m)) =
                    (field.props.get(key), &mut item)
                {
                    m.insert(key.into(), json!(v.model_string(Model::User(*u), t, true)));
                }
            }
            item
        })
        .collect();
    json!({"data": data, "pagination": pagination})
}

/// The `uploads:` of a field: `false` (none), a template name, or `{template, parent}`.
fn uploads_of(field: &Field) -> Option<Map<String, Value>> {
    match field.props.get("uploads") {
        Some(Value::Bool(false)) => None,
        Some(Value::String(t)) => {
            let mut m = Map::new();
            m.insert("template".into(), json!(t));
            Some(m)
        }
        Some(Value::Object(o)) => Some(o.clone()),
        _ => Some(Map::new()),
    }
}

/// `POST …/upload`: the files go to the model (or the `uploads.parent` query's model, a
/// file's parent for a file) with the `uploads.template`, and each answers as the field maps
/// it.
async fn upload(call: &Call, target: &Target2, field: &Field, answer: UploadAnswer) -> ApiResult {
    let debug = call.state.app.settings.debug;
    let Some(uploads) = uploads_of(field) else {
        return Err(call.err(Error::internal("Uploads are disabled for this field")));
    };
    let v = call.v();
    let parent = match uploads.get("parent").and_then(Value::as_str) {
        Some(q) if !q.is_empty() => match scope(call, &v, target.model).eval(q) {
            Ok(Val::Site) => FileParent::Site,
            Ok(Val::Page(p)) => FileParent::Page(p),
            Ok(Val::User(u)) => FileParent::User(u),
            Ok(Val::File(f)) => f.parent,
            _ => {
                return Err(call.err(Error::invalid_argument(format!(
                    "\"{q}\" could not be resolved as a valid parent for the upload"
                ))));
            }
        },
        _ => target.parent,
    };
    let form = call.req.form.clone().unwrap_or_default();
    let parts: Vec<folio_wire::multipart::FilePart> = form.files.values().cloned().collect();
    if parts.is_empty() {
        return Err(call.err(no_files()));
    }
    let template = uploads
        .get("template")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| form.field("template").map(str::to_string));
    let key = ModelRef::of_parent(&call.snap, parent);
    let (owner, files) = (key.clone(), parts.clone());
    let (results, new) = call
        .commit(Precondition::None, move |ctx| {
            let parent = owner.parent(ctx.snap)?;
            let created: Vec<_> = files
                .iter()
                .map(|p| create_one(ctx, parent, p, template.as_deref(), None))
                .collect();
            Ok((created, Change::Structure))
        })
        .await
        .map_err(|e| call.err(e))?;
    let new_parent = key.parent(&new).map_err(|e| call.err(e))?;
    let v = V {
        snap: &new,
        actor: &call.actor,
        base: &call.base,
    };
    let out = parts
        .iter()
        .zip(results)
        .map(|(part, result)| {
            let data = result.and_then(|c| {
                let file = new
                    .file(new_parent, &c.filename)
                    .ok_or_else(|| Error::file_not_found(&c.filename))?;
                let item = file_item(&v, field, file);
                Ok(match answer {
                    UploadAnswer::Picker => {
                        let mut item = item;
                        // A file just created says `default` until it is read again.
                        if item.get("template").is_some_and(Value::is_null) {
                            item["template"] = json!("default");
                        }
                        item
                    }
                    UploadAnswer::DragText => json!({
                        "filename": file.filename,
                        "dragText": item.get("dragText").cloned().unwrap_or(Value::Null),
                    }),
                })
            });
            (part.filename.clone(), data)
        })
        .collect();
    Ok(upload_envelope(out, debug))
}
