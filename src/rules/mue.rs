//! Medically unlikely edits from the loaded MUE table: units of a code above
//! its MUE value. MAI 1 counts each line on its own; MAI 2 (policy, absolute)
//! and MAI 3 (clinical) add up every line of the code on the date of service.

use std::collections::BTreeMap;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::{Quantity, UnitBasis};
use crate::domain::finding::{NotCheckedReason, Severity};

/// Units above the MUE value.
#[derive(Debug, Clone, Copy)]
pub struct MueExceeded;

impl MueExceeded {
    const META: RuleMeta = RuleMeta {
        id: "MUE_EXCEEDED",
        description: "Units of service above the code's medically unlikely edit",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for MueExceeded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let mut per_day: BTreeMap<(String, chrono::NaiveDate), (Quantity, u32)> = BTreeMap::new();
        for (number, line, date) in context.lines() {
            if line.unit_basis == UnitBasis::Minutes {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoReferenceRow,
                    "the line counts minutes (SV103 MJ); an MUE counts units",
                );
                continue;
            }
            let Some(date) = date else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoDateOfService,
                    "the line has no date of service",
                );
                continue;
            };
            let code = line.procedure_code.as_str();
            let Some(table) = context.catalog.mue_release(date) else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoReleaseInEffect,
                    format!("no MUE table is in effect on {date}"),
                );
                continue;
            };
            let Some(limit) = table.limits.get(code) else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoReferenceRow,
                    format!(
                        "the MUE table {} has no row for {code}",
                        table.version.version
                    ),
                );
                continue;
            };
            if limit.mai == 1 {
                if line.units.exceeds(u64::from(limit.value)) {
                    out.push(finding(
                        self,
                        number,
                        format!("lines[{}].units", number - 1),
                        format!(
                            "{} units of {code} on one line; the MUE is {} (line edit)",
                            line.units, limit.value
                        ),
                    ));
                }
            } else {
                let entry = per_day
                    .entry((code.to_owned(), date))
                    .or_insert((Quantity::default(), number));
                entry.0 = entry.0.checked_add(line.units).unwrap_or(entry.0);
                entry.1 = number;
            }
        }
        for ((code, date), (units, last_line)) in per_day {
            let Some(limit) = context
                .catalog
                .mue_release(date)
                .and_then(|t| t.limits.get(&code))
            else {
                continue;
            };
            if units.exceeds(u64::from(limit.value)) {
                let kind = if limit.mai == 2 {
                    "policy: not payable above it"
                } else {
                    "clinical: appeal with documentation"
                };
                out.push(finding(
                    self,
                    last_line,
                    format!("lines[{}].units", last_line - 1),
                    format!("{units} units of {code} on {date}; the MUE is {} (date-of-service edit, {kind})", limit.value),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;
    use crate::domain::catalog::{MueLimit, MueRelease};
    use crate::domain::claim::Claim;
    use crate::domain::code_system::CodeSystem;
    use crate::rules::test_support::{catalog, clean_claim};

    fn count(mai: u8, units: [u32; 2]) -> usize {
        let mut catalog = catalog();
        let mut version = catalog.fee_schedules[0].version.clone();
        version.system = CodeSystem::Mue;
        catalog.mue = vec![Arc::new(MueRelease {
            version,
            limits: HashMap::from([(
                "11404".to_owned(),
                MueLimit {
                    value: 2,
                    mai,
                    rationale: String::new(),
                },
            )]),
        })];
        let mut claim: Claim = clean_claim();
        claim.lines.push(claim.lines[0].clone());
        claim.lines[0].units = units[0].into();
        claim.lines[1].units = units[1].into();
        let mut out = Report::default();
        MueExceeded.evaluate(
            &RuleContext {
                claim: &claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        out.findings.len()
    }

    #[test]
    fn line_edits_count_lines_and_date_edits_sum_them() {
        assert_eq!(count(1, [2, 2]), 0, "MAI 1: each line within the limit");
        assert_eq!(count(1, [3, 1]), 1, "MAI 1: one line above");
        assert_eq!(count(2, [2, 1]), 1, "MAI 2: 3 units on the day");
        assert_eq!(count(3, [1, 1]), 0, "MAI 3: within the limit");
    }
}
