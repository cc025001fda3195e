//! Passwords: Kirby's `validatePassword` (same 403 for every failure, a random delay, a dummy
//! bcrypt for unknown accounts, trials reserved before bcrypt runs, bcrypt on a blocking
//! thread) and the Basic-auth verification cache that spares bcrypt on every request.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use folio_core::model::UserIdx;
use folio_core::{Error, Snapshot};

use super::{Auth, unavailable};
use crate::time::now;

/// Verified Basic-auth credentials, keyed by an HMAC of (user, password, stored hash) under a
/// per-process random key. The password is never stored; a changed hash misses the cache.
pub struct BasicCache {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], i64>>,
}

const BASIC_TTL: i64 = 300;
const BASIC_MAX: usize = 10_000;

impl Default for BasicCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS random source is available");
        BasicCache {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl BasicCache {
    fn digest(&self, user_id: &str, password: &str, hash: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        for part in [user_id, password, hash] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether this exact (user, password, hash) was verified recently.
    pub fn hit(&self, user_id: &str, password: &str, hash: &str) -> bool {
        let d = self.digest(user_id, password, hash);
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&d).is_some_and(|exp| *exp > now())
    }

    /// Remembers a successful verification.
    pub fn insert(&self, user_id: &str, password: &str, hash: &str) {
        let d = self.digest(user_id, password, hash);
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= BASIC_MAX {
            let t = now();
            map.retain(|_, exp| *exp > t);
            if map.len() >= BASIC_MAX {
                map.clear();
            }
        }
        map.insert(d, now() + BASIC_TTL);
    }
}

pub(crate) fn invalid_login() -> Error {
    Error::Permission {
        key: "error.access.login",
        message: "Invalid login".into(),
    }
}

pub(crate) fn unauthenticated() -> Error {
    Error::Auth {
        key: "error.auth",
        message: "Unauthenticated".into(),
    }
}

/// How a password check may use the verification cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Basic auth on every request: a recent successful bcrypt check may be reused.
    Cached,
    /// An interactive login: always run bcrypt.
    Full,
}

/// Checks an e-mail and password (Kirby's `validatePassword`): every failure is the same
/// 403 "Invalid login", after a random delay; bcrypt runs off the async runtime.
pub async fn validate_password(
    auth: &Auth,
    snap: &Snapshot,
    ip: std::net::IpAddr,
    email: &str,
    password: &str,
    check: Check,
) -> Result<UserIdx, Error> {
    let user = snap
        .user_by_key(&email.trim().to_lowercase())
        .filter(|_| email.contains('@'));
    let user_email = user.map(|u| snap.users[u].email.clone());
    let limits = auth.settings.limits;
    let len = password.chars().count();
    let checkable = password.len() <= 1000 && len >= 8;
    let hash = user.and_then(|u| snap.users[u].password_hash.clone());
    // A recent successful check of exactly these credentials needs no trial and no bcrypt,
    // unless the client or the account is blocked meanwhile.
    if check == Check::Cached
        && checkable
        && let (Some(u), Some(h)) = (user, &hash)
        && auth.basic_cache.hit(&snap.users[u].id, password, h)
    {
        let blocked = auth
            .trials
            .is_blocked(limits, ip, user_email.as_deref())
            .await
            .map_err(|e| unavailable(&e.0))?;
        if !blocked {
            return Ok(u);
        }
    }
    // Reserve a trial first, atomically: a burst of guesses cannot get more than
    // `auth.trials` of them checked.
    let reservation = auth
        .trials
        .reserve(limits, ip, user_email.as_deref())
        .await
        .map_err(|e| unavailable(&e.0))?;
    let ok = match (&reservation, checkable, user, &hash) {
        (Some(_), true, Some(u), Some(hash)) => {
            let id = snap.users[u].id.clone();
            let pw = password.to_string();
            let h = hash.clone();
            let verified =
                tokio::task::spawn_blocking(move || folio_core::password::verify(&pw, &h))
                    .await
                    .unwrap_or(false);
            if verified {
                auth.basic_cache.insert(&id, password, hash);
            }
            verified
        }
        (Some(_), true, _, _) => {
            // Same cost as a real check, so timing does not reveal unknown accounts.
            let pw = password.to_string();
            let _ = tokio::task::spawn_blocking(move || {
                folio_core::password::verify(&pw, folio_core::password::dummy_hash())
            })
            .await;
            false
        }
        _ => false,
    };
    if !ok {
        let why = match (reservation.is_some(), checkable, user, &hash) {
            (false, ..) => "client or account blocked (too many failed logins)",
            (_, false, ..) => "password shorter than 8 or longer than 1000 characters",
            (_, _, None, _) => "no such account",
            (_, _, _, None) => "the account has no password",
            _ => "wrong password",
        };
        // Neither the password nor the e-mail is logged.
        tracing::debug!(%ip, "login refused: {why}");
    }
    match (ok, user, reservation) {
        (true, Some(u), Some(r)) => {
            auth.trials
                .release(r)
                .await
                .map_err(|e| unavailable(&e.0))?;
            Ok(u)
        }
        (_, _, reservation) => {
            if let Some(r) = reservation {
                auth.trials
                    .fail(limits, r)
                    .await
                    .map_err(|e| unavailable(&e.0))?;
            }
            let mut b = [0u8; 4];
            let _ = getrandom::fill(&mut b);
            let ms = 10 + u64::from(u32::from_le_bytes(b)) % 1990;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Err(invalid_login())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_cache_rules() {
        let c = BasicCache::default();
        assert!(!c.hit("u1", "pw", "h1"));
        c.insert("u1", "pw", "h1");
        assert!(c.hit("u1", "pw", "h1"));
        assert!(!c.hit("u1", "wrong", "h1"), "a wrong password never hits");
        assert!(!c.hit("u1", "pw", "h2"), "a changed hash misses");
        assert!(!c.hit("u2", "pw", "h1"));
    }
}
