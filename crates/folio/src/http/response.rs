//! Kirby's response envelopes (model, collection, `true`, errors) and the finishing touches
//! every response gets: JSON encoding, `Set-Cookie`, and the cache headers Kirby sends.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use folio_core::Error;

use super::{App, hv};

/// Kirby's message for non-Kirby errors outside debug mode.
pub const UNEXPECTED: &str = "An unexpected error occurred! Enable debug mode for more info: https://getkirby.com/docs/reference/system/options/debug";

/// A response before the common headers are added.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body (ignored when `raw` is set).
    pub body: Value,
    /// A non-JSON body with its content type.
    pub raw: Option<(&'static str, bytes::Bytes)>,
    /// Extra headers (e.g. `ETag`).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            body,
            raw: None,
            headers: Vec::new(),
        }
    }

    /// `{"code":200,"data":…,"status":"ok","type":"model"}`.
    pub fn model(data: Value) -> Self {
        Self::json(
            StatusCode::OK,
            json!({"code": 200, "data": data, "status": "ok", "type": "model"}),
        )
    }

    /// `{"status":"ok","message":"ok","code":200}` (a handler returning `true`).
    pub fn ok() -> Self {
        Self::json(
            StatusCode::OK,
            json!({"status": "ok", "message": "ok", "code": 200}),
        )
    }

    /// A body with another content type.
    pub fn raw(status: StatusCode, ctype: &'static str, body: impl Into<bytes::Bytes>) -> Self {
        Reply {
            status,
            body: Value::Null,
            raw: Some((ctype, body.into())),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The plain 404 for URLs outside the API (site rendering comes later).
    pub fn not_found_page() -> Self {
        Self::raw(
            StatusCode::NOT_FOUND,
            "text/html; charset=UTF-8",
            b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec(),
        )
    }
}

/// Renders an error in Kirby's envelope (with `exception`/`file`/`line`/`route` in debug).
pub fn error_reply(app: &App, err: &Error, route: Option<&str>) -> Reply {
    let code = err.code();
    let status = StatusCode::from_u16(code)
        .ok()
        .filter(|_| (400..600).contains(&code))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if matches!(err, Error::NullResult) {
        return Reply::json(
            status,
            json!({"status": "error", "message": "not found", "code": 404}),
        );
    }
    let message = match err {
        Error::Unexpected { detail, .. } => {
            if app.debug {
                detail.clone()
            } else {
                UNEXPECTED.to_string()
            }
        }
        other => other.to_string(),
    };
    let body = if app.debug {
        json!({
            "status": "error",
            "message": message,
            "code": code,
            "exception": err.exception(),
            "key": err.key(),
            "file": null,
            "line": null,
            "details": err.details(),
            "route": route,
        })
    } else {
        json!({
            "status": "error",
            "message": message,
            "code": code,
            "key": err.key(),
            "details": err.details(),
        })
    };
    Reply::json(status, body)
}

/// Adds content type, cookies and cache headers, and encodes the body.
pub fn finish(app: &App, reply: Reply, cookies: Vec<String>, had_credentials: bool) -> Response {
    let _ = app;
    let (ctype, bytes) = match reply.raw {
        Some((ctype, bytes)) => (ctype, bytes),
        None => (
            "application/json; charset=UTF-8",
            bytes::Bytes::from(serde_json::to_vec(&reply.body).unwrap_or_default()),
        ),
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = reply.status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    for (name, value) in &reply.headers {
        h.insert(*name, hv(value));
    }
    let private = had_credentials || !cookies.is_empty();
    for c in cookies {
        h.append(header::SET_COOKIE, hv(&c));
    }
    if private {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, private"),
        );
    } else {
        h.insert(
            header::VARY,
            HeaderValue::from_static("Authorization, Cookie"),
        );
    }
    resp
}

/// A panic inside a handler becomes Kirby's generic 500 (the process lives on).
pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let body =
        json!({"status": "error", "message": UNEXPECTED, "code": 500, "key": null, "details": []});
    let mut resp = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    resp
}
