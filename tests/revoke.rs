//! A lost card: a personnel officer (over the engine and over HTTP) or the operator (the `ecpa`
//! command) stops a person's NHI-card registration or removes their certificate binding; the
//! sessions opened with it end, the person is told, the act is audited, and no one outside the
//! officer's agency can do it.
#![cfg(feature = "http")]

mod support;

use ecpa::ErrorCode;
use ecpa::portal::Portal;
use support::http::HttpFixture;
use support::{Fixture, Who, expect_code, person};

#[test]
fn an_officer_stops_a_lost_cards_registration() {
    let fx = Fixture::new();
    let officer = fx.ready(Who::OfficerA);
    let wang = person(Who::Wang);
    let wangs = fx.enrol(Who::Wang);
    fx.deliver();

    let done = fx.portal.stop_nhi_registration(&officer, &wang.id).expect("stopped");
    assert_eq!(done.removed, 1);
    assert_eq!(done.sessions_ended, 1);
    // Told at the directory's mailbox (and the registration's address, here the same).
    assert_eq!(done.notified, vec!["wa***@mail.taipei.gov.tw".to_owned()]);
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, wang.reg_email);
    assert!(mails[0].subject.contains("停用"), "{}", mails[0].subject);
    assert!(!mails[0].body.contains(wang.card_data().card_number.as_str()));
    assert!(!mails[0].body.contains(wang.id.reveal()));

    // Whoever holds the card and the password is out, now and later.
    expect_code(fx.portal.session_info(&wangs), ErrorCode::SessionInvalid);
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    // In the trail: the officer stopped Wang's card, masked.
    let rows = fx.rows(
        "SELECT a.actor, a.subject, a.object FROM audit a WHERE a.action = 'registration.stop'",
        &[],
    );
    assert_eq!(rows.len(), 1);
    let object = rows[0].text(2).expect("object");
    assert!(object.starts_with("nhi_card:") && object.contains('*'), "{object}");
    assert!(rows[0].opt_int(0).expect("actor").is_some());

    // Wang registers the new card as anyone does.
    fx.register(Who::Wang);
    fx.login(Who::Wang);
    // Stopping again when there is nothing: nothing changes, nobody is mailed.
    let wang_lin = person(Who::Lin);
    let none = fx
        .portal
        .stop_nhi_registration(&officer, &wang_lin.id)
        .expect("nothing to stop");
    assert_eq!(none.removed, 0);
    assert!(fx.deliver().is_empty());
}

#[test]
fn only_an_officer_of_the_persons_agency_may_stop_it() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    // Another agency's officer.
    let other = fx.ready(Who::OfficerB);
    expect_code(
        fx.portal.stop_nhi_registration(&other, &wang.id),
        ErrorCode::EmployeeNotInAgency,
    );
    expect_code(
        fx.portal.remove_certificate_binding(&other, &wang.id),
        ErrorCode::EmployeeNotInAgency,
    );
    // A colleague who is not an officer.
    let lin = fx.ready(Who::Lin);
    expect_code(
        fx.portal.stop_nhi_registration(&lin, &wang.id),
        ErrorCode::NotPersonnelOfficer,
    );
    // Someone not in the directory.
    let officer = fx.ready(Who::OfficerA);
    expect_code(
        fx.portal.stop_nhi_registration(&officer, &person(Who::Outsider).id),
        ErrorCode::EmployeeNotFound,
    );
    // Nothing was removed.
    fx.login(Who::Wang);
}

#[test]
fn an_officer_removes_a_certificate_binding_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    let wang = person(Who::Wang);
    let (cert, key) = h.citizen_certificate(Who::Wang);
    let answer = |identify: Option<&str>| h.certificate_answer(&cert, &key, identify);
    let session = r
        .complete_certificate_login(&answer(Some(wang.id.reveal())))
        .expect("bound");
    h.fx.deliver();

    let officer = h.ready(Who::OfficerA);
    let done = r.remove_certificate_binding(&officer, &wang.id).expect("removed");
    assert_eq!((done.removed, done.sessions_ended), (1, 1));
    expect_code(r.session_info(&session.token), ErrorCode::SessionInvalid);
    // The next certificate login binds afresh, under the first-login checks.
    expect_code(
        r.complete_certificate_login(&answer(None)),
        ErrorCode::CertificateNotBound,
    );
    let mails = h.fx.deliver();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("自然人憑證"), "{}", mails[0].subject);
    // The officer's NHI-card login stays; the stop works over HTTP too.
    let done = r.stop_nhi_registration(&officer, &wang.id).expect("stopped");
    assert_eq!(done.removed, 0, "Wang never registered a card here");
}

#[test]
fn the_operator_stops_a_registration_with_the_ecpa_command() {
    let fx = Fixture::sqlite(support::fast_config());
    fx.portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("directory");
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args([
            "--json",
            "registration",
            "stop",
            wang.id.reveal(),
            "--operator",
            "ops.lin",
            "--db",
        ])
        .arg(&fx.db)
        .output()
        .expect("ecpa runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(done["removed"], 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(wang.id.reveal()), "{stdout}");
    expect_code(
        fx.portal.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    let rows = fx.rows(
        "SELECT operator, subject FROM audit WHERE action = 'registration.stop'",
        &[],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].text(0).expect("operator"), "ops.lin");
    assert!(rows[0].opt_int(1).expect("subject").is_some());
    // A bad ID is a usage error that does not echo it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["certificate", "unbind", "A123456780", "--db"])
        .arg(&fx.db)
        .output()
        .expect("ecpa runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
