//! Sign-in and who may call what: tokens, one-time passwords, roles.

use std::time::Duration;

use lectern_core::identity::{Grant, Role, SigningKey, TokenSigner};
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::SearchTitlesRequest;
use lectern_proto::gateway::v1::WhoAmIRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{
    CreateSchoolRequest, CreateStaffAccountRequest, ListSchoolsRequest, SetStaffAccountDisabledRequest,
    StaffRole,
};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer, eventually};

fn search(query: &str) -> SearchTitlesRequest {
    SearchTitlesRequest { query: query.into(), ..Default::default() }
}

#[tokio::test]
async fn every_call_without_a_valid_token_is_unauthenticated() {
    let suite = TestSuite::start().await;

    // No token at all.
    let status = suite.catalog().search_titles(search("草房子")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("bearer"), "{status:?}");

    // Garbage.
    assert_refused(
        suite.catalog().search_titles(bearer(search("草房子"), "not.a.token")).await,
        Code::Unauthenticated,
        Reason::TokenInvalid,
    );

    // Well-formed, but signed by a key this district never issued.
    let clock: lectern_core::clock::SharedClock = std::sync::Arc::new(suite.clock.clone());
    let stranger = TokenSigner::new(SigningKey::generate(clock.now()).unwrap(), clock);
    let (forged, _) = stranger
        .sign(&Grant::staff("intruder", Role::DistrictAdmin, Vec::new()), chrono::Duration::minutes(5))
        .unwrap();
    assert_refused(
        suite.readers().list_schools(bearer(ListSchoolsRequest::default(), &forged)).await,
        Code::Unauthenticated,
        Reason::TokenInvalid,
    );

    // The real token works.
    suite.catalog().search_titles(suite.admin(search("草房子"))).await.expect("admin may search");
}

#[tokio::test]
async fn a_one_time_password_only_allows_choosing_a_new_one() {
    let suite = TestSuite::start_fresh().await;

    let wrong = suite.login("admin", "not the password").await;
    assert_refused(wrong, Code::Unauthenticated, Reason::CredentialsInvalid);

    let login = suite.login("admin", &suite.one_time_password).await.unwrap();
    assert!(login.password_change_required);
    assert_refused(
        suite
            .readers()
            .create_school(bearer(
                CreateSchoolRequest { code: "A".into(), name: "A".into(), request_id: String::new() },
                &login.access_token,
            ))
            .await,
        Code::PermissionDenied,
        Reason::PasswordChangeRequired,
    );
    let who = GatewayServiceClient::new(suite.channel.clone())
        .who_am_i(bearer(WhoAmIRequest {}, &login.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((who.kind.as_str(), who.role.as_str()), ("staff", "district_admin"));
}

#[tokio::test]
async fn roles_limit_what_staff_may_do() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;

    // A librarian works the desk but does not run the district.
    suite.readers().list_schools(bearer(ListSchoolsRequest::default(), &librarian)).await.unwrap();
    assert_refused(
        suite
            .readers()
            .create_school(bearer(
                CreateSchoolRequest { code: "B".into(), name: "B".into(), request_id: String::new() },
                &librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite
            .identity()
            .create_staff_account(bearer(
                CreateStaffAccountRequest {
                    username: "mallory".into(),
                    display_name: "M".into(),
                    role: StaffRole::DistrictAdmin.into(),
                    initial_password: "whatever-password".into(),
                    school_ids: Vec::new(),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
}

#[tokio::test]
async fn health_and_reflection_need_no_token() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let suite = TestSuite::start_fresh().await;
    let health = HealthClient::new(suite.channel.clone())
        .check(HealthCheckRequest { service: "lectern.circulation.v1.LoanService".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");

    // v1alpha is what grpcio's reflection client and grpcurl's fallback speak.
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(suite.channel.clone())
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|service| service.name).collect();
    for expected in [
        "lectern.gateway.v1.GatewayService",
        "lectern.catalog.v1.CatalogService",
        "lectern.circulation.v1.LoanService",
        "lectern.circulation.v1.HoldService",
        "lectern.circulation.v1.FeeService",
        "lectern.circulation.v1.CirculationRuleService",
        "lectern.circulation.v1.SchoolCalendarService",
        "lectern.reader.v1.ReaderService",
        "lectern.notification.v1.NotificationService",
    ] {
        assert!(names.iter().any(|name| name == expected), "{expected} missing from {names:?}");
    }
    assert!(!names.iter().any(|name| name.contains("EventSink")), "internal services stay hidden: {names:?}");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let suite = TestSuite::start().await;
    suite.catalog().search_titles(suite.admin(search("草房子"))).await.expect("fresh token works");
    // Sign-ins last an hour by default.
    suite.clock.advance(chrono::Duration::minutes(61));
    let status = assert_refused(
        suite.catalog().search_titles(suite.admin(search("草房子"))).await,
        Code::Unauthenticated,
        Reason::TokenInvalid,
    );
    assert!(status.message().contains("expired"), "{status:?}");
    // Signing in again gives a working token.
    let login = suite.login("admin", crate::harness::ADMIN_PASSWORD).await.unwrap();
    suite.catalog().search_titles(bearer(search("草房子"), &login.access_token)).await.unwrap();
}

#[tokio::test]
async fn wrong_passwords_lock_an_account_and_the_audit_log_shows_it() {
    use lectern_proto::reader::v1::ListAuditEventsRequest;

    let suite = TestSuite::start().await;
    for _ in 0..4 {
        assert_refused(
            suite.login("admin", "guess-guess-guess").await,
            Code::Unauthenticated,
            Reason::CredentialsInvalid,
        );
    }
    // The fifth wrong password locks the account; then even the right one is refused.
    let status = assert_refused(
        suite.login("admin", "guess-guess-guess").await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    let refusal = lectern_core::refusal::Refusal::from_status(&status).unwrap();
    assert!(refusal.metadata.contains_key("locked_until"), "{refusal:?}");
    assert_refused(
        suite.login("admin", crate::harness::ADMIN_PASSWORD).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );

    // The lock lifts by itself after its period (15 minutes by default).
    suite.clock.advance(chrono::Duration::minutes(16));
    let login =
        suite.login("admin", crate::harness::ADMIN_PASSWORD).await.expect("unlocked after the period");

    let audit = suite
        .readers_audit()
        .list_audit_events(bearer(
            ListAuditEventsRequest { subject_id: login.subject_id.clone(), ..Default::default() },
            &login.access_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let outcomes: Vec<(String, String)> =
        audit.iter().map(|event| (event.action.clone(), event.outcome.clone())).collect();
    // Newest first: the last sign-in, the refusal while locked, the lockout, and five failures.
    assert_eq!(outcomes[0], ("login".to_owned(), "succeeded".to_owned()));
    assert_eq!(outcomes[1], ("login".to_owned(), "refused_locked".to_owned()));
    assert!(outcomes.contains(&("lockout".to_owned(), "locked".to_owned())));
    assert_eq!(outcomes.iter().filter(|(_, outcome)| outcome == "failed").count(), 5);

    let lockouts = suite
        .readers_audit()
        .list_audit_events(bearer(
            ListAuditEventsRequest { action: "lockout".into(), ..Default::default() },
            &login.access_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(lockouts.len(), 1);
}

#[tokio::test]
async fn a_disabled_staff_account_is_signed_out_everywhere_and_cannot_sign_in() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let librarian = suite.staff("li.hua", StaffRole::Librarian, &[&school]).await;
    suite.catalog().search_titles(bearer(search("草房子"), &librarian)).await.unwrap();
    let who = GatewayServiceClient::new(suite.channel.clone())
        .who_am_i(bearer(WhoAmIRequest {}, &librarian))
        .await
        .unwrap()
        .into_inner();
    let disable = |disabled| SetStaffAccountDisabledRequest {
        staff_id: who.subject_id.clone(),
        disabled,
        request_id: String::new(),
    };

    // Only district admins disable accounts, and never their own.
    assert_refused(
        suite.identity().set_staff_account_disabled(bearer(disable(true), &librarian)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let admin = GatewayServiceClient::new(suite.channel.clone())
        .who_am_i(suite.admin(WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner();
    let own = SetStaffAccountDisabledRequest {
        staff_id: admin.subject_id,
        disabled: true,
        request_id: String::new(),
    };
    let status = suite.identity().set_staff_account_disabled(suite.admin(own)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // Li Hua leaves: her token stops working at the gateway and in the
    // services, and her password no longer signs in.
    let account = suite.identity().set_staff_account_disabled(suite.admin(disable(true))).await.unwrap();
    assert!(account.into_inner().disabled);
    eventually(Duration::from_secs(20), "the disabled account's token to be refused", || async {
        let answer = suite.catalog().search_titles(bearer(search("草房子"), &librarian)).await;
        matches!(answer, Err(status) if status.code() == Code::Unauthenticated).then_some(())
    })
    .await;
    assert_refused(
        suite.login("li.hua", "li.hua-own-password").await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );

    // Enabled again, she signs in as before.
    suite.identity().set_staff_account_disabled(suite.admin(disable(false))).await.unwrap();
    suite.login("li.hua", "li.hua-own-password").await.unwrap();
}
