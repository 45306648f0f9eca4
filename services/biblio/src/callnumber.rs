//! Call numbers for spine labels: the class number, a slash, and an author
//! mark, e.g. `I287.45/C15` for 曹文轩's 草房子.
//!
//! The author mark is deterministic, so two cataloguers (or a MARC import
//! and a desk) give the same book the same label without a shared table:
//!
//! 1. Romanize the first contributor's name: Chinese characters become
//!    their pinyin without tones (曹文轩 → "cao wen xuan"); Latin names are
//!    taken as written, surname first when written "Given Surname" without
//!    a comma ("E. B. White" → "white e b"; "White, E. B." stays).
//! 2. The mark is the first letter, upper-cased, followed by one digit for
//!    each of the next two letters: a–c → 1, d–f → 2, g–i → 3, j–l → 4,
//!    m–o → 5, p–r → 6, s–u → 7, v–x → 8, y–z → 9 (`cao` → C15).
//!
//! Libraries that use the 《通用汉语著者号码表》 or Cutter–Sanborn tables type
//! their own call number; a suggestion is only a default.

use pinyin::ToPinyin;

/// Suggests a call number from a class number and an author's name.
/// `None` when there is no class number; just the class number when the
/// name has no letters to make a mark from.
pub fn suggest(class_number: &str, author: &str) -> Option<String> {
    let class_number = class_number.trim();
    if class_number.is_empty() {
        return None;
    }
    match author_mark(author) {
        Some(mark) => Some(format!("{class_number}/{mark}")),
        None => Some(class_number.to_owned()),
    }
}

/// The author mark of a name (see the module documentation), or `None`
/// when the name holds no letters.
pub fn author_mark(name: &str) -> Option<String> {
    let letters: Vec<char> = romanize(name).chars().filter(char::is_ascii_alphabetic).collect();
    let (first, rest) = letters.split_first()?;
    let mut mark = first.to_ascii_uppercase().to_string();
    for letter in rest.iter().take(2) {
        mark.push(letter_digit(*letter));
    }
    Some(mark)
}

fn letter_digit(letter: char) -> char {
    let index = (letter.to_ascii_lowercase() as u8).saturating_sub(b'a').min(25);
    char::from(b'1' + (index / 3).min(8))
}

/// The name in lower-case Latin letters, surname first.
fn romanize(name: &str) -> String {
    let name = name.trim();
    if name.chars().any(|c| c.to_pinyin().is_some()) {
        let syllables: Vec<String> = name
            .chars()
            .filter_map(|c| match c.to_pinyin() {
                Some(pinyin) => Some(pinyin.plain().to_owned()),
                None if c.is_alphanumeric() => Some(c.to_lowercase().collect()),
                None => None,
            })
            .collect();
        return syllables.join(" ");
    }
    if name.contains(',') {
        return name.to_lowercase();
    }
    // "E. B. White": the last word is the surname.
    let mut words: Vec<&str> = name.split_whitespace().collect();
    if let Some(surname) = words.pop() {
        words.insert(0, surname);
    }
    words.join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_go_by_pinyin() {
        assert_eq!(author_mark("曹文轩").as_deref(), Some("C15"));
        assert_eq!(suggest("I287.45", "曹文轩").as_deref(), Some("I287.45/C15"));
        assert_eq!(author_mark("郑渊洁").as_deref(), Some("Z32"));
    }

    #[test]
    fn latin_names_go_by_surname() {
        assert_eq!(author_mark("E. B. White").as_deref(), Some("W33"));
        assert_eq!(author_mark("White, E. B.").as_deref(), Some("W33"));
        assert_eq!(suggest("813.54", "E. B. White").as_deref(), Some("813.54/W33"));
    }

    #[test]
    fn unclassified_or_anonymous() {
        assert_eq!(suggest("", "曹文轩"), None);
        assert_eq!(suggest(" I287 ", "").as_deref(), Some("I287"));
        assert_eq!(suggest("I287", "《》").as_deref(), Some("I287"));
        assert_eq!(author_mark("Ng").as_deref(), Some("N3"));
    }
}
