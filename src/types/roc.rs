//! ROC (民國) dates and Taiwan times.
//!
//! Taiwanese forms, cards and letters count years from the founding of the Republic in 1912:
//! ROC year = Gregorian year − 1911, and there is no year 0. Three written forms are in use and
//! all are read and written here: `108/04/03` (forms and query screens), `1080403` (the NHI
//! card's seven characters) and `民國108年04月03日` (letters). JSON uses ISO dates.
//!
//! A [`RocDate`] is limited to ROC years 1 to 999 (1912-01-01 to 2910-12-31): the card's
//! seven-character form has three year digits, and nothing in this domain lies outside.

use std::fmt;
use std::str::FromStr;

use time::macros::offset;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::error::{Error, ErrorCode, Result};

/// Taiwan's offset from UTC. Taiwan has had no daylight saving time since 1979, and none of the
/// dates here are older.
const TAIWAN: UtcOffset = offset!(+8);

/// The difference between Gregorian and ROC years.
const ROC_OFFSET: i32 = 1911;

/// The largest ROC year: the seven-character card form has room for three digits.
const MAX_ROC_YEAR: i32 = 999;

/// A calendar day, read and written in the ROC forms that Taiwanese paperwork uses.
///
/// It wraps a [`time::Date`] between 1912-01-01 (民國1年1月1日) and 2910-12-31 (民國999年12月31日).
/// `Display` gives the slash form; serde uses the ISO form (`2019-04-03`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RocDate(Date);

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::DateInvalid, zh.into(), en.into())
}

fn unreadable() -> Error {
    invalid(
        "日期應寫成 108/04/03、1080403 或 民國108年04月03日",
        "write the date as 108/04/03, 1080403 or 民國108年04月03日",
    )
}

/// Reads 1 to `max` ASCII digits as a number; anything else is `None`.
fn digits(s: &str, max: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl RocDate {
    /// The date with this ROC year, month and day; fails for year 0 or before, years past 999 and
    /// days that do not exist (民國108年2月29日).
    pub fn new(roc_year: i32, month: u8, day: u8) -> Result<RocDate> {
        if roc_year < 1 {
            return Err(invalid(
                "民國年份須為 1 以上（民國元年為西元 1912 年，沒有民國 0 年）",
                "the ROC year must be 1 or later (ROC year 1 is 1912; there is no year 0)",
            ));
        }
        if roc_year > MAX_ROC_YEAR {
            return Err(invalid("民國年份不可超過 999", "the ROC year must not exceed 999"));
        }
        let month = Month::try_from(month).map_err(|_| invalid("月份應為 1 至 12", "the month must be 1 to 12"))?;
        let date = Date::from_calendar_date(roc_year + ROC_OFFSET, month, day)
            .map_err(|_| invalid("此日期不存在", "there is no such day in that month"))?;
        Ok(RocDate(date))
    }

    /// The same day from a Gregorian date; fails before 1912-01-01 and after 2910-12-31.
    pub fn from_gregorian(date: Date) -> Result<RocDate> {
        let roc_year = date.year() - ROC_OFFSET;
        if roc_year < 1 {
            return Err(invalid(
                "民國元年（1912 年）以前的日期無法以民國紀年表示",
                "dates before 1912 (ROC year 1) have no ROC form",
            ));
        }
        if roc_year > MAX_ROC_YEAR {
            return Err(invalid("民國年份不可超過 999", "the ROC year must not exceed 999"));
        }
        Ok(RocDate(date))
    }

    /// The same day in the Gregorian calendar, for arithmetic and storage.
    pub fn to_gregorian(self) -> Date {
        self.0
    }

    /// The ROC year: Gregorian year − 1911, always 1 or more.
    pub fn roc_year(self) -> i32 {
        self.0.year() - ROC_OFFSET
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        u8::from(self.0.month())
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> u8 {
        self.0.day()
    }

    /// Reads any of the three written forms: `108/04/03` (or `108/4/3`), `1080403` (exactly
    /// seven digits, as on the NHI card) or `民國108年04月03日` (with or without `民國` and leading
    /// zeros). Surrounding whitespace is ignored; anything else, ISO included, is refused so that
    /// a Gregorian date is never taken for an ROC one.
    pub fn parse(s: &str) -> Result<RocDate> {
        let s = s.trim();
        if s.contains('/') {
            let mut parts = s.split('/');
            let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                return Err(unreadable());
            };
            return Self::from_parts(y, m, d);
        }
        if s.contains('年') {
            let rest = s.strip_prefix("民國").unwrap_or(s);
            let Some((y, rest)) = rest.split_once('年') else {
                return Err(unreadable());
            };
            let Some((m, rest)) = rest.split_once('月') else {
                return Err(unreadable());
            };
            let Some(d) = rest.strip_suffix('日') else {
                return Err(unreadable());
            };
            return Self::from_parts(y, m, d);
        }
        Self::parse_compact(s)
    }

    /// Reads exactly the seven-digit `yyyMMdd` form of the NHI card (`1080403`, `0991231`),
    /// without trimming: card fields are fixed-width.
    pub fn parse_compact(s: &str) -> Result<RocDate> {
        if s.len() != 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unreadable());
        }
        match (s.get(0..3), s.get(3..5), s.get(5..7)) {
            (Some(y), Some(m), Some(d)) => Self::from_parts(y, m, d),
            _ => Err(unreadable()),
        }
    }

    fn from_parts(y: &str, m: &str, d: &str) -> Result<RocDate> {
        match (digits(y, 3), digits(m, 2), digits(d, 2)) {
            (Some(y), Some(m), Some(d)) => Self::new(
                i32::try_from(y).map_err(|_| unreadable())?,
                u8::try_from(m).map_err(|_| unreadable())?,
                u8::try_from(d).map_err(|_| unreadable())?,
            ),
            _ => Err(unreadable()),
        }
    }

    /// Reads a Gregorian ISO 8601 date (`2019-04-03`), the form JSON and databases use.
    pub fn parse_iso(s: &str) -> Result<RocDate> {
        let iso = || invalid("日期應寫成 2019-04-03 的格式", "write the date as 2019-04-03");
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(iso());
        }
        let (Some(y), Some(m), Some(d)) = (s.get(0..4), s.get(5..7), s.get(8..10)) else {
            return Err(iso());
        };
        let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
            return Err(iso());
        };
        let year = i32::try_from(y).map_err(|_| iso())?;
        let month = u8::try_from(m).map_err(|_| iso())?;
        let day = u8::try_from(d).map_err(|_| iso())?;
        let month = Month::try_from(month).map_err(|_| invalid("月份應為 1 至 12", "the month must be 1 to 12"))?;
        let date = Date::from_calendar_date(year, month, day)
            .map_err(|_| invalid("此日期不存在", "there is no such day in that month"))?;
        Self::from_gregorian(date)
    }

    /// `108/04/03`: the form of forms and query screens (the year is not padded: `99/12/31`).
    pub fn to_slash(self) -> String {
        format!("{}/{:02}/{:02}", self.roc_year(), self.month(), self.day())
    }

    /// `1080403`: the NHI card's form, always seven characters (`0991231`).
    pub fn to_compact(self) -> String {
        format!("{:03}{:02}{:02}", self.roc_year(), self.month(), self.day())
    }

    /// `民國108年04月03日`: the form of letters and award orders.
    pub fn to_zh(self) -> String {
        format!("民國{}年{:02}月{:02}日", self.roc_year(), self.month(), self.day())
    }

    /// `2019-04-03`: the Gregorian ISO form, for JSON and databases.
    pub fn to_iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.0.year(), self.month(), self.day())
    }

    /// Today's date in Taiwan at the instant `now` (passed in, so tests control the clock).
    ///
    /// A clock outside 1912–2910 is not a real clock; the result then saturates at the nearest
    /// end of the range instead of failing.
    pub fn today_in_taiwan(now: OffsetDateTime) -> RocDate {
        RocDateTime::from(now).date()
    }

    /// The date of a Gregorian day, clamped into the supported range.
    fn saturating(date: Date) -> RocDate {
        let min = Date::from_calendar_date(1 + ROC_OFFSET, Month::January, 1);
        let max = Date::from_calendar_date(MAX_ROC_YEAR + ROC_OFFSET, Month::December, 31);
        match (min, max) {
            (Ok(min), _) if date < min => RocDate(min),
            (_, Ok(max)) if date > max => RocDate(max),
            _ => RocDate(date),
        }
    }
}

impl fmt::Display for RocDate {
    /// The slash form, `108/04/03`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_slash())
    }
}

impl fmt::Debug for RocDate {
    /// Both calendars, so a test failure is readable either way: `RocDate(108/04/03 = 2019-04-03)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RocDate({} = {})", self.to_slash(), self.to_iso())
    }
}

impl FromStr for RocDate {
    type Err = Error;

    /// Same as [`RocDate::parse`]: the ROC forms only.
    fn from_str(s: &str) -> Result<RocDate> {
        RocDate::parse(s)
    }
}

impl serde::Serialize for RocDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

impl<'de> serde::Deserialize<'de> for RocDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RocDate::parse_iso(&text).map_err(serde::de::Error::custom)
    }
}

/// An instant shown as Taiwan's wall-clock time (UTC+8), for messages such as lockouts and
/// maintenance windows.
///
/// The wrapped value is always at offset +08:00. Conversion never fails: in the unreachable case
/// that the instant lies at the very end of `time`'s range, it is kept at its own offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RocDateTime(OffsetDateTime);

impl From<OffsetDateTime> for RocDateTime {
    fn from(instant: OffsetDateTime) -> Self {
        RocDateTime(instant.checked_to_offset(TAIWAN).unwrap_or(instant))
    }
}

impl RocDateTime {
    /// The instant itself, at offset +08:00.
    pub fn offset_date_time(self) -> OffsetDateTime {
        self.0
    }

    /// The calendar day in Taiwan (saturating outside 1912–2910, see [`RocDate::today_in_taiwan`]).
    pub fn date(self) -> RocDate {
        RocDate::saturating(self.0.date())
    }

    fn zh_year(self) -> String {
        let roc_year = self.0.year() - ROC_OFFSET;
        if roc_year >= 1 {
            format!("{roc_year}年")
        } else {
            format!("前{}年", 1 - roc_year)
        }
    }

    /// `民國108年04月03日 14:05`: for messages such as "try again at …".
    pub fn to_zh(&self) -> String {
        format!(
            "民國{}{:02}月{:02}日 {:02}:{:02}",
            self.zh_year(),
            u8::from(self.0.month()),
            self.0.day(),
            self.0.hour(),
            self.0.minute()
        )
    }

    /// `107年10月5日20時`: the style of NHI maintenance announcements (no 民國, no zero padding,
    /// whole hours).
    pub fn to_zh_hour(&self) -> String {
        format!(
            "{}{}月{}日{}時",
            self.zh_year(),
            u8::from(self.0.month()),
            self.0.day(),
            self.0.hour()
        )
    }

    /// `2019-04-03T14:05:00+08:00`: RFC 3339 at Taiwan's offset, to the second.
    pub fn to_iso(&self) -> String {
        let offset = self.0.offset();
        let (oh, om, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day(),
            self.0.hour(),
            self.0.minute(),
            self.0.second(),
            oh.unsigned_abs(),
            om.unsigned_abs()
        )
    }

    /// `108/04/03 14:05`: the form of lists and query screens.
    pub fn to_slash(&self) -> String {
        let roc_year = self.0.year() - ROC_OFFSET;
        format!(
            "{roc_year}/{:02}/{:02} {:02}:{:02}",
            u8::from(self.0.month()),
            self.0.day(),
            self.0.hour(),
            self.0.minute()
        )
    }
}

/// A wall-clock time `HH:MM`, `HH:MM:SS` or `HHMM`.
fn clock_time(s: &str) -> Option<time::Time> {
    let (h, m, sec) = if s.contains(':') {
        let mut parts = s.split(':');
        let h = parts.next()?;
        let m = parts.next()?;
        let sec = parts.next().unwrap_or("0");
        if parts.next().is_some() {
            return None;
        }
        (digits(h, 2)?, digits(m, 2)?, digits(sec, 2)?)
    } else if s.len() == 4 {
        (digits(s.get(0..2)?, 2)?, digits(s.get(2..4)?, 2)?, 0)
    } else {
        return None;
    };
    time::Time::from_hms(u8::try_from(h).ok()?, u8::try_from(m).ok()?, u8::try_from(sec).ok()?).ok()
}

impl RocDateTime {
    /// Reads an instant as an operator types it on the command line: an ROC date in any of
    /// [`RocDate::parse`]'s forms with an optional time (`115/03/01 08:00`, `1150301 0800`,
    /// `1150301`, which is midnight), or ISO (`2026-03-01`, `2026-03-01 08:00`,
    /// `2026-03-01T08:00:00`, or RFC 3339 with its own offset). Without an offset the time is
    /// Taiwan's (+08:00), since that is the clock the announcements are read by.
    pub fn parse(s: &str) -> Result<RocDateTime> {
        let s = s.trim();
        let unreadable = || {
            invalid(
                format!("無法解讀時間「{s}」：請寫成 115/03/01 08:00、1150301 或 2026-03-01T08:00+08:00"),
                format!("cannot read the time {s:?}: write 115/03/01 08:00, 1150301 or 2026-03-01T08:00+08:00"),
            )
        };
        if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            return Ok(RocDateTime::from(t));
        }
        let iso = s.len() >= 10 && s.as_bytes()[4] == b'-';
        let (day, clock) = if iso {
            match s.split_once(['T', ' ']) {
                Some((d, t)) => (d, Some(t.trim())),
                None => (s, None),
            }
        } else {
            match s.split_once(char::is_whitespace) {
                Some((d, t)) => (d, Some(t.trim())),
                None => (s, None),
            }
        };
        let date = if iso {
            RocDate::parse_iso(day)?
        } else {
            RocDate::parse(day)?
        };
        let at = match clock {
            None => time::Time::MIDNIGHT,
            Some(t) => clock_time(t).ok_or_else(unreadable)?,
        };
        Ok(RocDateTime::from(
            date.to_gregorian().with_time(at).assume_offset(TAIWAN),
        ))
    }
}

impl fmt::Display for RocDateTime {
    /// The slash form, `108/04/03 14:05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_slash())
    }
}

impl serde::Serialize for RocDateTime {
    /// JSON carries instants as RFC 3339 in Taiwan time (`2019-04-03T14:05:00+08:00`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> serde::Deserialize<'de> for RocDateTime {
    /// Reads RFC 3339 (any offset; shown again at Taiwan's), the form [`serde::Serialize`] writes.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .map(RocDateTime::from)
            .map_err(serde::de::Error::custom)
    }
}

/// The OpenAPI schema of a date as JSON carries it: ISO, a `format: date` string.
#[cfg(feature = "http")]
impl schemars::JsonSchema for RocDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RocDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "description": "a day as ISO 8601 (2019-04-03 for ROC 108/04/03)",
            "examples": ["2019-04-03"]
        })
    }
}

/// The OpenAPI schema of an instant as JSON carries it: RFC 3339 at Taiwan's offset.
#[cfg(feature = "http")]
impl schemars::JsonSchema for RocDateTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RocDateTime".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "an instant as RFC 3339, written at Taiwan's offset (+08:00)",
            "examples": ["2019-04-03T14:05:00+08:00"]
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn operator_times_in_roc_or_iso_forms() {
        let eight = datetime!(2026-03-01 08:00 +8);
        for s in [
            "115/03/01 08:00",
            "115/3/1 08:00:00",
            "1150301 0800",
            "2026-03-01T08:00",
            "2026-03-01 08:00",
            "2026-03-01T08:00:00+08:00",
            "2026-03-01T00:00:00Z",
        ] {
            assert_eq!(RocDateTime::parse(s).unwrap().offset_date_time(), eight, "{s}");
        }
        let midnight = datetime!(2026-03-01 00:00 +8);
        for s in ["1150301", "115/03/01", "2026-03-01", "民國115年3月1日"] {
            assert_eq!(RocDateTime::parse(s).unwrap().offset_date_time(), midnight, "{s}");
        }
        for bad in [
            "",
            "115/02/30 08:00",
            "115/03/01 25:00",
            "1150301 8",
            "2026-13-01",
            "tomorrow",
        ] {
            assert_eq!(
                RocDateTime::parse(bad).unwrap_err().code(),
                ErrorCode::DateInvalid,
                "{bad}"
            );
        }
    }

    fn code_of(r: Result<RocDate>) -> Option<ErrorCode> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn three_forms_read() {
        let d = RocDate::new(108, 4, 3).unwrap();
        for s in [
            "108/04/03",
            "108/4/3",
            " 108/04/03 ",
            "1080403",
            "民國108年04月03日",
            "民國108年4月3日",
            "108年04月03日",
            "108年4月3日",
        ] {
            assert_eq!(RocDate::parse(s).unwrap(), d, "{s}");
        }
        assert_eq!(d.to_gregorian(), date!(2019 - 04 - 03));
        assert_eq!((d.roc_year(), d.month(), d.day()), (108, 4, 3));

        let d99 = RocDate::new(99, 12, 31).unwrap();
        assert_eq!(RocDate::parse("99/12/31").unwrap(), d99);
        assert_eq!(RocDate::parse("0991231").unwrap(), d99);
        assert_eq!(RocDate::parse("民國99年12月31日").unwrap(), d99);
        assert_eq!(d99.to_gregorian(), date!(2010 - 12 - 31));
    }

    #[test]
    fn three_forms_written() {
        let d = RocDate::new(108, 4, 3).unwrap();
        assert_eq!(d.to_slash(), "108/04/03");
        assert_eq!(d.to_compact(), "1080403");
        assert_eq!(d.to_zh(), "民國108年04月03日");
        assert_eq!(d.to_iso(), "2019-04-03");
        assert_eq!(d.to_string(), "108/04/03");

        let early = RocDate::new(1, 1, 1).unwrap();
        assert_eq!(early.to_compact(), "0010101");
        assert_eq!(early.to_slash(), "1/01/01");
        assert_eq!(early.to_iso(), "1912-01-01");
        assert_eq!(RocDate::new(99, 12, 31).unwrap().to_compact(), "0991231");
    }

    #[test]
    fn year_zero_and_before_do_not_exist() {
        for s in ["0/01/01", "0000101", "民國0年1月1日", "000/12/31"] {
            assert_eq!(code_of(RocDate::parse(s)), Some(ErrorCode::DateInvalid), "{s}");
        }
        assert_eq!(code_of(RocDate::new(0, 1, 1)), Some(ErrorCode::DateInvalid));
        assert_eq!(code_of(RocDate::new(-5, 1, 1)), Some(ErrorCode::DateInvalid));
        assert_eq!(
            code_of(RocDate::from_gregorian(date!(1911 - 12 - 31))),
            Some(ErrorCode::DateInvalid)
        );
        assert_eq!(code_of(RocDate::parse_iso("1911-12-31")), Some(ErrorCode::DateInvalid));
        assert!(RocDate::from_gregorian(date!(1912 - 01 - 01)).is_ok());
        let message = RocDate::new(0, 1, 1).unwrap_err().message(crate::types::Lang::ZhTw);
        assert!(message.contains("民國 0 年"), "{message}");
    }

    #[test]
    fn other_forms_are_refused() {
        for s in [
            "",
            "2019-04-03",
            "2019/04/03",
            "108-04-03",
            "108/04",
            "108/04/03/01",
            "108//03",
            "1080/04/03",
            "108/004/03",
            "108/+4/03",
            "108/13/01",
            "108/02/29",
            "108/04/31",
            "108043",
            "10804031",
            "108O403",
            "民國108年04月03",
            "民國108年04月",
            "民國108年4月3日日",
            "民國年4月3日",
            "中華民國108年4月3日",
            "１０８/04/03",
        ] {
            assert_eq!(code_of(RocDate::parse(s)), Some(ErrorCode::DateInvalid), "{s}");
        }
        assert!(RocDate::parse("109/02/29").is_ok());
        assert_eq!(
            code_of(RocDate::parse_compact(" 1080403")),
            Some(ErrorCode::DateInvalid)
        );
    }

    #[test]
    fn iso() {
        let d = RocDate::parse_iso("2019-04-03").unwrap();
        assert_eq!(d, RocDate::new(108, 4, 3).unwrap());
        for s in [
            "2019-4-3",
            "20190403",
            "108/04/03",
            "2019-02-29",
            "+019-04-03",
            "2019-04-03T00",
        ] {
            assert_eq!(code_of(RocDate::parse_iso(s)), Some(ErrorCode::DateInvalid), "{s}");
        }
    }

    #[test]
    fn range_top() {
        assert!(RocDate::new(999, 12, 31).is_ok());
        assert_eq!(code_of(RocDate::new(1000, 1, 1)), Some(ErrorCode::DateInvalid));
        assert_eq!(RocDate::new(999, 12, 31).unwrap().to_compact(), "9991231");
    }

    #[test]
    fn serde_uses_iso() {
        let d = RocDate::new(108, 4, 3).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2019-04-03\"");
        assert_eq!(serde_json::from_str::<RocDate>("\"2019-04-03\"").unwrap(), d);
        assert!(serde_json::from_str::<RocDate>("\"108/04/03\"").is_err());
        assert!(serde_json::from_str::<RocDate>("\"1900-01-01\"").is_err());
    }

    #[test]
    fn today_is_taken_in_taiwan() {
        // 2019-04-02 16:30 UTC is already 2019-04-03 00:30 in Taipei.
        let now = datetime!(2019-04-02 16:30 UTC);
        assert_eq!(RocDate::today_in_taiwan(now), RocDate::new(108, 4, 3).unwrap());
        let now = datetime!(2019-04-02 15:59 UTC);
        assert_eq!(RocDate::today_in_taiwan(now), RocDate::new(108, 4, 2).unwrap());
        let old = datetime!(1900-01-01 0:00 UTC);
        assert_eq!(RocDate::today_in_taiwan(old), RocDate::new(1, 1, 1).unwrap());
    }

    #[test]
    fn date_times() {
        let t = RocDateTime::from(datetime!(2019-04-03 06:05:09 UTC));
        assert_eq!(t.to_zh(), "民國108年04月03日 14:05");
        assert_eq!(t.to_slash(), "108/04/03 14:05");
        assert_eq!(t.to_string(), "108/04/03 14:05");
        assert_eq!(t.to_iso(), "2019-04-03T14:05:09+08:00");
        assert_eq!(t.date(), RocDate::new(108, 4, 3).unwrap());
        assert_eq!(t.offset_date_time(), datetime!(2019-04-03 14:05:09 +8));

        // The NHI announcement: 107年10月5日20時至107年10月6日4時.
        let from = RocDateTime::from(datetime!(2018-10-05 12:00 UTC));
        let to = RocDateTime::from(datetime!(2018-10-06 04:00 +8));
        assert_eq!(from.to_zh_hour(), "107年10月5日20時");
        assert_eq!(to.to_zh_hour(), "107年10月6日4時");
        assert_eq!(to.to_iso(), "2018-10-06T04:00:00+08:00");
    }

    #[test]
    fn date_times_before_the_republic_still_print() {
        let t = RocDateTime::from(datetime!(1911-06-01 00:00 +8));
        assert_eq!(t.to_zh(), "民國前1年06月01日 00:00");
    }
}
