//! The languages of the pages and the message catalogue they speak from.
//!
//! Every word a page shows comes from `gateway/messages/<lang>.toml`: one
//! flat catalogue per language, keyed by dotted message ids
//! (`signin.title`), with a sentence for each refusal reason
//! (`reason.COPY_ALREADY_ON_LOAN`). Both files are compiled into the binary
//! and parsed once. Texts are plain text (templates escape them) and may hold
//! `{name}` placeholders, filled by [`format`].
//!
//! A missing id never fails a page: the id itself is shown and a warning is
//! logged once, and the tests below keep the two catalogues in step so that
//! does not happen in a release.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use lectern_proto::common::v1::Reason;

/// The cookie that remembers the language a visitor chose.
pub const LANG_COOKIE: &str = "lectern_lang";

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Simplified Chinese, the district's language and the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order the language switch shows them.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The tag used in the language cookie, the `lang` form field and the
    /// catalogue's file name.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The value of `<html lang>` (it picks the Simplified Chinese glyphs).
    pub fn html_lang(self) -> &'static str {
        self.tag()
    }

    /// Reads a language tag, ignoring case and region: any `zh…` tag is
    /// Chinese (the catalogue is Simplified, which a Traditional reader
    /// still reads better than English), any `en…` tag is English.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim();
        let primary = tag.split(['-', '_']).next().unwrap_or(tag);
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::ZhCn)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// The language of a request: the `lectern_lang` cookie's value if it names
/// one, else the most wanted language of `Accept-Language` that the
/// catalogue has, else Chinese.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    cookie
        .and_then(Lang::from_tag)
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or_default()
}

/// The best language of an `Accept-Language` header (`en-US,en;q=0.9,zh;q=0.8`);
/// among equal weights the first listed wins, `q=0` means "not this one".
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(u16, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_tag) else { continue };
        let weight = parts
            .filter_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then_some(value.trim())
            })
            .next()
            .map_or(Some(1000), weight);
        let Some(weight) = weight else { continue };
        if weight > 0 && best.is_none_or(|(best_weight, _)| weight > best_weight) {
            best = Some((weight, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// A `q` value in thousandths, if it is one.
fn weight(value: &str) -> Option<u16> {
    let q: f32 = value.parse().ok()?;
    (0.0..=1.0).contains(&q).then(|| (q * 1000.0).round() as u16)
}

/// The catalogue's files, compiled in: the common texts and refusal
/// sentences, then one file per group of screens, so each screen's words sit
/// together. An id must be in one file only.
const SOURCES: [(&str, &str, &str); 11] = [
    ("common", include_str!("../../messages/zh-CN.toml"), include_str!("../../messages/en.toml")),
    ("desk", include_str!("../../messages/zh-CN/desk.toml"), include_str!("../../messages/en/desk.toml")),
    (
        "returns",
        include_str!("../../messages/zh-CN/returns.toml"),
        include_str!("../../messages/en/returns.toml"),
    ),
    (
        "search",
        include_str!("../../messages/zh-CN/search.toml"),
        include_str!("../../messages/en/search.toml"),
    ),
    (
        "readers",
        include_str!("../../messages/zh-CN/readers.toml"),
        include_str!("../../messages/en/readers.toml"),
    ),
    ("lists", include_str!("../../messages/zh-CN/lists.toml"), include_str!("../../messages/en/lists.toml")),
    ("home", include_str!("../../messages/zh-CN/home.toml"), include_str!("../../messages/en/home.toml")),
    (
        "notices",
        include_str!("../../messages/zh-CN/notices.toml"),
        include_str!("../../messages/en/notices.toml"),
    ),
    ("sip2", include_str!("../../messages/zh-CN/sip2.toml"), include_str!("../../messages/en/sip2.toml")),
    ("kiosk", include_str!("../../messages/zh-CN/kiosk.toml"), include_str!("../../messages/en/kiosk.toml")),
    (
        "portal",
        include_str!("../../messages/zh-CN/portal.toml"),
        include_str!("../../messages/en/portal.toml"),
    ),
];

static CATALOGUE: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue { zh_cn: load(Lang::ZhCn), en: load(Lang::En) });

/// Both languages' texts, parsed once from the files compiled in.
#[derive(Debug)]
pub struct Catalogue {
    zh_cn: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Catalogue {
    /// The catalogue.
    pub fn get() -> &'static Catalogue {
        &CATALOGUE
    }

    /// The text of `id` in `lang`, if the catalogue has it.
    pub fn text(&self, lang: Lang, id: &str) -> Option<&str> {
        self.texts(lang).get(id).map(String::as_str)
    }

    /// Every message id of `lang`.
    pub fn ids(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.texts(lang).keys().map(String::as_str)
    }

    fn texts(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::ZhCn => &self.zh_cn,
            Lang::En => &self.en,
        }
    }
}

/// The files of `lang`, in the order of [`SOURCES`].
fn sources(lang: Lang) -> impl Iterator<Item = (&'static str, &'static str)> {
    SOURCES.into_iter().map(move |(part, zh_cn, en)| match lang {
        Lang::ZhCn => (part, zh_cn),
        Lang::En => (part, en),
    })
}

/// Parses a language's files into one catalogue; a file that cannot be read
/// leaves its texts out (those pages then show ids), which the tests rule out.
fn load(lang: Lang) -> HashMap<String, String> {
    let mut texts = HashMap::new();
    for (part, source) in sources(lang) {
        match parse(source) {
            Ok(part_texts) => texts.extend(part_texts),
            Err(error) => {
                tracing::error!(message.lang = lang.tag(), message.part = part, %error, "the message catalogue cannot be read");
            }
        }
    }
    texts
}

/// A catalogue file as `id → text`, tables flattened into dotted ids.
fn parse(source: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = source.parse().map_err(|error: toml::de::Error| error.to_string())?;
    let mut texts = HashMap::new();
    flatten("", &table, &mut texts)?;
    Ok(texts)
}

fn flatten(prefix: &str, table: &toml::Table, texts: &mut HashMap<String, String>) -> Result<(), String> {
    for (key, value) in table {
        let id = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::String(text) => {
                texts.insert(id, text.clone());
            }
            toml::Value::Table(inner) => flatten(&id, inner, texts)?,
            _ => return Err(format!("`{id}` is not text")),
        }
    }
    Ok(())
}

/// Logs a missing id once per language and id (up to a bound, so ids built
/// from odd input cannot grow the set without end).
fn warn_missing(lang: Lang, id: &str) {
    static WARNED: LazyLock<Mutex<HashSet<(Lang, String)>>> = LazyLock::new(Mutex::default);
    let Ok(mut warned) = WARNED.lock() else { return };
    if warned.len() < 1024 && warned.insert((lang, id.to_owned())) {
        tracing::warn!(message.lang = lang.tag(), message.id = id, "the message catalogue has no such text");
    }
}

/// The text of `id` in `lang`; the id itself when the catalogue lacks it.
pub fn text(lang: Lang, id: &str) -> &str {
    match Catalogue::get().text(lang, id) {
        Some(text) => text,
        None => {
            warn_missing(lang, id);
            id
        }
    }
}

/// The text of `id` with its `{name}` placeholders filled from `values`;
/// a placeholder without a value stays as it is.
pub fn format(lang: Lang, id: &str, values: &[(&str, &str)]) -> String {
    let template = text(lang, id);
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values.iter().find(|(name, _)| *name == &after[..close]).map(|(_, v)| (close, *v))
        });
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The sentence that explains a refusal; the generic refusal for a reason
/// the catalogue lacks.
pub fn reason(lang: Lang, reason: Reason) -> &'static str {
    let catalogue = Catalogue::get();
    let id = format!("reason.{}", reason.as_str_name());
    if let Some(text) = catalogue.text(lang, &id) {
        return text;
    }
    warn_missing(lang, &id);
    catalogue.text(lang, "reason.REASON_UNSPECIFIED").unwrap_or_else(|| reason.as_str_name())
}

/// The sentence for a refusal named as in `google.rpc.ErrorInfo.reason`; a
/// name this build does not know (a newer service) gets the generic refusal.
pub fn reason_named(lang: Lang, name: &str) -> &'static str {
    reason(lang, Reason::from_str_name(name).unwrap_or(Reason::Unspecified))
}

/// The sentence for a failed call that carries no reason, by its gRPC code.
pub fn status(lang: Lang, code: tonic::Code) -> &'static str {
    use tonic::Code;
    let id = match code {
        Code::InvalidArgument | Code::OutOfRange => "error.invalid_argument",
        Code::Unavailable => "error.unavailable",
        Code::DeadlineExceeded | Code::Cancelled => "error.deadline_exceeded",
        Code::Unauthenticated => "error.unauthenticated",
        Code::NotFound => "error.not_found",
        Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::AlreadyExists
        | Code::Aborted
        | Code::ResourceExhausted => "reason.REASON_UNSPECIFIED",
        Code::Ok | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => "error.internal",
    };
    text(lang, id)
}

/// The texts of one language, for templates: `t.get("signin.title")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Texts {
    /// The language spoken.
    pub lang: Lang,
}

impl Texts {
    /// The texts of `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// See [`text`].
    pub fn get<'a>(&self, id: &'a str) -> &'a str {
        text(self.lang, id)
    }

    /// See [`format`].
    pub fn format(&self, id: &str, values: &[(&str, &str)]) -> String {
        format(self.lang, id, values)
    }

    /// See [`reason`].
    pub fn reason(&self, reason: Reason) -> &'static str {
        self::reason(self.lang, reason)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn both() -> [(Lang, HashMap<String, String>); 2] {
        Lang::ALL.map(|lang| (lang, load(lang)))
    }

    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect()
    }

    #[test]
    fn both_catalogues_parse() {
        for lang in Lang::ALL {
            let mut seen = HashSet::new();
            for (part, source) in sources(lang) {
                let texts = parse(source).unwrap_or_else(|error| panic!("{} {part}: {error}", lang.tag()));
                for id in texts.into_keys() {
                    assert!(seen.insert(id.clone()), "{id} is in two files of {}", lang.tag());
                }
            }
        }
        assert!(Catalogue::get().ids(Lang::En).count() > 100);
    }

    #[test]
    fn both_catalogues_have_the_same_ids() {
        let [(_, zh), (_, en)] = both();
        let zh_ids: BTreeSet<_> = zh.keys().collect();
        let en_ids: BTreeSet<_> = en.keys().collect();
        let only_zh: Vec<_> = zh_ids.difference(&en_ids).collect();
        let only_en: Vec<_> = en_ids.difference(&zh_ids).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh-CN: {only_zh:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn every_reason_has_a_sentence_in_both_languages() {
        let mut missing = Vec::new();
        for value in 0..1000 {
            let Ok(reason) = Reason::try_from(value) else { continue };
            for (lang, texts) in both() {
                let id = format!("reason.{}", reason.as_str_name());
                if !texts.contains_key(&id) {
                    missing.push(format!("{}: {id}", lang.tag()));
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:#?}");
        assert!(reason(Lang::En, Reason::CopyAlreadyOnLoan).starts_with("This book is already on loan."));
        assert_eq!(reason_named(Lang::ZhCn, "NO_SUCH_REASON_YET"), reason(Lang::ZhCn, Reason::Unspecified));
        assert_eq!(reason_named(Lang::ZhCn, "COPY_ALREADY_ON_LOAN"), "这本书已经借出了。请先还书再借。");
    }

    #[test]
    fn no_text_is_empty_and_placeholders_match() {
        let [(_, zh), (_, en)] = both();
        for (id, zh_text) in &zh {
            assert!(!zh_text.trim().is_empty(), "zh-CN {id} is empty");
            let Some(en_text) = en.get(id) else { continue };
            assert!(!en_text.trim().is_empty(), "en {id} is empty");
            assert_eq!(placeholders(zh_text), placeholders(en_text), "placeholders of {id}");
        }
    }

    #[test]
    fn format_fills_placeholders_and_keeps_unknown_ones() {
        assert_eq!(
            format(Lang::En, "whoami.expires_in", &[("minutes", "25")]),
            "You will be signed out in 25 minutes."
        );
        assert_eq!(format(Lang::ZhCn, "whoami.expires_in", &[]), "{minutes} 分钟后会自动退出登录。");
        assert_eq!(
            format(
                Lang::ZhCn,
                "time.date_time",
                &[("year", "2025"), ("month", "9"), ("day", "1"), ("hour", "08"), ("minute", "05")]
            ),
            "2025年9月1日 08:05"
        );
    }

    #[test]
    fn a_missing_id_shows_itself() {
        assert_eq!(text(Lang::ZhCn, "no.such.id"), "no.such.id");
        assert_eq!(Texts::new(Lang::En).get("no.such.id"), "no.such.id");
        assert_eq!(Texts::new(Lang::En).get("signin.title"), "Sign in");
        assert_eq!(status(Lang::ZhCn, tonic::Code::Unauthenticated), "你的登录已经结束了。请重新登录。");
    }

    #[test]
    fn tags_are_read_loosely() {
        for tag in ["zh", "zh-CN", "zh-Hans", "ZH-cn", "zh_CN", "zh-TW"] {
            assert_eq!(Lang::from_tag(tag), Some(Lang::ZhCn), "{tag}");
        }
        for tag in ["en", "en-US", "EN-gb"] {
            assert_eq!(Lang::from_tag(tag), Some(Lang::En), "{tag}");
        }
        for tag in ["", "fr", "eng", "*", "zhx"] {
            assert_eq!(Lang::from_tag(tag), None, "{tag}");
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
    }

    #[test]
    fn negotiation_prefers_the_cookie_then_the_browser_then_chinese() {
        assert_eq!(negotiate(None, None), Lang::ZhCn);
        assert_eq!(negotiate(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(negotiate(Some("zh-CN"), Some("en-US")), Lang::ZhCn);
        assert_eq!(negotiate(Some("klingon"), Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(negotiate(None, Some("en-US,en;q=0.9,zh-CN;q=0.8")), Lang::En);
        assert_eq!(negotiate(None, Some("fr;q=1, en;q=0.5, zh;q=0.7")), Lang::ZhCn);
        assert_eq!(negotiate(None, Some("zh;q=0.3,en")), Lang::En);
        assert_eq!(negotiate(None, Some("en;q=0, fr")), Lang::ZhCn);
        assert_eq!(negotiate(None, Some("en;q=abc, zh;q=0.1")), Lang::ZhCn);
        assert_eq!(negotiate(None, Some("de, *;q=0.5")), Lang::ZhCn);
        assert_eq!(negotiate(None, Some("en ; Q=0.8")), Lang::En);
        assert_eq!(negotiate(None, Some("")), Lang::ZhCn);
    }
}
