//! The template context: `site`, `page`, `kirby` and the collections and files reached from
//! them, as lazy minijinja objects over the immutable snapshot. Only published pages (no
//! draft and no page below a draft) are ever reachable from a template, except the page
//! being previewed itself.

use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use folio_core::Snapshot;
use folio_core::model::{Content, File, FileParent, PageIdx, Status};
use folio_core::natsort;

use crate::app::urls::Urls;
use crate::auth::{Auth, SessionHandle};

/// What every object of one render shares: the snapshot and the site's base URL.
pub struct Cx {
    /// The snapshot being rendered.
    pub snap: Arc<Snapshot>,
    /// Base URL without trailing slash.
    pub base: String,
}

impl fmt::Debug for Cx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx").field("base", &self.base).finish()
    }
}

impl Cx {
    fn urls(&self) -> Urls<'_> {
        Urls {
            snap: &self.snap,
            base: &self.base,
        }
    }

    /// The page's URL (the site URL for the home page).
    pub fn page_url(&self, p: PageIdx) -> String {
        self.urls().page(p)
    }

    /// The file's media URL.
    pub fn file_url(&self, f: &File) -> String {
        self.urls().file(f)
    }

    /// True when neither the page nor any of its ancestors is a draft.
    pub fn is_public(&self, p: PageIdx) -> bool {
        let mut cur = Some(p);
        while let Some(i) = cur {
            let page = &self.snap.pages[i];
            if page.status == Status::Draft {
                return false;
            }
            cur = page.parent;
        }
        true
    }

    /// A published page by id (`page://` UUIDs too); drafts are never found.
    pub fn find_public(&self, key: &str) -> Option<PageIdx> {
        let key = key.trim().trim_matches('/');
        let p = if key.starts_with("page://") {
            match self.snap.by_uuid(key) {
                Some(folio_core::snapshot::UuidTarget::Page(p)) => Some(*p),
                _ => None,
            }
        } else {
            self.snap.page_by_id(key)
        }?;
        self.is_public(p).then_some(p)
    }

    /// A file by `file://` UUID, `page/id/filename`, or a filename of `current`.
    pub fn find_file(&self, key: &str, current: Option<FileParent>) -> Option<(FileParent, usize)> {
        let key = key.trim();
        let (parent, name) = if key.starts_with("file://") {
            match self.snap.by_uuid(key)? {
                folio_core::snapshot::UuidTarget::File(parent, name) => (*parent, name.clone()),
                _ => return None,
            }
        } else if let Some(i) = current
            .filter(|c| self.snap.file(*c, key).is_some())
            .map(|c| (c, key.to_string()))
        {
            i
        } else if let Some((page, name)) = key.rsplit_once('/') {
            (
                FileParent::Page(self.snap.page_by_id(page)?),
                name.to_string(),
            )
        } else {
            (FileParent::Site, key.to_string())
        };
        // Files of drafts only for the (previewed) page being rendered.
        if let FileParent::Page(p) = parent
            && !self.is_public(p)
            && current != Some(parent)
        {
            return None;
        }
        if let FileParent::User(_) = parent {
            return None;
        }
        let i = self
            .snap
            .files_of(parent)
            .iter()
            .position(|f| f.filename == name)?;
        Some((parent, i))
    }
}

/// An optional model: undefined when missing, so `page.parent.title` stays empty.
fn opt(v: Option<Value>) -> Value {
    v.unwrap_or(Value::UNDEFINED)
}

/// A field value, as templates see it (a plain string; missing fields are undefined).
fn field(content: &Content, key: &str) -> Option<Value> {
    content
        .get(&key.to_ascii_lowercase())
        .map(|v| Value::from(v.as_str()))
}

fn content_value(content: &Content) -> Value {
    Value::from_iter(
        content
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
    )
}

/// Zero-argument method calls read the property of the same name (`page.title()`), as in
/// Kirby's PHP templates.
fn as_property(value: Option<Value>, method: &str, args: &[Value]) -> Result<Value, Error> {
    match value {
        Some(v) if args.is_empty() => Ok(v),
        _ => Err(Error::new(
            ErrorKind::UnknownMethod,
            format!("unknown method {method}"),
        )),
    }
}

fn arg_str(args: &[Value], i: usize) -> Option<String> {
    args.get(i)
        .filter(|v| !v.is_undefined() && !v.is_none())
        .map(|v| match v.as_str() {
            Some(s) => s.to_string(),
            None => v.to_string(),
        })
}

fn arg_usize(args: &[Value], i: usize) -> Result<usize, Error> {
    args.get(i)
        .and_then(|v| v.as_i64())
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "expected a number"))
}

// ---------------------------------------------------------------------------------------
// Pages

/// A page.
#[derive(Debug)]
pub struct PageObj {
    pub(crate) cx: Arc<Cx>,
    pub(crate) idx: PageIdx,
}

impl PageObj {
    /// A page object as a template value.
    pub fn value(cx: &Arc<Cx>, idx: PageIdx) -> Value {
        Value::from_object(PageObj {
            cx: cx.clone(),
            idx,
        })
    }

    /// The page's files as a template value.
    fn files(&self, only_images: bool) -> Value {
        FilesObj::value(&self.cx, FileParent::Page(self.idx), only_images)
    }

    fn siblings(&self) -> Vec<PageIdx> {
        let snap = &self.cx.snap;
        let list = match snap.pages[self.idx].parent {
            Some(p) => &snap.pages[p].children,
            None => &snap.site.children,
        };
        list.clone()
    }

    fn neighbour(&self, forward: bool, listed_only: bool) -> Option<Value> {
        let snap = &self.cx.snap;
        let list: Vec<PageIdx> = self
            .siblings()
            .into_iter()
            .filter(|p| !listed_only || snap.pages[*p].status == Status::Listed)
            .collect();
        let pos = list.iter().position(|p| *p == self.idx)?;
        let other = if forward {
            list.get(pos + 1)
        } else {
            pos.checked_sub(1).and_then(|i| list.get(i))
        }?;
        Some(PageObj::value(&self.cx, *other))
    }

    /// True when `current` is this page or one of its descendants.
    fn is_open(&self, current: Option<PageIdx>) -> bool {
        let mut cur = current;
        while let Some(c) = cur {
            if c == self.idx {
                return true;
            }
            cur = self.cx.snap.pages[c].parent;
        }
        false
    }
}

fn current_page(state: &State<'_, '_>) -> Option<PageIdx> {
    state
        .lookup("page")
        .and_then(|v| v.downcast_object_ref::<PageObj>().map(|p| p.idx))
}

impl Object for PageObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let snap = &self.cx.snap;
        let page = &snap.pages[self.idx];
        let children = |pred: &dyn Fn(Status) -> bool| {
            let list: Vec<PageIdx> = page
                .children
                .iter()
                .copied()
                .filter(|c| pred(snap.pages[*c].status))
                .collect();
            PagesObj::value(&self.cx, list)
        };
        Some(match key {
            "id" => Value::from(page.id.as_str()),
            "slug" | "uid" => Value::from(page.slug.as_str()),
            "title" => Value::from(page.title()),
            "url" => Value::from(self.cx.page_url(self.idx)),
            "template" | "intendedTemplate" => Value::from(page.template.as_str()),
            "status" => Value::from(page.status.as_str()),
            "num" => Value::from(page.num),
            "uuid" => Value::from(page.uuid().map(|u| format!("page://{u}"))),
            "isListed" => Value::from(page.status == Status::Listed),
            "isUnlisted" => Value::from(page.status == Status::Unlisted),
            "isDraft" => Value::from(page.status == Status::Draft),
            "isHomePage" => Value::from(snap.is_home(self.idx)),
            "isErrorPage" => Value::from(snap.is_error(self.idx)),
            "isHomeOrErrorPage" => Value::from(snap.is_home(self.idx) || snap.is_error(self.idx)),
            "depth" => {
                let mut d = 1;
                let mut cur = page.parent;
                while let Some(p) = cur {
                    d += 1;
                    cur = snap.pages[p].parent;
                }
                Value::from(d)
            }
            "parent" => opt(page.parent.map(|p| PageObj::value(&self.cx, p))),
            "parents" => {
                let mut list = Vec::new();
                let mut cur = page.parent;
                while let Some(p) = cur {
                    list.push(p);
                    cur = snap.pages[p].parent;
                }
                PagesObj::value(&self.cx, list)
            }
            "children" => children(&|_| true),
            "listed" => children(&|s| s == Status::Listed),
            "unlisted" => children(&|s| s == Status::Unlisted),
            "hasChildren" => Value::from(!page.children.is_empty()),
            "hasListedChildren" => Value::from(
                page.children
                    .iter()
                    .any(|c| snap.pages[*c].status == Status::Listed),
            ),
            "siblings" => PagesObj::value(&self.cx, self.siblings()),
            "prev" => opt(self.neighbour(false, false)),
            "next" => opt(self.neighbour(true, false)),
            "prevListed" => opt(self.neighbour(false, true)),
            "nextListed" => opt(self.neighbour(true, true)),
            "files" => self.files(false),
            "images" => self.files(true),
            "image" => FilesObj::value(&self.cx, FileParent::Page(self.idx), true)
                .get_item_by_index(0)
                .ok()
                .filter(|v| !v.is_undefined())
                .unwrap_or(Value::UNDEFINED),
            "hasFiles" => Value::from(!page.files.is_empty()),
            "hasImages" => Value::from(page.files.iter().any(|f| f.kind() == Some("image"))),
            "content" => content_value(&page.content),
            other => return field(&page.content, other),
        })
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let snap = &self.cx.snap;
        match method {
            "file" | "image" if !args.is_empty() => {
                let name = arg_str(args, 0).unwrap_or_default();
                let files = snap.files_of(FileParent::Page(self.idx));
                Ok(opt(files
                    .iter()
                    .position(|f| {
                        f.filename == name && (method == "file" || f.kind() == Some("image"))
                    })
                    .map(|i| {
                        FileObj::value(&self.cx, FileParent::Page(self.idx), i)
                    })))
            }
            "find" => {
                let id = arg_str(args, 0).unwrap_or_default();
                let full = format!("{}/{}", snap.pages[self.idx].id, id.trim_matches('/'));
                Ok(opt(self
                    .cx
                    .find_public(&full)
                    .map(|p| PageObj::value(&self.cx, p))))
            }
            "isOpen" | "isActive" => {
                let current = current_page(state);
                Ok(Value::from(if method == "isActive" {
                    current == Some(self.idx)
                } else {
                    self.is_open(current)
                }))
            }
            "is" => Ok(Value::from(
                args.first()
                    .and_then(|v| v.downcast_object_ref::<PageObj>())
                    .is_some_and(|o| o.idx == self.idx),
            )),
            "content" if !args.is_empty() => Ok(field(
                &snap.pages[self.idx].content,
                &arg_str(args, 0).unwrap_or_default(),
            )
            .unwrap_or_default()),
            _ => as_property(self.get_value_by_str(method), method, args),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<Self>()?;
        Some(self.idx.cmp(&other.idx))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cx.page_url(self.idx))
    }
}

/// A collection of pages.
#[derive(Debug)]
pub struct PagesObj {
    cx: Arc<Cx>,
    items: Vec<PageIdx>,
}

impl PagesObj {
    /// A collection as a template value.
    pub fn value(cx: &Arc<Cx>, items: Vec<PageIdx>) -> Value {
        Value::from_object(PagesObj {
            cx: cx.clone(),
            items,
        })
    }
}

impl Listing for PagesObj {
    type Item = PageIdx;
    const DEFAULT_SORT: &'static str = "title";

    fn items(&self) -> &[PageIdx] {
        &self.items
    }

    fn with(&self, items: Vec<PageIdx>) -> Value {
        PagesObj::value(&self.cx, items)
    }

    fn field_of(&self, p: PageIdx, name: &str) -> String {
        let page = &self.cx.snap.pages[p];
        match name {
            "id" => page.id.clone(),
            "slug" | "uid" => page.slug.clone(),
            "title" => page.title().to_string(),
            "template" | "intendedTemplate" => page.template.clone(),
            "status" => page.status.as_str().to_string(),
            "num" => page.num.map(|n| n.to_string()).unwrap_or_default(),
            other => page
                .content
                .get(&other.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// Kirby's `filterBy($field, $value)`, `filterBy($field, $operator, $value)` and
/// `filterBy($field, $value, $split)`.
fn filter_matches(actual: &str, args: &[Value]) -> Result<bool, Error> {
    const OPS: [&str; 6] = ["==", "!=", "*=", "^=", "$=", "in"];
    let second = arg_str(args, 1).unwrap_or_default();
    let (op, expected, split) = if args.len() >= 3 && OPS.contains(&second.as_str()) {
        (second, args[2].clone(), arg_str(args, 3))
    } else {
        (
            "==".to_string(),
            args.get(1).cloned().unwrap_or_default(),
            arg_str(args, 2),
        )
    };
    let values: Vec<String> = match &split {
        Some(sep) if !sep.is_empty() => actual
            .split(sep.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => vec![actual.to_string()],
    };
    let exp = expected.as_str().map(str::to_string).unwrap_or_else(|| {
        if expected.is_undefined() || expected.is_none() {
            String::new()
        } else {
            expected.to_string()
        }
    });
    Ok(match op.as_str() {
        "==" => values.contains(&exp),
        "!=" => values.iter().all(|v| *v != exp),
        "*=" => values.iter().any(|v| v.contains(&exp)),
        "^=" => values.iter().any(|v| v.starts_with(&exp)),
        "$=" => values.iter().any(|v| v.ends_with(&exp)),
        _ => {
            let options: Vec<String> = expected
                .try_iter()
                .map_err(|_| Error::new(ErrorKind::InvalidOperation, "`in` needs a list"))?
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect();
            values.iter().any(|v| options.contains(v))
        }
    })
}

/// What pages and files collections share in templates: slicing, filtering and sorting by
/// the text of a field.
trait Listing {
    type Item: Copy;
    /// The field `sortBy` uses when none is named.
    const DEFAULT_SORT: &'static str;
    fn items(&self) -> &[Self::Item];
    fn with(&self, items: Vec<Self::Item>) -> Value;
    fn field_of(&self, item: Self::Item, name: &str) -> String;
}

/// `limit`, `offset`, `filterBy` and `sortBy` for any listing; `None` for other methods.
fn listing_method<L: Listing>(l: &L, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let items = l.items();
    Some(match method {
        "limit" => arg_usize(args, 0).map(|n| l.with(items.iter().copied().take(n).collect())),
        "offset" => arg_usize(args, 0).map(|n| l.with(items.iter().copied().skip(n).collect())),
        "filterBy" => {
            let name = arg_str(args, 0).unwrap_or_default();
            let mut out = Vec::new();
            for it in items {
                match filter_matches(&l.field_of(*it, &name), args) {
                    Ok(true) => out.push(*it),
                    Ok(false) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
            Ok(l.with(out))
        }
        "sortBy" => {
            let name = arg_str(args, 0).unwrap_or_else(|| L::DEFAULT_SORT.into());
            let desc = sort_desc(args, 1);
            let mut sorted = items.to_vec();
            // Natural order: numbers (e.g. `num`, dates) compare by value, empty first.
            sorted.sort_by(|a, b| {
                let o = natsort::cmp(&l.field_of(*a, &name), &l.field_of(*b, &name));
                if desc { o.reverse() } else { o }
            });
            Ok(l.with(sorted))
        }
        _ => return None,
    })
}

fn sort_desc(args: &[Value], i: usize) -> bool {
    arg_str(args, i).is_some_and(|d| d.eq_ignore_ascii_case("desc"))
}

impl Object for PagesObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(i) = key.as_usize() {
            return self.items.get(i).map(|p| PageObj::value(&self.cx, *p));
        }
        let snap = &self.cx.snap;
        Some(match key.as_str()? {
            "count" => Value::from(self.items.len()),
            "isEmpty" => Value::from(self.items.is_empty()),
            "isNotEmpty" => Value::from(!self.items.is_empty()),
            "first" => opt(self.items.first().map(|p| PageObj::value(&self.cx, *p))),
            "last" => opt(self.items.last().map(|p| PageObj::value(&self.cx, *p))),
            "flip" => self.with(self.items.iter().rev().copied().collect()),
            "listed" => self.with(
                self.items
                    .iter()
                    .copied()
                    .filter(|p| snap.pages[*p].status == Status::Listed)
                    .collect(),
            ),
            "unlisted" => self.with(
                self.items
                    .iter()
                    .copied()
                    .filter(|p| snap.pages[*p].status == Status::Unlisted)
                    .collect(),
            ),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if let Some(r) = listing_method(self.as_ref(), method, args) {
            return r;
        }
        match method {
            "template" => {
                let names: Vec<String> = args
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                Ok(self.with(
                    self.items
                        .iter()
                        .copied()
                        .filter(|p| names.contains(&self.cx.snap.pages[*p].template))
                        .collect(),
                ))
            }
            "find" => {
                let key = arg_str(args, 0).unwrap_or_default();
                let key = key.trim_matches('/');
                Ok(opt(self
                    .items
                    .iter()
                    .find(|p| {
                        let page = &self.cx.snap.pages[**p];
                        page.id.eq_ignore_ascii_case(key) || page.slug.eq_ignore_ascii_case(key)
                    })
                    .map(|p| PageObj::value(&self.cx, *p))))
            }
            "not" => {
                let skip: Vec<PageIdx> = args
                    .iter()
                    .filter_map(|v| v.downcast_object_ref::<PageObj>().map(|p| p.idx))
                    .collect();
                Ok(self.with(
                    self.items
                        .iter()
                        .copied()
                        .filter(|p| !skip.contains(p))
                        .collect(),
                ))
            }
            _ => as_property(self.get_value(&Value::from(method)), method, args),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Files

/// A file of the site or of a published page.
#[derive(Debug)]
pub struct FileObj {
    cx: Arc<Cx>,
    parent: FileParent,
    i: usize,
}

impl FileObj {
    /// A file as a template value.
    pub fn value(cx: &Arc<Cx>, parent: FileParent, i: usize) -> Value {
        Value::from_object(FileObj {
            cx: cx.clone(),
            parent,
            i,
        })
    }

    fn file(&self) -> &File {
        &self.cx.snap.files_of(self.parent)[self.i]
    }
}

impl Object for FileObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let f = self.file();
        Some(match key {
            "filename" => Value::from(f.filename.as_str()),
            "name" => Value::from(f.name()),
            "extension" => Value::from(f.extension()),
            "id" => Value::from(f.id.as_str()),
            "url" => Value::from(self.cx.file_url(f)),
            "type" => Value::from(f.kind()),
            "mime" => Value::from(f.mime.as_str()),
            "size" => Value::from(f.size),
            "niceSize" => Value::from(folio_core::media::nice_size(f.size)),
            "width" => Value::from(f.dimensions.map(|d| d.0)),
            "height" => Value::from(f.dimensions.map(|d| d.1)),
            "orientation" => Value::from(
                f.dimensions
                    .map(|(w, h)| folio_core::media::orientation(w, h)),
            ),
            "modified" => Value::from(f.modified),
            "template" => Value::from(f.template()),
            "uuid" => Value::from(f.uuid().map(|u| format!("file://{u}"))),
            "isImage" => Value::from(f.kind() == Some("image")),
            "parent" => match self.parent {
                FileParent::Page(p) => PageObj::value(&self.cx, p),
                _ => Value::UNDEFINED,
            },
            "content" => content_value(&f.content),
            other => return field(&f.content, other),
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            // Folio makes no thumbnails: resized versions are the original.
            "resize" | "thumb" | "crop" | "bw" | "blur" | "grayscale" | "quality" => {
                Ok(Value::from_dyn_object(DynObject::new(self.clone())))
            }
            _ => as_property(self.get_value_by_str(method), method, args),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cx.file_url(self.file()))
    }
}

/// A collection of files.
#[derive(Debug)]
pub struct FilesObj {
    cx: Arc<Cx>,
    items: Vec<(FileParent, usize)>,
}

impl FilesObj {
    /// The files (or only the images) of a parent.
    pub fn value(cx: &Arc<Cx>, parent: FileParent, only_images: bool) -> Value {
        let items = cx
            .snap
            .files_of(parent)
            .iter()
            .enumerate()
            .filter(|(_, f)| !only_images || f.kind() == Some("image"))
            .map(|(i, _)| (parent, i))
            .collect();
        Self::from_items(cx, items)
    }

    /// A collection of given files.
    pub fn from_items(cx: &Arc<Cx>, items: Vec<(FileParent, usize)>) -> Value {
        Value::from_object(FilesObj {
            cx: cx.clone(),
            items,
        })
    }

    fn file(&self, item: (FileParent, usize)) -> &File {
        &self.cx.snap.files_of(item.0)[item.1]
    }

    fn item(&self, item: Option<&(FileParent, usize)>) -> Value {
        opt(item.map(|(p, i)| FileObj::value(&self.cx, *p, *i)))
    }
}

impl Listing for FilesObj {
    type Item = (FileParent, usize);
    const DEFAULT_SORT: &'static str = "filename";

    fn items(&self) -> &[(FileParent, usize)] {
        &self.items
    }

    fn with(&self, items: Vec<(FileParent, usize)>) -> Value {
        Self::from_items(&self.cx, items)
    }

    fn field_of(&self, item: (FileParent, usize), name: &str) -> String {
        let f = self.file(item);
        match name.to_ascii_lowercase().as_str() {
            "filename" => f.filename.clone(),
            "extension" => f.extension(),
            "type" => f.kind().unwrap_or("").to_string(),
            "template" => f.template().unwrap_or("default").to_string(),
            other => f.content.get(other).cloned().unwrap_or_default(),
        }
    }
}

impl Object for FilesObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(i) = key.as_usize() {
            return self
                .items
                .get(i)
                .map(|(p, i)| FileObj::value(&self.cx, *p, *i));
        }
        Some(match key.as_str()? {
            "count" => Value::from(self.items.len()),
            "isEmpty" => Value::from(self.items.is_empty()),
            "isNotEmpty" => Value::from(!self.items.is_empty()),
            "first" => self.item(self.items.first()),
            "last" => self.item(self.items.last()),
            "flip" => self.with(self.items.iter().rev().copied().collect()),
            "images" => self.with(
                self.items
                    .iter()
                    .copied()
                    .filter(|it| self.file(*it).kind() == Some("image"))
                    .collect(),
            ),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if let Some(r) = listing_method(self.as_ref(), method, args) {
            return r;
        }
        match method {
            "template" => {
                let name = arg_str(args, 0).unwrap_or_default();
                Ok(self.with(
                    self.items
                        .iter()
                        .copied()
                        .filter(|it| self.file(*it).template().unwrap_or("default") == name)
                        .collect(),
                ))
            }
            "find" => {
                let name = arg_str(args, 0).unwrap_or_default();
                Ok(self.item(
                    self.items
                        .iter()
                        .find(|it| self.file(**it).filename == name),
                ))
            }
            _ => as_property(self.get_value(&Value::from(method)), method, args),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Site and kirby

/// The site.
#[derive(Debug)]
pub struct SiteObj {
    pub(crate) cx: Arc<Cx>,
}

impl SiteObj {
    /// The site as a template value.
    pub fn value(cx: &Arc<Cx>) -> Value {
        Value::from_object(SiteObj { cx: cx.clone() })
    }
}

impl Object for SiteObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let snap = &self.cx.snap;
        let top = |pred: &dyn Fn(Status) -> bool| {
            PagesObj::value(
                &self.cx,
                snap.site
                    .children
                    .iter()
                    .copied()
                    .filter(|p| pred(snap.pages[*p].status))
                    .collect(),
            )
        };
        Some(match key {
            "title" => Value::from(snap.site.title()),
            "url" => Value::from(self.cx.base.as_str()),
            "children" => top(&|_| true),
            "listed" => top(&|s| s == Status::Listed),
            "unlisted" => top(&|s| s == Status::Unlisted),
            "files" => FilesObj::value(&self.cx, FileParent::Site, false),
            "images" => FilesObj::value(&self.cx, FileParent::Site, true),
            "image" => FilesObj::value(&self.cx, FileParent::Site, true)
                .get_item_by_index(0)
                .ok()
                .filter(|v| !v.is_undefined())
                .unwrap_or(Value::UNDEFINED),
            "homePage" => opt(self
                .cx
                .find_public(&snap.options.home)
                .map(|p| PageObj::value(&self.cx, p))),
            "errorPage" => opt(self
                .cx
                .find_public(&snap.options.error)
                .map(|p| PageObj::value(&self.cx, p))),
            "index" => {
                let list: Vec<PageIdx> = snap
                    .index_order()
                    .into_iter()
                    .filter(|p| self.cx.is_public(*p))
                    .collect();
                PagesObj::value(&self.cx, list)
            }
            "content" => content_value(&snap.site.content),
            other => return field(&snap.site.content, other),
        })
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "find" | "page" if !args.is_empty() => {
                let id = arg_str(args, 0).unwrap_or_default();
                Ok(opt(self
                    .cx
                    .find_public(&id)
                    .map(|p| PageObj::value(&self.cx, p))))
            }
            "file" | "image" if !args.is_empty() => {
                let key = arg_str(args, 0).unwrap_or_default();
                Ok(opt(self
                    .cx
                    .find_file(&key, Some(FileParent::Site))
                    .map(|(p, i)| FileObj::value(&self.cx, p, i))))
            }
            "page" => Ok(state.lookup("page").unwrap_or_default()),
            "breadcrumb" => {
                let mut list = Vec::new();
                let mut cur = current_page(state);
                while let Some(p) = cur {
                    list.push(p);
                    cur = self.cx.snap.pages[p].parent;
                }
                if let Some(home) = self.cx.find_public(&self.cx.snap.options.home)
                    && !list.contains(&home)
                {
                    list.push(home);
                }
                list.reverse();
                Ok(PagesObj::value(&self.cx, list))
            }
            _ => as_property(self.get_value_by_str(method), method, args),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cx.base)
    }
}

/// `kirby`: the request-level helpers (`kirby.csrf()`, `kirby.user`).
pub struct KirbyObj {
    pub(crate) auth: Arc<Auth>,
    pub(crate) session: SessionHandle,
    pub(crate) user: Value,
}

impl fmt::Debug for KirbyObj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("kirby")
    }
}

impl KirbyObj {
    /// The session's CSRF token (the one the API checks), creating the session and its
    /// cookie when there is none yet.
    pub fn csrf(&self) -> Result<String, Error> {
        let mut sess = self.session.lock();
        // The page still renders while the session store is down; a login from it would
        // be refused (503) anyway.
        Ok(sess.csrf_token(&self.auth).unwrap_or_else(|e| {
            tracing::warn!("csrf() in a template: {e}");
            String::new()
        }))
    }
}

impl Object for KirbyObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "user" => Some(self.user.clone()),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "csrf" => self.csrf().map(Value::from),
            _ => as_property(self.get_value(&Value::from(method)), method, args),
        }
    }

    fn render(self: &Arc<Self>, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}
