//! Shared helpers for Folio's black-box tests: a throwaway copy of the Kirby fixture site,
//! Folio serving it on a free local port (in this process, or the real `folio` binary where
//! the process is the point), and a tiny raw HTTP/1.1 client.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a server may take to start accepting connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Read/write timeout for one HTTP exchange (failed logins sleep up to 2 s server-side).
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The Kirby fixture site shipped with the repository.
pub fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root")
}

/// Copies a directory tree (including dot files such as `.htpasswd`).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read_dir {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copy {} → {}: {e}", src.display(), dst.display()));
        }
    }
}

/// Every file below `dir`, as relative path (with `/`) → bytes, in sorted order.
pub fn tree_contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("below base")
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A hash over a whole tree (paths and bytes), see [`tree_contents`].
pub fn tree_hash(dir: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    for (path, bytes) in tree_contents(dir) {
        path.hash(&mut h);
        bytes.hash(&mut h);
    }
    h.finish()
}

/// A running `folio serve` process on a private copy of the fixture site (or on a given
/// root, see [`Process::start_on`]); killed on drop. For tests where the process is the
/// point (its memory, its open files, SIGTERM, SIGKILL); everything else uses the in-process
/// [`Server`].
pub struct Process {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The Kirby root it serves (for [`Process::start`], a private copy of the fixture).
    pub root: PathBuf,
    log: PathBuf,
    /// The client configuration when the server speaks HTTPS ([`Process::start_tls`]).
    tls: Option<Arc<rustls::ClientConfig>>,
    _dir: tempfile::TempDir,
}

impl Process {
    /// Starts a server on the fixture site with the given `--set option=value` overrides.
    pub fn start(sets: &[&str]) -> Process {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        copy_tree(&fixture_root(), &root);
        Process::launch(dir, root, sets, None, None)
    }

    /// Starts a server on an existing root with its open-files limit (soft and hard) set to
    /// `nofile`, as `ulimit -n` does.
    pub fn start_limited(root: &Path, sets: &[&str], nofile: u64) -> Process {
        let dir = tempfile::tempdir().expect("tempdir");
        Process::launch(dir, root.to_path_buf(), sets, None, Some(nofile))
    }

    /// Starts a server on an existing Kirby root (not copied, not deleted on drop), e.g. a
    /// [`Site`] that several servers share.
    pub fn start_on(root: &Path, sets: &[&str]) -> Process {
        let dir = tempfile::tempdir().expect("tempdir");
        Process::launch(dir, root.to_path_buf(), sets, None, None)
    }

    /// Starts an HTTPS server (`--tls-cert`/`--tls-key` with a fresh self-signed
    /// certificate for `127.0.0.1`) on an existing root; [`Process::send`] then speaks TLS.
    pub fn start_tls(root: &Path, sets: &[&str]) -> Process {
        Process::tls_server(root, sets, None)
    }

    /// [`Process::start_tls`] with the open-files limit set to `nofile` (`ulimit -n`).
    pub fn start_tls_limited(root: &Path, sets: &[&str], nofile: u64) -> Process {
        Process::tls_server(root, sets, Some(nofile))
    }

    fn tls_server(root: &Path, sets: &[&str], nofile: Option<u64>) -> Process {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = TestCert::generate();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, &cert.cert_pem).expect("write cert.pem");
        std::fs::write(&key_path, &cert.key_pem).expect("write key.pem");
        let tls = TlsFiles {
            cert: cert_path,
            key: key_path,
            client: cert.client_config(),
        };
        Process::launch(dir, root.to_path_buf(), sets, Some(tls), nofile)
    }

    fn launch(
        dir: tempfile::TempDir,
        root: PathBuf,
        sets: &[&str],
        tls: Option<TlsFiles>,
        nofile: Option<u64>,
    ) -> Process {
        let log = dir.path().join("server.log");
        let ready = dir.path().join("ready");
        // Port 0: the server picks a free port and writes the address it bound to the ready
        // file, so no other process can take the port in between.
        let mut cmd = match nofile {
            None => Command::new(env!("CARGO_BIN_EXE_folio")),
            Some(n) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(env!("CARGO_BIN_EXE_folio"));
                c
            }
        };
        cmd.arg("serve")
            .arg(&root)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--ready-file")
            .arg(&ready)
            .env("FOLIO_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(&log).expect("server log file"),
            ));
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        if let Some(t) = &tls {
            cmd.arg("--tls-cert")
                .arg(&t.cert)
                .arg("--tls-key")
                .arg(&t.key);
        }
        let mut child = cmd.spawn().expect("spawn the folio binary");
        match wait_until_ready(&mut child, &ready) {
            Ok(addr) => Process {
                child,
                addr,
                root,
                log,
                tls: tls.map(|t| t.client),
                _dir: dir,
            },
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "folio did not start: {e}; server log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        }
    }

    /// Starts a server with the fixture's own configuration.
    pub fn default_config() -> Process {
        Process::start(&[])
    }

    /// The server's stderr so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// CPU time (user + system) the server process has used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
            .sum();
        // Linux reports these in clock ticks of 1/100 s (USER_HZ).
        Duration::from_millis(ticks * 10)
    }

    /// Open file descriptors of the server process.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
    }

    /// Waits for the process to exit; `true` when it did within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Whether the server process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends one request (see [`Request`]), over TLS for a [`Process::start_tls`] server.
    pub fn send(&self, req: &Request) -> Response {
        match &self.tls {
            Some(config) => req.send_tls(self.addr, config.clone()),
            None => req.send(self.addr),
        }
    }

    /// A bare GET.
    pub fn get(&self, path: &str) -> Response {
        self.send(&Request::new("GET", path))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Folio running inside the test process (`App::open` and the real HTTP server on a
/// loopback port 0, on a runtime of its own), on a private copy of the fixture site or on a
/// given root; stopped on drop. Its log lines go to one buffer shared by every in-process
/// server of the test binary ([`Server::log`]).
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The Kirby root it serves.
    pub root: PathBuf,
    tls: Option<Arc<rustls::ClientConfig>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server on a private copy of the fixture site with `option=value` overrides
    /// (as `--set` gives them).
    pub fn start(sets: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        copy_tree(&fixture_root(), &root);
        Server::launch(dir, root, sets, None)
    }

    /// Starts a server with the fixture's own configuration.
    pub fn default_config() -> Server {
        Server::start(&[])
    }

    /// Starts a server on an existing Kirby root (not copied, not deleted on drop), e.g. a
    /// [`Site`] that several servers share.
    pub fn start_on(root: &Path, sets: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Server::launch(dir, root.to_path_buf(), sets, None)
    }

    /// Starts an HTTPS server (a fresh self-signed certificate for `127.0.0.1`) on an
    /// existing root; [`Server::send`] then speaks TLS.
    pub fn start_tls(root: &Path, sets: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = TestCert::generate();
        let tls = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
            client: cert.client_config(),
        };
        std::fs::write(&tls.cert, &cert.cert_pem).expect("write cert.pem");
        std::fs::write(&tls.key, &cert.key_pem).expect("write key.pem");
        Server::launch(dir, root.to_path_buf(), sets, Some(tls))
    }

    fn launch(
        dir: tempfile::TempDir,
        root: PathBuf,
        sets: &[&str],
        tls: Option<TlsFiles>,
    ) -> Server {
        init_log();
        // Stopping waits for open connections; a test's leftovers should not hold it long.
        let mut overrides = vec!["folio.shutdownTimeout=1".to_string()];
        overrides.extend(sets.iter().map(|s| s.to_string()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr, String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let site = root.clone();
        let files = tls.as_ref().map(|t| (t.cert.clone(), t.key.clone()));
        let thread = std::thread::Builder::new()
            .name("folio-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the server");
                let ready = ready_tx.clone();
                let served = runtime.block_on(async move {
                    let app = Arc::new(folio::app::App::open(Some(site), &overrides)?);
                    let acceptor = match &files {
                        Some((cert, key)) => Some(folio::http::tls::acceptor(cert, key)?),
                        None => None,
                    };
                    let served = folio::cli::serve::start(app.clone()).await?;
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let _ = ready.send(Ok(listener.local_addr()?));
                    let limits = folio::http::server::Limits::from_settings(&app.settings);
                    folio::http::server::serve(served, listener, acceptor, limits, async move {
                        let _ = stop_rx.await;
                    })
                    .await
                });
                if let Err(e) = served {
                    let _ = ready_tx.send(Err(format!("{e:#}")));
                }
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawn the server thread");
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(addr)) => Server {
                addr,
                root,
                tls: tls.map(|t| t.client),
                stop: Some(stop_tx),
                thread: Some(thread),
                _dir: dir,
            },
            Ok(Err(e)) => panic!("folio did not start: {e}"),
            Err(e) => panic!("folio did not start within {START_TIMEOUT:?}: {e}"),
        }
    }

    /// What every in-process server of this test binary has logged so far (the last MiB).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&LOG.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Whether the server is still serving.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Sends one request (see [`Request`]), over TLS for a [`Server::start_tls`] server.
    pub fn send(&self, req: &Request) -> Response {
        match &self.tls {
            Some(config) => req.send_tls(self.addr, config.clone()),
            None => req.send(self.addr),
        }
    }

    /// A bare GET.
    pub fn get(&self, path: &str) -> Response {
        self.send(&Request::new("GET", path))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The shared log buffer of in-process servers.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
const LOG_KEEP: usize = 1 << 20;

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        log.extend_from_slice(buf);
        if log.len() > 2 * LOG_KEEP {
            let cut = log.len() - LOG_KEEP;
            log.drain(..cut);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Routes the in-process servers' tracing to [`LOG`] (level from `FOLIO_LOG`, else `warn`).
fn init_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// A private copy of the fixture site that outlives single servers (several servers can
/// serve it at once, see [`Server::start_on`]); deleted on drop.
pub struct Site {
    /// The Kirby root.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Site {
    /// Copies the fixture into a fresh temporary folder.
    pub fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        copy_tree(&fixture_root(), &root);
        Site { root, _dir: dir }
    }
}

struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

/// A self-signed certificate for `127.0.0.1` and `localhost` (rcgen), with a client
/// configuration that trusts exactly this certificate.
pub struct TestCert {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub key_pem: String,
    der: rustls::pki_types::CertificateDer<'static>,
}

impl TestCert {
    /// A fresh certificate and key.
    pub fn generate() -> TestCert {
        let ck = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
        ])
        .expect("generate a self-signed certificate");
        TestCert {
            cert_pem: ck.cert.pem(),
            key_pem: ck.signing_key.serialize_pem(),
            der: ck.cert.der().clone(),
        }
    }

    /// A rustls client (ring provider) whose only root is this certificate.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.der.clone())
            .expect("the test certificate is a valid root");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(config)
    }
}

/// A private `redis-server` on a free loopback port (no persistence); killed on drop.
///
/// A missing `redis-server` is a test failure with a clear message, not a skip: CI installs
/// it. `FOLIO_TEST_REDIS_SERVER` may name another binary.
pub struct Redis {
    child: Option<Child>,
    /// The port it listens on (kept across [`Redis::restart`]).
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    /// Starts a fresh, empty Redis.
    pub fn start() -> Redis {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match spawn_redis(port, dir.path()) {
                Ok(child) => {
                    return Redis {
                        child: Some(child),
                        port,
                        dir,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (all data is lost: there is no persistence).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server if it runs, then starts an empty one on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match spawn_redis(self.port, self.dir.path()) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(e) if Instant::now() > deadline => {
                    panic!("redis-server did not restart on port {}: {e}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn redis_binary() -> PathBuf {
    std::env::var_os("FOLIO_TEST_REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

/// Spawns `redis-server` on `port` and waits for `PING` → `+PONG`.
fn spawn_redis(port: u16, dir: &Path) -> Result<Child, String> {
    let bin = redis_binary();
    let log = dir.join(format!("redis-{port}.log"));
    let spawned = Command::new(&bin)
        .arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--save")
        .arg("")
        .arg("--appendonly")
        .arg("no")
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(&log).expect("redis log file"),
        ))
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{}` was not found: the Redis session-store tests need a local redis-server \
             (install the `redis-server` package, as CI does, or point \
             FOLIO_TEST_REDIS_SERVER at the binary)",
            bin.display()
        ),
        Err(e) => panic!("cannot run `{}`: {e}", bin.display()),
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "redis-server exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        if redis_ping(addr) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "redis-server did not answer PING on {addr}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn redis_ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// Runs the `folio` binary with `args` (e.g. `user add ...`), `stdin` piped in (so it is
/// not a terminal), and returns its exit status and output.
pub fn folio_cli(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env("FOLIO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the folio binary");
    if let Some(mut input) = child.stdin.take() {
        // The command may exit before reading (validation errors): ignore a broken pipe.
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("wait for folio")
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

fn wait_until_ready(child: &mut Child, ready: &Path) -> Result<SocketAddr, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("folio exited early with {status}"));
        }
        if let Some(addr) = std::fs::read_to_string(ready)
            .ok()
            .and_then(|s| s.trim().parse::<SocketAddr>().ok())
        {
            return Ok(addr);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "folio did not start listening within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw HTTP/1.1 request: the path is sent exactly as given (no normalisation or
/// encoding), `Host` and `Connection: close` are added, and `Content-Length` whenever there
/// is a body or the method is not GET/HEAD.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method token, sent verbatim.
    pub method: String,
    /// Request target, sent verbatim.
    pub path: String,
    /// Extra header lines (name, value), sent verbatim and in order.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// Send `Content-Length` only when there is a body ([`Request::bare`]).
    pub bare: bool,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            bare: false,
        }
    }

    /// No `Content-Length: 0` on a bodiless POST, PATCH or DELETE (as curl sends them).
    pub fn bare(mut self) -> Request {
        self.bare = true;
        self
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets a JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Request {
        self.header("Content-Type", "application/json")
            .body(serde_json::to_vec(value).expect("serialisable JSON"))
    }

    /// The bytes sent on the wire.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", self.method, self.path);
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || !(self.bare || matches!(self.method.as_str(), "GET" | "HEAD")) {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// Sends the request on a new connection and reads the whole response.
    pub fn send(&self, addr: SocketAddr) -> Response {
        self.try_send(addr).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Request::send`] that reports a failed exchange instead of panicking.
    pub fn try_send(&self, addr: SocketAddr) -> Result<Response, String> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        self.exchange(&mut stream, addr)
    }

    /// Like [`Request::send`], over TLS with the given client configuration (the server
    /// name is the IP address).
    pub fn send_tls(&self, addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Response {
        let tcp = TcpStream::connect(addr).expect("connect to folio");
        tcp.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        tcp.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let name = rustls::pki_types::ServerName::try_from(addr.ip().to_string())
            .expect("an IP address is a valid server name");
        let conn = rustls::ClientConnection::new(config, name).expect("TLS client connection");
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        self.exchange(&mut stream, addr)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn exchange<S: Read + Write>(
        &self,
        stream: &mut S,
        addr: SocketAddr,
    ) -> Result<Response, String> {
        let bytes = self.to_bytes(&addr.to_string());
        // A server may answer (and close) before reading a large body; keep what it said.
        let write_result = stream.write_all(&bytes).and_then(|()| stream.flush());
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A reset after (part of) the response arrived ends the exchange; so does a
                // TLS peer closing without close_notify.
                Err(e)
                    if !raw.is_empty()
                        && matches!(
                            e.kind(),
                            ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
                        ) =>
                {
                    break;
                }
                Err(e) => {
                    return Err(format!(
                        "{} {}: reading the response failed: {e} (write: {write_result:?})",
                        self.method,
                        abbreviate(&self.path)
                    ));
                }
            }
        }
        Response::parse(&raw).map_err(|e| {
            format!(
                "{} {}: unparsable response ({e}): {:?}",
                self.method,
                abbreviate(&self.path),
                String::from_utf8_lossy(&raw[..raw.len().min(2000)])
            )
        })
    }
}

fn abbreviate(s: &str) -> String {
    if s.len() > 200 {
        format!("{}…", &s[..s.floor_char_boundary(200)])
    } else {
        s.to_string()
    }
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header lines in order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// Parses a response as read off the wire, skipping interim (1xx) answers.
    pub fn parse(mut raw: &[u8]) -> Result<Response, String> {
        loop {
            let r = Response::parse_one(raw)?;
            if !(100..200).contains(&r.0.status) {
                return Ok(r.0);
            }
            raw = &raw[r.1..];
        }
    }

    fn parse_one(raw: &[u8]) -> Result<(Response, usize), String> {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let head = std::str::from_utf8(&raw[..end]).map_err(|e| e.to_string())?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().ok_or("no status line")?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(format!("bad status line {status_line:?}"));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        for line in lines {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let rest = &raw[end + 4..];
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        resp.body = if resp
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            dechunk(rest)?
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(|_| "bad content-length")?;
            if rest.len() < len {
                return Err(format!("body truncated: {} of {len} bytes", rest.len()));
            }
            rest[..len].to_vec()
        } else {
            rest.to_vec()
        };
        Ok((resp, end + 4))
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header (case-insensitive name), in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` value, in order.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `name=value` pair of the last `Set-Cookie` for `name`, ready for a `Cookie`
    /// header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .rev()
            .filter_map(|c| c.split(';').next())
            .map(str::trim)
            .find(|pair| pair.split_once('=').is_some_and(|(k, _)| k == name))
            .map(str::to_string)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                self.text()
            )
        })
    }
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line")?;
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|e| e.to_string())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|e| e.to_string())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("chunk truncated".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// An `Authorization: Basic` value for an (e-mail, password) pair.
pub fn basic((email, password): (&str, &str)) -> String {
    use base64::Engine;
    let raw = format!("{email}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A valid 8-bit grayscale PNG of `w`×`h` pixels (a gradient), padded with a `tEXt` chunk
/// to exactly `size` bytes when given and reachable (uploads that must match a recorded
/// file size).
pub fn png(w: u32, h: u32, size: Option<usize>) -> Vec<u8> {
    let pixels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| ((x * 255 / w.max(1)) ^ (y * 255 / h.max(1))) as u8))
        .collect();
    let encode = |padding: usize| {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header");
        writer.write_image_data(&pixels).expect("PNG data");
        if padding > 0 {
            let mut text = b"Comment\0".to_vec();
            text.resize(padding, b'.');
            writer
                .write_chunk(png::chunk::tEXt, &text)
                .expect("PNG text chunk");
        }
        writer.finish().expect("PNG end");
        out
    };
    let plain = encode(0);
    // A chunk costs 12 bytes around its data; the text needs its keyword and NUL.
    match size {
        Some(t) if t >= plain.len() + 12 + 8 => {
            let out = encode(t - plain.len() - 12);
            assert_eq!(out.len(), t, "padded PNG size");
            out
        }
        _ => plain,
    }
}

/// A browser-like session: the `kirby_session=<value>` cookie pair and the CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// `kirby_session=<value>`.
    pub cookie: String,
    /// The CSRF token.
    pub csrf: String,
}

impl Session {
    /// Adds `Cookie` and `X-CSRF`.
    pub fn apply(&self, req: Request) -> Request {
        req.header("Cookie", &self.cookie)
            .header("X-CSRF", &self.csrf)
    }

    /// Adds only the cookie (no CSRF token).
    pub fn cookie_only(&self, req: Request) -> Request {
        req.header("Cookie", &self.cookie)
    }

    /// The same CSRF token with another cookie.
    pub fn with_cookie(&self, cookie: &str) -> Session {
        Session {
            cookie: cookie.to_string(),
            csrf: self.csrf.clone(),
        }
    }

    /// The same cookie with another CSRF token.
    pub fn with_csrf(&self, csrf: &str) -> Session {
        Session {
            cookie: self.cookie.clone(),
            csrf: csrf.to_string(),
        }
    }
}

/// `GET /csrf`: starts a session and returns its cookie and CSRF token.
pub fn start_session(server: &Server) -> Session {
    let r = server.get("/csrf");
    assert_eq!(r.status, 200, "GET /csrf: {}", r.text());
    let csrf = r.json()["csrf"]
        .as_str()
        .unwrap_or_else(|| panic!("GET /csrf has no token: {}", r.text()))
        .to_string();
    assert_eq!(csrf.len(), 64, "CSRF token {csrf:?}");
    assert!(
        csrf.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let cookie = r
        .cookie("kirby_session")
        .unwrap_or_else(|| panic!("GET /csrf sets no kirby_session: {:?}", r.headers));
    Session { cookie, csrf }
}

/// `POST /api/auth/login` in a session.
pub fn login_request(session: &Session, email: &str, password: &str, long: bool) -> Request {
    session.apply(
        Request::new("POST", "/api/auth/login")
            .json(&serde_json::json!({"email": email, "password": password, "long": long})),
    )
}

/// Full session login (`GET /csrf`, then `POST /api/auth/login`); returns the response and
/// the session with the regenerated cookie.
pub fn login_full(
    server: &Server,
    (email, password): (&str, &str),
    long: bool,
) -> (Response, Session) {
    let pre = start_session(server);
    let r = server.send(&login_request(&pre, email, password, long));
    assert_eq!(r.status, 200, "login {email}: {}", r.text());
    let cookie = r
        .cookie("kirby_session")
        .unwrap_or_else(|| panic!("login {email} sets no cookie: {:?}", r.headers));
    let after = pre.with_cookie(&cookie);
    (r, after)
}

/// A logged-in session (not `long`).
pub fn login(server: &Server, account: (&str, &str)) -> Session {
    login_full(server, account, false).1
}

/// `GET /api/auth` in a session.
pub fn get_auth(server: &Server, session: &Session) -> Response {
    server.send(&session.apply(Request::new("GET", "/api/auth")))
}

/// The JSON content type of every API answer.
pub const JSON_TYPE: &str = "application/json; charset=UTF-8";

/// Asserts a Kirby error envelope exactly: status, `Content-Type`, and the body
/// `{"status":"error","message":…,"code":…,"key":…,"details":[]}` in that key order.
#[track_caller]
pub fn assert_error(r: &Response, status: u16, key: Option<&str>, message: &str) {
    assert_eq!(r.status, status, "status; body: {}", r.text());
    assert_eq!(r.header("content-type"), Some(JSON_TYPE), "{:?}", r.headers);
    let body = r.json();
    let expected = serde_json::json!({
        "status": "error",
        "message": message,
        "code": status,
        "key": key,
        "details": [],
    });
    assert_eq!(body, expected, "body: {}", r.text());
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["status", "message", "code", "key", "details"],
        "key order"
    );
}

#[track_caller]
pub fn assert_unauthenticated(r: &Response) {
    assert_error(r, 401, Some("error.auth"), "Unauthenticated");
}
