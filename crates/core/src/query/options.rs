//! Option lists of fields from queries (`options: query` / `options: {type: query, …}`):
//! each item of the query's result becomes `{value, text, icon, info}` through the
//! `value`/`text` templates, with Kirby's defaults per item class.

use serde_json::{Map, Value};

use super::{Model, QueryError, Scope, Val};

/// One resolved option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionItem {
    pub value: String,
    pub text: String,
    pub icon: Option<String>,
    pub info: Option<String>,
}

/// The query settings of a field's options, when they come from a query: `(query, text,
/// value, icon, info)`. `None` for static options and for API options.
pub fn query_settings(props: &Map<String, Value>) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    match props.get("options")? {
        Value::String(s) if s == "query" => match props.get("query")? {
            Value::String(q) => {
                out.insert("query".into(), Value::String(q.clone()));
            }
            Value::Object(o) => out.extend(o.clone()),
            _ => return None,
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("query") => {
            out.extend(o.clone());
        }
        _ => return None,
    }
    if let Some(fetch) = out.remove("fetch") {
        out.entry("query").or_insert(fetch);
    }
    out.get("query").and_then(Value::as_str)?;
    Some(out)
}

/// Whether a field's options are dynamic (a query or an API), so no static list applies.
pub fn is_dynamic(props: &Map<String, Value>) -> bool {
    match props.get("options") {
        Some(Value::String(s)) => s == "query" || s == "api",
        Some(Value::Object(o)) => o.contains_key("type"),
        _ => false,
    }
}

/// Resolves query options for `model` (`safe`: texts HTML-escaped, as every field but
/// `select` shows them). `None` when the options are not a query.
pub fn resolve(
    scope: &Scope<'_>,
    model: Model,
    props: &Map<String, Value>,
    safe: bool,
) -> Option<Result<Vec<OptionItem>, QueryError>> {
    let settings = query_settings(props)?;
    let query = settings.get("query").and_then(Value::as_str)?.to_string();
    let tpl = |k: &str| settings.get(k).and_then(Value::as_str).map(str::to_string);
    let base = Scope {
        snap: scope.snap,
        gate: scope.gate,
        host: scope.host,
        kql: scope.kql,
        vars: scope.vars.clone(),
    }
    .for_model(model);
    let result = match base.eval(&query) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let items: Vec<(Val, &'static str, &'static str, &'static str)> = match result {
        Val::Pages(l) => l
            .into_iter()
            .map(|p| (Val::Page(p), "page", "{{ page.title }}", "{{ page.id }}"))
            .collect(),
        Val::Files(l) => l
            .into_iter()
            .map(|f| (Val::File(f), "file", "{{ file.filename }}", "{{ file.id }}"))
            .collect(),
        Val::Users(l) => l
            .into_iter()
            .map(|u| {
                (
                    Val::User(u),
                    "user",
                    "{{ user.username }}",
                    "{{ user.email }}",
                )
            })
            .collect(),
        Val::List(l) => l
            .into_iter()
            .map(|v| match v {
                Val::Map(_) => (v, "structureItem", "{{ item.title }}", "{{ item.id }}"),
                other => {
                    let mut m = indexmap::IndexMap::new();
                    m.insert("value".to_string(), other);
                    (
                        Val::Map(m),
                        "arrayItem",
                        "{{ item.value }}",
                        "{{ item.value }}",
                    )
                }
            })
            .collect(),
        Val::Map(m) => m
            .into_iter()
            .map(|(k, v)| {
                let mut o = indexmap::IndexMap::new();
                o.insert("key".to_string(), Val::Str(k));
                o.insert("value".to_string(), v);
                (
                    Val::Map(o),
                    "arrayItem",
                    "{{ item.value }}",
                    "{{ item.key }}",
                )
            })
            .collect(),
        other => {
            return Some(Err(QueryError::Argument(format!(
                "the options query gives {}, not a collection",
                other.class()
            ))));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (item, alias, text_default, value_default) in items {
        let s = Scope {
            snap: scope.snap,
            gate: scope.gate,
            host: scope.host,
            kql: scope.kql,
            vars: base.vars.clone(),
        }
        .bind("item", item.clone())
        .bind(alias, item);
        let value = s.template(
            &tpl("value").unwrap_or(value_default.into()),
            false,
            Some(""),
        );
        let text = s.template(&tpl("text").unwrap_or(text_default.into()), safe, Some(""));
        let icon = tpl("icon").map(|t| s.template(&t, false, Some("")));
        let info = tpl("info").map(|t| s.template(&t, safe, Some("")));
        out.push(OptionItem {
            value,
            text,
            icon,
            info,
        });
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_from_both_spellings() {
        let legacy = json!({"options": "query", "query": "site.children"});
        let s = query_settings(legacy.as_object().unwrap()).unwrap();
        assert_eq!(s["query"], "site.children");
        let typed = json!({"options": {"type": "query", "fetch": "page.images", "text": "{{ file.name }}"}});
        let s = query_settings(typed.as_object().unwrap()).unwrap();
        assert_eq!(s["query"], "page.images");
        assert_eq!(s["text"], "{{ file.name }}");
        let fixed = json!({"options": ["a", "b"]});
        assert!(query_settings(fixed.as_object().unwrap()).is_none());
        assert!(!is_dynamic(fixed.as_object().unwrap()));
        let api = json!({"options": {"type": "api", "url": "https://x"}});
        assert!(is_dynamic(api.as_object().unwrap()));
        assert!(query_settings(api.as_object().unwrap()).is_none());
    }
}
