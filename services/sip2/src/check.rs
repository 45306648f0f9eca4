//! Error detection: the `AY<seq>AZ<checksum>` tail of a message.
//!
//! The checksum is the two's complement of the sum of the message's
//! **bytes** in its wire encoding, from the first byte through the `AZ`
//! tag, as four upper-case, zero-padded hex digits. Kiosks that sum
//! characters instead of bytes break on non-ASCII text, which is why
//! everything here works on the encoded bytes and never on `str`.
//!
//! [`verify`] takes a frame apart (body, sequence digit, checksum state);
//! [`seal`] puts a body back together with the tail and the terminator.

use crate::frame::Terminator;

/// Whether a received frame carried a checksum and whether it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// No `AZ` tail: the machine does not use error detection.
    Absent,
    /// The checksum matched.
    Valid,
    /// A checksum was there but did not match (or was not four hex
    /// digits): answer `96` and act on nothing.
    Invalid,
}

/// A frame taken apart by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received<'a> {
    /// The message without the `AY`/`AZ` tail, still in the wire encoding.
    pub body: &'a [u8],
    /// The `AY` sequence digit (0–9), if the machine sent one.
    pub sequence: Option<u8>,
    /// The checksum's state.
    pub check: Check,
}

impl Received<'_> {
    /// Whether the machine uses error detection on this message (then the
    /// answer carries it too).
    pub fn error_detection(&self) -> bool {
        self.check != Check::Absent
    }
}

/// The checksum of `bytes` (everything up to and including `AZ`).
pub fn checksum(bytes: &[u8]) -> u16 {
    let sum = bytes.iter().fold(0u16, |sum, &b| sum.wrapping_add(u16::from(b)));
    sum.wrapping_neg()
}

/// Takes a frame (without terminator) apart. Never fails: a frame without
/// a tail is [`Check::Absent`], a wrong or malformed checksum
/// [`Check::Invalid`].
pub fn verify(frame: &[u8]) -> Received<'_> {
    let (head, check) = match frame.len().checked_sub(6) {
        Some(at) if &frame[at..at + 2] == b"AZ" => {
            let through_az = &frame[..at + 2];
            let check = match parse_hex4(&frame[at + 2..]) {
                Some(sent) if sent == checksum(through_az) => Check::Valid,
                _ => Check::Invalid,
            };
            (&frame[..at], check)
        }
        _ => (frame, Check::Absent),
    };
    let (body, sequence) = match head.len().checked_sub(3) {
        Some(at) if &head[at..at + 2] == b"AY" && head[at + 2].is_ascii_digit() => {
            (&head[..at], Some(head[at + 2] - b'0'))
        }
        _ => (head, None),
    };
    Received { body, sequence, check }
}

fn parse_hex4(hex: &[u8]) -> Option<u16> {
    if hex.len() != 4 {
        return None;
    }
    hex.iter().try_fold(0u16, |value, &b| {
        let digit = (b as char).to_digit(16)?;
        Some(value << 4 | digit as u16)
    })
}

/// A message ready for the wire: `body`, then with `error_detection`
/// `AY<sequence>` (when a sequence is given; taken modulo 10) and
/// `AZ<checksum>`, then the terminator. `seal(b"96", true, None, Cr)` is
/// the fixed `96AZFEF6\r`.
pub fn seal(body: &[u8], sequence: Option<u8>, error_detection: bool, terminator: Terminator) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 11);
    out.extend_from_slice(body);
    if error_detection {
        if let Some(sequence) = sequence {
            out.extend_from_slice(b"AY");
            out.push(b'0' + sequence % 10);
        }
        out.extend_from_slice(b"AZ");
        let sum = checksum(&out);
        out.extend_from_slice(format!("{sum:04X}").as_bytes());
    }
    out.extend_from_slice(terminator.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_from_the_reference() {
        assert_eq!(checksum(b"9900302.00AY1AZ"), 0xFCA5);
        let sealed = seal(b"9900302.00", Some(1), true, Terminator::Cr);
        assert_eq!(sealed, b"9900302.00AY1AZFCA5\r");
        let got = verify(&sealed[..sealed.len() - 1]);
        assert_eq!(got, Received { body: b"9900302.00", sequence: Some(1), check: Check::Valid });
    }

    #[test]
    fn fixed_resend_strings() {
        assert_eq!(seal(b"96", None, true, Terminator::Cr), b"96AZFEF6\r");
        assert_eq!(seal(b"97", None, true, Terminator::CrLf), b"97AZFEF5\r\n");
        assert_eq!(verify(b"97AZFEF5"), Received { body: b"97", sequence: None, check: Check::Valid });
    }

    #[test]
    fn lower_case_hex_is_accepted_and_bad_sums_are_caught() {
        assert_eq!(verify(b"9900302.00AY1AZfca5").check, Check::Valid);
        assert_eq!(verify(b"9900302.00AY1AZFCA6").check, Check::Invalid);
        assert_eq!(verify(b"9900302.00AY2AZFCA5").check, Check::Invalid);
        assert_eq!(verify(b"9900302.00AY1AZFCG5").check, Check::Invalid);
        assert_eq!(verify(b"9900302.00AY1AZ+CA5").check, Check::Invalid);
    }

    #[test]
    fn no_tail_is_absent() {
        let got = verify(b"9900302.00");
        assert_eq!(got, Received { body: b"9900302.00", sequence: None, check: Check::Absent });
        assert!(!got.error_detection());
        assert_eq!(verify(b"").check, Check::Absent);
        assert_eq!(verify(b"AZ").check, Check::Absent);
    }

    #[test]
    fn checksum_counts_bytes_not_characters() {
        // 借 is three bytes in UTF-8 and two in GB18030: the sums differ.
        let utf8 = seal("17借AZ".as_bytes(), Some(0), true, Terminator::Cr);
        let frame = &utf8[..utf8.len() - 1];
        assert_eq!(verify(frame).check, Check::Valid);
        let sum: u32 = frame[..frame.len() - 4].iter().map(|&b| u32::from(b)).sum();
        let hex = std::str::from_utf8(&frame[frame.len() - 4..]).unwrap();
        assert_eq!((sum + u32::from_str_radix(hex, 16).unwrap()) & 0xFFFF, 0);
    }
}
