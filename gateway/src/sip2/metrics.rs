//! The SIP2 edge's metrics: open connections per school
//! (`lectern_sip2_connections{school}`, the school of the device that
//! logged in, by id; `none` before a login) and messages handled
//! (`lectern_sip2_messages_total{message,outcome}`). `message` is the
//! two-character code of a message Lectern supports, `other` for anything
//! else; `outcome` is `ok`, `refused` (an answer with its ok flag off: a
//! failed login, a check-out not made), `unanswered` (before login),
//! `repeated` (the same bytes again, answered from memory) or `unreadable`.

use lectern_sip2::response::Response;

use super::session::SUPPORTED;

/// The `school` of a connection no device has logged in on.
const NONE: &str = "none";

/// One open connection in `lectern_sip2_connections`: counted under
/// `none` from the start, moved to its device's school on login, and
/// uncounted when dropped (the connection ended, however it ended).
#[derive(Debug)]
pub struct ConnectionGauge {
    school: String,
}

impl ConnectionGauge {
    /// A connection opened.
    pub fn open() -> Self {
        metrics::gauge!("lectern_sip2_connections", "school" => NONE).increment(1.0);
        Self { school: NONE.to_owned() }
    }

    /// The connection's device is now of `school_id` (`None`: no device).
    pub fn follow(&mut self, school_id: Option<&str>) {
        let school = school_id.unwrap_or(NONE);
        if school != self.school {
            metrics::gauge!("lectern_sip2_connections", "school" => self.school.clone()).decrement(1.0);
            metrics::gauge!("lectern_sip2_connections", "school" => school.to_owned()).increment(1.0);
            school.clone_into(&mut self.school);
        }
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!("lectern_sip2_connections", "school" => std::mem::take(&mut self.school))
            .decrement(1.0);
    }
}

/// Counts one message with code `code` (as received) and `outcome`.
pub fn message(code: Option<&str>, outcome: &'static str) {
    let message =
        code.and_then(|code| SUPPORTED.iter().find(|known| **known == code)).copied().unwrap_or("other");
    metrics::counter!("lectern_sip2_messages_total", "message" => message, "outcome" => outcome).increment(1);
}

/// The outcome of a message answered with `response`.
pub fn outcome_of(response: &Response) -> &'static str {
    let ok = match response {
        Response::Login(answer) => answer.ok,
        Response::Checkout(answer) | Response::Renew(answer) => answer.ok,
        Response::Checkin(answer) => answer.ok,
        Response::RenewAll(answer) => answer.ok,
        Response::Hold(answer) => answer.ok,
        _ => true,
    };
    if ok { "ok" } else { "refused" }
}
