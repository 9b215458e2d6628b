//! Import an agency's staff list into a portal database: what a personnel office runs when its
//! people change.
//!
//! ```text
//! cargo run --example import_directory -- ecpa.db staff.csv
//! ```
//!
//! The CSV columns are documented in `ecpa::portal::directory`. The whole file is one
//! transaction: if any line is wrong, nothing is imported and every bad line is listed.

use std::fs::File;
use std::process::ExitCode;

use ecpa::portal::LocalPortal;
use ecpa::types::Lang;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, csv] = args.as_slice() else {
        eprintln!("用法 usage: import_directory DATABASE STAFF.csv");
        return ExitCode::from(2);
    };
    let result = File::open(csv).map_err(ecpa::Error::from).and_then(|file| {
        let portal = LocalPortal::open(db)?;
        portal.import_directory_csv(file)
    });
    match result {
        Ok(r) => {
            println!(
                "匯入 {} 行：新增 {} 人、更新 {} 人、機關 {} 個、人事人員 {} 位",
                r.rows, r.created, r.updated, r.agencies, r.officers
            );
            println!(
                "imported {} lines: {} new, {} updated, {} agencies, {} officers",
                r.rows, r.created, r.updated, r.agencies, r.officers
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", e.code(), e.message(Lang::ZhTw));
            eprintln!("{}", e.message(Lang::En));
            ExitCode::from(1)
        }
    }
}
