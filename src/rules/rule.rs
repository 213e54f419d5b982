//! What a rule is: its identity, what it sees of a claim, and how it
//! reports a finding.

use chrono::NaiveDate;

use crate::domain::catalog::{
    CatalogSnapshot, FeeScheduleRelease, FeeScheduleRow, PayerRuleSetting,
};
use crate::domain::claim::{Claim, PriorClaim, ServiceLine};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{Finding, NotChecked, NotCheckedReason, Severity};
use crate::domain::mce::{self, MceAnswer};
use crate::domain::validity::{self, Validity};

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// CMS code sets, fee schedule and manuals.
    Cms,
    /// National Correct Coding Initiative.
    Ncci,
    /// CPT coding conventions.
    Cpt,
    /// A payer's policy.
    Payer,
    /// claimscrub's own rule.
    House,
}

/// What a rule sees.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// The claim.
    pub claim: &'a Claim,
    /// The reference data.
    pub catalog: &'a CatalogSnapshot,
    /// Earlier accepted claims of the same member (history edits).
    pub history: &'a [PriorClaim],
}

impl<'a> RuleContext<'a> {
    /// The payer's setting of `rule_id` on the claim's date of service.
    pub fn setting(&self, rule_id: &str) -> Option<&'a PayerRuleSetting> {
        let date = self.claim.date_of_service?;
        self.catalog
            .payer_setting(self.claim.payer_id.as_str(), rule_id, date)
    }

    /// A parameter of the payer's setting of `rule_id`.
    pub fn parameter(&self, rule_id: &str, name: &str) -> Option<&'a str> {
        self.setting(rule_id)
            .and_then(|s| s.parameters.get(name))
            .map(String::as_str)
    }

    /// The Medicare fee schedule in effect on `date` and its global row for
    /// `code`; without either, `rule` records on line `number` that it was
    /// not checked, and the answer is `None`.
    pub fn fee_row(
        &self,
        rule: &dyn Rule,
        number: u32,
        code: &str,
        date: NaiveDate,
        out: &mut Report,
    ) -> Option<(&'a FeeScheduleRelease, &'a FeeScheduleRow)> {
        let Some(fees) = self.catalog.fee_schedule(date) else {
            out.not_checked(
                rule,
                number,
                NotCheckedReason::NoReleaseInEffect,
                format!("no Medicare fee schedule is in effect on {date}"),
            );
            return None;
        };
        let Some(row) = fees.global_row(code) else {
            out.not_checked(
                rule,
                number,
                NotCheckedReason::NoReferenceRow,
                format!(
                    "the fee schedule {} has no row for {code}",
                    fees.version.version
                ),
            );
            return None;
        };
        Some((fees, row))
    }

    /// The MCE flags of diagnosis `canonical` on `date`. Without an MCE
    /// release in effect, or for a valid ICD-10-CM code the MCE in effect
    /// does not list (a newer fiscal year's code), `rule` records at claim
    /// level that it was not checked; an invalid code is the ICD-10-CM
    /// rules' finding. All answer `None`.
    pub fn mce_flags(
        &self,
        rule: &dyn Rule,
        canonical: &str,
        date: NaiveDate,
        out: &mut Report,
    ) -> Option<Vec<&'a str>> {
        match mce::flags(self.catalog, canonical, date) {
            MceAnswer::Flags(flags, _) => Some(flags),
            MceAnswer::NoRelease => {
                out.not_checked(
                    rule,
                    0,
                    NotCheckedReason::NoReleaseInEffect,
                    format!("no Medicare Code Editor release is in effect on {date}"),
                );
                None
            }
            MceAnswer::NoRow => {
                let valid = validity::check(self.catalog, CodeSystem::Icd10Cm, canonical, date)
                    .validity
                    == Validity::Valid;
                if let Some(release) = self
                    .catalog
                    .concept_release(CodeSystem::Mce, date)
                    .filter(|_| valid)
                {
                    out.not_checked(
                        rule,
                        0,
                        NotCheckedReason::NoReferenceRow,
                        format!(
                            "the MCE {} has no row for {}",
                            release.version.version,
                            codes::display(CodeSystem::Icd10Cm, canonical)
                        ),
                    );
                }
                None
            }
        }
    }

    /// The lines with their 1-based numbers and dates of service.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &'a ServiceLine, Option<NaiveDate>)> + 'a {
        let claim = self.claim;
        claim.lines.iter().enumerate().map(move |(i, line)| {
            (
                u32::try_from(i + 1).unwrap_or(u32::MAX),
                line,
                claim.line_date(line),
            )
        })
    }
}

/// What a rule declares about itself, in one `const` beside its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable id, e.g. `ICD10CM_NOT_BILLABLE`.
    pub id: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// Severity before payer overrides.
    pub severity: Severity,
    /// Where it comes from.
    pub source: RuleSource,
    /// Whether it runs for payers that have no setting for it; payer
    /// policies run only where a payer setting enables them.
    pub enabled_by_default: bool,
}

/// One check.
pub trait Rule: Send + Sync {
    /// Its metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// Adds what it finds to `out`, and what it could not check.
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report);

    /// [`RuleMeta::id`].
    fn id(&self) -> &'static str {
        self.meta().id
    }
    /// [`RuleMeta::description`].
    fn description(&self) -> &'static str {
        self.meta().description
    }
    /// [`RuleMeta::severity`].
    fn default_severity(&self) -> Severity {
        self.meta().severity
    }
    /// [`RuleMeta::source`].
    fn source(&self) -> RuleSource {
        self.meta().source
    }
    /// [`RuleMeta::enabled_by_default`].
    fn enabled_by_default(&self) -> bool {
        self.meta().enabled_by_default
    }
}

/// What the rules report over one claim: findings, and the edits that could
/// not run for want of data or of a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// In rule order, then line order.
    pub findings: Vec<Finding>,
    /// One entry per rule, line and reason.
    pub not_checked: Vec<NotChecked>,
}

impl Report {
    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds findings.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    /// Records that `rule` could not run on `line_number` (0: the claim).
    /// A rule that hits the same gap twice on a line says so once.
    pub fn not_checked(
        &mut self,
        rule: &dyn Rule,
        line_number: u32,
        reason: NotCheckedReason,
        detail: impl Into<String>,
    ) {
        let seen = self
            .not_checked
            .iter()
            .any(|n| n.rule_id == rule.id() && n.line_number == line_number && n.reason == reason);
        if !seen {
            self.not_checked.push(NotChecked {
                rule_id: rule.id().to_owned(),
                line_number,
                reason,
                detail: detail.into(),
            });
        }
    }
}

/// Builds a finding of `rule` with its default severity.
pub fn finding(
    rule: &dyn Rule,
    line_number: u32,
    field_path: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        rule_id: rule.id().to_owned(),
        severity: rule.default_severity(),
        line_number,
        field_path: field_path.into(),
        message: message.into(),
        suggested_code: None,
        suggestion: None,
        fixes: Vec::new(),
    }
}
