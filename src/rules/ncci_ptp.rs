//! NCCI procedure-to-procedure edits from the loaded PTP table: a column-2
//! code is not paid with its column-1 code on the same date of service,
//! unless the edit's modifier indicator is 1 and an NCCI-associated modifier
//! marks a distinct service. Indicator 9 edits do not apply; an edit applies
//! from its effective date through its deletion date.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::{Laterality, ServiceLine};
use crate::domain::finding::{NotCheckedReason, Severity};

/// Modifiers NCCI accepts to bypass an indicator-1 edit (NCCI policy manual
/// ch. I: anatomic, global-surgery and distinct-service modifiers).
const NCCI_ASSOCIATED: [&str; 36] = [
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "TA", "T1",
    "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "LT", "RT", "LC", "LD", "RC", "24", "25", "57",
    "58", "59", "78", "79",
];
const DISTINCT: [&str; 5] = ["XE", "XP", "XS", "XU", "91"];

/// A bundled code pair on one date of service.
#[derive(Debug, Clone, Copy)]
pub struct NcciPtpEdit;

impl NcciPtpEdit {
    const META: RuleMeta = RuleMeta {
        id: "NCCI_PTP_EDIT",
        description: "Column-2 code billed with its column-1 code (NCCI procedure-to-procedure edit)",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for NcciPtpEdit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let lines: Vec<_> = context.lines().collect();
        if lines.len() < 2 {
            return;
        }
        // A column-2 line bundled into a code billed on two lines is one
        // finding, not one per column-1 line.
        let mut reported: Vec<(u32, &str)> = Vec::new();
        for (number, line, date) in &lines {
            let Some(date) = date else {
                out.not_checked(
                    self,
                    *number,
                    NotCheckedReason::NoDateOfService,
                    "the line has no date of service",
                );
                continue;
            };
            let code = line.procedure_code.as_str();
            let Some(table) = context.catalog.ptp_release(*date) else {
                out.not_checked(
                    self,
                    *number,
                    NotCheckedReason::NoReleaseInEffect,
                    format!("no NCCI PTP release is in effect on {date}"),
                );
                continue;
            };
            if !table.names(code) {
                out.not_checked(
                    self,
                    *number,
                    NotCheckedReason::NoReferenceRow,
                    format!(
                        "NCCI PTP {} has no row naming {code}",
                        table.version.version
                    ),
                );
            }
            let Some(edits) = table.edits.get(code) else {
                continue;
            };
            for (other_number, other, other_date) in &lines {
                if other_number == number || other_date.as_ref() != Some(date) {
                    continue;
                }
                let column2 = other.procedure_code.as_str();
                let Some(edit) = edits
                    .iter()
                    .find(|e| e.column2 == column2 && e.is_active_on(*date))
                else {
                    continue;
                };
                let misused_xs = edit.modifier_indicator == 1 && same_structure(line, other);
                let fires = match edit.modifier_indicator {
                    0 => true,
                    // Medicare accepts the modifier on either code of the pair.
                    1 => misused_xs || (!bypassed(other) && !bypassed(line)),
                    _ => false,
                };
                if fires && reported.contains(&(*other_number, code)) {
                    continue;
                }
                if !fires {
                    if edit.modifier_indicator == 1
                        && (other.has_modifier("XS") || line.has_modifier("XS"))
                        && (other.anatomic_site.is_none() || line.anatomic_site.is_none())
                    {
                        out.not_checked(
                            self,
                            *other_number,
                            NotCheckedReason::FieldNotSent,
                            format!(
                                "XS bypasses {code} / {column2}; without both lines' anatomic sites the separate structure is not verified"
                            ),
                        );
                    }
                    continue;
                }
                let mut f = finding(
                    self,
                    *other_number,
                    format!("lines[{}].procedure_code", other_number - 1),
                    format!(
                        "{column2} is bundled into {code} on the same day (NCCI {}, modifier indicator {}: {})",
                        table.version.version, edit.modifier_indicator, edit.rationale
                    ),
                );
                f.suggestion = Some(if misused_xs {
                    format!(
                        "XS says separate structure, but both lines name the {}: remove the line, or correct the site",
                        other.anatomic_site.as_deref().unwrap_or_default()
                    )
                } else if edit.modifier_indicator == 1 {
                    "remove the line, or if it was a separate site or session, append XS/XE/XP/XU (or 59) and document it".into()
                } else {
                    "remove the line: no modifier makes this pair payable".into()
                });
                reported.push((*other_number, code));
                out.push(f);
            }
        }
    }
}

fn bypassed(line: &ServiceLine) -> bool {
    NCCI_ASSOCIATED
        .iter()
        .chain(DISTINCT.iter())
        .any(|m| line.has_modifier(m))
}

/// XS (separate structure) on a pair whose lines name the same anatomic
/// site, the same side, and no other bypass: the modifier contradicts the
/// claim itself, so it bypasses nothing. Two sides (RT/LT, or the lines'
/// lateralities) are separate structures; another modifier (59, XU, 79,
/// ...) may state a separate session or encounter, which a site cannot
/// disprove.
fn same_structure(line: &ServiceLine, other: &ServiceLine) -> bool {
    let side = |l: &ServiceLine| {
        if l.has_modifier("RT") {
            Some(Laterality::Right)
        } else if l.has_modifier("LT") {
            Some(Laterality::Left)
        } else {
            (l.laterality != Laterality::Unspecified).then_some(l.laterality)
        }
    };
    let other_bypass = |l: &ServiceLine| {
        NCCI_ASSOCIATED
            .iter()
            .chain(DISTINCT.iter())
            .filter(|m| !matches!(**m, "XS" | "RT" | "LT"))
            .any(|m| l.has_modifier(m))
    };
    (line.has_modifier("XS") || other.has_modifier("XS"))
        && !other_bypass(line)
        && !other_bypass(other)
        && side(line).zip(side(other)).is_none_or(|(a, b)| a == b)
        && line
            .anatomic_site
            .as_ref()
            .is_some_and(|site| other.anatomic_site.as_ref() == Some(site))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;
    use crate::domain::catalog::{PtpEdit, PtpRelease};
    use crate::domain::claim::Claim;
    use crate::domain::code_system::CodeSystem;
    use crate::rules::test_support::{catalog, clean_claim, date, line};

    fn evaluate(indicator: u8, deleted: Option<&str>, claim: &Claim) -> usize {
        report(indicator, deleted, claim).findings.len()
    }

    fn report(indicator: u8, deleted: Option<&str>, claim: &Claim) -> Report {
        let mut catalog = catalog();
        let mut version = catalog.fee_schedules[0].version.clone();
        version.system = CodeSystem::NcciPtp;
        catalog.ptp = vec![Arc::new(PtpRelease::new(
            version,
            HashMap::from([(
                "11404".to_owned(),
                vec![PtpEdit {
                    column2: "12001".into(),
                    effective_date: date("2020-01-01"),
                    deletion_date: deleted.map(date),
                    modifier_indicator: indicator,
                    rationale: "Standards of medical/surgical practice".into(),
                }],
            )]),
        ))];
        let mut out = Report::default();
        NcciPtpEdit.evaluate(
            &RuleContext {
                claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        out
    }

    fn reasons(report: &Report) -> Vec<(u32, NotCheckedReason)> {
        report
            .not_checked
            .iter()
            .map(|n| (n.line_number, n.reason))
            .collect()
    }

    fn with_repair(modifiers: &[&str]) -> Claim {
        let mut claim = clean_claim();
        claim.lines.push(line("12001", modifiers, &[1]));
        claim
    }

    #[test]
    fn pairs_fire_by_modifier_indicator() {
        assert_eq!(
            evaluate(0, None, &with_repair(&["XS"])),
            1,
            "indicator 0: no modifier helps"
        );
        assert_eq!(
            evaluate(1, None, &with_repair(&[])),
            1,
            "indicator 1 without a modifier"
        );
        assert_eq!(
            evaluate(1, None, &with_repair(&["XS"])),
            0,
            "indicator 1 with XS"
        );
        assert_eq!(
            evaluate(9, None, &with_repair(&[])),
            0,
            "indicator 9 does not apply"
        );
        assert_eq!(
            evaluate(1, Some("2024-12-31"), &with_repair(&[])),
            0,
            "deleted before the date of service"
        );
    }

    /// XS says "separate structure": on two lines that name the same site it
    /// contradicts the claim and bypasses nothing; on different sites it
    /// bypasses; with a site missing the bypass stands, marked not checked.
    #[test]
    fn xs_bypasses_only_a_separate_structure() {
        let mut claim = with_repair(&["XS"]);
        claim.lines[1].anatomic_site = Some("trunk".into());
        assert_eq!(evaluate(1, None, &claim), 1, "same site as the excision");
        claim.lines[1].anatomic_site = Some("arm".into());
        assert_eq!(evaluate(1, None, &claim), 0, "another site");
        claim.lines[1].anatomic_site = None;
        let report = report(1, None, &claim);
        assert!(report.findings.is_empty());
        assert_eq!(reasons(&report), [(2, NotCheckedReason::FieldNotSent)]);
    }

    #[test]
    fn a_code_the_table_never_names_is_not_checked() {
        let mut claim = clean_claim();
        claim.lines.push(line("64400", &[], &[1]));
        let report = report(1, None, &claim);
        assert!(report.findings.is_empty());
        assert_eq!(reasons(&report), [(2, NotCheckedReason::NoReferenceRow)]);
    }

    #[test]
    fn a_code_billed_on_two_lines_bundles_a_pair_once() {
        let mut claim = with_repair(&[]);
        claim.lines.insert(1, claim.lines[0].clone());
        assert_eq!(evaluate(0, None, &claim), 1);
    }
}
