//! The certificate-login path cache: a returning user's leaf is served from the cache, but
//! revocation, CRL freshness and validity are still checked on every login.

use ecpa::ErrorCode;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Crl, TrustAnchor};
use ecpa::portal::CertificateTrust;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn setup() -> (TestPki, CertificateTrust, Certificate) {
    let pki = TestPki::new().expect("test PKI");
    let trust =
        CertificateTrust::new(vec![TrustAnchor::new(pki.root.clone())]).with_intermediates([pki.intermediate.clone()]);
    let (leaf, _) = pki
        .issue(&EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789")))
        .expect("leaf");
    trust.set_crls(crls(&pki, &[], NOW - Duration::days(1), NOW + Duration::days(1)));
    (pki, trust, leaf)
}

fn crls(pki: &TestPki, revoked: &[&Certificate], this: OffsetDateTime, next: OffsetDateTime) -> Vec<Crl> {
    let list: Vec<(&Certificate, OffsetDateTime)> = revoked.iter().map(|c| (*c, this)).collect();
    let crl = pki.crl(&list, this, next).expect("CRL");
    let root = pki.root_crl(&[], this, next).expect("root CRL");
    vec![
        Crl::from_der(&crl).expect("parse CRL"),
        Crl::from_der(&root).expect("parse root CRL"),
    ]
}

#[test]
fn second_validation_is_served_from_the_cache() {
    let (_pki, trust, leaf) = setup();
    assert_eq!(trust.cached_paths(), 0);
    let first = trust.validate(&leaf, NOW).expect("first validation");
    assert_eq!(trust.cached_paths(), 1);
    let second = trust
        .validate(&leaf, NOW + Duration::minutes(5))
        .expect("cached validation");
    assert_eq!(first.subjects(), second.subjects());
    assert_eq!(second.certificates.len(), 3);
}

#[test]
fn revocation_after_caching_is_seen() {
    let (pki, trust, leaf) = setup();
    trust.validate(&leaf, NOW).expect("first validation");
    trust.validate(&leaf, NOW).expect("cached validation");
    trust.set_crls(crls(&pki, &[&leaf], NOW - Duration::hours(1), NOW + Duration::days(1)));
    let err = trust.validate(&leaf, NOW).expect_err("revoked");
    assert_eq!(err.code(), ErrorCode::CertificateRevoked);
    assert_eq!(err.code().number(), 4012);
    // Once more, in case the failure left anything behind.
    let err = trust.validate(&leaf, NOW).expect_err("still revoked");
    assert_eq!(err.code(), ErrorCode::CertificateRevoked);
}

#[test]
fn a_stale_crl_fails_a_cached_path() {
    let (_pki, trust, leaf) = setup();
    trust.validate(&leaf, NOW).expect("first validation");
    trust
        .validate(&leaf, NOW + Duration::hours(1))
        .expect("cached validation");
    assert_eq!(trust.cached_paths(), 1);
    let err = trust.validate(&leaf, NOW + Duration::days(2)).expect_err("stale CRL");
    assert_eq!(err.code(), ErrorCode::CrlStale);
    assert_eq!(err.code().number(), 4021);
}

#[test]
fn an_expired_leaf_is_not_served_from_the_cache() {
    let (pki, trust, leaf) = setup();
    // CRLs current for ten years, so only the leaf's validity can end the cached path.
    trust.set_crls(crls(&pki, &[], NOW - Duration::days(1), NOW + Duration::days(3650)));
    trust.validate(&leaf, NOW).expect("first validation");
    trust.validate(&leaf, NOW).expect("cached validation");
    assert_eq!(trust.cached_paths(), 1);
    // Past the leaf's notAfter, with the CRLs still current.
    let later = datetime!(2035-06-01 00:00 UTC);
    let err = trust.validate(&leaf, later).expect_err("expired");
    assert_eq!(err.code(), ErrorCode::CertificateExpired);
}

#[test]
fn another_leaf_is_not_confused_with_a_cached_one() {
    let (pki, trust, leaf) = setup();
    trust.validate(&leaf, NOW).expect("first validation");
    let (other, _) = pki
        .issue(&EndEntitySpec::citizen("李大華", "0000000087654321", Some("4321")))
        .expect("leaf");
    trust.set_crls(crls(&pki, &[&other], NOW - Duration::hours(1), NOW + Duration::days(1)));
    trust.validate(&leaf, NOW).expect("not revoked");
    let err = trust.validate(&other, NOW).expect_err("revoked");
    assert_eq!(err.code(), ErrorCode::CertificateRevoked);
    assert_eq!(trust.cached_paths(), 1);
}
