//! What the suite benches share (`lectern bench checkout` and `lectern
//! bench sip2`; `lectern bench reminders` in part): checking their round
//! counts, the suite's configuration on their scratch databases, the
//! school, class and title their stations use (with its librarians and
//! students), waiting for circulation's outbox, and the backend's name in
//! a report.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lectern_circulation::events::LOAN_SUBSCRIBERS;
use lectern_common::db::{Backend, Db, DbError};
use lectern_common::outbox;
use lectern_core::client::with_bearer;
use lectern_proto::catalog::v1::CreateTitleRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    CreateClassRequest, CreateReaderRequest, CreateSchoolRequest, CreateStaffAccountRequest, StaffRole,
};
use tonic::transport::Channel;

use super::scratch::Scratch;
use crate::suite::SuiteConfig;

/// How long the outbox may take to drain after a round.
const DRAIN_WITHIN: Duration = Duration::from_secs(300);

/// Refuses no round counts, a count of zero (`--{noun}s`, e.g. `example`)
/// and zero cycles.
pub(crate) fn check_rounds(counts: &[usize], noun: &str, example: &str, cycles: usize) -> anyhow::Result<()> {
    if counts.is_empty() || counts.contains(&0) {
        bail!("--{noun}s needs one or more {noun} counts above zero, e.g. {example}");
    }
    if cycles == 0 {
        bail!("--cycles must be above zero");
    }
    Ok(())
}

/// The whole suite on the scratch databases, on ports of its own, with a
/// new service key.
pub(crate) fn suite_config(scratch: &Scratch) -> SuiteConfig {
    let service_key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    SuiteConfig::new(scratch.databases.clone(), SocketAddr::from(([127, 0, 0, 1], 0)), service_key)
}

/// The bench's school, its class and the title every copy is of.
pub(crate) struct Library {
    pub school_id: String,
    pub class_id: String,
    pub title_id: String,
    /// When the bench's readers' cards expire: a year from today.
    pub expires_on: String,
}

impl Library {
    /// A student of the school's class, card `card`, to register.
    pub(crate) fn student(&self, card: &str, name: String) -> CreateReaderRequest {
        CreateReaderRequest {
            school_id: self.school_id.clone(),
            card_barcode: card.to_owned(),
            name,
            category: "student".into(),
            class_id: self.class_id.clone(),
            expires_on: self.expires_on.clone(),
            ..Default::default()
        }
    }

    /// Creates librarian `username` of the school with one-time password
    /// `password`, as the admin with `token`.
    pub(crate) async fn create_librarian(
        &self,
        identity: &mut IdentityServiceClient<Channel>,
        token: &str,
        username: &str,
        display_name: String,
        password: &str,
        deadline: Duration,
    ) -> Result<(), tonic::Status> {
        let account = CreateStaffAccountRequest {
            username: username.to_owned(),
            display_name,
            role: StaffRole::Librarian.into(),
            initial_password: password.to_owned(),
            school_ids: vec![self.school_id.clone()],
            request_id: String::new(),
        };
        identity.create_staff_account(with_bearer(account, token, deadline)).await?;
        Ok(())
    }
}

/// Creates the bench's school (`code`, `name`), a class in it and a title,
/// as the admin with `token`, each call within `deadline`.
pub(crate) async fn create_library(
    channel: &Channel,
    token: &str,
    code: &str,
    name: &str,
    deadline: Duration,
) -> anyhow::Result<Library> {
    let mut readers = ReaderServiceClient::new(channel.clone());
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let school = readers
        .create_school(with_bearer(
            CreateSchoolRequest { code: code.into(), name: name.into(), request_id: String::new() },
            token,
            deadline,
        ))
        .await
        .context("creating the bench school")?
        .into_inner();
    let class = readers
        .create_class(with_bearer(
            CreateClassRequest {
                school_id: school.id.clone(),
                name: "三年级(1)班".into(),
                grade: 3,
                school_year: crate::demo::SCHOOL_YEAR.into(),
                request_id: String::new(),
            },
            token,
            deadline,
        ))
        .await
        .context("creating the bench class")?
        .into_inner();
    let title = catalog
        .create_title(with_bearer(
            CreateTitleRequest { title: "草房子".into(), language: "zh".into(), ..Default::default() },
            token,
            deadline,
        ))
        .await
        .context("cataloguing the bench title")?
        .into_inner();
    let expires_on =
        (chrono::Utc::now().date_naive() + chrono::Days::new(365)).format("%Y-%m-%d").to_string();
    Ok(Library { school_id: school.id, class_id: class.id, title_id: title.id, expires_on })
}

/// Waits until circulation's relay has delivered every event so far.
pub(crate) async fn drain_outbox(circulation: &Db) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRAIN_WITHIN;
    loop {
        let pending = circulation
            .run(|connection| {
                LOAN_SUBSCRIBERS.iter().try_fold(0, |sum, subscriber| {
                    Ok::<_, DbError>(sum + outbox::pending_count(connection, subscriber)?)
                })
            })
            .await?;
        if pending == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{pending} events still undelivered after {} s", DRAIN_WITHIN.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The backend's name in a report's heading.
pub(crate) fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}
