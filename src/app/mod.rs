//! Use cases: what the API does, independent of gRPC. Reads the in-memory
//! catalog and calls [`crate::storage`] for persistence.

pub mod api_keys;
pub mod audit;
pub mod audit_writer;
pub mod batch;
pub mod catalog;
pub mod default_data;
pub mod history_reader;
pub mod import;
pub mod lookup;
pub mod page_token;
pub mod profile;
pub mod reference_data;
pub mod validate;
