//! Procedure knowledge that no official file carries, as logic over the
//! default data set's attributes: which excision code fits a lesion (size
//! bands are contiguous half-open intervals), how codes relate, and which
//! modifiers apply to a code given its fee-schedule indicators.

use crate::domain::catalog::{FeeScheduleRow, ProcedureAttributes, ProcedureKnowledge};
use crate::domain::service_type::ServiceType;

/// Modifiers that mark a distinct procedural service: 59 first, then the
/// more specific X{EPSU} (separate encounter, practitioner, structure,
/// unusual non-overlapping service).
pub const DISTINCT_SERVICE_MODIFIERS: [&str; 5] = ["59", "XE", "XP", "XS", "XU"];

/// Lesion behaviour as the coder states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Benign,
    Malignant,
    /// Uncertain: coded as benign until pathology says otherwise.
    Uncertain,
}

impl Behavior {
    fn coded_as(self) -> &'static str {
        match self {
            Self::Benign | Self::Uncertain => "benign",
            Self::Malignant => "malignant",
        }
    }
}

/// Why no code can be suggested for the input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SuggestError {
    /// Zero, negative or not a number.
    #[error("the excised diameter must be a number greater than 0 cm")]
    InvalidDiameter,
    /// Not in the anatomic-site vocabulary, or no excision family covers it.
    #[error("{0:?} is not an anatomic site covered by an excision code family")]
    UnknownSite(String),
}

/// A suggested code with its reasoning.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The code.
    pub code: String,
    /// The size band or rule that picked the code.
    pub rationale: String,
    /// Warnings for the coder.
    pub warnings: Vec<String>,
    /// Alternatives with when they would apply.
    pub alternatives: Vec<(String, String)>,
}

/// The size a line documents for a code with a size band: the value (if
/// given), the line field it comes from and what it measures in words.
/// `None` for codes without a band.
pub fn measured_size(
    attributes: &ProcedureAttributes,
    line: &crate::domain::claim::ServiceLine,
) -> Option<(Option<f64>, &'static str, &'static str)> {
    match attributes.size_measure.as_deref() {
        Some("excised_diameter_cm") => Some((
            line.excised_diameter_cm,
            "excised_diameter_cm",
            "excised diameter",
        )),
        Some("repair_length_cm") => {
            Some((line.repair_length_cm, "repair_length_cm", "repair length"))
        }
        _ => None,
    }
}

/// Whether `value` lies in the band (lower, upper].
pub fn in_band(attributes: &ProcedureAttributes, value: f64) -> bool {
    attributes
        .size_lower_exclusive
        .is_some_and(|lower| value > lower)
        && attributes
            .size_upper_inclusive
            .is_none_or(|upper| value <= upper)
}

/// Whether `other` is the same size band as `this` for `line`: the band
/// that holds the line's measurement when it carries one (12002 at 6.0 cm
/// is 12014 on the face, not 12013), else the same bounds.
pub fn same_band(
    this: &ProcedureAttributes,
    other: &ProcedureAttributes,
    line: &crate::domain::claim::ServiceLine,
) -> bool {
    match measured_size(this, line).and_then(|(value, _, _)| value) {
        Some(value) => other.size_measure == this.size_measure && in_band(other, value),
        None => {
            other.size_lower_exclusive == this.size_lower_exclusive
                && other.size_upper_inclusive == this.size_upper_inclusive
        }
    }
}

/// A band in words, e.g. "3.1 to 4.0 cm" or "over 4.0 cm".
pub fn band_display(attributes: &ProcedureAttributes) -> String {
    match (
        attributes.size_lower_exclusive,
        attributes.size_upper_inclusive,
    ) {
        (Some(lower), Some(upper)) if lower <= 0.0 => format!("{upper:.1} cm or less"),
        (Some(lower), Some(upper)) => format!("over {lower:.1} up to {upper:.1} cm"),
        (Some(lower), None) => format!("over {lower:.1} cm"),
        _ => "no size band".to_owned(),
    }
}

/// Whether a measurement is recorded to more than one decimal place.
pub fn finer_than_one_decimal(value: f64) -> bool {
    let tenths = value * 10.0;
    (tenths - tenths.round()).abs() > 1e-6
}

/// The profile scope id of a code (the key of its profile guidance).
pub fn profile_scope(attributes: &ProcedureAttributes) -> String {
    let family = attributes.site_family.as_deref().unwrap_or_default();
    match attributes.service_type {
        ServiceType::Excision => {
            let region = if family.starts_with("face") {
                "face"
            } else {
                family
            };
            format!(
                "excision_{}_{region}",
                attributes.lesion_behavior.as_deref().unwrap_or("benign")
            )
        }
        ServiceType::SimpleRepair => "repair_simple".to_owned(),
        ServiceType::IntermediateRepair => "repair_intermediate".to_owned(),
        other => other.as_str().to_owned(),
    }
}

/// The excision code for a lesion.
pub fn suggest_excision(
    knowledge: &ProcedureKnowledge,
    behavior: Behavior,
    site: &str,
    diameter_cm: f64,
) -> Result<Suggestion, SuggestError> {
    if !diameter_cm.is_finite() || diameter_cm <= 0.0 {
        return Err(SuggestError::InvalidDiameter);
    }
    let excisions = || {
        knowledge
            .attributes
            .iter()
            .filter(|(_, a)| a.service_type == ServiceType::Excision)
    };
    let covers_site = |a: &ProcedureAttributes| {
        a.site_family
            .as_ref()
            .and_then(|f| knowledge.site_families.get(f))
            .is_some_and(|f| f.anatomic_sites.iter().any(|s| s == site))
    };
    let family = excisions()
        .find(|(_, a)| covers_site(a))
        .and_then(|(_, a)| a.site_family.clone())
        .ok_or_else(|| SuggestError::UnknownSite(site.to_owned()))?;
    let coded_as = behavior.coded_as();
    let (code, attributes) = excisions()
        .filter(|(_, a)| a.site_family.as_deref() == Some(family.as_str()))
        .filter(|(_, a)| a.lesion_behavior.as_deref() == Some(coded_as))
        .find(|(_, a)| in_band(a, diameter_cm))
        .ok_or_else(|| SuggestError::UnknownSite(site.to_owned()))?;

    let mut warnings = Vec::new();
    if finer_than_one_decimal(diameter_cm) {
        warnings.push(format!(
            "the diameter {diameter_cm} cm is recorded to more than one decimal; CPT bands are stated in tenths of a \
             centimetre: document the excised diameter to one decimal"
        ));
    }
    if behavior == Behavior::Uncertain {
        warnings.push(
            "uncertain behaviour is coded with the benign excision code until pathology confirms a malignancy"
                .to_owned(),
        );
    }
    let family_display = knowledge
        .site_families
        .get(&family)
        .map_or(family.clone(), |f| f.display.clone());
    let rationale = format!(
        "{coded_as} lesion, {site} ({family_display}), excised diameter {diameter_cm} cm is in the band {} of {code}; \
         bands are contiguous: a diameter above one band's upper limit belongs to the next band",
        band_display(attributes)
    );
    let twin_behavior = if coded_as == "benign" {
        "malignant"
    } else {
        "benign"
    };
    let mut alternatives: Vec<(String, String)> = excisions()
        .filter(|(_, a)| a.site_family.as_deref() == Some(family.as_str()))
        .filter(|(_, a)| a.lesion_behavior.as_deref() == Some(twin_behavior))
        .filter(|(_, a)| in_band(a, diameter_cm))
        .map(|(c, _)| {
            (
                c.clone(),
                format!("if pathology shows the lesion is {twin_behavior}"),
            )
        })
        .collect();
    alternatives.sort();
    Ok(Suggestion {
        code: code.clone(),
        rationale,
        warnings,
        alternatives,
    })
}

/// How a code relates to another (see [`related`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// Next smaller band.
    SmallerSize,
    /// Next larger band.
    LargerSize,
    /// Same band and family, malignant.
    MalignantTwin,
    /// Same band and family, benign.
    BenignTwin,
    /// Same band and behaviour, another family.
    OtherSiteFamily,
    /// A repair included in the excision.
    RepairIncluded,
    /// A repair reported in addition.
    RepairSeparatelyReportable,
    /// Pathology of the specimen.
    Pathology,
    /// Same-day E/M, which needs modifier 25.
    SameDayEvaluation,
}

/// Codes related to `code`, with the relationship and a note.
pub fn related(knowledge: &ProcedureKnowledge, code: &str) -> Vec<(String, Relationship, String)> {
    let Some(this) = knowledge.attributes.get(code) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut all: Vec<(&String, &ProcedureAttributes)> = knowledge.attributes.iter().collect();
    all.sort_by(|a, b| a.0.cmp(b.0));
    let same_band = |a: &ProcedureAttributes| {
        a.size_lower_exclusive == this.size_lower_exclusive
            && a.size_upper_inclusive == this.size_upper_inclusive
    };
    if this.service_type == ServiceType::Excision {
        let mut siblings: Vec<(&String, &ProcedureAttributes)> = all
            .iter()
            .copied()
            .filter(|(_, a)| {
                a.service_type == this.service_type
                    && a.site_family == this.site_family
                    && a.lesion_behavior == this.lesion_behavior
            })
            .collect();
        siblings.sort_by(|a, b| {
            let lower =
                |x: &ProcedureAttributes| x.size_lower_exclusive.unwrap_or(f64::NEG_INFINITY);
            lower(a.1).total_cmp(&lower(b.1))
        });
        if let Some(position) = siblings.iter().position(|(c, _)| c.as_str() == code) {
            if position > 0 {
                let (c, a) = siblings[position - 1];
                out.push((
                    c.clone(),
                    Relationship::SmallerSize,
                    format!("excised diameter {}", band_display(a)),
                ));
            }
            if let Some((c, a)) = siblings.get(position + 1) {
                out.push((
                    (*c).clone(),
                    Relationship::LargerSize,
                    format!("excised diameter {}", band_display(a)),
                ));
            }
        }
        for (c, a) in all
            .iter()
            .filter(|(_, a)| a.service_type == ServiceType::Excision && same_band(a))
        {
            if a.site_family == this.site_family && a.lesion_behavior != this.lesion_behavior {
                let relationship = if a.lesion_behavior.as_deref() == Some("malignant") {
                    Relationship::MalignantTwin
                } else {
                    Relationship::BenignTwin
                };
                out.push((
                    (*c).clone(),
                    relationship,
                    "same site family and size band".to_owned(),
                ));
            } else if a.site_family != this.site_family && a.lesion_behavior == this.lesion_behavior
            {
                out.push((
                    (*c).clone(),
                    Relationship::OtherSiteFamily,
                    format!(
                        "same size band, {}",
                        a.site_family.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        let sites = |family: &Option<String>| -> Vec<String> {
            family
                .as_ref()
                .and_then(|f| knowledge.site_families.get(f))
                .map(|f| f.anatomic_sites.clone())
                .unwrap_or_default()
        };
        let own_sites = sites(&this.site_family);
        let benign_half_cm = this.lesion_behavior.as_deref() == Some("benign")
            && this.size_upper_inclusive.is_some_and(|u| u <= 0.5);
        for (c, a) in &all {
            let overlaps = sites(&a.site_family).iter().any(|s| own_sites.contains(s));
            if !overlaps {
                continue;
            }
            if a.service_type == ServiceType::SimpleRepair {
                out.push((
                    (*c).clone(),
                    Relationship::RepairIncluded,
                    "excision includes simple closure of its own wound; report simple repair only for a separate \
                     wound, with 59/XS"
                        .to_owned(),
                ));
            } else if a.service_type == ServiceType::IntermediateRepair {
                let (relationship, note) = if benign_half_cm {
                    (
                        Relationship::RepairIncluded,
                        "NCCI: a benign excision of 0.5 cm or less includes intermediate and complex repair",
                    )
                } else {
                    (
                        Relationship::RepairSeparatelyReportable,
                        "intermediate (layered) repair is reported in addition to the excision",
                    )
                };
                out.push(((*c).clone(), relationship, note.to_owned()));
            }
        }
    }
    if matches!(
        this.service_type,
        ServiceType::Excision | ServiceType::SimpleRepair | ServiceType::IntermediateRepair
    ) {
        for (c, a) in &all {
            match a.service_type {
                ServiceType::SurgicalPathology if this.service_type == ServiceType::Excision => out.push((
                    (*c).clone(),
                    Relationship::Pathology,
                    "examination of the excised specimen, billed by the pathologist".to_owned(),
                )),
                ServiceType::EvaluationManagement => out.push((
                    (*c).clone(),
                    Relationship::SameDayEvaluation,
                    "a significant, separately identifiable same-day visit is billed with modifier 25 on the E/M"
                        .to_owned(),
                )),
                _ => {}
            }
        }
    }
    out
}

/// Applicability of a modifier to a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    /// May be appended when its conditions are met.
    Allowed,
    /// Must not be appended.
    NotAllowed,
    /// Informational or payer-applied.
    Informational,
}

/// Applicability of `modifier` to a code of `service` (when known) with
/// fee-schedule row `fees`, with the reason (derived from the indicators
/// where they decide).
pub fn modifier_applicability(
    modifier: &str,
    service: Option<ServiceType>,
    fees: Option<&FeeScheduleRow>,
) -> (Applicability, String) {
    use Applicability::{Allowed, Informational, NotAllowed};
    let is_em = service == Some(ServiceType::EvaluationManagement);
    let indicator = |f: fn(&FeeScheduleRow) -> &str| fees.map(f);
    match modifier {
        "26" | "TC" => match indicator(|r| &r.pctc) {
            Some("1") => (
                Allowed,
                "PC/TC indicator 1: the code has professional and technical components".into(),
            ),
            Some(value) => (
                NotAllowed,
                format!(
                    "PC/TC indicator {value}: modifiers 26 and TC cannot be used with this code"
                ),
            ),
            None => (
                Informational,
                "no fee-schedule row: PC/TC split unknown".into(),
            ),
        },
        "50" => match indicator(|r| &r.bilat) {
            Some("1") => (
                Allowed,
                "bilateral indicator 1: 150% payment adjustment applies".into(),
            ),
            Some("3") => (
                Allowed,
                "bilateral indicator 3: each side is paid at 100%".into(),
            ),
            Some(value) => (
                NotAllowed,
                format!(
                    "bilateral indicator {value}: the bilateral adjustment is inappropriate; separate lesions are \
                     separate procedures on their own lines"
                ),
            ),
            None => (
                Informational,
                "no fee-schedule row: bilateral indicator unknown".into(),
            ),
        },
        "80" | "81" | "82" | "AS" => match indicator(|r| &r.asst) {
            Some("1") => (
                NotAllowed,
                "assistant indicator 1: statutory restriction, an assistant is not paid".into(),
            ),
            Some("0") => (
                Allowed,
                "assistant indicator 0: paid only with documented medical necessity".into(),
            ),
            Some("2") => (
                Allowed,
                "assistant indicator 2: an assistant may be paid".into(),
            ),
            Some(value) => (
                NotAllowed,
                format!("assistant indicator {value}: not applicable"),
            ),
            None => (
                Informational,
                "no fee-schedule row: assistant indicator unknown".into(),
            ),
        },
        "25" | "24" => {
            if is_em {
                (
                    Allowed,
                    format!("{modifier} applies to evaluation and management codes"),
                )
            } else {
                (
                    NotAllowed,
                    format!(
                        "{modifier} applies only to E/M codes: it belongs on the same-day E/M line"
                    ),
                )
            }
        }
        "57" => {
            let minor = indicator(|r| &r.global_days).is_some_and(|g| g == "000" || g == "010");
            if is_em {
                (
                    Allowed,
                    "decision for surgery: on the E/M before a 090-day global procedure".into(),
                )
            } else if minor {
                (
                    NotAllowed,
                    "57 goes on an E/M, and Medicare does not pay it for a procedure with a 000 or 010 global period"
                        .into(),
                )
            } else {
                (NotAllowed, "57 applies only to E/M codes".into())
            }
        }
        "95" => {
            if is_em {
                (Allowed, "synchronous telehealth visit".into())
            } else {
                (
                    NotAllowed,
                    "a procedure cannot be performed by telehealth".into(),
                )
            }
        }
        "59" | "XE" | "XP" | "XS" | "XU" => {
            if is_em {
                (
                    NotAllowed,
                    "distinct-procedure modifiers are not used on E/M codes (use 25)".into(),
                )
            } else {
                (
                    Allowed,
                    "distinct procedural service: a separate lesion, site or encounter that an NCCI edit with \
                     modifier indicator 1 would otherwise bundle"
                        .into(),
                )
            }
        }
        "51" => (
            Informational,
            format!(
                "multiple procedures; payers apply the reduction (multiple procedure indicator {})",
                indicator(|r| &r.mult_proc).unwrap_or("unknown")
            ),
        ),
        "22" | "52" | "53" => (
            Allowed,
            "allowed with documentation; subject to medical review".into(),
        ),
        "58" | "76" | "77" | "78" | "79" => {
            if is_em {
                (
                    NotAllowed,
                    format!("{modifier} applies to procedures, not E/M codes"),
                )
            } else {
                (
                    Allowed,
                    "for a related or repeat procedure, or one during another's global period"
                        .into(),
                )
            }
        }
        "RT" | "LT" => (
            Informational,
            "anatomic: says the side; each lesion is reported on its own line".into(),
        ),
        _ => (
            Informational,
            "no coding rule restricts it for this code".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::catalog::SiteFamily;

    fn attributes(
        behavior: &str,
        family: &str,
        lower: f64,
        upper: Option<f64>,
    ) -> ProcedureAttributes {
        ProcedureAttributes {
            service_type: ServiceType::Excision,
            lesion_behavior: Some(behavior.into()),
            site_family: Some(family.into()),
            size_measure: Some("excised_diameter_cm".into()),
            size_lower_exclusive: Some(lower),
            size_upper_inclusive: upper,
            typical_pos: Vec::new(),
        }
    }

    /// The excision family, built from the bands CPT states.
    fn knowledge() -> ProcedureKnowledge {
        let bands = [
            (0.0, Some(0.5)),
            (0.5, Some(1.0)),
            (1.0, Some(2.0)),
            (2.0, Some(3.0)),
            (3.0, Some(4.0)),
            (4.0, None),
        ];
        let suffixes = ["0", "1", "2", "3", "4", "6"];
        let mut attributes_by_code = HashMap::new();
        for (prefix, behavior, family) in [
            ("1140", "benign", "trunk_arms_legs"),
            ("1142", "benign", "scalp_neck_hands_feet_genitalia"),
            (
                "1144",
                "benign",
                "face_ears_eyelids_nose_lips_mucous_membrane",
            ),
            ("1160", "malignant", "trunk_arms_legs"),
            ("1162", "malignant", "scalp_neck_hands_feet_genitalia"),
            (
                "1164",
                "malignant",
                "face_ears_eyelids_nose_lips_mucous_membrane",
            ),
        ] {
            for ((lower, upper), suffix) in bands.iter().zip(suffixes) {
                attributes_by_code.insert(
                    format!("{prefix}{suffix}"),
                    attributes(behavior, family, *lower, *upper),
                );
            }
        }
        let family = |sites: &[&str]| SiteFamily {
            display: String::new(),
            anatomic_sites: sites.iter().map(|s| (*s).to_owned()).collect(),
        };
        ProcedureKnowledge {
            attributes: attributes_by_code,
            site_families: HashMap::from([
                (
                    "trunk_arms_legs".to_owned(),
                    family(&["trunk", "arm", "leg"]),
                ),
                (
                    "scalp_neck_hands_feet_genitalia".to_owned(),
                    family(&["scalp", "neck", "hand", "foot", "genitalia"]),
                ),
                (
                    "face_ears_eyelids_nose_lips_mucous_membrane".to_owned(),
                    family(&["face", "ear", "eyelid", "nose", "lip", "mucous_membrane"]),
                ),
            ]),
            ..ProcedureKnowledge::default()
        }
    }

    #[test]
    fn bands_are_contiguous_half_open_intervals() {
        let k = knowledge();
        for (diameter, code) in [
            (3.0, "11403"),
            (3.05, "11404"),
            (3.1, "11404"),
            (4.0, "11404"),
            (4.05, "11406"),
            (0.5, "11400"),
        ] {
            let suggestion =
                suggest_excision(&k, Behavior::Benign, "trunk", diameter).expect("suggestion");
            assert_eq!(suggestion.code, code, "{diameter} cm");
        }
        assert_eq!(
            suggest_excision(&k, Behavior::Malignant, "trunk", 3.5)
                .expect("ok")
                .code,
            "11604"
        );
        assert_eq!(
            suggest_excision(&k, Behavior::Benign, "face", 3.5)
                .expect("ok")
                .code,
            "11444"
        );
        assert_eq!(
            suggest_excision(&k, Behavior::Uncertain, "arm", 1.5)
                .expect("ok")
                .code,
            "11402"
        );
    }

    #[test]
    fn precision_and_bad_input_are_reported() {
        let k = knowledge();
        assert!(
            suggest_excision(&k, Behavior::Benign, "trunk", 3.05)
                .expect("ok")
                .warnings[0]
                .contains("one decimal")
        );
        assert!(
            suggest_excision(&k, Behavior::Benign, "trunk", 3.1)
                .expect("ok")
                .warnings
                .is_empty()
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                suggest_excision(&k, Behavior::Benign, "trunk", bad),
                Err(SuggestError::InvalidDiameter)
            );
        }
        assert!(matches!(
            suggest_excision(&k, Behavior::Benign, "elbow", 1.0),
            Err(SuggestError::UnknownSite(_))
        ));
    }

    #[test]
    fn the_malignant_twin_of_11404_is_11604_not_11646() {
        let k = knowledge();
        let related = related(&k, "11404");
        let twins: Vec<&str> = related
            .iter()
            .filter(|(_, r, _)| *r == Relationship::MalignantTwin)
            .map(|(c, _, _)| c.as_str())
            .collect();
        assert_eq!(twins, ["11604"]);
        let sizes: Vec<(&str, Relationship)> = related
            .iter()
            .filter(|(_, r, _)| matches!(r, Relationship::SmallerSize | Relationship::LargerSize))
            .map(|(c, r, _)| (c.as_str(), *r))
            .collect();
        assert_eq!(
            sizes,
            [
                ("11403", Relationship::SmallerSize),
                ("11406", Relationship::LargerSize)
            ]
        );
    }

    #[test]
    fn modifiers_follow_the_11404_indicators() {
        let row = FeeScheduleRow {
            status: crate::domain::mpfs_status::MpfsStatus::Active,
            pctc: "0".into(),
            global_days: "010".into(),
            mult_proc: "2".into(),
            bilat: "0".into(),
            asst: "1".into(),
            co_surg: "0".into(),
            team_surg: "0".into(),
            work_rvu: None,
        };
        let on_excision =
            |m: &str| modifier_applicability(m, Some(ServiceType::Excision), Some(&row)).0;
        assert_eq!(on_excision("26"), Applicability::NotAllowed);
        assert_eq!(on_excision("TC"), Applicability::NotAllowed);
        assert_eq!(on_excision("50"), Applicability::NotAllowed);
        assert_eq!(on_excision("25"), Applicability::NotAllowed);
        assert_eq!(on_excision("57"), Applicability::NotAllowed);
        assert_eq!(on_excision("80"), Applicability::NotAllowed);
        assert_eq!(on_excision("59"), Applicability::Allowed);
        assert_eq!(on_excision("RT"), Applicability::Informational);
        assert_eq!(on_excision("51"), Applicability::Informational);
        assert_eq!(
            modifier_applicability("25", Some(ServiceType::EvaluationManagement), None).0,
            Applicability::Allowed
        );
    }
}
