//! The walk through an interchange: envelope, functional groups,
//! transaction sets and the 837P loops, in one pass over the segments.
//!
//! It reports what the TA1 and the 999 say ([`InterchangeReport`]) and
//! hands every claim of a transaction set to a sink as it closes
//! ([`X12Claim`]). Whether a set is scrubbed is decided by its 999 verdict
//! at its SE, so the front door reads a file twice: once to check it, once
//! to scrub the sets the check accepted. Both passes run in constant
//! memory; only errors are kept, at most [`MAX_SEGMENT_ERRORS`] per set.
//!
//! Loops read (X222A1): 1000A/B, 2000A/2010AA/AB, 2000B/2010BA/BB,
//! 2000C/2010CA, 2300, 2310B, 2400. Every other loop of the guide (2010AC,
//! 2310A/C–F, 2320, 2330A–G, 2410, 2420A–H, 2430, 2440) is recognised by
//! its first segment and qualifier, checked for syntax and skipped.
//!
//! An error inside what claimscrub reads rejects the set (IK5 R): its
//! claims would be read wrong. An error only in a skipped loop or segment
//! accepts it with errors (IK5 E): the claims are read right and scrubbed.

use std::collections::HashMap;
use std::io::{self, Read};

use chrono::NaiveDate;

use super::elements::{self, ElementError, code as ik4};
use super::segments::{ISA_LEN, Segment, SegmentReader, Separators};
use super::spec;
use crate::domain::claim::{
    Claim, DiagnosisCodeSet, Laterality, ModifierCode, Npi, Patient, PayerId, Provider, Quantity,
    ServiceLine, Sex, TaxonomyCode, UnitBasis, X12Origin,
};

/// Segment errors kept per transaction set; past it the set is rejected
/// and the 999 lists the first ones.
pub const MAX_SEGMENT_ERRORS: usize = 1_000;

/// The versions read (GS08 / ST03): X222A1 and X222 with the same rules.
pub const SUPPORTED_VERSIONS: &[&str] = &["005010X222A1", "005010X222"];

/// IK304 codes (620).
pub mod ik3 {
    pub const UNRECOGNIZED: &str = "1";
    pub const UNEXPECTED: &str = "2";
    pub const REQUIRED_MISSING: &str = "3";
    pub const LOOP_OVER_MAX: &str = "4";
    pub const SEGMENT_OVER_MAX: &str = "5";
    pub const HAS_ELEMENT_ERRORS: &str = "8";
}

/// The ISA, as the acknowledgements need it.
#[derive(Debug, Clone, Default)]
pub struct IsaHeader {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA09 (YYMMDD) and ISA10 (HHMM).
    pub date: String,
    pub time: String,
    /// ISA13.
    pub control_number: String,
    /// ISA14: a TA1 was asked for.
    pub ack_requested: bool,
    /// ISA15: P or T.
    pub usage: String,
}

/// One interchange's check.
#[derive(Debug, Clone, Default)]
pub struct InterchangeReport {
    pub header: IsaHeader,
    /// The TA1 note code of the first envelope error (I18), if any: the
    /// interchange is then rejected whole.
    pub envelope_error: Option<&'static str>,
    pub groups: Vec<GroupReport>,
    /// Non-blank bytes before the ISA that were skipped.
    pub preamble_bytes: usize,
}

/// One functional group's check (one 999 transaction set).
#[derive(Debug, Clone, Default)]
pub struct GroupReport {
    /// GS01, GS02, GS03, GS06 and GS08.
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub control_number: String,
    pub version: String,
    /// AK905.. codes (716); non-empty rejects the group.
    pub errors: Vec<&'static str>,
    /// GE01 as sent.
    pub declared_sets: Option<u64>,
    pub sets: Vec<SetReport>,
}

/// The 999 verdict on a transaction set (IK501).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetVerdict {
    Accepted,
    AcceptedWithErrors,
    Rejected,
}

impl SetVerdict {
    /// IK501 / AK901 letter.
    pub fn code(self) -> &'static str {
        match self {
            Self::Accepted => "A",
            Self::AcceptedWithErrors => "E",
            Self::Rejected => "R",
        }
    }

    /// Whether its claims are scrubbed.
    pub fn scrubbed(self) -> bool {
        self != Self::Rejected
    }
}

/// One transaction set's check.
#[derive(Debug, Clone)]
pub struct SetReport {
    /// ST01, ST02, ST03.
    pub id: String,
    pub control_number: String,
    pub version: String,
    /// IK502.. codes (618).
    pub codes: Vec<&'static str>,
    pub errors: Vec<SegmentError>,
    /// Whether an error touched what claimscrub reads.
    pub read_data_error: bool,
    /// Claims (CLM) in the set.
    pub claims: u64,
    /// BHT03, the submitter's reference the 277CA echoes.
    pub reference: String,
    /// 1000A (submitter) and 1000B (receiver) names and ids.
    pub submitter: Party,
    pub receiver: Party,
}

impl SetReport {
    /// IK501.
    pub fn verdict(&self) -> SetVerdict {
        if !self.codes.is_empty() || self.read_data_error {
            SetVerdict::Rejected
        } else if self.errors.is_empty() {
            SetVerdict::Accepted
        } else {
            SetVerdict::AcceptedWithErrors
        }
    }
}

/// An entity's name and id (NM103, NM109).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub first_name: String,
    pub id: String,
}

/// One IK3 loop of the 999.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentError {
    pub segment_id: String,
    /// Position in the transaction set, ST = 1.
    pub position: u64,
    /// The loop (empty in the header).
    pub loop_id: &'static str,
    /// IK304.
    pub code: &'static str,
    /// CLM01 of the claim it is in, for the CTX.
    pub claim_id: Option<String>,
    pub elements: Vec<ElementError>,
}

/// A claim read from a transaction set.
#[derive(Debug, Clone)]
pub struct X12Claim {
    /// The claim, with its origin set.
    pub claim: Claim,
    /// CLM02 as sent.
    pub charge: String,
    /// The patient (2010CA, or the subscriber 2010BA) as the 277CA names it.
    pub patient: Party,
    /// The billing provider (2010AA).
    pub billing: Party,
    /// The earliest and latest line dates.
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    /// 0-based index of its interchange in the file, of its group in the
    /// interchange and of its set in the group.
    pub interchange_index: usize,
    pub group_index: usize,
    pub set_index: usize,
}

/// Where the walk is, inside a transaction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loop {
    Header,
    L1000A,
    L1000B,
    L2000A,
    L2010AA,
    L2010AB,
    L2000B,
    L2010BA,
    L2010BB,
    L2000C,
    L2010CA,
    L2300,
    L2310B,
    L2400,
    /// A loop of the guide that is syntax-checked and skipped.
    Skipped(&'static str, Zone),
}

/// The level a skipped loop sits at, for what may start after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    Billing,
    Claim,
    OtherSubscriber,
    Line,
}

impl Loop {
    fn id(self) -> &'static str {
        match self {
            Self::Header => "",
            Self::L1000A => "1000A",
            Self::L1000B => "1000B",
            Self::L2000A => "2000A",
            Self::L2010AA => "2010AA",
            Self::L2010AB => "2010AB",
            Self::L2000B => "2000B",
            Self::L2010BA => "2010BA",
            Self::L2010BB => "2010BB",
            Self::L2000C => "2000C",
            Self::L2010CA => "2010CA",
            Self::L2300 => "2300",
            Self::L2310B => "2310B",
            Self::L2400 => "2400",
            Self::Skipped(id, _) => id,
        }
    }

    /// The segments of a read loop in guide order, each with its most uses
    /// and whether it is required. A skipped loop takes any known segment.
    fn segments(self) -> &'static [(&'static str, u32, bool)] {
        match self {
            Self::Header => &[("ST", 1, true), ("BHT", 1, true)],
            Self::L1000A => &[("NM1", 1, true), ("PER", 2, true)],
            Self::L1000B => &[("NM1", 1, true)],
            Self::L2000A => &[("HL", 1, true), ("PRV", 1, false), ("CUR", 1, false)],
            Self::L2010AA => &[
                ("NM1", 1, true),
                ("N3", 1, true),
                ("N4", 1, true),
                // The tax id (REF*EI or *SY) once, then up to two licence
                // numbers (REF*0B, *1G): see `qualified`.
                ("REF", 1, true),
                ("REF", 2, false),
                ("PER", 2, false),
            ],
            Self::L2010AB => &[("NM1", 1, true), ("N3", 1, true), ("N4", 1, true)],
            Self::L2000B => &[("HL", 1, true), ("SBR", 1, true), ("PAT", 1, false)],
            Self::L2010BA => &[
                ("NM1", 1, true),
                ("N3", 1, false),
                ("N4", 1, false),
                ("DMG", 1, false),
                ("REF", 2, false),
                ("PER", 1, false),
            ],
            Self::L2010BB => &[
                ("NM1", 1, true),
                ("N3", 1, false),
                ("N4", 1, false),
                ("REF", 5, false),
            ],
            Self::L2000C => &[("HL", 1, true), ("PAT", 1, true)],
            Self::L2010CA => &[
                ("NM1", 1, true),
                ("N3", 1, true),
                ("N4", 1, true),
                ("DMG", 1, true),
                ("REF", 2, false),
                ("PER", 1, false),
            ],
            Self::L2300 => &[
                ("CLM", 1, true),
                ("DTP", 20, false),
                ("PWK", 10, false),
                ("CN1", 1, false),
                ("AMT", 1, false),
                ("REF", 20, false),
                ("K3", 10, false),
                ("NTE", 1, false),
                ("CR1", 1, false),
                ("CR2", 1, false),
                ("CRC", 8, false),
                ("HI", 4, true),
                ("HCP", 1, false),
            ],
            Self::L2310B => &[("NM1", 1, true), ("PRV", 1, false), ("REF", 4, false)],
            Self::L2400 => &[
                ("LX", 1, true),
                ("SV1", 1, true),
                ("SV5", 1, false),
                ("PWK", 10, false),
                ("CR1", 1, false),
                ("CR3", 1, false),
                ("CRC", 5, false),
                ("DTP", 10, true),
                ("QTY", 2, false),
                ("MEA", 5, false),
                ("CN1", 1, false),
                ("REF", 20, false),
                ("AMT", 2, false),
                ("K3", 10, false),
                ("NTE", 2, false),
                ("PS1", 1, false),
                ("HCP", 1, false),
            ],
            Self::Skipped(..) => &[],
        }
    }

    fn is_read(self) -> bool {
        !matches!(self, Self::Skipped(..))
    }

    /// The zone the walk is in: which loops may start next.
    fn zone(self) -> Option<Zone> {
        match self {
            Self::L2000A | Self::L2010AA | Self::L2010AB => Some(Zone::Billing),
            Self::L2300 | Self::L2310B => Some(Zone::Claim),
            Self::L2400 => Some(Zone::Line),
            Self::Skipped(_, zone) => Some(zone),
            _ => None,
        }
    }
}

/// A loop in progress: uses of each of its segments and how far the
/// guide order has come.
#[derive(Debug)]
struct OpenLoop {
    kind: Loop,
    uses: Vec<u32>,
    at: usize,
}

impl OpenLoop {
    fn new(kind: Loop) -> Self {
        Self {
            kind,
            uses: vec![0; kind.segments().len()],
            at: 0,
        }
    }
}

/// A claim being read.
#[derive(Debug, Default)]
struct ClaimDraft {
    claim: Claim,
    charge: String,
    first_segment: u64,
    last_segment: u64,
    rendering: Option<Provider>,
    lines_seen: u32,
    saw_principal: bool,
    icd9: bool,
    ordinal: u64,
    patient: Party,
    billing: Party,
    service_from: Option<NaiveDate>,
    service_to: Option<NaiveDate>,
}

impl ClaimDraft {
    /// The claim as the sink takes it, keyed by its envelope.
    fn into_x12(self, keys: [&str; 3], indexes: [usize; 3]) -> X12Claim {
        let [interchange_index, group_index, set_index] = indexes;
        let mut claim = self.claim;
        claim.rendering_provider = self
            .rendering
            .unwrap_or_else(|| claim.billing_provider.clone());
        claim.date_of_service = self.service_from;
        for line in &mut claim.lines {
            if line.date_of_service == claim.date_of_service {
                line.date_of_service = None;
            }
            if line.place_of_service.as_deref() == Some(claim.place_of_service.as_str()) {
                line.place_of_service = None;
            }
        }
        claim.x12_origin = Some(X12Origin {
            interchange_control_number: keys[0].to_owned(),
            group_control_number: keys[1].to_owned(),
            transaction_set_control_number: keys[2].to_owned(),
            claim_ordinal: self.ordinal,
            first_segment: self.first_segment,
            last_segment: self.last_segment,
        });
        X12Claim {
            claim,
            charge: self.charge,
            patient: self.patient,
            billing: self.billing,
            service_from: self.service_from,
            service_to: self.service_to,
            interchange_index,
            group_index,
            set_index,
        }
    }
}

/// Where a line of the claim being read is.
#[derive(Debug, Default)]
struct LineDraft {
    line: ServiceLine,
    date: Option<NaiveDate>,
    date_to: Option<NaiveDate>,
}

#[derive(Debug, Default, Clone)]
struct Subscriber {
    member_id: String,
    party: Party,
    birth_date: Option<NaiveDate>,
    sex: Sex,
    payer_id: String,
    filing_indicator: String,
}

/// One transaction set in progress.
struct SetState {
    report: SetReport,
    /// Position of the segment being read, ST = 1.
    position: u64,
    open: OpenLoop,
    /// HL01 → HL03 of the hierarchy so far.
    levels: HashMap<String, String>,
    last_hl: u64,
    /// How often each read loop started under its parent instance.
    repeats: HashMap<&'static str, u32>,
    billing: Party,
    billing_taxonomy: String,
    billing_seen: bool,
    subscriber: Subscriber,
    patient: Option<(Party, Option<NaiveDate>, Sex)>,
    claim: Option<ClaimDraft>,
    line: Option<LineDraft>,
    /// Last known 2000-level loop, for the loops a new HL must contain.
    level_open: Option<Loop>,
    level_has_entity: bool,
    claims_in_level: u32,
    /// The claim the last segment closed, for the sink.
    closed: Option<ClaimDraft>,
    /// The set is of a version claimscrub does not read: its segments are
    /// walked for its SE but not judged.
    quiet: bool,
}

/// What the walk knows of the group it is in.
struct GroupState {
    report: GroupReport,
    supported: bool,
}

/// Walks one file: the interchanges it holds, in order.
pub struct Walker<'s> {
    sink: Option<&'s mut dyn FnMut(X12Claim)>,
    /// Which sets to hand claims from: (group index, set index) → scrub.
    scrub: Option<&'s dyn Fn(usize, usize, usize) -> bool>,
}

/// Checks every interchange of `input`; claims go nowhere.
pub fn check(input: impl Read) -> io::Result<Vec<InterchangeReport>> {
    Walker {
        sink: None,
        scrub: None,
    }
    .run(input)
}

/// Reads `input` again and hands the claims of the sets `scrub` names
/// (interchange, group, set indexes) to `sink`, in file order.
pub fn claims(
    input: impl Read,
    scrub: &dyn Fn(usize, usize, usize) -> bool,
    sink: &mut dyn FnMut(X12Claim),
) -> io::Result<Vec<InterchangeReport>> {
    Walker {
        sink: Some(sink),
        scrub: Some(scrub),
    }
    .run(input)
}

/// Whether a set's claims are scrubbed, from the first pass's reports.
pub fn scrubbed(
    reports: &[InterchangeReport],
    interchange: usize,
    group: usize,
    set: usize,
) -> bool {
    reports.get(interchange).is_some_and(|r| {
        r.envelope_error.is_none()
            && r.groups.get(group).is_some_and(|g| {
                g.errors.is_empty() && g.sets.get(set).is_some_and(|s| s.verdict().scrubbed())
            })
    })
}

fn isa_fields(bytes: &[u8], separators: Separators) -> Option<Vec<String>> {
    if bytes.len() != ISA_LEN - 1 {
        return None;
    }
    let fields: Vec<String> = bytes
        .split(|b| *b == separators.element)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    (fields.len() == 17).then_some(fields)
}

/// The TA1 note code of the first ISA element in error.
fn isa_error(fields: &[String]) -> Option<&'static str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let qualifiers = ["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"];
    let checks: [(bool, &'static str); 13] = [
        (["00", "03"].contains(&fields[1].as_str()), "010"),
        (fields[2].len() == 10, "011"),
        (["00", "01"].contains(&fields[3].as_str()), "012"),
        (fields[4].len() == 10, "013"),
        (qualifiers.contains(&fields[5].as_str()), "005"),
        (fields[6].len() == 15 && !fields[6].trim().is_empty(), "006"),
        (qualifiers.contains(&fields[7].as_str()), "007"),
        (fields[8].len() == 15 && !fields[8].trim().is_empty(), "008"),
        (
            digits(&fields[9])
                && NaiveDate::parse_from_str(&format!("20{}", fields[9]), "%Y%m%d").is_ok(),
            "014",
        ),
        (
            digits(&fields[10])
                && fields[10].len() == 4
                && elements::check_value(
                    &elements::el(10, 0, true, 4, 4, elements::Kind::Tm),
                    &fields[10],
                )
                .is_none(),
            "015",
        ),
        (fields[12] == "00501", "017"),
        (digits(&fields[13]) && fields[13].len() == 9, "018"),
        (["0", "1"].contains(&fields[14].as_str()), "019"),
    ];
    if let Some((_, code)) = checks.iter().find(|(ok, _)| !ok) {
        return Some(code);
    }
    (!["P", "T"].contains(&fields[15].as_str())).then_some("020")
}

impl<'s> Walker<'s> {
    fn run(mut self, input: impl Read) -> io::Result<Vec<InterchangeReport>> {
        let mut reader = match SegmentReader::new(input)? {
            Ok(reader) => reader,
            Err(error) => {
                return Ok(vec![InterchangeReport {
                    envelope_error: Some(error.ta1_code()),
                    ..InterchangeReport::default()
                }]);
            }
        };
        let separators = reader.separators();
        let mut reports = Vec::new();
        let mut bytes = Vec::new();
        let mut current: Option<Interchange> = None;
        while reader.next_segment(&mut bytes)? {
            let segment = Segment::parse(&bytes, separators);
            if segment.id() == "ISA" {
                if let Some(mut open) = current.take() {
                    // A new ISA before the IEA: the first one ended early.
                    open.fail("023");
                    reports.push(open.finish(&mut self));
                }
                let mut interchange = Interchange::new(reports.len());
                match isa_fields(&bytes, separators) {
                    Some(fields) => {
                        interchange.report.header = IsaHeader {
                            sender_qualifier: fields[5].clone(),
                            sender_id: fields[6].trim().to_owned(),
                            receiver_qualifier: fields[7].clone(),
                            receiver_id: fields[8].trim().to_owned(),
                            date: fields[9].clone(),
                            time: fields[10].clone(),
                            control_number: fields[13].clone(),
                            ack_requested: fields[14] == "1",
                            usage: fields[15].clone(),
                        };
                        if let Some(code) = isa_error(&fields) {
                            interchange.fail(code);
                        }
                    }
                    None => interchange.fail("022"),
                }
                if reports.is_empty() {
                    interchange.report.preamble_bytes = reader.preamble_bytes();
                }
                current = Some(interchange);
                continue;
            }
            let Some(interchange) = current.as_mut() else {
                // Segments after an IEA without a new ISA.
                if let Some(last) = reports.last_mut() {
                    let last: &mut InterchangeReport = last;
                    last.envelope_error.get_or_insert("022");
                }
                continue;
            };
            if segment.id() == "IEA" {
                let mut open = current.take().expect("an interchange is open");
                open.close_group(&mut self, None);
                let groups = open.report.groups.len() as u64;
                if segment.str(2) != open.report.header.control_number {
                    open.fail("001");
                } else if segment.str(1).parse::<u64>().ok() != Some(groups) {
                    open.fail("021");
                }
                reports.push(open.finish(&mut self));
                continue;
            }
            interchange.segment(&mut self, &segment);
        }
        if let Some(mut open) = current.take() {
            open.fail("023");
            reports.push(open.finish(&mut self));
        }
        Ok(reports)
    }

    fn emit(&mut self, claim: X12Claim) {
        if let Some(sink) = self.sink.as_mut() {
            sink(claim);
        }
    }

    fn wants(&self, interchange: usize, group: usize, set: usize) -> bool {
        self.scrub
            .is_some_and(|scrub| scrub(interchange, group, set))
    }
}

/// One interchange in progress.
struct Interchange {
    index: usize,
    report: InterchangeReport,
    group: Option<GroupState>,
    set: Option<SetState>,
}

impl Interchange {
    fn new(index: usize) -> Self {
        Self {
            index,
            report: InterchangeReport::default(),
            group: None,
            set: None,
        }
    }

    fn fail(&mut self, code: &'static str) {
        self.report.envelope_error.get_or_insert(code);
    }

    fn finish(mut self, walker: &mut Walker<'_>) -> InterchangeReport {
        if self.group.is_some() || self.set.is_some() {
            self.close_group(walker, Some("3"));
        }
        self.report
    }

    /// Ends the open group (at GE, or with `missing_trailer` when its GE
    /// never came).
    fn close_group(&mut self, walker: &mut Walker<'_>, missing_trailer: Option<&'static str>) {
        if self.set.is_some() {
            self.close_set(walker, None, Some("2"));
        }
        if let Some(mut group) = self.group.take() {
            if let Some(code) = missing_trailer {
                group.report.errors.push(code);
            }
            self.report.groups.push(group.report);
        }
    }

    fn segment(&mut self, walker: &mut Walker<'_>, segment: &Segment<'_>) {
        match segment.id() {
            "GS" => {
                if self.group.is_some() {
                    self.close_group(walker, Some("3"));
                }
                let mut report = GroupReport {
                    functional_id: segment.text(1),
                    sender: segment.text(2),
                    receiver: segment.text(3),
                    control_number: segment.text(6),
                    version: segment.text(8),
                    ..GroupReport::default()
                };
                let gs = [
                    elements::el(1, 479, true, 2, 2, elements::Kind::Id(&["HC"])),
                    elements::el(2, 142, true, 2, 15, elements::Kind::An),
                    elements::el(3, 124, true, 2, 15, elements::Kind::An),
                    elements::el(4, 373, true, 8, 8, elements::Kind::Dt),
                    elements::el(5, 337, true, 4, 8, elements::Kind::Tm),
                    elements::el(6, 28, true, 1, 9, elements::Kind::N0),
                    elements::el(7, 455, true, 1, 2, elements::Kind::Id(&["X"])),
                    elements::el(8, 480, true, 1, 12, elements::Kind::An),
                ];
                let mut errors = Vec::new();
                elements::check_segment(segment, &gs, 8, &mut errors);
                if report.functional_id != "HC" {
                    report.errors.push("1");
                }
                let supported = SUPPORTED_VERSIONS.contains(&report.version.as_str());
                if report.functional_id == "HC" && !supported {
                    report.errors.push("2");
                }
                if errors.iter().any(|e| e.position == 6) {
                    report.errors.push("6");
                }
                if !errors.is_empty() && report.errors.is_empty() {
                    // A GS element in error other than those with codes of
                    // their own: the group cannot be trusted.
                    report.errors.push("1");
                }
                self.group = Some(GroupState { report, supported });
            }
            "GE" => {
                let Some(mut group) = self.group.take() else {
                    self.fail("024");
                    return;
                };
                if self.set.is_some() {
                    self.group = Some(group);
                    self.close_set(walker, None, Some("2"));
                    group = self.group.take().expect("group reopened");
                }
                let sets = group.report.sets.len() as u64;
                group.report.declared_sets = segment.str(1).parse().ok();
                if segment.str(2) != group.report.control_number {
                    group.report.errors.push("4");
                }
                if group.report.declared_sets != Some(sets) {
                    group.report.errors.push("5");
                }
                self.report.groups.push(group.report);
            }
            "ST" => {
                if self.group.is_none() {
                    self.fail("024");
                    return;
                }
                if self.set.is_some() {
                    self.close_set(walker, None, Some("2"));
                }
                let group = self.group.as_ref().expect("a group is open");
                let mut codes = Vec::new();
                if segment.str(1) != "837" {
                    codes.push("1");
                }
                let version = segment.text(3);
                if group.supported && !SUPPORTED_VERSIONS.contains(&version.as_str()) {
                    codes.push("I6");
                }
                if segment.str(2).len() < 4 || segment.str(2).len() > 9 {
                    codes.push("7");
                }
                if group
                    .report
                    .sets
                    .iter()
                    .any(|s| s.control_number == segment.str(2))
                {
                    codes.push("23");
                }
                if !group.supported {
                    codes.push("I6");
                }
                codes.dedup();
                let mut state = SetState::new(SetReport {
                    id: segment.text(1),
                    control_number: segment.text(2),
                    version,
                    codes,
                    errors: Vec::new(),
                    read_data_error: false,
                    claims: 0,
                    reference: String::new(),
                    submitter: Party::default(),
                    receiver: Party::default(),
                });
                state.quiet = state.report.codes.iter().any(|c| ["I6", "1"].contains(c));
                state.check_elements(segment);
                self.set = Some(state);
            }
            "SE" => {
                if self.set.is_none() {
                    if self.group.is_none() {
                        self.fail("024");
                    }
                    return;
                }
                self.close_set(walker, Some(segment), None);
            }
            _ => {
                let (Some(set), Some(group)) = (self.set.as_mut(), self.group.as_ref()) else {
                    // Outside a transaction set: not an interchange's content.
                    self.fail("024");
                    return;
                };
                set.segment(segment);
                if let Some(claim) = set.take_closed_claim() {
                    let group_index = self.report.groups.len();
                    let set_index = group.report.sets.len();
                    if walker.wants(self.index, group_index, set_index) {
                        let keys = [
                            self.report.header.control_number.as_str(),
                            group.report.control_number.as_str(),
                            set.report.control_number.as_str(),
                        ];
                        walker.emit(claim.into_x12(keys, [self.index, group_index, set_index]));
                    }
                }
            }
        }
    }

    /// Ends the open set at its SE (`trailer`), or without one
    /// (`missing`: IK502 code 2).
    fn close_set(
        &mut self,
        walker: &mut Walker<'_>,
        trailer: Option<&Segment<'_>>,
        missing: Option<&'static str>,
    ) {
        let Some(mut set) = self.set.take() else {
            return;
        };
        if let Some(trailer) = trailer {
            set.position += 1;
            set.check_elements(trailer);
        }
        set.close_all(trailer.is_some());
        let group_index = self.report.groups.len();
        if let Some(group) = self.group.as_mut() {
            let set_index = group.report.sets.len();
            if let Some(claim) = set.take_closed_claim()
                && walker.wants(self.index, group_index, set_index)
            {
                let keys = [
                    self.report.header.control_number.as_str(),
                    group.report.control_number.as_str(),
                    set.report.control_number.as_str(),
                ];
                walker.emit(claim.into_x12(keys, [self.index, group_index, set_index]));
            }
            match trailer {
                Some(trailer) => {
                    if trailer.str(2) != set.report.control_number {
                        set.report.codes.push("3");
                    }
                    if trailer.str(1).parse::<u64>().ok() != Some(set.position) {
                        set.report.codes.push("4");
                    }
                }
                None => set.report.codes.extend(missing),
            }
            if set.report.codes.is_empty() && set.report.read_data_error {
                set.report.codes.push("5");
            }
            group.report.sets.push(set.report);
        }
    }
}

impl SetState {
    fn new(report: SetReport) -> Self {
        Self {
            report,
            position: 1,
            open: OpenLoop::new(Loop::Header),
            levels: HashMap::new(),
            last_hl: 0,
            repeats: HashMap::new(),
            billing: Party::default(),
            billing_taxonomy: String::new(),
            billing_seen: false,
            subscriber: Subscriber::default(),
            patient: None,
            claim: None,
            line: None,
            level_open: None,
            level_has_entity: false,
            claims_in_level: 0,
            closed: None,
            quiet: false,
        }
        .with_header_opened()
    }

    fn with_header_opened(mut self) -> Self {
        self.open.uses[0] = 1;
        self
    }

    fn claim_id(&self) -> Option<String> {
        self.claim.as_ref().map(|c| c.claim.claim_id.clone())
    }

    fn error(&mut self, segment_id: &str, code: &'static str, loop_id: &'static str, read: bool) {
        self.push_error(SegmentError {
            segment_id: segment_id.to_owned(),
            position: self.position,
            loop_id,
            code,
            claim_id: self.claim_id(),
            elements: Vec::new(),
        });
        self.report.read_data_error |= read;
    }

    fn push_error(&mut self, error: SegmentError) {
        if self.quiet {
            return;
        }
        if self.report.errors.len() < MAX_SEGMENT_ERRORS {
            self.report.errors.push(error);
        } else {
            self.report.read_data_error = true;
        }
    }

    /// Element checks of a segment claimscrub models (IK3 code 8 with its
    /// IK4s), and the syntax of any other.
    fn check_elements(&mut self, segment: &Segment<'_>) {
        let mut errors = Vec::new();
        match spec::elements(segment.id()) {
            Some((specs, max)) => elements::check_segment(segment, specs, max, &mut errors),
            None => elements::check_segment(segment, &[], usize::MAX, &mut errors),
        }
        if segment.has_trailing_separator() && errors.is_empty() {
            // A trailing separator breaks the syntax but loses no data.
            self.push_error(SegmentError {
                segment_id: segment.id().to_owned(),
                position: self.position,
                loop_id: self.open.kind.id(),
                code: ik3::HAS_ELEMENT_ERRORS,
                claim_id: self.claim_id(),
                elements: Vec::new(),
            });
            return;
        }
        if !errors.is_empty() {
            let read = self.open.kind.is_read();
            self.push_error(SegmentError {
                segment_id: segment.id().to_owned(),
                position: self.position,
                loop_id: self.open.kind.id(),
                code: ik3::HAS_ELEMENT_ERRORS,
                claim_id: self.claim_id(),
                elements: errors,
            });
            self.report.read_data_error |= read;
        }
    }

    /// The loop `segment` starts, if it starts one.
    fn starts(&self, segment: &Segment<'_>) -> Option<Loop> {
        let zone = self.open.kind.zone();
        let qualifier = segment.str(1);
        let in_claim = matches!(zone, Some(Zone::Claim | Zone::OtherSubscriber | Zone::Line));
        match segment.id() {
            "HL" => match segment.str(3) {
                "20" => Some(Loop::L2000A),
                "22" => Some(Loop::L2000B),
                "23" => Some(Loop::L2000C),
                _ => None,
            },
            "CLM" => Some(Loop::L2300),
            "LX" if in_claim => Some(Loop::L2400),
            "SBR" if in_claim => Some(Loop::Skipped("2320", Zone::OtherSubscriber)),
            "LIN" if zone == Some(Zone::Line) => Some(Loop::Skipped("2410", Zone::Line)),
            "SVD" if zone == Some(Zone::Line) => Some(Loop::Skipped("2430", Zone::Line)),
            "LQ" if zone == Some(Zone::Line) => Some(Loop::Skipped("2440", Zone::Line)),
            "NM1" => match (self.open.kind, zone) {
                (Loop::Header, _) if qualifier == "41" => Some(Loop::L1000A),
                (Loop::Header | Loop::L1000A, _) if qualifier == "40" => Some(Loop::L1000B),
                (_, Some(Zone::Billing)) => match qualifier {
                    "85" => Some(Loop::L2010AA),
                    "87" => Some(Loop::L2010AB),
                    "PE" => Some(Loop::Skipped("2010AC", Zone::Billing)),
                    _ => None,
                },
                (Loop::L2000B | Loop::L2010BA | Loop::L2010BB, _) => match qualifier {
                    "IL" => Some(Loop::L2010BA),
                    "PR" => Some(Loop::L2010BB),
                    _ => None,
                },
                (Loop::L2000C | Loop::L2010CA, _) if qualifier == "QC" => Some(Loop::L2010CA),
                (_, Some(Zone::Claim)) => match qualifier {
                    "DN" | "P3" => Some(Loop::Skipped("2310A", Zone::Claim)),
                    "82" => Some(Loop::L2310B),
                    "77" => Some(Loop::Skipped("2310C", Zone::Claim)),
                    "DQ" => Some(Loop::Skipped("2310D", Zone::Claim)),
                    "PW" => Some(Loop::Skipped("2310E", Zone::Claim)),
                    "45" => Some(Loop::Skipped("2310F", Zone::Claim)),
                    _ => None,
                },
                (_, Some(Zone::OtherSubscriber)) => match qualifier {
                    "IL" => Some(Loop::Skipped("2330A", Zone::OtherSubscriber)),
                    "PR" => Some(Loop::Skipped("2330B", Zone::OtherSubscriber)),
                    "DN" | "P3" => Some(Loop::Skipped("2330C", Zone::OtherSubscriber)),
                    "82" => Some(Loop::Skipped("2330D", Zone::OtherSubscriber)),
                    "77" => Some(Loop::Skipped("2330E", Zone::OtherSubscriber)),
                    "DQ" => Some(Loop::Skipped("2330F", Zone::OtherSubscriber)),
                    "85" => Some(Loop::Skipped("2330G", Zone::OtherSubscriber)),
                    _ => None,
                },
                (_, Some(Zone::Line)) => match qualifier {
                    "82" => Some(Loop::Skipped("2420A", Zone::Line)),
                    "QB" => Some(Loop::Skipped("2420B", Zone::Line)),
                    "77" => Some(Loop::Skipped("2420C", Zone::Line)),
                    "DQ" => Some(Loop::Skipped("2420D", Zone::Line)),
                    "DK" => Some(Loop::Skipped("2420E", Zone::Line)),
                    "DN" | "P3" => Some(Loop::Skipped("2420F", Zone::Line)),
                    "PW" => Some(Loop::Skipped("2420G", Zone::Line)),
                    "45" => Some(Loop::Skipped("2420H", Zone::Line)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// Closes the open loop: its required segments must have come.
    fn close_loop(&mut self) {
        let kind = self.open.kind;
        let missing: Vec<&'static str> = kind
            .segments()
            .iter()
            .zip(&self.open.uses)
            .filter(|((_, _, required), uses)| *required && **uses == 0)
            .map(|((id, _, _), _)| *id)
            .collect();
        for id in missing {
            self.error(id, ik3::REQUIRED_MISSING, kind.id(), true);
        }
        match kind {
            Loop::L2400 => self.close_line(),
            Loop::L2010AA => self.billing_seen = true,
            _ => {}
        }
    }

    /// Closes every loop at the end of the set (SE, or its absence).
    fn close_all(&mut self, at_trailer: bool) {
        self.close_loop();
        self.close_level();
        self.close_claim();
        if at_trailer && self.levels.is_empty() {
            self.error("HL", ik3::REQUIRED_MISSING, "2000A", true);
        }
    }

    /// The loops a closing HL level needs.
    fn close_level(&mut self) {
        let Some(level) = self.level_open.take() else {
            return;
        };
        if !self.level_has_entity {
            let (loop_id, segment) = match level {
                Loop::L2000A => ("2010AA", "NM1"),
                Loop::L2000B => ("2010BA", "NM1"),
                _ => ("2010CA", "NM1"),
            };
            self.error(segment, ik3::REQUIRED_MISSING, loop_id, true);
        }
        if level == Loop::L2000B && !self.repeats.contains_key("2010BB") {
            self.error("NM1", ik3::REQUIRED_MISSING, "2010BB", true);
        }
    }

    fn repeat(&mut self, kind: Loop) -> u32 {
        let count = self.repeats.entry(kind.id()).or_insert(0);
        *count += 1;
        *count
    }

    fn segment(&mut self, segment: &Segment<'_>) {
        self.position += 1;
        let id = segment.id();
        if !spec::KNOWN_SEGMENTS.contains(&id) || id == "ST" || id == "SE" {
            let read = self.open.kind.is_read();
            self.error(
                id,
                if spec::KNOWN_SEGMENTS.contains(&id) {
                    ik3::UNEXPECTED
                } else {
                    ik3::UNRECOGNIZED
                },
                self.open.kind.id(),
                read,
            );
            return;
        }
        if let Some(next) = self.starts(segment) {
            self.enter(next, segment);
        } else if !self.continue_loop(segment) {
            return;
        }
        self.check_elements(segment);
        self.read(segment);
    }

    /// A segment of the open loop; false when it has no place there.
    fn continue_loop(&mut self, segment: &Segment<'_>) -> bool {
        let kind = self.open.kind;
        if !kind.is_read() {
            return true;
        }
        let id = segment.id();
        let specs = kind.segments();
        let found = (self.open.at..specs.len())
            .find(|i| specs[*i].0 == id && qualified(kind, *i, segment.str(1)));
        let Some(index) = found else {
            let code = if specs.iter().any(|s| s.0 == id) {
                ik3::SEGMENT_OVER_MAX
            } else {
                ik3::UNEXPECTED
            };
            // A segment out of order loses nothing when it is used again in
            // place; one that belongs nowhere here is data the reader misses.
            self.error(id, code, kind.id(), true);
            return false;
        };
        let between = (self.open.at + 1).min(index)..index;
        let missing: Vec<&'static str> = specs[between.clone()]
            .iter()
            .zip(&self.open.uses[between.clone()])
            .filter(|((_, _, required), uses)| *required && **uses == 0)
            .map(|((id, _, _), _)| *id)
            .collect();
        for id in missing {
            self.error(id, ik3::REQUIRED_MISSING, kind.id(), true);
        }
        // Reported here, so not again when the loop closes.
        for uses in &mut self.open.uses[between] {
            *uses = (*uses).max(1);
        }
        self.open.at = index;
        self.open.uses[index] += 1;
        if self.open.uses[index] > specs[index].1 {
            self.error(id, ik3::SEGMENT_OVER_MAX, kind.id(), true);
            return false;
        }
        true
    }

    fn enter(&mut self, next: Loop, segment: &Segment<'_>) {
        self.close_loop();
        if next == Loop::L2000A && self.levels.is_empty() {
            // The header is over: its BHT and both 1000 loops must have come.
            if self.report.reference.is_empty() {
                self.error("BHT", ik3::REQUIRED_MISSING, "", true);
            }
            for loop_id in ["1000A", "1000B"] {
                if !self.repeats.contains_key(loop_id) {
                    self.error("NM1", ik3::REQUIRED_MISSING, loop_id, true);
                }
            }
        }
        match next {
            Loop::L2000A | Loop::L2000B | Loop::L2000C => {
                self.close_claim();
                self.close_level();
                self.repeats.clear();
                self.level_open = Some(next);
                self.level_has_entity = false;
                self.claims_in_level = 0;
                self.hl(segment, next);
            }
            Loop::L2300 => {
                self.close_claim();
                self.repeats
                    .retain(|k, _| !k.starts_with("23") && !k.starts_with("24"));
                self.start_claim(segment);
            }
            Loop::L2400 => {
                if self.repeat(next) > 50 {
                    self.error("LX", ik3::LOOP_OVER_MAX, "2400", true);
                }
                self.repeats.retain(|k, _| !k.starts_with("242"));
            }
            Loop::L2010AA
            | Loop::L2010BA
            | Loop::L2010CA
            | Loop::L1000A
            | Loop::L1000B
            | Loop::L2010AB
            | Loop::L2010BB
            | Loop::L2310B => {
                // Each of these loops occurs once in its parent.
                self.level_has_entity |=
                    matches!(next, Loop::L2010AA | Loop::L2010BA | Loop::L2010CA);
                if self.repeat(next) > 1 {
                    self.error("NM1", ik3::LOOP_OVER_MAX, next.id(), true);
                }
            }
            _ => {}
        }
        self.open = OpenLoop::new(next);
        if next.is_read() {
            self.open.uses[0] = 1;
        }
    }

    /// The HL hierarchy: unique ids, parents of the right level.
    fn hl(&mut self, segment: &Segment<'_>, level: Loop) {
        let id = segment.text(1);
        let parent = segment.text(2);
        let code = segment.text(3);
        let expected_parent = match level {
            Loop::L2000A => None,
            Loop::L2000B => Some("20"),
            _ => Some("22"),
        };
        let parent_level = self.levels.get(&parent).map(String::as_str);
        let parent_ok = match expected_parent {
            None => parent.is_empty(),
            Some(level) => parent_level == Some(level),
        };
        let sequential = id.parse::<u64>().ok() == Some(self.last_hl + 1);
        if !parent_ok || !sequential || self.levels.contains_key(&id) {
            self.push_error(SegmentError {
                segment_id: "HL".into(),
                position: self.position,
                loop_id: level.id(),
                code: ik3::HAS_ELEMENT_ERRORS,
                claim_id: None,
                elements: vec![ElementError {
                    position: if parent_ok { 1 } else { 2 },
                    component: 0,
                    reference: if parent_ok { 628 } else { 734 },
                    code: ik4::INVALID_CODE,
                    value: if parent_ok { id.clone() } else { parent },
                }],
            });
            self.report.read_data_error = true;
        }
        self.last_hl = id.parse().unwrap_or(self.last_hl + 1);
        self.levels.insert(id, code);
        match level {
            Loop::L2000A => {
                self.billing = Party::default();
                self.billing_taxonomy.clear();
                self.billing_seen = false;
            }
            Loop::L2000B => {
                self.subscriber = Subscriber::default();
                self.patient = None;
            }
            _ => self.patient = Some((Party::default(), None, Sex::Unspecified)),
        }
    }

    fn start_claim(&mut self, segment: &Segment<'_>) {
        let level = self.level_open;
        // Under 2000B the subscriber is the patient (HL04 says whether a
        // 2000C follows, which the claim's place then shows).
        let allowed = matches!(level, Some(Loop::L2000B | Loop::L2000C));
        if !allowed {
            self.error("CLM", ik3::UNEXPECTED, "2300", true);
        }
        self.claims_in_level += 1;
        if self.claims_in_level > 100 {
            self.error("CLM", ik3::LOOP_OVER_MAX, "2300", true);
        }
        self.report.claims += 1;
        let (patient, birth_date, sex) = match &self.patient {
            Some((party, birth, sex)) => (party.clone(), *birth, *sex),
            None => (
                self.subscriber.party.clone(),
                self.subscriber.birth_date,
                self.subscriber.sex,
            ),
        };
        let place = segment.component(5, 1).trim().to_owned();
        let claim = Claim {
            claim_id: segment.text(1),
            payer_id: PayerId::parse(&self.subscriber.payer_id),
            place_of_service: place,
            billing_provider: Provider {
                npi: Npi::parse(&self.billing.id),
                taxonomy_code: TaxonomyCode::parse(&self.billing_taxonomy),
            },
            patient: Patient {
                member_id: self.subscriber.member_id.clone(),
                birth_date,
                sex,
            },
            total_charge: Quantity::parse(segment.str(2)),
            frequency_code: segment.component(5, 3).to_owned(),
            claim_filing_indicator: self.subscriber.filing_indicator.clone(),
            ..Claim::default()
        };
        self.claim = Some(ClaimDraft {
            claim,
            charge: segment.text(2),
            first_segment: self.position,
            last_segment: self.position,
            ordinal: self.report.claims,
            patient,
            billing: self.billing.clone(),
            ..ClaimDraft::default()
        });
    }

    fn close_line(&mut self) {
        let Some(line) = self.line.take() else {
            return;
        };
        let Some(draft) = self.claim.as_mut() else {
            return;
        };
        let mut service = line.line;
        service.date_of_service = line.date;
        if let Some(from) = line.date {
            let to = line.date_to.unwrap_or(from);
            draft.service_from = Some(draft.service_from.map_or(from, |d| d.min(from)));
            draft.service_to = Some(draft.service_to.map_or(to, |d| d.max(to)));
        }
        draft.claim.lines.push(service);
    }

    fn close_claim(&mut self) {
        self.close_line();
        if let Some(draft) = self.claim.take() {
            if !draft.saw_principal {
                self.error("HI", ik3::REQUIRED_MISSING, "2300", true);
            }
            if draft.lines_seen == 0 {
                self.error("LX", ik3::REQUIRED_MISSING, "2400", true);
            }
            self.closed = Some(draft);
        }
    }

    fn take_closed_claim(&mut self) -> Option<ClaimDraft> {
        self.closed.take()
    }

    /// Reads what claimscrub uses from a segment in place.
    fn read(&mut self, segment: &Segment<'_>) {
        if let Some(draft) = self.claim.as_mut() {
            draft.last_segment = self.position;
        }
        if self.quiet {
            return;
        }
        let kind = self.open.kind;
        match (kind, segment.id()) {
            (Loop::Header, "BHT") => self.report.reference = segment.text(3),
            (Loop::L1000A, "NM1") => self.report.submitter = party(segment),
            (Loop::L1000B, "NM1") => self.report.receiver = party(segment),
            (Loop::L2000A, "PRV") => self.billing_taxonomy = segment.text(3),
            (Loop::L2010AA, "NM1") => self.billing = party(segment),
            (Loop::L2000B, "SBR") => self.subscriber.filing_indicator = segment.text(9),
            (Loop::L2010BA, "NM1") => {
                self.subscriber.party = party(segment);
                self.subscriber.member_id = segment.text(9);
            }
            (Loop::L2010BA, "DMG") => {
                self.subscriber.birth_date = elements::date(segment.str(2));
                self.subscriber.sex = sex(segment.str(3));
            }
            (Loop::L2010BB, "NM1") => self.subscriber.payer_id = segment.text(9),
            (Loop::L2010CA, "NM1") => {
                if let Some(patient) = self.patient.as_mut() {
                    patient.0 = party(segment);
                }
            }
            (Loop::L2010CA, "DMG") => {
                if let Some(patient) = self.patient.as_mut() {
                    patient.1 = elements::date(segment.str(2));
                    patient.2 = sex(segment.str(3));
                }
            }
            (Loop::L2300, "REF") if segment.str(1) == "F8" => {
                if let Some(draft) = self.claim.as_mut() {
                    draft.claim.original_reference = segment.text(2);
                }
            }
            (Loop::L2300, "HI") => self.read_diagnoses(segment),
            (Loop::L2310B, "NM1") => {
                if let Some(draft) = self.claim.as_mut() {
                    draft.rendering = Some(Provider {
                        npi: Npi::parse(segment.str(9)),
                        taxonomy_code: TaxonomyCode::default(),
                    });
                }
            }
            (Loop::L2310B, "PRV") => {
                if let Some(rendering) = self.claim.as_mut().and_then(|d| d.rendering.as_mut()) {
                    rendering.taxonomy_code = TaxonomyCode::parse(segment.str(3));
                }
            }
            (Loop::L2400, "LX") => {
                if let Some(draft) = self.claim.as_mut() {
                    draft.lines_seen += 1;
                }
                self.line = Some(LineDraft::default());
            }
            (Loop::L2400, "SV1") => self.read_service(segment),
            (Loop::L2400, "NTE") if segment.str(1) == "ADD" => {
                if let Some(line) = self.line.as_mut() {
                    read_line_note(segment.str(2), &mut line.line);
                }
            }
            (Loop::L2400, "DTP") if segment.str(1) == "472" => {
                if let Some(line) = self.line.as_mut() {
                    let (from, to) = dates(segment.str(2), segment.str(3));
                    line.date = from;
                    line.date_to = to;
                    if from.is_none() {
                        self.report.read_data_error = true;
                        let position = self.position;
                        let claim_id = self.claim_id();
                        self.push_error(SegmentError {
                            segment_id: "DTP".into(),
                            position,
                            loop_id: "2400",
                            code: ik3::HAS_ELEMENT_ERRORS,
                            claim_id,
                            elements: vec![ElementError {
                                position: 3,
                                component: 0,
                                reference: 1251,
                                code: ik4::INVALID_DATE,
                                value: segment.text(3),
                            }],
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn read_diagnoses(&mut self, segment: &Segment<'_>) {
        let Some(draft) = self.claim.as_mut() else {
            return;
        };
        for position in 1..=segment.element_count().min(12) {
            let qualifier = segment.component(position, 1);
            let code = segment.component(position, 2);
            match qualifier {
                "ABK" | "BK" => {
                    draft.saw_principal = true;
                    draft.icd9 |= qualifier == "BK";
                    draft.claim.diagnosis_codes.insert(0, code.into());
                }
                "ABF" | "BF" => {
                    draft.icd9 |= qualifier == "BF";
                    draft.claim.diagnosis_codes.push(code.into());
                }
                _ => {}
            }
        }
        if draft.icd9 {
            draft.claim.diagnosis_code_set = DiagnosisCodeSet::Icd9Cm;
        }
    }

    fn read_service(&mut self, segment: &Segment<'_>) {
        let Some(line) = self.line.as_mut() else {
            return;
        };
        line.line.procedure_code = segment.component(1, 2).into();
        line.line.modifiers = (3..=6)
            .map(|c| segment.component(1, c))
            .filter(|m| !m.is_empty())
            .map(ModifierCode::parse)
            .collect();
        line.line.charge = Quantity::parse(segment.str(2));
        line.line.unit_basis = if segment.str(3) == "MJ" {
            UnitBasis::Minutes
        } else {
            UnitBasis::Units
        };
        line.line.units = Quantity::parse(segment.str(4)).unwrap_or_default();
        let place = segment.str(5).trim();
        if !place.is_empty() {
            line.line.place_of_service = Some(place.to_owned());
        }
        line.line.diagnosis_pointers = segment
            .components(7)
            .filter_map(|p| std::str::from_utf8(p).ok()?.parse().ok())
            .collect();
    }
}

/// Whether a segment with `qualifier` (its first element) fits entry
/// `index` of `kind`'s segments: the entries the guide tells apart by
/// qualifier.
fn qualified(kind: Loop, index: usize, qualifier: &str) -> bool {
    match (kind, index) {
        (Loop::L2010AA, 3) => ["EI", "SY"].contains(&qualifier),
        (Loop::L2010AA, 4) => !["EI", "SY"].contains(&qualifier),
        _ => true,
    }
}

/// claimscrub's convention for what an 837P has no element for, in the
/// line's 2400 NTE*ADD (additional information, free text): the marker
/// `CS1` then any of `SIZE=<cm>` (excised diameter), `REPAIR=<cm>` (summed
/// repair length), `SITE=<site>` (the anatomic site vocabulary) and
/// `SIDE=L|R|B`, separated by spaces, e.g. `NTE*ADD*CS1 SIZE=1.5 SITE=TRUNK
/// SIDE=L`. A note without the marker is someone else's and is left alone;
/// a token that does not parse is ignored, and its edit stays "not checked".
fn read_line_note(text: &str, line: &mut ServiceLine) {
    let mut tokens = text.split_ascii_whitespace();
    if tokens.next() != Some("CS1") {
        return;
    }
    for token in tokens {
        let Some((key, value)) = token.split_once('=') else {
            continue;
        };
        let size = || value.parse::<f64>().ok().filter(|v| v.is_finite());
        match key {
            "SIZE" => line.excised_diameter_cm = size().or(line.excised_diameter_cm),
            "REPAIR" => line.repair_length_cm = size().or(line.repair_length_cm),
            "SITE" if !value.is_empty() => line.anatomic_site = Some(value.to_ascii_lowercase()),
            "SIDE" => {
                line.laterality = match value {
                    "L" => Laterality::Left,
                    "R" => Laterality::Right,
                    "B" => Laterality::Bilateral,
                    _ => line.laterality,
                }
            }
            _ => {}
        }
    }
}

fn party(segment: &Segment<'_>) -> Party {
    Party {
        name: segment.text(3),
        first_name: segment.text(4),
        id: segment.text(9),
    }
}

fn sex(code: &str) -> Sex {
    match code {
        "F" => Sex::Female,
        "M" => Sex::Male,
        "U" => Sex::Unknown,
        _ => Sex::Unspecified,
    }
}

/// DTP03 as one date (D8) or a range (RD8, CCYYMMDD-CCYYMMDD).
fn dates(format: &str, value: &str) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match format {
        "D8" => (elements::date(value), None),
        "RD8" => match value.split_once('-') {
            Some((from, to)) => (elements::date(from), elements::date(to)),
            None => (None, None),
        },
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*CLAIMSCRUB     *260101*1200*^*00501*000000042*1*T*:~";

    fn interchange(body: &[&str], se_count: Option<usize>) -> String {
        let mut set = vec!["ST*837*0001*005010X222A1"];
        set.extend_from_slice(body);
        let count = se_count.unwrap_or(set.len() + 1);
        let mut text =
            format!("{ISA}\nGS*HC*SUBMITTER*CLAIMSCRUB*20260101*1200*7*X*005010X222A1~\n");
        for segment in set {
            text.push_str(segment);
            text.push_str("~\n");
        }
        text.push_str(&format!("SE*{count}*0001~\nGE*1*7~\nIEA*1*000000042~\n"));
        text
    }

    const CLAIM: &[&str] = &[
        "BHT*0019*00*REF1*20260101*1200*CH",
        "NM1*41*2*BILLING CO*****46*TGJ23",
        "PER*IC*JERRY*TE*3055552222",
        "NM1*40*2*RECEIVER*****46*66783JJT",
        "HL*1**20*1",
        "PRV*BI*PXC*207N00000X",
        "NM1*85*2*CLINIC*****XX*1234567893",
        "N3*1 MAIN ST",
        "N4*MIAMI*FL*331110000",
        "REF*EI*587654321",
        "HL*2*1*22*0",
        "SBR*P*18*******MB",
        "NM1*IL*1*SMITH*JANE****MI*JS00111223333",
        "DMG*D8*19430501*F",
        "NM1*PR*2*PAYER*****PI*60054",
        "CLM*26463774*150.5***11:B:7*Y*A*Y*I",
        "REF*F8*PAYERCLAIM9",
        "HI*ABK:D235*ABF:L821",
        "NM1*82*1*KILDARE*BEN****XX*1932184748",
        "PRV*PE*PXC*207ND0900X",
        "LX*1",
        "SV1*HC:11404:59:XS*100.5*UN*1.5***1:2",
        "DTP*472*D8*20260115",
        "LX*2",
        "SV1*HC:00400*50*MJ*45*24**1",
        "DTP*472*D8*20260116",
    ];

    fn read(text: &str) -> (Vec<InterchangeReport>, Vec<X12Claim>) {
        let first = check(text.as_bytes()).unwrap();
        let mut found = Vec::new();
        claims(
            text.as_bytes(),
            &|i, g, s| scrubbed(&first, i, g, s),
            &mut |c| found.push(c),
        )
        .unwrap();
        (first, found)
    }

    #[test]
    fn a_claim_maps_every_field_from_its_segment() {
        let (reports, claims) = read(&interchange(CLAIM, None));
        let set = &reports[0].groups[0].sets[0];
        assert_eq!(set.verdict(), SetVerdict::Accepted, "{:?}", set.errors);
        assert!(reports[0].header.ack_requested);
        let [x12] = claims.as_slice() else {
            panic!("{claims:?}")
        };
        let claim = &x12.claim;
        assert_eq!(claim.claim_id, "26463774");
        assert_eq!(claim.place_of_service, "11");
        assert_eq!(claim.frequency_code, "7");
        assert_eq!(claim.original_reference, "PAYERCLAIM9");
        assert_eq!(claim.claim_filing_indicator, "MB");
        assert_eq!(claim.payer_id.as_str(), "60054");
        assert_eq!(claim.patient.member_id, "JS00111223333");
        assert_eq!(claim.patient.sex, Sex::Female);
        assert_eq!(
            claim.patient.birth_date,
            NaiveDate::from_ymd_opt(1943, 5, 1)
        );
        assert_eq!(claim.billing_provider.npi.as_str(), "1234567893");
        assert_eq!(claim.billing_provider.taxonomy_code.as_str(), "207N00000X");
        assert_eq!(claim.rendering_provider.npi.as_str(), "1932184748");
        assert_eq!(
            claim.rendering_provider.taxonomy_code.as_str(),
            "207ND0900X"
        );
        let codes: Vec<&str> = claim.diagnosis_codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, ["D235", "L821"]);
        assert_eq!(claim.date_of_service, NaiveDate::from_ymd_opt(2026, 1, 15));
        let first = &claim.lines[0];
        assert_eq!(first.procedure_code.as_str(), "11404");
        assert_eq!(
            first
                .modifiers
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>(),
            ["59", "XS"]
        );
        assert_eq!(first.units.to_string(), "1.5");
        assert_eq!(first.diagnosis_pointers, [1, 2]);
        assert_eq!(first.date_of_service, None);
        let second = &claim.lines[1];
        assert_eq!(second.unit_basis, UnitBasis::Minutes);
        assert_eq!(second.place_of_service.as_deref(), Some("24"));
        assert_eq!(second.date_of_service, NaiveDate::from_ymd_opt(2026, 1, 16));
        // CLM02 equals the sum of the lines' SV102 (what CHARGES_OUT_OF_BALANCE checks).
        let lines = claim
            .lines
            .iter()
            .try_fold(Quantity::default(), |sum, line| {
                sum.checked_add(line.charge?)
            });
        assert_eq!(lines, claim.total_charge);
        let origin = claim.x12_origin.as_ref().expect("origin");
        assert_eq!(
            (
                origin.interchange_control_number.as_str(),
                origin.group_control_number.as_str()
            ),
            ("000000042", "7")
        );
        assert_eq!(
            (
                origin.claim_ordinal,
                origin.first_segment,
                origin.last_segment
            ),
            (1, 17, 27)
        );
        assert_eq!(x12.patient.name, "SMITH");
    }

    #[test]
    fn the_line_note_convention_carries_size_site_and_side() {
        let mut body = CLAIM.to_vec();
        body.insert(23, "NTE*ADD*CS1 SIZE=3.5 SITE=TRUNK SIDE=L REPAIR=x");
        let (_, claims) = read(&interchange(&body, None));
        let line = &claims[0].claim.lines[0];
        assert_eq!(line.excised_diameter_cm, Some(3.5));
        assert_eq!(line.anatomic_site.as_deref(), Some("trunk"));
        assert_eq!(line.laterality, Laterality::Left);
        assert_eq!(line.repair_length_cm, None);
        let mut body = CLAIM.to_vec();
        body.insert(23, "NTE*ADD*PATIENT SIZE=3.5 SAYS HELLO");
        let (_, claims) = read(&interchange(&body, None));
        assert_eq!(claims[0].claim.lines[0].excised_diameter_cm, None);
    }

    #[test]
    fn counts_control_numbers_and_versions_are_checked() {
        let (reports, claims) = read(&interchange(CLAIM, Some(3)));
        assert_eq!(reports[0].groups[0].sets[0].codes, ["4"]);
        assert!(claims.is_empty(), "a rejected set is not scrubbed");
        let text = interchange(CLAIM, None).replace("GE*1*7", "GE*2*8");
        let (reports, claims) = read(&text);
        assert_eq!(reports[0].groups[0].errors, ["4", "5"]);
        assert!(claims.is_empty());
        let text = interchange(CLAIM, None).replace("005010X222A1", "005010X223A2");
        let (reports, _) = read(&text);
        assert_eq!(reports[0].groups[0].errors, ["2"]);
        let text = interchange(CLAIM, None).replace("IEA*1*000000042", "IEA*1*000000043");
        assert_eq!(read(&text).0[0].envelope_error, Some("001"));
    }

    #[test]
    fn an_error_in_a_skipped_loop_accepts_the_set_with_errors() {
        let mut body = CLAIM.to_vec();
        // 2420E ordering provider with an element of the wrong syntax: the
        // claim is read right, so it is scrubbed; the 999 notes the error.
        body.insert(23, "NM1*DK*1*ORDERING\u{7}");
        let (reports, claims) = read(&interchange(&body, None));
        let set = &reports[0].groups[0].sets[0];
        assert_eq!(
            set.verdict(),
            SetVerdict::AcceptedWithErrors,
            "{:?}",
            set.errors
        );
        assert_eq!(claims.len(), 1);
        let mut body = CLAIM.to_vec();
        body[21] = "SV1*HC:11404*100.5*XX*1***1";
        let (reports, claims) = read(&interchange(&body, None));
        assert_eq!(reports[0].groups[0].sets[0].verdict(), SetVerdict::Rejected);
        assert!(claims.is_empty());
    }
}
