//! The audit trail: changes and officers' reads are recorded with masked IDs; each person sees
//! what was done to their own data, each officer their own agency's; no full ID is ever stored.

mod support;

use ecpa::portal::{AuditEntry, AuditQuery, AwardKind, CorrectionDecision, Portal, ProofingCategory, ProofingQuery};
use ecpa::types::RocDate;
use support::{Fixture, Who, order, person};
use time::Duration;

/// How the trail shows a person: masked ID and name.
fn shown(who: Who) -> String {
    let p = person(who);
    format!("{} {}", p.masked(), p.name)
}

fn actions(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

/// A small history touching agency A (Wang) and agency B (Li).
struct Story {
    fx: Fixture,
    wang: ecpa::portal::SessionToken,
    officer_a: ecpa::portal::SessionToken,
    officer_b: ecpa::portal::SessionToken,
    li: ecpa::portal::SessionToken,
}

fn story() -> Story {
    let fx = Fixture::new();
    let officer_a = fx.ready(Who::OfficerA);
    let officer_b = fx.ready(Who::OfficerB);
    let wang = fx.ready(Who::Wang);
    let li = fx.ready(Who::Li);
    fx.advance(Duration::minutes(1));
    let o = fx
        .portal
        .issue_award_order(
            &officer_a,
            &order(Who::Wang, "114/05/02", "北市勞人字第1146000789號", AwardKind::Merit, 1),
        )
        .expect("issued");
    fx.portal.view_award_order(&wang, o.summary.id).expect("signed");
    fx.portal
        .stage_correction(
            &wang,
            ProofingCategory::CurrentPost,
            "email",
            "hsiaoming.wang@mail.taipei.gov.tw",
        )
        .expect("staged");
    let submission = fx.portal.complete_proofing(&wang).expect("complete");
    fx.portal.agency_employees(&officer_a).expect("list");
    fx.portal
        .proofing_query(&officer_a, &ProofingQuery::default())
        .expect("query");
    fx.portal.unsigned_award_orders(&officer_a).expect("unsigned");
    let c = fx
        .portal
        .submission_corrections(&officer_a, submission.id)
        .expect("read");
    fx.portal
        .process_correction(&officer_a, c[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    fx.portal.agency_employees(&officer_b).expect("list");
    fx.portal
        .stage_correction(&li, ProofingCategory::Basic, "mobile", "0911-222-333")
        .expect("staged");
    fx.portal.complete_proofing(&li).expect("complete");
    Story {
        fx,
        wang,
        officer_a,
        officer_b,
        li,
    }
}

#[test]
fn changes_and_officer_reads_are_recorded_with_masked_ids() {
    let s = story();
    let trail =
        s.fx.portal
            .audit_trail(&s.officer_a, &AuditQuery::default())
            .expect("trail");
    let find = |action: &str| {
        trail
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} in {:?}", actions(&trail)))
    };
    // Changes, with who did what to whom.
    let issue = find("award.issue");
    assert_eq!(issue.actor.as_deref(), Some(shown(Who::OfficerA).as_str()));
    assert_eq!(issue.subject.as_deref(), Some(shown(Who::Wang).as_str()));
    assert!(issue.object.as_deref().is_some_and(|o| o.starts_with("award_order:")));
    let process = find("proofing.process");
    assert_eq!(process.actor.as_deref(), Some(shown(Who::OfficerA).as_str()));
    assert_eq!(process.subject.as_deref(), Some(shown(Who::Wang).as_str()));
    assert_eq!(process.detail.as_deref(), Some("approved"));
    let sign = find("award.sign");
    assert_eq!(sign.actor.as_deref(), Some(shown(Who::Wang).as_str()));
    for action in ["consent.give", "proofing.complete", "login"] {
        find(action);
    }
    // The officer's reads of others' data.
    let read = find("proofing.read");
    assert_eq!(read.subject.as_deref(), Some(shown(Who::Wang).as_str()));
    for action in ["directory.list", "proofing.query", "award.unsigned_list"] {
        assert_eq!(find(action).actor.as_deref(), Some(shown(Who::OfficerA).as_str()));
    }
    // Reading the trail is itself recorded.
    let again =
        s.fx.portal
            .audit_trail(&s.officer_a, &AuditQuery::default())
            .expect("trail");
    assert_eq!(again[0].action, "audit.read");
}

#[test]
fn an_employee_sees_entries_about_themself_only() {
    let s = story();
    let trail = s.fx.portal.audit_trail(&s.wang, &AuditQuery::default()).expect("trail");
    assert!(!trail.is_empty());
    let me = shown(Who::Wang);
    for e in &trail {
        assert_eq!(e.subject.as_deref(), Some(me.as_str()), "{e:?}");
    }
    let acts = actions(&trail);
    for action in [
        "award.issue",
        "proofing.read",
        "proofing.process",
        "award.sign",
        "consent.give",
        "login",
    ] {
        assert!(acts.contains(&action), "{action} missing from {acts:?}");
    }
    // Officer-wide reads name no one and are not shown to the employee.
    assert!(
        !acts.contains(&"proofing.query") && !acts.contains(&"directory.list"),
        "{acts:?}"
    );
    // Li sees none of it.
    let li = s.fx.portal.audit_trail(&s.li, &AuditQuery::default()).expect("trail");
    assert!(!li.is_empty());
    assert!(
        li.iter().all(|e| e.subject.as_deref() == Some(shown(Who::Li).as_str())),
        "{li:?}"
    );
}

#[test]
fn an_officer_sees_their_own_agency_only() {
    let s = story();
    let a =
        s.fx.portal
            .audit_trail(&s.officer_a, &AuditQuery::default())
            .expect("trail");
    let b =
        s.fx.portal
            .audit_trail(&s.officer_b, &AuditQuery::default())
            .expect("trail");
    let mentions = |entries: &[AuditEntry], who: Who| {
        let p = shown(who);
        entries
            .iter()
            .any(|e| e.actor.as_deref() == Some(p.as_str()) || e.subject.as_deref() == Some(p.as_str()))
    };
    assert!(mentions(&a, Who::Wang) && mentions(&a, Who::OfficerA));
    assert!(!mentions(&a, Who::Li) && !mentions(&a, Who::OfficerB), "{a:?}");
    assert!(mentions(&b, Who::Li) && mentions(&b, Who::OfficerB));
    assert!(!mentions(&b, Who::Wang) && !mentions(&b, Who::OfficerA), "{b:?}");
}

#[test]
fn no_entry_holds_a_full_national_id() {
    let s = story();
    let ids: Vec<String> = Who::DIRECTORY
        .iter()
        .chain([Who::Outsider].iter())
        .map(|w| person(*w).id.reveal().to_owned())
        .collect();
    let rows: Vec<String> = s
        .fx
        .rows("SELECT coalesce(action, '') || '|' || coalesce(object, '') || '|' || coalesce(detail, '') || '|' || coalesce(agency_code, '') FROM audit", &[])
        .iter()
        .map(|r| r.text(0).expect("text"))
        .collect();
    assert!(rows.len() > 15, "{rows:?}");
    for row in &rows {
        for id in &ids {
            assert!(!row.contains(id.as_str()), "{row}");
        }
    }
    for token in [&s.wang, &s.officer_a, &s.officer_b, &s.li] {
        for e in s.fx.portal.audit_trail(token, &AuditQuery::default()).expect("trail") {
            let text = format!("{e:?} {}", serde_json::to_string(&e).expect("json"));
            for id in &ids {
                assert!(!text.contains(id.as_str()), "{text}");
            }
        }
    }
}

#[test]
fn the_trail_filters_by_day_action_and_limit() {
    let s = story();
    let fx = &s.fx;
    fx.advance(Duration::days(2));
    let wang = fx.login(Who::Wang);
    let today = fx.today();
    let only_today = fx
        .portal
        .audit_trail(
            &wang,
            &AuditQuery {
                from: Some(today),
                to: Some(today),
                ..Default::default()
            },
        )
        .expect("trail");
    assert_eq!(actions(&only_today), vec!["login"]);
    let before = fx
        .portal
        .audit_trail(
            &wang,
            &AuditQuery {
                to: Some(RocDate::parse("114/06/02").expect("date")),
                action: Some("award.issue".into()),
                ..Default::default()
            },
        )
        .expect("trail");
    assert_eq!(actions(&before), vec!["award.issue"]);
    let newest = fx
        .portal
        .audit_trail(
            &wang,
            &AuditQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .expect("trail");
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[0].action, "login", "newest first");
}

#[test]
fn nothing_returned_printed_or_mailed_shows_a_full_national_id() {
    let s = story();
    let fx = &s.fx;
    let ids: Vec<String> = Who::DIRECTORY
        .iter()
        .chain([Who::Outsider].iter())
        .map(|w| person(*w).id.reveal().to_owned())
        .collect();
    let officer = &s.officer_a;
    let d = |v: &dyn std::fmt::Debug| format!("{v:?}");
    let mut seen = vec![
        d(&fx.portal.session_info(&s.wang).expect("info")),
        d(&fx.portal.personal_record(&s.wang).expect("record")),
        d(&fx.portal.award_history(&s.wang).expect("history")),
        d(&fx.portal.unviewed_award_orders(&s.wang).expect("list")),
        d(&fx.portal.view_award_order(&s.wang, 1).expect("order")),
        d(&fx.portal.unsigned_award_orders(officer).expect("list")),
        d(&fx.portal.officer_todos(officer).expect("todos")),
        d(&fx
            .portal
            .proofing_query(officer, &ProofingQuery::default())
            .expect("query")),
        d(&fx.portal.submission_corrections(officer, 1).expect("corrections")),
    ];
    let mut show = |what: &str, text: String| seen.push(format!("{what}: {text}"));
    let employees = fx.portal.agency_employees(officer).expect("list");
    show("employees json", serde_json::to_string(&employees).expect("json"));
    for who in Who::DIRECTORY {
        let p = person(who);
        show("card", format!("{:?}", p.card_data()));
        show("form", format!("{:?}", fx.form(who)));
        show("id", format!("{:?} {}", p.id, p.id));
    }
    // Errors that name a person.
    let foreign = order(Who::Li, "114/05/02", "府人考字第1146000001號", AwardKind::Merit, 1);
    let e = fx.portal.issue_award_order(officer, &foreign).expect_err("not A's");
    show("error", format!("{e:?} {e} {}", e.message(ecpa::types::Lang::En)));
    let dup = order(Who::Wang, "114/05/02", "北市勞人字第1146000789號", AwardKind::Merit, 1);
    let e = fx.portal.issue_award_order(officer, &dup).expect_err("duplicate");
    show("error", format!("{e:?} {e} {}", e.message(ecpa::types::Lang::ZhTw)));
    // Every mail the portal sent: confirmations, resets, notices.
    let registered = ecpa::portal::ResetDelivery::RegisteredAddress;
    fx.portal
        .request_password_reset(&person(Who::Wang).card_data(), &registered)
        .expect("reset");
    fx.deliver();
    let mails = fx.mailer.messages().expect("maildir");
    assert!(mails.len() > 5, "{mails:?}");
    for m in &mails {
        show("mail", format!("{} {} {}", m.to, m.subject, m.body));
    }
    for text in &seen {
        for id in &ids {
            assert!(!text.contains(id.as_str()), "{text}");
        }
    }
}

#[test]
fn registration_steps_are_audited_with_a_masked_card_number() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let trail = fx.portal.audit_trail(&s, &AuditQuery::default()).expect("trail");
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"registration.start") && actions.contains(&"registration.confirm"),
        "{actions:?}"
    );
    let card = person(Who::Wang).card_data().card_number;
    let objects: Vec<String> = trail.iter().filter_map(|e| e.object.clone()).collect();
    assert!(
        objects.iter().any(|o| o == &format!("nhi_card:{}", card.masked())),
        "{objects:?}"
    );
    assert!(
        objects.iter().all(|o| !o.contains(card.as_str())),
        "a full card number in {objects:?}"
    );
}
