//! The request bodies of the HTTP API, shared by the server and [`RemotePortal`](super::RemotePortal).
//!
//! The engine's input types keep personal identifiers and secrets out of serde on purpose (a
//! full national ID or a password must never slip into a log through `Serialize`). Here they
//! cross the wire explicitly: every field is plain JSON (strings, numbers), and each conversion
//! to an engine type goes through that type's own validating constructor, so a bad ID or date
//! comes back with its own stable code (`E1002 national_id_checksum`, `E1010 date_invalid`)
//! rather than as a generic JSON error. Every body refuses unknown fields.
//!
//! Responses need nothing of the kind: the engine's output types already show IDs masked and
//! derive serde.

use std::borrow::Cow;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::portal::{
    AuditQuery, AwardKind, CertificateResponse, CorrectionDecision, LoginSignature, NewAwardOrder, PageRequest,
    ProofingCategory, ProofingQuery, RegistrationDetails, RegistrationForm, ResetDelivery, SessionInfo,
};
use crate::types::{
    AgencyCode, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, NationalId, NhiCardData, Password,
    PersonName, RocDate, Sex,
};

/// A password as it crosses the wire: the plain string in JSON, a zeroizing buffer in memory,
/// `***` in `Debug` (a logged request body shows no password).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WireSecret(zeroize::Zeroizing<String>);

impl WireSecret {
    /// The secret itself, for the engine's own checked type.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for WireSecret {
    fn from(s: &str) -> Self {
        WireSecret(zeroize::Zeroizing::new(s.to_owned()))
    }
}

impl std::fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for WireSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WireSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| WireSecret(zeroize::Zeroizing::new(s)))
    }
}

/// The OpenAPI schema of a password: a string the document marks as write-only.
impl schemars::JsonSchema for WireSecret {
    fn schema_name() -> Cow<'static, str> {
        "Password".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "password",
            "writeOnly": true,
            "minLength": 6,
            "maxLength": 12,
            "pattern": "^[!#-&(-;=?-~]{6,12}$",
            "description": "a password: 6 to 12 ASCII letters, digits and keyboard symbols, without a space, <, >, ' or \""
        })
    }
}

/// A national ID as it crosses the wire: the full ID in JSON (the engine needs it), masked in
/// `Debug` (`A12345****`), so a logged request body shows no one's ID.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireId(pub String);

impl WireId {
    /// The ID as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The OpenAPI schema of a national ID sent in full: the letter, the sex or kind digit and
/// eight digits (the check digit is checked by the server, `E1002`).
impl schemars::JsonSchema for WireId {
    fn schema_name() -> Cow<'static, str> {
        "NationalId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z][1289A-Da-d][0-9]{8}$",
            "description": "身分證統一編號或居留證號, in full: national ID (second character 1 or 2) or resident certificate number (8 or 9; A to D for the old form)",
            "examples": ["A123456789"]
        })
    }
}

impl std::fmt::Debug for WireId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match NationalId::parse(&self.0) {
            Ok(id) => write!(f, "{:?}", id.masked()),
            Err(_) => f.write_str("\"(not an ID)\""),
        }
    }
}

/// A date as JSON carries it: ISO `2019-04-03`, or any ROC form (`108/04/03`, `1080403`).
pub fn parse_date(s: &str) -> Result<RocDate> {
    if s.contains('-') {
        RocDate::parse_iso(s)
    } else {
        RocDate::parse(s)
    }
}

fn opt_date(s: &Option<String>) -> Result<Option<RocDate>> {
    s.as_deref().map(parse_date).transpose()
}

/// The schema of a day as [`parse_date`] reads it.
fn date_text(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2,3}/[0-9]{1,2}/[0-9]{1,2}|[0-9]{6,7})$",
        "description": "a day: ISO 2019-04-03, or ROC 108/04/03 or 1080403",
        "examples": ["2019-04-03", "108/04/03", "1080403"]
    })
}

/// [`date_text`], or `null` for "not given".
fn optional_date_text(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = date_text(generator);
    schema.insert("type".into(), serde_json::json!(["string", "null"]));
    schema
}

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

fn unb64(field: &'static str, s: &str) -> Result<Vec<u8>> {
    Base64::decode_vec(s.trim()).map_err(|_| {
        Error::with(
            ErrorCode::RequestInvalid,
            format!("{field} 應為 Base64 編碼"),
            format!("{field} must be Base64"),
        )
    })
}

/// The NHI card's basic data (健保卡基本資料) as read from the card.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardWire {
    /// 卡號, twelve digits.
    #[schemars(regex(pattern = r"^[0-9]{12}$"), example = &"000012345678")]
    pub card_number: String,
    /// 姓名 as text.
    #[schemars(length(min = 1, max = 20), example = &"王小明")]
    pub name: String,
    /// 姓名 as the card's Big5 bytes (hex), when read from a card: keeps rare characters exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9A-Fa-f]{2}){1,20}$"))]
    pub name_big5: Option<String>,
    /// 身分證號或居留證號, in full.
    pub national_id: WireId,
    /// 出生日期.
    #[schemars(schema_with = "date_text")]
    pub birth_date: String,
    /// 性別.
    pub sex: Sex,
    /// 發卡日期.
    #[schemars(schema_with = "date_text")]
    pub issue_date: String,
}

impl From<&NhiCardData> for CardWire {
    fn from(c: &NhiCardData) -> Self {
        CardWire {
            card_number: c.card_number.as_str().to_owned(),
            name: c.name.text.clone(),
            name_big5: Some(hex::encode(&c.name.raw)),
            national_id: WireId(c.national_id.reveal().to_owned()),
            birth_date: c.birth_date.to_iso(),
            sex: c.sex,
            issue_date: c.issue_date.to_iso(),
        }
    }
}

impl CardWire {
    /// The engine's card data, each field validated.
    pub fn to_card(&self) -> Result<NhiCardData> {
        let mut name = PersonName::new(&self.name)?;
        if let Some(raw) = &self.name_big5 {
            let raw = hex::decode(raw.trim()).map_err(|_| {
                Error::with(
                    ErrorCode::CardDataInvalid,
                    "name_big5 應為十六進位",
                    "name_big5 must be hexadecimal",
                )
            })?;
            if raw.is_empty() || raw.len() > 20 {
                return Err(Error::with(
                    ErrorCode::CardDataInvalid,
                    "姓名欄位應為 1 至 20 位元組",
                    "the card's name field holds 1 to 20 bytes",
                ));
            }
            name.lossy = name.lossy || PersonName::from_big5(&raw).text != name.text;
            name.raw = raw;
        }
        Ok(NhiCardData {
            card_number: crate::types::CardNumber::parse(&self.card_number)?,
            name,
            national_id: NationalId::parse(self.national_id.as_str())?,
            birth_date: parse_date(&self.birth_date)?,
            sex: self.sex,
            issue_date: parse_date(&self.issue_date)?,
        })
    }
}

/// A household registration address (戶籍地址) by division codes.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressWire {
    /// 縣市, by its five-digit code.
    #[schemars(regex(pattern = r"^[0-9]{5}$"), example = &"63000")]
    pub county: String,
    /// 鄉鎮市區, by its eight-digit code.
    #[schemars(regex(pattern = r"^[0-9]{8}$"), example = &"63000010")]
    pub township: String,
    /// 村里, by its eleven-digit code.
    #[schemars(regex(pattern = r"^[0-9]{11}$"), example = &"63000010001")]
    pub village: String,
    /// 鄰.
    #[schemars(range(min = 1, max = 999))]
    pub neighbourhood: u16,
}

impl From<&HouseholdAddress> for AddressWire {
    fn from(a: &HouseholdAddress) -> Self {
        AddressWire {
            county: a.county.as_str().to_owned(),
            township: a.township.as_str().to_owned(),
            village: a.village.as_str().to_owned(),
            neighbourhood: a.neighbourhood,
        }
    }
}

impl AddressWire {
    /// The engine's address, each code checked.
    pub fn to_address(&self) -> Result<HouseholdAddress> {
        HouseholdAddress::new(&self.county, &self.township, &self.village, self.neighbourhood)
    }
}

/// `POST /registration`: the NHI card online registration form.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationWire {
    /// The card.
    pub card: CardWire,
    /// 戶號: a letter and seven digits.
    #[schemars(regex(pattern = r"^[A-Za-z][0-9]{7}$"), example = &"F1234567")]
    pub household_number: String,
    /// 戶籍地址.
    pub address: AddressWire,
    /// 密碼.
    pub password: WireSecret,
    /// 確認密碼.
    pub confirmation: WireSecret,
    /// 電話 (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// 行動電話 (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// 主要電子郵件.
    #[schemars(email)]
    pub email: String,
    /// 備用電子郵件.
    #[serde(default)]
    #[schemars(email)]
    pub spare_email: Option<String>,
    /// The version of the registration terms accepted before the form (`GET
    /// /api/v1/registrations/terms`).
    #[schemars(example = &"107-08-15")]
    pub terms_version: String,
}

impl From<&RegistrationForm> for RegistrationWire {
    fn from(f: &RegistrationForm) -> Self {
        RegistrationWire {
            card: CardWire::from(&f.card),
            household_number: f.household_number.as_str().to_owned(),
            address: AddressWire::from(&f.address),
            password: f.password.expose().into(),
            confirmation: f.confirmation.expose().into(),
            phone: f.phone.clone(),
            mobile: f.mobile.clone(),
            email: f.email.as_str().to_owned(),
            spare_email: f.spare_email.as_ref().map(|e| e.as_str().to_owned()),
            terms_version: f.terms_version.clone(),
        }
    }
}

impl RegistrationWire {
    /// The engine's form.
    pub fn to_form(&self) -> Result<RegistrationForm> {
        Ok(RegistrationForm {
            card: self.card.to_card()?,
            household_number: HouseholdNumber::parse(&self.household_number)?,
            address: self.address.to_address()?,
            password: Password::new(self.password.expose())?,
            confirmation: Password::new(self.confirmation.expose())?,
            phone: self.phone.clone(),
            mobile: self.mobile.clone(),
            email: Email::parse(&self.email)?,
            spare_email: self.spare_email.as_deref().map(Email::parse).transpose()?,
            terms_version: self.terms_version.clone(),
        })
    }
}

/// A body with only the card: resending the confirmation mail.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardOnly {
    /// The card.
    pub card: CardWire,
}

/// A link's token with the card that must be inserted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardToken {
    /// The card.
    pub card: CardWire,
    /// The token from the mailed link.
    pub token: String,
}

/// Where a password-reset link goes.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "to", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResetDeliveryWire {
    /// The registered address.
    RegisteredAddress,
    /// A new address, proved by the household data.
    NewAddress {
        /// The new address.
        #[schemars(email)]
        email: String,
        /// 戶籍鄉鎮里鄰.
        address: AddressWire,
        /// 行動電話 (optional), taken with the address when the reset is done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mobile: Option<String>,
        /// 戶號 (optional: the form does not ask it; checked when given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(regex(pattern = r"^[A-Za-z][0-9]{7}$"))]
        household_number: Option<String>,
    },
}

/// `POST /password-reset`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestWire {
    /// The card.
    pub card: CardWire,
    /// Where the link goes.
    pub delivery: ResetDeliveryWire,
}

impl ResetRequestWire {
    /// From the engine's arguments.
    pub fn new(card: &NhiCardData, delivery: &ResetDelivery) -> Self {
        let delivery = match delivery {
            ResetDelivery::RegisteredAddress => ResetDeliveryWire::RegisteredAddress,
            ResetDelivery::NewAddress {
                email,
                address,
                mobile,
                household_number,
            } => ResetDeliveryWire::NewAddress {
                email: email.as_str().to_owned(),
                address: AddressWire::from(address),
                mobile: mobile.clone(),
                household_number: household_number.as_ref().map(|n| n.as_str().to_owned()),
            },
        };
        ResetRequestWire {
            card: CardWire::from(card),
            delivery,
        }
    }

    /// The engine's delivery.
    pub fn to_delivery(&self) -> Result<ResetDelivery> {
        Ok(match &self.delivery {
            ResetDeliveryWire::RegisteredAddress => ResetDelivery::RegisteredAddress,
            ResetDeliveryWire::NewAddress {
                email,
                address,
                mobile,
                household_number,
            } => ResetDelivery::NewAddress {
                email: Email::parse(email)?,
                address: address.to_address()?,
                mobile: mobile.clone(),
                household_number: household_number.as_deref().map(HouseholdNumber::parse).transpose()?,
            },
        })
    }
}

/// `POST /password-reset/complete`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetCompleteWire {
    /// The card.
    pub card: CardWire,
    /// The token from the mailed link.
    pub token: String,
    /// The new password.
    pub new_password: WireSecret,
    /// The new password again (再次確認註冊密碼).
    pub confirmation: WireSecret,
}

/// `POST /registrations/password`: 註冊密碼變更.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeWire {
    /// The card.
    pub card: CardWire,
    /// The registration password now.
    pub old_password: WireSecret,
    /// The new password.
    pub new_password: WireSecret,
    /// The new password again.
    pub confirmation: WireSecret,
}

/// `POST /registrations/details`: 基本資料異動.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsWire {
    /// The card.
    pub card: CardWire,
    /// The registration password.
    pub password: WireSecret,
    /// 電話 (optional: absent or blank clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// 行動電話 (optional: absent or blank clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// E-Mail: the same as now, or a new one to confirm.
    #[schemars(email)]
    pub email: String,
}

impl DetailsWire {
    /// The engine's details.
    pub fn to_details(&self) -> Result<RegistrationDetails> {
        Ok(RegistrationDetails {
            phone: self.phone.clone(),
            mobile: self.mobile.clone(),
            email: Email::parse(&self.email)?,
        })
    }
}

/// `POST /account-recoveries/complete`: a recovery link's token and the new password twice.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRecoveryWire {
    /// The token from the mailed link.
    pub token: String,
    /// The new password.
    pub new_password: WireSecret,
    /// The new password again.
    pub confirmation: WireSecret,
}

/// `POST /agency/nhi-registrations/stop` and `POST /agency/certificate-bindings/remove`: the
/// person, by national ID (in the body, never in a path a log could keep).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonWire {
    /// The person's national ID.
    pub national_id: WireId,
}

impl PersonWire {
    /// The body naming a person, as the client sends it.
    pub fn of(national_id: &NationalId) -> Self {
        PersonWire {
            national_id: WireId(national_id.reveal().to_owned()),
        }
    }

    /// The ID, checked.
    pub fn to_id(&self) -> Result<NationalId> {
        NationalId::parse(self.national_id.as_str())
    }
}

/// `POST /login/nhi-card`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NhiLoginWire {
    /// The card.
    pub card: CardWire,
    /// The registered password.
    pub password: WireSecret,
    /// The card's answer to the page's random (`H_Sign`), when the page has one: checked by the
    /// portal's NHI-card verifier, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possession: Option<crate::portal::CardPossession>,
}

/// `POST /login/account` and `PUT /account`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountWire {
    /// The eCPA account name.
    pub account: String,
    /// Its password.
    pub password: WireSecret,
}

/// How a certificate login's signature is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// Raw PKCS#1 v1.5 over SHA-256.
    RawPkcs1,
    /// CMS SignedData.
    Cms,
    /// Origin-bound (`ecpa-origin:1`, from `ecpa agent`): raw PKCS#1 v1.5 over SHA-256 of
    /// SHA-256(origin) ‖ SHA-256(`to_sign`); `origin` names the origin signed.
    OriginBound,
}

/// `POST /login/certificate`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateLoginWire {
    /// The challenge's id.
    pub challenge_id: String,
    /// The signing certificate, DER in Base64 (or PEM text in Base64).
    #[schemars(extend("contentEncoding" = "base64"))]
    pub certificate: String,
    /// How the signature is packed.
    pub signature_kind: SignatureKind,
    /// The signature, Base64: of the challenge's `to_sign` bytes.
    #[schemars(extend("contentEncoding" = "base64"))]
    pub signature: String,
    /// For `origin_bound`: the origin the card signed (`https://host[:port]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// First login only: the eCPA account name or national ID.
    #[serde(default)]
    pub identify: Option<String>,
}

impl From<&CertificateResponse> for CertificateLoginWire {
    fn from(r: &CertificateResponse) -> Self {
        let (signature_kind, sig, origin) = match &r.signature {
            LoginSignature::RawPkcs1(s) => (SignatureKind::RawPkcs1, s, None),
            LoginSignature::Cms(s) => (SignatureKind::Cms, s, None),
            LoginSignature::OriginBound { origin, signature } => {
                (SignatureKind::OriginBound, signature, Some(origin.clone()))
            }
        };
        CertificateLoginWire {
            challenge_id: r.challenge_id.clone(),
            certificate: b64(&r.certificate),
            signature_kind,
            signature: b64(sig),
            origin,
            identify: r.identify.clone(),
        }
    }
}

impl CertificateLoginWire {
    /// The engine's response.
    pub fn to_response(&self) -> Result<CertificateResponse> {
        let sig = unb64("signature", &self.signature)?;
        Ok(CertificateResponse {
            challenge_id: self.challenge_id.clone(),
            certificate: unb64("certificate", &self.certificate)?,
            signature: match (self.signature_kind, &self.origin) {
                (SignatureKind::RawPkcs1, None) => LoginSignature::RawPkcs1(sig),
                (SignatureKind::Cms, None) => LoginSignature::Cms(sig),
                (SignatureKind::OriginBound, Some(origin)) => LoginSignature::OriginBound {
                    origin: origin.clone(),
                    signature: sig,
                },
                _ => {
                    return Err(Error::with(
                        ErrorCode::RequestInvalid,
                        "origin 僅用於 origin_bound 簽章，且為其必填",
                        "origin goes with signature_kind origin_bound, and only with it",
                    ));
                }
            },
            identify: self.identify.clone(),
        })
    }
}

/// A successful login: the bearer token, the CSRF token for cookie use, and who logged in.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionWire {
    /// The bearer token (also set as the `ecpa_session` cookie).
    pub token: String,
    /// The CSRF token a cookie-session client sends back in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Who logged in, and how.
    pub info: SessionInfo,
}

/// `POST /my-applications`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCode {
    /// The application's code, e.g. `B5`.
    pub code: String,
}

/// `POST /api/v1/sso/redeem`: what an application posts to redeem the assertion it was sent.
#[derive(Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoRedeemWire {
    /// The assertion, as the browser posted it (the form field `assertion`).
    pub token: String,
    /// The redeeming application's own code (e.g. `B5A`): an assertion for another is refused.
    pub audience: String,
}

impl std::fmt::Debug for SsoRedeemWire {
    /// The assertion is a bearer credential until redeemed: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoRedeemWire")
            .field("token", &"***")
            .field("audience", &self.audience)
            .finish()
    }
}

/// `POST /consent`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentWire {
    /// The version of the text agreed to.
    pub version: String,
}

/// One award order to issue.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardOrderWire {
    /// The person's national ID, in full.
    pub national_id: WireId,
    /// 核定機關.
    pub approving_agency: String,
    /// 核定日期.
    #[schemars(schema_with = "date_text")]
    pub approved_on: String,
    /// 發文字號.
    #[schemars(length(min = 1, max = 60), example = &"府人考字第1080097494號")]
    pub document_number: String,
    /// 事由.
    pub reason: String,
    /// 法令依據.
    pub legal_basis: String,
    /// 獎懲種類.
    pub kind: AwardKind,
    /// 次數.
    pub count: u8,
    /// 專案 (not offset against punishments).
    #[serde(default)]
    pub special: bool,
    /// 考績年度, as a ROC year (113 for 2024).
    #[schemars(range(min = 1, max = 999), example = 113)]
    pub rating_year: i32,
}

impl From<&NewAwardOrder> for AwardOrderWire {
    fn from(o: &NewAwardOrder) -> Self {
        AwardOrderWire {
            national_id: WireId(o.national_id.reveal().to_owned()),
            approving_agency: o.approving_agency.clone(),
            approved_on: o.approved_on.to_iso(),
            document_number: o.document_number.as_str().to_owned(),
            reason: o.reason.clone(),
            legal_basis: o.legal_basis.clone(),
            kind: o.kind,
            count: o.count,
            special: o.special,
            rating_year: o.rating_year,
        }
    }
}

impl AwardOrderWire {
    /// The engine's order.
    pub fn to_order(&self) -> Result<NewAwardOrder> {
        Ok(NewAwardOrder {
            national_id: NationalId::parse(self.national_id.as_str())?,
            approving_agency: self.approving_agency.clone(),
            approved_on: parse_date(&self.approved_on)?,
            document_number: DocumentNumber::parse(&self.document_number)?,
            reason: self.reason.clone(),
            legal_basis: self.legal_basis.clone(),
            kind: self.kind,
            count: self.count,
            special: self.special,
            rating_year: self.rating_year,
        })
    }
}

/// `POST /award-orders/bulk`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkWire {
    /// The orders, all issued or none.
    pub orders: Vec<AwardOrderWire>,
}

impl BulkWire {
    /// The engine's orders; an invalid one is named by its position (from 1).
    pub fn to_orders(&self) -> Result<Vec<NewAwardOrder>> {
        self.orders
            .iter()
            .enumerate()
            .map(|(i, o)| {
                o.to_order().map_err(|e| {
                    let n = i + 1;
                    Error::with(
                        e.code(),
                        format!("第 {n} 筆：{}", e.message(crate::types::Lang::ZhTw)),
                        format!("order {n}: {}", e.message(crate::types::Lang::En)),
                    )
                })
            })
            .collect()
    }
}

/// `PUT /proofing/corrections`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageWire {
    /// The category.
    pub category: ProofingCategory,
    /// The field's key.
    pub field: String,
    /// 修改後.
    pub new_value: String,
}

/// `POST /proofing/query`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofingQueryWire {
    /// 機關代碼.
    #[serde(default)]
    pub agency: Option<String>,
    /// 單位名稱.
    #[serde(default)]
    pub unit: Option<String>,
    /// 校對日期起.
    #[serde(default)]
    #[schemars(schema_with = "optional_date_text")]
    pub from: Option<String>,
    /// 校對日期迄.
    #[serde(default)]
    #[schemars(schema_with = "optional_date_text")]
    pub to: Option<String>,
    /// 已校對 / 未校對.
    #[serde(default)]
    pub proofed: Option<bool>,
    /// 已處理 / 未處理.
    #[serde(default)]
    pub processed: Option<bool>,
    /// The page, from 1 (default 1).
    #[serde(default = "first_page")]
    #[schemars(range(min = 1))]
    pub page: u32,
    /// Rows a page holds, 1 to 100 (default 100).
    #[serde(default = "full_page")]
    #[schemars(range(min = 1, max = 100))]
    pub per_page: u32,
}

fn first_page() -> u32 {
    1
}

fn full_page() -> u32 {
    crate::portal::MAX_PER_PAGE
}

impl From<&ProofingQuery> for ProofingQueryWire {
    fn from(q: &ProofingQuery) -> Self {
        ProofingQueryWire {
            agency: q.agency.as_ref().map(|a| a.as_str().to_owned()),
            unit: q.unit.clone(),
            from: q.from.map(RocDate::to_iso),
            to: q.to.map(RocDate::to_iso),
            proofed: q.proofed,
            processed: q.processed,
            page: q.page.page,
            per_page: q.page.per_page,
        }
    }
}

impl ProofingQueryWire {
    /// The engine's query.
    pub fn to_query(&self) -> Result<ProofingQuery> {
        Ok(ProofingQuery {
            agency: self.agency.as_deref().map(AgencyCode::parse).transpose()?,
            unit: self.unit.clone(),
            from: opt_date(&self.from)?,
            to: opt_date(&self.to)?,
            proofed: self.proofed,
            processed: self.processed,
            page: PageRequest::new(self.page, self.per_page)?,
        })
    }
}

/// `POST /proofing/corrections/{id}/process`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum DecisionWire {
    /// Approve and apply.
    Approve,
    /// Reject, with the reason shown to the person.
    Reject {
        /// 退回理由.
        reason: String,
    },
}

impl From<&CorrectionDecision> for DecisionWire {
    fn from(d: &CorrectionDecision) -> Self {
        match d {
            CorrectionDecision::Approve => DecisionWire::Approve,
            CorrectionDecision::Reject { reason } => DecisionWire::Reject { reason: reason.clone() },
        }
    }
}

impl DecisionWire {
    /// The engine's decision.
    pub fn to_decision(&self) -> CorrectionDecision {
        match self {
            DecisionWire::Approve => CorrectionDecision::Approve,
            DecisionWire::Reject { reason } => CorrectionDecision::Reject { reason: reason.clone() },
        }
    }
}

/// `POST /audit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQueryWire {
    /// From this day.
    #[serde(default)]
    #[schemars(schema_with = "optional_date_text")]
    pub from: Option<String>,
    /// To this day.
    #[serde(default)]
    #[schemars(schema_with = "optional_date_text")]
    pub to: Option<String>,
    /// Only this action.
    #[serde(default)]
    pub action: Option<String>,
    /// At most this many.
    #[serde(default)]
    pub limit: Option<u32>,
}

impl From<&AuditQuery> for AuditQueryWire {
    fn from(q: &AuditQuery) -> Self {
        AuditQueryWire {
            from: q.from.map(RocDate::to_iso),
            to: q.to.map(RocDate::to_iso),
            action: q.action.clone(),
            limit: q.limit,
        }
    }
}

impl AuditQueryWire {
    /// The engine's query.
    pub fn to_query(&self) -> Result<AuditQuery> {
        Ok(AuditQuery {
            from: opt_date(&self.from)?,
            to: opt_date(&self.to)?,
            action: self.action.clone(),
            limit: self.limit,
        })
    }
}

/// The typed error body every failure answers with: the crate's stable code and name, the
/// messages in both languages, and the fields a caller acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorBody {
    /// The stable number, e.g. 5002.
    pub code: u32,
    /// The stable name, e.g. `registration_password_wrong`.
    pub name: String,
    /// The full message in Traditional Chinese.
    pub message_zh: String,
    /// The full message in English.
    pub message_en: String,
    /// The particulars of a generic failure, Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_zh: Option<String>,
    /// The particulars of a generic failure, English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_en: Option<String>,
    /// Tries left (wrong registration password, wrong PIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
    /// When a lockout ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<crate::types::RocDateTime>,
    /// Seconds until the lockout ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<u64>,
    /// Start of a maintenance window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::types::RocDateTime>,
    /// End of a maintenance window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<crate::types::RocDateTime>,
    /// Why a maintenance window was announced, as the operator wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every bad line of a CSV file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineWire>>,
    /// The assurance level an application needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<crate::types::AssuranceLevel>,
    /// The assurance level of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<crate::types::AssuranceLevel>,
    /// The backend's own error, for storage failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Seconds to wait before trying again (rate limits, lockouts, maintenance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// One bad line of a CSV file, in an [`ErrorBody`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LineWire {
    /// The line number.
    pub line: u64,
    /// The stable number of the line's failure.
    pub code: u32,
    /// What is wrong, Chinese.
    pub message_zh: String,
    /// What is wrong, English.
    pub message_en: String,
}

impl ErrorBody {
    /// The body of an engine error. A storage error says what failed, not the database's own
    /// words (table names, SQL, the file's path): those are for the server's log.
    pub fn of(e: &Error) -> Self {
        use crate::types::Lang;
        let code = e.code();
        let message = |lang| match e {
            Error::Storage { .. } => code.message(lang).to_owned(),
            _ => e.message(lang),
        };
        let mut body = ErrorBody {
            code: code.number(),
            name: code.name().to_owned(),
            message_zh: message(Lang::ZhTw),
            message_en: message(Lang::En),
            ..ErrorBody::default()
        };
        if let Some(d) = e.detail() {
            body.detail_zh = Some(d.zh.to_string());
            body.detail_en = Some(d.en.to_string());
        }
        match e {
            Error::RegistrationPasswordWrong { tries_left } => body.tries_left = Some(*tries_left),
            Error::PinIncorrect { tries_left } => body.tries_left = *tries_left,
            Error::LoginLocked { until, seconds_left } => {
                body.until = Some((*until).into());
                body.seconds_left = Some(*seconds_left);
            }
            Error::RegistrationMaintenance { from, to, reason } => {
                body.from = Some((*from).into());
                body.to = Some((*to).into());
                body.reason = reason.clone();
            }
            Error::CsvLines { lines } => {
                body.lines = Some(
                    lines
                        .iter()
                        .map(|l| LineWire {
                            line: l.line,
                            code: l.code.number(),
                            message_zh: l.message.zh.to_string(),
                            message_en: l.message.en.to_string(),
                        })
                        .collect(),
                );
            }
            Error::AssuranceTooLow { required, actual } => {
                body.required = Some(*required);
                body.actual = Some(*actual);
            }
            Error::Storage { source, .. } => body.source = Some(source.to_string()),
            _ => {}
        }
        body
    }

    /// The engine error this body describes: the same variant, code and fields as on the
    /// server. A code this build does not know becomes [`ErrorCode::HttpBadResponse`].
    pub fn to_error(&self) -> Error {
        let Some(code) = ErrorCode::from_number(self.code) else {
            return Error::with(
                ErrorCode::HttpBadResponse,
                format!("未知的錯誤代碼 E{} {}：{}", self.code, self.name, self.message_zh),
                format!("unknown error code E{} {}: {}", self.code, self.name, self.message_en),
            );
        };
        let missing = || {
            Error::with(
                ErrorCode::HttpBadResponse,
                format!("E{} 回應缺少欄位", self.code),
                format!("E{} answer lacks its fields", self.code),
            )
        };
        if let Some(source) = &self.source {
            return Error::storage(code, std::io::Error::other(source.clone()));
        }
        match code {
            ErrorCode::RegistrationPasswordWrong => match self.tries_left {
                Some(tries_left) => Error::RegistrationPasswordWrong { tries_left },
                None => missing(),
            },
            ErrorCode::PinIncorrect => Error::PinIncorrect {
                tries_left: self.tries_left,
            },
            ErrorCode::LoginLocked => match (self.until, self.seconds_left) {
                (Some(until), Some(seconds_left)) => Error::LoginLocked {
                    until: until.offset_date_time(),
                    seconds_left,
                },
                _ => missing(),
            },
            ErrorCode::RegistrationMaintenance => match (self.from, self.to) {
                (Some(from), Some(to)) => Error::RegistrationMaintenance {
                    from: from.offset_date_time(),
                    to: to.offset_date_time(),
                    reason: self.reason.clone(),
                },
                _ => missing(),
            },
            ErrorCode::CsvInvalid if self.lines.is_some() => Error::CsvLines {
                lines: self
                    .lines
                    .iter()
                    .flatten()
                    .map(|l| crate::error::LineError {
                        line: l.line,
                        code: ErrorCode::from_number(l.code).unwrap_or(ErrorCode::CsvInvalid),
                        message: crate::error::Text::new(
                            Cow::Owned(l.message_zh.clone()),
                            Cow::Owned(l.message_en.clone()),
                        ),
                    })
                    .collect(),
            },
            ErrorCode::AssuranceTooLow => match (self.required, self.actual) {
                (Some(required), Some(actual)) => Error::AssuranceTooLow { required, actual },
                _ => missing(),
            },
            _ => match (&self.detail_zh, &self.detail_en) {
                (Some(zh), Some(en)) => Error::Failed {
                    code,
                    detail: Some(crate::error::Text::new(Cow::Owned(zh.clone()), Cow::Owned(en.clone()))),
                },
                // A message in other words than the code's own (a configured particular).
                _ if self.message_zh != code.message(crate::types::Lang::ZhTw) => Error::Worded {
                    code,
                    message: crate::error::Text::new(
                        Cow::Owned(self.message_zh.clone()),
                        Cow::Owned(self.message_en.clone()),
                    ),
                },
                _ => Error::new(code),
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::{LineError, Text};
    use crate::types::Lang;

    #[test]
    fn a_storage_error_body_carries_no_database_text() {
        let e = Error::storage(
            ErrorCode::StorageFailure,
            "UNIQUE constraint failed: employees.national_id in /var/lib/ecpa/ecpa.db",
        );
        assert!(
            e.message(Lang::En).contains("employees.national_id"),
            "the log keeps it"
        );
        let body = ErrorBody::of(&e);
        assert_eq!(body.name, "storage_failure");
        for m in [&body.message_zh, &body.message_en] {
            assert!(
                !m.contains("employees") && !m.contains("/var/lib") && !m.is_empty(),
                "{m}"
            );
        }
    }

    #[test]
    fn bodies_print_no_password_and_no_full_id() {
        let body: NhiLoginWire = serde_json::from_value(serde_json::json!({
            "card": {
                "card_number": "000011112222", "name": "王小明", "national_id": "A123456789",
                "birth_date": "075/03/15", "sex": "male", "issue_date": "110/06/01"
            },
            "password": "Ecpa#2026ok"
        }))
        .unwrap();
        let printed = format!("{body:?}");
        assert!(
            !printed.contains("Ecpa#2026ok") && !printed.contains("A123456789"),
            "{printed}"
        );
        assert!(printed.contains("A12345****"), "{printed}");
        // The JSON still carries both, for the engine.
        let json = serde_json::to_string(&body).unwrap();
        assert!(json.contains("Ecpa#2026ok") && json.contains("A123456789"));
        assert_eq!(body.password.expose(), "Ecpa#2026ok");
    }

    #[test]
    fn every_bad_line_and_a_maintenance_reason_cross_the_wire() {
        let lines = Error::CsvLines {
            lines: (2..30)
                .map(|line| LineError {
                    line,
                    code: ErrorCode::NationalIdChecksum,
                    message: Text::new("檢查碼錯誤", "bad check digit"),
                })
                .collect(),
        };
        let body: ErrorBody = serde_json::from_str(&serde_json::to_string(&ErrorBody::of(&lines)).unwrap()).unwrap();
        let back = body.to_error();
        assert_eq!(back.line_errors(), lines.line_errors());
        assert_eq!(back.message(Lang::En), lines.message(Lang::En));

        let from = time::macros::datetime!(2026-03-01 08:00 +8);
        let window = Error::RegistrationMaintenance {
            from,
            to: from + time::Duration::hours(4),
            reason: Some("配合戶政系統維護".into()),
        };
        let back = ErrorBody::of(&window).to_error();
        assert_eq!(back.message(Lang::ZhTw), window.message(Lang::ZhTw));
        assert!(matches!(back, Error::RegistrationMaintenance { reason: Some(r), .. } if r == "配合戶政系統維護"));
        let worded = Error::Worded {
            code: ErrorCode::AccountNotFound,
            message: crate::error::Text::new(
                "驗證失敗 查無您的帳號 …：help@example.gov.tw。",
                "… help@example.gov.tw.",
            ),
        };
        let back = ErrorBody::of(&worded).to_error();
        assert_eq!(back.code(), ErrorCode::AccountNotFound);
        assert_eq!(
            back.message(crate::types::Lang::ZhTw),
            worded.message(crate::types::Lang::ZhTw)
        );
        assert!(matches!(
            ErrorBody::of(&Error::new(ErrorCode::AccountNotFound)).to_error(),
            Error::Failed { .. }
        ));
    }
}
