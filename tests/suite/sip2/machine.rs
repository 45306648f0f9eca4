//! A self-check machine in a few lines: raw SIP2 over TCP, written here
//! from the REFERENCE (checksum over the bytes, `AY`/`AZ`, CR) and not
//! with the gateway's codec, so the tests check the wire and not the codec
//! against itself. Reading an answer has a deadline; a test never sleeps.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long an answer may take on a busy two-core machine.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

/// An 18-character SIP2 date for `n`: the same `n` gives the same date
/// (a machine's resend), different ones differ (distinct transactions).
pub fn date(n: u32) -> String {
    format!("20261207    {:02}{:02}{:02}", (n / 3600) % 24, (n / 60) % 60, n % 60)
}

/// A blank SIP2 date.
pub const NO_DATE: &str = "                  ";

/// The SIP2 checksum of `bytes` (everything up to and including `AZ`).
pub fn checksum(bytes: &[u8]) -> String {
    let sum = bytes.iter().fold(0u16, |sum, byte| sum.wrapping_add(u16::from(*byte)));
    format!("{:04X}", sum.wrapping_neg())
}

/// `message` sealed with sequence number `seq` and its checksum, then CR.
pub fn sealed(message: &str, seq: u8) -> Vec<u8> {
    let mut bytes = format!("{message}AY{seq}AZ").into_bytes();
    let sum = checksum(&bytes);
    bytes.extend_from_slice(sum.as_bytes());
    bytes.push(b'\r');
    bytes
}

/// A connection of a self-check machine.
pub struct Machine {
    stream: TcpStream,
    buffer: Vec<u8>,
    seq: u8,
}

impl Machine {
    pub async fn connect(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.expect("the SIP2 port accepts");
        stream.set_nodelay(true).expect("no delay");
        Self { stream, buffer: Vec::new(), seq: 0 }
    }

    /// A machine logged in as `device_id` with `key`.
    pub async fn logged_in(address: SocketAddr, device_id: &str, key: &str) -> Self {
        let mut machine = Self::connect(address).await;
        assert!(machine.login(device_id, key).await, "the device logs in");
        machine
    }

    /// Sends raw bytes; false if the connection is gone.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// The next answer (without its terminator), `None` when the server
    /// closed the connection. Panics after [`ANSWER_DEADLINE`].
    pub async fn answer(&mut self) -> Option<String> {
        let line = tokio::time::timeout(ANSWER_DEADLINE, async {
            loop {
                if let Some(end) = self.buffer.iter().position(|byte| *byte == b'\r' || *byte == b'\n') {
                    let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
                    // A CR LF's LF is the end of this answer, not an empty one.
                    if self.buffer.first() == Some(&b'\n') {
                        self.buffer.remove(0);
                    }
                    return Some(line);
                }
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
                }
            }
        })
        .await
        .expect("an answer or a closed connection within the deadline")?;
        Some(String::from_utf8(line).expect("answers to an UTF-8 machine are UTF-8"))
    }

    /// Whether the server closes the connection without answering more
    /// (answers still on the way are skipped).
    pub async fn closed(&mut self) -> bool {
        loop {
            match self.answer().await {
                None => return true,
                Some(answer) if answer.starts_with("96") || answer.starts_with("94") => {}
                Some(answer) => panic!("expected the connection to close, got {answer:?}"),
            }
        }
    }

    /// Whether the connection stays open, with nothing sent to it, for
    /// `span`: watches the socket (a close ends the watch at once), so the
    /// wait is the machine's own pacing, not a sleep.
    pub async fn open_for(&mut self, span: Duration) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(span, self.stream.read(&mut chunk)).await {
            Err(_) => true,
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(read)) => panic!("nothing was asked, got {:?}", String::from_utf8_lossy(&chunk[..read])),
        }
    }

    /// Sends `message` with error detection (the next sequence number and
    /// the checksum) and returns the answer, checked: its checksum is
    /// right and it echoes the sequence number.
    pub async fn ask(&mut self, message: &str) -> String {
        let seq = self.seq;
        self.seq = (self.seq + 1) % 10;
        assert!(self.send(&sealed(message, seq)).await, "the connection is open");
        let answer = self.answer().await.unwrap_or_else(|| panic!("no answer to {message:?}"));
        assert_sealed(&answer, Some(seq));
        answer
    }

    /// Sends `message` without error detection and returns the answer.
    pub async fn ask_plain(&mut self, message: &str) -> Option<String> {
        if !self.send(format!("{message}\r").as_bytes()).await {
            return None;
        }
        self.answer().await
    }

    /// 93 with the device's id and key; whether 94 said yes.
    pub async fn login(&mut self, device_id: &str, key: &str) -> bool {
        let answer = self.ask(&format!("9300CN{device_id}|CO{key}|CPlibrary door|")).await;
        assert!(answer.starts_with("94"), "{answer:?}");
        &answer[2..3] == "1"
    }

    /// 63 for `card` with `pin` (AD).
    pub async fn patron(&mut self, card: &str, pin: &str) -> String {
        let answer = self.ask(&format!("63001{}          AO|AA{card}|AD{pin}|", date(0))).await;
        assert!(answer.starts_with("64"), "{answer:?}");
        answer
    }

    /// 11 of `item` for `card` (the connection's patron), dated `when`.
    pub async fn checkout(&mut self, card: &str, item: &str, when: &str) -> String {
        let answer = self.ask(&checkout_message(card, item, when)).await;
        assert!(answer.starts_with("12"), "{answer:?}");
        answer
    }
}

/// An 11 Checkout of `item` for `card`, dated `when`.
pub fn checkout_message(card: &str, item: &str, when: &str) -> String {
    format!("11NN{when}{NO_DATE}AO|AA{card}|AB{item}|AC|")
}

/// Asserts that `answer` ends in `AY<seq>AZ<checksum>` with a right
/// checksum (the sequence number only when `seq` is given).
#[track_caller]
pub fn assert_sealed(answer: &str, seq: Option<u8>) {
    let at = answer.rfind("AZ").unwrap_or_else(|| panic!("no AZ in {answer:?}"));
    let (body, sum) = answer.split_at(at + 2);
    assert_eq!(checksum(body.as_bytes()), sum, "checksum of {answer:?}");
    if let Some(seq) = seq {
        assert!(body.ends_with(&format!("AY{seq}AZ")), "sequence {seq} not echoed in {answer:?}");
    }
}

/// `answer` without its `AY…AZ…` tail.
pub fn unsealed(answer: &str) -> &str {
    answer.rfind("AY").map_or(answer, |at| &answer[..at])
}

/// The values of the variable field `id` in `answer`, whose fixed part is
/// `fixed` characters long after the message code.
pub fn fields(answer: &str, fixed: usize, id: &str) -> Vec<String> {
    let variable = unsealed(answer).get(2 + fixed..).unwrap_or_default();
    variable.split('|').filter_map(|field| field.strip_prefix(id)).map(str::to_owned).collect()
}

/// The one value of field `id`, if the answer has it.
pub fn field(answer: &str, fixed: usize, id: &str) -> Option<String> {
    fields(answer, fixed, id).into_iter().next()
}

/// Fixed-part lengths (after the code) of the answers the tests read.
pub const FIXED_64: usize = 14 + 3 + 18 + 6 * 4;
pub const FIXED_12: usize = 4 + 18;
pub const FIXED_10: usize = 4 + 18;
pub const FIXED_24: usize = 14 + 3 + 18;
pub const FIXED_66: usize = 1 + 4 + 4 + 18;
pub const FIXED_38: usize = 1 + 18;
pub const FIXED_16: usize = 1 + 1 + 18;

/// Whether a 12 says the book was lent.
pub fn lent(answer: &str) -> bool {
    answer.starts_with("121")
}

#[test]
fn the_worked_checksum_of_the_reference() {
    assert_eq!(checksum(b"9900302.00AY1AZ"), "FCA5");
    assert_eq!(sealed("9900302.00", 1), b"9900302.00AY1AZFCA5\r");
    assert_sealed("9900302.00AY1AZFCA5", Some(1));
    assert_eq!(
        field("121NNY20261207    120000AOx|AAR1|ABP1|AJ草房子|AH2026-12-21|AY1AZ0000", 22, "AJ"),
        Some("草房子".into())
    );
}
