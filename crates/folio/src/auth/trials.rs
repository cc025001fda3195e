//! Brute-force protection: failed logins counted per hashed client IP and per e-mail of an
//! existing account (Kirby's `auth.trials` / `auth.timeout`). A password check first
//! *reserves* a trial, atomically, and only then runs bcrypt; a successful check gives the
//! trial back. So however many guesses arrive at once, at most `auth.trials` of them are
//! ever checked per `auth.timeout`. The counters live in memory and are written to
//! `site/accounts/.logins` (Kirby's format) by a background thread, at most once per
//! second; with Redis sessions they live in Redis, where a script reserves atomically for
//! every node.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::redis::{Redis, Unavailable};
use crate::time::now;

/// The first 50 hex characters of sha256(ip), as Kirby keys `by-ip` (remembered for the
/// addresses seen recently: a Basic-auth request checks its IP on every call).
pub fn ip_hash(ip: IpAddr) -> String {
    static SEEN: std::sync::LazyLock<Mutex<std::collections::HashMap<IpAddr, String>>> =
        std::sync::LazyLock::new(Default::default);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = seen.get(&ip) {
        return h.clone();
    }
    let h = hex::encode(Sha256::digest(ip.to_string().as_bytes()))[..50].to_string();
    if seen.len() >= 4096 {
        seen.clear();
    }
    seen.insert(ip, h.clone());
    h
}

/// At most this many entries are kept per kind (`by-ip`, `by-email`): the oldest go first,
/// so the file (and the cost of writing it) stays bounded under a many-address attack.
pub const MAX_ENTRIES: usize = 100_000;

pub use crate::app::settings::Limits;

/// A reserved trial: given back with [`TrialStore::release`] when the password was right.
#[derive(Debug)]
pub struct Reservation {
    ip: String,
    email: Option<String>,
}

/// The in-memory counters of the file store and the writer's wake-up signal. Settled
/// failures are in `data` (what `.logins` holds); checks still running are counted in
/// `pending`, so they block like failures but never touch the file.
pub struct FileState {
    data: Mutex<(Map<String, Value>, bool)>,
    pending: Mutex<std::collections::HashMap<(&'static str, String), i64>>,
    /// Held while `.logins` is serialised and written.
    writing: Mutex<()>,
    wake: Condvar,
}

/// Where the counters live.
pub enum TrialStore {
    /// `site/accounts/.logins`: counters in memory, persisted by a background thread.
    File {
        /// The `.logins` path.
        path: PathBuf,
        /// The counters and a "changed since the last write" flag.
        state: Arc<FileState>,
    },
    /// Redis keys `folio:logins:ip:<hash>` / `folio:logins:email:<email>` with expiry.
    Redis(Redis),
}

/// Checks every key against the limit, then counts one trial on each (KEYS: the keys;
/// ARGV: limit, timeout). 1 when reserved, 0 when blocked.
const RESERVE_SCRIPT: &str = "for i, k in ipairs(KEYS) do \
    if tonumber(redis.call('GET', k) or '0') >= tonumber(ARGV[1]) then return 0 end \
  end \
  for i, k in ipairs(KEYS) do \
    redis.call('INCR', k) \
    redis.call('EXPIRE', k, ARGV[2]) \
  end \
  return 1";

/// Gives a trial back (KEYS: the keys).
const RELEASE_SCRIPT: &str = "for i, k in ipairs(KEYS) do \
    local n = tonumber(redis.call('GET', k) or '0') \
    if n <= 1 then redis.call('DEL', k) else redis.call('DECR', k) end \
  end \
  return 1";

fn count(data: &Map<String, Value>, kind: &str, key: &str, cutoff: i64) -> i64 {
    data.get(kind)
        .and_then(|m| m.get(key))
        .filter(|e| {
            e.get("time")
                .and_then(Value::as_i64)
                .is_some_and(|t| t > cutoff)
        })
        .and_then(|e| e.get("trials"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

impl TrialStore {
    /// The file store, loading any existing `.logins` and starting its writer thread.
    pub fn file(path: PathBuf) -> Self {
        let state = Arc::new(FileState {
            data: Mutex::new((read_file(&path), false)),
            pending: Mutex::new(Default::default()),
            writing: Mutex::new(()),
            wake: Condvar::new(),
        });
        let writer = state.clone();
        let target = path.clone();
        let spawned = std::thread::Builder::new()
            .name("folio-logins".into())
            .spawn(move || write_loop(&writer, &target));
        if let Err(e) = spawned {
            tracing::error!("cannot start the .logins writer: {e}");
        }
        TrialStore::File { path, state }
    }

    fn keys(ip: IpAddr, email: Option<&str>) -> (String, Option<String>) {
        (ip_hash(ip), email.map(str::to_string))
    }

    /// Reserves one trial for the IP (and the e-mail of an existing account). `None` when
    /// either is blocked: then no password may be checked.
    pub async fn reserve(
        &self,
        limits: Limits,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<Option<Reservation>, Unavailable> {
        let (ip, email) = Self::keys(ip, email);
        match self {
            TrialStore::File { state, .. } => {
                let guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
                let mut pending = state.pending.lock().unwrap_or_else(|e| e.into_inner());
                let cutoff = now() - limits.timeout;
                let used = |kind: &'static str, key: &str| {
                    count(&guard.0, kind, key, cutoff)
                        + pending.get(&(kind, key.to_string())).copied().unwrap_or(0)
                };
                let blocked = used("by-ip", &ip) >= limits.trials
                    || email
                        .as_deref()
                        .is_some_and(|e| used("by-email", e) >= limits.trials);
                if blocked {
                    return Ok(None);
                }
                *pending.entry(("by-ip", ip.clone())).or_insert(0) += 1;
                if let Some(e) = &email {
                    *pending.entry(("by-email", e.clone())).or_insert(0) += 1;
                }
                Ok(Some(Reservation { ip, email }))
            }
            TrialStore::Redis(r) => {
                let mut keys = vec![format!("folio:logins:ip:{ip}")];
                if let Some(e) = &email {
                    keys.push(format!("folio:logins:email:{e}"));
                }
                let ok: i64 = r
                    .script(
                        RESERVE_SCRIPT,
                        &keys,
                        &[limits.trials.to_string(), limits.timeout.max(1).to_string()],
                    )
                    .await?;
                Ok((ok == 1).then_some(Reservation { ip, email }))
            }
        }
    }

    /// Whether the IP (or the e-mail of an existing account) is blocked now (read only).
    pub async fn is_blocked(
        &self,
        limits: Limits,
        ip: IpAddr,
        email: Option<&str>,
    ) -> Result<bool, Unavailable> {
        let (ip, email) = Self::keys(ip, email);
        match self {
            TrialStore::File { state, .. } => {
                let guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
                let cutoff = now() - limits.timeout;
                Ok(count(&guard.0, "by-ip", &ip, cutoff) >= limits.trials
                    || email
                        .as_deref()
                        .is_some_and(|e| count(&guard.0, "by-email", e, cutoff) >= limits.trials))
            }
            TrialStore::Redis(r) => {
                let mut keys = vec![format!("folio:logins:ip:{ip}")];
                if let Some(e) = &email {
                    keys.push(format!("folio:logins:email:{e}"));
                }
                let vals: Vec<Option<i64>> = r.cmd(redis::cmd("MGET").arg(&keys)).await?;
                Ok(vals.into_iter().flatten().any(|n| n >= limits.trials))
            }
        }
    }

    /// Gives a reserved trial back (the password was right): nothing is recorded.
    pub async fn release(&self, r: Reservation) -> Result<(), Unavailable> {
        match self {
            TrialStore::File { state, .. } => {
                unreserve(state, &r);
                Ok(())
            }
            TrialStore::Redis(redis) => {
                let mut keys = vec![format!("folio:logins:ip:{}", r.ip)];
                if let Some(e) = &r.email {
                    keys.push(format!("folio:logins:email:{e}"));
                }
                redis
                    .script::<i64>(RELEASE_SCRIPT, &keys, &[])
                    .await
                    .map(|_| ())
            }
        }
    }

    /// Records a reserved trial as a failure (the password was wrong): the counters (and
    /// `.logins`) count it from now on.
    pub async fn fail(&self, limits: Limits, r: Reservation) -> Result<(), Unavailable> {
        match self {
            TrialStore::File { state, .. } => {
                let mut guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
                unreserve(state, &r);
                let (data, dirty) = &mut *guard;
                let t = now();
                let cutoff = t - limits.timeout;
                let mut bump = |kind: &str, key: &str| {
                    let n = count(data, kind, key, cutoff);
                    let m = data
                        .entry(kind.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Some(m) = m.as_object_mut() {
                        m.insert(key.to_string(), json!({"time": t, "trials": n + 1}));
                    }
                };
                bump("by-ip", &r.ip);
                if let Some(e) = &r.email {
                    bump("by-email", e);
                }
                *dirty = true;
                state.wake.notify_one();
                Ok(())
            }
            // The reservation already counted it.
            TrialStore::Redis(_) => Ok(()),
        }
    }

    /// Writes pending changes now (tests, shutdown).
    pub fn flush(&self) {
        if let TrialStore::File { path, state } = self {
            flush_once(state, path);
        }
    }
}

fn unreserve(state: &FileState, r: &Reservation) {
    let mut pending = state.pending.lock().unwrap_or_else(|e| e.into_inner());
    let mut give_back = |kind: &'static str, key: &str| {
        let k = (kind, key.to_string());
        if let Some(n) = pending.get_mut(&k) {
            *n -= 1;
            if *n <= 0 {
                pending.remove(&k);
            }
        }
    };
    give_back("by-ip", &r.ip);
    if let Some(e) = &r.email {
        give_back("by-email", e);
    }
}

/// The writer thread: waits for a change, writes, then waits at least a second before the
/// next write, so a storm of failed logins costs one write per second.
fn write_loop(state: &FileState, path: &Path) {
    loop {
        {
            let mut guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
            while !guard.1 {
                guard = state.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
        }
        flush_once(state, path);
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn flush_once(state: &FileState, path: &Path) {
    let _writing = state.writing.lock().unwrap_or_else(|e| e.into_inner());
    // Serialise under the lock (bounded by MAX_ENTRIES), write outside it.
    let text = {
        let mut guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
        if !guard.1 {
            return;
        }
        guard.1 = false;
        prune(&mut guard.0, i64::MAX / 4);
        bound(&mut guard.0);
        let empty = guard
            .0
            .values()
            .all(|v| v.as_object().is_none_or(|m| m.is_empty()));
        (!empty).then(|| serde_json::to_string(&guard.0).unwrap_or_default())
    };
    let result = match text {
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
        Some(text) => folio_core::store::write_atomic(path, text.as_bytes()),
    };
    if let Err(e) = result {
        tracing::error!("cannot write {}: {e}", path.display());
    }
}

/// Reads `.logins` (Kirby's format).
fn read_file(path: &Path) -> Map<String, Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Map::new();
    };
    let Ok(Value::Object(mut data)) = serde_json::from_str::<Value>(&text) else {
        return Map::new();
    };
    bound(&mut data);
    data
}

/// Drops entries older than `timeout` seconds; true when something was dropped.
fn prune(data: &mut Map<String, Value>, timeout: i64) -> bool {
    let cutoff = now().saturating_sub(timeout);
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

/// Keeps at most [`MAX_ENTRIES`] per kind, dropping the oldest.
fn bound(data: &mut Map<String, Value>) {
    for kind in ["by-ip", "by-email"] {
        if let Some(Value::Object(m)) = data.get_mut(kind)
            && m.len() > MAX_ENTRIES
        {
            let mut times: Vec<i64> = m
                .values()
                .map(|e| e.get("time").and_then(Value::as_i64).unwrap_or(0))
                .collect();
            times.sort_unstable();
            let cutoff = times[m.len() - MAX_ENTRIES];
            m.retain(|_, e| e.get("time").and_then(Value::as_i64).unwrap_or(0) >= cutoff);
            while m.len() > MAX_ENTRIES {
                let first = m.keys().next().cloned();
                match first {
                    Some(k) => m.remove(&k),
                    None => break,
                };
            }
        }
    }
}

/// Drops expired entries from the in-memory counters (called from the session sweep).
pub fn expire(store: &TrialStore, limits: Limits) {
    if let TrialStore::File { state, .. } = store {
        let mut guard = state.data.lock().unwrap_or_else(|e| e.into_inner());
        if prune(&mut guard.0, limits.timeout) {
            guard.1 = true;
            state.wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(trials: i64) -> Limits {
        Limits {
            trials,
            timeout: 3600,
        }
    }

    #[tokio::test]
    async fn reserve_blocks_release_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".logins");
        let store = TrialStore::file(path.clone());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            let r = store
                .reserve(limits(3), ip, Some("a@x.org"))
                .await
                .unwrap()
                .expect("not blocked yet");
            store.fail(limits(3), r).await.unwrap();
        }
        assert!(
            store.reserve(limits(3), ip, None).await.unwrap().is_none(),
            "by IP"
        );
        assert!(
            store
                .reserve(limits(3), other, Some("a@x.org"))
                .await
                .unwrap()
                .is_none(),
            "by e-mail"
        );
        // A right password gives its trial back.
        let r = store
            .reserve(limits(3), other, Some("b@x.org"))
            .await
            .unwrap()
            .unwrap();
        store.release(r).await.unwrap();
        store.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["by-ip"][ip_hash(ip)]["trials"], 3);
        assert_eq!(v["by-email"]["a@x.org"]["trials"], 3);
        assert!(v["by-ip"].get(ip_hash(other)).is_none(), "released to zero");
        assert!(v["by-email"].get("b@x.org").is_none());
        assert_eq!(ip_hash(ip).len(), 50);
        // A restart reads the counters back.
        let again = TrialStore::file(path.clone());
        assert!(again.reserve(limits(3), ip, None).await.unwrap().is_none());
        // A check that is still running blocks like a failure but writes nothing.
        let held = again
            .reserve(limits(4), "192.0.2.9".parse().unwrap(), None)
            .await
            .unwrap();
        assert!(held.is_some());
        assert!(
            again
                .reserve(limits(1), "192.0.2.9".parse().unwrap(), None)
                .await
                .unwrap()
                .is_none()
        );
        // Expired entries do not block.
        let expired = Limits {
            trials: 3,
            timeout: -1,
        };
        assert!(again.reserve(expired, ip, None).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_burst_cannot_reserve_more_than_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(TrialStore::file(dir.path().join(".logins")));
        let ip: IpAddr = "198.51.100.9".parse().unwrap();
        let tasks: Vec<_> = (0..300)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(
                    async move { s.reserve(limits(10), ip, None).await.unwrap().is_some() },
                )
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            granted += usize::from(t.await.unwrap());
        }
        assert_eq!(granted, 10);
    }

    #[test]
    fn the_log_stays_bounded() {
        let mut data = Map::new();
        let mut m = Map::new();
        for i in 0..(MAX_ENTRIES + 500) {
            m.insert(format!("k{i}"), json!({"time": i as i64, "trials": 1}));
        }
        data.insert("by-ip".into(), Value::Object(m));
        bound(&mut data);
        let m = data["by-ip"].as_object().unwrap();
        assert_eq!(m.len(), MAX_ENTRIES);
        assert!(m.get("k0").is_none(), "the oldest went first");
        assert!(m.get(&format!("k{}", MAX_ENTRIES + 499)).is_some());
    }
}
