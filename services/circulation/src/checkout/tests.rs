//! What a new loan records, without a server or a database.

use lectern_proto::catalog::v1::{Copy, CopyStatus};
use lectern_proto::reader::v1::{Reader, ReaderStatus};

use super::*;
use crate::policy::calendar::SchoolCalendar;
use crate::policy::fixtures::{ZONE, morning};
use crate::policy::rule::{Scope, Terms};

fn rule() -> Rule {
    Rule {
        id: "rule-1".into(),
        version: 3,
        scope: Scope { reader_category: Some("student".into()), ..Scope::default() },
        name: String::new(),
        terms: Terms::plain(),
        updated_by: "admin".into(),
        updated_at: chrono::NaiveDateTime::default(),
    }
}

#[test]
fn a_loan_keeps_the_class_number_of_the_call_number() {
    assert_eq!(classification_of("I287.45/C12"), "I287.45");
    assert_eq!(classification_of(" TP311 "), "TP311");
    assert_eq!(classification_of(""), "");
}

#[test]
fn a_new_loan_snapshots_the_reader_copy_rule_and_override() {
    let reader = convert::borrower(&Reader {
        id: "reader-1".into(),
        school_id: "school-1".into(),
        category: "teacher".into(),
        status: ReaderStatus::Active.into(),
        ..Default::default()
    });
    let copy = convert::item(&Copy {
        id: "copy-1".into(),
        title_id: "title-1".into(),
        barcode: "C0001".into(),
        school_id: "school-1".into(),
        status: CopyStatus::Available.into(),
        title: "草房子".into(),
        item_type: "book".into(),
        call_number: "I287.45/C12".into(),
        ..Default::default()
    });
    let rule = rule();
    let now = morning("2026-03-01");
    let due = crate::policy::due::due(now, 14, ZONE, &SchoolCalendar::default());
    let row = NewLoan {
        reader: &reader,
        copy: &copy,
        school_id: &copy.school_id,
        checked_out_at: now,
        due,
        checked_out_by: "staff-1",
        rule: &rule,
        overridden: Some(Overridden { reason: "家长已赔书".into(), blocks: "READER_BLOCKED".into() }),
        now,
    }
    .row();
    assert_eq!(row.reader_class_id, None);
    assert_eq!(row.reader_category, "teacher");
    assert_eq!(row.title, "草房子");
    assert_eq!(row.school_id, "school-1");
    assert_eq!(row.item_type, "book");
    assert_eq!(row.classification, "I287.45");
    assert_eq!((row.rule_id.as_deref(), row.rule_version), (Some("rule-1"), Some(3)));
    assert_eq!(row.override_reason.as_deref(), Some("家长已赔书"));
    assert_eq!(row.overridden_by.as_deref(), Some("staff-1"));
    assert_eq!(row.overridden_blocks.as_deref(), Some("READER_BLOCKED"));
    assert_eq!(row.due_date, due.date_text());
    assert_eq!(row.returned_at, None);
    assert_eq!((row.history_retention.as_str(), row.history_days), ("keep", None));
}
