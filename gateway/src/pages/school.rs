//! "Which desk am I?": the school a staff member stands in, and the
//! context every desk screen opens with ([`Desk`]).
//!
//! A librarian or assistant of one school is at that school. Staff covering
//! several schools, and district admins, choose at `/school`; the choice is
//! remembered in this browser (`lectern_desk_school`, a year) and shown in
//! the bar under the header on every desk screen, with the way to change
//! it. Check-out and check-in name it as the desk's school, so the services
//! route and refuse by it; the cookie only says where the person stands,
//! their token still says what they may do.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use lectern_core::identity::{Principal, Role, SubjectKind};
use lectern_proto::reader::v1::ListSchoolsRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use serde::Deserialize;
use tonic::Status;

use super::views::{FieldMessage, Notice, Shell};
use super::{Visit, encode, error_page, local_path, remembered, render};
use crate::http::Edge;
use crate::http::session::cookie;

/// The cookie that remembers the school this browser's desk stands in.
pub const SCHOOL_COOKIE: &str = "lectern_desk_school";

/// The request header the desk's script sends when it wants only the part
/// of the page that changed (a fragment), not the whole page.
pub const FRAGMENT_HEADER: &str = "x-lectern-fragment";

/// A school, as the desk names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct School {
    pub id: String,
    pub name: String,
}

/// The screens of the desk, for the bar that links them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Desk,
    Returns,
    Search,
    Readers,
    Lists,
    Notices,
    School,
}

impl Section {
    /// Every section in the bar, with its path and the catalogue id of its name.
    pub const BAR: [(Section, &'static str, &'static str); 7] = [
        (Section::Home, "/", "nav.home"),
        (Section::Desk, "/desk", "nav.desk"),
        (Section::Returns, "/returns", "nav.returns"),
        (Section::Search, "/search", "nav.search"),
        (Section::Readers, "/readers", "nav.readers"),
        (Section::Lists, "/lists", "nav.lists"),
        (Section::Notices, "/notices", "nav.notices"),
    ];
}

/// What the frame shows on a desk screen: the screens, which one this is,
/// the school the desk stands in and who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskBar {
    pub section: Section,
    pub school: String,
    /// Whether the person may stand in another school (offers "change").
    pub can_change_school: bool,
    /// The staff member's username, as they signed in.
    pub who: String,
}

impl DeskBar {
    /// Whether `section` is the screen shown.
    pub fn is(&self, section: &Section) -> bool {
        self.section == *section
    }
}

/// A staff member at the desk of one school: what every desk screen opens
/// with. Readers, devices and visitors who are not signed in never get one.
#[derive(Debug, Clone)]
pub struct Desk {
    pub visit: Visit,
    pub principal: Principal,
    /// The school the desk stands in.
    pub school: School,
    /// Every school the person may stand in.
    pub schools: Vec<School>,
    /// Every school of the district, for naming where a book goes.
    pub district: Vec<School>,
}

impl Desk {
    /// The desk of the signed-in staff member, or the response that sends
    /// them where they must go first: sign in, change a one-time password,
    /// choose a school. A request for a fragment gets a 401 fragment that
    /// says the session ended instead of a redirect.
    pub async fn open(edge: &Edge, visit: Visit) -> Result<Desk, Response> {
        let Some(principal) = visit.principal(edge).await else {
            return Err(session_ended(edge, &visit));
        };
        if principal.password_change_required {
            return Err(Redirect::to("/password").into_response());
        }
        if principal.kind != SubjectKind::Staff {
            return Err(error_page(
                edge,
                &visit,
                StatusCode::FORBIDDEN,
                "desk.staff_only_title",
                "desk.staff_only",
            ));
        }
        let district = match district_schools(edge, &visit).await {
            Ok(district) => district,
            Err(status) => {
                tracing::warn!(code = ?status.code(), "the desk cannot list the schools");
                return Err(error_page(
                    edge,
                    &visit,
                    super::signin::status_of(&status),
                    "error.server_title",
                    "error.unavailable",
                ));
            }
        };
        let schools = standing_in(&district, &principal);
        let chosen = cookie(&visit.headers, SCHOOL_COOKIE)
            .and_then(|id| schools.iter().find(|school| school.id == id))
            .or_else(|| if schools.len() == 1 { schools.first() } else { None })
            .cloned();
        match chosen {
            Some(school) => Ok(Desk { visit, principal, school, schools, district }),
            // A district with no school yet (its first admin, just signed
            // in): no desk to stand at; the account page, with what was
            // just done.
            None if schools.is_empty() && principal.role == Some(Role::DistrictAdmin) => {
                let changed = visit.path.contains("password_changed=1");
                let to = if changed { "/account?password_changed=1" } else { "/account" };
                Err(Redirect::to(to).into_response())
            }
            None if schools.is_empty() => Err(error_page(
                edge,
                &visit,
                StatusCode::FORBIDDEN,
                "desk.staff_only_title",
                "desk.no_school",
            )),
            None => Err(Redirect::to(&format!("/school?next={}", encode(&visit.path))).into_response()),
        }
    }

    /// The frame of a desk screen.
    pub fn shell(&self, section: Section) -> Shell {
        let mut shell = self.visit.shell();
        shell.desk = Some(DeskBar {
            section,
            school: self.school.name.clone(),
            can_change_school: self.schools.len() > 1,
            who: self.visit.label(),
        });
        shell
    }

    /// A gRPC request for `message` with the staff member's identity.
    pub fn request<T>(&self, edge: &Edge, message: T) -> tonic::Request<T> {
        edge.request(message, &self.visit.caller)
    }

    /// Whether to offer "lend anyway" after a refusal: librarians and
    /// district admins may lend past a reader's blocks. The service decides;
    /// this only keeps the offer from an assistant who would be refused.
    pub fn may_override(&self) -> bool {
        matches!(self.principal.role, Some(Role::Librarian | Role::DistrictAdmin))
    }

    /// The name of a school of the district, by id (empty for an id that
    /// names no school, so no id ever shows).
    pub fn school_name(&self, id: &str) -> String {
        self.district
            .iter()
            .find(|school| school.id == id)
            .map(|school| school.name.clone())
            .unwrap_or_default()
    }

    /// Text `id` in the visitor's language.
    pub fn text(&self, id: &str) -> String {
        self.visit.text(id)
    }
}

/// The answer to a request without a valid session: the sign-in page, or
/// for the desk's script a 401 fragment it shows while it keeps the scans.
fn session_ended(edge: &Edge, visit: &Visit) -> Response {
    if visit.wants_fragment() {
        let notice = Notice::refusal(visit.text("desk.session_ended"));
        let fragment = super::views::NoticeFragment { shell: visit.shell(), notice, sign_in: true };
        return visit.finish(edge, render(&fragment, StatusCode::UNAUTHORIZED));
    }
    visit.to_sign_in()
}

/// The schools `principal` may stand in: all of them for a district admin,
/// else those in the token.
fn standing_in(district: &[School], principal: &Principal) -> Vec<School> {
    district.iter().filter(|school| principal.covers_school(&school.id)).cloned().collect()
}

/// The schools `principal` may stand in, by name.
async fn schools_of(edge: &Edge, visit: &Visit, principal: &Principal) -> Result<Vec<School>, Status> {
    Ok(standing_in(&district_schools(edge, visit).await?, principal))
}

/// Every school of the district, by name.
async fn district_schools(edge: &Edge, visit: &Visit) -> Result<Vec<School>, Status> {
    let mut readers = ReaderServiceClient::new(edge.calls());
    let mut schools = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListSchoolsRequest { page_size: 500, page_token };
        let page = readers.list_schools(edge.request(request, &visit.caller)).await?.into_inner();
        schools.extend(page.schools.into_iter().map(|school| School { id: school.id, name: school.name }));
        if page.next_page_token.is_empty() {
            return Ok(schools);
        }
        page_token = page.next_page_token;
    }
}

/// `GET /school?next=…`: the schools to choose from.
#[derive(Debug, Default, Deserialize)]
pub struct ChooseQuery {
    #[serde(default)]
    next: String,
}

/// `GET /school`: "Which school's library are you at?", one button per school.
#[derive(Debug, Clone, Template)]
#[template(path = "school.html")]
pub struct SchoolPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub schools: Vec<School>,
    /// The school chosen now, if any.
    pub current: String,
    pub next: String,
}

/// `GET /school`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<ChooseQuery>) -> Response {
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    if principal.kind != SubjectKind::Staff {
        return error_page(&edge, &visit, StatusCode::FORBIDDEN, "desk.staff_only_title", "desk.staff_only");
    }
    let schools = match schools_of(&edge, &visit, &principal).await {
        Ok(schools) => schools,
        Err(status) => {
            let text = super::signin::refusal_text(&visit, &status);
            let page = SchoolPage {
                shell: visit.shell(),
                errors: vec![FieldMessage::summary(text)],
                schools: Vec::new(),
                current: String::new(),
                next: query.next,
            };
            return visit.finish(&edge, render(&page, super::signin::status_of(&status)));
        }
    };
    let current = cookie(&visit.headers, SCHOOL_COOKIE).unwrap_or_default().to_owned();
    let mut shell = visit.shell();
    shell.desk = Some(DeskBar {
        section: Section::School,
        school: schools
            .iter()
            .find(|school| school.id == current)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        can_change_school: false,
        who: visit.label(),
    });
    let page = SchoolPage { shell, errors: Vec::new(), schools, current, next: query.next };
    visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The school form.
#[derive(Debug, Default, Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    school: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /school`: remembers the school in this browser and goes on.
pub async fn choose(State(edge): State<Edge>, visit: Visit, Form(form): Form<ChooseForm>) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return visit.csrf_refused(&edge);
    }
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    // Only a school the person may stand in is remembered (the id goes
    // into a cookie, so nothing else may).
    let allowed = principal.kind == SubjectKind::Staff
        && schools_of(&edge, &visit, &principal)
            .await
            .is_ok_and(|schools| schools.iter().any(|school| school.id == form.school));
    if !allowed {
        return error_page(
            &edge,
            &visit,
            StatusCode::FORBIDDEN,
            "desk.staff_only_title",
            "reason.SCHOOL_NOT_ALLOWED",
        );
    }
    let next = if form.next.is_empty() { "/" } else { local_path(&form.next) };
    remembered(&edge, Redirect::to(next), SCHOOL_COOKIE, &form.school)
}
