//! The privacy methods of `ReaderService`: reader categories with their
//! history rules, data export (right of access) and erasure (right of
//! erasure). `readers.rs` routes the trait methods here.

use lectern_common::idempotency::{Answer, Idempotent};
use lectern_core::access::Access;
use lectern_core::client::{dependency_status, on_behalf};
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::ids;
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{GetReaderObligationsRequest, ListLoansRequest, Loan, LoanFilter};
use lectern_proto::notification::v1::{ListNoticesRequest, Notice};
use lectern_proto::reader::v1::{
    CreateReaderCategoryRequest, EraseReaderRequest, EraseReaderResponse, ExportReaderDataRequest,
    ExportReaderDataResponse, ListReaderCategoriesResponse, ReaderCategory, UpdateReaderCategoryRequest,
};
use tonic::Status;

use super::STAFF_OR_SERVICES;
use super::readers::Readers;
use crate::audit::{self, Entry, action, outcome};
use crate::categories::{self, CategoryChange};
use crate::db::readers::ReaderKey;
use crate::db::{self, ReaderView};
use crate::error::{Error, ReaderRefusal};
use crate::privacy;

/// Pages fetched from another service for one export, at most.
const MAX_PAGES: usize = 200;
/// The idempotency operation name of erasures.
const ERASE: &str = "reader.EraseReader";

impl Readers {
    pub(super) async fn categories(
        &self,
        caller: &Principal,
    ) -> Result<ListReaderCategoriesResponse, Status> {
        caller.require(STAFF_OR_SERVICES)?;
        let rows =
            self.db.run(|connection| -> Result<_, Error> { Ok(db::categories::list(connection)?) }).await?;
        Ok(ListReaderCategoriesResponse { categories: rows.into_iter().map(categories::to_wire).collect() })
    }

    pub(super) async fn create_category(
        &self,
        caller: &Principal,
        request: CreateReaderCategoryRequest,
    ) -> Result<ReaderCategory, Status> {
        caller.require(Access::DISTRICT_ADMIN)?;
        let given = request.category.ok_or_else(|| FieldError::new("category", "is required"))?;
        let category = categories::new_category(&given)?;
        let row = self.db.write(move |connection| categories::create(connection, category)).await?;
        Ok(categories::to_wire(row))
    }

    pub(super) async fn update_category(
        &self,
        caller: &Principal,
        request: UpdateReaderCategoryRequest,
    ) -> Result<ReaderCategory, Status> {
        caller.require(Access::DISTRICT_ADMIN)?;
        let optional_name = |field, value: &str| -> Result<Option<String>, FieldError> {
            if value.trim().is_empty() {
                Ok(None)
            } else {
                validate::required_text(field, value, 50).map(Some)
            }
        };
        let change = CategoryChange {
            code: categories::code("code", &request.code)?,
            name_zh: optional_name("name_zh", &request.name_zh)?,
            name_en: optional_name("name_en", &request.name_en)?,
            rule: request
                .history_rule
                .as_ref()
                .map(|rule| categories::rule("history_rule", rule))
                .transpose()?,
        };
        let row = self.db.write(move |connection| categories::update(connection, change)).await?;
        Ok(categories::to_wire(row))
    }

    /// The reader, checked to be one the caller may act on.
    async fn reader_in_scope(&self, caller: &Principal, reader_id: &str) -> Result<ReaderView, Status> {
        let today = self.today();
        let id = reader_id.to_owned();
        let reader = self
            .db
            .run(move |connection| crate::readers::view(connection, ReaderKey::Id(&id), today))
            .await?;
        caller.require_school(&reader.reader.school_id)?;
        Ok(reader)
    }

    pub(super) async fn export(
        &self,
        caller: &Principal,
        request: ExportReaderDataRequest,
    ) -> Result<ExportReaderDataResponse, Status> {
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        if caller.kind == SubjectKind::Reader {
            caller.require_self_or_staff(&reader_id)?;
        } else {
            caller.require(Access::STAFF)?;
        }
        self.reader_in_scope(caller, &reader_id).await?;
        let today = self.today();
        let id = reader_id.clone();
        let local = self.db.run(move |connection| privacy::local_data(connection, &id, today)).await?;
        let loans = self.all_loans(caller, &reader_id).await?;
        let notices = self.all_notices(caller, &reader_id).await?;
        let now = self.clock.now();
        let document = privacy::export_json(&local, &loans, &notices, now);
        let actor = caller.subject_id.clone();
        let subject = reader_id.clone();
        self.db
            .write(move |connection| -> Result<(), Error> {
                let entry = Entry::about(action::READER_EXPORT, outcome::SUCCEEDED, &actor, &subject);
                Ok(audit::record(connection, entry, now.naive_utc())?)
            })
            .await?;
        tracing::info!(reader.id = %reader_id, by = %caller.log_label(), loans = loans.len(), notices = notices.len(), "reader data exported");
        Ok(ExportReaderDataResponse { json: document.to_string() })
    }

    async fn all_loans(&self, caller: &Principal, reader_id: &str) -> Result<Vec<Loan>, Status> {
        let mut loans = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let message = ListLoansRequest {
                reader_id: reader_id.to_owned(),
                filter: LoanFilter::All.into(),
                page_size: 500,
                page_token,
            };
            let page = self
                .circulation
                .clone()
                .list_loans(on_behalf(message, caller, self.call_timeout))
                .await
                .map_err(|status| dependency_status("circulation", status))?
                .into_inner();
            loans.extend(page.loans);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(loans)
    }

    async fn all_notices(&self, caller: &Principal, reader_id: &str) -> Result<Vec<Notice>, Status> {
        let mut notices = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let message = ListNoticesRequest {
                reader_id: reader_id.to_owned(),
                language: String::new(),
                page_size: 500,
                page_token,
            };
            let page = self
                .notifications
                .clone()
                .list_notices(on_behalf(message, caller, self.call_timeout))
                .await
                .map_err(|status| dependency_status("notification", status))?
                .into_inner();
            notices.extend(page.notices);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(notices)
    }

    pub(super) async fn erase(
        &self,
        caller: &Principal,
        request: EraseReaderRequest,
    ) -> Result<EraseReaderResponse, Status> {
        caller.require(Access::LIBRARIAN)?;
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let once = Idempotent::new(ERASE, validate::request_id("request_id", &request.request_id)?);
        // A retry of an answered erasure finds no reader (NOT_FOUND) and is
        // answered with the first answer.
        let answer = once.call(&self.db, self.erase_once(caller, &reader_id, &once)).await?;
        if let Some(answer) = answer.fresh() {
            self.relay.wake();
            tracing::info!(reader.id = %answer.reader_id, by = %caller.log_label(), "reader erased");
        }
        Ok(answer.into_inner())
    }

    /// Erases the reader unless they still have loans or fees, in one
    /// transaction that claims `once`.
    async fn erase_once(
        &self,
        caller: &Principal,
        reader_id: &str,
        once: &Idempotent,
    ) -> Result<Answer<EraseReaderResponse>, Status> {
        let reader = self.reader_in_scope(caller, reader_id).await?;
        let obligations = self
            .circulation
            .clone()
            .get_reader_obligations(on_behalf(
                GetReaderObligationsRequest { reader_id: reader_id.to_owned() },
                caller,
                self.call_timeout,
            ))
            .await
            .map_err(|status| Error::Dependency(dependency_status("circulation", status)))?
            .into_inner();
        let refusal = if obligations.open_loans > 0 {
            Some(ReaderRefusal::HasOpenLoans(obligations.open_loans))
        } else if obligations.unpaid_fees > 0 {
            Some(ReaderRefusal::HasUnpaidFees(obligations.unpaid_fees))
        } else {
            None
        };
        let now = self.clock.now().naive_utc();
        let actor = caller.subject_id.clone();
        if let Some(refusal) = refusal {
            let subject = reader_id.to_owned();
            self.db
                .write(move |connection| -> Result<(), Error> {
                    let entry =
                        Entry::about(action::READER_ERASE, outcome::REFUSED_OBLIGATIONS, &actor, &subject);
                    Ok(audit::record(connection, entry, now)?)
                })
                .await?;
            return Err(refusal.into());
        }
        let once = once.clone();
        let answer = self
            .db
            .write(move |connection| {
                once.run(connection, now, |connection| {
                    privacy::erase(connection, &reader, &actor, now)?;
                    Ok(EraseReaderResponse { reader_id: reader.reader.id.clone() })
                })
            })
            .await?;
        Ok(answer)
    }
}
