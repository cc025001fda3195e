//! Language actions (the languages API): create, update and delete `site/languages/*.php`
//! the way Kirby writes them, and move the content files along: the first language gives
//! every content file its code, deleting a language removes its files (and page folders
//! left empty), deleting the last one takes the codes off again. Validation runs before
//! the `languages.*` permission, as in Kirby.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

use super::{Ctx, io_error};
use crate::format::php_array::{self, Key, Value as Php};
use crate::format::txt;
use crate::language::{Language, locale_category, locale_category_name};
use crate::permissions::{Target, can};
use crate::snapshot::Snapshot;
use crate::store::write_atomic;
use crate::{Error, Result};

fn languages_dir(snap: &Snapshot) -> PathBuf {
    snap.root.join("site").join("languages")
}

fn invalid(key: &'static str, message: &str) -> Error {
    Error::InvalidArgument {
        key,
        message: message.into(),
        details: Value::Array(Vec::new()),
    }
}

fn forbidden(action: &str) -> Error {
    let (key, message) = match action {
        "create" => (
            "error.language.create.permission",
            "You are not allowed to create a language",
        ),
        "update" => (
            "error.language.update.permission",
            "You are not allowed to update the language",
        ),
        _ => (
            "error.language.delete.permission",
            "You are not allowed to delete the language",
        ),
    };
    Error::Permission {
        key,
        message: message.into(),
    }
}

fn allowed(ctx: &Ctx<'_>, action: &str) -> Result<()> {
    if can(ctx.snap, ctx.actor, Target::Area("languages"), action) {
        Ok(())
    } else {
        Err(forbidden(action))
    }
}

fn get<'a>(input: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    input.get(key)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(invalid(
            "error.language.name",
            "Please enter a valid name for the language",
        ));
    }
    Ok(())
}

/// A request's `locale` as file entries: a string is `LC_ALL`; an object's keys may be
/// constant names or numbers.
fn locale_entries(v: &Value) -> Option<Vec<(String, String)>> {
    match v {
        Value::String(s) => Some(vec![("LC_ALL".into(), s.clone())]),
        Value::Object(o) => Some(
            o.iter()
                .filter_map(|(k, v)| {
                    let name = match k.parse::<i64>() {
                        Ok(n) => locale_category_name(n)?.to_string(),
                        Err(_) => locale_category(k).map(|_| k.clone())?,
                    };
                    Some((name, text(v)?))
                })
                .collect(),
        ),
        _ => None,
    }
}

/// The file entries of a language's locale.
fn locale_of(l: &Language) -> Vec<(String, String)> {
    l.locale
        .iter()
        .filter_map(|(n, v)| Some((locale_category_name(*n)?.to_string(), v.clone())))
        .collect()
}

fn php_map(entries: &[(String, String)]) -> Php {
    Php::Array(
        entries
            .iter()
            .map(|(k, v)| (Key::from_php_str(k), Php::Str(v.clone())))
            .collect(),
    )
}

fn php_from_json(v: &Value) -> Php {
    match v {
        Value::Null => Php::Null,
        Value::Bool(b) => Php::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Php::Int)
            .unwrap_or_else(|| Php::Float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => Php::Str(s.clone()),
        Value::Array(a) => Php::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| (Key::Int(i as i64), php_from_json(v)))
                .collect(),
        ),
        Value::Object(o) => Php::Array(
            o.iter()
                .map(|(k, v)| (Key::from_php_str(k), php_from_json(v)))
                .collect(),
        ),
    }
}

/// What Kirby writes for a language: the file's other keys kept as they are, the seven
/// model keys from `props`, sorted by key.
struct Props {
    code: String,
    default: bool,
    direction: &'static str,
    locale: Vec<(String, String)>,
    name: String,
    translations: Map<String, Value>,
    url: Option<String>,
}

fn write_language(path: &Path, existing: Option<&Php>, p: &Props) -> Result<()> {
    let mut items: Vec<(Key, Php)> = existing
        .and_then(Php::as_array)
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    let set = |items: &mut Vec<(Key, Php)>, k: &str, v: Php| {
        let key = Key::Str(k.into());
        match items.iter_mut().find(|(ik, _)| *ik == key) {
            Some(slot) => slot.1 = v,
            None => items.push((key, v)),
        }
    };
    set(&mut items, "code", Php::Str(p.code.clone()));
    set(&mut items, "default", Php::Bool(p.default));
    set(&mut items, "direction", Php::Str(p.direction.into()));
    set(&mut items, "locale", php_map(&p.locale));
    set(&mut items, "name", Php::Str(p.name.clone()));
    set(
        &mut items,
        "translations",
        php_from_json(&Value::Object(p.translations.clone())),
    );
    set(
        &mut items,
        "url",
        p.url.clone().map(Php::Str).unwrap_or(Php::Null),
    );
    items.sort_by_key(|a| a.0.to_string());
    let text = php_array::write_file(&Php::Array(items));
    if let Some(dir) = path.parent() {
        crate::store::create_dir_like_parent(dir).map_err(io_error)?;
    }
    write_atomic(path, text.as_bytes()).map_err(io_error)
}

/// The language as the answer shows it (`slugs` from the request count, though Kirby
/// never saves them).
fn answer(p: &Props, slugs: Option<&Value>, old_slugs: &[(String, String)]) -> Language {
    let mut value = vec![
        (Key::Str("code".into()), Php::Str(p.code.clone())),
        (Key::Str("default".into()), Php::Bool(p.default)),
        (Key::Str("direction".into()), Php::Str(p.direction.into())),
        (Key::Str("locale".into()), php_map(&p.locale)),
        (Key::Str("name".into()), Php::Str(p.name.clone())),
    ];
    if let Some(u) = &p.url {
        value.push((Key::Str("url".into()), Php::Str(u.clone())));
    }
    let mut slug_items: Vec<(String, String)> = old_slugs.to_vec();
    if let Some(Value::Object(o)) = slugs {
        for (k, v) in o {
            if let Some(v) = text(v) {
                match slug_items.iter_mut().find(|(sk, _)| sk == k) {
                    Some(slot) => slot.1 = v,
                    None => slug_items.push((k.clone(), v)),
                }
            }
        }
    }
    value.push((Key::Str("slugs".into()), php_map(&slug_items)));
    Language::from_value(&p.code, Php::Array(value)).expect("an array")
}

/// `POST languages`. Returns the new language as the answer shows it.
pub fn create(ctx: &Ctx<'_>, input: &Map<String, Value>) -> Result<Language> {
    let snap = ctx.snap;
    let code = txt::slug(&get(input, "code").and_then(text).unwrap_or_default(), 255);
    if code.chars().count() < 2 {
        return Err(invalid(
            "error.language.code",
            "Please enter a valid code for the language",
        ));
    }
    let name = match get(input, "name").and_then(text) {
        Some(n) => {
            check_name(&n)?;
            n.trim().to_string()
        }
        None => code.clone(),
    };
    let path = languages_dir(snap).join(format!("{code}.php"));
    if path.exists() {
        return Err(Error::Duplicate {
            key: "error.language.duplicate",
            message: "The language already exists".into(),
        });
    }
    allowed(ctx, "create")?;
    let first = !snap.languages.is_multilang();
    let default = first || matches!(get(input, "default"), Some(Value::Bool(true)));
    let props = Props {
        default,
        direction: if get(input, "direction").and_then(Value::as_str) == Some("rtl") {
            "rtl"
        } else {
            "ltr"
        },
        locale: get(input, "locale")
            .and_then(locale_entries)
            .unwrap_or_else(|| vec![("LC_ALL".into(), code.clone())]),
        name,
        translations: match get(input, "translations") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        },
        url: get(input, "url").and_then(text),
        code,
    };
    // One default at a time: a new default demotes the old one (Kirby would keep both
    // and fail every request after).
    if default && !first {
        demote_default(snap)?;
    }
    write_language(&path, None, &props)?;
    if first {
        convert_content(snap, None, Some(&props.code))?;
    }
    Ok(answer(&props, get(input, "slugs"), &[]))
}

fn demote_default(snap: &Snapshot) -> Result<()> {
    let Some(old) = snap.languages.default_language().filter(|l| l.default) else {
        return Ok(());
    };
    let path = languages_dir(snap).join(format!("{}.php", old.code));
    write_language(&path, Some(&old.source), &props_of(old, false))
}

fn props_of(l: &Language, default: bool) -> Props {
    Props {
        code: l.code.clone(),
        default,
        direction: l.direction,
        locale: locale_of(l),
        name: l.name.clone(),
        translations: l.translations.clone(),
        url: l.url.clone(),
    }
}

/// `PATCH languages/<code>` (404 `null` for an unknown code). The body is merged over the
/// language; `code` and `slugs` are not saved.
pub fn update(ctx: &Ctx<'_>, code: &str, input: &Map<String, Value>) -> Result<Language> {
    let snap = ctx.snap;
    let i = snap.languages.find(code).ok_or(Error::NullResult)?;
    let old = &snap.languages.list[i];
    let mut props = props_of(old, old.default);
    if let Some(n) = get(input, "name").and_then(text) {
        check_name(&n)?;
        props.name = n.trim().to_string();
    }
    if let Some(d) = get(input, "direction").and_then(Value::as_str) {
        props.direction = if d == "rtl" { "rtl" } else { "ltr" };
    }
    match get(input, "locale") {
        Some(Value::String(s)) => props.locale = vec![("LC_ALL".into(), s.clone())],
        Some(v @ Value::Object(_)) => {
            for (k, v) in locale_entries(v).unwrap_or_default() {
                match props.locale.iter_mut().find(|(pk, _)| *pk == k) {
                    Some(slot) => slot.1 = v,
                    None => props.locale.push((k, v)),
                }
            }
        }
        _ => {}
    }
    if let Some(u) = get(input, "url") {
        props.url = text(u);
    }
    if let Some(Value::Object(t)) = get(input, "translations") {
        props.translations = t.clone();
    }
    let is_default = i == snap.languages.default;
    let wants_default = match get(input, "default") {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    };
    if wants_default == Some(false) && is_default {
        return Err(Error::Logic {
            key: "error.logic",
            message: "Please select another language to be the primary language".into(),
        });
    }
    allowed(ctx, "update")?;
    if wants_default == Some(true) && !is_default {
        demote_default(snap)?;
        props.default = true;
    }
    let path = languages_dir(snap).join(format!("{}.php", old.code));
    write_language(&path, Some(&old.source), &props)?;
    Ok(answer(&props, get(input, "slugs"), &old.slugs))
}

/// `DELETE languages/<code>`: the default language cannot go while others exist.
pub fn delete(ctx: &Ctx<'_>, code: &str) -> Result<()> {
    let snap = ctx.snap;
    let i = snap.languages.find(code).ok_or(Error::NullResult)?;
    let languages = &snap.languages;
    if i == languages.default && languages.list.len() > 1 {
        return Err(forbidden("delete"));
    }
    allowed(ctx, "delete")?;
    let code = languages.code(i).to_string();
    std::fs::remove_file(languages_dir(snap).join(format!("{code}.php"))).map_err(io_error)?;
    if languages.list.len() == 1 {
        convert_content(snap, Some(&code), None)
    } else {
        remove_language_files(snap, &code)
    }
}

/// Every content file below `content/` and the accounts (with their `_changes`).
fn content_files(snap: &Snapshot) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "txt") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&snap.content_dir, &mut out);
    walk(&snap.root.join("site").join("accounts"), &mut out);
    out
}

/// Renames content files between language codes: `X.txt` → `X.<to>.txt` (the first
/// language) or `X.<from>.txt` → `X.txt` (the last one). Page folders without any content
/// file get an empty one in the new language, as Kirby does.
fn convert_content(snap: &Snapshot, from: Option<&str>, to: Option<&str>) -> Result<()> {
    for path in content_files(snap) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let stem = name.trim_end_matches(".txt");
        let base = match from {
            Some(code) => match stem.strip_suffix(&format!(".{code}")) {
                Some(b) => b,
                None => continue,
            },
            None => stem,
        };
        let new = match to {
            Some(code) => format!("{base}.{code}.txt"),
            None => format!("{base}.txt"),
        };
        std::fs::rename(&path, path.with_file_name(new)).map_err(io_error)?;
    }
    if let Some(code) = to {
        for page in &snap.pages {
            let has_content = std::fs::read_dir(&page.dir)
                .map(|d| {
                    d.flatten().any(|e| {
                        e.file_name()
                            .to_str()
                            .is_some_and(|n| n.ends_with(".txt") && !n.starts_with('.'))
                    })
                })
                .unwrap_or(true);
            if !has_content {
                write_atomic(&page.dir.join(format!("default.{code}.txt")), b"")
                    .map_err(io_error)?;
            }
        }
    }
    Ok(())
}

/// Deletes every `*.<code>.txt`, then the `_changes` and page folders left empty.
fn remove_language_files(snap: &Snapshot, code: &str) -> Result<()> {
    let suffix = format!(".{code}.txt");
    for path in content_files(snap) {
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(&suffix))
        {
            std::fs::remove_file(&path).map_err(io_error)?;
            if let Some(dir) = path.parent()
                && dir.file_name().is_some_and(|n| n == "_changes")
            {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
    // Deepest first, so a parent emptied by its child goes too.
    let mut dirs: Vec<&PathBuf> = snap.pages.iter().map(|p| &p.dir).collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()) {
            let _ = std::fs::remove_dir(dir);
        }
    }
    Ok(())
}
