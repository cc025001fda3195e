//! Credentials on the wire: `Cookie` header lookups, HTTP Basic (`Authorization: Basic`),
//! Kirby's session token `expiry.id.key` and its signed cookie value
//! `HMAC-SHA1(token, cookie.key)` + `+` + token.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The value of cookie `name` in a list of `Cookie` header values (first match).
pub fn cookie<'a, I>(headers: I, name: &str) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    for h in headers {
        for part in h.split(';') {
            if let Some((k, v)) = part.trim().split_once('=')
                && k == name
            {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Whether an Authorization value uses the Basic scheme (`Basic` alone counts: HTTP strips
/// the trailing space of an empty `Basic `).
pub fn is_basic(h: &str) -> bool {
    let h = h.trim();
    h.len() >= 5
        && h.as_bytes()[..5].eq_ignore_ascii_case(b"basic")
        && (h.len() == 5 || h.as_bytes()[5] == b' ')
}

/// Splits a Basic header value into (e-mail, password).
pub fn parse_basic(value: &str) -> Option<(String, String)> {
    use base64::Engine;
    let b64 = value.trim().get(5..)?.trim();
    if b64.is_empty() {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The `Authorization` value for Basic credentials (the inverse of [`parse_basic`]).
pub fn basic_header(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Splits and checks a session token `expiry.id.key`: a canonical integer expiry, 20 hex
/// digits of id and 64 of key.
pub fn split_token(token: &str) -> Option<(i64, &str, &str)> {
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

/// The cookie value for a token: `HMAC-SHA1(token, cookie.key)` + `+` (encoded `%2B`) +
/// token, as Kirby writes it.
pub fn cookie_value(token: &str, cookie_key: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(cookie_key.as_bytes()).expect("any key length");
    mac.update(token.as_bytes());
    format!("{}%2B{}", hex::encode(mac.finalize().into_bytes()), token)
}

/// Extracts the token from a cookie value, checking its signature (`+` or `%2B`) in
/// constant time.
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

    #[test]
    fn basic_header_parsing() {
        assert_eq!(
            parse_basic("Basic YWRtaW5AZXhhbXBsZS5jb206cGFzczp3b3Jk"),
            Some(("admin@example.com".into(), "pass:word".into()))
        );
        assert_eq!(parse_basic("Basic %%%not-base64%%%"), None);
        assert_eq!(
            parse_basic("Basic YWRtaW5AZXhhbXBsZS5jb20="),
            None,
            "no colon"
        );
        assert_eq!(parse_basic("Basic "), None);
        assert_eq!(parse_basic("Basic /w=="), None, "not UTF-8");
        assert_eq!(
            parse_basic(&basic_header("a@b.c", "p:w")),
            Some(("a@b.c".into(), "p:w".into()))
        );
        assert!(is_basic("basic abc") && is_basic("Basic") && !is_basic("Basicx"));
        assert!(!is_basic("Bäsic x"), "non-ASCII never panics");
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

    #[test]
    fn cookie_lookup_and_tokens() {
        assert_eq!(
            cookie(["a=1; kirby_session=x%2By", "b=2"], "kirby_session").as_deref(),
            Some("x%2By")
        );
        assert_eq!(cookie(["a=1"], "b"), None);
        let t = format!("123.{}.{}", "a".repeat(20), "b".repeat(64));
        assert!(split_token(&t).is_some());
        assert!(
            split_token(&format!("0{t}")).is_none(),
            "non-canonical expiry"
        );
        assert!(split_token("1.2.3").is_none());
    }
}
