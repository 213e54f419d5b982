//! X12Service end to end: 837P files through the real server, answered with
//! a 999 and a 277CA that pyx12 validates, resumed without doubling, and
//! giving the same dispositions as the protobuf door.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::validate_interchange_response::Kind;
use claimscrub::grpc::pb::x12_service_client::X12ServiceClient;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::{BINARY, TestApp, shared_data, spawn_app, wait_settled};

#[path = "../../examples/common/generated_claims.rs"]
mod generated_claims;
#[path = "../../examples/common/json_lines.rs"]
mod json_lines;
#[path = "../../examples/common/x12_837.rs"]
pub(crate) mod x12_837;

/// The labelled sample as protobuf claims.
fn sample_claims(path: &Path) -> Vec<pb::Claim> {
    json_lines::lines(path)
        .iter()
        .map(generated_claims::claim)
        .collect()
}

/// Each claim's disposition and rules through ValidateClaimBatch, by
/// claim id; REFUSED for a claim the door refuses (an item error).
async fn batch_dispositions(
    app: &TestApp,
    claims: Vec<pb::Claim>,
) -> HashMap<String, (String, Vec<String>)> {
    use pb::validate_claim_batch_request::Kind as In;
    use pb::validate_claim_batch_response::Kind as Out;
    let mut requests = vec![pb::ValidateClaimBatchRequest {
        kind: Some(In::Header(pb::BatchHeader {
            batch_id: uuid::Uuid::new_v4().to_string(),
            resume: false,
            expected_item_count: Some(claims.len() as u64),
        })),
    }];
    for (sequence, claim) in claims.into_iter().enumerate() {
        requests.push(pb::ValidateClaimBatchRequest {
            kind: Some(In::Item(pb::ClaimItem {
                sequence: sequence as u64,
                correlation_id: claim.claim_id.clone(),
                claim: Some(claim),
            })),
        });
    }
    requests.push(pb::ValidateClaimBatchRequest {
        kind: Some(In::End(pb::BatchEnd {})),
    });
    let responses = app
        .validate_claim_batch(tokio_stream::iter(requests))
        .await
        .expect("batch opens");
    let (outputs, ending) = crate::helpers::drain(responses).await;
    ending.expect("batch completes");
    outputs
        .into_iter()
        .filter_map(|output| match output {
            Out::Result(result) => {
                let decision = result.result.expect("result");
                let rules = decision
                    .findings
                    .iter()
                    .map(|f| f.rule_id.clone())
                    .collect();
                Some((
                    result.correlation_id,
                    (decision.disposition().as_str_name().to_owned(), rules),
                ))
            }
            Out::ItemError(error) => {
                Some((error.correlation_id, ("REFUSED".to_owned(), Vec::new())))
            }
            _ => None,
        })
        .collect()
}

/// What ValidateInterchange answered.
#[derive(Debug, Default)]
struct Answer {
    claims: Vec<pb::X12ClaimResult>,
    ack_999: String,
    ca_277: String,
    summary: Option<pb::InterchangeSummary>,
}

fn requests(bytes: &[u8], resume: bool) -> Vec<pb::ValidateInterchangeRequest> {
    let mut chunks: Vec<pb::ValidateInterchangeRequest> = bytes
        .chunks(64 * 1024)
        .map(|chunk| pb::ValidateInterchangeRequest {
            data: chunk.to_vec(),
            resume: false,
        })
        .collect();
    if chunks.is_empty() {
        chunks.push(pb::ValidateInterchangeRequest::default());
    }
    chunks[0].resume = resume;
    chunks
}

async fn send(app: &TestApp, bytes: &[u8], resume: bool) -> Result<Answer, tonic::Status> {
    let mut responses = X12ServiceClient::new(app.channel.clone())
        .max_decoding_message_size(8 * 1024 * 1024)
        .validate_interchange(tokio_stream::iter(requests(bytes, resume)))
        .await?
        .into_inner();
    let mut answer = Answer::default();
    while let Some(response) = responses.message().await? {
        match response.kind.expect("kind") {
            Kind::Claim(claim) => answer.claims.push(claim),
            Kind::Acknowledgement(piece) => match piece.kind() {
                pb::AcknowledgementKind::Implementation => answer.ack_999.push_str(&piece.text),
                _ => answer.ca_277.push_str(&piece.text),
            },
            Kind::Summary(summary) => answer.summary = Some(summary),
        }
    }
    Ok(answer)
}

/// pyx12's verdict on a file: Ok when it reports no error.
fn pyx12_accepts(text: &str, name: &str) -> Option<Result<(), String>> {
    let x12valid = crate::x12_fixtures::x12valid()?;
    let dir = std::env::temp_dir().join(format!("claimscrub-x12-acks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    let output = std::process::Command::new(&x12valid)
        .arg(&path)
        .output()
        .expect("run x12valid");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    Some(if stderr.contains("ERROR") || !stderr.contains(": OK") {
        Err(stderr)
    } else {
        Ok(())
    })
}

/// The STC01 categories the 277CA gives each claim (by CLM01).
fn statuses(ca_277: &str) -> HashMap<String, Vec<String>> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    let mut claim = None;
    let mut patient_level = false;
    for segment in ca_277.split('~').map(str::trim) {
        let fields: Vec<&str> = segment.split('*').collect();
        match fields[0] {
            "HL" => {
                claim = None;
                patient_level = fields.get(3) == Some(&"PT");
            }
            "TRN" if patient_level => claim = fields.get(2).map(|c| (*c).to_owned()),
            "STC" => {
                if let Some(claim) = &claim {
                    let category = fields[1].split(':').next().unwrap_or("").to_owned();
                    found.entry(claim.clone()).or_default().push(category);
                }
            }
            _ => {}
        }
    }
    found
}

/// `claimscrub x12 check` on the implementation guide's business examples
/// (stupidedi's pass files), each from its own submitter since they share
/// ISA13 000000905: the 999 and the 277CA validate with pyx12, and the
/// 277CA's statuses are the claims' dispositions.
#[sqlx::test]
async fn the_business_examples_answer_acknowledgements_pyx12_accepts(pool: PgPool) {
    let Some(folder) = shared_data("x12/stupidedi/005010/X222-HC837/pass") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut keys = Vec::new();
    for (i, _) in files.iter().enumerate() {
        let scopes = claimscrub::domain::access::Scopes::parse_list("validate").expect("scope");
        let (_, key) =
            claimscrub::app::api_keys::create(&pool, &format!("submitter-{i}"), scopes, None)
                .await
                .expect("key");
        keys.push(key);
    }
    let app = spawn_app(pool).await;
    let out = std::env::temp_dir().join(format!("claimscrub-x12-check-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("dir");
    let mut with_claims = 0;
    for (file, key) in files.iter().zip(&keys) {
        let name = file.file_stem().and_then(|n| n.to_str()).expect("name");
        let (ack, ca) = (
            out.join(format!("{name}.999")),
            out.join(format!("{name}.277")),
        );
        let output = tokio::process::Command::new(BINARY)
            .args(["x12", "check"])
            .arg(file)
            .arg("--999")
            .arg(&ack)
            .arg("--277ca")
            .arg(&ca)
            .args(["--address", &app.address.to_string(), "--api-key", key])
            .output()
            .await
            .expect("x12 check runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let ack = std::fs::read_to_string(&ack).expect("999 written");
        let ca = std::fs::read_to_string(&ca).expect("277CA file");
        if let Some(verdict) = pyx12_accepts(&ack, &format!("{name}.999")) {
            assert_eq!(verdict, Ok(()), "{name}: pyx12 on the 999:\n{ack}");
        }
        // One line per claim: keys, CLM01, disposition, rules.
        let dispositions: Vec<(String, String)> = stdout
            .lines()
            .filter(|l| l.contains('#'))
            .map(|l| {
                let fields: Vec<&str> = l.split('\t').collect();
                let claim_id = fields[0].rsplit(' ').next().expect("CLM01").to_owned();
                (claim_id, fields[1].to_owned())
            })
            .collect();
        if dispositions.is_empty() {
            assert!(ca.is_empty(), "{name}: a 277CA without scrubbed claims");
            assert!(
                ack.contains("IK5*R"),
                "{name}: no claims but no rejected set:\n{ack}"
            );
            continue;
        }
        with_claims += 1;
        if let Some(verdict) = pyx12_accepts(&ca, &format!("{name}.277")) {
            assert_eq!(verdict, Ok(()), "{name}: pyx12 on the 277CA:\n{ca}");
        }
        let statuses = statuses(&ca);
        for (claim_id, disposition) in dispositions {
            let categories = &statuses[&claim_id];
            if disposition == "REJECT" {
                assert!(
                    categories.iter().all(|c| c != "A2"),
                    "{name} {claim_id}: {categories:?}"
                );
            } else {
                assert_eq!(categories, &["A2"], "{name} {claim_id}");
            }
        }
    }
    assert!(
        with_claims >= 10,
        "only {with_claims} examples had scrubbed claims"
    );
    app.shutdown().await.expect("shutdown");
}

/// A generated file of many claims.
fn generated(count: usize, per_set: usize, prefix: &str) -> (Vec<pb::Claim>, String) {
    let claims: Vec<pb::Claim> = (0..count)
        .map(|i| {
            let claim = crate::helpers::excision_claim(&format!("{prefix}{i:05}"), "", 1.0);
            x12_837::with_required_parties(x12_837::carried(claim), format!("{prefix}-M{i:05}"))
        })
        .collect();
    let text = x12_837::interchange(&claims, per_set, 4242);
    (claims, text)
}

/// A stream broken after some claims and the server restarted, then the
/// same file again with resume: the stored claims are answered from the
/// store, the rest decided,
/// and the batch holds each claim once. Without resume the same
/// interchange is a duplicate (TA1 025).
#[sqlx::test]
async fn a_broken_interchange_resumes_without_doubling(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (claims, text) = generated(1_500, 600, "RESUME");
    let mut responses = X12ServiceClient::new(app.channel.clone())
        .validate_interchange(tokio_stream::iter(requests(text.as_bytes(), false)))
        .await
        .expect("stream opens")
        .into_inner();
    let mut seen = 0;
    while seen < 400 {
        if let Some(Kind::Claim(_)) = responses
            .message()
            .await
            .expect("answers")
            .and_then(|r| r.kind)
        {
            seen += 1;
        }
    }
    drop(responses);
    let batch: uuid::Uuid = sqlx::query_scalar(
        "select batch_id from validation_batch order by create_time desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a batch");
    let durable = wait_settled(
        "the broken stream's last commit",
        Duration::from_secs(60),
        5,
        async || {
            sqlx::query_scalar::<_, i64>(
                "select durable_through_sequence from validation_batch where batch_id = $1",
            )
            .bind(batch)
            .fetch_one(&pool)
            .await
            .expect("batch row")
        },
    )
    .await;
    assert!(
        durable + 1 >= 400,
        "{durable}: answered claims were not durable"
    );
    assert!(
        durable + 1 < 1_500,
        "the whole file was decided before the break"
    );
    // The server restarts too (shutting down closes its pool): the resume
    // needs only what is stored.
    let url = crate::helpers::pool_url(&pool);
    app.shutdown().await.expect("shutdown");
    let pool = PgPool::connect(&url).await.expect("reconnect");
    let app = spawn_app(pool.clone()).await;

    let again = send(&app, text.as_bytes(), true).await.expect("resume");
    assert_eq!(again.claims.len(), claims.len());
    let from_store = again.claims.iter().filter(|c| c.from_store).count();
    assert_eq!(from_store as i64, durable + 1);
    let ordinals: Vec<(String, u64)> = again
        .claims
        .iter()
        .map(|c| {
            let origin = c.origin.clone().expect("origin");
            (origin.transaction_set_control_number, origin.claim_ordinal)
        })
        .collect();
    let mut unique = ordinals.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), claims.len(), "a claim answered twice");
    let stored: i64 = sqlx::query_scalar("select count(*) from batch_item where batch_id = $1")
        .bind(batch)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 1_500, "the batch holds each claim once");
    let summary = again.summary.expect("summary");
    assert_eq!(summary.claims_from_store, from_store as u64);
    assert_eq!(statuses(&again.ca_277).len(), claims.len());

    let duplicate = send(&app, text.as_bytes(), false).await.expect("answered");
    assert!(duplicate.claims.is_empty());
    assert!(
        duplicate
            .ack_999
            .contains("TA1*000004242*260101*1200*R*025"),
        "{}",
        duplicate.ack_999
    );
    app.shutdown().await.expect("shutdown");
}

/// Junk is answered with a TA1, a rejected group with a 999, and neither
/// decides a claim; an empty stream is INVALID_ARGUMENT.
#[sqlx::test]
async fn broken_envelopes_and_groups_are_acknowledged_not_scrubbed(pool: PgPool) {
    let app = spawn_app(pool).await;
    let junk = send(&app, b"\x00\x01 this is not X12 ~~~", false)
        .await
        .expect("answered");
    assert!(junk.claims.is_empty());
    assert!(junk.ack_999.contains("*R*024~"), "{}", junk.ack_999);
    let (_, text) = generated(3, 3, "GROUP");
    let other_version = text.replace("005010X222A1", "005010X222A2");
    let answer = send(&app, other_version.as_bytes(), false)
        .await
        .expect("answered");
    assert!(answer.claims.is_empty());
    assert!(
        answer.ack_999.contains("AK9*R*1*1*0*2~"),
        "{}",
        answer.ack_999
    );
    assert!(answer.ack_999.contains("IK5*R*I6~"), "{}", answer.ack_999);
    let error = X12ServiceClient::new(app.channel.clone())
        .validate_interchange(tokio_stream::iter(
            Vec::<pb::ValidateInterchangeRequest>::new(),
        ))
        .await
        .expect_err("refused");
    assert_eq!(error.code(), Code::InvalidArgument);
    let mappings = X12ServiceClient::new(app.channel.clone())
        .list_status_mappings(pb::ListStatusMappingsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .mappings;
    let balance = mappings
        .iter()
        .find(|m| m.rule_id == "CHARGES_OUT_OF_BALANCE")
        .expect("mapped");
    assert_eq!(
        (balance.category.as_str(), balance.status_code.as_str()),
        ("A7", "400")
    );
    assert_eq!(mappings.last().map(|m| m.rule_id.as_str()), Some("*"));
    app.shutdown().await.expect("shutdown");
}

/// The 10,000-claim sample as an 837P (one claim per transaction set, so a
/// claim the 999 rejects is that claim alone) gives claim for claim the
/// dispositions of the same claims through the protobuf batch stream,
/// stripped of what an 837P cannot carry. A claim the protobuf door
/// refuses is one the X12 door does not decide either (999 or limits).
#[sqlx::test]
async fn the_sample_as_an_837_gives_the_protobuf_dispositions(pool: PgPool) {
    let Some(path) = shared_data("claims/claims_10000.jsonl.gz") else {
        return;
    };
    let app = spawn_app(pool).await;
    let sample = sample_claims(&path);
    let prepare = |prefix: &str| -> Vec<pb::Claim> {
        sample
            .iter()
            .map(|claim| {
                // Each door its own members, so neither sees the other's
                // claims as history.
                let member = format!("{prefix}-{}", claim.claim_id);
                x12_837::with_required_parties(x12_837::carried(claim.clone()), member)
            })
            .collect()
    };
    let protobuf = batch_dispositions(&app, prepare("PB")).await;
    let x12_claims = prepare("X12");
    let text = x12_837::interchange(&x12_claims, 1, 777);
    let answer = send(&app, text.as_bytes(), false).await.expect("answered");
    let x12: HashMap<String, String> = answer
        .claims
        .iter()
        .map(|c| {
            let disposition = match &c.result {
                Some(result) => result.disposition().as_str_name().to_owned(),
                None => "REFUSED".to_owned(),
            };
            (c.claim_id.clone(), disposition)
        })
        .collect();
    let mut differences = Vec::new();
    let mut unwritable = 0;
    for (claim_id, (expected, rules)) in &protobuf {
        let got = x12.get(claim_id).map_or("REFUSED", String::as_str);
        // A line without a diagnosis pointer cannot be written: SV107 is
        // required, so the 999 rejects the claim's set, where the protobuf
        // door decides it and DX_POINTER_MISSING rejects it. Both reject.
        if got == "REFUSED"
            && expected == "DISPOSITION_REJECT"
            && rules.iter().any(|r| r == "DX_POINTER_MISSING")
        {
            unwritable += 1;
            continue;
        }
        if got != expected {
            differences.push(format!(
                "{claim_id}: protobuf {expected} {rules:?}, X12 {got}"
            ));
        }
    }
    assert!(unwritable < 200, "{unwritable} claims without a pointer");
    assert_eq!(protobuf.len(), sample.len());
    assert!(
        differences.is_empty(),
        "{} differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
    app.shutdown().await.expect("shutdown");
}

/// The rules of fields only the 837P carries, end to end through its door:
/// an unbalanced CLM02 and ICD-9 qualifiers get their findings, the
/// corrected files none.
#[sqlx::test]
async fn the_837_only_rules_fire_through_the_x12_door(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, text) = generated(1, 1, "ONLY");
    let findings = async |text: String| -> Vec<(String, String)> {
        let answer = send(&app, text.as_bytes(), false).await.expect("answered");
        let [claim] = answer.claims.as_slice() else {
            panic!("one claim: {answer:?}")
        };
        claim
            .result
            .iter()
            .flat_map(|r| &r.findings)
            .map(|f| (f.rule_id.clone(), f.field_path.clone()))
            .collect()
    };
    let fired = |found: &[(String, String)], rule: &str| found.iter().any(|(r, _)| r == rule);
    // Each file its own ISA13, so none is a duplicate of another.
    let renumbered = |text: &str, control: u32| {
        text.replace("000004242", &format!("{control:09}"))
            .replace("*4242*", &format!("*{control}*"))
            .replace("GE*1*4242", &format!("GE*1*{control}"))
    };
    let unbalanced = renumbered(&text, 1).replace("CLM*ONLY00000*100*", "CLM*ONLY00000*250*");
    let found = findings(unbalanced).await;
    assert!(
        found.contains(&("CHARGES_OUT_OF_BALANCE".into(), "total_charge".into())),
        "{found:?}"
    );
    // The audit record keeps where the claim was read.
    let records = app
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .expect("listed")
        .audit_records;
    let record = app
        .get_audit_record(pb::GetAuditRecordRequest {
            name: records[0].name.clone(),
        })
        .await
        .expect("read")
        .audit_record
        .expect("record");
    let origin = record
        .claim
        .and_then(|c| c.x12_origin)
        .expect("origin kept");
    assert_eq!(
        (
            origin.interchange_control_number.as_str(),
            origin.group_control_number.as_str()
        ),
        ("000000001", "1")
    );
    assert_eq!((origin.claim_ordinal, origin.first_segment), (1, 15));
    assert!(!fired(
        &findings(renumbered(&text, 2)).await,
        "CHARGES_OUT_OF_BALANCE"
    ));
    let icd9 = renumbered(&text, 3).replace("HI*ABK:", "HI*BK:");
    let found = findings(icd9).await;
    assert!(
        found.contains(&("DX_ICD9_CODE_SET".into(), "diagnosis_codes".into())),
        "{found:?}"
    );
    assert!(!fired(
        &findings(renumbered(&text, 4)).await,
        "DX_ICD9_CODE_SET"
    ));
    app.shutdown().await.expect("shutdown");
}

/// An 837P has no element for the excised size or site: the size edit says
/// "not checked" (field not sent), unless the line carries claimscrub's
/// NTE*ADD convention, when it runs.
#[sqlx::test]
async fn the_line_note_convention_lets_the_size_edits_run(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, text) = generated(1, 1, "NOTE");
    let size_not_checked = async |text: &str| -> bool {
        let answer = send(&app, text.as_bytes(), false).await.expect("answered");
        let result = answer.claims[0].result.clone().expect("decided");
        result.not_checked.iter().any(|n| {
            n.rule_id == "SIZE_BAND_MISMATCH" && n.reason() == pb::NotCheckedReason::FieldNotSent
        })
    };
    assert!(size_not_checked(&text).await);
    let noted = text
        .replace(
            "DTP*472*D8*20260115~",
            "DTP*472*D8*20260115~\nNTE*ADD*CS1 SIZE=1.0 SITE=TRUNK~",
        )
        .replace("000004242", "000004243")
        .replace("*4242*", "*4243*")
        .replace("GE*1*4242", "GE*1*4243");
    // One more segment in the set: SE01 counts it.
    let count: u32 = noted
        .split("SE*")
        .nth(1)
        .and_then(|rest| rest.split('*').next())
        .and_then(|n| n.parse().ok())
        .expect("SE01");
    let noted = noted.replace(&format!("SE*{count}*"), &format!("SE*{}*", count + 1));
    assert!(!size_not_checked(&noted).await);
    app.shutdown().await.expect("shutdown");
}
