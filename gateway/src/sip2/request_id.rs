//! Request ids for the services, derived from what the machine sent, so
//! that a message resent after a lost answer — even on a new connection —
//! reaches circulation with the same id and gets the first answer back
//! instead of acting twice.
//!
//! The id is `sip2-` and the first 40 hex digits of the SHA-256 of the
//! device id, the message code, the patron and item identifiers and the
//! machine's transaction date (and, for a payment, the amount and fee
//! ids), each part length-prefixed so no two different inputs run
//! together. A machine that leaves the transaction date blank gives us
//! nothing that tells a resend from a second, real request, so then no id
//! is sent and each message acts on its own.

use sha2::{Digest, Sha256};

/// How many hex digits of the hash the id keeps.
const HEX_DIGITS: usize = 40;

/// The parts a request id is made of.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// The device the message came from.
    pub device_id: &'a str,
    /// The message code, e.g. `"11"`.
    pub code: &'a str,
    /// The patron identifier as sent (`AA`), empty if none.
    pub patron: &'a str,
    /// The item identifier as sent (`AB`), empty if none.
    pub item: &'a str,
    /// The transaction date, all 18 characters as sent.
    pub date: &'a str,
    /// More parts for messages that carry them (fee paid: amount, fee id,
    /// transaction id).
    pub extra: &'a [&'a str],
}

/// The request id of a message, or `None` when the transaction date is
/// blank (or missing).
pub fn derive(parts: Parts<'_>) -> Option<String> {
    if parts.date.trim().is_empty() {
        return None;
    }
    let mut hash = Sha256::new();
    for part in [parts.device_id, parts.code, parts.patron, parts.item, parts.date].iter().chain(parts.extra)
    {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut id = String::with_capacity(5 + HEX_DIGITS);
    id.push_str("sip2-");
    for byte in digest.iter().take(HEX_DIGITS / 2) {
        id.push_str(&format!("{byte:02x}"));
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(item: &'a str, date: &'a str) -> Parts<'a> {
        Parts {
            device_id: "0193a0b2-0000-7000-8000-000000000001",
            code: "11",
            patron: "R100005",
            item,
            date,
            extra: &[],
        }
    }

    #[test]
    fn same_message_same_id_and_printable_ascii_within_64() {
        let a = derive(parts("T000123", "20261207    181500")).unwrap();
        let b = derive(parts("T000123", "20261207    181500")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 45);
        assert!(a.starts_with("sip2-"));
        assert!(a[5..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn any_part_changes_the_id() {
        let base = derive(parts("T000123", "20261207    181500"));
        assert_ne!(base, derive(parts("T000124", "20261207    181500")));
        assert_ne!(base, derive(parts("T000123", "20261207    181501")));
        assert_ne!(base, derive(Parts { code: "29", ..parts("T000123", "20261207    181500") }));
        assert_ne!(base, derive(Parts { patron: "R100006", ..parts("T000123", "20261207    181500") }));
        assert_ne!(base, derive(Parts { device_id: "other", ..parts("T000123", "20261207    181500") }));
        assert_ne!(base, derive(Parts { extra: &["1.00"], ..parts("T000123", "20261207    181500") }));
        // Parts do not run together: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            derive(Parts { patron: "ab", item: "c", ..parts("", "20261207    181500") }),
            derive(Parts { patron: "a", item: "bc", ..parts("", "20261207    181500") })
        );
    }

    #[test]
    fn blank_date_gives_no_id() {
        assert_eq!(derive(parts("T000123", "                  ")), None);
        assert_eq!(derive(parts("T000123", "")), None);
    }
}
