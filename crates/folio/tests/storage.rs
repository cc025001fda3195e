//! Storage guarantees of the write path, against a real server process: atomic writes that
//! survive SIGKILL mid-storm, no lost updates between concurrent writers, `If-Match`
//! preconditions (412), and bad input that changes nothing on disk.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Process, Request};

const ADMIN: &str = "Basic YWRtaW5AZXhhbXBsZS5jb206YWRtaW4tc2VjcmV0LTE="; // admin@example.com:admin-secret-1

fn spawn(root: &Path) -> (Child, SocketAddr) {
    // Port 0 and the ready file: the server reports the address it bound.
    let ready = root.join("site/.folio-test-ready");
    let _ = std::fs::remove_file(&ready);
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("serve")
        .arg(root)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--ready-file")
        .arg(&ready)
        .env("FOLIO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn folio");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(addr) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|s| s.trim().parse::<SocketAddr>().ok())
        {
            return (child, addr);
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("folio did not start");
}

/// Sends a request; `None` when the connection fails (the server was killed).
fn try_status(req: &Request, addr: SocketAddr) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(&req.to_bytes(&addr.to_string())).ok()?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..buf.len().min(32)]).into_owned();
    line.split(' ').nth(1)?.parse().ok()
}

fn patch(addr: SocketAddr, id: &str, body: &Value) -> u16 {
    Request::new("PATCH", &format!("/api/pages/{id}"))
        .header("Authorization", ADMIN)
        .json(body)
        .send(addr)
        .status
}

fn content_file(root: &Path, dir: &str, template: &str) -> PathBuf {
    root.join("content")
        .join(dir)
        .join(format!("{template}.txt"))
}

fn field(text: &str, key: &str) -> Option<String> {
    text.split("\n----").map(str::trim).find_map(|chunk| {
        chunk
            .strip_prefix(&format!("{key}:"))
            .map(|v| v.trim().to_string())
    })
}

#[test]
fn sigkill_mid_storm_loses_no_acknowledged_write_and_tears_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    support::copy_tree(&support::fixture_root(), &root);
    let (mut child, addr) = spawn(&root);
    // Four writers, each on its own page, each writing an increasing counter.
    let targets = [
        (
            "projects+harbor-map+survey+north-shore",
            "2_projects/1_harbor-map/1_survey/1_north-shore",
            "default",
        ),
        (
            "projects+harbor-map+survey+south-shore",
            "2_projects/1_harbor-map/1_survey/2_south-shore",
            "default",
        ),
        (
            "projects+harbor-map+drafting",
            "2_projects/1_harbor-map/2_drafting",
            "default",
        ),
        ("contact", "contact", "default"),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for (id, _, _) in targets {
        let stop = stop.clone();
        handles.push(std::thread::spawn(move || {
            let mut acked = 0u64;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && n < 10_000 {
                n += 1;
                let req = Request::new("PATCH", &format!("/api/pages/{id}"))
                    .header("Authorization", ADMIN)
                    .json(&json!({"text": format!("n={n}")}));
                let status = try_status(&req, addr);
                match status {
                    Some(200) => acked = n,
                    _ => break,
                }
            }
            acked
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().expect("SIGKILL the server"); // std sends SIGKILL on Unix
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        acked.iter().all(|a| *a > 0),
        "every writer got writes through before the kill: {acked:?}"
    );
    // Every content file still parses with all its fields; no temp file is mistaken for content.
    for (i, (_, dir, template)) in targets.iter().enumerate() {
        let text = std::fs::read_to_string(content_file(&root, dir, template)).unwrap();
        let value =
            field(&text, "Text").unwrap_or_else(|| panic!("{dir}: Text field missing:\n{text}"));
        let n: u64 = value
            .strip_prefix("n=")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{dir}: torn value {value:?}"));
        assert!(
            n >= acked[i],
            "{dir}: acknowledged n={} but disk has n={n}",
            acked[i]
        );
        assert!(
            n <= acked[i] + 1,
            "{dir}: disk is ahead by more than the one in-flight write"
        );
        assert!(
            field(&text, "Title").is_some() && field(&text, "Uuid").is_some(),
            "{dir}: fields lost:\n{text}"
        );
    }
    // A restarted server removes stray temp files and serves what is on disk.
    let (mut child2, addr2) = spawn(&root);
    for (i, (id, dir, template)) in targets.iter().enumerate() {
        let r = Request::new("GET", &format!("/api/pages/{id}?select=content"))
            .header("Authorization", ADMIN)
            .send(addr2);
        assert_eq!(r.status, 200);
        let disk = field(
            &std::fs::read_to_string(content_file(&root, dir, template)).unwrap(),
            "Text",
        )
        .unwrap();
        assert_eq!(
            r.json()["data"]["content"]["text"],
            json!(disk),
            "writer {i}"
        );
    }
    let mut stray = Vec::new();
    for (path, _) in support::tree_contents(&root) {
        if path.contains(".tmp-folio-") {
            stray.push(path);
        }
    }
    assert!(stray.is_empty(), "temp files left after restart: {stray:?}");
    let _ = child2.kill();
    let _ = child2.wait();
}

#[test]
fn concurrent_patches_of_different_fields_both_persist() {
    let server = Process::default_config();
    let addr = server.addr;
    let a = std::thread::spawn(move || {
        for i in 0..25 {
            assert_eq!(
                patch(
                    addr,
                    "projects+signal-tower",
                    &json!({"client": format!("client {i}")})
                ),
                200
            );
        }
    });
    let b = std::thread::spawn(move || {
        for i in 0..25 {
            assert_eq!(
                patch(
                    addr,
                    "projects+signal-tower",
                    &json!({"summary": format!("summary {i}")})
                ),
                200
            );
        }
    });
    a.join().unwrap();
    b.join().unwrap();
    let text = std::fs::read_to_string(content_file(
        &server.root,
        "2_projects/2_signal-tower",
        "project",
    ))
    .unwrap();
    assert_eq!(field(&text, "Client").as_deref(), Some("client 24"));
    assert_eq!(field(&text, "Summary").as_deref(), Some("summary 24"));
    let r = server.send(
        &Request::new("GET", "/api/pages/projects+signal-tower?select=content")
            .header("Authorization", ADMIN),
    );
    assert_eq!(r.json()["data"]["content"]["client"], json!("client 24"));
    assert_eq!(r.json()["data"]["content"]["summary"], json!("summary 24"));
}

#[test]
fn stale_if_match_is_412_and_changes_nothing() {
    let server = Process::default_config();
    let get =
        || server.send(&Request::new("GET", "/api/pages/contact").header("Authorization", ADMIN));
    let first = get();
    let etag = first
        .header("etag")
        .expect("model reads carry an ETag")
        .to_string();
    assert_eq!(
        get().header("etag"),
        Some(etag.as_str()),
        "the ETag is stable"
    );
    let ok = server.send(
        &Request::new("PATCH", "/api/pages/contact")
            .header("Authorization", ADMIN)
            .header("If-Match", &etag)
            .json(&json!({"text": "first edit"})),
    );
    assert_eq!(ok.status, 200);
    let new_etag = ok.header("etag").unwrap().to_string();
    assert_ne!(new_etag, etag);
    let path = content_file(&server.root, "contact", "default");
    let before = std::fs::read(&path).unwrap();
    let stale = server.send(
        &Request::new("PATCH", "/api/pages/contact")
            .header("Authorization", ADMIN)
            .header("If-Match", &etag)
            .json(&json!({"text": "lost update"})),
    );
    assert_eq!(stale.status, 412);
    assert_eq!(stale.json()["key"], json!("error.precondition"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a stale write changes nothing"
    );
    let star = server.send(
        &Request::new("PATCH", "/api/pages/contact")
            .header("Authorization", ADMIN)
            .header("If-Match", "*")
            .json(&json!({"text": "any version"})),
    );
    assert_eq!(star.status, 200);
}

#[test]
fn an_outside_edit_just_before_a_write_is_never_overwritten() {
    let server = Process::default_config();
    let path = content_file(&server.root, "contact", "default");
    let etag_before = server
        .send(&Request::new("GET", "/api/pages/contact").header("Authorization", ADMIN))
        .header("etag")
        .unwrap()
        .to_string();
    for round in 0..5 {
        // An editor (or `git pull`) changes the file; the watcher has not seen it yet...
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("\n\n----\n\nOutside-{round}: edited by hand"));
        std::fs::write(&path, &text).unwrap();
        // ...when the API changes another field of the same page.
        let r = server.send(
            &Request::new("PATCH", "/api/pages/contact")
                .header("Authorization", ADMIN)
                .json(&json!({"text": format!("api edit {round}")})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.json()["data"]["content"][format!("outside_{round}")],
            json!("edited by hand"),
            "the answer shows the outside edit"
        );
        let now = std::fs::read_to_string(&path).unwrap();
        for earlier in 0..=round {
            assert_eq!(
                field(&now, &format!("Outside-{earlier}")).as_deref(),
                Some("edited by hand"),
                "round {round}: the outside edit {earlier} was overwritten:\n{now}"
            );
        }
        assert_eq!(
            field(&now, "Text").as_deref(),
            Some(format!("api edit {round}").as_str())
        );
    }
    // A conditional write based on the version before the outside edits is refused.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n\n----\n\nLast: by hand");
    std::fs::write(&path, &text).unwrap();
    let r = server.send(
        &Request::new("PATCH", "/api/pages/contact")
            .header("Authorization", ADMIN)
            .header("If-Match", &etag_before)
            .json(&json!({"text": "stale"})),
    );
    assert_eq!(r.status, 412, "{}", r.text());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn bad_write_input_changes_nothing_on_disk() {
    let server = Process::start(&["folio.maxBodySize=4096"]);
    let content = server.root.join("content");
    let before = support::tree_hash(&content);
    let send = |method: &str, path: &str, body: Option<&str>| {
        let mut r = Request::new(method, path)
            .header("Authorization", ADMIN)
            .header("Content-Type", "application/json");
        if let Some(b) = body {
            r = r.body(b.as_bytes().to_vec());
        }
        server.send(&r)
    };
    let cases: Vec<(&str, &str, Option<String>, u16, &str)> = vec![
        (
            "POST",
            "/api/pages/blog/children",
            Some("{\"slug\": ".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "POST",
            "/api/pages/blog/children",
            Some("[1,2,3]".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+first-light/status",
            Some("{\"status\":\"published\"}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+first-light/status",
            Some("{\"status\":42}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log/slug",
            Some("{\"slug\":\"fog-signals\"}".into()),
            400,
            "error.page.duplicate",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log/slug",
            Some("{\"slug\":\"../..\"}".into()),
            400,
            "error.page.slug.invalid",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log/slug",
            Some("{\"slug\":\"/\\u0000\"}".into()),
            400,
            "error.page.slug.invalid",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log",
            Some("{\"blueprint\":{\"options\":{\"delete\":true}}}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log",
            Some("{\"options\":true}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log",
            Some("{\"uuid\":\"stolen\"}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "POST",
            "/api/pages/blog/children",
            Some("{\"slug\":\"x\",\"blueprint\":\"pages/admin\"}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "POST",
            "/api/pages/blog/children",
            Some("{\"slug\":\"x\",\"content\":{\"permissions\":\"all\"}}".into()),
            400,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/blog+winter-log",
            Some(format!("{{\"text\":\"{}\"}}", "x".repeat(10_000))),
            413,
            "error.invalidArgument",
        ),
        (
            "PATCH",
            "/api/pages/projects+signal-tower",
            Some("{\"year\":\"not a number\"}".into()),
            400,
            "error.form.incomplete",
        ),
        (
            "DELETE",
            "/api/pages/projects+harbor-map",
            None,
            400,
            "error.page.delete.hasChildren",
        ),
        (
            "PATCH",
            "/api/pages/..+..+site",
            Some("{\"text\":\"x\"}".into()),
            404,
            "error.page.notFound",
        ),
    ];
    for (method, path, body, status, key) in &cases {
        let r = send(method, path, body.as_deref());
        assert_eq!(r.status, *status, "{method} {path} {body:?}: {}", r.text());
        assert_eq!(r.json()["key"], json!(key), "{method} {path}: {}", r.text());
        assert!(
            !r.text().contains(server.root.to_str().unwrap()),
            "no server paths in errors"
        );
        assert_eq!(
            support::tree_hash(&content),
            before,
            "{method} {path} {body:?} changed the disk"
        );
    }
    // A traversal slug on create is sanitised to a plain folder inside the parent.
    let r = send(
        "POST",
        "/api/pages/blog/children",
        Some("{\"slug\":\"../../../etc/passwd\",\"template\":\"default\"}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["id"], json!("blog/etc-passwd"));
    assert!(
        content
            .join("1_blog/_drafts/etc-passwd/default.txt")
            .exists()
    );
    assert!(!server.root.join("etc").exists());
}

fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    ("multipart/form-data; boundary=XyZ".to_string(), body)
}

#[test]
fn uploads_whose_bytes_contradict_the_extension_are_refused() {
    let server = Process::default_config();
    let page = server.root.join("content/1_blog/20240105_first-light");
    let before = support::tree_hash(&server.root.join("content"));
    for (name, bytes) in [
        (
            "photo.jpg",
            b"<html><script>alert(1)</script></html>".as_slice(),
        ),
        ("report.pdf", b"#!/bin/sh\nrm -rf /\n".as_slice()),
        ("clip.png", b"\x7fELF\x02\x01\x01\x00binary".as_slice()),
    ] {
        let (ctype, body) = multipart(name, bytes);
        let r = server.send(
            &Request::new("POST", "/api/pages/blog+first-light/files")
                .header("Authorization", ADMIN)
                .header("Content-Type", &ctype)
                .body(body),
        );
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert_eq!(r.json()["status"], json!("error"));
        assert!(!page.join(name).exists(), "{name} was written");
    }
    assert_eq!(support::tree_hash(&server.root.join("content")), before);
}

#[test]
fn uploads_are_served_with_nosniff_and_active_types_as_attachments() {
    let server = Process::default_config();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"2\" height=\"2\"><rect width=\"1\" height=\"1\"/></svg>";
    let (ctype, body) = multipart("mark.svg", svg);
    let r = server.send(
        &Request::new("POST", "/api/pages/blog+first-light/files")
            .header("Authorization", ADMIN)
            .header("Content-Type", &ctype)
            .body(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["data"]["url"].as_str().unwrap().to_string();
    let path = url
        .split_once("127.0.0.1")
        .unwrap()
        .1
        .split_once('/')
        .map(|(_, p)| format!("/{p}"))
        .unwrap();
    let served = server.get(&path);
    assert_eq!(served.status, 200);
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert!(
        served
            .header("content-disposition")
            .unwrap_or("")
            .starts_with("attachment"),
        "SVG (which can carry script) is a download"
    );
    // Images are shown inline, still with nosniff, and revalidate with ETag.
    let img = server.send(
        &Request::new(
            "GET",
            "/api/pages/blog+fog-signals/files/horn.jpg?select=url",
        )
        .header("Authorization", ADMIN),
    );
    let url = img.json()["data"]["url"].as_str().unwrap().to_string();
    let path = url
        .split_once("127.0.0.1")
        .unwrap()
        .1
        .split_once('/')
        .map(|(_, p)| format!("/{p}"))
        .unwrap();
    let served = server.get(&path);
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert!(served.header("content-disposition").is_none());
    let etag = served.header("etag").unwrap().to_string();
    let again = server.send(&Request::new("GET", &path).header("If-None-Match", &etag));
    assert_eq!(again.status, 304);
    // A wrong token is a plain 404; an old mtime redirects to the current URL.
    let (dir, file) = path.rsplit_once('/').unwrap();
    let (prefix, hash) = dir.rsplit_once('/').unwrap();
    let (_, mtime) = hash.split_once('-').unwrap();
    assert_eq!(
        server
            .get(&format!("{prefix}/0000000000-{mtime}/{file}"))
            .status,
        404
    );
    let (token, _) = hash.split_once('-').unwrap();
    let moved = server.get(&format!("{prefix}/{token}-1/{file}"));
    assert_eq!(moved.status, 307);
    assert!(
        moved
            .header("location")
            .unwrap()
            .ends_with(&format!("{token}-{mtime}/{file}"))
    );
}
