//! Folio's server crate: configuration, the HTTP server (auth, sessions, CSRF, Basic auth),
//! Kirby's REST API routes and JSON views, site rendering, and the account CLI. The `folio`
//! binary (main.rs) only parses the command line and starts things.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod http;
pub mod site;
pub mod time;
pub mod user_cli;
pub mod watch;

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

use folio_core::SnapshotOptions;

/// The bundled example site: `examples/site` in the working directory or the source tree.
pub fn default_root() -> PathBuf {
    let local = PathBuf::from("examples/site");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/site")
}

/// Checks that a folder is a Kirby install root and returns its absolute path.
pub fn site_root(root: Option<PathBuf>) -> anyhow::Result<PathBuf> {
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
    std::fs::canonicalize(&root).with_context(|| format!("resolving {}", root.display()))
}

/// Snapshot options from config.
pub fn snapshot_options(config: &config::Config) -> SnapshotOptions {
    SnapshotOptions {
        home: config.string("home").unwrap_or_else(|| "home".into()),
        error: config.string("error").unwrap_or_else(|| "error".into()),
        salt: config.string("content.salt"),
        ..SnapshotOptions::default()
    }
}
