//! Decisions that hold under concurrency: of identical claims sent at once,
//! to one server or to two on the same database, exactly one is accepted;
//! a claim decided before a concurrent claim of its member was stored is
//! decided again when it is stored; a row the database refuses fails only
//! its own request, in a group commit and in a batch chunk.

use std::sync::Arc;

use claimscrub::app::batch::{BatchHeader, BatchInput, BatchOutput, BatchValidator};
use claimscrub::app::catalog::Catalog;
use claimscrub::app::decision::Origin;
use claimscrub::app::validate::ClaimValidator;
use claimscrub::domain::claim::Claim;
use claimscrub::domain::limits::ClaimLimits;
use claimscrub::grpc::convert::claim_from_pb;
use claimscrub::grpc::pb;
use futures::StreamExt as _;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{Api, MPFS, excision_claim, import_shared, spawn_app};

/// Sends `copies` of one claim (one member, distinct request ids) at once,
/// spread over `apps`; returns how many were accepted and how many were
/// rejected as duplicates.
pub(crate) async fn identical_at_once(
    apps: &[&Api],
    copies: usize,
    member: &str,
) -> (usize, usize) {
    let claim = excision_claim("CLM-TWIN", member, 3.5);

    let answers: Vec<pb::ValidationResult> = futures::stream::iter(0..copies)
        .map(|i| {
            let app = apps[i % apps.len()];
            let claim = claim.clone();
            async move {
                app.validate_claim(pb::ValidateClaimRequest {
                    request_id: format!("twin-{}", Uuid::new_v4()),
                    claim: Some(claim),
                })
                .await
                .expect("decided")
                .result
                .expect("result")
            }
        })
        .buffer_unordered(copies)
        .collect()
        .await;
    let accepted = answers
        .iter()
        .filter(|r| r.disposition() == pb::Disposition::Accept)
        .count();
    let duplicates = answers
        .iter()
        .filter(|r| r.findings.iter().any(|f| f.rule_id == "DUPLICATE_CLAIM"))
        .count();
    (accepted, duplicates)
}

#[sqlx::test]
async fn of_twenty_identical_claims_at_once_exactly_one_is_accepted(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    for round in 0..3 {
        let (accepted, duplicates) = identical_at_once(&[&*app], 20, &format!("MBR-{round}")).await;
        assert_eq!((accepted, duplicates), (1, 19), "round {round}");
    }
}

#[sqlx::test]
async fn two_servers_on_one_database_accept_exactly_one_of_twenty(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_app(pool.clone()).await;
    for round in 0..3 {
        let (accepted, duplicates) =
            identical_at_once(&[&*first, &*second], 20, &format!("MBR-2-{round}")).await;
        assert_eq!((accepted, duplicates), (1, 19), "round {round}");
    }
}

/// A validator of its own on the test database (the server loaded the
/// default data set into it), for driving the decision steps one by one.
async fn validator(pool: &PgPool) -> Arc<ClaimValidator> {
    let (catalog, _listener) = Catalog::load_and_listen(pool).await.expect("catalog");
    Arc::new(ClaimValidator::new(
        Arc::new(catalog),
        pool.clone(),
        b"test-member-key".to_vec(),
    ))
}

fn domain(claim: pb::Claim) -> Claim {
    claim_from_pb(Some(claim), "claim", &ClaimLimits::default()).expect("a readable claim")
}

#[sqlx::test]
async fn a_claim_decided_before_its_members_procedure_was_stored_is_decided_again(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    if !import_shared(&pool, &[MPFS]).await {
        return;
    }
    let validator = validator(&pool).await;
    // An E/M five days into the 010-day global period of 11404, by the same
    // provider, decided while the procedure was not stored yet.
    let mut visit = excision_claim("CLM-VISIT", "MBR-GLOBAL", 3.5);
    visit.date_of_service = Some(pb::google::r#type::Date {
        year: 2026,
        month: 1,
        day: 20,
    });
    visit.lines[0] = pb::ServiceLine {
        procedure_code: "99213".into(),
        units: 1,
        diagnosis_pointers: vec![1],
        ..Default::default()
    };
    let prepared = validator.prepare(domain(visit)).expect("prepared");
    let snapshot = validator.catalog().snapshot();
    let stale = validator
        .decide(&snapshot, prepared, Vec::new(), Origin::Request(""), "test")
        .expect("decided");
    assert!(
        stale.decision.disposition.is_accepted(),
        "without history the visit passes: {:?}",
        stale.decision.findings
    );
    let procedure = validator
        .validate(
            "",
            "test",
            domain(excision_claim("CLM-PROC", "MBR-GLOBAL", 3.5)),
        )
        .await
        .expect("procedure decided");
    assert!(procedure.disposition.is_accepted());
    let stored = validator
        .store(stale)
        .await
        .expect("stored")
        .expect("its own request");
    assert!(
        stored
            .findings
            .iter()
            .any(|f| f.rule_id == "EM_IN_GLOBAL_PERIOD"),
        "the procedure stored first is seen: {:?}",
        stored.findings
    );
    let disposition: i16 = sqlx::query_scalar("select disposition from audit_record where id = $1")
        .bind(stored.audit_record_id)
        .fetch_one(&pool)
        .await
        .expect("row");
    assert_eq!(disposition, 3, "the stored row is the decision answered");
    drop(app);
}

#[sqlx::test]
async fn a_row_the_database_refuses_fails_only_its_own_request(pool: PgPool) {
    const CALLS: usize = 256;
    let _app = spawn_app(pool.clone()).await;
    let validator = validator(&pool).await;
    let commits_before = validator.audit_commits();
    // The door refuses these; here they reach the store directly, as a
    // value the door did not foresee would: a NUL (22021) and an index row
    // past the btree limit (54000).
    let answers: Vec<(bool, bool)> = futures::stream::iter(0..CALLS)
        .map(|i| {
            let validator = Arc::clone(&validator);
            async move {
                let mut claim = domain(excision_claim(
                    &format!("CLM-R-{i}"),
                    &format!("MBR-R-{i}"),
                    3.5,
                ));
                let refused = i % 16 == 5;
                if refused {
                    claim.claim_id = if i % 32 == 5 {
                        format!("CLM\0{i}")
                    } else {
                        (0..60_000)
                            .map(|n: u32| (n * 7919 % 10_007).to_string())
                            .collect()
                    };
                }
                let answer = validator
                    .validate(&format!("refusal-{i}"), "test", claim)
                    .await;
                if let Err(error) = &answer {
                    assert!(
                        matches!(error, claimscrub::AppError::InvalidArgument { .. }),
                        "a refused row is the request's own INVALID_ARGUMENT: {error}"
                    );
                }
                (refused, answer.is_ok())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    for (refused, ok) in &answers {
        assert_eq!(*ok, !refused);
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, i64::try_from(CALLS - CALLS / 16).expect("n"));
    let commits = validator.audit_commits() - commits_before;
    assert!(
        commits < CALLS as u64,
        "{commits} commits for {CALLS} calls: decisions share group commits"
    );
}

#[sqlx::test]
async fn a_batch_item_the_database_refuses_becomes_an_item_error(pool: PgPool) {
    const ITEMS: u64 = 1_000;
    let _app = spawn_app(pool.clone()).await;
    let validator = validator(&pool).await;
    let batches = Arc::new(BatchValidator::new(Arc::clone(&validator), pool.clone()));
    let header = BatchHeader {
        batch_id: Uuid::new_v4(),
        resume: false,
        expected_item_count: Some(ITEMS),
    };
    let opened = batches.open(&header, "test").await.expect("opened");
    let (inputs, received) = mpsc::channel(64);
    let mut outputs = batches.stream(
        opened,
        "test".into(),
        tokio_stream::wrappers::ReceiverStream::new(received),
        CancellationToken::new(),
    );
    tokio::spawn(async move {
        for sequence in 0..ITEMS {
            let mut claim = domain(excision_claim(
                &format!("CLM-BR-{sequence}"),
                &format!("MBR-BR-{sequence}"),
                3.5,
            ));
            if sequence % 97 == 13 {
                claim.claim_id = format!("CLM\0{sequence}");
            }
            let input = BatchInput::Item {
                sequence,
                correlation_id: format!("C-{sequence}"),
                claim: Box::new(Ok(claim)),
            };
            if inputs.send(input).await.is_err() {
                return;
            }
        }
        let _ = inputs.send(BatchInput::End).await;
    });
    let (mut results, mut errors, mut next) = (0, 0, 0);
    let summary = loop {
        match outputs.next().await.expect("the batch ends with a summary") {
            BatchOutput::Item(item) => {
                assert_eq!(item.sequence, next, "in order");
                next += 1;
                match item.outcome {
                    Ok(_) => results += 1,
                    Err(error) => {
                        assert_eq!(item.sequence % 97, 13, "{error}");
                        errors += 1;
                    }
                }
            }
            BatchOutput::Checkpoint(_) => {}
            BatchOutput::Summary { batch, .. } => break batch,
            BatchOutput::Failed(error) => panic!("the batch failed: {error}"),
        }
    };
    let refused = (0..ITEMS).filter(|s| s % 97 == 13).count();
    assert_eq!(errors, refused);
    assert_eq!(results + errors, usize::try_from(ITEMS).expect("n"));
    assert_eq!(summary.item_errors, i64::try_from(refused).expect("n"));
    let (items, records): (i64, i64) = sqlx::query_as(
        "select (select count(*) from batch_item), (select count(*) from audit_record)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(
        items,
        i64::try_from(ITEMS).expect("n"),
        "one row per sequence"
    );
    assert_eq!(
        records,
        i64::try_from(results).expect("n"),
        "no half-stored item"
    );
}
