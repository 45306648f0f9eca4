//! The desk's one-call view of a scanned card: loans, holds, open fees, and
//! what blocks the reader now, in check-out's words.

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckInRequest, CirculationRule, CreateCirculationRuleRequest, GetReaderSummaryRequest, LoanPeriodUnit,
    PlaceHoldRequest,
};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer, lent_days_ago};

#[tokio::test]
async fn a_scanned_card_shows_loans_holds_fees_and_blocks() {
    let suite = TestSuite::start().await;
    let school = suite.school("SUM-PRI", "概览小学").await;
    let other = suite.school("SUM-MID", "概览中学").await;
    let reader = suite.student(&school, "R950001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    let wanted = suite.title("978-7-02-000872-8", "西游记", "吴承恩").await;
    for barcode in ["S950001", "S950002", "S950003"] {
        suite.copy(&title, &school, barcode).await;
    }
    suite.copy(&wanted, &school, "S950101").await;
    let librarian = suite.staff("sum.librarian", StaffRole::Librarian, &[&school]).await;
    let stranger = suite.staff("sum.stranger", StaffRole::Librarian, &[&other]).await;
    suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    school_id: school.id.clone(),
                    loanable: true,
                    loan_period_unit: LoanPeriodUnit::Days.into(),
                    loan_period: 7,
                    renewal_period_days: 7,
                    hold_shelf_days: 7,
                    max_holds: 3,
                    fine_per_open_day: 10,
                    block_when_overdue_days: Some(3),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("rule");
    // One returned late (a fine), one overdue now, two fresh; a hold.
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R950001", "S950001", 12), &librarian))
        .await
        .expect("lent");
    suite
        .loans()
        .check_in(bearer(
            CheckInRequest {
                copy_barcode: "S950001".into(),
                request_id: String::new(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("returned late");
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R950001", "S950003", 0), &librarian))
        .await
        .expect("lent");
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R950001", "S950101", 0), &librarian))
        .await
        .expect("lent");
    // Recorded after the fact: judged as of two weeks ago, overdue now.
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R950001", "S950002", 14), &librarian))
        .await
        .expect("lent");
    suite
        .holds()
        .place_hold(bearer(
            PlaceHoldRequest {
                reader_card_barcode: "R950001".into(),
                title_id: title.id.clone(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("hold");

    let summary = suite
        .loans()
        .get_reader_summary(bearer(
            GetReaderSummaryRequest { reader_card_barcode: "R950001".into(), ..Default::default() },
            &librarian,
        ))
        .await
        .expect("summary")
        .into_inner();
    assert_eq!(summary.reader.as_ref().map(|found| found.id.as_str()), Some(reader.id.as_str()));
    let barcodes: Vec<&str> = summary.loans.iter().map(|loan| loan.copy_barcode.as_str()).collect();
    assert_eq!(barcodes[0], "S950002", "soonest due first");
    assert_eq!(barcodes.len(), 3);
    assert!(summary.loans[0].overdue);
    assert_eq!(summary.holds.len(), 1);
    assert_eq!(summary.holds[0].title, "草房子");
    assert_eq!(summary.holds[0].position, 1);
    assert_eq!(summary.fees.len(), 1);
    assert!(summary.balance > 0);
    let blocks: Vec<(&str, bool)> =
        summary.blocks.iter().map(|block| (block.reason.as_str(), block.overridable)).collect();
    assert_eq!(blocks, [("READER_HAS_OVERDUE", true)]);

    assert_refused(
        suite
            .loans()
            .get_reader_summary(bearer(
                GetReaderSummaryRequest { reader_card_barcode: "R950001".into(), ..Default::default() },
                &stranger,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
}
