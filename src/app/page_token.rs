//! Opaque page tokens (AIP-158): the position to resume from, bound to a
//! fingerprint of the request's other parameters so a token cannot be reused
//! with a different filter.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::domain::limits::PAGE_TOKEN_MAX;
use crate::error::{AppError, ErrorReason, FieldViolation};

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<P> {
    /// First bytes of sha256 over the request parameters the token was issued for.
    f: String,
    /// Where the next page starts.
    p: P,
}

/// Fingerprint of request parameters, stable across processes and releases.
pub fn fingerprint(parameters: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(parameters).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes a position for the request whose parameters are `parameters`.
pub fn encode<P: Serialize>(parameters: &impl Serialize, position: &P) -> String {
    let envelope = Envelope {
        f: fingerprint(parameters),
        p: position,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// Decodes a token; `None` for an empty token (first page).
pub fn decode<P: DeserializeOwned>(
    token: &str,
    parameters: &impl Serialize,
) -> Result<Option<P>, AppError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = |description: &str| AppError::InvalidArgument {
        reason: ErrorReason::InvalidPageToken,
        violations: vec![FieldViolation::new("page_token", description)],
    };
    if token.len() > PAGE_TOKEN_MAX {
        return Err(invalid("longer than any page token this service issues"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid("not a page token issued by this service"))?;
    let envelope: Envelope<P> = serde_json::from_slice(&bytes)
        .map_err(|_| invalid("not a page token issued by this service"))?;
    if envelope.f != fingerprint(parameters) {
        return Err(invalid(
            "the page token was issued for different request parameters",
        ));
    }
    Ok(Some(envelope.p))
}

/// Resolves a requested page size: 0 means `default`, above `max` is coerced
/// to `max`, negative is INVALID_ARGUMENT.
pub fn page_size(requested: i32, default: usize, max: usize) -> Result<usize, AppError> {
    match usize::try_from(requested) {
        Err(_) => Err(AppError::invalid_field("page_size", "must not be negative")),
        Ok(0) => Ok(default),
        Ok(n) => Ok(n.min(max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_with_the_same_parameters() {
        let token = encode(&("icd10cm", 5), &42_u64);
        assert_eq!(
            decode::<u64>(&token, &("icd10cm", 5)).expect("valid"),
            Some(42)
        );
    }

    #[test]
    fn token_is_refused_for_other_parameters() {
        let token = encode(&"icd10cm", &42_u64);
        let err = decode::<u64>(&token, &"hcpcs").expect_err("refused");
        assert!(matches!(
            err,
            AppError::InvalidArgument {
                reason: ErrorReason::InvalidPageToken,
                ..
            }
        ));
    }

    #[test]
    fn garbage_is_refused_and_empty_means_first_page() {
        assert!(decode::<u64>("not a token!", &()).is_err());
        assert_eq!(decode::<u64>("", &()).expect("first page"), None);
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(page_size(0, 50, 200).expect("ok"), 50);
        assert_eq!(page_size(500, 50, 200).expect("ok"), 200);
        assert_eq!(page_size(7, 50, 200).expect("ok"), 7);
        assert!(page_size(-1, 50, 200).is_err());
    }
}
