//! Permissions: every route, for every role.

mod crawl;
mod kql;
