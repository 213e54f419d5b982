//! ReferenceDataService over releases stored in PostgreSQL.

use claimscrub::grpc::pb;
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{assert_invalid_field, spawn_app};

async fn insert_release(
    pool: &PgPool,
    system: &str,
    version: &str,
    effective_from: &str,
    count: i64,
) {
    sqlx::query(
        "insert into code_system_version \
             (system, version, effective_from, source_file_name, sha256, concept_count, billable_count) \
         values ($1, $2, $3::date, $4, $5, $6, $7)",
    )
    .bind(system)
    .bind(version)
    .bind(effective_from)
    .bind(format!("{system}-{version}.txt"))
    .bind(format!("{system}{version}"))
    .bind(count)
    .bind((system == "icd10cm").then_some(count / 2))
    .execute(pool)
    .await
    .expect("release inserted");
}

#[sqlx::test]
async fn a_fresh_database_gets_the_default_data_set_once(pool: PgPool) {
    let url = crate::helpers::pool_url(&pool);
    let app = spawn_app(pool).await;
    let response = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest::default())
        .await
        .expect("ok");
    let systems: Vec<i32> = response
        .code_system_versions
        .iter()
        .map(|v| v.system)
        .collect();
    let mut expected: Vec<i32> = [
        pb::CodeSystem::Cpt,
        pb::CodeSystem::Icd10cm,
        pb::CodeSystem::Modifier,
        pb::CodeSystem::Mpfs,
        pb::CodeSystem::Pos,
        pb::CodeSystem::Taxonomy,
    ]
    .into_iter()
    .map(i32::from)
    .collect();
    expected.sort_unstable();
    let mut sorted = systems.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected);
    for version in &response.code_system_versions {
        assert!(version.builtin, "{}", version.name);
        assert_eq!(version.source_file_name, "reference/default");
        // Each built-in release answers from the day its code set existed:
        // ICD-10-CM from 2015-10-01, the PPRRVU 2023 snapshot from its year,
        // the rest from the HIPAA compliance date of electronic claims.
        let (year, month, day) = match version.system() {
            pb::CodeSystem::Icd10cm => (2015, 10, 1),
            pb::CodeSystem::Mpfs => (2023, 1, 1),
            _ => (2003, 10, 16),
        };
        assert_eq!(
            version.effective_from,
            Some(pb::google::r#type::Date { year, month, day }),
            "{}",
            version.name
        );
        assert!(version.concept_count > 0, "{}", version.name);
    }
    app.shutdown().await.expect("clean shutdown");

    // A second start (the first one closed its pool) finds the same set and loads nothing.
    let pool = PgPool::connect(&url).await.expect("reconnects");
    let app = spawn_app(pool.clone()).await;
    let count: i64 = sqlx::query_scalar("select count(*) from code_system_version")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 6);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn releases_are_listed_paged_and_fetched_by_name(pool: PgPool) {
    insert_release(&pool, "icd10cm", "FY2025", "2024-10-01", 97584).await;
    insert_release(&pool, "icd10cm", "FY2026", "2025-10-01", 98186).await;
    insert_release(&pool, "pos", "2024-05", "2024-05-02", 52).await;
    let app = spawn_app(pool).await;

    let first = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
            system: pb::CodeSystem::Icd10cm.into(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .expect("ok");
    assert_eq!(first.code_system_versions.len(), 1);
    assert_eq!(
        first.code_system_versions[0].version, "FY2026",
        "newest first"
    );
    assert_eq!(first.code_system_versions[0].billable_count, Some(49093));
    assert!(!first.next_page_token.is_empty());

    let second = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
            system: pb::CodeSystem::Icd10cm.into(),
            page_size: 1,
            page_token: first.next_page_token.clone(),
        })
        .await
        .expect("ok");
    assert_eq!(second.code_system_versions[0].version, "FY2025");

    let third = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
            system: pb::CodeSystem::Icd10cm.into(),
            page_size: 1,
            page_token: second.next_page_token.clone(),
        })
        .await
        .expect("ok");
    assert!(
        third.code_system_versions[0].builtin,
        "the default set comes last"
    );
    assert!(third.next_page_token.is_empty(), "last page");

    let reused = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
            system: pb::CodeSystem::Pos.into(),
            page_size: 1,
            page_token: first.next_page_token,
        })
        .await
        .expect_err("token of another filter");
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(
        reused.get_details_error_info().expect("info").reason,
        "INVALID_PAGE_TOKEN"
    );

    let all = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest::default())
        .await
        .expect("ok");
    assert_eq!(
        all.code_system_versions
            .iter()
            .filter(|v| !v.builtin)
            .count(),
        3
    );

    let pos = app
        .get_code_system_version(pb::GetCodeSystemVersionRequest {
            name: "codeSystems/pos/versions/2024-05".into(),
        })
        .await
        .expect("found")
        .code_system_version
        .expect("version");
    assert_eq!(pos.concept_count, 52);
    assert_eq!(
        pos.effective_from,
        Some(pb::google::r#type::Date {
            year: 2024,
            month: 5,
            day: 2
        })
    );
    assert_eq!(pos.effective_to, None);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn unknown_and_malformed_names_are_distinguished(pool: PgPool) {
    let app = spawn_app(pool).await;
    let missing = app
        .get_code_system_version(pb::GetCodeSystemVersionRequest {
            name: "codeSystems/icd10cm/versions/FY1999".into(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        missing
            .get_details_resource_info()
            .expect("resource")
            .resource_name,
        "codeSystems/icd10cm/versions/FY1999"
    );

    let malformed = app
        .get_code_system_version(pb::GetCodeSystemVersionRequest {
            name: "icd10cm".into(),
        })
        .await
        .expect_err("malformed");
    assert_invalid_field(&malformed, "name");

    let negative = app
        .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_invalid_field(&negative, "page_size");
    app.shutdown().await.expect("clean shutdown");
}
