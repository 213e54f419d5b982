//! AuditService: read-only queries over the append-only audit store.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::audit::{AuditFilter, AuditQueries, AuditRecord, Change, Reader, StatsGroup};
use crate::domain::claim::ProcedureCode;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::limits::{self, CodeAlphabet, Screen};
use crate::error::{AppError, FieldViolation};
use crate::grpc::pb;
use crate::grpc::pb::audit_service_server::AuditService;
use crate::grpc::{convert, element_len, interceptor, take_within_budget};

/// Export pages waiting for a slow client.
const EXPORT_QUEUE: usize = 4;

/// The AuditService implementation.
#[derive(Clone)]
pub struct AuditApi {
    queries: Arc<AuditQueries>,
    stop: CancellationToken,
}

impl AuditApi {
    /// Serves `queries`; exports stop when `stop` is cancelled.
    pub fn new(queries: Arc<AuditQueries>, stop: CancellationToken) -> Self {
        Self { queries, stop }
    }
}

/// Response stream of ExportAuditRecords.
pub type ExportStream =
    Pin<Box<dyn Stream<Item = Result<pb::ExportAuditRecordsResponse, Status>> + Send>>;

/// Who makes `request`, for the access log.
fn reader<T>(request: &Request<T>) -> Reader {
    Reader {
        submitter: interceptor::caller(request).submitter.to_string(),
        request_id: request
            .metadata()
            .get(super::call::REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    }
}

fn record_id(name: &str) -> Result<Uuid, AppError> {
    name.trim()
        .strip_prefix("auditRecords/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| AppError::invalid_field("name", "must be auditRecords/{id} with a UUID"))
}

/// The filter as the store reads it: empty fields are absent, codes in
/// canonical form.
pub fn filter_from_pb(filter: Option<pb::AuditFilter>) -> Result<AuditFilter, AppError> {
    let filter = filter.unwrap_or_default();
    let mut screen = Screen::new();
    screen.text("filter.claim_id", &filter.claim_id, limits::CLAIM_ID_MAX);
    screen.text("filter.submitter", &filter.submitter, limits::TEXT_MAX);
    screen.text("filter.rule_id", &filter.rule_id, limits::TEXT_MAX);
    screen.text("filter.batch_id", &filter.batch_id, limits::TEXT_MAX);
    screen.code(
        "filter.payer_id",
        &filter.payer_id,
        limits::PAYER_ID_MAX,
        CodeAlphabet::Alphanumeric,
    );
    screen.code(
        "filter.procedure_code",
        &filter.procedure_code,
        limits::PROCEDURE_CODE_MAX,
        CodeAlphabet::Alphanumeric,
    );
    screen.code(
        "filter.diagnosis_code",
        &filter.diagnosis_code,
        limits::DIAGNOSIS_CODE_MAX,
        CodeAlphabet::WithDot,
    );
    let mut violations = screen.into_violations();
    let text = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let mut time = |value: Option<prost_types::Timestamp>, field: &str| {
        let value = value?;
        let nanos = u32::try_from(value.nanos).ok();
        let time = nanos.and_then(|n| chrono::DateTime::from_timestamp(value.seconds, n));
        if time.is_none() {
            violations.push(FieldViolation::new(
                format!("filter.{field}"),
                "not a valid timestamp",
            ));
        }
        time
    };
    let start_time = time(filter.start_time, "start_time");
    let end_time = time(filter.end_time, "end_time");
    if let (Some(start), Some(end)) = (start_time, end_time)
        && start >= end
    {
        violations.push(FieldViolation::new(
            "filter.end_time",
            "must be after start_time",
        ));
    }
    let batch_id = match text(filter.batch_id) {
        None => None,
        Some(id) => {
            let parsed = Uuid::parse_str(&id).ok();
            if parsed.is_none() {
                violations.push(FieldViolation::new("filter.batch_id", "must be a UUID"));
            }
            parsed
        }
    };
    let disposition = match pb::Disposition::try_from(filter.disposition) {
        Ok(pb::Disposition::Unspecified) => None,
        Ok(pb::Disposition::Accept) => Some(1),
        Ok(pb::Disposition::AcceptWithWarnings) => Some(2),
        Ok(pb::Disposition::Reject) => Some(3),
        Err(_) => {
            violations.push(FieldViolation::new(
                "filter.disposition",
                "not a Disposition value",
            ));
            None
        }
    };
    if let Some(error) = AppError::from_violations(violations) {
        return Err(error);
    }
    Ok(AuditFilter {
        start_time,
        end_time,
        claim_id: text(filter.claim_id),
        batch_id,
        submitter: text(filter.submitter),
        payer_id: text(filter.payer_id),
        disposition,
        rule_id: text(filter.rule_id).map(|r| r.to_ascii_uppercase()),
        procedure_code: text(filter.procedure_code).map(|c| ProcedureCode::parse(&c).to_string()),
        diagnosis_code: text(filter.diagnosis_code)
            .map(|c| codes::canonical(CodeSystem::Icd10Cm, &c)),
    })
}

/// A page of an export as messages of at most [`crate::grpc::MESSAGE_BUDGET`] bytes of
/// records each (one record always fits).
fn chunks_within_budget(records: Vec<AuditRecord>) -> Vec<pb::ExportAuditRecordsResponse> {
    let mut elements = records
        .into_iter()
        .map(|record| {
            let element = convert::record_to_pb(record);
            let len = element_len(&element);
            (element, len)
        })
        .peekable();
    let mut chunks = Vec::new();
    while elements.peek().is_some() {
        chunks.push(pb::ExportAuditRecordsResponse {
            audit_records: take_within_budget(&mut elements),
        });
    }
    chunks
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    type ExportAuditRecordsStream = ExportStream;

    async fn get_audit_record(
        &self,
        request: Request<pb::GetAuditRecordRequest>,
    ) -> Result<Response<pb::GetAuditRecordResponse>, Status> {
        let reader = reader(&request);
        let id = record_id(&request.get_ref().name)?;
        let record = self.queries.get(id).await?;
        let parameters = serde_json::json!({ "name": request.get_ref().name.trim() });
        self.queries
            .record_read(&reader, "GetAuditRecord", parameters, 1)
            .await?;
        Ok(Response::new(pb::GetAuditRecordResponse {
            audit_record: Some(convert::record_to_pb(record)),
        }))
    }

    async fn list_audit_records(
        &self,
        request: Request<pb::ListAuditRecordsRequest>,
    ) -> Result<Response<pb::ListAuditRecordsResponse>, Status> {
        let reader = reader(&request);
        let request = request.into_inner();
        let filter = filter_from_pb(request.filter)?;
        let (records, mut more) = self
            .queries
            .list(&filter, request.page_size, &request.page_token)
            .await?;
        let mut elements = records
            .into_iter()
            .map(|record| {
                let position = AuditQueries::position_of(&record);
                let element = convert::record_to_pb(record);
                let len = element_len(&element);
                ((position, element), len)
            })
            .peekable();
        let page = take_within_budget(&mut elements);
        more |= elements.peek().is_some();
        let mut response = pb::ListAuditRecordsResponse::default();
        if let (true, Some((last, _))) = (more, page.last()) {
            response.next_page_token = AuditQueries::list_token(&filter, *last);
        }
        response.audit_records = page.into_iter().map(|(_, record)| record).collect();
        let parameters = serde_json::json!({ "filter": filter, "page_token": request.page_token });
        let count = response.audit_records.len() as u64;
        self.queries
            .record_read(&reader, "ListAuditRecords", parameters, count)
            .await?;
        Ok(Response::new(response))
    }

    async fn export_audit_records(
        &self,
        request: Request<pb::ExportAuditRecordsRequest>,
    ) -> Result<Response<Self::ExportAuditRecordsStream>, Status> {
        let reader = reader(&request);
        let filter = filter_from_pb(request.into_inner().filter)?;
        let (pages, received) = mpsc::channel(EXPORT_QUEUE);
        self.queries
            .export(filter, pages, self.stop.child_token(), reader);
        let stream = ReceiverStream::new(received).flat_map(|page| {
            futures::stream::iter(match page {
                Ok(records) => chunks_within_budget(records).into_iter().map(Ok).collect(),
                Err(error) => vec![Err(Status::from(error))],
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_audit_stats(
        &self,
        request: Request<pb::GetAuditStatsRequest>,
    ) -> Result<Response<pb::GetAuditStatsResponse>, Status> {
        let reader = reader(&request);
        let request = request.into_inner();
        let group = match pb::AuditStatsGroupBy::try_from(request.group_by) {
            Ok(pb::AuditStatsGroupBy::Disposition) => StatsGroup::Disposition,
            Ok(pb::AuditStatsGroupBy::Rule) => StatsGroup::Rule,
            Ok(pb::AuditStatsGroupBy::Payer) => StatsGroup::Payer,
            Ok(pb::AuditStatsGroupBy::Day) => StatsGroup::Day,
            Ok(pb::AuditStatsGroupBy::Unspecified) | Err(_) => {
                return Err(AppError::invalid_field(
                    "group_by",
                    "one of DISPOSITION, RULE, PAYER or DAY is required",
                )
                .into());
            }
        };
        let filter = filter_from_pb(request.filter)?;
        let (buckets, total_records) = self.queries.stats(&filter, group).await?;
        let parameters = serde_json::json!({ "filter": filter, "group_by": request.group_by });
        self.queries
            .record_read(&reader, "GetAuditStats", parameters, total_records)
            .await?;
        Ok(Response::new(pb::GetAuditStatsResponse {
            buckets: buckets
                .into_iter()
                .map(|(key, count)| pb::AuditStatsBucket { key, count })
                .collect(),
            total_records,
        }))
    }

    async fn replay_audit_record(
        &self,
        request: Request<pb::ReplayAuditRecordRequest>,
    ) -> Result<Response<pb::ReplayAuditRecordResponse>, Status> {
        let reader = reader(&request);
        let id = record_id(&request.get_ref().name)?;
        let replay = self.queries.replay(id).await?;
        let parameters = serde_json::json!({ "name": request.get_ref().name.trim() });
        self.queries
            .record_read(&reader, "ReplayAuditRecord", parameters, 1)
            .await?;
        Ok(Response::new(pb::ReplayAuditRecordResponse {
            audit_record: Some(convert::record_to_pb(replay.record)),
            replayed: Some(convert::decision_to_pb(replay.replayed)),
            differences: replay
                .differences
                .into_iter()
                .map(|(change, stored, replayed)| pb::FindingDifference {
                    change: match change {
                        Change::Added => pb::FindingChange::Added,
                        Change::Removed => pb::FindingChange::Removed,
                        Change::Changed => pb::FindingChange::Changed,
                    }
                    .into(),
                    stored: convert::stored_finding_to_pb(stored),
                    replayed: convert::stored_finding_to_pb(replayed),
                })
                .collect(),
        }))
    }

    async fn list_audit_access(
        &self,
        request: Request<pb::ListAuditAccessRequest>,
    ) -> Result<Response<pb::ListAuditAccessResponse>, Status> {
        let request = request.into_inner();
        let mut screen = Screen::new();
        screen.text("submitter", &request.submitter, limits::TEXT_MAX);
        screen.finish()?;
        let submitter = request.submitter.trim();
        let (rows, more) = self
            .queries
            .access_log(submitter, request.page_size, &request.page_token)
            .await?;
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => AuditQueries::access_token(submitter, last),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListAuditAccessResponse {
            entries: rows
                .into_iter()
                .map(|row| pb::AuditAccess {
                    name: format!("auditAccess/{}", row.id),
                    access_time: Some(convert::timestamp_to_pb(row.access_time)),
                    submitter: row.submitter,
                    request_id: row.request_id,
                    method: row.method,
                    parameters: row.parameters.to_string(),
                    record_count: u64::try_from(row.record_count).unwrap_or(0),
                })
                .collect(),
            next_page_token,
        }))
    }
}
