//! The unsubscribe link in every message: a token that names a channel and
//! an address, signed with the service key so nobody can stop another
//! person's mail by guessing, and the opt-out it records. The reader's own
//! record is never touched: a guardian who opts out stops only their mail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use lectern_common::db::DbConnection;
use lectern_core::validate::FieldError;
use lectern_proto::notification::v1::Channel;
use sha2::Sha256;

use crate::db::schema::opt_outs;
use crate::triggers::{channel_name, channel_of};

type HmacSha256 = Hmac<Sha256>;

/// The token for the link in a message to `address` over `channel`:
/// base64url(channel "\n" address) "." base64url(HMAC-SHA256(key, first part)).
pub fn token(key: &str, channel: Channel, address: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(format!("{}\n{}", channel_name(channel), address.trim()));
    let signature = URL_SAFE_NO_PAD.encode(sign(key, &payload));
    format!("{payload}.{signature}")
}

/// The channel and address a token stands for, if it is one this service
/// signed. Refusals name the `token` field and never echo it.
pub fn verify(key: &str, token: &str) -> Result<(Channel, String), FieldError> {
    let refused = || FieldError::new("token", "is not a valid unsubscribe link");
    let (payload, signature) = token.trim().split_once('.').ok_or_else(refused)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| refused())?;
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).map_err(|_| refused())?;
    mac.update(payload.as_bytes());
    // Constant-time comparison: the signature is the proof.
    mac.verify_slice(&signature).map_err(|_| refused())?;
    let decoded = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (channel, address) = decoded.split_once('\n').ok_or_else(refused)?;
    let channel = channel_of(channel);
    if channel == Channel::Unspecified || address.is_empty() {
        return Err(refused());
    }
    Ok((channel, address.to_owned()))
}

/// An address partly hidden, so the page can say whose mail stopped
/// without showing it to whoever holds the link: "w***@example.cn",
/// "138****5678".
pub fn hint(address: &str) -> String {
    let address = address.trim();
    if let Some((local, domain)) = address.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let first: String = chars.iter().take(1).collect();
        format!("{first}***")
    }
}

/// Records that `address` wants nothing more over `channel`; a second
/// click changes nothing.
pub fn opt_out(
    connection: &mut DbConnection,
    channel: Channel,
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let channel = channel_name(channel);
    let address = address.trim();
    let exists = opt_outs::table.find((channel, address)).count().get_result::<i64>(connection)? > 0;
    if exists {
        return Ok(());
    }
    match diesel::insert_into(opt_outs::table)
        .values((opt_outs::channel.eq(channel), opt_outs::address.eq(address), opt_outs::created_at.eq(now)))
        .execute(connection)
    {
        Ok(_) => Ok(()),
        // Two clicks at once: the other one recorded it.
        Err(error) if lectern_common::db::is_unique_violation(&error) => Ok(()),
        Err(error) => Err(error),
    }
}

fn sign(key: &str, payload: &str) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(payload.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "service-key-for-tests";

    #[test]
    fn a_token_reads_back_as_its_channel_and_address() {
        let token = token(KEY, Channel::Email, "wang.fang@example.cn");
        assert_eq!(verify(KEY, &token).unwrap(), (Channel::Email, "wang.fang@example.cn".to_owned()));
        assert!(!token.contains('@'), "the link must not show the address in clear");
    }

    #[test]
    fn a_tampered_token_is_refused_naming_the_field() {
        let good = token(KEY, Channel::Email, "wang.fang@example.cn");
        let (payload, signature) = good.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode("email\nsomeone.else@example.cn");
        for bad in [
            format!("{other}.{signature}"),
            format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
            format!("{payload}x.{signature}"),
            payload.to_owned(),
            String::new(),
            "..".to_owned(),
        ] {
            assert_eq!(verify(KEY, &bad).unwrap_err().field, "token", "{bad}");
        }
        assert!(verify("another key", &good).is_err());
    }

    #[test]
    fn hints_hide_most_of_the_address() {
        assert_eq!(hint("wang.fang@example.cn"), "w***@example.cn");
        assert_eq!(hint("13812345678"), "138****5678");
        assert_eq!(hint("wx1"), "w***");
    }
}
