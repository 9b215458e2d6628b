//! `ecpa directory import` of a whole civil service's staff list (100,000 people in 100
//! agencies), against the floor of what SQLite can do with the same rows, in the same run.
//!
//! Five figures, each the median of [`RUNS`] imports into a fresh SQLite file (WAL, as the
//! portal runs it):
//! - the library: [`decode_csv_text`] of the file's bytes and
//!   [`LocalPortal::import_directory_csv`] (parsing and checking every line, then one
//!   transaction upserting agencies, units, employees, officers and each person's current post);
//! - the command: `ecpa directory import FILE --db DB --json` as an operator runs it (process
//!   start, migrations, reading the file, the import);
//! - raw SQLite: the same rows, already split into fields, inserted by rusqlite into an
//!   `employees` table of the same columns and unique national ID, one transaction, one
//!   prepared statement. The goal is the library within 3x of it. The same insert is also
//!   timed from opening the fresh file (and making the table) to closing it (SQLite writing
//!   its log back into the file), which is what the command's figure holds besides the
//!   import, and the command is compared with that;
//! - the portal's schema: the same rows inserted the same way into the portal's own tables
//!   (agencies, units, then employees with their foreign keys, unique columns and the index by
//!   agency that officers' listings use): what SQLite itself needs for the tables the import
//!   writes, so the figure above it shows what the library adds.
//!
//! Run with `cargo bench --bench directory`; `-- --test` runs a 1,000-person file once.
//! `ECPA_BENCH_STAFF=N` sets the number of people.

use std::process::Command;
use std::time::{Duration, Instant};

use ecpa::portal::{CsvEncoding, LocalPortal, decode_csv_text};
use ecpa::types::NationalId;

/// The allocator of the `ecpa` command, so the library runs here as it does in the command.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Imports timed per figure.
const RUNS: usize = 5;

/// A valid national ID for a serial number: letter and sex from the serial, the check digit
/// found by trying the ten (the engine's parser is the judge).
fn national_id(serial: usize) -> String {
    let letter = (b'A' + (serial / 20_000_000 % 26) as u8) as char;
    let sex = 1 + serial / 10_000_000 % 2;
    let body = format!("{letter}{sex}{:07}", serial % 10_000_000);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|id| NationalId::parse(id).is_ok())
        .expect("one check digit fits")
}

/// The staff file: `n` people in 100 agencies of 10 units each, one officer per 100 people.
fn staff_csv(n: usize) -> String {
    let mut csv =
        String::from("agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer\n");
    for i in 0..n {
        let agency = i % 100;
        let unit = i / 100 % 10;
        csv.push_str(&format!(
            "3790{agency:05}A,臺北市政府第{agency}機關,第{unit}科,{},王{}明,科員,staff{i}@mail.example.gov.tw,在職,,,{}\n",
            national_id(i),
            i % 1000,
            if i % 100 == 0 { "Y" } else { "" }
        ));
    }
    csv
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn library(bytes: &[u8], n: usize) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let portal = LocalPortal::open(dir.path().join("ecpa.db")).expect("portal");
    let start = Instant::now();
    let text = decode_csv_text(bytes.to_vec(), CsvEncoding::Auto).expect("decodes");
    let report = portal.import_directory_csv(text.as_bytes()).expect("imports");
    let took = start.elapsed();
    assert_eq!(report.created, n);
    took
}

fn command(file: &std::path::Path, n: usize) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["directory", "import", "--json", "--db"])
        .arg(dir.path().join("ecpa.db"))
        .arg(file)
        .env_remove("ECPA_DATABASE_URL")
        .output()
        .expect("ecpa runs");
    let took = start.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["created"], n);
    took
}

/// The raw insert, and the same from opening the file to closing it.
fn raw(rows: &[Vec<String>]) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opened = Instant::now();
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE employees (id INTEGER PRIMARY KEY, national_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
           agency_code TEXT NOT NULL, unit TEXT, title TEXT NOT NULL, email TEXT, status TEXT NOT NULL, updated_at INTEGER NOT NULL);",
    )
    .expect("schema");
    let start = Instant::now();
    let tx = conn.transaction().expect("begin");
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO employees (national_id, name, agency_code, unit, title, email, status, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, 'current', 0)",
            )
            .expect("prepare");
        for r in rows {
            // agency_code, agency_name, unit, national_id, name, title, email
            stmt.execute([&r[3], &r[4], &r[0], &r[2], &r[5], &r[6]])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    let took = start.elapsed();
    conn.close().expect("close");
    (took, opened.elapsed())
}

fn schema(rows: &[Vec<String>]) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecpa.db");
    drop(LocalPortal::open(&db).expect("migrates"));
    let mut conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;")
        .expect("pragmas");
    let start = Instant::now();
    let tx = conn.transaction().expect("begin");
    {
        let mut agency = tx
            .prepare("INSERT INTO agencies (code, name) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .expect("prepare");
        let mut unit = tx
            .prepare("INSERT INTO units (agency_code, name) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .expect("prepare");
        let mut unit_id = tx
            .prepare("SELECT id FROM units WHERE agency_code = ? AND name = ?")
            .expect("prepare");
        let mut units = std::collections::HashMap::new();
        for r in rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = units.entry((&r[0], &r[2])) {
                agency.execute([&r[0], &r[1]]).expect("agency");
                unit.execute([&r[0], &r[2]]).expect("unit");
                slot.insert(
                    unit_id
                        .query_row([&r[0], &r[2]], |row| row.get::<_, i64>(0))
                        .expect("unit id"),
                );
            }
        }
        let mut stmt = tx
            .prepare(
                "INSERT INTO employees (national_id, name, agency_code, unit_id, title, email, status, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, 'current', 0)",
            )
            .expect("prepare");
        for r in rows {
            let unit = units[&(&r[0], &r[2])];
            stmt.execute(rusqlite::params![&r[3], &r[4], &r[0], unit, &r[5], &r[6]])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    start.elapsed()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let n = if quick {
        1_000
    } else {
        std::env::var("ECPA_BENCH_STAFF")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000)
    };
    let runs = if quick { 1 } else { RUNS };
    let text = staff_csv(n);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("staff.csv");
    std::fs::write(&file, &text).expect("write");
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect();

    // Round by round, so the disk's write-back of one figure's files weighs on all of them alike.
    let mut times = [(); 5].map(|()| Vec::with_capacity(runs));
    for _ in 0..runs {
        times[0].push(library(text.as_bytes(), n));
        times[1].push(command(&file, n));
        let (insert, whole) = raw(&rows);
        times[2].push(insert);
        times[3].push(whole);
        times[4].push(schema(&rows));
    }
    let [lib, cmd, floor, floor_whole, tables] = times.map(median);

    println!(
        "directory import of {n} staff ({:.1} MB CSV), medians of {runs} runs each, fresh SQLite file (WAL) per run:",
        text.len() as f64 / 1e6
    );
    println!("| what | time | rows/s | ratio to raw SQLite | ratio to the portal's schema |");
    println!("|---|---|---|---|---|");
    for (what, t) in [
        ("library: decode_csv_text + import_directory_csv", lib),
        ("command: ecpa directory import --json", cmd),
        ("raw SQLite: one transaction, prepared INSERT", floor),
        ("raw SQLite, from opening the file to closing it", floor_whole),
        ("the portal's schema: the same, into its own tables", tables),
    ] {
        let rate = n as f64 / t.as_secs_f64().max(1e-9);
        let ratio = |to: Duration| t.as_secs_f64() / to.as_secs_f64().max(1e-9);
        println!(
            "| {what} | {t:.2?} | {rate:.0} | {:.2}x | {:.2}x |",
            ratio(floor),
            ratio(tables)
        );
    }
    println!(
        "the command against raw SQLite from opening to closing: {:.2}x",
        cmd.as_secs_f64() / floor_whole.as_secs_f64().max(1e-9)
    );
}
