//! Compiles `proto/claimscrub/v1/*.proto` with protox (pure Rust, no protoc) and
//! writes the encoded descriptor set that gRPC reflection serves.

use prost::Message as _;

const PROTOS: &[&str] = &[
    "proto/claimscrub/v1/common.proto",
    "proto/claimscrub/v1/code_lookup_service.proto",
    "proto/claimscrub/v1/claim_validation_service.proto",
    "proto/claimscrub/v1/audit_service.proto",
    "proto/claimscrub/v1/reference_data_service.proto",
    "proto/claimscrub/v1/x12_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(PROTOS, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    // compile_fds writes no descriptor file of its own, so encode it here.
    std::fs::write(out.join("claimscrub_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // google.rpc.Status already exists, with the prost derives, in tonic-types.
        .extern_path(".google.rpc", "::tonic_types::pb")
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    // sqlx::migrate! embeds migrations/ at compile time but does not see a
    // file added there; this rebuilds the crate when one is.
    println!("cargo:rerun-if-changed=migrations");
    Ok(())
}
