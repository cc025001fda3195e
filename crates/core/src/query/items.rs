//! Structure items, blocks, layouts and layout columns as query values: how a field's value
//! becomes them (`toStructure`, `toBlocks`, `toLayouts`), what each answers, and Kirby's
//! `toArray()` of each.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::eval::FieldVal;
use super::{Model, QueryError, Val};

/// What kind of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `Kirby\Cms\StructureObject` in a `Structure`.
    Structure,
    /// `Kirby\Cms\Block` in `Blocks`.
    Block,
    /// `Kirby\Cms\Layout` in `Layouts`.
    Layout,
    /// `Kirby\Cms\LayoutColumn` in `LayoutColumns`.
    Column,
}

impl ItemKind {
    /// The PHP class of one item.
    pub fn class(self) -> &'static str {
        match self {
            ItemKind::Structure => "Kirby\\Cms\\StructureObject",
            ItemKind::Block => "Kirby\\Cms\\Block",
            ItemKind::Layout => "Kirby\\Cms\\Layout",
            ItemKind::Column => "Kirby\\Cms\\LayoutColumn",
        }
    }

    /// The PHP class of a collection of them.
    pub fn collection_class(self) -> &'static str {
        match self {
            ItemKind::Structure => "Kirby\\Cms\\Structure",
            ItemKind::Block => "Kirby\\Cms\\Blocks",
            ItemKind::Layout => "Kirby\\Cms\\Layouts",
            ItemKind::Column => "Kirby\\Cms\\LayoutColumns",
        }
    }

    /// The name a nested KQL query binds one item to.
    pub fn alias(self) -> &'static str {
        match self {
            ItemKind::Structure => "structureItem",
            ItemKind::Block => "block",
            ItemKind::Layout => "layout",
            ItemKind::Column => "layoutColumn",
        }
    }

    /// The name of a collection of them in messages.
    pub fn collection_alias(self) -> &'static str {
        match self {
            ItemKind::Structure => "structure",
            ItemKind::Block => "blocks",
            ItemKind::Layout => "layouts",
            ItemKind::Column => "layoutColumns",
        }
    }
}

/// One item: its kind, the model whose field it came from, its id and its raw data.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub owner: Option<Model>,
    /// The id: the stored `id`, else (structures) the position.
    pub id: Value,
    /// The stored object (a block's `content`, `type`, `isHidden`; a layout's `attrs` and
    /// `columns`; a column's `width` and `blocks`; a structure item's fields).
    pub raw: Map<String, Value>,
}

impl Item {
    /// The id as text.
    pub fn id_text(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    fn is_hidden(&self) -> bool {
        matches!(self.raw.get("isHidden"), Some(Value::Bool(true)))
    }

    /// The item's content (lowercase keys): a structure item's fields, a block's `content`.
    pub fn content(&self) -> Map<String, Value> {
        let source = match self.kind {
            ItemKind::Structure => Some(&self.raw),
            ItemKind::Block => match self.raw.get("content") {
                Some(Value::Object(o)) => Some(o),
                _ => None,
            },
            ItemKind::Layout => match self.raw.get("attrs") {
                Some(Value::Object(o)) => Some(o),
                _ => None,
            },
            ItemKind::Column => None,
        };
        lowercase(source)
    }

    fn children(&self, key: &str, kind: ItemKind, hidden_too: bool) -> Vec<Arc<Item>> {
        let list = match self.raw.get(key) {
            Some(Value::Array(a)) => a.as_slice(),
            _ => &[],
        };
        build(kind, self.owner, list)
            .into_iter()
            .filter(|i| hidden_too || !i.is_hidden())
            .collect()
    }

    /// A layout's columns.
    pub fn columns(&self) -> Vec<Arc<Item>> {
        self.children("columns", ItemKind::Column, true)
    }

    /// A column's blocks (hidden ones with `hidden_too`).
    pub fn blocks(&self, hidden_too: bool) -> Vec<Arc<Item>> {
        self.children("blocks", ItemKind::Block, hidden_too)
    }

    fn is_empty(&self) -> bool {
        match self.kind {
            ItemKind::Structure | ItemKind::Block => self.content().is_empty(),
            ItemKind::Layout => self.columns().iter().all(|c| c.is_empty()),
            ItemKind::Column => self.blocks(false).is_empty(),
        }
    }

    fn width(&self) -> String {
        match self.raw.get("width") {
            Some(Value::String(s)) => s.clone(),
            _ => "1/1".into(),
        }
    }

    /// Kirby's `toArray()` of the item.
    pub fn to_array(&self) -> Value {
        let mut out = Map::new();
        match self.kind {
            ItemKind::Structure => {
                out = self.content();
                out.insert("id".into(), self.id.clone());
            }
            ItemKind::Block => {
                out.insert("content".into(), obj(self.content()));
                out.insert("id".into(), self.id.clone());
                out.insert("isHidden".into(), Value::Bool(self.is_hidden()));
                out.insert(
                    "type".into(),
                    self.raw.get("type").cloned().unwrap_or(Value::Null),
                );
            }
            ItemKind::Layout => {
                out.insert("attrs".into(), obj(self.content()));
                out.insert("columns".into(), list_array(&self.columns()));
                out.insert("id".into(), self.id.clone());
            }
            ItemKind::Column => {
                out.insert("blocks".into(), list_array(&self.blocks(true)));
                out.insert("id".into(), self.id.clone());
                out.insert("width".into(), Value::String(self.width()));
            }
        }
        obj(out)
    }
}

/// An empty map is PHP's `[]`.
fn obj(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(m)
    }
}

/// The `toArray()` of a collection of items: a list.
pub fn list_array(items: &[Arc<Item>]) -> Value {
    Value::Array(items.iter().map(|i| i.to_array()).collect())
}

fn lowercase(m: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(m) = m {
        for (k, v) in m {
            out.insert(k.to_lowercase(), v.clone());
        }
    }
    out
}

fn build(kind: ItemKind, owner: Option<Model>, list: &[Value]) -> Vec<Arc<Item>> {
    list.iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let raw = v.as_object()?.clone();
            let id = match raw.get("id") {
                Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
                // Kirby bakes the position in as the id, which renders as text
                _ if kind == ItemKind::Structure => Value::String(i.to_string()),
                _ => Value::Null,
            };
            Some(Arc::new(Item {
                kind,
                owner,
                id,
                raw,
            }))
        })
        .collect()
}

/// `field.toStructure`: the field's YAML list as structure items.
pub fn to_structure(f: &FieldVal) -> Result<Val, QueryError> {
    let value = f.value.clone().unwrap_or_default();
    let parsed = crate::format::yaml::parse(&value).unwrap_or(Value::Null);
    let list = match parsed {
        Value::Array(a) => a,
        Value::Object(o) => o.into_iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    Ok(Val::Items(
        ItemKind::Structure,
        build(ItemKind::Structure, f.owner, &list),
    ))
}

fn json_list(f: &FieldVal) -> Vec<Value> {
    let value = f.value.clone().unwrap_or_default();
    match serde_json::from_str::<Value>(&value) {
        Ok(Value::Array(a)) => a,
        _ => match crate::format::yaml::parse(&value) {
            Ok(Value::Array(a)) => a,
            _ => Vec::new(),
        },
    }
}

/// `field.toBlocks`: the visible blocks of a blocks field (the blocks of a layout field's
/// columns, when it holds layouts).
pub fn to_blocks(f: &FieldVal) -> Result<Val, QueryError> {
    let list = json_list(f);
    let is_layouts = list
        .iter()
        .any(|v| v.get("columns").is_some_and(Value::is_array));
    let blocks: Vec<Value> = if is_layouts {
        list.iter()
            .filter_map(|l| l.get("columns")?.as_array())
            .flatten()
            .filter_map(|c| c.get("blocks")?.as_array())
            .flatten()
            .cloned()
            .collect()
    } else {
        list
    };
    if blocks
        .iter()
        .any(|b| b.is_object() && b.get("type").is_none_or(Value::is_null))
    {
        return Err(QueryError::Invalid(format!(
            "Invalid blocks data for \"{}\" field",
            f.key
        )));
    }
    Ok(Val::Items(
        ItemKind::Block,
        build(ItemKind::Block, f.owner, &blocks)
            .into_iter()
            .filter(|b| !b.is_hidden())
            .collect(),
    ))
}

/// `field.toLayouts`: the layouts of a layout field.
pub fn to_layouts(f: &FieldVal) -> Result<Val, QueryError> {
    let list = json_list(f);
    Ok(Val::Items(
        ItemKind::Layout,
        build(ItemKind::Layout, f.owner, &list),
    ))
}

/// A stored value as a field value: text as is, numbers and booleans as PHP prints them,
/// lists and maps as JSON (which the field methods read back).
pub fn field_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) => String::new(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    })
}

/// A field of an item's (or a layout's attrs') content.
pub fn data_field(owner: Option<Model>, data: &Map<String, Value>, key: &str) -> Val {
    let key = key.to_lowercase();
    let value = data.get(&key).and_then(field_text);
    Val::Field(Arc::new(FieldVal { owner, key, value }))
}

/// What an item answers: `None` when the name is none of its methods (then it is a field of
/// its content).
pub fn method(item: &Arc<Item>, name: &str, args: &[Val]) -> Option<Val> {
    let lower = name.to_lowercase();
    let owner = || item.owner.map_or(Val::Null, Val::from);
    Some(match (item.kind, lower.as_str()) {
        (_, "id") => match &item.id {
            Value::String(s) => Val::Str(s.clone()),
            Value::Number(n) => Val::Int(n.as_i64().unwrap_or(0)),
            _ => Val::Null,
        },
        (_, "parent") => owner(),
        (_, "isempty") => Val::Bool(item.is_empty()),
        (_, "isnotempty") => Val::Bool(!item.is_empty()),
        (_, "toarray") => super::kql::json_val(&item.to_array()),
        (ItemKind::Structure | ItemKind::Block, "content") => {
            Val::Data(item.owner, Arc::new(item.content()))
        }
        (ItemKind::Block, "type") => match item.raw.get("type") {
            Some(Value::String(s)) => Val::Str(s.clone()),
            _ => Val::Null,
        },
        (ItemKind::Block, "ishidden") => Val::Bool(item.is_hidden()),
        (ItemKind::Layout, "attrs") => Val::Data(item.owner, Arc::new(item.content())),
        (ItemKind::Layout, "columns") => Val::Items(ItemKind::Column, item.columns()),
        (ItemKind::Column, "blocks") => Val::Items(
            ItemKind::Block,
            item.blocks(args.first().is_some_and(Val::truthy)),
        ),
        (ItemKind::Column, "width") => Val::Str(item.width()),
        (ItemKind::Column, "span") => {
            let columns = args.first().map_or(12.0, super::eval::number);
            let width = item.width();
            let (a, b) = width.split_once('/').unwrap_or(("1", "1"));
            let (a, b) = (
                a.trim().parse::<f64>().unwrap_or(1.0),
                b.trim().parse::<f64>().unwrap_or(1.0),
            );
            if b == 0.0 {
                Val::Int(columns as i64)
            } else {
                Val::Int((columns * a / b).round() as i64)
            }
        }
        _ => return None,
    })
}

/// PHP methods an item class has (lowercase), beyond its content fields: the methods every
/// item has (`Item`, `HasSiblings`, `HasMethods`) plus its class's own.
pub fn php_method(kind: ItemKind, lower: &str) -> bool {
    const ITEM: &[&str] = &[
        "__call",
        "__construct",
        "__debuginfo",
        "callmethod",
        "factory",
        "field",
        "hasmethod",
        "hasnext",
        "hasprev",
        "id",
        "indexof",
        "isfirst",
        "islast",
        "isnth",
        "kirby",
        "next",
        "nextall",
        "parent",
        "prev",
        "prevall",
        "siblings",
        "site",
        "toarray",
    ];
    let own: &[&str] = match kind {
        ItemKind::Structure => &["content"],
        ItemKind::Block => &[
            "__tostring",
            "content",
            "controller",
            "excerpt",
            "isempty",
            "ishidden",
            "isnotempty",
            "tofield",
            "tohtml",
            "type",
        ],
        ItemKind::Layout => &["attrs", "columns", "isempty", "isnotempty"],
        ItemKind::Column => &["blocks", "isempty", "isnotempty", "span", "width"],
    };
    ITEM.contains(&lower) || own.contains(&lower)
}
