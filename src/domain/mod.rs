//! Pure domain types: code systems, their releases and the catalog snapshot. No I/O.

pub mod access;
pub mod batch_state;
pub mod catalog;
pub mod claim;
pub mod code_system;
pub mod codes;
pub mod concept;
pub mod default_data;
pub mod fee_schedule;
pub mod finding;
pub mod limits;
pub mod mce;
pub mod mpfs_status;
pub mod procedures;
pub mod search;
pub mod service_type;
pub mod validity;
