//! The parts of 005010X222A1 the reader models: the elements of the
//! segments whose data claimscrub reads, with their lengths, types, code
//! values and reference numbers. Segments of loops it skips are checked
//! for syntax only (known segment id, character set, no trailing
//! separator).

use super::elements::{El, Kind, comp, el};

/// Every segment id the 837P guide uses; another id is IK304 code 1.
pub const KNOWN_SEGMENTS: &[&str] = &[
    "ST", "BHT", "NM1", "PER", "N3", "N4", "REF", "HL", "PRV", "CUR", "SBR", "PAT", "DMG", "CLM",
    "DTP", "PWK", "CN1", "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP", "CAS", "OI", "MOA",
    "LX", "SV1", "SV5", "CR3", "QTY", "MEA", "PS1", "LIN", "CTP", "SVD", "LQ", "FRM", "SE",
];

const NM1_ENTITIES: &[&str] = &[
    "41", "40", "85", "87", "PE", "IL", "PR", "QC", "DN", "P3", "82", "77", "DQ", "PW", "45", "QB",
    "DK",
];
const CLAIM_FILING: &[&str] = &[
    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA",
    "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
];
const PAYER_RESPONSIBILITY: &[&str] = &["A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"];
const PATIENT_RELATIONSHIP: &[&str] = &["01", "19", "20", "21", "39", "40", "53", "G8"];
const DIAGNOSIS_QUALIFIERS: &[&str] = &[
    "ABK", "ABF", "BK", "BF", "ABJ", "APR", "BJ", "PR", "ABN", "BN", "BP", "BO", "BG", "BQ", "BR",
    "BS", "BT", "BU", "BZ", "BH", "BI", "BE", "DR", "LOI", "TC",
];

/// The elements checked in `id` and the most elements it may have, or
/// `None` for segments checked for syntax only.
pub fn elements(id: &str) -> Option<(&'static [El], usize)> {
    use Kind::{An, Dt, Id, N0, R, Tm};
    Some(match id {
        "ST" => (
            const {
                &[
                    el(1, 143, true, 3, 3, Id(&["837"])),
                    el(2, 329, true, 4, 9, An),
                    el(3, 1705, true, 1, 35, An),
                ]
            },
            3,
        ),
        "SE" => (
            const { &[el(1, 96, true, 1, 10, N0), el(2, 329, true, 4, 9, An)] },
            2,
        ),
        "BHT" => (
            const {
                &[
                    el(1, 1005, true, 4, 4, Id(&["0019"])),
                    el(2, 353, true, 2, 2, Id(&["00", "18"])),
                    el(3, 127, true, 1, 50, An),
                    el(4, 373, true, 8, 8, Dt),
                    el(5, 337, true, 4, 8, Tm),
                    el(6, 640, true, 2, 2, Id(&["31", "CH", "RP"])),
                ]
            },
            6,
        ),
        "NM1" => (
            const {
                &[
                    el(1, 98, true, 2, 3, Id(NM1_ENTITIES)),
                    el(2, 1065, true, 1, 1, Id(&["1", "2"])),
                    el(3, 1035, false, 1, 60, An),
                    el(4, 1036, false, 1, 35, An),
                    el(5, 1037, false, 1, 25, An),
                    el(7, 1039, false, 1, 10, An),
                    el(
                        8,
                        66,
                        false,
                        1,
                        2,
                        Id(&["46", "XX", "MI", "II", "PI", "XV", "24", "34"]),
                    ),
                    el(9, 67, false, 2, 80, An),
                ]
            },
            12,
        ),
        "PER" => (
            const {
                &[
                    el(1, 366, true, 2, 2, Id(&["IC"])),
                    el(2, 93, false, 1, 60, An),
                    el(3, 365, false, 2, 2, Id(&["EM", "FX", "TE", "EX"])),
                    el(4, 364, false, 1, 256, An),
                ]
            },
            8,
        ),
        "N3" => (
            const { &[el(1, 166, true, 1, 55, An), el(2, 166, false, 1, 55, An)] },
            2,
        ),
        "N4" => (
            const {
                &[
                    el(1, 19, true, 2, 30, An),
                    el(2, 156, false, 2, 2, Id(&[])),
                    el(3, 116, false, 3, 15, Id(&[])),
                    el(4, 26, false, 2, 3, Id(&[])),
                    el(7, 1715, false, 1, 3, Id(&[])),
                ]
            },
            7,
        ),
        "REF" => (
            const { &[el(1, 128, true, 2, 3, Id(&[])), el(2, 127, true, 1, 50, An)] },
            4,
        ),
        "HL" => (
            const {
                &[
                    el(1, 628, true, 1, 12, An),
                    el(2, 734, false, 1, 12, An),
                    el(3, 735, true, 1, 2, Id(&["20", "22", "23"])),
                    el(4, 736, false, 1, 1, Id(&["0", "1"])),
                ]
            },
            4,
        ),
        "PRV" => (
            const {
                &[
                    el(
                        1,
                        1221,
                        true,
                        1,
                        3,
                        Id(&["BI", "PE", "AT", "SU", "OT", "PT", "RF"]),
                    ),
                    el(2, 128, true, 2, 3, Id(&["PXC"])),
                    el(3, 127, true, 1, 50, An),
                ]
            },
            6,
        ),
        "SBR" => (
            const {
                &[
                    el(1, 1138, true, 1, 1, Id(PAYER_RESPONSIBILITY)),
                    el(
                        2,
                        1069,
                        false,
                        2,
                        2,
                        Id(&["18", "01", "19", "20", "21", "39", "40", "53", "G8"]),
                    ),
                    el(3, 127, false, 1, 50, An),
                    el(4, 93, false, 1, 60, An),
                    el(
                        5,
                        1336,
                        false,
                        1,
                        3,
                        Id(&["12", "13", "14", "15", "16", "41", "42", "43", "47"]),
                    ),
                    el(9, 1032, false, 1, 2, Id(CLAIM_FILING)),
                ]
            },
            9,
        ),
        "PAT" => (
            const { &[el(1, 1069, false, 2, 2, Id(PATIENT_RELATIONSHIP))] },
            9,
        ),
        "DMG" => (
            const {
                &[
                    el(1, 1250, true, 2, 3, Id(&["D8"])),
                    el(2, 1251, true, 8, 8, Dt),
                    el(3, 1068, true, 1, 1, Id(&["F", "M", "U"])),
                ]
            },
            11,
        ),
        "CLM" => (
            const {
                &[
                    el(1, 1028, true, 1, 38, An),
                    el(2, 782, true, 1, 18, R),
                    comp(5, 1, 1331, true, 1, 2, An),
                    comp(5, 2, 1332, true, 1, 2, Id(&["B"])),
                    comp(5, 3, 1325, true, 1, 1, Id(&["1", "6", "7", "8"])),
                    el(6, 1073, true, 1, 1, Id(&["Y", "N"])),
                    el(7, 1359, true, 1, 1, Id(&["A", "B", "C"])),
                    el(8, 1073, true, 1, 1, Id(&["N", "W", "Y"])),
                    el(9, 1363, true, 1, 1, Id(&["I", "Y"])),
                    el(10, 1351, false, 1, 1, Id(&["P"])),
                    el(12, 1366, false, 2, 3, Id(&["02", "03", "05", "09"])),
                    el(
                        20,
                        1514,
                        false,
                        1,
                        2,
                        Id(&["1", "2", "3", "4", "5", "7", "8", "9", "10", "11", "15"]),
                    ),
                ]
            },
            20,
        ),
        "DTP" => (
            const {
                &[
                    el(1, 374, true, 3, 3, Id(&[])),
                    el(2, 1250, true, 2, 3, Id(&["D8", "RD8"])),
                    el(3, 1251, true, 1, 35, An),
                ]
            },
            3,
        ),
        "HI" => (
            const {
                &[
                    comp(1, 1, 1270, true, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(1, 2, 1271, true, 1, 30, An),
                    comp(2, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(2, 2, 1271, true, 1, 30, An),
                    comp(3, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(3, 2, 1271, true, 1, 30, An),
                    comp(4, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(4, 2, 1271, true, 1, 30, An),
                    comp(5, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(5, 2, 1271, true, 1, 30, An),
                    comp(6, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(6, 2, 1271, true, 1, 30, An),
                    comp(7, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(7, 2, 1271, true, 1, 30, An),
                    comp(8, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(8, 2, 1271, true, 1, 30, An),
                    comp(9, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(9, 2, 1271, true, 1, 30, An),
                    comp(10, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(10, 2, 1271, true, 1, 30, An),
                    comp(11, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(11, 2, 1271, true, 1, 30, An),
                    comp(12, 1, 1270, false, 1, 3, Id(DIAGNOSIS_QUALIFIERS)),
                    comp(12, 2, 1271, true, 1, 30, An),
                ]
            },
            12,
        ),
        "LX" => (const { &[el(1, 554, true, 1, 6, N0)] }, 1),
        "PWK" => (
            const {
                &[
                    el(1, 755, true, 2, 2, Id(&[])),
                    el(
                        2,
                        756,
                        true,
                        1,
                        2,
                        Id(&["AA", "BM", "EL", "EM", "FT", "FX"]),
                    ),
                    el(5, 66, false, 1, 2, Id(&["AC"])),
                    el(6, 67, false, 2, 80, An),
                ]
            },
            7,
        ),
        "SV1" => (
            const {
                &[
                    comp(1, 1, 235, true, 2, 2, Id(&["HC", "ER", "IV", "WK"])),
                    comp(1, 2, 234, true, 1, 48, An),
                    comp(1, 3, 1339, false, 2, 2, An),
                    comp(1, 4, 1339, false, 2, 2, An),
                    comp(1, 5, 1339, false, 2, 2, An),
                    comp(1, 6, 1339, false, 2, 2, An),
                    comp(1, 7, 352, false, 1, 80, An),
                    el(2, 782, true, 1, 18, R),
                    el(3, 355, true, 2, 2, Id(&["MJ", "UN"])),
                    el(4, 380, true, 1, 15, R),
                    el(5, 1331, false, 1, 2, An),
                    comp(7, 1, 1328, true, 1, 2, N0),
                    comp(7, 2, 1328, false, 1, 2, N0),
                    comp(7, 3, 1328, false, 1, 2, N0),
                    comp(7, 4, 1328, false, 1, 2, N0),
                    el(9, 1073, false, 1, 1, Id(&["Y"])),
                    el(11, 1073, false, 1, 1, Id(&["Y"])),
                    el(12, 1073, false, 1, 1, Id(&["Y"])),
                    el(15, 1327, false, 1, 1, Id(&["0"])),
                ]
            },
            21,
        ),
        _ => return None,
    })
}
