//! The whole flow over HTTP: a real server on loopback over a SQLite file, driven through
//! `RemotePortal`, with mail read back from the maildir. Errors must come back as the same
//! typed errors the engine raises, fields included.
#![cfg(feature = "http")]

mod support;

use ecpa::ErrorCode;
use ecpa::error::Error;
use ecpa::pki::testpki::EndEntitySpec;
use ecpa::portal::{
    AuditQuery, AwardKind, CertificateResponse, CorrectionDecision, CorrectionStatus, Delivery, LoginMethod,
    NoticeKind, Portal, ProofingCategory, ProofingQuery, RegistrationDetails, ResetDelivery,
};
use ecpa::types::{AssuranceLevel, Email};
use support::http::HttpFixture;
use support::{Who, expect_code, order, person, pw};
use time::Duration;

#[test]
fn registration_login_errors_come_back_typed() {
    let h = HttpFixture::new();
    let wang = person(Who::Wang);

    // Not registered yet: 「您尚未註冊健保卡網路服務」.
    expect_code(
        h.remote.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::NhiCardNotRegistered,
    );
    h.register(Who::Wang);
    // Registering again is a conflict, with the engine's code.
    expect_code(
        h.remote.start_nhi_registration(&h.fx.form(Who::Wang)),
        ErrorCode::AlreadyRegistered,
    );

    // A wrong password carries the tries left, as in the engine.
    let e = expect_code(
        h.remote.login_nhi_card(&wang.card_data(), &pw("Wrong#2026")),
        ErrorCode::RegistrationPasswordWrong,
    );
    assert!(matches!(e, Error::RegistrationPasswordWrong { tries_left: 4 }), "{e:?}");
    for _ in 0..4 {
        let _ = h.remote.login_nhi_card(&wang.card_data(), &pw("Wrong#2026"));
    }
    // Locked: the same variant with `until` and `seconds_left`, and the zh-TW message.
    let e = expect_code(
        h.remote.login_nhi_card(&wang.card_data(), &wang.pw()),
        ErrorCode::LoginLocked,
    );
    match &e {
        Error::LoginLocked { until, seconds_left } => {
            assert_eq!(*until, h.fx.clock_now() + Duration::minutes(15));
            assert_eq!(*seconds_left, 15 * 60);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.message(ecpa::types::Lang::ZhTw).contains("15 分鐘"));
    h.fx.advance(Duration::minutes(16));
    h.login(Who::Wang);

    // Left office: 「很抱歉，該帳號已停用…」; not in any agency: 「驗證失敗 查無您的帳號」.
    h.register(Who::Retired);
    let retired = person(Who::Retired);
    expect_code(
        h.remote.login_nhi_card(&retired.card_data(), &retired.pw()),
        ErrorCode::AccountDisabled,
    );
    // The outsider cannot register online, with the engine's code; the NHI counter can.
    expect_code(
        h.remote.start_nhi_registration(&h.fx.form(Who::Outsider)),
        ErrorCode::RegistrationDataMismatch,
    );
    h.fx.portal
        .register_nhi_card_in_person(&h.fx.form(Who::Outsider), "counter")
        .expect("registered at the counter");
    let outsider = person(Who::Outsider);
    expect_code(
        h.remote.login_nhi_card(&outsider.card_data(), &outsider.pw()),
        ErrorCode::AccountNotFound,
    );
}

#[test]
fn the_guides_words_come_back_over_http() {
    let config = ecpa::portal::PortalConfig {
        support_email: "help@ecpa.example.gov.tw".into(),
        ..support::fast_config()
    };
    let h = HttpFixture::with(config, support::http::test_server_config());
    let wang = person(Who::Wang);

    // The terms come first; a form without them accepted is refused with the engine's code.
    let terms = h.remote.registration_terms().expect("terms");
    assert_eq!(terms, h.fx.portal.registration_terms().expect("engine's terms"));
    let unaccepted = ecpa::portal::RegistrationForm {
        terms_version: String::new(),
        ..h.fx.form(Who::Wang)
    };
    expect_code(
        h.remote.start_nhi_registration(&unaccepted),
        ErrorCode::TermsNotAccepted,
    );

    // 「已完成電子信箱認證」 when the link is opened, over the wire as the engine says it; the
    // form leaves out the optional phone and mobile.
    let form = ecpa::portal::RegistrationForm {
        phone: None,
        mobile: None,
        ..h.fx.form(Who::Wang)
    };
    h.remote
        .start_nhi_registration(&form)
        .expect("Wang starts without phones");
    let token = h.fx.link_to(&wang.reg_email);
    let notice = h
        .remote
        .confirm_nhi_registration(&wang.card_data(), &token)
        .expect("confirmed");
    assert_eq!(notice, NoticeKind::EmailConfirmed.notice());
    assert_eq!(notice.message_zh, "已完成電子信箱認證");

    // 「註冊密碼變更成功，…」 when a reset link sets the new password.
    h.remote
        .request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("reset requested");
    let token = h.fx.link_to(&wang.reg_email);
    let notice = h
        .remote
        .complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("reset");
    assert_eq!(notice.kind, NoticeKind::PasswordChanged);
    assert_eq!(
        notice.message_zh,
        "註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！"
    );

    // E5003 with this portal's support mailbox, not the default one.
    h.fx.portal
        .register_nhi_card_in_person(&h.fx.form(Who::Outsider), "counter")
        .expect("registered at the counter");
    let outsider = person(Who::Outsider);
    let e = expect_code(
        h.remote.login_nhi_card(&outsider.card_data(), &outsider.pw()),
        ErrorCode::AccountNotFound,
    );
    assert_eq!(
        e.message(ecpa::types::Lang::ZhTw),
        "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：help@ecpa.example.gov.tw。"
    );
}

#[test]
fn the_whole_flow_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;

    // Employee: register, log in, session, catalogue.
    let wang = h.ready(Who::Wang);
    let info = r.session_info(&wang).expect("session info");
    assert_eq!(info.national_id, person(Who::Wang).masked());
    // 登入時間（本次／上次） over the wire: this login, and (the first) none before it.
    assert_eq!(info.logged_in_at.offset_date_time(), h.fx.clock_now());
    assert_eq!(info.previous_login_at, None);
    assert_eq!(info.method, LoginMethod::NhiCard);
    assert!(!info.officer);
    assert!(!r.applications(&wang).expect("catalogue").is_empty());
    expect_code(r.open_application(&wang, "B5"), ErrorCode::ApplicationNotAdded);
    r.add_my_application(&wang, "B5").expect("add B5");
    r.add_my_application(&wang, "B5").expect("adding again changes nothing");
    assert_eq!(r.open_application(&wang, "B5").expect("open B5").code, "B5");
    r.add_my_application(&wang, "A1").expect("add A1");
    let e = expect_code(r.open_application(&wang, "A1"), ErrorCode::AssuranceTooLow);
    assert!(
        matches!(
            e,
            Error::AssuranceTooLow {
                required: AssuranceLevel::Certificate,
                actual: AssuranceLevel::NhiCard
            }
        ),
        "{e:?}"
    );
    assert_eq!(r.my_applications(&wang).expect("mine").len(), 2);
    expect_code(r.open_application(&wang, "ZZ"), ErrorCode::ApplicationUnknown);

    // Consent is final.
    let consent = r.consent_status(&wang).expect("status").expect("consented");
    assert_eq!(consent.login_method, LoginMethod::NhiCard);
    expect_code(r.withdraw_consent(&wang), ErrorCode::ConsentFinal);
    // Agreeing again changes nothing; a newcomer agreeing to an old text is refused.
    assert_eq!(r.give_consent(&wang, &consent.text_version).expect("again"), consent);
    h.register(Who::Lin);
    let lin = h.login(Who::Lin);
    expect_code(r.give_consent(&lin, "0.0-old"), ErrorCode::ConsentTextOutdated);

    // Officer issues one order and a batch; the employee sees, signs, and gets the mail.
    let officer = h.ready(Who::OfficerA);
    assert!(r.session_info(&officer).expect("info").officer);
    let one = r
        .issue_award_order(
            &officer,
            &order(
                Who::Wang,
                "114/05/20",
                "北市勞人字第11460000001號",
                AwardKind::Commendation,
                2,
            ),
        )
        .expect("issued");
    assert_eq!(one.summary.delivery, Delivery::Electronic);
    assert_eq!(one.national_id, person(Who::Wang).masked());
    let batch = r
        .issue_award_orders(
            &officer,
            &[
                order(Who::Wang, "114/05/21", "北市勞人字第11460000002號", AwardKind::Merit, 1),
                order(
                    Who::Lin,
                    "114/05/21",
                    "北市勞人字第11460000003號",
                    AwardKind::Commendation,
                    1,
                ),
                order(
                    Who::Wang,
                    "114/05/21",
                    "北市勞人字第11460000004號",
                    AwardKind::Reprimand,
                    1,
                ),
            ],
        )
        .expect("batch");
    assert_eq!((batch.issued, batch.paper), (3, 2), "{batch:?}");
    // The same batch again: all or none, refused as a duplicate.
    expect_code(
        r.issue_award_orders(
            &officer,
            &[order(
                Who::Lin,
                "114/05/21",
                "北市勞人字第11460000003號",
                AwardKind::Commendation,
                1,
            )],
        ),
        ErrorCode::AwardOrderDuplicate,
    );
    let mails = h.fx.deliver();
    let to_wang = mails
        .iter()
        .filter(|m| m.to == person(Who::Wang).email.unwrap_or(""))
        .count();
    assert_eq!(to_wang, 2, "two electronic orders for Wang: {mails:?}");
    assert!(mails.iter().all(|m| !m.body.contains(person(Who::Wang).id.reveal())));

    let unviewed = r.unviewed_award_orders(&wang).expect("unviewed");
    assert_eq!(unviewed.len(), 2);
    assert_eq!(
        r.unsigned_award_orders(&officer, ecpa::portal::PageRequest::default())
            .expect("unsigned")
            .items
            .len(),
        2
    );
    let viewed = r.view_award_order(&wang, unviewed[0].id).expect("view signs");
    assert!(viewed.summary.viewed_at.is_some());
    let again = r.view_award_order(&wang, unviewed[0].id).expect("viewing again");
    assert_eq!(again.summary.viewed_at, viewed.summary.viewed_at);
    assert_eq!(r.unviewed_award_orders(&wang).expect("unviewed").len(), 1);
    assert_eq!(
        r.unsigned_award_orders(&officer, ecpa::portal::PageRequest::default())
            .expect("unsigned")
            .items
            .len(),
        1
    );
    let history = r.award_history(&wang).expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].orders.len(), 3);
    expect_code(r.view_award_order(&wang, 999_999), ErrorCode::AwardOrderNotFound);

    // Proofing: stage, discard, stage, complete; the officer processes it at once.
    let record = r.personal_record(&wang).expect("record");
    assert_eq!(record.national_id, person(Who::Wang).masked());
    r.stage_correction(&wang, ProofingCategory::CurrentPost, "email", "old@mail.taipei.gov.tw")
        .expect("staged");
    r.discard_correction(&wang, ProofingCategory::CurrentPost, "email")
        .expect("discarded");
    let staged = r
        .stage_correction(
            &wang,
            ProofingCategory::CurrentPost,
            "email",
            "wang.new@mail.taipei.gov.tw",
        )
        .expect("staged");
    assert_eq!(staged.after, "wang.new@mail.taipei.gov.tw");
    let submission = r.complete_proofing(&wang).expect("complete");
    assert_eq!(submission.corrections, 1);
    let todos = r.officer_todos(&officer).expect("todos");
    assert_eq!(todos.len(), 1);
    let corrections = r.submission_corrections(&officer, submission.id).expect("corrections");
    let done = r
        .process_correction(&officer, corrections[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    assert_eq!(done.status, CorrectionStatus::Approved);
    let mine = r.my_corrections(&wang).expect("Wang's own corrections");
    assert_eq!((mine[0].id, mine[0].status), (done.id, CorrectionStatus::Approved));
    expect_code(
        r.process_correction(&officer, corrections[0].id, &CorrectionDecision::Approve),
        ErrorCode::CorrectionAlreadyProcessed,
    );
    let rows = r
        .proofing_query(
            &officer,
            &ProofingQuery {
                proofed: Some(true),
                ..ProofingQuery::default()
            },
        )
        .expect("query")
        .items;
    assert_eq!(rows.len(), 1);
    assert!(r.officer_todos(&officer).expect("todos").is_empty());

    // Directory and audit.
    let staff = r
        .agency_employees(&officer, ecpa::portal::PageRequest::default())
        .expect("employees")
        .items;
    assert!(staff.iter().any(|e| e.national_id == person(Who::Wang).masked()));
    let trail = r.audit_trail(&wang, &AuditQuery::default()).expect("audit");
    assert!(trail.iter().any(|e| e.action == "award.sign"), "{trail:?}");

    // Logging out ends the session.
    r.logout(&wang).expect("logout");
    expect_code(r.session_info(&wang), ErrorCode::SessionInvalid);
}

#[test]
fn certificate_login_and_password_reset_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    let wang = person(Who::Wang);
    h.register(Who::Wang);

    let (cert, key) = h.citizen_certificate(Who::Wang);
    let answer = |identify: Option<&str>| h.certificate_answer(&cert, &key, identify);
    expect_code(
        r.complete_certificate_login(&answer(None)),
        ErrorCode::CertificateNotBound,
    );
    let bind = answer(Some(wang.id.reveal()));
    let session = r.complete_certificate_login(&bind).expect("bound");
    assert_eq!(session.info.level, AssuranceLevel::Certificate);
    expect_code(r.complete_certificate_login(&bind), ErrorCode::ChallengeReplayed);
    let later = r.complete_certificate_login(&answer(None)).expect("later login");
    r.add_my_application(&later.token, "A1").expect("add");
    r.open_application(&later.token, "A1")
        .expect("a certificate login opens A1");

    // Forgot password: the mailed link, once; the old password works until then.
    r.request_password_reset(&wang.card_data(), &ResetDelivery::RegisteredAddress)
        .expect("reset requested");
    let token = h.fx.link_to(&wang.reg_email);
    h.login(Who::Wang);
    r.complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok"))
        .expect("reset");
    expect_code(
        r.complete_password_reset(&wang.card_data(), &token, &pw("New#2026ok"), &pw("New#2026ok")),
        ErrorCode::TokenUsed,
    );
    r.login_nhi_card(&wang.card_data(), &pw("New#2026ok"))
        .expect("the new password works");

    // An eCPA account, then an account login (the lowest level).
    let s = h.login_with_new_password();
    r.set_account(&s, "wang.xm", &pw("Acct#2026ok")).expect("account set");
    let acct = r.login_account("wang.xm", &pw("Acct#2026ok")).expect("account login");
    assert_eq!(acct.info.level, AssuranceLevel::Password);
    expect_code(
        r.login_account("wang.xm", &pw("Nope#2026ok")),
        ErrorCode::AccountPasswordWrong,
    );
}

#[test]
fn the_nhi_services_own_functions_and_account_recovery_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    let wang = person(Who::Wang);
    let card = wang.card_data();
    let mailbox = h.fx.mailbox_of(Who::Wang);

    // 刪除註冊申請: a pending application, through the link to the official mailbox.
    r.start_nhi_registration(&h.fx.form(Who::Wang)).expect("starts");
    h.fx.link_to(&mailbox);
    r.request_registration_deletion(&card).expect("asked");
    let token = h.fx.link_to(&mailbox);
    let deleted = r.complete_registration_deletion(&card, &token).expect("deleted");
    assert_eq!(deleted.kind, NoticeKind::ApplicationDeleted);
    expect_code(r.request_registration_deletion(&card), ErrorCode::NhiCardNotRegistered);
    h.register(Who::Wang);
    expect_code(
        r.request_registration_deletion(&card),
        ErrorCode::RegistrationStopInPerson,
    );

    // 註冊密碼變更, with the old password and the new one twice.
    let new = pw("Changed#2026");
    expect_code(
        r.change_registration_password(&card, &wang.pw(), &new, &pw("Changed#2027")),
        ErrorCode::PasswordMismatch,
    );
    expect_code(
        r.change_registration_password(&card, &pw("Wrong#2026ok"), &new, &new),
        ErrorCode::RegistrationPasswordWrong,
    );
    r.change_registration_password(&card, &wang.pw(), &new, &new)
        .expect("changed");
    r.login_nhi_card(&card, &new).expect("the new password logs in");

    // 基本資料異動: the mobile at once, the e-mail through the link to the address on file.
    let typed = Email::parse("wang.new@example.net").expect("e-mail");
    let change = r
        .change_registration_details(
            &card,
            &new,
            &RegistrationDetails {
                phone: None,
                mobile: Some("0987-654321".into()),
                email: typed.clone(),
            },
        )
        .expect("changed");
    assert!(change.phones_changed);
    let sent = change.email_confirmation.expect("a link for the new address");
    assert_eq!(sent.sent_to, Email::parse(&mailbox).expect("mailbox").masked());
    let token = h.fx.link_to(&mailbox);
    let confirmed = r.complete_email_change(&card, &token).expect("confirmed");
    assert_eq!(confirmed.message_zh, "已完成電子信箱認證");

    // Forgot password, variant two as the form asks it: the new address, 戶籍鄉鎮里鄰 and the
    // mobile; the link goes to the address on file, never to the one typed.
    let typed_again = Email::parse("wang.other@example.net").expect("e-mail");
    let reset = r
        .request_password_reset(
            &card,
            &ResetDelivery::NewAddress {
                email: typed_again.clone(),
                address: support::household_address(),
                mobile: Some("0911-000222".into()),
                household_number: None,
            },
        )
        .expect("reset asked");
    assert_eq!(reset.sent_to, Email::parse(&mailbox).expect("mailbox").masked());
    let token = h.fx.link_to(&mailbox);
    let newer = pw("Newer#2026ok");
    r.complete_password_reset(&card, &token, &newer, &newer).expect("reset");
    let new = newer;

    // 忘記帳號或密碼 for the account login.
    let s = r.login_nhi_card(&card, &new).expect("login").token;
    r.set_account(&s, "wang.xm", &pw("Acct#2026ok")).expect("account set");
    h.fx.deliver();
    let outsider = r.request_account_recovery(&person(Who::Outsider).id).expect("answered");
    let asked = r.request_account_recovery(&wang.id).expect("answered");
    assert_eq!(outsider, asked, "the same answer whoever is on file");
    let mail = h.fx.deliver().pop().expect("a mail");
    assert_eq!(mail.to, mailbox);
    let at = mail.body.find("token=").expect("a link") + "token=".len();
    let token: String = mail.body[at..].chars().take_while(char::is_ascii_hexdigit).collect();
    let acct = pw("Recov#2026ok");
    r.complete_account_recovery(&token, &acct, &acct).expect("set");
    expect_code(r.complete_account_recovery(&token, &acct, &acct), ErrorCode::TokenUsed);
    r.login_account("wang.xm", &acct).expect("the new account password");
    // The person's trail, over the wire, in plain words.
    let trail = r.audit_trail(&s, &ecpa::portal::AuditQuery::default()).expect("trail");
    let words: Vec<&str> = trail.iter().map(|e| e.summary_zh.as_str()).collect();
    assert!(words.contains(&"您以重設連結設定帳號密碼"), "{words:?}");
    assert!(words.contains(&"您刪除註冊申請"), "{words:?}");
}

#[test]
fn a_consent_that_covers_too_little_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    let start = h.fx.clock_now();
    // Agreed in 2023, when the 2019 text (記功以下) was in force.
    h.fx.clock.set(time::macros::datetime!(2023-05-01 10:00 +08:00));
    h.register(Who::Wang);
    let s = h.login(Who::Wang);
    let old = r.consent_text().expect("text");
    assert_eq!((old.covers, old.draft), (AwardKind::Merit, false));
    r.give_consent(&s, &old.version).expect("agreed");
    h.fx.clock.set(start);
    h.register(Who::OfficerA);
    let officer = h.login(Who::OfficerA);
    let major = r
        .issue_award_order(
            &officer,
            &order(
                Who::Wang,
                "114/05/02",
                "北市勞人字第1146000801號",
                AwardKind::MajorMerit,
                1,
            ),
        )
        .expect("issued");
    assert_eq!(
        major.summary.delivery,
        Delivery::Paper(ecpa::portal::PaperReason::ConsentTooNarrow)
    );
    let s = h.login(Who::Wang);
    let newer = r.consent_text().expect("text");
    assert!(newer.draft && newer.covers == AwardKind::MajorMerit);
    let status = r.consent_status(&s).expect("status").expect("consented");
    assert_eq!(status.newer_version.as_deref(), Some(newer.version.as_str()));
    let extended = r.give_consent(&s, &newer.version).expect("extended");
    assert_eq!(extended.covers, AwardKind::MajorMerit);
}

#[test]
fn officer_pages_and_the_agency_tree_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    // 勞動局 under 臺北市政府: 臺北市政府's officer reaches 勞動局's proofing.
    let wang = person(Who::Wang);
    let csv = format!(
        "agency_code,agency_name,unit,national_id,name,title,email,status,parent_agency\n\
         {},{},{},{},{},{},{},在職,{}\n",
        support::AGENCY_A,
        support::AGENCY_A_NAME,
        wang.unit,
        wang.id.reveal(),
        wang.name,
        wang.title,
        wang.email.unwrap_or(""),
        support::AGENCY_B
    );
    h.fx.portal.import_directory_csv(csv.as_bytes()).expect("the tree");
    h.register(Who::OfficerB);
    let parent = h.login(Who::OfficerB);
    let codes: Vec<String> = r
        .officer_agencies(&parent)
        .expect("agencies")
        .into_iter()
        .map(|a| a.code)
        .collect();
    assert_eq!(codes, [support::AGENCY_B, support::AGENCY_A]);
    let query = ProofingQuery {
        agency: Some(ecpa::types::AgencyCode::parse(support::AGENCY_A).expect("code")),
        page: ecpa::portal::PageRequest::new(1, 2).expect("page"),
        ..Default::default()
    };
    let page = r.proofing_query(&parent, &query).expect("query");
    assert_eq!((page.items.len(), page.per_page), (2, 2));
    assert!(page.total > 2 && page.items.iter().all(|row| row.agency_code == support::AGENCY_A));
    h.register(Who::OfficerA);
    let child = h.login(Who::OfficerA);
    let up = ProofingQuery {
        agency: Some(ecpa::types::AgencyCode::parse(support::AGENCY_B).expect("code")),
        ..Default::default()
    };
    expect_code(r.proofing_query(&child, &up), ErrorCode::AccessDenied);
    let staff = r
        .agency_employees(&child, ecpa::portal::PageRequest::new(2, 2).expect("page"))
        .expect("staff");
    assert_eq!((staff.page, staff.items.len()), (2, 2));
    // A page larger than 100 is refused by the server, whatever the client sends.
    let raw = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/agency/employees/list", h.url()))
        .bearer_auth(child.expose())
        .json(&serde_json::json!({ "per_page": 500 }))
        .send()
        .expect("sent");
    assert_eq!(raw.status(), 422);
}

#[test]
fn an_origin_bound_certificate_login_over_http() {
    let h = HttpFixture::new();
    let r = &h.remote;
    let wang = person(Who::Wang);
    h.register(Who::Wang);
    let (cert, key) = h.citizen_certificate(Who::Wang);
    // The fixture's portal answers at its portal_url's origin.
    let ours = "http://127.0.0.1:8080";
    let c = r.begin_certificate_login().expect("challenge");
    let answer = CertificateResponse::signed_by(&c, cert.der(), &key, Some(ours), Some(wang.id.reveal().into()))
        .expect("signed");
    let session = r
        .complete_certificate_login(&answer)
        .expect("origin-bound login over HTTP");
    assert_eq!(session.info.level, AssuranceLevel::Certificate);
    let c = r.begin_certificate_login().expect("challenge");
    let phished =
        CertificateResponse::signed_by(&c, cert.der(), &key, Some("https://ecpa.example.com"), None).expect("signed");
    expect_code(r.complete_certificate_login(&phished), ErrorCode::LoginOriginMismatch);
    // A body that names no origin for an origin-bound signature is refused as malformed.
    let c = r.begin_certificate_login().expect("challenge");
    let body = serde_json::json!({
        "challenge_id": c.challenge_id,
        "certificate": <base64ct::Base64 as base64ct::Encoding>::encode_string(cert.der()),
        "signature_kind": "origin_bound",
        "signature": "AAAA",
    });
    let raw = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/login/certificate", h.url()))
        .json(&body)
        .send()
        .expect("sent");
    assert_eq!(raw.status(), 400);
}

trait NewPassword {
    fn login_with_new_password(&self) -> ecpa::portal::SessionToken;
}

impl NewPassword for HttpFixture {
    fn login_with_new_password(&self) -> ecpa::portal::SessionToken {
        let p = person(Who::Wang);
        self.remote
            .login_nhi_card(&p.card_data(), &pw("New#2026ok"))
            .expect("login")
            .token
    }
}

#[test]
fn announcements_and_a_maintenance_reason_reach_the_client() {
    let h = HttpFixture::new();
    let now = h.fx.clock_now();
    assert!(h.remote.announcements().expect("none yet").is_empty());
    let a =
        h.fx.portal
            .add_announcement("系統公告", "本週六停機", Some(now + Duration::days(1)))
            .expect("announced");
    h.fx.portal
        .add_announcement("舊公告", "已截止", Some(now + Duration::minutes(1)))
        .expect("announced");
    h.fx.clock.advance(Duration::minutes(2));
    assert_eq!(h.remote.announcements().expect("listed"), vec![a]);
    // Public: no session needed.
    let resp = reqwest::blocking::get(format!("{}/api/v1/announcements", h.url())).expect("sent");
    assert_eq!(resp.status().as_u16(), 200);

    let now = h.fx.clock_now();
    h.fx.portal
        .announce_maintenance_for(
            now - Duration::hours(1),
            now + Duration::hours(2),
            Some("配合戶政系統維護"),
        )
        .expect("announced");
    assert_eq!(
        h.remote.maintenance_windows().expect("windows")[0].reason.as_deref(),
        Some("配合戶政系統維護")
    );
    let e = expect_code(
        h.remote.start_nhi_registration(&h.fx.form(Who::Lin)),
        ErrorCode::RegistrationMaintenance,
    );
    assert!(matches!(&e, Error::RegistrationMaintenance { reason: Some(r), .. } if r == "配合戶政系統維護"));
    assert!(
        e.message(ecpa::types::Lang::ZhTw)
            .starts_with("配合戶政系統維護，本系統於")
    );
}

#[test]
fn maintenance_window_is_503_with_retry_after_and_the_period_in_zh_tw() {
    let h = HttpFixture::new();
    h.fx.register(Who::Wang);
    let now = h.fx.clock_now();
    h.fx.portal
        .announce_maintenance(now - Duration::hours(1), now + Duration::hours(2))
        .expect("announced");
    let windows = h.remote.maintenance_windows().expect("windows");
    assert_eq!(windows.len(), 1);

    // Through the client: the same typed error with the window.
    let e = expect_code(
        h.remote.start_nhi_registration(&h.fx.form(Who::Lin)),
        ErrorCode::RegistrationMaintenance,
    );
    assert!(matches!(e, Error::RegistrationMaintenance { to, .. } if to == now + Duration::hours(2)));

    // On the wire: 503, Retry-After until the window ends, and the announcement in zh-TW.
    let body = ecpa::http::wire::RegistrationWire::from(&h.fx.form(Who::Lin));
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/registrations", h.url()))
        .json(&body)
        .send()
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 503);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert_eq!(retry, 2 * 3600);
    let json: serde_json::Value = resp.json().expect("typed body");
    assert_eq!(json["code"], 6001);
    assert_eq!(json["name"], "registration_maintenance");
    let zh = json["message_zh"].as_str().expect("message_zh");
    assert!(zh.contains("將暫停註冊服務"), "{zh}");
    assert!(zh.contains(&windows[0].from.to_zh_hour()), "{zh}");
    assert!(zh.contains(&windows[0].to.to_zh_hour()), "{zh}");

    // Logins go on during registration maintenance.
    h.login(Who::Wang);
}

#[test]
fn health_metrics_and_counters() {
    let h = HttpFixture::new();
    h.ready(Who::Wang);
    let s = h.login(Who::Wang);
    h.remote.logout(&s).expect("logout");
    let client = reqwest::blocking::Client::new();
    let health: serde_json::Value = client
        .get(format!("{}/healthz", h.url()))
        .send()
        .expect("healthz")
        .json()
        .expect("json");
    assert_eq!(health["status"], "ok");
    let metrics = client
        .get(format!("{}/metrics", h.url()))
        .send()
        .expect("metrics")
        .text()
        .expect("text");
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    // Two logins, one of them ended.
    assert_eq!(value("ecpa_logins_total"), 2.0);
    assert_eq!(value("ecpa_logins_today"), 2.0);
    assert_eq!(value("ecpa_online_sessions"), 1.0);
    assert!(metrics.contains("ecpa_http_requests_total{class=\"2xx\"}"));
    // The same counters as the engine's.
    let c = h.portal.portal_counters().expect("counters");
    assert_eq!((c.online_now, c.logins_today, c.logins_total), (1, 2, 2));
    // Idle sessions are no longer online; tomorrow's count starts again.
    h.fx.advance(Duration::hours(24));
    let c = h.portal.portal_counters().expect("counters");
    assert_eq!((c.online_now, c.logins_today, c.logins_total), (0, 0, 2));
}

#[test]
fn transport_failures_have_their_own_codes() {
    // Nothing listens on this port (bound, then dropped).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let r = ecpa::http::RemotePortal::builder(&format!("http://127.0.0.1:{port}"))
        .retries(1)
        .build()
        .expect("client");
    expect_code(r.consent_text(), ErrorCode::HttpUnreachable);

    // A server that accepts and never answers: a timeout, not a hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let r = ecpa::http::RemotePortal::builder(&url)
        .timeout(std::time::Duration::from_millis(300))
        .retries(0)
        .build()
        .expect("client");
    expect_code(r.consent_text(), ErrorCode::HttpTimeout);
    drop(silent);

    expect_code(ecpa::http::RemotePortal::new("ftp://x"), ErrorCode::ConfigInvalid);
}

/// The attacks of "No one gets in with someone else's ID", replayed over HTTP: each of them
/// worked before the registration was anchored to the directory and the binding to the name.
mod attacks {
    use super::*;
    use ecpa::types::{CardNumber, NhiCardData};

    /// A card invented around the victim's public data: their ID, name and birth date, a card
    /// number of the attacker's choosing.
    fn forged_card(victim: Who) -> NhiCardData {
        NhiCardData {
            card_number: CardNumber::parse("000099990001").expect("card number"),
            ..person(victim).card_data()
        }
    }

    #[test]
    fn an_invented_card_with_the_victims_data_does_not_register() {
        let h = HttpFixture::new();
        let officer = person(Who::OfficerA);
        let attacker = "attacker@example.com";
        let mut form = h.fx.form(Who::OfficerA);
        form.card = forged_card(Who::OfficerA);
        form.email = ecpa::types::Email::parse(attacker).expect("email");
        form.password = pw("Attack#2026");
        form.confirmation = pw("Attack#2026");
        let receipt = h.remote.start_nhi_registration(&form).expect("the form itself is good");
        // The link went to the officer's official mailbox, not to the address typed.
        assert_eq!(receipt.sent_to, "ch***@mail.taipei.gov.tw");
        let mails = h.fx.deliver();
        assert!(mails.iter().all(|m| m.to != attacker), "{mails:?}");
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, officer.reg_email);
        // Without the link, the forged card logs in to nothing.
        expect_code(
            h.remote.login_nhi_card(&form.card, &pw("Attack#2026")),
            ErrorCode::NhiCardNotRegistered,
        );
        // And the officer's own registration is not blocked for long: theirs starts once the
        // attacker's link has expired, the attacker's pending one gone with it.
        h.fx.advance(h.fx.portal.config().confirmation_ttl);
        h.register(Who::OfficerA);
        h.login(Who::OfficerA);
        expect_code(
            h.remote.login_nhi_card(&form.card, &pw("Attack#2026")),
            ErrorCode::NhiCardNotRegistered,
        );
    }

    #[test]
    fn a_stranger_cannot_replace_a_waiting_registration() {
        let h = HttpFixture::new();
        let wang = person(Who::Wang);
        h.remote
            .start_nhi_registration(&h.fx.form(Who::Wang))
            .expect("Wang starts");
        let link = h.fx.link_to(&wang.reg_email);
        let mut form = h.fx.form(Who::Wang);
        form.card = forged_card(Who::Wang);
        form.email = ecpa::types::Email::parse("attacker@example.com").expect("email");
        expect_code(h.remote.start_nhi_registration(&form), ErrorCode::RegistrationPending);
        // Wang hears of it, and Wang's link still works.
        let told = h.fx.deliver();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].to, wang.reg_email);
        h.remote
            .confirm_nhi_registration(&wang.card_data(), &link)
            .expect("Wang's link still works");
        h.login(Who::Wang);
        // Once registered, a second registration is refused as well.
        expect_code(h.remote.start_nhi_registration(&form), ErrorCode::AlreadyRegistered);
    }

    #[test]
    fn a_card_whose_name_or_birth_date_differs_from_the_directory_is_refused() {
        let h = HttpFixture::new();
        h.fx.portal
            .import_directory_csv(
                format!(
                    "agency_code,agency_name,unit,national_id,name,title,email,status,birth_date\n\
                     {},{},勞動檢查處,{},王小明,科員,{},在職,075/03/15\n",
                    support::AGENCY_A,
                    support::AGENCY_A_NAME,
                    person(Who::Wang).id.reveal(),
                    person(Who::Wang).reg_email
                )
                .as_bytes(),
            )
            .expect("the directory learns Wang's birth date");
        for change in [0, 1] {
            let mut form = h.fx.form(Who::Wang);
            match change {
                0 => form.card.name = ecpa::types::PersonName::new("王大明").expect("name"),
                _ => form.card.birth_date = ecpa::types::RocDate::parse("075/03/16").expect("date"),
            }
            expect_code(
                h.remote.start_nhi_registration(&form),
                ErrorCode::RegistrationDataMismatch,
            );
        }
        // Nobody was told anything or sent a link.
        assert!(h.fx.deliver().is_empty());
        // The right data registers.
        h.register(Who::Wang);
    }

    #[test]
    fn an_officer_at_password_level_lists_no_one() {
        let h = HttpFixture::new();
        h.register(Who::OfficerA);
        let card = h.login(Who::OfficerA);
        h.remote
            .set_account(&card, "chen.officer", &pw("Acct#2026ok"))
            .expect("account");
        let low = h
            .remote
            .login_account("chen.officer", &pw("Acct#2026ok"))
            .expect("account login")
            .token;
        expect_code(
            h.remote.agency_employees(&low, ecpa::portal::PageRequest::default()),
            ErrorCode::AssuranceTooLow,
        );
        expect_code(
            h.remote.audit_trail(&low, &AuditQuery::default()),
            ErrorCode::AssuranceTooLow,
        );
        h.remote
            .agency_employees(&card, ecpa::portal::PageRequest::default())
            .expect("with the NHI card");
    }

    #[test]
    fn an_officer_cannot_award_themself() {
        let h = HttpFixture::new();
        let officer = h.ready(Who::OfficerA);
        let to_self = order(
            Who::OfficerA,
            "114/05/02",
            "北市勞人字第1146000911號",
            AwardKind::MajorMerit,
            1,
        );
        expect_code(
            h.remote.issue_award_order(&officer, &to_self),
            ErrorCode::SelfApprovalRefused,
        );
        expect_code(
            h.remote.issue_award_orders(&officer, std::slice::from_ref(&to_self)),
            ErrorCode::SelfApprovalRefused,
        );
        assert_eq!(h.fx.sql_int("SELECT count(*) FROM award_orders"), 0);
    }

    #[test]
    fn a_stranger_guessing_from_elsewhere_cannot_lock_the_owner_out() {
        let h = HttpFixture::new();
        h.register(Who::Wang);
        let wang = person(Who::Wang);
        let url = format!("{}/api/v1/login/nhi-card", h.url());
        // The stranger sends from another loopback address: another network to the server.
        let stranger = reqwest::blocking::Client::builder()
            .local_address("127.0.0.9".parse::<std::net::IpAddr>().expect("address"))
            .build()
            .expect("client");
        let guess = |password: &str| {
            let body = serde_json::json!({
                "card": ecpa::http::wire::CardWire::from(&wang.card_data()),
                "password": password,
            });
            let r = stranger.post(&url).json(&body).send().expect("answered");
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().expect("json");
            (status, body["name"].as_str().unwrap_or_default().to_owned())
        };
        for _ in 1..5 {
            assert_eq!(guess("Wrong#2026"), (401, "registration_password_wrong".to_owned()));
        }
        assert_eq!(guess("Wrong#2026"), (423, "login_locked".to_owned()));
        // Shut to the stranger even with the right password…
        assert_eq!(guess(wang.password), (423, "login_locked".to_owned()));
        // …while the owner, from their own address, logs in as always.
        h.login(Who::Wang);
        // And the owner is told, once, at the registration's address.
        let warned: Vec<_> =
            h.fx.deliver()
                .into_iter()
                .filter(|m| m.subject.contains("登入密碼錯誤警示"))
                .collect();
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].to, wang.reg_email);
    }

    #[test]
    fn no_answer_is_cached_sniffed_or_referred() {
        let h = HttpFixture::new();
        let wang = h.ready(Who::Wang);
        let http = reqwest::blocking::Client::new();
        let get = |path: &str, token: Option<&str>| {
            let mut r = http.get(format!("{}{path}", h.url()));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send().expect("answered")
        };
        for r in [
            get("/api/v1/consent/text", None),
            get("/api/v1/award-orders/unviewed", Some(wang.expose())),
            get("/api/v1/personal-record", Some(wang.expose())),
            get("/api/v1/session", Some("not-a-session")),
            get("/api/v1/no-such-thing", None),
            get("/healthz", None),
        ] {
            let headers = r.headers();
            assert_eq!(headers["cache-control"], "no-store", "{}", r.url());
            assert_eq!(headers["x-content-type-options"], "nosniff", "{}", r.url());
            assert_eq!(headers["referrer-policy"], "no-referrer", "{}", r.url());
            // Plain HTTP: no HSTS (that is the TLS test's).
            assert!(!headers.contains_key("strict-transport-security"));
        }
    }

    #[test]
    fn logins_beyond_the_hash_slots_are_turned_away_not_queued_for_ever() {
        // One hash at a time, no waiting, hashes slow enough to overlap: of logins sent at once,
        // some are answered 503 login_busy with Retry-After, and none is a 500.
        let config = ecpa::portal::PortalConfig {
            max_concurrent_hashes: 1,
            hash_queue_wait: Duration::ZERO,
            argon2_memory_kib: 16 * 1024,
            argon2_iterations: 2,
            ..support::fast_config()
        };
        let h = HttpFixture::with(config, support::http::test_server_config());
        h.register(Who::Wang);
        let body = serde_json::json!({
            "card": ecpa::http::wire::CardWire::from(&person(Who::Wang).card_data()),
            "password": person(Who::Wang).password,
        });
        let url = format!("{}/api/v1/login/nhi-card", h.url());
        let answers: Vec<(u16, Option<String>)> = std::thread::scope(|s| {
            // No more than the wrong-password limit: guesses beyond it in flight together are
            // turned away busy too (the reservation that keeps parallel guessing in check),
            // which would not tell the hash slots' refusals apart.
            let calls: Vec<_> = (0..5)
                .map(|_| {
                    s.spawn(|| {
                        let r = reqwest::blocking::Client::new()
                            .post(&url)
                            .json(&body)
                            .send()
                            .expect("answered");
                        let retry = r
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        (r.status().as_u16(), retry)
                    })
                })
                .collect();
            calls.into_iter().map(|c| c.join().expect("thread")).collect()
        });
        assert!(answers.iter().any(|(s, _)| *s == 200), "{answers:?}");
        let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 503).collect();
        assert!(!busy.is_empty(), "{answers:?}");
        assert!(busy.iter().all(|(_, r)| r.as_deref() == Some("1")), "{answers:?}");
        assert!(answers.iter().all(|(s, _)| matches!(s, 200 | 503)), "{answers:?}");
        // Being turned away cost no tries: five wrong guesses are still needed for a lockout.
        let e = expect_code(
            h.remote
                .login_nhi_card(&person(Who::Wang).card_data(), &pw("Wrong#2026")),
            ErrorCode::RegistrationPasswordWrong,
        );
        assert!(matches!(e, Error::RegistrationPasswordWrong { tries_left: 4 }), "{e:?}");
    }

    #[test]
    fn a_strangers_certificate_with_an_officers_last_four_digits_does_not_bind() {
        let h = HttpFixture::new();
        let r = &h.remote;
        let officer = person(Who::OfficerA);
        let (cert, key) = h
            .pki
            .issue(&EndEntitySpec::citizen(
                "陳冒名",
                "0000000099990001",
                Some(officer.id.last_four()),
            ))
            .expect("a stranger's own valid certificate");
        let answer = |identify: &str| h.certificate_answer(&cert, &key, Some(identify));
        expect_code(
            r.complete_certificate_login(&answer(officer.id.reveal())),
            ErrorCode::BindingMismatch,
        );
        // An ID that exists and one that does not get the same answer.
        expect_code(
            r.complete_certificate_login(&answer(&support::make_id('Z', "12345678"))),
            ErrorCode::BindingMismatch,
        );
        assert_eq!(h.fx.sql_int("SELECT count(*) FROM certificate_bindings"), 0);
    }

    /// A client that sends from another loopback address: another network to the server.
    fn client_from(address: &str) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().expect("address"))
            .build()
            .expect("client")
    }

    #[test]
    fn a_certificate_challenge_answers_only_for_the_network_it_was_issued_to() {
        let h = HttpFixture::new();
        let wang = person(Who::Wang);
        let (cert, key) = h.citizen_certificate(Who::Wang);
        let response = h.certificate_answer(&cert, &key, Some(wang.id.reveal()));
        // The id leaked (a proxy's log): from elsewhere it is no challenge at all.
        let r = client_from("127.0.0.9")
            .post(format!("{}/api/v1/login/certificate", h.url()))
            .json(&ecpa::http::wire::CertificateLoginWire::from(&response))
            .send()
            .expect("answered");
        assert_eq!(r.status().as_u16(), 401);
        let body: serde_json::Value = r.json().expect("json");
        assert_eq!(body["name"], "challenge_unknown");
        // The client it was issued to still answers it.
        let s = h.remote.complete_certificate_login(&response).expect("login");
        assert_eq!(s.info.level, AssuranceLevel::Certificate);
        assert!(s.info.card_verified);
    }

    #[test]
    fn csrf_tokens_are_keyed_in_the_store_and_good_at_every_server_on_it() {
        let h = HttpFixture::new();
        h.ready(Who::Wang);
        let wang = person(Who::Wang);
        let http = reqwest::blocking::Client::new();
        let login: serde_json::Value = http
            .post(format!("{}/api/v1/login/nhi-card", h.url()))
            .json(&serde_json::json!({
                "card": ecpa::http::wire::CardWire::from(&wang.card_data()),
                "password": wang.password,
            }))
            .send()
            .expect("login")
            .json()
            .expect("json");
        let token = login["token"].as_str().expect("token");
        let csrf = login["csrf_token"].as_str().expect("csrf");
        // A second `ecpa serve` process on the same database.
        let second = ecpa::http::start(
            std::sync::Arc::new(h.fx.reopen(support::fast_config())),
            &support::http::test_server_config(),
        )
        .expect("second server");
        let r = http
            .post(format!("{}/api/v1/consent", second.url()))
            .header("cookie", format!("ecpa_session={token}"))
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({ "version": h.remote.consent_text().expect("text").version }))
            .send()
            .expect("sent");
        assert_eq!(r.status().as_u16(), 200, "{:?}", r.text());
        assert_eq!(h.fx.sql_int("SELECT count(*) FROM server_keys"), 1);
    }

    #[test]
    fn metrics_answer_this_host_or_the_bearer_of_the_token_only() {
        // No token: a client on this host reads them, one a proxy reports from afar does not.
        let mut server = support::http::test_server_config();
        server.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
        let h = HttpFixture::with(support::fast_config(), server);
        let get = |headers: &[(&str, &str)]| {
            let mut r = reqwest::blocking::Client::new().get(format!("{}/metrics", h.url()));
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send().expect("answered").status().as_u16()
        };
        assert_eq!(get(&[]), 200);
        assert_eq!(get(&[("x-forwarded-for", "203.0.113.5")]), 403);

        // A token: only its bearer, wherever they are.
        let mut server = support::http::test_server_config();
        server.metrics_token = Some(ecpa::config::Secret::new("scrape-2026-secret"));
        let h = HttpFixture::with(support::fast_config(), server);
        let get = |auth: Option<&str>| {
            let mut r = reqwest::blocking::Client::new().get(format!("{}/metrics", h.url()));
            if let Some(a) = auth {
                r = r.bearer_auth(a);
            }
            r.send().expect("answered").status().as_u16()
        };
        assert_eq!(get(None), 403);
        assert_eq!(get(Some("scrape-2026-wrong")), 403);
        assert_eq!(get(Some("scrape-2026-secret")), 200);
    }
}
