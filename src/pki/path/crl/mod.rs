//! CRLs: reading them, and checking a certificate against its issuer's (RFC 5280 §6.3, complete
//! and direct CRLs only).

use std::path::Path;

use der::Decode;
use time::OffsetDateTime;
use x509_cert::crl::TbsCertList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::name::Name;

use super::names::names_equal;
use super::{
    KNOWN_CRL_EXTENSIONS, KNOWN_ENTRY_EXTENSIONS, ValidationOptions, Validator, extension, fail, files, is_ca, known,
};
use crate::error::{Error, ErrorCode, Result};
use crate::pki::cert::{Certificate, pem_blocks, time};
use crate::pki::sig::{PublicKey, SignatureAlgorithm};
use crate::pki::tlv::{self, Tlv, TlvError, Walk};

mod index;
mod parse;

use index::*;
use parse::*;

/// The reason a certificate was revoked (RFC 5280 §5.3.1 CRLReason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationReason(pub u8);

impl RevocationReason {
    /// removeFromCRL: only in delta CRLs, and it means the certificate is no longer revoked.
    pub const REMOVE_FROM_CRL: RevocationReason = RevocationReason(8);

    /// The RFC 5280 name (`keyCompromise`, `removeFromCRL`…), or the number for a code it does not name.
    pub fn name(self) -> String {
        let known = match self.0 {
            0 => "unspecified",
            1 => "keyCompromise",
            2 => "cACompromise",
            3 => "affiliationChanged",
            4 => "superseded",
            5 => "cessationOfOperation",
            6 => "certificateHold",
            8 => "removeFromCRL",
            9 => "privilegeWithdrawn",
            10 => "aACompromise",
            n => return format!("reason{n}"),
        };
        known.to_owned()
    }
}

/// What a CRL says of one revoked serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// revocationDate.
    pub date: OffsetDateTime,
    /// The reasonCode entry extension, if any.
    pub reason: Option<RevocationReason>,
    /// The entry carries a critical extension this crate does not know: the entry cannot be relied on.
    pub unknown_critical_extension: bool,
}

/// How [`Crl::check_current`] judges a CRL's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlOptions {
    /// The time the CRL must be current at.
    pub at: OffsetDateTime,
    /// Accept a CRL past its nextUpdate (or not yet valid) instead of failing with `crl_stale`.
    pub allow_stale: bool,
}

impl CrlOptions {
    /// Current at `at`, stale CRLs refused.
    pub fn at(at: OffsetDateTime) -> Self {
        CrlOptions { at, allow_stale: false }
    }
}

/// A certificate revocation list, read for the checks of [`Validator::validate`] and for
/// `ecpa crl check`.
///
/// Reading it walks revokedCertificates by hand (MOICA's complete CRLs hold 100,000 to 400,000
/// entries, and the benchmark's two million) and decodes the rest with x509-cert. It keeps the
/// digest of the signed part, not the part itself, so the signature can be checked against
/// several candidate keys without holding on to the CRL's bytes.
#[derive(Debug, Clone)]
pub struct Crl {
    algorithm: spki::AlgorithmIdentifierOwned,
    /// The digest of the signed part by the signature algorithm's hash (`None`: the algorithm is
    /// not one we accept, and verification reports it).
    digest: Option<aws_lc_rs::digest::Digest>,
    signature: Vec<u8>,
    issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    /// Revoked serials (their INTEGER encodings), with date, reason and flags. Shared, so that
    /// handing the CRLs to each login's validation copies no entries.
    index: std::sync::Arc<Index>,
    count: usize,
    idp: Option<IssuingDistributionPoint>,
    delta: bool,
    /// An unknown critical extension, or cRLNumber missing or critical (RFC 5280 §5.2.3).
    bad_extensions: bool,
    /// Keys the signature was checked against, and whether it verified: each login's path
    /// validation asks again, and the answer for a key never changes. Shared by clones.
    checked: std::sync::Arc<std::sync::Mutex<Vec<(PublicKey, bool)>>>,
}

/// How many keys' answers a CRL remembers (candidates are an issuer name's few keys).
const CHECKED_KEYS: usize = 8;

impl Crl {
    /// Reads a CRL (PEM or DER), checks its signature with `issuer` and its dates with `opts`:
    /// what `ecpa crl check` does.
    pub fn load_verified(bytes: &[u8], issuer: &PublicKey, opts: &CrlOptions) -> Result<Self> {
        let crl = Self::parse_one(bytes)?;
        crl.verify_signed_by(issuer).map_err(|_| {
            fail(
                ErrorCode::CrlSignatureInvalid,
                "廢止清冊簽章不符",
                "the CRL's signature does not verify",
            )
        })?;
        crl.check_current(opts)?;
        Ok(crl)
    }

    /// The one CRL in PEM (the first `X509 CRL` block) or DER.
    pub fn parse_one(bytes: &[u8]) -> Result<Self> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let der = pem_blocks(bytes, "X509 CRL").map_err(|e| crl_malformed(e.message(crate::types::Lang::En)))?;
            Self::from_der(der.first().ok_or_else(|| crl_malformed("no CRL"))?)
        } else {
            Self::from_der(bytes)
        }
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

    /// thisUpdate.
    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// nextUpdate, if the CRL gives one.
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    /// How many certificates it revokes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it revokes none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes held on the heap by the index of revoked serials.
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Whether `key` signed this CRL.
    pub fn verify_signed_by(&self, key: &PublicKey) -> Result<()> {
        let alg = SignatureAlgorithm::from_identifier(&self.algorithm)?;
        let digest = self
            .digest
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::SignatureInvalid))?;
        let known = {
            let checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            checked.iter().find(|(k, _)| k == key).map(|(_, ok)| *ok)
        };
        let ok = match known {
            Some(ok) => ok,
            None => {
                let ok = key.verify_digest(alg, digest, &self.signature).is_ok();
                let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
                if checked.len() < CHECKED_KEYS {
                    checked.push((key.clone(), ok));
                }
                ok
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::SignatureInvalid))
        }
    }

    /// Whether the CRL is current at `opts.at` (thisUpdate ≤ at ≤ nextUpdate); `crl_stale` if
    /// not, unless `opts.allow_stale`.
    pub fn check_current(&self, opts: &CrlOptions) -> Result<()> {
        if opts.allow_stale || self.is_current(opts.at) {
            Ok(())
        } else {
            Err(fail(
                ErrorCode::CrlStale,
                "廢止清冊不在有效期間",
                "the CRL is not current",
            ))
        }
    }

    fn is_current(&self, at: OffsetDateTime) -> bool {
        self.this_update <= at && self.next_update.is_none_or(|n| n >= at)
    }

    /// What the CRL says of the certificate whose serial number has the INTEGER encoding `serial`
    /// (as [`Certificate::serial`] gives it), or `None` if it is not listed.
    pub fn lookup(&self, serial: &[u8]) -> Option<Revocation> {
        self.index.get(serial).map(|e| Revocation {
            date: OffsetDateTime::from_unix_timestamp(e.date).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            reason: (e.reason != NO_REASON).then_some(RevocationReason(e.reason)),
            unknown_critical_extension: e.flags & FLAG_UNKNOWN_CRITICAL != 0,
        })
    }

    /// [`Crl::lookup`] for a serial given as an unsigned big-endian number (as OpenSSL prints it in hex).
    pub fn lookup_unsigned(&self, serial: &[u8]) -> Option<Revocation> {
        let digits = &serial[serial.iter().take_while(|b| **b == 0).count()..];
        match digits.first() {
            None => self.lookup(&[0]),
            Some(b) if b & 0x80 != 0 => {
                let mut enc = Vec::with_capacity(digits.len() + 1);
                enc.push(0);
                enc.extend_from_slice(digits);
                self.lookup(&enc)
            }
            Some(_) => self.lookup(digits),
        }
    }
}

impl Crl {
    /// The reasons this CRL covers for `cert` (a bit set; [`ALL_REASONS`] for all), or `None` if
    /// it does not apply to it: another issuer, a delta CRL, bad extensions, or an
    /// issuingDistributionPoint that leaves `cert` out. The signature is not checked. For the
    /// login path cache.
    pub(crate) fn reasons_for(&self, cert: &Certificate) -> Result<Option<u16>> {
        if !names_equal(self.issuer(), cert.issuer_name()) || self.delta || self.bad_extensions {
            return Ok(None);
        }
        let mut reasons = ALL_REASONS;
        if let Some(idp) = &self.idp {
            let ca = is_ca(cert);
            if idp.indirect_crl
                || idp.only_contains_attribute_certs
                || (idp.only_contains_user_certs && ca)
                || (idp.only_contains_ca_certs && !ca)
            {
                return Ok(None);
            }
            if let Some(r) = idp.only_some_reasons {
                reasons = r.bits() & ALL_REASONS;
            }
            if let Some(dp) = &idp.distribution_point {
                let points = distribution_points(cert)?;
                let names = dp_names(dp, self.issuer());
                if !points
                    .iter()
                    .flatten()
                    .any(|p| names.iter().any(|n| same_general_name(n, p)))
                {
                    return Ok(None);
                }
            }
        }
        Ok(Some(reasons))
    }

    /// Whether the CRL is current at `at` (thisUpdate ≤ at ≤ nextUpdate).
    pub(crate) fn current_at(&self, at: OffsetDateTime) -> bool {
        self.is_current(at)
    }

    /// Whether the CRL revokes the certificate with this serial (INTEGER encoding), as
    /// [`Validator::validate`] judges it: an entry with an unknown critical extension is an error.
    pub(crate) fn revokes(&self, serial: &[u8]) -> Result<bool> {
        match self.index.get(serial) {
            None => Ok(false),
            Some(entry) if entry.flags & FLAG_UNKNOWN_CRITICAL != 0 => {
                Err(crl_malformed("unknown critical CRL entry extension"))
            }
            Some(entry) => Ok(entry.flags & FLAG_REMOVE == 0),
        }
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
            if !crl.is_current(opts.at) {
                err = fail(ErrorCode::CrlStale, "廢止清冊不在有效期間", "the CRL is not current");
                continue;
            }
            if let Some(entry) = crl.index.get(cert.serial()) {
                if entry.flags & FLAG_UNKNOWN_CRITICAL != 0 {
                    return Err(crl_malformed("unknown critical CRL entry extension"));
                }
                if entry.flags & FLAG_REMOVE == 0 {
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

/// Every reason a CRL may cover, as a bit set.
pub(crate) const ALL_REASONS: u16 = 0x1fe;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_utc_time_shortcut_agrees_with_der() {
        let mut checked = 0;
        for text in [
            "700101000000Z",
            "991231235959Z",
            "000229120000Z",
            "491128235959Z",
            "260228093015Z",
            "690101000000Z",
            "500101000000Z",
            "261301000000Z",
            "260100000000Z",
            "260131000000Z",
            "2601010000a0Z",
            "260101240000Z",
        ] {
            let mut tlv = vec![0x17, 13];
            tlv.extend_from_slice(text.as_bytes());
            let reference = x509_cert::time::Time::from_der(&tlv)
                .ok()
                .map(|t| t.to_unix_duration().as_secs() as i64);
            if let Some(fast) = simple_utc_time(&tlv) {
                assert_eq!(Some(fast), reference, "{text}");
                checked += 1;
            }
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn the_integer_shortcut_only_accepts_minimal_encodings() {
        for (v, ok) in [
            (&[][..], false),
            (&[0x00][..], true),
            (&[0x00, 0x7f][..], false),
            (&[0x00, 0x80][..], true),
            (&[0xff, 0x80][..], false),
            (&[0xff, 0x7f][..], true),
            (&[0x12, 0x34][..], true),
        ] {
            assert_eq!(minimal_integer(v), ok, "{v:?}");
            let mut tlv = vec![0x02, v.len() as u8];
            tlv.extend_from_slice(v);
            assert_eq!(der::asn1::IntRef::from_der(&tlv).is_ok(), ok, "{v:?}");
        }
    }
}
