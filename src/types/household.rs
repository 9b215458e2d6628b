//! The household register (戶籍): household number and registered address, which the NHI card
//! registration asks for to tie a card to its holder.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

use super::ascii_str;

/// A household number (戶號) from the household register booklet: one letter and seven digits,
/// stored upper-case.
///
/// It points at a family's register entry, so it is personal data: `Debug` and `Display` show
/// the masked form `F1****67`, and there are no serde impls; [`HouseholdNumber::as_str`] gives
/// the full value where it is really needed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HouseholdNumber([u8; 8]);

impl HouseholdNumber {
    /// Checks a typed household number: the format's only copy. Whitespace around it is
    /// ignored and the letter may be typed in lower case.
    pub fn parse(s: &str) -> Result<HouseholdNumber> {
        let invalid = || Error::new(ErrorCode::HouseholdNumberInvalid);
        let mut b: [u8; 8] = s.trim().as_bytes().try_into().map_err(|_| invalid())?;
        b[0].make_ascii_uppercase();
        if !b[0].is_ascii_uppercase() || !b[1..].iter().all(u8::is_ascii_digit) {
            return Err(invalid());
        }
        Ok(HouseholdNumber(b))
    }

    /// The full number.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }

    /// The first two and last two characters around four stars: `F1****67`.
    pub fn masked(&self) -> String {
        format!("{}****{}", ascii_str(&self.0[..2]), ascii_str(&self.0[6..]))
    }
}

impl fmt::Display for HouseholdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for HouseholdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HouseholdNumber({})", self.masked())
    }
}

impl FromStr for HouseholdNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<HouseholdNumber> {
        HouseholdNumber::parse(s)
    }
}

fn division_invalid(zh: &'static str, en: &'static str) -> Error {
    Error::with(ErrorCode::AdminDivisionInvalid, zh, en)
}

/// The 22 current counties and cities (縣市) with their codes, from the Ministry of the
/// Interior's administrative division table.
const COUNTIES: [(&str, &str); 22] = [
    ("63000", "臺北市"),
    ("64000", "高雄市"),
    ("65000", "新北市"),
    ("66000", "臺中市"),
    ("67000", "臺南市"),
    ("68000", "桃園市"),
    ("10002", "宜蘭縣"),
    ("10004", "新竹縣"),
    ("10005", "苗栗縣"),
    ("10007", "彰化縣"),
    ("10008", "南投縣"),
    ("10009", "雲林縣"),
    ("10010", "嘉義縣"),
    ("10013", "屏東縣"),
    ("10014", "臺東縣"),
    ("10015", "花蓮縣"),
    ("10016", "澎湖縣"),
    ("10017", "基隆市"),
    ("10018", "新竹市"),
    ("10020", "嘉義市"),
    ("09007", "連江縣"),
    ("09020", "金門縣"),
];

/// A county or city (縣市), by its five-digit code; only the 22 current ones exist.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountyCode(&'static (&'static str, &'static str));

impl CountyCode {
    /// Looks up a five-digit county code such as `63000`.
    pub fn parse(s: &str) -> Result<CountyCode> {
        let s = s.trim();
        if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(division_invalid("縣市代碼應為 5 位數字", "a county code has 5 digits"));
        }
        COUNTIES
            .iter()
            .find(|(code, _)| *code == s)
            .map(CountyCode)
            .ok_or_else(|| division_invalid("查無此縣市代碼", "there is no current county or city with this code"))
    }

    /// Every current county and city, in the table's order: for the form's drop-down list.
    pub fn all() -> impl Iterator<Item = CountyCode> {
        COUNTIES.iter().map(CountyCode)
    }

    /// The five-digit code.
    pub fn as_str(&self) -> &'static str {
        self.0.0
    }

    /// The county's name, e.g. 臺北市.
    pub fn name(&self) -> &'static str {
        self.0.1
    }
}

impl fmt::Debug for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountyCode({} {})", self.as_str(), self.name())
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads exactly `N` ASCII digits.
fn fixed_digits<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b: [u8; N] = s.trim().as_bytes().try_into().ok()?;
    b.iter().all(u8::is_ascii_digit).then_some(b)
}

/// A township, city district or county-administered city (鄉鎮市區), by its eight-digit code.
/// Its first five digits are its county's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TownshipCode([u8; 8]);

impl TownshipCode {
    /// Checks the shape of an eight-digit township code (whether it lies in a given county is
    /// checked by [`HouseholdAddress::new`]).
    pub fn parse(s: &str) -> Result<TownshipCode> {
        fixed_digits(s)
            .map(TownshipCode)
            .ok_or_else(|| division_invalid("鄉鎮市區代碼應為 8 位數字", "a township code has 8 digits"))
    }

    /// The eight-digit code.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }
}

impl fmt::Display for TownshipCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A village or urban neighbourhood unit (村里), by its eleven-digit code. Its first eight
/// digits are its township's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VillageCode([u8; 11]);

impl VillageCode {
    /// Checks the shape of an eleven-digit village code.
    pub fn parse(s: &str) -> Result<VillageCode> {
        fixed_digits(s)
            .map(VillageCode)
            .ok_or_else(|| division_invalid("村里代碼應為 11 位數字", "a village code has 11 digits"))
    }

    /// The eleven-digit code.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }
}

impl fmt::Display for VillageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The household registration address as the NHI form asks for it: county, township, village
/// and neighbourhood (鄰) number. Street and number are not needed to match a registration.
///
/// [`HouseholdAddress::new`] checks that the codes nest; the fields are public for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HouseholdAddress {
    /// 縣市.
    pub county: CountyCode,
    /// 鄉鎮市區, inside `county`.
    pub township: TownshipCode,
    /// 村里, inside `township`.
    pub village: VillageCode,
    /// 鄰, 1 to 999.
    pub neighbourhood: u16,
}

impl HouseholdAddress {
    /// Checks each code and that the township lies in the county and the village in the
    /// township.
    pub fn new(county: &str, township: &str, village: &str, neighbourhood: u16) -> Result<HouseholdAddress> {
        let county = CountyCode::parse(county)?;
        let township = TownshipCode::parse(township)?;
        let village = VillageCode::parse(village)?;
        if !township.as_str().starts_with(county.as_str()) {
            return Err(division_invalid(
                "鄉鎮市區不屬於所選縣市",
                "the township is not in the chosen county",
            ));
        }
        if !village.as_str().starts_with(township.as_str()) {
            return Err(division_invalid(
                "村里不屬於所選鄉鎮市區",
                "the village is not in the chosen township",
            ));
        }
        if !(1..=999).contains(&neighbourhood) {
            return Err(division_invalid(
                "鄰應為 1 至 999",
                "the neighbourhood number must be 1 to 999",
            ));
        }
        Ok(HouseholdAddress {
            county,
            township,
            village,
            neighbourhood,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code_of<T>(r: Result<T>) -> Option<ErrorCode> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn household_numbers() {
        let h = HouseholdNumber::parse(" f1234567 ").unwrap();
        assert_eq!(h.as_str(), "F1234567");
        assert_eq!(h.masked(), "F1****67");
        assert_eq!(h.to_string(), "F1****67");
        assert_eq!(format!("{h:?}"), "HouseholdNumber(F1****67)");
        assert!(!format!("{h} {h:?}").contains("345"));
        for bad in [
            "",
            "F123456",
            "F12345678",
            "12345678",
            "FF234567",
            "F123456X",
            "Ｆ1234567",
        ] {
            assert_eq!(
                code_of(HouseholdNumber::parse(bad)),
                Some(ErrorCode::HouseholdNumberInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn counties() {
        assert_eq!(CountyCode::all().count(), 22);
        let taipei = CountyCode::parse("63000").unwrap();
        assert_eq!((taipei.as_str(), taipei.name()), ("63000", "臺北市"));
        assert_eq!(CountyCode::parse("09020").unwrap().name(), "金門縣");
        assert_eq!(CountyCode::parse("10017").unwrap().name(), "基隆市");
        // 10001 was 臺北縣, now 新北市 (65000); 10006 was 桃園縣.
        for bad in ["", "10001", "10006", "6300", "630000", "6300A"] {
            assert_eq!(
                code_of(CountyCode::parse(bad)),
                Some(ErrorCode::AdminDivisionInvalid),
                "{bad}"
            );
        }
        let mut codes: Vec<&str> = CountyCode::all().map(|c| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 22);
    }

    #[test]
    fn addresses() {
        let a = HouseholdAddress::new("63000", "63000010", "63000010001", 5).unwrap();
        assert_eq!(a.county.name(), "臺北市");
        assert_eq!(a.township.as_str(), "63000010");
        assert_eq!(a.village.as_str(), "63000010001");
        assert_eq!(a.neighbourhood, 5);
        assert!(HouseholdAddress::new("63000", "63000010", "63000010001", 999).is_ok());
        for (county, township, village, n) in [
            ("63000", "64000010", "64000010001", 5),
            ("63000", "63000010", "63000020001", 5),
            ("63000", "63000010", "63000010001", 0),
            ("63000", "63000010", "63000010001", 1000),
            ("63000", "6300001", "63000010001", 5),
            ("63000", "63000010", "6300001000", 5),
            ("99999", "99999010", "99999010001", 5),
        ] {
            let got = code_of(HouseholdAddress::new(county, township, village, n));
            assert_eq!(
                got,
                Some(ErrorCode::AdminDivisionInvalid),
                "{county} {township} {village} {n}"
            );
        }
    }
}
