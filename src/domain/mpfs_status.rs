//! The MPFS status codes, in a file of their own so the catalog and the
//! fee-schedule descriptions can both use them.

/// An MPFS status code (PPRRVU column STATUS CODE), as the CMS record
/// layout defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MpfsStatus {
    /// A: active, paid separately under the fee schedule.
    Active,
    /// B: bundled, payment included in other services.
    Bundled,
    /// C: priced by the contractor.
    CarrierPriced,
    /// D: deleted, with a grace period.
    Deleted,
    /// E: excluded from the fee schedule by regulation.
    Excluded,
    /// F: deleted, without a grace period.
    DeletedWithoutGrace,
    /// G: not valid for Medicare; replaced by another code.
    Replaced,
    /// H: a deleted modifier of the code.
    DeletedModifier,
    /// I: not valid for Medicare purposes.
    NotValidForMedicare,
    /// J: anesthesia service.
    Anesthesia,
    /// M: measurement code, for reporting only.
    Measurement,
    /// N: non-covered service.
    NonCovered,
    /// P: bundled or excluded.
    BundledOrExcluded,
    /// R: restricted coverage.
    Restricted,
    /// T: injection, paid only when no other service is billed.
    Injection,
    /// X: statutory exclusion, not a Medicare benefit.
    StatutoryExclusion,
}

impl MpfsStatus {
    const ALL: [Self; 16] = [
        Self::Active,
        Self::Bundled,
        Self::CarrierPriced,
        Self::Deleted,
        Self::Excluded,
        Self::DeletedWithoutGrace,
        Self::Replaced,
        Self::DeletedModifier,
        Self::NotValidForMedicare,
        Self::Anesthesia,
        Self::Measurement,
        Self::NonCovered,
        Self::BundledOrExcluded,
        Self::Restricted,
        Self::Injection,
        Self::StatutoryExclusion,
    ];

    /// The letter in the file.
    pub fn letter(self) -> &'static str {
        match self {
            Self::Active => "A",
            Self::Bundled => "B",
            Self::CarrierPriced => "C",
            Self::Deleted => "D",
            Self::Excluded => "E",
            Self::DeletedWithoutGrace => "F",
            Self::Replaced => "G",
            Self::DeletedModifier => "H",
            Self::NotValidForMedicare => "I",
            Self::Anesthesia => "J",
            Self::Measurement => "M",
            Self::NonCovered => "N",
            Self::BundledOrExcluded => "P",
            Self::Restricted => "R",
            Self::Injection => "T",
            Self::StatutoryExclusion => "X",
        }
    }

    /// The status of a letter; `None` for one the layout does not define.
    pub fn parse(letter: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.letter() == letter)
    }

    /// What it means.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Active => "active code, paid separately under the fee schedule",
            Self::Bundled => "bundled code, payment included in other services",
            Self::CarrierPriced => "carrier-priced code",
            Self::Deleted => "deleted code",
            Self::Excluded => "excluded from the fee schedule by regulation",
            Self::DeletedWithoutGrace => "deleted code, without a grace period",
            Self::Replaced => "not valid for Medicare purposes; another code is used",
            Self::DeletedModifier => "deleted modifier of this code",
            Self::NotValidForMedicare => "not valid for Medicare purposes",
            Self::Anesthesia => "anesthesia service",
            Self::Measurement => "measurement code, for reporting only",
            Self::NonCovered => "non-covered service",
            Self::BundledOrExcluded => "bundled or excluded code",
            Self::Restricted => "restricted coverage",
            Self::Injection => "injection service, paid only when no other service is billed",
            Self::StatutoryExclusion => "statutory exclusion, not a Medicare benefit",
        }
    }

    /// Medicare will not pay the code as billed (D, E, I, N, X).
    pub fn is_unpayable(self) -> bool {
        matches!(
            self,
            Self::Deleted
                | Self::Excluded
                | Self::NotValidForMedicare
                | Self::NonCovered
                | Self::StatutoryExclusion
        )
    }

    /// Not a covered benefit (E, N, X): billable knowingly with GA/GX/GY/GZ.
    pub fn is_non_covered(self) -> bool {
        matches!(
            self,
            Self::Excluded | Self::NonCovered | Self::StatutoryExclusion
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_and_unknown_ones_are_refused() {
        for status in MpfsStatus::ALL {
            assert_eq!(MpfsStatus::parse(status.letter()), Some(status));
        }
        for letter in ["", "K", "a", "AA"] {
            assert_eq!(MpfsStatus::parse(letter), None, "{letter:?}");
        }
    }

    #[test]
    fn unpayable_and_non_covered_are_the_documented_letters() {
        let letters = |f: fn(MpfsStatus) -> bool| {
            MpfsStatus::ALL
                .into_iter()
                .filter(|s| f(*s))
                .map(MpfsStatus::letter)
                .collect::<Vec<_>>()
        };
        assert_eq!(letters(MpfsStatus::is_unpayable), ["D", "E", "I", "N", "X"]);
        assert_eq!(letters(MpfsStatus::is_non_covered), ["E", "N", "X"]);
    }
}
