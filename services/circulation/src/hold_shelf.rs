//! Taking copies for holds, in the caller's transaction (`Db::write`): a
//! returned or pulled copy goes to the first hold in line it can fill (on
//! the hold shelf if the reader picks it up where the copy is, else in
//! transit to the pickup school), a copy in transit arrives at its pickup
//! school, and a copy whose hold ended unlent goes to the next reader in
//! line or back to the shelf. Each step records its events, keyed by the
//! copy so they follow its loan events.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lectern_common::db::DbConnection;
use lectern_common::outbox;
use lectern_core::ids;
use lectern_proto::events::v1::Event;

use lectern_common::Error;

use crate::db::holds::{self, HoldRow};
use crate::db::transits::TransitRow;
use crate::db::{calendars, rules};
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::policy::calendar::day_text;
use crate::policy::due::local_date;
use crate::policy::fees::CHARGED_BY_CIRCULATION;
use crate::policy::holds::{fillable_by, shelf_expiry};
use crate::transits::{self, Reason as TransitReason};

/// The copy being placed: its identity, title, type, and the school where
/// it is now (the desk that scanned it, or the pickup school it was sent
/// to).
#[derive(Debug, Clone, Copy)]
pub struct CopyAt<'a> {
    pub id: &'a str,
    pub barcode: &'a str,
    pub title_id: &'a str,
    pub school_id: &'a str,
    pub item_type: &'a str,
}

fn publish(
    connection: &mut DbConnection,
    event: &Event,
    copy_id: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    outbox::enqueue(connection, event, copy_id, &LOAN_SUBSCRIBERS, at.naive_utc())?;
    Ok(())
}

/// Until when a copy of `item_type` put on the hold shelf now waits for
/// `hold`'s reader: the hold shelf days of the rule for the pickup school,
/// the reader's category and the item type, on the pickup school's calendar.
fn shelf_until(
    connection: &mut DbConnection,
    hold: &HoldRow,
    item_type: &str,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<DateTime<Utc>, Error> {
    let applicable =
        rules::applicable_rule(connection, &hold.pickup_school_id, &hold.reader_category, Some(item_type))?;
    let calendar = calendars::calendar_of(connection, &hold.pickup_school_id)?;
    Ok(shelf_expiry(now, applicable.rule.terms.hold_shelf_days, zone, &calendar))
}

/// The last day a copy waits on the shelf until `until` (UTC), as a day in
/// the school's time zone.
fn shelf_day(until: chrono::NaiveDateTime, zone: Tz) -> String {
    day_text(local_date(DateTime::<Utc>::from_naive_utc_and_offset(until, Utc), zone))
}

/// Takes `copy` for the first waiting hold in line it can fill: on the hold
/// shelf where it is, or in transit (scanned `by`) to the pickup school.
/// Returns the hold as it is now and the journey, or `None` if no hold
/// waits for such a copy.
pub fn trap(
    connection: &mut DbConnection,
    copy: CopyAt<'_>,
    by: &str,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<Option<(HoldRow, Option<TransitRow>)>, Error> {
    let queue = holds::open_holds_of_title(connection, copy.title_id)?;
    for hold in fillable_by(&queue, copy.id) {
        let ready = if hold.pickup_school_id == copy.school_id {
            Some((now.naive_utc(), shelf_until(connection, hold, copy.item_type, now, zone)?.naive_utc()))
        } else {
            None
        };
        if !holds::take(connection, &hold.id, (copy.id, copy.barcode, copy.item_type), ready)? {
            continue;
        }
        let taken = holds::find_hold(connection, &hold.id)?.unwrap_or_else(|| hold.clone());
        publish(connection, &events::hold_trapped(ids::new_id(), &taken, now.naive_utc()), copy.id, now)?;
        let transit = match ready {
            Some((_, until)) => {
                let ready =
                    events::hold_ready(ids::new_id(), &taken, shelf_day(until, zone), now.naive_utc());
                publish(connection, &ready, copy.id, now)?;
                None
            }
            None => Some(transits::start(
                connection,
                copy,
                &taken.title,
                &taken.pickup_school_id,
                (TransitReason::Hold, Some(&taken.id)),
                by,
                now.naive_utc(),
            )?),
        };
        return Ok(Some((taken, transit)));
    }
    Ok(None)
}

/// The copy of an in-transit `hold` arrived at the pickup school: it goes
/// on the hold shelf. Returns the hold as it is now. The journey itself is
/// received by the caller (`transits::receive`).
pub fn arrive(
    connection: &mut DbConnection,
    hold: &HoldRow,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<Option<HoldRow>, Error> {
    let item_type = hold.copy_item_type.clone().unwrap_or_default();
    let until = shelf_until(connection, hold, &item_type, now, zone)?;
    if !holds::arrive(connection, &hold.id, now.naive_utc(), until.naive_utc())? {
        return Ok(None);
    }
    let ready = holds::find_hold(connection, &hold.id)?.unwrap_or_else(|| hold.clone());
    let copy_id = ready.copy_id.clone().unwrap_or_default();
    let last_day = shelf_day(until.naive_utc(), zone);
    publish(
        connection,
        &events::hold_ready(ids::new_id(), &ready, last_day, now.naive_utc()),
        &copy_id,
        now,
    )?;
    Ok(Some(ready))
}

/// `ended` (a hold that held a copy) was cancelled or expired: its copy
/// goes to the next hold in line, or back on the open shelf with
/// `hold.released`. The copy is at (or on its way to) the pickup school.
pub fn pass_on(
    connection: &mut DbConnection,
    ended: &HoldRow,
    reason: &str,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<Option<HoldRow>, Error> {
    let (Some(copy_id), Some(barcode)) = (ended.copy_id.as_deref(), ended.copy_barcode.as_deref()) else {
        return Ok(None);
    };
    let copy = CopyAt {
        id: copy_id,
        barcode,
        title_id: &ended.title_id,
        school_id: &ended.pickup_school_id,
        item_type: ended.copy_item_type.as_deref().unwrap_or_default(),
    };
    if let Some((next, _)) = trap(connection, copy, CHARGED_BY_CIRCULATION, now, zone)? {
        return Ok(Some(next));
    }
    publish(
        connection,
        &events::hold_released(ids::new_id(), ended, copy_id, reason, now.naive_utc()),
        copy_id,
        now,
    )?;
    Ok(None)
}
