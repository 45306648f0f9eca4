//! What a broken or hostile machine gets: bad frames answered `96` or a
//! closed connection, never a dead listener; nothing but status before a
//! login; wrong keys refused and, three times over, hung up on; and no
//! more than four connections for one device.

use std::time::Duration;

use lectern_proto::reader::v1::{DeviceCharset, DeviceSettings};

use super::Library;
use super::machine::{Machine, assert_sealed, date, sealed};
use crate::harness::eventually;

/// A status message (99), as machines send it for hours as a keep-alive.
const STATUS: &str = "9900302.00";

/// Whether `machine` is still answered: a 98 that says online.
async fn still_served(machine: &mut Machine) {
    let answer = machine.ask(STATUS).await;
    assert!(answer.starts_with("98Y"), "another machine is still served: {answer:?}");
}

#[tokio::test]
async fn bad_frames_get_96_or_a_closed_connection_and_every_other_machine_is_still_served() {
    let library = Library::open().await;
    let address = library.address();
    let mut bystander = library.machine().await;
    still_served(&mut bystander).await;

    // Before a login only 93, 99 and 97 are answered; the 98 says offline.
    let mut early = Machine::connect(address).await;
    // Without error detection the answer has none either.
    let plain = early.ask_plain(STATUS).await.expect("a status answer");
    assert!(plain.starts_with("98N") && !plain.contains("AZ"), "{plain:?}");
    assert!(early.ask(STATUS).await.starts_with("98N"));
    assert!(early.send(&sealed(&format!("63001{}          AO|AAR100001|AD0427|", date(1)), 7)).await);
    let next = early.ask(STATUS).await;
    assert!(next.starts_with("98N"), "the 63 before login got no answer: {next:?}");

    // A wrong checksum: 96, nothing acted on; the connection goes on.
    let mut machine = library.machine().await;
    let mut wrong = sealed(STATUS, 3);
    let at = wrong.len() - 5;
    wrong[at..at + 4].copy_from_slice(b"0000");
    assert!(machine.send(&wrong).await);
    assert_eq!(machine.answer().await.as_deref(), Some("96AZFEF6"));
    // 97: the last answer again, byte for byte.
    let status = machine.ask(STATUS).await;
    assert!(machine.send(b"97AZFEF5\r").await);
    assert_eq!(machine.answer().await.as_deref(), Some(status.as_str()));

    // An unknown message, fields of the wrong length, binary garbage: 96
    // each, or the connection closed; never a crash.
    let garbage: [&[u8]; 4] = [
        &sealed("42hello|", 4),
        &sealed("11NN2026", 5),
        &sealed("63001", 6),
        b"\x00\xff\xfe9\x80\x81garbage\x01|||\xc3\x28AY9AZ12\r",
    ];
    for bad in garbage {
        assert!(machine.send(bad).await);
        match machine.answer().await {
            Some(answer) => assert!(answer.starts_with("96"), "{bad:?} → {answer:?}"),
            None => machine = library.machine().await,
        }
        still_served(&mut bystander).await;
    }
    still_served(&mut machine).await;

    // A 1 MB line is never buffered whole: 96 once, or the connection closed.
    let mut flood = library.machine().await;
    let mut line = vec![b'A'; 1 << 20];
    line.push(b'\r');
    if flood.send(&line).await {
        // None: closed, which is fine too.
        if let Some(answer) = flood.answer().await {
            assert!(answer.starts_with("96"), "{answer:?}");
            // Once: the next message is answered as itself.
            still_served(&mut flood).await;
        }
    }
    still_served(&mut bystander).await;

    // A message cut off by a hang-up is dropped with the connection.
    let mut cut = library.machine().await;
    assert!(cut.send(b"11NN20261207    120000").await);
    drop(cut);
    still_served(&mut bystander).await;

    // Garbage with no terminator at all, then silence: the connection stays
    // until its idle limit; the others are served meanwhile.
    let mut silent = Machine::connect(address).await;
    assert!(silent.send(&[0xffu8; 4096]).await);
    still_served(&mut bystander).await;
    drop(silent);
}

#[tokio::test]
async fn a_wrong_key_is_refused_three_times_then_hung_up_on_and_a_device_has_four_connections() {
    let library = Library::open().await;
    let address = library.address();

    let mut wrong = Machine::connect(address).await;
    for key in ["wrong-key", "", "still-wrong"] {
        assert!(!wrong.login(&library.device_id, key).await, "the key {key:?} is refused");
    }
    assert!(wrong.closed().await, "three failed logins close the connection");
    // Not a device id at all, and a kiosk's id and key: 940 as well.
    let mut stranger = Machine::connect(address).await;
    assert!(!stranger.login("not-a-device", "x").await);
    let (kiosk, kiosk_key) = kiosk_of(&library).await;
    assert!(!stranger.login(&kiosk, &kiosk_key).await, "a kiosk is not a SIP2 machine");
    assert!(!stranger.login("00000000-0000-7000-8000-000000000000", "x").await);
    assert!(stranger.closed().await, "three failed logins close the connection");

    // Four connections of one device at once; a fifth login is refused
    // until one of the four hangs up.
    let mut four = Vec::new();
    for _ in 0..4 {
        four.push(library.machine().await);
    }
    let mut fifth = Machine::connect(address).await;
    assert!(!fifth.login(&library.device_id, &library.key).await, "a fifth connection is refused");
    // Another device of the school is not held back by this one's cap.
    let (other, other_key) = super::machine_of(
        &library.suite,
        &library.school.id,
        Some(DeviceSettings { charset: DeviceCharset::Utf8.into(), ..DeviceSettings::default() }),
    )
    .await;
    let mut neighbour = Machine::logged_in(address, &other, &other_key).await;
    still_served(&mut neighbour).await;
    drop(four.pop());
    let address = library.address();
    let (device_id, key) = (library.device_id.clone(), library.key.clone());
    let mut again = eventually(Duration::from_secs(10), "a connection place to free up", || {
        let (device_id, key) = (device_id.clone(), key.clone());
        async move {
            let mut machine = Machine::connect(address).await;
            machine.login(&device_id, &key).await.then_some(machine)
        }
    })
    .await;
    still_served(&mut again).await;
    for machine in &mut four {
        still_served(machine).await;
    }
    assert_sealed(&again.ask(STATUS).await, None);
}

/// A kiosk of the library's school: its id and key.
async fn kiosk_of(library: &Library) -> (String, String) {
    let created = library
        .suite
        .identity()
        .create_device(library.suite.admin(lectern_proto::reader::v1::CreateDeviceRequest {
            school_id: library.school.id.clone(),
            kind: lectern_proto::reader::v1::DeviceKind::Kiosk.into(),
            label: "图书馆门口自助机".into(),
            settings: None,
        }))
        .await
        .expect("kiosk registered")
        .into_inner();
    (created.device.expect("the kiosk").id, created.key)
}
