//! Why a call to the S3 store failed, read once from the SDK's error, so the server
//! functions and the bucket check match on the same few cases and none of them sees
//! the SDK's error types.

use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// A failed call to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store did not answer: refused connection, timeout, an answer cut short.
    Unreachable {
        operation: &'static str,
        detail: String,
    },
    /// The store answered with an S3 error.
    Refused {
        operation: &'static str,
        status: u16,
        /// S3's error code (`NoSuchUpload`, `AccessDenied`…); `NotFound` for a 404
        /// without a body, as HEAD answers.
        code: String,
        message: Option<String>,
    },
    /// Nothing was sent: no credentials to sign the request with.
    Unsigned {
        operation: &'static str,
        detail: String,
    },
    /// Nothing was sent: the request could not be built (a value out of range).
    Invalid {
        operation: &'static str,
        detail: String,
    },
}

impl StoreError {
    /// Reads an SDK error of `operation`.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let err = service.err();
                let code = match (err.code(), status) {
                    (Some(code), _) => code.to_owned(),
                    (None, 404) => "NotFound".to_owned(),
                    (None, _) => String::new(),
                };
                Self::Refused {
                    operation,
                    status,
                    code,
                    message: err.message().map(str::to_owned),
                }
            }
            // Not a connection's failure: the request could not be signed (the
            // credential chain found nothing, or an SSO session or role expired).
            SdkError::DispatchFailure(e) if e.is_other() => Self::Unsigned {
                operation,
                detail: e
                    .as_connector_error()
                    .and_then(std::error::Error::source)
                    .map(causes)
                    .unwrap_or_default(),
            },
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Self::Unreachable {
                operation,
                detail: "no connection or no answer in time".into(),
            },
            SdkError::ResponseError(e) => Self::Unreachable {
                operation,
                detail: format!("an answer that could not be read: {e:?}"),
            },
            other => Self::Invalid {
                operation,
                detail: format!("{other:?}"),
            },
        }
    }

    /// S3's error code, when the store answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// Whether the store has no such object (`NoSuchKey`, or a HEAD's bare 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self.code(), Some("NoSuchKey" | "NotFound"))
    }

    /// Whether the store refused the caller the call (403).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Refused { status: 403, .. })
    }

    /// Whether the store has no such multipart upload: aborted, completed or expired.
    pub fn is_no_such_upload(&self) -> bool {
        self.code() == Some("NoSuchUpload")
    }

    /// The operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Unreachable { operation, .. }
            | Self::Refused { operation, .. }
            | Self::Unsigned { operation, .. }
            | Self::Invalid { operation, .. } => operation,
        }
    }
}

/// An error and its causes, each said once: the SDK's errors often repeat their
/// source's words, and their `Debug` is pages long.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut said = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let words = cause.to_string();
        if !said.contains(&words) {
            said = format!("{said}: {words}");
        }
        next = cause.source();
    }
    said
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable { .. } => write!(f, "the store cannot be reached"),
            Self::Refused {
                status,
                code,
                message,
                ..
            } => {
                let code = if code.is_empty() { "error" } else { code };
                write!(f, "{code} (HTTP {status})")?;
                match message {
                    Some(message) => write!(f, ": {message}"),
                    None => Ok(()),
                }
            }
            Self::Unsigned { detail, .. } => write!(f, "no credentials to sign with: {detail}"),
            Self::Invalid { detail, .. } => write!(f, "the request could not be built: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: &str) -> StoreError {
        StoreError::Refused {
            operation: "HeadObject",
            status,
            code: code.into(),
            message: None,
        }
    }

    #[test]
    fn missing_objects_uploads_and_refusals_are_told_apart() {
        let cases = [
            (refused(404, "NotFound"), true, false, false),
            (refused(404, "NoSuchKey"), true, false, false),
            (refused(404, "NoSuchUpload"), false, true, false),
            (refused(403, "AccessDenied"), false, false, true),
            // A HEAD's 403 has no body, so no code.
            (refused(403, ""), false, false, true),
            (refused(500, ""), false, false, false),
            (
                StoreError::Unreachable {
                    operation: "HeadObject",
                    detail: String::new(),
                },
                false,
                false,
                false,
            ),
        ];
        for (err, not_found, no_such_upload, forbidden) in cases {
            assert_eq!(err.is_not_found(), not_found, "{err:?}");
            assert_eq!(err.is_no_such_upload(), no_such_upload, "{err:?}");
            assert_eq!(err.is_forbidden(), forbidden, "{err:?}");
        }
    }
}
