//! Stocktake through the gateway: a librarian counts a small school, an
//! assistant scans (one book misplaced, one on loan after a real check-out,
//! an unknown barcode, another school's book, a malformed barcode), the
//! catalog restarts in the middle and the session resumes, finalizing is
//! previewed and confirmed, and circulation then refuses to lend the copy
//! marked missing. Another school's librarian is refused throughout.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::collection_service_client::CollectionServiceClient;
use lectern_proto::catalog::v1::stocktake_service_client::StocktakeServiceClient;
use lectern_proto::catalog::v1::{
    Availability, CopyStatus, CreateShelfLocationRequest, FinalizeStocktakeRequest, GetCopyHistoryRequest,
    GetStocktakeReportRequest, GetStocktakeRequest, ListStocktakesRequest, LookupCopyRequest,
    RecordScansRequest, RecordScansResponse, ReportSection, Scan, ScanOutcome, StartStocktakeRequest,
    Stocktake, StocktakeProgress, StocktakeState, UnknownReason, UpdateCopyRequest,
};
use lectern_proto::circulation::v1::CheckOutRequest;
use lectern_proto::reader::v1::{School, StaffRole};
use prost_types::FieldMask;
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, eventually};

fn stocktakes(suite: &TestSuite) -> StocktakeServiceClient<Channel> {
    StocktakeServiceClient::new(suite.channel.clone())
}

/// Shelf locations of `school`, each with the copies shelved there, set
/// up as a librarian would; returns the locations' ids in order.
async fn shelve(suite: &TestSuite, school: &School, shelves: &[(&str, &[&str])]) -> Vec<String> {
    let collection = CollectionServiceClient::new(suite.channel.clone());
    let mut ids = Vec::new();
    for (name, barcodes) in shelves {
        let location = collection
            .clone()
            .create_shelf_location(suite.admin(CreateShelfLocationRequest {
                school_id: school.id.clone(),
                name: (*name).into(),
                request_id: String::new(),
            }))
            .await
            .expect("shelf location added")
            .into_inner();
        for barcode in *barcodes {
            let mut copy = suite
                .catalog()
                .lookup_copy(suite.admin(LookupCopyRequest { barcode: (*barcode).into() }))
                .await
                .expect("copy found")
                .into_inner();
            copy.location_id = location.id.clone();
            collection
                .clone()
                .update_copy(suite.admin(UpdateCopyRequest {
                    copy: Some(copy),
                    update_mask: Some(FieldMask { paths: vec!["location_id".into()] }),
                    request_id: String::new(),
                }))
                .await
                .expect("copy shelved");
        }
        ids.push(location.id);
    }
    ids
}

fn scans(barcodes: &[&str]) -> Vec<Scan> {
    barcodes.iter().map(|barcode| Scan { barcode: (*barcode).into(), location: String::new() }).collect()
}

fn batch(id: &str, location: &str, barcodes: &[&str], request_id: &str) -> RecordScansRequest {
    RecordScansRequest {
        stocktake_id: id.into(),
        scans: scans(barcodes),
        location: location.into(),
        request_id: request_id.into(),
    }
}

fn progress(stocktake: &Stocktake) -> &StocktakeProgress {
    stocktake.progress.as_ref().expect("progress")
}

/// (scanned, remaining, would mark missing, misplaced, mismatch, unknown).
fn counts(stocktake: &Stocktake) -> (i32, i32, i32, i32, i32, i32) {
    let p = progress(stocktake);
    (p.scanned, p.remaining, p.would_mark_missing, p.misplaced, p.status_mismatch, p.unknown_barcodes)
}

async fn section(suite: &TestSuite, token: &str, id: &str, section: ReportSection) -> Vec<String> {
    let page = stocktakes(suite)
        .get_stocktake_report(bearer(
            GetStocktakeReportRequest {
                id: id.into(),
                section: section.into(),
                page_size: 2,
                page_token: String::new(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut barcodes: Vec<String> = page.entries.iter().map(|entry| entry.barcode.clone()).collect();
    let mut next = page.next_page_token;
    while !next.is_empty() {
        let page = stocktakes(suite)
            .get_stocktake_report(bearer(
                GetStocktakeReportRequest {
                    id: id.into(),
                    section: section.into(),
                    page_size: 2,
                    page_token: next,
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner();
        barcodes.extend(page.entries.iter().map(|entry| entry.barcode.clone()));
        next = page.next_page_token;
    }
    assert_eq!(usize::try_from(page.total).unwrap(), barcodes.len(), "{section:?} total");
    barcodes
}

async fn get(suite: &TestSuite, token: &str, id: &str) -> Stocktake {
    stocktakes(suite)
        .get_stocktake(bearer(GetStocktakeRequest { id: id.into() }, token))
        .await
        .unwrap()
        .into_inner()
}

fn outcomes(answer: &RecordScansResponse) -> Vec<(String, ScanOutcome)> {
    answer.results.iter().map(|result| (result.barcode.clone(), result.outcome())).collect()
}

#[tokio::test]
async fn a_school_is_counted_resumed_after_a_restart_and_finalized() {
    let mut suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let other = suite.school("HP-PRI", "黄浦区第一小学").await;
    suite.student(&school, "R100001").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    for barcode in ["S001", "S002", "S003", "S004", "S005", "S006"] {
        suite.copy(&title, &school, barcode).await;
    }
    suite.copy(&title, &other, "B001").await;
    let locations = shelve(
        &suite,
        &school,
        &[("一楼 A 区", &["S001", "S002", "S003", "S006"]), ("二楼 B 区", &["S004", "S005"])],
    )
    .await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("wang.fang", StaffRole::Assistant, &[&school]).await;
    let stranger = suite.staff("zhao.lei", StaffRole::Librarian, &[&other]).await;

    // S006 goes out on loan at the desk; the catalog hears of it by event.
    suite
        .loans()
        .check_out(bearer(
            CheckOutRequest {
                reader_card_barcode: "R100001".into(),
                copy_barcode: "S006".into(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("lent");
    eventually(Duration::from_secs(20), "S006 on loan in the catalog", || async {
        let copy = suite
            .catalog()
            .lookup_copy(suite.admin(LookupCopyRequest { barcode: "S006".into() }))
            .await
            .ok()?;
        (copy.into_inner().availability() == Availability::OnLoan).then_some(())
    })
    .await;

    // Assistants may not start; librarians may.
    let start = StartStocktakeRequest {
        school_id: school.id.clone(),
        name: "2027 春季盘点".into(),
        ..Default::default()
    };
    assert_refused(
        stocktakes(&suite).start_stocktake(bearer(start.clone(), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        stocktakes(&suite).start_stocktake(bearer(start.clone(), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let session =
        stocktakes(&suite).start_stocktake(bearer(start.clone(), &librarian)).await.unwrap().into_inner();
    assert_eq!(session.state(), StocktakeState::Open);
    assert_eq!(progress(&session).in_scope, 6, "the school's six copies, not the other school's");
    assert_eq!(counts(&session), (0, 6, 5, 0, 0, 0), "S006 is on loan, so not expected on the shelf");
    let again = assert_refused(
        stocktakes(&suite).start_stocktake(bearer(start, &librarian)).await,
        Code::FailedPrecondition,
        Reason::StocktakeAlreadyOpen,
    );
    let refusal = lectern_core::refusal::Refusal::from_status(&again).unwrap();
    assert_eq!(refusal.metadata.get("stocktake_id"), Some(&session.id), "the open session is named");

    // The assistant scans shelf A: two fine, S004 belongs on shelf B, S006
    // is recorded on loan, one barcode the catalog does not know, another
    // school's book, a malformed barcode, and S001 twice.
    let first = batch(
        &session.id,
        "一楼 A 区",
        &["S001", "S002", "S004", "S006", "NOPE-1", "B001", "bad code", "S001"],
        "scan-1",
    );
    let answer =
        stocktakes(&suite).record_scans(bearer(first.clone(), &assistant)).await.unwrap().into_inner();
    assert_eq!(
        outcomes(&answer),
        vec![
            ("S001".into(), ScanOutcome::Ok),
            ("S002".into(), ScanOutcome::Ok),
            ("S004".into(), ScanOutcome::Misplaced),
            ("S006".into(), ScanOutcome::StatusMismatch),
            ("NOPE-1".into(), ScanOutcome::UnknownBarcode),
            ("B001".into(), ScanOutcome::UnknownBarcode),
            ("bad code".into(), ScanOutcome::Invalid),
            ("S001".into(), ScanOutcome::Duplicate),
        ]
    );
    let results = &answer.results;
    assert_eq!(results[2].expected_location_id, locations[1]);
    assert_eq!(results[2].scanned_location_id, locations[0]);
    assert!(results[3].on_loan);
    assert_eq!(results[4].unknown_reason(), UnknownReason::NotInCatalog);
    assert_eq!(results[5].unknown_reason(), UnknownReason::OtherSchool);
    assert_eq!(results[5].holding_school_id, other.id);
    assert!(results[6].error.contains("scans[6].barcode"), "{}", results[6].error);
    let after_first = answer.stocktake.clone().unwrap();
    assert_eq!(counts(&after_first), (4, 2, 2, 1, 1, 2));
    let by_location: Vec<_> = progress(&after_first)
        .locations
        .iter()
        .map(|l| (l.location_name.as_str(), l.in_scope, l.scanned, l.remaining))
        .collect();
    assert_eq!(by_location, vec![("一楼 A 区", 4, 3, 1), ("二楼 B 区", 2, 1, 1)]);

    // The handheld retries the same batch: same answer, nothing counted twice.
    let retried = stocktakes(&suite).record_scans(bearer(first, &assistant)).await.unwrap().into_inner();
    assert_eq!(retried, answer);
    assert_eq!(counts(&get(&suite, &assistant, &session.id).await), (4, 2, 2, 1, 1, 2));

    // The report at this step.
    assert_eq!(section(&suite, &librarian, &session.id, ReportSection::Missing).await, vec!["S003", "S005"]);
    assert_eq!(section(&suite, &librarian, &session.id, ReportSection::Misplaced).await, vec!["S004"]);
    assert_eq!(section(&suite, &librarian, &session.id, ReportSection::StatusMismatch).await, vec!["S006"]);
    assert_eq!(
        section(&suite, &librarian, &session.id, ReportSection::UnknownBarcodes).await,
        vec!["B001", "NOPE-1"]
    );

    // Bad batches change nothing.
    assert_invalid(
        stocktakes(&suite).record_scans(bearer(batch(&session.id, "", &[], ""), &assistant)).await,
        "scans",
    );
    assert_invalid(
        stocktakes(&suite)
            .record_scans(bearer(batch(&session.id, "地下室", &["S003"], ""), &assistant))
            .await,
        "location",
    );
    assert_eq!(counts(&get(&suite, &assistant, &session.id).await), (4, 2, 2, 1, 1, 2));

    // Another school's librarian sees nothing of it.
    assert_refused(
        stocktakes(&suite)
            .get_stocktake(bearer(GetStocktakeRequest { id: session.id.clone() }, &stranger))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        stocktakes(&suite).record_scans(bearer(batch(&session.id, "", &["S003"], ""), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );

    // The catalog restarts; the session is resumed by its id.
    suite.suite.stop("catalog").await.unwrap();
    suite.suite.restart("catalog").await.unwrap();
    let resumed = eventually(Duration::from_secs(20), "the catalog back", || async {
        stocktakes(&suite)
            .get_stocktake(bearer(GetStocktakeRequest { id: session.id.clone() }, &assistant))
            .await
            .ok()
            .map(tonic::Response::into_inner)
    })
    .await;
    assert_eq!(counts(&resumed), (4, 2, 2, 1, 1, 2));
    let listed = stocktakes(&suite)
        .list_stocktakes(bearer(
            ListStocktakesRequest { school_id: school.id.clone(), ..Default::default() },
            &assistant,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.stocktakes.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![session.id.as_str()]
    );

    // Shelf B: S005 is where it belongs.
    let answer = stocktakes(&suite)
        .record_scans(bearer(batch(&session.id, &locations[1], &["S005"], "scan-2"), &assistant))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(outcomes(&answer), vec![("S005".into(), ScanOutcome::Ok)]);

    // Preview: only S003 would go missing. A scan before the confirm makes
    // it fail; the librarian previews again and confirms.
    let finalize = |confirm: bool, token: &str| FinalizeStocktakeRequest {
        id: session.id.clone(),
        confirm,
        preview_token: token.into(),
        ..Default::default()
    };
    assert_refused(
        stocktakes(&suite).finalize_stocktake(bearer(finalize(false, ""), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let preview = stocktakes(&suite)
        .finalize_stocktake(bearer(finalize(false, ""), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert!(!preview.finalized);
    assert_eq!(preview.count, 1);
    assert_eq!(preview.copies.iter().map(|c| c.barcode.as_str()).collect::<Vec<_>>(), vec!["S003"]);
    stocktakes(&suite)
        .record_scans(bearer(batch(&session.id, &locations[1], &["S005"], "scan-3"), &assistant))
        .await
        .unwrap();
    assert_refused(
        stocktakes(&suite)
            .finalize_stocktake(bearer(finalize(true, &preview.preview_token), &librarian))
            .await,
        Code::Aborted,
        Reason::StocktakeChanged,
    );
    assert_invalid(
        stocktakes(&suite).finalize_stocktake(bearer(finalize(true, ""), &librarian)).await,
        "preview_token",
    );
    assert_eq!(
        get(&suite, &librarian, &session.id).await.state(),
        StocktakeState::Open,
        "nothing was marked"
    );
    let preview = stocktakes(&suite)
        .finalize_stocktake(bearer(finalize(false, ""), &librarian))
        .await
        .unwrap()
        .into_inner();
    let done = stocktakes(&suite)
        .finalize_stocktake(bearer(finalize(true, &preview.preview_token), &librarian))
        .await
        .unwrap()
        .into_inner();
    assert!(done.finalized);
    assert_eq!(done.count, 1);
    let finalized = done.stocktake.unwrap();
    assert_eq!(finalized.state(), StocktakeState::Finalized);
    assert_eq!(finalized.marked_missing, 1);
    assert!(!finalized.closed_by.is_empty() && finalized.close_time.is_some(), "who and when are kept");
    let missing = stocktakes(&suite)
        .get_stocktake_report(bearer(
            GetStocktakeReportRequest {
                id: session.id.clone(),
                section: ReportSection::Missing.into(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(missing.entries.len(), 1);
    assert!(missing.entries[0].marked_missing);
    assert_eq!(missing.entries[0].copy_status(), CopyStatus::Missing);

    // S003 is missing now: the catalog says so and circulation will not lend it.
    let copy =
        suite.catalog().lookup_copy(suite.admin(LookupCopyRequest { barcode: "S003".into() })).await.unwrap();
    let copy = copy.into_inner();
    assert_eq!(copy.status(), CopyStatus::Missing);
    // Its history says who marked it, when, and which stocktake.
    let history = CollectionServiceClient::new(suite.channel.clone())
        .get_copy_history(bearer(GetCopyHistoryRequest { copy_id: copy.id.clone() }, &librarian))
        .await
        .unwrap()
        .into_inner();
    let change = history.changes.last().expect("a status change");
    assert_eq!((change.from_status(), change.to_status()), (CopyStatus::Available, CopyStatus::Missing));
    assert_eq!(change.actor_id, finalized.closed_by);
    assert!(change.reason.contains("2027 春季盘点") && change.occur_time.is_some(), "{change:?}");
    assert_refused(
        suite
            .loans()
            .check_out(bearer(
                CheckOutRequest {
                    reader_card_barcode: "R100001".into(),
                    copy_barcode: "S003".into(),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        Code::FailedPrecondition,
        Reason::CopyNotLoanable,
    );

    // A closed session takes no more scans, and a new one may start.
    assert_refused(
        stocktakes(&suite).record_scans(bearer(batch(&session.id, "", &["S003"], ""), &assistant)).await,
        Code::FailedPrecondition,
        Reason::StocktakeClosed,
    );
    let next =
        StartStocktakeRequest { school_id: school.id.clone(), name: "复查".into(), ..Default::default() };
    let next = stocktakes(&suite).start_stocktake(bearer(next, &librarian)).await.unwrap().into_inner();
    // The missing copy is counted again, and finding it is reported.
    let found = stocktakes(&suite)
        .record_scans(bearer(batch(&next.id, "", &["S003"], ""), &assistant))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(outcomes(&found), vec![("S003".into(), ScanOutcome::StatusMismatch)]);
    assert_eq!(found.results[0].copy_status(), CopyStatus::Missing);
}

#[tokio::test]
async fn a_session_of_some_shelves_counts_only_those() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    for barcode in ["S001", "S002", "S003"] {
        suite.copy(&title, &school, barcode).await;
    }
    let locations =
        shelve(&suite, &school, &[("一楼 A 区", &["S001", "S002"]), ("二楼 B 区", &["S003"])]).await;
    let start = |locations: &[&str]| {
        suite.admin(StartStocktakeRequest {
            school_id: school.id.clone(),
            name: "A 区".into(),
            locations: locations.iter().map(|l| (*l).into()).collect(),
            request_id: String::new(),
        })
    };
    assert_invalid(stocktakes(&suite).start_stocktake(start(&["地下室"])).await, "locations");
    let session = stocktakes(&suite).start_stocktake(start(&["一楼 A 区"])).await.unwrap().into_inner();
    assert_eq!(session.location_ids, vec![locations[0].clone()]);
    assert_eq!(progress(&session).in_scope, 2);
    // Another set of shelves may be counted at the same time; the same set may not.
    stocktakes(&suite).start_stocktake(start(&[locations[1].as_str()])).await.unwrap();
    assert_refused(
        stocktakes(&suite).start_stocktake(start(&[locations[0].as_str()])).await,
        Code::FailedPrecondition,
        Reason::StocktakeAlreadyOpen,
    );
    // A copy from shelf B found on shelf A is misplaced and out of scope;
    // it is never marked missing by this session.
    let answer = stocktakes(&suite)
        .record_scans(suite.admin(batch(&session.id, &locations[0], &["S001", "S003"], "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        outcomes(&answer),
        vec![("S001".into(), ScanOutcome::Ok), ("S003".into(), ScanOutcome::Misplaced)]
    );
    assert!(answer.results[1].out_of_scope);
    let stocktake = answer.stocktake.unwrap();
    assert_eq!((progress(&stocktake).in_scope, progress(&stocktake).scanned), (2, 1));
    // Confirming by count works too; cancelling a closed session is refused.
    let confirm = FinalizeStocktakeRequest {
        id: session.id.clone(),
        confirm: true,
        expected_count: Some(1),
        ..Default::default()
    };
    let done = stocktakes(&suite).finalize_stocktake(suite.admin(confirm)).await.unwrap().into_inner();
    assert_eq!(done.count, 1);
    let cancel = lectern_proto::catalog::v1::CancelStocktakeRequest {
        id: session.id.clone(),
        request_id: String::new(),
    };
    assert_refused(
        stocktakes(&suite).cancel_stocktake(suite.admin(cancel)).await,
        Code::FailedPrecondition,
        Reason::StocktakeClosed,
    );
}

/// The text between `before` and `after` in `text`.
fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text.find(before).unwrap_or_else(|| panic!("{before:?} in {text}")) + before.len();
    let end = text[start..].find(after).map_or(text.len(), |end| start + end);
    &text[start..end]
}

#[tokio::test]
async fn a_librarian_counts_from_the_command_line() {
    use lectern::cli::{Connection, Desk, StocktakeCommand, sign_in, stocktake};
    use lectern_core::clock::Clock as _;

    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "S001").await;
    suite.copy(&title, &school, "S002").await;
    suite.staff("li.lan", StaffRole::Librarian, &[&school]).await;
    let folder = std::env::temp_dir().join(format!("lectern-stocktake-cli-{}", uuid::Uuid::now_v7()));
    let path = folder.join("session.json");
    let server = suite.suite.gateway_url();
    sign_in(&path, server.clone(), "li.lan".into(), "li.lan-own-password".into()).await.unwrap();
    let connection = Connection { server: Some(server) };
    let desk = Desk::open_at(&connection, &path, suite.clock.now()).await.unwrap();

    let started = stocktake(
        &desk,
        StocktakeCommand::Start {
            school: "XH-PRI".into(),
            name: None,
            locations: vec![],
            connection: connection.clone(),
        },
    )
    .await
    .unwrap();
    let id = between(&started, "(id ", ")").to_owned();
    assert!(started.contains("0 of 2 scanned"), "{started}");

    // A handheld's export: blank lines and comments are skipped.
    let file = folder.join("shelf-1.txt");
    std::fs::write(&file, "# 一楼 A 区\nS001\n\nNOPE-9\nS001\n").unwrap();
    let scanned = stocktake(
        &desk,
        StocktakeCommand::Scan {
            session: id.clone(),
            location: None,
            file: Some(file),
            connection: connection.clone(),
        },
    )
    .await
    .unwrap();
    assert!(scanned.contains("3 barcodes sent"), "{scanned}");
    assert!(scanned.contains("NOPE-9") && scanned.contains("not in the catalog"), "{scanned}");
    assert!(scanned.contains("scanned before"), "{scanned}");
    assert!(scanned.contains("1 of 2 scanned, 1 remaining"), "{scanned}");

    let report = stocktake(
        &desk,
        StocktakeCommand::Report { session: id.clone(), all: true, connection: connection.clone() },
    )
    .await
    .unwrap();
    assert!(report.contains("not scanned (missing): 1"), "{report}");
    assert!(report.contains("S002") && report.contains("unknown barcodes: 1"), "{report}");

    let finalize = |confirm: bool, token: Option<String>| StocktakeCommand::Finalize {
        session: id.clone(),
        confirm,
        token,
        expect: None,
        connection: connection.clone(),
    };
    let preview = stocktake(&desk, finalize(false, None)).await.unwrap();
    assert!(preview.contains("1 copies would be marked missing"), "{preview}");
    let token = between(&preview, "--token ", "\n").trim().to_owned();
    let done = stocktake(&desk, finalize(true, Some(token))).await.unwrap();
    assert!(done.contains("stocktake finalized: 1 copies marked missing"), "{done}");
    let copy =
        suite.catalog().lookup_copy(suite.admin(LookupCopyRequest { barcode: "S002".into() })).await.unwrap();
    assert_eq!(copy.into_inner().status(), CopyStatus::Missing);
    std::fs::remove_dir_all(folder).ok();
}
