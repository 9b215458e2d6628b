//! NHI cards, signers (citizen card over PKCS#11, software keys, the demo PKI), card readers
//! and the environment check.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::trust::{EcpaTrust, TrustParts};
use super::{
    ECPA_SEX_FEMALE, ECPA_SEX_MALE, ECPA_TRIES_UNKNOWN, StrOut, call, get, give, handle, invalid, opt_text, out, put,
    release, text, tries_left,
};
use crate::card::pkcs11::{Pkcs11Module, TokenInfo, resolve_module_path};
use crate::http::wire::parse_date;
use crate::pki::testpki::{EndEntitySpec, TestPki};
use crate::pki::{Certificate, Signer, SoftwareKey};
use crate::types::{CardNumber, NationalId, NhiCardData, PersonName, Pin, Sex};

/// What an [`EcpaSigner`] holds: the signer and its certificate.
pub(crate) struct SignerParts {
    pub(crate) signer: Box<dyn Signer>,
    pub(crate) certificate: Certificate,
}

/// An NHI card's basic data, and the reader it was read in (when it was).
pub(crate) struct CardParts {
    pub(crate) data: NhiCardData,
    reader: Option<String>,
}

/// `ecpa_nhi_card`: an NHI card's basic data (健保卡基本資料), read from a reader or built from
/// fields. Holds the full national ID; JSON output masks it unless asked.
pub struct EcpaNhiCard {
    inner: super::Tagged<CardParts>,
}
handle!(EcpaNhiCard, CardParts, 0x4543_5041_4e48_4943);

/// `ecpa_signer`: something that signs citizen-certificate login challenges with its
/// certificate: a citizen card logged in over PKCS#11, or a software key.
pub struct EcpaSigner {
    inner: super::Tagged<SignerParts>,
}
handle!(EcpaSigner, SignerParts, 0x4543_5041_5349_474e);

/// `ecpa_test_pki`: the demo's own GRCA-like root and MOICA-like intermediate, issuing
/// citizen certificates with software keys. For demos and tests only: nothing trusts it
/// unless given its trust explicitly.
pub struct EcpaTestPki {
    inner: super::Tagged<TestPki>,
}
handle!(EcpaTestPki, TestPki, 0x4543_5041_5450_4b49);

/// `ecpa_pkcs11`: a PKCS#11 module (HiCOS for the citizen card) and the token chosen in it.
pub struct EcpaPkcs11 {
    inner: super::Tagged<(Pkcs11Module, TokenInfo)>,
}
handle!(EcpaPkcs11, (Pkcs11Module, TokenInfo), 0x4543_5041_5031_3131);

/// A timeout in milliseconds as a duration.
fn millis(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms))
}

/// Builds NHI card data from its fields, each validated: `card_number` twelve digits, `name`
/// UTF-8 (stored as Big5 as on the card), `national_id`, `birth_date` and `issue_date` as ROC
/// (`075/03/15`, `0750315`) or ISO (`1986-03-15`) dates, `sex` `ECPA_SEX_MALE` or
/// `ECPA_SEX_FEMALE`. Writes a new handle to `out_card`; release with `ecpa_nhi_card_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_nhi_card_new(
    card_number: *const c_char,
    name: *const c_char,
    national_id: *const c_char,
    birth_date: *const c_char,
    sex: u32,
    issue_date: *const c_char,
    out_card: *mut *mut EcpaNhiCard,
) -> u32 {
    call(|| {
        out(out_card, "out_card")?;
        // SAFETY: NUL-terminated strings per the contract.
        let (number, name, id, birth, issued) = unsafe {
            (
                text(card_number, "card_number")?,
                text(name, "name")?,
                text(national_id, "national_id")?,
                text(birth_date, "birth_date")?,
                text(issue_date, "issue_date")?,
            )
        };
        let sex = match sex {
            ECPA_SEX_MALE => Sex::Male,
            ECPA_SEX_FEMALE => Sex::Female,
            other => {
                return Err(invalid(
                    format!("sex 應為 1（男）或 2（女），收到 {other}"),
                    format!("sex must be 1 (male) or 2 (female), got {other}"),
                ));
            }
        };
        let data = NhiCardData {
            card_number: CardNumber::parse(number)?,
            name: PersonName::new(name)?,
            national_id: NationalId::parse(id)?,
            birth_date: parse_date(birth)?,
            sex,
            issue_date: parse_date(issued)?,
        };
        // The same record a card holds, read back through the card parser, as a software card does.
        let data = crate::card::SoftNhiCard::new(&data).read()?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_card, CardParts { data, reader: None }) };
        Ok(())
    })
}

/// Parses the 57-byte basic-data record an NHI card returns (`record`, `len` must be 57):
/// for programs that talk to the reader themselves. Writes a new handle to `out_card`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_nhi_card_from_record(
    record: *const u8,
    len: usize,
    out_card: *mut *mut EcpaNhiCard,
) -> u32 {
    call(|| {
        out(out_card, "out_card")?;
        // SAFETY: `record` holds `len` bytes per the contract.
        let raw = unsafe { super::bytes(record, len, "record") }?;
        let data = NhiCardData::parse(raw)?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_card, CardParts { data, reader: None }) };
        Ok(())
    })
}

/// Reads the NHI card over PC/SC: in reader `reader` (its name or a unique prefix; NULL for
/// any reader), waiting up to `timeout_ms` for a card to be inserted. Writes a new handle to
/// `out_card`. Blocks the calling thread; other threads may read other readers meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_nhi_card_read(
    reader: *const c_char,
    timeout_ms: u32,
    out_card: *mut *mut EcpaNhiCard,
) -> u32 {
    call(|| {
        out(out_card, "out_card")?;
        // SAFETY: an optional NUL-terminated string per the contract.
        let reader = unsafe { opt_text(reader, "reader") }?;
        let r = crate::card::read_nhi_card(reader, millis(timeout_ms))?;
        // SAFETY: checked non-NULL above.
        unsafe {
            give(
                out_card,
                CardParts {
                    data: r.data,
                    reader: Some(r.reader),
                },
            )
        };
        Ok(())
    })
}

/// Writes the card's data as JSON, the same fields `ecpa card read --json` prints:
/// `{"reader" (null when not read from a reader), "card_number", "name", "name_raw" (Big5,
/// hex), "name_lossy", "national_id", "birth_date" (ROC `yyy/mm/dd`), "birth_date_iso", "sex"
/// ("male" / "female"), "issue_date", "issue_date_iso"}`. The card number and national ID are masked
/// (`A12345****`) unless `reveal` is true.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_nhi_card_json(
    card: *const EcpaNhiCard,
    reveal: bool,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let c = unsafe { get(card, "card") }?;
        let j = crate::card::NhiCardView::of(c.reader.as_deref(), &c.data, reveal);
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&j) }
    })
}

/// Releases card data (it holds a full national ID: release it when done). NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_nhi_card_free(card: *mut EcpaNhiCard) -> u32 {
    // SAFETY: a handle from `ecpa_nhi_card_*`, or NULL.
    call(|| unsafe { release(card, "card") })
}

/// Writes the card readers and the kind of card in each as JSON, as `ecpa card list --json`:
/// `[{"name", "kind" ("nhi" | "moica" | "unknown" | "empty"), "atr" (hex or null)}]`, within
/// `timeout_ms`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_card_readers_json(
    timeout_ms: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let readers = crate::card::list_readers(millis(timeout_ms))?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&readers) }
    })
}

// ---------------------------------------------------------------------------------------------
// Signers

/// A software signer from an RSA private key (`key`, `key_len` bytes of PKCS#8 DER) and its
/// certificate (`cert`, `cert_len` bytes, DER or PEM). The key bytes are copied and wiped with
/// the handle. Writes a new handle to `out_signer`; release with `ecpa_signer_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_signer_from_pkcs8(
    key: *const u8,
    key_len: usize,
    cert: *const u8,
    cert_len: usize,
    out_signer: *mut *mut EcpaSigner,
) -> u32 {
    call(|| {
        out(out_signer, "out_signer")?;
        // SAFETY: `key` and `cert` hold `key_len` and `cert_len` bytes per the contract.
        let (key, cert) = unsafe {
            (
                super::bytes(key, key_len, "key")?,
                super::bytes(cert, cert_len, "cert")?,
            )
        };
        let parts = SignerParts {
            signer: Box::new(SoftwareKey::from_pkcs8(key)?),
            certificate: Certificate::parse(cert)?,
        };
        // SAFETY: checked non-NULL above.
        unsafe { give(out_signer, parts) };
        Ok(())
    })
}

/// Writes the signer's certificate subject, e.g. `C=TW, CN=王小明, serialNumber=...` (UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_signer_subject(
    signer: *const EcpaSigner,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract; the buffer contract checked by `StrOut`.
        unsafe { o.write(&get(signer, "signer")?.certificate.subject()) }
    })
}

/// Releases a signer. A card signer logs out of the card and closes its session. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_signer_free(signer: *mut EcpaSigner) -> u32 {
    // SAFETY: a handle from `ecpa_signer_from_pkcs8`, `ecpa_pkcs11_login` or
    // `ecpa_test_pki_issue_citizen`, or NULL.
    call(|| unsafe { release(signer, "signer") })
}

/// A fresh demo PKI (new RSA-2048 keys each time; takes a moment). Writes a new handle to
/// `out_pki`; release with `ecpa_test_pki_free`. For demos and tests only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_test_pki_new(out_pki: *mut *mut EcpaTestPki) -> u32 {
    call(|| {
        out(out_pki, "out_pki")?;
        let pki = TestPki::new()?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_pki, pki) };
        Ok(())
    })
}

/// Writes a new trust holding the demo PKI's root (as anchor) and intermediate, for
/// `ecpa_portal_open_with_trust`. Release with `ecpa_trust_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_test_pki_trust(pki: *const EcpaTestPki, out_trust: *mut *mut EcpaTrust) -> u32 {
    call(|| {
        out(out_trust, "out_trust")?;
        // SAFETY: a live handle per the contract.
        let pki = unsafe { get(pki, "pki") }?;
        let t = TrustParts {
            anchors: vec![pki.root.clone()],
            intermediates: vec![pki.intermediate.clone()],
        };
        // SAFETY: checked non-NULL above.
        unsafe { give(out_trust, t) };
        Ok(())
    })
}

/// Issues a citizen signing certificate (MOICA profile, class-3 policy) to `name` with the
/// 16-character subject `serial_number` and, when not NULL, the last four digits of the
/// national ID (`id_last_four`, which the first login checks); writes a software signer for
/// it to `out_signer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_test_pki_issue_citizen(
    pki: *const EcpaTestPki,
    name: *const c_char,
    serial_number: *const c_char,
    id_last_four: *const c_char,
    out_signer: *mut *mut EcpaSigner,
) -> u32 {
    call(|| {
        out(out_signer, "out_signer")?;
        // SAFETY: a live handle and NUL-terminated strings per the contract.
        let (pki, name, serial, last) = unsafe {
            (
                get(pki, "pki")?,
                text(name, "name")?,
                text(serial_number, "serial_number")?,
                opt_text(id_last_four, "id_last_four")?,
            )
        };
        let (certificate, key) = pki.issue(&EndEntitySpec::citizen(name, serial, last))?;
        // SAFETY: checked non-NULL above.
        unsafe {
            give(
                out_signer,
                SignerParts {
                    signer: Box::new(key),
                    certificate,
                },
            )
        };
        Ok(())
    })
}

/// Releases a demo PKI. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_test_pki_free(pki: *mut EcpaTestPki) -> u32 {
    // SAFETY: a handle from `ecpa_test_pki_new`, or NULL.
    call(|| unsafe { release(pki, "pki") })
}

/// Loads a PKCS#11 module and chooses a token in it: `module_path` is the module file (NULL:
/// `ECPA_PKCS11_MODULE`, then where HiCOS is usually installed); `token` is a token label or
/// serial (NULL: the only token present). Writes a new handle to `out_pkcs11`; release with
/// `ecpa_pkcs11_free`. Nothing is logged in yet and no PIN is asked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_pkcs11_open(
    module_path: *const c_char,
    token: *const c_char,
    out_pkcs11: *mut *mut EcpaPkcs11,
) -> u32 {
    call(|| {
        out(out_pkcs11, "out_pkcs11")?;
        // SAFETY: optional NUL-terminated strings per the contract.
        let (path, token) = unsafe { (opt_text(module_path, "module_path")?, opt_text(token, "token")?) };
        let path = resolve_module_path(path.map(PathBuf::from).as_deref())?;
        let module = Pkcs11Module::load(&path)?;
        let token = module.token(token)?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_pkcs11, (module, token)) };
        Ok(())
    })
}

/// Writes the PIN tries left as the token's flags tell, without spending a try: 1 on the final
/// try, 0 when locked, `ECPA_TRIES_UNKNOWN` (-1) when the module does not say (a citizen card
/// locks after three wrong PINs).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_pkcs11_pin_tries_left(pkcs11: *const EcpaPkcs11, out_tries_left: *mut i32) -> u32 {
    call(|| {
        out(out_tries_left, "out_tries_left")?;
        // SAFETY: a live handle per the contract.
        let (module, token) = unsafe { get(pkcs11, "pkcs11") }?;
        let n = module
            .pin_state(token)?
            .tries_left()
            .map_or(ECPA_TRIES_UNKNOWN, |n| i32::try_from(n).unwrap_or(i32::MAX));
        // SAFETY: checked non-NULL above.
        unsafe { put(out_tries_left, n) };
        Ok(())
    })
}

/// Logs in to the token with `pin` (copied into wiped memory, sent to the module once, never
/// retried) and writes a signer for its signing certificate to `out_signer`. On
/// `ECPA_E_PIN_INCORRECT` writes the tries left to `out_tries_left` (1 on the final try,
/// `ECPA_TRIES_UNKNOWN` when the module does not say); on `ECPA_E_PIN_BLOCKED` writes 0;
/// otherwise leaves it alone. `out_tries_left` may be NULL. Show the tries left to the holder
/// and let them decide: a citizen card locks after three wrong PINs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_pkcs11_login(
    pkcs11: *const EcpaPkcs11,
    pin: *const c_char,
    out_tries_left: *mut i32,
    out_signer: *mut *mut EcpaSigner,
) -> u32 {
    call(|| {
        out(out_signer, "out_signer")?;
        // SAFETY: a live handle and a NUL-terminated string per the contract.
        let ((module, token), pin) = unsafe { (get(pkcs11, "pkcs11")?, Pin::new(text(pin, "pin")?)?) };
        match module.login(token, &pin) {
            Ok(signer) => {
                let certificate = signer.certificate().clone();
                // SAFETY: checked non-NULL above.
                unsafe {
                    give(
                        out_signer,
                        SignerParts {
                            signer: Box::new(signer),
                            certificate,
                        },
                    )
                };
                Ok(())
            }
            Err(e) => {
                if let Some(n) = tries_left(&e) {
                    // SAFETY: an optional output: NULL skipped, else writable per the contract.
                    unsafe { put(out_tries_left, n) };
                }
                Err(e)
            }
        }
    })
}

/// Releases a PKCS#11 handle (signers made from it stay usable). NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_pkcs11_free(pkcs11: *mut EcpaPkcs11) -> u32 {
    // SAFETY: a handle from `ecpa_pkcs11_open`, or NULL.
    call(|| unsafe { release(pkcs11, "pkcs11") })
}

// ---------------------------------------------------------------------------------------------
// The environment check

/// `ecpa_doctor_report`: the table of one run of the environment check, kept so it can be read
/// (and its size asked) without probing again.
pub struct EcpaDoctorReport {
    inner: super::Tagged<String>,
}
handle!(EcpaDoctorReport, String, 0x4543_5041_444f_4354);

/// Runs the environment check (`ecpa doctor`) and writes a new report handle to `out_report`
/// (read it with `ecpa_doctor_report_json`, release it with `ecpa_doctor_report_free`).
/// Optional inputs (NULL to skip or use the default): the PKCS#11 module path, the trust
/// anchors directory, the portal URL. Each probe gets `timeout_ms`; the call blocks the calling
/// thread for up to a few times that. Writes whether any row failed to `out_failed` (may be
/// NULL); the call itself succeeds whether rows fail or not.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_doctor_run(
    pkcs11_module: *const c_char,
    anchors: *const c_char,
    portal_url: *const c_char,
    timeout_ms: u32,
    out_failed: *mut bool,
    out_report: *mut *mut EcpaDoctorReport,
) -> u32 {
    call(|| {
        out(out_report, "out_report")?;
        // SAFETY: optional NUL-terminated strings per the contract.
        let (module, anchors, url) = unsafe {
            (
                opt_text(pkcs11_module, "pkcs11_module")?,
                opt_text(anchors, "anchors")?,
                opt_text(portal_url, "portal_url")?,
            )
        };
        let options = crate::doctor::DoctorOptions {
            pkcs11_module: module.map(PathBuf::from),
            anchors: anchors.map(PathBuf::from),
            portal: url.map(str::to_owned),
            timeout: millis(timeout_ms),
        };
        let report = crate::doctor::run(&options, Arc::from(crate::doctor::pcsc_probe()));
        let body = serde_json::json!({ "ok": !report.failed(), "rows": report.rows });
        let text = serde_json::to_string(&body).map_err(|e| crate::Error::internal(format!("JSON: {e}")))?;
        // SAFETY: checked non-NULL above; the other output is optional.
        unsafe {
            give(out_report, text);
            put(out_failed, report.failed());
        }
        Ok(())
    })
}

/// Writes a doctor report as JSON, the same as `ecpa doctor --json`: `{"ok": no row failed,
/// "rows": [{"id", "title": {"zh-TW", "en"}, "found": {...}, "expected": {...}, "status":
/// "ok" | "warn" | "fail", "fix": {...} or null}]}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_doctor_report_json(
    report: *const EcpaDoctorReport,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract; the buffer contract checked by `StrOut`.
        unsafe { o.write(get(report, "report")?) }
    })
}

/// Releases a doctor report. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_doctor_report_free(report: *mut EcpaDoctorReport) -> u32 {
    // SAFETY: a handle from `ecpa_doctor_run`, or NULL.
    call(|| unsafe { release(report, "report") })
}
