//! The sequence rules of a batch stream, pure: which item the pipeline
//! takes next, which it skips as a resend, and which ends the stream.

use crate::error::{AppError, ErrorReason};

/// What to do with an item.
#[derive(Debug)]
pub(crate) enum Admission {
    /// The next sequence: decide it.
    Take,
    /// Below the next sequence: a resend of a stored item, ignored.
    Skip,
    /// The stream ends with this error (after what came before it).
    Refuse(AppError),
}

/// The sequence a batch expects next, and what it may still take.
#[derive(Debug, Clone)]
pub(crate) struct SequenceGate {
    next: u64,
    expected: Option<u64>,
    completed: bool,
}

impl SequenceGate {
    /// A gate for a batch stored through `next - 1` that announced
    /// `expected` items, possibly already completed.
    pub(crate) fn new(next: u64, expected: Option<u64>, completed: bool) -> Self {
        Self {
            next,
            expected,
            completed,
        }
    }

    /// Admits `sequence`: the next one is taken (and the gate moves on), a
    /// lower one is a resend, anything else ends the stream.
    pub(crate) fn admit(&mut self, sequence: u64) -> Admission {
        let next = self.next;
        if sequence < next {
            return Admission::Skip;
        }
        if sequence > next {
            return Admission::Refuse(AppError::OutOfRange {
                reason: ErrorReason::SequenceGap,
                message: format!("sequence {sequence} received; {next} was expected next"),
            });
        }
        if self.completed {
            return Admission::Refuse(AppError::FailedPrecondition {
                reason: ErrorReason::BatchCompleted,
                message: "the batch is completed and takes no more items".into(),
            });
        }
        if let Some(expected) = self.expected.filter(|e| sequence >= *e) {
            return Admission::Refuse(AppError::OutOfRange {
                reason: ErrorReason::SequenceGap,
                message: format!(
                    "sequence {sequence} is beyond the {expected} items the header announced"
                ),
            });
        }
        self.next += 1;
        Admission::Take
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(admission: Admission) -> ErrorReason {
        match admission {
            Admission::Refuse(
                AppError::OutOfRange { reason, .. } | AppError::FailedPrecondition { reason, .. },
            ) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_next_sequence_is_taken_and_the_gate_moves_on() {
        let mut gate = SequenceGate::new(0, None, false);
        for sequence in 0..5 {
            assert!(matches!(gate.admit(sequence), Admission::Take));
        }
    }

    #[test]
    fn a_resent_sequence_is_skipped() {
        let mut gate = SequenceGate::new(10, None, false);
        assert!(matches!(gate.admit(3), Admission::Skip));
        assert!(matches!(gate.admit(9), Admission::Skip));
        assert!(matches!(gate.admit(10), Admission::Take));
        assert!(
            matches!(gate.admit(10), Admission::Skip),
            "the same item twice"
        );
    }

    #[test]
    fn a_gap_is_refused() {
        let mut gate = SequenceGate::new(4, None, false);
        assert_eq!(refused(gate.admit(6)), ErrorReason::SequenceGap);
        assert_eq!(refused(gate.admit(u64::MAX)), ErrorReason::SequenceGap);
        assert!(
            matches!(gate.admit(4), Admission::Take),
            "a refusal does not move the gate"
        );
    }

    #[test]
    fn a_completed_batch_takes_nothing_new_but_skips_resends() {
        let mut gate = SequenceGate::new(3, Some(3), true);
        assert!(matches!(gate.admit(1), Admission::Skip));
        assert_eq!(refused(gate.admit(3)), ErrorReason::BatchCompleted);
    }

    #[test]
    fn beyond_the_announced_count_is_refused() {
        let mut gate = SequenceGate::new(0, Some(2), false);
        assert!(matches!(gate.admit(0), Admission::Take));
        assert!(matches!(gate.admit(1), Admission::Take));
        assert_eq!(refused(gate.admit(2)), ErrorReason::SequenceGap);
    }
}
