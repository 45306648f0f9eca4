//! The desk's view of a scanned card in one call: the reader, their loans,
//! holds, open fees, and what blocks them from borrowing now, judged as
//! check-out judges (the rule of their school and category for any item
//! type).

use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::identity::{principal, require_school, require_staff};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{GetReaderSummaryRequest, ReaderSummary, SummaryBlock};
use lectern_proto::reader::v1::{GetReaderRequest, LookupReaderRequest};
use tonic::{Code, Request, Response, Status};

use crate::calendar::parse_day;
use crate::checkout::{self, Case, HoldsOnCopy, Standing};
use crate::db::{self, LoanState, fees, holds, rules};
use crate::grpc::Circulation;
use crate::{convert, policy};
use lectern_common::Error;

/// Most loans the summary shows.
const MAX_LOANS: i64 = 200;

impl Circulation {
    pub(crate) async fn summary(
        &self,
        request: Request<GetReaderSummaryRequest>,
    ) -> Result<Response<ReaderSummary>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let mut readers = self.readers.clone();
        let found = match (request.reader_card_barcode.trim(), request.reader_id.trim()) {
            (card, "") if !card.is_empty() => {
                let card = validate::barcode("reader_card_barcode", card)?;
                let call =
                    with_bearer(LookupReaderRequest { card_barcode: card }, &caller.token, self.call_timeout);
                readers.lookup_reader(call).await
            }
            ("", id) if !id.is_empty() => {
                let id = ids::parse_id("reader_id", id)?;
                let call = with_bearer(GetReaderRequest { id }, &caller.token, self.call_timeout);
                readers.get_reader(call).await
            }
            _ => {
                return Err(validate::FieldError::new(
                    "reader_card_barcode",
                    "give a card barcode or a reader id",
                )
                .into());
            }
        };
        let reader = found.map(Response::into_inner).map_err(|status| match status.code() {
            Code::NotFound => Status::from(Refusal::new(Reason::ReaderNotFound, "no reader has this card")),
            _ => dependency_status("reader", status),
        })?;
        require_school(&caller, &reader.school_id)?;
        let (reader_id, school_id, category) =
            (reader.id.clone(), reader.school_id.clone(), reader.category.clone());
        let schools = caller.school_filter().map(<[String]>::to_vec);
        let (loans, held, open_fees, rules_found, standing_loans, (unpaid, suspended)) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let filter = db::LoanFilter {
                    reader_id: &reader_id,
                    state: LoanState::Open,
                    schools: schools.as_deref(),
                };
                let loans = db::list_loans(connection, filter, None, MAX_LOANS)?;
                let mut held = Vec::new();
                for hold in holds::holds_of_reader(connection, &reader_id, false)? {
                    let queue = holds::open_holds_of_title(connection, &hold.title_id)?;
                    held.push(convert::hold(&hold, crate::holds::position(&queue, &hold)));
                }
                let open_fees = fees::fees_of_reader(connection, &reader_id, false, schools.as_deref())?;
                let rules_found = rules::rules_for_loan(connection, &school_id, &category, None)?;
                let standing_loans = db::open_loans_of_reader(connection, &reader_id)?;
                let (_, unpaid) = fees::unpaid(connection, &reader_id)?;
                let suspended = db::suspended_until(connection, &reader_id)?;
                Ok((loans, held, open_fees, rules_found, standing_loans, (unpaid, suspended)))
            })
            .await?;
        let now = self.clock.now();
        let rule = policy::choose(&rules_found, &reader.school_id, &reader.category, None)
            .ok_or_else(crate::db::rules::no_rule)?
            .rule;
        let standing = Standing {
            loans: standing_loans
                .into_iter()
                .map(|(item_type, due_at)| (item_type, convert::utc(due_at)))
                .collect(),
            unpaid_fees: unpaid,
            suspended_until: suspended.and_then(|day| parse_day(&day)),
        };
        // Judged as a check-out of a copy not yet scanned: the reader's
        // problems and blocks, without the copy's.
        let no_copy = Refusal::new(Reason::CopyNotFound, "no copy scanned");
        let verdict = checkout::assess(Case {
            reader: &reader,
            copy: Err(&no_copy),
            rule,
            standing: &standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: now,
            zone: self.time_zone,
        });
        let blocks = verdict
            .problems
            .iter()
            .filter(|problem| problem.reason != Reason::CopyNotFound)
            .map(|problem| SummaryBlock {
                reason: problem.reason.as_str_name().to_owned(),
                message: problem.message.clone(),
                overridable: checkout::is_block(problem.reason),
            })
            .collect();
        let mut loans: Vec<_> = loans.iter().map(|loan| convert::loan(loan, now)).collect();
        loans.sort_by(|a, b| a.due_date.cmp(&b.due_date));
        Ok(Response::new(ReaderSummary {
            reader: Some(reader),
            loans,
            holds: held,
            balance: crate::fees::balance(&open_fees),
            fees: open_fees.iter().map(|fee| convert::fee(fee, &[])).collect(),
            blocks,
        }))
    }
}
