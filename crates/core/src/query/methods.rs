//! The query language's allowlist: which methods each class (kirby, site, page, file, user,
//! role, field, content, and the pages/files/users/structure collections) answers, and how.
//! A name that is not in the list is a content field on models (Kirby's `__call`), a
//! [`QueryError::NotAvailable`] when Kirby has such a method that Folio does not evaluate, and
//! [`QueryError::Unknown`] otherwise.

use std::cmp::Ordering;
use std::sync::Arc;

use indexmap::IndexMap;

use super::eval::{FieldVal, Locals, call_closure, file, loose_cmp, number, scalar, scalar_text};
use super::{FileRef, Gate, Model, QueryError, Scope, Val};
use crate::model::{Content, FileParent, PageIdx, Status, UserIdx};
use crate::permissions::{Target, can};
use crate::{Snapshot, natsort};

type R = Result<Val, QueryError>;

/// Methods Kirby's classes have that Folio does not evaluate (rendering, images, panel,
/// versions, PHP-defined behaviour). Asking for them is a clear error, never a content field.
const NOT_AVAILABLE: &[&str] = &[
    "blueprint",
    "render",
    "toarray",
    "tojson",
    "translation",
    "translations",
    "lock",
    "version",
    "panel",
    "permissions",
    "media",
    "mediaurl",
    "mediaroot",
    "previewurl",
    "contentfile",
    "root",
    "diruri",
    "thumb",
    "resize",
    "crop",
    "blur",
    "bw",
    "grayscale",
    "srcset",
    "quality",
    "paginate",
    "pagination",
    "group",
    "groupby",
    "shuffle",
    "random",
    "query",
    "collection",
    "option",
    "request",
    "session",
    "response",
    "csrf",
    "qr",
    "t",
    "tt",
    "todate",
    "toblocks",
    "tolayouts",
    "callback",
    "permalink",
    "widont",
    "smartypants",
    "exif",
    "read",
    "base64",
    "html5",
    "password",
    "secret",
    "impersonate",
    "loginpasswordless",
    "apply",
    "trigger",
    "update",
    "save",
    "delete",
    "create",
    "changetitle",
    "changeslug",
    "changestatus",
    "changetemplate",
    "changename",
    "changeemail",
    "changerole",
    "changepassword",
    "changesort",
    "changenum",
    "duplicate",
    "copy",
    "move",
    "publish",
    "unpublish",
];

/// Whether Folio refuses to evaluate a (lowercase) method name: a hash lookup, since it is
/// asked for every content field a query reads.
fn not_evaluated(lower: &str) -> bool {
    static SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| NOT_AVAILABLE.iter().copied().collect());
    SET.contains(lower)
}

fn not_available(name: &str, on: &'static str) -> QueryError {
    QueryError::NotAvailable {
        name: name.to_string(),
        on,
    }
}

fn unknown(name: &str, on: &'static str) -> QueryError {
    QueryError::Unknown {
        name: name.to_string(),
        on,
    }
}

fn arg_str(args: &[Val], i: usize) -> Option<String> {
    args.get(i).and_then(|v| match scalar(v) {
        Val::Null => None,
        s => Some(scalar_text(&s)),
    })
}

fn arg_int(args: &[Val], i: usize) -> Option<i64> {
    args.get(i).map(|v| number(v) as i64)
}

// ------------------------------------------------------------------------- gate

fn published(snap: &Snapshot, p: PageIdx) -> bool {
    let mut cur = Some(p);
    while let Some(i) = cur {
        if snap.pages[i].status == Status::Draft {
            return false;
        }
        cur = snap.pages[i].parent;
    }
    true
}

fn page_ok(scope: &Scope<'_>, p: PageIdx) -> bool {
    match scope.gate {
        Gate::Actor(a) => can(scope.snap, a, Target::Page(p), "list"),
        Gate::Public => published(scope.snap, p),
    }
}

fn file_ok(scope: &Scope<'_>, f: FileRef) -> bool {
    match scope.gate {
        Gate::Actor(a) => can(
            scope.snap,
            a,
            Target::File(f.parent, &file(scope.snap, f).filename),
            "list",
        ),
        Gate::Public => match f.parent {
            FileParent::Site => true,
            FileParent::Page(p) => published(scope.snap, p),
            FileParent::User(_) => false,
        },
    }
}

fn user_ok(scope: &Scope<'_>, u: UserIdx) -> bool {
    match scope.gate {
        Gate::Actor(a) => can(scope.snap, a, Target::User(u), "list"),
        Gate::Public => false,
    }
}

/// A pages collection of the pages the scope may see.
pub fn pages(scope: &Scope<'_>, list: impl IntoIterator<Item = PageIdx>) -> Val {
    let Gate::Actor(actor) = scope.gate else {
        return Val::Pages(list.into_iter().filter(|p| page_ok(scope, *p)).collect());
    };
    // `list` depends only on the actor and the page's blueprint (see
    // `permissions::can_list_page`), so a long list asks once per template.
    let snap = scope.snap;
    let mut by_template: Vec<(&str, bool)> = Vec::new();
    Val::Pages(
        list.into_iter()
            .filter(|p| {
                let template = snap.pages[*p].template.as_str();
                if let Some((_, ok)) = by_template.iter().find(|(t, _)| *t == template) {
                    return *ok;
                }
                let ok = crate::permissions::can_list_page(snap, actor, *p);
                by_template.push((template, ok));
                ok
            })
            .collect(),
    )
}

fn page_or_null(scope: &Scope<'_>, p: Option<PageIdx>) -> Val {
    match p {
        Some(p) if page_ok(scope, p) => Val::Page(p),
        _ => Val::Null,
    }
}

/// A model's files as Kirby's `files()` has them: in filename order (`sorted` applies `sort`).
fn files_of(scope: &Scope<'_>, parent: FileParent) -> Vec<FileRef> {
    let all = scope.snap.files_of(parent);
    let mut refs: Vec<FileRef> = (0..all.len())
        .map(|idx| FileRef { parent, idx })
        .filter(|f| file_ok(scope, *f))
        .collect();
    refs.sort_by(|a, b| all[a.idx].filename.cmp(&all[b.idx].filename));
    refs
}

fn file_or_null(scope: &Scope<'_>, f: Option<FileRef>) -> Val {
    match f {
        Some(f) if file_ok(scope, f) => Val::File(f),
        _ => Val::Null,
    }
}

fn user_or_null(scope: &Scope<'_>, u: Option<UserIdx>) -> Val {
    match u {
        Some(u) if user_ok(scope, u) => Val::User(u),
        _ => Val::Null,
    }
}

// ------------------------------------------------------------------------- lookups

/// A page by id (`a/b`) or UUID (`page://…`).
fn find_page(snap: &Snapshot, id: &str) -> Option<PageIdx> {
    let id = id.trim().trim_matches('/');
    if id.starts_with("page://") {
        return match snap.by_uuid(id) {
            Some(crate::snapshot::UuidTarget::Page(p)) => Some(*p),
            _ => None,
        };
    }
    snap.page_by_id(id)
}

/// A file by `page/id/filename`, `filename` (site), or UUID (`file://…`).
fn find_file(snap: &Snapshot, id: &str, base: Option<FileParent>) -> Option<FileRef> {
    let id = id.trim();
    if id.starts_with("file://") {
        return match snap.by_uuid(id) {
            Some(crate::snapshot::UuidTarget::File(parent, name)) => {
                let idx = snap
                    .files_of(*parent)
                    .iter()
                    .position(|f| &f.filename == name)?;
                Some(FileRef {
                    parent: *parent,
                    idx,
                })
            }
            _ => None,
        };
    }
    let (parent, name) = match (id.rfind('/'), base) {
        (Some(i), _) => (FileParent::Page(snap.page_by_id(&id[..i])?), &id[i + 1..]),
        (None, Some(b)) => (b, id),
        (None, None) => (FileParent::Site, id),
    };
    let idx = snap
        .files_of(parent)
        .iter()
        .position(|f| f.filename.eq_ignore_ascii_case(name))?;
    Some(FileRef { parent, idx })
}

fn find_user(snap: &Snapshot, key: &str) -> Option<UserIdx> {
    let key = key.trim();
    let key = key.strip_prefix("user://").unwrap_or(key);
    snap.user_by_key(key)
}

fn content_of(snap: &Snapshot, m: Model) -> &Content {
    match m {
        Model::Site => &snap.site.content,
        Model::Page(p) => &snap.pages[p].content,
        Model::File(f) => &file(snap, f).content,
        Model::User(u) => &snap.users[u].content,
    }
}

/// The content field `key` of a model (empty when it has none).
pub fn field(snap: &Snapshot, m: Model, key: &str) -> Val {
    let key = key.to_lowercase();
    let value = content_of(snap, m).get(&key).cloned();
    Val::Field(Arc::new(FieldVal {
        owner: Some(m),
        key,
        value,
    }))
}

fn str_field(owner: Option<Model>, key: &str, value: String) -> Val {
    Val::Field(Arc::new(FieldVal {
        owner,
        key: key.to_string(),
        value: Some(value),
    }))
}

fn url(scope: &Scope<'_>, m: Model) -> Val {
    match scope.host {
        Some(h) => Val::Str(h.url(m)),
        None => Val::Null,
    }
}

/// Whether the site's PHP page model for `template` defines a method `name` (then Folio
/// cannot answer it: the PHP code decides).
fn model_defines(snap: &Snapshot, template: &str, name: &str) -> bool {
    if snap.page_models.is_empty() {
        return false;
    }
    let Some(src) = snap.page_models.get(&template.to_lowercase()) else {
        return false;
    };
    let name = name.to_lowercase();
    src.contains(&format!("function {name}(")) || src.contains(&format!("function {name} ("))
}

// ------------------------------------------------------------------------- dispatch

/// A global function or entry (`site`, `kirby`, `page("id")`, `file("id")`, `user()`,
/// `users`).
pub(crate) fn global(scope: &Scope<'_>, name: &str, args: Vec<Val>, called: bool) -> R {
    let snap = scope.snap;
    match name {
        "kirby" => Ok(Val::Kirby),
        "site" => Ok(Val::Site),
        "page" if called => Ok(page_or_null(
            scope,
            arg_str(&args, 0).and_then(|id| find_page(snap, &id)),
        )),
        "file" if called => Ok(file_or_null(
            scope,
            arg_str(&args, 0).and_then(|id| find_file(snap, &id, None)),
        )),
        "user" if called => Ok(match arg_str(&args, 0) {
            Some(id) => user_or_null(scope, find_user(snap, &id)),
            None => scope.var("user").cloned().unwrap_or(Val::Null),
        }),
        "users" => Ok(Val::Users(
            (0..snap.users.len())
                .filter(|u| user_ok(scope, *u))
                .collect(),
        )),
        "collection" | "qr" | "t" => Err(not_available(name, "the query language")),
        _ => Err(unknown(name, "the query")),
    }
}

/// `target.name(args)`.
pub(crate) fn call(
    scope: &Scope<'_>,
    target: &Val,
    name: &str,
    args: Vec<Val>,
    locals: Locals<'_>,
) -> R {
    if let Some(r) = collection(scope, target, name, &args, locals) {
        return r;
    }
    match target {
        Val::Kirby => kirby(scope, name, &args),
        Val::Site => site(scope, name, &args),
        Val::Page(p) => page(scope, *p, name, &args),
        Val::File(f) => file_method(scope, *f, name, &args),
        Val::User(u) => user(scope, *u, name, &args),
        Val::Role(r) => role(scope, r, name),
        Val::Field(f) => field_method(scope, f, name, &args),
        Val::Content(m) => content(scope, *m, name, &args),
        Val::Permissions(m) => Ok(Val::Bool(model_can(scope, *m, name))),
        Val::Item(i) => Ok(super::items::method(i, name, &args)
            .unwrap_or_else(|| super::items::data_field(i.owner, &i.content(), name))),
        Val::Data(owner, data) => Ok(match name.to_lowercase().as_str() {
            "get" => match arg_str(&args, 0) {
                Some(k) => super::items::data_field(*owner, data, &k),
                None => super::kql::json_val(&serde_json::Value::Object((**data).clone())),
            },
            "data" | "toarray" | "fields" => {
                super::kql::json_val(&serde_json::Value::Object((**data).clone()))
            }
            _ => super::items::data_field(*owner, data, name),
        }),
        Val::Dimensions(w, h) => Ok(match name.to_lowercase().as_str() {
            "width" => Val::Int(i64::from(*w)),
            "height" => Val::Int(i64::from(*h)),
            "ratio" if *h > 0 => Val::Float(f64::from(*w) / f64::from(*h)),
            "ratio" => Val::Int(0),
            "orientation" => match (w, h) {
                (w, h) if w > h => Val::Str("landscape".into()),
                (w, h) if w < h => Val::Str("portrait".into()),
                (0, 0) => Val::Bool(false),
                _ => Val::Str("square".into()),
            },
            _ => return Err(unknown(name, "dimensions")),
        }),
        Val::Map(map) => Ok(map
            .get(name)
            .or_else(|| map.get(&name.to_lowercase()))
            .cloned()
            .unwrap_or(Val::Null)),
        other => Err(unknown(name, other.class())),
    }
}

fn kirby(scope: &Scope<'_>, name: &str, args: &[Val]) -> R {
    match name {
        "site" => Ok(Val::Site),
        "page" | "file" | "user" | "users" => global(scope, name, args.to_vec(), true),
        "roles" => Ok(Val::List(
            scope
                .snap
                .roles
                .keys()
                .map(|r| Val::Role(r.clone()))
                .collect(),
        )),
        "language" => Ok(match scope.snap.lang_code() {
            Some(c) => Val::Str(c.to_string()),
            None => Val::Null,
        }),
        "multilang" => Ok(Val::Bool(scope.snap.languages.is_multilang())),
        "url" => Ok(url(scope, Model::Site)),
        _ if not_evaluated(&name.to_lowercase())
            || matches!(name, "languages" | "system" | "api" | "auth" | "plugins") =>
        {
            Err(not_available(name, "kirby"))
        }
        _ => Err(unknown(name, "kirby")),
    }
}

fn model_files(scope: &Scope<'_>, parent: FileParent, name: &str, args: &[Val]) -> Option<R> {
    let list = || files_of(scope, parent);
    let kind = |k: &str| {
        Val::Files(
            list()
                .into_iter()
                .filter(|f| file(scope.snap, *f).kind() == Some(k))
                .collect(),
        )
    };
    Some(Ok(match name {
        "files" => Val::Files(list()),
        "images" => kind("image"),
        "documents" => kind("document"),
        "videos" => kind("video"),
        "audio" => kind("audio"),
        "code" => kind("code"),
        "archives" => kind("archive"),
        "hasfiles" => Val::Bool(!list().is_empty()),
        "hasimages" => Val::Bool(!matches!(kind("image"), Val::Files(v) if v.is_empty())),
        "hasdocuments" => Val::Bool(!matches!(kind("document"), Val::Files(v) if v.is_empty())),
        "hasvideos" => Val::Bool(!matches!(kind("video"), Val::Files(v) if v.is_empty())),
        "hasaudio" => Val::Bool(!matches!(kind("audio"), Val::Files(v) if v.is_empty())),
        "file" | "image" => {
            let all = if name == "image" {
                match kind("image") {
                    Val::Files(v) => v,
                    _ => Vec::new(),
                }
            } else {
                list()
            };
            match arg_str(args, 0) {
                None => all.first().map_or(Val::Null, |f| Val::File(*f)),
                Some(id) => file_or_null(
                    scope,
                    find_file(scope.snap, &id, Some(parent)).filter(|f| all.contains(f)),
                ),
            }
        }
        _ => return None,
    }))
}

fn index(scope: &Scope<'_>, roots: &[PageIdx], drafts_too: bool, out: &mut Vec<PageIdx>) {
    for &p in roots {
        out.push(p);
        let page = &scope.snap.pages[p];
        if drafts_too {
            let both: Vec<PageIdx> = page.children.iter().chain(&page.drafts).copied().collect();
            index(scope, &both, true, out);
        } else {
            index(scope, &page.children, false, out);
        }
    }
}

fn find_below(scope: &Scope<'_>, base: Option<PageIdx>, args: &[Val]) -> Val {
    let snap = scope.snap;
    let prefix = base.map(|p| format!("{}/", snap.pages[p].id));
    let mut found = Vec::new();
    let list: Vec<Val> = match args {
        [Val::List(l)] => l.clone(),
        other => other.to_vec(),
    };
    let many = list.len() != 1 || matches!(args, [Val::List(_)]);
    for a in &list {
        let id = scalar_text(a);
        let full = if id.starts_with("page://") {
            id.clone()
        } else {
            format!(
                "{}{}",
                prefix.as_deref().unwrap_or(""),
                id.trim_matches('/')
            )
        };
        if let Some(p) = find_page(snap, &full)
            .filter(|p| snap.pages[*p].status != Status::Draft && page_ok(scope, *p))
        {
            found.push(p);
        }
    }
    if !many {
        found.first().map_or(Val::Null, |p| Val::Page(*p))
    } else {
        Val::Pages(found)
    }
}

fn site(scope: &Scope<'_>, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    let lower = name.to_lowercase();
    if let Some(r) = model_files(scope, FileParent::Site, &lower, args) {
        return r;
    }
    Ok(match lower.as_str() {
        "title" => str_field(Some(Model::Site), "title", snap.site.title().to_string()),
        "url" => url(scope, Model::Site),
        "children" | "pages" => pages(scope, snap.site.children.iter().copied()),
        "drafts" => pages(scope, snap.site.drafts.iter().copied()),
        "childrenanddrafts" => pages(
            scope,
            snap.site.children.iter().chain(&snap.site.drafts).copied(),
        ),
        "haschildren" => Val::Bool(!snap.site.children.is_empty()),
        "hasdrafts" => Val::Bool(!snap.site.drafts.is_empty()),
        "index" => {
            let drafts = args.first().is_some_and(Val::truthy);
            let roots: Vec<PageIdx> = if drafts {
                snap.site
                    .children
                    .iter()
                    .chain(&snap.site.drafts)
                    .copied()
                    .collect()
            } else {
                snap.site.children.clone()
            };
            let mut out = Vec::new();
            index(scope, &roots, drafts, &mut out);
            pages(scope, out)
        }
        "find" | "page" if !args.is_empty() => find_below(scope, None, args),
        "page" => Val::Null,
        "homepage" => page_or_null(scope, snap.page_by_id(&snap.options.home)),
        "homepageid" => Val::Str(snap.options.home.clone()),
        "errorpageid" => Val::Str(snap.options.error.clone()),
        "breadcrumb" => pages(scope, snap.page_by_id(&snap.options.home)),
        "grandchildren" => pages(
            scope,
            snap.site
                .children
                .iter()
                .flat_map(|c| snap.pages[*c].children.iter().copied())
                .collect::<Vec<_>>(),
        ),
        "draft" => match arg_str(args, 0) {
            Some(id) => page_or_null(
                scope,
                find_page(snap, id.trim_matches('/'))
                    .filter(|q| snap.pages[*q].status == Status::Draft),
            ),
            None => Val::Null,
        },
        "findpageordraft" => match arg_str(args, 0) {
            Some(id) => page_or_null(scope, find_page(snap, id.trim_matches('/'))),
            None => Val::Null,
        },
        "errorpage" => page_or_null(scope, snap.page_by_id(&snap.options.error)),
        "content" => Val::Content(Model::Site),
        "site" => Val::Site,
        "kirby" => Val::Kirby,
        "uuid" => Val::Str("site://".into()),
        _ if not_evaluated(&lower) || lower == "modified" => {
            return Err(not_available(name, "site"));
        }
        _ => field(snap, Model::Site, name),
    })
}

fn siblings_of(snap: &Snapshot, p: PageIdx) -> &[PageIdx] {
    let page = &snap.pages[p];
    let (children, drafts) = match page.parent {
        Some(parent) => (&snap.pages[parent].children, &snap.pages[parent].drafts),
        None => (&snap.site.children, &snap.site.drafts),
    };
    if page.status == Status::Draft {
        drafts
    } else {
        children
    }
}

/// Whether the scope's actor may do `action` on a model (Kirby's `ModelPermissions`).
pub(crate) fn model_can(scope: &Scope<'_>, m: Model, action: &str) -> bool {
    let Gate::Actor(actor) = scope.gate else {
        return false;
    };
    can(scope.snap, actor, target_of(scope, m), action)
}

/// The permission target of a model.
pub(crate) fn target_of<'s>(scope: &Scope<'s>, m: Model) -> Target<'s> {
    match m {
        Model::Site => Target::Site,
        Model::Page(p) => Target::Page(p),
        Model::User(u) => Target::User(u),
        Model::File(f) => Target::File(f.parent, &file(scope.snap, f).filename),
    }
}

/// The siblings a query may see, in order.
fn sib_visible(scope: &Scope<'_>, sib: &[PageIdx]) -> Vec<PageIdx> {
    sib.iter().copied().filter(|q| page_ok(scope, *q)).collect()
}

fn page(scope: &Scope<'_>, p: PageIdx, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    let page = &snap.pages[p];
    let lower = name.to_lowercase();
    if let Some(r) = model_files(scope, FileParent::Page(p), &lower, args) {
        return r;
    }
    let sib = siblings_of(snap, p);
    let neighbour = |step: isize, listed_only: bool| -> Val {
        let Some(pos) = sib.iter().position(|x| *x == p) else {
            return Val::Null;
        };
        let mut i = pos as isize + step;
        while i >= 0 && (i as usize) < sib.len() {
            let q = sib[i as usize];
            if (!listed_only || snap.pages[q].num.is_some()) && page_ok(scope, q) {
                return Val::Page(q);
            }
            i += step;
        }
        Val::Null
    };
    Ok(match lower.as_str() {
        "id" => Val::Str(page.id.clone()),
        "slug" | "uid" => Val::Str(page.slug_in_language().to_string()),
        "title" => str_field(Some(Model::Page(p)), "title", page.title().to_string()),
        "num" => page.num.map_or(Val::Null, Val::Int),
        "status" => Val::Str(page.status.as_str().to_string()),
        "intendedtemplate" => Val::Str(page.template.clone()),
        // the template that renders the page: `default` when the site has none of its name
        "template" => Val::Str(if snap.templates.contains(&page.template.to_lowercase()) {
            page.template.clone()
        } else {
            "default".into()
        }),
        "uri" => Val::Str(page.id.clone()),
        "draft" | "findpageordraft" => match arg_str(args, 0) {
            Some(id) => {
                let full = if lower == "draft" || !id.contains('/') {
                    format!("{}/{}", page.id, id.trim_matches('/'))
                } else {
                    id.clone()
                };
                page_or_null(
                    scope,
                    find_page(snap, &full).filter(|q| {
                        lower == "findpageordraft" || snap.pages[*q].status == Status::Draft
                    }),
                )
            }
            None => Val::Null,
        },
        "grandchildren" => pages(
            scope,
            page.children
                .iter()
                .flat_map(|c| snap.pages[*c].children.iter().copied())
                .collect::<Vec<_>>(),
        ),
        "indexof" => match sib_visible(scope, sib).iter().position(|x| *x == p) {
            Some(i) => Val::Int(i as i64),
            None => Val::Bool(false),
        },
        "isfirst" => Val::Bool(sib_visible(scope, sib).first() == Some(&p)),
        "islast" => Val::Bool(sib_visible(scope, sib).last() == Some(&p)),
        "nextall" | "prevall" => {
            let list = sib_visible(scope, sib);
            let pos = list.iter().position(|x| *x == p);
            Val::Pages(match pos {
                Some(i) if lower == "nextall" => list[i + 1..].to_vec(),
                Some(i) => list[..i].to_vec(),
                None => Vec::new(),
            })
        }
        "parentmodel" => match page.parent {
            Some(q) => page_or_null(scope, Some(q)),
            None => Val::Site,
        },
        "parentid" => page
            .parent
            .map_or(Val::Null, |q| Val::Str(snap.pages[q].id.clone())),
        "url" => url(scope, Model::Page(p)),
        "uuid" => page
            .uuid()
            .map_or(Val::Null, |u| Val::Str(format!("page://{u}"))),
        "depth" => Val::Int(page.id.matches('/').count() as i64 + 1),
        "islisted" => Val::Bool(page.status == Status::Listed),
        "isunlisted" => Val::Bool(page.status == Status::Unlisted),
        "isdraft" => Val::Bool(page.status == Status::Draft),
        "ispublished" => Val::Bool(page.status != Status::Draft),
        "ishomepage" => Val::Bool(snap.is_home(p)),
        "iserrorpage" => Val::Bool(snap.is_error(p)),
        "ishomeorerrorpage" => Val::Bool(snap.is_home(p) || snap.is_error(p)),
        "haschildren" => Val::Bool(!page.children.is_empty()),
        "haslistedchildren" => {
            Val::Bool(page.children.iter().any(|c| snap.pages[*c].num.is_some()))
        }
        "hasunlistedchildren" => {
            Val::Bool(page.children.iter().any(|c| snap.pages[*c].num.is_none()))
        }
        "hasdrafts" => Val::Bool(!page.drafts.is_empty()),
        "children" => pages(scope, page.children.iter().copied()),
        "drafts" => pages(scope, page.drafts.iter().copied()),
        "childrenanddrafts" => pages(scope, page.children.iter().chain(&page.drafts).copied()),
        "index" => {
            let drafts = args.first().is_some_and(Val::truthy);
            let roots: Vec<PageIdx> = if drafts {
                page.children.iter().chain(&page.drafts).copied().collect()
            } else {
                page.children.clone()
            };
            let mut out = Vec::new();
            index(scope, &roots, drafts, &mut out);
            pages(scope, out)
        }
        "parent" => page_or_null(scope, page.parent),
        "parents" => {
            let mut out = Vec::new();
            let mut cur = page.parent;
            while let Some(q) = cur {
                out.push(q);
                cur = snap.pages[q].parent;
            }
            pages(scope, out)
        }
        "siblings" => {
            let with_self = args.first().is_none_or(Val::truthy);
            pages(scope, sib.iter().copied().filter(|q| with_self || *q != p))
        }
        "find" if !args.is_empty() => find_below(scope, Some(p), args),
        "next" => neighbour(1, false),
        "prev" => neighbour(-1, false),
        "nextlisted" => neighbour(1, true),
        "prevlisted" => neighbour(-1, true),
        "hasnext" => Val::Bool(!matches!(neighbour(1, false), Val::Null)),
        "hasprev" => Val::Bool(!matches!(neighbour(-1, false), Val::Null)),
        "content" => Val::Content(Model::Page(p)),
        "site" => Val::Site,
        "kirby" => Val::Kirby,
        "is" => Val::Bool(match args.first() {
            Some(Val::Page(q)) => *q == p,
            Some(v) => scalar_text(v) == page.id,
            None => false,
        }),
        _ if model_defines(snap, &page.template, name) => {
            return Err(not_available(
                name,
                "page (a method of the site's PHP page model)",
            ));
        }
        _ if not_evaluated(&lower) || lower == "modified" => {
            return Err(not_available(name, "page"));
        }
        _ => field(snap, Model::Page(p), name),
    })
}

fn file_method(scope: &Scope<'_>, f: FileRef, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    let fl = file(snap, f);
    let lower = name.to_lowercase();
    // neighbours go by filename, as Kirby's file siblings do
    let mut by_name = files_of(scope, f.parent);
    by_name.sort_by(|a, b| file(snap, *a).filename.cmp(&file(snap, *b).filename));
    let pos = by_name.iter().position(|x| *x == f);
    let neighbour = |step: isize| -> Val {
        pos.and_then(|i| usize::try_from(i as isize + step).ok())
            .and_then(|i| by_name.get(i))
            .map_or(Val::Null, |x| Val::File(*x))
    };
    Ok(match lower.as_str() {
        "id" => Val::Str(fl.id.clone()),
        "filename" => Val::Str(fl.filename.clone()),
        "name" => Val::Str(fl.name().to_string()),
        "extension" => Val::Str(fl.extension()),
        "type" => fl.kind().map_or(Val::Null, |k| Val::Str(k.to_string())),
        "mime" => Val::Str(fl.mime.clone()),
        "size" => Val::Int(fl.size as i64),
        "nicesize" => Val::Str(crate::media::nice_size(fl.size)),
        "url" => url(scope, Model::File(f)),
        "uuid" => fl
            .uuid()
            .map_or(Val::Null, |u| Val::Str(format!("file://{u}"))),
        "template" => fl.template().map_or(Val::Null, |t| Val::Str(t.to_string())),
        // Kirby reads no dimensions of a file that is not an image: `""`
        "width" => fl
            .dimensions
            .map_or(Val::Str(String::new()), |d| Val::Int(i64::from(d.0))),
        "height" => fl
            .dimensions
            .map_or(Val::Str(String::new()), |d| Val::Int(i64::from(d.1))),
        "issquare" | "isportrait" | "islandscape" => Val::Bool(match fl.dimensions {
            Some((w, h)) if lower == "issquare" => w == h,
            Some((w, h)) if lower == "isportrait" => w < h,
            Some((w, h)) => w > h,
            None => false,
        }),
        "isresizable" => Val::Bool(matches!(
            fl.extension().to_lowercase().as_str(),
            "jpg" | "jpeg" | "gif" | "png" | "webp" | "avif"
        )),
        "templatesiblings" => {
            let t = fl.template().map(str::to_string);
            Val::Files(
                files_of(scope, f.parent)
                    .into_iter()
                    .filter(|x| file(snap, *x).template().map(str::to_string) == t)
                    .collect(),
            )
        }
        "indexof" | "isfirst" | "islast" => {
            let list = files_of(scope, f.parent);
            let pos = list.iter().position(|x| *x == f);
            match lower.as_str() {
                "indexof" => pos.map_or(Val::Bool(false), |i| Val::Int(i as i64)),
                "isfirst" => Val::Bool(pos == Some(0)),
                _ => Val::Bool(pos.is_some_and(|i| i + 1 == list.len())),
            }
        }
        "orientation" => match fl.dimensions {
            Some((w, h)) if w > h => Val::Str("landscape".into()),
            Some((w, h)) if w < h => Val::Str("portrait".into()),
            Some(_) => Val::Str("square".into()),
            None => Val::Bool(false),
        },
        "modified" if args.is_empty() => Val::Int(fl.modified),
        "parent" | "page" | "model" => match f.parent {
            FileParent::Site => {
                if lower == "page" {
                    Val::Null
                } else {
                    Val::Site
                }
            }
            FileParent::Page(p) => page_or_null(scope, Some(p)),
            FileParent::User(u) => {
                if lower == "page" {
                    Val::Null
                } else {
                    user_or_null(scope, Some(u))
                }
            }
        },
        "siblings" => Val::Files(files_of(scope, f.parent)),
        "next" => neighbour(1),
        "prev" => neighbour(-1),
        "hasnext" => Val::Bool(!matches!(neighbour(1), Val::Null)),
        "hasprev" => Val::Bool(!matches!(neighbour(-1), Val::Null)),
        "content" => Val::Content(Model::File(f)),
        "site" => Val::Site,
        "kirby" => Val::Kirby,
        "dimensions" => {
            let (w, h) = fl.dimensions.unwrap_or((0, 0));
            Val::Dimensions(w, h)
        }
        "ratio" | "isviewable" => {
            return Err(not_available(name, "file"));
        }
        _ if not_evaluated(&lower) || lower == "modified" => {
            return Err(not_available(name, "file"));
        }
        _ => field(snap, Model::File(f), name),
    })
}

fn user(scope: &Scope<'_>, u: UserIdx, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    let us = &snap.users[u];
    let lower = name.to_lowercase();
    if let Some(r) = model_files(scope, FileParent::User(u), &lower, args) {
        return r;
    }
    Ok(match lower.as_str() {
        "id" => Val::Str(us.id.clone()),
        "email" => Val::Str(us.email.clone()),
        "name" => str_field(
            Some(Model::User(u)),
            "name",
            us.name.clone().unwrap_or_default(),
        ),
        "username" => Val::Str(us.username().to_string()),
        "role" => Val::Role(us.role.clone()),
        "isadmin" => Val::Bool(us.role == "admin"),
        "language" => Val::Str(us.language.clone()),
        "avatar" => {
            let idx = us.files.iter().position(|f| f.name() == "profile");
            file_or_null(
                scope,
                idx.map(|idx| FileRef {
                    parent: FileParent::User(u),
                    idx,
                }),
            )
        }
        "uuid" => Val::Str(format!("user://{}", us.id)),
        "content" => Val::Content(Model::User(u)),
        "site" => Val::Site,
        "kirby" => Val::Kirby,
        _ if not_evaluated(&lower) || lower == "modified" => {
            return Err(not_available(name, "user"));
        }
        _ => field(snap, Model::User(u), name),
    })
}

fn role(scope: &Scope<'_>, r: &str, name: &str) -> R {
    let role = scope.snap.role_named(r);
    Ok(match name.to_lowercase().as_str() {
        "name" | "id" => Val::Str(role.name.clone()),
        "title" => Val::Str(role.title.clone()),
        "description" => role.description.clone().map_or(Val::Null, Val::Str),
        "permissions" => return Err(not_available(name, "role")),
        _ => return Err(unknown(name, "role")),
    })
}

fn content(scope: &Scope<'_>, m: Model, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    Ok(match name.to_lowercase().as_str() {
        "get" => match arg_str(args, 0) {
            Some(k) => field(snap, m, &k),
            None => content_map(snap, m),
        },
        "has" => Val::Bool(
            arg_str(args, 0).is_some_and(|k| content_of(snap, m).contains_key(&k.to_lowercase())),
        ),
        "keys" => Val::List(
            content_of(snap, m)
                .keys()
                .map(|k| Val::Str(k.clone()))
                .collect(),
        ),
        "data" | "toarray" | "fields" => content_map(snap, m),
        _ => field(snap, m, name),
    })
}

fn content_map(snap: &Snapshot, m: Model) -> Val {
    Val::Map(
        content_of(snap, m)
            .keys()
            .map(|k| (k.clone(), field(snap, m, k)))
            .collect(),
    )
}

// ------------------------------------------------------------------------- fields

fn split(value: &str, sep: &str) -> Vec<String> {
    value
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The entries of a field that lists models: a YAML list (`- page://…`) or a comma list.
fn refs(value: &str) -> Vec<String> {
    let v = value.trim();
    if (v.starts_with('-') || v.starts_with('['))
        && let Ok(serde_json::Value::Array(items)) = crate::format::yaml::parse(v)
    {
        {
            return items
                .into_iter()
                .filter_map(|i| match i {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect();
        }
    }
    split(v, ",")
}

fn json_to_val(owner: Option<Model>, key: &str, v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Object(map) => Val::Map(
            map.iter()
                .map(|(k, v)| (k.to_lowercase(), json_to_val(owner, k, v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            Val::List(items.iter().map(|i| json_to_val(owner, key, i)).collect())
        }
        serde_json::Value::Null => Val::Field(Arc::new(FieldVal {
            owner,
            key: key.to_lowercase(),
            value: None,
        })),
        serde_json::Value::String(s) => str_field(owner, &key.to_lowercase(), s.clone()),
        other => str_field(owner, &key.to_lowercase(), other.to_string()),
    }
}

fn php_bool(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "1" | "true" | "on" | "yes"
    )
}

fn field_method(scope: &Scope<'_>, f: &Arc<FieldVal>, name: &str, args: &[Val]) -> R {
    let snap = scope.snap;
    let value = f.value.clone().unwrap_or_default();
    let same = |v: String| str_field(f.owner, &f.key, v);
    let base = f.owner.map(|o| match o {
        Model::Page(p) => FileParent::Page(p),
        Model::Site => FileParent::Site,
        Model::User(u) => FileParent::User(u),
        Model::File(r) => r.parent,
    });
    let lower = name.to_lowercase();
    Ok(match lower.as_str() {
        "value" | "tostring" => Val::Str(value),
        "key" => Val::Str(f.key.clone()),
        "exists" => Val::Bool(f.value.is_some()),
        "isempty" | "empty" => Val::Bool(value.trim().is_empty()),
        "isnotempty" => Val::Bool(!value.trim().is_empty()),
        "istrue" => Val::Bool(php_bool(&value)),
        "isfalse" => Val::Bool(!php_bool(&value)),
        "tobool" | "bool" => Val::Bool(if value.trim().is_empty() {
            args.first().is_some_and(Val::truthy)
        } else {
            php_bool(&value)
        }),
        "toint" | "int" => Val::Int(
            value
                .trim()
                .parse::<f64>()
                .map_or_else(|_| arg_int(args, 0).unwrap_or(0), |n| n as i64),
        ),
        "tofloat" | "float" => Val::Float(value.trim().parse().unwrap_or(0.0)),
        "upper" => same(value.to_uppercase()),
        "lower" => same(value.to_lowercase()),
        "length" => Val::Int(value.chars().count() as i64),
        "words" => Val::Int(php_word_count(&strip_tags(&value))),
        "split" => Val::List(
            split(&value, &arg_str(args, 0).unwrap_or_else(|| ",".into()))
                .into_iter()
                .map(Val::Str)
                .collect(),
        ),
        "or" => {
            if value.trim().is_empty() {
                args.first().cloned().unwrap_or(Val::Null)
            } else {
                Val::Field(f.clone())
            }
        }
        "slug" => same(crate::format::txt::slug(&value, 255)),
        "excerpt" => {
            let n = arg_int(args, 0).unwrap_or(140);
            let html = crate::kirbytext::markdown_shared(
                &value,
                crate::kirbytext::MdOptions { allow_html: true },
            );
            let rep = arg_str(args, 2).unwrap_or_else(|| " …".into());
            same(excerpt(&html, n, &rep))
        }
        "short" => {
            let n = arg_int(args, 0).unwrap_or(0);
            let text = value.clone();
            if n <= 0 || text.chars().count() as i64 <= n {
                same(text)
            } else {
                let rep = arg_str(args, 1).unwrap_or_else(|| "…".into());
                let cut: String = text.chars().take(n as usize).collect();
                same(format!("{}{rep}", cut.trim_end()))
            }
        }
        "escape" | "esc" | "html" | "h" => same(super::escape_html(&value)),
        "nl2br" => same(value.replace('\n', "<br />\n")),
        "inline" => same(strip_tags(&value)),
        "kirbytext" | "kt" | "markdown" | "md" | "kirbytextinline" | "kti" => {
            let opts = crate::kirbytext::MdOptions::default();
            let html = crate::kirbytext::markdown(&value, opts);
            if lower.ends_with('i') || lower == "kirbytextinline" {
                let t = html.trim();
                let t = t.strip_prefix("<p>").unwrap_or(t);
                same(t.strip_suffix("</p>").unwrap_or(t).to_string())
            } else {
                same(html.trim_end_matches('\n').to_string())
            }
        }
        "totimestamp" => match scope.host.and_then(|h| h.to_date(&value, None)) {
            Some(v) => v,
            None => Val::Bool(false),
        },
        "widont" => {
            let t = value.trim_end();
            same(match t.rfind(' ') {
                Some(i) => format!("{}&nbsp;{}", &t[..i], &t[i + 1..]),
                None => t.to_string(),
            })
        }
        "yaml" | "todata" | "tostructure" | "toobject" => {
            let parsed = crate::format::yaml::parse(&value).unwrap_or(serde_json::Value::Null);
            match (lower.as_str(), parsed) {
                ("toobject", serde_json::Value::Object(_)) | ("yaml" | "todata", _) => json_to_val(
                    f.owner,
                    &f.key,
                    &crate::format::yaml::parse(&value).unwrap_or_default(),
                ),
                ("tostructure", serde_json::Value::Array(items)) => Val::List(
                    items
                        .iter()
                        .map(|i| json_to_val(f.owner, &f.key, i))
                        .collect(),
                ),
                ("toobject", _) => Val::Map(IndexMap::new()),
                _ => Val::List(Vec::new()),
            }
        }
        "topages" | "topage" => {
            let found: Vec<PageIdx> = refs(&value)
                .iter()
                .filter_map(|r| find_page(snap, r))
                .collect();
            let list = match pages(scope, found) {
                Val::Pages(v) => v,
                _ => Vec::new(),
            };
            if lower == "topage" {
                list.first().map_or(Val::Null, |p| Val::Page(*p))
            } else {
                Val::Pages(list)
            }
        }
        "tofiles" | "tofile" => {
            let list: Vec<FileRef> = refs(&value)
                .iter()
                .filter_map(|r| find_file(snap, r, base))
                .filter(|x| file_ok(scope, *x))
                .collect();
            if lower == "tofile" {
                list.first().map_or(Val::Null, |x| Val::File(*x))
            } else {
                Val::Files(list)
            }
        }
        "tousers" | "touser" => {
            let list: Vec<UserIdx> = refs(&value)
                .iter()
                .filter_map(|r| find_user(snap, r))
                .filter(|u| user_ok(scope, *u))
                .collect();
            if lower == "touser" {
                list.first().map_or(Val::Null, |u| Val::User(*u))
            } else {
                Val::Users(list)
            }
        }
        "tourl" => {
            if value.trim().is_empty() {
                Val::Null
            } else {
                Val::Str(value)
            }
        }
        "model" | "parent" => f.owner.map_or(Val::Null, Val::from),
        "todate" => match scope
            .host
            .and_then(|h| h.to_date(&value, arg_str(args, 0).as_deref()))
        {
            Some(v) => v,
            None if value.trim().is_empty() => Val::Null,
            None => return Err(not_available(name, "field")),
        },
        _ if not_evaluated(&lower) => {
            return Err(not_available(name, "field"));
        }
        _ => return Err(unknown(name, "field")),
    })
}

/// PHP's `str_word_count`: runs of letters, `'` and `-`.
fn php_word_count(text: &str) -> i64 {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        let part = c.is_alphabetic() || c == '\'' || c == '-';
        if part && !in_word {
            n += 1;
        }
        in_word = part;
    }
    n
}

/// Kirby's `Str::excerpt`: tags stripped, whitespace collapsed, cut at the last space
/// before `chars`, then ` …`.
fn excerpt(html: &str, chars: i64, rep: &str) -> String {
    // one pass: tags out (each `<` counts as a space), whitespace runs as one space, and
    // no further than the first `chars + 1` characters
    let limit = usize::try_from(chars).unwrap_or(0);
    let mut out = String::with_capacity(limit.min(html.len()) + 8);
    let (mut count, mut in_tag, mut space) = (0usize, false, false);
    let mut more = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                space = true;
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_whitespace() => space = true,
            c => {
                if limit > 0 && count >= limit {
                    more = true;
                    break;
                }
                if space && count > 0 {
                    if limit > 0 && count + 1 >= limit {
                        // the space would be the last character kept
                        more = true;
                        out.push(' ');
                        break;
                    }
                    out.push(' ');
                    count += 1;
                }
                space = false;
                out.push(c);
                count += 1;
            }
        }
    }
    if !more {
        return out.trim_end().to_string();
    }
    let cut = match out.rfind(' ') {
        Some(i) => &out[..i],
        None => "",
    };
    format!("{cut}{rep}")
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------------------- collections

#[derive(Clone, Copy)]
enum Kind {
    Pages,
    Files,
    Users,
    List,
    Items(super::ItemKind),
}

fn items(v: &Val) -> Option<(Kind, Vec<Val>)> {
    Some(match v {
        Val::Pages(l) => (Kind::Pages, l.iter().map(|p| Val::Page(*p)).collect()),
        Val::Files(l) => (Kind::Files, l.iter().map(|f| Val::File(*f)).collect()),
        Val::Users(l) => (Kind::Users, l.iter().map(|u| Val::User(*u)).collect()),
        Val::List(l) => (Kind::List, l.clone()),
        Val::Items(k, l) => (
            Kind::Items(*k),
            l.iter().map(|i| Val::Item(i.clone())).collect(),
        ),
        _ => return None,
    })
}

fn rebuild(kind: Kind, items: Vec<Val>) -> Val {
    match kind {
        Kind::Pages => Val::Pages(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Val::Page(p) => Some(p),
                    _ => None,
                })
                .collect(),
        ),
        Kind::Files => Val::Files(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Val::File(f) => Some(f),
                    _ => None,
                })
                .collect(),
        ),
        Kind::Users => Val::Users(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Val::User(u) => Some(u),
                    _ => None,
                })
                .collect(),
        ),
        Kind::List => Val::List(items),
        Kind::Items(k) => Val::Items(
            k,
            items
                .into_iter()
                .filter_map(|v| match v {
                    Val::Item(i) => Some(i),
                    _ => None,
                })
                .collect(),
        ),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pages => "pages",
        Kind::Files => "files",
        Kind::Users => "users",
        Kind::List => "collection",
        Kind::Items(k) => k.collection_alias(),
    }
}

/// The (lowercase) names [`page`] and [`model_files`] answer themselves; any other name of a
/// page is a content field (unless Folio refuses it or a page model defines it).
const PAGE_METHODS: &[&str] = &[
    "archives",
    "audio",
    "children",
    "childrenanddrafts",
    "code",
    "content",
    "depth",
    "documents",
    "drafts",
    "file",
    "files",
    "find",
    "hasaudio",
    "haschildren",
    "hasdocuments",
    "hasdrafts",
    "hasfiles",
    "hasimages",
    "haslistedchildren",
    "hasnext",
    "hasprev",
    "hasunlistedchildren",
    "hasvideos",
    "id",
    "image",
    "images",
    "index",
    "intendedtemplate",
    "is",
    "isdraft",
    "iserrorpage",
    "ishomeorerrorpage",
    "ishomepage",
    "islisted",
    "ispublished",
    "isunlisted",
    "kirby",
    "next",
    "nextlisted",
    "num",
    "parent",
    "parents",
    "prev",
    "prevlisted",
    "siblings",
    "site",
    "slug",
    "status",
    "template",
    "title",
    "uid",
    "url",
    "uuid",
    "videos",
];

/// How a collection method reads an item's attribute, the method (or content field) `name`,
/// for many items: the name's checks made once,
/// and a page's content field read without the method dispatch, from the snapshot's column
/// of that field when the list is a large part of the site.
struct Attr {
    name: String,
    lower: String,
    /// Not a page method: on a page whose model does not define it, a content field.
    content: bool,
    column: Option<Arc<crate::columns::Column>>,
}

impl Attr {
    /// The reader of `name` for a list of `len` items.
    fn new(scope: &Scope<'_>, name: &str, len: usize) -> Attr {
        let lower = name.to_lowercase();
        let content = PAGE_METHODS.binary_search(&lower.as_str()).is_err()
            && !not_evaluated(&lower)
            && lower != "modified";
        // a column costs one pass over every page: worth it for a list of a quarter of them
        let column = (content && len >= 64 && len * 4 >= scope.snap.pages.len())
            .then(|| scope.snap.column(&lower))
            .flatten();
        Attr {
            name: name.to_string(),
            lower,
            content,
            column,
        }
    }

    /// Page `p`'s content field when the attribute is one (`Some(None)`: the page lacks it).
    fn page_text<'a>(&'a self, snap: &'a Snapshot, p: PageIdx) -> Option<Option<&'a str>> {
        if !self.content || model_defines(snap, &snap.pages[p].template, &self.lower) {
            return None;
        }
        Some(match &self.column {
            Some(c) => c.get(p),
            None => snap.pages[p].content.get(&self.lower).map(String::as_str),
        })
    }

    fn value(&self, scope: &Scope<'_>, item: &Val, locals: Locals<'_>) -> Val {
        if let Val::Page(p) = item
            && let Some(text) = self.page_text(scope.snap, *p)
        {
            return text.map_or(Val::Null, |t| Val::Str(t.to_string()));
        }
        match call(scope, item, &self.name, Vec::new(), locals) {
            Ok(v) => scalar(&v),
            Err(_) => Val::Null,
        }
    }

    /// The attribute's text in lower case, as sorting compares it.
    fn sort_key(&self, scope: &Scope<'_>, item: &Val, locals: Locals<'_>) -> String {
        if let Val::Page(p) = item
            && let Some(text) = self.page_text(scope.snap, *p)
        {
            return text.unwrap_or("").to_lowercase();
        }
        scalar_text(&self.value(scope, item, locals)).to_lowercase()
    }
}

fn id_of(scope: &Scope<'_>, item: &Val) -> String {
    match item {
        Val::Page(p) => scope.snap.pages[*p].id.clone(),
        Val::File(f) => file(scope.snap, *f).id.clone(),
        Val::User(u) => scope.snap.users[*u].id.clone(),
        other => scalar_text(other),
    }
}

fn matches_id(scope: &Scope<'_>, item: &Val, key: &str) -> bool {
    match item {
        Val::Page(p) => {
            let page = &scope.snap.pages[*p];
            page.id == key || page.uuid().is_some_and(|u| format!("page://{u}") == key)
        }
        Val::File(f) => {
            let fl = file(scope.snap, *f);
            fl.id == key
                || fl.filename.eq_ignore_ascii_case(key)
                || fl.uuid().is_some_and(|u| format!("file://{u}") == key)
        }
        Val::User(u) => {
            let us = &scope.snap.users[*u];
            us.id == key || us.email.eq_ignore_ascii_case(key) || format!("user://{}", us.id) == key
        }
        other => scalar_text(other) == key,
    }
}

const OPERATORS: &[&str] = &[
    "==",
    "!=",
    "in",
    "not in",
    "*=",
    "!*=",
    ">",
    ">=",
    "<",
    "<=",
    "$=",
    "!$=",
    "^=",
    "!^=",
    "between",
    "..",
    "maxlength",
    "minlength",
    "maxwords",
    "minwords",
];

/// PHP's loose `==` of two texts: equal, or both the same number.
fn texts_equal(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (a.trim().parse::<f64>(), b.trim().parse::<f64>()),
            (Ok(x), Ok(y)) if x == y && !a.trim().is_empty()
        )
}

fn test(op: &str, value: &Val, want: &Val) -> bool {
    // the common case, a text field against a text: PHP's loose `==` without copies
    if let ("==" | "!=", Val::Str(a), Val::Str(b)) = (op, value, want) {
        return texts_equal(a, b) == (op == "==");
    }
    let text = scalar_text(value);
    let want_text = scalar_text(want);
    let list = |v: &Val| -> Vec<String> {
        match v {
            Val::List(items) => items.iter().map(scalar_text).collect(),
            other => vec![scalar_text(other)],
        }
    };
    match op {
        "==" => loose_cmp(value, want) == Ordering::Equal,
        "!=" => loose_cmp(value, want) != Ordering::Equal,
        "in" => list(want).contains(&text),
        "not in" => !list(want).contains(&text),
        "*=" => text.contains(&want_text),
        "!*=" => !text.contains(&want_text),
        "$=" => text.ends_with(&want_text),
        "!$=" => !text.ends_with(&want_text),
        "^=" => text.starts_with(&want_text),
        "!^=" => !text.starts_with(&want_text),
        ">" => loose_cmp(value, want) == Ordering::Greater,
        ">=" => loose_cmp(value, want) != Ordering::Less,
        "<" => loose_cmp(value, want) == Ordering::Less,
        "<=" => loose_cmp(value, want) != Ordering::Greater,
        "between" | ".." => {
            let bounds = list(want);
            bounds.len() == 2
                && loose_cmp(value, &Val::Str(bounds[0].clone())) != Ordering::Less
                && loose_cmp(value, &Val::Str(bounds[1].clone())) != Ordering::Greater
        }
        "maxlength" => text.chars().count() as f64 <= number(want),
        "minlength" => text.chars().count() as f64 >= number(want),
        "maxwords" => text.split_whitespace().count() as f64 <= number(want),
        "minwords" => text.split_whitespace().count() as f64 >= number(want),
        _ => false,
    }
}

fn collection(
    scope: &Scope<'_>,
    target: &Val,
    name: &str,
    args: &[Val],
    locals: Locals<'_>,
) -> Option<R> {
    let (kind, list) = items(target)?;
    let lower = name.to_lowercase();
    let one = |v: Option<&Val>| v.cloned().unwrap_or(Val::Null);
    let r: Result<Option<Val>, QueryError> = (|| {
        let list = list.clone();
        Ok(Some(match lower.as_str() {
            "count" => Val::Int(list.len() as i64),
            "isempty" => Val::Bool(list.is_empty()),
            "isnotempty" => Val::Bool(!list.is_empty()),
            "first" => one(list.first()),
            "last" => one(list.last()),
            "nth" => one(usize::try_from(arg_int(args, 0).unwrap_or(-1))
                .ok()
                .and_then(|i| list.get(i))),
            "limit" => {
                let n = usize::try_from(arg_int(args, 0).unwrap_or(0)).unwrap_or(0);
                rebuild(kind, list.into_iter().take(n).collect())
            }
            "offset" => {
                let n = usize::try_from(arg_int(args, 0).unwrap_or(0)).unwrap_or(0);
                rebuild(kind, list.into_iter().skip(n).collect())
            }
            "slice" => {
                let off = usize::try_from(arg_int(args, 0).unwrap_or(0)).unwrap_or(0);
                let it = list.into_iter().skip(off);
                match arg_int(args, 1) {
                    Some(n) => rebuild(kind, it.take(usize::try_from(n).unwrap_or(0)).collect()),
                    None => rebuild(kind, it.collect()),
                }
            }
            "flip" => rebuild(kind, list.into_iter().rev().collect()),
            "keys" | "ids" => Val::List(list.iter().map(|i| Val::Str(id_of(scope, i))).collect()),
            "not" | "without" => {
                let drop: Vec<String> = args
                    .iter()
                    .flat_map(|a| match a {
                        Val::List(l) => l.iter().map(|x| id_of(scope, x)).collect::<Vec<_>>(),
                        Val::Pages(_) | Val::Files(_) | Val::Users(_) => items(a)
                            .map(|(_, l)| l.iter().map(|x| id_of(scope, x)).collect())
                            .unwrap_or_default(),
                        other => vec![id_of(scope, other)],
                    })
                    .collect();
                rebuild(
                    kind,
                    list.into_iter()
                        .filter(|i| !drop.iter().any(|d| matches_id(scope, i, d)))
                        .collect(),
                )
            }
            "has" => Val::Bool(args.first().is_some_and(|a| {
                let key = id_of(scope, a);
                list.iter().any(|i| matches_id(scope, i, &key))
            })),
            "indexof" => args
                .first()
                .and_then(|a| {
                    let key = id_of(scope, a);
                    list.iter().position(|i| matches_id(scope, i, &key))
                })
                .map_or(Val::Bool(false), |i| Val::Int(i as i64)),
            "find" => {
                let keys: Vec<String> = args.iter().map(scalar_text).collect();
                let found: Vec<Val> = keys
                    .iter()
                    .filter_map(|k| {
                        let k = k.trim_matches('/');
                        list.iter()
                            .find(|i| {
                                matches_id(scope, i, k)
                                    || matches!(i, Val::Page(p) if scope.snap.pages[*p].slug == k)
                            })
                            .cloned()
                    })
                    .collect();
                if keys.len() == 1 {
                    one(found.first())
                } else {
                    rebuild(kind, found)
                }
            }
            "findby" => {
                let field = arg_str(args, 0).unwrap_or_default();
                let want = args.get(1).cloned().unwrap_or(Val::Null);
                let reader = Attr::new(scope, &field, list.len());
                one(list
                    .iter()
                    .find(|i| test("==", &reader.value(scope, i, locals), &want)))
            }
            "filterby" | "filter" => {
                if let Some(Val::Closure(c)) = args.first() {
                    let mut kept = Vec::new();
                    for i in list {
                        if call_closure(scope, c, vec![i.clone()], locals)?.truthy() {
                            kept.push(i);
                        }
                    }
                    return Ok(Some(rebuild(kind, kept)));
                }
                let field = arg_str(args, 0)
                    .ok_or_else(|| QueryError::Argument("filterBy needs a field name".into()))?;
                let (op, want, sep) = match args.get(1).map(scalar) {
                    Some(Val::Str(s)) if args.len() >= 3 && OPERATORS.contains(&s.as_str()) => (
                        s,
                        args.get(2).cloned().unwrap_or(Val::Null),
                        arg_str(args, 3),
                    ),
                    _ => (
                        "==".to_string(),
                        args.get(1).cloned().unwrap_or(Val::Null),
                        arg_str(args, 2),
                    ),
                };
                let reader = Attr::new(scope, &field, list.len());
                let kept = list
                    .into_iter()
                    .filter(|i| {
                        // the common case, a page's text field against a text, without copies
                        if let (Val::Page(p), None, "==" | "!=", Val::Str(w)) =
                            (i, &sep, op.as_str(), &want)
                            && let Some(Some(text)) = reader.page_text(scope.snap, *p)
                        {
                            return texts_equal(text, w) == (op == "==");
                        }
                        let v = reader.value(scope, i, locals);
                        match &sep {
                            Some(sep) => {
                                let parts = split(&scalar_text(&v), sep);
                                let negative = op.starts_with('!') || op == "not in";
                                if negative {
                                    parts.iter().all(|p| test(&op, &Val::Str(p.clone()), &want))
                                } else {
                                    parts.iter().any(|p| test(&op, &Val::Str(p.clone()), &want))
                                }
                            }
                            None => test(&op, &v, &want),
                        }
                    })
                    .collect();
                rebuild(kind, kept)
            }
            "sortby" | "sort" => {
                // each key's text once, in lower case, not once per comparison
                let mut keys: Vec<(Vec<String>, bool)> = Vec::new();
                for a in args {
                    let s = match a {
                        Val::Closure(c) => {
                            let mut texts = Vec::new();
                            for i in &list {
                                let v = call_closure(scope, c, vec![i.clone()], locals)?;
                                texts.push(scalar_text(&scalar(&v)).to_lowercase());
                            }
                            keys.push((texts, false));
                            continue;
                        }
                        other => scalar_text(other),
                    };
                    match s.to_lowercase().as_str() {
                        "asc" => {
                            if let Some(k) = keys.last_mut() {
                                k.1 = false;
                            }
                        }
                        "desc" => {
                            if let Some(k) = keys.last_mut() {
                                k.1 = true;
                            }
                        }
                        _ => {
                            let reader = Attr::new(scope, &s, list.len());
                            let texts = list
                                .iter()
                                .map(|i| reader.sort_key(scope, i, locals))
                                .collect();
                            keys.push((texts, false));
                        }
                    }
                }
                let mut order: Vec<usize> = (0..list.len()).collect();
                order.sort_by(|a, b| {
                    for (texts, desc) in &keys {
                        let c = natsort::cmp(&texts[*a], &texts[*b]);
                        let c = if *desc { c.reverse() } else { c };
                        if c != Ordering::Equal {
                            return c;
                        }
                    }
                    Ordering::Equal
                });
                rebuild(kind, order.into_iter().map(|i| list[i].clone()).collect())
            }
            "pluck" => {
                let field = arg_str(args, 0).unwrap_or_default();
                let sep = arg_str(args, 1);
                let unique = args.get(2).is_some_and(Val::truthy);
                let reader = Attr::new(scope, &field, list.len());
                let mut out: Vec<Val> = Vec::new();
                for i in &list {
                    let v = reader.value(scope, i, locals);
                    match &sep {
                        Some(sep) => {
                            out.extend(split(&scalar_text(&v), sep).into_iter().map(Val::Str))
                        }
                        None => out.push(v),
                    }
                }
                if unique {
                    let mut seen = Vec::new();
                    out.retain(|v| {
                        let t = scalar_text(v);
                        if seen.contains(&t) {
                            false
                        } else {
                            seen.push(t);
                            true
                        }
                    });
                }
                Val::List(out)
            }
            "map" => {
                let Some(Val::Closure(c)) = args.first() else {
                    return Err(QueryError::Argument("map needs a closure".into()));
                };
                let mut out = Vec::new();
                for i in list {
                    out.push(call_closure(scope, c, vec![i], locals)?);
                }
                Val::List(out)
            }
            _ => return Ok(None),
        }))
    })();
    match r {
        Ok(None) => {}
        Ok(Some(v)) => return Some(Ok(v)),
        Err(e) => return Some(Err(e)),
    }
    // kind-specific methods
    let snap = scope.snap;
    Some(Ok(match (kind, lower.as_str()) {
        (Kind::Pages, "listed") => rebuild(
            kind,
            list.into_iter()
                .filter(|v| matches!(v, Val::Page(p) if snap.pages[*p].status == Status::Listed))
                .collect(),
        ),
        (Kind::Pages, "unlisted") => rebuild(
            kind,
            list.into_iter()
                .filter(|v| matches!(v, Val::Page(p) if snap.pages[*p].status == Status::Unlisted))
                .collect(),
        ),
        (Kind::Pages, "published") => rebuild(
            kind,
            list.into_iter()
                .filter(|v| matches!(v, Val::Page(p) if snap.pages[*p].status != Status::Draft))
                .collect(),
        ),
        (Kind::Pages, "drafts") => {
            let mut out = Vec::new();
            for v in &list {
                if let Val::Page(p) = v {
                    out.extend(snap.pages[*p].drafts.iter().copied());
                }
            }
            pages(scope, out)
        }
        (Kind::Pages, "children") => {
            let mut out = Vec::new();
            for v in &list {
                if let Val::Page(p) = v {
                    out.extend(snap.pages[*p].children.iter().copied());
                }
            }
            pages(scope, out)
        }
        (Kind::Pages, "index") => {
            let roots: Vec<PageIdx> = list
                .iter()
                .filter_map(|v| match v {
                    Val::Page(p) => Some(*p),
                    _ => None,
                })
                .collect();
            let mut out = Vec::new();
            index(scope, &roots, false, &mut out);
            pages(scope, out)
        }
        (Kind::Pages, "template" | "templates") => {
            let names: Vec<String> = args
                .iter()
                .flat_map(|a| match a {
                    Val::List(l) => l.iter().map(scalar_text).collect::<Vec<_>>(),
                    other => vec![scalar_text(other)],
                })
                .collect();
            rebuild(
                kind,
                list.into_iter()
                    .filter(
                        |v| matches!(v, Val::Page(p) if names.contains(&snap.pages[*p].template)),
                    )
                    .collect(),
            )
        }
        (Kind::Pages, "files" | "images" | "documents" | "videos" | "audio" | "code") => {
            let mut out = Vec::new();
            for v in &list {
                if let Val::Page(p) = v
                    && let Some(Ok(Val::Files(fs))) =
                        model_files(scope, FileParent::Page(*p), &lower, &[])
                {
                    out.extend(fs);
                }
            }
            Val::Files(out)
        }
        (Kind::Pages, "search") => {
            let ids: Vec<PageIdx> = list
                .iter()
                .filter_map(|v| match v {
                    Val::Page(p) => Some(*p),
                    _ => None,
                })
                .collect();
            Val::Pages(crate::collections::search_pages(
                snap,
                ids,
                &arg_str(args, 0).unwrap_or_default(),
            ))
        }
        (Kind::Files, "template") => {
            let want = arg_str(args, 0);
            rebuild(kind, list.into_iter().filter(|v| matches!(v, Val::File(f) if file(snap, *f).template().map(str::to_string) == want)).collect())
        }
        (Kind::Files, "images" | "documents" | "videos" | "audio" | "code" | "archives") => {
            let k = match lower.as_str() {
                "images" => "image",
                "documents" => "document",
                "videos" => "video",
                "archives" => "archive",
                other => other,
            };
            rebuild(
                kind,
                list.into_iter()
                    .filter(|v| matches!(v, Val::File(f) if file(snap, *f).kind() == Some(k)))
                    .collect(),
            )
        }
        (Kind::Files, "sorted") => {
            let mut fs: Vec<FileRef> = list
                .iter()
                .filter_map(|v| match v {
                    Val::File(f) => Some(*f),
                    _ => None,
                })
                .collect();
            fs.sort_by(|a, b| {
                let sa = file(snap, *a)
                    .content
                    .get("sort")
                    .and_then(|s| s.trim().parse::<i64>().ok());
                let sb = file(snap, *b)
                    .content
                    .get("sort")
                    .and_then(|s| s.trim().parse::<i64>().ok());
                sa.unwrap_or(i64::MAX)
                    .cmp(&sb.unwrap_or(i64::MAX))
                    .then_with(|| natsort::cmp(&file(snap, *a).filename, &file(snap, *b).filename))
            });
            Val::Files(fs)
        }
        (Kind::Users, "role") => {
            let want = arg_str(args, 0).unwrap_or_default();
            rebuild(
                kind,
                list.into_iter()
                    .filter(|v| matches!(v, Val::User(u) if snap.users[*u].role == want))
                    .collect(),
            )
        }
        _ if not_evaluated(&lower) => {
            return Some(Err(not_available(name, kind_name(kind))));
        }
        _ => return Some(Err(unknown(name, kind_name(kind)))),
    }))
}
