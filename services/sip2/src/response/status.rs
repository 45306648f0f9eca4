//! The connection's own answers: 94 Login Response and 98 ACS Status.

use crate::date::SipDate;
use crate::field::Writer;

/// 94 Login Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginResponse {
    /// `1` signed in, `0` refused.
    pub ok: bool,
}

impl LoginResponse {
    /// `941` or `940`.
    pub fn to_wire_text(&self) -> String {
        Writer::new("94").one_zero(self.ok).finish()
    }
}

/// Which messages the ACS answers (the 16 positions of BX), in the order
/// SIP2 lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SupportedMessages([bool; 16]);

impl SupportedMessages {
    /// The request codes in BX order: patron status, checkout, checkin,
    /// block patron, SC/ACS status, resend, login, patron information, end
    /// patron session, fee paid, item information, item status update,
    /// patron enable, hold, renew, renew all.
    pub const ORDER: [&'static str; 16] =
        ["23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65"];

    /// The set naming these request codes (unknown codes are ignored).
    pub fn from_codes(codes: &[&str]) -> SupportedMessages {
        let mut set = [false; 16];
        for (slot, code) in set.iter_mut().zip(Self::ORDER) {
            *slot = codes.contains(&code);
        }
        SupportedMessages(set)
    }

    /// The 16 `Y`/`N` characters.
    pub fn to_wire(&self) -> String {
        self.0.iter().map(|&yes| if yes { 'Y' } else { 'N' }).collect()
    }
}

/// 98 ACS Status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcsStatus {
    /// The ACS is online (`N` before login).
    pub online: bool,
    /// Check-in allowed.
    pub checkin_ok: bool,
    /// Check-out allowed.
    pub checkout_ok: bool,
    /// The ACS renews on a checkout of an item already lent to the patron.
    pub acs_renewal_policy: bool,
    /// 19 Item Status Update allowed.
    pub status_update_ok: bool,
    /// Offline (no block) transactions allowed.
    pub offline_ok: bool,
    /// Timeout in tenths of a second, three digits.
    pub timeout_period: u32,
    /// Retries allowed, three digits.
    pub retries_allowed: u32,
    /// The ACS's date and time.
    pub date: SipDate,
    /// Protocol version; empty means `2.00`. Cut or padded to 4 characters.
    pub protocol_version: String,
    /// AO institution id.
    pub institution_id: String,
    /// AM library name.
    pub library_name: Option<String>,
    /// BX supported messages.
    pub supported_messages: SupportedMessages,
    /// AN terminal location.
    pub terminal_location: Option<String>,
    /// AF screen messages.
    pub screen_messages: Vec<String>,
    /// AG print lines.
    pub print_lines: Vec<String>,
}

impl AcsStatus {
    /// The `98` message text.
    pub fn to_wire_text(&self) -> String {
        let version: String = match self.protocol_version.as_str() {
            "" => "2.00".to_owned(),
            other => {
                format!("{:<4}", other.chars().filter(char::is_ascii_graphic).take(4).collect::<String>())
            }
        };
        let mut w = Writer::new("98");
        w.yes_no(self.online)
            .yes_no(self.checkin_ok)
            .yes_no(self.checkout_ok)
            .yes_no(self.acs_renewal_policy)
            .yes_no(self.status_update_ok)
            .yes_no(self.offline_ok)
            .number(self.timeout_period, 3)
            .number(self.retries_allowed, 3)
            .date(&self.date)
            .fixed(&version)
            .field("AO", &self.institution_id)
            .optional("AM", self.library_name.as_deref())
            .field("BX", &self.supported_messages.to_wire())
            .optional("AN", self.terminal_location.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}
