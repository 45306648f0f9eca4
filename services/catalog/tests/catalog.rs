//! The catalog's domain and database layer on a real database: SQLite by
//! default, PostgreSQL when `LECTERN_TEST_DATABASE_URL` is set.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDateTime};
use lectern_catalog::copies::{self, CopyDraft};
use lectern_catalog::events::{self, Outcome};
use lectern_catalog::search::{self, Filters, Rank, SearchField, SearchQuery, SearchRequest};
use lectern_catalog::titles::{self, TitleDraft, TitleRecord};
use lectern_catalog::{Error, MIGRATIONS, db};
use lectern_common::db::{Db, DbConnection, write_transaction};
use lectern_common::testing::TestDatabase;
use lectern_core::clock::SharedClock;
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::events::v1::{Event, LoanCheckedOut, LoanReturned, event};
use tonic::Code;

struct Catalog {
    db: Db,
    _database: TestDatabase,
}

fn catalog() -> Catalog {
    let database = TestDatabase::migrated("catalog", MIGRATIONS);
    let db = Db::connect(database.url(), 2).unwrap();
    Catalog { db, _database: database }
}

/// The test clock's start: where these tests stand.
fn now() -> NaiveDateTime {
    lectern_common::testing::start().naive_utc()
}

fn stamp(time: NaiveDateTime) -> prost_types::Timestamp {
    let time = time.and_utc();
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap(),
    }
}

fn try_add_title(
    connection: &mut DbConnection,
    isbn: &str,
    title: &str,
    authors: &[&str],
) -> Result<TitleRecord, Error> {
    let request = pb::CreateTitleRequest {
        isbn: isbn.into(),
        title: title.into(),
        contributors: authors.iter().map(|name| pb::Contributor { name: (*name).into(), role: 0 }).collect(),
        ..Default::default()
    };
    let draft = TitleDraft::from_request(&request)?;
    write_transaction(connection, |connection| titles::create(connection, &draft, ids::new_id(), now()))
}

fn add_title(connection: &mut DbConnection, isbn: &str, title: &str, authors: &[&str]) -> TitleRecord {
    try_add_title(connection, isbn, title, authors).unwrap()
}

fn try_add_copy(
    connection: &mut DbConnection,
    title_id: &str,
    barcode: &str,
    school_id: &str,
) -> Result<copies::CopyRecord, Error> {
    let draft = CopyDraft::from_request(&pb::CreateCopyRequest {
        title_id: title_id.into(),
        barcode: barcode.into(),
        school_id: school_id.into(),
        ..Default::default()
    })?;
    write_transaction(connection, |connection| copies::create(connection, &draft, ids::new_id(), now()))
}

fn refusal(error: Error) -> Refusal {
    match error {
        Error::Refused(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Titles of the search hits for `query`, in order.
fn search_titles(connection: &mut DbConnection, query: &str) -> Vec<String> {
    let query = search::parse_query("query", query).unwrap();
    search::run(connection, &SearchRequest::plain(query.clone(), None), 0, 100)
        .unwrap()
        .hits
        .into_iter()
        .map(|hit| hit.title.unwrap().title)
        .collect()
}

/// A small mixed library: Chinese and English titles, shared authors.
fn shelve(connection: &mut DbConnection) {
    add_title(connection, "978-7-5346-5238-7", "草房子", &["曹文轩"]);
    add_title(connection, "", "青铜葵花", &["曹文轩"]);
    add_title(connection, "", "房子", &["佚名"]);
    add_title(connection, "", "房子里的猫", &["佚名"]);
    add_title(connection, "9780064400558", "Charlotte's Web", &["E. B. White", "Garth Williams"]);
    add_title(connection, "", "White Fang", &["Jack London"]);
    add_title(connection, "", "Webster's Dictionary", &[]);
    add_title(connection, "979-10-90636-07-1", "Le Petit Prince", &["Antoine de Saint-Exupéry"]);
    add_title(connection, "", "100% 数学", &[]);
    add_title(connection, "", "snake_case 入门", &[]);
}

#[test]
fn search_finds_chinese_and_english_by_title_author_and_isbn() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    shelve(connection);

    // A two-character Chinese substring.
    assert_eq!(search_titles(connection, "葵花"), ["青铜葵花"]);
    // An English word prefix, any case.
    assert_eq!(search_titles(connection, "CHARLOT"), ["Charlotte's Web"]);
    // By author: both of 曹文轩's books, by title.
    assert_eq!(search_titles(connection, "曹文轩"), ["草房子", "青铜葵花"]);
    assert_eq!(search_titles(connection, "garth"), ["Charlotte's Web"]);
    // Words may be in different fields (keyword search), but one word
    // never runs from the title into an author's name.
    assert_eq!(search_titles(connection, "web garth"), ["Charlotte's Web"]);
    assert!(search_titles(connection, "webe").is_empty());
    // The ISBN-10 form of a stored ISBN-13, with hyphens.
    assert_eq!(search_titles(connection, "0-06-440055-7"), ["Charlotte's Web"]);
    assert_eq!(search_titles(connection, "9791090636071"), ["Le Petit Prince"]);
    // A misread ISBN finds nothing rather than failing.
    assert!(search_titles(connection, "9780064400559").is_empty());
    // Accents lower-case like the stored text.
    assert_eq!(search_titles(connection, "SAINT-EXUPÉRY"), ["Le Petit Prince"]);
    // LIKE wildcards in a query match literally.
    assert_eq!(search_titles(connection, "%"), ["100% 数学"]);
    assert_eq!(search_titles(connection, "snake_c"), ["snake_case 入门"]);
    assert!(search_titles(connection, "e%c").is_empty());
}

#[test]
fn ranking_puts_the_exact_title_first() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    shelve(connection);

    // Exact title, then title prefix, then title part.
    assert_eq!(search_titles(connection, "房子"), ["房子", "房子里的猫", "草房子"]);
    // Title prefix before an author match.
    assert_eq!(search_titles(connection, "white"), ["White Fang", "Charlotte's Web"]);
    // Title prefix before title part.
    assert_eq!(search_titles(connection, "web"), ["Webster's Dictionary", "Charlotte's Web"]);

    // The database ranks as `Rank::of` says.
    let SearchQuery::Text(query) = search::parse_query("query", "房子").unwrap() else {
        panic!("text query expected");
    };
    let ranks: Vec<Rank> =
        db::search_titles_by_text(connection, &query, SearchField::Any, &Filters::default(), 0, 100)
            .unwrap()
            .iter()
            .map(|row| Rank::of(&row.title_key, &query.needle, &query.pieces))
            .collect();
    assert_eq!(ranks, [Rank::ExactTitle, Rank::TitlePrefix, Rank::TitleContains]);

    // Offset pages follow the same order.
    let query = search::parse_query("query", "房子").unwrap();
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let page = search::run(connection, &SearchRequest::plain(query.clone(), None), offset, 1).unwrap();
        assert_eq!(page.hits.len(), 1);
        paged.push(page.hits[0].title.clone().unwrap().title);
        if !page.more {
            break;
        }
        offset += 1;
    }
    assert_eq!(paged, ["房子", "房子里的猫", "草房子"]);
}

#[test]
fn an_isbn_is_catalogued_once_in_any_form() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let web = add_title(connection, "0-06-440055-7", "Charlotte's Web", &["E. B. White"]);
    assert_eq!(web.row.isbn13.as_deref(), Some("9780064400558"));
    let proto = titles::to_proto(&web);
    assert_eq!(proto.isbn10, "0064400557");
    assert_eq!(proto.contributors[0].role, pb::ContributorRole::Author as i32);

    let taken = refusal(try_add_title(connection, "978-0-06-440055-8", "Charlotte's Web", &[]).unwrap_err());
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(taken.reason, Reason::IsbnTaken);
    assert_eq!(taken.metadata.get("title_id"), Some(&web.row.id));

    // Titles without an ISBN never collide.
    add_title(connection, "", "无名之书", &[]);
    add_title(connection, "", "无名之书", &[]);

    let isbn = lectern_catalog::isbn::Isbn::parse("0064400557").unwrap();
    let found = titles::load_by_isbn(connection, &isbn).unwrap().unwrap();
    assert_eq!(found, web);
    assert_eq!(titles::load(connection, &web.row.id).unwrap().unwrap(), web);
    assert_eq!(titles::load(connection, &ids::new_id()).unwrap(), None);
}

#[test]
fn copies_need_a_title_and_a_free_barcode() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let title = add_title(connection, "", "草房子", &["曹文轩"]);
    let school = ids::new_id();
    let copy = try_add_copy(connection, &title.row.id, "C0001", &school).unwrap();
    assert_eq!(copy.title, "草房子");
    let shown = copies::to_proto(&copy.row, &copy.title);
    assert_eq!(shown.status, pb::CopyStatus::Available as i32);
    assert_eq!(shown.availability, pb::Availability::OnShelf as i32);

    let taken = refusal(try_add_copy(connection, &title.row.id, " C0001 ", &ids::new_id()).unwrap_err());
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(taken.reason, Reason::CopyBarcodeTaken);
    assert_eq!(taken.metadata.get("copy_id"), Some(&copy.row.id));

    let orphan = refusal(try_add_copy(connection, &ids::new_id(), "C0002", &school).unwrap_err());
    assert_eq!(orphan.code(), Code::NotFound);
    assert_eq!(orphan.reason, Reason::TitleNotFound);

    let (found, title_text) = db::find_copy_by_barcode(connection, "C0001").unwrap().unwrap();
    assert_eq!((found, title_text), (copy.row.clone(), "草房子".to_owned()));
    assert!(db::find_copy(connection, &ids::new_id()).unwrap().is_none());

    // Listing pages by id, optionally at one school.
    let other_school = ids::new_id();
    try_add_copy(connection, &title.row.id, "C0002", &school).unwrap();
    try_add_copy(connection, &title.row.id, "C0003", &other_school).unwrap();
    let first = db::list_copies(connection, &title.row.id, None, None, 2).unwrap();
    let rest = db::list_copies(connection, &title.row.id, None, Some(&first[1].id), 2).unwrap();
    assert_eq!(first.len() + rest.len(), 3);
    let here =
        db::list_copies(connection, &title.row.id, Some(std::slice::from_ref(&school)), None, 10).unwrap();
    assert!(here.iter().all(|copy| copy.school_id == school));
    assert_eq!(here.len(), 2);
}

fn loan_event(copy_id: &str, at: NaiveDateTime, checked_out: bool) -> Event {
    let payload = if checked_out {
        event::Payload::LoanCheckedOut(LoanCheckedOut {
            loan_id: ids::new_id(),
            copy_id: copy_id.into(),
            due_at: Some(stamp(at + Duration::days(14))),
            ..Default::default()
        })
    } else {
        event::Payload::LoanReturned(LoanReturned {
            loan_id: ids::new_id(),
            copy_id: copy_id.into(),
            returned_at: Some(stamp(at)),
            ..Default::default()
        })
    };
    Event {
        id: ids::new_id(),
        r#type: if checked_out { "loan.checked_out" } else { "loan.returned" }.into(),
        occurred_at: Some(stamp(at)),
        school_id: ids::new_id(),
        source: "circulation".into(),
        traceparent: String::new(),
        payload: Some(payload),
    }
}

fn availability_of(
    connection: &mut DbConnection,
    copy_id: &str,
) -> (pb::Availability, Option<NaiveDateTime>) {
    let (row, _) = db::find_copy(connection, copy_id).unwrap().unwrap();
    copies::availability(&row)
}

#[test]
fn the_availability_view_ignores_stale_events() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let title = add_title(connection, "", "草房子", &["曹文轩"]);
    let school = ids::new_id();
    let copy = try_add_copy(connection, &title.row.id, "C0001", &school).unwrap().row;
    let t0 = now();

    // Checked out at t0 + 1h.
    let checkout = loan_event(&copy.id, t0 + Duration::hours(1), true);
    assert_eq!(events::apply(connection, &checkout, t0).unwrap(), Outcome::Applied);
    let due = t0 + Duration::hours(1) + Duration::days(14);
    assert_eq!(availability_of(connection, &copy.id), (pb::Availability::OnLoan, Some(due)));

    // A return from before that check-out arrives late: ignored.
    let stale = loan_event(&copy.id, t0, false);
    assert_eq!(events::apply(connection, &stale, t0).unwrap(), Outcome::Stale);
    assert_eq!(availability_of(connection, &copy.id).0, pb::Availability::OnLoan);

    // Search sees the copy on loan.
    let query = search::parse_query("query", "草房").unwrap();
    let hit =
        search::run(connection, &SearchRequest::plain(query.clone(), None), 0, 20).unwrap().hits.remove(0);
    assert_eq!(hit.available_copies, 0);
    assert_eq!(hit.copies[0].availability, pb::Availability::OnLoan as i32);
    assert_eq!(hit.copies[0].due_at, Some(stamp(due)));

    // The newer return applies.
    let returned = loan_event(&copy.id, t0 + Duration::hours(2), false);
    assert_eq!(events::apply(connection, &returned, t0).unwrap(), Outcome::Applied);
    assert_eq!(availability_of(connection, &copy.id), (pb::Availability::OnShelf, None));
    let hit =
        search::run(connection, &SearchRequest::plain(query.clone(), None), 0, 20).unwrap().hits.remove(0);
    assert_eq!(hit.available_copies, 1);

    // Events about copies this catalog does not hold change nothing.
    let unknown = loan_event(&ids::new_id(), t0 + Duration::hours(3), true);
    assert_eq!(events::apply(connection, &unknown, t0).unwrap(), Outcome::UnknownCopy);
}

#[test]
fn a_school_filter_limits_the_copies_listed_not_the_titles() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let here = ids::new_id();
    let there = ids::new_id();
    let shared = add_title(connection, "", "草房子", &["曹文轩"]);
    let elsewhere = add_title(connection, "", "青铜葵花", &["曹文轩"]);
    try_add_copy(connection, &shared.row.id, "H1", &here).unwrap();
    try_add_copy(connection, &shared.row.id, "T1", &there).unwrap();
    try_add_copy(connection, &elsewhere.row.id, "T2", &there).unwrap();

    let query = search::parse_query("query", "曹文轩").unwrap();
    let page =
        search::run(connection, &SearchRequest::plain(query.clone(), Some(here.clone())), 0, 20).unwrap();
    let summary: Vec<(String, Vec<String>, i32)> = page
        .hits
        .into_iter()
        .map(|hit| {
            (
                hit.title.unwrap().title,
                hit.copies.into_iter().map(|copy| copy.barcode).collect(),
                hit.available_copies,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("草房子".to_owned(), vec!["H1".to_owned()], 1), ("青铜葵花".to_owned(), vec![], 0),]
    );
    let everywhere = search::run(connection, &SearchRequest::plain(query.clone(), None), 0, 20).unwrap();
    assert_eq!(everywhere.hits[0].copies.len(), 2);
    assert_eq!(everywhere.hits[0].available_copies, 2);
}

#[tokio::test]
async fn each_event_is_applied_once_however_often_delivered() {
    let catalog = catalog();
    let copy_id = {
        let mut connection = catalog.db.connection().unwrap();
        let title = add_title(&mut connection, "", "草房子", &[]);
        try_add_copy(&mut connection, &title.row.id, "C0001", &ids::new_id()).unwrap().row.id
    };
    let clock: SharedClock = std::sync::Arc::new(lectern_common::testing::clock());
    let checkout = loan_event(&copy_id, now() + Duration::hours(1), true);
    let deliver = |events: Vec<Event>| {
        lectern_common::outbox::consume_batch(&catalog.db, &clock, events, |connection, event| {
            events::apply(connection, event, now())?;
            Ok::<(), Error>(())
        })
    };
    assert_eq!(deliver(vec![checkout.clone()]).await.unwrap(), 1);
    assert_eq!(deliver(vec![checkout]).await.unwrap(), 0);
    let mut connection = catalog.db.connection().unwrap();
    assert_eq!(availability_of(&mut connection, &copy_id).0, pb::Availability::OnLoan);
}

/// Hits for `query` in `field` as the index and substring rules define
/// them, worked out in Rust for every title: the reference the database
/// search must agree with, hit for hit and in order.
fn reference_hits(
    library: &[(String, String, Vec<String>, Vec<String>)],
    query: &str,
    field: SearchField,
) -> Vec<String> {
    use lectern_catalog::search_terms::{self, Piece};
    let SearchQuery::Text(query) = search::parse_query("query", query).unwrap() else {
        panic!("text query expected");
    };
    let mut hits: Vec<(Rank, String, String, String)> = library
        .iter()
        .filter_map(|(id, title, names, subjects)| {
            let texts = search::IndexedTexts {
                title,
                other_titles: Vec::new(),
                names: names.iter().map(String::as_str).collect(),
                subjects: subjects.iter().map(String::as_str).collect(),
            };
            let index = search::title_index(id, &texts);
            let has = |piece: &Piece| match piece {
                Piece::Exact(term) => index.entries.iter().any(|entry| entry.term == *term),
                Piece::Prefix(prefix) => {
                    index.entries.iter().any(|entry| entry.term.starts_with(prefix.as_str()))
                }
            };
            let searched = match field {
                SearchField::Any => &index.search_text,
                SearchField::Title => &index.fields.title_text,
                SearchField::Author => &index.fields.author_text,
                SearchField::Subject => &index.fields.subject_text,
            };
            let found = query.pieces.iter().all(has)
                && search_terms::substrings(&query.needle).iter().all(|part| searched.contains(part));
            found.then(|| {
                (
                    Rank::of(&index.title_key, &query.needle, &query.pieces),
                    index.title_key.clone(),
                    id.clone(),
                    title.clone(),
                )
            })
        })
        .collect();
    hits.sort();
    hits.into_iter().map(|(_, _, _, title)| title).collect()
}

#[test]
fn search_agrees_with_the_index_rules_worked_out_in_rust() {
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let shelf: &[(&str, &[&str], &[&str])] = &[
        ("草房子", &["曹文轩"], &["儿童小说"]),
        ("青铜葵花", &["曹文轩"], &["儿童小说"]),
        ("房子", &["佚名"], &[]),
        ("房子里的猫", &["佚名"], &["动物"]),
        ("小猫钓鱼", &["方轶群"], &["动物", "童话"]),
        ("动物王国的秘密", &["王国华"], &["动物"]),
        ("大森林里的小木屋", &["劳拉·英格斯·怀德"], &["美国 儿童小说"]),
        ("森林报·春", &["比安基"], &["动物", "自然"]),
        ("Charlotte's Web", &["E. B. White", "Garth Williams"], &["Pigs", "Friendship"]),
        ("White Fang", &["Jack London"], &["Wolves"]),
        ("Webster's Dictionary", &[], &["English language"]),
        ("Go, Dog. Go!", &["P. D. Eastman"], &["Dogs"]),
        ("The Golden Compass", &["Philip Pullman"], &["Fantasy"]),
        ("Goodnight Moon", &["Margaret Wise Brown"], &["Bedtime"]),
        ("Charlie and the Chocolate Factory", &["Roald Dahl"], &["Chocolate"]),
        ("The Extraordinary Adventures", &["Jack Charlton"], &["Adventure"]),
        ("Adventure Time 动物", &["Charles Webb"], &["动物"]),
        ("100% 数学", &[], &[]),
        // Has "jack london" inside a word of its title: ranked by its author.
        ("Littlejack London Tales", &["Jack Smith"], &[]),
    ];
    // Enough books by one author that both of the name's words are common
    // look-ups (more than the search counts), so the search reads rank by
    // rank instead of reading all candidates at once.
    let series: Vec<(String, Vec<&str>, Vec<&str>)> = (0..300)
        .map(|n| (format!("Tales of the North {n:03}"), vec!["Jack London"], vec!["Adventure"]))
        .chain([
            ("Jack London: A Life".to_owned(), vec!["Alex Kershaw"], vec![]),
            ("The Call of Jack London".to_owned(), vec!["Anon"], vec![]),
        ])
        .collect();
    let shelf: Vec<(&str, &[&str], &[&str])> = shelf
        .iter()
        .copied()
        .chain(
            series
                .iter()
                .map(|(title, names, subjects)| (title.as_str(), names.as_slice(), subjects.as_slice())),
        )
        .collect();
    let mut library = Vec::new();
    for (title, names, subjects) in &shelf {
        let request = pb::CreateTitleRequest {
            title: (*title).into(),
            contributors: names
                .iter()
                .map(|name| pb::Contributor { name: (*name).into(), role: 0 })
                .collect(),
            subjects: subjects.iter().map(|subject| (*subject).to_owned()).collect(),
            ..Default::default()
        };
        let draft = TitleDraft::from_request(&request).unwrap();
        let record = write_transaction(connection, |connection| {
            titles::create(connection, &draft, ids::new_id(), now())
        })
        .unwrap();
        library.push((
            record.row.id.clone(),
            (*title).to_owned(),
            names.iter().map(|name| (*name).to_owned()).collect(),
            subjects.iter().map(|subject| (*subject).to_owned()).collect(),
        ));
    }
    let queries = [
        "房子",
        "房",
        "动物",
        "动物王国",
        "王国",
        "森林",
        "大森林里",
        "曹文轩",
        "文轩",
        "儿童小说",
        "go",
        "g",
        "gol",
        "golden",
        "char",
        "charl",
        "charlotte",
        "charlottes",
        "CHARLOTTE'S WEB",
        "web",
        "white",
        "jack",
        "jack london",
        "adventure",
        "adventures",
        "the",
        "extraordinary",
        "%",
        "100%",
        "动物 char",
        "e. b.",
        "pigs",
        "dog go",
    ];
    let mut checked = 0;
    for field in [SearchField::Any, SearchField::Title, SearchField::Author, SearchField::Subject] {
        for query in queries {
            let SearchQuery::Text(text) = search::parse_query("query", query).unwrap() else {
                panic!("text query expected");
            };
            let found: Vec<String> =
                db::search_titles_by_text(connection, &text, field, &Filters::default(), 0, 100)
                    .unwrap()
                    .into_iter()
                    .map(|row| row.title)
                    .collect();
            let expected = reference_hits(&library, query, field);
            assert_eq!(found, expected[..expected.len().min(100)], "{query:?} in {field:?}");
            checked += usize::from(!expected.is_empty());
            // Pages follow the same order, across rank boundaries.
            let mut paged = Vec::new();
            for offset in (0..).step_by(7) {
                let page =
                    db::search_titles_by_text(connection, &text, field, &Filters::default(), offset, 7)
                        .unwrap();
                let done = page.len() < 7;
                paged.extend(page.into_iter().map(|row| row.title));
                if done {
                    break;
                }
            }
            assert_eq!(paged, expected, "{query:?} in {field:?}, paged");
        }
    }
    assert!(checked > 60, "most queries find something ({checked})");
    let london = search_titles(connection, "jack london");
    assert_eq!(london.len(), 100, "a page of 100");
    // Titles with the name first; "Littlejack" has it inside a word, so it
    // ranks with the author's books (by title key).
    assert_eq!(
        london[..4],
        [
            "Jack London: A Life",
            "The Call of Jack London",
            "Littlejack London Tales",
            "Tales of the North 000"
        ]
    );
    assert_eq!(search_titles(connection, "go"), ["Go, Dog. Go!", "Goodnight Moon", "The Golden Compass"]);
    assert_eq!(
        search_titles(connection, "动物"),
        ["动物王国的秘密", "Adventure Time 动物", "小猫钓鱼", "房子里的猫", "森林报·春"]
    );
}

#[test]
fn a_corrected_title_is_found_by_its_new_words_only() {
    use lectern_catalog::title_updates;
    let catalog = catalog();
    let mut connection = catalog.db.connection().unwrap();
    let connection = &mut *connection;
    let request = pb::CreateTitleRequest {
        title: "The Wolf Story".into(),
        contributors: vec![pb::Contributor { name: "Jack London".into(), role: 0 }],
        subjects: vec!["Wolves".into()],
        ..Default::default()
    };
    let draft = TitleDraft::from_request(&request).unwrap();
    let record =
        write_transaction(connection, |connection| titles::create(connection, &draft, ids::new_id(), now()))
            .unwrap();
    assert_eq!(search_titles(connection, "wolf story"), ["The Wolf Story"]);

    let changes = pb::Title {
        title: "White Fang".into(),
        contributors: vec![pb::Contributor { name: "Jack London".into(), role: 0 }],
        ..Default::default()
    };
    let mask = ["title".to_owned(), "contributors".to_owned()];
    let draft = title_updates::changed_draft(&record, &changes, &mask).unwrap();
    write_transaction(connection, |connection| title_updates::save(connection, &record, &draft)).unwrap();

    assert!(search_titles(connection, "wolf story").is_empty(), "old title words are gone");
    assert_eq!(search_titles(connection, "white fang"), ["White Fang"]);
    assert_eq!(search_titles(connection, "wolves"), ["White Fang"], "subjects kept");
    // Exactly the entries the new texts give, none left over.
    let texts = search::IndexedTexts {
        title: "White Fang",
        other_titles: Vec::new(),
        names: vec!["Jack London"],
        subjects: vec!["Wolves"],
    };
    let expected = search::title_index(&record.row.id, &texts).entries.len();
    let stored: i64 = {
        use diesel::prelude::*;
        use lectern_catalog::db::schema::title_search_terms;
        title_search_terms::table
            .filter(title_search_terms::title_id.eq(&record.row.id))
            .count()
            .get_result(connection)
            .unwrap()
    };
    assert_eq!(usize::try_from(stored).unwrap(), expected);
}
