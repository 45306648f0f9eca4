//! The catalog server over gRPC on loopback, as the desk and circulation
//! call it. The reader service is a stand-in that publishes the test's
//! signing key and knows one school.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Duration;
use lectern_catalog::Config;
use lectern_common::settings::ServiceSettings;
use lectern_common::testing::{TestDatabase, TestServer};
use lectern_core::clock::{Clock as _, ManualClock, SharedClock};
use lectern_core::identity::{
    Grant, PublicMethods, Role, SigningKey, StaticKeys, SubjectKind, TokenSigner, TokenVerifier,
};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{client, ids};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::events::v1::event_sink_client::EventSinkClient;
use lectern_proto::events::v1::{DeliverRequest, Event, LoanCheckedOut, event};
use lectern_proto::reader::v1 as reader;
use lectern_proto::reader::v1::identity_service_server::{IdentityService, IdentityServiceServer};
use lectern_proto::reader::v1::reader_service_server::{ReaderService, ReaderServiceServer};
use tonic::service::Routes;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

/// The reader service, reduced to what the catalog asks of it.
#[derive(Clone)]
struct FakeReader {
    key: SigningKey,
    school_id: String,
}

/// Methods the catalog never calls, spelled as `#[tonic::async_trait]`
/// expands them (that attribute runs before macros inside the impl expand).
macro_rules! unimplemented_methods {
    ($($method:ident($request:ty) -> $response:ty;)*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                _request: Request<$request>,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<Response<$response>, Status>> + Send + 'async_trait>,
            >
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async { Err(Status::unimplemented("not in the fake reader")) })
            }
        )*
    };
}

#[tonic::async_trait]
impl ReaderService for FakeReader {
    async fn get_school(
        &self,
        request: Request<reader::GetSchoolRequest>,
    ) -> Result<Response<reader::School>, Status> {
        if request.get_ref().id != self.school_id {
            return Err(Status::not_found("no such school"));
        }
        Ok(Response::new(reader::School {
            id: self.school_id.clone(),
            code: "XH-PRI".into(),
            name: "徐汇区实验小学".into(),
            create_time: None,
        }))
    }

    unimplemented_methods! {
        create_school(reader::CreateSchoolRequest) -> reader::School;
        list_schools(reader::ListSchoolsRequest) -> reader::ListSchoolsResponse;
        create_class(reader::CreateClassRequest) -> reader::Class;
        list_classes(reader::ListClassesRequest) -> reader::ListClassesResponse;
        create_reader(reader::CreateReaderRequest) -> reader::Reader;
        update_reader(reader::UpdateReaderRequest) -> reader::Reader;
        replace_reader_card(reader::ReplaceReaderCardRequest) -> reader::Reader;
        get_reader(reader::GetReaderRequest) -> reader::Reader;
        lookup_reader(reader::LookupReaderRequest) -> reader::Reader;
        list_readers(reader::ListReadersRequest) -> reader::ListReadersResponse;
        search_readers(reader::SearchReadersRequest) -> reader::SearchReadersResponse;
        set_reader_pin(reader::SetReaderPinRequest) -> reader::SetReaderPinResponse;
        list_reader_categories(reader::ListReaderCategoriesRequest) -> reader::ListReaderCategoriesResponse;
        create_reader_category(reader::CreateReaderCategoryRequest) -> reader::ReaderCategory;
        update_reader_category(reader::UpdateReaderCategoryRequest) -> reader::ReaderCategory;
        export_reader_data(reader::ExportReaderDataRequest) -> reader::ExportReaderDataResponse;
        erase_reader(reader::EraseReaderRequest) -> reader::EraseReaderResponse;
        create_reader_block(reader::CreateReaderBlockRequest) -> reader::Reader;
        delete_reader_block(reader::DeleteReaderBlockRequest) -> reader::Reader;
    }
}

#[tonic::async_trait]
impl IdentityService for FakeReader {
    async fn list_verification_keys(
        &self,
        _request: Request<reader::ListVerificationKeysRequest>,
    ) -> Result<Response<reader::ListVerificationKeysResponse>, Status> {
        Ok(Response::new(reader::ListVerificationKeysResponse {
            keys: vec![reader::VerificationKey {
                key_id: self.key.key_id.clone(),
                algorithm: "EdDSA".into(),
                public_key: self.key.public_key_b64(),
                create_time: None,
            }],
        }))
    }

    async fn list_revoked_sessions(
        &self,
        _request: Request<reader::ListRevokedSessionsRequest>,
    ) -> Result<Response<reader::ListRevokedSessionsResponse>, Status> {
        Ok(Response::new(reader::ListRevokedSessionsResponse::default()))
    }

    unimplemented_methods! {
        login(reader::LoginRequest) -> reader::LoginResponse;
        refresh_session(reader::RefreshSessionRequest) -> reader::LoginResponse;
        logout(reader::LogoutRequest) -> reader::LogoutResponse;
        rotate_signing_key(reader::RotateSigningKeyRequest) -> reader::VerificationKey;
        create_device(reader::CreateDeviceRequest) -> reader::CreateDeviceResponse;
        list_devices(reader::ListDevicesRequest) -> reader::ListDevicesResponse;
        disable_device(reader::DisableDeviceRequest) -> reader::Device;
        get_device(reader::GetDeviceRequest) -> reader::Device;
        update_device_settings(reader::UpdateDeviceSettingsRequest) -> reader::Device;
        change_password(reader::ChangePasswordRequest) -> reader::ChangePasswordResponse;
        create_staff_account(reader::CreateStaffAccountRequest) -> reader::StaffAccount;
        list_staff_accounts(reader::ListStaffAccountsRequest) -> reader::ListStaffAccountsResponse;
        set_staff_schools(reader::SetStaffSchoolsRequest) -> reader::StaffAccount;
        set_staff_account_disabled(reader::SetStaffAccountDisabledRequest) -> reader::StaffAccount;
    }
}

struct Suite {
    catalog: CatalogServiceClient<Channel>,
    sink: EventSinkClient<Channel>,
    signer: TokenSigner,
    school_id: String,
    clock: ManualClock,
    /// The catalog, then the stand-in reader service.
    servers: Vec<TestServer>,
    _database: TestDatabase,
}

impl Suite {
    async fn start() -> Self {
        let manual = lectern_common::testing::clock();
        let clock: SharedClock = Arc::new(manual.clone());
        let key = SigningKey::generate(clock.now()).unwrap();
        let signer = TokenSigner::new(key.clone(), clock.clone());
        let school_id = ids::new_id();

        let fake = FakeReader { key: key.clone(), school_id: school_id.clone() };
        let routes =
            Routes::new(ReaderServiceServer::new(fake.clone())).add_service(IdentityServiceServer::new(fake));
        // The stand-in checks tokens like the real one, so a GetSchool that
        // did not carry the caller's token would fail.
        let options = lectern_core::server::ServeOptions {
            name: "reader",
            services: vec!["lectern.reader.v1.ReaderService", "lectern.reader.v1.IdentityService"],
            verifier: TokenVerifier::new(Arc::new(StaticKeys::new([key.public()])), clock.clone()),
            public: PublicMethods::new(["/lectern.reader.v1.IdentityService/ListVerificationKeys"]),
            drain_delay: std::time::Duration::ZERO,
            shutdown_grace: std::time::Duration::from_secs(10),
            readiness: Default::default(),
        };
        let reader = TestServer::start(|listener, shutdown| {
            lectern_core::server::serve(listener, routes, options, async move { shutdown.wait().await })
        });

        let database = TestDatabase::migrated("catalog", lectern_catalog::MIGRATIONS);
        let config = Config::local(ServiceSettings::local(database.url(), &reader.url(), clock));
        let catalog =
            TestServer::start(|listener, shutdown| lectern_catalog::serve(config, listener, shutdown));
        let channel = catalog.channel();
        Self {
            catalog: CatalogServiceClient::new(channel.clone()),
            sink: EventSinkClient::new(channel),
            signer,
            school_id,
            clock: manual,
            servers: vec![catalog, reader],
            _database: database,
        }
    }

    fn token(&self, kind: SubjectKind, role: Option<Role>) -> String {
        let grant = match (kind, role) {
            (SubjectKind::Staff, Some(role)) => Grant::staff("tester", role, vec![self.school_id.clone()]),
            (SubjectKind::Reader, _) => Grant::reader("tester", &self.school_id),
            (SubjectKind::Device, _) => Grant::device("tester", &self.school_id),
            _ => Grant::service("tester"),
        };
        self.signer.sign(&grant, Duration::minutes(10)).unwrap().0
    }

    fn as_librarian<T>(&self, message: T) -> Request<T> {
        client::with_bearer(
            message,
            &self.token(SubjectKind::Staff, Some(Role::Librarian)),
            std::time::Duration::from_secs(5),
        )
    }

    fn as_service<T>(&self, message: T) -> Request<T> {
        client::with_bearer(
            message,
            &self.token(SubjectKind::Service, None),
            std::time::Duration::from_secs(5),
        )
    }

    async fn stop(self) {
        for server in self.servers {
            server.stop().await;
        }
    }
}

fn refusal(status: &Status) -> Refusal {
    Refusal::from_status(status).unwrap_or_else(|| panic!("expected a refusal, got {status:?}"))
}

fn charlottes_web(request_id: &str) -> pb::CreateTitleRequest {
    pb::CreateTitleRequest {
        isbn: "0-06-440055-7".into(),
        title: "Charlotte's Web".into(),
        contributors: vec![pb::Contributor {
            name: "E. B. White".into(),
            role: pb::ContributorRole::Author.into(),
        }],
        publisher: "HarperCollins".into(),
        publication_year: 1952,
        language: "en".into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn titles_over_grpc() {
    let mut suite = Suite::start().await;
    let request_id = ids::new_id();
    let title = suite
        .catalog
        .create_title(suite.as_librarian(charlottes_web(&request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((title.isbn13.as_str(), title.isbn10.as_str()), ("9780064400558", "0064400557"));

    // A retry with the same request id answers the same title.
    let again = suite
        .catalog
        .create_title(suite.as_librarian(charlottes_web(&request_id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, title);

    // Another attempt at the same ISBN is refused, naming the title.
    let taken = suite.catalog.create_title(suite.as_librarian(charlottes_web(""))).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let taken = refusal(&taken);
    assert_eq!(taken.reason, Reason::IsbnTaken);
    assert_eq!(taken.metadata.get("title_id"), Some(&title.id));

    let bad = suite
        .catalog
        .create_title(
            suite.as_librarian(pb::CreateTitleRequest { isbn: "0-06-440055-8".into(), ..charlottes_web("") }),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad.message(), "isbn: ISBN-10 check digit is 8 but should be 7 (mistyped or misread?)");

    let found = suite
        .catalog
        .lookup_title(suite.as_librarian(pb::LookupTitleRequest { isbn: "978 0 06 440055 8".into() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found, title);
    let missing = suite
        .catalog
        .lookup_title(suite.as_librarian(pb::LookupTitleRequest { isbn: "979-10-90636-07-1".into() }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(refusal(&missing).reason, Reason::TitleNotFound);

    // Services may read titles but not catalog them.
    let by_service = suite
        .catalog
        .get_title(suite.as_service(pb::GetTitleRequest { id: title.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_service, title);
    let denied = suite.catalog.create_title(suite.as_service(charlottes_web(""))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // No token, no catalog.
    let anonymous = suite
        .catalog
        .search_titles(pb::SearchTitlesRequest { query: "web".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    let empty = suite
        .catalog
        .search_titles(
            suite.as_librarian(pb::SearchTitlesRequest { query: "  ".into(), ..Default::default() }),
        )
        .await
        .unwrap_err();
    assert_eq!((empty.code(), empty.message()), (Code::InvalidArgument, "query: is required"));
    suite.stop().await;
}

#[tokio::test]
async fn copies_and_availability_over_grpc() {
    let mut suite = Suite::start().await;
    let title =
        suite.catalog.create_title(suite.as_librarian(charlottes_web(""))).await.unwrap().into_inner();
    let new_copy = |school_id: &str| pb::CreateCopyRequest {
        title_id: title.id.clone(),
        barcode: "C0001".into(),
        school_id: school_id.to_owned(),
        call_number: "I712.45/W58".into(),
        ..Default::default()
    };

    // A librarian adds copies to their own school only.
    let elsewhere =
        suite.catalog.create_copy(suite.as_librarian(new_copy(&ids::new_id()))).await.unwrap_err();
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
    assert_eq!(refusal(&elsewhere).reason, Reason::SchoolNotAllowed);
    // A district admin may add to any school, but the reader service does not know this one.
    let admin = suite.token(SubjectKind::Staff, Some(Role::DistrictAdmin));
    let unknown = suite
        .catalog
        .create_copy(client::with_bearer(new_copy(&ids::new_id()), &admin, std::time::Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(refusal(&unknown).reason, Reason::SchoolNotFound);

    let copy =
        suite.catalog.create_copy(suite.as_librarian(new_copy(&suite.school_id))).await.unwrap().into_inner();
    assert_eq!(copy.title, "Charlotte's Web");
    assert_eq!(copy.availability, pb::Availability::OnShelf as i32);

    let taken = suite.catalog.create_copy(suite.as_librarian(new_copy(&suite.school_id))).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(refusal(&taken).reason, Reason::CopyBarcodeTaken);

    // Circulation lends it: the event makes it ON_LOAN for everyone.
    let lent_at = suite.clock.now();
    let due_at = prost_types::Timestamp { seconds: (lent_at + Duration::days(14)).timestamp(), nanos: 0 };
    let checked_out = Event {
        id: ids::new_id(),
        r#type: "loan.checked_out".into(),
        occurred_at: Some(prost_types::Timestamp { seconds: lent_at.timestamp(), nanos: 0 }),
        school_id: suite.school_id.clone(),
        source: "circulation".into(),
        traceparent: String::new(),
        payload: Some(event::Payload::LoanCheckedOut(LoanCheckedOut {
            loan_id: ids::new_id(),
            copy_id: copy.id.clone(),
            due_at: Some(due_at),
            ..Default::default()
        })),
    };
    let batch = DeliverRequest { events: vec![checked_out] };
    let staff_denied = suite.sink.deliver(suite.as_librarian(batch.clone())).await.unwrap_err();
    assert_eq!(staff_denied.code(), Code::PermissionDenied);
    let accepted = suite.sink.deliver(suite.as_service(batch.clone())).await.unwrap().into_inner();
    assert_eq!(accepted.accepted, 1);
    let repeat = suite.sink.deliver(suite.as_service(batch)).await.unwrap().into_inner();
    assert_eq!(repeat.accepted, 0);

    let scanned = suite
        .catalog
        .lookup_copy(suite.as_service(pb::LookupCopyRequest { barcode: " C0001\r\n".into() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(scanned.availability, pb::Availability::OnLoan as i32);
    assert_eq!(scanned.due_at, Some(due_at));

    let hits = suite
        .catalog
        .search_titles(suite.as_librarian(pb::SearchTitlesRequest {
            query: "charlotte".into(),
            school_id: suite.school_id.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hits.hits.len(), 1);
    assert_eq!(hits.hits[0].available_copies, 0);
    assert_eq!(hits.hits[0].copies[0].id, copy.id);
    assert_eq!(hits.next_page_token, "");

    let listed = suite
        .catalog
        .list_copies(
            suite.as_librarian(pb::ListCopiesRequest { title_id: title.id.clone(), ..Default::default() }),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.copies, vec![scanned.clone()]);

    let missing = suite
        .catalog
        .get_copy(suite.as_librarian(pb::GetCopyRequest { id: ids::new_id() }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(refusal(&missing).reason, Reason::CopyNotFound);
    suite.stop().await;
}
