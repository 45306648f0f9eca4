//! Roster import over real gRPC against a throw-away database (SQLite, or
//! PostgreSQL when `LECTERN_TEST_DATABASE_URL` is set): a dry run changes
//! nothing, apply does, a re-import finds everything unchanged, a bad file
//! changes nothing, a full roster deactivates who is missing, and only
//! district admins and the school's librarians may import. The ignored
//! `five_thousand_readers` test measures a 5,000-reader import:
//! `cargo test -p lectern-reader --release --test roster -- --ignored --nocapture`.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use lectern_common::testing::postgres_server_url;
use lectern_core::identity::{Grant, Role};
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::reader::v1::audit_service_client::AuditServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::roster_service_client::RosterServiceClient;
use lectern_proto::reader::v1::*;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// The reader service with the roster calls these tests make.
struct Server(support::Server);

impl Server {
    async fn start() -> Self {
        Self(support::Server::start().await)
    }

    fn channel(&self) -> Channel {
        self.0.channel()
    }

    fn token(&self, role: Role, schools: &[&str]) -> String {
        self.0.token(&Grant::staff(
            "staff-1",
            role,
            schools.iter().map(|school| (*school).to_owned()).collect(),
        ))
    }

    fn admin(&self) -> String {
        self.token(Role::DistrictAdmin, &[])
    }

    fn readers(&self) -> ReaderServiceClient<Channel> {
        self.0.readers()
    }

    async fn stop(self) {
        self.0.stop().await;
    }

    async fn school(&self, code: &str) -> School {
        let request = CreateSchoolRequest { code: code.into(), name: code.into(), request_id: String::new() };
        self.readers().create_school(bearer(request, &self.admin())).await.unwrap().into_inner()
    }

    /// Runs an import and returns the progress stages seen and the report.
    async fn import(
        &self,
        token: &str,
        request: ImportRosterRequest,
    ) -> Result<(Vec<i32>, RosterReport), tonic::Status> {
        let mut client = RosterServiceClient::new(self.channel());
        let mut stream = client.import_roster(bearer(request, token)).await?.into_inner();
        let mut stages = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.event.unwrap() {
                import_roster_response::Event::Progress(progress) => stages.push(progress.stage),
                import_roster_response::Event::Report(report) => {
                    assert!(stream.message().await?.is_none(), "the report is the last message");
                    return Ok((stages, report));
                }
            }
        }
        panic!("the stream ended without a report");
    }

    async fn readers_of(&self, school: &School) -> Vec<Reader> {
        let request =
            ListReadersRequest { school_id: school.id.clone(), page_size: 500, ..Default::default() };
        self.readers().list_readers(bearer(request, &self.admin())).await.unwrap().into_inner().readers
    }
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    lectern_core::client::with_bearer(message, token, Duration::from_secs(120))
}

fn csv_import(school: &School, text: &str, apply: bool) -> ImportRosterRequest {
    ImportRosterRequest {
        format: RosterFormat::LecternCsv.into(),
        school_id: school.id.clone(),
        files: vec![RosterFile { name: "roster.csv".into(), content: text.as_bytes().to_vec() }],
        apply,
        school_year: "2026-2027".into(),
        ..Default::default()
    }
}

fn counts(report: &RosterReport) -> (i64, i64, i64, i64, i64) {
    (report.created, report.updated, report.deactivated, report.unchanged, report.classes_created)
}

const ROSTER: &str = "学号,姓名,班级,年级,类别\n\
    S001,王小明,三年级(1)班,3,学生\n\
    S002,李小红,三年级(1)班,3,学生\n\
    S003,张三,三年级(2)班,3,学生\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_apply_reimport_and_a_bad_file() {
    let server = Server::start().await;
    let school = server.school("XH-PRI").await;
    let admin = server.admin();

    // A dry run says what would happen and changes nothing.
    let (stages, report) = server.import(&admin, csv_import(&school, ROSTER, false)).await.unwrap();
    assert!(!report.applied);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(counts(&report), (3, 0, 0, 0, 2));
    assert_eq!(report.changes.len(), 3);
    assert!(stages.contains(&(RosterStage::Reading as i32)));
    assert!(server.readers_of(&school).await.is_empty());

    // Apply makes the changes; the readers are there with their classes.
    let (stages, report) = server.import(&admin, csv_import(&school, ROSTER, true)).await.unwrap();
    assert!(report.applied);
    assert_eq!(counts(&report), (3, 0, 0, 0, 2));
    assert!(stages.contains(&(RosterStage::Applying as i32)));
    let readers = server.readers_of(&school).await;
    let mut listed: Vec<(&str, &str, &str, i32)> = readers
        .iter()
        .map(|reader| {
            (reader.number.as_str(), reader.card_barcode.as_str(), reader.class_name.as_str(), reader.grade)
        })
        .collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        vec![
            ("S001", "S001", "三年级(1)班", 3),
            ("S002", "S002", "三年级(1)班", 3),
            ("S003", "S003", "三年级(2)班", 3)
        ]
    );

    // The same roster again: nothing to do.
    let (_, report) = server.import(&admin, csv_import(&school, ROSTER, true)).await.unwrap();
    assert_eq!(counts(&report), (0, 0, 0, 3, 0));

    // A file with a changed name and a duplicate number changes nothing.
    let bad = "学号,姓名,班级,年级\nS001,王晓明,三年级(1)班,3\nS002,李小红,三年级(1)班,3\nS002,重复,三年级(1)班,3\n";
    let (_, report) = server.import(&admin, csv_import(&school, bad, true)).await.unwrap();
    assert!(!report.applied);
    let errors: Vec<(i64, &str, &str)> = report
        .errors
        .iter()
        .map(|error| (error.line, error.column.as_str(), error.message.as_str()))
        .collect();
    assert_eq!(errors, vec![(4, "学号", "number S002 is also on line 3")]);
    assert!(server.readers_of(&school).await.iter().any(|reader| reader.name == "王小明"));

    // A GB18030 file with a student who moved class and one who left; the
    // student missing from the full roster becomes inactive.
    let (moved, _, _) = encoding_rs::GB18030
        .encode("学号,姓名,班级,年级,状态\nS001,王小明,三年级(2)班,3,\nS002,李小红,,,离校\n");
    let mut request = csv_import(&school, "", true);
    request.files[0].content = moved.into_owned();
    let (_, report) = server.import(&admin, request).await.unwrap();
    assert!(report.applied, "{:?}", report.errors);
    assert_eq!(counts(&report), (0, 1, 2, 0, 0));
    let mut inactive: Vec<String> = server
        .readers_of(&school)
        .await
        .into_iter()
        .filter(|reader| reader.status == ReaderStatus::Inactive as i32)
        .map(|reader| reader.number)
        .collect();
    inactive.sort_unstable();
    assert_eq!(inactive, vec!["S002", "S003"]);

    // The audit log has the counts, never a name.
    let events = AuditServiceClient::new(server.channel())
        .list_audit_events(bearer(
            ListAuditEventsRequest { action: "roster_import".into(), ..Default::default() },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let outcomes: Vec<&str> = events.iter().map(|event| event.outcome.as_str()).collect();
    assert_eq!(outcomes.iter().filter(|outcome| **outcome == "succeeded").count(), 3, "{outcomes:?}");
    assert!(outcomes.contains(&"dry_run") && outcomes.contains(&"rejected"));
    assert!(events.iter().all(|event| event.subject_id == school.id && !event.detail.contains('王')));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_and_the_schools_librarians_import() {
    let server = Server::start().await;
    let school = server.school("XH-PRI").await;
    let other = server.school("OT-PRI").await;

    let librarian = server.token(Role::Librarian, &[school.id.as_str()]);
    let (_, report) = server.import(&librarian, csv_import(&school, ROSTER, true)).await.unwrap();
    assert!(report.applied);
    let status = server.import(&librarian, csv_import(&other, ROSTER, true)).await.unwrap_err();
    assert_eq!((status.code(), reason_of(&status)), (Code::PermissionDenied, Some(Reason::SchoolNotAllowed)));
    let assistant = server.token(Role::Assistant, &[school.id.as_str()]);
    let status = server.import(&assistant, csv_import(&school, ROSTER, false)).await.unwrap_err();
    assert_eq!((status.code(), reason_of(&status)), (Code::PermissionDenied, Some(Reason::RoleNotAllowed)));

    // Bad requests name the field.
    let mut no_format = csv_import(&school, ROSTER, false);
    no_format.format = 0;
    let status = server.import(&server.admin(), no_format).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("format:"), "{}", status.message());
    server.stop().await;
}

/// 5,000 students in 42 classes: dry run, apply, and re-import, timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn five_thousand_readers() {
    let server = Server::start().await;
    let school = server.school("BENCH").await;
    let admin = server.admin();
    let mut text = String::from("number,name,class,grade\n");
    for index in 0..5_000 {
        let grade = index % 6 + 1;
        text.push_str(&format!("G{index:07},学生{index},{grade}年级({})班,{grade}\n", index % 7 + 1));
    }
    let backend = if postgres_server_url().is_some() { "PostgreSQL" } else { "SQLite" };
    for (what, apply) in [("dry run", false), ("apply", true), ("re-import (all unchanged)", true)] {
        let started = Instant::now();
        let (_, report) = server.import(&admin, csv_import(&school, &text, apply)).await.unwrap();
        assert!(report.errors.is_empty());
        println!(
            "{backend}: 5,000 readers, {what}: {:.2} s (created {}, unchanged {})",
            started.elapsed().as_secs_f64(),
            report.created,
            report.unchanged
        );
    }
    assert_eq!(server.readers_of(&school).await.len(), 500);
    server.stop().await;
}
