//! Readers' rights over their data, through the gateway: a category's
//! history rule makes returned loans forget their reader (at once, or after
//! some days) and takes the loans' notices with them; a reader who owes
//! nothing can be erased everywhere; a reader's data can be exported.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckOutRequest, GetLoanRequest, ListLoansRequest, Loan, LoanFilter,
};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateReaderCategoryRequest, CreateReaderContactRequest, CreateReaderRequest,
    EraseReaderRequest, ExportReaderDataRequest, GetReaderRequest, HistoryRetention, HistoryRule,
    ListAuditEventsRequest, ListReaderCategoriesRequest, LookupReaderRequest, Reader, ReaderCategory, School,
    StaffRole, UpdateReaderCategoryRequest,
};
use tonic::Code;

use crate::harness::{ADMIN_PASSWORD, TestSuite, assert_refused, bearer, eventually};

const WAIT: Duration = Duration::from_secs(20);

fn rule(retention: HistoryRetention, days: i32) -> Option<HistoryRule> {
    Some(HistoryRule { retention: retention.into(), anonymize_after_days: days })
}

async fn reader(suite: &TestSuite, school: &School, card: &str, category: &str) -> Reader {
    suite
        .readers()
        .create_reader(suite.admin(CreateReaderRequest {
            school_id: school.id.clone(),
            card_barcode: card.into(),
            name: "李小红".into(),
            category: category.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
}

async fn lend(suite: &TestSuite, card: &str, copy: &str) -> Loan {
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: card.into(),
            copy_barcode: copy.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .loan
        .unwrap()
}

async fn give_back(suite: &TestSuite, copy: &str) {
    let answer = suite
        .loans()
        .check_in(suite.admin(CheckInRequest {
            copy_barcode: copy.into(),
            request_id: String::new(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.was_on_loan);
}

async fn loan(suite: &TestSuite, id: &str) -> Loan {
    suite.loans().get_loan(suite.admin(GetLoanRequest { id: id.into() })).await.unwrap().into_inner()
}

async fn notice_count(suite: &TestSuite, reader_id: &str) -> usize {
    suite
        .notifications()
        .list_notices(suite.admin(ListNoticesRequest { reader_id: reader_id.into(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .notices
        .len()
}

async fn history(suite: &TestSuite, reader_id: &str) -> Vec<Loan> {
    suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest {
            reader_id: reader_id.into(),
            filter: LoanFilter::All.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .loans
}

#[tokio::test]
async fn history_rules_make_returned_loans_forget_their_reader() {
    let mut suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let title = suite.title("9787534627576", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C0001").await;
    suite.copy(&title, &school, "C0002").await;

    // A category that keeps no history, and teachers' history kept 7 days.
    let guest = suite
        .readers()
        .create_reader_category(suite.admin(CreateReaderCategoryRequest {
            category: Some(ReaderCategory {
                code: "guest".into(),
                name_zh: "访客".into(),
                name_en: "Guest".into(),
                history_rule: rule(HistoryRetention::NeverKeep, 0),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(guest.history_rule, rule(HistoryRetention::NeverKeep, 0));
    suite
        .readers()
        .update_reader_category(suite.admin(UpdateReaderCategoryRequest {
            code: "teacher".into(),
            history_rule: rule(HistoryRetention::AnonymizeAfterDays, 7),
            ..Default::default()
        }))
        .await
        .unwrap();
    let categories = suite
        .readers()
        .list_reader_categories(suite.admin(ListReaderCategoriesRequest {}))
        .await
        .unwrap()
        .into_inner()
        .categories;
    let teacher = categories.iter().find(|category| category.code == "teacher").unwrap();
    assert_eq!(teacher.name_en, "Teacher", "an update without names keeps them");
    assert_eq!(teacher.history_rule, rule(HistoryRetention::AnonymizeAfterDays, 7));

    let visitor = reader(&suite, &school, "G0001", "guest").await;
    assert_eq!(visitor.history_rule, rule(HistoryRetention::NeverKeep, 0));
    let teacher = reader(&suite, &school, "T0001", "teacher").await;

    // Never keep: the loan forgets the reader as the copy comes back, and
    // the receipts about it go.
    let guest_loan = lend(&suite, "G0001", "C0001").await;
    eventually(WAIT, "the check-out receipt", || async {
        (notice_count(&suite, &visitor.id).await == 1).then_some(())
    })
    .await;
    give_back(&suite, "C0001").await;
    let anonymized = loan(&suite, &guest_loan.id).await;
    assert_eq!(anonymized.reader_id, "");
    assert!(anonymized.anonymize_time.is_some() && anonymized.returned_at.is_some());
    assert_eq!(anonymized.title, "草房子", "the loan itself stays for statistics");
    assert!(history(&suite, &visitor.id).await.is_empty());
    eventually(WAIT, "the guest's notices purged", || async {
        (notice_count(&suite, &visitor.id).await == 0).then_some(())
    })
    .await;

    // Seven days: the returned loan names the teacher until then.
    let teacher_loan = lend(&suite, "T0001", "C0002").await;
    give_back(&suite, "C0002").await;
    eventually(WAIT, "the teacher's receipts", || async {
        (notice_count(&suite, &teacher.id).await == 2).then_some(())
    })
    .await;
    suite.clock.advance(chrono::Duration::days(6));
    suite.admin_token = suite.login("admin", ADMIN_PASSWORD).await.unwrap().access_token;
    assert_eq!(loan(&suite, &teacher_loan.id).await.reader_id, teacher.id, "six days on it is kept");
    assert_eq!(history(&suite, &teacher.id).await.len(), 1);

    suite.clock.advance(chrono::Duration::days(2));
    suite.admin_token = suite.login("admin", ADMIN_PASSWORD).await.unwrap().access_token;
    eventually(WAIT, "the teacher's loan anonymized", || async {
        loan(&suite, &teacher_loan.id).await.reader_id.is_empty().then_some(())
    })
    .await;
    assert!(history(&suite, &teacher.id).await.is_empty());
    eventually(WAIT, "the teacher's notices purged", || async {
        (notice_count(&suite, &teacher.id).await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_reader_who_owes_nothing_is_erased_everywhere() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let title = suite.title("9787534627576", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C0001").await;
    let student = suite.student(&school, "R0001").await;
    let lent = lend(&suite, "R0001", "C0001").await;

    // Erasure waits until every copy is back.
    let refused = assert_refused(
        suite
            .readers()
            .erase_reader(
                suite.admin(EraseReaderRequest { reader_id: student.id.clone(), ..Default::default() }),
            )
            .await,
        Code::FailedPrecondition,
        Reason::ReaderHasOpenLoans,
    );
    assert!(refused.message().contains("books on loan (1)"), "{refused:?}");
    assert_eq!(loan(&suite, &lent.id).await.reader_id, student.id, "a refusal changes nothing");

    give_back(&suite, "C0001").await;
    eventually(WAIT, "both receipts", || async {
        (notice_count(&suite, &student.id).await == 2).then_some(())
    })
    .await;

    // The family's phone is on file, and the reader is signed in on a phone.
    let mut profiles = ReaderProfileServiceClient::new(suite.channel.clone());
    let add_phone = CreateReaderContactRequest {
        reader_id: student.id.clone(),
        who: ContactWho::Guardian.into(),
        channel: ContactChannel::Phone.into(),
        value: "13900000001".into(),
        label: "妈妈".into(),
        request_id: lectern_core::ids::new_id(),
    };
    profiles.create_reader_contact(suite.admin(add_phone.clone())).await.unwrap();
    let on_phone = suite.reader_signed_in(&student, "0427").await;
    let request_id = lectern_core::ids::new_id();
    let erase_request =
        || suite.admin(EraseReaderRequest { reader_id: student.id.clone(), request_id: request_id.clone() });
    let erased = suite.readers().erase_reader(erase_request()).await.unwrap().into_inner();
    assert_eq!(erased.reader_id, student.id);
    // A retry with the same request id gets the same answer.
    assert_eq!(suite.readers().erase_reader(erase_request()).await.unwrap().into_inner(), erased);

    // Gone from the reader service...
    assert_refused(
        suite.readers().get_reader(suite.admin(GetReaderRequest { id: student.id.clone() })).await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_refused(
        suite
            .readers()
            .lookup_reader(suite.admin(LookupReaderRequest { card_barcode: "R0001".into() }))
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    // The phone's session ended, and no remembered answer still holds the
    // family's number: replaying the request finds no reader.
    eventually(WAIT, "the reader's own session to end", || async {
        let answer =
            suite.readers().get_reader(bearer(GetReaderRequest { id: student.id.clone() }, &on_phone)).await;
        matches!(answer, Err(status) if status.code() == Code::Unauthenticated).then_some(())
    })
    .await;
    assert_refused(
        profiles.create_reader_contact(suite.admin(add_phone)).await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    // ...from circulation, which keeps the loan without the reader...
    eventually(WAIT, "the loan anonymized", || async {
        loan(&suite, &lent.id).await.reader_id.is_empty().then_some(())
    })
    .await;
    assert_eq!(loan(&suite, &lent.id).await.title, "草房子");
    assert!(history(&suite, &student.id).await.is_empty());
    // ...and from notification.
    eventually(WAIT, "the notices purged", || async {
        (notice_count(&suite, &student.id).await == 0).then_some(())
    })
    .await;

    // The audit log has the refusal and the erasure, by id only.
    let audit = suite
        .readers_audit()
        .list_audit_events(
            suite.admin(ListAuditEventsRequest { subject_id: student.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner()
        .events;
    let erasures: Vec<&str> = audit
        .iter()
        .filter(|event| event.action == "reader.erase")
        .map(|event| event.outcome.as_str())
        .collect();
    assert_eq!(erasures, ["succeeded", "refused_obligations"]);
    // The remembered answer of a registration goes too: replaying its
    // request id registers someone new rather than bringing the record back.
    let registration = CreateReaderRequest {
        school_id: school.id.clone(),
        card_barcode: "R0009".into(),
        name: "张三".into(),
        category: "student".into(),
        request_id: lectern_core::ids::new_id(),
        ..Default::default()
    };
    let registered =
        suite.readers().create_reader(suite.admin(registration.clone())).await.unwrap().into_inner();
    suite
        .readers()
        .erase_reader(
            suite.admin(EraseReaderRequest { reader_id: registered.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap();
    let again = suite.readers().create_reader(suite.admin(registration)).await.unwrap().into_inner();
    assert_ne!(again.id, registered.id);

    // A second erasure (no request id) finds nobody.
    assert_refused(
        suite
            .readers()
            .erase_reader(
                suite.admin(EraseReaderRequest { reader_id: student.id.clone(), ..Default::default() }),
            )
            .await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
}

#[tokio::test]
async fn a_readers_data_exports_as_json_with_loans_and_notices() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let title = suite.title("9787534627576", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C0001").await;
    let expires_on = suite.days_from_now(365);
    let student = suite.student_until(&school, "R0001", &expires_on).await;
    lend(&suite, "R0001", "C0001").await;
    eventually(WAIT, "the receipt", || async {
        (notice_count(&suite, &student.id).await == 1).then_some(())
    })
    .await;

    let export = suite
        .readers()
        .export_reader_data(suite.admin(ExportReaderDataRequest { reader_id: student.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    let document: serde_json::Value = serde_json::from_str(&export.json).unwrap();
    assert_eq!(document["reader"]["name"], "王小明");
    assert_eq!(document["reader"]["card_barcode"], "R0001");
    assert_eq!(document["reader"]["expires_on"], expires_on.as_str());
    assert_eq!(document["loans"].as_array().unwrap().len(), 1);
    assert_eq!(document["loans"][0]["title"], "草房子");
    assert_eq!(document["notices"].as_array().unwrap().len(), 1);
    assert!(document["notices"][0]["message"].as_str().unwrap().contains("草房子"));

    let audit = suite
        .readers_audit()
        .list_audit_events(suite.admin(ListAuditEventsRequest {
            subject_id: student.id.clone(),
            action: "reader.export".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].detail.contains("王小明"));

    // Readers may export their own data, and only theirs.
    let other = suite.student(&school, "R0002").await;
    let token = suite.reader_signed_in(&student, "0427").await;
    let own = suite
        .readers()
        .export_reader_data(bearer(ExportReaderDataRequest { reader_id: student.id.clone() }, &token))
        .await
        .unwrap()
        .into_inner();
    let own: serde_json::Value = serde_json::from_str(&own.json).unwrap();
    assert_eq!(own["loans"].as_array().unwrap().len(), 1);
    assert_eq!(own["pin"]["set"], true);
    assert_refused(
        suite
            .readers()
            .export_reader_data(bearer(ExportReaderDataRequest { reader_id: other.id }, &token))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
}

#[tokio::test]
async fn only_district_admins_edit_categories_and_assistants_never_erase() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let student = suite.student(&school, "R0001").await;
    let other_school = suite.school("PD-PRI", "浦东新区实验小学").await;
    let assistant = suite.staff("wang.fang", StaffRole::Assistant, &[&school]).await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&other_school]).await;
    let own_librarian = suite.staff("zhao.lei", StaffRole::Librarian, &[&school]).await;

    assert_refused(
        suite
            .readers()
            .update_reader_category(bearer(
                UpdateReaderCategoryRequest {
                    code: "student".into(),
                    history_rule: rule(HistoryRetention::NeverKeep, 0),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // Staff may read the categories.
    suite.readers().list_reader_categories(bearer(ListReaderCategoriesRequest {}, &assistant)).await.unwrap();
    assert_refused(
        suite
            .readers()
            .erase_reader(bearer(
                EraseReaderRequest { reader_id: student.id.clone(), ..Default::default() },
                &assistant,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // A librarian who does not work for the reader's school may neither
    // erase nor export the reader.
    assert_refused(
        suite
            .readers()
            .erase_reader(bearer(
                EraseReaderRequest { reader_id: student.id.clone(), ..Default::default() },
                &librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        suite
            .readers()
            .export_reader_data(bearer(ExportReaderDataRequest { reader_id: student.id.clone() }, &librarian))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    suite.readers().get_reader(suite.admin(GetReaderRequest { id: student.id.clone() })).await.unwrap();
    // The reader's own school's librarian may export.
    suite
        .readers()
        .export_reader_data(bearer(ExportReaderDataRequest { reader_id: student.id }, &own_librarian))
        .await
        .unwrap();
}
