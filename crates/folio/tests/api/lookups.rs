//! How a route's file name and user id find their model, as Kirby's collections do: the
//! exact key, else the key in ASCII lower case. So `PORTRAIT.PNG` finds `portrait.png`, but
//! `chart.png` does not find `Chart.png`; e-mails match in any case. A page id may go through
//! a `_drafts` folder.

use crate::support::{Request, Server, Site, basic, png};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");

fn get(server: &Server, path: &str) -> crate::support::Response {
    server.send(&Request::new("GET", path).header("Authorization", &basic(ADMIN)))
}

#[test]
fn file_names_and_user_ids_match_like_kirbys_collections() {
    let site = Site::new();
    std::fs::write(site.root.join("content/3_about/Chart.png"), png(3, 2, None)).unwrap();
    let server = Server::start_on(&site.root, &[]);

    let r = get(&server, "/api/pages/about/files/PORTRAIT.PNG");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["filename"], "portrait.png");

    let r = get(&server, "/api/pages/about/files/Chart.png");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(&server, "/api/pages/about/files/chart.png");
    assert_eq!(
        r.status, 404,
        "a lower-case request does not find an upper-case name"
    );
    assert_eq!(r.json()["key"], "error.file.notFound");

    let r = get(&server, "/api/users/ADMIN001");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["id"], "admin001");
    let r = get(&server, "/api/users/Admin%40Example.com");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["email"], "admin@example.com");
}

#[test]
fn a_draft_is_found_through_its_drafts_folder_too() {
    let server = Server::default_config();
    let r = get(&server, "/api/pages/blog+unfinished-survey");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get(&server, "/api/pages/blog+_drafts+unfinished-survey");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["id"], "blog/unfinished-survey");
    let r = get(&server, "/api/pages/blog+_drafts+first-light");
    assert_eq!(
        r.status, 200,
        "Kirby drops `_drafts/` and finds the listed page too"
    );
    let r = get(&server, "/api/pages/blog+_drafts");
    assert_eq!(r.status, 404, "`_drafts` alone names no page");
}
