//! The audit trail: changes and officers' reads are recorded with masked IDs; each person sees
//! what was done to their own data, each officer their own agency's; no full ID is ever stored.

mod support;

use ecpa::portal::{
    AuditEntry, AuditQuery, AwardKind, CorrectionDecision, PageRequest, Portal, ProofingCategory, ProofingQuery,
};
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
    fx.portal
        .unsigned_award_orders(&officer_a, ecpa::portal::PageRequest::default())
        .expect("unsigned");
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
    fx.portal
        .agency_employees(&officer_a, ecpa::portal::PageRequest::default())
        .expect("list");
    fx.portal
        .proofing_query(&officer_a, &ProofingQuery::default())
        .expect("query");
    let c = fx
        .portal
        .submission_corrections(&officer_a, submission.id)
        .expect("read");
    fx.portal
        .process_correction(&officer_a, c[0].id, &CorrectionDecision::Approve)
        .expect("approved");
    fx.portal
        .agency_employees(&officer_b, ecpa::portal::PageRequest::default())
        .expect("list");
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
    // The officer's lists that showed Wang are reads of Wang's data, one entry each, told in
    // plain words.
    for action in ["proofing.query", "directory.list", "award.unsigned_list"] {
        let e = trail
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{action} missing from {acts:?}"));
        assert_eq!(e.actor.as_deref(), Some(shown(Who::OfficerA).as_str()));
        let officer = person(Who::OfficerA);
        assert!(
            e.summary_zh
                .starts_with(&format!("{}（{}）", officer.name, officer.masked())),
            "{}",
            e.summary_zh
        );
        assert!(!e.summary_en.contains(action), "no codes in words: {}", e.summary_en);
    }
    let listed = trail.iter().find(|e| e.action == "directory.list").expect("listed");
    assert!(
        listed.summary_zh.ends_with("查閱機關人員名冊時看到您的資料"),
        "{}",
        listed.summary_zh
    );
    assert!(
        listed.summary_en.ends_with("listed the agency's staff, you among them"),
        "{}",
        listed.summary_en
    );
    let login = trail.iter().find(|e| e.action == "login").expect("login");
    assert_eq!(
        (login.summary_zh.as_str(), login.summary_en.as_str()),
        ("您登入系統", "You logged in")
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
        d(&fx
            .portal
            .unsigned_award_orders(officer, ecpa::portal::PageRequest::default())
            .expect("list")
            .items),
        d(&fx.portal.officer_todos(officer).expect("todos")),
        d(&fx
            .portal
            .proofing_query(officer, &ProofingQuery::default())
            .expect("query")
            .items),
        d(&fx.portal.submission_corrections(officer, 1).expect("corrections")),
    ];
    let mut show = |what: &str, text: String| seen.push(format!("{what}: {text}"));
    let employees = fx
        .portal
        .agency_employees(officer, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
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

#[test]
fn bulk_issuance_tells_each_person_of_their_order() {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.enrol(Who::Wang);
    let lin = fx.enrol(Who::Lin);
    let orders = [
        order(
            Who::Wang,
            "114/05/02",
            "北市勞人字第1146000901號",
            AwardKind::Commendation,
            1,
        ),
        order(
            Who::Lin,
            "114/05/02",
            "北市勞人字第1146000902號",
            AwardKind::Commendation,
            1,
        ),
    ];
    let report = fx.portal.issue_award_orders(&officer, &orders).expect("issued");
    for (session, (id, _)) in [(&wang, report.orders[0]), (&lin, report.orders[1])] {
        let trail = fx
            .portal
            .audit_trail(
                session,
                &AuditQuery {
                    action: Some("award.issue".into()),
                    ..Default::default()
                },
            )
            .expect("trail");
        assert_eq!(trail.len(), 1, "{trail:?}");
        assert_eq!(trail[0].object.as_deref(), Some(format!("award_order:{id}").as_str()));
        assert_eq!(trail[0].actor.as_deref(), Some(shown(Who::OfficerA).as_str()));
        assert!(trail[0].summary_zh.ends_with("核發獎勵令"), "{}", trail[0].summary_zh);
    }
}

/// An agency of 250 more people, for the officer's pages.
fn crowd(fx: &Fixture) {
    let mut csv = String::from("agency_code,agency_name,unit,national_id,name,title,email,status\n");
    for i in 0..250 {
        csv.push_str(&format!(
            "{},{},第{}科,{},員工{i:03},科員,,在職\n",
            support::AGENCY_A,
            support::AGENCY_A_NAME,
            i % 5,
            support::make_id('P', &format!("1{:07}", 1000 + i))
        ));
    }
    fx.portal.import_directory_csv(csv.as_bytes()).expect("imported");
}

#[test]
fn officer_lists_come_a_page_at_a_time_and_each_page_is_a_read_of_its_people() {
    let fx = Fixture::new();
    crowd(&fx);
    let officer = fx.enrol(Who::OfficerA);
    let reads = |fx: &Fixture| fx.sql_int("SELECT COUNT(*) FROM audit WHERE action = 'directory.list'");
    let page = |n, size| PageRequest::new(n, size).expect("a page");
    let first = fx
        .portal
        .agency_employees(&officer, PageRequest::default())
        .expect("page 1");
    assert_eq!((first.items.len(), first.page, first.per_page), (100, 1, 100));
    let total = first.total;
    assert!(total > 250, "{total}");
    assert_eq!(reads(&fx), 100, "a read for each person shown, not the agency");
    let last_page = total.div_ceil(100) as u32;
    let last = fx
        .portal
        .agency_employees(&officer, page(last_page, 100))
        .expect("last page");
    assert_eq!(last.items.len() as u64, total - 100 * u64::from(last_page - 1));
    let past = fx
        .portal
        .agency_employees(&officer, page(last_page + 1, 100))
        .expect("past the end");
    assert!(past.items.is_empty() && past.total == total);
    // Pages do not overlap, and together they are everyone.
    let mut seen = std::collections::HashSet::new();
    for n in 1..=total.div_ceil(40) as u32 {
        for e in fx.portal.agency_employees(&officer, page(n, 40)).expect("page") {
            assert!(seen.insert(e.national_id.clone() + &e.name), "{} twice", e.name);
        }
    }
    assert_eq!(seen.len() as u64, total);
    // Never more than 100, never page 0.
    for (n, size) in [(1, 101), (0, 10), (1, 0)] {
        assert!(PageRequest::new(n, size).is_err());
        let e = fx
            .portal
            .agency_employees(
                &officer,
                PageRequest {
                    page: n,
                    per_page: size,
                },
            )
            .expect_err("refused");
        assert_eq!(e.code(), ecpa::ErrorCode::FieldInvalid);
    }
    // The proofing query pages the same way.
    let q = ProofingQuery {
        page: page(2, 100),
        ..Default::default()
    };
    let before = fx.sql_int("SELECT COUNT(*) FROM audit WHERE action = 'proofing.query'");
    let rows = fx.portal.proofing_query(&officer, &q).expect("page 2");
    assert_eq!(rows.items.len(), 100);
    assert_eq!(
        fx.sql_int("SELECT COUNT(*) FROM audit WHERE action = 'proofing.query'") - before,
        100
    );
}

#[test]
fn every_action_the_engine_records_has_plain_words() {
    // Every string literal of the engine's sources that names an action: `login`, or an area
    // of the trail, a dot and the act (`award.sign`).
    const AREAS: [&str; 10] = [
        "account",
        "audit",
        "award",
        "certificate",
        "consent",
        "directory",
        "operator",
        "proofing",
        "record",
        "registration",
    ];
    let is_action = |s: &str| {
        s == "login"
            || s.split_once('.').is_some_and(|(area, act)| {
                AREAS.contains(&area) && !act.is_empty() && act.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
    };
    let mut missing = Vec::new();
    let mut found = std::collections::BTreeSet::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/portal");
    for entry in std::fs::read_dir(&src).expect("src/portal") {
        let path = entry.expect("entry").path();
        // The table of words itself names every action it knows.
        if path.ends_with("trail.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        for literal in text.split('"').skip(1).step_by(2).filter(|s| is_action(s)) {
            if found.insert(literal.to_owned()) && ecpa::portal::trail::describe(literal).is_none() {
                missing.push(format!("{literal} ({})", path.display()));
            }
        }
    }
    assert!(
        found.len() > 30,
        "only {} actions found: the scan is broken",
        found.len()
    );
    assert!(missing.is_empty(), "actions without words: {missing:?}");
}
