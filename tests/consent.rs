//! Consent to electronic award orders: recorded with its text version, time and login; final;
//! required before the award pages open.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{LoginMethod, Portal};
use support::{Fixture, Who, expect_code, person};
use time::Duration;

#[test]
fn consent_records_version_time_and_login() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    assert_eq!(fx.portal.consent_status(&s).expect("status"), None);
    let text = fx.portal.consent_text().expect("text");
    assert!(!text.version.is_empty());
    assert!(text.text_zh.contains("記功以下獎勵令"), "{}", text.text_zh);
    fx.advance(Duration::minutes(3));
    let record = fx.portal.give_consent(&s, &text.version).expect("agreed");
    assert_eq!(record.text_version, text.version);
    assert_eq!(record.agreed_at.offset_date_time(), fx.clock_now());
    assert_eq!(record.login_method, LoginMethod::NhiCard);
    assert_eq!(fx.portal.consent_status(&s).expect("status"), Some(record.clone()));

    // Agreeing again, later, in another session, changes nothing.
    fx.advance(Duration::hours(2));
    let s2 = fx.login(Who::Wang);
    let again = fx.portal.give_consent(&s2, &text.version).expect("again");
    assert_eq!(again, record);
    // Even with an outdated version string: the consent given stays as it was.
    assert_eq!(fx.portal.give_consent(&s2, "2000-01-01").expect("again"), record);
    assert_eq!(support::count(&fx, "consents"), 1);
}

#[test]
fn an_outdated_text_version_is_refused() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    expect_code(fx.portal.give_consent(&s, "2000-01-01"), ErrorCode::ConsentTextOutdated);
    expect_code(fx.portal.give_consent(&s, ""), ErrorCode::ConsentTextOutdated);
    assert_eq!(fx.portal.consent_status(&s).expect("status"), None);
}

#[test]
fn consent_is_final() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    expect_code(fx.portal.withdraw_consent(&s), ErrorCode::ConsentNotGiven);
    let text = fx.portal.consent_text().expect("text");
    let record = fx.portal.give_consent(&s, &text.version).expect("agreed");
    let e = expect_code(fx.portal.withdraw_consent(&s), ErrorCode::ConsentFinal);
    assert!(e.message(ecpa::types::Lang::ZhTw).contains("不可變更為「不同意」"));
    assert_eq!(fx.portal.consent_status(&s).expect("status"), Some(record.clone()));

    // The directory being reimported (the person updated) does not touch the consent.
    fx.portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("reimport");
    assert_eq!(fx.portal.consent_status(&s).expect("status"), Some(record));
}

#[test]
fn award_pages_stay_closed_before_consent() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    // An order on paper exists (no consent yet), but the person cannot reach it.
    let order = fx
        .portal
        .issue_award_order(
            &officer,
            &support::order(
                Who::Wang,
                "114/05/02",
                "北市勞人字第1146000789號",
                ecpa::portal::AwardKind::Merit,
                1,
            ),
        )
        .expect("issued");
    expect_code(fx.portal.unviewed_award_orders(&s), ErrorCode::ConsentNotGiven);
    expect_code(fx.portal.award_history(&s), ErrorCode::ConsentNotGiven);
    expect_code(
        fx.portal.view_award_order(&s, order.summary.id),
        ErrorCode::ConsentNotGiven,
    );
    let text = fx.portal.consent_text().expect("text");
    fx.portal.give_consent(&s, &text.version).expect("agreed");
    assert!(
        fx.portal.unviewed_award_orders(&s).expect("open").is_empty(),
        "a paper order is not unviewed"
    );
    assert_eq!(fx.portal.award_history(&s).expect("open").len(), 1);
    let viewed = fx.portal.view_award_order(&s, order.summary.id).expect("open");
    assert_eq!(viewed.summary.viewed_at, None, "a paper order is not signed for online");
    assert_eq!(viewed.national_id, person(Who::Wang).masked());
}
