//! Hostile input over every RPC: oversized, NUL, control, SQL-looking and
//! full-width strings; NaN, infinite, negative and huge numbers; dates that
//! cannot exist; unknown enum values; pointers 0, 255 and 2^32-1; claims of
//! 10,000 lines and 5,000 diagnoses; garbage in batch streams; garbage page
//! tokens. The answer is never INTERNAL or UNKNOWN, the server stays up,
//! clean callers beside the hostile ones are unaffected, and the database
//! holds no half-records.
//!
//! By default each test runs against the in-process server. With
//! `CLAIMSCRUB_HOSTILE_ADDR` (and `CLAIMSCRUB_HOSTILE_DATABASE_URL` for the
//! row counts) it attacks a running release binary instead:
//! `scripts/hostile.sh` starts one and runs this suite against it.

use std::time::Duration;

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use claimscrub::grpc::pb::validate_claim_batch_request::Kind as In;
use claimscrub::grpc::pb::validate_claim_batch_response::Kind as Out;
use futures::StreamExt as _;
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;
use uuid::Uuid;

use crate::helpers::{Api, TestApp, assert_invalid_field, drain, excision_claim, spawn_app};

/// The server under attack and its database.
struct Target {
    channel: Channel,
    api: Api,
    pool: PgPool,
    _app: Option<TestApp>,
}

async fn target(pool: PgPool) -> Target {
    let Ok(address) = std::env::var("CLAIMSCRUB_HOSTILE_ADDR") else {
        let app = spawn_app(pool.clone()).await;
        return Target {
            channel: app.channel.clone(),
            api: Api::new(app.channel.clone()),
            pool,
            _app: Some(app),
        };
    };
    let url = std::env::var("CLAIMSCRUB_HOSTILE_DATABASE_URL")
        .expect("CLAIMSCRUB_HOSTILE_DATABASE_URL names the attacked server's database");
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("the attacked server answers");
    Target {
        api: Api::new(channel.clone()),
        channel,
        pool: PgPool::connect(&url).await.expect("its database"),
        _app: None,
    }
}

impl std::ops::Deref for Target {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Target {
    /// The server still serves: health says so and a clean claim decides.
    async fn assert_up(&self) {
        let mut health = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        let serving = health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("health answers")
            .into_inner();
        assert_eq!(serving.status, 1, "SERVING");
        self.validate_claim(pb::ValidateClaimRequest {
            request_id: String::new(),
            claim: Some(excision_claim("CLM-UP", "", 3.5)),
        })
        .await
        .expect("a clean claim still decides");
    }

    /// Rows of the audit tables, to compare before and after.
    async fn counts(&self) -> Counts {
        let count = |sql: &'static str| {
            let pool = self.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count")
            }
        };
        Counts {
            records: count("select count(*) from audit_record").await,
            requests: count("select count(*) from audit_request").await,
            items: count("select count(*) from batch_item").await,
        }
    }

    /// No request id without its record, no batch item without its record.
    async fn assert_no_half_records(&self) {
        let orphans: i64 = sqlx::query_scalar(
            "select (select count(*) from audit_request r \
                      where not exists (select 1 from audit_record a where a.id = r.audit_record_id)) \
                  + (select count(*) from batch_item b \
                      where b.audit_record_id is not null \
                        and not exists (select 1 from audit_record a where a.id = b.audit_record_id))",
        )
        .fetch_one(&self.pool)
        .await
        .expect("orphan count");
        assert_eq!(orphans, 0, "half-stored decisions");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    records: i64,
    requests: i64,
    items: i64,
}

/// The answer to hostile input: anything but INTERNAL or UNKNOWN.
fn assert_not_internal(what: &str, result: &Result<(), Status>) {
    if let Err(status) = result {
        assert!(
            !matches!(status.code(), Code::Internal | Code::Unknown),
            "{what}: {status:?}"
        );
    }
}

/// INVALID_ARGUMENT whose BadRequest names `field`.
#[track_caller]
fn assert_refused(what: &str, result: Result<(), Status>, field: &str) {
    assert_invalid_field(&result.expect_err(what), field);
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// A claim of one member, distinct per `n`, with a 3.5 cm benign excision.
fn clean(n: usize) -> pb::Claim {
    excision_claim(&format!("CLM-H-{n}"), &format!("MBR-H-{n}"), 3.5)
}

type Mutation = fn(&mut pb::Claim);

/// Each mutation makes a claim an 837P could not carry; the answer names
/// the field.
fn refused_claims() -> Vec<(&'static str, Mutation, &'static str)> {
    fn line(c: &mut pb::Claim) -> &mut pb::ServiceLine {
        &mut c.lines[0]
    }
    vec![
        (
            "claim id of 39",
            |c| c.claim_id = "C".repeat(39),
            "claim.claim_id",
        ),
        (
            "claim id of 300,000",
            |c| c.claim_id = "C".repeat(300_000),
            "claim.claim_id",
        ),
        (
            "NUL in the claim id",
            |c| c.claim_id = "CLM\0-1".into(),
            "claim.claim_id",
        ),
        (
            "escape in the claim id",
            |c| c.claim_id = "CLM\u{1b}[2J".into(),
            "claim.claim_id",
        ),
        (
            "C1 control in the claim id",
            |c| c.claim_id = "CLM\u{85}".into(),
            "claim.claim_id",
        ),
        (
            "member id of 81",
            |c| patient(c).member_id = "M".repeat(81),
            "claim.patient.member_id",
        ),
        (
            "NUL in the member id",
            |c| patient(c).member_id = "M\0".into(),
            "claim.patient.member_id",
        ),
        (
            "SQL in the procedure code",
            |c| line(c).procedure_code = "11404'; drop table audit_record;--".into(),
            "claim.lines[0].procedure_code",
        ),
        (
            "full-width procedure code",
            |c| line(c).procedure_code = "１１４０４".into(),
            "claim.lines[0].procedure_code",
        ),
        (
            "procedure code of 49",
            |c| line(c).procedure_code = "1".repeat(49),
            "claim.lines[0].procedure_code",
        ),
        (
            "modifier of 3",
            |c| line(c).modifiers = vec!["XSS".into()],
            "claim.lines[0].modifiers[0]",
        ),
        (
            "modifier of 1",
            |c| line(c).modifiers = vec!["X".into()],
            "claim.lines[0].modifiers[0]",
        ),
        (
            "empty modifier",
            |c| line(c).modifiers = vec![String::new()],
            "claim.lines[0].modifiers[0]",
        ),
        (
            "NUL modifier",
            |c| line(c).modifiers = vec!["X\0".into()],
            "claim.lines[0].modifiers[0]",
        ),
        (
            "full-width modifier",
            |c| line(c).modifiers = vec!["ＸＳ".into()],
            "claim.lines[0].modifiers[0]",
        ),
        (
            "five modifiers",
            |c| line(c).modifiers = vec!["XS".into(); 5],
            "claim.lines[0].modifiers",
        ),
        (
            "full-width diagnosis",
            |c| c.diagnosis_codes = vec!["Ｄ23.5".into()],
            "claim.diagnosis_codes[0]",
        ),
        (
            "diagnosis of 31",
            |c| c.diagnosis_codes = vec!["D".repeat(31)],
            "claim.diagnosis_codes[0]",
        ),
        (
            "NUL in a diagnosis",
            |c| c.diagnosis_codes = vec!["D23.5\0".into()],
            "claim.diagnosis_codes[0]",
        ),
        (
            "13 diagnoses",
            |c| c.diagnosis_codes = vec!["D23.5".into(); 13],
            "claim.diagnosis_codes",
        ),
        (
            "5,000 diagnoses",
            |c| c.diagnosis_codes = vec!["D23.5".into(); 5_000],
            "claim.diagnosis_codes",
        ),
        (
            "NUL in the payer",
            |c| c.payer_id = "BCBS\0".into(),
            "claim.payer_id",
        ),
        (
            "SQL in the payer",
            |c| c.payer_id = "BCBS' or '1'='1".into(),
            "claim.payer_id",
        ),
        (
            "place of service of 3",
            |c| c.place_of_service = "111".into(),
            "claim.place_of_service",
        ),
        (
            "line place of service with NUL",
            |c| line(c).place_of_service = Some("1\0".into()),
            "claim.lines[0].place_of_service",
        ),
        (
            "NUL in the NPI",
            |c| provider(c).npi = "12345\0".into(),
            "claim.rendering_provider.npi",
        ),
        (
            "dash in the taxonomy",
            |c| provider(c).taxonomy_code = "207N-0000X".into(),
            "claim.rendering_provider.taxonomy_code",
        ),
        (
            "NUL in the anatomic site",
            |c| line(c).anatomic_site = "trunk\0".into(),
            "claim.lines[0].anatomic_site",
        ),
        (
            "pointer 0",
            |c| line(c).diagnosis_pointers = vec![0],
            "claim.lines[0].diagnosis_pointers[0]",
        ),
        (
            "pointer 13",
            |c| line(c).diagnosis_pointers = vec![13],
            "claim.lines[0].diagnosis_pointers[0]",
        ),
        (
            "pointer 255",
            |c| line(c).diagnosis_pointers = vec![255],
            "claim.lines[0].diagnosis_pointers[0]",
        ),
        (
            "pointer 2^32-1",
            |c| line(c).diagnosis_pointers = vec![u32::MAX],
            "claim.lines[0].diagnosis_pointers[0]",
        ),
        (
            "five pointers",
            |c| line(c).diagnosis_pointers = vec![1; 5],
            "claim.lines[0].diagnosis_pointers",
        ),
        (
            "10,000 units",
            |c| line(c).units = 10_000,
            "claim.lines[0].units",
        ),
        (
            "2^32-1 units",
            |c| line(c).units = u32::MAX,
            "claim.lines[0].units",
        ),
        (
            "NaN diameter",
            |c| line(c).excised_diameter_cm = Some(f64::NAN),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "infinite diameter",
            |c| line(c).excised_diameter_cm = Some(f64::INFINITY),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "minus infinite diameter",
            |c| line(c).excised_diameter_cm = Some(f64::NEG_INFINITY),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "negative diameter",
            |c| line(c).excised_diameter_cm = Some(-1.0),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "zero diameter",
            |c| line(c).excised_diameter_cm = Some(0.0),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "huge diameter",
            |c| line(c).excised_diameter_cm = Some(f64::MAX),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "diameter of 100.01",
            |c| line(c).excised_diameter_cm = Some(100.01),
            "claim.lines[0].excised_diameter_cm",
        ),
        (
            "NaN repair length",
            |c| line(c).repair_length_cm = Some(f64::NAN),
            "claim.lines[0].repair_length_cm",
        ),
        (
            "February 30",
            |c| c.date_of_service = date(2026, 2, 30),
            "claim.date_of_service",
        ),
        (
            "month 13",
            |c| c.date_of_service = date(2026, 13, 1),
            "claim.date_of_service",
        ),
        (
            "year 0",
            |c| c.date_of_service = date(0, 0, 0),
            "claim.date_of_service",
        ),
        (
            "year 10000",
            |c| c.date_of_service = date(10_000, 1, 1),
            "claim.date_of_service",
        ),
        (
            "negative day",
            |c| c.date_of_service = date(2026, 1, -1),
            "claim.date_of_service",
        ),
        (
            "birth on February 29 of 1970",
            |c| patient(c).birth_date = date(1970, 2, 29),
            "claim.patient.birth_date",
        ),
        (
            "line date of i32::MAX",
            |c| line(c).date_of_service = date(i32::MAX, i32::MAX, i32::MAX),
            "claim.lines[0].date_of_service",
        ),
        ("sex 99", |c| patient(c).sex = 99, "claim.patient.sex"),
        (
            "laterality -1",
            |c| line(c).laterality = -1,
            "claim.lines[0].laterality",
        ),
        (
            "indication 999",
            |c| line(c).documented_indications = vec![999],
            "claim.lines[0].documented_indications[0]",
        ),
        (
            "indication unspecified",
            |c| line(c).documented_indications = vec![0],
            "claim.lines[0].documented_indications[0]",
        ),
        (
            "51 lines",
            |c| c.lines = vec![c.lines[0].clone(); 51],
            "claim.lines",
        ),
        (
            "10,000 lines",
            |c| c.lines = vec![c.lines[0].clone(); 10_000],
            "claim.lines",
        ),
    ]
}

fn patient(claim: &mut pb::Claim) -> &mut pb::Patient {
    claim.patient.get_or_insert_default()
}

fn provider(claim: &mut pb::Claim) -> &mut pb::Provider {
    claim.rendering_provider.get_or_insert_default()
}

async fn validate(
    target: &Target,
    request_id: &str,
    claim: pb::Claim,
) -> Result<pb::ValidationResult, Status> {
    target
        .validate_claim(pb::ValidateClaimRequest {
            request_id: request_id.into(),
            claim: Some(claim),
        })
        .await
        .map(|r| r.result.expect("result"))
}

#[sqlx::test]
async fn claims_an_837p_cannot_carry_are_refused_naming_the_field(pool: PgPool) {
    let target = target(pool).await;
    let before = target.counts().await;
    for (i, (what, mutate, field)) in refused_claims().into_iter().enumerate() {
        let mut claim = clean(i);
        mutate(&mut claim);
        assert_refused(
            what,
            validate(&target, &format!("hostile-{}", Uuid::new_v4()), claim)
                .await
                .map(drop),
            field,
        );
    }
    assert_eq!(target.counts().await, before, "nothing refused is stored");
    target.assert_up().await;
}

#[sqlx::test]
async fn every_offending_field_is_named_at_once(pool: PgPool) {
    let target = target(pool).await;
    let mut claim = clean(0);
    claim.claim_id = "C\0".into();
    claim.lines[0].units = 10_000;
    claim.lines[0].modifiers = vec!["XSX".into()];
    claim.diagnosis_codes = vec!["Ｄ23.5".into()];
    let status = target
        .validate_claim(pb::ValidateClaimRequest {
            request_id: "bad\0id".into(),
            claim: Some(claim),
        })
        .await
        .expect_err("refused");
    let mut fields: Vec<String> = status
        .get_details_bad_request()
        .expect("BadRequest")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "claim.claim_id",
            "claim.diagnosis_codes[0]",
            "claim.lines[0].modifiers[0]",
            "claim.lines[0].units",
            "request_id"
        ]
    );
}

#[sqlx::test]
async fn what_an_837p_can_carry_is_a_finding_not_an_error(pool: PgPool) {
    let target = target(pool).await;
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "pointer past the last diagnosis",
            |c| c.lines[0].diagnosis_pointers = vec![3],
            "DX_POINTER_INVALID",
        ),
        ("zero units", |c| c.lines[0].units = 0, "UNITS_ZERO"),
        ("empty claim id", |c| c.claim_id.clear(), "CLAIM_STRUCTURE"),
        ("no lines", |c| c.lines.clear(), "CLAIM_STRUCTURE"),
    ];
    for (i, (what, mutate, rule)) in cases.into_iter().enumerate() {
        let mut claim = clean(100 + i);
        mutate(&mut claim);
        let result = validate(&target, "", claim)
            .await
            .unwrap_or_else(|s| panic!("{what}: {s:?}"));
        assert!(
            result.findings.iter().any(|f| f.rule_id == rule),
            "{what}: {rule} in {:?}",
            result.findings
        );
    }
    // Text that looks like SQL is only text: stored and returned as sent.
    let mut claim = clean(200);
    claim.claim_id = "x'); drop table audit_record;--".into();
    let result = validate(&target, "", claim).await.expect("decided");
    let record = target
        .get_audit_record(pb::GetAuditRecordRequest {
            name: format!("auditRecords/{}", result.audit_record_id),
        })
        .await
        .expect("stored")
        .audit_record
        .expect("record");
    assert_eq!(
        record.claim.expect("claim").claim_id,
        "x'); drop table audit_record;--"
    );
}

/// One hostile claim per kind the door refuses, for the mixed workloads.
fn hostile(n: usize) -> pb::Claim {
    let mut claim = clean(n);
    match n % 3 {
        0 => claim.claim_id = format!("CLM\0{n}"),
        1 => claim.claim_id = "C".repeat(300_000),
        _ => claim.patient.get_or_insert_default().member_id = format!("M\0{n}"),
    }
    claim
}

#[sqlx::test]
async fn hostile_callers_beside_clean_ones_fail_no_clean_claim(pool: PgPool) {
    const CALLS: usize = 1_600;
    let target = target(pool).await;
    let before = target.counts().await;
    let client: &Api = &target;
    let answers: Vec<(bool, Result<pb::ValidationResult, Status>)> =
        futures::stream::iter(0..CALLS)
            .map(|i| async move {
                let is_hostile = i % 16 == 7;
                let claim = if is_hostile {
                    hostile(i)
                } else {
                    clean(1_000 + i)
                };
                let answer = client
                    .validate_claim(pb::ValidateClaimRequest {
                        request_id: format!("mixed-{}", Uuid::new_v4()),
                        claim: Some(claim),
                    })
                    .await
                    .map(|r| r.result.expect("result"));
                (is_hostile, answer)
            })
            .buffer_unordered(64)
            .collect()
            .await;
    let clean_failures: Vec<&Status> = answers
        .iter()
        .filter(|(h, _)| !h)
        .filter_map(|(_, a)| a.as_ref().err())
        .collect();
    assert!(
        clean_failures.is_empty(),
        "clean claims failed: {clean_failures:?}"
    );
    let hostile_answers: Vec<Code> = answers
        .iter()
        .filter(|(h, _)| *h)
        .map(|(_, a)| a.as_ref().map_or_else(Status::code, |_| Code::Ok))
        .collect();
    assert!(
        hostile_answers.iter().all(|c| *c == Code::InvalidArgument),
        "{hostile_answers:?}"
    );
    let clean_count = i64::try_from(CALLS - hostile_answers.len()).expect("count");
    let after = target.counts().await;
    assert_eq!(after.records - before.records, clean_count);
    assert_eq!(after.requests - before.requests, clean_count);
    target.assert_no_half_records().await;
    target.assert_up().await;
}

fn header(batch_id: Uuid) -> pb::ValidateClaimBatchRequest {
    pb::ValidateClaimBatchRequest {
        kind: Some(In::Header(pb::BatchHeader {
            batch_id: batch_id.to_string(),
            resume: false,
            expected_item_count: None,
        })),
    }
}

fn item(
    sequence: u64,
    claim: Option<pb::Claim>,
    correlation_id: String,
) -> pb::ValidateClaimBatchRequest {
    pb::ValidateClaimBatchRequest {
        kind: Some(In::Item(pb::ClaimItem {
            sequence,
            correlation_id,
            claim,
        })),
    }
}

async fn stream(
    target: &Target,
    requests: Vec<pb::ValidateClaimBatchRequest>,
) -> (Vec<Out>, Result<(), Status>) {
    match target
        .validate_claim_batch(tokio_stream::iter(requests))
        .await
    {
        Ok(responses) => drain(responses).await,
        Err(status) => (Vec::new(), Err(status)),
    }
}

#[sqlx::test]
async fn hostile_batch_items_become_item_errors_and_the_stream_goes_on(pool: PgPool) {
    const ITEMS: u64 = 1_200;
    let target = target(pool).await;
    let before = target.counts().await;
    let batch_id = Uuid::new_v4();
    let mut requests = vec![header(batch_id)];
    for sequence in 0..ITEMS {
        let n = usize::try_from(sequence).expect("n");
        let (claim, correlation_id) = match sequence % 50 {
            7 => (hostile(n), format!("C-{sequence}")),
            8 => {
                let mut claim = clean(5_000 + n);
                claim.lines = vec![claim.lines[0].clone(); 10_000];
                (claim, format!("C-{sequence}"))
            }
            9 => (clean(5_000 + n), format!("C\0{sequence}")),
            _ => (clean(5_000 + n), format!("C-{sequence}")),
        };
        requests.push(item(sequence, Some(claim), correlation_id));
        // A resent item (a sequence already taken) is skipped, not doubled.
        if sequence % 100 == 11 {
            requests.push(item(
                sequence,
                Some(clean(5_000 + n)),
                format!("C-{sequence}"),
            ));
        }
    }
    requests.push(pb::ValidateClaimBatchRequest {
        kind: Some(In::End(pb::BatchEnd {})),
    });
    let (responses, ended) = stream(&target, requests).await;
    ended.expect("the stream completes");
    let errors: Vec<&pb::ItemError> = responses
        .iter()
        .filter_map(|r| match r {
            Out::ItemError(e) => Some(e),
            _ => None,
        })
        .collect();
    let results = responses
        .iter()
        .filter(|r| matches!(r, Out::Result(_)))
        .count();
    let bad = (0..ITEMS).filter(|s| [7, 8, 9].contains(&(s % 50))).count();
    assert_eq!(errors.len(), bad);
    assert_eq!(results + errors.len(), usize::try_from(ITEMS).expect("n"));
    for error in &errors {
        let status = error.status.as_ref().expect("status");
        assert_eq!(status.code, Code::InvalidArgument as i32, "{status:?}");
        assert!(
            !error.correlation_id.contains('\0'),
            "a refused correlation id is not echoed"
        );
    }
    let Some(Out::Summary(summary)) = responses.last() else {
        panic!("summary last");
    };
    let counts = summary.counts.expect("counts");
    assert_eq!(counts.items_received, ITEMS);
    assert_eq!(counts.item_errors, bad as u64);
    let after = target.counts().await;
    assert_eq!(after.items - before.items, i64::try_from(ITEMS).expect("n"));
    assert_eq!(
        after.records - before.records,
        i64::try_from(results).expect("n")
    );
    target.assert_no_half_records().await;
    target.assert_up().await;
}

#[sqlx::test]
async fn broken_batch_protocols_are_refused_not_crashed(pool: PgPool) {
    let target = target(pool).await;
    // Garbage after the header: a second header.
    let batch_id = Uuid::new_v4();
    let (responses, ended) = stream(
        &target,
        vec![
            header(batch_id),
            item(0, Some(clean(9_000)), "C-0".into()),
            header(batch_id),
            item(1, Some(clean(9_001)), "C-1".into()),
        ],
    )
    .await;
    assert_eq!(ended.expect_err("refused").code(), Code::InvalidArgument);
    assert!(responses.iter().any(|r| matches!(r, Out::Result(_))));
    // An item first, no header at all.
    let (_, ended) = stream(&target, vec![item(0, Some(clean(9_002)), "C".into())]).await;
    assert_eq!(ended.expect_err("refused").code(), Code::InvalidArgument);
    // A message with nothing in it, after the header.
    let (_, ended) = stream(
        &target,
        vec![
            header(Uuid::new_v4()),
            pb::ValidateClaimBatchRequest { kind: None },
        ],
    )
    .await;
    assert_eq!(ended.expect_err("refused").code(), Code::InvalidArgument);
    // Header ids that are not UUIDs.
    for batch_id in ["", "not-a-uuid", "\0", &"9".repeat(100_000)] {
        let (_, ended) = stream(
            &target,
            vec![pb::ValidateClaimBatchRequest {
                kind: Some(In::Header(pb::BatchHeader {
                    batch_id: batch_id.into(),
                    ..Default::default()
                })),
            }],
        )
        .await;
        assert_eq!(ended.expect_err("refused").code(), Code::InvalidArgument);
    }
    // A sequence far ahead: a gap, refused after what came before.
    let (_, ended) = stream(
        &target,
        vec![
            header(Uuid::new_v4()),
            item(u64::MAX, Some(clean(9_003)), "C".into()),
        ],
    )
    .await;
    assert_eq!(ended.expect_err("gap").code(), Code::OutOfRange);
    target.assert_no_half_records().await;
    target.assert_up().await;
}

/// Strings every text field of the other RPCs is tried with.
fn hostile_strings() -> Vec<String> {
    vec![
        "\0".into(),
        "D23.5\0".into(),
        "\u{7}\u{1b}[31m".into(),
        "x".repeat(300_000),
        "'; drop table audit_record;--".into(),
        "１１４０４".into(),
        "\u{202e}11404".into(),
        String::new(),
    ]
}

/// Calls every RPC but ValidateClaim and the batch stream with hostile
/// strings, numbers, enums and tokens; none may answer INTERNAL or UNKNOWN.
#[sqlx::test]
async fn no_rpc_answers_internal_to_hostile_input(pool: PgPool) {
    let target = target(pool).await;
    let today = date(2026, 1, 15);
    for text in hostile_strings() {
        let t = text.as_str();
        let results: Vec<(&str, Result<(), Status>)> = vec![
            (
                "LookupCode",
                target
                    .lookup_code(pb::LookupCodeRequest {
                        system: 1,
                        code: t.into(),
                        date_of_service: today,
                    })
                    .await
                    .map(drop),
            ),
            (
                "ValidateCode",
                target
                    .validate_code(pb::ValidateCodeRequest {
                        system: 3,
                        code: t.into(),
                        date_of_service: today,
                    })
                    .await
                    .map(drop),
            ),
            (
                "BatchValidateCodes",
                target
                    .batch_validate_codes(pb::BatchValidateCodesRequest {
                        requests: vec![pb::ValidateCodeRequest {
                            system: 3,
                            code: t.into(),
                            date_of_service: today,
                        }],
                    })
                    .await
                    .map(drop),
            ),
            (
                "SearchCodes query",
                target
                    .search_codes(pb::SearchCodesRequest {
                        system: 3,
                        query: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "SearchCodes token",
                target
                    .search_codes(pb::SearchCodesRequest {
                        system: 3,
                        query: "melanocytic".into(),
                        page_token: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "GetProcedureProfile code",
                target
                    .get_procedure_profile(pb::GetProcedureProfileRequest {
                        code: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "GetProcedureProfile payer",
                target
                    .get_procedure_profile(pb::GetProcedureProfileRequest {
                        code: "11404".into(),
                        payer_id: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "SuggestProcedureCode",
                target
                    .suggest_procedure_code(pb::SuggestProcedureCodeRequest {
                        lesion_behavior: 1,
                        anatomic_site: t.into(),
                        excised_diameter_cm: 1.0,
                        date_of_service: today,
                    })
                    .await
                    .map(drop),
            ),
            (
                "ListCodeSystemVersions",
                target
                    .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
                        page_token: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "GetCodeSystemVersion",
                target
                    .get_code_system_version(pb::GetCodeSystemVersionRequest { name: t.into() })
                    .await
                    .map(drop),
            ),
            (
                "GetBatch",
                target
                    .get_batch(pb::GetBatchRequest { name: t.into() })
                    .await
                    .map(drop),
            ),
            (
                "ListBatchResults parent",
                target
                    .list_batch_results(pb::ListBatchResultsRequest {
                        parent: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "ListRules",
                target
                    .list_rules(pb::ListRulesRequest {
                        payer_id: t.into(),
                        effective_date: today,
                    })
                    .await
                    .map(drop),
            ),
            (
                "GetAuditRecord",
                target
                    .get_audit_record(pb::GetAuditRecordRequest { name: t.into() })
                    .await
                    .map(drop),
            ),
            (
                "ReplayAuditRecord",
                target
                    .replay_audit_record(pb::ReplayAuditRecordRequest { name: t.into() })
                    .await
                    .map(drop),
            ),
            (
                "ListAuditRecords token",
                target
                    .list_audit_records(pb::ListAuditRecordsRequest {
                        page_token: t.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
        ];
        for (what, result) in &results {
            assert_not_internal(&format!("{what} with {:?}", truncated(t)), result);
        }
        for field in [
            "claim_id",
            "batch_id",
            "submitter",
            "payer_id",
            "rule_id",
            "procedure_code",
            "diagnosis_code",
        ] {
            let filter = audit_filter(field, t);
            let listed = target
                .list_audit_records(pb::ListAuditRecordsRequest {
                    filter: Some(filter.clone()),
                    ..Default::default()
                })
                .await
                .map(drop);
            assert_not_internal(
                &format!("ListAuditRecords {field} {:?}", truncated(t)),
                &listed,
            );
            let stats = target
                .get_audit_stats(pb::GetAuditStatsRequest {
                    filter: Some(filter.clone()),
                    group_by: 1,
                })
                .await
                .map(drop);
            assert_not_internal(&format!("GetAuditStats {field}"), &stats);
            let exported = match target
                .export_audit_records(pb::ExportAuditRecordsRequest {
                    filter: Some(filter),
                })
                .await
            {
                Ok(stream) => stream
                    .map(|m| m.map(drop))
                    .collect::<Vec<_>>()
                    .await
                    .into_iter()
                    .collect(),
                Err(status) => Err(status),
            };
            assert_not_internal(&format!("ExportAuditRecords {field}"), &exported);
        }
    }
    // Control characters and what is not ASCII in a code are refused, by name.
    assert_refused(
        "NUL code",
        target
            .lookup_code(pb::LookupCodeRequest {
                system: 1,
                code: "11404\0".into(),
                date_of_service: today,
            })
            .await
            .map(drop),
        "code",
    );
    assert_refused(
        "full-width code",
        target
            .validate_code(pb::ValidateCodeRequest {
                system: 1,
                code: "１１４０４".into(),
                date_of_service: today,
            })
            .await
            .map(drop),
        "code",
    );
    assert_refused(
        "NUL query",
        target
            .search_codes(pb::SearchCodesRequest {
                system: 3,
                query: "a\0".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "query",
    );
    assert_refused(
        "second code",
        target
            .batch_validate_codes(pb::BatchValidateCodesRequest {
                requests: vec![
                    pb::ValidateCodeRequest {
                        system: 3,
                        code: "D23.5".into(),
                        date_of_service: today,
                    },
                    pb::ValidateCodeRequest {
                        system: 3,
                        code: "D\u{7}".into(),
                        date_of_service: today,
                    },
                ],
            })
            .await
            .map(drop),
        "requests[1].code",
    );
    assert_refused(
        "NUL payer",
        target
            .list_rules(pb::ListRulesRequest {
                payer_id: "BCBS\0".into(),
                effective_date: today,
            })
            .await
            .map(drop),
        "payer_id",
    );
    assert_refused(
        "NUL filter",
        target
            .list_audit_records(pb::ListAuditRecordsRequest {
                filter: Some(audit_filter("claim_id", "\0")),
                ..Default::default()
            })
            .await
            .map(drop),
        "filter.claim_id",
    );
    assert_refused(
        "NaN diameter",
        target
            .suggest_procedure_code(pb::SuggestProcedureCodeRequest {
                lesion_behavior: 1,
                anatomic_site: "trunk".into(),
                excised_diameter_cm: f64::NAN,
                date_of_service: today,
            })
            .await
            .map(drop),
        "excised_diameter_cm",
    );
    assert_refused(
        "lesion behaviour 99",
        target
            .suggest_procedure_code(pb::SuggestProcedureCodeRequest {
                lesion_behavior: 99,
                anatomic_site: "trunk".into(),
                excised_diameter_cm: 1.0,
                date_of_service: today,
            })
            .await
            .map(drop),
        "lesion_behavior",
    );
    // Numbers, enums and dates outside their range.
    let numbers: Vec<(&str, Result<(), Status>)> = vec![
        (
            "system 99",
            target
                .lookup_code(pb::LookupCodeRequest {
                    system: 99,
                    code: "11404".into(),
                    date_of_service: today,
                })
                .await
                .map(drop),
        ),
        (
            "system -1",
            target
                .validate_code(pb::ValidateCodeRequest {
                    system: -1,
                    code: "11404".into(),
                    date_of_service: today,
                })
                .await
                .map(drop),
        ),
        (
            "impossible date",
            target
                .lookup_code(pb::LookupCodeRequest {
                    system: 1,
                    code: "11404".into(),
                    date_of_service: date(2026, 2, 31),
                })
                .await
                .map(drop),
        ),
        (
            "page size -1",
            target
                .search_codes(pb::SearchCodesRequest {
                    system: 3,
                    query: "nevus".into(),
                    page_size: -1,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "page size i32::MIN",
            target
                .list_audit_records(pb::ListAuditRecordsRequest {
                    page_size: i32::MIN,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "disposition 99",
            target
                .list_audit_records(pb::ListAuditRecordsRequest {
                    filter: Some(pb::AuditFilter {
                        disposition: 99,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "timestamp nanos -1",
            target
                .list_audit_records(pb::ListAuditRecordsRequest {
                    filter: Some(pb::AuditFilter {
                        start_time: Some(prost_types::Timestamp {
                            seconds: i64::MAX,
                            nanos: -1,
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "group by 99",
            target
                .get_audit_stats(pb::GetAuditStatsRequest {
                    group_by: 99,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "diameter infinite",
            target
                .suggest_procedure_code(pb::SuggestProcedureCodeRequest {
                    lesion_behavior: 1,
                    anatomic_site: "trunk".into(),
                    excised_diameter_cm: f64::INFINITY,
                    date_of_service: today,
                })
                .await
                .map(drop),
        ),
        (
            "rules on year 0",
            target
                .list_rules(pb::ListRulesRequest {
                    payer_id: String::new(),
                    effective_date: date(0, 0, 0),
                })
                .await
                .map(drop),
        ),
        (
            "batch results page size -5",
            target
                .list_batch_results(pb::ListBatchResultsRequest {
                    parent: format!("batches/{}", Uuid::new_v4()),
                    page_size: -5,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ];
    for (what, result) in numbers {
        assert_refused_any(what, result);
    }
    target.assert_up().await;
}

fn assert_refused_any(what: &str, result: Result<(), Status>) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
}

fn truncated(text: &str) -> String {
    text.chars().take(20).collect()
}

fn audit_filter(field: &str, value: &str) -> pb::AuditFilter {
    let mut filter = pb::AuditFilter::default();
    let slot = match field {
        "claim_id" => &mut filter.claim_id,
        "batch_id" => &mut filter.batch_id,
        "submitter" => &mut filter.submitter,
        "payer_id" => &mut filter.payer_id,
        "rule_id" => &mut filter.rule_id,
        "procedure_code" => &mut filter.procedure_code,
        _ => &mut filter.diagnosis_code,
    };
    *slot = value.into();
    filter
}

#[sqlx::test]
async fn page_tokens_that_are_garbage_oversized_or_from_another_filter_are_refused(pool: PgPool) {
    let target = target(pool).await;
    for i in 0..3 {
        validate(&target, "", clean(7_000 + i))
            .await
            .expect("decided");
    }
    let first = target
        .list_audit_records(pb::ListAuditRecordsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("page");
    assert!(!first.next_page_token.is_empty());
    let tokens = [
        "garbage".to_owned(),
        "A".repeat(1_000_000),
        "%%%".to_owned(),
        first.next_page_token.clone(),
    ];
    for (i, token) in tokens.iter().enumerate() {
        // The last token is valid, but only without a filter.
        let filter = (i == 3).then(|| pb::AuditFilter {
            payer_id: "BCBS".into(),
            ..Default::default()
        });
        let refused = target
            .list_audit_records(pb::ListAuditRecordsRequest {
                page_size: 1,
                page_token: token.clone(),
                filter,
            })
            .await
            .map(drop);
        assert_refused(&format!("token {i}"), refused, "page_token");
    }
    let refused = target
        .search_codes(pb::SearchCodesRequest {
            system: 3,
            query: "nevus".into(),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .map(drop);
    assert_refused(
        "a ListAuditRecords token in SearchCodes",
        refused,
        "page_token",
    );
    target.assert_up().await;
}

/// The largest claim the limits allow: every field at its longest, every
/// repeat at its count, and many findings.
fn largest_claim(claim_id: &str, member: usize) -> pb::Claim {
    let mut claim = clean(member);
    claim.claim_id = format!("{claim_id:C<38}");
    claim.diagnosis_codes = (0..12)
        .map(|i| format!("Z{i:02}.{}", "9".repeat(26)))
        .collect();
    let line = pb::ServiceLine {
        procedure_code: "9".repeat(48),
        modifiers: vec!["ZZ".into(), "ZY".into(), "ZX".into(), "ZW".into()],
        units: 9_999,
        diagnosis_pointers: vec![9, 10, 11, 12],
        excised_diameter_cm: Some(100.0),
        anatomic_site: "s".repeat(128),
        laterality: 3,
        repair_length_cm: Some(100.0),
        place_of_service: Some("99".into()),
        documented_indications: (1..=9).collect(),
        date_of_service: date(2026, 1, 15),
        quantity: String::new(),
    };
    claim.lines = vec![line; 50];
    claim
}

/// One record of the largest claim fits far inside the 1 MiB budget of a
/// message (and so inside the 4 MiB default limit of standard clients).
#[sqlx::test]
async fn the_largest_claim_the_limits_allow_fits_every_message(pool: PgPool) {
    let target = target(pool).await;
    let result = validate(&target, "", largest_claim("CLM-LARGEST-", 8_000))
        .await
        .expect("decided");
    let record = target
        .get_audit_record(pb::GetAuditRecordRequest {
            name: format!("auditRecords/{}", result.audit_record_id),
        })
        .await
        .expect("stored");
    let bytes = prost::Message::encoded_len(&record);
    let result_bytes = prost::Message::encoded_len(&result);
    eprintln!(
        "largest record: {bytes} bytes; its result {result_bytes} bytes, {} findings",
        result.findings.len()
    );
    assert!(bytes < 256 * 1024, "{bytes} bytes");
}

/// Pages and export chunks are cut by bytes as well as by count: 40 of the
/// largest records (about 2 MB) come back in messages of at most 1 MiB of
/// records, each record exactly once.
#[sqlx::test]
async fn pages_and_export_chunks_are_cut_by_bytes(pool: PgPool) {
    const RECORDS: usize = 40;
    const BUDGET: usize = 1024 * 1024;
    let target = target(pool).await;
    let claim_id = format!("BIG-{}", &Uuid::new_v4().simple().to_string()[..12]);
    futures::stream::iter(0..RECORDS)
        .for_each_concurrent(8, |i| {
            let target = &target;
            let claim = largest_claim(&claim_id, 8_100 + i);
            async move {
                validate(target, "", claim).await.expect("decided");
            }
        })
        .await;
    let filter = pb::AuditFilter {
        claim_id: format!("{claim_id:C<38}"),
        ..Default::default()
    };
    let (mut seen, mut pages, mut token) = (std::collections::HashSet::new(), 0, String::new());
    loop {
        let page = target
            .list_audit_records(pb::ListAuditRecordsRequest {
                filter: Some(filter.clone()),
                page_size: 500,
                page_token: token,
            })
            .await
            .expect("page");
        assert!(
            prost::Message::encoded_len(&page) <= BUDGET + 1024,
            "a page within the budget"
        );
        pages += 1;
        for record in page.audit_records {
            assert!(seen.insert(record.id), "each record once");
        }
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), RECORDS);
    assert!(pages > 1, "the byte budget cut the page");
    let chunks: Vec<pb::ExportAuditRecordsResponse> = target
        .export_audit_records(pb::ExportAuditRecordsRequest {
            filter: Some(filter),
        })
        .await
        .expect("export")
        .map(|chunk| chunk.expect("chunk"))
        .collect()
        .await;
    assert!(chunks.len() > 1, "the byte budget cut the export");
    assert!(
        chunks
            .iter()
            .all(|c| prost::Message::encoded_len(c) <= BUDGET)
    );
    assert_eq!(
        chunks.iter().map(|c| c.audit_records.len()).sum::<usize>(),
        RECORDS
    );
}

/// Waits long enough for nothing: a request whose deadline passes is the
/// caller's, and must not poison the server for the next one.
#[sqlx::test]
async fn a_caller_that_gives_up_leaves_the_server_serving(pool: PgPool) {
    let target = target(pool).await;
    let mut request = tonic::Request::new(pb::ValidateClaimRequest {
        request_id: String::new(),
        claim: Some(clean(8_500)),
    });
    request.set_timeout(Duration::from_nanos(1));
    let answer = target.validate_claim(request).await.map(drop);
    assert_not_internal("a request past its deadline", &answer);
    target.assert_up().await;
}
