//! Keeps the snapshot in step with the disk: a debounced file watcher on `content/` and
//! `site/` re-reads what changed after outside edits (an editor, `git pull`, `folio user`)
//! and publishes it through the writer lock. Other folders can be watched too (templates):
//! their owner is called back. Requests never wait for a rebuild.

use notify::RecursiveMode;
use notify_debouncer_full::new_debouncer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use folio_core::Snapshot;

use super::App;

/// More folders to watch, and what to do when something in them changes.
pub struct Watched {
    /// The folders (watched recursively when they exist).
    pub dirs: Vec<PathBuf>,
    /// Called after a debounced batch of changes in them.
    pub on_change: Box<dyn Fn() + Send>,
}

/// The snapshot after edits that only changed existing content files (pages or
/// `site.txt`), re-reading just those files; `None` when anything else changed.
fn incremental(current: &Snapshot, paths: &[&PathBuf]) -> Option<Snapshot> {
    let mut next: Option<Snapshot> = None;
    for path in paths {
        if !path.is_file() {
            return None; // created or deleted: structure may have changed
        }
        let base = next.as_ref().unwrap_or(current);
        // A content file in any language: every language view re-reads that model.
        let updated = if base.is_site_content_file(path) {
            base.with_site_content()
        } else {
            base.with_page_content(base.page_by_content_file(path)?)
        };
        next = Some(updated);
    }
    next
}

/// A running watcher; dropping it stops the watching and ends its thread.
pub struct Watcher {
    _debouncer: Option<std::sync::Mutex<Box<dyn Send>>>,
}

/// Starts the watcher thread; it runs until the returned [`Watcher`] is dropped.
pub fn spawn(app: Arc<App>, extra: Vec<Watched>) -> Watcher {
    let root = app.root.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = match new_debouncer(Duration::from_millis(200), None, tx) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("file watching is off: {e}");
            return Watcher { _debouncer: None };
        }
    };
    let site_dirs = ["content", "site/accounts", "site/blueprints"].map(|d| root.join(d));
    for path in site_dirs
        .iter()
        .chain(extra.iter().flat_map(|w| w.dirs.iter()))
    {
        if path.is_dir()
            && let Err(e) = debouncer.watch(path, RecursiveMode::Recursive)
        {
            tracing::warn!("cannot watch {}: {e}", path.display());
        }
    }
    std::thread::Builder::new()
        .name("folio-watch".into())
        .spawn(move || {
            // Ends when the debouncer (the sender's owner) is dropped with the Watcher.
            for events in rx {
                let Ok(events) = events else { continue };
                // Only changes count (reading files while building a snapshot emits access
                // events), and our own bookkeeping files do not change the site.
                let changed: Vec<&PathBuf> = events
                    .iter()
                    .filter(|e| {
                        !matches!(
                            e.kind,
                            notify::EventKind::Access(_) | notify::EventKind::Other
                        )
                    })
                    .flat_map(|e| e.paths.iter())
                    .filter(|p| {
                        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        !name.starts_with(".logins") && !name.starts_with(".tmp")
                    })
                    .collect();
                let mut site = Vec::new();
                let mut called = vec![false; extra.len()];
                for path in changed {
                    match extra
                        .iter()
                        .position(|w| w.dirs.iter().any(|d| path.starts_with(d)))
                    {
                        Some(i) => called[i] = true,
                        None => site.push(path),
                    }
                }
                for (w, _) in extra.iter().zip(&called).filter(|(_, c)| **c) {
                    (w.on_change)();
                }
                if site.is_empty() {
                    continue;
                }
                app.publish_blocking(|current| match incremental(current, &site) {
                    Some(next) => {
                        tracing::debug!("content files changed on disk: pages re-read");
                        Some(next)
                    }
                    None => match app.read_site() {
                        Ok(s) => {
                            tracing::info!("site changed on disk: snapshot rebuilt");
                            Some(s)
                        }
                        Err(e) => {
                            tracing::warn!("site changed on disk but could not be read: {e}");
                            None
                        }
                    },
                });
            }
        })
        .expect("spawning the watcher thread");
    Watcher {
        _debouncer: Some(std::sync::Mutex::new(Box::new(debouncer))),
    }
}
