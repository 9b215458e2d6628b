//! The storage layer: every SQL statement the engine runs, by area, with typed rows.
//!
//! The engine's rules (`portal/`) say what happens; this layer says how it is kept. Each
//! module holds the statements on one area's tables and returns rows as structs with named,
//! typed fields, so a rule reads `person.status`, never `row.text(3)`. The layers point one
//! way: `portal` → `db` → [`store`](crate::store) (the backends). Nothing here decides who may
//! do what; every function runs inside the caller's transaction ([`Tx`]), so an act and
//! everything it writes still commit together.
//!
//! Rows are declared with [`row!`](crate::db::row): one line per field names its type and the
//! column expression it is read from, and the macro gives the select list ([`COLUMNS`]) and the
//! decoder, in the same order, so the two cannot drift apart.
//!
//! [`COLUMNS`]: employees::Person::COLUMNS

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod challenges;
pub(crate) mod employees;
pub(crate) mod guards;
pub(crate) mod orders;
pub(crate) mod outbox;
pub(crate) mod records;
pub(crate) mod registrations;
pub(crate) mod sessions;
pub(crate) mod site;

use time::OffsetDateTime;

use crate::error::Result;
use crate::store::{Row, Tx, Value, corrupt, for_batches, values_rows};

/// Milliseconds since the Unix epoch, the storage form of an instant.
pub(crate) fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The instant of a stored millisecond count.
pub(crate) fn from_millis(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| corrupt(format!("timestamp {ms} out of range")))
}

/// A type one column decodes into. A value of the wrong kind means the stored data is
/// damaged: the error says so ([`ErrorCode::DataCorrupt`](crate::ErrorCode::DataCorrupt)).
pub(crate) trait FromColumn: Sized {
    /// Decodes `value`; the error text says what was expected.
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String>;
}

impl FromColumn for i64 {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        match value {
            Value::Int(v) => Ok(v),
            other => Err(format!("expected integer, found {other:?}")),
        }
    }
}

impl FromColumn for bool {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        i64::from_column(value).map(|v| v != 0)
    }
}

impl FromColumn for String {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        match value {
            Value::Text(v) => Ok(v.into_owned()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}

impl FromColumn for Vec<u8> {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        match value {
            Value::Blob(v) => Ok(v.into_owned()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}

impl FromColumn for OffsetDateTime {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        let ms = i64::from_column(value)?;
        from_millis(ms).map_err(|_| format!("timestamp {ms} out of range"))
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_column(v).map(Some),
        }
    }
}

/// Integer columns narrower than the stored 64 bits.
macro_rules! narrow_ints {
    ($($t:ty),+) => {$(
        impl FromColumn for $t {
            fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
                let v = i64::from_column(value)?;
                <$t>::try_from(v).map_err(|_| format!("{v} out of range for {}", stringify!($t)))
            }
        }
    )+};
}
narrow_ints!(u8, u32, i32, u64, usize);

/// Domain types stored as their text form and read back with their own parser.
macro_rules! parsed_text {
    ($($t:ty => $parse:path),+ $(,)?) => {$(
        impl FromColumn for $t {
            fn from_column(value: Value<'static>) -> std::result::Result<Self, String> {
                let s = String::from_column(value)?;
                $parse(&s).map_err(|e: crate::Error| e.message(crate::types::Lang::En))
            }
        }
    )+};
}
parsed_text!(
    crate::types::NationalId => crate::types::NationalId::parse,
    crate::types::Email => crate::types::Email::parse,
    crate::types::RocDate => crate::types::RocDate::parse_iso,
    crate::types::AssuranceLevel => str::parse,
);

/// Takes the next column of a row being decoded; `field` names it in the error.
pub(crate) fn take<T: FromColumn>(values: &mut impl Iterator<Item = Value<'static>>, field: &str) -> Result<T> {
    let value = values
        .next()
        .ok_or_else(|| corrupt(format!("{field}: column missing")))?;
    T::from_column(value).map_err(|e| corrupt(format!("{field}: {e}")))
}

/// Declares a row a query returns: a struct whose fields each name the column expression they
/// are read from. It gains `COLUMNS`, the select list in field order, and `from_row`, which
/// decodes a row selected with it.
///
/// ```ignore
/// row! {
///     /// A session and its holder.
///     pub(crate) struct Holder {
///         pub employee_id: i64 = "s.employee_id",
///         pub ended_at: Option<i64> = "s.ended_at",
///     }
/// }
/// let sql = format!("SELECT {} FROM sessions s WHERE s.token_hash = ?", Holder::COLUMNS);
/// ```
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(#[$fmeta:meta])* $fvis:vis $first:ident : $fty:ty = $fcol:literal
            $(, $(#[$rmeta:meta])* $rvis:vis $field:ident : $ty:ty = $col:literal)* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $(#[$fmeta])* $fvis $first: $fty,
            $($(#[$rmeta])* $rvis $field: $ty,)*
        }

        impl $name {
            /// The select list this row is read from, in field order.
            #[allow(dead_code)]
            pub(crate) const COLUMNS: &'static str = concat!($fcol $(, ", ", $col)*);

            /// Decodes a row selected with [`Self::COLUMNS`].
            #[allow(dead_code)]
            pub(crate) fn from_row(row: $crate::store::Row) -> $crate::error::Result<Self> {
                let mut values = row.0.into_iter();
                Ok(Self {
                    $first: $crate::db::take(&mut values, stringify!($first))?,
                    $($field: $crate::db::take(&mut values, stringify!($field))?,)*
                })
            }
        }
    };
}
pub(crate) use row;

/// Decodes every row of a query into `T`.
pub(crate) fn rows<T>(rows: Vec<Row>, decode: impl Fn(Row) -> Result<T>) -> Result<Vec<T>> {
    rows.into_iter().map(decode).collect()
}

/// A query's single value (`SELECT id …`, `SELECT count(*) …`), if it returned a row.
pub(crate) fn first<T: FromColumn>(rows: Vec<Row>) -> Result<Option<T>> {
    match rows.into_iter().next() {
        None => Ok(None),
        Some(row) => take(&mut row.0.into_iter(), "value").map(Some),
    }
}

/// `?, ?, ?`: the placeholders of an `IN` list of `n` values.
pub(crate) fn in_list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Runs `sql` (with `{}` where the `IN` list goes) for `keys`, a batch at a time, and collects
/// its rows.
pub(crate) fn query_in(tx: &mut dyn Tx, sql: &str, keys: &[Value<'_>]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for_batches(keys, |chunk| {
        out.extend(tx.query(&sql.replace("{}", &in_list(chunk.len())), chunk)?);
        Ok(())
    })?;
    Ok(out)
}

/// Runs a statement with `VALUES {}` over `rows` of `width` values each, a batch of rows per
/// statement: on PostgreSQL one network round trip per batch, on SQLite one pass through the
/// virtual machine (measured: a third faster than a prepared one-row statement per row).
pub(crate) fn write_rows(tx: &mut dyn Tx, sql: &str, width: usize, rows: &[Vec<Value<'_>>]) -> Result<()> {
    for_batches(rows, |chunk| {
        let sql = sql.replace("{}", &values_rows(chunk.len(), width));
        let params: Vec<Value<'_>> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &params).map(drop)
    })
}

/// SQLite's page cache size of this connection, in its own notation (negative: KiB).
pub(crate) fn sqlite_cache_size(tx: &mut dyn Tx) -> Result<i64> {
    tx.query_int("PRAGMA cache_size", &[])
}

/// Sets SQLite's page cache size of this connection (see [`sqlite_cache_size`]).
pub(crate) fn set_sqlite_cache_size(tx: &mut dyn Tx, size: i64) -> Result<()> {
    tx.execute(&format!("PRAGMA cache_size = {size}"), &[]).map(drop)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    row! {
        /// A row of every kind of column.
        #[derive(Debug)]
        struct Sample {
            id: i64 = "s.id",
            name: String = "s.name",
            note: Option<String> = "s.note",
            flag: bool = "s.flag",
            count: u8 = "s.count",
        }
    }

    fn row(values: Vec<Value<'static>>) -> Row {
        Row(values)
    }

    #[test]
    fn a_row_reads_its_columns_in_the_order_it_selects_them() {
        assert_eq!(Sample::COLUMNS, "s.id, s.name, s.note, s.flag, s.count");
        let s = Sample::from_row(row(vec![
            Value::Int(7),
            Value::from("王小明".to_owned()),
            Value::Null,
            Value::Int(1),
            Value::Int(3),
        ]))
        .unwrap();
        assert_eq!(
            (s.id, s.name.as_str(), s.note, s.flag, s.count),
            (7, "王小明", None, true, 3)
        );
    }

    #[test]
    fn a_damaged_row_is_data_corrupt_naming_the_field() {
        let wrong_type = row(vec![
            Value::Int(7),
            Value::Int(8),
            Value::Null,
            Value::Int(0),
            Value::Int(1),
        ]);
        let e = Sample::from_row(wrong_type).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DataCorrupt);
        assert!(e.message(crate::types::Lang::En).contains("name"), "{e}");

        let out_of_range = row(vec![
            Value::Int(7),
            Value::from("x"),
            Value::Null,
            Value::Int(0),
            Value::Int(300),
        ]);
        let e = Sample::from_row(out_of_range).unwrap_err();
        assert!(e.message(crate::types::Lang::En).contains("count"), "{e}");

        let short = row(vec![Value::Int(7), Value::from("x")]);
        let e = Sample::from_row(short).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DataCorrupt);
        assert!(e.message(crate::types::Lang::En).contains("note"), "{e}");
    }

    #[test]
    fn stored_domain_values_are_parsed_and_bad_ones_refused() {
        let id: crate::types::NationalId = FromColumn::from_column(Value::from("A123456789")).unwrap();
        assert_eq!(id.masked(), "A12345****");
        assert!(<crate::types::NationalId as FromColumn>::from_column(Value::from("A123456788")).is_err());
        let day: crate::types::RocDate = FromColumn::from_column(Value::from("2024-01-01")).unwrap();
        assert_eq!(day.to_iso(), "2024-01-01");
        let at: time::OffsetDateTime = FromColumn::from_column(Value::Int(1_700_000_000_000)).unwrap();
        assert_eq!(millis(at), 1_700_000_000_000);
        assert!(<time::OffsetDateTime as FromColumn>::from_column(Value::Int(i64::MAX)).is_err());
    }
}
