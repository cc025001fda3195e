//! Kirby-style sessions: tokens `expiry.id.key`, the signed `kirby_session` cookie, and the
//! file store under `site/sessions/`. The server keeps only an HMAC keyed by the token's
//! `key` part, so a leaked session folder does not let anyone forge a cookie.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::Sha256;
use std::io::Write;
use std::path::PathBuf;
use subtle::ConstantTimeEq;

use crate::time::now;

/// The stored state of one session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// When the session started.
    pub start_time: i64,
    /// When it expires.
    pub expiry_time: i64,
    /// Its total lifetime in seconds.
    pub duration: i64,
    /// Inactivity timeout (normal sessions only).
    pub timeout: Option<i64>,
    /// Last activity, for the timeout.
    pub last_activity: Option<i64>,
    /// Whether it renews itself when half its lifetime has passed.
    pub renewable: bool,
    /// Session data (`kirby.csrf`, `kirby.userId`, ...).
    pub data: Map<String, Value>,
}

/// A live session: its token parts plus its record.
#[derive(Debug, Clone)]
pub struct Session {
    /// 20 hex characters.
    pub id: String,
    /// 64 hex characters; never stored on the server.
    pub key: String,
    /// The state.
    pub record: Record,
    /// Needs writing at the end of the request.
    pub dirty: bool,
}

impl Session {
    /// The token `expiry.id.key`.
    pub fn token(&self) -> String {
        format!("{}.{}.{}", self.record.expiry_time, self.id, self.key)
    }

    /// A string value from the session data.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.record.data.get(key).and_then(Value::as_str)
    }

    /// Sets a data value.
    pub fn set(&mut self, key: &str, value: Value) {
        self.record.data.insert(key.to_string(), value);
        self.dirty = true;
    }

    /// Removes a data value.
    pub fn remove(&mut self, key: &str) {
        if self.record.data.remove(key).is_some() {
            self.dirty = true;
        }
    }

    /// The store name `expiry.id`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.record.expiry_time, self.id)
    }
}

/// Random lowercase hex from the OS CSPRNG.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

/// Lifetimes from the `session.*` options.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// `session.durationNormal`.
    pub normal: i64,
    /// `session.durationLong`.
    pub long: i64,
    /// `session.timeout`.
    pub timeout: i64,
}

/// Where sessions live: files under `site/sessions/` (default) or Redis (`session.store`).
#[derive(Clone)]
pub enum Backend {
    /// `site/sessions/<expiry>.<id>.sess`.
    Files(PathBuf),
    /// Redis keys `folio:session:<expiry>.<id>`, expiring with the session.
    Redis(redis::aio::ConnectionManager),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Files(p) => write!(f, "Files({})", p.display()),
            Backend::Redis(_) => write!(f, "Redis"),
        }
    }
}

/// Runs a Redis command, retrying once after a short pause: the connection manager
/// reconnects after a failed command, so a node that sat idle through a Redis outage does not
/// drop its first request afterwards.
pub async fn redis_cmd<T: redis::FromRedisValue>(
    conn: &redis::aio::ConnectionManager,
    cmd: &redis::Cmd,
) -> Result<T, Unavailable> {
    let mut c = conn.clone();
    match cmd.query_async(&mut c).await {
        Ok(v) => Ok(v),
        Err(_) => {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            cmd.query_async(&mut c)
                .await
                .map_err(|e| Unavailable(e.to_string()))
        }
    }
}

/// [`redis_cmd`] for a pipeline.
pub async fn redis_pipe(
    conn: &redis::aio::ConnectionManager,
    pipe: &redis::Pipeline,
) -> Result<(), Unavailable> {
    let mut c = conn.clone();
    match pipe.query_async::<()>(&mut c).await {
        Ok(v) => Ok(v),
        Err(_) => {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            pipe.query_async::<()>(&mut c)
                .await
                .map_err(|e| Unavailable(e.to_string()))
        }
    }
}

/// The session store could not be reached (Redis down): authentication fails closed.
#[derive(Debug, thiserror::Error)]
#[error("the session store is unavailable: {0}")]
pub struct Unavailable(pub String);

/// The session store.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// File backend only: the stored text of recently used sessions, by `expiry.id`, so a
    /// request does not read its session file. Only this process writes the folder.
    files_cache: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// File backend only: sessions whose HMAC was already checked, by `expiry.id`.
    verified_cache:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (String, Record)>>>,
    /// Lifetimes applied to new and renewed sessions.
    pub lifetimes: Lifetimes,
}

impl Store {
    /// A store on a backend.
    pub fn new(backend: Backend, lifetimes: Lifetimes) -> Self {
        Store {
            backend,
            lifetimes,
            files_cache: Default::default(),
            verified_cache: Default::default(),
        }
    }

    /// A fresh normal session (not yet written).
    pub fn create(&self) -> Session {
        let t = now();
        Session {
            id: random_hex(10),
            key: random_hex(32),
            record: Record {
                start_time: t,
                expiry_time: t + self.lifetimes.normal,
                duration: self.lifetimes.normal,
                timeout: Some(self.lifetimes.timeout),
                last_activity: Some(t),
                renewable: true,
                data: Map::new(),
            },
            dirty: true,
        }
    }

    /// Loads a session by token; `Ok(None)` for any invalid, expired or timed-out session.
    pub async fn load(&self, token: &str) -> Result<Option<Session>, Unavailable> {
        let Some((expiry, id, key)) = split_token(token) else {
            return Ok(None);
        };
        let name = format!("{expiry}.{id}");
        if matches!(self.backend, Backend::Files(_))
            && let Some(s) = self.verified_hit(&name, id, key)
        {
            return Ok(Some(s));
        }
        let raw = match &self.backend {
            Backend::Files(dir) => {
                let cached = self.cache().get(&name).cloned();
                match cached {
                    Some(s) => s,
                    None => {
                        let path = dir.join(format!("{name}.sess"));
                        match tokio::fs::read_to_string(path).await {
                            Ok(s) => {
                                self.remember(&name, &s);
                                s
                            }
                            Err(_) => return Ok(None),
                        }
                    }
                }
            }
            Backend::Redis(conn) => {
                let v: Option<String> =
                    redis_cmd(conn, redis::cmd("GET").arg(format!("folio:session:{name}"))).await?;
                match v {
                    Some(s) => s,
                    None => return Ok(None),
                }
            }
        };
        let session = verify_record(&raw, expiry, id, key);
        if let (Some(s), Backend::Files(_)) = (&session, &self.backend) {
            self.verified()
                .insert(name, (key.to_string(), s.record.clone()));
        }
        Ok(session)
    }

    /// A session verified earlier in this process (file store only): the key must match
    /// (constant time) and the lifetime rules are checked again.
    fn verified_hit(&self, name: &str, id: &str, key: &str) -> Option<Session> {
        let map = self.verified();
        let (k, record) = map.get(name)?;
        if !bool::from(k.as_bytes().ct_eq(key.as_bytes())) {
            return None;
        }
        let t = now();
        if record.expiry_time <= t || record.start_time > t {
            return None;
        }
        if let (Some(timeout), Some(last)) = (record.timeout, record.last_activity)
            && t - last > timeout
        {
            return None;
        }
        Some(Session {
            id: id.to_string(),
            key: key.to_string(),
            record: record.clone(),
            dirty: false,
        })
    }

    fn verified(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (String, Record)>> {
        self.verified_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Writes a session (files: temp file, fsync, rename; Redis: SET with expiry).
    pub async fn save(&self, s: &Session) -> Result<(), Unavailable> {
        let payload = serde_json::to_string(&s.record).map_err(|e| Unavailable(e.to_string()))?;
        let body = format!("{}\n{}", sign(&payload, &s.key), payload);
        let name = format!("{}.{}", s.record.expiry_time, s.id);
        match &self.backend {
            Backend::Files(dir) => {
                self.remember(&name, &body);
                self.verified()
                    .insert(name.clone(), (s.key.clone(), s.record.clone()));
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || {
                    write_atomic(&dir, &format!("{name}.sess"), &body)
                })
                .await
                .map_err(|e| Unavailable(e.to_string()))?
                .map_err(|e| Unavailable(e.to_string()))
            }
            Backend::Redis(conn) => {
                let ttl = (s.record.expiry_time - now()).max(1);
                redis_cmd::<()>(
                    conn,
                    redis::cmd("SET")
                        .arg(format!("folio:session:{name}"))
                        .arg(body)
                        .arg("EX")
                        .arg(ttl),
                )
                .await
            }
        }
    }

    /// Deletes a session by its `expiry.id` name.
    pub async fn delete(&self, name: &str) -> Result<(), Unavailable> {
        match &self.backend {
            Backend::Files(dir) => {
                self.cache().remove(name);
                self.verified().remove(name);
                let _ = tokio::fs::remove_file(dir.join(format!("{name}.sess"))).await;
                Ok(())
            }
            Backend::Redis(conn) => {
                redis_cmd::<()>(conn, redis::cmd("DEL").arg(format!("folio:session:{name}"))).await
            }
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.files_cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, name: &str, text: &str) {
        let mut c = self.cache();
        if c.len() >= 50_000 {
            c.clear();
            drop(c);
            self.verified().clear();
            c = self.cache();
        }
        c.insert(name.to_string(), text.to_string());
    }

    /// Deletes every session file whose expiry has passed (Redis expires keys by itself).
    pub fn gc(&self) {
        let Backend::Files(dir) = &self.backend else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let t = now();
        self.verified().retain(|_, (_, r)| r.expiry_time > t);
        self.cache().retain(|name, _| {
            name.split('.')
                .next()
                .and_then(|e| e.parse::<i64>().ok())
                .is_some_and(|e| e > t)
        });
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(exp) = name.strip_suffix(".sess").and_then(|n| n.split('.').next())
                && exp.parse::<i64>().is_ok_and(|x| x <= t)
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Splits and checks a token `expiry.id.key`.
fn split_token(token: &str) -> Option<(i64, &str, &str)> {
    let mut parts = token.split('.');
    let (exp, id, key) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || id.len() != 20
        || key.len() != 64
        || !id.bytes().all(|b| b.is_ascii_hexdigit())
        || !key.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let expiry: i64 = exp.parse().ok()?;
    (expiry.to_string() == exp).then_some((expiry, id, key))
}

/// Checks a stored `hmac\npayload` against the token's key and the validity rules.
fn verify_record(raw: &str, expiry: i64, id: &str, key: &str) -> Option<Session> {
    let (mac_hex, payload) = raw.split_once('\n')?;
    let expected = sign(payload, key);
    if !bool::from(expected.as_bytes().ct_eq(mac_hex.as_bytes())) {
        return None;
    }
    let record: Record = serde_json::from_str(payload).ok()?;
    let t = now();
    if record.expiry_time != expiry || record.expiry_time <= t || record.start_time > t {
        return None;
    }
    if let (Some(timeout), Some(last)) = (record.timeout, record.last_activity)
        && t - last > timeout
    {
        return None;
    }
    Some(Session {
        id: id.to_string(),
        key: key.to_string(),
        record,
        dirty: false,
    })
}

fn write_atomic(dir: &std::path::Path, name: &str, body: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-folio-")
        .tempfile_in(dir)?;
    tmp.write_all(body.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

fn sign(payload: &str, key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The cookie value for a token: `HMAC-SHA1(token, cookie.key)` + `+` + token.
pub fn cookie_value(token: &str, cookie_key: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(cookie_key.as_bytes()).expect("any key length");
    mac.update(token.as_bytes());
    format!("{}%2B{}", hex::encode(mac.finalize().into_bytes()), token)
}

/// Extracts the token from a cookie value, checking its signature (`+` or `%2B`).
pub fn token_from_cookie(value: &str, cookie_key: &str) -> Option<String> {
    let value = value.replace("%2B", "+").replace("%2b", "+");
    let (mac, token) = value.split_once('+')?;
    let mut m = Hmac::<Sha1>::new_from_slice(cookie_key.as_bytes()).expect("any key length");
    m.update(token.as_bytes());
    let expected = hex::encode(m.finalize().into_bytes());
    bool::from(expected.as_bytes().ct_eq(mac.as_bytes())).then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::new(
            Backend::Files(dir.path().join("sessions")),
            Lifetimes {
                normal: 7200,
                long: 1_209_600,
                timeout: 1800,
            },
        );
        (dir, s)
    }

    #[tokio::test]
    async fn roundtrip_and_tamper() {
        let (_d, st) = store();
        let mut s = st.create();
        s.set("kirby.csrf", Value::String("abc".into()));
        st.save(&s).await.unwrap();
        let back = st.load(&s.token()).await.unwrap().unwrap();
        assert_eq!(back.get_str("kirby.csrf"), Some("abc"));
        // A wrong key fails the HMAC.
        let bad = format!("{}.{}.{}", s.record.expiry_time, s.id, "0".repeat(64));
        assert!(st.load(&bad).await.unwrap().is_none());
        assert!(st.load("garbage").await.unwrap().is_none());
        assert!(st.load(&format!("0{}", s.token())).await.unwrap().is_none());
        st.delete(&s.name()).await.unwrap();
        assert!(st.load(&s.token()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_and_timed_out_sessions_are_gone() {
        let (d, st) = store();
        let mut s = st.create();
        s.record.last_activity = Some(now() - 4000);
        st.save(&s).await.unwrap();
        assert!(st.load(&s.token()).await.unwrap().is_none(), "timed out");
        let mut s = st.create();
        s.record.timeout = None;
        s.record.expiry_time = now() - 1;
        st.save(&s).await.unwrap();
        assert!(st.load(&s.token()).await.unwrap().is_none(), "expired");
        st.gc();
        assert_eq!(
            std::fs::read_dir(d.path().join("sessions"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn cookie_signature() {
        let v = cookie_value("1.a.b", "KirbyHttpCookieKey");
        assert_eq!(
            token_from_cookie(&v, "KirbyHttpCookieKey").as_deref(),
            Some("1.a.b")
        );
        assert!(token_from_cookie(&v, "other").is_none());
        assert!(token_from_cookie("nonsense", "k").is_none());
    }
}
