//! Denial-of-service and hardening tests against a real `folio serve` process: the
//! connection caps, the header / keep-alive / shutdown deadlines, accept back-off at the
//! file-descriptor limit, HSTS, and body handling (nothing buffered before the route and the
//! caller are known). Each test reproduces an attack that worked before the fix.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{Process, Request, Site, assert_unauthenticated};

/// Opens a connection and sends the first part of a request head, never the end of it.
fn stalled(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /api/site HTTP/1.1\r\nHost: x\r\n")
        .expect("partial head");
    s
}

/// Reads until the server closes the connection (or `timeout` passes); returns what arrived
/// and whether the server closed it.
fn read_until_closed(s: &mut TcpStream, timeout: Duration) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

#[test]
fn stalled_heads_are_cut_off_and_never_lock_other_clients_out() {
    let site = Site::new();
    let server = Process::start_on(
        &site.root,
        &[
            "folio.maxConnections=40",
            "folio.headerTimeout=1.5",
            "folio.keepAliveTimeout=1.5",
        ],
    );
    // More stalled connections than the cap allows.
    let mut held: Vec<TcpStream> = (0..60).map(|_| stalled(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    // Over the cap, a client is told at once instead of hanging.
    let started = Instant::now();
    let busy = server.get("/api/site");
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert_eq!(busy.json()["key"], "error.unavailable");
    assert!(started.elapsed() < Duration::from_secs(1));
    // The stalled heads are closed by the header timeout...
    for s in held.iter_mut().take(40) {
        let (_, closed) = read_until_closed(s, Duration::from_secs(5));
        assert!(closed, "a stalled head was not closed");
    }
    // ...and the server answers normally again.
    assert_unauthenticated(&server.get("/api/site"));
    let log = server.log();
    let lines = log.matches("connection limit reached").count();
    assert!(
        (1..=2).contains(&lines),
        "one rate-limited log line, got {lines}: {log}"
    );
}

#[test]
fn a_slowloris_trickle_is_closed_by_the_header_deadline() {
    let site = Site::new();
    let server = Process::start_on(
        &site.root,
        &["folio.headerTimeout=1", "folio.keepAliveTimeout=10"],
    );
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_write_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let started = Instant::now();
    let head =
        b"GET /api/site HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut_off = None;
    for b in head.iter() {
        // One byte every 200 ms: always under any per-read timeout, never a whole head.
        if s.write_all(&[*b]).is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut probe = [0u8; 512];
        s.set_read_timeout(Some(Duration::from_millis(1)))
            .expect("timeout");
        match s.read(&mut probe) {
            Ok(_) => {
                cut_off = Some(started.elapsed());
                break;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                cut_off = Some(started.elapsed());
                break;
            }
        }
    }
    let at = cut_off.expect("the trickling connection was never closed");
    assert!(
        at >= Duration::from_millis(900) && at < Duration::from_secs(4),
        "closed after {at:?}, expected about 1 s"
    );
}

#[test]
fn idle_connections_are_closed_after_the_keep_alive_timeout() {
    let site = Site::new();
    let server = Process::start_on(
        &site.root,
        &[
            "folio.keepAliveTimeout=1",
            "folio.headerTimeout=20",
            "folio.maxConnectionsPerIp=1000",
        ],
    );
    // Connected, never sent anything.
    let mut silent = TcpStream::connect(server.addr).expect("connect");
    // One request answered, then silence on a kept-alive connection.
    let mut kept = TcpStream::connect(server.addr).expect("connect");
    kept.write_all(b"GET /api/site HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut kept, Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 401"));
    assert!(closed, "the kept-alive connection stayed open");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5));
    assert!(closed, "the silent connection stayed open");
    // Many idle connections do not pile up either: each is closed about a second after it
    // was opened, and the server's descriptors go back down.
    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    let connect_time = opened.elapsed();
    for s in idle.iter_mut() {
        let (_, closed) = read_until_closed(s, Duration::from_secs(5));
        assert!(closed, "an idle connection stayed open");
    }
    let all_closed = opened.elapsed();
    assert!(
        all_closed >= Duration::from_millis(900)
            && all_closed < connect_time + Duration::from_secs(4),
        "closed after {all_closed:?} (connecting took {connect_time:?})"
    );
    std::thread::sleep(Duration::from_millis(300));
    let open_after = server.open_fds();
    assert!(
        open_after < 100,
        "{open_after} descriptors still open after the idle timeout"
    );
}

#[test]
fn one_client_ip_cannot_take_every_connection() {
    let site = Site::new();
    let server = Process::start_on(
        &site.root,
        &["folio.maxConnectionsPerIp=5", "folio.headerTimeout=30"],
    );
    let held: Vec<TcpStream> = (0..5).map(|_| stalled(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let r = server.get("/api/site");
    assert_eq!(r.status, 503, "{}", r.text());
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_unauthenticated(&server.get("/api/site"));
    assert!(server.log().contains("folio.maxConnectionsPerIp"));
}

#[test]
fn sigterm_stops_the_server_within_the_shutdown_deadline() {
    let site = Site::new();
    let mut server = Process::start_on(
        &site.root,
        &["folio.shutdownTimeout=1", "folio.headerTimeout=60"],
    );
    let _half = stalled(server.addr);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.terminate();
    assert!(
        server.wait_exit(Duration::from_secs(5)),
        "still running 5 s after SIGTERM with a half-sent request open"
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "exited after {took:?}");
    assert!(server.log().contains("folio.shutdownTimeout"));
}

#[test]
fn sigterm_lets_an_idle_server_exit_at_once() {
    let site = Site::new();
    let mut server = Process::start_on(&site.root, &["folio.shutdownTimeout=30"]);
    assert_unauthenticated(&server.get("/api/site"));
    let started = Instant::now();
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(5)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn tls_at_the_descriptor_limit_backs_off_instead_of_spinning() {
    let site = Site::new();
    // The cap follows the descriptor limit, so connections over it are refused cheaply;
    // with `maxConnections` forced higher than the descriptors allow, accept() itself
    // fails with EMFILE and must back off.
    let server = Process::start_tls_limited(&site.root, &[], 128);
    let conns: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(server.addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let cpu_before = server.cpu_time();
    let log_before = server.log().lines().count();
    std::thread::sleep(Duration::from_secs(5));
    let cpu = server.cpu_time() - cpu_before;
    let lines = server.log().lines().count() - log_before;
    assert!(
        cpu < Duration::from_millis(500),
        "{cpu:?} of CPU in 5 s while saturated"
    );
    assert!(lines <= 3, "{lines} log lines in 5 s: {}", server.log());
    drop(conns);
    std::thread::sleep(Duration::from_secs(2));
    // Once the connections are gone, HTTPS works again.
    let r = server.get("/api/site");
    assert_eq!(r.status, 401);
}

#[test]
fn hsts_over_tls_only_and_it_can_be_turned_off() {
    let site = Site::new();
    let tls = Process::start_tls(&site.root, &[]);
    let r = tls.get("/api/site");
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let plain = Process::start_on(&site.root, &[]);
    assert_eq!(
        plain.get("/api/site").header("strict-transport-security"),
        None
    );
    let off = Process::start_tls(&site.root, &["folio.hsts=false"]);
    assert_eq!(
        off.get("/api/site").header("strict-transport-security"),
        None
    );
    let custom = Process::start_tls(&site.root, &["folio.hsts=max-age=60; includeSubDomains"]);
    assert_eq!(
        custom.get("/api/site").header("strict-transport-security"),
        Some("max-age=60; includeSubDomains")
    );
}

/// Peak resident memory of the server so far (`VmHWM`), in KiB.
fn peak_rss_kib(server: &Process) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Sends a request head announcing a large body plus its first `sent` bytes, then stalls;
/// returns the connection.
fn stalled_body(addr: SocketAddr, head: &str, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(head.as_bytes()).expect("head");
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len());
        if s.write_all(&chunk[..n]).is_err() {
            break; // the server answered and closed without reading: that is the point
        }
        left -= n;
    }
    s
}

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");

#[test]
fn anonymous_and_unknown_route_bodies_are_never_buffered() {
    let site = Site::new();
    let server = Process::start_on(&site.root, &["folio.bodyTimeout=30"]);
    let before = peak_rss_kib(&server);
    let mut held = Vec::new();
    for i in 0..60 {
        // Unknown routes, anonymous API calls and anonymous logins, each announcing 15 MiB
        // and sending 1 MiB of it before stalling.
        let head = match i % 3 {
            0 => format!("POST /anything-{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 15728641\r\n\r\n"),
            1 => "PATCH /api/pages/home HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15728641\r\n\r\n".to_string(),
            _ => "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15728641\r\n\r\n".to_string(),
        };
        held.push((i % 3, stalled_body(server.addr, &head, 1024 * 1024)));
    }
    // Every one is answered at once, without waiting for (or reading) the body.
    for (kind, s) in held.iter_mut() {
        let (answer, _) = read_until_closed(s, Duration::from_secs(3));
        let text = String::from_utf8_lossy(&answer);
        let expected = match kind {
            0 => "HTTP/1.1 404",
            1 => "HTTP/1.1 401",
            _ => "HTTP/1.1 413",
        };
        assert!(text.starts_with(expected), "kind {kind}: {text:?}");
    }
    let grown = peak_rss_kib(&server).saturating_sub(before);
    assert!(
        grown < 30 * 1024,
        "peak memory grew by {} MiB for 60 unread bodies",
        grown / 1024
    );
    assert!(server.log().lines().count() < 20, "{}", server.log());
}

#[test]
fn authenticated_bodies_have_a_size_limit_and_a_deadline() {
    let site = Site::new();
    let server = Process::start_on(
        &site.root,
        &["folio.bodyTimeout=1", "folio.maxBodySize=100000"],
    );
    let auth = support::basic(ADMIN);
    // Declared too large: refused before a byte of it is read.
    let head = format!(
        "PATCH /api/pages/home HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 100001\r\n\r\n"
    );
    let mut s = stalled_body(server.addr, &head, 0);
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(3));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("limit: 100000 bytes"), "{text}");
    // Chunked, growing past the limit: stopped as soon as it does.
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(format!("PATCH /api/pages/home HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes()).unwrap();
    for _ in 0..4 {
        let _ = s.write_all(b"8000\r\n");
        let _ = s.write_all(&[b' '; 0x8000]);
        let _ = s.write_all(b"\r\n");
    }
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(3));
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"));
    // A body that stalls: 408 after the deadline, and nothing written.
    let before = support::tree_hash(&site.root.join("content"));
    let head = format!(
        "PATCH /api/pages/home HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{{\"title\":"
    );
    let started = Instant::now();
    let mut s = stalled_body(server.addr, &head, 0);
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":408"), "{text}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(before, support::tree_hash(&site.root.join("content")));
}

#[test]
fn uploads_stream_to_disk_instead_of_memory() {
    let site = Site::new();
    let server = Process::start_on(&site.root, &["folio.maxBodySize=40000000"]);
    // Warm up (first requests allocate caches), then measure the peak around one upload.
    assert_eq!(
        server
            .send(
                &Request::new("GET", "/api/pages/home")
                    .header("Authorization", &support::basic(ADMIN))
            )
            .status,
        200
    );
    let before = peak_rss_kib(&server);
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..24 * 1024 * 1024u32).map(|i| b'a' + (i % 26) as u8));
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".to_vec();
    body.extend_from_slice(&pdf);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let r = server.send(
        &Request::new("POST", "/api/pages/home/files")
            .header("Authorization", &support::basic(ADMIN))
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let stored = std::fs::read(site.root.join("content/home/big.pdf")).expect("the upload");
    assert!(stored == pdf, "the stored bytes differ from the upload");
    let grown = peak_rss_kib(&server).saturating_sub(before);
    assert!(
        grown < 12 * 1024,
        "a 24 MiB upload raised peak memory by {} MiB",
        grown / 1024
    );
    // No spool files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(site.root.join("content"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-folio"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_response_cache_is_bounded_in_bytes_and_skips_unknown_parameters() {
    let site = Site::new();
    // A page with a 1 MB field.
    let path = site.root.join("content/home/home.txt");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n\n----\n\nBig: ");
    text.push_str(&"lorem ipsum ".repeat(90_000));
    std::fs::write(&path, text).unwrap();
    let server = Process::start_on(&site.root, &["folio.responseCacheBytes=16000000"]);
    let auth = support::basic(ADMIN);
    let get = |target: &str| {
        let r = server.send(&Request::new("GET", target).header("Authorization", &auth));
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        assert!(r.body.len() > 1_000_000);
    };
    get("/api/pages/home");
    let baseline = server.rss_kib();
    // Unknown parameters: answered, never cached.
    for n in 0..150 {
        get(&format!("/api/pages/home?junk={n}"));
    }
    // Known parameters with distinct values: cached, within the byte budget.
    for n in 0..150 {
        get(&format!("/api/pages/home?select=content,title&limit={n}"));
    }
    let grown = server.rss_kib().saturating_sub(baseline);
    assert!(
        grown < 60 * 1024,
        "300 distinct reads of a 1 MB page kept {} MiB",
        grown / 1024
    );
    // Errors are not cached either: a missing page stays a miss and is answered right.
    for _ in 0..3 {
        let r = server.send(&Request::new("GET", "/api/pages/nope").header("Authorization", &auth));
        assert_eq!(r.status, 404);
    }
}

#[test]
fn numeric_input_is_validated_before_anything_is_written() {
    let site = Site::new();
    let server = Process::start_on(&site.root, &[]);
    let auth = support::basic(ADMIN);
    let content = site.root.join("content");
    let before = support::tree_hash(&content);
    let send = |method: &str, path: &str, body: serde_json::Value| {
        server.send(
            &Request::new(method, path)
                .header("Authorization", &auth)
                .json(&body),
        )
    };
    let files = "/api/pages/about/files/sort";
    for index in [
        serde_json::json!(9223372036854775807i64),
        serde_json::json!(-9223372036854775807i64),
        serde_json::json!(18446744073709551615u64),
        serde_json::json!(1.5),
        serde_json::json!("12abc"),
        serde_json::json!(1e300),
        serde_json::json!({"n": 1}),
    ] {
        let r = send(
            "PATCH",
            files,
            serde_json::json!({"files": ["about/portrait.png"], "index": index}),
        );
        assert_eq!(r.status, 400, "index {index}: {}", r.text());
        let body = r.json();
        assert_eq!(body["key"], "error.invalidArgument");
        assert!(
            body["message"].as_str().unwrap().contains("`index`"),
            "{body}"
        );
    }
    for position in [
        serde_json::json!(2.5),
        serde_json::json!(9223372036854775807i64),
    ] {
        let r = send(
            "PATCH",
            "/api/pages/contact/status",
            serde_json::json!({"status": "listed", "position": position}),
        );
        assert_eq!(r.status, 400, "position {position}: {}", r.text());
    }
    assert_eq!(
        support::tree_hash(&content),
        before,
        "bad numbers changed the site"
    );
    // A sane index still works.
    let r = send(
        "PATCH",
        files,
        serde_json::json!({"files": ["about/portrait.png"], "index": 4}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let meta = std::fs::read_to_string(content.join("3_about/portrait.png.txt")).unwrap();
    assert!(meta.contains("Sort: 5"), "{meta}");
}
