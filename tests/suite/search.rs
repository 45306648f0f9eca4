//! Cataloguing by ISBN and searching in Chinese and English, with each
//! copy's availability following circulation's events.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::{Availability, CreateTitleRequest, SearchHit, SearchTitlesRequest};
use lectern_proto::circulation::v1::CheckOutRequest;
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, eventually};

async fn search(suite: &TestSuite, query: &str) -> Vec<SearchHit> {
    suite
        .catalog()
        .search_titles(suite.admin(SearchTitlesRequest { query: query.into(), ..Default::default() }))
        .await
        .unwrap_or_else(|status| panic!("search {query:?}: {status:?}"))
        .into_inner()
        .hits
}

fn titles(hits: &[SearchHit]) -> Vec<String> {
    hits.iter().filter_map(|hit| hit.title.as_ref().map(|title| title.title.clone())).collect()
}

#[tokio::test]
async fn titles_are_found_by_isbn_title_and_author_in_both_languages() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    // ISBN-10 in, ISBN-13 stored.
    let charlotte = suite.title("0-06-440055-7", "Charlotte's Web", "E. B. White").await;
    assert_eq!(charlotte.isbn13, "9780064400558");
    assert_eq!(charlotte.isbn10, "0064400557");
    let grass = suite.title("978 7 5346 8798 3", "草房子", "曹文轩").await;
    let forest = suite.title("9787556058877", "森林报·春", "维·比安基").await;
    suite.title("9787556058884", "大森林里的小木屋", "劳拉·英格斯·怀尔德").await;
    suite.copy(&grass, &school, "P000001").await;
    suite.copy(&grass, &school, "P000002").await;
    suite.copy(&charlotte, &school, "P000003").await;

    assert_eq!(titles(&search(&suite, "9780064400558").await), ["Charlotte's Web"]);
    assert_eq!(titles(&search(&suite, "0064400557").await), ["Charlotte's Web"], "ISBN-10 finds it too");
    assert_eq!(titles(&search(&suite, "草房").await), ["草房子"], "two Chinese characters");
    assert_eq!(titles(&search(&suite, "曹文轩").await), ["草房子"], "by author");
    assert_eq!(titles(&search(&suite, "charlot").await), ["Charlotte's Web"], "English prefix, any case");
    assert_eq!(titles(&search(&suite, "white").await), ["Charlotte's Web"], "English author");
    let woods = titles(&search(&suite, "森林").await);
    assert_eq!(woods.len(), 2);
    assert!(woods.contains(&forest.title));

    let hits = search(&suite, "草房子").await;
    assert_eq!(hits[0].copies.len(), 2);
    assert_eq!(hits[0].available_copies, 2);
    assert!(hits[0].copies.iter().all(|copy| copy.availability == Availability::OnShelf as i32));
    assert!(search(&suite, "哈利").await.is_empty());
}

#[tokio::test]
async fn availability_follows_check_out() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&school, "R100001").await;
    let title = suite.title("9787532147687", "城南旧事", "林海音").await;
    suite.copy(&title, &school, "P000001").await;
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R100001".into(),
            copy_barcode: "P000001".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let hit = eventually(Duration::from_secs(20), "the copy to show as on loan", || async {
        let hits = search(&suite, "城南旧事").await;
        let hit = hits.into_iter().next()?;
        (hit.copies[0].availability == Availability::OnLoan as i32).then_some(hit)
    })
    .await;
    assert_eq!(hit.available_copies, 0);
    assert!(hit.copies[0].due_at.is_some());
}

#[tokio::test]
async fn a_bad_or_duplicate_isbn_is_refused_and_changes_nothing() {
    let suite = TestSuite::start().await;
    let request =
        |isbn: &str| CreateTitleRequest {
            isbn: isbn.into(), title: "草房子".into(), ..Default::default()
        };
    assert_invalid(suite.catalog().create_title(suite.admin(request("9787534687984"))).await, "isbn");
    assert_invalid(suite.catalog().create_title(suite.admin(request("978753468798"))).await, "isbn");
    assert_invalid(suite.catalog().create_title(suite.admin(request("0-06-440055-X"))).await, "isbn");
    assert!(search(&suite, "草房子").await.is_empty(), "nothing was catalogued");

    suite.catalog().create_title(suite.admin(request("9787534687983"))).await.unwrap();
    assert_refused(
        suite.catalog().create_title(suite.admin(request("978-7-5346-8798-3"))).await,
        Code::AlreadyExists,
        Reason::IsbnTaken,
    );
    assert_eq!(search(&suite, "草房子").await.len(), 1);
}
