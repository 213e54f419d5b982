//! Diagnosis-procedure consistency: an abscess is drained (10060/10061),
//! not excised, so an excision pointing only to abscess diagnoses is
//! questioned (domain rules §1b, a house rule).

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;

/// ICD-10-CM categories of cutaneous abscesses, furuncles and carbuncles.
const ABSCESS_CATEGORIES: [&str; 1] = ["L02"];

/// An excision supported only by an abscess diagnosis.
#[derive(Debug, Clone, Copy)]
pub struct AbscessOnExcision;

impl AbscessOnExcision {
    const META: RuleMeta = RuleMeta {
        id: "DX_PROCEDURE_ABSCESS_EXCISION",
        description: "An abscess is usually incised and drained, not excised",
        severity: Severity::Warning,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for AbscessOnExcision {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            let excision = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type == ServiceType::Excision);
            let pointed: Vec<String> = line
                .diagnosis_pointers
                .iter()
                .filter_map(|p| {
                    context
                        .claim
                        .diagnosis_codes
                        .get((*p as usize).checked_sub(1)?)
                })
                .map(|d| codes::canonical(CodeSystem::Icd10Cm, d))
                .collect();
            if excision
                && !pointed.is_empty()
                && pointed
                    .iter()
                    .all(|d| ABSCESS_CATEGORIES.iter().any(|c| d.starts_with(c)))
            {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].procedure_code", number - 1),
                    format!(
                        "{} is an excision but its diagnoses are abscesses",
                        line.procedure_code.as_str()
                    ),
                );
                f.suggested_code = Some("10060".into());
                f.suggestion = Some("an abscess is billed as incision and drainage (10060 simple, 10061 complicated) unless a lesion was excised".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn an_excision_for_an_abscess_warns_and_a_lesion_is_silent() {
        let mut claim = clean_claim();
        assert!(fired(&AbscessOnExcision, &claim).is_empty());
        claim.diagnosis_codes = vec!["L02.415".into()];
        assert_eq!(fired(&AbscessOnExcision, &claim).len(), 1);
    }
}
