//! Planning against a school's readers and classes.

use chrono::NaiveDateTime;

use super::*;
use crate::roster::ClassRef;

const SCHOOL: &str = "school-1";

fn now() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc()
}

fn entry(line: u64, number: &str, name: &str, class: Option<(&str, i32)>) -> RosterReader {
    RosterReader {
        file: "r.csv".into(),
        line,
        number: number.into(),
        name: name.into(),
        category: "student".into(),
        card_barcode: None,
        class: class.map(|(name, grade)| ClassRef {
            name: name.into(),
            grade,
            school_year: "2026-2027".into(),
        }),
        expires_on: None,
        active: true,
    }
}

fn stored(id: &str, number: &str, name: &str, category: &str) -> ReaderRow {
    ReaderRow {
        id: id.into(),
        school_id: SCHOOL.into(),
        card_barcode: format!("CARD-{id}"),
        name: name.into(),
        category: category.into(),
        class_id: None,
        status: STATUS_ACTIVE.into(),
        expires_on: None,
        created_at: now(),
        number: Some(number.into()),
        name_key: name_key(name),
    }
}

fn ids() -> impl FnMut() -> String {
    let mut next = 0;
    move || {
        next += 1;
        format!("new-{next}")
    }
}

fn roster(readers: Vec<RosterReader>) -> Roster {
    Roster { readers, ..Roster::default() }
}

#[test]
fn creates_updates_deactivates_and_leaves_the_rest() {
    let existing = Existing {
        readers: vec![
            stored("r1", "S1", "王小明", "student"),
            stored("r2", "S2", "李华", "student"),
            stored("r3", "S3", "张三", "student"),
            stored("r4", "T1", "赵老师", "teacher"),
            ReaderRow { number: None, ..stored("r5", "", "手工登记", "student") },
        ],
        ..Existing::default()
    };
    let roster = roster(vec![
        entry(2, "S1", "王小明", None),
        entry(3, "S2", "李小华", Some(("三年级(1)班", 3))),
        entry(4, "S9", "新同学", Some(("三年级(1)班", 3))),
    ]);
    let plan = plan(&roster, SCHOOL, &existing, now(), ids());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.new_classes.len(), 1);
    assert_eq!(plan.creates.len(), 1);
    assert_eq!(plan.creates[0].card_barcode, "S9");
    assert_eq!(plan.creates[0].class_id.as_deref(), Some(plan.new_classes[0].id.as_str()));
    assert_eq!((plan.updated, plan.deactivated, plan.unchanged), (1, 1, 1));
    let kinds: Vec<(ChangeKind, &str, Vec<&str>)> = plan
        .changes
        .iter()
        .map(|change| (change.kind, change.number.as_str(), change.fields.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (ChangeKind::Update, "S2", vec!["name", "class"]),
            (ChangeKind::Create, "S9", vec![]),
            // The teacher is not a student, and r5 has no number: both stay.
            (ChangeKind::Deactivate, "S3", vec!["status"]),
        ]
    );
    assert_eq!(plan.updates.iter().find(|row| row.id == "r2").unwrap().name_key, "李小华");
}

#[test]
fn a_partial_roster_deactivates_nobody() {
    let existing = Existing { readers: vec![stored("r1", "S1", "A", "student")], ..Existing::default() };
    let mut partial = roster(vec![entry(2, "S2", "B", None)]);
    partial.partial = true;
    let plan = plan(&partial, SCHOOL, &existing, now(), ids());
    assert_eq!((plan.creates.len(), plan.deactivated), (1, 0));
}

#[test]
fn inactive_lines_deactivate_known_readers_and_skip_unknown_ones() {
    let existing = Existing { readers: vec![stored("r1", "S1", "A", "student")], ..Existing::default() };
    let left = RosterReader { active: false, ..entry(2, "S1", "A", None) };
    let never = RosterReader { active: false, ..entry(3, "S2", "B", None) };
    let plan = plan(&roster(vec![left, never]), SCHOOL, &existing, now(), ids());
    assert_eq!((plan.deactivated, plan.skipped, plan.creates.len()), (1, 1, 0));
    assert_eq!(plan.updates[0].status, STATUS_INACTIVE);
}

#[test]
fn class_grades_must_agree() {
    let existing = Existing {
        classes: vec![ClassRow {
            id: "c1".into(),
            school_id: SCHOOL.into(),
            name: "3A".into(),
            grade: 3,
            school_year: "2026-2027".into(),
            created_at: now(),
        }],
        ..Existing::default()
    };
    let plan = plan(
        &roster(vec![
            entry(2, "S1", "A", Some(("3A", 4))),
            entry(3, "S2", "B", Some(("4B", 4))),
            entry(4, "S3", "C", Some(("4B", 5))),
        ]),
        SCHOOL,
        &existing,
        now(),
        ids(),
    );
    let errors: Vec<(u64, String)> =
        plan.errors.into_iter().map(|error| (error.line, error.message)).collect();
    assert_eq!(
        errors,
        vec![
            (2, "class 3A of 2026-2027 is grade 3 in Lectern".to_owned()),
            (4, "class 4B of 2026-2027 is grade 4 on line 3".to_owned()),
        ]
    );
}

#[test]
fn cards_held_by_other_readers_are_errors() {
    let existing = Existing {
        card_holders: [("S1".to_owned(), "other-school-reader".to_owned())].into(),
        ..Existing::default()
    };
    let plan = plan(&roster(vec![entry(2, "S1", "A", None)]), SCHOOL, &existing, now(), ids());
    assert_eq!(plan.errors.len(), 1);
    assert_eq!(plan.errors[0].column, "number");
    assert!(plan.errors[0].message.contains("card barcode S1 already belongs to another reader"));
}
