//! Loads claimscrub's own default data set ([`crate::domain::default_data`])
//! into the database on first start, as built-in releases.

use sqlx::PgPool;

use crate::domain::code_system::CodeSystem;
use crate::domain::default_data::{builtin_effective_from, parse};
use crate::error::AppError;
use crate::storage::reference_data::{self as store, NewRelease};

/// Loads the default data set unless this exact set is already there.
/// Returns true when it was loaded now.
pub async fn ensure_loaded(pool: &PgPool) -> Result<bool, AppError> {
    let set = parse().map_err(AppError::internal)?;
    if store::version_with_checksum(pool, CodeSystem::Cpt, &set.sha256)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let release = |system: CodeSystem, rows: usize, billable: Option<u64>| NewRelease {
        system,
        version: set.label.clone(),
        effective_from: builtin_effective_from(system),
        effective_to: None,
        builtin: true,
        source_file_name: "reference/default".into(),
        sha256: set.sha256.clone(),
        concept_count: rows as u64,
        billable_count: billable,
    };
    let nothing = |_: u64| {};
    let mut tx = pool.begin().await?;
    store::lock_default_data(&mut tx).await?;
    if store::version_with_checksum(&mut *tx, CodeSystem::Cpt, &set.sha256)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let cpt = store::insert_release(
        &mut tx,
        &release(CodeSystem::Cpt, set.procedures.len(), None),
    )
    .await?;
    store::insert_concepts(&mut tx, cpt, &set.procedures, &nothing).await?;
    store::insert_procedure_knowledge(&mut tx, cpt, &set.knowledge).await?;
    let mpfs = store::insert_release(
        &mut tx,
        &release(CodeSystem::Mpfs, set.fee_schedule.len(), None),
    )
    .await?;
    store::insert_fee_schedule(&mut tx, mpfs, &set.fee_schedule, &nothing).await?;
    let billable = set.diagnoses.iter().filter(|c| c.billable).count() as u64;
    for (system, concepts, billable) in [
        (CodeSystem::Modifier, &set.modifiers, None),
        (CodeSystem::Pos, &set.places_of_service, None),
        (CodeSystem::Taxonomy, &set.taxonomies, None),
        (CodeSystem::Icd10Cm, &set.diagnoses, Some(billable)),
    ] {
        let id = store::insert_release(&mut tx, &release(system, concepts.len(), billable)).await?;
        store::insert_concepts(&mut tx, id, concepts, &nothing).await?;
    }
    store::insert_missing_payers(&mut tx, &set.payers).await?;
    store::insert_missing_payer_rules(&mut tx, &set.payer_rules).await?;
    tx.commit().await?;
    tracing::info!(version = %set.label, "default data set loaded");
    Ok(true)
}
