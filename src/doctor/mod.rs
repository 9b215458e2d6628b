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

mod pcsc_probe;

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

fn pcsc_fix_service() -> (String, String) {
    if cfg!(target_os = "linux") {
        (
            "安裝並啟動 PC/SC 服務：apt-get install pcscd（無 systemd 時執行 pcscd）".into(),
            "install and start the PC/SC service: apt-get install pcscd (without systemd, run pcscd)".into(),
        )
    } else if cfg!(windows) {
        (
            "將「Smart Card」(SCardSvr) 服務的啟動類型設為「自動」並啟動".into(),
            "set the \"Smart Card\" (SCardSvr) service to start automatically, and start it".into(),
        )
    } else {
        (
            "macOS 內建 PC/SC，請重新插拔讀卡機".into(),
            "macOS has PC/SC built in: unplug the reader and plug it in again".into(),
        )
    }
}

/// The fix for a build without the `card` feature: PC/SC and PKCS#11 cannot be checked at all.
fn rebuild_with_cards() -> Bilingual {
    Bilingual::new(
        "此版本的 ecpa 未含讀卡功能：請以 `cargo install --features card`（或 `cargo build --release --features card`）重新建置，須先安裝 libpcsclite-dev 與 pkgconf",
        "this ecpa was built without card support: rebuild with `--features card` (`cargo install --features card` or `cargo build --release --features card`), which needs libpcsclite-dev and pkgconf",
    )
}

fn pcsc_rows(options: &DoctorOptions, probe: Arc<dyn ReaderProbe>, rows: &mut Vec<Row>) {
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let service_title = t("PC/SC 讀卡機服務", "PC/SC smart-card service");
    let readers_title = t("讀卡機", "card readers");
    let card_title = t("插入的卡片及種類", "card inserted and its kind");
    let nhi_title = t("健保卡可讀取", "NHI card readable");
    let not_checked =
        |why: &Bilingual| Bilingual::new(format!("未檢查：{}", why.zh), format!("not checked: {}", why.en));

    let timeout = options.timeout;
    let p = Arc::clone(&probe);
    // The probe gets the timeout too; the thread gives it a little longer before giving up.
    let readers = with_timeout(timeout + timeout / 2, move || p.readers(timeout));
    let readers = match readers {
        Ok(r) => r,
        Err(e) => {
            let fix = if e.code() == ErrorCode::CardSupportMissing {
                rebuild_with_cards()
            } else {
                let (zh, en) = pcsc_fix_service();
                Bilingual::new(zh, en)
            };
            let status = Status::Fail;
            let found = found_error(&e);
            rows.push(Row {
                fix: Some(fix),
                ..row(
                    "pcsc.service",
                    service_title,
                    found.clone(),
                    t("服務執行中且可連線", "running and reachable"),
                    status,
                )
            });
            for (id, title) in [
                ("pcsc.readers", readers_title),
                ("card.present", card_title),
                ("nhi.readable", nhi_title),
            ] {
                rows.push(row(
                    id,
                    title,
                    not_checked(&found),
                    t("需先能連線 PC/SC 服務", "needs the PC/SC service"),
                    Status::Warn,
                ));
            }
            return;
        }
    };
    rows.push(row(
        "pcsc.service",
        service_title,
        t("服務執行中", "running"),
        t("服務執行中且可連線", "running and reachable"),
        Status::Ok,
    ));

    if readers.is_empty() {
        rows.push(
            row(
                "pcsc.readers",
                readers_title,
                t("沒有讀卡機", "no reader"),
                t("至少一台讀卡機", "at least one reader"),
                Status::Fail,
            )
            .fix(
                "連接讀卡機；若已連接，請安裝其驅動程式（Linux：apt-get install libccid）",
                "connect a reader; if it is connected, install its driver (Linux: apt-get install libccid)",
            ),
        );
    } else {
        let names: Vec<&str> = readers.iter().map(|r| r.name.as_str()).collect();
        rows.push(row(
            "pcsc.readers",
            readers_title,
            Bilingual::new(
                format!("{} 台：{}", readers.len(), names.join("、")),
                format!("{}: {}", readers.len(), names.join(", ")),
            ),
            t("至少一台讀卡機", "at least one reader"),
            Status::Ok,
        ));
    }

    let with_card: Vec<&ProbedReader> = readers.iter().filter(|r| r.kind != "empty").collect();
    let kind_zh = |k: &str| match k {
        "nhi" => "健保卡",
        "moica" => "自然人憑證",
        _ => "無法辨識的卡片",
    };
    if with_card.is_empty() {
        rows.push(
            row(
                "card.present",
                card_title,
                t("沒有插入卡片", "no card inserted"),
                t("健保卡或自然人憑證", "an NHI card or a citizen certificate card"),
                Status::Warn,
            )
            .fix(
                "請插入健保卡或自然人憑證",
                "insert the NHI card or the citizen certificate card",
            ),
        );
    } else {
        let zh: Vec<String> = with_card
            .iter()
            .map(|r| format!("{}：{}", r.name, kind_zh(&r.kind)))
            .collect();
        let en: Vec<String> = with_card.iter().map(|r| format!("{}: {}", r.name, r.kind)).collect();
        let known = with_card.iter().any(|r| r.kind == "nhi" || r.kind == "moica");
        let mut r = row(
            "card.present",
            card_title,
            Bilingual::new(zh.join("；"), en.join("; ")),
            t("健保卡或自然人憑證", "an NHI card or a citizen certificate card"),
            if known { Status::Ok } else { Status::Warn },
        );
        if !known {
            r = r.fix(
                "卡片無法辨識：請確認插入的是健保卡或自然人憑證，晶片朝上插入",
                "the card is not recognised: check it is an NHI or citizen card, chip side up",
            );
        }
        rows.push(r);
    }

    match readers.iter().find(|r| r.kind == "nhi") {
        None => rows.push(
            row(
                "nhi.readable",
                nhi_title,
                t("未插入健保卡", "no NHI card inserted"),
                t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                Status::Warn,
            )
            .fix("插入健保卡後再檢測", "insert the NHI card and check again"),
        ),
        Some(reader) => {
            let name = reader.name.clone();
            let p = Arc::clone(&probe);
            let read = with_timeout(timeout + timeout / 2, move || p.read_nhi(&name, timeout));
            rows.push(match read {
                Ok(summary) => row(
                    "nhi.readable",
                    nhi_title,
                    Bilingual::same(summary),
                    t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                    Status::Ok,
                ),
                Err(e) => {
                    let r = row(
                        "nhi.readable",
                        nhi_title,
                        found_error(&e),
                        t("可讀取健保卡基本資料", "the NHI card's basic data reads"),
                        Status::Fail,
                    );
                    if timed_out(&e) {
                        r.fix(
                            "讀卡逾時：關閉佔用讀卡機的程式（如健保卡元件 NHIICC），重新插卡",
                            "the read timed out: close programs holding the reader (such as the NHIICC component) and reinsert the card",
                        )
                    } else {
                        r.fix(
                            "重新插入健保卡；若仍失敗，卡片可能損壞，請洽健保署換卡",
                            "reinsert the NHI card; if it still fails the card may be damaged: ask NHIA for a new one",
                        )
                    }
                }
            });
        }
    }
}

/// What the PKCS#11 probe found, gathered on the probe thread.
#[cfg(feature = "card")]
struct TokenFindings {
    module: crate::card::pkcs11::ModuleInfo,
    tokens: Vec<String>,
    certificate: Option<Result<Certificate>>,
}

#[cfg(feature = "card")]
fn probe_pkcs11(path: PathBuf) -> Result<TokenFindings> {
    use crate::card::pkcs11::Pkcs11Module;
    let module = Pkcs11Module::load(&path)?;
    let info = module.info()?;
    let tokens = module.tokens()?;
    let names = tokens
        .iter()
        .map(|t| {
            if t.serial.is_empty() {
                t.label.clone()
            } else {
                format!("{} ({})", t.label, t.serial)
            }
        })
        .collect();
    // The first token with a signing certificate (a reader may also hold another card).
    let mut certificate = None;
    for t in &tokens {
        match module.signing_certificate(t) {
            Ok(c) => {
                certificate = Some(Ok(c.certificate));
                break;
            }
            Err(e) if certificate.is_none() => certificate = Some(Err(e)),
            Err(_) => {}
        }
    }
    Ok(TokenFindings {
        module: info,
        tokens: names,
        certificate,
    })
}

#[cfg(feature = "card")]
fn pkcs11_rows(options: &DoctorOptions, rows: &mut Vec<Row>) {
    use crate::card::pkcs11::resolve_module_path;
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let module_title = t("自然人憑證 PKCS#11 模組", "citizen card PKCS#11 module");
    let token_title = t("憑證卡（token）", "card token");
    let cert_title = t("簽章用憑證及效期", "signing certificate and its validity");
    let expected_module = t(
        "HiCOS 或其他 PKCS#11 模組存在且可載入",
        "HiCOS or another PKCS#11 module present and loadable",
    );
    let hicos_fix = || {
        (
            format!(
                "安裝內政部憑證管理中心的 HiCOS 卡片管理工具（{HICOS_DOWNLOAD} 下載專區），或以 --pkcs11-module 指定模組路徑"
            ),
            format!(
                "install the HiCOS card tool from the MOICA site ({HICOS_DOWNLOAD}, downloads), or give the module with --pkcs11-module"
            ),
        )
    };
    // The module row failed with `e`: the token and certificate rows are not checked.
    let module_failed = |rows: &mut Vec<Row>, e: &Error, (zh, en): (String, String)| {
        let why = found_error(e);
        rows.push(
            row(
                "pkcs11.module",
                module_title.clone(),
                why.clone(),
                expected_module.clone(),
                Status::Fail,
            )
            .fix(zh, en),
        );
        for (id, title) in [
            ("pkcs11.token", token_title.clone()),
            ("pkcs11.certificate", cert_title.clone()),
        ] {
            rows.push(row(
                id,
                title,
                Bilingual::new(format!("未檢查：{}", why.zh), format!("not checked: {}", why.en)),
                t("需先載入 PKCS#11 模組", "needs the PKCS#11 module"),
                Status::Warn,
            ));
        }
    };

    let path = match resolve_module_path(options.pkcs11_module.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            module_failed(rows, &e, hicos_fix());
            return;
        }
    };
    let shown = path.display().to_string();
    let findings = with_timeout(options.timeout, move || probe_pkcs11(path));
    let findings = match findings {
        Ok(f) => f,
        Err(e) => {
            let fix = match e.code() {
                ErrorCode::Pkcs11ModuleNotFound => hicos_fix(),
                ErrorCode::DoctorProbeTimedOut => (
                    "模組載入逾時：拔除再插入讀卡機，或重新安裝 HiCOS".into(),
                    "loading the module timed out: replug the reader or reinstall HiCOS".into(),
                ),
                _ => (
                    format!("{shown} 不是可用的 PKCS#11 模組：請重新安裝 HiCOS（64 位元版本須與 ecpa 相符）"),
                    format!(
                        "{shown} is not a usable PKCS#11 module: reinstall HiCOS (its 32/64-bit kind must match ecpa)"
                    ),
                ),
            };
            module_failed(rows, &e, fix);
            return;
        }
    };
    let m = &findings.module;
    rows.push(row(
        "pkcs11.module",
        module_title,
        Bilingual::same(format!(
            "{} — {} {} {}",
            m.path.display(),
            m.manufacturer,
            m.description,
            m.version
        )),
        expected_module,
        Status::Ok,
    ));

    if findings.tokens.is_empty() {
        rows.push(
            row(
                "pkcs11.token",
                token_title,
                t("沒有憑證卡", "no token"),
                t("插入一張自然人憑證", "one citizen card inserted"),
                Status::Fail,
            )
            .fix(
                "插入自然人憑證；若已插入，請確認讀卡機可用（見 PC/SC 項目）",
                "insert the citizen card; if it is in, check the reader (see the PC/SC rows)",
            ),
        );
    } else {
        rows.push(row(
            "pkcs11.token",
            token_title,
            Bilingual::same(findings.tokens.join(", ")),
            t("插入一張自然人憑證", "one citizen card inserted"),
            Status::Ok,
        ));
    }

    let expected_cert = t(
        "簽章用憑證（digitalSignature／nonRepudiation）在效期內",
        "a signing certificate (digitalSignature / nonRepudiation) within its validity",
    );
    rows.push(match findings.certificate {
        None => row(
            "pkcs11.certificate",
            cert_title,
            t("未檢查：沒有憑證卡", "not checked: no token"),
            expected_cert,
            Status::Warn,
        ),
        Some(Err(e)) => row("pkcs11.certificate", cert_title, found_error(&e), expected_cert, Status::Fail).fix(
            "此卡沒有簽章用憑證：請確認插入的是自然人憑證，或至戶政事務所辦理",
            "this card has no signing certificate: check it is the citizen card, or apply at a household registration office",
        ),
        Some(Ok(cert)) => certificate_row(cert_title, expected_cert, &cert, OffsetDateTime::now_utc()),
    });
}

#[cfg(not(feature = "card"))]
fn pkcs11_rows(_options: &DoctorOptions, rows: &mut Vec<Row>) {
    let t = |zh: &str, en: &str| Bilingual::new(zh, en);
    let missing = found_error(&Error::new(ErrorCode::CardSupportMissing));
    rows.push(Row {
        fix: Some(rebuild_with_cards()),
        ..row(
            "pkcs11.module",
            t("自然人憑證 PKCS#11 模組", "citizen card PKCS#11 module"),
            missing.clone(),
            t(
                "含 card 功能的 ecpa 與可載入的 PKCS#11 模組",
                "ecpa with the card feature and a loadable PKCS#11 module",
            ),
            Status::Fail,
        )
    });
    for (id, title) in [
        ("pkcs11.token", t("憑證卡（token）", "card token")),
        (
            "pkcs11.certificate",
            t("簽章用憑證及效期", "signing certificate and its validity"),
        ),
    ] {
        rows.push(row(
            id,
            title,
            Bilingual::new(
                format!("未檢查：{}", missing.zh),
                format!("not checked: {}", missing.en),
            ),
            t("需先載入 PKCS#11 模組", "needs the PKCS#11 module"),
            Status::Warn,
        ));
    }
}

#[cfg(feature = "card")]
/// The signing certificate's validity at `now`: fail outside it, warn within 30 days of its end.
fn certificate_row(title: Bilingual, expected: Bilingual, cert: &Certificate, now: OffsetDateTime) -> Row {
    let (Ok(from), Ok(until)) = (cert.not_before(), cert.not_after()) else {
        return row(
            "pkcs11.certificate",
            title,
            Bilingual::new("憑證效期無法讀取", "the validity does not read"),
            expected,
            Status::Fail,
        );
    };
    let date = |t: OffsetDateTime| t.date().to_string();
    let found = Bilingual::new(
        format!("{}，有效期間 {} 至 {}", cert.subject(), date(from), date(until)),
        format!("{}, valid {} to {}", cert.subject(), date(from), date(until)),
    );
    if now < from {
        row("pkcs11.certificate", title, found, expected, Status::Fail).fix(
            "憑證尚未生效：請檢查電腦時間",
            "the certificate is not yet valid: check the computer's clock",
        )
    } else if now > until {
        row("pkcs11.certificate", title, found, expected, Status::Fail).fix(
            "憑證已逾期：請至戶政事務所或線上辦理展期或換發",
            "the certificate has expired: renew it online or at a household registration office",
        )
    } else if until - now < time::Duration::days(30) {
        row("pkcs11.certificate", title, found, expected, Status::Warn).fix(
            "憑證將於 30 天內到期：請盡早辦理展期",
            "the certificate expires within 30 days: renew it soon",
        )
    } else {
        row("pkcs11.certificate", title, found, expected, Status::Ok)
    }
}

fn anchors_row(dir: Option<&Path>) -> Row {
    let title = Bilingual::new("GRCA 信任錨點", "GRCA trust anchors");
    let expected = Bilingual::new(
        "可讀取的目錄，內含 GRCA 根憑證（G2／G3）",
        "a readable directory holding the GRCA root certificates (G2 / G3)",
    );
    let fix_zh = "自政府憑證管理中心（GRCA）網站下載根憑證，放入一個目錄，以 --anchors 指定";
    let fix_en = "download the root certificates from the GRCA site into a directory and give it with --anchors";
    let Some(dir) = dir else {
        return row(
            "anchors",
            title,
            Bilingual::new("未設定", "not configured"),
            expected,
            Status::Warn,
        )
        .fix(fix_zh, fix_en);
    };
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return row(
                "anchors",
                title,
                Bilingual::new(
                    format!("{shown}：無法讀取（{e}）"),
                    format!("{shown}: cannot read ({e})"),
                ),
                expected,
                Status::Fail,
            )
            .fix(fix_zh, fix_en);
        }
    };
    let mut roots = Vec::new();
    let mut others = 0usize;
    let mut bad = Vec::new();
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        match std::fs::read(f)
            .map_err(Error::from)
            .and_then(|b| Certificate::parse_all(&b))
        {
            Ok(certs) if !certs.is_empty() => {
                for c in certs {
                    if c.is_self_issued() {
                        roots.push(c.subject());
                    } else {
                        others += 1;
                    }
                }
            }
            _ => bad.push(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        }
    }
    let mut zh = format!("{shown}：{} 張根憑證", roots.len());
    let mut en = format!("{shown}: {} root certificate(s)", roots.len());
    if !roots.is_empty() {
        roots.sort();
        roots.dedup();
        zh += &format!("（{}）", roots.join("；"));
        en += &format!(" ({})", roots.join("; "));
    }
    if others > 0 {
        zh += &format!("，另有 {others} 張非自簽憑證");
        en += &format!(", and {others} certificate(s) not self-issued");
    }
    if !bad.is_empty() {
        zh += &format!("，無法解析的檔案：{}", bad.join("、"));
        en += &format!(", files that do not parse: {}", bad.join(", "));
    }
    let found = Bilingual::new(zh, en);
    if roots.is_empty() {
        row("anchors", title, found, expected, Status::Fail).fix(fix_zh, fix_en)
    } else if !bad.is_empty() {
        row("anchors", title, found, expected, Status::Warn).fix(
            "移除或更正無法解析的檔案（應為 PEM 或 DER 憑證）",
            "remove or correct the files that do not parse (PEM or DER certificates expected)",
        )
    } else {
        row("anchors", title, found, expected, Status::Ok)
    }
}

/// The earliest plausible "now": when this check was written. A clock before it makes every
/// certificate look not yet valid.
const CLOCK_FLOOR: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

fn clock_row(now: OffsetDateTime) -> Row {
    let title = Bilingual::new("系統時間", "system clock");
    let expected = Bilingual::new(
        "正確的目前時間（2026 年以後）",
        "the correct current time (2026 or later)",
    );
    let found = Bilingual::same(
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    if now < CLOCK_FLOOR || now.year() >= 2100 {
        row("clock", title, found, expected, Status::Fail).fix(
            "校正電腦時間（啟用網路校時）：時間錯誤會使憑證被判為未生效或已逾期",
            "set the computer's clock (enable network time): a wrong clock makes certificates look not yet valid or expired",
        )
    } else {
        row("clock", title, found, expected, Status::Ok)
    }
}

/// An `http://` or `https://` URL's host, port and path.
fn split_url(url: &str) -> Option<(bool, String, u16, String)> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h.to_owned(), port),
            Err(_) => return None,
        },
        _ => (authority.to_owned(), if tls { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return None;
    }
    Some((tls, host, port, path))
}

/// Connects (and, for plain HTTP, sends a GET and reads the status line) within `timeout`.
fn reach(url: &str, timeout: Duration) -> Result<String> {
    let bad = || {
        Error::with(
            ErrorCode::FieldInvalid,
            format!("網址格式錯誤：{url}"),
            format!("malformed URL: {url}"),
        )
    };
    let (tls, host, port, path) = split_url(url).ok_or_else(bad)?;
    let addr = (host.as_str(), port).to_socket_addrs()?.next().ok_or_else(|| {
        Error::with(
            ErrorCode::IoFailed,
            format!("{host} 無法解析"),
            format!("{host} does not resolve"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    if tls {
        return Ok(format!("TCP {addr} OK (TLS not checked)"));
    }
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: a server that answers and closes early must not see a request in pieces.
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ecpa-doctor\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 256];
    let n = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if !line.starts_with("HTTP/") {
        return Err(Error::with(
            ErrorCode::IoFailed,
            "回應不是 HTTP",
            "the answer is not HTTP",
        ));
    }
    Ok(format!("{addr}: {line}"))
}

fn portal_row(url: &str, timeout: Duration) -> Row {
    let title = Bilingual::new("人事服務網連線", "portal reachable");
    let expected = Bilingual::new(format!("可連線至 {url}"), format!("{url} answers"));
    let owned = url.to_owned();
    match with_timeout(timeout + timeout / 2, move || reach(&owned, timeout)) {
        Ok(status) => {
            let server_error = status.contains(" 5") && status.split(' ').nth(2).is_some_and(|c| c.starts_with('5'));
            let r = row(
                "portal",
                title,
                Bilingual::same(status),
                expected,
                if server_error { Status::Warn } else { Status::Ok },
            );
            if server_error {
                r.fix(
                    "伺服器回應錯誤：請稍後再試或洽系統管理者",
                    "the server answered with an error: try later or ask its operator",
                )
            } else {
                r
            }
        }
        Err(e) => row("portal", title, found_error(&e), expected, Status::Fail).fix(
            "檢查網址、網路連線、防火牆或代理伺服器設定",
            "check the URL, the network connection, the firewall or the proxy settings",
        ),
    }
}

/// Whether something accepts TCP connections at `addr` within `timeout`.
fn listening(host: &str, port: u16, timeout: Duration) -> Option<std::net::SocketAddr> {
    let addr = (host, port).to_socket_addrs().ok()?.next()?;
    TcpStream::connect_timeout(&addr, timeout).ok().map(|_| addr)
}

/// The rows for what replaces the old IE settings and ActiveX installs: the vendor components
/// ecpa does without.
fn legacy_rows(timeout: Duration) -> Vec<Row> {
    let short = timeout.min(Duration::from_millis(500));
    let hipki = with_timeout(timeout, move || Ok(listening("127.0.0.1", 61161, short))).unwrap_or(None);
    let nhi = with_timeout(timeout, move || {
        let resolved = ("iccert.nhi.gov.tw", 7777u16)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        let open = resolved.and_then(|a| TcpStream::connect_timeout(&a, short).ok().map(|_| a));
        Ok((resolved, open))
    });

    let mut rows = vec![row(
        "legacy.ie_activex",
        Bilingual::new(
            "IE 設定與 ActiveX 元件",
            "Internet Explorer settings and ActiveX controls",
        ),
        Bilingual::new(
            format!(
                "不需要；HiPKI 本機簽章服務（127.0.0.1:61161）：{}",
                if hipki.is_some() { "執行中" } else { "未執行" }
            ),
            format!(
                "not needed; HiPKI local sign server (127.0.0.1:61161): {}",
                if hipki.is_some() { "running" } else { "not running" }
            ),
        ),
        Bilingual::new(
            "ecpa 自行以 PC/SC 讀取健保卡、以 PKCS#11 使用自然人憑證，不需 IE、ActiveX 或瀏覽器外掛",
            "ecpa reads the NHI card over PC/SC and uses the citizen card over PKCS#11 itself: no IE, ActiveX or browser add-on",
        ),
        Status::Ok,
    )];

    let title = Bilingual::new(
        "健保卡讀卡元件（iccert.nhi.gov.tw:7777）",
        "NHI card component (iccert.nhi.gov.tw:7777)",
    );
    let expected = Bilingual::new(
        "ecpa 不需要；若安裝，名稱應指向本機",
        "not needed by ecpa; if installed, the name must point at this machine",
    );
    rows.push(match nhi {
        Ok((None, _)) | Err(_) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new("未安裝（名稱無法解析）", "not installed (the name does not resolve)"),
            expected,
            Status::Ok,
        ),
        Ok((Some(addr), _)) if !addr.ip().is_loopback() => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("名稱指向 {addr}，不是本機"), format!("the name points at {addr}, not this machine")),
            expected,
            Status::Warn,
        )
        .fix(
            "若要使用舊元件，hosts 檔應將 iccert.nhi.gov.tw 指向 127.0.0.1；使用 ecpa 則不需要",
            "for the old component the hosts file must point iccert.nhi.gov.tw at 127.0.0.1; ecpa does not need it",
        ),
        Ok((Some(addr), None)) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("名稱指向 {addr}，元件未執行"), format!("the name points at {addr}; the component is not running")),
            expected,
            Status::Ok,
        ),
        Ok((Some(addr), Some(_))) => row(
            "legacy.nhi_component",
            title,
            Bilingual::new(format!("元件執行中（{addr}）"), format!("the component is running ({addr})")),
            expected,
            Status::Warn,
        )
        .fix(
            "使用 ecpa 時請關閉此元件：它會獨佔讀卡機，且預設在所有網路介面上監聽",
            "stop it while using ecpa: it holds the reader exclusively and, as shipped, listens on every network interface",
        ),
    });
    rows
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
