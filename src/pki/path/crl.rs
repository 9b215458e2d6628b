//! CRLs: reading them, and checking a certificate against its issuer's (RFC 5280 §6.3, complete
//! and direct CRLs only).

use std::collections::HashMap;
use std::path::Path;

use der::Decode;
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::name::Name;

use super::names::names_equal;
use super::{
    KNOWN_CRL_EXTENSIONS, KNOWN_ENTRY_EXTENSIONS, ValidationOptions, Validator, extension, fail, files, is_ca, known,
};
use crate::error::{Error, ErrorCode, Result};
use crate::pki::cert::{Certificate, pem_blocks, signed_range, time};
use crate::pki::sig::{PublicKey, SignatureAlgorithm};

/// A certificate revocation list, read for the checks of [`Validator::validate`].
#[derive(Debug, Clone)]
pub struct Crl {
    /// The signed part, the algorithm and the signature: kept instead of the whole CRL, since
    /// MOICA's complete CRLs run to 400,000 entries.
    signed: Vec<u8>,
    algorithm: spki::AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    /// Revoked serials, and whether the entry has an unknown critical extension or says removeFromCRL.
    entries: HashMap<Vec<u8>, (bool, bool)>,
    idp: Option<IssuingDistributionPoint>,
    delta: bool,
    /// An unknown critical extension, or cRLNumber missing or critical (RFC 5280 §5.2.3).
    bad_extensions: bool,
}

fn crl_malformed(what: impl std::fmt::Display) -> Error {
    fail(ErrorCode::CrlMalformed, what.to_string(), what.to_string())
}

impl Crl {
    /// Reads a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let inner: CertificateList = CertificateList::from_der(der).map_err(|e| crl_malformed(format!("DER: {e}")))?;
        let tbs = signed_range(der).map_err(|_| crl_malformed("signed part"))?;
        let list = &inner.tbs_cert_list;
        let issuer = list.issuer.clone();
        let this_update = time(&list.this_update).map_err(|_| crl_malformed("thisUpdate"))?;
        let next_update = list
            .next_update
            .as_ref()
            .map(time)
            .transpose()
            .map_err(|_| crl_malformed("nextUpdate"))?;
        let mut entries = HashMap::new();
        for r in list.revoked_certificates.iter().flatten() {
            let mut unknown = false;
            let mut remove = false;
            for ext in r.crl_entry_extensions.iter().flatten() {
                unknown |= ext.critical && !known(KNOWN_ENTRY_EXTENSIONS, &ext.extn_id);
                // reasonCode removeFromCRL (8) only appears in delta CRLs.
                remove |= ext.extn_id.to_string() == "2.5.29.21" && ext.extn_value.as_bytes() == [0x0a, 0x01, 0x08];
            }
            entries.insert(r.serial_number.as_bytes().to_vec(), (unknown, remove));
        }
        let (mut idp, mut delta, mut unknown_critical, mut number) = (None, false, false, false);
        for ext in list.crl_extensions.iter().flatten() {
            match ext.extn_id.to_string().as_str() {
                "2.5.29.28" => {
                    idp = Some(
                        IssuingDistributionPoint::from_der(ext.extn_value.as_bytes())
                            .map_err(|_| crl_malformed("issuingDistributionPoint"))?,
                    )
                }
                "2.5.29.27" => delta = true,
                "2.5.29.20" => {
                    number = true;
                    unknown_critical |= ext.critical;
                }
                _ => unknown_critical |= ext.critical && !known(KNOWN_CRL_EXTENSIONS, &ext.extn_id),
            }
        }
        let signature = inner
            .signature
            .as_bytes()
            .ok_or_else(|| crl_malformed("signature has unused bits"))?
            .to_vec();
        Ok(Crl {
            signed: der[tbs].to_vec(),
            algorithm: inner.signature_algorithm.clone(),
            signature,
            issuer,
            this_update,
            next_update,
            entries,
            idp,
            delta,
            bad_extensions: unknown_critical || !number,
        })
    }

    /// Every CRL in PEM (`X509 CRL` blocks) or the one DER CRL.
    pub fn parse_all(bytes: &[u8]) -> Result<Vec<Self>> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            pem_blocks(bytes, "X509 CRL")
                .map_err(|e| crl_malformed(e.message(crate::types::Lang::En)))?
                .iter()
                .map(|d| Self::from_der(d))
                .collect()
        } else {
            Ok(vec![Self::from_der(bytes)?])
        }
    }

    /// Every CRL in a file or in the files of a directory.
    pub fn load(path: &Path) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for f in files(path)? {
            out.extend(Self::parse_all(&std::fs::read(&f)?)?);
        }
        Ok(out)
    }

    /// The CRL's issuer.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// How many certificates it revokes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it revokes none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `key` signed this CRL.
    pub fn verify_signed_by(&self, key: &PublicKey) -> Result<()> {
        let alg = SignatureAlgorithm::from_identifier(&self.algorithm)?;
        key.verify(alg, &self.signed, &self.signature)
    }
}

impl Validator {
    /// Checks `cert` against the CRLs of its issuer; `above` is the path above it, its issuer first.
    pub(super) fn check_revocation(
        &self,
        cert: &Certificate,
        above: &[&Certificate],
        opts: &ValidationOptions,
        depth: usize,
    ) -> Result<()> {
        let mut err = fail(
            ErrorCode::CrlMissing,
            format!("{} 無適用的廢止清冊", cert.subject()),
            format!("no CRL covers {}", cert.subject()),
        );
        let points = distribution_points(cert)?;
        let mut covered = 0u16;
        for crl in opts.crls.iter().filter(|c| names_equal(c.issuer(), cert.issuer_name())) {
            if crl.delta {
                continue;
            }
            let mut reasons = ALL_REASONS;
            if let Some(idp) = &crl.idp {
                let ca = is_ca(cert);
                if idp.indirect_crl
                    || idp.only_contains_attribute_certs
                    || (idp.only_contains_user_certs && ca)
                    || (idp.only_contains_ca_certs && !ca)
                {
                    continue;
                }
                if let Some(r) = idp.only_some_reasons {
                    reasons = r.bits() & ALL_REASONS;
                }
                // A CRL for one distribution point covers only certificates naming that point.
                if let Some(dp) = &idp.distribution_point {
                    let names = dp_names(dp, crl.issuer());
                    if !points
                        .iter()
                        .flatten()
                        .any(|p| names.iter().any(|n| same_general_name(n, p)))
                    {
                        continue;
                    }
                }
            }
            if let Err(e) = self.crl_signer(crl, above, opts, depth) {
                err = e;
                continue;
            }
            if crl.bad_extensions {
                err = crl_malformed("CRL extensions: unknown critical, or cRLNumber missing or critical");
                continue;
            }
            if crl.this_update > opts.at || crl.next_update.is_some_and(|n| n < opts.at) {
                err = fail(ErrorCode::CrlStale, "廢止清冊不在有效期間", "the CRL is not current");
                continue;
            }
            if let Some((unknown, remove)) = crl.entries.get(cert.serial()) {
                if *unknown {
                    return Err(crl_malformed("unknown critical CRL entry extension"));
                }
                if !*remove {
                    let who = cert.subject();
                    return Err(fail(
                        ErrorCode::CertificateRevoked,
                        format!("{who} 已廢止"),
                        format!("{who} is revoked"),
                    ));
                }
            }
            covered |= reasons;
        }
        if covered == ALL_REASONS { Ok(()) } else { Err(err) }
    }

    /// Checks that the CRL was signed by a key allowed to sign it: a certificate of the CRL
    /// issuer's name on the path above, or another one that itself validates.
    fn crl_signer(&self, crl: &Crl, above: &[&Certificate], opts: &ValidationOptions, depth: usize) -> Result<()> {
        let mut err = fail(
            ErrorCode::CrlSignatureInvalid,
            "廢止清冊簽章不符",
            "the CRL's signature does not verify",
        );
        let usable = |c: &Certificate| {
            if c.key_usage().is_some_and(|k| !k.crl_sign) {
                Err(fail(
                    ErrorCode::CrlSignatureInvalid,
                    "簽發者金鑰用途不含 cRLSign",
                    "the CRL issuer's keyUsage lacks cRLSign",
                ))
            } else {
                Ok(())
            }
        };
        for c in above.iter().filter(|c| names_equal(c.subject_name(), crl.issuer())) {
            if crl.verify_signed_by(c.public_key()?).is_ok() {
                match usable(c) {
                    Ok(()) => return Ok(()),
                    Err(e) => err = e,
                }
            }
        }
        if depth >= MAX_CRL_SIGNER_DEPTH {
            return Err(err);
        }
        for c in self.pool.iter().filter(|c| names_equal(c.subject_name(), crl.issuer())) {
            if above.iter().any(|a| a.der() == c.der()) || usable(c).is_err() {
                continue;
            }
            if let Ok(key) = c.public_key()
                && crl.verify_signed_by(key).is_ok()
            {
                match self.validate_nested(c, opts, depth + 1) {
                    Ok(_) => return Ok(()),
                    Err(e) => err = e,
                }
            }
        }
        Err(err)
    }
}

const ALL_REASONS: u16 = 0x1fe;
/// How deep CRL signers' own validations may nest.
const MAX_CRL_SIGNER_DEPTH: usize = 2;

/// The names under which a certificate's CRLs are published, or `None` if it names none.
fn distribution_points(cert: &Certificate) -> Result<Option<Vec<GeneralName>>> {
    let Some(dps) = extension::<CrlDistributionPoints>(cert, crate::pki::cert::oids::CRL_DP)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for dp in dps.0 {
        match &dp.distribution_point {
            Some(n) => out.extend(dp_names(n, cert.issuer_name())),
            None => out.extend(dp.crl_issuer.into_iter().flatten()),
        }
    }
    Ok(Some(out))
}

/// A distribution point's names, a name relative to the CRL issuer made whole.
fn dp_names(dp: &DistributionPointName, issuer: &Name) -> Vec<GeneralName> {
    match dp {
        DistributionPointName::FullName(names) => names.clone(),
        DistributionPointName::NameRelativeToCRLIssuer(rdn) => {
            let mut body = Vec::new();
            for r in issuer.as_ref().iter().chain(std::iter::once(rdn)) {
                body.extend(der::Encode::to_der(r).unwrap_or_default());
            }
            let mut der = vec![0x30];
            match body.len() {
                n if n < 0x80 => der.push(n as u8),
                n if n < 0x100 => der.extend([0x81, n as u8]),
                n => der.extend([0x82, (n >> 8) as u8, n as u8]),
            }
            der.extend(body);
            Name::from_der(&der)
                .map(GeneralName::DirectoryName)
                .into_iter()
                .collect()
        }
    }
}

fn same_general_name(a: &GeneralName, b: &GeneralName) -> bool {
    match (a, b) {
        (GeneralName::DirectoryName(x), GeneralName::DirectoryName(y)) => names_equal(x, y),
        _ => a == b,
    }
}
