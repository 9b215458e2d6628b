//! Proofing one's personal record and the personnel office's processing of corrections.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{
    AwardKind, CorrectionDecision, CorrectionStatus, PersonalRecord, Portal, ProofingCategory, ProofingQuery,
    ProofingQueryRow, SessionToken,
};
use ecpa::types::{AgencyCode, Lang, RocDate};
use support::{Fixture, Who, count, expect_code, order, person};
use time::Duration;

fn field(record: &PersonalRecord, category: ProofingCategory, key: &str) -> ecpa::portal::FieldValue {
    record
        .categories
        .iter()
        .find(|c| c.category == category)
        .and_then(|c| c.fields.iter().find(|f| f.key == key))
        .cloned()
        .unwrap_or_else(|| panic!("no field {key}"))
}

fn email_of(fx: &Fixture, s: &SessionToken) -> Option<String> {
    field(
        &fx.portal.personal_record(s).expect("record"),
        ProofingCategory::CurrentPost,
        "email",
    )
    .value
}

fn date(s: &str) -> RocDate {
    RocDate::parse(s).expect("date")
}

fn names(rows: &[ProofingQueryRow]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<&str>) -> Vec<String> {
    v.sort();
    v.into_iter().map(str::to_owned).collect()
}

#[test]
fn the_record_has_nine_categories() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let record = fx.portal.personal_record(&s).expect("record");
    assert_eq!(record.name, "王小明");
    assert_eq!(record.national_id, person(Who::Wang).masked());
    assert_eq!(
        record
            .categories
            .iter()
            .map(|c| c.category.label(Lang::ZhTw))
            .collect::<Vec<_>>(),
        vec![
            "基本資料",
            "現職資料",
            "學歷資料",
            "考試資料",
            "訓練進修資料",
            "經歷資料",
            "考績資料",
            "獎懲資料",
            "其它表"
        ]
    );
    assert!(record.categories.iter().all(|c| !c.fields.is_empty()));
    assert_eq!(record.last_proofed, None);
    let email = field(&record, ProofingCategory::CurrentPost, "email");
    assert_eq!(email.value.as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
    assert_eq!(email.label_zh, "電子郵件信箱");
    assert!(email.correctable && email.staged.is_none());
    let agency = field(&record, ProofingCategory::CurrentPost, "serving_agency");
    assert_eq!(agency.value.as_deref(), Some(support::AGENCY_A_NAME));
    let unit = field(&record, ProofingCategory::CurrentPost, "occupying_unit");
    assert_eq!(unit.value.as_deref(), Some("勞動檢查處"));
    assert_eq!(
        field(&record, ProofingCategory::Basic, "name").value.as_deref(),
        Some("王小明")
    );
    assert!(!field(&record, ProofingCategory::Basic, "name").correctable);
}

#[test]
fn staging_checks_the_field_and_value() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    for key in ["name", "birth_date", "sex"] {
        expect_code(
            fx.portal.stage_correction(&s, ProofingCategory::Basic, key, "王大明"),
            ErrorCode::ProofingFieldReadOnly,
        );
    }
    expect_code(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "salary", "1"),
        ErrorCode::ProofingFieldUnknown,
    );
    expect_code(
        fx.portal
            .stage_correction(&s, ProofingCategory::Basic, "email", "a@example.com.tw"),
        ErrorCode::ProofingFieldUnknown,
    );
    expect_code(
        fx.portal.discard_correction(&s, ProofingCategory::Basic, "salary"),
        ErrorCode::ProofingFieldUnknown,
    );
    expect_code(
        fx.portal.stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            "wang.hsiaoming@mail.taipei.gov.tw",
        ),
        ErrorCode::ProofingValueUnchanged,
    );
    // The same address with the domain in capitals is the same address.
    expect_code(
        fx.portal.stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            " wang.hsiaoming@MAIL.Taipei.gov.tw ",
        ),
        ErrorCode::ProofingValueUnchanged,
    );
    for bad in [
        "wang.hsiaoming",
        "wang@@mail.taipei.gov.tw",
        "wang@",
        "@mail.taipei.gov.tw",
    ] {
        expect_code(
            fx.portal
                .stage_correction(&s, ProofingCategory::CurrentPost, "email", bad),
            ErrorCode::EmailInvalid,
        );
    }
    expect_code(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "reported_on", "108/02/30"),
        ErrorCode::DateInvalid,
    );
    expect_code(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "office_phone", "   "),
        ErrorCode::FieldInvalid,
    );
    assert_eq!(count(&fx, "proofing_drafts"), 0);

    // 修改前 and 修改後 side by side.
    let staged = fx
        .portal
        .stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            "hsiaoming.wang@mail.taipei.gov.tw",
        )
        .expect("staged");
    assert_eq!(staged.before.as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
    assert_eq!(staged.after, "hsiaoming.wang@mail.taipei.gov.tw");
    let date = fx
        .portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "reported_on", "民國108年4月3日")
        .expect("staged");
    assert_eq!((date.before, date.after.as_str()), (None, "108/04/03"));
    let record = fx.portal.personal_record(&s).expect("record");
    let email = field(&record, ProofingCategory::CurrentPost, "email");
    assert_eq!(
        email.value.as_deref(),
        Some("wang.hsiaoming@mail.taipei.gov.tw"),
        "not applied by staging"
    );
    assert_eq!(email.staged.as_deref(), Some("hsiaoming.wang@mail.taipei.gov.tw"));
    fx.portal
        .discard_correction(&s, ProofingCategory::CurrentPost, "reported_on")
        .expect("discarded");
    let record = fx.portal.personal_record(&s).expect("record");
    assert_eq!(
        field(&record, ProofingCategory::CurrentPost, "reported_on").staged,
        None
    );
    // Another person's record knows nothing of Wang's drafts.
    let lin = fx.enrol(Who::Lin);
    let lin_record = fx.portal.personal_record(&lin).expect("record");
    assert_eq!(field(&lin_record, ProofingCategory::CurrentPost, "email").staged, None);
}

#[test]
fn proofing_complete_lands_in_the_officer_todo_at_once() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    assert!(fx.portal.officer_todos(&officer).expect("todos").is_empty());
    fx.portal
        .stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            "hsiaoming.wang@mail.taipei.gov.tw",
        )
        .expect("staged");
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "office_phone", "02-2720-8889#1234")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    assert_eq!(submission.corrections, 2);
    assert_eq!(submission.completed_at.offset_date_time(), fx.clock_now());
    let todos = fx.portal.officer_todos(&officer).expect("todos");
    assert_eq!(todos.len(), 1);
    assert_eq!(todos[0].submission_id, submission.id);
    assert_eq!(todos[0].pending, 2);
    assert_eq!(todos[0].national_id, person(Who::Wang).masked());
    assert_eq!(todos[0].name, "王小明");
    let record = fx.portal.personal_record(&s).expect("record");
    assert_eq!(record.last_proofed, Some(submission.completed_at));
    assert_eq!(
        field(&record, ProofingCategory::CurrentPost, "email").staged,
        None,
        "drafts were submitted"
    );

    let corrections = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections");
    assert_eq!(corrections.len(), 2);
    assert!(corrections.iter().all(|c| c.status == CorrectionStatus::Pending));
    fx.portal
        .process_correction(&officer, corrections[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    assert_eq!(fx.portal.officer_todos(&officer).expect("todos")[0].pending, 1);
    fx.portal
        .process_correction(
            &officer,
            corrections[1].id,
            &CorrectionDecision::Reject {
                reason: "分機號碼有誤".into(),
            },
        )
        .expect("rejected");
    assert!(fx.portal.officer_todos(&officer).expect("todos").is_empty());

    // Proofing with nothing to correct leaves no to-do.
    fx.portal.complete_proofing(&s).expect("complete");
    assert!(fx.portal.officer_todos(&officer).expect("todos").is_empty());
}

#[test]
fn the_officer_query_filters() {
    let fx = Fixture::new();
    fx.register(Who::OfficerA);
    fx.register(Who::Wang);
    fx.register(Who::Lin);
    // 114/06/02: Wang submits one correction.
    let wang = fx.login(Who::Wang);
    fx.portal
        .stage_correction(&wang, ProofingCategory::CurrentPost, "office_phone", "02-2720-1111")
        .expect("staged");
    let wang_submission = fx.portal.complete_proofing(&wang).expect("complete");
    // 114/06/05: Lin submits one, which the officer approves the same day.
    fx.advance(Duration::days(3));
    let lin = fx.login(Who::Lin);
    fx.portal
        .stage_correction(&lin, ProofingCategory::CurrentPost, "office_phone", "02-2720-2222")
        .expect("staged");
    let lin_submission = fx.portal.complete_proofing(&lin).expect("complete");
    let officer = fx.login(Who::OfficerA);
    let c = fx
        .portal
        .submission_corrections(&officer, lin_submission.id)
        .expect("corrections");
    fx.portal
        .process_correction(&officer, c[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    // 114/06/09 23:59 Taipei time: the officer proofs their own record, with nothing to correct.
    fx.clock.set(time::macros::datetime!(2025-06-09 23:59 +8));
    let officer = fx.login(Who::OfficerA);
    fx.portal.complete_proofing(&officer).expect("complete");

    let q = |query: ProofingQuery| names(&fx.portal.proofing_query(&officer, &query).expect("query").items);
    let all = ["陳美玲", "王小明", "林怡君", "黃建國"];
    // Current employees only: the retired one is not listed.
    assert_eq!(q(ProofingQuery::default()), sorted(all.to_vec()));
    assert_eq!(
        q(ProofingQuery {
            unit: Some("檢查".into()),
            ..Default::default()
        }),
        sorted(vec!["王小明", "黃建國"])
    );
    assert_eq!(
        q(ProofingQuery {
            unit: Some("人事".into()),
            ..Default::default()
        }),
        sorted(vec!["陳美玲"])
    );
    let proofed = |from: &str, to: &str| {
        q(ProofingQuery {
            from: Some(date(from)),
            to: Some(date(to)),
            proofed: Some(true),
            ..Default::default()
        })
    };
    // Both ends of the range are inclusive.
    assert_eq!(proofed("114/06/02", "114/06/02"), sorted(vec!["王小明"]));
    assert_eq!(proofed("114/06/03", "114/06/05"), sorted(vec!["林怡君"]));
    assert_eq!(proofed("114/06/03", "114/06/04"), Vec::<String>::new());
    assert_eq!(proofed("114/06/05", "114/06/09"), sorted(vec!["林怡君", "陳美玲"]));
    assert_eq!(
        proofed("101/01/01", "114/06/16"),
        sorted(vec!["王小明", "林怡君", "陳美玲"])
    );
    assert_eq!(
        q(ProofingQuery {
            from: Some(date("114/06/03")),
            to: Some(date("114/06/09")),
            proofed: Some(false),
            ..Default::default()
        }),
        sorted(vec!["王小明", "黃建國"])
    );
    assert_eq!(
        q(ProofingQuery {
            processed: Some(false),
            ..Default::default()
        }),
        sorted(vec!["王小明"])
    );
    assert_eq!(
        q(ProofingQuery {
            processed: Some(true),
            ..Default::default()
        }),
        sorted(vec!["林怡君", "陳美玲"])
    );
    assert_eq!(
        q(ProofingQuery {
            unit: Some("檢查".into()),
            processed: Some(false),
            ..Default::default()
        }),
        sorted(vec!["王小明"])
    );

    let rows = fx
        .portal
        .proofing_query(&officer, &ProofingQuery::default())
        .expect("query")
        .items;
    let row = rows.iter().find(|r| r.name == "王小明").expect("row");
    assert_eq!(row.national_id, person(Who::Wang).masked());
    assert_eq!(row.unit.as_deref(), Some("勞動檢查處"));
    assert_eq!(row.submission_id, Some(wang_submission.id));
    assert_eq!(row.proofed_on, Some(date("114/06/02")));
    assert_eq!((row.corrections, row.pending), (1, 1));
    let row = rows.iter().find(|r| r.name == "陳美玲").expect("row");
    assert_eq!(
        row.proofed_on,
        Some(date("114/06/09")),
        "the Taipei day, not the UTC day"
    );
    let row = rows.iter().find(|r| r.name == "黃建國").expect("row");
    assert_eq!((row.submission_id, row.proofed_on), (None, None));
}

#[test]
fn approval_applies_and_the_next_notice_goes_to_the_new_address() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.ready(Who::Wang);
    let new = "hsiaoming.wang@mail.taipei.gov.tw";
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", new)
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");

    // Until the officer approves, notices still go to the recorded address.
    fx.portal
        .issue_award_order(
            &officer,
            &order(
                Who::Wang,
                "114/05/02",
                "北市勞人字第1146000001號",
                AwardKind::Commendation,
                1,
            ),
        )
        .expect("issued");
    let mails = fx.deliver();
    assert_eq!(mails.last().expect("notice").to, "wang.hsiaoming@mail.taipei.gov.tw");

    let c = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].before.as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
    assert_eq!(c[0].after, new);
    assert_eq!(c[0].label_zh, "電子郵件信箱");
    assert_eq!(c[0].national_id, person(Who::Wang).masked());
    let done = fx
        .portal
        .process_correction(&officer, c[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    assert_eq!(done.status, CorrectionStatus::Approved);
    assert_eq!(done.processed_at.map(|t| t.offset_date_time()), Some(fx.clock_now()));
    assert_eq!(email_of(&fx, &s).as_deref(), Some(new));

    let o = fx
        .portal
        .issue_award_order(
            &officer,
            &order(
                Who::Wang,
                "114/05/03",
                "北市勞人字第1146000002號",
                AwardKind::Commendation,
                1,
            ),
        )
        .expect("issued");
    assert_eq!(
        fx.sql_text(
            "SELECT to_addr FROM outbox WHERE kind = 'award_notice' AND ref_id = CAST(? AS INTEGER)",
            &o.summary.id.to_string()
        )
        .as_deref(),
        Some(new)
    );
    let mails = fx.deliver();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, new);
    assert_eq!(
        mails[0].subject,
        format!("{}114/05/03個人獎勵令通知信(非社交工程演練)", support::AGENCY_A_NAME)
    );
}

#[test]
fn rejection_needs_a_reason_and_changes_nothing() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            "someone.else@example.com.tw",
        )
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let id = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections")[0]
        .id;
    for reason in ["", "   "] {
        expect_code(
            fx.portal
                .process_correction(&officer, id, &CorrectionDecision::Reject { reason: reason.into() }),
            ErrorCode::RejectReasonRequired,
        );
    }
    let c = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections");
    assert_eq!(
        c[0].status,
        CorrectionStatus::Pending,
        "a refused rejection processed nothing"
    );
    let done = fx
        .portal
        .process_correction(
            &officer,
            id,
            &CorrectionDecision::Reject {
                reason: "非本人公務信箱".into(),
            },
        )
        .expect("rejected");
    assert_eq!(done.status, CorrectionStatus::Rejected);
    assert_eq!(done.reject_reason.as_deref(), Some("非本人公務信箱"));
    assert_eq!(email_of(&fx, &s).as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
    assert!(fx.portal.officer_todos(&officer).expect("todos").is_empty());
}

#[test]
fn the_employee_sees_each_outcome_and_corrects_a_rejected_field_again() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    assert!(fx.portal.my_corrections(&s).expect("none yet").is_empty());
    fx.portal
        .stage_correction(
            &s,
            ProofingCategory::CurrentPost,
            "email",
            "wang.other@mail.taipei.gov.tw",
        )
        .expect("staged");
    let first = fx.portal.complete_proofing(&s).expect("complete");
    let mine = fx.portal.my_corrections(&s).expect("mine");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, CorrectionStatus::Pending);
    assert_eq!(mine[0].after, "wang.other@mail.taipei.gov.tw");
    let id = mine[0].id;
    fx.portal
        .process_correction(
            &officer,
            id,
            &CorrectionDecision::Reject {
                reason: "非本人公務信箱".into(),
            },
        )
        .expect("rejected");
    let mine = fx.portal.my_corrections(&s).expect("mine");
    assert_eq!(mine[0].status, CorrectionStatus::Rejected);
    assert_eq!(mine[0].reject_reason.as_deref(), Some("非本人公務信箱"));
    assert!(mine[0].processed_at.is_some());

    // Rejected is not the end: the same field is corrected again, as a new correction.
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", "wang.hm@mail.taipei.gov.tw")
        .expect("staged again");
    let second = fx.portal.complete_proofing(&s).expect("complete again");
    assert_ne!(second.id, first.id);
    let mine = fx.portal.my_corrections(&s).expect("mine");
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(
        (mine[0].status, mine[0].after.as_str()),
        (CorrectionStatus::Pending, "wang.hm@mail.taipei.gov.tw")
    );
    assert_eq!(mine[1].status, CorrectionStatus::Rejected);
    fx.portal
        .process_correction(&officer, mine[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    assert_eq!(
        fx.portal.my_corrections(&s).expect("mine")[0].status,
        CorrectionStatus::Approved
    );
    assert_eq!(email_of(&fx, &s).as_deref(), Some("wang.hm@mail.taipei.gov.tw"));
    // Only one's own: another employee sees none of Wang's.
    let li = fx.enrol(Who::Li);
    assert!(fx.portal.my_corrections(&li).expect("Li's").is_empty());
}

#[test]
fn a_correction_is_processed_once() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", "first@example.com.tw")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let id = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections")[0]
        .id;
    fx.portal
        .process_correction(&officer, id, &CorrectionDecision::Approve)
        .expect("approved");
    expect_code(
        fx.portal.process_correction(&officer, id, &CorrectionDecision::Approve),
        ErrorCode::CorrectionAlreadyProcessed,
    );
    expect_code(
        fx.portal.process_correction(
            &officer,
            id,
            &CorrectionDecision::Reject {
                reason: "改判".into()
            },
        ),
        ErrorCode::CorrectionAlreadyProcessed,
    );
    let c = &fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections")[0];
    assert_eq!(c.status, CorrectionStatus::Approved);
    assert_eq!(c.reject_reason, None);
    assert_eq!(email_of(&fx, &s).as_deref(), Some("first@example.com.tw"));
    assert_eq!(
        fx.sql_int(&format!(
            "SELECT pending FROM proofing_submissions WHERE id = {}",
            submission.id
        )),
        0,
        "the pending counter went down once"
    );
    expect_code(
        fx.portal
            .process_correction(&officer, 999_999, &CorrectionDecision::Approve),
        ErrorCode::CorrectionNotFound,
    );
}

#[test]
fn another_agency_sees_and_touches_nothing() {
    let fx = Fixture::new();
    let officer_a = fx.enrol(Who::OfficerA);
    let officer_b = fx.enrol(Who::OfficerB);
    let s = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", "hijack@example.com.tw")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let id = fx
        .portal
        .submission_corrections(&officer_a, submission.id)
        .expect("corrections")[0]
        .id;

    expect_code(
        fx.portal
            .process_correction(&officer_b, id, &CorrectionDecision::Approve),
        ErrorCode::CorrectionNotFound,
    );
    expect_code(
        fx.portal
            .process_correction(&officer_b, id, &CorrectionDecision::Reject { reason: "x".into() }),
        ErrorCode::CorrectionNotFound,
    );
    expect_code(
        fx.portal.submission_corrections(&officer_b, submission.id),
        ErrorCode::CorrectionNotFound,
    );
    assert!(fx.portal.officer_todos(&officer_b).expect("todos").is_empty());
    let rows = fx
        .portal
        .proofing_query(
            &officer_b,
            &ProofingQuery {
                unit: Some("檢查".into()),
                ..Default::default()
            },
        )
        .expect("query")
        .items;
    assert!(rows.is_empty(), "A's 勞動檢查處 is not B's: {rows:?}");
    // Asking for agency A by its code is refused outright.
    expect_code(
        fx.portal.proofing_query(
            &officer_b,
            &ProofingQuery {
                agency: Some(AgencyCode::parse(support::AGENCY_A).expect("code")),
                ..Default::default()
            },
        ),
        ErrorCode::AccessDenied,
    );
    let own = ProofingQuery {
        agency: Some(AgencyCode::parse(support::AGENCY_B).expect("code")),
        ..Default::default()
    };
    assert_eq!(
        names(&fx.portal.proofing_query(&officer_b, &own).expect("query").items).len(),
        2
    );
    let rows = fx
        .portal
        .proofing_query(&officer_b, &ProofingQuery::default())
        .expect("query")
        .items;
    assert_eq!(names(&rows), sorted(vec!["張志明", "李淑芬"]));
    // Nothing changed by the attempts.
    assert_eq!(email_of(&fx, &s).as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
    assert_eq!(fx.portal.officer_todos(&officer_a).expect("todos")[0].pending, 1);
}

#[test]
fn an_employee_is_not_an_officer() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", "mine@example.com.tw")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let id = fx.sql_int("SELECT max(id) FROM proofing_corrections");
    expect_code(
        fx.portal.proofing_query(&s, &ProofingQuery::default()),
        ErrorCode::NotPersonnelOfficer,
    );
    expect_code(fx.portal.officer_todos(&s), ErrorCode::NotPersonnelOfficer);
    expect_code(
        fx.portal.submission_corrections(&s, submission.id),
        ErrorCode::NotPersonnelOfficer,
    );
    // Approving one's own correction is an officer's job.
    expect_code(
        fx.portal.process_correction(&s, id, &CorrectionDecision::Approve),
        ErrorCode::NotPersonnelOfficer,
    );
    expect_code(
        fx.portal.agency_employees(&s, ecpa::portal::PageRequest::default()),
        ErrorCode::NotPersonnelOfficer,
    );
    assert_eq!(email_of(&fx, &s).as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw"));
}

#[test]
fn a_later_submission_does_not_hide_waiting_corrections_from_the_query() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(&wang, ProofingCategory::CurrentPost, "office_phone", "02-2720-1111")
        .expect("staged");
    fx.portal.complete_proofing(&wang).expect("complete");
    // The next day Wang proofs again and finds nothing more to correct.
    fx.advance(Duration::days(1));
    let wang = fx.login(Who::Wang);
    let officer_again = fx.login(Who::OfficerA);
    fx.portal.complete_proofing(&wang).expect("complete");
    drop(officer);
    let waiting = fx
        .portal
        .proofing_query(
            &officer_again,
            &ProofingQuery {
                processed: Some(false),
                ..Default::default()
            },
        )
        .expect("query")
        .items;
    assert_eq!(
        names(&waiting),
        sorted(vec!["王小明"]),
        "Wang's first correction still waits"
    );
    assert_eq!(waiting[0].pending, 1);
    let done = fx
        .portal
        .proofing_query(
            &officer_again,
            &ProofingQuery {
                processed: Some(true),
                ..Default::default()
            },
        )
        .expect("query")
        .items;
    assert!(names(&done).is_empty(), "{done:?}");
    assert_eq!(fx.portal.officer_todos(&officer_again).expect("todos").len(), 1);
}

#[test]
fn racing_decisions_on_one_correction_apply_once() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "email", "raced@example.com.tw")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let id = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections")[0]
        .id;
    let results = support::race(6, |i| {
        let decision = if i % 2 == 0 {
            CorrectionDecision::Approve
        } else {
            CorrectionDecision::Reject {
                reason: "不符".into()
            }
        };
        fx.portal.process_correction(&officer, id, &decision)
    });
    let (ok, codes) = support::outcomes(&results);
    assert_eq!(ok, 1, "{codes:?}");
    assert!(
        codes.iter().all(|c| *c == ErrorCode::CorrectionAlreadyProcessed),
        "{codes:?}"
    );
    assert_eq!(
        fx.sql_int(&format!(
            "SELECT pending FROM proofing_submissions WHERE id = {}",
            submission.id
        )),
        0
    );
    assert_eq!(count(&fx, "audit WHERE action = 'proofing.process'"), 1);
    let done = results.iter().find_map(|r| r.as_ref().ok()).expect("the decision");
    let applied = email_of(&fx, &s);
    match done.status {
        CorrectionStatus::Approved => assert_eq!(applied.as_deref(), Some("raced@example.com.tw")),
        _ => assert_eq!(applied.as_deref(), Some("wang.hsiaoming@mail.taipei.gov.tw")),
    }
}

#[test]
fn the_unit_filter_is_text_not_a_pattern() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let q = |unit: &str| {
        fx.portal
            .proofing_query(
                &officer,
                &ProofingQuery {
                    unit: Some(unit.into()),
                    ..Default::default()
                },
            )
            .expect("query")
            .items
    };
    assert!(q("%").is_empty(), "% is a character, not a wildcard");
    assert!(q("_").is_empty(), "_ is a character, not a wildcard");
    assert!(!q("檢查").is_empty(), "a part of a unit name still matches");
}

#[test]
fn the_current_post_follows_the_directory_until_a_correction_is_approved() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let s = fx.ready(Who::Wang);
    let unit = |key| {
        field(
            &fx.portal.personal_record(&s).expect("record"),
            ProofingCategory::CurrentPost,
            key,
        )
        .value
    };
    assert_eq!(unit("serving_unit").as_deref(), Some("勞動檢查處"));
    // The directory's value is the record's: proposing it again changes nothing.
    expect_code(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "serving_unit", "勞動檢查處"),
        ErrorCode::ProofingValueUnchanged,
    );
    fx.portal
        .stage_correction(&s, ProofingCategory::CurrentPost, "serving_unit", "勞動條件科")
        .expect("staged");
    let submission = fx.portal.complete_proofing(&s).expect("complete");
    let c = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections");
    assert_eq!(c[0].before.as_deref(), Some("勞動檢查處"));
    fx.portal
        .process_correction(&officer, c[0].id, &CorrectionDecision::Approve)
        .expect("approved");

    // The directory moves Wang to another unit: the post held follows it, the approved unit
    // actually served stays, and the import wrote nothing into the record.
    let p = person(Who::Wang);
    let moved = format!(
        "agency_code,agency_name,unit,national_id,name,title,email,status\n{},{},秘書室,{},{},{},{},在職\n",
        support::AGENCY_A,
        support::AGENCY_A_NAME,
        p.id.reveal(),
        p.name,
        p.title,
        p.email.unwrap_or("")
    );
    fx.portal.import_directory_csv(moved.as_bytes()).expect("imports");
    assert_eq!(unit("occupying_unit").as_deref(), Some("秘書室"));
    assert_eq!(unit("serving_unit").as_deref(), Some("勞動條件科"));
    assert_eq!(unit("serving_agency").as_deref(), Some(support::AGENCY_A_NAME));
    assert_eq!(
        fx.sql_int("SELECT count(*) FROM record_fields WHERE category = 'current_post'"),
        1,
        "only the approved correction is the record's own"
    );
}

#[test]
fn migration_5_drops_copies_of_the_directory_and_keeps_corrections() {
    // The records of schema 4, where every directory write copied the agency and unit into them:
    // copies equal to the directory go, a differing (approved) value stays.
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecpa.db");
    let portal = ecpa::portal::LocalPortal::open(&db).expect("portal");
    portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("imports");
    drop(portal);
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    let wang = person(Who::Wang).id.reveal().to_owned();
    conn.execute_batch(&format!(
        "INSERT INTO record_fields (employee_id, category, field, value)
         SELECT e.id, 'current_post', f.field, CASE WHEN f.field LIKE '%agency' THEN a.name ELSE u.name END
         FROM employees e JOIN agencies a ON a.code = e.agency_code JOIN units u ON u.id = e.unit_id,
              (SELECT 'occupying_agency' AS field UNION SELECT 'serving_agency' UNION SELECT 'occupying_unit'
               UNION SELECT 'serving_unit') f;
         UPDATE record_fields SET value = '勞動條件科'
         WHERE field = 'serving_unit' AND employee_id = (SELECT id FROM employees WHERE national_id = '{wang}');"
    ))
    .expect("schema 4 state");
    assert!(
        conn.query_row("SELECT count(*) FROM record_fields", [], |r| r.get::<_, i64>(0))
            .expect("count")
            > 4
    );
    // Migration 5 as `migrate` runs it on such a database (it has no placeholders).
    let v5 = ecpa::store::schema::MIGRATIONS
        .iter()
        .find(|m| m.version == 5)
        .expect("migration 5");
    conn.execute_batch(v5.sql).expect("migration 5 runs");
    let left: Vec<(String, String)> = conn
        .prepare("SELECT field, value FROM record_fields")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(left, vec![("serving_unit".to_owned(), "勞動條件科".to_owned())]);
}

#[test]
fn an_officer_neither_awards_nor_approves_themself_unless_the_portal_allows_it() {
    let attempt = |fx: &Fixture| {
        let officer = fx.ready(Who::OfficerA);
        let to_self = fx.portal.issue_award_order(
            &officer,
            &order(
                Who::OfficerA,
                "114/05/02",
                "北市勞人字第1146000901號",
                AwardKind::MajorMerit,
                1,
            ),
        );
        let in_bulk = fx.portal.issue_award_orders(
            &officer,
            &[
                order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000902號",
                    AwardKind::Commendation,
                    1,
                ),
                order(
                    Who::OfficerA,
                    "114/05/02",
                    "北市勞人字第1146000903號",
                    AwardKind::Commendation,
                    1,
                ),
            ],
        );
        fx.portal
            .stage_correction(&officer, ProofingCategory::CurrentPost, "office_phone", "02-2720-0001")
            .expect("staged");
        let submission = fx.portal.complete_proofing(&officer).expect("complete");
        let c = fx
            .portal
            .submission_corrections(&officer, submission.id)
            .expect("corrections");
        let decided = fx
            .portal
            .process_correction(&officer, c[0].id, &CorrectionDecision::Approve);
        (to_self.map(drop), in_bulk.map(drop), decided.map(drop))
    };

    // By default: refused, and nothing of it written.
    let fx = Fixture::new();
    let (one, bulk, decided) = attempt(&fx);
    expect_code(one, ErrorCode::SelfApprovalRefused);
    expect_code(bulk, ErrorCode::SelfApprovalRefused);
    expect_code(decided, ErrorCode::SelfApprovalRefused);
    assert_eq!(count(&fx, "award_orders"), 0, "the bulk batch is all or nothing");
    assert_eq!(count(&fx, "proofing_corrections WHERE status = 'pending'"), 1);

    // An agency of one officer: allowed, and each act marked in the audit trail.
    let fx = Fixture::with_config(ecpa::portal::PortalConfig {
        allow_self_approval: true,
        ..support::fast_config()
    });
    let (one, bulk, decided) = attempt(&fx);
    one.expect("issued to themself");
    bulk.expect("bulk, one to themself");
    decided.expect("approved their own correction");
    assert_eq!(
        fx.sql_int("SELECT count(*) FROM audit WHERE detail LIKE '%self-approval%'"),
        3
    );
}

#[test]
fn proofing_complete_with_nothing_staged_counts_once_a_day_and_creates_nothing_more() {
    let fx = Fixture::new();
    let s = fx.ready(Who::Wang);
    let first = fx.portal.complete_proofing(&s).expect("complete");
    assert_eq!(first.corrections, 0);
    // Pressed again (a double click, a script): the same submission, nothing new.
    for _ in 0..5 {
        let again = fx.portal.complete_proofing(&s).expect("complete again");
        assert_eq!(again.id, first.id);
    }
    assert_eq!(fx.sql_int("SELECT count(*) FROM proofing_submissions"), 1);
    assert_eq!(fx.sql_int("SELECT count(*) FROM todos"), 0);
    assert_eq!(
        fx.sql_int("SELECT count(*) FROM audit WHERE action = 'proofing.complete'"),
        1
    );
    // The next day it is a new day's proofing.
    fx.advance(time::Duration::days(1));
    let s = fx.login(Who::Wang);
    let next = fx.portal.complete_proofing(&s).expect("next day");
    assert_ne!(next.id, first.id);
}

/// 臺北市政府社會局, a sibling of 勞動局 under 臺北市政府, with one person.
const AGENCY_C: &str = "379100000G";

/// The fixture's agencies put in a tree: 勞動局 (A) and 社會局 (C) under 臺北市政府 (B).
fn tree(fx: &Fixture) {
    let c_person = support::make_id('M', "12121212");
    let csv = format!(
        "agency_code,agency_name,unit,national_id,name,title,email,status,parent_agency\n\
         {AGENCY_C},臺北市政府社會局,社會救助科,{c_person},張社工,科員,chang@mail.taipei.gov.tw,在職,{b}\n\
         {a},{a_name},{unit},{wang},{wang_name},{title},{email},在職,{b}\n",
        b = support::AGENCY_B,
        a = support::AGENCY_A,
        a_name = support::AGENCY_A_NAME,
        unit = person(Who::Wang).unit,
        wang = person(Who::Wang).id.reveal(),
        wang_name = person(Who::Wang).name,
        title = person(Who::Wang).title,
        email = person(Who::Wang).email.unwrap_or(""),
    );
    fx.portal
        .import_directory_csv(csv.as_bytes())
        .expect("the tree imports");
}

#[test]
fn a_parent_office_queries_and_processes_the_agencies_below_it() {
    let fx = Fixture::new();
    tree(&fx);
    let wang = fx.enrol(Who::Wang);
    fx.portal
        .stage_correction(
            &wang,
            ProofingCategory::CurrentPost,
            "email",
            "hsiaoming.wang@mail.taipei.gov.tw",
        )
        .expect("staged");
    let submission = fx.portal.complete_proofing(&wang).expect("complete");
    let parent = fx.enrol(Who::OfficerB);
    let child = fx.enrol(Who::OfficerA);

    // The parent's 機關代號 list: its own, then those below.
    let codes: Vec<String> = fx
        .portal
        .officer_agencies(&parent)
        .expect("agencies")
        .into_iter()
        .map(|a| a.code)
        .collect();
    assert_eq!(codes[0], support::AGENCY_B);
    assert_eq!(
        sorted(codes[1..].iter().map(String::as_str).collect()),
        sorted(vec![support::AGENCY_A, AGENCY_C])
    );
    let child_codes: Vec<String> = fx
        .portal
        .officer_agencies(&child)
        .expect("agencies")
        .into_iter()
        .map(|a| a.code)
        .collect();
    assert_eq!(child_codes, [support::AGENCY_A], "nothing above or beside");

    // The parent queries one agency below it, or all of them; each row says its agency.
    let in_a = ProofingQuery {
        agency: Some(AgencyCode::parse(support::AGENCY_A).expect("code")),
        proofed: Some(true),
        ..Default::default()
    };
    let rows = fx.portal.proofing_query(&parent, &in_a).expect("query").items;
    assert_eq!(names(&rows), ["王小明"]);
    assert_eq!(rows[0].agency_code, support::AGENCY_A);
    let all = fx
        .portal
        .proofing_query(&parent, &ProofingQuery::default())
        .expect("query");
    assert!(all.items.iter().any(|r| r.agency_code == AGENCY_C), "{:?}", all.items);
    assert!(all.items.iter().any(|r| r.agency_code == support::AGENCY_B));
    // …sees its to-do item, reads and processes the correction.
    let todos = fx.portal.officer_todos(&parent).expect("todos");
    assert_eq!(todos.len(), 1);
    let c = fx.portal.submission_corrections(&parent, submission.id).expect("read")[0].id;
    fx.portal
        .process_correction(&parent, c, &CorrectionDecision::Approve)
        .expect("the parent office processes it");

    // The child's officer never reaches up or sideways.
    for agency in [support::AGENCY_B, AGENCY_C] {
        expect_code(
            fx.portal.proofing_query(
                &child,
                &ProofingQuery {
                    agency: Some(AgencyCode::parse(agency).expect("code")),
                    ..Default::default()
                },
            ),
            ErrorCode::AccessDenied,
        );
    }
    let own = fx
        .portal
        .proofing_query(&child, &ProofingQuery::default())
        .expect("query");
    assert!(
        own.items.iter().all(|r| r.agency_code == support::AGENCY_A),
        "{:?}",
        own.items
    );
}

#[test]
fn the_tree_refuses_an_unknown_parent_a_circle_and_an_agency_of_its_own() {
    let fx = Fixture::new();
    tree(&fx);
    let line = |agency: &str, name: &str, parent: &str| {
        format!(
            "agency_code,agency_name,unit,national_id,name,title,email,status,parent_agency\n\
             {agency},{name},科,{},某甲,科員,,在職,{parent}\n",
            support::make_id('N', "13131313")
        )
    };
    expect_code(
        fx.portal
            .import_directory_csv(line(AGENCY_C, "臺北市政府社會局", "999999999Z").as_bytes()),
        ErrorCode::AgencyNotFound,
    );
    // 臺北市政府 under 社會局, which is under 臺北市政府: a circle.
    expect_code(
        fx.portal
            .import_directory_csv(line(support::AGENCY_B, support::AGENCY_B_NAME, AGENCY_C).as_bytes()),
        ErrorCode::FieldInvalid,
    );
    let e = fx
        .portal
        .import_directory_csv(line(AGENCY_C, "臺北市政府社會局", AGENCY_C).as_bytes())
        .expect_err("its own parent");
    assert_eq!(e.code(), ErrorCode::CsvInvalid, "{e}");
    // Nothing of the refused files was kept: 臺北市政府 has no parent.
    let parent = fx.enrol(Who::OfficerB);
    assert_eq!(fx.portal.officer_agencies(&parent).expect("agencies").len(), 3);
    assert_eq!(
        fx.sql_text("SELECT parent_code FROM agencies WHERE code = ?", support::AGENCY_B),
        None
    );
}
