//! The answers' wire text, field by field.

use super::*;
use crate::{Check, SipDate, verify};

const DATE: &str = "20261207    090530";

fn date() -> SipDate {
    SipDate::from_wire(DATE).unwrap()
}

#[test]
fn login_and_resend() {
    assert_eq!(Response::Login(LoginResponse { ok: true }).to_wire_text(), "941");
    assert_eq!(Response::Login(LoginResponse { ok: false }).to_wire_text(), "940");
    let resend = Response::RequestScResend;
    assert_eq!(resend.to_wire(Charset::Utf8, Some(3), true, Terminator::Cr), b"96AZFEF6\r");
    assert_eq!(resend.to_wire(Charset::Utf8, Some(3), false, Terminator::CrLf), b"96\r\n");
}

#[test]
fn acs_status() {
    let status = AcsStatus {
        online: true,
        checkin_ok: true,
        checkout_ok: true,
        acs_renewal_policy: true,
        timeout_period: 30,
        retries_allowed: 3,
        date: date(),
        institution_id: "XH-PRI".into(),
        library_name: Some("徐汇区实验小学".into()),
        supported_messages: SupportedMessages::from_codes(&[
            "23", "11", "09", "99", "97", "93", "63", "35", "65",
        ]),
        screen_messages: vec!["欢迎".into()],
        ..Default::default()
    };
    assert_eq!(
        status.to_wire_text(),
        format!("98YYYYNN030003{DATE}2.00AOXH-PRI|AM徐汇区实验小学|BXYYYNYYYYYNNNNNNY|AF欢迎|")
    );
    let offline = AcsStatus { protocol_version: "2.00 extra".into(), ..Default::default() };
    assert!(offline.to_wire_text().starts_with("98NNNNNN000000                  2.00AO|BXNNNNNNNNNNNNNNNN|"));
}

#[test]
fn patron_information() {
    let info = PatronInformationResponse {
        patron_status: PatronStatusFlags {
            charge_denied: true,
            too_many_items_overdue: true,
            ..Default::default()
        },
        language: language_code("zh-CN").into(),
        date: date(),
        overdue_items_count: 1,
        charged_items_count: 2,
        institution_id: "XH-PRI".into(),
        patron_id: "R100005".into(),
        personal_name: "王小明".into(),
        valid_patron: Some(true),
        valid_patron_password: Some(true),
        currency: Some("CNY".into()),
        fee_amount: Some("0.00".into()),
        charged_items: vec!["302|1".into(), "303".into()],
        screen_messages: vec!["你有一本书逾期".into()],
        ..Default::default()
    };
    assert_eq!(
        info.to_wire_text(),
        format!(
            "64Y     Y       019{DATE}000000010002000000000000AOXH-PRI|AAR100005|AE王小明|BLY|CQY|BHCNY|BV0.00|AU302/1|AU303|AF你有一本书逾期|"
        )
    );
}

#[test]
fn patron_status_and_enable() {
    let unknown = PatronStatusResponse {
        patron_status: PatronStatusFlags::all_denied(),
        language: "english".into(), // not three digits: sent as 000
        date: date(),
        patron_id: "R999".into(),
        valid_patron: Some(false),
        valid_patron_password: Some(false),
        ..Default::default()
    };
    let text = format!("YYYY          000{DATE}AO|AAR999|AE|BLN|CQN|");
    assert_eq!(unknown.to_wire_text(), format!("24{text}"));
    assert_eq!(Response::PatronEnable(unknown).to_wire_text(), format!("26{text}"));
}

#[test]
fn item_information() {
    let item = ItemInformationResponse {
        circulation_status: CirculationStatus::Charged,
        security_marker: 1,
        date: date(),
        item_id: "302".into(),
        title: "小王子".into(),
        due_date: Some("20261221    235959".into()),
        media_type: Some("001".into()),
        permanent_location: Some("徐汇区实验小学".into()),
        ..Default::default()
    };
    assert_eq!(
        item.to_wire_text(),
        format!("18040101{DATE}AB302|AJ小王子|AH20261221    235959|CK001|AQ徐汇区实验小学|")
    );
}

#[test]
fn checkout_and_renew() {
    let refused = CheckoutResponse {
        date: date(),
        institution_id: "XH-PRI".into(),
        patron_id: "R100005".into(),
        item_id: "402".into(),
        valid_patron: Some(true),
        screen_messages: vec!["这本书属于另一所学校".into()],
        ..Default::default()
    };
    let text = format!("0NUU{DATE}AOXH-PRI|AAR100005|AB402|AJ|AH|BLY|AF这本书属于另一所学校|");
    assert_eq!(refused.to_wire_text(), format!("12{text}"));
    assert_eq!(Response::Renew(refused).to_wire_text(), format!("30{text}"));
    let lent = CheckoutResponse {
        ok: true,
        magnetic_media: Some(false),
        desensitize: Some(true),
        date: date(),
        title: "小王子".into(),
        due_date: "20261221    235959".into(),
        ..Default::default()
    };
    assert_eq!(lent.to_wire_text(), format!("121NNY{DATE}AO|AA|AB|AJ小王子|AH20261221    235959|"));
}

#[test]
fn checkin_to_transit() {
    let checkin = CheckinResponse {
        ok: true,
        resensitize: true,
        magnetic_media: Some(false),
        alert: true,
        date: date(),
        institution_id: "XH-PRI".into(),
        item_id: "502".into(),
        permanent_location: "徐汇中学".into(),
        title: "西游记".into(),
        sort_bin: Some(SortBin::Transit),
        destination: Some("徐汇中学".into()),
        alert_type: Some(AlertType::Transit),
        screen_messages: vec!["请把书放进调拨箱".into()],
        ..Default::default()
    };
    assert_eq!(
        checkin.to_wire_text(),
        format!("101YNY{DATE}AOXH-PRI|AB502|AQ徐汇中学|AJ西游记|CL3|CT徐汇中学|CV04|AF请把书放进调拨箱|")
    );
}

#[test]
fn renew_all_end_session_fee_paid_hold_status_update() {
    let all = RenewAllResponse {
        ok: true,
        date: date(),
        renewed_items: vec!["1".into(), "2".into()],
        unrenewed_items: vec!["3".into()],
        ..Default::default()
    };
    assert_eq!(all.to_wire_text(), format!("66100020001{DATE}AO|BM1|BM2|BN3|"));
    let end =
        EndSessionResponse { end_session: true, date: date(), patron_id: "R1".into(), ..Default::default() };
    assert_eq!(end.to_wire_text(), format!("36Y{DATE}AO|AAR1|"));
    let fee = FeePaidResponse {
        payment_accepted: true,
        date: date(),
        transaction_id: Some("t".into()),
        ..Default::default()
    };
    assert_eq!(fee.to_wire_text(), format!("38Y{DATE}AO|AA|BKt|"));
    let hold = HoldResponse { ok: true, date: date(), queue_position: Some(2), ..Default::default() };
    assert_eq!(hold.to_wire_text(), format!("161N{DATE}BR2|AO|AA|"));
    let update = ItemStatusUpdateResponse { date: date(), item_id: "302".into(), ..Default::default() };
    assert_eq!(update.to_wire_text(), format!("200{DATE}AB302|"));
}

#[test]
fn long_screen_messages_become_several_fields() {
    let answer = EndSessionResponse { screen_messages: vec!["谢谢".repeat(100)], ..Default::default() };
    let text = answer.to_wire_text();
    assert_eq!(text.matches("|AF").count(), 3, "{text}");
}

#[test]
fn to_wire_seals_in_the_charset() {
    let answer = Response::Checkout(CheckoutResponse { title: "小王子".into(), ..Default::default() });
    for charset in [Charset::Utf8, Charset::Gb18030, Charset::Cp850] {
        let bytes = answer.to_wire(charset, Some(7), true, Terminator::CrLf);
        assert!(bytes.ends_with(b"\r\n"));
        let received = verify(&bytes[..bytes.len() - 2]);
        assert_eq!(received.check, Check::Valid);
        assert_eq!(received.sequence, Some(7));
        assert_eq!(charset.decode(received.body), charset.decode(&charset.encode(&answer.to_wire_text())));
    }
    let gb = answer.to_wire(Charset::Gb18030, None, false, Terminator::Cr);
    assert!(gb.windows(6).any(|w| w == Charset::Gb18030.encode("小王子").as_ref()));
}

#[test]
fn language_codes() {
    assert_eq!(language_code("zh-CN"), "019");
    assert_eq!(language_code("en"), "001");
    assert_eq!(language_code("fr"), "000");
}
