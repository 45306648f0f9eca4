//! Splitting the byte stream of one connection into SIP2 messages.
//!
//! Self-check machines end a message with CR, LF or CR LF, so any of the
//! three ends a frame here (a LF right after a CR belongs to that CR, even
//! when the two arrive in different reads). The framer keeps at most
//! `max_len` bytes of an unfinished message: a longer line is reported once
//! as [`Frame::TooLong`] and the rest of it, up to its terminator, is thrown
//! away as it arrives, so a machine (or an attacker) sending a megabyte
//! without a CR never makes the gateway buffer it.
//!
//! The terminator is a plain CR/LF byte in every charset we speak (UTF-8,
//! GB18030 and cp850 never use 0x0D or 0x0A inside a character), so framing
//! works on bytes before any decoding.

use std::collections::VecDeque;

/// The largest message the gateway accepts by default (64 KiB, without the
/// terminator). Real machines send a few hundred bytes.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

/// What the framer found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One message's bytes, without its terminator; never empty.
    Message(Vec<u8>),
    /// A line grew past the limit; its bytes up to the next terminator are
    /// dropped. Reported once per such line: answer `96` or close.
    TooLong,
}

/// The terminator the gateway sends after each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Terminator {
    /// A single CR, what SIP2 2.00 prescribes.
    #[default]
    Cr,
    /// CR LF, for machines configured that way (`crlf` device setting).
    CrLf,
}

impl Terminator {
    /// The terminator's bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Terminator::Cr => b"\r",
            Terminator::CrLf => b"\r\n",
        }
    }
}

/// Splits bytes read from a connection into frames. Feed it with
/// [`Framer::push`] after every read and drain [`Framer::next_frame`].
#[derive(Debug, Clone)]
pub struct Framer {
    max_len: usize,
    /// The unfinished message; never longer than `max_len`.
    partial: Vec<u8>,
    /// Inside a too-long line: drop bytes until a terminator.
    discarding: bool,
    /// The last byte seen was a CR, so a LF next is part of it.
    after_cr: bool,
    ready: VecDeque<Frame>,
}

impl Framer {
    /// A framer that accepts messages of at most `max_len` bytes (without
    /// the terminator). A `max_len` of 0 is taken as 1.
    pub fn new(max_len: usize) -> Self {
        Framer {
            max_len: max_len.max(1),
            partial: Vec::new(),
            discarding: false,
            after_cr: false,
            ready: VecDeque::new(),
        }
    }

    /// Takes the bytes of one read. Memory stays bounded by `max_len` plus
    /// the complete frames not yet taken with [`Framer::next_frame`].
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.after_cr && bytes[0] == b'\n' {
                bytes = &bytes[1..];
                self.after_cr = false;
                continue;
            }
            self.after_cr = false;
            let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n');
            let chunk = match end {
                Some(at) => &bytes[..at],
                None => bytes,
            };
            if !self.discarding {
                if self.partial.len() + chunk.len() > self.max_len {
                    self.partial.clear();
                    self.discarding = true;
                    self.ready.push_back(Frame::TooLong);
                } else {
                    self.partial.extend_from_slice(chunk);
                }
            }
            let Some(at) = end else { return };
            self.after_cr = bytes[at] == b'\r';
            if self.discarding {
                self.discarding = false;
            } else if !self.partial.is_empty() {
                // Empty lines (a stray LF, blank keep-alives) are no messages.
                self.ready.push_back(Frame::Message(std::mem::take(&mut self.partial)));
            }
            bytes = &bytes[at + 1..];
        }
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.ready.pop_front()
    }

    /// Whether bytes of an unfinished message are waiting for their
    /// terminator (at end of stream: a message without terminator, which
    /// the gateway drops).
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty() || self.discarding
    }
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_MAX_FRAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| framer.next_frame()).collect()
    }

    fn msg(text: &str) -> Frame {
        Frame::Message(text.as_bytes().to_vec())
    }

    #[test]
    fn splits_at_cr_lf_and_crlf() {
        let mut framer = Framer::new(100);
        framer.push(b"9900302.00\r9300CNa|\n2300\r\n17");
        assert_eq!(frames(&mut framer), vec![msg("9900302.00"), msg("9300CNa|"), msg("2300")]);
        assert!(framer.has_partial());
        framer.push(b"x\r");
        assert_eq!(frames(&mut framer), vec![msg("17x")]);
        assert!(!framer.has_partial());
    }

    #[test]
    fn crlf_split_across_reads_is_one_terminator() {
        let mut framer = Framer::new(100);
        framer.push(b"99\r");
        framer.push(b"\n98\r");
        framer.push(b"\n\n\r\r");
        assert_eq!(frames(&mut framer), vec![msg("99"), msg("98")]);
    }

    #[test]
    fn a_long_line_is_reported_once_and_dropped() {
        let mut framer = Framer::new(10);
        for _ in 0..1000 {
            framer.push(&[b'x'; 1000]);
            assert!(framer.partial.len() <= 10);
        }
        framer.push(b"yyy\r99\r");
        assert_eq!(frames(&mut framer), vec![Frame::TooLong, msg("99")]);
    }

    #[test]
    fn exactly_max_len_is_accepted() {
        let mut framer = Framer::new(4);
        framer.push(b"1234\r12345\r123\r");
        assert_eq!(frames(&mut framer), vec![msg("1234"), Frame::TooLong, msg("123")]);
    }
}
