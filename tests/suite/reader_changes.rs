//! Changing a reader's record at the desk: correcting their details (the
//! desk's summary follows at once) and giving them a new card in place of a
//! lost one (the old card then finds nobody, the new one works everywhere
//! with the same PIN). Refused and bad changes change nothing.

use lectern_core::ids;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{CheckOutRequest, GetReaderSummaryRequest};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{
    Class, CreateClassRequest, CreateReaderRequest, GetReaderRequest, ListAuditEventsRequest, LoginRequest,
    LoginResponse, LookupReaderRequest, Reader, ReaderCredentials, RefreshSessionRequest,
    ReplaceReaderCardRequest, School, SetReaderPinRequest, StaffRole, UpdateReaderRequest, login_request,
};
use tonic::{Code, Status};

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

async fn class(suite: &TestSuite, school: &School, name: &str, grade: i32) -> Class {
    suite
        .readers()
        .create_class(suite.admin(CreateClassRequest {
            school_id: school.id.clone(),
            name: name.into(),
            grade,
            school_year: "2026-2027".into(),
            request_id: String::new(),
        }))
        .await
        .expect("class created")
        .into_inner()
}

async fn reader(suite: &TestSuite, id: &str) -> Reader {
    suite.readers().get_reader(suite.admin(GetReaderRequest { id: id.into() })).await.unwrap().into_inner()
}

/// The reader the desk's summary shows for `card`.
async fn summary_reader(suite: &TestSuite, token: &str, card: &str) -> Result<Reader, Status> {
    let request = GetReaderSummaryRequest { reader_card_barcode: card.into(), ..Default::default() };
    let summary = suite.loans().get_reader_summary(bearer(request, token)).await?.into_inner();
    Ok(summary.reader.expect("the summary names the reader"))
}

async fn sign_in(suite: &TestSuite, card: &str, pin: &str) -> Result<LoginResponse, Status> {
    let credentials = ReaderCredentials { card_barcode: card.into(), pin: pin.into() };
    let request = LoginRequest { credentials: Some(login_request::Credentials::Reader(credentials)) };
    GatewayServiceClient::new(suite.channel.clone()).login(request).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_readers_record_is_corrected_at_the_desk() {
    let suite = TestSuite::start().await;
    let school = suite.school("UPD-PRI", "更正小学").await;
    let other = suite.school("UPD-MID", "更正中学").await;
    let third_grade = class(&suite, &school, "三年级(1)班", 3).await;
    let fourth_grade = class(&suite, &school, "四年级(2)班", 4).await;
    let elsewhere = class(&suite, &other, "四年级(1)班", 4).await;
    let librarian = suite.staff("upd.librarian", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("upd.assistant", StaffRole::Assistant, &[&school]).await;
    let stranger = suite.staff("upd.stranger", StaffRole::Librarian, &[&other]).await;
    let register = |card: &str, number: &str| CreateReaderRequest {
        school_id: school.id.clone(),
        card_barcode: card.into(),
        name: "王小明".into(),
        category: "student".into(),
        class_id: third_grade.id.clone(),
        number: number.into(),
        ..Default::default()
    };
    let student = suite.readers().create_reader(suite.admin(register("R960001", "G001"))).await.unwrap();
    let student = student.into_inner();
    suite.readers().create_reader(suite.admin(register("R960002", "G002"))).await.expect("classmate");

    // Moved to another class, the card extended, the name corrected: the
    // desk's summary of the scanned card shows the new class at once.
    let update =
        |changes: UpdateReaderRequest| UpdateReaderRequest { reader_id: student.id.clone(), ..changes };
    let updated = suite
        .readers()
        .update_reader(bearer(
            update(UpdateReaderRequest {
                name: Some("王晓明".into()),
                class_id: Some(fourth_grade.id.clone()),
                expires_on: Some(suite.days_from_now(700)),
                request_id: "5a2f8e9c-6a0b-4c1e-9a57-2f6d1c3b7e01".into(),
                ..Default::default()
            }),
            &librarian,
        ))
        .await
        .expect("record corrected")
        .into_inner();
    assert_eq!(
        (updated.name.as_str(), updated.class_id.as_str(), updated.grade, updated.class_name.as_str()),
        ("王晓明", fourth_grade.id.as_str(), 4, "四年级(2)班")
    );
    assert_eq!(updated.expires_on, suite.days_from_now(700));
    assert_eq!(
        (updated.number.as_str(), updated.category.as_str()),
        ("G001", "student"),
        "unset fields stay"
    );
    let shown = summary_reader(&suite, &assistant, "R960001").await.expect("summary");
    assert_eq!(
        (shown.class_id.as_str(), shown.class_name.as_str()),
        (fourth_grade.id.as_str(), "四年级(2)班")
    );
    assert_eq!(shown.name, "王晓明");

    // A retry with the same request id answers the same and changes nothing.
    let retried = suite
        .readers()
        .update_reader(bearer(
            update(UpdateReaderRequest {
                name: Some("someone else".into()),
                request_id: "5a2f8e9c-6a0b-4c1e-9a57-2f6d1c3b7e01".into(),
                ..Default::default()
            }),
            &librarian,
        ))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retried.name, "王晓明");
    assert_eq!(reader(&suite, &student.id).await.name, "王晓明");

    // An assistant makes them a teacher with no class and no number.
    let teacher = suite
        .readers()
        .update_reader(bearer(
            update(UpdateReaderRequest {
                category: Some("Teacher".into()),
                class_id: Some(String::new()),
                number: Some(String::new()),
                ..Default::default()
            }),
            &assistant,
        ))
        .await
        .expect("assistant's correction")
        .into_inner();
    assert_eq!(
        (teacher.category.as_str(), teacher.class_id.as_str(), teacher.grade, teacher.number.as_str()),
        ("teacher", "", 0, "")
    );
    assert_eq!(summary_reader(&suite, &librarian, "R960001").await.unwrap().category, "teacher");

    // Audited with the fields changed, never their values.
    let audit = suite
        .readers_audit()
        .list_audit_events(suite.admin(ListAuditEventsRequest {
            subject_id: student.id.clone(),
            action: "reader_changed".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .events;
    let details: Vec<&str> = audit.iter().map(|event| event.detail.as_str()).collect();
    assert_eq!(details, ["updated: category, class, number", "updated: name, class, expires_on", "created"]);

    // Refusals and bad input change nothing.
    let before = reader(&suite, &student.id).await;
    let attempt = |changes: UpdateReaderRequest, token: &str| {
        let (mut readers, request) = (suite.readers(), bearer(update(changes), token));
        async move { readers.update_reader(request).await }
    };
    assert_refused(
        attempt(
            UpdateReaderRequest { class_id: Some(elsewhere.id.clone()), ..Default::default() },
            &librarian,
        )
        .await,
        Code::NotFound,
        Reason::ClassNotFound,
    );
    assert_refused(
        attempt(UpdateReaderRequest { number: Some("G002".into()), ..Default::default() }, &librarian).await,
        Code::AlreadyExists,
        Reason::ReaderNumberTaken,
    );
    assert_refused(
        attempt(UpdateReaderRequest { name: Some("李雷".into()), ..Default::default() }, &stranger).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        suite
            .readers()
            .update_reader(bearer(
                UpdateReaderRequest {
                    reader_id: ids::new_id(),
                    name: Some("李雷".into()),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_invalid(
        suite
            .readers()
            .update_reader(bearer(
                UpdateReaderRequest { name: Some("李雷".into()), ..Default::default() },
                &librarian,
            ))
            .await,
        "reader_id",
    );
    for (bad, field) in [
        (UpdateReaderRequest { name: Some("  ".into()), ..Default::default() }, "name"),
        (UpdateReaderRequest { name: Some("名".repeat(101)), ..Default::default() }, "name"),
        (UpdateReaderRequest { category: Some("wizard".into()), ..Default::default() }, "category"),
        (UpdateReaderRequest { class_id: Some("4B".into()), ..Default::default() }, "class_id"),
        (UpdateReaderRequest { expires_on: Some("2027-02-30".into()), ..Default::default() }, "expires_on"),
        (UpdateReaderRequest { number: Some("G 3".into()), ..Default::default() }, "number"),
        (
            UpdateReaderRequest {
                name: Some("李雷".into()),
                request_id: "not an id".into(),
                ..Default::default()
            },
            "request_id",
        ),
    ] {
        assert_invalid(attempt(bad, &librarian).await, field);
    }
    assert_eq!(reader(&suite, &student.id).await, before);
}

#[tokio::test]
async fn a_lost_card_is_replaced_and_the_old_one_finds_nobody() {
    let suite = TestSuite::start().await;
    let school = suite.school("CARD-PRI", "补卡小学").await;
    let other = suite.school("CARD-MID", "补卡中学").await;
    let librarian = suite.staff("card.librarian", StaffRole::Librarian, &[&school]).await;
    let stranger = suite.staff("card.stranger", StaffRole::Librarian, &[&other]).await;
    let student = suite.student(&school, "R970001").await;
    suite.student(&school, "R970009").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C970001").await;
    suite.copy(&title, &school, "C970002").await;
    suite
        .readers()
        .set_reader_pin(
            suite.admin(SetReaderPinRequest { reader_id: student.id.clone(), pin: "2468".into() }),
        )
        .await
        .expect("PIN set");
    let on_phone = sign_in(&suite, "R970001", "2468").await.expect("signed in with the card");
    let lend = |card: &str, copy: &str| {
        let request = CheckOutRequest {
            reader_card_barcode: card.into(),
            copy_barcode: copy.into(),
            ..Default::default()
        };
        let (mut loans, request) = (suite.loans(), bearer(request, &librarian));
        async move { loans.check_out(request).await }
    };
    lend("R970001", "C970001").await.expect("lent on the old card");

    let replaced = suite
        .readers()
        .replace_reader_card(bearer(
            ReplaceReaderCardRequest {
                reader_id: student.id.clone(),
                new_card_barcode: " R970002 ".into(),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("card replaced")
        .into_inner();
    assert_eq!((replaced.id.as_str(), replaced.card_barcode.as_str()), (student.id.as_str(), "R970002"));

    // The old card finds nobody: not at the desk, not at check-out.
    assert_refused(
        suite
            .readers()
            .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R970001".into() }, &librarian))
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_refused(
        summary_reader(&suite, &librarian, "R970001").await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_refused(lend("R970001", "C970002").await, Code::NotFound, Reason::ReaderNotFound);

    // The new card finds the reader with their loans, and lends.
    let found = suite
        .readers()
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R970002".into() }, &librarian))
        .await
        .expect("new card looked up")
        .into_inner();
    assert_eq!(found.id, student.id);
    lend("R970002", "C970002").await.expect("lent on the new card");
    let summary = suite
        .loans()
        .get_reader_summary(bearer(
            GetReaderSummaryRequest { reader_card_barcode: "R970002".into(), ..Default::default() },
            &librarian,
        ))
        .await
        .expect("summary by the new card")
        .into_inner();
    let mut barcodes: Vec<&str> = summary.loans.iter().map(|loan| loan.copy_barcode.as_str()).collect();
    barcodes.sort_unstable();
    assert_eq!(barcodes, ["C970001", "C970002"], "loans made on either card are the reader's");

    // The same PIN signs in with the new card only; the session opened
    // with the lost card has ended.
    let signed_in = sign_in(&suite, "R970002", "2468").await.expect("signed in with the new card");
    assert_eq!(signed_in.subject_id, student.id);
    assert_refused(
        sign_in(&suite, "R970001", "2468").await,
        Code::Unauthenticated,
        Reason::CredentialsInvalid,
    );
    assert_refused(
        suite
            .identity()
            .refresh_session(RefreshSessionRequest { refresh_token: on_phone.refresh_token })
            .await,
        Code::Unauthenticated,
        Reason::SessionEnded,
    );

    // Refusals and bad input change nothing.
    let replace = |reader_id: &str, card: &str, token: &str| {
        let request = ReplaceReaderCardRequest {
            reader_id: reader_id.into(),
            new_card_barcode: card.into(),
            request_id: String::new(),
        };
        let (mut readers, request) = (suite.readers(), bearer(request, token));
        async move { readers.replace_reader_card(request).await }
    };
    assert_refused(
        replace(&student.id, "R970009", &librarian).await,
        Code::AlreadyExists,
        Reason::CardBarcodeTaken,
    );
    assert_refused(
        replace(&student.id, "R970003", &stranger).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        replace(&ids::new_id(), "R970003", &librarian).await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_invalid(replace(&student.id, "R970002", &librarian).await, "new_card_barcode");
    assert_invalid(replace(&student.id, "", &librarian).await, "new_card_barcode");
    assert_invalid(replace(&student.id, "R 970003", &librarian).await, "new_card_barcode");
    assert_invalid(replace(&student.id, &"9".repeat(65), &librarian).await, "new_card_barcode");
    assert_invalid(replace("", "R970003", &librarian).await, "reader_id");
    assert_eq!(reader(&suite, &student.id).await.card_barcode, "R970002");
    assert_refused(
        suite
            .readers()
            .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R970003".into() }, &librarian))
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
}
