//! Snapshots of the JSON bodies of one representative read per resource (site, pages, files,
//! users, roles, system), as the admin sees them on the fixture site. The host's port and
//! the values that change with the clock or the copy (modification times, media hashes) are
//! redacted; everything else, including key order, is compared exactly.

use serde_json::Value;

use crate::support::{Request, Server, basic};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");

/// The admin's answer to a GET, with the server's base URL replaced by `<base>`.
fn read(server: &Server, path: &str) -> Value {
    let r = server.send(&Request::new("GET", path).header("Authorization", &basic(ADMIN)));
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    let text = r
        .text()
        .replace(
            &format!("http://localhost:{}", server.addr.port()),
            "<base>",
        )
        .replace(
            &format!("http://127.0.0.1:{}", server.addr.port()),
            "<base>",
        );
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn site() {
    let server = Server::default_config();
    let body = read(&server, "/api/site?select=title,url,content,children");
    insta::assert_json_snapshot!("site", body);
}

#[test]
fn page_with_children() {
    let server = Server::default_config();
    let body = read(
        &server,
        "/api/pages/blog?select=id,title,status,num,template,url,children,content,parent",
    );
    insta::assert_json_snapshot!("page", body);
}

#[test]
fn page_children_collection() {
    let server = Server::default_config();
    let body = read(
        &server,
        "/api/pages/blog/children?select=id,title,status,num&limit=2&page=2",
    );
    insta::assert_json_snapshot!("page_children", body);
}

#[test]
fn page_files() {
    let server = Server::default_config();
    let body = read(
        &server,
        "/api/pages/about/files?select=filename,id,mime,niceSize,size,type,dimensions,template,content",
    );
    insta::assert_json_snapshot!("page_files", body);
}

#[test]
fn users() {
    let server = Server::default_config();
    let body = read(&server, "/api/users?select=id,email,name,role,language");
    insta::assert_json_snapshot!("users", body, {".data[].role.permissions" => "[permissions]"});
}

#[test]
fn roles() {
    let server = Server::default_config();
    let body = read(&server, "/api/roles/editor");
    insta::assert_json_snapshot!("role", body);
}

#[test]
fn system_before_sign_in() {
    let server = Server::default_config();
    let r = server.get("/api/system");
    assert_eq!(r.status, 200, "{}", r.text());
    insta::assert_json_snapshot!("system", r.json());
}
