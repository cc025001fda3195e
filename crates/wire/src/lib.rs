//! The HTTP wire formats Folio reads from clients, as pure functions with no server state:
//! `multipart/form-data` bodies (streamed to spool files), query strings and path segments
//! (Kirby's id rules), `Cookie` headers, Basic credentials, and Kirby's session tokens and
//! signed session cookies. Everything here parses untrusted input and is fuzzed (`fuzz/`).
#![forbid(unsafe_code)]

pub mod credentials;
pub mod multipart;
pub mod query;
