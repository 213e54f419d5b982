//! Writes protobuf claims as an 005010X222A1 837P interchange: the other
//! door's view of the same claims. What an 837P cannot carry (excised
//! size, anatomic site, laterality, indications) is not written; what it
//! must carry and a protobuf claim may lack (names, addresses, charges) is
//! filled with fixed values. Shared by the examples and the tests.

use claimscrub::grpc::pb;

/// The protobuf claim an 837P of `claim` carries: the fields it cannot
/// carry cleared.
pub(crate) fn carried(mut claim: pb::Claim) -> pb::Claim {
    for line in &mut claim.lines {
        line.excised_diameter_cm = None;
        line.repair_length_cm = None;
        line.anatomic_site.clear();
        line.laterality = 0;
        line.documented_indications.clear();
    }
    claim
}

/// `claim` with what an 837P requires and a generated claim lacks: the
/// billing and rendering NPI (1234567893) and a member id.
pub(crate) fn with_required_parties(mut claim: pb::Claim, member_id: String) -> pb::Claim {
    claim.billing_provider = Some(pb::Provider {
        npi: "1234567893".into(),
        taxonomy_code: String::new(),
    });
    if let Some(rendering) = claim.rendering_provider.as_mut() {
        rendering.npi = "1234567893".into();
    }
    claim.patient = Some(pb::Patient {
        member_id,
        ..Default::default()
    });
    claim
}

/// The X12 payer id written for a claimscrub payer (the shipped map's
/// national ids; others as they are).
fn x12_payer(payer: &str) -> &str {
    match payer {
        "AETNA" => "60054",
        "CIGNA" => "62308",
        "UHC" => "87726",
        other => other,
    }
}

fn date8(date: Option<&pb::google::r#type::Date>) -> String {
    date.map_or_else(
        || "20260101".to_owned(),
        |d| format!("{:04}{:02}{:02}", d.year, d.month, d.day),
    )
}

/// Charge per service line.
const LINE_CHARGE: u32 = 100;

/// An interchange with `control` as ISA13/GS06, `per_set` claims per
/// transaction set.
pub(crate) fn interchange(claims: &[pb::Claim], per_set: usize, control: u32) -> String {
    let mut out = String::with_capacity(claims.len() * 700);
    let mut push = |segment: String, count: &mut usize| {
        out.push_str(&segment);
        out.push_str("~\n");
        *count += 1;
    };
    let mut ignored = 0;
    push(
        format!(
            "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*CLAIMSCRUB     *260101*1200*^*00501*{control:09}*0*T*:"
        ),
        &mut ignored,
    );
    push(
        format!("GS*HC*SUBMITTER*CLAIMSCRUB*20260101*1200*{control}*X*005010X222A1"),
        &mut ignored,
    );
    let sets = claims.chunks(per_set.max(1));
    let set_count = sets.len();
    for (set, chunk) in sets.enumerate() {
        let st = format!("{:04}", set + 1);
        let mut count = 0;
        push(format!("ST*837*{st}*005010X222A1"), &mut count);
        push(format!("BHT*0019*00*REF{set}*20260101*1200*CH"), &mut count);
        push(
            "NM1*41*2*SAMPLE BILLING*****46*SUBMITTER".into(),
            &mut count,
        );
        push("PER*IC*BILLING OFFICE*TE*5555550100".into(), &mut count);
        push("NM1*40*2*CLAIMSCRUB*****46*CLAIMSCRUB".into(), &mut count);
        let mut hl = 1;
        let mut billing: Option<(String, String)> = None;
        let mut billing_hl = 0;
        for claim in chunk {
            let provider = claim.billing_provider.clone().unwrap_or_default();
            let key = (provider.npi.clone(), provider.taxonomy_code.clone());
            if billing.as_ref() != Some(&key) {
                billing_hl = hl;
                push(format!("HL*{hl}**20*1"), &mut count);
                hl += 1;
                if !key.1.is_empty() {
                    push(format!("PRV*BI*PXC*{}", key.1), &mut count);
                }
                push(
                    format!("NM1*85*2*SAMPLE CLINIC*****XX*{}", key.0),
                    &mut count,
                );
                push("N3*1 MAIN ST".into(), &mut count);
                push("N4*SPRINGFIELD*IL*627010000".into(), &mut count);
                push("REF*EI*123456789".into(), &mut count);
                billing = Some(key);
            }
            push(format!("HL*{hl}*{billing_hl}*22*0"), &mut count);
            hl += 1;
            let filing = if claim.payer_id == "MEDICARE" {
                "MB"
            } else {
                "CI"
            };
            push(format!("SBR*P*18*******{filing}"), &mut count);
            let patient = claim.patient.clone().unwrap_or_default();
            push(
                format!("NM1*IL*1*DOE*PAT****MI*{}", patient.member_id),
                &mut count,
            );
            let sex = match pb::Sex::try_from(patient.sex) {
                Ok(pb::Sex::Female) => "F",
                Ok(pb::Sex::Male) => "M",
                _ => "U",
            };
            if patient.birth_date.is_some() {
                push(
                    format!("DMG*D8*{}*{sex}", date8(patient.birth_date.as_ref())),
                    &mut count,
                );
            }
            push(
                format!("NM1*PR*2*PAYER*****PI*{}", x12_payer(&claim.payer_id)),
                &mut count,
            );
            let total = LINE_CHARGE as usize * claim.lines.len();
            push(
                format!(
                    "CLM*{}*{total}***{}:B:1*Y*A*Y*Y",
                    claim.claim_id, claim.place_of_service
                ),
                &mut count,
            );
            let diagnoses: Vec<String> = claim
                .diagnosis_codes
                .iter()
                .enumerate()
                .map(|(i, code)| {
                    let qualifier = if i == 0 { "ABK" } else { "ABF" };
                    format!("{qualifier}:{}", code.replace('.', ""))
                })
                .collect();
            push(format!("HI*{}", diagnoses.join("*")), &mut count);
            let rendering = claim.rendering_provider.clone().unwrap_or_default();
            if !rendering.npi.is_empty() || !rendering.taxonomy_code.is_empty() {
                let id = if rendering.npi.is_empty() {
                    String::new()
                } else {
                    format!("****XX*{}", rendering.npi)
                };
                push(format!("NM1*82*1*RENDERING*DOC{id}"), &mut count);
                if !rendering.taxonomy_code.is_empty() {
                    push(
                        format!("PRV*PE*PXC*{}", rendering.taxonomy_code),
                        &mut count,
                    );
                }
            }
            for (i, line) in claim.lines.iter().enumerate() {
                push(format!("LX*{}", i + 1), &mut count);
                let mut procedure = format!("HC:{}", line.procedure_code);
                for modifier in &line.modifiers {
                    procedure.push(':');
                    procedure.push_str(modifier);
                }
                let pointers: Vec<String> =
                    line.diagnosis_pointers.iter().map(u32::to_string).collect();
                push(
                    format!(
                        "SV1*{procedure}*{LINE_CHARGE}*UN*{}*{}**{}",
                        line.units,
                        line.place_of_service.clone().unwrap_or_default(),
                        pointers.join(":")
                    ),
                    &mut count,
                );
                let date = line
                    .date_of_service
                    .as_ref()
                    .or(claim.date_of_service.as_ref());
                push(format!("DTP*472*D8*{}", date8(date)), &mut count);
            }
        }
        count += 1;
        push(format!("SE*{count}*{st}"), &mut ignored);
    }
    push(format!("GE*{set_count}*{control}"), &mut ignored);
    push(format!("IEA*1*{control:09}"), &mut ignored);
    out
}
