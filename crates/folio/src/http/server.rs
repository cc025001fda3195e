//! The listener: one accept loop for plain HTTP and HTTPS that owns every connection-level
//! limit. It caps concurrent connections (overall and per client IP), bounds how long a
//! connection may take to send a request head, sit idle between requests or stall while
//! reading a response, backs off when accepting fails (file-descriptor exhaustion), logs
//! repeated failures at a bounded rate, and shuts down gracefully within a deadline.

use axum::Router;
use axum::http::HeaderValue;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::Served;
use crate::app::log::RateLimitedLog;
use crate::app::settings::{Net, Settings};

/// Connection-level limits (`folio.*` options; see docs/SECURITY.md).
#[derive(Debug, Clone)]
pub struct Limits {
    /// `folio.maxConnections`: open connections at once (further ones get a 503 and are
    /// closed). Clamped below the process's file-descriptor limit at start-up.
    pub max_connections: usize,
    /// `folio.maxConnectionsPerIp`: open connections at once from one client IP (trusted
    /// proxies are exempt: their IP stands for many clients).
    pub max_connections_per_ip: usize,
    /// `folio.headerTimeout`: from the moment the server waits for a request until its whole
    /// head (request line and headers) has arrived; also bounds the TLS handshake.
    pub header_timeout: Duration,
    /// `folio.keepAliveTimeout`: an open connection that sends nothing for this long after
    /// its last response (or after connecting) is closed.
    pub keep_alive_timeout: Duration,
    /// `folio.sendTimeout`: a client that accepts no response bytes for this long is
    /// disconnected.
    pub send_timeout: Duration,
    /// `folio.shutdownTimeout`: after SIGTERM / Ctrl-C, in-flight requests get this long to
    /// finish before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// The `Strict-Transport-Security` value sent over TLS (`folio.hsts`; `None` = off).
    pub hsts: Option<HeaderValue>,
    /// Proxies exempt from the per-IP cap (`folio.trustedProxies`).
    pub trusted_proxies: Vec<Net>,
}

impl Limits {
    /// The limits of the settings, with the connection cap lowered below the open-files
    /// limit (raised to its hard limit first).
    pub fn from_settings(settings: &Settings) -> Limits {
        let s = &settings.server;
        let fd_limit = raise_fd_limit();
        let max_connections = effective_max_connections(s.max_connections, fd_limit);
        if max_connections < s.max_connections {
            tracing::info!(
                "folio.maxConnections lowered to {max_connections} (open-files limit {})",
                fd_limit.unwrap_or(0)
            );
        }
        Limits {
            max_connections,
            max_connections_per_ip: s.max_connections_per_ip,
            header_timeout: s.header_timeout,
            keep_alive_timeout: s.keep_alive_timeout,
            send_timeout: s.send_timeout,
            shutdown_timeout: s.shutdown_timeout,
            hsts: s
                .hsts
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok()),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_connections_per_ip: 256,
            header_timeout: Duration::from_secs(15),
            keep_alive_timeout: Duration::from_secs(5),
            send_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
            hsts: Some(HeaderValue::from_static("max-age=31536000")),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Raises the soft open-files limit to the hard limit and returns the soft limit in force
/// (so the connection cap can stay below it).
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
        if soft < hard && rlimit::Resource::NOFILE.set(hard, hard).is_ok() {
            return Some(hard);
        }
        Some(soft)
    }
    #[cfg(not(unix))]
    None
}

/// File descriptors kept free for content files, sessions, the watcher and logs when the
/// connection cap is derived from the descriptor limit.
const FD_RESERVE: u64 = 128;

/// The cap actually used: the configured one, but below the descriptor limit.
pub fn effective_max_connections(configured: usize, fd_limit: Option<u64>) -> usize {
    let by_fds = fd_limit
        .map(|l| l.saturating_sub(FD_RESERVE).max(16) as usize)
        .unwrap_or(usize::MAX);
    configured.clamp(1, by_fds.max(1))
}

/// The answer to a connection over the cap (plain HTTP only; a TLS client is just closed).
static BUSY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = r#"{"status":"error","message":"The server is busy, please try again later","code":503,"key":"error.unavailable","details":[]}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=UTF-8\r\nRetry-After: 1\r\nCache-Control: no-store, private\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Open connections per client IP.
#[derive(Default)]
struct PerIp {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// Releases one per-IP slot when the connection ends.
struct IpSlot {
    table: Arc<PerIp>,
    ip: Option<IpAddr>,
}

impl PerIp {
    fn acquire(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: self.clone(),
            ip: Some(ip),
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            let mut counts = self.table.counts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&ip);
                }
            }
        }
    }
}

/// How long to wait before accepting again after a failure: 5 ms, doubling to 1 s, back to
/// none after a success.
#[derive(Debug, Default)]
struct Backoff(Duration);

impl Backoff {
    fn failed(&mut self) -> Duration {
        self.0 = (self.0 * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        self.0
    }

    fn succeeded(&mut self) {
        self.0 = Duration::ZERO;
    }
}

/// Whether an accept error concerns only the one connection (retry at once) rather than the
/// process (back off).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` (over TLS when an acceptor is given) until `shutdown`
/// resolves, then lets in-flight connections finish for at most `limits.shutdown_timeout`.
pub async fn serve(
    served: Served,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let router = super::router(&served);
    let served = Arc::new(served);
    let limits = Arc::new(limits);
    let max = limits.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    let per_ip = Arc::new(PerIp::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let accept_log = RateLimitedLog::new(Duration::from_secs(10));
    let cap_log = RateLimitedLog::new(Duration::from_secs(10));
    let ip_log = RateLimitedLog::new(Duration::from_secs(10));
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff.succeeded();
                x
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // EMFILE and friends: accepting again at once would fail again at once.
                let wait = backoff.failed();
                accept_log.log(|skipped| {
                    tracing::warn!(
                        "accepting connections failed: {e} (retrying in {} ms; {skipped} similar errors not logged)",
                        wait.as_millis()
                    )
                });
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = &mut shutdown => break,
                }
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            cap_log.log(|skipped| {
                tracing::warn!(
                    "connection limit reached ({max} open, folio.maxConnections): refusing new connections with 503 ({skipped} more refused since the last report)"
                )
            });
            refuse(stream, tls.is_some());
            continue;
        };
        let slot = if limits.trusted_proxies.iter().any(|n| n.contains(peer.ip())) {
            Some(IpSlot {
                table: per_ip.clone(),
                ip: None,
            })
        } else {
            per_ip.acquire(peer.ip(), limits.max_connections_per_ip)
        };
        let Some(slot) = slot else {
            ip_log.log(|skipped| {
                tracing::warn!(
                    "{} has {} connections open (folio.maxConnectionsPerIp): refusing more ({skipped} more refused since the last report)",
                    peer.ip(),
                    limits.max_connections_per_ip
                )
            });
            refuse(stream, tls.is_some());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let served = served.clone();
        let limits = limits.clone();
        let tls = tls.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _slot = slot;
            let io = TimedIo::new(stream, limits.keep_alive_timeout, limits.send_timeout);
            match tls {
                None => connection(io, peer, false, router, served, &limits, stop).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(io);
                    if let Ok(Ok(tls_stream)) =
                        tokio::time::timeout(limits.header_timeout, handshake).await
                    {
                        connection(tls_stream, peer, true, router, served, &limits, stop).await;
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(limits.shutdown_timeout, permits.acquire_many(all)).await;
    if drained.is_err() {
        tracing::warn!(
            "shutting down with {} connections still open after {} s (folio.shutdownTimeout)",
            max - permits.available_permits(),
            limits.shutdown_timeout.as_secs()
        );
    }
    Ok(())
}

/// Closes a connection over a cap: plain HTTP clients get a 503 first (written only if the
/// socket takes it at once; nothing waits on a client that is over its limit).
fn refuse(stream: tokio::net::TcpStream, tls: bool) {
    if !tls {
        let _ = stream.try_write(&BUSY);
    }
    drop(stream);
}

/// Serves HTTP/1.1 on one connection until it ends or the server stops.
async fn connection<I>(
    io: I,
    peer: SocketAddr,
    tls: bool,
    router: Router,
    served: Arc<Served>,
    limits: &Limits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hsts = if tls { limits.hsts.clone() } else { None };
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        super::prepare(&mut req, &served, peer, tls);
        let router = router.clone();
        let hsts = hsts.clone();
        async move {
            let mut resp = router.oneshot(req.map(axum::body::Body::new)).await?;
            if let Some(v) = hsts {
                resp.headers_mut()
                    .insert(axum::http::header::STRICT_TRANSPORT_SECURITY, v);
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Resolves once the server is stopping.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A TCP stream with two timers: reads fail once the connection has been idle (nothing
/// received since the last response bytes were sent, or since connecting) for between one
/// and two keep-alive timeouts, and writes fail once the peer has accepted no bytes for the
/// send timeout. While a request is being handled the connection is not idle.
///
/// The idle timer is cheap on purpose: it is armed once when the connection goes idle and,
/// when it fires, checks whether anything moved since it was armed (then it re-arms); no
/// clock is read and no timer is touched per request.
pub struct TimedIo<T> {
    inner: T,
    keep_alive: Duration,
    send_timeout: Duration,
    /// Bytes arrived after the last bytes were sent: a request is being handled.
    busy: bool,
    /// Counts reads and writes that moved bytes.
    activity: u64,
    /// The `activity` count when the idle timer was armed (`None`: not armed).
    armed_at: Option<u64>,
    read_timer: Pin<Box<tokio::time::Sleep>>,
    write_blocked: bool,
    write_timer: Pin<Box<tokio::time::Sleep>>,
}

impl<T> TimedIo<T> {
    /// Wraps a stream.
    pub fn new(inner: T, keep_alive: Duration, send_timeout: Duration) -> Self {
        TimedIo {
            inner,
            keep_alive,
            send_timeout,
            busy: false,
            activity: 0,
            armed_at: None,
            read_timer: Box::pin(tokio::time::sleep(keep_alive)),
            write_blocked: false,
            write_timer: Box::pin(tokio::time::sleep(send_timeout)),
        }
    }

    fn arm(&mut self) {
        self.armed_at = Some(self.activity);
        let at = tokio::time::Instant::now() + self.keep_alive;
        self.read_timer.as_mut().reset(at);
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.busy = true;
                    self.activity += 1;
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                if self.busy {
                    // A request is being handled: no idle timer. One armed earlier may
                    // still wake this task once; that is harmless.
                    return Poll::Pending;
                }
                if self.armed_at.is_none() {
                    self.arm();
                }
                loop {
                    match self.read_timer.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) if self.armed_at == Some(self.activity) => {
                            return Poll::Ready(Err(timed_out("idle connection closed")));
                        }
                        // Bytes moved since it was armed: idle since then at most.
                        Poll::Ready(()) => self.arm(),
                    }
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> TimedIo<T> {
    fn wrote(&mut self, n: usize) {
        if n > 0 {
            self.busy = false;
            self.activity += 1;
            self.write_blocked = false;
        }
    }

    fn write_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if !self.write_blocked {
            self.write_blocked = true;
            let at = tokio::time::Instant::now() + self.send_timeout;
            self.write_timer.as_mut().reset(at);
        }
        match self.write_timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(timed_out("the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                self.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.write_pending(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                self.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.write_pending(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn cap_stays_below_the_descriptor_limit() {
        assert_eq!(effective_max_connections(10_000, Some(1024)), 896);
        assert_eq!(effective_max_connections(100, Some(1024)), 100);
        assert_eq!(effective_max_connections(10_000, None), 10_000);
        assert_eq!(effective_max_connections(0, Some(1024)), 1);
        assert_eq!(effective_max_connections(10_000, Some(20)), 16);
    }

    #[test]
    fn accept_failures_back_off_to_a_second() {
        let mut b = Backoff::default();
        let waits: Vec<u128> = (0..10).map(|_| b.failed().as_millis()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        // An EMFILE storm costs at most ~10 accept calls in the first two seconds.
        let total: u128 = waits.iter().take(9).sum();
        assert!(total < 2_300);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(5));
        assert!(is_connection_error(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        assert!(
            !is_connection_error(&io::Error::from_raw_os_error(24)),
            "EMFILE backs off"
        );
    }

    #[test]
    fn per_ip_slots_are_released() {
        let t = Arc::new(PerIp::default());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let a = t.acquire(ip, 2).unwrap();
        let _b = t.acquire(ip, 2).unwrap();
        assert!(t.acquire(ip, 2).is_none());
        assert!(t.acquire("192.0.2.8".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(t.acquire(ip, 2).is_some());
    }

    #[tokio::test]
    async fn idle_reads_time_out_but_busy_ones_do_not() {
        let (client, server) = tokio::io::duplex(64);
        let mut io = TimedIo::new(server, Duration::from_millis(100), Duration::from_secs(5));
        let mut client = client;
        client.write_all(b"GET").await.unwrap();
        let mut buf = [0u8; 3];
        io.read_exact(&mut buf).await.unwrap();
        // A request is in progress (bytes arrived after the last write): no idle timer.
        let busy = tokio::time::timeout(Duration::from_millis(300), io.read(&mut buf)).await;
        assert!(busy.is_err(), "still waiting, not failed");
        io.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let start = std::time::Instant::now();
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(90));
        assert!(start.elapsed() < Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn stalled_writes_time_out() {
        let (_client, server) = tokio::io::duplex(16);
        let mut io = TimedIo::new(server, Duration::from_secs(5), Duration::from_millis(100));
        let err = io.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
