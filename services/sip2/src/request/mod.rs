//! Messages from the self-check machine, typed: one struct per message and
//! [`Request::parse`] to read a decoded message body (after [`crate::verify`]
//! took the `AY`/`AZ` tail off and [`crate::Charset::decode`] made it text).
//!
//! Parsing checks what the gateway relies on and nothing more: the message
//! code, the length and allowed characters of each fixed field, and the
//! variable fields the gateway cannot work without (CN/CO in a login, AA
//! the patron, AB the item, BV the amount). Everything else is optional
//! and kept as sent, so kiosks that leave out fields the standard calls
//! required (AO, AC) still work. Unknown variable fields are ignored.

mod circulation;
mod patron;
mod system;

pub use circulation::{Checkin, Checkout, Hold, HoldMode, ItemInformation, ItemStatusUpdate, Renew};
pub use patron::{
    BlockPatron, EndPatronSession, FeePaid, PatronEnable, PatronInformation, PatronStatus, RenewAll, Summary,
};
pub use system::{Login, ScStatus};

use crate::date::{DATE_LEN, SipDate};
use crate::field::Fields;

/// Why a message could not be read. `code` is the two-digit message code
/// when it was known, so the gateway can still answer in kind (`94` with
/// ok `0` for a broken login, say) or with `96`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer than two characters.
    #[error("the message is too short to hold a message code")]
    Empty,
    /// A code this codec does not know (or the gateway does not take).
    #[error("unknown message code {code:?}")]
    UnknownMessage { code: String },
    /// The message ends inside its fixed fields.
    #[error("message {code}: fixed fields need {expected} characters, got {got}")]
    TooShort { code: &'static str, expected: usize, got: usize },
    /// A fixed field holds something it may not.
    #[error("message {code}: fixed field {field} may not be {value:?}")]
    BadFixedField { code: &'static str, field: &'static str, value: String },
    /// A variable field the message cannot do without is missing or empty.
    #[error("message {code}: field {field} is missing")]
    MissingField { code: &'static str, field: &'static str },
}

impl ParseError {
    /// The message code the error belongs to, when it was recognised.
    pub fn code(&self) -> Option<&str> {
        match self {
            ParseError::Empty | ParseError::UnknownMessage { .. } => None,
            ParseError::TooShort { code, .. }
            | ParseError::BadFixedField { code, .. }
            | ParseError::MissingField { code, .. } => Some(code),
        }
    }
}

/// One message from the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// 93 Login.
    Login(Login),
    /// 99 SC Status.
    ScStatus(ScStatus),
    /// 97 Request ACS Resend: answer the last answer again, byte for byte.
    RequestResend,
    /// 63 Patron Information.
    PatronInformation(PatronInformation),
    /// 23 Patron Status.
    PatronStatus(PatronStatus),
    /// 17 Item Information.
    ItemInformation(ItemInformation),
    /// 11 Checkout.
    Checkout(Checkout),
    /// 09 Checkin.
    Checkin(Checkin),
    /// 29 Renew.
    Renew(Renew),
    /// 65 Renew All.
    RenewAll(RenewAll),
    /// 35 End Patron Session.
    EndPatronSession(EndPatronSession),
    /// 37 Fee Paid.
    FeePaid(FeePaid),
    /// 15 Hold.
    Hold(Hold),
    /// 19 Item Status Update (Lectern refuses it: `20` with ok `0`).
    ItemStatusUpdate(ItemStatusUpdate),
    /// 01 Block Patron (answered with `24`).
    BlockPatron(BlockPatron),
    /// 25 Patron Enable.
    PatronEnable(PatronEnable),
}

impl Request {
    /// Reads a decoded message body (no `AY`/`AZ` tail, no terminator).
    pub fn parse(text: &str) -> Result<Request, ParseError> {
        let split = text.char_indices().nth(2).map_or(text.len(), |(at, _)| at);
        let (code, rest) = text.split_at(split);
        if code.chars().count() < 2 {
            return Err(ParseError::Empty);
        }
        Ok(match code {
            "93" => Request::Login(system::parse_login(rest)?),
            "99" => Request::ScStatus(system::parse_sc_status(rest)?),
            // 97 has no fields; trailing bytes are tolerated.
            "97" => Request::RequestResend,
            "63" => Request::PatronInformation(patron::parse_patron_information(rest)?),
            "23" => Request::PatronStatus(patron::parse_patron_status(rest)?),
            "17" => Request::ItemInformation(circulation::parse_item_information(rest)?),
            "11" => Request::Checkout(circulation::parse_checkout(rest)?),
            "09" => Request::Checkin(circulation::parse_checkin(rest)?),
            "29" => Request::Renew(circulation::parse_renew(rest)?),
            "65" => Request::RenewAll(patron::parse_renew_all(rest)?),
            "35" => Request::EndPatronSession(patron::parse_end_patron_session(rest)?),
            "37" => Request::FeePaid(patron::parse_fee_paid(rest)?),
            "15" => Request::Hold(circulation::parse_hold(rest)?),
            "19" => Request::ItemStatusUpdate(circulation::parse_item_status_update(rest)?),
            "01" => Request::BlockPatron(patron::parse_block_patron(rest)?),
            "25" => Request::PatronEnable(patron::parse_patron_enable(rest)?),
            other => return Err(ParseError::UnknownMessage { code: other.to_owned() }),
        })
    }

    /// The two-digit message code.
    pub fn code(&self) -> &'static str {
        match self {
            Request::Login(_) => "93",
            Request::ScStatus(_) => "99",
            Request::RequestResend => "97",
            Request::PatronInformation(_) => "63",
            Request::PatronStatus(_) => "23",
            Request::ItemInformation(_) => "17",
            Request::Checkout(_) => "11",
            Request::Checkin(_) => "09",
            Request::Renew(_) => "29",
            Request::RenewAll(_) => "65",
            Request::EndPatronSession(_) => "35",
            Request::FeePaid(_) => "37",
            Request::Hold(_) => "15",
            Request::ItemStatusUpdate(_) => "19",
            Request::BlockPatron(_) => "01",
            Request::PatronEnable(_) => "25",
        }
    }
}

impl Request {
    /// AA, the patron the message is about, when it has one.
    pub fn patron_id(&self) -> Option<&str> {
        match self {
            Request::PatronInformation(m) => Some(&m.patron_id),
            Request::PatronStatus(m) => Some(&m.patron_id),
            Request::Checkout(m) => Some(&m.patron_id),
            Request::Renew(m) => Some(&m.patron_id),
            Request::RenewAll(m) => Some(&m.patron_id),
            Request::EndPatronSession(m) => Some(&m.patron_id),
            Request::FeePaid(m) => Some(&m.patron_id),
            Request::Hold(m) => Some(&m.patron_id),
            Request::BlockPatron(m) => Some(&m.patron_id),
            Request::PatronEnable(m) => Some(&m.patron_id),
            _ => None,
        }
    }

    /// AD, the patron's PIN, when the message carried one (`Some("")` for
    /// an empty AD).
    pub fn patron_password(&self) -> Option<&str> {
        match self {
            Request::PatronInformation(m) => m.patron_password.as_deref(),
            Request::PatronStatus(m) => m.patron_password.as_deref(),
            Request::Checkout(m) => m.patron_password.as_deref(),
            Request::Renew(m) => m.patron_password.as_deref(),
            Request::RenewAll(m) => m.patron_password.as_deref(),
            Request::EndPatronSession(m) => m.patron_password.as_deref(),
            Request::FeePaid(m) => m.patron_password.as_deref(),
            Request::Hold(m) => m.patron_password.as_deref(),
            Request::PatronEnable(m) => m.patron_password.as_deref(),
            _ => None,
        }
    }

    /// AB, the item the message is about, when it has one.
    pub fn item_id(&self) -> Option<&str> {
        match self {
            Request::ItemInformation(m) => Some(&m.item_id),
            Request::Checkout(m) => Some(&m.item_id),
            Request::Checkin(m) => Some(&m.item_id),
            Request::Renew(m) => m.item_id.as_deref(),
            Request::Hold(m) => m.item_id.as_deref(),
            Request::ItemStatusUpdate(m) => Some(&m.item_id),
            _ => None,
        }
    }

    /// The transaction date, for messages that carry one (all but 93, 99
    /// and 97). Request ids derive from it as sent.
    pub fn transaction_date(&self) -> Option<&SipDate> {
        match self {
            Request::Login(_) | Request::ScStatus(_) | Request::RequestResend => None,
            Request::PatronInformation(m) => Some(&m.date),
            Request::PatronStatus(m) => Some(&m.date),
            Request::ItemInformation(m) => Some(&m.date),
            Request::Checkout(m) => Some(&m.date),
            Request::Checkin(m) => Some(&m.date),
            Request::Renew(m) => Some(&m.date),
            Request::RenewAll(m) => Some(&m.date),
            Request::EndPatronSession(m) => Some(&m.date),
            Request::FeePaid(m) => Some(&m.date),
            Request::Hold(m) => Some(&m.date),
            Request::ItemStatusUpdate(m) => Some(&m.date),
            Request::BlockPatron(m) => Some(&m.date),
            Request::PatronEnable(m) => Some(&m.date),
        }
    }
}

/// Reads fixed fields off the front of a message, then its variable fields.
pub(crate) struct Cursor<'a> {
    code: &'static str,
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// A cursor over `rest` (the message after its code) that needs
    /// `expected` characters of fixed fields.
    pub(crate) fn new(code: &'static str, rest: &'a str, expected: usize) -> Result<Cursor<'a>, ParseError> {
        let got = rest.chars().take(expected).count();
        if got < expected {
            return Err(ParseError::TooShort { code, expected, got });
        }
        Ok(Cursor { code, rest })
    }

    /// The next `len` characters (present: checked in `new`).
    pub(crate) fn take(&mut self, len: usize) -> &'a str {
        let end = self.rest.char_indices().nth(len).map_or(self.rest.len(), |(at, _)| at);
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    /// A one-character fixed field among `allowed`.
    pub(crate) fn one_of(&mut self, field: &'static str, allowed: &str) -> Result<char, ParseError> {
        let taken = self.take(1);
        match taken.chars().next() {
            Some(c) if allowed.contains(c) => Ok(c),
            _ => Err(self.bad(field, taken)),
        }
    }

    /// A `Y`/`N` fixed field.
    pub(crate) fn yes_no(&mut self, field: &'static str) -> Result<bool, ParseError> {
        Ok(self.one_of(field, "YNyn")?.eq_ignore_ascii_case(&'Y'))
    }

    /// A fixed field of `len` ASCII digits.
    pub(crate) fn digits(&mut self, field: &'static str, len: usize) -> Result<String, ParseError> {
        let taken = self.take(len);
        if taken.bytes().all(|b| b.is_ascii_digit()) {
            Ok(taken.to_owned())
        } else {
            Err(self.bad(field, taken))
        }
    }

    /// An 18-character date fixed field (kept as sent).
    pub(crate) fn date(&mut self) -> SipDate {
        SipDate::from_wire(self.take(DATE_LEN)).unwrap_or_default()
    }

    /// The variable fields after the fixed ones.
    pub(crate) fn fields(self) -> Fields {
        Fields::parse(self.rest)
    }

    pub(crate) fn bad(&self, field: &'static str, value: &str) -> ParseError {
        ParseError::BadFixedField { code: self.code, field, value: value.to_owned() }
    }
}

/// A variable field that must be there and not be empty.
pub(crate) fn required(
    fields: &Fields,
    code: &'static str,
    field: &'static str,
) -> Result<String, ParseError> {
    match fields.get(field) {
        Some(value) if !value.trim().is_empty() => Ok(value.to_owned()),
        _ => Err(ParseError::MissingField { code, field }),
    }
}

/// A variable field that may be absent; an empty value counts as absent.
pub(crate) fn optional(fields: &Fields, field: &str) -> Option<String> {
    fields.get(field).filter(|value| !value.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests;
