//! Errors as JSON with a stable code: `{"error": {"code": …, "message": …}}`, plus
//! `"decision": "deny"` on the decision endpoint, so a client that reads only the
//! decision never reads an allow from a failure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed API call.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (docs/serve.md lists them).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Where in the request body, when the error is about one place (a JSON path).
    pub path: Option<String>,
    /// Whether the body also says `"decision": "deny"` (the decision endpoint's errors).
    pub deny: bool,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), path: None, deny: false }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The same error, saying where.
    pub fn at(mut self, path: impl Into<String>) -> ApiError {
        let path = path.into();
        self.path = (!path.is_empty()).then_some(path);
        self
    }

    /// The same error, answering `"decision": "deny"` too.
    pub fn denying(mut self) -> ApiError {
        self.deny = true;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(path), Some(object)) = (&self.path, error.as_object_mut()) {
            object.insert("path".to_owned(), json!(path));
        }
        if self.deny { json!({ "decision": "deny", "error": error }) } else { json!({ "error": error }) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
