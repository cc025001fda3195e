//! Form field props as Kirby's Panel forms (fields sections) see them: each core field
//! type's defaults, the blueprint's own props over them, option lists normalised, nested
//! structure fields, and `disabled` everywhere when the user may not update the model.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use folio_core::blueprint::label_from_name;
use folio_core::model::FileParent;
use folio_core::permissions::{Target, can};
use folio_core::query::Model;

use super::V;

/// Props that are blueprint plumbing, not field props.
const NOT_PROPS: &[&str] = &[
    "extends", "type", "name", "label", "width", "help", "fields",
];

/// Types without input (no `autofocus`, `disabled`, `required`, `translate`).
const DISPLAY_ONLY: &[&str] = &["info", "headline"];

impl V<'_> {
    /// Whether the actor may update the model (else every field is disabled).
    pub fn may_update(&self, model: Model) -> bool {
        let target = match model {
            Model::Site => Target::Site,
            Model::Page(p) => Target::Page(p),
            Model::File(f) => Target::File(f.parent, &self.snap.files_of(f.parent)[f.idx].filename),
            Model::User(u) => Target::User(u),
        };
        can(self.snap, self.actor, target, "update")
    }

    /// The props of every field of a fields section, keyed by lowercase name.
    pub fn form_fields(&self, model: Model, fields: &Value) -> Value {
        let disabled = !self.may_update(model);
        let mut out = Map::new();
        if let Value::Object(map) = fields {
            for (name, def) in map {
                let Value::Object(def) = def else { continue };
                out.insert(
                    name.to_lowercase(),
                    self.field_props(model, name, def, disabled),
                );
            }
        }
        super::php_object(out)
    }

    fn field_props(
        &self,
        model: Model,
        name: &str,
        def: &Map<String, Value>,
        disabled: bool,
    ) -> Value {
        let kind = def
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("text")
            .to_string();
        let mut p: BTreeMap<String, Value> = BTreeMap::new();
        p.insert("hidden".into(), json!(false));
        p.insert(
            "label".into(),
            def.get("label")
                .cloned()
                .unwrap_or_else(|| json!(label_from_name(name))),
        );
        p.insert("name".into(), json!(name.to_lowercase()));
        p.insert("type".into(), json!(kind));
        p.insert(
            "width".into(),
            def.get("width").cloned().unwrap_or(json!("1/1")),
        );
        let saveable = !matches!(kind.as_str(), "info" | "headline" | "gap" | "line");
        p.insert("saveable".into(), json!(saveable));
        if !DISPLAY_ONLY.contains(&kind.as_str()) {
            if !matches!(kind.as_str(), "files" | "users" | "pages" | "structure") {
                p.insert("autofocus".into(), json!(false));
            }
            p.insert("disabled".into(), json!(false));
            p.insert("required".into(), json!(false));
            p.insert("translate".into(), json!(true));
        }
        let defaults: &[(&str, Value)] = &match kind.as_str() {
            "text" | "slug" => vec![
                ("counter", json!(true)),
                ("font", json!("sans-serif")),
                ("spellcheck", json!(false)),
            ],
            "textarea" => vec![
                ("buttons", json!(true)),
                ("counter", json!(true)),
                ("default", json!("")),
                ("files", json!([])),
                ("font", json!("sans-serif")),
                ("spellcheck", json!(true)),
                ("uploads", json!({"accept": "*"})),
            ],
            "email" => vec![
                ("autocomplete", json!("email")),
                ("font", json!("sans-serif")),
                ("icon", json!("email")),
                ("placeholder", json!("mail@example.com")),
                ("spellcheck", json!(false)),
            ],
            "url" => vec![
                ("autocomplete", json!("url")),
                ("font", json!("sans-serif")),
                ("icon", json!("url")),
                ("placeholder", json!("https://example.com")),
            ],
            "date" => vec![
                ("calendar", json!(true)),
                ("default", json!("")),
                ("display", json!("YYYY-MM-DD")),
                ("format", json!("Y-m-d")),
                ("icon", json!("calendar")),
                ("step", json!({"size": 1, "unit": "day"})),
                ("time", json!(false)),
            ],
            "writer" => vec![
                ("counter", json!(true)),
                ("headings", json!([1, 2, 3, 4, 5, 6])),
                ("inline", json!(false)),
            ],
            "color" => vec![
                ("alpha", json!(false)),
                ("default", json!("")),
                ("format", json!("hex")),
                ("mode", json!("picker")),
                ("options", json!([])),
            ],
            "blocks" => vec![("group", json!("blocks"))],
            "tel" => vec![
                ("autocomplete", json!("tel")),
                ("font", json!("sans-serif")),
                ("icon", json!("phone")),
            ],
            "number" | "range" => vec![("default", json!("")), ("step", json!(""))],
            "select" => vec![("options", json!([])), ("placeholder", json!("—"))],
            "radio" => vec![("columns", json!(1)), ("options", json!([]))],
            "list" => vec![("marks", json!(true))],
            "toggle" => vec![("default", json!(false))],
            "toggles" => vec![
                ("grow", json!(true)),
                ("labels", json!(true)),
                ("options", json!([])),
                ("reset", json!(true)),
            ],
            "checkboxes" => vec![
                ("batch", json!(false)),
                ("columns", json!(1)),
                ("default", json!([])),
                ("options", json!([])),
            ],
            "tags" | "multiselect" => vec![
                ("accept", json!("all")),
                ("default", json!([])),
                ("icon", json!("tag")),
                ("options", json!([])),
                ("search", json!(true)),
                ("separator", json!(",")),
                ("sort", json!(false)),
            ],
            "structure" => vec![
                ("batch", json!(false)),
                ("default", json!([])),
                ("duplicate", json!(true)),
            ],
            "files" | "users" | "pages" => vec![
                ("default", json!([])),
                ("layout", json!("list")),
                ("link", json!(true)),
                ("multiple", json!(true)),
                ("search", json!(true)),
                ("size", json!("auto")),
                ("store", json!("uuid")),
            ],
            _ => Vec::new(),
        };
        for (k, v) in defaults {
            p.insert((*k).to_string(), v.clone());
        }
        if kind == "pages" {
            p.insert("subpages".into(), json!(true));
        }
        if kind == "files" {
            let own = match model {
                Model::Site => "site",
                Model::Page(_) => "page",
                Model::User(_) => "user",
                Model::File(_) => "file",
            };
            p.insert("query".into(), json!(format!("{own}.files")));
        }
        for (k, v) in def {
            if NOT_PROPS.contains(&k.as_str()) || v.is_null() {
                continue;
            }
            p.insert(k.clone(), v.clone());
        }
        if let Some(help) = def
            .get("help")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
        {
            p.insert("help".into(), json!(self.kirbytext_of(model, help)));
        }
        if kind == "info"
            && let Some(text) = def.get("text").and_then(Value::as_str)
        {
            p.insert("text".into(), json!(self.kirbytext_of(model, text)));
        }
        if let Some(opts) = def.get("options")
            && matches!(
                kind.as_str(),
                "select" | "radio" | "checkboxes" | "toggles" | "multiselect" | "tags"
            )
        {
            p.insert("options".into(), options(opts));
        }
        if kind == "number" || kind == "range" {
            for k in ["default", "min", "max", "step"] {
                if let Some(Value::String(s)) = p.get(k).cloned()
                    && let Ok(n) = s.trim().parse::<f64>()
                {
                    p.insert(k.into(), number(n));
                }
            }
        }
        if kind == "color"
            && let Some(opts) = def.get("options")
        {
            p.insert("options".into(), options(opts));
        }
        if matches!(kind.as_str(), "tags" | "multiselect" | "checkboxes")
            && let Some(Value::String(s)) = p.get("default").cloned()
        {
            let sep = p
                .get("separator")
                .and_then(Value::as_str)
                .unwrap_or(",")
                .to_string();
            p.insert(
                "default".into(),
                json!(
                    s.split(sep.as_str())
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                ),
            );
        }
        if kind == "files" {
            p.insert("parent".into(), json!(self.api_model_path(model)));
            let template = match def.get("uploads") {
                Some(Value::String(t)) => Some(t.clone()),
                Some(Value::Object(o)) => o
                    .get("template")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            };
            let mut uploads = Map::new();
            if let Some(t) = &template {
                uploads.insert("template".into(), json!(t));
                let bp = self.snap.blueprints.file(Some(t));
                uploads.insert(
                    "accept".into(),
                    json!(super::section::accept_attribute(&bp)),
                );
            } else {
                uploads.insert("accept".into(), json!("*"));
            }
            if let Some(img) = def.get("image") {
                uploads.insert("preview".into(), img.clone());
            }
            if def.get("uploads") == Some(&Value::Bool(false)) {
                p.insert("uploads".into(), json!(false));
            } else {
                p.insert("uploads".into(), Value::Object(uploads));
            }
        }
        if kind == "structure" {
            let nested = def.get("fields").cloned().unwrap_or(json!({}));
            let fields = self.form_fields_with(model, &nested, disabled);
            p.insert("columns".into(), structure_columns(def, &fields));
            p.insert("fields".into(), fields);
        }
        if kind == "object"
            && let Some(nested) = def.get("fields")
        {
            p.insert(
                "fields".into(),
                self.form_fields_with(model, nested, disabled),
            );
        }
        if matches!(kind.as_str(), "blocks" | "layout") {
            let (sets, groups) = self.fieldsets_props(model, name, def, disabled);
            p.insert("fieldsets".into(), sets);
            if let Some(groups) = groups {
                p.insert("fieldsetGroups".into(), groups);
            }
        }
        if let Some(Value::Bool(req)) = def.get("required") {
            p.insert("required".into(), json!(req));
        }
        // Untranslatable fields are read-only in every language but the default.
        if def.get("translate") == Some(&Value::Bool(false)) && self.snap.is_translation() {
            p.insert("disabled".into(), json!(true));
        }
        let mut out: Map<String, Value> = p.into_iter().collect();
        if disabled {
            out.insert("disabled".into(), json!(true));
        }
        Value::Object(out)
    }

    /// The `fieldsets` of a blocks or layout field: every block type with its form (one
    /// `content` tab, or the fieldset's own tabs), and its groups when it has any.
    fn fieldsets_props(
        &self,
        model: Model,
        name: &str,
        def: &Map<String, Value>,
        disabled: bool,
    ) -> (Value, Option<Value>) {
        let Some(field) = folio_core::blueprint::parse_fields(&json!({ name: def })).pop() else {
            return (super::php_object(Map::new()), None);
        };
        let sets = folio_core::fieldsets::Fieldsets::of(&self.snap.blueprints, &field);
        let mut out = Map::new();
        for set in &sets.sets {
            let prop = |key: &str, default: Value| set.props.get(key).cloned().unwrap_or(default);
            let tabs = match set.props.get("tabs") {
                Some(Value::Object(tabs)) => tabs
                    .iter()
                    .map(|(tab, t)| {
                        let fields = t.get("fields").cloned().unwrap_or(json!({}));
                        let mut m = Map::new();
                        m.insert(
                            "fields".into(),
                            self.form_fields_with(model, &fields, disabled),
                        );
                        if let Some(label) = t.get("label") {
                            m.insert("label".into(), label.clone());
                        }
                        (tab.clone(), Value::Object(m))
                    })
                    .collect(),
                _ => {
                    let fields = set.props.get("fields").cloned().unwrap_or(json!({}));
                    let mut m = Map::new();
                    m.insert(
                        "content".into(),
                        json!({ "fields": self.form_fields_with(model, &fields, disabled) }),
                    );
                    m
                }
            };
            out.insert(
                set.kind.clone(),
                json!({
                    "disabled": prop("disabled", json!(false)),
                    "editable": prop("editable", json!(true)),
                    "icon": prop("icon", Value::Null),
                    "label": prop("label", Value::Null),
                    "name": prop("name", json!(label_from_name(&set.kind))),
                    "preview": prop("preview", json!(set.kind)),
                    "tabs": Value::Object(tabs),
                    "translate": prop("translate", json!(true)),
                    "type": set.kind,
                    "unset": prop("unset", json!(false)),
                    "wysiwyg": prop("wysiwyg", json!(false)),
                }),
            );
        }
        let groups = (!sets.groups.is_empty()).then(|| {
            Value::Object(
                sets.groups
                    .iter()
                    .map(|g| {
                        (
                            g.name.clone(),
                            json!({ "label": label_from_name(&g.name), "name": g.name, "sets": g.sets }),
                        )
                    })
                    .collect(),
            )
        });
        (super::php_object(out), groups)
    }

    fn form_fields_with(&self, model: Model, fields: &Value, disabled: bool) -> Value {
        let mut out = Map::new();
        if let Value::Object(map) = fields {
            for (name, def) in map {
                let Value::Object(def) = def else { continue };
                out.insert(
                    name.to_lowercase(),
                    self.field_props(model, name, def, disabled),
                );
            }
        }
        super::php_object(out)
    }

    fn kirbytext_of(&self, model: Model, text: &str) -> String {
        let safe = self.model_string(model, text, true);
        folio_core::kirbytext::markdown(
            &safe,
            folio_core::kirbytext::MdOptions { allow_html: true },
        )
        .trim_end()
        .to_string()
    }

    /// The API path of a model (`site`, `pages/a+b`, `users/<id>`, `pages/a/files/x`).
    pub fn api_model_path(&self, model: Model) -> String {
        match model {
            Model::Site => "site".into(),
            Model::Page(p) => format!("pages/{}", self.snap.pages[p].id.replace('/', "+")),
            Model::User(u) => format!("users/{}", self.snap.users[u].id),
            Model::File(f) => {
                let name = &self.snap.files_of(f.parent)[f.idx].filename;
                let parent = match f.parent {
                    FileParent::Site => Model::Site,
                    FileParent::Page(p) => Model::Page(p),
                    FileParent::User(u) => Model::User(u),
                };
                format!("{}/files/{name}", self.api_model_path(parent))
            }
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Static options as `{disabled, icon, info, text, value}` (query/API options render empty).
fn options(opts: &Value) -> Value {
    let item = |value: Value, text: Value| json!({"disabled": false, "icon": null, "info": null, "text": text, "value": value});
    match opts {
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|o| match o {
                    Value::Object(m) => {
                        let value = m.get("value").cloned().unwrap_or(Value::Null);
                        let text = m.get("text").cloned().unwrap_or_else(|| value.clone());
                        json!({
                            "disabled": m.get("disabled").cloned().unwrap_or(json!(false)),
                            "icon": m.get("icon").cloned().unwrap_or(Value::Null),
                            "info": m.get("info").cloned().unwrap_or(Value::Null),
                            "text": text,
                            "value": value,
                        })
                    }
                    other => item(other.clone(), other.clone()),
                })
                .collect(),
        ),
        Value::Object(m) if m.contains_key("type") || m.contains_key("query") => json!([]),
        Value::Object(m) => {
            Value::Array(m.iter().map(|(k, v)| item(json!(k), v.clone())).collect())
        }
        _ => json!([]),
    }
}

/// A structure's table columns: the blueprint's `columns`, else every saveable field;
/// the first column shows on mobile.
fn structure_columns(def: &Map<String, Value>, fields: &Value) -> Value {
    let Value::Object(fields) = fields else {
        return json!([]);
    };
    let names: Vec<(String, Map<String, Value>)> = match def.get("columns") {
        Some(Value::Object(c)) => c
            .iter()
            .filter(|(_, v)| **v != Value::Bool(false))
            .map(|(k, v)| (k.to_lowercase(), v.as_object().cloned().unwrap_or_default()))
            .collect(),
        _ => fields
            .iter()
            .filter(|(_, f)| f.get("saveable") == Some(&Value::Bool(true)))
            .map(|(k, _)| (k.clone(), Map::new()))
            .collect(),
    };
    let mut out = Map::new();
    for (i, (name, extra)) in names.into_iter().enumerate() {
        let Some(f) = fields.get(&name) else { continue };
        let mut c = Map::new();
        c.insert("type".into(), f.get("type").cloned().unwrap_or(Value::Null));
        c.insert(
            "label".into(),
            f.get("label").cloned().unwrap_or(Value::Null),
        );
        if i == 0 {
            c.insert("mobile".into(), json!(true));
        }
        for (k, v) in extra {
            c.insert(k, v);
        }
        out.insert(name, Value::Object(c));
    }
    super::php_object(out)
}
