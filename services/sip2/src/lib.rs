//! Lectern's SIP2 codec: the 3M Standard Interchange Protocol 2.00 that
//! library self-check machines speak, without any I/O. The gateway's SIP2
//! edge (`gateway/src/sip2`) owns sockets, sessions and service calls; this
//! crate turns bytes into typed requests and typed answers into bytes, and
//! never panics on what a machine sends.
//!
//! # The pieces, in the order a message passes them
//!
//! 1. [`Framer`] splits a connection's bytes at CR, LF or CR LF, with a
//!    maximum length ([`DEFAULT_MAX_FRAME`], 64 KiB): a longer line is
//!    reported once as [`Frame::TooLong`] and dropped, never buffered.
//! 2. [`verify`] takes the error-detection tail off a frame:
//!    [`Received`] `{ body, sequence, check }`. The checksum is over the
//!    **bytes** on the wire (so it is checked before decoding).
//!    [`Check::Invalid`] → answer [`Response::RequestScResend`] (`96`) and
//!    act on nothing.
//! 3. [`Charset::decode`] makes the body text (UTF-8, GB18030 or cp850,
//!    from the device settings; a login arrives before the settings are
//!    known and is ASCII, so decode it as [`Charset::Utf8`]).
//! 4. [`Request::parse`] gives one typed struct per message (93 99 97 63 23
//!    17 11 09 29 65 35 37 15, and 19 01 25), or a [`ParseError`] that
//!    says which message and field was wrong ([`ParseError::code`] tells
//!    the message when it was recognised). [`Request::patron_id`],
//!    [`Request::patron_password`], [`Request::item_id`] and
//!    [`Request::transaction_date`] read the common fields of any message
//!    (for the session's patron check and the request-id derivation).
//! 5. An answer is a [`Response`] built from one of the response structs
//!    (all `Default`); [`Response::to_wire`] writes its text
//!    ([`Response::to_wire_text`]), encodes it in the machine's charset
//!    and [`seal`]s it with `AY<seq>AZ<checksum>` when the machine uses
//!    error detection, then adds the [`Terminator`] (CR, or CR LF).
//!
//! Values written into fields go through [`clean_value`] (`|` and control
//! characters replaced, cut at 255 bytes on a character boundary); screen
//! messages (AF) and print lines (AG) are split into several fields
//! instead ([`split_message`]). Dates are [`SipDate`]s, 18 characters
//! `YYYYMMDDZZZZHHMMSS`.
//!
//! # A server's loop, in short
//!
//! ```ignore
//! use lectern_sip2::*;
//!
//! let mut framer = Framer::new(DEFAULT_MAX_FRAME);
//! let charset = Charset::Utf8; // from the device settings after login
//! let terminator = Terminator::Cr; // Terminator::CrLf when `crlf`
//! loop {
//!     let n = stream.read(&mut buf).await?;
//!     if n == 0 { break; } // framer.has_partial(): a message without terminator, dropped
//!     framer.push(&buf[..n]);
//!     while let Some(frame) = framer.next_frame() {
//!         let Frame::Message(bytes) = frame else {
//!             // A line past the limit: answer 96 once (or close), with
//!             // error detection if the connection has been using it.
//!             let answer = Response::RequestScResend.to_wire(charset, None, uses_detection, terminator);
//!             stream.write_all(&answer).await?;
//!             continue;
//!         };
//!         let received = verify(&bytes);
//!         let detection = received.error_detection(); // remember: `uses_detection`
//!         if received.check == Check::Invalid {
//!             // With error detection this is the fixed `96AZFEF6`.
//!             let answer = Response::RequestScResend.to_wire(charset, None, true, terminator);
//!             stream.write_all(&answer).await?;
//!             continue;
//!         }
//!         let text = charset.decode(received.body);
//!         let answer: Response = match Request::parse(&text) {
//!             Ok(Request::ScStatus(_)) => Response::AcsStatus(AcsStatus {
//!                 online: true,
//!                 date: SipDate::local(now),
//!                 institution_id: "XH-PRI".into(),
//!                 supported_messages: SupportedMessages::from_codes(&["99", "93", "63", "11", "09"]),
//!                 ..Default::default()
//!             }),
//!             Ok(Request::Checkout(checkout)) => Response::Checkout(CheckoutResponse {
//!                 ok: false,
//!                 date: SipDate::local(now),
//!                 patron_id: checkout.patron_id,
//!                 item_id: checkout.item_id,
//!                 screen_messages: vec!["这本书属于另一所学校".into()],
//!                 ..Default::default()
//!             }),
//!             Ok(other) => answer(other), // the session's work
//!             // A login that does not parse is still a refused login.
//!             Err(error) if error.code() == Some("93") => Response::Login(LoginResponse { ok: false }),
//!             // Unknown or malformed: the gateway's choice (96 here).
//!             Err(_) => Response::RequestScResend,
//!         };
//!         // Keep these bytes: `97` asks for them again, byte for byte.
//!         let bytes = answer.to_wire(charset, received.sequence, detection, terminator);
//!         stream.write_all(&bytes).await?;
//!     }
//! }
//! ```
#![forbid(unsafe_code)]

mod charset;
mod check;
mod date;
mod field;
mod frame;
pub mod request;
pub mod response;

pub use charset::Charset;
pub use check::{Check, Received, checksum, seal, verify};
pub use date::{DATE_LEN, SipDate};
pub use field::{Fields, MAX_FIELD_BYTES, Writer, clean_value, split_message};
pub use frame::{DEFAULT_MAX_FRAME, Frame, Framer, Terminator};
pub use request::{
    BlockPatron, Checkin, Checkout, EndPatronSession, FeePaid, Hold, HoldMode, ItemInformation,
    ItemStatusUpdate, Login, ParseError, PatronEnable, PatronInformation, PatronStatus, Renew, RenewAll,
    Request, ScStatus, Summary,
};
pub use response::{
    AcsStatus, AlertType, CheckinResponse, CheckoutResponse, CirculationStatus, EndSessionResponse,
    FeePaidResponse, HoldResponse, ItemInformationResponse, ItemStatusUpdateResponse, LoginResponse,
    PatronInformationResponse, PatronStatusFlags, PatronStatusResponse, RenewAllResponse, Response, SortBin,
    SupportedMessages, language_code,
};
