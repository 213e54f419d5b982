//! Conversions between protobuf messages and domain types, every one of
//! them: the service files only call these and delegate to `app`. Reading a
//! claim is also where the request limits (`domain::limits`) are applied.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use tonic::Status;

use crate::app::audit::AuditRecord;
use crate::app::batch::{BatchOutput, BatchRow, ItemResult};
use crate::app::decision::Decision;
use crate::app::lookup::{CodeVerdict, ConceptView};
use crate::app::profile::Profile;
use crate::domain::batch_state::BatchState;
use crate::domain::claim::Indication;
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::codes;
use crate::domain::concept::Concept;
use crate::domain::finding::{
    Disposition, FieldFix, Finding, FixAction, NotChecked, NotCheckedReason, Severity,
};
use crate::domain::limits::{self, ClaimLimits, CodeAlphabet, Screen};
use crate::domain::procedures::{Applicability, Relationship, band_display};
use crate::domain::validity::Validity;
use crate::error::AppError;
use crate::grpc::pb;
use crate::grpc::pb::google::r#type::Date;
use crate::rules::{RuleDescription, RuleSource};

/// A civil date as `google.type.Date`.
pub fn date_to_pb(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// A full `google.type.Date` as a civil date; `field` names it in the error.
pub fn date_from_pb(date: &Date, field: &str) -> Result<NaiveDate, AppError> {
    u32::try_from(date.month)
        .ok()
        .zip(u32::try_from(date.day).ok())
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(date.year, month, day))
        .filter(|d| (1..=9999).contains(&d.year()))
        .ok_or_else(|| {
            AppError::invalid_field(
                field,
                format!(
                    "{:04}-{:02}-{:02} is not a calendar date",
                    date.year, date.month, date.day
                ),
            )
        })
}

/// The date of service of a request; today when unset.
pub fn date_or_today(date: Option<&Date>, field: &str) -> Result<NaiveDate, AppError> {
    date.map_or_else(
        || Ok(chrono::Utc::now().date_naive()),
        |d| date_from_pb(d, field),
    )
}

/// A point in time as `google.protobuf.Timestamp`.
pub fn timestamp_to_pb(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// The protobuf enum value of a code system.
pub fn code_system_to_pb(system: CodeSystem) -> pb::CodeSystem {
    match system {
        CodeSystem::Cpt => pb::CodeSystem::Cpt,
        CodeSystem::Hcpcs => pb::CodeSystem::Hcpcs,
        CodeSystem::Icd10Cm => pb::CodeSystem::Icd10cm,
        CodeSystem::Modifier => pb::CodeSystem::Modifier,
        CodeSystem::Taxonomy => pb::CodeSystem::Taxonomy,
        CodeSystem::Pos => pb::CodeSystem::Pos,
        CodeSystem::Mpfs => pb::CodeSystem::Mpfs,
        CodeSystem::NcciPtp => pb::CodeSystem::NcciPtp,
        CodeSystem::Mue => pb::CodeSystem::Mue,
        CodeSystem::Mce => pb::CodeSystem::Mce,
        CodeSystem::NcciAoc => pb::CodeSystem::NcciAoc,
    }
}

/// A code-system filter: `None` for UNSPECIFIED (all systems).
pub fn optional_code_system_from_pb(
    value: i32,
    field: &str,
) -> Result<Option<CodeSystem>, AppError> {
    let system = pb::CodeSystem::try_from(value).map_err(|_| {
        AppError::invalid_field(field, format!("{value} is not a CodeSystem value"))
    })?;
    Ok(match system {
        pb::CodeSystem::Unspecified => None,
        pb::CodeSystem::Cpt => Some(CodeSystem::Cpt),
        pb::CodeSystem::Hcpcs => Some(CodeSystem::Hcpcs),
        pb::CodeSystem::Icd10cm => Some(CodeSystem::Icd10Cm),
        pb::CodeSystem::Modifier => Some(CodeSystem::Modifier),
        pb::CodeSystem::Taxonomy => Some(CodeSystem::Taxonomy),
        pb::CodeSystem::Pos => Some(CodeSystem::Pos),
        pb::CodeSystem::Mpfs => Some(CodeSystem::Mpfs),
        pb::CodeSystem::NcciPtp => Some(CodeSystem::NcciPtp),
        pb::CodeSystem::Mue => Some(CodeSystem::Mue),
        pb::CodeSystem::Mce => Some(CodeSystem::Mce),
        pb::CodeSystem::NcciAoc => Some(CodeSystem::NcciAoc),
    })
}

/// A release as its protobuf resource.
pub fn code_system_version_to_pb(version: &CodeSystemVersion) -> pb::CodeSystemVersion {
    pb::CodeSystemVersion {
        name: version.resource_name(),
        system: code_system_to_pb(version.system).into(),
        version: version.version.clone(),
        effective_from: Some(date_to_pb(version.effective_from)),
        effective_to: version.effective_to.map(date_to_pb),
        concept_count: version.concept_count,
        billable_count: version.billable_count,
        source_file_name: version.source_file_name.clone(),
        sha256: version.sha256.clone(),
        load_time: Some(timestamp_to_pb(version.load_time)),
        builtin: version.builtin,
    }
}

/// Reads a protobuf claim, refusing what an 837P could not carry (the
/// limits of [`crate::domain::limits`]: element lengths, repeat counts,
/// characters, pointers outside 1-12, impossible dates, sizes that are not
/// a finite length, unknown enum values). Every violation is named at once.
/// Coding problems a payer would reject are left to the rules as findings.
pub fn claim_from_pb(
    claim: Option<pb::Claim>,
    field: &str,
    limits: &ClaimLimits,
) -> Result<crate::domain::claim::Claim, AppError> {
    use crate::domain::claim::{Claim, Patient, Provider, Sex};

    let Some(claim) = claim else {
        return Err(AppError::invalid_field(field, "a claim is required"));
    };
    let mut screen = Screen::new();
    screen.text(
        format_args!("{field}.claim_id"),
        &claim.claim_id,
        limits::CLAIM_ID_MAX,
    );
    let payer_id = screen.payer_id(format_args!("{field}.payer_id"), &claim.payer_id);
    screen.code(
        format_args!("{field}.place_of_service"),
        &claim.place_of_service,
        limits::PLACE_OF_SERVICE_MAX,
        CodeAlphabet::Alphanumeric,
    );
    let provider = |p: Option<pb::Provider>, name: &str, screen: &mut Screen| {
        let p = p.unwrap_or_default();
        screen.code(
            format_args!("{field}.{name}.npi"),
            &p.npi,
            limits::NPI_MAX,
            CodeAlphabet::Alphanumeric,
        );
        screen.code(
            format_args!("{field}.{name}.taxonomy_code"),
            &p.taxonomy_code,
            limits::TAXONOMY_MAX,
            CodeAlphabet::Alphanumeric,
        );
        Provider {
            npi: p.npi.into(),
            taxonomy_code: p.taxonomy_code.into(),
        }
    };
    let rendering_provider = provider(claim.rendering_provider, "rendering_provider", &mut screen);
    let billing_provider = provider(claim.billing_provider, "billing_provider", &mut screen);
    let date_of_service = date_field(
        claim.date_of_service.as_ref(),
        format_args!("{field}.date_of_service"),
        &mut screen,
    );
    let patient = claim.patient.unwrap_or_default();
    screen.text(
        format_args!("{field}.patient.member_id"),
        &patient.member_id,
        limits::MEMBER_ID_MAX,
    );
    let birth_date = date_field(
        patient.birth_date.as_ref(),
        format_args!("{field}.patient.birth_date"),
        &mut screen,
    );
    let sex = match pb::Sex::try_from(patient.sex) {
        Ok(pb::Sex::Unspecified) => Sex::Unspecified,
        Ok(pb::Sex::Female) => Sex::Female,
        Ok(pb::Sex::Male) => Sex::Male,
        Ok(pb::Sex::Unknown) => Sex::Unknown,
        Err(_) => {
            screen.refuse(format!("{field}.patient.sex"), "not a Sex value");
            Sex::Unspecified
        }
    };
    // Beyond a count limit only the count is reported: a claim of 10,000
    // lines gets one violation, not 10,000.
    if screen.count(
        format_args!("{field}.diagnosis_codes"),
        claim.diagnosis_codes.len(),
        limits.max_diagnoses,
    ) {
        for (i, code) in claim.diagnosis_codes.iter().enumerate() {
            screen.code(
                format_args!("{field}.diagnosis_codes[{i}]"),
                code,
                limits::DIAGNOSIS_CODE_MAX,
                CodeAlphabet::WithDot,
            );
        }
    }
    let mut lines = Vec::with_capacity(claim.lines.len().min(limits.max_service_lines));
    if screen.count(
        format_args!("{field}.lines"),
        claim.lines.len(),
        limits.max_service_lines,
    ) {
        for (i, line) in claim.lines.into_iter().enumerate() {
            lines.push(service_line_from_pb(
                line,
                &format_args!("{field}.lines[{i}]"),
                limits,
                &mut screen,
            ));
        }
    }
    if let Some(error) = AppError::from_violations(screen.into_violations()) {
        return Err(error);
    }
    Ok(Claim {
        claim_id: claim.claim_id,
        payer_id,
        date_of_service,
        place_of_service: claim.place_of_service,
        rendering_provider,
        billing_provider,
        patient: Patient {
            member_id: patient.member_id,
            birth_date,
            sex,
        },
        diagnosis_codes: claim.diagnosis_codes.into_iter().map(Into::into).collect(),
        lines,
        ..Claim::default()
    })
}

/// A date field that must be a calendar date when present.
fn date_field(
    value: Option<&Date>,
    path: impl std::fmt::Display,
    screen: &mut Screen,
) -> Option<NaiveDate> {
    match date_from_pb(value?, "") {
        Ok(date) => Some(date),
        Err(AppError::InvalidArgument { violations, .. }) => {
            for v in violations {
                screen.refuse(&path, v.description);
            }
            None
        }
        Err(_) => None,
    }
}

fn service_line_from_pb(
    line: pb::ServiceLine,
    path: &dyn std::fmt::Display,
    limits: &ClaimLimits,
    screen: &mut Screen,
) -> crate::domain::claim::ServiceLine {
    use crate::domain::claim::{Laterality, ServiceLine};

    let procedure_code =
        screen.procedure_code(format_args!("{path}.procedure_code"), &line.procedure_code);
    if screen.count(
        format_args!("{path}.modifiers"),
        line.modifiers.len(),
        limits.max_modifiers,
    ) {
        for (m, modifier) in line.modifiers.iter().enumerate() {
            screen.modifier(format_args!("{path}.modifiers[{m}]"), modifier);
        }
    }
    if screen.count(
        format_args!("{path}.diagnosis_pointers"),
        line.diagnosis_pointers.len(),
        limits.max_pointers,
    ) {
        for (p, pointer) in line.diagnosis_pointers.iter().enumerate() {
            if !(1..=limits::POINTER_MAX).contains(pointer) {
                screen.refuse(
                    format!("{path}.diagnosis_pointers[{p}]"),
                    format!(
                        "a pointer names a diagnosis position 1 to {}",
                        limits::POINTER_MAX
                    ),
                );
            }
        }
    }
    if line.units > limits.max_units {
        screen.refuse(
            format!("{path}.units"),
            format!("at most {} units per line", limits.max_units),
        );
    }
    for (value, name) in [
        (line.excised_diameter_cm, "excised_diameter_cm"),
        (line.repair_length_cm, "repair_length_cm"),
    ] {
        if let Some(value) = value {
            screen.size_cm(format_args!("{path}.{name}"), value, limits.max_size_cm);
        }
    }
    screen.text(
        format_args!("{path}.anatomic_site"),
        &line.anatomic_site,
        limits::TEXT_MAX,
    );
    if let Some(place) = &line.place_of_service {
        screen.code(
            format_args!("{path}.place_of_service"),
            place,
            limits::PLACE_OF_SERVICE_MAX,
            CodeAlphabet::Alphanumeric,
        );
    }
    let laterality = match pb::Laterality::try_from(line.laterality) {
        Ok(pb::Laterality::Unspecified) => Laterality::Unspecified,
        Ok(pb::Laterality::Left) => Laterality::Left,
        Ok(pb::Laterality::Right) => Laterality::Right,
        Ok(pb::Laterality::Bilateral) => Laterality::Bilateral,
        Err(_) => {
            screen.refuse(format!("{path}.laterality"), "not a Laterality value");
            Laterality::Unspecified
        }
    };
    let mut documented_indications = Vec::with_capacity(line.documented_indications.len());
    for (n, value) in line.documented_indications.iter().enumerate() {
        match pb::Indication::try_from(*value)
            .ok()
            .and_then(indication_from_pb)
        {
            Some(indication) => documented_indications.push(indication),
            None => screen.refuse(
                format!("{path}.documented_indications[{n}]"),
                "not an Indication value",
            ),
        }
    }
    let date_of_service = date_field(
        line.date_of_service.as_ref(),
        format_args!("{path}.date_of_service"),
        screen,
    );
    ServiceLine {
        procedure_code,
        modifiers: line.modifiers.into_iter().map(Into::into).collect(),
        units: line.units.into(),
        unit_basis: crate::domain::claim::UnitBasis::Units,
        charge: None,
        diagnosis_pointers: line.diagnosis_pointers,
        excised_diameter_cm: line.excised_diameter_cm,
        anatomic_site: Some(line.anatomic_site).filter(|s| !s.trim().is_empty()),
        laterality,
        repair_length_cm: line.repair_length_cm,
        date_of_service,
        place_of_service: line.place_of_service,
        documented_indications,
    }
}

/// A known indication; `None` for UNSPECIFIED.
fn indication_from_pb(indication: pb::Indication) -> Option<Indication> {
    Some(match indication {
        pb::Indication::Unspecified => return None,
        pb::Indication::Bleeding => Indication::Bleeding,
        pb::Indication::Itching => Indication::Itching,
        pb::Indication::Pain => Indication::Pain,
        pb::Indication::Inflammation => Indication::Inflammation,
        pb::Indication::Obstruction => Indication::Obstruction,
        pb::Indication::RecentChange => Indication::RecentChange,
        pb::Indication::SuspectedMalignancy => Indication::SuspectedMalignancy,
        pb::Indication::PriorBiopsy => Indication::PriorBiopsy,
        pb::Indication::RecurrentTrauma => Indication::RecurrentTrauma,
    })
}

fn indication_to_pb(indication: Indication) -> pb::Indication {
    match indication {
        Indication::Bleeding => pb::Indication::Bleeding,
        Indication::Itching => pb::Indication::Itching,
        Indication::Pain => pb::Indication::Pain,
        Indication::Inflammation => pb::Indication::Inflammation,
        Indication::Obstruction => pb::Indication::Obstruction,
        Indication::RecentChange => pb::Indication::RecentChange,
        Indication::SuspectedMalignancy => pb::Indication::SuspectedMalignancy,
        Indication::PriorBiopsy => pb::Indication::PriorBiopsy,
        Indication::RecurrentTrauma => pb::Indication::RecurrentTrauma,
    }
}

/// A stored claim as its protobuf form (the member id is never stored, so
/// it comes back empty).
pub fn claim_to_pb(claim: crate::domain::claim::Claim) -> pb::Claim {
    use crate::domain::claim::{Laterality, Provider, Sex};
    let provider = |p: Provider| pb::Provider {
        npi: p.npi.into(),
        taxonomy_code: p.taxonomy_code.into(),
    };
    pb::Claim {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.into(),
        date_of_service: claim.date_of_service.map(date_to_pb),
        place_of_service: claim.place_of_service,
        rendering_provider: Some(provider(claim.rendering_provider)),
        billing_provider: Some(provider(claim.billing_provider)),
        patient: Some(pb::Patient {
            member_id: claim.patient.member_id,
            birth_date: claim.patient.birth_date.map(date_to_pb),
            sex: match claim.patient.sex {
                Sex::Unspecified => pb::Sex::Unspecified,
                Sex::Female => pb::Sex::Female,
                Sex::Male => pb::Sex::Male,
                Sex::Unknown => pb::Sex::Unknown,
            }
            .into(),
        }),
        diagnosis_codes: claim.diagnosis_codes.into_iter().map(Into::into).collect(),
        lines: claim
            .lines
            .into_iter()
            .map(|line| pb::ServiceLine {
                procedure_code: line.procedure_code.into(),
                modifiers: line.modifiers.into_iter().map(Into::into).collect(),
                units: u32::try_from(line.units.rounded_up()).unwrap_or(u32::MAX),
                quantity: line
                    .units
                    .as_whole()
                    .map_or_else(|| line.units.to_string(), |_| String::new()),
                diagnosis_pointers: line.diagnosis_pointers,
                excised_diameter_cm: line.excised_diameter_cm,
                anatomic_site: line.anatomic_site.unwrap_or_default(),
                laterality: match line.laterality {
                    Laterality::Unspecified => pb::Laterality::Unspecified,
                    Laterality::Left => pb::Laterality::Left,
                    Laterality::Right => pb::Laterality::Right,
                    Laterality::Bilateral => pb::Laterality::Bilateral,
                }
                .into(),
                repair_length_cm: line.repair_length_cm,
                date_of_service: line.date_of_service.map(date_to_pb),
                place_of_service: line.place_of_service,
                documented_indications: line
                    .documented_indications
                    .into_iter()
                    .map(|i| i32::from(indication_to_pb(i)))
                    .collect(),
            })
            .collect(),
        x12_origin: claim.x12_origin.map(x12_origin_to_pb),
    }
}

/// Where an X12 claim was read.
pub fn x12_origin_to_pb(origin: crate::domain::claim::X12Origin) -> pb::X12Origin {
    pb::X12Origin {
        interchange_control_number: origin.interchange_control_number,
        group_control_number: origin.group_control_number,
        transaction_set_control_number: origin.transaction_set_control_number,
        claim_ordinal: origin.claim_ordinal,
        first_segment: origin.first_segment,
        last_segment: origin.last_segment,
    }
}

/// An error as the `google.rpc.Status` that its gRPC status carries.
pub fn rpc_status(error: AppError) -> tonic_types::pb::Status {
    let status = Status::from(error);
    prost::Message::decode(status.details()).unwrap_or_else(|_| tonic_types::pb::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    })
}

pub fn counts_to_pb(batch: &BatchRow) -> pb::BatchCounts {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    pb::BatchCounts {
        items_received: n(batch.items_received),
        accepted: n(batch.accepted),
        accepted_with_warnings: n(batch.accepted_with_warnings),
        rejected: n(batch.rejected),
        item_errors: n(batch.item_errors),
    }
}

pub fn durable_to_pb(batch: &BatchRow) -> Option<u64> {
    u64::try_from(batch.durable_through_sequence).ok()
}

pub fn batch_to_pb(batch: &BatchRow) -> pb::Batch {
    pb::Batch {
        name: format!("batches/{}", batch.batch_id),
        batch_id: batch.batch_id.to_string(),
        submitter: batch.submitter.clone(),
        state: match batch.state {
            BatchState::Open => pb::BatchState::Open,
            BatchState::Completed => pb::BatchState::Completed,
        }
        .into(),
        expected_item_count: batch
            .expected_item_count
            .and_then(|n| u64::try_from(n).ok()),
        counts: Some(counts_to_pb(batch)),
        durable_through_sequence: durable_to_pb(batch),
        ruleset_version: batch.ruleset_version.clone(),
        create_time: Some(timestamp_to_pb(batch.create_time)),
        update_time: Some(timestamp_to_pb(batch.update_time)),
        complete_time: batch.complete_time.map(timestamp_to_pb),
    }
}

/// An item's result as the protobuf message that carries it.
pub fn item_to_pb(item: ItemResult) -> Result<pb::ClaimResult, pb::ItemError> {
    match item.outcome {
        Ok(decision) => Ok(pb::ClaimResult {
            sequence: item.sequence,
            correlation_id: item.correlation_id,
            result: Some(decision_to_pb(decision)),
        }),
        Err(error) => Err(pb::ItemError {
            sequence: item.sequence,
            correlation_id: item.correlation_id,
            status: Some(rpc_status(error)),
        }),
    }
}

pub fn batch_output_to_pb(output: BatchOutput) -> Result<pb::ValidateClaimBatchResponse, Status> {
    use pb::validate_claim_batch_response::Kind;
    let kind = match output {
        BatchOutput::Item(item) => match item_to_pb(item) {
            Ok(result) => Kind::Result(result),
            Err(error) => Kind::ItemError(error),
        },
        BatchOutput::Checkpoint(durable_through_sequence) => Kind::Checkpoint(pb::Checkpoint {
            durable_through_sequence,
        }),
        BatchOutput::Summary { batch, elapsed } => Kind::Summary(pb::BatchSummary {
            counts: Some(counts_to_pb(&batch)),
            durable_through_sequence: durable_to_pb(&batch),
            duration: prost_types::Duration::try_from(elapsed).ok(),
        }),
        BatchOutput::Failed(error) => return Err(error.into()),
    };
    Ok(pb::ValidateClaimBatchResponse { kind: Some(kind) })
}

/// A rule as one payer has it. `since_version` is left unset (deprecated in
/// the proto): no rule declares the release that introduced it.
pub fn rule_to_pb(rule: RuleDescription) -> pb::Rule {
    pb::Rule {
        rule_id: rule.rule_id.to_owned(),
        description: rule.description.to_owned(),
        default_severity: severity_to_pb(rule.default_severity).into(),
        source: match rule.source {
            RuleSource::Cms => pb::RuleSource::Cms,
            RuleSource::Ncci => pb::RuleSource::Ncci,
            RuleSource::Cpt => pb::RuleSource::Cpt,
            RuleSource::Payer => pb::RuleSource::Payer,
            RuleSource::House => pb::RuleSource::House,
        }
        .into(),
        enabled: rule.enabled,
        effective_severity: severity_to_pb(rule.effective_severity).into(),
        parameters: rule.parameters.into_iter().collect(),
        ..Default::default()
    }
}

pub fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::Error => pb::Severity::Error,
        Severity::Warning => pb::Severity::Warning,
        Severity::Info => pb::Severity::Info,
    }
}

/// A finding as its protobuf form.
pub fn finding_to_pb(f: Finding) -> pb::Finding {
    pb::Finding {
        rule_id: f.rule_id,
        severity: severity_to_pb(f.severity).into(),
        line_number: f.line_number,
        field_path: f.field_path,
        message: f.message,
        suggested_code: f.suggested_code.unwrap_or_default(),
        suggestion: f.suggestion.unwrap_or_default(),
        fixes: f.fixes.into_iter().map(fix_to_pb).collect(),
    }
}

fn fix_to_pb(fix: FieldFix) -> pb::FieldFix {
    use pb::field_fix::Action;
    pb::FieldFix {
        field_path: fix.field_path,
        action: Some(match fix.action {
            FixAction::Set(value) => Action::SetValue(value),
            FixAction::Remove(value) => Action::RemoveValue(value),
            FixAction::Add(value) => Action::AddValue(value),
        }),
    }
}

fn not_checked_to_pb(n: NotChecked) -> pb::NotChecked {
    pb::NotChecked {
        rule_id: n.rule_id,
        line_number: n.line_number,
        reason: match n.reason {
            NotCheckedReason::NoReleaseInEffect => pb::NotCheckedReason::NoReleaseInEffect,
            NotCheckedReason::NoReferenceRow => pb::NotCheckedReason::NoReferenceRow,
            NotCheckedReason::FieldNotSent => pb::NotCheckedReason::FieldNotSent,
            NotCheckedReason::NoLicensedCptFile => pb::NotCheckedReason::NoLicensedCptFile,
            NotCheckedReason::NoCoveragePolicy => pb::NotCheckedReason::NoCoveragePolicy,
            NotCheckedReason::NoDateOfService => pb::NotCheckedReason::NoDateOfService,
        }
        .into(),
        detail: n.detail,
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
        findings: decision.findings.into_iter().map(finding_to_pb).collect(),
        not_checked: decision
            .not_checked
            .into_iter()
            .map(not_checked_to_pb)
            .collect(),
        ruleset_version: decision.ruleset_version,
        audit_record_id: decision.audit_record_id.to_string(),
        code_system_versions: decision
            .versions
            .into_iter()
            .map(|v| pb::CodeSystemVersionRef {
                system: code_system_to_pb(v.system).into(),
                version: v.version,
            })
            .collect(),
    }
}

pub fn record_to_pb(record: AuditRecord) -> pb::AuditRecord {
    let id = record.decision.audit_record_id;
    pb::AuditRecord {
        name: format!("auditRecords/{id}"),
        id: id.to_string(),
        request_id: record.request_id.unwrap_or_default(),
        batch_id: record
            .batch_item
            .map(|key| key.batch_id.to_string())
            .unwrap_or_default(),
        sequence: record
            .batch_item
            .and_then(|key| u64::try_from(key.sequence).ok()),
        submitter: record.submitter,
        claim: Some(claim_to_pb(record.claim)),
        result: Some(decision_to_pb(record.decision)),
        create_time: Some(timestamp_to_pb(record.create_time)),
        processing_time: prost_types::Duration::try_from(record.processing_time).ok(),
    }
}

pub fn stored_finding_to_pb(finding: Option<Finding>) -> Option<pb::Finding> {
    finding.map(finding_to_pb)
}

pub fn summary(system: CodeSystem, concept: &Concept) -> pb::ConceptSummary {
    pb::ConceptSummary {
        code: codes::display(system, &concept.code),
        display: concept.display.clone(),
        billable: concept.billable,
    }
}

pub fn version_ref(version: &CodeSystemVersion) -> pb::CodeSystemVersionRef {
    pb::CodeSystemVersionRef {
        system: code_system_to_pb(version.system).into(),
        version: version.version.clone(),
    }
}

pub fn validity_to_pb(validity: Validity) -> pb::CodeValidity {
    match validity {
        Validity::Valid => pb::CodeValidity::Valid,
        Validity::UnknownCode => pb::CodeValidity::UnknownCode,
        Validity::InvalidFormat => pb::CodeValidity::InvalidFormat,
        Validity::HeaderNotBillable => pb::CodeValidity::HeaderNotBillable,
        Validity::NotEffectiveOnDate => pb::CodeValidity::NotEffectiveOnDate,
        Validity::Terminated => pb::CodeValidity::Terminated,
    }
}

pub fn verdict_to_pb(system: Option<CodeSystem>, verdict: CodeVerdict) -> pb::ValidateCodeResponse {
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

pub fn concept_to_pb(view: ConceptView<'_>) -> pb::Concept {
    let system = view.system;
    let concept = view.concept;
    let mut properties: Vec<pb::ConceptProperty> = concept
        .properties
        .iter()
        .map(|(name, value)| pb::ConceptProperty {
            name: name.clone(),
            value: value.clone(),
            description: String::new(),
        })
        .collect();
    if let Some((release, indicators)) = &view.fee_schedule {
        properties.extend(
            indicators
                .iter()
                .map(|(name, value, meaning)| pb::ConceptProperty {
                    name: format!("mpfs_{name}"),
                    value: value.clone(),
                    description: format!("{meaning} (MPFS {})", release.version),
                }),
        );
    }
    let code = codes::display(system, &concept.code);
    pb::Concept {
        name: format!(
            "codeSystems/{system}/versions/{}/concepts/{code}",
            view.version.version,
        ),
        system: code_system_to_pb(system).into(),
        code,
        display: concept.display.clone(),
        long_description: concept.long_description.clone().unwrap_or_default(),
        active: view.active,
        billable: concept.billable,
        effective_date: concept
            .effective_date
            .or(concept.added_date)
            .map(date_to_pb),
        termination_date: concept.termination_date.map(date_to_pb),
        parent: view.parent.map(|p| summary(system, p)),
        children: view.children.iter().map(|c| summary(system, c)).collect(),
        properties,
        version: Some(version_ref(view.version)),
        system_uri: codes::system_uri(system).to_owned(),
    }
}

pub fn relationship_to_pb(relationship: Relationship) -> pb::ProcedureRelationship {
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

pub fn profile_to_pb(profile: Profile) -> pb::ProcedureProfile {
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
            .map(|a| a.service_type.as_str().to_owned())
            .unwrap_or_default(),
        typical_places_of_service: profile
            .places_of_service
            .into_iter()
            .map(|(code, name)| pb::PlaceOfService { code, name })
            .collect(),
        fee_schedule: profile
            .fee_schedule
            .map(|(row, version)| pb::FeeScheduleIndicators {
                status: row.status.letter().to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use crate::domain::catalog::CatalogSnapshot;
    use crate::domain::claim::PriorClaim;
    use crate::rules::RuleSet;

    /// A text field: mostly values the rules know, sometimes anything.
    fn text(known: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![
            40 => prop::sample::select(known).prop_map(str::to_owned),
            1 => "[A-Z0-9]{0,8}",
            1 => any::<String>(),
        ]
    }

    fn maybe_date() -> impl Strategy<Value = Option<Date>> {
        prop_oneof![
            20 => (2014..2028_i32, 1..13_i32, 1..29_i32)
                .prop_map(|(year, month, day)| Some(Date { year, month, day })),
            5 => Just(None),
            1 => any::<(i32, i32, i32)>().prop_map(|(year, month, day)| Some(Date { year, month, day })),
        ]
    }

    fn small_or_any() -> impl Strategy<Value = u32> {
        prop_oneof![40 => 0..14_u32, 1 => any::<u32>()]
    }

    fn size() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            20 => (0.1..12.0_f64).prop_map(Some),
            10 => Just(None),
            1 => any::<f64>().prop_map(Some),
        ]
    }

    const PROCEDURES: &[&str] = &[
        "11404", "11406", "11403", "11424", "11604", "12001", "12032", "13101", "99213", "99214",
        "17110", "11102", "64400", "0001U", "G0168", "11405",
    ];
    const MODIFIERS: &[&str] = &[
        "XS", "59", "25", "24", "57", "79", "RT", "LT", "50", "26", "GA", "XE",
    ];
    const DIAGNOSES: &[&str] = &[
        "D23.5", "D23.61", "D23.62", "D22.5", "D48.5", "C44.519", "L82.1", "Z41.1", "R23.8",
        "D04.5", "H01.8", "L72.0", "D23.39",
    ];
    const SITES: &[&str] = &[
        "trunk", "arm", "leg", "face", "scalp", "neck", "hand", "foot", "ear",
    ];

    fn line() -> impl Strategy<Value = pb::ServiceLine> {
        (
            text(PROCEDURES),
            prop::collection::vec(text(MODIFIERS), 0..5),
            small_or_any(),
            prop::collection::vec(small_or_any(), 0..5),
            size(),
            text(SITES),
            prop_oneof![20 => 0..4_i32, 1 => any::<i32>()],
            size(),
            maybe_date(),
            prop::option::of(text(&["11", "22", "99", "3"])),
            prop::collection::vec(prop_oneof![20 => 1..10_i32, 1 => any::<i32>()], 0..3),
        )
            .prop_map(
                |(
                    procedure_code,
                    modifiers,
                    units,
                    diagnosis_pointers,
                    excised_diameter_cm,
                    anatomic_site,
                    laterality,
                    repair_length_cm,
                    date_of_service,
                    place_of_service,
                    documented_indications,
                )| pb::ServiceLine {
                    procedure_code,
                    modifiers,
                    units,
                    quantity: String::new(),
                    diagnosis_pointers,
                    excised_diameter_cm,
                    anatomic_site,
                    laterality,
                    repair_length_cm,
                    date_of_service,
                    place_of_service,
                    documented_indications,
                },
            )
    }

    fn claim() -> impl Strategy<Value = pb::Claim> {
        (
            text(&["CLM-1", ""]),
            text(&["MEDICARE", "AETNA", "BCBS", "UHC", "CIGNA"]),
            maybe_date(),
            text(&["11", "22", "24"]),
            text(&["1234567893", ""]),
            text(&["207N00000X", "2084P0800X", "208600000X"]),
            (
                text(&["MBR-1", ""]),
                maybe_date(),
                prop_oneof![20 => 0..4_i32, 1 => any::<i32>()],
            ),
            prop::collection::vec(text(DIAGNOSES), 0..13),
            prop::collection::vec(line(), 0..6),
        )
            .prop_map(
                |(
                    claim_id,
                    payer_id,
                    date_of_service,
                    place,
                    npi,
                    taxonomy,
                    patient,
                    diagnoses,
                    lines,
                )| {
                    pb::Claim {
                        claim_id,
                        payer_id,
                        date_of_service,
                        place_of_service: place,
                        rendering_provider: Some(pb::Provider {
                            npi: npi.clone(),
                            taxonomy_code: taxonomy,
                        }),
                        billing_provider: Some(pb::Provider {
                            npi,
                            taxonomy_code: String::new(),
                        }),
                        patient: Some(pb::Patient {
                            member_id: patient.0,
                            birth_date: patient.1,
                            sex: patient.2,
                        }),
                        diagnosis_codes: diagnoses,
                        lines,
                        x12_origin: None,
                    }
                },
            )
    }

    static CATALOG: LazyLock<CatalogSnapshot> = LazyLock::new(crate::rules::test_support::catalog);
    static RULES: LazyLock<RuleSet> = LazyLock::new(RuleSet::standard);

    proptest! {
        /// Any protobuf claim either is refused naming its fields, or goes
        /// through every rule, alone and against a history of itself,
        /// without a panic; every finding points inside the claim. CI runs
        /// 256 cases; a longer run is `PROPTEST_CASES=200000 cargo test
        /// --release --lib arbitrary_claims`.
        #[test]
        fn arbitrary_claims_never_panic_conversion_or_the_rules(claim in claim(), days_before in 0..100_u64) {
            match claim_from_pb(Some(claim), "claim", &ClaimLimits::default()) {
                Err(AppError::InvalidArgument { violations, .. }) => {
                    prop_assert!(!violations.is_empty());
                    prop_assert!(violations.iter().all(|v| v.field.starts_with("claim")));
                }
                Err(other) => prop_assert!(false, "only INVALID_ARGUMENT: {other}"),
                Ok(claim) => {
                    let history: Vec<PriorClaim> = claim
                        .date_of_service
                        .and_then(|d| d.checked_sub_days(chrono::Days::new(days_before)))
                        .map(|date| PriorClaim {
                            claim_id: "CLM-0".into(),
                            date_of_service: date,
                            rendering_npi: claim.rendering_provider.npi.clone(),
                            lines: claim
                                .lines
                                .iter()
                                .map(|l| (l.procedure_code.clone(), l.modifiers.clone()))
                                .collect(),
                        })
                        .into_iter()
                        .collect();
                    for history in [&[][..], &history[..]] {
                        let evaluation = RULES.evaluate(&claim, &CATALOG, history);
                        for not_checked in &evaluation.not_checked {
                            prop_assert!(not_checked.line_number as usize <= claim.lines.len(), "{not_checked:?}");
                        }
                        for finding in evaluation.findings {
                            prop_assert!(finding.line_number as usize <= claim.lines.len(), "{finding:?}");
                            prop_assert!(!finding.message.is_empty());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn claims_round_trip() {
        let claim = pb::Claim {
            claim_id: "CLM-1".into(),
            payer_id: "AETNA".into(),
            date_of_service: Some(date_to_pb(
                NaiveDate::from_ymd_opt(2026, 1, 15).expect("date"),
            )),
            place_of_service: "11".into(),
            rendering_provider: Some(pb::Provider {
                npi: "1234567893".into(),
                taxonomy_code: "207N00000X".into(),
            }),
            billing_provider: Some(pb::Provider::default()),
            patient: Some(pb::Patient {
                sex: pb::Sex::Female.into(),
                birth_date: Some(date_to_pb(
                    NaiveDate::from_ymd_opt(1970, 3, 1).expect("date"),
                )),
                ..Default::default()
            }),
            diagnosis_codes: vec!["D23.5".into()],
            lines: vec![pb::ServiceLine {
                procedure_code: "11404".into(),
                modifiers: vec!["XS".into()],
                units: 1,
                diagnosis_pointers: vec![1],
                excised_diameter_cm: Some(3.5),
                anatomic_site: "trunk".into(),
                laterality: pb::Laterality::Left.into(),
                documented_indications: vec![pb::Indication::Bleeding.into()],
                ..Default::default()
            }],
            x12_origin: None,
        };
        let back = claim_to_pb(
            claim_from_pb(Some(claim.clone()), "claim", &ClaimLimits::default()).expect("valid"),
        );
        assert_eq!(back, claim);
    }

    #[test]
    fn dates_round_trip_and_impossible_ones_name_the_field() {
        let date = NaiveDate::from_ymd_opt(2026, 2, 28).expect("date");
        assert_eq!(date_from_pb(&date_to_pb(date), "d").expect("valid"), date);
        let err = date_from_pb(
            &Date {
                year: 2026,
                month: 2,
                day: 30,
            },
            "claim.date_of_service",
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("claim.date_of_service"), "{err}");
        assert!(
            date_from_pb(
                &Date {
                    year: 0,
                    month: 0,
                    day: 0
                },
                "d"
            )
            .is_err()
        );
    }

    #[test]
    fn every_code_system_maps_both_ways() {
        for system in CodeSystem::ALL {
            let value = i32::from(code_system_to_pb(system));
            assert_eq!(
                optional_code_system_from_pb(value, "system").expect("valid"),
                Some(system)
            );
        }
        assert_eq!(
            optional_code_system_from_pb(0, "system").expect("valid"),
            None
        );
        assert!(optional_code_system_from_pb(99, "system").is_err());
    }
}
