//! The only conversion from [`AppError`] to `tonic::Status`: canonical code,
//! `google.rpc.ErrorInfo` on every error, plus BadRequest, ResourceInfo or
//! RetryInfo where they apply (AIP-193).

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{AppError, ErrorReason};

/// `ErrorInfo.domain` of every claimscrub error.
pub const ERROR_DOMAIN: &str = "claimscrub";

/// At most this many field violations are sent: large details overflow the
/// HTTP/2 header limit (tonic issue #1834).
pub const MAX_VIOLATIONS: usize = 20;

/// How long clients should wait before retrying an UNAVAILABLE answer.
const RETRY_DELAY: Duration = Duration::from_secs(1);

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        let mut details = ErrorDetails::new();
        let message = error.to_string();
        match &error {
            AppError::InvalidArgument { reason, violations } => {
                details.set_error_info(
                    reason.as_str(),
                    ERROR_DOMAIN,
                    HashMap::from([("violationCount".to_owned(), violations.len().to_string())]),
                );
                for violation in violations.iter().take(MAX_VIOLATIONS) {
                    details.add_bad_request_violation(&violation.field, &violation.description);
                }
                let shown: Vec<_> = violations.iter().take(MAX_VIOLATIONS).cloned().collect();
                let message = AppError::from_violations(shown).map_or(message, |e| e.to_string());
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            AppError::NotFound {
                resource_type,
                name,
            } => {
                details.set_error_info(
                    ErrorReason::NotFound.as_str(),
                    ERROR_DOMAIN,
                    HashMap::from([
                        ("resourceType".to_owned(), (*resource_type).to_owned()),
                        ("name".to_owned(), name.clone()),
                    ]),
                );
                details.set_resource_info(*resource_type, name, "", "not found");
                Status::with_error_details(Code::NotFound, message, details)
            }
            AppError::FailedPrecondition { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            AppError::OutOfRange { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::OutOfRange, message, details)
            }
            AppError::Aborted { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::Aborted, message, details)
            }
            AppError::DeadlineExceeded { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::DeadlineExceeded, message, details)
            }
            AppError::Unauthenticated { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::Unauthenticated, message, details)
            }
            AppError::ResourceExhausted {
                reason,
                retry_after,
                ..
            } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                details.set_retry_info(Some(*retry_after));
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            AppError::PermissionDenied { reason, scope, .. } => {
                details.set_error_info(
                    reason.as_str(),
                    ERROR_DOMAIN,
                    HashMap::from([("scope".to_owned(), (*scope).to_owned())]),
                );
                Status::with_error_details(Code::PermissionDenied, message, details)
            }
            AppError::Unavailable { reason, .. } => {
                details.set_error_info(reason.as_str(), ERROR_DOMAIN, HashMap::new());
                details.set_retry_info(Some(RETRY_DELAY));
                Status::with_error_details(Code::Unavailable, message, details)
            }
            AppError::Internal(cause) => {
                // The cause may hold details that must not leave the server.
                tracing::error!(error = %cause, source = ?std::error::Error::source(&**cause), "internal error");
                details.set_error_info(
                    ErrorReason::Internal.as_str(),
                    ERROR_DOMAIN,
                    HashMap::new(),
                );
                Status::with_error_details(Code::Internal, "internal error", details)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldViolation;

    #[test]
    fn invalid_argument_carries_error_info_and_field_paths() {
        let status = Status::from(AppError::invalid_field(
            "claim.lines[0].units",
            "must be a number",
        ));
        assert_eq!(status.code(), Code::InvalidArgument);
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.reason, "INVALID_REQUEST");
        assert_eq!(info.domain, ERROR_DOMAIN);
        let bad = status.get_details_bad_request().expect("bad request");
        assert_eq!(bad.field_violations[0].field, "claim.lines[0].units");
    }

    #[test]
    fn violations_are_capped() {
        let violations = (0..100)
            .map(|i| FieldViolation::new(format!("f{i}"), "bad"))
            .collect();
        let status = Status::from(AppError::from_violations(violations).expect("error"));
        assert_eq!(
            status
                .get_details_bad_request()
                .expect("details")
                .field_violations
                .len(),
            MAX_VIOLATIONS
        );
        assert_eq!(
            status.get_details_error_info().expect("info").metadata["violationCount"],
            "100"
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status = Status::from(AppError::internal("password=secret in a driver message"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let status = Status::from(AppError::Unavailable {
            reason: ErrorReason::DatabaseUnavailable,
            message: "down".into(),
        });
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.get_details_retry_info().is_some());
    }

    #[test]
    fn not_found_names_the_resource() {
        let status = Status::from(AppError::NotFound {
            resource_type: "codeSystemVersion",
            name: "codeSystems/icd10cm/versions/FY1999".into(),
        });
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status
                .get_details_resource_info()
                .expect("resource")
                .resource_type,
            "codeSystemVersion"
        );
    }
}
