//! Answers to the machine: one struct per answer (all `Default`, so a
//! caller fills in what it knows and leaves the rest), gathered in
//! [`Response`], whose [`Response::to_wire_text`] writes the message text
//! and [`Response::to_wire`] the bytes ready to send.
//!
//! Fixed fields are always written at their exact length (numbers held at
//! their largest value, language codes padded), and variable fields pass
//! through [`crate::clean_value`], so no value can break the framing. The
//! fields kiosks depend on are always written, even empty: AJ and AH in
//! `12`, AJ and AQ in `10`, AE in `24`/`64`.

mod item;
mod patron;
mod status;

pub use item::{
    AlertType, CheckinResponse, CheckoutResponse, CirculationStatus, HoldResponse, ItemInformationResponse,
    ItemStatusUpdateResponse, SortBin,
};
pub use patron::{
    EndSessionResponse, FeePaidResponse, PatronInformationResponse, PatronStatusFlags, PatronStatusResponse,
    RenewAllResponse,
};
pub use status::{AcsStatus, LoginResponse, SupportedMessages};

use crate::charset::Charset;
use crate::check::seal;
use crate::frame::Terminator;

/// One answer to the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// 94 Login Response.
    Login(LoginResponse),
    /// 98 ACS Status.
    AcsStatus(AcsStatus),
    /// 64 Patron Information Response.
    PatronInformation(PatronInformationResponse),
    /// 24 Patron Status Response (also the answer to 01 Block Patron).
    PatronStatus(PatronStatusResponse),
    /// 26 Patron Enable Response (the same fields as 24).
    PatronEnable(PatronStatusResponse),
    /// 18 Item Information Response.
    ItemInformation(ItemInformationResponse),
    /// 12 Checkout Response.
    Checkout(CheckoutResponse),
    /// 30 Renew Response (the same fields as 12).
    Renew(CheckoutResponse),
    /// 10 Checkin Response.
    Checkin(CheckinResponse),
    /// 66 Renew All Response.
    RenewAll(RenewAllResponse),
    /// 36 End Session Response.
    EndSession(EndSessionResponse),
    /// 38 Fee Paid Response.
    FeePaid(FeePaidResponse),
    /// 16 Hold Response.
    Hold(HoldResponse),
    /// 20 Item Status Update Response.
    ItemStatusUpdate(ItemStatusUpdateResponse),
    /// 96 Request SC Resend: the checksum failed, send it again. With error
    /// detection it is the fixed `96AZFEF6` (no sequence).
    RequestScResend,
}

impl Response {
    /// The two-digit message code.
    pub fn code(&self) -> &'static str {
        match self {
            Response::Login(_) => "94",
            Response::AcsStatus(_) => "98",
            Response::PatronInformation(_) => "64",
            Response::PatronStatus(_) => "24",
            Response::PatronEnable(_) => "26",
            Response::ItemInformation(_) => "18",
            Response::Checkout(_) => "12",
            Response::Renew(_) => "30",
            Response::Checkin(_) => "10",
            Response::RenewAll(_) => "66",
            Response::EndSession(_) => "36",
            Response::FeePaid(_) => "38",
            Response::Hold(_) => "16",
            Response::ItemStatusUpdate(_) => "20",
            Response::RequestScResend => "96",
        }
    }

    /// The message text: code, fixed fields, variable fields; no error
    /// detection and no terminator.
    pub fn to_wire_text(&self) -> String {
        let code = self.code();
        match self {
            Response::Login(answer) => answer.to_wire_text(),
            Response::AcsStatus(answer) => answer.to_wire_text(),
            Response::PatronInformation(answer) => answer.to_wire_text(),
            Response::PatronStatus(answer) | Response::PatronEnable(answer) => answer.write(code),
            Response::ItemInformation(answer) => answer.to_wire_text(),
            Response::Checkout(answer) | Response::Renew(answer) => answer.write(code),
            Response::Checkin(answer) => answer.to_wire_text(),
            Response::RenewAll(answer) => answer.to_wire_text(),
            Response::EndSession(answer) => answer.to_wire_text(),
            Response::FeePaid(answer) => answer.to_wire_text(),
            Response::Hold(answer) => answer.to_wire_text(),
            Response::ItemStatusUpdate(answer) => answer.to_wire_text(),
            Response::RequestScResend => code.to_owned(),
        }
    }

    /// The bytes to send: the text in `charset`, sealed with `AY<sequence>`
    /// (not on `96`, whose fixed form has none) and `AZ<checksum>` when the
    /// machine uses error detection, then the terminator.
    pub fn to_wire(
        &self,
        charset: Charset,
        sequence: Option<u8>,
        error_detection: bool,
        terminator: Terminator,
    ) -> Vec<u8> {
        let text = self.to_wire_text();
        let sequence = if matches!(self, Response::RequestScResend) { None } else { sequence };
        seal(&charset.encode(&text), sequence, error_detection, terminator)
    }
}

/// The three-digit SIP2 language code for a device language (`zh-CN` or
/// `zh` → `019` Chinese, `en` → `001` English, others `000` unknown).
pub fn language_code(language: &str) -> &'static str {
    let language = language.to_ascii_lowercase();
    if language.starts_with("zh") {
        "019"
    } else if language.starts_with("en") {
        "001"
    } else {
        "000"
    }
}

/// A three-digit language fixed field from whatever the caller holds:
/// three digits as given, otherwise `000`.
fn language_field(language: &str) -> &str {
    if language.len() == 3 && language.bytes().all(|b| b.is_ascii_digit()) { language } else { "000" }
}

#[cfg(test)]
mod tests;
