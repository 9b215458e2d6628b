//! Single sign-on (單一登入) into the applications of the catalogue.
//!
//! Opening an application that `[[portal.applications]]` gives an address hands it the person,
//! not just the catalogue's metadata: the portal signs a short assertion (a JWT, ES256) and the
//! browser posts it to the application's address as the form field [`ASSERTION_FIELD`]. The
//! application checks the signature with the portal's public key ([`Jwks`], served at
//! `/.well-known/jwks.json`) and redeems the assertion once with the portal
//! (`POST /api/v1/sso/redeem`), which is what makes a copied or replayed assertion worthless.
//!
//! What the assertion says, and what it does not:
//! - `iss`: the portal (`[portal] portal_url`); `aud`: the application's code (`B5A`, `WebHR`);
//! - `sub`: an opaque id of the person for that application alone, an HMAC of the person and
//!   the code under a key kept in the store: stable across logins, so the application can keep
//!   its own records of the person, and different in every application, so two applications
//!   cannot join their records through it. Never the national ID;
//! - `auth_level`: how the person logged in (帳號密碼 < 健保卡 < 自然人憑證), so an application
//!   can ask for more than the catalogue does;
//! - `iat`, `exp` (60 s later) and `jti` (random, recorded for the single redemption).
//!
//! The redemption answers the same claims and the person's name, for the application to greet
//! them by: nothing else (no ID, no mailbox, no agency). Every assertion issued and every
//! redemption, and every replay tried, is in the person's audit trail (`sso.assertion`,
//! `sso.redeem`, `sso.replay`).
//!
//! The signing key is a P-256 key made once, the first time any process on the database needs
//! it, and kept in `server_keys` like the CSRF key, so every `ecpa serve` on one database signs
//! with the same key and accepts the others' assertions. aws-lc-rs makes it from the system's
//! random source (it must make the scalar itself); `jsonwebtoken` (on aws-lc-rs, the crate's one
//! crypto provider) writes and checks the JWTs, so no JOSE code is ours but the key's JWK.

use std::sync::Arc;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::auth::Caller;
use super::env::millis;
use super::local::LocalPortal;
use crate::db::{audit, employees, site};
use crate::error::{Error, ErrorCode, Result};
use crate::store::StoreExt;
use crate::types::{AssuranceLevel, RocDateTime};

/// How long an assertion may be redeemed: long enough for the browser to post it, short
/// enough that one left in a history or a log is dead.
pub const ASSERTION_TTL: Duration = Duration::seconds(60);

/// The form field the browser posts the assertion in to the application's address.
pub const ASSERTION_FIELD: &str = "assertion";

/// The `server_keys` entry of the signing key (PKCS#8, hex).
const SIGNING_KEY: &str = "sso-es256";

/// The `server_keys` entry of the key behind the per-application person ids.
const SUBJECT_KEY: &str = "sso-subject";

/// An application of the catalogue that this portal opens with single sign-on: one
/// `[[portal.applications]]` entry of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationLink {
    /// The catalogue's code (`B5A`, `WebHR`; a former code such as `A2` is read as the one it
    /// now names).
    pub code: String,
    /// Where the browser posts the assertion: `https://`, or `http://` to this machine only.
    pub url: String,
    /// The name to show instead of the catalogue's, in Chinese (a deployment's own name).
    pub name_zh: Option<String>,
    /// The same in English.
    pub name_en: Option<String>,
}

impl ApplicationLink {
    /// A link, its address checked ([`check_application_url`]).
    pub fn new(code: &str, url: &str) -> Result<ApplicationLink> {
        let link = ApplicationLink {
            code: code.trim().to_owned(),
            url: url.trim().to_owned(),
            name_zh: None,
            name_en: None,
        };
        link.check()?;
        Ok(link)
    }

    /// Checks the code's form and the address ([`check_application_url`]).
    pub fn check(&self) -> Result<()> {
        let code_ok = (1..=16).contains(&self.code.len()) && self.code.bytes().all(|b| b.is_ascii_alphanumeric());
        if !code_ok {
            return Err(Error::with(
                ErrorCode::ConfigInvalid,
                format!(
                    "portal.applications：應用系統代碼「{}」應為 1 至 16 個英數字",
                    self.code
                ),
                format!(
                    "portal.applications: the application code \"{}\" must be 1 to 16 letters or digits",
                    self.code
                ),
            ));
        }
        for name in [&self.name_zh, &self.name_en].into_iter().flatten() {
            crate::types::text::text_field("portal.applications name", name, 100)?;
        }
        check_application_url(&self.url).map_err(|e| {
            Error::with(
                ErrorCode::ConfigInvalid,
                format!(
                    "portal.applications（{}）：{}",
                    self.code,
                    detail_of(&e, crate::types::Lang::ZhTw)
                ),
                format!(
                    "portal.applications ({}): {}",
                    self.code,
                    detail_of(&e, crate::types::Lang::En)
                ),
            )
        })
    }
}

fn detail_of(e: &Error, lang: crate::types::Lang) -> String {
    e.detail().map_or_else(|| e.message(lang), |d| d.get(lang).to_owned())
}

/// Checks an application's address: an absolute `https://` URL with a host, or `http://` to
/// this machine (`localhost`, `127.0.0.0/8`, `[::1]`) for a test or a proxy on the same host;
/// no user name or password in it, no fragment. The assertion is a bearer credential for 60
/// seconds: it must not cross a network in the clear.
pub fn check_application_url(url: &str) -> Result<()> {
    let bad = |zh: &str, en: &str| {
        Error::with(
            ErrorCode::ConfigInvalid,
            format!("應用系統網址「{url}」{zh}"),
            format!("the application URL \"{url}\" {en}"),
        )
    };
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("應以 https:// 開頭", "must start with https://"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.contains('#') {
        return Err(bad(
            "不可含空白、控制字元或 #",
            "must not hold spaces, control characters or #",
        ));
    }
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(bad("不可含帳號或密碼", "must not carry a user name or password"));
    }
    let malformed = || bad("的主機名稱或連接埠格式錯誤", "has a malformed host or port");
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => (host, Some(port.strip_prefix(':').ok_or_else(malformed)?)),
            None => return Err(malformed()),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = if authority.starts_with('[') {
        host.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return Err(malformed());
    }
    if !https && !is_loopback(host) {
        return Err(bad(
            "應以 https:// 開頭（http:// 僅限本機 localhost、127.0.0.1 或 [::1]）",
            "must start with https:// (http:// only to this machine: localhost, 127.0.0.1 or [::1])",
        ));
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What opening an application with single sign-on gives the browser: the assertion and where
/// to post it (as the form field [`ASSERTION_FIELD`], before `expires_at`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct SsoAssertion {
    /// The application's address, from `[[portal.applications]]`.
    pub url: String,
    /// The assertion: a JWT signed by the portal (ES256), redeemable once.
    pub token: String,
    /// When it can no longer be redeemed (60 seconds after it was made).
    pub expires_at: RocDateTime,
}

impl std::fmt::Debug for SsoAssertion {
    /// The token is a bearer credential for a minute: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoAssertion")
            .field("url", &self.url)
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a redemption tells the application about the person: their id in this application,
/// how they logged in, and their name. Nothing else leaves the portal this way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct SsoIdentity {
    /// The person's opaque id in this application (the assertion's `sub`): the same at every
    /// login, different in every application, never the national ID.
    pub sub: String,
    /// The application the assertion was issued to (its `aud`).
    pub aud: String,
    /// How the person logged in to the portal.
    pub auth_level: AssuranceLevel,
    /// The person's name, to greet them by.
    pub name: String,
    /// When the portal issued the assertion.
    pub issued_at: RocDateTime,
    /// When it would have expired.
    pub expires_at: RocDateTime,
}

/// The portal's public signing keys, as a JSON Web Key Set (RFC 7517): what
/// `/.well-known/jwks.json` serves and an application checks assertions with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Jwks {
    /// The keys (one: the portal's P-256 key).
    pub keys: Vec<Jwk>,
}

/// One public key as a JWK: an EC P-256 key for ES256 signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// The point's x coordinate, base64url.
    pub x: String,
    /// The point's y coordinate, base64url.
    pub y: String,
    /// The key's id, its RFC 7638 thumbprint: assertions name it in their header.
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// `sig`: the key signs, it does not encrypt.
    #[serde(rename = "use")]
    pub use_: String,
}

/// The claims of an assertion, as signed.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    auth_level: AssuranceLevel,
    iat: i64,
    exp: i64,
    jti: String,
}

/// The portal's keys, read (or made) once per process.
pub(crate) struct SsoKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    subject: aws_lc_rs::hmac::Key,
}

fn internal(what: &str) -> Error {
    Error::internal(format!("single sign-on keys: {what}"))
}

/// The keys every process on the database shares, made by the first that needed them.
pub(crate) fn keys(p: &LocalPortal) -> Result<Arc<SsoKeys>> {
    if let Some(k) = p.sso_keys.get() {
        return Ok(k.clone());
    }
    let fresh = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .and_then(|k| k.to_pkcs8v1())
        .map_err(|_| internal("no key could be made"))?;
    let fresh_hex = zeroize::Zeroizing::new(hex::encode(fresh.as_ref()));
    let now = millis(p.now());
    let stored_hex = p.store.write(|tx| site::server_key(tx, SIGNING_KEY, &fresh_hex, now))?;
    let pkcs8 = zeroize::Zeroizing::new(
        hex::decode(stored_hex.as_bytes()).map_err(|_| crate::store::corrupt("the signing key is not hex"))?,
    );
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
        .map_err(|_| crate::store::corrupt("the signing key is not a P-256 key"))?;
    // The uncompressed point: 0x04, x, y.
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err(internal("the public key is not an uncompressed P-256 point"));
    }
    let (x, y) = (
        Base64UrlUnpadded::encode_string(&point[1..33]),
        Base64UrlUnpadded::encode_string(&point[33..]),
    );
    // RFC 7638: the required members in lexicographic order, no spaces.
    let thumbprint = Sha256::digest(format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#));
    let jwk = Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        kid: Base64UrlUnpadded::encode_string(&thumbprint),
        alg: "ES256".into(),
        use_: "sig".into(),
        x,
        y,
    };
    let decoding = DecodingKey::from_ec_components(&jwk.x, &jwk.y).map_err(|_| internal("the public key"))?;
    let subject_key = p.server_key(SUBJECT_KEY)?;
    let keys = Arc::new(SsoKeys {
        encoding: EncodingKey::from_ec_der(&pkcs8),
        decoding,
        jwk,
        subject: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, subject_key.as_ref()),
    });
    // Two threads racing here read the same stored key: whichever is kept, it is that one.
    Ok(p.sso_keys.get_or_init(|| keys).clone())
}

/// The portal's public keys ([`Jwks`]).
pub(crate) fn jwks(p: &LocalPortal) -> Result<Jwks> {
    Ok(Jwks {
        keys: vec![keys(p)?.jwk.clone()],
    })
}

/// The person's id in application `app`: an HMAC of both under the stored subject key.
fn subject(keys: &SsoKeys, employee_id: i64, app: &str) -> String {
    let tag = aws_lc_rs::hmac::sign(&keys.subject, format!("ecpa-sso-sub\n{app}\n{employee_id}").as_bytes());
    Base64UrlUnpadded::encode_string(tag.as_ref())
}

/// Issues an assertion for the caller into application `app` at `url`: signed, recorded for
/// its single redemption and written in the caller's audit trail, in one transaction.
pub(crate) fn issue(p: &LocalPortal, c: &Caller, app: &str, url: &str) -> Result<SsoAssertion> {
    let keys = keys(p)?;
    let mut id = [0u8; 16];
    p.rng.fill(&mut id)?;
    let jti = Base64UrlUnpadded::encode_string(&id);
    let now = p.now();
    // Whole seconds, as JWTs count; the expiry is exactly 60 s after the second it was issued.
    let iat = now.unix_timestamp();
    let exp = iat + ASSERTION_TTL.whole_seconds();
    let claims = Claims {
        iss: p.config.portal_url.clone(),
        aud: app.to_owned(),
        sub: subject(&keys, c.employee_id, app),
        auth_level: c.level,
        iat,
        exp,
        jti: jti.clone(),
    };
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(keys.jwk.kid.clone());
    header.typ = Some("JWT".into());
    let token = jsonwebtoken::encode(&header, &claims, &keys.encoding).map_err(|e| internal(&e.to_string()))?;
    let expires = OffsetDateTime::from_unix_timestamp(exp).map_err(|_| internal("the expiry is out of range"))?;
    p.store.write(|tx| {
        site::record_assertion(tx, &jti, app, c.employee_id, millis(now), exp * 1000)?;
        audit::record(
            tx,
            millis(now),
            Some(c.employee_id),
            "sso.assertion",
            Some(c.employee_id),
            Some(app),
            Some(&jti),
        )
    })?;
    Ok(SsoAssertion {
        url: url.to_owned(),
        token,
        expires_at: expires.into(),
    })
}

fn invalid(zh: &str, en: &str) -> Error {
    Error::with(ErrorCode::SsoAssertionInvalid, zh.to_owned(), en.to_owned())
}

/// What a recorded assertion's redemption found.
enum Redeemed {
    /// Redeemed now: the name of the person it was issued to, and whether they still serve.
    Now { name: String, serving: bool },
    /// Redeemed before.
    Again,
    /// Past its expiry by the record (the clock moved between the checks).
    Expired,
}

/// Checks an assertion an application received and redeems it for `audience`, the
/// application's own code: the portal's signature, ES256, the portal as issuer, `audience` as
/// the audience, not expired, never redeemed before. Marked redeemed in the same statement
/// that finds it unredeemed, so of two redemptions racing, one wins.
pub(crate) fn redeem(p: &LocalPortal, token: &str, audience: &str) -> Result<SsoIdentity> {
    let keys = keys(p)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("不是 JWT 格式", "not a JWT"))?;
    if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(keys.jwk.kid.as_str()) {
        return Err(invalid(
            "不是以本人事服務網的金鑰簽署（ES256）",
            "not signed with this portal's key (ES256)",
        ));
    }
    let mut v = Validation::new(Algorithm::ES256);
    // The expiry is checked against the portal's own clock, below, with no leeway.
    v.validate_exp = false;
    v.leeway = 0;
    v.set_audience(&[audience]);
    v.set_issuer(&[p.config.portal_url.as_str()]);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &v)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidAudience => Error::with(
                ErrorCode::SsoAudienceMismatch,
                format!("此憑證不是發給「{audience}」的"),
                format!("it was not issued to \"{audience}\""),
            ),
            ErrorKind::InvalidSignature => {
                invalid("簽章驗證失敗（可能遭偽造）", "the signature does not verify (forged?)")
            }
            ErrorKind::InvalidIssuer => invalid("簽發者不是本人事服務網", "its issuer is not this portal"),
            _ => invalid("內容格式錯誤", "its claims are malformed"),
        })?
        .claims;
    let now = p.now();
    let now_ms = millis(now);
    let expired = || {
        Error::with(
            ErrorCode::SsoAssertionExpired,
            format!("有效期限 {} 秒", ASSERTION_TTL.whole_seconds()),
            format!("it was valid for {} seconds", ASSERTION_TTL.whole_seconds()),
        )
    };
    if now.unix_timestamp() >= claims.exp {
        return Err(expired());
    }
    let outcome = p.store.write(|tx| {
        if site::redeem_assertion(tx, &claims.jti, &claims.aud, now_ms)? {
            let a = site::assertion(tx, &claims.jti)?
                .ok_or_else(|| crate::store::corrupt("a redeemed assertion vanished"))?;
            let person = employees::by_id(tx, a.employee_id)?
                .ok_or_else(|| crate::store::corrupt("an assertion names no employee"))?;
            audit::record(
                tx,
                now_ms,
                None,
                "sso.redeem",
                Some(a.employee_id),
                Some(&claims.aud),
                Some(&claims.jti),
            )?;
            return Ok(Redeemed::Now {
                serving: person.is_current(),
                name: person.name,
            });
        }
        match site::assertion(tx, &claims.jti)? {
            // Signed by this portal, yet not recorded: its record was purged after it expired.
            None => Ok(Redeemed::Expired),
            Some(a) if a.redeemed_at.is_some() => {
                audit::record(
                    tx,
                    now_ms,
                    None,
                    "sso.replay",
                    Some(a.employee_id),
                    Some(&claims.aud),
                    Some(&claims.jti),
                )?;
                Ok(Redeemed::Again)
            }
            Some(_) => Ok(Redeemed::Expired),
        }
    })?;
    let name = match outcome {
        Redeemed::Now { name, serving: true } => name,
        // The person left office between the opening and the redemption: no one to hand over.
        Redeemed::Now { serving: false, .. } => return Err(Error::new(ErrorCode::AccountDisabled)),
        Redeemed::Again => return Err(Error::new(ErrorCode::SsoAssertionReplayed)),
        Redeemed::Expired => return Err(expired()),
    };
    let at = |secs: i64| {
        OffsetDateTime::from_unix_timestamp(secs)
            .map(RocDateTime::from)
            .map_err(|_| invalid("時間超出範圍", "a time is out of range"))
    };
    Ok(SsoIdentity {
        sub: claims.sub,
        aud: claims.aud,
        auth_level: claims.auth_level,
        name,
        issued_at: at(claims.iat)?,
        expires_at: at(claims.exp)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_application_address_is_https_or_loopback_http() {
        for ok in [
            "https://b5a.example.gov.tw/sso",
            "https://webhr.example.gov.tw:8443/login?from=ecpa",
            "http://127.0.0.1:9000/sso",
            "http://localhost/sso",
            "http://[::1]:8080/",
            "https://[2001:db8::1]/x",
        ] {
            check_application_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://b5a.example.gov.tw/sso",
            "http://10.0.0.5/sso",
            "http://127.0.0.1.example.com/sso",
            "ftp://x/y",
            "b5a.example.gov.tw",
            "https://",
            "https://user:pw@host/",
            "https://host:0/",
            "https://host:99999/",
            "https://host/a b",
            "https://host/#frag",
            "https://[::1/",
        ] {
            let e = check_application_url(bad).expect_err(bad);
            assert_eq!(e.code(), ErrorCode::ConfigInvalid, "{bad}");
        }
    }

    #[test]
    fn a_link_checks_its_code_and_names() {
        assert!(ApplicationLink::new("B5A", "https://b5a.example.gov.tw/").is_ok());
        assert!(ApplicationLink::new("B5 A", "https://b5a.example.gov.tw/").is_err());
        assert!(ApplicationLink::new("", "https://b5a.example.gov.tw/").is_err());
        let mut l = ApplicationLink::new("WebHR", "https://webhr.example.gov.tw/").unwrap();
        l.name_zh = Some(String::new());
        assert!(l.check().is_err());
    }

    #[test]
    fn an_assertion_is_never_printed() {
        let a = SsoAssertion {
            url: "https://x/".into(),
            token: "eyJ.secret.part".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH.into(),
        };
        assert!(!format!("{a:?}").contains("secret"));
    }
}
