//! The Language model's JSON: every field, keys alphabetical (Kirby's only view).

use serde_json::{Map, Value, json};

use folio_core::language::Language;

use super::{Plan, V};

const FIELDS: &[&str] = &[
    "code",
    "default",
    "direction",
    "locale",
    "name",
    "rules",
    "url",
];

impl V<'_> {
    /// A language rendered with a plan (`?select=` picks fields; there are no named views).
    pub fn language(&self, l: &Language, plan: &Plan) -> Value {
        let names: Vec<&str> = match plan {
            // Kirby keeps the model's field order, whatever the order of `select`.
            Plan::Select(list) => FIELDS
                .iter()
                .filter(|f| list.iter().any(|s| s == *f))
                .copied()
                .collect(),
            _ => FIELDS.to_vec(),
        };
        let mut m = Map::new();
        for name in names {
            let v = match name {
                "code" => json!(l.code),
                "default" => json!(l.default),
                "direction" => json!(l.direction),
                "locale" => l.locale_json(),
                "name" => json!(l.name),
                "rules" => rules_json(&l.rules()),
                _ => json!(l.url(self.base)),
            };
            m.insert(name.to_string(), v);
        }
        Value::Object(m)
    }

    /// The site's languages, alphabetical.
    pub fn languages(&self) -> Vec<Value> {
        self.snap
            .languages
            .list
            .iter()
            .map(|l| self.language(l, &Plan::Default))
            .collect()
    }
}

/// Slug rules as PHP's `json_encode` shows them: an object, or `[]` when empty.
pub fn rules_json(rules: &[(String, String)]) -> Value {
    if rules.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(
            rules
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}
