//! Families on phones through the gateway: a WeChat account (signed in at
//! the reader service with the gateway's service token, as the gateway
//! does after code2session) binds readers with the card's PIN or a code
//! the library printed, a guardian matched to the school's guardian
//! contact; the family token reads one reader's records and switches to
//! the next; the school lists and removes bindings; limits, lockout and
//! erasure hold.

use std::time::Duration;

use lectern_core::refusal::{Reason, Refusal, reason_of};
use lectern_proto::circulation::v1::ListLoansRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    BindReaderRequest, BindingProof, BindingRelation, ContactChannel, ContactWho, CreateBindingCodeRequest,
    CreateReaderContactRequest, DeleteBindingRequest, EraseReaderRequest, FamilySignInResponse,
    ListBindingsRequest, ListFamilyReadersRequest, LoginRequest, Reader, ReaderCredentials, School,
    ServiceCredentials, SetReaderPinRequest, SignInWechatRequest, StaffRole, SwitchReaderRequest,
    login_request,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::harness::{SERVICE_KEY, TestSuite, assert_invalid, assert_refused, bearer, eventually};

/// Long enough for every server to refetch the ended sessions.
const REVOCATION_DEADLINE: Duration = Duration::from_secs(10);
const APP_ID: &str = "wx-test-app";

fn family(suite: &TestSuite) -> FamilyServiceClient<Channel> {
    FamilyServiceClient::new(suite.channel.clone())
}

/// The gateway's own sign-in after code2session: its service token, at
/// the reader service (the edge does not expose `SignInWechat`).
async fn wechat_sign_in(
    suite: &TestSuite,
    openid: &str,
    reader_id: &str,
) -> Result<FamilySignInResponse, Status> {
    let service = IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "gateway".into(),
                key: SERVICE_KEY.into(),
            })),
        })
        .await
        .expect("the gateway signs in with the district key")
        .into_inner()
        .access_token;
    let request = SignInWechatRequest {
        app_id: APP_ID.into(),
        openid: openid.into(),
        unionid: String::new(),
        reader_id: reader_id.into(),
    };
    FamilyServiceClient::new(suite.channel_to("reader"))
        .sign_in_wechat(bearer(request, &service))
        .await
        .map(tonic::Response::into_inner)
}

/// A fresh WeChat user's binding ticket.
async fn ticket(suite: &TestSuite, openid: &str) -> String {
    let answer = wechat_sign_in(suite, openid, "").await.expect("WeChat sign-in");
    assert!(answer.login.is_none(), "nothing bound yet: no token");
    assert!(answer.binding_ticket_expire_time.is_some());
    answer.binding_ticket
}

fn by_pin(ticket: &str, reader: &Reader, pin: &str) -> BindReaderRequest {
    BindReaderRequest {
        binding_ticket: ticket.into(),
        card_barcode: reader.card_barcode.clone(),
        pin: pin.into(),
        relation: BindingRelation::Self_.into(),
        ..Default::default()
    }
}

fn as_guardian(ticket: &str, reader: &Reader, pin: &str, contact: &str) -> BindReaderRequest {
    BindReaderRequest {
        relation: BindingRelation::Guardian.into(),
        guardian_contact: contact.into(),
        ..by_pin(ticket, reader, pin)
    }
}

async fn set_pin(suite: &TestSuite, reader: &Reader, pin: &str) {
    suite
        .readers()
        .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: reader.id.clone(), pin: pin.into() }))
        .await
        .expect("PIN set");
}

async fn guardian_contact(suite: &TestSuite, reader: &Reader, channel: ContactChannel, value: &str) {
    ReaderProfileServiceClient::new(suite.channel.clone())
        .create_reader_contact(suite.admin(CreateReaderContactRequest {
            reader_id: reader.id.clone(),
            who: ContactWho::Guardian.into(),
            channel: channel.into(),
            value: value.into(),
            label: "妈妈".into(),
            request_id: String::new(),
        }))
        .await
        .expect("guardian contact added");
}

fn token(answer: &FamilySignInResponse) -> String {
    answer.login.as_ref().expect("signed in").access_token.clone()
}

async fn loans_of(suite: &TestSuite, reader: &Reader, token: &str) -> Result<(), Status> {
    suite
        .loans()
        .list_loans(bearer(ListLoansRequest { reader_id: reader.id.clone(), ..Default::default() }, token))
        .await
        .map(|_| ())
}

/// Two children of one mother at one school, each with a PIN and the
/// mother's e-mail as guardian contact.
async fn two_children(suite: &TestSuite) -> (School, Reader, Reader) {
    let school = suite.school("XH-PRI", "徐汇实验小学").await;
    let (first, second) = (suite.student(&school, "R100002").await, suite.student(&school, "R100003").await);
    for (child, pin) in [(&first, "0002"), (&second, "0003")] {
        set_pin(suite, child, pin).await;
        guardian_contact(suite, child, ContactChannel::Email, "ren.mama@example.cn").await;
    }
    (school, first, second)
}

#[tokio::test]
async fn a_parent_binds_two_children_and_switches_between_them() {
    let suite = TestSuite::start().await;
    let (_school, first, second) = two_children(&suite).await;
    let ticket = ticket(&suite, "o-mama").await;

    // Bad input changes nothing: the ticket still works afterwards.
    assert_invalid(family(&suite).bind_reader(by_pin(&ticket, &first, "")).await, "pin");
    assert_invalid(
        family(&suite).bind_reader(as_guardian(&ticket, &first, "0002", "")).await,
        "guardian_contact",
    );
    assert_refused(
        family(&suite).bind_reader(as_guardian(&ticket, &first, "0002", "ren.baba@example.cn")).await,
        Code::FailedPrecondition,
        Reason::GuardianContactMismatch,
    );
    assert_refused(
        family(&suite).bind_reader(by_pin("not-a-ticket", &first, "0002")).await,
        Code::Unauthenticated,
        Reason::BindingTicketInvalid,
    );

    let bound = family(&suite)
        .bind_reader(as_guardian(&ticket, &first, "0002", "  Ren.Mama@Example.cn "))
        .await
        .expect("the mother binds her first child")
        .into_inner();
    assert_eq!(bound.readers.len(), 1);
    assert_eq!(bound.readers[0].reader_id, first.id);
    assert_eq!(bound.readers[0].relation, i32::from(BindingRelation::Guardian));
    assert_eq!(bound.readers[0].school_name, "徐汇实验小学");
    // The ticket worked once.
    assert_refused(
        family(&suite).bind_reader(as_guardian(&ticket, &second, "0003", "ren.mama@example.cn")).await,
        Code::Unauthenticated,
        Reason::BindingTicketInvalid,
    );

    // Signed in as the first child, she adds the second without a ticket.
    let as_first = token(&bound);
    let both = family(&suite)
        .bind_reader(bearer(as_guardian("", &second, "0003", "ren.mama@example.cn"), &as_first))
        .await
        .expect("a second child, signed in through WeChat")
        .into_inner();
    assert_eq!(
        both.readers.iter().map(|reader| reader.reader_id.as_str()).collect::<Vec<_>>(),
        [first.id.as_str(), second.id.as_str()]
    );
    let as_second = token(&both);

    // Each token reads its own child only.
    loans_of(&suite, &second, &as_second).await.expect("the second child's own loans");
    assert_refused(
        loans_of(&suite, &first, &as_second).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    loans_of(&suite, &first, &as_first).await.expect("the first child's own loans");
    assert_refused(
        loans_of(&suite, &second, &as_first).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // The next time WeChat signs her in directly, as whom she asks.
    let again = wechat_sign_in(&suite, "o-mama", &second.id).await.expect("signed in directly");
    assert!(again.binding_ticket.is_empty());
    assert_eq!(again.readers.len(), 2);
    let switched = family(&suite)
        .switch_reader(bearer(SwitchReaderRequest { reader_id: first.id.clone() }, &token(&again)))
        .await
        .expect("the switcher")
        .into_inner();
    loans_of(&suite, &first, &token(&switched)).await.expect("the first child's loans after switching");
    let listed = family(&suite)
        .list_family_readers(bearer(ListFamilyReadersRequest {}, &token(&switched)))
        .await
        .expect("the family")
        .into_inner();
    assert_eq!(listed.readers.len(), 2);
    // The session switched from has ended.
    let old = token(&again);
    eventually(REVOCATION_DEADLINE, "the switched-from session ends", || {
        let (suite, old, second) = (&suite, old.clone(), second.clone());
        async move {
            let result = loans_of(suite, &second, &old).await;
            matches!(result, Err(status) if reason_of(&status) == Some(Reason::SessionEnded)).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_family_token_reaches_no_other_family_and_a_card_token_cannot_switch() {
    let suite = TestSuite::start().await;
    let (school, first, second) = two_children(&suite).await;
    let other = suite.student(&school, "R100009").await;
    set_pin(&suite, &other, "0009").await;

    let mama =
        family(&suite).bind_reader(by_pin(&ticket(&suite, "o-mama").await, &first, "0002")).await.unwrap();
    let mama = token(mama.get_ref());
    let neighbour = family(&suite)
        .bind_reader(by_pin(&ticket(&suite, "o-neighbour").await, &other, "0009"))
        .await
        .unwrap();
    let neighbour = token(neighbour.get_ref());

    // Not bound to the sibling, nor to the other family's child.
    for reader in [&second, &other] {
        assert_refused(
            family(&suite)
                .switch_reader(bearer(SwitchReaderRequest { reader_id: reader.id.clone() }, &mama))
                .await,
            Code::NotFound,
            Reason::BindingNotFound,
        );
        assert_refused(loans_of(&suite, reader, &mama).await, Code::PermissionDenied, Reason::RoleNotAllowed);
    }
    assert_refused(
        loans_of(&suite, &first, &neighbour).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // Another family's bindings are not there to remove.
    let theirs = family(&suite)
        .list_bindings(bearer(ListBindingsRequest::default(), &neighbour))
        .await
        .unwrap()
        .into_inner()
        .bindings;
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0].guardian_contact.is_empty());
    assert_refused(
        family(&suite)
            .delete_binding(bearer(DeleteBindingRequest { binding_id: theirs[0].id.clone() }, &mama))
            .await,
        Code::NotFound,
        Reason::BindingNotFound,
    );
    assert_refused(
        family(&suite)
            .list_bindings(bearer(
                ListBindingsRequest { reader_id: other.id.clone(), ..Default::default() },
                &mama,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // A card-and-PIN sign-in is no family: it cannot switch or list one.
    let by_card = suite.reader_signed_in(&first, "0002").await;
    assert_refused(
        family(&suite)
            .switch_reader(bearer(SwitchReaderRequest { reader_id: first.id.clone() }, &by_card))
            .await,
        Code::PermissionDenied,
        Reason::FamilySignInRequired,
    );
    assert_refused(
        family(&suite).list_family_readers(bearer(ListFamilyReadersRequest {}, &by_card)).await,
        Code::PermissionDenied,
        Reason::FamilySignInRequired,
    );
    // Only the gateway vouches for an openid.
    let phone = family(&suite).bind_reader(bearer(by_pin("", &second, "0003"), &by_card)).await;
    assert_refused(phone, Code::PermissionDenied, Reason::FamilySignInRequired);
}

#[tokio::test]
async fn a_printed_code_binds_once_and_wrong_codes_share_the_pins_lockout() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇实验小学").await;
    let other_school = suite.school("XH-MID", "徐汇中学").await;
    let child = suite.student(&school, "R100004").await;
    set_pin(&suite, &child, "0004").await;
    guardian_contact(&suite, &child, ContactChannel::Phone, "13900100004").await;
    let assistant = suite.staff("zhang.wei", StaffRole::Assistant, &[&school]).await;
    let stranger = suite.staff("li.lei", StaffRole::Librarian, &[&other_school]).await;

    let print = || CreateBindingCodeRequest { reader_id: child.id.clone() };
    assert_refused(
        family(&suite).create_binding_code(bearer(print(), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let code = family(&suite).create_binding_code(bearer(print(), &assistant)).await.unwrap().into_inner();
    assert_eq!(code.code.len(), 8);
    assert!(code.expire_time.is_some());

    let by_code = |ticket: &str, code: &str| BindReaderRequest {
        binding_ticket: ticket.into(),
        card_barcode: child.card_barcode.clone(),
        binding_code: code.into(),
        relation: BindingRelation::Guardian.into(),
        guardian_contact: "139-0010-0004".into(),
        ..Default::default()
    };
    let first_ticket = ticket(&suite, "o-nainai").await;
    assert_invalid(family(&suite).bind_reader(by_code(&first_ticket, "12")).await, "binding_code");
    let wrong = if code.code == "00000000" { "11111111" } else { "00000000" };
    // Four wrong codes and a wrong PIN: the card's fifth failure locks it.
    for _ in 0..4 {
        assert_refused(
            family(&suite).bind_reader(by_code(&first_ticket, wrong)).await,
            Code::FailedPrecondition,
            Reason::BindingCodeInvalid,
        );
    }
    let locked = GatewayServiceClient::new(suite.channel.clone())
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Reader(ReaderCredentials {
                card_barcode: child.card_barcode.clone(),
                pin: "9999".into(),
            })),
        })
        .await;
    assert_refused(locked, Code::PermissionDenied, Reason::AccountLocked);
    assert_refused(
        family(&suite).bind_reader(by_code(&first_ticket, &code.code)).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    suite.clock.advance(chrono::Duration::hours(1));
    // The staff tokens have expired meanwhile.
    let assistant = suite.login("zhang.wei", "zhang.wei-own-password").await.unwrap().access_token;
    let stranger = suite.login("li.lei", "li.lei-own-password").await.unwrap().access_token;

    let bound = family(&suite)
        .bind_reader(by_code(&ticket(&suite, "o-nainai").await, &code.code))
        .await
        .expect("the grandmother binds with the printed code")
        .into_inner();
    assert_eq!(bound.readers.len(), 1);
    // The code works once.
    assert_refused(
        family(&suite).bind_reader(by_code(&ticket(&suite, "o-yeye").await, &code.code)).await,
        Code::FailedPrecondition,
        Reason::BindingCodeInvalid,
    );

    // The school sees how the card was proved and whose contact matched.
    let listed = family(&suite)
        .list_bindings(bearer(
            ListBindingsRequest { school_id: school.id.clone(), ..Default::default() },
            &assistant,
        ))
        .await
        .unwrap()
        .into_inner()
        .bindings;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].proved_by, i32::from(BindingProof::Code));
    assert_eq!(listed[0].guardian_contact, "13900100004");
    assert!(listed[0].account_label.starts_with("微信 #"));
    assert!(!format!("{listed:?}").contains("o-nainai"), "never the openid");
    assert_refused(
        family(&suite)
            .list_bindings(bearer(
                ListBindingsRequest { school_id: school.id.clone(), ..Default::default() },
                &stranger,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
}

#[tokio::test]
async fn removing_a_binding_ends_its_sessions_and_erasure_removes_them_all() {
    let suite = TestSuite::start().await;
    let (school, first, second) = two_children(&suite).await;
    let assistant = suite.staff("zhang.wei", StaffRole::Assistant, &[&school]).await;
    let mama =
        family(&suite).bind_reader(by_pin(&ticket(&suite, "o-mama").await, &first, "0002")).await.unwrap();
    let papa =
        family(&suite).bind_reader(by_pin(&ticket(&suite, "o-papa").await, &first, "0002")).await.unwrap();
    let (mama, papa) = (token(mama.get_ref()), token(papa.get_ref()));
    let bindings = || ListBindingsRequest { reader_id: first.id.clone(), ..Default::default() };
    let listed =
        family(&suite).list_bindings(bearer(bindings(), &assistant)).await.unwrap().into_inner().bindings;
    assert_eq!(listed.len(), 2);

    // Staff remove papa's (newest first): his session ends, mama's stays.
    family(&suite)
        .delete_binding(bearer(DeleteBindingRequest { binding_id: listed[0].id.clone() }, &assistant))
        .await
        .expect("staff remove a binding");
    eventually(REVOCATION_DEADLINE, "the removed binding's session ends", || {
        let (suite, papa, first) = (&suite, papa.clone(), first.clone());
        async move {
            let result = loans_of(suite, &first, &papa).await;
            matches!(result, Err(status) if reason_of(&status) == Some(Reason::SessionEnded)).then_some(())
        }
    })
    .await;
    loans_of(&suite, &first, &mama).await.expect("the other binding's session goes on");
    // The reader removes their own.
    family(&suite)
        .delete_binding(bearer(DeleteBindingRequest { binding_id: listed[1].id.clone() }, &mama))
        .await
        .expect("a reader removes their own binding");
    let answer = wechat_sign_in(&suite, "o-mama", "").await.unwrap();
    assert!(answer.login.is_none() && !answer.binding_ticket.is_empty(), "nothing bound any more");

    // Erasing a reader removes their bindings.
    family(&suite).bind_reader(by_pin(&answer.binding_ticket, &second, "0003")).await.unwrap();
    suite
        .readers()
        .erase_reader(suite.admin(EraseReaderRequest { reader_id: second.id.clone(), ..Default::default() }))
        .await
        .expect("erased");
    let answer = wechat_sign_in(&suite, "o-mama", "").await.unwrap();
    assert!(answer.login.is_none() && answer.readers.is_empty(), "the erased reader is no longer bound");
}

#[tokio::test]
async fn an_account_binds_at_most_ten_readers() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇实验小学").await;
    let mut token_now = String::new();
    for index in 0..11 {
        let card = format!("R2000{index:02}");
        let reader = suite.student(&school, &card).await;
        set_pin(&suite, &reader, "1234").await;
        let request = if token_now.is_empty() {
            by_pin(&ticket(&suite, "o-teacher").await, &reader, "1234")
        } else {
            by_pin("", &reader, "1234")
        };
        let request =
            if token_now.is_empty() { tonic::Request::new(request) } else { bearer(request, &token_now) };
        let answer = family(&suite).bind_reader(request).await;
        if index < 10 {
            token_now = token(answer.as_ref().expect("within the limit").get_ref());
        } else {
            let status = assert_refused(answer, Code::FailedPrecondition, Reason::BindingLimitReached);
            let refusal = Refusal::from_status(&status).expect("a refusal");
            assert_eq!(refusal.metadata.get("limit").map(String::as_str), Some("10"), "{status:?}");
        }
    }
}
