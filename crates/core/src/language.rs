//! Languages: the `site/languages/<code>.php` files that make a site multi-language, their
//! slug transliteration rules, and which content file a model reads and writes in each
//! language (`article.de.txt`). A site is multi-language as soon as one language file
//! returns an array; the `languages` option only switches the API routes on.

use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::format::php_array::{self, Key, Value};

/// PHP's `LC_*` constants as Linux numbers them.
const LOCALE_CATEGORIES: &[(&str, i64)] = &[
    ("LC_CTYPE", 0),
    ("LC_NUMERIC", 1),
    ("LC_TIME", 2),
    ("LC_COLLATE", 3),
    ("LC_MONETARY", 4),
    ("LC_MESSAGES", 5),
    ("LC_ALL", 6),
];

/// The number of an `LC_*` constant name.
pub fn locale_category(name: &str) -> Option<i64> {
    LOCALE_CATEGORIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, i)| *i)
}

/// The constant name of an `LC_*` number.
pub fn locale_category_name(n: i64) -> Option<&'static str> {
    LOCALE_CATEGORIES
        .iter()
        .find(|(_, i)| *i == n)
        .map(|(n, _)| *n)
}

/// One content language.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// The code in content file names and lookups (`de`).
    pub code: String,
    /// Display name (the code when the file has none).
    pub name: String,
    /// The file says `'default' => true`.
    pub default: bool,
    /// `rtl` or `ltr`.
    pub direction: &'static str,
    /// Locale per `LC_*` category number, in file order.
    pub locale: Vec<(i64, String)>,
    /// `url`: `None` means `/<code>`.
    pub url: Option<String>,
    /// Custom slug rules (`slugs`).
    pub slugs: Vec<(String, String)>,
    /// Language variables (`translations`), in file order.
    pub translations: serde_json::Map<String, serde_json::Value>,
    /// The whole file as read, so a rewrite keeps keys Folio does not model.
    pub source: Value,
}

impl Language {
    /// Reads a language file's value; `file_code` is the file name without `.php`.
    pub fn from_value(file_code: &str, value: Value) -> Option<Language> {
        value.as_array()?;
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        let code = text("code")
            .map(|c| c.trim().rsplit('/').next().unwrap_or("").to_string())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| file_code.to_string());
        let name = text("name")
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| code.clone());
        let default = matches!(value.get("default"), Some(Value::Bool(true)));
        let direction = if text("direction").as_deref() == Some("rtl") {
            "rtl"
        } else {
            "ltr"
        };
        let locale = match value.get("locale") {
            Some(Value::Str(s)) => vec![(6, s.clone())],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|(k, v)| {
                    let cat = match k {
                        Key::Int(i) => *i,
                        Key::Str(s) => locale_category(s)?,
                    };
                    Some((cat, v.as_str()?.to_string()))
                })
                .collect(),
            _ => vec![(6, code.clone())],
        };
        let pairs = |k: &str| -> Vec<(String, String)> {
            value
                .get(k)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|(k, v)| Some((k.to_string(), scalar(v)?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let translations = match value.get("translations").map(Value::to_json) {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        Some(Language {
            url: text("url"),
            slugs: pairs("slugs"),
            code,
            name,
            default,
            direction,
            locale,
            translations,
            source: value,
        })
    }

    /// The locale of one category: that category, else `LC_ALL`.
    pub fn locale_for(&self, category: i64) -> Option<&str> {
        let find = |c| {
            self.locale
                .iter()
                .find(|(k, _)| *k == c)
                .map(|(_, v)| v.as_str())
        };
        find(category).or_else(|| find(6))
    }

    /// The slug rules: the table of the locale's language, then the custom `slugs` over it.
    pub fn rules(&self) -> Vec<(String, String)> {
        let mut rules: IndexMap<String, String> = self
            .locale_for(0)
            .map(locale_rules)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for (k, v) in &self.slugs {
            rules.insert(k.clone(), v.clone());
        }
        rules.into_iter().collect()
    }

    /// The language's base URL under the site URL `base` (no trailing slash).
    pub fn url(&self, base: &str) -> String {
        match self.url.as_deref() {
            None => format!("{base}/{}", self.code),
            Some("/") | Some("") => base.to_string(),
            Some(u) if u.contains("://") => u.trim_end_matches('/').to_string(),
            Some(path) => format!("{base}{}", path.trim_end_matches('/')),
        }
    }

    /// The locale as Kirby's API shows it: keyed by category number (a list when the
    /// numbers are exactly 0, 1, …).
    pub fn locale_json(&self) -> serde_json::Value {
        let is_list = self
            .locale
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == i as i64);
        if is_list {
            serde_json::Value::Array(
                self.locale
                    .iter()
                    .map(|(_, v)| serde_json::Value::String(v.clone()))
                    .collect(),
            )
        } else {
            serde_json::Value::Object(
                self.locale
                    .iter()
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// A slug transliteration table: (from, to) in order.
pub type Rules = Vec<(String, String)>;

/// The transliteration tables Kirby ships (from cocur/slugify, MIT; see `rules/LICENSE`).
static RULE_FILES: &[(&str, &str)] = &[
    ("ar", include_str!("rules/ar.json")),
    ("az", include_str!("rules/az.json")),
    ("bg", include_str!("rules/bg.json")),
    ("cs", include_str!("rules/cs.json")),
    ("da", include_str!("rules/da.json")),
    ("de", include_str!("rules/de.json")),
    ("el", include_str!("rules/el.json")),
    ("eo", include_str!("rules/eo.json")),
    ("et", include_str!("rules/et.json")),
    ("fa", include_str!("rules/fa.json")),
    ("fi", include_str!("rules/fi.json")),
    ("fr", include_str!("rules/fr.json")),
    ("hi", include_str!("rules/hi.json")),
    ("hr", include_str!("rules/hr.json")),
    ("hu", include_str!("rules/hu.json")),
    ("hy", include_str!("rules/hy.json")),
    ("is_IS", include_str!("rules/is_IS.json")),
    ("it", include_str!("rules/it.json")),
    ("iu", include_str!("rules/iu.json")),
    ("ja", include_str!("rules/ja.json")),
    ("ka", include_str!("rules/ka.json")),
    ("ko", include_str!("rules/ko.json")),
    ("lt", include_str!("rules/lt.json")),
    ("lv", include_str!("rules/lv.json")),
    ("mk", include_str!("rules/mk.json")),
    ("my", include_str!("rules/my.json")),
    ("nb", include_str!("rules/nb.json")),
    ("pl", include_str!("rules/pl.json")),
    ("pt_BR", include_str!("rules/pt_BR.json")),
    ("ro", include_str!("rules/ro.json")),
    ("ru", include_str!("rules/ru.json")),
    ("sr", include_str!("rules/sr.json")),
    ("sv_SE", include_str!("rules/sv_SE.json")),
    ("tr", include_str!("rules/tr.json")),
    ("uk", include_str!("rules/uk.json")),
    ("vi", include_str!("rules/vi.json")),
    ("zh", include_str!("rules/zh.json")),
];

static RULES: LazyLock<std::sync::Mutex<IndexMap<&'static str, Rules>>> =
    LazyLock::new(Default::default);

fn rule_table(name: &str) -> Option<Vec<(String, String)>> {
    let (key, src) = RULE_FILES.iter().find(|(n, _)| *n == name)?;
    let mut cache = RULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = cache.get(key) {
        return Some(t.clone());
    }
    let parsed: IndexMap<String, String> = serde_json::from_str(src).unwrap_or_default();
    let table: Vec<(String, String)> = parsed.into_iter().collect();
    cache.insert(key, table.clone());
    Some(table)
}

/// The rule table of a locale (`de_DE.utf-8` → `de_DE`, else `de`), empty when none.
pub fn locale_rules(locale: &str) -> Vec<(String, String)> {
    let base = locale.split('.').next().unwrap_or("");
    rule_table(base)
        .or_else(|| rule_table(base.split('_').next().unwrap_or("")))
        .unwrap_or_default()
}

/// The languages of a site, alphabetical by file name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Languages {
    /// Every language.
    pub list: Vec<Language>,
    /// Index of the default language in `list` (the one flagged `true`, else the first).
    pub default: usize,
}

impl Languages {
    /// Reads `site/languages/*.php`; files that do not return an array are skipped (with a
    /// warning when they cannot be parsed).
    pub fn load(dir: &Path) -> (Languages, Vec<String>) {
        let mut warnings = Vec::new();
        let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        let code = name.strip_suffix(".php")?.to_string();
                        (!name.starts_with('.')).then(|| (code, e.path()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut list = Vec::new();
        for (code, path) in files {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|s| php_array::parse_file(&s).map_err(|e| e.to_string()));
            match parsed {
                Ok(v) => {
                    if let Some(l) = Language::from_value(&code, v) {
                        list.push(l);
                    }
                }
                Err(e) => warnings.push(format!("languages/{code}.php: {e}")),
            }
        }
        let flagged: Vec<usize> = (0..list.len()).filter(|i| list[*i].default).collect();
        if flagged.len() > 1 {
            warnings.push(format!(
                "several languages are marked as default ({}); Kirby refuses such a site, Folio uses the first",
                flagged
                    .iter()
                    .map(|i| list[*i].code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let default = flagged.first().copied().unwrap_or(0);
        (Languages { list, default }, warnings)
    }

    /// True when the site has at least one language.
    pub fn is_multilang(&self) -> bool {
        !self.list.is_empty()
    }

    /// The default language.
    pub fn default_language(&self) -> Option<&Language> {
        self.list.get(self.default)
    }

    /// The default language's code.
    pub fn default_code(&self) -> Option<&str> {
        self.default_language().map(|l| l.code.as_str())
    }

    /// A language by code as Kirby's collection finds it: exact, else lower case.
    pub fn find(&self, code: &str) -> Option<usize> {
        self.list.iter().position(|l| l.code == code).or_else(|| {
            let lower = code.to_lowercase();
            self.list.iter().position(|l| l.code == lower)
        })
    }

    /// The code of language `i`.
    pub fn code(&self, i: usize) -> &str {
        &self.list[i].code
    }
}

/// The content file of a model in a language: `<dir>/<stem>.<code>.txt`, or
/// `<dir>/<stem>.txt` on a single-language site (`code` = `None`).
pub fn content_file(dir: &Path, stem: &str, code: Option<&str>) -> PathBuf {
    match code {
        Some(c) => dir.join(format!("{stem}.{c}.txt")),
        None => dir.join(format!("{stem}.txt")),
    }
}

/// Kirby's key-level overlay of a translation over the default content: the default's
/// keys in their order (the translation's value wins, even when empty), then keys only the
/// translation has; `lock` is dropped.
pub fn overlay(base: &crate::model::Content, own: &crate::model::Content) -> crate::model::Content {
    let mut out = base.clone();
    for (k, v) in own {
        out.insert(k.clone(), v.clone());
    }
    out.shift_remove("lock");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(src: &str, code: &str) -> Language {
        Language::from_value(code, php_array::parse_file(src).unwrap()).unwrap()
    }

    #[test]
    fn defaults_come_from_the_file_name() {
        let l = lang("<?php return ['locale' => 'fr_FR'];", "fr");
        assert_eq!((l.code.as_str(), l.name.as_str()), ("fr", "fr"));
        assert!(!l.default);
        assert_eq!(l.direction, "ltr");
        assert_eq!(l.locale_json(), serde_json::json!({"6": "fr_FR"}));
        assert_eq!(l.url("http://x"), "http://x/fr");
    }

    #[test]
    fn locale_arrays_use_category_numbers() {
        let l = lang(
            "<?php return ['code' => 'de', 'default' => 'true', 'direction' => 'RTL', 'locale' => ['LC_ALL' => 'de_DE.utf-8', 'LC_TIME' => 'de_AT'], 'url' => '/'];",
            "de",
        );
        assert!(!l.default, "only the boolean true marks the default");
        assert_eq!(l.direction, "ltr");
        assert_eq!(
            l.locale_json(),
            serde_json::json!({"6": "de_DE.utf-8", "2": "de_AT"})
        );
        assert_eq!(l.url("http://x"), "http://x");
        let ctype = lang("<?php return ['locale' => ['LC_CTYPE' => 'nl_NL']];", "nl");
        assert_eq!(ctype.locale_json(), serde_json::json!(["nl_NL"]));
    }

    #[test]
    fn rules_follow_the_locale_and_custom_slugs_win() {
        let l = lang(
            "<?php return ['locale' => 'de_DE.utf-8', 'slugs' => ['ß' => 'sz']];",
            "de",
        );
        let rules = l.rules();
        assert!(rules.contains(&("ä".into(), "ae".into())));
        assert!(rules.contains(&("ß".into(), "sz".into())));
        assert!(
            lang("<?php return ['locale' => 'en_US.utf-8'];", "en")
                .rules()
                .is_empty()
        );
        assert!(!lang("<?php return [];", "ar").rules().is_empty());
    }

    #[test]
    fn overlay_keeps_the_default_order_and_empty_values() {
        let base = crate::format::txt::decode("Title: A\n\n----\n\nText: B\n\n----\n\nUuid: x");
        let own = crate::format::txt::decode("Slug: s\n\n----\n\nText: \n\n----\n\nLock: u");
        let merged = overlay(&base, &own);
        let keys: Vec<&str> = merged.keys().map(String::as_str).collect();
        assert_eq!(keys, ["title", "text", "uuid", "slug"]);
        assert_eq!(merged["text"], "");
    }
}
