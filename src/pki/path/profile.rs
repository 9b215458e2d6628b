//! The certificate-profile rules a path depends on (RFC 5280 §4, and CA/B Forum for TLS peers).

use der::asn1::ObjectIdentifier as Oid;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{NameConstraints, SubjectAltName};

use super::{KNOWN_EXTENSIONS, ValidationOptions, extension, fail, invalid, is_ca, known, oids};
use crate::error::{ErrorCode, Result};
use crate::pki::cert::{Certificate, string_value};

/// Where a certificate sits on the path, for the profile checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Anchor,
    Ca,
    Leaf,
}

/// A dNSName as RFC 5280 allows it in a certificate: letters, digits and hyphens in dot-separated
/// labels, a wildcard only as a whole left-most label.
pub(super) fn valid_dns(name: &str, wildcard_ok: bool) -> bool {
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
    addr.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.contains('@') && valid_dns(domain, false))
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
pub(super) fn check_profile(cert: &Certificate, role: Role, opts: &ValidationOptions) -> Result<()> {
    use crate::pki::cert::oids as c;
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
    if let crate::pki::KeyKind::Rsa { bits } = cert.public_key()?.kind()
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
    if cert
        .critical_extensions()
        .contains(&crate::pki::cert::oids::EXT_KEY_USAGE)
    {
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
    fn dns_name_syntax() {
        assert!(valid_dns("*.example.com", true) && !valid_dns("*.example.com", false));
        assert!(!valid_dns("under_score.example.com", true));
        assert!(!valid_dns("foo.*.example.com", true));
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
