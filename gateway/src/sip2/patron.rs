//! The patron at the machine, and the messages about their session: 35
//! End Patron Session, and 01/25 (refused: a machine does not block or
//! unblock a child's card).
//!
//! A card with a PIN (`AD`) signs the reader in at the device — the
//! gateway's `Login` with the device's token, so the PIN counts towards
//! the shared lockout and a reader of another school is refused — and that
//! reader stays the connection's patron until 35 or another card. A
//! message without `AD` acts for that patron when its card (`AA`) is
//! theirs; otherwise a card-only device signs the card in alone, and any
//! other device answers "please enter your PIN". A PIN sent again with
//! every message is not checked again while it is the one that signed the
//! patron in (only a hash of it is kept, for the connection's life).
//!
//! The reader service answers an unknown card and a wrong PIN alike (so no
//! one learns which cards exist); both are `BL N`, `CQ N` here, with a
//! sentence that says "card or PIN". No name, card or PIN is ever logged.

use lectern_core::refusal::Reason;
use lectern_sip2::request::{BlockPatron, EndPatronSession, PatronEnable};
use lectern_sip2::response::{
    CheckoutResponse, EndSessionResponse, FeePaidResponse, HoldResponse, PatronStatusFlags,
    PatronStatusResponse, RenewAllResponse, Response,
};
use sha2::{Digest, Sha256};

use super::services::{Token, reason_of};
use super::session::Session;

/// The reader signed in at the machine.
#[derive(Debug, Clone)]
pub struct Patron {
    /// The card as the machine sent it.
    pub card: String,
    /// The reader.
    pub reader_id: String,
    /// The reader's token at this device.
    pub token: Token,
    /// A hash of the card and PIN that signed them in (none: card alone).
    pin_hash: Option<[u8; 32]>,
}

/// Why no patron may act for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPatron {
    /// BL: `Some(false)` for an unknown card (or a wrong PIN, which the
    /// service does not tell apart), `Some(true)` for a card that exists
    /// but may not act now (locked), `None` when not known.
    pub valid: Option<bool>,
    /// The screen message.
    pub message: String,
}

fn pin_hash(card: &str, pin: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(card.as_bytes());
    hash.update([0]);
    hash.update(pin.as_bytes());
    hash.finalize().into()
}

impl Session {
    /// The patron a message with card `card` (and PIN `pin`, if `AD` came)
    /// acts for.
    pub(super) async fn patron_for(&mut self, card: &str, pin: Option<&str>) -> Result<Patron, NoPatron> {
        let words = self.words();
        let card = card.trim();
        let Some(device) = self.device.as_ref() else {
            return Err(NoPatron { valid: None, message: words.text("no_patron") });
        };
        if card.is_empty() {
            return Err(NoPatron { valid: Some(false), message: words.text("no_patron") });
        }
        let card_only = device.card_only;
        // An empty AD is no PIN at all.
        let pin = pin.filter(|pin| !pin.is_empty());
        let current = self.patron.as_ref().filter(|patron| patron.card == card);
        match (pin, current) {
            (None, Some(patron)) => return Ok(patron.clone()),
            (Some(pin), Some(patron)) if patron.pin_hash == Some(pin_hash(card, pin)) => {
                return Ok(patron.clone());
            }
            _ => {}
        }
        // Another card, or a PIN to check: whoever was signed in is no longer.
        self.end_patron().await;
        let pin = match pin {
            Some(pin) => pin,
            None if card_only => "",
            None => return Err(NoPatron { valid: None, message: words.text("enter_pin") }),
        };
        let Some(device) = self.device.as_ref() else {
            return Err(NoPatron { valid: None, message: words.text("no_patron") });
        };
        match self.services.reader_login(&device.token.access, card, pin).await {
            Ok(signed_in) => {
                let patron = Patron {
                    card: card.to_owned(),
                    reader_id: signed_in.subject_id.clone(),
                    token: Token::of(&signed_in),
                    pin_hash: (!pin.is_empty()).then(|| pin_hash(card, pin)),
                };
                tracing::info!(reader.id = %patron.reader_id, "reader signed in at the SIP2 machine");
                self.patron = Some(patron.clone());
                Ok(patron)
            }
            Err(status) => {
                let reason = reason_of(&status);
                tracing::info!(reason = ?reason, code = ?status.code(), "reader sign-in at the SIP2 machine refused");
                Err(match reason {
                    // Without a PIN only the card can be wrong.
                    Some(Reason::CredentialsInvalid) if pin.is_empty() => {
                        NoPatron { valid: Some(false), message: words.text("unknown_card") }
                    }
                    Some(Reason::CredentialsInvalid) => {
                        NoPatron { valid: Some(false), message: words.text("wrong_card_or_pin") }
                    }
                    Some(Reason::DeviceNotAllowed) => {
                        NoPatron { valid: Some(false), message: words.refusal(&status) }
                    }
                    Some(_) => NoPatron { valid: Some(true), message: words.refusal(&status) },
                    None => NoPatron { valid: None, message: words.refusal(&status) },
                })
            }
        }
    }

    /// 35: the patron's session ends.
    pub(super) async fn end_patron_session(&mut self, message: EndPatronSession) -> Response {
        let words = self.words();
        self.end_patron().await;
        Response::EndSession(EndSessionResponse {
            end_session: true,
            date: self.now(),
            institution_id: self.institution(&message.institution_id),
            patron_id: message.patron_id,
            screen_messages: vec![words.text("goodbye")],
            print_lines: Vec::new(),
        })
    }

    /// 01: a machine does not block a card; answered with the patron's
    /// status as it is, and a sentence.
    pub(super) fn block_patron(&mut self, message: BlockPatron) -> Response {
        tracing::info!("SIP2 block patron refused: cards are blocked at the desk");
        Response::PatronStatus(self.unchanged_status(&message.institution_id, &message.patron_id))
    }

    /// 25: a machine does not unblock a card either.
    pub(super) fn patron_enable(&mut self, message: PatronEnable) -> Response {
        tracing::info!("SIP2 patron enable refused: cards are unblocked at the desk");
        Response::PatronEnable(self.unchanged_status(&message.institution_id, &message.patron_id))
    }

    fn unchanged_status(&self, institution: &str, card: &str) -> PatronStatusResponse {
        let words = self.words();
        PatronStatusResponse {
            patron_status: PatronStatusFlags::all_denied(),
            language: words.sip2_language().to_owned(),
            date: self.now(),
            institution_id: self.institution(institution),
            patron_id: card.to_owned(),
            screen_messages: vec![words.text("not_supported")],
            ..PatronStatusResponse::default()
        }
    }

    /// The patron a message with card `card` (and PIN `pin`) acts for, as
    /// [`Session::patron_for`], said in `answer`: when refused, BL as the
    /// refusal has it, CQ `N` and why in AF, and `None`; when found, BL `Y`
    /// and CQ `pin_valid` (where the answer has BL and CQ).
    pub(super) async fn patron_answering(
        &mut self,
        card: &str,
        pin: Option<&str>,
        answer: &mut impl PatronAnswer,
        pin_valid: Option<bool>,
    ) -> Option<Patron> {
        match self.patron_for(card, pin).await {
            Ok(patron) => {
                if let Some((valid_patron, valid_patron_password)) = answer.validity() {
                    *valid_patron = Some(true);
                    *valid_patron_password = pin_valid;
                }
                Some(patron)
            }
            Err(refused) => {
                if let Some((valid_patron, valid_patron_password)) = answer.validity() {
                    *valid_patron = refused.valid;
                    *valid_patron_password = Some(false);
                }
                answer.screen_messages().push(refused.message);
                None
            }
        }
    }
}

/// An answer about the patron of a message: its AF, and its BL and CQ
/// where the answer has them.
pub(super) trait PatronAnswer {
    /// AF.
    fn screen_messages(&mut self) -> &mut Vec<String>;

    /// BL (valid patron) and CQ (valid patron password), if the answer has
    /// them.
    fn validity(&mut self) -> Option<(&mut Option<bool>, &mut Option<bool>)> {
        None
    }
}

macro_rules! patron_answer {
    ($($answer:ty),* ; with validity $($valid:ty),*) => {
        $(impl PatronAnswer for $answer {
            fn screen_messages(&mut self) -> &mut Vec<String> {
                &mut self.screen_messages
            }
        })*
        $(impl PatronAnswer for $valid {
            fn screen_messages(&mut self) -> &mut Vec<String> {
                &mut self.screen_messages
            }

            fn validity(&mut self) -> Option<(&mut Option<bool>, &mut Option<bool>)> {
                Some((&mut self.valid_patron, &mut self.valid_patron_password))
            }
        })*
    };
}

patron_answer!(
    FeePaidResponse, HoldResponse, RenewAllResponse;
    with validity CheckoutResponse, PatronStatusResponse
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_hash_depends_on_card_and_pin() {
        assert_eq!(pin_hash("R100005", "0005"), pin_hash("R100005", "0005"));
        assert_ne!(pin_hash("R100005", "0005"), pin_hash("R100005", "0006"));
        assert_ne!(pin_hash("R10000", "50005"), pin_hash("R100005", "0005"));
    }
}
