//! What the rules report: findings with a severity, and the disposition a
//! set of findings leads to.

/// Severity of a finding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Coder review; submission allowed.
    Warning,
    /// The payer would reject: fix before submitting.
    Error,
}

impl Severity {
    /// Lower-case name, as stored and configured (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }

    /// From its lower-case name; `None` for anything else (no override).
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Error, Self::Warning, Self::Info]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// The scrubber's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// No warnings or errors.
    Accept,
    /// Warnings only.
    AcceptWithWarnings,
    /// At least one error.
    Reject,
}

impl Disposition {
    /// The stored form (claimscrub.v1.Disposition numbers).
    pub fn as_i16(self) -> i16 {
        match self {
            Self::Accept => 1,
            Self::AcceptWithWarnings => 2,
            Self::Reject => 3,
        }
    }

    /// The name, as in claimscrub.v1.Disposition without its prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "ACCEPT",
            Self::AcceptWithWarnings => "ACCEPT_WITH_WARNINGS",
            Self::Reject => "REJECT",
        }
    }

    /// From the stored form.
    pub fn from_i16(value: i16) -> Option<Self> {
        match value {
            1 => Some(Self::Accept),
            2 => Some(Self::AcceptWithWarnings),
            3 => Some(Self::Reject),
            _ => None,
        }
    }

    /// Accepted (with or without warnings): later claims of the member see it
    /// in their history.
    pub fn is_accepted(self) -> bool {
        self != Self::Reject
    }

    /// Any error rejects; only warnings accept with warnings.
    pub fn of(findings: &[Finding]) -> Self {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Self::Reject,
            Some(Severity::Warning) => Self::AcceptWithWarnings,
            Some(Severity::Info) | None => Self::Accept,
        }
    }
}

/// One thing wrong or questionable in a claim, as the rules report it and
/// as it is stored and answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Stable rule id.
    pub rule_id: String,
    /// Severity (after payer overrides).
    pub severity: Severity,
    /// 1-based line, 0 for the claim.
    pub line_number: u32,
    /// Field path, google.rpc.BadRequest syntax (`lines[0].modifiers[1]`).
    pub field_path: String,
    /// What is wrong, without PHI.
    pub message: String,
    /// The code to use instead.
    pub suggested_code: Option<String>,
    /// How to fix it.
    pub suggestion: Option<String>,
    /// The correction as edits a machine can apply, in order; empty when it
    /// needs a coder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<FieldFix>,
}

/// One edit of a claim field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldFix {
    /// `lines[0].procedure_code`, `diagnosis_codes[1]`, or a list such as
    /// `lines[0].modifiers` for [`FixAction::Add`] and [`FixAction::Remove`].
    pub field_path: String,
    pub action: FixAction,
}

/// What a [`FieldFix`] does to its field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixAction {
    /// Set the scalar to this value.
    Set(String),
    /// Remove this value from the list.
    Remove(String),
    /// Append this value to the list.
    Add(String),
}

impl FieldFix {
    /// Sets `field_path` to `value`.
    pub fn set(field_path: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            field_path: field_path.into(),
            action: FixAction::Set(value.into()),
        }
    }

    /// Removes `value` from the list at `field_path`.
    pub fn remove(field_path: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            field_path: field_path.into(),
            action: FixAction::Remove(value.into()),
        }
    }

    /// Appends `value` to the list at `field_path`.
    pub fn add(field_path: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            field_path: field_path.into(),
            action: FixAction::Add(value.into()),
        }
    }
}

/// Why an edit could not run on a claim or a line: the answer says so
/// beside the findings, and it never changes the disposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCheckedReason {
    /// No release of the code system the edit reads is in effect on the date.
    NoReleaseInEffect,
    /// A release is in effect but has no row for the code or pair.
    NoReferenceRow,
    /// The claim does not carry the field the edit reads (an 837P has no
    /// excised size, anatomic site or line laterality).
    FieldNotSent,
    /// The edit needs the licensed CPT file, which is not loaded.
    NoLicensedCptFile,
    /// The payer has no coverage policy loaded for the code.
    NoCoveragePolicy,
    /// The claim has no date of service to resolve releases by.
    NoDateOfService,
}

/// An edit that could not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotChecked {
    /// The rule that could not run.
    pub rule_id: String,
    /// 1-based line, 0 for the claim.
    pub line_number: u32,
    /// Why.
    pub reason: NotCheckedReason,
    /// What was missing, e.g. `no MUE row for 11404 in the 2026-04-01 table`.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule_id: "TEST".into(),
            severity,
            line_number: 0,
            field_path: String::new(),
            message: String::new(),
            suggested_code: None,
            suggestion: None,
            fixes: Vec::new(),
        }
    }

    #[test]
    fn any_error_rejects_and_warnings_alone_accept_with_warnings() {
        assert_eq!(Disposition::of(&[]), Disposition::Accept);
        assert_eq!(
            Disposition::of(&[finding(Severity::Info)]),
            Disposition::Accept
        );
        assert_eq!(
            Disposition::of(&[finding(Severity::Warning)]),
            Disposition::AcceptWithWarnings
        );
        assert_eq!(
            Disposition::of(&[finding(Severity::Warning), finding(Severity::Error)]),
            Disposition::Reject
        );
    }
}
