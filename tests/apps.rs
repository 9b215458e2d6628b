//! The application catalogue: greyed-out entries by assurance level, "my applications", and the
//! level every B5 function checks.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{Application, AuditQuery, Portal, ProofingCategory, ProofingQuery};
use ecpa::types::{AssuranceLevel, Lang};
use support::{Fixture, Who, expect_code, pw};

fn usable(apps: &[Application]) -> Vec<(&str, bool)> {
    apps.iter().map(|a| (a.code.as_str(), a.usable)).collect()
}

#[test]
fn catalogue_greys_out_by_level() {
    let fx = Fixture::new();
    let card = fx.enrol(Who::Wang);
    let apps = fx.portal.applications(&card).expect("catalogue");
    assert_eq!(
        usable(&apps),
        vec![("B5", true), ("B3", true), ("C1", true), ("A1", false), ("A2", false)]
    );
    let a1 = apps.iter().find(|a| a.code == "A1").expect("A1");
    assert_eq!(a1.required_level, AssuranceLevel::Certificate);
    assert!(apps.iter().all(|a| !a.added));

    fx.portal
        .set_account(&card, "wang", &pw("Acct#2026ok"))
        .expect("account");
    let account = fx
        .portal
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    let apps = fx.portal.applications(&account).expect("catalogue");
    assert_eq!(
        usable(&apps),
        vec![("B5", false), ("B3", true), ("C1", false), ("A1", false), ("A2", false)]
    );
}

#[test]
fn open_needs_the_application_added_first() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    expect_code(fx.portal.open_application(&s, "B5"), ErrorCode::ApplicationNotAdded);
    assert!(fx.portal.my_applications(&s).expect("mine").is_empty());
    fx.portal.add_my_application(&s, "B5").expect("added");
    fx.portal
        .add_my_application(&s, "B5")
        .expect("adding twice is harmless");
    let mine = fx.portal.my_applications(&s).expect("mine");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].added && mine[0].code == "B5");
    let b5 = fx.portal.open_application(&s, "B5").expect("opens");
    assert_eq!(b5.name_zh, "公務人員個人資料校對網站");
    // "My applications" are the person's own: another person has not added B5.
    let lin = fx.enrol(Who::Lin);
    expect_code(fx.portal.open_application(&lin, "B5"), ErrorCode::ApplicationNotAdded);
    expect_code(fx.portal.add_my_application(&s, "Z9"), ErrorCode::ApplicationUnknown);
    expect_code(fx.portal.open_application(&s, "Z9"), ErrorCode::ApplicationUnknown);
}

#[test]
fn a_certificate_application_refuses_an_nhi_card_login() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .add_my_application(&s, "A1")
        .expect("a greyed-out app can be added");
    let e = expect_code(fx.portal.open_application(&s, "A1"), ErrorCode::AssuranceTooLow);
    assert!(
        matches!(
            e,
            ecpa::Error::AssuranceTooLow {
                required: AssuranceLevel::Certificate,
                actual: AssuranceLevel::NhiCard
            }
        ),
        "{e:?}"
    );
    assert!(
        e.message(Lang::ZhTw)
            .starts_with("上述反灰的連結請使用自然人憑證登入才可使用"),
        "{}",
        e.message(Lang::ZhTw)
    );
    assert!(e.message(Lang::ZhTw).contains("自然人憑證") && e.message(Lang::ZhTw).contains("健保卡"));
}

#[test]
fn b5_functions_refuse_an_account_password_session() {
    let fx = Fixture::new();
    let card = fx.ready(Who::OfficerA);
    fx.portal.add_my_application(&card, "B5").expect("added");
    fx.portal
        .set_account(&card, "chen", &pw("Acct#2026ok"))
        .expect("account");
    let s = fx
        .portal
        .login_account("chen", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    let too_low = |r: ecpa::Result<()>| {
        let e = expect_code(r, ErrorCode::AssuranceTooLow);
        assert!(
            matches!(
                e,
                ecpa::Error::AssuranceTooLow {
                    required: AssuranceLevel::NhiCard,
                    actual: AssuranceLevel::Password
                }
            ),
            "{e:?}"
        );
    };
    too_low(fx.portal.open_application(&s, "B5").map(drop));
    too_low(fx.portal.consent_status(&s).map(drop));
    too_low(fx.portal.give_consent(&s, "2019-07-01").map(drop));
    too_low(fx.portal.withdraw_consent(&s));
    too_low(fx.portal.unviewed_award_orders(&s).map(drop));
    too_low(fx.portal.view_award_order(&s, 1).map(drop));
    too_low(fx.portal.award_history(&s).map(drop));
    too_low(
        fx.portal
            .unsigned_award_orders(&s, ecpa::portal::PageRequest::default())
            .map(drop),
    );
    too_low(
        fx.portal
            .issue_award_order(
                &s,
                &support::order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000789號",
                    ecpa::portal::AwardKind::Merit,
                    1,
                ),
            )
            .map(drop),
    );
    too_low(fx.portal.issue_award_orders(&s, &[]).map(drop));
    too_low(fx.portal.personal_record(&s).map(drop));
    too_low(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "office_phone", "02-1234-5678")
            .map(drop),
    );
    too_low(
        fx.portal
            .discard_correction(&s, ProofingCategory::CurrentPost, "office_phone"),
    );
    too_low(fx.portal.complete_proofing(&s).map(drop));
    too_low(fx.portal.proofing_query(&s, &ProofingQuery::default()).map(drop));
    too_low(fx.portal.officer_todos(&s).map(drop));
    too_low(fx.portal.submission_corrections(&s, 1).map(drop));
    too_low(
        fx.portal
            .process_correction(&s, 1, &ecpa::portal::CorrectionDecision::Approve)
            .map(drop),
    );
    // The officer functions outside B5 too: the agency's people and its audit trail.
    too_low(
        fx.portal
            .agency_employees(&s, ecpa::portal::PageRequest::default())
            .map(drop),
    );
    too_low(fx.portal.audit_trail(&s, &AuditQuery::default()).map(drop));
    // The same person with the NHI card can.
    fx.portal.personal_record(&card).expect("record");
    fx.portal.open_application(&card, "B5").expect("opens");
    fx.portal
        .agency_employees(&card, ecpa::portal::PageRequest::default())
        .expect("the agency's people");
    fx.portal
        .audit_trail(&card, &AuditQuery::default())
        .expect("audit trail");
    // An employee's own trail needs no more than a password.
    let wang = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&wang, "wang", &pw("Acct#2026ok"))
        .expect("account");
    let low = fx
        .portal
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    fx.portal.audit_trail(&low, &AuditQuery::default()).expect("own trail");
}
