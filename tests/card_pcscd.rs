//! The card layer over a real pcscd with virtual cards (vpcd): read, unknown card, card removed
//! mid-read, card inserted after waiting, reset by another handle, pcscd stopped mid-session, a
//! name outside Big5, the NHI-card login, and `ecpa card list` / `ecpa card read` / `ecpa doctor`.
//!
//! Runs only with `ECPA_PCSCD=1` (scripts/test sets it after installing pcscd and vsmartcard-vpcd);
//! otherwise it says it was skipped and why. It never uses a pcscd someone else runs: the outer
//! test [`pcscd_scenarios`] prepares a private pcscd (support/pcscd.rs: own socket, own ports)
//! and re-runs this binary as [`pcscd_scenarios_inside`] with `PCSCLITE_CSOCK_NAME` pointing at
//! it. That inner process owns the daemon (starts it, stops and restarts it for the "pcscd
//! stopped" scenario, stops it at the end) and runs the scenarios one after another, since they
//! share it.
#![cfg(feature = "card")]

#[path = "support/pcscd.rs"]
mod pcscd;
mod support;
#[path = "support/vpcd.rs"]
mod vpcd;

use std::process::Command;
use std::time::{Duration, Instant};

use ecpa::ErrorCode;
use ecpa::card::apdu::{StatusWord, transmit};
use ecpa::card::{CardEvent, CardKind, PcscContext, Transport, list_readers, nhi, read_nhi};
use ecpa::portal::LoginMethod;
use ecpa::types::{Lang, RocDate, Sex};
use pcscd::{PcscdDir, PrivatePcscd};
use support::{Fixture, Who, person};
use vpcd::{NhiApplet, OtherApplet, VirtualCard, nhi_record};

const INNER: &str = "pcscd_scenarios_inside";
const ENV_DIR: &str = "ECPA_TEST_PCSCD_DIR";
const ENV_PORT: &str = "ECPA_TEST_PCSCD_PORT";
const WAIT: Duration = Duration::from_secs(5);

/// 陳小明 in Big5.
const CHEN: [u8; 6] = [0xB3, 0xAF, 0xA4, 0x70, 0xA9, 0xFA];

fn chen_record() -> Vec<u8> {
    nhi_record("000012345678", &CHEN, "A123456789", "0690115", b'M', "1050720")
}

#[test]
fn pcscd_scenarios() {
    if std::env::var("ECPA_PCSCD").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED card_pcscd: set ECPA_PCSCD=1 to run the tests against a real pcscd with virtual cards \
             (scripts/test does, after installing pcscd and vsmartcard-vpcd)"
        );
        return;
    }
    if let Some(why) = pcscd::unavailable_reason() {
        panic!("ECPA_PCSCD=1 but a private pcscd cannot run: {why}");
    }
    let dir = tempfile::Builder::new()
        .prefix("ecpa-pcscd-")
        .tempdir()
        .expect("temp dir");
    let at = PcscdDir::create(dir.path()).expect("pcscd dir");
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([INNER, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("PCSCLITE_CSOCK_NAME", at.socket())
        .env(ENV_DIR, &at.dir)
        .env(ENV_PORT, at.port.to_string())
        .output()
        .expect("runs the inner test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "the scenarios failed");
    assert!(text.contains("1 passed"), "the inner test did not run");
}

/// A context on the private pcscd, retried while it comes up.
fn context() -> PcscContext {
    let deadline = Instant::now() + WAIT;
    loop {
        match PcscContext::establish() {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("no PC/SC context: {e}"),
        }
    }
}

struct Bench {
    at: PcscdDir,
    daemon: PrivatePcscd,
    readers: [String; 2],
}

impl Bench {
    fn port(&self, slot: usize) -> u16 {
        self.at.port + slot as u16
    }

    fn insert(&self, slot: usize, applet: impl vpcd::Applet) -> VirtualCard {
        let card = VirtualCard::insert(self.port(slot), applet, WAIT).expect("inserts");
        context()
            .wait_for(&[self.readers[slot].clone()], CardEvent::Inserted, WAIT)
            .expect("pcscd sees the card");
        card
    }

    fn remove(&self, slot: usize, card: VirtualCard) {
        card.remove();
        context()
            .wait_for(&[self.readers[slot].clone()], CardEvent::Removed, WAIT)
            .expect("pcscd sees the removal");
    }
}

#[test]
#[ignore = "run by pcscd_scenarios inside its private pcscd"]
fn pcscd_scenarios_inside() {
    let (Ok(dir), Ok(port)) = (std::env::var(ENV_DIR), std::env::var(ENV_PORT)) else {
        eprintln!("SKIPPED: this test is started by pcscd_scenarios, which prepares its pcscd");
        return;
    };
    let at = PcscdDir {
        dir: dir.into(),
        port: port.parse().expect("port"),
    };
    let daemon = PrivatePcscd::start(at.clone()).expect("starts pcscd");
    let readers = at.readers();
    let mut b = Bench { at, daemon, readers };

    // The readers are there, both empty.
    let deadline = Instant::now() + WAIT;
    let listed = loop {
        let l = list_readers(WAIT).expect("lists readers");
        if l.len() >= 2 || Instant::now() >= deadline {
            break l;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [b.readers[0].as_str(), b.readers[1].as_str()]);
    assert!(listed.iter().all(|r| r.kind == CardKind::Empty && r.atr.is_none()));

    empty_reader(&b);
    read_and_list(&b);
    unknown_card(&b);
    inserted_after_waiting(&b);
    removed_mid_read(&b);
    reset_by_another_handle(&b);
    name_outside_big5(&b);
    login_with_the_card(&b);
    command_line(&b);
    pcscd_stopped_mid_session(&mut b);
    eprintln!("all pcscd scenarios passed");
}

fn empty_reader(b: &Bench) {
    let e = read_nhi(Some(&b.readers[0]), Duration::ZERO).expect_err("no card");
    assert_eq!(e.code(), ErrorCode::CardAbsent, "{e}");
    let e = context().connect(&b.readers[0]).expect_err("no card");
    assert_eq!(e.code(), ErrorCode::CardAbsent, "{e}");
    let e = read_nhi(Some("No Such Reader"), Duration::ZERO).expect_err("no reader");
    assert_eq!(e.code(), ErrorCode::ReaderNotFound, "{e}");
    let e = context()
        .wait_for(&[b.readers[0].clone()], CardEvent::Inserted, Duration::from_millis(200))
        .expect_err("nothing inserted");
    assert_eq!(e.code(), ErrorCode::CardTimeout);
}

fn read_and_list(b: &Bench) {
    let card = b.insert(0, NhiApplet::new(chen_record()));
    let d = read_nhi(None, WAIT).expect("reads");
    assert_eq!(d.card_number.as_str(), "000012345678");
    assert_eq!(d.name.as_str(), "陳小明");
    assert!(!d.name.lossy);
    assert_eq!(d.national_id.reveal(), "A123456789");
    assert_eq!(d.birth_date, RocDate::new(69, 1, 15).expect("date"));
    assert_eq!(d.issue_date, RocDate::new(105, 7, 20).expect("date"));
    assert_eq!(d.sex, Sex::Male);
    // The card was left, not reset: it is still there and reads again.
    assert_eq!(read_nhi(Some(&b.readers[0]), WAIT).expect("reads again"), d);
    let listed = list_readers(WAIT).expect("lists");
    assert_eq!(listed[0].kind, CardKind::Nhi);
    assert_eq!(listed[0].atr.as_deref(), Some(&vpcd::NHI_ATR[..]));
    assert_eq!(listed[1].kind, CardKind::Empty);
    b.remove(0, card);
}

fn unknown_card(b: &Bench) {
    let nhi_card = b.insert(0, NhiApplet::new(chen_record()));
    let other = b.insert(1, OtherApplet::generic());
    let listed = list_readers(WAIT).expect("lists");
    assert_eq!((listed[0].kind, listed[1].kind), (CardKind::Nhi, CardKind::Unknown));
    let e = read_nhi(Some(&b.readers[1]), WAIT).expect_err("not an NHI card");
    assert_eq!(e.code(), ErrorCode::CardUnsupported, "{e}");
    // Without a reader name the NHI card is found beside the other one.
    assert_eq!(read_nhi(None, WAIT).expect("reads").name.as_str(), "陳小明");
    b.remove(0, nhi_card);
    let e = read_nhi(None, WAIT).expect_err("only the other card is left");
    assert_eq!(e.code(), ErrorCode::CardUnsupported, "{e}");
    b.remove(1, other);
    // A citizen card is told by its ATR.
    let moica = b.insert(
        1,
        OtherApplet {
            atr: ecpa::card::detect::MOICA_ATRS[1].to_vec(),
        },
    );
    assert_eq!(list_readers(WAIT).expect("lists")[1].kind, CardKind::Moica);
    b.remove(1, moica);
}

fn inserted_after_waiting(b: &Bench) {
    let port = b.port(0);
    let reader = b.readers[0].clone();
    let waiter = std::thread::spawn(move || read_nhi(Some(&reader), Duration::from_secs(10)));
    // The read is waiting on SCardGetStatusChange meanwhile; its result does not depend on when
    // the card arrives within the 10 s.
    std::thread::sleep(Duration::from_millis(300));
    let card = VirtualCard::insert(port, NhiApplet::new(chen_record()), WAIT).expect("inserts");
    let d = waiter
        .join()
        .expect("no panic")
        .expect("reads the card inserted while waiting");
    assert_eq!(d.name.as_str(), "陳小明");
    b.remove(0, card);
}

fn removed_mid_read(b: &Bench) {
    let mut applet = NhiApplet::new(chen_record());
    applet.remove_on_read = true;
    let card = b.insert(0, applet);
    let e = read_nhi(Some(&b.readers[0]), WAIT).expect_err("pulled out during READ");
    eprintln!("removed mid-read: {}", e.code());
    assert!(
        matches!(e.code(), ErrorCode::CardRemoved | ErrorCode::CardNotTransacted),
        "{e}"
    );
    context()
        .wait_for(&[b.readers[0].clone()], CardEvent::Removed, WAIT)
        .expect("the reader is empty");
    assert!(card.is_gone());
    let e = read_nhi(Some(&b.readers[0]), Duration::ZERO).expect_err("gone");
    assert_eq!(e.code(), ErrorCode::CardAbsent, "{e}");
}

fn reset_by_another_handle(b: &Bench) {
    let card = b.insert(0, NhiApplet::new(chen_record()));
    let ctx = context();
    let mut ours = ctx.connect(&b.readers[0]).expect("connects");
    let r = transmit(&mut ours, &nhi::select_command()).expect("selects");
    assert_eq!(r.sw, StatusWord::Success);
    // Another program connects and leaves with a reset.
    {
        let other = pcsc::Context::establish(pcsc::Scope::User).expect("context");
        let name = std::ffi::CString::new(b.readers[0].clone()).expect("name");
        let handle = other
            .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .expect("connects");
        handle
            .disconnect(pcsc::Disposition::ResetCard)
            .map_err(|(_, e)| e)
            .expect("resets");
    }
    let e = transmit(&mut ours, &nhi::read_basic_command()).expect_err("the card was reset");
    assert_eq!(e.code(), ErrorCode::CardReset, "{e}");
    assert!(e.message(Lang::ZhTw).contains("重置"));
    drop(ours);
    // A fresh read works: the card is selected again from scratch.
    assert_eq!(
        read_nhi(Some(&b.readers[0]), WAIT).expect("reads").name.as_str(),
        "陳小明"
    );
    b.remove(0, card);
}

fn name_outside_big5(b: &Bench) {
    // 陳 + a pair in the user-defined area (a rare character the card writes there) + 明.
    let name = [0xB3, 0xAF, 0x81, 0xA1, 0xA9, 0xFA];
    let record = nhi_record("000099998888", &name, "F223456786", "0850229", b'F', "1120101");
    let card = b.insert(0, NhiApplet::new(record));
    let d = read_nhi(Some(&b.readers[0]), WAIT).expect("one odd character does not reject the card");
    assert!(d.name.lossy);
    assert_eq!(d.name.raw, name);
    assert_eq!(d.name.as_str(), "陳\u{FFFD}明");
    assert_eq!(d.birth_date, RocDate::new(85, 2, 29).expect("leap day"));
    assert_eq!(d.sex, Sex::Female);
    b.remove(0, card);
}

fn login_with_the_card(b: &Bench) {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let card = b.insert(0, NhiApplet::new(wang.card_data().to_bytes().to_vec()));
    let session = ecpa::portal::card_login::login_with_reader(&fx.portal, Some(&b.readers[0]), WAIT, &wang.pw())
        .expect("logs in");
    assert_eq!(session.info.method, LoginMethod::NhiCard);
    let wrong =
        ecpa::portal::card_login::login_with_reader(&fx.portal, Some(&b.readers[0]), WAIT, &support::pw("Wrong#2026x"));
    assert_eq!(
        wrong.err().map(|e| e.code()),
        Some(ErrorCode::RegistrationPasswordWrong)
    );
    b.remove(0, card);
}

fn command_line(b: &Bench) {
    let Some(exe) = option_env!("CARGO_BIN_EXE_ecpa") else {
        eprintln!("SKIPPED command-line part: the ecpa binary is not built (feature cli off)");
        return;
    };
    let ecpa = |args: &[&str]| Command::new(exe).args(args).output().expect("runs ecpa");
    let card = b.insert(0, NhiApplet::new(chen_record()));
    let other = b.insert(1, OtherApplet::generic());

    let out = ecpa(&["card", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v[0]["name"], b.readers[0].as_str());
    assert_eq!(v[0]["kind"], "nhi");
    assert_eq!(v[0]["atr"], hex::encode_upper(vpcd::NHI_ATR));
    assert_eq!(v[1]["kind"], "unknown");

    let out = ecpa(&["card", "read", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["national_id"], "A12345****");
    assert_eq!(v["name"], "陳小明");
    assert_eq!(v["birth_date"], "69/01/15");
    assert_eq!(v["birth_date_iso"], "1980-01-15");
    assert_eq!(v["issue_date"], "105/07/20");
    assert_eq!(v["sex"], "male");
    assert_eq!(v["reader"], b.readers[0].as_str());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("A123456789"));

    let out = ecpa(&["card", "read", "--json", "--reveal", "--reader", &b.readers[0]]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["national_id"], "A123456789");
    assert_eq!(v["card_number"], "000012345678");

    let out = ecpa(&["card", "read"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("A12345****") && !text.contains("A123456789"), "{text}");
    assert!(text.contains("陳小明"), "{text}");

    // `ecpa doctor` with the service, the readers and an NHI card all there: its PC/SC rows
    // pass (the PKCS#11 module and the anchors are not configured here, so it still exits 1).
    let out = ecpa(&["doctor", "--json", "--timeout", "5"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for id in ["pcsc.service", "pcsc.readers", "card.present", "nhi.readable"] {
        let row = v["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["id"] == id))
            .unwrap_or_else(|| panic!("no row {id}: {v}"));
        assert_eq!(row["status"], "ok", "{row}");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("A123456789"));

    let out = ecpa(&["card", "read", "--reader", &b.readers[1], "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("E2010 card_unsupported"),
        "{out:?}"
    );

    b.remove(0, card);
    b.remove(1, other);
}

fn pcscd_stopped_mid_session(b: &mut Bench) {
    let card = b.insert(0, NhiApplet::new(chen_record()));
    let ctx = context();
    let mut ours = ctx.connect(&b.readers[0]).expect("connects");
    assert_eq!(
        transmit(&mut ours, &nhi::select_command()).expect("selects").sw,
        StatusWord::Success
    );
    b.daemon.stop();
    let e = transmit(&mut ours, &nhi::read_basic_command()).expect_err("the service is gone");
    eprintln!("pcscd stopped mid-session: {}", e.message(Lang::En));
    assert!(e.code() == ErrorCode::PcscUnavailable, "{e}");
    drop(ours);
    drop(card);
    let e = read_nhi(None, Duration::ZERO).expect_err("no service");
    assert_eq!(e.code(), ErrorCode::PcscUnavailable, "{e}");
    let e = list_readers(WAIT).expect_err("no service");
    assert_eq!(e.code(), ErrorCode::PcscUnavailable, "{e}");
    assert!(e.message(Lang::ZhTw).contains("pcscd"));
    // The old context stays dead; a new one works once the service is back.
    assert_eq!(
        ctx.reader_names().map_err(|e| e.code()),
        Err(ErrorCode::PcscUnavailable)
    );
    b.daemon = PrivatePcscd::start(b.at.clone()).expect("restarts pcscd");
    let card = b.insert(0, NhiApplet::new(chen_record()));
    assert_eq!(read_nhi(None, WAIT).expect("reads").name.as_str(), "陳小明");
    let again = context().connect(&b.readers[0]).expect("connects on the new service");
    assert_eq!(again.reader_name(), b.readers[0]);
    assert_eq!(again.atr(), vpcd::NHI_ATR);
    again.disconnect().expect("leaves the card");
    b.remove(0, card);
}
