//! Name matching: name chaining, name constraints (RFC 5280 §4.2.1.10) and peer names.

use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{NameConstraints, SubjectAltName};
use x509_cert::name::Name;

use super::{MAX_NAME_CHECKS, PeerName, extension, fail, invalid, oids};
use crate::error::{ErrorCode, Result};
use crate::pki::cert::{Certificate, string_value};

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
pub(super) fn names_equal(a: &Name, b: &Name) -> bool {
    a == b || (a.as_ref().len() == b.as_ref().len() && dn_within(a, b))
}

pub(super) fn dns_within(name: &str, base: &str) -> bool {
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
pub(super) struct NameState {
    permitted: Vec<Vec<GeneralSubtree>>,
    excluded: Vec<GeneralSubtree>,
}

impl NameState {
    pub(super) fn check(&self, cert: &Certificate) -> Result<()> {
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

    pub(super) fn add(&mut self, nc: NameConstraints) {
        // Empty lists are rejected by check_profile before this.
        if let Some(p) = nc.permitted_subtrees {
            self.permitted.push(p);
        }
        if let Some(e) = nc.excluded_subtrees {
            self.excluded.extend(e);
        }
    }
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

pub(super) fn check_peer_name(leaf: &Certificate, peer: &PeerName) -> Result<()> {
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
}
