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

    fn file_name(&self) -> String {
        format!("{}.{}.sess", self.record.expiry_time, self.id)
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

/// The file store: `site/sessions/<expiry>.<id>.sess`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Lifetimes applied to new and renewed sessions.
    pub lifetimes: Lifetimes,
}

impl Store {
    /// A store in `dir` (created on first write).
    pub fn new(dir: PathBuf, lifetimes: Lifetimes) -> Self {
        Store { dir, lifetimes }
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

    /// Loads a session by token; `None` for any invalid, expired or timed-out session.
    pub fn load(&self, token: &str) -> Option<Session> {
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
        if expiry.to_string() != exp {
            return None;
        }
        let raw = std::fs::read_to_string(self.dir.join(format!("{expiry}.{id}.sess"))).ok()?;
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

    /// Writes a session atomically (temp file, fsync, rename).
    pub fn save(&self, s: &Session) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let payload = serde_json::to_string(&s.record)?;
        let body = format!("{}\n{}", sign(&payload, &s.key), payload);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(body.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.dir.join(s.file_name()))
            .map_err(|e| e.error)?;
        Ok(())
    }

    /// Deletes a session's file.
    pub fn destroy(&self, s: &Session) {
        let _ = std::fs::remove_file(self.dir.join(s.file_name()));
    }

    /// Gives a session a new id and key (the old file is removed, so the old token stops
    /// working at once).
    pub fn regenerate(&self, s: &mut Session) {
        self.destroy(s);
        s.id = random_hex(10);
        s.key = random_hex(32);
        s.dirty = true;
    }

    /// Deletes every session file whose expiry has passed.
    pub fn gc(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let t = now();
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
            dir.path().join("sessions"),
            Lifetimes {
                normal: 7200,
                long: 1_209_600,
                timeout: 1800,
            },
        );
        (dir, s)
    }

    #[test]
    fn roundtrip_and_tamper() {
        let (_d, st) = store();
        let mut s = st.create();
        s.set("kirby.csrf", Value::String("abc".into()));
        st.save(&s).unwrap();
        let back = st.load(&s.token()).unwrap();
        assert_eq!(back.get_str("kirby.csrf"), Some("abc"));
        // A wrong key fails the HMAC.
        let bad = format!("{}.{}.{}", s.record.expiry_time, s.id, "0".repeat(64));
        assert!(st.load(&bad).is_none());
        assert!(st.load("garbage").is_none());
        assert!(st.load(&format!("0{}", s.token())).is_none());
        // Regenerating kills the old token.
        let old = s.token();
        st.regenerate(&mut s);
        st.save(&s).unwrap();
        assert!(st.load(&old).is_none());
        assert!(st.load(&s.token()).is_some());
    }

    #[test]
    fn expired_and_timed_out_sessions_are_gone() {
        let (_d, st) = store();
        let mut s = st.create();
        s.record.last_activity = Some(now() - 4000);
        st.save(&s).unwrap();
        assert!(st.load(&s.token()).is_none(), "timed out");
        let mut s = st.create();
        s.record.timeout = None;
        s.record.expiry_time = now() - 1;
        st.save(&s).unwrap();
        assert!(st.load(&s.token()).is_none(), "expired");
        st.gc();
        assert!(std::fs::read_dir(st.dir.clone()).unwrap().count() == 1);
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
