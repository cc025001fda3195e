//! The `content` object of a model: every blueprint field first (typed per field type, also
//! when missing from the file), then every other stored field as a raw string.

use serde_json::{Map, Value, json};

use folio_core::actions::blocks::{self, Block};
use folio_core::blueprint::Field;
use folio_core::fieldsets::Fieldsets;
use folio_core::format::yaml;
use folio_core::model::{Content, File, FileParent, PageIdx, UserIdx};
use folio_core::query::{FileRef, Model};
use folio_core::snapshot::UuidTarget;

use super::views::{V, php_object};

/// Content of a page.
pub fn page(v: &V<'_>, p: PageIdx) -> Value {
    let page = &v.snap.pages[p];
    let bp = v.snap.blueprints.page(&page.template);
    form(v, &bp.fields, &page.content, FileParent::Page(p))
}

/// Content of the site.
pub fn site(v: &V<'_>) -> Value {
    let bp = v.snap.blueprints.site();
    form(v, &bp.fields, &v.snap.site.content, FileParent::Site)
}

/// Content of a file (its meta data).
pub fn file(v: &V<'_>, f: &File) -> Value {
    let bp = v.snap.blueprints.file(f.template());
    form(v, &bp.fields, &f.content, f.parent)
}

/// Content of a user (`user.txt`).
pub fn user(v: &V<'_>, u: UserIdx) -> Value {
    let user = &v.snap.users[u];
    let fields = v
        .snap
        .blueprints
        .user(&user.role)
        .map(|bp| bp.fields.clone())
        .unwrap_or_default();
    form(v, &fields, &user.content, FileParent::User(u))
}

fn form(v: &V<'_>, fields: &[Field], content: &Content, owner: FileParent) -> Value {
    let mut m = Map::new();
    for f in fields {
        if is_layout_only(&f.kind) {
            continue;
        }
        // Kirby's color and hidden fields have no value at all until one is stored.
        if matches!(f.kind.as_str(), "color" | "hidden") && !content.contains_key(&f.name) {
            m.insert(f.name.clone(), Value::Null);
            continue;
        }
        let raw = content.get(&f.name).map(String::as_str).unwrap_or("");
        m.insert(f.name.clone(), typed(v, f, raw, owner));
    }
    for (k, val) in content {
        if !m.contains_key(k) {
            m.insert(k.clone(), Value::String(val.clone()));
        }
    }
    php_object(m)
}

/// Field types that hold no value.
fn is_layout_only(kind: &str) -> bool {
    matches!(kind, "headline" | "info" | "line" | "gap")
}

/// The form value of one field.
pub fn typed(v: &V<'_>, f: &Field, raw: &str, owner: FileParent) -> Value {
    match f.kind.as_str() {
        "number" | "range" => number(raw),
        "toggle" => Value::Bool(matches!(raw.trim(), "true" | "1" | "on" | "yes")),
        "date" => date(raw),
        // Options fields show only values among their static options.
        "tags" | "checkboxes" | "multiselect" => Value::Array(
            raw.split(
                f.props
                    .get("separator")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty() && f.kind != "checkboxes")
                    .unwrap_or(","),
            )
            .map(str::trim)
            .filter(|s| !s.is_empty() && (f.kind == "tags" || f.allows(s)))
            .map(|s| Value::String(s.to_string()))
            .collect(),
        ),
        "select" | "radio" | "toggles" if !f.allows(raw.trim()) => Value::String(String::new()),
        "structure" => structure(v, f, raw, owner),
        "object" => match v.snap.options.yaml.parse(raw) {
            Ok(Value::Object(o)) if o.is_empty() => Value::String(String::new()),
            Ok(Value::Object(o)) => Value::Object(sub_form(v, &f.fields, o, owner)),
            _ if raw.trim().is_empty() => Value::String(String::new()),
            _ => Value::Null,
        },
        "entries" => entries(v, f, raw, owner),
        // These fields show their value trimmed (a YAML block keeps its last newline).
        "textarea" | "writer" | "list" => Value::String(raw.trim().to_string()),
        "time" => json!(folio_core::actions::store_time_in(
            raw,
            folio_core::actions::step(f)
        )),
        "blocks" => {
            let sets = Fieldsets::of(&v.snap.blueprints, f);
            let list = blocks::blocks_of(&blocks::parse_blocks(&json!(raw)));
            Value::Array(form_blocks(v, &sets, &list, owner))
        }
        "layout" => layouts(v, f, raw, owner),
        "pages" => Value::Array(
            refs(raw)
                .iter()
                .filter_map(|r| resolve_page(v, r))
                .filter(|p| {
                    folio_core::permissions::can(
                        v.snap,
                        v.actor,
                        folio_core::permissions::Target::Page(*p),
                        "list",
                    )
                })
                .map(|p| v.page_picker(p, true))
                .collect(),
        ),
        "files" => Value::Array(
            refs(raw)
                .iter()
                .filter_map(|r| resolve_file(v, r, owner))
                .filter(|file| v.listable_file(file))
                .map(|file| file_item(v, f, file))
                .collect(),
        ),
        "users" => Value::Array(
            refs(raw)
                .iter()
                .filter_map(|r| v.snap.user_by_key(r))
                .map(|u| v.user_picker(u))
                .collect(),
        ),
        _ => Value::String(raw.to_string()),
    }
}

/// A file as the picker item of a files field: the field's `image:` settings and `layout`
/// (cards and cardlets get their own preview sizes), and its `text:`/`info:` templates.
pub fn file_item(v: &V<'_>, f: &Field, file: &File) -> Value {
    let mut item = v.file_picker_with(file, f.props.get("image"));
    let layout = f
        .props
        .get("layout")
        .and_then(Value::as_str)
        .unwrap_or("list");
    let idx = v
        .snap
        .files_of(file.parent)
        .iter()
        .position(|x| x.filename == file.filename);
    if let (Some(idx), Value::Object(m)) = (idx, &mut item) {
        let model = Model::File(FileRef {
            parent: file.parent,
            idx,
        });
        if layout != "list" && m.get("image").is_some_and(|i| !i.is_null()) {
            m.insert(
                "image".into(),
                v.panel_image(model, f.props.get("image"), layout),
            );
        }
        for key in ["text", "info"] {
            if let Some(Value::String(t)) = f.props.get(key) {
                m.insert(key.into(), json!(v.model_string(model, t, true)));
            }
        }
    }
    item
}

/// Blocks with their content as their fieldsets' forms show it (a block of an unknown
/// type as it is).
pub fn form_blocks(v: &V<'_>, sets: &Fieldsets, list: &[Block], owner: FileParent) -> Vec<Value> {
    list.iter()
        .map(|b| match sets.find(&b.kind) {
            Some(set) => Block {
                content: form_content(v, &set.fields, &b.content, owner),
                ..b.clone()
            }
            .to_json(),
            None => b.to_json(),
        })
        .collect()
}

/// A fieldset form's values: each field with a value in order (a missing one with its
/// type's empty value), then the content's other keys.
pub fn form_content(
    v: &V<'_>,
    fields: &[Field],
    content: &Map<String, Value>,
    owner: FileParent,
) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields.iter().filter(|f| f.stores_value()) {
        let value = match content.get(&f.name) {
            Some(cell) => typed(v, f, &cell_text(f, cell), owner),
            None => empty_value(f),
        };
        out.insert(f.name.clone(), value);
    }
    for (k, val) in content {
        if !fields.iter().any(|f| &f.name == k) {
            out.insert(k.clone(), val.clone());
        }
    }
    out
}

/// The value a form field has before it is filled (Kirby's `emptyValue`).
pub fn empty_value(f: &Field) -> Value {
    match f.kind.as_str() {
        "files" | "pages" | "users" | "structure" | "tags" | "checkboxes" | "multiselect"
        | "blocks" | "layout" | "entries" => json!([]),
        "toggle" | "list" | "hidden" | "object" | "link" => Value::Null,
        _ => json!(""),
    }
}

/// A block content value as the text a content file would hold.
fn cell_text(f: &Field, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other if matches!(f.kind.as_str(), "blocks" | "layout") => other.to_string(),
        other => yaml::dump(other),
    }
}

/// A layout field's rows as the form shows them: settings through the `settings` form,
/// every block through its fieldset's form. Only JSON is read (anything else is no rows).
fn layouts(v: &V<'_>, f: &Field, raw: &str, owner: FileParent) -> Value {
    let sets = Fieldsets::of(&v.snap.blueprints, f);
    let settings = blocks::settings_fields(v.snap, f);
    Value::Array(
        blocks::parse_layouts(&json!(raw))
            .into_iter()
            .map(|mut row| {
                if let Some(fields) = &settings {
                    row.attrs = form_content(v, fields, &row.attrs, owner);
                }
                row.to_json(|list| form_blocks(v, &sets, list, owner))
            })
            .collect(),
    )
}

fn number(raw: &str) -> Value {
    let t = raw.trim();
    if t.is_empty() {
        return json!("");
    }
    if let Ok(i) = t.parse::<i64>() {
        return json!(i);
    }
    match t.parse::<f64>() {
        // PHP's json_encode writes a whole float without its fraction (`3.0` → `3`).
        #[allow(clippy::cast_possible_truncation)]
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => json!(f as i64),
        Ok(f) if f.is_finite() => json!(f),
        _ => json!(""),
    }
}

/// `YYYY-MM-DD HH:MM:SS`, or `""` for empty / unparsable values.
fn date(raw: &str) -> Value {
    let t = raw.trim();
    if t.is_empty() {
        return json!("");
    }
    let (d, time) = match t.split_once([' ', 'T']) {
        Some((d, rest)) => (d, rest.trim()),
        None => (t, ""),
    };
    let parts: Vec<&str> = d.split('-').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return json!("");
    }
    let tparts: Vec<u32> = time
        .split(':')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0)
        })
        .collect();
    let hh = tparts.first().copied().unwrap_or(0);
    let mm = tparts.get(1).copied().unwrap_or(0);
    let ss = tparts.get(2).copied().unwrap_or(0);
    json!(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        parts[0].parse::<u32>().unwrap_or(0),
        parts[1].parse::<u32>().unwrap_or(0),
        parts[2].parse::<u32>().unwrap_or(0),
        hh,
        mm,
        ss
    ))
}

fn structure(v: &V<'_>, f: &Field, raw: &str, owner: FileParent) -> Value {
    if raw.trim().is_empty() {
        return Value::Array(Vec::new());
    }
    let rows = match v.snap.options.yaml.parse(raw) {
        Ok(Value::Array(rows)) => rows,
        _ => return Value::Array(Vec::new()),
    };
    Value::Array(
        rows.into_iter()
            .filter_map(|row| {
                let Value::Object(obj) = row else { return None };
                Some(Value::Object(sub_form(v, &f.fields, obj, owner)))
            })
            .collect(),
    )
}

/// A structure row or an object value through its fields' form: every field typed, in
/// blueprint order; keys that are not fields follow them, as in Kirby's form.
fn sub_form(
    v: &V<'_>,
    fields: &[Field],
    obj: Map<String, Value>,
    owner: FileParent,
) -> Map<String, Value> {
    let mut m = Map::new();
    for sf in fields {
        let raw = obj.get(&sf.name).map(scalar_text).unwrap_or_default();
        m.insert(sf.name.clone(), typed(v, sf, &raw, owner));
    }
    for (k, val) in obj {
        if !fields.iter().any(|sf| sf.name == k) {
            m.insert(k, val);
        }
    }
    m
}

/// An entries field: its YAML list, every entry through the entry field (`field:`, a type
/// name or a field definition; `text` when missing).
fn entries(v: &V<'_>, f: &Field, raw: &str, owner: FileParent) -> Value {
    let Ok(Value::Array(items)) = v.snap.options.yaml.parse(raw) else {
        return Value::Array(Vec::new());
    };
    let def = match f.props.get("field") {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        Some(Value::String(kind)) => json!({ "type": kind }),
        _ => json!({ "type": "text" }),
    };
    let Some(entry) = folio_core::blueprint::parse_fields(&json!({ "entry": def })).pop() else {
        return Value::Array(Vec::new());
    };
    Value::Array(
        items
            .iter()
            .map(|item| typed(v, &entry, &scalar_text(item), owner))
            .collect(),
    )
}

/// A YAML scalar (or nested value) as the string Kirby would have stored.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => yaml::dump(other),
    }
}

/// The references stored in a pages/files/users field: a YAML list, or a comma list.
fn refs(raw: &str) -> Vec<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Vec::new();
    }
    match yaml::parse(t) {
        Ok(Value::Array(a)) => a
            .iter()
            .map(scalar_text)
            .filter(|s| !s.is_empty())
            .collect(),
        _ => t
            .split(',')
            .map(|s| s.trim().trim_start_matches("- ").to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

fn resolve_page(v: &V<'_>, r: &str) -> Option<PageIdx> {
    if r.starts_with("page://") {
        match v.snap.by_uuid(r)? {
            UuidTarget::Page(p) => Some(*p),
            UuidTarget::File(..) => None,
        }
    } else {
        v.snap.page_by_id(r)
    }
}

fn resolve_file<'a>(v: &'a V<'_>, r: &str, owner: FileParent) -> Option<&'a File> {
    if r.starts_with("file://") {
        match v.snap.by_uuid(r)? {
            UuidTarget::File(parent, name) => v.snap.file(*parent, name),
            UuidTarget::Page(_) => None,
        }
    } else if let Some(f) = v.snap.file(owner, r) {
        Some(f)
    } else {
        let (pid, name) = r.rsplit_once('/')?;
        let p = v.snap.page_by_id(pid)?;
        v.snap.file(FileParent::Page(p), name)
    }
}
