//! Kirby's role permission matrix as data: the categories and actions in Kirby's order, and
//! a role's resolved [`Permissions`] from its blueprint's `permissions:` value. Models hold
//! it; [`crate::permissions::can`] is the only code that reads it to decide anything.

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// Permission categories and their actions, in Kirby's output order.
pub const MATRIX: [(&str, &[&str]); 7] = [
    (
        "access",
        &["account", "languages", "panel", "site", "system", "users"],
    ),
    (
        "files",
        &[
            "access",
            "changeName",
            "changeTemplate",
            "create",
            "delete",
            "list",
            "read",
            "replace",
            "sort",
            "update",
        ],
    ),
    ("languages", &["create", "delete", "update"]),
    (
        "pages",
        &[
            "access",
            "changeSlug",
            "changeStatus",
            "changeTemplate",
            "changeTitle",
            "create",
            "delete",
            "duplicate",
            "list",
            "move",
            "preview",
            "read",
            "sort",
            "update",
        ],
    ),
    ("site", &["access", "changeTitle", "preview", "update"]),
    (
        "users",
        &[
            "access",
            "changeEmail",
            "changeLanguage",
            "changeName",
            "changePassword",
            "changeRole",
            "create",
            "delete",
            "list",
            "update",
        ],
    ),
    (
        "user",
        &[
            "access",
            "changeEmail",
            "changeLanguage",
            "changeName",
            "changePassword",
            "changeRole",
            "delete",
            "list",
            "update",
        ],
    ),
];

/// Page option keys in output order.
pub const PAGE_ACTIONS: &[&str] = MATRIX[3].1;
/// File option keys in output order.
pub const FILE_ACTIONS: &[&str] = MATRIX[1].1;
/// Site option keys in output order.
pub const SITE_ACTIONS: &[&str] = MATRIX[4].1;
/// User option keys in output order (Kirby's non-alphabetical order).
pub const USER_ACTIONS: &[&str] = &[
    "access",
    "create",
    "changeEmail",
    "changeLanguage",
    "changeName",
    "changePassword",
    "changeRole",
    "delete",
    "list",
    "update",
];

/// A role's full permission matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Permissions(IndexMap<&'static str, IndexMap<&'static str, bool>>);

impl Permissions {
    /// Every permission set to `value`.
    pub fn all(value: bool) -> Self {
        Permissions(
            MATRIX
                .iter()
                .map(|(c, acts)| (*c, acts.iter().map(|a| (*a, value)).collect()))
                .collect(),
        )
    }

    /// Resolves a role blueprint's `permissions:` value (PERMISSIONS.md §2.3).
    pub fn from_value(v: Option<&Value>) -> Result<Self, String> {
        match v {
            None | Some(Value::Null) | Some(Value::Bool(true)) => Ok(Self::all(true)),
            Some(Value::Bool(false)) => Ok(Self::all(false)),
            Some(Value::Object(o)) => {
                let wildcard = match o.get("*") {
                    None => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => return Err("permission '*' must be a boolean".into()),
                };
                let mut out = Self::all(true);
                for (cat, actions) in out.0.iter_mut() {
                    match o.get(*cat) {
                        None => {
                            if let Some(w) = wildcard {
                                actions.values_mut().for_each(|v| *v = w);
                            }
                        }
                        Some(Value::Bool(b)) => actions.values_mut().for_each(|v| *v = *b),
                        Some(Value::Null) => {}
                        Some(Value::Object(m)) => apply_category(actions, m, cat)?,
                        Some(_) => {
                            return Err(format!("permissions.{cat} must be a map or boolean"));
                        }
                    }
                }
                Ok(out)
            }
            Some(_) => Err("permissions must be a map or boolean".into()),
        }
    }

    /// The value of `category.action` (false when the key does not exist).
    pub fn get(&self, category: &str, action: &str) -> bool {
        self.0
            .get(category)
            .and_then(|c| c.get(action))
            .copied()
            .unwrap_or(false)
    }

    /// JSON form: every category and action in Kirby's order.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(c, acts)| {
                    let inner: Map<String, Value> = acts
                        .iter()
                        .map(|(a, v)| (a.to_string(), Value::Bool(*v)))
                        .collect();
                    (c.to_string(), Value::Object(inner))
                })
                .collect(),
        )
    }
}

fn apply_category(
    actions: &mut IndexMap<&'static str, bool>,
    m: &Map<String, Value>,
    cat: &str,
) -> Result<(), String> {
    if let Some(w) = m.get("*") {
        let w = w
            .as_bool()
            .ok_or_else(|| format!("permissions.{cat}.* must be a boolean"))?;
        actions.values_mut().for_each(|v| *v = w);
    }
    for (k, v) in m {
        if k == "*" {
            continue;
        }
        let b = v
            .as_bool()
            .ok_or_else(|| format!("permissions.{cat}.{k} must be a boolean"))?;
        if let Some(slot) = actions.get_mut(k.as_str()) {
            *slot = b;
        }
    }
    Ok(())
}
