//! What a self-service device may do by itself and for the reader signed
//! in at it: card-only sign-in (a typed PIN still checked, wrong PINs
//! counted with every other channel), the device alone as a return box
//! that lends nothing, device settings read by the device and changed by
//! librarians, and a reader's own summary and fee payment.

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    ChargeFeeRequest, CheckInRequest, CheckOutRequest, FeeKind, GetReaderSummaryRequest, PayFeesRequest,
};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{
    Device, DeviceCharset, DeviceCredentials, DeviceSettings, GetDeviceRequest, LoginRequest,
    SetReaderPinRequest, StaffRole, UpdateDeviceSettingsRequest, login_request,
};
use tonic::Code;

use super::reader_login_at;
use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

/// Registers a SIP2 machine of `school_id` with `settings` and signs it in;
/// returns the device and its token.
pub(crate) async fn signed_in_device(
    suite: &TestSuite,
    school_id: &str,
    settings: Option<DeviceSettings>,
) -> (Device, String) {
    let created = suite.sip2_device(school_id, settings).await;
    let device = created.device.expect("the device");
    let login = GatewayServiceClient::new(suite.channel.clone())
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Device(DeviceCredentials {
                device_id: device.id.clone(),
                key: created.key,
            })),
        })
        .await
        .expect("the device signs in")
        .into_inner();
    (device, login.access_token)
}

fn checkout(card: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn checkin(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), ..Default::default() }
}

#[tokio::test]
async fn a_device_reads_its_settings_librarians_change_them_and_card_only_signs_in_by_card() {
    let suite = TestSuite::start().await;
    let ours = suite.school("XH-PRI", "徐汇区实验小学").await;
    let theirs = suite.school("XH-MID", "徐汇中学").await;
    let pupil = suite.student(&ours, "R100001").await;
    suite.student(&ours, "R100002").await;
    suite.student(&theirs, "R200001").await;
    suite
        .readers()
        .set_reader_pin(suite.admin(SetReaderPinRequest { reader_id: pupil.id.clone(), pin: "0427".into() }))
        .await
        .unwrap();
    let librarian = suite.staff("xh-librarian", StaffRole::Librarian, &[&ours]).await;
    let assistant = suite.staff("xh-assistant", StaffRole::Assistant, &[&ours]).await;
    let elsewhere = suite.staff("mid-librarian", StaffRole::Librarian, &[&theirs]).await;
    let (device, token) = signed_in_device(&suite, &ours.id, None).await;

    // The device reads its own settings: the defaults (a PIN, UTF-8, zh-CN, CR).
    let get = || GetDeviceRequest { device_id: device.id.clone() };
    let own = suite.identity().get_device(bearer(get(), &token)).await.unwrap().into_inner();
    let settings = own.settings.expect("settings");
    assert!(!settings.card_only && !settings.crlf);
    assert_eq!((settings.charset, settings.language.as_str()), (DeviceCharset::Utf8.into(), "zh-CN"));
    // Staff of its school read it; staff of another school do not.
    suite.identity().get_device(bearer(get(), &assistant)).await.unwrap();
    assert_refused(
        suite.identity().get_device(bearer(get(), &elsewhere)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );

    // A PIN is required until a librarian makes it card only.
    assert_invalid(reader_login_at(&suite, "R100001", "", Some(&token)).await, "pin");
    let card_only = DeviceSettings {
        card_only: true,
        charset: DeviceCharset::Gb18030.into(),
        language: "en".into(),
        crlf: true,
    };
    let update = |settings: &DeviceSettings| UpdateDeviceSettingsRequest {
        device_id: device.id.clone(),
        settings: Some(settings.clone()),
    };
    for refused in [&assistant, &token] {
        assert_refused(
            suite.identity().update_device_settings(bearer(update(&card_only), refused)).await,
            Code::PermissionDenied,
            Reason::RoleNotAllowed,
        );
    }
    assert_refused(
        suite.identity().update_device_settings(bearer(update(&card_only), &elsewhere)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_invalid(
        suite
            .identity()
            .update_device_settings(bearer(
                update(&DeviceSettings { language: "fr".into(), ..card_only.clone() }),
                &librarian,
            ))
            .await,
        "settings.language",
    );
    let changed = suite.identity().update_device_settings(bearer(update(&card_only), &librarian)).await;
    assert_eq!(changed.unwrap().into_inner().settings.as_ref(), Some(&card_only));
    let own = suite.identity().get_device(bearer(get(), &token)).await.unwrap().into_inner();
    assert_eq!(own.settings.as_ref(), Some(&card_only));

    // Card alone signs in at the card-only device, a reader with no PIN too.
    let by_card = reader_login_at(&suite, "R100001", "", Some(&token)).await.expect("card alone");
    assert_eq!((by_card.subject_id.as_str(), by_card.device_id.as_str()), (pupil.id.as_str(), &*device.id));
    reader_login_at(&suite, "R100002", "", Some(&token)).await.expect("card alone, no PIN set");
    // Not elsewhere: a phone still needs the PIN, and another school's
    // reader is turned away.
    assert_invalid(reader_login_at(&suite, "R100001", "", None).await, "pin");
    assert_refused(
        reader_login_at(&suite, "R200001", "", Some(&token)).await,
        Code::PermissionDenied,
        Reason::DeviceNotAllowed,
    );
    // A typed PIN is still checked, and wrong ones lock the card for every
    // channel, the card-only device included.
    reader_login_at(&suite, "R100001", "0427", Some(&token)).await.expect("the right PIN");
    for _ in 0..4 {
        assert_refused(
            reader_login_at(&suite, "R100001", "9999", Some(&token)).await,
            Code::Unauthenticated,
            Reason::CredentialsInvalid,
        );
    }
    assert_refused(
        reader_login_at(&suite, "R100001", "9999", None).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    for (pin, device_token) in [("", Some(token.as_str())), ("0427", Some(&token)), ("0427", None)] {
        assert_refused(
            reader_login_at(&suite, "R100001", pin, device_token).await,
            Code::PermissionDenied,
            Reason::AccountLocked,
        );
    }
}

#[tokio::test]
async fn a_device_alone_takes_books_back_and_lends_nothing() {
    let suite = TestSuite::start().await;
    let ours = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&ours, "R100001").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &ours, "P000001").await;
    suite.copy(&title, &ours, "P000002").await;
    suite.loans().check_out(suite.admin(checkout("R100001", "P000001"))).await.unwrap();
    let (_, token) = signed_in_device(&suite, &ours.id, None).await;

    let returned = suite.loans().check_in(bearer(checkin("P000001"), &token)).await.unwrap().into_inner();
    assert!(returned.was_on_loan);
    assert_eq!(returned.loan.expect("the closed loan").copy_barcode, "P000001");

    // The gateway does not let a device alone lend, nor does circulation
    // behind it.
    assert_refused(
        suite.loans().check_out(bearer(checkout("R100001", "P000002"), &token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let direct = lectern_proto::circulation::v1::loan_service_client::LoanServiceClient::new(
        suite.channel_to("circulation"),
    )
    .check_out(bearer(checkout("R100001", "P000002"), &token))
    .await;
    let refused = assert_refused(direct, Code::PermissionDenied, Reason::DeviceNotAllowed);
    assert!(refused.message().contains("sign the reader in at this device first"), "{refused:?}");
    let summary =
        suite
            .loans()
            .get_reader_summary(suite.admin(GetReaderSummaryRequest {
                reader_card_barcode: "R100001".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
    assert!(summary.loans.is_empty(), "nothing was lent: {:?}", summary.loans);
}

#[tokio::test]
async fn a_reader_reads_their_own_summary_and_pays_their_own_fees_at_a_device() {
    let suite = TestSuite::start().await;
    let ours = suite.school("XH-PRI", "徐汇区实验小学").await;
    let me = suite.student(&ours, "R100001").await;
    let other = suite.student(&ours, "R100002").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &ours, "P000001").await;
    suite.copy(&title, &ours, "P000002").await;
    let mut fee_ids = Vec::new();
    for (card, copy) in [("R100001", "P000001"), ("R100002", "P000002")] {
        let loan = suite.loans().check_out(suite.admin(checkout(card, copy))).await.unwrap();
        let loan = loan.into_inner().loan.expect("a loan");
        let fee = suite
            .fees()
            .charge_fee(suite.admin(ChargeFeeRequest {
                loan_id: loan.id,
                kind: FeeKind::Damaged.into(),
                amount: 300,
                note: "封面撕破".into(),
                request_id: String::new(),
            }))
            .await
            .expect("a damage fee")
            .into_inner();
        fee_ids.push(fee.id);
    }
    let pin = |reader: &lectern_proto::reader::v1::Reader| SetReaderPinRequest {
        reader_id: reader.id.clone(),
        pin: "0427".into(),
    };
    for reader in [&me, &other] {
        suite.readers().set_reader_pin(suite.admin(pin(reader))).await.unwrap();
    }
    let (_, device) = signed_in_device(&suite, &ours.id, None).await;
    let at_device = reader_login_at(&suite, "R100001", "0427", Some(&device)).await.unwrap().access_token;
    let on_phone = reader_login_at(&suite, "R100001", "0427", None).await.unwrap().access_token;

    // Their own summary, at the device or on a phone. (By id: asking by
    // card looks the card up with the reader's token, which the reader
    // service refuses to readers.)
    for token in [&at_device, &on_phone] {
        let summary = suite
            .loans()
            .get_reader_summary(bearer(
                GetReaderSummaryRequest { reader_id: me.id.clone(), ..Default::default() },
                token,
            ))
            .await
            .expect("own summary")
            .into_inner();
        assert_eq!(summary.reader.expect("the reader").id, me.id);
        assert_eq!((summary.loans.len(), summary.fees.len(), summary.balance), (1, 1, 300));
        assert_refused(
            suite
                .loans()
                .get_reader_summary(bearer(
                    GetReaderSummaryRequest { reader_id: other.id.clone(), ..Default::default() },
                    token,
                ))
                .await,
            Code::PermissionDenied,
            Reason::RoleNotAllowed,
        );
    }

    // At the device (a machine that took the money) they pay their own fee;
    // a retry takes nothing twice.
    let pay = |reader: &str, fee: &str| PayFeesRequest {
        reader_id: reader.into(),
        amount: 300,
        fee_id: fee.into(),
        request_id: format!("pay-{fee}"),
    };
    let paid = suite.fees().pay_fees(bearer(pay(&me.id, &fee_ids[0]), &at_device)).await;
    let paid = paid.expect("own fee paid at the device").into_inner();
    assert_eq!(paid.balance, 0);
    let again = suite.fees().pay_fees(bearer(pay(&me.id, &fee_ids[0]), &at_device)).await.unwrap();
    assert_eq!(again.into_inner(), paid);
    // Not another reader's, and not from a phone.
    assert_refused(
        suite.fees().pay_fees(bearer(pay(&other.id, &fee_ids[1]), &at_device)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let other_on_phone = reader_login_at(&suite, "R100002", "0427", None).await.unwrap().access_token;
    assert_refused(
        suite.fees().pay_fees(bearer(pay(&other.id, &fee_ids[1]), &other_on_phone)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let theirs = suite
        .fees()
        .list_fees(suite.admin(lectern_proto::circulation::v1::ListFeesRequest {
            reader_id: other.id.clone(),
            include_settled: false,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs.balance, 300, "the other reader's fee is untouched");
}
