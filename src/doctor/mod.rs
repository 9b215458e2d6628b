//! The environment check (環境檢測) behind `ecpa doctor`.
//!
//! The old checker compared 13 Internet Explorer settings, 3 ActiveX installs and 2 smart-card
//! service items with a recommended value. This one checks what matters today (DOMAIN.md step
//! 1): the PC/SC service, readers, the card and its kind, the NHI card, the citizen card's
//! PKCS#11 module, token and signing certificate, the trust anchors, the clock, the portal, and
//! the old vendor components that ecpa replaces. Each [`Row`] says what it found, what it should
//! be and how to fix it, in zh-TW and English.
//!
//! Every probe that could hang (a PC/SC call, loading a vendor module, a network connection)
//! runs on its own thread and is given up after [`DoctorOptions::timeout`]: the row then fails
//! with "timed out", and the thread is left to finish on its own (it cannot be killed safely).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::error::{Error, ErrorCode, Result};
use crate::pki::Certificate;
use crate::types::Lang;

mod legacy;
mod network;
mod pcsc;
mod pcsc_probe;
mod pkcs11;
mod trust;

use legacy::*;
use network::*;
use pcsc::*;
use pkcs11::*;
use trust::*;

/// The MOICA site, where the HiCOS card tool (with its PKCS#11 module) is downloaded.
pub const HICOS_DOWNLOAD: &str = "https://moica.nat.gov.tw/";

/// A reader as the PC/SC probe sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbedReader {
    /// The reader's name.
    pub name: String,
    /// The card in it: `nhi`, `moica`, `unknown` or `empty`.
    pub kind: String,
    /// The card's ATR in hex, when a card is present.
    pub atr_hex: Option<String>,
}

/// The PC/SC side of the check, behind a trait so the table logic can be tested with a probe
/// that fails or hangs; [`pcsc_probe`] is the real one.
pub trait ReaderProbe: Send + Sync {
    /// The readers and the kind of card in each.
    fn readers(&self, timeout: Duration) -> Result<Vec<ProbedReader>>;
    /// Reads the NHI card in `reader` and returns a summary with the ID masked.
    fn read_nhi(&self, reader: &str, timeout: Duration) -> Result<String>;
}

/// The PC/SC probe over `crate::card`. In a build without the `card` feature it answers
/// [`ErrorCode::CardSupportMissing`], and the rows warn that the build has no PC/SC support.
pub fn pcsc_probe() -> Box<dyn ReaderProbe> {
    pcsc_probe::pcsc_probe()
}

/// What a build without PC/SC support answers, for the tests of the table logic.
#[cfg(test)]
struct NoPcsc;

#[cfg(test)]
impl ReaderProbe for NoPcsc {
    fn readers(&self, _timeout: Duration) -> Result<Vec<ProbedReader>> {
        Err(Error::new(ErrorCode::CardSupportMissing))
    }

    fn read_nhi(&self, _reader: &str, _timeout: Duration) -> Result<String> {
        Err(Error::new(ErrorCode::CardSupportMissing))
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bilingual {
    /// Traditional Chinese (Taiwan).
    #[serde(rename = "zh-TW")]
    pub zh: String,
    /// English.
    pub en: String,
}

impl Bilingual {
    /// Both languages.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The same text in both (paths, versions, names).
    pub fn same(text: impl Into<String>) -> Self {
        let text = text.into();
        Bilingual {
            zh: text.clone(),
            en: text,
        }
    }

    /// The text in one language.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhTw => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Ok,
    /// Works, or was not checked, but deserves attention.
    Warn,
    /// Broken: the fix says what to do. `ecpa doctor` exits 1.
    Fail,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// A stable identifier, e.g. `pkcs11.module`.
    pub id: &'static str,
    /// What is checked.
    pub title: Bilingual,
    /// What was found.
    pub found: Bilingual,
    /// What it should be.
    pub expected: Bilingual,
    /// ok / warn / fail.
    pub status: Status,
    /// How to fix it (absent when nothing is to be done).
    pub fix: Option<Bilingual>,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The rows, in the order they were checked.
    pub rows: Vec<Row>,
}

impl Report {
    /// Whether any row failed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.status == Status::Fail)
    }

    /// How many rows are not ok but did not fail: warnings, and rows that could not be checked.
    /// A report with any is not "all checks passed".
    pub fn attention(&self) -> usize {
        self.rows.iter().filter(|r| r.status == Status::Warn).count()
    }

    /// The row with this id.
    pub fn row(&self, id: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }

    /// `Ok` when no row failed, else [`ErrorCode::DoctorChecksFailed`] naming the failed rows.
    pub fn ensure_ok(&self) -> Result<()> {
        let failed: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| r.status == Status::Fail)
            .map(|r| r.id)
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        let list = failed.join(", ");
        Err(Error::with(ErrorCode::DoctorChecksFailed, list.clone(), list))
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The PKCS#11 module (default: `ECPA_PKCS11_MODULE`, then where HiCOS usually is).
    pub pkcs11_module: Option<PathBuf>,
    /// The trust anchors directory (GRCA certificates).
    pub anchors: Option<PathBuf>,
    /// The portal URL to reach (`http://` or `https://`).
    pub portal: Option<String>,
    /// The time each probe is given.
    pub timeout: Duration,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        DoctorOptions {
            pkcs11_module: None,
            anchors: None,
            portal: None,
            timeout: Duration::from_secs(3),
        }
    }
}

/// Runs `f` on its own thread and waits at most `timeout` for its answer; a probe that does
/// not answer gives [`ErrorCode::DoctorProbeTimedOut`] and its thread is left to end alone.
pub fn with_timeout<T: Send + 'static>(timeout: Duration, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("ecpa-doctor-probe".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::internal(format!("probe thread: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(answer) => answer,
        Err(_) => {
            let secs = format!("{:.1}", timeout.as_secs_f64());
            Err(Error::with(
                ErrorCode::DoctorProbeTimedOut,
                format!("{secs} 秒內未回應"),
                format!("no answer within {secs} s"),
            ))
        }
    }
}

fn row(id: &'static str, title: Bilingual, found: Bilingual, expected: Bilingual, status: Status) -> Row {
    Row {
        id,
        title,
        found,
        expected,
        status,
        fix: None,
    }
}

impl Row {
    fn fix(mut self, zh: impl Into<String>, en: impl Into<String>) -> Row {
        self.fix = Some(Bilingual::new(zh, en));
        self
    }
}

/// An error as a "found" text, with its code.
fn found_error(e: &Error) -> Bilingual {
    Bilingual::new(
        format!("{}：{}", e.code(), e.message(Lang::ZhTw)),
        format!("{}: {}", e.code(), e.message(Lang::En)),
    )
}

fn timed_out(e: &Error) -> bool {
    e.code() == ErrorCode::DoctorProbeTimedOut
}

/// Runs every check and returns the table. `probe` is the PC/SC side ([`pcsc_probe`] in the
/// command; a test double in unit tests).
pub fn run(options: &DoctorOptions, probe: Arc<dyn ReaderProbe>) -> Report {
    let mut rows = Vec::new();
    pcsc_rows(options, probe, &mut rows);
    pkcs11_rows(options, &mut rows);
    rows.push(anchors_row(options.anchors.as_deref()));
    rows.push(clock_row(OffsetDateTime::now_utc()));
    if let Some(url) = &options.portal {
        rows.push(portal_row(url, options.timeout));
    }
    rows.extend(legacy_rows(options.timeout));
    Report { rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// A probe that answers what it is given, or hangs for a long time.
    struct Scripted {
        readers: std::result::Result<Vec<ProbedReader>, ErrorCode>,
        nhi: std::result::Result<String, ErrorCode>,
        hang: Option<Duration>,
        calls: AtomicUsize,
    }

    impl ReaderProbe for Scripted {
        fn readers(&self, _timeout: Duration) -> Result<Vec<ProbedReader>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(d) = self.hang {
                std::thread::sleep(d);
            }
            self.readers.clone().map_err(Error::new)
        }

        fn read_nhi(&self, _reader: &str, _timeout: Duration) -> Result<String> {
            self.nhi.clone().map_err(Error::new)
        }
    }

    fn reader(name: &str, kind: &str) -> ProbedReader {
        ProbedReader {
            name: name.into(),
            kind: kind.into(),
            atr_hex: (kind != "empty").then(|| "3BEE".into()),
        }
    }

    fn options() -> DoctorOptions {
        DoctorOptions {
            pkcs11_module: Some(PathBuf::from("/nonexistent/libHicos_p11v1.so")),
            anchors: None,
            portal: None,
            timeout: Duration::from_millis(300),
        }
    }

    fn status(report: &Report, id: &str) -> Status {
        report.row(id).unwrap_or_else(|| panic!("row {id}")).status
    }

    #[test]
    fn a_hanging_probe_becomes_a_timed_out_fail_row() {
        let probe = Arc::new(Scripted {
            readers: Ok(vec![]),
            nhi: Ok(String::new()),
            hang: Some(Duration::from_secs(30)),
            calls: AtomicUsize::new(0),
        });
        let started = Instant::now();
        let report = run(&options(), probe);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        let service = report.row("pcsc.service").expect("row");
        assert_eq!(service.status, Status::Fail);
        assert!(
            service.found.en.contains("doctor_probe_timed_out"),
            "{:?}",
            service.found
        );
        assert!(service.fix.is_some());
        assert_eq!(status(&report, "pcsc.readers"), Status::Warn);
        assert!(report.failed());
        assert_eq!(
            report.ensure_ok().expect_err("failed").code(),
            ErrorCode::DoctorChecksFailed
        );
    }

    #[test]
    fn with_timeout_answers_or_gives_up() {
        assert_eq!(with_timeout(Duration::from_secs(5), || Ok(7)).expect("answers"), 7);
        let e = with_timeout(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(10));
            Ok(())
        })
        .expect_err("gives up");
        assert_eq!(e.code(), ErrorCode::DoctorProbeTimedOut);
    }

    #[test]
    fn readers_cards_and_the_nhi_card() {
        let probe = Arc::new(Scripted {
            readers: Ok(vec![
                reader("Virtual PCD 00 00", "nhi"),
                reader("Virtual PCD 00 01", "empty"),
            ]),
            nhi: Ok("王小明 A12345****".into()),
            hang: None,
            calls: AtomicUsize::new(0),
        });
        let report = run(&options(), probe.clone());
        assert_eq!(probe.calls.load(Ordering::SeqCst), 1);
        assert_eq!(status(&report, "pcsc.service"), Status::Ok);
        assert_eq!(status(&report, "pcsc.readers"), Status::Ok);
        assert!(report.row("pcsc.readers").expect("row").found.en.starts_with("2: "));
        assert_eq!(status(&report, "card.present"), Status::Ok);
        assert!(report.row("card.present").expect("row").found.zh.contains("健保卡"));
        let nhi = report.row("nhi.readable").expect("row");
        assert_eq!(nhi.status, Status::Ok);
        assert_eq!(nhi.found.en, "王小明 A12345****");

        // No reader at all: a fail with a fix; no card: warn.
        let none = Arc::new(Scripted {
            readers: Ok(vec![]),
            nhi: Err(ErrorCode::Internal),
            hang: None,
            calls: AtomicUsize::new(0),
        });
        let report = run(&options(), none);
        assert_eq!(status(&report, "pcsc.readers"), Status::Fail);
        assert!(report.row("pcsc.readers").expect("row").fix.is_some());
        assert_eq!(status(&report, "card.present"), Status::Warn);
        assert_eq!(status(&report, "nhi.readable"), Status::Warn);

        // An unreadable NHI card fails.
        let broken = Arc::new(Scripted {
            readers: Ok(vec![reader("R", "nhi")]),
            nhi: Err(ErrorCode::CardDataInvalid),
            hang: None,
            calls: AtomicUsize::new(0),
        });
        let report = run(&options(), broken);
        let nhi = report.row("nhi.readable").expect("row");
        assert_eq!(nhi.status, Status::Fail);
        assert!(nhi.found.en.contains("E1061"), "{:?}", nhi.found);
    }

    #[test]
    fn a_build_without_pcsc_fails_with_the_rebuild_and_a_dead_service_fails() {
        let report = run(&options(), Arc::new(NoPcsc));
        let service = report.row("pcsc.service").expect("row");
        assert_eq!(service.status, Status::Fail);
        assert!(
            service.found.en.contains("no smart-card support"),
            "{:?}",
            service.found
        );
        let fix = service.fix.as_ref().expect("fix");
        assert!(
            fix.en.contains("--features card") && fix.en.contains("libpcsclite-dev"),
            "{fix:?}"
        );
        assert!(report.failed());
        // The rows behind it were not checked: they are never counted as passed.
        assert_eq!(status(&report, "pcsc.readers"), Status::Warn);
        assert!(report.attention() >= 3);
        let dead = Arc::new(Scripted {
            readers: Err(ErrorCode::IoFailed),
            nhi: Err(ErrorCode::IoFailed),
            hang: None,
            calls: AtomicUsize::new(0),
        });
        let report = run(&options(), dead);
        let service = report.row("pcsc.service").expect("row");
        assert_eq!(service.status, Status::Fail);
        if cfg!(target_os = "linux") {
            assert!(service.fix.as_ref().expect("fix").en.contains("apt-get install pcscd"));
        }
    }

    #[cfg(feature = "card")]
    #[test]
    fn the_module_row_says_what_to_install() {
        let report = run(&options(), Arc::new(NoPcsc));
        let module = report.row("pkcs11.module").expect("row");
        assert_eq!(module.status, Status::Fail);
        let fix = module.fix.as_ref().expect("fix");
        assert!(fix.en.contains("HiCOS") && fix.zh.contains(HICOS_DOWNLOAD), "{fix:?}");
        assert_eq!(status(&report, "pkcs11.token"), Status::Warn);
        assert_eq!(status(&report, "anchors"), Status::Warn);
        assert_eq!(status(&report, "clock"), Status::Ok);
        assert!(report.row("portal").is_none(), "only when a portal is given");
    }

    #[cfg(not(feature = "card"))]
    #[test]
    fn a_build_without_cards_fails_the_module_row_with_the_rebuild() {
        let report = run(&options(), Arc::new(NoPcsc));
        let module = report.row("pkcs11.module").expect("row");
        assert_eq!(module.status, Status::Fail);
        assert!(module.fix.as_ref().expect("fix").en.contains("--features card"));
        assert_eq!(status(&report, "pkcs11.token"), Status::Warn);
    }

    #[test]
    fn clock_and_urls() {
        assert_eq!(clock_row(datetime!(2025-06-01 00:00 UTC)).status, Status::Fail);
        assert_eq!(clock_row(datetime!(2026-11-22 00:00 UTC)).status, Status::Ok);
        assert_eq!(
            split_url("http://127.0.0.1:8080/ecpa"),
            Some((false, "127.0.0.1".into(), 8080, "/ecpa".into()))
        );
        assert_eq!(
            split_url("https://ecpa.dgpa.gov.tw"),
            Some((true, "ecpa.dgpa.gov.tw".into(), 443, "/".into()))
        );
        assert_eq!(
            split_url("http://[::1]:81/"),
            Some((false, "::1".into(), 81, "/".into()))
        );
        assert_eq!(split_url("ftp://x"), None);
        assert_eq!(split_url("http://host:notaport/"), None);
    }

    #[test]
    fn the_portal_row_over_real_http_and_a_closed_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        let r = portal_row(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert!(r.found.en.contains("200 OK"));
        server.join().expect("server");

        // The port is closed now.
        let r = portal_row(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2));
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.fix.is_some());
    }

    #[cfg(feature = "card")]
    #[test]
    fn certificate_validity() {
        let pki = crate::pki::testpki::TestPki::new().expect("pki");
        let (cert, _) = pki
            .issue(&crate::pki::testpki::EndEntitySpec::citizen(
                "王小明",
                "0000000012345678",
                None,
            ))
            .expect("issue");
        let t = || Bilingual::same("t");
        assert_eq!(
            certificate_row(t(), t(), &cert, datetime!(2026-06-01 00:00 UTC)).status,
            Status::Ok
        );
        assert_eq!(
            certificate_row(t(), t(), &cert, datetime!(2034-12-20 00:00 UTC)).status,
            Status::Warn
        );
        assert_eq!(
            certificate_row(t(), t(), &cert, datetime!(2035-06-01 00:00 UTC)).status,
            Status::Fail
        );
        assert_eq!(
            certificate_row(t(), t(), &cert, datetime!(2024-06-01 00:00 UTC)).status,
            Status::Fail
        );
    }

    #[test]
    fn anchors_directory() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(anchors_row(Some(&dir.path().join("missing"))).status, Status::Fail);
        assert_eq!(anchors_row(Some(dir.path())).status, Status::Fail, "empty");
        let pki = crate::pki::testpki::TestPki::new().expect("pki");
        std::fs::write(dir.path().join("root.der"), pki.root.der()).expect("write");
        let r = anchors_row(Some(dir.path()));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert!(r.found.en.contains("1 root certificate"));
        std::fs::write(dir.path().join("junk.txt"), b"junk").expect("write");
        assert_eq!(anchors_row(Some(dir.path())).status, Status::Warn);
    }
}
