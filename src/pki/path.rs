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

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use der::Decode;
use der::asn1::ObjectIdentifier as Oid;
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    CrlDistributionPoints, InhibitAnyPolicy, NameConstraints, PolicyConstraints, PolicyMappings, SubjectAltName,
};
use x509_cert::name::Name;

use super::cert::{Certificate, KeyUsages, pem_blocks, signed_range, string_value, time};
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

/// A certificate revocation list, read for the checks of [`Validator::validate`].
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    inner: CertificateList,
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
        let inner = CertificateList::from_der(der).map_err(|e| crl_malformed(format!("DER: {e}")))?;
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
        Ok(Crl {
            der: der.to_vec(),
            tbs,
            issuer,
            this_update,
            next_update,
            entries,
            idp,
            delta,
            bad_extensions: unknown_critical || !number,
            inner,
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

    /// The CRL as it came.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether `key` signed this CRL.
    pub fn verify_signed_by(&self, key: &PublicKey) -> Result<()> {
        let alg = SignatureAlgorithm::from_identifier(&self.inner.signature_algorithm)?;
        let sig = self
            .inner
            .signature
            .as_bytes()
            .ok_or_else(|| crl_malformed("signature has unused bits"))?;
        key.verify(alg, &self.der[self.tbs.clone()], sig)
    }
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
        };
        let mut chain = vec![Node::Leaf];
        if let Some(path) = self.search(&mut chain, &mut s) {
            return Ok(ValidatedPath {
                certificates: path.iter().map(|n| self.cert(leaf, *n).clone()).collect(),
            });
        }
        Err(s.anchored.or(s.signature).unwrap_or_else(|| {
            let issuer = leaf.issuer();
            fail(
                ErrorCode::UnknownIssuer,
                format!("簽發者：{issuer}"),
                format!("issuer: {issuer}"),
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

/// A node of the valid-policy tree (RFC 5280 §6.1.2 (a)).
#[derive(Debug, Clone)]
struct PolicyNode {
    policy: Oid,
    expected: Vec<Oid>,
    parent: usize,
    alive: bool,
}

/// The valid-policy tree, one level per certificate; `None` is the NULL tree.
struct PolicyTree(Option<Vec<Vec<PolicyNode>>>);

impl PolicyTree {
    fn new() -> Self {
        PolicyTree(Some(vec![vec![PolicyNode {
            policy: oids::ANY_POLICY,
            expected: vec![oids::ANY_POLICY],
            parent: 0,
            alive: true,
        }]]))
    }

    /// Removes childless nodes above `depth`, and the tree if the root goes.
    fn prune(&mut self, depth: usize) {
        let Some(levels) = self.0.as_mut() else { return };
        for d in (0..depth).rev() {
            let (upper, lower) = levels.split_at_mut(d + 1);
            let below = lower.first();
            for (i, n) in upper[d].iter_mut().enumerate() {
                if n.alive && !below.is_some_and(|b| b.iter().any(|c| c.alive && c.parent == i)) {
                    n.alive = false;
                }
            }
        }
        if !levels[0][0].alive {
            self.0 = None;
        }
    }

    /// (d)–(e): adds level `i` for a certificate's policies.
    fn add_level(&mut self, i: usize, policies: Option<&[Oid]>, any_allowed: bool) {
        let Some(policies) = policies else {
            self.0 = None;
            return;
        };
        let Some(levels) = self.0.as_mut() else { return };
        let prev = &levels[i - 1];
        let mut level: Vec<PolicyNode> = Vec::new();
        let child = |policy: Oid, parent| PolicyNode {
            policy,
            expected: vec![policy],
            parent,
            alive: true,
        };
        for p in policies.iter().filter(|p| **p != oids::ANY_POLICY) {
            let matched: Vec<usize> = (0..prev.len())
                .filter(|&j| prev[j].alive && prev[j].expected.contains(p))
                .collect();
            if matched.is_empty() {
                for (j, n) in prev.iter().enumerate() {
                    if n.alive && n.policy == oids::ANY_POLICY {
                        level.push(child(*p, j));
                    }
                }
            } else {
                level.extend(matched.into_iter().map(|j| child(*p, j)));
            }
        }
        if any_allowed && policies.contains(&oids::ANY_POLICY) {
            for (j, n) in prev.iter().enumerate().filter(|(_, n)| n.alive) {
                for e in &n.expected {
                    if !level.iter().any(|c| c.parent == j && c.policy == *e) {
                        level.push(child(*e, j));
                    }
                }
            }
        }
        levels.push(level);
        self.prune(i);
    }

    /// (b) of §6.1.4: applies policy mappings at level `i`.
    fn map(&mut self, i: usize, mappings: &[(Oid, Oid)], mapping_allowed: bool) {
        let Some(levels) = self.0.as_mut() else { return };
        let mut issuer_policies: Vec<Oid> = mappings.iter().map(|m| m.0).collect();
        issuer_policies.sort();
        issuer_policies.dedup();
        for p in issuer_policies {
            let subjects: Vec<Oid> = mappings.iter().filter(|m| m.0 == p).map(|m| m.1).collect();
            let level = &mut levels[i];
            if mapping_allowed {
                let mut found = false;
                for n in level.iter_mut().filter(|n| n.alive && n.policy == p) {
                    n.expected = subjects.clone();
                    found = true;
                }
                if !found && let Some(any) = level.iter().find(|n| n.alive && n.policy == oids::ANY_POLICY) {
                    let parent = any.parent;
                    level.push(PolicyNode {
                        policy: p,
                        expected: subjects,
                        parent,
                        alive: true,
                    });
                }
            } else {
                for n in level.iter_mut().filter(|n| n.policy == p) {
                    n.alive = false;
                }
            }
        }
        if !mapping_allowed {
            self.prune(i);
        }
    }

    fn accepts(&self, depth: usize, policy: &Oid) -> bool {
        self.0.as_ref().is_some_and(|levels| {
            levels.get(depth).is_some_and(|l| {
                l.iter()
                    .any(|n| n.alive && (n.policy == *policy || n.policy == oids::ANY_POLICY))
            })
        })
    }
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

/// The names of a certificate that name constraints apply to.
fn constrained_names(cert: &Certificate) -> Result<Vec<GeneralName>> {
    let mut names = Vec::new();
    let subject = cert.subject_name();
    if !subject.is_empty() {
        names.push(GeneralName::DirectoryName(subject.clone()));
    }
    if let Some(san) = extension::<SubjectAltName>(cert, oids::SAN)? {
        names.extend(san.0);
    } else {
        for a in subject.as_ref().iter().flat_map(|r| r.as_ref().iter()) {
            if a.oid == oids::EMAIL_ADDRESS
                && let Some(v) = string_value(&a.value)
                && let Ok(ia5) = der::asn1::Ia5String::new(&v)
            {
                names.push(GeneralName::Rfc822Name(ia5));
            }
        }
    }
    Ok(names)
}

fn same_text(a: &der::Any, b: &der::Any) -> bool {
    if a == b {
        return true;
    }
    let norm = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    match (string_value(a), string_value(b)) {
        (Some(x), Some(y)) => norm(x) == norm(y),
        _ => false,
    }
}

fn dn_within(name: &Name, base: &Name) -> bool {
    let (n, b) = (name.as_ref(), base.as_ref());
    b.len() <= n.len()
        && b.iter().zip(n.iter()).all(|(br, nr)| {
            br.as_ref().len() == nr.as_ref().len()
                && br.as_ref().iter().all(|ba| {
                    nr.as_ref()
                        .iter()
                        .any(|na| na.oid == ba.oid && same_text(&na.value, &ba.value))
                })
        })
}

/// Whether two names are the same: byte for byte, or attribute by attribute ignoring case,
/// surrounding and repeated spaces and the string type (RFC 5280 §7.1, simplified).
fn names_equal(a: &Name, b: &Name) -> bool {
    a == b || (a.as_ref().len() == b.as_ref().len() && dn_within(a, b))
}

fn dns_within(name: &str, base: &str) -> bool {
    let (name, base) = (name.to_ascii_lowercase(), base.to_ascii_lowercase());
    let base = base.trim_start_matches('.');
    base.is_empty() || name == base || name.ends_with(&format!(".{base}"))
}

fn email_within(name: &str, base: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    let domain = name.rsplit_once('@').map_or(name.as_str(), |(_, d)| d);
    if base.contains('@') {
        name == base
    } else if base.starts_with('.') {
        domain.ends_with(&base)
    } else {
        domain == base
    }
}

fn uri_host(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.split(':').next().unwrap_or(host))
}

fn uri_within(name: &str, base: &str) -> bool {
    let Some(host) = uri_host(name) else { return false };
    let (host, base) = (host.to_ascii_lowercase(), base.to_ascii_lowercase());
    if base.starts_with('.') {
        host.ends_with(&base)
    } else {
        host == base
    }
}

fn ip_within(name: &[u8], base: &[u8]) -> bool {
    base.len() == 2 * name.len() && {
        let (addr, mask) = base.split_at(name.len());
        name.iter().zip(addr).zip(mask).all(|((n, a), m)| n & m == a & m)
    }
}

/// Whether a wildcard dNSName could stand for a name inside `base` (CVE-2025-61727).
fn wildcard_may_hit(name: &GeneralName, base: &GeneralName) -> bool {
    match (name, base) {
        (GeneralName::DnsName(n), GeneralName::DnsName(b)) => n.as_str().strip_prefix("*.").is_some_and(|rest| {
            let b = b.as_str().to_ascii_lowercase();
            b.ends_with(&format!(".{}", rest.to_ascii_lowercase()))
        }),
        _ => false,
    }
}

/// Whether `name` is within `base`, or `None` if they are of different types.
fn within(name: &GeneralName, base: &GeneralName) -> Option<bool> {
    use GeneralName as G;
    Some(match (name, base) {
        (G::DirectoryName(n), G::DirectoryName(b)) => dn_within(n, b),
        (G::DnsName(n), G::DnsName(b)) => dns_within(n.as_str(), b.as_str()),
        (G::Rfc822Name(n), G::Rfc822Name(b)) => email_within(n.as_str(), b.as_str()),
        (G::UniformResourceIdentifier(n), G::UniformResourceIdentifier(b)) => uri_within(n.as_str(), b.as_str()),
        (G::IpAddress(n), G::IpAddress(b)) => ip_within(n.as_bytes(), b.as_bytes()),
        (G::OtherName(n), G::OtherName(b)) => n == b,
        (G::RegisteredId(n), G::RegisteredId(b)) => n == b,
        _ => return None,
    })
}

/// Name-constraint state: each CA's permitted subtrees (all must admit a name), and every
/// excluded subtree seen.
#[derive(Default)]
struct NameState {
    permitted: Vec<Vec<GeneralSubtree>>,
    excluded: Vec<GeneralSubtree>,
}

impl NameState {
    fn check(&self, cert: &Certificate) -> Result<()> {
        if self.permitted.is_empty() && self.excluded.is_empty() {
            return Ok(());
        }
        let names = constrained_names(cert)?;
        let subtrees = self.excluded.len() + self.permitted.iter().map(Vec::len).sum::<usize>();
        if names.len().saturating_mul(subtrees) > MAX_NAME_CHECKS {
            return Err(invalid(
                "名稱限制檢查過多",
                "too many names against too many name constraints",
            ));
        }
        for name in names {
            for set in &self.permitted {
                let verdicts: Vec<bool> = set.iter().filter_map(|t| within(&name, &t.base)).collect();
                if !verdicts.is_empty() && !verdicts.contains(&true) {
                    return Err(invalid(
                        "名稱不在允許的名稱範圍內",
                        "name constraints: a name is not permitted",
                    ));
                }
            }
            if self
                .excluded
                .iter()
                .any(|t| within(&name, &t.base) == Some(true) || wildcard_may_hit(&name, &t.base))
            {
                return Err(invalid(
                    "名稱在排除的名稱範圍內",
                    "name constraints: a name is excluded",
                ));
            }
        }
        Ok(())
    }

    fn add(&mut self, nc: NameConstraints) {
        // Empty lists are rejected by check_profile before this.
        if let Some(p) = nc.permitted_subtrees {
            self.permitted.push(p);
        }
        if let Some(e) = nc.excluded_subtrees {
            self.excluded.extend(e);
        }
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
            if explicit == 0 && tree.0.is_none() {
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
        if explicit == 0 && tree.0.is_none() {
            return Err(fail(
                ErrorCode::PolicyNotAcceptable,
                "憑證路徑未帶有效政策",
                "the path has no valid policy and one is required",
            ));
        }
        check_leaf_usage(certs[n - 1], opts)
    }

    /// Checks `cert` against the CRLs of its issuer; `above` is the path above it, its issuer first.
    fn check_revocation(
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
    let Some(dps) = extension::<CrlDistributionPoints>(cert, super::cert::oids::CRL_DP)? else {
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

fn dns_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let name = name.strip_suffix('.').unwrap_or(&name);
    match pattern.strip_prefix("*.") {
        Some(rest) => name
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest && rest.contains('.')),
        None => !pattern.contains('*') && pattern == name,
    }
}

fn check_peer_name(leaf: &Certificate, peer: &PeerName) -> Result<()> {
    let san = extension::<SubjectAltName>(leaf, oids::SAN)?
        .map(|s| s.0)
        .unwrap_or_default();
    let found = san.iter().any(|g| match (g, peer) {
        (GeneralName::DnsName(d), PeerName::Dns(n)) => dns_matches(d.as_str(), n),
        (GeneralName::IpAddress(a), PeerName::Ip(ip)) => match ip {
            std::net::IpAddr::V4(v4) => a.as_bytes() == v4.octets(),
            std::net::IpAddr::V6(v6) => a.as_bytes() == v6.octets(),
        },
        _ => false,
    });
    if found {
        Ok(())
    } else {
        let want = match peer {
            PeerName::Dns(n) => n.clone(),
            PeerName::Ip(ip) => ip.to_string(),
        };
        Err(fail(
            ErrorCode::PeerNameMismatch,
            format!("憑證不適用於 {want}"),
            format!("the certificate is not valid for {want}"),
        ))
    }
}

/// Where a certificate sits on the path, for the profile checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anchor,
    Ca,
    Leaf,
}

/// A dNSName as RFC 5280 allows it in a certificate: letters, digits and hyphens in dot-separated
/// labels, a wildcard only as a whole left-most label.
fn valid_dns(name: &str, wildcard_ok: bool) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    !name.is_empty()
        && labels.iter().enumerate().all(|(i, l)| {
            (i == 0 && wildcard_ok && *l == "*" && labels.len() > 2)
                || (!l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        })
}

fn valid_mailbox(addr: &str) -> bool {
    matches!(addr.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.contains('@') && valid_dns(domain, false))
}

fn valid_constraint(base: &GeneralName) -> bool {
    match base {
        GeneralName::DnsName(d) => d.as_str().is_empty() || valid_dns(d.as_str(), false),
        GeneralName::Rfc822Name(m) => {
            let m = m.as_str();
            if m.contains('@') {
                valid_mailbox(m)
            } else {
                valid_dns(m.strip_prefix('.').unwrap_or(m), false)
            }
        }
        GeneralName::IpAddress(ip) => {
            let b = ip.as_bytes();
            (b.len() == 8 || b.len() == 32) && {
                let mask = &b[b.len() / 2..];
                let bits: Vec<bool> = mask
                    .iter()
                    .flat_map(|m| (0..8).rev().map(move |i| m >> i & 1 == 1))
                    .collect();
                bits.windows(2).all(|w| w[0] || !w[1])
            }
        }
        _ => true,
    }
}

/// The RFC 5280 §4 profile checks that §6.1 does not make, for the role the certificate plays;
/// with a peer name (a TLS server), also the CA/Browser Forum rules for the leaf.
fn check_profile(cert: &Certificate, role: Role, opts: &ValidationOptions) -> Result<()> {
    use super::cert::oids as c;
    let who = cert.subject();
    let bad = |zh: &str, en: &str| invalid(&format!("{who}：{zh}"), &format!("{who}: {en}"));
    let critical = |oid: &Oid| cert.critical_extensions().contains(oid);
    let tls = opts.peer_name.is_some();
    if let Some(x) = cert.critical_extensions().iter().find(|x| !known(KNOWN_EXTENSIONS, x)) {
        return Err(bad(
            &format!("無法處理的重要延伸欄位 {x}"),
            &format!("unknown critical extension {x}"),
        ));
    }
    if let super::sig::KeyKind::Rsa { bits } = cert.public_key()?.kind()
        && bits % 8 != 0
    {
        return Err(fail(
            ErrorCode::PublicKeyUnsupported,
            who.clone(),
            format!("{who}: RSA modulus of {bits} bits"),
        ));
    }
    if critical(&c::SKI) || critical(&c::AKI) || critical(&c::AIA) {
        return Err(bad("SKI、AKI、AIA 不得為重要", "SKI, AKI and AIA must not be critical"));
    }
    if cert.ext_key_usage().is_some_and(<[Oid]>::is_empty) {
        return Err(bad("延伸金鑰用途為空", "empty extKeyUsage"));
    }
    let aki = extension::<x509_cert::ext::pkix::AuthorityKeyIdentifier>(cert, c::AKI)?;
    if let Some(a) = &aki
        && (a.authority_cert_issuer.is_some() != a.authority_cert_serial_number.is_some()
            || (role == Role::Anchor && a.authority_cert_issuer.is_some()))
    {
        return Err(bad(
            "AKI 欄位不一致",
            "authorityKeyIdentifier issuer and serial must go together",
        ));
    }
    if role == Role::Anchor {
        let key_id = aki.as_ref().map(|a| a.key_identifier.as_ref().map(|k| k.as_bytes()));
        if cert.is_self_issued() && key_id.is_some_and(|k| k != cert.subject_key_id()) {
            return Err(bad("AKI 與 SKI 不符", "a self-signed anchor's AKI must be its SKI"));
        }
        if tls && cert.ext_key_usage().is_some() {
            return Err(bad(
                "根憑證不得有延伸金鑰用途",
                "a root must not carry extKeyUsage (CA/B Forum)",
            ));
        }
    } else {
        if cert.serial().iter().all(|b| *b == 0) {
            return Err(bad("序號為零", "serial number is zero"));
        }
        if aki.as_ref().and_then(|a| a.key_identifier.as_ref()).is_none() {
            return Err(bad("缺少 AKI", "no authorityKeyIdentifier keyIdentifier"));
        }
    }
    if let Some(nc) = extension::<NameConstraints>(cert, oids::NAME_CONSTRAINTS)? {
        let empty = |t: &Option<Vec<GeneralSubtree>>| t.as_ref().is_some_and(Vec::is_empty);
        if role == Role::Leaf
            || !critical(&oids::NAME_CONSTRAINTS)
            || (nc.permitted_subtrees.is_none() && nc.excluded_subtrees.is_none())
            || empty(&nc.permitted_subtrees)
            || empty(&nc.excluded_subtrees)
        {
            return Err(bad(
                "名稱限制不正確",
                "nameConstraints misplaced, not critical or empty",
            ));
        }
        if !nc
            .permitted_subtrees
            .iter()
            .chain(nc.excluded_subtrees.iter())
            .flatten()
            .all(|t| valid_constraint(&t.base))
        {
            return Err(bad("名稱限制格式錯誤", "malformed name constraint"));
        }
    }
    let san = extension::<SubjectAltName>(cert, oids::SAN)?;
    if cert.subject_name().is_empty() && (role != Role::Leaf || !san.as_ref().is_some_and(|_| critical(&oids::SAN))) {
        return Err(bad(
            "主體名稱為空",
            "empty subject (allowed only on a leaf with a critical subjectAltName)",
        ));
    }
    for g in san.iter().flat_map(|s| s.0.iter()) {
        let ok = match g {
            GeneralName::DnsName(d) => valid_dns(d.as_str(), true),
            GeneralName::Rfc822Name(m) => valid_mailbox(m.as_str()),
            GeneralName::IpAddress(ip) => matches!(ip.as_bytes().len(), 4 | 16),
            _ => true,
        };
        if !ok {
            return Err(bad("主體別名格式錯誤", "malformed subjectAltName entry"));
        }
    }
    match role {
        Role::Anchor | Role::Ca => {
            if !is_ca(cert) {
                return Err(bad("不是憑證機構（basicConstraints）", "not a CA (basicConstraints)"));
            }
            if cert.subject_key_id().is_none() {
                return Err(bad("憑證機構缺少 SKI", "a CA without subjectKeyIdentifier"));
            }
            if cert.key_usage().is_some_and(|k| !k.key_cert_sign) {
                return Err(fail(
                    ErrorCode::KeyUsageInvalid,
                    format!("{who} 的金鑰用途不含 keyCertSign"),
                    format!("{who}'s keyUsage lacks keyCertSign"),
                ));
            }
        }
        Role::Leaf => {
            if cert.key_usage().is_some_and(|k| k.key_cert_sign != is_ca(cert)) {
                return Err(bad(
                    "非憑證機構卻有 keyCertSign",
                    "keyCertSign and basicConstraints cA disagree",
                ));
            }
            if tls {
                check_tls_leaf(cert, san.as_ref().map(|s| s.0.as_slice()).unwrap_or_default())?;
            }
        }
    }
    Ok(())
}

/// The CA/Browser Forum rules for a TLS server's certificate that we apply with a peer name.
fn check_tls_leaf(cert: &Certificate, san: &[GeneralName]) -> Result<()> {
    let who = cert.subject();
    let bad = |en: &str| invalid(&format!("{who}：不符 TLS 伺服器憑證規範"), &format!("{who}: {en}"));
    if cert.ext_key_usage().is_some_and(|e| e.contains(&oids::ANY_EKU)) {
        return Err(bad("anyExtendedKeyUsage on a TLS server certificate"));
    }
    if cert.critical_extensions().contains(&super::cert::oids::EXT_KEY_USAGE) {
        return Err(bad("extKeyUsage must not be critical"));
    }
    if cert.critical_extensions().contains(&oids::SAN) && !cert.subject_name().is_empty() {
        return Err(bad("subjectAltName must not be critical when the subject is not empty"));
    }
    for a in cert.subject_name().as_ref().iter().flat_map(|r| r.as_ref().iter()) {
        if a.oid.to_string() != "2.5.4.3" {
            continue;
        }
        let cn = string_value(&a.value).unwrap_or_default();
        if !cn_consistent(&cn, san) {
            return Err(bad(
                "the common name is not written as one of the subjectAltName entries",
            ));
        }
    }
    Ok(())
}

/// Whether a TLS server's common name agrees with its subjectAltName (CA/B Forum 7.1.4.3, as far
/// as it can be checked without rejecting ordinary certificates): a CN that is an IP address in
/// any notation must be the canonical text of an iPAddress entry; a CN that names a dNSName entry
/// must spell it exactly; a CN must be ASCII (A-labels, not Unicode).
fn cn_consistent(cn: &str, san: &[GeneralName]) -> bool {
    let ip_like = !cn.is_empty()
        && cn
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':' || b == b'x' || b == b'X')
        && (cn.contains(':') || cn.bytes().filter(|b| *b == b'.').count() == 3 || cn.starts_with("0x"));
    if ip_like {
        return cn.parse::<std::net::IpAddr>().is_ok_and(|addr| {
            addr.to_string() == cn
                && san.iter().any(|g| match (g, addr) {
                    (GeneralName::IpAddress(ip), std::net::IpAddr::V4(v)) => ip.as_bytes() == v.octets(),
                    (GeneralName::IpAddress(ip), std::net::IpAddr::V6(v)) => ip.as_bytes() == v.octets(),
                    _ => false,
                })
        });
    }
    cn.is_ascii()
        && !san.iter().any(|g| match g {
            GeneralName::DnsName(d) => d.as_str().eq_ignore_ascii_case(cn) && d.as_str() != cn,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_and_wildcards() {
        assert!(dns_matches("*.example.com", "foo.example.com"));
        assert!(!dns_matches("*.example.com", "example.com"));
        assert!(!dns_matches("*.example.com", "a.b.example.com"));
        assert!(
            !dns_matches("*.com", "example.com"),
            "a wildcard needs two labels under it"
        );
        assert!(dns_matches("Example.COM", "example.com"));
        assert!(valid_dns("*.example.com", true) && !valid_dns("*.example.com", false));
        assert!(!valid_dns("under_score.example.com", true));
        assert!(!valid_dns("foo.*.example.com", true));
    }

    #[test]
    fn name_constraint_subtrees() {
        assert!(dns_within("foo.example.com", "example.com"));
        assert!(!dns_within("fooexample.com", "example.com"));
        assert!(email_within("a@mail.example.com", ".example.com"));
        assert!(!email_within("a@example.com", ".example.com"));
        assert!(email_within("a@example.com", "example.com"));
        assert!(!email_within("b@example.com", "a@example.com"));
        assert!(uri_within("http://user@host.example.com:8080/x", ".example.com"));
        assert!(ip_within(&[192, 0, 2, 7], &[192, 0, 2, 0, 255, 255, 255, 0]));
        assert!(!ip_within(&[192, 0, 3, 7], &[192, 0, 2, 0, 255, 255, 255, 0]));
    }

    #[test]
    fn common_names_must_agree_with_the_san() {
        let san = [GeneralName::DnsName(
            der::asn1::Ia5String::new("example.com").expect("IA5"),
        )];
        assert!(cn_consistent("example.com", &san));
        assert!(
            cn_consistent("other.example", &san),
            "a CN naming another host is not judged"
        );
        assert!(!cn_consistent("Example.COM", &san));
        assert!(!cn_consistent("192.168.001.001", &san));
    }
}
