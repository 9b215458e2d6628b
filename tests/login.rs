//! Login and sessions: the four errors of the guide, word for word; lockout; account login;
//! idle and absolute expiry; logout; leaving office mid-session; production argon2 parameters.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{LoginMethod, Portal, PortalConfig, SessionToken};
use ecpa::types::{AssuranceLevel, Lang, RocDate};
use support::{Fixture, Who, expect_code, person, pw};
use time::Duration;

#[test]
fn the_third_login_error_names_the_support_mailbox_the_portal_is_configured_with() {
    let fx = Fixture::with_config(PortalConfig {
        support_email: "help@ecpa.example.gov.tw".into(),
        ..support::fast_config()
    });
    let outsider = person(Who::Outsider);
    fx.portal
        .register_nhi_card_in_person(&fx.form(Who::Outsider), "counter")
        .expect("registered at the counter");
    let nobody = expect_code(
        fx.portal.login_nhi_card(&outsider.card_data(), &outsider.pw()),
        ErrorCode::AccountNotFound,
    );
    assert_eq!(
        nobody.message(Lang::ZhTw),
        "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：help@ecpa.example.gov.tw。"
    );
    assert!(
        nobody
            .message(Lang::En)
            .ends_with("support mailbox: help@ecpa.example.gov.tw."),
        "{nobody}"
    );
}

#[test]
fn the_four_login_errors_are_distinct_and_worded_as_the_guide() {
    let fx = Fixture::new();
    let outsider = person(Who::Outsider);
    let retired = person(Who::Retired);
    let wang = person(Who::Wang);

    // 1. The card is not registered.
    let not_registered = expect_code(
        fx.portal.login_nhi_card(&outsider.card_data(), &outsider.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    assert_eq!(not_registered.message(Lang::ZhTw), "您尚未註冊健保卡網路服務");
    // Started but not confirmed is still "not registered".
    fx.portal
        .start_nhi_registration(&fx.form(Who::Retired))
        .expect("starts");
    expect_code(
        fx.portal.login_nhi_card(&retired.card_data(), &retired.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    let token = fx.link_to(&retired.reg_email);
    fx.portal
        .confirm_nhi_registration(&retired.card_data(), &token)
        .expect("confirmed");
    // Someone no agency employs cannot register online; the NHI counter registers them.
    expect_code(
        fx.portal.start_nhi_registration(&fx.form(Who::Outsider)),
        ErrorCode::RegistrationDataMismatch,
    );
    fx.portal
        .register_nhi_card_in_person(&fx.form(Who::Outsider), "counter")
        .expect("registered at the counter");

    // 2. Wrong registered password.
    fx.register(Who::Wang);
    let wrong = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert_eq!(wrong.code().message(Lang::ZhTw), "註冊密碼輸入錯誤");
    assert!(wrong.message(Lang::ZhTw).starts_with("註冊密碼輸入錯誤"), "{wrong}");

    // 3. Registered, but not an employee of any agency.
    let nobody = expect_code(
        fx.portal.login_nhi_card(&outsider.card_data(), &outsider.pw()),
        ErrorCode::AccountNotFound,
    );
    assert_eq!(
        nobody.message(Lang::ZhTw),
        "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：pemis@dgpa.gov.tw。"
    );

    // 4. Left office.
    let left = expect_code(
        fx.portal.login_nhi_card(&retired.card_data(), &retired.pw()),
        ErrorCode::AccountDisabled,
    );
    assert_eq!(
        left.message(Lang::ZhTw),
        "很抱歉，該帳號已停用，可能是此帳號之人事資料為卸職狀態，若有問題請先洽機關所屬人事部門洽詢。"
    );

    let codes = [not_registered.code(), wrong.code(), nobody.code(), left.code()];
    for (i, a) in codes.iter().enumerate() {
        for b in &codes[i + 1..] {
            assert_ne!(a, b);
        }
    }
    // None of them opened a session.
    assert_eq!(support::count(&fx, "sessions"), 0);
}

#[test]
fn a_session_says_who_and_how() {
    let fx = Fixture::new();
    fx.register(Who::OfficerA);
    let p = person(Who::OfficerA);
    let s = fx.portal.login_nhi_card(&p.card_data(), &p.pw()).expect("logs in");
    assert_eq!(s.info.name, p.name);
    assert_eq!(s.info.national_id, p.masked());
    assert!(!s.info.national_id.contains(p.id.reveal()));
    assert_eq!(s.info.agency_code, support::AGENCY_A);
    assert_eq!(s.info.agency_name, support::AGENCY_A_NAME);
    assert_eq!(s.info.method, LoginMethod::NhiCard);
    assert_eq!(s.info.level, AssuranceLevel::NhiCard);
    assert!(s.info.officer);
    assert_eq!(
        s.info.expires_at.offset_date_time(),
        fx.clock_now() + fx.portal.config().session_absolute
    );
    let info = fx.portal.session_info(&s.token).expect("info");
    assert_eq!(info.national_id, s.info.national_id);
    assert!(!fx.portal.session_info(&fx.enrol(Who::Wang)).expect("info").officer);
    // The token is never printed.
    assert!(!format!("{:?}", s.token).contains(s.token.expose()));
}

#[test]
fn a_session_shows_this_login_and_the_one_before() {
    // 登入時間（本次／上次）, as the proofing site's header shows them.
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let p = person(Who::Wang);
    let first = fx.portal.login_nhi_card(&p.card_data(), &p.pw()).expect("first login");
    let first_at = fx.clock_now();
    assert_eq!(first.info.logged_in_at.offset_date_time(), first_at);
    assert_eq!(first.info.previous_login_at, None, "never logged in before");
    fx.advance(Duration::minutes(10));
    let second = fx.portal.login_nhi_card(&p.card_data(), &p.pw()).expect("second login");
    assert_eq!(second.info.logged_in_at.offset_date_time(), fx.clock_now());
    assert_eq!(
        second.info.previous_login_at.map(|t| t.offset_date_time()),
        Some(first_at)
    );
    // Asked again later, each session still says what it said at login.
    fx.advance(Duration::minutes(5));
    let again = fx.portal.session_info(&second.token).expect("info");
    assert_eq!(again.logged_in_at, second.info.logged_in_at);
    assert_eq!(again.previous_login_at, second.info.previous_login_at);
    let old = fx
        .portal
        .session_info(&first.token)
        .expect("the first session is still open");
    assert_eq!(old.previous_login_at, None);
    // The next login shows the latest before it.
    assert_eq!(
        fx.portal
            .login_nhi_card(&p.card_data(), &p.pw())
            .expect("third")
            .info
            .previous_login_at,
        Some(second.info.logged_in_at)
    );
}

#[test]
fn wrong_passwords_count_down_then_lock() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let max = fx.portal.config().max_password_failures;
    for expected in (1..max).rev() {
        let e = expect_code(
            fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
            ErrorCode::RegistrationPasswordWrong,
        );
        assert!(
            matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left } if tries_left == expected),
            "{e:?}"
        );
        assert!(
            e.message(Lang::ZhTw).contains(&format!("尚可再試 {expected} 次")),
            "{e}"
        );
    }
    // The last allowed failure locks.
    let e = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
        ErrorCode::LoginLocked,
    );
    assert!(matches!(e, ecpa::Error::LoginLocked { seconds_left: 900, .. }), "{e:?}");
}

#[test]
fn lockout_refuses_the_right_password_and_ends_on_time() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.register(Who::Lin);
    for _ in 0..fx.portal.config().max_password_failures {
        let _ = fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026"));
    }
    let locked_at = fx.clock_now();
    let e = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginLocked,
    );
    let ecpa::Error::LoginLocked { until, seconds_left } = e else {
        panic!("{e:?}")
    };
    assert_eq!(until, locked_at + Duration::minutes(15));
    assert_eq!(seconds_left, 15 * 60);
    assert!(e.message(Lang::ZhTw).contains("15 分鐘"), "{}", e.message(Lang::ZhTw));
    assert!(e.message(Lang::ZhTw).starts_with("密碼錯誤次數過多，暫停登入"));

    fx.advance(Duration::minutes(5));
    let e = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginLocked,
    );
    assert!(matches!(e, ecpa::Error::LoginLocked { seconds_left: 600, .. }), "{e:?}");
    assert!(e.message(Lang::ZhTw).contains("10 分鐘"), "{}", e.message(Lang::ZhTw));
    // Other cards are not affected.
    fx.login(Who::Lin);

    fx.advance(Duration::minutes(10) - Duration::seconds(1));
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginLocked,
    );
    fx.advance(Duration::seconds(1));
    fx.login(Who::Wang);
    // A fresh count after the lockout.
    let e = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 4 }),
        "{e:?}"
    );
}

#[test]
fn a_success_resets_the_failure_count() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let max = fx.portal.config().max_password_failures;
    for _ in 0..max - 1 {
        expect_code(
            fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
    fx.login(Who::Wang);
    for _ in 0..max - 1 {
        expect_code(
            fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
    fx.login(Who::Wang);
}

#[test]
fn account_login_has_the_password_level() {
    let fx = Fixture::new();
    let card_session = fx.enrol(Who::Wang);
    expect_code(
        fx.portal.login_account("wang.hsiaoming", &pw("Acct#2026ok")),
        ErrorCode::AccountPasswordWrong,
    );
    expect_code(
        fx.portal.set_account(&card_session, "王小明", &pw("Acct#2026ok")),
        ErrorCode::FieldInvalid,
    );
    fx.portal
        .set_account(&card_session, "wang.hsiaoming", &pw("Acct#2026ok"))
        .expect("account set");
    let s = fx
        .portal
        .login_account("wang.hsiaoming", &pw("Acct#2026ok"))
        .expect("account login");
    assert_eq!(s.info.level, AssuranceLevel::Password);
    assert_eq!(s.info.method, LoginMethod::Account);
    assert_eq!(s.info.name, "王小明");
    assert_eq!(
        fx.portal.session_info(&s.token).expect("info").level,
        AssuranceLevel::Password
    );
    // The account password is not the NHI registration password, and vice versa.
    expect_code(
        fx.portal.login_account("wang.hsiaoming", &person(Who::Wang).pw()),
        ErrorCode::AccountPasswordWrong,
    );
    // Someone else cannot take the name.
    let lin = fx.enrol(Who::Lin);
    expect_code(
        fx.portal.set_account(&lin, "wang.hsiaoming", &pw("Lin#2026ok")),
        ErrorCode::AccountNameTaken,
    );
}

#[test]
fn account_logins_lock_too() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&s, "wang", &pw("Acct#2026ok"))
        .expect("account set");
    let max = fx.portal.config().max_password_failures;
    for _ in 0..max - 1 {
        expect_code(
            fx.portal.login_account("wang", &pw("Wrong#2026")),
            ErrorCode::AccountPasswordWrong,
        );
    }
    expect_code(
        fx.portal.login_account("wang", &pw("Wrong#2026")),
        ErrorCode::LoginLocked,
    );
    expect_code(
        fx.portal.login_account("wang", &pw("Acct#2026ok")),
        ErrorCode::LoginLocked,
    );
    fx.advance(fx.portal.config().lockout);
    fx.portal
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("after the lockout");
}

#[test]
fn an_idle_session_expires() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    // Each call keeps it alive for another 30 minutes.
    for _ in 0..3 {
        fx.advance(Duration::minutes(29));
        fx.portal.session_info(&s).expect("still alive");
    }
    fx.advance(Duration::minutes(30));
    expect_code(fx.portal.session_info(&s), ErrorCode::SessionExpired);
    expect_code(fx.portal.applications(&s), ErrorCode::SessionExpired);
}

#[test]
fn a_busy_session_ends_after_eight_hours() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let absolute = fx.portal.config().session_absolute;
    let mut elapsed = Duration::ZERO;
    while elapsed + Duration::minutes(20) < absolute {
        fx.advance(Duration::minutes(20));
        elapsed += Duration::minutes(20);
        fx.portal.session_info(&s).expect("busy and within eight hours");
    }
    fx.advance(absolute - elapsed);
    expect_code(fx.portal.session_info(&s), ErrorCode::SessionExpired);
}

#[test]
fn logout_ends_the_session() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let other = fx.login(Who::Wang);
    fx.portal.logout(&s).expect("logged out");
    expect_code(fx.portal.session_info(&s), ErrorCode::SessionInvalid);
    expect_code(fx.portal.applications(&s), ErrorCode::SessionInvalid);
    // Logging out twice is harmless; an unknown token is invalid.
    fx.portal.logout(&s).expect("again");
    expect_code(
        fx.portal.logout(&SessionToken::new("no-such-token")),
        ErrorCode::SessionInvalid,
    );
    expect_code(
        fx.portal.session_info(&SessionToken::new("no-such-token")),
        ErrorCode::SessionInvalid,
    );
    // Only that session ended.
    fx.portal.session_info(&other).expect("the other session lives");
}

#[test]
fn leaving_office_mid_session_refuses_the_next_call() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let officer = person(Who::OfficerA);
    let s = fx.ready(Who::Wang);
    let o = fx.enrol(Who::OfficerA);
    fx.portal
        .agency_employees(&o, ecpa::portal::PageRequest::default())
        .expect("an officer");
    let on = RocDate::parse("114/06/02").expect("date");
    fx.portal.mark_left(&wang.id, on, "辭職").expect("marked");
    fx.portal.mark_left(&officer.id, on, "調職").expect("marked");
    let e = expect_code(fx.portal.unviewed_award_orders(&s), ErrorCode::AccountDisabled);
    assert_eq!(
        e.message(Lang::ZhTw),
        "很抱歉，該帳號已停用，可能是此帳號之人事資料為卸職狀態，若有問題請先洽機關所屬人事部門洽詢。"
    );
    expect_code(fx.portal.session_info(&s), ErrorCode::AccountDisabled);
    expect_code(
        fx.portal.agency_employees(&o, ecpa::portal::PageRequest::default()),
        ErrorCode::AccountDisabled,
    );
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::AccountDisabled,
    );
    expect_code(
        fx.portal.mark_left(&person(Who::Outsider).id, on, "辭職"),
        ErrorCode::EmployeeNotFound,
    );
}

#[test]
fn production_argon2_parameters_are_used_and_old_hashes_still_verify() {
    // The default configuration, unchanged: what a real deployment runs.
    let fx = Fixture::with_config(PortalConfig::default());
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let hash = fx
        .sql_text(
            "SELECT password_hash FROM nhi_registrations WHERE card_number = ?",
            wang.card_data().card_number.as_str(),
        )
        .expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(wang.password));
    let s = fx.login(Who::Wang);
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    fx.portal.set_account(&s, "wang", &pw("Acct#2026ok")).expect("account");
    let account_hash = fx
        .sql_text(
            "SELECT account_password_hash FROM employees WHERE account_name = ?",
            "wang",
        )
        .expect("hash");
    assert!(
        account_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{account_hash}"
    );

    // A hash made with other parameters is checked with its own: reopen with a cheap config.
    let cheap = fx.reopen(support::fast_config());
    cheap
        .login_nhi_card(&wang.card_data(), &wang.pw())
        .expect("old hash verifies");
    cheap
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("old hash verifies");
}

#[test]
fn wrong_passwords_racing_are_all_counted() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let card = wang.card_data();
    let max = fx.portal.config().max_password_failures as usize;
    let results = support::race(4 * max, |_| fx.portal.login_nhi_card(&card, &pw("Wrong#2026")));
    let (ok, codes) = support::outcomes(&results);
    assert_eq!(ok, 0);
    assert!(
        codes.iter().all(|c| matches!(
            c,
            ErrorCode::RegistrationPasswordWrong | ErrorCode::LoginLocked | ErrorCode::LoginBusy
        )),
        "{codes:?}"
    );
    // Parallel guesses get no more tries than one after another: at most max − 1 are told
    // "wrong, try again", the rest find the card locked.
    let wrong = codes
        .iter()
        .filter(|c| **c == ErrorCode::RegistrationPasswordWrong)
        .count();
    assert!(
        wrong < max,
        "{wrong} guesses were checked and refused before the lockout: {codes:?}"
    );
    expect_code(fx.portal.login_nhi_card(&card, &wang.pw()), ErrorCode::LoginLocked);
}

#[test]
fn account_guesses_racing_get_no_extra_tries() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal.set_account(&s, "wang", &pw("Acct#2026ok")).expect("account");
    let max = fx.portal.config().max_password_failures as usize;
    let results = support::race(4 * max, |_| fx.portal.login_account("wang", &pw("Wrong#2026")));
    let (ok, codes) = support::outcomes(&results);
    assert_eq!(ok, 0);
    let wrong = codes.iter().filter(|c| **c == ErrorCode::AccountPasswordWrong).count();
    assert!(
        wrong < max,
        "{wrong} guesses were checked and refused before the lockout: {codes:?}"
    );
    expect_code(
        fx.portal.login_account("wang", &pw("Acct#2026ok")),
        ErrorCode::LoginLocked,
    );
}

#[test]
fn a_guess_past_the_limit_is_not_checked_even_if_right() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    // As if `max` other guesses from this network were being checked at this moment.
    let max = fx.portal.config().max_password_failures;
    let until = fx.clock_now() + Duration::seconds(60);
    for _ in 0..max {
        fx.exec(
            "INSERT INTO login_reservations (subject, network, expires_at) VALUES (?, 'local', ?)",
            &[
                ecpa::store::Value::from(format!("card:{}", wang.card_data().card_number.as_str())),
                ecpa::store::Value::Int(until.unix_timestamp() * 1000),
            ],
        );
    }
    // Turned away unchecked and uncounted: busy, not locked.
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginBusy,
    );
    // Reservations left by a process that died mid-check lapse by themselves.
    fx.advance(Duration::seconds(60));
    fx.login(Who::Wang);
    assert_eq!(support::count(&fx, "login_reservations"), 0);
}

#[test]
fn right_guesses_racing_never_lock_the_card() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let card = wang.card_data();
    let max = fx.portal.config().max_password_failures as usize;
    let results = support::race(4 * max, |_| fx.portal.login_nhi_card(&card, &wang.pw()));
    let (ok, codes) = support::outcomes(&results);
    assert!(ok >= 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == ErrorCode::LoginBusy), "{codes:?}");
    // Nothing was counted: five wrong guesses are still needed for a lockout.
    let e = expect_code(
        fx.portal.login_nhi_card(&card, &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 4 }),
        "{e:?}"
    );
    fx.login(Who::Wang);
}

// ---- guesses from elsewhere: counted per card and per source network ----

fn ip(s: &str) -> Option<std::net::IpAddr> {
    Some(s.parse().expect("an address"))
}

/// Wang's card with `password`, on portal `p`, from the address `from`.
fn wang_at(
    p: &ecpa::portal::LocalPortal,
    password: &ecpa::types::Password,
    from: &str,
) -> ecpa::Result<ecpa::portal::Session> {
    let ctx = ecpa::portal::LoginContext {
        from: ip(from),
        possession: None,
    };
    p.login_nhi_card_with(&person(Who::Wang).card_data(), password, &ctx)
}

/// Sends wrong guesses for Wang's card from `from` until that network is locked out.
fn lock_out(fx: &Fixture, from: &str) {
    for _ in 1..fx.portal.config().max_password_failures {
        expect_code(
            wang_at(&fx.portal, &pw("Wrong#2026"), from),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
    expect_code(wang_at(&fx.portal, &pw("Wrong#2026"), from), ErrorCode::LoginLocked);
}

#[test]
fn a_guesser_elsewhere_cannot_keep_the_owner_out() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    lock_out(&fx, "203.0.113.9");
    // The guesser's network is shut, even with the right password…
    expect_code(wang_at(&fx.portal, &wang.pw(), "203.0.113.9"), ErrorCode::LoginLocked);
    // …while the owner, from their own network, gets in, and a success there does not clear
    // the guesser's record.
    wang_at(&fx.portal, &wang.pw(), "198.51.100.20").expect("the owner gets in");
    expect_code(wang_at(&fx.portal, &wang.pw(), "203.0.113.9"), ErrorCode::LoginLocked);
    // A caller in this process (C, Python) is one network of its own.
    fx.login(Who::Wang);
    // The owner hears of it at the registration's address, once.
    let warned: Vec<_> = fx
        .deliver()
        .into_iter()
        .filter(|m| m.subject.contains("登入密碼錯誤警示"))
        .collect();
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0].to, wang.reg_email);
    assert!(!warned[0].body.contains(wang.id.reveal()), "{}", warned[0].body);
}

#[test]
fn an_ipv6_host_is_one_network_however_many_addresses_it_uses() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let max = fx.portal.config().max_password_failures;
    for i in 1..max {
        expect_code(
            wang_at(&fx.portal, &pw("Wrong#2026"), &format!("2001:db8:7:9::{i:x}")),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
    expect_code(
        wang_at(&fx.portal, &pw("Wrong#2026"), "2001:db8:7:9:ffff::1"),
        ErrorCode::LoginLocked,
    );
    // The next /64 is another network.
    wang_at(&fx.portal, &wang.pw(), "2001:db8:7:a::1").expect("another network");
}

#[test]
fn each_lockout_in_a_row_lasts_twice_as_long() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let mut expected = fx.portal.config().lockout;
    for _ in 0..3 {
        lock_out(&fx, "203.0.113.9");
        let e = expect_code(
            wang_at(&fx.portal, &pw("Wrong#2026"), "203.0.113.9"),
            ErrorCode::LoginLocked,
        );
        let ecpa::Error::LoginLocked { seconds_left, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(seconds_left, expected.whole_seconds() as u64);
        fx.advance(expected);
        expected *= 2;
    }
    // A day without guesses from there, and the count starts from nothing again.
    fx.advance(Duration::days(1));
    lock_out(&fx, "203.0.113.9");
    let e = expect_code(
        wang_at(&fx.portal, &pw("Wrong#2026"), "203.0.113.9"),
        ErrorCode::LoginLocked,
    );
    assert!(matches!(e, ecpa::Error::LoginLocked { seconds_left: 900, .. }), "{e:?}");
}

#[test]
fn a_day_of_guessing_from_everywhere_holds_the_card_until_a_reset_by_mail() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let ceiling = fx.portal.config().max_daily_failures;
    let max = fx.portal.config().max_password_failures;
    let mut sent = 0;
    let mut last = None;
    'networks: for net in 1.. {
        for _ in 0..max {
            last = Some(wang_at(&fx.portal, &pw("Wrong#2026"), &format!("203.0.{net}.1")));
            sent += 1;
            if sent == ceiling {
                break 'networks;
            }
        }
    }
    let held = expect_code(last.expect("guessed"), ErrorCode::LoginHeld);
    assert!(held.message(Lang::ZhTw).contains("忘記密碼"), "{held}");
    // Now no network gets in, the owner's included, not even with the right password.
    expect_code(wang_at(&fx.portal, &wang.pw(), "198.51.100.20"), ErrorCode::LoginHeld);
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginHeld,
    );
    // One warning however many networks were locked out on the way.
    let warned = fx
        .deliver()
        .into_iter()
        .filter(|m| m.subject.contains("登入密碼錯誤警示"))
        .count();
    assert_eq!(warned, 1);
    // The reset by mail opens it again, with every count cleared.
    fx.portal
        .request_password_reset(&wang.card_data(), &ecpa::portal::ResetDelivery::RegisteredAddress)
        .expect("reset asked");
    let token = fx.link_to(&wang.reg_email);
    fx.portal
        .complete_password_reset(&wang.card_data(), &token, &pw("Newer#2026x"), &pw("Newer#2026x"))
        .expect("reset");
    wang_at(&fx.portal, &pw("Newer#2026x"), "203.0.1.1").expect("open again");
}

#[test]
fn the_counts_are_shared_by_every_process_on_the_database() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let other = fx.reopen(support::fast_config());
    let max = fx.portal.config().max_password_failures;
    for i in 1..max {
        let by = if i % 2 == 0 { &fx.portal } else { &other };
        expect_code(
            wang_at(by, &pw("Wrong#2026"), "203.0.113.9"),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
    expect_code(
        wang_at(&other, &pw("Wrong#2026"), "203.0.113.9"),
        ErrorCode::LoginLocked,
    );
    expect_code(wang_at(&fx.portal, &wang.pw(), "203.0.113.9"), ErrorCode::LoginLocked);
}

#[test]
fn account_guesses_are_counted_per_network_too() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&s, "wang", &pw("Acct#2026ok"))
        .expect("account set");
    for _ in 0..fx.portal.config().max_password_failures {
        let _ = fx
            .portal
            .login_account_from("wang", &pw("Wrong#2026"), ip("203.0.113.9"));
    }
    expect_code(
        fx.portal
            .login_account_from("wang", &pw("Acct#2026ok"), ip("203.0.113.9")),
        ErrorCode::LoginLocked,
    );
    fx.portal
        .login_account_from("wang", &pw("Acct#2026ok"), ip("198.51.100.20"))
        .expect("the owner gets in");
    // Unknown names answer as a wrong password does, and lock nothing.
    for _ in 0..10 {
        expect_code(
            fx.portal
                .login_account_from("nobody", &pw("Wrong#2026"), ip("203.0.113.9")),
            ErrorCode::AccountPasswordWrong,
        );
    }
}

#[test]
fn household_guesses_in_a_reset_count_as_wrong_passwords() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let wrong = ecpa::portal::ResetDelivery::NewAddress {
        email: ecpa::types::Email::parse("thief@example.net").expect("e-mail"),
        address: support::household_address(),
        mobile: None,
        household_number: Some(ecpa::types::HouseholdNumber::parse("Z9999999").expect("number")),
    };
    let max = fx.portal.config().max_password_failures;
    for _ in 1..max {
        expect_code(
            fx.portal
                .request_password_reset_from(&wang.card_data(), &wrong, ip("203.0.113.9")),
            ErrorCode::HouseholdMismatch,
        );
    }
    expect_code(
        fx.portal
            .request_password_reset_from(&wang.card_data(), &wrong, ip("203.0.113.9")),
        ErrorCode::LoginLocked,
    );
    // And the guessed-at card's password logins from there are shut with it.
    expect_code(wang_at(&fx.portal, &wang.pw(), "203.0.113.9"), ErrorCode::LoginLocked);
    wang_at(&fx.portal, &wang.pw(), "198.51.100.20").expect("the owner gets in");
}

/// The token of the account-recovery link in a mail, if it has one.
fn recovery_token(mail: &ecpa::portal::ReceivedMail) -> Option<String> {
    let at = mail.body.find("/account/reset?token=")? + "/account/reset?token=".len();
    Some(mail.body[at..].chars().take_while(char::is_ascii_hexdigit).collect())
}

#[test]
fn a_forgotten_account_is_mailed_to_the_official_mailbox_and_its_link_sets_the_password_once() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let wang = person(Who::Wang);
    fx.portal
        .set_account(&s, "wang.xm", &pw("Acct#2026ok"))
        .expect("account");
    fx.deliver();

    let notice = fx.portal.request_account_recovery(&wang.id).expect("asked");
    assert_eq!(notice.kind, ecpa::portal::NoticeKind::AccountRecoverySent);
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, fx.mailbox_of(Who::Wang));
    assert!(mails[0].body.contains("wang.xm"), "the account name: {}", mails[0].body);
    assert!(!mails[0].body.contains(wang.id.reveal()), "no full ID by mail");
    let token = recovery_token(&mails[0]).expect("a link");
    // A second ask within five minutes mails nothing more (the form cannot flood a mailbox).
    fx.portal.request_account_recovery(&wang.id).expect("asked again");
    assert!(fx.deliver().is_empty());

    let new = pw("Recov#2026ok");
    expect_code(
        fx.portal.complete_account_recovery(&token, &new, &pw("Recov#2026no")),
        ErrorCode::PasswordMismatch,
    );
    let other = fx
        .portal
        .login_account("wang.xm", &pw("Acct#2026ok"))
        .expect("old works until then");
    let done = fx.portal.complete_account_recovery(&token, &new, &new).expect("set");
    assert_eq!(done.kind, ecpa::portal::NoticeKind::AccountPasswordChanged);
    expect_code(
        fx.portal.complete_account_recovery(&token, &new, &new),
        ErrorCode::TokenUsed,
    );
    expect_code(fx.portal.session_info(&other.token), ErrorCode::SessionInvalid);
    expect_code(
        fx.portal.login_account("wang.xm", &pw("Acct#2026ok")),
        ErrorCode::AccountPasswordWrong,
    );
    fx.portal
        .login_account("wang.xm", &new)
        .expect("the new password logs in");
    // The card session is not the account's: it stays.
    fx.portal.session_info(&s).expect("card session kept");
}

#[test]
fn account_recovery_tells_nothing_about_who_is_on_file() {
    let fx = Fixture::new();
    // Not in the directory, left office, no mailbox, no account: the same answer, and only the
    // serving person without an account gets a mail (how to set one up, no link).
    let answers: Vec<_> = [Who::Outsider, Who::Retired, Who::NoMail, Who::Lin]
        .into_iter()
        .map(|who| fx.portal.request_account_recovery(&person(who).id).expect("answered"))
        .collect();
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, fx.mailbox_of(Who::Lin));
    assert!(recovery_token(&mails[0]).is_none(), "no account, no link");
    // A made-up token and an expired one open nothing.
    let new = pw("Recov#2026ok");
    expect_code(
        fx.portal.complete_account_recovery(&"ab".repeat(32), &new, &new),
        ErrorCode::TokenInvalid,
    );
    let s = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&s, "wang.xm", &pw("Acct#2026ok"))
        .expect("account");
    fx.deliver();
    fx.portal
        .request_account_recovery(&person(Who::Wang).id)
        .expect("asked");
    let token = recovery_token(&fx.deliver()[0]).expect("a link");
    fx.advance(Duration::minutes(31));
    expect_code(
        fx.portal.complete_account_recovery(&token, &new, &new),
        ErrorCode::TokenExpired,
    );
}

#[test]
fn a_recovery_link_opens_an_account_held_for_guessing() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&s, "wang.xm", &pw("Acct#2026ok"))
        .expect("account");
    let max = fx.portal.config().max_daily_failures;
    for i in 0..max {
        let from = format!("203.0.{}.{}", i / 200, i % 200 + 1);
        let _ = fx.portal.login_account_from("wang.xm", &pw("Wrong#2026"), ip(&from));
    }
    expect_code(
        fx.portal
            .login_account_from("wang.xm", &pw("Acct#2026ok"), ip("198.51.100.20")),
        ErrorCode::LoginHeld,
    );
    fx.deliver();
    fx.portal
        .request_account_recovery(&person(Who::Wang).id)
        .expect("asked");
    let token = recovery_token(&fx.deliver()[0]).expect("a link");
    let new = pw("Recov#2026ok");
    fx.portal.complete_account_recovery(&token, &new, &new).expect("set");
    fx.portal
        .login_account_from("wang.xm", &new, ip("198.51.100.20"))
        .expect("open again");
}
