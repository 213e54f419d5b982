//! Add-on codes from the NCCI add-on code edits as loaded (`claimscrub
//! import ncci-aoc`): an add-on code is paid only with one of its primary
//! codes by the same provider on the same date. The claim has one
//! rendering provider, so "same provider" is the claim; the date is the
//! line's. Type 1 edits list every acceptable primary and always run.
//! Type 3 list some primaries and let the contractor allow others, and
//! type 2 list none: they run only where the payer's `edit_types`
//! parameter names them (e.g. `1,3`), and a type 2 code is then not
//! checked, since nothing says which primary it needs.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::{NotCheckedReason, Severity};

/// An add-on code billed without a primary code.
#[derive(Debug, Clone, Copy)]
pub struct AddOnWithoutPrimary;

impl AddOnWithoutPrimary {
    const META: RuleMeta = RuleMeta {
        id: "ADD_ON_WITHOUT_PRIMARY",
        description: "An add-on code is billed without one of its primary codes on the same date",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for AddOnWithoutPrimary {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let types = context
            .parameter(self.id(), "edit_types")
            .unwrap_or("1")
            .to_owned();
        let runs = |kind: &str| types.split(',').any(|t| t.trim() == kind);
        let lines: Vec<_> = context.lines().collect();
        let mut said_no_release = false;
        for (number, line, date) in &lines {
            let Some(date) = date else { continue };
            let Some(release) = context.catalog.concept_release(CodeSystem::NcciAoc, *date) else {
                if !said_no_release {
                    out.not_checked(
                        self,
                        0,
                        NotCheckedReason::NoReleaseInEffect,
                        format!("no NCCI add-on code edits are in effect on {date}"),
                    );
                    said_no_release = true;
                }
                continue;
            };
            let code = line.procedure_code.as_str();
            let Some(edit) = release.concepts.get(code) else {
                continue;
            };
            let kind = edit.property("edit_type").unwrap_or_default();
            if !runs(kind) {
                continue;
            }
            let primaries: Vec<&str> = edit
                .property("primaries")
                .unwrap_or_default()
                .split(';')
                .filter(|p| !p.is_empty())
                .collect();
            if primaries.is_empty() {
                out.not_checked(
                    self,
                    *number,
                    NotCheckedReason::NoReferenceRow,
                    format!("{code} is a type {kind} add-on code: its primaries are the contractor's to decide"),
                );
                continue;
            }
            let has_primary = lines.iter().any(|(other, other_line, other_date)| {
                other != number
                    && other_date.as_ref() == Some(date)
                    && primaries.contains(&other_line.procedure_code.as_str())
            });
            if has_primary {
                continue;
            }
            let mut f = finding(
                self,
                *number,
                format!("lines[{}].procedure_code", number - 1),
                format!(
                    "{code} is an add-on code (NCCI AOC {}, type {kind}) billed without a primary code on {date}",
                    release.version.version
                ),
            );
            // The primary is a line to add, not a code to put in this one's
            // place, so it goes in the suggestion, not `suggested_code`.
            f.suggestion = Some(format!(
                "bill it with its primary procedure on the same date: {}",
                primaries
                    .iter()
                    .take(8)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, date, fired, line, not_checked};

    #[test]
    fn an_add_on_without_its_primary_fires_and_with_it_does_not() {
        let mut claim = clean_claim();
        claim.lines = vec![line("11103", &[], &[1])];
        assert_eq!(
            fired(&AddOnWithoutPrimary, &claim),
            [(
                "ADD_ON_WITHOUT_PRIMARY",
                1,
                "lines[0].procedure_code".into()
            )]
        );
        claim.lines.insert(0, line("11102", &[], &[1]));
        assert!(fired(&AddOnWithoutPrimary, &claim).is_empty());
        claim.lines[0].date_of_service = Some(date("2026-01-14"));
        assert_eq!(fired(&AddOnWithoutPrimary, &claim).len(), 1, "another date");
    }

    #[test]
    fn before_any_release_the_edit_is_not_checked() {
        let mut claim = clean_claim();
        claim.date_of_service = Some(date("2024-01-02"));
        assert_eq!(
            not_checked(&AddOnWithoutPrimary, &claim),
            [(0, NotCheckedReason::NoReleaseInEffect)]
        );
    }
}
