//! Sessions through the gateway: a refresh token buys a new access token,
//! signing out is refused by the gateway and by every service within the
//! revocation refresh, and a kiosk signs in with its device key, searches
//! the catalog and signs in readers of its own school only.

use std::time::Duration;

use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{LookupCopyRequest, SearchTitlesRequest};
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest};
use lectern_proto::gateway::v1::WhoAmIRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{
    CreateDeviceRequest, DeviceCredentials, DeviceKind, ListReadersRequest, LoginRequest, LoginResponse,
    LogoutRequest, ReaderCredentials, RefreshSessionRequest, SetReaderPinRequest, login_request,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::harness::{ADMIN_PASSWORD, TestSuite, assert_refused, bearer, eventually};

/// Long enough for every server to refetch the ended sessions (the suite
/// refetches every 200 ms) on a busy machine.
const REVOCATION_DEADLINE: Duration = Duration::from_secs(10);

async fn search(channel: Channel, token: &str) -> Result<(), Status> {
    CatalogServiceClient::new(channel)
        .search_titles(bearer(SearchTitlesRequest { query: "草房子".into(), ..Default::default() }, token))
        .await
        .map(|_| ())
}

fn gateway(suite: &TestSuite) -> GatewayServiceClient<Channel> {
    GatewayServiceClient::new(suite.channel.clone())
}

/// Waits until `call` is refused because the session ended.
async fn until_session_ended<F, Fut>(what: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Status>>,
{
    eventually(REVOCATION_DEADLINE, what, || {
        let answer = call();
        async move {
            match answer.await {
                Err(status) if reason_of(&status) == Some(Reason::SessionEnded) => {
                    assert_eq!(status.code(), Code::Unauthenticated);
                    Some(())
                }
                _ => None,
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_signed_out_token_is_refused_by_the_gateway_and_every_service() {
    let suite = TestSuite::start().await;
    let signed_in = suite.login("admin", ADMIN_PASSWORD).await.unwrap();
    assert!(!signed_in.refresh_token.is_empty());

    // The refresh token is exchanged at the gateway without a bearer token.
    let refreshed = suite
        .identity()
        .refresh_session(RefreshSessionRequest { refresh_token: signed_in.refresh_token.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refreshed.session_id, signed_in.session_id);
    let token = refreshed.access_token;
    gateway(&suite).who_am_i(bearer(WhoAmIRequest {}, &token)).await.unwrap();
    search(suite.channel.clone(), &token).await.unwrap();
    // The catalog service itself, not through the gateway.
    let catalog = suite.channel_to("catalog");
    search(catalog.clone(), &token).await.unwrap();

    suite.identity().logout(bearer(LogoutRequest {}, &token)).await.unwrap();
    until_session_ended("the gateway to refuse the signed-out token", || {
        let mut gateway = gateway(&suite);
        let token = token.clone();
        async move { gateway.who_am_i(bearer(WhoAmIRequest {}, &token)).await.map(|_| ()) }
    })
    .await;
    until_session_ended("the catalog service to refuse the signed-out token", || {
        search(catalog.clone(), &token)
    })
    .await;
    assert_refused(
        suite
            .identity()
            .refresh_session(RefreshSessionRequest { refresh_token: refreshed.refresh_token.clone() })
            .await,
        Code::Unauthenticated,
        Reason::SessionEnded,
    );
    // The admin's other session (the harness's) is untouched.
    search(suite.channel.clone(), &suite.admin_token).await.unwrap();
}

async fn login(
    suite: &TestSuite,
    credentials: login_request::Credentials,
    device_token: Option<&str>,
) -> Result<LoginResponse, Status> {
    let message = LoginRequest { credentials: Some(credentials) };
    let request = match device_token {
        Some(token) => bearer(message, token),
        None => tonic::Request::new(message),
    };
    gateway(suite).login(request).await.map(tonic::Response::into_inner)
}

fn reader(card: &str) -> login_request::Credentials {
    login_request::Credentials::Reader(ReaderCredentials { card_barcode: card.into(), pin: "0427".into() })
}

#[tokio::test]
async fn a_kiosk_searches_and_signs_in_readers_of_its_own_school_only() {
    let suite = TestSuite::start().await;
    let ours = suite.school("XH-PRI", "徐汇区实验小学").await;
    let theirs = suite.school("XH-MID", "徐汇中学").await;
    for (school, card) in [(&ours, "R100001"), (&ours, "R100002"), (&theirs, "R200001")] {
        let student = suite.student(school, card).await;
        suite
            .readers()
            .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: student.id, pin: "0427".into() }))
            .await
            .unwrap();
    }
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &ours, "P000001").await;
    suite.copy(&title, &theirs, "Q000001").await;

    let created = suite
        .identity()
        .create_device(suite.admin(CreateDeviceRequest {
            school_id: ours.id.clone(),
            kind: DeviceKind::Kiosk.into(),
            label: "Library entrance".into(),
            settings: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let device = created.device.unwrap();
    let kiosk = login(
        &suite,
        login_request::Credentials::Device(DeviceCredentials {
            device_id: device.id.clone(),
            key: created.key,
        }),
        None,
    )
    .await
    .unwrap();
    assert_eq!(kiosk.school_ids, vec![ours.id.clone()]);

    let whoami = gateway(&suite).who_am_i(bearer(WhoAmIRequest {}, &kiosk.access_token)).await.unwrap();
    assert_eq!(
        (whoami.get_ref().kind.as_str(), whoami.get_ref().subject_id.as_str()),
        ("device", device.id.as_str())
    );

    // By itself the kiosk may search and look up copies, nothing a desk does.
    search(suite.channel.clone(), &kiosk.access_token).await.unwrap();
    suite
        .catalog()
        .lookup_copy(bearer(LookupCopyRequest { barcode: "P000001".into() }, &kiosk.access_token))
        .await
        .unwrap();
    assert_refused(
        suite.readers().list_readers(bearer(ListReadersRequest::default(), &kiosk.access_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite
            .loans()
            .check_out(bearer(
                CheckOutRequest {
                    reader_card_barcode: "R100001".into(),
                    copy_barcode: "P000001".into(),
                    ..Default::default()
                },
                &kiosk.access_token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // A reader of its school signs in at it; the token is bound to it.
    let at_kiosk = login(&suite, reader("R100001"), Some(&kiosk.access_token)).await.unwrap();
    assert_eq!(at_kiosk.device_id, device.id);
    assert_eq!(at_kiosk.school_ids, vec![ours.id.clone()]);
    let whoami = gateway(&suite).who_am_i(bearer(WhoAmIRequest {}, &at_kiosk.access_token)).await.unwrap();
    assert_eq!(whoami.into_inner().kind, "reader");
    // A reader of another school is turned away at this kiosk.
    assert_refused(
        login(&suite, reader("R200001"), Some(&kiosk.access_token)).await,
        Code::PermissionDenied,
        Reason::DeviceNotAllowed,
    );

    // At the kiosk the reader borrows and returns for themselves, at its school only.
    let borrow = |card: &str, copy: &str, token: &str| {
        bearer(
            CheckOutRequest {
                reader_card_barcode: card.into(),
                copy_barcode: copy.into(),
                ..Default::default()
            },
            token,
        )
    };
    let loan = suite
        .loans()
        .check_out(borrow("R100001", "P000001", &at_kiosk.access_token))
        .await
        .unwrap()
        .into_inner()
        .loan
        .unwrap();
    assert_eq!(loan.reader_id, at_kiosk.subject_id);
    let returned = suite
        .loans()
        .check_in(bearer(
            CheckInRequest { copy_barcode: "P000001".into(), ..Default::default() },
            &at_kiosk.access_token,
        ))
        .await
        .unwrap();
    assert!(returned.into_inner().was_on_loan);
    assert_refused(
        suite.loans().check_out(borrow("R100002", "P000001", &at_kiosk.access_token)).await,
        Code::PermissionDenied,
        Reason::DeviceNotAllowed,
    );
    assert_refused(
        suite.loans().check_out(borrow("R100001", "Q000001", &at_kiosk.access_token)).await,
        Code::FailedPrecondition,
        Reason::CopyAtOtherSchool,
    );
    // The same reader on a phone may look, not borrow.
    let on_phone = login(&suite, reader("R100001"), None).await.unwrap();
    assert!(on_phone.device_id.is_empty());
    assert_refused(
        suite.loans().check_out(borrow("R100001", "P000001", &on_phone.access_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite
            .loans()
            .check_in(bearer(
                CheckInRequest { copy_barcode: "P000001".into(), ..Default::default() },
                &on_phone.access_token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // The kiosk signs out like anyone else.
    suite.identity().logout(bearer(LogoutRequest {}, &kiosk.access_token)).await.unwrap();
    until_session_ended("the gateway to refuse the kiosk's ended session", || {
        search(suite.channel.clone(), &kiosk.access_token)
    })
    .await;
}

#[tokio::test]
async fn after_a_key_rotation_old_and_new_tokens_work_everywhere() {
    let suite = TestSuite::start().await;
    let old = suite.admin_token.clone();
    let catalog = suite.channel_to("catalog");
    search(catalog.clone(), &old).await.unwrap();
    let key = suite
        .identity()
        .rotate_signing_key(suite.admin(lectern_proto::reader::v1::RotateSigningKeyRequest {}))
        .await
        .unwrap()
        .into_inner();
    // The new key signs once it has been published for ten seconds.
    suite.clock.advance(chrono::Duration::seconds(11));
    let new = suite.login("admin", ADMIN_PASSWORD).await.unwrap().access_token;
    let published = suite
        .identity()
        .list_verification_keys(lectern_proto::reader::v1::ListVerificationKeysRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].key_id, key.key_id);
    // Tokens of both keys are accepted by the gateway and the catalog (which
    // fetch the new key when they first meet it).
    for token in [&old, &new] {
        eventually(Duration::from_secs(10), "the new key to be trusted", || {
            let (channel, catalog) = (suite.channel.clone(), catalog.clone());
            let token = token.clone();
            async move {
                (search(channel, &token).await.is_ok() && search(catalog, &token).await.is_ok()).then_some(())
            }
        })
        .await;
    }
}
