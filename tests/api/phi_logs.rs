//! No PHI in the logs (issue 15, item 6): claims whose member id, birth date,
//! claim id (CLM01) and, on the X12 door, patient names carry marker strings
//! go through every RPC that takes a claim or names one (ValidateClaim, the
//! batch stream, the X12 door, the audit reads with a claim-id filter), with
//! the server logging at TRACE. No marker appears in any log line, and the
//! log lines name the calls by request id.

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::x12_service_client::X12ServiceClient;
use sqlx::PgPool;
use tonic::transport::Channel;

use crate::helpers::{Api, date, drain, excision_claim, pool_url, start_serve_logged};

use crate::x12_service::x12_837;

const MEMBER: &str = "MBRMARKER7731";
/// The patient's names, which the X12 door reads (NM1*IL).
const NAMES: [&str; 2] = ["LASTMARKER", "FIRSTMARKER"];
const CLAIM_ID: &str = "CLMMARKER4410";
/// The birth date, as the protobuf door and as DMG02 write it.
const BIRTH: [&str; 2] = ["1931-07-13", "19310713"];

fn marked(suffix: &str) -> pb::Claim {
    let mut claim = excision_claim(
        &format!("{CLAIM_ID}{suffix}"),
        &format!("{MEMBER}{suffix}"),
        3.5,
    );
    let patient = claim.patient.get_or_insert_with(Default::default);
    patient.birth_date = date(1931, 7, 13);
    claim
}

#[sqlx::test]
async fn no_marker_of_a_claim_reaches_the_logs(pool: PgPool) {
    let (mut server, address, logs) = start_serve_logged(&pool_url(&pool), 2, "trace").await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let api = Api::new(channel.clone());

    let result = api
        .validate_claim(pb::ValidateClaimRequest {
            request_id: "phi-1".into(),
            claim: Some(marked("A")),
        })
        .await
        .expect("validated")
        .result
        .expect("result");
    use pb::validate_claim_batch_request::Kind as In;
    let mut batch = vec![pb::ValidateClaimBatchRequest {
        kind: Some(In::Header(pb::BatchHeader {
            batch_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        })),
    }];
    for (sequence, suffix) in ["B", "C"].into_iter().enumerate() {
        batch.push(pb::ValidateClaimBatchRequest {
            kind: Some(In::Item(pb::ClaimItem {
                sequence: sequence as u64,
                correlation_id: format!("{CLAIM_ID}{suffix}"),
                claim: Some(marked(suffix)),
            })),
        });
    }
    let (_, ending) = drain(
        api.validate_claim_batch(tokio_stream::iter(batch))
            .await
            .expect("batch"),
    )
    .await;
    ending.expect("batch completes");

    let mut x12 =
        x12_837::with_required_parties(x12_837::carried(marked("D")), format!("{MEMBER}D"));
    x12.patient.get_or_insert_with(Default::default).birth_date = date(1931, 7, 13);
    let text = x12_837::interchange(&[x12], 1, 31).replace(
        "NM1*IL*1*DOE*PAT",
        &format!("NM1*IL*1*{}*{}", NAMES[0], NAMES[1]),
    );
    assert!(text.contains(NAMES[0]));
    let mut responses = X12ServiceClient::new(channel.clone())
        .validate_interchange(tokio_stream::iter(vec![pb::ValidateInterchangeRequest {
            data: text.into_bytes(),
            resume: false,
        }]))
        .await
        .expect("interchange")
        .into_inner();
    let mut answered = 0;
    while let Some(response) = responses.message().await.expect("answers") {
        answered += usize::from(matches!(
            response.kind,
            Some(pb::validate_interchange_response::Kind::Claim(_))
        ));
    }
    assert_eq!(answered, 1);

    let filter = pb::AuditFilter {
        claim_id: format!("{CLAIM_ID}A"),
        ..Default::default()
    };
    let listed = api
        .list_audit_records(pb::ListAuditRecordsRequest {
            filter: Some(filter.clone()),
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(listed.audit_records.len(), 1);
    let name = format!("auditRecords/{}", result.audit_record_id);
    api.get_audit_record(pb::GetAuditRecordRequest { name: name.clone() })
        .await
        .expect("read");
    api.replay_audit_record(pb::ReplayAuditRecordRequest { name })
        .await
        .expect("replayed");
    let mut export = api
        .export_audit_records(pb::ExportAuditRecordsRequest {
            filter: Some(filter),
        })
        .await
        .expect("export");
    while export.message().await.expect("exports").is_some() {}

    server.start_kill().expect("stop");
    server.wait().await.expect("stopped");
    let logs = logs.lock().expect("logs").clone();
    assert!(logs.len() > 100, "only {} log lines at TRACE", logs.len());
    // The calls themselves are in the logs, by request id and method.
    assert!(
        logs.iter()
            .any(|l| l.contains("ValidateInterchange") && l.contains("request_id")),
        "the X12 call is not in the logs"
    );
    let leaks: Vec<&String> = logs
        .iter()
        .filter(|line| {
            line.contains(MEMBER)
                || line.contains(CLAIM_ID)
                || BIRTH.iter().any(|b| line.contains(b))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} lines with a marker, e.g.:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(5)
            .map(|l| l.chars().take(400).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
