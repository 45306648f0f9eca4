//! The promotion plan and its naming rule, without a database.

use super::*;
use lectern_core::refusal::Reason;

fn class(id: &str, name: &str, grade: i32, students: i64) -> OldClass {
    OldClass { id: id.into(), name: name.into(), grade, students }
}

#[test]
fn chinese_names_move_up_a_grade() {
    assert_eq!(promoted_name("三年级(2)班", 3), "四年级(2)班");
    assert_eq!(promoted_name("一年级1班", 1), "二年级1班");
    assert_eq!(promoted_name("九年级(1)班", 9), "十年级(1)班");
    assert_eq!(promoted_name("十一年级(3)班", 11), "十二年级(3)班");
    // "一年级" inside "十一年级" is not grade 1.
    assert_eq!(promoted_name("十一年级(3)班", 1), "十一年级(3)班");
    assert_eq!(promoted_name("初一(3)班", 7), "初二(3)班");
    assert_eq!(promoted_name("初三(3)班", 9), "高一(3)班");
    assert_eq!(promoted_name("高二理科班", 11), "高三理科班");
}

#[test]
fn numbered_names_move_up_a_grade() {
    assert_eq!(promoted_name("Grade 3 B", 3), "Grade 4 B");
    assert_eq!(promoted_name("3-2", 3), "4-2");
    assert_eq!(promoted_name("2-3", 3), "2-4");
    assert_eq!(promoted_name("3年级12班", 3), "4年级12班");
    assert_eq!(promoted_name("Grade 9", 9), "Grade 10");
    // 13 is not 3; a name without the grade stays.
    assert_eq!(promoted_name("Room 13", 3), "Room 13");
    assert_eq!(promoted_name("Blue Whales", 4), "Blue Whales");
}

#[test]
fn lower_grades_move_up_and_the_top_grade_graduates() {
    let classes = vec![
        class("c6b", "六年级(2)班", 6, 30),
        class("c3", "三年级(1)班", 3, 25),
        class("c6a", "六年级(1)班", 6, 28),
        class("c5", "五年级(1)班", 5, 0),
    ];
    let plan = plan(classes, 6, "2026-2027", "2027-2028", &HashSet::new()).unwrap();
    let moves: Vec<(&str, &str, i32, i64)> = plan
        .promotions
        .iter()
        .map(|p| (p.from.id.as_str(), p.to_name.as_str(), p.to_grade, p.from.students))
        .collect();
    assert_eq!(moves, [("c3", "四年级(1)班", 4, 25), ("c5", "六年级(1)班", 6, 0)]);
    let graduating: Vec<&str> = plan.graduations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(graduating, ["c6a", "c6b"]);
    assert_eq!((plan.promoted_students(), plan.graduates()), (25, 58));
}

#[test]
fn a_plan_refuses_what_it_cannot_do() {
    let none = HashSet::new();
    let nothing = plan(Vec::new(), 6, "2026-2027", "2027-2028", &none).unwrap_err();
    assert_eq!(nothing.reason(), Some(Reason::YearEndNothingToPromote));

    let above = plan(vec![class("c7", "初一(1)班", 7, 1)], 6, "2026-2027", "2027-2028", &none);
    assert!(matches!(above, Err(Error::InvalidArgument(field)) if field.field == "top_grade"));

    // The new year already has a class of the name the promotion would use.
    let taken: HashSet<String> = ["四年级(1)班".to_owned()].into();
    let clash = plan(vec![class("c3", "三年级(1)班", 3, 1)], 6, "2026-2027", "2027-2028", &taken);
    let clash = clash.unwrap_err();
    assert_eq!(clash.reason(), Some(Reason::ClassNameTaken));
    assert!(clash.to_string().contains("四年级(1)班"), "{clash}");

    // Two old classes that would get one new name.
    let twins = vec![class("a", "Grade 3 A", 3, 1), class("b", "Grade 4 A", 3, 1)];
    let twins = plan(twins, 6, "2026-2027", "2027-2028", &none).unwrap_err();
    assert_eq!(twins.reason(), Some(Reason::ClassNameTaken));
}

#[test]
fn requests_are_checked_field_by_field() {
    let good = YearEndRequest {
        school_id: ids::new_id(),
        from_school_year: "2026-2027".into(),
        to_school_year: "2027-2028".into(),
        top_grade: 6,
        graduate_expires_on: "2027-08-31".into(),
        request_id: String::new(),
    };
    let year_end = YearEnd::from_request(&good).unwrap();
    assert_eq!(year_end.graduate_expires_on, NaiveDate::from_ymd_opt(2027, 8, 31).unwrap());
    let field = |request: YearEndRequest| YearEnd::from_request(&request).unwrap_err().field;
    assert_eq!(
        field(YearEndRequest { to_school_year: "2028-2029".into(), ..good.clone() }),
        "to_school_year"
    );
    assert_eq!(field(YearEndRequest { from_school_year: "2026".into(), ..good.clone() }), "from_school_year");
    assert_eq!(field(YearEndRequest { top_grade: 13, ..good.clone() }), "top_grade");
    assert_eq!(
        field(YearEndRequest { graduate_expires_on: String::new(), ..good.clone() }),
        "graduate_expires_on"
    );
    assert_eq!(field(YearEndRequest { school_id: "x".into(), ..good }), "school_id");
}
