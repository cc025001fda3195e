//! `GET /api/system` and the translation routes. Folio does not ship Kirby's Panel UI
//! strings: translations carry Folio's own small English string table instead (a documented
//! difference), while ids, names, directions and locales match Kirby's list.

use serde_json::{Map, Value, json};

use folio_core::Error;
use folio_core::permissions::{Actor, Target, can};
use folio_wire::credentials::{is_basic, parse_basic};

use super::extract::{Call, Open};
use super::lookup::collection;
use super::reply::{ApiResult, Reply};
use super::table::{Doc, Table};
use super::views::{Plan, V};
use crate::auth::password::{Check, validate_password};

/// The routes of this resource (open: no gate).
pub fn routes() -> Table {
    Table::new("system")
        .get(
            "/system",
            get_system,
            Doc::new("The installation's state (what the Panel needs before sign-in)").open(),
        )
        .get(
            "/translations",
            get_translations,
            Doc::new("The interface translations").open().collection(),
        )
        .get(
            "/translations/{code}",
            get_translation,
            Doc::new("One interface translation").open(),
        )
}

/// `GET system`: the `panel` view for a logged-in user, else the `login` view. Installable
/// from loopback or with `panel.install`.
async fn get_system(Open(call): Open) -> ApiResult {
    let who = soft_user(&call).await;
    let v = V {
        snap: &call.snap,
        actor: &who,
        base: &call.base,
    };
    let local = call.caller.peer.ip().is_loopback();
    let installable = local || call.state.app.settings.panel_install;
    let mut model = system(
        &v,
        call.snap.site.title(),
        installable,
        call.state.app.settings.languages,
    );
    if let (Plan::Select(list), Value::Object(all)) = (call.model_plan(), &mut model) {
        // Kirby answers a `select` in the model's own field order, not the request's.
        let picked: Map<String, Value> = std::mem::take(all)
            .into_iter()
            .filter(|(key, _)| list.contains(key))
            .collect();
        model = Value::Object(picked);
    }
    Ok(Reply::model(model))
}

/// `GET translations`.
async fn get_translations(Open(call): Open) -> ApiResult {
    let plan = call.collection_plan("compact");
    collection(
        &call,
        TRANSLATIONS
            .iter()
            .filter_map(|t| translation(t.0, &plan))
            .collect(),
    )
    .map_err(|e| call.err(e))
}

/// `GET translations/<code>`.
async fn get_translation(Open(call): Open) -> ApiResult {
    translation(call.param(0), &call.model_plan())
        .map(Reply::model)
        .ok_or_else(|| call.err(Error::NullResult))
}

/// The user of a route without the gate (`GET system`): Basic if valid, else the session's
/// user; never an error.
async fn soft_user(call: &Call) -> Actor {
    let auth = &call.state.auth;
    let settings = &call.state.app.settings;
    if settings.basic_auth
        && (call.caller.https || settings.allow_insecure)
        && let Some(h) = call.req.header("authorization").filter(|h| is_basic(h))
    {
        return match parse_basic(h) {
            Some((email, pw)) => {
                match validate_password(
                    auth,
                    &call.snap,
                    call.caller.ip,
                    &email,
                    &pw,
                    Check::Cached,
                )
                .await
                {
                    Ok(u) => Actor::user(&call.snap, u),
                    Err(_) => Actor::Nobody,
                }
            }
            None => Actor::Nobody,
        };
    }
    let user = call.session.lock().user(&call.snap);
    match user {
        Some(u) => Actor::user(&call.snap, u),
        None => Actor::Nobody,
    }
}

/// Kirby's 34 Panel languages: (id, name, direction, locale).
pub const TRANSLATIONS: &[(&str, &str, &str, &str)] = &[
    ("bg", "Български", "ltr", "bg_BG"),
    ("bs", "Bosanski", "ltr", "bs_BA"),
    ("ca", "Catalan", "ltr", "ca_ES"),
    ("cs", "Česky", "ltr", "cs_CZ"),
    ("da", "Dansk", "ltr", "da_DK"),
    ("de", "Deutsch", "ltr", "de_DE"),
    ("el", "Ελληνικά", "ltr", "el_GR"),
    ("en", "English", "ltr", "en_US"),
    ("eo", "Esperanto", "ltr", "eo"),
    ("es_419", "Español (América Latina)", "ltr", "es_419"),
    ("es_ES", "Español", "ltr", "es_ES"),
    ("fa", "انگلیسی", "rtl", "fa_IR"),
    ("fi", "Suomi", "ltr", "fi_FI"),
    ("fr", "Français", "ltr", "fr_FR"),
    ("hu", "Magyar", "ltr", "hu_HU"),
    ("id", "Bahasa Indonesia", "ltr", "id_ID"),
    ("is_IS", "Íslenska", "ltr", "is_IS"),
    ("it", "Italiano", "ltr", "it_IT"),
    ("ja", "Japanese", "ltr", "ja_JP"),
    ("ko", "한국어", "ltr", "ko_KR"),
    ("lt", "Lietuvių", "ltr", "lt_LT"),
    ("nb", "Norsk Bokmål", "ltr", "nb_NO"),
    ("nl", "Nederlands", "ltr", "nl_NL"),
    ("pl", "Polski", "ltr", "pl_PL"),
    ("pt_BR", "Português do Brasil", "ltr", "pt_BR"),
    ("pt_PT", "Português (Portugal)", "ltr", "pt_PT"),
    ("ro", "Română", "ltr", "ro_RO"),
    ("ru", "Русский (Russian)", "ltr", "ru_RU"),
    ("sk", "Slovensky", "ltr", "sk_SK"),
    ("sr@latin", "Srpski", "ltr", "sr_RS@latin"),
    ("sv_SE", "Svenska", "ltr", "sv_SE"),
    ("tr", "Türkçe", "ltr", "tr_TR"),
    ("uk", "Українська (Ukrainian)", "ltr", "uk_UA"),
    ("zh_TW", "正體中文", "ltr", "zh_TW"),
];

/// Folio's own UI strings (English), standing in for Kirby's Panel translation tables.
const STRINGS: &[(&str, &str)] = &[
    ("error.access.login", "Invalid login"),
    (
        "error.access.panel",
        "You are not allowed to access the panel",
    ),
    ("error.auth", "Unauthenticated"),
    ("error.page.notFound", "The page \"{slug}\" cannot be found"),
    (
        "error.file.notFound",
        "The file \"{filename}\" cannot be found",
    ),
    ("error.user.notFound", "The user \"{name}\" cannot be found"),
    ("login", "Log in"),
    ("logout", "Log out"),
    ("email", "Email"),
    ("password", "Password"),
    ("save", "Save"),
    ("cancel", "Cancel"),
    ("site", "Site"),
    ("pages", "Pages"),
    ("files", "Files"),
    ("users", "Users"),
    ("title", "Title"),
];

fn strings() -> Value {
    Value::Object(
        STRINGS
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

/// A translation model (`compact` = direction, id, name; default = every field).
pub fn translation(id: &str, plan: &Plan) -> Option<Value> {
    let (tid, name, dir, _) = TRANSLATIONS.iter().find(|t| t.0 == id)?;
    let all = [
        ("author", json!("Kirby Team")),
        ("data", strings()),
        ("direction", json!(dir)),
        ("id", json!(tid)),
        ("name", json!(name)),
    ];
    let names: Vec<&str> = match plan {
        Plan::Select(list) => list.iter().map(String::as_str).collect(),
        Plan::View(v) if v == "compact" => vec!["direction", "id", "name"],
        _ => all.iter().map(|(k, _)| *k).collect(),
    };
    let mut m = Map::new();
    for (k, v) in all {
        if names.contains(&k) {
            m.insert(k.to_string(), v);
        }
    }
    Some(Value::Object(m))
}

/// The System model: `panel` view for a logged-in user, else the `login` view.
pub fn system(v: &V<'_>, title: &str, installable: bool, multilang: bool) -> Value {
    let translation = translation("en", &Plan::Default).unwrap_or(Value::Null);
    let Some(u) = v.actor.user_idx(v.snap) else {
        return json!({
            "authStatus": {"challenge": null, "email": null, "mode": null, "status": "inactive"},
            "isInstallable": installable,
            "isInstalled": !v.snap.users.is_empty(),
            "isOk": true,
            "loginMethods": ["password"],
            "title": title,
            "translation": translation,
        });
    };
    let system_access = can(v.snap, v.actor, Target::Area("access"), "system");
    let license = if system_access {
        json!({"code": null, "status": "missing", "type": "Unregistered"})
    } else {
        json!({"code": null, "status": null, "type": null})
    };
    let locales: Map<String, Value> = TRANSLATIONS
        .iter()
        .map(|(id, _, _, locale)| (id.to_string(), json!(locale)))
        .collect();
    let ascii: Map<String, Value> = [
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("ø", "o"),
        ("å", "a"),
    ]
    .iter()
    .map(|(k, x)| (k.to_string(), json!(x)))
    .collect();
    let languages = &v.snap.languages;
    // The Panel language: the default content language's (`xx-yy` → `xx`), else English.
    let panel_language = languages
        .default_code()
        .map(|c| c.split('-').next().unwrap_or(c).to_string())
        .unwrap_or_else(|| "en".into());
    let slugs = crate::api::views::rules_json(&v.snap.slug_rules());
    json!({
        "ascii": ascii,
        "defaultLanguage": panel_language,
        "isInstalled": true,
        "isLocal": true,
        "isOk": true,
        "kirbytext": true,
        "languages": v.languages(),
        "license": license,
        "locales": locales,
        "multilang": multilang,
        "requirements": {"accounts": true, "content": true, "curl": true, "sessions": true, "mbstring": true, "media": true, "php": true},
        "site": title,
        "slugs": slugs,
        "title": title,
        "translation": translation,
        "user": v.user(u, &Plan::View("auth".into())),
        "version": if system_access { json!("5.5.2") } else { Value::Null },
    })
}
