//! The embedded backend: SQLite through `rusqlite` (bundled, so no system library is needed).
//!
//! A file database runs in WAL mode with a small pool of connections: readers never wait for
//! the writer, and writers queue on SQLite's own lock (`BEGIN IMMEDIATE` with a busy timeout),
//! which also serialises several processes sharing one file. `synchronous = NORMAL` in WAL mode
//! keeps every committed transaction across a killed process (only a power cut may lose the
//! last few). An in-memory database has exactly one connection, since each SQLite memory
//! connection is its own database.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, params_from_iter};

use super::{Dialect, Row, Store, Tx, Value};
use crate::error::{Error, ErrorCode, Result};

/// How long a writer waits for another process's write lock before giving up with
/// [`ErrorCode::StorageBusy`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections kept for reuse: two cores, a few threads.
const POOL_SIZE: usize = 8;

/// An SQLite database (file or memory).
pub struct SqliteStore {
    path: Option<PathBuf>,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    /// Writers of this process take turns here. SQLite lets one writer in at a time and makes
    /// the others poll with growing sleeps (up to 100 ms each), which under load turned a
    /// millisecond's wait into tens of milliseconds; queued on a lock, the next writer starts
    /// the moment the last one commits. Other processes are still kept out by SQLite's lock.
    writer: Mutex<()>,
}

struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) a database file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let first = connect(Some(&path))?;
        Ok(SqliteStore {
            path: Some(path),
            max: POOL_SIZE,
            pool: Mutex::new(Pool {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
            writer: Mutex::new(()),
        })
    }

    /// A private database in memory, gone when the store is dropped.
    pub fn in_memory() -> Result<Self> {
        let conn = connect(None)?;
        Ok(SqliteStore {
            path: None,
            max: 1,
            pool: Mutex::new(Pool {
                idle: vec![conn],
                open: 1,
            }),
            freed: Condvar::new(),
            writer: Mutex::new(()),
        })
    }

    /// The database file, if it is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        // A panic while holding the pool lock cannot leave the pool inconsistent (pushes and
        // pops are single operations), so a poisoned lock is safe to use.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> Result<Connection> {
        let mut pool = self.lock_pool();
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < self.max {
                pool.open += 1;
                drop(pool);
                return connect(self.path.as_deref()).inspect_err(|_| self.lock_pool().open -= 1);
            }
            pool = self.freed.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give_back(&self, conn: Connection) {
        self.lock_pool().idle.push(conn);
        self.freed.notify_one();
    }

    fn run(&self, begin: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let conn = self.take()?;
        let result = transaction(&conn, begin, f);
        // A connection whose ROLLBACK failed is in an unknown state: close it instead of reusing it.
        if conn.is_autocommit() {
            self.give_back(conn);
        } else {
            drop(conn);
            self.lock_pool().open -= 1;
            self.freed.notify_one();
        }
        result
    }
}

fn transaction(conn: &Connection, begin: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
    conn.execute_batch(begin).map_err(sql_error)?;
    let mut tx = SqliteTx { conn };
    match f(&mut tx) {
        Ok(()) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(sql_error(e))
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn connect(path: Option<&Path>) -> Result<Connection> {
    let conn = match path {
        Some(p) => Connection::open_with_flags(
            p,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        None => Connection::open_in_memory(),
    }
    .map_err(sql_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(128);
    // The query-planner stability guarantee: a statement's plan never depends on the values
    // bound to it. Without it SQLite marks most joins (and every query on a table with a partial
    // index) to be compiled again whenever a parameter is bound, which is every time a cached
    // statement runs: most of the time of a short query went to re-parsing and re-planning. The
    // engine's partial indexes are matched by literal conditions in its SQL, so no plan it
    // relies on needs the bound values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(sql_error)?;
    // Statement journals in memory: a statement that can fail after changing rows (a
    // multi-row insert or upsert) first copies every page it changes to a statement journal,
    // which SQLite otherwise spills past 64 KiB to a temporary file. A 100,000-person directory
    // import made 66,000 writes to that file, more than to the database and its log together;
    // a statement journal lives only as long as its statement.
    let pragmas = if path.is_some() {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
    } else {
        "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
    };
    conn.execute_batch(pragmas).map_err(sql_error)?;
    Ok(conn)
}

/// Maps an SQLite error to the crate's: lock time-outs are "busy", the rest "failure".
fn sql_error(e: rusqlite::Error) -> Error {
    let code = match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => ErrorCode::StorageBusy,
        _ => ErrorCode::StorageFailure,
    };
    Error::storage(code, e)
}

impl Store for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run("BEGIN DEFERRED", f)
    }

    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading
        // from a read lock; the busy timeout makes a writer of another process wait its turn.
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.run("BEGIN IMMEDIATE", f)
    }

    fn backup_to(&self, dest: &Path, replace: bool) -> Result<()> {
        // SQLite's online backup into a temporary file beside `dest`, renamed into place: a
        // reader of `dest` never sees half a copy, and a failure leaves nothing behind.
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".ecpa-backup-")
            .tempfile_in(dir)
            .map_err(Error::from)?;
        let conn = self.take()?;
        let copied = copy_database(&conn, tmp.path());
        self.give_back(conn);
        copied?;
        let persisted = if replace {
            tmp.persist(dest).map(drop)
        } else {
            tmp.persist_noclobber(dest).map(drop)
        };
        persisted.map_err(|e| Error::from(e.error))
    }
}

/// Copies the whole database of `conn` into the (empty) file `to` in one step, so the copy is
/// one consistent snapshot: in WAL mode the writers carry on meanwhile. The copy is switched to
/// a rollback journal, so it is one self-contained file.
fn copy_database(conn: &Connection, to: &Path) -> Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let mut dst = Connection::open(to).map_err(sql_error)?;
    {
        let backup = Backup::new(conn, &mut dst).map_err(sql_error)?;
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match backup.step(-1).map_err(sql_error)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    return Err(Error::with(
                        ErrorCode::StorageBusy,
                        "備份時資料庫持續忙碌",
                        "the database stayed busy during the backup",
                    ));
                }
            }
        }
    }
    dst.execute_batch("PRAGMA journal_mode = DELETE;").map_err(sql_error)?;
    dst.close().map_err(|(_, e)| sql_error(e))?;
    Ok(())
}

struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn from_ref(v: ValueRef<'_>) -> Result<Value<'static>> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => return Err(super::corrupt(format!("unexpected real value {r}"))),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec())
                .map_err(|_| super::corrupt("text column is not UTF-8"))?
                .into(),
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec().into()),
    })
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let n = stmt.execute(params_from_iter(params.iter())).map_err(sql_error)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sql_error)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(params.iter())).map_err(sql_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(from_ref(r.get_ref(i).map_err(sql_error)?)?);
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn insert_id(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Option<i64>> {
        // Not `RETURNING id`: SQLite runs that as a trigger, which makes the insert a
        // multi-row write needing a statement journal (a copy of every page it changes, spilled
        // to a temporary file once a long transaction's journal outgrows memory). The row id
        // of the connection's last insert is the same number, for free.
        let changed = self.execute(sql, params)?;
        Ok((changed > 0).then(|| self.conn.last_insert_rowid()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreExt;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStore::open(dir.path().join("t.db")).expect("open");
        s.write(|tx| tx.execute("CREATE TABLE t (a INTEGER, b TEXT)", &[]))
            .expect("create");
        (dir, s)
    }

    #[test]
    fn failed_transaction_leaves_nothing() {
        let (_d, s) = store();
        let r: Result<()> = s.write(|tx| {
            tx.execute("INSERT INTO t VALUES (1, 'x')", &[])?;
            Err(Error::new(ErrorCode::Internal))
        });
        assert!(r.is_err());
        let n = s.read(|tx| tx.query_int("SELECT count(*) FROM t", &[])).expect("count");
        assert_eq!(n, 0);
    }

    #[test]
    fn values_round_trip() {
        let (_d, s) = store();
        s.write(|tx| tx.execute("INSERT INTO t VALUES (?, ?)", &[Value::Int(-7), Value::from("民國")]))
            .expect("insert");
        let row = s
            .read(|tx| tx.query_opt("SELECT a, b FROM t", &[]))
            .expect("q")
            .expect("row");
        assert_eq!(row.int(0).expect("int"), -7);
        assert_eq!(row.text(1).expect("text"), "民國");
        assert!(row.text(0).is_err(), "an integer is not text");
    }

    #[test]
    fn committed_data_survives_reopen() {
        let (dir, s) = store();
        s.write(|tx| tx.execute("INSERT INTO t VALUES (1, 'kept')", &[]))
            .expect("insert");
        drop(s);
        let s = SqliteStore::open(dir.path().join("t.db")).expect("reopen");
        let b = s
            .read(|tx| tx.query_opt("SELECT b FROM t", &[]))
            .expect("q")
            .expect("row");
        assert_eq!(b.text(0).expect("text"), "kept");
    }

    #[test]
    fn insert_id_gives_the_new_row_or_none() {
        /// A transaction that only forwards `execute` and `query`, so `insert_id` is the trait's
        /// portable default (`RETURNING id`).
        struct Portable<'a>(&'a mut dyn Tx);
        impl Tx for Portable<'_> {
            fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64> {
                self.0.execute(sql, params)
            }
            fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>> {
                self.0.query(sql, params)
            }
        }
        let (_d, s) = store();
        s.write(|tx| {
            tx.execute(
                "CREATE TABLE k (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
                &[],
            )
        })
        .expect("create");
        let sql = "INSERT INTO k (name) VALUES (?) ON CONFLICT (name) DO NOTHING";
        let ids = s
            .write(|tx| {
                let fast = [
                    tx.insert_id(sql, &[Value::from("a")])?,
                    tx.insert_id(sql, &[Value::from("a")])?,
                ];
                let mut portable = Portable(tx);
                let slow = [
                    portable.insert_id(sql, &[Value::from("b")])?,
                    portable.insert_id(sql, &[Value::from("b")])?,
                ];
                let must = tx.insert("INSERT INTO k (name) VALUES (?)", &[Value::from("c")])?;
                Ok((fast, slow, must))
            })
            .expect("inserts");
        assert_eq!(ids, ([Some(1), None], [Some(2), None], 3));
    }

    #[test]
    fn cached_statements_are_not_compiled_again() {
        // A join on a table with a partial index, like the award-order lists: without the
        // planner stability setting SQLite compiles it again at every run of the cached statement.
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = connect(Some(&dir.path().join("p.db"))).expect("connect");
        conn.execute_batch(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a(id), w TEXT);
             CREATE INDEX b_open ON b (a_id) WHERE w IS NULL;
             INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 1, NULL);",
        )
        .expect("schema");
        let sql = "SELECT a.v, b.id FROM b JOIN a ON a.id = b.a_id WHERE b.a_id = ? AND b.w IS NULL ORDER BY b.id";
        for _ in 0..5 {
            let mut stmt = conn.prepare_cached(sql).expect("prepare");
            let rows = stmt.query_map([1], |r| r.get::<_, String>(0)).expect("query").count();
            assert_eq!(rows, 1);
        }
        let stmt = conn.prepare_cached(sql).expect("prepare");
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn concurrent_writers_all_commit() {
        let (_d, s) = store();
        let s = std::sync::Arc::new(s);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        s.write(|tx| tx.execute("INSERT INTO t VALUES (?, 'c')", &[Value::Int(t * 100 + i)]))
                            .expect("insert");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let n = s.read(|tx| tx.query_int("SELECT count(*) FROM t", &[])).expect("count");
        assert_eq!(n, 200);
    }
}
