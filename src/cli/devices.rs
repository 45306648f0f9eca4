//! Self-service devices: `device add|list|disable`. A kiosk or SIP2
//! machine belongs to one school and signs in with its id and a key that
//! is shown once, when it is added; type both into the device's settings.

use lectern_proto::reader::v1::{
    CreateDeviceRequest, Device, DeviceKind, DisableDeviceRequest, ListDevicesRequest,
};

use super::Connection;
use super::desk::{Desk, all_pages};
use super::format::here_minute;
use super::schools::{MAX_PAGES, school_id};
use super::table::{Table, clean};

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A self-service kiosk (web pages at the library).
    Kiosk,
    /// A SIP2 self-check machine.
    Sip2,
}

impl Kind {
    fn wire(self) -> DeviceKind {
        match self {
            Self::Kiosk => DeviceKind::Kiosk,
            Self::Sip2 => DeviceKind::Sip2,
        }
    }
}

/// `lectern device …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeviceCommand {
    /// Register a kiosk or SIP2 machine of a school; prints its key once. 添加设备
    #[command(
        after_help = "Example:\n  lectern device add --school XH-PRI --kind kiosk --label \"Library entrance\"\n\n\
        District admins add devices anywhere, librarians at their own schools.\n\
        The key is shown only this once: enter it with the device id in the\n\
        device's settings. Lost it? Disable the device and add it again."
    )]
    Add {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// kiosk or sip2
        #[arg(long, value_enum)]
        kind: Kind,
        /// Where it stands, e.g. "Library entrance"
        #[arg(long)]
        label: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// List devices (of one school with --school). 设备列表
    List {
        /// Only this school's devices: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Disable a device: it cannot sign in any more and is signed out. 停用设备
    Disable {
        /// The device id (from `lectern device list`)
        device_id: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// `lectern device …`.
pub async fn run_device(command: DeviceCommand) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Add { school, kind, label, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CreateDeviceRequest {
                school_id: school_id(&desk, &school).await?,
                kind: kind.wire().into(),
                label,
                settings: None,
            };
            // Not retried: a retry would register a second device.
            let answer = desk
                .identity()
                .create_device(desk.request(message))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            let device = answer.device.unwrap_or_default();
            println!("device added: {} ({})", clean(&device.label), kind_words(device.kind));
            println!("device id:  {}", device.id);
            println!("device key: {}", answer.key);
            println!("the key is shown only now: enter it in the device's settings");
        }
        DeviceCommand::List { school, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = match school {
                Some(school) => school_id(&desk, &school).await?,
                None => String::new(),
            };
            let client = desk.identity();
            let devices = all_pages(MAX_PAGES, |page_token| {
                let mut client = client.clone();
                let call = desk.request(ListDevicesRequest {
                    school_id: school_id.clone(),
                    page_size: 500,
                    page_token,
                });
                async move {
                    let page = client.list_devices(call).await?.into_inner();
                    Ok((page.devices, page.next_page_token))
                }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            if devices.is_empty() {
                println!("no devices yet: add one with `lectern device add`");
                return Ok(());
            }
            print!("{}", devices_table(&devices).render(""));
        }
        DeviceCommand::Disable { device_id, connection } => {
            let desk = Desk::open(&connection).await?;
            let device = desk
                .identity()
                .disable_device(desk.request(DisableDeviceRequest { device_id: device_id.trim().to_owned() }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            println!("device disabled: {} ({}); it is signed out", clean(&device.label), device.id);
        }
    }
    Ok(())
}

fn kind_words(kind: i32) -> &'static str {
    match DeviceKind::try_from(kind) {
        Ok(DeviceKind::Kiosk) => "kiosk",
        Ok(DeviceKind::Sip2) => "SIP2 machine",
        _ => "device",
    }
}

fn devices_table(devices: &[Device]) -> Table {
    let mut table = Table::new(&["LABEL", "KIND", "STATUS", "ADDED", "SCHOOL", "ID"]);
    for device in devices {
        let added = device
            .create_time
            .as_ref()
            .and_then(|time| super::format::utc(time.seconds, time.nanos))
            .map(here_minute)
            .unwrap_or_default();
        table.row(vec![
            device.label.clone(),
            kind_words(device.kind).to_owned(),
            if device.disabled { "disabled" } else { "active" }.to_owned(),
            added,
            device.school_id.clone(),
            device.id.clone(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_shows_status_without_keys() {
        let device = Device {
            id: "0190".into(),
            school_id: "s1".into(),
            kind: DeviceKind::Sip2.into(),
            label: "Front desk".into(),
            disabled: true,
            create_time: None,
            settings: None,
        };
        let text = devices_table(&[device]).render("");
        assert!(text.contains("Front desk"));
        assert!(text.contains("SIP2 machine"));
        assert!(text.contains("disabled"));
    }
}
