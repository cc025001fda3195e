//! KQL does not leak: as each fixture role, run every KQL query that could reach a draft,
//! a page the role may not list, a file of such a page or another user (`site.index(true)`,
//! `page.drafts`, `users`, `kirby.users`, `user(…)`, `site.find`, relations, siblings, …)
//! and assert that nothing the REST API hides from the role appears in the answers. One
//! test per leak class; the hidden sets are asked of the REST API itself.

use super::crawl::{Inventory, ROLES, get, inventory, json_of};
use crate::support::{Request, Server};
use serde_json::{Value, json};

/// A query string is sent as `{"query": …}` (a bare JSON string body is no query to Kirby).
fn kql(server: &Server, auth: &str, body: &Value) -> (u16, String) {
    let wrapped;
    let body = match body {
        Value::String(q) => {
            wrapped = json!({ "query": q });
            &wrapped
        }
        other => other,
    };
    let r = server.send(
        &Request::new("POST", "/api/query")
            .header("Authorization", auth)
            .json(body),
    );
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

struct Role {
    email: &'static str,
    auth: String,
    hidden_pages: Vec<(String, String, String)>,
    hidden_users: Vec<(String, String)>,
}

fn roles(server: &Server, inv: &Inventory) -> Vec<Role> {
    let (pages, _, users) = inv;
    ROLES
        .iter()
        .map(|(email, pw)| {
            let auth = crate::support::basic((email, pw));
            let hidden_pages = pages
                .iter()
                .filter(|(id, _, _)| {
                    get(
                        server,
                        &auth,
                        &format!("/api/pages/{}", id.replace('/', "+")),
                    )
                    .0 == 404
                })
                .cloned()
                .collect();
            let hidden_users = users
                .iter()
                .filter(|(id, _)| get(server, &auth, &format!("/api/users/{id}")).0 == 404)
                .cloned()
                .collect();
            Role {
                email,
                auth,
                hidden_pages,
                hidden_users,
            }
        })
        .collect()
}

/// Runs `queries` as every role and checks no hidden page (id, URL, title, UUID, files) and
/// no hidden user (id, e-mail) is in any answer. Returns how many (role, hidden model)
/// pairs were checked, so a test can insist it checked something.
fn assert_no_leak(server: &Server, inv: &Inventory, queries: &[Value]) -> usize {
    let (_, files, _) = inv;
    let mut checked = 0;
    for role in roles(server, inv) {
        for q in queries {
            let (status, body) = kql(server, &role.auth, q);
            assert!(status < 500, "{}: {q}: {status} {body}", role.email);
            for (id, title, uuid) in &role.hidden_pages {
                checked += 1;
                assert!(
                    !body.contains(&format!("\"{id}\"")) && !body.contains(&format!("/{id}\"")),
                    "{}: {q} shows hidden page {id}: {body}",
                    role.email
                );
                assert!(
                    !body.contains(&format!("\"{title}\"")),
                    "{}: {q} shows the title of hidden page {id}",
                    role.email
                );
                assert!(
                    uuid.is_empty() || !body.contains(uuid.as_str()),
                    "{}: {q} shows the UUID of hidden page {id}",
                    role.email
                );
                for (fid, _) in files
                    .iter()
                    .filter(|(f, _)| f.starts_with(&format!("{id}/")))
                {
                    assert!(
                        !body.contains(fid.as_str()),
                        "{}: {q} shows file {fid} of hidden page {id}",
                        role.email
                    );
                }
            }
            for (id, email) in &role.hidden_users {
                checked += 1;
                assert!(
                    !body.contains(&format!("\"{id}\"")) && !body.contains(email.as_str()),
                    "{}: {q} shows hidden user {id}",
                    role.email
                );
            }
        }
    }
    checked
}

fn page_queries(inv: &Inventory, make: impl Fn(&str) -> Vec<Value>) -> Vec<Value> {
    inv.0.iter().flat_map(|(id, _, _)| make(id)).collect()
}

#[test]
fn kql_shows_no_draft_a_role_may_not_see() {
    let server = Server::start(&["folio.kql=true"]);
    let inv = inventory(&server);
    let mut queries = vec![
        json!({"query": "site.drafts", "select": ["id", "title", "url", "uuid"]}),
        json!({"query": "site.childrenAndDrafts", "select": ["id", "title"]}),
        json!({"query": "site.index(true)", "select": ["id", "title", "url", "uuid"]}),
        json!("site.index(true)"),
        json!({"query": "site", "select": {"drafts": true, "children": true}}),
    ];
    queries.extend(page_queries(&inv, |id| {
        vec![
            json!({"query": format!("page(\"{id}\").drafts"), "select": ["id", "title", "uuid"]}),
            json!(format!("page(\"{id}\").childrenAndDrafts")),
            json!(format!("page(\"{id}\").findPageOrDraft(\"{id}\")")),
        ]
    }));
    // the admin sees drafts, so the queries reach them at all
    let admin = crate::support::basic(ROLES[0]);
    let (_, body) = kql(&server, &admin, &json!("site.index(true).count"));
    let (_, listed) = kql(&server, &admin, &json!("site.index.count"));
    assert!(
        json_of(&body)["result"].as_i64() > json_of(&listed)["result"].as_i64(),
        "the admin's index with drafts is larger: {body} {listed}"
    );
    assert!(assert_no_leak(&server, &inv, &queries) > 50);
}

#[test]
fn kql_shows_no_page_a_role_may_not_list() {
    let server = Server::start(&["folio.kql=true"]);
    let inv = inventory(&server);
    let mut queries = vec![
        json!({"query": "site.index", "select": ["id", "title", "url", "uuid"]}),
        json!({"query": "site.children", "select": {"id": true, "children": true}}),
        json!({"query": "site.search(\"a\")", "select": ["id", "title"]}),
        json!({"query": "site.search(\"memo\")", "select": ["id", "title"]}),
        json!({"query": "site.index.pluck(\"title\")"}),
        json!({"query": "site.index.listed.count"}),
        json!({"queries": {"all": "site.index", "home": "site.homePage"}}),
        json!({"query": "site.index", "select": "id", "pagination": {"limit": 100}}),
    ];
    queries.extend(page_queries(&inv, |id| {
        vec![
            json!({"query": format!("page(\"{id}\")"), "select": ["id", "title", "url", "uuid", "content"]}),
            json!(format!("page(\"{id}\")")),
            json!(format!("site.find(\"{id}\")")),
            json!(format!("kirby.page(\"{id}\")")),
            json!({"query": format!("page(\"{id}\").siblings"), "select": ["id", "title"]}),
            json!({"query": format!("page(\"{id}\").children"), "select": ["id", "title"]}),
            json!({"query": format!("page(\"{id}\")"), "select": {"next": true, "prev": true, "parent": true}}),
            json!(format!("page(\"{id}\").index")),
        ]
    }));
    assert!(assert_no_leak(&server, &inv, &queries) > 100);
}

#[test]
fn kql_shows_no_file_of_a_page_a_role_may_not_see() {
    let server = Server::start(&["folio.kql=true"]);
    let inv = inventory(&server);
    assert!(!inv.1.is_empty(), "the fixture has files");
    let mut queries = vec![
        json!("site.index(true).files"),
        json!({"query": "site.index(true).images", "select": ["id", "url", "uuid"]}),
        json!("site.files"),
    ];
    queries.extend(
        inv.1
            .iter()
            .map(|(fid, _)| json!(format!("file(\"{fid}\")"))),
    );
    queries.extend(page_queries(&inv, |id| {
        vec![
            json!({"query": format!("page(\"{id}\").files"), "select": ["id", "url", "filename"]}),
            json!(format!("page(\"{id}\").image")),
        ]
    }));
    assert!(assert_no_leak(&server, &inv, &queries) > 50);
}

#[test]
fn kql_shows_no_user_a_role_may_not_see() {
    let server = Server::start(&["folio.kql=true"]);
    let inv = inventory(&server);
    let mut queries = vec![
        json!("users"),
        json!({"query": "users", "select": ["id", "email", "name"]}),
        json!({"query": "kirby.users", "select": ["id", "email"]}),
        json!("kirby.users.count"),
        json!({"query": "kirby.roles"}),
        json!({"query": "users.first", "select": ["email"]}),
    ];
    queries.extend(inv.2.iter().flat_map(|(id, email)| {
        vec![
            json!(format!("user(\"{id}\")")),
            json!({"query": format!("user(\"{email}\")"), "select": ["id", "email"]}),
            json!(format!("kirby.user(\"{id}\")")),
        ]
    }));
    // relations: any users field of any page, as users
    queries.extend(page_queries(&inv, |id| {
        vec![json!({"query": format!("page(\"{id}\").author.toUsers"), "select": ["id", "email"]})]
    }));
    // each role sees itself
    for (email, pw) in ROLES {
        let (status, body) = kql(
            &server,
            &crate::support::basic((email, pw)),
            &json!({"query": "kirby.user", "select": ["email"]}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(json_of(&body)["result"]["email"], email);
    }
    assert!(assert_no_leak(&server, &inv, &queries) > 20);
}

#[test]
fn anonymous_kql_sees_published_pages_only_when_kql_auth_is_off() {
    let server = Server::start(&["folio.kql=true", "kql.auth=false"]);
    let anon = |q: &str| {
        let r = server.send(&Request::new("POST", "/api/query").json(&json!({ "query": q })));
        (r.status, json_of(&String::from_utf8_lossy(&r.body)))
    };
    let (status, body) = anon("site.title");
    assert_eq!(status, 200, "{body}");
    let (_, drafts) = anon("site.index(true)");
    let (_, index) = anon("site.index");
    assert_eq!(
        drafts["result"], index["result"],
        "no drafts for the public"
    );
    assert!(index["result"].as_array().is_some_and(|a| !a.is_empty()));
    let (_, users) = anon("users");
    assert_eq!(users["result"], json!([]));
    let (_, me) = anon("kirby.user");
    assert_eq!(me["result"], Value::Null);
    // and with the default (kql.auth on), anonymous calls are refused
    let locked = Server::start(&["folio.kql=true"]);
    let r = locked.send(&Request::new("POST", "/api/query").json(&json!("site.title")));
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
    // a site without the KQL plugin or `kql` options has no such route, as in Kirby
    let plain = Server::default_config();
    let r = plain.send(&Request::new("POST", "/api/query").json(&json!({"query": "site.title"})));
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
}
