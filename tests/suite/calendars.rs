//! School calendars: a librarian closes weekends and a sports day, and the
//! due day of the next loan moves past them to the next open day; loans
//! made before keep theirs. Only librarians of the school (and district
//! admins) change a calendar, and a bad one is refused whole.

use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckOutRequest, Closure, ClosureKind, GetLoanRequest, GetSchoolCalendarRequest, SchoolCalendar,
    SetSchoolCalendarRequest, Term,
};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

fn text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A check-out recorded after the fact, at 10:00 Shanghai time on `day`.
fn checkout_on(day: NaiveDate, copy: &str) -> CheckOutRequest {
    let at = Shanghai.from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap()).unwrap().with_timezone(&Utc);
    CheckOutRequest {
        reader_card_barcode: "R300001".into(),
        copy_barcode: copy.into(),
        occurred_at: Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }),
        ..Default::default()
    }
}

#[tokio::test]
async fn due_days_move_past_the_days_a_school_is_closed() {
    let suite = TestSuite::start().await;
    let school = suite.school("CAL-PRI", "日历小学").await;
    let other = suite.school("CAL-MID", "日历中学").await;
    suite.student(&school, "R300001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "C300001").await;
    suite.copy(&title, &school, "C300002").await;
    let librarian = suite.staff("cal.librarian", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("cal.assistant", StaffRole::Assistant, &[&school]).await;

    // The last Saturday before today: a 14-day loan made then is due on a Saturday.
    let today = suite.today();
    let mut saturday = today - Days::new(1);
    while saturday.weekday() != Weekday::Sat {
        saturday = saturday - Days::new(1);
    }
    let plus = |days: u64| saturday + Days::new(days);

    // No calendar yet: open every day, so the due day is the loan period's.
    let calendar = suite
        .calendars()
        .get_school_calendar(bearer(GetSchoolCalendarRequest { school_id: school.id.clone() }, &assistant))
        .await
        .expect("anyone on the school's staff reads its calendar")
        .into_inner();
    assert!(
        calendar.closed_weekdays.is_empty() && calendar.closures.is_empty() && calendar.updated_at.is_none()
    );
    let before = suite
        .loans()
        .check_out(bearer(checkout_on(saturday, "C300001"), &librarian))
        .await
        .expect("check-out before the calendar")
        .into_inner()
        .loan
        .unwrap();
    assert_eq!(before.due_date, text(plus(14)));

    // Weekends closed, and a sports day on the Monday and Tuesday after.
    let wanted = SchoolCalendar {
        school_id: school.id.clone(),
        closed_weekdays: vec![7, 6],
        closures: vec![Closure {
            first_day: text(plus(16)),
            last_day: text(plus(17)),
            kind: ClosureKind::Holiday.into(),
            name: "运动会".into(),
        }],
        terms: vec![Term {
            name: "本学期".into(),
            first_day: text(plus(0) - Days::new(60)),
            last_day: text(plus(100)),
        }],
        ..Default::default()
    };
    let set = suite
        .calendars()
        .set_school_calendar(bearer(set_calendar(wanted.clone()), &librarian))
        .await
        .expect("the school's librarian sets its calendar")
        .into_inner();
    assert_eq!(set.closed_weekdays, [6, 7]);
    assert_eq!(set.closures, wanted.closures);
    assert!(set.updated_at.is_some() && !set.updated_by.is_empty());
    let read = suite
        .calendars()
        .get_school_calendar(suite.admin(GetSchoolCalendarRequest { school_id: school.id.clone() }))
        .await
        .expect("read back")
        .into_inner();
    assert_eq!(read, set, "what was stored reads back the same");

    // Saturday, Sunday, the sports day's Monday and Tuesday: due on Wednesday.
    let after = suite
        .loans()
        .check_out(bearer(checkout_on(saturday, "C300002"), &librarian))
        .await
        .expect("check-out after the calendar")
        .into_inner()
        .loan
        .unwrap();
    assert_eq!(after.due_date, text(plus(18)));
    assert_eq!(plus(18).weekday(), Weekday::Wed);
    // The earlier loan keeps the due day it was given.
    let kept = suite
        .loans()
        .get_loan(suite.admin(GetLoanRequest { id: before.id.clone() }))
        .await
        .expect("earlier loan")
        .into_inner();
    assert_eq!(kept.due_date, text(plus(14)));

    // An assistant may not change it, nor a librarian another school's.
    assert_refused(
        suite.calendars().set_school_calendar(bearer(set_calendar(wanted.clone()), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let elsewhere = SchoolCalendar { school_id: other.id.clone(), ..wanted.clone() };
    assert_refused(
        suite.calendars().set_school_calendar(bearer(set_calendar(elsewhere), &librarian)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        suite
            .calendars()
            .get_school_calendar(bearer(GetSchoolCalendarRequest { school_id: other.id.clone() }, &librarian))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );

    // A bad calendar is refused whole, naming the field; the stored one stays.
    let backwards = SchoolCalendar {
        closures: vec![Closure {
            first_day: text(plus(30)),
            last_day: text(plus(20)),
            kind: ClosureKind::TermBreak.into(),
            name: "寒假".into(),
        }],
        ..wanted.clone()
    };
    assert_invalid(
        suite.calendars().set_school_calendar(bearer(set_calendar(backwards), &librarian)).await,
        "closures",
    );
    let every_day = SchoolCalendar { closed_weekdays: (1..=7).collect(), ..wanted.clone() };
    assert_invalid(
        suite.calendars().set_school_calendar(bearer(set_calendar(every_day), &librarian)).await,
        "closed_weekdays",
    );
    let unchanged = suite
        .calendars()
        .get_school_calendar(suite.admin(GetSchoolCalendarRequest { school_id: school.id.clone() }))
        .await
        .expect("read again")
        .into_inner();
    assert_eq!(unchanged, set);

    // A desk's change that is retried after another desk's change gets its
    // first answer back and does not undo the other change.
    let read = |suite: &TestSuite| {
        let mut calendars = suite.calendars();
        let request = suite.admin(GetSchoolCalendarRequest { school_id: school.id.clone() });
        async move { calendars.get_school_calendar(request).await.expect("read").into_inner() }
    };
    let sundays = SchoolCalendar { closed_weekdays: vec![7], ..wanted.clone() };
    let sundays_id = lectern_core::ids::new_id();
    let first = suite
        .calendars()
        .set_school_calendar(bearer(
            SetSchoolCalendarRequest { calendar: Some(sundays.clone()), request_id: sundays_id.clone() },
            &librarian,
        ))
        .await
        .expect("Sundays only")
        .into_inner();
    assert_eq!(first.closed_weekdays, [7]);
    let second = suite
        .calendars()
        .set_school_calendar(bearer(
            SetSchoolCalendarRequest {
                calendar: Some(wanted.clone()),
                request_id: lectern_core::ids::new_id(),
            },
            &librarian,
        ))
        .await
        .expect("weekends again")
        .into_inner();
    assert_eq!(second.closed_weekdays, [6, 7]);
    let retried = suite
        .calendars()
        .set_school_calendar(bearer(
            SetSchoolCalendarRequest { calendar: Some(sundays), request_id: sundays_id },
            &librarian,
        ))
        .await
        .expect("the retry is answered")
        .into_inner();
    assert_eq!(retried, first, "the first answer again");
    assert_eq!(read(&suite).await, second, "the later change stands");
}

/// A request to set `calendar`, without a request id.
fn set_calendar(calendar: SchoolCalendar) -> SetSchoolCalendarRequest {
    SetSchoolCalendarRequest { calendar: Some(calendar), request_id: String::new() }
}
