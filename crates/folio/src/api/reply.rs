//! What API handlers answer: [`Reply`] (Kirby's model, collection and `true` envelopes, or a
//! raw body) and [`ApiError`], Kirby's error envelope. A 5xx is logged with its cause and
//! never shows the cause to the client outside debug mode.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use folio_core::Error;

use crate::app::{JSON, envelope};

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body (ignored when `raw` is set).
    pub body: Value,
    /// A non-JSON (or pre-serialised) body with its content type.
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

    /// `{"code":200,"data":[…],"pagination":…,"status":"ok","type":"collection"}`.
    pub fn collection(data: Vec<Value>, pagination: Value) -> Self {
        Self::json(
            StatusCode::OK,
            json!({"code": 200, "data": data, "pagination": pagination, "status": "ok", "type": "collection"}),
        )
    }

    /// `{"status":"ok","message":"ok","code":200}` (a handler returning `true`).
    pub fn ok() -> Self {
        Self::json(
            StatusCode::OK,
            json!({"status": "ok", "message": "ok", "code": 200}),
        )
    }

    /// A bare JSON value (no envelope), as Kirby returns plain arrays.
    pub fn bare(v: Value) -> Self {
        Self::json(StatusCode::OK, v)
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

    /// The body bytes and content type (JSON serialised here).
    pub fn bytes(&self) -> (&'static str, bytes::Bytes) {
        match &self.raw {
            Some((ctype, b)) => (ctype, b.clone()),
            None => (
                JSON,
                bytes::Bytes::from(serde_json::to_vec(&self.body).unwrap_or_default()),
            ),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (ctype, bytes) = self.bytes();
        let mut resp = Response::new(Body::from(bytes));
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(*name, v);
            }
        }
        resp
    }
}

/// A failed API call in Kirby's envelope.
#[derive(Debug)]
pub struct ApiError {
    /// What went wrong (boxed: results stay small).
    pub err: Box<Error>,
    /// Whether debug mode adds `exception`, `file`, `line`, `route`.
    pub debug: bool,
    /// The route pattern in Kirby's form (debug mode only).
    pub route: Option<String>,
    /// The Panel language of the signed-in user, for the message (`None`: English).
    pub lang: Option<String>,
}

impl ApiError {
    /// An error outside debug mode and without a route.
    pub fn plain(err: Error) -> Self {
        ApiError {
            err: Box::new(err),
            debug: false,
            route: None,
            lang: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let bad_input = matches!(
            &*self.err,
            Error::Unexpected {
                exception: "TypeError",
                ..
            }
        );
        if bad_input {
            // Kirby's PHP TypeError on a body or query of the wrong shape: the same 500, but
            // the client's fault, so not an error of the server's.
            tracing::debug!(
                route = self.route.as_deref().unwrap_or(""),
                "malformed input answered with Kirby's 500: {}",
                self.err
            );
        } else if self.err.code() >= 500 {
            tracing::error!(
                route = self.route.as_deref().unwrap_or(""),
                "request failed with {}: {}",
                self.err.code(),
                self.err
            );
        } else {
            tracing::debug!("request refused with {}: {}", self.err.code(), self.err);
        }
        let (status, mut body) = envelope(&self.err, self.debug, self.route.as_deref());
        if self.lang.is_some()
            && let Some(serde_json::Value::String(m)) = body.get("message").cloned()
        {
            body["message"] = serde_json::Value::String(crate::app::i18n::translate(
                self.lang.as_deref(),
                self.err.key(),
                &m,
            ));
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
            body.to_string(),
        )
            .into_response()
    }
}

/// What an API handler returns.
pub type ApiResult = Result<Reply, ApiError>;

/// A panic inside a handler becomes Kirby's generic 500 (the process lives on).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!("a request handler panicked: {what}");
    let body = json!({"status": "error", "message": crate::app::UNEXPECTED, "code": 500, "key": null, "details": []});
    let mut resp = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    resp
}
