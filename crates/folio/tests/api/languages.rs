//! Multi-language sites: the fixture converted the way Kirby converts a site when its first
//! language is added (`X.txt` → `X.en.txt`), plus German and Arabic. Reads overlay a
//! translation on the default language; every write touches only the files of the language
//! it is made in, which the tests check by diffing the whole tree after each write.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Request, Response, Server, Site, basic, png, tree_contents};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");

/// Renames every `X.txt` below `dir` to `X.<code>.txt`.
fn add_code(dir: &Path, code: &str) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            add_code(&path, code);
        } else if let Some(stem) = e.file_name().to_str().and_then(|n| n.strip_suffix(".txt")) {
            std::fs::rename(&path, dir.join(format!("{stem}.{code}.txt"))).unwrap();
        }
    }
}

fn language(root: &Path, code: &str, body: &str) {
    let dir = root.join("site/languages");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{code}.php")),
        format!("<?php\n\nreturn [\n{body}\n];"),
    )
    .unwrap();
}

/// The fixture as an English/German/Arabic site: German translations of a project and the
/// about page (with a translated slug); the project's `year` is `translate: false`.
fn multilang_site() -> Site {
    let site = Site::new();
    let root = &site.root;
    add_code(&root.join("content"), "en");
    add_code(&root.join("site/accounts"), "en");
    language(
        root,
        "en",
        "    'code' => 'en',\n    'default' => true,\n    'name' => 'English',\n    'locale' => 'en_US.utf-8'",
    );
    language(
        root,
        "de",
        "    'code' => 'de',\n    'name' => 'Deutsch',\n    'locale' => ['LC_ALL' => 'de_DE.utf-8'],\n    'slugs' => ['ß' => 'sz']",
    );
    language(
        root,
        "ar",
        "    'code' => 'ar',\n    'name' => 'العربية',\n    'direction' => 'rtl',\n    'locale' => 'ar_AE.utf-8'",
    );
    let project = root.join("site/blueprints/pages/project.yml");
    let yml = std::fs::read_to_string(&project).unwrap().replace(
        "      year:\n        type: number\n",
        "      year:\n        type: number\n        translate: false\n",
    );
    std::fs::write(&project, yml).unwrap();
    let map = root.join("content/2_projects/1_harbor-map");
    std::fs::write(
        map.join("project.de.txt"),
        "Title: Hafenkarte\n\n----\n\nSummary: Jede Boje im Hafen.\n\n----\n\nYear: 1999",
    )
    .unwrap();
    std::fs::write(map.join("map.jpg.de.txt"), "Alt: Karte").unwrap();
    std::fs::write(
        root.join("content/3_about/about.de.txt"),
        "Title: Über uns\n\n----\n\nSlug: ueber-uns",
    )
    .unwrap();
    site
}

fn send(
    server: &Server,
    method: &str,
    path: &str,
    lang: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut req = Request::new(method, path).header("Authorization", &basic(ADMIN));
    if let Some(l) = lang {
        req = req.header("X-Language", l);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    server.send(&req)
}

/// Paths (relative to the root) whose bytes differ between two trees, added or removed.
fn changed(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut out: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(after.keys().filter(|k| !before.contains_key(*k)).cloned());
    out.retain(|p| !p.starts_with("site/sessions") && !p.starts_with("site/cache"));
    out.sort();
    out
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn reads_overlay_the_translation_on_the_default_language() {
    let site = multilang_site();
    let server = Server::start_on(&site.root, &["languages=true"]);
    let path = "/api/pages/projects+harbor-map?select=title,slug,url,content";

    let de = send(&server, "GET", path, Some("de"), None).json();
    assert_eq!(de["data"]["title"], "Hafenkarte");
    assert_eq!(
        de["data"]["content"]["client"], "Town Council",
        "untranslated fields fall back"
    );
    assert_eq!(
        de["data"]["content"]["year"], 1999,
        "a hand-written translation wins on read"
    );
    let url = de["data"]["url"].as_str().unwrap();
    assert!(url.ends_with("/de/projects/harbor-map"), "{url}");

    for (how, lang) in [("?language=DE", None), ("", Some("DE"))] {
        let r = send(
            &server,
            "GET",
            &format!("{path}&{}", how.trim_start_matches('?')),
            lang,
            None,
        );
        assert_eq!(r.json()["data"]["title"], "Hafenkarte", "{how} {lang:?}");
    }
    let en = send(&server, "GET", path, None, None).json();
    assert_eq!(en["data"]["title"], "Harbor Map");
    assert!(
        en["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/en/projects/harbor-map")
    );
    let ar = send(&server, "GET", path, Some("ar"), None).json();
    assert_eq!(
        ar["data"]["title"], "Harbor Map",
        "no Arabic file: the default content"
    );
    let unknown = send(&server, "GET", path, Some("xx"), None).json();
    assert_eq!(
        unknown["data"]["title"], "Harbor Map",
        "an unknown language reads the default"
    );

    let about = send(
        &server,
        "GET",
        "/api/pages/about?select=slug,url,title",
        Some("de"),
        None,
    )
    .json();
    assert_eq!(about["data"]["slug"], "ueber-uns");
    assert!(
        about["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/de/ueber-uns")
    );
    let about = send(&server, "GET", "/api/pages/about?select=slug", None, None).json();
    assert_eq!(
        about["data"]["slug"], "about",
        "the default language uses the folder slug"
    );

    let langs = send(&server, "GET", "/api/languages", None, None).json();
    let codes: Vec<&str> = langs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ar", "de", "en"], "alphabetical, not default first");
    let de = send(&server, "GET", "/api/languages/DE", None, None).json();
    assert_eq!(de["data"]["locale"], json!({"6": "de_DE.utf-8"}));
    assert_eq!(
        de["data"]["rules"]["ß"], "sz",
        "custom slugs win over the locale's table"
    );
    assert_eq!(de["data"]["rules"]["ä"], "ae");
    let ar = send(&server, "GET", "/api/languages/ar", None, None).json();
    assert_eq!(ar["data"]["direction"], "rtl");
    let r = send(&server, "GET", "/api/languages/xx", None, None);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"status": "error", "message": "not found", "code": 404})
    );
}

/// Runs a write in `lang` and returns the paths it changed.
fn write(
    site: &Site,
    server: &Server,
    lang: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Vec<String> {
    let before = tree_contents(&site.root);
    let r = send(server, method, path, Some(lang), Some(body));
    assert_eq!(r.status, 200, "{method} {path} in {lang}: {}", r.text());
    changed(&before, &tree_contents(&site.root))
}

#[test]
fn writes_in_every_language_touch_only_that_languages_files() {
    let site = multilang_site();
    let server = Server::start_on(&site.root, &["languages=true"]);
    for lang in ["en", "de", "ar"] {
        let own = format!(".{lang}.txt");
        let writes: Vec<(&str, &str, Value)> = vec![
            (
                "PATCH",
                "/api/pages/projects+harbor-map",
                json!({"summary": format!("summary {lang}"), "year": 1950}),
            ),
            (
                "PATCH",
                "/api/pages/projects+harbor-map/title",
                json!({"title": format!("Map {lang}")}),
            ),
            (
                "PATCH",
                "/api/site",
                json!({"extra": format!("site {lang}")}),
            ),
            (
                "PATCH",
                "/api/site/title",
                json!({"title": format!("Society {lang}")}),
            ),
            (
                "PATCH",
                "/api/pages/projects+harbor-map/files/map.jpg",
                json!({"alt": format!("alt {lang}")}),
            ),
            (
                "PATCH",
                "/api/users/editor01",
                json!({"bio": format!("bio {lang}")}),
            ),
            (
                "POST",
                "/api/pages/contact/changes/save",
                json!({"text": format!("draft {lang}")}),
            ),
            ("POST", "/api/pages/contact/changes/publish", json!({})),
        ];
        for (method, path, body) in writes {
            let paths = write(&site, &server, lang, method, path, body);
            assert!(!paths.is_empty(), "{method} {path} in {lang} wrote nothing");
            for p in &paths {
                assert!(
                    p.ends_with(&own),
                    "{method} {path} in {lang} touched {p} (all changes: {paths:?})"
                );
            }
        }
        let r = send(
            &server,
            "GET",
            "/api/pages/projects+harbor-map?select=title,content",
            Some(lang),
            None,
        )
        .json();
        assert_eq!(r["data"]["title"], format!("Map {lang}"));
        assert_eq!(r["data"]["content"]["summary"], format!("summary {lang}"));
    }
    // `translate: false`: the default language's value, never stored in a translation.
    let map = "content/2_projects/1_harbor-map";
    assert!(read(&site.root, &format!("{map}/project.en.txt")).contains("Year: 1950"));
    for lang in ["de", "ar"] {
        let text = read(&site.root, &format!("{map}/project.{lang}.txt"));
        assert!(
            !text.contains("Year:") && !text.contains("Uuid:"),
            "{lang}: {text}"
        );
        assert!(
            text.starts_with(&format!("Title: Map {lang}")),
            "{lang}: {text}"
        );
    }
    // The first write of a translation copies the fallback values into it.
    let ar = read(&site.root, &format!("{map}/project.ar.txt"));
    assert!(ar.contains("Client: Town Council"), "{ar}");
    let en = send(
        &server,
        "GET",
        "/api/pages/projects+harbor-map?select=content",
        Some("en"),
        None,
    )
    .json();
    assert_eq!(
        en["data"]["content"]["summary"], "summary en",
        "other languages did not leak"
    );
}

#[test]
fn slugs_creates_and_uploads_in_a_translation() {
    let site = multilang_site();
    let server = Server::start_on(&site.root, &["languages=true"]);
    let root = &site.root;

    // A translated slug is a field of the translation; the folder stays.
    let paths = write(
        &site,
        &server,
        "de",
        "PATCH",
        "/api/pages/projects+harbor-map/slug",
        json!({"slug": "Straßenkarte"}),
    );
    assert_eq!(paths, ["content/2_projects/1_harbor-map/project.de.txt"]);
    let de = read(root, "content/2_projects/1_harbor-map/project.de.txt");
    assert!(
        de.starts_with("Title: Hafenkarte\n\n----\n\nSlug: straszenkarte"),
        "{de}"
    );
    let r = send(
        &server,
        "GET",
        "/api/pages/projects+harbor-map?select=slug,url",
        Some("de"),
        None,
    )
    .json();
    assert_eq!(r["data"]["slug"], "straszenkarte");
    assert!(
        r["data"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/de/projects/straszenkarte")
    );
    // A sibling's translated slug is taken.
    let r = send(
        &server,
        "PATCH",
        "/api/pages/projects+signal-tower/slug",
        Some("de"),
        Some(json!({"slug": "straszenkarte"})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["key"], "error.page.duplicate");
    // Back to the folder slug: the field goes.
    write(
        &site,
        &server,
        "de",
        "PATCH",
        "/api/pages/projects+harbor-map/slug",
        json!({"slug": "harbor-map"}),
    );
    assert!(!read(root, "content/2_projects/1_harbor-map/project.de.txt").contains("Slug:"));

    // A page created in German gets the default language's file only, slugged by the
    // German rules.
    let paths = write(
        &site,
        &server,
        "de",
        "POST",
        "/api/pages/projects/children",
        json!({"slug": "Brücke ß", "template": "project", "content": {"title": "Brücke"}}),
    );
    assert_eq!(
        paths,
        ["content/2_projects/_drafts/bruecke-sz/project.en.txt"]
    );
    // …or the translations it is given.
    let paths = write(
        &site,
        &server,
        "en",
        "POST",
        "/api/pages/projects/children",
        json!({
            "slug": "pier", "template": "project", "content": {"title": "Pier", "year": 2001},
            "translations": [{"code": "de", "content": {"title": "Steg", "year": 1900}, "slug": "steg"}]
        }),
    );
    assert_eq!(
        paths,
        [
            "content/2_projects/_drafts/pier/project.de.txt",
            "content/2_projects/_drafts/pier/project.en.txt"
        ]
    );
    assert_eq!(
        read(root, "content/2_projects/_drafts/pier/project.de.txt"),
        "Title: Steg\n\n----\n\nSlug: steg"
    );
    let before = tree_contents(root);
    let r = send(
        &server,
        "POST",
        "/api/pages/projects/children",
        None,
        Some(json!({
            "slug": "dock", "template": "project", "translations": [{"code": "xx", "content": {}}]
        })),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["message"], "Invalid language: xx");
    assert!(changed(&before, &tree_contents(root)).is_empty());

    // An upload in German: the file and its default-language meta file.
    let boundary = "folio-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Bild.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    body.extend(png(4, 4, None));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let before = tree_contents(root);
    let r = server.send(
        &Request::new("POST", "/api/pages/about/files")
            .header("Authorization", &basic(ADMIN))
            .header("X-Language", "de")
            .header(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        changed(&before, &tree_contents(root)),
        [
            "content/3_about/bild.png",
            "content/3_about/bild.png.en.txt"
        ]
    );

    // A content write in a language the site does not have: 404, nothing written.
    let before = tree_contents(root);
    let r = send(
        &server,
        "PATCH",
        "/api/pages/about",
        Some("xx"),
        Some(json!({"text": "x"})),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["key"], "error.notFound");
    assert_eq!(r.json()["message"], "Invalid language: xx");
    assert!(changed(&before, &tree_contents(root)).is_empty());
}

#[test]
fn the_first_language_converts_the_site_and_deleting_the_last_converts_it_back() {
    let site = Site::new();
    let root = &site.root;
    let server = Server::start_on(root, &["languages=true"]);
    let content = |tree: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        tree.iter()
            .filter(|(k, _)| k.starts_with("content/") || k.starts_with("site/accounts/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let before = content(&tree_contents(root));

    let r = send(
        &server,
        "POST",
        "/api/languages",
        None,
        Some(json!({"code": "EN", "name": "English"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["data"]["default"],
        true,
        "the first language is the default"
    );
    assert_eq!(
        read(root, "site/languages/en.php"),
        "<?php\n\nreturn [\n    'code' => 'en',\n    'default' => true,\n    'direction' => 'ltr',\n    'locale' => [\n        'LC_ALL' => 'en'\n    ],\n    'name' => 'English',\n    'translations' => [\n\n    ],\n    'url' => NULL\n];"
    );
    let converted = content(&tree_contents(root));
    for (path, bytes) in &before {
        if let Some(stem) = path.strip_suffix(".txt") {
            assert_eq!(
                converted.get(&format!("{stem}.en.txt")),
                Some(bytes),
                "{path} keeps its bytes under the code"
            );
            assert!(!converted.contains_key(path), "{path} is renamed");
        }
    }
    let r = send(
        &server,
        "GET",
        "/api/pages/projects+harbor-map?select=title",
        Some("en"),
        None,
    );
    assert_eq!(
        r.json()["data"]["title"],
        "Harbor Map",
        "the converted site reads as before"
    );

    // Validation before permission; the client role may not write languages otherwise.
    let client = ("client@example.com", "client-secret-3");
    let r = server.send(
        &Request::new("POST", "/api/languages")
            .header("Authorization", &basic(client))
            .json(&json!({"code": "x"})),
    );
    assert_eq!(r.json()["key"], "error.language.code");

    let r = send(&server, "DELETE", "/api/languages/en", None, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let after = content(&tree_contents(root));
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} is back");
    }
    assert!(!root.join("site/languages/en.php").exists());
}

#[test]
fn an_outside_edit_of_a_translation_is_picked_up() {
    let site = multilang_site();
    let server = Server::start_on(&site.root, &["languages=true"]);
    let path = "/api/pages/projects+harbor-map?select=title";
    assert_eq!(
        send(&server, "GET", path, Some("de"), None).json()["data"]["title"],
        "Hafenkarte"
    );
    std::fs::write(
        site.root
            .join("content/2_projects/1_harbor-map/project.de.txt"),
        "Title: Neue Hafenkarte",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let title = send(&server, "GET", path, Some("de"), None).json()["data"]["title"].clone();
        if title == "Neue Hafenkarte" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the watcher did not pick up the edit: {title}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        send(&server, "GET", path, Some("en"), None).json()["data"]["title"],
        "Harbor Map"
    );
}

/// Error messages follow the user's Panel language; `key`, `code` and `details` do not.
#[test]
fn error_messages_in_the_users_panel_language() {
    let site = Site::new();
    let account = site.root.join("site/accounts/editor01/index.php");
    let php = std::fs::read_to_string(&account).unwrap();
    std::fs::write(
        &account,
        php.replace("'language' => 'en'", "'language' => 'de'"),
    )
    .unwrap();
    let server = Server::start_on(&site.root, &[]);
    let get = |who: (&str, &str)| {
        server.send(
            &Request::new("GET", "/api/pages/no-such-page").header("Authorization", &basic(who)),
        )
    };
    let german = get(("editor@example.com", "editor-secret-2"));
    let english = get(("admin@example.com", "admin-secret-1"));
    assert_eq!(german.status, 404);
    assert_eq!(english.status, 404);
    let (g, e) = (german.json(), english.json());
    assert_eq!(
        g["message"], "Die Seite „no-such-page“ wurde nicht gefunden",
        "{g}"
    );
    assert_eq!(
        e["message"], "The page \"no-such-page\" cannot be found",
        "{e}"
    );
    assert_eq!(g["key"], e["key"]);
    assert_eq!(g["code"], e["code"]);
    assert_eq!(g["details"], e["details"]);
}
