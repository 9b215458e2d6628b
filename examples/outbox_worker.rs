//! The mail worker of an embedded portal: hands queued notices to a maildir, retrying failures
//! with growing delays. Run it beside the program that embeds the portal.
//!
//! ```text
//! cargo run --example outbox_worker -- ecpa.db /var/spool/ecpa-mail          # every 30 s, forever
//! cargo run --example outbox_worker -- ecpa.db /var/spool/ecpa-mail --once   # one round
//! ```

use std::process::ExitCode;
use std::time::Duration;

use ecpa::portal::{FileMailer, LocalPortal};
use ecpa::types::Lang;

fn round(portal: &LocalPortal, mailer: &FileMailer) -> ecpa::Result<()> {
    let report = portal.deliver_outbox(mailer, 500)?;
    let stats = portal.outbox_stats()?;
    if report.sent + report.failed > 0 || stats.pending > 0 {
        println!(
            "寄出 {}、失敗 {}、待寄 {} / sent {}, failed {}, waiting {}",
            report.sent, report.failed, stats.pending, report.sent, report.failed, stats.pending
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (db, dir, once) = match args.as_slice() {
        [db, dir] => (db, dir, false),
        [db, dir, flag] if flag == "--once" => (db, dir, true),
        _ => {
            eprintln!("用法 usage: outbox_worker DATABASE MAILDIR [--once]");
            return ExitCode::from(2);
        }
    };
    let setup = LocalPortal::open(db).and_then(|p| Ok((p, FileMailer::new(dir)?)));
    let (portal, mailer) = match setup {
        Ok(parts) => parts,
        Err(e) => {
            eprintln!("{}: {}", e.code(), e.message(Lang::ZhTw));
            return ExitCode::from(1);
        }
    };
    loop {
        if let Err(e) = round(&portal, &mailer) {
            // A failed round loses nothing: the mail stays in the outbox for the next one.
            eprintln!("{}: {}", e.code(), e.message(Lang::ZhTw));
            if once {
                return ExitCode::from(1);
            }
        }
        if once {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_secs(30));
    }
}
