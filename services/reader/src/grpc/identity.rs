//! `IdentityService`: sign-in, password changes, staff accounts and the
//! token verification keys. Sessions (refresh, sign-out, key rotation) are
//! in `grpc::sessions`, kiosk and SIP2 devices in `grpc::devices`.

use std::sync::Arc;

use lectern_common::db::{Db, unique_violation_on};
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Grant, TokenVerifier, principal};
use lectern_core::validate::{self, FieldError, known_enum, page_size};
use lectern_core::{ids, paging};
use lectern_proto::reader::v1::identity_service_server::IdentityService;
use lectern_proto::reader::v1::{
    ChangePasswordRequest, ChangePasswordResponse, CreateDeviceRequest, CreateDeviceResponse,
    CreateStaffAccountRequest, Device, DisableDeviceRequest, GetDeviceRequest, ListDevicesRequest,
    ListDevicesResponse, ListRevokedSessionsRequest, ListRevokedSessionsResponse, ListStaffAccountsRequest,
    ListStaffAccountsResponse, ListVerificationKeysRequest, ListVerificationKeysResponse, LoginRequest,
    LoginResponse, LogoutRequest, LogoutResponse, RefreshSessionRequest, RotateSigningKeyRequest,
    SetStaffAccountDisabledRequest, SetStaffSchoolsRequest, StaffAccount, StaffRole,
    UpdateDeviceSettingsRequest, VerificationKey,
};
use tonic::{Request, Response, Status};

use super::devices::bearer_token;
use super::page;
use crate::accounts::{self, Credentials};
use crate::audit::{self, Entry, action, outcome};
use crate::db::readers::STATUS_ACTIVE;
use crate::db::{self, DeviceRow, StaffRow};
use crate::error::{Error, ReaderRefusal};
use crate::tokens::Issuer;
use crate::{convert, passwords, sessions};

/// The `IdentityService` handlers.
#[derive(Debug, Clone)]
pub struct Identity {
    pub db: Db,
    pub clock: SharedClock,
    pub issuer: Issuer,
    /// The district's service key; `None` refuses service sign-ins.
    pub service_key: Option<Arc<str>>,
    /// When wrong passwords lock an account.
    pub lockout: accounts::Lockout,
    /// How long sessions last.
    pub session_lifetimes: sessions::Lifetimes,
    /// Derives each refresh token's successor.
    pub successor_key: sessions::SuccessorKey,
    /// This server's token verifier, for the device token a kiosk sends
    /// along with a reader's sign-in (`Login` itself needs no token).
    pub verifier: TokenVerifier,
}

impl Identity {
    /// A staff sign-in by username and password.
    async fn sign_in_staff(&self, username: String, password: String) -> Result<StaffRow, Error> {
        let account = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::staff::find_by_username(connection, &username)?)
            })
            .await?;
        let holder = Holder {
            kind: HolderKind::Staff,
            id: account.as_ref().map(|account| account.id.clone()),
            secret_hash: account.as_ref().map(|account| account.password_hash.clone()),
            locked_until: account.as_ref().and_then(|account| account.locked_until),
            disabled: account.as_ref().is_some_and(|account| account.disabled),
        };
        self.check_secret(holder, Some(password)).await?;
        account.ok_or(ReaderRefusal::CredentialsInvalid(accounts::WRONG_STAFF_CREDENTIALS).into())
    }

    /// A reader sign-in by card and PIN (`None`: by card alone, at a
    /// card-only device); returns the reader's id and school. Binding a
    /// WeChat account with the PIN goes through here too, so that wrong
    /// PINs count the same wherever they are typed.
    pub(super) async fn sign_in_reader(
        &self,
        card_barcode: String,
        pin: Option<String>,
    ) -> Result<(String, String), Error> {
        let found = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let Some(reader) = db::readers::reader_by_card(connection, &card_barcode)? else {
                    return Ok(None);
                };
                let pin = db::pins::find(connection, &reader.id)?;
                Ok(Some((reader, pin)))
            })
            .await?;
        let holder = Holder {
            kind: HolderKind::Reader,
            id: found.as_ref().map(|(reader, _)| reader.id.clone()),
            secret_hash: found.as_ref().and_then(|(_, pin)| pin.as_ref().map(|pin| pin.pin_hash.clone())),
            locked_until: found.as_ref().and_then(|(_, pin)| pin.as_ref().and_then(|pin| pin.locked_until)),
            disabled: found.as_ref().is_some_and(|(reader, _)| reader.status != STATUS_ACTIVE),
        };
        self.check_secret(holder, pin).await?;
        found
            .map(|(reader, _)| (reader.id, reader.school_id))
            .ok_or(ReaderRefusal::CredentialsInvalid(accounts::WRONG_READER_CREDENTIALS).into())
    }

    /// A device sign-in by id and key.
    async fn sign_in_device(&self, device_id: String, key: String) -> Result<DeviceRow, Error> {
        let device = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::devices::find(connection, &device_id)?) })
            .await?;
        let holder = Holder {
            kind: HolderKind::Device,
            id: device.as_ref().map(|device| device.id.clone()),
            secret_hash: device.as_ref().map(|device| device.key_hash.clone()),
            locked_until: device.as_ref().and_then(|device| device.locked_until),
            disabled: device.as_ref().is_some_and(|device| device.disabled),
        };
        self.check_secret(holder, Some(key)).await?;
        device.ok_or(ReaderRefusal::CredentialsInvalid(accounts::WRONG_DEVICE_CREDENTIALS).into())
    }

    /// The sign-in rules shared by staff, readers and devices: refused while locked;
    /// wrong secrets count towards a lockout (one counter, whatever the
    /// channel); a disabled holder is refused only to someone who knows the
    /// secret; every attempt is audited, without any attempted name. No
    /// secret (a reader at a card-only device) matches any holder that
    /// exists, and is still refused while locked or disabled.
    async fn check_secret(&self, holder: Holder, secret: Option<String>) -> Result<(), Error> {
        let now = self.clock.now().naive_utc();
        let wrong = match holder.kind {
            HolderKind::Staff => accounts::WRONG_STAFF_CREDENTIALS,
            HolderKind::Reader => accounts::WRONG_READER_CREDENTIALS,
            HolderKind::Device => accounts::WRONG_DEVICE_CREDENTIALS,
        };
        if let Some(until) = holder.locked_until.filter(|until| *until > now) {
            self.audit(Entry::own(action::LOGIN, outcome::REFUSED_LOCKED, holder.id.as_deref()), now).await?;
            return Err(ReaderRefusal::LockedOut(until).into());
        }
        let hash = holder.secret_hash;
        let matches = match secret {
            Some(secret) => {
                passwords::off_runtime(move || {
                    Ok(match hash {
                        Some(hash) => passwords::verify(&secret, &hash),
                        None => {
                            passwords::verify_nothing(&secret);
                            false
                        }
                    })
                })
                .await?
            }
            None => true,
        };
        let Some(id) = holder.id else {
            self.audit(Entry::own(action::LOGIN, outcome::FAILED, None), now).await?;
            return Err(ReaderRefusal::CredentialsInvalid(wrong).into());
        };
        if !matches {
            if let Some(until) = self.count_wrong_secret(holder.kind, id, now).await? {
                return Err(ReaderRefusal::LockedOut(until).into());
            }
            return Err(ReaderRefusal::CredentialsInvalid(wrong).into());
        }
        if holder.disabled {
            self.audit(Entry::own(action::LOGIN, outcome::REFUSED_DISABLED, Some(&id)), now).await?;
            return Err(ReaderRefusal::AccountLocked.into());
        }
        let kind = holder.kind;
        self.db
            .write(move |connection| -> Result<(), Error> {
                match kind {
                    HolderKind::Staff => db::staff::record_successful_login(connection, &id)?,
                    HolderKind::Reader => db::pins::record_successful_login(connection, &id)?,
                    HolderKind::Device => db::devices::record_successful_login(connection, &id)?,
                }
                audit::record(connection, Entry::own(action::LOGIN, outcome::SUCCEEDED, Some(&id)), now)?;
                Ok(())
            })
            .await
    }

    /// Counts a wrong PIN (or printed binding code) typed for reader
    /// `reader_id` towards the card's lockout, like a wrong PIN at sign-in;
    /// returns when sign-ins are locked until, if this locked them.
    pub(super) async fn count_wrong_reader_secret(
        &self,
        reader_id: String,
        now: chrono::NaiveDateTime,
    ) -> Result<Option<chrono::NaiveDateTime>, Error> {
        self.count_wrong_secret(HolderKind::Reader, reader_id, now).await
    }

    /// Audits a wrong secret and counts it towards the holder's lockout;
    /// returns the end of the lockout if this one started it.
    async fn count_wrong_secret(
        &self,
        kind: HolderKind,
        id: String,
        now: chrono::NaiveDateTime,
    ) -> Result<Option<chrono::NaiveDateTime>, Error> {
        let lockout = self.lockout;
        let until = lockout.until(now);
        let audited_id = id.clone();
        let locked = self
            .db
            .write(move |connection| -> Result<bool, Error> {
                audit::record(connection, Entry::own(action::LOGIN, outcome::FAILED, Some(&id)), now)?;
                let locked = match kind {
                    HolderKind::Staff => {
                        db::staff::record_failed_login(connection, &id, lockout.threshold(), until)?
                    }
                    HolderKind::Reader => {
                        db::pins::record_failed_login(connection, &id, lockout.threshold(), until)?
                    }
                    HolderKind::Device => {
                        db::devices::record_failed_login(connection, &id, lockout.threshold(), until)?
                    }
                };
                if locked {
                    let entry = Entry::own(action::LOCKOUT, outcome::LOCKED, Some(&id))
                        .detail(format!("locked until {}Z", until.format("%Y-%m-%dT%H:%M:%S")));
                    audit::record(connection, entry, now)?;
                }
                Ok(locked)
            })
            .await?;
        if locked {
            tracing::warn!(subject.id = %audited_id, "sign-ins locked after repeated wrong secrets");
            return Ok(Some(until));
        }
        Ok(None)
    }

    /// Writes one audit event in a transaction of its own.
    pub(super) async fn audit(&self, entry: Entry<'_>, now: chrono::NaiveDateTime) -> Result<(), Error> {
        let action = entry.action;
        let outcome = entry.outcome;
        let actor_id = entry.actor_id.map(str::to_owned);
        let subject_id = entry.subject_id.map(str::to_owned);
        let detail = entry.detail;
        self.db
            .write(move |connection| -> Result<(), Error> {
                let entry = Entry {
                    action,
                    outcome,
                    actor_id: actor_id.as_deref(),
                    subject_id: subject_id.as_deref(),
                    detail,
                };
                audit::record(connection, entry, now)?;
                Ok(())
            })
            .await
    }
}

/// Who is signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolderKind {
    Staff,
    Reader,
    Device,
}

/// What a sign-in is checked against; `id` and `secret_hash` are `None`
/// for an unknown username or card (and the hash for a reader without PIN).
struct Holder {
    kind: HolderKind,
    id: Option<String>,
    secret_hash: Option<String>,
    locked_until: Option<chrono::NaiveDateTime>,
    disabled: bool,
}

/// Refuses a new password that breaks the rules.
fn acceptable_password(password: &str) -> Result<(), Error> {
    match passwords::weakness(password) {
        Some(problem) => Err(ReaderRefusal::PasswordTooWeak(problem).into()),
        None => Ok(()),
    }
}

#[tonic::async_trait]
impl IdentityService for Identity {
    async fn login(&self, request: Request<LoginRequest>) -> Result<Response<LoginResponse>, Status> {
        let bearer = bearer_token(&request);
        let response = match Credentials::from_request(request.into_inner())? {
            Credentials::Staff { username, password } => {
                let account = self.sign_in_staff(username, password).await?;
                tracing::info!(staff.id = %account.id, "staff signed in");
                let (grant, role) = self.staff_grant(&account).await?;
                self.open_session(grant, role).await?
            }
            Credentials::Reader { card_barcode, pin } => {
                let device = self.device_of_bearer(bearer).await?;
                // Young children's kiosks lend on the card alone; a PIN
                // typed there anyway is still checked.
                let pin = match (pin.is_empty(), &device) {
                    (false, _) => Some(pin),
                    (true, Some(device)) if device.card_only => None,
                    (true, _) => return Err(FieldError::new("reader.pin", "is required").into()),
                };
                let (reader_id, school_id) = self.sign_in_reader(card_barcode, pin).await?;
                let grant = Grant::reader(&reader_id, &school_id);
                let grant = match device {
                    None => grant,
                    Some(device) if device.school_id == school_id => grant.at_device(&device.id),
                    Some(device) => {
                        let now = self.clock.now().naive_utc();
                        let entry = Entry::about(
                            action::LOGIN,
                            outcome::REFUSED_OTHER_SCHOOL,
                            &device.id,
                            &reader_id,
                        );
                        self.audit(entry, now).await?;
                        tracing::info!(reader.id = %reader_id, device.id = %device.id, "reader of another school refused at a device");
                        return Err(ReaderRefusal::DeviceNotAllowed(
                            "readers of another school cannot sign in at this device",
                        )
                        .into());
                    }
                };
                tracing::info!(reader.id = %reader_id, device.id = ?grant.device_id, "reader signed in");
                self.open_session(grant, 0).await?
            }
            Credentials::Device { device_id, key } => {
                let device = self.sign_in_device(device_id, key).await?;
                tracing::info!(device.id = %device.id, "device signed in");
                self.open_session(Grant::device(&device.id, &device.school_id), 0).await?
            }
            Credentials::Service { service, key } => {
                accounts::authenticate_service(self.service_key.as_deref(), &service, &key)?;
                tracing::debug!(service = %service, "service signed in");
                self.issuer.service(&service)?
            }
        };
        Ok(Response::new(response))
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<ChangePasswordResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        if request.current_password.is_empty() {
            return Err(FieldError::new("current_password", "is required").into());
        }
        if request.current_password.chars().count() > passwords::MAX_CHARS {
            // No stored password is that long; spare the hashing.
            return Err(ReaderRefusal::CredentialsInvalid("the current password is wrong").into());
        }
        if request.new_password.is_empty() {
            return Err(FieldError::new("new_password", "is required").into());
        }
        acceptable_password(&request.new_password)?;
        if request.new_password == request.current_password {
            return Err(ReaderRefusal::PasswordTooWeak(
                "the new password must differ from the current one".into(),
            )
            .into());
        }
        let account_id = caller.subject_id;
        let account = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::staff::find_by_id(connection, &account_id)?)
            })
            .await?;
        let (account, new_hash) = passwords::off_runtime(move || {
            accounts::check_password_change(account, &request.current_password, &request.new_password)
        })
        .await?;
        let now = self.clock.now().naive_utc();
        // A new password signs the account out everywhere; the answer
        // carries a new session.
        let account = self
            .db
            .write(move |connection| -> Result<_, Error> {
                let account = accounts::apply_password_change(connection, account, new_hash, now)?;
                db::sessions::revoke_subject(
                    connection,
                    &account.id,
                    sessions::reason::PASSWORD_CHANGED,
                    now,
                )?;
                Ok(account)
            })
            .await?;
        let (grant, role) = self.staff_grant(&account).await?;
        Ok(Response::new(ChangePasswordResponse { login: Some(self.open_session(grant, role).await?) }))
    }

    async fn create_staff_account(
        &self,
        request: Request<CreateStaffAccountRequest>,
    ) -> Result<Response<StaffAccount>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let username = accounts::username("username", &request.username)?;
        let display_name = validate::required_text("display_name", &request.display_name, 100)?;
        let role = accounts::role_of(known_enum::<StaffRole>("role", request.role)?)
            .ok_or_else(|| FieldError::new("role", "is required"))?;
        let school_ids = accounts::school_ids("school_ids", role, &request.school_ids)?;
        if request.initial_password.is_empty() {
            return Err(FieldError::new("initial_password", "is required").into());
        }
        acceptable_password(&request.initial_password)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        // Hash before the write transaction, so the write lock is not held
        // for the tens of milliseconds hashing takes.
        let password = request.initial_password;
        let password_hash =
            passwords::off_runtime(move || passwords::hash(&password).map_err(Error::Internal)).await?;
        let now = self.clock.now().naive_utc();
        let account = StaffRow {
            id: ids::new_id(),
            username,
            display_name,
            role: role.as_str().to_owned(),
            password_hash,
            password_change_required: true,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            password_changed_at: None,
        };
        let answer = Idempotent::new("reader.CreateStaffAccount", request_id)
            .write(&self.db, now, move |connection| {
                if db::staff::username_exists(connection, &account.username)? {
                    return Err(ReaderRefusal::UsernameTaken(account.username).into());
                }
                match db::staff::insert_account(connection, &account) {
                    Ok(()) => {}
                    Err(error) if unique_violation_on(&error, "username") => {
                        return Err(ReaderRefusal::UsernameTaken(account.username).into());
                    }
                    Err(error) => return Err(error.into()),
                }
                accounts::set_schools(connection, &account.id, &school_ids)?;
                tracing::info!(staff.id = %account.id, staff.role = %account.role, "staff account created");
                Ok(convert::staff_account(account, school_ids))
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn list_staff_accounts(
        &self,
        request: Request<ListStaffAccountsRequest>,
    ) -> Result<Response<ListStaffAccountsResponse>, Status> {
        principal(&request)?.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let (rows, schools) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = db::staff::list_accounts(connection, offset, limit + 1)?;
                let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
                Ok((rows, db::staff::schools_of_accounts(connection, &ids)?))
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        let accounts = rows
            .into_iter()
            .map(|row| {
                let school_ids = schools
                    .iter()
                    .filter(|(staff_id, _)| *staff_id == row.id)
                    .map(|(_, school_id)| school_id.clone())
                    .collect();
                convert::staff_account(row, school_ids)
            })
            .collect();
        Ok(Response::new(ListStaffAccountsResponse { accounts, next_page_token }))
    }

    async fn set_staff_schools(
        &self,
        request: Request<SetStaffSchoolsRequest>,
    ) -> Result<Response<StaffAccount>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let staff_id = ids::parse_id("staff_id", &request.staff_id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let now = self.clock.now().naive_utc();
        let answer = Idempotent::new("reader.SetStaffSchools", request_id)
            .write(&self.db, now, move |connection| {
                let account = db::staff::find_by_id(connection, &staff_id)?
                    .ok_or_else(|| ReaderRefusal::StaffNotFound(staff_id.clone()))?;
                let role = accounts::stored_role(&account)?;
                let school_ids = accounts::school_ids("school_ids", role, &request.school_ids)?;
                accounts::set_schools(connection, &account.id, &school_ids)?;
                let entry = Entry::own(action::STAFF_SCHOOLS_CHANGED, outcome::SUCCEEDED, Some(&account.id))
                    .by(&caller.subject_id)
                    .detail(format!("{} school(s)", school_ids.len()));
                audit::record(connection, entry, now)?;
                tracing::info!(staff.id = %account.id, schools = school_ids.len(), "staff schools changed");
                Ok(convert::staff_account(account, school_ids))
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn set_staff_account_disabled(
        &self,
        request: Request<SetStaffAccountDisabledRequest>,
    ) -> Result<Response<StaffAccount>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let staff_id = ids::parse_id("staff_id", &request.staff_id)?;
        if staff_id == caller.subject_id {
            // The last district admin must not lock the district out.
            return Err(FieldError::new("staff_id", "is your own account: ask another district admin").into());
        }
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let disabled = request.disabled;
        let now = self.clock.now().naive_utc();
        let operation = "reader.SetStaffAccountDisabled";
        let answer = Idempotent::new(operation, request_id)
            .write(&self.db, now, move |connection| {
                if !db::staff::set_disabled(connection, &staff_id, disabled)? {
                    return Err(ReaderRefusal::StaffNotFound(staff_id.clone()).into());
                }
                let account = db::staff::find_by_id(connection, &staff_id)?
                    .ok_or_else(|| ReaderRefusal::StaffNotFound(staff_id.clone()))?;
                let what = if disabled {
                    // Its tokens stop working everywhere, not only at the next refresh.
                    db::sessions::revoke_subject(connection, &account.id, "account disabled", now)?;
                    action::STAFF_DISABLED
                } else {
                    action::STAFF_ENABLED
                };
                let entry = Entry::about(what, outcome::SUCCEEDED, &caller.subject_id, &account.id);
                audit::record(connection, entry, now)?;
                tracing::info!(staff.id = %account.id, disabled, "staff account disabled or enabled");
                let school_ids = db::staff::schools_of(connection, &account.id)?;
                Ok(convert::staff_account(account, school_ids))
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn list_verification_keys(
        &self,
        _request: Request<ListVerificationKeysRequest>,
    ) -> Result<Response<ListVerificationKeysResponse>, Status> {
        let rows = self
            .db
            .run(|connection| -> Result<_, Error> { Ok(db::signing_keys::active_keys(connection)?) })
            .await?;
        Ok(Response::new(ListVerificationKeysResponse {
            keys: rows.into_iter().map(convert::verification_key).collect(),
        }))
    }

    async fn refresh_session(
        &self,
        request: Request<RefreshSessionRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        Ok(Response::new(self.refresh(request.into_inner()).await?))
    }

    async fn logout(&self, request: Request<LogoutRequest>) -> Result<Response<LogoutResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.end_session(caller).await?))
    }

    async fn list_revoked_sessions(
        &self,
        request: Request<ListRevokedSessionsRequest>,
    ) -> Result<Response<ListRevokedSessionsResponse>, Status> {
        Ok(Response::new(self.revoked_sessions(request.into_inner()).await?))
    }

    async fn rotate_signing_key(
        &self,
        request: Request<RotateSigningKeyRequest>,
    ) -> Result<Response<VerificationKey>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        Ok(Response::new(self.rotate_key(&caller).await?))
    }

    async fn create_device(
        &self,
        request: Request<CreateDeviceRequest>,
    ) -> Result<Response<CreateDeviceResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.register_device(&caller, request.into_inner()).await?))
    }

    async fn list_devices(
        &self,
        request: Request<ListDevicesRequest>,
    ) -> Result<Response<ListDevicesResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.devices(&caller, request.into_inner()).await?))
    }

    async fn disable_device(
        &self,
        request: Request<DisableDeviceRequest>,
    ) -> Result<Response<Device>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.turn_off_device(&caller, request.into_inner()).await?))
    }

    async fn get_device(&self, request: Request<GetDeviceRequest>) -> Result<Response<Device>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.device(&caller, request.into_inner()).await?))
    }

    async fn update_device_settings(
        &self,
        request: Request<UpdateDeviceSettingsRequest>,
    ) -> Result<Response<Device>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.change_device_settings(&caller, request.into_inner()).await?))
    }
}
