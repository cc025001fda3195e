//! `/assets/...`: the site's static files from `<root>/assets/`, served safely. Every path
//! segment is percent-decoded and must be a plain name (no `..`, `.`, hidden files, `/` or
//! `\` smuggled in by encoding, no control characters); the resolved file must be a regular
//! file that stays inside the assets folder after following symlinks. Every refusal is the
//! same 404 as a missing file. Files get their type by extension, `nosniff`, an `ETag` (304
//! on `If-None-Match`), `Last-Modified` and a short public `Cache-Control`.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::SiteReq as Req;
use crate::app::App;

/// The one 404 every refused or missing asset gets.
fn not_found() -> Response {
    let mut r = Response::new(Body::from("Not found"));
    *r.status_mut() = StatusCode::NOT_FOUND;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The content type of an asset, by extension (`application/octet-stream` when unknown).
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "css" => "text/css; charset=UTF-8",
        "js" | "mjs" => "text/javascript; charset=UTF-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "html" | "htm" => "text/html; charset=UTF-8",
        "txt" => "text/plain; charset=UTF-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Decodes the raw path below `/assets/` into plain segments, or `None` when any segment
/// is not a plain file or folder name.
pub fn safe_segments(raw: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for seg in raw.split('/') {
        let decoded = percent_decode_str(seg).decode_utf8().ok()?;
        let ok = !decoded.is_empty()
            && !decoded.starts_with('.')
            && !decoded
                .chars()
                .any(|c| c == '/' || c == '\\' || c == ':' || c.is_control());
        if !ok {
            return None;
        }
        out.push(decoded.into_owned());
    }
    Some(out)
}

/// The file an asset URL names, when it is a regular file inside the assets folder.
fn resolve(assets: &Path, raw: &str) -> Option<(PathBuf, std::fs::Metadata)> {
    let segs = safe_segments(raw)?;
    let base = std::fs::canonicalize(assets).ok()?;
    let mut path = base.clone();
    for s in &segs {
        path.push(s);
    }
    // Follow symlinks, then insist on staying inside the assets folder.
    let real = std::fs::canonicalize(&path).ok()?;
    if !real.starts_with(&base) {
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    meta.is_file().then_some((real, meta))
}

/// Serves `/assets/...`; `None` when the path is not below `/assets/`.
pub async fn serve(app: &App, req: &Req) -> Option<Response> {
    let rest = req.path.strip_prefix("/assets/")?;
    Some(serve_dir(app.root.join("assets"), rest, req).await)
}

/// Serves a file below `dir` (a `folio.static` mount, e.g. a headless front-end's build),
/// with the same checks as `/assets/`; a folder's `index.html` answers for the folder.
pub async fn serve_static(dir: PathBuf, rest: &str, req: &Req) -> Response {
    let rest = if rest.is_empty() || rest.ends_with('/') {
        format!("{rest}index.html")
    } else {
        rest.to_string()
    };
    serve_dir(dir, &rest, req).await
}

async fn serve_dir(assets: PathBuf, rest: &str, req: &Req) -> Response {
    if req.method != Method::GET && req.method != Method::HEAD {
        return not_found();
    }
    let raw = rest.to_string();
    let found = tokio::task::spawn_blocking(move || resolve(&assets, &raw))
        .await
        .ok()
        .flatten();
    let Some((path, meta)) = found else {
        return not_found();
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let etag = format!("\"{:x}-{:x}\"", mtime.as_nanos(), meta.len());
    let cached = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if cached {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else if req.method == Method::HEAD {
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
        r
    } else {
        match tokio::fs::read(&path).await {
            Ok(bytes) => Response::new(Body::from(bytes)),
            Err(_) => return not_found(),
        }
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::ETAG, super::hv(&etag));
    h.insert(
        header::LAST_MODIFIED,
        super::hv(&crate::time::http_date(mtime.as_secs() as i64)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_segments_pass() {
        assert_eq!(
            safe_segments("css/site.css"),
            Some(vec!["css".to_string(), "site.css".to_string()])
        );
        assert_eq!(
            safe_segments("my%20file.css"),
            Some(vec!["my file.css".to_string()])
        );
        for bad in [
            "../content/site.txt",
            "%2e%2e/content/site.txt",
            "%2E%2E/content",
            "css/..%2f..%2fsite",
            "css%2f..%2f..%2fsite",
            "..%5c..%5csite",
            "css\\..\\site.css",
            ".htaccess",
            "css//site.css",
            "",
            "css/",
            "c:%5cwindows",
            "a%00b",
            "%ff",
        ] {
            assert_eq!(safe_segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(content_type("site.CSS"), "text/css; charset=UTF-8");
        assert_eq!(content_type("app.js"), "text/javascript; charset=UTF-8");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn symlinks_out_of_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let assets = dir.path().join("assets");
        std::fs::create_dir_all(assets.join("css")).unwrap();
        std::fs::write(assets.join("css/site.css"), "body{}").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        assert!(resolve(&assets, "css/site.css").is_some());
        assert!(resolve(&assets, "css").is_none(), "folders are not files");
        assert!(resolve(&assets, "missing.css").is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), assets.join("leak.txt"))
                .unwrap();
            std::os::unix::fs::symlink(dir.path(), assets.join("up")).unwrap();
            std::os::unix::fs::symlink(assets.join("css/site.css"), assets.join("alias.css"))
                .unwrap();
            assert!(resolve(&assets, "leak.txt").is_none());
            assert!(resolve(&assets, "up/secret.txt").is_none());
            assert!(
                resolve(&assets, "alias.css").is_some(),
                "links inside are fine"
            );
        }
    }
}
