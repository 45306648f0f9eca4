//! Sessions at the reader service over real gRPC, against a throw-away
//! database (SQLite, or PostgreSQL when `LECTERN_TEST_DATABASE_URL` is
//! set): refresh tokens rotate and a reused one ends the session, except
//! for tabs renewing with the same token at once (the grace), signing
//! out refuses the session's tokens at once, a rotated key signs new
//! tokens while the old one verifies until its tokens have expired, and
//! kiosk devices sign in and sign readers of their own school in.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use base64::Engine as _;
use lectern_common::testing::{Dates as _, TestDatabase};
use lectern_core::clock::{Clock as _, ManualClock};
use lectern_core::identity::{PublicKey, StaticKeys, SubjectKind, TokenVerifier};
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::*;
use tonic::transport::Channel;
use tonic::{Code, Status};

use support::{assert_refused, bearer, staff_login};

const ADMIN_PASSWORD: &str = "operator chosen password";
const NEW_PASSWORD: &str = "admin password 2026";

/// The reader service on the test clock, with the calls these tests make
/// often; its admin's first password is [`ADMIN_PASSWORD`].
struct Server {
    running: support::Running,
    clock: ManualClock,
    _database: TestDatabase,
}

impl Server {
    async fn start() -> Self {
        let database = support::database();
        let clock = lectern_common::testing::clock();
        let mut config = support::config(&database, &clock);
        config.bootstrap_admin_password = Some(ADMIN_PASSWORD.into());
        Self { running: support::serve(config).await, clock, _database: database }
    }

    fn identity(&self) -> IdentityServiceClient<Channel> {
        self.running.identity()
    }

    fn readers(&self) -> ReaderServiceClient<Channel> {
        self.running.readers()
    }

    async fn stop(self) {
        self.running.stop().await;
    }

    /// Signs the admin in and picks a real password; the answer's session.
    async fn admin(&self) -> LoginResponse {
        let first = self.identity().login(staff_login("admin", ADMIN_PASSWORD)).await.unwrap().into_inner();
        self.identity()
            .change_password(bearer(
                ChangePasswordRequest {
                    current_password: ADMIN_PASSWORD.into(),
                    new_password: NEW_PASSWORD.into(),
                },
                &first.access_token,
            ))
            .await
            .unwrap()
            .into_inner()
            .login
            .unwrap()
    }

    async fn refresh(&self, refresh_token: &str) -> Result<LoginResponse, Status> {
        self.identity()
            .refresh_session(RefreshSessionRequest { refresh_token: refresh_token.into() })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn schools(&self, token: &str) -> Result<ListSchoolsResponse, Status> {
        self.readers()
            .list_schools(bearer(ListSchoolsRequest::default(), token))
            .await
            .map(tonic::Response::into_inner)
    }

    /// A verifier trusting the keys the server publishes now.
    async fn verifier(&self) -> TokenVerifier {
        let keys = self
            .identity()
            .list_verification_keys(ListVerificationKeysRequest {})
            .await
            .unwrap()
            .into_inner();
        let keys = keys
            .keys
            .iter()
            .map(|key| PublicKey::from_b64(&key.key_id, &key.public_key, self.clock.now()).unwrap());
        TokenVerifier::new(Arc::new(StaticKeys::new(keys)), Arc::new(self.clock.clone()))
    }
}

fn device_login(device_id: &str, key: &str) -> LoginRequest {
    LoginRequest {
        credentials: Some(login_request::Credentials::Device(DeviceCredentials {
            device_id: device_id.into(),
            key: key.into(),
        })),
    }
}

fn reader_login(card: &str, pin: &str) -> LoginRequest {
    LoginRequest {
        credentials: Some(login_request::Credentials::Reader(ReaderCredentials {
            card_barcode: card.into(),
            pin: pin.into(),
        })),
    }
}

/// The `kid` in a token's header.
fn key_id_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    let header = String::from_utf8(header).unwrap();
    let start = header.find("\"kid\":\"").unwrap() + 7;
    header[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let first = server.admin().await;
    assert!(!first.session_id.is_empty());
    assert_eq!(first.refresh_token.len(), 43);
    let refresh_expiry = first.refresh_expire_time.unwrap().seconds - clock.now().timestamp();
    assert!((12 * 3600 - 5..=12 * 3600).contains(&refresh_expiry), "staff sessions last 12 hours");

    clock.advance(chrono::Duration::minutes(10));
    let second = server.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(second.subject_id, first.subject_id);
    assert_eq!(second.role, i32::from(StaffRole::DistrictAdmin));
    assert_eq!(
        second.refresh_expire_time, first.refresh_expire_time,
        "refreshing does not extend the session"
    );
    server.schools(&second.access_token).await.unwrap();
    let principal = server.verifier().await.verify(&second.access_token).await.unwrap();
    assert_eq!(principal.session_id.as_deref(), Some(first.session_id.as_str()));

    // The first refresh token was copied and used again, well after the
    // grace for tabs renewing at once: the session ends, for the thief and
    // for the rightful holder alike.
    clock.advance(chrono::Duration::seconds(31));
    assert_refused(server.refresh(&first.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.schools(&second.access_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.refresh(&second.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.refresh("made-up").await, Code::Unauthenticated, Reason::SessionEnded);
    let status = server.identity().refresh_session(RefreshSessionRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("refresh_token"));

    // Signing in again opens a new session; an expired one cannot be refreshed.
    let again = server.identity().login(staff_login("admin", NEW_PASSWORD)).await.unwrap().into_inner();
    assert_ne!(again.session_id, first.session_id);
    clock.advance(chrono::Duration::hours(13));
    assert_refused(server.refresh(&again.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);

    let admin = server.identity().login(staff_login("admin", NEW_PASSWORD)).await.unwrap().into_inner();
    let events =
        lectern_proto::reader::v1::audit_service_client::AuditServiceClient::new(server.running.channel())
            .list_audit_events(bearer(
                ListAuditEventsRequest { page_size: 100, ..Default::default() },
                &admin.access_token,
            ))
            .await
            .unwrap()
            .into_inner()
            .events;
    assert!(events.iter().any(|event| event.action == "refresh" && event.outcome == "reused"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_renewing_with_the_same_token_at_once_both_stay_signed_in() {
    let server = Server::start().await;
    let first = server.admin().await;
    server.clock.advance(chrono::Duration::minutes(10));

    let (one, other) =
        tokio::join!(server.refresh(&first.refresh_token), server.refresh(&first.refresh_token));
    let (one, other) = (one.unwrap(), other.unwrap());
    assert_eq!(one.refresh_token, other.refresh_token, "both tabs hold the same new refresh token");
    assert_ne!(one.refresh_token, first.refresh_token);
    assert_eq!((&one.session_id, &other.session_id), (&first.session_id, &first.session_id));
    server.schools(&one.access_token).await.unwrap();
    server.schools(&other.access_token).await.unwrap();

    // The session goes on with the new token.
    server.clock.advance(chrono::Duration::minutes(10));
    let third = server.refresh(&one.refresh_token).await.unwrap();
    assert_ne!(third.refresh_token, one.refresh_token);
    assert_eq!(third.session_id, first.session_id);
    server.schools(&third.access_token).await.unwrap();
    let events =
        lectern_proto::reader::v1::audit_service_client::AuditServiceClient::new(server.running.channel())
            .list_audit_events(bearer(
                ListAuditEventsRequest { page_size: 100, ..Default::default() },
                &third.access_token,
            ))
            .await
            .unwrap()
            .into_inner()
            .events;
    assert!(!events.iter().any(|event| event.outcome == "reused"), "no reuse was recorded");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_refresh_token_repeats_its_answer_within_the_grace_and_ends_the_session_after() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let first = server.admin().await;
    clock.advance(chrono::Duration::minutes(10));
    let second = server.refresh(&first.refresh_token).await.unwrap();

    // A tab that renewed a moment later, with the token it still held.
    clock.advance(chrono::Duration::seconds(20));
    let again = server.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(again.refresh_token, second.refresh_token);
    assert_eq!(again.session_id, second.session_id);
    server.schools(&again.access_token).await.unwrap();

    // 31 seconds after it was exchanged, the same token is a copy.
    clock.advance(chrono::Duration::seconds(11));
    assert_refused(server.refresh(&first.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.refresh(&second.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.schools(&again.access_token).await, Code::Unauthenticated, Reason::SessionEnded);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_two_rotations_back_ends_the_session_even_within_the_grace() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let first = server.admin().await;
    clock.advance(chrono::Duration::minutes(10));
    let second = server.refresh(&first.refresh_token).await.unwrap();
    clock.advance(chrono::Duration::seconds(5));
    let third = server.refresh(&second.refresh_token).await.unwrap();
    clock.advance(chrono::Duration::seconds(5));

    assert_refused(server.refresh(&first.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.refresh(&third.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.schools(&third.access_token).await, Code::Unauthenticated, Reason::SessionEnded);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_refuses_the_session_at_once() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let admin = server.admin().await;
    let other = server.identity().login(staff_login("admin", NEW_PASSWORD)).await.unwrap().into_inner();

    let ended =
        server.identity().logout(bearer(LogoutRequest {}, &admin.access_token)).await.unwrap().into_inner();
    assert_eq!(ended.session_id, admin.session_id);
    assert_refused(server.schools(&admin.access_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(server.refresh(&admin.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    // Other sessions of the same account go on.
    server.schools(&other.access_token).await.unwrap();
    let revoked = server
        .identity()
        .list_revoked_sessions(ListRevokedSessionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    // (The one-time password's session ended with the password change.)
    assert!(revoked.session_ids.contains(&admin.session_id));
    assert!(!revoked.session_ids.contains(&other.session_id));
    // Servers asking again get only what ended since their last answer.
    let as_of = revoked.as_of.unwrap();
    clock.advance(chrono::Duration::seconds(30));
    let later = server
        .identity()
        .list_revoked_sessions(ListRevokedSessionsRequest {
            since: Some(prost_types::Timestamp { seconds: as_of.seconds + 1, nanos: 0 }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(later.session_ids.is_empty());
    assert!(later.as_of.unwrap().seconds >= as_of.seconds + 30);

    // Service tokens have no session to end.
    let service = server
        .identity()
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "circulation".into(),
                key: support::SERVICE_KEY.into(),
            })),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(service.refresh_token.is_empty() && service.session_id.is_empty());
    assert_refused(
        server.identity().logout(bearer(LogoutRequest {}, &service.access_token)).await,
        Code::Unauthenticated,
        Reason::SessionEnded,
    );

    // Once every token it could have signed has expired, an ended session
    // drops off the list.
    clock.advance(chrono::Duration::hours(2));
    let revoked = server
        .identity()
        .list_revoked_sessions(ListRevokedSessionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(revoked.session_ids.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_signs_new_tokens_and_the_old_one_verifies_until_its_tokens_expire() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let admin = server.admin().await;
    let old_key = key_id_of(&admin.access_token);

    let new_key = server
        .identity()
        .rotate_signing_key(bearer(RotateSigningKeyRequest {}, &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(new_key.key_id, old_key);
    // The new key is published first and signs ten seconds later, so every
    // verifier can have fetched it by the time it meets a token of it.
    let early = server.refresh(&admin.refresh_token).await.unwrap();
    assert_eq!(key_id_of(&early.access_token), old_key);
    clock.advance(chrono::Duration::seconds(11));
    // The old token still works; new tokens (sign-ins and refreshes) carry the new key.
    server.schools(&admin.access_token).await.unwrap();
    let refreshed = server.refresh(&early.refresh_token).await.unwrap();
    assert_eq!(key_id_of(&refreshed.access_token), new_key.key_id);
    let login = server.identity().login(staff_login("admin", NEW_PASSWORD)).await.unwrap().into_inner();
    assert_eq!(key_id_of(&login.access_token), new_key.key_id);
    let keys = |server: &Server| {
        let mut identity = server.identity();
        async move {
            identity
                .list_verification_keys(ListVerificationKeysRequest {})
                .await
                .unwrap()
                .into_inner()
                .keys
                .into_iter()
                .map(|key| key.key_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(keys(&server).await, vec![new_key.key_id.clone(), old_key.clone()]);

    // Once every token the old key signed has expired, the next rotation retires it.
    clock.advance(chrono::Duration::minutes(62));
    let fresh = server.identity().login(staff_login("admin", NEW_PASSWORD)).await.unwrap().into_inner();
    let newest = server
        .identity()
        .rotate_signing_key(bearer(RotateSigningKeyRequest {}, &fresh.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys(&server).await, vec![newest.key_id.clone(), new_key.key_id.clone()]);
    server.schools(&fresh.access_token).await.unwrap();
    assert_refused(server.schools(&admin.access_token).await, Code::Unauthenticated, Reason::TokenInvalid);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_signs_in_and_signs_in_readers_of_its_own_school_only() {
    let server = Server::start().await;
    let clock = server.clock.clone();
    let admin = server.admin().await.access_token;
    let mut readers = server.readers();
    let school = |code: &'static str| {
        let mut readers = readers.clone();
        let admin = admin.clone();
        async move {
            readers
                .create_school(bearer(
                    CreateSchoolRequest {
                        code: code.into(),
                        name: format!("School {code}"),
                        request_id: String::new(),
                    },
                    &admin,
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let ours = school("XH-PRI").await;
    let theirs = school("XH-MID").await;
    for (school, card) in [(&ours, "R100001"), (&theirs, "R200001")] {
        let reader = readers
            .create_reader(bearer(
                CreateReaderRequest {
                    school_id: school.id.clone(),
                    card_barcode: card.into(),
                    name: "王小明".into(),
                    category: "student".into(),
                    expires_on: clock.days_from_now(365),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        readers
            .set_reader_pin(bearer(SetReaderPinRequest { reader_id: reader.id, pin: "0427".into() }, &admin))
            .await
            .unwrap();
    }

    let created = server
        .identity()
        .create_device(bearer(
            CreateDeviceRequest {
                school_id: ours.id.clone(),
                kind: DeviceKind::Kiosk.into(),
                label: "Entrance".into(),
                settings: None,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let device = created.device.unwrap();
    assert_eq!(device.school_id, ours.id);
    assert!(!created.key.is_empty());
    let listed = server
        .identity()
        .list_devices(bearer(ListDevicesRequest { school_id: ours.id.clone(), ..Default::default() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.devices, vec![device.clone()]);

    // The device signs in with its key and acts for its school only.
    let kiosk = server.identity().login(device_login(&device.id, &created.key)).await.unwrap().into_inner();
    assert_eq!(kiosk.school_ids, vec![ours.id.clone()]);
    assert!(!kiosk.session_id.is_empty());
    let principal = server.verifier().await.verify(&kiosk.access_token).await.unwrap();
    assert_eq!(principal.kind, SubjectKind::Device);
    // It reads the district's school names (to say where a returned book
    // travels), nothing about readers.
    assert!(server.schools(&kiosk.access_token).await.is_ok());
    assert_refused(
        server.identity().list_devices(bearer(ListDevicesRequest::default(), &kiosk.access_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // A reader of its school signs in at it, bound to it; a reader of another school cannot.
    let at_kiosk = server
        .identity()
        .login(bearer(reader_login("R100001", "0427"), &kiosk.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(at_kiosk.device_id, device.id);
    assert_eq!(at_kiosk.school_ids, vec![ours.id.clone()]);
    let principal = server.verifier().await.verify(&at_kiosk.access_token).await.unwrap();
    assert_eq!(principal.device_id.as_deref(), Some(device.id.as_str()));
    assert_eq!(principal.kind, SubjectKind::Reader);
    assert_refused(
        server.identity().login(bearer(reader_login("R200001", "0427"), &kiosk.access_token)).await,
        Code::PermissionDenied,
        Reason::DeviceNotAllowed,
    );
    // Without a device token the same reader signs in unbound; a token of
    // another kind sent along (a phone's old one) changes nothing.
    let at_home = server.identity().login(reader_login("R200001", "0427")).await.unwrap().into_inner();
    let again =
        server.identity().login(bearer(reader_login("R200001", "0427"), &admin)).await.unwrap().into_inner();
    assert!(again.device_id.is_empty());
    assert!(at_home.device_id.is_empty());
    assert_eq!(at_home.school_ids, vec![theirs.id.clone()]);

    // Wrong keys count towards a lockout, like wrong passwords.
    let unknown = "0190f0c2-0000-7000-8000-000000000000";
    assert_refused(
        server.identity().login(device_login(unknown, "x")).await,
        Code::Unauthenticated,
        Reason::CredentialsInvalid,
    );
    for _ in 0..4 {
        assert_refused(
            server.identity().login(device_login(&device.id, "wrong")).await,
            Code::Unauthenticated,
            Reason::CredentialsInvalid,
        );
    }
    assert_refused(
        server.identity().login(device_login(&device.id, "wrong")).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    assert_refused(
        server.identity().login(device_login(&device.id, &created.key)).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    clock.advance(chrono::Duration::minutes(16));
    let kiosk = server.identity().login(device_login(&device.id, &created.key)).await.unwrap().into_inner();

    // Disabling the device signs it, and the readers at it, out.
    let disabled = server
        .identity()
        .disable_device(bearer(DisableDeviceRequest { device_id: device.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.disabled);
    assert_refused(server.refresh(&kiosk.refresh_token).await, Code::Unauthenticated, Reason::SessionEnded);
    assert_refused(
        server.identity().login(bearer(reader_login("R100001", "0427"), &kiosk.access_token)).await,
        Code::Unauthenticated,
        Reason::SessionEnded,
    );
    assert_refused(server.schools(&at_kiosk.access_token).await, Code::Unauthenticated, Reason::SessionEnded);
    let status = server.identity().logout(bearer(LogoutRequest {}, &kiosk.access_token)).await.unwrap_err();
    assert_eq!(reason_of(&status), Some(Reason::SessionEnded));
    assert_refused(
        server.identity().login(device_login(&device.id, &created.key)).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    server.stop().await;
}
