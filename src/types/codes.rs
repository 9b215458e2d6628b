//! Codes that name agencies and documents.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

/// An agency code (機關代碼), e.g. `379000000A` (臺北市政府) or `A15000000E`: the key of the
/// directory and of every personnel officer's scope.
///
/// Ten characters: nine digits or upper-case letters, then an upper-case letter. Stored
/// trimmed and upper-cased. Not personal data, so it prints in full.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    /// Checks a typed or imported agency code.
    pub fn parse(s: &str) -> Result<AgencyCode> {
        let code = s.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let ok = b.len() == 10
            && b[..9].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && b[9].is_ascii_uppercase();
        if !ok {
            return Err(Error::with(
                ErrorCode::AgencyCodeInvalid,
                "機關代碼應為 10 碼：前 9 碼為英文字母或數字，最後 1 碼為英文字母（如 379000000A）",
                "an agency code has 10 characters: nine letters or digits, then a letter \
                 (e.g. 379000000A)",
            ));
        }
        Ok(AgencyCode(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AgencyCode {
    type Err = Error;

    fn from_str(s: &str) -> Result<AgencyCode> {
        AgencyCode::parse(s)
    }
}

serde_as_validated_str!(AgencyCode);

/// A document number (發文字號) such as `北市勞人字第10860144081號`: how an award order is cited.
///
/// The shape is a word of Chinese characters (the issuing agency's abbreviation and file
/// category, 北市勞人), then `字第`, then 4 to 20 ASCII digits (ROC year and serial, whose
/// length varies between agencies), then `號`. The whole text is kept, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentNumber {
    text: String,
    /// Byte length of the word before `字第`.
    word_len: usize,
}

/// Whether a character is a CJK ideograph (the basic block, extensions A to H, and the
/// compatibility ideographs): what agency words are written in.
fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3134F}'
            | '\u{31350}'..='\u{323AF}'
    )
}

impl DocumentNumber {
    /// Checks a typed or imported document number.
    pub fn parse(s: &str) -> Result<DocumentNumber> {
        let text = s.trim();
        let invalid = || {
            Error::with(
                ErrorCode::DocumentNumberInvalid,
                "發文字號應寫成「機關字第＋4 至 20 位數字＋號」，如 北市勞人字第10860144081號",
                "a document number reads <agency word>字第<4 to 20 digits>號, e.g. \
                 北市勞人字第10860144081號",
            )
        };
        let body = text.strip_suffix('號').ok_or_else(invalid)?;
        let word_and_marker = body.trim_end_matches(|c: char| c.is_ascii_digit());
        let serial_len = body.len() - word_and_marker.len();
        if !(4..=20).contains(&serial_len) {
            return Err(invalid());
        }
        let word = word_and_marker.strip_suffix("字第").ok_or_else(invalid)?;
        if word.is_empty() || !word.chars().all(is_cjk) {
            return Err(invalid());
        }
        Ok(DocumentNumber {
            text: text.to_owned(),
            word_len: word.len(),
        })
    }

    /// The whole number as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The agency word before `字第` (北市勞人): which agency and file series issued it.
    pub fn word(&self) -> &str {
        self.text.get(..self.word_len).unwrap_or("")
    }

    /// The digits between `字第` and `號` (10860144081): ROC year and serial.
    pub fn serial(&self) -> &str {
        let start = self.word_len + "字第".len();
        let end = self.text.len() - "號".len();
        self.text.get(start..end).unwrap_or("")
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for DocumentNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<DocumentNumber> {
        DocumentNumber::parse(s)
    }
}

serde_as_validated_str!(DocumentNumber);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        let a = AgencyCode::parse("379000000A").unwrap();
        assert_eq!(a.as_str(), "379000000A");
        assert_eq!(a.to_string(), "379000000A");
        assert_eq!(AgencyCode::parse(" a15000000e ").unwrap().as_str(), "A15000000E");
        for bad in [
            "",
            "379000000",
            "3790000000",
            "379000000AA",
            "37900000-A",
            "３79000000A",
        ] {
            let code = AgencyCode::parse(bad).err().map(|e| e.code());
            assert_eq!(code, Some(ErrorCode::AgencyCodeInvalid), "{bad}");
        }
    }

    #[test]
    fn agency_code_serde_validates() {
        let a = AgencyCode::parse("379000000A").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"379000000A\"");
        assert_eq!(serde_json::from_str::<AgencyCode>("\"379000000a\"").unwrap(), a);
        assert!(serde_json::from_str::<AgencyCode>("\"379\"").is_err());
    }

    #[test]
    fn document_numbers() {
        let d = DocumentNumber::parse(" 北市勞人字第10860144081號 ").unwrap();
        assert_eq!(d.as_str(), "北市勞人字第10860144081號");
        assert_eq!(d.word(), "北市勞人");
        assert_eq!(d.serial(), "10860144081");
        assert_eq!(d.to_string(), "北市勞人字第10860144081號");

        let d = DocumentNumber::parse("府人考字第1080097494號").unwrap();
        assert_eq!((d.word(), d.serial()), ("府人考", "1080097494"));

        // A word that itself contains 字 still splits at the last 字第.
        let d = DocumentNumber::parse("院授人字字第1234號").unwrap();
        assert_eq!((d.word(), d.serial()), ("院授人字", "1234"));

        for bad in [
            "",
            "字第1080097494號",
            "府人考字第108號",
            "府人考字第123456789012345678901號",
            "府人考字第1080097494",
            "府人考第1080097494號",
            "府人考字第１０８０097494號",
            "府 人考字第1080097494號",
            "ABC字第1080097494號",
            "府人考字第10800a97494號",
            "府人考字第1080097494號號",
        ] {
            let code = DocumentNumber::parse(bad).err().map(|e| e.code());
            assert_eq!(code, Some(ErrorCode::DocumentNumberInvalid), "{bad}");
        }
    }

    #[test]
    fn document_number_serde_validates() {
        let d = DocumentNumber::parse("府人考字第1080097494號").unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"府人考字第1080097494號\"");
        assert_eq!(serde_json::from_str::<DocumentNumber>(&json).unwrap(), d);
        assert!(serde_json::from_str::<DocumentNumber>("\"第1號\"").is_err());
    }
}
