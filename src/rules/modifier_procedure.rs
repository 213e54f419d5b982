//! Modifier to procedure: the fee-schedule indicators decide whether 26/TC,
//! 50 and the assistant modifiers may go on a code; 25, 24 and 57 belong on
//! E/M codes, distinct-procedure modifiers do not (see
//! `domain::procedures::modifier_applicability`). A payer may refuse
//! modifier 50 even where the indicator allows it (parameter
//! `accept_modifier_50=false`): it wants the two sides as RT and LT lines.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::{FieldFix, Severity};
use crate::domain::procedures::{Applicability, modifier_applicability};
use crate::domain::service_type::ServiceType;

/// The service type of `code`: from claimscrub's procedure knowledge, or for
/// codes it has none of, E/M by the CPT E/M range.
fn service_type_of(context: &RuleContext<'_>, code: &str) -> Option<ServiceType> {
    match context.catalog.procedures.attributes.get(code) {
        Some(attributes) => Some(attributes.service_type),
        None if ("99202"..="99499").contains(&code) && code.len() == 5 => {
            Some(ServiceType::EvaluationManagement)
        }
        None => None,
    }
}

/// A modifier that the code's indicators or type rule out.
#[derive(Debug, Clone, Copy)]
pub struct ModifierNotAllowed;

impl ModifierNotAllowed {
    const META: RuleMeta = RuleMeta {
        id: "MODIFIER_NOT_ALLOWED_FOR_PROCEDURE",
        description: "Modifier is not valid for the procedure code (MPFS indicators, E/M-only modifiers)",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for ModifierNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let refuses_50 = context.parameter(self.id(), "accept_modifier_50") == Some("false");
        for (number, line, date) in context.lines() {
            let code = line.procedure_code.to_string();
            let fees = date
                .and_then(|d| context.catalog.fee_schedule(d))
                .and_then(|f| f.global_row(&code));
            let service = service_type_of(context, &code);
            if fees.is_none() && service.is_none() {
                continue;
            }
            for (j, modifier) in line.modifiers.iter().enumerate() {
                let modifier = modifier.to_string();
                let field = format!("lines[{}].modifiers[{j}]", number - 1);
                let (applicability, reason) = modifier_applicability(&modifier, service, fees);
                if applicability == Applicability::NotAllowed {
                    let mut f = finding(
                        self,
                        number,
                        field,
                        format!("modifier {modifier} on {code}: {reason}"),
                    );
                    f.suggestion = Some(format!("remove {modifier} from this line"));
                    f.fixes = vec![FieldFix::remove(
                        format!("lines[{}].modifiers", number - 1),
                        modifier.as_str(),
                    )];
                    out.push(f);
                } else if modifier == "50" && refuses_50 {
                    let mut f = finding(
                        self,
                        number,
                        field,
                        format!("this payer does not accept modifier 50 on {code}"),
                    );
                    f.suggestion = Some(
                        "report the procedure on two lines, one with RT and one with LT, one unit each"
                            .into(),
                    );
                    out.push(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::domain::catalog::{FeeScheduleRelease, PayerRuleSetting};
    use crate::rules::test_support::{catalog, clean_claim, date, fired, line};

    #[test]
    fn indicator_and_em_only_modifiers_fire_on_an_excision() {
        for modifier in ["26", "TC", "50", "25", "57", "80"] {
            let mut claim = clean_claim();
            claim.lines[0].modifiers = vec![modifier.into()];
            assert_eq!(fired(&ModifierNotAllowed, &claim).len(), 1, "{modifier}");
        }
    }

    #[test]
    fn allowed_modifiers_are_silent() {
        let mut claim = clean_claim();
        claim.lines[0].modifiers = vec!["XS".into(), "RT".into(), "51".into()];
        claim.lines.push(line("99213", &["25"], &[1]));
        claim.lines.push(line("88305", &["26"], &[1]));
        assert!(fired(&ModifierNotAllowed, &claim).is_empty());
    }

    #[test]
    fn a_payer_that_refuses_50_wants_rt_and_lt_lines() {
        let mut snapshot = catalog();
        let mut rows = snapshot.fee_schedules[0].rows.clone();
        let mut knee = rows
            .get(&("11404".to_owned(), String::new()))
            .expect("11404 row")
            .clone();
        knee.bilat = "1".into();
        knee.global_days = "090".into();
        rows.insert(("27447".to_owned(), String::new()), knee);
        snapshot.fee_schedules = vec![Arc::new(FeeScheduleRelease {
            version: snapshot.fee_schedules[0].version.clone(),
            rows,
        })];
        let mut claim = clean_claim();
        claim.lines = vec![line("27447", &["50"], &[1])];
        let found = |snapshot: &crate::domain::catalog::CatalogSnapshot| {
            let context = RuleContext {
                claim: &claim,
                catalog: snapshot,
                history: &[],
            };
            let mut out = Report::default();
            ModifierNotAllowed.evaluate(&context, &mut out);
            out.findings
                .into_iter()
                .map(|f| f.field_path)
                .collect::<Vec<_>>()
        };
        assert!(
            found(&snapshot).is_empty(),
            "bilateral indicator 1 allows 50"
        );
        snapshot.payer_rules.push(PayerRuleSetting {
            payer_id: claim.payer_id.to_string(),
            rule_id: "MODIFIER_NOT_ALLOWED_FOR_PROCEDURE".into(),
            effective_from: date("2000-01-01"),
            effective_to: None,
            enabled: true,
            severity: None,
            parameters: [("accept_modifier_50".to_owned(), "false".to_owned())].into(),
        });
        assert_eq!(found(&snapshot), ["lines[0].modifiers[0]"]);
    }

    #[test]
    fn e_m_codes_outside_the_built_in_set_take_25() {
        let mut claim = clean_claim();
        claim.lines.push(line("99204", &["25"], &[1]));
        assert!(fired(&ModifierNotAllowed, &claim).is_empty());
    }
}
