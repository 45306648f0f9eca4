//! Event delivery at the consumer: only Lectern services may deliver, an
//! event delivered twice is stored once, and anonymization and erasure
//! events take notices away.

use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::events::v1::event_sink_client::EventSinkClient;
use lectern_proto::events::v1::{DeliverRequest, Event, LoanAnonymized, LoanCheckedOut, ReaderErased, event};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginRequest, ServiceCredentials, login_request};
use tonic::Code;

use crate::harness::{SERVICE_KEY, TestSuite, assert_refused, bearer};

#[tokio::test]
async fn an_event_delivered_twice_makes_one_notice() {
    let suite = TestSuite::start().await;
    let service_token = IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "circulation".into(),
                key: SERVICE_KEY.into(),
            })),
        })
        .await
        .expect("services sign in with the district key")
        .into_inner()
        .access_token;

    let reader_id = lectern_core::ids::new_id();
    let checked_out = Event {
        id: lectern_core::ids::new_id(),
        r#type: "loan.checked_out".into(),
        occurred_at: Some(prost_types::Timestamp { seconds: suite.clock.now().timestamp(), nanos: 0 }),
        school_id: lectern_core::ids::new_id(),
        source: "circulation".into(),
        traceparent: String::new(),
        payload: Some(event::Payload::LoanCheckedOut(LoanCheckedOut {
            loan_id: lectern_core::ids::new_id(),
            reader_id: reader_id.clone(),
            title: "青铜葵花".into(),
            due_date: suite.days_from_now(14),
            ..Default::default()
        })),
    };
    let mut sink = EventSinkClient::new(suite.channel_to("notification"));

    // A librarian's token may not deliver events.
    assert_refused(
        sink.deliver(bearer(DeliverRequest { events: vec![checked_out.clone()] }, &suite.admin_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    let first = sink
        .deliver(bearer(DeliverRequest { events: vec![checked_out.clone()] }, &service_token))
        .await
        .unwrap()
        .into_inner();
    let again = sink
        .deliver(bearer(DeliverRequest { events: vec![checked_out.clone(), checked_out] }, &service_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.accepted, again.accepted), (1, 0));

    let notices = suite
        .notifications()
        .list_notices(suite.admin(ListNoticesRequest { reader_id, ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .notices;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].message, format!("你借了《青铜葵花》，请在 {} 前归还。", suite.days_from_now(14)));
}

#[tokio::test]
async fn anonymization_and_erasure_events_purge_notices_once() {
    let suite = TestSuite::start().await;
    let service_token = IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "circulation".into(),
                key: SERVICE_KEY.into(),
            })),
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let reader_id = lectern_core::ids::new_id();
    let event = |payload| Event {
        id: lectern_core::ids::new_id(),
        r#type: "test".into(),
        occurred_at: None,
        school_id: lectern_core::ids::new_id(),
        source: "circulation".into(),
        traceparent: String::new(),
        payload: Some(payload),
    };
    let loan = |loan_id: &str| {
        event(event::Payload::LoanCheckedOut(LoanCheckedOut {
            loan_id: loan_id.into(),
            reader_id: reader_id.clone(),
            title: "青铜葵花".into(),
            due_date: suite.days_from_now(14),
            ..Default::default()
        }))
    };
    let (first, second) = (lectern_core::ids::new_id(), lectern_core::ids::new_id());
    let mut sink = EventSinkClient::new(suite.channel_to("notification"));
    let deliver = |events: Vec<Event>| bearer(DeliverRequest { events }, &service_token);
    sink.deliver(deliver(vec![loan(&first), loan(&second)])).await.unwrap();
    let notices = || async {
        suite
            .notifications()
            .list_notices(
                suite.admin(ListNoticesRequest { reader_id: reader_id.clone(), ..Default::default() }),
            )
            .await
            .unwrap()
            .into_inner()
            .notices
    };
    assert_eq!(notices().await.len(), 2);

    // One loan forgets its reader: its notice goes, the other stays; a
    // repeat changes nothing.
    let anonymized = event(event::Payload::LoanAnonymized(LoanAnonymized {
        loan_id: first.clone(),
        copy_id: String::new(),
    }));
    sink.deliver(deliver(vec![anonymized.clone()])).await.unwrap();
    let accepted = sink.deliver(deliver(vec![anonymized])).await.unwrap().into_inner().accepted;
    assert_eq!(accepted, 0);
    let left = notices().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].loan_id, second);

    // The reader is erased: every notice goes.
    let erased = event(event::Payload::ReaderErased(ReaderErased { reader_id: reader_id.clone() }));
    sink.deliver(deliver(vec![erased])).await.unwrap();
    assert!(notices().await.is_empty());

    // Circulation's sink takes erasures from services only.
    let mut circulation_sink = EventSinkClient::new(suite.channel_to("circulation"));
    assert_refused(
        circulation_sink
            .deliver(bearer(
                DeliverRequest {
                    events: vec![event(event::Payload::ReaderErased(ReaderErased {
                        reader_id: reader_id.clone(),
                    }))],
                },
                &suite.admin_token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
}
