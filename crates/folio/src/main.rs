//! The `folio` binary: command-line parsing and start-up (`folio serve`, `folio user ...`).
#![forbid(unsafe_code)]

use folio::{config, http, site, site_root, snapshot_options, user_cli, watch};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_core::Snapshot;

/// Folio: a fast, secure, Kirby-compatible flat-file CMS server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a Kirby site folder (content/, site/blueprints, site/accounts, site/config).
    Serve {
        /// The Kirby install root (defaults to the bundled example site).
        root: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "FOLIO_LISTEN")]
        listen: String,
        /// Override an option by its dotted Kirby name, e.g. `api.basicAuth=false`.
        #[arg(long = "set", value_name = "OPTION=VALUE")]
        set: Vec<String>,
        /// Serve HTTPS with this certificate chain (PEM).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) for `--tls-cert`.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Once listening, write the bound address to this file (for tests and scripts that
        /// listen on port 0).
        #[arg(long, hide = true)]
        ready_file: Option<PathBuf>,
    },
    /// Measure the raw bcrypt-verify rate of this machine on all cores (for benchmarks).
    #[command(hide = true)]
    BcryptRate {
        /// How long to measure.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Manage accounts in `site/accounts` (Kirby's format).
    User {
        #[command(subcommand)]
        action: user_cli::UserCommand,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            root,
            listen,
            set,
            tls_cert,
            tls_key,
            ready_file,
        } => serve(root, &listen, &set, tls_cert.zip(tls_key), ready_file),
        Command::User { action } => user_cli::run(action),
        Command::BcryptRate { seconds } => {
            bcrypt_rate(seconds);
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("folio: {e:#}");
        std::process::exit(1);
    }
}

/// Prints how many bcrypt (cost 10) verifications per second all cores manage together.
fn bcrypt_rate(seconds: u64) {
    let hash = folio_core::password::hash("benchmark-password").expect("hashing works");
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    assert!(folio_core::password::verify("benchmark-password", &hash));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    println!("{:.1}", total as f64 / seconds as f64);
}

/// Deletes `.tmp-folio-*` files (writes interrupted by a crash) under content/ and site/.
fn remove_stray_temp_files(root: &Path) -> usize {
    fn walk(dir: &Path, n: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                walk(&e.path(), n);
            } else if ft.is_file()
                && name.starts_with(".tmp-folio-")
                && std::fs::remove_file(e.path()).is_ok()
            {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(&root.join("content"), &mut n);
    walk(&root.join("site"), &mut n);
    n
}

fn serve(
    root: Option<PathBuf>,
    listen: &str,
    set: &[String],
    tls: Option<(PathBuf, PathBuf)>,
    ready_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let root = site_root(root)?;
    let config = config::Config::load(&root, set)?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let options = snapshot_options(&config);
    let stray = remove_stray_temp_files(&root);
    if stray > 0 {
        tracing::warn!("removed {stray} temporary files left by an interrupted write");
    }
    folio_core::snapshot::prefetch(&root.join("content"));
    let snapshot = Snapshot::build(&root, options.clone())
        .with_context(|| format!("reading {}", root.display()))?;
    for w in &snapshot.warnings {
        tracing::warn!("{w}");
    }
    let acceptor = match &tls {
        Some((cert, key)) => Some(http::tls::acceptor(cert, key)?),
        None => None,
    };
    let lifetimes = http::session::Lifetimes {
        normal: config.int("session.durationNormal", 7200),
        long: config.int("session.durationLong", 1_209_600),
        timeout: config.int("session.timeout", 1800),
    };
    let mut trusted_proxies = Vec::new();
    for p in config.list("folio.trustedProxies") {
        match http::client::Net::parse(&p) {
            Some(n) => trusted_proxies.push(n),
            None => bail!("folio.trustedProxies: `{p}` is not an IP address or CIDR range"),
        }
    }
    let title = snapshot.site.title().to_string();
    let pages = snapshot.pages.len();
    let users = snapshot.users.len();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let runtime = runtime;
    runtime.block_on(async move {
        let store = config
            .string("session.store")
            .unwrap_or_else(|| "file".into());
        let fixed_secret = config.string("folio.secret").filter(|s| !s.is_empty());
        let (sessions, trials, secret, redis) = if store.starts_with("redis://")
            || store.starts_with("rediss://")
        {
            // Connected in the background: a node starts (and answers 503 to logins)
            // while Redis is down.
            let redis = http::redis::Redis::open(&store)?;
            let _ = redis.connect().await;
            let secret = match &fixed_secret {
                Some(s) => http::secret::SiteSecret::fixed(s),
                None => http::secret::SiteSecret::pending(),
            };
            (
                http::session::Store::new(http::session::Backend::Redis(redis.clone()), lifetimes),
                http::trials::TrialStore::Redis(redis.clone()),
                secret,
                Some(redis),
            )
        } else if store == "file" {
            let folder = root.join("site").join("sessions");
            let secret = match &fixed_secret {
                Some(s) => http::secret::SiteSecret::fixed(s),
                None => http::secret::SiteSecret::from_folder(&folder)
                    .context("reading the site secret")?,
            };
            (
                http::session::Store::new(http::session::Backend::Files(folder), lifetimes),
                http::trials::TrialStore::file(root.join("site").join("accounts").join(".logins")),
                secret,
                None,
            )
        } else {
            bail!("session.store must be `file` or a redis:// URL, got `{store}`");
        };
        let response_cache = config.int("folio.responseCache", 20_000).max(0) as usize;
        let response_cache_bytes = config
            .int("folio.responseCacheBytes", 64 * 1024 * 1024)
            .max(0) as usize;
        let templates = site::Templates::load(&root, &config);
        let app = Arc::new(http::App {
            settings: http::Settings::from_config(&config),
            api_slug: config.string("api.slug").unwrap_or_else(|| "api".into()),
            debug: config.is_true("debug"),
            max_body: config.int("folio.maxBodySize", 16 * 1024 * 1024).max(1024) as usize,
            body_timeout: config.seconds("folio.bodyTimeout", 60.0),
            sessions,
            secret,
            trials,
            trusted_proxies,
            basic_cache: http::auth::BasicCache::default(),
            snapshot: arc_swap::ArcSwap::from_pointee(snapshot),
            config,
            root: root.clone(),
            snapshot_options: options.clone(),
            writer: tokio::sync::Mutex::new(()),
            responses: http::cache::ResponseCache::new(response_cache, response_cache_bytes),
            templates,
        });
        watch::spawn(app.clone(), root.clone(), options);
        if let Some(redis) = redis {
            // Agree on the site secret whenever Redis is reachable (unless it is configured).
            let keeper_app = app.clone();
            let agree = fixed_secret.is_none();
            redis.spawn_keeper(move |r| {
                let app = keeper_app.clone();
                async move {
                    if agree {
                        app.secret.agree(&r).await;
                    }
                }
            });
        }
        let limits = server_limits(&app.config, &app.trusted_proxies);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        if let Some(path) = &ready_file {
            folio_core::store::write_atomic(path, format!("{addr}\n").as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        tracing::info!(
            "serving \"{title}\" from {} ({pages} pages, {users} users) on {scheme}://{addr}",
            root.display()
        );
        http::serve(app, listener, acceptor, limits).await
    })?;
    // Blocking tasks still running (a bcrypt check) get a moment; nothing waits longer.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// The listener's limits from the `folio.*` options, with the connection cap kept below
/// the open-files limit (raised to its hard limit first).
fn server_limits(config: &config::Config, proxies: &[http::client::Net]) -> http::server::Limits {
    let d = http::server::Limits::default();
    let fd_limit = http::server::raise_fd_limit();
    let configured = config.int("folio.maxConnections", d.max_connections as i64);
    let max_connections =
        http::server::effective_max_connections(usize::try_from(configured).unwrap_or(1), fd_limit);
    if (max_connections as i64) < configured {
        tracing::info!(
            "folio.maxConnections lowered to {max_connections} (open-files limit {})",
            fd_limit.unwrap_or(0)
        );
    }
    let hsts = match config.string("folio.hsts") {
        Some(v) if !v.trim().is_empty() => Some(http::hv(v.trim())),
        _ if config.is_false("folio.hsts") => None,
        _ => d.hsts.clone(),
    };
    http::server::Limits {
        max_connections,
        max_connections_per_ip: usize::try_from(
            config.int("folio.maxConnectionsPerIp", d.max_connections_per_ip as i64),
        )
        .unwrap_or(1)
        .max(1),
        header_timeout: config.seconds("folio.headerTimeout", d.header_timeout.as_secs_f64()),
        keep_alive_timeout: config
            .seconds("folio.keepAliveTimeout", d.keep_alive_timeout.as_secs_f64()),
        send_timeout: config.seconds("folio.sendTimeout", d.send_timeout.as_secs_f64()),
        shutdown_timeout: config.seconds("folio.shutdownTimeout", d.shutdown_timeout.as_secs_f64()),
        hsts,
        trusted_proxies: proxies.to_vec(),
    }
}
