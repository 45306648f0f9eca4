//! Messages about the patron: 63 Patron Information, 23 Patron Status,
//! 65 Renew All, 35 End Patron Session, 37 Fee Paid, 01 Block Patron and
//! 25 Patron Enable.

use super::{Cursor, ParseError, optional, required};
use crate::date::SipDate;

/// Which item list a 63 asks for (the one `Y` among the summary's first six
/// positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// AS hold items (ready for pickup).
    HoldItems,
    /// AT overdue items.
    OverdueItems,
    /// AU charged items.
    ChargedItems,
    /// AV fine items.
    FineItems,
    /// BU recall items.
    RecallItems,
    /// CD unavailable holds.
    UnavailableHolds,
}

/// 63 Patron Information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronInformation {
    /// Language, three digits (`000` unknown, `001` English, `019` Chinese).
    pub language: String,
    /// Transaction date.
    pub date: SipDate,
    /// The item list asked for, if any.
    pub summary: Option<Summary>,
    /// AO institution id (empty when not sent).
    pub institution_id: String,
    /// AA patron identifier (the card).
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password (the PIN); `Some("")` when the machine sent an
    /// empty AD, `None` when it sent none.
    pub patron_password: Option<String>,
    /// BP start item (1-based), when a valid number.
    pub start_item: Option<u32>,
    /// BQ end item, when a valid number.
    pub end_item: Option<u32>,
}

/// 23 Patron Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronStatus {
    /// Language, three digits.
    pub language: String,
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password.
    pub patron_password: Option<String>,
}

/// 65 Renew All.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewAll {
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AD patron password.
    pub patron_password: Option<String>,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// BO fee acknowledged.
    pub fee_acknowledged: Option<bool>,
}

/// 35 End Patron Session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndPatronSession {
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password.
    pub patron_password: Option<String>,
}

/// 37 Fee Paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaid {
    /// Transaction date.
    pub date: SipDate,
    /// Fee type, two digits (`01` other … `09` hold fee).
    pub fee_type: String,
    /// Payment type, two digits (`00` cash, `01` VISA, `02` credit card).
    pub payment_type: String,
    /// Currency, three characters (ISO 4217, `CNY`).
    pub currency: String,
    /// BV fee amount as sent (e.g. `2.50`).
    pub fee_amount: String,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password.
    pub patron_password: Option<String>,
    /// CG fee identifier.
    pub fee_id: Option<String>,
    /// BK transaction id.
    pub transaction_id: Option<String>,
}

/// 01 Block Patron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPatron {
    /// Whether the machine kept the card.
    pub card_retained: bool,
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AL blocked card message.
    pub message: Option<String>,
    /// AA patron identifier.
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
}

/// 25 Patron Enable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronEnable {
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password.
    pub patron_password: Option<String>,
}

pub(super) fn parse_patron_information(rest: &str) -> Result<PatronInformation, ParseError> {
    const CODE: &str = "63";
    let mut cursor = Cursor::new(CODE, rest, 3 + 18 + 10)?;
    let language = cursor.digits("language", 3)?;
    let date = cursor.date();
    let summary = summary(cursor.take(10));
    let fields = cursor.fields();
    Ok(PatronInformation {
        language,
        date,
        summary,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
        start_item: fields.number("BP"),
        end_item: fields.number("BQ"),
    })
}

fn summary(flags: &str) -> Option<Summary> {
    const KINDS: [Summary; 6] = [
        Summary::HoldItems,
        Summary::OverdueItems,
        Summary::ChargedItems,
        Summary::FineItems,
        Summary::RecallItems,
        Summary::UnavailableHolds,
    ];
    flags.chars().zip(KINDS).find(|(flag, _)| flag.eq_ignore_ascii_case(&'Y')).map(|(_, kind)| kind)
}

pub(super) fn parse_patron_status(rest: &str) -> Result<PatronStatus, ParseError> {
    const CODE: &str = "23";
    let mut cursor = Cursor::new(CODE, rest, 3 + 18)?;
    let language = cursor.digits("language", 3)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(PatronStatus {
        language,
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
    })
}

pub(super) fn parse_renew_all(rest: &str) -> Result<RenewAll, ParseError> {
    const CODE: &str = "65";
    let mut cursor = Cursor::new(CODE, rest, 18)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(RenewAll {
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        patron_password: fields.string("AD"),
        terminal_password: optional(&fields, "AC"),
        fee_acknowledged: fields.flag("BO"),
    })
}

pub(super) fn parse_end_patron_session(rest: &str) -> Result<EndPatronSession, ParseError> {
    const CODE: &str = "35";
    let mut cursor = Cursor::new(CODE, rest, 18)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(EndPatronSession {
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
    })
}

pub(super) fn parse_fee_paid(rest: &str) -> Result<FeePaid, ParseError> {
    const CODE: &str = "37";
    let mut cursor = Cursor::new(CODE, rest, 18 + 2 + 2 + 3)?;
    let date = cursor.date();
    let fee_type = cursor.digits("fee type", 2)?;
    let payment_type = cursor.digits("payment type", 2)?;
    let currency = cursor.take(3).to_owned();
    let fields = cursor.fields();
    Ok(FeePaid {
        date,
        fee_type,
        payment_type,
        currency,
        fee_amount: required(&fields, CODE, "BV")?,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
        fee_id: optional(&fields, "CG"),
        transaction_id: optional(&fields, "BK"),
    })
}

pub(super) fn parse_block_patron(rest: &str) -> Result<BlockPatron, ParseError> {
    const CODE: &str = "01";
    let mut cursor = Cursor::new(CODE, rest, 1 + 18)?;
    let card_retained = cursor.yes_no("card retained")?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(BlockPatron {
        card_retained,
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        message: optional(&fields, "AL"),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
    })
}

pub(super) fn parse_patron_enable(rest: &str) -> Result<PatronEnable, ParseError> {
    const CODE: &str = "25";
    let mut cursor = Cursor::new(CODE, rest, 18)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(PatronEnable {
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
    })
}
