//! `PATCH pages/{id}/status` details Kirby decides before permissions: asking for the status
//! (and number) a page already has changes nothing and answers 200 even for a role without
//! `changeStatus`/`sort`; a real change still needs the permission, and sorting a listed page
//! is refused as sorting.

use serde_json::json;

use crate::support::{Request, Server, assert_error, basic, tree_hash};

const CLIENT: (&str, &str) = ("client@example.com", "client-secret-3");

fn status(server: &Server, page: &str, body: serde_json::Value) -> crate::support::Response {
    server.send(
        &Request::new("PATCH", &format!("/api/pages/{page}/status"))
            .header("Authorization", &basic(CLIENT))
            .json(&body),
    )
}

#[test]
fn asking_for_the_current_status_is_a_no_op_even_without_permission() {
    let server = Server::default_config();
    let content = server.root.join("content");
    let before = tree_hash(&content);

    let r = status(&server, "blog+winter-log", json!({"status": "unlisted"}));
    assert_eq!(r.status, 200, "unlisted → unlisted: {}", r.text());
    assert_eq!(r.json()["data"]["status"], "unlisted");

    // `signal-tower` is the second of three listed projects (`2_signal-tower`).
    let r = status(
        &server,
        "projects+signal-tower",
        json!({"status": "listed", "position": 2}),
    );
    assert_eq!(r.status, 200, "listed at its own position: {}", r.text());
    assert_eq!(r.json()["data"]["num"], 2);
    assert_eq!(tree_hash(&content), before, "nothing on disk changed");
}

#[test]
fn a_real_change_still_needs_the_permission() {
    let server = Server::default_config();
    let content = server.root.join("content");
    let before = tree_hash(&content);

    let r = status(
        &server,
        "projects+signal-tower",
        json!({"status": "listed", "position": 1}),
    );
    assert_error(
        &r,
        403,
        Some("error.page.sort.permission"),
        "The page \"signal-tower\" cannot be sorted",
    );
    let r = status(
        &server,
        "projects+signal-tower",
        json!({"status": "unlisted"}),
    );
    assert_error(
        &r,
        403,
        Some("error.page.changeStatus.permission"),
        "The status for this page cannot be changed",
    );
    assert_eq!(tree_hash(&content), before, "nothing on disk changed");
}

#[test]
fn the_blueprint_decides_which_statuses_exist() {
    let site = crate::support::Site::new();
    let article = site.root.join("site/blueprints/pages/article.yml");
    let yaml = std::fs::read_to_string(&article).unwrap();
    let yaml = yaml.replace("  unlisted: Hidden\n", "  unlisted: false\n");
    assert!(
        yaml.contains("unlisted: false"),
        "the fixture's article blueprint changed"
    );
    std::fs::write(&article, yaml).unwrap();
    let server = Server::start_on(&site.root, &[]);
    let admin = basic(("admin@example.com", "admin-secret-1"));
    let content = site.root.join("content");
    let before = tree_hash(&content);

    let r = server.send(
        &Request::new("PATCH", "/api/pages/blog+first-light/status")
            .header("Authorization", &admin)
            .json(&json!({"status": "unlisted"})),
    );
    assert_error(
        &r,
        400,
        Some("error.page.status.invalid"),
        "Please set a valid page status",
    );
    assert_eq!(tree_hash(&content), before, "nothing on disk changed");

    let r = server.send(
        &Request::new("GET", "/api/pages/blog+first-light/blueprint")
            .header("Authorization", &admin),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let status = &r.json()["data"]["status"];
    let keys: Vec<&str> = status
        .as_object()
        .expect("status object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["draft", "listed"], "{status}");
    assert_eq!(status["listed"]["label"], "Published");
}
