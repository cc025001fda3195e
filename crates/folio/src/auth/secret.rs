//! The site secret: 32 random bytes that every node serving the site shares. Pre-login
//! session keys and their CSRF tokens are derived from it, so a visitor who only fetches a
//! CSRF token (or views a page calling `csrf()`) makes the server store nothing, and a login
//! whose token another node handed out still works. It comes from the `folio.secret`
//! option when set, else from `site/sessions/.folio-secret` (file sessions) or the Redis key
//! `folio:secret` (Redis sessions); see docs/SECURITY.md.

use arc_swap::ArcSwapOption;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::redis::Redis;

/// The shared secret (absent until it is known: a node on Redis learns it once connected).
#[derive(Debug, Default)]
pub struct SiteSecret {
    value: ArcSwapOption<[u8; 32]>,
}

/// The secret's file in the sessions folder.
pub const FILE_NAME: &str = ".folio-secret";
/// The secret's Redis key.
pub const REDIS_KEY: &str = "folio:secret";

fn random() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}

fn parse(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl SiteSecret {
    /// A secret from the `folio.secret` option (any string; its SHA-256 is used).
    pub fn fixed(value: &str) -> Self {
        let s = SiteSecret::default();
        s.value
            .store(Some(Arc::new(Sha256::digest(value.as_bytes()).into())));
        s
    }

    /// A secret not known yet (Redis sessions before the first connection).
    pub fn pending() -> Self {
        SiteSecret::default()
    }

    /// The secret in `<dir>/.folio-secret`, created (mode 0600) if missing. Nodes starting
    /// together agree: the file is created by a hard link, which only one of them wins.
    pub fn from_folder(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE_NAME);
        let read = |p: &Path| -> anyhow::Result<[u8; 32]> {
            let text = std::fs::read_to_string(p)?;
            parse(&text).ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is not a 64-digit hex secret; delete it to create a new one",
                    p.display()
                )
            })
        };
        if path.exists() {
            let s = SiteSecret::default();
            s.value.store(Some(Arc::new(read(&path)?)));
            return Ok(s);
        }
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-folio-secret-")
            .tempfile_in(dir)?;
        tmp.write_all(hex::encode(random()).as_bytes())?;
        tmp.as_file().sync_all()?;
        match std::fs::hard_link(tmp.path(), &path) {
            Ok(()) => folio_core::store::sync_dir(dir)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        drop(tmp);
        let s = SiteSecret::default();
        s.value.store(Some(Arc::new(read(&path)?)));
        Ok(s)
    }

    /// Agrees on the secret through Redis: proposes a fresh one with `SET NX`, then adopts
    /// whatever Redis holds (so every node ends up with the first one proposed). A node that
    /// already knows a secret re-proposes it, so an emptied Redis gets the same one back.
    pub async fn agree(&self, redis: &Redis) {
        let mine = self.get().unwrap_or_else(random);
        let proposed = redis
            .cmd::<Option<String>>(
                redis::cmd("SET")
                    .arg(REDIS_KEY)
                    .arg(hex::encode(mine))
                    .arg("NX"),
            )
            .await;
        if proposed.is_err() {
            return;
        }
        if let Ok(Some(text)) = redis
            .cmd::<Option<String>>(redis::cmd("GET").arg(REDIS_KEY))
            .await
            && let Some(v) = parse(&text)
        {
            if self.get().is_some_and(|cur| cur != v) {
                tracing::warn!(
                    "the site secret in Redis differs from this node's: adopting it (pre-login CSRF tokens from this node become invalid)"
                );
            }
            self.value.store(Some(Arc::new(v)));
        }
    }

    /// The secret, once known.
    pub fn get(&self) -> Option<[u8; 32]> {
        self.value.load().as_deref().copied()
    }

    /// `HMAC-SHA256(secret, label ‖ 0 ‖ part ‖ 0 ‖ …)` as 64 hex digits.
    pub fn derive(&self, label: &str, parts: &[&str]) -> Option<String> {
        let key = self.get()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(label.as_bytes());
        for p in parts {
            mac.update(&[0]);
            mac.update(p.as_bytes());
        }
        Some(hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_sharing_a_folder_share_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let a = SiteSecret::from_folder(dir.path()).unwrap();
        let b = SiteSecret::from_folder(dir.path()).unwrap();
        assert!(a.get().is_some());
        assert_eq!(a.get(), b.get());
        assert_eq!(a.derive("csrf", &["x"]), b.derive("csrf", &["x"]));
        assert_ne!(a.derive("csrf", &["x"]), a.derive("csrf", &["y"]));
        assert_ne!(a.derive("csrf", &["x"]), a.derive("key", &["x"]));
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text.len(), 64);
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read it");
        }
    }

    #[test]
    fn a_corrupt_secret_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "nope").unwrap();
        let err = SiteSecret::from_folder(dir.path()).unwrap_err();
        assert!(err.to_string().contains("64-digit hex"));
    }

    #[test]
    fn pending_and_fixed() {
        assert!(SiteSecret::pending().derive("a", &[]).is_none());
        let f = SiteSecret::fixed("shared by every node");
        assert_eq!(
            f.derive("a", &[]),
            SiteSecret::fixed("shared by every node").derive("a", &[])
        );
    }
}
