//! Modifier to procedure: the fee-schedule indicators decide whether 26/TC,
//! 50 and the assistant modifiers may go on a code; 25, 24 and 57 belong on
//! E/M codes, distinct-procedure modifiers do not (see
//! `domain::procedures::modifier_applicability`).

use super::{Rule, RuleContext, RuleSource, finding};
use crate::domain::finding::{Finding, Severity};
use crate::domain::procedures::{Applicability, modifier_applicability};

/// A modifier that the code's indicators or type rule out.
#[derive(Debug, Clone, Copy)]
pub struct ModifierNotAllowed;

impl Rule for ModifierNotAllowed {
    fn id(&self) -> &'static str {
        "MODIFIER_NOT_ALLOWED_FOR_PROCEDURE"
    }
    fn description(&self) -> &'static str {
        "Modifier is not valid for the procedure code (MPFS indicators, E/M-only modifiers)"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn source(&self) -> RuleSource {
        RuleSource::Cms
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (number, line, date) in context.lines() {
            let code = line.procedure_code.trim();
            let Some(attributes) = context.catalog.procedures.attributes.get(code) else {
                continue;
            };
            let fees = date
                .and_then(|d| context.catalog.fee_schedule(d))
                .and_then(|f| f.global_row(code));
            for (j, modifier) in line.modifiers.iter().enumerate() {
                let modifier = modifier.trim().to_ascii_uppercase();
                let (applicability, reason) =
                    modifier_applicability(&modifier, &attributes.service_type, fees);
                if applicability == Applicability::NotAllowed {
                    let mut f = finding(
                        self,
                        number,
                        format!("lines[{}].modifiers[{j}]", number - 1),
                        format!("modifier {modifier} on {code}: {reason}"),
                    );
                    f.suggestion = Some(format!("remove {modifier} from this line"));
                    out.push(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired, line};

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
}
