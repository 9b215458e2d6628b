//! Real mail: the outbox delivered over SMTP to a real server on loopback (tests/support/smtp.rs)
//! that keeps what it receives. The notices arrive with the right subject and recipient and
//! without the order or an ID; a server that is down, or answers "try later", delays mail but
//! loses none and sends none twice; credentials are checked; mail goes through STARTTLS and
//! implicit TLS to a server whose private CA is trusted (and not to one whose CA is not);
//! STARTTLS required means no clear-text fallback.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{
    AwardKind, Mailer, OutgoingMail, Portal, SmtpConfig, SmtpMailer, SmtpPassword, SmtpSecurity, notification_subject,
};
use ecpa::types::RocDate;
use support::smtp::{SmtpServer, TlsMode};
use support::{AGENCY_A_NAME, Fixture, Who, count, expect_code, order, person};
use time::Duration;

/// Five notices queued: three for Wang, two for Lin (earlier mail delivered to the maildir).
fn five_notices() -> Fixture {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    fx.deliver();
    let orders: Vec<_> = (1..=5)
        .map(|i| {
            let who = if i <= 3 { Who::Wang } else { Who::Lin };
            order(
                who,
                "114/05/02",
                &format!("北市勞人字第114700000{i}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect();
    fx.portal.issue_award_orders(&officer, &orders).expect("issued");
    assert_eq!(fx.portal.outbox_stats().expect("stats").pending, 5);
    fx
}

fn mailer(server: &SmtpServer) -> SmtpMailer {
    SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", server.port())).expect("mailer")
}

#[test]
fn notices_arrive_with_subject_and_recipient_and_without_the_order() {
    let fx = five_notices();
    let server = SmtpServer::start(None);
    let report = fx.portal.deliver_outbox(&mailer(&server), 100).expect("delivers");
    assert_eq!((report.sent, report.failed), (5, 0));
    let mails = server.mails();
    assert_eq!(mails.len(), 5);
    let subject = notification_subject(AGENCY_A_NAME, RocDate::parse("114/05/02").expect("date"));
    assert!(subject.ends_with("個人獎勵令通知信(非社交工程演練)"), "{subject}");
    let wang = person(Who::Wang);
    let lin = person(Who::Lin);
    for (i, m) in mails.iter().enumerate() {
        let read = m.parsed();
        let want = if i < 3 { &wang } else { &lin };
        let addr = want.email.expect("directory e-mail");
        assert_eq!(read.to, addr);
        assert_eq!(m.rcpt_to, vec![addr.to_owned()], "envelope recipient");
        assert_eq!(read.subject, subject);
        assert!(read.body.contains("未檢視獎令"), "{}", read.body);
        for secret in [
            wang.id.reveal(),
            lin.id.reveal(),
            "北市勞人字第",
            "辦理勞動檢查專案績效卓著",
        ] {
            assert!(!read.body.contains(secret), "the mail carries {secret}");
            assert!(
                !String::from_utf8_lossy(&m.raw).contains(secret),
                "raw mail carries {secret}"
            );
        }
    }
    assert_eq!(count(&fx, "outbox WHERE sent_at IS NULL"), 0);
}

#[test]
fn a_server_down_then_up_delays_mail_and_loses_none() {
    let fx = five_notices();
    let mut server = SmtpServer::start(None);
    let mailer = mailer(&server);
    server.stop();
    let report = fx.portal.deliver_outbox(&mailer, 100).expect("round runs");
    assert_eq!((report.sent, report.failed), (0, 5));
    assert_eq!(
        fx.portal.outbox_stats().expect("stats").pending,
        5,
        "nothing marked sent"
    );
    server.restart();
    // Not due yet: retried only after the back-off.
    assert_eq!(fx.portal.deliver_outbox(&mailer, 100).expect("round").sent, 0);
    fx.advance(Duration::minutes(1));
    let report = fx.portal.deliver_outbox(&mailer, 100).expect("round");
    assert_eq!((report.sent, report.failed), (5, 0));
    fx.advance(Duration::hours(2));
    assert_eq!(fx.portal.deliver_outbox(&mailer, 100).expect("round").sent, 0);
    assert_eq!(server.mails().len(), 5, "each once");
    assert_eq!(fx.portal.outbox_stats().expect("stats").pending, 0);
}

#[test]
fn a_mail_refused_for_now_is_sent_later_exactly_once() {
    let fx = five_notices();
    let server = SmtpServer::start(None);
    let mailer = mailer(&server);
    server.refuse_next(2);
    let report = fx.portal.deliver_outbox(&mailer, 100).expect("round");
    assert_eq!((report.sent, report.failed), (3, 2));
    assert_eq!(server.mails().len(), 3);
    fx.advance(Duration::minutes(1));
    let report = fx.portal.deliver_outbox(&mailer, 100).expect("round");
    assert_eq!((report.sent, report.failed), (2, 0));
    let mut ids: Vec<String> = server
        .mails()
        .iter()
        .map(|m| {
            String::from_utf8_lossy(&m.raw)
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_owned))
                .expect("message id")
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five different mails, none twice");
}

fn outgoing(to: &str) -> OutgoingMail {
    OutgoingMail {
        id: 1,
        from: "人事服務網 eCPA <noreply@ecpa.localhost>".into(),
        to: to.into(),
        subject: "測試".into(),
        body: "您好".into(),
    }
}

#[test]
fn credentials_are_used_and_a_wrong_password_sends_nothing() {
    let server = SmtpServer::start(Some(("ecpa-notice", "Pa55-w0rd!")));
    let mut config = SmtpConfig::plain("127.0.0.1", server.port());
    config.username = Some("ecpa-notice".into());
    config.password = Some(SmtpPassword::new("wrong"));
    let e = expect_code(
        SmtpMailer::new(&config)
            .expect("mailer")
            .send(&outgoing("a@example.tw")),
        ErrorCode::MailFailed,
    );
    assert!(!e.message(ecpa::types::Lang::En).contains("wrong"), "{e}");
    assert!(server.mails().is_empty());

    config.password = Some(SmtpPassword::new("Pa55-w0rd!"));
    config.from = Some("bounces@ecpa.localhost".into());
    SmtpMailer::new(&config)
        .expect("mailer")
        .send(&outgoing("a@example.tw"))
        .expect("sent");
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].user.as_deref(), Some("ecpa-notice"));
    assert_eq!(
        mails[0].mail_from, "bounces@ecpa.localhost",
        "envelope sender from the config"
    );
    assert_eq!(mails[0].parsed().subject, "測試");
}

#[test]
fn mail_goes_over_starttls_and_implicit_tls_to_a_server_of_a_trusted_private_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = support::tls::private_ca(dir.path());
    for (mode, security) in [
        (TlsMode::StartTls, SmtpSecurity::StartTls),
        (TlsMode::Implicit, SmtpSecurity::Tls),
    ] {
        let server = SmtpServer::start_tls(mode, &ca);
        let mut config = SmtpConfig::plain("127.0.0.1", server.port());
        config.security = security;
        config.timeout_secs = 5;
        // Without the CA the server's certificate is not trusted: nothing is sent.
        expect_code(
            SmtpMailer::new(&config)
                .expect("mailer")
                .send(&outgoing("a@example.tw")),
            ErrorCode::MailFailed,
        );
        assert!(server.mails().is_empty(), "{mode:?}");
        config.ca_file = Some(ca.ca.clone());
        SmtpMailer::new(&config)
            .expect("mailer")
            .send(&outgoing("a@example.tw"))
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let mails = server.mails();
        assert_eq!(mails.len(), 1, "{mode:?}");
        assert!(mails[0].tls, "{mode:?}: the mail came over TLS");
        assert_eq!(mails[0].parsed().subject, "測試");
    }
}

#[test]
fn starttls_required_never_falls_back_to_clear_text() {
    // The test server offers no STARTTLS: a mailer that requires it must not send.
    let server = SmtpServer::start(None);
    let mut config = SmtpConfig::plain("127.0.0.1", server.port());
    config.security = SmtpSecurity::StartTls;
    expect_code(
        SmtpMailer::new(&config)
            .expect("mailer")
            .send(&outgoing("a@example.tw")),
        ErrorCode::MailFailed,
    );
    assert!(server.mails().is_empty());
}

#[test]
fn an_unreachable_server_is_a_typed_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }; // closed again: nothing listens there
    let mut config = SmtpConfig::plain("127.0.0.1", port);
    config.timeout_secs = 2;
    expect_code(
        SmtpMailer::new(&config)
            .expect("mailer")
            .send(&outgoing("a@example.tw")),
        ErrorCode::MailFailed,
    );
}
