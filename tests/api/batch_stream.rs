//! ValidateClaimBatch end to end: ordered results with exact counts, item
//! errors in band, checkpoints, resume after a dropped client and after the
//! server was killed, sequence gaps, header mismatches, backpressure,
//! shutdown, and the stored results through GetBatch and ListBatchResults.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::validate_claim_batch_request::Kind as In;
use claimscrub::grpc::pb::validate_claim_batch_response::Kind as Out;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Streaming};
use tonic_types::StatusExt as _;
use uuid::Uuid;

use crate::helpers::{
    Api, assert_invalid_field, drain, excision_claim, pool_url, spawn_app, spawn_app_with,
    start_serve, test_settings, wait_settled,
};

/// How long a stream may take to come to rest on a busy machine.
const SETTLE_DEADLINE: Duration = Duration::from_secs(120);

/// What item `sequence` is, so every count is known before the stream runs:
/// every 1,000th item has no claim (an item error), every 10th claim a
/// lesion too large for its code (REJECT), the rest are clean (ACCEPT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
    ItemError,
}

fn expect(sequence: u64) -> Expect {
    if sequence % 1_000 == 999 {
        Expect::ItemError
    } else if sequence % 10 == 3 {
        Expect::Reject
    } else {
        Expect::Accept
    }
}

/// Item `sequence`'s claim; one member per claim, so no claim duplicates
/// another.
fn claim(sequence: u64) -> pb::Claim {
    let diameter = if expect(sequence) == Expect::Reject {
        4.5
    } else {
        3.5
    };
    excision_claim(
        &format!("CLM-B-{sequence}"),
        &format!("MBR-B-{sequence}"),
        diameter,
    )
}

fn header(batch_id: Uuid, resume: bool, expected: Option<u64>) -> pb::ValidateClaimBatchRequest {
    pb::ValidateClaimBatchRequest {
        kind: Some(In::Header(pb::BatchHeader {
            batch_id: batch_id.to_string(),
            resume,
            expected_item_count: expected,
        })),
    }
}

fn item(sequence: u64) -> pb::ValidateClaimBatchRequest {
    pb::ValidateClaimBatchRequest {
        kind: Some(In::Item(pb::ClaimItem {
            sequence,
            correlation_id: format!("CLM-B-{sequence}"),
            claim: (expect(sequence) != Expect::ItemError).then(|| claim(sequence)),
        })),
    }
}

fn end() -> pb::ValidateClaimBatchRequest {
    pb::ValidateClaimBatchRequest {
        kind: Some(In::End(pb::BatchEnd {})),
    }
}

/// With only the default data set there is no MUE table: every item's answer,
/// streamed or read back, says the edit was not checked.
fn assert_lists_mue_not_checked(result: &pb::ValidationResult) {
    assert!(
        result
            .not_checked
            .iter()
            .any(|n| n.rule_id == "MUE_EXCEEDED"
                && n.reason() == pb::NotCheckedReason::NoReleaseInEffect),
        "{:?}",
        result.not_checked
    );
}

/// Sends `requests` on one stream and reads every response.
async fn send_all(
    client: &Api,
    requests: Vec<pb::ValidateClaimBatchRequest>,
) -> (Vec<Out>, Result<(), tonic::Status>) {
    let responses = client
        .validate_claim_batch(tokio_stream::iter(requests))
        .await
        .expect("stream opens");
    drain(responses).await
}

/// Checks the responses of one stream: accepted first, then results and
/// item errors in sequence order from `first` through `last` with the
/// disposition each item was built for, checkpoints that never go back.
fn check_order(responses: &[Out], first: u64, last: u64) {
    let mut next = first;
    let mut durable: Option<u64> = None;
    assert!(
        matches!(responses.first(), Some(Out::Accepted(a)) if a.next_expected_sequence == first),
        "{:?}",
        responses.first()
    );
    for response in &responses[1..] {
        match response {
            Out::Result(result) => {
                assert_eq!(result.sequence, next, "results in sequence order");
                let disposition = result.result.as_ref().expect("result").disposition();
                let wanted = match expect(next) {
                    Expect::Accept => pb::Disposition::Accept,
                    Expect::Reject => pb::Disposition::Reject,
                    Expect::ItemError => panic!("item {next} should be an item error"),
                };
                assert_eq!(disposition, wanted, "item {next}");
                assert_eq!(result.correlation_id, format!("CLM-B-{next}"));
                assert_lists_mue_not_checked(result.result.as_ref().expect("result"));
                next += 1;
            }
            Out::ItemError(error) => {
                assert_eq!(error.sequence, next, "item errors in sequence order");
                assert_eq!(expect(next), Expect::ItemError, "item {next}");
                let status = error.status.as_ref().expect("status");
                assert_eq!(status.code, Code::InvalidArgument as i32);
                next += 1;
            }
            Out::Checkpoint(checkpoint) => {
                assert!(
                    checkpoint.durable_through_sequence < next,
                    "a checkpoint follows its results"
                );
                assert!(durable <= Some(checkpoint.durable_through_sequence));
                durable = Some(checkpoint.durable_through_sequence);
            }
            Out::Summary(_) => {}
            Out::Accepted(_) => panic!("a second accepted"),
        }
    }
    assert_eq!(next, last + 1, "every item answered");
}

fn expected_counts(items: u64) -> pb::BatchCounts {
    let count = |e| (0..items).filter(|s| expect(*s) == e).count() as u64;
    pb::BatchCounts {
        items_received: items,
        accepted: count(Expect::Accept),
        accepted_with_warnings: 0,
        rejected: count(Expect::Reject),
        item_errors: count(Expect::ItemError),
    }
}

async fn stored_counts(pool: &PgPool, batch_id: Uuid) -> (i64, i64, i64) {
    sqlx::query_as(
        "select (select count(*) from batch_item where batch_id = $1), \
                (select count(distinct sequence) from batch_item where batch_id = $1), \
                (select count(*) from audit_record where batch_id = $1)",
    )
    .bind(batch_id)
    .fetch_one(pool)
    .await
    .expect("counts")
}

/// The batch as GetBatch reports it.
async fn get_batch(client: &Api, batch_id: Uuid) -> pb::Batch {
    client
        .get_batch(pb::GetBatchRequest {
            name: format!("batches/{batch_id}"),
        })
        .await
        .expect("batch")
        .batch
        .expect("batch")
}

/// Checks the store directly: one batch item per sequence, one audit record
/// per readable claim.
async fn assert_stored_exactly_once(pool: &PgPool, batch_id: Uuid, items: u64, why: &str) {
    let errors = expected_counts(items).item_errors as i64;
    let items = items as i64;
    assert_eq!(
        stored_counts(pool, batch_id).await,
        (items, items, items - errors),
        "{why}"
    );
}

/// Sends the items of `sequences` on `requests`, then the end marker, or,
/// without `end`, keeps the stream open the way a client that vanishes does.
fn feed(
    requests: mpsc::Sender<pb::ValidateClaimBatchRequest>,
    sequences: std::ops::Range<u64>,
    end_batch: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for sequence in sequences {
            if requests.send(item(sequence)).await.is_err() {
                return;
            }
        }
        if end_batch {
            let _ = requests.send(end()).await;
        } else {
            std::future::pending::<()>().await;
        }
    })
}

/// Every stored result through ListBatchResults, in pages of `page_size`.
async fn stored_results(
    client: &Api,
    batch_id: Uuid,
    page_size: i32,
) -> Vec<(u64, Option<pb::Disposition>)> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_batch_results(pb::ListBatchResultsRequest {
                parent: format!("batches/{batch_id}"),
                page_size,
                page_token: token,
            })
            .await
            .expect("page");
        let mut items: Vec<(u64, Option<pb::Disposition>)> = page
            .results
            .iter()
            .map(|r| {
                let result = r.result.as_ref().expect("result");
                assert_lists_mue_not_checked(result);
                (r.sequence, Some(result.disposition()))
            })
            .chain(page.item_errors.iter().map(|e| (e.sequence, None)))
            .collect();
        items.sort_by_key(|(s, _)| *s);
        all.extend(items);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

fn check_stored(results: &[(u64, Option<pb::Disposition>)], items: u64) {
    assert_eq!(results.len() as u64, items);
    for (i, (sequence, disposition)) in results.iter().enumerate() {
        assert_eq!(*sequence, i as u64);
        let wanted = match expect(*sequence) {
            Expect::Accept => Some(pb::Disposition::Accept),
            Expect::Reject => Some(pb::Disposition::Reject),
            Expect::ItemError => None,
        };
        assert_eq!(*disposition, wanted, "stored item {sequence}");
    }
}

#[sqlx::test]
async fn twenty_thousand_claims_come_back_in_order_with_exact_counts(pool: PgPool) {
    const ITEMS: u64 = 20_000;
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let requests = std::iter::once(header(batch_id, false, Some(ITEMS)))
        .chain((0..ITEMS).map(item))
        .chain(std::iter::once(end()));
    let (responses, ended) = send_all(&app, requests.collect()).await;
    ended.expect("the stream ends OK");
    check_order(&responses, 0, ITEMS - 1);
    let Some(Out::Summary(summary)) = responses.last() else {
        panic!("the summary comes last");
    };
    assert_eq!(summary.counts, Some(expected_counts(ITEMS)));
    assert_eq!(summary.durable_through_sequence, Some(ITEMS - 1));
    let checkpoints = responses
        .iter()
        .filter(|r| matches!(r, Out::Checkpoint(_)))
        .count();
    assert!(
        checkpoints >= 40,
        "a checkpoint per chunk of at most 500 items: {checkpoints}"
    );

    let batch = get_batch(&app, batch_id).await;
    assert_eq!(batch.state(), pb::BatchState::Completed);
    assert_eq!(batch.counts, Some(expected_counts(ITEMS)));
    assert_eq!(batch.submitter, "anonymous");
    assert!(batch.complete_time.is_some());
    check_stored(&stored_results(&app, batch_id, 1_000).await, ITEMS);
    assert_stored_exactly_once(
        &pool,
        batch_id,
        ITEMS,
        "one batch item per sequence, one audit record per readable claim",
    )
    .await;
}

/// Opens a stream fed from a channel, so the test decides when to stop.
async fn open_stream(
    client: &Api,
    first: pb::ValidateClaimBatchRequest,
) -> (
    mpsc::Sender<pb::ValidateClaimBatchRequest>,
    Result<Streaming<pb::ValidateClaimBatchResponse>, tonic::Status>,
) {
    let (requests, outgoing) = mpsc::channel(64);
    requests.send(first).await.expect("header queued");
    let opened = client
        .validate_claim_batch(ReceiverStream::new(outgoing))
        .await;
    (requests, opened)
}

/// Reads until a checkpoint at or beyond `at`; returns it.
async fn until_checkpoint(
    responses: &mut Streaming<pb::ValidateClaimBatchResponse>,
    at: u64,
) -> u64 {
    loop {
        let response = responses.message().await.expect("ok").expect("open");
        if let Some(Out::Checkpoint(c)) = response.kind
            && c.durable_through_sequence >= at
        {
            return c.durable_through_sequence;
        }
    }
}

/// Resumes `batch_id` from wherever it stands: resends the 50 items before
/// the server's next expected sequence (ignored), then the rest through
/// `items`, then ends the batch.
async fn resume_and_finish(client: &Api, batch_id: Uuid, items: u64) -> (Vec<Out>, u64) {
    let (requests, opened) = open_stream(client, header(batch_id, true, Some(items))).await;
    let mut responses = opened.expect("resume accepted");
    let Some(Out::Accepted(accepted)) = responses.message().await.expect("ok").expect("open").kind
    else {
        panic!("accepted first");
    };
    let next = accepted.next_expected_sequence;
    feed(requests, next.saturating_sub(50)..items, true);
    let (mut rest, ended) = drain(responses).await;
    ended.expect("the resumed stream ends OK");
    rest.insert(0, Out::Accepted(accepted));
    (rest, next)
}

#[sqlx::test]
async fn a_client_that_drops_mid_stream_resumes_without_loss_or_duplicates(pool: PgPool) {
    const ITEMS: u64 = 5_000;
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let (requests, opened) = open_stream(&app, header(batch_id, false, Some(ITEMS))).await;
    let mut responses = opened.expect("stream opens");
    // The request stream stays open: the client vanishes instead of ending.
    let feeder = feed(requests, 0..3_000, false);
    let durable = until_checkpoint(&mut responses, 1_000).await;
    feeder.abort();
    drop(responses);

    // The server notices, stops, and keeps what is durable.
    // The dropped stream's pipeline still commits what it had queued; a
    // chunk's commit took over half a second on a loaded CI machine, so the
    // batch must stay unchanged for 3 s before it counts as settled.
    let batch = wait_settled(
        "the dropped stream to settle",
        SETTLE_DEADLINE,
        30,
        async || get_batch(&app, batch_id).await,
    )
    .await;
    assert_eq!(batch.state(), pb::BatchState::Open);
    let stored = batch.durable_through_sequence.expect("some items stored");
    assert!(stored >= durable);

    let (responses, next) = resume_and_finish(&app, batch_id, ITEMS).await;
    assert_eq!(next, stored + 1, "resume starts after the durable sequence");
    check_order(&responses, next, ITEMS - 1);
    let Some(Out::Summary(summary)) = responses.last() else {
        panic!("summary last");
    };
    assert_eq!(summary.counts, Some(expected_counts(ITEMS)));
    check_stored(&stored_results(&app, batch_id, 700).await, ITEMS);
    assert_stored_exactly_once(&pool, batch_id, ITEMS, "after the resume").await;
}

#[sqlx::test]
async fn a_gap_ends_the_stream_out_of_range_after_storing_what_came_before(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let requests = vec![header(batch_id, false, None), item(0), item(1), item(3)];
    let (responses, ended) = send_all(&app, requests).await;
    let status = ended.expect_err("gap");
    assert_eq!(status.code(), Code::OutOfRange);
    assert_eq!(
        status.get_details_error_info().expect("info").reason,
        "SEQUENCE_GAP"
    );
    assert!(
        responses
            .iter()
            .any(|r| matches!(r, Out::Checkpoint(c) if c.durable_through_sequence == 1)),
        "{responses:?}"
    );
    assert_eq!(stored_counts(&pool, batch_id).await, (2, 2, 2));
}

#[sqlx::test]
async fn headers_that_do_not_match_the_stored_batch_are_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let requests = vec![header(batch_id, false, Some(10)), item(0), item(1)];
    let (_, ended) = send_all(&app, requests).await;
    let incomplete = ended.expect_err("ended before the announced count");
    assert_eq!(incomplete.code(), Code::FailedPrecondition);
    assert_eq!(
        incomplete.get_details_error_info().expect("info").reason,
        "BATCH_INCOMPLETE"
    );

    for (resume, expected, why) in [
        (
            false,
            Some(10),
            "items are stored: a new stream must resume",
        ),
        (true, Some(11), "another announced count"),
    ] {
        let status = app
            .validate_claim_batch(tokio_stream::iter(vec![header(batch_id, resume, expected)]))
            .await
            .expect_err(why);
        assert_eq!(status.code(), Code::FailedPrecondition, "{why}");
        assert_eq!(
            status.get_details_error_info().expect("info").reason,
            "BATCH_HEADER_MISMATCH",
            "{why}"
        );
    }

    let status = app
        .validate_claim_batch(tokio_stream::iter(vec![item(0)]))
        .await
        .expect_err("no header");
    assert_invalid_field(&status, "header");
    let status = app
        .validate_claim_batch(tokio_stream::iter(vec![pb::ValidateClaimBatchRequest {
            kind: Some(In::Header(pb::BatchHeader {
                batch_id: "batch-1".into(),
                ..Default::default()
            })),
        }]))
        .await
        .expect_err("not a UUID");
    assert_invalid_field(&status, "header.batch_id");

    let missing = app
        .get_batch(pb::GetBatchRequest {
            name: format!("batches/{}", Uuid::new_v4()),
        })
        .await
        .expect_err("unknown batch");
    assert_eq!(missing.code(), Code::NotFound);
}

#[sqlx::test]
async fn a_client_that_stops_reading_holds_the_server_back(pool: PgPool) {
    const ITEMS: u64 = 60_000;
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    let requests = std::iter::once(header(batch_id, false, Some(ITEMS)))
        .chain((0..ITEMS).map(move |s| {
            counter.fetch_add(1, Ordering::Relaxed);
            item(s)
        }))
        .chain(std::iter::once(end()));
    let responses = app
        .validate_claim_batch(tokio_stream::iter(requests))
        .await
        .expect("opens");
    // Not reading: the server stops taking items (the count stays the same
    // over ten looks in a row).
    let stalled = wait_settled(
        "the server to stop taking items",
        SETTLE_DEADLINE,
        10,
        async || pulled.load(Ordering::Relaxed),
    )
    .await;
    // What may be in flight is fixed by the pipeline, not the batch: the
    // queues (1,024 items read ahead, three chunks of at most 500, 1,024
    // responses) and the HTTP/2 windows both ways (about 1 MiB each, some
    // 3,000 items and 2,500 results), plus the client's encode buffer.
    assert!(
        stalled < 25_000,
        "the server holds a bounded number of items, not the batch: {stalled}"
    );
    let (responses, ended) = drain(responses).await;
    ended.expect("reading again completes the batch");
    check_order(&responses, 0, ITEMS - 1);
}

#[sqlx::test]
async fn shutdown_sends_a_final_checkpoint_then_unavailable(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let batch_id = Uuid::new_v4();
    let (requests, opened) = open_stream(&app, header(batch_id, false, None)).await;
    let mut responses = opened.expect("opens");
    for sequence in 0..600 {
        requests.send(item(sequence)).await.expect("queued");
    }
    until_checkpoint(&mut responses, 599).await;
    let shutdown = tokio::spawn(app.shutdown());
    let (rest, ended) = drain(responses).await;
    let status = ended.expect_err("the stream ends with an error");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        status.get_details_error_info().expect("info").reason,
        "SHUTTING_DOWN"
    );
    assert!(
        matches!(rest.last(), Some(Out::Checkpoint(c)) if c.durable_through_sequence == 599),
        "a final checkpoint before UNAVAILABLE: {rest:?}"
    );
    drop(requests);
    shutdown.await.expect("task").expect("clean shutdown");
}

#[sqlx::test]
async fn a_batch_survives_the_server_being_killed_mid_stream(pool: PgPool) {
    const ITEMS: u64 = 6_000;
    let url = pool_url(&pool);
    let connect = |address: String| async move {
        Api::new(
            Channel::from_shared(format!("http://{address}"))
                .expect("uri")
                .connect()
                .await
                .expect("connects"),
        )
    };
    // Two replicas on the database: the batch starts on A, which is
    // killed, and resumes on B, which was serving all along.
    let (mut server, address) = start_serve(&url, 2).await;
    let (_replica_b, address_b) = start_serve(&url, 2).await;
    let client = connect(address).await;
    let batch_id = Uuid::new_v4();
    let (requests, opened) = open_stream(&client, header(batch_id, false, Some(ITEMS))).await;
    let mut responses = opened.expect("opens");
    let feeder = feed(requests, 0..ITEMS, false);
    until_checkpoint(&mut responses, 1_500).await;
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("killed");
    feeder.abort();

    let client = connect(address_b).await;
    let (responses, next) = resume_and_finish(&client, batch_id, ITEMS).await;
    assert!(
        next > 1_500,
        "the stored items are not sent again: next {next}"
    );
    check_order(&responses, next, ITEMS - 1);
    check_stored(&stored_results(&client, batch_id, 1_000).await, ITEMS);
    assert_stored_exactly_once(
        &pool,
        batch_id,
        ITEMS,
        "exactly one record per sequence after the kill",
    )
    .await;
}

#[sqlx::test]
async fn an_idle_stream_is_closed_after_a_final_checkpoint_and_resumes(pool: PgPool) {
    const ITEMS: u64 = 300;
    let mut settings = test_settings();
    settings.stream_idle_timeout_secs = 2;
    let app = spawn_app_with(pool.clone(), settings).await;
    let batch_id = Uuid::new_v4();
    let (requests, opened) = open_stream(&app, header(batch_id, false, Some(ITEMS))).await;
    let responses = opened.expect("opens");
    for sequence in 0..100 {
        requests.send(item(sequence)).await.expect("queued");
    }
    // The client then sends nothing, and does not end the batch.
    let (rest, ended) = drain(responses).await;
    let status = ended.expect_err("the idle stream is closed");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(
        status.get_details_error_info().expect("info").reason,
        "STREAM_IDLE"
    );
    let Some(Out::Checkpoint(last)) = rest.last() else {
        panic!("a final checkpoint before the close: {rest:?}");
    };
    let durable = last.durable_through_sequence;
    drop(requests);

    // Resumed on another instance, whose idle timeout no busy machine reaches.
    let other = spawn_app(pool.clone()).await;
    let (_, next) = resume_and_finish(&other, batch_id, ITEMS).await;
    assert_eq!(
        next,
        durable + 1,
        "the resume starts after the final checkpoint"
    );
    assert_stored_exactly_once(&pool, batch_id, ITEMS, "after an idle close").await;
}
