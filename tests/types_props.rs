//! Property tests of the domain types: round trips, the ID checksum, and that no parser panics
//! on any input.
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use ecpa::ErrorCode;
use ecpa::types::{
    AgencyCode, AssuranceLevel, CardNumber, CountyCode, DocumentNumber, Email, HouseholdAddress, HouseholdNumber,
    IdKind, Lang, NationalId, NhiCardData, Password, PersonName, Pin, RocDate, Sex, Strength, TownshipCode,
    VillageCode, password_strength,
};
use proptest::prelude::*;
use time::{Date, Month};

/// The letter codes of the ID checksum, written out independently of the crate's table.
fn letter_code(letter: u8) -> u32 {
    match letter {
        b'A'..=b'H' => u32::from(letter - b'A') + 10,
        b'I' => 34,
        b'J'..=b'N' => u32::from(letter - b'J') + 18,
        b'O' => 35,
        b'P'..=b'V' => u32::from(letter - b'P') + 23,
        b'W' => 32,
        b'X' => 30,
        b'Y' => 31,
        b'Z' => 33,
        _ => unreachable!("not an upper-case letter"),
    }
}

/// The weight of each position of the ten characters (the letter counts separately).
const WEIGHTS: [u32; 10] = [0, 8, 7, 6, 5, 4, 3, 2, 1, 1];

/// The value a second character contributes: a digit itself, or a letter's units digit.
fn second_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        letter_code(c) % 10
    }
}

/// Completes a letter, a second character and seven digits with the right check digit.
fn with_check_digit(first: u8, second: u8, body: &[u8; 7]) -> String {
    let code = letter_code(first);
    let mut sum = code / 10 + 9 * (code % 10) + 8 * second_value(second);
    for (i, d) in body.iter().enumerate() {
        sum += WEIGHTS[i + 2] * u32::from(*d);
    }
    let check = (10 - sum % 10) % 10;
    let mut s = String::new();
    s.push(char::from(first));
    s.push(char::from(second));
    for d in body {
        s.push(char::from(b'0' + d));
    }
    s.push(char::from_digit(check, 10).unwrap());
    s
}

fn valid_id() -> impl Strategy<Value = String> {
    (
        b'A'..=b'Z',
        prop::sample::select(vec![b'1', b'2', b'8', b'9', b'A', b'B', b'C', b'D']),
        prop::array::uniform7(0u8..10),
    )
        .prop_map(|(first, second, body)| with_check_digit(first, second, &body))
}

fn roc_range() -> impl Strategy<Value = Date> {
    let start = Date::from_calendar_date(1912, Month::January, 1).unwrap();
    let end = Date::from_calendar_date(2200, Month::December, 31).unwrap();
    (start.to_julian_day()..=end.to_julian_day()).prop_map(|jd| Date::from_julian_day(jd).unwrap())
}

/// Arbitrary text, and text made of the characters the parsers look for, so both random noise
/// and near misses are tried.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9/年月日民國字第號@.\\-+ _]{0,30}",
        "[0-9]{0,14}",
        "[A-Za-z][0-9A-Da-d][0-9]{8}",
    ]
}

proptest! {
    #[test]
    fn generated_ids_parse_and_round_trip(id in valid_id()) {
        let parsed = NationalId::parse(&id).unwrap();
        prop_assert_eq!(parsed.reveal(), id.as_str());
        prop_assert_eq!(NationalId::parse(&id.to_ascii_lowercase()).unwrap(), parsed);
        prop_assert_eq!(NationalId::parse(&format!(" {id}\t")).unwrap(), parsed);
        prop_assert_eq!(NationalId::parse(parsed.reveal()).unwrap(), parsed);
        prop_assert_eq!(parsed.masked(), format!("{}****", &id[..6]));
        prop_assert_eq!(format!("{parsed}"), parsed.masked());
        prop_assert_eq!(format!("{parsed:?}"), parsed.masked());
        prop_assert_eq!(parsed.last_four(), &id[6..]);
        let second = id.as_bytes()[1];
        let kind = match second {
            b'1' | b'2' => IdKind::National,
            b'8' | b'9' => IdKind::ResidentNew,
            _ => IdKind::ResidentOld,
        };
        prop_assert_eq!(parsed.kind(), kind);
        let sex = if matches!(second, b'1' | b'8' | b'A' | b'C') { Sex::Male } else { Sex::Female };
        prop_assert_eq!(parsed.sex(), sex);
    }

    /// Changing one digit breaks the ID exactly when the checksum can see it: the weighted
    /// change is not a multiple of 10. (It cannot see a change of 5 at an even weight, or an
    /// even change at weight 5: that is the checksum's own limit.) The check digit itself has
    /// weight 1, so changing it always breaks the ID.
    #[test]
    fn changing_one_digit_breaks_the_id(id in valid_id(), pos in 1usize..10, step in 1u8..10) {
        let bytes = id.as_bytes();
        let old = bytes[pos];
        if !old.is_ascii_digit() {
            // The second character of an old resident certificate is a letter, not a digit.
            return Ok(());
        }
        let new_digit = (old - b'0' + step) % 10;
        let mut mutated = bytes.to_vec();
        mutated[pos] = b'0' + new_digit;
        let mutated = String::from_utf8(mutated).unwrap();
        let result = NationalId::parse(&mutated);
        let shape_ok = pos != 1 || matches!(b'0' + new_digit, b'1' | b'2' | b'8' | b'9');
        let delta = u32::from(old.abs_diff(b'0' + new_digit));
        let invisible = (WEIGHTS[pos] * delta).is_multiple_of(10);
        if !shape_ok {
            prop_assert_eq!(result.err().map(|e| e.code()), Some(ErrorCode::NationalIdInvalid));
        } else if invisible {
            prop_assert!(result.is_ok());
        } else {
            prop_assert_eq!(result.err().map(|e| e.code()), Some(ErrorCode::NationalIdChecksum));
        }
        if pos == 9 {
            prop_assert!(NationalId::parse(&mutated).is_err());
        }
    }

    #[test]
    fn roc_dates_round_trip(date in roc_range()) {
        let d = RocDate::from_gregorian(date).unwrap();
        prop_assert_eq!(d.to_gregorian(), date);
        prop_assert_eq!(d.roc_year(), date.year() - 1911);
        prop_assert_eq!(d.month(), u8::from(date.month()));
        prop_assert_eq!(d.day(), date.day());
        prop_assert_eq!(RocDate::new(d.roc_year(), d.month(), d.day()).unwrap(), d);

        let slash = d.to_slash();
        let compact = d.to_compact();
        let zh = d.to_zh();
        prop_assert_eq!(compact.len(), 7);
        prop_assert_eq!(RocDate::parse(&slash).unwrap(), d);
        prop_assert_eq!(RocDate::parse(&compact).unwrap(), d);
        prop_assert_eq!(RocDate::parse_compact(&compact).unwrap(), d);
        prop_assert_eq!(RocDate::parse(&zh).unwrap(), d);
        prop_assert_eq!(RocDate::parse_iso(&d.to_iso()).unwrap(), d);
        prop_assert_eq!(d.to_string(), slash);

        let (y, m, day) = (d.roc_year(), d.month(), d.day());
        prop_assert_eq!(RocDate::parse(&format!("{y}/{m}/{day}")).unwrap(), d);
        prop_assert_eq!(RocDate::parse(&format!("{y}年{m}月{day}日")).unwrap(), d);
        prop_assert_eq!(RocDate::parse(&format!("民國{y}年{m}月{day}日")).unwrap(), d);

        let json = serde_json::to_string(&d).unwrap();
        prop_assert_eq!(serde_json::from_str::<RocDate>(&json).unwrap(), d);
    }

    #[test]
    fn parsers_never_panic(s in any_text()) {
        let _ = NationalId::parse(&s);
        let _ = RocDate::parse(&s);
        let _ = RocDate::parse_compact(&s);
        let _ = RocDate::parse_iso(&s);
        let _ = AgencyCode::parse(&s);
        let _ = DocumentNumber::parse(&s);
        let _ = Email::parse(&s).map(|e| (e.domain().len(), e.microsoft_warning()));
        let _ = Password::new(s.as_str()).map(|p| p.strength());
        let _ = Password::confirm(s.as_str(), &s);
        let _ = Pin::new(s.as_str());
        let _ = HouseholdNumber::parse(&s).map(|h| h.masked());
        let _ = CountyCode::parse(&s);
        let _ = TownshipCode::parse(&s);
        let _ = VillageCode::parse(&s);
        let _ = HouseholdAddress::new(&s, &s, &s, 1);
        let _ = CardNumber::parse(&s).map(|c| c.masked());
        let _ = PersonName::new(&s);
        let _ = PersonName::from_big5(s.as_bytes());
        let _ = Lang::from_str(&s);
        let _ = AssuranceLevel::from_str(&s);
        let _ = password_strength(&s);
        let _ = serde_json::from_str::<RocDate>(&format!("{s:?}"));
        let _ = serde_json::from_str::<Email>(&format!("{s:?}"));
    }

    /// A value that parses prints back to a text that parses to the same value.
    #[test]
    fn accepted_text_round_trips(s in any_text()) {
        if let Ok(a) = AgencyCode::parse(&s) {
            prop_assert_eq!(AgencyCode::parse(a.as_str()).unwrap(), a);
        }
        if let Ok(d) = DocumentNumber::parse(&s) {
            prop_assert_eq!(DocumentNumber::parse(d.as_str()).unwrap(), d.clone());
            prop_assert_eq!(format!("{}字第{}號", d.word(), d.serial()), d.as_str());
        }
        if let Ok(e) = Email::parse(&s) {
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }
        if let Ok(d) = RocDate::parse(&s) {
            prop_assert_eq!(RocDate::parse(&d.to_slash()).unwrap(), d);
        }
    }

    #[test]
    fn card_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = NhiCardData::parse(&bytes);
    }

    #[test]
    fn near_valid_cards_never_panic(data in card_data(), at in 0usize..57, byte in any::<u8>()) {
        let mut bytes = data.to_bytes();
        bytes[at] = byte;
        if let Ok(parsed) = NhiCardData::parse(&bytes) {
            // Whatever parses writes back to the same record, up to the name's padding.
            let again = parsed.to_bytes();
            prop_assert_eq!(&again[..12], &bytes[..12]);
            // The ID may have been read in lower case; it is written back upper-case.
            prop_assert!(again[32..].eq_ignore_ascii_case(&bytes[32..]));
        }
    }

    #[test]
    fn card_data_round_trips(data in card_data()) {
        let bytes = data.to_bytes();
        prop_assert_eq!(NhiCardData::parse(&bytes).unwrap(), data);
    }

    #[test]
    fn meter_is_monotone(s in "[A-Za-z0-9~!@#$%^&*?.]{0,14}", c in "[A-Za-z0-9~!@#$%^&*?.]", at in 0usize..15) {
        let before = password_strength(&s);
        let mut longer = s.clone();
        longer.insert_str(at.min(s.len()), &c);
        prop_assert!(password_strength(&longer) >= before);
        let appended = format!("{s}{c}");
        prop_assert!(password_strength(&appended) >= before);
    }
}

/// Characters that Big5 encodes and decodes unchanged.
const NAME_CHARS: &str = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高小明華美玲志偉文淑芬";

fn card_data() -> impl Strategy<Value = NhiCardData> {
    let chars: Vec<char> = NAME_CHARS.chars().collect();
    let name = prop_oneof![
        prop::collection::vec(prop::sample::select(chars), 1..=10).prop_map(|cs| cs.into_iter().collect::<String>()),
        "[A-Z][a-z]{0,8}( [A-Z][a-z]{0,8})?",
    ];
    ("[0-9]{12}", name, valid_id(), roc_range(), any::<bool>(), roc_range()).prop_map(
        |(number, name, id, birth, male, issue)| NhiCardData {
            card_number: CardNumber::parse(&number).unwrap(),
            name: PersonName::new(&name).unwrap(),
            national_id: NationalId::parse(&id).unwrap(),
            birth_date: RocDate::from_gregorian(birth).unwrap(),
            sex: if male { Sex::Male } else { Sex::Female },
            issue_date: RocDate::from_gregorian(issue).unwrap(),
        },
    )
}

#[test]
fn meter_labels_cover_every_step() {
    for (s, step) in [
        ("abc", Strength::Weak),
        ("abc123", Strength::Medium),
        ("Abcd1234", Strength::MediumStrong),
        ("Abcd123!", Strength::Strong),
    ] {
        assert_eq!(password_strength(s), step);
        assert!(!step.label(Lang::ZhTw).is_empty() && !step.label(Lang::En).is_empty());
    }
}
