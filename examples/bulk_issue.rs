//! A personnel officer's batch job: issue a CSV of award orders at once, then list who has not
//! signed for their orders yet.
//!
//! ```text
//! ECPA_SESSION=<the officer's session token> cargo run --example bulk_issue -- ecpa.db orders.csv
//! ```
//!
//! The session comes from the environment, not the command line, where other users of the
//! machine could read it. The batch is all or nothing: a bad line or a document number already
//! issued to the same person leaves the database as it was. Orders at or below the
//! electronic-delivery ceiling, for people who consented, go by e-mail notice; the rest go on
//! paper, each with its reason.

use std::fs::File;
use std::process::ExitCode;

use ecpa::portal::{Delivery, LocalPortal, Portal, SessionToken, read_orders_csv};
use ecpa::types::Lang;

fn run(db: &str, csv: &str, session: &SessionToken) -> ecpa::Result<()> {
    let orders = read_orders_csv(File::open(csv)?)?;
    let portal = LocalPortal::open(db)?;
    let report = portal.issue_award_orders(session, &orders)?;
    println!(
        "發布 {} 件：電子 {} 件、紙本 {} 件 / issued {}: {} electronic, {} paper",
        report.issued, report.electronic, report.paper, report.issued, report.electronic, report.paper
    );
    for (order, (id, delivery)) in orders.iter().zip(&report.orders) {
        let how = match delivery {
            Delivery::Electronic => "電子 electronic".to_owned(),
            Delivery::Paper(reason) => format!("紙本 paper: {} / {}", reason.label(Lang::ZhTw), reason.label(Lang::En)),
        };
        println!(
            "  #{id} {} {} {}{} → {how}",
            order.national_id, order.document_number, order.kind, order.count
        );
    }
    let unsigned = portal.unsigned_award_orders(session, ecpa::portal::PageRequest::default())?;
    println!("尚未簽收 {} 件 / {} not signed for yet", unsigned.total, unsigned.total);
    for u in unsigned {
        println!("  {} {} {} {}", u.national_id, u.name, u.unit, u.order.document_number);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ([db, csv], Ok(token)) = (args.as_slice(), std::env::var("ECPA_SESSION")) else {
        eprintln!("用法 usage: ECPA_SESSION=TOKEN bulk_issue DATABASE ORDERS.csv");
        return ExitCode::from(2);
    };
    match run(db, csv, &SessionToken::new(token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", e.code(), e.message(Lang::ZhTw));
            eprintln!("{}", e.message(Lang::En));
            ExitCode::from(1)
        }
    }
}
