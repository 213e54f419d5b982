//! Pure domain types: code systems and their releases. No I/O.

pub mod code_system;
