//! The TA1 and the 999 (005010X231A1) of an interchange's check.
//!
//! One reply interchange per interchange received: one 999 transaction set
//! per functional group, then a TA1 when the envelope is broken (then
//! nothing else) or when ISA14 asked for one. Sender and receiver swap; the
//! reply's control numbers come from the caller (unique per submitter).

use chrono::NaiveDateTime;

use super::check::{GroupReport, InterchangeReport, SetVerdict};
use super::segments::Separators;

/// The control numbers and time of a reply interchange.
#[derive(Debug, Clone, Copy)]
pub struct ReplyEnvelope {
    /// ISA13 of the reply (at most 9 digits).
    pub interchange_control_number: u64,
    /// GS06 of its first group; later groups count up from it.
    pub group_control_number: u64,
    pub now: NaiveDateTime,
}

/// Writes segments with claimscrub's separators, counting them.
#[derive(Debug, Default)]
pub struct SegmentWriter {
    pub text: String,
    /// Segments since the last [`Self::reset_count`].
    pub count: u64,
}

const W: Separators = Separators::WRITTEN;

impl SegmentWriter {
    /// Appends a segment of `elements` (id first); trailing empty elements
    /// are dropped, as the syntax requires.
    pub fn segment(&mut self, elements: &[&str]) {
        let used = elements
            .iter()
            .rposition(|e| !e.is_empty())
            .map_or(1, |i| i + 1);
        for (i, element) in elements[..used].iter().enumerate() {
            if i > 0 {
                self.text.push(char::from(W.element));
            }
            self.text.push_str(element);
        }
        self.text.push(char::from(W.segment));
        self.text.push('\n');
        self.count += 1;
    }

    pub fn reset_count(&mut self) {
        self.count = 0;
    }
}

/// `value` with every separator claimscrub writes replaced by a space, and
/// cut to `max` characters: data echoed from a file that used others.
pub fn clean(value: &str, max: usize) -> String {
    let separators = [
        W.element,
        W.component,
        W.segment,
        W.repetition.unwrap_or(W.segment),
    ];
    value
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if c.is_ascii() && separators.contains(&(c as u8)) || !c.is_ascii() {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn pad(value: &str, width: usize) -> String {
    format!("{:width$}", clean(value, width))
}

/// The ISA of a reply to `report`'s interchange.
pub fn reply_isa(out: &mut SegmentWriter, report: &InterchangeReport, envelope: &ReplyEnvelope) {
    let header = &report.header;
    let or = |value: &str, default: &'static str| {
        if value.trim().is_empty() {
            default.to_owned()
        } else {
            value.to_owned()
        }
    };
    let control = format!("{:09}", envelope.interchange_control_number % 1_000_000_000);
    out.segment(&[
        "ISA",
        "00",
        &pad("", 10),
        "00",
        &pad("", 10),
        &or(&header.receiver_qualifier, "ZZ"),
        &pad(&or(&header.receiver_id, "CLAIMSCRUB"), 15),
        &or(&header.sender_qualifier, "ZZ"),
        &pad(&or(&header.sender_id, "UNKNOWN"), 15),
        &envelope.now.format("%y%m%d").to_string(),
        &envelope.now.format("%H%M").to_string(),
        "^",
        "00501",
        &control,
        "0",
        if header.usage == "T" { "T" } else { "P" },
        ":",
    ]);
}

/// The reply interchange's IEA.
pub fn reply_iea(out: &mut SegmentWriter, groups: usize, envelope: &ReplyEnvelope) {
    let control = format!("{:09}", envelope.interchange_control_number % 1_000_000_000);
    out.segment(&["IEA", &groups.to_string(), &control]);
}

/// The TA1 of `report`, if one is due: the envelope is broken, or ISA14
/// asked for one.
pub fn ta1(out: &mut SegmentWriter, report: &InterchangeReport) -> bool {
    let header = &report.header;
    let (ack, code) = match report.envelope_error {
        Some(code) => ("R", code),
        None if header.ack_requested => ("A", "000"),
        None => return false,
    };
    let control = if header.control_number.len() == 9 {
        header.control_number.clone()
    } else {
        "000000000".to_owned()
    };
    let date = if header.date.len() == 6 {
        header.date.clone()
    } else {
        "000101".to_owned()
    };
    let time = if header.time.len() == 4 {
        header.time.clone()
    } else {
        "0000".to_owned()
    };
    out.segment(&["TA1", &control, &date, &time, ack, code]);
    true
}

/// The AK9 verdict of a group, and how many of its sets it accepts.
pub fn group_verdict(group: &GroupReport) -> (&'static str, usize) {
    if !group.errors.is_empty() {
        return ("R", 0);
    }
    let verdicts: Vec<SetVerdict> = group.sets.iter().map(|s| s.verdict()).collect();
    let accepted = verdicts.iter().filter(|v| v.scrubbed()).count();
    let code = if verdicts.is_empty() || accepted == 0 {
        "R"
    } else if accepted < verdicts.len() {
        "P"
    } else if verdicts.contains(&SetVerdict::AcceptedWithErrors) {
        "E"
    } else {
        "A"
    };
    (code, accepted)
}

/// The whole reply to `report`: ISA, TA1 if due, one 999 per group, IEA.
pub fn reply(report: &InterchangeReport, envelope: &ReplyEnvelope) -> String {
    let mut out = SegmentWriter::default();
    reply_isa(&mut out, report, envelope);
    let mut groups = 0;
    if report.envelope_error.is_none() {
        for (index, group) in report.groups.iter().enumerate() {
            let control = envelope.group_control_number + index as u64;
            write_999(&mut out, report, group, control, envelope);
            groups += 1;
        }
    }
    // After the groups, where pyx12 (and the control map's order) put it.
    ta1(&mut out, report);
    reply_iea(&mut out, groups, envelope);
    out.text
}

/// One 999 in its own functional group.
fn write_999(
    out: &mut SegmentWriter,
    report: &InterchangeReport,
    group: &GroupReport,
    control: u64,
    envelope: &ReplyEnvelope,
) {
    let or = |value: &str, default: &str| {
        let value = clean(value, 15);
        if value.len() < 2 {
            clean(default, 15)
        } else {
            value
        }
    };
    let control = (control % 1_000_000_000).to_string();
    out.segment(&[
        "GS",
        "FA",
        &or(&group.receiver, &report.header.receiver_id),
        &or(&group.sender, &report.header.sender_id),
        &envelope.now.format("%Y%m%d").to_string(),
        &envelope.now.format("%H%M").to_string(),
        &control,
        "X",
        "005010X231A1",
    ]);
    out.reset_count();
    out.segment(&["ST", "999", "0001", "005010X231A1"]);
    out.segment(&[
        "AK1",
        &clean(&group.functional_id, 2),
        &clean(&group.control_number, 9),
        &clean(&group.version, 12),
    ]);
    let rejected_group = !group.errors.is_empty();
    for set in &group.sets {
        out.segment(&[
            "AK2",
            &clean(&set.id, 3),
            &clean(&set.control_number, 9),
            &clean(&set.version, 35),
        ]);
        for error in &set.errors {
            // IK303 (element 447) holds at most four characters: loop ids
            // such as 2300 fit, 2010AA does not and is left out.
            let loop_id = if error.loop_id.len() <= 4 {
                error.loop_id
            } else {
                ""
            };
            out.segment(&[
                "IK3",
                &clean(&error.segment_id, 3),
                &error.position.to_string(),
                loop_id,
                error.code,
            ]);
            if let Some(claim_id) = error.claim_id.as_deref().map(|id| clean(id, 35))
                && !claim_id.is_empty()
            {
                out.segment(&["CTX", &format!("CLM01:{claim_id}")]);
            }
            for element in &error.elements {
                let position = if element.component > 0 {
                    format!("{}:{}", element.position, element.component)
                } else {
                    element.position.to_string()
                };
                let reference = if element.reference > 0 {
                    element.reference.to_string()
                } else {
                    String::new()
                };
                out.segment(&[
                    "IK4",
                    &position,
                    &reference,
                    element.code,
                    &clean(&element.value, 99),
                ]);
            }
        }
        let mut verdict = set.verdict().code();
        let mut codes: Vec<&str> = set.codes.iter().take(5).copied().collect();
        if rejected_group {
            verdict = "R";
        }
        if verdict != "A" && codes.is_empty() {
            codes.push(if rejected_group && group.errors.contains(&"1") {
                "6"
            } else {
                "5"
            });
        }
        let mut ik5 = vec!["IK5", verdict];
        ik5.extend(codes);
        out.segment(&ik5);
    }
    let (verdict, accepted) = group_verdict(group);
    let included = group
        .declared_sets
        .unwrap_or(group.sets.len() as u64)
        .to_string();
    let received = group.sets.len().to_string();
    let accepted = accepted.to_string();
    let mut ak9 = vec!["AK9", verdict, &included, &received, &accepted];
    ak9.extend(group.errors.iter().take(5).copied());
    out.segment(&ak9);
    let count = out.count + 1;
    out.segment(&["SE", &count.to_string(), "0001"]);
    out.segment(&["GE", "1", &control]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_empty_elements_are_dropped_and_separators_cleaned() {
        let mut out = SegmentWriter::default();
        out.segment(&["IK3", "NM1", "8", "", "3", "", ""]);
        assert_eq!(out.text, "IK3*NM1*8**3~\n");
        assert_eq!(clean("A*B:C~D^E", 20), "A B C D E");
        assert_eq!(clean("long value", 4), "long");
    }
}
