//! The pure rule engine: rules evaluate a claim against the in-memory catalog
//! snapshot and return findings. No I/O, so every rule is a plain unit test.
//!
//! The engine and its rules arrive with claim validation; this module marks
//! their place in the layering (see the crate documentation).
