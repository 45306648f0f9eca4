//! Items: 17 Item Information, 15 Hold (place or cancel), 19 Item Status
//! Update (refused: a machine does not change a copy's record), and the
//! names of the places a copy belongs to.
//!
//! Item information is the catalog's `LookupCopy` with the device's token;
//! the circulation status comes from the copy's availability (which the
//! catalog keeps from circulation's events) and, for a copy out of
//! circulation, from its status.

use lectern_proto::catalog::v1::{Availability, Copy, CopyStatus};
use lectern_proto::circulation::v1::HoldStatus;
use lectern_sip2::request::{Hold, HoldMode, ItemInformation, ItemStatusUpdate};
use lectern_sip2::response::{
    CirculationStatus, HoldResponse, ItemInformationResponse, ItemStatusUpdateResponse, Response,
};

use super::circulation::MEDIA_BOOK;
use super::session::Session;

/// Security marker of the machines' books (`02` tattle-tape).
const SECURITY_TATTLE_TAPE: u32 = 2;

/// The SIP2 circulation status of a copy.
pub fn circulation_status(copy: &Copy) -> CirculationStatus {
    match copy.availability() {
        Availability::OnShelf => CirculationStatus::Available,
        Availability::OnLoan => CirculationStatus::Charged,
        Availability::OnHoldShelf => CirculationStatus::WaitingOnHoldShelf,
        Availability::InTransit => CirculationStatus::InTransit,
        Availability::NotLoanable | Availability::Unspecified => match copy.status() {
            CopyStatus::InProcess => CirculationStatus::InProcess,
            CopyStatus::Missing => CirculationStatus::Missing,
            CopyStatus::Lost => CirculationStatus::Lost,
            CopyStatus::Available => CirculationStatus::Available,
            CopyStatus::Damaged | CopyStatus::InRepair | CopyStatus::Withdrawn | CopyStatus::Unspecified => {
                CirculationStatus::Other
            }
        },
    }
}

impl Session {
    /// The name of a school of the district, if the device may read the
    /// list of schools; read once per connection.
    pub(super) async fn school_name(&mut self, school_id: &str) -> Option<String> {
        if self.schools.is_none() {
            let token = self.device.as_ref()?.token.access.clone();
            self.schools = Some(self.services.school_names(&token).await);
        }
        self.schools
            .as_ref()?
            .iter()
            .find(|(id, _)| id == school_id)
            .map(|(_, name)| name.clone())
            .filter(|name| !name.is_empty())
    }

    /// Where a copy belongs (AQ): its shelf location, with its school's
    /// name when it belongs to another school; its school's name (or id)
    /// when it has no named shelf.
    pub(super) async fn location(&mut self, copy: &Copy) -> String {
        let own_school = self.device.as_ref().is_some_and(|device| device.school_id == copy.school_id);
        if own_school && !copy.location_name.is_empty() {
            return copy.location_name.clone();
        }
        let school = self.school_name(&copy.school_id).await.unwrap_or_else(|| copy.school_id.clone());
        if copy.location_name.is_empty() { school } else { format!("{school} {}", copy.location_name) }
    }

    /// 17: what the catalog knows of the item.
    pub(super) async fn item_information(&mut self, message: ItemInformation) -> Response {
        let words = self.words();
        let mut answer = ItemInformationResponse {
            security_marker: SECURITY_TATTLE_TAPE,
            date: self.now(),
            item_id: message.item_id.clone(),
            ..ItemInformationResponse::default()
        };
        let Some(copy) = self.copy(&message.item_id).await else {
            answer.screen_messages.push(words.text("copy_not_found"));
            return Response::ItemInformation(answer);
        };
        answer.circulation_status = circulation_status(&copy);
        answer.title = copy.title.clone();
        answer.media_type = Some(MEDIA_BOOK.to_owned());
        if let Some(due) =
            copy.due_at.as_ref().and_then(|due| chrono::DateTime::from_timestamp(due.seconds, 0))
        {
            answer.due_date = Some(self.edge.local_date(due).as_str().to_owned());
        }
        let location = self.location(&copy).await;
        answer.permanent_location = Some(location.clone());
        answer.current_location = Some(location);
        if !copy.call_number.is_empty() {
            answer.call_number = Some(copy.call_number.clone());
        }
        Response::ItemInformation(answer)
    }

    /// 15: places (`+`) or cancels (`-`) the patron's hold on a copy;
    /// changing one (`*`) is for the desk.
    pub(super) async fn hold(&mut self, message: Hold) -> Response {
        let words = self.words();
        let item = message.item_id.clone().unwrap_or_default();
        let mut answer = HoldResponse {
            date: self.now(),
            institution_id: self.institution(&message.institution_id),
            patron_id: message.patron_id.clone(),
            item_id: message.item_id.clone(),
            title: message.title_id.clone(),
            ..HoldResponse::default()
        };
        let Some(patron) = self
            .patron_answering(&message.patron_id, message.patron_password.as_deref(), &mut answer, None)
            .await
        else {
            return Response::Hold(answer);
        };
        if message.mode == HoldMode::Change {
            answer.screen_messages.push(words.text("hold_change"));
            return Response::Hold(answer);
        }
        if item.trim().is_empty() {
            // A title alone (AJ) is free text, not a title of the catalog.
            answer.screen_messages.push(words.text("no_item"));
            return Response::Hold(answer);
        }
        let code = if message.mode == HoldMode::Add { "15+" } else { "15-" };
        let request_id = self.request_id(code, &message.patron_id, &item, message.date.as_str());
        if message.mode == HoldMode::Add {
            match self.services.place_hold(&patron.token.access, item.trim(), request_id.as_deref()).await {
                Ok(hold) => {
                    answer.ok = true;
                    answer.available = hold.status() == HoldStatus::Ready;
                    answer.queue_position =
                        u32::try_from(hold.position).ok().filter(|position| *position > 0);
                    answer.pickup_location = self.school_name(&hold.pickup_school_id).await;
                    let position = hold.position.max(1).to_string();
                    let id = if answer.available { "hold_ready" } else { "hold_placed" };
                    answer
                        .screen_messages
                        .push(words.format(id, &[("title", &hold.title), ("position", &position)]));
                    answer.title = Some(hold.title);
                }
                Err(status) => answer.screen_messages.push(words.refusal(&status)),
            }
            return Response::Hold(answer);
        }
        // Cancel: the patron's open hold on this copy, or on its title.
        let summary = match self.services.summary(&patron.token.access, &patron.reader_id).await {
            Ok(summary) => summary,
            Err(status) => {
                answer.screen_messages.push(words.refusal(&status));
                return Response::Hold(answer);
            }
        };
        let copy = self.copy(&item).await;
        let held = summary.holds.iter().find(|hold| {
            hold.copy_barcode == item.trim()
                || copy.as_ref().is_some_and(|copy| hold.copy_id == copy.id || hold.title_id == copy.title_id)
        });
        let Some(held) = held else {
            answer.screen_messages.push(words.text("hold_not_found"));
            return Response::Hold(answer);
        };
        match self.services.cancel_hold(&patron.token.access, &held.id, request_id.as_deref()).await {
            Ok(cancelled) => {
                answer.ok = true;
                answer.screen_messages.push(words.format("hold_cancelled", &[("title", &cancelled.title)]));
                answer.title = Some(cancelled.title);
            }
            Err(status) => answer.screen_messages.push(words.refusal(&status)),
        }
        Response::Hold(answer)
    }

    /// 19: refused; a machine does not change a copy's record.
    pub(super) fn item_status_update(&mut self, message: ItemStatusUpdate) -> Response {
        Response::ItemStatusUpdate(ItemStatusUpdateResponse {
            ok: false,
            date: self.now(),
            item_id: message.item_id,
            screen_messages: vec![self.words().text("not_supported")],
            ..ItemStatusUpdateResponse::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(availability: Availability, status: CopyStatus) -> Copy {
        Copy { availability: availability as i32, status: status as i32, ..Copy::default() }
    }

    #[test]
    fn circulation_status_follows_availability_then_status() {
        let cases = [
            (Availability::OnShelf, CopyStatus::Available, CirculationStatus::Available),
            (Availability::OnLoan, CopyStatus::Available, CirculationStatus::Charged),
            (Availability::OnHoldShelf, CopyStatus::Available, CirculationStatus::WaitingOnHoldShelf),
            (Availability::InTransit, CopyStatus::Available, CirculationStatus::InTransit),
            (Availability::NotLoanable, CopyStatus::Lost, CirculationStatus::Lost),
            (Availability::NotLoanable, CopyStatus::Missing, CirculationStatus::Missing),
            (Availability::NotLoanable, CopyStatus::InProcess, CirculationStatus::InProcess),
            (Availability::NotLoanable, CopyStatus::Withdrawn, CirculationStatus::Other),
        ];
        for (availability, status, expected) in cases {
            assert_eq!(
                circulation_status(&copy(availability, status)),
                expected,
                "{availability:?} {status:?}"
            );
        }
    }
}
