//! Brute-force protection: failed logins counted per hashed client IP and per e-mail of an
//! existing account (Kirby's `auth.trials` / `auth.timeout`). Kept in Kirby's
//! `site/accounts/.logins` format, or in Redis when sessions are in Redis, so several nodes
//! share the counters.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use super::session::Unavailable;
use crate::time::now;

/// The first 50 hex characters of sha256(ip), as Kirby keys `by-ip`.
pub fn ip_hash(ip: IpAddr) -> String {
    hex::encode(Sha256::digest(ip.to_string().as_bytes()))[..50].to_string()
}

/// Where the counters live.
pub enum TrialStore {
    /// `site/accounts/.logins`, rewritten atomically under an in-process lock (one Folio
    /// process per site folder; several nodes share counters through Redis).
    File {
        /// The `.logins` path.
        path: PathBuf,
        /// The counters, loaded once and kept in memory; every change is written back.
        state: Mutex<Map<String, Value>>,
    },
    /// Redis keys `folio:logins:ip:<hash>` / `folio:logins:email:<email>` with expiry.
    Redis(redis::aio::ConnectionManager),
}

/// Limits from config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `auth.trials`.
    pub trials: i64,
    /// `auth.timeout` (seconds).
    pub timeout: i64,
}

impl TrialStore {
    /// The file store, loading any existing `.logins`.
    pub fn file(path: PathBuf) -> Self {
        let state = read_file(&path, i64::MAX / 4);
        TrialStore::File {
            path,
            state: Mutex::new(state),
        }
    }

    /// Whether this IP (or the e-mail of an existing account) is blocked.
    pub async fn is_blocked(
        &self,
        limits: Limits,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<bool, Unavailable> {
        let hash = ip_hash(ip);
        match self {
            TrialStore::File { path, state } => {
                let mut data = state.lock().unwrap_or_else(|e| e.into_inner());
                if prune(&mut data, limits.timeout) {
                    let _ = write_file(path, &data);
                }
                let count = |kind: &str, key: &str| {
                    data.get(kind)
                        .and_then(|m| m.get(key))
                        .and_then(|e| e.get("trials"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                };
                Ok(count("by-ip", &hash) >= limits.trials
                    || email.is_some_and(|e| count("by-email", e) >= limits.trials))
            }
            TrialStore::Redis(conn) => {
                let mut keys = vec![format!("folio:logins:ip:{hash}")];
                if let Some(e) = email {
                    keys.push(format!("folio:logins:email:{e}"));
                }
                let vals: Vec<Option<i64>> =
                    super::session::redis_cmd(conn, redis::cmd("MGET").arg(&keys)).await?;
                Ok(vals.into_iter().flatten().any(|n| n >= limits.trials))
            }
        }
    }

    /// Counts one failure for the IP, and for the e-mail when it names an account.
    pub async fn track(
        &self,
        limits: Limits,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<(), Unavailable> {
        let hash = ip_hash(ip);
        match self {
            TrialStore::File { path, state } => {
                let mut data = state.lock().unwrap_or_else(|e| e.into_inner());
                prune(&mut data, limits.timeout);
                let t = now();
                let mut bump = |kind: &str, key: &str| {
                    let m = data
                        .entry(kind.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Some(m) = m.as_object_mut() {
                        let n = m
                            .get(key)
                            .and_then(|e| e.get("trials"))
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        m.insert(key.to_string(), json!({"time": t, "trials": n + 1}));
                    }
                };
                bump("by-ip", &hash);
                if let Some(e) = email {
                    bump("by-email", e);
                }
                write_file(path, &data).map_err(|e| Unavailable(e.to_string()))
            }
            TrialStore::Redis(conn) => {
                let mut pipe = redis::pipe();
                let mut keys = vec![format!("folio:logins:ip:{hash}")];
                if let Some(e) = email {
                    keys.push(format!("folio:logins:email:{e}"));
                }
                for k in &keys {
                    pipe.cmd("INCR").arg(k).ignore();
                    pipe.cmd("EXPIRE").arg(k).arg(limits.timeout).ignore();
                }
                super::session::redis_pipe(conn, &pipe).await
            }
        }
    }
}

/// Reads `.logins` (Kirby's format), dropping entries older than `timeout`.
fn read_file(path: &PathBuf, timeout: i64) -> Map<String, Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Map::new();
    };
    let Ok(Value::Object(mut data)) = serde_json::from_str::<Value>(&text) else {
        return Map::new();
    };
    prune(&mut data, timeout);
    data
}

/// Drops expired entries; true when something was dropped.
fn prune(data: &mut Map<String, Value>, timeout: i64) -> bool {
    let cutoff = now() - timeout;
    let mut changed = false;
    for kind in ["by-ip", "by-email"] {
        if let Some(Value::Object(m)) = data.get_mut(kind) {
            let before = m.len();
            m.retain(|_, e| {
                e.get("time")
                    .and_then(Value::as_i64)
                    .is_some_and(|t| t > cutoff)
            });
            changed |= m.len() != before;
        }
    }
    changed
}

fn write_file(path: &PathBuf, data: &Map<String, Value>) -> std::io::Result<()> {
    use std::io::Write;
    let empty = data
        .values()
        .all(|v| v.as_object().is_none_or(|m| m.is_empty()));
    if empty {
        let _ = std::fs::remove_file(path);
        return Ok(());
    }
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-folio-")
        .tempfile_in(dir)?;
    tmp.write_all(serde_json::to_string(data)?.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_block_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".logins");
        let store = TrialStore::file(path.clone());
        let limits = Limits {
            trials: 3,
            timeout: 3600,
        };
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(!store.is_blocked(limits, ip, Some("a@x.org")).await.unwrap());
            store.track(limits, ip, Some("a@x.org")).await.unwrap();
        }
        assert!(store.is_blocked(limits, ip, None).await.unwrap());
        assert!(
            store
                .is_blocked(limits, other, Some("a@x.org"))
                .await
                .unwrap(),
            "by e-mail"
        );
        assert!(
            !store
                .is_blocked(limits, other, Some("b@x.org"))
                .await
                .unwrap()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&ip_hash(ip)) && text.contains("\"by-email\""));
        assert_eq!(ip_hash(ip).len(), 50);
        // Expired entries are dropped, and an empty log is deleted.
        let short = Limits {
            trials: 3,
            timeout: -1,
        };
        assert!(!store.is_blocked(short, ip, None).await.unwrap());
        assert!(!path.exists());
    }
}
