//! `lectern up --demo`: the demo district loads through the gateway and is
//! usable at once, by the admin and by the named staff of the desk.

use chrono::{Datelike, NaiveDate, Weekday};
use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::SearchTitlesRequest;
use lectern_proto::circulation::v1::{
    CheckOutRequest, GetSchoolCalendarRequest, ListCirculationRulesRequest, ListLoansRequest,
};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, GetNotificationPreferencesRequest, ListReaderContactsRequest,
    ListSchoolsRequest, LookupReaderRequest, NotificationChannel, StaffRole,
};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer};

#[tokio::test]
async fn the_demo_district_loads_and_can_be_searched_and_lent_from() {
    let suite = TestSuite::start_fresh().await;
    let (admin, summary) = lectern::demo::load_at(
        &suite.suite.gateway_url(),
        "admin",
        &suite.one_time_password,
        suite.clock.now(),
    )
    .await
    .expect("demo loads");
    assert_eq!(summary.schools, 2);
    assert_eq!(summary.rules, 4, "students' and teachers' rules at each school");
    assert_eq!(summary.readers, 100);
    assert!(summary.titles >= 200, "{summary:?}");
    assert!(summary.copies > summary.titles, "{summary:?}");
    assert!(summary.open_loans >= 4 && summary.overdue_loans >= 1, "{summary:?}");

    // The admin can sign in with the password the demo printed.
    let login = suite.login("admin", &admin.password).await.expect("demo admin signs in");
    assert!(!login.password_change_required);
    let token = login.access_token;

    let schools = suite
        .readers()
        .list_schools(bearer(ListSchoolsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schools.schools.len(), 2);
    let school_id = |code: &str| {
        schools.schools.iter().find(|school| school.code == code).map(|school| school.id.clone()).unwrap()
    };
    let (primary, middle) = (school_id("XH-PRI"), school_id("XH-MID"));

    // The named staff of the desk sign in with the passwords the demo
    // printed, as who they are: the district librarian for both schools.
    let wanted = [
        ("librarian", "xh-librarian", StaffRole::Librarian, vec![&primary]),
        ("assistant", "xh-assistant", StaffRole::Assistant, vec![&primary]),
        ("district librarian", "district-librarian", StaffRole::Librarian, vec![&primary, &middle]),
    ];
    assert_eq!(summary.staff.len(), wanted.len(), "{:?}", summary.staff);
    let mut staff_tokens = Vec::new();
    for (member, (label, username, role, school_ids)) in summary.staff.iter().zip(wanted) {
        assert_eq!((member.label, member.sign_in.username.as_str()), (label, username));
        let login = suite.login(username, &member.sign_in.password).await.expect("demo staff signs in");
        assert!(!login.password_change_required, "{username}");
        assert_eq!(login.role(), role, "{username}");
        let mut works_for: Vec<&String> = login.school_ids.iter().collect();
        works_for.sort();
        let mut school_ids = school_ids;
        school_ids.sort();
        assert_eq!(works_for, school_ids, "{username}");
        staff_tokens.push(login.access_token);
    }
    let (librarian, assistant) = (&staff_tokens[0], &staff_tokens[1]);

    let forest = suite
        .catalog()
        .search_titles(bearer(SearchTitlesRequest { query: "森林".into(), ..Default::default() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert!(forest.hits.len() >= 3, "{:?}", forest.hits.len());
    let dahl = suite
        .catalog()
        .search_titles(bearer(
            SearchTitlesRequest { query: "roald dahl".into(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(dahl.hits.len() >= 3);
    // Catalogued with class numbers and shelved by language.
    let english = dahl.hits[0].title.as_ref().unwrap();
    assert_eq!(english.dewey, "813.54");
    assert!(english.call_number.starts_with("813.54/D"), "{english:?}");
    let shelved = dahl.hits.iter().flat_map(|hit| &hit.copies).next().expect("a copy of Roald Dahl");
    assert_eq!(shelved.location_name, "二楼 外文图书区");

    // Someone at the primary school has an overdue loan.
    let reader = suite
        .readers()
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R100001".into() }, &token))
        .await
        .unwrap()
        .into_inner();
    let loans = suite
        .loans()
        .list_loans(bearer(ListLoansRequest { reader_id: reader.id.clone(), ..Default::default() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(loans.loans.len(), 1);
    assert!(loans.loans[0].overdue);
    // Its family chose e-mail reminders, and the class's homeroom teacher
    // has an address on file: `lectern up --demo` with a relay mails them.
    assert_eq!(summary.contacts, 100 * 2 + 9, "a guardian's phone and email each, a teacher's for one class");
    let mut profiles = ReaderProfileServiceClient::new(suite.channel.clone());
    let contacts = profiles
        .list_reader_contacts(bearer(ListReaderContactsRequest { reader_id: reader.id.clone() }, &token))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    // The demo stores both in one instant; their order is not the point.
    let mut emails: Vec<(ContactWho, &str)> = contacts
        .iter()
        .filter(|contact| contact.channel() == ContactChannel::Email)
        .map(|contact| (contact.who(), contact.value.as_str()))
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            (ContactWho::Guardian, "yao.baba@example.cn"),
            (ContactWho::HomeroomTeacher, "zhang.laoshi@example.cn")
        ]
    );
    let preferences = profiles
        .get_notification_preferences(bearer(
            GetNotificationPreferencesRequest { reader_id: reader.id.clone() },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        preferences.channels,
        [i32::from(NotificationChannel::Email), i32::from(NotificationChannel::InApp)]
    );

    // The libraries close at weekends, so no loan falls due on one.
    let calendar = suite
        .calendars()
        .get_school_calendar(bearer(GetSchoolCalendarRequest { school_id: reader.school_id.clone() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(calendar.closed_weekdays, [6, 7]);
    let due = NaiveDate::parse_from_str(&loans.loans[0].due_date, "%Y-%m-%d").unwrap();
    assert!(!matches!(due.weekday(), Weekday::Sat | Weekday::Sun), "due on {due}");

    // The loan was made under the school's rule for students.
    let rules = suite
        .rules()
        .list_circulation_rules(bearer(
            ListCirculationRulesRequest { school_id: reader.school_id.clone() },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .rules;
    let students = rules
        .iter()
        .find(|rule| rule.school_id == reader.school_id && rule.reader_category == "student")
        .expect("the school's rule for students");
    assert_eq!((students.loan_period, students.max_loans), (14, Some(5)));
    assert_eq!(loans.loans[0].rule_id, students.id);

    // At the primary school's desk the overdue loan refuses another; only
    // the librarian may lend past it.
    let lend = |override_reason: &str, token: &str| {
        bearer(
            CheckOutRequest {
                reader_card_barcode: "R100001".into(),
                copy_barcode: "P000002".into(),
                override_reason: override_reason.into(),
                ..Default::default()
            },
            token,
        )
    };
    assert_refused(
        suite.loans().check_out(lend("", assistant)).await,
        Code::FailedPrecondition,
        Reason::ReaderHasOverdue,
    );
    assert_refused(
        suite.loans().check_out(lend("班主任担保", assistant)).await,
        Code::PermissionDenied,
        Reason::OverrideNotAllowed,
    );
    let lent = suite.loans().check_out(lend("班主任担保", librarian)).await.expect("lent past the block");
    assert!(lent.into_inner().loan.is_some_and(|loan| loan.r#override.is_some()));

    // A second load into the same district is refused.
    assert!(lectern::demo::load_as(&suite.channel, &token).await.is_err());
}
