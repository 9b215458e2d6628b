//! NHI card online registration (健保卡網路服務註冊): confirmation links, the password policy,
//! maintenance windows, both variants of "forgot password", and the service's own functions
//! (刪除註冊申請, 註冊密碼變更, 基本資料異動).

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{NoticeKind, Portal, RegistrationDetails, RegistrationForm, ResetDelivery, registration_terms};
use ecpa::types::{Email, HouseholdAddress, HouseholdNumber, Lang, Password};
use support::{Fixture, Who, expect_code, person, pw};
use time::Duration;

/// The main address of Wang's registration.
fn registered_email(fx: &Fixture) -> String {
    fx.sql_text(
        "SELECT email FROM nhi_registrations WHERE national_id = ?",
        person(Who::Wang).id.reveal(),
    )
    .expect("registered")
}

fn registered_mobile(fx: &Fixture) -> String {
    fx.sql_text(
        "SELECT mobile FROM nhi_registrations WHERE national_id = ?",
        person(Who::Wang).id.reveal(),
    )
    .expect("registered")
}

/// Wang's official mailbox (wang.hsiaoming@mail.taipei.gov.tw) as receipts show it.
const WANG_MASKED: &str = "wa***@mail.taipei.gov.tw";

#[test]
fn confirm_with_the_same_card_registers() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let receipt = fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    // To the official mailbox of the directory, shown masked to whoever asked.
    assert_eq!(receipt.sent_to, WANG_MASKED);
    assert!(receipt.warnings_zh.is_empty() && receipt.warnings_en.is_empty());
    assert_eq!(
        receipt.link_expires_at.offset_date_time(),
        fx.clock_now() + fx.portal.config().confirmation_ttl
    );
    // Not registered until confirmed.
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, wang.reg_email);
    let token = mails[0].link_token().expect("the mail carries a link").to_owned();
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
    let s = fx
        .portal
        .login_nhi_card(&wang.card_data(), &wang.pw())
        .expect("logs in");
    assert_eq!(s.info.name, "王小明");
    assert_eq!(s.info.national_id, wang.masked());
}

#[test]
fn confirm_with_another_card_is_refused_and_the_link_still_works() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let lin = person(Who::Lin);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let token = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal.confirm_nhi_registration(&lin.card_data(), &token),
        ErrorCode::TokenInvalid,
    );
    // A made-up token is just as invalid.
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &"0".repeat(64)),
        ErrorCode::TokenInvalid,
    );
    // The refused attempt spent nothing: the right card still confirms.
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
}

#[test]
fn confirmation_link_is_single_use() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let token = fx.link_to(&wang.reg_email);
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &token),
        ErrorCode::TokenUsed,
    );
}

#[test]
fn confirmation_link_expires() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let token = fx.link_to(&wang.reg_email);
    fx.advance(fx.portal.config().confirmation_ttl);
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &token),
        ErrorCode::TokenExpired,
    );
}

#[test]
fn resend_replaces_the_waiting_link_and_touches_nothing_used() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let first = fx.link_to(&wang.reg_email);
    fx.advance(Duration::minutes(5));
    let receipt = fx.portal.resend_confirmation(&wang.card_data()).expect("resent");
    assert_eq!(receipt.sent_to, WANG_MASKED);
    let second = fx.link_to(&wang.reg_email);
    assert_ne!(first, second);
    // The earlier, unused link no longer works; the new one does.
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &first),
        ErrorCode::TokenExpired,
    );
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &second)
        .expect("confirmed");
    // Once registered there is nothing to resend, and the used link stays used.
    expect_code(
        fx.portal.resend_confirmation(&wang.card_data()),
        ErrorCode::AlreadyRegistered,
    );
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &second),
        ErrorCode::TokenUsed,
    );
    fx.login(Who::Wang);
    // A card that never started a registration has nothing to resend.
    expect_code(
        fx.portal.resend_confirmation(&person(Who::Lin).card_data()),
        ErrorCode::NhiCardNotRegistered,
    );
}

#[test]
fn a_registered_card_cannot_register_again() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    expect_code(
        fx.portal.start_nhi_registration(&fx.form(Who::Wang)),
        ErrorCode::AlreadyRegistered,
    );
}

#[test]
fn a_waiting_registration_is_kept_until_its_link_expires() {
    // The attack: a stranger's form for the same person used to replace the waiting one and
    // kill its owner's link.
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let old = fx.link_to(&wang.reg_email);
    let mut form = fx.form(Who::Wang);
    form.email = Email::parse("wang.second@example.com.tw").expect("email");
    form.password = pw("Second#2026");
    form.confirmation = pw("Second#2026");
    expect_code(fx.portal.start_nhi_registration(&form), ErrorCode::RegistrationPending);
    // The holder hears of it at the official mailbox, once a day however often it is tried.
    expect_code(fx.portal.start_nhi_registration(&form), ErrorCode::RegistrationPending);
    let told = fx.deliver();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to, wang.reg_email);
    assert!(told[0].link_token().is_none());
    // The first link still works... once its day is over, a new form may start again.
    fx.advance(fx.portal.config().confirmation_ttl);
    let receipt = fx.portal.start_nhi_registration(&form).expect("starts again");
    assert_eq!(receipt.sent_to, WANG_MASKED);
    let new = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &old),
        ErrorCode::TokenInvalid,
    );
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &new)
        .expect("confirmed");
    fx.portal
        .login_nhi_card(&wang.card_data(), &pw("Second#2026"))
        .expect("the second form's password");
    // Its addresses are the registration's own now.
    assert_eq!(registered_email(&fx), "wang.second@example.com.tw");
}

#[test]
fn password_policy_and_mismatch() {
    for bad in [
        "abc12",
        "abcdefghijklm",
        "abc def12",
        "abc<def1",
        "abc>def1",
        "abc'def1",
        "abc\"def1",
        "密碼密碼密碼",
    ] {
        expect_code(Password::new(bad), ErrorCode::PasswordPolicy);
    }
    for good in ["abc123", "abcdefghijkl", "Ecpa#2026ok", "~!@#$%^&*"] {
        Password::new(good).unwrap_or_else(|e| panic!("{good:?} is allowed: {e}"));
    }
    expect_code(
        Password::confirm("Ecpa#2026ok", "Ecpa#2026OK"),
        ErrorCode::PasswordMismatch,
    );

    let fx = Fixture::new();
    let form = RegistrationForm {
        confirmation: pw("Ecpa#2026OK"),
        ..fx.form(Who::Wang)
    };
    expect_code(fx.portal.start_nhi_registration(&form), ErrorCode::PasswordMismatch);
    // Nothing was registered and nothing mailed.
    assert_eq!(support::count(&fx, "nhi_registrations"), 0);
    assert!(fx.deliver().is_empty());
}

#[test]
fn microsoft_domain_warns_but_registers() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let form = RegistrationForm {
        email: Email::parse("wang.hsiaoming@hotmail.com").expect("email"),
        ..fx.form(Who::Wang)
    };
    let receipt = fx.portal.start_nhi_registration(&form).expect("registers anyway");
    assert_eq!(receipt.warnings_zh.len(), 1, "{receipt:?}");
    assert!(receipt.warnings_zh[0].contains("hotmail"), "{receipt:?}");
    assert!(receipt.warnings_en[0].contains("Microsoft"), "{receipt:?}");
    let token = fx.link_to(&wang.reg_email);
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
    fx.login(Who::Wang);
    // An address that merely contains "live" is not warned about.
    let lin = RegistrationForm {
        email: Email::parse("lin@live.example.org").expect("email"),
        ..fx.form(Who::Lin)
    };
    assert!(
        fx.portal
            .start_nhi_registration(&lin)
            .expect("starts")
            .warnings_zh
            .is_empty()
    );
}

#[test]
fn maintenance_window_suspends_registration_and_reset() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let lin = person(Who::Lin);
    // Lin registered before the window; Wang has a confirmation link waiting.
    fx.register(Who::Lin);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let confirm = fx.link_to(&wang.reg_email);
    fx.portal
        .request_password_reset(&lin.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("reset requested");
    let reset = fx.link_to(&lin.reg_email);

    // 民國114年6月2日20時至114年6月3日4時, announced at 10:00 that day.
    let from = time::macros::datetime!(2025-06-02 20:00 +8);
    let to = time::macros::datetime!(2025-06-03 04:00 +8);
    let window = fx.portal.announce_maintenance(from, to).expect("announced");
    let announced = "配合系統維護，本系統於114年6月2日20時至114年6月3日4時將暫停註冊服務，敬請見諒。";
    assert_eq!(window.announcement_zh, announced);
    assert_eq!(fx.portal.maintenance_windows().expect("windows"), vec![window.clone()]);
    // Before the window the service works (a third card starts a registration).
    fx.portal
        .start_nhi_registration(&fx.form(Who::OfficerB))
        .expect("before the window");

    fx.clock.set(time::macros::datetime!(2025-06-02 21:30 +8));
    let e = expect_code(
        fx.portal.start_nhi_registration(&fx.form(Who::Li)),
        ErrorCode::RegistrationMaintenance,
    );
    assert!(matches!(e, ecpa::Error::RegistrationMaintenance { from: f, to: t, .. } if f == from && t == to));
    assert_eq!(e.message(Lang::ZhTw), announced);
    assert!(
        e.message(Lang::En).contains("2025-06-02T20:00:00+08:00"),
        "{}",
        e.message(Lang::En)
    );
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &confirm),
        ErrorCode::RegistrationMaintenance,
    );
    expect_code(
        fx.portal.resend_confirmation(&wang.card_data()),
        ErrorCode::RegistrationMaintenance,
    );
    expect_code(
        fx.portal
            .request_password_reset(&lin.card_data(), &ResetDelivery::RegisteredAddress),
        ErrorCode::RegistrationMaintenance,
    );
    expect_code(
        fx.portal
            .complete_password_reset(&lin.card_data(), &reset, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::RegistrationMaintenance,
    );
    // Logging in is not the registration service: it keeps working.
    fx.login(Who::Lin);

    // From the announced end the service is back, and the links refused meanwhile still work
    // (the reset link was mailed at 10:00 and is long expired by now).
    fx.clock.set(to);
    assert!(fx.portal.maintenance_windows().expect("windows").is_empty());
    fx.portal
        .confirm_nhi_registration(&wang.card_data(), &confirm)
        .expect("after the window");
    fx.portal
        .start_nhi_registration(&fx.form(Who::Li))
        .expect("after the window");
    expect_code(
        fx.portal
            .complete_password_reset(&lin.card_data(), &reset, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenExpired,
    );
    // A window must end after it starts.
    expect_code(fx.portal.announce_maintenance(to, from), ErrorCode::DateInvalid);
}

#[test]
fn a_maintenance_window_carries_its_reason_and_can_be_withdrawn() {
    let fx = Fixture::new();
    let from = time::macros::datetime!(2025-06-02 20:00 +8);
    let to = time::macros::datetime!(2025-06-03 04:00 +8);
    let window = fx
        .portal
        .announce_maintenance_for(from, to, Some("配合戶政系統維護"))
        .expect("announced");
    let announced = "配合戶政系統維護，本系統於114年6月2日20時至114年6月3日4時將暫停註冊服務，敬請見諒。";
    assert_eq!(window.announcement_zh, announced);
    assert_eq!(window.reason.as_deref(), Some("配合戶政系統維護"));
    assert_eq!(fx.portal.maintenance_windows().expect("windows"), vec![window.clone()]);
    fx.clock.set(time::macros::datetime!(2025-06-02 21:30 +8));
    let e = expect_code(
        fx.portal.start_nhi_registration(&fx.form(Who::Li)),
        ErrorCode::RegistrationMaintenance,
    );
    assert_eq!(e.message(Lang::ZhTw), announced);
    assert!(
        e.message(Lang::En).contains("配合戶政系統維護"),
        "{}",
        e.message(Lang::En)
    );
    // Withdrawn, the window refuses nothing.
    fx.portal.remove_maintenance(window.id).expect("removed");
    assert!(fx.portal.maintenance_windows().expect("windows").is_empty());
    fx.portal
        .start_nhi_registration(&fx.form(Who::Li))
        .expect("the window is gone");
    expect_code(fx.portal.remove_maintenance(window.id), ErrorCode::FieldInvalid);
    expect_code(
        fx.portal.announce_maintenance_for(from, to, Some("")),
        ErrorCode::FieldInvalid,
    );
}

#[test]
fn reset_link_works_within_thirty_minutes_once() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let receipt = fx
        .portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    assert_eq!(receipt.sent_to, WANG_MASKED);
    assert_eq!(
        receipt.link_expires_at.offset_date_time(),
        fx.clock_now() + Duration::minutes(30)
    );
    let token = fx.link_to(&wang.reg_email);
    fx.advance(Duration::minutes(29) + Duration::seconds(59));
    // Until the reset is done, the old password works.
    fx.login(Who::Wang);
    fx.portal
        .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("reset within 30 minutes");
    // Single use.
    expect_code(
        fx.portal
            .complete_password_reset(&wang.card_data(), &token, &pw("Other#2026"), &pw("Other#2026")),
        ErrorCode::TokenUsed,
    );
    // The old password stops, the new one works.
    let e = expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(matches!(e, ecpa::Error::RegistrationPasswordWrong { .. }));
    fx.portal
        .login_nhi_card(&wang.card_data(), &pw("New#2026ok"))
        .expect("new password");
}

#[test]
fn reset_link_expires_at_thirty_minutes() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let token = fx.link_to(&wang.reg_email);
    fx.advance(Duration::minutes(30));
    expect_code(
        fx.portal
            .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenExpired,
    );
    fx.advance(Duration::hours(5));
    expect_code(
        fx.portal
            .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenExpired,
    );
    // Nothing changed: the old password is still the password.
    fx.login(Who::Wang);
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &pw("New#2026ok")),
        ErrorCode::RegistrationPasswordWrong,
    );
}

#[test]
fn a_newer_reset_link_replaces_the_older_one() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let first = fx.link_to(&wang.reg_email);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested again");
    let second = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal
            .complete_password_reset(&wang.card_data(), &first, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenExpired,
    );
    fx.portal
        .complete_password_reset(&wang.card_data(), &second, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("the newer link works");
}

#[test]
fn reset_needs_a_registered_card_and_the_same_card() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let lin = person(Who::Lin);
    expect_code(
        fx.portal
            .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress),
        ErrorCode::NhiCardNotRegistered,
    );
    fx.register(Who::Wang);
    fx.register(Who::Lin);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let token = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal
            .complete_password_reset(&lin.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenInvalid,
    );
    // Lin's password did not change.
    fx.login(Who::Lin);
}

#[test]
fn reset_to_a_new_address_checks_the_household_and_changes_the_address_only_when_done() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let new_email = Email::parse("wang.home@example.com.tw").expect("email");

    // Wrong household number, then a wrong neighbourhood: refused, nothing mailed.
    for (number, address) in [
        (
            HouseholdNumber::parse("F7654321").expect("number"),
            support::household_address(),
        ),
        (
            support::household_number(),
            HouseholdAddress::new("63000", "63000010", "63000010001", 13).expect("address"),
        ),
    ] {
        let delivery = ResetDelivery::NewAddress {
            email: new_email.clone(),
            address,
            mobile: None,
            household_number: Some(number),
        };
        expect_code(
            fx.portal.request_password_reset(&wang.card_data(), &delivery),
            ErrorCode::HouseholdMismatch,
        );
    }
    assert!(fx.deliver().is_empty());

    // As the form asks it: the new address, 戶籍鄉鎮里鄰 and the mobile number, no 戶號.
    let delivery = ResetDelivery::NewAddress {
        email: new_email.clone(),
        address: support::household_address(),
        mobile: Some("0912-000111".into()),
        household_number: None,
    };
    let receipt = fx
        .portal
        .request_password_reset(&wang.card_data(), &delivery)
        .expect("requested");
    // The link goes to the official mailbox, never to the address only typed here.
    assert_eq!(receipt.sent_to, WANG_MASKED);
    let mails = fx.deliver();
    assert!(mails.iter().all(|m| m.to != new_email.as_str()), "{mails:?}");
    let token = mails
        .iter()
        .find(|m| m.to == wang.reg_email)
        .and_then(|m| m.link_token())
        .expect("a link to the official mailbox")
        .to_owned();
    // Requested, not completed: the registered address is unchanged.
    assert_eq!(registered_email(&fx), wang.reg_email);
    fx.portal
        .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("completed");
    assert_eq!(registered_email(&fx), new_email.as_str());
    assert_eq!(
        registered_mobile(&fx),
        "0912-000111",
        "the mobile is adopted with the address"
    );
    // The replaced address is told.
    let told = fx.deliver();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to, wang.reg_email);
    assert!(told[0].body.contains(&new_email.masked()), "{}", told[0].body);
    // The next ordinary reset goes to the new address.
    let receipt = fx
        .portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    assert_eq!(receipt.sent_to, new_email.masked());
}

#[test]
fn an_abandoned_new_address_reset_changes_nothing() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    let delivery = ResetDelivery::NewAddress {
        email: Email::parse("wang.home@example.com.tw").expect("email"),
        address: support::household_address(),
        mobile: Some("0912-000111".into()),
        household_number: Some(support::household_number()),
    };
    fx.portal
        .request_password_reset(&wang.card_data(), &delivery)
        .expect("requested");
    fx.advance(Duration::minutes(31));
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    assert_eq!(registered_email(&fx), wang.reg_email);
    assert_ne!(registered_mobile(&fx), "0912-000111");
}

#[test]
fn reset_and_confirmation_links_are_not_interchangeable() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let reset = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal.confirm_nhi_registration(&wang.card_data(), &reset),
        ErrorCode::TokenInvalid,
    );
    // The refused attempt did not spend the reset link.
    fx.portal
        .complete_password_reset(&wang.card_data(), &reset, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("still a reset link");

    // A confirmation link of a registration still waiting cannot reset a password.
    let lin = person(Who::Lin);
    fx.portal.start_nhi_registration(&fx.form(Who::Lin)).expect("starts");
    let confirm = fx.link_to(&lin.reg_email);
    expect_code(
        fx.portal
            .complete_password_reset(&lin.card_data(), &confirm, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenInvalid,
    );
    fx.portal
        .confirm_nhi_registration(&lin.card_data(), &confirm)
        .expect("still a confirmation link");
    fx.login(Who::Lin);
}

#[test]
fn a_completed_reset_lifts_the_lockout() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    for _ in 0..fx.portal.config().max_password_failures {
        let _ = fx.portal.login_nhi_card(&wang.card_data(), &pw("Wrong#2026"));
    }
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginLocked,
    );
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("a locked card may still ask for a reset");
    let token = fx.link_to(&wang.reg_email);
    fx.portal
        .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("reset");
    fx.portal
        .login_nhi_card(&wang.card_data(), &pw("New#2026ok"))
        .expect("a completed reset lifts the lockout");
}

#[test]
fn a_reset_link_raced_from_many_tabs_works_once() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let token = fx.link_to(&wang.reg_email);
    let card = wang.card_data();
    let results = support::race(6, |i| {
        fx.portal
            .complete_password_reset(
                &card,
                &token,
                &pw(&format!("Race#{i}2026")),
                &pw(&format!("Race#{i}2026")),
            )
            .map(|_notice| i)
    });
    let (ok, codes) = support::outcomes(&results);
    assert_eq!(ok, 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == ErrorCode::TokenUsed), "{codes:?}");
    let winner = results.iter().find_map(|r| r.as_ref().ok()).expect("a winner");
    fx.portal
        .login_nhi_card(&card, &pw(&format!("Race#{winner}2026")))
        .expect("the winner's password is the password");
    for i in (0..6).filter(|i| i != winner).take(3) {
        expect_code(
            fx.portal.login_nhi_card(&card, &pw(&format!("Race#{i}2026"))),
            ErrorCode::RegistrationPasswordWrong,
        );
    }
}

#[test]
fn phone_numbers_are_checked() {
    let fx = Fixture::new();
    for (phone, mobile) in [("02-abc-8889", "0912-345-678"), ("02-2720-8889", "12345")] {
        let form = RegistrationForm {
            phone: Some(phone.into()),
            mobile: Some(mobile.into()),
            ..fx.form(Who::Wang)
        };
        expect_code(fx.portal.start_nhi_registration(&form), ErrorCode::FieldInvalid);
    }
    assert_eq!(support::count(&fx, "nhi_registrations"), 0);
    let form = RegistrationForm {
        phone: Some("(02) 2720-8889 #1234".into()),
        mobile: Some("+886 912 345 678".into()),
        ..fx.form(Who::Wang)
    };
    fx.portal.start_nhi_registration(&form).expect("accepted");
}

#[test]
fn the_terms_are_accepted_before_the_form_and_their_version_is_recorded() {
    let fx = Fixture::new();
    let terms = fx.portal.registration_terms().expect("terms");
    assert_eq!(terms.title_zh, "全民健康保險網路服務註冊管理作業要點");
    assert_eq!(terms.accept_zh, "我已閱讀完畢，並瞭解相關規定");
    // Not accepted, or an older text accepted: refused before anything else is looked at.
    for version in ["", "104-10-01"] {
        let form = RegistrationForm {
            terms_version: version.into(),
            ..fx.form(Who::Wang)
        };
        expect_code(fx.portal.start_nhi_registration(&form), ErrorCode::TermsNotAccepted);
    }
    assert_eq!(support::count(&fx, "nhi_registrations"), 0);
    let wang = person(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("accepted");
    assert_eq!(
        fx.sql_text(
            "SELECT terms_version FROM nhi_registrations WHERE card_number = ?",
            wang.card_data().card_number.as_str()
        )
        .as_deref(),
        Some(terms.version.as_str())
    );
    assert_eq!(
        fx.sql_int("SELECT count(*) FROM nhi_registrations WHERE terms_accepted_at IS NOT NULL"),
        1
    );
}

#[test]
fn phone_and_mobile_are_optional_as_on_the_form() {
    // Of the contact fields only the password, its confirmation and the main e-mail are
    // starred (*): a form without phones, or with blank ones, registers.
    let fx = Fixture::new();
    let none = RegistrationForm {
        phone: None,
        mobile: None,
        ..fx.form(Who::Wang)
    };
    fx.portal.start_nhi_registration(&none).expect("no phones");
    let blank = RegistrationForm {
        phone: Some("  ".into()),
        mobile: Some(String::new()),
        ..fx.form(Who::Lin)
    };
    fx.portal
        .start_nhi_registration(&blank)
        .expect("blank phones are not given");
    let token = fx.link_to(&person(Who::Wang).reg_email);
    fx.portal
        .confirm_nhi_registration(&person(Who::Wang).card_data(), &token)
        .expect("confirmed");
    fx.portal
        .login_nhi_card(&person(Who::Wang).card_data(), &person(Who::Wang).pw())
        .expect("and logs in");
}

#[test]
fn the_spare_address_gets_the_microsoft_warning_too() {
    let fx = Fixture::new();
    let mut form = fx.form(Who::Wang);
    form.spare_email = Some(Email::parse("wang.spare@outlook.com").expect("email"));
    let receipt = fx
        .portal
        .start_nhi_registration(&form)
        .expect("a warning is not an error");
    assert_eq!(receipt.warnings_en.len(), 1, "{:?}", receipt.warnings_en);
    assert!(
        receipt.warnings_zh[0].contains("wa***@outlook.com"),
        "{:?}",
        receipt.warnings_zh
    );
}

/// 基本資料異動 with the fixture's phones and a new e-mail address.
fn new_email_details(fx: &Fixture, email: &Email) -> RegistrationDetails {
    let form = fx.form(Who::Wang);
    RegistrationDetails {
        phone: form.phone,
        mobile: form.mobile,
        email: email.clone(),
    }
}

#[test]
fn changing_the_registration_email_needs_the_link_sent_to_the_address_on_file() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let mailbox = fx.mailbox_of(Who::Wang);
    let typed = Email::parse("wang.new@example.net").expect("e-mail");
    let details = new_email_details(&fx, &typed);

    // A wrong password is a counted guess, and sends nothing.
    let e = expect_code(
        fx.portal
            .change_registration_details_from(&card, &pw("Wrong#2026"), &details, None),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 4 }),
        "{e:?}"
    );
    assert!(fx.deliver().is_empty());

    let change = fx
        .portal
        .change_registration_details(&card, &wang.pw(), &details)
        .expect("asked");
    assert!(!change.phones_changed);
    assert_eq!(change.notice.kind, NoticeKind::EmailChangeSent);
    let receipt = change.email_confirmation.expect("a confirmation link");
    assert_eq!(receipt.sent_to, Email::parse(&mailbox).expect("mailbox").masked());
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, mailbox, "never only to the address typed");
    assert!(mails[0].body.contains(&typed.masked()), "{}", mails[0].body);
    let token = mails[0].link_token().expect("link").to_owned();
    // Still the old address until the link is opened, and only with the same card.
    let other = person(Who::Lin).card_data();
    expect_code(fx.portal.complete_email_change(&other, &token), ErrorCode::TokenInvalid);
    let notice = fx.portal.complete_email_change(&card, &token).expect("changed");
    assert_eq!(notice.message_zh, "已完成電子信箱認證");
    expect_code(fx.portal.complete_email_change(&card, &token), ErrorCode::TokenUsed);
    assert_eq!(registered_email(&fx), typed.as_str());
    // The old address hears of it, with the new one masked.
    let told = fx.deliver();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to, wang.reg_email);
    assert!(told[0].body.contains(&typed.masked()) && !told[0].body.contains(typed.as_str()));
}

#[test]
fn phones_change_at_once_and_the_same_address_sends_nothing() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let same = Email::parse(&wang.reg_email).expect("e-mail");
    let details = RegistrationDetails {
        phone: None,
        mobile: Some("0987-654321".into()),
        email: same.clone(),
    };
    let change = fx
        .portal
        .change_registration_details(&card, &wang.pw(), &details)
        .expect("changed");
    assert!(change.phones_changed && change.email_confirmation.is_none());
    assert_eq!(change.notice.message_zh, "基本資料異動完成");
    assert_eq!(registered_mobile(&fx), "0987-654321");
    assert_eq!(
        fx.sql_text(
            "SELECT phone FROM nhi_registrations WHERE national_id = ?",
            wang.id.reveal()
        )
        .as_deref(),
        Some(""),
        "a phone not given is cleared"
    );
    assert!(fx.deliver().is_empty(), "no link for the same address");
    // The same again changes nothing; a malformed number is refused before the password is
    // checked, so it costs no try.
    let again = fx
        .portal
        .change_registration_details(&card, &wang.pw(), &details)
        .expect("again");
    assert!(!again.phones_changed);
    let bad = RegistrationDetails {
        mobile: Some("call me".into()),
        ..details
    };
    expect_code(
        fx.portal.change_registration_details(&card, &pw("Wrong#2026"), &bad),
        ErrorCode::FieldInvalid,
    );
    let e = expect_code(
        fx.portal
            .change_registration_details(&card, &pw("Wrong#2026"), &RegistrationDetails { mobile: None, ..bad }),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 4 }),
        "{e:?}"
    );
    // An unregistered card has no details to change.
    let lin = person(Who::Lin);
    expect_code(
        fx.portal.change_registration_details(
            &lin.card_data(),
            &lin.pw(),
            &RegistrationDetails {
                phone: None,
                mobile: None,
                email: same,
            },
        ),
        ErrorCode::NhiCardNotRegistered,
    );
}

#[test]
fn the_registration_password_changes_with_the_old_one_typed_and_the_new_one_twice() {
    let fx = Fixture::new();
    let session = fx.enrol(Who::Wang);
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let new = pw("Changed#2026");
    expect_code(
        fx.portal
            .change_registration_password(&card, &wang.pw(), &new, &pw("Changed#2027")),
        ErrorCode::PasswordMismatch,
    );
    let e = expect_code(
        fx.portal
            .change_registration_password(&card, &pw("Wrong#2026"), &new, &new),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 4 }),
        "{e:?}"
    );
    let notice = fx
        .portal
        .change_registration_password(&card, &wang.pw(), &new, &new)
        .expect("changed");
    assert_eq!(notice.kind, NoticeKind::PasswordChanged);
    // Whoever held the old password is out, and it no longer opens anything.
    expect_code(fx.portal.session_info(&session), ErrorCode::SessionInvalid);
    expect_code(
        fx.portal.login_nhi_card(&card, &wang.pw()),
        ErrorCode::RegistrationPasswordWrong,
    );
    fx.portal.login_nhi_card(&card, &new).expect("the new one logs in");
    // The registration's address is told, without the ID or the password.
    let told = fx.deliver();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to, wang.reg_email);
    assert!(!told[0].body.contains(wang.id.reveal()) && !told[0].body.contains("Changed#2026"));
}

#[test]
fn a_pending_application_is_deleted_only_through_the_link_to_the_official_mailbox() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let mailbox = fx.mailbox_of(Who::Wang);
    // No application, nothing to delete.
    expect_code(
        fx.portal.request_registration_deletion(&card),
        ErrorCode::NhiCardNotRegistered,
    );
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let confirm = fx.link_to(&mailbox);
    let receipt = fx.portal.request_registration_deletion(&card).expect("asked");
    assert_eq!(receipt.sent_to, Email::parse(&mailbox).expect("mailbox").masked());
    let token = fx.link_to(&mailbox);
    // Nothing is deleted yet: asking proves only the card's data, which is no secret.
    assert!(registered_email(&fx).contains('@'));
    expect_code(
        fx.portal
            .complete_registration_deletion(&person(Who::Lin).card_data(), &token),
        ErrorCode::TokenInvalid,
    );
    expect_code(
        fx.portal
            .complete_password_reset(&card, &token, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenInvalid,
    );
    let notice = fx
        .portal
        .complete_registration_deletion(&card, &token)
        .expect("deleted");
    assert_eq!(notice.kind, NoticeKind::ApplicationDeleted);
    assert_eq!(
        fx.sql_int(&format!(
            "SELECT COUNT(*) FROM nhi_registrations WHERE national_id = '{}'",
            wang.id.reveal()
        )),
        0
    );
    // The deleted application's confirmation link is gone with it; a new application works.
    expect_code(
        fx.portal.confirm_nhi_registration(&card, &confirm),
        ErrorCode::TokenInvalid,
    );
    fx.register(Who::Wang);
    // A complete registration is not deleted online: it is stopped in person.
    let e = expect_code(
        fx.portal.request_registration_deletion(&card),
        ErrorCode::RegistrationStopInPerson,
    );
    assert!(e.to_string().contains("臨櫃"), "{e}");
}

#[test]
fn a_deletion_link_opened_after_the_registration_was_confirmed_deletes_nothing() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let mailbox = fx.mailbox_of(Who::Wang);
    fx.portal.start_nhi_registration(&fx.form(Who::Wang)).expect("starts");
    let confirm = fx.link_to(&mailbox);
    fx.portal.request_registration_deletion(&card).expect("asked");
    let delete = fx.link_to(&mailbox);
    fx.portal.confirm_nhi_registration(&card, &confirm).expect("confirmed");
    expect_code(
        fx.portal.complete_registration_deletion(&card, &delete),
        ErrorCode::RegistrationStopInPerson,
    );
    fx.portal.login_nhi_card(&card, &wang.pw()).expect("still registered");
}

#[test]
fn the_reset_page_asks_the_new_password_twice() {
    let fx = Fixture::new();
    let wang = person(Who::Wang);
    fx.register(Who::Wang);
    fx.portal
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("requested");
    let token = fx.link_to(&wang.reg_email);
    expect_code(
        fx.portal
            .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026no")),
        ErrorCode::PasswordMismatch,
    );
    // The refusal did not spend the link.
    fx.portal
        .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("reset");
}

#[test]
fn the_stop_in_person_note_is_the_services_own() {
    let terms = registration_terms();
    assert_eq!(terms.stop_in_person.kind, NoticeKind::StopInPerson);
    assert!(
        terms
            .stop_in_person
            .message_zh
            .starts_with("申請健保卡網路服務註冊停用，請持身分證明文件臨櫃辦理")
    );
}
