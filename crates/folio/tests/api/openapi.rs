//! `/api/openapi.json`: the document is snapshot-tested, every path and method in it is a
//! real route, every route on a documented path is documented, and both ways of signing in
//! are declared as security schemes.

use serde_json::Value;

use crate::support::{Request, Response, Server, basic};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");
const METHODS: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

fn document(server: &Server) -> Value {
    let r = server.get("/api/openapi.json");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

/// Kirby's answer for a path or method no route takes: a 404 without a key.
fn is_no_route(r: &Response) -> bool {
    r.status == 404 && r.json().get("key").is_some_and(Value::is_null)
}

/// A documented path with its parameters filled in with values of the fixture site.
fn concrete(path: &str) -> String {
    path.replace("{id}", "blog")
        .replace("{file}", "portrait.png")
        .replace("{section}", "files")
        .replace("{op}", "save")
        .replace("{code}", "en")
        .replace("{name}", "admin")
        .replace("{field}", "text")
        .replace("{path}", "files")
}

#[test]
fn the_document_matches_its_snapshot() {
    let server = Server::default_config();
    let doc = document(&server);
    assert_eq!(doc["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", doc, {".info.version" => "[version]"});
}

#[test]
fn every_documented_operation_is_a_route_and_no_route_is_undocumented() {
    let server = Server::default_config();
    let doc = document(&server);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 50, "only {} paths", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        let target = concrete(path);
        assert!(!target.contains('{'), "unfilled parameter in {path}");
        for method in METHODS {
            let documented = item.get(method.to_ascii_lowercase()).is_some();
            // Unauthenticated: gated routes answer 401, open ones do their work; neither is
            // "no route". DELETE and writes change nothing without a user.
            let r = server.send(&Request::new(method, &target));
            assert_eq!(
                !is_no_route(&r),
                documented,
                "{method} {target} (documented: {documented}): {} {}",
                r.status,
                r.text()
            );
            checked += usize::from(documented);
        }
    }
    assert!(checked >= 90, "only {checked} operations");
}

#[test]
fn documented_reads_answer_an_admin_with_the_documented_envelope() {
    let server = Server::default_config();
    let doc = document(&server);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        let target = concrete(path);
        let r = server.send(&Request::new("GET", &target).header("Authorization", &basic(ADMIN)));
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        if r.status != 200 {
            // A parameter value that names nothing on this site (a section the blueprint
            // lacks, say) is a Kirby error envelope, documented as 4XX.
            assert!((400..500).contains(&r.status), "GET {target}: {}", r.status);
            assert_eq!(r.json()["status"], "error", "GET {target}");
            continue;
        }
        let body = r.json();
        match schema.as_str() {
            Some("#/components/schemas/Model") => {
                assert_eq!(body["type"], "model", "GET {target}: {body}")
            }
            Some("#/components/schemas/Collection") => {
                assert_eq!(body["type"], "collection", "GET {target}: {body}");
                assert!(body["pagination"].is_object(), "GET {target}");
            }
            _ => {}
        }
    }
}

#[test]
fn both_ways_of_signing_in_are_security_schemes() {
    let server = Server::default_config();
    let doc = document(&server);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "kirby_session");
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    let site = &doc["paths"]["/api/site"]["get"]["security"];
    assert_eq!(
        site,
        &serde_json::json!([{"session": [], "csrf": []}, {"basic": []}])
    );
    let login = &doc["paths"]["/api/auth/login"]["post"]["security"];
    assert_eq!(login, &serde_json::json!([]), "login is open");
}
