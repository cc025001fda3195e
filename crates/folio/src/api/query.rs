//! `query`: KQL's `/api/query` (GET and POST), the headless API of the `getkirby/kql`
//! plugin, answered by the one query language with KQL's rules and Folio's read
//! permissions (see `folio_core::query::kql`).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use folio_core::permissions::Actor;
use folio_core::query::{Gate, Scope, kql};

use super::extract::Query;
use super::reply::{ApiResult, Reply};
use super::request::parse_query;
use super::table::{Doc, Table};

/// The routes of this resource.
pub fn routes() -> Table {
    Table::new("query")
        .get(
            "/query",
            run_query,
            Doc::new("Runs a KQL query given in the query string").bare(),
        )
        .post(
            "/query",
            run_query,
            Doc::new("Runs KQL queries: `query`, `select`, `pagination` or `queries`")
                .fields(schema)
                .bare(),
        )
}

/// The request body KQL reads.
fn schema() -> Value {
    let select = json!({"oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"oneOf": [
            {"type": "boolean"}, {"type": "string"}, {"type": "object"}
        ]}}
    ]});
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "select": select,
            "pagination": {
                "type": "object",
                "properties": {
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "page": {"type": "integer", "minimum": 1, "maximum": 1000}
                }
            }
        }
    })
}

/// Kirby's `request()->get()`: the body's fields, then the query string's (which win), with
/// PHP's `a[b][]=c` brackets.
fn input(call: &super::extract::Call) -> Value {
    let form = call.req.header("content-type").is_some_and(|c| {
        c.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    let body = if form {
        php_query(&parse_query(&String::from_utf8_lossy(&call.req.body)))
    } else {
        call.req.body()
    };
    let mut data = match body {
        Value::Object(o) => o,
        Value::Array(a) if call.req.query.is_empty() => return Value::Array(a),
        _ => Map::new(),
    };
    if let Value::Object(q) = php_query(&parse_query(&call.req.raw_query)) {
        for (k, v) in q {
            data.insert(k, v);
        }
    }
    Value::Object(data)
}

/// PHP's parsing of a query string into nested arrays (`select[]=title`,
/// `pagination[limit]=2`).
pub fn php_query(pairs: &[(String, String)]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let (head, rest) = match key.find('[') {
            Some(i) if key.ends_with(']') => (&key[..i], &key[i..]),
            _ => (key.as_str(), ""),
        };
        if head.is_empty() {
            continue;
        }
        let mut path: Vec<String> = vec![head.to_string()];
        let mut r = rest;
        while let Some(stripped) = r.strip_prefix('[') {
            let Some(end) = stripped.find(']') else { break };
            path.push(stripped[..end].to_string());
            r = &stripped[end + 1..];
        }
        insert(&mut root, &path, Value::String(value.clone()));
    }
    root
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    if !node.is_object() && !node.is_array() {
        *node = Value::Object(Map::new());
    }
    // PHP arrays: `[]` appends; lists become maps when given a name
    if let Value::Array(list) = node {
        if first.is_empty() || first.parse::<usize>().ok() == Some(list.len()) {
            list.push(Value::Null);
            let last = list.len() - 1;
            return insert(&mut list[last], rest, value);
        }
        let map: Map<String, Value> = std::mem::take(list)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect();
        *node = Value::Object(map);
    }
    if let Value::Object(map) = node {
        if first.is_empty() {
            if map.is_empty() {
                *node = Value::Array(Vec::new());
                return insert(node, path, value);
            }
            let next = (0..).find(|i: &usize| !map.contains_key(&i.to_string()));
            let k = next.unwrap_or(0).to_string();
            let slot = map.entry(k).or_insert(Value::Null);
            return insert(slot, rest, value);
        }
        let slot = map.entry(first.clone()).or_insert(Value::Null);
        insert(slot, rest, value);
    }
}

async fn run_query(Query(call): Query) -> ApiResult {
    let input = input(&call);
    let settings = &call.state.app.settings;
    let user = match &call.actor {
        Actor::User(id) => call.snap.user_by_id(id),
        _ => None,
    };
    let policy = settings.kql.for_user(user);
    let v = call.v();
    let gate = if settings.kql_auth {
        Gate::Actor(&call.actor)
    } else {
        Gate::Public
    };
    let mut scope = Scope::new(&call.snap, gate).with_host(&v);
    scope.kql = Some(&policy);
    if let Some(u) = user {
        scope = scope.bind("user", folio_core::query::Val::User(u));
    }
    let result = kql::run(&scope, &input).map_err(|e| call.err(kql::to_error(&e)))?;
    Ok(Reply::json(
        StatusCode::OK,
        json!({"code": 200, "result": result, "status": "ok"}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        parse_query(q)
    }

    #[test]
    fn php_brackets_nest() {
        assert_eq!(
            php_query(&pairs(
                "query=site.children&select[]=title&select[]=url&pagination[limit]=2"
            )),
            json!({"query": "site.children", "select": ["title", "url"], "pagination": {"limit": "2"}})
        );
        assert_eq!(
            php_query(&pairs("select[title]=true&select[text]=page.text.upper")),
            json!({"select": {"title": "true", "text": "page.text.upper"}})
        );
        assert_eq!(php_query(&pairs("a=1&a=2")), json!({"a": "2"}));
    }
}
