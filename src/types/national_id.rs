//! The national ID (身分證統一編號) and the resident certificate number (居留證統一證號).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

use super::{Lang, ascii_str};

/// A person's sex as the ID and the NHI card record it; the second character of the ID encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Sex {
    /// The stable snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// The word a person sees.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Sex::Male => lang.pick("男", "male"),
            Sex::Female => lang.pick("女", "female"),
        }
    }
}

/// Which kind of number a [`NationalId`] is: citizens and residents log in alike, but the forms
/// and the statistics tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 身分證統一編號: a letter, then 1 or 2, then eight digits.
    National,
    /// Old-style resident certificate (舊式居留證): a letter, then a letter A–D, then eight digits.
    ResidentOld,
    /// New-style resident certificate (新式居留證, from 2021-01-02): a letter, then 8 or 9, then
    /// eight digits, the same shape as a national ID.
    ResidentNew,
}

impl IdKind {
    /// The stable snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::National => "national",
            IdKind::ResidentOld => "resident_old",
            IdKind::ResidentNew => "resident_new",
        }
    }
}

/// A checked national ID or resident certificate number, stored upper-case.
///
/// It identifies a person for life, so it never prints in full: `Display` and `Debug` give the
/// masked form `A12345****`, and the full value is only available through the deliberately
/// greppable [`NationalId::reveal`]. There are no serde impls either, so a full ID cannot slip
/// into JSON by accident; code that must store it calls `reveal` on purpose.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalId([u8; 10]);

fn malformed(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::NationalIdInvalid, zh.into(), en.into())
}

impl NationalId {
    /// Checks the shape and the check digit of a typed or card-read number. Surrounding
    /// whitespace is ignored and lower-case letters are accepted. Errors never repeat the input.
    pub fn parse(s: &str) -> Result<NationalId> {
        let s = s.trim();
        let count = s.chars().count();
        if count != 10 {
            return Err(malformed(
                format!("應為 10 碼（目前為 {count} 碼）"),
                format!("it must be 10 characters long (this one has {count})"),
            ));
        }
        let mut b: [u8; 10] = s.as_bytes().try_into().map_err(|_| {
            malformed(
                "只能使用半形英文字母與數字",
                "only ASCII letters and digits are allowed",
            )
        })?;
        b.make_ascii_uppercase();
        if !b[0].is_ascii_uppercase() {
            return Err(malformed("第 1 碼應為英文字母", "the first character must be a letter"));
        }
        if !matches!(b[1], b'1' | b'2' | b'8' | b'9' | b'A'..=b'D') {
            return Err(malformed(
                "第 2 碼應為 1 或 2（身分證）、8 或 9（新式居留證）、A 至 D（舊式居留證）",
                "the second character must be 1 or 2 (national ID), 8 or 9 (new resident \
                 certificate) or A to D (old resident certificate)",
            ));
        }
        if !b[2..].iter().all(u8::is_ascii_digit) {
            return Err(malformed("第 3 至 10 碼應為數字", "characters 3 to 10 must be digits"));
        }
        if !checksum_ok(&b) {
            return Err(Error::with(
                ErrorCode::NationalIdChecksum,
                "請檢查是否有輸入錯誤",
                "check the number for a typing mistake",
            ));
        }
        Ok(NationalId(b))
    }

    /// Whether this is a citizen's ID or an old- or new-style resident certificate number.
    pub fn kind(&self) -> IdKind {
        match self.0[1] {
            b'1' | b'2' => IdKind::National,
            b'8' | b'9' => IdKind::ResidentNew,
            _ => IdKind::ResidentOld,
        }
    }

    /// The sex the number encodes: 1, 8, A or C male; 2, 9, B or D female.
    pub fn sex(&self) -> Sex {
        match self.0[1] {
            b'1' | b'8' | b'A' | b'C' => Sex::Male,
            _ => Sex::Female,
        }
    }

    /// The full number. Named so that every place that needs it is easy to find and review.
    pub fn reveal(&self) -> &str {
        ascii_str(&self.0)
    }

    /// The first six characters and four stars (`A12345****`): safe for logs, errors and screens.
    pub fn masked(&self) -> String {
        format!("{}****", ascii_str(&self.0[..6]))
    }

    /// The last four digits: what the citizen certificate carries, to bind a first login.
    pub fn last_four(&self) -> &str {
        ascii_str(&self.0[6..])
    }
}

/// The two-digit code of an ID's leading letter (A=10 … Z=33, with the historical I, O, W–Z
/// out of alphabetical order).
fn letter_code(letter: u8) -> Option<u8> {
    const CODES: [u8; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,
    ];
    CODES.get(usize::from(letter.checked_sub(b'A')?)).copied()
}

/// The check-digit rule, the only copy in the crate.
///
/// The leading letter becomes two digits weighted 1 and 9; the second character (a digit, or
/// for old resident certificates the units digit of its letter's code) is weighted 8, the next
/// seven digits 7 … 1 and the check digit 1; the weighted sum must be divisible by 10.
fn checksum_ok(id: &[u8; 10]) -> bool {
    let Some(first) = letter_code(id[0]) else {
        return false;
    };
    let second = if id[1].is_ascii_digit() {
        id[1] - b'0'
    } else {
        match letter_code(id[1]) {
            Some(code) => code % 10,
            None => return false,
        }
    };
    let mut sum = u32::from(first / 10) + 9 * u32::from(first % 10) + 8 * u32::from(second);
    for (weight, &c) in (1..=7u32).rev().zip(&id[2..9]) {
        if !c.is_ascii_digit() {
            return false;
        }
        sum += weight * u32::from(c - b'0');
    }
    if !id[9].is_ascii_digit() {
        return false;
    }
    sum += u32::from(id[9] - b'0');
    sum % 10 == 0
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for NationalId {
    /// Masked like `Display`: a `{:?}` in a log line must not leak the ID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl FromStr for NationalId {
    type Err = Error;

    fn from_str(s: &str) -> Result<NationalId> {
        NationalId::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code_of(s: &str) -> Option<ErrorCode> {
        NationalId::parse(s).err().map(|e| e.code())
    }

    #[test]
    fn domain_examples() {
        let id = NationalId::parse("A123456789").unwrap();
        assert_eq!(id.kind(), IdKind::National);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.reveal(), "A123456789");
        assert_eq!(id.masked(), "A12345****");
        assert_eq!(id.last_four(), "6789");

        // Old style: C = 12, its units digit 2 stands in for the second digit:
        // 1·1 + 0·9 + 2·8 + (0·7 + 1·6 + 2·5 + 3·4 + 4·3 + 5·2 + 6·1) + 7 = 80.
        let old = NationalId::parse("AC01234567").unwrap();
        assert_eq!(old.kind(), IdKind::ResidentOld);
        assert_eq!(old.sex(), Sex::Male);

        let new = NationalId::parse("A800000014").unwrap();
        assert_eq!(new.kind(), IdKind::ResidentNew);
        assert_eq!(new.sex(), Sex::Male);

        // B = 11 → 1; the sum is 101: well-formed, wrong check digit.
        assert_eq!(code_of("AB12345678"), Some(ErrorCode::NationalIdChecksum));
    }

    #[test]
    fn sexes() {
        // Female national ID: A2 … ; 1 + 2·8 + (3·7+4·6+5·5+6·4+7·3+8·2+9·1) = 157 → check 3.
        let f = NationalId::parse("A234567893").unwrap();
        assert_eq!((f.kind(), f.sex()), (IdKind::National, Sex::Female));
        // Old resident, D = 13 → 3: 1 + 24 + 56 = 81 → check 9.
        let d = NationalId::parse("AD01234569").unwrap();
        assert_eq!((d.kind(), d.sex()), (IdKind::ResidentOld, Sex::Female));
        // New resident 9: 1 + 72 + 1 = 74 → check 6.
        let nine = NationalId::parse("A900000016").unwrap();
        assert_eq!((nine.kind(), nine.sex()), (IdKind::ResidentNew, Sex::Female));
    }

    #[test]
    fn normalises_case_and_whitespace() {
        let id = NationalId::parse("  a123456789\n").unwrap();
        assert_eq!(id.reveal(), "A123456789");
        assert_eq!(NationalId::parse("ac01234567").unwrap().reveal(), "AC01234567");
        assert_eq!("A123456789".parse::<NationalId>().unwrap(), id);
    }

    #[test]
    fn malformed_and_checksum() {
        for bad in [
            "",
            "A12345678",
            "A1234567890",
            "1123456789",
            "A323456789",
            "AE12345678",
            "A12345678X",
            "Ａ123456789",
            "A12345678９",
            "A1234 6789",
        ] {
            assert_eq!(code_of(bad), Some(ErrorCode::NationalIdInvalid), "{bad}");
        }
        for bad in ["A123456788", "B123456789", "A800000015", "AC01234568"] {
            assert_eq!(code_of(bad), Some(ErrorCode::NationalIdChecksum), "{bad}");
        }
    }

    #[test]
    fn the_checksum_has_blind_spots() {
        // A change of 5 at an even weight (here 6) adds 30 to the sum, which the rule cannot
        // see; the property tests pin exactly which single-digit changes are caught.
        assert!(NationalId::parse("A128456789").is_ok());
        // Swapping two neighbouring digits is caught here (weights 8 and 7 differ by one).
        assert_eq!(code_of("A213456789"), Some(ErrorCode::NationalIdChecksum));
    }

    #[test]
    fn errors_do_not_echo_the_input() {
        for bad in ["A12345678", "A123456788", "A1234567X9", "Z99999999999"] {
            let err = NationalId::parse(bad).unwrap_err();
            for lang in [Lang::ZhTw, Lang::En] {
                let message = err.message(lang);
                assert!(!message.contains("5678"), "{message}");
                assert!(!message.contains("9999"), "{message}");
            }
            assert!(!format!("{err:?}").contains("5678"));
        }
    }

    #[test]
    fn printing_is_masked() {
        let id = NationalId::parse("A123456789").unwrap();
        assert_eq!(id.to_string(), "A12345****");
        assert_eq!(format!("{id:?}"), "A12345****");
        assert!(!format!("{id:?} {id} {:?}", Some(id)).contains("6789"));
    }

    #[test]
    fn letter_codes_cover_the_alphabet() {
        let mut codes: Vec<u8> = (b'A'..=b'Z').filter_map(letter_code).collect();
        codes.sort_unstable();
        assert_eq!(codes, (10..=35).collect::<Vec<u8>>());
        assert_eq!(letter_code(b'I'), Some(34));
        assert_eq!(letter_code(b'O'), Some(35));
        assert_eq!(letter_code(b'W'), Some(32));
        assert_eq!(letter_code(b'a'), None);
        assert_eq!(letter_code(b'0'), None);
    }

    #[test]
    fn kinds_and_sexes_serialise_snake_case() {
        assert_eq!(serde_json::to_string(&IdKind::ResidentOld).unwrap(), "\"resident_old\"");
        assert_eq!(serde_json::to_string(&Sex::Female).unwrap(), "\"female\"");
        assert_eq!(IdKind::ResidentNew.as_str(), "resident_new");
        assert_eq!(Sex::Male.label(Lang::ZhTw), "男");
    }
}
