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

const NO_REASON: u8 = 0xff;
const FLAG_UNKNOWN_CRITICAL: u8 = 1;
const FLAG_REMOVE: u8 = 2;

/// One revoked entry, 16 bytes: where its serial lies in the arena, its reason and its date.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u32,
    len: u8,
    reason: u8,
    flags: u8,
    date: i64,
}

/// The revoked serials: their encodings packed into one arena, and an open-addressing hash table
/// of entry numbers. About 37 bytes per entry for 16-byte serials, against some 100 for a
/// `HashMap<Vec<u8>, _>`.
#[derive(Debug, Clone, Default)]
struct Index {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// Entry number + 1; 0 is an empty slot. Its length is a power of two at least twice the entries.
    table: Vec<u32>,
    seed: u64,
    /// Entries overridden by a later one for the same serial.
    duplicates: usize,
}

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

fn hash_serial(seed: u64, serial: &[u8]) -> u64 {
    let mut h = seed ^ (serial.len() as u64).wrapping_mul(MIX);
    for chunk in serial.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(MIX);
        h ^= h >> 29;
    }
    h.wrapping_mul(MIX) ^ (h >> 32)
}

impl Index {
    fn with_capacity(entries: usize, arena: usize) -> Self {
        use std::hash::BuildHasher;
        Index {
            arena: Vec::with_capacity(arena),
            entries: Vec::with_capacity(entries),
            table: Vec::new(),
            duplicates: 0,
            seed: std::collections::hash_map::RandomState::new().hash_one(0x6563_7061u64),
        }
    }

    fn serial(&self, e: &Entry) -> &[u8] {
        let start = e.offset as usize;
        &self.arena[start..start + usize::from(e.len)]
    }

    fn push(&mut self, serial: &[u8], reason: u8, flags: u8, date: i64) -> Result<()> {
        let offset = u32::try_from(self.arena.len()).map_err(|_| crl_malformed("CRL too large"))?;
        let len = u8::try_from(serial.len()).map_err(|_| crl_malformed("serial number too long"))?;
        if self.entries.len() >= u32::MAX as usize / 4 {
            return Err(crl_malformed("CRL too large"));
        }
        self.arena.extend_from_slice(serial);
        self.entries.push(Entry {
            offset,
            len,
            reason,
            flags,
            date,
        });
        Ok(())
    }

    /// Builds the table; of two entries for one serial the later one stands, as a map insert would.
    fn build(&mut self) {
        self.arena.shrink_to_fit();
        self.entries.shrink_to_fit();
        let size = (self.entries.len() * 2).next_power_of_two().max(2);
        let mask = size - 1;
        let mut table = vec![0u32; size];
        let mut duplicates = 0;
        for i in 0..self.entries.len() {
            let key = self.serial(&self.entries[i]);
            let mut slot = hash_serial(self.seed, key) as usize & mask;
            loop {
                match table[slot] {
                    0 => {
                        table[slot] = i as u32 + 1;
                        break;
                    }
                    n if self.serial(&self.entries[n as usize - 1]) == key => {
                        duplicates += 1;
                        table[slot] = i as u32 + 1;
                        break;
                    }
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        self.table = table;
        // A serial listed twice counts once.
        self.duplicates = duplicates;
    }

    fn get(&self, serial: &[u8]) -> Option<&Entry> {
        let mask = self.table.len().checked_sub(1)?;
        let mut slot = hash_serial(self.seed, serial) as usize & mask;
        loop {
            match self.table[slot] {
                0 => return None,
                n => {
                    let e = &self.entries[n as usize - 1];
                    if self.serial(e) == serial {
                        return Some(e);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    fn len(&self) -> usize {
        self.entries.len() - self.duplicates
    }

    fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>() + self.table.capacity() * 4
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

fn crl_malformed(what: impl std::fmt::Display) -> Error {
    fail(ErrorCode::CrlMalformed, what.to_string(), what.to_string())
}

fn tlv_error(what: &str) -> impl Fn(TlvError) -> Error + '_ {
    move |e| crl_malformed(format!("{what}: {e:?}"))
}

/// The extensions of an entry that has only a non-critical reasonCode: most entries that have any.
const REASON_ONLY: [u8; 13] = [
    0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01,
];
const REASON_CODE: &str = "2.5.29.21";
/// Above this size the signed part is hashed on a second thread while the entries are read.
const PARALLEL_HASH: usize = 1 << 20;

/// Whether an INTEGER's content is non-empty and minimal: what `der` checks, done inline for
/// the common case (anything else goes to `der` for its verdict).
fn minimal_integer(v: &[u8]) -> bool {
    match v {
        [] => false,
        [0x00, next, ..] => *next >= 0x80,
        [0xff, next, ..] => *next < 0x80,
        _ => true,
    }
}

/// The Unix time of a UTCTime `YYMMDDHHMMSSZ` (whole TLV) in the range every decoder accepts:
/// years 1970 to 2049, days 1 to 28. `None` sends anything else to `der` for its verdict, so
/// this shortcut accepts a subset of what `der` accepts, with the same value.
fn simple_utc_time(tlv: &[u8]) -> Option<i64> {
    let [0x17, 13, d @ .., b'Z'] = tlv else {
        return None;
    };
    let mut n = [0u32; 6];
    for (i, pair) in d.chunks_exact(2).enumerate() {
        let (a, b) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
        if a > 9 || b > 9 {
            return None;
        }
        n[i] = u32::from(a) * 10 + u32::from(b);
    }
    let [yy, month, day, hour, minute, second] = n;
    if !(1..=12).contains(&month) || !(1..=28).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let year = match yy {
        70..=99 => 1900 + yy,
        0..=49 => 2000 + yy,
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = i64::from(era) * 146_097 + i64::from(doe) - 719_468;
    Some(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

/// Reads revokedCertificates (the value range `list` of `der`) into an index.
fn read_entries(der: &[u8], list: std::ops::Range<usize>) -> Result<Index> {
    let mut index = Index::with_capacity(list.len() / 36, list.len() / 2);
    for entry in Walk::new(der, list) {
        let entry = entry.map_err(tlv_error("revoked entry"))?;
        if entry.tag != 0x30 {
            return Err(crl_malformed("revoked entry is not a SEQUENCE"));
        }
        let mut parts = Walk::new(der, entry.value.clone());
        let serial = match parts.next() {
            Some(Ok(t)) if t.tag == 0x02 => t,
            Some(Err(e)) => return Err(tlv_error("serial number")(e)),
            _ => return Err(crl_malformed("revoked entry without a serial number")),
        };
        // The same checks as x509-cert's SerialNumber: a minimal INTEGER of at most 21 octets.
        if !minimal_integer(&der[serial.value.clone()]) {
            der::asn1::IntRef::from_der(&der[serial.whole.clone()])
                .map_err(|e| crl_malformed(format!("serial: {e}")))?;
        }
        if serial.value.len() > 21 {
            return Err(crl_malformed("serial number longer than 21 octets"));
        }
        let date = match parts.next() {
            Some(Ok(t)) if t.tag == 0x17 || t.tag == 0x18 => match simple_utc_time(&der[t.whole.clone()]) {
                Some(secs) => secs,
                None => {
                    let t = x509_cert::time::Time::from_der(&der[t.whole])
                        .map_err(|e| crl_malformed(format!("revocationDate: {e}")))?;
                    i64::try_from(t.to_unix_duration().as_secs()).map_err(|_| crl_malformed("revocationDate"))?
                }
            },
            Some(Err(e)) => return Err(tlv_error("revocationDate")(e)),
            _ => return Err(crl_malformed("revoked entry without a revocationDate")),
        };
        let (mut reason, mut flags) = (NO_REASON, 0u8);
        match parts.next() {
            None => {}
            Some(Ok(t)) if t.tag == 0x30 => {
                let exts = &der[t.whole];
                if exts.len() == REASON_ONLY.len() + 1 && exts.starts_with(&REASON_ONLY) {
                    reason = exts[REASON_ONLY.len()];
                } else {
                    let exts = x509_cert::ext::Extensions::from_der(exts)
                        .map_err(|e| crl_malformed(format!("entry extensions: {e}")))?;
                    for ext in &exts {
                        let is_reason = ext.extn_id.to_string() == REASON_CODE;
                        if ext.critical && !known(KNOWN_ENTRY_EXTENSIONS, &ext.extn_id) {
                            flags |= FLAG_UNKNOWN_CRITICAL;
                        }
                        if let (true, [0x0a, 0x01, code]) = (is_reason, ext.extn_value.as_bytes()) {
                            reason = *code;
                        }
                    }
                }
                if reason == RevocationReason::REMOVE_FROM_CRL.0 {
                    flags |= FLAG_REMOVE;
                }
            }
            Some(Err(e)) => return Err(tlv_error("entry extensions")(e)),
            Some(Ok(_)) => return Err(crl_malformed("revoked entry: unexpected element")),
        }
        if parts.next().is_some() {
            return Err(crl_malformed("revoked entry: trailing elements"));
        }
        index.push(&der[serial.value], reason, flags, date)?;
    }
    index.build();
    Ok(index)
}

impl Crl {
    /// Reads a DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let outer = tlv::read(der, 0).map_err(tlv_error("CRL"))?;
        if outer.tag != 0x30 || outer.whole.end != der.len() {
            return Err(crl_malformed("DER: not one SEQUENCE"));
        }
        let parts: Vec<Tlv> = Walk::new(der, outer.value.clone())
            .collect::<std::result::Result<_, _>>()
            .map_err(tlv_error("CRL"))?;
        let [tbs, alg, sig] = parts.as_slice() else {
            return Err(crl_malformed("DER: CertificateList is not three elements"));
        };
        if tbs.tag != 0x30 {
            return Err(crl_malformed("DER: tbsCertList is not a SEQUENCE"));
        }
        let algorithm = spki::AlgorithmIdentifierOwned::from_der(&der[alg.whole.clone()])
            .map_err(|e| crl_malformed(format!("DER: signatureAlgorithm: {e}")))?;
        let signature = der::asn1::BitString::from_der(&der[sig.whole.clone()])
            .map_err(|e| crl_malformed(format!("DER: signature: {e}")))?;
        let signature = signature
            .as_bytes()
            .ok_or_else(|| crl_malformed("signature has unused bits"))?
            .to_vec();
        // The tbsCertList without revokedCertificates (the first SEQUENCE after thisUpdate),
        // for x509-cert; the list itself is walked here.
        let fields: Vec<Tlv> = Walk::new(der, tbs.value.clone())
            .collect::<std::result::Result<_, _>>()
            .map_err(tlv_error("tbsCertList"))?;
        let is_time = |i: usize| fields.get(i).is_some_and(|f| f.tag == 0x17 || f.tag == 0x18);
        let revoked = (0..fields.len()).find(|&i| is_time(i)).and_then(|this| {
            let next = if is_time(this + 1) { this + 2 } else { this + 1 };
            fields.get(next).filter(|f| f.tag == 0x30).map(|_| next)
        });
        let rest = fields
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != revoked)
            .map(|(_, f)| &der[f.whole.clone()]);
        let mut skeleton = tlv::header(0x30, rest.clone().map(<[u8]>::len).sum());
        rest.for_each(|f| skeleton.extend_from_slice(f));
        let list = TbsCertList::<x509_cert::certificate::Rfc5280>::from_der(&skeleton)
            .map_err(|e| crl_malformed(format!("DER: {e}")))?;
        let hash = SignatureAlgorithm::from_identifier(&algorithm)
            .ok()
            .map(SignatureAlgorithm::hash);
        let signed = &der[tbs.whole.clone()];
        let entries = revoked.map(|i| fields[i].value.clone());
        let (digest, index) = match entries {
            Some(range) if signed.len() >= PARALLEL_HASH => std::thread::scope(|s| {
                let digest = s.spawn(|| hash.map(|h| h.digest_value(signed)));
                let index = read_entries(der, range);
                (digest.join().ok().flatten(), index)
            }),
            Some(range) => (hash.map(|h| h.digest_value(signed)), read_entries(der, range)),
            None => (hash.map(|h| h.digest_value(signed)), Ok(Index::default())),
        };
        let index = index?;
        if hash.is_some() && digest.is_none() {
            return Err(Error::internal("hashing the CRL failed"));
        }
        let this_update = time(&list.this_update).map_err(|_| crl_malformed("thisUpdate"))?;
        let next_update = list
            .next_update
            .as_ref()
            .map(time)
            .transpose()
            .map_err(|_| crl_malformed("nextUpdate"))?;
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
            algorithm,
            digest,
            signature,
            issuer: list.issuer,
            this_update,
            next_update,
            count: index.len(),
            index: std::sync::Arc::new(index),
            idp,
            delta,
            bad_extensions: unknown_critical || !number,
            checked: std::sync::Arc::default(),
        })
    }

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
