//! The portal's own counters, as the old eCPA front page showed them (線上人數, 今日登入人次,
//! 累計登入人次) and as `/metrics` exports them.
//!
//! Every login opens exactly one session row and session rows are never deleted (logout only
//! marks them ended), so the sessions table is the login count; it is far smaller than the audit
//! trail, which would otherwise have to be scanned by action.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time};

use super::env::millis;
use super::local::LocalPortal;
use crate::db::{challenges, sessions};
use crate::error::Result;
use crate::store::StoreExt;

/// The portal's counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalCounters {
    /// Sessions open now: not ended, not past their absolute expiry, used within the idle limit.
    pub online_now: i64,
    /// Logins since midnight, Taiwan time.
    pub logins_today: i64,
    /// Logins since the portal began.
    pub logins_total: i64,
}

/// Midnight of the instant's day in Taiwan.
fn taiwan_midnight(now: OffsetDateTime) -> OffsetDateTime {
    let local = now.to_offset(time::macros::offset!(+8));
    local.replace_time(Time::MIDNIGHT)
}

impl LocalPortal {
    /// The counters now: online, logins today (Taiwan's day), logins in total.
    pub fn portal_counters(&self) -> Result<PortalCounters> {
        let now = self.now();
        let idle: Duration = self.config.session_idle;
        let (now_ms, idle_since, midnight) = (millis(now), millis(now - idle), millis(taiwan_midnight(now)));
        self.store.read(|tx| {
            Ok(PortalCounters {
                online_now: sessions::online(tx, now_ms, idle_since)?,
                logins_today: sessions::opened_since(tx, midnight)?,
                logins_total: sessions::total(tx)?,
            })
        })
    }

    /// Whether the database takes a write now: what `/healthz` asks. The write is real but
    /// harmless (it drops login challenges that expired over a day ago, as each new challenge
    /// does), so a database that is read-only, locked or gone fails it.
    pub fn check_writable(&self) -> Result<()> {
        let day_ago = millis(self.now() - Duration::days(1));
        self.store
            .write(|tx| challenges::purge_challenges(tx, day_ago).map(drop))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn midnight_is_taiwans() {
        // 2025-06-02 01:30 in Taipei is still 2025-06-01 in UTC.
        let t = datetime!(2025-06-01 17:30 UTC);
        assert_eq!(taiwan_midnight(t), datetime!(2025-06-02 00:00 +8));
    }
}
