//! Account management on disk in Kirby's format: `site/accounts/<id>/index.php` (a literal
//! PHP array), `.htpasswd` (a `$2y$` bcrypt hash) and `user.txt`, so real Kirby reads what
//! Folio writes. Used by the `folio user` CLI (acting as the site owner) and the users API.

use std::path::{Path, PathBuf};

use crate::format::php_array::{self, Key, Value};
use crate::snapshot::Snapshot;
use crate::store::write_atomic;
use crate::{Error, password};

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

/// Checks a new password: 8 to 1000 characters.
pub fn check_password(pw: &str) -> Result<(), Error> {
    let n = pw.chars().count();
    if (8..=1000).contains(&n) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            key: "error.user.password.invalid",
            message: "Please enter a valid password. Passwords must be at least 8 characters long."
                .into(),
            details: serde_json::Value::Array(Vec::new()),
        })
    }
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
    while accounts_dir(root).join(&id).exists() {
        id = new_id();
    }
    let dir = accounts_dir(root).join(&id);
    let io = |e: std::io::Error| Error::internal(format!("writing the account: {e}"));
    std::fs::create_dir_all(&dir).map_err(io)?;
    write_atomic(&dir.join(".htpasswd"), hash.as_bytes()).map_err(io)?;
    write_atomic(&dir.join("user.txt"), b"").map_err(io)?;
    // index.php last: an account without it is not loaded, so a crash leaves no half user.
    let php = index_php(&email, &input.language, input.name.as_deref(), &input.role);
    write_atomic(&dir.join("index.php"), php.as_bytes()).map_err(io)?;
    Ok(id)
}

/// Replaces an account's password (rewrites `.htpasswd`, which also logs out its sessions).
pub fn set_password(root: &Path, id: &str, new_password: &str) -> Result<(), Error> {
    check_password(new_password)?;
    let hash = password::hash(new_password).map_err(|e| Error::internal(e.to_string()))?;
    let path = accounts_dir(root).join(id).join(".htpasswd");
    // Keep a second line of other secrets (e.g. TOTP), as Kirby does.
    let rest = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.split_once('\n').map(|(_, r)| r.to_string()));
    let body = match rest {
        Some(r) if !r.trim().is_empty() => format!("{hash}\n{r}"),
        _ => hash,
    };
    write_atomic(&path, body.as_bytes()).map_err(|e| Error::internal(e.to_string()))
}

/// Changes the value of one key of `index.php`, keeping the others (and unknown keys).
pub fn set_field(root: &Path, id: &str, key: &str, value: Option<&str>) -> Result<(), Error> {
    let path = accounts_dir(root).join(id).join("index.php");
    let src = std::fs::read_to_string(&path).map_err(|e| Error::internal(e.to_string()))?;
    let mut v = php_array::parse_file(&src).map_err(|e| Error::internal(e.to_string()))?;
    v.insert(
        key,
        value.map(|s| Value::Str(s.into())).unwrap_or(Value::Null),
    );
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
    fn index_php_is_kirby_style() {
        assert_eq!(
            index_php("a@b.org", "en", None, "admin"),
            "<?php\n\nreturn [\n    'email' => 'a@b.org',\n    'language' => 'en',\n    'name' => NULL,\n    'role' => 'admin'\n];"
        );
    }
}
