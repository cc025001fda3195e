//! Field API routes beyond the recorded pages: the site's and a file's fields, nested field
//! names (`a+b`), and a blocks field whose fieldsets come from `site/blueprints/blocks/`
//! (defaults, unknown types, and the form the blocks are stored and read through).

use serde_json::{Value, json};

use crate::support::{Request, Server, Site, basic};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");

fn send(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> crate::support::Response {
    let mut r = Request::new(method, path).header("Authorization", &basic(ADMIN));
    if let Some(b) = body {
        r = r.json(&b);
    }
    server.send(&r)
}

#[test]
fn site_and_file_fields_answer_their_pickers_and_nested_names_resolve() {
    let server = Server::default_config();
    let r = send(&server, "GET", "/api/site/fields/description/files", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"logo.png"), "{names:?}");
    assert_eq!(body["pagination"]["total"], json!(names.len()));
    assert_eq!(body["pagination"]["limit"], 20);

    // a file's textarea lists the file's siblings
    let r = send(
        &server,
        "GET",
        "/api/pages/about/files/portrait.png/fields/caption/files",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"][0]["filename"], "portrait.png");

    // a text field has no routes: Kirby's "no route" 404 without a key
    let r = send(&server, "GET", "/api/site/fields/copyright", None);
    assert_eq!(r.status, 404);
    assert!(r.json()["key"].is_null(), "{}", r.text());
    // `social+platform` is the structure's nested field (no routes either) …
    let r = send(&server, "GET", "/api/site/fields/social+platform", None);
    assert_eq!(r.status, 404);
    assert!(r.json()["key"].is_null(), "{}", r.text());
    // … while a name that is no field is "The field could not be found"
    let r = send(&server, "GET", "/api/site/fields/social+nothing", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "The field could not be found");
    // the gate runs first
    let r = server.send(&Request::new("GET", "/api/site/fields/description/files"));
    assert_eq!(r.status, 401);
}

#[test]
fn fieldsets_from_site_blueprints_shape_defaults_writes_and_reads() {
    let site = Site::new();
    let bp = site.root.join("site/blueprints");
    std::fs::create_dir_all(bp.join("blocks")).unwrap();
    std::fs::write(
        bp.join("blocks/notice.yml"),
        "name: Notice\nfields:\n  tone:\n    type: select\n    default: info\n    options: [info, warn]\n  text:\n    type: textarea\n  loud:\n    type: toggle\n",
    )
    .unwrap();
    std::fs::write(
        bp.join("pages/notes.yml"),
        "title: Notes\nfields:\n  body:\n    type: blocks\n    fieldsets:\n      - notice\n      - heading\n",
    )
    .unwrap();
    let dir = site.root.join("content/9_notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "Title: Notes\n\n----\n\nBody: \n").unwrap();
    let server = Server::start_on(&site.root, &[]);

    let r = send(
        &server,
        "GET",
        "/api/pages/notes/fields/body/fieldsets/notice",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let block = r.json();
    assert_eq!(
        block["content"],
        json!({"tone": "info", "text": "", "loud": false})
    );
    assert_eq!(block["type"], "notice");
    assert_eq!(block["id"].as_str().map(str::len), Some(36));

    let r = send(
        &server,
        "GET",
        "/api/pages/notes/fields/body/fieldsets/quote",
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "The fieldset quote could not be found");

    let r = send(
        &server,
        "PATCH",
        "/api/pages/notes",
        Some(json!({"body": [
            {"type": "notice", "id": "n1", "content": {"Text": "Hi", "extra": 1}},
            {"type": "gone", "id": "g1", "content": {"x": "y"}},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let stored = std::fs::read_to_string(dir.join("notes.txt")).unwrap();
    assert!(
        stored.contains(
            r#"Body: [{"content":{"tone":"","text":"Hi","loud":"false","extra":1},"id":"n1","isHidden":false,"type":"notice"},{"content":{"x":"y"},"id":"g1","isHidden":false,"type":"gone"}]"#
        ),
        "{stored}"
    );
    let r = send(&server, "GET", "/api/pages/notes?select=content", None);
    assert_eq!(
        r.json()["data"]["content"]["body"][0]["content"],
        json!({"tone": "", "text": "Hi", "loud": false, "extra": 1})
    );
}

#[test]
fn fields_sections_carry_the_fieldsets_of_blocks_fields() {
    // The kirby fixture's article body offers heading, text, list, quote and image blocks.
    let server = Server::default_config();
    let r = send(
        &server,
        "GET",
        "/api/pages/blog+first-light/sections/main-col-main-fields",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let sets = &body["fields"]["body"]["fieldsets"];
    let kinds: Vec<&String> = sets.as_object().unwrap().keys().collect();
    assert_eq!(kinds, ["heading", "text", "list", "quote", "image"]);
    let heading = &sets["heading"];
    assert_eq!(heading["icon"], "title");
    assert_eq!(heading["wysiwyg"], true);
    assert_eq!(heading["preview"], "heading");
    let level = &heading["tabs"]["content"]["fields"]["level"];
    assert_eq!(level["type"], "toggles");
    assert_eq!(level["default"], "h2");
    assert_eq!(level["labels"], false);
    assert_eq!(
        level["options"][2],
        json!({"disabled": false, "icon": "h3", "info": null, "text": "H3", "value": "h3"})
    );
    // block files fields pick the page's images and upload with the block image blueprint
    let image = &sets["image"]["tabs"]["content"]["fields"]["image"];
    assert_eq!(image["query"], "model.images");
    assert_eq!(image["parent"], "pages/blog+first-light");
    assert_eq!(image["when"], json!({"location": "kirby"}));
    assert_eq!(image["uploads"]["template"], "blocks/image");
    assert_eq!(sets["image"]["wysiwyg"], false);
    assert!(body["fields"]["body"].get("fieldsetGroups").is_none());
}
