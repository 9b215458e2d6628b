//! The NHI card (健保卡): its number, the holder's name as the card encodes it, and the 57-byte
//! basic data record the card returns.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

use super::{NationalId, RocDate, Sex, ascii_str};

/// The twelve-digit NHI card number (健保卡號), the key under which the card's online
/// registration is kept.
///
/// `Display` prints it in full (the registration screens show it); `Debug` shows only the first
/// four digits and eight stars (`CardNumber(0000********)`), so log lines that dump a whole
/// structure do not carry a login key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber([u8; 12]);

impl CardNumber {
    /// Checks a card number: exactly twelve ASCII digits, surrounding whitespace ignored.
    pub fn parse(s: &str) -> Result<CardNumber> {
        let b: [u8; 12] = s
            .trim()
            .as_bytes()
            .try_into()
            .map_err(|_| Error::new(ErrorCode::CardNumberInvalid))?;
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(Error::new(ErrorCode::CardNumberInvalid));
        }
        Ok(CardNumber(b))
    }

    /// The twelve digits.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }

    /// The first four digits and eight stars, as `Debug` prints it.
    pub fn masked(&self) -> String {
        format!("{}********", ascii_str(&self.0[..4]))
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl FromStr for CardNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<CardNumber> {
        CardNumber::parse(s)
    }
}

/// A person's name, as read from a card or typed into a form.
///
/// Names may hold rare characters outside Big5 (cards put them in the CNS 11643 private-use
/// area), so a card's name is decoded leniently and its raw bytes are always kept: the text is
/// for people, the bytes are what matches the card again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    /// The name as Unicode; undecodable characters are U+FFFD.
    pub text: String,
    /// The name in Big5, without the card's NUL or space padding.
    pub raw: Vec<u8>,
    /// Whether `text` and `raw` are not exact images of each other: `raw` held bytes that do
    /// not decode, or (for a typed name) `text` holds characters Big5 cannot encode, which are
    /// `?` in `raw`.
    pub lossy: bool,
}

impl PersonName {
    /// Decodes a card's Big5 name field, trimming trailing NUL and space padding. It never
    /// fails: one unknown character must not make the whole card unreadable.
    pub fn from_big5(raw: &[u8]) -> PersonName {
        let end = raw.iter().rposition(|&b| b != 0x00 && b != b' ').map_or(0, |i| i + 1);
        let raw = raw.get(..end).unwrap_or_default().to_vec();
        let (text, lossy) = encoding_rs::BIG5.decode_without_bom_handling(&raw);
        PersonName {
            text: text.into_owned(),
            raw,
            lossy,
        }
    }

    /// A name typed into a form: 1 to 40 characters after trimming, no control characters.
    /// Characters Big5 cannot encode are kept in `text`, written `?` in `raw`, and mark the
    /// name `lossy`.
    pub fn new(text: &str) -> Result<PersonName> {
        let text = text.trim();
        let count = text.chars().count();
        if !(1..=40).contains(&count) || text.chars().any(char::is_control) {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                "姓名應為 1 至 40 個字，且不可包含控制字元",
                "a name must be 1 to 40 characters with no control characters",
            ));
        }
        let mut raw = Vec::with_capacity(text.len());
        let mut lossy = false;
        let mut buf = [0u8; 4];
        for c in text.chars() {
            let (bytes, _, unmappable) = encoding_rs::BIG5.encode(c.encode_utf8(&mut buf));
            if unmappable {
                raw.push(b'?');
                lossy = true;
            } else {
                raw.extend_from_slice(&bytes);
            }
        }
        Ok(PersonName {
            text: text.to_owned(),
            raw,
            lossy,
        })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this name and one written elsewhere (the directory, a certificate's CN) are the
    /// same name: compared after NFKC (full-width letters and digits become half-width, the
    /// ideographic space a space) with all spaces removed. A character the card could not
    /// decode (U+FFFD) stands for any one character, since a rare character of a name is
    /// written in the directory as itself.
    pub fn same_as(&self, written: &str) -> bool {
        names_agree(&self.text, written)
    }
}

/// Whether two written forms of a person's name are the same name (see
/// [`PersonName::same_as`]): what binds a certificate or a card to the directory's person.
pub fn names_agree(a: &str, b: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let norm = |s: &str| -> Vec<char> { s.nfkc().filter(|c| !c.is_whitespace()).collect() };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty()
        && a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || *x == char::REPLACEMENT_CHARACTER || *y == char::REPLACEMENT_CHARACTER)
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Length of the NHI card's basic data record.
const RECORD_LEN: usize = 57;

/// The NHI card's basic data (基本資料), the 57 bytes that `READ` returns.
///
/// | bytes | field |
/// |---|---|
/// | `0..12` | card number, ASCII digits |
/// | `12..32` | name, Big5, padded with NUL or spaces |
/// | `32..42` | national ID or resident certificate number |
/// | `42..49` | birth date, ROC `yyyMMdd` |
/// | `49` | sex, `M` or `F` |
/// | `50..57` | issue date, ROC `yyyMMdd` |
///
/// `Debug` masks the ID and the card number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NhiCardData {
    /// 卡號.
    pub card_number: CardNumber,
    /// 姓名.
    pub name: PersonName,
    /// 身分證號或居留證號.
    pub national_id: NationalId,
    /// 出生日期.
    pub birth_date: RocDate,
    /// 性別.
    pub sex: Sex,
    /// 發卡日期: from its own field, not derived from the birth date (a bug of a known reader).
    pub issue_date: RocDate,
}

fn card_data_invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::CardDataInvalid, zh.into(), en.into())
}

/// An ASCII field of the record as text, or `None` if it holds other bytes.
fn ascii_field(field: &[u8]) -> Option<&str> {
    if field.is_ascii() {
        std::str::from_utf8(field).ok()
    } else {
        None
    }
}

/// Copies `src` to the start of `dst`, as much as fits.
fn put(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The longest prefix of Big5 bytes that fits in `max` bytes without splitting a two-byte
/// character (lead bytes are 0x81–0xFE).
fn big5_prefix(raw: &[u8], max: usize) -> &[u8] {
    let mut end = 0;
    while end < raw.len() {
        let width = if raw[end] >= 0x81 { 2 } else { 1 };
        if end + width > max {
            break;
        }
        end += width;
    }
    raw.get(..end.min(raw.len())).unwrap_or_default()
}

impl NhiCardData {
    /// Reads the record. A wrong length is `CardDataInvalid`; a bad field keeps its own code
    /// (`CardNumberInvalid`, `NationalIdInvalid`, `DateInvalid`, …). An undecodable name is not
    /// an error: see [`PersonName::from_big5`].
    pub fn parse(bytes: &[u8]) -> Result<NhiCardData> {
        let record: &[u8; RECORD_LEN] = bytes.try_into().map_err(|_| {
            card_data_invalid(
                format!("基本資料應為 57 位元組（讀到 {} 位元組）", bytes.len()),
                format!("the basic data must be 57 bytes (got {})", bytes.len()),
            )
        })?;
        let card_number = ascii_field(&record[0..12])
            .ok_or_else(|| Error::new(ErrorCode::CardNumberInvalid))
            .and_then(CardNumber::parse)?;
        let name = PersonName::from_big5(&record[12..32]);
        let national_id = ascii_field(&record[32..42])
            .ok_or_else(|| {
                Error::with(
                    ErrorCode::NationalIdInvalid,
                    "卡片上的身分證號含有非英數字元",
                    "the ID on the card holds bytes that are not ASCII",
                )
            })
            .and_then(NationalId::parse)?;
        let date = |field: &[u8]| {
            ascii_field(field)
                .ok_or_else(|| {
                    Error::with(
                        ErrorCode::DateInvalid,
                        "卡片上的日期含有非數字字元",
                        "a date on the card holds bytes that are not digits",
                    )
                })
                .and_then(RocDate::parse_compact)
        };
        let birth_date = date(&record[42..49])?;
        let sex = match record[49] {
            b'M' => Sex::Male,
            b'F' => Sex::Female,
            _ => {
                return Err(card_data_invalid("性別欄應為 M 或 F", "the sex byte must be M or F"));
            }
        };
        let issue_date = date(&record[50..57])?;
        Ok(NhiCardData {
            card_number,
            name,
            national_id,
            birth_date,
            sex,
            issue_date,
        })
    }

    /// Writes the record back, as a software card answers `READ`. The name's raw bytes are
    /// padded with NULs, or cut at a character boundary if longer than 20 bytes.
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        put(&mut out[0..12], self.card_number.as_str().as_bytes());
        put(&mut out[12..32], big5_prefix(&self.name.raw, 20));
        put(&mut out[32..42], self.national_id.reveal().as_bytes());
        put(&mut out[42..49], self.birth_date.to_compact().as_bytes());
        out[49] = match self.sex {
            Sex::Male => b'M',
            Sex::Female => b'F',
        };
        put(&mut out[50..57], self.issue_date.to_compact().as_bytes());
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 陳小明 in Big5.
    const CHEN_XIAOMING: [u8; 6] = [0xB3, 0xAF, 0xA4, 0x70, 0xA9, 0xFA];

    fn record(name: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(b"000012345678");
        let mut field = [0u8; 20];
        put(&mut field, name);
        r.extend_from_slice(&field);
        r.extend_from_slice(b"A123456789");
        r.extend_from_slice(b"0690115");
        r.push(b'M');
        r.extend_from_slice(b"1050720");
        r
    }

    #[test]
    fn card_numbers() {
        let c = CardNumber::parse(" 000012345678 ").unwrap();
        assert_eq!(c.as_str(), "000012345678");
        assert_eq!(c.to_string(), "000012345678");
        assert_eq!(format!("{c:?}"), "CardNumber(0000********)");
        assert!(!format!("{c:?}").contains("5678"));
        for bad in ["", "00001234567", "0000123456789", "00001234567X", "００0012345678"] {
            assert_eq!(
                CardNumber::parse(bad).err().map(|e| e.code()),
                Some(ErrorCode::CardNumberInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn big5_name_with_nul_and_space_padding() {
        let mut field = CHEN_XIAOMING.to_vec();
        field.extend_from_slice(&[0x20, 0x20, 0x00, 0x20, 0x00, 0x00]);
        let n = PersonName::from_big5(&field);
        assert_eq!(n.as_str(), "陳小明");
        assert_eq!(n.raw, CHEN_XIAOMING);
        assert!(!n.lossy);
        assert_eq!(PersonName::from_big5(&[0; 20]).as_str(), "");
        assert_eq!(PersonName::from_big5(b"   ").raw, b"");
    }

    #[test]
    fn undecodable_pair_is_lossy_and_kept() {
        // 0x81 0xA1 lies in a user-defined area the decoder has no mapping for.
        let field = [0xB3, 0xAF, 0x81, 0xA1, 0xA9, 0xFA, 0x00, 0x00];
        let n = PersonName::from_big5(&field);
        assert!(n.lossy);
        assert_eq!(n.raw, field[..6]);
        assert_eq!(n.as_str(), "陳\u{FFFD}明");
    }

    #[test]
    fn typed_names() {
        let n = PersonName::new(" 陳小明 ").unwrap();
        assert_eq!(n.as_str(), "陳小明");
        assert_eq!(n.raw, CHEN_XIAOMING);
        assert!(!n.lossy);
        // 𠀋 (U+2000B) is not in Big5.
        let rare = PersonName::new("陳𠀋明").unwrap();
        assert_eq!(rare.as_str(), "陳𠀋明");
        assert!(rare.lossy);
        assert_eq!(rare.raw, [0xB3, 0xAF, b'?', 0xA9, 0xFA]);
        assert!(PersonName::new("Wang Da-Ming").is_ok());
        for bad in ["", "   ", "陳\n明", "陳\u{0}明", &"名".repeat(41)] {
            assert_eq!(
                PersonName::new(bad).err().map(|e| e.code()),
                Some(ErrorCode::FieldInvalid),
                "{bad:?}"
            );
        }
        assert!(PersonName::new(&"名".repeat(40)).is_ok());
    }

    #[test]
    fn parses_a_record() {
        let bytes = record(&CHEN_XIAOMING);
        let d = NhiCardData::parse(&bytes).unwrap();
        assert_eq!(d.card_number.as_str(), "000012345678");
        assert_eq!(d.name.as_str(), "陳小明");
        assert_eq!(d.national_id.reveal(), "A123456789");
        assert_eq!(d.birth_date, RocDate::new(69, 1, 15).unwrap());
        assert_eq!(d.sex, Sex::Male);
        assert_eq!(d.to_bytes().to_vec(), bytes);
    }

    #[test]
    fn issue_date_is_its_own_field() {
        let d = NhiCardData::parse(&record(&CHEN_XIAOMING)).unwrap();
        assert_eq!(d.issue_date, RocDate::new(105, 7, 20).unwrap());
        assert_ne!(d.issue_date, d.birth_date);
    }

    #[test]
    fn debug_does_not_show_the_id() {
        let d = NhiCardData::parse(&record(&CHEN_XIAOMING)).unwrap();
        let debug = format!("{d:?}");
        assert!(debug.contains("A12345****"), "{debug}");
        assert!(!debug.contains("6789"), "{debug}");
        assert!(!debug.contains("12345678\""), "{debug}");
    }

    #[test]
    fn bad_records() {
        let code = |b: &[u8]| NhiCardData::parse(b).err().map(|e| e.code());
        assert_eq!(code(&[]), Some(ErrorCode::CardDataInvalid));
        assert_eq!(code(&record(&CHEN_XIAOMING)[..56]), Some(ErrorCode::CardDataInvalid));
        let mut long = record(&CHEN_XIAOMING);
        long.push(0x90);
        assert_eq!(code(&long), Some(ErrorCode::CardDataInvalid));

        let good = record(&CHEN_XIAOMING);
        let with = |at: usize, byte: u8| {
            let mut b = good.clone();
            b[at] = byte;
            b
        };
        assert_eq!(code(&with(3, b'X')), Some(ErrorCode::CardNumberInvalid));
        assert_eq!(code(&with(3, 0xB3)), Some(ErrorCode::CardNumberInvalid));
        assert_eq!(code(&with(41, b'0')), Some(ErrorCode::NationalIdChecksum));
        assert_eq!(code(&with(33, 0xA4)), Some(ErrorCode::NationalIdInvalid));
        assert_eq!(code(&with(45, b'9')), Some(ErrorCode::DateInvalid));
        assert_eq!(code(&with(49, b'X')), Some(ErrorCode::CardDataInvalid));
        assert_eq!(code(&with(56, b' ')), Some(ErrorCode::DateInvalid));
        assert_eq!(code(&with(50, 0xFF)), Some(ErrorCode::DateInvalid));
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        // 11 two-byte characters = 22 bytes; a 1-byte character first makes the cut fall mid-pair.
        let name = PersonName::new(&format!("A{}", "陳".repeat(10))).unwrap();
        assert_eq!(name.raw.len(), 21);
        let mut d = NhiCardData::parse(&record(&CHEN_XIAOMING)).unwrap();
        d.name = name;
        let bytes = d.to_bytes();
        assert_eq!(bytes[12], b'A');
        assert_eq!(&bytes[13..31], [0xB3, 0xAF].repeat(9).as_slice());
        assert_eq!(bytes[31], 0);
        let back = NhiCardData::parse(&bytes).unwrap();
        assert_eq!(back.name.as_str(), format!("A{}", "陳".repeat(9)));
        assert_eq!(big5_prefix(&[0xB3, 0xAF, 0xB3], 3), [0xB3, 0xAF]);
        assert_eq!(big5_prefix(b"abc", 2), b"ab");
    }
}
