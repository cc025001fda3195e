//! Who is calling: the per-request session context (cookie, CSRF token, regeneration),
//! the API's authentication gate (Basic auth, then session + `X-CSRF`, then `access.panel`)
//! and password validation. Bcrypt always runs on a blocking thread.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use subtle::ConstantTimeEq;

use folio_core::model::UserIdx;
use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot};

use super::App;
use super::request::Req;
use super::session::{Save, Saved, Session, random_hex};
use crate::time::{http_date, now};
use folio_wire::credentials::{cookie_value, token_from_cookie};
pub use folio_wire::credentials::{is_basic, parse_basic};

enum CookieEvent {
    Set(String, i64),
    Delete,
}

/// Session data keys this module manages.
const USER_ID: &str = "kirby.userId";
const LOGIN_TIME: &str = "kirby.loginTimestamp";
const CSRF: &str = "kirby.csrf";
/// The id of the pre-login session a login started from: its CSRF token is derived from it,
/// so the token stays the same through login and logout (as Kirby's does).
const CSRF_ID: &str = "folio.csrfId";

/// Pre-login sessions: a cookie in Kirby's token format whose key is derived from the site
/// secret, and whose CSRF token is too. Nothing is stored for them, so anonymous traffic can
/// never fill the store, and any node sharing the secret accepts them.
pub mod prelogin {
    use super::super::secret::SiteSecret;

    /// The key of the pre-login token `expiry.id.<key>`.
    pub fn key(secret: &SiteSecret, expiry: i64, id: &str) -> Option<String> {
        secret.derive("folio-prelogin-key", &[&expiry.to_string(), id])
    }

    /// The CSRF token of a pre-login session with this id.
    pub fn csrf(secret: &SiteSecret, id: &str) -> Option<String> {
        secret.derive("folio-csrf", &[id])
    }
}

/// The session state of one request: loaded once at the start, changed in memory by the
/// handlers, written (and replaced or destroyed tokens deleted) at the end.
pub struct SessionCtx {
    session: Option<Session>,
    destroyed: bool,
    events: Vec<CookieEvent>,
    created_here: bool,
    https: bool,
    /// Stored names (`expiry.id`) to delete at the end (destroyed sessions).
    delete: Vec<String>,
    /// Set when the session store (or the site secret) could not be reached.
    pub unavailable: Option<String>,
    /// A login was established by this request (a verified password): its session is
    /// created even if the session it came from was destroyed meanwhile.
    fresh_login: bool,
}

impl SessionCtx {
    /// Loads the session named by the cookie (or `Authorization: Session <token>`): a
    /// pre-login token is checked against the site secret without touching the store.
    pub async fn load(app: &App, req: &Req) -> Self {
        let name = &app.settings.cookie_name;
        let key = &app.settings.cookie_key;
        let header_token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Session ").map(|t| t.trim().to_string()));
        let token =
            header_token.or_else(|| req.cookie(name).and_then(|v| token_from_cookie(&v, key)));
        let mut ctx = SessionCtx {
            session: None,
            destroyed: false,
            events: Vec::new(),
            created_here: false,
            https: req.https,
            delete: Vec::new(),
            unavailable: None,
            fresh_login: false,
        };
        let Some(token) = token else {
            return ctx;
        };
        // A stored session this process verified recently (no I/O, no HMAC), then a
        // pre-login token (one HMAC), then the store.
        if let Some(s) = app.sessions.cached(&token) {
            ctx.session = Some(s);
            ctx.touch(app);
            return ctx;
        }
        if let Some(s) = ctx.prelogin_from_token(app, &token) {
            ctx.session = Some(s);
            ctx.touch(app);
            return ctx;
        }
        match app.sessions.load(&token).await {
            Ok(Some(s)) => {
                ctx.session = Some(s);
                ctx.touch(app);
            }
            Ok(None) => {}
            Err(e) => ctx.unavailable = Some(e.0),
        }
        ctx
    }

    /// A pre-login session, if the token is one (its key matches the derived key).
    fn prelogin_from_token(&mut self, app: &App, token: &str) -> Option<Session> {
        let (expiry, id, key) = folio_wire::credentials::split_token(token)?;
        let Some(expected) = prelogin::key(&app.secret, expiry, id) else {
            // Without the secret nothing can be told apart: fail closed.
            self.unavailable = Some("the site secret is not known yet".into());
            return None;
        };
        if !bool::from(expected.as_bytes().ct_eq(key.as_bytes())) || expiry <= now() {
            return None;
        }
        let mut s = app.sessions.create();
        s.id = id.to_string();
        s.key = key.to_string();
        s.record.expiry_time = expiry;
        s.record.start_time = expiry - s.record.duration;
        // No activity is recorded for a session that is not stored.
        s.record.timeout = None;
        s.record.last_activity = None;
        s.dirty = false;
        s.prelogin = true;
        Some(s)
    }

    /// Activity bookkeeping and renewal of a loaded session.
    fn touch(&mut self, app: &App) {
        let t = now();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if let Some(timeout) = s.record.timeout
            && s.record
                .last_activity
                .is_none_or(|last| t - last > timeout / 15)
        {
            s.record.last_activity = Some(t);
            s.dirty = true;
        }
        if s.record.renewable && s.record.expiry_time - t < s.record.duration / 2 {
            s.leave_stored_name();
            s.record.expiry_time = t + s.record.duration;
            self.regenerate(app);
        }
    }

    /// The existing session, if the request named a valid one.
    pub fn get(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// The session, created (and its cookie queued) when there is none: a new session is a
    /// pre-login one until a login is set on it. Fails when the site secret is not known.
    pub fn get_or_create(&mut self, app: &App) -> Result<&mut Session, Error> {
        if self.session.is_none() {
            let mut s = app.sessions.create();
            s.key = prelogin::key(&app.secret, s.record.expiry_time, &s.id)
                .ok_or_else(|| unavailable("the site secret is not known yet"))?;
            s.record.timeout = None;
            s.record.last_activity = None;
            s.prelogin = true;
            self.events
                .push(CookieEvent::Set(s.token(), s.record.expiry_time));
            self.session = Some(s);
            self.created_here = true;
            self.destroyed = false;
        }
        Ok(self.session.as_mut().expect("created above"))
    }

    /// The session's CSRF token (`kirby.csrf`): derived for a pre-login session, stored in a
    /// logged-in one (generated on first use). Fails closed (503) while the session store
    /// is unreachable or the site secret unknown.
    pub fn csrf_token(&mut self, app: &App) -> Result<String, Error> {
        if let Some(e) = &self.unavailable {
            return Err(unavailable(e));
        }
        if !app.sessions.is_healthy() {
            return Err(unavailable("the session store is unreachable"));
        }
        let s = self.get_or_create(app)?;
        if let Some(t) = s.get_str(CSRF) {
            return Ok(t.to_string());
        }
        if s.prelogin {
            let csrf_id = s.get_str(CSRF_ID).unwrap_or(&s.id).to_string();
            return prelogin::csrf(&app.secret, &csrf_id)
                .ok_or_else(|| unavailable("the site secret is not known yet"));
        }
        let t = random_hex(32);
        s.set(CSRF, Value::String(t.clone()));
        Ok(t)
    }

    /// The token requests must send in `X-CSRF`: `api.csrf`, `dev` in `panel.dev`, or the
    /// session's token.
    pub fn csrf_reference(&mut self, app: &App) -> Result<String, Error> {
        if let Some(fixed) = &app.settings.csrf_fixed {
            return Ok(fixed.clone());
        }
        if app.settings.panel_dev {
            return Ok("dev".into());
        }
        self.csrf_token(app)
    }

    /// New id and key for the session; the old token stops working at once. A pre-login
    /// session keeps its id (its CSRF token derives from it) and gets the key derived for
    /// its new expiry.
    pub fn regenerate(&mut self, app: &App) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if s.prelogin {
            if let Some(k) = prelogin::key(&app.secret, s.record.expiry_time, &s.id) {
                s.key = k;
            }
        } else {
            s.leave_stored_name();
            s.id = random_hex(10);
            s.key = random_hex(32);
            s.dirty = true;
        }
        let ev = CookieEvent::Set(s.token(), s.record.expiry_time);
        if self.created_here && self.events.len() == 1 {
            self.events[0] = ev;
        } else {
            self.events.push(ev);
        }
    }

    /// Switches to a long session (no inactivity timeout); "less strict wins".
    pub fn make_long(&mut self, app: &App) {
        let long = app.sessions.lifetimes.long;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if s.record.timeout.is_none() && s.record.duration >= long && !s.prelogin {
            return;
        }
        let t = now();
        s.leave_stored_name();
        s.record.duration = long;
        s.record.expiry_time = t + long;
        s.record.timeout = None;
        s.dirty = true;
        self.regenerate(app);
    }

    /// Logs a user in on this session after a verified password (login, own password
    /// change): the session becomes a stored one with a new token and keeps its CSRF token.
    pub fn begin_login(
        &mut self,
        app: &App,
        user_id: &str,
        long: bool,
        stamp: bool,
    ) -> Result<(), Error> {
        let csrf = self.csrf_token(app).ok();
        let s = self.get_or_create(app)?;
        let csrf_id = if s.prelogin {
            Some(s.get_str(CSRF_ID).unwrap_or(&s.id).to_string())
        } else {
            s.get_str(CSRF_ID).map(str::to_string)
        };
        if s.prelogin {
            // From here on the session is a normal, stored one.
            s.prelogin = false;
            s.record.timeout = Some(app.sessions.lifetimes.timeout);
            s.record.last_activity = Some(now());
            s.record.start_time = now();
        }
        self.fresh_login = true;
        if long {
            self.make_long(app);
        }
        self.regenerate(app);
        let s = self.session.as_mut().expect("created above");
        if let Some(c) = csrf {
            s.set(CSRF, Value::String(c));
        }
        if let Some(id) = csrf_id {
            s.set(CSRF_ID, Value::String(id));
        }
        s.set(USER_ID, Value::String(user_id.to_string()));
        if stamp {
            s.set(LOGIN_TIME, serde_json::json!(now()));
        } else {
            s.remove(LOGIN_TIME);
        }
        Ok(())
    }

    /// Logs the session's user out: the stored session is destroyed, and the client gets a
    /// pre-login session with the same CSRF token (or, without one, its cookie is expired).
    pub fn logout(&mut self, app: &App) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if s.prelogin || !s.record.data.contains_key(USER_ID) {
            return;
        }
        let csrf_id = s.get_str(CSRF_ID).map(str::to_string);
        let had_csrf = s.record.data.contains_key(CSRF);
        if s.stored {
            self.delete.push(s.name());
        } else if let Some(p) = s.predecessor.take() {
            self.delete.push(p);
        }
        self.session = None;
        if !had_csrf {
            self.destroyed = true;
            self.events.push(CookieEvent::Delete);
            return;
        }
        // Kirby keeps the session (and its CSRF token) with a new token.
        let mut fresh = app.sessions.create();
        if let Some(id) = csrf_id {
            fresh.id = id;
        }
        fresh.prelogin = true;
        fresh.record.timeout = None;
        fresh.record.last_activity = None;
        fresh.dirty = false;
        if let Some(k) = prelogin::key(&app.secret, fresh.record.expiry_time, &fresh.id) {
            fresh.key = k;
            self.events
                .push(CookieEvent::Set(fresh.token(), fresh.record.expiry_time));
            self.session = Some(fresh);
        } else {
            self.destroyed = true;
            self.events.push(CookieEvent::Delete);
        }
    }

    /// Writes the session if needed, deletes destroyed ones, and returns the `Set-Cookie`
    /// values to send. Only a session that carries a login is written. Fails (the caller
    /// answers 503) when the store cannot be reached.
    pub async fn finish(&mut self, app: &App) -> Result<Vec<String>, Error> {
        for name in std::mem::take(&mut self.delete) {
            app.sessions
                .delete(&name)
                .await
                .map_err(|e| unavailable(&e.0))?;
        }
        if let Some(s) = self.session.as_mut()
            && s.dirty
            && !s.prelogin
            && !self.destroyed
        {
            if s.record.data.contains_key(USER_ID) {
                let mode = if s.stored {
                    Save::Update
                } else {
                    match (&s.predecessor, self.fresh_login) {
                        (Some(p), false) => Save::Replace(p.clone()),
                        _ => Save::Create,
                    }
                };
                let saved = app
                    .sessions
                    .save(s, mode.clone())
                    .await
                    .map_err(|e| unavailable(&e.0))?;
                if saved == Saved::Gone {
                    tracing::debug!("session destroyed while this request ran: not written again");
                } else {
                    s.stored = true;
                    if let (Some(p), Save::Create) = (s.predecessor.take(), mode) {
                        // A fresh login replaced an older stored session.
                        app.sessions
                            .delete(&p)
                            .await
                            .map_err(|e| unavailable(&e.0))?;
                    }
                }
            } else if s.stored || s.predecessor.is_some() {
                // A stored session that lost its login (password changed elsewhere).
                let names = [s.stored.then(|| s.name()), s.predecessor.take()];
                for n in names.into_iter().flatten() {
                    app.sessions
                        .delete(&n)
                        .await
                        .map_err(|e| unavailable(&e.0))?;
                }
                s.stored = false;
            }
        }
        let name = &app.settings.cookie_name;
        let key = &app.settings.cookie_key;
        let domain = &app.settings.cookie_domain;
        let mut tail = String::from("; path=/");
        if let Some(d) = &domain {
            tail.push_str(&format!("; domain={d}"));
        }
        if self.https {
            tail.push_str("; secure");
        }
        tail.push_str("; HttpOnly; SameSite=Lax");
        let t = now();
        Ok(self
            .events
            .iter()
            .map(|e| match e {
                CookieEvent::Set(token, expiry) => format!(
                    "{name}={}; expires={}; Max-Age={}{tail}",
                    cookie_value(token, key),
                    http_date(*expiry),
                    (expiry - t).max(0)
                ),
                CookieEvent::Delete => format!(
                    "{name}=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0{tail}"
                ),
            })
            .collect())
    }

    /// The logged-in user of the session, honouring the password timestamp rule.
    pub fn user(&mut self, snap: &Snapshot) -> Option<UserIdx> {
        let s = self.session.as_mut()?;
        if s.prelogin {
            return None;
        }
        let id = s.get_str(USER_ID)?.to_string();
        let u = snap.users.iter().position(|u| u.id == id)?;
        if let Some(pw_time) = snap.users[u].password_mtime {
            let login = s.record.data.get(LOGIN_TIME).and_then(Value::as_i64);
            if login.is_none_or(|l| l < pw_time) {
                s.remove(USER_ID);
                s.remove(LOGIN_TIME);
                return None;
            }
        }
        Some(u)
    }
}

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

fn invalid_login() -> Error {
    Error::Permission {
        key: "error.access.login",
        message: "Invalid login".into(),
    }
}

/// Authentication fails closed when the session/trial store is down.
pub fn unavailable(detail: &str) -> Error {
    tracing::error!("auth store unavailable: {detail}");
    Error::Unavailable {
        key: "error.unavailable",
        message: "The authentication service is temporarily unavailable".into(),
    }
}

fn unauthenticated() -> Error {
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
    app: &App,
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
    let limits = app.limits();
    let len = password.chars().count();
    let checkable = password.len() <= 1000 && len >= 8;
    let hash = user.and_then(|u| snap.users[u].password_hash.clone());
    // A recent successful check of exactly these credentials needs no trial and no bcrypt,
    // unless the client or the account is blocked meanwhile.
    if check == Check::Cached
        && checkable
        && let (Some(u), Some(h)) = (user, &hash)
        && app.basic_cache.hit(&snap.users[u].id, password, h)
    {
        let blocked = app
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
    let reservation = app
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
                app.basic_cache.insert(&id, password, hash);
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
    match (ok, user, reservation) {
        (true, Some(u), Some(r)) => {
            app.trials.release(r).await.map_err(|e| unavailable(&e.0))?;
            Ok(u)
        }
        _ => {
            let mut b = [0u8; 4];
            let _ = getrandom::fill(&mut b);
            let ms = 10 + u64::from(u32::from_le_bytes(b)) % 1990;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Err(invalid_login())
        }
    }
}

/// The API's authentication gate for routes that need a user.
pub async fn gate(
    app: &App,
    req: &Req,
    sess: &mut SessionCtx,
    snap: &Snapshot,
) -> Result<Actor, Error> {
    let basic = req
        .header("authorization")
        .filter(|h| is_basic(h))
        .filter(|_| app.settings.basic_auth);
    let user = if let Some(h) = basic {
        if !req.https && !app.settings.allow_insecure {
            return Err(Error::Permission {
                key: "error.permission",
                message: "Basic authentication is only allowed over HTTPS".into(),
            });
        }
        let ip = app.client_ip(req);
        match parse_basic(h) {
            Some((email, password)) => {
                validate_password(app, snap, ip, &email, &password, Check::Cached).await?
            }
            None => return Err(invalid_login()),
        }
    } else {
        if let Some(e) = &sess.unavailable {
            return Err(unavailable(e));
        }
        let reference = sess.csrf_reference(app)?;
        let sent = req.header("x-csrf").unwrap_or("");
        let matches = !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(reference.as_bytes()));
        if !matches {
            return Err(unauthenticated());
        }
        match sess.user(snap) {
            Some(u) => u,
            None => return Err(unauthenticated()),
        }
    };
    let actor = Actor::user(snap, user);
    if !snap.role_of(&actor).permissions.get("access", "panel") {
        return Err(Error::Auth {
            key: "error.access.panel",
            message: "You are not allowed to access the panel".into(),
        });
    }
    Ok(actor)
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
