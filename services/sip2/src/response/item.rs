//! Answers about items: 18 Item Information, 12 Checkout (and 30 Renew),
//! 10 Checkin, 16 Hold and 20 Item Status Update.

use crate::date::SipDate;
use crate::field::Writer;

/// Circulation status of an item (18), two digits on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CirculationStatus {
    #[default]
    Other = 1,
    OnOrder = 2,
    Available = 3,
    Charged = 4,
    ChargedNotToBeRecalledUntilEarliestRecallDate = 5,
    InProcess = 6,
    Recalled = 7,
    WaitingOnHoldShelf = 8,
    WaitingToBeReshelved = 9,
    InTransit = 10,
    ClaimedReturned = 11,
    Lost = 12,
    Missing = 13,
}

/// Where a returned book goes (CL in 10); the sorter bins Lectern's
/// machines are set up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBin {
    /// `1` back to the shelf.
    Shelf,
    /// `2` the hold shelf: a reader here waits for it.
    HoldShelf,
    /// `3` transit: it goes to another school.
    Transit,
}

impl SortBin {
    fn as_str(self) -> &'static str {
        match self {
            SortBin::Shelf => "1",
            SortBin::HoldShelf => "2",
            SortBin::Transit => "3",
        }
    }
}

/// Why a check-in raised the alert (CV in 10, a 3M extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertType {
    /// `01` a hold waits here.
    LocalHold,
    /// `02` a hold waits at another school.
    RemoteHold,
    /// `04` the book goes home to its school.
    Transit,
}

impl AlertType {
    fn as_str(self) -> &'static str {
        match self {
            AlertType::LocalHold => "01",
            AlertType::RemoteHold => "02",
            AlertType::Transit => "04",
        }
    }
}

/// 18 Item Information Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInformationResponse {
    pub circulation_status: CirculationStatus,
    /// Security marker, two digits (`00` other, `01` none, `02` tattle-tape).
    pub security_marker: u32,
    /// Fee type, two digits; `None` is sent as `01` other.
    pub fee_type: Option<u32>,
    pub date: SipDate,
    /// AB item identifier, AJ title (both always sent).
    pub item_id: String,
    pub title: String,
    /// CF hold queue length.
    pub hold_queue_length: Option<u32>,
    /// AH due date, CM hold pickup date (free text, usually a SIP2 date).
    pub due_date: Option<String>,
    pub hold_pickup_date: Option<String>,
    /// BG owner, BH currency, BV fee amount.
    pub owner: Option<String>,
    pub currency: Option<String>,
    pub fee_amount: Option<String>,
    /// CK media type (`001` book).
    pub media_type: Option<String>,
    /// AQ permanent location, AP current location.
    pub permanent_location: Option<String>,
    pub current_location: Option<String>,
    /// CH item properties, CS call number (3M extension).
    pub item_properties: Option<String>,
    pub call_number: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl ItemInformationResponse {
    /// The `18` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("18");
        w.number(self.circulation_status as u32, 2)
            .number(self.security_marker, 2)
            .number(self.fee_type.unwrap_or(1), 2)
            .date(&self.date)
            .field("AB", &self.item_id)
            .field("AJ", &self.title)
            .optional_number("CF", self.hold_queue_length)
            .optional("AH", self.due_date.as_deref())
            .optional("CM", self.hold_pickup_date.as_deref())
            .optional("BG", self.owner.as_deref())
            .optional("BH", self.currency.as_deref())
            .optional("BV", self.fee_amount.as_deref())
            .optional("CK", self.media_type.as_deref())
            .optional("AQ", self.permanent_location.as_deref())
            .optional("AP", self.current_location.as_deref())
            .optional("CH", self.item_properties.as_deref())
            .optional("CS", self.call_number.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 12 Checkout Response; also 30 Renew Response (see
/// [`super::Response::Renew`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutResponse {
    /// `1` lent (or renewed), `0` refused.
    pub ok: bool,
    /// Renewal ok: this was a renewal of an item the patron had.
    pub renewal_ok: bool,
    /// Magnetic media, desensitize: `None` is `U` unknown.
    pub magnetic_media: Option<bool>,
    pub desensitize: Option<bool>,
    pub date: SipDate,
    /// AO, AA, AB, AJ (always sent).
    pub institution_id: String,
    pub patron_id: String,
    pub item_id: String,
    pub title: String,
    /// AH due date: always sent, empty on a refusal.
    pub due_date: String,
    /// BT fee type, CI security inhibit, BH currency, BV fee amount.
    pub fee_type: Option<String>,
    pub security_inhibit: Option<bool>,
    pub currency: Option<String>,
    pub fee_amount: Option<String>,
    /// CK media type, CH item properties, BK transaction id.
    pub media_type: Option<String>,
    pub item_properties: Option<String>,
    pub transaction_id: Option<String>,
    /// BL valid patron, CQ valid patron password (on refusals).
    pub valid_patron: Option<bool>,
    pub valid_patron_password: Option<bool>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl CheckoutResponse {
    /// The `12` message text.
    pub fn to_wire_text(&self) -> String {
        self.write("12")
    }

    pub(super) fn write(&self, code: &str) -> String {
        let mut w = Writer::new(code);
        w.one_zero(self.ok)
            .yes_no(self.renewal_ok)
            .yes_no_unknown(self.magnetic_media)
            .yes_no_unknown(self.desensitize)
            .date(&self.date)
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .field("AB", &self.item_id)
            .field("AJ", &self.title)
            .field("AH", &self.due_date)
            .optional("BT", self.fee_type.as_deref())
            .optional_flag("CI", self.security_inhibit)
            .optional("BH", self.currency.as_deref())
            .optional("BV", self.fee_amount.as_deref())
            .optional("CK", self.media_type.as_deref())
            .optional("CH", self.item_properties.as_deref())
            .optional("BK", self.transaction_id.as_deref())
            .optional_flag("BL", self.valid_patron)
            .optional_flag("CQ", self.valid_patron_password)
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 10 Checkin Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckinResponse {
    /// `1` returned, `0` refused.
    pub ok: bool,
    /// Resensitize the security strip (`Y` unless it stays out).
    pub resensitize: bool,
    /// `None` is `U` unknown.
    pub magnetic_media: Option<bool>,
    /// Alert: the book does not go back to the shelf (hold or transit).
    pub alert: bool,
    pub date: SipDate,
    /// AO, AB, AQ permanent location, AJ title (always sent).
    pub institution_id: String,
    pub item_id: String,
    pub permanent_location: String,
    pub title: String,
    /// CL sort bin.
    pub sort_bin: Option<SortBin>,
    /// AA the patron who had it (never a hold patron: privacy).
    pub patron_id: Option<String>,
    /// CK media type, CH item properties, CS call number.
    pub media_type: Option<String>,
    pub item_properties: Option<String>,
    pub call_number: Option<String>,
    /// CT destination (the school a transit goes to), CV alert type.
    pub destination: Option<String>,
    pub alert_type: Option<AlertType>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl CheckinResponse {
    /// The `10` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("10");
        w.one_zero(self.ok)
            .yes_no(self.resensitize)
            .yes_no_unknown(self.magnetic_media)
            .yes_no(self.alert)
            .date(&self.date)
            .field("AO", &self.institution_id)
            .field("AB", &self.item_id)
            .field("AQ", &self.permanent_location)
            .field("AJ", &self.title)
            .optional("CL", self.sort_bin.map(SortBin::as_str))
            .optional("AA", self.patron_id.as_deref())
            .optional("CK", self.media_type.as_deref())
            .optional("CH", self.item_properties.as_deref())
            .optional("CS", self.call_number.as_deref())
            .optional("CT", self.destination.as_deref())
            .optional("CV", self.alert_type.map(AlertType::as_str))
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 16 Hold Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldResponse {
    pub ok: bool,
    /// Available: the item is on the shelf now.
    pub available: bool,
    pub date: SipDate,
    /// BW expiration date, BR queue position, BS pickup location.
    pub expiration_date: Option<String>,
    pub queue_position: Option<u32>,
    pub pickup_location: Option<String>,
    /// AO, AA.
    pub institution_id: String,
    pub patron_id: String,
    /// AB item, AJ title.
    pub item_id: Option<String>,
    pub title: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl HoldResponse {
    /// The `16` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("16");
        w.one_zero(self.ok)
            .yes_no(self.available)
            .date(&self.date)
            .optional("BW", self.expiration_date.as_deref())
            .optional_number("BR", self.queue_position)
            .optional("BS", self.pickup_location.as_deref())
            .field("AO", &self.institution_id)
            .field("AA", &self.patron_id)
            .optional("AB", self.item_id.as_deref())
            .optional("AJ", self.title.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}

/// 20 Item Status Update Response (Lectern answers ok `0`: machines do not
/// change items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemStatusUpdateResponse {
    pub ok: bool,
    pub date: SipDate,
    /// AB item, AJ title, CH item properties.
    pub item_id: String,
    pub title: Option<String>,
    pub item_properties: Option<String>,
    /// AF screen messages, AG print lines.
    pub screen_messages: Vec<String>,
    pub print_lines: Vec<String>,
}

impl ItemStatusUpdateResponse {
    /// The `20` message text.
    pub fn to_wire_text(&self) -> String {
        let mut w = Writer::new("20");
        w.one_zero(self.ok)
            .date(&self.date)
            .field("AB", &self.item_id)
            .optional("AJ", self.title.as_deref())
            .optional("CH", self.item_properties.as_deref())
            .messages("AF", &self.screen_messages)
            .messages("AG", &self.print_lines);
        w.finish()
    }
}
