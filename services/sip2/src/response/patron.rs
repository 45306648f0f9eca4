//! Answers about the patron: 64 Patron Information, 24 Patron Status (and
//! 26 Patron Enable), 66 Renew All, 36 End Session and 38 Fee Paid.

use super::language_field;
use crate::date::SipDate;
use crate::field::Writer;

/// The 14 patron status flags (`Y` when true, a space when not), in SIP2's
/// order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatronStatusFlags {
    pub charge_denied: bool,
    pub renewal_denied: bool,
    pub recall_denied: bool,
    pub hold_denied: bool,
    pub card_reported_lost: bool,
    pub too_many_items_charged: bool,
    pub too_many_items_overdue: bool,
    pub too_many_renewals: bool,
    pub too_many_claims_of_items_returned: bool,
    pub too_many_items_lost: bool,
    pub excessive_outstanding_fines: bool,
    pub excessive_outstanding_fees: bool,
    pub recall_overdue: bool,
    pub too_many_items_billed: bool,
}

impl PatronStatusFlags {
    /// Everything denied: what an unknown or refused patron gets.
    pub fn all_denied() -> PatronStatusFlags {
        PatronStatusFlags {
            charge_denied: true,
            renewal_denied: true,
            recall_denied: true,
            hold_denied: true,
            ..Default::default()
        }
    }

    /// The 14 characters.
    pub fn to_wire(&self) -> String {
        [
            self.charge_denied,
            self.renewal_denied,
            self.recall_denied,
            self.hold_denied,
            self.card_reported_lost,
            self.too_many_items_charged,
            self.too_many_items_overdue,
            self.too_many_renewals,
            self.too_many_claims_of_items_returned,
            self.too_many_items_lost,
            self.excessive_outstanding_fines,
            self.excessive_outstanding_fees,
            self.recall_overdue,
            self.too_many_items_billed,
        ]
        .iter()
        .map(|&flag| if flag { 'Y' } else { ' ' })
        .collect()
    }
}

/// 64 Patron Information Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatronInformationResponse {
    pub patron_status: PatronStatusFlags,
    /// Three digits (see [`super::language_code`]); others are sent as `000`.
    pub language: String,
    pub date: SipDate,
    /// Counts, four digits each (held at 9999).
    pub hold_items_count: u32,
    pub overdue_items_count: u32,
    pub charged_items_count: u32,
    pub fine_items_count: u32,
    pub recall_items_count: u32,
    pub unavailable_holds_count: u32,
    /// AO.
    pub institution_id: String,
    /// AA.
    pub patron_id: String,
    /// AE personal name (always sent).
    pub personal_name: String,
    /// BZ, CA, CB limits.
    pub hold_items_limit: Option<u32>,
    pub overdue_items_limit: Option<u32>,
    pub charged_items_limit: Option<u32>,
    /// BL valid patron.
    pub valid_patron: Option<bool>,
    /// CQ valid patron password (send it when AD came).
    pub valid_patron_password: Option<bool>,
    /// BH currency (`CNY`).
    pub currency: Option<String>,
    /// BV fee amount owed.
    pub fee_amount: Option<String>,
    /// CC fee limit.
    pub fee_limit: Option<String>,
    /// AS hold items (ready), AT overdue, AU charged, AV fines, BU recalls,
    /// CD unavailable holds: one field per item.
    pub hold_items: Vec<String>,
    pub overdue_items: Vec<String>,
    pub charged_items: Vec<String>,
    pub fine_items: Vec<String>,
    pub recall_items: Vec<String>,
    pub unavailable_hold_items: Vec<String>,
    /// BD home address, BE e-mail, BF phone (Lectern sends none of them).
    pub home_address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl PatronInformationResponse {
    /// The `64` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("64");
        w.fixed(&self.patron_status.to_wire())
            .fixed(language_field(&self.language))
            .date(&self.date)
            .number(self.hold_items_count, 4)
            .number(self.overdue_items_count, 4)
            .number(self.charged_items_count, 4)
            .number(self.fine_items_count, 4)
            .number(self.recall_items_count, 4)
            .number(self.unavailable_holds_count, 4)
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .field("AE", &self.personal_name)
            .optional_number("BZ", self.hold_items_limit)
            .optional_number("CA", self.overdue_items_limit)
            .optional_number("CB", self.charged_items_limit)
            .optional_flag("BL", self.valid_patron)
            .optional_flag("CQ", self.valid_patron_password)
            .optional("BH", self.currency.as_deref())
            .optional("BV", self.fee_amount.as_deref())
            .optional("CC", self.fee_limit.as_deref())
            .repeated("AS", &self.hold_items)
            .repeated("AT", &self.overdue_items)
            .repeated("AU", &self.charged_items)
            .repeated("AV", &self.fine_items)
            .repeated("BU", &self.recall_items)
            .repeated("CD", &self.unavailable_hold_items)
            .optional("BD", self.home_address.as_deref())
            .optional("BE", self.email.as_deref())
            .optional("BF", self.phone.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 24 Patron Status Response; also 26 Patron Enable Response (see
/// [`super::Response::PatronEnable`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatronStatusResponse {
    pub patron_status: PatronStatusFlags,
    /// Three digits; others are sent as `000`.
    pub language: String,
    pub date: SipDate,
    /// AO.
    pub institution_id: String,
    /// AA.
    pub patron_id: String,
    /// AE personal name (always sent).
    pub personal_name: String,
    /// BL valid patron, CQ valid patron password.
    pub valid_patron: Option<bool>,
    pub valid_patron_password: Option<bool>,
    /// BH currency, BV fee amount.
    pub currency: Option<String>,
    pub fee_amount: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl PatronStatusResponse {
    /// The `24` message text.
    pub fn to_wire_text(&self) -> String {
        self.write("24")
    }

    pub(super) fn write(&self, code: &str) -> String {
        let mut w = Writer::new(code);
        w.fixed(&self.patron_status.to_wire())
            .fixed(language_field(&self.language))
            .date(&self.date)
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .field("AE", &self.personal_name)
            .optional_flag("BL", self.valid_patron)
            .optional_flag("CQ", self.valid_patron_password)
            .optional("BH", self.currency.as_deref())
            .optional("BV", self.fee_amount.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 66 Renew All Response. The counts are the lengths of the lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewAllResponse {
    pub ok: bool,
    pub date: SipDate,
    /// AO.
    pub institution_id: String,
    /// BM renewed items, BN items not renewed.
    pub renewed_items: Vec<String>,
    pub unrenewed_items: Vec<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl RenewAllResponse {
    /// The `66` message text.
    pub fn to_wire_text(&self) -> String {
        let count = |items: &Vec<String>| u32::try_from(items.len()).unwrap_or(u32::MAX);
        let mut w = Writer::new("66");
        w.one_zero(self.ok)
            .number(count(&self.renewed_items), 4)
            .number(count(&self.unrenewed_items), 4)
            .date(&self.date)
            .field("AO", &self.institution_id)
            .repeated("BM", &self.renewed_items)
            .repeated("BN", &self.unrenewed_items)
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 36 End Session Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndSessionResponse {
    pub end_session: bool,
    pub date: SipDate,
    /// AO, AA.
    pub institution_id: String,
    pub patron_id: String,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl EndSessionResponse {
    /// The `36` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("36");
        w.yes_no(self.end_session)
            .date(&self.date)
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 38 Fee Paid Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeePaidResponse {
    pub payment_accepted: bool,
    pub date: SipDate,
    /// AO, AA.
    pub institution_id: String,
    pub patron_id: String,
    /// BK transaction id.
    pub transaction_id: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl FeePaidResponse {
    /// The `38` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("38");
        w.yes_no(self.payment_accepted)
            .date(&self.date)
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .optional("BK", self.transaction_id.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}
