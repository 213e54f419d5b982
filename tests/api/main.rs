//! End-to-end tests: the real server on 127.0.0.1:0 against a fresh, migrated
//! PostgreSQL database per test (`#[sqlx::test]`), called with the generated
//! tonic clients. One binary, so the crate links once.

mod api_keys;
mod audit;
mod audit_access;
mod batch_stream;
mod claim_validation;
mod code_lookup;
mod concurrency;
mod contract;
mod helpers;
mod hostile;
mod import;
mod lifecycle;
mod limits;
mod phi_logs;
mod procedures;
mod real_claims;
mod reference_data;
mod rule_edits;
mod scopes;
mod tls;
mod x12_fixtures;
mod x12_service;
