//! The Redis connection that several nodes share sessions, login trials and the site secret
//! through. A node starts while Redis is down: it connects in the background and keeps
//! retrying, every command fails closed (the caller answers 503) while there is no
//! connection, and a health flag lets routes that would hand out state refuse early.

use arc_swap::ArcSwapOption;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::app::log::RateLimitedLog;

/// The store could not be reached: authentication fails closed.
#[derive(Debug, thiserror::Error)]
#[error("the session store is unavailable: {0}")]
pub struct Unavailable(pub String);

struct Inner {
    client: redis::Client,
    manager: ArcSwapOption<redis::aio::ConnectionManager>,
    healthy: AtomicBool,
    log: RateLimitedLog,
}

/// A shared, lazily connected Redis handle.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redis(connected: {})", self.is_healthy())
    }
}

impl Redis {
    /// A handle for `url` (only parsed here; nothing is connected yet).
    pub fn open(url: &str) -> anyhow::Result<Redis> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("session.store: invalid Redis URL: {e}"))?;
        Ok(Redis {
            inner: Arc::new(Inner {
                client,
                manager: ArcSwapOption::empty(),
                healthy: AtomicBool::new(false),
                log: RateLimitedLog::new(Duration::from_secs(30)),
            }),
        })
    }

    /// Whether the last command (or health check) reached Redis.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    fn mark(&self, ok: bool, why: impl FnOnce() -> String) {
        let was = self.inner.healthy.swap(ok, Ordering::Relaxed);
        if was && !ok {
            let why = why();
            tracing::error!("Redis is unreachable ({why}): authentication answers 503");
        } else if !was && ok {
            tracing::info!("Redis is reachable");
        }
    }

    /// Tries to connect once (bounded by a timeout).
    pub async fn connect(&self) -> Result<(), Unavailable> {
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let attempt =
            redis::aio::ConnectionManager::new_with_config(self.inner.client.clone(), cfg);
        match tokio::time::timeout(Duration::from_secs(3), attempt).await {
            Ok(Ok(m)) => {
                self.inner.manager.store(Some(Arc::new(m)));
                self.mark(true, String::new);
                Ok(())
            }
            Ok(Err(e)) => Err(Unavailable(e.to_string())),
            Err(_) => Err(Unavailable("connecting timed out".into())),
        }
    }

    /// Keeps the connection up for the life of the process: connects (retrying every
    /// second), then checks health every second while unhealthy and every five seconds
    /// otherwise. `on_healthy` runs after every successful check (e.g. to agree on the
    /// site secret).
    pub fn spawn_keeper<F, Fut>(&self, on_healthy: F)
    where
        F: Fn(Redis) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if this.inner.manager.load().is_none()
                    && let Err(e) = this.connect().await
                {
                    this.inner.log.log(|skipped| {
                        tracing::warn!(
                            "cannot connect to Redis yet ({e}); retrying every second ({skipped} attempts not logged)"
                        )
                    });
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                let ok = this
                    .cmd::<String>(&redis::cmd("PING"))
                    .await
                    .is_ok_and(|p| p == "PONG");
                if ok {
                    on_healthy(this.clone()).await;
                }
                let pause = if this.is_healthy() { 5 } else { 1 };
                tokio::time::sleep(Duration::from_secs(pause)).await;
            }
        });
    }

    /// Runs a command. A failed command is retried once after a short pause (the manager
    /// reconnects after a failure, so a node that sat idle through an outage does not drop
    /// its first request afterwards).
    pub async fn cmd<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Unavailable> {
        let Some(manager) = self.inner.manager.load_full() else {
            self.mark(false, || "not connected".into());
            return Err(Unavailable("not connected to Redis".into()));
        };
        let mut c = (*manager).clone();
        let result = match cmd.query_async(&mut c).await {
            Ok(v) => Ok(v),
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                cmd.query_async(&mut c).await
            }
        };
        match result {
            Ok(v) => {
                self.mark(true, String::new);
                Ok(v)
            }
            Err(e) => {
                let msg = e.to_string();
                self.mark(false, || msg.clone());
                Err(Unavailable(msg))
            }
        }
    }

    /// Runs a Lua script with keys and arguments.
    pub async fn script<T: redis::FromRedisValue>(
        &self,
        source: &str,
        keys: &[String],
        args: &[String],
    ) -> Result<T, Unavailable> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(source).arg(keys.len());
        for k in keys {
            cmd.arg(k);
        }
        for a in args {
            cmd.arg(a);
        }
        self.cmd(&cmd).await
    }
}
