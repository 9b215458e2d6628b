//! Citizen-certificate login: challenge, signature, path, policy, key usage, revocation, and the
//! first-login binding by the last four ID digits. Each failure has its own code.

mod support;

use ecpa::ErrorCode;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Purpose, Signer, SoftwareKey, TrustAnchor};
use ecpa::portal::{
    CertificateChallenge, CertificateResponse, CertificateTrust, LocalPortal, LoginMethod, LoginSignature, Portal,
};
use ecpa::types::{AssuranceLevel, RocDate};
use support::{Fixture, Who, expect_code, fast_config, person};
use time::Duration;
use time::macros::datetime;

struct Setup {
    fx: Fixture,
    pki: TestPki,
    portal: LocalPortal,
}

fn setup() -> Setup {
    let fx = Fixture::new();
    let pki = TestPki::new().expect("test PKI");
    let trust =
        CertificateTrust::new(vec![TrustAnchor::new(pki.root.clone())]).with_intermediates([pki.intermediate.clone()]);
    let portal = fx.reopen(fast_config()).with_certificate_trust(trust);
    Setup { fx, pki, portal }
}

/// A signing certificate for a person of the fixture, carrying their last four ID digits.
fn card_of(pki: &TestPki, who: Who) -> (Certificate, SoftwareKey) {
    let p = person(who);
    pki.issue(&EndEntitySpec::citizen(
        p.name,
        format!("{:0>16}", p.id.last_four()),
        Some(p.id.last_four()),
    ))
    .expect("issued")
}

fn sign(
    challenge: &CertificateChallenge,
    cert: &Certificate,
    key: &SoftwareKey,
    identify: Option<&str>,
) -> CertificateResponse {
    CertificateResponse {
        challenge_id: challenge.challenge_id.clone(),
        certificate: cert.der().to_vec(),
        signature: LoginSignature::RawPkcs1(key.sign(challenge.to_sign.as_bytes()).expect("signs")),
        identify: identify.map(str::to_owned),
    }
}

fn login(
    portal: &LocalPortal,
    cert: &Certificate,
    key: &SoftwareKey,
    identify: Option<&str>,
) -> ecpa::Result<ecpa::portal::Session> {
    let c = portal.begin_certificate_login()?;
    portal.complete_certificate_login(&sign(&c, cert, key, identify))
}

#[test]
fn first_login_binds_by_the_last_four_digits_and_the_name_and_later_logins_go_straight_in() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    expect_code(login(&s.portal, &cert, &key, None), ErrorCode::CertificateNotBound);
    let lin = person(Who::Lin);
    expect_code(
        login(&s.portal, &cert, &key, Some(lin.id.reveal())),
        ErrorCode::BindingMismatch,
    );
    // No such account: the same answer as a mismatch, so it does not tell who exists.
    expect_code(
        login(&s.portal, &cert, &key, Some("nobody.here")),
        ErrorCode::BindingMismatch,
    );
    let session = login(&s.portal, &cert, &key, Some(wang.id.reveal())).expect("binds and logs in");
    assert_eq!(session.info.method, LoginMethod::Certificate);
    assert_eq!(session.info.level, AssuranceLevel::Certificate);
    assert_eq!(session.info.national_id, wang.masked());
    // Later: no question asked, whatever is typed.
    let again = login(&s.portal, &cert, &key, None).expect("bound");
    assert_eq!(again.info.name, wang.name);
    // The certificate-only application opens now.
    s.portal.add_my_application(&again.token, "A1").expect("added");
    s.portal
        .open_application(&again.token, "A1")
        .expect("opens with a certificate login");
}

#[test]
fn a_cms_signature_logs_in_too_and_must_come_from_the_certificate_sent() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    let cms = |c: &CertificateChallenge, by: (&Certificate, &SoftwareKey)| CertificateResponse {
        challenge_id: c.challenge_id.clone(),
        certificate: cert.der().to_vec(),
        signature: LoginSignature::Cms(
            ecpa::pki::sign_cms(c.to_sign.as_bytes(), by.1, by.0, s.fx.clock_now()).expect("signs"),
        ),
        identify: Some(wang.id.reveal().to_owned()),
    };
    let c = s.portal.begin_certificate_login().expect("challenge");
    let session = s
        .portal
        .complete_certificate_login(&cms(&c, (&cert, &key)))
        .expect("CMS login");
    assert_eq!(session.info.method, LoginMethod::Certificate);
    let (other, other_key) = card_of(&s.pki, Who::Lin);
    let c = s.portal.begin_certificate_login().expect("challenge");
    expect_code(
        s.portal.complete_certificate_login(&cms(&c, (&other, &other_key))),
        ErrorCode::CmsSignerNotFound,
    );
}

#[test]
fn the_account_name_also_identifies_at_first_login() {
    let s = setup();
    let nhi = s.fx.enrol(Who::Lin);
    s.portal
        .set_account(&nhi, "lin.yijun", &person(Who::Lin).pw())
        .expect("account set");
    let (cert, key) = card_of(&s.pki, Who::Lin);
    let session = login(&s.portal, &cert, &key, Some("lin.yijun")).expect("binds by account");
    assert_eq!(session.info.name, person(Who::Lin).name);
}

#[test]
fn a_challenge_is_single_use_short_lived_and_must_be_ours() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    let c = s.portal.begin_certificate_login().expect("challenge");
    let response = sign(&c, &cert, &key, Some(wang.id.reveal()));
    s.portal.complete_certificate_login(&response).expect("first use");
    expect_code(
        s.portal.complete_certificate_login(&response),
        ErrorCode::ChallengeReplayed,
    );

    let c = s.portal.begin_certificate_login().expect("challenge");
    s.fx.advance(Duration::minutes(2));
    expect_code(
        s.portal.complete_certificate_login(&sign(&c, &cert, &key, None)),
        ErrorCode::ChallengeExpired,
    );

    let mut forged = sign(
        &s.portal.begin_certificate_login().expect("challenge"),
        &cert,
        &key,
        None,
    );
    forged.challenge_id = "0".repeat(64);
    expect_code(
        s.portal.complete_certificate_login(&forged),
        ErrorCode::ChallengeUnknown,
    );

    // A failed attempt spends the challenge too.
    let c = s.portal.begin_certificate_login().expect("challenge");
    let mut wrong = sign(&c, &cert, &key, None);
    wrong.signature = LoginSignature::RawPkcs1(key.sign(b"something else").expect("signs"));
    expect_code(s.portal.complete_certificate_login(&wrong), ErrorCode::SignatureInvalid);
    expect_code(
        s.portal.complete_certificate_login(&sign(&c, &cert, &key, None)),
        ErrorCode::ChallengeReplayed,
    );
}

#[test]
fn a_refused_binding_spends_the_challenge_and_one_answer_opens_one_session() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    // Not bound yet and nobody named: refused after the signature checked out.
    let c = s.portal.begin_certificate_login().expect("challenge");
    expect_code(
        s.portal.complete_certificate_login(&sign(&c, &cert, &key, None)),
        ErrorCode::CertificateNotBound,
    );
    expect_code(
        s.portal
            .complete_certificate_login(&sign(&c, &cert, &key, Some(wang.id.reveal()))),
        ErrorCode::ChallengeReplayed,
    );

    // The same good answer sent by eight threads at once opens exactly one session.
    let c = s.portal.begin_certificate_login().expect("challenge");
    let answer = sign(&c, &cert, &key, Some(wang.id.reveal()));
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let tasks: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| s.portal.complete_certificate_login(&answer)))
            .collect();
        tasks.into_iter().map(|t| t.join().expect("thread")).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refused.code(), ErrorCode::ChallengeReplayed);
    }
}

#[test]
fn each_certificate_failure_has_its_own_code() {
    let s = setup();
    let wang = person(Who::Wang);
    let last4 = wang.id.last_four();
    let spec = || EndEntitySpec::citizen(wang.name, "0000000000000009", Some(last4));

    let (enc, key) = s
        .pki
        .issue(&EndEntitySpec {
            purpose: Purpose::Encryption,
            ..spec()
        })
        .expect("issued");
    expect_code(
        login(&s.portal, &enc, &key, Some(wang.id.reveal())),
        ErrorCode::KeyUsageInvalid,
    );

    let (old, key) = s
        .pki
        .issue(&EndEntitySpec {
            not_before: datetime!(2015-01-01 0:00 UTC),
            not_after: datetime!(2025-01-01 0:00 UTC),
            ..spec()
        })
        .expect("issued");
    expect_code(
        login(&s.portal, &old, &key, Some(wang.id.reveal())),
        ErrorCode::CertificateExpired,
    );

    let (future, key) = s
        .pki
        .issue(&EndEntitySpec {
            not_before: datetime!(2030-01-01 0:00 UTC),
            not_after: datetime!(2035-01-01 0:00 UTC),
            ..spec()
        })
        .expect("issued");
    expect_code(
        login(&s.portal, &future, &key, Some(wang.id.reveal())),
        ErrorCode::CertificateNotYetValid,
    );

    let (no_policy, key) = s.pki.issue(&EndEntitySpec { policy: None, ..spec() }).expect("issued");
    expect_code(
        login(&s.portal, &no_policy, &key, Some(wang.id.reveal())),
        ErrorCode::PolicyNotAcceptable,
    );

    let stranger = TestPki::new().expect("another PKI");
    let (foreign, key) = stranger.issue(&spec()).expect("issued");
    expect_code(
        login(&s.portal, &foreign, &key, Some(wang.id.reveal())),
        ErrorCode::UnknownIssuer,
    );

    // Same names as our root and intermediate, other keys: still unknown.
    let (g1, _) = TestPki::second_root_same_name().expect("same-name root");
    assert_eq!(g1.subject_der(), s.pki.root.subject_der());
    expect_code(login(&s.portal, &foreign, &key, None), ErrorCode::UnknownIssuer);
}

#[test]
fn a_revoked_certificate_is_refused() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    let now = s.fx.clock_now();
    let (this, next) = (now - Duration::hours(1), now + Duration::days(1));
    // MOICA's CRL for the people, GRCA's for MOICA: with CRLs loaded, the whole path is checked.
    let moica = s.pki.crl(&[], this, next).expect("crl");
    let grca = s.pki.root_crl(&[], this, next).expect("root crl");
    let trust = s.portal.certificate_trust().expect("trust");
    let load = |ders: &[&[u8]]| {
        ders.iter()
            .flat_map(|d| ecpa::pki::Crl::parse_all(d).expect("parses"))
            .collect()
    };
    trust.set_crls(load(&[&moica]));
    expect_code(
        login(&s.portal, &cert, &key, Some(wang.id.reveal())),
        ErrorCode::CrlMissing,
    );
    trust.set_crls(load(&[&moica, &grca]));
    login(&s.portal, &cert, &key, Some(wang.id.reveal())).expect("not revoked: logs in");

    let revoked = s.pki.crl(&[(&cert, now - Duration::days(1))], this, next).expect("crl");
    trust.set_crls(load(&[&revoked, &grca]));
    expect_code(login(&s.portal, &cert, &key, None), ErrorCode::CertificateRevoked);

    // A stale CRL is not trusted.
    s.fx.advance(Duration::days(2));
    trust.set_crls(load(&[&moica, &grca]));
    expect_code(login(&s.portal, &cert, &key, None), ErrorCode::CrlStale);
}

#[test]
fn a_person_who_left_office_is_refused_after_binding() {
    let s = setup();
    let wang = person(Who::Wang);
    let (cert, key) = card_of(&s.pki, Who::Wang);
    login(&s.portal, &cert, &key, Some(wang.id.reveal())).expect("binds");
    s.portal
        .mark_left(&wang.id, RocDate::parse("114/06/01").expect("date"), "離職")
        .expect("left");
    expect_code(login(&s.portal, &cert, &key, None), ErrorCode::AccountDisabled);
}

#[test]
fn without_trust_there_is_no_certificate_login() {
    let fx = Fixture::new();
    expect_code(
        fx.portal.begin_certificate_login(),
        ErrorCode::CertificateLoginUnavailable,
    );
}

#[test]
fn a_strangers_certificate_with_the_same_last_four_digits_does_not_bind() {
    // The attack: the officer's national ID is known, and so are its last four digits; any valid
    // citizen certificate carrying them (a stranger's own card) used to open the account.
    let s = setup();
    let officer = person(Who::OfficerA);
    let (cert, key) = s
        .pki
        .issue(&EndEntitySpec::citizen(
            "陳冒名",
            "0000000099990000",
            Some(officer.id.last_four()),
        ))
        .expect("issued");
    for who in [officer.id.reveal(), &officer.id.reveal().to_lowercase()] {
        expect_code(login(&s.portal, &cert, &key, Some(who)), ErrorCode::BindingMismatch);
    }
    // An ID nobody has: the same answer.
    let nobody = support::make_id('Z', "12345678");
    expect_code(login(&s.portal, &cert, &key, Some(&nobody)), ErrorCode::BindingMismatch);
    assert_eq!(
        s.fx.sql_int("SELECT count(*) FROM certificate_bindings"),
        0,
        "nothing bound"
    );
    assert_eq!(
        s.fx.sql_int("SELECT count(*) FROM sessions WHERE method = 'certificate'"),
        0
    );
}

#[test]
fn the_name_is_compared_as_written_not_byte_for_byte() {
    // The directory writes 王小明; a certificate may space it or use full-width forms.
    let s = setup();
    let wang = person(Who::Wang);
    let spaced = format!(
        " {}　",
        wang.name.chars().map(String::from).collect::<Vec<_>>().join(" ")
    );
    let (cert, key) = s
        .pki
        .issue(&EndEntitySpec::citizen(
            spaced,
            format!("{:0>16}", wang.id.last_four()),
            Some(wang.id.last_four()),
        ))
        .expect("issued");
    let session = login(&s.portal, &cert, &key, Some(wang.id.reveal())).expect("binds");
    assert_eq!(session.info.national_id, wang.masked());
}

#[test]
fn a_certificate_bound_to_one_person_does_not_bind_to_another() {
    // Two people of one name whose IDs end in the same four digits: the certificate bound to the
    // first (by a copy without its serialNumber key, as a renewed one might come) is not the
    // second's.
    let s = setup();
    let wang = person(Who::Wang);
    let tail = &wang.id.reveal()[6..9];
    let twin = (0..10_000)
        .map(|n| support::make_id('B', &format!("1{n:04}{tail}")))
        .find(|id| id[6..] == *wang.id.last_four())
        .expect("some ID of letter B ends in the same four digits");
    assert_eq!(&twin[6..], wang.id.last_four());
    s.fx.portal
        .import_directory_csv(
            format!(
                "agency_code,agency_name,unit,national_id,name,title,email,status\n{},{},,{twin},{},科員,,在職\n",
                support::AGENCY_A,
                support::AGENCY_A_NAME,
                wang.name
            )
            .as_bytes(),
        )
        .expect("imports");
    let (cert, key) = card_of(&s.pki, Who::Wang);
    login(&s.portal, &cert, &key, Some(wang.id.reveal())).expect("binds to Wang");
    // The same subject under another key (what a renewal without the serial key would be).
    s.fx.exec("UPDATE certificate_bindings SET binding_key = 'sha256:elsewhere'", &[]);
    expect_code(login(&s.portal, &cert, &key, Some(&twin)), ErrorCode::BindingMismatch);
    assert_eq!(s.fx.sql_int("SELECT count(*) FROM certificate_bindings"), 1);
}

/// The portal of `s` answering at `origin` (`[server] public_origin`), optionally accepting
/// only origin-bound logins.
fn at_origin(s: &Setup, origin: &str, require: bool) -> LocalPortal {
    let trust = CertificateTrust::new(vec![TrustAnchor::new(s.pki.root.clone())])
        .with_intermediates([s.pki.intermediate.clone()]);
    s.fx.reopen(ecpa::portal::PortalConfig {
        public_origin: Some(origin.into()),
        require_origin_bound: require,
        ..fast_config()
    })
    .with_certificate_trust(trust)
}

#[test]
fn an_origin_bound_login_works_only_at_the_origin_the_card_signed() {
    let s = setup();
    let (cert, key) = card_of(&s.pki, Who::Wang);
    let real = at_origin(&s, "https://ecpa.example.gov.tw", false);
    let wang = person(Who::Wang);
    let bound_to = |portal: &LocalPortal, origin: &str, identify: Option<&str>| {
        let c = portal.begin_certificate_login().expect("challenge");
        let r = CertificateResponse::signed_by(&c, cert.der(), &key, Some(origin), identify.map(str::to_owned))
            .expect("signed");
        (c, r)
    };
    // Made for the real origin (as browsers write it, any case): in.
    let (c, r) = bound_to(&real, "HTTPS://ecpa.example.gov.tw:443", Some(wang.id.reveal()));
    assert!(
        matches!(&r.signature, LoginSignature::OriginBound { origin, .. } if origin == "https://ecpa.example.gov.tw")
    );
    let session = real.complete_certificate_login(&r).expect("origin-bound login");
    assert_eq!(session.info.level, AssuranceLevel::Certificate);
    // The exact bytes signed: SHA-256(origin) ‖ SHA-256(to_sign).
    let data = ecpa::portal::origin_bound_data("https://ecpa.example.gov.tw", &c.to_sign);
    let LoginSignature::OriginBound { signature, .. } = &r.signature else {
        unreachable!()
    };
    ecpa::pki::verify_raw_pkcs1(&data, signature, &cert).expect("over the two hashes");

    // A look-alike page's token (the card signed its origin) is worthless here, and claiming
    // the real origin over that signature fails the signature check.
    let (_, phished) = bound_to(&real, "https://ecpa-example.gov.tw.evil.example", None);
    expect_code(
        real.complete_certificate_login(&phished),
        ErrorCode::LoginOriginMismatch,
    );
    let (_, mut relabelled) = bound_to(&real, "https://ecpa-example.gov.tw.evil.example", None);
    if let LoginSignature::OriginBound { origin, .. } = &mut relabelled.signature {
        *origin = "https://ecpa.example.gov.tw".into();
    }
    expect_code(
        real.complete_certificate_login(&relabelled),
        ErrorCode::SignatureInvalid,
    );
    // The same token replayed to a portal with another public origin is refused.
    let other = at_origin(&s, "https://other.example.gov.tw", false);
    let (_, for_real) = bound_to(&real, "https://ecpa.example.gov.tw", None);
    let mut replayed = for_real.clone();
    replayed.challenge_id = other.begin_certificate_login().expect("challenge").challenge_id;
    expect_code(
        other.complete_certificate_login(&replayed),
        ErrorCode::LoginOriginMismatch,
    );

    // Raw PKCS#1 logins stay accepted, unless the portal requires origin-bound ones.
    login(&real, &cert, &key, None).expect("a raw login, as HiPKI pages make");
    let strict = at_origin(&s, "https://ecpa.example.gov.tw", true);
    expect_code(login(&strict, &cert, &key, None), ErrorCode::OriginBoundRequired);
    let (_, ok) = bound_to(&strict, "https://ecpa.example.gov.tw", None);
    strict
        .complete_certificate_login(&ok)
        .expect("origin-bound still gets in");
}

#[test]
fn the_public_origin_defaults_to_the_portal_url() {
    let s = setup();
    let portal = s.fx.reopen(ecpa::portal::PortalConfig {
        portal_url: "https://ECPA.example.gov.tw:443/portal/".into(),
        ..fast_config()
    });
    assert_eq!(portal.public_origin().expect("origin"), "https://ecpa.example.gov.tw");
}
