//! Imports the official code-set files of `../shared/data` (ICD-10-CM
//! FY2025 and FY2026, HCPCS, NUCC, MPFS 2023 and 2025, NCCI PTP and MUE,
//! MCE, add-on codes, POS) the way
//! `claimscrub import` does. Shared by the examples.

use std::path::Path;

use claimscrub::app::import;
use claimscrub::import::ImportKind;
use sqlx::PgPool;

/// Imports every official file; a file already loaded is a no-op.
pub(crate) async fn import_all(pool: &PgPool, data: &Path) -> anyhow::Result<()> {
    for (kind, file, release) in [
        (
            ImportKind::Icd10CmOrder,
            "icd10cm/icd10cm-order-2025.txt.gz",
            None,
        ),
        (
            ImportKind::Icd10CmTabular,
            "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
            None,
        ),
        (
            ImportKind::Hcpcs,
            "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
            None,
        ),
        (ImportKind::Nucc, "nucc/nucc_taxonomy_251.csv", None),
        (ImportKind::Mpfs, "mpfs/PPRRVU23_JAN.csv.gz", None),
        (ImportKind::Mpfs, "mpfs/PPRRVU2025_Oct.csv.gz", None),
        (
            ImportKind::NcciPtp,
            "ncci/ccipra-v302r0-excision-family.derived.txt.gz",
            None,
        ),
        (
            ImportKind::NcciPtp,
            "ncci/ccipra-v322r0-f1.excerpt.txt",
            None,
        ),
        (
            ImportKind::Mue,
            "ncci/MCR_MUE_PractitionerServices_Eff_04-01-2026.csv.gz",
            None,
        ),
        (
            ImportKind::Mue,
            "ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
            None,
        ),
        (
            ImportKind::Mce,
            "mce/mce_v43.1_icd10dx_code_master.csv.gz",
            None,
        ),
        (
            ImportKind::NcciAoc,
            "aoc/ncci_aoc_2024-06-03_active.derived.csv",
            None,
        ),
        (
            ImportKind::Pos,
            "pos/pos_codes.csv",
            Some(("2024-05-02", "2024-05-02")),
        ),
    ] {
        let request = import::ImportRequest {
            kind,
            path: data.join(file),
            version: release.map(|(v, _): (&str, &str)| v.to_owned()),
            effective_from: release.map(|(_, d)| d.parse().expect("date")),
            effective_to: None,
        };
        import::import_file(pool, &request, &import::NoProgress).await?;
    }
    Ok(())
}
