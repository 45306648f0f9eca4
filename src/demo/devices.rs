//! The demo's self-service: every reader's PIN (the last four digits of
//! their card, so a person trying the kiosk can guess it), and the primary
//! school's two machines — a browser kiosk at the library door and a SIP2
//! self-check machine — whose ids and keys the `up` banner prints.

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _};
use lectern_core::client::with_bearer;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    CreateDeviceRequest, DeviceCharset, DeviceKind, DeviceSettings, Reader, SetReaderPinRequest,
};
use tonic::transport::Channel;

use super::{DEADLINE, PARALLEL};

/// The school whose library has the demo's kiosk and self-check machine.
pub const DEVICE_SCHOOL: &str = "XH-PRI";

/// A demo device and how it signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoDevice {
    /// What the `up` banner calls it: "kiosk" or "SIP2 machine" (tests
    /// find their line by it).
    pub label: &'static str,
    /// Where it stands, as registered.
    pub place: &'static str,
    /// The device id (a SIP2 machine's login user, CN).
    pub id: String,
    /// The device key (a SIP2 machine's login password, CO).
    pub key: String,
    /// The school's name.
    pub school_name: String,
}

/// A demo reader's PIN: the last four digits of their card.
pub fn demo_pin(card_barcode: &str) -> String {
    let digits: String = card_barcode.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(4)..];
    format!("{tail:0>4}")
}

/// Gives every registered reader their demo PIN.
pub(super) async fn set_pins(channel: &Channel, token: &str, readers: &[Reader]) -> anyhow::Result<()> {
    let client = ReaderServiceClient::new(channel.clone());
    futures::stream::iter(readers)
        .map(|reader| {
            let mut client = client.clone();
            let request =
                SetReaderPinRequest { reader_id: reader.id.clone(), pin: demo_pin(&reader.card_barcode) };
            async move {
                client
                    .set_reader_pin(with_bearer(request, token, DEADLINE))
                    .await
                    .with_context(|| format!("setting the PIN of card {}", reader.card_barcode))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Registers the primary school's kiosk and SIP2 machine.
pub(super) async fn add_devices(
    channel: &Channel,
    token: &str,
    school_id: &str,
    school_name: &str,
) -> anyhow::Result<Vec<DemoDevice>> {
    let mut identity = IdentityServiceClient::new(channel.clone());
    let machines =
        [("kiosk", "图书馆门口自助机", DeviceKind::Kiosk), ("SIP2 machine", "自助借还机", DeviceKind::Sip2)];
    let mut devices = Vec::new();
    for (label, place, kind) in machines {
        let request = CreateDeviceRequest {
            school_id: school_id.to_owned(),
            kind: kind.into(),
            label: place.to_owned(),
            settings: Some(DeviceSettings {
                card_only: false,
                charset: DeviceCharset::Utf8.into(),
                language: "zh-CN".to_owned(),
                crlf: false,
            }),
        };
        let created = identity
            .create_device(with_bearer(request, token, DEADLINE))
            .await
            .with_context(|| format!("registering the demo {label}"))?
            .into_inner();
        let id = created.device.map(|device| device.id).unwrap_or_default();
        devices.push(DemoDevice { label, place, id, key: created.key, school_name: school_name.to_owned() });
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::demo_pin;

    #[test]
    fn a_demo_pin_is_the_cards_last_four_digits() {
        assert_eq!(demo_pin("R100005"), "0005");
        assert_eq!(demo_pin("R200123"), "0123");
        assert_eq!(demo_pin("T7"), "0007");
    }
}
