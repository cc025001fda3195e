//! The parts of an HTTP request the API looks at, decoded the way Kirby decodes them:
//! the raw (undecoded) path, the query, and the request body (form fields, else JSON,
//! else a query string), with case-insensitive key lookup.

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use percent_encoding::percent_decode_str;
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
    /// The raw body.
    pub body: Bytes,
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
        for h in self.headers.get_all("cookie") {
            let Ok(s) = h.to_str() else { continue };
            for part in s.split(';') {
                if let Some((k, v)) = part.trim().split_once('=')
                    && k == name
                {
                    return Some(v.to_string());
                }
            }
        }
        None
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

fn form_to_value(pairs: Vec<(String, String)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !k.is_empty() {
            m.insert(k, Value::String(v));
        }
    }
    Value::Object(m)
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

/// Parses `a=1&b=x+y` with percent-decoding.
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
    }
}
