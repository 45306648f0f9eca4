//! Retries that arrive while the first call is still running: a kiosk or a
//! browser that gave up waiting sends the same call again with the same
//! request id. Every copy of the call must get the first call's answer, and
//! the change must happen once, on both backends, for calls of every
//! service that take a request id.

use std::future::Future;
use std::sync::Arc;

use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckOutRequest, ListFeesRequest, ListLoansRequest, LoanFilter, PayFeesRequest,
    PlaceHoldRequest,
};
use lectern_proto::reader::v1::{CreateReaderRequest, SearchReadersRequest};
use tokio::sync::Barrier;

use crate::harness::TestSuite;

/// How many copies of one call race each other.
const COPIES: usize = 10;

/// Sends `COPIES` copies of a call at the same moment and returns their
/// answers; every copy must be answered.
async fn all_at_once<T, F, Fut>(call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, tonic::Status>> + Send + 'static,
{
    let start = Arc::new(Barrier::new(COPIES));
    let tasks: Vec<_> = (0..COPIES)
        .map(|_| {
            let (start, call) = (start.clone(), call());
            tokio::spawn(async move {
                start.wait().await;
                call.await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(answer) => answers.push(answer),
            Err(status) => {
                panic!("a copy of the call was refused instead of getting the first answer: {status:?}")
            }
        }
    }
    answers
}

fn same<T: PartialEq + std::fmt::Debug>(answers: &[T]) -> &T {
    let first = &answers[0];
    for answer in answers {
        assert_eq!(answer, first, "every copy of the call gets the same answer");
    }
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_of_a_check_out_sent_at_once_lend_once_and_all_get_the_loan() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let reader = suite.student(&school, "R100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &school, "P000001").await;

    let request_id = lectern_core::ids::new_id();
    let answers = all_at_once(|| {
        let mut loans = suite.loans();
        let request = suite.admin(CheckOutRequest {
            reader_card_barcode: "R100001".into(),
            copy_barcode: "P000001".into(),
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { loans.check_out(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    let loan = same(&answers).loan.clone().unwrap();
    assert_eq!(loan.reader_id, reader.id);
    let listed = suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest {
            reader_id: reader.id.clone(),
            filter: LoanFilter::All.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .loans;
    assert_eq!(listed.len(), 1, "one loan, whatever the number of copies of the call");

    // The same for the return: one return, one answer for all.
    let request_id = lectern_core::ids::new_id();
    let answers = all_at_once(|| {
        let mut loans = suite.loans();
        let request = suite.admin(CheckInRequest {
            copy_barcode: "P000001".into(),
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { loans.check_in(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    let returned = same(&answers);
    assert!(returned.was_on_loan, "every copy of the call says the book was on loan: it was, for the first");
    assert_eq!(returned.loan.as_ref().map(|loan| loan.id.clone()), Some(loan.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_of_holds_payments_copies_and_readers_sent_at_once_change_things_once() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let reader = suite.student(&school, "R100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &school, "P000001").await;

    // A hold placed ten times at once is one hold, in first place.
    let request_id = lectern_core::ids::new_id();
    let holds = all_at_once(|| {
        let mut holds = suite.holds();
        let request = suite.admin(PlaceHoldRequest {
            reader_card_barcode: "R100001".into(),
            title_id: title.id.clone(),
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { holds.place_hold(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    assert_eq!(same(&holds).position, 1);

    // A copy catalogued ten times at once is one copy.
    let request_id = lectern_core::ids::new_id();
    let copies = all_at_once(|| {
        let mut catalog = suite.catalog();
        let request = suite.admin(CreateCopyRequest {
            title_id: title.id.clone(),
            school_id: school.id.clone(),
            barcode: "P000002".into(),
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { catalog.create_copy(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    assert_eq!(same(&copies).barcode, "P000002");

    // A reader registered ten times at once is one reader.
    let request_id = lectern_core::ids::new_id();
    let readers = all_at_once(|| {
        let mut readers = suite.readers();
        let request = suite.admin(CreateReaderRequest {
            school_id: school.id.clone(),
            name: "李小雨".into(),
            card_barcode: "R100002".into(),
            category: "student".into(),
            expires_on: suite.days_from_now(365),
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { readers.create_reader(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    let registered = same(&readers).clone();
    let found = suite
        .readers()
        .search_readers(suite.admin(SearchReadersRequest {
            school_id: school.id.clone(),
            query: "R100002".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.readers.iter().filter(|found| found.id == registered.id).count(), 1);
    assert_eq!(found.readers.len(), 1, "one reader with the card");

    // A payment sent ten times at once is paid once.
    let loan = suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R100001".into(),
            copy_barcode: "P000002".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .loan
        .unwrap();
    for amount in [300, 200] {
        suite
            .fees()
            .charge_fee(suite.admin(lectern_proto::circulation::v1::ChargeFeeRequest {
                loan_id: loan.id.clone(),
                kind: lectern_proto::circulation::v1::FeeKind::Damaged.into(),
                amount,
                note: "封面撕破".into(),
                request_id: String::new(),
            }))
            .await
            .unwrap();
    }
    let request_id = lectern_core::ids::new_id();
    let payments = all_at_once(|| {
        let mut fees = suite.fees();
        let request = suite.admin(PayFeesRequest {
            reader_id: reader.id.clone(),
            amount: 300,
            request_id: request_id.clone(),
            ..Default::default()
        });
        async move { fees.pay_fees(request).await.map(tonic::Response::into_inner) }
    })
    .await;
    assert_eq!(same(&payments).balance, 200, "paid once: 500 owed, 300 paid");
    let owed = suite
        .fees()
        .list_fees(suite.admin(ListFeesRequest { reader_id: reader.id.clone(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(owed.balance, 200);
}
