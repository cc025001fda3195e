//! The `folio` binary: command-line parsing and start-up (`folio serve`).
#![forbid(unsafe_code)]

mod api;
mod config;
mod http;
mod time;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_core::{Snapshot, SnapshotOptions};

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
        Command::Serve { root, listen, set } => serve(root, &listen, &set),
    };
    if let Err(e) = result {
        eprintln!("folio: {e:#}");
        std::process::exit(1);
    }
}

/// The bundled example site: `examples/site` in the working directory or the source tree.
fn default_root() -> PathBuf {
    let local = PathBuf::from("examples/site");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/site")
}

fn serve(root: Option<PathBuf>, listen: &str, set: &[String]) -> anyhow::Result<()> {
    let root = root.unwrap_or_else(default_root);
    if !root.is_dir() {
        bail!("{} does not exist or is not a folder", root.display());
    }
    if !root.join("content").is_dir() {
        bail!(
            "{} is not a Kirby site: it has no content/ folder (expected content/, site/blueprints, site/accounts, site/config)",
            root.display()
        );
    }
    let root =
        std::fs::canonicalize(&root).with_context(|| format!("resolving {}", root.display()))?;
    let config = config::Config::load(&root, set)?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let options = SnapshotOptions {
        home: config.string("home").unwrap_or_else(|| "home".into()),
        error: config.string("error").unwrap_or_else(|| "error".into()),
        salt: config.string("content.salt"),
        ..SnapshotOptions::default()
    };
    let snapshot =
        Snapshot::build(&root, options).with_context(|| format!("reading {}", root.display()))?;
    for w in &snapshot.warnings {
        tracing::warn!("{w}");
    }
    let lifetimes = http::session::Lifetimes {
        normal: config.int("session.durationNormal", 7200),
        long: config.int("session.durationLong", 1_209_600),
        timeout: config.int("session.timeout", 1800),
    };
    let title = snapshot.site.title().to_string();
    let pages = snapshot.pages.len();
    let users = snapshot.users.len();
    let app = Arc::new(http::App {
        api_slug: config.string("api.slug").unwrap_or_else(|| "api".into()),
        debug: config.is_true("debug"),
        max_body: config.int("folio.maxBodySize", 16 * 1024 * 1024).max(1024) as usize,
        sessions: http::session::Store::new(root.join("site").join("sessions"), lifetimes),
        basic_cache: http::auth::BasicCache::default(),
        snapshot: arc_swap::ArcSwap::from_pointee(snapshot),
        config,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        tracing::info!(
            "serving \"{title}\" from {} ({pages} pages, {users} users) on http://{addr}",
            root.display()
        );
        http::serve(app, listener).await
    })
}
