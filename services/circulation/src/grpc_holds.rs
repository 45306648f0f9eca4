//! The hold handlers: placing a hold (staff for a reader of theirs, or a
//! reader for themselves), cancelling it, a reader's holds with their
//! places in line, and the desk's pull list. Copies are taken for holds by
//! check-in and passed on by cancellation and the expiry job (`hold_shelf`).

use std::collections::HashMap;

use lectern_common::idempotency::{previous, remember};
use lectern_common::outbox;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::identity::{Principal, SubjectKind, principal, require_school, require_staff};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::catalog::v1::{
    Availability, Copy, CopyStatus, GetTitleRequest, ListCopiesRequest, LookupCopyRequest,
};
use lectern_proto::circulation::v1::{
    self as pb, CancelHoldRequest, ListHoldsRequest, ListHoldsResponse, ListPullListRequest,
    ListPullListResponse, PlaceHoldRequest, PullListEntry,
};
use lectern_proto::reader::v1::{GetReaderRequest, LookupReaderRequest, Reader, ReaderStatus};
use tonic::{Code, Request, Response, Status};

use crate::calendar::{day_text, parse_day};
use crate::convert;
use crate::db::holds::{self as stored, HoldRow};
use crate::db::rules;
use crate::due::local_date;
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::grpc::Circulation;
use crate::hold_shelf;
use crate::holds::position;
use crate::policy;
use lectern_common::Error;

const PLACE_HOLD: &str = "PlaceHold";
const CANCEL_HOLD: &str = "CancelHold";
/// Most copies of one title the pull list and the spare-copy count read.
const MAX_COPIES: i32 = 500;

impl Circulation {
    pub(crate) async fn place_hold(
        &self,
        request: Request<PlaceHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let title_id = ids::parse_optional_id("title_id", &request.title_id)?;
        let copy_barcode = match request.copy_barcode.trim() {
            "" => None,
            barcode => Some(validate::barcode("copy_barcode", barcode)?),
        };
        if title_id.is_some() == copy_barcode.is_some() {
            return Err(
                validate::FieldError::new("title_id", "give a title id or a copy barcode, not both").into()
            );
        }
        let pickup = ids::parse_optional_id("pickup_school_id", &request.pickup_school_id)?;
        let replay_id = request_id.clone();
        let answered = self
            .db
            .run(move |connection| -> Result<Option<pb::Hold>, Error> {
                Ok(previous(connection, PLACE_HOLD, replay_id.as_deref())?)
            })
            .await?;
        if let Some(answer) = answered {
            return Ok(Response::new(answer));
        }
        let reader = self.hold_reader(&caller, request.reader_card_barcode.trim()).await?;
        let pickup_school_id = pickup.unwrap_or_else(|| reader.school_id.clone());
        if caller.kind == SubjectKind::Staff {
            require_school(&caller, &pickup_school_id)?;
        }
        reader_may_hold(&reader, local_date(self.clock.now(), self.time_zone))?;
        let (title_id, title, wanted) = self.held_item(&caller, title_id, copy_barcode).await?;
        let now = self.clock.now();
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
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, PLACE_HOLD, request_id.as_deref())? {
                    return Ok(answer);
                }
                let reader_id = hold.reader_id.clone().unwrap_or_default();
                let open = stored::holds_of_reader(connection, &reader_id, false)?;
                if let Some(same) = open.iter().find(|other| other.title_id == hold.title_id) {
                    return Err(Refusal::new(
                        Reason::HoldAlreadyPlaced,
                        "this reader already has a hold on this title",
                    )
                    .with("hold_id", same.id.clone())
                    .into());
                }
                let candidates = rules::rules_for_loan(
                    connection,
                    &hold.pickup_school_id,
                    &hold.reader_category,
                    item_type.as_deref(),
                )?;
                let rule = policy::choose(
                    &candidates,
                    &hold.pickup_school_id,
                    &hold.reader_category,
                    item_type.as_deref(),
                )
                .ok_or_else(crate::db::rules::no_rule)?
                .rule;
                if open.len() >= rule.terms.max_holds as usize {
                    return Err(Refusal::new(
                        Reason::HoldLimitReached,
                        format!(
                            "this reader has {} holds, as many as the rule allows ({})",
                            open.len(),
                            rule.terms.max_holds
                        ),
                    )
                    .with("limit", rule.terms.max_holds.to_string())
                    .with("rule_id", rule.id.clone())
                    .into());
                }
                stored::insert_hold(connection, &hold)?;
                let queue = stored::open_holds_of_title(connection, &hold.title_id)?;
                let place = position(&queue, &hold);
                let event = events::hold_placed(ids::new_id(), &hold, place);
                outbox::enqueue(connection, &event, &hold.title_id, &LOAN_SUBSCRIBERS, hold.placed_at)?;
                let answer = convert::hold(&hold, place);
                remember(connection, PLACE_HOLD, request_id.as_deref(), &answer, hold.placed_at)?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(hold.id = %answer.id, title.id = %answer.title_id, position = answer.position, "hold placed");
        Ok(Response::new(answer))
    }

    pub(crate) async fn cancel_hold(
        &self,
        request: Request<CancelHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let hold_id = ids::parse_id("hold_id", &request.hold_id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let lookup_id = hold_id.clone();
        let hold = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(stored::find_hold(connection, &lookup_id)?) })
            .await?
            .ok_or_else(|| hold_not_found(&hold_id))?;
        match caller.kind {
            SubjectKind::Reader if hold.reader_id.as_deref() == Some(caller.subject_id.as_str()) => {}
            SubjectKind::Staff => {
                require_staff(&caller)?;
                require_school(&caller, &hold.pickup_school_id)?;
            }
            _ => return Err(hold_not_found(&hold_id).into()),
        }
        let (by, zone, now) = (caller.subject_id.clone(), self.time_zone, self.clock.now());
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, CANCEL_HOLD, request_id.as_deref())? {
                    return Ok(answer);
                }
                let current =
                    stored::find_hold(connection, &hold.id)?.ok_or_else(|| hold_not_found(&hold.id))?;
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
                let answer = convert::hold(&closed, 0);
                remember(connection, CANCEL_HOLD, request_id.as_deref(), &answer, now.naive_utc())?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(hold.id = %answer.id, "hold cancelled");
        Ok(Response::new(answer))
    }

    pub(crate) async fn holds_of_reader(
        &self,
        request: Request<ListHoldsRequest>,
    ) -> Result<Response<ListHoldsResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        lectern_core::identity::require_staff_or_self(&caller, &reader_id)?;
        let schools = match caller.kind {
            SubjectKind::Reader => None,
            _ => caller.school_filter().map(<[String]>::to_vec),
        };
        let holds = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let mine = stored::holds_of_reader(connection, &reader_id, request.include_closed)?;
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
        Ok(Response::new(ListHoldsResponse { holds }))
    }

    pub(crate) async fn pull_list(
        &self,
        request: Request<ListPullListRequest>,
    ) -> Result<Response<ListPullListResponse>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let school_id = ids::parse_id("school_id", &request.into_inner().school_id)?;
        require_school(&caller, &school_id)?;
        let waiting = self
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
            let mut shelf: Vec<Copy> = self
                .copies_of_title(&caller.token, &title_id, Some(&school_id))
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
        Ok(Response::new(ListPullListResponse { entries }))
    }

    /// The copies of a title (at one school, or everywhere), as the catalog
    /// shows them now.
    pub(crate) async fn copies_of_title(
        &self,
        bearer: &str,
        title_id: &str,
        school_id: Option<&str>,
    ) -> Result<Vec<Copy>, Error> {
        let mut catalog = self.catalog.clone();
        let call = with_bearer(
            ListCopiesRequest {
                title_id: title_id.to_owned(),
                school_id: school_id.unwrap_or_default().to_owned(),
                page_size: MAX_COPIES,
                page_token: String::new(),
            },
            bearer,
            self.call_timeout,
        );
        let page = catalog
            .list_copies(call)
            .await
            .map_err(|status| Error::Dependency(dependency_status("catalog", status)))?;
        Ok(page.into_inner().copies)
    }

    /// The reader a hold is for: the card's holder (staff), or the
    /// signed-in reader themselves.
    async fn hold_reader(&self, caller: &Principal, card_barcode: &str) -> Result<Reader, Error> {
        let mut readers = self.readers.clone();
        let found = match caller.kind {
            SubjectKind::Staff => {
                let card = validate::barcode("reader_card_barcode", card_barcode)?;
                let call =
                    with_bearer(LookupReaderRequest { card_barcode: card }, &caller.token, self.call_timeout);
                readers.lookup_reader(call).await
            }
            SubjectKind::Reader => {
                let call = with_bearer(
                    GetReaderRequest { id: caller.subject_id.clone() },
                    &caller.token,
                    self.call_timeout,
                );
                let reader = readers.get_reader(call).await;
                if let Ok(found) = &reader
                    && !card_barcode.is_empty()
                    && found.get_ref().card_barcode != card_barcode
                {
                    return Err(
                        Refusal::new(Reason::RoleNotAllowed, "readers place holds for themselves").into()
                    );
                }
                reader
            }
            _ => {
                return Err(Refusal::new(Reason::RoleNotAllowed, "sign in as staff or as the reader").into());
            }
        };
        found.map(Response::into_inner).map_err(|status| match status.code() {
            Code::NotFound => {
                Error::Refused(Refusal::new(Reason::ReaderNotFound, "no reader has this card barcode"))
            }
            _ => Error::Dependency(dependency_status("reader", status)),
        })
    }

    /// The title held (and its display title), and for a copy-level hold
    /// the copy, as the catalog answers.
    async fn held_item(
        &self,
        caller: &Principal,
        title_id: Option<String>,
        copy_barcode: Option<String>,
    ) -> Result<(String, String, Option<Copy>), Error> {
        let mut catalog = self.catalog.clone();
        let not_found = |status: Status, reason: Reason, what: &str| match status.code() {
            Code::NotFound => Error::Refused(Refusal::new(reason, format!("no {what}"))),
            _ => Error::Dependency(dependency_status("catalog", status)),
        };
        if let Some(barcode) = copy_barcode {
            let call =
                with_bearer(LookupCopyRequest { barcode: barcode.clone() }, &caller.token, self.call_timeout);
            let copy = catalog
                .lookup_copy(call)
                .await
                .map_err(|status| {
                    not_found(status, Reason::CopyNotFound, &format!("copy has barcode {barcode}"))
                })?
                .into_inner();
            return Ok((copy.title_id.clone(), copy.title.clone(), Some(copy)));
        }
        let title_id = title_id.unwrap_or_default();
        let call = with_bearer(GetTitleRequest { id: title_id.clone() }, &caller.token, self.call_timeout);
        let title = catalog
            .get_title(call)
            .await
            .map_err(|status| not_found(status, Reason::TitleNotFound, &format!("title has id {title_id}")))?
            .into_inner();
        Ok((title.id, title.title, None))
    }
}

/// Whether a copy stands on the open shelf, free to lend or to pull.
pub(crate) fn on_open_shelf(copy: &Copy) -> bool {
    copy.status() == CopyStatus::Available && copy.availability() == Availability::OnShelf
}

/// Only readers who may borrow may place holds.
fn reader_may_hold(reader: &Reader, today: chrono::NaiveDate) -> Result<(), Refusal> {
    if reader.status() == ReaderStatus::Inactive {
        return Err(Refusal::new(Reason::ReaderInactive, "this reader's record is inactive"));
    }
    if let Some(expired_on) = parse_day(reader.expires_on.trim()).filter(|last| *last < today) {
        let expired_on = day_text(expired_on);
        return Err(Refusal::new(
            Reason::ReaderExpired,
            format!("this reader's card expired on {expired_on}"),
        )
        .with("expired_on", expired_on));
    }
    if let Some(block) = reader.blocks.first() {
        return Err(Refusal::new(Reason::ReaderBlocked, format!("this reader is blocked: {}", block.reason))
            .with("block_reason", block.reason.clone()));
    }
    Ok(())
}

fn hold_not_found(id: &str) -> Refusal {
    Refusal::new(Reason::HoldNotFound, format!("no hold has id {id}")).with("hold_id", id)
}
