//! The real Taiwan CA certificates: the traps of DOMAIN.md "Certificates and trust".

#[path = "support/vectors.rs"]
mod vectors;

use ecpa::ErrorCode;
use ecpa::pki::{Certificate, KeyKind, Purpose};

fn cert(name: &str) -> Option<Certificate> {
    let dir = vectors::dir("taiwan-pki")?;
    let bytes = std::fs::read(dir.join(name)).expect("reads");
    Some(Certificate::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}")))
}

#[test]
fn grca_g1_and_g2_share_a_name_but_not_a_key() {
    let (Some(g1), Some(g2)) = (cert("GRCA-G1.pem"), cert("GRCA-G2.pem")) else {
        return;
    };
    assert_eq!(g1.subject(), "C=TW, O=Government Root Certification Authority");
    assert_eq!(g1.subject_der(), g2.subject_der(), "same name");
    assert_ne!(
        g1.public_key().expect("key"),
        g2.public_key().expect("key"),
        "different keys"
    );
    assert_eq!(g2.public_key().expect("key").kind(), KeyKind::Rsa { bits: 4096 });
    assert!(g1.is_self_issued() && g2.is_self_issued());
}

#[test]
fn moica_g2_is_signed_by_grca_g2_and_not_g1() {
    let (Some(g1), Some(g2), Some(moica)) = (cert("GRCA-G1.pem"), cert("GRCA-G2.pem"), cert("MOICA-G2.pem")) else {
        return;
    };
    assert_eq!(moica.subject(), "C=TW, O=行政院, OU=內政部憑證管理中心");
    assert_eq!(
        moica.issuer_der(),
        g1.subject_der(),
        "its issuer name matches both roots"
    );
    moica
        .verify_signed_by(g2.public_key().expect("key"))
        .expect("GRCA G2 signed MOICA G2");
    let wrong = moica
        .verify_signed_by(g1.public_key().expect("key"))
        .expect_err("G1 did not");
    assert_eq!(wrong.code(), ErrorCode::SignatureInvalid);
    assert_eq!(
        moica.authority_key_id(),
        g2.subject_key_id(),
        "key identifiers tell the roots apart"
    );
    assert_eq!(moica.purpose(), Purpose::Ca);
}

#[test]
fn moica_g3_shares_moica_g2s_name_and_chains_to_neither_root_we_have() {
    let (Some(g1), Some(g2), Some(m2), Some(m3)) = (
        cert("GRCA-G1.pem"),
        cert("GRCA-G2.pem"),
        cert("MOICA-G2.pem"),
        cert("MOICA-G3.pem"),
    ) else {
        return;
    };
    assert_eq!(m3.subject_der(), m2.subject_der(), "MOICA intermediates share one name");
    for root in [&g1, &g2] {
        assert_eq!(
            m3.verify_signed_by(root.public_key().expect("key"))
                .expect_err("not this root")
                .code(),
            ErrorCode::SignatureInvalid
        );
    }
    let der = cert("MOICA-G3.cer").expect("DER form");
    assert_eq!(der.der(), m3.der(), "the DER and PEM files hold the same certificate");
}

#[test]
fn synthetic_user_has_the_moica_end_entity_shape() {
    let (Some(ca), Some(user)) = (cert("synthetic-test-ca.pem"), cert("synthetic-test-user.pem")) else {
        return;
    };
    user.verify_signed_by(ca.public_key().expect("key"))
        .expect("the test CA signed the test user");
    assert_eq!(user.subject_serial_number().as_deref(), Some("0000000000000000"));
    assert_eq!(user.purpose(), Purpose::Signing);
    assert_eq!(user.basic_constraints(), Some((false, None)));
    let p = user.profile().expect("profile");
    assert_eq!(p.subject, "serialNumber=0000000000000000, CN=Test User, C=TW");
    assert!(p.sha256_fingerprint.len() == 95);
}

#[test]
fn malformed_input_is_an_error_never_a_panic() {
    let Some(user) = cert("synthetic-test-user.pem") else {
        return;
    };
    let der = user.der().to_vec();
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        let e = Certificate::from_der(&der[..cut]).expect_err("truncated");
        assert_eq!(e.code(), ErrorCode::CertificateMalformed);
    }
    for i in (0..der.len()).step_by(7) {
        let mut flipped = der.clone();
        flipped[i] ^= 0x5a;
        // Either it no longer parses, or it parses and its signature no longer verifies.
        let _ = Certificate::from_der(&flipped).map(|c| c.profile());
    }
}

mod path {
    use super::cert;
    use ecpa::ErrorCode;
    use ecpa::pki::{TrustAnchor, ValidationOptions, Validator};
    use time::macros::datetime;

    fn at() -> ValidationOptions {
        ValidationOptions::login(datetime!(2026-01-01 0:00 UTC))
    }

    #[test]
    fn moica_g2_validates_through_grca_g2_not_g1() {
        let (Some(g1), Some(g2), Some(moica)) = (cert("GRCA-G1.pem"), cert("GRCA-G2.pem"), cert("MOICA-G2.pem")) else {
            return;
        };
        let both = Validator::new(vec![TrustAnchor::new(g1.clone()), TrustAnchor::new(g2.clone())]);
        let path = both.validate(&moica, &at()).expect("MOICA G2 validates");
        assert_eq!(path.certificates.len(), 2);
        assert_eq!(
            path.anchor().der(),
            g2.der(),
            "the anchor is GRCA G2, not G1 of the same name"
        );
        assert_eq!(
            path.subjects(),
            [
                "C=TW, O=行政院, OU=內政部憑證管理中心",
                "C=TW, O=Government Root Certification Authority"
            ]
        );
        // Again, from the cache of verified links: same answer.
        assert_eq!(both.validate(&moica, &at()).expect("again").anchor().der(), g2.der());

        let only_g1 = Validator::new(vec![TrustAnchor::new(g1)]);
        let e = only_g1
            .validate(&moica, &at())
            .expect_err("G1's key did not sign MOICA G2");
        assert_eq!(e.code(), ErrorCode::UnknownIssuer);
    }

    #[test]
    fn moica_g3_has_no_anchor_here() {
        let (Some(g1), Some(g2), Some(m3)) = (cert("GRCA-G1.pem"), cert("GRCA-G2.pem"), cert("MOICA-G3.pem")) else {
            return;
        };
        let v = Validator::new(vec![TrustAnchor::new(g1), TrustAnchor::new(g2)]);
        assert_eq!(
            v.validate(&m3, &at()).expect_err("no GRCA G3").code(),
            ErrorCode::UnknownIssuer
        );
    }

    #[test]
    fn validity_and_policy_are_checked() {
        let (Some(g1), Some(g2), Some(moica)) = (cert("GRCA-G1.pem"), cert("GRCA-G2.pem"), cert("MOICA-G2.pem")) else {
            return;
        };
        // With both roots, a path that reached an anchor reports its own failure, not unknown issuer.
        let v = Validator::new(vec![TrustAnchor::new(g1), TrustAnchor::new(g2)]);
        let mut late = at();
        late.at = datetime!(2040-01-01 0:00 UTC);
        assert_eq!(
            v.validate(&moica, &late).expect_err("expired").code(),
            ErrorCode::CertificateExpired
        );
        let mut early = at();
        early.at = datetime!(2000-01-01 0:00 UTC);
        assert_eq!(
            v.validate(&moica, &early).expect_err("not yet").code(),
            ErrorCode::CertificateNotYetValid
        );
        let mut other = at();
        other.required_policy = Some("2.16.886.101.0.3.1".parse().expect("OID"));
        assert_eq!(
            v.validate(&moica, &other).expect_err("policy").code(),
            ErrorCode::PolicyNotAcceptable
        );
    }

    #[test]
    fn synthetic_user_validates_under_the_test_ca_but_carries_no_login_policy() {
        let (Some(ca), Some(user)) = (cert("synthetic-test-ca.pem"), cert("synthetic-test-user.pem")) else {
            return;
        };
        let v = Validator::new(vec![TrustAnchor::new(ca)]);
        let mut any = ValidationOptions::at(datetime!(2026-01-01 0:00 UTC));
        any.key_usage.digital_signature = true;
        let path = v.validate(&user, &any).expect("valid with any policy");
        assert_eq!(path.subjects()[0], "serialNumber=0000000000000000, CN=Test User, C=TW");
        let e = v.validate(&user, &at()).expect_err("no class-3 policy");
        assert_eq!(e.code(), ErrorCode::PolicyNotAcceptable);
        any.key_usage.key_encipherment = true;
        assert_eq!(
            v.validate(&user, &any).expect_err("a signing certificate").code(),
            ErrorCode::KeyUsageInvalid
        );
    }
}
