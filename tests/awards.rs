//! Award orders: the electronic-delivery ceiling and its history, the notification mail, bulk
//! issuance all-or-nothing, who may issue for whom, signing by viewing, the yearly history.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{AwardKind, Delivery, NewAwardOrder, PaperReason, Portal, Tally};
use ecpa::types::{Lang, RocDate};
use support::{AGENCY_A_NAME, Fixture, Who, count, expect_code, order, person};
use time::Duration;

/// Outbox notices of an order.
fn notices(fx: &Fixture, order_id: i64) -> i64 {
    fx.sql_int(&format!(
        "SELECT count(*) FROM outbox WHERE kind = 'award_notice' AND ref_id = {order_id}"
    ))
}

fn tally(major: u32, middle: u32, minor: u32) -> Tally {
    Tally { major, middle, minor }
}

#[test]
fn the_ceiling_follows_its_history_through_issuance() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    let cases = [
        (
            "108/06/30",
            "北市勞人字第1086000001號",
            AwardKind::Merit,
            Delivery::Paper(PaperReason::BeforeElectronicDelivery),
        ),
        (
            "108/06/30",
            "北市勞人字第1086000002號",
            AwardKind::Commendation,
            Delivery::Paper(PaperReason::BeforeElectronicDelivery),
        ),
        (
            "108/07/01",
            "北市勞人字第1086000003號",
            AwardKind::Merit,
            Delivery::Electronic,
        ),
        (
            "108/07/01",
            "北市勞人字第1086000004號",
            AwardKind::Commendation,
            Delivery::Electronic,
        ),
        (
            "108/07/01",
            "北市勞人字第1086000005號",
            AwardKind::MajorMerit,
            Delivery::Paper(PaperReason::AboveCeiling),
        ),
        (
            "112/12/31",
            "北市勞人字第1126000006號",
            AwardKind::MajorMerit,
            Delivery::Paper(PaperReason::AboveCeiling),
        ),
        (
            "113/01/01",
            "北市勞人字第1136000007號",
            AwardKind::MajorMerit,
            Delivery::Electronic,
        ),
        (
            "113/01/01",
            "北市勞人字第1136000008號",
            AwardKind::Reprimand,
            Delivery::Paper(PaperReason::Punishment),
        ),
        (
            "114/05/01",
            "北市勞人字第1146000009號",
            AwardKind::Demerit,
            Delivery::Paper(PaperReason::Punishment),
        ),
        (
            "114/05/01",
            "北市勞人字第1146000010號",
            AwardKind::MajorDemerit,
            Delivery::Paper(PaperReason::Punishment),
        ),
    ];
    let mut electronic = Vec::new();
    for (approved, doc, kind, want) in cases {
        let o = fx
            .portal
            .issue_award_order(&officer, &order(Who::Wang, approved, doc, kind, 1))
            .expect("issued");
        assert_eq!(o.summary.delivery, want, "{approved} {kind}");
        assert_eq!(
            notices(&fx, o.summary.id),
            i64::from(want == Delivery::Electronic),
            "{doc}"
        );
        if want == Delivery::Electronic {
            electronic.push((approved, o.summary.id));
        }
    }
    assert_eq!(count(&fx, "outbox WHERE kind = 'award_notice'"), 3);
    let mails: Vec<_> = fx
        .deliver()
        .into_iter()
        .filter(|m| m.subject.contains("個人獎勵令通知信"))
        .collect();
    let subjects: Vec<String> = mails.iter().map(|m| m.subject.clone()).collect();
    assert_eq!(
        subjects,
        electronic
            .iter()
            .map(|(d, _)| format!("{AGENCY_A_NAME}{d}個人獎勵令通知信(非社交工程演練)"))
            .collect::<Vec<_>>()
    );
    assert!(mails.iter().all(|m| m.to == "wang.hsiaoming@mail.taipei.gov.tw"));
    // Paper orders say why, in both languages.
    assert_eq!(
        PaperReason::AboveCeiling.label(Lang::ZhTw),
        "超過核定日期當時電子化之獎勵上限"
    );
}

#[test]
fn paper_when_not_consented_without_email_or_left_office() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.enrol(Who::Lin); // registered and logged in, never consented
    fx.ready(Who::NoMail);
    let cases = [
        (Who::Lin, PaperReason::NotConsented),
        (Who::NoMail, PaperReason::NoEmail),
        (Who::Retired, PaperReason::LeftOffice),
    ];
    for (i, (who, reason)) in cases.into_iter().enumerate() {
        let doc = format!("北市勞人字第114600010{i}號");
        let o = fx
            .portal
            .issue_award_order(&officer, &order(who, "114/05/02", &doc, AwardKind::Commendation, 1))
            .expect("issued");
        assert_eq!(o.summary.delivery, Delivery::Paper(reason), "{who:?}");
        assert_eq!(notices(&fx, o.summary.id), 0);
    }
    assert_eq!(count(&fx, "outbox WHERE kind = 'award_notice'"), 0);
}

#[test]
fn the_notice_carries_the_news_only() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    let wang = person(Who::Wang);
    let mut o = order(Who::Wang, "114/05/02", "北市勞人字第1146000789號", AwardKind::Merit, 2);
    o.reason = "推動勞資爭議調解成效卓著".into();
    o.approving_agency = "臺北市政府".into();
    fx.portal.issue_award_order(&officer, &o).expect("issued");
    let mails = fx.deliver();
    let notice = mails.last().expect("a notice");
    assert_eq!(notice.to, wang.email.expect("email"));
    assert_eq!(notice.subject, "臺北市政府114/05/02個人獎勵令通知信(非社交工程演練)");
    let body = &notice.body;
    assert!(body.contains(&fx.portal.config().portal_url), "{body}");
    assert!(body.contains("未檢視獎令"), "{body}");
    for secret in [
        "推動勞資爭議調解成效卓著",
        "北市勞人字第1146000789號",
        "1146000789",
        wang.id.reveal(),
        wang.id.last_four(),
        "記功",
        "公務人員考績法",
    ] {
        assert!(!body.contains(secret), "the notice reveals {secret:?}: {body}");
        assert!(!notice.subject.contains(secret), "the subject reveals {secret:?}");
    }
}

#[test]
fn bulk_issuance_is_all_or_nothing() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    let good = |n: u32, who: Who| {
        order(
            who,
            "114/05/02",
            &format!("北市勞人字第11460{n:05}號"),
            AwardKind::Commendation,
            1,
        )
    };
    let before = |fx: &Fixture| (count(fx, "award_orders"), count(fx, "outbox"), count(fx, "audit"));
    let start = before(&fx);

    let mut invalid = vec![good(1, Who::Wang), good(2, Who::Lin)];
    invalid.push(NewAwardOrder {
        count: 3,
        ..good(3, Who::Wang)
    });
    let e = expect_code(
        fx.portal.issue_award_orders(&officer, &invalid),
        ErrorCode::AwardOrderInvalid,
    );
    assert!(e.message(Lang::ZhTw).contains("第 3 筆"), "{e}");
    assert_eq!(before(&fx), start);

    let duplicate = vec![good(1, Who::Wang), good(2, Who::Lin), good(1, Who::Wang)];
    let e = expect_code(
        fx.portal.issue_award_orders(&officer, &duplicate),
        ErrorCode::AwardOrderDuplicate,
    );
    assert!(e.message(Lang::ZhTw).contains("第 3 筆"), "{e}");
    assert!(!e.message(Lang::ZhTw).contains(person(Who::Wang).id.reveal()), "{e}");
    assert_eq!(before(&fx), start);

    let foreign = vec![good(1, Who::Wang), good(2, Who::Li)];
    expect_code(
        fx.portal.issue_award_orders(&officer, &foreign),
        ErrorCode::EmployeeNotInAgency,
    );
    assert_eq!(before(&fx), start);

    let batch = vec![
        good(1, Who::Wang),
        good(2, Who::Lin),
        good(3, Who::NoMail),
        order(
            Who::Wang,
            "114/05/02",
            "北市勞人字第1146000004號",
            AwardKind::Reprimand,
            1,
        ),
    ];
    let report = fx.portal.issue_award_orders(&officer, &batch).expect("issued");
    assert_eq!((report.issued, report.electronic, report.paper), (4, 2, 2));
    assert_eq!(report.orders.len(), 4);
    assert_eq!(report.orders[2].1, Delivery::Paper(PaperReason::NotConsented));
    assert_eq!(report.orders[3].1, Delivery::Paper(PaperReason::Punishment));
    for (id, delivery) in &report.orders {
        assert_eq!(notices(&fx, *id), i64::from(*delivery == Delivery::Electronic));
    }
    assert_eq!(count(&fx, "award_orders"), start.0 + 4);

    // A batch repeating an order already issued writes nothing either.
    let again = vec![good(9, Who::Lin), good(1, Who::Wang)];
    expect_code(
        fx.portal.issue_award_orders(&officer, &again),
        ErrorCode::AwardOrderDuplicate,
    );
    assert_eq!(count(&fx, "award_orders"), start.0 + 4);
}

#[test]
fn a_document_number_is_issued_once_per_person() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let doc = "府人考字第1080097494號";
    fx.portal
        .issue_award_order(
            &officer,
            &order(Who::Wang, "108/08/01", doc, AwardKind::Commendation, 1),
        )
        .expect("issued");
    let e = expect_code(
        fx.portal
            .issue_award_order(&officer, &order(Who::Wang, "108/08/01", doc, AwardKind::Merit, 1)),
        ErrorCode::AwardOrderDuplicate,
    );
    assert!(!e.message(Lang::En).contains(person(Who::Wang).id.reveal()));
    // One document may cite several people.
    fx.portal
        .issue_award_order(&officer, &order(Who::Lin, "108/08/01", doc, AwardKind::Commendation, 1))
        .expect("another person, same document");
    assert_eq!(count(&fx, "award_orders"), 2);
}

#[test]
fn only_an_officer_of_the_persons_agency_issues() {
    let fx = Fixture::new();
    let wang = fx.enrol(Who::Wang);
    let officer_a = fx.enrol(Who::OfficerA);
    let officer_b = fx.enrol(Who::OfficerB);
    let o = order(
        Who::Lin,
        "114/05/02",
        "北市勞人字第1146000789號",
        AwardKind::Commendation,
        1,
    );
    expect_code(fx.portal.issue_award_order(&wang, &o), ErrorCode::NotPersonnelOfficer);
    expect_code(
        fx.portal.issue_award_orders(&wang, std::slice::from_ref(&o)),
        ErrorCode::NotPersonnelOfficer,
    );
    expect_code(
        fx.portal
            .unsigned_award_orders(&wang, ecpa::portal::PageRequest::default()),
        ErrorCode::NotPersonnelOfficer,
    );
    let e = expect_code(
        fx.portal.issue_award_order(&officer_b, &o),
        ErrorCode::EmployeeNotInAgency,
    );
    assert!(!e.message(Lang::ZhTw).contains(person(Who::Lin).id.reveal()), "{e}");
    expect_code(
        fx.portal.issue_award_orders(&officer_b, std::slice::from_ref(&o)),
        ErrorCode::EmployeeNotInAgency,
    );
    // Someone in no agency at all.
    expect_code(
        fx.portal.issue_award_order(
            &officer_a,
            &order(
                Who::Outsider,
                "114/05/02",
                "北市勞人字第1146000790號",
                AwardKind::Commendation,
                1,
            ),
        ),
        ErrorCode::EmployeeNotInAgency,
    );
    assert_eq!(count(&fx, "award_orders"), 0);
    fx.portal.issue_award_order(&officer_a, &o).expect("the right officer");
}

#[test]
fn invalid_orders_are_refused() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let base = order(
        Who::Wang,
        "114/05/02",
        "北市勞人字第1146000789號",
        AwardKind::Commendation,
        1,
    );
    for bad in [
        NewAwardOrder {
            count: 0,
            ..base.clone()
        },
        NewAwardOrder {
            count: 3,
            ..base.clone()
        },
        NewAwardOrder {
            approved_on: fx
                .today()
                .to_gregorian()
                .next_day()
                .map(RocDate::from_gregorian)
                .expect("date")
                .expect("roc"),
            rating_year: 114,
            ..base.clone()
        },
        NewAwardOrder {
            rating_year: 115,
            ..base.clone()
        },
        NewAwardOrder {
            rating_year: 0,
            ..base.clone()
        },
    ] {
        expect_code(
            fx.portal.issue_award_order(&officer, &bad),
            ErrorCode::AwardOrderInvalid,
        );
    }
    for bad in [
        NewAwardOrder {
            reason: "  ".into(),
            ..base.clone()
        },
        NewAwardOrder {
            legal_basis: String::new(),
            ..base.clone()
        },
        NewAwardOrder {
            approving_agency: "臺北市\n政府".into(),
            ..base.clone()
        },
    ] {
        expect_code(fx.portal.issue_award_order(&officer, &bad), ErrorCode::FieldInvalid);
    }
    assert_eq!(count(&fx, "award_orders"), 0);
    // Today itself is fine, and so is a count of 2 and an earlier rating year.
    fx.portal
        .issue_award_order(
            &officer,
            &NewAwardOrder {
                approved_on: fx.today(),
                count: 2,
                rating_year: 113,
                ..base
            },
        )
        .expect("valid");
}

#[test]
fn viewing_signs_once_and_only_ones_own() {
    let fx = Fixture::new();
    let officer = fx.ready(Who::OfficerA);
    let wang = fx.ready(Who::Wang);
    let lin = fx.ready(Who::Lin);
    let report = fx
        .portal
        .issue_award_orders(
            &officer,
            &[
                order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000001號",
                    AwardKind::Commendation,
                    1,
                ),
                order(Who::Wang, "114/05/03", "北市勞人字第1146000002號", AwardKind::Merit, 1),
            ],
        )
        .expect("issued");
    let (first, second) = (report.orders[0].0, report.orders[1].0);
    let unviewed = fx.portal.unviewed_award_orders(&wang).expect("list");
    assert_eq!(unviewed.iter().map(|o| o.id).collect::<Vec<_>>(), vec![first, second]);
    assert!(unviewed.iter().all(|o| o.viewed_at.is_none()));

    fx.advance(Duration::minutes(2));
    let signed_at = fx.clock_now();
    let o = fx.portal.view_award_order(&wang, first).expect("viewed");
    assert_eq!(o.summary.viewed_at.map(|t| t.offset_date_time()), Some(signed_at));
    assert_eq!(o.reason, "辦理勞動檢查專案績效卓著");
    assert_eq!(o.person_name, "王小明");
    assert_eq!(o.unit, "勞動檢查處");
    assert_eq!(o.national_id, person(Who::Wang).masked());
    fx.advance(Duration::minutes(10));
    let again = fx.portal.view_award_order(&wang, first).expect("viewed again");
    assert_eq!(
        again.summary.viewed_at, o.summary.viewed_at,
        "the first view is the signature"
    );
    assert_eq!(
        fx.portal
            .unviewed_award_orders(&wang)
            .expect("list")
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        vec![second]
    );
    assert_eq!(count(&fx, "audit WHERE action = 'award.sign'"), 1);

    // Someone else's order does not exist for them, signed or not; nor does a made-up number.
    for id in [first, second, 999_999] {
        expect_code(fx.portal.view_award_order(&lin, id), ErrorCode::AwardOrderNotFound);
        expect_code(fx.portal.view_award_order(&officer, id), ErrorCode::AwardOrderNotFound);
    }
    // Lin's attempt signed nothing.
    assert_eq!(fx.portal.unviewed_award_orders(&wang).expect("list").len(), 1);
}

#[test]
fn the_officer_sees_own_agency_unsigned_orders_until_signed() {
    let fx = Fixture::new();
    let officer_a = fx.enrol(Who::OfficerA);
    let officer_b = fx.enrol(Who::OfficerB);
    let wang = fx.ready(Who::Wang);
    fx.ready(Who::Li);
    let a = fx
        .portal
        .issue_award_orders(
            &officer_a,
            &[
                order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000001號",
                    AwardKind::Commendation,
                    1,
                ),
                order(Who::Wang, "114/05/02", "北市勞人字第1146000002號", AwardKind::Merit, 1),
                order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000003號",
                    AwardKind::Reprimand,
                    1,
                ),
            ],
        )
        .expect("issued");
    fx.portal
        .issue_award_order(
            &officer_b,
            &NewAwardOrder {
                approving_agency: support::AGENCY_B_NAME.into(),
                ..order(
                    Who::Li,
                    "114/05/02",
                    "府人考字第1146000009號",
                    AwardKind::Commendation,
                    1,
                )
            },
        )
        .expect("issued");
    let list = fx
        .portal
        .unsigned_award_orders(&officer_a, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
    assert_eq!(
        list.iter().map(|u| u.order.id).collect::<Vec<_>>(),
        vec![a.orders[0].0, a.orders[1].0],
        "own agency's electronic orders only"
    );
    assert!(
        list.iter()
            .all(|u| u.national_id == person(Who::Wang).masked() && u.name == "王小明")
    );
    let list_b = fx
        .portal
        .unsigned_award_orders(&officer_b, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
    assert_eq!(list_b.len(), 1);
    assert_eq!(list_b[0].national_id, person(Who::Li).masked());

    fx.portal.view_award_order(&wang, a.orders[0].0).expect("signed");
    let list = fx
        .portal
        .unsigned_award_orders(&officer_a, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
    assert_eq!(list.iter().map(|u| u.order.id).collect::<Vec<_>>(), vec![a.orders[1].0]);
}

#[test]
fn yearly_history_converts_and_offsets() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.ready(Who::Wang);
    let mut n = 0;
    let mut o = |approved: &str, kind: AwardKind, count: u8, special: bool| {
        n += 1;
        NewAwardOrder {
            special,
            ..order(Who::Wang, approved, &format!("北市勞人字第{n:06}號"), kind, count)
        }
    };
    let orders = vec![
        // 111: 3 嘉獎 make 1 記功.
        o("111/03/01", AwardKind::Commendation, 1, false),
        o("111/06/01", AwardKind::Commendation, 2, false),
        // 112: 3 記功 make 1 記大功; 2 嘉獎 stay.
        o("112/03/01", AwardKind::Merit, 2, false),
        o("112/04/01", AwardKind::Merit, 1, false),
        o("112/05/01", AwardKind::Commendation, 2, false),
        // 113: 記功 offsets 申誡 (3 − 1 = 2 嘉獎); the special 記過 is not offset.
        o("113/03/01", AwardKind::Merit, 1, false),
        o("113/04/01", AwardKind::Reprimand, 1, false),
        o("113/05/01", AwardKind::Demerit, 1, true),
        o("113/06/01", AwardKind::Commendation, 1, true),
        // 114: 嘉獎 against 記過 leaves 2 申誡 on the punishment side; 3 申誡 make 1 記過.
        o("114/01/10", AwardKind::Commendation, 1, false),
        o("114/02/10", AwardKind::Demerit, 1, false),
        o("114/03/10", AwardKind::Reprimand, 2, true),
        o("114/03/11", AwardKind::Reprimand, 1, true),
    ];
    fx.portal.issue_award_orders(&officer, &orders).expect("issued");
    let history = fx.portal.award_history(&wang).expect("history");
    assert_eq!(
        history
            .iter()
            .map(|y| (y.rating_year, y.orders.len()))
            .collect::<Vec<_>>(),
        vec![(114, 4), (113, 4), (112, 3), (111, 2)]
    );
    let year = |y: i32| history.iter().find(|h| h.rating_year == y).expect("year");

    let y111 = year(111);
    assert_eq!(y111.ordinary_rewards, tally(0, 1, 0));
    assert_eq!(y111.net_reward, tally(0, 1, 0));
    assert_eq!(y111.net_reward.describe(true, Lang::ZhTw), "記功1次");

    let y112 = year(112);
    assert_eq!(y112.ordinary_rewards, tally(1, 0, 2));
    assert_eq!(y112.net_reward.describe(true, Lang::ZhTw), "記大功1次、嘉獎2次");

    let y113 = year(113);
    assert_eq!(y113.ordinary_rewards, tally(0, 1, 0));
    assert_eq!(y113.ordinary_punishments, tally(0, 0, 1));
    assert_eq!(y113.net_reward, tally(0, 0, 2));
    assert_eq!(y113.net_punishment, Tally::default());
    assert_eq!(
        y113.special_punishments,
        tally(0, 1, 0),
        "special orders are not offset"
    );
    assert_eq!(y113.special_rewards, tally(0, 0, 1));

    let y114 = year(114);
    assert_eq!(y114.net_reward, Tally::default());
    assert_eq!(y114.net_punishment, tally(0, 0, 2));
    assert_eq!(y114.net_punishment.describe(false, Lang::ZhTw), "申誡2次");
    assert_eq!(y114.special_punishments, tally(0, 1, 0), "3 申誡 make 1 記過");
    assert_eq!(y114.special_rewards, Tally::default());

    // The history is the person's own: Lin's is empty.
    let lin = fx.ready(Who::Lin);
    assert!(fx.portal.award_history(&lin).expect("history").is_empty());
}

#[test]
fn racing_issuance_of_one_document_issues_it_once() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.ready(Who::Wang);
    let o = order(Who::Wang, "114/05/02", "北市勞人字第1146000789號", AwardKind::Merit, 1);
    let results = support::race(6, |i| {
        if i % 2 == 0 {
            fx.portal.issue_award_order(&officer, &o).map(|o| o.summary.id)
        } else {
            fx.portal
                .issue_award_orders(&officer, std::slice::from_ref(&o))
                .map(|r| r.orders[0].0)
        }
    });
    let (ok, codes) = support::outcomes(&results);
    assert_eq!(ok, 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == ErrorCode::AwardOrderDuplicate), "{codes:?}");
    let id = *results.iter().find_map(|r| r.as_ref().ok()).expect("issued");
    assert_eq!(count(&fx, "award_orders"), 1);
    assert_eq!(notices(&fx, id), 1);

    // Viewing from several tabs at once signs once, at one time.
    let views = support::race(6, |_| fx.portal.view_award_order(&wang, id));
    let times: Vec<_> = views
        .iter()
        .map(|v| v.as_ref().expect("viewed").summary.viewed_at)
        .collect();
    assert!(times.iter().all(|t| t.is_some() && *t == times[0]), "{times:?}");
    assert_eq!(count(&fx, "audit WHERE action = 'award.sign'"), 1);
}
