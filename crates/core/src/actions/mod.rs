//! Actions: every change to the site goes through here. Each action checks the actor's
//! permission with [`crate::permissions::can`] (so the CLI and the API enforce the same
//! rules), validates its input, and writes atomically. The caller then publishes a new
//! snapshot. This module holds what all actions share: converting API values to stored
//! text, merging and validating content, and writing content files.

pub mod blocks;
pub mod changes;
pub mod file;
pub mod language;
pub mod page;
pub mod user;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::path::Path;

use crate::blueprint::Field;
use crate::format::{txt, yaml};
use crate::model::{Content, FileParent};
use crate::permissions::Actor;
use crate::snapshot::{Snapshot, UuidTarget};
use crate::store::write_atomic;
use crate::{Error, Result};

/// Who acts on which snapshot.
pub struct Ctx<'a> {
    /// The snapshot the action starts from (published, unchanged by the action).
    pub snap: &'a Snapshot,
    /// The acting user (`Actor::Kirby` for trusted local tools).
    pub actor: &'a Actor,
}

/// What a write changed on disk, so the next snapshot can be built with as little work as
/// possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing (a no-op, or an answer computed without writing).
    Nothing,
    /// Only the content file of this page (by id).
    PageContent(String),
    /// Only `site.txt`.
    SiteContent,
    /// Anything else (files, folders, accounts): re-read the site.
    Structure,
}

/// A model named independently of any snapshot (by id), so a write can find it again in the
/// latest snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// The site.
    Site,
    /// A page, by id.
    Page(String),
    /// A file, by its parent and filename.
    File(Box<ModelRef>, String),
    /// A user, by id.
    User(String),
}

impl ModelRef {
    /// The reference of a file parent in `snap`.
    pub fn of_parent(snap: &Snapshot, parent: crate::model::FileParent) -> ModelRef {
        use crate::model::FileParent;
        match parent {
            FileParent::Site => ModelRef::Site,
            FileParent::Page(p) => ModelRef::Page(snap.pages[p].id.clone()),
            FileParent::User(u) => ModelRef::User(snap.users[u].id.clone()),
        }
    }

    /// The file parent this names in `snap` (404 when it is gone).
    pub fn parent(&self, snap: &Snapshot) -> Result<crate::model::FileParent> {
        use crate::model::FileParent;
        match self {
            ModelRef::Site => Ok(FileParent::Site),
            ModelRef::Page(id) => snap
                .page_by_id(id)
                .map(FileParent::Page)
                .ok_or_else(|| Error::page_not_found(id)),
            ModelRef::User(id) => snap
                .user_by_id(id)
                .map(FileParent::User)
                .ok_or_else(|| Error::user_not_found(id)),
            ModelRef::File(_, name) => Err(Error::file_not_found(name)),
        }
    }

    /// The stored content of the model in `snap` (for `If-Match`); `None` when it is gone.
    pub fn content<'s>(&self, snap: &'s Snapshot) -> Option<&'s Content> {
        match self {
            ModelRef::Site => Some(&snap.site.content),
            ModelRef::Page(id) => snap.page_by_id(id).map(|p| &snap.pages[p].content),
            ModelRef::User(id) => snap.user_by_id(id).map(|u| &snap.users[u].content),
            ModelRef::File(parent, name) => {
                let parent = parent.parent(snap).ok()?;
                snap.file(parent, name).map(|f| &f.content)
            }
        }
    }
}

/// A condition a write needs to hold in the latest snapshot before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// None.
    None,
    /// `If-Match`: the model's content still has this ETag (`*` matches any existing model).
    IfMatch(ModelRef, String),
}

impl Precondition {
    /// Checks the precondition (412 `error.precondition` when it fails, nothing written).
    pub fn check(&self, snap: &Snapshot) -> Result<()> {
        let Precondition::IfMatch(model, wanted) = self else {
            return Ok(());
        };
        let Some(content) = model.content(snap) else {
            return Ok(()); // the action answers 404 itself
        };
        let current = crate::model::content_etag(content);
        let matches = wanted
            .split(',')
            .map(str::trim)
            .any(|w| w == "*" || w == current || w.trim_start_matches("W/") == current);
        if matches {
            Ok(())
        } else {
            Err(Error::Precondition {
                key: "error.precondition",
                message: "The content was changed since you loaded it (If-Match does not match)"
                    .into(),
            })
        }
    }
}

/// Writes a content file from fields (Kirby's writer; atomic).
pub fn write_content(path: &Path, fields: &Content) -> Result<()> {
    let text = txt::encode(fields.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    write_atomic(path, text.as_bytes()).map_err(io_error)
}

/// Writes a content file that the snapshot read as `base`, refusing (409, nothing written)
/// when the file on disk is no longer what the snapshot was built from: an edit made outside
/// Folio that the watcher has not picked up yet is never overwritten blind. The write
/// pipeline then re-reads the site and runs the action again on the fresh content.
pub fn write_content_over(path: &Path, base: &Content, fields: &Content) -> Result<()> {
    ensure_unchanged(path, base)?;
    write_content(path, fields)
}

/// Fails with [`Error::Conflict`] when the content file at `path` (missing = empty) no
/// longer decodes to `base`.
pub fn ensure_unchanged(path: &Path, base: &Content) -> Result<()> {
    let current = match std::fs::read(path) {
        Ok(bytes) => txt::decode(&String::from_utf8_lossy(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Content::default(),
        Err(e) => return Err(io_error(e)),
    };
    if current == *base {
        Ok(())
    } else {
        Err(Error::Conflict {
            key: "error.content.conflict",
            message: "The content was changed on disk by someone else; reload and try again".into(),
        })
    }
}

/// An I/O failure as an internal error (never shown to clients outside debug).
pub fn io_error(e: std::io::Error) -> Error {
    Error::internal(format!("writing the site failed: {e}"))
}

/// A fresh 16-character UUID (`[a-z0-9]`, CSPRNG).
pub fn new_uuid() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// A UUID v4 string for new blocks.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A value stored *raw*, as Kirby stores the content of a page create: booleans as `1`/`0`,
/// numbers as decimals, arrays and objects as YAML. `None` for `null` (field skipped).
pub fn raw_stored(v: &Value) -> Option<String> {
    raw_stored_as(yaml::Handler::Spyc, v)
}

/// [`raw_stored`] with the site's YAML writer (`yaml.handler`).
pub fn raw_stored_as(handler: yaml::Handler, v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => handler.dump(other),
    })
}

/// A form value converted to its stored text per field type (PATCH semantics):
/// toggles `true`/`false`, tags `a, b`, structures as Spyc YAML, blocks as compact JSON with
/// new ids, pages/users/files as UUID lists. `None` for `null` (the field is deleted).
pub fn to_stored(snap: &Snapshot, field: Option<&Field>, v: &Value) -> Option<String> {
    to_stored_for(snap, None, field, v)
}

/// [`to_stored`] for a model that owns files (`owner`): a bare file name in a files field
/// names one of its files.
pub fn to_stored_for(
    snap: &Snapshot,
    owner: Option<FileParent>,
    field: Option<&Field>,
    v: &Value,
) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let yaml = snap.options.yaml;
    let Some(f) = field else {
        return raw_stored_as(yaml, v);
    };
    Some(match f.kind.as_str() {
        "toggle" => match v {
            Value::Bool(b) => b.to_string(),
            Value::String(s) => matches!(s.as_str(), "true" | "1" | "on" | "yes").to_string(),
            Value::Number(n) => (n.as_f64() != Some(0.0)).to_string(),
            _ => "false".into(),
        },
        "checkboxes" | "multiselect" => {
            let items: Vec<String> = match v {
                Value::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).map(|s| split_list(&s)).unwrap_or_default(),
            };
            only_options(f, items).join(", ")
        }
        "tags" => {
            let sep = f
                .props
                .get("separator")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(",");
            // A string is split at the separator first, as the tags field does.
            let items: Vec<String> = match v {
                Value::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other)
                    .unwrap_or_default()
                    .split(sep)
                    .map(str::to_string)
                    .collect(),
            };
            items
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(&format!("{sep} "))
        }
        "select" | "radio" | "toggles" => match v {
            // PHP's strval(true): `1` (not checked against the options until read again).
            Value::Bool(b) => if *b { "1" } else { "" }.to_string(),
            other => {
                let value = scalar(other).unwrap_or_default();
                only_options(f, vec![value]).pop().unwrap_or_default()
            }
        },
        // An empty list is written by the YAML writer too (Spyc: nothing, Symfony: `[]`).
        "structure" => match v {
            Value::Array(rows) => {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|r| match r {
                        Value::Object(o) => Value::Object(structure_row(snap, owner, f, o)),
                        other => other.clone(),
                    })
                    .collect();
                yaml.dump(&Value::Array(rows))
            }
            Value::String(s) => s.clone(),
            other => yaml.dump(other),
        },
        "object" => match v {
            Value::Object(o) if o.is_empty() => String::new(),
            Value::Object(o) => yaml.dump(&Value::Object(structure_row(snap, owner, f, o))),
            Value::String(s) => s.clone(),
            other => yaml.dump(other),
        },
        "blocks" => blocks::store_blocks(snap, owner, f, v),
        "layout" => blocks::store_layouts(snap, owner, f, v),
        "pages" | "files" | "users" => {
            let items: Vec<String> = match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| reference(snap, owner, &f.kind, x))
                    .collect(),
                Value::String(s) if s.trim().is_empty() => Vec::new(),
                other => reference(snap, owner, &f.kind, other).into_iter().collect(),
            };
            yaml.dump(&Value::Array(
                items.into_iter().map(Value::String).collect(),
            ))
        }
        "date" => store_date_in(&scalar(v).unwrap_or_default(), f.has_time(), step(f)),
        "time" => store_time_in(&scalar(v).unwrap_or_default(), step(f)),
        "writer" => strip_unsafe_html(&scalar(v).unwrap_or_default()),
        // The textarea field trims its value (PHP's `trim`), also inside structures.
        "textarea" if v.is_string() => v
            .as_str()
            .unwrap_or_default()
            .trim_matches([' ', '\t', '\n', '\r', '\0', '\x0B'])
            .to_owned(),
        _ => match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => yaml.dump(other),
        },
    })
}

/// The values that are among the field's static options (all of them without options);
/// empty values go.
fn only_options(f: &Field, values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .filter(|v| !v.is_empty() && f.allows(v))
        .collect()
}

/// Writer HTML without the elements Kirby's sanitizer removes with their content
/// (`script`, `style`, `iframe`, `object`, `embed`), matched case-insensitively.
pub fn strip_unsafe_html(html: &str) -> String {
    let mut out = html.to_string();
    for tag in ["script", "style", "iframe", "object", "embed"] {
        loop {
            let lower = out.to_ascii_lowercase();
            let Some(start) = lower.find(&format!("<{tag}")) else {
                break;
            };
            let close = format!("</{tag}>");
            let end = match lower[start..].find(&close) {
                Some(e) => start + e + close.len(),
                None => lower[start..]
                    .find('>')
                    .map_or(out.len(), |e| start + e + 1),
            };
            out.replace_range(start..end, "");
        }
    }
    out
}

/// `a, b` → `["a", "b"]` (trimmed, empty parts dropped).
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A structure row (or object) in field order, each value converted like a form value,
/// then the keys that are not fields (no `_id`).
fn structure_row(
    snap: &Snapshot,
    owner: Option<FileParent>,
    f: &Field,
    row: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for sf in &f.fields {
        let v = row
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&sf.name))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null);
        let stored = to_stored_for(snap, owner, Some(sf), &v).unwrap_or_default();
        // Number cells stay numbers in the YAML, as Kirby's number field stores them: PHP
        // floats, which Spyc writes like integers when whole and symfony/yaml as `3.0`.
        let float = |s: &str| s.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
        let cell = match sf.kind.as_str() {
            // Fields that store lists or maps nest them in the row.
            "structure" | "pages" | "files" | "users" | "entries" => snap
                .options
                .yaml
                .parse(&stored)
                .ok()
                .filter(Value::is_array)
                .unwrap_or(Value::Array(Vec::new())),
            "object" => snap
                .options
                .yaml
                .parse(&stored)
                .ok()
                .filter(Value::is_object)
                .unwrap_or(Value::String(String::new())),
            "number" | "range" if snap.options.yaml != yaml::Handler::Spyc => float(&stored)
                .map(Value::Number)
                .unwrap_or(Value::String(stored)),
            "number" | "range" => stored
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    stored
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or(Value::String(stored)),
            _ => Value::String(stored),
        };
        out.insert(sf.name.clone(), cell);
    }
    // Keys that are not fields stay, after the fields (Kirby keeps them too).
    for (k, v) in row {
        if k != "_id" && !f.fields.iter().any(|sf| sf.name.eq_ignore_ascii_case(k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// A page/file/user reference (id, UUID or picker object) as a stored UUID.
fn reference(snap: &Snapshot, owner: Option<FileParent>, kind: &str, v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("uuid")
            .or_else(|| o.get("id"))
            .and_then(Value::as_str)?
            .to_string(),
        _ => return None,
    };
    match kind {
        "pages" => {
            if s.starts_with("page://") {
                return Some(s);
            }
            let p = snap.page_by_id(&s)?;
            snap.pages[p]
                .uuid()
                .map(|u| format!("page://{u}"))
                .or(Some(s))
        }
        "users" => {
            if s.starts_with("user://") {
                return Some(s);
            }
            let u = snap.user_by_key(&s)?;
            Some(format!("user://{}", snap.users[u].id))
        }
        _ => {
            if s.starts_with("file://") {
                return Some(s);
            }
            // A file id like `blog/post/a.jpg`, or a bare name of one of the model's own
            // files; kept as it is when it cannot be resolved.
            let uuid = match s.rsplit_once('/') {
                Some((pid, name)) => snap
                    .page_by_id(pid)
                    .and_then(|p| snap.file(FileParent::Page(p), name)),
                None => owner.and_then(|o| snap.file(o, &s)),
            }
            .and_then(|f| f.uuid().map(|u| format!("file://{u}")));
            Some(uuid.unwrap_or(s))
        }
    }
}

/// Whether a `page://` reference resolves (used by validation).
pub fn resolves(snap: &Snapshot, uri: &str) -> bool {
    matches!(
        snap.by_uuid(uri),
        Some(UuidTarget::Page(_) | UuidTarget::File(..))
    )
}

/// Merges submitted values into content (PATCH): keys take the form the writer stores them
/// in ([`txt::canonical_key`]); existing fields keep
/// their position, new ones are appended; blueprint fields are converted per type;
/// `null` deletes a field.
pub fn merge(
    snap: &Snapshot,
    fields: &[Field],
    content: &Content,
    input: &Map<String, Value>,
) -> Content {
    let mut out = content.clone();
    for (k, v) in input {
        let key = txt::canonical_key(k);
        if key.is_empty() || key == "0" {
            continue;
        }
        let field = fields.iter().find(|f| f.name == key);
        match to_stored(snap, field, v) {
            Some(s) => {
                out.insert(key, s);
            }
            None => {
                out.shift_remove(&key);
            }
        }
    }
    out
}

/// Kirby's form for a content update in the snapshot's language: every stored blueprint
/// field in blueprint order (the submitted value converted per type, else the current one,
/// else empty), then the other keys of the current content in their order, then new keys.
/// Keys match case-insensitively; `null` empties a blueprint field and removes any other
/// key. In a language other than the default, `translate: false` fields cannot be
/// submitted and are not stored, and neither is `uuid`: they fall back to the default
/// language. `lock` is never stored here.
pub fn submit(
    snap: &Snapshot,
    owner: Option<FileParent>,
    fields: &[Field],
    content: &Content,
    input: &Map<String, Value>,
) -> Content {
    let translation = snap.is_translation();
    let submitted: Vec<(String, &Value)> = input
        .iter()
        .map(|(k, v)| (txt::canonical_key(k), v))
        .filter(|(k, _)| !k.is_empty() && k != "0")
        .collect();
    let given = |name: &str| {
        submitted
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    };
    let is_field = |k: &str| fields.iter().any(|f| f.name == k);
    let mut out = Content::default();
    for f in fields.iter().filter(|f| f.stores_value()) {
        if translation && !f.translatable() {
            continue;
        }
        let value = match given(&f.name) {
            Some(v) => to_stored_for(snap, owner, Some(f), v).unwrap_or_default(),
            None => restore(
                snap,
                owner,
                f,
                content.get(&f.name).map(String::as_str).unwrap_or(""),
            ),
        };
        out.insert(f.name.clone(), value);
    }
    for (k, v) in content {
        if !is_field(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in &submitted {
        if is_field(k) {
            continue;
        }
        match to_stored(snap, None, v) {
            Some(s) => {
                out.insert(k.clone(), s);
            }
            None => {
                out.shift_remove(k);
            }
        }
    }
    if translation {
        for f in fields.iter().filter(|f| !f.translatable()) {
            out.shift_remove(&f.name);
        }
        out.shift_remove("uuid");
    }
    out.shift_remove("lock");
    out
}

/// A stored value as Kirby's form stores it again on a write that did not submit it:
/// structures are re-encoded row by row, dates and times normalised (an unreadable one
/// becomes empty), options fields keep only their options; other types keep their text.
fn restore(snap: &Snapshot, owner: Option<FileParent>, f: &Field, raw: &str) -> String {
    if raw.trim().is_empty() {
        return empty_stored(snap, f);
    }
    match f.kind.as_str() {
        "structure" => match snap.options.yaml.parse(raw) {
            Ok(rows @ Value::Array(_)) => {
                to_stored_for(snap, owner, Some(f), &rows).unwrap_or_else(|| raw.to_string())
            }
            _ => raw.to_string(),
        },
        "date" => store_date_in(raw, f.has_time(), step(f)),
        "time" => store_time_in(raw, step(f)),
        "blocks" => blocks::store_blocks(snap, owner, f, &Value::String(raw.to_string())),
        "layout" => blocks::store_layouts(snap, owner, f, &Value::String(raw.to_string())),
        "select" | "radio" | "toggles" => only_options(f, vec![raw.trim().to_string()])
            .pop()
            .unwrap_or_default(),
        "checkboxes" | "multiselect" => only_options(f, split_list(raw)).join(", "),
        _ => raw.to_string(),
    }
}

/// What the form stores for an empty field: an empty list for the fields that store one
/// (written as nothing by Spyc, as `[]` by symfony/yaml), else nothing.
pub fn empty_stored(snap: &Snapshot, f: &Field) -> String {
    match f.kind.as_str() {
        "structure" | "pages" | "files" | "users" | "entries" => {
            snap.options.yaml.dump(&Value::Array(Vec::new()))
        }
        _ => String::new(),
    }
}

/// What `default: now` fills a date or time field with: the current time (UTC) as the
/// field stores it, rounded to its step.
pub fn now_for(f: &Field) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, clock) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let text = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        clock / 3600,
        clock / 60 % 60,
        clock % 60
    );
    match f.kind.as_str() {
        "time" => store_time_in(&text[11..], step(f)),
        _ => store_date_in(&text, f.has_time(), step(f)),
    }
}

/// Kirby's `Date::stepConfig` of a date or time field in seconds: a number is a size in the
/// default unit, a string a unit, an object `{size, unit}`. Times (and dates with `time`,
/// from `time.step`) default to five minutes, plain dates to one day.
pub fn step(f: &Field) -> i64 {
    let (raw, default) = match f.kind.as_str() {
        "time" => (f.props.get("step"), (5, "minute")),
        _ if f.has_time() || f.props.get("time").is_some_and(Value::is_object) => (
            f.props.get("time").and_then(|t| t.get("step")),
            (5, "minute"),
        ),
        _ => (f.props.get("step"), (1, "day")),
    };
    let (mut size, mut unit) = (default.0, default.1.to_string());
    match raw {
        Some(Value::Number(n)) => size = n.as_i64().unwrap_or(size),
        Some(Value::String(s)) => unit = s.to_lowercase(),
        Some(Value::Object(o)) => {
            if let Some(n) = o.get("size").and_then(Value::as_i64) {
                size = n;
            }
            if let Some(u) = o.get("unit").and_then(Value::as_str) {
                unit = u.to_lowercase();
            }
        }
        _ => {}
    }
    let unit_secs = match unit.as_str() {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        _ => 86_400,
    };
    (size.max(1) * unit_secs).max(1)
}

/// A date as Kirby's date field stores it: `YYYY-MM-DD`, or `YYYY-MM-DD HH:MM:SS` with
/// `time: true`, rounded to the field's step (a day without time, five minutes with);
/// ISO (`2024-01-05[ T]09:30[:00]`) and `DD.MM.YYYY` are read; anything else is `''`.
pub fn store_date(raw: &str, time: bool) -> String {
    store_date_in(raw, time, if time { 300 } else { 86_400 })
}

/// [`store_date`] rounded to `step` seconds (see [`step`]).
pub fn store_date_in(raw: &str, time: bool, step: i64) -> String {
    let Some((days, secs)) = parse_datetime(raw.trim()) else {
        return String::new();
    };
    let step = step.max(1);
    let total = days * 86_400 + ((secs + step / 2) / step) * step;
    let (day, rest) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(day);
    if time {
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        )
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// A time as Kirby's time field stores it: `HH:MM:SS` rounded to five minutes; `''` when
/// it is not a time of day.
pub fn store_time(raw: &str) -> String {
    store_time_in(raw, 300)
}

/// [`store_time`] rounded to `step` seconds (see [`step`]).
pub fn store_time_in(raw: &str, step: i64) -> String {
    let Some(secs) = parse_clock(raw.trim()) else {
        return String::new();
    };
    let step = step.clamp(1, 86_400);
    let rounded = ((secs + step / 2) / step * step).min(86_399 / step * step);
    format!(
        "{:02}:{:02}:{:02}",
        rounded / 3600,
        rounded / 60 % 60,
        rounded % 60
    )
}

/// Seconds into the day of `HH:MM[:SS]`.
fn parse_clock(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str| -> Option<i64> {
        (!p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (h, m) = (num(parts[0])?, num(parts[1])?);
    let sec = match parts.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    (h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// Days since the epoch and seconds into the day of a date (and optional time).
fn parse_datetime(s: &str) -> Option<(i64, i64)> {
    let (day, clock) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    let (y, m, d) = if let [y, m, d] = day.split('-').collect::<Vec<_>>()[..] {
        (y, m, d)
    } else if let [d, m, y] = day.split('.').collect::<Vec<_>>()[..] {
        (y, m, d)
    } else {
        return None;
    };
    if !(digits(y) && digits(m) && digits(d)) || y.len() != 4 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let secs = match clock {
        Some(c) if !c.is_empty() => parse_clock(c)?,
        _ => 0,
    };
    Some((days_from_civil(y, m, d), secs))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `content` with every field of `fallback` it lacks: what a form in a translation shows
/// (and validates), since untranslatable fields come from the default language.
pub(crate) fn with_fallback(content: &Content, fallback: &Content) -> Content {
    let mut out = fallback.clone();
    for (k, v) in content {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Moves `keys` (those present) to the front, in this order.
pub fn to_front(content: Content, keys: &[&str]) -> Content {
    let mut out = Content::default();
    for k in keys {
        if let Some(v) = content.get(*k) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    for (k, v) in content {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    out
}

/// The content a write in the snapshot's language replaces on disk, for the conflict
/// check: the language's own file in a translation (empty when missing), else `content`.
pub fn on_disk<'c>(
    snap: &Snapshot,
    content: &'c Content,
    translation: &'c Option<Content>,
) -> std::borrow::Cow<'c, Content> {
    if snap.is_translation() {
        match translation {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(Content::default()),
        }
    } else {
        std::borrow::Cow::Borrowed(content)
    }
}

/// Validates content against blueprint fields (required, min, max, minlength, maxlength,
/// pattern, and the type rules of email, url, color, date and structure rows).
/// Errors are Kirby's `error.form.incomplete` with per-field details.
pub fn validate(fields: &[Field], content: &Content) -> Result<()> {
    let mut details = Map::new();
    for f in fields {
        let raw = content
            .get(&f.name)
            .map(String::as_str)
            .unwrap_or("")
            .trim();
        let msgs = field_errors(f, raw);
        if !msgs.is_empty() {
            let label = field_label(f);
            let message: Map<String, Value> = msgs
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
            details.insert(f.name.clone(), json!({"label": label, "message": message}));
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            key: "error.form.incomplete",
            message: "Please fix all form errors…".into(),
            details: Value::Object(details),
        })
    }
}

fn field_label(f: &Field) -> String {
    f.props
        .get("label")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::blueprint::label_from_name(&f.name))
}

/// Kirby's `V::email`, close enough: one `@`, a local part, a dotted domain, no spaces.
fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Kirby's `V::url`, close enough: `scheme://host…` without spaces.
fn valid_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !s.chars().any(char::is_whitespace)
}

/// `01.01.1900` for `1900-01-01`.
fn german_date(ymd: &str) -> String {
    let d: Vec<&str> = ymd.get(..10).unwrap_or(ymd).split('-').collect();
    match d.as_slice() {
        [y, m, d] => format!("{d}.{m}.{y}"),
        _ => ymd.to_string(),
    }
}

fn field_errors(f: &Field, raw: &str) -> IndexMap<&'static str, String> {
    let mut msgs: IndexMap<&'static str, String> = IndexMap::new();
    let required = f
        .props
        .get("required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if required && raw.is_empty() {
        msgs.insert("required", "Please enter something".into());
    }
    if !raw.is_empty() {
        let num = |k: &str| f.props.get(k).and_then(Value::as_f64);
        if matches!(f.kind.as_str(), "number" | "range") {
            // PHP's float cast: the leading number, else 0 (Kirby has no "number" rule).
            let n = php_float(raw);
            if let Some(min) = num("min")
                && n < min
            {
                msgs.insert(
                    "min",
                    format!(
                        "Please enter a value equal to or greater than {}",
                        fmt_num(min)
                    ),
                );
            }
            if let Some(max) = num("max")
                && n > max
            {
                msgs.insert(
                    "max",
                    format!(
                        "Please enter a value equal to or lower than {}",
                        fmt_num(max)
                    ),
                );
            }
        }
        let len = raw.chars().count() as f64;
        if let Some(max) = num("maxlength")
            && len > max
        {
            msgs.insert(
                "maxlength",
                format!(
                    "Please enter a shorter value. (max. {} characters)",
                    fmt_num(max)
                ),
            );
        }
        if let Some(min) = num("minlength")
            && len < min
        {
            msgs.insert(
                "minlength",
                format!(
                    "Please enter a longer value. (min. {} characters)",
                    fmt_num(min)
                ),
            );
        }
    }
    if !raw.is_empty() {
        type_errors(f, raw, &mut msgs);
    }
    msgs
}

/// The rules a field's type adds: formats, date ranges, patterns and structure rows.
fn type_errors(f: &Field, raw: &str, msgs: &mut IndexMap<&'static str, String>) {
    let text = |k: &str| f.props.get(k).and_then(crate::blueprint::scalar_string);
    match f.kind.as_str() {
        "email" if !valid_email(raw) => {
            msgs.insert("email", "Please enter a valid email address".into());
        }
        "url" if !valid_url(raw) => {
            msgs.insert("url", "Please enter a valid URL".into());
        }
        "link" => {
            let known = [
                "http://", "https://", "page://", "file://", "mailto:", "tel:", "#",
            ];
            if !known.iter().any(|p| raw.starts_with(p)) || raw.chars().any(char::is_whitespace) {
                msgs.insert("value", "The link type is not allowed".into());
            }
        }
        "color" => {
            let hex = raw.strip_prefix('#').unwrap_or("");
            let ok =
                matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
            if !ok && text("format").is_none_or(|f| f == "hex") {
                msgs.insert(
                    "color",
                    "Please enter a valid color in the hex format".into(),
                );
            }
        }
        "date" => {
            let day = raw.get(..10).unwrap_or(raw);
            match (text("min"), text("max")) {
                (Some(min), Some(max)) if day < min.as_str() || day > max.as_str() => {
                    msgs.insert(
                        "minMax",
                        format!(
                            "Please enter a date between {} and {}",
                            german_date(&min),
                            german_date(&max)
                        ),
                    );
                }
                (Some(min), None) if day < min.as_str() => {
                    msgs.insert(
                        "min",
                        format!("Please enter a date after {}", german_date(&min)),
                    );
                }
                (None, Some(max)) if day > max.as_str() => {
                    msgs.insert(
                        "max",
                        format!("Please enter a date before {}", german_date(&max)),
                    );
                }
                _ => {}
            }
        }
        "structure" => {
            if let Ok(Value::Array(rows)) = yaml::parse(raw) {
                'rows: for (i, row) in rows.iter().enumerate() {
                    let Value::Object(row) = row else { continue };
                    for sf in &f.fields {
                        let v = row.get(&sf.name).map(value_text).unwrap_or_default();
                        if !field_errors(sf, v.trim()).is_empty() {
                            msgs.insert(
                                "structure",
                                format!(
                                    "There's an error on the \"{}\" field in row {}",
                                    field_label(sf),
                                    i + 1
                                ),
                            );
                            break 'rows;
                        }
                    }
                }
            }
        }
        _ => {}
    }
    if let Some(pattern) = text("pattern")
        && let Ok(re) = regex::Regex::new(&format!("^(?:{pattern})$"))
        && !re.is_match(raw)
    {
        msgs.insert(
            "pattern",
            "The value does not match the expected pattern".into(),
        );
    }
}

/// PHP's `(float)` of a string: its leading decimal number, else 0.
fn php_float(s: &str) -> f64 {
    let s = s.trim_start();
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let ok = c.is_ascii_digit()
            || (i == 0 && (c == '-' || c == '+'))
            || (c == '.' && !s[..i].contains('.'));
        if !ok {
            break;
        }
        end = i + c.len_utf8();
    }
    (1..=end)
        .rev()
        .find_map(|e| s[..e].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// A YAML scalar as text (structure cells).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Keys that can never be set through a content body: they would change the model itself
/// or grant rights (GHSA-6gqr-mx34-wh8r and friends).
pub const PRIVILEGED_KEYS: &[&str] = &[
    "blueprint",
    "options",
    "permissions",
    "role",
    "password",
    "isdraft",
    "uuid",
    "lock",
];

/// Refuses a body that tries to set a privileged key (400, nothing written). Keys are
/// compared in the form the writer would store them ([`txt::canonical_key`]), so no alias
/// of a privileged key gets through.
pub fn refuse_privileged(input: &Map<String, Value>) -> Result<()> {
    for k in input.keys() {
        let key = txt::canonical_key(k);
        if PRIVILEGED_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_argument(format!(
                "The field \"{k}\" cannot be changed here"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::parse_fields;

    #[test]
    fn raw_values_like_a_page_create() {
        assert_eq!(raw_stored(&json!(false)).as_deref(), Some("0"));
        assert_eq!(
            raw_stored(&json!(["cats", "pier"])).as_deref(),
            Some("- cats\n- pier\n")
        );
        assert_eq!(raw_stored(&Value::Null), None);
    }

    #[test]
    fn validation_messages() {
        let fields = parse_fields(
            &json!({"client": {"type": "text", "required": true}, "year": {"type": "number", "max": 2100}}),
        );
        let mut c = Content::default();
        c.insert("client".into(), "".into());
        c.insert("year".into(), "3000".into());
        let err = validate(&fields, &c).unwrap_err();
        assert_eq!(err.key(), Some("error.form.incomplete"));
        assert_eq!(
            err.details(),
            json!({"client": {"label": "Client", "message": {"required": "Please enter something"}},
                   "year": {"label": "Year", "message": {"max": "Please enter a value equal to or lower than 2100"}}})
        );
    }

    #[test]
    fn type_rules_and_patterns() {
        let fields = parse_fields(&json!({
            "mail": {"type": "email"},
            "site": {"type": "url"},
            "code": {"type": "text", "pattern": "[A-Z]{2}-[0-9]{2}"},
            "day": {"type": "date", "min": "1900-01-01", "max": "2030-12-31"},
            "tint": {"type": "color"},
            "staff": {"type": "structure", "fields": {"email": {"type": "email"}}}
        }));
        let mut c = Content::default();
        for (k, v) in [
            ("mail", "nope"),
            ("site", "not a url"),
            ("code", "ck-14"),
            ("day", "1850-01-01"),
            ("tint", "red"),
            ("staff", "-\n  email: bad\n"),
        ] {
            c.insert(k.into(), v.into());
        }
        let details = validate(&fields, &c).unwrap_err().details();
        assert_eq!(
            details["mail"]["message"]["email"],
            "Please enter a valid email address"
        );
        assert_eq!(
            details["site"]["message"]["url"],
            "Please enter a valid URL"
        );
        assert_eq!(
            details["code"]["message"]["pattern"],
            "The value does not match the expected pattern"
        );
        assert_eq!(
            details["day"]["message"]["minMax"],
            "Please enter a date between 01.01.1900 and 31.12.2030"
        );
        assert_eq!(
            details["tint"]["message"]["color"],
            "Please enter a valid color in the hex format"
        );
        assert_eq!(
            details["staff"]["message"]["structure"],
            "There's an error on the \"Email\" field in row 1"
        );
        for (k, v) in [
            ("mail", "a@b.example"),
            ("site", "https://b.example/x"),
            ("code", "CK-14"),
            ("day", "2024-05-01"),
            ("tint", "#a0b1c2"),
            ("staff", "-\n  email: a@b.example\n"),
        ] {
            c.insert(k.into(), v.into());
        }
        assert!(validate(&fields, &c).is_ok());
    }

    #[test]
    fn dates_and_times_are_stored_like_kirbys_fields() {
        assert_eq!(store_date("2024-01-05", true), "2024-01-05 00:00:00");
        assert_eq!(
            store_date("2025-07-02T08:05:09", true),
            "2025-07-02 08:05:00"
        );
        assert_eq!(store_date("2025-07-01 16:45", true), "2025-07-01 16:45:00");
        assert_eq!(store_date("2001-02-03 14:15:00", false), "2001-02-04");
        assert_eq!(store_date("03.04.2002", false), "2002-04-03");
        assert_eq!(store_date("2024-02-30", false), "");
        assert_eq!(store_date("not-a-date", false), "");
        assert_eq!(store_time("9:05"), "09:05:00");
        assert_eq!(store_time("25:61"), "");
        let field = |def: Value| {
            crate::blueprint::parse_fields(&json!({ "f": def }))
                .pop()
                .unwrap()
        };
        let quarter = field(json!({"type": "time", "step": 15}));
        assert_eq!(step(&quarter), 900);
        assert_eq!(store_time_in("18:07", step(&quarter)), "18:00:00");
        assert_eq!(store_time_in("18:08", step(&quarter)), "18:15:00");
        assert_eq!(store_time_in("23:59", step(&quarter)), "23:45:00");
        let hourly = field(json!({"type": "date", "time": {"step": {"unit": "hour"}}}));
        assert_eq!(step(&hourly), 5 * 3600);
        assert_eq!(step(&field(json!({"type": "date"}))), 86_400);
        assert_eq!(step(&field(json!({"type": "date", "time": true}))), 300);
    }

    #[test]
    fn writer_html_loses_scripts_and_options_fields_keep_their_options() {
        assert_eq!(
            strip_unsafe_html("<p>a <SCRIPT>x()</script>b<iframe src=x></iframe></p>"),
            "<p>a b</p>"
        );
        let fields =
            parse_fields(&json!({"size": {"type": "select", "options": {"s": "S", "m": "M"}}}));
        let snap_free = |v: &Value| only_options(&fields[0], vec![scalar(v).unwrap_or_default()]);
        assert_eq!(snap_free(&json!("m")), ["m"]);
        assert!(snap_free(&json!("xl")).is_empty());
    }

    #[test]
    fn uuids() {
        assert_eq!(new_uuid().len(), 16);
        let v4 = uuid_v4();
        assert_eq!(v4.len(), 36);
        assert_eq!(&v4[14..15], "4");
    }
}
