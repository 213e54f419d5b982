//! The X12 front door, pure: an 005010X222A1 837P interchange read into
//! claims, checked at SNIP levels 1 and 2 (and the envelope's counts and
//! control numbers), and the acknowledgements written back.
//!
//! - [`segments`]: separators from the fixed-width ISA, then segments from
//!   any `Read` in constant memory.
//! - [`elements`] and [`spec`]: element syntax, and the segments of the
//!   guide claimscrub reads.
//! - [`check`]: the walk through ISA/GS/ST … SE/GE/IEA and the 837P loops;
//!   every claim of a transaction set comes out as a [`domain::claim::Claim`]
//!   with its envelope keys and segment range ([`check::X12Claim`]), every
//!   error as what the TA1 or the 999 says of it ([`check::InterchangeReport`]).
//! - [`ack`]: the TA1 and the 999 (005010X231A1) from a report.
//! - [`ca277`]: the 277CA (005010X214), claim by claim from the decisions,
//!   with the rule → STC mapping ([`ca277::StatusMap`], data).
//! - [`payers`]: the 2010BB payer id → claimscrub payer id mapping (data).
//!
//! What an 837P cannot carry (excised size, anatomic site, line laterality,
//! documented indications) stays empty, and the edits that need it say
//! "not checked".

pub mod ack;
pub mod ca277;
pub mod check;
pub mod elements;
pub mod payers;
pub mod segments;
pub mod spec;
