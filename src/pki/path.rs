//! Certificate path building and validation (RFC 5280 §6.1), from a leaf to a trust anchor.
//!
//! We validate by hand: no crate of this RustCrypto generation (der 0.8 / x509-cert 0.3) does
//! RFC 5280 policy and name-constraint processing, and the ones that validate paths (webpki,
//! rustls-webpki) follow the Web PKI, not the government PKI's policies, and do not treat an
//! anchor as name + key. GRCA G1 and G2 share a name with different keys, and the MOICA
//! intermediates share one name too, so the builder tries every candidate issuer whose name
//! matches (those whose subjectKeyIdentifier equals the child's authorityKeyIdentifier first)
//! and an anchor counts only if its key verifies the link.
//!
//! What is checked: each link's signature (not an anchor's own self-signature; SHA-1 is refused
//! on links), validity at a given time (anchors' too), name chaining (names compared ignoring
//! case and spaces), basicConstraints and pathLenConstraint, keyUsage keyCertSign on CAs,
//! unknown critical extensions, the policy tree (policies, anyPolicy, mappings,
//! policyConstraints, inhibitAnyPolicy), name constraints (directoryName, rfc822Name, dNSName,
//! URI, iPAddress; an anchor's too), the leaf's key usage and extended key usage if asked, the
//! RFC 5280 §4 profile rules a path depends on (key identifiers, criticality, well-formed names;
//! see `check_profile`), a TLS peer's name if one is given, and, if CRLs are given, revocation
//! by complete, direct CRLs (several CRLs split by reason are combined). Delta CRLs and indirect
//! CRLs are not used. The conformance record is `tests/pkits.rs`, `tests/limbo.rs` and
//! `docs/x509-limbo-divergences.md`.
//!
//! Verified links between pool certificates are cached in the [`Validator`], so a login does
//! not re-verify the intermediates' signatures each time.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use der::Decode;
use der::asn1::ObjectIdentifier as Oid;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{InhibitAnyPolicy, NameConstraints, PolicyConstraints, PolicyMappings};

mod crl;
mod names;
mod policy;
mod profile;

pub(crate) use crl::ALL_REASONS;
pub use crl::{Crl, CrlOptions, Revocation, RevocationReason};
use names::{NameState, check_peer_name, names_equal};
use policy::PolicyTree;
use profile::{Role, check_profile};

use super::cert::{Certificate, KeyUsages};
use super::sig::{Hash, PublicKey, SignatureAlgorithm};
use crate::error::{Error, ErrorCode, Result};

/// OIDs used by path validation.
pub mod oids {
    use der::asn1::ObjectIdentifier as Oid;

    /// anyPolicy.
    pub const ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.32.0");
    /// anyExtendedKeyUsage.
    pub const ANY_EKU: Oid = Oid::new_unwrap("2.5.29.37.0");
    /// id-kp-serverAuth.
    pub const SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
    /// id-kp-clientAuth.
    pub const CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
    /// subjectAltName.
    pub const SAN: Oid = Oid::new_unwrap("2.5.29.17");
    /// nameConstraints.
    pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
    /// policyMappings.
    pub const POLICY_MAPPINGS: Oid = Oid::new_unwrap("2.5.29.33");
    /// policyConstraints.
    pub const POLICY_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.36");
    /// inhibitAnyPolicy.
    pub const INHIBIT_ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.54");
    /// The emailAddress attribute of a name.
    pub const EMAIL_ADDRESS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");
}

/// Extensions this module understands, so a critical one is no reason to reject.
const KNOWN_EXTENSIONS: &[&str] = &[
    "2.5.29.14",         // subjectKeyIdentifier
    "2.5.29.35",         // authorityKeyIdentifier
    "2.5.29.19",         // basicConstraints
    "2.5.29.15",         // keyUsage
    "2.5.29.37",         // extKeyUsage
    "2.5.29.32",         // certificatePolicies
    "2.5.29.33",         // policyMappings
    "2.5.29.36",         // policyConstraints
    "2.5.29.54",         // inhibitAnyPolicy
    "2.5.29.30",         // nameConstraints
    "2.5.29.17",         // subjectAltName
    "2.5.29.31",         // cRLDistributionPoints
    "2.5.29.9",          // subjectDirectoryAttributes
    "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
];
const KNOWN_CRL_EXTENSIONS: &[&str] = &[
    "2.5.29.20", // cRLNumber
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.28", // issuingDistributionPoint
    "2.5.29.27", // deltaCRLIndicator
    "2.5.29.46", // freshestCRL
    "2.5.29.18", // issuerAltName
];
const KNOWN_ENTRY_EXTENSIONS: &[&str] = &["2.5.29.21", "2.5.29.24"]; // reasonCode, invalidityDate

/// Most name-against-constraint comparisons for one certificate (pathological inputs).
const MAX_NAME_CHECKS: usize = 1 << 20;
/// Longest path tried (certificates below the anchor).
const MAX_DEPTH: usize = 10;
/// Most candidate issuers examined for one validation, so that no input makes it hang.
const MAX_WORK: usize = 2_000;

fn fail(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(code, zh.into(), en.into())
}

fn invalid(zh: &str, en: &str) -> Error {
    fail(ErrorCode::PathInvalid, zh, en)
}

fn known(list: &[&str], oid: &Oid) -> bool {
    let s = oid.to_string();
    list.contains(&s.as_str())
}

/// A trust anchor: a certificate used only as name + key. Its own signature, validity and
/// extensions are not checked; a link to it counts only if its key verifies the link.
#[derive(Debug, Clone)]
pub struct TrustAnchor(Certificate);

impl TrustAnchor {
    /// An anchor from a certificate.
    pub fn new(cert: Certificate) -> Self {
        TrustAnchor(cert)
    }

    /// The anchor's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.0
    }

    /// Every anchor in a file (PEM bundle or DER) or in the files of a directory.
    pub fn load(path: &Path) -> Result<Vec<TrustAnchor>> {
        Ok(load_certificates(path)?.into_iter().map(TrustAnchor).collect())
    }
}

fn files(path: &Path) -> Result<Vec<std::path::PathBuf>> {
    if path.is_dir() {
        let mut out: Vec<_> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        out.sort();
        Ok(out)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Every certificate in a file (PEM bundle or DER) or in the files of a directory.
pub fn load_certificates(path: &Path) -> Result<Vec<Certificate>> {
    let mut out = Vec::new();
    for f in files(path)? {
        out.extend(Certificate::parse_all(&std::fs::read(&f)?)?);
    }
    Ok(out)
}

/// What a validation requires besides a path to an anchor.
#[derive(Debug, Clone)]
pub struct ValidationOptions {
    /// The time at which every certificate must be valid.
    pub at: OffsetDateTime,
    /// A policy the path must carry (`None`: any policy, or none, is acceptable).
    pub required_policy: Option<Oid>,
    /// CRLs to check revocation with; if any are given, every certificate on the path must be
    /// covered by a current CRL from its issuer.
    pub crls: Vec<Crl>,
    /// Key usages the leaf must allow, if it has a keyUsage extension.
    pub key_usage: KeyUsages,
    /// Extended key usages the leaf must allow, if it has an extKeyUsage extension.
    pub ext_key_usage: Vec<Oid>,
    /// A name the leaf must carry in its subjectAltName (for TLS peers; logins leave it `None`).
    pub peer_name: Option<PeerName>,
    /// The most intermediates a path may hold (`None`: up to the builder's own limit).
    pub max_intermediates: Option<usize>,
}

/// A name the leaf must be valid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerName {
    /// A DNS name, matched against dNSName entries (a wildcard covers one left-most label).
    Dns(String),
    /// An IP address, matched against iPAddress entries.
    Ip(std::net::IpAddr),
}

impl ValidationOptions {
    /// Validation at `at`, any policy, no CRLs, no usage requirement.
    pub fn at(at: OffsetDateTime) -> Self {
        ValidationOptions {
            at,
            required_policy: None,
            crls: Vec::new(),
            key_usage: KeyUsages::default(),
            ext_key_usage: Vec::new(),
            peer_name: None,
            max_intermediates: None,
        }
    }

    /// Validation for a citizen-certificate login: the government class-3 policy is required.
    pub fn login(at: OffsetDateTime) -> Self {
        ValidationOptions {
            required_policy: Some(super::cert::oids::GPKI_CLASS3),
            ..Self::at(at)
        }
    }
}

/// A validated path.
#[derive(Debug, Clone)]
pub struct ValidatedPath {
    /// The certificates from the leaf to the anchor (inclusive).
    pub certificates: Vec<Certificate>,
}

impl ValidatedPath {
    /// The subjects, leaf first, anchor last.
    pub fn subjects(&self) -> Vec<String> {
        self.certificates.iter().map(Certificate::subject).collect()
    }

    /// The anchor the path ends at.
    pub fn anchor(&self) -> &Certificate {
        // A path always holds at least the leaf and the anchor.
        &self.certificates[self.certificates.len() - 1]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Leaf,
    Pool(usize),
    Anchor(usize),
}

/// Builds and validates paths to a set of anchors, with a pool of intermediates.
#[derive(Debug, Default)]
pub struct Validator {
    anchors: Vec<Certificate>,
    pool: Vec<Certificate>,
    /// Links (issuer, pool subject) whose signature verified.
    cache: Mutex<HashSet<(Node, usize)>>,
}

struct Search<'a> {
    leaf: &'a Certificate,
    opts: &'a ValidationOptions,
    depth: usize,
    work: usize,
    /// The first error of a path that reached an anchor.
    anchored: Option<Error>,
    /// A link whose issuer looked right but whose signature failed.
    signature: Option<Error>,
    /// The issuer name where the longest chain found no issuer, and that chain's length.
    dead_end: Option<(usize, String)>,
}

impl Validator {
    /// A validator for these anchors, with no intermediates yet.
    pub fn new(anchors: Vec<TrustAnchor>) -> Self {
        Validator {
            anchors: anchors.into_iter().map(|a| a.0).collect(),
            ..Default::default()
        }
    }

    /// Adds certificates path building may use as intermediates.
    pub fn add_intermediates(&mut self, certs: impl IntoIterator<Item = Certificate>) {
        for c in certs {
            if !self.pool.iter().any(|p| p.der() == c.der()) {
                self.pool.push(c);
            }
        }
    }

    /// The anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// How many verified links to intermediates are cached.
    pub fn cached_links(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn cert<'a>(&'a self, leaf: &'a Certificate, n: Node) -> &'a Certificate {
        match n {
            Node::Leaf => leaf,
            Node::Pool(i) => &self.pool[i],
            Node::Anchor(i) => &self.anchors[i],
        }
    }

    /// Finds a path from `leaf` to an anchor that satisfies RFC 5280 and `opts`. When every
    /// candidate path fails, the error is that of the first path that reached an anchor, else
    /// a failed signature, else [`ErrorCode::UnknownIssuer`].
    pub fn validate(&self, leaf: &Certificate, opts: &ValidationOptions) -> Result<ValidatedPath> {
        self.validate_nested(leaf, opts, 0)
    }

    fn validate_nested(&self, leaf: &Certificate, opts: &ValidationOptions, depth: usize) -> Result<ValidatedPath> {
        let mut s = Search {
            leaf,
            opts,
            depth,
            work: 0,
            anchored: None,
            signature: None,
            dead_end: None,
        };
        let mut chain = vec![Node::Leaf];
        if let Some(path) = self.search(&mut chain, &mut s) {
            return Ok(ValidatedPath {
                certificates: path.iter().map(|n| self.cert(leaf, *n).clone()).collect(),
            });
        }
        if s.work > MAX_WORK && s.anchored.is_none() {
            return Err(invalid(
                &format!("路徑搜尋超過 {MAX_WORK} 個候選簽發者，已停止"),
                &format!("path building gave up after {MAX_WORK} candidate issuers"),
            ));
        }
        Err(s.anchored.or(s.signature).unwrap_or_else(|| {
            let issuer = s.dead_end.map_or_else(|| leaf.issuer(), |(_, name)| name);
            fail(
                ErrorCode::UnknownIssuer,
                format!("找不到簽發者：{issuer}"),
                format!("no issuer found: {issuer}"),
            )
        }))
    }

    fn search(&self, chain: &mut Vec<Node>, s: &mut Search) -> Option<Vec<Node>> {
        let cur = self.cert(s.leaf, *chain.last()?);
        let issuer = cur.issuer_name();
        let aki = cur.authority_key_id();
        // Key identifiers order the candidates: equal first, unknown next, different last.
        let rank = |c: &Certificate| match (aki, c.subject_key_id()) {
            (Some(a), Some(k)) if a == k => 0,
            (Some(_), Some(_)) => 2,
            _ => 1,
        };
        let mut candidates: Vec<(u8, Node)> = Vec::new();
        for (i, a) in self.anchors.iter().enumerate() {
            if names_equal(a.subject_name(), issuer) {
                candidates.push((rank(a), Node::Anchor(i)));
            }
        }
        if chain.len() <= MAX_DEPTH {
            for (i, p) in self.pool.iter().enumerate() {
                if names_equal(p.subject_name(), issuer) && !chain.contains(&Node::Pool(i)) && p.der() != s.leaf.der() {
                    candidates.push((rank(p), Node::Pool(i)));
                }
            }
        }
        candidates.sort_by_key(|(r, n)| (*r, matches!(n, Node::Pool(_))));
        if candidates.is_empty() && s.dead_end.as_ref().is_none_or(|(len, _)| chain.len() > *len) {
            s.dead_end = Some((chain.len(), cur.issuer()));
        }
        for (r, cand) in candidates {
            s.work += 1;
            if s.work > MAX_WORK {
                return None;
            }
            if let Err(e) = self.link(s.leaf, cand, *chain.last()?) {
                if r < 2 && s.signature.is_none() {
                    s.signature = Some(e);
                }
                continue;
            }
            chain.push(cand);
            if let Node::Anchor(_) = cand {
                let certs: Vec<&Certificate> = chain.iter().map(|n| self.cert(s.leaf, *n)).collect();
                match self.process(&certs, s.opts, s.depth) {
                    Ok(()) => return Some(chain.clone()),
                    Err(e) => {
                        if s.anchored.is_none() {
                            s.anchored = Some(e);
                        }
                    }
                }
            } else if let Some(found) = self.search(chain, s) {
                return Some(found);
            }
            chain.pop();
        }
        None
    }

    /// Checks that `issuer` signed `subject`, from the cache when both are known certificates.
    fn link(&self, leaf: &Certificate, issuer: Node, subject: Node) -> Result<()> {
        let key = match subject {
            Node::Pool(j) => Some((issuer, j)),
            _ => None,
        };
        if let Some(k) = key
            && self.cache.lock().is_ok_and(|c| c.contains(&k))
        {
            return Ok(());
        }
        let child = self.cert(leaf, subject);
        verify_link(child, self.cert(leaf, issuer).public_key()?)?;
        if let Some(k) = key
            && let Ok(mut c) = self.cache.lock()
        {
            c.insert(k);
        }
        Ok(())
    }
}

fn verify_link(child: &Certificate, key: &PublicKey) -> Result<()> {
    let alg = child.signature_algorithm()?;
    if matches!(alg, SignatureAlgorithm::RsaPkcs1(Hash::Sha1)) {
        return Err(fail(
            ErrorCode::SignatureAlgorithmUnsupported,
            "SHA-1 僅限信任錨點自簽",
            "SHA-1 is accepted only on an anchor's own self-signature",
        ));
    }
    child.verify_signed_by(key)
}

/// Decodes an extension of `cert` by OID.
fn extension<T: for<'a> Decode<'a>>(cert: &Certificate, oid: Oid) -> Result<Option<T>> {
    let Some(exts) = cert.x509().tbs_certificate().extensions() else {
        return Ok(None);
    };
    match exts.iter().find(|e| e.extn_id == oid) {
        None => Ok(None),
        Some(e) => T::from_der(e.extn_value.as_bytes()).map(Some).map_err(|_| {
            let what = format!("extension {oid} does not decode");
            fail(ErrorCode::CertificateMalformed, what.clone(), what)
        }),
    }
}

fn check_validity(cert: &Certificate, at: OffsetDateTime) -> Result<()> {
    // Validity is encoded in whole seconds: compare at that granularity.
    let at = at.replace_nanosecond(0).unwrap_or(at);
    let who = cert.subject();
    if at < cert.not_before()? {
        return Err(fail(
            ErrorCode::CertificateNotYetValid,
            format!("{who} 尚未生效"),
            format!("{who} is not yet valid"),
        ));
    }
    if at > cert.not_after()? {
        return Err(fail(
            ErrorCode::CertificateExpired,
            format!("{who} 已逾期"),
            format!("{who} has expired"),
        ));
    }
    Ok(())
}

fn is_ca(cert: &Certificate) -> bool {
    cert.basic_constraints().is_some_and(|(ca, _)| ca)
}

impl Validator {
    /// RFC 5280 §6.1 on a built path, signatures already checked; `depth` counts nested
    /// validations of CRL signers.
    fn process(&self, path: &[&Certificate], opts: &ValidationOptions, depth: usize) -> Result<()> {
        let (anchor, rest) = path.split_last().ok_or_else(|| Error::internal("empty path"))?;
        let certs: Vec<&Certificate> = rest.iter().rev().copied().collect();
        let n = certs.len();
        let mut explicit = n + 1;
        let mut inhibit_any = n + 1;
        let mut mapping = n + 1;
        let mut max_path = n;
        let mut tree = PolicyTree::new();
        let mut names = NameState::default();
        let mut issuer: &Certificate = anchor;
        check_profile(anchor, Role::Anchor, opts)?;
        check_validity(anchor, opts.at)?;
        if let Some(nc) = extension::<NameConstraints>(anchor, oids::NAME_CONSTRAINTS)? {
            names.add(nc);
        }
        let logical = certs[..n - 1].iter().filter(|c| !c.is_self_issued()).count();
        if opts.max_intermediates.is_some_and(|m| logical > m) {
            return Err(invalid("中繼憑證過多", "more intermediates than allowed"));
        }
        for (idx, &cert) in certs.iter().enumerate() {
            let i = idx + 1;
            let last = i == n;
            let self_issued = cert.is_self_issued();
            if !names_equal(cert.issuer_name(), issuer.subject_name()) {
                return Err(invalid("簽發者名稱不相符", "name chaining: issuer name differs"));
            }
            check_validity(cert, opts.at)?;
            check_profile(cert, if last { Role::Leaf } else { Role::Ca }, opts)?;
            if !opts.crls.is_empty() {
                let above: Vec<&Certificate> = path[path.len() - i..].to_vec();
                self.check_revocation(cert, &above, opts, depth)?;
            }
            if last || !self_issued {
                names.check(cert)?;
            }
            tree.add_level(i, cert.policies(), inhibit_any > 0 || (!last && self_issued));
            if explicit == 0 && tree.is_null() {
                return Err(fail(
                    ErrorCode::PolicyNotAcceptable,
                    "憑證路徑未帶有效政策",
                    "the path has no valid policy and one is required",
                ));
            }
            let constraints = extension::<PolicyConstraints>(cert, oids::POLICY_CONSTRAINTS)?;
            if last {
                explicit = explicit.saturating_sub(1);
                if constraints.as_ref().and_then(|c| c.require_explicit_policy) == Some(0) {
                    explicit = 0;
                }
                break;
            }
            // Preparation for the next certificate (§6.1.4).
            let mappings: Vec<(Oid, Oid)> = extension::<PolicyMappings>(cert, oids::POLICY_MAPPINGS)?
                .map(|m| {
                    m.0.iter()
                        .map(|p| (p.issuer_domain_policy, p.subject_domain_policy))
                        .collect()
                })
                .unwrap_or_default();
            if mappings
                .iter()
                .any(|(a, b)| *a == oids::ANY_POLICY || *b == oids::ANY_POLICY)
            {
                return Err(invalid("政策對應含 anyPolicy", "policyMappings maps anyPolicy"));
            }
            tree.map(i, &mappings, mapping > 0);
            if let Some(nc) = extension::<NameConstraints>(cert, oids::NAME_CONSTRAINTS)? {
                names.add(nc);
            }
            if !self_issued {
                explicit = explicit.saturating_sub(1);
                mapping = mapping.saturating_sub(1);
                inhibit_any = inhibit_any.saturating_sub(1);
            }
            if let Some(c) = constraints {
                if let Some(r) = c.require_explicit_policy {
                    explicit = explicit.min(r as usize);
                }
                if let Some(m) = c.inhibit_policy_mapping {
                    mapping = mapping.min(m as usize);
                }
            }
            if let Some(InhibitAnyPolicy(v)) = extension::<InhibitAnyPolicy>(cert, oids::INHIBIT_ANY_POLICY)? {
                inhibit_any = inhibit_any.min(v as usize);
            }
            // (k) cA and (n) keyCertSign are checked by check_profile for the Ca role.
            if !self_issued {
                if max_path == 0 {
                    return Err(invalid(
                        "超過 pathLenConstraint 路徑長度限制",
                        "pathLenConstraint exceeded",
                    ));
                }
                max_path -= 1;
            }
            if let Some((_, Some(len))) = cert.basic_constraints() {
                max_path = max_path.min(len as usize);
            }
            issuer = cert;
        }
        if let Some(p) = &opts.required_policy
            && !tree.accepts(n, p)
        {
            return Err(fail(
                ErrorCode::PolicyNotAcceptable,
                format!("憑證路徑不含政策 {p}"),
                format!("the path does not carry policy {p}"),
            ));
        }
        if explicit == 0 && tree.is_null() {
            return Err(fail(
                ErrorCode::PolicyNotAcceptable,
                "憑證路徑未帶有效政策",
                "the path has no valid policy and one is required",
            ));
        }
        check_leaf_usage(certs[n - 1], opts)
    }
}

fn check_leaf_usage(leaf: &Certificate, opts: &ValidationOptions) -> Result<()> {
    let want = opts.key_usage;
    if let Some(k) = leaf.key_usage() {
        let lacking = (want.digital_signature && !k.digital_signature)
            || (want.non_repudiation && !k.non_repudiation)
            || (want.key_encipherment && !k.key_encipherment)
            || (want.data_encipherment && !k.data_encipherment)
            || (want.key_agreement && !k.key_agreement)
            || (want.key_cert_sign && !k.key_cert_sign)
            || (want.crl_sign && !k.crl_sign);
        if lacking {
            return Err(fail(
                ErrorCode::KeyUsageInvalid,
                "終端憑證的金鑰用途不符",
                "the leaf's keyUsage lacks a required usage",
            ));
        }
    }
    if let Some(eku) = leaf.ext_key_usage()
        && opts.ext_key_usage.iter().any(|p| !eku.contains(p))
    {
        return Err(fail(
            ErrorCode::KeyUsageInvalid,
            "終端憑證的延伸金鑰用途不符",
            "the leaf's extKeyUsage lacks a required purpose",
        ));
    }
    if let Some(peer) = &opts.peer_name {
        check_peer_name(leaf, peer)?;
    }
    Ok(())
}
