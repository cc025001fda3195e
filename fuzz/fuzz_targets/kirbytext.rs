//! Kirbytext and Markdown: rendering never panics, and with raw HTML off (the default) no
//! input can produce a script element, an event-handler attribute or a link with a script
//! scheme.
#![no_main]

use folio_core::kirbytext::{self, MdOptions, NoResolver};
use libfuzzer_sys::fuzz_target;

/// Decodes the character references a browser decodes in an attribute value.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e < 12);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
                }
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            }
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The scheme a browser sees in a URL (`None` for a relative URL), per the URL standard:
/// leading and trailing C0 controls and spaces are dropped, tabs and newlines removed, and
/// a scheme is an ASCII letter followed by letters, digits, `+`, `-` or `.` before a `:`.
fn browser_scheme(url: &str) -> Option<String> {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// The attributes (name, raw value) of the tag starting at `tag` (just after `<`), as a
/// browser tokenises them: quoted values are taken whole.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let b = tag.as_bytes();
    let mut i = 0;
    // The tag name.
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
        i += 1;
    }
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            return out;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
        let mut value = String::new();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let vstart;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                vstart = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vstart..i.min(b.len())]).into_owned();
                i += 1;
            } else {
                vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vstart..i]).into_owned();
            }
        }
        out.push((name, value));
    }
}

fn check(html: &str) {
    // Text is escaped, so every `<` in the output starts a real tag.
    for (i, _) in html.match_indices('<') {
        let tag = &html[i + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            !matches!(
                name.as_str(),
                "script" | "iframe" | "object" | "embed" | "svg" | "style" | "base" | "form"
            ),
            "a <{name}> element in {html}"
        );
        for (attr, value) in attributes(tag) {
            assert!(!attr.starts_with("on"), "an event handler `{attr}` in {html}");
            if matches!(attr.as_str(), "href" | "src" | "action" | "formaction") {
                let url = unescape(&value);
                if let Some(scheme) = browser_scheme(&url) {
                    assert!(
                        matches!(scheme.as_str(), "http" | "https" | "mailto" | "tel"),
                        "a {scheme}: URL in {attr}=\"{value}\" in {html}"
                    );
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = MdOptions { allow_html: false };
    check(&kirbytext::markdown(&text, opts));
    check(&kirbytext::kirbytext(&text, opts, &NoResolver));
    let _ = kirbytext::markdown(&text, MdOptions { allow_html: true });
});
