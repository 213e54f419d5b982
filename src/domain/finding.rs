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
