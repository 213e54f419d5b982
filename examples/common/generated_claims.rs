//! Claims in the JSON Lines shape of `../shared/tools/gen_claims.py` (and
//! the 10,000-claim sample), as protobuf claims. Shared by the examples.

use claimscrub::grpc::pb;
use serde_json::Value;

/// A JSON string field as text (empty when absent).
pub(crate) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn date(v: &Value) -> Option<pb::google::r#type::Date> {
    let text = v.as_str()?;
    let mut parts = text.split('-').map(|p| p.parse::<i32>().ok());
    Some(pb::google::r#type::Date {
        year: parts.next()??,
        month: parts.next()??,
        day: parts.next()??,
    })
}

/// One generated claim as a protobuf claim.
pub(crate) fn claim(v: &Value) -> pb::Claim {
    pb::Claim {
        claim_id: text(&v["claim_id"]),
        payer_id: text(&v["payer"]),
        date_of_service: date(&v["date_of_service"]),
        place_of_service: text(&v["place_of_service"]),
        rendering_provider: Some(pb::Provider {
            npi: String::new(),
            taxonomy_code: text(&v["rendering_taxonomy"]),
        }),
        diagnosis_codes: v["diagnoses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect(),
        lines: v["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| pb::ServiceLine {
                procedure_code: text(&l["procedure_code"]),
                modifiers: l["modifiers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect(),
                units: l["units"]
                    .as_u64()
                    .and_then(|u| u32::try_from(u).ok())
                    .unwrap_or(0),
                diagnosis_pointers: l["diagnosis_pointers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_u64().and_then(|p| u32::try_from(p).ok()))
                    .collect(),
                excised_diameter_cm: l["lesion_diameter_cm"].as_f64(),
                repair_length_cm: l["repair_length_cm"].as_f64(),
                anatomic_site: l["anatomic_site"].as_str().unwrap_or_default().to_owned(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}
