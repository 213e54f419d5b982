//! The one application error. Every layer returns it; `grpc::status` maps it
//! to a `tonic::Status` with `google.rpc` details in exactly one place.

use std::fmt;

/// Machine-readable reason of an error, sent as `google.rpc.ErrorInfo.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorReason {
    /// The request is malformed; BadRequest details name the fields.
    InvalidRequest,
    /// A page token is corrupt or was issued for other request parameters.
    InvalidPageToken,
    /// The named resource does not exist.
    NotFound,
    /// A request id was reused with a different payload.
    RequestIdReused,
    /// A batch header does not match the stored batch.
    BatchHeaderMismatch,
    /// A batch item's sequence skips ahead of the one expected.
    SequenceGap,
    /// The batch ended before the item count its header announced.
    BatchIncomplete,
    /// The batch is completed; it takes no more items.
    BatchCompleted,
    /// Another stream wrote the batch meanwhile.
    BatchConcurrentStream,
    /// The server requires an API key and the call has none.
    ApiKeyRequired,
    /// The API key presented is unknown, revoked or expired.
    ApiKeyInvalid,
    /// The API key is valid but lacks the scope the RPC needs.
    ScopeMissing,
    /// The caller sent more calls a second than its limit.
    RateLimited,
    /// PostgreSQL cannot be reached or the pool is exhausted; retry later.
    DatabaseUnavailable,
    /// The server is shutting down; retry on another instance.
    ShuttingDown,
    /// A client certificate SAN is registered already and not revoked.
    CertificateRegistered,
    /// A verified client certificate carries no registered SAN, and the
    /// call has no key.
    CertificateUnregistered,
    /// The caller has as many batch streams open as its limit allows.
    TooManyStreams,
    /// A stream sent nothing for longer than the idle timeout.
    StreamIdle,
    /// A unary call ran past its deadline (the client's, capped by the server's).
    DeadlineExceeded,
    /// A bug or an unexpected failure; details are only in the server log.
    Internal,
}

impl ErrorReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 21] = [
        Self::InvalidRequest,
        Self::InvalidPageToken,
        Self::NotFound,
        Self::RequestIdReused,
        Self::BatchHeaderMismatch,
        Self::SequenceGap,
        Self::BatchIncomplete,
        Self::BatchCompleted,
        Self::BatchConcurrentStream,
        Self::ApiKeyRequired,
        Self::ApiKeyInvalid,
        Self::ScopeMissing,
        Self::RateLimited,
        Self::DatabaseUnavailable,
        Self::ShuttingDown,
        Self::CertificateRegistered,
        Self::CertificateUnregistered,
        Self::TooManyStreams,
        Self::StreamIdle,
        Self::DeadlineExceeded,
        Self::Internal,
    ];

    /// UPPER_SNAKE form used on the wire (AIP-193).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::InvalidPageToken => "INVALID_PAGE_TOKEN",
            Self::NotFound => "NOT_FOUND",
            Self::RequestIdReused => "REQUEST_ID_REUSED",
            Self::BatchHeaderMismatch => "BATCH_HEADER_MISMATCH",
            Self::SequenceGap => "SEQUENCE_GAP",
            Self::BatchIncomplete => "BATCH_INCOMPLETE",
            Self::BatchCompleted => "BATCH_COMPLETED",
            Self::BatchConcurrentStream => "BATCH_CONCURRENT_STREAM",
            Self::ApiKeyRequired => "API_KEY_REQUIRED",
            Self::ApiKeyInvalid => "API_KEY_INVALID",
            Self::ScopeMissing => "SCOPE_MISSING",
            Self::RateLimited => "RATE_LIMITED",
            Self::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            Self::ShuttingDown => "SHUTTING_DOWN",
            Self::CertificateRegistered => "CERTIFICATE_REGISTERED",
            Self::CertificateUnregistered => "CERTIFICATE_UNREGISTERED",
            Self::TooManyStreams => "TOO_MANY_STREAMS",
            Self::StreamIdle => "STREAM_IDLE",
            Self::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One malformed field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path in google.rpc.BadRequest syntax, e.g. `claim.lines[0].units`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Errors that end a request. Rule findings are not errors: they are data.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request cannot be read (INVALID_ARGUMENT).
    #[error("invalid request: {}", summarize(.violations))]
    InvalidArgument {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// The offending fields.
        violations: Vec<FieldViolation>,
    },
    /// The named resource does not exist (NOT_FOUND).
    #[error("{resource_type} {name} not found")]
    NotFound {
        /// Kind of resource, e.g. `codeSystemVersion`.
        resource_type: &'static str,
        /// Its name.
        name: String,
    },
    /// The request conflicts with stored state (FAILED_PRECONDITION).
    #[error("{message}")]
    FailedPrecondition {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// A position outside the valid range, e.g. a sequence gap (OUT_OF_RANGE).
    #[error("{message}")]
    OutOfRange {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// A concurrent change won (ABORTED); retry from the stored state.
    #[error("{message}")]
    Aborted {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// The caller is not identified (UNAUTHENTICATED).
    #[error("{message}")]
    Unauthenticated {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// The caller is identified but may not make this call (PERMISSION_DENIED).
    #[error("{message}")]
    PermissionDenied {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// The scope the call needs, sent in ErrorInfo.metadata.
        scope: &'static str,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// The caller is over its limit (RESOURCE_EXHAUSTED with RetryInfo).
    #[error("{message}")]
    ResourceExhausted {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as RetryInfo.retry_delay.
        retry_after: std::time::Duration,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// The call or stream ran out of time (DEADLINE_EXCEEDED).
    #[error("{message}")]
    DeadlineExceeded {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// Try again later (UNAVAILABLE).
    #[error("unavailable: {message}")]
    Unavailable {
        /// Sent as ErrorInfo.reason, for a client to branch on.
        reason: ErrorReason,
        /// Sent as the status message; never PHI.
        message: String,
    },
    /// A bug or an unexpected failure (INTERNAL); the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// INVALID_ARGUMENT for one field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument {
            reason: ErrorReason::InvalidRequest,
            violations: vec![FieldViolation::new(field, description)],
        }
    }

    /// INVALID_ARGUMENT for a list of fields; `None` when the list is empty.
    pub fn from_violations(violations: Vec<FieldViolation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self::InvalidArgument {
            reason: ErrorReason::InvalidRequest,
            violations,
        })
    }

    /// INTERNAL from any error.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }
}

fn summarize(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Its place in [`ErrorReason::ALL`]. The match is exhaustive, so a new
    /// reason does not compile until it is given a place, and the test
    /// below fails until `ALL` holds it there.
    fn position(reason: ErrorReason) -> usize {
        match reason {
            ErrorReason::InvalidRequest => 0,
            ErrorReason::InvalidPageToken => 1,
            ErrorReason::NotFound => 2,
            ErrorReason::RequestIdReused => 3,
            ErrorReason::BatchHeaderMismatch => 4,
            ErrorReason::SequenceGap => 5,
            ErrorReason::BatchIncomplete => 6,
            ErrorReason::BatchCompleted => 7,
            ErrorReason::BatchConcurrentStream => 8,
            ErrorReason::ApiKeyRequired => 9,
            ErrorReason::ApiKeyInvalid => 10,
            ErrorReason::ScopeMissing => 11,
            ErrorReason::RateLimited => 12,
            ErrorReason::DatabaseUnavailable => 13,
            ErrorReason::ShuttingDown => 14,
            ErrorReason::CertificateRegistered => 15,
            ErrorReason::CertificateUnregistered => 16,
            ErrorReason::TooManyStreams => 17,
            ErrorReason::StreamIdle => 18,
            ErrorReason::DeadlineExceeded => 19,
            ErrorReason::Internal => 20,
        }
    }

    #[test]
    fn all_holds_every_reason_once_in_order() {
        for (i, reason) in ErrorReason::ALL.iter().enumerate() {
            assert_eq!(position(*reason), i, "{reason}");
        }
        assert_eq!(position(ErrorReason::Internal) + 1, ErrorReason::ALL.len());
    }

    #[test]
    fn reasons_are_upper_snake_short_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for reason in ErrorReason::ALL {
            let s = reason.as_str();
            assert!(s.len() <= 63, "{s}");
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
            assert!(seen.insert(s), "{s} twice");
        }
    }

    #[test]
    fn empty_violation_list_is_no_error() {
        assert!(AppError::from_violations(Vec::new()).is_none());
        let err = AppError::from_violations(vec![FieldViolation::new("name", "required")])
            .expect("error");
        assert_eq!(err.to_string(), "invalid request: name: required");
    }
}
