//! The 277CA (005010X214): claim by claim, whether each claim of the
//! scrubbed transaction sets went into adjudication (STC A2:20) or was
//! rejected (A3/A6/A7/A8 with the status code of each error finding, and
//! the finding's message in STC12). Warnings do not reject.
//!
//! Layout: HL 20 (information source: the receiver the 837 named in 1000B),
//! one HL 21 per 837 transaction set (information receiver: the 1000A
//! submitter, TRN = the set's BHT03, with the set's accepted and rejected
//! counts and amounts), one HL 19 per billing provider run, one HL PT per
//! claim (TRN = CLM01, STC, REF*D9 = claimscrub's record id, DTP*472).
//!
//! Written as the decisions arrive: a set's claims are held until the set
//! ends (its totals come first), everything else goes straight out.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::NaiveDate;

use super::ack::{ReplyEnvelope, SegmentWriter, clean, reply_iea, reply_isa};
use super::check::{InterchangeReport, Party, X12Claim};
use crate::domain::claim::Quantity;

/// The rule → STC mapping shipped with claimscrub.
pub const BUILTIN_STATUS_CODES: &str = include_str!("../../reference/default/x12_status_codes.csv");

/// The STC01 of a rejected claim's finding: category (code list 507),
/// status (508) and the entity it concerns (98), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCode {
    pub category: String,
    pub code: String,
    pub entity: String,
    /// What the status code means, for the list RPC.
    pub meaning: String,
}

/// Rule id → STC01, with a default for rules not listed (`*`).
#[derive(Debug, Clone)]
pub struct StatusMap {
    by_rule: HashMap<String, StatusCode>,
    default: StatusCode,
    order: Vec<String>,
}

impl StatusMap {
    /// Reads the CSV (`rule_id,category,status_code,entity_code,meaning`);
    /// `Err` names the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut by_rule = HashMap::new();
        let mut order = Vec::new();
        let mut default = None;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|e| format!("line {line}: {e}"))?;
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
            let (rule, category, code) = (field(0), field(1), field(2));
            if !["A3", "A6", "A7", "A8"].contains(&category.as_str()) {
                return Err(format!(
                    "line {line}: category {category:?} is not a rejection (A3, A6, A7, A8)"
                ));
            }
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("line {line}: status code {code:?} is not a number"));
            }
            let status = StatusCode {
                category,
                code,
                entity: field(3),
                meaning: field(4),
            };
            if rule == "*" {
                default = Some(status);
            } else if by_rule.insert(rule.clone(), status).is_some() {
                return Err(format!("line {line}: {rule} is listed twice"));
            } else {
                order.push(rule);
            }
        }
        Ok(Self {
            by_rule,
            default: default.ok_or("no default row (rule_id *)")?,
            order,
        })
    }

    /// The mapping shipped with claimscrub.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_STATUS_CODES).expect("the shipped status map parses")
    }

    /// The STC01 of a finding of `rule_id`.
    pub fn for_rule(&self, rule_id: &str) -> &StatusCode {
        self.by_rule.get(rule_id).unwrap_or(&self.default)
    }

    /// Every mapped rule in file order, then the default as `*`.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &StatusCode)> {
        self.order
            .iter()
            .map(|rule| (rule.as_str(), &self.by_rule[rule]))
            .chain(std::iter::once(("*", &self.default)))
    }
}

/// A decided claim as the 277CA reports it.
#[derive(Debug, Clone)]
pub struct ClaimStatus {
    /// CLM01.
    pub claim_id: String,
    pub charge: String,
    pub patient: Party,
    pub member_id: String,
    pub billing: Party,
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    /// claimscrub's audit record id, echoed as REF*D9.
    pub record_id: String,
    /// (rule id, message) of each error finding; empty when accepted.
    pub errors: Vec<(String, String)>,
    /// Why the claim was not decided at all (refused by the door).
    pub unreadable: Option<String>,
}

impl ClaimStatus {
    /// The claim's 277CA fields from what the reader made of it (before
    /// the member id is hashed away).
    pub fn of(claim: &X12Claim) -> Self {
        Self {
            claim_id: claim.claim.claim_id.clone(),
            charge: claim.charge.clone(),
            patient: claim.patient.clone(),
            member_id: claim.claim.patient.member_id.clone(),
            billing: claim.billing.clone(),
            service_from: claim.service_from,
            service_to: claim.service_to,
            record_id: String::new(),
            errors: Vec::new(),
            unreadable: None,
        }
    }

    fn rejected(&self) -> bool {
        !self.errors.is_empty() || self.unreadable.is_some()
    }
}

/// The transaction set being written.
struct OpenSet {
    submitter: Party,
    reference: String,
    hl: u64,
    body: SegmentWriter,
    accepted: (u64, Quantity),
    rejected: (u64, Quantity),
    provider: Option<OpenProvider>,
}

/// The billing provider whose claims are being written (HL 19): its claims
/// are held until the run ends, since its STC04 is their total.
struct OpenProvider {
    party: Party,
    hl: u64,
    body: SegmentWriter,
    total: Quantity,
}

impl OpenSet {
    /// Ends the provider run: HL 19, NM1*85, TRN, STC with the total, then
    /// its claims.
    fn close_provider(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        self.body.segment(&[
            "HL",
            &provider.hl.to_string(),
            &self.hl.to_string(),
            "19",
            "1",
        ]);
        let npi = clean(&provider.party.id, 80);
        self.body.segment(&[
            "NM1",
            "85",
            "2",
            &clean(&provider.party.name, 60),
            "",
            "",
            "",
            "",
            if npi.len() >= 2 { "XX" } else { "" },
            if npi.len() >= 2 { &npi } else { "" },
        ]);
        // 2200C is required: its trace number is the provider's HL.
        self.body.segment(&["TRN", "1", &provider.hl.to_string()]);
        self.body
            .segment(&["STC", "A1:19:85", "", "WQ", &provider.total.to_string()]);
        self.body.text.push_str(&provider.body.text);
        self.body.count += provider.body.count;
    }
}

/// Writes a 277CA to `out` as claims are decided.
pub struct Ca277Writer<W: Write> {
    out: W,
    head: SegmentWriter,
    segments: u64,
    next_hl: u64,
    set: Option<OpenSet>,
    map: StatusMap,
    date: String,
    envelope: ReplyEnvelope,
    claims: u64,
}

/// A rejecting STC: STC01, the date, action U (reject), the charge, and
/// the message in STC12 (free text, at most 264 characters).
fn rejection(out: &mut SegmentWriter, stc01: &str, date: &str, amount: &str, message: &str) {
    let message = clean(message, 264);
    let mut elements = vec!["STC", stc01, date, "U", amount];
    elements.extend([""; 7]);
    elements.push(&message);
    out.segment(&elements);
}

fn date8(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

impl<W: Write> Ca277Writer<W> {
    /// Starts the reply to `report`'s interchange: envelope, header and the
    /// information source (the 837's receiver, `source`).
    pub fn start(
        out: W,
        report: &InterchangeReport,
        source: &Party,
        envelope: ReplyEnvelope,
        map: StatusMap,
    ) -> Self {
        let mut head = SegmentWriter::default();
        reply_isa(&mut head, report, &envelope);
        let group = report.groups.first();
        let or = |value: Option<&String>, default: &str| {
            let value = clean(value.map_or("", String::as_str), 15);
            if value.len() < 2 {
                clean(default, 15)
            } else {
                value
            }
        };
        let control = (envelope.group_control_number % 1_000_000_000).to_string();
        let date = envelope.now.format("%Y%m%d").to_string();
        head.segment(&[
            "GS",
            "HN",
            &or(group.map(|g| &g.receiver), &report.header.receiver_id),
            &or(group.map(|g| &g.sender), &report.header.sender_id),
            &date,
            &envelope.now.format("%H%M").to_string(),
            &control,
            "X",
            "005010X214",
        ]);
        head.reset_count();
        head.segment(&["ST", "277", "0001", "005010X214"]);
        let trace = format!("{:09}", envelope.interchange_control_number % 1_000_000_000);
        head.segment(&[
            "BHT",
            "0085",
            "08",
            &trace,
            &date,
            &envelope.now.format("%H%M").to_string(),
            "TH",
        ]);
        head.segment(&["HL", "1", "", "20", "1"]);
        let name = clean(&source.name, 60);
        let id = clean(&source.id, 80);
        head.segment(&[
            "NM1",
            "AY",
            "2",
            if name.is_empty() { "CLAIMSCRUB" } else { &name },
            "",
            "",
            "",
            "",
            "46",
            if id.len() < 2 { "CLAIMSCRUB" } else { &id },
        ]);
        head.segment(&["TRN", "1", &trace]);
        head.segment(&["DTP", "050", "D8", &date]);
        head.segment(&["DTP", "009", "D8", &date]);
        Self {
            out,
            segments: 0,
            next_hl: 2,
            set: None,
            map,
            date,
            envelope,
            head,
            claims: 0,
        }
    }

    /// Starts the claims of one 837 transaction set.
    pub fn begin_set(&mut self, submitter: &Party, reference: &str) -> io::Result<()> {
        self.end_set()?;
        self.flush_head()?;
        let hl = self.next_hl;
        self.next_hl += 1;
        self.set = Some(OpenSet {
            submitter: submitter.clone(),
            reference: reference.to_owned(),
            hl,
            body: SegmentWriter::default(),
            accepted: (0, Quantity::default()),
            rejected: (0, Quantity::default()),
            provider: None,
        });
        Ok(())
    }

    fn flush_head(&mut self) -> io::Result<()> {
        if !self.head.text.is_empty() {
            self.out.write_all(self.head.text.as_bytes())?;
            self.segments += self.head.count;
            self.head = SegmentWriter::default();
        }
        Ok(())
    }

    /// One decided claim of the open set.
    pub fn claim(&mut self, status: &ClaimStatus) {
        let Some(set) = self.set.as_mut() else {
            return;
        };
        self.claims += 1;
        let charge = Quantity::parse(&status.charge).unwrap_or_default();
        let total = if status.rejected() {
            &mut set.rejected
        } else {
            &mut set.accepted
        };
        total.0 += 1;
        total.1 = total.1.checked_add(charge).unwrap_or(total.1);
        if set
            .provider
            .as_ref()
            .is_none_or(|p| p.party != status.billing)
        {
            set.close_provider();
            let hl = self.next_hl;
            self.next_hl += 1;
            set.provider = Some(OpenProvider {
                party: status.billing.clone(),
                hl,
                body: SegmentWriter::default(),
                total: Quantity::default(),
            });
        }
        let provider = set.provider.as_mut().expect("a provider is open");
        provider.total = provider.total.checked_add(charge).unwrap_or(provider.total);
        let provider_hl = provider.hl;
        let hl = self.next_hl;
        self.next_hl += 1;
        provider
            .body
            .segment(&["HL", &hl.to_string(), &provider_hl.to_string(), "PT"]);
        let member = clean(&status.member_id, 80);
        let last = clean(&status.patient.name, 60);
        provider.body.segment(&[
            "NM1",
            "QC",
            "1",
            if last.is_empty() { "UNKNOWN" } else { &last },
            &clean(&status.patient.first_name, 35),
            "",
            "",
            "",
            if member.len() >= 2 { "MI" } else { "" },
            if member.len() >= 2 { &member } else { "" },
        ]);
        provider
            .body
            .segment(&["TRN", "2", &clean(&status.claim_id, 50)]);
        let amount = charge.to_string();
        if let Some(reason) = &status.unreadable {
            rejection(&mut provider.body, "A3:21", &self.date, &amount, reason);
        } else if status.errors.is_empty() {
            provider
                .body
                .segment(&["STC", "A2:20", &self.date, "WQ", &amount]);
        } else {
            for (rule_id, message) in &status.errors {
                let code = self.map.for_rule(rule_id);
                let stc01 = if code.entity.is_empty() {
                    format!("{}:{}", code.category, code.code)
                } else {
                    format!("{}:{}:{}", code.category, code.code, code.entity)
                };
                let message = format!("{rule_id} - {message}");
                rejection(&mut provider.body, &stc01, &self.date, &amount, &message);
            }
        }
        if !status.record_id.is_empty() {
            provider
                .body
                .segment(&["REF", "D9", &clean(&status.record_id, 50)]);
        }
        match (status.service_from, status.service_to) {
            (Some(from), Some(to)) if from != to => {
                provider.body.segment(&[
                    "DTP",
                    "472",
                    "RD8",
                    &format!("{}-{}", date8(from), date8(to)),
                ]);
            }
            (Some(from), _) => provider.body.segment(&["DTP", "472", "D8", &date8(from)]),
            _ => {}
        }
    }

    /// Ends the open set: its HL 21 with totals, then its claims.
    pub fn end_set(&mut self) -> io::Result<()> {
        let Some(mut set) = self.set.take() else {
            return Ok(());
        };
        set.close_provider();
        let mut head = SegmentWriter::default();
        head.segment(&["HL", &set.hl.to_string(), "1", "21", "1"]);
        let id = clean(&set.submitter.id, 80);
        head.segment(&[
            "NM1",
            "41",
            "2",
            &clean(&set.submitter.name, 60),
            "",
            "",
            "",
            "",
            "46",
            if id.len() >= 2 { &id } else { "UNKNOWN" },
        ]);
        let reference = clean(&set.reference, 50);
        head.segment(&[
            "TRN",
            "2",
            if reference.is_empty() {
                "0"
            } else {
                &reference
            },
        ]);
        head.segment(&[
            "STC",
            "A1:19:PR",
            &self.date,
            "WQ",
            &set.accepted
                .1
                .checked_add(set.rejected.1)
                .unwrap_or_default()
                .to_string(),
        ]);
        head.segment(&["QTY", "90", &set.accepted.0.to_string()]);
        head.segment(&["QTY", "AA", &set.rejected.0.to_string()]);
        head.segment(&["AMT", "YU", &set.accepted.1.to_string()]);
        head.segment(&["AMT", "YY", &set.rejected.1.to_string()]);
        self.out.write_all(head.text.as_bytes())?;
        self.out.write_all(set.body.text.as_bytes())?;
        self.segments += head.count + set.body.count;
        Ok(())
    }

    /// Claims written so far.
    pub fn claims(&self) -> u64 {
        self.claims
    }

    /// Ends the 277CA and its interchange; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.end_set()?;
        self.flush_head()?;
        let mut tail = SegmentWriter::default();
        let count = self.segments + 1;
        tail.segment(&["SE", &count.to_string(), "0001"]);
        let control = (self.envelope.group_control_number % 1_000_000_000).to_string();
        tail.segment(&["GE", "1", &control]);
        reply_iea(&mut tail, 1, &self.envelope);
        self.out.write_all(tail.text.as_bytes())?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_map_parses_and_has_a_default() {
        let map = StatusMap::builtin();
        assert_eq!(map.for_rule("CHARGES_OUT_OF_BALANCE").code, "400");
        assert_eq!(map.for_rule("NO_SUCH_RULE").category, "A7");
        assert_eq!(map.entries().last().map(|(rule, _)| rule), Some("*"));
    }

    #[test]
    fn bad_maps_name_their_line() {
        let error =
            StatusMap::parse("rule_id,category,status_code,entity_code,meaning\n*,A2,20,,x\n")
                .unwrap_err();
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(StatusMap::parse("rule_id,category,status_code,entity_code,meaning\n").is_err());
    }
}
