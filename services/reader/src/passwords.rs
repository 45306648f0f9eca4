//! Staff passwords: argon2id hashes (argon2's defaults, m=19456 KiB, t=2,
//! p=1, stored as PHC strings so the parameters can grow later), the rules
//! a new password must meet, one-time passwords for a first sign-in, and a
//! constant-time comparison for the service key.
//!
//! Hashing and verifying take tens of milliseconds of CPU and 19 MiB on
//! purpose: run them through [`off_runtime`], never on the async runtime.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng as _;
use tokio::sync::Semaphore;

use crate::error::Error;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 10;
/// The most characters a password may have (argon2 takes any length; this
/// keeps a single sign-in from costing much more than another).
pub const MAX_CHARS: usize = 200;
/// Length of generated one-time passwords.
const ONE_TIME_CHARS: usize = 16;
/// Letters and digits without look-alikes (0/O/o, 1/l/I/i), so a one-time
/// password read off a screen or a slip of paper is typed right.
const ONE_TIME_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

/// Runs password work on the blocking pool, as many at a time as there are
/// cores: a burst of sign-ins then queues here instead of taking every
/// database connection or gigabytes of memory.
pub async fn off_runtime<T, F>(work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, Error> + Send + 'static,
{
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    let permits =
        PERMITS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));
    let _permit = permits.acquire().await.map_err(|error| Error::Internal(error.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Error::Internal(format!("password work failed: {error}")))?
}

/// Hashes `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| format!("cannot hash password: {error}"))
}

/// Whether `password` matches the stored `hash`. A hash that cannot be read
/// matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(error) => {
            tracing::error!(%error, "a stored password hash cannot be read");
            false
        }
    }
}

/// Spends as long as [`verify`] does and matches nothing: used for unknown
/// usernames, so the answer's timing does not tell which usernames exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not the password of any account").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// Why `password` may not become a password, if it may not.
pub fn weakness(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        Some(format!("a password needs at least {MIN_CHARS} characters"))
    } else if chars > MAX_CHARS {
        Some(format!("a password may have at most {MAX_CHARS} characters"))
    } else {
        None
    }
}

/// A random one-time password for a new account.
pub fn one_time() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..ONE_TIME_CHARS)
        .map(|_| char::from(ONE_TIME_ALPHABET[rng.gen_range(0..ONE_TIME_ALPHABET.len())]))
        .collect()
}

/// Whether two secrets are equal, taking the same time wherever they
/// differ (only their lengths may show).
pub fn same_secret(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let difference = left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery!", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(stored, hash("correct horse battery").unwrap(), "salts differ");
        verify_nothing("anything");
    }

    #[test]
    fn passwords_need_ten_to_two_hundred_characters() {
        assert!(weakness("short").is_some());
        assert!(weakness("一二三四五六七八九").is_some());
        assert_eq!(weakness("一二三四五六七八九十"), None);
        assert_eq!(weakness(&"x".repeat(200)), None);
        assert!(weakness(&"x".repeat(201)).is_some());
    }

    #[test]
    fn one_time_passwords_avoid_look_alikes() {
        let password = one_time();
        assert_eq!(password.len(), 16);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!password.contains(['0', 'O', 'o', '1', 'l', 'I', 'i']));
        assert_ne!(password, one_time());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"district-key-123", b"district-key-123"));
        assert!(!same_secret(b"district-key-123", b"district-key-124"));
        assert!(!same_secret(b"district-key-123", b"district-key-12"));
        assert!(!same_secret(b"", b"x"));
        assert!(same_secret(b"", b""));
    }
}
