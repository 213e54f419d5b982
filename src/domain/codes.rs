//! Code shapes: canonical forms, display forms and format checks per system.
//! Canonical ICD-10-CM codes carry no dot and are upper case (X12 form);
//! display forms put the dot after the category.

use crate::domain::code_system::CodeSystem;

/// The canonical form of a code as typed by a caller: trimmed, upper case,
/// and for ICD-10-CM without the dot.
pub fn canonical(system: CodeSystem, code: &str) -> String {
    let trimmed = code.trim().to_ascii_uppercase();
    match system {
        CodeSystem::Icd10Cm | CodeSystem::Mce => trimmed.replace('.', ""),
        _ => trimmed,
    }
}

/// The display form of a canonical code (ICD-10-CM with the dot).
pub fn display(system: CodeSystem, canonical: &str) -> String {
    match system {
        CodeSystem::Icd10Cm | CodeSystem::Mce
            if canonical.len() > 3 && has_valid_format(system, canonical) =>
        {
            format!("{}.{}", &canonical[..3], &canonical[3..])
        }
        _ => canonical.to_owned(),
    }
}

/// Whether a canonical code has the shape of a code of `system`.
pub fn has_valid_format(system: CodeSystem, canonical: &str) -> bool {
    let b = canonical.as_bytes();
    let alnum = |c: &u8| c.is_ascii_digit() || c.is_ascii_uppercase();
    match system {
        // Category I: five digits; Category II/III: four digits then F or T.
        CodeSystem::Cpt => {
            b.len() == 5
                && b[..4].iter().all(u8::is_ascii_digit)
                && (b[4].is_ascii_digit() || matches!(b[4], b'F' | b'T' | b'U' | b'M'))
        }
        CodeSystem::Hcpcs => {
            b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
        }
        // A letter, then alphanumerics with at least one digit: FY2026 added
        // categories with a letter second (QA0), and U07.1 is billable.
        CodeSystem::Icd10Cm | CodeSystem::Mce => {
            (3..=7).contains(&b.len())
                && b[0].is_ascii_uppercase()
                && b[1..].iter().all(alnum)
                && b[1..3].iter().any(u8::is_ascii_digit)
        }
        CodeSystem::Modifier => b.len() == 2 && b.iter().all(alnum),
        CodeSystem::Taxonomy => b.len() == 10 && b[..9].iter().all(alnum) && b[9] == b'X',
        CodeSystem::Pos => b.len() == 2 && b.iter().all(u8::is_ascii_digit),
        CodeSystem::Mpfs | CodeSystem::NcciPtp | CodeSystem::Mue | CodeSystem::NcciAoc => {
            b.len() == 5 && b.iter().all(alnum)
        }
    }
}

/// The code system a procedure code belongs to: CPT (digits first) or HCPCS
/// Level II (a letter first).
pub fn procedure_system(canonical: &str) -> CodeSystem {
    if canonical
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphabetic)
    {
        CodeSystem::Hcpcs
    } else {
        CodeSystem::Cpt
    }
}

/// FHIR system URI of a code system.
pub fn system_uri(system: CodeSystem) -> &'static str {
    match system {
        CodeSystem::Cpt => "http://www.ama-assn.org/go/cpt",
        CodeSystem::Hcpcs => "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        CodeSystem::Icd10Cm => "http://hl7.org/fhir/sid/icd-10-cm",
        CodeSystem::Modifier => {
            "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets/modifiers"
        }
        CodeSystem::Taxonomy => "http://nucc.org/provider-taxonomy",
        CodeSystem::Pos => "https://www.cms.gov/Medicare/Coding/place-of-service-codes",
        CodeSystem::Mpfs => "https://www.cms.gov/medicare/payment/fee-schedules/physician",
        CodeSystem::NcciPtp => "https://www.cms.gov/medicare/coding-billing/ncci-edits/ptp",
        CodeSystem::Mue => "https://www.cms.gov/medicare/coding-billing/ncci-edits/mue",
        CodeSystem::Mce => {
            "https://www.cms.gov/medicare/payment/prospective-payment-systems/acute-inpatient-pps/ms-drg-classifications-and-software"
        }
        CodeSystem::NcciAoc => {
            "https://www.cms.gov/medicare/coding-billing/ncci-medicare/medicare-ncci-add-code-edits"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10cm_codes_are_accepted_with_or_without_the_dot_in_any_case() {
        assert_eq!(canonical(CodeSystem::Icd10Cm, " d23.61 "), "D2361");
        assert_eq!(canonical(CodeSystem::Icd10Cm, "D2361"), "D2361");
        assert_eq!(display(CodeSystem::Icd10Cm, "D2361"), "D23.61");
        assert_eq!(display(CodeSystem::Icd10Cm, "D23"), "D23");
        assert_eq!(display(CodeSystem::Cpt, "11404"), "11404");
    }

    #[test]
    fn formats_are_checked_per_system() {
        for (system, good, bad) in [
            (
                CodeSystem::Icd10Cm,
                ["D23", "D2361", "S0101XA", "U071"],
                ["D", "1234", "DAB", "D2361XAB"],
            ),
            (
                CodeSystem::Cpt,
                ["11404", "0001F", "0042T", "99213"],
                ["1140", "114045", "A1140", "11404X"],
            ),
            (
                CodeSystem::Hcpcs,
                ["G0008", "J3490", "A4550", "Q4101"],
                ["11404", "GG008", "G000", "G00081"],
            ),
            (
                CodeSystem::Modifier,
                ["25", "XS", "RT", "59"],
                ["Q!", "255", "X", ""],
            ),
            (
                CodeSystem::Taxonomy,
                ["207N00000X", "2086S0122X", "363LF0000X", "208600000X"],
                ["207N00000Y", "20700000X", "207n00000x", ""],
            ),
            (
                CodeSystem::Pos,
                ["11", "02", "99", "22"],
                ["1", "111", "AB", ""],
            ),
        ] {
            for code in good {
                assert!(
                    has_valid_format(system, &canonical(system, code)),
                    "{system} {code}"
                );
            }
            for code in bad {
                assert!(!has_valid_format(system, code), "{system} {code}");
            }
        }
    }

    #[test]
    fn procedure_codes_route_to_cpt_or_hcpcs() {
        assert_eq!(procedure_system("11404"), CodeSystem::Cpt);
        assert_eq!(procedure_system("G0008"), CodeSystem::Hcpcs);
    }
}
