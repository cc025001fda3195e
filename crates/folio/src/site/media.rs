//! Public file URLs: `/media/pages/<page id>/<token>-<mtime>/<filename>`, `/media/site/…` and
//! `/media/users/<id>/…`, as Kirby builds them. The token (an HMAC of the file id) is the only
//! key: a wrong token is 404, an old mtime redirects (307) to the current URL. Files are served
//! with their sniffed type, `nosniff`, caching headers, and as attachments when a browser
//! could run them (HTML, SVG, XML, unknown types).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use folio_core::media::media_token;
use folio_core::model::{File, FileParent};

use super::SiteReq as Req;
use crate::app::App;
use folio_wire::query::decode_path_segment;

fn not_found() -> Response {
    let mut r = Response::new(Body::from("Not found"));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    r
}

/// Types a browser could execute or render as a document: served as downloads.
fn is_active(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.contains("html")
        || m.contains("svg")
        || m.contains("xml")
        || m.contains("javascript")
        || m == "application/octet-stream"
        || m.starts_with("text/") && m != "text/plain" && m != "text/csv"
}

/// Serves `/media/...`; `None` when the path is not a media URL at all.
pub async fn serve(app: &App, req: &Req) -> Option<Response> {
    let rest = req.path.strip_prefix("/media/")?;
    if req.method != axum::http::Method::GET && req.method != axum::http::Method::HEAD {
        return Some(not_found());
    }
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.len() < 3 || segs.iter().any(|s| s.is_empty()) {
        return Some(not_found());
    }
    let snap = app.snapshot();
    let filename = decode_path_segment(segs[segs.len() - 1]);
    let hash = segs[segs.len() - 2];
    let owner = &segs[1..segs.len() - 2];
    let parent = match segs[0] {
        "site" if owner.is_empty() => FileParent::Site,
        "pages" if !owner.is_empty() => match snap.page_by_id(&owner.join("/")) {
            Some(p) => FileParent::Page(p),
            None => return Some(not_found()),
        },
        "users" if owner.len() == 1 => match snap.users.iter().position(|u| u.id == owner[0]) {
            Some(u) => FileParent::User(u),
            None => return Some(not_found()),
        },
        _ => return Some(not_found()),
    };
    let Some((token, mtime)) = hash.split_once('-') else {
        return Some(not_found());
    };
    // Thumbnails (`name-38x.ext`, `name-300x200-crop.ext`) fall back to the original image.
    let file: Option<&File> = snap.file(parent, &filename).or_else(|| {
        let (stem, ext) = filename.rsplit_once('.')?;
        let (base, _) = stem.rsplit_once('-')?;
        snap.file(parent, &format!("{base}.{ext}"))
            .filter(|f| f.dimensions.is_some())
    });
    let Some(file) = file else {
        return Some(not_found());
    };
    let expected = media_token(&file.id, &snap.media_salt(&file.id));
    // Constant-time compare of the capability token.
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        token.as_bytes(),
        expected.as_bytes(),
    )) {
        return Some(not_found());
    }
    if mtime != file.mtime.to_string() {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
        let prefix = &req.path[..req.path.len() - rest.len()];
        let current = format!(
            "{prefix}{}/{}-{}/{}",
            segs[..segs.len() - 2].join("/"),
            token,
            file.mtime,
            segs[segs.len() - 1]
        );
        r.headers_mut()
            .insert(header::LOCATION, super::hv(&current));
        return Some(r);
    }
    let etag = format!("\"{}-{}\"", file.mtime, file.size);
    let cached = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if cached {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let path = file.path.clone();
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(_) => return Some(not_found()),
        };
        let body = if req.method == axum::http::Method::HEAD {
            Body::empty()
        } else {
            Body::from(bytes)
        };
        Response::new(body)
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, super::hv(&file.mime));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::ETAG, super::hv(&etag));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if is_active(&file.mime) {
        h.insert(
            header::CONTENT_DISPOSITION,
            super::hv(&format!(
                "attachment; filename=\"{}\"",
                file.filename.replace('"', "")
            )),
        );
        h.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_are_downloads() {
        assert!(is_active("text/html"));
        assert!(is_active("image/svg+xml"));
        assert!(is_active("application/octet-stream"));
        assert!(!is_active("image/png"));
        assert!(!is_active("text/plain"));
        assert!(!is_active("application/pdf"));
    }
}
