//! Fieldsets: the block types a blocks or layout field offers, each with its form fields.
//! Kirby's core block types come with default fields; a blueprint's `fieldsets:` picks and
//! configures them (a list of types, or a map of type → `true`, a blueprint name or an inline
//! definition with `extends`), groups them (`type: group`), and `site/blueprints/blocks/<type>`
//! replaces a core type's defaults.

use serde_json::{Map, Value, json};

use crate::blueprint::{Blueprints, Field, extend, parse_fields};

/// One block type and its form.
#[derive(Debug, Clone)]
pub struct Fieldset {
    /// The block type (`heading`, `image`, …).
    pub kind: String,
    /// The form fields, from `fields:` or from every tab's `fields:`.
    pub fields: Vec<Field>,
    /// The definition after `extends`.
    pub props: Map<String, Value>,
}

/// A named group of fieldsets (`type: group`).
#[derive(Debug, Clone)]
pub struct Group {
    /// The group's key.
    pub name: String,
    /// Its block types, in order.
    pub sets: Vec<String>,
}

/// The fieldsets of one blocks or layout field.
#[derive(Debug, Clone, Default)]
pub struct Fieldsets {
    /// Every block type, in order (types of groups included).
    pub sets: Vec<Fieldset>,
    /// The groups, in order.
    pub groups: Vec<Group>,
}

/// The block types a field without `fieldsets:` offers.
pub const DEFAULT_TYPES: &[&str] = &[
    "code", "gallery", "heading", "image", "line", "list", "markdown", "quote", "text", "video",
];

/// How deep groups may nest.
const MAX_DEPTH: usize = 8;

impl Fieldsets {
    /// The fieldsets of a blocks or layout field (its `fieldsets:` prop).
    pub fn of(blueprints: &Blueprints, field: &Field) -> Fieldsets {
        Fieldsets::from_prop(blueprints, field.props.get("fieldsets"))
    }

    /// The fieldsets a `fieldsets:` value names (missing or `null`: the defaults; a string,
    /// as in Kirby, none).
    pub fn from_prop(blueprints: &Blueprints, prop: Option<&Value>) -> Fieldsets {
        let mut out = Fieldsets::default();
        match prop {
            Some(v @ (Value::Array(_) | Value::Object(_))) => out.add(blueprints, v, 0),
            Some(Value::String(_)) => {}
            _ => {
                let list = Value::Array(DEFAULT_TYPES.iter().map(|t| json!(t)).collect());
                out.add(blueprints, &list, 0);
            }
        }
        out
    }

    /// The fieldset of a block type.
    pub fn find(&self, kind: &str) -> Option<&Fieldset> {
        self.sets.iter().find(|s| s.kind == kind)
    }

    fn add(&mut self, blueprints: &Blueprints, list: &Value, depth: usize) {
        let entries: Vec<(Option<String>, Value)> = match list {
            Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => (Some(s.clone()), json!(format!("blocks/{s}"))),
                    other => (None, other.clone()),
                })
                .collect(),
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| {
                    let def = match v {
                        Value::Bool(true) => json!(format!("blocks/{k}")),
                        other => other.clone(),
                    };
                    (Some(k.clone()), def)
                })
                .collect(),
            _ => Vec::new(),
        };
        for (key, def) in entries {
            if def == Value::Bool(false) || !(def.is_string() || def.is_object()) {
                continue;
            }
            let Value::Object(mut props) = resolve(blueprints, def) else {
                continue;
            };
            let kind = match props.get("type").and_then(Value::as_str) {
                Some(t) => t.to_string(),
                None => match &key {
                    Some(k) => k.clone(),
                    None => continue,
                },
            };
            props.insert("type".into(), json!(kind));
            if kind == "group" {
                if depth >= MAX_DEPTH {
                    continue;
                }
                let before = self.sets.len();
                if let Some(inner) = props.get("fieldsets") {
                    self.add(blueprints, inner, depth + 1);
                }
                let sets = self.sets[before..].iter().map(|s| s.kind.clone()).collect();
                let name = key.unwrap_or_default();
                self.groups.push(Group { name, sets });
                continue;
            }
            let fields = fields_of(blueprints, &props);
            let set = Fieldset {
                kind: kind.clone(),
                fields,
                props,
            };
            match self.sets.iter_mut().find(|s| s.kind == kind) {
                Some(slot) => *slot = set,
                None => self.sets.push(set),
            }
        }
    }
}

/// A definition with its `extends` (or a blueprint name) loaded: the site's blueprint files
/// first, then Kirby's core block types.
pub fn resolve(blueprints: &Blueprints, def: Value) -> Value {
    let find = |name: &str| -> Option<Value> {
        blueprints.mixins.get(name).cloned().or_else(|| {
            name.strip_prefix("blocks/")
                .and_then(core_block)
                .map(Value::Object)
        })
    };
    extend(def, &find, 0)
}

/// The form fields of a fieldset (or of a layout's `settings`): its `fields:`, or the
/// `fields:` of every tab in order; field definitions given as names are loaded.
pub fn fields_of(blueprints: &Blueprints, props: &Map<String, Value>) -> Vec<Field> {
    let mut all = Map::new();
    let mut collect = |fields: Option<&Value>| {
        if let Some(Value::Object(map)) = fields {
            for (name, def) in map {
                let def = match def {
                    Value::String(_) | Value::Object(_) => resolve(blueprints, def.clone()),
                    other => other.clone(),
                };
                all.insert(name.clone(), def);
            }
        }
    };
    match props.get("tabs") {
        Some(Value::Object(tabs)) if !tabs.is_empty() => {
            for tab in tabs.values() {
                if tab.is_string() || tab.is_object() {
                    let tab = resolve(blueprints, tab.clone());
                    collect(tab.get("fields"));
                }
            }
        }
        _ => collect(props.get("fields")),
    }
    parse_fields(&Value::Object(all))
}

/// The definition of one of Kirby's core block types (`table` has no fields, `line` none
/// either). Only what the form needs: field types, defaults, options, queries, previews.
pub fn core_block(kind: &str) -> Option<Map<String, Value>> {
    let ratios = json!([
        "1/1", "16/9", "10/8", "21/9", "7/5", "4/3", "5/3", "3/2", "3/1"
    ]);
    let location = |default: &str| json!({"type": "radio", "columns": 2, "default": default, "options": ["kirby", "web"]});
    let ratio = json!({"type": "select", "width": "1/2", "options": ratio_options(&ratios)});
    let crop = json!({"type": "toggle", "width": "1/2"});
    let kirby_only = |mut f: Value| {
        f["when"] = json!({"location": "kirby"});
        f
    };
    let def = match kind {
        "code" => json!({"fields": {
            "code": {"type": "textarea", "buttons": false, "font": "monospace"},
            "language": {"type": "select", "default": "text", "options": CODE_LANGUAGES},
        }}),
        "gallery" => json!({"fields": {
            "images": {"type": "files", "query": "model.images", "multiple": true, "layout": "cards",
                       "size": "small", "uploads": {"template": "blocks/image"},
                       "image": {"ratio": "1/1"}},
            "caption": {"type": "writer", "icon": "text", "inline": true},
            "ratio": ratio,
            "crop": crop,
        }}),
        "heading" => json!({"fields": {
            "level": {"type": "toggles", "empty": false, "default": "h2", "labels": false,
                      "options": (1..=6).map(|n| json!({
                          "value": format!("h{n}"), "icon": format!("h{n}"), "text": format!("H{n}")
                      })).collect::<Vec<_>>()},
            "text": {"type": "writer", "inline": true},
        }}),
        "image" => {
            let mut location = location("kirby");
            location["required"] = json!(true);
            json!({"fields": {
                "location": location,
                "image": kirby_only(json!({"type": "files", "query": "model.images", "multiple": false,
                          "image": {"back": "black"}, "uploads": {"template": "blocks/image"}})),
                "src": {"type": "url", "when": {"location": "web"}},
                "alt": {"type": "text", "icon": "title"},
                "caption": {"type": "writer", "icon": "text", "inline": true},
                "link": {"type": "text", "icon": "url"},
                "ratio": ratio,
                "crop": crop,
            }})
        }
        "line" | "table" => json!({}),
        "list" => json!({"fields": {"text": {"type": "list"}}}),
        "markdown" => json!({"fields": {"text": {"type": "textarea"}}}),
        "quote" => json!({"fields": {
            "text": {"type": "writer", "inline": true, "icon": "quote"},
            "citation": {"type": "writer", "inline": true, "icon": "user"},
        }}),
        "text" => json!({"fields": {"text": {"type": "writer", "nodes": false}}}),
        "video" => {
            let third = |default: Option<bool>| {
                let mut f = kirby_only(json!({"type": "toggle", "width": "1/3"}));
                if let Some(d) = default {
                    f["default"] = json!(d);
                }
                f
            };
            json!({"fields": {
                "location": location("web"),
                "url": {"type": "url", "when": {"location": "web"}},
                "video": kirby_only(json!({"type": "files", "query": "model.videos", "multiple": false})),
                "poster": kirby_only(json!({"type": "files", "query": "model.images", "multiple": false,
                           "image": {"back": "black"}, "uploads": {"template": "blocks/image"}})),
                "caption": {"type": "writer", "inline": true},
                "autoplay": third(None),
                "muted": third(Some(true)),
                "loop": third(None),
                "controls": third(Some(true)),
                "preload": kirby_only(json!({"type": "select", "width": "2/3", "default": "auto",
                            "options": ["auto", "metadata", "none"]})),
            }})
        }
        _ => return None,
    };
    let Value::Object(mut def) = def else {
        return None;
    };
    // The Panel's presentation of each core type: icon, preview component, inline editing.
    let (icon, wysiwyg) = match kind {
        "code" => ("code", true),
        "gallery" => ("dashboard", false),
        "heading" => ("title", true),
        "image" => ("image", false),
        "line" => ("divider", true),
        "list" => ("list-bullet", true),
        "markdown" => ("markdown", true),
        "quote" => ("quote", true),
        "table" => ("menu", false),
        "text" => ("text", true),
        _ => ("video", false),
    };
    def.insert("icon".into(), json!(icon));
    def.insert("preview".into(), json!(kind));
    if wysiwyg {
        def.insert("wysiwyg".into(), json!(true));
    }
    Some(def)
}

/// A ratio select's options: each ratio (`16/9`) shown as `16:9`.
fn ratio_options(ratios: &Value) -> Value {
    let Value::Array(list) = ratios else {
        return json!([]);
    };
    Value::Object(
        list.iter()
            .filter_map(Value::as_str)
            .map(|r| (r.to_string(), json!(r.replace('/', ":"))))
            .collect(),
    )
}

/// The values of the code block's `language` select.
const CODE_LANGUAGES: &[&str] = &[
    "bash",
    "basic",
    "c",
    "clojure",
    "cpp",
    "csharp",
    "css",
    "diff",
    "elixir",
    "elm",
    "erlang",
    "go",
    "graphql",
    "haskell",
    "html",
    "java",
    "js",
    "json",
    "latext",
    "less",
    "lisp",
    "lua",
    "makefile",
    "markdown",
    "markup",
    "objectivec",
    "pascal",
    "perl",
    "php",
    "text",
    "python",
    "r",
    "ruby",
    "rust",
    "sass",
    "scss",
    "shell",
    "sql",
    "swift",
    "typescript",
    "vbnet",
    "xml",
    "yaml",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn field(props: Value) -> Field {
        let mut fields = parse_fields(&json!({ "body": props }));
        fields.remove(0)
    }

    #[test]
    fn defaults_lists_groups_and_site_blueprints() {
        let mut bps = Blueprints::default();
        bps.mixins.insert(
            "blocks/heading".into(),
            json!({"fields": {"text": {"type": "text"}}}),
        );
        bps.mixins.insert(
            "blocks/notice".into(),
            json!({"tabs": {"a": {"fields": {"kind": {"type": "select"}}}, "b": {"fields": {"body": "blocks/textish"}}}}),
        );
        bps.mixins
            .insert("blocks/textish".into(), json!({"type": "textarea"}));

        let none = Fieldsets::of(&bps, &field(json!({"type": "blocks"})));
        let kinds: Vec<&str> = none.sets.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, DEFAULT_TYPES);
        // the site's blocks/heading replaces the core one
        let heading = none.find("heading").unwrap();
        assert_eq!(heading.fields.len(), 1);
        assert_eq!(heading.fields[0].kind, "text");
        assert!(none.find("table").is_none());
        let named = Fieldsets::of(&bps, &field(json!({"type": "blocks", "fieldsets": "all"})));
        assert!(named.sets.is_empty(), "a string names no fieldsets");

        let listed = Fieldsets::of(
            &bps,
            &field(json!({"type": "blocks", "fieldsets": ["table", "notice", "carousel"]})),
        );
        assert!(listed.find("table").unwrap().fields.is_empty());
        let notice: Vec<(&str, &str)> = listed
            .find("notice")
            .unwrap()
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.kind.as_str()))
            .collect();
        assert_eq!(notice, [("kind", "select"), ("body", "textarea")]);
        // an unknown blueprint still names a type, without fields
        assert!(listed.find("carousel").unwrap().fields.is_empty());

        let grouped = Fieldsets::of(
            &bps,
            &field(json!({"type": "blocks", "fieldsets": {
                "media": {"type": "group", "fieldsets": ["image", "video"]},
                "quote": true,
                "code": false,
                "own": {"extends": "blocks/text", "fields": {"note": {"type": "text"}}},
            }})),
        );
        let kinds: Vec<&str> = grouped.sets.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["image", "video", "quote", "own"]);
        assert_eq!(grouped.groups[0].name, "media");
        assert_eq!(grouped.groups[0].sets, ["image", "video"]);
        let own: Vec<&str> = grouped
            .find("own")
            .unwrap()
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(own, ["text", "note"], "extends merges the fields maps");
    }
}
