//! The parts of an HTTP request the API looks at, decoded the way Kirby decodes them:
//! the raw (undecoded) path, the query, and the request body (form fields, else JSON,
//! else a query string), with case-insensitive key lookup. Also reading the body itself:
//! only ever after the route matched and the caller is known, within a size limit and a
//! deadline, uploads streamed to temporary files.

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::path::PathBuf;
use std::time::Duration;

use folio_core::Error;

use folio_wire::multipart;
use serde_json::{Map, Value};
use std::net::SocketAddr;

/// A request as the API sees it.
#[derive(Debug)]
pub struct Req {
    /// The effective method (after `X-HTTP-Method-Override` on POST).
    pub method: Method,
    /// The raw path, exactly as sent (not percent-decoded).
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// The raw query string (empty when there is none).
    pub raw_query: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body: empty until the route and the caller are known and the handler
    /// needs it (see [`read_bytes`]).
    pub body: Bytes,
    /// An upload form, read by [`read_form`] for the upload routes.
    pub form: Option<multipart::Form>,
    /// The socket peer.
    pub peer: SocketAddr,
    /// Whether the request arrived over HTTPS.
    pub https: bool,
}

impl Req {
    /// A query parameter (case-insensitive name, first match).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the request carried credentials of any kind (Authorization or Cookie).
    pub fn has_credentials(&self) -> bool {
        self.headers.contains_key("authorization") || self.headers.contains_key("cookie")
    }

    /// A cookie by name.
    pub fn cookie(&self, name: &str) -> Option<String> {
        folio_wire::credentials::cookie(
            self.headers
                .get_all("cookie")
                .iter()
                .filter_map(|h| h.to_str().ok()),
            name,
        )
    }

    /// Kirby's request body: form fields when the request is a form, else JSON, else a
    /// query string. Returns `Value::Object` or `Value::Array` (or an empty object).
    pub fn body(&self) -> Value {
        let ctype = self
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = String::from_utf8_lossy(&self.body);
        if ctype.starts_with("application/x-www-form-urlencoded") {
            return form_to_value(parse_query(&text));
        }
        if let Ok(v @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(&text) {
            return v;
        }
        form_to_value(parse_query(&text))
    }
}

/// Why a body was not read.
#[derive(Debug)]
pub enum BodyError {
    /// More bytes than the limit (declared or sent).
    TooLarge(usize),
    /// The body did not arrive within the deadline.
    Timeout(Duration),
    /// The connection failed while the body was read.
    Broken,
    /// The upload form could not be read.
    Form(multipart::Error),
}

impl BodyError {
    /// The error the client sees.
    pub fn to_error(&self) -> Error {
        match self {
            BodyError::TooLarge(limit) => Error::Request {
                code: 413,
                key: "error.invalidArgument",
                message: format!("The request body is too large (limit: {limit} bytes)"),
            },
            BodyError::Form(multipart::Error::FieldsTooLarge) => Error::Request {
                code: 413,
                key: "error.invalidArgument",
                message: format!(
                    "The form fields are too large (limit: {} bytes)",
                    multipart::MAX_FIELD_BYTES
                ),
            },
            BodyError::Timeout(d) => Error::Request {
                code: 408,
                key: "error.invalidArgument",
                message: format!(
                    "The request body did not arrive within {} seconds",
                    d.as_secs_f64()
                ),
            },
            BodyError::Broken => Error::Request {
                code: 400,
                key: "error.invalidArgument",
                message: "The request body could not be read".into(),
            },
            BodyError::Form(multipart::Error::Io(e)) => {
                Error::internal(format!("spooling an upload failed: {e}"))
            }
        }
    }
}

/// The `Content-Length` a request declares.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads a whole body into memory: refused at once when `Content-Length` is over `limit`,
/// stopped as soon as more than `limit` bytes arrive or `deadline` passes.
pub async fn read_bytes(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, BodyError> {
    if declared_length(headers).is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let read = async move {
        let mut body = body;
        let mut out = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > limit {
                    return Err(BodyError::TooLarge(limit));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out.freeze())
    };
    tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| BodyError::Timeout(deadline))?
}

/// Reads a `multipart/form-data` body as it arrives: file parts are written to temporary
/// files in `spool_dir` on a blocking thread, never held in memory. The same limits as
/// [`read_bytes`] apply. A body that is not multipart is not read (an empty form).
pub async fn read_form(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    deadline: Duration,
    spool_dir: PathBuf,
) -> Result<multipart::Form, BodyError> {
    let ctype = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = multipart::boundary(ctype) else {
        return Ok(multipart::Form::default());
    };
    if declared_length(headers).is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let parser = tokio::task::spawn_blocking(move || {
        let mut p = multipart::Parser::new(&boundary, &spool_dir);
        while let Some(chunk) = rx.blocking_recv() {
            p.push(&chunk)?;
        }
        p.finish()
    });
    let read = async move {
        let mut body = body;
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            if let Ok(data) = frame.into_data() {
                total += data.len();
                if total > limit {
                    return Err(BodyError::TooLarge(limit));
                }
                if tx.send(data).await.is_err() {
                    break; // the parser stopped with an error; it reports it below
                }
            }
        }
        Ok(())
    };
    let streamed = tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| BodyError::Timeout(deadline))
        .and_then(|r| r);
    // The sender is gone now (dropped with `read`), so the parser finishes.
    let parsed = parser.await.map_err(|_| BodyError::Broken)?;
    streamed?;
    parsed.map_err(BodyError::Form)
}

fn form_to_value(pairs: Vec<(String, String)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !k.is_empty() {
            m.insert(k, Value::String(v));
        }
    }
    Value::Object(m)
}

/// A whole number from a request body (`7`, `"7"`, `7.0`; missing, `null` or `""` is
/// `None`) that must lie in `min..=max`; anything else is a 400 naming the field and the
/// range, so no arithmetic on it can overflow.
pub fn whole_number(
    v: Option<&Value>,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, Error> {
    let bad = || {
        Error::invalid_argument(format!(
            "The `{name}` field must be a whole number from {min} to {max}"
        ))
    };
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(bad()),
        },
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
    };
    if (min..=max).contains(&n) {
        Ok(Some(n))
    } else {
        Err(bad())
    }
}

/// Looks a key up case-insensitively in a JSON object.
pub fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

pub use folio_wire::query::{decode_component, decode_path_segment, parse_query};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_validated() {
        use serde_json::json;
        let w = |v: Value| whole_number(Some(&v), "index", 0, 100);
        assert_eq!(w(json!(7)).unwrap(), Some(7));
        assert_eq!(w(json!("7")).unwrap(), Some(7));
        assert_eq!(w(json!(7.0)).unwrap(), Some(7));
        assert_eq!(w(json!("")).unwrap(), None);
        assert_eq!(whole_number(None, "index", 0, 1).unwrap(), None);
        for bad in [
            json!(9223372036854775807i64),
            json!(18446744073709551615u64),
            json!(-1),
            json!(1.5),
            json!("1e3"),
            json!("seven"),
            json!([1]),
            json!(true),
            json!(1e300),
        ] {
            let e = w(bad.clone()).unwrap_err();
            assert_eq!(e.code(), 400, "{bad}");
            assert!(e.to_string().contains("from 0 to 100"), "{e}");
        }
    }
}
