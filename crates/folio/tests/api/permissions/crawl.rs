//! Authorization crawl: as each fixture role, walk every listing, search, find and relation
//! route of the API and assert that no page, file or user the role may not see shows up in
//! any body — not as an id, a title, a URL or a count. What a role may see is decided from
//! the API itself (a 404 on the model's own route), not from a hard-coded list.

use crate::support::{Request, Server};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub(super) const ROLES: [(&str, &str); 3] = [
    ("admin@example.com", "admin-secret-1"),
    ("editor@example.com", "editor-secret-2"),
    ("client@example.com", "client-secret-3"),
];

pub(super) fn get(server: &Server, auth: &str, path: &str) -> (u16, String) {
    let r = server.send(&Request::new("GET", path).header("Authorization", auth));
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

pub(super) fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// (id, title, uuid) of each page; (id, uuid) of each file; (id, email) of each user.
pub(super) type Inventory = (
    Vec<(String, String, String)>,
    Vec<(String, String)>,
    Vec<(String, String)>,
);

/// Every page id, file and user the admin can see (the whole site).
pub(super) fn inventory(server: &Server) -> Inventory {
    let admin = crate::support::basic((ROLES[0].0, ROLES[0].1));
    let (_, body) = get(
        server,
        &admin,
        "/api/site/search?q=a&select=id,title,uuid&limit=1000",
    );
    // Search finds pages with an `a`; walk children from the site as well to be complete.
    let mut pages: BTreeSet<(String, String, String)> = BTreeSet::new();
    for p in json_of(&body)["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        pages.insert((
            p["id"].as_str().unwrap().into(),
            p["title"].as_str().unwrap().into(),
            p["uuid"].as_str().unwrap_or("").into(),
        ));
    }
    let mut queue = vec!["site".to_string()];
    while let Some(parent) = queue.pop() {
        let path = if parent == "site" {
            "/api/site/children?status=all&select=id,title,uuid".to_string()
        } else {
            format!(
                "/api/pages/{}/children?status=all&select=id,title,uuid",
                parent.replace('/', "+")
            )
        };
        for p in json_of(&get(server, &admin, &path).1)["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let id = p["id"].as_str().unwrap().to_string();
            if pages.insert((
                id.clone(),
                p["title"].as_str().unwrap().into(),
                p["uuid"].as_str().unwrap_or("").into(),
            )) || !queue.contains(&id)
            {
                queue.push(id);
            }
        }
    }
    let mut files = Vec::new();
    for (id, _, _) in &pages {
        let path = format!("/api/pages/{}/files?select=id,uuid", id.replace('/', "+"));
        for f in json_of(&get(server, &admin, &path).1)["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            files.push((
                f["id"].as_str().unwrap().into(),
                f["uuid"].as_str().unwrap_or("").into(),
            ));
        }
    }
    let users = json_of(&get(server, &admin, "/api/users?select=id,email").1)["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["email"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (pages.into_iter().collect(), files, users)
}

#[test]
fn no_role_sees_what_it_may_not_list() {
    let server = Server::default_config();
    let (pages, files, users) = inventory(&server);
    assert!(
        pages.len() >= 20,
        "the crawl found too few pages: {pages:?}"
    );
    assert!(pages.iter().any(|p| p.0 == "about/internal-memo"));
    let mut checked_hidden = 0;
    for (email, pw) in ROLES {
        let auth = crate::support::basic((email, pw));
        // What this role may not see, asked of the API itself.
        let hidden_pages: Vec<&(String, String, String)> = pages
            .iter()
            .filter(|(id, _, _)| {
                get(
                    &server,
                    &auth,
                    &format!("/api/pages/{}", id.replace('/', "+")),
                )
                .0 == 404
            })
            .collect();
        let hidden_users: Vec<&(String, String)> = users
            .iter()
            .filter(|(id, _)| get(&server, &auth, &format!("/api/users/{id}")).0 == 404)
            .collect();
        if email.starts_with("client") {
            assert!(
                hidden_pages.iter().any(|p| p.0 == "about/internal-memo"),
                "the client must not see the memo"
            );
        }
        if !email.starts_with("admin") {
            assert_eq!(
                hidden_users.len(),
                users.len() - 1,
                "{email} sees only itself"
            );
        }
        // Every listing, search, find and relation route.
        let mut bodies: Vec<(String, String)> = Vec::new();
        let mut user_bodies: Vec<(String, String)> = Vec::new();
        let visit = |path: String, bodies: &mut Vec<(String, String)>| {
            let (status, body) = get(&server, &auth, &path);
            assert!(status < 500, "{email} {path}: {status} {body}");
            bodies.push((path, body));
        };
        visit(
            "/api/site?select=children,drafts,files,content".into(),
            &mut bodies,
        );
        for status in ["all", "published", "drafts", "listed", "unlisted"] {
            visit(
                format!("/api/site/children?status={status}&select=id,title,url,uuid"),
                &mut bodies,
            );
        }
        for q in ["memo", "internal", "a", "e", "about", "harbor", "blog"] {
            visit(
                format!("/api/site/search?q={q}&select=id,title,url,uuid"),
                &mut bodies,
            );
            visit(
                format!("/api/site/children/search?q={q}&status=all"),
                &mut bodies,
            );
        }
        for (id, _, _) in &pages {
            let pid = id.replace('/', "+");
            visit(
                format!("/api/pages/{pid}/children?status=all&select=id,title,url,uuid"),
                &mut bodies,
            );
            visit(
                format!("/api/pages/{pid}/children/search?q=e&status=all"),
                &mut bodies,
            );
            visit(
                format!("/api/pages/{pid}/files?select=id,url,uuid,next,prev"),
                &mut bodies,
            );
            if !hidden_pages.iter().any(|h| &h.0 == id) {
                visit(
                    format!(
                        "/api/pages/{pid}?select=parent,parents,siblings,children,drafts,files,content"
                    ),
                    &mut bodies,
                );
            }
        }
        let find = server.send(
            &Request::new("POST", "/api/site/find")
                .header("Authorization", &auth)
                .json(&json!(
                    pages
                        .iter()
                        .map(|p| p.0.clone())
                        .chain(pages.iter().map(|p| p.2.clone()))
                        .collect::<Vec<_>>()
                )),
        );
        bodies.push((
            "POST /api/site/find".into(),
            String::from_utf8_lossy(&find.body).into_owned(),
        ));
        for path in [
            "/api/users",
            "/api/users?select=id,email,next,prev",
            "/api/users/search?q=example",
            "/api/roles",
            "/api/account?select=next,prev,roles",
        ] {
            visit(path.into(), &mut user_bodies);
        }
        // No hidden page or file anywhere: not its id, title, URL path or UUID.
        for (path, body) in &bodies {
            for (id, title, uuid) in &hidden_pages {
                checked_hidden += 1;
                assert!(
                    !body.contains(&format!("\"{id}\"")),
                    "{email}: {path} shows the id of hidden page {id}"
                );
                assert!(
                    !body.contains(&format!("/{id}\"")),
                    "{email}: {path} shows the URL of hidden page {id}"
                );
                assert!(
                    !body.contains(&format!("\"{title}\"")),
                    "{email}: {path} shows the title of hidden page {id}"
                );
                if !uuid.is_empty() {
                    assert!(
                        !body.contains(uuid.as_str()),
                        "{email}: {path} shows the UUID of hidden page {id}"
                    );
                }
                for (fid, fuuid) in files
                    .iter()
                    .filter(|(f, _)| f.starts_with(&format!("{id}/")))
                {
                    assert!(
                        !body.contains(fid.as_str())
                            && (fuuid.is_empty() || !body.contains(fuuid.as_str())),
                        "{email}: {path} shows a file of hidden page {id}"
                    );
                }
            }
        }
        // Users: no hidden account in any users listing, search, role list or neighbour.
        for (path, body) in &user_bodies {
            for (id, uemail) in &hidden_users {
                checked_hidden += 1;
                assert!(
                    !body.contains(&format!("\"{id}\"")) && !body.contains(uemail.as_str()),
                    "{email}: {path} shows hidden user {id}"
                );
            }
        }
        // Counts: the totals equal the number of visible items.
        for (path, body) in bodies.iter().chain(&user_bodies) {
            let v = json_of(body);
            if let (Some(total), Some(data)) =
                (v["pagination"]["total"].as_u64(), v["data"].as_array())
                && v["pagination"]["limit"].as_u64().unwrap_or(0) as usize >= data.len()
                && total <= 100
            {
                assert_eq!(
                    total as usize,
                    data.len(),
                    "{email}: {path} counts items it does not show"
                );
            }
        }
        if !email.starts_with("admin") {
            let (_, roles) = get(&server, &auth, "/api/roles?select=name");
            assert_eq!(
                json_of(&roles)["data"].as_array().map(Vec::len),
                Some(1),
                "{email} sees only its own role"
            );
        }
    }
    assert!(
        checked_hidden > 100,
        "the crawl checked too little: {checked_hidden}"
    );
}
