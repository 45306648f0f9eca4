//! Parsing every message the gateway reads, and its refusals.

use super::*;

const DATE: &str = "20261207    090530";
const BLANK: &str = "                  ";

fn parse(text: &str) -> Request {
    Request::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

#[test]
fn login() {
    let Request::Login(login) = parse("9300CN0193c1a2-uuid|COsecret key|CPdesk|") else { panic!() };
    assert_eq!(login.user_id, "0193c1a2-uuid");
    assert_eq!(login.password, "secret key");
    assert_eq!(login.location_code.as_deref(), Some("desk"));
    assert_eq!((login.uid_algorithm, login.pwd_algorithm), ('0', '0'));
    assert_eq!(Request::parse("9300CNdev|"), Err(ParseError::MissingField { code: "93", field: "CO" }));
    assert_eq!(
        Request::parse("93X0CNa|COb|"),
        Err(ParseError::BadFixedField { code: "93", field: "UID algorithm", value: "X".into() })
    );
    assert_eq!(Request::parse("930"), Err(ParseError::TooShort { code: "93", expected: 2, got: 1 }));
}

#[test]
fn sc_status() {
    let Request::ScStatus(status) = parse("9900302.00") else { panic!() };
    assert_eq!(status.status, '0');
    assert_eq!(status.max_print_width, 30);
    assert_eq!(status.protocol_version, "2.00");
    assert!(matches!(Request::parse("99003"), Err(ParseError::TooShort { code: "99", expected: 8, got: 3 })));
    assert!(matches!(
        Request::parse("993abc2.00"),
        Err(ParseError::BadFixedField { field: "status code", .. })
    ));
    assert!(matches!(
        Request::parse("990abc2.00"),
        Err(ParseError::BadFixedField { field: "max print width", .. })
    ));
}

#[test]
fn resend_and_unknown() {
    assert_eq!(parse("97"), Request::RequestResend);
    assert_eq!(Request::parse("98YYYYNN"), Err(ParseError::UnknownMessage { code: "98".into() }));
    assert_eq!(Request::parse("借书"), Err(ParseError::UnknownMessage { code: "借书".into() }));
    assert_eq!(Request::parse("9"), Err(ParseError::Empty));
    assert_eq!(Request::parse(""), Err(ParseError::Empty));
}

#[test]
fn patron_information_with_summary_and_pin() {
    let text = format!("63019{DATE} Y        AOXH-PRI|AAR100005|AD0005|BP1|BQ5|ACterm|");
    let Request::PatronInformation(info) = parse(&text) else { panic!() };
    assert_eq!(info.language, "019");
    assert_eq!(info.date.as_str(), DATE);
    assert_eq!(info.summary, Some(Summary::OverdueItems));
    assert_eq!(info.institution_id, "XH-PRI");
    assert_eq!(info.patron_id, "R100005");
    assert_eq!(info.patron_password.as_deref(), Some("0005"));
    assert_eq!(info.terminal_password.as_deref(), Some("term"));
    assert_eq!((info.start_item, info.end_item), (Some(1), Some(5)));

    let Request::PatronInformation(info) = parse(&format!("63001{DATE}          AAR100005|AD|")) else {
        panic!()
    };
    assert_eq!(info.summary, None);
    assert_eq!(info.patron_password.as_deref(), Some(""), "an empty AD is kept apart from none");
    assert_eq!(info.institution_id, "");
    assert!(matches!(
        Request::parse(&format!("63001{DATE}  Y")),
        Err(ParseError::TooShort { code: "63", expected: 31, .. })
    ));
    assert!(matches!(
        Request::parse(&format!("63001{DATE}          AO|")),
        Err(ParseError::MissingField { code: "63", field: "AA" })
    ));
    assert!(matches!(
        Request::parse(&format!("63x01{DATE}          AAx|")),
        Err(ParseError::BadFixedField { .. })
    ));
}

#[test]
fn patron_status_keeps_no_pin_apart() {
    let Request::PatronStatus(status) = parse(&format!("23001{DATE}AOXH|AAR100005|AC|")) else { panic!() };
    assert_eq!(status.patron_id, "R100005");
    assert_eq!(status.patron_password, None);
    assert_eq!(status.terminal_password, None);
}

#[test]
fn item_information() {
    let Request::ItemInformation(item) = parse(&format!("17{DATE}AOXH|AB3020000001|")) else { panic!() };
    assert_eq!(item.item_id, "3020000001");
    assert!(matches!(
        Request::parse(&format!("17{DATE}AOXH|")),
        Err(ParseError::MissingField { field: "AB", .. })
    ));
    assert!(matches!(Request::parse("1720261207"), Err(ParseError::TooShort { expected: 18, got: 8, .. })));
}

#[test]
fn checkout() {
    let text = format!("11YN{DATE}{BLANK}AOXH-PRI|AAR100005|AB3020000001|AC|AD0005|BON|BIY|");
    let Request::Checkout(checkout) = parse(&text) else { panic!() };
    assert!(checkout.sc_renewal_policy);
    assert!(!checkout.no_block);
    assert!(checkout.nb_due_date.is_blank());
    assert_eq!(checkout.patron_id, "R100005");
    assert_eq!(checkout.item_id, "3020000001");
    assert_eq!(checkout.patron_password.as_deref(), Some("0005"));
    assert_eq!(checkout.fee_acknowledged, Some(false));
    assert_eq!(checkout.cancel, Some(true));
    assert!(matches!(
        Request::parse(&format!("11YX{DATE}{BLANK}AAa|ABb|")),
        Err(ParseError::BadFixedField { code: "11", field: "no block", .. })
    ));
    assert!(matches!(
        Request::parse(&format!("11YN{DATE}{BLANK}AAa|")),
        Err(ParseError::MissingField { code: "11", field: "AB" })
    ));
    // A date one character short shifts everything: caught by the length.
    assert!(matches!(
        Request::parse(&format!("11YN{DATE}{}", &BLANK[1..])),
        Err(ParseError::TooShort { .. })
    ));
}

#[test]
fn checkin() {
    let text = format!("09N{DATE}{DATE}APreturn box|AOXH-PRI|AB3020000001|ACpw|");
    let Request::Checkin(checkin) = parse(&text) else { panic!() };
    assert!(!checkin.no_block);
    assert_eq!(checkin.return_date.as_str(), DATE);
    assert_eq!(checkin.current_location.as_deref(), Some("return box"));
    assert_eq!(checkin.item_id, "3020000001");
    assert_eq!(checkin.cancel, None);
}

#[test]
fn renew_needs_an_item_or_a_title() {
    let Request::Renew(renew) = parse(&format!("29NN{DATE}{BLANK}AOXH|AAR100005|AB302|")) else { panic!() };
    assert_eq!(renew.item_id.as_deref(), Some("302"));
    assert_eq!(renew.title_id, None);
    let Request::Renew(renew) = parse(&format!("29NN{DATE}{BLANK}AAR100005|AJ小王子|")) else { panic!() };
    assert_eq!(renew.title_id.as_deref(), Some("小王子"));
    assert!(matches!(
        Request::parse(&format!("29NN{DATE}{BLANK}AAR100005|")),
        Err(ParseError::MissingField { code: "29", field: "AB" })
    ));
}

#[test]
fn renew_all_end_session_fee_paid() {
    let Request::RenewAll(all) = parse(&format!("65{DATE}AOXH|AAR100005|AD0005|")) else { panic!() };
    assert_eq!(all.patron_id, "R100005");
    let Request::EndPatronSession(end) = parse(&format!("35{DATE}AOXH|AAR100005|")) else { panic!() };
    assert_eq!(end.patron_id, "R100005");
    let text = format!("37{DATE}0400CNYBV2.50|AOXH|AAR100005|CGfee-1|BKtx9|");
    let Request::FeePaid(fee) = parse(&text) else { panic!() };
    assert_eq!(
        (fee.fee_type.as_str(), fee.payment_type.as_str(), fee.currency.as_str()),
        ("04", "00", "CNY")
    );
    assert_eq!(fee.fee_amount, "2.50");
    assert_eq!(fee.fee_id.as_deref(), Some("fee-1"));
    assert_eq!(fee.transaction_id.as_deref(), Some("tx9"));
    assert!(matches!(
        Request::parse(&format!("37{DATE}0400CNYAAR100005|")),
        Err(ParseError::MissingField { code: "37", field: "BV" })
    ));
    assert!(matches!(
        Request::parse(&format!("37{DATE}0x00CNYBV1|AAR1|")),
        Err(ParseError::BadFixedField { field: "fee type", .. })
    ));
}

#[test]
fn hold_modes() {
    let Request::Hold(hold) = parse(&format!("15+{DATE}BSXH-PRI|BY2|AOXH|AAR100005|AB302|")) else {
        panic!()
    };
    assert_eq!(hold.mode, HoldMode::Add);
    assert_eq!(hold.pickup_location.as_deref(), Some("XH-PRI"));
    assert_eq!(hold.hold_type.as_deref(), Some("2"));
    let Request::Hold(hold) = parse(&format!("15-{DATE}AAR100005|")) else { panic!() };
    assert_eq!(hold.mode, HoldMode::Delete);
    let Request::Hold(hold) = parse(&format!("15*{DATE}AAR100005|")) else { panic!() };
    assert_eq!(hold.mode, HoldMode::Change);
    assert!(matches!(Request::parse(&format!("15?{DATE}AAR1|")), Err(ParseError::BadFixedField { .. })));
}

#[test]
fn refused_messages_still_parse() {
    let Request::ItemStatusUpdate(update) = parse(&format!("19{DATE}AOXH|AB302|CHx|")) else { panic!() };
    assert_eq!(update.item_properties.as_deref(), Some("x"));
    let Request::BlockPatron(block) = parse(&format!("01Y{DATE}AOXH|ALcard kept|AAR100005|")) else {
        panic!()
    };
    assert!(block.card_retained);
    assert_eq!(block.message.as_deref(), Some("card kept"));
    let Request::PatronEnable(enable) = parse(&format!("25{DATE}AOXH|AAR100005|")) else { panic!() };
    assert_eq!(enable.patron_id, "R100005");
}

#[test]
fn codes_round_trip() {
    let samples = [
        "9300CNa|COb|".to_owned(),
        "9900302.00".to_owned(),
        "97".to_owned(),
        format!("63001{DATE}          AAa|"),
        format!("23001{DATE}AAa|"),
        format!("17{DATE}ABa|"),
        format!("11NN{DATE}{BLANK}AAa|ABb|"),
        format!("09N{DATE}{DATE}ABa|"),
        format!("29NN{DATE}{BLANK}AAa|ABb|"),
        format!("65{DATE}AAa|"),
        format!("35{DATE}AAa|"),
        format!("37{DATE}0100CNYBV1|AAa|"),
        format!("15+{DATE}AAa|"),
        format!("19{DATE}ABa|"),
        format!("01N{DATE}AAa|"),
        format!("25{DATE}AAa|"),
    ];
    for sample in samples {
        assert_eq!(parse(&sample).code(), &sample[..2]);
    }
}

#[test]
fn errors_name_their_message() {
    let error = Request::parse("9300CNa|").unwrap_err();
    assert_eq!(error.code(), Some("93"));
    assert_eq!(error.to_string(), "message 93: field CO is missing");
    assert_eq!(Request::parse("88").unwrap_err().code(), None);
}

#[test]
fn accessors_for_the_session() {
    let checkout = parse(&format!("11NN{DATE}{BLANK}AAR100005|AB302|AD|"));
    assert_eq!(checkout.patron_id(), Some("R100005"));
    assert_eq!(checkout.item_id(), Some("302"));
    assert_eq!(checkout.patron_password(), Some(""));
    assert_eq!(checkout.transaction_date().map(SipDate::as_str), Some(DATE));
    let checkin = parse(&format!("09N{DATE}{BLANK}AB302|"));
    assert_eq!((checkin.patron_id(), checkin.patron_password()), (None, None));
    assert_eq!(parse("9900302.00").transaction_date(), None);
}
