//! The collection through the gateway: a librarian catalogues a full
//! record, shelves its copies at named locations, walks the shelves by
//! location and class, and takes a copy through its life (damaged, repaired,
//! withdrawn) while circulation follows the status; what makes no sense,
//! and what belongs to another school, is refused.

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::{
    Availability, BrowseShelfRequest, ChangeCopyStatusRequest, Contributor, CopyStatus, CreateCopyRequest,
    CreateItemTypeRequest, CreateShelfLocationRequest, CreateTitleRequest, GetCopyHistoryRequest,
    GetTitleRequest, GradeRange, ItemType, ListItemTypesRequest, ListRepairTicketsRequest,
    ListShelfLocationsRequest, LookupCopyRequest, LookupTitleRequest, Money, ShelfLocation,
    SuggestCallNumberRequest, Title, UpdateCopyRequest, UpdateTitleRequest,
};
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest};
use lectern_proto::reader::v1::{School, StaffRole};
use prost_types::FieldMask;
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

async fn location(suite: &TestSuite, token: &str, school: &School, name: &str) -> ShelfLocation {
    suite
        .collection()
        .create_shelf_location(bearer(
            CreateShelfLocationRequest {
                school_id: school.id.clone(),
                name: name.into(),
                request_id: String::new(),
            },
            token,
        ))
        .await
        .expect("location added")
        .into_inner()
}

fn cao_wenxuan() -> CreateTitleRequest {
    CreateTitleRequest {
        isbn: "978-7-5346-5238-7".into(),
        title: "草房子".into(),
        subtitle: "一个关于成长的故事".into(),
        contributors: vec![Contributor { name: "曹文轩".into(), role: 1 }],
        publisher: "江苏少年儿童出版社".into(),
        publication_year: 2008,
        language: "zh".into(),
        edition: "第2版".into(),
        pages: 312,
        series: "曹文轩纯美小说系列".into(),
        subjects: vec!["儿童小说".into(), "成长".into()],
        summary: "油麻地小学里桑桑的六年。".into(),
        audience: Some(GradeRange { min_grade: 3, max_grade: 6 }),
        clc: "I287.45".into(),
        other_isbns: vec!["7-5346-6060-2".into()],
        ..Default::default()
    }
}

async fn add_copy(
    suite: &TestSuite,
    token: &str,
    title: &Title,
    school: &School,
    barcode: &str,
    location: &ShelfLocation,
) -> lectern_proto::catalog::v1::Copy {
    suite
        .catalog()
        .create_copy(bearer(
            CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: barcode.into(),
                school_id: school.id.clone(),
                location_id: location.id.clone(),
                price: Some(Money { minor_units: 2800, currency: String::new() }),
                acquired_on: "2026-09-01".into(),
                acquisition_source: "新华书店 2026-017 号订单".into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("copy added")
        .into_inner()
}

#[tokio::test]
async fn a_librarian_catalogues_a_full_record_and_walks_the_shelves() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("PD-PRI", "浦东新区实验小学").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let other_librarian = suite.staff("zhou.min", StaffRole::Librarian, &[&other]).await;

    let shelf_a3 = location(&suite, &librarian, &school, " 一楼  A 区 3 架 ").await;
    assert_eq!(shelf_a3.name, "一楼 A 区 3 架");
    let picture_books = location(&suite, &librarian, &school, "二楼 绘本区").await;
    let elsewhere = location(&suite, &other_librarian, &other, "一楼 A 区 3 架").await;
    assert_refused(
        suite
            .collection()
            .create_shelf_location(bearer(
                CreateShelfLocationRequest {
                    school_id: school.id.clone(),
                    name: "一楼 A 区 3 架".into(),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        Code::AlreadyExists,
        Reason::LocationNameTaken,
    );
    let listed = suite
        .collection()
        .list_shelf_locations(bearer(ListShelfLocationsRequest { school_id: school.id.clone() }, &librarian))
        .await
        .unwrap()
        .into_inner()
        .locations;
    assert_eq!(listed.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["一楼 A 区 3 架", "二楼 绘本区"]);

    // The full record comes back as entered, with a suggested call number.
    let title = suite.catalog().create_title(bearer(cao_wenxuan(), &librarian)).await.unwrap().into_inner();
    let read = suite
        .catalog()
        .get_title(bearer(GetTitleRequest { id: title.id.clone() }, &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, title);
    assert_eq!(title.subtitle, "一个关于成长的故事");
    assert_eq!(title.subjects, ["儿童小说", "成长"]);
    assert_eq!(title.audience, Some(GradeRange { min_grade: 3, max_grade: 6 }));
    assert_eq!(title.call_number, "I287.45/C15");
    assert_eq!(
        (title.pages, title.edition.as_str(), title.series.as_str()),
        (312, "第2版", "曹文轩纯美小说系列")
    );
    assert_eq!(title.other_isbn13s, ["9787534660603"]);
    // The other ISBN finds the title, and no second title may claim it.
    let by_other_isbn = suite
        .catalog()
        .lookup_title(bearer(LookupTitleRequest { isbn: "7534660602".into() }, &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_other_isbn.id, title.id);
    assert_refused(
        suite
            .catalog()
            .create_title(bearer(
                CreateTitleRequest {
                    isbn: "9787534660603".into(),
                    title: "草房子（重印）".into(),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::AlreadyExists,
        Reason::IsbnTaken,
    );
    assert_invalid(
        suite
            .catalog()
            .create_title(bearer(
                CreateTitleRequest {
                    audience: Some(GradeRange { min_grade: 6, max_grade: 3 }),
                    ..cao_wenxuan()
                },
                &librarian,
            ))
            .await,
        "audience",
    );

    // Copies take the title's call number and name their shelf.
    let copy = add_copy(&suite, &librarian, &title, &school, "XH0001", &shelf_a3).await;
    assert_eq!(copy.call_number, "I287.45/C15");
    assert_eq!(copy.location_name, "一楼 A 区 3 架");
    assert_eq!(copy.item_type, "book");
    assert_eq!(copy.price, Some(Money { minor_units: 2800, currency: "CNY".into() }));
    assert_eq!(copy.acquired_on, "2026-09-01");
    let looked_up = suite
        .catalog()
        .lookup_copy(bearer(LookupCopyRequest { barcode: "XH0001".into() }, &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(looked_up.location_name, "一楼 A 区 3 架");
    assert_refused(
        suite
            .catalog()
            .create_copy(bearer(
                CreateCopyRequest {
                    title_id: title.id.clone(),
                    barcode: "XH0002".into(),
                    school_id: school.id.clone(),
                    location_id: elsewhere.id.clone(),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::NotFound,
        Reason::LocationNotFound,
    );
    assert_refused(
        suite
            .catalog()
            .create_copy(bearer(
                CreateCopyRequest {
                    title_id: title.id.clone(),
                    barcode: "XH0002".into(),
                    school_id: school.id.clone(),
                    item_type: "comic".into(),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::NotFound,
        Reason::ItemTypeNotFound,
    );

    // Item types are data: the district adds one, librarians use it.
    let types =
        suite.collection().list_item_types(bearer(ListItemTypesRequest {}, &librarian)).await.unwrap();
    assert!(types.into_inner().item_types.iter().any(|t| t.code == "picture_book" && t.name_zh == "绘本"));
    let comic = ItemType { code: "comic".into(), name_zh: "连环画".into(), name_en: "Comic".into() };
    assert_refused(
        suite
            .collection()
            .create_item_type(bearer(
                CreateItemTypeRequest { item_type: Some(comic.clone()), request_id: String::new() },
                &librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    suite
        .collection()
        .create_item_type(
            suite.admin(CreateItemTypeRequest { item_type: Some(comic), request_id: String::new() }),
        )
        .await
        .expect("the district admin adds an item type");

    let charlotte = suite
        .catalog()
        .create_title(bearer(
            CreateTitleRequest {
                isbn: "0-06-440055-7".into(),
                title: "Charlotte's Web".into(),
                contributors: vec![Contributor { name: "E. B. White".into(), role: 1 }],
                language: "en".into(),
                dewey: "813.54".into(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(charlotte.call_number, "813.54/W33");
    let english = add_copy(&suite, &librarian, &charlotte, &school, "XH0003", &picture_books).await;
    let comic_copy = suite
        .catalog()
        .create_copy(bearer(
            CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: "XH0002".into(),
                school_id: school.id.clone(),
                item_type: "comic".into(),
                call_number: "I287.45/C15:2".into(),
                location_id: shelf_a3.id.clone(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();

    // Walking the shelves: by location, by class, in call-number order.
    let browse = |location_id: &str, class_prefix: &str| {
        let request = BrowseShelfRequest {
            school_id: school.id.clone(),
            location_id: location_id.into(),
            class_prefix: class_prefix.into(),
            page_size: 1,
            page_token: String::new(),
        };
        let collection = suite.collection();
        let token = librarian.clone();
        async move {
            let mut barcodes = Vec::new();
            let mut request = request;
            loop {
                let page = collection
                    .clone()
                    .browse_shelf(bearer(request.clone(), &token))
                    .await
                    .unwrap()
                    .into_inner();
                barcodes.extend(page.copies.iter().map(|copy| copy.barcode.clone()));
                if page.next_page_token.is_empty() {
                    return barcodes;
                }
                request.page_token = page.next_page_token;
            }
        }
    };
    assert_eq!(browse(&shelf_a3.id, "").await, ["XH0001", "XH0002"]);
    assert_eq!(browse("", "I2").await, ["XH0001", "XH0002"]);
    assert_eq!(browse("", "8").await, ["XH0003"]);
    assert_eq!(browse("", "").await, ["XH0003", "XH0001", "XH0002"]);

    // Corrections: the picture-book shelf was the wrong place for it.
    let moved = suite
        .collection()
        .update_copy(bearer(
            UpdateCopyRequest {
                copy: Some(lectern_proto::catalog::v1::Copy {
                    id: english.id.clone(),
                    location_id: shelf_a3.id.clone(),
                    condition_note: "封面有折痕".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask { paths: vec!["location_id".into(), "condition_note".into()] }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (moved.location_name.as_str(), moved.condition_note.as_str()),
        ("一楼 A 区 3 架", "封面有折痕")
    );
    assert_eq!(moved.call_number, "813.54/W33", "fields outside the mask stay");
    assert_invalid(
        suite
            .collection()
            .update_copy(bearer(
                UpdateCopyRequest {
                    copy: Some(lectern_proto::catalog::v1::Copy {
                        id: english.id.clone(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask { paths: vec!["barcode".into()] }),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        "update_mask",
    );
    assert_refused(
        suite
            .collection()
            .update_copy(bearer(
                UpdateCopyRequest {
                    copy: Some(lectern_proto::catalog::v1::Copy {
                        id: comic_copy.id.clone(),
                        condition_note: "x".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask { paths: vec!["condition_note".into()] }),
                    request_id: String::new(),
                },
                &other_librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let suggestion = suite
        .collection()
        .suggest_call_number(bearer(
            SuggestCallNumberRequest { class_number: "I287.45".into(), author: "郑渊洁".into() },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(suggestion.call_number, "I287.45/Z32");
}

#[tokio::test]
async fn a_librarian_corrects_a_title() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("wang.fang", StaffRole::Assistant, &[&school]).await;
    let typo = CreateTitleRequest { title: "草房了".into(), clc: "I28".into(), ..cao_wenxuan() };
    let title = suite.catalog().create_title(bearer(typo, &librarian)).await.unwrap().into_inner();
    assert_eq!(title.call_number, "I28/C15");
    let update = |fields: &[&str], changes: Title, token: &str| {
        let mut catalog = suite.catalog();
        let request = bearer(
            UpdateTitleRequest {
                title: Some(Title { id: title.id.clone(), ..changes }),
                update_mask: Some(FieldMask {
                    paths: fields.iter().map(|field| (*field).to_owned()).collect(),
                }),
                request_id: String::new(),
            },
            token,
        );
        async move { catalog.update_title(request).await.map(tonic::Response::into_inner) }
    };
    let fixed = update(
        &["title", "clc", "call_number", "other_isbn13s"],
        Title { title: "草房子".into(), clc: "I287.45".into(), ..Default::default() },
        &librarian,
    )
    .await
    .unwrap();
    assert_eq!((fixed.title.as_str(), fixed.clc.as_str()), ("草房子", "I287.45"));
    assert_eq!(fixed.call_number, "I287.45/C15", "an emptied call number is suggested again");
    assert!(fixed.other_isbn13s.is_empty());
    assert_eq!(fixed.subjects, title.subjects, "fields outside the mask stay");
    // The old other ISBN is free again; the corrected title is found.
    suite.title("978-7-5346-6060-3", "另一本书", "佚名").await;
    let hits = suite
        .catalog()
        .search_titles(bearer(
            lectern_proto::catalog::v1::SearchTitlesRequest {
                query: "草房子".into(), ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].title.as_ref().unwrap().id, title.id);
    // Checked as at cataloguing; other titles' ISBNs and assistants refused.
    assert_invalid(update(&["title"], Title::default(), &librarian).await, "title");
    assert_invalid(update(&["id"], Title::default(), &librarian).await, "update_mask");
    assert_refused(
        update(&["isbn13"], Title { isbn13: "9787534660603".into(), ..Default::default() }, &librarian).await,
        Code::AlreadyExists,
        Reason::IsbnTaken,
    );
    assert_refused(
        update(&["title"], Title { title: "x".into(), ..Default::default() }, &assistant).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let read = suite
        .catalog()
        .get_title(bearer(GetTitleRequest { id: title.id.clone() }, &librarian))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, fixed, "refusals changed nothing");
}

/// Waits until catalog's availability view of XH0001, kept from
/// circulation's events, says `availability`.
async fn wait_for_availability(suite: &TestSuite, token: &str, availability: Availability) {
    crate::harness::eventually(
        std::time::Duration::from_secs(10),
        "the availability view to follow",
        || async {
            let copy = suite
                .catalog()
                .lookup_copy(bearer(LookupCopyRequest { barcode: "XH0001".into() }, token))
                .await
                .ok()?
                .into_inner();
            (copy.availability == availability as i32).then_some(())
        },
    )
    .await;
}

fn change(copy_id: &str, status: CopyStatus, reason: &str) -> ChangeCopyStatusRequest {
    ChangeCopyStatusRequest {
        copy_id: copy_id.into(),
        status: status.into(),
        reason: reason.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_copy_goes_through_its_life_and_circulation_follows() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("PD-PRI", "浦东新区实验小学").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("wang.fang", StaffRole::Assistant, &[&school]).await;
    let other_librarian = suite.staff("zhou.min", StaffRole::Librarian, &[&other]).await;
    suite.student(&school, "R100001").await;
    let shelf = location(&suite, &librarian, &school, "一楼 A 区 3 架").await;
    let title = suite.catalog().create_title(bearer(cao_wenxuan(), &librarian)).await.unwrap().into_inner();
    let copy = add_copy(&suite, &librarian, &title, &school, "XH0001", &shelf).await;
    let collection = suite.collection();
    let status_change = |request: ChangeCopyStatusRequest, token: &str| {
        let mut collection = collection.clone();
        let request = bearer(request, token);
        async move { collection.change_copy_status(request).await.map(tonic::Response::into_inner) }
    };
    let check_out = || {
        let _circulation = suite.loans();
        let request = bearer(
            CheckOutRequest {
                reader_card_barcode: "R100001".into(),
                copy_barcode: "XH0001".into(),
                ..Default::default()
            },
            &librarian,
        );
        let mut circulation = suite.loans();
        async move { circulation.check_out(request).await }
    };

    // A reader has it: nothing but "lost" makes sense until it is back.
    check_out().await.expect("lent");
    wait_for_availability(&suite, &librarian, Availability::OnLoan).await;
    assert_refused(
        status_change(change(&copy.id, CopyStatus::Withdrawn, "内容过时"), &librarian).await,
        Code::FailedPrecondition,
        Reason::CopyOnLoan,
    );
    suite
        .loans()
        .check_in(bearer(
            CheckInRequest { copy_barcode: "XH0001".into(), request_id: String::new(), ..Default::default() },
            &librarian,
        ))
        .await
        .expect("returned");
    // The availability view follows the return through circulation's events.
    wait_for_availability(&suite, &librarian, Availability::OnShelf).await;

    // Damaged: a reason is needed; then nobody can borrow it.
    assert_invalid(status_change(change(&copy.id, CopyStatus::Damaged, ""), &librarian).await, "reason");
    assert_refused(
        status_change(change(&copy.id, CopyStatus::Damaged, "书脊开裂"), &assistant).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        status_change(change(&copy.id, CopyStatus::Damaged, "书脊开裂"), &other_librarian).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let damaged = ChangeCopyStatusRequest {
        request_id: "desk-1-damaged".into(),
        ..change(&copy.id, CopyStatus::Damaged, "书脊开裂")
    };
    let first = status_change(damaged.clone(), &librarian).await.unwrap();
    let retried = status_change(damaged, &librarian).await.unwrap();
    assert_eq!(first, retried, "a retry answers the same and changes nothing again");
    assert_eq!(first.availability, Availability::NotLoanable as i32);
    assert_refused(check_out().await, Code::FailedPrecondition, Reason::CopyNotLoanable);

    // Repair starts from damaged, and comes back with its cost.
    assert_refused(
        status_change(change(&copy.id, CopyStatus::Missing, "找不到"), &librarian).await,
        Code::FailedPrecondition,
        Reason::CopyStatusChangeNotAllowed,
    );
    status_change(
        ChangeCopyStatusRequest {
            repair_notes: "送装订组重新上胶".into(),
            ..change(&copy.id, CopyStatus::InRepair, "")
        },
        &librarian,
    )
    .await
    .unwrap();
    let open = suite
        .collection()
        .list_repair_tickets(bearer(
            ListRepairTicketsRequest { school_id: school.id.clone(), include_closed: false },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.tickets.len(), 1);
    assert_eq!(open.tickets[0].notes, "送装订组重新上胶");
    assert_eq!(open.copies[0].barcode, "XH0001");
    let repaired = status_change(
        ChangeCopyStatusRequest {
            repair_notes: "已修好".into(),
            repair_cost: Some(Money { minor_units: 500, currency: "CNY".into() }),
            ..change(&copy.id, CopyStatus::Available, "")
        },
        &librarian,
    )
    .await
    .unwrap();
    assert_eq!(repaired.status, CopyStatus::Available as i32);
    check_out().await.expect("lent again once repaired");
    suite
        .loans()
        .check_in(bearer(
            CheckInRequest { copy_barcode: "XH0001".into(), request_id: String::new(), ..Default::default() },
            &librarian,
        ))
        .await
        .expect("returned");
    wait_for_availability(&suite, &librarian, Availability::OnShelf).await;

    // Weeded: final.
    status_change(change(&copy.id, CopyStatus::Withdrawn, "破损严重，内容过时"), &librarian).await.unwrap();
    assert_refused(
        status_change(change(&copy.id, CopyStatus::Available, "找回"), &librarian).await,
        Code::FailedPrecondition,
        Reason::CopyStatusChangeNotAllowed,
    );

    // The history says who did what, when and why.
    let history = suite
        .collection()
        .get_copy_history(bearer(GetCopyHistoryRequest { copy_id: copy.id.clone() }, &assistant))
        .await
        .unwrap()
        .into_inner();
    let steps: Vec<(i32, &str)> = history.changes.iter().map(|c| (c.to_status, c.reason.as_str())).collect();
    assert_eq!(
        steps,
        [
            (CopyStatus::Damaged as i32, "书脊开裂"),
            (CopyStatus::InRepair as i32, ""),
            (CopyStatus::Available as i32, ""),
            (CopyStatus::Withdrawn as i32, "破损严重，内容过时"),
        ]
    );
    let librarian_id = history.changes[0].actor_id.clone();
    assert!(!librarian_id.is_empty() && history.changes.iter().all(|c| c.actor_id == librarian_id));
    assert_eq!(history.repair_tickets.len(), 1);
    let ticket = &history.repair_tickets[0];
    assert_eq!(ticket.notes, "送装订组重新上胶\n已修好");
    assert_eq!(ticket.cost, Some(Money { minor_units: 500, currency: "CNY".into() }));
    assert!(ticket.close_time.is_some());
    assert_eq!(history.copy.unwrap().status, CopyStatus::Withdrawn as i32);
    // Withdrawn copies leave the shelves.
    let shelf_walk = suite
        .collection()
        .browse_shelf(bearer(
            BrowseShelfRequest { school_id: school.id.clone(), ..Default::default() },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(shelf_walk.copies.is_empty());
}
