//! CodeLookupService over the real code sets imported from the shared
//! fixtures: lookups, validity by date of service, batches and search.

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{
    HCPCS, ICD10CM_ORDER, ICD10CM_TABULAR, TestApp, assert_invalid_field, import_shared, spawn_app,
};

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// A server over both ICD-10-CM releases and the HCPCS file.
async fn app_with_code_sets(pool: PgPool) -> Option<TestApp> {
    let loaded = import_shared(&pool, &[ICD10CM_TABULAR, ICD10CM_ORDER, HCPCS]).await;
    if loaded {
        Some(spawn_app(pool).await)
    } else {
        None
    }
}

fn validate(system: pb::CodeSystem, code: &str, dos: Option<Date>) -> pb::ValidateCodeRequest {
    pb::ValidateCodeRequest {
        system: system.into(),
        code: code.into(),
        date_of_service: dos,
    }
}

#[sqlx::test]
async fn lookup_resolves_the_release_by_date_of_service(pool: PgPool) {
    let Some(app) = app_with_code_sets(pool).await else {
        return;
    };
    let lookup = |code: &str, dos| pb::LookupCodeRequest {
        system: pb::CodeSystem::Icd10cm.into(),
        code: code.into(),
        date_of_service: dos,
    };
    let fy2026 = app
        .lookup_code(lookup("d2361", date(2026, 1, 15)))
        .await
        .expect("found");
    let concept = fy2026.concept.expect("concept");
    assert_eq!(concept.code, "D23.61");
    assert!(concept.billable && concept.active);
    assert_eq!(concept.version.expect("version").version, "FY2026-APR");
    assert_eq!(concept.parent.expect("parent").code, "D23.6");
    assert_eq!(concept.system_uri, "http://hl7.org/fhir/sid/icd-10-cm");

    let fy2025 = app
        .lookup_code(lookup("D23.61", date(2025, 3, 1)))
        .await
        .expect("found");
    assert_eq!(
        fy2025
            .concept
            .expect("concept")
            .version
            .expect("version")
            .version,
        "FY2025"
    );

    let header = app
        .lookup_code(lookup("D23.6", date(2026, 1, 15)))
        .await
        .expect("found");
    let header = header.concept.expect("concept");
    assert!(!header.billable);
    let children: Vec<String> = header.children.into_iter().map(|c| c.code).collect();
    assert_eq!(children, ["D23.60", "D23.61", "D23.62"]);

    let unknown = app
        .lookup_code(lookup("D99.99", date(2026, 1, 15)))
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        unknown.get_details_error_info().expect("info").reason,
        "NOT_FOUND"
    );

    let no_system = app
        .lookup_code(pb::LookupCodeRequest {
            code: "D23.61".into(),
            ..Default::default()
        })
        .await
        .expect_err("system required");
    assert_invalid_field(&no_system, "system");
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn validate_code_explains_every_kind_of_invalid_code(pool: PgPool) {
    let Some(app) = app_with_code_sets(pool).await else {
        return;
    };
    let icd = pb::CodeSystem::Icd10cm;
    let check = |system, code: &str, dos| validate(system, code, dos);

    let header = app
        .validate_code(check(icd, "D23.6", date(2026, 1, 15)))
        .await
        .expect("ok");
    assert!(!header.valid);
    assert_eq!(header.validity(), pb::CodeValidity::HeaderNotBillable);
    let suggested: Vec<String> = header.suggestions.into_iter().map(|s| s.code).collect();
    assert_eq!(suggested, ["D23.60", "D23.61", "D23.62"]);

    // C50.A1 is new in FY2026: an FY2025 claim must not see it.
    let before = app
        .validate_code(check(icd, "C50.A1", date(2025, 9, 30)))
        .await
        .expect("ok");
    assert_eq!(
        before.validity(),
        pb::CodeValidity::NotEffectiveOnDate,
        "{}",
        before.message
    );
    let after = app
        .validate_code(check(icd, "C50.A1", date(2025, 10, 1)))
        .await
        .expect("ok");
    assert!(after.valid, "{}", after.message);

    // T78.07XD was deleted in FY2026.
    let deleted = app
        .validate_code(check(icd, "T78.07XD", date(2025, 10, 1)))
        .await
        .expect("ok");
    assert_eq!(deleted.validity(), pb::CodeValidity::NotEffectiveOnDate);
    assert!(
        app.validate_code(check(icd, "T78.07XD", date(2025, 9, 30)))
            .await
            .expect("ok")
            .valid
    );

    let unknown = app
        .validate_code(check(icd, "D99.99", date(2026, 1, 15)))
        .await
        .expect("ok");
    assert_eq!(unknown.validity(), pb::CodeValidity::UnknownCode);
    let malformed = app
        .validate_code(check(icd, "12345", date(2026, 1, 15)))
        .await
        .expect("ok");
    assert_eq!(malformed.validity(), pb::CodeValidity::InvalidFormat);

    // HCPCS modifier JG was terminated on 2024-12-31; the October 2025 file still lists it.
    let modifier = pb::CodeSystem::Modifier;
    let jg_after = app
        .validate_code(check(modifier, "JG", date(2025, 12, 1)))
        .await
        .expect("ok");
    assert_eq!(jg_after.validity(), pb::CodeValidity::Terminated);
    let xs = app
        .validate_code(check(modifier, "XS", date(2026, 1, 1)))
        .await
        .expect("ok");
    assert!(xs.valid, "{}", xs.message);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn batch_validation_answers_in_order_and_caps_its_size(pool: PgPool) {
    let Some(app) = app_with_code_sets(pool).await else {
        return;
    };
    let codes = ["D23.61", "D23.6", "D99.99", "L72.0", "nonsense"];
    let response = app
        .batch_validate_codes(pb::BatchValidateCodesRequest {
            requests: codes
                .iter()
                .map(|c| validate(pb::CodeSystem::Icd10cm, c, date(2026, 1, 15)))
                .collect(),
        })
        .await
        .expect("ok");
    let answers: Vec<(String, bool)> = response
        .responses
        .into_iter()
        .map(|r| (r.code, r.valid))
        .collect();
    assert_eq!(
        answers,
        [
            ("D23.61".into(), true),
            ("D23.6".into(), false),
            ("D99.99".into(), false),
            ("L72.0".into(), true),
            ("NONSENSE".into(), false),
        ]
    );
    let too_many = app
        .batch_validate_codes(pb::BatchValidateCodesRequest {
            requests: (0..1001)
                .map(|_| validate(pb::CodeSystem::Icd10cm, "D23.61", None))
                .collect(),
        })
        .await
        .expect_err("over the limit");
    assert_invalid_field(&too_many, "requests");
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn search_ranks_words_and_code_prefixes_and_pages(pool: PgPool) {
    let Some(app) = app_with_code_sets(pool).await else {
        return;
    };
    let search = |query: &str, size: i32, token: String| pb::SearchCodesRequest {
        system: pb::CodeSystem::Icd10cm.into(),
        query: query.into(),
        date_of_service: date(2026, 1, 15),
        page_size: size,
        page_token: token,
        billable_only: false,
    };
    let words = app
        .search_codes(search("benign neoplasm skin trunk", 5, String::new()))
        .await
        .expect("ok");
    assert_eq!(
        words.hits[0].concept.as_ref().expect("concept").code,
        "D23.5"
    );
    assert_eq!(words.version.expect("version").version, "FY2026-APR");

    let first = app
        .search_codes(search("D23.6", 2, String::new()))
        .await
        .expect("ok");
    assert_eq!(first.total_size, 4);
    let codes: Vec<String> = first
        .hits
        .iter()
        .map(|h| h.concept.clone().expect("c").code)
        .collect();
    assert_eq!(codes, ["D23.6", "D23.60"]);
    let second = app
        .search_codes(search("D23.6", 2, first.next_page_token.clone()))
        .await
        .expect("ok");
    let codes: Vec<String> = second
        .hits
        .iter()
        .map(|h| h.concept.clone().expect("c").code)
        .collect();
    assert_eq!(codes, ["D23.61", "D23.62"]);
    assert!(second.next_page_token.is_empty());

    let reused = app
        .search_codes(search("D23.7", 2, first.next_page_token))
        .await
        .expect_err("other query");
    assert_eq!(
        reused.get_details_error_info().expect("info").reason,
        "INVALID_PAGE_TOKEN"
    );
    app.shutdown().await.expect("clean shutdown");
}
