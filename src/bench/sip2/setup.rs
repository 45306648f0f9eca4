//! The bench's library: a school, a title, and per station a reader (with
//! a PIN) and a copy; per machine a SIP2 device logged in with its reader
//! signed in at it; per desk a connection with a librarian's session; and
//! the one copy the race is for.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _};
use lectern_core::client::with_bearer;
use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{CreateDeviceRequest, DeviceKind, SetReaderPinRequest};
use tonic::transport::Channel;

use super::super::common;
use super::machine::Machine;
use super::{DeskStation, MachineStation};
use crate::suite::Suite;

/// The deadline of each set-up call and each desk's call.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// Set-up calls made at once.
const AT_ONCE: usize = 8;

/// The bench's stations.
pub(crate) struct Stations {
    pub machines: Vec<MachineStation>,
    pub desks: Vec<DeskStation>,
    /// The copy everyone races for.
    pub race_copy: String,
}

/// Registers `count` machines and `count` desks with their readers and
/// copies, logs the machines in and signs their readers in at them.
pub(crate) async fn register(suite: &Suite, sip2: SocketAddr, count: usize) -> anyhow::Result<Stations> {
    let first_admin = suite.first_admin.clone().context("the bench databases were not empty")?;
    let channel = Channel::from_shared(suite.gateway_url())?.connect().await?;
    let admin =
        crate::demo::sign_in_and_rotate(&channel, &first_admin.username, &first_admin.password).await?;
    let token = admin.token.as_str();
    let readers = ReaderServiceClient::new(channel.clone());
    let mut identity = IdentityServiceClient::new(channel.clone());
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let library = common::create_library(&channel, token, "SIP2", "自助借还测试学校", DEADLINE).await?;
    let librarian_password = format!("bench-{}", uuid::Uuid::new_v4().simple());
    library
        .create_librarian(
            &mut identity,
            token,
            "sip2-bench-librarian",
            "Bench librarian".into(),
            &librarian_password,
            DEADLINE,
        )
        .await
        .context("creating the bench librarian")?;
    let librarian =
        crate::demo::sign_in_and_rotate(&channel, "sip2-bench-librarian", &librarian_password).await?;

    // Readers M0001… sign in at machines, D0001… are served at desks; each
    // has a copy of their own.
    let people: Vec<(String, bool)> = (1..=count)
        .map(|n| (format!("M{n:04}"), true))
        .chain((1..=count).map(|n| (format!("D{n:04}"), false)))
        .collect();
    futures::stream::iter(&people)
        .map(|(card, at_machine)| {
            let (mut readers, mut catalog) = (readers.clone(), catalog.clone());
            let (reader, copy) = (
                library.student(card, format!("读者{card}")),
                CreateCopyRequest {
                    title_id: library.title_id.clone(),
                    barcode: copy_of(card),
                    school_id: library.school_id.clone(),
                    ..Default::default()
                },
            );
            async move {
                let reader = readers
                    .create_reader(with_bearer(reader, token, DEADLINE))
                    .await
                    .with_context(|| format!("registering reader {card}"))?
                    .into_inner();
                if *at_machine {
                    let pin = SetReaderPinRequest { reader_id: reader.id, pin: pin_of(card) };
                    readers.set_reader_pin(with_bearer(pin, token, DEADLINE)).await?;
                }
                catalog.create_copy(with_bearer(copy, token, DEADLINE)).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(AT_ONCE)
        .try_collect::<Vec<()>>()
        .await?;
    let race_copy = "RACE000001".to_owned();
    catalog
        .create_copy(with_bearer(
            CreateCopyRequest {
                title_id: library.title_id.clone(),
                barcode: race_copy.clone(),
                school_id: library.school_id.clone(),
                ..Default::default()
            },
            token,
            DEADLINE,
        ))
        .await
        .context("adding the race's copy")?;

    let machines = futures::stream::iter(people.iter().filter(|(_, at_machine)| *at_machine))
        .map(|(card, _)| {
            let mut identity = identity.clone();
            let school_id = library.school_id.clone();
            async move {
                let created = identity
                    .create_device(with_bearer(
                        CreateDeviceRequest {
                            school_id,
                            kind: DeviceKind::Sip2.into(),
                            label: format!("自助借还机 {card}"),
                            settings: None,
                        },
                        token,
                        DEADLINE,
                    ))
                    .await
                    .with_context(|| format!("registering the machine of {card}"))?
                    .into_inner();
                let device_id = created.device.map(|device| device.id).unwrap_or_default();
                let mut machine = Machine::logged_in(sip2, &device_id, &created.key).await?;
                machine.sign_in(card, &pin_of(card)).await?;
                anyhow::Ok(MachineStation { machine, card: card.clone(), copy: copy_of(card) })
            }
        })
        .buffered(AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;
    let mut desks = Vec::with_capacity(count);
    for (card, _) in people.iter().filter(|(_, at_machine)| !*at_machine) {
        desks.push(DeskStation {
            channel: Channel::from_shared(suite.gateway_url())?.connect().await?,
            token: librarian.token.clone(),
            card: card.clone(),
            copy: copy_of(card),
        });
    }
    Ok(Stations { machines, desks, race_copy })
}

/// A bench reader's PIN: the last four digits of the card.
fn pin_of(card: &str) -> String {
    card.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect()
}

/// A bench reader's own copy.
fn copy_of(card: &str) -> String {
    format!("C{card}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bench_pin_is_the_cards_last_four_digits() {
        assert_eq!(super::pin_of("M0007"), "0007");
        assert_eq!(super::copy_of("D0001"), "CD0001");
    }
}
