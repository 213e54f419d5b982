//! History edits against earlier accepted decisions of the same member
//! (matched by the keyed member hash, never the raw id): a duplicate claim,
//! and an E/M visit inside an earlier procedure's global period.

use chrono::Days;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::{ModifierCode, ProcedureCode, ServiceLine};
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;

/// A claim's lines as a comparable set: each line's code with its
/// modifiers in order, the lines in order.
fn signature<'a>(
    lines: impl Iterator<Item = (&'a ProcedureCode, &'a [ModifierCode])>,
) -> Vec<(&'a ProcedureCode, Vec<&'a ModifierCode>)> {
    let mut lines: Vec<(&ProcedureCode, Vec<&ModifierCode>)> = lines
        .map(|(code, modifiers)| {
            let mut modifiers: Vec<&ModifierCode> = modifiers.iter().collect();
            modifiers.sort();
            (code, modifiers)
        })
        .collect();
    lines.sort();
    lines
}

/// The same claim as one already accepted.
#[derive(Debug, Clone, Copy)]
pub struct DuplicateClaim;

impl DuplicateClaim {
    const META: RuleMeta = RuleMeta {
        id: "DUPLICATE_CLAIM",
        description: "Same member, date, rendering provider and procedure lines as an earlier accepted claim",
        severity: Severity::Error,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for DuplicateClaim {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let claim = context.claim;
        let Some(date) = claim.date_of_service else {
            return;
        };
        let ours = signature(
            claim
                .lines
                .iter()
                .map(|l: &ServiceLine| (&l.procedure_code, l.modifiers.as_slice())),
        );
        let earlier = context.history.iter().find(|prior| {
            prior.date_of_service == date
                && prior.rendering_npi == claim.rendering_provider.npi
                && signature(prior.lines.iter().map(|(c, m)| (c, m.as_slice()))) == ours
        });
        if let Some(prior) = earlier {
            let mut f = finding(
                self,
                0,
                "claim_id",
                format!(
                    "duplicates claim {} already accepted for this member, date and provider",
                    prior.claim_id
                ),
            );
            f.suggestion = Some(
                "do not resubmit; send a corrected claim (frequency code 7) if something changed"
                    .into(),
            );
            out.push(f);
        }
    }
}

/// An E/M inside an earlier procedure's global period, without 24, 25 or 79.
#[derive(Debug, Clone, Copy)]
pub struct EmInGlobalPeriod;

impl EmInGlobalPeriod {
    const META: RuleMeta = RuleMeta {
        id: "EM_IN_GLOBAL_PERIOD",
        description: "E/M by the same provider inside an earlier procedure's global period needs 24 (unrelated), 25 or 79",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for EmInGlobalPeriod {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let claim = context.claim;
        let attributes = &context.catalog.procedures.attributes;
        for (number, line, date) in context.lines() {
            let Some(date) = date else { continue };
            let em = attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type == ServiceType::EvaluationManagement);
            if !em || ["24", "25", "79"].iter().any(|m| line.has_modifier(m)) {
                continue;
            }
            let inside = context.history.iter().find_map(|prior| {
                if prior.rendering_npi != claim.rendering_provider.npi
                    || prior.date_of_service >= date
                {
                    return None;
                }
                prior.lines.iter().find_map(|(code, _)| {
                    let global = context
                        .catalog
                        .fee_schedule(prior.date_of_service)?
                        .global_row(code)?;
                    let days: u64 = match global.global_days.as_str() {
                        "010" => 10,
                        "090" => 90,
                        _ => return None,
                    };
                    (date <= prior.date_of_service.checked_add_days(Days::new(days))?)
                        .then(|| (code.clone(), prior.date_of_service, days))
                })
            });
            if let Some((code, on, days)) = inside {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].modifiers", number - 1),
                    format!(
                        "{} falls within the {days}-day global period of {code} performed on {on}",
                        line.procedure_code.as_str()
                    ),
                );
                f.suggestion = Some("append 24 if the visit is unrelated to the surgery; otherwise it is included and not billed".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::claim::PriorClaim;
    use crate::rules::test_support::{catalog, clean_claim, date, line};

    fn run(rule: &dyn Rule, claim: &crate::domain::claim::Claim, history: &[PriorClaim]) -> usize {
        let catalog = catalog();
        let mut out = Report::default();
        rule.evaluate(
            &RuleContext {
                claim,
                catalog: &catalog,
                history,
            },
            &mut out,
        );
        out.findings.len()
    }

    fn prior(dos: &str, lines: &[(&str, &[&str])]) -> PriorClaim {
        PriorClaim {
            claim_id: "CLM-0".into(),
            date_of_service: date(dos),
            rendering_npi: "1234567893".into(),
            lines: lines
                .iter()
                .map(|(c, m)| ((*c).into(), m.iter().map(|x| (*x).into()).collect()))
                .collect(),
        }
    }

    #[test]
    fn an_identical_earlier_claim_is_a_duplicate() {
        let claim = clean_claim();
        assert_eq!(
            run(
                &DuplicateClaim,
                &claim,
                &[prior("2026-01-15", &[("11404", &[])])]
            ),
            1
        );
        assert_eq!(
            run(
                &DuplicateClaim,
                &claim,
                &[prior("2026-01-14", &[("11404", &[])])]
            ),
            0,
            "another day"
        );
        assert_eq!(
            run(
                &DuplicateClaim,
                &claim,
                &[prior("2026-01-15", &[("11403", &[])])]
            ),
            0,
            "other lines"
        );
    }

    #[test]
    fn a_visit_inside_a_ten_day_global_needs_24() {
        let mut claim = clean_claim();
        claim.date_of_service = Some(date("2026-01-20"));
        claim.lines = vec![line("99213", &[], &[1])];
        let history = [prior("2026-01-15", &[("11404", &[])])];
        assert_eq!(run(&EmInGlobalPeriod, &claim, &history), 1);
        claim.lines[0].modifiers = vec!["24".into()];
        assert_eq!(run(&EmInGlobalPeriod, &claim, &history), 0);
        claim.lines[0].modifiers.clear();
        claim.date_of_service = Some(date("2026-01-26"));
        assert_eq!(
            run(&EmInGlobalPeriod, &claim, &history),
            0,
            "day 11 is outside the 010 global"
        );
    }
}
