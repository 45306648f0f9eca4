//! Holds: placing one (staff for a reader of theirs, or a reader for
//! themselves), cancelling it, a reader's holds with their places in line,
//! the desk's pull list and its hold shelf. Copies are taken for holds by check-in and
//! passed on by cancellation and the expiry job (`hold_shelf`).

use std::collections::HashMap;

use lectern_common::Error;
use lectern_common::idempotency::Idempotent;
use lectern_common::outbox;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_core::{ids, paging};
use lectern_proto::catalog::v1::{Availability, Copy, CopyStatus};
use lectern_proto::circulation::v1::{
    self as pb, CancelHoldRequest, ListHoldShelfRequest, ListHoldShelfResponse, ListHoldsRequest,
    ListHoldsResponse, ListPullListRequest, ListPullListResponse, PlaceHoldRequest, PullListEntry,
};
use lectern_proto::reader::v1::Reader;

use crate::context::Circulation;
use crate::convert;
use crate::db::holds::{self as stored, HoldRow};
use crate::db::rules;
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::hold_shelf;
use crate::policy::holds::position;

const PLACE_HOLD: &str = "circulation.PlaceHold";
const CANCEL_HOLD: &str = "circulation.CancelHold";

/// Places a hold: the use case behind `HoldService/PlaceHold`.
pub async fn place_hold(
    circulation: &Circulation,
    caller: &Principal,
    request: PlaceHoldRequest,
) -> Result<pb::Hold, Error> {
    let title_id = ids::parse_optional_id("title_id", &request.title_id)?;
    let copy_barcode = match request.copy_barcode.trim() {
        "" => None,
        barcode => Some(validate::barcode("copy_barcode", barcode)?),
    };
    if title_id.is_some() == copy_barcode.is_some() {
        return Err(FieldError::new("title_id", "give a title id or a copy barcode, not both").into());
    }
    let pickup = ids::parse_optional_id("pickup_school_id", &request.pickup_school_id)?;
    let once = Idempotent::new(PLACE_HOLD, validate::request_id("request_id", &request.request_id)?);
    let placed = once
        .call(&circulation.db, async {
            let reader = hold_reader(circulation, caller, request.reader_card_barcode.trim()).await?;
            let pickup_school_id = pickup.unwrap_or_else(|| reader.school_id.clone());
            if caller.kind == SubjectKind::Staff {
                caller.require_school(&pickup_school_id)?;
            }
            let now = circulation.now();
            convert::borrower(&reader).may_borrow(now, circulation.time_zone)?;
            let (title_id, title, wanted) = held_item(circulation, caller, title_id, copy_barcode).await?;
            let hold = HoldRow {
                id: ids::new_id(),
                reader_id: Some(reader.id.clone()),
                reader_category: reader.category.clone(),
                title_id,
                title,
                wanted_copy_id: wanted.as_ref().map(|copy| copy.id.clone()),
                copy_id: None,
                copy_barcode: None,
                copy_item_type: None,
                pickup_school_id,
                status: "waiting".to_owned(),
                placed_by: caller.subject_id.clone(),
                placed_at: now.naive_utc(),
                ready_at: None,
                expires_at: None,
                closed_at: None,
                closed_by: None,
            };
            let item_type = wanted.map(|copy| copy.item_type);
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, hold.placed_at, |connection| {
                        place(connection, &hold, item_type.as_deref())
                    })
                })
                .await
        })
        .await?;
    if let Some(hold) = placed.fresh() {
        circulation.relay.wake();
        tracing::info!(hold.id = %hold.id, title.id = %hold.title_id, position = hold.position, "hold placed");
    }
    Ok(placed.into_inner())
}

/// Stores `hold` unless the reader has one on the title already or as many
/// as the rule of the pickup school allows; enqueues `hold.placed`. Runs in
/// the write transaction.
fn place(
    connection: &mut lectern_common::db::DbConnection,
    hold: &HoldRow,
    item_type: Option<&str>,
) -> Result<pb::Hold, Error> {
    let reader_id = hold.reader_id.clone().unwrap_or_default();
    let open = stored::holds_of_reader(connection, &reader_id, false)?;
    if let Some(same) = open.iter().find(|other| other.title_id == hold.title_id) {
        return Err(Refusal::new(Reason::HoldAlreadyPlaced, "this reader already has a hold on this title")
            .with("hold_id", same.id.clone())
            .into());
    }
    let rule =
        rules::applicable_rule(connection, &hold.pickup_school_id, &hold.reader_category, item_type)?.rule;
    let max_holds = rule.terms.max_holds;
    if open.len() >= max_holds as usize {
        return Err(Refusal::new(
            Reason::HoldLimitReached,
            format!("this reader has {} holds, as many as the rule allows ({max_holds})", open.len()),
        )
        .with("limit", max_holds.to_string())
        .with("rule_id", rule.id.clone())
        .into());
    }
    stored::insert_hold(connection, hold)?;
    let queue = stored::open_holds_of_title(connection, &hold.title_id)?;
    let place = position(&queue, hold);
    let event = events::hold_placed(ids::new_id(), hold, place);
    outbox::enqueue(connection, &event, &hold.title_id, &LOAN_SUBSCRIBERS, hold.placed_at)?;
    Ok(convert::hold(hold, place))
}

/// Cancels a hold: the use case behind `HoldService/CancelHold`. The
/// reader, or staff of the pickup school; its copy goes to the next reader
/// in line, or back to the shelf.
pub async fn cancel_hold(
    circulation: &Circulation,
    caller: &Principal,
    request: CancelHoldRequest,
) -> Result<pb::Hold, Error> {
    let hold_id = ids::parse_id("hold_id", &request.hold_id)?;
    let once = Idempotent::new(CANCEL_HOLD, validate::request_id("request_id", &request.request_id)?);
    let cancelled = once
        .call(&circulation.db, async {
            let lookup_id = hold_id.clone();
            let hold = circulation
                .db
                .run(move |connection| -> Result<_, Error> { Ok(stored::find_hold(connection, &lookup_id)?) })
                .await?
                .ok_or_else(|| hold_not_found(&hold_id))?;
            match caller.kind {
                SubjectKind::Reader if hold.reader_id.as_deref() == Some(caller.subject_id.as_str()) => {}
                SubjectKind::Staff => {
                    caller.require(Access::STAFF)?;
                    caller.require_school(&hold.pickup_school_id)?;
                }
                _ => return Err(hold_not_found(&hold_id).into()),
            }
            let (by, zone, now) = (caller.subject_id.clone(), circulation.time_zone, circulation.now());
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now.naive_utc(), |connection| {
                        let current = stored::find_hold(connection, &hold.id)?
                            .ok_or_else(|| hold_not_found(&hold.id))?;
                        if !stored::OPEN.contains(&current.status.as_str())
                            || !stored::close(connection, &current, "cancelled", now.naive_utc(), &by)?
                        {
                            return Err(Refusal::new(Reason::HoldClosed, "this hold already ended").into());
                        }
                        let key = current.copy_id.clone().unwrap_or_else(|| current.title_id.clone());
                        let event = events::hold_cancelled(ids::new_id(), &current, &by, now.naive_utc());
                        outbox::enqueue(connection, &event, &key, &LOAN_SUBSCRIBERS, now.naive_utc())?;
                        hold_shelf::pass_on(connection, &current, "cancelled", now, zone)?;
                        let closed = stored::find_hold(connection, &current.id)?.unwrap_or(current);
                        Ok(convert::hold(&closed, 0))
                    })
                })
                .await
        })
        .await?;
    if let Some(hold) = cancelled.fresh() {
        circulation.relay.wake();
        tracing::info!(hold.id = %hold.id, "hold cancelled");
    }
    Ok(cancelled.into_inner())
}

/// A reader's holds with their places in line: the use case behind
/// `HoldService/ListHolds`. The reader, or staff (their schools' pickups).
pub async fn list_holds(
    circulation: &Circulation,
    caller: &Principal,
    request: ListHoldsRequest,
) -> Result<ListHoldsResponse, Error> {
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    caller.require_self_or_staff(&reader_id)?;
    let schools = caller.schools_for_reader_records();
    let include_closed = request.include_closed;
    let holds = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let mine = stored::holds_of_reader(connection, &reader_id, include_closed)?;
            let mut queues: HashMap<String, Vec<HoldRow>> = HashMap::new();
            let mut listed = Vec::new();
            for hold in mine {
                if schools.as_ref().is_some_and(|schools| !schools.contains(&hold.pickup_school_id)) {
                    continue;
                }
                if !queues.contains_key(&hold.title_id) {
                    let queue = stored::open_holds_of_title(connection, &hold.title_id)?;
                    queues.insert(hold.title_id.clone(), queue);
                }
                let place = queues.get(&hold.title_id).map_or(0, |queue| position(queue, &hold));
                listed.push(convert::hold(&hold, place));
            }
            Ok(listed)
        })
        .await?;
    Ok(ListHoldsResponse { holds })
}

/// The copies on a school's shelves that would fill waiting holds, by
/// shelf location and call number: the use case behind
/// `HoldService/ListPullList`. Staff of the school.
pub async fn list_pull_list(
    circulation: &Circulation,
    caller: &Principal,
    request: ListPullListRequest,
) -> Result<ListPullListResponse, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    Ok(ListPullListResponse { entries: pull_list(circulation, &school_id).await? })
}

/// The pull list of `school_id`: for each title with waiting holds, the
/// copies on the school's open shelves (as the catalog shows them now)
/// matched to the holds in line order, by shelf location and call number.
pub async fn pull_list(circulation: &Circulation, school_id: &str) -> Result<Vec<PullListEntry>, Error> {
    let waiting = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(stored::waiting_holds(connection)?) })
        .await?;
    let mut by_title: Vec<(String, Vec<HoldRow>)> = Vec::new();
    for hold in waiting {
        match by_title.last_mut() {
            Some((title_id, holds)) if *title_id == hold.title_id => holds.push(hold),
            _ => by_title.push((hold.title_id.clone(), vec![hold])),
        }
    }
    let mut entries = Vec::new();
    for (title_id, line) in by_title {
        let mut shelf: Vec<Copy> = circulation
            .copies_of_title(&title_id, Some(school_id))
            .await?
            .into_iter()
            .filter(on_open_shelf)
            .collect();
        for hold in line {
            let Some(index) = shelf
                .iter()
                .position(|copy| hold.wanted_copy_id.as_deref().is_none_or(|wanted| wanted == copy.id))
            else {
                continue;
            };
            let copy = shelf.remove(index);
            entries.push(PullListEntry {
                location_name: copy.location_name,
                call_number: copy.call_number,
                copy_barcode: copy.barcode,
                title: copy.title,
                hold_id: hold.id,
                pickup_school_id: hold.pickup_school_id,
            });
        }
    }
    entries.sort_by(|a, b| {
        (&a.location_name, &a.call_number, &a.copy_barcode).cmp(&(
            &b.location_name,
            &b.call_number,
            &b.copy_barcode,
        ))
    });
    Ok(entries)
}

/// The holds waiting on a school's hold shelf, the soonest to expire
/// first: the use case behind `HoldService/ListHoldShelf`. Staff of the
/// school.
pub async fn list_hold_shelf(
    circulation: &Circulation,
    caller: &Principal,
    request: ListHoldShelfRequest,
) -> Result<ListHoldShelfResponse, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let limit = validate::page_size("page_size", request.page_size, 100, 500)?;
    let offset = paging::decode_offset("page_token", &request.page_token)?;
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(stored::ready_on_shelf(connection, &school_id, offset, limit + 1)?)
        })
        .await?;
    let (rows, more) = paging::split_page(rows, limit);
    let next_page_token = if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
    // On the shelf a hold has no place in line any more.
    Ok(ListHoldShelfResponse {
        holds: rows.iter().map(|row| convert::hold(row, 0)).collect(),
        next_page_token,
    })
}

/// The reader a hold is for: the card's holder (staff), or the signed-in
/// reader themselves.
async fn hold_reader(
    circulation: &Circulation,
    caller: &Principal,
    card_barcode: &str,
) -> Result<Reader, Error> {
    match caller.kind {
        SubjectKind::Staff => {
            let card = validate::barcode("reader_card_barcode", card_barcode)?;
            circulation.reader_by_card(&caller.token, card).await
        }
        SubjectKind::Reader => {
            let reader = circulation.reader_by_id(&caller.token, caller.subject_id.clone()).await?;
            if !card_barcode.is_empty() && reader.card_barcode != card_barcode {
                return Err(Refusal::new(Reason::RoleNotAllowed, "readers place holds for themselves").into());
            }
            Ok(reader)
        }
        _ => Err(Refusal::new(Reason::RoleNotAllowed, "sign in as staff or as the reader").into()),
    }
}

/// The title held (and its display title), and for a copy-level hold the
/// copy, as the catalog answers.
async fn held_item(
    circulation: &Circulation,
    caller: &Principal,
    title_id: Option<String>,
    copy_barcode: Option<String>,
) -> Result<(String, String, Option<Copy>), Error> {
    if let Some(barcode) = copy_barcode {
        let copy = circulation
            .copy_by_barcode(barcode.clone())
            .await?
            .ok_or_else(|| Refusal::new(Reason::CopyNotFound, format!("no copy has barcode {barcode}")))?;
        return Ok((copy.title_id.clone(), copy.title.clone(), Some(copy)));
    }
    let title = circulation.title(&caller.token, title_id.unwrap_or_default()).await?;
    Ok((title.id, title.title, None))
}

/// Whether a copy stands on the open shelf, free to lend or to pull.
pub(crate) fn on_open_shelf(copy: &Copy) -> bool {
    copy.status() == CopyStatus::Available && copy.availability() == Availability::OnShelf
}

fn hold_not_found(id: &str) -> Refusal {
    Refusal::new(Reason::HoldNotFound, format!("no hold has id {id}")).with("hold_id", id)
}
