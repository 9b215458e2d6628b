//! The engine's view of the world outside the database: time and randomness.
//!
//! Both are traits so tests can step the clock past a 30-minute link or a lockout, and so a
//! simulation can replay a day. The defaults are the system clock and the operating system's
//! random source; the stand-ins here are never installed unless a caller asks for them.

use std::sync::Mutex;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, ErrorCode, Result};

/// Where the engine reads the time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock: the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }

    /// Sets the clock.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the engine gets unpredictable bytes (session tokens, mail links).
pub trait Randomness: Send + Sync {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's random source: the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill(&self, buf: &mut [u8]) -> Result<()> {
        getrandom::fill(buf).map_err(|e| {
            Error::with(
                ErrorCode::Internal,
                format!("無法取得亂數：{e}"),
                format!("no randomness: {e}"),
            )
        })
    }
}

/// A fresh random token: 32 bytes as 64 hex digits. Only its hash is ever stored.
pub(crate) fn new_token(rng: &dyn Randomness) -> Result<String> {
    let mut buf = [0u8; 32];
    rng.fill(&mut buf)?;
    Ok(hex::encode(buf))
}

/// What the database keeps of a token: its SHA-256, so a leaked database opens no session.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a mailed single-use link may still be used at `now_ms`: `E6012 token_used` once it
/// was, `E6011 token_expired` once its time is over. Registration and account-recovery links
/// both answer so.
pub(crate) fn check_link(used_at: Option<i64>, expires_at: i64, now_ms: i64) -> crate::error::Result<()> {
    use crate::error::{Error, ErrorCode};
    if used_at.is_some() {
        return Err(Error::new(ErrorCode::TokenUsed));
    }
    if expires_at <= now_ms {
        return Err(Error::new(ErrorCode::TokenExpired));
    }
    Ok(())
}

pub(crate) use crate::db::{from_millis, millis};
