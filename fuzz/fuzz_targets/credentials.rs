//! `Cookie` and `Authorization` headers: parsing never panics; Basic credentials and signed
//! session cookies round-trip; a cookie value with a wrong signature is never accepted.
#![no_main]

use folio_wire::credentials as c;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Arbitrary header values.
    let _ = c::is_basic(&text);
    if let Some((user, _)) = c::parse_basic(&text) {
        assert!(!user.contains(':'));
    }
    let _ = c::cookie(text.split('\n'), "kirby_session");
    if let Some((expiry, id, key)) = c::split_token(&text) {
        assert_eq!(format!("{expiry}.{id}.{key}"), text);
    }
    // Round trips.
    let (user, password) = text.split_at(text.floor_char_boundary(text.len() / 2));
    if !user.contains(':') {
        assert_eq!(
            c::parse_basic(&c::basic_header(user, password)),
            Some((user.to_string(), password.to_string()))
        );
    }
    let signed = c::cookie_value(&text, "KirbyHttpCookieKey");
    if !text.contains('+') && !text.to_ascii_lowercase().contains("%2b") {
        assert_eq!(c::token_from_cookie(&signed, "KirbyHttpCookieKey").as_deref(), Some(&*text));
    }
    assert!(c::token_from_cookie(&signed, "another key").is_none() || text.is_empty());
    // A value someone made up is accepted only if its signature is right.
    if let Some(token) = c::token_from_cookie(&text, "KirbyHttpCookieKey") {
        let expected = c::cookie_value(&token, "KirbyHttpCookieKey");
        let norm = text.replace("%2B", "+").replace("%2b", "+");
        assert_eq!(norm, expected.replace("%2B", "+"));
    }
});
