//! Kirby's query language over the snapshot: `site.children.listed.count`,
//! `page.files.template("photo").first`, `{{ page.title }}` string templates. One evaluator
//! for blueprints (`query:`, `info:`/`text:` templates, `num:`, option queries) and KQL.
//!
//! * Only an allowlist of methods per class is evaluated (see [`methods`]); anything a site's
//!   PHP page models or plugins would add is answered with [`QueryError::NotAvailable`],
//!   never with a guess.
//! * Every page, file and user a query yields passes the scope's [`Gate`]: with an actor,
//!   `can(…, "list")`; anonymous public scopes see published pages only.
//! * A content field is reached as a method of its model (`page.location`), as in Kirby.

mod eval;
pub mod items;
pub mod kql;
pub mod methods;
pub mod options;
mod parse;
mod php_methods;

pub use eval::FieldVal;
pub use items::{Item, ItemKind};
pub use parse::{Expr, Lit, SyntaxError, parse};

use indexmap::IndexMap;
use std::sync::Arc;

use crate::Snapshot;
use crate::model::{FileParent, PageIdx, UserIdx};
use crate::permissions::Actor;

/// A file of the snapshot, by owner and position in the owner's file list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRef {
    /// Who owns the file.
    pub parent: FileParent,
    /// Index into [`Snapshot::files_of`].
    pub idx: usize,
}

/// A model with content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Site,
    Page(PageIdx),
    File(FileRef),
    User(UserIdx),
}

/// A value a query produces.
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    Map(IndexMap<String, Val>),
    /// The `kirby` object.
    Kirby,
    Site,
    Page(PageIdx),
    Pages(Vec<PageIdx>),
    File(FileRef),
    Files(Vec<FileRef>),
    User(UserIdx),
    Users(Vec<UserIdx>),
    /// A role, by name.
    Role(String),
    /// A content field of a model.
    Field(Arc<FieldVal>),
    /// A model's whole content (`page.content`).
    Content(Model),
    /// `(a, b) => body`.
    Closure(Arc<(Vec<String>, Expr)>),
    /// An image's `dimensions` (width, height); prints as `w × h`.
    Dimensions(u32, u32),
    /// A structure, blocks, layouts or layout columns collection (`field.toBlocks`).
    Items(ItemKind, Vec<Arc<Item>>),
    /// One structure item, block, layout or layout column.
    Item(Arc<Item>),
    /// Content that belongs to no content file: a block's content, a layout's attrs.
    Data(
        Option<Model>,
        Arc<serde_json::Map<String, serde_json::Value>>,
    ),
    /// A model's permissions for the caller (`page.permissions`): each action a bool.
    Permissions(Model),
}

impl From<Model> for Val {
    fn from(m: Model) -> Val {
        match m {
            Model::Site => Val::Site,
            Model::Page(p) => Val::Page(p),
            Model::File(f) => Val::File(f),
            Model::User(u) => Val::User(u),
        }
    }
}

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The query does not parse.
    Syntax(String),
    /// A name that is neither a method nor (for models) a content field, on `on`.
    Unknown { name: String, on: &'static str },
    /// A method Kirby has but Folio does not evaluate (PHP page models, plugins, images…).
    NotAvailable { name: String, on: &'static str },
    /// A method was called with arguments it cannot use.
    Argument(String),
    /// KQL refuses a method or class (`Kirby\\Exception\\PermissionException`, 403).
    Forbidden(String),
    /// The legacy runner's `BadMethodCallException` (400, `error.invalidMethod`): a member
    /// of `null`, a scalar or a missing array key.
    BadMethod(String),
    /// An `InvalidArgumentException` with Kirby's message (400).
    Invalid(String),
    /// An `ErrorPageException` (404): a pagination page out of range.
    ErrorPage(String),
    /// A plain PHP exception with Kirby's message (500).
    Exception(String),
    /// A `NotFoundException` (404, `error.notFound`).
    NotFound(String),
    /// A `Kirby\\Exception\\Exception` (500, `error.general`), its message shown.
    General(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Syntax(m) => write!(f, "The query is invalid: {m}"),
            QueryError::Unknown { name, on } => {
                write!(f, "The query uses \"{name}\", which {on} does not have")
            }
            QueryError::NotAvailable { name, on } => write!(
                f,
                "The query method \"{name}\" of {on} is not available in Folio"
            ),
            QueryError::Argument(m) => write!(f, "The query has an invalid argument: {m}"),
            QueryError::Forbidden(m)
            | QueryError::BadMethod(m)
            | QueryError::Invalid(m)
            | QueryError::ErrorPage(m)
            | QueryError::NotFound(m)
            | QueryError::General(m)
            | QueryError::Exception(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for QueryError {}

/// Builds URLs for models (the HTTP layer knows the base URL and languages).
pub trait Host: Sync {
    /// The public URL of a model.
    fn url(&self, model: Model) -> String;

    /// `field.toDate(format)`: the unix time of a date value (no format) or the formatted
    /// date; `None` when the host cannot read dates.
    fn to_date(&self, value: &str, format: Option<&str>) -> Option<Val> {
        let _ = (value, format);
        None
    }
}

/// Which models a query may yield.
#[derive(Debug, Clone, Copy)]
pub enum Gate<'a> {
    /// Models the actor may list (`can(…, "list")`).
    Actor(&'a Actor),
    /// Published pages and their files only (anonymous public reads); no users.
    Public,
}

/// What a query runs against: the snapshot, who asks, and the named values.
pub struct Scope<'a> {
    /// The snapshot (in the request's language).
    pub snap: &'a Snapshot,
    /// Which models may be yielded.
    pub gate: Gate<'a>,
    /// URL builder, when URLs may be asked for.
    pub host: Option<&'a dyn Host>,
    /// KQL's method and class rules, when the query comes from `/api/query`.
    pub kql: Option<&'a kql::Policy>,
    vars: Vec<(&'static str, Val)>,
}

impl<'a> Scope<'a> {
    /// A scope with `kirby` and `site` bound.
    pub fn new(snap: &'a Snapshot, gate: Gate<'a>) -> Scope<'a> {
        Scope {
            snap,
            gate,
            host: None,
            kql: None,
            vars: vec![("kirby", Val::Kirby), ("site", Val::Site)],
        }
    }

    /// Adds a URL builder.
    pub fn with_host(mut self, host: &'a dyn Host) -> Self {
        self.host = Some(host);
        self
    }

    /// Binds (or rebinds) a name.
    pub fn bind(mut self, name: &'static str, value: Val) -> Self {
        self.vars.retain(|(n, _)| *n != name);
        self.vars.push((name, value));
        self
    }

    /// Binds `model` and the model's own name (`page`, `file`, `user`; the site is `site`).
    pub fn for_model(self, model: Model) -> Self {
        let own = match model {
            Model::Site => "site",
            Model::Page(_) => "page",
            Model::File(_) => "file",
            Model::User(_) => "user",
        };
        self.bind("model", model.into()).bind(own, model.into())
    }

    /// The value bound to `name`.
    pub fn var(&self, name: &str) -> Option<&Val> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// Parses and evaluates a query. An empty query is `null`.
    pub fn eval(&self, query: &str) -> Result<Val, QueryError> {
        if query.trim().is_empty() {
            return Ok(Val::Null);
        }
        let expr = parse(query).map_err(|e| QueryError::Syntax(e.0))?;
        self.eval_expr(&expr)
    }

    /// Evaluates a parsed query.
    pub fn eval_expr(&self, expr: &Expr) -> Result<Val, QueryError> {
        eval::eval(self, expr, &[])
    }

    /// Kirby's string template: each `{{ query }}` (and `{< query >}`) is replaced by the
    /// query's text. With `safe`, `{{ }}` results are HTML-escaped and `{< >}` results are
    /// not. A query that fails or yields nothing becomes `fallback`, or stays as written
    /// when `fallback` is `None`.
    pub fn template(&self, text: &str, safe: bool, fallback: Option<&str>) -> String {
        if safe {
            let once = self.replace(text, "{{", "}}", true, fallback);
            self.replace(&once, "{<", ">}", false, fallback)
        } else {
            self.replace_any(text, fallback)
        }
    }

    fn render(&self, query: &str, escape: bool, fallback: Option<&str>) -> Option<String> {
        let text = self
            .eval(query.trim())
            .ok()
            .and_then(|v| v.to_text(self))
            .or_else(|| fallback.map(str::to_string))?;
        Some(if escape { escape_html(&text) } else { text })
    }

    fn replace(
        &self,
        text: &str,
        open: &str,
        close: &str,
        escape: bool,
        fallback: Option<&str>,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(close) else { break };
            out.push_str(&rest[..start]);
            let query = &after[..end];
            match self.render(query, escape, fallback) {
                Some(s) => out.push_str(&s),
                None => out.push_str(&rest[start..start + open.len() + end + close.len()]),
            }
            rest = &after[end + close.len()..];
        }
        out.push_str(rest);
        out
    }

    /// The unsafe template: `{{ }}`, `{< >}` and single `{ }` all open a query.
    fn replace_any(&self, text: &str, fallback: Option<&str>) -> String {
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'{' {
                let closes: &[&str] = &["}}", ">}", "}"];
                let open_len = if text[i..].starts_with("{{") || text[i..].starts_with("{<") {
                    2
                } else {
                    1
                };
                let body_start = i + open_len;
                // the first closer after the opener, lazily
                let mut best: Option<(usize, usize)> = None;
                for c in closes {
                    if let Some(pos) = text[body_start..].find(c) {
                        let at = body_start + pos;
                        if best.is_none_or(|(b, _)| at < b) {
                            best = Some((at, c.len()));
                        }
                    }
                }
                if let Some((at, len)) = best {
                    let query = &text[body_start..at];
                    match self.render(query, false, fallback) {
                        Some(s) => out.push_str(&s),
                        None => out.push_str(&text[i..at + len]),
                    }
                    i = at + len;
                    continue;
                }
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }
}

impl Val {
    /// PHP's string conversion of the value; `None` for `null` (and for values PHP cannot
    /// print, such as closures).
    pub fn to_text(&self, scope: &Scope<'_>) -> Option<String> {
        let snap = scope.snap;
        Some(match self {
            Val::Null | Val::Closure(_) => return None,
            Val::Bool(true) => "1".into(),
            Val::Bool(false) => String::new(),
            Val::Int(n) => n.to_string(),
            Val::Float(f) => php_float(*f),
            Val::Str(s) => s.clone(),
            Val::List(_) | Val::Map(_) => "Array".into(),
            Val::Kirby => String::new(),
            Val::Site => scope.host.map(|h| h.url(Model::Site)).unwrap_or_default(),
            Val::Page(p) => snap.pages[*p].id.clone(),
            Val::File(f) => eval::file(snap, *f).id.clone(),
            Val::User(u) => snap.users[*u].id.clone(),
            Val::Role(r) => r.clone(),
            Val::Pages(list) => list
                .iter()
                .map(|p| snap.pages[*p].id.as_str())
                .collect::<Vec<_>>()
                .join("<br />"),
            Val::Files(list) => list
                .iter()
                .map(|f| eval::file(snap, *f).id.as_str())
                .collect::<Vec<_>>()
                .join("<br />"),
            Val::Users(list) => list
                .iter()
                .map(|u| snap.users[*u].id.as_str())
                .collect::<Vec<_>>()
                .join("<br />"),
            Val::Field(f) => f.value.clone().unwrap_or_default(),
            Val::Content(_) => "Array".into(),
            Val::Dimensions(w, h) => format!("{w} × {h}"),
            Val::Items(_, list) => list
                .iter()
                .map(|i| i.id_text())
                .collect::<Vec<_>>()
                .join("<br />"),
            Val::Item(i) => i.id_text(),
            Val::Data(..) => "Array".into(),
            Val::Permissions(_) => String::new(),
        })
    }

    /// PHP truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty() && s != "0",
            Val::List(l) => !l.is_empty(),
            Val::Map(m) => !m.is_empty(),
            _ => true,
        }
    }

    /// The class name used in messages.
    pub fn class(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Str(_) => "string",
            Val::List(_) | Val::Map(_) => "array",
            Val::Kirby => "kirby",
            Val::Site => "site",
            Val::Page(_) => "page",
            Val::Pages(_) => "pages",
            Val::File(_) => "file",
            Val::Files(_) => "files",
            Val::User(_) => "user",
            Val::Users(_) => "users",
            Val::Role(_) => "role",
            Val::Field(_) => "field",
            Val::Content(_) => "content",
            Val::Closure(_) => "closure",
            Val::Dimensions(..) => "dimensions",
            Val::Items(k, _) => k.collection_alias(),
            Val::Item(i) => i.kind.alias(),
            Val::Data(..) => "content",
            Val::Permissions(_) => "permissions",
        }
    }
}

/// Kirby's `Escape::html`: `& < > " '` as entities (`'` as `&#039;`).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            c => out.push(c),
        }
    }
    out
}

/// PHP's float-to-string: integral floats without a fraction, others in shortest form.
pub fn php_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        let s = format!("{f}");
        if s == "inf" {
            "INF".into()
        } else if s == "-inf" {
            "-INF".into()
        } else if s == "NaN" {
            "NAN".into()
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests;
