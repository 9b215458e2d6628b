//! Generated CRLs for tests and benchmarks: N revoked entries signed by a [`SoftwareKey`], and a
//! matching self-signed issuer certificate.
//!
//! The DER is written directly (no encoder structures), so two million entries take seconds.
//! Serials are derived from a seed, so a caller can name listed and unlisted serials again
//! without keeping the list: [`serial`] gives entry `i`'s serial.

use time::OffsetDateTime;

use super::signer::{Signer, SoftwareKey};
use crate::error::Result;

/// What to generate.
#[derive(Debug, Clone)]
pub struct CrlSpec {
    /// How many revoked entries.
    pub entries: usize,
    /// The seed the serials derive from.
    pub seed: u64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate, if any.
    pub next_update: Option<OffsetDateTime>,
    /// The issuer's common name (the issuer is `C=TW, CN=…`).
    pub issuer_cn: String,
    /// Every how many entries one carries a reasonCode (0: none do).
    pub reason_every: usize,
}

impl CrlSpec {
    /// `entries` entries, seed 1, current from an hour ago for a week, a reason on every fourth.
    pub fn new(entries: usize) -> Self {
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        CrlSpec {
            entries,
            seed: 1,
            this_update: now - time::Duration::hours(1),
            next_update: Some(now + time::Duration::days(7)),
            issuer_cn: "ECPA Test CRL CA".to_owned(),
            reason_every: 4,
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Entry `i`'s serial: 16 random-looking bytes, positive, first byte never zero. Its INTEGER
/// encoding is the bytes themselves; OpenSSL prints it as their upper-case hex.
pub fn serial(seed: u64, i: usize) -> [u8; 16] {
    let a = splitmix(seed ^ (i as u64).wrapping_mul(0xd6e8_feb8_6659_fd93));
    let b = splitmix(a ^ 0x5851_f42d_4c95_7f2d);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_be_bytes());
    out[8..].copy_from_slice(&b.to_be_bytes());
    out[0] = (out[0] & 0x7f).max(1);
    out
}

/// Entry `i`'s reasonCode, if it has one: cycles through keyCompromise (1) to privilegeWithdrawn (9),
/// skipping the unused 7 and removeFromCRL.
pub fn reason(spec: &CrlSpec, i: usize) -> Option<u8> {
    const CODES: [u8; 7] = [1, 2, 3, 4, 5, 6, 9];
    (spec.reason_every != 0 && i.is_multiple_of(spec.reason_every))
        .then(|| CODES[(i / spec.reason_every) % CODES.len()])
}

/// Entry `i`'s revocationDate: up to about a year before thisUpdate.
pub fn revocation_date(spec: &CrlSpec, i: usize) -> OffsetDateTime {
    spec.this_update - time::Duration::seconds(((i as u64).wrapping_mul(7919) % 31_536_000) as i64)
}

fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.extend_from_slice(&super::tlv::header(tag, len));
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = super::tlv::header(tag, value.len());
    out.extend_from_slice(value);
    out
}

fn two(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
fn push_time(out: &mut Vec<u8>, t: OffsetDateTime) {
    let year = t.year() as u32;
    if (1950..2050).contains(&year) {
        out.extend_from_slice(&[0x17, 13]);
    } else {
        out.extend_from_slice(&[0x18, 15]);
        two(out, year / 100);
    }
    two(out, year);
    two(out, u8::from(t.month()).into());
    two(out, t.day().into());
    two(out, t.hour().into());
    two(out, t.minute().into());
    two(out, t.second().into());
    out.push(b'Z');
}

const SHA256_RSA: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];

/// `C=TW, CN=cn`.
fn name(cn: &str) -> Vec<u8> {
    let country = tlv(
        0x31,
        &tlv(0x30, &[0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'T', b'W']),
    );
    let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03];
    atv.extend(tlv(0x0c, cn.as_bytes()));
    let common = tlv(0x31, &tlv(0x30, &atv));
    tlv(0x30, &[country, common].concat())
}

/// Signs `tbs` and wraps it as `SEQUENCE { tbs, sha256WithRSAEncryption, signature }`.
fn signed(key: &SoftwareKey, tbs: Vec<u8>) -> Result<Vec<u8>> {
    let sig = key.sign(&tbs)?;
    let mut bits = vec![0u8];
    bits.extend(sig);
    let bits = tlv(0x03, &bits);
    let mut out = Vec::with_capacity(tbs.len() + bits.len() + 32);
    push_header(&mut out, 0x30, tbs.len() + SHA256_RSA.len() + bits.len());
    out.extend(tbs);
    out.extend_from_slice(&SHA256_RSA);
    out.extend(bits);
    Ok(out)
}

/// A self-signed CA certificate for `key` named `C=TW, CN=cn`, allowed to sign certificates and CRLs.
pub fn issuer_certificate(
    key: &SoftwareKey,
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Vec<u8>> {
    let name = name(cn);
    let mut validity = Vec::new();
    push_time(&mut validity, not_before);
    push_time(&mut validity, not_after);
    // basicConstraints cA (critical), keyUsage keyCertSign + cRLSign (critical).
    let extensions: [&[u8]; 2] = [
        &[
            0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff,
        ],
        &[
            0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02, 0x01, 0x06,
        ],
    ];
    let tbs = [
        &[0xa0, 0x03, 0x02, 0x01, 0x02][..],
        &[0x02, 0x01, 0x01],
        &SHA256_RSA,
        &name,
        &tlv(0x30, &validity),
        &name,
        &key.public_key_der()?,
        &tlv(0xa3, &tlv(0x30, &extensions.concat())),
    ]
    .concat();
    signed(key, tlv(0x30, &tbs))
}

/// A DER CRL per `spec`, signed by `key` (sha256WithRSAEncryption), with cRLNumber 1.
pub fn generate(key: &SoftwareKey, spec: &CrlSpec) -> Result<Vec<u8>> {
    generate_for_issuer(key, &name(&spec.issuer_cn), spec)
}

/// [`generate`], with the issuer named by `issuer_name` (the DER of a Name, such as a test
/// intermediate's subject) instead of `C=TW, CN=spec.issuer_cn`.
pub fn generate_for_issuer(key: &SoftwareKey, issuer_name: &[u8], spec: &CrlSpec) -> Result<Vec<u8>> {
    let mut head = vec![0x02, 0x01, 0x01];
    head.extend_from_slice(&SHA256_RSA);
    head.extend_from_slice(issuer_name);
    push_time(&mut head, spec.this_update);
    if let Some(next) = spec.next_update {
        push_time(&mut head, next);
    }
    let mut entries = Vec::with_capacity(spec.entries * 50);
    let mut entry = Vec::with_capacity(64);
    for i in 0..spec.entries {
        entry.clear();
        entry.extend_from_slice(&[0x02, 0x10]);
        entry.extend_from_slice(&serial(spec.seed, i));
        push_time(&mut entry, revocation_date(spec, i));
        if let Some(code) = reason(spec, i) {
            entry.extend_from_slice(&[
                0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, code,
            ]);
        }
        push_header(&mut entries, 0x30, entry.len());
        entries.extend_from_slice(&entry);
    }
    // crlExtensions: cRLNumber 1.
    let tail = [
        0xa0, 0x0e, 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x14, 0x04, 0x03, 0x02, 0x01, 0x01,
    ];
    let list_header = if spec.entries == 0 {
        Vec::new()
    } else {
        super::tlv::header(0x30, entries.len())
    };
    let len = head.len() + list_header.len() + entries.len() + tail.len();
    let mut tbs = Vec::with_capacity(len + 8);
    push_header(&mut tbs, 0x30, len);
    tbs.extend(head);
    tbs.extend(list_header);
    tbs.extend_from_slice(&entries);
    drop(entries);
    tbs.extend_from_slice(&tail);
    signed(key, tbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Certificate, Crl, CrlOptions};

    #[test]
    fn a_generated_crl_reads_back_and_verifies_with_its_issuer() {
        let key = SoftwareKey::generate_rsa2048().expect("key");
        let mut spec = CrlSpec::new(1000);
        spec.seed = 7;
        let der = generate(&key, &spec).expect("CRL");
        let cert = issuer_certificate(
            &key,
            &spec.issuer_cn,
            spec.this_update - time::Duration::days(1),
            spec.this_update + time::Duration::days(3650),
        )
        .expect("cert");
        let cert = Certificate::from_der(&cert).expect("parses");
        assert_eq!(cert.subject(), "C=TW, CN=ECPA Test CRL CA");
        let crl = Crl::load_verified(&der, cert.public_key().expect("key"), &CrlOptions::at(spec.this_update))
            .expect("loads");
        assert_eq!(crl.len(), 1000);
        for i in [0usize, 1, 4, 999] {
            let r = crl.lookup(&serial(7, i)).expect("listed");
            assert_eq!(r.date, revocation_date(&spec, i));
            assert_eq!(r.reason.map(|r| r.0), reason(&spec, i));
        }
        assert!(crl.lookup(&serial(7, 1000)).is_none());
        assert!(crl.lookup(&serial(8, 0)).is_none());
    }
}
