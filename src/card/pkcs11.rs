//! The citizen digital certificate card (自然人憑證) over PKCS#11, through the vendor's module.
//!
//! The MOICA card's applet is not publicly specified, so real cards are used through the
//! vendor's PKCS#11 module (HiCOS); tests use SoftHSM2 through the very same code. The module is
//! configuration ([`default_module_paths`] are only where HiCOS usually lands). This is the
//! only file that names `cryptoki`.
//!
//! The PIN rules of DOMAIN.md live in [`Pkcs11Module::login`]: the PIN the caller gives is sent
//! to the token exactly once (three wrong PINs lock the card), never retried, never kept after
//! the call, never logged; the token's PIN flags are read before and after a failed login and
//! turned into [`Error::PinIncorrect`] with the tries left, or [`ErrorCode::PinBlocked`].
//!
//! A loaded module stays loaded and initialised for the life of the process: PKCS#11 allows one
//! `C_Initialize` per process, and finalising would pull the module from under any other user.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::Encode;

use crate::error::{Error, ErrorCode, Result};
use crate::pki::{Certificate, Hash, Purpose, SignatureAlgorithm, Signer};
use crate::types::Pin;

/// Where the HiCOS module (中華電信 HiCOS PKCS#11) is usually installed on this operating system,
/// most likely first. The Windows and macOS names are the ones the vendor's installers and web
/// components use; the Linux name follows the macOS one.
pub fn default_module_paths() -> &'static [&'static str] {
    if cfg!(windows) {
        &[r"C:\Windows\System32\HiCOSPKCS11.dll"]
    } else if cfg!(target_os = "macos") {
        &["/usr/local/lib/libHicos_p11v1.dylib"]
    } else {
        &["/usr/local/lib/libHicos_p11v1.so"]
    }
}

/// The environment variable that names the PKCS#11 module when no path is given explicitly.
pub const MODULE_ENV: &str = "ECPA_PKCS11_MODULE";

/// The module to use: the configured path if given, else `ECPA_PKCS11_MODULE`, else the first of
/// [`default_module_paths`] that exists. A configured path is returned even when missing, so
/// that loading it says clearly which file is not there.
pub fn resolve_module_path(configured: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = configured {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(MODULE_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    default_module_paths()
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let tried = default_module_paths().join(", ");
            Error::with(
                ErrorCode::Pkcs11ModuleNotFound,
                format!("未指定模組，預設位置皆不存在：{tried}"),
                format!("no module configured and none at the default places: {tried}"),
            )
        })
}

/// The PIN flags of a token (CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
/// CKF_USER_PIN_LOCKED): all a PKCS#11 module says about the tries left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PinState {
    /// A wrong PIN was entered since the last right one (some tries are spent).
    pub count_low: bool,
    /// One more wrong PIN locks the card.
    pub final_try: bool,
    /// The PIN is locked.
    pub locked: bool,
}

impl PinState {
    /// The tries left, when the flags tell: `Some(1)` on the final try, `Some(0)` when locked.
    pub fn tries_left(self) -> Option<u32> {
        if self.locked {
            Some(0)
        } else if self.final_try {
            Some(1)
        } else {
            None
        }
    }

    /// What a refused PIN means, from the flags read after the refusal: blocked, final try
    /// (one left), or some tries spent (count unknown). The one place this mapping lives.
    pub fn refused_pin_error(self) -> Error {
        if self.locked {
            Error::new(ErrorCode::PinBlocked)
        } else if self.final_try {
            Error::PinIncorrect { tries_left: Some(1) }
        } else {
            Error::PinIncorrect { tries_left: None }
        }
    }
}

/// What the module says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleInfo {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// Manufacturer (e.g. `Chunghwa Telecom`, `SoftHSM`).
    pub manufacturer: String,
    /// Library description.
    pub description: String,
    /// Library version, `major.minor`.
    pub version: String,
}

/// A token (a card in a reader, for HiCOS) present in one slot of the module.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    slot: Slot,
    /// Token label (HiCOS: the card's label; SoftHSM: as initialised).
    pub label: String,
    /// Token serial number (the card's serial).
    pub serial: String,
    /// Token manufacturer.
    pub manufacturer: String,
    /// Token model.
    pub model: String,
    /// The PIN flags when this was read.
    pub pin: PinState,
    /// The PIN is typed on the reader's own keypad (protected authentication path).
    pub protected_auth_path: bool,
}

impl TokenInfo {
    /// The slot's number in the module (for display; slots are not stable across reboots).
    pub fn slot_id(&self) -> u64 {
        self.slot.id()
    }
}

/// A certificate object on a token, with the CKA_ID that pairs it with its private key.
#[derive(Debug, Clone)]
pub struct TokenCertificate {
    /// The certificate.
    pub certificate: Certificate,
    /// CKA_ID.
    pub id: Vec<u8>,
    /// CKA_LABEL.
    pub label: String,
}

impl TokenCertificate {
    /// Signing (digitalSignature / nonRepudiation) or encryption, by keyUsage.
    pub fn purpose(&self) -> Purpose {
        self.certificate.purpose()
    }
}

/// Turns a module failure into the crate's error: removal and session loss get their own code,
/// a PIN refusal is handled by the login itself, the rest keeps the CKR_ name in the detail.
fn ck(what: &'static str) -> impl Fn(CkError) -> Error {
    move |e| {
        let error = match &e {
            CkError::Pkcs11(rv, _) => rv_error(what, *rv),
            other => Error::with(
                ErrorCode::Pkcs11Failed,
                format!("{what}：{other}"),
                format!("{what}: {other}"),
            ),
        };
        error.because(e)
    }
}

fn rv_error(what: &str, rv: RvError) -> Error {
    let name = format!("{rv:?}");
    match rv {
        RvError::TokenNotPresent
        | RvError::DeviceRemoved
        | RvError::SessionClosed
        | RvError::SessionHandleInvalid
        | RvError::SlotIdInvalid => Error::with(
            ErrorCode::Pkcs11TokenRemoved,
            format!("{what}：{name}"),
            format!("{what}: {name}"),
        ),
        RvError::PinLocked => Error::new(ErrorCode::PinBlocked),
        RvError::MechanismInvalid => Error::with(
            ErrorCode::Pkcs11MechanismUnsupported,
            format!("{what}：{name}"),
            format!("{what}: {name}"),
        ),
        _ => Error::with(
            ErrorCode::Pkcs11Failed,
            format!("{what}：{name}"),
            format!("{what}: {name}"),
        ),
    }
}

/// Modules loaded by this process, by the path they were loaded from: one `C_Initialize` each.
fn loaded() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    LOADED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A loaded and initialised PKCS#11 module.
#[derive(Clone)]
pub struct Pkcs11Module {
    path: PathBuf,
    ctx: Pkcs11,
}

impl fmt::Debug for Pkcs11Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Module({})", self.path.display())
    }
}

impl Pkcs11Module {
    /// Loads and initialises the module at `path` (once per process; later calls share it).
    /// A missing file is [`ErrorCode::Pkcs11ModuleNotFound`]; a file that is not a PKCS#11
    /// module, or fails to initialise, [`ErrorCode::Pkcs11ModuleLoadFailed`].
    pub fn load(path: &Path) -> Result<Pkcs11Module> {
        if !path.is_file() {
            let shown = path.display().to_string();
            return Err(Error::with(
                ErrorCode::Pkcs11ModuleNotFound,
                format!("檔案不存在：{shown}"),
                format!("no such file: {shown}"),
            ));
        }
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let mut modules = loaded()
            .lock()
            .map_err(|_| Error::internal("PKCS#11 module table poisoned"))?;
        if let Some(ctx) = modules.get(&key) {
            return Ok(Pkcs11Module {
                path: key,
                ctx: ctx.clone(),
            });
        }
        let load_failed = |e: CkError| {
            let shown = path.display().to_string();
            Error::caused(
                ErrorCode::Pkcs11ModuleLoadFailed,
                format!("{shown}：{e}"),
                format!("{shown}: {e}"),
                e,
            )
        };
        let ctx = Pkcs11::new(&key).map_err(load_failed)?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Someone else in this process initialised it already: that is fine to share.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(load_failed(e)),
        }
        modules.insert(key.clone(), ctx.clone());
        Ok(Pkcs11Module { path: key, ctx })
    }

    /// The file the module was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the module says about itself (C_GetInfo).
    pub fn info(&self) -> Result<ModuleInfo> {
        let info = self.ctx.get_library_info().map_err(ck("C_GetInfo"))?;
        let v = info.library_version();
        Ok(ModuleInfo {
            path: self.path.clone(),
            manufacturer: info.manufacturer_id().trim().to_owned(),
            description: info.library_description().trim().to_owned(),
            version: format!("{}.{}", v.major(), v.minor()),
        })
    }

    /// The tokens present, one per slot with a card (initialised tokens only: an empty
    /// SoftHSM slot or a blank card is not a citizen card).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let slots = self.ctx.get_slots_with_token().map_err(ck("C_GetSlotList"))?;
        let mut out = Vec::new();
        for slot in slots {
            let t = match self.ctx.get_token_info(slot) {
                Ok(t) => t,
                // The card went away between the two calls: it is not present.
                Err(CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _)) => continue,
                Err(e) => return Err(ck("C_GetTokenInfo")(e)),
            };
            if !t.token_initialized() {
                continue;
            }
            out.push(TokenInfo {
                slot,
                label: t.label().trim().to_owned(),
                serial: t.serial_number().trim().to_owned(),
                manufacturer: t.manufacturer_id().trim().to_owned(),
                model: t.model().trim().to_owned(),
                pin: PinState {
                    count_low: t.user_pin_count_low(),
                    final_try: t.user_pin_final_try(),
                    locked: t.user_pin_locked(),
                },
                protected_auth_path: t.protected_authentication_path(),
            });
        }
        Ok(out)
    }

    /// The only token, or the one with this label or serial; [`ErrorCode::Pkcs11TokenNotPresent`]
    /// when there is none (or none matches).
    pub fn token(&self, label_or_serial: Option<&str>) -> Result<TokenInfo> {
        let tokens = self.tokens()?;
        let found = match label_or_serial {
            Some(want) => tokens.into_iter().find(|t| t.label == want || t.serial == want),
            None => tokens.into_iter().next(),
        };
        found.ok_or_else(|| match label_or_serial {
            Some(want) => Error::with(
                ErrorCode::Pkcs11TokenNotPresent,
                format!("找不到標籤或序號為 {want} 的憑證卡"),
                format!("no token labelled or numbered {want}"),
            ),
            None => Error::new(ErrorCode::Pkcs11TokenNotPresent),
        })
    }

    /// The PIN flags of the token now (read fresh from the module).
    pub fn pin_state(&self, token: &TokenInfo) -> Result<PinState> {
        let t = self.ctx.get_token_info(token.slot).map_err(ck("C_GetTokenInfo"))?;
        Ok(PinState {
            count_low: t.user_pin_count_low(),
            final_try: t.user_pin_final_try(),
            locked: t.user_pin_locked(),
        })
    }

    fn open(&self, token: &TokenInfo) -> Result<Session> {
        self.ctx.open_ro_session(token.slot).map_err(ck("C_OpenSession"))
    }

    /// The X.509 certificates on the token that can be read without logging in. A certificate
    /// object that does not parse is skipped (a card may carry other objects we do not need).
    pub fn certificates(&self, token: &TokenInfo) -> Result<Vec<TokenCertificate>> {
        let session = self.open(token)?;
        let result = certificates_in(&session);
        close(session);
        result
    }

    /// The signing certificate (digitalSignature / nonRepudiation, never the keyEncipherment
    /// one) among those readable without logging in.
    pub fn signing_certificate(&self, token: &TokenInfo) -> Result<TokenCertificate> {
        pick_signing(self.certificates(token)?)
    }

    /// Logs in to the token with `pin`, once, and returns a [`CardSigner`] for its signing key.
    ///
    /// The PIN goes to the module in one `C_Login` and nowhere else: no retry, no copy kept
    /// (the copy handed to the module is zeroized when the call returns). The PIN flags are
    /// read before (a locked PIN is refused without trying) and after a refusal, which becomes
    /// [`Error::PinIncorrect`] (`Some(1)` on the final try, `None` when the module only says
    /// some tries were spent) or [`ErrorCode::PinBlocked`]. On every failure the session is
    /// logged out and closed before this returns.
    pub fn login(&self, token: &TokenInfo, pin: &Pin) -> Result<CardSigner> {
        let before = self.pin_state(token)?;
        if before.locked {
            return Err(Error::new(ErrorCode::PinBlocked));
        }
        let session = self.open(token)?;
        // Refuse before spending a try when the token visibly has no signing certificate.
        let public = match certificates_in(&session) {
            Ok(list) => list,
            Err(e) => {
                close(session);
                return Err(e);
            }
        };
        // A token that shows certificates but no signing one has none: refuse before spending
        // a try. A token that shows none may hide them until login: look again after it.
        let any_visible = !public.is_empty();
        let public_signing = pick_signing(public).ok();
        if public_signing.is_none() && any_visible {
            close(session);
            return Err(Error::new(ErrorCode::Pkcs11SigningCertificateNotFound));
        }

        let secret = AuthPin::from(pin.expose().to_owned());
        let attempt = session.login(UserType::User, Some(&secret));
        drop(secret);
        match attempt {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(rv, _)) => {
                close(session);
                return Err(self.login_refused(token, rv, before));
            }
            Err(e) => {
                close(session);
                return Err(ck("C_Login")(e));
            }
        }
        match self.signer_in(token, &session, public_signing) {
            Ok((certificate, key, mechanism)) => Ok(CardSigner {
                session: Mutex::new(Some(session)),
                key,
                mechanism,
                spki: certificate.spki,
                certificate: certificate.certificate,
            }),
            Err(e) => {
                logout_and_close(session);
                Err(e)
            }
        }
    }

    /// A refused login, read with the token's flags now: what the caller should be told.
    fn login_refused(&self, token: &TokenInfo, rv: RvError, before: PinState) -> Error {
        match rv {
            RvError::PinIncorrect => {
                // The flags after the refusal decide; if they cannot be read, the ones before
                // plus this refusal are the best we know.
                let after = self.pin_state(token).unwrap_or(PinState {
                    count_low: true,
                    ..before
                });
                after.refused_pin_error()
            }
            RvError::PinLocked => Error::new(ErrorCode::PinBlocked),
            RvError::PinLenRange | RvError::PinInvalid => Error::with(
                ErrorCode::PinFormatInvalid,
                "憑證卡不接受此長度或字元的 PIN 碼",
                "the card does not accept a PIN of this length or these characters",
            ),
            other => rv_error("C_Login", other),
        }
    }

    /// After login: the signing certificate, its private key and the mechanism to sign with.
    fn signer_in(
        &self,
        token: &TokenInfo,
        session: &Session,
        public_signing: Option<TokenCertificate>,
    ) -> Result<(SigningCertificate, ObjectHandle, SignMechanism)> {
        let cert = match public_signing {
            Some(c) => c,
            None => pick_signing(certificates_in(session)?)?,
        };
        let spki = cert
            .certificate
            .x509()
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::internal(format!("SubjectPublicKeyInfo: {e}")))?;
        let key = private_key_for(session, &cert)?;
        let mechanisms = self
            .ctx
            .get_mechanism_list(token.slot)
            .map_err(ck("C_GetMechanismList"))?;
        let mechanism = if mechanisms.contains(&MechanismType::SHA256_RSA_PKCS) {
            SignMechanism::Sha256RsaPkcs
        } else if mechanisms.contains(&MechanismType::RSA_PKCS) {
            SignMechanism::RsaPkcsWithDigestInfo
        } else {
            return Err(Error::new(ErrorCode::Pkcs11MechanismUnsupported));
        };
        Ok((
            SigningCertificate {
                certificate: cert.certificate,
                spki,
            },
            key,
            mechanism,
        ))
    }
}

struct SigningCertificate {
    certificate: Certificate,
    spki: Vec<u8>,
}

/// Closes a session that never logged in (dropping it closes it; the name says so).
fn close(session: Session) {
    drop(session);
}

/// Logs out (ignoring "not logged in") and closes the session.
fn logout_and_close(session: Session) {
    let _ = session.logout();
    drop(session);
}

fn certificates_in(session: &Session) -> Result<Vec<TokenCertificate>> {
    let template = [
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
    ];
    let handles = session.find_objects(&template).map_err(ck("C_FindObjects"))?;
    let mut out = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(h, &[AttributeType::Value, AttributeType::Id, AttributeType::Label])
            .map_err(ck("C_GetAttributeValue"))?;
        let (mut value, mut id, mut label) = (None, Vec::new(), String::new());
        for a in attrs {
            match a {
                Attribute::Value(v) => value = Some(v),
                Attribute::Id(v) => id = v,
                Attribute::Label(v) => label = String::from_utf8_lossy(&v).trim().to_owned(),
                _ => {}
            }
        }
        if let Some(certificate) = value.and_then(|der| Certificate::from_der(&der).ok()) {
            out.push(TokenCertificate { certificate, id, label });
        }
    }
    Ok(out)
}

/// The signing certificate of a card: keyUsage digitalSignature or nonRepudiation without
/// encipherment ([`Certificate::purpose`]). The rule's one place for PKCS#11 tokens.
fn pick_signing(certificates: Vec<TokenCertificate>) -> Result<TokenCertificate> {
    certificates
        .into_iter()
        .find(|c| c.purpose() == Purpose::Signing)
        .ok_or_else(|| Error::new(ErrorCode::Pkcs11SigningCertificateNotFound))
}

/// The private key of `cert`, paired by CKA_ID as PKCS#11 tokens (HiCOS, SoftHSM, OpenSC)
/// store a certificate and its key.
fn private_key_for(session: &Session, cert: &TokenCertificate) -> Result<ObjectHandle> {
    let missing = || {
        Error::with(
            ErrorCode::Pkcs11SigningCertificateNotFound,
            "找到簽章用憑證，但沒有對應的私密金鑰",
            "the signing certificate is there but its private key is not",
        )
    };
    if cert.id.is_empty() {
        return Err(missing());
    }
    let template = [
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Id(cert.id.clone()),
    ];
    let found = session.find_objects(&template).map_err(ck("C_FindObjects"))?;
    found.first().copied().ok_or_else(missing)
}

/// How the token is asked to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignMechanism {
    /// CKM_SHA256_RSA_PKCS: the token hashes.
    Sha256RsaPkcs,
    /// CKM_RSA_PKCS over a DigestInfo we build, for tokens without the combined mechanism.
    RsaPkcsWithDigestInfo,
}

/// The DER prefix of a SHA-256 DigestInfo (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
];

/// The card's signing key, logged in: signs RSA-2048 PKCS#1 v1.5 with SHA-256 for
/// [`crate::pki::sign_cms`] and the certificate login. Holds the logged-in session, never the
/// PIN; dropping it logs out and closes the session.
pub struct CardSigner {
    session: Mutex<Option<Session>>,
    key: ObjectHandle,
    mechanism: SignMechanism,
    certificate: Certificate,
    spki: Vec<u8>,
}

impl fmt::Debug for CardSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardSigner({})", self.certificate.subject())
    }
}

impl CardSigner {
    /// The signing certificate whose key this signs with.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Logs out and closes the session now (dropping does the same).
    pub fn logout(self) {
        drop(self);
    }
}

impl Drop for CardSigner {
    fn drop(&mut self) {
        let session = match self.session.get_mut() {
            Ok(s) => s.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(s) = session {
            logout_and_close(s);
        }
    }
}

impl Signer for CardSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RsaPkcs1(Hash::Sha256)
    }

    fn public_key_der(&self) -> Result<Vec<u8>> {
        Ok(self.spki.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let guard = self
            .session
            .lock()
            .map_err(|_| Error::internal("card session lock poisoned"))?;
        let session = guard
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::Pkcs11TokenRemoved))?;
        match self.mechanism {
            SignMechanism::Sha256RsaPkcs => session
                .sign(&Mechanism::Sha256RsaPkcs, self.key, message)
                .map_err(ck("C_Sign")),
            SignMechanism::RsaPkcsWithDigestInfo => {
                let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
                info.extend_from_slice(&Hash::Sha256.digest(message));
                session.sign(&Mechanism::RsaPkcs, self.key, &info).map_err(ck("C_Sign"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_failure_keeps_the_cryptoki_error_as_its_source() {
        let e = ck("C_Sign")(CkError::Pkcs11(
            RvError::DeviceRemoved,
            cryptoki::context::Function::Sign,
        ));
        assert_eq!(e.code(), ErrorCode::Pkcs11TokenRemoved);
        assert!(e.message(crate::types::Lang::En).contains("C_Sign"), "{e}");
        let source = std::error::Error::source(&e).expect("a source");
        assert!(
            matches!(
                source.downcast_ref::<CkError>(),
                Some(CkError::Pkcs11(RvError::DeviceRemoved, _))
            ),
            "{source:?}"
        );
        // A blocked PIN stays the plain code a caller acts on.
        let blocked = ck("C_Login")(CkError::Pkcs11(RvError::PinLocked, cryptoki::context::Function::Login));
        assert_eq!(blocked.code(), ErrorCode::PinBlocked);
    }

    #[test]
    fn flags_map_to_tries_left_and_blocked() {
        let none = PinState::default();
        assert_eq!(none.tries_left(), None);
        assert!(matches!(
            none.refused_pin_error(),
            Error::PinIncorrect { tries_left: None }
        ));
        let low = PinState {
            count_low: true,
            ..none
        };
        assert!(matches!(
            low.refused_pin_error(),
            Error::PinIncorrect { tries_left: None }
        ));
        let last = PinState {
            count_low: true,
            final_try: true,
            locked: false,
        };
        assert_eq!(last.tries_left(), Some(1));
        assert!(matches!(
            last.refused_pin_error(),
            Error::PinIncorrect { tries_left: Some(1) }
        ));
        let locked = PinState { locked: true, ..last };
        assert_eq!(locked.tries_left(), Some(0));
        assert_eq!(locked.refused_pin_error().code(), ErrorCode::PinBlocked);
    }

    #[test]
    fn module_errors_keep_their_ckr_name() {
        let e = rv_error("C_Sign", RvError::DeviceRemoved);
        assert_eq!(e.code(), ErrorCode::Pkcs11TokenRemoved);
        let e = rv_error("C_Sign", RvError::GeneralError);
        assert_eq!(e.code(), ErrorCode::Pkcs11Failed);
        assert!(e.message(crate::types::Lang::En).contains("GeneralError"));
        assert_eq!(rv_error("C_Login", RvError::PinLocked).code(), ErrorCode::PinBlocked);
    }

    #[test]
    fn missing_module_is_a_clear_error() {
        let e = Pkcs11Module::load(Path::new("/nonexistent/libHicos_p11v1.so")).expect_err("missing");
        assert_eq!(e.code(), ErrorCode::Pkcs11ModuleNotFound);
        assert!(
            e.message(crate::types::Lang::En)
                .contains("/nonexistent/libHicos_p11v1.so")
        );
        let dir = tempfile::tempdir().expect("dir");
        let not_a_module = dir.path().join("libfake.so");
        std::fs::write(&not_a_module, b"not a shared object").expect("write");
        let e = Pkcs11Module::load(&not_a_module).expect_err("not a module");
        assert_eq!(e.code(), ErrorCode::Pkcs11ModuleLoadFailed);
        assert_eq!(
            resolve_module_path(Some(Path::new("/x/y.so"))).expect("configured"),
            PathBuf::from("/x/y.so")
        );
        assert!(!default_module_paths().is_empty());
    }

    #[test]
    fn the_digest_info_prefix_is_sha256s() {
        // The prefix ends with OCTET STRING of 32 bytes and names 2.16.840.1.101.3.4.2.1.
        assert_eq!(SHA256_DIGEST_INFO_PREFIX[1] as usize, 0x31);
        assert_eq!(&SHA256_DIGEST_INFO_PREFIX[17..], &[0x04, 0x20]);
        assert_eq!(
            SHA256_DIGEST_INFO_PREFIX[1] as usize + 2,
            SHA256_DIGEST_INFO_PREFIX.len() + 32
        );
    }
}
