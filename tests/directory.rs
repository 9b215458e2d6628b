//! The directory: CSV import (all or nothing, errors by line), officers, left office,
//! re-import, and an officer's list of their own agency.

mod support;

use ecpa::ErrorCode;
use ecpa::portal::{DirectoryImport, Portal};
use ecpa::types::Lang;
use support::{Fixture, Who, count, expect_code, fast_config, make_id, person};

const HEADER: &str = "agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer\n";

/// One CSV line: (agency, unit), then the person.
fn row(
    (agency, unit): (&str, &str),
    id: &str,
    name: &str,
    title: &str,
    email: &str,
    status: &str,
    officer: &str,
) -> String {
    let (left_on, reason) = if status == "卸職" {
        ("113/12/31", "退休")
    } else {
        ("", "")
    };
    let agency_name = if agency == support::AGENCY_A {
        support::AGENCY_A_NAME
    } else {
        support::AGENCY_B_NAME
    };
    format!("{agency},{agency_name},{unit},{id},{name},{title},{email},{status},{left_on},{reason},{officer}\n")
}

#[test]
fn import_reports_what_it_did() {
    let fx = Fixture::empty(fast_config());
    let report = fx
        .portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("imports");
    assert_eq!(
        report,
        DirectoryImport {
            rows: 7,
            agencies: 2,
            created: 7,
            updated: 0,
            officers: 2
        }
    );
    let again = fx
        .portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("imports again");
    assert_eq!(
        again,
        DirectoryImport {
            rows: 7,
            agencies: 0,
            created: 0,
            updated: 7,
            officers: 2
        }
    );
    assert_eq!(count(&fx, "employees"), 7);
    assert_eq!(count(&fx, "officers"), 2);
}

#[test]
fn a_bad_line_fails_the_whole_file_and_names_its_line() {
    let fx = Fixture::empty(fast_config());
    let wang = person(Who::Wang);
    let lin = person(Who::Lin);
    let a = support::AGENCY_A;
    let good1 = row((a, "勞動檢查處"), wang.id.reveal(), "王小明", "科員", "", "在職", "");
    let good2 = row((a, "勞動條件科"), lin.id.reveal(), "林怡君", "技士", "", "在職", "");
    // The check digit is wrong on line 4 (header is line 1).
    let bad_id = row((a, "勞動檢查處"), "A123456780", "錯誤者", "科員", "", "在職", "");
    let csv = format!("{HEADER}{good1}{good2}{bad_id}");
    let e = expect_code(fx.portal.import_directory_csv(csv.as_bytes()), ErrorCode::CsvInvalid);
    assert!(e.message(Lang::ZhTw).contains("第 4 行"), "{}", e.message(Lang::ZhTw));
    assert!(e.message(Lang::En).contains("line 4"), "{}", e.message(Lang::En));
    assert!(
        !e.message(Lang::ZhTw).contains("A123456780"),
        "the error does not echo the ID"
    );
    assert_eq!(count(&fx, "employees"), 0);
    assert_eq!(count(&fx, "agencies"), 0);

    // Several bad lines are all reported.
    let bad_status = row(
        (a, "勞動檢查處"),
        &make_id('C', "10000001"),
        "狀態錯",
        "科員",
        "",
        "休假",
        "",
    );
    let bad_email = row(
        (a, "勞動檢查處"),
        &make_id('C', "10000002"),
        "信箱錯",
        "科員",
        "no-at-sign",
        "在職",
        "",
    );
    let csv = format!("{HEADER}{bad_status}{good1}{bad_email}");
    let e = expect_code(fx.portal.import_directory_csv(csv.as_bytes()), ErrorCode::CsvInvalid);
    let zh = e.message(Lang::ZhTw);
    assert!(
        zh.contains("共 2 行錯誤") && zh.contains("第 2 行") && zh.contains("第 4 行"),
        "{zh}"
    );
    assert_eq!(count(&fx, "employees"), 0);

    // An error found while writing (an officer who has left office) rolls back the lines before it.
    let left_officer = row(
        (a, "人事室"),
        &make_id('C', "10000003"),
        "離職者",
        "人事管理員",
        "",
        "卸職",
        "Y",
    );
    let csv = format!("{HEADER}{good1}{good2}{left_officer}");
    let e = expect_code(fx.portal.import_directory_csv(csv.as_bytes()), ErrorCode::CsvInvalid);
    assert!(e.message(Lang::ZhTw).contains("第 4 行"), "{}", e.message(Lang::ZhTw));
    assert_eq!(count(&fx, "employees"), 0);
    assert_eq!(count(&fx, "agencies"), 0);

    // A missing required column.
    let e = expect_code(
        fx.portal
            .import_directory_csv("agency_code,name\n379130000C,王小明\n".as_bytes()),
        ErrorCode::CsvInvalid,
    );
    assert!(e.message(Lang::ZhTw).contains("缺少欄位"), "{}", e.message(Lang::ZhTw));

    // The good lines alone import; a byte-order mark (Excel) is fine.
    let csv = format!("\u{feff}{HEADER}{good1}{good2}");
    fx.portal.import_directory_csv(csv.as_bytes()).expect("imports");
    assert_eq!(count(&fx, "employees"), 2);
}

#[test]
fn officers_left_office_and_reimport() {
    let fx = Fixture::new();
    let o = fx.enrol(Who::OfficerA);
    assert!(fx.portal.session_info(&o).expect("info").officer);
    fx.register(Who::Retired);
    let retired = person(Who::Retired);
    expect_code(
        fx.portal.login_nhi_card(&retired.card_data(), &retired.pw()),
        ErrorCode::AccountDisabled,
    );
    let list = fx.portal.agency_employees(&o).expect("list");
    let r = list.iter().find(|e| e.name == "吳志豪").expect("listed");
    assert_eq!(r.status, "left");

    // Re-import: Wang's title and address change, the retired one comes back, the officer moves
    // to agency B (and so is no longer A's officer).
    let wang = person(Who::Wang);
    let officer = person(Who::OfficerA);
    let csv = format!(
        "{HEADER}{}{}{}",
        row(
            (support::AGENCY_A, "勞動檢查處"),
            wang.id.reveal(),
            "王小明",
            "股長",
            "wang.new@mail.taipei.gov.tw",
            "在職",
            ""
        ),
        row(
            (support::AGENCY_A, "勞動檢查處"),
            retired.id.reveal(),
            "吳志豪",
            "專員",
            "",
            "在職",
            ""
        ),
        row(
            (support::AGENCY_B, "人事處"),
            officer.id.reveal(),
            "陳美玲",
            "科員",
            "",
            "在職",
            ""
        ),
    );
    let report = fx.portal.import_directory_csv(csv.as_bytes()).expect("imports");
    assert_eq!((report.created, report.updated, report.officers), (0, 3, 0));
    fx.login(Who::Retired);
    expect_code(fx.portal.agency_employees(&o), ErrorCode::NotPersonnelOfficer);
    let info = fx.portal.session_info(&o).expect("info");
    assert_eq!(info.agency_code, support::AGENCY_B);
    assert!(!info.officer);

    let b = fx.enrol(Who::OfficerB);
    assert!(
        fx.portal
            .agency_employees(&b)
            .expect("list")
            .iter()
            .any(|e| e.name == "陳美玲")
    );
    // A new officer for A, set through the import.
    let csv = format!(
        "{HEADER}{}",
        row(
            (support::AGENCY_A, "勞動檢查處"),
            wang.id.reveal(),
            "王小明",
            "股長",
            "wang.new@mail.taipei.gov.tw",
            "在職",
            "Y"
        )
    );
    assert_eq!(
        fx.portal
            .import_directory_csv(csv.as_bytes())
            .expect("imports")
            .officers,
        1
    );
    let w = fx.enrol(Who::Wang);
    let list = fx.portal.agency_employees(&w).expect("list");
    let me = list.iter().find(|e| e.name == "王小明").expect("listed");
    assert_eq!(me.title, "股長");
    assert!(me.has_email);
    assert!(list.iter().all(|e| e.name != "陳美玲"), "moved to B");
}

#[test]
fn an_officer_lists_their_own_agency_with_masked_ids() {
    let fx = Fixture::new();
    let a = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    let list = fx.portal.agency_employees(&a).expect("list");
    let mut names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    names.sort();
    let mut want = vec!["陳美玲", "王小明", "林怡君", "黃建國", "吳志豪"];
    want.sort();
    assert_eq!(names, want);
    for e in &list {
        let who = Who::DIRECTORY
            .into_iter()
            .find(|w| person(*w).name == e.name)
            .expect("known");
        let p = person(who);
        assert_eq!(e.national_id, p.masked());
        assert!(!e.national_id.contains(p.id.last_four()));
        assert_eq!(e.unit.as_deref(), Some(p.unit));
        assert_eq!(e.has_email, p.email.is_some());
        assert_eq!(e.consented, who == Who::Wang);
    }
    let json = serde_json::to_string(&list).expect("json");
    for who in Who::DIRECTORY {
        assert!(!json.contains(person(who).id.reveal()), "{json}");
    }
    let b = fx.enrol(Who::OfficerB);
    let mut names: Vec<String> = fx
        .portal
        .agency_employees(&b)
        .expect("list")
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["張志明".to_owned(), "李淑芬".to_owned()]);
}

#[test]
fn the_officer_column_sets_and_removes_the_role() {
    let fx = Fixture::new();
    let officer = person(Who::OfficerA);
    let email = officer.email.unwrap_or_default();
    let line = |flag: &str| {
        row(
            (support::AGENCY_A, officer.unit),
            officer.id.reveal(),
            officer.name,
            officer.title,
            email,
            "在職",
            flag,
        )
    };
    fx.portal
        .import_directory_csv(format!("{HEADER}{}", line("N")).as_bytes())
        .expect("imports");
    let s = fx.enrol(Who::OfficerA);
    assert!(!fx.portal.session_info(&s).expect("info").officer, "N removes the role");
    expect_code(fx.portal.agency_employees(&s), ErrorCode::NotPersonnelOfficer);

    fx.portal
        .import_directory_csv(format!("{HEADER}{}", line("Y")).as_bytes())
        .expect("imports");
    assert!(fx.portal.session_info(&s).expect("info").officer, "Y sets it again");

    // A file without the column leaves roles as they are.
    let no_column = format!(
        "agency_code,agency_name,unit,national_id,name,title\n{},{},{},{},{},{}\n",
        support::AGENCY_A,
        support::AGENCY_A_NAME,
        officer.unit,
        officer.id.reveal(),
        officer.name,
        officer.title
    );
    fx.portal.import_directory_csv(no_column.as_bytes()).expect("imports");
    assert!(fx.portal.session_info(&s).expect("info").officer);
}
