//! The desk's view of a scanned card in one call: the reader, their loans,
//! holds, open fees, and what blocks them from borrowing now, judged as
//! check-out judges (the rule of their school and category for any item
//! type).

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{GetReaderSummaryRequest, ReaderSummary, SummaryBlock};

use crate::checkout::standing_of;
use crate::context::Circulation;
use crate::convert;
use crate::db::{self, LoanState, fees, holds, rules};
use crate::policy::eligibility::{self, Case, HoldsOnCopy};
use crate::policy::fees::balance;
use crate::policy::holds::position;

/// Most loans the summary shows.
const MAX_LOANS: i64 = 200;

/// What the desk shows when a card is scanned: the use case behind
/// `LoanService/GetReaderSummary`. Staff of the reader's school, and a
/// reader for themselves (what a kiosk or self-check machine shows).
pub async fn get_reader_summary(
    circulation: &Circulation,
    caller: &Principal,
    request: GetReaderSummaryRequest,
) -> Result<ReaderSummary, Error> {
    caller.require(Access::STAFF.or_readers())?;
    // Staff look the reader up with their own token, so the reader service
    // checks their schools; a reader may not look readers up, so
    // circulation does it for them and checks below that it is themselves.
    let lookup = match caller.kind {
        SubjectKind::Reader => circulation.service_token().await?,
        _ => caller.token.clone(),
    };
    let found = match (request.reader_card_barcode.trim(), request.reader_id.trim()) {
        (card, "") if !card.is_empty() => {
            let card = validate::barcode("reader_card_barcode", card)?;
            circulation.reader_by_card(&lookup, card).await
        }
        ("", id) if !id.is_empty() => {
            let id = ids::parse_id("reader_id", id)?;
            circulation.reader_by_id(&lookup, id).await
        }
        _ => return Err(FieldError::new("reader_card_barcode", "give a card barcode or a reader id").into()),
    };
    // A reader asking about someone else learns nothing, not even whether
    // the card exists.
    let reader = match found {
        Ok(reader) => reader,
        Err(_) if caller.kind == SubjectKind::Reader => return Err(not_own_record().into()),
        Err(error) => return Err(error),
    };
    if caller.kind == SubjectKind::Reader && reader.id != caller.subject_id {
        return Err(not_own_record().into());
    }
    caller.require_school(&reader.school_id)?;
    let borrower = convert::borrower(&reader);
    let (reader_id, school_id, category) =
        (reader.id.clone(), reader.school_id.clone(), reader.category.clone());
    let schools = caller.school_filter().map(<[String]>::to_vec);
    let (loans, held, open_fees, rule, standing) = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let filter =
                db::LoanFilter { reader_id: &reader_id, state: LoanState::Open, schools: schools.as_deref() };
            let loans = db::list_loans(connection, filter, None, MAX_LOANS)?;
            let mut held = Vec::new();
            for hold in holds::holds_of_reader(connection, &reader_id, false)? {
                let queue = holds::open_holds_of_title(connection, &hold.title_id)?;
                held.push(convert::hold(&hold, position(&queue, &hold)));
            }
            let open_fees = fees::fees_of_reader(connection, &reader_id, false, schools.as_deref())?;
            let rule = rules::applicable_rule(connection, &school_id, &category, None)?.rule;
            let standing = standing_of(connection, &reader_id)?;
            Ok((loans, held, open_fees, rule, standing))
        })
        .await?;
    let now = circulation.now();
    // Judged as a check-out of a copy not yet scanned: the reader's
    // problems and blocks, without the copy's.
    let no_copy = Refusal::new(Reason::CopyNotFound, "no copy scanned");
    let verdict = eligibility::assess(Case {
        reader: &borrower,
        copy: Err(&no_copy),
        rule: &rule,
        standing: &standing,
        open_loan: None,
        holds: HoldsOnCopy::default(),
        at: now,
        zone: circulation.time_zone,
    });
    let blocks = verdict
        .problems
        .iter()
        .filter(|problem| problem.reason != Reason::CopyNotFound)
        .map(|problem| SummaryBlock {
            reason: problem.reason.as_str_name().to_owned(),
            message: problem.message.clone(),
            overridable: eligibility::is_block(problem.reason),
        })
        .collect();
    let mut loans: Vec<_> = loans.iter().map(|loan| convert::loan(loan, now)).collect();
    loans.sort_by(|a, b| a.due_date.cmp(&b.due_date));
    Ok(ReaderSummary {
        reader: Some(reader),
        loans,
        holds: held,
        balance: balance(&open_fees),
        fees: open_fees.iter().map(|fee| convert::fee(fee, &[])).collect(),
        blocks,
    })
}

/// The refusal of a reader asking for another reader's summary.
fn not_own_record() -> Refusal {
    Refusal::new(Reason::RoleNotAllowed, "readers may only see their own records")
}
