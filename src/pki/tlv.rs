//! A small DER walker: one tag-length-value at a time, over a borrowed buffer.
//!
//! It reads only what large structures need (a CRL's revokedCertificates runs to millions of
//! entries) and leaves the decoding of small parts to `der`/`x509-cert`. It is strict: single-byte
//! tags only, definite minimal lengths of at most four octets, and no length may reach past the
//! buffer. It never recurses, so nesting depth cannot exhaust the stack.

use std::ops::Range;

/// Why a TLV could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlvError {
    /// The buffer ends inside the header or the value.
    Truncated,
    /// A multi-byte tag: never used by the structures read here.
    LongTag,
    /// Indefinite length (BER, not DER).
    Indefinite,
    /// A long-form length that DER would have written shorter, or longer than four octets.
    NonMinimalLength,
}

/// One element: its tag byte, and where its whole encoding and its value lie in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tlv {
    /// The identifier octet.
    pub tag: u8,
    /// The whole encoding, header included.
    pub whole: Range<usize>,
    /// The value.
    pub value: Range<usize>,
}

/// Reads the element that starts at `pos` in `buf`.
pub(crate) fn read(buf: &[u8], pos: usize) -> Result<Tlv, TlvError> {
    let tag = *buf.get(pos).ok_or(TlvError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(TlvError::LongTag);
    }
    let first = *buf.get(pos + 1).ok_or(TlvError::Truncated)?;
    let (len, header) = match first {
        n if n < 0x80 => (usize::from(n), 2),
        0x80 => return Err(TlvError::Indefinite),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 4 {
                return Err(TlvError::NonMinimalLength);
            }
            let bytes = buf.get(pos + 2..pos + 2 + count).ok_or(TlvError::Truncated)?;
            if bytes[0] == 0 {
                return Err(TlvError::NonMinimalLength);
            }
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(TlvError::NonMinimalLength);
            }
            (len, 2 + count)
        }
    };
    let start = pos + header;
    let end = start.checked_add(len).ok_or(TlvError::Truncated)?;
    if end > buf.len() {
        return Err(TlvError::Truncated);
    }
    Ok(Tlv {
        tag,
        whole: pos..end,
        value: start..end,
    })
}

/// The elements of `range` in `buf`, one after another; the first error ends the walk.
pub(crate) struct Walk<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    failed: bool,
}

impl<'a> Walk<'a> {
    /// Walks the elements inside `range` (which must lie within `buf`).
    pub(crate) fn new(buf: &'a [u8], range: Range<usize>) -> Self {
        let end = range.end.min(buf.len());
        Walk {
            buf: &buf[..end],
            pos: range.start.min(end),
            end,
            failed: false,
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<Tlv, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.end {
            return None;
        }
        let r = read(self.buf, self.pos);
        match &r {
            Ok(t) => self.pos = t.whole.end,
            Err(_) => self.failed = true,
        }
        Some(r)
    }
}

/// A DER header for `tag` and a value of `len` bytes.
pub(crate) fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_read() {
        assert_eq!(
            read(&[0x02, 0x01, 0x05], 0),
            Ok(Tlv {
                tag: 2,
                whole: 0..3,
                value: 2..3
            })
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(read(&long, 0).map(|t| t.value), Ok(3..0x83));
        let mut two = vec![0x04, 0x82, 0x01, 0x00];
        two.extend([0u8; 0x100]);
        assert_eq!(read(&two, 0).map(|t| t.value), Ok(4..0x104));
    }

    #[test]
    fn truncated_lengths_are_refused() {
        assert_eq!(read(&[], 0), Err(TlvError::Truncated));
        assert_eq!(read(&[0x30], 0), Err(TlvError::Truncated));
        assert_eq!(read(&[0x30, 0x03, 0x02, 0x01], 0), Err(TlvError::Truncated));
        assert_eq!(read(&[0x30, 0x82, 0x01], 0), Err(TlvError::Truncated));
        // A length far past the buffer, and one that would overflow.
        assert_eq!(
            read(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0], 0),
            Err(TlvError::Truncated)
        );
        assert_eq!(read(&[0x30, 0x85, 1, 0, 0, 0, 0], 0), Err(TlvError::NonMinimalLength));
    }

    #[test]
    fn indefinite_non_minimal_and_long_tags_are_refused() {
        assert_eq!(read(&[0x30, 0x80, 0, 0], 0), Err(TlvError::Indefinite));
        assert_eq!(
            read(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], 0),
            Err(TlvError::NonMinimalLength)
        );
        assert_eq!(read(&[0x04, 0x82, 0x00, 0x81, 0], 0), Err(TlvError::NonMinimalLength));
        assert_eq!(read(&[0x1f, 0x81, 0x01, 0x00], 0), Err(TlvError::LongTag));
    }

    #[test]
    fn a_walk_stops_at_the_first_error_and_sees_trailing_garbage() {
        let buf = [0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x05];
        let items: Vec<_> = Walk::new(&buf, 0..buf.len()).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        assert_eq!(items[2], Err(TlvError::Truncated));
        assert_eq!(Walk::new(&buf, 0..6).filter(|r| r.is_ok()).count(), 2);
    }

    #[test]
    fn headers_are_minimal() {
        assert_eq!(header(0x30, 5), vec![0x30, 5]);
        assert_eq!(header(0x30, 0x80), vec![0x30, 0x81, 0x80]);
        assert_eq!(header(0x30, 0x1234), vec![0x30, 0x82, 0x12, 0x34]);
        for len in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x123456] {
            let mut buf = header(0x04, len);
            let h = buf.len();
            buf.resize(h + len, 0);
            assert_eq!(read(&buf, 0).map(|t| t.value), Ok(h..h + len));
        }
    }
}
