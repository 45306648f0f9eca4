//! What the catalog says, in words: a search hit with its availability
//! per school ("本校在架 2 本，共 3 本"), a title's facts, its copies by
//! school with where each one is. Plain functions over the protos' types,
//! so the wording is tested without a server.

use lectern_proto::catalog::v1::{
    Availability, ContributorRole, Copy, CopyStatus, SchoolAvailability, SearchHit, Title,
};

use super::title_href;
use crate::pages::i18n::{Lang, format, text};
use crate::pages::school::School;

/// One title found, as the results list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hit {
    pub href: String,
    pub title: String,
    pub subtitle: String,
    /// Contributors, publisher and year in one line.
    pub byline: String,
    /// The desk's own school, in words ("本校在架 2 本，共 3 本").
    pub here: String,
    /// Whether a copy is on the shelf here (the line is marked).
    pub here_on_shelf: bool,
    /// Each other school holding copies, in words.
    pub elsewhere: Vec<String>,
}

/// The schools of the district by name, for copies held elsewhere; the
/// desk's own list if the reader service cannot say.
pub struct Names(pub Vec<School>);

impl Names {
    pub fn name(&self, lang: Lang, id: &str) -> String {
        self.0
            .iter()
            .find(|school| school.id == id)
            .map_or_else(|| text(lang, "search.other_school").to_owned(), |school| school.name.clone())
    }
}

/// Copies a school can lend, now or later (not those out of circulation).
fn in_circulation(counts: &SchoolAvailability) -> i32 {
    counts.on_shelf + counts.on_loan + counts.on_hold_shelf + counts.in_transit
}

/// A search hit in words, the desk's school first.
pub fn hit_view(lang: Lang, hit: &SearchHit, here: &str, names: &Names, query: &str) -> Hit {
    let title = hit.title.clone().unwrap_or_default();
    let counts =
        |counts: &SchoolAvailability| [counts.on_shelf.to_string(), in_circulation(counts).to_string()];
    let here_counts = hit.schools.iter().find(|counts| counts.school_id == here);
    let here_text = match here_counts {
        Some(c) if in_circulation(c) > 0 => {
            let [on_shelf, total] = counts(c);
            format(lang, "search.here_some", &[("on_shelf", &on_shelf), ("total", &total)])
        }
        Some(c) if c.not_loanable > 0 => {
            format(lang, "search.here_out", &[("count", &c.not_loanable.to_string())])
        }
        _ => text(lang, "search.here_none").to_owned(),
    };
    let elsewhere = hit
        .schools
        .iter()
        .filter(|c| c.school_id != here && in_circulation(c) > 0)
        .map(|c| {
            let [on_shelf, total] = counts(c);
            let school = names.name(lang, &c.school_id);
            format(lang, "search.there", &[("school", &school), ("on_shelf", &on_shelf), ("total", &total)])
        })
        .collect();
    Hit {
        href: title_href(&title.id, query),
        byline: byline(lang, &title),
        here: here_text,
        here_on_shelf: here_counts.is_some_and(|c| c.on_shelf > 0),
        elsewhere,
        title: title.title,
        subtitle: title.subtitle,
    }
}

/// Contributors with what they did, joined as the language writes lists.
fn contributors(lang: Lang, title: &Title) -> String {
    let names: Vec<String> = title
        .contributors
        .iter()
        .map(|c| {
            let role = match ContributorRole::try_from(c.role).unwrap_or(ContributorRole::Author) {
                ContributorRole::Translator => "search.role.translator",
                ContributorRole::Illustrator => "search.role.illustrator",
                ContributorRole::Editor => "search.role.editor",
                ContributorRole::Author | ContributorRole::Unspecified => "search.role.author",
            };
            format(lang, role, &[("name", &c.name)])
        })
        .collect();
    names.join(text(lang, "search.separator"))
}

/// Contributors, publisher and year in one line (also the portal's).
pub fn byline(lang: Lang, title: &Title) -> String {
    let year = (title.publication_year > 0).then(|| title.publication_year.to_string());
    [Some(contributors(lang, title)), Some(title.publisher.clone()), year]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One line of the title's facts: label and value, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// The copies one school holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyGroup {
    pub school: String,
    /// Whether it is the desk's school.
    pub here: bool,
    /// "在架 2 本，共 3 本".
    pub count: String,
    pub copies: Vec<CopyLine>,
}

/// One copy, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyLine {
    pub barcode: String,
    pub location: String,
    pub call_number: String,
    pub status: String,
    /// Whether it is on the shelf now (the status is marked).
    pub on_shelf: bool,
}

/// The title's facts a librarian needs, leaving out what is not known.
pub fn facts(lang: Lang, title: &Title) -> Vec<Fact> {
    let year = if title.publication_year > 0 { title.publication_year.to_string() } else { String::new() };
    let pages = if title.pages > 0 {
        format(lang, "search.book.pages_value", &[("pages", &title.pages.to_string())])
    } else {
        String::new()
    };
    [
        ("search.book.contributors", contributors(lang, title)),
        ("search.book.publisher", title.publisher.clone()),
        ("search.book.year", year),
        ("search.book.edition", title.edition.clone()),
        ("search.book.series", title.series.clone()),
        ("search.book.pages", pages),
        ("search.book.isbn", title.isbn13.clone()),
        ("search.book.clc", title.clc.clone()),
        ("search.book.dewey", title.dewey.clone()),
        ("search.book.call_number", title.call_number.clone()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(label, value)| Fact { label: text(lang, label).to_owned(), value })
    .collect()
}

/// Where a copy is, in words: its lifecycle status when it is out of
/// circulation, else whether it is on the shelf, on loan (until when) …
fn copy_status(lang: Lang, copy: &Copy, zone: chrono_tz::Tz) -> String {
    let id = match CopyStatus::try_from(copy.status).unwrap_or(CopyStatus::Unspecified) {
        CopyStatus::Available => {
            match Availability::try_from(copy.availability).unwrap_or(Availability::Unspecified) {
                Availability::OnShelf => "search.status.on_shelf",
                Availability::OnLoan => {
                    let day = crate::pages::format::day_of(lang, copy.due_at.as_ref(), zone);
                    if day.is_empty() {
                        "search.status.on_loan"
                    } else {
                        return format(lang, "search.status.on_loan_due", &[("day", &day)]);
                    }
                }
                Availability::OnHoldShelf => "search.status.on_hold_shelf",
                Availability::InTransit => "search.status.in_transit",
                Availability::NotLoanable | Availability::Unspecified => "search.status.unknown",
            }
        }
        CopyStatus::InProcess => "search.status.in_process",
        CopyStatus::Damaged => "search.status.damaged",
        CopyStatus::InRepair => "search.status.in_repair",
        CopyStatus::Missing => "search.status.missing",
        CopyStatus::Lost => "search.status.lost",
        CopyStatus::Withdrawn => "search.status.withdrawn",
        CopyStatus::Unspecified => "search.status.unknown",
    };
    text(lang, id).to_owned()
}

fn is_on_shelf(copy: &Copy) -> bool {
    copy.status == CopyStatus::Available as i32 && copy.availability == Availability::OnShelf as i32
}

/// The copies by school: the desk's school first, then the others by name;
/// within a school by call number and barcode.
pub fn copy_groups(
    lang: Lang,
    copies: &[Copy],
    here: &str,
    names: &Names,
    zone: chrono_tz::Tz,
) -> Vec<CopyGroup> {
    let mut schools: Vec<&str> = Vec::new();
    for copy in copies {
        if !schools.contains(&copy.school_id.as_str()) {
            schools.push(&copy.school_id);
        }
    }
    let mut groups: Vec<(bool, String, Vec<&Copy>)> = schools
        .into_iter()
        .map(|id| (id == here, names.name(lang, id), copies.iter().filter(|c| c.school_id == id).collect()))
        .collect();
    groups.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    groups
        .into_iter()
        .map(|(here, school, mut copies)| {
            copies.sort_by(|a, b| (&a.call_number, &a.barcode).cmp(&(&b.call_number, &b.barcode)));
            let lendable = copies.iter().filter(|c| c.status == CopyStatus::Available as i32).count();
            let on_shelf = copies.iter().filter(|c| is_on_shelf(c)).count();
            let (on_shelf, total, out) =
                (on_shelf.to_string(), lendable.to_string(), (copies.len() - lendable).to_string());
            let count = if copies.len() == lendable {
                format(lang, "search.copy.count", &[("on_shelf", &on_shelf), ("total", &total)])
            } else {
                let values = [("on_shelf", on_shelf.as_str()), ("total", &total), ("out", &out)];
                format(lang, "search.copy.count_out", &values)
            };
            let copies = copies
                .into_iter()
                .map(|copy| CopyLine {
                    barcode: copy.barcode.clone(),
                    location: if copy.location_name.is_empty() {
                        text(lang, "search.copy.no_location").to_owned()
                    } else {
                        copy.location_name.clone()
                    },
                    call_number: copy.call_number.clone(),
                    status: copy_status(lang, copy, zone),
                    on_shelf: is_on_shelf(copy),
                })
                .collect();
            CopyGroup { school, here, count, copies }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::search::tests::{charlotte, copies, counts, names};

    const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn a_hit_says_here_first_then_each_other_school() {
        let hit = SearchHit {
            title: Some(charlotte()),
            schools: vec![counts("s-mid", 1, 0, 0), counts("s-pri", 2, 1, 1), counts("s-gone", 0, 0, 2)],
            ..SearchHit::default()
        };
        let zh = hit_view(Lang::ZhCn, &hit, "s-pri", &names(), "white");
        assert_eq!(zh.here, "本校在架 2 本，共 3 本");
        assert!(zh.here_on_shelf);
        assert_eq!(zh.elsewhere, vec!["徐汇区第二中学在架 1 本，共 1 本".to_owned()]);
        assert_eq!(zh.byline, "E. B. White 著；Garth Williams 绘 · HarperCollins · 2012");
        assert_eq!(zh.href, "/titles/0193a4b2-7c1d-7e00-8000-000000000001?q=white");
        let en = hit_view(Lang::En, &hit, "s-mid", &names(), "");
        assert_eq!(en.here, "Here: 1 of 1 on the shelf");
        assert_eq!(en.elsewhere, vec!["徐汇区实验小学: 2 of 3 on the shelf".to_owned()]);
        assert_eq!(en.byline, "E. B. White; Garth Williams (illustrator) · HarperCollins · 2012");
        let none = hit_view(Lang::En, &hit, "s-other", &names(), "");
        assert_eq!((none.here.as_str(), none.here_on_shelf), ("Not held here", false));
        let out = SearchHit { schools: vec![counts("s-pri", 0, 0, 2)], ..hit };
        assert_eq!(hit_view(Lang::ZhCn, &out, "s-pri", &names(), "").here, "本校有 2 本，但现在都不能外借");
    }

    #[test]
    fn copies_are_grouped_by_school_with_the_desk_first_and_worded() {
        let groups = copy_groups(Lang::ZhCn, &copies(), "s-pri", &names(), ZONE);
        assert_eq!(
            groups.iter().map(|g| (g.school.as_str(), g.here)).collect::<Vec<_>>(),
            [("徐汇区实验小学", true), ("徐汇区第二中学", false)]
        );
        assert_eq!(groups[0].count, "在架 1 本，共 2 本；另有 1 本不能外借");
        let here: Vec<_> = groups[0].copies.iter().map(|c| (c.barcode.as_str(), c.status.as_str())).collect();
        assert_eq!(here, [("P000101", "在架"), ("P000102", "借出，12月21日 周一到期"), ("P000103", "破损")]);
        assert_eq!(groups[1].copies[1].location, "未指定");
        assert_eq!(groups[1].copies[1].status, "已丢失");
        let en = copy_groups(Lang::En, &copies(), "s-mid", &names(), ZONE);
        assert_eq!(en[0].school, "徐汇区第二中学");
        assert_eq!(en[1].copies[1].status, "On loan, due Mon 21 Dec");
        assert!(copy_groups(Lang::En, &[], "s-pri", &names(), ZONE).is_empty());
    }

    #[test]
    fn facts_leave_out_what_is_not_known() {
        let zh = facts(Lang::ZhCn, &charlotte());
        let zh: Vec<_> = zh.iter().map(|f| (f.label.as_str(), f.value.as_str())).collect();
        assert_eq!(
            zh,
            [
                ("著者", "E. B. White 著；Garth Williams 绘"),
                ("出版社", "HarperCollins"),
                ("出版年", "2012"),
                ("ISBN", "9780064400558"),
                ("中图法分类号", "I712.84"),
                ("索书号", "I712.84/W58")
            ]
        );
    }
}
