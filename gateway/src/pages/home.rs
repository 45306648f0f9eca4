//! `/`: the start page. For staff, the desk's school today at a glance —
//! loans and returns today, what is out and overdue, the holds waiting on
//! the hold shelf or to be pulled, the copies travelling — each number
//! linking to the list behind it where there is one. Readers and devices
//! signed in get their account page (`whoami`), as does everyone at
//! `/account`; visitors who are not signed in go to the sign-in page.
//!
//! The numbers are `LoanService.GetDeskStatistics`, counted by circulation
//! when asked; the page adds nothing of its own.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;
use lectern_core::identity::SubjectKind;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{DeskStatistics, GetDeskStatisticsRequest};

use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::views::{FieldMessage, Notice, Shell};
use super::whoami::{self, HomeQuery};
use super::{Visit, format, render};
use crate::http::Edge;

/// The routes of this screen besides `/` itself (which `super::router`
/// points at [`show`]).
pub fn routes() -> Router<Edge> {
    Router::new().route("/account", get(whoami::show))
}

/// One number on the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// The catalogue id of its label.
    pub label: &'static str,
    pub count: i32,
    /// The list behind it; empty when there is none.
    pub href: &'static str,
}

impl Figure {
    /// Whether the number asks for attention (overdue books, holds to pull).
    pub fn urgent(&self) -> bool {
        self.count > 0 && matches!(self.label, "home.overdue" | "home.holds_to_pull")
    }
}

/// Numbers that belong together, under a heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureGroup {
    /// The catalogue id of its heading.
    pub heading: &'static str,
    pub figures: Vec<Figure>,
}

impl FigureGroup {
    /// The numbers of `statistics`, in the order the desk reads them: the
    /// day's work, what is out, the holds, the travelling copies.
    pub fn all(statistics: &DeskStatistics) -> Vec<FigureGroup> {
        let s = statistics;
        // (heading, [(label, count, list behind it)]): one row a group.
        let table = [
            (
                "home.group.today",
                [("home.loans_today", s.loans_today, ""), ("home.returns_today", s.returns_today, "")],
            ),
            (
                "home.group.out",
                [("home.on_loan", s.on_loan, ""), ("home.overdue", s.overdue, "/lists/overdue")],
            ),
            (
                "home.group.holds",
                [
                    ("home.holds_ready", s.holds_ready, "/lists/hold-shelf"),
                    ("home.holds_to_pull", s.holds_to_pull, "/lists/pull"),
                ],
            ),
            (
                "home.group.transit",
                [
                    ("home.in_transit_to", s.in_transit_to, "/lists/transits#incoming"),
                    ("home.in_transit_from", s.in_transit_from, "/lists/transits#outgoing"),
                ],
            ),
        ];
        table
            .into_iter()
            .map(|(heading, figures)| FigureGroup {
                heading,
                figures: figures
                    .into_iter()
                    .map(|(label, count, href)| Figure { label, count, href })
                    .collect(),
            })
            .collect()
    }
}

/// `GET /` for staff.
#[derive(Debug, Clone, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub school: String,
    /// The day the numbers count, in words; empty when they could not be read.
    pub day: String,
    pub groups: Vec<FigureGroup>,
}

/// `GET /`: the desk's day for staff, the account page for readers and
/// devices, the sign-in page for visitors.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<HomeQuery>) -> Response {
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    if principal.kind != SubjectKind::Staff {
        return whoami::show(State(edge), visit, Query(query)).await;
    }
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut shell = desk.shell(Section::Home);
    if query.password_changed.is_some() {
        shell.notice = Some(Notice::success(desk.text("password.changed")));
    }
    let request = GetDeskStatisticsRequest { school_id: desk.school.id.clone() };
    let answer = LoanServiceClient::new(edge.calls()).get_desk_statistics(desk.request(&edge, request)).await;
    let page = match answer {
        Ok(statistics) => {
            let statistics = statistics.into_inner();
            HomePage {
                shell,
                errors: Vec::new(),
                school: desk.school.name.clone(),
                day: format::day(desk.visit.lang, &statistics.day),
                groups: FigureGroup::all(&statistics),
            }
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "the home page cannot read the desk's numbers");
            let page = HomePage {
                shell,
                errors: vec![FieldMessage::summary(refusal_text(&desk.visit, &status))],
                school: desk.school.name.clone(),
                day: String::new(),
                groups: Vec::new(),
            };
            return desk.visit.finish(&edge, render(&page, status_of(&status)));
        }
    };
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::i18n::{Lang, text};
    use crate::pages::school::DeskBar;
    use crate::pages::views::testing;

    /// The frame of the desk at the home section.
    fn shell(lang: Lang) -> Shell {
        let desk = DeskBar {
            section: Section::Home,
            school: "徐汇区实验小学".to_owned(),
            can_change_school: true,
            who: "xh-librarian".to_owned(),
        };
        Shell { signed_in: true, desk: Some(desk), ..testing::shell(lang) }
    }

    /// `text` as the page writes it (askama escapes quotes and apostrophes).
    fn html_of(text: &str) -> String {
        text.replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;")
    }

    fn statistics() -> DeskStatistics {
        DeskStatistics {
            school_id: "school-1".to_owned(),
            day: "2026-12-21".to_owned(),
            loans_today: 37,
            returns_today: 29,
            on_loan: 412,
            overdue: 4,
            holds_ready: 3,
            holds_to_pull: 2,
            in_transit_to: 1,
            in_transit_from: 0,
        }
    }

    /// The house rules of every page, and the home page's one h1.
    fn check_page(html: &str, lang: Lang) {
        testing::check_page(html, lang);
        assert_eq!(html.matches("<h1").count(), 1);
    }

    #[test]
    fn home_shows_the_days_numbers_in_both_languages() {
        for lang in Lang::ALL {
            let page = HomePage {
                shell: shell(lang),
                errors: Vec::new(),
                school: "徐汇区实验小学".to_owned(),
                day: format::day(lang, "2026-12-21"),
                groups: FigureGroup::all(&statistics()),
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            for id in [
                "home.title",
                "home.loans_today",
                "home.returns_today",
                "home.on_loan",
                "home.overdue",
                "home.holds_ready",
                "home.holds_to_pull",
                "home.in_transit_to",
                "home.in_transit_from",
                "home.account",
                "nav.home",
            ] {
                assert!(html.contains(&html_of(text(lang, id))), "{id} in {}", lang.tag());
            }
            assert!(html.contains(&format::day(lang, "2026-12-21")));
            assert!(html.contains("徐汇区实验小学"));
            for number in ["37", "29", "412"] {
                assert!(html.contains(&format!(">{number}<")), "{number}");
            }
            assert!(html.contains(r#"href="/lists/overdue""#));
            assert!(html.contains(r#"href="/lists/pull""#));
            assert!(html.contains(r#"href="/lists/hold-shelf""#), "the hold shelf behind its number");
            assert!(html.contains(r##"href="/lists/transits#incoming""##));
            assert!(html.contains(r#"href="/account""#));
            assert!(html.contains(r#"aria-current="page">"#), "the bar marks Today");
            assert!(!html.contains("error-summary"));
        }
        let html = HomePage {
            shell: shell(Lang::ZhCn),
            errors: Vec::new(),
            school: "徐汇区实验小学".to_owned(),
            day: format::day(Lang::ZhCn, "2026-12-21"),
            groups: FigureGroup::all(&statistics()),
        }
        .render()
        .unwrap();
        assert!(html.contains("12月21日 周一"));
        assert!(html.contains("逾期"));
    }

    #[test]
    fn home_says_why_when_the_numbers_cannot_be_read() {
        for lang in Lang::ALL {
            let page = HomePage {
                shell: shell(lang),
                errors: vec![FieldMessage::summary(text(lang, "error.unavailable"))],
                school: "徐汇区实验小学".to_owned(),
                day: String::new(),
                groups: Vec::new(),
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            assert!(html.contains("error-summary"));
            assert!(html.contains(&html_of(text(lang, "error.unavailable"))));
            assert!(!html.contains("home-figure"), "no numbers without an answer");
            assert!(html.contains(r#"href="/account""#));
        }
    }

    #[test]
    fn only_overdue_and_pull_ask_for_attention() {
        let figures = |statistics| -> Vec<Figure> {
            FigureGroup::all(&statistics).into_iter().flat_map(|group| group.figures).collect()
        };
        let busy = figures(statistics());
        let urgent: Vec<_> = busy.iter().filter(|figure| figure.urgent()).map(|f| f.label).collect();
        assert_eq!(urgent, ["home.overdue", "home.holds_to_pull"]);
        let quiet = figures(DeskStatistics::default());
        assert!(quiet.iter().all(|figure| !figure.urgent()));
        assert_eq!(quiet.len(), 8);
    }
}
