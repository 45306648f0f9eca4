//! One connection's state and its front door: every frame is checked
//! (checksum), decoded in the device's character set, answered from the
//! cache when it repeats the last message, and otherwise parsed and handed
//! to the handler of its message group.
//!
//! The state is what a machine builds up by talking: the device it logged
//! in as (its token, school and settings, read with `GetDevice` after the
//! 93), whether it uses error detection (from the first `AY`/`AZ` it
//! sends, for the rest of the connection), the patron signed in at it (see
//! `patron.rs`), and the last message and answer, for `97` and for a
//! message sent twice after a lost answer. Before a successful login only
//! 93, 99 and 97 are answered; three failed logins close the connection.

use lectern_proto::reader::v1::{DeviceCharset, DeviceKind};
use lectern_sip2::Charset;
use lectern_sip2::SipDate;
use lectern_sip2::Terminator;
use lectern_sip2::request::{Login, ParseError, Request};
use lectern_sip2::response::{AcsStatus, LoginResponse, Response, SupportedMessages};
use lectern_sip2::{Check, verify};

use super::Edge;
use super::limits::DeviceSlot;
use super::patron::Patron;
use super::services::{Services, Token};
use super::words::Words;

/// Failed logins after which the connection is closed.
const MAX_FAILED_LOGINS: u32 = 3;

/// Unreadable frames in a row after which the connection is closed: a
/// machine that sends nothing but garbage is not a self-check machine.
const MAX_BAD_FRAMES: u32 = 10;

/// A device token is renewed (by logging in again with the key) this long
/// before it expires; machines stay connected for hours.
const TOKEN_MARGIN_SECS: i64 = 300;

/// The messages Lectern answers (BX of the 98).
pub const SUPPORTED: [&str; 13] =
    ["23", "11", "09", "99", "97", "93", "63", "35", "37", "17", "15", "29", "65"];

/// What the connection does after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send these bytes, then close.
    SendAndClose(Vec<u8>),
    /// Send nothing (a message not answered before login).
    Nothing,
}

/// The device a connection logged in as.
#[derive(Debug)]
pub struct Device {
    /// Its id (also in the connection's tracing span).
    pub id: String,
    /// Its key, kept to sign in again when the token nears its end.
    key: String,
    /// Its token: what the return box acts with.
    pub token: Token,
    /// Its school.
    pub school_id: String,
    /// Where it stands ("自助借还机").
    pub label: String,
    /// Whether readers sign in by card alone.
    pub card_only: bool,
    /// Its language's texts.
    pub words: Words,
    /// Its character set.
    pub charset: Charset,
    /// Its line ending.
    pub terminator: Terminator,
    /// Its place among the device's connections.
    _slot: DeviceSlot,
}

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    pub(super) edge: Edge,
    pub(super) services: Services,
    pub(super) device: Option<Device>,
    pub(super) patron: Option<Patron>,
    /// The district's schools (id, name), read when first needed.
    pub(super) schools: Option<Vec<(String, String)>>,
    failed_logins: u32,
    bad_frames: u32,
    error_detection: bool,
    /// The last message (its bytes as received) and the answer sent to it.
    last_request: Option<Vec<u8>>,
    last_answer: Option<Vec<u8>>,
}

impl Session {
    /// A connection that has not logged in.
    pub fn new(edge: Edge) -> Self {
        let services = edge.services();
        Session {
            edge,
            services,
            device: None,
            patron: None,
            schools: None,
            failed_logins: 0,
            bad_frames: 0,
            error_detection: false,
            last_request: None,
            last_answer: None,
        }
    }

    /// Whether a device logged in on this connection.
    pub fn logged_in(&self) -> bool {
        self.device.is_some()
    }

    fn charset(&self) -> Charset {
        self.device.as_ref().map_or(Charset::Utf8, |device| device.charset)
    }

    fn terminator(&self) -> Terminator {
        self.device.as_ref().map_or(Terminator::Cr, |device| device.terminator)
    }

    /// The device's words (Chinese before login).
    pub(super) fn words(&self) -> Words {
        self.device.as_ref().map_or_else(Words::default, |device| device.words)
    }

    /// `96`: the frame could not be read; send it again.
    fn resend_please(&self) -> Vec<u8> {
        Response::RequestScResend.to_wire(Charset::Utf8, None, self.error_detection, self.terminator())
    }

    /// A line longer than the frame limit: answered with `96` once.
    pub fn on_too_long(&mut self) -> Reply {
        tracing::info!("SIP2 message longer than the frame limit; dropped");
        super::metrics::message(None, "unreadable");
        self.bad_frame()
    }

    fn bad_frame(&mut self) -> Reply {
        self.bad_frames += 1;
        if self.bad_frames >= MAX_BAD_FRAMES {
            tracing::info!(frames = self.bad_frames, "too many unreadable SIP2 messages in a row; closing");
            return Reply::SendAndClose(self.resend_please());
        }
        Reply::Send(self.resend_please())
    }

    /// Handles one frame (without terminator).
    pub async fn on_frame(&mut self, frame: &[u8]) -> Reply {
        let received = verify(frame);
        if received.check == Check::Invalid {
            self.error_detection = true;
            tracing::debug!("SIP2 checksum does not match; asking for the message again");
            super::metrics::message(None, "unreadable");
            return self.bad_frame();
        }
        if received.error_detection() {
            self.error_detection = true;
        }
        let sequence = received.sequence;
        let text = self.charset().decode(received.body).into_owned();
        let request = match Request::parse(&text) {
            Ok(request) => request,
            Err(error) => return self.unreadable(&error, sequence),
        };
        self.bad_frames = 0;
        if let Request::RequestResend = request {
            super::metrics::message(Some(request.code()), "ok");
            return match &self.last_answer {
                Some(answer) => Reply::Send(answer.clone()),
                None => Reply::Send(self.resend_please()),
            };
        }
        // The same bytes again (same sequence number too): the machine lost
        // the answer. Status messages are answered afresh, they change nothing.
        if !matches!(request, Request::ScStatus(_) | Request::Login(_))
            && self.last_request.as_deref() == Some(frame)
            && let Some(answer) = &self.last_answer
        {
            tracing::debug!(code = request.code(), "repeated SIP2 message; sending the same answer again");
            super::metrics::message(Some(request.code()), "repeated");
            return Reply::Send(answer.clone());
        }
        let code = request.code();
        let (response, close) = self.answer(request).await;
        let Some(response) = response else {
            super::metrics::message(Some(code), "unanswered");
            return Reply::Nothing;
        };
        super::metrics::message(Some(code), super::metrics::outcome_of(&response));
        let bytes = response.to_wire(self.charset(), sequence, self.error_detection, self.terminator());
        if code != "99" {
            self.last_request = Some(frame.to_vec());
        }
        self.last_answer = Some(bytes.clone());
        if close { Reply::SendAndClose(bytes) } else { Reply::Send(bytes) }
    }

    /// A frame that does not parse: a broken login is a failed login,
    /// anything else gets `96`.
    fn unreadable(&mut self, error: &ParseError, sequence: Option<u8>) -> Reply {
        tracing::debug!(%error, "unreadable SIP2 message");
        super::metrics::message(error.code(), "unreadable");
        if error.code() == Some("93") {
            let close = self.login_failed();
            let answer = Response::Login(LoginResponse { ok: false }).to_wire(
                Charset::Utf8,
                sequence,
                self.error_detection,
                self.terminator(),
            );
            return if close { Reply::SendAndClose(answer) } else { Reply::Send(answer) };
        }
        self.bad_frame()
    }

    /// Counts a failed login; true when the connection should close.
    fn login_failed(&mut self) -> bool {
        self.failed_logins += 1;
        self.failed_logins >= MAX_FAILED_LOGINS
    }

    /// The answer to a parsed message, and whether to close after it.
    async fn answer(&mut self, request: Request) -> (Option<Response>, bool) {
        if let Request::Login(login) = request {
            let ok = self.log_in(login).await;
            let close = !ok && self.login_failed();
            return (Some(Response::Login(LoginResponse { ok })), close);
        }
        if !self.logged_in() {
            return match request {
                Request::ScStatus(_) => (Some(self.status(false)), false),
                other => {
                    tracing::debug!(code = other.code(), "SIP2 message before login; not answered");
                    (None, false)
                }
            };
        }
        self.keep_device_token().await;
        self.keep_patron_token();
        let response = match request {
            Request::ScStatus(_) => self.status(true),
            Request::PatronInformation(message) => self.patron_information(message).await,
            Request::PatronStatus(message) => self.patron_status(message).await,
            Request::EndPatronSession(message) => self.end_patron_session(message).await,
            Request::FeePaid(message) => self.fee_paid(message).await,
            Request::RenewAll(message) => self.renew_all(message).await,
            Request::BlockPatron(message) => self.block_patron(message),
            Request::PatronEnable(message) => self.patron_enable(message),
            Request::ItemInformation(message) => self.item_information(message).await,
            Request::Checkout(message) => self.checkout(message).await,
            Request::Checkin(message) => self.checkin(message).await,
            Request::Renew(message) => self.renew(message).await,
            Request::Hold(message) => self.hold(message).await,
            Request::ItemStatusUpdate(message) => self.item_status_update(message),
            // Handled above.
            Request::Login(_) | Request::RequestResend => Response::RequestScResend,
        };
        (Some(response), false)
    }

    /// 93: signs the device in with its id and key, reads its settings,
    /// and takes one of its connection places. Any failure is `940`.
    async fn log_in(&mut self, login: Login) -> bool {
        // A new login replaces whatever this connection was.
        self.end_patron().await;
        self.device = None;
        let device_id = login.user_id.trim().to_owned();
        let signed_in = match self.services.device_login(&device_id, &login.password).await {
            Ok(signed_in) => signed_in,
            Err(status) => {
                tracing::info!(code = ?status.code(), "SIP2 login refused");
                return false;
            }
        };
        let token = Token::of(&signed_in);
        let device = match self.services.device(&token.access, &signed_in.subject_id).await {
            Ok(device) => device,
            Err(status) => {
                tracing::warn!(code = ?status.code(), "a device signed in but cannot read its settings");
                return false;
            }
        };
        if device.kind() != DeviceKind::Sip2 || device.disabled {
            tracing::info!(device.id = %device.id, "SIP2 login refused: not an enabled SIP2 device");
            return false;
        }
        let max = self.edge.config().max_connections_per_device;
        let Some(slot) = DeviceSlot::take(&device.id, max) else {
            tracing::warn!(device.id = %device.id, max, "SIP2 login refused: the device has all its connections open");
            return false;
        };
        let settings = device.settings.clone().unwrap_or_default();
        let charset = match settings.charset() {
            DeviceCharset::Gb18030 => Charset::Gb18030,
            DeviceCharset::Cp850 => Charset::Cp850,
            DeviceCharset::Utf8 | DeviceCharset::Unspecified => Charset::Utf8,
        };
        tracing::Span::current().record("device.id", device.id.as_str());
        tracing::info!(charset = charset.name(), "SIP2 machine logged in");
        self.failed_logins = 0;
        self.device = Some(Device {
            id: device.id,
            key: login.password,
            token,
            school_id: device.school_id,
            label: device.label,
            card_only: settings.card_only,
            words: Words::of(&settings.language),
            charset,
            terminator: if settings.crlf { Terminator::CrLf } else { Terminator::Cr },
            _slot: slot,
        });
        true
    }

    /// Signs the device in again when its token nears its end; on failure
    /// the old token is kept and the calls say what is wrong.
    async fn keep_device_token(&mut self) {
        let now = self.edge.clock().now();
        let Some(device) = self.device.as_mut() else { return };
        if !device.token.expires_within(now, chrono::Duration::seconds(TOKEN_MARGIN_SECS)) {
            return;
        }
        match self.services.device_login(&device.id, &device.key).await {
            Ok(signed_in) => device.token = Token::of(&signed_in),
            Err(status) => tracing::warn!(code = ?status.code(), "renewing the SIP2 device's token failed"),
        }
    }

    /// Forgets a patron whose token is about to end: the machine signs
    /// them in again (PIN, or card alone) with its next message.
    fn keep_patron_token(&mut self) {
        let now = self.edge.clock().now();
        if self
            .patron
            .as_ref()
            .is_some_and(|patron| patron.token.expires_within(now, chrono::Duration::seconds(30)))
        {
            self.patron = None;
        }
    }

    /// 98: online and what is answered; before login, offline.
    fn status(&self, online: bool) -> Response {
        let device = self.device.as_ref();
        Response::AcsStatus(AcsStatus {
            online,
            checkin_ok: online,
            checkout_ok: online,
            acs_renewal_policy: false,
            status_update_ok: false,
            offline_ok: false,
            // Tenths of a second the machine waits for an answer.
            timeout_period: 100,
            retries_allowed: 3,
            date: self.now(),
            protocol_version: "2.00".to_owned(),
            institution_id: device.map(|device| device.school_id.clone()).unwrap_or_default(),
            library_name: None,
            supported_messages: SupportedMessages::from_codes(&SUPPORTED),
            terminal_location: device.map(|device| device.label.clone()),
            screen_messages: Vec::new(),
            print_lines: Vec::new(),
        })
    }

    /// Now as a SIP2 date in the district's local time.
    pub(super) fn now(&self) -> SipDate {
        self.edge.local_date(self.edge.clock().now())
    }

    /// The AO to answer with: the machine's own, or the device's school.
    pub(super) fn institution(&self, sent: &str) -> String {
        if sent.is_empty() {
            self.device.as_ref().map(|device| device.school_id.clone()).unwrap_or_default()
        } else {
            sent.to_owned()
        }
    }

    /// Signs the connection's patron out (the machine's 35, another card,
    /// a new login, the end of the connection).
    pub(super) async fn end_patron(&mut self) {
        if let Some(patron) = self.patron.take() {
            self.services.logout(&patron.token.access).await;
        }
    }

    /// The connection ended: the patron's session ends with it.
    pub async fn end(mut self) {
        self.end_patron().await;
    }
}

#[cfg(test)]
mod tests;
