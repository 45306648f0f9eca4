//! Synthetic bibliographic data for benchmarks and tests: mixed Chinese and
//! English titles built from common title words, with authors, subjects,
//! classes, audience ranges and ISBNs ([`draft`]), and MARC files of such
//! titles ([`marc`]). The same seed gives the same titles.
//!
//! A crate of its own so that no service binary carries it: `lectern bench`
//! writes these titles into a catalog database (`lectern::bench::district`)
//! and times the MARC import with [`marc::file`], and the catalog's import
//! tests use the same files as a dev-dependency. It knows nothing of any
//! service or database, so a service crate can depend on it for its tests
//! without a cycle.

pub mod marc;
mod words;

use std::sync::LazyLock;

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The word lists, split.
struct Lists {
    zh_words: Vec<&'static str>,
    en_words: Vec<&'static str>,
    zh_surnames: Vec<&'static str>,
    zh_given: Vec<&'static str>,
    en_given: Vec<&'static str>,
    en_family: Vec<&'static str>,
    zh_subjects: Vec<&'static str>,
    en_subjects: Vec<&'static str>,
    publishers: Vec<&'static str>,
    clc: Vec<&'static str>,
    dewey: Vec<&'static str>,
}

impl Lists {
    fn new() -> Self {
        let split = |text: &'static str| text.split_whitespace().collect::<Vec<_>>();
        Self {
            zh_words: split(words::ZH_WORDS),
            en_words: split(words::EN_WORDS),
            zh_surnames: split(words::ZH_SURNAMES),
            zh_given: split(words::ZH_GIVEN),
            en_given: split(words::EN_GIVEN),
            en_family: split(words::EN_FAMILY),
            zh_subjects: split(words::ZH_SUBJECTS),
            en_subjects: split(words::EN_SUBJECTS),
            publishers: split(words::PUBLISHERS),
            clc: split(words::CLC_CLASSES),
            dewey: split(words::DEWEY_CLASSES),
        }
    }
}

/// The word lists, split once.
fn lists() -> &'static Lists {
    static LISTS: LazyLock<Lists> = LazyLock::new(Lists::new);
    &LISTS
}

/// Common Chinese title words (for building benchmark queries).
pub fn zh_words() -> Vec<&'static str> {
    words::ZH_WORDS.split_whitespace().collect()
}

/// Common English title words (for building benchmark queries).
pub fn en_words() -> Vec<&'static str> {
    words::EN_WORDS.split_whitespace().collect()
}

/// An ISBN-13 from its first twelve digits.
pub fn isbn13(first_twelve: &str) -> String {
    let sum: u32 = first_twelve
        .bytes()
        .enumerate()
        .map(|(index, digit)| u32::from(digit - b'0') * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{first_twelve}{}", (10 - sum % 10) % 10)
}

/// A publisher's name.
pub fn publisher(rng: &mut StdRng) -> &'static str {
    pick(rng, &lists().publishers)
}

/// Everything about one drawn title that a catalog stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleDraft {
    pub title: String,
    pub subtitle: String,
    pub series: String,
    /// Authors, first one first.
    pub names: Vec<String>,
    pub subjects: Vec<String>,
    /// `zh` or `en`.
    pub language: &'static str,
    /// CLC (中图法) class, or empty.
    pub clc: &'static str,
    /// Dewey class, or empty.
    pub dewey: &'static str,
    /// Lowest and highest school grade.
    pub audience: Option<(i32, i32)>,
}

fn zh_name(rng: &mut StdRng, lists: &Lists) -> String {
    let mut name = (*lists.zh_surnames.choose(rng).unwrap_or(&"王")).to_owned();
    for _ in 0..rng.gen_range(1..=2) {
        name.push_str(lists.zh_given.choose(rng).unwrap_or(&"明"));
    }
    name
}

fn en_name(rng: &mut StdRng, lists: &Lists) -> String {
    format!("{} {}", capitalized(pick(rng, &lists.en_given)), capitalized(pick(rng, &lists.en_family)))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn pick(rng: &mut StdRng, list: &[&'static str]) -> &'static str {
    list.choose(rng).copied().unwrap_or("")
}

/// A Chinese title of one to four common title words (`森林的秘密`).
fn zh_title(rng: &mut StdRng, lists: &Lists) -> String {
    let words: Vec<&str> = (0..rng.gen_range(1..=4)).map(|_| pick(rng, &lists.zh_words)).collect();
    if words.len() > 2 && rng.gen_bool(0.3) {
        format!("{}的{}", words[..1].concat(), words[1..].concat())
    } else {
        words.concat()
    }
}

/// An English title of two to five capitalized title words.
fn en_title(rng: &mut StdRng, lists: &Lists) -> String {
    let words: Vec<String> =
        (0..rng.gen_range(2..=5)).map(|_| capitalized(pick(rng, &lists.en_words))).collect();
    words.join(" ")
}

/// Draws a title: three in five Chinese, the rest English.
pub fn draft(rng: &mut StdRng) -> TitleDraft {
    let lists = lists();
    if rng.gen_bool(0.6) {
        let title = zh_title(rng, lists);
        let series =
            if rng.gen_bool(0.1) { format!("{}系列", pick(rng, &lists.zh_words)) } else { String::new() };
        let subtitle = if rng.gen_bool(0.15) {
            (0..2).map(|_| pick(rng, &lists.zh_words)).collect()
        } else {
            String::new()
        };
        let names = (0..rng.gen_range(1..=2)).map(|_| zh_name(rng, lists)).collect();
        let subjects = (0..rng.gen_range(1..=2)).map(|_| pick(rng, &lists.zh_subjects).to_owned()).collect();
        let clc = pick(rng, &lists.clc);
        let audience = rng.gen_bool(0.7).then(|| {
            let min = rng.gen_range(0..=9);
            (min, (min + rng.gen_range(0..=3)).min(12))
        });
        TitleDraft { title, subtitle, series, names, subjects, language: "zh", clc, dewey: "", audience }
    } else {
        let title = en_title(rng, lists);
        let names = (0..rng.gen_range(1..=2)).map(|_| en_name(rng, lists)).collect();
        let subjects =
            (0..rng.gen_range(1..=2)).map(|_| capitalized(pick(rng, &lists.en_subjects))).collect();
        let dewey = pick(rng, &lists.dewey);
        let clc = if rng.gen_bool(0.3) { pick(rng, &lists.clc) } else { "" };
        let audience = rng.gen_bool(0.7).then(|| {
            let min = rng.gen_range(0..=9);
            (min, (min + rng.gen_range(0..=3)).min(12))
        });
        TitleDraft {
            title,
            subtitle: String::new(),
            series: String::new(),
            names,
            subjects,
            language: "en",
            clc,
            dewey,
            audience,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn generated_isbns_are_valid() {
        for number in [0_u64, 1, 99_999_999] {
            for prefix in ["9787", "9780", "9791"] {
                let isbn = isbn13(&format!("{prefix}{number:08}"));
                assert!(lectern_biblio::isbn::Isbn::parse(&isbn).is_ok(), "{isbn}");
            }
        }
    }

    #[test]
    fn drafts_mix_languages() {
        let mut rng = StdRng::seed_from_u64(7);
        let drafts: Vec<TitleDraft> = (0..200).map(|_| draft(&mut rng)).collect();
        assert!(drafts.iter().any(|draft| draft.language == "zh"));
        assert!(drafts.iter().any(|draft| draft.language == "en"));
        assert!(drafts.iter().all(|draft| !draft.title.is_empty() && !draft.names.is_empty()));
    }

    #[test]
    fn the_same_seed_draws_the_same_titles() {
        let draw = || -> Vec<TitleDraft> {
            let mut rng = StdRng::seed_from_u64(2026);
            (0..20).map(|_| draft(&mut rng)).collect()
        };
        assert_eq!(draw(), draw());
    }
}
