//! Password guesses, made to cost the guesser and not the owner.
//!
//! Card data and national IDs are public knowledge, so anyone can send guesses for anyone's
//! card or account. If every wrong guess counted against the card alone, a stranger could keep
//! its owner out with five requests a quarter hour. So wrong guesses are counted per *subject*
//! (an NHI card number, an eCPA account) **and per source network** (an IPv4 address, an IPv6
//! /64: one host's share of addresses; callers that give none count as one local network):
//!
//! - from one network, `max_password_failures` wrong guesses in a row shut the subject to that
//!   network for `lockout`, and each further lockout in a row lasts twice as long (up to a
//!   day): the guesser slows down progressively, while the owner, from their own network, still
//!   gets in with the right password;
//! - across all networks, `max_daily_failures` wrong guesses within 24 hours *hold* the subject
//!   until its password is reset by mail (or, for an account, set again after a card login);
//! - the owner hears of it at their address on file when a lockout or the hold starts, at most
//!   once a day, so the warnings cannot flood their mailbox.
//!
//! A guess is reserved before it is checked, because the slow hash runs outside any
//! transaction: a guess being checked counts against both limits, so guesses sent in parallel
//! are never checked past them; the extra ones are turned away as busy (`E5049`), uncounted, so
//! parallel *right* guesses cannot lock a card either. A reservation carries its expiry: one
//! left behind by a process that died mid-check frees itself.
//!
//! Everything lives in the store, so every `ecpa serve` process on one database shares it.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use super::env::millis;
use super::local::LocalPortal;
use crate::db::{employees, guards, outbox, registrations};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};

/// How long a reserved guess may take to be checked before its reservation lapses: far longer
/// than a hash and the wait for a hash slot, far shorter than a lockout.
const RESERVATION_TTL: Duration = Duration::seconds(60);

/// The window of the per-subject ceiling, and how long an idle network's count is remembered.
const DAY: Duration = Duration::days(1);

/// The network a guess came from, as counted: an IPv4 address, an IPv6 /64 (an IPv4 address
/// mapped into IPv6 is the IPv4 one), or `local` for a caller that gave none.
pub(crate) fn network_of(ip: Option<IpAddr>) -> String {
    match ip.map(network_address) {
        None => "local".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => format!("{v6}/64"),
    }
}

/// The address that stands for `ip`'s network: itself for IPv4, the first of its /64 for IPv6.
/// Rate limits key on it too, so one host cannot take a fresh budget from each of its 2⁶⁴
/// addresses.
pub fn network_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Whose password is being guessed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// An NHI card's registration, by card number.
    Card(&'a str),
    /// An eCPA account, by employee.
    Account(i64),
}

impl Subject<'_> {
    fn key(self) -> String {
        match self {
            Subject::Card(number) => format!("card:{number}"),
            Subject::Account(id) => format!("account:{id}"),
        }
    }

    /// Where the owner is told of guessing: the registration's address, or the directory's.
    fn owner_address(self, tx: &mut dyn Tx) -> Result<Option<String>> {
        match self {
            Subject::Card(number) => registrations::email(tx, number),
            Subject::Account(id) => Ok(employees::by_id(tx, id)?.and_then(|e| e.email)),
        }
    }
}

/// The guesses of one subject from one network.
pub(crate) struct Guard<'a> {
    p: &'a LocalPortal,
    subject: Subject<'a>,
    key: String,
    network: String,
}

/// A guess reserved for checking; give it back with [`Guard::failed`], [`Guard::succeeded`] or
/// [`Guard::release`].
#[derive(Debug)]
#[must_use]
pub(crate) struct Reservation(i64);

/// What a wrong guess leaves.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Guesses left from this network before it is locked out.
    TriesLeft(u32),
    /// The guess that shut the subject (to this network, or everywhere): the error to answer.
    Shut(Error),
}

impl<'a> Guard<'a> {
    /// The guard of `subject`'s guesses from `from`.
    pub fn new(p: &'a LocalPortal, subject: Subject<'a>, from: Option<IpAddr>) -> Self {
        Guard {
            p,
            key: subject.key(),
            subject,
            network: network_of(from),
        }
    }

    /// Refuses while the subject is held or locked to this network.
    pub fn check(&self, tx: &mut dyn Tx) -> Result<()> {
        let now = millis(self.p.now());
        if guards::held(tx, &self.key)? {
            return Err(Error::new(ErrorCode::LoginHeld));
        }
        if let Some(until) = guards::network(tx, &self.key, &self.network)?.and_then(|g| g.locked_until)
            && until > now
        {
            return Err(Error::LoginLocked {
                until: super::env::from_millis(until)?,
                seconds_left: ((until - now) as u64).div_ceil(1000),
            });
        }
        Ok(())
    }

    /// Reserves a guess for checking, or refuses it: shut (held, locked) or busy (enough
    /// guesses already being checked to reach a limit).
    pub fn reserve(&self) -> Result<Reservation> {
        let now = self.p.now();
        self.p.store.write(|tx| {
            guards::drop_lapsed_reservations(tx, &self.key, millis(now))?;
            self.check(tx)?;
            let (failures, _) = self.network_count(tx, now)?;
            let (here, everywhere) = guards::reservations(tx, &self.key, &self.network)?;
            let today = self.day_count(tx, now)?;
            if failures + here >= i64::from(self.p.config.max_password_failures)
                || today + everywhere >= i64::from(self.p.config.max_daily_failures)
            {
                return Err(Error::new(ErrorCode::LoginBusy));
            }
            let id = guards::reserve(tx, &self.key, &self.network, millis(now + RESERVATION_TTL))?;
            Ok(Reservation(id))
        })
    }

    /// Gives back a guess that was never checked (every hash slot was busy).
    pub fn release(&self, r: Reservation) -> Result<()> {
        self.p.store.write(|tx| drop_reservation(tx, &r))
    }

    /// The right password: this network starts counting again. Other networks' counts and
    /// the day's ceiling stay: the owner's success does not clear a guesser's record.
    pub fn succeeded(&self, tx: &mut dyn Tx, r: &Reservation) -> Result<()> {
        drop_reservation(tx, r)?;
        guards::forget_network(tx, &self.key, &self.network, millis(self.p.now()))
    }

    /// Counts a wrong guess (reserved, or checked in this transaction without a reservation),
    /// locking this network out or holding the subject when it reaches a limit.
    pub fn failed(&self, tx: &mut dyn Tx, r: Option<&Reservation>) -> Result<Failure> {
        if let Some(r) = r {
            drop_reservation(tx, r)?;
        }
        let now = self.p.now();
        let (failures, lockouts) = self.network_count(tx, now)?;
        let failures = failures + 1;
        let max = i64::from(self.p.config.max_password_failures);
        let locked_until = (failures >= max).then(|| {
            // 15 minutes, then 30, 60, … in a row, up to a day.
            let factor = 1i32 << lockouts.clamp(0, 16);
            (self.p.config.lockout * factor).min(DAY)
        });
        let record = guards::NetworkGuard {
            failures: if locked_until.is_some() { 0 } else { failures },
            lockouts: lockouts + i64::from(locked_until.is_some()),
            locked_until: locked_until.map(|d| millis(now + d)),
            updated_at: millis(now),
        };
        guards::save_network(tx, &self.key, &self.network, &record)?;
        let today = self.day_count(tx, now)? + 1;
        let held = today >= i64::from(self.p.config.max_daily_failures);
        guards::save_ceiling(tx, &self.key, millis(now), today, held.then(|| millis(now)))?;
        // Forget networks that have been quiet for a day (their count would start again anyway).
        guards::forget_quiet(tx, &self.key, millis(now - DAY), millis(now))?;
        if held {
            self.warn_owner(tx, now)?;
            return Ok(Failure::Shut(Error::new(ErrorCode::LoginHeld)));
        }
        if let Some(d) = locked_until {
            self.warn_owner(tx, now)?;
            return Ok(Failure::Shut(Error::LoginLocked {
                until: now + d,
                seconds_left: d.whole_seconds().max(0) as u64,
            }));
        }
        Ok(Failure::TriesLeft((max - failures) as u32))
    }

    /// This network's wrong guesses in a row and lockouts in a row; a network quiet for a day
    /// starts again from nothing.
    fn network_count(&self, tx: &mut dyn Tx, now: OffsetDateTime) -> Result<(i64, i64)> {
        match guards::network(tx, &self.key, &self.network)? {
            Some(g) if g.updated_at > millis(now - DAY) => Ok((g.failures, g.lockouts)),
            _ => Ok((0, 0)),
        }
    }

    /// The subject's wrong guesses, from everywhere, in the current 24-hour window.
    fn day_count(&self, tx: &mut dyn Tx, now: OffsetDateTime) -> Result<i64> {
        match guards::ceiling(tx, &self.key)? {
            Some(c) if c.window_started_at > millis(now - DAY) => Ok(c.failures),
            Some(_) => {
                // The window has passed: the next failure opens a new one.
                guards::reset_ceiling(tx, &self.key)?;
                Ok(0)
            }
            None => Ok(0),
        }
    }

    /// Tells the owner someone is guessing their password, at most once a day.
    fn warn_owner(&self, tx: &mut dyn Tx, now: OffsetDateTime) -> Result<()> {
        let Some(to) = self.subject.owner_address(tx)? else {
            return Ok(());
        };
        if outbox::queued_since(tx, "login_guessed", &to, millis(now - DAY))? {
            return Ok(());
        }
        let what = match self.subject {
            Subject::Card(_) => ("健保卡網路服務註冊密碼", "NHI card registration password"),
            Subject::Account(_) => ("eCPA 帳號密碼", "eCPA account password"),
        };
        let body = format!(
            "您好：\n\n有人多次以錯誤的{zh}嘗試登入您的帳號，來源網路已暫停登入。\n\
             您本人從自己的網路以正確密碼登入不受影響；若同一天錯誤達上限，須以「忘記密碼」重設後才能再登入。\n\
             若不是您，建議變更密碼；如有疑慮請洽服務機關人事單位。\n\n----\nHello,\n\n\
             Someone has tried to log in to your account with a wrong {en} several times; that network is \
             suspended.\nYou can still log in with the right password from your own network; if the day's limit is \
             reached, a password reset by mail is needed first.\nIf it was not you, consider changing your password, \
             and ask your personnel office if in doubt.\n",
            zh = what.0,
            en = what.1
        );
        outbox::enqueue(
            tx,
            millis(now),
            &to,
            "登入密碼錯誤警示 Wrong passwords tried on your account",
            &body,
            "login_guessed",
            None,
        )?;
        Ok(())
    }
}

/// Lifts every count and the hold of a card or account whose password has just been reset or
/// set by its owner.
pub(crate) fn clear(tx: &mut dyn Tx, subject: Subject<'_>) -> Result<()> {
    guards::clear(tx, &subject.key())
}

fn drop_reservation(tx: &mut dyn Tx, r: &Reservation) -> Result<()> {
    guards::drop_reservation(tx, r.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_ipv4_addresses_and_ipv6_64s() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(network_of(None), "local");
        assert_eq!(network_of(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(network_of(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(network_of(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(network_of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), "2001:db8:1:2::/64");
        assert_ne!(network_of(ip("2001:db8:1:3::1")), network_of(ip("2001:db8:1:2::1")));
    }
}
