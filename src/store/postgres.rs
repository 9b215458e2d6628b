//! The shared backend: PostgreSQL through the synchronous `postgres` crate, for several
//! `ecpa serve` processes on one database.
//!
//! **Isolation.** Every write transaction runs at `SERIALIZABLE`, every read transaction at
//! `REPEATABLE READ READ ONLY` (one consistent snapshot, never a serialization failure). So the
//! engine, written against SQLite's one-writer-at-a-time transactions, keeps exactly the same
//! guarantees when two processes race: whatever both do, the outcome is that of one after the
//! other. The engine's guarded updates (`… WHERE status = 'pending'`, `… WHERE viewed_at IS
//! NULL`, the outbox claim) are what makes "processed once", "signed once", "sent by one worker"
//! visible to the loser.
//!
//! **Retries.** PostgreSQL aborts the loser of a conflict with a serialization failure
//! (`40001`) or a deadlock (`40P01`). Such a transaction wrote nothing, so the store runs it
//! again, up to [`MAX_ATTEMPTS`] times with a short randomised back-off; after that the caller
//! gets [`ErrorCode::StorageBusy`]. This is why [`Store::write_tx`] may call its closure more
//! than once: the engine's closures only touch the database and their own locals.
//!
//! **Connections.** A small pool ([`POOL_SIZE`] by default, `pool_size` in the configuration)
//! opened on demand. A pooled
//! connection that turns out dead when its transaction starts (the server restarted) is
//! dropped and a fresh one opened, so the store reconnects by itself. A connection lost in the
//! middle of a transaction fails that transaction with [`ErrorCode::StorageUnavailable`]: the
//! server rolls it back, nothing is half-written, and the caller decides whether to try again
//! (if the loss hit the `COMMIT` itself, the outcome is unknown to us; the engine's guarded,
//! idempotent operations make a repeat safe).
//!
//! **TLS.** Set by `sslmode` (in the configuration's `[database]` section, or libpq-style in
//! the URL's query string, `?sslmode=verify-full&sslrootcert=/etc/ecpa/db-ca.pem`; the
//! configuration wins) and carried by rustls with aws-lc-rs (see `pgtls.rs`):
//!
//! | `sslmode` | the connection | the server's certificate |
//! |---|---|---|
//! | `disable` (default) | plain, as for loopback or a private network | — |
//! | `require` | encrypted, never plain | not checked; with a CA file (`ca_file`, or `sslrootcert` in the URL), its chain to that CA, as libpq does |
//! | `verify-full` | encrypted | its chain to the CA of `ca_file` (required) and the host name of the URL |
//!
//! The CA file is PEM, one or more certificates. A handshake the server refuses or a
//! certificate that fails its check is [`ErrorCode::StorageUnavailable`] with the reason in both
//! languages; an unknown `sslmode`, a missing or unreadable CA file is
//! [`ErrorCode::ConfigInvalid`]. Logins with SCRAM are bound to the TLS session
//! (`tls-server-end-point`), so a relay holding some other certificate cannot pass them on.
//! `sslmode = "prefer"` (TLS if the server offers it, plain otherwise) is refused: anyone on the
//! path could make it plain.
//!
//! **SQL.** The engine writes `?` placeholders; they become `$1`, `$2`, … here, skipping string
//! literals, quoted identifiers and comments. Integers are bound to whatever integer, boolean
//! or text type the server infers for the parameter; `BOOLEAN`, `INT2/4/8` and integral
//! `NUMERIC` results (what `SUM` of a `BIGINT` gives) read back as [`Value::Int`].

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls, Statement};
use rustls::RootCertStore;

use serde::{Deserialize, Serialize};

use super::pgtls::{RustlsConnector, ServerCheck, TlsFailure};
use super::{Dialect, Row, Store, Tx, Value, schema};
use crate::error::{Error, ErrorCode, Result};

/// Connections kept for reuse by default: two cores, a few engine threads per process.
pub const POOL_SIZE: usize = 8;

/// How many times a transaction is run when it keeps losing serialization conflicts.
pub const MAX_ATTEMPTS: u32 = 12;

/// How long to wait for a new connection when the URL does not say (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory-lock key under which one process at a time migrates the schema ("ecpa" in ASCII).
const MIGRATION_LOCK: i64 = 0x6563_7061;

/// How the connections to the server are protected; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// No TLS: loopback or a private network.
    Disable,
    /// TLS always; the certificate is checked against the CA file only if one is given.
    Require,
    /// TLS always, the certificate's chain to the CA file and its host name checked.
    VerifyFull,
}

impl SslMode {
    /// Reads libpq's names (`disable`, `require`, `verify-full`); the others are refused, since
    /// `prefer` and `allow` may end up plain and `verify-ca` is `require` with a CA file here.
    pub fn parse(s: &str) -> Result<SslMode> {
        match s.trim() {
            "disable" => Ok(SslMode::Disable),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(Error::with(
                ErrorCode::ConfigInvalid,
                format!("不支援的 sslmode「{other}」（可用 disable、require、verify-full）"),
                format!("sslmode {other:?} is not supported (disable, require or verify-full)"),
            )),
        }
    }

    /// The name as libpq and the configuration write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The connection settings beside the URL (the configuration's `[database]` section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// TLS; `None` takes the URL's `sslmode`, else [`SslMode::Disable`].
    pub sslmode: Option<SslMode>,
    /// The CA that signed the server's certificate (PEM); `None` takes the URL's `sslrootcert`.
    pub ca_file: Option<PathBuf>,
    /// Connections kept at most.
    pub pool_size: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            sslmode: None,
            ca_file: None,
            pool_size: POOL_SIZE,
        }
    }
}

/// A PostgreSQL database shared by any number of processes.
pub struct PostgresStore {
    config: Config,
    /// `None`: plain connections.
    tls: Option<RustlsConnector>,
    /// What [`PostgresStore::tls`] checks, for the error messages and `Debug`.
    sslmode: SslMode,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// One connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password: only where the database is.
        f.debug_struct("PostgresStore")
            .field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("dbname", &self.config.get_dbname())
            .field("user", &self.config.get_user())
            .field("sslmode", &self.sslmode)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`, or the
    /// `key=value` form) and brings its schema up to date, one process at a time. TLS as the
    /// URL's `sslmode` and `sslrootcert` say (plain without them).
    pub fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, &PostgresOptions::default())
    }

    /// [`PostgresStore::connect`] with at most `pool_size` connections (at least one).
    pub fn connect_with_pool(url: &str, pool_size: usize) -> Result<Self> {
        Self::connect_with(
            url,
            &PostgresOptions {
                pool_size,
                ..PostgresOptions::default()
            },
        )
    }

    /// [`PostgresStore::connect`] with the settings of the configuration's `[database]`
    /// section: TLS (over the URL's), the CA file, the pool size.
    pub fn connect_with(url: &str, options: &PostgresOptions) -> Result<Self> {
        let (url, url_tls) = split_tls_params(url)?;
        let mut config: Config = url.parse().map_err(|e| {
            Error::with(
                ErrorCode::StorageUrlInvalid,
                format!("PostgreSQL 連線字串錯誤：{e}"),
                format!("bad PostgreSQL URL: {e}"),
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("ecpa");
        }
        let sslmode = options.sslmode.or(url_tls.sslmode).unwrap_or(SslMode::Disable);
        let ca_file = options.ca_file.clone().or(url_tls.ca_file);
        let tls = match sslmode {
            SslMode::Disable => {
                config.ssl_mode(postgres::config::SslMode::Disable);
                None
            }
            SslMode::Require | SslMode::VerifyFull => {
                config.ssl_mode(postgres::config::SslMode::Require);
                let roots = ca_file.as_deref().map(load_ca).transpose()?;
                let check = match (sslmode, roots) {
                    (SslMode::VerifyFull, None) => {
                        return Err(Error::with(
                            ErrorCode::ConfigInvalid,
                            "sslmode = verify-full 須以 ca_file 指定簽發資料庫伺服器憑證的 CA",
                            "sslmode = verify-full needs ca_file: the CA that signed the database server's certificate",
                        ));
                    }
                    (SslMode::VerifyFull, Some(roots)) => ServerCheck::ChainAndName(roots),
                    (_, Some(roots)) => ServerCheck::Chain(roots),
                    (_, None) => ServerCheck::None,
                };
                Some(RustlsConnector::new(check).map_err(|e| {
                    Error::with(
                        ErrorCode::ConfigInvalid,
                        format!("無法建立資料庫 TLS 設定：{e}"),
                        format!("cannot set up TLS to the database: {e}"),
                    )
                })?)
            }
        };
        let store = PostgresStore {
            config,
            tls,
            sslmode,
            max: options.pool_size.max(1),
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        };
        store.migrate_locked()?;
        Ok(store)
    }

    /// Runs the migrations while holding a session advisory lock on a connection of its own,
    /// so several service processes starting together migrate once, one after the other.
    fn migrate_locked(&self) -> Result<()> {
        let mut guard = self.connect_one()?;
        guard
            .client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .map_err(pg_error)?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let result = schema::migrate(self, now_ms).map(drop);
        // Closing the connection also releases the lock; unlocking first keeps it tidy.
        let _ = guard
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
        result
    }

    fn connect_one(&self) -> Result<Conn> {
        let client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        let client = client.map_err(|e| self.connect_error(e))?;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    /// A connection that could not be opened: the server is unreachable, refused us (no
    /// `pg_hba.conf` line for this address, user and encryption; a wrong password), or the TLS
    /// handshake failed. All of it is "unavailable"; a TLS failure says so in both languages.
    fn connect_error(&self, e: postgres::Error) -> Error {
        // The driver says "error performing TLS handshake" and keeps the reason as the source:
        // ours ([`TlsFailure`], rustls's words) or its own ("server does not support TLS").
        let tls = e.to_string().starts_with("error performing TLS handshake").then(|| {
            e.source().map_or_else(
                || "TLS".to_owned(),
                |s| match s.downcast_ref::<TlsFailure>() {
                    Some(f) => f.0.clone(),
                    None => s.to_string(),
                },
            )
        });
        match tls {
            Some(why) => {
                let host = self.host_label();
                let mode = self.sslmode.as_str();
                Error::with(
                    ErrorCode::StorageUnavailable,
                    format!("與資料庫伺服器 {host} 建立 TLS 加密連線失敗（sslmode = {mode}）：{why}"),
                    format!("TLS to the database server {host} failed (sslmode = {mode}): {why}"),
                )
            }
            None => Error::storage(ErrorCode::StorageUnavailable, PgFailure(e)),
        }
    }

    /// Where the database is, for messages: host and port, never the user or password.
    fn host_label(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_owned(),
        };
        match self.config.get_ports().first() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        // Pushes and pops are single operations: a poisoned lock leaves a consistent pool.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection: an idle one (and whether it came from the pool), or a new one.
    fn take(&self) -> Result<(Conn, bool)> {
        let mut pool = self.lock_pool();
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok((c, true));
            }
            if pool.open < self.max {
                pool.open += 1;
                drop(pool);
                return match self.connect_one() {
                    Ok(c) => Ok((c, false)),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            pool = self.freed.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give_back(&self, conn: Conn) {
        self.lock_pool().idle.push(conn);
        self.freed.notify_one();
    }

    /// A connection was closed (dead or in an unknown state): make room for a new one.
    fn forget(&self) {
        let mut pool = self.lock_pool();
        pool.open = pool.open.saturating_sub(1);
        drop(pool);
        self.freed.notify_one();
    }

    /// Drops every idle connection, so the next transactions open fresh ones.
    fn drop_idle(&self) {
        let mut pool = self.lock_pool();
        let n = pool.idle.len();
        pool.idle.clear();
        pool.open = pool.open.saturating_sub(n);
        drop(pool);
        self.freed.notify_all();
    }

    fn run(&self, begin: &str, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut conn, pooled) = self.take()?;
            if let Err(e) = conn.client.batch_execute(begin) {
                let lost = is_lost(&e);
                drop(conn);
                self.forget();
                if lost && pooled {
                    // A pooled connection died while idle (the server restarted): nothing was
                    // sent, so try again on a fresh connection. The other idle ones are likely
                    // dead too.
                    self.drop_idle();
                    attempt -= 1;
                    continue;
                }
                return Err(pg_error(e));
            }
            let mut tx = PgTx {
                conn: &mut conn,
                conflict: false,
                lost: false,
                aborted: false,
            };
            let outcome = f(&mut tx);
            let (conflict, lost, aborted) = (tx.conflict, tx.lost, tx.aborted);
            let outcome = match outcome {
                Ok(()) if !aborted => match conn.client.batch_execute("COMMIT") {
                    Ok(()) => Ok(()),
                    Err(e) => Err(Failure::from_pg(e)),
                },
                // A statement failed and the closure carried on: PostgreSQL has aborted the
                // transaction, and would answer COMMIT with a silent ROLLBACK. Never report that
                // as success.
                Ok(()) => Err(Failure {
                    error: Error::with(
                        if lost {
                            ErrorCode::StorageUnavailable
                        } else if conflict {
                            ErrorCode::StorageBusy
                        } else {
                            ErrorCode::StorageFailure
                        },
                        "交易中有敘述失敗，交易已取消",
                        "a statement of the transaction failed: the transaction was rolled back",
                    ),
                    conflict,
                    lost,
                }),
                Err(error) => Err(Failure { error, conflict, lost }),
            };
            match outcome {
                Ok(()) => {
                    self.give_back(conn);
                    return Ok(());
                }
                Err(failure) => {
                    let healthy = !failure.lost && conn.client.batch_execute("ROLLBACK").is_ok();
                    if healthy {
                        self.give_back(conn);
                    } else {
                        drop(conn);
                        self.forget();
                    }
                    if failure.conflict && attempt < MAX_ATTEMPTS {
                        std::thread::sleep(backoff(attempt));
                        continue;
                    }
                    return Err(failure.error);
                }
            }
        }
    }
}

/// The TLS settings a URL carries in libpq's words.
#[derive(Debug, Default)]
struct UrlTls {
    sslmode: Option<SslMode>,
    ca_file: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of a URL's query string (`postgres://…?sslmode=…`) or
/// a `key=value` connection string, since the driver knows neither `verify-full` nor
/// `sslrootcert`; the rest is left for the driver.
fn split_tls_params(url: &str) -> Result<(String, UrlTls)> {
    let mut tls = UrlTls::default();
    let mut take = |key: &str, value: &str| -> Result<bool> {
        match key {
            "sslmode" => tls.sslmode = Some(SslMode::parse(value).map_err(url_error)?),
            "sslrootcert" => tls.ca_file = Some(PathBuf::from(value)),
            _ => return Ok(false),
        }
        Ok(true)
    };
    if super::is_postgres_url(url) {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), tls));
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(key, &percent_decode(value)?)? {
                kept.push(pair);
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((url, tls));
    }
    // `host=… sslmode=…`: whole unquoted words only; a quoted value is the driver's to read.
    let mut kept = Vec::new();
    for word in url.split_whitespace() {
        let taken = match word.split_once('=') {
            Some((key, value)) if !value.starts_with('\'') => take(key.trim(), value)?,
            _ => false,
        };
        if !taken {
            kept.push(word);
        }
    }
    Ok((kept.join(" "), tls))
}

/// `%XX` escapes of a URL query value (a CA file's path may hold any byte).
fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(url_error(Error::with(
                    ErrorCode::StorageUrlInvalid,
                    "% 後應有兩位十六進位數字",
                    "% must be followed by two hex digits",
                )));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        Error::with(
            ErrorCode::StorageUrlInvalid,
            "連線字串的參數不是 UTF-8",
            "a URL parameter is not UTF-8",
        )
    })
}

/// An error in the URL's TLS parameters is the URL's.
fn url_error(e: Error) -> Error {
    let d = e.detail().cloned().unwrap_or_else(|| crate::error::Text::new("", ""));
    Error::with(
        ErrorCode::StorageUrlInvalid,
        format!("PostgreSQL 連線字串錯誤：{}", d.zh),
        format!("bad PostgreSQL URL: {}", d.en),
    )
}

/// The CA certificates of a PEM file, for checking the server's certificate.
fn load_ca(path: &Path) -> Result<Arc<RootCertStore>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |zh: String, en: String| Error::with(ErrorCode::ConfigInvalid, zh, en);
    let shown = path.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|e| {
            bad(
                format!("無法讀取資料庫 CA 憑證檔 {shown}：{e}"),
                format!("cannot read the database CA file {shown}: {e}"),
            )
        })?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad(
            format!("資料庫 CA 憑證檔 {shown} 中沒有可用的憑證（應為 PEM）"),
            format!("the database CA file {shown} holds no usable certificate (PEM expected)"),
        ));
    }
    Ok(Arc::new(roots))
}

/// A failed transaction and what kind of failure it was.
struct Failure {
    error: Error,
    conflict: bool,
    lost: bool,
}

impl Failure {
    fn from_pg(e: postgres::Error) -> Self {
        Failure {
            conflict: is_conflict(&e),
            lost: is_lost(&e),
            error: pg_error(e),
        }
    }
}

/// 1, 2, 4, … milliseconds (at most 128), plus up to as much again at random, so two
/// transactions that collided do not collide again in lock step.
fn backoff(attempt: u32) -> Duration {
    let base = 1u64 << attempt.saturating_sub(1).min(7);
    let mut b = [0u8; 2];
    let jitter = match getrandom::fill(&mut b) {
        Ok(()) => u64::from(u16::from_le_bytes(b)) % (base * 1000),
        Err(_) => 0,
    };
    Duration::from_micros(base * 1000 + jitter)
}

/// A serialization failure or deadlock: the transaction wrote nothing and may simply run again.
fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The connection is gone: closed, broken, or the server is shutting down or starting up.
fn is_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        let c = code.code();
        return c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03";
    }
    // No database error: an I/O error, a failed connect or a time-out (the driver says which
    // only in its message).
    let text = e.to_string();
    e.source().is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        || text.starts_with("error connecting")
        || text.starts_with("timeout waiting")
}

/// Maps a driver error to the crate's: conflicts are "busy", lost connections "unavailable".
fn pg_error(e: postgres::Error) -> Error {
    let code = if is_conflict(&e) {
        ErrorCode::StorageBusy
    } else if is_lost(&e) {
        ErrorCode::StorageUnavailable
    } else {
        ErrorCode::StorageFailure
    };
    Error::storage(code, PgFailure(e))
}

/// The driver's error with its cause in the message (the driver alone says only "db error").
#[derive(Debug)]
struct PgFailure(postgres::Error);

impl fmt::Display for PgFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.source() {
            Some(cause) => write!(f, "{}: {cause}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl StdError for PgFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

impl Store for PostgresStore {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", f)
    }

    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run("BEGIN ISOLATION LEVEL SERIALIZABLE", f)
    }
}

struct PgTx<'c> {
    conn: &'c mut Conn,
    /// A statement lost a serialization conflict: the whole transaction may run again.
    conflict: bool,
    /// The connection died: the transaction is gone.
    lost: bool,
    /// A statement failed: PostgreSQL has aborted the transaction, whatever the closure does.
    aborted: bool,
}

impl PgTx<'_> {
    fn fail(&mut self, e: postgres::Error) -> Error {
        self.aborted = true;
        self.conflict |= is_conflict(&e);
        self.lost |= is_lost(&e);
        pg_error(e)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.conn.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.conn.client.prepare(&placeholders(sql));
        let s = prepared.map_err(|e| self.fail(e))?;
        self.conn.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl Tx for PgTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let r = self.conn.client.execute(&stmt, &refs);
        r.map_err(|e| self.fail(e))
    }

    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let r = self.conn.client.query(&stmt, &refs);
        let rows = r.map_err(|e| self.fail(e))?;
        rows.iter().map(decode_row).collect()
    }
}

/// Rewrites `?` placeholders as `$1`, `$2`, …, leaving string literals (`'…'`, with `''`
/// inside), quoted identifiers (`"…"`) and comments (`-- …`, `/* … */`) untouched.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '?' => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break; // a doubled quote reopens at once: same result
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push(c);
                let mut prev = '\0';
                for d in chars.by_ref() {
                    out.push(d);
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Value<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    v.to_string().as_str().to_sql(ty, out)
                }
                _ => Err(format!("cannot bind an integer to a {ty} parameter").into()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => s.as_ref().to_sql(ty, out),
                // As SQLite converts text holding an integer where one is expected.
                Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL => match s.trim().parse::<i64>() {
                    Ok(v) => Value::Int(v).to_sql(ty, out),
                    Err(_) => Err(format!("cannot bind text {s:?} to a {ty} parameter").into()),
                },
                _ => Err(format!("cannot bind text to a {ty} parameter").into()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_ref().to_sql(ty, out),
                _ => Err(format!("cannot bind bytes to a {ty} parameter").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, where the server's inferred type is known.
        true
    }

    to_sql_checked!();
}

/// An integral `NUMERIC`, as `SUM` of a `BIGINT` column gives.
struct IntegralNumeric(i64);

impl<'a> FromSql<'a> for IntegralNumeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        numeric_to_i64(raw).map(IntegralNumeric)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// Decodes PostgreSQL's binary `NUMERIC` (digit count, weight, sign, scale, then base-10000
/// digits) when it holds an integer that fits in an `i64`.
fn numeric_to_i64(raw: &[u8]) -> std::result::Result<i64, BoxError> {
    let word = |i: usize| -> std::result::Result<u16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated NUMERIC".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        _ => return Err("NUMERIC is NaN or infinite".into()),
    };
    let mut value: i64 = 0;
    for i in 0..ndigits {
        let digit = i64::from(word(4 + i)?);
        let power = weight - i as i32;
        if power < 0 {
            if digit != 0 {
                return Err("NUMERIC has a fraction".into());
            }
            continue;
        }
        value = value
            .checked_mul(10_000)
            .and_then(|v| v.checked_add(digit))
            .ok_or("NUMERIC does not fit in 64 bits")?;
    }
    // Trailing zero groups the encoding leaves out (weight beyond the last digit).
    let last_power = weight - ndigits as i32 + 1;
    for _ in 0..last_power.max(0) {
        value = value.checked_mul(10_000).ok_or("NUMERIC does not fit in 64 bits")?;
    }
    Ok(if negative { -value } else { value })
}

fn decode_row(row: &postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let bad = |e: postgres::Error| super::corrupt(format!("column {i} ({}): {e}", column.name()));
        let ty = column.type_();
        let v = match *ty {
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map(|v| Value::Int(v.into())),
            Type::NUMERIC => row
                .try_get::<_, Option<IntegralNumeric>>(i)
                .map_err(bad)?
                .map(|v| Value::Int(v.0)),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                .try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map(|v| Value::Text(v.into())),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map(|v| Value::Blob(v.into())),
            _ => {
                return Err(super::corrupt(format!(
                    "column {i} ({}): unexpected type {ty}",
                    column.name()
                )));
            }
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_literals_and_comments() {
        assert_eq!(placeholders("SELECT ? , ?"), "SELECT $1 , $2");
        assert_eq!(
            placeholders("SELECT 'a?''b?' , ? -- why?\n, \"c?\" , /* ? */ ?"),
            "SELECT 'a?''b?' , $1 -- why?\n, \"c?\" , /* ? */ $2"
        );
        assert_eq!(
            placeholders("WHERE u LIKE ? ESCAPE '\\' AND x = ?"),
            "WHERE u LIKE $1 ESCAPE '\\' AND x = $2"
        );
        assert_eq!(placeholders("a - b / c ?"), "a - b / c $1");
    }

    fn numeric(ndigits: u16, weight: i16, sign: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, 0] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn integral_numerics_decode() {
        assert_eq!(numeric_to_i64(&numeric(0, 0, 0, &[])).expect("zero"), 0);
        assert_eq!(numeric_to_i64(&numeric(1, 0, 0, &[42])).expect("42"), 42);
        // 1_2345_6789 = digits [1, 2345, 6789], weight 2
        assert_eq!(
            numeric_to_i64(&numeric(3, 2, 0, &[1, 2345, 6789])).expect("big"),
            123_456_789
        );
        // 20000 = digit [2], weight 1 (the trailing 0000 group is left out)
        assert_eq!(numeric_to_i64(&numeric(1, 1, 0, &[2])).expect("trailing"), 20_000);
        assert_eq!(numeric_to_i64(&numeric(1, 0, 0x4000, &[7])).expect("neg"), -7);
        assert!(
            numeric_to_i64(&numeric(2, 0, 0, &[1, 5000])).is_err(),
            "1.5 is not an integer"
        );
        assert!(numeric_to_i64(&numeric(0, 0, 0xC000, &[])).is_err(), "NaN");
        assert!(numeric_to_i64(&numeric(6, 5, 0, &[9999; 6])).is_err(), "overflow");
        assert!(numeric_to_i64(&[0, 1]).is_err(), "truncated");
    }

    #[test]
    fn backoff_grows_with_jitter() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            let base = 1u64 << (attempt - 1).min(7);
            assert!(
                d >= Duration::from_millis(base) && d < Duration::from_millis(2 * base),
                "{attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn tls_parameters_come_out_of_the_url() {
        let (url, tls) = split_tls_params(
            "postgres://u:p@db:5432/ecpa?application_name=x&sslmode=verify-full&sslrootcert=/etc/a%20b.pem",
        )
        .expect("reads");
        assert_eq!(url, "postgres://u:p@db:5432/ecpa?application_name=x");
        assert_eq!(tls.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(tls.ca_file.as_deref(), Some(Path::new("/etc/a b.pem")));
        let (url, tls) = split_tls_params("postgres://u@db/ecpa?sslmode=disable").expect("reads");
        assert_eq!(url, "postgres://u@db/ecpa");
        assert_eq!(tls.sslmode, Some(SslMode::Disable));
        let (url, tls) = split_tls_params("host=db user=u sslmode=require dbname=ecpa").expect("reads");
        assert_eq!(url, "host=db user=u dbname=ecpa");
        assert_eq!(tls.sslmode, Some(SslMode::Require));
        let (url, tls) = split_tls_params("postgres://u@db/ecpa").expect("reads");
        assert_eq!((url.as_str(), tls.sslmode), ("postgres://u@db/ecpa", None));
        for bad in ["postgres://u@db/e?sslmode=prefer", "postgres://u@db/e?sslrootcert=%zz"] {
            let e = split_tls_params(bad).expect_err(bad);
            assert_eq!(e.code(), ErrorCode::StorageUrlInvalid, "{bad}");
        }
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let e = PostgresStore::connect("postgres://[::1").expect_err("malformed");
        assert_eq!(e.code(), ErrorCode::StorageUrlInvalid);
    }
}
