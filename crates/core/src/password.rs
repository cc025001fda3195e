//! Password hashing and verification (bcrypt, `$2y$` as PHP writes it). These calls are
//! CPU-heavy: async callers must run them on a blocking thread.

use std::sync::LazyLock;

static DUMMY: LazyLock<String> = LazyLock::new(|| hash("folio-dummy-password").unwrap_or_default());

/// A bcrypt hash (cost 10) of a throwaway password, verified against when the account does
/// not exist, so an unknown e-mail costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    &DUMMY
}

/// Checks a password against a bcrypt hash (`$2y$`, `$2a$`, `$2b$`). Never panics.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// Hashes a password as PHP's `password_hash` does (`$2y$`, cost 10).
pub fn hash(password: &str) -> Result<String, bcrypt::BcryptError> {
    Ok(bcrypt::hash_with_result(password, 10)?.format_for_version(bcrypt::Version::TwoY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_vectors_verify() {
        assert!(verify(
            "rasmuslerdorf",
            "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq"
        ));
        assert!(!verify(
            "nope",
            "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq"
        ));
        assert!(!verify("x", "not a hash"));
        assert!(dummy_hash().starts_with("$2y$10$"));
        assert!(!verify("guess", dummy_hash()));
    }
}
