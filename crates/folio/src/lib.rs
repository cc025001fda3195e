//! Folio's server crate, in layers that import downwards only: `cli` (commands) → `http`
//! (listener, TLS, the router and its layers) → `api` and `site` (siblings: Kirby's REST API
//! and the rendered site) → `auth` (sessions, CSRF, Basic, trials) → `app` (settings, the
//! snapshot and the one write pipeline) → `folio-core` and `folio-wire`. See
//! docs/ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod http;
pub mod site;
pub mod time;
