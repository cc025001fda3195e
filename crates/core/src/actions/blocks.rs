//! Blocks and layout fields in Kirby's form. A value (an array, a JSON string, or the old YAML
//! format) becomes blocks `{content, id, isHidden, type}` (blocks inside layouts are taken
//! out; a missing id is a new v4 UUID); on every write each block's content goes through its
//! fieldset's form (the fieldset's fields in order, stored like page fields, then the keys
//! that are not fields), a block of an unknown type is kept as it is, and the field is
//! stored again as compact JSON, also when the write did not touch it.

use serde_json::{Map, Value, json};

use super::{reference, structure_row, to_stored_for, uuid_v4};
use crate::blueprint::Field;
use crate::fieldsets::{Fieldsets, fields_of, resolve};
use crate::format::yaml;
use crate::model::FileParent;
use crate::snapshot::Snapshot;

/// One block as Kirby's `Block::toArray` has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Its content, keys in lower case.
    pub content: Map<String, Value>,
    /// Its id (kept as given; a new UUID when missing).
    pub id: Value,
    /// `isHidden` as given (`false` when missing).
    pub hidden: Value,
    /// The block type.
    pub kind: String,
}

impl Block {
    /// `{content, id, isHidden, type}`, an empty content as PHP's `[]`.
    pub fn to_json(&self) -> Value {
        json!({
            "content": php_map(self.content.clone()),
            "id": self.id,
            "isHidden": self.hidden,
            "type": self.kind,
        })
    }
}

/// One layout row: its `attrs`, and columns of blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The row's settings, keys in lower case.
    pub attrs: Map<String, Value>,
    /// `(id, width, blocks)` of each column.
    pub columns: Vec<(Value, Value, Vec<Block>)>,
    /// The row's id.
    pub id: Value,
}

impl Layout {
    /// `{attrs, columns: [{blocks, id, width}], id}`.
    pub fn to_json(&self, blocks: impl Fn(&[Block]) -> Vec<Value>) -> Value {
        let columns: Vec<Value> = self
            .columns
            .iter()
            .map(|(id, width, list)| json!({"blocks": blocks(list), "id": id, "width": width}))
            .collect();
        json!({"attrs": php_map(self.attrs.clone()), "columns": columns, "id": self.id})
    }
}

/// A map as PHP's `json_encode` writes an array: an empty one is `[]`.
pub fn php_map(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(m)
    }
}

/// Kirby's `Blocks::parse`: an array as it is; a string as JSON, else as the old YAML format
/// (a list whose first entry has a `type`), else as HTML ([`html_blocks`]).
pub fn parse_blocks(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) if !o.is_empty() => vec![v.clone()],
        Value::String(s) if !s.trim().is_empty() => {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => return a,
                Ok(Value::Object(o)) => return vec![Value::Object(o)],
                Ok(_) => return Vec::new(),
                Err(_) => {}
            }
            if let Ok(Value::Array(a)) = yaml::parse(s)
                && a.first().and_then(|f| f.get("type")).is_some()
            {
                return a;
            }
            html_blocks(s)
        }
        _ => Vec::new(),
    }
}

/// Kirby's `Blocks::factory`: blocks taken out of layouts (when the first entry has
/// `columns`), each one an object with a `type` (others are left out), later duplicates of
/// an id replacing the earlier block in its place.
pub fn blocks_of(list: &[Value]) -> Vec<Block> {
    let from_layouts = list
        .first()
        .and_then(Value::as_object)
        .is_some_and(|o| o.contains_key("columns") && !o.contains_key("_key"));
    let items: Vec<&Value> = if from_layouts {
        list.iter()
            .filter_map(|l| l.get("columns").and_then(Value::as_array))
            .flatten()
            .filter_map(|c| c.get("blocks").and_then(Value::as_array))
            .flatten()
            .collect()
    } else {
        list.iter().collect()
    };
    let mut out: Vec<Block> = Vec::new();
    for item in items {
        let Some(o) = item.as_object() else { continue };
        let Some(kind) = o.get("type").and_then(crate::blueprint::scalar_string) else {
            continue;
        };
        let block = Block {
            content: lower_keys(o.get("content")),
            id: match o.get("id") {
                Some(v) if !v.is_null() => v.clone(),
                _ => json!(uuid_v4()),
            },
            hidden: o.get("isHidden").cloned().unwrap_or(json!(false)),
            kind,
        };
        match out.iter_mut().find(|b| b.id == block.id) {
            Some(slot) => *slot = block,
            None => out.push(block),
        }
    }
    out
}

/// Kirby's `Layouts::factory` over a decoded value: one layout object becomes a list, a list
/// of blocks becomes one full-width layout; missing ids are new UUIDs, a missing width `1/1`.
pub fn layouts_of(v: &Value) -> Vec<Layout> {
    let mut items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) if o.contains_key("columns") || o.contains_key("id") => vec![v.clone()],
        _ => Vec::new(),
    };
    let first_is_block = items
        .first()
        .and_then(Value::as_object)
        .is_some_and(|o| o.contains_key("content") || o.contains_key("type"));
    if first_is_block {
        items = vec![json!({"columns": [{"width": "1/1", "blocks": items}]})];
    }
    let new_id = |v: Option<&Value>| match v {
        Some(v) if !v.is_null() => v.clone(),
        _ => json!(uuid_v4()),
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|o| Layout {
            attrs: lower_keys(o.get("attrs")),
            columns: o
                .get("columns")
                .and_then(Value::as_array)
                .map(|cols| {
                    cols.iter()
                        .filter_map(Value::as_object)
                        .map(|c| {
                            let blocks = c
                                .get("blocks")
                                .and_then(Value::as_array)
                                .map(|b| blocks_of(b))
                                .unwrap_or_default();
                            let width = c.get("width").cloned().unwrap_or(json!("1/1"));
                            (new_id(c.get("id")), width, blocks)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            id: new_id(o.get("id")),
        })
        .collect()
}

/// A layout field's value: an array, or a JSON string (anything else is no layouts).
pub fn parse_layouts(v: &Value) -> Vec<Layout> {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(decoded) => layouts_of(&decoded),
            Err(_) => Vec::new(),
        },
        other => layouts_of(other),
    }
}

fn lower_keys(v: Option<&Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect(),
        _ => Map::new(),
    }
}

/// The fields of a layout field's `settings` (none without settings).
pub fn settings_fields(snap: &Snapshot, field: &Field) -> Option<Vec<Field>> {
    let settings = field.props.get("settings")?;
    let empty = match settings {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if empty {
        return None;
    }
    match resolve(&snap.blueprints, settings.clone()) {
        Value::Object(o) => Some(fields_of(&snap.blueprints, &o)),
        _ => None,
    }
}

/// A blocks field's stored text: every block through its fieldset's form, compact JSON
/// (`pretty: true`: indented), `''` when there are none.
pub fn store_blocks(
    snap: &Snapshot,
    owner: Option<FileParent>,
    field: &Field,
    v: &Value,
) -> String {
    let sets = Fieldsets::of(&snap.blueprints, field);
    let blocks = stored_blocks(snap, owner, &sets, &blocks_of(&parse_blocks(v)));
    encode(field, blocks)
}

/// A layout field's stored text: the rows' settings through the `settings` form, every
/// block through its fieldset's form; `''` when there are no rows.
pub fn store_layouts(
    snap: &Snapshot,
    owner: Option<FileParent>,
    field: &Field,
    v: &Value,
) -> String {
    let sets = Fieldsets::of(&snap.blueprints, field);
    let settings = settings_fields(snap, field);
    let rows: Vec<Value> = parse_layouts(v)
        .into_iter()
        .map(|mut l| {
            if let Some(fields) = &settings {
                l.attrs = stored_content(snap, owner, fields, &l.attrs);
            }
            l.to_json(|blocks| stored_blocks(snap, owner, &sets, blocks))
        })
        .collect();
    encode(field, rows)
}

fn encode(field: &Field, list: Vec<Value>) -> String {
    if list.is_empty() {
        return String::new();
    }
    let value = Value::Array(list);
    if field.props.get("pretty") == Some(&Value::Bool(true)) {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        if serde::Serialize::serialize(&value, &mut ser).is_ok() {
            return String::from_utf8(out).unwrap_or_default();
        }
    }
    serde_json::to_string(&value).unwrap_or_default()
}

/// Blocks with their content as stored by their fieldsets' forms.
pub fn stored_blocks(
    snap: &Snapshot,
    owner: Option<FileParent>,
    sets: &Fieldsets,
    blocks: &[Block],
) -> Vec<Value> {
    blocks
        .iter()
        .map(|b| match sets.find(&b.kind) {
            Some(set) => Block {
                content: stored_content(snap, owner, &set.fields, &b.content),
                ..b.clone()
            }
            .to_json(),
            None => b.to_json(),
        })
        .collect()
}

/// A fieldset form's stored values: each field with a value in order, then the content's
/// other keys.
pub fn stored_content(
    snap: &Snapshot,
    owner: Option<FileParent>,
    fields: &[Field],
    content: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields.iter().filter(|f| f.stores_value()) {
        out.insert(
            f.name.clone(),
            stored_cell(snap, owner, f, content.get(&f.name)),
        );
    }
    for (k, v) in content {
        if !fields.iter().any(|f| &f.name == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// One field's stored value inside a block (JSON, not text): pickers as lists of UUIDs,
/// numbers as numbers, structures as rows, toggles as `"true"`/`"false"`, the rest as text.
fn stored_cell(snap: &Snapshot, owner: Option<FileParent>, f: &Field, v: Option<&Value>) -> Value {
    let v = v.unwrap_or(&Value::Null);
    match f.kind.as_str() {
        "files" | "pages" | "users" => {
            let items: Vec<Value> = match v {
                Value::Array(a) => a.clone(),
                Value::String(s) if s.trim().is_empty() => Vec::new(),
                Value::String(s) => match yaml::parse(s) {
                    Ok(Value::Array(a)) => a,
                    _ => vec![v.clone()],
                },
                Value::Null => Vec::new(),
                other => vec![other.clone()],
            };
            Value::Array(
                items
                    .iter()
                    .filter_map(|x| reference(snap, owner, &f.kind, x))
                    .map(Value::String)
                    .collect(),
            )
        }
        "number" | "range" => {
            let text = to_stored_for(snap, owner, Some(f), v).unwrap_or_default();
            let t = text.trim();
            t.parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| json!(""))
        }
        "structure" => match v {
            Value::Array(rows) => Value::Array(
                rows.iter()
                    .map(|r| match r {
                        Value::Object(o) => Value::Object(structure_row(snap, owner, f, o)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => Value::Array(Vec::new()),
        },
        "object" => match v {
            Value::Object(o) if !o.is_empty() => Value::Object(structure_row(snap, owner, f, o)),
            _ => json!(""),
        },
        "toggle" => {
            json!(to_stored_for(snap, owner, Some(f), v).unwrap_or_else(|| "false".to_string()))
        }
        _ => json!(to_stored_for(snap, owner, Some(f), v).unwrap_or_default()),
    }
}

/// Kirby's paste/HTML import, simplified: headings (`h1`–`h6`) become heading blocks,
/// lists `list` blocks, `blockquote` quotes, `pre` code, `hr` lines, `img` images, and
/// paragraphs (with any other content) text blocks; neighbouring paragraphs form one text
/// block.
pub fn html_blocks(html: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut Vec<Value>| {
        let t = text.trim();
        if !t.is_empty() {
            let t = if t.starts_with('<') {
                t.to_string()
            } else {
                format!("<p>{t}</p>")
            };
            out.push(json!({"type": "text", "content": {"text": t}}));
        }
        text.clear();
    };
    let mut rest = html.trim();
    while !rest.is_empty() {
        let Some(start) = rest.find('<') else {
            text.push_str(rest);
            break;
        };
        if start > 0 {
            text.push_str(&rest[..start]);
            rest = &rest[start..];
            continue;
        }
        let name: String = rest[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let open_end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let void = matches!(name.as_str(), "hr" | "img" | "br");
        let (whole, inner) = if void {
            (&rest[..open_end], "")
        } else {
            match find_close(rest, &name) {
                Some((inner_end, close_end)) => (&rest[..close_end], &rest[open_end..inner_end]),
                None => (rest, &rest[open_end.min(rest.len())..]),
            }
        };
        let block = match name.as_str() {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                Some(json!({"type": "heading", "content": {"level": name, "text": inner.trim()}}))
            }
            "ul" | "ol" => Some(json!({"type": "list", "content": {"text": whole}})),
            "blockquote" => Some(json!({"type": "quote", "content": {"text": inner.trim()}})),
            "pre" => Some(
                json!({"type": "code", "content": {"code": strip_tags(inner), "language": "text"}}),
            ),
            "hr" => Some(json!({"type": "line", "content": {}})),
            "img" => Some(json!({"type": "image", "content": {
                "location": "web",
                "src": attribute(whole, "src").unwrap_or_default(),
                "alt": attribute(whole, "alt").unwrap_or_default(),
            }})),
            _ => None,
        };
        match block {
            Some(b) => {
                flush(&mut text, &mut out);
                out.push(b);
            }
            None => text.push_str(whole),
        }
        rest = &rest[whole.len()..];
    }
    flush(&mut text, &mut out);
    out
}

/// The end of an element's inner HTML and of its closing tag (nesting of the same name
/// counted), from the start of its opening tag.
fn find_close(html: &str, name: &str) -> Option<(usize, usize)> {
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{name}"), format!("</{name}"));
    let mut depth = 0usize;
    let mut i = 0;
    while i < lower.len() {
        if lower[i..].starts_with(&close) {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                let end = lower[i..].find('>').map_or(lower.len(), |e| i + e + 1);
                return Some((i, end));
            }
            i += close.len();
        } else if lower[i..].starts_with(&open)
            && lower[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_whitespace() || c == '/')
        {
            depth += 1;
            i += open.len();
        } else {
            i += lower[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &tag[at..];
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let inner = &rest[1..];
        Some(inner[..inner.find(quote)?].to_string())
    } else {
        Some(
            rest.split(|c: char| c.is_whitespace() || c == '>')
                .next()?
                .to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_from_strings_layouts_and_yaml() {
        let json = json!("[{\"type\":\"quote\",\"content\":{\"Text\":\"Hi\"}}]");
        let b = blocks_of(&parse_blocks(&json));
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].content.get("text"),
            Some(&json!("Hi")),
            "keys in lower case"
        );
        assert_eq!(b[0].id.as_str().map(str::len), Some(36), "a new v4 id");
        assert_eq!(b[0].hidden, json!(false));

        let yaml = json!("- \n  type: heading\n  content:\n    text: Old\n");
        assert_eq!(blocks_of(&parse_blocks(&yaml))[0].kind, "heading");

        let layout = json!([{"columns": [{"blocks": [{"type": "text", "id": "a"}]}, {"blocks": [{"type": "line", "id": "b"}]}]}]);
        let ids: Vec<Value> = blocks_of(&parse_blocks(&layout))
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert_eq!(ids, [json!("a"), json!("b")]);

        let dup = json!([{"type": "text", "id": "x"}, {"type": "line", "id": "y"}, {"type": "quote", "id": "x"}]);
        let kinds: Vec<String> = blocks_of(dup.as_array().unwrap())
            .into_iter()
            .map(|b| b.kind)
            .collect();
        assert_eq!(
            kinds,
            ["quote", "line"],
            "a later duplicate id replaces the block"
        );
        assert!(blocks_of(&[json!({"content": {}})]).is_empty(), "no type");
    }

    #[test]
    fn layouts_wrap_single_rows_and_blocks() {
        let one = layouts_of(&json!({"columns": [{"blocks": []}]}));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].columns[0].1, json!("1/1"));
        let wrapped = layouts_of(&json!([{"type": "text", "content": {"text": "x"}}]));
        assert_eq!(wrapped[0].columns[0].2[0].kind, "text");
        assert!(
            parse_layouts(&json!("- columns: []")).is_empty(),
            "YAML is no layout"
        );
        let json = Layout {
            attrs: Map::new(),
            columns: vec![(json!("c"), json!("1/2"), Vec::new())],
            id: json!("l"),
        }
        .to_json(|_| Vec::new());
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            r#"{"attrs":[],"columns":[{"blocks":[],"id":"c","width":"1/2"}],"id":"l"}"#
        );
    }

    #[test]
    fn html_is_split_into_blocks() {
        let blocks = html_blocks(
            "<h2>Menu</h2><p>Soup and <b>bread</b></p><p>Two</p><ul><li>One</li></ul><hr>",
        );
        let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["heading", "text", "list", "line"]);
        assert_eq!(blocks[0]["content"], json!({"level": "h2", "text": "Menu"}));
        assert_eq!(
            blocks[1]["content"]["text"],
            json!("<p>Soup and <b>bread</b></p><p>Two</p>")
        );
        assert_eq!(blocks[2]["content"]["text"], json!("<ul><li>One</li></ul>"));
        assert_eq!(
            html_blocks("plain words")[0]["content"]["text"],
            json!("<p>plain words</p>")
        );
    }
}
