//! The two desk actions: `checkout` (lend a copy to a card holder) and
//! `checkin` (take a copy back). A refused check-out ends the command with
//! the server's message and reason code, and a non-zero exit.

use lectern_proto::circulation::v1::{CheckInRequest, CheckInResponse, CheckOutRequest, Loan};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{loan_due_day, was_overdue};
use super::table::clean;

/// Options of `lectern checkout`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern checkout R100001 C0001\n\n\
A refusal prints the reason and exits non-zero, e.g.\n  \
refused: 书已借出 (COPY_ALREADY_ON_LOAN)")]
pub struct CheckoutArgs {
    /// The reader's library card barcode (scan it)
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    /// The book's barcode (scan it)
    #[arg(value_name = "COPY_BARCODE")]
    pub barcode: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern checkin`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern checkin C0001")]
pub struct CheckinArgs {
    /// The book's barcode (scan it)
    #[arg(value_name = "COPY_BARCODE")]
    pub barcode: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern checkout`.
pub async fn checkout(args: CheckoutArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let message = CheckOutRequest {
        reader_card_barcode: args.card.trim().to_owned(),
        copy_barcode: args.barcode.trim().to_owned(),
        request_id: request_id(),
        occurred_at: None,
    };
    let client = desk.circulation();
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.check_out(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let loan = answer.loan.unwrap_or_default();
    print!("{}", checkout_lines(&loan));
    Ok(())
}

/// "checked out: TITLE (BARCODE)\ndue: DAY\n".
fn checkout_lines(loan: &Loan) -> String {
    format!(
        "checked out: {} ({})\ndue: {}\n",
        clean(&loan.title),
        clean(&loan.copy_barcode),
        loan_due_day(loan)
    )
}

/// `lectern checkin`.
pub async fn checkin(args: CheckinArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let message = CheckInRequest { copy_barcode: args.barcode.trim().to_owned(), request_id: request_id() };
    let client = desk.circulation();
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.check_in(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    print!("{}", checkin_lines(&answer));
    Ok(())
}

/// "returned: TITLE" (with "was overdue"), or that nothing was on loan.
fn checkin_lines(answer: &CheckInResponse) -> String {
    match (&answer.loan, answer.was_on_loan) {
        (Some(loan), true) => {
            let late = if was_overdue(loan) {
                format!(" (was overdue, due {})", loan_due_day(loan))
            } else {
                String::new()
            };
            format!("returned: {}{late}\n", clean(&loan.title))
        }
        (None, true) => "returned\n".to_owned(),
        (_, false) => "not on loan: nothing to do\n".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use prost_types::Timestamp;

    use super::*;

    fn loan() -> Loan {
        Loan {
            title: "草房子".into(),
            copy_barcode: "C0001".into(),
            due_date: "2026-12-19".into(),
            due_at: Some(Timestamp { seconds: 1_000, nanos: 0 }),
            ..Loan::default()
        }
    }

    #[test]
    fn a_checkout_prints_title_and_due_day() {
        assert_eq!(checkout_lines(&loan()), "checked out: 草房子 (C0001)\ndue: 2026-12-19\n");
    }

    #[test]
    fn a_checkin_says_what_happened() {
        let mut answer = CheckInResponse {
            was_on_loan: true,
            loan: Some(Loan { returned_at: Some(Timestamp { seconds: 999, nanos: 0 }), ..loan() }),
        };
        assert_eq!(checkin_lines(&answer), "returned: 草房子\n");
        if let Some(loan) = answer.loan.as_mut() {
            loan.returned_at = Some(Timestamp { seconds: 2_000, nanos: 0 });
        }
        assert_eq!(checkin_lines(&answer), "returned: 草房子 (was overdue, due 2026-12-19)\n");
        let nothing = CheckInResponse { was_on_loan: false, loan: None };
        assert_eq!(checkin_lines(&nothing), "not on loan: nothing to do\n");
    }
}
