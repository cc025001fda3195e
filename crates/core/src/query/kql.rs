//! KQL, the `getkirby/kql` plugin's `/api/query`: runs a request's `query`, `select`,
//! `pagination` and `queries` through the one query language, with KQL's rules on top:
//!
//! * each class answers only the methods on KQL's allowlist for it (exact, case-sensitive
//!   names), widened by `kql.methods.allowed` and narrowed by `kql.methods.blocked`;
//! * on a model, a name that is not a PHP method of the class is a content field; a PHP
//!   method that is not allowed is a 403;
//! * a class without an interceptor is refused unless `kql.classes.allowed` names it, and
//!   `kql.classes.blocked` refuses any class;
//! * results render as KQL renders them (each class's default `toArray` list, collections
//!   as their keys, fields as text).
//!
//! Beyond KQL, every page, file and user a query yields passes the scope's
//! [`Gate`](super::Gate), as in the rest of the API.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};

use super::eval::{Locals, scalar_text};
use super::items::{self, ItemKind};
use super::{FileRef, Model, QueryError, Scope, Val, methods, php_methods};
use crate::model::UserIdx;

type R<T = Val> = Result<T, QueryError>;

/// The Kirby version whose KQL Folio answers like.
const KIRBY_VERSION: &str = "5.5.2";

/// KQL's configuration: `kql.methods.{allowed,blocked}` (`Class::method`) and
/// `kql.classes.{allowed,blocked}`, compared without case as KQL does.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    methods_allowed: Arc<[String]>,
    methods_blocked: Arc<[String]>,
    classes_allowed: Arc<[String]>,
    classes_blocked: Arc<[String]>,
    /// The user the request authenticated as (`kirby.user`, `user`).
    pub current_user: Option<UserIdx>,
}

impl Policy {
    /// The rules from the four config lists.
    pub fn new(
        methods_allowed: &[String],
        methods_blocked: &[String],
        classes_allowed: &[String],
        classes_blocked: &[String],
    ) -> Policy {
        let low = |l: &[String]| l.iter().map(|s| s.to_lowercase()).collect();
        Policy {
            methods_allowed: low(methods_allowed),
            methods_blocked: low(methods_blocked),
            classes_allowed: low(classes_allowed),
            classes_blocked: low(classes_blocked),
            current_user: None,
        }
    }

    /// The same rules for a request by `user`.
    pub fn for_user(&self, user: Option<UserIdx>) -> Policy {
        Policy {
            current_user: user,
            ..self.clone()
        }
    }
}

/// KQL's interceptor classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Icpt {
    App,
    Site,
    Page,
    File,
    User,
    Pages,
    Files,
    Users,
    Blocks,
    Structure,
    Layouts,
    Columns,
    Block,
    StructureObject,
    Layout,
    Column,
    Role,
    Field,
    Content,
}

/// The model interceptors' method groups.
const CHILDREN: &[&str] = &[
    "children",
    "childrenAndDrafts",
    "draft",
    "drafts",
    "find",
    "findPageOrDraft",
    "grandChildren",
    "hasChildren",
    "hasDrafts",
    "hasListedChildren",
    "hasUnlistedChildren",
    "index",
    "search",
];
const FILES: &[&str] = &[
    "audio",
    "code",
    "documents",
    "file",
    "files",
    "hasAudio",
    "hasCode",
    "hasDocuments",
    "hasFiles",
    "hasImages",
    "hasVideos",
    "image",
    "images",
    "videos",
];
const MODELS: &[&str] = &[
    "apiUrl",
    "blueprint",
    "content",
    "dragText",
    "exists",
    "id",
    "mediaUrl",
    "modified",
    "permissions",
    "panel",
    "permalink",
    "previewUrl",
    "url",
    "version",
];
const SIBLINGS: &[&str] = &[
    "indexOf", "next", "nextAll", "prev", "prevAll", "siblings", "hasNext", "hasPrev", "isFirst",
    "isLast", "isNth",
];
const PARENTS: &[&str] = &["parent", "parentId", "parentModel", "site"];
const PAGE: &[&str] = &[
    "blueprints",
    "depth",
    "hasTemplate",
    "intendedTemplate",
    "isDraft",
    "isErrorPage",
    "isHomePage",
    "isHomeOrErrorPage",
    "isListed",
    "isReadable",
    "isSortable",
    "isUnlisted",
    "num",
    "slug",
    "status",
    "template",
    "title",
    "uid",
    "uri",
];
const SITE: &[&str] = &[
    "blueprints",
    "breadcrumb",
    "errorPage",
    "errorPageId",
    "homePage",
    "homePageId",
    "page",
    "pages",
    "title",
];
const FILE: &[&str] = &[
    "blur",
    "bw",
    "crop",
    "dataUri",
    "dimensions",
    "exif",
    "extension",
    "filename",
    "files",
    "grayscale",
    "greyscale",
    "height",
    "html",
    "isPortrait",
    "isLandscape",
    "isSquare",
    "mime",
    "name",
    "niceSize",
    "orientation",
    "ratio",
    "resize",
    "size",
    "srcset",
    "template",
    "templateSiblings",
    "thumb",
    "type",
    "width",
];
const USER: &[&str] = &[
    "avatar", "email", "id", "isAdmin", "language", "modified", "name", "role", "username",
];
const COLLECTION: &[&str] = &[
    "chunk",
    "count",
    "filterBy",
    "find",
    "findBy",
    "findByKey",
    "first",
    "flip",
    "groupBy",
    "has",
    "isEmpty",
    "isEven",
    "isNotEmpty",
    "isOdd",
    "keys",
    "last",
    "limit",
    "next",
    "not",
    "nth",
    "offset",
    "pagination",
    "pluck",
    "prev",
    "shuffle",
    "slice",
    "sortBy",
    "without",
];
const PAGES: &[&str] = &[
    "audio",
    "children",
    "code",
    "documents",
    "drafts",
    "files",
    "findByUri",
    "images",
    "index",
    "listed",
    "notTemplate",
    "nums",
    "published",
    "search",
    "template",
    "unlisted",
    "videos",
];
const BLOCK: &[&str] = &[
    "content",
    "id",
    "isEmpty",
    "isHidden",
    "isNotEmpty",
    "toField",
    "toHtml",
    "parent",
    "type",
];
const STRUCTURE_OBJECT: &[&str] = &["content", "id", "parent"];
const LAYOUT: &[&str] = &["attrs", "columns", "id", "isEmpty", "isNotEmpty", "parent"];
const COLUMN: &[&str] = &["blocks", "id", "isEmpty", "isNotEmpty", "span", "width"];
const ROLE: &[&str] = &["description", "id", "name", "permissions", "title"];
const APP: &[&str] = &[
    "collection",
    "defaultLanguage",
    "detectedLanguage",
    "draft",
    "file",
    "language",
    "languageCode",
    "languages",
    "multilang",
    "page",
    "roles",
    "site",
    "translation",
    "translations",
    "url",
    "user",
    "users",
    "version",
];
const FIELD: &[&str] = &["exists", "isEmpty", "isNotEmpty", "key", "or", "value"];
const CONTENT: &[&str] = &["data", "fields", "has", "get", "keys", "not"];

impl Icpt {
    fn allows(self, method: &str) -> bool {
        // one set per class, not a scan of its groups on every call
        static SETS: LazyLock<Vec<HashSet<&'static str>>> = LazyLock::new(|| {
            Icpt::ALL
                .iter()
                .map(|i| i.groups().iter().flat_map(|g| g.iter().copied()).collect())
                .collect()
        });
        SETS[self as usize].contains(method)
    }

    /// Every interceptor, in declaration order.
    const ALL: [Icpt; 19] = [
        Icpt::App,
        Icpt::Site,
        Icpt::Page,
        Icpt::File,
        Icpt::User,
        Icpt::Pages,
        Icpt::Files,
        Icpt::Users,
        Icpt::Blocks,
        Icpt::Structure,
        Icpt::Layouts,
        Icpt::Columns,
        Icpt::Block,
        Icpt::StructureObject,
        Icpt::Layout,
        Icpt::Column,
        Icpt::Role,
        Icpt::Field,
        Icpt::Content,
    ];

    /// The method groups the class allows.
    fn groups(self) -> &'static [&'static [&'static str]] {
        match self {
            Icpt::Page => &[CHILDREN, FILES, MODELS, PARENTS, SIBLINGS, PAGE],
            Icpt::Site => &[CHILDREN, FILES, MODELS, SITE],
            Icpt::File => &[MODELS, PARENTS, SIBLINGS, FILE],
            Icpt::User => &[FILES, MODELS, SIBLINGS, USER],
            Icpt::Structure | Icpt::Layouts | Icpt::Columns => &[COLLECTION],
            Icpt::Pages => &[COLLECTION, PAGES],
            Icpt::Files => &[COLLECTION, &["template"]],
            Icpt::Users => &[COLLECTION, &["role"]],
            Icpt::Blocks => &[COLLECTION, &["excerpt", "toHtml"]],
            Icpt::Block => &[SIBLINGS, BLOCK],
            Icpt::StructureObject => &[SIBLINGS, STRUCTURE_OBJECT],
            Icpt::Layout => &[SIBLINGS, LAYOUT],
            Icpt::Column => &[SIBLINGS, COLUMN],
            Icpt::Role => &[ROLE],
            Icpt::App => &[APP],
            Icpt::Field => &[FIELD],
            Icpt::Content => &[CONTENT],
        }
    }

    /// The methods rendered by default (`$toArray`).
    fn to_array(self) -> &'static [&'static str] {
        match self {
            Icpt::Page => &[
                "children",
                "content",
                "drafts",
                "files",
                "id",
                "intendedTemplate",
                "isHomePage",
                "isErrorPage",
                "num",
                "template",
                "title",
                "slug",
                "status",
                "uid",
                "url",
            ],
            Icpt::Site => &["children", "drafts", "files", "title", "url"],
            Icpt::File => &[
                "extension",
                "filename",
                "height",
                "id",
                "mime",
                "niceSize",
                "template",
                "type",
                "url",
                "width",
            ],
            Icpt::User => &["id", "name", "role", "username"],
            Icpt::Role => &["description", "id", "name", "title"],
            Icpt::App => &["site", "url"],
            Icpt::Block => &["content", "id", "isEmpty", "isHidden", "type"],
            Icpt::Layout => &["attrs", "columns", "id", "isEmpty"],
            Icpt::Column => &["blocks", "id", "isEmpty", "width"],
            _ => &[],
        }
    }

    /// Whether unknown names are content fields (`Model` and `Content` interceptors).
    fn has_fields(self) -> bool {
        matches!(
            self,
            Icpt::Page
                | Icpt::Site
                | Icpt::File
                | Icpt::User
                | Icpt::Block
                | Icpt::StructureObject
                | Icpt::Layout
                | Icpt::Column
                | Icpt::Content
        )
    }

    fn is_collection(self) -> bool {
        matches!(
            self,
            Icpt::Pages
                | Icpt::Files
                | Icpt::Users
                | Icpt::Blocks
                | Icpt::Structure
                | Icpt::Layouts
                | Icpt::Columns
        )
    }
}

/// The PHP class of an object value and its interceptor (`None` for arrays and scalars).
fn class_of(v: &Val) -> Option<(&'static str, Option<Icpt>)> {
    Some(match v {
        Val::Kirby => ("Kirby\\Cms\\App", Some(Icpt::App)),
        Val::Site => ("Kirby\\Cms\\Site", Some(Icpt::Site)),
        Val::Page(_) => ("Kirby\\Cms\\Page", Some(Icpt::Page)),
        Val::Pages(_) => ("Kirby\\Cms\\Pages", Some(Icpt::Pages)),
        Val::File(_) => ("Kirby\\Cms\\File", Some(Icpt::File)),
        Val::Files(_) => ("Kirby\\Cms\\Files", Some(Icpt::Files)),
        Val::User(_) => ("Kirby\\Cms\\User", Some(Icpt::User)),
        Val::Users(_) => ("Kirby\\Cms\\Users", Some(Icpt::Users)),
        Val::Role(_) => ("Kirby\\Cms\\Role", Some(Icpt::Role)),
        Val::Field(_) => ("Kirby\\Content\\Field", Some(Icpt::Field)),
        Val::Content(_) | Val::Data(..) => ("Kirby\\Content\\Content", Some(Icpt::Content)),
        Val::Items(k, _) => (
            k.collection_class(),
            Some(match k {
                ItemKind::Structure => Icpt::Structure,
                ItemKind::Block => Icpt::Blocks,
                ItemKind::Layout => Icpt::Layouts,
                ItemKind::Column => Icpt::Columns,
            }),
        ),
        Val::Item(i) => (
            i.kind.class(),
            Some(match i.kind {
                ItemKind::Structure => Icpt::StructureObject,
                ItemKind::Block => Icpt::Block,
                ItemKind::Layout => Icpt::Layout,
                ItemKind::Column => Icpt::Column,
            }),
        ),
        Val::Closure(_) => ("Closure", None),
        Val::Permissions(m) => (
            match m {
                Model::Site => "Kirby\\Cms\\SitePermissions",
                Model::Page(_) => "Kirby\\Cms\\PagePermissions",
                Model::File(_) => "Kirby\\Cms\\FilePermissions",
                Model::User(_) => "Kirby\\Cms\\UserPermissions",
            },
            None,
        ),
        Val::Dimensions(..) => ("Kirby\\Image\\Dimensions", None),
        _ => return None,
    })
}

/// The PHP methods of a class (lowercase), to tell a refused method from a content field.
fn php_method_exists(v: &Val, lower: &str) -> bool {
    type Set = LazyLock<HashSet<&'static str>>;
    static SITE: Set = LazyLock::new(|| php_methods::SITE.iter().copied().collect());
    static PAGE: Set = LazyLock::new(|| php_methods::PAGE.iter().copied().collect());
    static FILE: Set = LazyLock::new(|| php_methods::FILE.iter().copied().collect());
    static USER: Set = LazyLock::new(|| php_methods::USER.iter().copied().collect());
    static CONTENT: Set = LazyLock::new(|| php_methods::CONTENT.iter().copied().collect());
    let set: &HashSet<&str> = match v {
        Val::Site => &SITE,
        Val::Page(_) => &PAGE,
        Val::File(_) => &FILE,
        Val::User(_) => &USER,
        Val::Content(_) | Val::Data(..) => &CONTENT,
        Val::Item(i) => return items::php_method(i.kind, lower),
        _ => return true,
    };
    set.contains(lower)
}

/// `Interceptor::replace`: the interceptor of an object, or a refusal.
fn replace(policy: &Policy, v: &Val) -> R<Option<Icpt>> {
    let Some((class, icpt)) = class_of(v) else {
        return Ok(None);
    };
    if policy.classes_blocked.is_empty() && icpt.is_some() {
        return Ok(icpt);
    }
    let lower = class.to_lowercase();
    if policy.classes_blocked.contains(&lower) {
        return Err(QueryError::Forbidden(format!(
            "Access to the class \"{class}\" is blocked"
        )));
    }
    if icpt.is_some() || policy.classes_allowed.contains(&lower) {
        return Ok(icpt);
    }
    Err(QueryError::Forbidden(format!(
        "Access to the class \"{class}\" is not supported"
    )))
}

fn is_allowed(policy: &Policy, class: &str, icpt: Icpt, method: &str) -> bool {
    let named = |list: &[String]| {
        !list.is_empty() && {
            let name = format!("{class}::{method}").to_lowercase();
            list.contains(&name)
        }
    };
    if named(&policy.methods_blocked) {
        return false;
    }
    icpt.allows(method) || named(&policy.methods_allowed)
}

fn forbidden(class: &str, method: &str) -> QueryError {
    QueryError::Forbidden(format!(
        "The method \"{class}::{method}()\" is not allowed in the API context"
    ))
}

/// PHP's `gettype()` in the legacy runner's messages.
fn php_type(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Int(_) => "integer",
        Val::Float(_) => "float",
        Val::Str(_) => "string",
        Val::List(_) | Val::Map(_) => "array",
        _ => "object",
    }
}

/// `target.name(args)` under KQL's rules (the evaluator's member access when the scope
/// has a [`Policy`]).
pub(crate) fn member(
    scope: &Scope<'_>,
    policy: &Policy,
    target: &Val,
    name: &str,
    args: Option<Vec<Val>>,
    locals: Locals<'_>,
) -> R {
    let args = args.unwrap_or_default();
    match target {
        Val::Null | Val::Bool(_) | Val::Int(_) | Val::Float(_) | Val::Str(_) => {
            return Err(QueryError::BadMethod(format!(
                "Access to method/property \"{name}\" on {}",
                php_type(target)
            )));
        }
        Val::List(_) | Val::Map(_) => {
            let found = match target {
                Val::List(l) => name.parse::<usize>().ok().and_then(|i| l.get(i)),
                Val::Map(m) => m.get(name),
                _ => None,
            };
            return match found {
                Some(v) if args.is_empty() => Ok(v.clone()),
                Some(_) => Err(QueryError::Invalid(format!(
                    "Cannot access array element \"{name}\" with arguments"
                ))),
                None => Err(QueryError::BadMethod(format!(
                    "Access to non-existing property \"{name}\" on array"
                ))),
            };
        }
        _ => {}
    }
    let Some(icpt) = replace(policy, target)? else {
        // a class the config allows without an interceptor: no method rules
        return methods::call(scope, target, name, args, locals);
    };
    let (class, _) = class_of(target).unwrap_or(("", None));
    let lower = name.to_lowercase();
    // the interceptors' own methods (PHP method names ignore case)
    if let Some(v) = own_method(scope, target, icpt, &lower)? {
        return Ok(v);
    }
    if is_allowed(policy, class, icpt, name) {
        return allowed(scope, target, name, &lower, args, locals);
    }
    match icpt {
        Icpt::Field => {
            if php_methods::FIELD_METHODS.contains(&lower.as_str()) {
                allowed(scope, target, &lower, &lower, args, locals)
            } else {
                Err(forbidden(class, &lower))
            }
        }
        i if i.has_fields() && !php_method_exists(target, &lower) => {
            Ok(field_of(scope, target, name))
        }
        _ => Err(forbidden(class, name)),
    }
}

/// A content field of a model, item or content object.
fn field_of(scope: &Scope<'_>, target: &Val, name: &str) -> Val {
    match target {
        Val::Site => methods::field(scope.snap, Model::Site, name),
        Val::Page(p) => methods::field(scope.snap, Model::Page(*p), name),
        Val::File(f) => methods::field(scope.snap, Model::File(*f), name),
        Val::User(u) => methods::field(scope.snap, Model::User(*u), name),
        Val::Content(m) => methods::field(scope.snap, *m, name),
        Val::Data(owner, data) => items::data_field(*owner, data, name),
        Val::Item(i) => items::data_field(i.owner, &i.content(), name),
        _ => Val::Null,
    }
}

/// Methods whose KQL answer differs from the plain query language's.
fn own_method(scope: &Scope<'_>, target: &Val, icpt: Icpt, lower: &str) -> R<Option<Val>> {
    Ok(Some(match (icpt, lower, target) {
        (Icpt::Page | Icpt::Site | Icpt::File | Icpt::User, "uuid", _) => {
            match methods::call(scope, target, "uuid", Vec::new(), &[])? {
                Val::Str(s) => Val::Str(s),
                _ => Val::Str(String::new()),
            }
        }
        (Icpt::File, "dimensions", Val::File(f)) => {
            let (w, h) = super::eval::file(scope.snap, *f)
                .dimensions
                .unwrap_or((0, 0));
            dimensions(w, h)
        }
        (Icpt::Role, "permissions", Val::Role(r)) => {
            json_val(&scope.snap.role_named(r).permissions.to_json())
        }
        _ => return Ok(None),
    }))
}

fn dimensions(w: u32, h: u32) -> Val {
    let mut m = indexmap::IndexMap::new();
    m.insert("width".into(), Val::Int(i64::from(w)));
    m.insert("height".into(), Val::Int(i64::from(h)));
    let ratio = if w != 0 && h != 0 {
        let r = f64::from(w) / f64::from(h);
        if r.fract() == 0.0 {
            Val::Int(r as i64)
        } else {
            Val::Float(r)
        }
    } else {
        Val::Float(0.0)
    };
    m.insert("ratio".into(), ratio);
    m.insert(
        "orientation".into(),
        match (w, h) {
            (0, _) | (_, 0) => Val::Bool(false),
            (w, h) if w > h => Val::Str("landscape".into()),
            (w, h) if w < h => Val::Str("portrait".into()),
            _ => Val::Str("square".into()),
        },
    );
    Val::Map(m)
}

/// An allowed method: the query language answers it, with KQL's object types for items.
fn allowed(
    scope: &Scope<'_>,
    target: &Val,
    name: &str,
    lower: &str,
    args: Vec<Val>,
    locals: Locals<'_>,
) -> R {
    match (target, lower) {
        (Val::Field(f), "tostructure") => return items::to_structure(f),
        (Val::Field(f), "toblocks") => return items::to_blocks(f),
        (Val::Field(f), "tolayouts") => return items::to_layouts(f),
        (Val::Kirby, "user") if args.is_empty() => {
            return Ok(current_user(scope));
        }
        (Val::Kirby, "users") => return methods::global(scope, "users", args, true),
        (Val::Kirby, "version") => return Ok(Val::Str(KIRBY_VERSION.into())),
        (Val::Kirby, "languages") if !scope.snap.languages.is_multilang() => {
            return Ok(Val::List(Vec::new()));
        }
        (Val::Kirby, "defaultlanguage" | "language") if !scope.snap.languages.is_multilang() => {
            return Ok(Val::Null);
        }
        (Val::Kirby, "languagecode") if !scope.snap.languages.is_multilang() => {
            return Ok(Val::Null);
        }
        (Val::Kirby | Val::Site, "collection") => {
            return Err(QueryError::NotFound(
                "The collection cannot be found".into(),
            ));
        }
        (Val::Field(f), "yaml" | "todata")
            if lower == "yaml"
                || args
                    .first()
                    .is_none_or(|a| matches!(scalar_text(a).as_str(), "yaml" | "json")) =>
        {
            let value = f.value.clone().unwrap_or_default();
            return Ok(json_val(
                &crate::format::yaml::parse(&value).unwrap_or(Value::Array(Vec::new())),
            ));
        }
        (Val::Field(f), "todata") => {
            let sep = args.first().map(scalar_text).unwrap_or_else(|| ",".into());
            let value = f.value.clone().unwrap_or_default();
            return Ok(Val::List(
                value
                    .split(sep.as_str())
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| Val::Str(x.to_string()))
                    .collect(),
            ));
        }
        (Val::Field(f), "toobject") => {
            let value = f.value.clone().unwrap_or_default();
            let data = match crate::format::yaml::parse(&value) {
                Ok(Value::Object(o)) => o.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
                _ => Map::new(),
            };
            return Ok(Val::Data(f.owner, Arc::new(data)));
        }
        (Val::Pages(_) | Val::Files(_) | Val::Users(_) | Val::Items(..), "pagination") => {
            return Ok(Val::Null);
        }
        (Val::Pages(_) | Val::Files(_) | Val::Users(_) | Val::Items(..), "iseven" | "isodd") => {
            let n = elements(target).len();
            return Ok(Val::Bool(n.is_multiple_of(2) == (lower == "iseven")));
        }
        (Val::Pages(_) | Val::Files(_) | Val::Users(_) | Val::Items(..), "pluck")
            if args.len() == 1 =>
        {
            // Kirby plucks the fields themselves
            let key = args.first().map(scalar_text).unwrap_or_default();
            let mut out = Vec::new();
            for item in elements(target) {
                out.push(methods::call(scope, &item, &key, Vec::new(), locals)?);
            }
            return Ok(Val::List(out));
        }
        (Val::Page(_) | Val::Site | Val::File(_) | Val::User(_), "apiurl" | "mediaurl") => {
            return Ok(api_or_media_url(scope, target, lower));
        }
        (Val::Page(p), "permissions") => return Ok(Val::Permissions(Model::Page(*p))),
        (Val::File(f), "permissions") => return Ok(Val::Permissions(Model::File(*f))),
        (Val::Site, "permissions") => return Ok(Val::Permissions(Model::Site)),
        (Val::User(u), "permissions") => return Ok(Val::Permissions(Model::User(*u))),
        (Val::Kirby, "draft") => {
            return Err(QueryError::Exception(
                "App::draft() is not callable here".into(),
            ));
        }
        (Val::Pages(l), "nums") => {
            return Ok(Val::List(
                l.iter()
                    .filter_map(|p| scope.snap.pages[*p].num.map(Val::Int))
                    .collect(),
            ));
        }
        (Val::Pages(l), "nottemplate") => {
            let not: Vec<String> = args.iter().map(scalar_text).collect();
            return Ok(Val::Pages(
                l.iter()
                    .copied()
                    .filter(|p| !not.contains(&scope.snap.pages[*p].template))
                    .collect(),
            ));
        }
        (Val::Pages(l), "findbyuri") => {
            let want = args.first().map(scalar_text).unwrap_or_default();
            return Ok(l
                .iter()
                .copied()
                .find(|p| scope.snap.pages[*p].id == want.trim_matches('/'))
                .map_or(Val::Null, Val::Page));
        }
        (Val::Page(p), "isreadable") => {
            return Ok(Val::Bool(match scope.gate {
                super::Gate::Actor(a) => crate::permissions::can(
                    scope.snap,
                    a,
                    crate::permissions::Target::Page(*p),
                    "read",
                ),
                super::Gate::Public => false,
            }));
        }
        (Val::Item(i), _) => {
            if let Some(v) = items::method(i, name, &args) {
                return Ok(v);
            }
            return Ok(field_of(scope, target, name));
        }
        (Val::Data(owner, data), _) => {
            return Ok(match lower {
                "get" => match args.first() {
                    Some(k) => items::data_field(*owner, data, &scalar_text(k)),
                    None => json_val(&Value::Object((**data).clone())),
                },
                "has" => Val::Bool(
                    args.first()
                        .is_some_and(|k| data.contains_key(&scalar_text(k).to_lowercase())),
                ),
                "keys" => Val::List(data.keys().map(|k| Val::Str(k.clone())).collect()),
                "data" | "toarray" | "fields" => json_val(&Value::Object((**data).clone())),
                _ => items::data_field(*owner, data, name),
            });
        }
        _ => {}
    }
    match methods::call(scope, target, name, args, locals)? {
        Val::Dimensions(w, h) => Ok(dimensions(w, h)),
        v => Ok(v),
    }
}

/// `apiUrl` and `mediaUrl` of a model.
fn api_or_media_url(scope: &Scope<'_>, target: &Val, lower: &str) -> Val {
    let Some(host) = scope.host else {
        return Val::Null;
    };
    let base = host.url(Model::Site);
    let snap = scope.snap;
    let api = lower == "apiurl";
    Val::Str(match target {
        Val::Page(p) if api => format!("{base}/api/pages/{}", snap.pages[*p].id.replace('/', "+")),
        Val::Page(p) => format!("{base}/media/pages/{}", snap.pages[*p].id),
        Val::Site if api => format!("{base}/api/site"),
        Val::Site => format!("{base}/media/site"),
        Val::User(u) if api => format!("{base}/api/users/{}", snap.users[*u].id),
        Val::User(u) => format!("{base}/media/users/{}", snap.users[*u].id),
        Val::File(f) => {
            let fl = super::eval::file(snap, *f);
            let parent = match f.parent {
                crate::model::FileParent::Site => format!("{base}/api/site"),
                crate::model::FileParent::Page(p) => {
                    format!("{base}/api/pages/{}", snap.pages[p].id.replace('/', "+"))
                }
                crate::model::FileParent::User(u) => {
                    format!("{base}/api/users/{}", snap.users[u].id)
                }
            };
            if api {
                format!("{parent}/files/{}", fl.filename)
            } else {
                host.url(Model::File(*f))
            }
        }
        _ => return Val::Null,
    })
}

fn current_user(scope: &Scope<'_>) -> Val {
    match scope.kql.and_then(|p| p.current_user) {
        Some(u) => Val::User(u),
        None => Val::Null,
    }
}

/// A JSON value as a query value.
pub fn json_val(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => Val::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Val::Str(s.clone()),
        Value::Array(a) => Val::List(a.iter().map(json_val).collect()),
        Value::Object(o) => Val::Map(o.iter().map(|(k, v)| (k.clone(), json_val(v))).collect()),
    }
}

// ------------------------------------------------------------------------- run

/// A scope for a query: the top level binds `site`, a nested one binds its model by
/// KQL's alias (`page`, `file`, `user`, `block`, `structureItem`…).
fn scope_for<'s>(base: &Scope<'s>, model: Option<&Val>) -> Scope<'s> {
    let mut s = Scope {
        snap: base.snap,
        gate: base.gate,
        host: base.host,
        kql: base.kql,
        vars: base.vars.clone(),
    };
    if let Some(m) = model {
        let alias = match m {
            Val::Kirby => "kirby",
            Val::Site => "site",
            Val::Page(_) => "page",
            Val::File(_) => "file",
            Val::User(_) => "user",
            Val::Role(_) => "role",
            Val::Field(_) => "field",
            Val::Content(_) | Val::Data(..) => "content",
            Val::Pages(_) => "pages",
            Val::Files(_) => "files",
            Val::Users(_) => "users",
            Val::Items(k, _) => k.collection_alias(),
            Val::Item(i) => i.kind.alias(),
            _ => "collection",
        };
        s = s.bind(alias, m.clone());
    }
    s
}

/// `Kql::run`: a query string, a `{query, select, pagination}` object, or `{queries}`.
pub fn run(scope: &Scope<'_>, input: &Value) -> R<Value> {
    run_on(scope, input, None)
}

fn run_on(scope: &Scope<'_>, input: &Value, model: Option<&Val>) -> R<Value> {
    if let Value::String(q) = input {
        let v = query(scope, q, model)?;
        return render(scope, &v);
    }
    if let Some(queries) = input.get("queries").filter(|q| !q.is_null()) {
        let mut out = Map::new();
        match queries {
            Value::Object(o) => {
                for (name, q) in o {
                    out.insert(name.clone(), run_on(scope, q, None)?);
                }
            }
            Value::Array(a) => {
                for (i, q) in a.iter().enumerate() {
                    out.insert(i.to_string(), run_on(scope, q, None)?);
                }
                if !a.is_empty() {
                    return Ok(Value::Array(out.into_iter().map(|(_, v)| v).collect()));
                }
            }
            _ => {
                return Err(QueryError::Exception(
                    "foreach() argument must be of type array|object".into(),
                ));
            }
        }
        return Ok(php_map(out));
    }
    let q = match input.get("query") {
        None | Some(Value::Null) => "site".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(QueryError::Exception("The query must be a string".into())),
    };
    let select = input.get("select").filter(|s| !s.is_null());
    let pagination = input.get("pagination").filter(|p| !p.is_null());
    let v = query(scope, &q, model)?;
    select_value(scope, &v, select, pagination)
}

fn query(scope: &Scope<'_>, q: &str, model: Option<&Val>) -> R {
    let s = scope_for(scope, model);
    let q = q.trim();
    if q.is_empty() {
        // Kirby resolves an empty query to its data: the model by its alias
        return Ok(match model {
            Some(m) => {
                let mut map = indexmap::IndexMap::new();
                map.insert("site".to_string(), m.clone());
                Val::Map(map)
            }
            None => {
                let mut map = indexmap::IndexMap::new();
                map.insert("site".to_string(), Val::Site);
                Val::Map(map)
            }
        });
    }
    let expr = match parsed(q) {
        Ok(e) => e,
        Err(_) => match legacy_repair(q) {
            Some(fixed) => Arc::new(super::parse(&fixed).map_err(|_| not_a_property(q))?),
            // the legacy runner reads an unclosed string or call as an empty answer
            None if unbalanced(q) => return Ok(Val::Str(String::new())),
            None => return Err(not_a_property(q)),
        },
    };
    if matches!(*expr, super::Expr::Lit(_) | super::Expr::Array(_)) {
        return Err(not_a_property(q));
    }
    s.eval_expr(&expr)
}

/// A query parsed once per thread: a select's queries run once per item.
fn parsed(q: &str) -> Result<Arc<super::Expr>, super::SyntaxError> {
    thread_local! {
        static PARSED: std::cell::RefCell<foldhash::HashMap<String, Arc<super::Expr>>> =
            std::cell::RefCell::new(foldhash::HashMap::default());
    }
    if let Some(e) = PARSED.with(|c| c.borrow().get(q).cloned()) {
        return Ok(e);
    }
    let e = Arc::new(super::parse(q)?);
    PARSED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(q.to_string(), e.clone());
    });
    Ok(e)
}

/// The legacy runner skips empty segments: `site..title`, `site.title.`.
fn legacy_repair(q: &str) -> Option<String> {
    let mut fixed = q.to_string();
    while fixed.contains("..") {
        fixed = fixed.replace("..", ".");
    }
    let fixed = fixed
        .trim_end_matches('.')
        .trim_start_matches('.')
        .to_string();
    (fixed != q).then_some(fixed)
}

/// An unclosed quote or parenthesis.
fn unbalanced(q: &str) -> bool {
    let (mut depth, mut quote) = (0i32, None::<char>);
    for c in q.chars() {
        match (quote, c) {
            (Some(o), c) if c == o => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            _ => {}
        }
    }
    quote.is_some() || depth > 0
}

/// The legacy runner reads a query it cannot split into segments as one unknown key of its
/// data.
fn not_a_property(q: &str) -> QueryError {
    let first = q.split('.').next().unwrap_or(q);
    QueryError::BadMethod(format!(
        "Access to non-existing property \"{first}\" on array"
    ))
}

/// An empty map is PHP's `[]`.
fn php_map(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(m)
    }
}

fn is_collection(v: &Val) -> bool {
    matches!(
        v,
        Val::Pages(_) | Val::Files(_) | Val::Users(_) | Val::Items(..)
    ) || is_roles(v)
}

/// `kirby.roles`: a `Roles` collection (a list of roles here).
fn is_roles(v: &Val) -> bool {
    matches!(v, Val::List(l) if !l.is_empty() && l.iter().all(|r| matches!(r, Val::Role(_))))
}

/// `Kql::select`.
fn select_value(
    scope: &Scope<'_>,
    data: &Val,
    select: Option<&Value>,
    pagination: Option<&Value>,
) -> R<Value> {
    let Some(select) = select else {
        return render(scope, data);
    };
    if select.as_str() == Some("?") {
        return render(scope, data);
    }
    // PHP turns a number or `true` into its text (`42`, `1`)
    let coerced;
    let select = match select {
        Value::Number(_) | Value::Bool(true) => {
            coerced = Value::String(scalar_json(select));
            &coerced
        }
        Value::String(_) | Value::Array(_) | Value::Object(_) => select,
        _ => {
            return Err(QueryError::Exception(
                "Kirby\\Kql\\Kql::select(): Argument #2 ($select) must be of type array|string|null"
                    .into(),
            ));
        }
    };
    if is_collection(data) {
        return select_from_collection(scope, data, select, pagination);
    }
    match data {
        Val::List(_) | Val::Map(_) => select_from_array(data, select),
        v if class_of(v).is_some() => select_from_object(scope, data, select),
        _ => Ok(Value::Null),
    }
}

fn select_keys(select: &Value) -> Vec<(String, &Value)> {
    static TRUE: Value = Value::Bool(true);
    match select {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| (k.to_string(), &TRUE))
            .collect(),
        Value::Array(a) => a
            .iter()
            .map(|k| match k {
                Value::String(s) => (s.clone(), &TRUE),
                other => (scalar_json(other), &TRUE),
            })
            .collect(),
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Bool(false)))
            .map(|(k, v)| (k.clone(), v))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar_json(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".into(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn select_from_array(data: &Val, select: &Value) -> R<Value> {
    if let Value::String(_) = select {
        return Err(QueryError::Exception(
            "Kirby\\Kql\\Kql::selectFromArray(): Argument #2 ($select) must be of type array, string given"
                .into(),
        ));
    }
    let mut out = Map::new();
    for (key, _) in select_keys(select) {
        let v = match data {
            Val::Map(m) => m.get(&key).cloned(),
            Val::List(l) => key.parse::<usize>().ok().and_then(|i| l.get(i).cloned()),
            _ => None,
        };
        out.insert(key, plain(v.as_ref().unwrap_or(&Val::Null)));
    }
    Ok(php_map(out))
}

fn select_from_collection(
    scope: &Scope<'_>,
    data: &Val,
    select: &Value,
    pagination: Option<&Value>,
) -> R<Value> {
    let all = elements(data);
    let (list, page) = match pagination.filter(|p| php_truthy(p)) {
        Some(p) => {
            let pg = paginate(all.len(), p)?;
            let list = all
                .into_iter()
                .skip(pg.offset)
                .take(pg.limit)
                .collect::<Vec<_>>();
            (list, Some(pg))
        }
        None => (all, None),
    };
    let mut out = Vec::with_capacity(list.len());
    for item in &list {
        out.push(select_from_object(scope, item, select)?);
    }
    Ok(match page {
        Some(pg) => serde_json::json!({
            "data": out,
            "pagination": {
                "page": pg.page,
                "pages": pg.pages,
                "offset": pg.offset,
                "limit": pg.limit,
                "total": pg.total,
            }
        }),
        None => Value::Array(out),
    })
}

fn php_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

struct Page {
    page: usize,
    pages: usize,
    offset: usize,
    limit: usize,
    total: usize,
}

/// Kirby's `Pagination::for($collection, $options)`: `limit` (20) and `page` (1), both
/// checked; a page out of range is Kirby's 404 error page.
fn paginate(total: usize, options: &Value) -> R<Page> {
    // a number is the limit (`paginate(3)`)
    let wrapped;
    let options = match options {
        Value::Number(_) => {
            wrapped = serde_json::json!({ "limit": options });
            &wrapped
        }
        other => other,
    };
    let get = |k: &str| options.get(k).filter(|v| php_truthy(v));
    let limit = match get("limit") {
        None => 20,
        Some(v) => {
            let n = int_of(v).ok_or_else(|| {
                QueryError::Exception(
                    "Kirby\\Toolkit\\Pagination::setLimit(): Argument #1 ($limit) must be of type int"
                        .into(),
                )
            })?;
            if n < 1 {
                return Err(QueryError::General(format!(
                    "Invalid pagination limit: {n}"
                )));
            }
            usize::try_from(n).unwrap_or(usize::MAX)
        }
    };
    let pages = total.div_ceil(limit);
    let first = usize::from(total != 0);
    let page = match get("page") {
        None => first,
        Some(v) => {
            let n = int_of(v).filter(|n| *n >= 0).ok_or_else(|| {
                QueryError::General(format!("Invalid page number: {}", scalar_json(v)))
            })?;
            usize::try_from(n).unwrap_or(usize::MAX)
        }
    };
    // KQL's pagination does not validate: a page out of range is the nearest one
    let page = page.clamp(first, pages.max(first));
    let offset = page.saturating_sub(1).saturating_mul(limit);
    Ok(Page {
        page,
        pages,
        offset,
        limit,
        total,
    })
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        Value::Bool(true) => Some(1),
        _ => None,
    }
}

fn elements(v: &Val) -> Vec<Val> {
    match v {
        Val::Pages(l) => l.iter().map(|p| Val::Page(*p)).collect(),
        Val::Files(l) => l.iter().map(|f| Val::File(*f)).collect(),
        Val::Users(l) => l.iter().map(|u| Val::User(*u)).collect(),
        Val::Items(_, l) => l.iter().map(|i| Val::Item(i.clone())).collect(),
        Val::List(l) => l.clone(),
        _ => Vec::new(),
    }
}

fn policy_of<'p>(scope: &'p Scope<'_>) -> std::borrow::Cow<'p, Policy> {
    match scope.kql {
        Some(p) => std::borrow::Cow::Borrowed(p),
        None => std::borrow::Cow::Owned(Policy::default()),
    }
}

/// `Kql::selectFromObject`.
fn select_from_object(scope: &Scope<'_>, object: &Val, select: &Value) -> R<Value> {
    let policy = policy_of(scope);
    replace(&policy, object)?;
    let mut out = Map::new();
    for (key, selection) in select_keys(select) {
        let v = fetch(scope, &policy, object, &key, selection)?;
        out.insert(key, v);
    }
    Ok(php_map(out))
}

/// `Kql::fetch`: one key of a select.
fn fetch(
    scope: &Scope<'_>,
    policy: &Policy,
    object: &Val,
    key: &str,
    selection: &Value,
) -> R<Value> {
    match selection {
        Value::Bool(true) => {
            let v = member(scope, policy, object, key, Some(Vec::new()), &[])?;
            render(scope, &v)
        }
        Value::Object(o) if o.get("query").is_none_or(|q| !php_truthy(q)) => {
            let v = member(scope, policy, object, key, Some(Vec::new()), &[])?;
            let options = o.get("options");
            select_value(
                scope,
                &v,
                o.get("select").filter(|s| !s.is_null()),
                options.and_then(|op| op.get("pagination")),
            )
        }
        other => run_on(scope, other, Some(object)),
    }
}

/// A value as JSON, without KQL's object rendering (array members that are objects are
/// PHP objects without public properties: `{}`).
fn plain(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(n) => Value::from(*n),
        Val::Float(f) => float(*f),
        Val::Str(s) => Value::String(s.clone()),
        Val::List(l) => Value::Array(l.iter().map(plain).collect()),
        Val::Map(m) => {
            if m.is_empty() {
                Value::Array(Vec::new())
            } else {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
            }
        }
        // a field's one public property
        Val::Field(f) => serde_json::json!({"value": f.value}),
        _ => Value::Object(Map::new()),
    }
}

/// PHP's `json_encode` of a float: whole numbers without a fraction.
fn float(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `Kql::render`: objects through their interceptor's `toResponse`/`toArray`, everything
/// else as is.
pub fn render(scope: &Scope<'_>, v: &Val) -> R<Value> {
    let policy = policy_of(scope);
    if is_roles(v) {
        return Ok(Value::Array(
            elements(v)
                .iter()
                .map(|r| match r {
                    Val::Role(n) => Value::String(n.clone()),
                    _ => Value::Null,
                })
                .collect(),
        ));
    }
    let Some((class, _)) = class_of(v) else {
        return Ok(match v {
            Val::List(l) => Value::Array(l.iter().map(plain).collect()),
            other => plain(other),
        });
    };
    let icpt = replace(&policy, v)?;
    if let Val::Permissions(m) = v {
        // `ModelPermissions::toArray`: every action of the model, as the API's `options`
        return Ok(Value::Object(match scope.gate {
            super::Gate::Actor(actor) => {
                crate::permissions::options(scope.snap, actor, methods::target_of(scope, *m))
            }
            super::Gate::Public => Map::new(),
        }));
    }
    let Some(icpt) = icpt else {
        return Err(QueryError::Exception(format!(
            "The object \"{class}\" cannot be rendered. Try querying one of its methods instead."
        )));
    };
    Ok(match v {
        Val::Field(f) => Value::String(f.value.clone().unwrap_or_default()),
        Val::Content(m) => {
            let content = match m {
                Model::Site => &scope.snap.site.content,
                Model::Page(p) => &scope.snap.pages[*p].content,
                Model::File(f) => &super::eval::file(scope.snap, *f).content,
                Model::User(u) => &scope.snap.users[*u].content,
            };
            php_map(
                content
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
        }
        Val::Data(_, data) => php_map((**data).clone()),
        Val::Items(_, list) => items::list_array(list),
        _ if icpt.is_collection() => Value::Array(keys(scope, v)),
        _ => {
            let wanted: Vec<&str> = icpt
                .to_array()
                .iter()
                .copied()
                .filter(|m| is_allowed(&policy, class, icpt, m))
                .collect();
            let mut out = Map::new();
            for key in wanted {
                let x = member(scope, &policy, v, key, Some(Vec::new()), &[])?;
                out.insert(key.to_string(), render(scope, &x)?);
            }
            php_map(out)
        }
    })
}

/// A collection's keys (ids).
fn keys(scope: &Scope<'_>, v: &Val) -> Vec<Value> {
    let snap = scope.snap;
    match v {
        Val::Pages(l) => l
            .iter()
            .map(|p| Value::String(snap.pages[*p].id.clone()))
            .collect(),
        Val::Files(l) => l
            .iter()
            .map(|f: &FileRef| Value::String(super::eval::file(snap, *f).id.clone()))
            .collect(),
        Val::Users(l) => l
            .iter()
            .map(|u| Value::String(snap.users[*u].id.clone()))
            .collect(),
        Val::Items(_, l) => l.iter().map(|i| i.id.clone()).collect(),
        _ => Vec::new(),
    }
}

/// The Kirby error a failed KQL query answers with.
pub fn to_error(e: &QueryError) -> crate::Error {
    use crate::Error;
    let empty = || Value::Array(Vec::new());
    match e {
        QueryError::Forbidden(m) => Error::Permission {
            key: "error.permission",
            message: m.clone(),
        },
        QueryError::BadMethod(m) => Error::BadMethodCall {
            key: "error.invalidMethod",
            message: m.clone(),
        },
        QueryError::Invalid(m) => Error::InvalidArgument {
            key: "error.invalidArgument",
            message: m.clone(),
            details: empty(),
        },
        QueryError::ErrorPage(m) => Error::ErrorPage {
            key: "error.errorPage",
            message: m.clone(),
        },
        QueryError::Exception(m) => Error::Unexpected {
            code: 500,
            exception: "Exception",
            detail: m.clone(),
        },
        QueryError::NotAvailable { name, .. } if name == "collection" => Error::NotFound {
            key: "error.notFound",
            message: "The collection cannot be found".into(),
        },
        QueryError::NotAvailable { name, .. } if name == "qr" => Error::Permission {
            key: "error.permission",
            message: "Access to the class \"Kirby\\Image\\QrCode\" is not supported".into(),
        },
        QueryError::NotFound(m) => Error::NotFound {
            key: "error.notFound",
            message: m.clone(),
        },
        QueryError::General(m) => Error::Request {
            code: 500,
            key: "error.general",
            message: m.clone(),
        },
        // an entry that needs an argument, called without one: a PHP error
        QueryError::Unknown { name, on }
            if *on == "the query"
                && matches!(name.as_str(), "page" | "file" | "collection" | "qr" | "t") =>
        {
            Error::Unexpected {
                code: 500,
                exception: "ArgumentCountError",
                detail: format!("Too few arguments to the query entry {name}()"),
            }
        }
        QueryError::Unknown { name, on } if *on == "the query" => Error::BadMethodCall {
            key: "error.invalidMethod",
            message: format!("Access to non-existing property \"{name}\" on array"),
        },
        QueryError::Unknown { name, on } => Error::BadMethodCall {
            key: "error.invalidMethod",
            message: format!("Access to non-existing method \"{name}\" on {on}"),
        },
        QueryError::NotAvailable { .. } => Error::BadMethodCall {
            key: "error.invalidMethod",
            message: e.to_string(),
        },
        QueryError::Syntax(m) => Error::InvalidArgument {
            key: "error.invalidArgument",
            message: format!("The query is invalid: {m}"),
            details: empty(),
        },
        QueryError::Argument(m) => Error::InvalidArgument {
            key: "error.invalidArgument",
            message: m.clone(),
            details: empty(),
        },
    }
}
