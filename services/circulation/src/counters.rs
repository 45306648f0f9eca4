//! The district's lending counters, per school:
//! `lectern_checkouts_total`, `lectern_checkins_total` and
//! `lectern_renewals_total`. They move once a change has committed and not
//! on an idempotent replay (the callers count only fresh answers).
//!
//! The `school` label is the lending school's id (as the SIP2 and kiosk
//! counters' is): circulation does not hold school codes, and asking the
//! reader service for one on every loan would cost a call.

/// A loan was made at `school_id`.
pub fn checked_out(school_id: &str) {
    metrics::counter!("lectern_checkouts_total", "school" => school_id.to_owned()).increment(1);
}

/// A loan of `school_id` was closed by a return.
pub fn checked_in(school_id: &str) {
    metrics::counter!("lectern_checkins_total", "school" => school_id.to_owned()).increment(1);
}

/// A loan of `school_id` was renewed.
pub fn renewed(school_id: &str) {
    metrics::counter!("lectern_renewals_total", "school" => school_id.to_owned()).increment(1);
}
