//! The patron's account as the machine shows it: 63 Patron Information
//! (counts, one list of items, the blocks in words), 23 Patron Status, and
//! 37 Fee Paid (a machine that took money records it for the patron's
//! fees). Each acts for the patron of `patron.rs` with their own token.

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{HoldStatus, ReaderSummary};
use lectern_sip2::request::{FeePaid, PatronInformation, PatronStatus, Summary};
use lectern_sip2::response::{
    FeePaidResponse, PatronInformationResponse, PatronStatusFlags, PatronStatusResponse, Response,
};

use super::request_id::{self, Parts};
use super::session::Session;
use crate::pages::format::parse_money;

/// The currency Lectern keeps fees in.
const CURRENCY: &str = "CNY";

/// Items listed in one 64 when the machine does not say (BP/BQ).
const DEFAULT_LIST: usize = 50;

/// A fee amount in minor units as SIP2 writes money (`12.50`).
pub fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02}", minor / 100, minor % 100)
}

/// The patron status flags of a reader's blocks (reason names).
pub fn flags(blocks: &[String]) -> PatronStatusFlags {
    let mut flags = PatronStatusFlags { charge_denied: !blocks.is_empty(), ..PatronStatusFlags::default() };
    for block in blocks {
        match Reason::from_str_name(block) {
            Some(
                Reason::ReaderBlocked
                | Reason::ReaderInactive
                | Reason::ReaderExpired
                | Reason::ReaderSuspended,
            ) => {
                flags.renewal_denied = true;
                flags.hold_denied = true;
            }
            Some(Reason::LoanLimitReached) => flags.too_many_items_charged = true,
            Some(Reason::ReaderHasOverdue) => flags.too_many_items_overdue = true,
            Some(Reason::ReaderOwesFees) => flags.excessive_outstanding_fees = true,
            _ => {}
        }
    }
    flags
}

/// The page of a list the machine asked for: BP/BQ are 1-based and
/// inclusive; without them, the first [`DEFAULT_LIST`].
fn page(items: Vec<String>, start: Option<u32>, end: Option<u32>) -> Vec<String> {
    let start = start.map_or(1, |start| start.max(1)) as usize;
    let end = end.map_or(start + DEFAULT_LIST - 1, |end| end as usize).max(start);
    items.into_iter().skip(start - 1).take(end - start + 1).collect()
}

/// What a 64 lists and counts for a reader.
#[derive(Debug, Default)]
struct Lists {
    ready_holds: Vec<String>,
    overdue: Vec<String>,
    charged: Vec<String>,
    fines: Vec<String>,
    unavailable_holds: Vec<String>,
}

fn lists(summary: &ReaderSummary) -> Lists {
    let mut lists = Lists::default();
    for loan in &summary.loans {
        lists.charged.push(loan.copy_barcode.clone());
        if loan.overdue {
            lists.overdue.push(loan.copy_barcode.clone());
        }
    }
    for hold in &summary.holds {
        let item = if hold.copy_barcode.is_empty() { hold.title.clone() } else { hold.copy_barcode.clone() };
        match hold.status() {
            HoldStatus::Ready => lists.ready_holds.push(item),
            HoldStatus::Waiting | HoldStatus::InTransit => lists.unavailable_holds.push(item),
            _ => {}
        }
    }
    for fee in summary.fees.iter().filter(|fee| fee.outstanding > 0) {
        // The fee id first: a machine that takes money sends it back in CG.
        lists
            .fines
            .push(format!("{} {} {}", fee.id, amount(fee.outstanding), fee.title).trim_end().to_owned());
    }
    lists
}

fn count(items: &[String]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

impl Session {
    /// 63: the patron, their counts, one list if asked for, and their
    /// blocks in words.
    pub(super) async fn patron_information(&mut self, message: PatronInformation) -> Response {
        let (status, summary) = self
            .status_of(&message.institution_id, &message.patron_id, message.patron_password.as_deref())
            .await;
        // 64 says all that 24 does, and more.
        let mut answer = PatronInformationResponse {
            patron_status: status.patron_status,
            language: status.language,
            date: status.date,
            institution_id: status.institution_id,
            patron_id: status.patron_id,
            personal_name: status.personal_name,
            valid_patron: status.valid_patron,
            valid_patron_password: status.valid_patron_password,
            currency: status.currency,
            fee_amount: status.fee_amount,
            screen_messages: status.screen_messages,
            print_lines: status.print_lines,
            ..PatronInformationResponse::default()
        };
        let Some(summary) = summary else {
            return Response::PatronInformation(answer);
        };
        let lists = lists(&summary);
        answer.hold_items_count = count(&lists.ready_holds);
        answer.overdue_items_count = count(&lists.overdue);
        answer.charged_items_count = count(&lists.charged);
        answer.fine_items_count = count(&lists.fines);
        answer.unavailable_holds_count = count(&lists.unavailable_holds);
        let (start, end) = (message.start_item, message.end_item);
        match message.summary {
            Some(Summary::HoldItems) => answer.hold_items = page(lists.ready_holds, start, end),
            Some(Summary::OverdueItems) => answer.overdue_items = page(lists.overdue, start, end),
            Some(Summary::ChargedItems) => answer.charged_items = page(lists.charged, start, end),
            Some(Summary::FineItems) => answer.fine_items = page(lists.fines, start, end),
            Some(Summary::UnavailableHolds) => {
                answer.unavailable_hold_items = page(lists.unavailable_holds, start, end)
            }
            Some(Summary::RecallItems) | None => {}
        }
        Response::PatronInformation(answer)
    }

    /// 23: whether the card is good and the patron may borrow.
    pub(super) async fn patron_status(&mut self, message: PatronStatus) -> Response {
        let (answer, _) = self
            .status_of(&message.institution_id, &message.patron_id, message.patron_password.as_deref())
            .await;
        Response::PatronStatus(answer)
    }

    /// What 23 and 63 alike answer: whether the card (and PIN) are good,
    /// and the patron's name, fees, blocks and welcome; with the patron's
    /// summary, if it was read.
    async fn status_of(
        &mut self,
        institution: &str,
        card: &str,
        pin: Option<&str>,
    ) -> (PatronStatusResponse, Option<ReaderSummary>) {
        let words = self.words();
        let mut answer = PatronStatusResponse {
            patron_status: PatronStatusFlags::all_denied(),
            language: words.sip2_language().to_owned(),
            date: self.now(),
            institution_id: self.institution(institution),
            patron_id: card.to_owned(),
            currency: Some(CURRENCY.to_owned()),
            ..PatronStatusResponse::default()
        };
        let Some(patron) = self.patron_answering(card, pin, &mut answer, Some(true)).await else {
            return (answer, None);
        };
        match self.services.summary(&patron.token.access, &patron.reader_id).await {
            Ok(summary) => {
                let blocks: Vec<String> = summary.blocks.iter().map(|block| block.reason.clone()).collect();
                answer.patron_status = flags(&blocks);
                answer.personal_name =
                    summary.reader.as_ref().map(|reader| reader.name.clone()).unwrap_or_default();
                answer.fee_amount = Some(amount(summary.balance));
                answer.screen_messages.push(words.format("welcome", &[("name", &answer.personal_name)]));
                answer.screen_messages.extend(
                    blocks.iter().map(|block| {
                        words.reason(Reason::from_str_name(block).unwrap_or(Reason::Unspecified))
                    }),
                );
                (answer, Some(summary))
            }
            Err(status) => {
                answer.screen_messages.push(words.refusal(&status));
                (answer, None)
            }
        }
    }

    /// 37: the machine took money for the patron's fees (all of them oldest
    /// first, or the fee in CG).
    pub(super) async fn fee_paid(&mut self, message: FeePaid) -> Response {
        let words = self.words();
        let mut answer = FeePaidResponse {
            payment_accepted: false,
            date: self.now(),
            institution_id: self.institution(&message.institution_id),
            patron_id: message.patron_id.clone(),
            transaction_id: message.transaction_id.clone(),
            ..FeePaidResponse::default()
        };
        let currency = message.currency.trim();
        if !currency.is_empty() && !currency.eq_ignore_ascii_case(CURRENCY) {
            answer.screen_messages.push(words.text("currency_bad"));
            return Response::FeePaid(answer);
        }
        let Some(paid) = parse_money(&message.fee_amount).filter(|paid| *paid > 0) else {
            answer.screen_messages.push(words.text("amount_bad"));
            return Response::FeePaid(answer);
        };
        let Some(patron) = self
            .patron_answering(&message.patron_id, message.patron_password.as_deref(), &mut answer, None)
            .await
        else {
            return Response::FeePaid(answer);
        };
        let device_id = self.device.as_ref().map(|device| device.id.clone()).unwrap_or_default();
        let fee_id = message.fee_id.clone().unwrap_or_default();
        let paid_text = amount(paid);
        let transaction = message.transaction_id.clone().unwrap_or_default();
        let request_id = request_id::derive(Parts {
            device_id: &device_id,
            code: "37",
            patron: &message.patron_id,
            item: "",
            date: message.date.as_str(),
            extra: &[&paid_text, &fee_id, &transaction],
        });
        match self
            .services
            .pay_fees(&patron.token.access, &patron.reader_id, paid, &fee_id, request_id.as_deref())
            .await
        {
            Ok(paid_fees) => {
                answer.payment_accepted = true;
                let values = [("amount", words.money(paid)), ("balance", words.money(paid_fees.balance))];
                let values: Vec<(&str, &str)> =
                    values.iter().map(|(name, value)| (*name, value.as_str())).collect();
                let id = if paid_fees.balance > 0 { "paid" } else { "paid_all" };
                answer.screen_messages.push(words.format(id, &values));
            }
            Err(status) => answer.screen_messages.push(words.refusal(&status)),
        }
        Response::FeePaid(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_yuan_with_two_decimals() {
        assert_eq!(amount(0), "0.00");
        assert_eq!(amount(150), "1.50");
        assert_eq!(amount(12345), "123.45");
        assert_eq!(amount(-5), "-0.05");
    }

    #[test]
    fn blocks_set_the_matching_flags() {
        assert_eq!(flags(&[]).to_wire(), " ".repeat(14));
        let overdue = flags(&["READER_HAS_OVERDUE".to_owned()]);
        assert!(overdue.charge_denied && overdue.too_many_items_overdue && !overdue.renewal_denied);
        let blocked = flags(&["READER_BLOCKED".to_owned(), "READER_OWES_FEES".to_owned()]);
        assert!(blocked.renewal_denied && blocked.hold_denied && blocked.excessive_outstanding_fees);
        assert!(flags(&["SOMETHING_NEW".to_owned()]).charge_denied);
    }

    #[test]
    fn pages_are_one_based_and_inclusive() {
        let items: Vec<String> = (1..=60).map(|n| n.to_string()).collect();
        assert_eq!(page(items.clone(), None, None).len(), DEFAULT_LIST);
        assert_eq!(page(items.clone(), Some(2), Some(3)), vec!["2", "3"]);
        assert_eq!(page(items.clone(), Some(0), Some(1)), vec!["1"]);
        assert_eq!(page(items.clone(), Some(59), Some(100)), vec!["59", "60"]);
        assert_eq!(page(items.clone(), Some(5), Some(2)), vec!["5"]);
        assert!(page(items, Some(100), None).is_empty());
    }
}
