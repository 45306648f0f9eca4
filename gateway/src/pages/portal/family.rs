//! `/portal/family`: the readers bound to the WeChat account signed in —
//! a parent's children, say — with "switch to" (`SwitchReader`: a token
//! for that child; the old session ends), "remove" (`DeleteBinding`:
//! sessions signed in through that binding end) and "add a child"
//! (`/portal/bind`). The reader service keeps a family to its own
//! bindings; a card and PIN sign-in has no family and is told so.

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::header::SET_COOKIE;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::{BindingRelation, DeleteBindingRequest, SwitchReaderRequest};
use serde::Deserialize;

use super::Portal;
use super::home::{HomeQuery, done_notice};
use super::loans::ActionForm;
use super::views::{FamilyPage, MemberRow};
use crate::http::Edge;
use crate::pages::Visit;
use crate::pages::signin::status_of;
use crate::pages::views::Notice;

/// `GET /portal/family?done=…`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<HomeQuery>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let notice = done_notice(&portal, &query.done);
    family_page(&edge, &portal, notice, StatusCode::OK)
}

/// The family page with `notice` on top.
fn family_page(edge: &Edge, portal: &Portal, notice: Option<Notice>, status: StatusCode) -> Response {
    let mut shell = portal.shell("family");
    shell.notice = notice;
    if !portal.through_wechat() && shell.notice.is_none() {
        shell.notice = Some(Notice::refusal(portal.text("portal.family.wechat_only")));
    }
    let members = portal
        .family
        .iter()
        .map(|member| MemberRow {
            binding_id: member.binding_id.clone(),
            reader_id: member.reader_id.clone(),
            name: member.name.clone(),
            detail: [member.class_name.as_str(), member.school_name.as_str()]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            relation: portal.text(if member.relation == BindingRelation::Self_ as i32 {
                "portal.family.relation_self"
            } else {
                "portal.family.relation_guardian"
            }),
            current: member.reader_id == portal.principal.subject_id,
        })
        .collect();
    let page = FamilyPage { shell, members };
    portal.finish(edge, &page, status)
}

/// The switcher's form.
#[derive(Debug, Default, Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reader_id: String,
}

/// `POST /portal/family/switch`: act for another child of the account.
pub async fn switch(State(edge): State<Edge>, visit: Visit, Form(form): Form<SwitchForm>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return family_page(&edge, &portal, Some(notice), StatusCode::FORBIDDEN);
    }
    let reader_id = form.reader_id.trim().to_owned();
    if reader_id.is_empty() {
        let notice = Notice::refusal(portal.text("portal.family.choose"));
        return family_page(&edge, &portal, Some(notice), StatusCode::BAD_REQUEST);
    }
    if reader_id == portal.principal.subject_id {
        return super::finish(&edge, &portal.visit, Redirect::to("/portal"));
    }
    let request = SwitchReaderRequest { reader_id };
    match FamilyServiceClient::new(edge.calls()).switch_reader(portal.request(&edge, request)).await {
        Ok(answer) => match answer.into_inner().login {
            Some(login) if !login.access_token.is_empty() => {
                super::signed_in(&edge, &login, "/portal?done=switched")
            }
            _ => {
                let notice = Notice::refusal(portal.text("error.unavailable"));
                family_page(&edge, &portal, Some(notice), StatusCode::BAD_GATEWAY)
            }
        },
        Err(failure) => {
            let notice = Notice::refusal(portal.refusal(&failure));
            family_page(&edge, &portal, Some(notice), status_of(&failure))
        }
    }
}

/// `POST /portal/bindings/{binding_id}/remove`. Removing the binding the
/// reader is signed in through ends this session too: the browser is then
/// signed out and told so.
pub async fn remove(
    State(edge): State<Edge>,
    visit: Visit,
    Path(binding_id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let mut portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return family_page(&edge, &portal, Some(notice), StatusCode::FORBIDDEN);
    }
    let binding_id = binding_id.trim().to_owned();
    let own = portal
        .family
        .iter()
        .any(|member| member.binding_id == binding_id && member.reader_id == portal.principal.subject_id);
    let request = DeleteBindingRequest { binding_id: binding_id.clone() };
    match FamilyServiceClient::new(edge.calls()).delete_binding(portal.request(&edge, request)).await {
        Ok(_) if own => {
            tracing::info!("a reader removed the WeChat binding they were signed in through");
            let mut response = Redirect::to("/portal/signin?signed_out=1").into_response();
            response.headers_mut().append(SET_COOKIE, edge.sessions().cookies.clear_session());
            super::finish(&edge, &portal.visit, response)
        }
        Ok(_) => {
            portal.family.retain(|member| member.binding_id != binding_id);
            let notice = Notice::success(portal.text("portal.family.removed"));
            family_page(&edge, &portal, Some(notice), StatusCode::OK)
        }
        Err(failure) => {
            let notice = Notice::refusal(portal.refusal(&failure));
            family_page(&edge, &portal, Some(notice), status_of(&failure))
        }
    }
}
