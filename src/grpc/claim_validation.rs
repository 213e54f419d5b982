//! ClaimValidationService: scrubbing single claims and batch streams.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::app::validate::{ClaimValidator, Decision};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::{Disposition, Severity};
use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::claim_validation_service_server::ClaimValidationService;
use crate::grpc::{convert, interceptor};
use crate::rules::RuleSource;

/// The ClaimValidationService implementation.
#[derive(Clone)]
pub struct ClaimValidationApi {
    validator: Arc<ClaimValidator>,
}

impl ClaimValidationApi {
    /// Serves with `validator`.
    pub fn new(validator: Arc<ClaimValidator>) -> Self {
        Self { validator }
    }
}

/// Response stream of ValidateClaimBatch.
pub type BatchResponseStream =
    Pin<Box<dyn Stream<Item = Result<pb::ValidateClaimBatchResponse, Status>> + Send>>;

fn unimplemented(rpc: &'static str) -> Status {
    AppError::Unimplemented { rpc }.into()
}

fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::Error => pb::Severity::Error,
        Severity::Warning => pb::Severity::Warning,
        Severity::Info => pb::Severity::Info,
    }
}

/// A decision as its protobuf result.
pub fn decision_to_pb(decision: Decision) -> pb::ValidationResult {
    pb::ValidationResult {
        disposition: match decision.disposition {
            Disposition::Accept => pb::Disposition::Accept,
            Disposition::AcceptWithWarnings => pb::Disposition::AcceptWithWarnings,
            Disposition::Reject => pb::Disposition::Reject,
        }
        .into(),
        findings: decision
            .findings
            .into_iter()
            .map(|f| pb::Finding {
                rule_id: f.rule_id,
                severity: severity_to_pb(f.severity).into(),
                line_number: f.line_number,
                field_path: f.field_path,
                message: f.message,
                suggested_code: f.suggested_code.unwrap_or_default(),
                suggestion: f.suggestion.unwrap_or_default(),
            })
            .collect(),
        ruleset_version: decision.ruleset_version,
        audit_record_id: decision.audit_record_id.to_string(),
        code_system_versions: decision
            .versions
            .into_iter()
            .filter_map(|v| {
                v.system
                    .parse::<CodeSystem>()
                    .ok()
                    .map(|system| pb::CodeSystemVersionRef {
                        system: convert::code_system_to_pb(system).into(),
                        version: v.version,
                    })
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl ClaimValidationService for ClaimValidationApi {
    type ValidateClaimBatchStream = BatchResponseStream;

    async fn validate_claim(
        &self,
        request: Request<pb::ValidateClaimRequest>,
    ) -> Result<Response<pb::ValidateClaimResponse>, Status> {
        let caller = interceptor::caller(&request);
        let request = request.into_inner();
        let claim = convert::claim_from_pb(request.claim, "claim")?;
        let decision = self
            .validator
            .validate(&request.request_id, &caller.0, claim)
            .await?;
        Ok(Response::new(pb::ValidateClaimResponse {
            result: Some(decision_to_pb(decision)),
        }))
    }

    async fn validate_claim_batch(
        &self,
        _: Request<Streaming<pb::ValidateClaimBatchRequest>>,
    ) -> Result<Response<Self::ValidateClaimBatchStream>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ValidateClaimBatch",
        ))
    }

    async fn get_batch(
        &self,
        _: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::GetBatchResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/GetBatch",
        ))
    }

    async fn list_batch_results(
        &self,
        _: Request<pb::ListBatchResultsRequest>,
    ) -> Result<Response<pb::ListBatchResultsResponse>, Status> {
        Err(unimplemented(
            "claimscrub.v1.ClaimValidationService/ListBatchResults",
        ))
    }

    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Result<Response<pb::ListRulesResponse>, Status> {
        let request = request.into_inner();
        let date = request.effective_date.as_ref().map_or_else(
            || Ok(chrono::Utc::now().date_naive()),
            |d| convert::date_from_pb(d, "effective_date"),
        )?;
        let payer = request.payer_id.trim();
        let snapshot = self.validator.catalog().snapshot();
        if !payer.is_empty() && !snapshot.payers.contains_key(payer) {
            return Err(AppError::NotFound {
                resource_type: "payer",
                name: payer.to_owned(),
            }
            .into());
        }
        let rules = self.validator.rules();
        Ok(Response::new(pb::ListRulesResponse {
            ruleset_version: rules.version.to_owned(),
            rules: rules
                .rules
                .iter()
                .map(|rule| {
                    let setting = snapshot.payer_setting(payer, rule.id(), date);
                    pb::Rule {
                        rule_id: rule.id().to_owned(),
                        description: rule.description().to_owned(),
                        default_severity: severity_to_pb(rule.default_severity()).into(),
                        source: match rule.source() {
                            RuleSource::Cms => pb::RuleSource::Cms,
                            RuleSource::Ncci => pb::RuleSource::Ncci,
                            RuleSource::Cpt => pb::RuleSource::Cpt,
                            RuleSource::Payer => pb::RuleSource::Payer,
                            RuleSource::House => pb::RuleSource::House,
                        }
                        .into(),
                        since_version: rules.version.to_owned(),
                        enabled: setting.map_or(rule.enabled_by_default(), |s| s.enabled),
                        effective_severity: severity_to_pb(
                            setting
                                .and_then(|s| s.severity)
                                .unwrap_or(rule.default_severity()),
                        )
                        .into(),
                        parameters: setting
                            .map(|s| s.parameters.clone().into_iter().collect())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        }))
    }
}
