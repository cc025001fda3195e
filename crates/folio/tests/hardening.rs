//! Denial-of-service and hardening tests against a real `folio serve` process: the
//! connection caps, the header / keep-alive / shutdown deadlines, accept back-off at the
//! file-descriptor limit, HSTS, and body handling (nothing buffered before the route and the
//! caller are known). Each test reproduces an attack that worked before the fix.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{Server, Site, assert_unauthenticated};

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
    let server = Server::start_on(
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
    let server = Server::start_on(
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
    let server = Server::start_on(
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
    // Many idle connections do not pile up either.
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let open_during = server.open_fds();
    assert!(open_during >= 300, "{open_during} descriptors");
    std::thread::sleep(Duration::from_millis(2000));
    let open_after = server.open_fds();
    assert!(
        open_after < 100,
        "{open_after} descriptors still open after the idle timeout"
    );
    drop(idle);
}

#[test]
fn one_client_ip_cannot_take_every_connection() {
    let site = Site::new();
    let server = Server::start_on(
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
    let mut server = Server::start_on(
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
    let mut server = Server::start_on(&site.root, &["folio.shutdownTimeout=30"]);
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
    let server = Server::start_tls_limited(&site.root, &[], 128);
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
    let tls = Server::start_tls(&site.root, &[]);
    let r = tls.get("/api/site");
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let plain = Server::start_on(&site.root, &[]);
    assert_eq!(
        plain.get("/api/site").header("strict-transport-security"),
        None
    );
    let off = Server::start_tls(&site.root, &["folio.hsts=false"]);
    assert_eq!(
        off.get("/api/site").header("strict-transport-security"),
        None
    );
    let custom = Server::start_tls(&site.root, &["folio.hsts=max-age=60; includeSubDomains"]);
    assert_eq!(
        custom.get("/api/site").header("strict-transport-security"),
        Some("max-age=60; includeSubDomains")
    );
}
