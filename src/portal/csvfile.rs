//! Reading the CSV files agencies prepare (staff lists, award-order batches), in one place.
//!
//! A file has a header row naming its columns (in any order; extra columns are ignored; an
//! Excel byte-order mark is fine). Every line is checked before anything is written, and all
//! bad lines are reported together, each with its line number ([`Error::CsvLines`]).
//!
//! Files come from Excel as often as from scripts, so [`decode_csv_text`] reads the two
//! encodings an agency's files are in: UTF-8 (with or without the byte-order mark Excel writes)
//! and Big5 as Excel on a zh-TW Windows saves "CSV" (code page 950; `encoding_rs`'s Big5 is the
//! WHATWG superset of it, so CP950's own extensions decode too).

use std::io::Read;

use crate::error::{Error, ErrorCode, LineError, Result, Text};
use crate::types::Lang;

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// UTF-8 if the bytes are valid UTF-8, otherwise Big5: a Big5 file of Chinese text is
    /// practically never valid UTF-8, while a UTF-8 file always is.
    #[default]
    Auto,
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// Big5 / CP950, as Excel on zh-TW Windows saves it.
    Big5,
}

impl std::str::FromStr for CsvEncoding {
    type Err = Error;

    /// `auto`, `utf-8` (or `utf8`), `big5` (or `cp950`), in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(CsvEncoding::Auto),
            "utf-8" | "utf8" => Ok(CsvEncoding::Utf8),
            "big5" | "cp950" => Ok(CsvEncoding::Big5),
            other => Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("編碼應為 auto、utf-8 或 big5，不是「{other}」"),
                format!("the encoding must be auto, utf-8 or big5, not {other:?}"),
            )),
        }
    }
}

/// The line (1-based) of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// Decodes Big5; on a malformed sequence, the offset of its first byte.
fn big5(bytes: &[u8]) -> std::result::Result<String, usize> {
    use encoding_rs::DecoderResult;
    let mut decoder = encoding_rs::BIG5.new_decoder_without_bom_handling();
    // Big5 is two bytes per Chinese character, three in UTF-8; ASCII stays one.
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2 + 16);
    let mut read_total = 0;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(&bytes[read_total..], &mut out, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::OutputFull => out.reserve(bytes.len() - read_total + 16),
            DecoderResult::Malformed(bad, extra) => {
                return Err(read_total.saturating_sub(usize::from(bad) + usize::from(extra)));
            }
        }
    }
}

fn undecodable(bytes: &[u8], what_zh: &str, what_en: &str, offset: usize) -> Error {
    let line = line_of(bytes, offset);
    let byte = bytes.get(offset).copied().unwrap_or(0);
    Error::with(
        ErrorCode::CsvInvalid,
        format!("檔案不是 {what_zh} 編碼：第 {line} 行（位元組位置 {offset}，0x{byte:02X}）無法解讀"),
        format!("the file is not {what_en}: line {line} (byte offset {offset}, 0x{byte:02X}) does not decode"),
    )
}

/// Decodes a CSV file's bytes to text (see the module documentation); a UTF-8 byte-order
/// mark is dropped. A file that does not decode is [`ErrorCode::CsvInvalid`] naming the
/// first bad byte's offset and line. UTF-8 keeps the file's own buffer: a staff file is
/// megabytes, and a copy of it was fresh memory to fault in.
pub fn decode_csv_text(bytes: Vec<u8>, encoding: CsvEncoding) -> Result<String> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let without_bom = |mut text: String| {
        if bom {
            text.drain(..'\u{feff}'.len_utf8());
        }
        text
    };
    match encoding {
        CsvEncoding::Big5 => big5(&bytes).map_err(|at| undecodable(&bytes, "Big5", "Big5", at)),
        CsvEncoding::Auto if !bom => match String::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(e) => {
                let bytes = e.into_bytes();
                big5(&bytes).map_err(|at| undecodable(&bytes, "UTF-8 或 Big5", "UTF-8 or Big5", at))
            }
        },
        // The mark is valid UTF-8 (U+FEFF), so offsets count from the file's first byte.
        CsvEncoding::Utf8 | CsvEncoding::Auto => String::from_utf8(bytes).map(without_bom).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            undecodable(e.as_bytes(), "UTF-8", "UTF-8", offset)
        }),
    }
}

/// A file's header row: where each column is, found by name once per file.
pub(crate) struct Header<'a> {
    /// The header row's names, without Excel's byte-order mark.
    names: &'a [&'a str],
}

impl Header<'_> {
    /// Where the column `name` is in this file (possibly nowhere).
    pub fn column(&self, name: &str) -> Column {
        Column(self.names.iter().position(|h| *h == name))
    }
}

/// A column's place in a file, found by [`Header::column`]: a line's value is then read by
/// position, not by comparing names on every line (a dozen values a line).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column(Option<usize>);

impl Column {
    /// Whether the file has this column.
    pub fn present(self) -> bool {
        self.0.is_some()
    }
}

/// Declares a struct of a file's columns, each field named as its column, and `of(header)`
/// finding them all.
macro_rules! columns {
    ($(#[$doc:meta])* struct $name:ident { $($column:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        struct $name {
            $($column: $crate::portal::csvfile::Column,)*
        }

        impl $name {
            fn of(header: &$crate::portal::csvfile::Header<'_>) -> Self {
                Self { $($column: header.column(stringify!($column)),)* }
            }
        }
    };
}
pub(crate) use columns;

/// One data line.
pub(crate) struct Record<'a> {
    record: &'a csv::StringRecord,
}

impl Record<'_> {
    /// The trimmed value of a column; empty when the column or the value is missing.
    pub fn get(&self, column: Column) -> &str {
        trim(column.0.and_then(|i| self.record.get(i)).unwrap_or(""))
    }

    /// A yes/no column: `Y`, `是`, `yes` or `1` are yes.
    pub fn yes(&self, column: Column) -> bool {
        matches!(self.get(column), "Y" | "y" | "是" | "yes" | "1")
    }
}

/// `str::trim`, answered without searching when the value neither starts nor ends with
/// whitespace (nearly every value of nearly every line).
fn trim(value: &str) -> &str {
    let mut chars = value.chars();
    let edge = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if edge(chars.next()) && edge(chars.next_back()) {
        value
    } else {
        value.trim()
    }
}

/// A line's failure, for [`Error::CsvLines`].
fn bad_line(line: u64, e: &Error) -> LineError {
    LineError {
        line,
        code: e.code(),
        message: Text::new(e.message(Lang::ZhTw), e.message(Lang::En)),
    }
}

/// An error of one line, naming it.
pub(crate) fn line_error(line: u64, e: &Error) -> Error {
    Error::CsvLines {
        lines: vec![bad_line(line, e)],
    }
}

fn invalid(zh: String, en: String) -> Error {
    Error::with(ErrorCode::CsvInvalid, zh, en)
}

/// Reads every data line with the parser `parser` makes from the header row, after checking
/// the `required` columns; returns each line's number and value, or one error listing every
/// bad line ([`Error::CsvLines`]).
pub(crate) fn read<T, P>(
    input: impl Read,
    required: &[&str],
    parser: impl FnOnce(&Header<'_>) -> P,
) -> Result<Vec<(u64, T)>>
where
    P: FnMut(&Record<'_>) -> Result<T>,
{
    // Values are trimmed where they are read ([`Record::get`]): the reader's own trimming
    // copied every line once more.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header_row = reader
        .headers()
        .map_err(|e| invalid(format!("標題列錯誤：{e}"), format!("header: {e}")))?
        .clone();
    let names: Vec<&str> = header_row
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim())
        .collect();
    let header = Header { names: &names };
    if let Some(missing) = required.iter().find(|c| !header.column(c).present()) {
        return Err(invalid(
            format!("缺少欄位 {missing}"),
            format!("missing column {missing}"),
        ));
    }
    let mut parse = parser(&header);
    let mut rows = Vec::new();
    let mut bad: Vec<LineError> = Vec::new();
    // One record, read into again and again: `parse` keeps what it needs of each line.
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| invalid(e.to_string(), e.to_string()))?
    {
        let line = record.position().map_or(0, |p| p.line());
        match parse(&Record { record: &record }) {
            Ok(v) => rows.push((line, v)),
            Err(e) => bad.push(bad_line(line, &e)),
        }
    }
    if bad.is_empty() {
        Ok(rows)
    } else {
        Err(Error::CsvLines { lines: bad })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "agency_code,name\n376470000A,王小明\n";

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode_csv_text(TEXT.into(), CsvEncoding::Auto).unwrap(), TEXT);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), TEXT.as_bytes()].concat();
        assert_eq!(decode_csv_text(with_bom.clone(), CsvEncoding::Auto).unwrap(), TEXT);
        assert_eq!(decode_csv_text(with_bom, CsvEncoding::Utf8).unwrap(), TEXT);
    }

    #[test]
    fn big5_as_excel_saves_it() {
        let (bytes, _, lossy) = encoding_rs::BIG5.encode(TEXT);
        assert!(!lossy);
        assert!(std::str::from_utf8(&bytes).is_err(), "Big5 Chinese is not UTF-8");
        assert_eq!(decode_csv_text(bytes.to_vec(), CsvEncoding::Auto).unwrap(), TEXT);
        assert_eq!(decode_csv_text(bytes.to_vec(), CsvEncoding::Big5).unwrap(), TEXT);
        // Forced UTF-8 names the first byte that is not.
        let e = decode_csv_text(bytes.to_vec(), CsvEncoding::Utf8).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CsvInvalid);
        let offset = TEXT.find('王').unwrap();
        assert!(
            e.message(Lang::En).contains(&format!("line 2 (byte offset {offset},")),
            "{}",
            e.message(Lang::En)
        );
    }

    #[test]
    fn neither_encoding_names_the_first_bad_byte() {
        // 0xFF is a lead byte in neither UTF-8 nor Big5.
        let bytes = b"agency_code,name\nA,B\nC,\xFF\xFF\n";
        let e = decode_csv_text(bytes.to_vec(), CsvEncoding::Auto).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CsvInvalid);
        let en = e.message(Lang::En);
        assert!(en.contains("line 3 (byte offset 23, 0xFF)"), "{en}");
        assert!(e.message(Lang::ZhTw).contains("第 3 行"));
        assert!(decode_csv_text(bytes.to_vec(), CsvEncoding::Big5).is_err());
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!("UTF-8".parse::<CsvEncoding>().unwrap(), CsvEncoding::Utf8);
        assert_eq!("big5".parse::<CsvEncoding>().unwrap(), CsvEncoding::Big5);
        assert_eq!("auto".parse::<CsvEncoding>().unwrap(), CsvEncoding::Auto);
        assert!("latin1".parse::<CsvEncoding>().is_err());
    }

    #[test]
    fn every_bad_line_is_kept() {
        let text: String = std::iter::once("a\n".to_owned())
            .chain((0..30).map(|i| format!("{i}\n")))
            .collect();
        let e = read(text.as_bytes(), &["a"], |_| {
            |_: &Record<'_>| -> Result<()> { Err(Error::new(ErrorCode::FieldInvalid)) }
        })
        .unwrap_err();
        let lines = e.line_errors();
        assert_eq!(lines.len(), 30);
        assert_eq!(lines[0].line, 2);
        assert_eq!(lines[29].line, 31);
        assert_eq!(lines[29].code, ErrorCode::FieldInvalid);
        assert!(e.message(Lang::En).contains("30 bad lines"));
    }
}
