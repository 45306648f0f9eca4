//! Lending and taking back: 11 Checkout, 09 Checkin, 29 Renew and 65 Renew
//! All, each one call to circulation with the request id derived from the
//! message (see `request_id.rs`), so a message resent after a lost answer
//! gets the first answer and lends or renews nothing twice.
//!
//! Check-out, renewal and renew-all act for the patron signed in at the
//! machine (`patron.rs`); check-in acts with the device's own token, as a
//! return box, whoever is at the machine. Its answer says where the book
//! goes — shelf, hold shelf, transit bin (CL, CT, CV, the alert and AF) —
//! and never who the hold is for.

use lectern_proto::catalog::v1::Copy;
use lectern_proto::circulation::v1::{CheckInResponse, CheckInRoute, Loan, TransitReason};
use lectern_sip2::request::{Checkin, Checkout, Renew, RenewAll};
use lectern_sip2::response::{
    AlertType, CheckinResponse, CheckoutResponse, RenewAllResponse, Response, SortBin,
};

use super::request_id::{self, Parts};
use super::session::Session;

/// The media type of every copy a school library lends through a machine
/// (CK `001` book); Lectern's item types are all printed books today.
pub const MEDIA_BOOK: &str = "001";

impl Session {
    /// The request id of a message from this device.
    pub(super) fn request_id(&self, code: &str, patron: &str, item: &str, date: &str) -> Option<String> {
        let device_id = self.device.as_ref().map(|device| device.id.as_str()).unwrap_or_default();
        request_id::derive(Parts { device_id, code, patron, item, date, extra: &[] })
    }

    /// The due date of a loan as AH (a SIP2 date, local time).
    fn due(&self, loan: &Loan) -> String {
        let due = loan.due_at.as_ref().and_then(|time| chrono::DateTime::from_timestamp(time.seconds, 0));
        due.map(|due| self.edge.local_date(due).as_str().to_owned()).unwrap_or_default()
    }

    /// A copy's title for a refusal, if the catalog knows the barcode.
    async fn title_of(&self, barcode: &str) -> String {
        self.copy(barcode).await.map(|copy| copy.title).unwrap_or_default()
    }

    /// A copy by barcode, read with the device's token.
    pub(super) async fn copy(&self, barcode: &str) -> Option<Copy> {
        let device = self.device.as_ref()?;
        if barcode.trim().is_empty() {
            return None;
        }
        self.services.lookup_copy(&device.token.access, barcode.trim()).await.ok()
    }

    /// The start of an answer to 11 and 29 (both answer with a 12): not
    /// lent, nothing to desensitize, a book.
    fn checkout_answer(&self, institution: &str, patron: &str, item: &str) -> CheckoutResponse {
        CheckoutResponse {
            magnetic_media: Some(false),
            desensitize: Some(false),
            date: self.now(),
            institution_id: self.institution(institution),
            patron_id: patron.to_owned(),
            item_id: item.to_owned(),
            media_type: Some(MEDIA_BOOK.to_owned()),
            ..CheckoutResponse::default()
        }
    }

    /// 11: lends the item to the patron.
    pub(super) async fn checkout(&mut self, message: Checkout) -> Response {
        let words = self.words();
        let mut answer = self.checkout_answer(&message.institution_id, &message.patron_id, &message.item_id);
        // CQ `Y` when a PIN came and was good, none when no PIN came.
        let pin = message.patron_password.as_deref();
        let Some(patron) =
            self.patron_answering(&message.patron_id, pin, &mut answer, pin.map(|_| true)).await
        else {
            answer.title = self.title_of(&message.item_id).await;
            return Response::Checkout(answer);
        };
        let request_id = self.request_id("11", &message.patron_id, &message.item_id, message.date.as_str());
        let lent = self
            .services
            .check_out(&patron.token.access, &patron.card, message.item_id.trim(), request_id.as_deref())
            .await;
        match lent {
            Ok(lent) => {
                let loan = lent.loan.unwrap_or_default();
                tracing::info!(reader.id = %patron.reader_id, loan.id = %loan.id, "lent at the SIP2 machine");
                answer.ok = true;
                answer.desensitize = Some(true);
                // The loan's own time, so a resent check-out gets the same answer.
                if let Some(at) = loan
                    .checked_out_at
                    .as_ref()
                    .and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
                {
                    answer.date = self.edge.local_date(at);
                }
                answer.due_date = self.due(&loan);
                let day = words.day(&loan.due_date);
                answer.screen_messages.push(if loan.title.is_empty() {
                    words.format("borrowed_no_title", &[("day", &day)])
                } else {
                    words.format("borrowed", &[("title", &loan.title), ("day", &day)])
                });
                answer.title = loan.title;
            }
            Err(status) => {
                tracing::info!(reader.id = %patron.reader_id, code = ?status.code(), "check-out at the SIP2 machine refused");
                answer.screen_messages.push(words.refusal(&status));
                answer.title = self.title_of(&message.item_id).await;
            }
        }
        Response::Checkout(answer)
    }

    /// 29: renews one of the patron's loans.
    pub(super) async fn renew(&mut self, message: Renew) -> Response {
        let words = self.words();
        let item = message.item_id.clone().unwrap_or_default();
        let mut answer = CheckoutResponse {
            title: message.title_id.clone().unwrap_or_default(),
            ..self.checkout_answer(&message.institution_id, &message.patron_id, &item)
        };
        // CQ `Y` when a PIN came and was good, none when no PIN came.
        let pin = message.patron_password.as_deref();
        let Some(patron) =
            self.patron_answering(&message.patron_id, pin, &mut answer, pin.map(|_| true)).await
        else {
            return Response::Renew(answer);
        };
        if item.trim().is_empty() {
            // A title alone (AJ) names no loan.
            answer.screen_messages.push(words.text("no_item"));
            return Response::Renew(answer);
        }
        let request_id = self.request_id("29", &message.patron_id, &item, message.date.as_str());
        match self.services.renew(&patron.token.access, item.trim(), request_id.as_deref()).await {
            Ok(renewed) => {
                let loan = renewed.loan.unwrap_or_default();
                answer.ok = true;
                answer.renewal_ok = true;
                answer.due_date = self.due(&loan);
                let day = words.day(&loan.due_date);
                answer
                    .screen_messages
                    .push(words.format("renewed", &[("title", &loan.title), ("day", &day)]));
                answer.title = loan.title;
            }
            Err(status) => {
                answer.screen_messages.push(words.refusal(&status));
                if answer.title.is_empty() {
                    answer.title = self.title_of(&item).await;
                }
            }
        }
        Response::Renew(answer)
    }

    /// 65: renews every loan of the patron that can be.
    pub(super) async fn renew_all(&mut self, message: RenewAll) -> Response {
        let words = self.words();
        let mut answer = RenewAllResponse {
            ok: false,
            date: self.now(),
            institution_id: self.institution(&message.institution_id),
            ..RenewAllResponse::default()
        };
        let Some(patron) = self
            .patron_answering(&message.patron_id, message.patron_password.as_deref(), &mut answer, None)
            .await
        else {
            return Response::RenewAll(answer);
        };
        let request_id = self.request_id("65", &message.patron_id, "", message.date.as_str());
        match self.services.renew_all(&patron.token.access, &patron.reader_id, request_id.as_deref()).await {
            Ok(renewed) => {
                answer.ok = true;
                let mut reasons = Vec::new();
                for outcome in renewed.outcomes {
                    let barcode = outcome.loan.map(|loan| loan.copy_barcode).unwrap_or_default();
                    if outcome.renewed {
                        answer.renewed_items.push(barcode);
                    } else {
                        answer.unrenewed_items.push(barcode);
                        let reason = lectern_core::refusal::Reason::from_str_name(&outcome.refusal_reason)
                            .unwrap_or(lectern_core::refusal::Reason::Unspecified);
                        let sentence = words.reason(reason);
                        if !reasons.contains(&sentence) {
                            reasons.push(sentence);
                        }
                    }
                }
                if answer.renewed_items.is_empty() && answer.unrenewed_items.is_empty() {
                    answer.screen_messages.push(words.text("nothing_to_renew"));
                } else {
                    let renewed = answer.renewed_items.len().to_string();
                    let unrenewed = answer.unrenewed_items.len().to_string();
                    answer.screen_messages.push(
                        words.format("renewed_all", &[("renewed", &renewed), ("unrenewed", &unrenewed)]),
                    );
                    answer.screen_messages.extend(reasons);
                }
            }
            Err(status) => answer.screen_messages.push(words.refusal(&status)),
        }
        Response::RenewAll(answer)
    }

    /// 09: takes the item back with the device's token and says where it
    /// goes.
    pub(super) async fn checkin(&mut self, message: Checkin) -> Response {
        let words = self.words();
        let mut answer = CheckinResponse {
            magnetic_media: Some(false),
            date: self.now(),
            institution_id: self.institution(&message.institution_id),
            item_id: message.item_id.clone(),
            media_type: Some(MEDIA_BOOK.to_owned()),
            ..CheckinResponse::default()
        };
        let Some(token) = self.device.as_ref().map(|device| device.token.access.clone()) else {
            return Response::Checkin(answer);
        };
        let request_id = self.request_id("09", "", &message.item_id, message.date.as_str());
        let taken = self.services.check_in(&token, message.item_id.trim(), request_id.as_deref()).await;
        let copy = self.copy(&message.item_id).await;
        if let Some(copy) = &copy {
            answer.title = copy.title.clone();
            answer.permanent_location = self.location(copy).await;
            if !copy.call_number.is_empty() {
                answer.call_number = Some(copy.call_number.clone());
            }
        }
        match taken {
            Ok(taken) => self.route(&mut answer, taken).await,
            Err(status) => {
                tracing::info!(code = ?status.code(), "check-in at the SIP2 machine refused");
                answer.alert = true;
                let not_found =
                    super::services::reason_of(&status) == Some(lectern_core::refusal::Reason::CopyNotFound);
                answer.screen_messages.push(if not_found {
                    words.text("copy_not_found")
                } else {
                    words.refusal(&status)
                });
            }
        }
        Response::Checkin(answer)
    }

    /// Fills a check-in's answer from circulation's: the sort bin, the
    /// alert, where to put the book, and what the reader should know.
    async fn route(&mut self, answer: &mut CheckinResponse, taken: CheckInResponse) {
        let words = self.words();
        answer.ok = true;
        answer.resensitize = true;
        if let Some(loan) = &taken.loan {
            if answer.title.is_empty() {
                answer.title = loan.title.clone();
            }
            if let Some(at) =
                loan.returned_at.as_ref().and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
            {
                // The return's own time, so a resent check-in gets the same answer.
                answer.date = self.edge.local_date(at);
            }
        }
        // A copy of another school may not be readable with the device's
        // token; the answer itself names its title.
        if answer.title.is_empty() {
            let titles = [
                taken.transit.as_ref().map(|transit| &transit.title),
                taken.hold.as_ref().map(|hold| &hold.title),
            ];
            answer.title =
                titles.into_iter().flatten().find(|title| !title.is_empty()).cloned().unwrap_or_default();
        }
        let route = CheckInRoute::try_from(taken.route).unwrap_or(CheckInRoute::Unspecified);
        match (route, &taken.transit) {
            (CheckInRoute::HoldShelf, _) => {
                answer.alert = true;
                answer.sort_bin = Some(SortBin::HoldShelf);
                answer.alert_type = Some(AlertType::LocalHold);
                answer.screen_messages.push(words.text("to_hold_shelf"));
            }
            (CheckInRoute::Transit, Some(transit)) => {
                answer.alert = true;
                answer.sort_bin = Some(SortBin::Transit);
                let for_hold = transit.reason() == TransitReason::Hold || taken.hold.is_some();
                answer.alert_type = Some(if for_hold { AlertType::RemoteHold } else { AlertType::Transit });
                let school = self.school_name(&transit.to_school_id).await;
                answer.screen_messages.push(match &school {
                    Some(name) => words.format("to_transit", &[("school", name)]),
                    None => words.text("to_transit_other"),
                });
                let destination = school.unwrap_or_else(|| transit.to_school_id.clone());
                // Going home: its home is where it belongs.
                if answer.permanent_location.is_empty() && transit.reason() == TransitReason::Home {
                    answer.permanent_location = destination.clone();
                }
                answer.destination = Some(destination);
            }
            _ => {
                answer.sort_bin = Some(SortBin::Shelf);
                answer.screen_messages.push(words.text("to_shelf"));
            }
        }
        if !taken.was_on_loan && taken.transit.as_ref().is_none_or(|transit| transit.received_time.is_none())
        {
            answer.screen_messages.push(words.text("was_not_on_loan"));
        }
        if taken.open_days_late > 0 {
            answer.screen_messages.push(words.format("late", &[("days", &taken.open_days_late.to_string())]));
        }
        if let Some(fine) = &taken.fine {
            answer.screen_messages.push(words.format("fine", &[("amount", &words.money(fine.amount))]));
        }
    }
}
