//! The application: one Kirby site served by Folio. It owns the resolved settings, the
//! current snapshot (published atomically, read without locks) and [`App::commit`], the one
//! write pipeline — writer lock, latest snapshot, precondition, the core action on a blocking
//! thread, publish — that the API, the CLI and the watcher all use. It imports no HTTP, API,
//! site or auth code; those layers sit on top of it.

pub mod config;
pub mod i18n;
pub mod log;
pub mod settings;
pub mod urls;
pub mod watch;

use anyhow::{Context as _, bail};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_core::actions::{Change, Ctx, Precondition};
use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot, SnapshotOptions};

pub use config::Config;
pub use settings::Settings;

/// The content type of every JSON answer.
pub const JSON: &str = "application/json; charset=UTF-8";

/// Kirby's message for non-Kirby errors outside debug mode.
pub const UNEXPECTED: &str = "An unexpected error occurred! Enable debug mode for more info: https://getkirby.com/docs/reference/system/options/debug";

/// Kirby's error envelope for an error: the HTTP status and the JSON body
/// `{"status":"error","message":…,"code":…,"key":…,"details":…}`, plus `exception`, `file`,
/// `line` and `route` in debug mode. Outside debug mode a non-Kirby error shows Kirby's
/// generic message and never its cause.
pub fn envelope(err: &Error, debug: bool, route: Option<&str>) -> (u16, serde_json::Value) {
    use serde_json::json;
    let code = err.code();
    let status = if (400..600).contains(&code) {
        code
    } else {
        500
    };
    if matches!(err, Error::NullResult) {
        return (
            status,
            json!({"status": "error", "message": "not found", "code": 404}),
        );
    }
    let message = match err {
        Error::Unexpected { detail, .. } if debug => detail.clone(),
        Error::Unexpected { .. } => UNEXPECTED.to_string(),
        other => other.to_string(),
    };
    let body = if debug {
        json!({
            "status": "error",
            "message": message,
            "code": code,
            "exception": err.exception(),
            "key": err.key(),
            "file": null,
            "line": null,
            "details": err.details(),
            "route": route,
        })
    } else {
        json!({
            "status": "error",
            "message": message,
            "code": code,
            "key": err.key(),
            "details": err.details(),
        })
    };
    (status, body)
}

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

/// How snapshots of a site are built, from its configuration.
pub fn snapshot_options(config: &Config) -> SnapshotOptions {
    SnapshotOptions {
        home: config.string("home").unwrap_or_else(|| "home".into()),
        error: config.string("error").unwrap_or_else(|| "error".into()),
        salt: config.string("content.salt"),
        yaml: folio_core::format::yaml::Handler::from_options(
            config.string("yaml.handler").as_deref(),
            Some(config.int("yaml.params.inline", 9999)),
            Some(config.int("yaml.params.indent", 2)),
        ),
        ..SnapshotOptions::default()
    }
}

/// Deletes `.tmp-folio-*` files (writes and uploads interrupted by a crash) under
/// `content/` and `site/`.
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

/// One site and its state.
pub struct App {
    /// The Kirby install root (absolute).
    pub root: PathBuf,
    /// The effective configuration (declared routes and template options live here).
    pub config: Config,
    /// The typed settings.
    pub settings: Settings,
    /// How snapshots are built.
    pub options: SnapshotOptions,
    snapshot: ArcSwap<Snapshot>,
    /// One writer at a time; readers never take it.
    writer: tokio::sync::Mutex<()>,
}

impl App {
    /// Opens a site: reads the layered configuration (with `--set` overrides), removes
    /// temporary files left by a crash, and builds the first snapshot. Warnings (skipped PHP
    /// code, unreadable blueprints) are logged.
    pub fn open(root: Option<PathBuf>, overrides: &[String]) -> anyhow::Result<App> {
        let root = site_root(root)?;
        let config = Config::load(&root, overrides)?;
        for w in &config.warnings {
            tracing::warn!("{w}");
        }
        let mut settings = Settings::from_config(&config)?;
        let kql_plugin = root.join("site/plugins/kql").is_dir();
        if kql_plugin && !config.is_false("folio.kql") {
            settings.kql_enabled = true;
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
        Ok(App {
            root,
            config,
            settings,
            options,
            snapshot: ArcSwap::from_pointee(snapshot),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// The current snapshot (no lock).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Re-reads the whole site from disk.
    pub fn read_site(&self) -> Result<Snapshot, Error> {
        Snapshot::build(&self.root, self.options.clone())
            .map_err(|e| Error::internal(format!("re-reading the site: {e}")))
    }

    /// The snapshot after a change, re-reading as little as the change needs.
    fn next(&self, snap: &Snapshot, change: &Change) -> Result<Option<Snapshot>, Error> {
        Ok(match change {
            Change::Nothing => None,
            Change::PageContent(id) => Some(match snap.page_by_id(id) {
                Some(p) => snap.with_page_content(p),
                None => self.read_site()?,
            }),
            Change::SiteContent => Some(snap.with_site_content()),
            Change::Structure => Some(self.read_site()?),
        })
    }

    /// Runs one write: under the writer lock, on the latest snapshot, after the
    /// precondition; then publishes what changed. `action` runs on a blocking thread. When a
    /// file it was about to overwrite changed on disk since the snapshot was built (an
    /// outside edit the watcher has not caught up with), the site is re-read and the action
    /// runs once more on the fresh content. A failed action wrote nothing (actions validate
    /// before they touch the disk), so nothing is published.
    pub async fn commit<T, F>(
        self: &Arc<Self>,
        actor: &Actor,
        precondition: Precondition,
        action: F,
    ) -> Result<(T, Arc<Snapshot>), Error>
    where
        F: Fn(&Ctx<'_>) -> Result<(T, Change), Error> + Send + 'static,
        T: Send + 'static,
    {
        self.commit_in(None, actor, precondition, action).await
    }

    /// [`App::commit`] in a content language (`lang` indexes the site's languages; `None`
    /// is the default language): the action runs on the site in that language and the
    /// returned snapshot is in it too.
    pub async fn commit_in<T, F>(
        self: &Arc<Self>,
        lang: Option<usize>,
        actor: &Actor,
        precondition: Precondition,
        action: F,
    ) -> Result<(T, Arc<Snapshot>), Error>
    where
        F: Fn(&Ctx<'_>) -> Result<(T, Change), Error> + Send + 'static,
        T: Send + 'static,
    {
        let _guard = self.writer.lock().await;
        let this = self.clone();
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || {
            this.commit_locked(lang, &actor, &precondition, &action)
        })
        .await
        .map_err(|e| Error::internal(format!("write task failed: {e}")))?
    }

    /// [`App::commit`] from a thread that is not async (the CLI).
    pub fn commit_blocking<T, F>(
        &self,
        actor: &Actor,
        precondition: Precondition,
        action: F,
    ) -> Result<(T, Arc<Snapshot>), Error>
    where
        F: Fn(&Ctx<'_>) -> Result<(T, Change), Error>,
    {
        let _guard = self.writer.blocking_lock();
        self.commit_locked(None, actor, &precondition, &action)
    }

    fn commit_locked<T, F>(
        &self,
        lang: Option<usize>,
        actor: &Actor,
        precondition: &Precondition,
        action: &F,
    ) -> Result<(T, Arc<Snapshot>), Error>
    where
        F: Fn(&Ctx<'_>) -> Result<(T, Change), Error>,
    {
        let in_lang = |snap: &Arc<Snapshot>| match lang {
            Some(l) => snap.view(l),
            None => snap.clone(),
        };
        let run = |snap: &Arc<Snapshot>| {
            let snap = in_lang(snap);
            precondition.check(&snap)?;
            action(&Ctx { snap: &snap, actor })
        };
        let snap = self.snapshot();
        let (snap, result) = match run(&snap) {
            Err(Error::Conflict { .. }) => {
                tracing::info!("a file changed on disk before this write: re-reading the site");
                let fresh = Arc::new(self.read_site()?);
                self.snapshot.store(fresh.clone());
                let again = run(&fresh);
                (fresh, again)
            }
            other => (snap, other),
        };
        let (out, change) = result?;
        let published = match self.next(&snap, &change)? {
            Some(next) => {
                let next = Arc::new(next);
                self.snapshot.store(next.clone());
                next
            }
            None => snap,
        };
        Ok((out, in_lang(&published)))
    }

    /// Publishes a snapshot built outside `commit` (the watcher), under the writer lock so
    /// it never replaces a write's result.
    pub fn publish_blocking(&self, build: impl FnOnce(&Snapshot) -> Option<Snapshot>) {
        let _guard = self.writer.blocking_lock();
        let current = self.snapshot();
        if let Some(next) = build(&current) {
            self.snapshot.store(Arc::new(next));
        }
    }

    /// The site's base URL: the `url` option, or the request's scheme and `Host`.
    pub fn base_url(&self, host: Option<&str>, https: bool) -> String {
        if let Some(url) = &self.settings.url {
            return url.clone();
        }
        let host = host
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{host}")
    }
}
