//! Login and sessions.
//!
//! A session carries an assurance level (帳號密碼 < 健保卡 < 自然人憑證) that applications
//! check. NHI-card login is: the card was read (its basic data is the input here), its
//! registration is active, and the password registered for that card number matches; then the
//! card's national ID must belong to a current employee. The four failures of the guide are
//! four distinct errors, in that order. Wrong passwords are counted per card (and per eCPA
//! account) and per source network, and shut that network out for a while once they reach the
//! limit ([`super::guard`]); an unknown card costs the same one hash as a wrong password.
//!
//! Certificate login ([`super::certlogin`]) verifies the certificate and maps it to an employee,
//! then calls [`open_session`] with [`LoginMethod::Certificate`], like the other logins.
//!
//! Tokens are 32 random bytes; the database keeps only their SHA-256.

use argon2::{Algorithm, Argon2, Params, Version};
use argon2::{PasswordHash, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use std::net::IpAddr;

use super::env::{from_millis, millis, new_token, token_hash};
use super::guard::{Failure, Guard, Subject};
use super::local::LocalPortal;
use crate::db::{employees, registrations, sessions};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::{AssuranceLevel, Lang, NationalId, NhiCardData, Password, RocDateTime};

/// How a session was opened; each method gives one assurance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// eCPA account name and password.
    Account,
    /// NHI card (健保卡) and its registered password.
    NhiCard,
    /// Citizen digital certificate (自然人憑證) and its PIN.
    Certificate,
}

impl LoginMethod {
    /// The stable name stored and sent over the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Account => "account",
            LoginMethod::NhiCard => "nhi_card",
            LoginMethod::Certificate => "certificate",
        }
    }

    /// The assurance level this method gives.
    pub fn level(self) -> AssuranceLevel {
        match self {
            LoginMethod::Account => AssuranceLevel::Password,
            LoginMethod::NhiCard => AssuranceLevel::NhiCard,
            LoginMethod::Certificate => AssuranceLevel::Certificate,
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "account" => Ok(LoginMethod::Account),
            "nhi_card" => Ok(LoginMethod::NhiCard),
            "certificate" => Ok(LoginMethod::Certificate),
            other => Err(crate::store::corrupt(format!("unknown login method {other}"))),
        }
    }
}

/// A session's bearer token. Whoever holds it acts as the person: it is zeroized on drop and
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// Wraps a token received from a client.
    pub fn new(token: impl Into<String>) -> Self {
        SessionToken(Zeroizing::new(token.into()))
    }

    /// The token itself, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// A successful login: the token and who it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token for every later call.
    pub token: SessionToken,
    /// Who logged in, and how.
    pub info: SessionInfo,
}

/// Who a session belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    /// The person's name.
    pub name: String,
    /// The national ID, masked.
    pub national_id: String,
    /// The agency the person serves in.
    pub agency_code: String,
    /// Its name.
    pub agency_name: String,
    /// How the session was opened.
    pub method: LoginMethod,
    /// The assurance level applications check.
    pub level: AssuranceLevel,
    /// Whether the person is a personnel officer (人事人員) of their agency.
    pub officer: bool,
    /// Whether the login proved the card was in the reader: always for the certificate (the
    /// card signed), for an NHI card only when its `H_Sign` was verified
    /// (by the portal's `NhiCardVerifier`), never for an account.
    #[serde(default)]
    pub card_verified: bool,
    /// When this session was opened: 登入時間（本次）.
    pub logged_in_at: RocDateTime,
    /// When the person logged in before it, if ever: 登入時間（上次）.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_login_at: Option<RocDateTime>,
    /// When the session ends at the latest.
    pub expires_at: RocDateTime,
}

/// The person behind a valid session, as the engine's other modules need them.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub employee_id: i64,
    pub agency_code: String,
    pub level: AssuranceLevel,
    pub method: LoginMethod,
    pub officer: bool,
    /// Whether the login proved the card was in the reader.
    pub card_verified: bool,
    /// An officer whose login this portal does not accept for officer functions
    /// (`officer_requires_verified_card`, an NHI card not verified).
    pub officer_login_too_weak: bool,
}

impl Caller {
    /// The caller's agency, if they are one of its personnel officers (logged in strongly
    /// enough for this portal).
    pub fn officer_agency(&self) -> Result<&str> {
        if !self.officer {
            Err(Error::new(ErrorCode::NotPersonnelOfficer))
        } else if self.officer_login_too_weak {
            Err(Error::new(ErrorCode::OfficerLoginTooWeak))
        } else {
            Ok(&self.agency_code)
        }
    }
}

/// Resolves a token to its caller, ending idle or expired sessions on the way.
pub(crate) fn caller(p: &LocalPortal, token: &SessionToken) -> Result<Caller> {
    read_as(p, token, |_, c| Ok(c.clone()))
}

/// Runs `f` for the caller behind `token` in one read transaction with the session check, so a
/// call costs one transaction, not one for the session and another for the work.
pub(crate) fn read_as<T>(
    p: &LocalPortal,
    token: &SessionToken,
    mut f: impl FnMut(&mut dyn Tx, &Caller) -> Result<T>,
) -> Result<T> {
    let hash = token_hash(token.expose());
    let now = millis(p.now());
    let (out, last_seen) = p.store.read(|tx| {
        let (c, last_seen) = resolve(p, tx, &hash, now)?;
        Ok((f(tx, &c)?, last_seen))
    })?;
    // Touch the session at most once a minute: a read stays a read.
    if now - last_seen > 60_000 {
        p.store.write(|tx| sessions::touch(tx, &hash, now))?;
    }
    Ok(out)
}

/// The caller behind a token hash, and when the session was last seen; refuses ended, expired
/// and idle sessions and disabled accounts.
fn resolve(p: &LocalPortal, tx: &mut dyn Tx, hash: &str, now: i64) -> Result<(Caller, i64)> {
    let s = sessions::by_token_hash(tx, hash)?.ok_or_else(|| Error::new(ErrorCode::SessionInvalid))?;
    if s.ended_at.is_some() {
        return Err(Error::new(ErrorCode::SessionInvalid));
    }
    let idle_ms = p.config.session_idle.whole_milliseconds() as i64;
    if now >= s.expires_at || now - s.last_seen_at >= idle_ms {
        return Err(Error::new(ErrorCode::SessionExpired));
    }
    if s.status != "current" {
        return Err(Error::new(ErrorCode::AccountDisabled));
    }
    let method = LoginMethod::parse(&s.method)?;
    let caller = Caller {
        employee_id: s.employee_id,
        level: s.level,
        method,
        agency_code: s.agency_code,
        officer: s.officer_of.is_some(),
        card_verified: s.card_verified,
        officer_login_too_weak: p.config.officer_requires_verified_card
            && method != LoginMethod::Certificate
            && !s.card_verified,
    };
    Ok((caller, s.last_seen_at))
}

/// Opens a session for an employee who has just proved who they are: every login ends here,
/// so this is where only current employees are let in (the last two login errors).
/// `card_verified`: whether the login proved the card was in the reader.
pub(crate) fn open_session(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    employee_id: i64,
    method: LoginMethod,
    card_verified: bool,
) -> Result<Session> {
    let previous = match employees::by_id(tx, employee_id)? {
        Some(person) if person.is_current() => person.last_login_at,
        Some(_) => return Err(Error::new(ErrorCode::AccountDisabled)),
        None => return Err(account_not_found(p)),
    };
    let token = new_token(p.rng.as_ref())?;
    let now = p.now();
    let expires = now + p.config.session_absolute;
    // 登入時間（本次／上次）: this login becomes the person's last, and the session keeps the one
    // before it, so what it shows does not change with the person's later logins.
    employees::set_last_login(tx, employee_id, millis(now))?;
    sessions::open(
        tx,
        &sessions::NewSession {
            token_hash: &token_hash(&token),
            employee_id,
            level: method.level(),
            method: method.as_str(),
            now_ms: millis(now),
            expires_ms: millis(expires),
            card_verified,
            previous_login_ms: previous.map(millis),
        },
    )?;
    // The trail says how, and for a card whether it was proved to be there.
    let how = match (method, card_verified) {
        (LoginMethod::NhiCard, true) => "nhi_card card_verified",
        (LoginMethod::NhiCard, false) => "nhi_card card_unverified",
        (m, _) => m.as_str(),
    };
    crate::db::audit::record(
        tx,
        millis(now),
        Some(employee_id),
        "login",
        Some(employee_id),
        None,
        Some(how),
    )?;
    let times = Times {
        logged_in: now,
        previous,
        expires,
    };
    let info = session_info_of(p, tx, employee_id, method, card_verified, &times)?;
    Ok(Session {
        token: SessionToken::new(token),
        info,
    })
}

/// When a session began, the login before it, and when it ends at the latest.
struct Times {
    logged_in: OffsetDateTime,
    previous: Option<OffsetDateTime>,
    expires: OffsetDateTime,
}

fn session_info_of(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    employee_id: i64,
    method: LoginMethod,
    card_verified: bool,
    times: &Times,
) -> Result<SessionInfo> {
    let who = employees::serving(tx, employee_id)?.ok_or_else(|| account_not_found(p))?;
    Ok(SessionInfo {
        name: who.name,
        national_id: who.national_id.masked(),
        agency_code: who.agency_code,
        agency_name: who.agency_name,
        method,
        level: method.level(),
        officer: who.officer,
        card_verified,
        logged_in_at: times.logged_in.into(),
        previous_login_at: times.previous.map(Into::into),
        expires_at: times.expires.into(),
    })
}

/// The employee a national ID belongs to (the third login error when there is none).
fn employee_of(p: &LocalPortal, tx: &mut dyn Tx, id: &NationalId) -> Result<i64> {
    let person = employees::by_national_id(tx, id)?;
    Ok(person.ok_or_else(|| account_not_found(p))?.id)
}

/// The third login error, 「驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：…」, naming
/// the support mailbox this portal is configured with.
pub(crate) fn account_not_found(p: &LocalPortal) -> Error {
    let support = p.config.support_email.as_str();
    if support == super::local::DEFAULT_SUPPORT_EMAIL {
        return Error::new(ErrorCode::AccountNotFound);
    }
    let words = |lang| {
        ErrorCode::AccountNotFound
            .message(lang)
            .replace(super::local::DEFAULT_SUPPORT_EMAIL, support)
    };
    Error::Worded {
        code: ErrorCode::AccountNotFound,
        message: crate::error::Text::new(words(Lang::ZhTw), words(Lang::En)),
    }
}

/// Where a login comes from and what it proves beyond the password.
#[derive(Debug, Clone, Default)]
pub struct LoginContext {
    /// The client's address, which wrong passwords are counted against (per IPv4 address, per
    /// IPv6 /64): the HTTP service passes the peer's, or the one a trusted proxy reports.
    /// `None` (a caller in this process: C, Python) counts as one local network.
    pub from: Option<IpAddr>,
    /// For an NHI-card login, the card's answer to the page's random, for the portal's
    /// [`NhiCardVerifier`](super::NhiCardVerifier).
    pub possession: Option<super::CardPossession>,
}

/// NHI card + registered password: see the module documentation for the order of checks.
pub(crate) fn login_nhi_card(
    p: &LocalPortal,
    card: &NhiCardData,
    password: &Password,
    ctx: &LoginContext,
) -> Result<Session> {
    let card_no = card.card_number.as_str().to_owned();
    let reg = p.store.read(|tx| registrations::login_of(tx, &card_no))?;
    let reg = match reg {
        Some(r) if r.status == "active" && r.national_id == card.national_id => r,
        _ => {
            // The same work as a wrong password: one hash, so an unknown card takes as long.
            let _ = hash_password(p, password);
            return Err(Error::new(ErrorCode::NhiCardNotRegistered));
        }
    };
    let guard = Guard::new(p, Subject::Card(&card_no), ctx.from);
    // With the right password, the card's answer: a forged or replayed one means the sender
    // knows the password and the card's data, not the card, and costs them a try.
    let verified = checked_login(
        p,
        &guard,
        &reg.password_hash,
        password,
        |tries_left| Error::RegistrationPasswordWrong { tries_left },
        || super::possession::check(p, card, ctx.possession.as_ref()),
    )?;
    p.store.write(|tx| {
        let employee = employee_of(p, tx, &card.national_id)?;
        open_session(p, tx, employee, LoginMethod::NhiCard, verified)
    })
}

/// Checks a password under the subject's guard: reserved first (so guesses in parallel are not
/// checked past the limits), hashed outside any transaction, then counted. With the right
/// password, `then` checks what else the login needs; its `CardPossessionUnverified` counts as
/// a wrong guess. A guess turned away because every hash slot stayed busy was never checked,
/// so its reservation is given back: a busy server must not lock anyone out.
pub(crate) fn checked_login<T>(
    p: &LocalPortal,
    guard: &Guard<'_>,
    stored: &str,
    password: &Password,
    wrong: impl FnOnce(u32) -> Error,
    then: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let reservation = guard.reserve()?;
    let checked = verify_password(p, stored, password).and_then(|right| right.then(then).transpose());
    let refused = match checked {
        Ok(Some(value)) => {
            p.store.write(|tx| guard.succeeded(tx, &reservation))?;
            return Ok(value);
        }
        Ok(None) => None,
        Err(e) if e.code() == ErrorCode::CardPossessionUnverified => Some(e),
        Err(e) => {
            guard.release(reservation)?;
            return Err(e);
        }
    };
    Err(match p.store.write(|tx| guard.failed(tx, Some(&reservation)))? {
        Failure::TriesLeft(n) => refused.unwrap_or_else(|| wrong(n)),
        Failure::Shut(e) => e,
    })
}

/// eCPA account name + password, from `from` (as for [`login_nhi_card`]).
pub(crate) fn login_account(
    p: &LocalPortal,
    account: &str,
    password: &Password,
    from: Option<IpAddr>,
) -> Result<Session> {
    let account = account.trim().to_owned();
    let held = p.store.read(|tx| employees::account_password(tx, &account))?;
    let Some((id, Some(hash))) = held else {
        // Spend the same time as a real check, so timing does not tell which names exist.
        let _ = hash_password(p, password);
        return Err(Error::new(ErrorCode::AccountPasswordWrong));
    };
    let guard = Guard::new(p, Subject::Account(id), from);
    checked_login(
        p,
        &guard,
        &hash,
        password,
        |_| Error::new(ErrorCode::AccountPasswordWrong),
        || Ok(()),
    )?;
    p.store.write(|tx| open_session(p, tx, id, LoginMethod::Account, false))
}

/// Sets the caller's eCPA account name and password.
pub(crate) fn set_account(p: &LocalPortal, token: &SessionToken, account: &str, password: &Password) -> Result<()> {
    let c = caller(p, token)?;
    let account = account.trim();
    let valid = (3..=30).contains(&account.chars().count())
        && account
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
    if !valid {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            "帳號應為 3 至 30 個英數字或 . _ -",
            "the account name must be 3 to 30 letters, digits or . _ -",
        ));
    }
    let hash = hash_password(p, password)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        let holder = employees::by_account(tx, account)?;
        if holder.is_some_and(|h| h.id != c.employee_id) {
            return Err(Error::new(ErrorCode::AccountNameTaken));
        }
        // Its owner has set it: whatever guessing held or locked the old one is over.
        super::guard::clear(tx, Subject::Account(c.employee_id))?;
        employees::set_account(tx, c.employee_id, account, &hash, now)?;
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "account.set",
            Some(c.employee_id),
            None,
            None,
        )
    })
}

/// Who a session belongs to.
pub(crate) fn session_info(p: &LocalPortal, token: &SessionToken) -> Result<SessionInfo> {
    let hash = token_hash(token.expose());
    read_as(p, token, |tx, c| {
        let s = sessions::by_token_hash(tx, &hash)?.ok_or_else(|| Error::new(ErrorCode::SessionInvalid))?;
        let times = Times {
            logged_in: s.created_at,
            previous: s.previous_login_at,
            expires: from_millis(s.expires_at)?,
        };
        session_info_of(p, tx, c.employee_id, c.method, c.card_verified, &times)
    })
}

/// Ends a session; ending an already ended one is harmless.
pub(crate) fn logout(p: &LocalPortal, token: &SessionToken) -> Result<()> {
    let hash = token_hash(token.expose());
    let now = millis(p.now());
    p.store.write(|tx| {
        if !sessions::end(tx, &hash, now)? && !sessions::exists(tx, &hash)? {
            return Err(Error::new(ErrorCode::SessionInvalid));
        }
        Ok(())
    })
}

/// Refuses unless the session's level reaches `required`.
pub(crate) fn require_level(c: &Caller, required: AssuranceLevel) -> Result<()> {
    if c.level < required {
        return Err(Error::AssuranceTooLow {
            required,
            actual: c.level,
        });
    }
    Ok(())
}

/// At most a few password hashes at once. Each argon2id run holds its memory cost (19 MiB by
/// default) for its whole run: 400 logins at once took a server to 1.6 GB. Hashes beyond the
/// slots wait in line for a short while, then the login is refused `E5049 login_busy` (503,
/// `Retry-After`), which costs the client a retry and the server nothing.
#[derive(Debug)]
pub(crate) struct HashGate {
    free: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    wait: std::time::Duration,
}

impl HashGate {
    /// A gate of `slots` hashes at once (at least one), a hash waiting at most `wait`.
    pub(crate) fn new(slots: usize, wait: std::time::Duration) -> Self {
        HashGate {
            free: std::sync::Mutex::new(slots.max(1)),
            freed: std::sync::Condvar::new(),
            wait,
        }
    }

    /// Runs `f` in a slot, waiting for one if none is free.
    fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let deadline = std::time::Instant::now() + self.wait;
        let mut free = self.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(Error::new(ErrorCode::LoginBusy));
            }
            free = self
                .freed
                .wait_timeout(free, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        *free -= 1;
        drop(free);
        // Given back even if `f` panics.
        struct Slot<'a>(&'a HashGate);
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                *self.0.free.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
                self.0.freed.notify_one();
            }
        }
        let _slot = Slot(self);
        Ok(f())
    }
}

fn argon2(p: &LocalPortal) -> Result<Argon2<'static>> {
    let params = Params::new(p.config.argon2_memory_kib, p.config.argon2_iterations, 1, None)
        .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An argon2id hash (PHC string, with its own salt and parameters) of a password.
pub(crate) fn hash_password(p: &LocalPortal, password: &Password) -> Result<String> {
    let mut salt = [0u8; 16];
    p.rng.fill(&mut salt)?;
    let argon2 = argon2(p)?;
    p.hashes.run(|| {
        argon2
            .hash_password_with_salt(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal(format!("argon2: {e}")))
    })?
}

/// Whether a password matches a stored hash (whatever parameters it was made with).
pub(crate) fn verify_password(p: &LocalPortal, stored: &str, password: &Password) -> Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|_| crate::store::corrupt("password hash does not parse"))?;
    p.hashes.run(|| {
        Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok()
    })
}

impl LocalPortal {
    /// [`Portal::login_nhi_card`](super::Portal::login_nhi_card) with where it comes from and the card's proof of possession:
    /// wrong passwords are counted per card and per source network ([`guard`](super::guard)), so a guesser
    /// elsewhere cannot lock the owner out. The HTTP service passes the peer's (or trusted
    /// proxy's) address; the trait's method counts as one local network, unverified.
    pub fn login_nhi_card_with(&self, card: &NhiCardData, password: &Password, ctx: &LoginContext) -> Result<Session> {
        login_nhi_card(self, card, password, ctx)
    }

    /// [`Portal::login_account`](super::Portal::login_account) for a client at `from`, counted as
    /// [`LocalPortal::login_nhi_card_with`] is.
    pub fn login_account_from(
        &self,
        account: &str,
        password: &Password,
        from: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        login_account(self, account, password, from)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn the_hash_gate_lets_in_its_slots_and_refuses_the_rest_after_the_wait() {
        let gate = Arc::new(HashGate::new(2, Duration::from_millis(100)));
        let inside = Arc::new(Barrier::new(3));
        let release = Arc::new(Barrier::new(3));
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let (gate, inside, release) = (gate.clone(), inside.clone(), release.clone());
                std::thread::spawn(move || {
                    gate.run(|| {
                        inside.wait();
                        release.wait();
                    })
                    .unwrap();
                })
            })
            .collect();
        inside.wait();
        // Both slots taken: a third waits its 100 ms, then is refused.
        let started = std::time::Instant::now();
        let e = gate.run(|| ()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::LoginBusy);
        assert!(started.elapsed() >= Duration::from_millis(100));
        release.wait();
        for h in holders {
            h.join().unwrap();
        }
        // Slots given back: in at once, and a panic inside gives its slot back too.
        gate.run(|| ()).unwrap();
        let g = gate.clone();
        assert!(
            std::thread::spawn(move || g.run(|| panic!("inside a hash")))
                .join()
                .is_err()
        );
        gate.run(|| ()).unwrap();
        gate.run(|| ()).unwrap();
    }

    #[test]
    fn a_waiting_hash_gets_the_slot_another_gives_back() {
        let gate = Arc::new(HashGate::new(1, Duration::from_secs(5)));
        let g = gate.clone();
        let holder = std::thread::spawn(move || g.run(|| std::thread::sleep(Duration::from_millis(50))).unwrap());
        std::thread::sleep(Duration::from_millis(10));
        gate.run(|| ()).expect("waits its turn, well inside the wait");
        holder.join().unwrap();
    }
}
