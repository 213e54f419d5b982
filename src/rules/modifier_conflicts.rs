//! Modifiers that contradict each other on one line (RT with LT, 50 with a
//! side, 52 with 53, 59 with an X{EPSU} modifier), a distinct-procedure
//! modifier with nothing to be distinct from, and 22, which needs
//! documentation.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::procedures::DISTINCT_SERVICE_MODIFIERS;

/// Contradicting or unsupported modifier combinations.
#[derive(Debug, Clone, Copy)]
pub struct ModifierConflict;

impl ModifierConflict {
    const META: RuleMeta = RuleMeta {
        id: "MODIFIER_CONFLICT",
        description: "Modifiers on a line contradict each other, or 59/X has no other procedure to be distinct from",
        severity: Severity::Error,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for ModifierConflict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let procedures = context.claim.lines.len();
        // Payer parameter: the payer wants the specific X{EPSU} modifiers, not 59.
        let prefer_x = context.parameter(self.id(), "prefer_x_modifiers") == Some("true");
        for (number, line, _) in context.lines() {
            let has = |m: &str| line.has_modifier(m);
            let path = format!("lines[{}].modifiers", number - 1);
            let mut conflict =
                |message: &str| out.push(finding(self, number, path.clone(), message));
            if has("RT") && has("LT") {
                conflict("RT and LT on one line: report each side on its own line");
            }
            if has("50") && (has("RT") || has("LT")) {
                conflict("50 with RT or LT: a bilateral procedure takes 50 alone");
            }
            if has("52") && has("53") {
                conflict(
                    "52 (reduced) and 53 (discontinued) on one line: choose the one that happened",
                );
            }
            if has("59") && DISTINCT_SERVICE_MODIFIERS[1..].iter().any(|m| has(m)) {
                conflict("59 with an X{EPSU} modifier: use the more specific X modifier alone");
            }
            if procedures < 2 && DISTINCT_SERVICE_MODIFIERS.iter().any(|m| has(m)) {
                conflict("a distinct-procedure modifier on the only line of the claim");
            }
            if prefer_x && has("59") && !DISTINCT_SERVICE_MODIFIERS[1..].iter().any(|m| has(m)) {
                let mut f = finding(
                    self,
                    number,
                    path.clone(),
                    "this payer expects XE/XS/XP/XU instead of 59",
                );
                f.severity = Severity::Warning;
                f.suggestion = Some("replace 59 with the X modifier that describes the distinction (XS: separate site)".into());
                out.push(f);
            }
            if has("22") {
                let mut f = finding(
                    self,
                    number,
                    path.clone(),
                    "22 (increased procedural services) needs documentation",
                );
                f.severity = Severity::Warning;
                f.suggestion = Some("attach the operative note showing the additional work".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, excision, fired};

    #[test]
    fn contradicting_modifiers_fire() {
        for modifiers in [
            vec!["RT", "LT"],
            vec!["50", "RT"],
            vec!["52", "53"],
            vec!["59", "XS"],
        ] {
            let mut claim = clean_claim();
            claim.lines.push(excision("11402", 1.5, "arm", &[1]));
            claim.lines[1].modifiers = modifiers.iter().map(|m| (*m).into()).collect();
            assert_eq!(fired(&ModifierConflict, &claim).len(), 1, "{modifiers:?}");
        }
        let mut alone = clean_claim();
        alone.lines[0].modifiers = vec!["XS".into()];
        assert_eq!(
            fired(&ModifierConflict, &alone).len(),
            1,
            "XS with no other procedure"
        );
    }

    #[test]
    fn a_payer_that_prefers_x_modifiers_warns_on_59() {
        let mut catalog = crate::rules::test_support::catalog();
        catalog.payer_rules = crate::domain::default_data::parse()
            .expect("defaults")
            .payer_rules;
        let mut claim = clean_claim();
        claim.payer_id = "UHC".into();
        claim.lines.push(excision("11402", 1.5, "arm", &[1]));
        claim.lines[1].modifiers = vec!["59".into()];
        let mut out = Report::default();
        ModifierConflict.evaluate(
            &RuleContext {
                claim: &claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].severity, Severity::Warning);
        claim.payer_id = "BCBS".into();
        let mut out = Report::default();
        ModifierConflict.evaluate(
            &RuleContext {
                claim: &claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        assert!(out.findings.is_empty());
    }

    #[test]
    fn a_second_lesion_with_xs_is_silent() {
        let mut claim = clean_claim();
        claim.lines.push(excision("11402", 1.5, "arm", &[1]));
        claim.lines[1].modifiers = vec!["XS".into(), "LT".into()];
        assert!(fired(&ModifierConflict, &claim).is_empty());
    }
}
