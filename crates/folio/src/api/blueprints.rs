//! Blueprint views (`GET …/blueprint`): Kirby's normalised tab → column → section → field
//! layout, resolved `options` (every key, `null` when unset) and page status labels.

use serde_json::{Map, Value, json};

use folio_core::blueprint::{Blueprint, StatusOption, label_from_name};
use folio_core::model::{File, PageIdx, UserIdx};
use folio_core::permissions::{FILE_ACTIONS, PAGE_ACTIONS, SITE_ACTIONS, USER_ACTIONS};

use super::views::V;

impl V<'_> {
    /// PageBlueprint model of a page.
    pub fn page_blueprint(&self, p: PageIdx) -> Value {
        let page = &self.snap.pages[p];
        let bp = self.snap.blueprints.page(&page.template);
        let link = format!("/pages/{}", page.id.replace('/', "+"));
        let special = self.snap.is_home(p) || self.snap.is_error(p);
        let preview = match bp.raw.get("options").and_then(|o| o.get("preview")) {
            Some(Value::Bool(b)) => json!(b),
            Some(Value::String(s)) => json!(s),
            _ => json!(true),
        };
        json!({
            "name": bp.name,
            "num": bp.num,
            "options": options(&bp, PAGE_ACTIONS),
            "preview": preview,
            "status": status(&bp, special),
            "tabs": tabs(&bp, &link),
            "title": bp.title,
        })
    }

    /// SiteBlueprint model.
    pub fn site_blueprint(&self) -> Value {
        let bp = self.snap.blueprints.site();
        json!({
            "name": "site",
            "options": options(&bp, SITE_ACTIONS),
            "tabs": tabs(&bp, "/site"),
            "title": bp.title,
        })
    }

    /// UserBlueprint model of a user.
    pub fn user_blueprint(&self, u: UserIdx) -> Value {
        let user = &self.snap.users[u];
        let bp = match self.snap.blueprints.user(&user.role) {
            Some(bp) => bp.clone(),
            None => Blueprint::fallback(&format!("users/{}", user.role)),
        };
        let link = if self.actor.is(self.snap, u) {
            "/account".to_string()
        } else {
            format!("/users/{}", user.id)
        };
        json!({
            "name": bp.name,
            "options": options(&bp, USER_ACTIONS),
            "tabs": tabs(&bp, &link),
            "title": bp.title,
        })
    }

    /// FileBlueprint model of a file.
    pub fn file_blueprint(&self, f: &File) -> Value {
        let bp = self.snap.blueprints.file(f.template());
        json!({
            "name": bp.name,
            "options": options(&bp, FILE_ACTIONS),
            "tabs": tabs(&bp, &self.file_link(f)),
            "title": bp.title,
        })
    }
}

fn options(bp: &Blueprint, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| {
                (
                    k.to_string(),
                    bp.option(k).map(|o| o.to_json()).unwrap_or(Value::Null),
                )
            })
            .collect(),
    )
}

fn status(bp: &Blueprint, special: bool) -> Value {
    let defaults = |key: &str| match key {
        "draft" => (
            "Draft",
            "The page is in draft mode and only visible for logged in editors or via secret link",
        ),
        "unlisted" => ("Unlisted", "The page is only accessible via URL"),
        _ => ("Public", "The page is public for anyone"),
    };
    let mut out = Map::new();
    for (key, option) in bp.statuses(special) {
        let (label, text) = defaults(key);
        let entry = match option {
            StatusOption::Default => json!({"label": label, "text": text}),
            StatusOption::Label(l) => json!({"label": l, "text": null}),
            StatusOption::Custom { label: l, text: t } => json!({
                "label": l.unwrap_or(json!(label)),
                "text": t.unwrap_or(Value::Null),
            }),
        };
        out.insert(key.to_string(), entry);
    }
    Value::Object(out)
}

/// Kirby's normalised tabs for a blueprint, with Panel links under `link`.
pub(crate) fn tabs(bp: &Blueprint, link: &str) -> Value {
    let raw = bp.raw.as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    if let Some(Value::Object(tabs)) = raw.get("tabs") {
        for (name, tab) in tabs {
            let t = tab.as_object().cloned().unwrap_or_default();
            out.push(tab_json(name, &t, link, true));
        }
    } else {
        out.push(tab_json("main", &raw, link, false));
    }
    Value::Array(out)
}

fn tab_json(name: &str, t: &Map<String, Value>, link: &str, is_tab: bool) -> Value {
    // Kirby's precedence inside a tab: fields, then sections, then columns.
    let columns = if let Some(f) = t.get("fields") {
        let sname = format!("{name}-fields");
        let mut sections = Map::new();
        sections.insert(sname.clone(), fields_section(&sname, f));
        json!([{"width": "1/1", "sections": sections}])
    } else if let Some(Value::Object(s)) = t.get("sections") {
        let sections: Map<String, Value> = s
            .iter()
            .map(|(n, sec)| (n.clone(), section(n, sec)))
            .collect();
        json!([{"width": "1/1", "sections": sections}])
    } else {
        match t.get("columns") {
            Some(Value::Object(o)) => Value::Object(
                o.iter()
                    .map(|(cname, c)| (cname.clone(), column(name, cname, c)))
                    .collect(),
            ),
            Some(Value::Array(a)) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, c)| column(name, &i.to_string(), c))
                    .collect(),
            ),
            _ => Value::Array(Vec::new()),
        }
    };
    let label = t
        .get("label")
        .filter(|_| is_tab)
        .cloned()
        .unwrap_or_else(|| json!(label_from_name(name)));
    let icon = if is_tab {
        t.get("icon").cloned().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    // Kirby merges its keys into the tab's own props: `label`/`icon` written in the tab
    // keep their place before the added ones.
    let mut out = Map::new();
    if is_tab {
        for k in t.keys() {
            if k == "label" || k == "icon" {
                out.insert(k.clone(), Value::Null);
            }
        }
    }
    out.insert("columns".into(), columns);
    out.insert("icon".into(), icon);
    out.insert("label".into(), label);
    out.insert("link".into(), json!(format!("{link}/?tab={name}")));
    out.insert("name".into(), json!(name));
    Value::Object(out)
}

fn column(tab: &str, cname: &str, c: &Value) -> Value {
    let c = c.as_object().cloned().unwrap_or_default();
    let mut sections = Map::new();
    if let Some(f) = c.get("fields") {
        let sname = format!("{tab}-col-{cname}-fields");
        sections.insert(sname.clone(), fields_section(&sname, f));
    } else if let Some(Value::Object(s)) = c.get("sections") {
        for (sname, sec) in s {
            sections.insert(sname.clone(), section(sname, sec));
        }
    }
    json!({
        "width": c.get("width").cloned().unwrap_or(json!("1/1")),
        "sections": sections,
    })
}

fn fields_section(name: &str, fields: &Value) -> Value {
    json!({"type": "fields", "fields": normalize_fields(fields), "name": name})
}

fn section(name: &str, sec: &Value) -> Value {
    let mut s = sec.as_object().cloned().unwrap_or_default();
    if s.get("type").and_then(Value::as_str) == Some("fields")
        && let Some(f) = s.get("fields").cloned()
    {
        s.insert("fields".into(), normalize_fields(&f));
    }
    s.insert("name".into(), json!(name));
    Value::Object(s)
}

/// Kirby's `Blueprint::fieldsProps`: each field keeps its name as written (camelCase
/// included) and gets `name`, `label`, `type` and `width` after its own props (existing
/// keys keep their place). Without `type:` the name is the type when it is a field type;
/// otherwise the field becomes Kirby's error field.
fn normalize_fields(fields: &Value) -> Value {
    let Some(map) = fields.as_object() else {
        return Value::Array(Vec::new());
    };
    let mut out = Map::new();
    for (name, def) in map {
        let mut f = match def {
            Value::Object(o) => o.clone(),
            Value::Bool(false) => continue,
            _ => Map::new(),
        };
        let kind = match f.get("type").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None if folio_core::blueprint::FIELD_TYPES.contains(&name.as_str()) => name.clone(),
            None => {
                out.insert(
                    name.clone(),
                    json!({
                        "label": "Error",
                        "name": name,
                        "text": format!("Invalid field type (\"{name}\")"),
                        "theme": "negative",
                        "type": "info",
                    }),
                );
                continue;
            }
        };
        if let Some(nested) = f.get("fields").cloned() {
            f.insert("fields".into(), normalize_fields(&nested));
        }
        // Kirby injects the name into the props first, then adds the defaults.
        f.insert("name".into(), json!(name));
        if !f.contains_key("label") {
            f.insert("label".into(), json!(label_from_name(name)));
        }
        f.insert("type".into(), json!(kind));
        if !f.contains_key("width") {
            f.insert("width".into(), json!("1/1"));
        }
        out.insert(name.clone(), Value::Object(f));
    }
    Value::Object(out)
}
