//! The reader service over real gRPC, in-process on loopback, against a
//! throw-away database (SQLite, or PostgreSQL when
//! `LECTERN_TEST_DATABASE_URL` is set): the first admin's sign-in and
//! forced password change, schools, classes and readers, refusals a desk
//! switches on, service sign-in, and the keys that verify tokens.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use lectern_common::testing::Dates as _;
use lectern_core::clock::Clock as _;
use lectern_core::identity::{PublicKey, StaticKeys, SubjectKind, TokenVerifier};
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::reader::v1::*;
use tonic::{Code, Request, Status};

use support::{Running as Server, SERVICE_KEY, bearer, staff_login};

fn service_login(service: &str, key: &str) -> LoginRequest {
    LoginRequest {
        credentials: Some(login_request::Credentials::Service(ServiceCredentials {
            service: service.into(),
            key: key.into(),
        })),
    }
}

#[track_caller]
fn assert_refused(status: &Status, code: Code, reason: Reason) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason_of(status), Some(reason), "{status:?}");
}

async fn change_password(server: &Server, token: &str, current: &str, new: &str) -> LoginResponse {
    server
        .identity()
        .change_password(bearer(
            ChangePasswordRequest { current_password: current.into(), new_password: new.into() },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .login
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_signs_in_and_registers_readers() {
    let database = support::database();
    let clock = lectern_common::testing::clock();
    let config = support::config(&database, &clock);
    let first = lectern_reader::bootstrap_first_admin(&config).await.unwrap().unwrap();
    assert_eq!(first.username, "admin");
    assert_eq!(first.password.len(), 16);
    assert!(lectern_reader::bootstrap_first_admin(&config).await.unwrap().is_none());
    let server = support::serve(config).await;
    let mut identity = server.identity();
    let mut readers = server.readers();

    // The one-time password signs in, but only to change it.
    let login = identity.login(staff_login(" Admin ", &first.password)).await.unwrap().into_inner();
    assert!(login.password_change_required);
    assert_eq!(login.role, i32::from(StaffRole::DistrictAdmin));
    let status =
        readers.list_schools(bearer(ListSchoolsRequest::default(), &login.access_token)).await.unwrap_err();
    assert_refused(&status, Code::PermissionDenied, Reason::PasswordChangeRequired);
    let status = identity
        .change_password(bearer(
            ChangePasswordRequest {
                current_password: "not-the-password".into(),
                new_password: "a much better password".into(),
            },
            &login.access_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::Unauthenticated, Reason::CredentialsInvalid);
    let status = identity
        .change_password(bearer(
            ChangePasswordRequest { current_password: first.password.clone(), new_password: "short".into() },
            &login.access_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::FailedPrecondition, Reason::PasswordTooWeak);
    let admin = change_password(&server, &login.access_token, &first.password, "admin password 2026").await;
    assert!(!admin.password_change_required);
    assert_eq!(admin.subject_id, login.subject_id);
    let token = admin.access_token.clone();

    // The old password no longer works; the new one does.
    let status = identity.login(staff_login("admin", &first.password)).await.unwrap_err();
    assert_refused(&status, Code::Unauthenticated, Reason::CredentialsInvalid);
    assert_eq!(status.message(), "username or password is wrong");
    let status = identity.login(staff_login("nobody", &first.password)).await.unwrap_err();
    assert_refused(&status, Code::Unauthenticated, Reason::CredentialsInvalid);
    assert_eq!(status.message(), "username or password is wrong");
    let again = identity.login(staff_login("admin", "admin password 2026")).await.unwrap().into_inner();
    assert!(!again.password_change_required);

    // A school (retried with the same request id: one school), a class, a reader.
    let create_school = CreateSchoolRequest {
        code: "xh-pri".into(),
        name: "徐汇区实验小学".into(),
        request_id: "req-school-1".into(),
    };
    let school = readers.create_school(bearer(create_school.clone(), &token)).await.unwrap().into_inner();
    assert_eq!(school.code, "XH-PRI");
    let retried = readers.create_school(bearer(create_school, &token)).await.unwrap().into_inner();
    assert_eq!(retried, school);
    let status = readers
        .create_school(bearer(
            CreateSchoolRequest { code: "XH-PRI".into(), name: "Another".into(), request_id: String::new() },
            &token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::AlreadyExists, Reason::SchoolCodeTaken);
    let class = readers
        .create_class(bearer(
            CreateClassRequest {
                school_id: school.id.clone(),
                name: "三年级(2)班".into(),
                grade: 3,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let create_reader = CreateReaderRequest {
        school_id: school.id.clone(),
        card_barcode: "R0001".into(),
        name: "王小明".into(),
        category: "student".into(),
        class_id: class.id.clone(),
        expires_on: clock.days_from_now(365),
        ..Default::default()
    };
    let reader = readers.create_reader(bearer(create_reader.clone(), &token)).await.unwrap().into_inner();
    assert_eq!(reader.grade, 3);
    assert_eq!(reader.class_name, "三年级(2)班");
    assert_eq!(reader.status, i32::from(ReaderStatus::Active));
    assert_eq!(reader.expires_on, clock.days_from_now(365));
    let found = readers
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: " R0001\r\n".into() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found, reader);

    // Refusals a desk switches on.
    let status = readers.create_reader(bearer(create_reader.clone(), &token)).await.unwrap_err();
    assert_refused(&status, Code::AlreadyExists, Reason::CardBarcodeTaken);
    let status = readers
        .create_reader(bearer(
            CreateReaderRequest {
                card_barcode: "R0002".into(),
                category: "pirate".into(),
                ..create_reader.clone()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "category: unknown reader category \"pirate\"");
    let status = readers
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R9999".into() }, &token))
        .await
        .unwrap_err();
    assert_refused(&status, Code::NotFound, Reason::ReaderNotFound);
    let status = readers
        .lookup_reader(Request::new(LookupReaderRequest { card_barcode: "R0001".into() }))
        .await
        .unwrap_err();
    assert_refused(&status, Code::Unauthenticated, Reason::TokenInvalid);

    // A block shows on the reader until it is lifted.
    let blocked = readers
        .create_reader_block(bearer(
            CreateReaderBlockRequest {
                reader_id: reader.id.clone(),
                reason: "book damaged, talk to the librarian".into(),
                ends_on: String::new(),
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(blocked.blocks.len(), 1);
    let block_id = blocked.blocks[0].id.clone();
    let lift = DeleteReaderBlockRequest { reader_id: reader.id.clone(), block_id };
    let lifted = readers.delete_reader_block(bearer(lift.clone(), &token)).await.unwrap().into_inner();
    assert!(lifted.blocks.is_empty());
    let status = readers.delete_reader_block(bearer(lift, &token)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // A librarian account, which must change its password and may not add schools.
    let librarian = identity
        .create_staff_account(bearer(
            CreateStaffAccountRequest {
                username: "Li.Na".into(),
                display_name: "李娜".into(),
                role: StaffRole::Librarian.into(),
                initial_password: "first password 1".into(),
                school_ids: vec![school.id.clone()],
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(librarian.username, "li.na");
    assert!(librarian.password_change_required);
    let status = identity
        .create_staff_account(bearer(
            CreateStaffAccountRequest {
                username: "li.na".into(),
                display_name: "Someone else".into(),
                role: StaffRole::Assistant.into(),
                initial_password: "first password 2".into(),
                school_ids: vec![school.id.clone()],
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::AlreadyExists, Reason::UsernameTaken);
    let login = identity.login(staff_login("li.na", "first password 1")).await.unwrap().into_inner();
    assert!(login.password_change_required);
    let librarian_token =
        change_password(&server, &login.access_token, "first password 1", "librarian password").await;
    let status = readers
        .create_school(bearer(
            CreateSchoolRequest {
                code: "XH-MID".into(), name: "徐汇中学".into(), request_id: String::new()
            },
            &librarian_token.access_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::PermissionDenied, Reason::RoleNotAllowed);
    let listed = readers
        .list_readers(bearer(
            ListReadersRequest { school_id: school.id.clone(), ..Default::default() },
            &librarian_token.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.readers.len(), 1);
    let accounts = identity
        .list_staff_accounts(bearer(ListStaffAccountsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    let usernames: Vec<&str> = accounts.accounts.iter().map(|account| account.username.as_str()).collect();
    assert_eq!(usernames, ["admin", "li.na"]);
    assert_eq!(accounts.accounts[1].school_ids, vec![school.id.clone()]);
    assert!(accounts.accounts[0].school_ids.is_empty());

    // The librarian works for one school: another school's readers are
    // refused, and the refusal is audited; once a district admin adds that
    // school, the next sign-in may see them.
    let other = readers
        .create_school(bearer(
            CreateSchoolRequest {
                code: "XH-MID".into(), name: "徐汇中学".into(), request_id: String::new()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let list_other = ListReadersRequest { school_id: other.id.clone(), ..Default::default() };
    let status =
        readers.list_readers(bearer(list_other.clone(), &librarian_token.access_token)).await.unwrap_err();
    assert_refused(&status, Code::PermissionDenied, Reason::SchoolNotAllowed);
    let status = identity
        .set_staff_schools(bearer(
            SetStaffSchoolsRequest {
                staff_id: librarian.id.clone(),
                school_ids: vec![],
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "a librarian needs a school");
    let both = identity
        .set_staff_schools(bearer(
            SetStaffSchoolsRequest {
                staff_id: librarian.id.clone(),
                school_ids: vec![other.id.clone(), school.id.clone()],
                request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(both.school_ids.len(), 2);
    let again = identity.login(staff_login("li.na", "librarian password")).await.unwrap().into_inner();
    readers.list_readers(bearer(list_other, &again.access_token)).await.unwrap();

    // Services sign in with the district key and may read readers.
    let service = identity.login(service_login("circulation", SERVICE_KEY)).await.unwrap().into_inner();
    assert_eq!(service.subject_id, "service:circulation");
    let seen = readers
        .get_reader(bearer(GetReaderRequest { id: reader.id.clone() }, &service.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.id, reader.id);
    let status = readers
        .list_readers(bearer(
            ListReadersRequest { school_id: school.id.clone(), ..Default::default() },
            &service.access_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&status, Code::PermissionDenied, Reason::RoleNotAllowed);
    let status = identity.login(service_login("circulation", "wrong-district-key")).await.unwrap_err();
    assert_refused(&status, Code::Unauthenticated, Reason::CredentialsInvalid);

    // The published key verifies the tokens this service signed.
    let keys =
        identity.list_verification_keys(ListVerificationKeysRequest {}).await.unwrap().into_inner().keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].algorithm, "EdDSA");
    let published = PublicKey::from_b64(&keys[0].key_id, &keys[0].public_key, clock.now()).unwrap();
    let verifier = TokenVerifier::new(Arc::new(StaticKeys::new([published])), Arc::new(clock.clone()));
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(principal.subject_id, admin.subject_id);
    assert_eq!(principal.kind, SubjectKind::Staff);
    let principal = verifier.verify(&service.access_token).await.unwrap();
    assert_eq!(principal.kind, SubjectKind::Service);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_signing_key_and_the_admin() {
    let database = support::database();
    let mut config = support::config(&database, &lectern_common::testing::clock());
    config.bootstrap_admin_password = Some("operator chosen password".into());
    let server = support::serve(config.clone()).await;
    let login =
        server.identity().login(staff_login("admin", "operator chosen password")).await.unwrap().into_inner();
    assert!(login.password_change_required);
    let keys = server
        .identity()
        .list_verification_keys(ListVerificationKeysRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys;
    server.stop().await;

    let server = support::serve(config.clone()).await;
    let after = server
        .identity()
        .list_verification_keys(ListVerificationKeysRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert_eq!(after, keys);
    // A token from before the restart still works (for what it may do).
    let status = server
        .readers()
        .list_schools(bearer(ListSchoolsRequest::default(), &login.access_token))
        .await
        .unwrap_err();
    assert_refused(&status, Code::PermissionDenied, Reason::PasswordChangeRequired);
    assert!(lectern_reader::bootstrap_first_admin(&config).await.unwrap().is_none());
    server.stop().await;
}
