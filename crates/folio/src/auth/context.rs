//! The session of one request: loaded from the cookie (or `Authorization: Session`) at the
//! start, changed in memory by the handlers (CSRF token, login, logout, renewal), and written
//! at the end with Kirby's `Set-Cookie` headers. Pre-login sessions are never stored.

use axum::http::HeaderMap;
use serde_json::Value;
use subtle::ConstantTimeEq;

use folio_core::model::UserIdx;
use folio_core::{Error, Snapshot};
use folio_wire::credentials::{cookie_value, token_from_cookie};

use super::Auth;
use super::session::{Save, Saved, Session, random_hex};
use super::unavailable;
use crate::time::{http_date, now};

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
    use crate::auth::secret::SiteSecret;

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
    /// A request without a session (yet).
    pub fn empty(https: bool) -> Self {
        SessionCtx {
            session: None,
            destroyed: false,
            events: Vec::new(),
            created_here: false,
            https,
            delete: Vec::new(),
            unavailable: None,
            fresh_login: false,
        }
    }

    /// Loads the session named by the cookie (or `Authorization: Session <token>`): a
    /// pre-login token is checked against the site secret without touching the store.
    pub async fn load(auth: &Auth, headers: &HeaderMap, https: bool) -> Self {
        let name = &auth.settings.cookie_name;
        let key = &auth.settings.cookie_key;
        let header_token = headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Session ").map(|t| t.trim().to_string()));
        let cookie = || {
            folio_wire::credentials::cookie(
                headers
                    .get_all("cookie")
                    .iter()
                    .filter_map(|h| h.to_str().ok()),
                name,
            )
        };
        let token = header_token.or_else(|| cookie().and_then(|v| token_from_cookie(&v, key)));
        let mut ctx = SessionCtx::empty(https);
        let Some(token) = token else {
            return ctx;
        };
        // A stored session this process verified recently (no I/O, no HMAC), then a
        // pre-login token (one HMAC), then the store.
        if let Some(s) = auth.sessions.cached(&token) {
            ctx.session = Some(s);
            ctx.touch(auth);
            return ctx;
        }
        if let Some(s) = ctx.prelogin_from_token(auth, &token) {
            ctx.session = Some(s);
            ctx.touch(auth);
            return ctx;
        }
        match auth.sessions.load(&token).await {
            Ok(Some(s)) => {
                ctx.session = Some(s);
                ctx.touch(auth);
            }
            Ok(None) => {}
            Err(e) => ctx.unavailable = Some(e.0),
        }
        ctx
    }

    /// A pre-login session, if the token is one (its key matches the derived key).
    fn prelogin_from_token(&mut self, auth: &Auth, token: &str) -> Option<Session> {
        let (expiry, id, key) = folio_wire::credentials::split_token(token)?;
        let Some(expected) = prelogin::key(&auth.secret, expiry, id) else {
            // Without the secret nothing can be told apart: fail closed.
            self.unavailable = Some("the site secret is not known yet".into());
            return None;
        };
        if !bool::from(expected.as_bytes().ct_eq(key.as_bytes())) || expiry <= now() {
            return None;
        }
        let mut s = auth.sessions.create();
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
    fn touch(&mut self, auth: &Auth) {
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
            self.regenerate(auth);
        }
    }

    /// The existing session, if the request named a valid one.
    pub fn get(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    /// The session, created (and its cookie queued) when there is none: a new session is a
    /// pre-login one until a login is set on it. Fails when the site secret is not known.
    pub fn get_or_create(&mut self, auth: &Auth) -> Result<&mut Session, Error> {
        if self.session.is_none() {
            let mut s = auth.sessions.create();
            s.key = prelogin::key(&auth.secret, s.record.expiry_time, &s.id)
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
    pub fn csrf_token(&mut self, auth: &Auth) -> Result<String, Error> {
        if let Some(e) = &self.unavailable {
            return Err(unavailable(e));
        }
        if !auth.sessions.is_healthy() {
            return Err(unavailable("the session store is unreachable"));
        }
        let s = self.get_or_create(auth)?;
        if let Some(t) = s.get_str(CSRF) {
            return Ok(t.to_string());
        }
        if s.prelogin {
            let csrf_id = s.get_str(CSRF_ID).unwrap_or(&s.id).to_string();
            return prelogin::csrf(&auth.secret, &csrf_id)
                .ok_or_else(|| unavailable("the site secret is not known yet"));
        }
        let t = random_hex(32);
        s.set(CSRF, Value::String(t.clone()));
        Ok(t)
    }

    /// The token requests must send in `X-CSRF`: `api.csrf`, `dev` in `panel.dev`, or the
    /// session's token.
    pub fn csrf_reference(&mut self, auth: &Auth) -> Result<String, Error> {
        if let Some(fixed) = &auth.settings.csrf_fixed {
            return Ok(fixed.clone());
        }
        if auth.settings.panel_dev {
            return Ok("dev".into());
        }
        self.csrf_token(auth)
    }

    /// New id and key for the session; the old token stops working at once. A pre-login
    /// session keeps its id (its CSRF token derives from it) and gets the key derived for
    /// its new expiry.
    pub fn regenerate(&mut self, auth: &Auth) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if s.prelogin {
            if let Some(k) = prelogin::key(&auth.secret, s.record.expiry_time, &s.id) {
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
    pub fn make_long(&mut self, auth: &Auth) {
        let long = auth.sessions.lifetimes.long;
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
        self.regenerate(auth);
    }

    /// Logs a user in on this session after a verified password (login, own password
    /// change): the session becomes a stored one with a new token and keeps its CSRF token.
    pub fn begin_login(
        &mut self,
        auth: &Auth,
        user_id: &str,
        long: bool,
        stamp: bool,
    ) -> Result<(), Error> {
        let csrf = self.csrf_token(auth).ok();
        let s = self.get_or_create(auth)?;
        let csrf_id = if s.prelogin {
            Some(s.get_str(CSRF_ID).unwrap_or(&s.id).to_string())
        } else {
            s.get_str(CSRF_ID).map(str::to_string)
        };
        if s.prelogin {
            // From here on the session is a normal, stored one.
            s.prelogin = false;
            s.record.timeout = Some(auth.sessions.lifetimes.timeout);
            s.record.last_activity = Some(now());
            s.record.start_time = now();
        }
        self.fresh_login = true;
        if long {
            self.make_long(auth);
        }
        self.regenerate(auth);
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
    pub fn logout(&mut self, auth: &Auth) {
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
        let mut fresh = auth.sessions.create();
        if let Some(id) = csrf_id {
            fresh.id = id;
        }
        fresh.prelogin = true;
        fresh.record.timeout = None;
        fresh.record.last_activity = None;
        fresh.dirty = false;
        if let Some(k) = prelogin::key(&auth.secret, fresh.record.expiry_time, &fresh.id) {
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
    pub async fn finish(&mut self, auth: &Auth) -> Result<Vec<String>, Error> {
        for name in std::mem::take(&mut self.delete) {
            auth.sessions
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
                let saved = auth
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
                        auth.sessions
                            .delete(&p)
                            .await
                            .map_err(|e| unavailable(&e.0))?;
                    }
                }
            } else if s.stored || s.predecessor.is_some() {
                // A stored session that lost its login (password changed elsewhere).
                let names = [s.stored.then(|| s.name()), s.predecessor.take()];
                for n in names.into_iter().flatten() {
                    auth.sessions
                        .delete(&n)
                        .await
                        .map_err(|e| unavailable(&e.0))?;
                }
                s.stored = false;
            }
        }
        let name = &auth.settings.cookie_name;
        let key = &auth.settings.cookie_key;
        let domain = &auth.settings.cookie_domain;
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
