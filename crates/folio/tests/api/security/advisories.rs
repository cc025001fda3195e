//! One test per Kirby security advisory Folio must be immune to (issue "Permissions and
//! roles"). Each starts a real server on a copy of the fixture site, sometimes with extra
//! roles and accounts made with `folio user add`, and asserts the safe behaviour.

use crate::support::{Request, Server, Site, tree_hash};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");
const CLIENT: (&str, &str) = ("client@example.com", "client-secret-3");

fn call(
    server: &Server,
    who: (&str, &str),
    method: &str,
    path: &str,
    body: Option<Value>,
) -> crate::support::Response {
    let mut r =
        Request::new(method, path).header("Authorization", &crate::support::basic((who.0, who.1)));
    if let Some(b) = body {
        r = r.json(&b);
    }
    server.send(&r)
}

/// A site with an extra role (`site/blueprints/users/<name>.yml`) and one account in it.
fn site_with_role(role: &str, yaml: &str, email: &str, pw: &str) -> Site {
    let site = Site::new();
    std::fs::write(
        site.root.join(format!("site/blueprints/users/{role}.yml")),
        yaml,
    )
    .unwrap();
    let root = site.root.to_str().unwrap().to_string();
    let out = crate::support::folio_cli(
        &["user", "add", email, "--role", role, "--root", &root],
        &format!("{pw}\n"),
    );
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    site
}

#[test]
fn ghsa_r3w8_site_find_hides_inaccessible_pages() {
    let server = Server::default_config();
    let memo_uuid = call(
        &server,
        ADMIN,
        "GET",
        "/api/pages/about+internal-memo?select=uuid",
        None,
    )
    .json()["data"]["uuid"]
        .clone();
    let hidden = call(
        &server,
        CLIENT,
        "POST",
        "/api/site/find?select=id",
        Some(json!(["about/internal-memo", memo_uuid, "blog"])),
    );
    let missing = call(
        &server,
        CLIENT,
        "POST",
        "/api/site/find?select=id",
        Some(json!([
            "about/no-such-page",
            "page://nonexistent00000",
            "blog"
        ])),
    );
    assert_eq!(hidden.status, 200);
    assert_eq!(
        hidden.json(),
        missing.json(),
        "an inaccessible page answers exactly like a missing one"
    );
    assert_eq!(hidden.json()["data"], json!([{"id": "blog"}]));
}

#[test]
fn ghsa_23q2_children_of_an_inaccessible_parent_leak_nothing() {
    let server = Server::default_config();
    for suffix in [
        "children",
        "children/search?q=a",
        "files",
        "blueprint",
        "sections/main",
    ] {
        let hidden = call(
            &server,
            CLIENT,
            "GET",
            &format!("/api/pages/about+internal-memo/{suffix}"),
            None,
        );
        let missing = call(
            &server,
            CLIENT,
            "GET",
            &format!("/api/pages/about+internal-memx/{suffix}"),
            None,
        );
        assert_eq!(hidden.status, 404, "{suffix}");
        assert_eq!(hidden.status, missing.status, "{suffix}");
        assert_eq!(hidden.json()["key"], missing.json()["key"], "{suffix}");
        assert!(
            !hidden.text().contains("Internal Memo"),
            "{suffix} leaks the title"
        );
    }
}

#[test]
fn ghsa_2xw4_drafts_are_404_without_page_access() {
    let site = site_with_role(
        "guest",
        "title: Guest\npermissions:\n  pages:\n    access: false\n",
        "guest@example.com",
        "guest-secret-9",
    );
    let server = Server::start_on(&site.root, &[]);
    let guest = ("guest@example.com", "guest-secret-9");
    let draft = call(
        &server,
        guest,
        "GET",
        "/api/pages/blog+unfinished-survey",
        None,
    );
    let missing = call(&server, guest, "GET", "/api/pages/blog+no-such-draft", None);
    assert_eq!(draft.status, 404);
    assert_eq!(draft.json()["key"], json!("error.page.notFound"));
    assert_eq!(draft.json()["key"], missing.json()["key"]);
    let drafts = call(
        &server,
        guest,
        "GET",
        "/api/pages/blog/children?status=drafts",
        None,
    );
    assert_eq!(
        drafts.status, 404,
        "the parent itself is not accessible either"
    );
    let all = call(
        &server,
        guest,
        "GET",
        "/api/site/children?status=all&select=id",
        None,
    );
    assert_eq!(
        all.json()["data"],
        json!([]),
        "no page is listed for a role without pages.access"
    );
    assert_eq!(all.json()["pagination"]["total"], json!(0));
}

#[test]
fn ghsa_85x2_2h7v_x68m_collections_and_relations_skip_unlistable_pages() {
    let server = Server::default_config();
    // Point the home page's highlights at the memo the client may not list.
    let r = call(
        &server,
        ADMIN,
        "PATCH",
        "/api/pages/home",
        Some(json!({"highlights": ["about/internal-memo", "blog/first-light"]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let admin_view = call(
        &server,
        ADMIN,
        "GET",
        "/api/pages/home?select=content",
        None,
    );
    assert_eq!(
        admin_view.json()["data"]["content"]["highlights"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let client_view = call(
        &server,
        CLIENT,
        "GET",
        "/api/pages/home?select=content",
        None,
    );
    let highlights = client_view.json()["data"]["content"]["highlights"].clone();
    assert_eq!(highlights.as_array().map(Vec::len), Some(1), "{highlights}");
    assert_eq!(highlights[0]["id"], json!("blog/first-light"));
    assert!(
        !client_view.text().contains("internal-memo")
            && !client_view.text().contains("Internal Memo")
    );
    // Siblings and search skip it too.
    let team = call(
        &server,
        CLIENT,
        "GET",
        "/api/pages/about+team?select=siblings",
        None,
    );
    assert!(!team.text().contains("internal-memo"), "{}", team.text());
    let search = call(&server, CLIENT, "GET", "/api/site/search?q=memo", None);
    assert_eq!(search.json()["pagination"]["total"], json!(0));
}

#[test]
fn ghsa_jm9m_languages_writes_need_the_languages_permissions() {
    let site = site_with_role(
        "nolang",
        "title: No languages\npermissions:\n  languages: false\n",
        "nolang@example.com",
        "nolang-secret-9",
    );
    // A one-language site, so that PATCH and DELETE find the language they name.
    let languages = site.root.join("site/languages");
    std::fs::create_dir_all(&languages).unwrap();
    let en = "<?php\n\nreturn [\n    'code' => 'en',\n    'default' => true\n];";
    std::fs::write(languages.join("en.php"), en).unwrap();
    let before = crate::support::tree_contents(&site.root.join("content"));
    let server = Server::start_on(&site.root, &["languages=true"]);
    let who = ("nolang@example.com", "nolang-secret-9");
    let create = call(
        &server,
        who,
        "POST",
        "/api/languages",
        Some(json!({"code": "de", "name": "Deutsch"})),
    );
    assert_eq!(create.status, 403, "{}", create.text());
    assert_eq!(
        create.json()["key"],
        json!("error.language.create.permission")
    );
    for method in ["PATCH", "DELETE"] {
        let r = call(
            &server,
            who,
            method,
            "/api/languages/en",
            Some(json!({"name": "x"})),
        );
        assert_eq!(r.status, 403, "{method}: {}", r.text());
    }
    assert_eq!(
        std::fs::read_to_string(languages.join("en.php")).unwrap(),
        en
    );
    assert!(!languages.join("de.php").exists(), "nothing was written");
    assert_eq!(
        crate::support::tree_contents(&site.root.join("content")),
        before,
        "no content file was converted or removed"
    );
    // Without the option the routes do not exist at all (Kirby: unknown route).
    let plain = Server::default_config();
    assert_eq!(
        call(
            &plain,
            ADMIN,
            "POST",
            "/api/languages",
            Some(json!({"code": "de"}))
        )
        .status,
        404
    );
}

#[test]
fn ghsa_39cp_avatars_need_the_user_update_permission() {
    let site = site_with_role(
        "filer",
        "title: Filer\npermissions:\n  files: true\n  user:\n    update: false\n",
        "filer@example.com",
        "filer-secret-9",
    );
    let server = Server::start_on(&site.root, &[]);
    let png = {
        // A 1×1 PNG.
        let hex = "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082";
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(&png);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let upload = server.send(
        &Request::new("POST", "/api/account/avatar")
            .header(
                "Authorization",
                &crate::support::basic(("filer@example.com", "filer-secret-9")),
            )
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body.clone()),
    );
    assert!(
        upload.status == 403 || upload.status == 400,
        "files.* alone must not allow an avatar: {} {}",
        upload.status,
        upload.text()
    );
    assert_eq!(upload.json()["status"], json!("error"));
    let account_dir = std::fs::read_dir(site.root.join("site/accounts"))
        .unwrap()
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("index.php"))
                .unwrap_or_default()
                .contains("filer@example.com")
        })
        .unwrap()
        .path();
    assert!(
        !account_dir.join("profile.png").exists(),
        "no avatar was written"
    );
    // The admin may set it.
    let ok = server.send(
        &Request::new("POST", "/api/account/avatar")
            .header("Authorization", &crate::support::basic((ADMIN.0, ADMIN.1)))
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn ghsa_6gqr_blueprint_injection_on_create_is_refused() {
    let server = Server::default_config();
    let r = call(
        &server,
        ("editor@example.com", "editor-secret-2"),
        "POST",
        "/api/pages/blog/children",
        Some(
            json!({"slug": "sneaky", "template": "article", "blueprint": {"options": {"delete": true}}, "content": {"title": "Sneaky"}}),
        ),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!server.root.join("content/1_blog/_drafts/sneaky").exists());
}

#[test]
fn ghsa_w942_is_draft_false_cannot_bypass_change_status() {
    let site = site_with_role(
        "author",
        "title: Author\npermissions:\n  pages:\n    changeStatus: false\n",
        "author@example.com",
        "author-secret-9",
    );
    let server = Server::start_on(&site.root, &[]);
    let who = ("author@example.com", "author-secret-9");
    let r = call(
        &server,
        who,
        "POST",
        "/api/pages/blog/children",
        Some(
            json!({"slug": "published-directly", "template": "default", "isDraft": false, "content": {"title": "P"}}),
        ),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["key"], json!("error.page.changeStatus.permission"));
    assert!(!site.root.join("content/1_blog/published-directly").exists());
    assert!(
        !site
            .root
            .join("content/1_blog/_drafts/published-directly")
            .exists()
    );
    let ok = call(
        &server,
        who,
        "POST",
        "/api/pages/blog/children",
        Some(json!({"slug": "as-draft", "template": "default", "content": {"title": "D"}})),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["data"]["status"], json!("draft"));
}

#[test]
fn ghsa_86rh_query_options_never_reach_secrets() {
    let server = Server::default_config();
    for path in [
        "/api/users?select=password,root,id",
        "/api/users?filterBy=password&sortBy=password&search=$2y",
        "/api/users/admin001?select=password,secret,root,htpasswd",
        "/api/pages/blog?select=root,contentFile,dir,id",
        "/api/site?select=root,title&query[filterBy]=password",
        "/api/pages/blog/files?select=root,path",
    ] {
        let r = call(&server, ADMIN, "GET", path, None);
        let text = r.text();
        assert!(!text.contains("$2y$"), "{path} leaks a password hash");
        assert!(
            !text.contains(server.root.to_str().unwrap()),
            "{path} leaks a filesystem root"
        );
        assert!(
            !text.contains("\"root\"") && !text.contains("\"password\""),
            "{path}: {text}"
        );
    }
}

#[test]
fn ghsa_rf2p_errors_without_debug_leak_no_paths_or_classes() {
    let server = Server::default_config();
    let root = server.root.to_str().unwrap().to_string();
    let responses = vec![
        call(&server, ADMIN, "GET", "/api/pages/nope", None),
        call(
            &server,
            ADMIN,
            "GET",
            "/api/pages/blog/children?limit=abc",
            None,
        ),
        call(&server, ADMIN, "GET", "/api/nowhere", None),
        call(
            &server,
            ADMIN,
            "POST",
            "/api/auth/login",
            Some(json!({"email": "x", "password": "y"})),
        ),
        call(
            &server,
            ADMIN,
            "PATCH",
            "/api/pages/projects+signal-tower",
            Some(json!({"year": 999999})),
        ),
        server.send(
            &Request::new("POST", "/api/pages/blog/children")
                .header("Authorization", &crate::support::basic((ADMIN.0, ADMIN.1)))
                .header("Content-Type", "application/json")
                .body("{]".as_bytes().to_vec()),
        ),
    ];
    for r in responses {
        let text = r.text();
        assert!(r.status >= 400, "{text}");
        for needle in [
            root.as_str(),
            "/src/",
            ".rs",
            "Exception",
            "panicked",
            "backtrace",
            "/tmp/",
        ] {
            assert!(
                !text.contains(needle),
                "error body contains {needle:?}: {text}"
            );
        }
        for (name, value) in &r.headers {
            assert!(
                !value.contains(&root) && !value.contains("Exception"),
                "header {name} leaks: {value}"
            );
        }
    }
}

#[test]
fn privileged_keys_cannot_raise_rights() {
    let server = Server::default_config();
    let editor = ("editor@example.com", "editor-secret-2");
    let file = server.root.join("content/1_blog/winter-log/article.txt");
    let before = std::fs::read(&file).unwrap();
    for body in [
        json!({"role": "admin"}),
        json!({"isDraft": false}),
        json!({"permissions": {"pages": true}}),
        json!({"options": {"delete": true}}),
        json!({"blueprint": "pages/default"}),
    ] {
        let r = call(
            &server,
            editor,
            "PATCH",
            "/api/pages/blog+winter-log",
            Some(body.clone()),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{body} changed the page"
        );
    }
    // A user id cannot be chosen (nor any user created) without the users.create right.
    let r = call(
        &server,
        editor,
        "POST",
        "/api/users",
        Some(
            json!({"id": "mine0001", "email": "mine@example.com", "password": "long-enough-1", "role": "admin"}),
        ),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!server.root.join("site/accounts/mine0001").exists());
}

/// Every way of spelling a key that the writer stores as that key.
fn aliases(key: &str) -> Vec<String> {
    let mut upper = key.to_string();
    upper.make_ascii_uppercase();
    let umlaut = key.replacen('u', "ü", 1);
    vec![
        format!("{key}!"),
        format!("_{key}"),
        format!("{upper}\u{a0}"),
        format!("{key}."),
        format!(" {key} "),
        format!("-{key}-"),
        umlaut,
        upper,
    ]
}

#[test]
fn aliases_of_protected_keys_are_refused_everywhere() {
    let server = Server::default_config();
    let editor = ("editor@example.com", "editor-secret-2");
    let admin = ("admin@example.com", "admin-secret-1");
    let content = server.root.join("content");
    let before = tree_hash(&content);
    let accounts = server.root.join("site/accounts");
    let other_uuid = "1j2f2yeawupzuuqy";
    for alias in aliases("uuid") {
        let body = json!({ alias.clone(): other_uuid });
        for (method, path) in [
            ("PATCH", "/api/pages/blog+winter-log"),
            ("POST", "/api/pages/blog+winter-log/changes/publish"),
            ("POST", "/api/pages/blog+winter-log/changes/save"),
            ("PATCH", "/api/site"),
            ("PATCH", "/api/pages/about/files/portrait.png"),
        ] {
            let r = call(&server, editor, method, path, Some(body.clone()));
            assert_eq!(r.status, 400, "{method} {path} {alias:?}: {}", r.text());
            assert_eq!(r.json()["key"], "error.invalidArgument");
        }
    }
    // The model keys are refused on pages and files alike (a file's `template` is the one
    // exception, for users who may change templates: see
    // `file_template_changes_through_content_need_change_template`).
    for key in ["blueprint", "options", "permissions", "isdraft"] {
        for alias in aliases(key) {
            let body = json!({ alias.clone(): "document" });
            for path in [
                "/api/pages/about/files/portrait.png",
                "/api/pages/blog+winter-log",
            ] {
                let r = call(&server, admin, "PATCH", path, Some(body.clone()));
                assert_eq!(r.status, 400, "PATCH {path} {alias:?}: {}", r.text());
            }
        }
    }
    assert_eq!(tree_hash(&content), before, "an alias changed content");
    // Users: an alias of `role` (or a credential) never reaches the account.
    for key in ["role", "password", "uuid"] {
        for alias in aliases(key) {
            let r = call(
                &server,
                editor,
                "PATCH",
                "/api/account",
                Some(json!({ alias.clone(): "admin", "bio": "hello" })),
            );
            assert!(
                r.status == 200 || r.status == 400,
                "{alias:?}: {}",
                r.text()
            );
            let text = std::fs::read_to_string(accounts.join("editor01/user.txt")).unwrap();
            assert!(
                !text.to_ascii_lowercase().contains("\nrole:"),
                "{alias:?}: {text}"
            );
            assert!(
                !text.to_ascii_lowercase().starts_with("role:"),
                "{alias:?}: {text}"
            );
        }
    }
    let index = std::fs::read_to_string(accounts.join("editor01/index.php")).unwrap();
    assert!(index.contains("'editor'"), "the role is unchanged: {index}");
    // No two pages or files share a UUID.
    let mut seen = std::collections::HashMap::new();
    for (path, bytes) in crate::support::tree_contents(&content) {
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            if let Some(u) = line.strip_prefix("Uuid: ")
                && let Some(other) = seen.insert(u.trim().to_string(), path.clone())
            {
                panic!("{path} and {other} share the UUID {u}");
            }
        }
    }
}

#[test]
fn file_template_changes_through_content_need_change_template() {
    let site = site_with_role(
        "captioner",
        "title: Captioner\npermissions:\n  files:\n    changeTemplate: false\n",
        "captioner@example.com",
        "captioner-secret-7",
    );
    let server = Server::start_on(&site.root, &[]);
    let meta = site.root.join("content/3_about/portrait.png.txt");
    let before = std::fs::read_to_string(&meta).unwrap();
    let denied = call(
        &server,
        ("captioner@example.com", "captioner-secret-7"),
        "PATCH",
        "/api/pages/about/files/portrait.png",
        Some(json!({"template": "document", "alt": "x"})),
    );
    assert_eq!(denied.status, 403, "{}", denied.text());
    assert_eq!(
        denied.json()["key"],
        "error.file.changeTemplate.permission",
        "{}",
        denied.text()
    );
    assert_eq!(
        std::fs::read_to_string(&meta).unwrap(),
        before,
        "nothing written"
    );
    let allowed = call(
        &server,
        ADMIN,
        "PATCH",
        "/api/pages/about/files/portrait.png",
        Some(json!({"template": "document"})),
    );
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert!(
        std::fs::read_to_string(&meta)
            .unwrap()
            .contains("Template: document"),
        "the admin's template is stored"
    );
}
