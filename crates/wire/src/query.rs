//! Query strings and path segments, decoded the way Kirby (PHP) decodes them: `+` is a
//! space in query components but not in path segments, invalid UTF-8 is replaced, and a
//! model id in a route uses `+` (or a space) for `/`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Parses `a=1&b=x+y` with percent-decoding, in order (empty pairs are skipped).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Decodes `+` and percent escapes (invalid UTF-8 is replaced).
pub fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_decode_str(&s).decode_utf8_lossy().into_owned()
}

/// Decodes percent escapes only (no `+` → space), as for file names in paths.
pub fn decode_path_segment(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What [`encode_component`] escapes: everything but `A-Za-z0-9-._~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query component (the inverse of [`decode_component`]).
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Builds a query string from pairs (the inverse of [`parse_query`] for non-empty names).
pub fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Kirby's `(:any)` route placeholder: one non-empty segment of these characters.
pub fn is_any_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-%= +@()".contains(&b))
}

/// The model id a route segment names: `blog+first-light` (or `blog first-light`) is
/// `blog/first-light`.
pub fn model_id(segment: &str) -> String {
    segment.replace(['+', ' '], "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        assert_eq!(
            parse_query("q=harbor+map&select=id%2Ctitle&x"),
            vec![
                ("q".into(), "harbor map".into()),
                ("select".into(), "id,title".into()),
                ("x".into(), "".into())
            ]
        );
        assert_eq!(decode_path_segment("..%2F..%2Fblog.txt"), "../../blog.txt");
        let pairs = vec![
            ("a b".to_string(), "c&d=e+f%".to_string()),
            ("ü".to_string(), String::new()),
        ];
        assert_eq!(parse_query(&encode_query(&pairs)), pairs);
    }

    #[test]
    fn ids_and_segments() {
        assert_eq!(model_id("blog+first-light"), "blog/first-light");
        assert!(is_any_segment("blog+first-light"));
        assert!(is_any_segment("..+..+etc"));
        assert!(!is_any_segment("a:b"));
        assert!(!is_any_segment(""));
    }
}
