//! `FamilyService`: WeChat sign-ins, binding readers to a WeChat account,
//! switching between a family's readers. The school's side (listing and
//! removing bindings, printing codes) is in `grpc::bindings`. Sign-ins go
//! through [`Identity`]: the same sessions, lifetimes and lockout as card
//! and PIN. Openids, tickets, codes and guardian contacts are never logged.

use lectern_core::access::Access;
use lectern_core::identity::{Grant, Principal, SubjectKind, principal};
use lectern_core::validate::{self, FieldError, known_enum};
use lectern_core::{ids, time};
use lectern_proto::reader::v1::family_service_server::FamilyService;
use lectern_proto::reader::v1::{
    BindReaderRequest, Binding, BindingCode, BindingRelation, CreateBindingCodeRequest, DeleteBindingRequest,
    DeleteBindingResponse, FamilyReader, FamilySignInResponse, ListBindingsRequest, ListBindingsResponse,
    ListFamilyReadersRequest, ListFamilyReadersResponse, SignInWechatRequest, SwitchReaderRequest,
};
use tonic::{Request, Response, Status};

use super::Identity;
use super::devices::bearer_token;
use crate::audit::{self, Entry, action, outcome};
use crate::db::family::{AccountRow, BindingRow};
use crate::db::readers::STATUS_ACTIVE;
use crate::db::{self};
use crate::error::{Error, ReaderRefusal};
use crate::family::{self, proof, relation};
use lectern_common::db::DbConnection;

/// The `FamilyService` handlers.
#[derive(Debug, Clone)]
pub struct Family {
    /// Sign-in, sessions and lockout, shared with `IdentityService`.
    pub identity: Identity,
}

/// How the card was proved at `BindReader`.
enum Proof {
    Pin(String),
    Code(String),
}

impl Family {
    /// The readers bound to `account_id`, as the switcher shows them.
    fn family_readers(connection: &mut DbConnection, account_id: &str) -> Result<Vec<FamilyReader>, Error> {
        let mut readers = Vec::new();
        for binding in db::family::bindings_of_account(connection, account_id)? {
            let Some(reader) = db::readers::reader_by_id(connection, &binding.reader_id)? else { continue };
            let school_name = db::organisation::find_school(connection, &reader.school_id)?
                .map(|school| school.name)
                .unwrap_or_default();
            let class_name = match &reader.class_id {
                Some(class_id) => db::organisation::find_class(connection, class_id)?.map(|class| class.name),
                None => None,
            };
            readers.push(FamilyReader {
                binding_id: binding.id,
                reader_id: reader.id,
                name: reader.name,
                school_id: reader.school_id,
                school_name,
                class_name: class_name.unwrap_or_default(),
                relation: relation_of(&binding.relation) as i32,
            });
        }
        Ok(readers)
    }

    /// Signs in as the reader of `binding` through account `account_id`.
    async fn sign_in_through(
        &self,
        account_id: &str,
        binding: &BindingRow,
        school_id: &str,
    ) -> Result<FamilySignInResponse, Error> {
        let grant = Grant::reader(&binding.reader_id, school_id).in_family(account_id);
        let login = self.identity.open_session_through(grant, 0, Some(&binding.id)).await?;
        let now = self.identity.clock.now().naive_utc();
        let (binding_id, reader_id, account) =
            (binding.id.clone(), binding.reader_id.clone(), account_id.to_owned());
        let readers = self
            .identity
            .db
            .write(move |connection| -> Result<_, Error> {
                db::family::record_binding_sign_in(connection, &binding_id, now)?;
                let entry = Entry::own(action::LOGIN, outcome::SUCCEEDED, Some(&reader_id))
                    .detail("through a WeChat binding".to_owned());
                audit::record(connection, entry, now)?;
                Self::family_readers(connection, &account)
            })
            .await?;
        tracing::info!(reader.id = %binding.reader_id, binding.id = %binding.id, "reader signed in through WeChat");
        Ok(FamilySignInResponse { login: Some(login), readers, ..Default::default() })
    }

    /// The WeChat account a `BindReader` is for: the ticket's, or (no
    /// ticket) the account of the family token sent as bearer.
    async fn binding_account(&self, request: &Request<BindReaderRequest>) -> Result<AccountRow, Status> {
        let ticket = request.get_ref().binding_ticket.trim().to_owned();
        let now = self.identity.clock.now().naive_utc();
        if !ticket.is_empty() {
            if ticket.len() > family::MAX_TICKET_CHARS {
                return Err(ReaderRefusal::BindingTicketInvalid.into());
            }
            let hash = family::hash_ticket(&ticket);
            let account = self
                .identity
                .db
                .run(move |connection| -> Result<_, Error> {
                    Ok(db::family::account_by_ticket(connection, &hash, now)?)
                })
                .await?;
            return account.ok_or_else(|| ReaderRefusal::BindingTicketInvalid.into());
        }
        let Some(token) = bearer_token(request) else {
            return Err(FieldError::new("binding_ticket", "is required: sign in with WeChat first").into());
        };
        let caller = self.identity.verifier.verify(&token).await.map_err(|error| {
            Status::from(lectern_core::refusal::Refusal::new(
                lectern_core::refusal::Reason::TokenInvalid,
                error.to_string(),
            ))
        })?;
        let account_id = family_account(&caller)?;
        let account = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::family::account_by_id(connection, &account_id)?)
            })
            .await?;
        account.ok_or_else(|| ReaderRefusal::FamilySignInRequired.into())
    }

    /// Proves the card with a printed code: refused while the card is
    /// locked; a wrong code counts towards its lockout like a wrong PIN.
    /// Returns the reader's id, school and the code's id.
    async fn prove_with_code(
        &self,
        card_barcode: String,
        code: String,
    ) -> Result<(String, String, String), Error> {
        let now = self.identity.clock.now().naive_utc();
        let found = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                let Some(reader) = db::readers::reader_by_card(connection, &card_barcode)? else {
                    return Ok(None);
                };
                let pin = db::pins::find(connection, &reader.id)?;
                let open = db::family::open_code(connection, &reader.id, now)?;
                Ok(Some((reader, pin, open)))
            })
            .await?;
        let Some((reader, pin, open)) = found else {
            return Err(ReaderRefusal::BindingCodeInvalid.into());
        };
        if let Some(until) = pin.as_ref().and_then(|pin| pin.locked_until).filter(|until| *until > now) {
            return Err(ReaderRefusal::LockedOut(until).into());
        }
        let hash = family::hash_code(&reader.id, &code);
        match open {
            Some(open) if open.code_hash == hash => {
                if reader.status != STATUS_ACTIVE {
                    return Err(ReaderRefusal::AccountLocked.into());
                }
                Ok((reader.id, reader.school_id, open.id))
            }
            _ => {
                if let Some(until) = self.identity.count_wrong_reader_secret(reader.id, now).await? {
                    return Err(ReaderRefusal::LockedOut(until).into());
                }
                Err(ReaderRefusal::BindingCodeInvalid.into())
            }
        }
    }
}

/// The WeChat account a caller signed in through (FAMILY_SIGN_IN_REQUIRED
/// for any other caller).
fn family_account(caller: &Principal) -> Result<String, Error> {
    match (&caller.kind, &caller.family_account) {
        (SubjectKind::Reader, Some(account_id)) => Ok(account_id.clone()),
        _ => Err(ReaderRefusal::FamilySignInRequired.into()),
    }
}

/// The relation of a stored code.
pub(super) fn relation_of(code: &str) -> BindingRelation {
    if code == relation::GUARDIAN { BindingRelation::Guardian } else { BindingRelation::Self_ }
}

#[tonic::async_trait]
impl FamilyService for Family {
    async fn sign_in_wechat(
        &self,
        request: Request<SignInWechatRequest>,
    ) -> Result<Response<FamilySignInResponse>, Status> {
        principal(&request)?.require(Access::SERVICE)?;
        let request = request.into_inner();
        let app_id = validate::required_text("app_id", &request.app_id, 64)?;
        let openid = validate::required_text("openid", &request.openid, 128)?;
        let unionid = validate::optional_text("unionid", &request.unionid, 128)?;
        let wanted = match request.reader_id.trim() {
            "" => None,
            reader_id => Some(ids::parse_id("reader_id", reader_id)?),
        };
        let now = self.identity.clock.now().naive_utc();
        let ticket = family::new_ticket();
        let ticket_hash = family::hash_ticket(&ticket);
        let ticket_expires_at = now + family::TICKET_LIFETIME;
        let (account_id, chosen) = self
            .identity
            .db
            .write(move |connection| -> Result<_, Error> {
                let account = match db::family::find_account(connection, &app_id, &openid)? {
                    Some(account) => account,
                    None => {
                        let account = AccountRow {
                            id: ids::new_id(),
                            app_id,
                            openid,
                            unionid: None,
                            binding_ticket_hash: None,
                            binding_ticket_expires_at: None,
                            created_at: now,
                            last_sign_in_at: now,
                        };
                        db::family::insert_account(connection, &account)?;
                        account
                    }
                };
                let unionid = Some(unionid.as_str()).filter(|unionid| !unionid.is_empty());
                db::family::record_account_sign_in(connection, &account.id, unionid, now)?;
                let bindings = db::family::bindings_of_account(connection, &account.id)?;
                if bindings.is_empty() {
                    db::family::set_ticket(connection, &account.id, &ticket_hash, ticket_expires_at)?;
                    return Ok((account.id, None));
                }
                let mut active = Vec::new();
                for binding in bindings {
                    if let Some(reader) = db::readers::reader_by_id(connection, &binding.reader_id)?
                        && reader.status == STATUS_ACTIVE
                    {
                        active.push((binding, reader.school_id));
                    }
                }
                let chosen = match &wanted {
                    Some(reader_id) => {
                        active.into_iter().find(|(binding, _)| binding.reader_id == *reader_id)
                    }
                    None => active.into_iter().next(),
                };
                match (chosen, wanted) {
                    (Some(chosen), _) => Ok((account.id, Some(chosen))),
                    (None, Some(reader_id)) => Err(ReaderRefusal::BindingNotFound(reader_id).into()),
                    (None, None) => Err(ReaderRefusal::AccountLocked.into()),
                }
            })
            .await?;
        let Some((binding, school_id)) = chosen else {
            tracing::info!(wechat.account = %account_id, "WeChat sign-in with nothing bound: binding ticket issued");
            return Ok(Response::new(FamilySignInResponse {
                binding_ticket: ticket,
                binding_ticket_expire_time: Some(time::timestamp(ticket_expires_at)),
                ..Default::default()
            }));
        };
        Ok(Response::new(self.sign_in_through(&account_id, &binding, &school_id).await?))
    }

    async fn bind_reader(
        &self,
        request: Request<BindReaderRequest>,
    ) -> Result<Response<FamilySignInResponse>, Status> {
        let card_barcode = validate::required_text("card_barcode", &request.get_ref().card_barcode, 64)?;
        let relation: BindingRelation = known_enum("relation", request.get_ref().relation)?;
        let relation = match relation {
            BindingRelation::Guardian => relation::GUARDIAN,
            BindingRelation::Self_ | BindingRelation::Unspecified => relation::SELF,
        };
        let guardian_contact =
            validate::optional_text("guardian_contact", &request.get_ref().guardian_contact, 200)?;
        if relation == relation::GUARDIAN && guardian_contact.is_empty() {
            return Err(FieldError::new("guardian_contact", "is required for a guardian").into());
        }
        let proof = match (request.get_ref().pin.as_str(), request.get_ref().binding_code.trim()) {
            ("", "") => {
                return Err(FieldError::new(
                    "pin",
                    "is required: the card's PIN or the library's binding code",
                )
                .into());
            }
            (pin, "") => Proof::Pin(pin.to_owned()),
            ("", code) => Proof::Code(
                family::typed_code(code).ok_or_else(|| FieldError::new("binding_code", "is eight digits"))?,
            ),
            _ => {
                return Err(
                    FieldError::new("binding_code", "send the PIN or the binding code, not both").into()
                );
            }
        };
        let account = self.binding_account(&request).await?;
        let (reader_id, school_id, code_id) = match proof {
            Proof::Pin(pin) => {
                let (reader_id, school_id) = self.identity.sign_in_reader(card_barcode, Some(pin)).await?;
                (reader_id, school_id, None)
            }
            Proof::Code(code) => {
                let (reader_id, school_id, code_id) = self.prove_with_code(card_barcode, code).await?;
                (reader_id, school_id, Some(code_id))
            }
        };
        let now = self.identity.clock.now().naive_utc();
        let by_ticket = !request.get_ref().binding_ticket.trim().is_empty();
        let account_id = account.id.clone();
        let binding = self
            .identity
            .db
            .write(move |connection| -> Result<_, Error> {
                if by_ticket {
                    // The ticket works once: spent here, in the binding's transaction.
                    match &account.binding_ticket_hash {
                        Some(hash) if db::family::account_by_ticket(connection, hash, now)?.is_some() => {
                            db::family::clear_ticket(connection, &account.id)?;
                        }
                        _ => return Err(ReaderRefusal::BindingTicketInvalid.into()),
                    }
                }
                let bindings = db::family::bindings_of_account(connection, &account.id)?;
                if let Some(existing) = bindings.iter().find(|binding| binding.reader_id == reader_id) {
                    return Ok(existing.clone());
                }
                if bindings.len() as i64 >= family::MAX_READERS_PER_ACCOUNT {
                    return Err(ReaderRefusal::BindingLimitReached {
                        what: "this WeChat account has as many readers bound as allowed",
                        limit: family::MAX_READERS_PER_ACCOUNT,
                    }
                    .into());
                }
                if db::family::binding_count_of_reader(connection, &reader_id)? >= family::MAX_ACCOUNTS_PER_READER {
                    return Err(ReaderRefusal::BindingLimitReached {
                        what: "this reader has as many WeChat accounts bound as allowed",
                        limit: family::MAX_ACCOUNTS_PER_READER,
                    }
                    .into());
                }
                let guardian_contact_id = if relation == relation::GUARDIAN {
                    let contacts = db::profile::contacts(connection, &reader_id)?;
                    let matched = family::matching_guardian_contact(&guardian_contact, &contacts)
                        .ok_or(ReaderRefusal::GuardianContactMismatch)?;
                    Some(matched.id.clone())
                } else {
                    None
                };
                let proved_by = match &code_id {
                    Some(code_id) => {
                        if !db::family::use_code(connection, code_id, now)? {
                            return Err(ReaderRefusal::BindingCodeInvalid.into());
                        }
                        proof::CODE
                    }
                    None => proof::PIN,
                };
                let binding = BindingRow {
                    id: ids::new_id(),
                    account_id: account.id.clone(),
                    reader_id: reader_id.clone(),
                    relation: relation.to_owned(),
                    proved_by: proved_by.to_owned(),
                    guardian_contact_id,
                    created_at: now,
                    last_sign_in_at: None,
                };
                db::family::insert_binding(connection, &binding)?;
                let entry = Entry::own(action::BINDING_CREATE, outcome::SUCCEEDED, Some(&reader_id))
                    .detail(format!("binding {}: {relation}, proved by {proved_by}", binding.id));
                audit::record(connection, entry, now)?;
                tracing::info!(reader.id = %reader_id, binding.id = %binding.id, binding.relation = relation, "reader bound to a WeChat account");
                Ok(binding)
            })
            .await?;
        Ok(Response::new(self.sign_in_through(&account_id, &binding, &school_id).await?))
    }

    async fn switch_reader(
        &self,
        request: Request<SwitchReaderRequest>,
    ) -> Result<Response<FamilySignInResponse>, Status> {
        let caller = principal(&request)?;
        let account_id = family_account(&caller)?;
        let reader_id = ids::parse_id("reader_id", request.get_ref().reader_id.trim())?;
        let now = self.identity.clock.now().naive_utc();
        let (account, wanted) = (account_id.clone(), reader_id.clone());
        let (binding, school_id) = self
            .identity
            .db
            .run(move |connection| -> Result<_, Error> {
                let binding = db::family::bindings_of_account(connection, &account)?
                    .into_iter()
                    .find(|binding| binding.reader_id == wanted)
                    .ok_or_else(|| ReaderRefusal::BindingNotFound(wanted.clone()))?;
                let reader = db::readers::reader_by_id(connection, &wanted)?
                    .filter(|reader| reader.status == STATUS_ACTIVE)
                    .ok_or(ReaderRefusal::AccountLocked)?;
                Ok((binding, reader.school_id))
            })
            .await?;
        if let Some(session_id) = caller.session_id.clone() {
            self.identity
                .db
                .write(move |connection| -> Result<_, Error> {
                    Ok(db::sessions::revoke(connection, &session_id, "switched_reader", now)?)
                })
                .await?;
        }
        Ok(Response::new(self.sign_in_through(&account_id, &binding, &school_id).await?))
    }

    async fn list_family_readers(
        &self,
        request: Request<ListFamilyReadersRequest>,
    ) -> Result<Response<ListFamilyReadersResponse>, Status> {
        let caller = principal(&request)?;
        let account_id = family_account(&caller)?;
        let readers =
            self.identity.db.run(move |connection| Self::family_readers(connection, &account_id)).await?;
        Ok(Response::new(ListFamilyReadersResponse { readers }))
    }

    async fn list_bindings(
        &self,
        request: Request<ListBindingsRequest>,
    ) -> Result<Response<ListBindingsResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.bindings(&caller, request.into_inner()).await?))
    }

    async fn delete_binding(
        &self,
        request: Request<DeleteBindingRequest>,
    ) -> Result<Response<DeleteBindingResponse>, Status> {
        let caller = principal(&request)?;
        self.remove_binding(&caller, request.into_inner()).await?;
        Ok(Response::new(DeleteBindingResponse {}))
    }

    async fn create_binding_code(
        &self,
        request: Request<CreateBindingCodeRequest>,
    ) -> Result<Response<BindingCode>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.new_binding_code(&caller, request.into_inner()).await?))
    }
}

/// A binding as the school (or the bound reader) sees it.
pub(super) fn binding_proto(
    binding: BindingRow,
    school_id: String,
    guardian_contact: Option<String>,
) -> Binding {
    use lectern_proto::reader::v1::BindingProof;
    Binding {
        account_label: family::account_label(&binding.account_id),
        id: binding.id,
        reader_id: binding.reader_id,
        school_id,
        relation: relation_of(&binding.relation) as i32,
        proved_by: if binding.proved_by == proof::CODE { BindingProof::Code } else { BindingProof::Pin }
            as i32,
        guardian_contact: guardian_contact.unwrap_or_default(),
        create_time: Some(time::timestamp(binding.created_at)),
        last_sign_in_time: binding.last_sign_in_at.map(time::timestamp),
    }
}
