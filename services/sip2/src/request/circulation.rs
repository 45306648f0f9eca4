//! Messages about items: 17 Item Information, 11 Checkout, 09 Checkin,
//! 29 Renew, 15 Hold and 19 Item Status Update.

use super::{Cursor, ParseError, optional, required};
use crate::date::SipDate;

/// 17 Item Information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInformation {
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id (empty when not sent).
    pub institution_id: String,
    /// AB item identifier (the barcode).
    pub item_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
}

/// 11 Checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// SC renewal policy: the machine may renew an item already lent to
    /// this patron.
    pub sc_renewal_policy: bool,
    /// No block: the machine lent it offline already; the ACS may not refuse.
    pub no_block: bool,
    /// Transaction date.
    pub date: SipDate,
    /// The due date an offline (no block) checkout gave; blank otherwise.
    pub nb_due_date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AB item identifier.
    pub item_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// AD patron password; `Some("")` when sent empty.
    pub patron_password: Option<String>,
    /// CH item properties.
    pub item_properties: Option<String>,
    /// BO fee acknowledged.
    pub fee_acknowledged: Option<bool>,
    /// BI cancel: undo a checkout the machine could not finish.
    pub cancel: Option<bool>,
}

/// 09 Checkin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkin {
    /// No block: returned offline already.
    pub no_block: bool,
    /// Transaction date.
    pub date: SipDate,
    /// Return date.
    pub return_date: SipDate,
    /// AP current location.
    pub current_location: Option<String>,
    /// AO institution id.
    pub institution_id: String,
    /// AB item identifier.
    pub item_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// CH item properties.
    pub item_properties: Option<String>,
    /// BI cancel.
    pub cancel: Option<bool>,
}

/// 29 Renew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renew {
    /// Third party allowed: renew even if another patron's item.
    pub third_party_allowed: bool,
    /// No block.
    pub no_block: bool,
    /// Transaction date.
    pub date: SipDate,
    /// The offline due date; blank otherwise.
    pub nb_due_date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AD patron password; `Some("")` when sent empty.
    pub patron_password: Option<String>,
    /// AB item identifier (this or the title is there).
    pub item_id: Option<String>,
    /// AJ title identifier.
    pub title_id: Option<String>,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// CH item properties.
    pub item_properties: Option<String>,
    /// BO fee acknowledged.
    pub fee_acknowledged: Option<bool>,
}

/// The mode of a 15 Hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldMode {
    /// `+` place a hold.
    Add,
    /// `-` cancel a hold.
    Delete,
    /// `*` change a hold.
    Change,
}

/// 15 Hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Add, delete or change.
    pub mode: HoldMode,
    /// Transaction date.
    pub date: SipDate,
    /// BW expiration date as sent.
    pub expiration_date: Option<String>,
    /// BS pickup location.
    pub pickup_location: Option<String>,
    /// BY hold type (`1` other, `2` any copy of title, `3` specific copy,
    /// `4` any copy at one branch).
    pub hold_type: Option<String>,
    /// AO institution id.
    pub institution_id: String,
    /// AA patron identifier.
    pub patron_id: String,
    /// AD patron password; `Some("")` when sent empty.
    pub patron_password: Option<String>,
    /// AB item identifier.
    pub item_id: Option<String>,
    /// AJ title identifier.
    pub title_id: Option<String>,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// BO fee acknowledged.
    pub fee_acknowledged: Option<bool>,
}

/// 19 Item Status Update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStatusUpdate {
    /// Transaction date.
    pub date: SipDate,
    /// AO institution id.
    pub institution_id: String,
    /// AB item identifier.
    pub item_id: String,
    /// AC terminal password.
    pub terminal_password: Option<String>,
    /// CH item properties.
    pub item_properties: Option<String>,
}

pub(super) fn parse_item_information(rest: &str) -> Result<ItemInformation, ParseError> {
    const CODE: &str = "17";
    let mut cursor = Cursor::new(CODE, rest, 18)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(ItemInformation {
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        item_id: required(&fields, CODE, "AB")?,
        terminal_password: optional(&fields, "AC"),
    })
}

pub(super) fn parse_checkout(rest: &str) -> Result<Checkout, ParseError> {
    const CODE: &str = "11";
    let mut cursor = Cursor::new(CODE, rest, 1 + 1 + 18 + 18)?;
    let sc_renewal_policy = cursor.yes_no("SC renewal policy")?;
    let no_block = cursor.yes_no("no block")?;
    let date = cursor.date();
    let nb_due_date = cursor.date();
    let fields = cursor.fields();
    Ok(Checkout {
        sc_renewal_policy,
        no_block,
        date,
        nb_due_date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        item_id: required(&fields, CODE, "AB")?,
        terminal_password: optional(&fields, "AC"),
        patron_password: fields.string("AD"),
        item_properties: optional(&fields, "CH"),
        fee_acknowledged: fields.flag("BO"),
        cancel: fields.flag("BI"),
    })
}

pub(super) fn parse_checkin(rest: &str) -> Result<Checkin, ParseError> {
    const CODE: &str = "09";
    let mut cursor = Cursor::new(CODE, rest, 1 + 18 + 18)?;
    let no_block = cursor.yes_no("no block")?;
    let date = cursor.date();
    let return_date = cursor.date();
    let fields = cursor.fields();
    Ok(Checkin {
        no_block,
        date,
        return_date,
        current_location: optional(&fields, "AP"),
        institution_id: fields.string("AO").unwrap_or_default(),
        item_id: required(&fields, CODE, "AB")?,
        terminal_password: optional(&fields, "AC"),
        item_properties: optional(&fields, "CH"),
        cancel: fields.flag("BI"),
    })
}

pub(super) fn parse_renew(rest: &str) -> Result<Renew, ParseError> {
    const CODE: &str = "29";
    let mut cursor = Cursor::new(CODE, rest, 1 + 1 + 18 + 18)?;
    let third_party_allowed = cursor.yes_no("third party allowed")?;
    let no_block = cursor.yes_no("no block")?;
    let date = cursor.date();
    let nb_due_date = cursor.date();
    let fields = cursor.fields();
    let item_id = optional(&fields, "AB");
    let title_id = optional(&fields, "AJ");
    if item_id.is_none() && title_id.is_none() {
        return Err(ParseError::MissingField { code: CODE, field: "AB" });
    }
    Ok(Renew {
        third_party_allowed,
        no_block,
        date,
        nb_due_date,
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        patron_password: fields.string("AD"),
        item_id,
        title_id,
        terminal_password: optional(&fields, "AC"),
        item_properties: optional(&fields, "CH"),
        fee_acknowledged: fields.flag("BO"),
    })
}

pub(super) fn parse_hold(rest: &str) -> Result<Hold, ParseError> {
    const CODE: &str = "15";
    let mut cursor = Cursor::new(CODE, rest, 1 + 18)?;
    let mode = match cursor.one_of("hold mode", "+-*")? {
        '+' => HoldMode::Add,
        '-' => HoldMode::Delete,
        _ => HoldMode::Change,
    };
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(Hold {
        mode,
        date,
        expiration_date: optional(&fields, "BW"),
        pickup_location: optional(&fields, "BS"),
        hold_type: optional(&fields, "BY"),
        institution_id: fields.string("AO").unwrap_or_default(),
        patron_id: required(&fields, CODE, "AA")?,
        patron_password: fields.string("AD"),
        item_id: optional(&fields, "AB"),
        title_id: optional(&fields, "AJ"),
        terminal_password: optional(&fields, "AC"),
        fee_acknowledged: fields.flag("BO"),
    })
}

pub(super) fn parse_item_status_update(rest: &str) -> Result<ItemStatusUpdate, ParseError> {
    const CODE: &str = "19";
    let mut cursor = Cursor::new(CODE, rest, 18)?;
    let date = cursor.date();
    let fields = cursor.fields();
    Ok(ItemStatusUpdate {
        date,
        institution_id: fields.string("AO").unwrap_or_default(),
        item_id: required(&fields, CODE, "AB")?,
        terminal_password: optional(&fields, "AC"),
        item_properties: optional(&fields, "CH"),
    })
}
