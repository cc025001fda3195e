//! Folio's domain crate: Kirby's on-disk formats, the models (Site, Page, File, User, Role,
//! Blueprint, Content), the immutable site snapshot, search, kirbytext and the permission
//! function `can()`.
//! It is synchronous and knows nothing about HTTP.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod actions;
pub mod blueprint;
pub mod collections;
pub mod columns;
pub mod date;
pub mod error;
pub mod fieldsets;
pub mod format;
pub mod kirbytext;
pub mod language;
pub mod matrix;
pub mod media;
pub mod model;
pub mod natsort;
pub mod password;
pub mod permissions;
pub mod query;
pub mod search;
pub mod snapshot;
pub mod store;

pub use error::{Error, Result};
pub use snapshot::{Snapshot, SnapshotOptions};
