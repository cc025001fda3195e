//! Kirby's field helpers as minijinja filters (`kirbytext`, `markdown`, `toDate`, `split`,
//! `toStructure`, `toBlocks`, `toPages`, `toFiles`, …) and global functions (`csrf()`,
//! `url()`, `page()`, `snippet()`, `css()`, `js()`). Every filter can also be called as a
//! method of a field, Kirby style: `page.date.toDate("d.m.Y")`.

use minijinja::value::{Rest, Serde, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State};
use std::cell::Cell;
use std::sync::Arc;

use folio_core::format::yaml;
use folio_core::model::{FileParent, PageIdx};

use super::date;
use super::objects::{Cx, FilesObj, KirbyObj, PageObj, PagesObj, SiteObj};
use folio_core::kirbytext::{self as markdown, MdOptions, Resolver};

/// A field's text: undefined and none are empty, strings as they are, anything else printed.
fn text(v: &Value) -> String {
    if v.is_undefined() || v.is_none() {
        return String::new();
    }
    match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    }
}

fn cx_of(state: &State<'_, '_>) -> Result<Arc<Cx>, Error> {
    state
        .lookup("site")
        .and_then(|v| v.downcast_object_ref::<SiteObj>().map(|s| s.cx.clone()))
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no `site` in the context"))
}

fn page_of(state: &State<'_, '_>) -> Option<PageIdx> {
    state
        .lookup("page")
        .and_then(|v| v.downcast_object_ref::<PageObj>().map(|p| p.idx))
}

/// Resolves Kirby tags against the page being rendered.
struct PageResolver {
    cx: Arc<Cx>,
    page: Option<PageIdx>,
}

impl Resolver for PageResolver {
    fn file_url(&self, filename: &str) -> Option<String> {
        let current = self.page.map(FileParent::Page);
        let (parent, i) = self.cx.find_file(filename, current)?;
        Some(self.cx.file_url(&self.cx.snap.files_of(parent)[i]))
    }

    fn page_url(&self, id: &str) -> Option<String> {
        self.cx.find_public(id).map(|p| self.cx.page_url(p))
    }
}

fn kirbytext(state: &State<'_, '_>, value: &Value, opts: MdOptions) -> Value {
    let src = text(value);
    let html = match cx_of(state) {
        Ok(cx) => markdown::kirbytext(
            &src,
            opts,
            &PageResolver {
                cx,
                page: page_of(state),
            },
        ),
        Err(_) => markdown::kirbytext(&src, opts, &markdown::NoResolver),
    };
    Value::from_safe_string(html)
}

/// Drops the `<p>…</p>` around a single paragraph (Kirby's `kirbytextinline`).
fn inline(html: &str) -> String {
    let t = html.trim_end();
    match t.strip_prefix("<p>").and_then(|r| r.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html.to_string(),
    }
}

/// Kirby's `split()`: trimmed, without empty parts; `,` by default.
fn split(value: &Value, sep: Option<String>) -> Vec<String> {
    let sep = sep.filter(|s| !s.is_empty()).unwrap_or_else(|| ",".into());
    text(value)
        .split(sep.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn to_structure(value: &Value) -> Value {
    let items = match yaml::parse(&text(value)) {
        Ok(serde_json::Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let items: Vec<serde_json::Value> = items
        .into_iter()
        .filter_map(|item| match item {
            serde_json::Value::Object(m) => Some(serde_json::Value::Object(
                m.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
            )),
            _ => None,
        })
        .collect();
    Value::from(Serde(&items))
}

fn to_blocks(value: &Value) -> Value {
    let blocks = match serde_json::from_str::<serde_json::Value>(&text(value)) {
        Ok(serde_json::Value::Array(b)) => b,
        _ => Vec::new(),
    };
    let blocks: Vec<serde_json::Value> = blocks
        .into_iter()
        .filter_map(|b| {
            let obj = b.as_object()?;
            if obj.get("isHidden").and_then(|h| h.as_bool()) == Some(true) {
                return None;
            }
            let mut out = serde_json::Map::new();
            // Content fields first, then the block's own keys (which win).
            if let Some(serde_json::Value::Object(content)) = obj.get("content") {
                for (k, v) in content {
                    out.insert(k.to_lowercase(), v.clone());
                }
            }
            for key in ["id", "type", "isHidden", "content"] {
                if let Some(v) = obj.get(key) {
                    out.insert(key.to_string(), v.clone());
                }
            }
            Some(serde_json::Value::Object(out))
        })
        .collect();
    Value::from(Serde(&blocks))
}

/// The entries of a pages or files field: a YAML list, or a comma-separated string.
fn references(value: &Value) -> Vec<String> {
    if value.as_str().is_none()
        && let Ok(iter) = value.try_iter()
    {
        return iter.map(|v| text(&v)).collect();
    }
    let src = text(value);
    match yaml::parse(&src) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => src
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

fn to_pages(state: &State<'_, '_>, value: &Value) -> Result<Value, Error> {
    let cx = cx_of(state)?;
    let list = references(value)
        .iter()
        .filter_map(|r| cx.find_public(r))
        .collect();
    Ok(PagesObj::value(&cx, list))
}

fn to_files(state: &State<'_, '_>, value: &Value) -> Result<Value, Error> {
    let cx = cx_of(state)?;
    let current = page_of(state).map(FileParent::Page);
    let list = references(value)
        .iter()
        .filter_map(|r| cx.find_file(r, current))
        .collect();
    Ok(FilesObj::from_items(&cx, list))
}

fn first_or_undefined(v: Value) -> Value {
    v.get_item_by_index(0).unwrap_or(Value::UNDEFINED)
}

fn is_empty(value: &Value) -> bool {
    if value.is_undefined() || value.is_none() {
        return true;
    }
    match value.as_str() {
        Some(s) => s.trim().is_empty(),
        None => value.len() == Some(0),
    }
}

/// Plain text of some HTML (tags dropped, entities kept).
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn base_url(state: &State<'_, '_>) -> String {
    cx_of(state).map(|c| c.base.clone()).unwrap_or_default()
}

fn absolute(state: &State<'_, '_>, path: &str) -> String {
    let has_scheme = path
        .split_once(':')
        .is_some_and(|(s, _)| !s.contains(['/', '?', '#']));
    if has_scheme || path.starts_with("//") {
        return path.to_string();
    }
    format!("{}/{}", base_url(state), path.trim_start_matches('/'))
}

thread_local! {
    static SNIPPET_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Nested `snippet()` calls allowed (each starts a new render; this stops endless recursion).
const MAX_SNIPPET_DEPTH: usize = 32;

fn valid_snippet_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

fn snippet(state: &State<'_, '_>, name: String, data: Option<Value>) -> Result<Value, Error> {
    let name = name.trim_end_matches(".html");
    if !valid_snippet_name(name) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid snippet name `{name}`"),
        ));
    }
    let depth = SNIPPET_DEPTH.with(Cell::get);
    if depth >= MAX_SNIPPET_DEPTH {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "snippets nested too deeply",
        ));
    }
    let tmpl = state.env().get_template(&format!("snippets/{name}.html"))?;
    let data = data
        .filter(|d| !d.is_undefined() && !d.is_none())
        .unwrap_or_else(|| Value::from_iter(std::iter::empty::<(String, Value)>()));
    let globals = minijinja::context! {
        page => state.lookup("page"),
        site => state.lookup("site"),
        kirby => state.lookup("kirby"),
        pages => state.lookup("pages"),
    };
    let ctx = minijinja::context! { ..data, ..globals };
    SNIPPET_DEPTH.with(|d| d.set(depth + 1));
    let out = tmpl.render(ctx);
    SNIPPET_DEPTH.with(|d| d.set(depth));
    Ok(Value::from_safe_string(out?))
}

/// `csrf()`: the session's CSRF token (see [`KirbyObj::csrf`]).
fn csrf(state: &State<'_, '_>) -> Result<String, Error> {
    let kirby = state
        .lookup("kirby")
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no `kirby` in the context"))?;
    let k = kirby
        .downcast_object_ref::<KirbyObj>()
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "`kirby` was replaced"))?;
    k.csrf()
}

/// Escapes text for HTML (`&`, `<`, `>`, `"`, `'`; slashes stay readable in URLs).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Prints values as PHP templates do: `none` and undefined print nothing, and HTML
/// templates escape everything that is not marked safe.
fn formatter(out: &mut Output<'_>, state: &mut State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
        let escaped = match value.as_str() {
            Some(s) => html_escape(s),
            None => html_escape(&value.to_string()),
        };
        return out
            .write_str(&escaped)
            .map_err(|_| Error::new(ErrorKind::WriteFailure, "formatting failed"));
    }
    minijinja::escape_formatter(out, state, value)
}

/// Registers the filters, functions, the formatter and the field-method callback.
pub fn register(env: &mut Environment<'static>, opts: MdOptions) {
    env.set_formatter(formatter);
    for name in ["kirbytext", "kt"] {
        env.add_filter(name, move |state: &State<'_, '_>, v: &Value| {
            kirbytext(state, v, opts)
        });
    }
    for name in ["kirbytextinline", "kti"] {
        env.add_filter(name, move |state: &State<'_, '_>, v: &Value| {
            let html = kirbytext(state, v, opts);
            Value::from_safe_string(inline(html.as_str().unwrap_or("")))
        });
    }
    for name in ["markdown", "md"] {
        env.add_filter(name, move |v: &Value| {
            Value::from_safe_string(markdown::markdown(&text(v), opts))
        });
    }
    env.add_filter(
        "toDate",
        |v: &Value, format: Option<String>, fallback: Option<String>| -> Value {
            let ts = date::parse(&text(v)).or_else(|| fallback.as_deref().and_then(date::parse));
            match (ts, format) {
                (Some(ts), Some(f)) => Value::from(date::format(ts, &f)),
                (Some(ts), None) => Value::from(ts),
                (None, _) => Value::from(()),
            }
        },
    );
    env.add_filter("split", split);
    env.add_filter("toStructure", to_structure);
    env.add_filter("toBlocks", to_blocks);
    env.add_filter("toPages", to_pages);
    env.add_filter("toPage", |state: &State<'_, '_>, v: &Value| {
        to_pages(state, v).map(first_or_undefined)
    });
    env.add_filter("toFiles", to_files);
    env.add_filter("toFile", |state: &State<'_, '_>, v: &Value| {
        to_files(state, v).map(first_or_undefined)
    });
    env.add_filter("isEmpty", |v: &Value| is_empty(v));
    env.add_filter("isNotEmpty", |v: &Value| !is_empty(v));
    env.add_filter(
        "or",
        |v: &Value, fallback: Value| {
            if is_empty(v) { fallback } else { v.clone() }
        },
    );
    env.add_filter("excerpt", move |v: &Value, chars: Option<usize>| {
        let plain = strip_tags(&markdown::markdown(&text(v), opts));
        let max = chars.unwrap_or(140);
        if plain.chars().count() <= max {
            plain
        } else {
            let cut: String = plain.chars().take(max).collect();
            let cut = cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut);
            format!("{}…", cut.trim_end())
        }
    });

    env.add_function("csrf", csrf);
    env.add_function("url", |state: &State<'_, '_>, path: Option<String>| {
        absolute(state, path.as_deref().unwrap_or(""))
    });
    env.add_function(
        "page",
        |state: &State<'_, '_>, id: String| -> Result<Value, Error> {
            let cx = cx_of(state)?;
            Ok(cx
                .find_public(&id)
                .map(|p| PageObj::value(&cx, p))
                .unwrap_or(Value::UNDEFINED))
        },
    );
    env.add_function("snippet", snippet);
    env.add_function("css", |state: &State<'_, '_>, urls: Rest<String>| {
        let tags: Vec<String> = urls
            .iter()
            .map(|u| {
                format!(
                    "<link rel=\"stylesheet\" href=\"{}\">",
                    html_escape(&absolute(state, u))
                )
            })
            .collect();
        Value::from_safe_string(tags.join("\n"))
    });
    env.add_function("js", |state: &State<'_, '_>, urls: Rest<String>| {
        let tags: Vec<String> = urls
            .iter()
            .map(|u| {
                format!(
                    "<script src=\"{}\"></script>",
                    html_escape(&absolute(state, u))
                )
            })
            .collect();
        Value::from_safe_string(tags.join("\n"))
    });

    // `page.text.kirbytext()`: a method on a field is the filter of that name.
    env.set_unknown_method_callback(|state, value, method, args| {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(value.clone());
        all.extend_from_slice(args);
        match state.apply_filter(method, &all) {
            Err(e) if e.kind() == ErrorKind::UnknownFilter => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("unknown method {method}"),
            )),
            other => other,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_trims_and_drops_empty_parts() {
        assert_eq!(
            split(&Value::from("news, setup,,"), None),
            vec!["news", "setup"]
        );
        assert_eq!(split(&Value::from("a|b"), Some("|".into())), vec!["a", "b"]);
        assert!(split(&Value::UNDEFINED, None).is_empty());
    }

    #[test]
    fn structures_and_blocks() {
        let s = to_structure(&Value::from(
            "-\n  Name: Ada\n  role: Math\n-\n  name: Grace\n",
        ));
        assert_eq!(s.len(), Some(2));
        assert_eq!(
            s.get_item_by_index(0)
                .unwrap()
                .get_attr("name")
                .unwrap()
                .as_str(),
            Some("Ada")
        );
        let b = to_blocks(&Value::from(
            r#"[{"content":{"text":"Hi"},"id":"1","isHidden":false,"type":"text"},
                {"content":{"text":"no"},"id":"2","isHidden":true,"type":"text"}]"#,
        ));
        assert_eq!(b.len(), Some(1));
        let first = b.get_item_by_index(0).unwrap();
        assert_eq!(first.get_attr("type").unwrap().as_str(), Some("text"));
        assert_eq!(first.get_attr("text").unwrap().as_str(), Some("Hi"));
        assert_eq!(to_blocks(&Value::from("not json")).len(), Some(0));
    }

    #[test]
    fn snippet_names() {
        assert!(valid_snippet_name("header"));
        assert!(valid_snippet_name("blocks/text"));
        assert!(!valid_snippet_name("../config/config"));
        assert!(!valid_snippet_name("a//b"));
        assert!(!valid_snippet_name(".hidden"));
    }

    #[test]
    fn inline_strips_one_paragraph() {
        assert_eq!(inline("<p>Hi <em>x</em></p>\n"), "Hi <em>x</em>");
        assert_eq!(inline("<p>a</p>\n<p>b</p>\n"), "<p>a</p>\n<p>b</p>\n");
    }
}
