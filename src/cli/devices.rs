//! Self-service devices: `device add|list|settings|disable`. A kiosk or
//! SIP2 machine belongs to one school and signs in with its id and a key
//! that is shown once, when it is added; type both into the device's
//! settings. Its own settings here say whether readers need a PIN, and how
//! a SIP2 machine talks (character set, language, line ending).

use lectern_proto::reader::v1::{
    CreateDeviceRequest, Device, DeviceCharset, DeviceKind, DeviceSettings, DisableDeviceRequest,
    GetDeviceRequest, ListDevicesRequest, UpdateDeviceSettingsRequest,
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

/// The character set a SIP2 machine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Charset {
    /// UTF-8 (the default)
    #[value(name = "utf-8")]
    Utf8,
    /// GB18030, common on Chinese machines
    Gb18030,
    /// IBM code page 850, older Western machines
    Cp850,
}

impl Charset {
    fn wire(self) -> DeviceCharset {
        match self {
            Self::Utf8 => DeviceCharset::Utf8,
            Self::Gb18030 => DeviceCharset::Gb18030,
            Self::Cp850 => DeviceCharset::Cp850,
        }
    }
}

/// The language of a device's screen messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Chinese (the default)
    #[value(name = "zh-CN")]
    ZhCn,
    /// English
    #[value(name = "en")]
    En,
}

impl Language {
    fn wire(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }
}

/// A device's settings as flags; a flag left out keeps what the device
/// has (or the default, for a new device).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// Readers sign in with their card alone, no PIN (young children's kiosks)
    #[arg(long, conflicts_with = "pin_required")]
    card_only: bool,
    /// Readers sign in with card and PIN (the default)
    #[arg(long)]
    pin_required: bool,
    /// SIP2: the machine's character set
    #[arg(long, value_enum)]
    charset: Option<Charset>,
    /// The language of the screen messages
    #[arg(long, value_enum)]
    language: Option<Language>,
    /// SIP2: end answers with CR LF (some machines want it)
    #[arg(long, conflicts_with = "cr")]
    crlf: bool,
    /// SIP2: end answers with CR alone (the default)
    #[arg(long)]
    cr: bool,
}

impl SettingsArgs {
    /// `base` changed by the flags given.
    fn applied_to(&self, base: DeviceSettings) -> DeviceSettings {
        DeviceSettings {
            card_only: (base.card_only || self.card_only) && !self.pin_required,
            charset: self.charset.map_or(base.charset, |charset| charset.wire().into()),
            language: self.language.map_or(base.language, |language| language.wire().to_owned()),
            crlf: (base.crlf || self.crlf) && !self.cr,
        }
    }

    fn given(&self) -> bool {
        self.card_only
            || self.pin_required
            || self.charset.is_some()
            || self.language.is_some()
            || self.crlf
            || self.cr
    }
}

/// The settings of a new device: PIN, UTF-8, zh-CN, CR.
fn default_settings() -> DeviceSettings {
    DeviceSettings {
        card_only: false,
        charset: DeviceCharset::Utf8.into(),
        language: "zh-CN".to_owned(),
        crlf: false,
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
        settings: SettingsArgs,
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
    /// Show a device's settings, or change them with flags. 设备设置
    #[command(after_help = "Examples:\n  lectern device settings 0190… --card-only\n  \
        lectern device settings 0190… --charset gb18030 --crlf --language en\n\n\
        Flags left out keep the device's current settings. Librarians of the\n\
        device's school and district admins change them; a SIP2 machine's\n\
        new settings apply from its next login.")]
    Settings {
        /// The device id (from `lectern device list`)
        device_id: String,
        #[command(flatten)]
        settings: SettingsArgs,
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
        DeviceCommand::Add { school, kind, label, settings, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CreateDeviceRequest {
                school_id: school_id(&desk, &school).await?,
                kind: kind.wire().into(),
                label,
                settings: Some(settings.applied_to(default_settings())),
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
            println!("settings:   {}", settings_words(&device));
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
        DeviceCommand::Settings { device_id, settings, connection } => {
            let desk = Desk::open(&connection).await?;
            let device_id = device_id.trim().to_owned();
            let mut device = desk
                .identity()
                .get_device(desk.request(GetDeviceRequest { device_id: device_id.clone() }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            if settings.given() {
                let changed = settings.applied_to(device.settings.clone().unwrap_or_else(default_settings));
                // Setting the same settings twice changes nothing: safe to retry.
                device = desk
                    .identity()
                    .update_device_settings(
                        desk.request(UpdateDeviceSettingsRequest { device_id, settings: Some(changed) }),
                    )
                    .await
                    .map_err(|status| desk.fail(status))?
                    .into_inner();
                println!("settings changed: {} ({})", clean(&device.label), device.id);
            } else {
                println!("{} ({}, {})", clean(&device.label), kind_words(device.kind), device.id);
            }
            println!("settings: {}", settings_words(&device));
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

/// A device's settings in a few words: "PIN, UTF-8, zh-CN, CR" (a kiosk
/// speaks UTF-8 and has no line ending: "card only, en").
fn settings_words(device: &Device) -> String {
    let settings = device.settings.clone().unwrap_or_else(default_settings);
    let mut words = vec![if settings.card_only { "card only" } else { "PIN" }.to_owned()];
    let sip2 = DeviceKind::try_from(device.kind) == Ok(DeviceKind::Sip2);
    if sip2 {
        let charset = match DeviceCharset::try_from(settings.charset) {
            Ok(DeviceCharset::Gb18030) => "GB18030",
            Ok(DeviceCharset::Cp850) => "cp850",
            _ => "UTF-8",
        };
        words.push(charset.to_owned());
    }
    words.push(if settings.language.is_empty() { "zh-CN".to_owned() } else { settings.language });
    if sip2 {
        words.push(if settings.crlf { "CR LF" } else { "CR" }.to_owned());
    }
    words.join(", ")
}

fn devices_table(devices: &[Device]) -> Table {
    let mut table = Table::new(&["LABEL", "KIND", "STATUS", "SETTINGS", "ADDED", "SCHOOL", "ID"]);
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
            settings_words(device),
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
        assert!(text.contains("PIN, UTF-8, zh-CN, CR"), "{text}");
    }

    #[test]
    fn flags_change_only_what_they_name() {
        let base = DeviceSettings {
            card_only: true,
            charset: DeviceCharset::Gb18030.into(),
            language: "en".into(),
            crlf: true,
        };
        assert_eq!(SettingsArgs::default().applied_to(base.clone()), base);
        let flags = SettingsArgs { pin_required: true, cr: true, ..SettingsArgs::default() };
        let changed = flags.applied_to(base.clone());
        assert_eq!((changed.card_only, changed.crlf, changed.language.as_str()), (false, false, "en"));
        let flags = SettingsArgs {
            card_only: true,
            charset: Some(Charset::Cp850),
            language: Some(Language::ZhCn),
            ..SettingsArgs::default()
        };
        let changed = flags.applied_to(default_settings());
        assert!(changed.card_only);
        assert_eq!(changed.charset, i32::from(DeviceCharset::Cp850));
        assert_eq!(changed.language, "zh-CN");
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: DeviceCommand,
    }

    fn parse(args: &[&str]) -> Result<DeviceCommand, clap::Error> {
        use clap::Parser as _;
        Cli::try_parse_from(std::iter::once("device").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn settings_flags_parse_and_conflicting_ones_are_refused() {
        let DeviceCommand::Settings { device_id, settings, .. } =
            parse(&["settings", "0190", "--card-only", "--charset", "gb18030", "--language", "en", "--crlf"])
                .unwrap()
        else {
            panic!("not device settings");
        };
        assert_eq!(device_id, "0190");
        assert!(settings.card_only && settings.crlf);
        assert_eq!((settings.charset, settings.language), (Some(Charset::Gb18030), Some(Language::En)));
        let DeviceCommand::Add { settings, .. } =
            parse(&["add", "--school", "XH-PRI", "--kind", "sip2", "--label", "x", "--charset", "cp850"])
                .unwrap()
        else {
            panic!("not device add");
        };
        assert_eq!(settings.charset, Some(Charset::Cp850));
        assert!(parse(&["settings", "0190", "--card-only", "--pin-required"]).is_err());
        assert!(parse(&["settings", "0190", "--crlf", "--cr"]).is_err());
        assert!(parse(&["settings", "0190", "--charset", "latin1"]).is_err());
        assert!(parse(&["settings", "0190", "--language", "fr"]).is_err());
    }

    #[test]
    fn a_kiosk_shows_no_sip2_settings() {
        let device = Device {
            kind: DeviceKind::Kiosk.into(),
            settings: Some(DeviceSettings { card_only: true, language: "en".into(), ..default_settings() }),
            ..Device::default()
        };
        assert_eq!(settings_words(&device), "card only, en");
    }
}
