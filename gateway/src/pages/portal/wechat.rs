//! `/portal/wechat?code=…`: the mini-program's web-view hands the portal a
//! fresh `wx.login` code. The gateway exchanges it with WeChat
//! (`GatewayService/WechatSignIn`, the same call the mini-program makes):
//! a WeChat account with a reader bound is signed in as that reader and
//! sent home; one with none gets the bind form, carrying the binding
//! ticket in a hidden field (never in an address, where it would be kept
//! in the history and sent on in a Referer).

use axum::extract::{Query, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::gateway::v1::WechatSignInRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use serde::Deserialize;

use super::views::{BindPage, PortalShell};
use super::{error_page, failed_page, finish, signed_in};
use crate::http::Edge;
use crate::http::session::Caller;
use crate::pages::{Visit, render};

/// The longest code taken (WeChat's are 32 characters).
const CODE_MAX: usize = 128;

/// `GET /portal/wechat?code=…&reader_id=…`.
#[derive(Debug, Default, Deserialize)]
pub struct HandOver {
    #[serde(default)]
    code: String,
    /// The bound reader to act for (optional).
    #[serde(default)]
    reader_id: String,
}

/// `GET /portal/wechat`.
pub async fn hand_over(State(edge): State<Edge>, visit: Visit, Query(query): Query<HandOver>) -> Response {
    let code = query.code.trim();
    let usable = |value: &str, max: usize| {
        value.len() <= max && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if code.is_empty() || !usable(code, CODE_MAX) || !usable(query.reader_id.trim(), 64) {
        return error_page(&edge, &visit, StatusCode::BAD_REQUEST, visit.text("portal.wechat.code_missing"));
    }
    let request = WechatSignInRequest { code: code.to_owned(), reader_id: query.reader_id.trim().to_owned() };
    let answer = match GatewayServiceClient::new(edge.calls())
        .wechat_sign_in(edge.request(request, &Caller::Anonymous))
        .await
    {
        Ok(answer) => answer.into_inner(),
        Err(failure) => {
            tracing::info!(code = ?failure.code(), "a WeChat hand-over to the portal was refused");
            return failed_page(&edge, &visit, &failure);
        }
    };
    if let Some(login) = answer.login.as_ref().filter(|login| !login.access_token.is_empty()) {
        return signed_in(&edge, login, "/portal");
    }
    if answer.binding_ticket.is_empty() {
        return error_page(&edge, &visit, StatusCode::BAD_GATEWAY, visit.text("error.unavailable"));
    }
    let page = BindPage {
        shell: PortalShell::anonymous(&visit),
        ticket: answer.binding_ticket,
        can_bind: true,
        relation: "guardian".to_owned(),
        ..BindPage::default()
    };
    finish(&edge, &visit, render(&page, StatusCode::OK))
}
