//! CodeLookupService: terminology operations over the catalog.

use std::sync::Arc;

use chrono::NaiveDate;
use tonic::{Request, Response, Status};

use crate::app::catalog::Catalog;
use crate::app::lookup::{self, CodeVerdict, ConceptView};
use crate::app::profile::{self, Profile};
use crate::domain::catalog::Concept;
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::codes;
use crate::domain::fee_schedule;
use crate::domain::limits::{self, ClaimLimits, CodeAlphabet, Screen};
use crate::domain::procedures::{Applicability, Behavior, Relationship, band_display};
use crate::domain::validity::Validity;
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

/// The date of service of a request; today when unset.
fn date_or_today(
    date: Option<&pb::google::r#type::Date>,
    field: &str,
) -> Result<NaiveDate, AppError> {
    date.map_or_else(
        || Ok(chrono::Utc::now().date_naive()),
        |d| convert::date_from_pb(d, field),
    )
}

fn summary(system: CodeSystem, concept: &Concept) -> pb::ConceptSummary {
    pb::ConceptSummary {
        code: codes::display(system, &concept.code),
        display: concept.display.clone(),
        billable: concept.billable,
    }
}

fn version_ref(version: &CodeSystemVersion) -> pb::CodeSystemVersionRef {
    pb::CodeSystemVersionRef {
        system: convert::code_system_to_pb(version.system).into(),
        version: version.version.clone(),
    }
}

fn validity_to_pb(validity: Validity) -> pb::CodeValidity {
    match validity {
        Validity::Valid => pb::CodeValidity::Valid,
        Validity::UnknownCode => pb::CodeValidity::UnknownCode,
        Validity::InvalidFormat => pb::CodeValidity::InvalidFormat,
        Validity::HeaderNotBillable => pb::CodeValidity::HeaderNotBillable,
        Validity::NotEffectiveOnDate => pb::CodeValidity::NotEffectiveOnDate,
        Validity::Terminated => pb::CodeValidity::Terminated,
    }
}

fn verdict_to_pb(system: Option<CodeSystem>, verdict: CodeVerdict) -> pb::ValidateCodeResponse {
    let shown = |code: &str| system.map_or_else(|| code.to_owned(), |s| codes::display(s, code));
    pb::ValidateCodeResponse {
        valid: verdict.validity == Validity::Valid,
        validity: validity_to_pb(verdict.validity).into(),
        message: verdict.message,
        code: shown(&verdict.canonical),
        display: verdict
            .concept
            .as_ref()
            .map(|c| c.display.clone())
            .unwrap_or_default(),
        suggestions: system
            .map(|s| verdict.suggestions.iter().map(|c| summary(s, c)).collect())
            .unwrap_or_default(),
        version: verdict.version.as_ref().map(version_ref),
    }
}

impl CodeLookupApi {
    fn concept_to_pb(&self, view: ConceptView, date: NaiveDate) -> pb::Concept {
        let system = view.system;
        let concept = &view.concept;
        let mut properties: Vec<pb::ConceptProperty> = concept
            .properties
            .iter()
            .map(|(name, value)| pb::ConceptProperty {
                name: name.clone(),
                value: value.clone(),
                description: String::new(),
            })
            .collect();
        if matches!(system, CodeSystem::Cpt | CodeSystem::Hcpcs) {
            let snapshot = self.catalog.snapshot();
            if let Some(fees) = snapshot.fee_schedule(date)
                && let Some(row) = fees.global_row(&concept.code)
            {
                properties.extend(fee_schedule::describe(row).into_iter().map(
                    |(name, value, meaning)| pb::ConceptProperty {
                        name: format!("mpfs_{name}"),
                        value,
                        description: format!("{meaning} (MPFS {})", fees.version.version),
                    },
                ));
            }
        }
        pb::Concept {
            name: format!(
                "codeSystems/{system}/versions/{}/concepts/{}",
                view.version.version,
                codes::display(system, &concept.code)
            ),
            system: convert::code_system_to_pb(system).into(),
            code: codes::display(system, &concept.code),
            display: concept.display.clone(),
            long_description: concept.long_description.clone().unwrap_or_default(),
            active: view.active,
            billable: concept.billable,
            effective_date: concept
                .effective_date
                .or(concept.added_date)
                .map(convert::date_to_pb),
            termination_date: concept.termination_date.map(convert::date_to_pb),
            parent: view.parent.as_ref().map(|p| summary(system, p)),
            children: view.children.iter().map(|c| summary(system, c)).collect(),
            properties,
            version: Some(version_ref(&view.version)),
            system_uri: codes::system_uri(system).to_owned(),
        }
    }
}

#[tonic::async_trait]
impl CodeLookupService for CodeLookupApi {
    async fn lookup_code(
        &self,
        request: Request<pb::LookupCodeRequest>,
    ) -> Result<Response<pb::LookupCodeResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        screen_code("code", &request.code)?;
        let view = lookup::lookup(&self.catalog, system, &request.code, date)?;
        Ok(Response::new(pb::LookupCodeResponse {
            concept: Some(self.concept_to_pb(view, date)),
        }))
    }

    async fn validate_code(
        &self,
        request: Request<pb::ValidateCodeRequest>,
    ) -> Result<Response<pb::ValidateCodeResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        screen_code("code", &request.code)?;
        let verdict = lookup::validate(&self.catalog.snapshot(), system, &request.code, date)?;
        Ok(Response::new(verdict_to_pb(system, verdict)))
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
            let date = date_or_today(
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
                .map(|((system, _, _), verdict)| verdict_to_pb(*system, verdict))
                .collect(),
        }))
    }

    async fn search_codes(
        &self,
        request: Request<pb::SearchCodesRequest>,
    ) -> Result<Response<pb::SearchCodesResponse>, Status> {
        let request = request.into_inner();
        let system = convert::optional_code_system_from_pb(request.system, "system")?;
        let date = date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
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
                    concept: Some(summary(system, concept)),
                    score: *score,
                })
                .collect(),
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total).unwrap_or(i32::MAX),
            version: page.version.as_ref().map(version_ref),
        }))
    }

    async fn get_procedure_profile(
        &self,
        request: Request<pb::GetProcedureProfileRequest>,
    ) -> Result<Response<pb::GetProcedureProfileResponse>, Status> {
        let request = request.into_inner();
        let date = date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
        let mut screen = Screen::new();
        screen.code(
            "code",
            &request.code,
            limits::LOOKUP_CODE_MAX,
            CodeAlphabet::WithDot,
        );
        screen.code(
            "payer_id",
            &request.payer_id,
            limits::PAYER_ID_MAX,
            CodeAlphabet::Alphanumeric,
        );
        screen.finish()?;
        let profile =
            profile::profile(&self.catalog, &request.code, date, request.payer_id.trim())?;
        Ok(Response::new(pb::GetProcedureProfileResponse {
            profile: Some(profile_to_pb(profile)),
        }))
    }

    async fn suggest_procedure_code(
        &self,
        request: Request<pb::SuggestProcedureCodeRequest>,
    ) -> Result<Response<pb::SuggestProcedureCodeResponse>, Status> {
        let request = request.into_inner();
        let date = date_or_today(request.date_of_service.as_ref(), "date_of_service")?;
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

fn relationship_to_pb(relationship: Relationship) -> pb::ProcedureRelationship {
    match relationship {
        Relationship::SmallerSize => pb::ProcedureRelationship::SmallerSize,
        Relationship::LargerSize => pb::ProcedureRelationship::LargerSize,
        Relationship::MalignantTwin => pb::ProcedureRelationship::MalignantTwin,
        Relationship::BenignTwin => pb::ProcedureRelationship::BenignTwin,
        Relationship::OtherSiteFamily => pb::ProcedureRelationship::OtherSiteFamily,
        Relationship::RepairIncluded => pb::ProcedureRelationship::RepairIncluded,
        Relationship::RepairSeparatelyReportable => {
            pb::ProcedureRelationship::RepairSeparatelyReportable
        }
        Relationship::Pathology => pb::ProcedureRelationship::Pathology,
        Relationship::SameDayEvaluation => pb::ProcedureRelationship::SameDayEvaluation,
    }
}

fn profile_to_pb(profile: Profile) -> pb::ProcedureProfile {
    let attributes = profile.attributes.as_ref();
    pb::ProcedureProfile {
        code: profile.code.clone(),
        descriptor: profile.descriptor,
        descriptor_source: profile.descriptor_source,
        size_band: attributes.and_then(|a| {
            a.size_measure.as_ref().map(|measure| pb::SizeBand {
                measure: measure.clone(),
                lower_exclusive_cm: a.size_lower_exclusive.unwrap_or_default(),
                upper_inclusive_cm: a.size_upper_inclusive,
                display: band_display(a),
            })
        }),
        site_family: profile
            .site_family
            .map(|(id, display, sites)| pb::SiteFamily {
                id,
                display,
                anatomic_sites: sites,
            }),
        lesion_behavior: match attributes.and_then(|a| a.lesion_behavior.as_deref()) {
            Some("benign") => pb::LesionBehavior::Benign,
            Some("malignant") => pb::LesionBehavior::Malignant,
            _ => pb::LesionBehavior::Unspecified,
        }
        .into(),
        service_type: attributes
            .map(|a| a.service_type.clone())
            .unwrap_or_default(),
        typical_places_of_service: profile
            .places_of_service
            .into_iter()
            .map(|(code, name)| pb::PlaceOfService { code, name })
            .collect(),
        fee_schedule: profile
            .fee_schedule
            .map(|(row, version)| pb::FeeScheduleIndicators {
                status: row.status,
                pctc: row.pctc,
                global_days: row.global_days,
                multiple_procedure: row.mult_proc,
                bilateral_surgery: row.bilat,
                assistant_surgery: row.asst,
                co_surgeon: row.co_surg,
                team_surgery: row.team_surg,
                version: Some(version_ref(&version)),
            }),
        modifiers: profile
            .modifiers
            .into_iter()
            .map(|m| pb::ModifierGuidance {
                modifier: m.modifier,
                description: m.description,
                applicability: match m.applicability {
                    Applicability::Allowed => pb::ModifierApplicability::Allowed,
                    Applicability::NotAllowed => pb::ModifierApplicability::NotAllowed,
                    Applicability::Informational => pb::ModifierApplicability::Informational,
                }
                .into(),
                reason: m.reason,
                when_to_use: m.when_to_use,
            })
            .collect(),
        taxonomies: profile
            .taxonomies
            .into_iter()
            .map(|t| pb::TaxonomyGuidance {
                code: t.code,
                display: t.display,
                classification: t.classification,
                specialization: t.specialization,
                note: t.note,
            })
            .collect(),
        related_diagnoses: profile
            .diagnoses
            .into_iter()
            .map(|d| pb::DiagnosisGuidance {
                code: codes::display(CodeSystem::Icd10Cm, &d.code),
                display: d.display,
                billable: d.billable,
                relevance: d.relevance,
                note: d.note,
                billable_children: d
                    .billable_children
                    .iter()
                    .map(|c| summary(CodeSystem::Icd10Cm, c))
                    .collect(),
            })
            .collect(),
        related_procedures: profile
            .related
            .into_iter()
            .map(|r| pb::RelatedProcedure {
                code: r.code,
                display: r.display,
                relationship: relationship_to_pb(r.relationship).into(),
                note: r.note,
            })
            .collect(),
        payers: profile
            .payers
            .into_iter()
            .map(|p| pb::PayerNote {
                payer_id: p.payer_id,
                name: p.name,
                notes: p.notes,
            })
            .collect(),
        missing_fields: profile
            .missing
            .into_iter()
            .map(|(field, reason)| pb::MissingField { field, reason })
            .collect(),
        versions: profile.versions.iter().map(version_ref).collect(),
    }
}
