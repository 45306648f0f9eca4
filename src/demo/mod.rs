//! The demo district: two schools (libraries closed at weekends), their
//! classes, 100 readers, ~240 titles in Chinese and English with copies at
//! both libraries, each library's lending rules for students and teachers,
//! named staff for the desk ([`DemoStaff`]) and a few open and overdue
//! loans. It is loaded through the gateway like any client would load it,
//! so a demo start also exercises the whole suite.

mod data;
mod devices;
mod staff;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use lectern_core::client::with_bearer;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::collection_service_client::CollectionServiceClient;
use lectern_proto::catalog::v1::{CreateCopyRequest, CreateShelfLocationRequest, CreateTitleRequest};
use lectern_proto::circulation::v1::circulation_rule_service_client::CirculationRuleServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::school_calendar_service_client::SchoolCalendarServiceClient;
use lectern_proto::circulation::v1::{
    CheckOutRequest, CirculationRule, CreateCirculationRuleRequest, LoanPeriodUnit, SchoolCalendar,
    SetSchoolCalendarRequest,
};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateClassRequest, CreateReaderContactRequest, CreateReaderRequest,
    CreateSchoolRequest, ListSchoolsRequest, NotificationChannel, Reader,
    UpdateNotificationPreferencesRequest,
};
use tonic::transport::Channel;

pub use data::{DemoReader, DemoTitle, EMAIL_FAMILIES, HOMEROOM_TEACHER};
pub use devices::{DEVICE_SCHOOL, DemoDevice, demo_pin};
pub use staff::{DemoSignIn, DemoStaff, sign_in_and_rotate};

/// The school year the demo classes belong to.
pub const SCHOOL_YEAR: &str = "2026-2027";

const DEADLINE: Duration = Duration::from_secs(10);
/// Calls in flight at once while loading.
const PARALLEL: usize = 8;

/// What the demo load created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Schools created.
    pub schools: usize,
    /// Circulation rules set (the schools' own, besides the district default).
    pub rules: usize,
    /// Classes created.
    pub classes: usize,
    /// Readers registered.
    pub readers: usize,
    /// Contact points added (guardians' and a homeroom teacher's).
    pub contacts: usize,
    /// Titles catalogued.
    pub titles: usize,
    /// Copies added.
    pub copies: usize,
    /// Loans open now (including the overdue ones).
    pub open_loans: usize,
    /// Loans already past their due date.
    pub overdue_loans: usize,
    /// The named staff of the desk, with their sign-ins (the admin's is
    /// returned beside the summary).
    pub staff: Vec<DemoStaff>,
    /// The primary school's kiosk and SIP2 machine, with their keys.
    pub devices: Vec<DemoDevice>,
}

/// Signs in with the first admin's one-time password, chooses a new one
/// (the one-time password only allows that), and loads the demo district.
/// Returns the admin's sign-in and what was loaded, the staff's sign-ins
/// among it. Refuses if the district already has schools.
pub async fn load(
    gateway_url: &str,
    username: &str,
    one_time_password: &str,
) -> anyhow::Result<(DemoSignIn, DemoSummary)> {
    load_at(gateway_url, username, one_time_password, chrono::Utc::now()).await
}

/// [`load`] at `now`, which dates the demo's loans (the suite tests pass
/// the suite's clock, which the services run on).
pub async fn load_at(
    gateway_url: &str,
    username: &str,
    one_time_password: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(DemoSignIn, DemoSummary)> {
    let channel = Channel::from_shared(gateway_url.to_owned())?
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .with_context(|| format!("cannot reach the gateway at {gateway_url}"))?;
    let admin = sign_in_and_rotate(&channel, username, one_time_password).await?;
    let summary = load_as_at(&channel, &admin.token, now).await?;
    Ok((admin, summary))
}

/// Loads the demo district with an admin's token.
pub async fn load_as(channel: &Channel, token: &str) -> anyhow::Result<DemoSummary> {
    load_as_at(channel, token, chrono::Utc::now()).await
}

async fn load_as_at(
    channel: &Channel,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<DemoSummary> {
    let mut readers = ReaderServiceClient::new(channel.clone());
    let existing = readers
        .list_schools(with_bearer(
            ListSchoolsRequest { page_size: 1, page_token: String::new() },
            token,
            DEADLINE,
        ))
        .await?
        .into_inner();
    if !existing.schools.is_empty() {
        bail!("this district already has schools; the demo only loads into an empty data directory");
    }
    let mut summary = DemoSummary::default();

    let (mut school_ids, mut school_names) = (HashMap::new(), HashMap::new());
    for school in data::schools()? {
        let created = readers
            .create_school(with_bearer(
                CreateSchoolRequest {
                    code: school.code.clone(),
                    name: school.name,
                    request_id: String::new(),
                },
                token,
                DEADLINE,
            ))
            .await
            .with_context(|| format!("creating school {}", school.code))?
            .into_inner();
        school_names.insert(school.code.clone(), created.name);
        school_ids.insert(school.code, created.id);
        summary.schools += 1;
    }
    summary.staff = staff::add_staff(channel, token, &school_ids, &school_names).await?;
    // Both libraries close at weekends: loans falling due then are due on Monday.
    let mut calendars = SchoolCalendarServiceClient::new(channel.clone());
    for (code, school_id) in &school_ids {
        let calendar = SchoolCalendar {
            school_id: school_id.clone(),
            closed_weekdays: vec![6, 7],
            ..Default::default()
        };
        let request = SetSchoolCalendarRequest { calendar: Some(calendar), request_id: String::new() };
        calendars
            .set_school_calendar(with_bearer(request, token, DEADLINE))
            .await
            .with_context(|| format!("setting the calendar of school {code}"))?;
    }

    // Each library's own rules: students 5 books for 14 days, teachers 10
    // for 30, both renewable; no fines, as in most schools.
    let mut rules = CirculationRuleServiceClient::new(channel.clone());
    for (code, school_id) in &school_ids {
        for rule in demo_rules(school_id) {
            rules
                .create_circulation_rule(with_bearer(
                    CreateCirculationRuleRequest { rule: Some(rule), request_id: String::new() },
                    token,
                    DEADLINE,
                ))
                .await
                .with_context(|| format!("setting the circulation rules of school {code}"))?;
            summary.rules += 1;
        }
    }

    let mut class_ids = HashMap::new();
    for class in data::classes()? {
        let school_id = lookup(&school_ids, &class.school_code)?;
        let created = readers
            .create_class(with_bearer(
                CreateClassRequest {
                    school_id,
                    name: class.name.clone(),
                    grade: class.grade,
                    school_year: SCHOOL_YEAR.to_owned(),
                    request_id: String::new(),
                },
                token,
                DEADLINE,
            ))
            .await
            .with_context(|| format!("creating class {}", class.name))?
            .into_inner();
        class_ids.insert((class.school_code, class.name), created.id);
        summary.classes += 1;
    }

    let demo_readers = data::readers()?;
    let reader_requests = demo_readers
        .iter()
        .map(|reader| {
            let class_id = if reader.class_name.is_empty() {
                String::new()
            } else {
                lookup(&class_ids, &(reader.school_code.clone(), reader.class_name.clone()))?
            };
            Ok(CreateReaderRequest {
                school_id: lookup(&school_ids, &reader.school_code)?,
                card_barcode: reader.card_barcode.clone(),
                name: reader.name.clone(),
                category: reader.category.clone(),
                class_id,
                expires_on: reader.expires_on.clone(),
                request_id: String::new(),
                number: String::new(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let registered: Vec<Reader> = futures::stream::iter(reader_requests)
        .map(|request| {
            let mut client = readers.clone();
            async move {
                let card = request.card_barcode.clone();
                client
                    .create_reader(with_bearer(request, token, DEADLINE))
                    .await
                    .map(tonic::Response::into_inner)
                    .with_context(|| format!("registering reader {card}"))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    summary.readers = registered.len();
    devices::set_pins(channel, token, &registered).await?;
    summary.devices = devices::add_devices(
        channel,
        token,
        &lookup(&school_ids, DEVICE_SCHOOL)?,
        &lookup(&school_names, DEVICE_SCHOOL)?,
    )
    .await?;

    // Every demo reader has a guardian's phone and email on file, so the
    // demo shows contact points and the privacy test has contacts to look
    // for in the logs; one class's homeroom teacher has an email too, and
    // the families of the overdue borrowers chose e-mail reminders.
    let profiles = ReaderProfileServiceClient::new(channel.clone());
    let mut changes = Vec::new();
    for reader in &registered {
        let Some(demo) = demo_readers.iter().find(|demo| demo.card_barcode == reader.card_barcode) else {
            continue;
        };
        let contact = |who: ContactWho, channel: ContactChannel, value: String, label: &str| {
            ProfileChange::Contact(CreateReaderContactRequest {
                reader_id: reader.id.clone(),
                who: who.into(),
                channel: channel.into(),
                value,
                label: label.to_owned(),
                request_id: String::new(),
            })
        };
        changes.push(contact(ContactWho::Guardian, ContactChannel::Phone, demo.guardian_phone(), "家长"));
        changes.push(contact(
            ContactWho::Guardian,
            ContactChannel::Email,
            demo.guardian_email(),
            demo.guardian_label(),
        ));
        if let Some(address) = demo.homeroom_teacher_email() {
            changes.push(contact(
                ContactWho::HomeroomTeacher,
                ContactChannel::Email,
                address.to_owned(),
                "班主任",
            ));
        }
        if demo.wants_email() {
            changes.push(ProfileChange::Preferences(UpdateNotificationPreferencesRequest {
                reader_id: reader.id.clone(),
                channels: vec![NotificationChannel::Email.into(), NotificationChannel::InApp.into()],
                language: "zh-CN".into(),
            }));
        }
    }
    summary.contacts = changes.iter().filter(|change| matches!(change, ProfileChange::Contact(_))).count();
    futures::stream::iter(changes)
        .map(|change| {
            let mut client = profiles.clone();
            async move {
                match change {
                    ProfileChange::Contact(request) => client
                        .create_reader_contact(with_bearer(request, token, DEADLINE))
                        .await
                        .map(drop)
                        .context("adding a contact point"),
                    ProfileChange::Preferences(request) => client
                        .update_notification_preferences(with_bearer(request, token, DEADLINE))
                        .await
                        .map(drop)
                        .context("choosing a family's notification channels"),
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await?;

    let catalog = CatalogServiceClient::new(channel.clone());
    let titles = data::titles()?;
    let created_titles: Vec<(usize, String)> = futures::stream::iter(titles.iter().enumerate())
        .map(|(index, title)| {
            let mut client = catalog.clone();
            let request = CreateTitleRequest {
                isbn: title.isbn13.clone(),
                title: title.title.clone(),
                contributors: title.contributors.clone(),
                publisher: title.publisher.clone(),
                publication_year: title.year,
                language: title.language.clone(),
                clc: title.classification().0,
                dewey: title.classification().1,
                audience: Some(title.grades()),
                ..Default::default()
            };
            async move {
                let created = client
                    .create_title(with_bearer(request, token, DEADLINE))
                    .await
                    .with_context(|| format!("cataloguing ISBN {}", title.isbn13))?
                    .into_inner();
                Ok::<_, anyhow::Error>((index, created.id))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    summary.titles = created_titles.len();

    // Every school shelves its Chinese and its English books apart.
    let collection = CollectionServiceClient::new(channel.clone());
    let mut shelves: HashMap<(String, &str), String> = HashMap::new();
    for school_id in school_ids.values() {
        for name in [data::SHELF_CHINESE, data::SHELF_FOREIGN] {
            let location = collection
                .clone()
                .create_shelf_location(with_bearer(
                    CreateShelfLocationRequest {
                        school_id: school_id.clone(),
                        name: name.to_owned(),
                        request_id: String::new(),
                    },
                    token,
                    DEADLINE,
                ))
                .await
                .context("adding a demo shelf location")?
                .into_inner();
            shelves.insert((school_id.clone(), name), location.id);
        }
    }
    let shelf_of: HashMap<&str, &str> =
        created_titles.iter().map(|(index, id)| (id.as_str(), titles[*index].shelf())).collect();
    let mut copies = data::copies_for(&created_titles, &school_ids);
    for copy in &mut copies {
        if let Some(shelf) = shelf_of.get(copy.title_id.as_str())
            && let Some(location_id) = shelves.get(&(copy.school_id.clone(), *shelf))
        {
            copy.location_id.clone_from(location_id);
        }
    }
    let primary_copies: Vec<String> =
        copies.iter().filter(|copy| copy.barcode.starts_with('P')).map(|copy| copy.barcode.clone()).collect();
    summary.copies = futures::stream::iter(copies)
        .map(|request| {
            let mut client = catalog.clone();
            async move {
                let barcode = request.barcode.clone();
                client
                    .create_copy(with_bearer(request, token, DEADLINE))
                    .await
                    .with_context(|| format!("adding copy {barcode}"))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await?
        .len();

    let (open, overdue) = lend(channel, token, &demo_readers, &primary_copies, now).await?;
    summary.open_loans = open;
    summary.overdue_loans = overdue;
    Ok(summary)
}

/// A school's rules for students and for teachers. Lending stops while a
/// book is more than a week overdue (the desk's READER_HAS_OVERDUE, which a
/// librarian may override).
fn demo_rules(school_id: &str) -> [CirculationRule; 2] {
    let rule = |name: &str, category: &str, days: i32, max_loans: i32| CirculationRule {
        school_id: school_id.to_owned(),
        reader_category: category.to_owned(),
        name: name.to_owned(),
        loanable: true,
        loan_period_unit: LoanPeriodUnit::Days.into(),
        loan_period: days,
        max_loans: Some(max_loans),
        renewals: 2,
        renewal_period_days: days,
        no_renewal_when_held: true,
        hold_shelf_days: 7,
        max_holds: 3,
        block_when_overdue_days: Some(7),
        ..Default::default()
    };
    [rule("学生", "student", 14, 5), rule("教师", "teacher", 30, 10)]
}

/// A few loans at the primary school: most taken today; the first
/// borrower's (R100001) a month ago, so long overdue `now` that the rules
/// refuse them another book; the next three's 18 days ago, overdue by a
/// few days, which the rules let pass.
async fn lend(
    channel: &Channel,
    token: &str,
    readers: &[DemoReader],
    copies: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(usize, usize)> {
    let mut circulation = LoanServiceClient::new(channel.clone());
    let borrowers = readers
        .iter()
        .filter(|reader| reader.school_code == "XH-PRI" && reader.category == "student")
        .filter(|reader| reader.expires_on.as_str() > "2026-12-31");
    let (mut open, mut overdue) = (0, 0);
    for (index, (reader, copy)) in borrowers.zip(copies.iter().step_by(3)).take(10).enumerate() {
        let when = match index {
            0 => now - chrono::Duration::days(30),
            1..4 => now - chrono::Duration::days(18),
            _ => now - chrono::Duration::hours(1),
        };
        let response = circulation
            .check_out(with_bearer(
                CheckOutRequest {
                    reader_card_barcode: reader.card_barcode.clone(),
                    copy_barcode: copy.clone(),
                    request_id: lectern_core::ids::new_id(),
                    occurred_at: Some(prost_types::Timestamp { seconds: when.timestamp(), nanos: 0 }),
                    ..Default::default()
                },
                token,
                DEADLINE,
            ))
            .await
            .with_context(|| format!("lending copy {copy}"))?
            .into_inner();
        open += 1;
        if response.loan.is_some_and(|loan| loan.overdue) {
            overdue += 1;
        }
    }
    Ok((open, overdue))
}

/// One change to a reader's profile while loading.
enum ProfileChange {
    Contact(CreateReaderContactRequest),
    Preferences(UpdateNotificationPreferencesRequest),
}

fn lookup<K, Q>(map: &HashMap<K, String>, key: &Q) -> anyhow::Result<String>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + std::fmt::Debug + ?Sized,
{
    map.get(key).cloned().with_context(|| format!("demo data refers to unknown {key:?}"))
}

/// The demo's copy requests (exposed for tests).
pub fn copy_requests(
    titles: &[(usize, String)],
    schools: &HashMap<String, String>,
) -> Vec<CreateCopyRequest> {
    data::copies_for(titles, schools)
}
