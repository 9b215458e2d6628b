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
    let list = fx
        .portal
        .agency_employees(&o, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
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
    expect_code(
        fx.portal.agency_employees(&o, ecpa::portal::PageRequest::default()),
        ErrorCode::NotPersonnelOfficer,
    );
    let info = fx.portal.session_info(&o).expect("info");
    assert_eq!(info.agency_code, support::AGENCY_B);
    assert!(!info.officer);

    let b = fx.enrol(Who::OfficerB);
    assert!(
        fx.portal
            .agency_employees(&b, ecpa::portal::PageRequest::default())
            .expect("list")
            .items
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
    let list = fx
        .portal
        .agency_employees(&w, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
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
    let list = fx
        .portal
        .agency_employees(&a, ecpa::portal::PageRequest::default())
        .expect("list")
        .items;
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
        .agency_employees(&b, ecpa::portal::PageRequest::default())
        .expect("list")
        .items
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
    expect_code(
        fx.portal.agency_employees(&s, ecpa::portal::PageRequest::default()),
        ErrorCode::NotPersonnelOfficer,
    );

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

/// The directory as rows that do not depend on numbering: agencies, units, each employee with
/// their unit's name, officers and current-post record fields by national ID.
fn directory_state(fx: &Fixture) -> Vec<Vec<String>> {
    let text = |sql: &str| -> Vec<String> {
        fx.rows(sql, &[])
            .iter()
            .map(|r| {
                (0..r.0.len())
                    .map(|i| r.opt_text(i).ok().flatten().unwrap_or_else(|| format!("{:?}", r.0[i])))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    };
    vec![
        text("SELECT code, name FROM agencies ORDER BY code"),
        text("SELECT agency_code, name FROM units ORDER BY agency_code, name"),
        text(
            "SELECT e.national_id, e.name, e.agency_code, u.name, e.title, e.email, e.status, e.left_on, e.left_reason
             FROM employees e LEFT JOIN units u ON u.id = e.unit_id ORDER BY e.national_id",
        ),
        text(
            "SELECT e.national_id, o.agency_code FROM officers o JOIN employees e ON e.id = o.employee_id
             ORDER BY e.national_id",
        ),
        text(
            "SELECT e.national_id, f.category, f.field, f.value FROM record_fields f JOIN employees e ON e.id = f.employee_id
             ORDER BY e.national_id, f.category, f.field",
        ),
    ]
}

#[test]
fn a_file_imports_exactly_as_its_lines_one_by_one() {
    // Lines that depend on each other: a person twice (moving agency, then leaving office), an
    // agency renamed and renamed back, officers set, moved away and removed, units new and old,
    // people already in the fixture's directory.
    let (a, b) = (support::AGENCY_A, support::AGENCY_B);
    let (new1, new2, new3) = (
        make_id('K', "12345678"),
        make_id('K', "22345678"),
        make_id('K', "12340000"),
    );
    let wang = person(Who::Wang).id.reveal().to_owned();
    let officer_a = person(Who::OfficerA).id.reveal().to_owned();
    let line = |agency: &str, agency_name: &str, unit: &str, id: &str, status: &str, officer: &str| {
        let (left_on, reason) = if status == "卸職" {
            ("114/01/31", "辭職")
        } else {
            ("", "")
        };
        format!(
            "{agency},{agency_name},{unit},{id},姓名{},科員,,{status},{left_on},{reason},{officer}\n",
            &id[6..]
        )
    };
    let lines = [
        line(a, "臺北市政府勞動局", "新單位", &new1, "在職", "Y"),
        line(a, "臺北市勞動局", " 勞動檢查處 ", &new2, "在職", ""),
        line(b, "臺北市政府", "秘書處", &new1, "在職", ""),
        line(a, "臺北市政府勞動局", "", &wang, "在職", "Y"),
        line(a, "臺北市政府勞動局", "人事室", &officer_a, "在職", ""),
        line(b, "臺北市政府", "新單位", &new3, "在職", "Y"),
        line(b, "臺北市政府", "", &new3, "卸職", ""),
        line(a, "臺北市政府勞動局", "勞動檢查處", &wang, "在職", "Y"),
        line(b, "臺北市政府", "", &new1, "卸職", ""),
    ];
    let whole = Fixture::new();
    let report = whole
        .portal
        .import_directory_csv(format!("{HEADER}{}", lines.concat()).as_bytes())
        .expect("the file imports");

    let one_by_one = Fixture::new();
    let mut sum = DirectoryImport::default();
    for l in &lines {
        let r = one_by_one
            .portal
            .import_directory_csv(format!("{HEADER}{l}").as_bytes())
            .unwrap_or_else(|e| panic!("{l}: {e}"));
        sum.rows += r.rows;
        sum.agencies += r.agencies;
        sum.created += r.created;
        sum.updated += r.updated;
        sum.officers += r.officers;
    }
    assert_eq!(report, sum);
    assert_eq!(
        report,
        DirectoryImport {
            rows: 9,
            agencies: 2,
            created: 3,
            updated: 6,
            officers: 4,
        }
    );
    assert_eq!(directory_state(&whole), directory_state(&one_by_one));
    let state = directory_state(&whole);
    assert!(
        state[3].iter().any(|o| o.starts_with(&wang)),
        "Wang is an officer: {:?}",
        state[3]
    );
    assert!(!state[3].iter().any(|o| o.starts_with(&officer_a)), "{:?}", state[3]);
    assert!(
        !state[3].iter().any(|o| o.starts_with(&new1) || o.starts_with(&new3)),
        "{:?}",
        state[3]
    );
    // One audit entry for the file.
    assert_eq!(
        whole.sql_int("SELECT count(*) FROM audit WHERE action = 'directory.import'"),
        2,
        "the fixture's import and this one"
    );
}

/// `n` people of agency A in ten units, national IDs from a serial (letter `letter`).
fn staff(letter: char, n: usize) -> String {
    let mut csv = String::from(HEADER);
    for i in 0..n {
        let id = make_id(letter, &format!("1{i:07}"));
        csv.push_str(&row(
            (support::AGENCY_A, &format!("第{}科", i % 10)),
            &id,
            "王大明",
            "科員",
            "",
            "在職",
            "",
        ));
    }
    csv
}

#[test]
fn a_bulk_load_leaves_every_index_as_it_was() {
    // The first load of a large directory drops the employees' secondary indexes and makes
    // them again after it (SQLite); the schema after it is the schema before it.
    let fx = Fixture::sqlite(fast_config());
    let indexes = || {
        fx.rows(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'employees' ORDER BY name",
            &[],
        )
        .iter()
        .map(|r| format!("{}: {:?}", r.text(0).expect("name"), r.opt_text(1).expect("sql")))
        .collect::<Vec<_>>()
    };
    let before = indexes();
    assert!(before.iter().any(|i| i.starts_with("employees_agency:")), "{before:?}");
    let report = fx
        .portal
        .import_directory_csv(staff('K', 12_000).as_bytes())
        .expect("imports");
    assert_eq!((report.created, report.updated), (12_000, 0));
    assert_eq!(indexes(), before);
    // Again, with more people than are stored: stored ones updated, new ones created.
    let report = fx
        .portal
        .import_directory_csv(staff('K', 15_000).as_bytes())
        .expect("imports");
    assert_eq!((report.created, report.updated), (3_000, 12_000));
    assert_eq!(indexes(), before);
    let ok = fx.rows("PRAGMA integrity_check", &[]);
    assert_eq!(ok[0].text(0).expect("text"), "ok");
    // The index answers the officers' listing by agency.
    let plan = fx.rows(
        &format!(
            "EXPLAIN QUERY PLAN SELECT id FROM employees WHERE agency_code = '{}'",
            support::AGENCY_A
        ),
        &[],
    );
    assert!(
        plan.iter()
            .any(|r| r.text(3).is_ok_and(|d| d.contains("employees_agency"))),
        "the listing uses the agency index"
    );
}

#[test]
fn personal_columns_a_line_leaves_out_are_kept() {
    let fx = Fixture::new();
    let id = make_id('K', "13572468");
    let header = "agency_code,agency_name,unit,national_id,name,title,birth_date,household_number,county,township,village,neighbourhood\n";
    let given = format!(
        "{header}{},{},人事室,{id},林小華,科員,070/05/04,F1234567,63000,63000010,63000010001,12\n",
        support::AGENCY_A,
        support::AGENCY_A_NAME
    );
    fx.portal.import_directory_csv(given.as_bytes()).expect("imports");
    let personal = || {
        let r = &fx.rows(
            "SELECT birth_date, household_number, household_county, household_township, household_village,
                    household_neighbourhood, title FROM employees WHERE national_id = ?",
            &[ecpa::store::Value::from(id.as_str())],
        )[0];
        (0..7)
            .map(|i| r.opt_text(i).ok().flatten().unwrap_or_else(|| format!("{:?}", r.0[i])))
            .collect::<Vec<_>>()
            .join("|")
    };
    let first = personal();
    assert!(first.starts_with("1981-05-04|F1234567|63000|"), "{first}");
    // Without the columns, then with them empty: the title changes, the rest stays.
    for (header, tail) in [
        ("agency_code,agency_name,unit,national_id,name,title\n", ""),
        (header, ",,,,,"),
    ] {
        let line = format!(
            "{header}{},{},人事室,{id},林小華,專員{tail}\n",
            support::AGENCY_A,
            support::AGENCY_A_NAME
        );
        fx.portal.import_directory_csv(line.as_bytes()).expect("imports");
        assert_eq!(personal(), first.replace("科員", "專員"));
    }
}
