//! Blueprints: the YAML files under `site/blueprints/` that declare a model's fields,
//! sections, `options:` overrides, sorting `num`, status labels and file `accept` rules.
//! This module loads them leniently (like Kirby's Spyc) and flattens the tab/column/section
//! layout into the field order that content output and writes follow.

use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

use crate::format::yaml;

/// The value of one key of a blueprint's `options:` block.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// `true` / `false` for every role.
    Bool(bool),
    /// Per-role map (`admin: true`, `"*": false`).
    Roles(IndexMap<String, bool>),
    /// A list of template names (page `changeTemplate`).
    List(Vec<String>),
}

impl OptionValue {
    /// The option's verdict for a role: `None` means "use the role's permission".
    pub fn for_role(&self, role: &str) -> Option<bool> {
        match self {
            OptionValue::Bool(b) => Some(*b),
            OptionValue::Roles(map) => map.get(role).or_else(|| map.get("*")).copied(),
            OptionValue::List(_) => None,
        }
    }

    /// JSON form used by the blueprint API views.
    pub fn to_json(&self) -> Value {
        match self {
            OptionValue::Bool(b) => Value::Bool(*b),
            OptionValue::Roles(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::Bool(*v)))
                    .collect(),
            ),
            OptionValue::List(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// A form field declared in a blueprint.
#[derive(Debug, Clone)]
pub struct Field {
    /// Lowercase field name (the content key).
    pub name: String,
    /// Field type (`text`, `structure`, `pages`, ...).
    pub kind: String,
    /// Nested fields (structure/object).
    pub fields: Vec<Field>,
    /// The field's raw definition.
    pub props: Map<String, Value>,
}

impl Field {
    /// True when the field stores a date with time (`time: true`).
    pub fn has_time(&self) -> bool {
        truthy(self.props.get("time"))
    }

    /// False for the field types that only lay out a form (`headline`, `info`, `line`,
    /// `gap`): they are never stored.
    pub fn stores_value(&self) -> bool {
        !matches!(self.kind.as_str(), "headline" | "info" | "line" | "gap")
    }

    /// The values of the field's static `options:` (a map of value → text, a list of
    /// values, or a list of `{value, text}`); `None` for query or API options.
    pub fn option_values(&self) -> Option<Vec<String>> {
        match self.props.get("options")? {
            // `{type: query|api, …}` options are dynamic, not a value → text map
            Value::Object(m) if m.contains_key("type") => None,
            Value::Object(m) => Some(m.keys().cloned().collect()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|o| match o {
                        Value::Object(o) => o.get("value").and_then(scalar_string),
                        other => scalar_string(other),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Whether a value is allowed by the field's static options (always without them).
    pub fn allows(&self, value: &str) -> bool {
        self.option_values()
            .is_none_or(|o| o.iter().any(|v| v == value))
    }

    /// False for `translate: false`: the field is stored in the default language only.
    pub fn translatable(&self) -> bool {
        !matches!(self.props.get("translate"), Some(Value::Bool(false)))
    }
}

/// A `pages` or `files` section.
#[derive(Debug, Clone)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// `pages` or `files` (other types are not recorded).
    pub kind: String,
    /// Templates the section allows (`template:` or `templates:`), empty for "any".
    pub templates: Vec<String>,
    /// The section's raw definition.
    pub props: Map<String, Value>,
}

/// A parsed blueprint.
#[derive(Debug, Clone)]
pub struct Blueprint {
    /// `pages/article`, `files/image`, `users/editor` or `site`.
    pub name: String,
    /// Title (falls back to a label made from the name).
    pub title: String,
    /// Panel icon, if any.
    pub icon: Option<String>,
    /// Sorting mode for pages (`default`, `zero`, `date`, `datetime` or a query).
    pub num: String,
    /// The resolved `options:` block: only keys that are set.
    pub options: IndexMap<String, OptionValue>,
    /// Every field in layout order (tabs → columns → sections).
    pub fields: Vec<Field>,
    /// Pages and files sections in layout order.
    pub sections: Vec<Section>,
    /// The raw YAML document.
    pub raw: Value,
}

const PAGE_OPTION_ALIASES: [(&str, &str); 4] = [
    ("status", "changeStatus"),
    ("template", "changeTemplate"),
    ("title", "changeTitle"),
    ("url", "changeSlug"),
];

impl Blueprint {
    /// Builds a blueprint from parsed YAML.
    pub fn from_value(name: &str, raw: Value) -> Self {
        let obj = raw.as_object().cloned().unwrap_or_default();
        let short = name.rsplit('/').next().unwrap_or(name);
        let title = obj
            .get("title")
            .and_then(scalar_string)
            .unwrap_or_else(|| label_from_name(short));
        let icon = obj.get("icon").and_then(scalar_string);
        let num = match obj.get("num") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => "default".to_string(),
        };
        let num = match num.as_str() {
            "sort" => "default".to_string(),
            "0" => "zero".to_string(),
            _ => num,
        };
        let options = parse_options(obj.get("options"), name.starts_with("pages/"));
        let mut fields = Vec::new();
        let mut sections = Vec::new();
        collect_layout(&obj, &mut fields, &mut sections);
        Blueprint {
            name: name.to_string(),
            title,
            icon,
            num,
            options,
            fields,
            sections,
            raw,
        }
    }

    /// Kirby's built-in fallback blueprint for a kind (`pages/default` titled "Page", ...).
    pub fn fallback(name: &str) -> Self {
        let title = match name {
            "pages/default" => "Page",
            "files/default" => "File",
            "site" => "Site",
            _ => "",
        };
        let mut map = Map::new();
        if !title.is_empty() {
            map.insert("title".into(), Value::String(title.into()));
        }
        Blueprint::from_value(name, Value::Object(map))
    }

    /// The field with this (lowercase) name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A file blueprint's `accept` rules.
    pub fn accept(&self) -> Accept {
        Accept::from_value(self.raw.get("accept"))
    }
}

/// A file blueprint's `accept:` rules (only those Folio checks).
#[derive(Debug, Clone, Default)]
pub struct Accept {
    /// Allowed MIME types (may use `*` wildcards); empty = any.
    pub mime: Vec<String>,
    /// Allowed extensions; empty = any.
    pub extension: Vec<String>,
    /// Maximum size in bytes.
    pub maxsize: Option<u64>,
}

impl Accept {
    fn from_value(v: Option<&Value>) -> Self {
        let Some(Value::Object(o)) = v else {
            return match v.and_then(Value::as_str) {
                Some(s) => Accept {
                    mime: split_list(&Value::String(s.into())),
                    ..Accept::default()
                },
                None => Accept::default(),
            };
        };
        Accept {
            mime: o.get("mime").map(split_list).unwrap_or_default(),
            extension: o.get("extension").map(split_list).unwrap_or_default(),
            maxsize: o.get("maxsize").and_then(Value::as_u64),
        }
    }

    /// Whether a file with this MIME type, extension and size satisfies the rules.
    pub fn matches(&self, mime: &str, extension: &str, size: u64) -> bool {
        let mime_ok = self.mime.is_empty()
            || self.mime.iter().any(|m| {
                let m = m.to_ascii_lowercase();
                match m.strip_suffix("/*") {
                    Some(prefix) => mime.split('/').next() == Some(prefix),
                    None => m == mime,
                }
            });
        let ext_ok = self.extension.is_empty()
            || self
                .extension
                .iter()
                .any(|e| e.eq_ignore_ascii_case(extension));
        let size_ok = self.maxsize.is_none_or(|max| size <= max);
        mime_ok && ext_ok && size_ok
    }
}

fn split_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Value::Array(a) => a.iter().filter_map(scalar_string).collect(),
        _ => Vec::new(),
    }
}

fn parse_options(v: Option<&Value>, is_page: bool) -> IndexMap<String, OptionValue> {
    let mut out = IndexMap::new();
    match v {
        Some(Value::Bool(false)) => {
            // `options: false` turns every option off; the caller asks by key, so mark "*".
            out.insert("*".into(), OptionValue::Bool(false));
        }
        Some(Value::Object(o)) => {
            for (k, val) in o {
                let key = if is_page {
                    PAGE_OPTION_ALIASES
                        .iter()
                        .find(|(a, _)| a == k)
                        .map(|(_, b)| b.to_string())
                        .unwrap_or_else(|| k.clone())
                } else if k == "title" {
                    "changeTitle".to_string()
                } else {
                    k.clone()
                };
                let parsed = match val {
                    Value::Bool(b) => Some(OptionValue::Bool(*b)),
                    Value::Object(m) => Some(OptionValue::Roles(
                        m.iter()
                            .filter_map(|(r, b)| b.as_bool().map(|b| (r.clone(), b)))
                            .collect(),
                    )),
                    Value::Array(a) => Some(OptionValue::List(
                        a.iter().filter_map(scalar_string).collect(),
                    )),
                    _ => None,
                };
                if let Some(p) = parsed {
                    out.insert(key, p);
                }
            }
        }
        _ => {}
    }
    out
}

/// One status a page blueprint allows, as written there.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusOption {
    /// Kirby's own label and text (`true`, or no `status:` at all).
    Default,
    /// A label (`listed: Published`).
    Label(String),
    /// `label` and `text` (either may be missing: Kirby's label then, and no text).
    Custom {
        /// The label.
        label: Option<Value>,
        /// The description.
        text: Option<Value>,
    },
}

impl Blueprint {
    /// The statuses a page with this blueprint may have, in Kirby's order: those named in
    /// `status:` (all three when it is missing or empty; `false` removes one), with `draft`
    /// always first when the blueprint leaves it out, and never for the home and error
    /// pages.
    pub fn statuses(&self, home_or_error: bool) -> Vec<(&'static str, StatusOption)> {
        const KEYS: [&str; 3] = ["draft", "unlisted", "listed"];
        let written = self
            .raw
            .get("status")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty());
        let mut out: Vec<(&'static str, StatusOption)> = match written {
            None => KEYS.iter().map(|k| (*k, StatusOption::Default)).collect(),
            Some(map) => map
                .iter()
                .filter_map(|(key, option)| {
                    let key = KEYS.iter().find(|k| **k == key.as_str())?;
                    let option = match option {
                        Value::Bool(false) => return None,
                        Value::Bool(true) | Value::Null => StatusOption::Default,
                        Value::Object(o) => StatusOption::Custom {
                            label: o.get("label").filter(|l| !is_empty(l)).cloned(),
                            text: o.get("text").filter(|t| !t.is_null()).cloned(),
                        },
                        other => StatusOption::Label(match other {
                            Value::String(s) => s.clone(),
                            v => v.to_string(),
                        }),
                    };
                    Some((*key, option))
                })
                .collect(),
        };
        if !out.iter().any(|(k, _)| *k == "draft") {
            out.insert(0, ("draft", StatusOption::Default));
        }
        if home_or_error {
            out.retain(|(k, _)| *k != "draft");
        }
        out
    }

    /// The option for a key, honouring `options: false`.
    pub fn option(&self, key: &str) -> Option<&OptionValue> {
        self.options.get(key).or_else(|| self.options.get("*"))
    }
}

/// Walks tabs → columns → sections → fields in declaration order, with Kirby's precedence:
/// `tabs` replace everything else; within a tab or column, `fields` replace `sections`,
/// which replace `columns`.
fn collect_layout(node: &Map<String, Value>, fields: &mut Vec<Field>, sections: &mut Vec<Section>) {
    if let Some(tabs) = node.get("tabs") {
        for tab in children_of(tabs) {
            if let Value::Object(t) = tab {
                collect_tab(t, fields, sections);
            }
        }
        return;
    }
    collect_tab(node, fields, sections);
}

fn collect_tab(node: &Map<String, Value>, fields: &mut Vec<Field>, sections: &mut Vec<Section>) {
    if let Some(f) = node.get("fields") {
        fields.extend(parse_fields(f));
        return;
    }
    if let Some(secs) = node.get("sections").and_then(Value::as_object) {
        collect_sections(secs, fields, sections);
        return;
    }
    if let Some(cols) = node.get("columns") {
        for col in children_of(cols) {
            let Value::Object(c) = col else { continue };
            if let Some(f) = c.get("fields") {
                fields.extend(parse_fields(f));
            } else if let Some(secs) = c.get("sections").and_then(Value::as_object) {
                collect_sections(secs, fields, sections);
            }
        }
    }
}

fn collect_sections(
    secs: &Map<String, Value>,
    fields: &mut Vec<Field>,
    sections: &mut Vec<Section>,
) {
    for (name, sec) in secs {
        let Value::Object(s) = sec else { continue };
        let kind = s
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(name.as_str());
        match kind {
            "fields" => {
                if let Some(f) = s.get("fields") {
                    fields.extend(parse_fields(f));
                }
            }
            "pages" | "files" => {
                let mut templates = Vec::new();
                for key in ["templates", "template"] {
                    if let Some(t) = s.get(key) {
                        templates.extend(split_list(t));
                    }
                }
                sections.push(Section {
                    name: name.clone(),
                    kind: kind.to_string(),
                    templates,
                    props: s.clone(),
                });
            }
            _ => {}
        }
    }
}

fn children_of(v: &Value) -> Vec<&Value> {
    match v {
        Value::Object(o) => o.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

/// Parses a `fields:` map into fields (skipping `false` entries).
pub fn parse_fields(v: &Value) -> Vec<Field> {
    let Some(map) = v.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, def) in map {
        let props = match def {
            Value::Object(o) => o.clone(),
            Value::Bool(false) => continue,
            _ => Map::new(),
        };
        // Without `type:` the name is the type when it names one; else Kirby shows an error
        // field in its place, which stores nothing.
        let kind = match props.get("type").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None if FIELD_TYPES.contains(&name.as_str()) => name.clone(),
            None => "info".to_string(),
        };
        let fields = props.get("fields").map(parse_fields).unwrap_or_default();
        if kind == "group" {
            out.extend(fields);
            continue;
        }
        out.push(Field {
            name: name.to_ascii_lowercase(),
            kind,
            fields,
            props,
        });
    }
    out
}

/// A scalar YAML value as a string (numbers and bools included).
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

/// Kirby's label from a name (`Str::label`): `_ - .` become spaces, a word break goes
/// before every character that is not a lowercase letter or digit and before the first
/// digit of a run, then all lowercase with the first letter upper-cased
/// (`metaDescription` → `Meta description`, `step2` → `Step 2`).
pub fn label_from_name(name: &str) -> String {
    let mut spaced = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let c = if matches!(c, '_' | '-' | '.') { ' ' } else { c };
        let upper_or_mark = !(c.is_lowercase() || c.is_numeric());
        let first_digit = c.is_ascii_digit() && prev.is_some_and(|p| !p.is_ascii_digit());
        if upper_or_mark || first_digit {
            spaced.push(' ');
        }
        spaced.push(c);
        prev = Some(c);
    }
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let lower = words.join(" ").to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod label_tests {
    use super::label_from_name;

    #[test]
    fn labels_like_kirby() {
        assert_eq!(label_from_name("metaDescription"), "Meta description");
        assert_eq!(label_from_name("hero_image-url"), "Hero image url");
        assert_eq!(label_from_name("step2"), "Step 2");
        assert_eq!(label_from_name("SEO"), "S e o");
        assert_eq!(label_from_name("title"), "Title");
        assert_eq!(label_from_name(""), "");
    }
}

/// Every blueprint of a site.
#[derive(Debug, Clone, Default)]
pub struct Blueprints {
    /// `pages/<name>` by template name.
    pub pages: HashMap<String, Blueprint>,
    /// `files/<name>` by template name.
    pub files: HashMap<String, Blueprint>,
    /// `users/<name>` by role name (including `default`).
    pub users: IndexMap<String, Blueprint>,
    /// `site.yml`.
    pub site: Option<Blueprint>,
    /// Problems found while loading (file and message), reported at start-up.
    pub warnings: Vec<String>,
    /// Every other blueprint file by name (`blocks/heading`, `fields/seo`), as written: what
    /// block fieldsets and their `extends` load ([`crate::fieldsets`]).
    pub mixins: HashMap<String, Value>,
}

impl Blueprints {
    /// Loads `site/blueprints/` below the root.
    pub fn load(dir: &Path) -> Self {
        let mut out = Blueprints::default();
        let cache: std::cell::RefCell<HashMap<String, Option<Value>>> = Default::default();
        let find = |name: &str| -> Option<Value> {
            if name.contains("..") || name.starts_with('/') {
                return None;
            }
            if let Some(v) = cache.borrow().get(name) {
                return v.clone();
            }
            let v = ["yml", "yaml"]
                .iter()
                .find_map(|ext| load_yaml(&dir.join(format!("{name}.{ext}"))).ok());
            cache.borrow_mut().insert(name.to_string(), v.clone());
            v
        };
        for kind in ["pages", "files", "users"] {
            let Ok(entries) = std::fs::read_dir(dir.join(kind)) else {
                continue;
            };
            let mut names: Vec<_> = entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
                .collect();
            names.sort();
            for file in names {
                let stem = file.rsplit_once('.').map(|(a, _)| a).unwrap_or(&file);
                let name = format!("{kind}/{stem}");
                match load_yaml(&dir.join(kind).join(&file)) {
                    Ok(v) => {
                        let bp = Blueprint::from_value(&name, resolve_mixins(v, &find));
                        let key = stem.to_string();
                        match kind {
                            "pages" => out.pages.insert(key, bp),
                            "files" => out.files.insert(key, bp),
                            _ => out.users.insert(key, bp),
                        };
                    }
                    Err(e) => out.warnings.push(format!("{kind}/{file}: {e}")),
                }
            }
        }
        for file in ["site.yml", "site.yaml"] {
            let p = dir.join(file);
            if p.exists() {
                match load_yaml(&p) {
                    Ok(v) => {
                        out.site = Some(Blueprint::from_value("site", resolve_mixins(v, &find)))
                    }
                    Err(e) => out.warnings.push(format!("{file}: {e}")),
                }
                break;
            }
        }
        out.users.sort_keys();
        out.mixins = load_mixins(dir);
        out
    }

    /// The blueprint of a page template (falling back to `pages/default`).
    pub fn page(&self, template: &str) -> std::borrow::Cow<'_, Blueprint> {
        match self
            .pages
            .get(template)
            .or_else(|| self.pages.get("default"))
        {
            Some(bp) => std::borrow::Cow::Borrowed(bp),
            None => std::borrow::Cow::Owned(Blueprint::fallback("pages/default")),
        }
    }

    /// The blueprint of a file template (falling back to `files/default`).
    pub fn file(&self, template: Option<&str>) -> std::borrow::Cow<'_, Blueprint> {
        match template
            .and_then(|t| self.files.get(t))
            .or_else(|| self.files.get("default"))
        {
            Some(bp) => std::borrow::Cow::Borrowed(bp),
            None => std::borrow::Cow::Owned(Blueprint::fallback("files/default")),
        }
    }

    /// The site blueprint.
    pub fn site(&self) -> std::borrow::Cow<'_, Blueprint> {
        match &self.site {
            Some(bp) => std::borrow::Cow::Borrowed(bp),
            None => std::borrow::Cow::Owned(Blueprint::fallback("site")),
        }
    }

    /// The user blueprint of a role (falling back to `users/default`).
    pub fn user(&self, role: &str) -> Option<&Blueprint> {
        self.users.get(role).or_else(|| self.users.get("default"))
    }
}

/// Kirby's core field types (a field without `type:` takes its name as type when it is one).
pub const FIELD_TYPES: &[&str] = &[
    "blocks",
    "checkboxes",
    "color",
    "date",
    "email",
    "entries",
    "files",
    "gap",
    "headline",
    "hidden",
    "info",
    "layout",
    "line",
    "link",
    "list",
    "multiselect",
    "number",
    "object",
    "pages",
    "radio",
    "range",
    "select",
    "slug",
    "structure",
    "tags",
    "tel",
    "text",
    "textarea",
    "time",
    "toggle",
    "toggles",
    "url",
    "users",
    "writer",
];

/// How deep mixins may extend mixins (a cycle ends here).
const MAX_EXTENDS: usize = 16;

/// Kirby's `Blueprint::extend`: a string is `{extends: string}`; each mixin named by
/// `extends` (one or a list) is loaded, extended itself, and the props are merged over it
/// (objects merge key by key, anything else is replaced). An unknown mixin is ignored.
pub fn extend(props: Value, find: &dyn Fn(&str) -> Option<Value>, depth: usize) -> Value {
    let props = match props {
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("extends".into(), Value::String(s));
            Value::Object(m)
        }
        other => other,
    };
    let Value::Object(mut o) = props else {
        return props;
    };
    let Some(ext) = o.shift_remove("extends") else {
        return Value::Object(o);
    };
    let names: Vec<String> = match ext {
        Value::String(s) => vec![s],
        Value::Array(a) => a.iter().filter_map(scalar_string).collect(),
        _ => Vec::new(),
    };
    let mut merged = Value::Object(o);
    for name in names {
        if depth >= MAX_EXTENDS {
            break;
        }
        if let Some(mixin) = find(&name) {
            let mixin = extend(mixin, find, depth + 1);
            merged = merge_replace(mixin, merged);
        }
    }
    merged
}

/// PHP's `A::merge($a, $b, A::MERGE_REPLACE)` on YAML values.
fn merge_replace(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => {
                        *slot = merge_replace(std::mem::take(slot), v);
                    }
                    Some(slot) => *slot = v,
                    None => {
                        b.insert(k, v);
                    }
                }
            }
            Value::Object(b)
        }
        (_, over) => over,
    }
}

/// Resolves every mixin of a raw blueprint, where Kirby resolves them: the blueprint
/// itself, its options, tabs, sections and fields (strings as shorthands for `extends`),
/// and nested fields.
pub fn resolve_mixins(raw: Value, find: &dyn Fn(&str) -> Option<Value>) -> Value {
    let mut root = extend(raw, find, 0);
    if let Value::Object(o) = &mut root {
        if let Some(options) = o.get_mut("options")
            && (options.is_object() || options.is_string())
        {
            *options = extend(std::mem::take(options), find, 0);
        }
        resolve_layout(o, find, 0);
    }
    root
}

fn resolve_layout(
    node: &mut Map<String, Value>,
    find: &dyn Fn(&str) -> Option<Value>,
    depth: usize,
) {
    if depth > MAX_EXTENDS {
        return;
    }
    for key in ["tabs", "sections", "fields"] {
        let Some(Value::Object(children)) = node.get_mut(key) else {
            continue;
        };
        for (_, child) in children.iter_mut() {
            if child.is_string() || child.is_object() {
                *child = extend(std::mem::take(child), find, 0);
            }
            if let Value::Object(c) = child {
                resolve_layout(c, find, depth + 1);
            }
        }
    }
    if let Some(cols) = node.get_mut("columns") {
        let list: Vec<&mut Value> = match cols {
            Value::Object(m) => m.values_mut().collect(),
            Value::Array(a) => a.iter_mut().collect(),
            _ => Vec::new(),
        };
        for col in list {
            if let Value::Object(c) = col {
                resolve_layout(c, find, depth + 1);
            }
        }
    }
}

/// The blueprint files outside `pages/`, `files/` and `users/` (a few levels deep), by name.
fn load_mixins(dir: &Path) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    let mut todo = vec![(dir.to_path_buf(), String::new(), 0)];
    while let Some((folder, prefix, depth)) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let path = e.path();
            if path.is_dir() {
                let top = depth == 0 && matches!(name.as_str(), "pages" | "files" | "users");
                if depth < 3 && !top && !name.starts_with('.') {
                    todo.push((path, format!("{prefix}{name}/"), depth + 1));
                }
            } else if let Some(stem) = name
                .strip_suffix(".yml")
                .or_else(|| name.strip_suffix(".yaml"))
                && let Ok(v) = load_yaml(&path)
            {
                out.insert(format!("{prefix}{stem}"), v);
            }
        }
    }
    out
}

fn load_yaml(path: &Path) -> Result<Value, String> {
    let src = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    yaml::parse(&src).map_err(|e| e.to_string())
}

/// PHP's `empty()` for a YAML value.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn statuses_follow_kirbys_rules() {
        let bp = |yaml: serde_json::Value| Blueprint::from_value("pages/x", yaml);
        let keys = |b: &Blueprint, special: bool| -> Vec<&'static str> {
            b.statuses(special).into_iter().map(|(k, _)| k).collect()
        };
        let none = bp(json!({}));
        assert_eq!(keys(&none, false), ["draft", "unlisted", "listed"]);
        assert_eq!(
            keys(&none, true),
            ["unlisted", "listed"],
            "home and error: no draft"
        );
        let empty = bp(json!({"status": {}}));
        assert_eq!(keys(&empty, false), ["draft", "unlisted", "listed"]);
        let some = bp(json!({"status": {"listed": "Live", "unlisted": false, "bogus": true}}));
        assert_eq!(
            keys(&some, false),
            ["draft", "listed"],
            "draft is always there"
        );
        assert_eq!(
            some.statuses(false)[1].1,
            StatusOption::Label("Live".into())
        );
        let custom = bp(json!({"status": {"unlisted": {"text": "Hidden"}, "draft": true}}));
        assert_eq!(
            keys(&custom, false),
            ["unlisted", "draft"],
            "the blueprint's order"
        );
        assert_eq!(
            custom.statuses(false)[0].1,
            StatusOption::Custom {
                label: None,
                text: Some(json!("Hidden"))
            }
        );
    }

    use super::*;

    #[test]
    fn mixins_extend_like_kirby() {
        let find = |name: &str| -> Option<Value> {
            match name {
                "fields/keywords" => {
                    Some(serde_json::json!({"label": "Keywords", "type": "tags", "icon": "tag"}))
                }
                "sections/notes" => Some(
                    serde_json::json!({"type": "info", "text": "Hi", "extends": "sections/base"}),
                ),
                "sections/base" => Some(serde_json::json!({"theme": "info", "headline": "Base"})),
                _ => None,
            }
        };
        let raw = serde_json::json!({
            "sections": {
                "notes": {"extends": "sections/notes", "headline": "Mine"},
                "meta": {"type": "fields", "fields": {"keywords": "fields/keywords", "tags": true, "heroImage": {}}},
                "missing": "sections/nope"
            }
        });
        let out = resolve_mixins(raw, &find);
        assert_eq!(
            out["sections"]["notes"],
            serde_json::json!({"theme": "info", "headline": "Mine", "type": "info", "text": "Hi"})
        );
        assert_eq!(
            out["sections"]["meta"]["fields"]["keywords"]["type"],
            "tags"
        );
        assert_eq!(out["sections"]["missing"], serde_json::json!({}));
        let bp = Blueprint::from_value("pages/x", out);
        let kinds: Vec<(&str, &str)> = bp
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("keywords", "tags"),
                ("tags", "tags"),
                ("heroimage", "info")
            ]
        );
    }
    use serde_json::json;

    #[test]
    fn fields_follow_layout_order() {
        let bp = Blueprint::from_value(
            "pages/article",
            json!({"columns": {"main": {"fields": {"a": {"type": "text"}, "b": {}}},
                "side": {"fields": {"c": {"type": "date"}}, "sections": {"files": {"type": "files"}}}}}),
        );
        let names: Vec<_> = bp.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(
            bp.sections.is_empty(),
            "a column's fields replace its sections"
        );
        let bp = Blueprint::from_value(
            "pages/x",
            json!({"sections": {"list": {"type": "pages", "template": "a"}}, "fields": {"intro": {}}}),
        );
        assert_eq!(bp.fields.len(), 1);
        assert!(bp.sections.is_empty(), "fields replace sections");
    }

    #[test]
    fn options_resolve_per_role_and_aliases() {
        let bp = Blueprint::from_value(
            "pages/x",
            json!({"options": {"delete": {"admin": true, "*": false}, "status": false}}),
        );
        assert_eq!(bp.option("delete").unwrap().for_role("admin"), Some(true));
        assert_eq!(bp.option("delete").unwrap().for_role("editor"), Some(false));
        assert_eq!(
            bp.option("changeStatus").unwrap().for_role("x"),
            Some(false)
        );
        assert!(bp.option("update").is_none());
    }

    #[test]
    fn accept_rules() {
        let a = Accept::from_value(Some(&json!({"mime": "image/jpeg, image/*", "maxsize": 10})));
        assert!(a.matches("image/png", "png", 5));
        assert!(!a.matches("text/plain", "txt", 5));
        assert!(!a.matches("image/png", "png", 50));
    }
}
