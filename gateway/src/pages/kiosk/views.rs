//! The kiosk's screens as askama templates (`gateway/templates/kiosk/`),
//! each holding only what it shows, already in the reader's words. Every
//! screen sits in the kiosk's own frame ([`KioskShell`], `kiosk/layout.html`),
//! which has no link to any staff page.

use askama::Template;

use crate::pages::i18n::{Lang, Texts};

/// What the kiosk's frame needs.
#[derive(Debug, Clone, Default)]
pub struct KioskShell {
    pub lang: Lang,
    pub csrf: String,
    /// The screen's name, for the script and the styles ("welcome", "pin",
    /// "borrow", "finish", "returns", "setup").
    pub screen: &'static str,
    /// The header's words: the school's library or the kiosk's label.
    pub place: String,
    /// Whether a reader is signed in (the script's idle timer then signs
    /// them out; without it, the page reloads `/kiosk` after the limit).
    pub signed_in: bool,
    pub idle_seconds: u64,
    /// Whether the screen is in another language than the kiosk's own.
    pub foreign: bool,
}

impl KioskShell {
    pub fn texts(&self) -> Texts {
        Texts::new(self.lang)
    }

    /// Where the language switch comes back to.
    pub fn back(&self) -> &'static str {
        if self.screen == "returns" { "/kiosk/returns" } else { "/kiosk" }
    }

    /// Seconds before a page without its script reloads the start (where
    /// the server signs an idle reader out); 0 for the welcome and set-up
    /// screens, which wait as long as need be.
    pub fn reload_after(&self) -> u64 {
        if self.screen == "welcome" || self.screen == "setup" { 0 } else { self.idle_seconds + 1 }
    }

    /// Where that reload goes: the start, saying why when a reader was in.
    pub fn reload_to(&self) -> &'static str {
        if self.signed_in { "/kiosk?bye=idle" } else { "/kiosk" }
    }
}

/// The answer to one action: a yes or a no, in big words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// "借好了！" / "这本书借不了".
    pub headline: String,
    /// The book's title, if known.
    pub title: String,
    /// The due day, the reason, what to do.
    pub details: Vec<String>,
}

impl Outcome {
    pub fn yes(headline: String, title: String, details: Vec<String>) -> Self {
        Self { ok: true, headline, title, details }
    }

    pub fn no(headline: String, title: String, details: Vec<String>) -> Self {
        Self { ok: false, headline, title, details }
    }

    /// The outcome for the script's sound and the styles.
    pub fn kind(&self) -> &'static str {
        if self.ok { "yes" } else { "no" }
    }
}

/// `GET /kiosk` with nobody signed in: scan your card; or return books.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/welcome.html")]
pub struct WelcomePage {
    pub shell: KioskShell,
    /// A goodbye or why the last reader was signed out.
    pub notice: Option<String>,
    /// What went wrong with the card just scanned.
    pub outcome: Option<Outcome>,
    /// Whether readers sign in by card alone (no PIN step to show).
    pub card_only: bool,
}

/// The PIN pad, after a card was scanned at a kiosk that asks for a PIN.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/pin.html")]
pub struct PinPage {
    pub shell: KioskShell,
    /// The card scanned, sent back with the PIN (never kept in a cookie).
    pub card: String,
    pub error: Option<String>,
}

/// One book the reader has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanLine {
    pub id: String,
    pub title: String,
    /// "12月21日 周一".
    pub due: String,
    pub overdue: bool,
}

/// `GET /kiosk` with a reader signed in: scan books, renew, holds ready.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/borrow.html")]
pub struct BorrowPage {
    pub shell: KioskShell,
    pub name: String,
    pub outcome: Option<Outcome>,
    pub loans: Vec<LoanLine>,
    /// One sentence per hold waiting on the hold shelf.
    pub holds_ready: Vec<String>,
    /// What stops them borrowing now, in the kiosk's words.
    pub blocks: Vec<String>,
    pub request_id: String,
}

/// After "I'm done": the books they have, a receipt to print, goodbye.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/finish.html")]
pub struct FinishPage {
    pub shell: KioskShell,
    pub name: String,
    pub loans: Vec<LoanLine>,
    /// Whether the kiosk has a receipt printer.
    pub printer: bool,
    /// When the receipt was made, "2026年12月7日 18:05".
    pub printed: String,
}

/// One book at the kiosk's return mode.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/return_line.html")]
pub struct ReturnLine {
    pub shell: KioskShell,
    pub outcome: Outcome,
    /// Where to put it, for the styles: "box", "teacher" or "no".
    pub place: &'static str,
}

/// `/kiosk/returns`: scan books back without a card.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/returns.html")]
pub struct ReturnsPage {
    pub shell: KioskShell,
    /// The answers so far, newest first (without the script: the last).
    pub lines: Vec<ReturnLine>,
    pub request_id: String,
}

/// A registered kiosk to choose at the set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChoice {
    pub id: String,
    pub label: String,
}

/// `/kiosk/setup`: make this browser a kiosk.
#[derive(Debug, Clone, Template)]
#[template(path = "kiosk/setup.html")]
pub struct SetupPage {
    pub shell: KioskShell,
    /// Whether a staff member is signed in (then `devices` lists their kiosks).
    pub staff: bool,
    pub devices: Vec<DeviceChoice>,
    /// The device chosen or typed last.
    pub device_id: String,
    pub printer: bool,
    /// What this browser is set up as already, if it is.
    pub current: Option<String>,
    /// What went wrong, as (field id, sentence); the field may be empty.
    pub errors: Vec<(String, String)>,
}

impl SetupPage {
    /// The message about `field`, if there is one.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(name, _)| name == field).map(|(_, text)| text.as_str())
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;

    pub fn shell(lang: Lang, screen: &'static str, signed_in: bool) -> KioskShell {
        KioskShell {
            lang,
            csrf: "csrf-token".to_owned(),
            screen,
            place: "徐汇区实验小学图书馆".to_owned(),
            signed_in,
            idle_seconds: 30,
            foreign: false,
        }
    }
}
