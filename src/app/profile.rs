//! GetProcedureProfile and SuggestProcedureCode: the procedure knowledge of
//! the default data set joined with the official releases in effect on the
//! date of service (titles, billable flags and indicators always come from
//! the loaded code sets).

use chrono::NaiveDate;

use crate::app::catalog::Catalog;
use crate::domain::catalog::{CatalogSnapshot, FeeScheduleRow, ProcedureAttributes};
use crate::domain::claim::{PayerId, ProcedureCode};
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::codes;
use crate::domain::concept::Concept;
use crate::domain::procedures::{self, Applicability, Behavior, Relationship, SuggestError};
use crate::domain::validity;
use crate::error::AppError;

/// The modifiers every profile rates, in display order.
const PROFILE_MODIFIERS: [&str; 17] = [
    "59", "XS", "XE", "XP", "XU", "25", "57", "50", "51", "52", "53", "22", "RT", "LT", "26", "TC",
    "80",
];

/// A modifier on a profile.
#[derive(Debug, Clone)]
pub struct ModifierView {
    /// The modifier.
    pub modifier: String,
    /// Its description (loaded modifier set).
    pub description: String,
    pub applicability: Applicability,
    /// Why this applicability, in the coder's terms.
    pub reason: String,
    /// When to use it.
    pub when_to_use: String,
}

/// A taxonomy on a profile.
#[derive(Debug, Clone)]
pub struct TaxonomyView {
    pub code: String,
    /// Label from the taxonomy release in effect.
    pub display: String,
    pub classification: String,
    pub specialization: String,
    pub note: String,
}

/// A diagnosis on a profile.
#[derive(Debug, Clone)]
pub struct DiagnosisView {
    /// Canonical code.
    pub code: String,
    /// Title from the ICD-10-CM release in effect.
    pub display: String,
    /// Billable on the date.
    pub billable: bool,
    pub relevance: String,
    pub note: String,
    /// Billable children of a header.
    pub billable_children: Vec<Concept>,
}

/// A related procedure on a profile.
#[derive(Debug, Clone)]
pub struct RelatedView {
    pub code: String,
    /// Its descriptor from the loaded code set.
    pub display: String,
    pub relationship: Relationship,
    pub note: String,
}

/// A payer on a profile.
#[derive(Debug, Clone)]
pub struct PayerView {
    pub payer_id: String,
    pub name: String,
    pub notes: Vec<String>,
}

/// A procedure profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub code: String,
    pub descriptor: String,
    /// cpt_licensed or claimscrub.
    pub descriptor_source: String,
    /// Attributes from the default data set.
    pub attributes: Option<ProcedureAttributes>,
    /// Site family display and sites.
    pub site_family: Option<(String, String, Vec<String>)>,
    /// Typical places of service with names.
    pub places_of_service: Vec<(String, String)>,
    /// Fee-schedule row and its release.
    pub fee_schedule: Option<(FeeScheduleRow, CodeSystemVersion)>,
    pub modifiers: Vec<ModifierView>,
    pub taxonomies: Vec<TaxonomyView>,
    pub diagnoses: Vec<DiagnosisView>,
    /// Related procedures.
    pub related: Vec<RelatedView>,
    pub payers: Vec<PayerView>,
    /// Fields with no data and why.
    pub missing: Vec<(String, String)>,
    /// Releases read.
    pub versions: Vec<CodeSystemVersion>,
}

fn procedure_display(
    snapshot: &CatalogSnapshot,
    code: &str,
    date: NaiveDate,
) -> Option<(String, bool, CodeSystemVersion)> {
    let system = codes::procedure_system(code);
    validity::find(snapshot, system, code, date).map(|(release, concept)| {
        (
            concept
                .long_description
                .clone()
                .unwrap_or_else(|| concept.display.clone()),
            !release.version.builtin,
            release.version.clone(),
        )
    })
}

/// GetProcedureProfile.
pub fn profile(
    catalog: &Catalog,
    code: &ProcedureCode,
    date: NaiveDate,
    payer_id: &PayerId,
) -> Result<Profile, AppError> {
    let snapshot = catalog.snapshot();
    let payer_id = payer_id.as_str();
    let code = code.to_string();
    let system = codes::procedure_system(&code);
    if !codes::has_valid_format(system, &code) {
        return Err(AppError::invalid_field(
            "code",
            "must be a CPT or HCPCS code",
        ));
    }
    let knowledge = &snapshot.procedures;
    let attributes = knowledge.attributes.get(&code).cloned();
    let described = procedure_display(&snapshot, &code, date);
    if attributes.is_none() && described.is_none() {
        return Err(AppError::NotFound {
            resource_type: "procedure",
            name: code,
        });
    }
    if !payer_id.is_empty() && !snapshot.payers.contains_key(payer_id) {
        return Err(AppError::NotFound {
            resource_type: "payer",
            name: payer_id.to_owned(),
        });
    }
    let mut versions: Vec<CodeSystemVersion> = Vec::new();
    let mut missing: Vec<(String, String)> = Vec::new();

    let (descriptor, descriptor_source) = match &described {
        Some((text, licensed, version)) => {
            versions.push(version.clone());
            (
                text.clone(),
                if *licensed {
                    "cpt_licensed"
                } else {
                    "claimscrub"
                }
                .to_owned(),
            )
        }
        None => {
            missing.push((
                "descriptor".into(),
                format!("no loaded {system} release has {code} on {date}"),
            ));
            (String::new(), String::new())
        }
    };

    let fees = snapshot.fee_schedule(date).and_then(|release| {
        release
            .global_row(&code)
            .map(|row| (row.clone(), release.version.clone()))
    });
    match &fees {
        Some((_, version)) => versions.push(version.clone()),
        None => missing.push((
            "fee_schedule".into(),
            format!("no loaded MPFS release has {code} on {date}"),
        )),
    }

    let scope = attributes.as_ref().map(procedures::profile_scope);
    let links = |kind: &str| {
        knowledge
            .profile_links
            .iter()
            .filter(|l| {
                l.kind == kind
                    && (Some(&l.procedure_scope) == scope.as_ref() || l.procedure_scope == code)
            })
            .collect::<Vec<_>>()
    };

    let site_family = attributes
        .as_ref()
        .and_then(|a| a.site_family.as_ref())
        .map(|id| {
            let family = knowledge.site_families.get(id);
            (
                id.clone(),
                family.map(|f| f.display.clone()).unwrap_or_default(),
                family.map(|f| f.anatomic_sites.clone()).unwrap_or_default(),
            )
        });
    let pos_release = snapshot.concept_release(CodeSystem::Pos, date);
    let places_of_service = attributes
        .as_ref()
        .map(|a| {
            a.typical_pos
                .iter()
                .map(|pos| {
                    let name = pos_release
                        .and_then(|r| r.concepts.get(pos))
                        .map(|c| c.display.clone())
                        .unwrap_or_default();
                    (pos.clone(), name)
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(release) = pos_release {
        versions.push(release.version.clone());
    }

    let service = attributes.as_ref().map(|a| a.service_type);
    let modifier_links = links("modifier");
    let modifiers = PROFILE_MODIFIERS
        .iter()
        .map(|modifier| {
            let (applicability, mut reason) = procedures::modifier_applicability(
                modifier,
                service,
                fees.as_ref().map(|(r, _)| r),
            );
            if let Some(link) = modifier_links.iter().find(|l| l.target == *modifier)
                && !link.note.is_empty()
            {
                reason = format!("{reason}. {}", link.note);
            }
            let concept =
                validity::find(&snapshot, CodeSystem::Modifier, modifier, date).map(|(_, c)| c);
            ModifierView {
                modifier: (*modifier).to_owned(),
                description: concept.map(|c| c.display.clone()).unwrap_or_default(),
                applicability,
                reason,
                when_to_use: concept
                    .and_then(|c| c.property("when_to_use"))
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect();

    let taxonomy_release = snapshot.concept_release(CodeSystem::Taxonomy, date);
    let taxonomies: Vec<TaxonomyView> = links("taxonomy")
        .into_iter()
        .map(|link| {
            let concept = taxonomy_release.and_then(|r| r.concepts.get(&link.target));
            TaxonomyView {
                code: link.target.clone(),
                display: concept.map(|c| c.display.clone()).unwrap_or_default(),
                classification: concept
                    .and_then(|c| c.property("classification"))
                    .unwrap_or_default()
                    .to_owned(),
                specialization: concept
                    .and_then(|c| c.property("specialization"))
                    .unwrap_or_default()
                    .to_owned(),
                note: link.note.clone(),
            }
        })
        .collect();
    if let Some(release) = taxonomy_release {
        versions.push(release.version.clone());
    }
    if taxonomies.is_empty() {
        missing.push((
            "taxonomies".into(),
            "claimscrub has no taxonomy guidance for this code".into(),
        ));
    }

    let icd_release = snapshot.concept_release(CodeSystem::Icd10Cm, date);
    let diagnoses: Vec<DiagnosisView> = links("diagnosis")
        .into_iter()
        .map(|link| {
            let check = validity::check(&snapshot, CodeSystem::Icd10Cm, &link.target, date);
            DiagnosisView {
                code: link.target.clone(),
                display: check.concept.map(|c| c.display.clone()).unwrap_or_default(),
                billable: check.validity == validity::Validity::Valid,
                relevance: link.relevance.clone(),
                note: link.note.clone(),
                billable_children: check.suggestions.into_iter().cloned().collect(),
            }
        })
        .collect();
    if let Some(release) = icd_release {
        versions.push(release.version.clone());
    }
    if diagnoses.is_empty() {
        missing.push((
            "related_diagnoses".into(),
            "claimscrub has no diagnosis guidance for this code".into(),
        ));
    }

    let related = procedures::related(knowledge, &code)
        .into_iter()
        .map(|(related_code, relationship, note)| RelatedView {
            display: procedure_display(&snapshot, &related_code, date)
                .map(|(text, _, _)| text)
                .unwrap_or_default(),
            code: related_code,
            relationship,
            note,
        })
        .collect();

    let payer_links = links("payer");
    let payers = snapshot
        .payers
        .values()
        .filter(|p| payer_id.is_empty() || p.payer_id == payer_id)
        .map(|payer| PayerView {
            payer_id: payer.payer_id.clone(),
            name: payer.name.clone(),
            notes: std::iter::once(payer.notes.clone())
                .chain(
                    payer_links
                        .iter()
                        .filter(|l| l.target == payer.payer_id)
                        .map(|l| l.note.clone()),
                )
                .filter(|n| !n.is_empty())
                .collect(),
        })
        .collect();

    if attributes.is_none() {
        missing.push((
            "size_band, site_family, lesion_behavior, service_type, typical_places_of_service".into(),
            "outside claimscrub's procedure knowledge (the skin excision, repair, pathology and E/M family)".into(),
        ));
    } else if attributes
        .as_ref()
        .is_some_and(|a| a.size_measure.is_none())
    {
        missing.push((
            "size_band".into(),
            "not applicable: the code has no size band".into(),
        ));
    }
    match snapshot.mue_release(date) {
        Some(release) if !release.limits.contains_key(&code) => missing.push((
            "mue_limit".into(),
            format!(
                "the loaded MUE table {} has no row for {code}",
                release.version.version
            ),
        )),
        None => missing.push(("mue_limit".into(), "no MUE table is loaded".into())),
        Some(_) => {}
    }
    match snapshot.ptp_release(date) {
        Some(release) if !release.edits.contains_key(&code) => missing.push((
            "ncci_ptp_edits".into(),
            format!(
                "the loaded NCCI PTP table {} has no column-1 rows for {code}",
                release.version.version
            ),
        )),
        None => missing.push((
            "ncci_ptp_edits".into(),
            "no NCCI PTP table is loaded".into(),
        )),
        Some(_) => {}
    }
    versions.sort_by_key(|v| v.system);
    versions.dedup_by(|a, b| a.system == b.system && a.version == b.version);

    Ok(Profile {
        code,
        descriptor,
        descriptor_source,
        attributes,
        site_family,
        places_of_service,
        fee_schedule: fees,
        modifiers,
        taxonomies,
        diagnoses,
        related,
        payers,
        missing,
        versions,
    })
}

/// A SuggestProcedureCode answer.
#[derive(Debug, Clone)]
pub struct SuggestAnswer {
    /// The suggestion and its reasoning.
    pub suggestion: procedures::Suggestion,
    /// Descriptor of the suggested code.
    pub display: String,
    /// Alternatives as (code, descriptor, when it applies).
    pub alternatives: Vec<(String, String, String)>,
}

/// SuggestProcedureCode: the code, its descriptor and the reasoning.
pub fn suggest(
    catalog: &Catalog,
    behavior: Option<Behavior>,
    site: &str,
    diameter_cm: f64,
    date: NaiveDate,
) -> Result<SuggestAnswer, AppError> {
    let behavior = behavior.ok_or_else(|| {
        AppError::invalid_field(
            "lesion_behavior",
            "benign, malignant or uncertain is required",
        )
    })?;
    let snapshot = catalog.snapshot();
    let suggestion =
        procedures::suggest_excision(&snapshot.procedures, behavior, site.trim(), diameter_cm)
            .map_err(|e| match e {
                SuggestError::InvalidDiameter => {
                    AppError::invalid_field("excised_diameter_cm", e.to_string())
                }
                SuggestError::UnknownSite(_) => {
                    AppError::invalid_field("anatomic_site", e.to_string())
                }
            })?;
    let display = |code: &str| {
        procedure_display(&snapshot, code, date)
            .map(|(text, _, _)| text)
            .unwrap_or_default()
    };
    let alternatives = suggestion
        .alternatives
        .iter()
        .map(|(code, reason)| (code.clone(), display(code), reason.clone()))
        .collect();
    Ok(SuggestAnswer {
        display: display(&suggestion.code),
        suggestion,
        alternatives,
    })
}
