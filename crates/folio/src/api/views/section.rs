//! Blueprint sections as the section API renders them (`…/sections/<name>`): pages, files,
//! info and stats sections with Kirby's options, errors, pagination, Panel items (image,
//! info and text templates through the query language) and table columns.

use serde_json::{Map, Value, json};

use folio_core::Error;
use folio_core::blueprint::{Blueprint, label_from_name};
use folio_core::collections::Pagination;
use folio_core::model::{File, FileParent, PageIdx, Status};
use folio_core::query::{FileRef, Gate, Host, Model, Scope, Val};

use super::V;

/// What the request adds to a section: `?page` and `?searchterm`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SectionRequest<'q> {
    pub page: Option<&'q str>,
    pub searchterm: Option<&'q str>,
    /// Only the errors are wanted (page `errors`): the items are not rendered.
    pub errors_only: bool,
}

impl Host for V<'_> {
    fn url(&self, model: Model) -> String {
        match model {
            Model::Site => self.urls().site(),
            Model::Page(p) => self.page_url(p),
            Model::File(f) => self.file_url(&self.snap.files_of(f.parent)[f.idx]),
            Model::User(_) => String::new(),
        }
    }

    fn to_date(&self, value: &str, format: Option<&str>) -> Option<Val> {
        let ts = folio_core::date::parse(value)?;
        Some(match format {
            Some(f) => Val::Str(folio_core::date::format(ts, f)),
            None => Val::Int(ts),
        })
    }
}

/// Kirby's `I18n::translate` for blueprint strings: a `{lang: text}` map picks the user's
/// language, then English, then the first entry.
fn i18n(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("en")
            .or_else(|| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".into()),
        _ => None,
    }
}

impl<'s> V<'s> {
    pub(super) fn scope(&self, model: Model) -> Scope<'_> {
        Scope::new(self.snap, Gate::Actor(self.actor))
            .with_host(self)
            .for_model(model)
    }

    /// `model.toString(template)` (`safe`: `toSafeString`), unresolvable parts empty.
    pub fn model_string(&self, model: Model, template: &str, safe: bool) -> String {
        self.scope(model).template(template, safe, Some(""))
    }

    fn model_blueprint(&self, model: Model) -> Option<std::borrow::Cow<'_, Blueprint>> {
        Some(match model {
            Model::Site => self.snap.blueprints.site(),
            Model::Page(p) => self.snap.blueprints.page(&self.snap.pages[p].template),
            Model::File(f) => self
                .snap
                .blueprints
                .file(self.snap.files_of(f.parent)[f.idx].template()),
            Model::User(u) => {
                std::borrow::Cow::Borrowed(self.snap.blueprints.user(&self.snap.users[u].role)?)
            }
        })
    }

    /// The Panel path of a model (`/site`, `/pages/a+b`, `/pages/a/files/x.png`, …).
    pub fn panel_link(&self, model: Model) -> String {
        match model {
            Model::Site => "/site".into(),
            Model::Page(p) => format!("/pages/{}", self.snap.pages[p].id.replace('/', "+")),
            Model::File(f) => self.file_link(&self.snap.files_of(f.parent)[f.idx]),
            Model::User(u) => {
                if self.actor.is(self.snap, u) {
                    "/account".into()
                } else {
                    format!("/users/{}", self.snap.users[u].id)
                }
            }
        }
    }

    /// Kirby's Panel `image()` for an item: defaults, the given settings, then the model
    /// blueprint's `image:` (which wins); `query` picks the image (the page's first image,
    /// or a viewable file itself); remaining string options are model templates.
    pub fn panel_image(&self, model: Model, settings: Option<&Value>, layout: &str) -> Value {
        if settings == Some(&Value::Bool(false)) {
            return Value::Null;
        }
        let bp = self.model_blueprint(model);
        let mut blueprint = bp.as_ref().and_then(|b| b.raw.get("image")).cloned();
        let settings_empty = match settings {
            None | Some(Value::Null) => true,
            Some(Value::Object(o)) => o.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if blueprint == Some(Value::Bool(false)) {
            if settings_empty {
                return Value::Null;
            }
            blueprint = None;
        }
        let as_map = |v: Option<Value>| -> Map<String, Value> {
            match v {
                Some(Value::Object(o)) => o,
                Some(Value::String(s)) if s == "icon" => {
                    let mut m = Map::new();
                    m.insert("query".into(), Value::Bool(false));
                    m
                }
                Some(Value::String(s)) => {
                    let mut m = Map::new();
                    m.insert("query".into(), Value::String(s));
                    m
                }
                _ => Map::new(),
            }
        };
        let (color, icon) = match model {
            Model::File(f) => {
                let file = &self.snap.files_of(f.parent)[f.idx];
                let (c, i) = super::file::file_color_icon(file);
                (c.to_string(), i.to_string())
            }
            _ => (
                "gray-500".to_string(),
                bp.as_ref()
                    .and_then(|b| b.icon.clone())
                    .unwrap_or_else(|| "page".into()),
            ),
        };
        let mut m = Map::new();
        m.insert("back".into(), json!("pattern"));
        m.insert("color".into(), json!(color));
        m.insert("cover".into(), json!(false));
        m.insert("icon".into(), json!(icon));
        for (k, v) in as_map(settings.cloned()) {
            m.insert(k, v);
        }
        for (k, v) in as_map(blueprint) {
            m.insert(k, v);
        }
        let query = m.remove("query");
        let image: Option<FileRef> = match (&query, model) {
            (Some(Value::Bool(false)), _) => None,
            (Some(Value::String(q)), _) => match self.scope(model).eval(q) {
                Ok(Val::File(f)) => Some(f),
                _ => None,
            },
            (_, Model::File(f)) => {
                let file = &self.snap.files_of(f.parent)[f.idx];
                viewable(file).then_some(f)
            }
            (_, Model::Page(_)) => match self.scope(model).eval("page.image") {
                Ok(Val::File(f)) => Some(f),
                _ => None,
            },
            _ => None,
        };
        if let Some(f) = image {
            let file = &self.snap.files_of(f.parent)[f.idx];
            m.insert("url".into(), json!(self.file_url(file)));
            if resizable(file) {
                m.insert(
                    "src".into(),
                    json!("data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw"),
                );
                m.insert("srcset".into(), json!(self.srcset(file, layout, &m)));
            } else if viewable(file) {
                m.insert("src".into(), json!(self.file_url(file)));
            }
        }
        for v in m.values_mut() {
            if let Value::String(s) = v {
                *s = self.model_string(model, s, false);
            }
        }
        Value::Object(m)
    }

    fn srcset(&self, f: &File, layout: &str, settings: &Map<String, Value>) -> String {
        let sizes: &[u32] = match layout {
            "cards" => &[352, 864, 1408],
            "cardlets" => &[96, 192],
            _ => &[38, 76],
        };
        let dir = self.urls().media_dir(f);
        let (n, ext) = (f.name(), f.extension());
        if settings.get("cover") != Some(&Value::Bool(true)) {
            return sizes
                .iter()
                .map(|w| format!("{dir}/{n}-{w}x.{ext} {w}w"))
                .collect::<Vec<_>>()
                .join(", ");
        }
        if layout == "cards" {
            let ratio = match settings.get("ratio") {
                Some(Value::Number(x)) => x.as_f64().unwrap_or(1.0),
                Some(Value::String(s)) => match s.split_once('/') {
                    Some((a, b)) => {
                        let (a, b): (f64, f64) = (
                            a.trim().parse().unwrap_or(1.0),
                            b.trim().parse().unwrap_or(1.0),
                        );
                        if b == 0.0 { 1.0 } else { a / b }
                    }
                    None => s.trim().parse().unwrap_or(1.0),
                },
                _ => 1.0,
            };
            return sizes
                .iter()
                .map(|w| {
                    let h = (f64::from(*w) / ratio).round() as u64;
                    format!("{dir}/{n}-{w}x{h}-crop.{ext} {w}w")
                })
                .collect::<Vec<_>>()
                .join(", ");
        }
        format!(
            "{dir}/{n}-{a}x{a}-crop.{ext} 1x, {dir}/{n}-{b}x{b}-crop.{ext} 2x",
            a = sizes[0],
            b = sizes[1]
        )
    }

    /// Every section of a blueprint with its definition, in blueprint order (fields sections
    /// under their generated names), from the same normalised tabs as `…/blueprint`.
    fn all_sections(&self, bp: &Blueprint) -> Vec<(String, Map<String, Value>)> {
        let tabs = super::super::blueprints::tabs(bp, "");
        let mut out = Vec::new();
        for tab in tabs.as_array().into_iter().flatten() {
            let columns: Vec<&Value> = match tab.get("columns") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(Value::Object(o)) => o.values().collect(),
                _ => Vec::new(),
            };
            for c in columns {
                if let Some(Value::Object(sections)) = c.get("sections") {
                    for (name, def) in sections {
                        if let Value::Object(d) = def {
                            out.push((name.clone(), d.clone()));
                        }
                    }
                }
            }
        }
        out
    }

    /// A section of a blueprint by name.
    fn find_section(&self, bp: &Blueprint, name: &str) -> Option<Map<String, Value>> {
        self.all_sections(bp)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
    }

    /// The section API answer for `name` in the blueprint of `model`; `api` is the model's
    /// API path (`site`, `pages/a+b`, …).
    pub fn section(
        &self,
        model: Model,
        bp: &Blueprint,
        api: &str,
        name: &str,
        req: SectionRequest<'_>,
    ) -> Result<Value, Error> {
        let def = self.find_section(bp, name).ok_or(Error::NullResult)?;
        let kind = def
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string();
        let mut out = Map::new();
        out.insert("status".into(), json!("ok"));
        out.insert("code".into(), json!(200));
        out.insert("name".into(), json!(name));
        out.insert("type".into(), json!(kind));
        let body = match kind.as_str() {
            "pages" | "files" => self.models_section(model, &def, &kind, api, name, req)?,
            "info" => self.info_section(model, &def, name),
            "stats" => self.stats_section(model, &def, name),
            "fields" => {
                let mut m = Map::new();
                m.insert(
                    "fields".into(),
                    self.form_fields(model, def.get("fields").unwrap_or(&Value::Null)),
                );
                m
            }
            _ => return Err(Error::NullResult),
        };
        out.extend(body);
        Ok(Value::Object(out))
    }

    /// Kirby's `blueprints($inSection)`: what pages sections may create (`create:`, else
    /// their templates, else every page blueprint), for one section or all of them; other
    /// sections offer none, and a stats section cannot answer at all.
    pub fn section_blueprints(
        &self,
        bp: &Blueprint,
        only: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        let defs: Vec<Map<String, Value>> = match only {
            Some(name) => self.find_section(bp, name).into_iter().collect(),
            None => self.all_sections(bp).into_iter().map(|(_, d)| d).collect(),
        };
        let mut names: Vec<String> = Vec::new();
        for def in defs {
            match def.get("type").and_then(Value::as_str) {
                Some("pages") => {}
                Some("stats") => {
                    return Err(Error::Unexpected {
                        code: 500,
                        exception: "BadMethodCallException",
                        detail: "A stats section has no blueprints".into(),
                    });
                }
                _ => continue,
            }
            let list = |k: &str| -> Vec<String> {
                match def.get(k) {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let mut these = list("create");
            if these.is_empty() {
                these = list("templates");
            }
            if these.is_empty() {
                these = list("template");
            }
            if these.is_empty() {
                let mut all: Vec<String> = self.snap.blueprints.pages.keys().cloned().collect();
                all.sort();
                these = all;
            }
            let ignore = list("templatesIgnore");
            for n in these {
                if !ignore.contains(&n) && !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        Ok(names
            .into_iter()
            .map(|n| {
                let title = self.snap.blueprints.page(&n).title.clone();
                json!({"name": n, "title": title})
            })
            .collect())
    }

    /// The min/max errors of every pages and files section of a blueprint, by section name.
    pub fn section_errors(&self, model: Model, bp: &Blueprint) -> Map<String, Value> {
        let mut out = Map::new();
        let names: Vec<String> = self
            .all_sections(bp)
            .into_iter()
            .filter(|(_, d)| {
                matches!(
                    d.get("type").and_then(Value::as_str),
                    Some("pages" | "files")
                )
            })
            .map(|(n, _)| n)
            .collect();
        let api = self.api_model_path(model);
        for name in names {
            if let Ok(Value::Object(s)) = self.section(
                model,
                bp,
                &api,
                &name,
                SectionRequest {
                    errors_only: true,
                    ..SectionRequest::default()
                },
            ) && let Some(Value::Object(e)) = s.get("errors")
            {
                out.extend(e.clone());
            }
        }
        out
    }

    fn headline(&self, model: Model, def: &Map<String, Value>, name: &str) -> String {
        match i18n(def.get("label")).or_else(|| i18n(def.get("headline"))) {
            Some(t) if !t.is_empty() => self.model_string(model, &t, false),
            _ => label_from_name(name),
        }
    }

    fn info_section(
        &self,
        model: Model,
        def: &Map<String, Value>,
        name: &str,
    ) -> Map<String, Value> {
        let text = i18n(def.get("text")).filter(|t| !t.is_empty()).map(|t| {
            let safe = self.model_string(model, &t, true);
            folio_core::kirbytext::markdown(
                &safe,
                folio_core::kirbytext::MdOptions { allow_html: true },
            )
            .trim_end()
            .to_string()
        });
        let mut m = Map::new();
        m.insert(
            "icon".into(),
            def.get("icon").cloned().unwrap_or(Value::Null),
        );
        m.insert("label".into(), json!(self.headline(model, def, name)));
        m.insert("text".into(), json!(text));
        m.insert(
            "theme".into(),
            def.get("theme").cloned().unwrap_or(Value::Null),
        );
        m
    }

    fn stats_section(
        &self,
        model: Model,
        def: &Map<String, Value>,
        name: &str,
    ) -> Map<String, Value> {
        let raw_reports: Vec<Value> = match def.get("reports") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) => o.values().cloned().collect(),
            Some(Value::String(q)) => match self.scope(model).eval(q) {
                Ok(v) => query_json(&v),
                Err(_) => Vec::new(),
            }
            .into_iter()
            .collect(),
            _ => Vec::new(),
        };
        let size = def
            .get("size")
            .and_then(Value::as_str)
            .unwrap_or("large")
            .to_string();
        let tpl = |v: Option<&Value>| -> Value {
            match i18n(v).filter(|s| !s.is_empty()) {
                Some(s) => json!(self.model_string(model, &s, false)),
                None => Value::Null,
            }
        };
        let reports: Vec<Value> = raw_reports
            .iter()
            .filter_map(Value::as_object)
            .filter(|r| r.contains_key("label") && r.contains_key("value"))
            .map(|r| {
                json!({
                    "dialog": tpl(r.get("dialog")),
                    "drawer": tpl(r.get("drawer")),
                    "icon": tpl(r.get("icon")),
                    "info": tpl(r.get("info")),
                    "label": tpl(r.get("label")).as_str().map_or(json!(""), |s| json!(s)),
                    "link": tpl(r.get("link")),
                    "theme": tpl(r.get("theme")),
                    "value": tpl(r.get("value")).as_str().map_or(json!(""), |s| json!(s)),
                })
            })
            .collect();
        let used = raw_reports
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let mut m = Map::new();
        m.insert("headline".into(), json!(self.headline(model, def, name)));
        m.insert(
            "label".into(),
            def.get("label").cloned().unwrap_or(Value::Null),
        );
        m.insert("reports".into(), Value::Array(reports));
        m.insert("size".into(), json!(size));
        m.insert(
            "stats".into(),
            json!({
                "attrs": [],
                "component": "k-stats",
                "model": self.loaded_model_json(model, &used),
                "reports": raw_reports,
                "size": size,
            }),
        );
        m
    }

    /// PHP's JSON of a site/page object inside a stats object: its cached collections,
    /// `null` unless the reports' queries loaded them.
    fn loaded_model_json(&self, model: Model, used: &str) -> Value {
        let (children, drafts): (&[PageIdx], &[PageIdx]) = match model {
            Model::Site => (&self.snap.site.children, &self.snap.site.drafts),
            Model::Page(p) => (&self.snap.pages[p].children, &self.snap.pages[p].drafts),
            _ => return json!({}),
        };
        let stub = json!({"blueprints": null, "children": null, "drafts": null, "childrenAndDrafts": null});
        let coll = |list: &[PageIdx]| -> Value {
            let data: Map<String, Value> = list
                .iter()
                .map(|p| (self.snap.pages[*p].id.clone(), stub.clone()))
                .collect();
            json!({"data": super::php_object(data)})
        };
        let both: Vec<PageIdx> = children.iter().chain(drafts).copied().collect();
        let mentions = |w: &str| used.contains(&format!(".{w}"));
        json!({
            "blueprints": null,
            "children": if mentions("children") || mentions("index") { coll(children) } else { Value::Null },
            "drafts": if mentions("drafts") { coll(drafts) } else { Value::Null },
            "childrenAndDrafts": if mentions("childrenAndDrafts") { coll(&both) } else { Value::Null },
        })
    }

    #[allow(clippy::too_many_lines)]
    fn models_section(
        &self,
        model: Model,
        def: &Map<String, Value>,
        kind: &str,
        api: &str,
        name: &str,
        req: SectionRequest<'_>,
    ) -> Result<Map<String, Value>, Error> {
        let pages = kind == "pages";
        let str_prop = |k: &str| def.get(k).and_then(Value::as_str).map(str::to_string);
        let bool_prop = |k: &str, d: bool| def.get(k).and_then(Value::as_bool).unwrap_or(d);
        let int_prop = |k: &str| def.get(k).and_then(Value::as_i64);
        let layout = match str_prop("layout").as_deref() {
            Some(l @ ("list" | "cardlets" | "cards" | "table")) => l.to_string(),
            _ => "list".to_string(),
        };
        let status = match str_prop("status").as_deref() {
            Some("drafts") => "draft".to_string(),
            Some(s @ ("all" | "draft" | "published" | "listed" | "unlisted")) => s.to_string(),
            _ => "all".to_string(),
        };
        let query = str_prop("query");
        let sort_by = str_prop("sortBy").or_else(|| str_prop("sortby"));
        let flip = bool_prop("flip", false);
        let search = bool_prop("search", false);
        let searchterm = req
            .searchterm
            .filter(|s| search && !s.trim().is_empty())
            .map(str::to_string);
        let templates: Vec<String> = match def.get("templates").or_else(|| def.get("template")) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let ignore: Vec<String> = match def.get("templatesIgnore") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        // the parent (`parent:` query) or the model
        let parent = match str_prop("parent") {
            Some(q) => match self.scope(model).eval(&q) {
                Ok(Val::Page(p)) => Model::Page(p),
                Ok(Val::Site) => Model::Site,
                Ok(Val::User(u)) => Model::User(u),
                Ok(Val::File(f)) => Model::File(f),
                _ => {
                    return Err(Error::InvalidArgument {
                        key: "error.invalidArgument",
                        message: format!(
                            "The parent for the query \"{q}\" cannot be found in the section \"{name}\""
                        ),
                        details: Value::Null,
                    });
                }
            },
            None => model,
        };
        let scope = self.scope(parent);
        let mut items: Vec<Val> = if pages {
            let list = match &query {
                Some(q) => match scope.eval(q) {
                    Ok(Val::Pages(l)) => l,
                    _ => Vec::new(),
                },
                None => {
                    let (children, drafts) = match parent {
                        Model::Site => (&self.snap.site.children, &self.snap.site.drafts),
                        Model::Page(p) => {
                            (&self.snap.pages[p].children, &self.snap.pages[p].drafts)
                        }
                        _ => {
                            return Err(Error::InvalidArgument {
                                key: "error.invalidArgument",
                                message: "The parent is invalid. You must choose the site or a page as parent.".into(),
                                details: Value::Null,
                            });
                        }
                    };
                    let st = |p: &PageIdx| self.snap.pages[*p].status;
                    match status.as_str() {
                        "draft" => drafts.clone(),
                        "listed" => children
                            .iter()
                            .copied()
                            .filter(|p| st(p) == Status::Listed)
                            .collect(),
                        "unlisted" => children
                            .iter()
                            .copied()
                            .filter(|p| st(p) == Status::Unlisted)
                            .collect(),
                        "published" => children.clone(),
                        _ => children.iter().chain(drafts).copied().collect(),
                    }
                }
            };
            list.into_iter()
                .filter(|p| self.listable_page(*p))
                .filter(|p| {
                    let t = &self.snap.pages[*p].template;
                    (templates.is_empty() || templates.contains(t)) && !ignore.contains(t)
                })
                .map(Val::Page)
                .collect()
        } else {
            let list: Vec<FileRef> = match &query {
                Some(q) => match scope.eval(q) {
                    Ok(Val::Files(l)) => l,
                    _ => Vec::new(),
                },
                None => {
                    let fp = match parent {
                        Model::Site => FileParent::Site,
                        Model::Page(p) => FileParent::Page(p),
                        Model::User(u) => FileParent::User(u),
                        Model::File(f) => f.parent,
                    };
                    (0..self.snap.files_of(fp).len())
                        .map(|idx| FileRef { parent: fp, idx })
                        .collect()
                }
            };
            let template = templates.first().cloned();
            list.into_iter()
                .filter(|f| {
                    let file = &self.snap.files_of(f.parent)[f.idx];
                    self.listable_file(file)
                        && template
                            .as_deref()
                            .is_none_or(|t| file.template().unwrap_or("default") == t)
                })
                .map(Val::File)
                .collect()
        };
        // search, sort, flip
        if let Some(term) = &searchterm {
            if pages {
                let ids: Vec<PageIdx> = items
                    .iter()
                    .filter_map(|v| match v {
                        Val::Page(p) => Some(*p),
                        _ => None,
                    })
                    .collect();
                items = folio_core::collections::search_pages(self.snap, ids, term)
                    .into_iter()
                    .map(Val::Page)
                    .collect();
            } else {
                let term = term.to_lowercase();
                items.retain(|v| match v {
                    Val::File(f) => self.snap.files_of(f.parent)[f.idx]
                        .filename
                        .to_lowercase()
                        .contains(&term),
                    _ => false,
                });
            }
        }
        let collection = |items: Vec<Val>| -> Val {
            if pages {
                Val::Pages(
                    items
                        .into_iter()
                        .filter_map(|v| match v {
                            Val::Page(p) => Some(p),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                Val::Files(
                    items
                        .into_iter()
                        .filter_map(|v| match v {
                            Val::File(f) => Some(f),
                            _ => None,
                        })
                        .collect(),
                )
            }
        };
        let back = |v: Val| -> Vec<Val> {
            match v {
                Val::Pages(l) => l.into_iter().map(Val::Page).collect(),
                Val::Files(l) => l.into_iter().map(Val::File).collect(),
                _ => Vec::new(),
            }
        };
        let sorting = searchterm.is_none() && sort_by.is_some();
        if sorting {
            let args: Vec<String> = sort_by
                .clone()
                .unwrap_or_default()
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(|s| format!("'{}'", s.replace('\'', "\\'")))
                .collect();
            let q = format!("items.sortBy({})", args.join(", "));
            if let Ok(v) = Scope::new(self.snap, Gate::Actor(self.actor))
                .bind("items", collection(items.clone()))
                .eval(&q)
            {
                items = back(v);
            }
        } else if !pages
            && let Ok(v) = Scope::new(self.snap, Gate::Actor(self.actor))
                .bind("items", collection(items.clone()))
                .eval("items.sorted")
        {
            items = back(v);
        }
        if flip && searchterm.is_none() {
            items.reverse();
        }
        let total = items.len();
        let limit = usize::try_from(int_prop("limit").unwrap_or(20))
            .unwrap_or(20)
            .max(1);
        // Sections clamp the page into range (an empty section is page 0).
        let asked = req
            .page
            .and_then(|p| p.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let last = total.div_ceil(limit);
        let page = if total == 0 { 0 } else { asked.min(last) };
        let offset = page.saturating_sub(1) * limit;
        let pagination = Pagination {
            page,
            total,
            offset,
            limit,
            end: (offset + limit).min(total),
        };
        let min = int_prop("min");
        let max = int_prop("max");
        let headline = self.headline(model, def, name);
        let image = def.get("image");
        let info = i18n(def.get("info"));
        let text = i18n(def.get("text")).unwrap_or_else(|| {
            if pages {
                "{{ page.title }}".into()
            } else {
                "{{ file.filename }}".into()
            }
        });
        let columns = self.columns(
            def,
            &layout,
            pages,
            image,
            info.is_some(),
            !text.is_empty(),
            &items,
        );
        let shown = if req.errors_only {
            &items[..0]
        } else {
            &items[pagination.offset..pagination.end]
        };
        let data: Vec<Value> = shown
            .iter()
            .map(|item| {
                let m = match item {
                    Val::Page(p) => Model::Page(*p),
                    Val::File(f) => Model::File(*f),
                    _ => Model::Site,
                };
                let mut v = match m {
                    Model::Page(p) => self.section_page_item(p),
                    Model::File(f) => {
                        let file = &self.snap.files_of(f.parent)[f.idx];
                        let mut item = self.file_picker(file);
                        if let Some(o) = item.as_object_mut() {
                            o.remove("sortable");
                            o.remove("type");
                            o.insert("id".into(), json!(file.id));
                            if model != parent {
                                o.insert("dragText".into(), json!(self.absolute_drag_text(file)));
                            }
                        }
                        item
                    }
                    _ => json!({}),
                };
                if let Some(o) = v.as_object_mut() {
                    o.insert("image".into(), self.panel_image(m, image, &layout));
                    o.insert(
                        "info".into(),
                        json!(info.as_deref().map_or(String::new(), |i| self.model_string(m, i, true))),
                    );
                    o.insert("text".into(), json!(self.model_string(m, &text, true)));
                    if layout == "table" {
                        o.insert(
                            "title".into(),
                            json!({"text": self.model_string(m, &text, false), "href": self.panel_link(m)}),
                        );
                        if let Some(i) = &info {
                            o.insert("info".into(), json!(self.model_string(m, i, false)));
                        }
                        if let Value::Object(cols) = &columns {
                            for (cname, col) in cols {
                                if matches!(cname.as_str(), "image" | "title" | "info" | "flag") && col.get("id").is_none() {
                                    if cname == "flag" {
                                        o.insert("flag".into(), Value::Null);
                                    }
                                    continue;
                                }
                                let value = match col.get("value").and_then(Value::as_str) {
                                    Some(t) if !t.is_empty() => json!(self.model_string(m, t, false)),
                                    _ => {
                                        let id = col.get("id").and_then(Value::as_str).unwrap_or(cname);
                                        if let Some(existing) = o.get(cname).cloned() {
                                            existing
                                        } else {
                                            let raw = match folio_core::query::methods::field(self.snap, m, id) {
                                                Val::Field(f) => f.value.clone(),
                                                _ => None,
                                            };
                                            form_value(col.get("type").and_then(Value::as_str), raw)
                                        }
                                    }
                                };
                                o.insert(cname.clone(), value);
                            }
                        }
                    }
                }
                v
            })
            .collect();
        // errors
        let mut errs = Map::new();
        let noun = if pages { "page" } else { "file" };
        if let Some(mx) = max
            && mx > 0
            && total as i64 > mx
        {
            errs.insert(
                "max".into(),
                json!(if mx == 1 {
                    format!("The \"{headline}\" section must not have more than one {noun}")
                } else {
                    format!("The \"{headline}\" section must not have more than {mx} {noun}s")
                }),
            );
        }
        if let Some(mn) = min
            && mn > 0
            && mn > total as i64
        {
            errs.insert(
                "min".into(),
                json!(if mn == 1 {
                    format!("The \"{headline}\" section requires at least one {noun}")
                } else {
                    format!("The \"{headline}\" section requires at least {mn} {noun}s")
                }),
            );
        }
        let errors = if errs.is_empty() {
            json!([])
        } else {
            json!({name: {"label": headline, "message": errs}})
        };
        let is_full = max.is_some_and(|mx| mx > 0 && total as i64 >= mx);
        let sortable = bool_prop("sortable", true)
            && (!pages || matches!(status.as_str(), "listed" | "published" | "all"))
            && searchterm.is_none()
            && query.is_none()
            && sort_by.is_none()
            && !flip;
        let parent_link = self.panel_link(parent);
        let link = (self.panel_link(model) != parent_link).then_some(parent_link);
        let empty = i18n(def.get("empty"))
            .filter(|e| !e.is_empty())
            .map(|e| self.model_string(model, &e, true));
        let help = i18n(def.get("help")).filter(|h| !h.is_empty()).map(|h| {
            folio_core::kirbytext::markdown(
                &self.model_string(model, &h, true),
                folio_core::kirbytext::MdOptions { allow_html: true },
            )
            .trim_end()
            .to_string()
        });
        let mut options = Map::new();
        let mut upload_opt: Option<Value> = None;
        let parent_api = self.api_model_path(parent);
        if pages {
            options.insert(
                "add".into(),
                json!(self.section_add(def, &status, &templates, &ignore, is_full)),
            );
        } else {
            let template = templates.first().cloned();
            let accept = template.as_ref().map(|t| {
                let bp = self.snap.blueprints.file(Some(t));
                accept_attribute(&bp)
            });
            options.insert("accept".into(), json!(accept));
            options.insert("apiUrl".into(), json!(format!("{api}/sections/{name}")));
            let create = def.get("create").and_then(Value::as_bool).unwrap_or(true);
            let upload = if !create || is_full {
                json!(false)
            } else {
                let remaining = max.filter(|m| *m > 0).map(|m| m - total as i64);
                let multiple = remaining.is_none_or(|r| r > 1);
                json!({
                    "accept": accept,
                    "api": format!("{parent_api}/files"),
                    "attributes": {
                        "sort": if sortable { json!(total + 1) } else { Value::Null },
                        "template": template.filter(|t| t != "default"),
                    },
                    "max": if multiple { json!(remaining) } else { json!(1) },
                    "multiple": multiple,
                    "preview": image.cloned().unwrap_or(json!([])),
                })
            };
            upload_opt = Some(upload);
        }
        options.insert("batch".into(), json!(bool_prop("batch", false)));
        options.insert("columns".into(), columns.clone());
        options.insert("empty".into(), json!(empty));
        options.insert("headline".into(), json!(headline));
        options.insert("help".into(), json!(help));
        options.insert("layout".into(), json!(layout));
        options.insert("link".into(), json!(link));
        options.insert("max".into(), json!(max));
        options.insert("min".into(), json!(min));
        options.insert("search".into(), json!(search));
        options.insert(
            "size".into(),
            json!(str_prop("size").unwrap_or_else(|| "auto".into())),
        );
        options.insert("sortable".into(), json!(sortable));
        if let Some(u) = upload_opt {
            options.insert("upload".into(), u);
        }
        let mut m = Map::new();
        m.insert("data".into(), Value::Array(data));
        m.insert("errors".into(), errors);
        m.insert("options".into(), Value::Object(options));
        m.insert(
            "pagination".into(),
            json!({
                "limit": pagination.limit,
                "offset": pagination.offset,
                "page": pagination.page,
                "total": pagination.total,
            }),
        );
        Ok(m)
    }

    /// A page as a pages-section item (the picker item without picker extras).
    fn section_page_item(&self, p: PageIdx) -> Value {
        let mut item = self.page_picker(p, false);
        if let Some(o) = item.as_object_mut() {
            o.remove("sortable");
            o.remove("hasChildren");
        }
        item
    }

    fn section_add(
        &self,
        def: &Map<String, Value>,
        status: &str,
        templates: &[String],
        ignore: &[String],
        is_full: bool,
    ) -> bool {
        if def.get("create") == Some(&Value::Bool(false)) || is_full {
            return false;
        }
        if status == "all" {
            return true;
        }
        let mut names: Vec<String> = match def.get("create") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => templates.to_vec(),
        };
        if names.is_empty() {
            let mut all: Vec<String> = self.snap.blueprints.pages.keys().cloned().collect();
            all.sort();
            names = all;
        }
        names.retain(|n| !ignore.contains(n));
        let mut statuses: Vec<String> = Vec::new();
        for n in &names {
            let bp = self.snap.blueprints.page(n);
            let s = bp
                .raw
                .get("create")
                .and_then(|c| c.get("status"))
                .and_then(Value::as_str)
                .unwrap_or("draft")
                .to_string();
            if !statuses.contains(&s) {
                statuses.push(s);
            }
        }
        statuses.len() == 1 && statuses[0] == status
    }

    #[allow(clippy::too_many_arguments)]
    fn columns(
        &self,
        def: &Map<String, Value>,
        layout: &str,
        pages: bool,
        image: Option<&Value>,
        has_info: bool,
        has_text: bool,
        items: &[Val],
    ) -> Value {
        if layout != "table" {
            return json!([]);
        }
        let mut cols = Map::new();
        if image != Some(&Value::Bool(false)) {
            cols.insert(
                "image".into(),
                json!({"label": " ", "mobile": true, "type": "image", "width": "var(--table-row-height)"}),
            );
        }
        if has_text {
            cols.insert(
                "title".into(),
                json!({"label": "Title", "mobile": true, "type": "url"}),
            );
        }
        if has_info {
            cols.insert("info".into(), json!({"label": "Info", "type": "text"}));
        }
        if let Some(Value::Object(custom)) = def.get("columns") {
            for (cname, col) in custom {
                let mut c = match col {
                    Value::Object(o) => o.clone(),
                    Value::Bool(false) => continue,
                    _ => Map::new(),
                };
                let label = i18n(c.get("label")).unwrap_or_else(|| ucfirst(cname));
                c.insert("label".into(), json!(label));
                c.insert("id".into(), json!(cname));
                let entry = cols.entry(cname.clone()).or_insert_with(|| json!({}));
                if let Value::Object(e) = entry {
                    for (k, v) in c {
                        e.insert(k, v);
                    }
                }
            }
        }
        if pages {
            cols.insert(
                "flag".into(),
                json!({"label": " ", "mobile": true, "type": "flag", "width": "var(--table-row-height)"}),
            );
        }
        // column types from the first model's blueprint fields
        let first = items.first().and_then(|v| match v {
            Val::Page(p) => Some(self.snap.blueprints.page(&self.snap.pages[*p].template)),
            Val::File(f) => Some(
                self.snap
                    .blueprints
                    .file(self.snap.files_of(f.parent)[f.idx].template()),
            ),
            _ => None,
        });
        if let Some(bp) = first {
            let fields = blueprint_fields(&bp.raw);
            for col in cols.values_mut() {
                if let Value::Object(c) = col
                    && !c.contains_key("type")
                    && let Some(id) = c.get("id").and_then(Value::as_str)
                    && let Some(t) = fields.get(&id.to_lowercase())
                {
                    c.insert("type".into(), json!(t));
                }
            }
        }
        Value::Object(cols)
    }

    fn absolute_drag_text(&self, f: &File) -> String {
        let target = f
            .uuid()
            .map(|u| format!("file://{u}"))
            .unwrap_or_else(|| f.id.clone());
        if f.kind() == Some("image") {
            format!("(image: {target})")
        } else {
            format!("(file: {target})")
        }
    }
}

/// A stored value as the Panel form shows it in a table column (dates in full).
fn form_value(kind: Option<&str>, raw: Option<String>) -> Value {
    let Some(raw) = raw else { return Value::Null };
    match kind {
        Some("date") => match folio_core::date::parse(&raw) {
            Some(ts) => json!(folio_core::date::format(ts, "Y-m-d H:i:s")),
            None => json!(""),
        },
        _ => json!(raw),
    }
}

fn ucfirst(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Field name (lowercase) → type, from every fields list of a raw blueprint.
fn blueprint_fields(raw: &Value) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    fn walk(v: &Value, out: &mut std::collections::HashMap<String, String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(fields)) = o.get("fields") {
                    for (name, def) in fields {
                        let t = def
                            .get("type")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| name.clone());
                        out.entry(name.to_lowercase()).or_insert(t);
                    }
                }
                for (k, v) in o {
                    if k != "fields" {
                        walk(v, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(raw, &mut out);
    out
}

fn query_json(v: &Val) -> Vec<Value> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|i| match i {
                Val::Map(m) => Value::Object(
                    m.iter()
                        .map(|(k, v)| (k.clone(), json!(scalar_string(v))))
                        .collect(),
                ),
                _ => Value::Null,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar_string(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::Int(n) => n.to_string(),
        Val::Float(f) => folio_core::query::php_float(*f),
        Val::Bool(true) => "1".into(),
        Val::Field(f) => f.value.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn resizable(f: &File) -> bool {
    matches!(
        f.extension().as_str(),
        "jpg" | "jpeg" | "png" | "gif" | "webp" | "avif"
    )
}

fn viewable(f: &File) -> bool {
    resizable(f) || matches!(f.extension().as_str(), "svg" | "ico" | "bmp")
}

/// A file blueprint's `accept` attribute for upload inputs (`.png,.jpg,…`), or `*` when
/// the blueprint sets no restrictions.
pub(super) fn accept_attribute(bp: &Blueprint) -> String {
    let a = bp.accept();
    if a.mime.is_empty() && a.extension.is_empty() && bp.raw.get("accept").is_none() {
        return "*".into();
    }
    let mut exts: Vec<String> = Vec::new();
    if !a.mime.is_empty() {
        for pattern in &a.mime {
            for (ext, mime) in folio_core::media::MIME_TABLE {
                if mime_matches(mime, pattern) && !exts.iter().any(|e| e == ext) {
                    exts.push((*ext).to_string());
                }
            }
        }
    } else {
        exts = a.extension.clone();
    }
    exts.iter()
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn mime_matches(mime: &str, pattern: &str) -> bool {
    let pattern = pattern.trim();
    match pattern.split_once('/') {
        Some((t, "*")) => mime.split('/').next() == Some(t),
        _ => mime.eq_ignore_ascii_case(pattern),
    }
}
