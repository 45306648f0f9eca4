//! Year-end promotion over real gRPC, on SQLite (or PostgreSQL with
//! `LECTERN_TEST_DATABASE_URL`): the preview is what apply does, apply is
//! all or nothing, and a year is promoted once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lectern_core::identity::{Grant, Role};
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::*;
use support::{Server, assert_invalid, assert_refused, bearer};
use tonic::Code;

const FROM: &str = "2026-2027";
const TO: &str = "2027-2028";

fn year_end(school_id: &str, request_id: &str) -> YearEndRequest {
    YearEndRequest {
        school_id: school_id.into(),
        from_school_year: FROM.into(),
        to_school_year: TO.into(),
        top_grade: 6,
        graduate_expires_on: "2027-08-31".into(),
        request_id: request_id.into(),
    }
}

/// A primary school with a third grade and a sixth grade class, students,
/// a teacher in the third grade class and a student who left.
struct Primary {
    school: School,
    third: Class,
    sixth: Class,
    pupil: Reader,
    graduate: Reader,
    teacher: Reader,
    left: Reader,
}

async fn primary(server: &Server, code: &str) -> Primary {
    let school = server.school(code).await;
    let third = server.class(&school.id, "三年级(1)班", 3, FROM).await;
    let sixth = server.class(&school.id, "六年级(1)班", 6, FROM).await;
    let pupil = server.reader(&school.id, &format!("{code}-P1"), "student", &third.id).await;
    server.reader(&school.id, &format!("{code}-P2"), "student", &third.id).await;
    let graduate = server.reader(&school.id, &format!("{code}-G1"), "student", &sixth.id).await;
    let teacher = server.reader(&school.id, &format!("{code}-T1"), "teacher", &third.id).await;
    let left = server.reader(&school.id, &format!("{code}-L1"), "student", &third.id).await;
    server.execute(
        &format!("UPDATE readers SET status = 'inactive' WHERE id = '{}'", left.id),
        &format!("UPDATE readers SET status = 'inactive' WHERE id = '{}'", left.id),
    );
    Primary { school, third, sixth, pupil, graduate, teacher, left }
}

async fn get(server: &Server, id: &str) -> Reader {
    server
        .readers()
        .get_reader(bearer(GetReaderRequest { id: id.into() }, &server.admin()))
        .await
        .unwrap()
        .into_inner()
}

async fn classes(server: &Server, school_id: &str, school_year: &str) -> Vec<Class> {
    let request = ListClassesRequest {
        school_id: school_id.into(),
        school_year: school_year.into(),
        ..Default::default()
    };
    server.readers().list_classes(bearer(request, &server.admin())).await.unwrap().into_inner().classes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_librarian_previews_then_applies_the_same_plan_once() {
    let server = Server::start().await;
    let it = primary(&server, "XH-PRI").await;
    let librarian = server.staff("lib-a", Role::Librarian, &it.school.id);
    let mut years = server.school_years();

    let preview =
        years.preview_year_end(bearer(year_end(&it.school.id, ""), &librarian)).await.unwrap().into_inner();
    assert!(!preview.applied);
    assert_eq!(preview.promotions.len(), 1);
    let promotion = &preview.promotions[0];
    assert_eq!(
        (
            promotion.from_class_id.as_str(),
            promotion.to_class_name.as_str(),
            promotion.to_grade,
            promotion.student_count
        ),
        (it.third.id.as_str(), "四年级(1)班", 4, 2),
        "the teacher and the student who left do not count"
    );
    assert!(promotion.to_class_id.is_empty());
    assert_eq!(preview.graduations.len(), 1);
    assert_eq!(
        (preview.graduations[0].class_id.as_str(), preview.graduations[0].graduate_count),
        (it.sixth.id.as_str(), 1)
    );
    assert_eq!((preview.promoted_students, preview.graduates), (2, 1));
    assert!(classes(&server, &it.school.id, TO).await.is_empty(), "a preview changes nothing");

    let applied = years
        .apply_year_end(bearer(year_end(&it.school.id, "year-end-1"), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert!(applied.applied);
    let mut expected = preview.clone();
    expected.applied = true;
    expected.promotions[0].to_class_id = applied.promotions[0].to_class_id.clone();
    assert_eq!(applied, expected, "apply does what the preview showed");

    let new_classes = classes(&server, &it.school.id, TO).await;
    assert_eq!(new_classes.len(), 1);
    assert_eq!(
        (new_classes[0].id.as_str(), new_classes[0].name.as_str(), new_classes[0].grade),
        (applied.promotions[0].to_class_id.as_str(), "四年级(1)班", 4)
    );
    let pupil = get(&server, &it.pupil.id).await;
    assert_eq!(
        (pupil.class_id.as_str(), pupil.grade, pupil.status),
        (new_classes[0].id.as_str(), 4, ReaderStatus::Active as i32)
    );
    let graduate = get(&server, &it.graduate.id).await;
    assert_eq!(graduate.status, ReaderStatus::Inactive as i32);
    assert_eq!(
        (graduate.expires_on.as_str(), graduate.class_id.as_str()),
        ("2027-08-31", it.sixth.id.as_str())
    );
    assert_eq!(get(&server, &it.teacher.id).await.class_id, it.third.id, "teachers stay");
    assert_eq!(get(&server, &it.left.id).await.class_id, it.third.id, "readers who left stay");

    // A retry with the same request id answers the same; any other second run is refused.
    let retried = years
        .apply_year_end(bearer(year_end(&it.school.id, "year-end-1"), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, applied);
    assert_refused(
        years.apply_year_end(bearer(year_end(&it.school.id, "year-end-2"), &server.admin())).await,
        Code::FailedPrecondition,
        Reason::YearEndAlreadyApplied,
    );
    assert_refused(
        years.preview_year_end(bearer(year_end(&it.school.id, ""), &librarian)).await,
        Code::FailedPrecondition,
        Reason::YearEndAlreadyApplied,
    );
    assert_eq!(classes(&server, &it.school.id, TO).await.len(), 1, "promoted once");
    assert_eq!(get(&server, &it.pupil.id).await.grade, 4);

    // The audit log has the counts, and no names.
    let events = lectern_proto::reader::v1::audit_service_client::AuditServiceClient::new(server.channel())
        .list_audit_events(bearer(
            ListAuditEventsRequest { action: "year_end_applied".into(), ..Default::default() },
            &server.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].actor_id.as_str(), events[0].subject_id.as_str()),
        ("lib-a", it.school.id.as_str())
    );
    assert!(events[0].detail.contains("promoted=2 graduated=1"), "{:?}", events[0].detail);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_schools_librarians_run_year_end() {
    let server = Server::start().await;
    let it = primary(&server, "XH-PRI").await;
    let other = server.school("XH-MID").await;
    let request = || year_end(&it.school.id, "");
    let mut years = server.school_years();
    for (token, reason) in [
        (server.staff("asst-a", Role::Assistant, &it.school.id), Reason::RoleNotAllowed),
        (server.token(&Grant::reader(&it.pupil.id, &it.school.id)), Reason::RoleNotAllowed),
        (server.staff("lib-b", Role::Librarian, &other.id), Reason::SchoolNotAllowed),
    ] {
        assert_refused(
            years.preview_year_end(bearer(request(), &token)).await,
            Code::PermissionDenied,
            reason,
        );
        assert_refused(years.apply_year_end(bearer(request(), &token)).await, Code::PermissionDenied, reason);
    }
    let admin = server.admin();
    assert_invalid(
        years
            .preview_year_end(bearer(
                YearEndRequest { to_school_year: "2028-2029".into(), ..request() },
                &admin,
            ))
            .await,
        "to_school_year",
    );
    assert_invalid(
        years.apply_year_end(bearer(YearEndRequest { top_grade: 0, ..request() }, &admin)).await,
        "top_grade",
    );
    assert_invalid(
        years.apply_year_end(bearer(YearEndRequest { top_grade: 5, ..request() }, &admin)).await,
        "top_grade",
    );
    assert_refused(
        years
            .apply_year_end(bearer(
                YearEndRequest {
                    from_school_year: "2025-2026".into(),
                    to_school_year: FROM.into(),
                    ..request()
                },
                &admin,
            ))
            .await,
        Code::FailedPrecondition,
        Reason::YearEndNothingToPromote,
    );
    assert!(classes(&server, &it.school.id, TO).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_apply_changes_nothing() {
    let server = Server::start().await;
    let it = primary(&server, "XH-PRI").await;
    let librarian = server.staff("lib-a", Role::Librarian, &it.school.id);
    let mut years = server.school_years();

    // A refusal found while planning: the new year already has a class of
    // the name the third grade would get.
    let taken = server.class(&it.school.id, "四年级(1)班", 4, TO).await;
    assert_refused(
        years.apply_year_end(bearer(year_end(&it.school.id, ""), &librarian)).await,
        Code::AlreadyExists,
        Reason::ClassNameTaken,
    );
    assert_eq!(classes(&server, &it.school.id, TO).await, std::slice::from_ref(&taken));
    server.execute(
        &format!("DELETE FROM classes WHERE id = '{}'", taken.id),
        &format!("DELETE FROM classes WHERE id = '{}'", taken.id),
    );

    // A failure half-way: the graduation step fails after the new class
    // was opened and the third grade moved into it.
    server.execute(
        "CREATE TRIGGER no_graduation BEFORE UPDATE OF status ON readers
         WHEN NEW.status = 'inactive' BEGIN SELECT RAISE(ABORT, 'graduation failed'); END;",
        "CREATE FUNCTION no_graduation() RETURNS trigger AS $$
         BEGIN RAISE EXCEPTION 'graduation failed'; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER no_graduation BEFORE UPDATE OF status ON readers
         FOR EACH ROW WHEN (NEW.status = 'inactive') EXECUTE FUNCTION no_graduation();",
    );
    let status =
        years.apply_year_end(bearer(year_end(&it.school.id, "attempt-1"), &librarian)).await.unwrap_err();
    assert!(matches!(status.code(), Code::Internal | Code::Unavailable), "{status:?}");
    assert!(classes(&server, &it.school.id, TO).await.is_empty(), "no new class is left behind");
    assert_eq!(get(&server, &it.pupil.id).await.class_id, it.third.id, "nobody moved");
    assert_eq!(get(&server, &it.graduate.id).await.status, ReaderStatus::Active as i32);

    // Once the fault is gone the same request id applies it, whole.
    server.execute(
        "DROP TRIGGER no_graduation;",
        "DROP TRIGGER no_graduation ON readers; DROP FUNCTION no_graduation();",
    );
    let applied = years
        .apply_year_end(bearer(year_end(&it.school.id, "attempt-1"), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((applied.promoted_students, applied.graduates), (2, 1));
    assert_eq!(get(&server, &it.graduate.id).await.status, ReaderStatus::Inactive as i32);
    server.stop().await;
}
