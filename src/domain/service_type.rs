//! The kind of service a procedure code is, in claimscrub's procedure
//! knowledge (`reference/default/procedures.csv`); in a file of its own so
//! the catalog and the procedure logic can both use it.

/// What kind of service a procedure code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// Lesion excision.
    Excision,
    /// Simple (single-layer) repair.
    SimpleRepair,
    /// Intermediate (layered) repair.
    IntermediateRepair,
    /// Repair of a wound dehiscence.
    WoundDehiscenceRepair,
    SurgicalPathology,
    /// Evaluation and management visit.
    EvaluationManagement,
}

impl ServiceType {
    const ALL: [Self; 6] = [
        Self::Excision,
        Self::SimpleRepair,
        Self::IntermediateRepair,
        Self::WoundDehiscenceRepair,
        Self::SurgicalPathology,
        Self::EvaluationManagement,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Excision => "excision",
            Self::SimpleRepair => "simple_repair",
            Self::IntermediateRepair => "intermediate_repair",
            Self::WoundDehiscenceRepair => "wound_dehiscence_repair",
            Self::SurgicalPathology => "surgical_pathology",
            Self::EvaluationManagement => "evaluation_management",
        }
    }

    /// The type a stored name names; `None` for any other text.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for service in ServiceType::ALL {
            assert_eq!(ServiceType::parse(service.as_str()), Some(service));
        }
        assert_eq!(ServiceType::parse("Excision"), None);
    }
}
