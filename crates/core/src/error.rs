//! The one error type of Folio. Each variant mirrors a Kirby exception class and carries
//! Kirby's error `key` (e.g. `error.page.notFound`), so the HTTP layer can render Kirby's
//! error envelope without knowing where the error came from.

use serde_json::Value;

/// A Kirby-style error: the exception class decides the HTTP status, `key` and `message`
/// are what clients see, `details` is extra structured data (Kirby renders an empty one as `[]`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// `Kirby\Exception\NotFoundException` (404).
    #[error("{message}")]
    NotFound { key: &'static str, message: String },
    /// `Kirby\Exception\PermissionException` (403).
    #[error("{message}")]
    Permission { key: &'static str, message: String },
    /// A `PermissionException` that carries details (403), e.g. a draft whose fields or
    /// sections keep it from being published.
    #[error("{message}")]
    Refused {
        key: &'static str,
        message: String,
        details: Value,
    },
    /// `Kirby\Exception\AuthException` (401).
    #[error("{message}")]
    Auth { key: &'static str, message: String },
    /// `Kirby\Exception\InvalidArgumentException` (400).
    #[error("{message}")]
    InvalidArgument {
        key: &'static str,
        message: String,
        details: Value,
    },
    /// `Kirby\Exception\BadMethodCallException` (400): a query asks a value for a member
    /// it does not have.
    #[error("{message}")]
    BadMethodCall { key: &'static str, message: String },
    /// `Kirby\Exception\DuplicateException` (400).
    #[error("{message}")]
    Duplicate { key: &'static str, message: String },
    /// `Kirby\Exception\LogicException` (400).
    #[error("{message}")]
    Logic { key: &'static str, message: String },
    /// `Kirby\Content\LockedContentException` (423): another user's changes lock the
    /// model; `details` describe the lock.
    #[error("{message}")]
    Locked {
        key: &'static str,
        message: String,
        details: Value,
    },
    /// `Kirby\Exception\ErrorPageException` (404), e.g. pagination past the end.
    #[error("{message}")]
    ErrorPage { key: &'static str, message: String },
    /// A conditional write (`If-Match`) whose precondition no longer holds: 412.
    #[error("{message}")]
    Precondition { key: &'static str, message: String },
    /// A backing service (session or trial store) is down: 503, fail closed.
    #[error("{message}")]
    Unavailable { key: &'static str, message: String },
    /// The file on disk changed since the snapshot a write was based on (an edit outside
    /// Folio not yet picked up): 409, nothing written (beyond Kirby).
    #[error("{message}")]
    Conflict { key: &'static str, message: String },
    /// A request Folio refuses before any handler runs (a body over the size limit, a body
    /// that stalls): the status is given, the message is always shown (beyond Kirby).
    #[error("{message}")]
    Request {
        code: u16,
        key: &'static str,
        message: String,
    },
    /// A Kirby API handler returning `null`: `{"status":"error","message":"not found","code":404}`.
    #[error("not found")]
    NullResult,
    /// A non-Kirby failure (router miss, type error, I/O). Clients see Kirby's generic
    /// "unexpected error" text unless debug mode is on; `detail` is never shown otherwise.
    #[error("{detail}")]
    Unexpected {
        code: u16,
        exception: &'static str,
        detail: String,
    },
}

/// Result alias used across the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// HTTP status code, as Kirby's exception classes define it.
    pub fn code(&self) -> u16 {
        match self {
            Error::NotFound { .. } | Error::ErrorPage { .. } | Error::NullResult => 404,
            Error::Permission { .. } | Error::Refused { .. } => 403,
            Error::Auth { .. } => 401,
            Error::InvalidArgument { .. }
            | Error::BadMethodCall { .. }
            | Error::Duplicate { .. }
            | Error::Logic { .. } => 400,
            Error::Unexpected { code, .. } => *code,
            Error::Unavailable { .. } => 503,
            Error::Precondition { .. } => 412,
            Error::Conflict { .. } => 409,
            Error::Locked { .. } => 423,
            Error::Request { code, .. } => *code,
        }
    }

    /// Kirby's error key (`null` for non-Kirby errors).
    pub fn key(&self) -> Option<&'static str> {
        match self {
            Error::NotFound { key, .. }
            | Error::Permission { key, .. }
            | Error::Refused { key, .. }
            | Error::Auth { key, .. }
            | Error::InvalidArgument { key, .. }
            | Error::BadMethodCall { key, .. }
            | Error::Duplicate { key, .. }
            | Error::Logic { key, .. }
            | Error::ErrorPage { key, .. }
            | Error::Unavailable { key, .. }
            | Error::Precondition { key, .. }
            | Error::Conflict { key, .. }
            | Error::Locked { key, .. }
            | Error::Request { key, .. } => Some(key),
            Error::NullResult | Error::Unexpected { .. } => None,
        }
    }

    /// The PHP exception class Kirby would name in debug mode.
    pub fn exception(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "Kirby\\Exception\\NotFoundException",
            Error::Permission { .. } | Error::Refused { .. } => {
                "Kirby\\Exception\\PermissionException"
            }
            Error::Auth { .. } => "Kirby\\Exception\\AuthException",
            Error::InvalidArgument { .. } => "Kirby\\Exception\\InvalidArgumentException",
            Error::BadMethodCall { .. } => "Kirby\\Exception\\BadMethodCallException",
            Error::Duplicate { .. } => "Kirby\\Exception\\DuplicateException",
            Error::Logic { .. } => "Kirby\\Exception\\LogicException",
            Error::ErrorPage { .. } => "Kirby\\Exception\\ErrorPageException",
            Error::Locked { .. } => "Kirby\\Content\\LockedContentException",
            Error::NullResult => "",
            Error::Unavailable { .. }
            | Error::Precondition { .. }
            | Error::Conflict { .. }
            | Error::Request { .. } => "Kirby\\Exception\\Exception",
            Error::Unexpected { exception, .. } => exception,
        }
    }

    /// Structured details (`[]` when empty, as PHP serialises an empty array).
    pub fn details(&self) -> Value {
        match self {
            Error::InvalidArgument { details, .. }
            | Error::Locked { details, .. }
            | Error::Refused { details, .. } => details.clone(),
            _ => Value::Array(Vec::new()),
        }
    }

    /// 404 for a page that does not exist or that the actor may not access.
    pub fn page_not_found(id: &str) -> Self {
        Error::NotFound {
            key: "error.page.notFound",
            message: format!("The page \"{id}\" cannot be found"),
        }
    }

    /// 404 for a file that does not exist or that the actor may not access.
    pub fn file_not_found(filename: &str) -> Self {
        Error::NotFound {
            key: "error.file.notFound",
            message: format!("The file \"{filename}\" cannot be found"),
        }
    }

    /// 404 for a user that does not exist or that the actor may not access.
    pub fn user_not_found(id: &str) -> Self {
        Error::NotFound {
            key: "error.user.notFound",
            message: format!("The user \"{id}\" cannot be found"),
        }
    }

    /// 404 for an unknown or inaccessible role.
    pub fn role_not_found(name: &str) -> Self {
        Error::NotFound {
            key: "error.role.notFound",
            message: format!("The role \"{name}\" cannot be found"),
        }
    }

    /// A 400 `error.invalidArgument` with a custom message.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            key: "error.invalidArgument",
            message: message.into(),
            details: Value::Array(Vec::new()),
        }
    }

    /// The router's "no route found" error (a plain PHP `Exception`, so `key` is null).
    pub fn no_route(path: &str, method: &str) -> Self {
        Error::Unexpected {
            code: 404,
            exception: "Exception",
            detail: format!("No route found for path: \"{path}\" and request method: \"{method}\""),
        }
    }

    /// An internal failure (500) whose detail is only shown in debug mode.
    pub fn internal(detail: impl Into<String>) -> Self {
        Error::Unexpected {
            code: 500,
            exception: "Exception",
            detail: detail.into(),
        }
    }
}
