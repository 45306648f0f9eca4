//! `FamilyService`, the school's side: listing bindings (staff of the
//! school, district admins, a reader their own), removing one (which ends
//! the sessions signed in through it) and printing a one-time binding code
//! for a guardian. Guardian contacts reach staff only; codes are shown once
//! and stored as hashes.

use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{FieldError, page_size};
use lectern_core::{ids, paging, time};
use lectern_proto::reader::v1::{
    BindingCode, CreateBindingCodeRequest, DeleteBindingRequest, ListBindingsRequest, ListBindingsResponse,
};

use super::family::{Family, binding_proto};
use super::{page, scope};
use crate::audit::{self, Entry, action, outcome};
use crate::db::family::{BindingFilter, CodeRow};
use crate::db::readers::STATUS_ACTIVE;
use crate::db::{self};
use crate::error::{Error, ReaderRefusal};
use crate::family;

impl Family {
    /// `ListBindings`.
    pub(super) async fn bindings(
        &self,
        caller: &Principal,
        request: ListBindingsRequest,
    ) -> Result<ListBindingsResponse, tonic::Status> {
        caller.require(Access::STAFF.or_readers())?;
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let reader_id = request.reader_id.trim();
        let school_id = request.school_id.trim();
        let filter = match (caller.kind, reader_id, school_id) {
            (SubjectKind::Reader, "", "") => BindingFilter::Reader(caller.subject_id.clone()),
            (SubjectKind::Reader, reader_id, "") if reader_id == caller.subject_id => {
                BindingFilter::Reader(reader_id.to_owned())
            }
            (SubjectKind::Reader, _, _) => {
                return Err(
                    Refusal::new(Reason::RoleNotAllowed, "readers may only see their own bindings").into()
                );
            }
            (_, "", "") => match caller.school_filter() {
                None => BindingFilter::Everywhere,
                Some(schools) => BindingFilter::Schools(schools.to_vec()),
            },
            (_, "", school_id) => {
                let school_id = ids::parse_id("school_id", school_id)?;
                caller.require_school(&school_id)?;
                BindingFilter::Schools(vec![school_id])
            }
            (_, reader_id, "") => {
                let reader_id = ids::parse_id("reader_id", reader_id)?;
                let school = scope::school_of_reader(&self.identity.db, &reader_id).await?;
                scope::require_reader_school(
                    &self.identity.db,
                    &self.identity.clock,
                    caller,
                    &school,
                    &reader_id,
                    action::READER_READ,
                )
                .await?;
                BindingFilter::Reader(reader_id)
            }
            _ => return Err(FieldError::new("school_id", "send reader_id or school_id, not both").into()),
        };
        let staff = caller.kind != SubjectKind::Reader;
        let (rows, contacts) = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = db::family::list_bindings(connection, &filter, offset, limit + 1)?;
                let mut contacts = Vec::new();
                if staff {
                    let reader_ids: Vec<String> =
                        rows.iter().map(|(binding, _)| binding.reader_id.clone()).collect();
                    contacts = db::profile::contacts_of_readers(connection, &reader_ids)?;
                }
                Ok((rows, contacts))
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        let bindings = rows
            .into_iter()
            .map(|(binding, school_id)| {
                let contact = binding.guardian_contact_id.as_ref().and_then(|contact_id| {
                    contacts
                        .iter()
                        .find(|contact| contact.id == *contact_id)
                        .map(|contact| contact.value.clone())
                });
                binding_proto(binding, school_id, contact)
            })
            .collect();
        Ok(ListBindingsResponse { bindings, next_page_token })
    }

    /// `DeleteBinding`: staff of the reader's school, district admins, the
    /// bound reader, or a sign-in through the same WeChat account. Anyone
    /// else is told there is no such binding.
    pub(super) async fn remove_binding(
        &self,
        caller: &Principal,
        request: DeleteBindingRequest,
    ) -> Result<(), tonic::Status> {
        caller.require(Access::STAFF.or_readers())?;
        let binding_id = ids::parse_id("binding_id", request.binding_id.trim())?;
        let wanted = binding_id.clone();
        let found = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                let Some(binding) = db::family::find_binding(connection, &wanted)? else { return Ok(None) };
                let school = db::readers::school_of(connection, &binding.reader_id)?;
                Ok(school.map(|school| (binding, school)))
            })
            .await?;
        let Some((binding, school_id)) = found else {
            return Err(ReaderRefusal::BindingNotFound(binding_id).into());
        };
        match caller.kind {
            SubjectKind::Reader if caller.subject_id == binding.reader_id => {}
            // A parent signed in through the WeChat account removes any of
            // its bindings, a sibling's too.
            SubjectKind::Reader if caller.family_account.as_deref() == Some(binding.account_id.as_str()) => {}
            SubjectKind::Reader => return Err(ReaderRefusal::BindingNotFound(binding_id).into()),
            _ => {
                scope::require_reader_school(
                    &self.identity.db,
                    &self.identity.clock,
                    caller,
                    &school_id,
                    &binding.reader_id,
                    action::BINDING_DELETE,
                )
                .await?;
            }
        }
        let now = self.identity.clock.now().naive_utc();
        let actor_id = caller.subject_id.clone();
        self.identity
            .db
            .write(move |connection| -> Result<_, Error> {
                if !db::family::delete_binding(connection, &binding.id, family::BINDING_REMOVED, now)? {
                    return Err(ReaderRefusal::BindingNotFound(binding.id.clone()).into());
                }
                let entry =
                    Entry::about(action::BINDING_DELETE, outcome::SUCCEEDED, &actor_id, &binding.reader_id)
                        .detail(format!("binding {}", binding.id));
                audit::record(connection, entry, now)?;
                Ok(())
            })
            .await?;
        tracing::info!(binding.id = %binding_id, actor = %caller.log_label(), "binding removed");
        Ok(())
    }

    /// `CreateBindingCode`: staff of the reader's school; replaces an
    /// unused code.
    pub(super) async fn new_binding_code(
        &self,
        caller: &Principal,
        request: CreateBindingCodeRequest,
    ) -> Result<BindingCode, tonic::Status> {
        caller.require(Access::STAFF)?;
        let reader_id = ids::parse_id("reader_id", request.reader_id.trim())?;
        let wanted = reader_id.clone();
        let reader = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                db::readers::reader_by_id(connection, &wanted)?
                    .ok_or(ReaderRefusal::ReaderNotFound(wanted).into())
            })
            .await?;
        scope::require_reader_school(
            &self.identity.db,
            &self.identity.clock,
            caller,
            &reader.school_id,
            &reader.id,
            action::BINDING_CODE_CREATE,
        )
        .await?;
        if reader.status != STATUS_ACTIVE {
            return Err(ReaderRefusal::AccountLocked.into());
        }
        let now = self.identity.clock.now().naive_utc();
        let code = family::new_code();
        let row = CodeRow {
            id: ids::new_id(),
            reader_id: reader.id.clone(),
            code_hash: family::hash_code(&reader.id, &code),
            created_by: caller.subject_id.clone(),
            created_at: now,
            expires_at: now + family::CODE_LIFETIME,
            used_at: None,
        };
        let expires_at = row.expires_at;
        let actor_id = caller.subject_id.clone();
        self.identity
            .db
            .write(move |connection| -> Result<_, Error> {
                db::family::replace_code(connection, &row)?;
                let entry =
                    Entry::about(action::BINDING_CODE_CREATE, outcome::SUCCEEDED, &actor_id, &row.reader_id);
                audit::record(connection, entry, now)?;
                Ok(())
            })
            .await?;
        tracing::info!(reader.id = %reader.id, "binding code printed");
        Ok(BindingCode { reader_id: reader.id, code, expire_time: Some(time::timestamp(expires_at)) })
    }
}
