//! Facts about file bytes and media URLs: Kirby's file types by extension, MIME sniffing,
//! image dimensions, human-readable sizes and the `/media/...` URL token.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const TYPES: [(&str, &[&str]); 6] = [
    (
        "image",
        &[
            "ai", "avif", "bmp", "gif", "eps", "ico", "j2k", "jp2", "jpeg", "jpg", "jpe", "png",
            "ps", "psd", "svg", "tif", "tiff", "webp", "heic",
        ],
    ),
    (
        "document",
        &[
            "csv", "doc", "docx", "dotx", "indd", "md", "mdown", "odt", "odp", "ods", "pdf",
            "potx", "ppsx", "ppt", "pptx", "rtf", "txt", "xl", "xls", "xlsx", "xltx",
        ],
    ),
    ("archive", &["gz", "gzip", "tar", "tgz", "zip", "rar", "7z"]),
    (
        "code",
        &[
            "css", "js", "json", "java", "htm", "html", "php", "rb", "py", "scss", "xml", "yaml",
            "yml",
        ],
    ),
    (
        "video",
        &[
            "avi", "flv", "m4v", "mov", "movie", "mpe", "mpg", "mp4", "ogg", "ogv", "swf", "webm",
        ],
    ),
    ("audio", &["aif", "aiff", "m4a", "midi", "mp3", "wav"]),
];

/// Kirby's file type for an extension (`image`, `document`, ...), or `None`.
pub fn file_type(extension: &str) -> Option<&'static str> {
    let ext = extension.to_ascii_lowercase();
    TYPES
        .iter()
        .find(|(_, exts)| exts.contains(&ext.as_str()))
        .map(|(t, _)| *t)
}

/// Sniffs a MIME type from the file's first bytes, with Kirby's extension fixes.
pub fn sniff_mime(bytes: &[u8], extension: &str) -> String {
    let ext = extension.to_ascii_lowercase();
    if let Some(kind) = infer::get(bytes) {
        let m = kind.mime_type();
        // Office documents are zip containers; trust the extension there.
        if m == "application/zip"
            && let Some(x) = by_extension(&ext).filter(|x| x.starts_with("application/vnd"))
        {
            return x.to_string();
        }
        return m.to_string();
    }
    if looks_like_svg(bytes) {
        return "image/svg+xml".into();
    }
    if bytes.len() > 1 && is_text(bytes) {
        return match ext.as_str() {
            "csv" => "text/csv",
            "css" => "text/css",
            "js" | "mjs" => "text/javascript",
            "json" => "application/json",
            "html" | "htm" => "text/html",
            "xml" => "text/xml",
            _ => "text/plain",
        }
        .into();
    }
    "application/octet-stream".into()
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    head.contains("<svg")
}

fn is_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.contains(&0) {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A character cut off by the end of the sample is still text.
        Err(e) => e.error_len().is_none() && sample.len() < bytes.len(),
    }
}

/// Extensions and their MIME types in the order upload `accept` attributes list them
/// (alphabetical, JPEG's spellings as `jpg`, `jpeg`, `jpe`).
pub const MIME_TABLE: &[(&str, &str)] = &[
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ico", "image/x-icon"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("jpe", "image/jpeg"),
    ("js", "application/javascript"),
    ("json", "application/json"),
    ("md", "text/markdown"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("ogg", "audio/ogg"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("txt", "text/plain"),
    ("wav", "audio/wav"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xml", "text/xml"),
    ("zip", "application/zip"),
];

/// MIME type by extension (used where there are no bytes to look at).
pub fn by_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "csv" => "text/csv",
        "txt" | "md" => "text/plain",
        "json" => "application/json",
        "css" => "text/css",
        "js" => "text/javascript",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => return None,
    })
}

/// Width and height of an image, read from its header only.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    imagesize::blob_size(bytes)
        .ok()
        .map(|s| (s.width as u32, s.height as u32))
        .or_else(|| svg_dimensions(bytes))
}

/// An SVG's size as Kirby reads it: the root's `width`/`height` as integers (PHP `(int)`
/// of the attribute), falling back to the `viewBox` extent when an attribute is missing,
/// zero or a percentage.
pub fn svg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("<svg")?;
    let tag_end = text[start..].find('>')? + start;
    let tag = &text[start..tag_end];
    let attr = |name: &str| -> Option<String> {
        let mut rest = tag;
        while let Some(i) = rest.find(name) {
            let before = rest[..i].chars().last();
            let after = &rest[i + name.len()..];
            let after_trim = after.trim_start();
            if before.is_some_and(char::is_whitespace) && after_trim.starts_with('=') {
                let v = after_trim[1..].trim_start();
                let q = v.chars().next()?;
                if q == '"' || q == '\'' {
                    let end = v[1..].find(q)?;
                    return Some(v[1..=end].to_string());
                }
            }
            rest = after;
        }
        None
    };
    let php_int = |s: &str| -> i64 {
        let t = s.trim();
        let sign = usize::from(t.starts_with('-'));
        let digits: String = t[sign..].chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().unwrap_or(0);
        if sign == 1 { -n } else { n }
    };
    let raw_w = attr("width").unwrap_or_default();
    let raw_h = attr("height").unwrap_or_default();
    let mut w = php_int(&raw_w);
    let mut h = php_int(&raw_h);
    if let Some(vb) = attr("viewBox") {
        let b: Vec<i64> = vb
            .split([' ', ','])
            .filter(|x| !x.is_empty())
            .map(php_int)
            .collect();
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        if raw_w.trim_end().ends_with('%') || w == 0 {
            w = at(2) - at(0);
        }
        if raw_h.trim_end().ends_with('%') || h == 0 {
            h = at(3) - at(1);
        }
    }
    Some((u32::try_from(w).unwrap_or(0), u32::try_from(h).unwrap_or(0)))
}

/// Kirby's `niceSize`: base 1024, two decimals at most, a no-break space before the unit.
pub fn nice_size(size: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    if size == 0 {
        return "0\u{a0}KB".into();
    }
    let mut exp = 0usize;
    let mut value = size as f64;
    while value >= 1024.0 && exp < UNITS.len() - 1 {
        value /= 1024.0;
        exp += 1;
    }
    let rounded = (value * 100.0).round() / 100.0;
    let text = if rounded.fract() == 0.0 {
        format!("{}", rounded as u64)
    } else {
        let s = format!("{rounded:.2}");
        s.trim_end_matches('0').to_string()
    };
    format!("{text}\u{a0}{}", UNITS[exp])
}

/// The media URL token: the first 10 hex characters of HMAC-SHA1(file id) keyed by the salt.
pub fn media_token(file_id: &str, salt: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key");
    mac.update(file_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())[..10].to_string()
}

/// Kirby's preview token of a draft (`?_token=`): the first ten hex digits of
/// HMAC-SHA1(salt, `{"url":…,"versionId":"latest"}`), the JSON written as PHP's
/// `json_encode` with unescaped slashes (non-ASCII as `\uXXXX`).
pub fn preview_token(url: &str, salt: &str) -> String {
    let mut json = String::from("{\"url\":\"");
    for c in url.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => json.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    json.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    json.push_str("\",\"versionId\":\"latest\"}");
    media_token(&json, salt)
}

/// The orientation of an image.
pub fn orientation(w: u32, h: u32) -> &'static str {
    match w.cmp(&h) {
        std::cmp::Ordering::Greater => "landscape",
        std::cmp::Ordering::Less => "portrait",
        std::cmp::Ordering::Equal => "square",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_sizes_like_kirby() {
        assert_eq!(
            svg_dimensions(br#"<svg xmlns="x" width="40" height="20px"></svg>"#),
            Some((40, 20))
        );
        assert_eq!(
            svg_dimensions(br#"<svg viewBox="0 0 120 80" width="100%"></svg>"#),
            Some((120, 80))
        );
        assert_eq!(
            svg_dimensions(br#"<svg stroke-width="3"></svg>"#),
            Some((0, 0))
        );
        assert_eq!(svg_dimensions(b"not svg"), None);
    }

    #[test]
    fn text_cut_inside_a_character_is_still_text() {
        let mut text = "a".repeat(8191).into_bytes();
        text.extend_from_slice("é and more".as_bytes());
        assert_eq!(sniff_mime(&text, "md"), "text/plain");
        assert_eq!(
            sniff_mime(&[0xff, 0xfe, 0x41], "md"),
            "application/octet-stream"
        );
    }

    #[test]
    fn preview_tokens_match_kirby() {
        // Recorded from Kirby 5.5.2 (kirby-ml fixture, served at 127.0.0.1:18610).
        assert_eq!(
            preview_token(
                "http://127.0.0.1:18610/en/news/storm-plan",
                "brackwater-fixture-salt"
            ),
            "feff15613e"
        );
        // Non-ASCII path segments are hashed as PHP's json_encode escapes them.
        assert_eq!(
            preview_token(
                "http://127.0.0.1:18610/ar/أخبار/storm-plan",
                "brackwater-fixture-salt"
            ),
            "653a183195"
        );
    }

    #[test]
    fn media_tokens_match_kirby() {
        let salt = "saltmarsh-fixture-salt";
        assert_eq!(
            media_token("blog/tidal-charts/chart.png", salt),
            "b0d84bd2de"
        );
        assert_eq!(media_token("logo.png", salt), "d9bde073a8");
    }

    #[test]
    fn nice_sizes() {
        assert_eq!(nice_size(117), "117\u{a0}B");
        assert_eq!(nice_size(2048), "2\u{a0}KB");
        assert_eq!(nice_size(1536), "1.5\u{a0}KB");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_mime(b"# Readme\n", "md"), "text/plain");
        assert_eq!(sniff_mime(b"a", "md"), "application/octet-stream");
        assert_eq!(sniff_mime(b"a,b\n1,2\n", "csv"), "text/csv");
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n0000", "md"), "image/png");
        assert_eq!(file_type("PDF"), Some("document"));
    }
}
