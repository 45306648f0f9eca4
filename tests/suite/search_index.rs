//! Catalog search through the gateway, as a desk, a kiosk or the portal
//! uses it: Chinese of any length, English words and prefixes, authors,
//! subjects, every ISBN of a title, ranking, filters, pages; availability
//! per school from circulation's events; new arrivals and popular titles.
//! The suite runs on SQLite and on PostgreSQL, and every list here is
//! asserted in full and in order, so both backends give the same lists.

use std::time::Duration;

use lectern_proto::catalog::v1::discovery_service_client::DiscoveryServiceClient;
use lectern_proto::catalog::v1::{
    Contributor, CreateTitleRequest, GradeRange, ListNewArrivalsRequest, ListPopularTitlesRequest,
    SchoolAvailability, SearchField, SearchHit, SearchTitlesRequest, Title,
};
use lectern_proto::circulation::v1::CheckOutRequest;
use lectern_proto::events::v1::event_sink_client::EventSinkClient;
use lectern_proto::events::v1::{DeliverRequest, Event, HoldReady, TransitStarted, event};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginRequest, School, ServiceCredentials, login_request};

use crate::harness::{SERVICE_KEY, TestSuite, assert_invalid, bearer, eventually};

/// A title as a cataloguer enters it, with the fields search looks at.
struct Book<'a> {
    isbn: &'a str,
    title: &'a str,
    author: &'a str,
    language: &'a str,
    subjects: &'a [&'a str],
    clc: &'a str,
    dewey: &'a str,
    grades: Option<(i32, i32)>,
    other_isbns: &'a [&'a str],
}

const BOOK: Book<'static> = Book {
    isbn: "",
    title: "",
    author: "佚名",
    language: "zh",
    subjects: &[],
    clc: "",
    dewey: "",
    grades: None,
    other_isbns: &[],
};

async fn catalog(suite: &TestSuite, book: Book<'_>) -> Title {
    suite
        .catalog()
        .create_title(suite.admin(CreateTitleRequest {
            isbn: book.isbn.into(),
            title: book.title.into(),
            contributors: vec![Contributor { name: book.author.into(), role: 1 }],
            language: book.language.into(),
            subjects: book.subjects.iter().map(|subject| (*subject).to_owned()).collect(),
            clc: book.clc.into(),
            dewey: book.dewey.into(),
            audience: book.grades.map(|(min_grade, max_grade)| GradeRange { min_grade, max_grade }),
            other_isbns: book.other_isbns.iter().map(|isbn| (*isbn).to_owned()).collect(),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|status| panic!("catalog {}: {status:?}", book.title))
        .into_inner()
}

async fn search_with(suite: &TestSuite, request: SearchTitlesRequest) -> Vec<SearchHit> {
    suite
        .catalog()
        .search_titles(suite.admin(request.clone()))
        .await
        .unwrap_or_else(|status| panic!("search {request:?}: {status:?}"))
        .into_inner()
        .hits
}

fn query(text: &str) -> SearchTitlesRequest {
    SearchTitlesRequest { query: text.into(), ..Default::default() }
}

async fn found(suite: &TestSuite, request: SearchTitlesRequest) -> Vec<String> {
    titles(&search_with(suite, request).await)
}

fn titles(hits: &[SearchHit]) -> Vec<String> {
    hits.iter().filter_map(|hit| hit.title.as_ref().map(|title| title.title.clone())).collect()
}

/// A small mixed catalog.
async fn shelf(suite: &TestSuite) {
    for book in [
        Book {
            isbn: "9787534687983",
            title: "草房子",
            author: "曹文轩",
            subjects: &["儿童文学", "小说"],
            clc: "I287.45",
            grades: Some((3, 6)),
            ..BOOK
        },
        Book {
            isbn: "9787556058877",
            title: "森林报·春",
            author: "维·比安基",
            subjects: &["科普读物", "动物"],
            clc: "I512.85",
            grades: Some((2, 5)),
            ..BOOK
        },
        Book {
            isbn: "9787556058884",
            title: "大森林里的小木屋",
            author: "劳拉·英格斯·怀尔德",
            subjects: &["儿童文学"],
            clc: "I712.85",
            grades: Some((1, 4)),
            ..BOOK
        },
        Book {
            isbn: "9787530758519",
            title: "森林",
            author: "王森",
            subjects: &["自然"],
            clc: "Q948",
            grades: Some((0, 2)),
            ..BOOK
        },
        Book {
            isbn: "9787544268516",
            title: "森林王国历险记",
            author: "李林",
            subjects: &["童话"],
            clc: "I287.7",
            grades: Some((2, 4)),
            ..BOOK
        },
        Book {
            isbn: "0-06-440055-7",
            title: "Charlotte's Web",
            author: "E. B. White",
            language: "en",
            subjects: &["Friendship", "Pigs"],
            dewey: "813.52",
            grades: Some((2, 5)),
            other_isbns: &["9780064410939"],
            ..BOOK
        },
        Book {
            isbn: "9780141365466",
            title: "Charlie and the Chocolate Factory",
            author: "Roald Dahl",
            language: "en",
            subjects: &["Fantasy"],
            dewey: "823.914",
            grades: Some((3, 6)),
            ..BOOK
        },
        Book {
            isbn: "9780060254926",
            title: "Where the Wild Things Are",
            author: "Maurice Sendak",
            language: "en",
            subjects: &["Picture books", "Monsters"],
            dewey: "813.54",
            grades: Some((0, 2)),
            ..BOOK
        },
    ] {
        catalog(suite, book).await;
    }
}

#[tokio::test]
async fn chinese_english_authors_subjects_and_every_isbn_are_found() {
    let suite = TestSuite::start().await;
    shelf(&suite).await;
    // Two characters: exact title first, then title prefix, title part.
    assert_eq!(
        found(&suite, query("森林")).await,
        ["森林", "森林报·春", "森林王国历险记", "大森林里的小木屋"],
        "two Chinese characters"
    );
    assert_eq!(found(&suite, query("森林王国")).await, ["森林王国历险记"], "four characters");
    assert_eq!(found(&suite, query("小木屋")).await, ["大森林里的小木屋"], "three characters, mid-title");
    assert_eq!(found(&suite, query("木")).await, ["大森林里的小木屋"], "one character");
    assert_eq!(found(&suite, query("林报")).await, ["森林报·春"], "across the middle of words");
    assert!(found(&suite, query("林王森")).await.is_empty(), "windows of different titles do not add up");
    assert_eq!(found(&suite, query("曹文轩")).await, ["草房子"], "author");
    assert_eq!(found(&suite, query("charlotte")).await, ["Charlotte's Web"], "English word");
    assert_eq!(
        found(&suite, query("CHAR")).await,
        ["Charlie and the Chocolate Factory", "Charlotte's Web"],
        "prefix, any case"
    );
    assert_eq!(found(&suite, query("wild thin")).await, ["Where the Wild Things Are"], "two words");
    assert_eq!(found(&suite, query("dahl")).await, ["Charlie and the Chocolate Factory"], "English author");

    let by = |field: SearchField, text: &str| SearchTitlesRequest { field: field.into(), ..query(text) };
    assert_eq!(found(&suite, by(SearchField::Author, "林")).await, ["森林王国历险记"], "author 李林 only");
    assert_eq!(found(&suite, by(SearchField::Title, "林")).await.len(), 4, "titles with 林 only");
    assert_eq!(found(&suite, by(SearchField::Subject, "儿童文学")).await, ["大森林里的小木屋", "草房子"]);
    assert_eq!(found(&suite, by(SearchField::Subject, "pig")).await, ["Charlotte's Web"]);
    assert_eq!(
        found(&suite, by(SearchField::Keyword, "friendship")).await,
        ["Charlotte's Web"],
        "keyword = any field"
    );
    assert!(found(&suite, by(SearchField::Title, "曹文轩")).await.is_empty(), "an author is not a title");

    assert_eq!(found(&suite, query("0064400557")).await, ["Charlotte's Web"], "ISBN-10");
    assert_eq!(found(&suite, query("978-0-06-440055-8")).await, ["Charlotte's Web"], "ISBN-13");
    assert_eq!(found(&suite, query("9780064410939")).await, ["Charlotte's Web"], "another edition's ISBN");
    assert_eq!(
        found(&suite, by(SearchField::Isbn, "0-06-441093-5")).await,
        ["Charlotte's Web"],
        "the other edition's ISBN-10, by field"
    );
    assert_invalid(
        suite.catalog().search_titles(suite.admin(by(SearchField::Isbn, "草房子"))).await,
        "query",
    );
    assert!(found(&suite, query("!!!")).await.is_empty());
}

#[tokio::test]
async fn filters_narrow_by_school_shelf_class_language_and_grade() {
    let suite = TestSuite::start().await;
    shelf(&suite).await;
    let north = suite.school("N-PRI", "北区小学").await;
    let south = suite.school("S-PRI", "南区小学").await;
    let woods = |text: &str| query(text);
    let forest = catalog_lookup(&suite, "森林").await;
    let cabin = catalog_lookup(&suite, "大森林里的小木屋").await;
    suite.copy(&forest, &north, "N0001").await;
    suite.copy(&cabin, &south, "S0001").await;

    let at = |school: &School| SearchTitlesRequest {
        school_id: school.id.clone(),
        held_at_school_only: true,
        ..woods("森林")
    };
    assert_eq!(found(&suite, at(&north)).await, ["森林"]);
    assert_eq!(found(&suite, at(&south)).await, ["大森林里的小木屋"]);
    assert_invalid(
        suite
            .catalog()
            .search_titles(suite.admin(SearchTitlesRequest { held_at_school_only: true, ..woods("森林") }))
            .await,
        "school_id",
    );

    let on_shelf = SearchTitlesRequest { available_now: true, ..woods("森林") };
    assert_eq!(found(&suite, on_shelf.clone()).await, ["森林", "大森林里的小木屋"]);
    suite.student(&north, "R100001").await;
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R100001".into(),
            copy_barcode: "N0001".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "the lent copy to leave 'available now'", || async {
        (found(&suite, on_shelf.clone()).await == ["大森林里的小木屋"]).then_some(())
    })
    .await;
    let north_now = SearchTitlesRequest { school_id: north.id.clone(), ..on_shelf.clone() };
    assert!(found(&suite, north_now).await.is_empty(), "nothing on the shelf at the north school");

    let class = |prefix: &str| SearchTitlesRequest { classification: prefix.into(), ..woods("森林") };
    assert_eq!(found(&suite, class("i287")).await, ["森林王国历险记"], "CLC prefix, any case");
    assert_eq!(found(&suite, class("Q")).await, ["森林"]);
    let english_fiction = SearchTitlesRequest { classification: "813".into(), ..query("w") };
    assert_eq!(
        found(&suite, english_fiction).await,
        ["Where the Wild Things Are", "Charlotte's Web"],
        "Dewey prefix"
    );
    let language = |code: &str| SearchTitlesRequest { language: code.into(), ..query("char") };
    assert_eq!(found(&suite, language("en")).await.len(), 2);
    assert!(found(&suite, language("zh")).await.is_empty());
    let grade = |grade: i32| SearchTitlesRequest { audience_grade: Some(grade), ..woods("森林") };
    assert_eq!(found(&suite, grade(0)).await, ["森林"], "kindergarten");
    assert_eq!(found(&suite, grade(5)).await, ["森林报·春"]);

    for (request, field) in [
        (SearchTitlesRequest { audience_grade: Some(13), ..woods("森林") }, "audience_grade"),
        (SearchTitlesRequest { language: "ZH".into(), ..woods("森林") }, "language"),
        (SearchTitlesRequest { classification: "I 28".into(), ..woods("森林") }, "classification"),
        (SearchTitlesRequest { field: 42, ..woods("森林") }, "field"),
    ] {
        assert_invalid(suite.catalog().search_titles(suite.admin(request)).await, field);
    }
}

async fn catalog_lookup(suite: &TestSuite, title: &str) -> Title {
    let hits =
        search_with(suite, SearchTitlesRequest { field: SearchField::Title.into(), ..query(title) }).await;
    hits.into_iter()
        .filter_map(|hit| hit.title)
        .find(|found| found.title == title)
        .unwrap_or_else(|| panic!("{title} is catalogued"))
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_and_rank_exact_titles_first() {
    let suite = TestSuite::start().await;
    for number in 0..23 {
        catalog(&suite, Book { title: &format!("森林故事{number:02}"), ..BOOK }).await;
    }
    catalog(&suite, Book { title: "森林故事", author: "林森", ..BOOK }).await;
    catalog(&suite, Book { title: "讲森林故事的人", ..BOOK }).await;
    catalog(&suite, Book { title: "小狐狸", author: "森林故事会", ..BOOK }).await;
    let everything = found(&suite, SearchTitlesRequest { page_size: 100, ..query("森林故事") }).await;
    assert_eq!(everything.len(), 26);
    assert_eq!(everything[0], "森林故事", "exact title first");
    assert_eq!(everything[1], "森林故事00", "then titles starting with it, in order");
    assert_eq!(everything[24], "讲森林故事的人", "then titles containing it");
    assert_eq!(everything[25], "小狐狸", "then other fields (the author)");

    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let response = suite
            .catalog()
            .search_titles(suite.admin(SearchTitlesRequest {
                page_size: 7,
                page_token: token,
                ..query("森林故事")
            }))
            .await
            .unwrap()
            .into_inner();
        paged.extend(titles(&response.hits));
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }
    assert_eq!(paged, everything, "pages of 7 add up to the whole list");
}

async fn service_token(suite: &TestSuite) -> String {
    IdentityServiceClient::new(suite.channel_to("reader"))
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: "circulation".into(),
                key: SERVICE_KEY.into(),
            })),
        })
        .await
        .expect("services sign in with the district key")
        .into_inner()
        .access_token
}

async fn deliver(suite: &TestSuite, token: &str, school: &School, kind: &str, payload: event::Payload) {
    let channel = suite.channel_to("catalog");
    let event = Event {
        id: lectern_core::ids::new_id(),
        r#type: kind.into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: lectern_core::clock::Clock::now(&suite.clock).timestamp(),
            nanos: 0,
        }),
        school_id: school.id.clone(),
        source: "circulation".into(),
        traceparent: String::new(),
        payload: Some(payload),
    };
    EventSinkClient::new(channel)
        .deliver(bearer(DeliverRequest { events: vec![event] }, token))
        .await
        .expect("the catalog takes the event");
}

async fn copy_id(suite: &TestSuite, barcode: &str) -> String {
    suite
        .catalog()
        .lookup_copy(suite.admin(lectern_proto::catalog::v1::LookupCopyRequest { barcode: barcode.into() }))
        .await
        .unwrap()
        .into_inner()
        .id
}

fn counts(hit: &SearchHit) -> Vec<(i32, i32, i32, i32)> {
    hit.schools
        .iter()
        .map(|SchoolAvailability { on_shelf, on_loan, on_hold_shelf, in_transit, .. }| {
            (*on_shelf, *on_loan, *on_hold_shelf, *in_transit)
        })
        .collect()
}

#[tokio::test]
async fn hits_count_copies_per_school_on_shelf_on_loan_on_hold_shelf_and_in_transit() {
    let suite = TestSuite::start().await;
    let school = suite.school("N-PRI", "北区小学").await;
    let title =
        catalog(&suite, Book { isbn: "9787532147687", title: "城南旧事", author: "林海音", ..BOOK }).await;
    for barcode in ["C0001", "C0002", "C0003", "C0004"] {
        suite.copy(&title, &school, barcode).await;
    }
    let hit = || async { search_with(&suite, query("城南旧事")).await.remove(0) };
    assert_eq!(counts(&hit().await), [(4, 0, 0, 0)]);

    suite.student(&school, "R100001").await;
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R100001".into(),
            copy_barcode: "C0001".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "one copy on loan", || async {
        (counts(&hit().await) == [(3, 1, 0, 0)]).then_some(())
    })
    .await;

    // The catalog follows circulation's hold and transit events (delivered
    // here directly, as circulation's relay would).
    let token = service_token(&suite).await;
    let on_hold = copy_id(&suite, "C0002").await;
    deliver(
        &suite,
        &token,
        &school,
        "hold.ready",
        event::Payload::HoldReady(HoldReady {
            hold_id: lectern_core::ids::new_id(),
            copy_id: on_hold,
            title_id: title.id.clone(),
            pickup_school_id: school.id.clone(),
            expires_at: None,
            ..Default::default()
        }),
    )
    .await;
    let travelling = copy_id(&suite, "C0003").await;
    deliver(
        &suite,
        &token,
        &school,
        "transit.started",
        event::Payload::TransitStarted(TransitStarted {
            transit_id: lectern_core::ids::new_id(),
            copy_id: travelling,
            from_school_id: school.id.clone(),
            to_school_id: lectern_core::ids::new_id(),
            ..Default::default()
        }),
    )
    .await;
    let hit = hit().await;
    assert_eq!(counts(&hit), [(1, 1, 1, 1)]);
    assert_eq!(hit.available_copies, 1);
    assert_eq!(
        found(&suite, SearchTitlesRequest { available_now: true, ..query("城南") }).await,
        ["城南旧事"]
    );
}

#[tokio::test]
async fn new_arrivals_and_popular_titles_follow_copies_and_check_outs() {
    let suite = TestSuite::start().await;
    let school = suite.school("N-PRI", "北区小学").await;
    let discovery = DiscoveryServiceClient::new(suite.channel.clone());
    let older = catalog(&suite, Book { title: "草房子", grades: Some((3, 6)), ..BOOK }).await;
    let newer = catalog(&suite, Book { title: "青铜葵花", grades: Some((5, 9)), ..BOOK }).await;
    suite.copy(&older, &school, "A0001").await;
    suite.copy(&older, &school, "A0002").await;
    suite.clock.advance(chrono::Duration::minutes(30));
    suite.copy(&newer, &school, "A0003").await;

    // A reader on a phone sees the home-screen lists.
    let reader = suite.student(&school, "R100001").await;
    let reader_token = suite.reader_signed_in(&reader, "2468").await;
    let arrivals = discovery
        .clone()
        .list_new_arrivals(bearer(
            ListNewArrivalsRequest { school_id: school.id.clone(), ..Default::default() },
            &reader_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .titles;
    let arrived: Vec<(String, i32)> =
        arrivals.iter().map(|arrival| (arrival.title.clone().unwrap().title, arrival.copies)).collect();
    assert_eq!(arrived, [("青铜葵花".to_owned(), 1), ("草房子".to_owned(), 2)], "newest first");
    let for_grade_three = discovery
        .clone()
        .list_new_arrivals(suite.admin(ListNewArrivalsRequest {
            school_id: school.id.clone(),
            audience_grade: Some(3),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .titles;
    assert_eq!(for_grade_three.len(), 1);

    for barcode in ["A0001", "A0003", "A0002"] {
        suite
            .loans()
            .check_out(suite.admin(CheckOutRequest {
                reader_card_barcode: "R100001".into(),
                copy_barcode: barcode.into(),
                ..Default::default()
            }))
            .await
            .unwrap();
    }
    let popular = |grade: Option<i32>| {
        let request = ListPopularTitlesRequest { school_id: school.id.clone(), grade, ..Default::default() };
        let mut discovery = discovery.clone();
        let token = reader_token.clone();
        async move {
            discovery
                .list_popular_titles(bearer(request, &token))
                .await
                .unwrap()
                .into_inner()
                .titles
                .into_iter()
                .map(|popular| (popular.title.unwrap().title, popular.checkouts))
                .collect::<Vec<_>>()
        }
    };
    let expected = vec![("草房子".to_owned(), 2), ("青铜葵花".to_owned(), 1)];
    eventually(Duration::from_secs(20), "the check-outs to count", || async {
        (popular(None).await == expected).then_some(())
    })
    .await;
    assert_eq!(popular(Some(3)).await, expected, "the student is in grade 3");
    assert!(popular(Some(4)).await.is_empty());
    let last_days = |days: i32, token: &str| {
        let request = ListPopularTitlesRequest { school_id: school.id.clone(), days, ..Default::default() };
        let mut discovery = discovery.clone();
        let request = bearer(request, token);
        async move { discovery.list_popular_titles(request).await }
    };
    assert_invalid(last_days(400, &reader_token).await, "days");
    // A month later (signed in again: sign-ins last an hour).
    suite.clock.advance(chrono::Duration::days(31));
    let token = suite.login("admin", crate::harness::ADMIN_PASSWORD).await.unwrap().access_token;
    assert!(
        last_days(0, &token).await.unwrap().into_inner().titles.is_empty(),
        "only the last 30 days count"
    );
    assert_eq!(last_days(60, &token).await.unwrap().into_inner().titles.len(), 2);
}
