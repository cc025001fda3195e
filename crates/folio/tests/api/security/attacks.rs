//! Black-box security tests of the real `folio` binary (see docs/SECURITY.md and AUTH.md):
//! brute-force blocking (`.logins`, Basic auth), proxy headers with and without
//! `folio.trustedProxies`, account enumeration, oversized passwords, CSRF on every method,
//! cookie attributes, TLS, two nodes sharing sessions and trial counters through Redis
//! (including a Redis outage), session invalidation, and the `folio user` CLI.

use crate::support::{
    JSON_TYPE, Redis, Request, Response, Server, Session, Site, assert_error,
    assert_unauthenticated, folio_cli, get_auth, login, login_full, login_request, start_session,
    tree_contents, tree_hash,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");
const EDITOR: (&str, &str) = ("editor@example.com", "editor-secret-2");
/// An e-mail address without an account.
const GHOST: &str = "ghost@example.com";

const HTTPS_ONLY: &str = "Basic authentication is only allowed over HTTPS";

/// The exact body of every refused login (wrong password, unknown e-mail, blocked client).
const INVALID_LOGIN_BODY: &str = r#"{"status":"error","message":"Invalid login","code":403,"key":"error.access.login","details":[]}"#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A login attempt in an existing (pre-login) session.
fn try_login(server: &Server, session: &Session, email: &str, password: &str) -> Response {
    server.send(&login_request(session, email, password, false))
}

/// `GET /api/auth` with Basic credentials.
fn basic_auth(account: (&str, &str)) -> Request {
    Request::new("GET", "/api/auth").header("Authorization", &crate::support::basic(account))
}

/// The refused-login answer, byte for byte.
#[track_caller]
fn assert_invalid_login(r: &Response) {
    assert_error(r, 403, Some("error.access.login"), "Invalid login");
    assert_eq!(r.text(), INVALID_LOGIN_BODY, "exact body");
}

#[track_caller]
fn assert_https_only(r: &Response) {
    assert_error(r, 403, Some("error.permission"), HTTPS_ONLY);
}

/// A successful `GET /api/auth` for this e-mail.
#[track_caller]
fn assert_auth_ok(r: &Response, email: &str) {
    assert_eq!(r.status, 200, "GET /api/auth: {}", r.text());
    assert_eq!(r.json()["data"]["email"], email, "{}", r.text());
}

/// Kirby's `by-ip` key: the first 50 hex characters of sha256(ip).
fn ip_hash(ip: &str) -> String {
    hex::encode(Sha256::digest(ip.as_bytes()))[..50].to_string()
}

fn logins_path(root: &Path) -> PathBuf {
    root.join("site/accounts/.logins")
}

/// `site/accounts/.logins` as JSON (panics when it is missing). The server writes the file
/// in the background, at most once a second, so this first waits for that.
fn read_logins(root: &Path) -> Value {
    std::thread::sleep(Duration::from_millis(1300));
    let path = logins_path(root);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} should exist: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!(".logins is not JSON ({e}): {text}"))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Asserts one `.logins` entry: `{"time": <now>, "trials": n}` exactly.
#[track_caller]
fn assert_trial_entry(entry: &Value, trials: i64) {
    let obj = entry
        .as_object()
        .unwrap_or_else(|| panic!("trial entry is not an object: {entry}"));
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, ["time", "trials"], "{entry}");
    assert_eq!(obj["trials"], trials, "{entry}");
    let time = obj["time"].as_i64().expect("integer time");
    assert!(
        (time - unix_now()).abs() < 120,
        "time {time} is not about now"
    );
}

/// Polls `f` every 50 ms until it returns `Some` or `timeout` passes.
fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The attributes of a `Set-Cookie` value after the `name=value` pair: (lowercase name,
/// value), flags with an empty value.
fn cookie_attrs(set_cookie: &str) -> Vec<(String, String)> {
    set_cookie
        .split(';')
        .skip(1)
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect()
}

/// The single `kirby_session` `Set-Cookie` of a response.
#[track_caller]
fn session_set_cookie(r: &Response) -> String {
    let all: Vec<&str> = r
        .set_cookies()
        .into_iter()
        .filter(|c| c.starts_with("kirby_session="))
        .collect();
    assert_eq!(all.len(), 1, "one kirby_session cookie expected: {all:?}");
    all[0].to_string()
}

/// Checks the attributes of a normal session cookie: `expires`, `Max-Age=7200`, `path=/`,
/// `HttpOnly`, `SameSite=Lax`, no `domain`, and `secure` exactly when `secure` is true.
#[track_caller]
fn assert_session_cookie(set_cookie: &str, secure: bool) {
    let attrs = cookie_attrs(set_cookie);
    let get = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let max_age: i64 = get("max-age")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric Max-Age: {set_cookie}"));
    // 7200 s left; 7199 only if the request straddled a second boundary.
    assert!(
        (7199..=7200).contains(&max_age),
        "Max-Age=7200 expected: {set_cookie}"
    );
    assert!(get("expires").is_some(), "expires: {set_cookie}");
    assert_eq!(get("path"), Some("/"), "path=/: {set_cookie}");
    assert_eq!(get("httponly"), Some(""), "HttpOnly: {set_cookie}");
    assert_eq!(get("samesite"), Some("Lax"), "SameSite=Lax: {set_cookie}");
    assert_eq!(get("domain"), None, "no domain: {set_cookie}");
    assert_eq!(
        get("secure").is_some(),
        secure,
        "secure should be {secure}: {set_cookie}"
    );
    let names: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
    let expected_len = if secure { 6 } else { 5 };
    assert_eq!(
        names.len(),
        expected_len,
        "unexpected attributes: {set_cookie}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Brute force
// ---------------------------------------------------------------------------------------------

#[test]
fn brute_force_blocks_even_the_right_password() {
    let server = Server::start(&["auth.trials=3"]);
    let pre = start_session(&server);
    let mut wrong_body = String::new();
    for i in 0..3 {
        let r = try_login(&server, &pre, ADMIN.0, &format!("wrong-password-{i}"));
        assert_invalid_login(&r);
        wrong_body = r.text();
    }
    let logins = read_logins(&server.root);
    let by_ip = logins["by-ip"].as_object().expect("by-ip object");
    assert_eq!(by_ip.len(), 1, "one client IP: {logins}");
    let (key, entry) = by_ip.iter().next().expect("one entry");
    assert_eq!(key.len(), 50, "50-hex key: {key}");
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(key, &ip_hash("127.0.0.1"), "sha256(127.0.0.1)[..50]");
    assert_trial_entry(entry, 3);
    let by_email = logins["by-email"].as_object().expect("by-email object");
    assert_eq!(by_email.len(), 1, "{logins}");
    assert_trial_entry(&by_email[ADMIN.0], 3);

    // The 4th attempt, with the right password, is refused exactly like a wrong one.
    let r = try_login(&server, &pre, ADMIN.0, ADMIN.1);
    assert_invalid_login(&r);
    assert_eq!(
        r.text(),
        wrong_body,
        "blocked = wrong password, byte for byte"
    );
    // So is another account from the same (blocked) IP, and Basic auth.
    assert_invalid_login(&try_login(&server, &pre, EDITOR.0, EDITOR.1));
    assert_invalid_login(&server.send(&basic_auth(ADMIN)));
    // Blocked attempts are not counted again (Kirby).
    let logins = read_logins(&server.root);
    assert_trial_entry(&logins["by-ip"][ip_hash("127.0.0.1")], 3);
    // The pre-login session did not get logged in along the way.
    assert_unauthenticated(&get_auth(&server, &pre));
}

#[test]
fn failed_basic_auth_counts_as_a_login_trial() {
    let server = Server::start(&["auth.trials=3"]);
    for i in 0..3 {
        let r = server.send(&basic_auth((EDITOR.0, &format!("not-the-password-{i}"))));
        assert_invalid_login(&r);
    }
    let logins = read_logins(&server.root);
    assert_trial_entry(&logins["by-ip"][ip_hash("127.0.0.1")], 3);
    assert_trial_entry(&logins["by-email"][EDITOR.0], 3);
    // Right Basic credentials, and a session login of another account: both blocked.
    assert_invalid_login(&server.send(&basic_auth(EDITOR)));
    let pre = start_session(&server);
    assert_invalid_login(&try_login(&server, &pre, ADMIN.0, ADMIN.1));
}

// ---------------------------------------------------------------------------------------------
// 2. Proxy headers
// ---------------------------------------------------------------------------------------------

#[test]
fn spoofed_proxy_headers_are_ignored_without_trusted_proxies() {
    let server = Server::start(&["auth.trials=3", "api.allowInsecure=false"]);
    // X-Forwarded-Proto does not turn plain HTTP into HTTPS.
    let r = server.send(
        &basic_auth(ADMIN)
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "for=192.0.2.1;proto=https"),
    );
    assert_https_only(&r);

    // Failures from "different" clients are all counted against the socket peer.
    let pre = start_session(&server);
    for i in 1..=3 {
        let r = server.send(
            &login_request(&pre, GHOST, "wrong-password", false)
                .header("X-Forwarded-For", &format!("203.0.113.{i}"))
                .header("X-Real-IP", &format!("203.0.113.{}", i + 10)),
        );
        assert_invalid_login(&r);
    }
    let r = server.send(
        &login_request(&pre, ADMIN.0, ADMIN.1, false).header("X-Forwarded-For", "203.0.113.99"),
    );
    assert_invalid_login(&r);
    let r = server.send(&login_request(&pre, ADMIN.0, ADMIN.1, false));
    assert_invalid_login(&r);

    let logins = read_logins(&server.root);
    assert_eq!(
        logins["by-ip"].as_object().map(|m| m.len()),
        Some(1),
        "only the socket peer is counted: {logins}"
    );
    assert_trial_entry(&logins["by-ip"][ip_hash("127.0.0.1")], 3);
    assert!(
        logins
            .get("by-email")
            .is_none_or(|m| m.as_object().is_some_and(|m| m.is_empty())),
        "unknown e-mails are not tracked: {logins}"
    );
}

#[test]
fn trusted_proxy_headers_set_client_ip_and_https() {
    let server = Server::start(&[
        "auth.trials=3",
        "api.allowInsecure=false",
        r#"folio.trustedProxies=["127.0.0.1"]"#,
    ]);
    // The proxy says HTTPS: Basic auth passes; without the header it is plain HTTP.
    let r = server.send(&basic_auth(ADMIN).header("X-Forwarded-Proto", "https"));
    assert_auth_ok(&r, ADMIN.0);
    assert_https_only(&server.send(&basic_auth(ADMIN)));
    assert_https_only(&server.send(&basic_auth(ADMIN).header("X-Forwarded-Proto", "http")));

    // Three failures from 198.51.100.7 (an unknown e-mail: only the IP is counted).
    let via_proxy = |account: (&str, &str), xff: &str| {
        server.send(
            &basic_auth(account)
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-For", xff),
        )
    };
    for _ in 0..3 {
        assert_invalid_login(&via_proxy((GHOST, "wrong-password"), "198.51.100.7"));
    }
    // That client is blocked, also when it prepends a spoofed address...
    assert_invalid_login(&via_proxy(ADMIN, "198.51.100.7"));
    assert_invalid_login(&via_proxy(ADMIN, "203.0.113.50, 198.51.100.7"));
    // ...but its neighbour and the proxy itself are not.
    assert_auth_ok(&via_proxy(ADMIN, "198.51.100.8"), ADMIN.0);
    assert_auth_ok(&via_proxy(ADMIN, "198.51.100.7, 198.51.100.8"), ADMIN.0);
    let r = server.send(&basic_auth(ADMIN).header("X-Forwarded-Proto", "https"));
    assert_auth_ok(&r, ADMIN.0);

    let logins = read_logins(&server.root);
    let by_ip = logins["by-ip"].as_object().expect("by-ip");
    assert_eq!(by_ip.len(), 1, "{logins}");
    assert_trial_entry(&logins["by-ip"][ip_hash("198.51.100.7")], 3);
    assert!(by_ip.get(&ip_hash("127.0.0.1")).is_none(), "{logins}");
}

// ---------------------------------------------------------------------------------------------
// 3. Enumeration
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_email_and_wrong_password_are_indistinguishable() {
    // Enough trials that no request here is blocked (a blocked request skips bcrypt).
    let server = Server::start(&["auth.trials=1000"]);
    let pre = start_session(&server);
    let unknown = try_login(&server, &pre, GHOST, "wrong-password-1");
    let wrong = try_login(&server, &pre, ADMIN.0, "wrong-password-1");
    assert_invalid_login(&unknown);
    assert_invalid_login(&wrong);
    assert_eq!(unknown.body, wrong.body, "byte-identical bodies");
    assert_eq!(unknown.set_cookies(), wrong.set_cookies());
    let unknown = server.send(&basic_auth((GHOST, "wrong-password-1")));
    let wrong = server.send(&basic_auth((ADMIN.0, "wrong-password-1")));
    assert_invalid_login(&unknown);
    assert_invalid_login(&wrong);
    assert_eq!(unknown.body, wrong.body, "byte-identical Basic bodies");

    // Timing: both sleep 10 ms–2 s at random on top of a bcrypt check. Compare medians of
    // 21 concurrent, interleaved samples each: the 4× bound then fails by chance about once
    // in 25,000 runs (with 5 samples it would be about once in 36).
    const N: usize = 21;
    let samples: Vec<(bool, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2 * N)
            .map(|i| {
                let server = &server;
                let pre = &pre;
                s.spawn(move || {
                    let is_unknown = i % 2 == 0;
                    let email = if is_unknown { GHOST } else { ADMIN.0 };
                    let start = Instant::now();
                    let r = try_login(server, pre, email, "wrong-password-2");
                    let took = start.elapsed();
                    assert_invalid_login(&r);
                    (is_unknown, took)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sample thread"))
            .collect()
    });
    let pick = |u: bool| -> Vec<Duration> {
        samples
            .iter()
            .filter(|(k, _)| *k == u)
            .map(|(_, d)| *d)
            .collect()
    };
    let (m_unknown, m_wrong) = (median(pick(true)), median(pick(false)));
    let floor = Duration::from_millis(10);
    assert!(m_unknown > floor, "unknown e-mail median {m_unknown:?}");
    assert!(m_wrong > floor, "wrong password median {m_wrong:?}");
    assert!(
        m_unknown <= m_wrong * 4 && m_wrong <= m_unknown * 4,
        "medians differ too much: unknown {m_unknown:?}, wrong password {m_wrong:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Oversized password
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_password_is_an_invalid_login() {
    let server = Server::default_config();
    // The real password followed by padding: must not match (bcrypt looks at 72 bytes only).
    let huge = format!("{}{}", ADMIN.1, "x".repeat(2000 - ADMIN.1.len()));
    assert_eq!(huge.len(), 2000);
    let pre = start_session(&server);
    let start = Instant::now();
    let r = try_login(&server, &pre, ADMIN.0, &huge);
    let took = start.elapsed();
    assert_invalid_login(&r);
    // At most the 2 s random delay plus overhead.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let start = Instant::now();
    assert_invalid_login(&server.send(&basic_auth((ADMIN.0, &huge))));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(server.is_alive(), "server died: {}", server.log());
    // Still serving, and the account still works.
    assert_auth_ok(&get_auth(&server, &login(&server, ADMIN)), ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 5. CSRF
// ---------------------------------------------------------------------------------------------

#[test]
fn csrf_is_required_for_every_method_and_only_from_the_header() {
    let server = Server::default_config();
    let s = login(&server, ADMIN);
    let content = server.root.join("content");
    let before = tree_hash(&content);
    let blog = || Request::new("PATCH", "/api/pages/blog").json(&json!({"intro": "x"}));
    let find = || Request::new("POST", "/api/site/find").json(&json!({"search": "fog"}));

    // Cookie without X-CSRF: 401 for GET, POST, PATCH and DELETE.
    for req in [
        Request::new("GET", "/api/site"),
        find(),
        blog(),
        Request::new("DELETE", "/api/pages/contact"),
    ] {
        let r = server.send(&s.cookie_only(req.clone()));
        assert_unauthenticated(&r);
        assert!(r.set_cookies().is_empty(), "{:?}", r.headers);
        // A wrong token is no better.
        let r = server.send(&s.cookie_only(req.clone()).header("X-CSRF", &"0".repeat(64)));
        assert_unauthenticated(&r);
        // The token in the query string is refused.
        let mut q = req.clone();
        q.path = format!("{}?csrf={}", q.path, s.csrf);
        assert_unauthenticated(&server.send(&s.cookie_only(q)));
    }
    assert_eq!(tree_hash(&content), before, "content changed without CSRF");

    // Method override does not bypass the check.
    let r = server.send(
        &s.cookie_only(Request::new("POST", "/api/pages/blog").json(&json!({"intro": "x"})))
            .header("X-HTTP-Method-Override", "PATCH"),
    );
    assert_unauthenticated(&r);
    let r = server.send(
        &s.cookie_only(Request::new("POST", "/api/pages/contact"))
            .header("X-HTTP-Method-Override", "DELETE"),
    );
    assert_unauthenticated(&r);
    assert_eq!(tree_hash(&content), before, "content changed without CSRF");

    // A GET stays a read, whatever it asks to be overridden to.
    let r = server.send(
        &s.apply(Request::new("GET", "/api/pages/contact"))
            .header("X-HTTP-Method-Override", "DELETE"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["id"], "contact", "{}", r.text());
    assert!(content.join("contact").is_dir(), "contact deleted by a GET");
    assert_eq!(tree_hash(&content), before, "a GET changed content");

    // Controls: with the header the same writes go through, so the refusals above were
    // the CSRF check and not broken routes.
    let r = server.send(&s.apply(blog()));
    assert_eq!(r.status, 200, "PATCH with X-CSRF: {}", r.text());
    let blog_txt = std::fs::read_to_string(content.join("1_blog/blog.txt")).expect("blog.txt");
    assert!(blog_txt.contains("Intro: x"), "{blog_txt}");
    let r = server.send(
        &s.apply(Request::new("POST", "/api/pages/contact"))
            .header("X-HTTP-Method-Override", "DELETE"),
    );
    assert_eq!(
        r.status,
        200,
        "POST+override DELETE with X-CSRF: {}",
        r.text()
    );
    assert!(!content.join("contact").exists(), "contact not deleted");
}

// ---------------------------------------------------------------------------------------------
// 6. Cookie attributes / 7. TLS
// ---------------------------------------------------------------------------------------------

#[test]
fn session_cookie_attributes() {
    // Plain HTTP: no `secure`, also not when an untrusted client claims HTTPS.
    let server = Server::default_config();
    let r = server.get("/csrf");
    assert_session_cookie(&session_set_cookie(&r), false);
    let pre = Session {
        cookie: r.cookie("kirby_session").expect("cookie"),
        csrf: r.json()["csrf"].as_str().expect("csrf").to_string(),
    };
    let r = try_login(&server, &pre, ADMIN.0, ADMIN.1);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_session_cookie(&session_set_cookie(&r), false);
    let r = server.send(&Request::new("GET", "/csrf").header("X-Forwarded-Proto", "https"));
    assert_session_cookie(&session_set_cookie(&r), false);

    // Behind a trusted proxy that says HTTPS: `secure`.
    let proxied = Server::start(&[r#"folio.trustedProxies=["127.0.0.1"]"#]);
    let r = proxied.send(&Request::new("GET", "/csrf").header("X-Forwarded-Proto", "https"));
    assert_session_cookie(&session_set_cookie(&r), true);
    let r = proxied.get("/csrf");
    assert_session_cookie(&session_set_cookie(&r), false);

    // Over TLS: `secure`.
    let site = Site::new();
    let tls = Server::start_tls(&site.root, &[]);
    let r = tls.get("/csrf");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_session_cookie(&session_set_cookie(&r), true);
}

#[test]
fn tls_allows_basic_auth_and_sets_secure_cookies() {
    let site = Site::new();
    let server = Server::start_tls(&site.root, &["api.allowInsecure=false"]);
    // Basic auth over HTTPS.
    assert_auth_ok(&server.send(&basic_auth(ADMIN)), ADMIN.0);
    assert_invalid_login(&server.send(&basic_auth((ADMIN.0, "wrong-password"))));
    // Session login over HTTPS.
    let (r, s) = login_full(&server, EDITOR, false);
    assert_session_cookie(&session_set_cookie(&r), true);
    assert_auth_ok(&get_auth(&server, &s), EDITOR.0);
    // Plain HTTP on the TLS port gets no HTTP answer (and so no credentials are accepted).
    let mut tcp = std::net::TcpStream::connect(server.addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let plain =
        Request::new("GET", "/api/auth").header("Authorization", &crate::support::basic(ADMIN));
    let _ = tcp.write_all(&plain.to_bytes(&server.addr.to_string()));
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP answered on the TLS port: {:?}",
        String::from_utf8_lossy(&answer)
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Two nodes sharing Redis
// ---------------------------------------------------------------------------------------------

#[test]
fn two_nodes_share_sessions_and_trials_through_redis() {
    let mut redis = Redis::start();
    let site = Site::new();
    let store = format!("session.store={}", redis.url());
    let sets = [store.as_str(), "auth.trials=3"];
    let a = Server::start_on(&site.root, &sets);
    let b = Server::start_on(&site.root, &sets);

    // Log in on A, use the session on B.
    let s = login(&a, ADMIN);
    assert_auth_ok(&get_auth(&b, &s), ADMIN.0);
    assert_auth_ok(&get_auth(&a, &s), ADMIN.0);
    let sessions_dir = site.root.join("site/sessions");
    let files = std::fs::read_dir(&sessions_dir)
        .map(|d| d.flatten().count())
        .unwrap_or(0);
    assert_eq!(
        files, 0,
        "sessions must live in Redis, not in {sessions_dir:?}"
    );

    // Log out on B: the session is gone on A too.
    let r = b.send(&Request::new("POST", "/api/auth/logout").header("Cookie", &s.cookie));
    assert_eq!(r.status, 200, "logout: {}", r.text());
    assert_unauthenticated(&get_auth(&a, &s));
    assert_unauthenticated(&get_auth(&b, &s));

    // A session for the outage below (logged in before the IP gets blocked).
    let kept = login(&b, EDITOR);
    assert_auth_ok(&get_auth(&a, &kept), EDITOR.0);

    // Three failures on A block the right password on B.
    let pre_a = start_session(&a);
    for _ in 0..3 {
        assert_invalid_login(&try_login(&a, &pre_a, GHOST, "wrong-password"));
    }
    let pre_b = start_session(&b);
    assert_invalid_login(&try_login(&b, &pre_b, ADMIN.0, ADMIN.1));
    assert_invalid_login(&b.send(&basic_auth(ADMIN)));
    assert!(
        !logins_path(&site.root).exists(),
        "trial counters must live in Redis"
    );

    // Redis down: authentication fails closed with 503.
    redis.stop();
    let r = a.send(&kept.apply(Request::new("GET", "/api/auth")));
    assert_eq!(
        r.status,
        503,
        "session request with Redis down: {}",
        r.text()
    );
    assert_eq!(r.header("content-type"), Some(JSON_TYPE));
    let body = r.json();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["code"], 503, "{body}");
    assert_eq!(body["key"], "error.unavailable", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let r = a.send(&basic_auth(ADMIN));
    assert_eq!(
        r.status,
        503,
        "password check with Redis down: {}",
        r.text()
    );

    // Redis back (empty): A recovers by itself.
    redis.restart();
    let fresh = poll(Duration::from_secs(15), || {
        let r = a.get("/csrf");
        if r.status != 200 {
            return None;
        }
        let pre = Session {
            cookie: r.cookie("kirby_session")?,
            csrf: r.json()["csrf"].as_str()?.to_string(),
        };
        let r = try_login(&a, &pre, ADMIN.0, ADMIN.1);
        (r.status == 200).then(|| Session {
            cookie: r.cookie("kirby_session").expect("login cookie"),
            csrf: pre.csrf,
        })
    })
    .unwrap_or_else(|| panic!("node A did not recover after Redis came back: {}", a.log()));
    assert_auth_ok(&get_auth(&a, &fresh), ADMIN.0);
    // B was idle during the outage; it recovers by itself as well (its first request after
    // the restart may still see the dead connection).
    let b_ok = poll(Duration::from_secs(10), || {
        (get_auth(&b, &fresh).status == 200).then_some(())
    });
    assert!(b_ok.is_some(), "node B did not recover: {}", b.log());
    assert_auth_ok(&get_auth(&b, &fresh), ADMIN.0);
    // The old session was only in the old Redis.
    assert_unauthenticated(&get_auth(&a, &kept));
}

// ---------------------------------------------------------------------------------------------
// 9. Session fixation, server-side logout, password change
// ---------------------------------------------------------------------------------------------

#[test]
fn sessions_end_on_login_logout_and_password_change() {
    let server = Server::default_config();

    // Fixation: the pre-login token stops working at login.
    let pre = start_session(&server);
    let r = try_login(&server, &pre, EDITOR.0, EDITOR.1);
    assert_eq!(r.status, 200, "{}", r.text());
    let s1 = Session {
        cookie: r.cookie("kirby_session").expect("login cookie"),
        csrf: pre.csrf.clone(),
    };
    assert_ne!(s1.cookie, pre.cookie, "token regenerated at login");
    assert_unauthenticated(&get_auth(&server, &pre));
    assert_auth_ok(&get_auth(&server, &s1), EDITOR.0);

    // Logout ends the session on the server: replaying the old cookie fails.
    let admin = login(&server, ADMIN);
    let r = server.send(&admin.apply(Request::new("POST", "/api/auth/logout")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_unauthenticated(&get_auth(&server, &admin));
    let admin = login(&server, ADMIN);

    // A second editor session.
    let s2 = login(&server, EDITOR);
    assert_auth_ok(&get_auth(&server, &s2), EDITOR.0);

    // No pause: sessions logged in during the same second as the change must end too
    // (the rule compares whole seconds, login timestamp < .htpasswd mtime).
    let new_password = "a-brand-new-secret-9";
    let out = folio_cli(
        &[
            "user",
            "passwd",
            EDITOR.0,
            "--root",
            server.root.to_str().expect("UTF-8 path"),
        ],
        &format!("{new_password}\n"),
    );
    assert!(
        out.status.success(),
        "folio user passwd failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ended = poll(Duration::from_secs(2), || {
        (get_auth(&server, &s1).status == 401 && get_auth(&server, &s2).status == 401).then_some(())
    });
    assert!(
        ended.is_some(),
        "editor sessions still valid 2 s after the password change"
    );
    assert_unauthenticated(&get_auth(&server, &s1));
    assert_unauthenticated(&get_auth(&server, &s2));
    // Other users stay logged in.
    assert_auth_ok(&get_auth(&server, &admin), ADMIN.0);
    // The new password works, the old one does not.
    assert_auth_ok(
        &server.send(&basic_auth((EDITOR.0, new_password))),
        EDITOR.0,
    );
    assert_invalid_login(&server.send(&basic_auth(EDITOR)));
    let s3 = login(&server, (EDITOR.0, new_password));
    assert_auth_ok(&get_auth(&server, &s3), EDITOR.0);
}

// ---------------------------------------------------------------------------------------------
// 10. User CLI
// ---------------------------------------------------------------------------------------------

fn cli(args: &[&str], root: &Path, stdin: &str) -> std::process::Output {
    let mut all: Vec<&str> = vec!["user"];
    all.extend_from_slice(args);
    all.push("--root");
    all.push(root.to_str().expect("UTF-8 path"));
    folio_cli(&all, stdin)
}

#[track_caller]
fn assert_cli_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A failed command: non-zero exit, and stderr contains `needle`.
#[track_caller]
fn assert_cli_fails(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected a failure ({needle}); stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(needle),
        "stderr should mention {needle:?}: {stderr}"
    );
}

/// The id of the account folder with this e-mail (by reading every index.php).
fn account_dir(root: &Path, email: &str) -> Option<PathBuf> {
    let needle = format!("'email' => '{email}'");
    std::fs::read_dir(root.join("site/accounts"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p.join("index.php")).is_ok_and(|s| s.contains(&needle)))
}

#[test]
fn user_cli_manages_accounts_in_kirby_format() {
    let server = Server::default_config();
    let root = server.root.clone();
    let accounts = root.join("site/accounts");
    let fixture_accounts = tree_contents(&accounts);

    // Errors: nothing written, clear messages.
    let out = cli(
        &["add", "ADMIN@example.com", "--role", "editor"],
        &root,
        "long-enough-pw\n",
    );
    assert_cli_fails(&out, "already exists");
    let out = cli(
        &["add", "nina@example.com", "--role", "wizard"],
        &root,
        "long-enough-pw\n",
    );
    assert_cli_fails(&out, "unknown role");
    let out = cli(
        &["add", "nina@example.com", "--role", "editor"],
        &root,
        "short\n",
    );
    assert_cli_fails(&out, "at least 8 characters");
    assert_eq!(
        tree_contents(&accounts),
        fixture_accounts,
        "a failed `user add` wrote something"
    );

    // Add without a name.
    let password = "nina-secret-10";
    let out = cli(
        &["add", "nina@example.com", "--role", "editor"],
        &root,
        &format!("{password}\n"),
    );
    let stdout = assert_cli_ok(&out);
    assert!(stdout.contains("nina@example.com"), "{stdout}");
    let dir = account_dir(&root, "nina@example.com").expect("account folder");
    let id = dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("folder name")
        .to_string();
    assert_eq!(id.len(), 8, "id {id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("index.php")).expect("index.php"),
        "<?php\n\nreturn [\n    'email' => 'nina@example.com',\n    'language' => 'en',\n    'name' => NULL,\n    'role' => 'editor'\n];"
    );
    let hash = std::fs::read_to_string(dir.join(".htpasswd")).expect(".htpasswd");
    assert!(hash.starts_with("$2y$10$"), "{hash}");
    assert_eq!(hash.len(), 60, "one bcrypt hash, no newline: {hash:?}");
    assert_eq!(
        std::fs::read(dir.join("user.txt")).expect("user.txt"),
        b"Bio: ",
        "the editor blueprint's fields, as the API's create writes them (the CLI runs the same action)"
    );
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("account folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, [".htpasswd", "index.php", "user.txt"]);

    // The running server picks the new account up.
    let nina = ("nina@example.com", password);
    // (Polled as the admin: a failed login of the new account would count as a trial.)
    let user_url = format!("/api/users/{id}");
    let admin_get = |path: &str| {
        server
            .send(&Request::new("GET", path).header("Authorization", &crate::support::basic(ADMIN)))
            .status
    };
    let seen = poll(Duration::from_secs(5), || {
        (admin_get(&user_url) == 200).then_some(())
    });
    assert!(seen.is_some(), "the server did not see the new account");
    assert_auth_ok(&server.send(&basic_auth(nina)), nina.0);
    assert_auth_ok(&get_auth(&server, &login(&server, nina)), nina.0);

    // Add with a name (PHP single-quote escaping).
    let out = cli(
        &[
            "add",
            "owen@example.com",
            "--role",
            "client",
            "--name",
            "Owen O'Brien",
        ],
        &root,
        "owen-secret-10\n",
    );
    assert_cli_ok(&out);
    let owen = account_dir(&root, "owen@example.com").expect("owen's folder");
    assert_eq!(
        std::fs::read_to_string(owen.join("index.php")).expect("index.php"),
        "<?php\n\nreturn [\n    'email' => 'owen@example.com',\n    'language' => 'en',\n    'name' => 'Owen O\\'Brien',\n    'role' => 'client'\n];"
    );

    // List.
    let list = assert_cli_ok(&cli(&["list"], &root, ""));
    let line = list
        .lines()
        .find(|l| l.contains("nina@example.com"))
        .unwrap_or_else(|| panic!("nina missing from `user list`: {list}"));
    assert_eq!(line, format!("{id}\tnina@example.com\teditor\t"));
    assert!(
        list.lines()
            .any(|l| l == "admin001\tadmin@example.com\tadmin\tAda Admin"),
        "{list}"
    );
    assert!(list.contains("Owen O'Brien"), "{list}");

    // Role.
    assert_cli_ok(&cli(&["role", "nina@example.com", "client"], &root, ""));
    assert_eq!(
        std::fs::read_to_string(dir.join("index.php")).expect("index.php"),
        "<?php\n\nreturn [\n    'email' => 'nina@example.com',\n    'language' => 'en',\n    'name' => NULL,\n    'role' => 'client'\n];"
    );
    let list = assert_cli_ok(&cli(&["list"], &root, ""));
    assert!(
        list.lines()
            .any(|l| l == format!("{id}\tnina@example.com\tclient\t")),
        "{list}"
    );
    assert_cli_fails(
        &cli(&["role", "nina@example.com", "wizard"], &root, ""),
        "unknown role",
    );

    // The last admin can be neither demoted nor deleted.
    let admin_before = tree_contents(&accounts.join("admin001"));
    assert_cli_fails(&cli(&["role", ADMIN.0, "editor"], &root, ""), "last admin");
    assert_cli_fails(&cli(&["delete", ADMIN.0], &root, ""), "last admin");
    assert_eq!(tree_contents(&accounts.join("admin001")), admin_before);

    // Delete.
    assert_cli_ok(&cli(&["delete", "nina@example.com"], &root, ""));
    assert!(!dir.exists(), "folder still there");
    let list = assert_cli_ok(&cli(&["list"], &root, ""));
    assert!(!list.contains("nina@example.com"), "{list}");
    assert_cli_fails(
        &cli(&["delete", "nina@example.com"], &root, ""),
        "no account",
    );
    let gone = poll(Duration::from_secs(5), || {
        (admin_get(&user_url) == 404).then_some(())
    });
    assert!(gone.is_some(), "the server still lists the deleted account");
    assert_invalid_login(&server.send(&basic_auth(nina)));
}

// ---------------------------------------------------------------------------------------------
// 10. Nothing stored before a login; pre-login tokens shared by every node
// ---------------------------------------------------------------------------------------------

/// Session files in a sessions folder (the site secret does not count).
fn session_files(root: &Path) -> usize {
    std::fs::read_dir(root.join("site/sessions"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".sess"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn anonymous_csrf_tokens_and_csrf_pages_store_nothing() {
    // The example site: every page calls csrf() in its template.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    crate::support::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/site"),
        &root,
    );
    let _ = std::fs::remove_dir_all(root.join("site/sessions"));
    let server = Server::start_on(&root, &[]);
    let mut last = None;
    for i in 0..2000 {
        let r = if i % 10 == 0 {
            server.get("/")
        } else {
            server.get("/app")
        };
        assert_eq!(r.status, 200, "{}", r.text());
        if i % 10 == 9 {
            last = Some(r);
        }
    }
    for _ in 0..500 {
        assert_eq!(server.get("/api/auth").status, 401);
    }
    assert_eq!(
        session_files(&root),
        0,
        "anonymous traffic wrote session files"
    );
    // A page's token and cookie still log in, and only that login is stored.
    let page = last.expect("a page");
    let html = page.text();
    let csrf = html
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the csrf meta tag")
        .to_string();
    let pre = Session {
        cookie: page.cookie("kirby_session").expect("cookie"),
        csrf,
    };
    let r = try_login(&server, &pre, "admin@example.com", "folio-demo-1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(session_files(&root), 1);
}

#[test]
fn a_token_from_another_node_logs_in() {
    // Two nodes on one site folder (file sessions): they share the secret file.
    let site = Site::new();
    let a = Server::start_on(&site.root, &[]);
    let b = Server::start_on(&site.root, &[]);
    let pre = start_session(&a);
    let r = try_login(&b, &pre, ADMIN.0, ADMIN.1);
    assert_eq!(r.status, 200, "login on B with A's token: {}", r.text());
    let s = Session {
        cookie: r.cookie("kirby_session").unwrap(),
        csrf: pre.csrf.clone(),
    };
    assert_auth_ok(&get_auth(&a, &s), ADMIN.0);
    // A node with another secret does not accept the token.
    let other = Site::new();
    let c = Server::start_on(&other.root, &[]);
    let r = try_login(&c, &pre, ADMIN.0, ADMIN.1);
    assert_error(&r, 400, Some("error.invalidArgument"), "Invalid CSRF token");

    // Two nodes on Redis agree on the secret through Redis.
    let redis = Redis::start();
    let store = format!("session.store={}", redis.url());
    let x = Server::start_on(&Site::new().root, &[store.as_str()]);
    let y = Server::start_on(&Site::new().root, &[store.as_str()]);
    let pre = poll(Duration::from_secs(10), || {
        let r = x.get("/csrf");
        (r.status == 200).then(|| start_session(&x))
    })
    .expect("node X hands out tokens");
    let r = poll(Duration::from_secs(10), || {
        let r = try_login(&y, &pre, ADMIN.0, ADMIN.1);
        (r.status == 200).then_some(r)
    })
    .unwrap_or_else(|| panic!("login on Y with X's token failed: {}", y.log()));
    let s = Session {
        cookie: r.cookie("kirby_session").unwrap(),
        csrf: pre.csrf,
    };
    assert_auth_ok(&get_auth(&x, &s), ADMIN.0);
}

// ---------------------------------------------------------------------------------------------
// 11. A burst of guesses: trials are reserved before bcrypt runs
// ---------------------------------------------------------------------------------------------

/// Sends `n` requests at once (one thread each) and returns the answers.
fn burst(server: &Server, reqs: Vec<Request>) -> Vec<Response> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = reqs
            .iter()
            .map(|r| scope.spawn(move || server.send(r)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_concurrent_burst_cannot_defeat_auth_trials() {
    // Basic auth: 300 wrong guesses at once, then the right password.
    let server = Server::start(&["auth.trials=10", "folio.maxConnectionsPerIp=1000"]);
    let wrong: Vec<Request> = (0..300)
        .map(|i| {
            Request::new("GET", "/api/auth").header(
                "Authorization",
                &crate::support::basic((EDITOR.0, &format!("guess-{i:04}-x"))),
            )
        })
        .collect();
    for r in burst(&server, wrong) {
        assert_invalid_login(&r);
    }
    assert_invalid_login(&server.send(&basic_auth(EDITOR)));
    let logins = read_logins(&server.root);
    assert_trial_entry(&logins["by-ip"][ip_hash("127.0.0.1")], 10);
    assert_trial_entry(&logins["by-email"][EDITOR.0], 10);

    // Session logins from one pre-login session, the same way.
    let server = Server::start(&["auth.trials=10", "folio.maxConnectionsPerIp=1000"]);
    let pre = start_session(&server);
    let wrong: Vec<Request> = (0..300)
        .map(|i| login_request(&pre, ADMIN.0, &format!("guess-{i:04}-x"), false))
        .collect();
    for r in burst(&server, wrong) {
        assert_invalid_login(&r);
    }
    assert_invalid_login(&try_login(&server, &pre, ADMIN.0, ADMIN.1));
    assert_trial_entry(
        &read_logins(&server.root)["by-ip"][ip_hash("127.0.0.1")],
        10,
    );
}

#[test]
fn a_burst_across_redis_nodes_cannot_defeat_auth_trials() {
    let redis = Redis::start();
    let site = Site::new();
    let store = format!("session.store={}", redis.url());
    let sets = [
        store.as_str(),
        "auth.trials=10",
        "folio.maxConnectionsPerIp=1000",
    ];
    let a = Server::start_on(&site.root, &sets);
    let b = Server::start_on(&site.root, &sets);
    let wrong = |i: usize| {
        Request::new("GET", "/api/auth").header(
            "Authorization",
            &crate::support::basic((EDITOR.0, &format!("guess-{i:04}-x"))),
        )
    };
    std::thread::scope(|scope| {
        let ha = scope.spawn(|| burst(&a, (0..150).map(wrong).collect()));
        let hb = scope.spawn(|| burst(&b, (150..300).map(wrong).collect()));
        for r in ha.join().unwrap().into_iter().chain(hb.join().unwrap()) {
            assert_invalid_login(&r);
        }
    });
    assert_invalid_login(&a.send(&basic_auth(EDITOR)));
    assert_invalid_login(&b.send(&basic_auth(EDITOR)));
}

// ---------------------------------------------------------------------------------------------
// 12. A logout racing a request of the same session
// ---------------------------------------------------------------------------------------------

/// Starts a PATCH in the session whose body is held back; the server has loaded (and
/// renewed) the session by the time this returns. Finish it with [`finish_held`].
fn hold_request(server: &Server, s: &Session) -> std::net::TcpStream {
    let body = r#"{"title":"Home"}"#;
    let head = format!(
        "PATCH /api/pages/home/title HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nX-CSRF: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.cookie,
        s.csrf,
        body.len()
    );
    let mut conn = std::net::TcpStream::connect(server.addr).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    conn
}

/// Sends the held body and returns the answer's `kirby_session` cookie pair, if any.
fn finish_held(mut conn: std::net::TcpStream) -> (String, Option<String>) {
    conn.write_all(br#"{"title":"Home"}"#).unwrap();
    let mut raw = Vec::new();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = conn.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let cookie = text
        .lines()
        .rfind(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: kirby_session=")
        })
        .map(|l| {
            l["set-cookie: ".len()..]
                .split(';')
                .next()
                .unwrap()
                .to_string()
        });
    (text, cookie)
}

fn logout_race(a: &Server, b: &Server) {
    // Short lifetimes, so the held request both renews the session and records activity.
    // With `session.durationNormal=10`, a session renews once less than 5 s are left.
    let s = login(a, ADMIN);
    std::thread::sleep(Duration::from_millis(6000));
    let held = hold_request(a, &s);
    let r = b.send(&s.apply(Request::new("POST", "/api/auth/logout")));
    assert_eq!(r.status, 200, "logout: {}", r.text());
    let (answer, renewed) = finish_held(held);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The old token, and the renewed one the in-flight request handed out, are both dead.
    assert_unauthenticated(&get_auth(a, &s));
    assert_unauthenticated(&get_auth(b, &s));
    let renewed = Session {
        cookie: renewed.expect("the held request renewed the session"),
        csrf: s.csrf.clone(),
    };
    assert_unauthenticated(&get_auth(a, &renewed));
    assert_unauthenticated(&get_auth(b, &renewed));
}

#[test]
fn a_logout_racing_a_request_stays_a_logout() {
    let sets = ["session.durationNormal=10", "session.timeout=30"];
    for _ in 0..2 {
        let server = Server::start(&sets);
        logout_race(&server, &server);
        assert_eq!(session_files(&server.root), 0, "a session came back");
    }
}

#[test]
fn a_logout_racing_a_request_on_another_redis_node_stays_a_logout() {
    let redis = Redis::start();
    let store = format!("session.store={}", redis.url());
    let sets = [
        store.as_str(),
        "session.durationNormal=10",
        "session.timeout=30",
    ];
    let site = Site::new();
    let a = Server::start_on(&site.root, &sets);
    let b = Server::start_on(&site.root, &sets);
    for _ in 0..2 {
        logout_race(&a, &b);
    }
}

// ---------------------------------------------------------------------------------------------
// 13. A Redis outage fails closed, and a node starts without Redis
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_unavailable(r: &Response) {
    assert_eq!(r.status, 503, "{}", r.text());
    let body = r.json();
    assert_eq!(body["key"], "error.unavailable", "{body}");
    assert_eq!(body["code"], 503, "{body}");
}

#[test]
fn a_redis_outage_fails_closed_and_a_node_starts_without_redis() {
    let mut redis = Redis::start();
    let store = format!("session.store={}", redis.url());
    let site = Site::new();
    let a = Server::start_on(&site.root, &[store.as_str()]);
    let pre = poll(Duration::from_secs(10), || {
        (a.get("/csrf").status == 200).then(|| start_session(&a))
    })
    .expect("tokens while Redis is up");
    redis.stop();
    // A login with a valid token: 503, not "Invalid CSRF token".
    assert_unavailable(&try_login(&a, &pre, ADMIN.0, ADMIN.1));
    // No tokens for sessions that could not be stored.
    let r = poll(Duration::from_secs(10), || {
        let r = a.get("/csrf");
        (r.status == 503).then_some(r)
    })
    .expect("GET /csrf during the outage");
    assert_unavailable(&r);
    assert!(r.cookie("kirby_session").is_none(), "{:?}", r.headers);

    // A second node starts while Redis is down, answers 503, and recovers.
    let b = Server::start_on(&site.root, &[store.as_str()]);
    assert_unavailable(&b.get("/csrf"));
    assert_unavailable(&b.send(&basic_auth(ADMIN)));
    redis.restart();
    let s = poll(Duration::from_secs(15), || {
        let r = b.get("/csrf");
        if r.status != 200 {
            return None;
        }
        let pre = Session {
            cookie: r.cookie("kirby_session")?,
            csrf: r.json()["csrf"].as_str()?.to_string(),
        };
        let r = try_login(&b, &pre, ADMIN.0, ADMIN.1);
        (r.status == 200).then(|| Session {
            cookie: r.cookie("kirby_session").unwrap(),
            csrf: pre.csrf,
        })
    })
    .unwrap_or_else(|| panic!("node B did not recover: {}", b.log()));
    assert_auth_ok(&get_auth(&b, &s), ADMIN.0);
    assert_auth_ok(&get_auth(&a, &s), ADMIN.0);
}
