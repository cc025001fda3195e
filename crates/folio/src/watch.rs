//! Keeps the snapshot in step with the disk: a debounced file watcher on `content/` and
//! `site/` rebuilds the snapshot after external edits (an editor, `git pull`, `folio user`)
//! and publishes it atomically. Requests never wait for a rebuild.

use notify::RecursiveMode;
use notify_debouncer_full::new_debouncer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use folio_core::{Snapshot, SnapshotOptions};

use crate::http::App;

/// The snapshot after edits that only changed existing content files (pages or
/// `site.txt`), re-reading just those files; `None` when anything else changed.
fn incremental(current: &Snapshot, root: &std::path::Path, paths: &[&PathBuf]) -> Option<Snapshot> {
    let site_txt = root.join("content").join("site.txt");
    let mut next: Option<Snapshot> = None;
    for path in paths {
        if !path.is_file() {
            return None; // created or deleted: structure may have changed
        }
        let base = next.as_ref().unwrap_or(current);
        let updated = if **path == site_txt {
            base.with_site_content()
        } else {
            base.with_page_content(base.page_by_content_file(path)?)
        };
        next = Some(updated);
    }
    next
}

/// Starts the watcher thread. It lives as long as the process.
pub fn spawn(app: Arc<App>, root: PathBuf, options: SnapshotOptions) {
    std::thread::Builder::new()
        .name("folio-watch".into())
        .spawn(move || {
            let (tx, rx) = std::sync::mpsc::channel();
            let mut debouncer = match new_debouncer(Duration::from_millis(200), None, tx) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("file watching is off: {e}");
                    return;
                }
            };
            // Templates and snippets are watched too: a change there recompiles the templates.
            let template_dirs = crate::site::Templates::folders(&root);
            let dirs = ["content", "site/accounts", "site/blueprints"]
                .iter()
                .map(|d| root.join(d))
                .chain(template_dirs.iter().cloned());
            for path in dirs {
                if path.is_dir()
                    && let Err(e) = debouncer.watch(&path, RecursiveMode::Recursive)
                {
                    tracing::warn!("cannot watch {}: {e}", path.display());
                }
            }
            for events in rx {
                let Ok(events) = events else { continue };
                // Only changes count (reading files while building a snapshot emits access
                // events), and our own bookkeeping files do not change the site.
                let changed: Vec<&std::path::PathBuf> = events
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
                let (templates, site): (Vec<_>, Vec<_>) = changed
                    .into_iter()
                    .partition(|p| template_dirs.iter().any(|d| p.starts_with(d)));
                if !templates.is_empty() {
                    app.templates.reload();
                    tracing::info!("templates changed on disk: recompiled");
                }
                if site.is_empty() {
                    continue;
                }
                // Publish under the writer lock, so an API write and the watcher never
                // overwrite each other's snapshot.
                let _guard = app.writer.blocking_lock();
                let current = app.snapshot.load_full();
                match incremental(&current, &root, &site) {
                    Some(next) => {
                        app.snapshot.store(Arc::new(next));
                        tracing::debug!("content files changed on disk: pages re-read");
                    }
                    None => match Snapshot::build(&root, options.clone()) {
                        Ok(s) => {
                            app.snapshot.store(Arc::new(s));
                            tracing::info!("site changed on disk: snapshot rebuilt");
                        }
                        Err(e) => tracing::warn!("site changed on disk but could not be read: {e}"),
                    },
                }
            }
        })
        .expect("spawning the watcher thread");
}
