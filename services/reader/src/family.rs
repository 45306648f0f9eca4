//! Families on phones, as rules without I/O: the binding tickets and the
//! printed binding codes (their form, lifetimes and stored hashes), how a
//! guardian is matched to a guardian contact the school has for the
//! reader, the limits on bindings, and the label that tells a family's
//! WeChat accounts apart without showing an openid.

use sha2::{Digest, Sha256};

use crate::db::profile::ContactRow;

/// How long a binding ticket works after a WeChat sign-in found nothing bound.
pub const TICKET_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);
/// How long a printed binding code works.
pub const CODE_LIFETIME: chrono::Duration = chrono::Duration::days(14);
/// The digits of a binding code.
pub const CODE_DIGITS: usize = 8;
/// Readers one WeChat account may be bound to (a large family, twins...).
pub const MAX_READERS_PER_ACCOUNT: i64 = 10;
/// WeChat accounts one reader may be bound to (the reader, parents,
/// grandparents).
pub const MAX_ACCOUNTS_PER_READER: i64 = 6;
/// Longer than any ticket Lectern hands out.
pub const MAX_TICKET_CHARS: usize = 100;

/// Stored relation codes.
pub mod relation {
    /// The reader's own WeChat account.
    pub const SELF: &str = "self";
    /// A guardian's.
    pub const GUARDIAN: &str = "guardian";
}

/// Stored proof codes.
pub mod proof {
    /// The card's PIN.
    pub const PIN: &str = "pin";
    /// A printed binding code.
    pub const CODE: &str = "code";
}

/// Why sessions through a binding ended, as stored.
pub const BINDING_REMOVED: &str = "binding_removed";

/// A new binding ticket: 256 random bits, URL-safe.
pub fn new_ticket() -> String {
    crate::sessions::new_refresh_token()
}

/// The stored form of a ticket: SHA-256, hex. Tickets are high-entropy, so
/// a slow hash adds nothing.
pub fn hash_ticket(ticket: &str) -> String {
    crate::sessions::hash_refresh_token(ticket)
}

/// A new eight-digit binding code.
pub fn new_code() -> String {
    use rand::Rng as _;
    let mut random = rand::thread_rng();
    (0..CODE_DIGITS).map(|_| char::from(b'0' + random.gen_range(0..10u8))).collect()
}

/// The stored form of a code: SHA-256 of the reader id and the code, so
/// that one table of hashes of every eight-digit number does not read
/// every reader's code at once.
pub fn hash_code(reader_id: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(reader_id.as_bytes());
    hasher.update(b":");
    hasher.update(code.as_bytes());
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A code as a person typed it: spaces and dashes (the slip prints the
/// code in two groups) dropped. `None` unless eight digits remain.
pub fn typed_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The reader's guardian contact that `given` names: after trimming,
/// phones compare by their digits only, e-mail addresses without regard
/// to case. Only contacts of guardians count.
pub fn matching_guardian_contact<'a>(given: &str, contacts: &'a [ContactRow]) -> Option<&'a ContactRow> {
    let given = given.trim();
    if given.is_empty() {
        return None;
    }
    let given_digits = digits(given);
    contacts.iter().filter(|contact| contact.who == "guardian").find(|contact| {
        let stored = contact.value.trim();
        match contact.channel.as_str() {
            "phone" => !given_digits.is_empty() && digits(stored) == given_digits,
            "email" => stored.to_lowercase() == given.to_lowercase(),
            _ => stored == given,
        }
    })
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A short label telling a family's WeChat accounts apart ("微信 #3F9A"):
/// the end of the account's Lectern id, which is random and says nothing
/// about the openid.
pub fn account_label(account_id: &str) -> String {
    let tail: String = account_id.chars().filter(char::is_ascii_hexdigit).collect();
    let start = tail.len().saturating_sub(4);
    format!("微信 #{}", tail[start..].to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(who: &str, channel: &str, value: &str) -> ContactRow {
        ContactRow {
            id: format!("c-{value}"),
            reader_id: "r-1".into(),
            who: who.into(),
            channel: channel.into(),
            value: value.into(),
            label: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        }
    }

    #[test]
    fn a_guardian_phone_matches_by_its_digits() {
        let contacts =
            [contact("reader", "phone", "13900100002"), contact("guardian", "phone", "139 0010 0002")];
        let found =
            matching_guardian_contact(" 139-0010-0002 ", &contacts).map(|contact| contact.id.as_str());
        assert_eq!(found, Some("c-139 0010 0002"));
        assert!(matching_guardian_contact("13900100003", &contacts).is_none());
    }

    #[test]
    fn a_guardian_email_matches_without_regard_to_case() {
        let contacts = [contact("guardian", "email", "ren.mama@example.cn")];
        assert!(matching_guardian_contact("  Ren.Mama@Example.CN ", &contacts).is_some());
        assert!(matching_guardian_contact("ren.baba@example.cn", &contacts).is_none());
    }

    #[test]
    fn only_guardian_contacts_count() {
        let contacts =
            [contact("reader", "email", "kid@example.cn"), contact("homeroom_teacher", "phone", "139")];
        assert!(matching_guardian_contact("kid@example.cn", &contacts).is_none());
        assert!(matching_guardian_contact("139", &contacts).is_none());
        assert!(matching_guardian_contact("", &[contact("guardian", "email", "")]).is_none());
    }

    #[test]
    fn codes_are_eight_digits_and_typed_codes_forgive_spaces() {
        let code = new_code();
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(typed_code(" 1234 5678 ").as_deref(), Some("12345678"));
        assert_eq!(typed_code("1234-5678").as_deref(), Some("12345678"));
        assert_eq!(typed_code("1234567"), None);
        assert_eq!(typed_code("1234567a"), None);
    }

    #[test]
    fn code_hashes_differ_per_reader() {
        assert_ne!(hash_code("r-1", "12345678"), hash_code("r-2", "12345678"));
        assert_eq!(hash_code("r-1", "12345678"), hash_code("r-1", "12345678"));
    }

    #[test]
    fn the_account_label_shows_the_end_of_the_id() {
        assert_eq!(account_label("0193a0b2-0000-7000-8000-00000000abcd"), "微信 #ABCD");
    }
}
