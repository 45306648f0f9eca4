//! What a machine shows its reader (the `AF` screen message), in the
//! device's language, from the gateway's message catalogue: the SIP2 texts
//! (`gateway/messages/<lang>/sip2.toml`) and the same refusal sentences the
//! pages give (`reason.*`), so a child at the machine reads what the desk
//! would have said.

use lectern_core::refusal::Reason;
use tonic::Status;

use super::services::reason_of;
use crate::pages::format;
use crate::pages::i18n::{self, Lang};

/// The texts of one machine's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Words {
    lang: Lang,
}

impl Words {
    /// The words of a device's `language` setting ("zh-CN" when unset or
    /// unknown).
    pub fn of(language: &str) -> Self {
        Words { lang: Lang::from_tag(language).unwrap_or_default() }
    }

    /// The SIP2 language code of the fixed fields: `019` Chinese, `001`
    /// English.
    pub fn sip2_language(self) -> &'static str {
        match self.lang {
            Lang::ZhCn => "019",
            Lang::En => "001",
        }
    }

    /// The SIP2 text `id` (without the `sip2.` prefix).
    pub fn text(self, id: &str) -> String {
        i18n::text(self.lang, &format!("sip2.{id}")).to_owned()
    }

    /// The SIP2 text `id` with its placeholders filled.
    pub fn format(self, id: &str, values: &[(&str, &str)]) -> String {
        i18n::format(self.lang, &format!("sip2.{id}"), values)
    }

    /// The sentence of a refusal reason.
    pub fn reason(self, reason: Reason) -> String {
        i18n::reason(self.lang, reason).to_owned()
    }

    /// The sentence for a failed call: its refusal reason's, or the one for
    /// its gRPC code when it carries none.
    pub fn refusal(self, status: &Status) -> String {
        match reason_of(status) {
            Some(reason) => self.reason(reason),
            None => i18n::status(self.lang, status.code()).to_owned(),
        }
    }

    /// A due day "YYYY-MM-DD" in words.
    pub fn day(self, iso: &str) -> String {
        format::day(self.lang, iso)
    }

    /// Money in minor units, as the pages write it ("¥1.50").
    pub fn money(self, amount: i64) -> String {
        format::money(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaks_the_device_language() {
        let zh = Words::of("zh-CN");
        let en = Words::of("en");
        assert_eq!(Words::of(""), zh);
        assert_eq!(zh.sip2_language(), "019");
        assert_eq!(en.sip2_language(), "001");
        assert_eq!(en.text("enter_pin"), "Please enter your PIN.");
        assert_eq!(zh.text("enter_pin"), "请输入密码。");
        assert!(
            en.format("borrowed", &[("title", "Charlotte's Web"), ("day", "Mon 21 Dec")])
                .contains("Charlotte")
        );
        assert_eq!(zh.reason(Reason::CopyAtOtherSchool), i18n::reason(Lang::ZhCn, Reason::CopyAtOtherSchool));
    }

    #[test]
    fn refusals_without_reason_fall_back_to_the_code() {
        let en = Words::of("en");
        assert_eq!(
            en.refusal(&Status::unavailable("down")),
            i18n::status(Lang::En, tonic::Code::Unavailable)
        );
        let refused: Status = lectern_core::refusal::Refusal::new(Reason::LoanLimitReached, "limit").into();
        assert_eq!(en.refusal(&refused), i18n::reason(Lang::En, Reason::LoanLimitReached));
    }
}
