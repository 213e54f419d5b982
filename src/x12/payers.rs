//! Which claimscrub payer a claim's 2010BB payer id (NM1*PR NM109) names:
//! data, because payer ids are assigned by clearinghouses and payers, not
//! by the standard. The shipped file maps a few national payer ids; an
//! operator passes its own with `serve --x12-payer-map`. An id the map does
//! not name is used as it is, so a claimscrub payer id sent in NM109 works.

use std::collections::HashMap;

/// The mapping shipped with claimscrub.
pub const BUILTIN_PAYER_MAP: &str = include_str!("../../reference/default/x12_payers.csv");

/// X12 payer id → claimscrub payer id.
#[derive(Debug, Clone, Default)]
pub struct PayerMap(HashMap<String, String>);

impl PayerMap {
    /// Reads `x12_payer_id,payer_id` rows; `Err` names the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|e| format!("line {line}: {e}"))?;
            let (Some(x12), Some(payer)) = (record.get(0), record.get(1)) else {
                return Err(format!("line {line}: expected x12_payer_id,payer_id"));
            };
            let (x12, payer) = (x12.trim(), payer.trim());
            if x12.is_empty() || payer.is_empty() {
                return Err(format!("line {line}: an empty id"));
            }
            if map.insert(x12.to_owned(), payer.to_owned()).is_some() {
                return Err(format!("line {line}: {x12} is mapped twice"));
            }
        }
        Ok(Self(map))
    }

    /// The shipped mapping.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_PAYER_MAP).expect("the shipped payer map parses")
    }

    /// claimscrub's payer id for `x12_payer_id`.
    pub fn payer<'a>(&'a self, x12_payer_id: &'a str) -> &'a str {
        self.0
            .get(x12_payer_id.trim())
            .map_or(x12_payer_id, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ids_translate_and_others_pass_through() {
        let map = PayerMap::builtin();
        assert_eq!(map.payer("60054"), "AETNA");
        assert_eq!(map.payer("MEDICARE"), "MEDICARE");
        assert!(
            PayerMap::parse("x12_payer_id,payer_id\n1,A\n1,B\n")
                .unwrap_err()
                .starts_with("line 3")
        );
    }
}
