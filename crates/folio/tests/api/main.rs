//! Folio's API and site tests in one binary: each test starts Folio in this process
//! (`App::open` and the real HTTP server on a loopback port 0) on a private copy of a site,
//! and talks to it over real sockets. Folders follow what they test: `auth/` (login,
//! sessions, Basic, CSRF), `permissions/` (every route for every role), `security/`
//! (Kirby's advisories and attacks), `render/` (templates and assets), `conformance/` (the
//! recorded Kirby scenarios), `readback.rs` (Kirby reads what Folio writes), `openapi.rs`
//! (the API description).

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod conformance;
mod disk;
mod fields;
mod languages;
mod layering;
mod lookups;
mod openapi;
mod pages;
mod permissions;
mod readback;
mod render;
mod resources;
mod security;
