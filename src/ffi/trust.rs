//! `ecpa_trust`: the certificates a portal trusts for citizen-certificate login, gathered
//! before the portal opens (by the caller, or from the demo PKI in the card module).

use super::{call, get_mut, give, handle, out, release};
use crate::pki::{Certificate, TrustAnchor};
use crate::portal::CertificateTrust;

/// `ecpa_trust`: the certificates a portal trusts for citizen-certificate login (GRCA anchors,
/// MOICA intermediates), collected before the portal is opened.
pub struct EcpaTrust {
    inner: super::Tagged<TrustParts>,
}
handle!(EcpaTrust, TrustParts, 0x4543_5041_5452_5354);

/// Anchors and intermediates, before they become a [`CertificateTrust`].
#[derive(Default)]
pub(crate) struct TrustParts {
    pub(crate) anchors: Vec<Certificate>,
    pub(crate) intermediates: Vec<Certificate>,
}

impl TrustParts {
    pub(super) fn to_trust(&self) -> CertificateTrust {
        CertificateTrust::new(self.anchors.iter().cloned().map(TrustAnchor::new).collect())
            .with_intermediates(self.intermediates.iter().cloned())
    }
}

/// A new, empty trust. Add certificates with `ecpa_trust_add_anchor` /
/// `ecpa_trust_add_intermediate`; release with `ecpa_trust_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_trust_new(out_trust: *mut *mut EcpaTrust) -> u32 {
    call(|| {
        out(out_trust, "out_trust")?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_trust, TrustParts::default()) };
        Ok(())
    })
}

unsafe fn add_certs(trust: *mut EcpaTrust, data: *const u8, len: usize, anchor: bool) -> u32 {
    call(|| {
        // SAFETY: a live trust handle, not shared during the call.
        let t = unsafe { get_mut(trust, "trust") }?;
        // SAFETY: `data` holds `len` bytes per the contract.
        let certs = Certificate::parse_all(unsafe { super::bytes(data, len, "data") }?)?;
        if anchor {
            t.anchors.extend(certs);
        } else {
            t.intermediates.extend(certs);
        }
        Ok(())
    })
}

/// Adds trust anchors (GRCA root certificates): `data` is `len` bytes of one DER certificate
/// or PEM text holding one or more. A certificate that does not parse gives its PKI code and
/// adds nothing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_trust_add_anchor(trust: *mut EcpaTrust, data: *const u8, len: usize) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { add_certs(trust, data, len, true) }
}

/// Adds intermediate CA certificates (MOICA), DER or PEM as in `ecpa_trust_add_anchor`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_trust_add_intermediate(trust: *mut EcpaTrust, data: *const u8, len: usize) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { add_certs(trust, data, len, false) }
}

/// Releases a trust. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_trust_free(trust: *mut EcpaTrust) -> u32 {
    // SAFETY: a handle from `ecpa_trust_new` / `ecpa_test_pki_trust`, or NULL.
    call(|| unsafe { release(trust, "trust") })
}
