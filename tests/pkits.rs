//! NIST PKITS (RSA-2048 edition): every `Valid…EE` validates and every `Invalid…EE` is rejected,
//! under the default settings (any policy, no explicit policy), with the pool of every CA
//! certificate and every CRL.

#[path = "support/vectors.rs"]
mod vectors;

use ecpa::pki::{Certificate, Crl, TrustAnchor, ValidationOptions, Validator};

/// Families we skip, by a fragment of the file name, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("DSA", "DSA keys and signatures are not accepted by this PKI"),
    ("deltaCRL", "delta CRLs are not used: MOICA publishes complete CRLs"),
    ("indirectCRL", "indirect CRLs are not used"),
    (
        "cRLIssuer",
        "indirect CRLs (cRLIssuer in distribution points) are not used",
    ),
];

/// Cases we get wrong, and why; the test checks they still fail, so a fix is noticed.
const KNOWN_WRONG: &[(&str, &str)] = &[(
    "Validpre2000UTCnotBeforeDateTest3EE.crt",
    "notBefore 1950 as UTCTime: x509-cert 0.3 / der 0.8 cannot represent times before 1970, \
     so the certificate does not parse",
)];

fn skip_reason(name: &str) -> Option<&'static str> {
    SKIPPED.iter().find(|(f, _)| name.contains(f)).map(|(_, r)| *r)
}

#[test]
fn pkits_end_entities() {
    let Some(dir) = vectors::dir("pkits-2048") else {
        return;
    };
    let read = |p: &std::path::Path| std::fs::read(p).expect("reads");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("certs"))
        .expect("certs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let anchor = Certificate::parse(&read(&dir.join("certs/TrustAnchorRootCertificate.crt"))).expect("anchor");
    let mut validator = Validator::new(vec![TrustAnchor::new(anchor)]);
    let pool: Vec<Certificate> = names
        .iter()
        .filter(|n| !n.ends_with("EE.crt") && n.as_str() != "TrustAnchorRootCertificate.crt")
        .filter_map(|n| Certificate::parse(&read(&dir.join("certs").join(n))).ok())
        .collect();
    validator.add_intermediates(pool);
    let mut crls = Vec::new();
    for e in std::fs::read_dir(dir.join("crls")).expect("crls") {
        if let Ok(c) = Crl::parse_all(&read(&e.expect("entry").path())) {
            crls.extend(c);
        }
    }
    let mut opts = ValidationOptions::at(time::macros::datetime!(2026-01-01 0:00 UTC));
    opts.crls = crls;
    let (mut valid, mut invalid, mut skipped, mut known, mut wrong) = (0, 0, 0, 0, Vec::new());
    // Only `Valid…` and `Invalid…` have a verdict under default settings; the other policy
    // tests' outcomes depend on the initial policy set.
    for name in names
        .iter()
        .filter(|n| n.ends_with("EE.crt") && (n.starts_with("Valid") || n.starts_with("Invalid")))
    {
        if let Some(why) = skip_reason(name) {
            println!("SKIPPED {name}: {why}");
            skipped += 1;
            continue;
        }
        let expect_valid = name.starts_with("Valid");
        let result =
            Certificate::parse(&read(&dir.join("certs").join(name))).and_then(|c| validator.validate(&c, &opts));
        if let Some((_, why)) = KNOWN_WRONG.iter().find(|(n, _)| n == name) {
            assert!(
                result.is_ok() != expect_valid,
                "{name} is now right: remove it from KNOWN_WRONG"
            );
            println!("KNOWN WRONG {name}: {why}");
            known += 1;
            continue;
        }
        match (&result, expect_valid) {
            (Ok(_), true) => valid += 1,
            (Err(e), false) => {
                invalid += 1;
                println!("rejected {name}: {} {:?}", e.code(), e.detail().map(|d| d.en.clone()));
            }
            (Ok(_), false) => wrong.push(format!("{name}: accepted")),
            (Err(e), true) => wrong.push(format!("{name}: {e} {:?}", e.detail().map(|d| d.en.clone()))),
        }
    }
    assert!(
        validator.cached_links() > 0,
        "verified links to intermediates are cached"
    );
    println!("PKITS: {valid} valid validated, {invalid} invalid rejected, {skipped} skipped, {known} known wrong");
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
}
