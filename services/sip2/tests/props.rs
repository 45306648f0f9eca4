//! Properties over arbitrary input: nothing a machine sends makes the codec
//! panic, and what the codec writes reads back the same.

use lectern_sip2::*;
use proptest::prelude::*;

const CHARSETS: [Charset; 3] = [Charset::Utf8, Charset::Gb18030, Charset::Cp850];

fn charset() -> impl Strategy<Value = Charset> {
    prop::sample::select(CHARSETS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes in arbitrary reads: frames never hold a terminator,
    /// never pass the limit, and the partial buffer stays bounded.
    #[test]
    fn framer_splits_any_bytes(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
                               max in 1usize..40) {
        let mut framer = Framer::new(max);
        for chunk in &chunks {
            framer.push(chunk);
        }
        while let Some(frame) = framer.next_frame() {
            if let Frame::Message(bytes) = frame {
                prop_assert!(!bytes.is_empty() && bytes.len() <= max);
                prop_assert!(!bytes.contains(&b'\r') && !bytes.contains(&b'\n'));
            }
        }
    }

    /// Without over-long lines, the frames are exactly the non-empty lines,
    /// however the bytes were cut into reads.
    #[test]
    fn framer_keeps_every_line(lines in prop::collection::vec("[^\r\n]{0,20}", 0..8),
                               ends in prop::collection::vec(prop::sample::select(vec!["\r", "\n", "\r\n"]), 8),
                               cut in 0usize..200) {
        let mut stream = Vec::new();
        for (line, end) in lines.iter().zip(&ends) {
            stream.extend_from_slice(line.as_bytes());
            stream.extend_from_slice(end.as_bytes());
        }
        let cut = cut.min(stream.len());
        let mut framer = Framer::new(100);
        framer.push(&stream[..cut]);
        framer.push(&stream[cut..]);
        let got: Vec<Frame> = std::iter::from_fn(|| framer.next_frame()).collect();
        let want: Vec<Frame> = lines.iter().filter(|line| !line.is_empty())
            .map(|line| Frame::Message(line.as_bytes().to_vec())).collect();
        prop_assert_eq!(got, want);
        prop_assert!(!framer.has_partial());
    }

    /// verify never panics, and a sealed body always verifies to itself.
    #[test]
    fn seal_then_verify(body in prop::collection::vec(any::<u8>().prop_filter("no terminator", |b| *b != b'\r' && *b != b'\n'), 0..100),
                        sequence in 0u8..10, garbage in prop::collection::vec(any::<u8>(), 0..40)) {
        let _ = verify(&garbage);
        let sealed = seal(&body, Some(sequence), true, Terminator::Cr);
        let received = verify(&sealed[..sealed.len() - 1]);
        prop_assert_eq!(received, Received { body: &body, sequence: Some(sequence), check: Check::Valid });
        // One changed byte is always caught (the sum changes by less than 2^16).
        let mut broken = sealed[..sealed.len() - 1].to_vec();
        let at = body.len() / 2;
        if at < body.len() {
            broken[at] = broken[at].wrapping_add(1);
            prop_assert_eq!(verify(&broken).check, Check::Invalid);
        }
    }

    /// Any bytes decode; any text round-trips through UTF-8 and GB18030.
    #[test]
    fn charsets_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..100), text in "\\PC{0,40}") {
        for charset in CHARSETS {
            let _ = charset.decode(&bytes);
        }
        for charset in [Charset::Utf8, Charset::Gb18030] {
            let encoded = charset.encode(&text);
            prop_assert_eq!(charset.decode(&encoded), text.as_str());
        }
        // cp850 is a full table: bytes → text → the same bytes.
        let latin = Charset::Cp850.decode(&bytes);
        let encoded = Charset::Cp850.encode(&latin);
        prop_assert_eq!(encoded.as_ref(), bytes.as_slice());
    }

    /// Request::parse never panics, on anything or on a known code followed
    /// by anything.
    #[test]
    fn parse_never_panics(text in "\\PC{0,80}",
                          code in prop::sample::select(vec!["93", "99", "97", "63", "23", "17", "11", "09", "29", "65", "35", "37", "15", "19", "01", "25"]),
                          tail in "[0-9YN +*\\-A-Z|借 ]{0,70}") {
        let _ = Request::parse(&text);
        if let Ok(request) = Request::parse(&format!("{code}{tail}")) {
            prop_assert_eq!(request.code(), code);
        }
    }

    /// The whole receiving path over raw bytes, in every charset.
    #[test]
    fn receiving_path_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300), charset in charset()) {
        let mut framer = Framer::new(128);
        framer.push(&bytes);
        framer.push(b"\r");
        while let Some(Frame::Message(frame)) = framer.next_frame() {
            let received = verify(&frame);
            let _ = Request::parse(&charset.decode(received.body));
        }
    }

    /// Values are made safe: no separator, no control character, at most
    /// 255 bytes; long messages split into safe pieces that keep the text.
    #[test]
    fn values_are_safe(text in "\\PC{0,400}|[\\x00-\\x7f]{0,400}") {
        let clean = clean_value(&text);
        prop_assert!(clean.len() <= MAX_FIELD_BYTES);
        prop_assert!(!clean.contains('|') && !clean.chars().any(char::is_control));
        let parts = split_message(&text);
        for part in &parts {
            prop_assert!(!part.is_empty() && part.len() <= MAX_FIELD_BYTES);
            prop_assert!(!part.contains('|') && !part.chars().any(char::is_control));
        }
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace() && !c.is_control() && *c != '|' && *c != '/').collect::<String>();
        prop_assert_eq!(squeeze(&parts.concat()), squeeze(&text));
    }

    /// An answer holding arbitrary text is one frame with a valid checksum
    /// in every charset, and its fields read back as written.
    #[test]
    fn answers_frame_and_read_back(patron in "\\PC{0,300}", title in "\\PC{0,300}", message in "\\PC{0,600}",
                                   charset in charset(), sequence in 0u8..10) {
        let answer = Response::Checkout(CheckoutResponse {
            patron_id: patron.clone(),
            title: title.clone(),
            screen_messages: vec![message],
            ..Default::default()
        });
        let bytes = answer.to_wire(charset, Some(sequence), true, Terminator::Cr);
        let mut framer = Framer::new(DEFAULT_MAX_FRAME);
        framer.push(&bytes);
        let Some(Frame::Message(frame)) = framer.next_frame() else { panic!("no frame") };
        prop_assert!(framer.next_frame().is_none());
        let received = verify(&frame);
        prop_assert_eq!(received.check, Check::Valid);
        prop_assert_eq!(received.sequence, Some(sequence));
        if charset != Charset::Cp850 {
            let text = charset.decode(received.body);
            let fields = Fields::parse(&text[24..]);
            let (patron, title) = (clean_value(&patron), clean_value(&title));
            prop_assert_eq!(fields.get("AA"), Some(patron.as_str()));
            prop_assert_eq!(fields.get("AJ"), Some(title.as_str()));
        }
    }

    /// Local and UTC dates read back as the time they were made from.
    #[test]
    fn dates_round_trip(seconds in 0i64..253_402_300_799) {
        let time = chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        let local = SipDate::local(time.naive_utc());
        prop_assert_eq!(local.as_str().len(), DATE_LEN);
        prop_assert_eq!(local.naive(), Some(time.naive_utc()));
        let utc = SipDate::utc(time);
        prop_assert!(utc.is_utc());
        prop_assert_eq!(utc.naive(), Some(time.naive_utc()));
    }
}
