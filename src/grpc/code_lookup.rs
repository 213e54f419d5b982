//! CodeLookupService: terminology operations over the catalog.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::app::catalog::Catalog;
use crate::app::lookup::{self};
use crate::app::profile::{self};
use crate::domain::claim::ProcedureCode;
use crate::domain::code_system::CodeSystem;
use crate::domain::limits::{self, ClaimLimits, CodeAlphabet, Screen};
use crate::domain::procedures::Behavior;
use crate::error::AppError;
use crate::grpc::convert;
use crate::grpc::pb;
use crate::grpc::pb::code_lookup_service_server::CodeLookupService;

/// The CodeLookupService implementation.
#[derive(Debug, Clone)]
pub struct CodeLookupApi {
    catalog: Arc<Catalog>,
}

impl CodeLookupApi {
    /// Serves from `catalog`.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

/// A code to look up: ASCII letters, digits and the dot, no longer than the
/// longest code element.
fn screen_code(field: &str, code: &str) -> Result<(), AppError> {
    let mut screen = Screen::new();
    screen.code(field, code, limits::LOOKUP_CODE_MAX, CodeAlphabet::WithDot);
    screen.finish()
}

#[tonic::async_trait]
impl CodeLookupService for CodeLookupApi {
    async fn lookup_code(
        &self,
        request: Request<pb::LookupCodeRequest>,
    ) -> Result<Response<pb::LookupCodeResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = convert::date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        screen_code("code", &request.code)?;
        let snapshot = self.catalog.snapshot();
        let view = lookup::lookup(&snapshot, system, &request.code, date)?;
        Ok(Response::new(pb::LookupCodeResponse {
            concept: Some(convert::concept_to_pb(view)),
        }))
    }

    async fn validate_code(
        &self,
        request: Request<pb::ValidateCodeRequest>,
    ) -> Result<Response<pb::ValidateCodeResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = convert::date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        screen_code("code", &request.code)?;
        let verdict = lookup::validate(&self.catalog.snapshot(), system, &request.code, date)?;
        Ok(Response::new(convert::verdict_to_pb(system, verdict)))
    }

    async fn batch_validate_codes(
        &self,
        request: Request<pb::BatchValidateCodesRequest>,
    ) -> Result<Response<pb::BatchValidateCodesResponse>, Status> {
        let request = request.into_inner();
        let mut parsed =
            Vec::with_capacity(request.requests.len().min(lookup::MAX_BATCH_CODES + 1));
        for (i, item) in request.requests.into_iter().enumerate() {
            let system = convert::optional_code_system_from_pb(
                item.system,
                &format!("requests[{i}].system"),
            )?;
            let date = convert::date_or_today(
                item.date_of_service.as_ref(),
                &format!("requests[{i}].date_of_service"),
            )?;
            screen_code(&format!("requests[{i}].code"), &item.code)?;
            parsed.push((system, item.code, date));
        }
        let verdicts = lookup::validate_batch(&self.catalog, &parsed)?;
        Ok(Response::new(pb::BatchValidateCodesResponse {
            responses: parsed
                .iter()
                .zip(verdicts)
                .map(|((system, _, _), verdict)| convert::verdict_to_pb(*system, verdict))
                .collect(),
        }))
    }

    async fn search_codes(
        &self,
        request: Request<pb::SearchCodesRequest>,
    ) -> Result<Response<pb::SearchCodesResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = convert::date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        let mut screen = Screen::new();
        screen.text("query", &request.query, limits::QUERY_MAX);
        screen.finish()?;
        let page = lookup::search(
            &self.catalog,
            system,
            &request.query,
            date,
            request.billable_only,
            request.page_size,
            &request.page_token,
        )?;
        let system = system.unwrap_or(CodeSystem::Icd10Cm);
        Ok(Response::new(pb::SearchCodesResponse {
            hits: page
                .hits
                .iter()
                .map(|(concept, score)| pb::SearchHit {
                    concept: Some(convert::summary(system, concept)),
                    score: *score,
                })
                .collect(),
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            version: page.version.as_ref().map(convert::version_ref),
        }))
    }

    async fn get_procedure_profile(
        &self,
        request: Request<pb::GetProcedureProfileRequest>,
    ) -> Result<Response<pb::GetProcedureProfileResponse>, Status> {
        let request = request.into_inner();
        let date = convert::date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        let mut screen = Screen::new();
        screen.code(
            "code",
            &request.code,
            limits::LOOKUP_CODE_MAX,
            CodeAlphabet::WithDot,
        );
        let payer = screen.payer_id("payer_id", &request.payer_id);
        screen.finish()?;
        let profile = profile::profile(
            &self.catalog,
            &ProcedureCode::parse(&request.code),
            date,
            &payer,
        )?;
        Ok(Response::new(pb::GetProcedureProfileResponse {
            profile: Some(convert::profile_to_pb(profile)),
        }))
    }

    async fn suggest_procedure_code(
        &self,
        request: Request<pb::SuggestProcedureCodeRequest>,
    ) -> Result<Response<pb::SuggestProcedureCodeResponse>, Status> {
        let request = request.into_inner();
        let date = convert::date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        let mut screen = Screen::new();
        screen.text("anatomic_site", &request.anatomic_site, limits::TEXT_MAX);
        screen.size_cm(
            "excised_diameter_cm",
            request.excised_diameter_cm,
            ClaimLimits::default().max_size_cm,
        );
        let behavior = match pb::LesionBehavior::try_from(request.lesion_behavior) {
            Ok(pb::LesionBehavior::Benign) => Some(Behavior::Benign),
            Ok(pb::LesionBehavior::Malignant) => Some(Behavior::Malignant),
            Ok(pb::LesionBehavior::Uncertain) => Some(Behavior::Uncertain),
            Ok(pb::LesionBehavior::Unspecified) => None,
            Err(_) => {
                screen.refuse("lesion_behavior", "not a LesionBehavior value");
                None
            }
        };
        screen.finish()?;
        let profile::SuggestAnswer {
            suggestion,
            display,
            alternatives,
        } = profile::suggest(
            &self.catalog,
            behavior,
            &request.anatomic_site,
            request.excised_diameter_cm,
            date,
        )?;
        Ok(Response::new(pb::SuggestProcedureCodeResponse {
            code: suggestion.code,
            display,
            rationale: suggestion.rationale,
            warnings: suggestion.warnings,
            alternatives: alternatives
                .into_iter()
                .map(|(code, display, reason)| pb::AlternativeCode {
                    code,
                    display,
                    reason,
                })
                .collect(),
        }))
    }
}
