//! Proof that the NHI card is in the reader: recorded on every session and in the audit trail,
//! checked by a pluggable verifier, single-use, and required for officer functions when the
//! portal says so.

mod support;

use std::sync::Arc;

use ecpa::ErrorCode;
use ecpa::portal::{CardPossession, LocalPortal, LoginContext, NhiCardVerifier, Portal, PortalConfig};
use ecpa::types::NhiCardData;
use sha2::{Digest, Sha256};
use support::{Fixture, Who, expect_code, person, pw};

/// Stands in for NHI's SAM service: a card "signs" a random as the SHA-256 of its number and
/// the random (the real answer is NHI's secret; only its check matters here).
struct TestSam;

fn answer(card: &NhiCardData, random: &str) -> String {
    hex::encode(Sha256::digest(format!("{}:{random}", card.card_number.as_str())))
}

impl NhiCardVerifier for TestSam {
    fn verify(&self, card: &NhiCardData, random: &str, h_sign: &str) -> ecpa::Result<bool> {
        Ok(answer(card, random) == h_sign)
    }
}

/// A verifier whose service cannot be reached.
struct Unreachable;

impl NhiCardVerifier for Unreachable {
    fn verify(&self, _: &NhiCardData, _: &str, _: &str) -> ecpa::Result<bool> {
        Err(ecpa::Error::new(ErrorCode::HttpUnreachable))
    }
}

fn with_sam(fx: &Fixture, config: PortalConfig) -> LocalPortal {
    fx.reopen(config).with_nhi_card_verifier(Arc::new(TestSam))
}

fn proof(card: &NhiCardData, random: &str) -> LoginContext {
    LoginContext {
        from: None,
        possession: Some(CardPossession {
            random: random.to_owned(),
            h_sign: answer(card, random),
        }),
    }
}

fn login_rows(fx: &Fixture) -> Vec<String> {
    fx.rows("SELECT detail FROM audit WHERE action = 'login' ORDER BY id", &[])
        .iter()
        .map(|r| r.opt_text(0).expect("detail").unwrap_or_default())
        .collect()
}

#[test]
fn without_a_verifier_every_nhi_card_session_says_it_is_unverified() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let card = wang.card_data();
    // Even a proof sent along: nothing here can check it.
    let s = fx
        .portal
        .login_nhi_card_with(&card, &wang.pw(), &proof(&card, "r-1"))
        .expect("login");
    assert!(!s.info.card_verified);
    assert!(!fx.portal.session_info(&s.token).expect("info").card_verified);
    assert_eq!(
        login_rows(&fx).last().map(String::as_str),
        Some("nhi_card card_unverified")
    );
}

#[test]
fn a_verified_card_is_recorded_and_a_forged_or_replayed_answer_is_refused() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let portal = with_sam(&fx, support::fast_config());
    let wang = person(Who::Wang);
    let card = wang.card_data();

    let s = portal
        .login_nhi_card_with(&card, &wang.pw(), &proof(&card, "r-1"))
        .expect("verified login");
    assert!(s.info.card_verified);
    assert!(portal.session_info(&s.token).expect("info").card_verified);
    assert_eq!(
        login_rows(&fx).last().map(String::as_str),
        Some("nhi_card card_verified")
    );

    // The same random again: a captured answer replayed.
    expect_code(
        portal.login_nhi_card_with(&card, &wang.pw(), &proof(&card, "r-1")),
        ErrorCode::CardPossessionUnverified,
    );
    // An answer made up by someone who has the password and the card's data, not the card.
    let forged = LoginContext {
        from: None,
        possession: Some(CardPossession {
            random: "r-2".into(),
            h_sign: "00".repeat(128),
        }),
    };
    expect_code(
        portal.login_nhi_card_with(&card, &wang.pw(), &forged),
        ErrorCode::CardPossessionUnverified,
    );
    // Each costs a try, like a wrong password.
    let e = expect_code(
        portal.login_nhi_card(&card, &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(
        matches!(e, ecpa::Error::RegistrationPasswordWrong { tries_left: 2 }),
        "{e:?}"
    );
    // A wrong password with a good answer is still a wrong password.
    expect_code(
        portal.login_nhi_card_with(&card, &pw("Wrong#2026"), &proof(&card, "r-3")),
        ErrorCode::RegistrationPasswordWrong,
    );
}

#[test]
fn a_verifier_that_cannot_be_reached_leaves_the_login_unverified() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let portal = fx
        .reopen(support::fast_config())
        .with_nhi_card_verifier(Arc::new(Unreachable));
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let s = portal
        .login_nhi_card_with(&card, &wang.pw(), &proof(&card, "r-1"))
        .expect("the login goes on");
    assert!(!s.info.card_verified);
}

#[test]
fn officer_functions_can_be_made_to_need_a_verified_card() {
    let fx = Fixture::new();
    fx.register(Who::OfficerA);
    let officer = person(Who::OfficerA);
    let card = officer.card_data();
    let strict = PortalConfig {
        officer_requires_verified_card: true,
        ..support::fast_config()
    };
    let portal = with_sam(&fx, strict);

    // By default the guides' NHI-card login is enough.
    let plain = fx.portal.login_nhi_card(&card, &officer.pw()).expect("login").token;
    fx.portal.add_my_application(&plain, "B5").expect("B5");
    fx.portal
        .agency_employees(&plain, ecpa::portal::PageRequest::default())
        .expect("the default lets an NHI-card officer in");

    // Here an unverified card is not: the same session, read by the strict portal.
    let e = expect_code(
        portal.agency_employees(&plain, ecpa::portal::PageRequest::default()),
        ErrorCode::OfficerLoginTooWeak,
    );
    assert!(e.message(ecpa::types::Lang::ZhTw).contains("自然人憑證"), "{e}");
    expect_code(portal.officer_todos(&plain), ErrorCode::OfficerLoginTooWeak);
    // The officer still uses B5 for their own record.
    portal.personal_record(&plain).expect("their own record");

    // A verified card is.
    let verified = portal
        .login_nhi_card_with(&card, &officer.pw(), &proof(&card, "r-9"))
        .expect("verified login");
    portal
        .agency_employees(&verified.token, ecpa::portal::PageRequest::default())
        .expect("verified officer");
}
