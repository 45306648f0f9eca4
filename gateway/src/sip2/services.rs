//! The calls the SIP2 edge makes: each one a typed gRPC client over the
//! gateway's in-process stack (`Calls`), so a machine is authenticated,
//! authorized and refused exactly like any other client. Calls carry the
//! device's token or the token of the reader signed in at the device
//! (`lectern_core::client::with_bearer`), and state-changing calls the
//! request id derived from the message.
//!
//! Circulation answers `REQUEST_IN_PROGRESS` when a resent message arrives
//! while the first is still being worked on (a machine that reconnected
//! fast); the call is then tried again for a few seconds, so the resend
//! gets the first answer instead of a refusal.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lectern_core::client::{with_bearer, with_deadline};
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{Copy, LookupCopyRequest};
use lectern_proto::circulation::v1::fee_service_client::FeeServiceClient;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{
    CancelHoldRequest, CheckInRequest, CheckInResponse, CheckOutRequest, CheckOutResponse,
    GetReaderSummaryRequest, Hold, PayFeesRequest, PayFeesResponse, PlaceHoldRequest, ReaderSummary,
    RenewAllRequest, RenewAllResponse, RenewRequest, RenewResponse,
};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    Device, DeviceCredentials, GetDeviceRequest, ListSchoolsRequest, LoginRequest, LoginResponse,
    LogoutRequest, ReaderCredentials, login_request,
};
use tonic::Status;

use crate::http::call::Calls;

/// How long one call may take. A machine waits for its answer; longer
/// than this and it has long shown "try again".
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// How often, and how far apart, a call answered `REQUEST_IN_PROGRESS` is
/// tried again.
const IN_PROGRESS_TRIES: u32 = 40;
const IN_PROGRESS_PAUSE: Duration = Duration::from_millis(100);

/// A bearer token and when it stops working.
#[derive(Debug, Clone)]
pub struct Token {
    /// The access token.
    pub access: String,
    /// Its expiry, if the answer said.
    pub expires: Option<DateTime<Utc>>,
}

impl Token {
    /// The token of a sign-in.
    pub fn of(login: &LoginResponse) -> Self {
        let expires = login
            .expire_time
            .as_ref()
            .and_then(|time| DateTime::from_timestamp(time.seconds, u32::try_from(time.nanos).unwrap_or(0)));
        Token { access: login.access_token.clone(), expires }
    }

    /// Whether it will have stopped working `margin` after `now`.
    pub fn expires_within(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.expires.is_some_and(|expires| expires - margin <= now)
    }
}

/// The services, as a SIP2 connection calls them.
#[derive(Clone)]
pub struct Services {
    calls: Calls,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Services")
    }
}

/// The refusal reason of a failed call, if it carries one.
pub fn reason_of(status: &Status) -> Option<Reason> {
    Refusal::from_status(status).map(|refusal| refusal.reason)
}

fn request<T>(message: T, token: &str) -> tonic::Request<T> {
    with_bearer(message, token, CALL_TIMEOUT)
}

/// Runs `call` again while the service says the same request is still in
/// progress.
async fn settled<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut tries = 0;
    loop {
        match call().await {
            Err(status)
                if reason_of(&status) == Some(Reason::RequestInProgress) && tries < IN_PROGRESS_TRIES =>
            {
                tries += 1;
                tokio::time::sleep(IN_PROGRESS_PAUSE).await;
            }
            answer => return answer,
        }
    }
}

impl Services {
    /// Calls over the gateway's stack.
    pub fn new(calls: Calls) -> Self {
        Services { calls }
    }

    /// Signs the machine in with its device id and key.
    pub async fn device_login(&self, device_id: &str, key: &str) -> Result<LoginResponse, Status> {
        let credentials = login_request::Credentials::Device(DeviceCredentials {
            device_id: device_id.to_owned(),
            key: key.to_owned(),
        });
        let message = LoginRequest { credentials: Some(credentials) };
        let mut gateway = GatewayServiceClient::new(self.calls.clone());
        Ok(gateway.login(with_deadline(message, CALL_TIMEOUT)).await?.into_inner())
    }

    /// Signs a reader in at the device (`device_token`); an empty `pin` at
    /// a card-only device.
    pub async fn reader_login(
        &self,
        device_token: &str,
        card: &str,
        pin: &str,
    ) -> Result<LoginResponse, Status> {
        let credentials = login_request::Credentials::Reader(ReaderCredentials {
            card_barcode: card.to_owned(),
            pin: pin.to_owned(),
        });
        let message = LoginRequest { credentials: Some(credentials) };
        let mut gateway = GatewayServiceClient::new(self.calls.clone());
        Ok(gateway.login(request(message, device_token)).await?.into_inner())
    }

    /// Ends the session of `token`; a failure only leaves it to expire.
    pub async fn logout(&self, token: &str) {
        let mut identity = IdentityServiceClient::new(self.calls.clone());
        if let Err(status) = identity.logout(request(LogoutRequest {}, token)).await {
            tracing::debug!(code = ?status.code(), "ending a reader's session at a SIP2 machine failed");
        }
    }

    /// The device's own record and settings.
    pub async fn device(&self, token: &str, device_id: &str) -> Result<Device, Status> {
        let mut identity = IdentityServiceClient::new(self.calls.clone());
        let message = GetDeviceRequest { device_id: device_id.to_owned() };
        Ok(identity.get_device(request(message, token)).await?.into_inner())
    }

    /// The district's schools as (id, name); empty when the caller may not
    /// list them.
    pub async fn school_names(&self, token: &str) -> Vec<(String, String)> {
        let mut readers = ReaderServiceClient::new(self.calls.clone());
        let mut schools = Vec::new();
        let mut page_token = String::new();
        // A district has tens of schools; the bound only guards a loop.
        for _ in 0..20 {
            let message = ListSchoolsRequest { page_size: 500, page_token };
            match readers.list_schools(request(message, token)).await {
                Ok(page) => {
                    let page = page.into_inner();
                    schools.extend(page.schools.into_iter().map(|school| (school.id, school.name)));
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    page_token = page.next_page_token;
                }
                Err(status) => {
                    tracing::debug!(code = ?status.code(), "the SIP2 edge cannot list the schools");
                    break;
                }
            }
        }
        schools
    }

    /// A reader's loans, holds, fees and blocks (the reader's own token).
    pub async fn summary(&self, token: &str, reader_id: &str) -> Result<ReaderSummary, Status> {
        let mut loans = LoanServiceClient::new(self.calls.clone());
        let message = GetReaderSummaryRequest { reader_id: reader_id.to_owned(), ..Default::default() };
        Ok(loans.get_reader_summary(request(message, token)).await?.into_inner())
    }

    /// A copy by barcode.
    pub async fn lookup_copy(&self, token: &str, barcode: &str) -> Result<Copy, Status> {
        let mut catalog = CatalogServiceClient::new(self.calls.clone());
        let message = LookupCopyRequest { barcode: barcode.to_owned() };
        Ok(catalog.lookup_copy(request(message, token)).await?.into_inner())
    }

    /// Lends `barcode` to the reader of `card` (the reader's token at the device).
    pub async fn check_out(
        &self,
        token: &str,
        card: &str,
        barcode: &str,
        request_id: Option<&str>,
    ) -> Result<CheckOutResponse, Status> {
        let message = CheckOutRequest {
            reader_card_barcode: card.to_owned(),
            copy_barcode: barcode.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        settled(|| {
            let mut loans = LoanServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(loans.check_out(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Takes `barcode` back (the device's token: a return box).
    pub async fn check_in(
        &self,
        token: &str,
        barcode: &str,
        request_id: Option<&str>,
    ) -> Result<CheckInResponse, Status> {
        let message = CheckInRequest {
            copy_barcode: barcode.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        settled(|| {
            let mut loans = LoanServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(loans.check_in(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Renews the reader's loan of `barcode`.
    pub async fn renew(
        &self,
        token: &str,
        barcode: &str,
        request_id: Option<&str>,
    ) -> Result<RenewResponse, Status> {
        let message = RenewRequest {
            copy_barcode: barcode.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        settled(|| {
            let mut loans = LoanServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(loans.renew(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Renews every loan of the reader that can be.
    pub async fn renew_all(
        &self,
        token: &str,
        reader_id: &str,
        request_id: Option<&str>,
    ) -> Result<RenewAllResponse, Status> {
        let message = RenewAllRequest {
            reader_id: reader_id.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
        };
        settled(|| {
            let mut loans = LoanServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(loans.renew_all(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Places a hold on the copy `barcode` for the signed-in reader, to
    /// pick up at their own school.
    pub async fn place_hold(
        &self,
        token: &str,
        barcode: &str,
        request_id: Option<&str>,
    ) -> Result<Hold, Status> {
        let message = PlaceHoldRequest {
            copy_barcode: barcode.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        settled(|| {
            let mut holds = HoldServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(holds.place_hold(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Cancels one of the reader's holds.
    pub async fn cancel_hold(
        &self,
        token: &str,
        hold_id: &str,
        request_id: Option<&str>,
    ) -> Result<Hold, Status> {
        let message = CancelHoldRequest {
            hold_id: hold_id.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
        };
        settled(|| {
            let mut holds = HoldServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(holds.cancel_hold(request(message, token)).await?.into_inner()) }
        })
        .await
    }

    /// Records a payment the machine took for the reader's fees.
    pub async fn pay_fees(
        &self,
        token: &str,
        reader_id: &str,
        amount: i64,
        fee_id: &str,
        request_id: Option<&str>,
    ) -> Result<PayFeesResponse, Status> {
        let message = PayFeesRequest {
            reader_id: reader_id.to_owned(),
            amount,
            fee_id: fee_id.to_owned(),
            request_id: request_id.unwrap_or_default().to_owned(),
        };
        settled(|| {
            let mut fees = FeeServiceClient::new(self.calls.clone());
            let message = message.clone();
            async move { Ok(fees.pay_fees(request(message, token)).await?.into_inner()) }
        })
        .await
    }
}
