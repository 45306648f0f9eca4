//! What a title is indexed under, and which index entries a query looks up
//! (decision record 0004). Pure functions: no database here.
//!
//! Text is lower-cased first. Then it splits into runs:
//!
//! - an *ideograph run* (Chinese characters, kana, hangul) is indexed by
//!   every two-character window (`森林报` → `森林`, `林报`) plus its last
//!   character followed by [`RUN_END`] (`报 `), so every character of the
//!   run starts at least one entry and a one-character query is a prefix
//!   range over entries;
//! - a *word* (letters and digits of other scripts: `charlotte`, `2024`) is
//!   indexed whole and by its prefixes of [`PREFIX_CHARS`] characters
//!   (`cha`, `charl`), so a query word of three or more characters is one
//!   exact look-up of its longest stored prefix (`char` looks up `cha`,
//!   `charlott` looks up `charl`) and the substring check decides the rest;
//! - anything else (spaces, punctuation, `·`, `'`) separates runs.
//!
//! The terms of the title proper are stored a second time with
//! [`TITLE_MARK`] in front (`^charlotte`): the title ranks of a search read
//! only the titles whose title proper has the query's look-ups, not every
//! title that has them in any field (an author's name is in thousands of
//! titles and in the title of none).
//!
//! The index only narrows the candidates: the database then checks that
//! each space-separated part of the query is a substring of the searched
//! field, so two-character windows never produce false hits.

use std::collections::BTreeSet;

/// Appended to the last character of an ideograph run, so that each
/// character starts an entry. A space never occurs inside a run, and sorts
/// before every ideograph.
pub const RUN_END: char = ' ';
/// Longest word stored, in characters; longer words are cut (a query word
/// that long still matches through the prefix range).
pub const MAX_WORD_CHARS: usize = 32;
/// Most index pieces one query looks up; further pieces are left to the
/// substring check.
pub const MAX_QUERY_PIECES: usize = 6;
/// The word prefixes stored, in characters, shortest first. A query word
/// shorter than the first (`go`, `a`) is a range of entries instead of one;
/// a longer one looks up its longest stored prefix. Every stored prefix is
/// one more B-tree insert per word for every title imported, so only every
/// other length is stored: a four-letter query word reads the entries of
/// its three-letter prefix instead of its own (decision record 0004).
pub const PREFIX_CHARS: [usize; 2] = [3, 5];

/// Put in front of the terms of the title proper, which are stored a
/// second time marked so. Never part of a term: it is neither a letter, a
/// digit nor an ideograph.
pub const TITLE_MARK: char = '^';

/// Whether `character` belongs to a script written without spaces between
/// words (searched by two-character windows).
pub fn is_ideograph(character: char) -> bool {
    matches!(u32::from(character),
        0x2E80..=0x2FDF      // CJK and Kangxi radicals
        | 0x3040..=0x30FF    // hiragana, katakana
        | 0x3100..=0x312F    // bopomofo
        | 0x3190..=0x31FF    // kanbun, bopomofo extended, CJK strokes, katakana ext.
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3FFFF) // CJK extensions B–H
}

/// Whether `character` is part of a word (letters and digits that are not
/// ideographs).
pub fn is_word_char(character: char) -> bool {
    character.is_alphanumeric() && !is_ideograph(character)
}

/// A run of `text`: an ideograph run or a word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Ideographs(Vec<char>),
    Word(String),
}

/// Splits lower-cased text into runs, dropping separators.
fn runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut current: Option<Run> = None;
    for character in text.chars() {
        let next_kind = if is_ideograph(character) {
            Some(true)
        } else if is_word_char(character) {
            Some(false)
        } else {
            None
        };
        match (&mut current, next_kind) {
            (Some(Run::Ideographs(chars)), Some(true)) => chars.push(character),
            (Some(Run::Word(word)), Some(false)) => word.push(character),
            (_, kind) => {
                runs.extend(current.take());
                current = match kind {
                    Some(true) => Some(Run::Ideographs(vec![character])),
                    Some(false) => Some(Run::Word(character.to_string())),
                    None => None,
                };
            }
        }
    }
    runs.extend(current);
    runs
}

/// The index entries of one piece of lower-cased text (a title, a name, a
/// subject): two-character windows of ideograph runs, each run's last
/// character with [`RUN_END`], and words whole (cut at [`MAX_WORD_CHARS`])
/// and by their prefixes of [`PREFIX_CHARS`] characters.
pub fn index_terms(text: &str, terms: &mut BTreeSet<String>) {
    for run in runs(text) {
        match run {
            Run::Ideographs(chars) => {
                for window in chars.windows(2) {
                    terms.insert(window.iter().collect());
                }
                if let Some(last) = chars.last() {
                    terms.insert(format!("{last}{RUN_END}"));
                }
            }
            Run::Word(word) => {
                let length = word.chars().count();
                for prefix_length in PREFIX_CHARS.into_iter().filter(|&prefix_length| prefix_length < length)
                {
                    terms.insert(word.chars().take(prefix_length).collect());
                }
                terms.insert(word.chars().take(MAX_WORD_CHARS).collect());
            }
        }
    }
}

/// `term` as an entry of a title proper: with [`TITLE_MARK`] in front.
pub fn in_title(term: &str) -> String {
    format!("{TITLE_MARK}{term}")
}

/// Adds the marked entries of a title proper (already lower-cased): its
/// [`index_terms`], each [`in_title`].
pub fn title_proper_terms(title_key: &str, terms: &mut BTreeSet<String>) {
    let mut plain = BTreeSet::new();
    index_terms(title_key, &mut plain);
    terms.extend(plain.iter().map(|term| in_title(term)));
}

/// Whether lower-cased `text` has an entry for each exact look-up of
/// `pieces`: how a title proper is told to have the look-ups of a query
/// (see [`crate::search::Rank::of`]). A prefix look-up (a one-character
/// ideograph run, a one- or two-letter word) is not required of it:
/// [`query_pieces`] never mixes one with other look-ups, and its title
/// ranks read all entries.
pub fn text_has_pieces(text: &str, pieces: &[Piece]) -> bool {
    let mut terms = BTreeSet::new();
    index_terms(text, &mut terms);
    pieces.iter().all(|piece| match piece {
        Piece::Exact(term) => terms.contains(term),
        Piece::Prefix(_) => true,
    })
}

/// One index look-up of a query.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Piece {
    /// Titles with exactly this entry (a two-character window).
    Exact(String),
    /// Titles with an entry starting with this text: a range from the text
    /// (inclusive) to [`prefix_end`] (exclusive).
    Prefix(String),
}

impl Piece {
    /// The same look-up among the marked entries of titles proper.
    pub fn in_title(&self) -> Self {
        match self {
            Self::Exact(term) => Self::Exact(in_title(term)),
            Self::Prefix(prefix) => Self::Prefix(in_title(prefix)),
        }
    }

    /// How many titles the piece is likely to leave: longer is narrower.
    /// One-character prefixes match a large part of any catalog.
    fn strength(&self) -> usize {
        match self {
            Self::Exact(term) => 2 * term.chars().count(),
            Self::Prefix(text) => {
                let length = text.chars().count();
                if length <= 1 { 0 } else { 2 * length - 1 }
            }
        }
    }
}

/// The exclusive upper end of the range of entries starting with `prefix`:
/// the prefix with its last character replaced by the next code point.
/// Both databases compare these columns by code point (SQLite `BINARY`,
/// PostgreSQL `COLLATE "C"` on UTF-8), so the range is the same on both.
/// `None` when no such string exists (the last character is the highest).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut code = u32::from(last) + 1;
        // Skip the surrogate gap, which holds no characters.
        if (0xD800..=0xDFFF).contains(&code) {
            code = 0xE000;
        }
        if let Some(next) = char::from_u32(code) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The look-ups for a lower-cased query: the two-character windows of its
/// ideograph runs, words as the exact entry of their longest stored prefix
/// ([`PREFIX_CHARS`]), and one-character runs and words shorter than every
/// stored prefix as prefixes (ranges of entries).
///
/// Every window is looked up when there are at most [`MAX_QUERY_PIECES`]
/// look-ups: a window across two common words (`林王` in `森林王国`) is
/// often far rarer than either word, and the search drives from the rarest.
/// A longer query looks up a covering subset (windows 1–2, 3–4, …, and the
/// last one), cut at [`MAX_QUERY_PIECES`], strongest first. Prefixes are
/// dropped when the query has an exact look-up (the substring check covers
/// them); without one, only the strongest prefix is looked up and the
/// substring check decides the rest (`go to` looks up words starting with
/// `go` and checks that the text contains `to`). So the look-ups are either
/// all exact or one prefix. Empty when the query has no letters, digits or
/// ideographs (nothing to look up).
pub fn query_pieces(needle: &str) -> Vec<Piece> {
    let every_window = pieces_of(needle, false);
    let mut pieces =
        if every_window.len() <= MAX_QUERY_PIECES { every_window } else { pieces_of(needle, true) };
    pieces.sort_by(|a, b| b.strength().cmp(&a.strength()).then_with(|| a.cmp(b)));
    if pieces.iter().any(|piece| matches!(piece, Piece::Exact(_))) {
        pieces.retain(|piece| matches!(piece, Piece::Exact(_)));
        pieces.truncate(MAX_QUERY_PIECES);
    } else {
        pieces.truncate(1);
    }
    pieces
}

/// The look-ups of [`query_pieces`], each once: every window of each
/// ideograph run, or only a covering subset of them.
fn pieces_of(needle: &str, covering: bool) -> Vec<Piece> {
    let mut pieces = BTreeSet::new();
    for run in runs(needle) {
        match run {
            Run::Ideographs(chars) if chars.len() == 1 => {
                pieces.insert(Piece::Prefix(chars[0].to_string()));
            }
            Run::Ideographs(chars) => {
                let step = if covering { 2 } else { 1 };
                let mut start = 0;
                while start + 1 < chars.len() {
                    pieces.insert(Piece::Exact(chars[start..start + 2].iter().collect()));
                    start += step;
                }
                if covering && chars.len() % 2 == 1 {
                    pieces.insert(Piece::Exact(chars[chars.len() - 2..].iter().collect()));
                }
            }
            Run::Word(word) => {
                let length = word.chars().count();
                match PREFIX_CHARS.into_iter().rev().find(|&prefix_length| prefix_length <= length) {
                    Some(prefix_length) => {
                        pieces.insert(Piece::Exact(word.chars().take(prefix_length).collect()));
                    }
                    None => {
                        pieces.insert(Piece::Prefix(word));
                    }
                }
            }
        }
    }
    pieces.into_iter().collect()
}

/// The space-separated parts of a lower-cased query; each must be a
/// substring of the searched field.
pub fn substrings(needle: &str) -> Vec<&str> {
    needle.split_whitespace().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut terms = BTreeSet::new();
        index_terms(text, &mut terms);
        terms.into_iter().collect()
    }

    #[test]
    fn chinese_is_indexed_by_windows_and_run_ends() {
        assert_eq!(terms("森林报·春"), ["报 ", "春 ", "林报", "森林"]);
        assert_eq!(terms("草"), ["草 "]);
    }

    #[test]
    fn words_are_indexed_whole_and_by_prefixes_and_split_at_punctuation() {
        assert_eq!(terms("charlotte's web"), ["cha", "charl", "charlotte", "s", "web"]);
        assert_eq!(terms("e. b. white"), ["b", "e", "whi", "white"]);
        assert_eq!(
            terms("哈利·波特与魔法石 harry2"),
            ["har", "harry", "harry2", "与魔", "利 ", "哈利", "法石", "波特", "特与", "石 ", "魔法"]
        );
        assert_eq!(terms("char chart"), ["cha", "char", "chart"]);
        let long = terms(&"a".repeat(40));
        assert_eq!(long.len(), PREFIX_CHARS.len() + 1, "{long:?}");
        assert_eq!(long.iter().map(|term| term.chars().count()).max(), Some(MAX_WORD_CHARS));
    }

    #[test]
    fn every_prefix_of_a_word_hits_its_pieces() {
        let stored = terms("the extraordinary charlotte chart char");
        for word in ["the", "extraordinary", "charlotte", "chart", "char"] {
            for end in 1..=word.len() {
                let query = &word[..end];
                let pieces = query_pieces(query);
                assert_eq!(pieces.len(), 1, "{query:?}");
                let found = match &pieces[0] {
                    Piece::Exact(term) => stored.contains(term),
                    Piece::Prefix(prefix) => stored.iter().any(|term| term.starts_with(prefix.as_str())),
                };
                assert!(found, "{query:?} needs {pieces:?}");
            }
        }
    }

    #[test]
    fn every_substring_of_an_ideograph_run_hits_its_pieces() {
        let text = "大森林里的小木屋";
        let stored = terms(text);
        let chars: Vec<char> = text.chars().collect();
        for start in 0..chars.len() {
            for end in start + 1..=chars.len() {
                let query: String = chars[start..end].iter().collect();
                for piece in query_pieces(&query) {
                    let found = match &piece {
                        Piece::Exact(term) => stored.contains(term),
                        Piece::Prefix(prefix) => stored.iter().any(|term| term.starts_with(prefix.as_str())),
                    };
                    assert!(found, "{query:?} needs {piece:?}, which {text:?} lacks");
                }
            }
        }
    }

    #[test]
    fn queries_look_up_their_windows() {
        assert_eq!(query_pieces("森林"), [Piece::Exact("森林".into())]);
        assert_eq!(
            query_pieces("森林王国"),
            [Piece::Exact("林王".into()), Piece::Exact("森林".into()), Piece::Exact("王国".into())]
        );
        assert_eq!(query_pieces("大森林"), [Piece::Exact("大森".into()), Piece::Exact("森林".into())]);
        // Longer queries look up a covering subset.
        assert_eq!(query_pieces("一二三四五六七八").len(), 4);
        assert_eq!(query_pieces("龙"), [Piece::Prefix("龙".into())]);
        // Words look up their longest stored prefix.
        assert_eq!(query_pieces("cha"), [Piece::Exact("cha".into())]);
        assert_eq!(query_pieces("char"), [Piece::Exact("cha".into())]);
        assert_eq!(query_pieces("charl"), [Piece::Exact("charl".into())]);
        assert_eq!(query_pieces("charlot"), [Piece::Exact("charl".into())]);
        // "s" alone would match most of the catalog; "charlotte" narrows.
        assert_eq!(query_pieces("charlotte's"), [Piece::Exact("charl".into())]);
        assert_eq!(query_pieces("harry p"), [Piece::Exact("harry".into())]);
        assert_eq!(query_pieces("a"), [Piece::Prefix("a".into())]);
        assert_eq!(query_pieces("go a"), [Piece::Prefix("go".into())]);
        assert_eq!(query_pieces("龙 go"), [Piece::Prefix("go".into())]);
        assert_eq!(query_pieces("go to"), [Piece::Prefix("go".into())]);
        assert_eq!(query_pieces("龙 虎"), [Piece::Prefix("虎".into())]);
        // Either every look-up is exact or there is one prefix.
        for query in ["go to it", "a b c", "龙 go 虎", "go dog", "森 林 dog", "一 二"] {
            let pieces = query_pieces(query);
            let prefixes = pieces.iter().filter(|piece| matches!(piece, Piece::Prefix(_))).count();
            assert!(prefixes == 0 || pieces.len() == 1, "{query:?}: {pieces:?}");
        }
        assert!(query_pieces("!!! ·").is_empty());
        assert_eq!(
            query_pieces(&"森林".repeat(50)),
            [Piece::Exact("林森".into()), Piece::Exact("森林".into())],
            "each window once"
        );
        assert!(query_pieces("一二三四五六七八九十百千万亿").len() <= MAX_QUERY_PIECES);
    }

    #[test]
    fn titles_proper_are_stored_again_marked() {
        let mut stored = BTreeSet::new();
        title_proper_terms("草房子 web", &mut stored);
        let stored: Vec<String> = stored.into_iter().collect();
        assert_eq!(stored, ["^web", "^子 ", "^房子", "^草房"]);
        assert!(!is_word_char(TITLE_MARK) && !is_ideograph(TITLE_MARK));
        assert_eq!(Piece::Exact("web".into()).in_title(), Piece::Exact("^web".into()));
        assert_eq!(Piece::Prefix("草".into()).in_title(), Piece::Prefix("^草".into()));
    }

    #[test]
    fn a_text_has_the_pieces_its_entries_would_give() {
        assert!(text_has_pieces("charlotte's web", &query_pieces("charl web")));
        assert!(text_has_pieces("草房子", &query_pieces("草")));
        assert!(text_has_pieces("草房子", &query_pieces("房子")));
        assert!(!text_has_pieces("littlejohn", &query_pieces("john")));
        assert!(!text_has_pieces("go", &query_pieces("gob")));
        assert!(text_has_pieces("the chart", &query_pieces("char")));
        // Prefix look-ups are not required of a title proper.
        assert!(text_has_pieces("anything", &query_pieces("go")));
        assert!(text_has_pieces("anything", &[]));
    }

    #[test]
    fn prefix_ranges_end_at_the_next_code_point() {
        assert_eq!(prefix_end("char").as_deref(), Some("chas"));
        assert_eq!(prefix_end("龙").as_deref(), Some("龚"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    #[test]
    fn scripts_are_told_apart() {
        assert!(is_ideograph('森') && is_ideograph('の') && is_ideograph('한') && is_ideograph('𠀀'));
        assert!(!is_ideograph('a') && !is_ideograph('é') && !is_ideograph('·') && !is_ideograph('，'));
        assert!(is_word_char('é') && is_word_char('7') && !is_word_char('森') && !is_word_char('\''));
        assert_eq!(substrings(" charlotte's  web "), ["charlotte's", "web"]);
    }
}
