//! Any bytes, cut into reads at the first byte's choice, through the whole
//! receiving path in every charset: never a panic, frames stay within the
//! limit, and a message that parses answers with a frame that verifies.
#![no_main]

use lectern_sip2::{
    Charset, Check, CheckoutResponse, Frame, Framer, Request, Response, Terminator, verify,
};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, data)) = data.split_first() else { return };
    let cut = usize::from(cut).min(data.len());
    for charset in [Charset::Utf8, Charset::Gb18030, Charset::Cp850] {
        let mut framer = Framer::new(MAX);
        framer.push(&data[..cut]);
        framer.push(&data[cut..]);
        while let Some(frame) = framer.next_frame() {
            let Frame::Message(bytes) = frame else { continue };
            assert!(bytes.len() <= MAX);
            let received = verify(&bytes);
            let text = charset.decode(received.body);
            let Ok(request) = Request::parse(&text) else { continue };
            // Echo the request's text back in an answer: it must still make
            // exactly one frame with a valid checksum.
            let answer = Response::Checkout(CheckoutResponse {
                patron_id: text.to_string(),
                screen_messages: vec![format!("{request:?}")],
                ..Default::default()
            });
            let wire = answer.to_wire(charset, received.sequence, true, Terminator::CrLf);
            let mut echo = Framer::new(usize::MAX);
            echo.push(&wire);
            let Some(Frame::Message(frame)) = echo.next_frame() else { panic!("no frame") };
            assert!(echo.next_frame().is_none());
            assert_eq!(verify(&frame).check, Check::Valid);
        }
    }
});
