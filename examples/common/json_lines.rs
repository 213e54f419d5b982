//! Reading JSON Lines files (the claim sample and its labels). Shared by the
//! examples.

use serde_json::Value;

/// Every claim (or label) of a JSON Lines file, plain or gzip.
pub(crate) fn lines(path: &std::path::Path) -> Vec<Value> {
    let data = claimscrub::import::source::read_decompressed(path).expect("readable");
    std::io::BufRead::lines(data.as_slice())
        .map(|l| serde_json::from_str(&l.expect("utf-8")).expect("json"))
        .collect()
}
