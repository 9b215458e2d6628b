//! Consent to electronic award orders: recorded with its text version, time and login; final;
//! required before the award pages open.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{AwardKind, Delivery, LoginMethod, NewConsentText, PaperReason, Portal};
use support::{Fixture, Who, expect_code, person};
use time::Duration;

#[test]
fn consent_records_version_time_and_login() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    assert_eq!(fx.portal.consent_status(&s).expect("status"), None);
    let text = fx.portal.consent_text().expect("text");
    assert!(!text.version.is_empty());
    // The 2024 text in force is a draft after the 2019 one, until the official one is loaded.
    assert!(text.text_zh.contains("記一大功以下獎勵令"), "{}", text.text_zh);
    assert!(text.draft && text.covers == AwardKind::MajorMerit);
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
    assert_eq!(support::count(&fx, "consent_agreements"), 1);
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

/// 民國112年5月1日 10:00 in Taipei: when the 2019 text was still the one in force.
fn in_2023() -> time::OffsetDateTime {
    time::macros::datetime!(2023-05-01 10:00 +08:00)
}

#[test]
fn a_major_merit_goes_on_paper_to_someone_who_agreed_only_to_the_2019_text() {
    let fx = Fixture::new();
    let start = fx.clock_now();
    fx.clock.set(in_2023());
    let s = fx.enrol(Who::Wang);
    let old = fx.portal.consent_text().expect("text");
    assert_eq!(
        (old.version.as_str(), old.covers, old.draft),
        ("2019-07-01", AwardKind::Merit, false)
    );
    assert!(old.text_zh.contains("記功以下獎勵令"), "{}", old.text_zh);
    let first = fx.portal.give_consent(&s, &old.version).expect("agreed in 2023");
    assert_eq!(first.covers, AwardKind::Merit);
    assert_eq!(first.newer_version, None);

    fx.clock.set(start);
    let officer = fx.enrol(Who::OfficerA);
    let issue = |doc: &str, kind| {
        fx.portal
            .issue_award_order(&officer, &support::order(Who::Wang, "114/05/02", doc, kind, 1))
            .expect("issued")
            .summary
            .delivery
    };
    assert_eq!(
        issue("北市勞人字第1146000701號", AwardKind::Merit),
        Delivery::Electronic
    );
    assert_eq!(
        issue("北市勞人字第1146000702號", AwardKind::MajorMerit),
        Delivery::Paper(PaperReason::ConsentTooNarrow)
    );
    // The newer text is offered; agreeing to it adds to the consent, the first one kept.
    let s = fx.login(Who::Wang);
    let status = fx.portal.consent_status(&s).expect("status").expect("consented");
    let newer = fx.portal.consent_text().expect("text");
    assert_eq!(status.newer_version.as_deref(), Some(newer.version.as_str()));
    // Another version is not the one offered: nothing changes.
    assert_eq!(fx.portal.give_consent(&s, "2000-01-01").expect("unchanged"), status);
    let extended = fx
        .portal
        .give_consent(&s, &newer.version)
        .expect("agreed to the newer text");
    assert_eq!(
        (extended.covers, extended.newer_version.as_deref()),
        (AwardKind::MajorMerit, None)
    );
    assert_eq!(extended.text_version, newer.version);
    assert_eq!(support::count(&fx, "consent_agreements"), 2);
    assert_eq!(
        fx.sql_text(
            "SELECT CAST(agreed_at AS TEXT) FROM consent_agreements WHERE text_version = ?",
            "2019-07-01"
        ),
        Some((in_2023().unix_timestamp() * 1000).to_string()),
        "the first agreement stays as it was"
    );
    assert_eq!(
        issue("北市勞人字第1146000703號", AwardKind::MajorMerit),
        Delivery::Electronic
    );
    // Still final, for every kind agreed.
    expect_code(fx.portal.withdraw_consent(&s), ErrorCode::ConsentFinal);
}

#[test]
fn the_operator_loads_the_official_text_which_is_offered_over_the_draft() {
    let fx = Fixture::new();
    let official = NewConsentText {
        version: "2024-01-01".into(),
        effective_from: "113/01/01".into(),
        covers: "記一大功".into(),
        draft: false,
        text_zh: "本人同意記一大功以下獎勵令以電子郵件通知（正式版）。".into(),
        text_en: "I agree to award orders of one major merit and below by e-mail (official).".into(),
    };
    let added = fx
        .portal
        .add_consent_version(&official, "consent-2024.toml", "ops.lin")
        .expect("loaded");
    assert!(!added.draft);
    // The audit trail names who loaded it, and from which file.
    assert_eq!(
        fx.sql_text("SELECT operator FROM audit WHERE action = ?", "consent.add_version")
            .as_deref(),
        Some("ops.lin")
    );
    assert_eq!(
        fx.sql_text("SELECT detail FROM audit WHERE action = ?", "consent.add_version")
            .as_deref(),
        Some("consent-2024.toml")
    );
    let text = fx.portal.consent_text().expect("text");
    assert_eq!(text.version, "2024-01-01");
    let all = fx.portal.consent_versions().expect("versions");
    let versions: Vec<_> = all.iter().map(|t| (t.version.as_str(), t.draft)).collect();
    assert_eq!(
        versions,
        [("2019-07-01", false), ("2024-01-01-draft", true), ("2024-01-01", false)]
    );
    // A version is never reused, and a text must cover a reward.
    expect_code(
        fx.portal.add_consent_version(&official, "again.toml", "ops.lin"),
        ErrorCode::FieldInvalid,
    );
    let punishment = NewConsentText {
        version: "2030-01-01".into(),
        covers: "記過".into(),
        ..official.clone()
    };
    expect_code(
        fx.portal.add_consent_version(&punishment, "bad.toml", "ops.lin"),
        ErrorCode::FieldInvalid,
    );
    // A new agreement is to the official text.
    let s = fx.enrol(Who::Wang);
    let record = fx.portal.give_consent(&s, "2024-01-01").expect("agreed");
    assert_eq!(record.covers, AwardKind::MajorMerit);
}
