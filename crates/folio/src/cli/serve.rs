//! `folio serve`: opens the site, its authentication state and templates, starts the watcher,
//! binds the listener and serves until SIGTERM / Ctrl-C.

use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;

use crate::app::App;
use crate::app::watch::{self, Watched};
use crate::auth::Auth;
use crate::http::{self, Served};
use crate::site::Templates;

/// What `folio serve` was asked to do.
pub struct Options {
    /// The Kirby install root.
    pub root: Option<PathBuf>,
    /// `host:port`.
    pub listen: String,
    /// `--set option=value` overrides.
    pub set: Vec<String>,
    /// Certificate chain and key (PEM) for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where to write the bound address once listening.
    pub ready_file: Option<PathBuf>,
}

/// Starts everything one server needs on a listener that is already bound (`main` and the
/// tests share this): the auth state, the templates, and the watcher.
pub async fn start(app: Arc<App>) -> anyhow::Result<Served> {
    let auth = Auth::open(&app).await?;
    let templates = Arc::new(Templates::load(&app.root, &app.config));
    let reload = templates.clone();
    let watcher = watch::spawn(
        app.clone(),
        vec![Watched {
            dirs: Templates::folders(&app.root).to_vec(),
            on_change: Box::new(move || {
                reload.reload();
                tracing::info!("templates changed on disk: recompiled");
            }),
        }],
    );
    Ok(Served {
        app,
        auth,
        templates,
        watcher: Arc::new(watcher),
    })
}

/// Runs `folio serve`.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let app = Arc::new(App::open(opts.root, &opts.set)?);
    let acceptor = match &opts.tls {
        Some((cert, key)) => Some(http::tls::acceptor(cert, key)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let served = start(app.clone()).await?;
        let listener = tokio::net::TcpListener::bind(&opts.listen)
            .await
            .with_context(|| format!("cannot listen on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        if let Some(path) = &opts.ready_file {
            folio_core::store::write_atomic(path, format!("{addr}\n").as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let snap = app.snapshot();
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        tracing::info!(
            "serving \"{}\" from {} ({} pages, {} users) on {scheme}://{addr}",
            snap.site.title(),
            app.root.display(),
            snap.pages.len(),
            snap.users.len()
        );
        http::serve(served, listener, acceptor).await
    })?;
    // Blocking tasks still running (a bcrypt check) get a moment; nothing waits longer.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

/// Prints how many bcrypt (cost 10) verifications per second all cores manage together.
pub fn bcrypt_rate(seconds: u64) {
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
