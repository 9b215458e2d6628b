//! The operator commands of the real `ecpa` binary: directory import (UTF-8 with a BOM, Big5 as
//! Excel saves it, files with bad lines), maintenance and announcements, the outbox, migrate,
//! backup, purge, and the audit rows naming the operator.
#![cfg(feature = "http")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder to run in, with the database `ecpa.db` in it.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        Site {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("ecpa.db")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `ecpa ARGS --db ecpa.db` in the folder, with no `ECPA_*` from the outside.
    fn ecpa(&self, args: &[&str]) -> Output {
        self.ecpa_env(args, &[])
    }

    fn ecpa_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecpa"));
        cmd.current_dir(self.dir.path()).args(args);
        if !args.contains(&"--config") && !args.contains(&"--db") {
            cmd.arg("--db").arg(self.db());
        }
        for (k, _) in std::env::vars() {
            if k.starts_with("ECPA_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        cmd.output().expect("the ecpa binary runs")
    }

    fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("the database opens")
    }

    fn count(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).expect("count")
    }
}

fn ok(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json(out)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const HEADER: &str = "agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer\n";

/// Three people of 臺北市政府, one of them its personnel officer.
fn directory() -> String {
    format!(
        "{HEADER}379000000A,臺北市政府,人事處,A123456789,王小明,科員,wang@mail.taipei.gov.tw,在職,,,\n\
         379000000A,臺北市政府,人事處,F223456786,林小華,專員,,在職,,,Y\n\
         379000000A,臺北市政府,秘書處,A800000014,李大同,科長,,卸職,113/12/31,退休,\n"
    )
}

fn write(path: &Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

#[test]
fn directory_import_of_utf8_with_a_bom_and_again_as_updates() {
    let site = Site::new();
    let bytes = [b"\xEF\xBB\xBF".as_slice(), directory().as_bytes()].concat();
    let file = write(&site.path("staff.csv"), &bytes);
    let v = ok(&site.ecpa(&["directory", "import", &file, "--json"]));
    assert_eq!(
        v,
        serde_json::json!({ "rows": 3, "created": 3, "updated": 0, "agencies": 1, "officers": 1 })
    );
    let v = ok(&site.ecpa(&["directory", "import", &file, "--json"]));
    assert_eq!(v["created"], 0);
    assert_eq!(v["updated"], 3);
    assert_eq!(v["agencies"], 0, "the agency is unchanged");
    // Human output, both languages.
    let zh = site.ecpa(&["directory", "import", &file]);
    assert!(String::from_utf8_lossy(&zh.stdout).contains("匯入完成"));
    let en = site.ecpa(&["directory", "import", &file, "--lang", "en"]);
    assert!(String::from_utf8_lossy(&en.stdout).contains("3 updated"));
}

#[test]
fn directory_import_of_big5_as_excel_saves_it() {
    let site = Site::new();
    let text = directory().replace('\n', "\r\n");
    let (big5, _, lossy) = encoding_rs::BIG5.encode(&text);
    assert!(!lossy, "every character has a Big5 form");
    let file = write(&site.path("staff-big5.csv"), &big5);
    let v = ok(&site.ecpa(&["directory", "import", &file, "--json"]));
    assert_eq!(v["created"], 3);
    let name: String = site
        .sql()
        .query_row("SELECT name FROM employees WHERE national_id = 'F223456786'", [], |r| {
            r.get(0)
        })
        .expect("row");
    assert_eq!(name, "林小華");
    let agency: String = site
        .sql()
        .query_row("SELECT name FROM agencies", [], |r| r.get(0))
        .expect("row");
    assert_eq!(agency, "臺北市政府");
    // Forcing the wrong encoding is refused, naming where.
    let out = site.ecpa(&["directory", "import", &file, "--encoding", "utf-8", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("E1080 csv_invalid") && err.contains("line 2 (byte offset"),
        "{err}"
    );
    // A file that is neither UTF-8 nor Big5.
    let junk = write(&site.path("junk.csv"), b"agency_code\n\xFF\xFF\n");
    let out = site.ecpa(&["directory", "import", &junk]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("第 2 行"), "{}", stderr(&out));
    // A made-up encoding is a usage error.
    let out = site.ecpa(&["directory", "import", &file, "--encoding", "latin1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn directory_import_with_bad_lines_reports_every_one_and_imports_nothing() {
    let site = Site::new();
    let mut csv = directory();
    // 25 bad lines after the three good ones (lines 5 to 29): more than a message spells out.
    for i in 0..25 {
        csv.push_str(&format!(
            "379000000A,臺北市政府,人事處,A12345678{i},某甲,科員,,在職,,,\n"
        ));
    }
    // The check digit of A123456789 is 9, so A12345678i is bad for i ≠ 9: line 5 + 9 = 14 is good.
    let file = write(&site.path("bad.csv"), csv.as_bytes());
    let out = site.ecpa(&["directory", "import", &file, "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("E1080 csv_invalid"), "{err}");
    let bad: Vec<u64> = (5..30).filter(|l| *l != 14).collect();
    for line in &bad {
        assert!(err.contains(&format!("line {line}: ")), "line {line} missing: {err}");
    }
    assert!(!err.contains("line 14: "), "{err}");
    assert_eq!(site.count("SELECT count(*) FROM employees"), 0, "all or nothing");
    // JSON lists them too, on stdout; zh-TW by default on stderr.
    let out = site.ecpa(&["directory", "import", &file, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"], "E1080 csv_invalid");
    let lines = v["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), bad.len());
    assert_eq!(lines[0]["line"], 5);
    assert_eq!(lines[0]["error"], "E1002 national_id_checksum");
    assert!(stderr(&out).contains("第 29 行"), "{}", stderr(&out));
}

#[test]
fn the_audit_trail_names_the_operator() {
    let site = Site::new();
    let file = write(&site.path("staff.csv"), directory().as_bytes());
    ok(&site.ecpa(&["directory", "import", &file, "--json", "--operator", "人事處 張三"]));
    ok(&site.ecpa_env(&["directory", "import", &file, "--json"], &[("USER", "opsuser")]));
    ok(&site.ecpa_env(&["purge", "--json"], &[("USER", ""), ("LOGNAME", "night-shift")]));
    let backup = site.path("copy.db");
    ok(&site.ecpa(&[
        "backup",
        backup.to_str().expect("utf-8"),
        "--json",
        "--operator",
        "李四",
    ]));
    let conn = site.sql();
    let mut stmt = conn
        .prepare("SELECT action, operator, detail FROM audit WHERE operator IS NOT NULL ORDER BY id")
        .expect("prepare");
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    let who: Vec<(&str, &str)> = rows.iter().map(|(a, o, _)| (a.as_str(), o.as_str())).collect();
    assert_eq!(
        who,
        [
            ("directory.import", "人事處 張三"),
            ("directory.import", "opsuser"),
            ("operator.purge", "night-shift"),
            ("operator.backup", "李四"),
        ]
    );
    assert!(
        rows[0].2.as_deref().is_some_and(|d| d.starts_with("3 rows")),
        "{rows:?}"
    );
    // No full national ID in any audit row.
    let leaked =
        site.count("SELECT count(*) FROM audit WHERE detail LIKE '%A123456789%' OR object LIKE '%A123456789%'");
    assert_eq!(leaked, 0);
}

#[test]
fn maintenance_and_announcements_round_trip() {
    let site = Site::new();
    let v = ok(&site.ecpa(&[
        "maintenance",
        "add",
        "--from",
        "188/03/01 08:00",
        "--to",
        "2099-03-01T12:00:00+08:00",
        "--reason",
        "配合戶政系統維護",
        "--json",
    ]));
    let id = v["id"].as_i64().expect("id");
    assert_eq!(v["from"], "2099-03-01T08:00:00+08:00");
    assert_eq!(v["reason"], "配合戶政系統維護");
    assert_eq!(
        v["announcement_zh"],
        "配合戶政系統維護，本系統於188年3月1日8時至188年3月1日12時將暫停註冊服務，敬請見諒。"
    );
    let list = ok(&site.ecpa(&["maintenance", "list", "--json"]));
    assert_eq!(list, serde_json::json!([v]));
    let text = site.ecpa(&["maintenance", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("配合戶政系統維護"));
    // A bad time or an end before the start.
    let bad = site.ecpa(&["maintenance", "add", "--from", "188/02/30", "--to", "1880301"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let backwards = site.ecpa(&["maintenance", "add", "--from", "1880302", "--to", "1880301"]);
    assert_eq!(backwards.status.code(), Some(1));
    assert!(stderr(&backwards).contains("E1010 date_invalid"));
    assert_eq!(
        ok(&site.ecpa(&["maintenance", "remove", &id.to_string(), "--json"])),
        serde_json::json!({ "removed": id })
    );
    assert_eq!(
        ok(&site.ecpa(&["maintenance", "list", "--json"])),
        serde_json::json!([])
    );
    let again = site.ecpa(&["maintenance", "remove", &id.to_string()]);
    assert_eq!(again.status.code(), Some(1));

    let a = ok(&site.ecpa(&[
        "announce",
        "add",
        "--title",
        "系統公告",
        "--body",
        "本週六 08:00 至 12:00 停機維護",
        "--until",
        "2099-01-01",
        "--json",
    ]));
    assert_eq!(a["title"], "系統公告");
    assert_eq!(a["until"], "2099-01-01T00:00:00+08:00");
    let b = ok(&site.ecpa(&["announce", "add", "--title", "歡迎", "--body", "新版上線", "--json"]));
    assert_eq!(b["until"], serde_json::Value::Null);
    let list = ok(&site.ecpa(&["announce", "list", "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[0]["id"], b["id"], "newest first");
    let id = a["id"].as_i64().expect("id");
    ok(&site.ecpa(&["announce", "remove", &id.to_string(), "--json"]));
    let list = ok(&site.ecpa(&["announce", "list", "--json"]));
    assert_eq!(list, serde_json::json!([b]));
    assert_eq!(
        site.ecpa(&["announce", "remove", &id.to_string()]).status.code(),
        Some(1)
    );
    assert_eq!(
        site.ecpa(&["announce", "add", "--title", "x", "--body", "y", "--until", "1000101"])
            .status
            .code(),
        Some(1),
        "an announcement that has already lapsed"
    );
}

#[test]
fn outbox_deliver_once_into_a_maildir_from_the_config_file() {
    let site = Site::new();
    ok(&site.ecpa(&["migrate", "--json"]));
    let conn = site.sql();
    for to in ["wang@mail.taipei.gov.tw", "lin@mail.taipei.gov.tw"] {
        conn.execute(
            "INSERT INTO outbox (created_at, to_addr, subject, body, kind, next_attempt_at) VALUES (0, ?, '獎勵令通知', '您好', 'test', 0)",
            [to],
        )
        .expect("queued");
    }
    drop(conn);
    let maildir = site.path("letters");
    let config = format!(
        "[database]\nurl = {:?}\n[mail]\nkind = \"file\"\ndir = {:?}\n",
        site.db().to_str().expect("utf-8"),
        maildir.to_str().expect("utf-8")
    );
    let config_file = write(&site.path("ecpa.toml"), config.as_bytes());
    let v = ok(&site.ecpa(&["outbox", "deliver", "--once", "--config", &config_file, "--json"]));
    assert_eq!(v, serde_json::json!({ "sent": 2, "failed": 0, "pending": 0 }));
    let delivered = std::fs::read_dir(maildir.join("new")).expect("maildir").count();
    assert_eq!(delivered, 2);
    let v = ok(&site.ecpa(&["outbox", "deliver", "--once", "--config", &config_file, "--json"]));
    assert_eq!(v, serde_json::json!({ "sent": 0, "failed": 0, "pending": 0 }));
    // The environment over the file, as for `ecpa serve`.
    let other = site.path("other.db");
    let out = site.ecpa_env(
        &["migrate", "--config", &config_file, "--json"],
        &[("ECPA_DATABASE_URL", other.to_str().expect("utf-8"))],
    );
    assert_eq!(ok(&out)["from"], 0);
    assert!(other.exists());
}

#[test]
fn outbox_deliver_runs_until_sigterm() {
    use std::io::BufRead;
    let site = Site::new();
    ok(&site.ecpa(&["migrate", "--json"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .current_dir(site.dir.path())
        .args(["outbox", "deliver", "--lang", "en", "--db"])
        .arg(site.db())
        .env_remove("ECPA_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the first line");
    assert!(first.contains("Delivering mail"), "{first}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("the rest");
    assert_eq!(child.wait().expect("exits").code(), Some(0));
    assert!(rest.contains("Stopped; 0 pending"), "{rest}");
}

#[test]
fn consent_add_version_loads_the_official_text_from_a_file() {
    let site = Site::new();
    let list = ok(&site.ecpa(&["consent", "list", "--json"]));
    let versions: Vec<_> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            (
                t["version"].as_str().unwrap_or(""),
                t["draft"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(versions, [("2019-07-01", false), ("2024-01-01-draft", true)]);
    let file = write(
        &site.path("consent-2024.toml"),
        "version = \"2024-01-01\"\neffective_from = \"113/01/01\"\ncovers = \"記一大功\"\n\
         text_zh = \"本人同意記一大功以下獎勵令以電子郵件通知。\"\n\
         text_en = \"I agree to orders of one major merit and below by e-mail.\"\n"
            .as_bytes(),
    );
    let added = ok(&site.ecpa(&["consent", "add-version", &file, "--operator", "ops.lin", "--json"]));
    assert_eq!(
        (added["version"].as_str(), added["covers"].as_str()),
        (Some("2024-01-01"), Some("major_merit"))
    );
    assert_eq!(added["draft"], false);
    let text = String::from_utf8_lossy(&site.ecpa(&["consent", "list"]).stdout).into_owned();
    assert!(text.contains("2024-01-01-draft") && text.contains("（草案）"), "{text}");
    // The same version again, a file with an unknown field, a missing file: refused, nothing added.
    assert_eq!(site.ecpa(&["consent", "add-version", &file]).status.code(), Some(1));
    let forged = write(
        &site.path("forged.toml"),
        b"version = \"2030\"\neffective_from = \"2030-01-01\"\ncovers = \"merit\"\ntext_zh = \"x\"\ntext_en = \"x\"\nadmin = true\n",
    );
    assert_eq!(site.ecpa(&["consent", "add-version", &forged]).status.code(), Some(1));
    assert_eq!(
        site.ecpa(&["consent", "add-version", "nowhere.toml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        ok(&site.ecpa(&["consent", "list", "--json"])).as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn migrate_prints_the_schema_version() {
    let site = Site::new();
    let v = ok(&site.ecpa(&["migrate", "--json"]));
    assert_eq!(v["from"], 0);
    assert_eq!(v["schema_version"], v["latest"]);
    assert!(v["schema_version"].as_i64().is_some_and(|n| n >= 4));
    let again = ok(&site.ecpa(&["migrate", "--json"]));
    assert_eq!(again["from"], v["schema_version"]);
    let text = site.ecpa(&["migrate", "--lang", "en"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("up to date"));
}

#[test]
fn backup_writes_a_readable_copy_and_never_overwrites_by_accident() {
    let site = Site::new();
    let file = write(&site.path("staff.csv"), directory().as_bytes());
    ok(&site.ecpa(&["directory", "import", &file, "--json"]));
    let copy = site.path("backup.db");
    let copy_arg = copy.to_str().expect("utf-8");
    let v = ok(&site.ecpa(&["backup", copy_arg, "--json"]));
    assert_eq!(v["file"], copy_arg);
    assert!(v["bytes"].as_u64().is_some_and(|n| n > 0));
    let conn = rusqlite::Connection::open_with_flags(&copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the copy opens");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM employees", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 3);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    drop(conn);
    let again = site.ecpa(&["backup", copy_arg]);
    assert_eq!(again.status.code(), Some(2), "an existing file is kept");
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    ok(&site.ecpa(&["backup", copy_arg, "--force", "--json"]));
    // PostgreSQL: the pg_dump recipe, exit 2, and no connection attempted.
    let pg = site.ecpa(&[
        "backup",
        "pg.dump",
        "--db",
        "postgres://ecpa:secret@127.0.0.1:1/ecpa",
        "--lang",
        "en",
    ]);
    assert_eq!(pg.status.code(), Some(2));
    let err = stderr(&pg);
    assert!(err.contains("pg_dump") && !err.contains("secret"), "{err}");
}

#[test]
fn purge_deletes_what_is_spent_expired_or_past_retention_and_counts_it() {
    let site = Site::new();
    let file = write(&site.path("staff.csv"), directory().as_bytes());
    ok(&site.ecpa(&["directory", "import", &file, "--json"]));
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let hour = 3_600_000;
    let year = 366 * 24 * hour;
    let conn = site.sql();
    let exec = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
        conn.execute(sql, params).expect(sql);
    };
    let emp: i64 = conn
        .query_row("SELECT id FROM employees WHERE national_id = 'A123456789'", [], |r| {
            r.get(0)
        })
        .expect("employee");
    exec(
        "INSERT INTO nhi_registrations (card_number, national_id, name, household_number, county, township, village,
         neighbourhood, phone, mobile, email, password_hash, status, created_at)
         VALUES ('000012345678', 'A123456789', '王小明', 'A1234567', '63000', '63000010', '63000010001', 1, '0223456789',
         '0912345678', 'wang@example.com', 'x', 'active', 0)",
        &[],
    );
    let token = "INSERT INTO registration_tokens (token_hash, card_number, purpose, created_at, expires_at, used_at)
                 VALUES (?, '000012345678', 'confirm', 0, ?, ?)";
    exec(token, &[&"spent", &(now + hour), &Some(now)]);
    exec(token, &[&"expired", &(now - hour), &None::<i64>]);
    exec(token, &[&"live", &(now + hour), &None::<i64>]);
    let challenge =
        "INSERT INTO login_challenges (id_hash, nonce, created_at, expires_at, used_at) VALUES (?, 'n', 0, ?, NULL)";
    exec(challenge, &[&"old", &(now - hour)]);
    exec(challenge, &[&"fresh", &(now + hour)]);
    let session =
        "INSERT INTO sessions (token_hash, employee_id, level, method, created_at, last_seen_at, expires_at, ended_at)
                   VALUES (?, ?, 'nhi_card', 'nhi_card', ?, ?, ?, ?)";
    exec(session, &[&"ended", &emp, &now, &now, &(now + hour), &Some(now)]);
    exec(
        session,
        &[
            &"expired",
            &emp,
            &(now - 9 * hour),
            &(now - 9 * hour),
            &(now - hour),
            &None::<i64>,
        ],
    );
    exec(
        session,
        &[
            &"idle",
            &emp,
            &(now - 2 * hour),
            &(now - 2 * hour),
            &(now + hour),
            &None::<i64>,
        ],
    );
    exec(session, &[&"live", &emp, &now, &now, &(now + hour), &None::<i64>]);
    let audit = "INSERT INTO audit (at, action) VALUES (?, 'award.view')";
    exec(audit, &[&(now - 6 * year)]);
    exec(audit, &[&(now - 2 * year)]);
    drop(conn);
    let v = ok(&site.ecpa(&["purge", "--json"]));
    assert_eq!(
        v,
        serde_json::json!({
            "registration_tokens": 2, "login_challenges": 1, "sessions": 3,
            "audit_rows": 1, "audit_retention_years": 5, "sso_assertions": 0
        })
    );
    assert_eq!(site.count("SELECT count(*) FROM registration_tokens"), 1);
    assert_eq!(site.count("SELECT count(*) FROM sessions WHERE token_hash = 'live'"), 1);
    // A shorter retention from the command line; then nothing is left to purge.
    let v = ok(&site.ecpa(&["purge", "--audit-retention-years", "1", "--json"]));
    assert_eq!(v["audit_rows"], 1);
    assert_eq!(v["sessions"], 0);
    let text = site.ecpa(&["purge", "--lang", "en"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("0 ended sessions"));
    assert_eq!(
        site.ecpa(&["purge", "--audit-retention-years", "0"]).status.code(),
        Some(2)
    );
}
