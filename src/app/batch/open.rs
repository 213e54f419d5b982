//! Opening a batch for a stream: a new batch, or a stored one that the
//! header must match.

use super::{BatchHeader, BatchValidator, OpenedBatch, as_u64, mismatch};
use crate::error::AppError;
use crate::storage::batches;

impl BatchValidator {
    /// Opens a new batch or reopens a stored one for `submitter`. A stored
    /// batch must match the header: same submitter, same announced count,
    /// the rule set this server runs, and `resume` once items are stored.
    pub async fn open(
        &self,
        header: &BatchHeader,
        submitter: &str,
    ) -> Result<OpenedBatch, AppError> {
        let ruleset = self.validator.rules().version;
        let expected = header
            .expected_item_count
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let (batch, created) =
            batches::open(&self.pool, header.batch_id, submitter, ruleset, expected).await?;
        if !created {
            if batch.submitter != submitter {
                return Err(mismatch(
                    "the batch belongs to another submitter".to_owned(),
                ));
            }
            if let (Some(stored), Some(given)) = (batch.expected_item_count, expected)
                && stored != given
            {
                return Err(mismatch(format!(
                    "the batch was opened with expected_item_count {stored}, not {given}"
                )));
            }
            if batch.ruleset_version != ruleset {
                return Err(mismatch(format!(
                    "the batch was decided with rule set {}; this server runs {ruleset}",
                    batch.ruleset_version
                )));
            }
            if !header.resume && batch.durable_through_sequence >= 0 {
                return Err(mismatch(format!(
                    "the batch exists with {} stored items; reconnect with resume = true",
                    batch.durable_through_sequence + 1
                )));
            }
        }
        tracing::info!(
            batch_id = %batch.batch_id,
            resume = header.resume,
            durable_through = batch.durable_through_sequence,
            "batch stream opened"
        );
        Ok(OpenedBatch {
            next_expected_sequence: as_u64(batch.durable_through_sequence + 1),
            batch,
        })
    }
}
