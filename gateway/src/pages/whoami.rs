//! `/account` (and `/` for readers and devices, see [`super::home`]): who
//! is signed in — name, kind, role, schools, until when — with the way
//! out. Visitors who are not signed in go to the sign-in page; staff who
//! must change a one-time password go there first.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use lectern_core::identity::{Role, SubjectKind};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{GetReaderRequest, ListSchoolsRequest};
use serde::Deserialize;

use super::views::{Notice, WhoAmIPage};
use super::{Visit, render};
use crate::http::Edge;

/// `GET /?password_changed=1`.
#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    pub password_changed: Option<String>,
}

/// `GET /account`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<HomeQuery>) -> Response {
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    if principal.password_change_required {
        return Redirect::to("/password").into_response();
    }
    let mut readers = ReaderServiceClient::new(edge.calls());
    let facts = edge.sessions().facts(&visit.headers);
    let name_or_id = match principal.kind {
        SubjectKind::Reader => readers
            .get_reader(edge.request(GetReaderRequest { id: principal.subject_id.clone() }, &visit.caller))
            .await
            .map(|reader| reader.into_inner().name)
            .unwrap_or_default(),
        _ => facts.as_ref().map(|facts| facts.label.clone()).unwrap_or_default(),
    };
    let name_or_id = if name_or_id.is_empty() { principal.subject_id.clone() } else { name_or_id };
    let schools = match (principal.kind, principal.role) {
        (SubjectKind::Staff, Some(Role::DistrictAdmin)) => vec![visit.text("whoami.all_schools")],
        (SubjectKind::Staff, _) => {
            let request = ListSchoolsRequest { page_size: 500, page_token: String::new() };
            match readers.list_schools(edge.request(request, &visit.caller)).await {
                Ok(answer) => answer
                    .into_inner()
                    .schools
                    .into_iter()
                    .filter(|school| principal.schools.contains(&school.id))
                    .map(|school| school.name)
                    .collect(),
                Err(_) => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let ends = facts
        .and_then(|facts| chrono::DateTime::from_timestamp(facts.ends_at, 0))
        .filter(|ends| ends.timestamp() > 0)
        .unwrap_or(principal.expires_at)
        .with_timezone(&edge.config().time_zone);
    let session_ends = super::i18n::format(
        visit.lang,
        "time.date_time",
        &[
            ("year", &ends.format("%Y").to_string()),
            ("month", &ends.format("%m").to_string()),
            ("day", &ends.format("%d").to_string()),
            ("hour", &ends.format("%H").to_string()),
            ("minute", &ends.format("%M").to_string()),
        ],
    );
    let mut shell = visit.shell();
    if query.password_changed.is_some() {
        shell.notice = Some(Notice::success(visit.text("password.changed")));
    }
    let page = WhoAmIPage {
        shell,
        errors: Vec::new(),
        name_or_id,
        kind_text: visit.text(&format!("kind.{}", principal.kind.as_str())),
        role_text: principal
            .role
            .map(|role| visit.text(&format!("role.{}", role.as_str())))
            .unwrap_or_default(),
        session_ends,
        schools,
        can_change_password: principal.kind == SubjectKind::Staff,
        is_reader: principal.kind == SubjectKind::Reader,
    };
    visit.finish(&edge, render(&page, StatusCode::OK))
}
