//! Member ids for generated claims, which carry none: with
//! `CLAIMSCRUB_BENCH_MEMBERS=M`, claim number `i` belongs to member
//! `i mod M`, so every claim runs the history edits, in the batch stream and
//! through ValidateClaim alike. Unset, claims keep no member id.

use std::sync::OnceLock;

use claimscrub::grpc::pb;

fn members() -> Option<u64> {
    static MEMBERS: OnceLock<Option<u64>> = OnceLock::new();
    *MEMBERS.get_or_init(|| {
        std::env::var("CLAIMSCRUB_BENCH_MEMBERS")
            .ok()
            .map(|m| m.parse().expect("CLAIMSCRUB_BENCH_MEMBERS is a number"))
            .filter(|&m| m > 0)
    })
}

/// Gives claim number `i` its member, when members are asked for.
pub(crate) fn assign(claim: &mut pb::Claim, i: u64) {
    if let Some(members) = members() {
        claim.patient.get_or_insert_default().member_id = format!("MBR-{}", i % members);
    }
}
