//! Modifier validity on the date of service: known modifiers (CPT Level I
//! from the built-in set, HCPCS Level II from the loaded file), not terminated.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::Severity;
use crate::domain::validity::{self, Validity};

/// The modifier rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(ModifierInvalid), Box::new(ModifierTerminated)]
}

fn checks<'a>(
    context: &'a RuleContext<'a>,
) -> impl Iterator<Item = (u32, usize, &'a str, validity::CodeCheck<'a>)> + 'a {
    context.lines().flat_map(move |(number, line, date)| {
        line.modifiers
            .iter()
            .enumerate()
            .filter_map(move |(j, modifier)| {
                let date = date?;
                Some((
                    number,
                    j,
                    modifier.as_str(),
                    validity::check(context.catalog, CodeSystem::Modifier, modifier, date),
                ))
            })
    })
}

/// A modifier that does not exist.
#[derive(Debug, Clone, Copy)]
pub struct ModifierInvalid;

impl ModifierInvalid {
    const META: RuleMeta = RuleMeta {
        id: "MODIFIER_INVALID",
        description: "Modifier is not a CPT or HCPCS modifier",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for ModifierInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, j, modifier, check) in checks(context) {
            if matches!(
                check.validity,
                Validity::UnknownCode | Validity::InvalidFormat
            ) {
                out.push(finding(
                    self,
                    number,
                    format!("lines[{}].modifiers[{j}]", number - 1),
                    format!("{modifier:?} is not a modifier"),
                ));
            }
        }
    }
}

/// A modifier terminated before the date of service.
#[derive(Debug, Clone, Copy)]
pub struct ModifierTerminated;

impl ModifierTerminated {
    const META: RuleMeta = RuleMeta {
        id: "MODIFIER_TERMINATED",
        description: "Modifier was terminated before the date of service",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for ModifierTerminated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, j, modifier, check) in checks(context) {
            if matches!(
                check.validity,
                Validity::Terminated | Validity::NotEffectiveOnDate
            ) {
                let ended = check
                    .concept
                    .and_then(|c| c.termination_date)
                    .map_or_else(String::new, |d| format!(" on {d}"));
                out.push(finding(
                    self,
                    number,
                    format!("lines[{}].modifiers[{j}]", number - 1),
                    format!("modifier {modifier} was terminated{ended}"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn unknown_and_terminated_modifiers_fire() {
        let mut claim = clean_claim();
        claim.lines[0].modifiers = vec!["Q!".into(), "JG".into()];
        assert_eq!(
            fired(&ModifierInvalid, &claim),
            [("MODIFIER_INVALID", 1, "lines[0].modifiers[0]".into())]
        );
        assert_eq!(
            fired(&ModifierTerminated, &claim),
            [("MODIFIER_TERMINATED", 1, "lines[0].modifiers[1]".into())]
        );
    }

    #[test]
    fn known_modifiers_are_silent() {
        let mut claim = clean_claim();
        claim.lines[0].modifiers = vec!["XS".into(), "rt".into(), "59".into()];
        assert!(fired(&ModifierInvalid, &claim).is_empty());
        assert!(fired(&ModifierTerminated, &claim).is_empty());
    }
}
