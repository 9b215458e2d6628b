//! Cards and keys: the NHI card's data (from fields, a raw record or a reader), the keys a
//! certificate login signs with (a software key, the citizen card over PKCS#11), the trust a
//! portal checks them against, and a test PKI for demos and tests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use super::values::{date, roc_date};
use crate::card::SoftNhiCard;
use crate::error::{Error, ErrorCode};
use crate::pki::testpki::{EndEntitySpec, TestPki as RsTestPki};
use crate::pki::{Certificate, Signer, SoftwareKey, TrustAnchor};
use crate::portal::CertificateTrust as RsTrust;
use crate::types::{CardNumber, NationalId, NhiCardData, PersonName, Sex};

/// An NHI card's basic data (健保卡基本資料): what registration and NHI-card login need.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct NhiCard {
    pub(crate) data: NhiCardData,
}

fn sex_of(s: &str) -> Result<Sex, Error> {
    match s.trim() {
        "M" | "m" | "male" | "男" => Ok(Sex::Male),
        "F" | "f" | "female" | "女" => Ok(Sex::Female),
        other => Err(Error::with(
            ErrorCode::CardDataInvalid,
            format!("性別應為 M 或 F，而非「{other}」"),
            format!("sex must be M or F, not {other:?}"),
        )),
    }
}

#[pymethods]
impl NhiCard {
    /// A card from its fields, each validated as a real card's would be.
    #[new]
    fn new(
        card_number: &str,
        name: &str,
        national_id: &str,
        birth_date: &Bound<'_, PyAny>,
        sex: &str,
        issue_date: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let data = NhiCardData {
            card_number: CardNumber::parse(card_number)?,
            name: PersonName::new(name)?,
            national_id: NationalId::parse(national_id)?,
            birth_date: roc_date(birth_date)?,
            sex: sex_of(sex)?,
            issue_date: roc_date(issue_date)?,
        };
        // The same parser a real read runs: what a card could not hold is refused here too.
        let data = SoftNhiCard::new(&data).read()?;
        Ok(NhiCard { data })
    }

    /// A card from the 57-byte basic-data record as a reader returns it.
    #[staticmethod]
    fn from_record(record: &[u8]) -> PyResult<Self> {
        Ok(NhiCard {
            data: NhiCardData::parse(record)?,
        })
    }

    /// Reads the NHI card in a PC/SC reader (any reader, or the one named), waiting up to
    /// `timeout` seconds for a card. Needs a build with the `card` feature.
    #[staticmethod]
    #[pyo3(signature = (reader = None, timeout = 5.0))]
    fn read(py: Python<'_>, reader: Option<String>, timeout: f64) -> PyResult<Self> {
        let timeout = seconds(timeout)?;
        let data = py.detach(|| crate::card::read_nhi(reader.as_deref(), timeout))?;
        Ok(NhiCard { data })
    }

    /// The 57-byte record, as the card holds it.
    fn to_record<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data.to_bytes())
    }

    /// The card number, masked.
    #[getter]
    fn card_number(&self) -> String {
        self.data.card_number.masked()
    }

    /// 姓名.
    #[getter]
    fn name(&self) -> String {
        self.data.name.as_str().to_owned()
    }

    /// The national ID, masked (`A12345****`).
    #[getter]
    fn national_id(&self) -> String {
        self.data.national_id.masked()
    }

    /// The whole national ID: a deliberate, greppable call.
    fn reveal_national_id(&self) -> String {
        self.data.national_id.reveal().to_owned()
    }

    /// `male` or `female`.
    #[getter]
    fn sex(&self) -> &'static str {
        self.data.sex.as_str()
    }

    #[getter]
    fn birth_date(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        date(py, self.data.birth_date)
    }

    #[getter]
    fn birth_date_roc(&self) -> String {
        self.data.birth_date.to_slash()
    }

    #[getter]
    fn issue_date(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        date(py, self.data.issue_date)
    }

    #[getter]
    fn issue_date_roc(&self) -> String {
        self.data.issue_date.to_slash()
    }

    fn __repr__(&self) -> String {
        format!(
            "NhiCard(card_number={:?}, name={:?}, national_id={:?}, birth_date_roc={:?}, sex={:?})",
            self.data.card_number.masked(),
            self.data.name.as_str(),
            self.data.national_id.masked(),
            self.data.birth_date.to_slash(),
            self.data.sex.as_str()
        )
    }
}

/// Seconds from Python as a `Duration`: negative, NaN or absurd values are refused.
pub(crate) fn seconds(value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        Error::with(
            ErrorCode::FieldInvalid,
            format!("逾時秒數不正確：{value}"),
            format!("the timeout is not a usable number of seconds: {value}"),
        )
        .into()
    })
}

/// The certificates a portal trusts for citizen-certificate logins: GRCA-like anchors and the
/// MOICA-like intermediates under them (DER or PEM).
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct CertificateTrust {
    pub(crate) anchors: Vec<Certificate>,
    pub(crate) intermediates: Vec<Certificate>,
}

fn certificates(list: Vec<Vec<u8>>) -> Result<Vec<Certificate>, Error> {
    let mut out = Vec::new();
    for bytes in list {
        out.extend(Certificate::parse_all(&bytes)?);
    }
    Ok(out)
}

#[pymethods]
impl CertificateTrust {
    #[new]
    #[pyo3(signature = (anchors, intermediates = Vec::new()))]
    fn new(anchors: Vec<Vec<u8>>, intermediates: Vec<Vec<u8>>) -> PyResult<Self> {
        let anchors = certificates(anchors)?;
        if anchors.is_empty() {
            return Err(Error::with(
                ErrorCode::CertificateMalformed,
                "未提供信任錨點憑證",
                "no trust anchor certificate was given",
            )
            .into());
        }
        Ok(CertificateTrust {
            anchors,
            intermediates: certificates(intermediates)?,
        })
    }

    fn __repr__(&self) -> String {
        let subjects: Vec<String> = self.anchors.iter().map(Certificate::subject).collect();
        format!(
            "CertificateTrust(anchors={subjects:?}, intermediates={})",
            self.intermediates.len()
        )
    }
}

impl CertificateTrust {
    pub(crate) fn build(&self) -> RsTrust {
        RsTrust::new(self.anchors.iter().cloned().map(TrustAnchor::new).collect())
            .with_intermediates(self.intermediates.iter().cloned())
    }
}

/// A certificate and the key that signs with it: what a certificate login needs. Both the
/// software key and the citizen card give one.
pub(crate) struct SigningKey {
    pub(crate) certificate: Certificate,
    pub(crate) signer: Arc<dyn Signer>,
}

/// A citizen certificate with its private key in memory (PKCS#8), signing as the card does:
/// for tests, demos and agencies' software certificates.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct SoftwareCertificate {
    pub(crate) key: SigningKey,
    /// The private key, PKCS#8 DER, zeroized on drop: to import it into a PKCS#11 token.
    pkcs8: Zeroizing<Vec<u8>>,
}

#[pymethods]
impl SoftwareCertificate {
    #[new]
    fn new(certificate: &[u8], private_key_pkcs8: &[u8]) -> PyResult<Self> {
        let certificate = Certificate::parse(certificate)?;
        let key = SoftwareKey::from_pkcs8(private_key_pkcs8)?;
        // The key must be the certificate's: a signature by it verifies with the certificate.
        let probe = b"ecpa key check";
        let matches = certificate
            .public_key()?
            .verify(key.algorithm(), probe, &key.sign(probe)?)
            .is_ok();
        if !matches {
            return Err(Error::with(
                ErrorCode::PublicKeyUnsupported,
                "私密金鑰與憑證不相符",
                "the private key does not belong to the certificate",
            )
            .into());
        }
        Ok(SoftwareCertificate::of(certificate, key)?)
    }

    /// The private key as PKCS#8 DER, to import into a token (a deliberate call: it is the
    /// secret half).
    fn private_key_pkcs8<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.pkcs8)
    }

    /// The certificate, DER.
    #[getter]
    fn certificate<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.key.certificate.der())
    }

    #[getter]
    fn subject(&self) -> String {
        self.key.certificate.subject()
    }

    #[getter]
    fn issuer(&self) -> String {
        self.key.certificate.issuer()
    }

    /// The last four digits of the holder's national ID, as the certificate carries them.
    #[getter]
    fn id_last_four(&self) -> Option<String> {
        self.key.certificate.id_last_four().map(str::to_owned)
    }

    /// Signs `message` (RSA PKCS#1 v1.5, SHA-256).
    fn sign<'py>(&self, py: Python<'py>, message: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let sig = self.key.signer.sign(message)?;
        Ok(PyBytes::new(py, &sig))
    }

    fn __repr__(&self) -> String {
        format!("SoftwareCertificate(subject={:?})", self.key.certificate.subject())
    }
}

impl SoftwareCertificate {
    fn of(certificate: Certificate, key: SoftwareKey) -> crate::Result<Self> {
        Ok(SoftwareCertificate {
            pkcs8: key.to_pkcs8()?,
            key: SigningKey {
                certificate,
                signer: Arc::new(key),
            },
        })
    }
}

/// A test PKI (a GRCA-like root and a MOICA-like intermediate) for demos and tests: never trust
/// its root in production.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct TestPki {
    pki: RsTestPki,
}

#[pymethods]
impl TestPki {
    /// Two fresh RSA-2048 CAs.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        Ok(TestPki {
            pki: py.detach(RsTestPki::new)?,
        })
    }

    /// The root, DER.
    #[getter]
    fn root<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.pki.root.der())
    }

    /// The intermediate, DER.
    #[getter]
    fn intermediate<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.pki.intermediate.der())
    }

    /// The trust a portal needs to accept this PKI's citizen certificates.
    fn trust(&self) -> CertificateTrust {
        CertificateTrust {
            anchors: vec![self.pki.root.clone()],
            intermediates: vec![self.pki.intermediate.clone()],
        }
    }

    /// A citizen's signing certificate with a fresh key (16-character subject serial number,
    /// the last four ID digits the first login checks).
    #[pyo3(signature = (name, serial_number, id_last_four = None))]
    fn issue_citizen(
        &self,
        py: Python<'_>,
        name: String,
        serial_number: String,
        id_last_four: Option<String>,
    ) -> PyResult<SoftwareCertificate> {
        let spec = EndEntitySpec::citizen(name, serial_number, id_last_four.as_deref());
        let (certificate, key) = py.detach(|| self.pki.issue(&spec))?;
        Ok(SoftwareCertificate::of(certificate, key)?)
    }

    fn __repr__(&self) -> String {
        format!("TestPki(root={:?})", self.pki.root.subject())
    }
}

/// The citizen digital certificate card (自然人憑證) through its PKCS#11 module (HiCOS, or
/// another module such as SoftHSM in tests). Needs a build with the `card` feature.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct CitizenCard {
    #[cfg(feature = "card")]
    module: crate::card::Pkcs11Module,
    #[cfg(feature = "card")]
    token: crate::card::TokenInfo,
}

#[pymethods]
impl CitizenCard {
    /// Loads the module (`module`, else `ECPA_PKCS11_MODULE`, else where HiCOS usually is) and
    /// finds the card (`token`: a label or serial, else the only one present).
    #[new]
    #[pyo3(signature = (module = None, token = None))]
    fn new(py: Python<'_>, module: Option<PathBuf>, token: Option<String>) -> PyResult<Self> {
        #[cfg(feature = "card")]
        {
            let (module, token) = py.detach(|| -> crate::Result<_> {
                let path = crate::card::pkcs11::resolve_module_path(module.as_deref())?;
                let module = crate::card::Pkcs11Module::load(&path)?;
                let token = module.token(token.as_deref())?;
                Ok((module, token))
            })?;
            Ok(CitizenCard { module, token })
        }
        #[cfg(not(feature = "card"))]
        {
            let _ = (py, module, token);
            Err(Error::new(ErrorCode::CardSupportMissing).into())
        }
    }

    /// Tries left before the PIN blocks, when the token tells (`None`: it does not say).
    #[getter]
    fn pin_tries_left(&self, py: Python<'_>) -> PyResult<Option<u32>> {
        #[cfg(feature = "card")]
        {
            Ok(py.detach(|| self.module.pin_state(&self.token))?.tries_left())
        }
        #[cfg(not(feature = "card"))]
        {
            let _ = py;
            Err(Error::new(ErrorCode::CardSupportMissing).into())
        }
    }

    /// Logs in to the card with the PIN (once: a wrong PIN is never retried, and
    /// `PinError.tries_left` says what is left) and returns the signing key.
    fn unlock(&self, py: Python<'_>, pin: String) -> PyResult<CitizenCardKey> {
        let pin = crate::types::Pin::new(pin)?;
        #[cfg(feature = "card")]
        {
            let signer = py.detach(|| self.module.login(&self.token, &pin))?;
            Ok(CitizenCardKey {
                key: SigningKey {
                    certificate: signer.certificate().clone(),
                    signer: Arc::new(signer),
                },
            })
        }
        #[cfg(not(feature = "card"))]
        {
            let _ = (py, pin);
            Err(Error::new(ErrorCode::CardSupportMissing).into())
        }
    }

    fn __repr__(&self) -> String {
        #[cfg(feature = "card")]
        {
            format!("CitizenCard(token={:?})", self.token.label)
        }
        #[cfg(not(feature = "card"))]
        {
            "CitizenCard()".to_owned()
        }
    }
}

/// The citizen card's signing key after the PIN was accepted.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct CitizenCardKey {
    pub(crate) key: SigningKey,
}

#[pymethods]
impl CitizenCardKey {
    /// The signing certificate, DER.
    #[getter]
    fn certificate<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.key.certificate.der())
    }

    #[getter]
    fn subject(&self) -> String {
        self.key.certificate.subject()
    }

    fn __repr__(&self) -> String {
        format!("CitizenCardKey(subject={:?})", self.key.certificate.subject())
    }
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NhiCard>()?;
    m.add_class::<CertificateTrust>()?;
    m.add_class::<SoftwareCertificate>()?;
    m.add_class::<TestPki>()?;
    m.add_class::<CitizenCard>()?;
    m.add_class::<CitizenCardKey>()?;
    Ok(())
}
