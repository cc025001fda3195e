//! JSON views of the models, kept apart from the models themselves: Kirby's field resolvers
//! per model kind, its named views (`default`, `compact`, `auth`, ...), `?select=` and
//! `?view=`, and the picker items that relation fields render as.

use serde_json::{Map, Value, json};

use folio_core::Snapshot;
use folio_core::media;
use folio_core::model::{File, FileParent, PageIdx, Status, UserIdx};
use folio_core::permissions::{self, Actor, Target, can};

use super::content;
use crate::app::urls::Urls;
use crate::time::iso8601;

/// Everything a view needs: the snapshot, who is looking, and the site's base URL.
pub struct V<'a> {
    /// The snapshot being rendered.
    pub snap: &'a Snapshot,
    /// The acting user.
    pub actor: &'a Actor,
    /// Base URL without trailing slash.
    pub base: &'a str,
}

/// Which fields of a model to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The model's default view (or every field when it has none).
    Default,
    /// A named view (`compact`, `auth`, `any`, ...).
    View(String),
    /// `?select=a,b,c`.
    Select(Vec<String>),
}

impl Plan {
    /// The plan for a single model from `?select` / `?view` (`view` wins).
    pub fn for_model(select: Option<&str>, view: Option<&str>) -> Plan {
        match (view, select) {
            (Some(v), _) if !v.is_empty() => Plan::View(v.to_string()),
            (_, Some(s)) if !s.is_empty() => Plan::Select(split_select(s)),
            _ => Plan::Default,
        }
    }

    /// The plan for collection items (`select` wins), given the collection's item view.
    pub fn for_collection(select: Option<&str>, view: Option<&str>, item_view: &str) -> Plan {
        match (select, view) {
            (Some(s), _) if !s.is_empty() => Plan::Select(split_select(s)),
            (_, Some(v)) if !v.is_empty() => Plan::View(v.to_string()),
            _ => Plan::View(item_view.to_string()),
        }
    }
}

fn split_select(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// One model kind's field names and views. A view entry `name:compact` renders that nested
/// model with its compact view.
struct Kind {
    all: &'static [&'static str],
    default: Option<&'static [&'static str]>,
    views: &'static [(&'static str, &'static [&'static str])],
}

const PAGE: Kind = Kind {
    all: &[
        "blueprint",
        "blueprints",
        "children",
        "content",
        "drafts",
        "errors",
        "files",
        "hasChildren",
        "hasDrafts",
        "hasFiles",
        "id",
        "isSortable",
        "num",
        "options",
        "parent",
        "parents",
        "previewUrl",
        "siblings",
        "slug",
        "status",
        "template",
        "title",
        "url",
        "uuid",
    ],
    default: Some(&[
        "content",
        "id",
        "num",
        "options",
        "parent:compact",
        "slug",
        "status",
        "template",
        "title",
        "url",
        "uuid",
    ]),
    views: &[
        ("compact", &["id", "num", "title", "url", "uuid"]),
        (
            "panel",
            &[
                "blueprint",
                "content",
                "id",
                "options",
                "parents:id|slug|title",
                "previewUrl",
                "slug",
                "status",
                "title",
                "url",
                "uuid",
            ],
        ),
    ],
};

const SITE: Kind = Kind {
    all: &[
        "blueprint",
        "children",
        "content",
        "drafts",
        "files",
        "options",
        "previewUrl",
        "title",
        "url",
    ],
    default: Some(&["content", "options", "title", "url"]),
    views: &[
        ("compact", &["title", "url"]),
        (
            "panel",
            &[
                "blueprint",
                "content",
                "options",
                "previewUrl",
                "title",
                "url",
            ],
        ),
    ],
};

const FILE: Kind = Kind {
    all: &[
        "blueprint",
        "content",
        "dimensions",
        "dragText",
        "exists",
        "extension",
        "filename",
        "id",
        "link",
        "mime",
        "modified",
        "name",
        "next",
        "nextWithTemplate",
        "niceSize",
        "options",
        "panelUrl",
        "parent",
        "parents",
        "prev",
        "prevWithTemplate",
        "size",
        "template",
        "thumbs",
        "type",
        "url",
        "uuid",
    ],
    default: Some(&[
        "content",
        "dimensions",
        "exists",
        "extension",
        "filename",
        "id",
        "link",
        "mime",
        "modified",
        "name",
        "next:compact",
        "niceSize",
        "options",
        "parent:compact",
        "prev:compact",
        "size",
        "template",
        "type",
        "url",
        "uuid",
    ]),
    views: &[(
        "compact",
        &["filename", "id", "link", "type", "url", "uuid"],
    )],
};

const USER: Kind = Kind {
    all: &[
        "avatar",
        "blueprint",
        "content",
        "email",
        "files",
        "id",
        "language",
        "name",
        "next",
        "options",
        "permissions",
        "prev",
        "role",
        "roles",
        "username",
        "uuid",
    ],
    default: Some(&[
        "avatar",
        "content",
        "email",
        "id",
        "language",
        "name",
        "next:compact",
        "options",
        "prev:compact",
        "role",
        "username",
        "uuid",
    ]),
    views: &[
        (
            "compact",
            &[
                "avatar:compact",
                "email",
                "id",
                "language",
                "name",
                "role:compact",
                "username",
                "uuid",
            ],
        ),
        (
            "auth",
            &[
                "avatar:compact",
                "email",
                "id",
                "language",
                "name",
                "permissions",
                "role",
            ],
        ),
    ],
};

const ROLE: Kind = Kind {
    all: &["description", "name", "permissions", "title"],
    default: None,
    views: &[("compact", &["description", "name", "title"])],
};

const FILE_VERSION: Kind = Kind {
    all: &[
        "dimensions",
        "exists",
        "extension",
        "filename",
        "id",
        "mime",
        "modified",
        "name",
        "niceSize",
        "size",
        "type",
        "url",
    ],
    default: None,
    views: &[("compact", &["filename", "id", "type", "url"])],
};

/// Resolves a plan into (field, nested plan) pairs, sorted by field name.
fn resolve(kind: &Kind, plan: &Plan) -> Vec<(&'static str, Plan)> {
    let from_list = |list: &'static [&'static str]| -> Vec<(&'static str, Plan)> {
        list.iter()
            .map(|entry| match entry.split_once(':') {
                // `name:a|b|c` renders the nested model with exactly those fields.
                Some((name, sub)) if sub.contains('|') => (
                    name,
                    Plan::Select(sub.split('|').map(str::to_string).collect()),
                ),
                Some((name, sub)) => (name, Plan::View(sub.to_string())),
                None => (*entry, Plan::Default),
            })
            .collect()
    };
    let all = || {
        kind.all
            .iter()
            .map(|n| (*n, Plan::Default))
            .collect::<Vec<_>>()
    };
    let default = || kind.default.map(from_list).unwrap_or_else(all);
    let mut out = match plan {
        Plan::Default => default(),
        Plan::View(v) if v == "any" => all(),
        Plan::View(v) => match kind.views.iter().find(|(n, _)| n == v) {
            Some((_, list)) => from_list(list),
            None if *v == "default" => default(),
            None => default(),
        },
        Plan::Select(names) => {
            let mut out: Vec<(&'static str, Plan)> = Vec::new();
            for n in names {
                if let Some(f) = kind.all.iter().find(|f| **f == n.as_str())
                    && !out.iter().any(|(x, _)| x == f)
                {
                    out.push((f, Plan::Default));
                }
            }
            out
        }
    };
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// `{}` or, for an empty object, `[]` as PHP writes it.
pub fn php_object(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(m)
    }
}

impl V<'_> {
    fn listable_page(&self, p: PageIdx) -> bool {
        can(self.snap, self.actor, Target::Page(p), "list")
    }

    /// Whether the actor may list a file.
    pub fn listable_file(&self, f: &File) -> bool {
        can(
            self.snap,
            self.actor,
            Target::File(f.parent, &f.filename),
            "list",
        )
    }

    fn urls(&self) -> Urls<'_> {
        Urls {
            snap: self.snap,
            base: self.base,
        }
    }

    /// The site's absolute page URL.
    pub fn page_url(&self, p: PageIdx) -> String {
        self.urls().page(p)
    }

    /// The media URL of a file.
    pub fn file_url(&self, f: &File) -> String {
        self.urls().file(f)
    }

    fn media_dir(&self, f: &File) -> String {
        self.urls().media_dir(f)
    }

    /// The Panel path of a file's parent (`pages/blog+x`, `site`, `users/<id>`, `account`).
    fn panel_parent_path(&self, parent: FileParent) -> String {
        match parent {
            FileParent::Site => "site".into(),
            FileParent::Page(p) => format!("pages/{}", self.snap.pages[p].id.replace('/', "+")),
            FileParent::User(u) => {
                if self.actor.is(self.snap, u) {
                    "account".into()
                } else {
                    format!("users/{}", self.snap.users[u].id)
                }
            }
        }
    }

    // ---------------------------------------------------------------- pages

    /// A page rendered with a plan.
    pub fn page(&self, p: PageIdx, plan: &Plan) -> Value {
        let page = &self.snap.pages[p];
        let mut m = Map::new();
        for (field, sub) in resolve(&PAGE, plan) {
            let v = match field {
                "blueprint" => self.page_blueprint(p),
                "blueprints" => Value::Array(self.page_blueprints(p)),
                "children" => self.pages_list(&page.children, &sub),
                "content" => content::page(self, p),
                "drafts" => self.pages_list(&page.drafts, &sub),
                "errors" => {
                    // Drafts are not validated; published pages report their form errors.
                    let bp = self.snap.blueprints.page(&page.template);
                    match folio_core::actions::validate(&bp.fields, &page.content) {
                        Err(e) if !page.is_draft() => e.details(),
                        _ => Value::Array(Vec::new()),
                    }
                }
                "files" => self.files_list(&page.files, &sub),
                "hasChildren" => Value::Bool(!page.children.is_empty()),
                "hasDrafts" => Value::Bool(!page.drafts.is_empty()),
                "hasFiles" => Value::Bool(!page.files.is_empty()),
                "id" => json!(page.id),
                "isSortable" => Value::Bool(can(self.snap, self.actor, Target::Page(p), "sort")),
                "num" => json!(page.num),
                "options" => {
                    Value::Object(permissions::options(self.snap, self.actor, Target::Page(p)))
                }
                "parent" => match page.parent {
                    Some(par) if self.listable_page(par) => self.page(par, &sub),
                    _ => Value::Null,
                },
                "parents" => {
                    let mut chain = Vec::new();
                    let mut cur = page.parent;
                    while let Some(c) = cur {
                        chain.push(c);
                        cur = self.snap.pages[c].parent;
                    }
                    chain.reverse();
                    self.pages_list(&chain, &sub)
                }
                "previewUrl" => {
                    if can(self.snap, self.actor, Target::Page(p), "preview") {
                        json!(self.page_url(p))
                    } else {
                        Value::Null
                    }
                }
                "siblings" => {
                    let list = match page.parent {
                        Some(par) => &self.snap.pages[par].children,
                        None => &self.snap.site.children,
                    };
                    self.pages_list(list, &sub)
                }
                "slug" => json!(page.slug),
                "status" => json!(page.status.as_str()),
                "template" => json!(page.template),
                "title" => json!(page.title()),
                "url" => json!(self.page_url(p)),
                "uuid" => page
                    .uuid()
                    .map(|u| json!(format!("page://{u}")))
                    .unwrap_or(Value::Null),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// Nested pages collection: listable pages with the nested plan (compact by default).
    fn pages_list(&self, list: &[PageIdx], sub: &Plan) -> Value {
        let plan = match sub {
            Plan::Default => Plan::View("compact".into()),
            other => other.clone(),
        };
        Value::Array(
            list.iter()
                .filter(|p| self.listable_page(**p))
                .map(|p| self.page(*p, &plan))
                .collect(),
        )
    }

    /// `{name, title}` of every template a page may switch to.
    pub fn page_blueprints(&self, p: PageIdx) -> Vec<Value> {
        self.snap
            .page_templates(p)
            .into_iter()
            .map(|t| {
                let bp = self.snap.blueprints.page(&t);
                json!({"name": t, "title": bp.title})
            })
            .collect()
    }

    // ---------------------------------------------------------------- site

    /// The site rendered with a plan.
    pub fn site(&self, plan: &Plan) -> Value {
        let site = &self.snap.site;
        let mut m = Map::new();
        for (field, sub) in resolve(&SITE, plan) {
            let v = match field {
                "blueprint" => self.site_blueprint(),
                "children" => self.pages_list(&site.children, &sub),
                "content" => content::site(self),
                "drafts" => self.pages_list(&site.drafts, &sub),
                "files" => self.files_list(&site.files, &sub),
                "options" => {
                    Value::Object(permissions::options(self.snap, self.actor, Target::Site))
                }
                "previewUrl" => json!(self.base),
                "title" => json!(site.title()),
                "url" => json!(self.base),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    // ---------------------------------------------------------------- files

    fn files_list(&self, files: &[File], sub: &Plan) -> Value {
        Value::Array(
            files
                .iter()
                .filter(|f| self.listable_file(f))
                .map(|f| self.file(f, sub))
                .collect(),
        )
    }

    /// A file rendered with a plan.
    pub fn file(&self, f: &File, plan: &Plan) -> Value {
        let mut m = Map::new();
        for (field, sub) in resolve(&FILE, plan) {
            let v = match field {
                "blueprint" => self.file_blueprint(f),
                "content" => content::file(self, f),
                "dimensions" => dimensions(f),
                "dragText" => json!(self.drag_text(f)),
                "exists" => Value::Bool(true),
                "extension" => json!(f.extension()),
                "filename" => json!(f.filename),
                "id" => json!(f.id),
                "link" | "panelUrl" => json!(self.file_link(f)),
                "mime" => json!(f.mime),
                "modified" => json!(iso8601(f.modified)),
                "name" => json!(f.name()),
                "next" | "prev" | "nextWithTemplate" | "prevWithTemplate" => {
                    match self.file_neighbour(f, field) {
                        Some(n) => self.file(n, &sub),
                        None => Value::Null,
                    }
                }
                "niceSize" => json!(media::nice_size(f.size)),
                "options" => Value::Object(permissions::options(
                    self.snap,
                    self.actor,
                    Target::File(f.parent, &f.filename),
                )),
                "parent" => self.file_parent(f.parent, &sub),
                "parents" => match f.parent {
                    FileParent::Page(p) => {
                        let mut chain = vec![p];
                        let mut cur = self.snap.pages[p].parent;
                        while let Some(c) = cur {
                            chain.push(c);
                            cur = self.snap.pages[c].parent;
                        }
                        chain.reverse();
                        self.pages_list(&chain, &sub)
                    }
                    _ => Value::Array(Vec::new()),
                },
                "size" => json!(f.size),
                "template" => f.template().map(|t| json!(t)).unwrap_or(Value::Null),
                "thumbs" => self.thumbs(f),
                "type" => f.kind().map(|t| json!(t)).unwrap_or(Value::Null),
                "url" => json!(self.file_url(f)),
                "uuid" => f
                    .uuid()
                    .map(|u| json!(format!("file://{u}")))
                    .unwrap_or(Value::Null),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    fn file_parent(&self, parent: FileParent, sub: &Plan) -> Value {
        match parent {
            FileParent::Site => self.site(sub),
            FileParent::Page(p) => {
                if self.listable_page(p) {
                    self.page(p, sub)
                } else {
                    Value::Null
                }
            }
            FileParent::User(u) => self.user(u, sub),
        }
    }

    fn file_link(&self, f: &File) -> String {
        format!("/{}/files/{}", self.panel_parent_path(f.parent), f.filename)
    }

    fn drag_text(&self, f: &File) -> String {
        let uuid = f
            .uuid()
            .map(|u| format!("file://{u}"))
            .unwrap_or_else(|| f.filename.clone());
        if f.kind() == Some("image") {
            format!("(image: {uuid})")
        } else {
            format!("(file: {uuid})")
        }
    }

    fn file_neighbour<'s>(&'s self, f: &File, which: &str) -> Option<&'s File> {
        let same_template = which.ends_with("WithTemplate");
        let list: Vec<&File> = self
            .snap
            .files_of(f.parent)
            .iter()
            .filter(|x| self.listable_file(x) || x.filename == f.filename)
            .filter(|x| !same_template || x.template() == f.template())
            .collect();
        let pos = list.iter().position(|x| x.filename == f.filename)?;
        if which.starts_with("next") {
            list.get(pos + 1).copied()
        } else if pos > 0 {
            list.get(pos - 1).copied()
        } else {
            None
        }
    }

    fn thumbs(&self, f: &File) -> Value {
        if f.dimensions.is_none() {
            return Value::Null;
        }
        let dir = self.media_dir(f);
        let ext = f.extension();
        let mut m = Map::new();
        for (name, w) in [
            ("tiny", 128),
            ("small", 256),
            ("medium", 512),
            ("large", 768),
            ("huge", 1024),
        ] {
            m.insert(name.into(), json!(format!("{dir}/{}-{w}x.{ext}", f.name())));
        }
        Value::Object(m)
    }

    // ---------------------------------------------------------------- users and roles

    /// A user rendered with a plan.
    pub fn user(&self, u: UserIdx, plan: &Plan) -> Value {
        let user = &self.snap.users[u];
        let mut m = Map::new();
        for (field, sub) in resolve(&USER, plan) {
            let v = match field {
                "avatar" => match user.avatar() {
                    Some(f) => self.file_version(f, &sub),
                    None => Value::Null,
                },
                "blueprint" => self.user_blueprint(u),
                "content" => content::user(self, u),
                "email" => json!(user.email),
                "files" => self.files_list(&user.files, &sub),
                "id" => json!(user.id),
                "language" => json!(user.language),
                "name" => user.name.as_ref().map(|n| json!(n)).unwrap_or(Value::Null),
                "next" | "prev" => match self.user_neighbour(u, field == "next") {
                    Some(n) => self.user(n, &sub),
                    None => Value::Null,
                },
                "options" => {
                    Value::Object(permissions::options(self.snap, self.actor, Target::User(u)))
                }
                "permissions" => self.snap.role_named(&user.role).permissions.to_json(),
                "role" => {
                    if self.role_accessible(&user.role) {
                        self.role(&user.role, &sub)
                    } else {
                        Value::Null
                    }
                }
                "roles" => Value::Array(
                    self.assignable_roles(u)
                        .iter()
                        .map(|r| self.role(r, &Plan::View("compact".into())))
                        .collect(),
                ),
                "username" => json!(user.username()),
                "uuid" => json!(format!("user://{}", user.id)),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// Users sorted by username then e-mail.
    pub fn sorted_users(&self) -> Vec<UserIdx> {
        let mut v: Vec<UserIdx> = (0..self.snap.users.len()).collect();
        v.sort_by(|a, b| {
            let (ua, ub) = (&self.snap.users[*a], &self.snap.users[*b]);
            ua.username()
                .to_lowercase()
                .cmp(&ub.username().to_lowercase())
                .then_with(|| ua.email.cmp(&ub.email))
        });
        v
    }

    fn user_neighbour(&self, u: UserIdx, next: bool) -> Option<UserIdx> {
        let list: Vec<UserIdx> = self
            .sorted_users()
            .into_iter()
            .filter(|x| *x == u || can(self.snap, self.actor, Target::User(*x), "list"))
            .collect();
        let pos = list.iter().position(|x| *x == u)?;
        if next {
            list.get(pos + 1).copied()
        } else if pos > 0 {
            list.get(pos - 1).copied()
        } else {
            None
        }
    }

    /// A role is accessible when the actor could access a user with that role.
    pub fn role_accessible(&self, role: &str) -> bool {
        let own = match self.actor {
            Actor::User(_) => self
                .actor
                .user_idx(self.snap)
                .is_some_and(|me| self.snap.users[me].role == role),
            Actor::Kirby => true,
            Actor::Nobody => false,
        };
        if own && can(self.snap, self.actor, Target::Area("user"), "access") {
            return true;
        }
        can(self.snap, self.actor, Target::Area("users"), "access")
    }

    /// Roles the actor may give to a user (every role for admins).
    pub fn assignable_roles(&self, _u: UserIdx) -> Vec<String> {
        let admin = self.snap.role_of(self.actor).name == "admin";
        self.snap
            .roles
            .keys()
            .filter(|r| admin || (*r != "admin" && self.role_accessible(r)))
            .cloned()
            .collect()
    }

    /// A role rendered with a plan.
    pub fn role(&self, name: &str, plan: &Plan) -> Value {
        let role = self.snap.role_named(name);
        let mut m = Map::new();
        for (field, _) in resolve(&ROLE, plan) {
            let v = match field {
                "description" => role
                    .description
                    .as_ref()
                    .map(|d| json!(d))
                    .unwrap_or(Value::Null),
                "name" => json!(role.name),
                "permissions" => role.permissions.to_json(),
                "title" => json!(role.title),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    fn file_version(&self, f: &File, plan: &Plan) -> Value {
        let mut m = Map::new();
        for (field, _) in resolve(&FILE_VERSION, plan) {
            let v = match field {
                "dimensions" => dimensions(f),
                "exists" => Value::Bool(true),
                "extension" => json!(f.extension()),
                "filename" => json!(f.filename),
                "id" => json!(f.id),
                "mime" => json!(f.mime),
                "modified" => json!(iso8601(f.modified)),
                "name" => json!(f.name()),
                "niceSize" => json!(media::nice_size(f.size)),
                "size" => json!(f.size),
                "type" => f.kind().map(|t| json!(t)).unwrap_or(Value::Null),
                "url" => json!(self.file_url(f)),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    // ---------------------------------------------------------------- pickers

    fn page_image(&self, icon: &str, color: &str, image: Option<&File>) -> Value {
        let mut m = Map::new();
        m.insert("back".into(), json!("pattern"));
        m.insert("color".into(), json!(color));
        m.insert("cover".into(), json!(false));
        m.insert("icon".into(), json!(icon));
        if let Some(f) = image {
            let dir = self.media_dir(f);
            let ext = f.extension();
            m.insert("url".into(), json!(self.file_url(f)));
            m.insert(
                "src".into(),
                json!("data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw"),
            );
            m.insert(
                "srcset".into(),
                json!(format!(
                    "{dir}/{n}-38x.{ext} 38w, {dir}/{n}-76x.{ext} 76w",
                    n = f.name()
                )),
            );
        }
        Value::Object(m)
    }

    /// A page as a Panel picker item (pages fields).
    pub fn page_picker(&self, p: PageIdx, with_extras: bool) -> Value {
        let page = &self.snap.pages[p];
        let bp = self.snap.blueprints.page(&page.template);
        let image = page.files.iter().find(|f| f.kind() == Some("image"));
        let icon = bp.icon.clone().unwrap_or_else(|| "page".into());
        let uuid = page.uuid().map(|u| format!("page://{u}"));
        let perms: Map<String, Value> = [
            "changeSlug",
            "changeStatus",
            "changeTitle",
            "delete",
            "sort",
        ]
        .iter()
        .map(|a| {
            (
                a.to_string(),
                Value::Bool(can(self.snap, self.actor, Target::Page(p), a)),
            )
        })
        .collect();
        let mut m = Map::new();
        m.insert("id".into(), json!(page.id));
        m.insert("image".into(), self.page_image(&icon, "gray-500", image));
        m.insert("info".into(), json!(""));
        m.insert(
            "link".into(),
            json!(format!("/pages/{}", page.id.replace('/', "+"))),
        );
        m.insert("permissions".into(), Value::Object(perms));
        m.insert("text".into(), json!(page.title()));
        m.insert("uuid".into(), json!(uuid));
        m.insert(
            "dragText".into(),
            json!(format!(
                "(link: {} text: {})",
                uuid.clone().unwrap_or_else(|| page.id.clone()),
                page.title()
            )),
        );
        m.insert(
            "parent".into(),
            page.parent
                .map(|x| json!(self.snap.pages[x].id))
                .unwrap_or(Value::Null),
        );
        m.insert("status".into(), json!(page.status.as_str()));
        m.insert("template".into(), json!(page.template));
        m.insert("url".into(), json!(self.page_url(p)));
        if with_extras {
            m.insert("hasChildren".into(), json!(!page.children.is_empty()));
            m.insert("sortable".into(), json!(true));
        }
        Value::Object(m)
    }

    /// A file as a Panel picker item (files fields).
    pub fn file_picker(&self, f: &File) -> Value {
        let kind = f.kind();
        let ext = f.extension();
        let color = match ext.as_str() {
            "csv" | "xls" | "xlsx" => "green-500",
            "doc" | "docx" | "rtf" => "blue-500",
            "indd" => "purple-500",
            _ => match kind {
                Some("image") => "orange-500",
                Some("archive") => "gray-500",
                Some("audio") => "aqua-500",
                Some("code") => "pink-500",
                Some("document") => "red-500",
                Some("video") => "yellow-500",
                _ => "gray-500",
            },
        };
        let icon = match ext.as_str() {
            "csv" | "xls" | "xlsx" => "table",
            "doc" | "docx" | "rtf" => "pen",
            "md" | "mdown" => "markdown",
            _ => kind.unwrap_or("file"),
        };
        let image = (kind == Some("image")).then_some(f);
        let target = Target::File(f.parent, &f.filename);
        let perms: Map<String, Value> = ["delete", "sort"]
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    Value::Bool(can(self.snap, self.actor, target, a)),
                )
            })
            .collect();
        let mut m = Map::new();
        m.insert("id".into(), json!(f.filename));
        m.insert("image".into(), self.page_image(icon, color, image));
        m.insert("info".into(), json!(""));
        m.insert("link".into(), json!(self.file_link(f)));
        m.insert("permissions".into(), Value::Object(perms));
        m.insert("text".into(), json!(f.filename));
        m.insert(
            "uuid".into(),
            json!(f.uuid().map(|u| format!("file://{u}"))),
        );
        m.insert("dragText".into(), json!(self.drag_text(f)));
        m.insert("extension".into(), json!(ext));
        m.insert("filename".into(), json!(f.filename));
        m.insert("mime".into(), json!(f.mime));
        m.insert("parent".into(), json!(self.panel_parent_path(f.parent)));
        m.insert("template".into(), json!(f.template()));
        m.insert("url".into(), json!(self.file_url(f)));
        m.insert("sortable".into(), json!(true));
        m.insert("type".into(), json!(kind));
        Value::Object(m)
    }

    /// A user as a Panel picker item (users fields).
    pub fn user_picker(&self, u: UserIdx) -> Value {
        let user = &self.snap.users[u];
        let link = if self.actor.is(self.snap, u) {
            "/account".to_string()
        } else {
            format!("/users/{}", user.id)
        };
        json!({
            "id": user.id,
            "image": {"back": "black", "color": "gray-500", "cover": false, "icon": "user", "ratio": "1/1"},
            "info": "",
            "link": link,
            "permissions": Value::Object(permissions::options(self.snap, self.actor, Target::User(u))),
            "text": user.username(),
            "uuid": format!("user://{}", user.id),
            "email": user.email,
            "sortable": true,
            "username": user.username(),
        })
    }

    /// Whether a page is a draft (used by the sections view).
    pub fn is_draft(&self, p: PageIdx) -> bool {
        self.snap.pages[p].status == Status::Draft
    }
}

/// Kirby's `dimensions` value: an object for images, `{"dimensions":null}` otherwise.
fn dimensions(f: &File) -> Value {
    match f.dimensions {
        Some((w, h)) if w > 0 && h > 0 => {
            let ratio = if w % h == 0 {
                json!(w / h)
            } else {
                json!(w as f64 / h as f64)
            };
            json!({"width": w, "height": h, "ratio": ratio, "orientation": media::orientation(w, h)})
        }
        _ => json!({"dimensions": null}),
    }
}
