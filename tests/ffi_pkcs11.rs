//! Certificate login through the C ABI with a citizen card over PKCS#11: SoftHSM2 holds a key
//! and certificate of the test PKI; `ecpa_pkcs11_open`, a wrong PIN (tries left reported, the
//! signer output untouched), the right PIN, and `ecpa_login_certificate` against a portal that
//! trusts the test PKI.
//!
//! SoftHSM reads `SOFTHSM2_CONF` when the module is initialised, once per process: this binary
//! holds this one test, which sets it before anything loads the module. Without SoftHSM2 the
//! test prints that it was skipped and why (scripts/test installs it).
#![cfg(feature = "ffi")]
#![allow(unsafe_code)] // calls the C ABI as C does, and sets the environment before any thread reads it

use std::ffi::{CString, c_char};
use std::path::Path;
use std::process::Command;
use std::ptr::{null, null_mut};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, CertificateType, ObjectClass};
use ecpa::ErrorCode;
use ecpa::ffi::*;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const USER_PIN: &str = "246810";

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL inside")
}

fn detail() -> String {
    let mut buf = vec![0u8; 2048];
    let mut n = 0;
    // SAFETY: a valid buffer triple.
    unsafe { ecpa_last_error_detail(ECPA_LANG_EN, buf.as_mut_ptr().cast::<c_char>(), buf.len(), &mut n) };
    buf.truncate(n.saturating_sub(1));
    String::from_utf8_lossy(&buf).into_owned()
}

fn ok(rc: u32) {
    assert_eq!(rc, ECPA_OK, "E{rc}: {}", detail());
}

fn util(conf: &Path, args: &[&str]) {
    let out = Command::new("softhsm2-util")
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .expect("softhsm2-util runs");
    assert!(out.status.success(), "softhsm2-util {args:?}: {out:?}");
}

#[test]
fn certificate_login_with_a_pkcs11_token_through_the_c_abi() {
    let available = Path::new(MODULE).is_file() && Command::new("softhsm2-util").arg("--version").output().is_ok();
    if !available {
        eprintln!("SKIPPED: SoftHSM2 is not installed ({MODULE}); `apt-get install softhsm2` or run scripts/test");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).expect("token dir");
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("conf");
    // SAFETY: the only test of this binary; no other thread reads the environment yet.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };

    let pki = TestPki::new().expect("test PKI");
    let (cert, key) = pki
        .issue(&EndEntitySpec::citizen("王小明", "0000000056780001", Some("6789")))
        .expect("issued");
    let pem =
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &key.to_pkcs8().expect("pkcs8")).expect("pem");
    let key_file = dir.path().join("signing.pem");
    std::fs::write(&key_file, pem).expect("key file");
    util(
        &conf,
        &[
            "--init-token",
            "--free",
            "--label",
            "citizen-card",
            "--so-pin",
            "87654321",
            "--pin",
            USER_PIN,
        ],
    );
    let key_path = key_file.to_str().expect("UTF-8 path");
    util(
        &conf,
        &[
            "--import",
            key_path,
            "--token",
            "citizen-card",
            "--label",
            "sign",
            "--id",
            "01",
            "--pin",
            USER_PIN,
        ],
    );
    // softhsm2-util imports keys only: the certificate object is created over PKCS#11, then the
    // module is finalised again so ecpa initialises it afresh.
    {
        let ctx = Pkcs11::new(MODULE).expect("module");
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("init");
        let slot = *ctx.get_slots_with_token().expect("slots").first().expect("a token");
        let session = ctx.open_rw_session(slot).expect("rw session");
        session
            .create_object(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(b"sign".to_vec()),
                Attribute::Id(vec![0x01]),
                Attribute::Subject(cert.subject_der().to_vec()),
                Attribute::Issuer(cert.issuer_der().to_vec()),
                Attribute::Value(cert.der().to_vec()),
            ])
            .expect("certificate object");
        drop(session);
        ctx.finalize().expect("finalize");
    }

    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    let csv = "agency_code,agency_name,unit,national_id,name,title,email\n\
               379130000C,臺北市政府勞動局,勞動檢查處,A123456789,王小明,科員,wang@mail.taipei.gov.tw\n";
    // SAFETY: live handles until freed; NUL-terminated strings; valid outputs.
    unsafe {
        let (mut trust, mut portal, mut p11) = (null_mut(), null_mut(), null_mut());
        ok(ecpa_trust_new(&mut trust));
        ok(ecpa_trust_add_anchor(
            trust,
            pki.root.der().as_ptr(),
            pki.root.der().len(),
        ));
        ok(ecpa_trust_add_intermediate(
            trust,
            pki.intermediate.der().as_ptr(),
            pki.intermediate.der().len(),
        ));
        ok(ecpa_portal_open_with_trust(db.as_ptr(), trust, &mut portal));
        ok(ecpa_trust_free(trust));
        let mut counts = EcpaImportCounts::default();
        ok(ecpa_portal_import_directory_csv(
            portal,
            csv.as_ptr(),
            csv.len(),
            &mut counts,
        ));

        assert_eq!(
            ecpa_pkcs11_open(c(MODULE).as_ptr(), c("no-such-token").as_ptr(), &mut p11),
            ErrorCode::Pkcs11TokenNotPresent.number()
        );
        ok(ecpa_pkcs11_open(
            c(MODULE).as_ptr(),
            c("citizen-card").as_ptr(),
            &mut p11,
        ));
        let mut tries = 99;
        ok(ecpa_pkcs11_pin_tries_left(p11, &mut tries));
        assert_eq!(tries, ECPA_TRIES_UNKNOWN, "a fresh SoftHSM token sets no PIN flags");

        // A wrong PIN: tried once, the tries left reported, no signer handed out.
        let mut signer: *mut EcpaSigner = null_mut();
        tries = 99;
        assert_eq!(
            ecpa_pkcs11_login(p11, c("135790").as_ptr(), &mut tries, &mut signer),
            ErrorCode::PinIncorrect.number()
        );
        assert!(signer.is_null());
        assert!(tries == ECPA_TRIES_UNKNOWN || tries == 1, "tries left {tries}");
        assert!(detail().contains("PIN"), "{}", detail());
        assert_eq!(
            ecpa_pkcs11_login(p11, c("12").as_ptr(), &mut tries, &mut signer),
            ErrorCode::PinFormatInvalid.number(),
            "a PIN of the wrong shape never reaches the card"
        );

        ok(ecpa_pkcs11_login(p11, c(USER_PIN).as_ptr(), &mut tries, &mut signer));
        let mut session = null_mut();
        assert_eq!(
            ecpa_login_certificate(portal, signer, null(), &mut session),
            ErrorCode::CertificateNotBound.number()
        );
        ok(ecpa_login_certificate(
            portal,
            signer,
            c("A123456789").as_ptr(),
            &mut session,
        ));
        let mut buf = vec![0u8; 4096];
        let mut n = 0;
        ok(ecpa_session_info_json(
            portal,
            session,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut n,
        ));
        let info: serde_json::Value = serde_json::from_slice(&buf[..n - 1]).expect("JSON");
        assert_eq!(info["method"], "certificate");
        assert_eq!(info["national_id"], "A12345****");

        ok(ecpa_logout(portal, session));
        ok(ecpa_session_free(session));
        ok(ecpa_signer_free(signer));
        ok(ecpa_pkcs11_free(p11));
        ok(ecpa_portal_close(portal));
    }
}
