//! Readers' contact points, notification preferences and staff notes over
//! real gRPC, on SQLite (or PostgreSQL with `LECTERN_TEST_DATABASE_URL`):
//! who may see and change them, validation, and what the audit log keeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lectern_core::identity::{Grant, Role};
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::audit_service_client::AuditServiceClient;
use lectern_proto::reader::v1::*;
use support::{Server, assert_invalid, assert_refused, bearer};
use tonic::Code;

fn guardian_phone(reader_id: &str, phone: &str) -> CreateReaderContactRequest {
    CreateReaderContactRequest {
        reader_id: reader_id.into(),
        who: ContactWho::Guardian.into(),
        channel: ContactChannel::Phone.into(),
        value: phone.into(),
        label: "妈妈".into(),
        request_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_points_stay_within_the_readers_school() {
    let server = Server::start().await;
    let school = server.school("XH-PRI").await;
    let other = server.school("XH-MID").await;
    let reader = server.reader(&school.id, "R1", "student", "").await;
    let classmate = server.reader(&school.id, "R2", "student", "").await;
    let librarian = server.staff("lib-a", Role::Librarian, &school.id);
    let assistant = server.staff("asst-a", Role::Assistant, &school.id);
    let stranger = server.staff("lib-b", Role::Librarian, &other.id);
    let own = server.token(&Grant::reader(&reader.id, &school.id));
    let mut profiles = server.profiles();

    // Staff of the school add contact points; values are normalised.
    let phone = profiles
        .create_reader_contact(bearer(guardian_phone(&reader.id, "+86 138-0013-8000"), &assistant))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((phone.value.as_str(), phone.label.as_str()), ("+8613800138000", "妈妈"));
    let email = CreateReaderContactRequest {
        who: ContactWho::HomeroomTeacher.into(),
        channel: ContactChannel::Email.into(),
        value: "Li.Laoshi@School.CN".into(),
        label: String::new(),
        ..guardian_phone(&reader.id, "")
    };
    profiles.create_reader_contact(bearer(email, &librarian)).await.unwrap();
    assert_refused(
        profiles
            .create_reader_contact(bearer(guardian_phone(&reader.id, "+8613800138000"), &librarian))
            .await,
        Code::AlreadyExists,
        Reason::ContactAlreadyExists,
    );

    // Bad values are refused naming the field, and change nothing.
    assert_invalid(
        profiles.create_reader_contact(bearer(guardian_phone(&reader.id, "12ab"), &librarian)).await,
        "value",
    );
    let no_channel = CreateReaderContactRequest { channel: 0, ..guardian_phone(&reader.id, "13800138000") };
    assert_invalid(profiles.create_reader_contact(bearer(no_channel, &librarian)).await, "channel");

    let list = |token: &str, reader_id: &str| {
        bearer(ListReaderContactsRequest { reader_id: reader_id.into() }, token)
    };
    let contacts =
        profiles.list_reader_contacts(list(&librarian, &reader.id)).await.unwrap().into_inner().contacts;
    let values: Vec<&str> = contacts.iter().map(|contact| contact.value.as_str()).collect();
    assert_eq!(values, ["+8613800138000", "Li.Laoshi@school.cn"]);

    // The reader sees their own, not a classmate's; another school's librarian sees none.
    assert_eq!(
        profiles.list_reader_contacts(list(&own, &reader.id)).await.unwrap().into_inner().contacts.len(),
        2
    );
    assert_refused(
        profiles.list_reader_contacts(list(&own, &classmate.id)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        profiles.list_reader_contacts(list(&stranger, &reader.id)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        profiles.create_reader_contact(bearer(guardian_phone(&reader.id, "13900000000"), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    // A reader may not add contact points themself.
    assert_refused(
        profiles.create_reader_contact(bearer(guardian_phone(&reader.id, "13900000000"), &own)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // Not at a kiosk, even for the reader who signed in there.
    let at_kiosk = server.token(&Grant::reader(&reader.id, &school.id).at_device("kiosk-1"));
    assert_refused(
        profiles.list_reader_contacts(list(&at_kiosk, &reader.id)).await,
        Code::PermissionDenied,
        Reason::DeviceNotAllowed,
    );
    // The district admin sees every school.
    assert_eq!(
        profiles
            .list_reader_contacts(list(&server.admin(), &reader.id))
            .await
            .unwrap()
            .into_inner()
            .contacts
            .len(),
        2
    );

    // Removing: only within the school; an unknown contact point is NOT_FOUND.
    let remove = |token: &str, contact_id: &str| {
        bearer(
            DeleteReaderContactRequest { reader_id: reader.id.clone(), contact_id: contact_id.into() },
            token,
        )
    };
    assert_refused(
        profiles.delete_reader_contact(remove(&stranger, &phone.id)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    profiles.delete_reader_contact(remove(&librarian, &phone.id)).await.unwrap();
    let status = profiles.delete_reader_contact(remove(&librarian, &phone.id)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        profiles.list_reader_contacts(list(&own, &reader.id)).await.unwrap().into_inner().contacts.len(),
        1
    );

    // The audit log keeps ids, kinds and channels, never the values.
    let events = AuditServiceClient::new(server.channel())
        .list_audit_events(bearer(
            ListAuditEventsRequest { subject_id: reader.id.clone(), ..Default::default() },
            &server.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let actions: Vec<&str> = events
        .iter()
        .map(|event| event.action.as_str())
        .filter(|action| action.starts_with("contact_"))
        .collect();
    assert_eq!(actions, ["contact_removed", "contact_added", "contact_added"]);
    let refused = events.iter().filter(|event| event.outcome != "succeeded").count();
    assert!(refused >= 3, "looks from another school are audited: {events:?}");
    // Fragments that cannot occur in the ids the details carry (a hex UUID
    // may well contain "138").
    for event in &events {
        let detail = event.detail.to_lowercase();
        for value in ["13800138000", "138-0013", "laoshi", "@"] {
            assert!(!detail.contains(value), "{value:?} in {event:?}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_choose_how_they_are_notified_and_staff_keep_notes() {
    let server = Server::start().await;
    let school = server.school("XH-PRI").await;
    let other = server.school("XH-MID").await;
    let reader = server.reader(&school.id, "R1", "student", "").await;
    let librarian = server.staff("lib-a", Role::Librarian, &school.id);
    let stranger = server.staff("lib-b", Role::Librarian, &other.id);
    let own = server.token(&Grant::reader(&reader.id, &school.id));
    let mut profiles = server.profiles();

    // Until set: in-app, in Chinese.
    let get = |token: &str| bearer(GetNotificationPreferencesRequest { reader_id: reader.id.clone() }, token);
    let defaults = profiles.get_notification_preferences(get(&own)).await.unwrap().into_inner();
    assert_eq!(defaults.channels, [i32::from(NotificationChannel::InApp)]);
    assert_eq!(defaults.language, "zh-CN");
    assert!(defaults.update_time.is_none());

    let update = |token: &str, channels: Vec<NotificationChannel>, language: &str| {
        bearer(
            UpdateNotificationPreferencesRequest {
                reader_id: reader.id.clone(),
                channels: channels.into_iter().map(i32::from).collect(),
                language: language.into(),
            },
            token,
        )
    };
    let set = profiles
        .update_notification_preferences(update(
            &own,
            vec![NotificationChannel::Wechat, NotificationChannel::Email, NotificationChannel::Wechat],
            "en",
        ))
        .await
        .unwrap()
        .into_inner();
    let expected = [i32::from(NotificationChannel::Email), i32::from(NotificationChannel::Wechat)];
    assert_eq!((set.channels.as_slice(), set.language.as_str()), (expected.as_slice(), "en"));
    let read = profiles.get_notification_preferences(get(&librarian)).await.unwrap().into_inner();
    assert_eq!(read, set);
    assert_invalid(
        profiles.update_notification_preferences(update(&own, Vec::new(), "en")).await,
        "channels",
    );
    assert_invalid(
        profiles.update_notification_preferences(update(&own, vec![NotificationChannel::Sms], "fr")).await,
        "language",
    );
    assert_refused(
        profiles.get_notification_preferences(get(&stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );

    // Notes: staff of the school only, newest first.
    let add = |token: &str, text: &str| {
        bearer(
            CreateReaderNoteRequest {
                reader_id: reader.id.clone(),
                text: text.into(),
                request_id: String::new(),
            },
            token,
        )
    };
    let first = profiles.create_reader_note(add(&librarian, "借书证丢过两次")).await.unwrap().into_inner();
    assert_eq!(first.author_id, "lib-a");
    profiles.create_reader_note(add(&librarian, "家长会后归还")).await.unwrap();
    assert_refused(
        profiles.create_reader_note(add(&own, "hi")).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        profiles.create_reader_note(add(&stranger, "x")).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_invalid(profiles.create_reader_note(add(&librarian, "  ")).await, "text");
    let list = |token: &str, page_size: i32, page_token: &str| {
        bearer(
            ListReaderNotesRequest { reader_id: reader.id.clone(), page_size, page_token: page_token.into() },
            token,
        )
    };
    assert_refused(
        profiles.list_reader_notes(list(&own, 0, "")).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let page = profiles.list_reader_notes(list(&librarian, 1, "")).await.unwrap().into_inner();
    assert_eq!(page.notes[0].text, "家长会后归还");
    let rest =
        profiles.list_reader_notes(list(&librarian, 1, &page.next_page_token)).await.unwrap().into_inner();
    assert_eq!(rest.notes[0].id, first.id);
    assert!(rest.next_page_token.is_empty());

    let delete = |token: &str| {
        bearer(DeleteReaderNoteRequest { reader_id: reader.id.clone(), note_id: first.id.clone() }, token)
    };
    assert_refused(
        profiles.delete_reader_note(delete(&stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    profiles.delete_reader_note(delete(&librarian)).await.unwrap();
    assert_eq!(
        profiles.list_reader_notes(list(&librarian, 0, "")).await.unwrap().into_inner().notes.len(),
        1
    );

    // An unknown reader is NOT_FOUND, not a refusal that tells nothing.
    let missing = lectern_core::ids::new_id();
    let status = profiles
        .list_reader_contacts(bearer(ListReaderContactsRequest { reader_id: missing }, &librarian))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    server.stop().await;
}
