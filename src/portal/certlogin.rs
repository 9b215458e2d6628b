//! Citizen-certificate login (自然人憑證登入): the strongest assurance level.
//!
//! 1. [`begin`] hands out a challenge: random, single-use, valid for two minutes. Its id is a
//!    secret only the caller who asked receives, which binds the challenge to that caller;
//!    it is also tied to the caller's network (an IPv4 address, an IPv6 /64, as the HTTP
//!    service sees it), so an id that leaks (a proxy's log) is of no use from elsewhere.
//! 2. The card signs the challenge text with the signing certificate's key (the HiPKI local
//!    sign server returns a raw PKCS#1 v1.5 signature; a CMS SignedData is accepted too).
//! 3. [`complete`] spends the challenge first (a replay finds it used), then checks the
//!    signature, the certificate's purpose (the signing certificate, not the encryption one),
//!    the path to a configured GRCA anchor with the class-3 policy, and revocation against the
//!    configured CRLs. Each failure keeps its own code.
//! 4. The certificate is mapped to a person. On the first login the person names their eCPA
//!    account or national ID, and the certificate's last four ID digits (2.16.886.1.100.2.51)
//!    must match before the binding is stored; later logins go straight in. The binding is
//!    keyed by the subject's serialNumber attribute, which stays the same when the card is
//!    renewed, or by the certificate's fingerprint when there is none.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

use der::asn1::ObjectIdentifier as Oid;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::auth::{LoginMethod, Session, open_session};
use super::env::{millis, new_token, token_hash};
use super::guard::network_of;
use super::local::LocalPortal;
use crate::db::{challenges, employees};
use crate::error::{Error, ErrorCode, Result};
use crate::pki::{
    ALL_REASONS, Certificate, Crl, Hash, KeyUsages, Purpose, TrustAnchor, ValidatedPath, ValidationOptions, Validator,
    VerifiedCms, verify_cms_with, verify_raw_pkcs1,
};
use crate::store::{StoreExt, Tx};
use crate::types::{NationalId, RocDateTime, names_agree};

/// How long a challenge may wait for its signature.
pub const CHALLENGE_TTL: Duration = Duration::minutes(2);

/// How many validated paths [`CertificateTrust`] keeps; when full, it starts afresh.
pub const PATH_CACHE_CAPACITY: usize = 100_000;

/// What the portal trusts for certificate logins: GRCA anchors (none built in), the MOICA
/// intermediates, the required policy and the current CRLs.
///
/// Paths it has validated are cached by the leaf's SHA-256 fingerprint, so a returning user's
/// login does not verify the leaf's signature again. A cached path is served only while the
/// time is within every certificate's validity and the CRLs are those it was validated with;
/// revocation is still checked on every login, against the CRLs whose signatures were verified
/// for it.
#[derive(Debug)]
pub struct CertificateTrust {
    validator: Validator,
    policy: Option<Oid>,
    /// Whether a login must be checked against CRLs: with CRL sources configured, an empty set
    /// (none fetched yet) refuses logins instead of skipping revocation.
    revocation_required: bool,
    /// The CRLs, with a generation that [`CertificateTrust::set_crls`] advances.
    crls: RwLock<(u64, Arc<Vec<Crl>>)>,
    cache: Mutex<PathCache>,
}

/// Validated paths of one CRL generation.
#[derive(Debug, Default)]
struct PathCache {
    generation: u64,
    paths: HashMap<Vec<u8>, Arc<CachedPath>>,
}

impl PathCache {
    /// Empties the cache if it is of an older generation; false if it is of a newer one.
    fn at_generation(&mut self, generation: u64) -> bool {
        if self.generation < generation {
            *self = PathCache {
                generation,
                ..PathCache::default()
            };
        }
        self.generation == generation
    }
}

#[derive(Debug)]
struct CachedPath {
    path: ValidatedPath,
    /// The latest notBefore and earliest notAfter on the path.
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    /// For each certificate but the anchor: the CRLs (number, reasons covered) from its issuer
    /// whose signatures verified under the issuer's key.
    crls: Vec<Vec<(usize, u16)>>,
}

impl CertificateTrust {
    /// Trust in these anchors, requiring the government class-3 policy.
    pub fn new(anchors: Vec<TrustAnchor>) -> Self {
        CertificateTrust {
            validator: Validator::new(anchors),
            policy: ValidationOptions::login(OffsetDateTime::UNIX_EPOCH).required_policy,
            revocation_required: false,
            crls: RwLock::new((0, Arc::new(Vec::new()))),
            cache: Mutex::new(PathCache::default()),
        }
    }

    /// Adds intermediate CA certificates (MOICA G2, G3, …).
    pub fn with_intermediates(mut self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        self.validator.add_intermediates(certs);
        self.clear_cache();
        self
    }

    /// Requires another policy, or none.
    pub fn with_policy(mut self, policy: Option<Oid>) -> Self {
        self.policy = policy;
        self.clear_cache();
        self
    }

    /// Refuses logins with `crl_missing` while no CRL is set, instead of validating without
    /// revocation: for a portal whose CRLs come from elsewhere and may not have arrived yet.
    pub fn with_revocation_required(mut self, required: bool) -> Self {
        self.revocation_required = required;
        self
    }

    /// Replaces the CRLs (MOICA publishes complete ones daily); with CRLs set, every
    /// certificate on a login's path must be covered by a current one. Cached paths are dropped.
    pub fn set_crls(&self, crls: Vec<Crl>) {
        let mut guard = self.crls.write().unwrap_or_else(|p| p.into_inner());
        *guard = (guard.0 + 1, Arc::new(crls));
        let generation = guard.0;
        drop(guard);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .at_generation(generation);
    }

    /// How many validated paths are cached.
    pub fn cached_paths(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).paths.len()
    }

    /// Drops every cached path (the next validation of each leaf goes through the full checks).
    pub fn clear_cache(&self) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.paths.clear();
    }

    /// Reads a login certificate (DER or PEM). A returning user's certificate comes from the
    /// path cache instead of being parsed again.
    pub fn certificate(&self, bytes: &[u8]) -> Result<Certificate> {
        let cached = {
            let digest = Hash::Sha256.digest(bytes);
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .paths
                .get(&digest)
                .and_then(|hit| hit.path.certificates.first().cloned())
        };
        match cached {
            Some(cert) => Ok(cert),
            None => Certificate::parse(bytes),
        }
    }

    /// Verifies a CMS SignedData as [`crate::pki::verify_cms`] does, reading the certificates it carries
    /// through [`CertificateTrust::certificate`].
    pub fn verify_cms(&self, der: &[u8], detached_content: Option<&[u8]>) -> Result<VerifiedCms> {
        verify_cms_with(der, detached_content, &|cert| self.certificate(cert))
    }

    /// Validates a login certificate at `at`: path, policy, digitalSignature, revocation.
    pub fn validate(&self, cert: &Certificate, at: OffsetDateTime) -> Result<ValidatedPath> {
        let (generation, crls) = self.crls.read().unwrap_or_else(|p| p.into_inner()).clone();
        if self.revocation_required && crls.is_empty() {
            return Err(Error::with(
                ErrorCode::CrlMissing,
                "尚未取得廢止清冊，無法確認憑證是否已廢止",
                "no CRL has been loaded yet, so revocation cannot be checked",
            ));
        }
        let hit = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.at_generation(generation) {
                cache.paths.get(cert.sha256()).cloned()
            } else {
                None
            }
        };
        if let Some(hit) = hit {
            match cached_revocation(&hit, &crls, at) {
                Some(Ok(())) => return Ok(hit.path.clone()),
                Some(Err(e)) => return Err(e),
                // Out of validity or no longer covered: the full checks say why.
                None => {}
            }
        }
        let opts = ValidationOptions {
            required_policy: self.policy,
            crls: crls.as_ref().clone(),
            key_usage: KeyUsages {
                digital_signature: true,
                ..KeyUsages::default()
            },
            ..ValidationOptions::at(at)
        };
        let path = self.validator.validate(cert, &opts)?;
        self.remember(cert.sha256().to_vec(), &path, &crls, generation);
        Ok(path)
    }

    /// Caches a path just validated with the CRLs of `generation`, if every certificate on it
    /// but the anchor is fully covered by CRLs its issuer's key signed.
    fn remember(&self, key: Vec<u8>, path: &ValidatedPath, crls: &[Crl], generation: u64) {
        let certs = &path.certificates;
        let mut not_before = OffsetDateTime::UNIX_EPOCH;
        let mut not_after = OffsetDateTime::UNIX_EPOCH;
        for (i, c) in certs.iter().enumerate() {
            let (Ok(nb), Ok(na)) = (c.not_before(), c.not_after()) else {
                return;
            };
            not_before = if i == 0 { nb } else { not_before.max(nb) };
            not_after = if i == 0 { na } else { not_after.min(na) };
        }
        let mut covering = Vec::with_capacity(certs.len().saturating_sub(1));
        for pair in certs.windows(2) {
            let (cert, issuer) = (&pair[0], &pair[1]);
            let mut used = Vec::new();
            let mut covered = 0u16;
            for (n, crl) in crls.iter().enumerate() {
                let Ok(Some(reasons)) = crl.reasons_for(cert) else {
                    continue;
                };
                // Each CRL remembers which keys signed it, so this verifies once per CRL and key.
                let signed = issuer.public_key().is_ok_and(|k| crl.verify_signed_by(k).is_ok());
                if issuer.key_usage().is_some_and(|k| !k.crl_sign) || !signed {
                    continue;
                }
                covered |= reasons;
                used.push((n, reasons));
            }
            if !crls.is_empty() && covered != ALL_REASONS {
                return;
            }
            covering.push(used);
        }
        let entry = Arc::new(CachedPath {
            path: path.clone(),
            not_before,
            not_after,
            crls: covering,
        });
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if !cache.at_generation(generation) {
            return;
        }
        if cache.paths.len() >= PATH_CACHE_CAPACITY && !cache.paths.contains_key(&key) {
            cache.paths.clear();
        }
        cache.paths.insert(key, entry);
    }
}

/// Revocation of a cached path at `at`: `Some(Err)` if a current CRL revokes a certificate on
/// it, `None` if `at` is outside the path's validity or a certificate is no longer covered by
/// current CRLs (the full validation then decides), else `Some(Ok)`.
fn cached_revocation(hit: &CachedPath, crls: &[Crl], at: OffsetDateTime) -> Option<Result<()>> {
    // Validity is encoded in whole seconds: compare at that granularity, as validation does.
    let second = at.replace_nanosecond(0).unwrap_or(at);
    if second < hit.not_before || second > hit.not_after {
        return None;
    }
    if crls.is_empty() {
        return Some(Ok(()));
    }
    for (cert, used) in hit.path.certificates.iter().zip(&hit.crls) {
        let mut covered = 0u16;
        for &(n, reasons) in used {
            let crl = crls.get(n)?;
            if !crl.current_at(at) {
                continue;
            }
            match crl.revokes(cert.serial()) {
                Ok(false) => covered |= reasons,
                Ok(true) => {
                    let who = cert.subject();
                    return Some(Err(Error::with(
                        ErrorCode::CertificateRevoked,
                        format!("{who} 已廢止"),
                        format!("{who} is revoked"),
                    )));
                }
                Err(e) => return Some(Err(e)),
            }
        }
        if covered != ALL_REASONS {
            return None;
        }
    }
    Some(Ok(()))
}

/// A challenge for the card to sign.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct CertificateChallenge {
    /// The secret id to send back with the signature.
    pub challenge_id: String,
    /// The exact text the card signs (its UTF-8 bytes).
    pub to_sign: String,
    /// When it stops being accepted.
    pub expires_at: RocDateTime,
}

/// The card's signature over a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginSignature {
    /// A raw PKCS#1 v1.5 SHA-256 signature, as the HiPKI local sign server returns it.
    RawPkcs1(Vec<u8>),
    /// A CMS SignedData (the sign server's `signatureType=PKCS7`) over the challenge text,
    /// attached or detached; its signer must be the certificate sent.
    Cms(Vec<u8>),
    /// An origin-bound login (format [`ORIGIN_BOUND_FORMAT`], as `ecpa agent` makes it, after
    /// Web eID's token): a raw PKCS#1 v1.5 SHA-256 signature over
    /// [`origin_bound_data`]`(origin, to_sign)`. The portal accepts it only for its own public
    /// origin, so a signature a look-alike site obtained is worthless here.
    OriginBound {
        /// The origin the card signed (`https://host[:port]`).
        origin: String,
        /// The signature.
        signature: Vec<u8>,
    },
}

/// The format name of an origin-bound login, as the agent returns it.
pub const ORIGIN_BOUND_FORMAT: &str = "ecpa-origin:1";

/// What the card signs in an origin-bound login: SHA-256 of the origin's ASCII form, then
/// SHA-256 of the challenge's `to_sign` (64 bytes).
pub fn origin_bound_data(origin: &str, to_sign: &str) -> [u8; 64] {
    use sha2::{Digest, Sha256};
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&Sha256::digest(origin.as_bytes()));
    data[32..].copy_from_slice(&Sha256::digest(to_sign.as_bytes()));
    data
}

/// An origin in the form browsers send it (`Origin:` header): `scheme://host[:port]`, the
/// scheme and host in lower case, the scheme's default port left out, no path. `http` and
/// `https` only.
pub fn normalize_origin(text: &str) -> Result<String> {
    let bad = || {
        Error::with(
            ErrorCode::FieldInvalid,
            format!("網址來源格式錯誤：{text}"),
            format!("not an origin (scheme://host[:port]): {text}"),
        )
    };
    let t = text.trim();
    let (scheme, rest) = t.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return Err(bad()),
    };
    // Nothing after the authority but an optional `/`.
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad());
    }
    // An IPv6 host is bracketed; otherwise a port follows the last colon.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad)?),
            };
            (&authority[..addr.len() + 2], port)
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port_ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok();
    if host.is_empty() || host == "[]" || port.is_some_and(|p| !port_ok(p)) {
        return Err(bad());
    }
    let host = host.to_ascii_lowercase();
    let port = port.map(|p| p.parse::<u16>().unwrap_or_default().to_string());
    Ok(match port.filter(|p| p != default_port) {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod origin_tests {
    use super::normalize_origin;

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        for (given, want) in [
            ("https://ECPA.example.gov.tw", "https://ecpa.example.gov.tw"),
            ("https://ecpa.example.gov.tw:443/", "https://ecpa.example.gov.tw"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("HTTP://localhost:80", "http://localhost"),
            ("http://[::1]:8443", "http://[::1]:8443"),
            ("https://[::1]", "https://[::1]"),
        ] {
            assert_eq!(normalize_origin(given).expect(given), want);
        }
        for bad in [
            "ecpa.example.gov.tw",
            "ftp://x",
            "https://",
            "https://a/b",
            "https://a:99999",
            "https://a:b",
            "https://u@a",
            "https://[::1",
            "https://a?x",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }
}

/// What the client sends back to complete a certificate login.
#[derive(Debug, Clone)]
pub struct CertificateResponse {
    /// The challenge's id.
    pub challenge_id: String,
    /// The signing certificate, DER or PEM.
    pub certificate: Vec<u8>,
    /// The signature over the challenge text.
    pub signature: LoginSignature,
    /// On the first login only: the eCPA account name or the national ID.
    pub identify: Option<String>,
}

impl CertificateResponse {
    /// The answer `signer` (the citizen card's key, or a software one) gives to `challenge`
    /// with `certificate`: raw PKCS#1 over `to_sign`, or, given the origin the page runs at,
    /// an origin-bound signature over [`origin_bound_data`].
    pub fn signed_by(
        challenge: &CertificateChallenge,
        certificate: &[u8],
        signer: &(impl crate::pki::Signer + ?Sized),
        origin: Option<&str>,
        identify: Option<String>,
    ) -> Result<CertificateResponse> {
        let signature = match origin {
            None => LoginSignature::RawPkcs1(signer.sign(challenge.to_sign.as_bytes())?),
            Some(origin) => {
                let origin = normalize_origin(origin)?;
                let signature = signer.sign(&origin_bound_data(&origin, &challenge.to_sign))?;
                LoginSignature::OriginBound { origin, signature }
            }
        };
        Ok(CertificateResponse {
            challenge_id: challenge.challenge_id.clone(),
            certificate: certificate.to_vec(),
            signature,
            identify,
        })
    }
}

/// A fresh challenge for the client at `from` (`None`: a caller in this process), which alone
/// may answer it.
pub(crate) fn begin(p: &LocalPortal, from: Option<IpAddr>) -> Result<CertificateChallenge> {
    if p.trust.is_none() {
        return Err(Error::new(ErrorCode::CertificateLoginUnavailable));
    }
    let id = new_token(p.rng.as_ref())?;
    let nonce = new_token(p.rng.as_ref())?;
    let now = p.now();
    let expires = now + CHALLENGE_TTL;
    p.store.write(|tx| {
        // Spent and expired challenges are of no further use.
        challenges::purge_challenges(tx, millis(now - Duration::days(1)))?;
        challenges::insert_challenge(
            tx,
            &token_hash(&id),
            &nonce,
            millis(now),
            millis(expires),
            &network_of(from),
        )
    })?;
    Ok(CertificateChallenge {
        challenge_id: id,
        to_sign: challenge_text(&nonce),
        expires_at: expires.into(),
    })
}

fn challenge_text(nonce: &str) -> String {
    format!("ecpa-login:{nonce}")
}

/// The text a challenge asked to sign, if it can still be answered, by the client at `from`:
/// one issued to another network is unknown to this one. A challenge is spent by the
/// transaction that opens the session, or by [`spend`] when the answer is refused.
fn challenge(p: &LocalPortal, hash: &str, now: i64, from: Option<IpAddr>) -> Result<String> {
    let found = p
        .store
        .read(|tx| challenges::challenge(tx, hash))?
        .filter(|c| c.network.as_deref().unwrap_or("local") == network_of(from))
        .ok_or_else(|| Error::new(ErrorCode::ChallengeUnknown))?;
    if found.used_at.is_some() {
        return Err(Error::new(ErrorCode::ChallengeReplayed));
    }
    if found.expires_at <= now {
        return Err(Error::new(ErrorCode::ChallengeExpired));
    }
    Ok(challenge_text(&found.nonce))
}

/// Spends a challenge whose answer was refused, so it cannot be answered again.
fn spend(p: &LocalPortal, hash: &str, now: i64) -> Result<()> {
    p.store.write(|tx| challenges::mark_spent(tx, hash, now).map(drop))
}

/// The key a certificate is bound by: its holder's serialNumber attribute, else its fingerprint.
fn binding_key(cert: &Certificate) -> String {
    match cert.subject_serial_number() {
        Some(serial) => format!("serial:{}|{}", cert.issuer(), serial),
        None => format!("sha256:{}", cert.fingerprint()),
    }
}

/// The person a certificate not yet bound may be bound to, on its first login: the one the
/// account name or national ID entered names, if the certificate's last four ID digits and its
/// holder's name (CN) are theirs and it is bound to no one else. The last four digits alone are
/// anyone's to know; the name with them makes a stranger's valid certificate fit only by
/// accident. No such person and a mismatch are one error, so the answer does not tell which
/// IDs and accounts exist.
fn binding_candidate(tx: &mut dyn Tx, cert: &Certificate, who: &str) -> Result<i64> {
    let person = match NationalId::parse(who) {
        Ok(id) => employees::by_national_id(tx, &id)?,
        Err(_) => employees::by_account(tx, who)?,
    };
    let mismatch = || Error::new(ErrorCode::BindingMismatch);
    let person = person.ok_or_else(mismatch)?;
    let (employee, id, name) = (person.id, person.national_id, person.name);
    let name_agrees = cert.common_name().is_some_and(|cn| names_agree(&cn, &name));
    if cert.id_last_four() != Some(id.last_four()) || !name_agrees {
        return Err(mismatch());
    }
    if challenges::subject_bound_elsewhere(tx, &cert.subject(), employee)? {
        return Err(mismatch());
    }
    Ok(employee)
}

/// Answers a challenge issued to the client at `from`.
pub(crate) fn complete(p: &LocalPortal, response: &CertificateResponse, from: Option<IpAddr>) -> Result<Session> {
    let trust = p
        .trust
        .as_ref()
        .ok_or_else(|| Error::new(ErrorCode::CertificateLoginUnavailable))?;
    let now = p.now();
    let hash = token_hash(response.challenge_id.trim());
    let result = answer(p, trust, response, &hash, now, from);
    // Whatever the outcome, the challenge is spent: on success by the session's own transaction.
    if let Err(e) = &result
        && !matches!(e.code(), ErrorCode::ChallengeUnknown | ErrorCode::ChallengeReplayed)
    {
        spend(p, &hash, millis(now))?;
    }
    result
}

/// Checks the answer to a challenge and opens the session, spending the challenge in the same
/// transaction.
fn answer(
    p: &LocalPortal,
    trust: &CertificateTrust,
    response: &CertificateResponse,
    hash: &str,
    now: OffsetDateTime,
    from: Option<IpAddr>,
) -> Result<Session> {
    let signed = challenge(p, hash, millis(now), from)?;
    if p.config.require_origin_bound && !matches!(response.signature, LoginSignature::OriginBound { .. }) {
        return Err(Error::new(ErrorCode::OriginBoundRequired));
    }
    let cert = match &response.signature {
        LoginSignature::OriginBound { origin, signature } => {
            // The origin the card signed must be this portal's, exactly as browsers write it.
            if normalize_origin(origin).ok().as_deref() != Some(p.public_origin()?.as_str()) {
                return Err(Error::new(ErrorCode::LoginOriginMismatch));
            }
            let cert = trust.certificate(&response.certificate)?;
            verify_raw_pkcs1(&origin_bound_data(origin, &signed), signature, &cert)?;
            cert
        }
        LoginSignature::RawPkcs1(sig) => {
            let cert = trust.certificate(&response.certificate)?;
            verify_raw_pkcs1(signed.as_bytes(), sig, &cert)?;
            cert
        }
        LoginSignature::Cms(der) => {
            let signer = trust.verify_cms(der, Some(signed.as_bytes()))?.signer;
            // The certificate sent is usually the signer's DER itself: no need to parse it again.
            if signer.der() != response.certificate.as_slice()
                && signer.der() != trust.certificate(&response.certificate)?.der()
            {
                return Err(Error::with(
                    ErrorCode::CmsSignerNotFound,
                    "CMS 簽署者不是所送出的憑證",
                    "the CMS signer is not the certificate sent",
                ));
            }
            signer
        }
    };
    if cert.purpose() != Purpose::Signing {
        return Err(Error::with(
            ErrorCode::KeyUsageInvalid,
            "請使用簽章用憑證（非加密用憑證）登入",
            "log in with the signing certificate, not the encryption one",
        ));
    }
    trust.validate(&cert, now)?;
    let key = binding_key(&cert);
    let at = millis(now);
    p.store.write(|tx| {
        if !challenges::mark_spent(tx, hash, at)? {
            return Err(Error::new(ErrorCode::ChallengeReplayed));
        }
        let employee = match challenges::bound_employee(tx, &key)? {
            Some(id) => id,
            None => {
                let who = response.identify.as_deref().map(str::trim).filter(|s| !s.is_empty());
                let who = who.ok_or_else(|| Error::new(ErrorCode::CertificateNotBound))?;
                let employee = binding_candidate(tx, &cert, who)?;
                challenges::bind(tx, &key, employee, &cert.subject(), at)?;
                crate::db::audit::record(tx, at, Some(employee), "certificate.bind", Some(employee), None, None)?;
                employee
            }
        };
        challenges::touch_binding(tx, &key, at)?;
        open_session(p, tx, employee, LoginMethod::Certificate, true)
    })
}

impl LocalPortal {
    /// [`Portal::begin_certificate_login`](super::Portal::begin_certificate_login) for the client at `from`, which alone may answer it
    /// ([`LocalPortal::complete_certificate_login_from`]).
    pub fn begin_certificate_login_from(&self, from: Option<std::net::IpAddr>) -> Result<CertificateChallenge> {
        begin(self, from)
    }

    /// [`Portal::complete_certificate_login`](super::Portal::complete_certificate_login) by the client at `from`: a challenge issued to
    /// another network is unknown here.
    pub fn complete_certificate_login_from(
        &self,
        response: &CertificateResponse,
        from: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        complete(self, response, from)
    }
}
