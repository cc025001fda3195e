//! Site rendering against the real binary on a private copy of `examples/site`: every
//! template renders its page (key HTML fragments, the CSRF meta tag that the API accepts),
//! unknown URLs render the error page with 404, drafts never leak (404 exactly like a missing
//! page for anonymous visitors and for a session without preview rights), `/assets/` refuses
//! every traversal with the same 404, and template changes are picked up while running.

use crate::support::{Request, Response, Server, copy_tree, folio_cli};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A private copy of the example site (without local sessions or login counters).
struct Example {
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Example {
    fn new() -> Example {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/site"),
            &root,
        );
        let _ = std::fs::remove_dir_all(root.join("site/sessions"));
        let _ = std::fs::remove_dir_all(root.join("media"));
        let _ = std::fs::remove_file(root.join("site/accounts/.logins"));
        Example { root, _dir: dir }
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn serve(&self) -> Server {
        Server::start_on(&self.root, &[])
    }
}

fn meta_token(html: &str) -> String {
    let start = html
        .find("<meta name=\"csrf-token\" content=\"")
        .unwrap_or_else(|| panic!("no csrf meta tag in:\n{html}"))
        + "<meta name=\"csrf-token\" content=\"".len();
    html[start..start + 64].to_string()
}

/// The page with the CSRF token replaced, for comparing two answers.
fn normalized(r: &Response) -> String {
    let html = r.text();
    match html.find("<meta name=\"csrf-token\"") {
        Some(_) => html.replace(&meta_token(&html), "<token>"),
        None => html,
    }
}

/// Compares a whole rendered page with its checked-in snapshot
/// (`tests/snapshots/site/<template>--<path>.html`); media URL hashes become `TOKEN-MTIME`.
/// `FOLIO_UPDATE_SNAPSHOTS=1` rewrites the snapshots instead.
fn assert_snapshot(template: &str, path: &str, html: &str) {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    // `/media/.../<token>-<10 digits>/` → `TOKEN-MTIME/`
    while let Some(i) = rest.find("/media/") {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        let url = &tail[..end];
        let fixed: Vec<String> = url
            .split('/')
            .map(|seg| match seg.rsplit_once('-') {
                // The token depends on the install path (no `content.salt` here).
                Some((_, digits))
                    if digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    "TOKEN-MTIME".to_string()
                }
                _ => seg.to_string(),
            })
            .collect();
        out.push_str(&fixed.join("/"));
        rest = &tail[end..];
    }
    out.push_str(rest);
    let name = if path == "/" {
        "home".to_string()
    } else {
        path.trim_matches('/').replace('/', "_")
    };
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/site")
        .join(format!("{template}--{name}.html"));
    if std::env::var("FOLIO_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &out).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        panic!(
            "{path}: no snapshot {}; run with FOLIO_UPDATE_SNAPSHOTS=1 and review it",
            file.display()
        )
    });
    assert_eq!(
        out,
        want,
        "{path}: the rendering differs from {}",
        file.display()
    );
}

fn assert_fragments(path: &str, r: &Response, fragments: &[&str]) {
    let html = r.text();
    for f in fragments {
        assert!(html.contains(f), "{path}: missing {f:?} in:\n{html}");
    }
}

/// A HEAD request (the shared client expects a body after `Content-Length`): the status
/// line and header block, and how many bytes followed them.
fn head(server: &Server, path: &str) -> (u16, String, usize) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = Request::new("HEAD", path).to_bytes(&server.addr.to_string());
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("end of headers");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), rest.len())
}

/// Signs in through the session flow of a browser: page → meta token + cookie → login.
fn session_login(server: &Server, email: &str, password: &str) -> (String, String) {
    let page = server.get("/app");
    let cookie = page.cookie("kirby_session").expect("csrf() set the cookie");
    let token = meta_token(&page.text());
    let r = server.send(
        &Request::new("POST", "/api/auth/login")
            .header("Cookie", &cookie)
            .header("X-CSRF", &token)
            .json(&json!({"email": email, "password": password, "long": false})),
    );
    assert_eq!(r.status, 200, "login of {email}: {}", r.text());
    (r.cookie("kirby_session").unwrap_or(cookie), token)
}

#[test]
fn every_template_renders_its_page() {
    let site = Example::new();
    let server = site.serve();
    let base = format!("http://{}", server.addr);
    let cases: &[(&str, u16, &str, &[&str])] = &[
        (
            "/",
            200,
            "home",
            &[
                "<title>Folio Example</title>",
                "<h1>Welcome to Folio</h1>",
                "<p>This site is plain text files in folders.<br />\nEdit them with any editor, or through the API.</p>",
                "Latest from the <a href=\"BASE/blog\">Journal</a>",
                "<h3><a href=\"BASE/blog/tides\">Reading the Tides</a></h3>",
                "<time datetime=\"2025-03-01\">1 March 2025</time> <span class=\"tag\">news</span> <span class=\"tag\">setup</span>",
                "<p>Folio started serving this site today. Everything you see comes from text files.</p>",
                "<a href=\"BASE/blog\">Journal</a>",
                "<link rel=\"stylesheet\" href=\"BASE/assets/css/site.css\">",
            ],
        ),
        (
            "/blog",
            200,
            "blog",
            &[
                "<title>Journal · Folio Example</title>",
                "<h1>Journal</h1>",
                "<p class=\"lead\">Notes from the workshop.</p>",
                "<a href=\"BASE/blog\" aria-current=\"page\">Journal</a>",
                "<h3><a href=\"BASE/blog/first-light\">First Light</a></h3>",
            ],
        ),
        (
            "/blog/first-light",
            200,
            "post",
            &[
                "<h1>First Light</h1>",
                "<time datetime=\"2025-03-01\">Saturday, 1 March 2025</time>",
                "<span class=\"tag\">news</span> <span class=\"tag\">setup</span>",
                "<div class=\"text\"><p>Folio started serving this site today.</p>\n<p>Everything you see comes from text files.</p>",
                "alt=\"A yellow lamp\" width=\"48\" height=\"32\">",
                "src=\"BASE/media/pages/blog/first-light/",
                "<a rel=\"next\" href=\"BASE/blog/tides\">Reading the Tides →</a>",
            ],
        ),
        (
            "/blog/tides/",
            200,
            "post",
            &[
                "<h1>Reading the Tides</h1>",
                "<time datetime=\"2025-04-02\">Wednesday, 2 April 2025</time>",
                "<a rel=\"prev\" href=\"BASE/blog/first-light\">← First Light</a>",
            ],
        ),
        (
            "/about",
            200,
            "about",
            &[
                "<h1>About</h1>",
                "<a href=\"BASE/blog\">Read the journal</a>",
                "<a href=\"BASE/app\">single-page app</a>",
                "alt=\"A blue square\" width=\"32\" height=\"32\">",
                "<a href=\"mailto:hello@example.com\">hello@example.com</a>",
            ],
        ),
        (
            "/app",
            200,
            "app",
            &[
                "<h1>App</h1>",
                "<form id=\"login-form\" class=\"panel\" hidden>",
                "<ul id=\"pages\" class=\"page-list\"></ul>",
                "<script src=\"BASE/assets/js/app.js\"></script>",
                "<a href=\"BASE/app\" aria-current=\"page\">App</a>",
            ],
        ),
        (
            "/no/such/page",
            404,
            "error",
            &[
                "<title>Not found · Folio Example</title>",
                "<h1>Not found</h1>",
                "<p>The page you asked for does not exist.</p>",
            ],
        ),
        ("/error", 404, "error", &["<h1>Not found</h1>"]),
    ];
    for (path, status, template, fragments) in cases {
        let r = server.get(path);
        assert_eq!(r.status, *status, "{path}: {}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("text/html; charset=UTF-8"),
            "{path}"
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        let html = r.text();
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(
            html.contains(&format!("<body class=\"template-{template}\">")),
            "{path}: not rendered with {template}.html:\n{html}"
        );
        // Every page carries the CSRF token; `csrf()` started the session for it.
        let token = meta_token(&html);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{path}");
        assert!(r.cookie("kirby_session").is_some(), "{path}: no cookie");
        assert_eq!(r.header("cache-control"), Some("no-store, private"));
        let fragments: Vec<String> = fragments.iter().map(|f| f.replace("BASE", &base)).collect();
        let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
        assert_fragments(path, &r, &fragments);
        assert_snapshot(template, path, &normalized(&r).replace(&base, "BASE"));
        // Printed values are escaped for HTML without mangling URLs.
        assert!(!html.contains("&#x2f;"), "{path}");
    }
    // Image URLs in templates are Kirby media URLs that resolve.
    let html = server.get("/blog/first-light").text();
    let src_at = html.find("<img src=\"").expect("an image") + "<img src=\"".len();
    let src = &html[src_at..src_at + html[src_at..].find('"').unwrap()];
    let path = src
        .strip_prefix(&base)
        .expect("an absolute URL on this site");
    assert!(path.starts_with("/media/pages/blog/first-light/"), "{path}");
    let r = server.get(path);
    assert_eq!(r.status, 200, "{path}");
    assert_eq!(r.header("content-type"), Some("image/png"));
    // Listings never show drafts.
    for path in ["/", "/blog"] {
        assert!(!server.get(path).text().contains("Upcoming"), "{path}");
    }
    // Only GET and HEAD render.
    let r = server.send(&Request::new("POST", "/blog"));
    assert_eq!(r.status, 405);
    let (status, headers, body) = head(&server, "/blog");
    assert_eq!(status, 200);
    assert!(headers.contains("content-type: text/html; charset=utf-8"));
    assert_eq!(body, 0);
}

#[test]
fn csrf_in_a_template_is_the_token_the_api_checks() {
    let site = Example::new();
    let server = site.serve();
    let first = server.get("/blog");
    let cookie = first.cookie("kirby_session").expect("cookie");
    let token = meta_token(&first.text());
    // The same session keeps its token on every page, and sets no new cookie.
    let again = server.send(&Request::new("GET", "/about").header("Cookie", &cookie));
    assert_eq!(meta_token(&again.text()), token);
    assert!(again.cookie("kirby_session").is_none());
    // A wrong token is refused; the page's token logs in.
    let login = |t: &str| {
        server.send(
            &Request::new("POST", "/api/auth/login")
                .header("Cookie", &cookie)
                .header("X-CSRF", t)
                .json(&json!({"email": "admin@example.com", "password": "folio-demo-1", "long": false})),
        )
    };
    assert_eq!(login(&"0".repeat(64)).status, 400);
    let r = login(&token);
    assert_eq!(r.status, 200, "{}", r.text());
    let cookie = r.cookie("kirby_session").unwrap_or(cookie);
    let r = server.send(
        &Request::new("GET", "/api/pages/blog")
            .header("Cookie", &cookie)
            .header("X-CSRF", &token),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = server.send(&Request::new("GET", "/api/pages/blog").header("Cookie", &cookie));
    assert_eq!(r.status, 401, "no X-CSRF, no API");
    // Signed in, templates see the user.
    let r = server.send(&Request::new("GET", "/").header("Cookie", &cookie));
    assert!(r.text().contains("signed in as Demo Admin"), "{}", r.text());
}

#[test]
fn drafts_do_not_leak() {
    let site = Example::new();
    // A draft post below the blog, a published page below the top-level draft, and a role
    // that may use the Panel but not preview pages.
    site.write(
        "content/1_blog/_drafts/secret-post/post.txt",
        "Title: Secret Post\n\n----\n\nDate: 2025-05-01\n\n----\n\nText: not yet\n",
    );
    site.write(
        "content/_drafts/upcoming/child/default.txt",
        "Title: Hidden Child\n\n----\n\nText: below a draft\n",
    );
    site.write(
        "site/blueprints/users/visitor.yml",
        "title: Visitor\npermissions:\n  pages:\n    preview: false\n",
    );
    let root = site.root.to_str().unwrap();
    for (email, role) in [
        ("visitor@example.com", "visitor"),
        ("editor@example.com", "editor"),
    ] {
        let out = folio_cli(
            &["user", "add", email, "--role", role, "--root", root],
            "folio-test-pass-1\n",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let server = site.serve();
    let drafts = [
        "/upcoming",
        "/upcoming/",
        "/UPCOMING",
        "/upcoming/child",
        "/blog/secret-post",
        "/_drafts/upcoming",
        "/blog/_drafts/secret-post",
    ];
    let missing = server.get("/definitely-not-a-page");
    assert_eq!(missing.status, 404);
    let missing_body = normalized(&missing);
    for path in drafts {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            normalized(&r),
            missing_body,
            "{path}: differs from a missing page"
        );
        assert_eq!(r.header("content-type"), missing.header("content-type"));
    }
    for path in ["/", "/blog", "/about"] {
        let html = server.get(path).text();
        for secret in ["Upcoming", "Secret Post", "Hidden Child", "secret-post"] {
            assert!(!html.contains(secret), "{path} mentions {secret}");
        }
    }

    // A session whose role may not preview sees the same 404.
    let (cookie, _) = session_login(&server, "visitor@example.com", "folio-test-pass-1");
    let missing = server.send(&Request::new("GET", "/nope-nope").header("Cookie", &cookie));
    for path in drafts {
        let r = server.send(&Request::new("GET", path).header("Cookie", &cookie));
        assert_eq!(r.status, 404, "{path} as visitor");
        assert_eq!(normalized(&r), normalized(&missing), "{path} as visitor");
    }

    // Users with preview rights see drafts, also the pages below them.
    for email in ["admin@example.com", "editor@example.com"] {
        let password = if email.starts_with("admin") {
            "folio-demo-1"
        } else {
            "folio-test-pass-1"
        };
        let (cookie, _) = session_login(&server, email, password);
        for (path, text) in [
            ("/upcoming", "A draft: only logged-in users can see it."),
            ("/upcoming/child", "below a draft"),
            ("/blog/secret-post", "<h1>Secret Post</h1>"),
        ] {
            let r = server.send(&Request::new("GET", path).header("Cookie", &cookie));
            assert_eq!(r.status, 200, "{path} as {email}: {}", r.text());
            assert!(r.text().contains(text), "{path} as {email}");
            assert_eq!(r.header("cache-control"), Some("no-store, private"));
        }
        // The draft has no template of its own: `default.html` renders it.
        let r = server.send(&Request::new("GET", "/upcoming").header("Cookie", &cookie));
        assert_fragments(
            "/upcoming",
            &r,
            &[
                "<body class=\"template-default\">",
                "<p class=\"notice\">Draft preview: only signed-in users see this page.</p>",
                "<h1>Upcoming</h1>",
            ],
        );
        // Previews do not put drafts into listings.
        let r = server.send(&Request::new("GET", "/blog").header("Cookie", &cookie));
        assert!(!r.text().contains("Secret Post"));
    }
}

#[test]
fn assets_are_served_safely() {
    let site = Example::new();
    site.write("assets/js/data.json", "{\"ok\":true}");
    #[cfg(unix)]
    {
        let assets = site.root.join("assets");
        std::os::unix::fs::symlink(
            site.root.join("site/accounts/admin001/.htpasswd"),
            assets.join("passwd.css"),
        )
        .unwrap();
        std::os::unix::fs::symlink(site.root.join("site"), assets.join("site")).unwrap();
        std::os::unix::fs::symlink(assets.join("css/site.css"), assets.join("alias.css")).unwrap();
    }
    let server = site.serve();

    let r = server.get("/assets/css/site.css");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/css; charset=UTF-8"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert!(r.header("last-modified").is_some());
    assert!(r.text().contains(".site-header"));
    assert!(
        r.cookie("kirby_session").is_none(),
        "assets start no session"
    );
    let etag = r.header("etag").expect("etag").to_string();
    let r =
        server.send(&Request::new("GET", "/assets/css/site.css").header("If-None-Match", &etag));
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = server
        .send(&Request::new("GET", "/assets/css/site.css").header("If-None-Match", "\"other\""));
    assert_eq!(r.status, 200);
    let (status, headers, body) = head(&server, "/assets/js/app.js");
    assert_eq!(status, 200);
    assert!(headers.contains("content-type: text/javascript; charset=utf-8"));
    assert_eq!(body, 0);
    assert_eq!(
        server.get("/assets/js/data.json").header("content-type"),
        Some("application/json")
    );
    #[cfg(unix)]
    assert_eq!(
        server.get("/assets/alias.css").status,
        200,
        "a symlink inside assets/"
    );

    let reference = server.get("/assets/definitely-missing.css");
    assert_eq!(reference.status, 404);
    let mut attempts = vec![
        "/assets/../content/site.txt",
        "/assets/../site/config/config.php",
        "/assets/%2e%2e/content/site.txt",
        "/assets/%2E%2E/%2E%2E/etc/passwd",
        "/assets/.%2e/content/site.txt",
        "/assets/css/..%2f..%2fcontent%2fsite.txt",
        "/assets/css%2f..%2f..%2fcontent%2fsite.txt",
        "/assets/%2fetc%2fpasswd",
        "/assets/..%5c..%5ccontent%5csite.txt",
        "/assets/css%5c..%5csite.css",
        "/assets/css\\..\\site.css",
        "/assets/..\\..\\content\\site.txt",
        "/assets/%252e%252e/content/site.txt",
        "/assets/css/./site.css",
        "/assets//etc/passwd",
        "/assets/.htaccess",
        "/assets/css",
        "/assets/",
        "/assets/css/site.css%00.png",
        "/assets/%c0%ae%c0%ae/content/site.txt",
        "/assets/nope/../../content/site.txt",
    ];
    #[cfg(unix)]
    attempts.extend([
        "/assets/passwd.css",
        "/assets/site/accounts/admin001/index.php",
    ]);
    for path in attempts {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body, reference.body, "{path}");
        let headers = |r: &Response| {
            let mut h: Vec<(String, String)> = r
                .headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("date"))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect();
            h.sort();
            h
        };
        assert_eq!(headers(&r), headers(&reference), "{path}");
    }
    // Only reads.
    let r = server.send(&Request::new("DELETE", "/assets/css/site.css"));
    assert_eq!(r.status, 404);
    assert!(site.root.join("assets/css/site.css").exists());
}

#[test]
fn content_is_escaped_and_templates_reload() {
    let site = Example::new();
    site.write(
        "content/home/home.txt",
        "Title: Home\n\n----\n\nHeadline: <img src=x onerror=alert(1)>\n\n----\n\nIntro: Hi <script>alert(1)</script> [x](javascript:alert(1)) (link: javascript:alert(2) text: y)\n",
    );
    let server = site.serve();
    let html = server.get("/").text();
    assert!(
        html.contains("<h1>&lt;img src=x onerror=alert(1)&gt;</h1>"),
        "{html}"
    );
    assert!(
        html.contains("Hi &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");

    // A template edit shows up without a restart (the watcher recompiles).
    site.write(
        "site/templates/about.html",
        "{% include \"snippets/header.html\" %}<p id=\"new\">{{ page.title | upper }}</p>{% include \"snippets/footer.html\" %}",
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = server.get("/about");
        if r.text().contains("<p id=\"new\">ABOUT</p>") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "template not reloaded: {}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A broken template is a 500 that does not leak paths; the others keep working.
    site.write("site/templates/about.html", "{% if %}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = server.get("/about");
        if r.status == 500 {
            assert!(!r.text().contains(site.root.to_str().unwrap()));
            break;
        }
        assert!(Instant::now() < deadline, "broken template not noticed");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.get("/blog").status, 200);
}

#[test]
fn static_mounts_serve_the_headless_front_end_safely() {
    let site = Example::new();
    // the example's `folio.static` mounts `../headless` at `/headless`
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/headless"),
        &site.root.parent().unwrap().join("headless"),
    );
    std::fs::write(site.root.parent().unwrap().join("secret.txt"), "outside").unwrap();
    let server = site.serve();

    let r = server.get("/headless/");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    assert!(r.text().contains("journal.js"));
    assert!(
        r.cookie("kirby_session").is_none(),
        "static files start no session"
    );
    let r = server.get("/headless");
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/headless/"));
    let r = server.get("/headless/journal.js");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/api/query"));
    for bad in [
        "/headless/../secret.txt",
        "/headless/..%2fsecret.txt",
        "/headless/%2e%2e/secret.txt",
        "/headless/missing.js",
        "/headless/.hidden",
    ] {
        let r = server.get(bad);
        assert_eq!(r.status, 404, "{bad}");
        assert!(!r.text().contains("outside"), "{bad}");
    }
    let r = server.send(&Request::new("POST", "/headless/index.html"));
    assert_eq!(r.status, 404, "static files answer GET and HEAD only");
    // the pages of the site still render
    assert_eq!(server.get("/blog").status, 200);
}
