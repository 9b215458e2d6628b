//! The two languages every message is given in, and the strength of a login.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

/// The language a person reads messages in: users are Taiwanese civil servants, so zh-TW is the
/// default, with English beside it for logs, scripts and foreign colleagues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Traditional Chinese as written in Taiwan (正體中文).
    #[default]
    ZhTw,
    /// English.
    En,
}

impl Lang {
    /// Chooses between two renderings of the same text, so call sites keep both side by side.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::ZhTw => zh,
            Lang::En => en,
        }
    }

    /// The BCP 47 tag (`zh-TW`, `en`), as HTTP `Accept-Language` and configuration files use it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhTw => "zh-TW",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = Error;

    /// Accepts `zh-TW`, `zh_TW`, `zh` and `en`, in any case: the spellings that command-line
    /// flags, environment variables and browsers use.
    fn from_str(s: &str) -> Result<Lang> {
        let s = s.trim();
        if ["zh-tw", "zh_tw", "zh"].iter().any(|tag| s.eq_ignore_ascii_case(tag)) {
            Ok(Lang::ZhTw)
        } else if s.eq_ignore_ascii_case("en") {
            Ok(Lang::En)
        } else {
            Err(Error::with(
                ErrorCode::FieldInvalid,
                "語言應為 zh-TW 或 en",
                "the language must be zh-TW or en",
            ))
        }
    }
}

impl serde::Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How strongly a session's holder was identified (登入方式). Applications require a minimum
/// level: some links are greyed out unless the login used the citizen digital certificate.
///
/// The order is the strength: `Password < NhiCard < Certificate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AssuranceLevel {
    /// eCPA account name and password (帳號密碼).
    Password = 1,
    /// NHI card present in the reader plus its registered password (健保卡).
    NhiCard = 2,
    /// Citizen digital certificate with its PIN (自然人憑證).
    Certificate = 3,
}

impl AssuranceLevel {
    /// The stable snake_case name used in JSON, the database and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            AssuranceLevel::Password => "password",
            AssuranceLevel::NhiCard => "nhi_card",
            AssuranceLevel::Certificate => "certificate",
        }
    }

    /// The name a person sees for this kind of login.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AssuranceLevel::Password => lang.pick("帳號密碼", "account password"),
            AssuranceLevel::NhiCard => lang.pick("健保卡", "NHI card"),
            AssuranceLevel::Certificate => lang.pick("自然人憑證", "citizen digital certificate"),
        }
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AssuranceLevel {
    type Err = Error;

    /// Reads the snake_case name written by [`AssuranceLevel::as_str`].
    fn from_str(s: &str) -> Result<AssuranceLevel> {
        match s.trim() {
            "password" => Ok(AssuranceLevel::Password),
            "nhi_card" => Ok(AssuranceLevel::NhiCard),
            "certificate" => Ok(AssuranceLevel::Certificate),
            _ => Err(Error::with(
                ErrorCode::FieldInvalid,
                "登入方式應為 password、nhi_card 或 certificate",
                "the assurance level must be password, nhi_card or certificate",
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lang_parses_the_usual_spellings() {
        for s in ["zh-TW", "zh", "zh_TW", "ZH-tw", " zh-tw "] {
            assert_eq!(s.parse::<Lang>().ok(), Some(Lang::ZhTw), "{s}");
        }
        for s in ["en", "EN", "En"] {
            assert_eq!(s.parse::<Lang>().ok(), Some(Lang::En), "{s}");
        }
        for s in ["", "fr", "zh-CN", "english"] {
            let err = s.parse::<Lang>().err().map(|e| e.code());
            assert_eq!(err, Some(ErrorCode::FieldInvalid), "{s}");
        }
        assert_eq!(Lang::default(), Lang::ZhTw);
    }

    #[test]
    fn lang_picks_and_round_trips() {
        assert_eq!(Lang::ZhTw.pick("中", "en"), "中");
        assert_eq!(Lang::En.pick("中", "en"), "en");
        for lang in [Lang::ZhTw, Lang::En] {
            assert_eq!(lang.as_str().parse::<Lang>().ok(), Some(lang));
            let json = serde_json::to_string(&lang).unwrap();
            assert_eq!(serde_json::from_str::<Lang>(&json).unwrap(), lang);
        }
    }

    #[test]
    fn assurance_levels_are_ordered_and_named() {
        use AssuranceLevel::*;
        assert!(Password < NhiCard && NhiCard < Certificate);
        assert_eq!(Certificate as u8, 3);
        for level in [Password, NhiCard, Certificate] {
            assert_eq!(level.as_str().parse::<AssuranceLevel>().ok(), Some(level));
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<AssuranceLevel>(&json).unwrap(), level);
        }
        assert_eq!(NhiCard.label(Lang::ZhTw), "健保卡");
        assert_eq!(Certificate.label(Lang::En), "citizen digital certificate");
        assert_eq!(Password.label(Lang::ZhTw), "帳號密碼");
        assert!("NhiCard".parse::<AssuranceLevel>().is_err());
        assert!(serde_json::from_str::<AssuranceLevel>("\"pin\"").is_err());
    }
}
