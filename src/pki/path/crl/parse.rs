//! Reading a CRL's DER: the outer structure with `x509-cert`, the revoked entries by a TLV walk
//! of our own (with shortcuts for the common encodings, checked against the full decoder).

use super::*;

pub(super) fn crl_malformed(what: impl std::fmt::Display) -> Error {
    fail(ErrorCode::CrlMalformed, what.to_string(), what.to_string())
}

pub(super) fn tlv_error(what: &str) -> impl Fn(TlvError) -> Error + '_ {
    move |e| crl_malformed(format!("{what}: {e:?}"))
}

/// The extensions of an entry that has only a non-critical reasonCode: most entries that have any.
pub(super) const REASON_ONLY: [u8; 13] = [
    0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01,
];
pub(super) const REASON_CODE: &str = "2.5.29.21";
/// Above this size the signed part is hashed on a second thread while the entries are read.
pub(super) const PARALLEL_HASH: usize = 1 << 20;

/// Whether an INTEGER's content is non-empty and minimal: what `der` checks, done inline for
/// the common case (anything else goes to `der` for its verdict).
pub(super) fn minimal_integer(v: &[u8]) -> bool {
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
pub(super) fn simple_utc_time(tlv: &[u8]) -> Option<i64> {
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
pub(super) fn read_entries(der: &[u8], list: std::ops::Range<usize>) -> Result<Index> {
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
}
