//! Black-box tests of every authentication decision of Folio's REST API (sessions, CSRF,
//! login/logout, Basic auth, panel access, anonymous access, bad input), run against the real
//! `folio` binary serving a private copy of the Kirby fixture site (see AUTH.md and API.md).

use crate::support::{
    JSON_TYPE, Request, Response, Server, assert_error, assert_unauthenticated, get_auth, login,
    login_full, login_request, start_session, tree_contents, tree_hash,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");
const EDITOR: (&str, &str) = ("editor@example.com", "editor-secret-2");
const CLIENT: (&str, &str) = ("client@example.com", "client-secret-3");
const ROBOT: (&str, &str) = ("robot@example.com", "robot-secret-4");

const UNEXPECTED: &str = "An unexpected error occurred! Enable debug mode for more info: https://getkirby.com/docs/reference/system/options/debug";
const SITE_TITLE: &str = "Saltmarsh Lighthouse Society";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn with_basic(req: Request, account: (&str, &str)) -> Request {
    req.header("Authorization", &crate::support::basic(account))
}

#[track_caller]
fn assert_invalid_login(r: &Response) {
    assert_error(r, 403, Some("error.access.login"), "Invalid login");
}

#[track_caller]
fn assert_no_panel(r: &Response) {
    assert_error(
        r,
        401,
        Some("error.access.panel"),
        "You are not allowed to access the panel",
    );
}

#[track_caller]
fn assert_no_route(r: &Response) {
    assert_error(r, 404, None, UNEXPECTED);
}

#[track_caller]
fn assert_no_set_cookie(r: &Response) {
    assert!(
        r.set_cookies().is_empty(),
        "unexpected Set-Cookie: {:?}",
        r.set_cookies()
    );
}

#[track_caller]
fn assert_new_session_cookie(r: &Response) {
    let c = r.set_cookies();
    assert!(
        c.iter().any(|c| c.starts_with("kirby_session=")),
        "expected a kirby_session Set-Cookie, got {:?}",
        r.headers
    );
}

/// The value of a cookie attribute (`Max-Age`, `path`, ...), by case-insensitive name;
/// flags (`HttpOnly`) give `Some("")`.
fn cookie_attr<'a>(set_cookie: &'a str, name: &str) -> Option<&'a str> {
    set_cookie.split(';').skip(1).map(str::trim).find_map(|a| {
        let (k, v) = a.split_once('=').unwrap_or((a, ""));
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn max_age(set_cookie: &str) -> i64 {
    cookie_attr(set_cookie, "Max-Age")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric Max-Age in {set_cookie:?}"))
}

/// The standard `GET /api/site?select=title` success body.
#[track_caller]
fn assert_site_title(r: &Response) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"code": 200, "data": {"title": SITE_TITLE}, "status": "ok", "type": "model"})
    );
}

fn site_title() -> Request {
    Request::new("GET", "/api/site?select=title")
}

// ---------------------------------------------------------------------------------------------
// 1. Valid session
// ---------------------------------------------------------------------------------------------

#[test]
fn session_with_csrf_header_is_authenticated() {
    let server = Server::default_config();
    let (r, session) = login_full(&server, ADMIN, false);
    let body = r.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "status", "user"], "login envelope: {body}");
    assert_eq!(body["code"], 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["user"]["email"], ADMIN.0);
    assert_eq!(body["user"]["id"], "admin001");

    // The session is persisted server-side.
    let sessions = tree_contents(&server.root.join("site/sessions"));
    assert!(
        sessions.keys().any(|k| k.ends_with(".sess")),
        "no session file after login: {:?}",
        sessions.keys()
    );

    let r = get_auth(&server, &session);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(JSON_TYPE));
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["type"], "model");
    assert_eq!(body["data"]["email"], ADMIN.0);
    assert_eq!(body["data"]["id"], "admin001");
    // An ordinary authenticated call neither renews nor re-sends the cookie.
    assert_no_set_cookie(&r);
    assert_eq!(r.header("cache-control"), Some("no-store, private"));

    // Other roles with panel access work the same way.
    let editor = login(&server, EDITOR);
    assert_eq!(get_auth(&server, &editor).json()["data"]["email"], EDITOR.0);
    let client = login(&server, CLIENT);
    assert_eq!(get_auth(&server, &client).json()["data"]["email"], CLIENT.0);
}

// ---------------------------------------------------------------------------------------------
// 2. CSRF header on session requests
// ---------------------------------------------------------------------------------------------

#[test]
fn session_requests_require_the_csrf_header() {
    let server = Server::default_config();
    let session = login(&server, ADMIN);

    // Cookie without X-CSRF.
    let r = server.send(&Request::new("GET", "/api/auth").header("Cookie", &session.cookie));
    assert_unauthenticated(&r);
    assert_no_set_cookie(&r);

    // Wrong X-CSRF (64 zeros).
    let r = server.send(
        &Request::new("GET", "/api/auth")
            .header("Cookie", &session.cookie)
            .header("X-CSRF", &"0".repeat(64)),
    );
    assert_unauthenticated(&r);
    assert_no_set_cookie(&r);

    // Empty X-CSRF.
    let r = server.send(
        &Request::new("GET", "/api/auth")
            .header("Cookie", &session.cookie)
            .header("X-CSRF", ""),
    );
    assert_unauthenticated(&r);
    assert_no_set_cookie(&r);

    // The right token, but only as `?csrf=` (Folio deliberately ignores the query string).
    let r = server.send(
        &Request::new("GET", &format!("/api/auth?csrf={}", session.csrf))
            .header("Cookie", &session.cookie),
    );
    assert_unauthenticated(&r);
    assert_no_set_cookie(&r);

    // The X-CSRF token without the cookie is no session either.
    let r = server.send(&Request::new("GET", "/api/auth").header("X-CSRF", &session.csrf));
    assert_unauthenticated(&r);
    assert_new_session_cookie(&r);

    // None of the rejected requests ended the session.
    let r = get_auth(&server, &session);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["email"], ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 3. Login rejections
// ---------------------------------------------------------------------------------------------

#[test]
fn login_rejects_bad_csrf_and_bad_credentials_uniformly() {
    let server = Server::default_config();
    let pre = start_session(&server);

    // No X-CSRF header: 400, and the existing session gets no new cookie.
    let r = server.send(
        &Request::new("POST", "/api/auth/login")
            .header("Cookie", &pre.cookie)
            .json(&json!({"email": ADMIN.0, "password": ADMIN.1, "long": false})),
    );
    assert_error(&r, 400, Some("error.invalidArgument"), "Invalid CSRF token");
    assert_no_set_cookie(&r);

    // Wrong X-CSRF header: the same.
    let r = server.send(&login_request(
        &pre.with_csrf(&"0".repeat(64)),
        ADMIN.0,
        ADMIN.1,
        false,
    ));
    assert_error(&r, 400, Some("error.invalidArgument"), "Invalid CSRF token");
    assert_no_set_cookie(&r);

    // No cookie at all (and so no session to compare against).
    let r = server.send(
        &Request::new("POST", "/api/auth/login")
            .header("X-CSRF", &pre.csrf)
            .json(&json!({"email": ADMIN.0, "password": ADMIN.1, "long": false})),
    );
    assert_error(&r, 400, Some("error.invalidArgument"), "Invalid CSRF token");

    // Wrong password and unknown e-mail: identical 403s.
    let wrong = server.send(&login_request(&pre, ADMIN.0, "wrong-password", false));
    assert_invalid_login(&wrong);
    assert_no_set_cookie(&wrong);
    let unknown = server.send(&login_request(&pre, "nobody@example.com", ADMIN.1, false));
    assert_invalid_login(&unknown);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        wrong.body, unknown.body,
        "responses must not reveal accounts"
    );

    // A password over 1000 bytes (starting with the real one) is rejected the same way.
    let long_password = format!("{}{}", ADMIN.1, "x".repeat(1001 - ADMIN.1.len()));
    assert_eq!(long_password.len(), 1001);
    let r = server.send(&login_request(&pre, ADMIN.0, &long_password, false));
    assert_invalid_login(&r);
    assert_eq!(r.body, wrong.body);

    // Missing password.
    let r = server.send(&pre.apply(
        Request::new("POST", "/api/auth/login").json(&json!({"email": ADMIN.0, "long": false})),
    ));
    assert_error(
        &r,
        400,
        Some("error.invalidArgument"),
        "Login without password is not enabled",
    );

    // None of this logged the session in ...
    assert_unauthenticated(&get_auth(&server, &pre));
    // ... or locked the account: the right password still works on the same session.
    let r = server.send(&login_request(&pre, ADMIN.0, ADMIN.1, false));
    assert_eq!(r.status, 200, "{}", r.text());
    let after = pre.with_cookie(&r.cookie("kirby_session").expect("login cookie"));
    assert_eq!(get_auth(&server, &after).json()["data"]["email"], ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 4. Session fixation and logout
// ---------------------------------------------------------------------------------------------

#[test]
fn login_regenerates_the_session_and_logout_ends_it_server_side() {
    let server = Server::default_config();
    let pre = start_session(&server);
    let r = server.send(&login_request(&pre, ADMIN.0, ADMIN.1, false));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.set_cookies().len(), 1, "{:?}", r.set_cookies());
    let logged_in = pre.with_cookie(&r.cookie("kirby_session").unwrap());
    assert_ne!(
        pre.cookie, logged_in.cookie,
        "the token must change on login"
    );

    // The pre-login cookie is not logged in.
    assert_unauthenticated(&get_auth(&server, &pre));
    // The new one is, with the unchanged CSRF token.
    assert_eq!(
        get_auth(&server, &logged_in).json()["data"]["email"],
        ADMIN.0
    );

    // Logout.
    let r =
        server.send(&Request::new("POST", "/api/auth/logout").header("Cookie", &logged_in.cookie));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"status": "ok", "message": "ok", "code": 200})
    );
    let keys: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["status", "message", "code"]);
    // The session keeps its CSRF token, so it is regenerated rather than destroyed.
    let after_logout = logged_in.with_cookie(
        &r.cookie("kirby_session")
            .unwrap_or_else(|| panic!("logout sets no cookie: {:?}", r.headers)),
    );
    assert_ne!(after_logout.cookie, logged_in.cookie);
    let set = r.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    assert!((7195..=7200).contains(&max_age(set[0])), "{set:?}");

    // Server-side logout: the logged-in cookie no longer works ...
    assert_unauthenticated(&get_auth(&server, &logged_in));
    // ... and the regenerated cookie names a live session that has no user.
    let r = get_auth(&server, &after_logout);
    assert_unauthenticated(&r);
    assert_no_set_cookie(&r);

    // A second logout with the new cookie is still fine.
    let r = server
        .send(&Request::new("POST", "/api/auth/logout").header("Cookie", &after_logout.cookie));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_unauthenticated(&get_auth(&server, &after_logout));
}

// ---------------------------------------------------------------------------------------------
// 5. Expired and tampered sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_session_is_no_session() {
    let server = Server::start(&["session.durationNormal=3", "session.timeout=3"]);
    let started = Instant::now();
    let pre = start_session(&server);
    // Check that the override took effect.
    let r = server.get("/csrf");
    for c in r.set_cookies() {
        assert!((0..=3).contains(&max_age(c)), "{c}");
    }
    let r = server.send(&login_request(&pre, ADMIN.0, ADMIN.1, false));
    assert_eq!(r.status, 200, "{}", r.text());
    let set = r.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    assert!(
        (0..=3).contains(&max_age(set[0])),
        "session.durationNormal=3 must apply: {set:?}"
    );
    let session = pre.with_cookie(&r.cookie("kirby_session").unwrap());
    let r = get_auth(&server, &session);
    if started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(r.status, 200, "fresh session: {}", r.text());
    }

    std::thread::sleep(Duration::from_secs(4));
    let r = get_auth(&server, &session);
    assert_unauthenticated(&r);
    // An expired session counts as none: a new one is started.
    assert_new_session_cookie(&r);
    assert_ne!(r.cookie("kirby_session").unwrap(), session.cookie);
}

/// Flips one hex character of the signature part of a `kirby_session=<sig>%2B<token>` pair.
fn tamper_signature(cookie: &str) -> String {
    let (name, value) = cookie.split_once('=').expect("name=value");
    let mut chars: Vec<char> = value.chars().collect();
    assert!(chars[..40].iter().all(char::is_ascii_hexdigit), "{value}");
    chars[5] = if chars[5] == '0' { '1' } else { '0' };
    format!("{name}={}", chars.into_iter().collect::<String>())
}

#[test]
fn tampered_cookie_is_no_session() {
    let server = Server::default_config();
    let session = login(&server, ADMIN);
    let tampered = session.with_cookie(&tamper_signature(&session.cookie));
    assert_ne!(tampered.cookie, session.cookie);

    let r = get_auth(&server, &tampered);
    assert_unauthenticated(&r);
    assert_new_session_cookie(&r);
    let fresh = r.cookie("kirby_session").unwrap();
    assert_ne!(fresh, session.cookie);
    assert_ne!(fresh, tampered.cookie);

    // `+` instead of `%2B` is the same cookie; tampering with the token part fails too.
    let plus = session.with_cookie(&session.cookie.replacen("%2B", "+", 1));
    assert_eq!(
        get_auth(&server, &plus).status,
        200,
        "a literal + is accepted"
    );
    let mut token_tampered = session.cookie.clone();
    let last = token_tampered.pop().unwrap();
    token_tampered.push(if last == '0' { '1' } else { '0' });
    assert_unauthenticated(&get_auth(&server, &session.with_cookie(&token_tampered)));

    // The real session is untouched.
    assert_eq!(get_auth(&server, &session).json()["data"]["email"], ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 6. Basic auth
// ---------------------------------------------------------------------------------------------

#[test]
fn basic_auth_accepts_valid_and_rejects_wrong_credentials() {
    let server = Server::default_config();
    let r = server.send(&with_basic(site_title(), ADMIN));
    assert_site_title(&r);
    assert_no_set_cookie(&r);
    assert_eq!(r.header("cache-control"), Some("no-store, private"));

    let r = server.send(&with_basic(site_title(), (ADMIN.0, "wrong-password")));
    assert_invalid_login(&r);
    assert_no_set_cookie(&r);

    // Basic wins over a session cookie of another user (and needs no CSRF).
    let editor = login(&server, EDITOR);
    let r = server.send(&with_basic(
        Request::new("GET", "/api/auth").header("Cookie", &editor.cookie),
        ADMIN,
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["email"], ADMIN.0);
}

#[test]
fn malformed_basic_headers_are_invalid_logins() {
    use base64::Engine;
    let server = Server::default_config();
    let cases = [
        ("not base64", "Basic %%%".to_string()),
        (
            "no colon",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(ADMIN.0)
            ),
        ),
        ("empty", "Basic ".to_string()),
        (
            "not UTF-8",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x3a, 0x61])
            ),
        ),
    ];
    for (what, header) in cases {
        let r = server.send(&site_title().header("Authorization", &header));
        assert_eq!(r.status, 403, "{what}: {}", r.text());
        assert_invalid_login(&r);
        assert_no_set_cookie(&r);
    }

    // A 64 KiB Authorization value: any 4xx, no panic, no hang.
    let huge = format!("Basic {}", "A".repeat(64 * 1024));
    let r = server.send(&site_title().header("Authorization", &huge));
    assert!(
        (400..500).contains(&r.status),
        "huge header: {} {}",
        r.status,
        r.text()
    );
    assert!(server.is_alive(), "server died: {}", server.log());
    assert_site_title(&server.send(&with_basic(site_title(), ADMIN)));
}

// ---------------------------------------------------------------------------------------------
// 7. Basic auth configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn basic_auth_over_plain_http_needs_allow_insecure() {
    let server = Server::start(&["api.allowInsecure=false"]);
    let message = "Basic authentication is only allowed over HTTPS";
    let r = server.send(&with_basic(site_title(), ADMIN));
    assert_error(&r, 403, Some("error.permission"), message);
    // The transport check runs before the credentials are looked at.
    let r = server.send(&with_basic(site_title(), (ADMIN.0, "wrong-password")));
    assert_error(&r, 403, Some("error.permission"), message);
    // Sessions are unaffected.
    let session = login(&server, ADMIN);
    assert_eq!(get_auth(&server, &session).json()["data"]["email"], ADMIN.0);
}

#[test]
fn basic_auth_disabled_falls_back_to_session_auth() {
    let server = Server::start(&["api.basicAuth=false"]);
    let r = server.send(&with_basic(site_title(), ADMIN));
    assert_unauthenticated(&r);
    assert_new_session_cookie(&r);

    let session = login(&server, ADMIN);
    let r = get_auth(&server, &session);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["email"], ADMIN.0);
    assert_site_title(&server.send(&session.apply(site_title())));
}

// ---------------------------------------------------------------------------------------------
// 8. Role without panel access
// ---------------------------------------------------------------------------------------------

#[test]
fn role_without_panel_access_cannot_use_the_api() {
    let server = Server::default_config();
    let r = server.send(&with_basic(site_title(), ROBOT));
    assert_no_panel(&r);
    let r = server.send(&with_basic(Request::new("GET", "/api/auth"), ROBOT));
    assert_no_panel(&r);

    // The session login itself succeeds ...
    let (r, session) = login_full(&server, ROBOT, false);
    assert_eq!(r.json()["code"], 200);
    assert_eq!(r.json()["user"]["email"], ROBOT.0);
    // ... but every later call fails.
    assert_no_panel(&get_auth(&server, &session));
    assert_no_panel(&server.send(&session.apply(site_title())));
}

// ---------------------------------------------------------------------------------------------
// 9. Anonymous requests
// ---------------------------------------------------------------------------------------------

#[test]
fn anonymous_requests() {
    let server = Server::default_config();

    // A protected route starts a session even though it refuses the request.
    for req in [
        Request::new("GET", "/api/site"),
        Request::new("GET", "/api/auth"),
        Request::new("GET", "/api/site").header("Authorization", "Bearer abc.def.ghi"),
    ] {
        let r = server.send(&req);
        assert_unauthenticated(&r);
        assert_new_session_cookie(&r);
        assert_eq!(r.set_cookies().len(), 1, "{:?}", r.set_cookies());
        assert_eq!(r.header("cache-control"), Some("no-store, private"));
    }

    // Anonymous logout: ok, public cache headers, no session.
    let r = server.send(&Request::new("POST", "/api/auth/logout"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"status": "ok", "message": "ok", "code": 200})
    );
    assert_eq!(r.header("vary"), Some("Authorization, Cookie"));
    assert_eq!(r.header("cache-control"), None);
    assert_no_set_cookie(&r);

    // Unknown routes are 404 before authentication.
    let r = server.get("/api/does-not-exist");
    assert_no_route(&r);
    assert_no_set_cookie(&r);
    assert_eq!(r.header("vary"), Some("Authorization, Cookie"));
    let r = server.send(&with_basic(
        Request::new("GET", "/api/does-not-exist"),
        ADMIN,
    ));
    assert_no_route(&r);
    let session = login(&server, ADMIN);
    let r = server.send(&session.apply(Request::new("GET", "/api/does-not-exist")));
    assert_no_route(&r);
    assert_no_set_cookie(&r);
}

// ---------------------------------------------------------------------------------------------
// 10. Cookie attributes
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_cookie_attributes(set_cookie: &str) {
    assert!(set_cookie.starts_with("kirby_session="), "{set_cookie}");
    assert_eq!(
        cookie_attr(set_cookie, "HttpOnly"),
        Some(""),
        "{set_cookie}"
    );
    assert_eq!(
        cookie_attr(set_cookie, "SameSite"),
        Some("Lax"),
        "{set_cookie}"
    );
    assert_eq!(cookie_attr(set_cookie, "path"), Some("/"), "{set_cookie}");
    assert!(cookie_attr(set_cookie, "expires").is_some(), "{set_cookie}");
    assert_eq!(cookie_attr(set_cookie, "Secure"), None, "{set_cookie}");
    assert_eq!(cookie_attr(set_cookie, "Domain"), None, "{set_cookie}");
}

#[test]
fn login_cookie_attributes() {
    let server = Server::default_config();

    // Normal login. Max-Age is the time left until the session's expiry, which was fixed
    // when GET /csrf created the session: allow for a clock tick in between.
    let (r, normal) = login_full(&server, ADMIN, false);
    let set = r.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    assert_cookie_attributes(set[0]);
    let age = max_age(set[0]);
    assert!(
        (7198..=7200).contains(&age),
        "Max-Age=7200 expected: {set:?}"
    );
    assert_eq!(get_auth(&server, &normal).status, 200);

    // Long login on the existing normal session: the header is sent twice, both long.
    let (r, long) = login_full(&server, ADMIN, true);
    let set = r.set_cookies();
    assert_eq!(set.len(), 2, "{set:?}");
    for c in &set {
        assert_cookie_attributes(c);
        let age = max_age(c);
        assert!(
            (1_209_599..=1_209_600).contains(&age),
            "Max-Age=1209600 expected: {set:?}"
        );
    }
    let r = get_auth(&server, &long);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["email"], ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 11. Bad input
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_page_not_found(r: &Response, id: &str) {
    assert_error(
        r,
        404,
        Some("error.page.notFound"),
        &format!("The page \"{id}\" cannot be found"),
    );
}

#[test]
fn bad_input_never_crashes_and_changes_nothing() {
    let server = Server::default_config();
    let content = server.root.join("content");
    let before = tree_hash(&content);
    let before_files = tree_contents(&content);

    // Malformed page ids.
    let r = server.send(&with_basic(
        Request::new("GET", "/api/pages/..+..+etc"),
        ADMIN,
    ));
    assert_page_not_found(&r, "../../etc");
    let r = server.send(&with_basic(Request::new("GET", "/api/pages/%00"), ADMIN));
    assert_page_not_found(&r, "%00");
    let r = server.send(&with_basic(
        Request::new("GET", "/api/pages/a%2F..%2F.."),
        ADMIN,
    ));
    assert_page_not_found(&r, "a%2F..%2F..");
    let r = server.send(&with_basic(
        Request::new("GET", "/api/pages/blog/../../site"),
        ADMIN,
    ));
    assert_no_route(&r);

    // Unparsable JSON for site/find: an envelope, never a crash.
    let bad_json = r#"{"ids": ["blog", "#;
    let r = server.send(
        &Request::new("POST", "/api/site/find")
            .header("Content-Type", "application/json")
            .body(bad_json),
    );
    assert_unauthenticated(&r);
    let r = server.send(&with_basic(
        Request::new("POST", "/api/site/find")
            .header("Content-Type", "application/json")
            .body(bad_json),
        ADMIN,
    ));
    let body = r.json();
    match r.status {
        // The body falls back to query-string parsing (API.md §1) and names no page.
        200 => {
            assert_eq!(body["status"], "ok", "{body}");
            assert_eq!(body["type"], "collection", "{body}");
            assert_eq!(body["data"], json!([]), "{body}");
        }
        400..=499 => {
            assert_eq!(body["status"], "error", "{body}");
            assert_eq!(body["code"], r.status, "{body}");
            assert!(
                body["message"].is_string() && body.get("key").is_some(),
                "{body}"
            );
        }
        other => panic!("site/find with bad JSON: {other} {body}"),
    }

    // Unparsable JSON and non-UTF-8 bytes for login: Kirby's 400.
    let session = start_session(&server);
    for raw in [
        br#"{"email": "admin@example.com", "password": "#.to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
    ] {
        let r = server.send(
            &session.apply(
                Request::new("POST", "/api/auth/login")
                    .header("Content-Type", "application/json")
                    .body(raw),
            ),
        );
        assert_error(
            &r,
            400,
            Some("error.invalidArgument"),
            "Login without password is not enabled",
        );
    }
    assert_unauthenticated(&get_auth(&server, &session));

    assert!(server.is_alive(), "server died: {}", server.log());
    assert_site_title(&server.send(&with_basic(site_title(), ADMIN)));
    assert_content_unchanged(&content, before, &before_files);
}

fn assert_content_unchanged(
    content: &std::path::Path,
    before: u64,
    before_files: &std::collections::BTreeMap<String, Vec<u8>>,
) {
    let after_files = tree_contents(content);
    let changed: Vec<&String> = before_files
        .keys()
        .chain(after_files.keys())
        .filter(|k| before_files.get(*k) != after_files.get(*k))
        .collect();
    assert_eq!(tree_hash(content), before, "content/ changed: {changed:?}");
}

#[test]
fn oversized_body_is_413() {
    let server = Server::start(&["folio.maxBodySize=2048"]);
    let content = server.root.join("content");
    let before = tree_hash(&content);
    let before_files = tree_contents(&content);

    let big =
        json!({"email": ADMIN.0, "password": ADMIN.1, "long": false, "pad": "x".repeat(10 * 1024)});
    let session = start_session(&server);
    let r = server.send(&session.apply(Request::new("POST", "/api/auth/login").json(&big)));
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(JSON_TYPE));
    let body = r.json();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["code"], 413, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body.get("key").is_some(), "{body}");
    assert_eq!(body["details"], json!([]), "{body}");
    // The oversized login did not log the session in.
    assert_unauthenticated(&get_auth(&server, &session));

    let r = server.send(&with_basic(
        Request::new("POST", "/api/site/find").json(&Value::Array(
            (0..1000)
                .map(|i| Value::String(format!("page-{i}")))
                .collect(),
        )),
        ADMIN,
    ));
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["code"], 413);

    // Small bodies still work.
    let r = server.send(&login_request(&session, ADMIN.0, ADMIN.1, false));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(server.is_alive(), "server died: {}", server.log());
    assert_content_unchanged(&content, before, &before_files);
}

// ---------------------------------------------------------------------------------------------
// 12. Method override
// ---------------------------------------------------------------------------------------------

#[test]
fn method_override_is_honoured() {
    let server = Server::default_config();
    // PUT is no route, so the overridden POST is a 404 (a plain POST would be too).
    let r = server.send(&with_basic(
        Request::new("POST", "/api/pages/blog").header("X-HTTP-Method-Override", "PUT"),
        ADMIN,
    ));
    assert_no_route(&r);
    // The override really changes the method: POST + GET reads the site.
    let r = server.send(&with_basic(
        Request::new("POST", "/api/site?select=title").header("X-HTTP-Method-Override", "GET"),
        ADMIN,
    ));
    assert_site_title(&r);
    // Without an override, POST site is no route.
    let r = server.send(&with_basic(
        Request::new("POST", "/api/site?select=title"),
        ADMIN,
    ));
    assert_no_route(&r);
}
