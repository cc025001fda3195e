//! Kirby-style sessions: tokens `expiry.id.key`, the signed `kirby_session` cookie, and the
//! stores (files under `site/sessions/`, or Redis). The server keeps only an HMAC keyed by
//! the token's `key` part, so a leaked session folder does not let anyone forge a cookie.
//! Only sessions that carry a login are ever stored; every write states what it expects of
//! the store (update an existing session, create a new one, replace one by its successor),
//! so a session destroyed by a logout is never brought back by a request still in flight.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::path::PathBuf;
use subtle::ConstantTimeEq;

use super::redis::Redis;
pub use super::redis::Unavailable;
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

impl Record {
    /// Kirby's lifetime rules at time `t`: started, not expired, and (with a timeout) active
    /// recently enough.
    fn is_live(&self, t: i64) -> bool {
        let idle = match (self.timeout, self.last_activity) {
            (Some(timeout), Some(last)) => t - last > timeout,
            _ => false,
        };
        self.start_time <= t && t < self.expiry_time && !idle
    }
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
    /// Whether the store holds this session under its current name.
    pub stored: bool,
    /// The stored session this one was regenerated from in this request (its name), which
    /// the write replaces; `None` for a new session.
    pub predecessor: Option<String>,
    /// A session before login: its key is derived from the site secret and it is never
    /// stored (see `auth::prelogin`).
    pub prelogin: bool,
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

    /// Notes that this stored session is about to get a new name (new expiry or token):
    /// the stored name becomes the predecessor the next write replaces. Call it before
    /// changing the expiry.
    pub fn leave_stored_name(&mut self) {
        if self.stored {
            if self.predecessor.is_none() {
                self.predecessor = Some(self.name());
            }
            self.stored = false;
        }
    }
}

/// Random lowercase hex from the OS CSPRNG.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

pub use crate::app::settings::Lifetimes;

/// Where sessions live: files under `site/sessions/` (default) or Redis (`session.store`).
#[derive(Clone, Debug)]
pub enum Backend {
    /// `site/sessions/<expiry>.<id>.sess`.
    Files(PathBuf),
    /// Redis keys `folio:session:<expiry>.<id>`, expiring with the session.
    Redis(Redis),
}

/// What a session write expects of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Save {
    /// The session is stored under its name and still must be (activity, data changes).
    Update,
    /// A new session (a fresh login).
    Create,
    /// The session replaces its stored predecessor (renewal, long session), which must
    /// still exist: a session logged out meanwhile stays logged out.
    Replace(String),
}

/// The outcome of a session write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written.
    Written,
    /// Not written: the session (or its predecessor) was destroyed meanwhile.
    Gone,
}

/// Replaces a stored session (KEYS[1]) by its successor (KEYS[2]) only while the
/// predecessor still exists, and remembers the successor under KEYS[3] so that destroying
/// the predecessor later destroys the successor too.
const REPLACE_SCRIPT: &str = "if redis.call('EXISTS', KEYS[1]) == 1 then \
    redis.call('DEL', KEYS[1]); \
    redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]); \
    redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2]); \
    return 1 \
  else return 0 end";

/// Destroys a session (ARGV[1], a name) and every successor it was replaced by.
const DESTROY_SCRIPT: &str = "local name = ARGV[1] \
  for i = 1, 16 do \
    redis.call('DEL', 'folio:session:' .. name) \
    local nxt = redis.call('GET', 'folio:session-next:' .. name) \
    redis.call('DEL', 'folio:session-next:' .. name) \
    if not nxt then return i end \
    name = nxt \
  end \
  return 16";

/// The file store's bookkeeping of this process: destroyed names (never written again) and
/// which successor replaced which session.
#[derive(Debug, Default)]
struct Book {
    destroyed: std::collections::HashMap<String, i64>,
    next: std::collections::HashMap<String, String>,
}

/// The session store.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// File backend only: the stored text of recently used sessions, by `expiry.id`, so a
    /// request does not read its session file.
    files_cache: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// File backend only: sessions whose HMAC was already checked, by `expiry.id`.
    verified_cache:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (String, Record)>>>,
    /// File backend only: the names destroyed in this process and the successors, under
    /// the lock every write takes, so a destroyed session is never written again.
    book: std::sync::Arc<std::sync::Mutex<Book>>,
    /// Lifetimes applied to new and renewed sessions.
    pub lifetimes: Lifetimes,
}

fn name_expiry(name: &str) -> i64 {
    name.split('.')
        .next()
        .and_then(|e| e.parse::<i64>().ok())
        .unwrap_or(0)
}

impl Store {
    /// A store on a backend.
    pub fn new(backend: Backend, lifetimes: Lifetimes) -> Self {
        Store {
            backend,
            lifetimes,
            files_cache: Default::default(),
            verified_cache: Default::default(),
            book: Default::default(),
        }
    }

    /// The Redis handle, when sessions live in Redis.
    pub fn redis(&self) -> Option<&Redis> {
        match &self.backend {
            Backend::Redis(r) => Some(r),
            Backend::Files(_) => None,
        }
    }

    /// The sessions folder, when sessions live in files.
    pub fn folder(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Files(d) => Some(d),
            Backend::Redis(_) => None,
        }
    }

    /// Whether the store can be reached now (files always can).
    pub fn is_healthy(&self) -> bool {
        self.redis().is_none_or(Redis::is_healthy)
    }

    /// A fresh normal session (not yet stored).
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
            stored: false,
            predecessor: None,
            prelogin: false,
        }
    }

    /// Loads a session by token; `Ok(None)` for any invalid, expired or timed-out session.
    pub async fn load(&self, token: &str) -> Result<Option<Session>, Unavailable> {
        let Some((expiry, id, key)) = folio_wire::credentials::split_token(token) else {
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
                                if !self.is_destroyed(&name) {
                                    self.remember(&name, &s);
                                }
                                s
                            }
                            Err(_) => return Ok(None),
                        }
                    }
                }
            }
            Backend::Redis(r) => {
                let v: Option<String> = r
                    .cmd(redis::cmd("GET").arg(format!("folio:session:{name}")))
                    .await?;
                match v {
                    Some(s) => s,
                    None => return Ok(None),
                }
            }
        };
        let session = verify_record(&raw, expiry, id, key);
        if let (Some(s), Backend::Files(_)) = (&session, &self.backend)
            && !self.is_destroyed(&name)
        {
            self.verified()
                .insert(name, (key.to_string(), s.record.clone()));
        }
        Ok(session)
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_destroyed(&self, name: &str) -> bool {
        self.book().destroyed.contains_key(name)
    }

    /// A session this process verified recently (file store only; no I/O), for a token.
    pub fn cached(&self, token: &str) -> Option<Session> {
        if !matches!(self.backend, Backend::Files(_)) {
            return None;
        }
        let (expiry, id, key) = folio_wire::credentials::split_token(token)?;
        self.verified_hit(&format!("{expiry}.{id}"), id, key)
    }

    /// A session verified earlier in this process (file store only): the key must match
    /// (constant time) and the lifetime rules are checked again.
    fn verified_hit(&self, name: &str, id: &str, key: &str) -> Option<Session> {
        let map = self.verified();
        let (k, record) = map.get(name)?;
        if !bool::from(k.as_bytes().ct_eq(key.as_bytes())) {
            return None;
        }
        if !record.is_live(now()) {
            return None;
        }
        Some(Session {
            id: id.to_string(),
            key: key.to_string(),
            record: record.clone(),
            dirty: false,
            stored: true,
            predecessor: None,
            prelogin: false,
        })
    }

    fn verified(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (String, Record)>> {
        self.verified_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Writes a session as `mode` says (files: temp file, fsync, rename; Redis: `SET` with
    /// expiry and `XX`/`NX`, or a script for a replacement).
    pub async fn save(&self, s: &Session, mode: Save) -> Result<Saved, Unavailable> {
        let payload = serde_json::to_string(&s.record).map_err(|e| Unavailable(e.to_string()))?;
        let body = format!("{}\n{}", sign(&payload, &s.key), payload);
        let name = format!("{}.{}", s.record.expiry_time, s.id);
        match &self.backend {
            Backend::Files(dir) => {
                let dir = dir.clone();
                let store = self.clone();
                let key = s.key.clone();
                let record = s.record.clone();
                tokio::task::spawn_blocking(move || {
                    store.save_file(&dir, &name, &body, &mode, key, record)
                })
                .await
                .map_err(|e| Unavailable(e.to_string()))?
                .map_err(|e| Unavailable(e.to_string()))
            }
            Backend::Redis(r) => {
                let ttl = (s.record.expiry_time - now()).max(1);
                let key = format!("folio:session:{name}");
                match mode {
                    Save::Update | Save::Create => {
                        let flag = if mode == Save::Update { "XX" } else { "NX" };
                        let ok: Option<String> = r
                            .cmd(
                                redis::cmd("SET")
                                    .arg(&key)
                                    .arg(body)
                                    .arg("EX")
                                    .arg(ttl)
                                    .arg(flag),
                            )
                            .await?;
                        Ok(if ok.is_some() {
                            Saved::Written
                        } else {
                            Saved::Gone
                        })
                    }
                    Save::Replace(old) => {
                        let done: i64 = r
                            .script(
                                REPLACE_SCRIPT,
                                &[
                                    format!("folio:session:{old}"),
                                    key,
                                    format!("folio:session-next:{old}"),
                                ],
                                &[body, ttl.to_string(), name],
                            )
                            .await?;
                        Ok(if done == 1 {
                            Saved::Written
                        } else {
                            Saved::Gone
                        })
                    }
                }
            }
        }
    }

    /// The file store's write, under the bookkeeping lock: an update needs the file to
    /// exist, a replacement needs its predecessor to exist (which is then deleted), and a
    /// destroyed name is never written.
    fn save_file(
        &self,
        dir: &std::path::Path,
        name: &str,
        body: &str,
        mode: &Save,
        key: String,
        record: Record,
    ) -> std::io::Result<Saved> {
        let mut book = self.book();
        let alive = |b: &Book, n: &str| {
            !b.destroyed.contains_key(n) && dir.join(format!("{n}.sess")).is_file()
        };
        let ok = match mode {
            Save::Update => alive(&book, name),
            Save::Create => !book.destroyed.contains_key(name),
            Save::Replace(old) => alive(&book, old),
        };
        if !ok {
            return Ok(Saved::Gone);
        }
        folio_core::store::write_private(&dir.join(format!("{name}.sess")), body.as_bytes())?;
        self.remember(name, body);
        self.verified().insert(name.to_string(), (key, record));
        if let Save::Replace(old) = mode {
            self.forget(&mut book, dir, old);
            book.next.insert(old.clone(), name.to_string());
        }
        Ok(Saved::Written)
    }

    /// Deletes one session file and marks its name destroyed (the lock is held).
    fn forget(&self, book: &mut Book, dir: &std::path::Path, name: &str) {
        book.destroyed.insert(name.to_string(), name_expiry(name));
        self.cache().remove(name);
        self.verified().remove(name);
        let _ = std::fs::remove_file(dir.join(format!("{name}.sess")));
    }

    /// Deletes a session and every successor it was replaced by.
    fn destroy_file(&self, dir: &std::path::Path, name: &str) {
        let mut book = self.book();
        let mut current = name.to_string();
        for _ in 0..16 {
            self.forget(&mut book, dir, &current);
            match book.next.remove(&current) {
                Some(n) => current = n,
                None => break,
            }
        }
    }

    /// Deletes a session by its `expiry.id` name, and any session that replaced it since;
    /// none of them can be written again.
    pub async fn delete(&self, name: &str) -> Result<(), Unavailable> {
        match &self.backend {
            Backend::Files(dir) => {
                let dir = dir.clone();
                let store = self.clone();
                let name = name.to_string();
                tokio::task::spawn_blocking(move || store.destroy_file(&dir, &name))
                    .await
                    .map_err(|e| Unavailable(e.to_string()))
            }
            Backend::Redis(r) => r
                .script::<i64>(DESTROY_SCRIPT, &[], &[name.to_string()])
                .await
                .map(|_| ()),
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
        let t = now();
        {
            let mut book = self.book();
            book.destroyed.retain(|_, exp| *exp > t);
            book.next.retain(|old, _| name_expiry(old) > t);
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        self.verified().retain(|_, (_, r)| r.expiry_time > t);
        self.cache().retain(|name, _| name_expiry(name) > t);
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

/// Checks a stored `hmac\npayload` against the token's key and the validity rules.
fn verify_record(raw: &str, expiry: i64, id: &str, key: &str) -> Option<Session> {
    let (mac_hex, payload) = raw.split_once('\n')?;
    let expected = sign(payload, key);
    if !bool::from(expected.as_bytes().ct_eq(mac_hex.as_bytes())) {
        return None;
    }
    let record: Record = serde_json::from_str(payload).ok()?;
    if record.expiry_time != expiry || !record.is_live(now()) {
        return None;
    }
    Some(Session {
        id: id.to_string(),
        key: key.to_string(),
        record,
        dirty: false,
        stored: true,
        predecessor: None,
        prelogin: false,
    })
}

/// `HMAC-SHA256(payload, key)` as hex.
pub fn sign(payload: &str, key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
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
        assert_eq!(st.save(&s, Save::Create).await.unwrap(), Saved::Written);
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
        st.save(&s, Save::Create).await.unwrap();
        assert!(st.load(&s.token()).await.unwrap().is_none(), "timed out");
        let mut s = st.create();
        s.record.timeout = None;
        s.record.expiry_time = now() - 1;
        st.save(&s, Save::Create).await.unwrap();
        assert!(st.load(&s.token()).await.unwrap().is_none(), "expired");
        st.gc();
        assert_eq!(
            std::fs::read_dir(d.path().join("sessions"))
                .unwrap()
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_destroyed_session_is_never_written_again() {
        let (d, st) = store();
        let mut s = st.create();
        s.set("kirby.userId", Value::String("u1".into()));
        st.save(&s, Save::Create).await.unwrap();
        let loaded = st.load(&s.token()).await.unwrap().unwrap();
        // A logout deletes it while another request still holds it.
        st.delete(&s.name()).await.unwrap();
        // That request's activity update, and a renewal into a successor, both fail.
        assert_eq!(st.save(&loaded, Save::Update).await.unwrap(), Saved::Gone);
        let mut next = loaded.clone();
        next.id = random_hex(10);
        next.key = random_hex(32);
        assert_eq!(
            st.save(&next, Save::Replace(s.name())).await.unwrap(),
            Saved::Gone
        );
        assert!(st.load(&s.token()).await.unwrap().is_none());
        assert!(st.load(&next.token()).await.unwrap().is_none());
        assert_eq!(
            std::fs::read_dir(d.path().join("sessions"))
                .unwrap()
                .count(),
            0
        );
        // A live session is replaced by its successor, and the predecessor is gone.
        let mut a = st.create();
        a.set("kirby.userId", Value::String("u1".into()));
        st.save(&a, Save::Create).await.unwrap();
        let mut b = a.clone();
        b.id = random_hex(10);
        assert_eq!(
            st.save(&b, Save::Replace(a.name())).await.unwrap(),
            Saved::Written
        );
        assert!(st.load(&a.token()).await.unwrap().is_none());
        assert!(st.load(&b.token()).await.unwrap().is_some());
    }
}
