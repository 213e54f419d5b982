//! gRPC transport (tonic), kept thin: generated code, protobuf conversions,
//! service impls that delegate to [`crate::app`], and the single mapping of
//! [`crate::AppError`] to `tonic::Status`.

pub mod audit;
pub mod call;
pub mod claim_validation;
pub mod code_lookup;
pub mod connection;
pub mod convert;
pub mod interceptor;
pub mod reference_data;
pub mod status;
pub mod x12;

/// Most bytes of records in one response message (list pages, export
/// chunks): a page is cut before the record that would pass it, so every
/// message stays well inside the 4 MiB that grpc-js, grpcio and grpc-go
/// accept by default. One record always fits: the request limits bound a
/// claim and its findings far below it.
pub const MESSAGE_BUDGET: usize = 1024 * 1024;

/// The bytes `message` adds to a repeated field: tag, length and body.
pub fn element_len(message: &impl prost::Message) -> usize {
    let len = message.encoded_len();
    1 + prost::length_delimiter_len(len) + len
}

/// Takes from `elements` (each with its encoded length) the run that fits
/// one message: as many as stay within [`MESSAGE_BUDGET`], at least one.
/// What does not fit stays in `elements` for the next message or page.
pub fn take_within_budget<T>(
    elements: &mut std::iter::Peekable<impl Iterator<Item = (T, usize)>>,
) -> Vec<T> {
    let (mut run, mut bytes) = (Vec::new(), 0);
    while let Some((element, len)) =
        elements.next_if(|(_, len)| run.is_empty() || bytes + len <= MESSAGE_BUDGET)
    {
        bytes += len;
        run.push(element);
    }
    run
}

/// Generated protobuf and gRPC code for `claimscrub.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    /// `google.type` (vendored `Date`).
    pub mod google {
        /// `google.type`.
        pub mod r#type {
            // prost names the file after the escaped module path.
            include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
        }
    }

    /// `claimscrub.v1`.
    pub mod claimscrub {
        /// `claimscrub.v1`.
        pub mod v1 {
            tonic::include_proto!("claimscrub.v1");
        }
    }

    pub use claimscrub::v1::*;

    /// Encoded descriptor set of every claimscrub proto, for reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("claimscrub_descriptor");
}

/// Fully-qualified names of the five claimscrub services, as health and
/// reflection report them.
pub const SERVICE_NAMES: [&str; 5] = [
    "claimscrub.v1.CodeLookupService",
    "claimscrub.v1.ClaimValidationService",
    "claimscrub.v1.AuditService",
    "claimscrub.v1.ReferenceDataService",
    "claimscrub.v1.X12Service",
];

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::server::NamedService;

    #[test]
    fn service_names_match_the_generated_servers() {
        assert_eq!(
            SERVICE_NAMES,
            [
                <pb::code_lookup_service_server::CodeLookupServiceServer<code_lookup::CodeLookupApi> as NamedService>::NAME,
                <pb::claim_validation_service_server::ClaimValidationServiceServer<
                    claim_validation::ClaimValidationApi,
                > as NamedService>::NAME,
                <pb::audit_service_server::AuditServiceServer<audit::AuditApi> as NamedService>::NAME,
                <pb::reference_data_service_server::ReferenceDataServiceServer<reference_data::ReferenceDataApi> as NamedService>::NAME,
                <pb::x12_service_server::X12ServiceServer<x12::X12Api> as NamedService>::NAME,
            ]
        );
    }
}
