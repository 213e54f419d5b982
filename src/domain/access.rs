//! What an API key may call: its scopes, and the one table of which scope
//! each RPC needs. Health and reflection are outside the key check and need
//! none.

use std::fmt;

/// A permission an API key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Code lookups, reference data, the rule list.
    Lookup,
    /// Scrubbing claims: single, batch and X12.
    Validate,
    /// Reading the audit store.
    AuditRead,
    /// Administration: the audit store's access log.
    Admin,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 4] = [
        Scope::Lookup,
        Scope::Validate,
        Scope::AuditRead,
        Scope::Admin,
    ];

    /// The scope's name as keys list it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lookup => "lookup",
            Self::Validate => "validate",
            Self::AuditRead => "audit:read",
            Self::Admin => "admin",
        }
    }

    /// A scope by name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name.trim())
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Self::ALL_BITS
    }

    const ALL_BITS: Scopes = Scopes(0b1111);

    /// Whether `scope` is among them.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// A comma-separated list (`lookup,validate`); `Err` names what is not
    /// a scope, or says the list is empty.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let mut scopes = Scopes::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                format!(
                    "{name:?} is not a scope (one of {})",
                    Scope::ALL.map(Scope::as_str).join(", ")
                )
            })?;
            scopes.0 |= scope.bit();
        }
        if scopes.0 == 0 {
            return Err("at least one scope is required".into());
        }
        Ok(scopes)
    }

    /// The scopes by name, in order.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect()
    }
}

/// Which scope each RPC needs: (service, method or `*` for the rest of
/// the service, scope), first match wins.
pub const RPC_SCOPES: &[(&str, &str, Scope)] = &[
    ("claimscrub.v1.CodeLookupService", "*", Scope::Lookup),
    ("claimscrub.v1.ReferenceDataService", "*", Scope::Lookup),
    (
        "claimscrub.v1.ClaimValidationService",
        "ListRules",
        Scope::Lookup,
    ),
    ("claimscrub.v1.ClaimValidationService", "*", Scope::Validate),
    ("claimscrub.v1.X12Service", "*", Scope::Validate),
    (
        "claimscrub.v1.AuditService",
        "ListAuditAccess",
        Scope::Admin,
    ),
    ("claimscrub.v1.AuditService", "*", Scope::AuditRead),
];

/// The scope `service`/`method` needs; `None` for an RPC the table does not
/// name, which is refused.
pub fn required_scope(service: &str, method: &str) -> Option<Scope> {
    RPC_SCOPES
        .iter()
        .find(|(s, m, _)| *s == service && (*m == method || *m == "*"))
        .map(|(_, _, scope)| *scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_name_their_scopes() {
        let scopes = Scopes::parse_list("validate, lookup").expect("valid");
        assert!(scopes.contains(Scope::Lookup) && scopes.contains(Scope::Validate));
        assert!(!scopes.contains(Scope::AuditRead));
        assert_eq!(scopes.names(), ["lookup", "validate"]);
        assert!(
            Scopes::parse_list("lookup,audit")
                .unwrap_err()
                .contains("\"audit\"")
        );
        assert!(Scopes::parse_list(" , ").is_err());
        assert_eq!(Scopes::all().names().len(), Scope::ALL.len());
    }

    #[test]
    fn the_table_names_the_scope_of_each_rpc() {
        let needs = |s, m| required_scope(&format!("claimscrub.v1.{s}"), m);
        assert_eq!(
            needs("ClaimValidationService", "ListRules"),
            Some(Scope::Lookup)
        );
        assert_eq!(
            needs("ClaimValidationService", "ValidateClaim"),
            Some(Scope::Validate)
        );
        assert_eq!(
            needs("AuditService", "ExportAuditRecords"),
            Some(Scope::AuditRead)
        );
        assert_eq!(needs("NoSuchService", "Call"), None);
    }
}
