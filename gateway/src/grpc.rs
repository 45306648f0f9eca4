//! `lectern.gateway.v1.GatewayService`: the calls that belong to the edge.

use lectern_core::client::{dependency_status, with_deadline};
use lectern_core::clock::SharedClock;
use lectern_core::identity::principal;
use lectern_core::validate::FieldError;
use lectern_proto::gateway::v1::gateway_service_server::GatewayService;
use lectern_proto::gateway::v1::{WechatSignInRequest, WhoAmIRequest, WhoAmIResponse};
use lectern_proto::reader::v1::FamilySignInResponse;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginRequest, LoginResponse, login_request};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

/// The gateway's own handlers.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub identity: IdentityServiceClient<Channel>,
    pub call_timeout: std::time::Duration,
    pub clock: SharedClock,
    pub wechat: crate::wechat::WechatSignIn,
}

#[tonic::async_trait]
impl GatewayService for Gateway {
    async fn login(&self, request: Request<LoginRequest>) -> Result<Response<LoginResponse>, Status> {
        // A reader signing in at a kiosk sends the kiosk's device token
        // along; the reader service checks it (and the reader's school).
        let device_token = request.metadata().get("authorization").cloned();
        let request = request.into_inner();
        // Services sign in with the reader service directly; the edge only
        // takes people and devices.
        if !matches!(
            request.credentials,
            Some(
                login_request::Credentials::Staff(_)
                    | login_request::Credentials::Reader(_)
                    | login_request::Credentials::Device(_)
            )
        ) {
            return Err(FieldError::new(
                "credentials",
                "sign in with a staff username and password, a library card and PIN, or a device key",
            )
            .into());
        }
        let reader_sign_in = matches!(request.credentials, Some(login_request::Credentials::Reader(_)));
        let mut upstream = with_deadline(request, self.call_timeout);
        if let (true, Some(token)) = (reader_sign_in, device_token) {
            upstream.metadata_mut().insert("authorization", token);
        }
        let mut identity = self.identity.clone();
        identity.login(upstream).await.map_err(|status| match status.code() {
            Code::Unauthenticated
            | Code::InvalidArgument
            | Code::PermissionDenied
            | Code::FailedPrecondition => status,
            _ => dependency_status("reader", status),
        })
    }

    async fn who_am_i(&self, request: Request<WhoAmIRequest>) -> Result<Response<WhoAmIResponse>, Status> {
        let caller = principal(&request)?;
        let expires_in_seconds = (caller.expires_at - self.clock.now()).num_seconds().max(0);
        Ok(Response::new(WhoAmIResponse {
            subject_id: caller.subject_id,
            kind: caller.kind.as_str().to_owned(),
            role: caller.role.map(|role| role.as_str().to_owned()).unwrap_or_default(),
            expires_in_seconds,
        }))
    }

    async fn wechat_sign_in(
        &self,
        request: Request<WechatSignInRequest>,
    ) -> Result<Response<FamilySignInResponse>, Status> {
        self.wechat.sign_in(request.into_inner()).await.map(Response::new)
    }
}
