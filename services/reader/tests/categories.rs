//! Reader categories and their history rules over real gRPC, against a
//! throw-away database (SQLite, or PostgreSQL when
//! `LECTERN_TEST_DATABASE_URL` is set): district admins add and change
//! categories, readers carry their category's rule, bad rules are refused
//! naming the field, and an erasure that cannot ask circulation changes
//! nothing.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lectern_common::testing::TestDatabase;
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::*;
use tonic::Code;

use support::{assert_invalid, assert_refused, bearer, staff_login};

fn rule(retention: HistoryRetention, days: i32) -> Option<HistoryRule> {
    Some(HistoryRule { retention: retention.into(), anonymize_after_days: days })
}

/// Starts the service (circulation and notification out of reach) and
/// returns it with a district admin's token.
async fn start(database: &TestDatabase) -> (support::Running, String) {
    let config = support::config(database, &lectern_common::testing::clock());
    let first = lectern_reader::bootstrap_first_admin(&config).await.unwrap().unwrap();
    let server = support::serve(config).await;
    let mut identity = server.identity();
    let login = identity.login(staff_login("admin", &first.password)).await.unwrap().into_inner();
    let changed = identity
        .change_password(bearer(
            ChangePasswordRequest {
                current_password: first.password,
                new_password: "admin password 2026".into(),
            },
            &login.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    (server, changed.login.unwrap().access_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_carry_history_rules_that_district_admins_edit() {
    let database = support::database();
    let (server, token) = start(&database).await;
    let mut readers = server.readers();

    // The four categories every district starts with keep history.
    let listed = readers
        .list_reader_categories(bearer(ListReaderCategoriesRequest {}, &token))
        .await
        .unwrap()
        .into_inner()
        .categories;
    let codes: Vec<&str> = listed.iter().map(|category| category.code.as_str()).collect();
    assert_eq!(codes, ["other", "staff", "student", "teacher"]);
    assert!(listed.iter().all(|category| category.history_rule == rule(HistoryRetention::Keep, 0)));

    // A new category; its code must be new.
    let guest = ReaderCategory {
        code: " Guest ".into(),
        name_zh: "访客".into(),
        name_en: "Guest".into(),
        history_rule: rule(HistoryRetention::NeverKeep, 0),
    };
    let created = readers
        .create_reader_category(bearer(CreateReaderCategoryRequest { category: Some(guest.clone()) }, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.code, "guest");
    assert_refused(
        readers
            .create_reader_category(bearer(
                CreateReaderCategoryRequest { category: Some(guest.clone()) },
                &token,
            ))
            .await,
        Code::AlreadyExists,
        Reason::ReaderCategoryTaken,
    );

    // Bad input names the field and changes nothing.
    assert_invalid(
        readers.create_reader_category(bearer(CreateReaderCategoryRequest { category: None }, &token)).await,
        "category",
    );
    let bad_code = ReaderCategory { code: "two words".into(), ..guest.clone() };
    assert_invalid(
        readers
            .create_reader_category(bearer(CreateReaderCategoryRequest { category: Some(bad_code) }, &token))
            .await,
        "category.code",
    );
    let zero_days = ReaderCategory {
        code: "visitor".into(),
        history_rule: rule(HistoryRetention::AnonymizeAfterDays, 0),
        ..guest.clone()
    };
    assert_invalid(
        readers
            .create_reader_category(bearer(CreateReaderCategoryRequest { category: Some(zero_days) }, &token))
            .await,
        "category.history_rule",
    );
    assert_invalid(
        readers
            .update_reader_category(bearer(
                UpdateReaderCategoryRequest {
                    code: "student".into(),
                    history_rule: rule(HistoryRetention::Unspecified, 0),
                    ..Default::default()
                },
                &token,
            ))
            .await,
        "history_rule",
    );
    assert_refused(
        readers
            .update_reader_category(bearer(
                UpdateReaderCategoryRequest {
                    code: "nobody".into(),
                    name_en: "X".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await,
        Code::NotFound,
        Reason::ReaderCategoryNotFound,
    );

    // Students' history: 30 days; the names stay as they were.
    let student = readers
        .update_reader_category(bearer(
            UpdateReaderCategoryRequest {
                code: "student".into(),
                history_rule: rule(HistoryRetention::AnonymizeAfterDays, 30),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((student.name_zh.as_str(), student.name_en.as_str()), ("学生", "Student"));

    // Readers carry their category's rule, as circulation will read it.
    let school = readers
        .create_school(bearer(
            CreateSchoolRequest {
                code: "XH-PRI".into(),
                name: "徐汇区实验小学".into(),
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let pupil = readers
        .create_reader(bearer(
            CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: "R0001".into(),
                name: "王小明".into(),
                category: "student".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pupil.history_rule, rule(HistoryRetention::AnonymizeAfterDays, 30));
    let visitor = readers
        .create_reader(bearer(
            CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: "G0001".into(),
                name: "访客一".into(),
                category: "guest".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let looked_up = readers
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: "G0001".into() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(looked_up.history_rule, rule(HistoryRetention::NeverKeep, 0));

    // Erasure must ask circulation first; with circulation down it answers
    // UNAVAILABLE and the reader stays.
    let status = readers
        .erase_reader(bearer(
            EraseReaderRequest { reader_id: visitor.id.clone(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    readers.get_reader(bearer(GetReaderRequest { id: visitor.id }, &token)).await.unwrap();
    assert_refused(
        readers
            .erase_reader(bearer(
                EraseReaderRequest { reader_id: lectern_core::ids::new_id(), ..Default::default() },
                &token,
            ))
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    server.stop().await;
}
