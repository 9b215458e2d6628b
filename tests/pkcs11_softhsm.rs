//! The citizen-card signer against a real PKCS#11 module: SoftHSM2, holding a key pair and
//! certificate of the test PKI, plus an encryption certificate to prove the signing one is
//! picked.
//!
//! SoftHSM reads `SOFTHSM2_CONF` when the module is initialised, and a module is initialised
//! once per process, so each scenario runs in a child process of this test binary (the
//! `child_*` tests, ignored in a normal run) with its own configuration and token folder.
//! The wrong-PIN scenario loads SoftHSM through OpenSC's `pkcs11-spy` when it is installed,
//! which logs every call: the log must hold exactly one `C_Login`.
//!
//! Without SoftHSM2 the tests print that they were skipped and why (scripts/test installs it).
#![cfg(feature = "card")]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, CertificateType, ObjectClass};
use ecpa::ErrorCode;
use ecpa::card::pkcs11::{PinState, Pkcs11Module};
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Purpose, Signer, sign_cms, verify_cms, verify_raw_pkcs1};
use ecpa::types::Pin;
use time::macros::datetime;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SPY: &str = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so";
const SO_PIN: &str = "87654321";
const USER_PIN: &str = "246810";
const WRONG_PIN: &str = "135790";
/// The token holding both certificates.
const CARD: &str = "citizen-card";
/// A token holding only the encryption certificate.
const ENC_ONLY: &str = "enc-only";

/// What a child reads from its environment.
const ENV_DIR: &str = "ECPA_P11_TEST_DIR";
const ENV_MODULE: &str = "ECPA_P11_TEST_MODULE";

/// SoftHSM2 is here, or why the tests are skipped.
fn softhsm_available(test: &str) -> bool {
    let util = Command::new("softhsm2-util").arg("--version").output().is_ok();
    if Path::new(MODULE).is_file() && util {
        return true;
    }
    eprintln!(
        "SKIPPED {test}: SoftHSM2 is not installed ({MODULE} or softhsm2-util missing); \
         `apt-get install softhsm2` or run scripts/test"
    );
    false
}

/// A SoftHSM configuration and token folder in a fresh temporary directory, with the tokens
/// initialised and the test PKI's keys and certificates imported.
struct Hsm {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

impl Hsm {
    fn util(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .expect("softhsm2-util runs");
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the ignored test `name` of this binary in a child with this HSM's configuration,
    /// loading `module`; extra environment in `env`. Returns its combined output.
    fn child(&self, name: &str, module: &str, env: &[(&str, &Path)]) -> String {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
        cmd.args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
            .env("SOFTHSM2_CONF", &self.conf)
            .env(ENV_DIR, self.dir.path())
            .env(ENV_MODULE, module);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("child runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "child {name} failed:\n{text}");
        assert!(text.contains("1 passed"), "child {name} did not run:\n{text}");
        text
    }

    fn new() -> Hsm {
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
        let hsm = Hsm { dir, conf };

        let pki = TestPki::new().expect("test PKI");
        let (signing, signing_key) = pki
            .issue(&EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789")))
            .expect("signing certificate");
        let mut spec = EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789"));
        spec.purpose = Purpose::Encryption;
        let (encryption, encryption_key) = pki.issue(&spec).expect("encryption certificate");
        assert_eq!(signing.purpose(), Purpose::Signing);
        assert_eq!(encryption.purpose(), Purpose::Encryption);

        for (name, der) in [
            ("signing.der", signing.der()),
            ("encryption.der", encryption.der()),
            ("root.der", pki.root.der()),
        ] {
            std::fs::write(hsm.path(name), der).expect("write certificate");
        }
        for (name, key) in [("signing.pem", &signing_key), ("encryption.pem", &encryption_key)] {
            let pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &key.to_pkcs8().expect("pkcs8"))
                .expect("pem");
            std::fs::write(hsm.path(name), pem).expect("write key");
        }

        for label in [CARD, ENC_ONLY] {
            hsm.util(&[
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
                USER_PIN,
            ]);
        }
        // The encryption key goes in first, so picking the first certificate would be wrong.
        let imports = [
            (CARD, "encryption.pem", "enc", "02"),
            (CARD, "signing.pem", "sign", "01"),
            (ENC_ONLY, "encryption.pem", "enc", "02"),
        ];
        for (token, file, label, id) in imports {
            let file = hsm.path(file);
            hsm.util(&[
                "--import",
                file.to_str().expect("utf-8 path"),
                "--token",
                token,
                "--label",
                label,
                "--id",
                id,
                "--pin",
                USER_PIN,
            ]);
        }
        // softhsm2-util imports keys only: the certificate objects are created over PKCS#11,
        // as public token objects (no login), in a child that has this configuration.
        hsm.child("child_store_certificates", MODULE, &[]);
        hsm
    }
}

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(name).unwrap_or_else(|| panic!("{name} is set by the parent")))
}

/// In a child: whether this process was started by a parent test (else it does nothing).
fn in_child() -> bool {
    std::env::var_os(ENV_DIR).is_some()
}

fn read_certificate(name: &str) -> Certificate {
    Certificate::from_der(&std::fs::read(env_path(ENV_DIR).join(name)).expect("read")).expect("parses")
}

#[test]
#[ignore = "run by the parent tests in a child process with its own SOFTHSM2_CONF"]
fn child_store_certificates() {
    if !in_child() {
        return;
    }
    let dir = env_path(ENV_DIR);
    let ctx = Pkcs11::new(env_path(ENV_MODULE)).expect("module");
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .expect("init");
    let objects = [
        (CARD, "encryption.der", "enc", vec![0x02]),
        (CARD, "signing.der", "sign", vec![0x01]),
        (ENC_ONLY, "encryption.der", "enc", vec![0x02]),
    ];
    for (token, file, label, id) in objects {
        let slot = ctx
            .get_slots_with_token()
            .expect("slots")
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .map(|t| t.label().trim() == token)
                    .unwrap_or(false)
            })
            .expect("token");
        let session = ctx.open_rw_session(slot).expect("rw session");
        let der = std::fs::read(dir.join(file)).expect("certificate");
        let cert = Certificate::from_der(&der).expect("parses");
        session
            .create_object(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id),
                Attribute::Subject(cert.subject_der().to_vec()),
                Attribute::Issuer(cert.issuer_der().to_vec()),
                Attribute::Value(der),
            ])
            .expect("certificate object");
    }
}

#[test]
fn a_missing_module_path_is_a_clear_error() {
    let e = Pkcs11Module::load(Path::new("/nonexistent/HiCOS/libHicos_p11v1.so")).expect_err("no module");
    assert_eq!(e.code(), ErrorCode::Pkcs11ModuleNotFound);
    let en = e.message(ecpa::types::Lang::En);
    assert!(en.contains("/nonexistent/HiCOS/libHicos_p11v1.so"), "{en}");
    assert!(en.contains("HiCOS"), "says what to install: {en}");
    assert!(e.to_string().starts_with("E2101 token_module_not_found"), "{e}");
}

#[test]
fn list_login_sign_and_verify() {
    if !softhsm_available("list_login_sign_and_verify") {
        return;
    }
    let hsm = Hsm::new();
    hsm.child("child_list_login_sign", MODULE, &[]);
}

#[test]
#[ignore = "run by the parent tests in a child process with its own SOFTHSM2_CONF"]
fn child_list_login_sign() {
    if !in_child() {
        return;
    }
    let module = Pkcs11Module::load(&env_path(ENV_MODULE)).expect("loads");
    let info = module.info().expect("info");
    assert_eq!(info.manufacturer, "SoftHSM");
    let tokens = module.tokens().expect("tokens");
    let labels: Vec<&str> = tokens.iter().map(|t| t.label.as_str()).collect();
    assert!(labels.contains(&CARD) && labels.contains(&ENC_ONLY), "{labels:?}");
    let token = module.token(Some(CARD)).expect("the card");
    assert_eq!(token.pin, PinState::default());
    assert_eq!(
        module.token(Some("no-such-card")).expect_err("absent").code(),
        ErrorCode::Pkcs11TokenNotPresent
    );

    let signing = read_certificate("signing.der");
    let certs = module.certificates(&token).expect("certificates");
    assert_eq!(certs.len(), 2, "the signing and the encryption certificate");
    let mut purposes: Vec<Purpose> = certs.iter().map(|c| c.purpose()).collect();
    purposes.retain(|p| *p == Purpose::Encryption);
    assert_eq!(purposes.len(), 1, "the encryption certificate is there too");
    let picked = module.signing_certificate(&token).expect("signing certificate");
    assert_eq!(picked.certificate.der(), signing.der());
    assert_eq!(picked.id, vec![0x01]);

    let signer = module.login(&token, &Pin::new(USER_PIN).unwrap()).expect("login");
    assert_eq!(signer.certificate().der(), signing.der());
    let challenge = b"ecpa login challenge 0123456789abcdef";
    let signature = signer.sign(challenge).expect("signs");
    assert_eq!(signature.len(), 256, "RSA-2048");
    verify_raw_pkcs1(challenge, &signature, &signing).expect("verifies with the signing certificate");
    let encryption = read_certificate("encryption.der");
    assert_eq!(
        verify_raw_pkcs1(challenge, &signature, &encryption)
            .expect_err("not the encryption key")
            .code(),
        ErrorCode::SignatureInvalid
    );
    assert_eq!(
        verify_raw_pkcs1(b"another challenge", &signature, &signing)
            .expect_err("other content")
            .code(),
        ErrorCode::SignatureInvalid
    );

    let at = datetime!(2026-06-01 10:00 UTC);
    let cms = sign_cms(challenge, &signer, signer.certificate(), at).expect("CMS");
    let verified = verify_cms(&cms, None).expect("CMS verifies");
    assert_eq!(verified.signer.der(), signing.der());
    assert_eq!(verified.content, challenge);
    drop(signer);

    // Logged out and closed: a new login works and the PIN flags stayed clean.
    assert_eq!(module.pin_state(&token).expect("flags"), PinState::default());
    let again = module.login(&token, &Pin::new(USER_PIN).unwrap()).expect("login again");
    again.logout();

    // A token whose only certificate is for encryption has no signer, and no try is spent.
    let enc_only = module.token(Some(ENC_ONLY)).expect("enc-only token");
    assert_eq!(
        module.signing_certificate(&enc_only).expect_err("none").code(),
        ErrorCode::Pkcs11SigningCertificateNotFound
    );
    assert_eq!(
        module
            .login(&enc_only, &Pin::new(WRONG_PIN).unwrap())
            .expect_err("no signing certificate")
            .code(),
        ErrorCode::Pkcs11SigningCertificateNotFound
    );
    assert_eq!(
        module.pin_state(&enc_only).expect("flags"),
        PinState::default(),
        "the wrong PIN was never sent"
    );
    println!("child_list_login_sign ok");
}

#[test]
fn a_wrong_pin_is_tried_exactly_once_and_reports_the_flags() {
    if !softhsm_available("a_wrong_pin_is_tried_exactly_once_and_reports_the_flags") {
        return;
    }
    let hsm = Hsm::new();
    let log = hsm.path("spy.log");
    if Path::new(SPY).is_file() {
        let out = hsm.child(
            "child_wrong_pin",
            SPY,
            &[("PKCS11SPY", Path::new(MODULE)), ("PKCS11SPY_OUTPUT", &log)],
        );
        let calls = std::fs::read_to_string(&log).expect("spy log");
        let logins = calls
            .lines()
            .filter(|l| l.split_once(": ").map(|(_, f)| f.trim()) == Some("C_Login"))
            .count();
        assert_eq!(logins, 1, "exactly one C_Login:\n{out}\n{calls}");
    } else {
        eprintln!("note: {SPY} (Debian opensc-pkcs11) is not installed: the C_Login count is not checked");
        hsm.child("child_wrong_pin", MODULE, &[]);
    }
    // The flag the refusal set is on the token, and the right PIN clears it.
    hsm.child("child_right_pin_after_wrong", MODULE, &[]);
}

#[test]
#[ignore = "run by the parent tests in a child process with its own SOFTHSM2_CONF"]
fn child_wrong_pin() {
    if !in_child() {
        return;
    }
    let module = Pkcs11Module::load(&env_path(ENV_MODULE)).expect("loads");
    let token = module.token(Some(CARD)).expect("the card");
    assert_eq!(module.pin_state(&token).expect("before"), PinState::default());
    let err = module
        .login(&token, &Pin::new(WRONG_PIN).unwrap())
        .expect_err("wrong PIN");
    // SoftHSM only says "count low": tries left unknown.
    assert!(matches!(err, ecpa::Error::PinIncorrect { tries_left: None }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::PinIncorrect);
    assert!(
        !format!("{err:?}{err}").contains(WRONG_PIN),
        "the PIN is never repeated"
    );
    let after = module.pin_state(&token).expect("after");
    assert!(after.count_low && !after.final_try && !after.locked, "{after:?}");
    println!("child_wrong_pin ok");
}

#[test]
#[ignore = "run by the parent tests in a child process with its own SOFTHSM2_CONF"]
fn child_right_pin_after_wrong() {
    if !in_child() {
        return;
    }
    let module = Pkcs11Module::load(&env_path(ENV_MODULE)).expect("loads");
    let token = module.token(Some(CARD)).expect("the card");
    assert!(token.pin.count_low, "the earlier refusal is remembered by the token");
    let signer = module.login(&token, &Pin::new(USER_PIN).unwrap()).expect("login");
    assert_eq!(module.pin_state(&token).expect("flags"), PinState::default());
    let sig = signer.sign(b"after a wrong PIN").expect("signs");
    verify_raw_pkcs1(b"after a wrong PIN", &sig, &read_certificate("signing.der")).expect("verifies");
}

/// `ecpa doctor --json` with the SoftHSM module, trust anchors and a portal on loopback: the
/// PKCS#11, anchor, clock and portal rows are ok, and the exit code follows the rows.
#[cfg(feature = "cli")]
#[test]
fn doctor_with_a_module_anchors_and_a_portal() {
    use std::io::{Read, Write};
    if !softhsm_available("doctor_with_a_module_anchors_and_a_portal") {
        return;
    }
    let hsm = Hsm::new();
    let anchors = hsm.path("anchors");
    std::fs::create_dir(&anchors).expect("anchors dir");
    std::fs::copy(hsm.path("root.der"), anchors.join("grca-test.der")).expect("copy root");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let portal = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["doctor", "--json", "--pkcs11-module", MODULE])
        .arg("--anchors")
        .arg(&anchors)
        .arg("--portal")
        .arg(format!("http://127.0.0.1:{port}/"))
        .env("SOFTHSM2_CONF", &hsm.conf)
        .output()
        .expect("ecpa runs");
    portal.join().expect("portal");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let rows = v["rows"].as_array().expect("rows");
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no row {id}: {v}"))
    };
    for id in [
        "pkcs11.module",
        "pkcs11.token",
        "pkcs11.certificate",
        "anchors",
        "clock",
        "portal",
    ] {
        assert_eq!(row(id)["status"], "ok", "{}", row(id));
    }
    assert!(
        row("pkcs11.module")["found"]["en"]
            .as_str()
            .expect("found")
            .contains("SoftHSM")
    );
    assert!(
        row("pkcs11.token")["found"]["en"]
            .as_str()
            .expect("found")
            .contains(CARD)
    );
    let cert = row("pkcs11.certificate")["found"]["en"].as_str().expect("found");
    assert!(
        cert.contains("serialNumber=0000000012345678") && cert.contains("2035-01-01"),
        "{cert}"
    );
    assert!(
        row("anchors")["found"]["en"]
            .as_str()
            .expect("found")
            .contains("1 root certificate")
    );
    let failed = rows.iter().any(|r| r["status"] == "fail");
    assert_eq!(v["ok"], !failed);
    assert_eq!(out.status.code(), Some(if failed { 1 } else { 0 }), "{v}");
}
