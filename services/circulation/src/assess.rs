//! The check-out assessment: looks up a scanned reader and copy, gathers
//! what the decision needs (the lending school's rules and calendar, the
//! reader's standing, holds on the copy) and judges a loan with
//! `checkout::assess`. Check-out and the explain call share it, so an
//! explanation is always what a check-out would answer.

use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::catalog::v1::{Copy, LookupCopyRequest};
use lectern_proto::reader::v1::{LookupReaderRequest, Reader};
use tonic::Code;

use crate::calendar::{self, SchoolCalendar};
use crate::checkout::{self, Case, HoldsOnCopy, Standing, Verdict};
use crate::db::calendars;
use crate::db::holds::HoldRow;
use crate::db::{self, fees, rules};
use crate::grpc::Circulation;
use crate::grpc_holds::on_open_shelf;
use crate::policy::{self, Rule};
use crate::{convert, holds};
use lectern_common::Error;

impl Circulation {
    /// Looks up the scanned reader (with `reader_bearer`, so the reader
    /// service checks the caller's schools) and copy at the same time. An
    /// unknown reader refuses at once; an unknown copy is judged in its
    /// turn, after the reader's blocks.
    async fn look_up(
        &self,
        reader_bearer: &str,
        card_barcode: String,
        copy_barcode: String,
    ) -> Result<(Reader, Result<Copy, Refusal>), Error> {
        let service = self.service_token().await?;
        let mut readers = self.readers.clone();
        let mut catalog = self.catalog.clone();
        let reader_request =
            with_bearer(LookupReaderRequest { card_barcode }, reader_bearer, self.call_timeout);
        let copy_request =
            with_bearer(LookupCopyRequest { barcode: copy_barcode.clone() }, &service, self.call_timeout);
        let (reader, copy) =
            tokio::join!(readers.lookup_reader(reader_request), catalog.lookup_copy(copy_request));
        let reader = reader.map_err(|status| match status.code() {
            Code::NotFound => {
                Error::Refused(Refusal::new(Reason::ReaderNotFound, "no reader has this card barcode"))
            }
            _ => Error::Dependency(dependency_status("reader", status)),
        })?;
        let copy = match copy {
            Ok(copy) => Ok(copy.into_inner()),
            Err(status) if status.code() == Code::NotFound => {
                Err(Refusal::new(Reason::CopyNotFound, format!("no copy has barcode {copy_barcode}")))
            }
            Err(status) => return Err(Error::Dependency(dependency_status("catalog", status))),
        };
        Ok((reader.into_inner(), copy))
    }

    /// Looks up a scanned reader and copy and judges a loan of it at `at`:
    /// the rule that applies, the reader's standing, and every problem in
    /// the desk's order. Check-out and the explain call share it, so the
    /// explanation is always what a check-out would answer.
    pub(crate) async fn assess(
        &self,
        bearer: &str,
        card_barcode: String,
        copy_barcode: String,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Assessment, Error> {
        let (reader, copy) = self.look_up(bearer, card_barcode, copy_barcode).await?;
        // The lending school's rules and calendar; with an unknown copy,
        // the reader's school stands in for the blocks.
        let school_id = copy.as_ref().map_or(reader.school_id.clone(), |copy| copy.school_id.clone());
        let item_type = copy.as_ref().ok().map(|copy| copy.item_type.clone());
        let copy_ids = copy.as_ref().ok().map(|copy| (copy.id.clone(), copy.title_id.clone()));
        let (reader_id, category) = (reader.id.clone(), reader.category.clone());
        let lookup_school = school_id.clone();
        let (calendar, rules, loans, (unpaid_fees, suspended_until), open_loan, (holding, queue)) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let calendar = calendars::load_calendar(connection, &lookup_school)?
                    .map(|stored| stored.calendar)
                    .unwrap_or_default();
                let rules =
                    rules::rules_for_loan(connection, &lookup_school, &category, item_type.as_deref())?;
                let loans = db::open_loans_of_reader(connection, &reader_id)?;
                let (_, unpaid_fees) = fees::unpaid(connection, &reader_id)?;
                let suspended_until = db::suspended_until(connection, &reader_id)?;
                let (open_loan, holds_on_copy) = match copy_ids {
                    Some((copy_id, title_id)) => (
                        db::open_loan_for_copy(connection, &copy_id)?,
                        (
                            db::holds::hold_holding_copy(connection, &copy_id)?,
                            db::holds::open_holds_of_title(connection, &title_id)?,
                        ),
                    ),
                    None => (None, (None, Vec::new())),
                };
                Ok((calendar, rules, loans, (unpaid_fees, suspended_until), open_loan, holds_on_copy))
            })
            .await?;
        let item_type = copy.as_ref().ok().map(|copy| copy.item_type.as_str());
        let choice = policy::choose(&rules, &school_id, &reader.category, item_type)
            .ok_or_else(crate::db::rules::no_rule)?;
        let why = choice.why();
        let (rule, outranked) = (choice.rule.clone(), choice.outranked.into_iter().cloned().collect());
        let standing = Standing {
            loans: loans.into_iter().map(|(item_type, due_at)| (item_type, convert::utc(due_at))).collect(),
            unpaid_fees,
            suspended_until: suspended_until.and_then(|day| calendar::parse_day(&day)),
        };
        // Holds: a copy taken for someone else's hold is theirs; one taken
        // for this reader, or a place at the head of the line, is lent and
        // fills the hold; otherwise readers ahead in line need a copy each.
        let own = |hold: &HoldRow| hold.reader_id.as_deref() == Some(reader.id.as_str());
        let taken_for_other = holding.as_ref().filter(|hold| !own(hold));
        let mut fulfils = holding.as_ref().filter(|hold| own(hold)).cloned();
        let mut waiting = None;
        if let (Ok(lent), None) = (&copy, taken_for_other) {
            let ahead = if fulfils.is_some() { 0 } else { holds::others_ahead(&queue, &lent.id, &reader.id) };
            if ahead > 0 {
                let service = self.service_token().await?;
                let on_shelves = self
                    .copies_of_title(&service, &lent.title_id, None)
                    .await?
                    .iter()
                    .filter(|copy| on_open_shelf(copy))
                    .count();
                waiting = Some((ahead, on_shelves));
            }
            if fulfils.is_none() {
                fulfils = holds::own_waiting(&queue, &lent.id, &reader.id).cloned();
            }
        }
        let verdict = checkout::assess(Case {
            reader: &reader,
            copy: copy.as_ref(),
            rule: &rule,
            standing: &standing,
            open_loan: open_loan.as_ref(),
            holds: HoldsOnCopy { taken_for_other, waiting },
            at,
            zone: self.time_zone,
        });
        Ok(Assessment {
            reader,
            copy,
            school_id,
            rule,
            why,
            outranked,
            standing,
            calendar,
            verdict,
            fulfils,
            holding,
        })
    }
}

/// A scanned reader and copy, judged for a loan.
#[derive(Debug)]
pub(crate) struct Assessment {
    pub reader: Reader,
    pub copy: Result<Copy, Refusal>,
    /// The lending school (the reader's, if the copy is unknown).
    pub school_id: String,
    pub rule: Rule,
    pub why: String,
    pub outranked: Vec<Rule>,
    pub standing: Standing,
    pub calendar: SchoolCalendar,
    pub verdict: Verdict,
    /// The reader's own hold a loan of the copy fills, if any.
    pub fulfils: Option<HoldRow>,
    /// The hold the copy is taken for (hold shelf or transit), if any.
    pub holding: Option<HoldRow>,
}
