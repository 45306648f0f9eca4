//! Tokens for a service's own background work (event relay, schedulers):
//! the service signs in to the reader service with the district's service
//! key and reuses the token until shortly before it expires.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginRequest, ServiceCredentials, login_request};
use tokio::sync::Mutex;
use tonic::Status;
use tonic::transport::Channel;

use crate::clock::SharedClock;

/// Hands out a bearer token for a service's own calls.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A token valid for at least a minute.
    fn bearer(&self) -> BoxFuture<'_, Result<String, Status>>;
}

/// Service tokens from the reader service's `Login`.
pub struct ServiceTokens {
    client: IdentityServiceClient<Channel>,
    service: String,
    key: String,
    clock: SharedClock,
    cached: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ServiceTokens").field("service", &self.service).finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// Signs in as `service` with the district service `key`.
    pub fn new(reader: Channel, service: &str, key: &str, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self {
            client: IdentityServiceClient::new(reader),
            service: service.to_owned(),
            key: key.to_owned(),
            clock,
            cached: Mutex::new(None),
        })
    }
}

impl TokenSource for ServiceTokens {
    fn bearer(&self) -> BoxFuture<'_, Result<String, Status>> {
        Box::pin(async move {
            let mut cached = self.cached.lock().await;
            let now = self.clock.now();
            if let Some((token, expires_at)) = cached.as_ref()
                && *expires_at - now > chrono::Duration::minutes(1)
            {
                return Ok(token.clone());
            }
            let request = LoginRequest {
                credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                    service: self.service.clone(),
                    key: self.key.clone(),
                })),
            };
            let mut client = self.client.clone();
            let response = client
                .login(crate::client::with_deadline(request, Duration::from_secs(5)))
                .await?
                .into_inner();
            let expires_at = response
                .expire_time
                .and_then(|time| DateTime::from_timestamp(time.seconds, 0))
                .unwrap_or(now);
            *cached = Some((response.access_token.clone(), expires_at));
            Ok(response.access_token)
        })
    }
}
