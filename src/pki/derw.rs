//! A minimal DER writer for the structures this crate builds itself (test certificates, CRLs,
//! CMS): every element is written as tag, length and content, so what is signed is exactly the
//! bytes that end up in the output.

use der::asn1::ObjectIdentifier as Oid;
use time::OffsetDateTime;

/// A tag-length-value element.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded elements.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A SET OF already encoded elements, sorted into DER order.
pub(crate) fn set_of(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
    parts.sort();
    tlv(0x31, &parts.concat())
}

/// An OBJECT IDENTIFIER.
pub(crate) fn oid(o: &Oid) -> Vec<u8> {
    tlv(0x06, o.as_bytes())
}

/// A non-negative INTEGER from its big-endian magnitude.
pub(crate) fn uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let mut body = magnitude[skip..].to_vec();
    if body.first().is_none_or(|&b| b & 0x80 != 0) {
        body.insert(0, 0);
    }
    tlv(0x02, &body)
}

/// A small non-negative INTEGER.
pub(crate) fn small_uint(n: u64) -> Vec<u8> {
    uint(&n.to_be_bytes())
}

/// BOOLEAN TRUE.
#[cfg(any(test, feature = "testing"))] // only the test PKI writes it
pub(crate) fn true_() -> Vec<u8> {
    vec![0x01, 0x01, 0xff]
}

/// NULL.
pub(crate) fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// An OCTET STRING.
pub(crate) fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// A BIT STRING with `unused` unused bits in its last byte.
#[cfg(any(test, feature = "testing"))] // only the test PKI writes it
pub(crate) fn bits(bytes: &[u8], unused: u8) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 1);
    body.push(unused);
    body.extend_from_slice(bytes);
    tlv(0x03, &body)
}

/// A UTF8String.
#[cfg(any(test, feature = "testing"))] // only the test PKI writes it
pub(crate) fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

/// A PrintableString (the caller keeps to its alphabet).
#[cfg(any(test, feature = "testing"))] // only the test PKI writes it
pub(crate) fn printable(s: &str) -> Vec<u8> {
    tlv(0x13, s.as_bytes())
}

/// A context-specific constructed element `[n]` around `content`.
pub(crate) fn context(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// Time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime from 2050, in UTC, seconds.
pub(crate) fn time(t: OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..2050).contains(&t.year()) {
        tlv(0x17, format!("{:02}{rest}", t.year() % 100).as_bytes())
    } else {
        tlv(0x18, format!("{:04}{rest}", t.year()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_integers_and_times_encode_as_der() {
        assert_eq!(tlv(0x04, &[0; 3]), vec![4, 3, 0, 0, 0]);
        assert_eq!(&tlv(0x04, &[0; 200])[..3], &[4, 0x81, 200]);
        assert_eq!(&tlv(0x04, &[0; 300])[..4], &[4, 0x82, 1, 44]);
        assert_eq!(small_uint(0), vec![2, 1, 0]);
        assert_eq!(small_uint(128), vec![2, 2, 0, 128]);
        assert_eq!(uint(&[0, 0, 5]), vec![2, 1, 5]);
        assert_eq!(
            time(time::macros::datetime!(2020-01-02 03:04:05 UTC)),
            tlv(0x17, b"200102030405Z")
        );
        assert_eq!(
            time(time::macros::datetime!(2050-01-01 00:00 UTC)),
            tlv(0x18, b"20500101000000Z")
        );
        assert_eq!(
            set_of(vec![vec![2, 1, 5], vec![2, 1, 1]]),
            vec![0x31, 6, 2, 1, 1, 2, 1, 5]
        );
    }
}
