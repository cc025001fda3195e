//! A small `multipart/form-data` parser for uploads, reading the body the way PHP fills
//! `$_POST` and `$_FILES`: parts with a `filename` are files, the others plain fields; a
//! later part with the same name replaces an earlier one (keeping its position), and names
//! ending in `[]` (PHP arrays) are left out. Malformed input never panics: parsing stops at
//! the first part that is not complete, and whatever was read before is returned.

use bytes::Bytes;
use indexmap::IndexMap;

/// At most this many parts are read from one body.
const MAX_PARTS: usize = 1000;
/// At most this many bytes of headers per part.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// The client's file name, reduced to its base name like PHP does (may be empty when
    /// the form's file input was left empty).
    pub filename: String,
    /// The file's bytes.
    pub data: Bytes,
}

/// A parsed form.
#[derive(Debug, Clone, Default)]
pub struct Form {
    /// Plain fields by name (last value wins).
    pub fields: IndexMap<String, String>,
    /// Files by field name (last part wins, at the first part's position).
    pub files: IndexMap<String, FilePart>,
    /// How many file parts were left out because their name is a PHP array (`name[]`).
    pub array_files: usize,
}

impl Form {
    /// A plain field, looked up case-insensitively like Kirby's `requestBody()`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let media = parts.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            if !v.is_empty() && v.len() <= 200 {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Parses a request body with the given `Content-Type`. Anything that is not a
/// well-formed multipart body yields an empty (or partial) form.
pub fn parse(content_type: &str, body: &Bytes) -> Form {
    let mut form = Form::default();
    let Some(boundary) = boundary(content_type) else {
        return form;
    };
    for part in parts(body, boundary.as_bytes()) {
        let Some(disposition) = part.header("content-disposition") else {
            continue;
        };
        let params = disposition_params(disposition);
        let Some(name) = params
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone())
        else {
            continue;
        };
        if name.ends_with("[]") && params.iter().any(|(k, _)| k == "filename") {
            form.array_files += 1;
            continue;
        }
        if name.is_empty() || name.ends_with("[]") {
            continue;
        }
        match params.iter().find(|(k, _)| k == "filename") {
            Some((_, filename)) => {
                let base = filename
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                // The part's own Content-Type is never trusted: the bytes are sniffed.
                let file = FilePart {
                    filename: base,
                    data: part.data,
                };
                form.files.insert(name, file);
            }
            None => {
                let value = String::from_utf8_lossy(&part.data).into_owned();
                form.fields.insert(name, value);
            }
        }
    }
    form
}

/// One raw part: its headers (lowercase names) and body.
struct RawPart {
    headers: Vec<(String, String)>,
    data: Bytes,
}

impl RawPart {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits a body into its parts.
fn parts(body: &Bytes, boundary: &[u8]) -> Vec<RawPart> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let mut out = Vec::new();
    // The first delimiter starts the body or a line (anything before it is preamble).
    let mut pos = match find(body, &delim, 0) {
        Some(0) => delim.len(),
        Some(_) => {
            let mut nl = b"\n".to_vec();
            nl.extend_from_slice(&delim);
            match find(body, &nl, 0) {
                Some(p) => p + nl.len(),
                None => return out,
            }
        }
        None => return out,
    };
    let mut next_delim = b"\r\n".to_vec();
    next_delim.extend_from_slice(&delim);
    while out.len() < MAX_PARTS {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            break;
        }
        // Transport padding, then the line break after the delimiter.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let after = &rest[pad..];
        let skip = if after.starts_with(b"\r\n") {
            2
        } else if after.starts_with(b"\n") {
            1
        } else {
            break;
        };
        let header_start = pos + pad + skip;
        let Some((header_end, data_start)) = header_block(body, header_start) else {
            break;
        };
        if header_end - header_start > MAX_HEADER_BYTES {
            break;
        }
        let headers = parse_headers(&body[header_start..header_end]);
        // The part ends at the next CRLF + delimiter (a bare LF is accepted too).
        let (data_end, next) = match find_delimiter(body, &next_delim, data_start) {
            Some(p) => (p, p + next_delim.len()),
            None => {
                let mut lf = b"\n".to_vec();
                lf.extend_from_slice(&delim);
                match find_delimiter(body, &lf, data_start) {
                    Some(p) => (p, p + lf.len()),
                    None => break,
                }
            }
        };
        out.push(RawPart {
            headers,
            data: body.slice(data_start..data_end),
        });
        pos = next;
    }
    out
}

/// The next delimiter line: the delimiter followed by `--`, padding or a line break (so a
/// boundary that merely prefixes other text inside the data does not end the part).
fn find_delimiter(body: &[u8], delim: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let p = find(body, delim, at)?;
        let after = &body[p + delim.len()..];
        if after.is_empty()
            || after.starts_with(b"--")
            || matches!(after[0], b'\r' | b'\n' | b' ' | b'\t')
        {
            return Some(p);
        }
        at = p + 1;
    }
}

/// The end of a part's header block and the start of its data.
fn header_block(body: &[u8], start: usize) -> Option<(usize, usize)> {
    // An empty header block: the data starts right after a blank line.
    if body[start..].starts_with(b"\r\n") {
        return Some((start, start + 2));
    }
    if body[start..].starts_with(b"\n") {
        return Some((start, start + 1));
    }
    let crlf = find(body, b"\r\n\r\n", start).map(|p| (p, p + 4));
    let lf = find(body, b"\n\n", start).map(|p| (p, p + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_headers(block: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(block)
        .split('\n')
        .filter_map(|line| {
            let (k, v) = line.trim_end_matches('\r').split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b"`),
/// names lowercased, quoted values unescaped (`\"` → `"`).
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    // Skip the disposition type.
    while i < chars.len() && chars[i] != ';' {
        i += 1;
    }
    while i < chars.len() {
        // At a `;`: read `name=value`.
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut name = String::new();
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            name.push(chars[i]);
            i += 1;
        }
        let name = name.trim().to_ascii_lowercase();
        let mut val = String::new();
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    val.push(chars[i]);
                    i += 1;
                }
                // Skip the closing quote and anything up to the next `;`.
                while i < chars.len() && chars[i] != ';' {
                    i += 1;
                }
            } else {
                while i < chars.len() && chars[i] != ';' {
                    val.push(chars[i]);
                    i += 1;
                }
                val = val.trim().to_string();
            }
        }
        if !name.is_empty() {
            out.push((name, val));
        }
    }
    out
}

/// The first position of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() || hay.len() - from < needle.len() {
        return None;
    }
    let first = needle[0];
    let last_start = hay.len() - needle.len();
    let mut i = from;
    while i <= last_start {
        match hay[i..=last_start].iter().position(|b| *b == first) {
            Some(off) => {
                let at = i + off;
                if &hay[at..at + needle.len()] == needle {
                    return Some(at);
                }
                i = at + 1;
            }
            None => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    fn body(s: &str) -> Bytes {
        Bytes::from(s.as_bytes().to_vec())
    }

    #[test]
    fn fields_and_files() {
        let b = body(
            "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"template\"\r\n\r\nimage\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file1\"; filename=\"../../a b.md\"\r\nContent-Type: text/markdown\r\n\r\nA\r\n--XyZa\r\nx\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"list[]\"; filename=\"x.png\"\r\n\r\nX\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file2\"; filename=\"b\\\"q.md\"\r\n\r\nB\r\n--XyZ--\r\n",
        );
        let f = parse(CT, &b);
        assert_eq!(f.field("TEMPLATE"), Some("image"));
        let names: Vec<_> = f.files.keys().cloned().collect();
        assert_eq!(names, ["file1", "file2"]);
        assert_eq!(f.array_files, 1);
        assert_eq!(f.files["file1"].filename, "a b.md");
        assert_eq!(&f.files["file1"].data[..], b"A\r\n--XyZa\r\nx");
        assert_eq!(f.files["file2"].filename, "b\"q.md");
    }

    #[test]
    fn same_name_last_wins() {
        let b = body(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n\r\nA\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.md\"\r\n\r\nB\r\n--XyZ--",
        );
        let f = parse(CT, &b);
        assert_eq!(f.files.len(), 1);
        assert_eq!(f.files["file"].filename, "b.md");
    }

    #[test]
    fn malformed_bodies_never_panic() {
        let cases = [
            "",
            "--XyZ",
            "--XyZ--",
            "--XyZ\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a; filename=\"x\r\n\r\nv\r\n--XyZ--",
            "--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nv\r\n--XyZ--",
            "garbage --XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--",
            "--XyZx\r\n\r\n",
            "\u{00ff}\u{0000}--XyZ\r\n\r\n\r\n--XyZ\r\n",
        ];
        for c in cases {
            let _ = parse(CT, &body(c));
        }
        let f = parse(
            CT,
            &body("garbage\n--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--"),
        );
        assert_eq!(f.field("a"), Some("v"));
        let f = parse(
            CT,
            &body("garbage --XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--"),
        );
        assert!(f.fields.is_empty(), "a delimiter must start a line");
        assert!(parse("application/json", &body("--XyZ")).files.is_empty());
        assert!(boundary("multipart/form-data").is_none());
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn every_prefix_of_a_body_parses() {
        let full = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u{0}\u{1}PNG\r\n--XyZ--\r\n";
        for i in 0..=full.len() {
            if full.is_char_boundary(i) {
                let _ = parse(CT, &body(&full[..i]));
            }
        }
    }
}
