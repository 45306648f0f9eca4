//! The two batch look-ups the notification service makes before it
//! reminds anyone: circulation's `BatchGetLoans` (many loans as they are
//! now) and the reader service's `BatchGetNotificationProfiles` (many
//! readers' names, classes, preferences and contact points). Services see
//! every school; a librarian gets their own school's loans only; a person
//! never gets the profiles; and neither call is reachable through the
//! gateway.

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::BatchGetLoansRequest;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    BatchGetNotificationProfilesRequest, ContactChannel, ContactWho, CreateReaderContactRequest,
    LoginRequest, NotificationChannel, ServiceCredentials, StaffRole, UpdateNotificationPreferencesRequest,
    login_request,
};
use tonic::Code;

use crate::harness::{SERVICE_KEY, TestSuite, assert_invalid, assert_refused, bearer, lent_days_ago};

/// A token of the notification service, as it signs in with the district
/// key at the reader service.
async fn service_token(suite: &TestSuite) -> String {
    IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "notification".into(),
                key: SERVICE_KEY.into(),
            })),
        })
        .await
        .expect("services sign in with the district key")
        .into_inner()
        .access_token
}

fn loans_by_id(ids: &[&str]) -> BatchGetLoansRequest {
    BatchGetLoansRequest { loan_ids: ids.iter().map(|id| (*id).to_owned()).collect() }
}

#[tokio::test]
async fn batch_get_loans_answers_services_everything_and_staff_their_schools() {
    let suite = TestSuite::start().await;
    let north = suite.school("BL-PRI", "北小学").await;
    let south = suite.school("BL-MID", "南中学").await;
    let north_reader = suite.student(&north, "R700001").await;
    suite.student(&south, "R700002").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &north, "N700001").await;
    suite.copy(&title, &south, "S700001").await;
    let mut lent = Vec::new();
    for (card, copy) in [("R700001", "N700001"), ("R700002", "S700001")] {
        let answer =
            suite.loans().check_out(suite.admin(lent_days_ago(&suite, card, copy, 20))).await.unwrap();
        lent.push(answer.into_inner().loan.unwrap());
    }
    let (north_loan, south_loan) = (lent[0].id.clone(), lent[1].id.clone());
    // Returned since: still found, with the time it came back.
    suite
        .loans()
        .check_in(suite.admin(lectern_proto::circulation::v1::CheckInRequest {
            copy_barcode: "S700001".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let service = service_token(&suite).await;
    let librarian = suite.staff("bl.librarian", StaffRole::Librarian, &[&north]).await;
    let mut circulation = LoanServiceClient::new(suite.channel_to("circulation"));
    let unknown = lectern_core::ids::new_id();

    // A service sees both schools' loans; repeats and unknown ids change nothing.
    let request = loans_by_id(&[&north_loan, &south_loan, &north_loan, &unknown]);
    let mut found =
        circulation.batch_get_loans(bearer(request.clone(), &service)).await.unwrap().into_inner().loans;
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = vec![north_loan.clone(), south_loan.clone()];
    expected.sort();
    assert_eq!(found.iter().map(|loan| loan.id.clone()).collect::<Vec<_>>(), expected);
    let south_found = found.iter().find(|loan| loan.id == south_loan).unwrap();
    assert!(south_found.returned_at.is_some(), "returned loans say so: {south_found:?}");
    let north_found = found.iter().find(|loan| loan.id == north_loan).unwrap();
    assert!(north_found.returned_at.is_none() && north_found.overdue, "{north_found:?}");
    assert_eq!(north_found.due_date, lent[0].due_date);

    // A librarian of the north school gets the north loan only: filtered, not refused.
    let theirs = circulation.batch_get_loans(bearer(request, &librarian)).await.unwrap().into_inner().loans;
    assert_eq!(theirs.iter().map(|loan| loan.id.as_str()).collect::<Vec<_>>(), [north_loan.as_str()]);

    // Bad input names the field.
    for bad in [loans_by_id(&[]), loans_by_id(&[&north_loan, "L-1"])] {
        assert_invalid(circulation.batch_get_loans(bearer(bad, &service)).await, "loan_ids");
    }
    let too_many: Vec<String> = (0..1001).map(|_| lectern_core::ids::new_id()).collect();
    assert_invalid(
        circulation.batch_get_loans(bearer(BatchGetLoansRequest { loan_ids: too_many }, &service)).await,
        "loan_ids",
    );

    // A reader is refused.
    let reader_token = suite.reader_signed_in(&north_reader, "2468").await;
    assert_refused(
        circulation.batch_get_loans(bearer(loans_by_id(&[&north_loan]), &reader_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );

    // Not through the gateway, even for a district admin.
    let edge = suite.loans().batch_get_loans(suite.admin(loans_by_id(&[&north_loan]))).await.unwrap_err();
    assert_eq!(edge.code(), Code::Unimplemented, "{edge:?}");
}

#[tokio::test]
async fn notification_profiles_are_for_services_only() {
    let suite = TestSuite::start().await;
    let school = suite.school("BP-PRI", "东小学").await;
    let with_contacts = suite.student(&school, "R710001").await;
    let plain = suite.student(&school, "R710002").await;
    let contacts = [
        (ContactWho::Guardian, ContactChannel::Email, "wang.mama@example.cn", "妈妈"),
        (ContactWho::Guardian, ContactChannel::Phone, "+86 138 0013 8000", "爸爸"),
        (ContactWho::HomeroomTeacher, ContactChannel::Email, "li.laoshi@example.cn", ""),
    ];
    let edge_profiles = || ReaderProfileServiceClient::new(suite.channel.clone());
    for (who, channel, value, label) in contacts {
        edge_profiles()
            .create_reader_contact(suite.admin(CreateReaderContactRequest {
                reader_id: with_contacts.id.clone(),
                who: who.into(),
                channel: channel.into(),
                value: value.into(),
                label: label.into(),
                request_id: String::new(),
            }))
            .await
            .unwrap();
    }
    edge_profiles()
        .update_notification_preferences(suite.admin(UpdateNotificationPreferencesRequest {
            reader_id: with_contacts.id.clone(),
            channels: vec![NotificationChannel::Email.into(), NotificationChannel::InApp.into()],
            language: "en".into(),
        }))
        .await
        .unwrap();
    let service = service_token(&suite).await;
    let mut profiles = ReaderProfileServiceClient::new(suite.channel_to("reader"));
    let unknown = lectern_core::ids::new_id();
    let request = BatchGetNotificationProfilesRequest {
        reader_ids: vec![with_contacts.id.clone(), plain.id.clone(), unknown, with_contacts.id.clone()],
    };

    let found = profiles
        .batch_get_notification_profiles(bearer(request.clone(), &service))
        .await
        .unwrap()
        .into_inner()
        .profiles;
    assert_eq!(found.len(), 2, "unknown readers are absent, repeats once: {found:?}");
    let first = found.iter().find(|profile| profile.reader_id == with_contacts.id).unwrap();
    assert_eq!((first.school_id.as_str(), first.name.as_str()), (school.id.as_str(), "王小明"));
    assert_eq!(
        (first.class_id.as_str(), first.class_name.as_str()),
        (with_contacts.class_id.as_str(), "三年级(R710001)班")
    );
    let preferences = first.preferences.clone().unwrap();
    assert_eq!(preferences.language, "en");
    assert_eq!(
        preferences.channels,
        [i32::from(NotificationChannel::Email), i32::from(NotificationChannel::InApp)]
    );
    let addresses: Vec<(ContactWho, ContactChannel, &str)> = first
        .contacts
        .iter()
        .map(|contact| (contact.who(), contact.channel(), contact.value.as_str()))
        .collect();
    assert_eq!(
        addresses,
        [
            (ContactWho::Guardian, ContactChannel::Email, "wang.mama@example.cn"),
            (ContactWho::Guardian, ContactChannel::Phone, "+8613800138000"),
            (ContactWho::HomeroomTeacher, ContactChannel::Email, "li.laoshi@example.cn"),
        ]
    );
    // Never set: the defaults, as GetNotificationPreferences answers them.
    let second = found.iter().find(|profile| profile.reader_id == plain.id).unwrap();
    let defaults = second.preferences.clone().unwrap();
    assert_eq!(
        (defaults.channels.as_slice(), defaults.language.as_str()),
        (&[i32::from(NotificationChannel::InApp)][..], "zh-CN")
    );
    assert!(defaults.update_time.is_none() && second.contacts.is_empty());

    // People are refused, a district admin too, directly at the service.
    assert_refused(
        profiles.batch_get_notification_profiles(suite.admin(request.clone())).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    // Bad input names the field.
    let empty = BatchGetNotificationProfilesRequest { reader_ids: Vec::new() };
    assert_invalid(profiles.batch_get_notification_profiles(bearer(empty, &service)).await, "reader_ids");
    let bad = BatchGetNotificationProfilesRequest { reader_ids: vec!["R710001".into()] };
    assert_invalid(profiles.batch_get_notification_profiles(bearer(bad, &service)).await, "reader_ids");

    // Not through the gateway.
    let edge = edge_profiles().batch_get_notification_profiles(suite.admin(request)).await.unwrap_err();
    assert_eq!(edge.code(), Code::Unimplemented, "{edge:?}");
}
