//! Break time: fifty self-check machines and fifty desks all try to lend
//! the last copy of a book at the same moment, each to a different child.
//! Exactly one loan results; every other machine shows a refusal and every
//! other desk gets a refusal with its reason — no error, no second loan.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use futures::{StreamExt as _, stream};
use lectern_core::refusal::reason_of;
use lectern_proto::circulation::v1::{CheckOutRequest, GetReaderSummaryRequest};
use lectern_proto::reader::v1::StaffRole;
use tokio::sync::Barrier;

use super::machine::{FIXED_12, FIXED_64, Machine, date, field, lent};
use super::{Library, machine_of};
use crate::harness::bearer;

/// Fifty machines and fifty desks. A debug build on two cores spends about
/// 80 ms of CPU on each check-out, so a hundred at once outlast the
/// services' default 5 s call deadline; the suite here gives its calls
/// longer, as the race is about one loan, not speed (`lectern bench sip2`
/// measures that).
const MACHINES: usize = 50;
const DESKS: usize = MACHINES;
/// Set-up calls made at once.
const SETUP_AT_ONCE: usize = 8;

#[tokio::test]
async fn machines_and_desks_lending_one_copy_at_once_make_one_loan() {
    let started = std::time::Instant::now();
    let library = Library::open_with(|config| {
        config.client.call_timeout = std::time::Duration::from_secs(60);
    })
    .await;
    let suite = &library.suite;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &library.school, "P000001").await;
    let librarian = suite.staff("xh-librarian", StaffRole::Librarian, &[&library.school]).await;

    // A hundred children; the machines' fifty have the demo's PINs (the
    // card's last four digits).
    let cards: Vec<String> = (1..=MACHINES + DESKS).map(|n| format!("R1{n:05}")).collect();
    // (A few at a time: the set-up is not what is measured, and a debug
    // build on two cores answers a hundred at once after the call timeout.)
    stream::iter(cards.iter().enumerate())
        .for_each_concurrent(SETUP_AT_ONCE, |(index, card)| {
            let library = &library;
            async move {
                if index < MACHINES {
                    library.reader(&library.school, card, &card[card.len() - 4..]).await;
                } else {
                    library.suite.student(&library.school, card).await;
                }
            }
        })
        .await;
    let devices: Vec<(String, String)> = stream::iter(0..MACHINES)
        .map(|_| machine_of(suite, &library.school.id, None))
        .buffered(SETUP_AT_ONCE)
        .collect()
        .await;
    let address = library.address();
    let machines: Vec<Machine> = stream::iter(devices.iter().zip(&cards))
        .map(|((device_id, key), card)| async move {
            let mut machine = Machine::logged_in(address, device_id, key).await;
            let patron = machine.patron(card, &card[card.len() - 4..]).await;
            assert_eq!(field(&patron, FIXED_64, "CQ").as_deref(), Some("Y"), "{patron}");
            machine
        })
        .buffered(SETUP_AT_ONCE)
        .collect()
        .await;
    let prepared = started.elapsed();

    let racing = std::time::Instant::now();
    let barrier = Arc::new(Barrier::new(MACHINES + DESKS));
    let mut at_machines = Vec::new();
    for (mut machine, card) in machines.into_iter().zip(cards.iter().cloned()) {
        let barrier = barrier.clone();
        at_machines.push(tokio::spawn(async move {
            barrier.wait().await;
            machine.checkout(&card, "P000001", &date(40)).await
        }));
    }
    let mut at_desks = Vec::new();
    for card in cards[MACHINES..].iter().cloned() {
        let barrier = barrier.clone();
        let mut loans = suite.loans();
        let token = librarian.clone();
        at_desks.push(tokio::spawn(async move {
            let request = CheckOutRequest {
                reader_card_barcode: card,
                copy_barcode: "P000001".into(),
                ..Default::default()
            };
            barrier.wait().await;
            loans.check_out(bearer(request, &token)).await
        }));
    }
    let machine_answers: Vec<String> =
        join_all(at_machines).await.into_iter().map(|answer| answer.expect("a machine's task")).collect();
    let desk_answers: Vec<_> =
        join_all(at_desks).await.into_iter().map(|answer| answer.expect("a desk's task")).collect();

    let raced = racing.elapsed();
    let lent_at_machines = machine_answers.iter().filter(|answer| lent(answer)).count();
    let lent_at_desks = desk_answers.iter().filter(|answer| answer.is_ok()).count();
    assert_eq!(
        lent_at_machines + lent_at_desks,
        1,
        "exactly one loan: {machine_answers:#?} {desk_answers:#?}"
    );
    for answer in machine_answers.iter().filter(|answer| !lent(answer)) {
        assert!(answer.starts_with("120"), "{answer}");
        assert!(
            field(answer, FIXED_12, "AF").is_some_and(|text| !text.is_empty()),
            "a reason shown: {answer}"
        );
    }
    let mut reasons = BTreeMap::new();
    for refused in desk_answers.iter().filter_map(|answer| answer.as_ref().err()) {
        let reason = reason_of(refused).unwrap_or_else(|| panic!("a refusal with its reason: {refused:?}"));
        *reasons.entry(format!("{:?} {reason:?}", refused.code())).or_insert(0) += 1;
    }
    println!(
        "race: prepared in {:.1} s, raced in {:.1} s; lent at a machine {lent_at_machines}, \
         at a desk {lent_at_desks}; desks refused: {reasons:?}",
        prepared.as_secs_f64(),
        raced.as_secs_f64()
    );

    // And the books say so: one open loan among the hundred children.
    let summaries: Vec<usize> = stream::iter(&cards)
        .map(|card| {
            let mut loans = suite.loans();
            let request = suite
                .admin(GetReaderSummaryRequest { reader_card_barcode: card.clone(), ..Default::default() });
            async move { loans.get_reader_summary(request).await.expect("a summary").into_inner().loans.len() }
        })
        .buffer_unordered(SETUP_AT_ONCE)
        .collect()
        .await;
    assert_eq!(summaries.iter().sum::<usize>(), 1);
}
