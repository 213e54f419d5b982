//! A batch's stored state and results, read back.

use uuid::Uuid;

use super::{BatchRow, BatchValidator, ItemResult, as_u64, not_found};
use crate::app::decision::Decision;
use crate::app::page_token;
use crate::error::AppError;
use crate::storage::batches;

/// Default and largest ListBatchResults page.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1_000;

impl BatchValidator {
    /// A batch by id.
    pub async fn get(&self, batch_id: Uuid) -> Result<BatchRow, AppError> {
        batches::get(&self.pool, batch_id)
            .await?
            .ok_or_else(|| not_found(batch_id))
    }

    /// A page of a batch's stored results in sequence order, and whether
    /// more follow. The transport may send fewer (to stay inside a message
    /// size) and continues after the last one it sent with
    /// [`Self::results_token`].
    pub async fn results(
        &self,
        batch_id: Uuid,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<ItemResult>, bool), AppError> {
        let size = page_token::page_size(page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let after: i64 =
            page_token::decode(page_token, &("ListBatchResults", batch_id))?.unwrap_or(-1);
        self.get(batch_id).await?;
        let limit = i64::try_from(size).unwrap_or(i64::MAX);
        let items = batches::items(&self.pool, batch_id, after, limit + 1).await?;
        let more = items.len() > size;
        let mut results = Vec::with_capacity(size);
        for item in items.into_iter().take(size) {
            let sequence = as_u64(item.sequence);
            let outcome = match (item.decision, item.error) {
                (Some(decision), _) => Ok(Decision::from_stored(decision)?),
                (None, Some(error)) => Err(error.0.into_error()),
                (None, None) => {
                    return Err(AppError::internal("batch item without result or error"));
                }
            };
            results.push(ItemResult {
                sequence,
                correlation_id: item.correlation_id,
                outcome,
            });
        }
        Ok((results, more))
    }

    /// The token of the page after sequence `last` of `batch_id`.
    pub fn results_token(batch_id: Uuid, last: u64) -> String {
        page_token::encode(
            &("ListBatchResults", batch_id),
            &i64::try_from(last).unwrap_or(i64::MAX),
        )
    }
}
