//! Reading the CSV files agencies prepare (staff lists, award-order batches), in one place.
//!
//! A file has a header row naming its columns (in any order; extra columns are ignored; an
//! Excel byte-order mark is fine). Every line is checked before anything is written, and all
//! bad lines are reported together, each with its line number.

use std::io::Read;

use crate::error::{Error, ErrorCode, Result};
use crate::types::Lang;

/// One data line, read by column name.
pub(crate) struct Record<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Record<'_> {
    fn column(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    }

    /// Whether the file has this column.
    pub fn has(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    /// The trimmed value of a column; empty when the column or the value is missing.
    pub fn get(&self, name: &str) -> &str {
        self.column(name).and_then(|i| self.record.get(i)).unwrap_or("").trim()
    }

    /// A yes/no column: `Y`, `是`, `yes` or `1` are yes.
    pub fn yes(&self, name: &str) -> bool {
        matches!(self.get(name), "Y" | "y" | "是" | "yes" | "1")
    }
}

/// An error of one line, naming it.
pub(crate) fn line_error(line: u64, e: &Error) -> Error {
    Error::with(
        ErrorCode::CsvInvalid,
        format!("第 {line} 行：{}", e.message(Lang::ZhTw)),
        format!("line {line}: {}", e.message(Lang::En)),
    )
}

fn invalid(zh: String, en: String) -> Error {
    Error::with(ErrorCode::CsvInvalid, zh, en)
}

/// Reads every data line with `parse`, after checking the `required` columns; returns each
/// line's number and value, or one error listing the bad lines (the first twenty in full).
pub(crate) fn read<T>(
    input: impl Read,
    required: &[&str],
    mut parse: impl FnMut(&Record<'_>) -> Result<T>,
) -> Result<Vec<(u64, T)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| invalid(format!("標題列錯誤：{e}"), format!("header: {e}")))?
        .clone();
    let probe = csv::StringRecord::new();
    let columns = Record {
        headers: &headers,
        record: &probe,
    };
    if let Some(missing) = required.iter().find(|c| !columns.has(c)) {
        return Err(invalid(
            format!("缺少欄位 {missing}"),
            format!("missing column {missing}"),
        ));
    }
    let mut rows = Vec::new();
    let mut bad: Vec<Error> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(e.to_string(), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        match parse(&Record {
            headers: &headers,
            record: &record,
        }) {
            Ok(v) => rows.push((line, v)),
            Err(e) => bad.push(line_error(line, &e)),
        }
    }
    match bad.len() {
        0 => Ok(rows),
        1 => Err(bad.remove(0)),
        n => {
            let details = |lang| {
                bad.iter()
                    .take(20)
                    .filter_map(move |e| e.detail().map(|d| d.get(lang).to_owned()))
            };
            Err(invalid(
                format!("共 {n} 行錯誤：{}", details(Lang::ZhTw).collect::<Vec<_>>().join("；")),
                format!("{n} bad lines: {}", details(Lang::En).collect::<Vec<_>>().join("; ")),
            ))
        }
    }
}
