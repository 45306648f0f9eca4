//! `GatewayService/WechatSignIn`: the mini-program's `wx.login` code is
//! exchanged with WeChat for the user's openid, and the reader service's
//! `FamilyService/SignInWechat`, called with the gateway's own service
//! token, answers a reader token (a reader is bound) or a binding ticket
//! (none is). The edge never sees a binding: it only vouches for the
//! openid, which is why `SignInWechat` takes services only.

use std::sync::Arc;
use std::time::Duration;

use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::identity::TokenSource;
use lectern_core::ids::parse_optional_id;
use lectern_core::validate::FieldError;
use lectern_proto::gateway::v1::WechatSignInRequest;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::{FamilySignInResponse, SignInWechatRequest};
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::code2session::{Code2Session, WechatError, plausible_code};

/// What a WeChat sign-in needs; `code2session` and `tokens` are `None`
/// when the district has not set WeChat (or the service key) up.
#[derive(Debug, Clone)]
pub struct WechatSignIn {
    pub code2session: Option<Code2Session>,
    pub tokens: Option<Arc<dyn TokenSource>>,
    pub family: FamilyServiceClient<Channel>,
    pub call_timeout: Duration,
}

impl WechatSignIn {
    /// Signs in the WeChat user whose `wx.login` gave `request.code`.
    pub async fn sign_in(&self, request: WechatSignInRequest) -> Result<FamilySignInResponse, Status> {
        let code = request.code.trim();
        if !plausible_code(code) {
            return Err(FieldError::new("code", "send the code wx.login gave the mini-program").into());
        }
        let reader_id = parse_optional_id("reader_id", request.reader_id.trim())?;
        let (Some(code2session), Some(tokens)) = (&self.code2session, &self.tokens) else {
            return Err(WechatError::NotConfigured.into());
        };
        let user = code2session.exchange(code).await.inspect_err(|error| {
            // The reason, never the code, the openid or the secret.
            tracing::warn!(wechat.reason = error.reason().as_str_name(), %error, "WeChat sign-in refused");
        })?;
        let bearer = tokens.bearer().await.map_err(|status| match status.code() {
            Code::Unauthenticated | Code::PermissionDenied | Code::FailedPrecondition => {
                tracing::error!(
                    code = ?status.code(),
                    "the gateway cannot sign in to the reader service: check LECTERN_SERVICE_KEY"
                );
                Status::from(WechatError::NotConfigured)
            }
            _ => dependency_status("reader", status),
        })?;
        let upstream = SignInWechatRequest {
            app_id: code2session.app_id().to_owned(),
            openid: user.openid,
            unionid: user.unionid.unwrap_or_default(),
            reader_id: reader_id.unwrap_or_default(),
        };
        let mut family = self.family.clone();
        let answer = family
            .sign_in_wechat(with_bearer(upstream, &bearer, self.call_timeout))
            .await
            .map_err(|status| dependency_status("reader", status))?;
        Ok(answer.into_inner())
    }
}
