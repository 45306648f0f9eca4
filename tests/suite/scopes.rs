//! School scopes through the gateway: every cell of the permission matrix
//! (docs/permissions.md) that refuses staff something. A librarian of
//! school A is refused school B's readers, classes, copies, loans and
//! notices, in every service; an assistant is refused what only
//! librarians and district admins do. The refusals carry reason codes a
//! desk can switch on, change nothing, and looks at another school's
//! readers are in the audit log.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::{
    CreateCopyRequest, CreateTitleRequest, GetCopyRequest, ListCopiesRequest, LookupCopyRequest,
    SearchTitlesRequest,
};
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckOutRequest, GetLoanRequest, ListLoansRequest, LoanFilter,
};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::{
    CreateClassRequest, CreateDeviceRequest, CreateReaderBlockRequest, CreateReaderRequest,
    CreateSchoolRequest, CreateStaffAccountRequest, DeleteReaderBlockRequest, DeviceKind,
    DisableDeviceRequest, GetReaderRequest, ListAuditEventsRequest, ListClassesRequest, ListDevicesRequest,
    ListReadersRequest, ListStaffAccountsRequest, LookupReaderRequest, SearchReadersRequest,
    SetReaderPinRequest, SetStaffSchoolsRequest, StaffRole,
};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer, eventually};

/// Requests bearing one caller's token.
struct Caller<'a>(&'a str);

impl Caller<'_> {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        bearer(message, self.0)
    }
}

fn refused_school<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    assert_refused(result, Code::PermissionDenied, Reason::SchoolNotAllowed);
}

fn refused_role<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    assert_refused(result, Code::PermissionDenied, Reason::RoleNotAllowed);
}

fn checkout(card: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn checkin(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), request_id: String::new(), ..Default::default() }
}

#[tokio::test]
async fn a_librarian_of_one_school_is_refused_another_schools_records() {
    let suite = TestSuite::start().await;
    let school_a = suite.school("XH-PRI", "徐汇区实验小学").await;
    let school_b = suite.school("PD-PRI", "浦东新区实验小学").await;
    let reader_a = suite.student(&school_a, "A100001").await;
    let reader_b = suite.student(&school_b, "B100001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school_a, "A-P0001").await;
    suite.copy(&title, &school_b, "B-P0001").await;
    suite.copy(&title, &school_b, "B-P0002").await;
    let copy_b = suite
        .catalog()
        .lookup_copy(suite.admin(LookupCopyRequest { barcode: "B-P0001".into() }))
        .await
        .unwrap()
        .into_inner();
    let loan_b = suite
        .loans()
        .check_out(suite.admin(checkout("B100001", "B-P0001")))
        .await
        .unwrap()
        .into_inner()
        .loan
        .unwrap();
    // School B's reader has a notice (the check-out receipt) before we start.
    eventually(Duration::from_secs(20), "school B's receipt", || async {
        let request = ListNoticesRequest { reader_id: reader_b.id.clone(), ..Default::default() };
        let notices = suite.notifications().list_notices(suite.admin(request)).await.ok()?.into_inner();
        (!notices.notices.is_empty()).then_some(())
    })
    .await;

    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school_a]).await;
    let as_librarian = Caller(&librarian);
    let readers = suite.readers();

    // Reader service: school B's readers and classes.
    refused_school(
        readers.clone().get_reader(as_librarian.request(GetReaderRequest { id: reader_b.id.clone() })).await,
    );
    refused_school(
        readers
            .clone()
            .lookup_reader(as_librarian.request(LookupReaderRequest { card_barcode: "B100001".into() }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .list_readers(
                as_librarian
                    .request(ListReadersRequest { school_id: school_b.id.clone(), ..Default::default() }),
            )
            .await,
    );
    refused_school(
        readers
            .clone()
            .search_readers(as_librarian.request(SearchReadersRequest {
                school_id: school_b.id.clone(),
                query: "王".into(),
                ..Default::default()
            }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .create_reader(as_librarian.request(CreateReaderRequest {
                school_id: school_b.id.clone(),
                card_barcode: "B100002".into(),
                name: "李小红".into(),
                category: "student".into(),
                ..Default::default()
            }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .create_class(as_librarian.request(CreateClassRequest {
                school_id: school_b.id.clone(),
                name: "一年级(1)班".into(),
                grade: 1,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .list_classes(
                as_librarian
                    .request(ListClassesRequest { school_id: school_b.id.clone(), ..Default::default() }),
            )
            .await,
    );
    refused_school(
        readers
            .clone()
            .create_reader_block(as_librarian.request(CreateReaderBlockRequest {
                reader_id: reader_b.id.clone(),
                reason: "lost books".into(),
                ..Default::default()
            }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .delete_reader_block(as_librarian.request(DeleteReaderBlockRequest {
                reader_id: reader_b.id.clone(),
                block_id: loan_b.id.clone(),
            }))
            .await,
    );
    refused_school(
        readers
            .clone()
            .set_reader_pin(
                as_librarian
                    .request(SetReaderPinRequest { reader_id: reader_b.id.clone(), pin: "1234".into() }),
            )
            .await,
    );
    // Nothing changed at school B.
    let b =
        readers.clone().get_reader(suite.admin(GetReaderRequest { id: reader_b.id.clone() })).await.unwrap();
    assert!(b.into_inner().blocks.is_empty());
    let b_readers = readers
        .clone()
        .list_readers(
            suite.admin(ListReadersRequest { school_id: school_b.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b_readers.readers.len(), 1);
    // Their own school works.
    readers
        .clone()
        .get_reader(as_librarian.request(GetReaderRequest { id: reader_a.id.clone() }))
        .await
        .unwrap();

    // Catalog: school B's copies; search stays district-wide.
    let catalog = suite.catalog();
    refused_school(
        catalog
            .clone()
            .create_copy(as_librarian.request(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: "B-P0003".into(),
                school_id: school_b.id.clone(),
                ..Default::default()
            }))
            .await,
    );
    refused_school(
        catalog.clone().get_copy(as_librarian.request(GetCopyRequest { id: copy_b.id.clone() })).await,
    );
    refused_school(
        catalog
            .clone()
            .lookup_copy(as_librarian.request(LookupCopyRequest { barcode: "B-P0001".into() }))
            .await,
    );
    refused_school(
        catalog
            .clone()
            .list_copies(as_librarian.request(ListCopiesRequest {
                title_id: title.id.clone(),
                school_id: school_b.id.clone(),
                ..Default::default()
            }))
            .await,
    );
    let own_copies = catalog
        .clone()
        .list_copies(
            as_librarian.request(ListCopiesRequest { title_id: title.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner();
    let barcodes: Vec<&str> = own_copies.copies.iter().map(|copy| copy.barcode.as_str()).collect();
    assert_eq!(barcodes, ["A-P0001"], "a librarian lists only their school's copies");
    let hits = catalog
        .clone()
        .search_titles(
            as_librarian.request(SearchTitlesRequest { query: "草房子".into(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits.len(), 1, "the district's catalog is searchable by everyone");

    // Circulation: school B's readers and loans. A copy is lent at its own
    // school's desk (or where it waits on the hold shelf for the reader).
    refused_school(suite.loans().check_out(as_librarian.request(checkout("B100001", "B-P0002"))).await);
    assert_refused(
        suite.loans().check_out(as_librarian.request(checkout("A100001", "B-P0002"))).await,
        Code::FailedPrecondition,
        Reason::CopyAtOtherSchool,
    );
    refused_school(
        suite.loans().get_loan(as_librarian.request(GetLoanRequest { id: loan_b.id.clone() })).await,
    );
    let seen = suite
        .loans()
        .list_loans(as_librarian.request(ListLoansRequest {
            reader_id: reader_b.id.clone(),
            filter: LoanFilter::All.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(seen.loans.is_empty(), "school B's loans are not listed to school A's librarian");
    // A book comes back at any school of the district: school A's desk
    // takes school B's copy back and sends it home (see transits.rs).
    let returned =
        suite.loans().check_in(as_librarian.request(checkin("B-P0001"))).await.unwrap().into_inner();
    assert!(returned.was_on_loan);
    assert_eq!(returned.transit.map(|transit| transit.to_school_id), Some(school_b.id.clone()));
    let closed = suite
        .loans()
        .get_loan(suite.admin(GetLoanRequest { id: loan_b.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert!(closed.returned_at.is_some(), "the loan is closed wherever the book comes back");

    // Notification: school B's notices.
    let notices = suite
        .notifications()
        .list_notices(
            as_librarian.request(ListNoticesRequest { reader_id: reader_b.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner();
    assert!(notices.notices.is_empty(), "school B's notices are not listed to school A's librarian");

    // Identity: school B's kiosks.
    let device = |school_id: &str| CreateDeviceRequest {
        school_id: school_id.to_owned(),
        kind: DeviceKind::Kiosk.into(),
        label: "Library entrance".into(),
        settings: None,
    };
    refused_school(suite.identity().create_device(as_librarian.request(device(&school_b.id))).await);
    let kiosk_b =
        suite.identity().create_device(suite.admin(device(&school_b.id))).await.unwrap().into_inner();
    let kiosk_b = kiosk_b.device.unwrap();
    refused_school(
        suite
            .identity()
            .disable_device(as_librarian.request(DisableDeviceRequest { device_id: kiosk_b.id.clone() }))
            .await,
    );
    suite.identity().create_device(as_librarian.request(device(&school_a.id))).await.unwrap();
    let kiosks = suite
        .identity()
        .list_devices(as_librarian.request(ListDevicesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .devices;
    assert!(kiosks.iter().all(|kiosk| kiosk.school_id == school_a.id), "only school A's kiosks are listed");

    // The refused looks at school B's readers are audited, naming who and whose.
    let audit = suite
        .readers_audit()
        .list_audit_events(suite.admin(ListAuditEventsRequest {
            subject_id: reader_b.id.clone(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .events;
    let refused: Vec<&str> = audit
        .iter()
        .filter(|event| event.outcome == "refused_other_school")
        .map(|event| event.action.as_str())
        .collect();
    assert!(refused.contains(&"reader_read"), "refused reads audited: {refused:?}");
    assert!(refused.contains(&"reader_changed"), "refused changes audited: {refused:?}");
    assert!(
        audit
            .iter()
            .filter(|event| event.outcome == "refused_other_school")
            .all(|event| !event.actor_id.is_empty())
    );
}

#[tokio::test]
async fn assistants_and_librarians_are_refused_what_their_role_may_not_do() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&school, "A100001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "A-P0001").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("wang.fang", StaffRole::Assistant, &[&school]).await;

    for token in [&librarian, &assistant] {
        refused_role(
            suite
                .readers()
                .create_school(bearer(
                    CreateSchoolRequest { code: "NEW".into(), name: "New".into(), request_id: String::new() },
                    token,
                ))
                .await,
        );
        refused_role(
            suite
                .identity()
                .create_staff_account(bearer(
                    CreateStaffAccountRequest {
                        username: "someone".into(),
                        display_name: "Someone".into(),
                        role: StaffRole::Librarian.into(),
                        initial_password: "a-long-enough-password".into(),
                        school_ids: vec![school.id.clone()],
                        request_id: String::new(),
                    },
                    token,
                ))
                .await,
        );
        refused_role(
            suite.identity().list_staff_accounts(bearer(ListStaffAccountsRequest::default(), token)).await,
        );
        refused_role(
            suite
                .identity()
                .set_staff_schools(bearer(
                    SetStaffSchoolsRequest {
                        staff_id: "0190f3c2-0000-7000-8000-000000000000".into(),
                        school_ids: vec![school.id.clone()],
                        request_id: String::new(),
                    },
                    token,
                ))
                .await,
        );
        refused_role(
            suite.readers_audit().list_audit_events(bearer(ListAuditEventsRequest::default(), token)).await,
        );
    }

    // An assistant works the desk: check-out and check-in, but no cataloging
    // and no new classes.
    refused_role(
        suite
            .catalog()
            .create_title(bearer(
                CreateTitleRequest {
                    isbn: "9787020002207".into(),
                    title: "红楼梦".into(),
                    ..Default::default()
                },
                &assistant,
            ))
            .await,
    );
    refused_role(
        suite
            .catalog()
            .create_copy(bearer(
                CreateCopyRequest {
                    title_id: title.id.clone(),
                    barcode: "A-P0002".into(),
                    school_id: school.id.clone(),
                    ..Default::default()
                },
                &assistant,
            ))
            .await,
    );
    refused_role(
        suite
            .readers()
            .create_class(bearer(
                CreateClassRequest {
                    school_id: school.id.clone(),
                    name: "一年级(1)班".into(),
                    grade: 1,
                    school_year: "2026-2027".into(),
                    request_id: String::new(),
                },
                &assistant,
            ))
            .await,
    );
    suite.loans().check_out(bearer(checkout("A100001", "A-P0001"), &assistant)).await.unwrap();
    let returned = suite.loans().check_in(bearer(checkin("A-P0001"), &assistant)).await.unwrap();
    assert!(returned.into_inner().was_on_loan);
    // The librarian catalogs for their school.
    suite
        .catalog()
        .create_copy(bearer(
            CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: "A-P0002".into(),
                school_id: school.id.clone(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap();
}
