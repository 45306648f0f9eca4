//! What a failed call means to the person at the desk. Refusals are shown
//! with their message and reason code (the code is what a librarian quotes
//! when asking for help); transport trouble names the server that could not
//! be reached; nothing here ever prints a token.

use std::error::Error as _;

use lectern_core::refusal::{Reason, Refusal};
use tonic::{Code, Status};

use super::table::clean;

/// What to do when the session is missing, expired or not accepted.
pub const SIGNED_OUT: &str = "not signed in or session expired: run `lectern login`";

/// One line describing why a call to Lectern at `server` failed.
pub fn describe(status: &Status, server: &str) -> String {
    let message = clean(status.message());
    if let Some(refusal) = Refusal::from_status(status) {
        return match refusal.reason {
            Reason::TokenInvalid | Reason::SessionEnded => SIGNED_OUT.to_owned(),
            Reason::PasswordChangeRequired => {
                format!("{}: run `lectern login` to choose a new password", refused(&refusal))
            }
            _ => refused(&refusal),
        };
    }
    match status.code() {
        Code::Unauthenticated => SIGNED_OUT.to_owned(),
        Code::Unavailable | Code::Unknown if status.source().is_some() => match root_cause(status) {
            Some(cause) => format!("cannot reach Lectern at {server}: {cause}"),
            None => format!("cannot reach Lectern at {server}"),
        },
        // The gateway answered but a service behind it is down.
        Code::Unavailable => format!("Lectern at {server} is unavailable: {message}"),
        Code::DeadlineExceeded | Code::Cancelled => {
            format!("Lectern at {server} did not answer in time; try again")
        }
        Code::InvalidArgument | Code::NotFound | Code::AlreadyExists => message,
        Code::PermissionDenied => format!("not allowed: {message}"),
        Code::Internal => {
            format!("Lectern at {server} hit an internal error; try again, or ask district IT if it persists")
        }
        Code::Unimplemented => {
            format!("Lectern at {server} does not offer this command (is it an older version?)")
        }
        code => format!("{}: {message}", code.description()),
    }
}

/// "refused: MESSAGE (REASON)"; a thing that does not exist is not a
/// refusal, so NOT_FOUND reads "MESSAGE (REASON)".
pub fn refused(refusal: &Refusal) -> String {
    let prefix = if refusal.code() == Code::NotFound { "" } else { "refused: " };
    format!("{prefix}{} ({})", clean(&refusal.message), refusal.reason.as_str_name())
}

/// The innermost error under a transport failure ("Connection refused"),
/// which says more than tonic's "transport error".
fn root_cause(status: &Status) -> Option<String> {
    let mut cause = status.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(clean(&cause.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "http://127.0.0.1:50051";

    #[test]
    fn refusals_show_message_and_reason() {
        let status: Status = Refusal::new(Reason::CopyAlreadyOnLoan, "书已借出，应还日期 2026-12-19")
            .with("loan_id", "0190")
            .into();
        assert_eq!(
            describe(&status, SERVER),
            "refused: 书已借出，应还日期 2026-12-19 (COPY_ALREADY_ON_LOAN)"
        );
    }

    #[test]
    fn a_missing_thing_is_not_called_a_refusal() {
        let status: Status = Refusal::new(Reason::ReaderNotFound, "没有借书证 R9 的读者").into();
        assert_eq!(describe(&status, SERVER), "没有借书证 R9 的读者 (READER_NOT_FOUND)");
    }

    #[test]
    fn a_rejected_token_asks_to_sign_in() {
        let status: Status = Refusal::new(Reason::TokenInvalid, "token expired").into();
        assert_eq!(describe(&status, SERVER), SIGNED_OUT);
        assert_eq!(describe(&Status::unauthenticated("no token"), SERVER), SIGNED_OUT);
        let ended: Status = Refusal::new(Reason::SessionEnded, "this sign-in session has ended").into();
        assert_eq!(describe(&ended, SERVER), SIGNED_OUT);
        let status: Status = Refusal::new(Reason::CredentialsInvalid, "wrong password").into();
        assert_eq!(describe(&status, SERVER), "refused: wrong password (CREDENTIALS_INVALID)");
    }

    #[test]
    fn transport_failures_name_the_server() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let status = Status::from_error(Box::new(refused));
        assert_eq!(
            describe(&status, SERVER),
            "cannot reach Lectern at http://127.0.0.1:50051: connection refused"
        );
        let status = Status::unavailable("the reader service is unavailable, try again shortly");
        assert_eq!(
            describe(&status, SERVER),
            "Lectern at http://127.0.0.1:50051 is unavailable: the reader service is unavailable, try again shortly"
        );
    }

    #[test]
    fn bad_input_shows_the_servers_words() {
        let status = Status::invalid_argument("card_barcode: is required");
        assert_eq!(describe(&status, SERVER), "card_barcode: is required");
        let status = Status::internal("SELECT * FROM readers failed");
        assert!(!describe(&status, SERVER).contains("SELECT"));
    }

    #[test]
    fn server_text_is_cleaned() {
        let status = Status::not_found("no copy \u{1b}[2J C1");
        assert_eq!(describe(&status, SERVER), "no copy  [2J C1");
    }
}
