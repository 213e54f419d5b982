//! The lifecycle of a batch, as stored (`validation_batch.state`).

use std::fmt;

/// Open while items may still arrive (or its stream broke and may be
/// resumed); completed once the client ended it and every result is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Items may still arrive.
    Open,
    /// Ended by the client; takes no more items.
    Completed,
}

impl BatchState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
        }
    }
}

impl fmt::Display for BatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored name that is no batch state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown batch state {0:?}")]
pub struct UnknownBatchState(pub String);

impl TryFrom<String> for BatchState {
    type Error = UnknownBatchState;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        [Self::Open, Self::Completed]
            .into_iter()
            .find(|state| state.as_str() == value)
            .ok_or(UnknownBatchState(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_others_are_refused() {
        for state in [BatchState::Open, BatchState::Completed] {
            assert_eq!(BatchState::try_from(state.to_string()), Ok(state));
        }
        assert!(BatchState::try_from("closed".to_owned()).is_err());
    }
}
