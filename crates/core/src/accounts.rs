//! Account management on disk in Kirby's format: `site/accounts/<id>/index.php` (a literal
//! PHP array), `.htpasswd` (a `$2y$` bcrypt hash) and `user.txt`, so real Kirby reads what
//! Folio writes. Used by the `folio user` CLI (acting as the site owner) and the users API.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::format::php_array::{self, Key, Value};
use crate::format::txt;
use crate::model::Content;
use crate::snapshot::Snapshot;
use crate::store::write_atomic;
use crate::{Error, password};

/// The Panel UI languages a user may pick (Kirby's translation codes).
pub const PANEL_LANGUAGES: &[&str] = &[
    "bg", "bs", "ca", "cs", "da", "de", "el", "en", "eo", "es_419", "es_ES", "fa", "fi", "fr",
    "hu", "id", "is_IS", "it", "ja", "ko", "lt", "nb", "nl", "pl", "pt_BR", "pt_PT", "ro", "ru",
    "sk", "sr@latin", "sv_SE", "tr", "uk", "zh_TW",
];

/// Ids that can never name an account.
pub const RESERVED_IDS: &[&str] = &["account", "kirby", "nobody"];

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// E-mail address (stored lowercase).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Role name; must exist.
    pub role: String,
    /// Panel language.
    pub language: String,
    /// Plain password (8–1000 characters); hashed before it touches the disk.
    pub password: String,
}

/// Checks an e-mail address the way Kirby's validator roughly does.
pub fn check_email(email: &str) -> Result<String, Error> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
    if valid {
        Ok(e)
    } else {
        Err(Error::InvalidArgument {
            key: "error.user.email.invalid",
            message: "Please enter a valid email address".into(),
            details: serde_json::Value::Array(Vec::new()),
        })
    }
}

/// Checks a new password: 8 to 1000 characters (Kirby's `validPassword`).
pub fn check_password(pw: &str) -> Result<(), Error> {
    let n = pw.chars().count();
    if n < 8 {
        Err(Error::InvalidArgument {
            key: "error.user.password.invalid",
            message: "Please enter a valid password. Passwords must be at least 8 characters long."
                .into(),
            details: serde_json::Value::Array(Vec::new()),
        })
    } else if n > 1000 {
        Err(Error::InvalidArgument {
            key: "error.user.password.excessive",
            message:
                "Please enter a valid password. Passwords must not be longer than 1000 characters."
                    .into(),
            details: serde_json::Value::Array(Vec::new()),
        })
    } else {
        Ok(())
    }
}

/// Checks a Panel language code (Kirby's `validLanguage`).
pub fn check_language(code: &str) -> Result<(), Error> {
    if PANEL_LANGUAGES.contains(&code) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            key: "error.user.language.invalid",
            message: "Please enter a valid language".into(),
            details: serde_json::Value::Array(Vec::new()),
        })
    }
}

/// Whether `id` may name a new account folder: `^[a-z0-9_-]+$` (any case), not reserved.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !RESERVED_IDS.contains(&id.to_ascii_lowercase().as_str())
}

/// Whether no account (loaded or not) uses `id` yet.
pub fn id_is_free(root: &Path, snap: &Snapshot, id: &str) -> bool {
    !snap.users.iter().any(|u| u.id.eq_ignore_ascii_case(id))
        && !accounts_dir(root).join(id).exists()
}

fn accounts_dir(root: &Path) -> PathBuf {
    root.join("site").join("accounts")
}

/// A fresh 8-character account id (`[a-z0-9]`, CSPRNG).
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

fn index_php(email: &str, language: &str, name: Option<&str>, role: &str) -> String {
    php_array::write_file(&Value::Array(vec![
        (Key::Str("email".into()), Value::Str(email.into())),
        (Key::Str("language".into()), Value::Str(language.into())),
        (
            Key::Str("name".into()),
            name.map(|n| Value::Str(n.into())).unwrap_or(Value::Null),
        ),
        (Key::Str("role".into()), Value::Str(role.into())),
    ]))
}

/// Everything a new account folder holds (already validated by the caller).
#[derive(Debug, Clone)]
pub struct AccountFiles<'a> {
    /// Folder name (see [`valid_id`]).
    pub id: &'a str,
    /// E-mail address, already lowercased.
    pub email: &'a str,
    /// Panel language.
    pub language: &'a str,
    /// Display name (`NULL` when `None`).
    pub name: Option<&'a str>,
    /// The role name stored in `index.php`.
    pub role: &'a str,
    /// A `$2y$` hash for `.htpasswd`; `None` writes an empty file (no password).
    pub password_hash: Option<&'a str>,
    /// The fields of `user.txt`.
    pub content: &'a Content,
    /// The content file's name (`user.txt`, `user.en.txt` on a multi-language site).
    pub content_name: &'a str,
}

/// The name of a user's content file in the snapshot's language.
pub fn content_name(snap: &Snapshot) -> String {
    match snap.lang_code() {
        Some(code) => format!("user.{code}.txt"),
        None => "user.txt".into(),
    }
}

/// The name of a user's content file in the default language.
pub fn default_content_name(snap: &Snapshot) -> String {
    match snap.languages.default_code() {
        Some(code) => format!("user.{code}.txt"),
        None => "user.txt".into(),
    }
}

/// Writes a new account folder: `.htpasswd`, `user.txt`, then `index.php` (an account
/// without it is not loaded, so a crash leaves no half user). The folder must not exist;
/// on failure it is removed again.
pub fn write_new(root: &Path, a: &AccountFiles<'_>) -> Result<(), Error> {
    if !valid_id(a.id) {
        return Err(Error::invalid_argument(format!(
            "\"{}\" is not a valid user id",
            a.id
        )));
    }
    let io = |e: std::io::Error| Error::internal(format!("writing the account: {e}"));
    let parent = accounts_dir(root);
    crate::store::create_dir_like_parent(&parent).map_err(io)?;
    let dir = parent.join(a.id);
    std::fs::create_dir(&dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Duplicate {
                key: "error.duplicate",
                message: "A user with this id exists".into(),
            }
        } else {
            io(e)
        }
    })?;
    crate::store::adopt(&dir).map_err(io)?;
    let result = (|| {
        write_atomic(
            &dir.join(".htpasswd"),
            a.password_hash.unwrap_or("").as_bytes(),
        )?;
        let text = txt::encode(
            a.content
                .iter()
                .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
        );
        write_atomic(&dir.join(a.content_name), text.as_bytes())?;
        let php = index_php(a.email, a.language, a.name, a.role);
        write_atomic(&dir.join("index.php"), php.as_bytes())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(io(e));
    }
    Ok(())
}

/// Rewrites a user's content file (`name`, see [`content_name`]) with the given fields.
pub fn write_content(root: &Path, id: &str, name: &str, content: &Content) -> Result<(), Error> {
    let path = account_file(root, id, name)?;
    let text = txt::encode(content.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    write_atomic(&path, text.as_bytes()).map_err(|e| Error::internal(e.to_string()))
}

/// A file inside an existing account folder (the id must be a plain folder name).
fn account_file(root: &Path, id: &str, name: &str) -> Result<PathBuf, Error> {
    if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
        return Err(Error::user_not_found(id));
    }
    Ok(accounts_dir(root).join(id).join(name))
}

/// Creates an account; returns its id. Bcrypt runs here: call from a blocking context.
pub fn create(root: &Path, snap: &Snapshot, input: &NewAccount) -> Result<String, Error> {
    let email = check_email(&input.email)?;
    if snap.user_by_key(&email).is_some() {
        return Err(Error::Duplicate {
            key: "error.user.duplicate",
            message: format!("A user with the email address \"{email}\" already exists"),
        });
    }
    if !snap.roles.contains_key(&input.role) {
        return Err(Error::InvalidArgument {
            key: "error.user.role.invalid",
            message: format!(
                "Please enter a valid role (unknown role \"{}\")",
                input.role
            ),
            details: serde_json::Value::Array(Vec::new()),
        });
    }
    check_password(&input.password)?;
    let hash = password::hash(&input.password).map_err(|e| Error::internal(e.to_string()))?;
    let mut id = new_id();
    while !id_is_free(root, snap, &id) {
        id = new_id();
    }
    write_new(
        root,
        &AccountFiles {
            id: &id,
            email: &email,
            language: &input.language,
            name: input.name.as_deref(),
            role: &input.role,
            password_hash: Some(&hash),
            content: &Content::default(),
            content_name: &default_content_name(snap),
        },
    )?;
    Ok(id)
}

/// Replaces an account's password (rewrites `.htpasswd`, which also logs out its sessions).
/// Bcrypt runs here and the call can wait up to a second (see [`write_password_hash`]):
/// call from a blocking context.
pub fn set_password(root: &Path, id: &str, new_password: &str) -> Result<(), Error> {
    check_password(new_password)?;
    let hash = password::hash(new_password).map_err(|e| Error::internal(e.to_string()))?;
    write_password_hash(root, id, &hash)
}

/// Writes a new password hash to `.htpasswd`, keeping a second line of other secrets (e.g.
/// TOTP) as Kirby does.
///
/// The file's mtime is the password timestamp: sessions that logged in before it are logged
/// out (AUTH.md §2.3), comparing whole seconds with `login < mtime`. A session that logged
/// in during the current second must lose too, so the mtime is set to the *next* second,
/// and the call returns only once the clock has reached it: every login after this call
/// gets a timestamp that is not older than the file.
pub fn write_password_hash(root: &Path, id: &str, hash: &str) -> Result<(), Error> {
    let path = account_file(root, id, ".htpasswd")?;
    let rest = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.split_once('\n').map(|(_, r)| r.to_string()));
    let body = match rest {
        Some(r) if !r.trim().is_empty() => format!("{hash}\n{r}"),
        _ => hash.to_string(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| Error::internal(e.to_string()))?;
    let stamp = UNIX_EPOCH + Duration::from_secs(now.as_secs() + 1);
    crate::store::write_atomic_with_mtime(&path, body.as_bytes(), Some(stamp))
        .map_err(|e| Error::internal(e.to_string()))?;
    if let Ok(wait) = stamp.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
    Ok(())
}

/// Changes the value of one key of `index.php`, keeping the others (and unknown keys).
pub fn set_field(root: &Path, id: &str, key: &str, value: Option<&str>) -> Result<(), Error> {
    set_fields(root, id, &[(key, value)])
}

/// Changes several keys of `index.php` in one rewrite; existing keys keep their position,
/// new ones are appended, unknown keys are kept.
pub fn set_fields(root: &Path, id: &str, fields: &[(&str, Option<&str>)]) -> Result<(), Error> {
    let path = account_file(root, id, "index.php")?;
    let src = std::fs::read_to_string(&path).map_err(|e| Error::internal(e.to_string()))?;
    let mut v = php_array::parse_file(&src).map_err(|e| Error::internal(e.to_string()))?;
    for (key, value) in fields {
        v.insert(
            *key,
            value.map(|s| Value::Str(s.into())).unwrap_or(Value::Null),
        );
    }
    write_atomic(&path, php_array::write_file(&v).as_bytes())
        .map_err(|e| Error::internal(e.to_string()))
}

/// Deletes an account folder.
pub fn delete(root: &Path, id: &str) -> Result<(), Error> {
    if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
        return Err(Error::user_not_found(id));
    }
    std::fs::remove_dir_all(accounts_dir(root).join(id)).map_err(|e| Error::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert_eq!(check_email(" Ada@Example.com ").unwrap(), "ada@example.com");
        assert!(check_email("nope").is_err());
        assert!(check_email("a b@x.org").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(1001)).is_err());
        assert!(check_password("long-enough").is_ok());
        let id = new_id();
        assert_eq!(id.len(), 8);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn kirby_rules() {
        let e = check_password(&"x".repeat(1001)).unwrap_err();
        assert_eq!(e.key(), Some("error.user.password.excessive"));
        assert!(check_password(&"x".repeat(1000)).is_ok());
        assert!(check_language("de").is_ok());
        assert!(check_language("sr@latin").is_ok());
        assert_eq!(
            check_language("xx").unwrap_err().key(),
            Some("error.user.language.invalid")
        );
        assert!(valid_id("writer01"));
        assert!(valid_id("Wr_it-er"));
        for bad in [
            "", "a b", "../x", "a/b", ".x", "kirby", "Account", "nobody", "é",
        ] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn password_hash_keeps_other_secrets_and_moves_the_timestamp() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("site/accounts/u1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".htpasswd"), "$2y$10$old\n{\"totp\":\"ABC\"}").unwrap();
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        write_password_hash(d.path(), "u1", "$2y$10$new").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join(".htpasswd")).unwrap(),
            "$2y$10$new\n{\"totp\":\"ABC\"}"
        );
        let mtime = std::fs::metadata(dir.join(".htpasswd"))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(mtime > before);
        assert!(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                >= mtime
        );
        assert!(write_password_hash(d.path(), "../u1", "x").is_err());
    }

    #[test]
    fn index_php_is_kirby_style() {
        assert_eq!(
            index_php("a@b.org", "en", None, "admin"),
            "<?php\n\nreturn [\n    'email' => 'a@b.org',\n    'language' => 'en',\n    'name' => NULL,\n    'role' => 'admin'\n];"
        );
    }
}
