//! The front door without services: every call is answered UNAVAILABLE,
//! so what is checked is what the session decides by itself.

use lectern_sip2::{Check, verify};

use super::*;
use crate::Sip2Config;
use crate::http::call::Calls;

/// Calls that the services never answer.
fn unavailable() -> Calls {
    Calls::new(tower::service_fn(|_request: http::Request<tonic::body::Body>| async {
        let mut response = http::Response::new(tonic::body::Body::empty());
        response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/grpc"));
        response.headers_mut().insert("grpc-status", http::HeaderValue::from_static("14"));
        Ok::<_, std::convert::Infallible>(response)
    }))
}

fn session() -> Session {
    Session::new(Edge::new(unavailable(), Sip2Config::default(), lectern_core::clock::system()))
}

fn sent(reply: Reply) -> String {
    match reply {
        Reply::Send(bytes) => String::from_utf8(bytes).unwrap(),
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_checksum_gets_96_and_error_detection_stays_on() {
    let mut session = session();
    assert_eq!(sent(session.on_frame(b"9900302.00AY1AZFCA6").await), "96AZFEF6\r");
    // The next status has no tail, but the answer keeps error detection.
    let answer = sent(session.on_frame(b"9900302.00").await);
    assert!(answer.starts_with("98NNNNNN"), "{answer}");
    let frame = answer.trim_end_matches('\r').as_bytes();
    assert_eq!(verify(frame).check, Check::Valid, "{answer}");
}

#[tokio::test]
async fn before_login_only_status_and_resend_are_answered() {
    let mut session = session();
    assert_eq!(sent(session.on_frame(b"97").await), "96\r");
    let status = sent(session.on_frame(b"9900302.00AY3AZFCA3").await);
    assert!(status.starts_with("98NNNNNN"), "{status}");
    assert!(status.contains("BXYYYNYYYYYYYNNYYY|"), "{status}");
    assert!(status.contains("AY3AZ"), "{status}");
    assert_eq!(session.on_frame(b"2300120261207    181500AOx|AAR100005|ACx|").await, Reply::Nothing);
    // 97 repeats the last answer byte for byte.
    assert_eq!(sent(session.on_frame(b"97").await), status);
}

#[tokio::test]
async fn three_failed_logins_close_the_connection() {
    let mut session = session();
    // No CO: refused without asking anyone.
    assert_eq!(sent(session.on_frame(b"9300CNdevice|").await), "940\r");
    // The reader service is unreachable: refused too.
    assert_eq!(sent(session.on_frame(b"9300CNdevice|COkey|").await), "940\r");
    match session.on_frame(b"9300CNdevice|COkey2|").await {
        Reply::SendAndClose(bytes) => assert_eq!(bytes, b"940\r"),
        other => panic!("expected the connection to close, got {other:?}"),
    }
    assert!(!session.logged_in());
}

#[tokio::test]
async fn garbage_gets_96_until_there_is_too_much_of_it() {
    let mut session = session();
    for _ in 0..MAX_BAD_FRAMES - 1 {
        assert_eq!(sent(session.on_frame(b"\xff\xfe\x00garbage").await), "96\r");
    }
    assert!(matches!(session.on_too_long(), Reply::SendAndClose(_)));
}

#[tokio::test]
async fn a_good_message_resets_the_garbage_count() {
    let mut session = session();
    for _ in 0..MAX_BAD_FRAMES - 1 {
        assert_eq!(sent(session.on_too_long()), "96\r");
    }
    assert!(sent(session.on_frame(b"9900302.00").await).starts_with("98"));
    assert_eq!(sent(session.on_frame(b"XX").await), "96\r");
}
