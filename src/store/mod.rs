//! Storage: the engine's only way to the database.
//!
//! The engine's statements, kept by area in its storage layer (`db`), are portable SQL (`?`
//! placeholders, `RETURNING`, `ON CONFLICT`, partial indexes: what SQLite and PostgreSQL both
//! understand), run through two small traits:
//! [`Store`] hands out transactions, [`Tx`] executes statements inside one. Every change the
//! engine makes, single-row or not, happens inside [`StoreExt::write`], so a failure or a killed
//! process leaves either all of it or none of it. The schema and its versioned migrations are in
//! [`schema`]; [`sqlite::SqliteStore`] is the embedded backend (a file, or memory for throwaway
//! use); [`postgres::PostgresStore`] is the shared one, for several service processes on one
//! database. [`open_url`] picks one from a URL, [`open_url_with`] with PostgreSQL's connection
//! settings. Bulk writes (the directory import; bulk issuance on PostgreSQL) put many rows in
//! one statement ([`BATCH_ROWS`], see [`for_batches`] and [`values_rows`]).

mod pgtls;
pub mod postgres;
pub mod schema;
pub mod sqlite;

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, Result};

pub use postgres::{PostgresOptions, PostgresStore, SslMode};
pub use sqlite::SqliteStore;

/// Opens the store a URL names: `postgres://…` or `postgresql://…` is PostgreSQL (see
/// [`PostgresStore::connect`]); `sqlite:PATH`, or anything else taken as a path, is an SQLite
/// file. The schema is brought up to date by the portal that uses the store (PostgreSQL also
/// migrates on connect, under a lock, so that processes starting together do it once).
pub fn open_url(url: &str) -> Result<Box<dyn Store>> {
    open_url_with(url, &PostgresOptions::default())
}

/// Whether a database URL names PostgreSQL (`postgres://…` or `postgresql://…`); anything else
/// names an SQLite file. The one place that tells the two apart.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file an SQLite URL names: `sqlite://PATH`, `sqlite:PATH`, or the bare path.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// [`open_url`] with PostgreSQL's connection settings (TLS, CA file, pool size), as the
/// configuration's `[database]` section gives them. TLS settings with an SQLite file are
/// refused rather than ignored: whoever wrote them expected a network connection to protect.
pub fn open_url_with(url: &str, options: &PostgresOptions) -> Result<Box<dyn Store>> {
    if is_postgres_url(url) {
        return Ok(Box::new(PostgresStore::connect_with(url, options)?));
    }
    if matches!(options.sslmode, Some(SslMode::Require | SslMode::VerifyFull)) || options.ca_file.is_some() {
        return Err(Error::with(
            ErrorCode::ConfigInvalid,
            "sslmode 與 ca_file 僅適用於 PostgreSQL，SQLite 資料庫檔案不經網路連線",
            "sslmode and ca_file apply to PostgreSQL only: an SQLite file is not reached over a network",
        ));
    }
    let path = sqlite_path(url);
    if path.is_empty() {
        return Err(Error::with(
            ErrorCode::StorageUrlInvalid,
            "未指定 SQLite 資料庫檔案",
            "no SQLite database file given",
        ));
    }
    Ok(Box::new(SqliteStore::open(path)?))
}

/// Rows per multi-row statement at most (bulk issuance, the directory import). Each row is one
/// statement less: on PostgreSQL one network round trip less, on SQLite one pass through the
/// virtual machine less. 500 rows of the widest table (18 columns) are 9,000 parameters, under
/// SQLite's limit of 32,766 and PostgreSQL's of 65,535.
pub const BATCH_ROWS: usize = 500;

/// The row counts `n` rows are written in: whole batches of [`BATCH_ROWS`], then the rest as
/// powers of two (256, 128, …, 1). A multi-row statement is prepared once per row count and
/// kept in the connection's statement cache, so this bounds a statement to a dozen shapes
/// instead of one per possible remainder.
pub fn batch_sizes(n: usize) -> impl Iterator<Item = usize> {
    let full = n / BATCH_ROWS;
    let rest = n % BATCH_ROWS;
    let tail = (0..usize::BITS)
        .rev()
        .map(|bit| 1usize << bit)
        .filter(move |size| rest & size != 0);
    std::iter::repeat_n(BATCH_ROWS, full).chain(tail)
}

/// Runs `f` on consecutive slices of `items` of the sizes [`batch_sizes`] gives, stopping at
/// the first error.
pub fn for_batches<T>(items: &[T], mut f: impl FnMut(&[T]) -> Result<()>) -> Result<()> {
    let mut rest = items;
    for size in batch_sizes(items.len()) {
        let (head, tail) = rest.split_at(size);
        f(head)?;
        rest = tail;
    }
    Ok(())
}

/// `(?, ?, ?), (?, ?, ?)`: the `VALUES` list of `rows` rows of `width` placeholders.
pub fn values_rows(rows: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; rows].join(", ")
}

/// The SQL dialect of a backend, for the few statements (table definitions) that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or later.
    Sqlite,
    /// PostgreSQL 13 or later.
    Postgres,
}

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (also booleans, as 0 and 1, and timestamps, as Unix milliseconds).
    Int(i64),
    /// Text (also dates, as ISO `YYYY-MM-DD`).
    Text(Cow<'a, str>),
    /// Bytes.
    Blob(Cow<'a, [u8]>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}
impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Cow::Owned(v))
    }
}
impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, decoded by column position.
#[derive(Debug, Clone, Default)]
pub struct Row(pub Vec<Value<'static>>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value<'static>> {
        self.0.get(i).ok_or_else(|| corrupt(format!("column {i} missing")))
    }

    /// An integer column.
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(corrupt(format!("column {i}: expected integer, found {other:?}"))),
        }
    }

    /// A nullable integer column.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// A boolean stored as 0 or 1.
    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String> {
        match self.at(i)? {
            Value::Text(v) => Ok(v.clone().into_owned()),
            other => Err(corrupt(format!("column {i}: expected text, found {other:?}"))),
        }
    }

    /// A nullable text column.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// A text column parsed by `parse`; a failure means the stored data is damaged.
    pub fn parsed<T>(&self, i: usize, parse: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        let s = self.text(i)?;
        parse(&s).map_err(|e| corrupt(format!("column {i}: {}", e.message(crate::types::Lang::En))))
    }
}

/// A stored value that does not decode.
pub fn corrupt(what: impl Into<String>) -> Error {
    let what = what.into();
    Error::with(ErrorCode::DataCorrupt, what.clone(), what)
}

/// Statements inside one transaction.
pub trait Tx {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64>;
    /// Runs a query; returns all its rows.
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>>;

    /// Runs an `INSERT` (written without `RETURNING`) into a table whose key is its
    /// auto-numbered `id` column; returns the new row's `id`, or `None` if the statement
    /// inserted nothing (as `ON CONFLICT … DO NOTHING` may).
    ///
    /// The default appends `RETURNING id` and runs the statement as a query, which every
    /// backend understands. A backend may answer it more cheaply: SQLite runs a statement with
    /// `RETURNING` as a trigger that needs a statement journal, which costs a copy of every
    /// page the row touches, so [`SqliteStore`] reads the new row id from the connection instead.
    fn insert_id(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Option<i64>> {
        self.query(&format!("{sql} RETURNING id"), params)?
            .first()
            .map(|r| r.int(0))
            .transpose()
    }
}

impl dyn Tx + '_ {
    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The single integer a query such as `SELECT count(*)` or `UPDATE … RETURNING n` yields.
    pub fn query_int(&mut self, sql: &str, params: &[Value<'_>]) -> Result<i64> {
        self.query_opt(sql, params)?
            .ok_or_else(|| corrupt(format!("no row from: {sql}")))?
            .int(0)
    }

    /// The `id` of the row an `INSERT` (without `RETURNING`) must have created; see
    /// [`Tx::insert_id`].
    pub fn insert(&mut self, sql: &str, params: &[Value<'_>]) -> Result<i64> {
        self.insert_id(sql, params)?
            .ok_or_else(|| Error::internal(format!("nothing inserted by: {sql}")))
    }
}

/// A database that hands out transactions.
///
/// A transaction that fails is rolled back and its error returned, and the engine decides what
/// to do. One exception: a backend whose concurrency control aborts the loser of a conflict
/// (PostgreSQL at `SERIALIZABLE`) runs the transaction again, since it wrote nothing; so
/// [`Store::write_tx`] may call its closure more than once, and closures must touch nothing
/// but the database and their own locals.
pub trait Store: Send + Sync {
    /// The SQL dialect, for table definitions.
    fn dialect(&self) -> Dialect;
    /// Runs `f` in a read-only transaction (a consistent snapshot).
    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Runs `f` in a read-write transaction: committed if `f` returns `Ok`, rolled back otherwise.
    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;

    /// Writes a consistent copy of the whole database, taken while the portal keeps running, to
    /// the file `dest`; an existing file is replaced only if `replace`. The copy appears whole
    /// or not at all. This is the embedded backend's backup (`ecpa backup`); a database server
    /// has its own tools, so the default refuses (PostgreSQL: `pg_dump`).
    fn backup_to(&self, dest: &std::path::Path, replace: bool) -> Result<()> {
        let _ = (dest, replace);
        Err(Error::with(
            ErrorCode::StorageFailure,
            "此資料庫不支援線上備份，請使用資料庫本身的工具（PostgreSQL：pg_dump）",
            "this database has no online backup here: use its own tools (PostgreSQL: pg_dump)",
        ))
    }
}

/// Typed helpers over [`Store`], so callers get their value out of a transaction.
pub trait StoreExt: Store {
    /// Runs `f` in a read-only transaction and returns its value.
    fn read<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.read_tx(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::internal("read transaction returned no value"))
    }

    /// Runs `f` in a read-write transaction and returns its value once committed.
    fn write<T>(&self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.write_tx(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::internal("write transaction returned no value"))
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_whole_then_powers_of_two() {
        assert_eq!(batch_sizes(0).count(), 0);
        assert_eq!(batch_sizes(1).collect::<Vec<_>>(), [1]);
        assert_eq!(batch_sizes(500).collect::<Vec<_>>(), [500]);
        assert_eq!(batch_sizes(1_003).collect::<Vec<_>>(), [500, 500, 2, 1]);
        assert_eq!(batch_sizes(499).collect::<Vec<_>>(), [256, 128, 64, 32, 16, 2, 1]);
        for n in [0, 1, 7, 499, 500, 501, 12_345] {
            assert_eq!(batch_sizes(n).sum::<usize>(), n);
        }
        let items: Vec<usize> = (0..1_003).collect();
        let mut seen = Vec::new();
        for_batches(&items, |chunk| {
            seen.extend_from_slice(chunk);
            Ok(())
        })
        .expect("no error");
        assert_eq!(seen, items);
        assert_eq!(values_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
