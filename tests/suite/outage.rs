//! A service that is down: callers answer UNAVAILABLE quickly, check-outs
//! keep working while notification is down, and the notices arrive once it
//! is back.

use std::time::{Duration, Instant};

use lectern_proto::circulation::v1::CheckOutRequest;
use lectern_proto::notification::v1::ListNoticesRequest;
use tonic::Code;

use crate::harness::{TestSuite, eventually};

fn checkout(reader: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: reader.into(), copy_barcode: copy.into(), ..Default::default() }
}

#[tokio::test]
async fn check_outs_work_while_notification_is_down_and_notices_follow() {
    let mut suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let reader = suite.student(&school, "R100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &school, "P000001").await;
    suite.copy(&title, &school, "P000002").await;

    suite.suite.stop("notification").await.unwrap();

    suite.loans().check_out(suite.admin(checkout("R100001", "P000001"))).await.expect("lending works");
    suite.loans().check_out(suite.admin(checkout("R100001", "P000002"))).await.expect("lending works");

    let asked = Instant::now();
    let status = suite
        .notifications()
        .list_notices(suite.admin(ListNoticesRequest { reader_id: reader.id.clone(), ..Default::default() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(asked.elapsed() < Duration::from_secs(3), "answered in {:?}", asked.elapsed());

    suite.suite.restart("notification").await.unwrap();

    let notices = eventually(Duration::from_secs(30), "both receipts after notification is back", || async {
        let notices = suite
            .notifications()
            .list_notices(
                suite.admin(ListNoticesRequest { reader_id: reader.id.clone(), ..Default::default() }),
            )
            .await
            .ok()?
            .into_inner()
            .notices;
        (notices.len() >= 2).then_some(notices)
    })
    .await;
    assert_eq!(notices.len(), 2, "each event stored once");
}

#[tokio::test]
async fn a_check_out_answers_unavailable_quickly_when_the_catalog_is_down() {
    let mut suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&school, "R100001").await;

    suite.suite.stop("catalog").await.unwrap();
    let asked = Instant::now();
    let status = suite.loans().check_out(suite.admin(checkout("R100001", "P000001"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("catalog"), "{status:?}");
    assert!(asked.elapsed() < Duration::from_secs(3), "answered in {:?}", asked.elapsed());
}
