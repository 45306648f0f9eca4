//! A reader signs in with card and PIN (kiosk, portal, phone) and sees
//! only their own loans and notices. At a self-service device: a card-only
//! device signs readers in by card alone, the device by itself is a return
//! box, a device reads its own settings and librarians change them, and a
//! reader at a device pays their own fees and reads their own summary.

mod at_a_device;

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{CheckOutRequest, GetLoanRequest, ListLoansRequest};
use lectern_proto::gateway::v1::WhoAmIRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::{
    GetReaderRequest, LoginRequest, LoginResponse, ReaderCredentials, SetReaderPinRequest, login_request,
};
use tonic::{Code, Status};

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

async fn reader_login(suite: &TestSuite, card: &str, pin: &str) -> Result<LoginResponse, Status> {
    reader_login_at(suite, card, pin, None).await
}

/// A reader's sign-in with card and PIN (empty: card alone), at the device
/// whose token is `device_token` if any.
pub(crate) async fn reader_login_at(
    suite: &TestSuite,
    card: &str,
    pin: &str,
    device_token: Option<&str>,
) -> Result<LoginResponse, Status> {
    let message = LoginRequest {
        credentials: Some(login_request::Credentials::Reader(ReaderCredentials {
            card_barcode: card.into(),
            pin: pin.into(),
        })),
    };
    let request = match device_token {
        Some(token) => bearer(message, token),
        None => tonic::Request::new(message),
    };
    GatewayServiceClient::new(suite.channel.clone()).login(request).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_reader_sees_only_their_own_loans_and_notices() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let mine = suite.student(&school, "R100001").await;
    let theirs = suite.student(&school, "R100002").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "P000001").await;
    suite.copy(&title, &school, "P000002").await;
    for (card, copy) in [("R100001", "P000001"), ("R100002", "P000002")] {
        suite
            .loans()
            .check_out(suite.admin(CheckOutRequest {
                reader_card_barcode: card.into(),
                copy_barcode: copy.into(),
                ..Default::default()
            }))
            .await
            .unwrap();
    }

    // No PIN yet: the card alone does not sign in.
    assert_refused(
        reader_login(&suite, "R100001", "0427").await,
        Code::Unauthenticated,
        Reason::CredentialsInvalid,
    );
    assert_invalid(
        suite
            .readers()
            .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: mine.id.clone(), pin: "12".into() }))
            .await,
        "pin",
    );
    suite
        .readers()
        .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: mine.id.clone(), pin: "0427".into() }))
        .await
        .unwrap();
    let login = reader_login(&suite, "R100001", "0427").await.expect("card and PIN sign in");
    assert_eq!(login.subject_id, mine.id);
    let token = login.access_token;

    let who = GatewayServiceClient::new(suite.channel.clone())
        .who_am_i(bearer(WhoAmIRequest {}, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((who.kind.as_str(), who.subject_id.as_str()), ("reader", mine.id.as_str()));

    // Their own record, loans and notices.
    suite.readers().get_reader(bearer(GetReaderRequest { id: mine.id.clone() }, &token)).await.unwrap();
    let loans = suite
        .loans()
        .list_loans(bearer(ListLoansRequest { reader_id: mine.id.clone(), ..Default::default() }, &token))
        .await
        .unwrap()
        .into_inner()
        .loans;
    assert_eq!(loans.len(), 1);
    suite.loans().get_loan(bearer(GetLoanRequest { id: loans[0].id.clone() }, &token)).await.unwrap();
    suite
        .notifications()
        .list_notices(bearer(ListNoticesRequest { reader_id: mine.id.clone(), ..Default::default() }, &token))
        .await
        .unwrap();

    // Nobody else's.
    assert_refused(
        suite.readers().get_reader(bearer(GetReaderRequest { id: theirs.id.clone() }, &token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let their_loans = suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest { reader_id: theirs.id.clone(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .loans;
    assert_refused(
        suite.loans().get_loan(bearer(GetLoanRequest { id: their_loans[0].id.clone() }, &token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite
            .loans()
            .list_loans(bearer(
                ListLoansRequest { reader_id: theirs.id.clone(), ..Default::default() },
                &token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite
            .notifications()
            .list_notices(bearer(ListNoticesRequest { reader_id: theirs.id, ..Default::default() }, &token))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // And no desk work: a reader's token cannot lend.
    assert_refused(
        suite
            .loans()
            .check_out(bearer(
                CheckOutRequest {
                    reader_card_barcode: "R100001".into(),
                    copy_barcode: "P000002".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // Wrong PINs lock the card like wrong passwords lock an account.
    for _ in 0..4 {
        assert_refused(
            reader_login(&suite, "R100001", "9999").await,
            Code::Unauthenticated,
            Reason::CredentialsInvalid,
        );
    }
    assert_refused(
        reader_login(&suite, "R100001", "9999").await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    assert_refused(
        reader_login(&suite, "R100001", "0427").await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    // A librarian setting a new PIN unlocks it.
    suite
        .readers()
        .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: mine.id, pin: "5521".into() }))
        .await
        .unwrap();
    reader_login(&suite, "R100001", "5521").await.expect("a new PIN unlocks the card");
}
