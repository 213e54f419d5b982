//! Meanings of the Medicare Physician Fee Schedule indicators (CMS PPRRVU
//! record layout), for explanations in lookups and findings.

use crate::domain::catalog::FeeScheduleRow;

/// The indicators of a row as (property name, value, meaning).
pub fn describe(row: &FeeScheduleRow) -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "status",
            row.status.letter().to_owned(),
            row.status.meaning(),
        ),
        ("pctc", row.pctc.clone(), pctc(&row.pctc)),
        (
            "global_days",
            row.global_days.clone(),
            global_days(&row.global_days),
        ),
        (
            "mult_proc",
            row.mult_proc.clone(),
            mult_proc(&row.mult_proc),
        ),
        ("bilat", row.bilat.clone(), bilat(&row.bilat)),
        ("asst", row.asst.clone(), asst(&row.asst)),
        ("co_surg", row.co_surg.clone(), co_team(&row.co_surg)),
        ("team_surg", row.team_surg.clone(), co_team(&row.team_surg)),
    ]
}

/// PC/TC indicator meaning.
pub fn pctc(value: &str) -> &'static str {
    match value {
        "0" => "physician service: modifiers 26 and TC cannot be used",
        "1" => "diagnostic test with professional (26) and technical (TC) components",
        "2" => "professional component only code",
        "3" => "technical component only code",
        "4" => "global test only code",
        "5" => "incident-to code: modifiers 26 and TC cannot be used",
        "6" => "laboratory physician interpretation code",
        "7" => "physical therapy service: modifiers 26 and TC cannot be used",
        "8" => "physician interpretation code",
        "9" => "concept of professional/technical component does not apply",
        _ => "see the CMS PPRRVU record layout",
    }
}

/// Global days meaning.
pub fn global_days(value: &str) -> &'static str {
    match value {
        "000" => "0-day global: same-day pre- and post-operative services included",
        "010" => "10-day global: the day of the procedure and 10 post-operative days included",
        "090" => "90-day global: the day before, the day of and 90 post-operative days included",
        "MMM" => "maternity global period",
        "XXX" => "global concept does not apply",
        "YYY" => "carrier determines the global period",
        "ZZZ" => "add-on code, within the global period of another service",
        _ => "see the CMS PPRRVU record layout",
    }
}

/// Multiple procedure indicator meaning.
pub fn mult_proc(value: &str) -> &'static str {
    match value {
        "0" => "no multiple procedure reduction",
        "1" => "standard reduction before 1996 rules (100/50/25/25/25)",
        "2" => "standard multiple procedure reduction (100/50/50/50/50, then by report)",
        "3" => "endoscopic base-code rules",
        "4" => "diagnostic imaging reduction",
        "5" => "therapy services reduction",
        "6" => "diagnostic cardiovascular reduction",
        "7" => "diagnostic ophthalmology reduction",
        "9" => "concept does not apply",
        _ => "see the CMS PPRRVU record layout",
    }
}

/// Bilateral surgery indicator meaning.
pub fn bilat(value: &str) -> &'static str {
    match value {
        "0" => "150% bilateral adjustment does not apply: modifier 50 is inappropriate",
        "1" => "150% bilateral adjustment applies with modifier 50 or RT and LT",
        "2" => "code is already bilateral: no adjustment",
        "3" => "each side paid at 100%",
        "9" => "bilateral concept does not apply",
        _ => "see the CMS PPRRVU record layout",
    }
}

/// Assistant at surgery indicator meaning.
pub fn asst(value: &str) -> &'static str {
    match value {
        "0" => "assistant paid only with documented medical necessity",
        "1" => "statutory restriction: assistant at surgery not paid",
        "2" => "assistant at surgery may be paid",
        "9" => "concept does not apply",
        _ => "see the CMS PPRRVU record layout",
    }
}

/// Co-surgeon and team surgeon indicator meaning.
pub fn co_team(value: &str) -> &'static str {
    match value {
        "0" => "not permitted",
        "1" => "permitted with supporting documentation",
        "2" => "permitted",
        "9" => "concept does not apply",
        _ => "see the CMS PPRRVU record layout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_11404_indicators_read_as_the_seed_errata_say() {
        let row = FeeScheduleRow {
            status: crate::domain::mpfs_status::MpfsStatus::Active,
            pctc: "0".into(),
            global_days: "010".into(),
            mult_proc: "2".into(),
            bilat: "0".into(),
            asst: "1".into(),
            co_surg: "0".into(),
            team_surg: "0".into(),
            work_rvu: None,
        };
        let described = describe(&row);
        assert!(described[1].2.contains("26 and TC cannot be used"));
        assert!(described[4].2.contains("modifier 50 is inappropriate"));
        assert!(described[5].2.contains("not paid"));
        assert_eq!(described.len(), 8);
    }
}
