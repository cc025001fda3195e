//! Folio's configuration: Kirby's option names, read in layers — `site/config/config.php`
//! (a literal-only PHP array; code is skipped with a warning), then `site/config/folio.toml`,
//! then `FOLIO_*` environment variables, then `--set option=value` flags.

use anyhow::{Context, bail};
use indexmap::IndexMap;
use serde_json::Value;
use std::path::Path;

use folio_core::format::php_array;

/// Options Folio understands, with Kirby's defaults. Also used to map environment variable
/// names (which lose case) back to option names.
fn defaults() -> Vec<(&'static str, Value)> {
    use serde_json::json;
    vec![
        ("debug", json!(false)),
        ("url", Value::Null),
        ("home", json!("home")),
        ("error", json!("error")),
        ("api", json!(true)),
        ("api.slug", json!("api")),
        ("api.basicAuth", json!(false)),
        ("api.allowInsecure", json!(false)),
        ("api.csrf", Value::Null),
        ("auth.trials", json!(10)),
        ("auth.timeout", json!(3600)),
        ("auth.debug", json!("log")),
        ("auth.methods", json!(["password"])),
        ("session.durationNormal", json!(7200)),
        ("session.durationLong", json!(1_209_600)),
        ("session.timeout", json!(1800)),
        ("session.cookieName", json!("kirby_session")),
        ("session.cookieDomain", Value::Null),
        ("session.gcInterval", json!(100)),
        ("cookie.key", json!("KirbyHttpCookieKey")),
        ("content.salt", Value::Null),
        ("content.uuid", json!(true)),
        ("yaml.handler", json!("spyc")),
        ("yaml.params.inline", json!(9999)),
        ("yaml.params.indent", json!(2)),
        ("panel.dev", json!(false)),
        ("panel.kirbytext", json!(true)),
        ("panel.language", json!("en")),
        ("pagination.limit", json!(20)),
        ("languages", json!(false)),
        ("folio.maxBodySize", json!(16 * 1024 * 1024)),
        ("folio.trustedProxies", json!([])),
        ("session.store", json!("file")),
        ("folio.responseCache", json!(20_000)),
    ]
}

/// A declarative extra route (the replacement for Kirby's PHP-closure routes).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RouteDef {
    /// Path pattern without leading slash (`csrf`).
    pub pattern: String,
    /// HTTP method (default GET).
    #[serde(default = "default_method")]
    pub method: String,
    /// `json`, `html` or `text`: decides the content type.
    #[serde(default = "default_type", rename = "type")]
    pub kind: String,
    /// Body template; `{{ csrf() }}` is replaced by the session's CSRF token.
    pub body: String,
}

fn default_method() -> String {
    "GET".into()
}
fn default_type() -> String {
    "json".into()
}

/// The effective configuration.
#[derive(Clone, Default)]
pub struct Config {
    values: IndexMap<String, Value>,
    /// Extra routes from `folio.toml`.
    pub routes: Vec<RouteDef>,
    /// Human-readable notes from loading (skipped PHP code, unknown env vars).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets (cookie key, fixed CSRF token).
        let mut m = f.debug_map();
        for (k, v) in &self.values {
            if k == "cookie.key" || k == "api.csrf" || k.contains("password") {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl Config {
    /// Loads every layer for a Kirby install root.
    pub fn load(root: &Path, sets: &[String]) -> anyhow::Result<Self> {
        let mut cfg = Config::default();
        for (k, v) in defaults() {
            cfg.values.insert(k.to_string(), v);
        }
        let dir = root.join("site").join("config");
        let php = dir.join("config.php");
        if php.exists() {
            let src = std::fs::read_to_string(&php)
                .with_context(|| format!("reading {}", php.display()))?;
            let parsed = php_array::parse_file(&src)
                .map_err(|e| anyhow::anyhow!("site/config/config.php: {e}"))?;
            for path in parsed.code_paths() {
                cfg.warnings.push(format!(
                    "site/config/config.php: skipped option `{path}`: it is PHP code, which Folio does not run"
                ));
            }
            let mut json = parsed.to_json();
            if let Some(obj) = json.as_object_mut()
                && obj.remove("routes").is_some()
            {
                cfg.warnings.push(
                    "site/config/config.php: `routes` are PHP closures; declare routes in site/config/folio.toml".into(),
                );
            }
            cfg.merge_json("", &json);
        }
        let toml_path = dir.join("folio.toml");
        if toml_path.exists() {
            let src = std::fs::read_to_string(&toml_path)
                .with_context(|| format!("reading {}", toml_path.display()))?;
            let table: toml::Table = src
                .parse()
                .map_err(|e| anyhow::anyhow!("site/config/folio.toml: {e}"))?;
            let mut json = serde_json::to_value(&table)?;
            if let Some(routes) = json.as_object_mut().and_then(|o| o.remove("routes")) {
                cfg.routes = serde_json::from_value(routes)
                    .context("site/config/folio.toml: invalid [[routes]]")?;
            }
            cfg.merge_json("", &json);
        }
        for (name, value) in std::env::vars() {
            let Some(rest) = name.strip_prefix("FOLIO_") else {
                continue;
            };
            if matches!(rest, "LISTEN" | "ROOT" | "LOG") {
                continue;
            }
            let key = cfg.option_from_env(rest);
            cfg.set(&key, parse_scalar(&value));
        }
        for s in sets {
            let Some((k, v)) = s.split_once('=') else {
                bail!("--set expects option=value, got `{s}`");
            };
            let k = k.trim();
            if k.is_empty() {
                bail!("--set expects option=value, got `{s}`");
            }
            cfg.set(k, parse_scalar(v.trim()));
        }
        Ok(cfg)
    }

    fn merge_json(&mut self, prefix: &str, v: &Value) {
        match v {
            Value::Object(o) if !o.is_empty() => {
                for (k, x) in o {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    self.merge_json(&key, x);
                }
            }
            _ if !prefix.is_empty() => self.set(prefix, v.clone()),
            _ => {}
        }
    }

    /// Sets one option (dotted name); a nested object is flattened.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(_) = value {
            self.merge_json(key, &value);
            return;
        }
        // A scalar replaces any nested keys below it, and the parent scalar above it
        // (`api => false` vs `api.slug`): keep both, lookups prefer the most specific key.
        let prefix = format!("{key}.");
        self.values.retain(|k, _| !k.starts_with(&prefix));
        self.values.insert(key.to_string(), value);
    }

    fn option_from_env(&self, env: &str) -> String {
        let wanted = env.to_ascii_lowercase().replace("__", ".");
        self.values
            .keys()
            .find(|k| k.to_ascii_lowercase() == wanted)
            .cloned()
            .unwrap_or(wanted)
    }

    /// Kirby's strict `=== true` test.
    pub fn is_true(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(Value::Bool(true)))
    }

    /// Whether an option is set to exactly `false`.
    pub fn is_false(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some(Value::Bool(false)))
    }

    /// PHP-style truthiness.
    pub fn truthy(&self, key: &str) -> bool {
        match self.values.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64() != Some(0.0),
            Some(Value::String(s)) => !s.is_empty() && s != "0",
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
        }
    }

    /// An integer option (falls back to `default` when missing or not a number).
    pub fn int(&self, key: &str, default: i64) -> i64 {
        match self.values.get(key) {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
            _ => default,
        }
    }

    /// A duration option in seconds (whole or fractional); `default` when missing, not a
    /// number, or not positive. Capped at one day.
    pub fn seconds(&self, key: &str, default: f64) -> std::time::Duration {
        let v = match self.values.get(key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let secs = v.filter(|x| x.is_finite() && *x > 0.0).unwrap_or(default);
        std::time::Duration::from_secs_f64(secs.min(86_400.0))
    }

    /// A string option.
    pub fn string(&self, key: &str) -> Option<String> {
        match self.values.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl Config {
    /// The string options below `prefix` (`folio.static` → `("/headless", "../headless")`),
    /// by the rest of their name.
    pub fn strings_below(&self, prefix: &str) -> Vec<(String, String)> {
        let p = format!("{prefix}.");
        self.values
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&p)?.to_string(), v.as_str()?.to_string())))
            .collect()
    }

    /// Whether any option is set at or below `prefix` (`kql` → `kql.auth`, `kql.methods…`).
    pub fn has_below(&self, prefix: &str) -> bool {
        let p = format!("{prefix}.");
        self.values.keys().any(|k| k == prefix || k.starts_with(&p))
    }

    /// A list of strings (a JSON list, or a comma-separated string).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.values.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses a `--set` / environment value: booleans, null, integers and floats, JSON arrays
/// and objects; anything else is a string.
pub fn parse_scalar(s: &str) -> Value {
    match s {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
        && s.contains('.')
    {
        return Value::from(f);
    }
    if (s.starts_with('[') || s.starts_with('{'))
        && let Ok(v) = serde_json::from_str(s)
    {
        return v;
    }
    Value::String(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_flattening() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("site/config");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(
            conf.join("config.php"),
            "<?php return ['api' => ['basicAuth' => true, 'slug' => 'rest'], 'ready' => function () { return []; }];",
        )
        .unwrap();
        std::fs::write(
            conf.join("folio.toml"),
            "[api]\nallowInsecure = true\n[[routes]]\npattern = \"csrf\"\nbody = '{}'\n",
        )
        .unwrap();
        let cfg = Config::load(dir.path(), &["api.slug=api2".into(), "debug=true".into()]).unwrap();
        assert!(cfg.is_true("api.basicAuth"));
        assert!(cfg.is_true("api.allowInsecure"));
        assert!(cfg.is_true("debug"));
        assert_eq!(cfg.string("api.slug").as_deref(), Some("api2"));
        assert_eq!(cfg.routes.len(), 1);
        assert_eq!(cfg.routes[0].method, "GET");
        assert!(
            cfg.warnings.iter().any(|w| w.contains("ready")),
            "{:?}",
            cfg.warnings
        );
        assert!(Config::load(dir.path(), &["novalue".into()]).is_err());
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_scalar("false"), Value::Bool(false));
        assert_eq!(parse_scalar("12"), Value::from(12));
        assert_eq!(parse_scalar("rest"), Value::from("rest"));
    }
}
