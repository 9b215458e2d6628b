//! The application catalogue: eCPA's groups and entries, greyed-out entries by assurance
//! level, "my applications", the level every B5 function checks, and single sign-on into the
//! applications the configuration gives an address (the engine's side; over HTTP with a
//! relying application in `tests/http_sso.rs`).

mod support;

use std::sync::Arc;

use base64ct::Encoding;

use ecpa::ErrorCode;
use ecpa::portal::{
    Application, ApplicationLink, AuditQuery, LocalPortal, ManualClock, OsRandomness, Portal, PortalConfig,
    ProofingCategory, ProofingQuery, SsoAssertion,
};
use ecpa::store::{SqliteStore, Store, StoreExt, Value, schema};
use ecpa::types::{AssuranceLevel, Lang};
use support::{Fixture, Who, expect_code, fast_config, person, pw};

fn usable(apps: &[Application]) -> Vec<(&str, bool)> {
    apps.iter().map(|a| (a.code.as_str(), a.usable)).collect()
}

#[test]
fn catalogue_greys_out_by_level() {
    let fx = Fixture::new();
    let card = fx.enrol(Who::Wang);
    let apps = fx.portal.applications(&card).expect("catalogue");
    assert_eq!(
        usable(&apps),
        vec![
            ("A1", false),
            ("B5", true),
            ("B5A", true),
            ("B6", false),
            ("B3", true),
            ("C1", true),
            ("WebHR", false)
        ]
    );
    let a1 = apps.iter().find(|a| a.code == "A1").expect("A1");
    assert_eq!(a1.required_level, AssuranceLevel::Certificate);
    assert!(apps.iter().all(|a| !a.added));

    fx.portal
        .set_account(&card, "wang", &pw("Acct#2026ok"))
        .expect("account");
    let account = fx
        .portal
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    let apps = fx.portal.applications(&account).expect("catalogue");
    assert_eq!(
        usable(&apps),
        vec![
            ("A1", false),
            ("B5", false),
            ("B5A", false),
            ("B6", false),
            ("B3", true),
            ("C1", false),
            ("WebHR", false)
        ]
    );
}

#[test]
fn the_catalogue_is_in_ecpas_groups_with_each_level() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    let apps = fx.portal.applications(&s).expect("catalogue");
    let rows: Vec<(&str, &str, &str, AssuranceLevel)> = apps
        .iter()
        .map(|a| {
            (
                a.group.code.as_str(),
                a.group.name_zh.as_str(),
                a.code.as_str(),
                a.required_level,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("A", "人事資料填報及考核", "A1", AssuranceLevel::Certificate),
            ("B", "人事資料服務", "B5", AssuranceLevel::NhiCard),
            ("B", "人事資料服務", "B5A", AssuranceLevel::NhiCard),
            ("B", "人事資料服務", "B6", AssuranceLevel::Certificate),
            ("D", "其他人事總處業務", "B3", AssuranceLevel::Password),
            ("X", "非人事總處機關及系統", "C1", AssuranceLevel::NhiCard),
            ("X", "非人事總處機關及系統", "WebHR", AssuranceLevel::Certificate),
        ]
    );
    let name = |code: &str| apps.iter().find(|a| a.code == code).expect(code).name_zh.clone();
    assert_eq!(name("B5A"), "個人簡要自述");
    assert_eq!(name("B6"), "PICS人事資訊系統服務網");
    assert_eq!(name("WebHR"), "WebHR人力資源管理資訊系統");
    assert!(
        apps.iter()
            .all(|a| a.group.name_en.is_ascii() && !a.group.name_en.is_empty())
    );
    // No application has an address here: none opens with single sign-on.
    assert!(apps.iter().all(|a| a.url.is_none() && a.sso.is_none()));
}

#[test]
fn the_former_code_a2_still_names_webhr() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal.add_my_application(&s, "A2").expect("A2 is WebHR");
    let mine = fx.portal.my_applications(&s).expect("mine");
    assert_eq!(mine.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["WebHR"]);
    fx.portal.add_my_application(&s, "WebHR").expect("the same, again");
    assert_eq!(fx.portal.my_applications(&s).expect("mine").len(), 1);
    let e = expect_code(fx.portal.open_application(&s, "A2"), ErrorCode::AssuranceTooLow);
    assert!(
        matches!(
            e,
            ecpa::Error::AssuranceTooLow {
                required: AssuranceLevel::Certificate,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn migration_10_moves_lists_made_with_a2_to_webhr() {
    // A database as version 9 left it, with someone's list holding A2 and B5.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("v9.db")).expect("store");
    store
        .write(|tx| {
            tx.execute(
                "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                &[],
            )?;
            for m in schema::MIGRATIONS.iter().filter(|m| m.version <= 9) {
                let sql = schema::render(m.sql, store.dialect());
                for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                    tx.execute(stmt, &[])?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)",
                    &[Value::Int(m.version), Value::from(m.name)],
                )?;
            }
            tx.execute("INSERT INTO agencies (code, name) VALUES ('379130000C', '臺北市政府勞動局')", &[])?;
            tx.execute(
                "INSERT INTO employees (id, national_id, name, agency_code, title, status, updated_at) \
                 VALUES (1, 'A123456789', '王小明', '379130000C', '科員', 'current', 0)",
                &[],
            )?;
            for app in ["A2", "B5"] {
                tx.execute(
                    "INSERT INTO my_applications (employee_id, app_code, added_at) VALUES (1, ?, 7)",
                    &[Value::from(app)],
                )?;
            }
            Ok(())
        })
        .expect("version 9");
    let portal = LocalPortal::with_store(Box::new(store), fast_config()).expect("migrates to the newest");
    assert_eq!(portal.schema_version().expect("version"), schema::latest_version());
    let db = SqliteStore::open(dir.path().join("v9.db")).expect("store");
    let mine = db
        .read(|tx| tx.query("SELECT app_code, added_at FROM my_applications ORDER BY app_code", &[]))
        .expect("rows");
    let mine: Vec<(String, i64)> = mine
        .iter()
        .map(|r| (r.text(0).expect("code"), r.int(1).expect("when")))
        .collect();
    assert_eq!(mine, [("B5".to_owned(), 7), ("WebHR".to_owned(), 7)]);
}

#[test]
fn open_needs_the_application_added_first() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    expect_code(fx.portal.open_application(&s, "B5"), ErrorCode::ApplicationNotAdded);
    assert!(fx.portal.my_applications(&s).expect("mine").is_empty());
    fx.portal.add_my_application(&s, "B5").expect("added");
    fx.portal
        .add_my_application(&s, "B5")
        .expect("adding twice is harmless");
    let mine = fx.portal.my_applications(&s).expect("mine");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].added && mine[0].code == "B5");
    let b5 = fx.portal.open_application(&s, "B5").expect("opens");
    assert_eq!(b5.name_zh, "公務人員個人資料校對網站");
    // "My applications" are the person's own: another person has not added B5.
    let lin = fx.enrol(Who::Lin);
    expect_code(fx.portal.open_application(&lin, "B5"), ErrorCode::ApplicationNotAdded);
    expect_code(fx.portal.add_my_application(&s, "Z9"), ErrorCode::ApplicationUnknown);
    expect_code(fx.portal.open_application(&s, "Z9"), ErrorCode::ApplicationUnknown);
}

#[test]
fn a_certificate_application_refuses_an_nhi_card_login() {
    let fx = Fixture::new();
    let s = fx.enrol(Who::Wang);
    fx.portal
        .add_my_application(&s, "A1")
        .expect("a greyed-out app can be added");
    let e = expect_code(fx.portal.open_application(&s, "A1"), ErrorCode::AssuranceTooLow);
    assert!(
        matches!(
            e,
            ecpa::Error::AssuranceTooLow {
                required: AssuranceLevel::Certificate,
                actual: AssuranceLevel::NhiCard
            }
        ),
        "{e:?}"
    );
    assert!(
        e.message(Lang::ZhTw)
            .starts_with("上述反灰的連結請使用自然人憑證登入才可使用"),
        "{}",
        e.message(Lang::ZhTw)
    );
    assert!(e.message(Lang::ZhTw).contains("自然人憑證") && e.message(Lang::ZhTw).contains("健保卡"));
}

#[test]
fn b5_functions_refuse_an_account_password_session() {
    let fx = Fixture::new();
    let card = fx.ready(Who::OfficerA);
    fx.portal.add_my_application(&card, "B5").expect("added");
    fx.portal
        .set_account(&card, "chen", &pw("Acct#2026ok"))
        .expect("account");
    let s = fx
        .portal
        .login_account("chen", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    let too_low = |r: ecpa::Result<()>| {
        let e = expect_code(r, ErrorCode::AssuranceTooLow);
        assert!(
            matches!(
                e,
                ecpa::Error::AssuranceTooLow {
                    required: AssuranceLevel::NhiCard,
                    actual: AssuranceLevel::Password
                }
            ),
            "{e:?}"
        );
    };
    too_low(fx.portal.open_application(&s, "B5").map(drop));
    too_low(fx.portal.consent_status(&s).map(drop));
    too_low(fx.portal.give_consent(&s, "2019-07-01").map(drop));
    too_low(fx.portal.withdraw_consent(&s));
    too_low(fx.portal.unviewed_award_orders(&s).map(drop));
    too_low(fx.portal.view_award_order(&s, 1).map(drop));
    too_low(fx.portal.award_history(&s).map(drop));
    too_low(
        fx.portal
            .unsigned_award_orders(&s, ecpa::portal::PageRequest::default())
            .map(drop),
    );
    too_low(
        fx.portal
            .issue_award_order(
                &s,
                &support::order(
                    Who::Wang,
                    "114/05/02",
                    "北市勞人字第1146000789號",
                    ecpa::portal::AwardKind::Merit,
                    1,
                ),
            )
            .map(drop),
    );
    too_low(fx.portal.issue_award_orders(&s, &[]).map(drop));
    too_low(fx.portal.personal_record(&s).map(drop));
    too_low(
        fx.portal
            .stage_correction(&s, ProofingCategory::CurrentPost, "office_phone", "02-1234-5678")
            .map(drop),
    );
    too_low(
        fx.portal
            .discard_correction(&s, ProofingCategory::CurrentPost, "office_phone"),
    );
    too_low(fx.portal.complete_proofing(&s).map(drop));
    too_low(fx.portal.proofing_query(&s, &ProofingQuery::default()).map(drop));
    too_low(fx.portal.officer_todos(&s).map(drop));
    too_low(fx.portal.submission_corrections(&s, 1).map(drop));
    too_low(
        fx.portal
            .process_correction(&s, 1, &ecpa::portal::CorrectionDecision::Approve)
            .map(drop),
    );
    // The officer functions outside B5 too: the agency's people and its audit trail.
    too_low(
        fx.portal
            .agency_employees(&s, ecpa::portal::PageRequest::default())
            .map(drop),
    );
    too_low(fx.portal.audit_trail(&s, &AuditQuery::default()).map(drop));
    // The same person with the NHI card can.
    fx.portal.personal_record(&card).expect("record");
    fx.portal.open_application(&card, "B5").expect("opens");
    fx.portal
        .agency_employees(&card, ecpa::portal::PageRequest::default())
        .expect("the agency's people");
    fx.portal
        .audit_trail(&card, &AuditQuery::default())
        .expect("audit trail");
    // An employee's own trail needs no more than a password.
    let wang = fx.enrol(Who::Wang);
    fx.portal
        .set_account(&wang, "wang", &pw("Acct#2026ok"))
        .expect("account");
    let low = fx
        .portal
        .login_account("wang", &pw("Acct#2026ok"))
        .expect("login")
        .token;
    fx.portal.audit_trail(&low, &AuditQuery::default()).expect("own trail");
}

// ---- single sign-on (單一登入) ----

/// Where the fixture's B5A and B3 live (the portal only hands the browser these addresses).
const B5A_URL: &str = "https://b5a.example.gov.tw/sso";
const B3_URL: &str = "https://b3.example.gov.tw/ecpa";

fn sso_config() -> PortalConfig {
    PortalConfig {
        portal_url: "https://ecpa.example.gov.tw".into(),
        applications: vec![
            ApplicationLink::new("B5A", B5A_URL).expect("link"),
            ApplicationLink {
                name_zh: Some("國民旅遊卡檢核系統（測試）".into()),
                ..ApplicationLink::new("B3", B3_URL).expect("link")
            },
        ],
        ..fast_config()
    }
}

/// The claims as the application reads them, checked with the portal's published key.
#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    auth_level: String,
    iat: i64,
    exp: i64,
    jti: String,
}

fn verify(portal: &dyn Portal, token: &str, audience: &str) -> Claims {
    let jwks = portal.sso_keys().expect("keys");
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::to_value(&jwks).expect("JSON")).expect("a JWK set");
    let header = jsonwebtoken::decode_header(token).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwk = set.find(header.kid.as_deref().expect("kid")).expect("the key it names");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("an EC key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[audience]);
    v.set_issuer(&["https://ecpa.example.gov.tw"]);
    // The fixture's clock is in 2025: the expiry is the portal's to check (below, and at
    // redemption).
    v.validate_exp = false;
    jsonwebtoken::decode::<Claims>(token, &key, &v)
        .expect("verifies")
        .claims
}

fn open(fx: &Fixture, s: &ecpa::portal::SessionToken, code: &str) -> SsoAssertion {
    fx.portal.add_my_application(s, code).expect("added");
    let app = fx.portal.open_application(s, code).expect("opens");
    app.sso.expect("an assertion")
}

#[test]
fn opening_an_application_with_an_address_hands_it_the_person() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let catalogue = fx.portal.applications(&s).expect("catalogue");
    let b5a = catalogue.iter().find(|a| a.code == "B5A").expect("B5A");
    assert_eq!(b5a.url.as_deref(), Some(B5A_URL));
    assert!(b5a.sso.is_none(), "the catalogue carries no assertion");
    let b3 = catalogue.iter().find(|a| a.code == "B3").expect("B3");
    assert_eq!(b3.name_zh, "國民旅遊卡檢核系統（測試）");

    let a = open(&fx, &s, "B5A");
    assert_eq!(a.url, B5A_URL);
    let c = verify(&fx.portal, &a.token, "B5A");
    assert_eq!(c.iss, "https://ecpa.example.gov.tw");
    assert_eq!(c.aud, "B5A");
    assert_eq!(c.auth_level, "nhi_card");
    assert_eq!(c.exp - c.iat, 60);
    assert_eq!(c.iat, fx.clock_now().unix_timestamp());
    assert_eq!(a.expires_at.offset_date_time().unix_timestamp(), c.exp);
    // The national ID is nowhere in it: not as the subject, not in the payload.
    let wang = person(Who::Wang);
    let payload = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&a.token).expect("claims");
    let text = payload.to_string();
    assert!(
        !text.contains(wang.id.reveal()) && !text.contains(&wang.masked()),
        "{text}"
    );
    assert!(!a.token.contains(wang.id.reveal()));
    assert_eq!(c.sub.len(), 43, "an HMAC-SHA-256, base64url: {}", c.sub);

    // The application redeems it once, and learns the person's id, login and name.
    let who = fx.portal.redeem_sso_assertion(&a.token, "B5A").expect("redeemed");
    assert_eq!(who.sub, c.sub);
    assert_eq!(who.aud, "B5A");
    assert_eq!(who.auth_level, AssuranceLevel::NhiCard);
    assert_eq!(who.name, "王小明");
    let json = serde_json::to_string(&who).expect("JSON");
    assert!(!json.contains(wang.id.reveal()), "{json}");
    // A replay is refused.
    expect_code(
        fx.portal.redeem_sso_assertion(&a.token, "B5A"),
        ErrorCode::SsoAssertionReplayed,
    );

    // The next opening is a new assertion for the same person id; another person, or the same
    // person in another application, has another.
    let again = open(&fx, &s, "B5A");
    let c2 = verify(&fx.portal, &again.token, "B5A");
    assert_ne!(c2.jti, c.jti);
    assert_eq!(c2.sub, c.sub);
    let in_b3 = verify(&fx.portal, &open(&fx, &s, "B3").token, "B3");
    assert_ne!(in_b3.sub, c.sub);
    let lin = fx.enrol(Who::Lin);
    assert_ne!(verify(&fx.portal, &open(&fx, &lin, "B5A").token, "B5A").sub, c.sub);

    // Opened, redeemed and replayed: all in Wang's own trail.
    let trail = fx.portal.audit_trail(&s, &AuditQuery::default()).expect("trail");
    let acts: Vec<(&str, Option<&str>, Option<&str>)> = trail
        .iter()
        .filter(|e| e.action.starts_with("sso."))
        .map(|e| (e.action.as_str(), e.object.as_deref(), e.detail.as_deref()))
        .collect();
    for act in [
        ("sso.assertion", Some("B5A"), Some(c.jti.as_str())),
        ("sso.redeem", Some("B5A"), Some(c.jti.as_str())),
        ("sso.replay", Some("B5A"), Some(c.jti.as_str())),
        ("sso.assertion", Some("B3"), Some(in_b3.jti.as_str())),
    ] {
        assert!(acts.contains(&act), "{act:?} in {acts:?}");
    }
}

#[test]
fn of_redemptions_racing_one_wins() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let a = open(&fx, &s, "B5A");
    // Two processes on the database, redeeming the same assertion at the same moment.
    let other = fx.reopen(sso_config());
    let results = support::race(8, |i| {
        let p: &dyn Portal = if i % 2 == 0 { &fx.portal } else { &other };
        p.redeem_sso_assertion(&a.token, "B5A")
    });
    let (ok, refused) = support::outcomes(&results);
    assert_eq!(ok, 1, "{refused:?}");
    assert!(
        refused.iter().all(|c| *c == ErrorCode::SsoAssertionReplayed),
        "{refused:?}"
    );
}

#[test]
fn an_application_without_an_address_opens_as_metadata() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    fx.portal.add_my_application(&s, "B5").expect("added");
    let b5 = fx.portal.open_application(&s, "B5").expect("opens");
    assert_eq!((b5.url, b5.sso), (None, None));
    assert_eq!(fx.sql_int("SELECT count(*) FROM sso_assertions"), 0);
}

#[test]
fn an_assertion_for_another_application_is_refused() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let a = open(&fx, &s, "B5A");
    let e = expect_code(
        fx.portal.redeem_sso_assertion(&a.token, "B3"),
        ErrorCode::SsoAudienceMismatch,
    );
    assert!(
        e.message(Lang::En).is_ascii() && e.message(Lang::En).contains("B3"),
        "{e}"
    );
    // Refusing it did not spend it: its own application still redeems it.
    fx.portal
        .redeem_sso_assertion(&a.token, "B5A")
        .expect("its own application");
}

#[test]
fn an_assertion_lives_sixty_seconds() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let a = open(&fx, &s, "B5A");
    fx.advance(time::Duration::seconds(59));
    fx.portal.redeem_sso_assertion(&a.token, "B5A").expect("at 59 s");
    let late = open(&fx, &s, "B5A");
    fx.advance(time::Duration::seconds(60));
    expect_code(
        fx.portal.redeem_sso_assertion(&late.token, "B5A"),
        ErrorCode::SsoAssertionExpired,
    );
    // `ecpa purge` removes the expired ones, redeemed or not; one expired is still refused.
    let purged = fx.portal.purge(5, "test").expect("purge");
    assert_eq!(purged.sso_assertions, 2);
    assert_eq!(fx.sql_int("SELECT count(*) FROM sso_assertions"), 0);
    expect_code(
        fx.portal.redeem_sso_assertion(&late.token, "B5A"),
        ErrorCode::SsoAssertionExpired,
    );
}

#[test]
fn a_forged_or_altered_assertion_is_refused() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let a = open(&fx, &s, "B5A");
    let header = jsonwebtoken::decode_header(&a.token).expect("header");
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&a.token).expect("claims");
    // The same claims under the same key id, signed with another P-256 key.
    let other = aws_lc_rs::signature::EcdsaKeyPair::generate(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING)
        .and_then(|k| k.to_pkcs8v1())
        .expect("another key");
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(other.as_ref()),
    )
    .expect("signed");
    expect_code(
        fx.portal.redeem_sso_assertion(&forged, "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    // The portal's own signature over claims changed to another person's id.
    let mut parts: Vec<String> = a.token.split('.').map(str::to_owned).collect();
    let mut altered = claims.clone();
    altered["sub"] = serde_json::json!("someone-else");
    parts[1] = base64ct::Base64UrlUnpadded::encode_string(altered.to_string().as_bytes());
    expect_code(
        fx.portal.redeem_sso_assertion(&parts.join("."), "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    // HS256 keyed with the public key, and no signature at all.
    let jwks = serde_json::to_string(&fx.portal.sso_keys().expect("keys")).expect("JSON");
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = header.kid.clone();
    let secret = jsonwebtoken::EncodingKey::from_secret(jwks.as_bytes()).expect("a secret");
    let hs256 = jsonwebtoken::encode(&hs, &claims, &secret).expect("signed");
    expect_code(
        fx.portal.redeem_sso_assertion(&hs256, "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    let none = format!(
        "{}.{}.",
        base64ct::Base64UrlUnpadded::encode_string(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    expect_code(
        fx.portal.redeem_sso_assertion(&none, "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    expect_code(
        fx.portal.redeem_sso_assertion("not a token", "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    // None of these spent the real one.
    fx.portal.redeem_sso_assertion(&a.token, "B5A").expect("the real one");
}

#[test]
fn every_process_on_the_database_signs_with_the_same_key() {
    let fx = Fixture::with_config(sso_config());
    let s = fx.enrol(Who::Wang);
    let a = open(&fx, &s, "B5A");
    let other = fx.reopen(sso_config());
    assert_eq!(other.sso_keys().expect("keys"), fx.portal.sso_keys().expect("keys"));
    let jwk = &other.sso_keys().expect("keys").keys[0];
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str(), jwk.use_.as_str()),
        ("EC", "P-256", "ES256", "sig")
    );
    other
        .redeem_sso_assertion(&a.token, "B5A")
        .expect("another process redeems it");
    expect_code(
        fx.portal.redeem_sso_assertion(&a.token, "B5A"),
        ErrorCode::SsoAssertionReplayed,
    );
}

#[test]
fn the_configured_codes_must_be_in_the_catalogue() {
    let fx = Fixture::with_config(sso_config());
    let with = |links: Vec<ApplicationLink>| {
        LocalPortal::with_parts(
            ecpa::store::open_url(&fx.url).expect("store"),
            PortalConfig {
                applications: links,
                ..fast_config()
            },
            Arc::new(ManualClock::new(support::START)),
            Arc::new(OsRandomness),
        )
    };
    let e = with(vec![
        ApplicationLink::new("Z9", "https://z9.example.gov.tw/").expect("link"),
    ])
    .expect_err("Z9");
    assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    assert!(e.message(Lang::En).contains("Z9"), "{e}");
    // A2 is read as WebHR, and then WebHR twice is once too many.
    let p = with(vec![
        ApplicationLink::new("A2", "https://webhr.example.gov.tw/").expect("link"),
    ])
    .expect("A2");
    assert_eq!(p.config().applications[0].code, "WebHR");
    let twice = vec![
        ApplicationLink::new("A2", "https://webhr.example.gov.tw/").expect("link"),
        ApplicationLink::new("WebHR", "https://webhr.example.gov.tw/").expect("link"),
    ];
    assert_eq!(with(twice).expect_err("twice").code(), ErrorCode::ConfigInvalid);
    // An address on the network in the clear is refused before anything else.
    let plain = ApplicationLink {
        url: "http://b5a.example.gov.tw/".into(),
        ..ApplicationLink::new("B5A", B5A_URL).expect("link")
    };
    assert_eq!(with(vec![plain]).expect_err("http").code(), ErrorCode::ConfigInvalid);
}
