//! One error type for the whole crate, with a stable numeric code per kind of failure.
//!
//! Every failure a user can meet has an [`ErrorCode`]: a number that never changes meaning (the
//! C ABI returns it, the Python exceptions carry it, the HTTP API sends it) and a snake_case name
//! for logs and scripts (`E5002 registration_password_wrong`). Codes live in ranges by area:
//!
//! | range | area |
//! |---|---|
//! | 1000–1999 | domain types (validation of IDs, dates, codes, passwords, …) |
//! | 2000–2999 | smart cards (2100–2199 PKCS#11, 2900–2949 the environment check) |
//! | 3000–3999 | PINs |
//! | 4000–4999 | PKI (certificates, CRLs, CMS) |
//! | 5000–5499 | authentication and sessions |
//! | 5500–5999 | the directory (agencies, units, employees) |
//! | 6000–6999 | NHI card online registration |
//! | 7000–7499 | consent to electronic award orders |
//! | 7500–7999 | award orders |
//! | 8000–8999 | proofing of personal data |
//! | 9000–9499 | storage |
//! | 9500–9799 | transport (mail, files, network) |
//! | 9800–9899 | the C ABI and the Python module (bindings) |
//! | 9900–9999 | internal errors (bugs) |
//!
//! Each line of the table gives a code its number, its name, the HTTP status `ecpa serve`
//! answers it with, the Python exception class it is raised as ([`ErrorClass`]) and its
//! messages. A number, once published, is never reused for another meaning: retired numbers
//! stay listed in [`RETIRED`], and `tests/error_codes.rs` pins the whole table.

use std::borrow::Cow;
use std::fmt;

use time::OffsetDateTime;

use crate::types::{AssuranceLevel, Lang, RocDateTime};

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! error_codes {
    ($( $(#[$meta:meta])* $variant:ident = $num:literal, $name:literal, $status:literal, $class:ident, $zh:literal, $en:literal; )*) => {
        /// The stable number of each kind of failure; see the module documentation for the ranges.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$meta])* $variant = $num, )*
        }

        impl ErrorCode {
            /// Every code, in ascending order: what the C header and the Python exceptions are
            /// generated from.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code's stable snake_case name, e.g. `registration_password_wrong`.
            pub fn name(self) -> &'static str {
                match self { $( ErrorCode::$variant => $name, )* }
            }

            /// The HTTP status `ecpa serve` answers this failure with.
            pub fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// The Python exception class this failure is raised as.
            pub fn class(self) -> ErrorClass {
                match self { $( ErrorCode::$variant => ErrorClass::$class, )* }
            }

            /// The general message for this code, without any detail of a particular failure.
            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::ZhTw) => $zh,
                       (ErrorCode::$variant, Lang::En) => $en, )*
                }
            }
        }
    };
}

/// The kinds of failure a caller handles alike: one Python exception class each (all
/// subclasses of `EcpaError`), one per area of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// 1000–1999.
    InvalidInput,
    /// 2000–2999.
    Card,
    /// 3000–3999.
    Pin,
    /// 4000–4999.
    Pki,
    /// 5000–5499.
    Auth,
    /// 5500–5999.
    Directory,
    /// 6000–6999.
    Registration,
    /// 7000–7499.
    Consent,
    /// 7500–7999.
    Award,
    /// 8000–8999.
    Proofing,
    /// 9000–9499.
    Storage,
    /// 9500–9799.
    Transport,
    /// 9800–9899.
    Binding,
    /// 9900–9999.
    Internal,
}

impl ErrorClass {
    /// Every class, in the order of their codes.
    pub const ALL: &'static [ErrorClass] = &[
        ErrorClass::InvalidInput,
        ErrorClass::Card,
        ErrorClass::Pin,
        ErrorClass::Pki,
        ErrorClass::Auth,
        ErrorClass::Directory,
        ErrorClass::Registration,
        ErrorClass::Consent,
        ErrorClass::Award,
        ErrorClass::Proofing,
        ErrorClass::Storage,
        ErrorClass::Transport,
        ErrorClass::Binding,
        ErrorClass::Internal,
    ];

    /// The Python class's name, e.g. `InvalidInputError`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::InvalidInput => "InvalidInputError",
            ErrorClass::Card => "CardError",
            ErrorClass::Pin => "PinError",
            ErrorClass::Pki => "PkiError",
            ErrorClass::Auth => "AuthError",
            ErrorClass::Directory => "DirectoryError",
            ErrorClass::Registration => "RegistrationError",
            ErrorClass::Consent => "ConsentError",
            ErrorClass::Award => "AwardError",
            ErrorClass::Proofing => "ProofingError",
            ErrorClass::Storage => "StorageError",
            ErrorClass::Transport => "TransportError",
            ErrorClass::Binding => "BindingError",
            ErrorClass::Internal => "InternalError",
        }
    }

    /// The Python class's docstring.
    pub fn doc(self) -> &'static str {
        match self {
            ErrorClass::InvalidInput => "Invalid input: an ID, a date, a code, a password, a CSV file (1000–1999).",
            ErrorClass::Card => "Smart cards: readers, PC/SC, the NHI card, PKCS#11 tokens (2000–2999).",
            ErrorClass::Pin => "PINs; `.tries_left` says how many tries are left when the card tells (3000–3999).",
            ErrorClass::Pki => "Certificates, paths, CRLs and CMS signatures (4000–4999).",
            ErrorClass::Auth => "Login, sessions, certificate binding and permissions (5000–5499).",
            ErrorClass::Directory => "The directory of agencies and employees (5500–5999).",
            ErrorClass::Registration => "NHI card online registration (6000–6999).",
            ErrorClass::Consent => "Consent to electronic award orders (7000–7499).",
            ErrorClass::Award => "Award orders (7500–7999).",
            ErrorClass::Proofing => "Proofing of personal data (8000–8999).",
            ErrorClass::Storage => "The database (9000–9499).",
            ErrorClass::Transport => "Mail, files and the network (9500–9799).",
            ErrorClass::Binding => "Misuse of a language binding (the C ABI, this module) (9800–9899).",
            ErrorClass::Internal => "A bug in ecpa: please report it (9900–9999).",
        }
    }
}

/// Numbers once published and then retired, with the name they had: never given to another
/// failure (`tests/error_codes.rs` checks it). None has been retired yet.
pub const RETIRED: &[(u32, &str)] = &[];

error_codes! {
    // ---- 1000–1999 domain types ----
    /// A national ID or resident certificate number is malformed.
    NationalIdInvalid = 1001, "national_id_invalid", 422, InvalidInput,
        "身分證統一編號或居留證號格式錯誤", "The national ID or resident certificate number is malformed";
    /// A national ID or resident certificate number fails its check digit.
    NationalIdChecksum = 1002, "national_id_checksum", 422, InvalidInput,
        "身分證統一編號或居留證號檢查碼錯誤", "The national ID or resident certificate number fails its check digit";
    /// A date (ROC or ISO) cannot be read or does not exist.
    DateInvalid = 1010, "date_invalid", 422, InvalidInput,
        "日期格式錯誤或日期不存在", "The date is malformed or does not exist";
    /// An agency code is malformed.
    AgencyCodeInvalid = 1020, "agency_code_invalid", 422, InvalidInput,
        "機關代碼格式錯誤", "The agency code is malformed";
    /// A document number (發文字號) is malformed.
    DocumentNumberInvalid = 1021, "document_number_invalid", 422, InvalidInput,
        "發文字號格式錯誤", "The document number is malformed";
    /// An e-mail address is malformed.
    EmailInvalid = 1030, "email_invalid", 422, InvalidInput,
        "電子郵件信箱格式錯誤", "The e-mail address is malformed";
    /// A registration password breaks the password policy.
    PasswordPolicy = 1040, "password_policy", 422, InvalidInput,
        "密碼不符合規則", "The password breaks the policy";
    /// A password and its confirmation differ.
    PasswordMismatch = 1041, "password_mismatch", 422, InvalidInput,
        "兩次輸入的密碼不一致", "The password and its confirmation differ";
    /// A household number (戶號) is malformed.
    HouseholdNumberInvalid = 1050, "household_number_invalid", 422, InvalidInput,
        "戶號格式錯誤：應為 1 個英文字母加 7 位數字", "The household number is malformed: one letter and seven digits";
    /// An administrative division code or neighbourhood number is malformed.
    AdminDivisionInvalid = 1051, "admin_division_invalid", 422, InvalidInput,
        "行政區域代碼錯誤", "The administrative division code is invalid";
    /// An NHI card number is malformed.
    CardNumberInvalid = 1060, "card_number_invalid", 422, InvalidInput,
        "健保卡號格式錯誤：應為 12 位數字", "The NHI card number is malformed: twelve digits";
    /// The NHI card's basic data record is malformed.
    CardDataInvalid = 1061, "card_data_invalid", 422, InvalidInput,
        "健保卡基本資料格式錯誤", "The NHI card's basic data is malformed";
    /// A free-text field is empty, too long or holds forbidden characters.
    FieldInvalid = 1070, "field_invalid", 422, InvalidInput,
        "欄位內容不正確", "A field is empty, too long or holds forbidden characters";
    /// A CSV file for bulk import or issuance has an error.
    CsvInvalid = 1080, "csv_invalid", 422, InvalidInput,
        "CSV 檔案內容錯誤", "The CSV file has an error";
    /// An HTTP request body is not the JSON the endpoint expects (syntax, types, unknown fields).
    RequestInvalid = 1090, "request_invalid", 400, InvalidInput,
        "請求內容格式錯誤", "The request body is not valid for this endpoint";
    /// An HTTP request body is larger than the service accepts.
    RequestTooLarge = 1091, "request_too_large", 413, InvalidInput,
        "請求內容過大", "The request body is too large";
    /// No HTTP endpoint has this path and method.
    EndpointUnknown = 1092, "endpoint_unknown", 404, InvalidInput,
        "查無此服務路徑", "There is no endpoint with this path and method";
    /// An HTTP request body is not declared as JSON (`Content-Type: application/json`).
    ContentTypeInvalid = 1093, "content_type_invalid", 415, InvalidInput,
        "請求內容類型應為 application/json", "The request body must be sent as application/json";
    /// The service configuration (file or environment) is invalid.
    ConfigInvalid = 1094, "config_invalid", 500, InvalidInput,
        "設定檔內容錯誤", "The configuration is invalid";
    /// The HTTP endpoint exists but not with this method.
    MethodNotAllowed = 1095, "method_not_allowed", 405, InvalidInput,
        "此服務路徑不支援此請求方法", "This endpoint does not accept this method";

    // ---- 2000–2099 smart cards: readers, PC/SC and APDUs ----
    /// The PC/SC service (pcscd, or Windows' Smart Card service) is not running or went away.
    PcscUnavailable = 2001, "pcsc_unavailable", 422, Card,
        "智慧卡服務（PC/SC）未執行，請啟動 pcscd 或 Smart Card 服務", "The smart card service (PC/SC) is not running: start pcscd or the Smart Card service";
    /// No card reader is connected, or none has the name asked for.
    ReaderNotFound = 2002, "reader_not_found", 422, Card,
        "找不到讀卡機，請確認讀卡機已連接", "No card reader was found: check that the reader is connected";
    /// The reader holds no card.
    CardAbsent = 2003, "card_absent", 422, Card,
        "讀卡機中沒有卡片，請插入卡片", "There is no card in the reader: insert the card";
    /// The card was removed while it was in use.
    CardRemoved = 2004, "card_removed", 422, Card,
        "卡片已被取出，請重新插入卡片後再試", "The card was removed: insert it again and retry";
    /// Another program reset the card while it was in use.
    CardReset = 2005, "card_reset", 422, Card,
        "卡片已被其他程式重置，請再試一次", "Another program reset the card: try again";
    /// The exchange with the card was cut off (the card went away or the reader failed mid-command).
    CardNotTransacted = 2006, "card_not_transacted", 422, Card,
        "與卡片的傳輸中斷，請確認卡片插妥後再試", "The exchange with the card was cut off: check the card is inserted and retry";
    /// Another program holds the reader exclusively.
    CardInUse = 2007, "card_in_use", 422, Card,
        "讀卡機正被其他程式獨占使用，請關閉該程式後再試", "Another program holds the reader exclusively: close it and retry";
    /// Waiting for a card (or for the service) took longer than allowed.
    CardTimeout = 2008, "card_timeout", 422, Card,
        "等候卡片逾時", "Timed out waiting for the card";
    /// The card is not the kind asked for (e.g. not an NHI card).
    CardUnsupported = 2010, "card_unsupported", 422, Card,
        "卡片種類不符，請插入健保卡", "This is not the card asked for: insert the NHI card";
    /// The card answered a command with an error status word.
    CardStatus = 2011, "card_status", 422, Card,
        "卡片回應錯誤", "The card answered with an error status";
    /// A command or a response APDU is malformed (too long, too short, a runaway response chain).
    ApduInvalid = 2012, "apdu_invalid", 422, Card,
        "卡片指令或回應格式錯誤", "A card command or response is malformed";
    /// The PC/SC layer failed in a way not listed above.
    CardTransportFailed = 2013, "card_transport_failed", 422, Card,
        "讀卡機通訊失敗", "Communication with the card reader failed";
    /// A transcript of card exchanges is malformed, or the replayed exchange differs from it.
    CardTranscriptInvalid = 2020, "card_transcript_invalid", 422, Card,
        "卡片交換紀錄格式錯誤或與實際指令不符", "A card transcript is malformed or does not match the commands sent";
    /// This build of ecpa has no smart-card support (built without the `card` feature).
    CardSupportMissing = 2090, "card_support_missing", 422, Card,
        "此版本的 ecpa 未包含讀卡功能（未啟用 card 功能）：請以 --features card 重新建置（須安裝 libpcsclite-dev）", "This build of ecpa has no smart-card support: rebuild it with `--features card`, which needs libpcsclite-dev";

    // ---- 2100–2199 citizen card over PKCS#11 ----
    /// The PKCS#11 module file (HiCOS or another vendor's) is not where the configuration says.
    Pkcs11ModuleNotFound = 2101, "token_module_not_found", 422, Card,
        "找不到 PKCS#11 模組（請安裝內政部憑證管理中心的 HiCOS 卡片管理工具，或指定模組路徑）", "The PKCS#11 module was not found: install the HiCOS card tool from the MOICA site or give the module path";
    /// The file exists but does not load or initialise as a PKCS#11 module.
    Pkcs11ModuleLoadFailed = 2102, "token_module_load_failed", 422, Card,
        "PKCS#11 模組無法載入或初始化", "The PKCS#11 module could not be loaded or initialised";
    /// No token (no citizen card) is present in any slot of the module.
    Pkcs11TokenNotPresent = 2103, "token_not_present", 422, Card,
        "找不到憑證卡，請確認讀卡機已連接並已插入自然人憑證", "No card token found: check that the reader is connected and the citizen card inserted";
    /// The token holds no signing certificate (digitalSignature / nonRepudiation) with its private key.
    Pkcs11SigningCertificateNotFound = 2104, "token_signing_certificate_not_found", 422, Card,
        "憑證卡上找不到簽章用憑證及其私密金鑰", "The card holds no signing certificate with its private key";
    /// The token cannot sign RSA PKCS#1 v1.5 (neither CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS).
    Pkcs11MechanismUnsupported = 2105, "token_mechanism_unsupported", 422, Card,
        "憑證卡不支援 RSA PKCS#1 v1.5 SHA-256 簽章", "The card does not support RSA PKCS#1 v1.5 SHA-256 signatures";
    /// The card was removed or the session ended while it was in use.
    Pkcs11TokenRemoved = 2106, "token_removed", 422, Card,
        "憑證卡已被移除或連線已中斷，請重新插卡後再試", "The card was removed or the session ended: insert it again and retry";
    /// Any other failure reported by the module (its CKR_ name is in the detail).
    Pkcs11Failed = 2199, "token_module_failed", 422, Card,
        "PKCS#11 模組回報錯誤", "The PKCS#11 module reported an error";

    // ---- 2200–2299 the card agent (ecpa agent) ----
    /// The agent was asked to listen on an address other than loopback: a page of any machine
    /// on the network could then reach the cards.
    AgentListenNotLoopback = 2201, "agent_listen_not_loopback", 422, Card,
        "讀卡代理程式只能在本機位址（127.0.0.1、::1）上接聽",
        "The card agent listens on a loopback address only (127.0.0.1 or ::1)";
    /// The agent's port is held by another program (often the vendor's own sign server).
    AgentPortTaken = 2202, "agent_port_taken", 422, Card,
        "讀卡代理程式的連接埠已被其他程式使用，請以 --listen 指定其他連接埠",
        "The card agent's port is taken by another program: pick another with --listen";
    /// A request from a page whose origin the agent does not allow, or a state-changing
    /// request without an origin.
    AgentOriginRefused = 2203, "agent_origin_refused", 403, Card,
        "此網站未獲准使用讀卡代理程式",
        "This site is not allowed to use the card agent";
    /// A request whose `Host` is not a loopback name: a page reached the agent through a
    /// domain name pointing at this machine (DNS rebinding).
    AgentHostRefused = 2204, "agent_host_refused", 403, Card,
        "讀卡代理程式只接受以本機名稱連線的要求",
        "The card agent answers only requests addressed to this machine by a loopback name";

    // ---- 2900–2949 environment check (ecpa doctor) ----
    /// A probe of the environment check did not answer within its timeout.
    DoctorProbeTimedOut = 2901, "doctor_probe_timed_out", 422, Card,
        "環境檢測項目逾時未回應", "An environment check did not answer in time";
    /// At least one row of the environment check failed.
    DoctorChecksFailed = 2903, "doctor_checks_failed", 422, Card,
        "環境檢測有未通過的項目", "Some environment checks failed";

    // ---- 3000–3999 PINs ----
    /// A PIN is not 6 to 8 letters or digits.
    PinFormatInvalid = 3101, "pin_format_invalid", 422, Pin,
        "PIN 碼格式錯誤：應為 6 至 8 碼英文字母或數字", "The PIN must be 6 to 8 letters or digits";
    /// The card or token refused the PIN; [`Error::PinIncorrect`] says how many tries are left.
    PinIncorrect = 3102, "pin_incorrect", 422, Pin,
        "PIN 碼錯誤", "Wrong PIN";
    /// The PIN is blocked after too many wrong tries; only the issuer can unblock it.
    PinBlocked = 3103, "pin_blocked", 422, Pin,
        "PIN 碼已鎖住，請持卡至戶政事務所或以憑證卡解鎖碼解鎖", "The PIN is blocked: have it unblocked with the card's unblock code or at a household registration office";

    // ---- 4000–4999 PKI ----
    /// A certificate does not parse (truncated, not DER, not X.509).
    CertificateMalformed = 4001, "certificate_malformed", 401, Pki,
        "憑證格式錯誤", "The certificate is malformed";
    /// The signature algorithm is not one this PKI accepts.
    SignatureAlgorithmUnsupported = 4002, "signature_algorithm_unsupported", 401, Pki,
        "不支援的簽章演算法", "The signature algorithm is not supported";
    /// The public key type, curve or size is not accepted.
    PublicKeyUnsupported = 4003, "public_key_unsupported", 401, Pki,
        "不支援的公開金鑰（類型、曲線或長度）", "The public key type, curve or size is not supported";
    /// A signature does not verify.
    SignatureInvalid = 4004, "signature_invalid", 401, Pki,
        "簽章驗證失敗", "The signature does not verify";
    /// A certificate on the path has expired.
    CertificateExpired = 4010, "certificate_expired", 401, Pki,
        "憑證已逾期", "The certificate has expired";
    /// A certificate on the path is not yet valid.
    CertificateNotYetValid = 4011, "certificate_not_yet_valid", 401, Pki,
        "憑證尚未生效", "The certificate is not yet valid";
    /// A certificate on the path has been revoked.
    CertificateRevoked = 4012, "certificate_revoked", 401, Pki,
        "憑證已廢止", "The certificate has been revoked";
    /// No path from the certificate to a trust anchor.
    UnknownIssuer = 4013, "unknown_issuer", 401, Pki,
        "找不到可信任的簽發者（無法建立至信任錨點的憑證路徑）", "No path to a trust anchor: the issuer is unknown";
    /// The path does not carry the required certificate policy.
    PolicyNotAcceptable = 4014, "policy_not_acceptable", 401, Pki,
        "憑證政策不符", "The certificate policy is not acceptable";
    /// A certificate's key usage or extended key usage does not allow this use.
    KeyUsageInvalid = 4015, "key_usage_invalid", 401, Pki,
        "憑證金鑰用途不符", "The certificate's key usage does not allow this use";
    /// The path breaks a constraint (basicConstraints, pathLen, name constraints, critical extension, names).
    PathInvalid = 4016, "path_invalid", 401, Pki,
        "憑證路徑不符合限制", "The certificate path breaks a constraint";
    /// The leaf does not carry the name it was expected for (a TLS peer's DNS name or IP address).
    PeerNameMismatch = 4017, "peer_name_mismatch", 401, Pki,
        "憑證名稱與對象不符", "The certificate is not valid for the expected name";
    /// A CRL does not parse or carries what we cannot process.
    CrlMalformed = 4020, "crl_malformed", 401, Pki,
        "憑證廢止清冊格式錯誤", "The CRL is malformed";
    /// A CRL is not current (nextUpdate passed or thisUpdate in the future).
    CrlStale = 4021, "crl_stale", 401, Pki,
        "憑證廢止清冊已過期", "The CRL is not current";
    /// A CRL's signature does not verify with its issuer's key.
    CrlSignatureInvalid = 4022, "crl_signature_invalid", 401, Pki,
        "憑證廢止清冊簽章驗證失敗", "The CRL's signature does not verify";
    /// Revocation checking is on and no usable CRL covers a certificate.
    CrlMissing = 4023, "crl_missing", 401, Pki,
        "找不到適用的憑證廢止清冊", "No usable CRL covers the certificate";
    /// A CMS SignedData does not parse or lacks what verification needs.
    CmsMalformed = 4030, "cms_malformed", 401, Pki,
        "CMS 簽章資料格式錯誤", "The CMS signed data is malformed";
    /// The signed content's digest differs from the messageDigest attribute.
    CmsDigestMismatch = 4031, "cms_digest_mismatch", 401, Pki,
        "簽章內容與訊息摘要不符", "The signed content does not match its message digest";
    /// The signer's certificate is not among those the CMS carries.
    CmsSignerNotFound = 4032, "cms_signer_not_found", 401, Pki,
        "找不到簽章者憑證", "The signer's certificate is not in the CMS signed data";

    // ---- 5000–5499 authentication ----
    /// The NHI card has not been registered for online services (or its registration is not confirmed).
    NhiCardNotRegistered = 5001, "nhi_card_not_registered", 401, Auth,
        "您尚未註冊健保卡網路服務", "This NHI card is not registered for online services";
    /// The registration password for the NHI card is wrong.
    RegistrationPasswordWrong = 5002, "registration_password_wrong", 401, Auth,
        "註冊密碼輸入錯誤", "The registration password is wrong";
    /// The person is not a current employee of any agency. The FAQ's words, with the support
    /// mailbox the portal is configured with (this one by default).
    AccountNotFound = 5003, "account_not_found", 401, Auth,
        "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：pemis@dgpa.gov.tw。",
        "Verification failed: no account was found for you. For security reasons, please write to the DGPA's support mailbox: pemis@dgpa.gov.tw.";
    /// The person's account is disabled because they have left office.
    AccountDisabled = 5004, "account_disabled", 401, Auth,
        "很抱歉，該帳號已停用，可能是此帳號之人事資料為卸職狀態，若有問題請先洽機關所屬人事部門洽詢。",
        "Sorry, this account is disabled: the personnel record may show that the person has left office. If in doubt, ask your agency's personnel office first.";
    /// Too many wrong passwords: logins are refused for a while.
    LoginLocked = 5005, "login_locked", 423, Auth,
        "密碼錯誤次數過多，暫停登入", "Too many wrong passwords: login is suspended for a while";
    /// The eCPA account name or its password is wrong.
    AccountPasswordWrong = 5006, "account_password_wrong", 401, Auth,
        "帳號或密碼錯誤", "The account name or password is wrong";
    /// The eCPA account name is already taken by someone else.
    AccountNameTaken = 5007, "account_name_taken", 409, Auth,
        "此帳號名稱已有人使用", "This account name is already taken";
    /// The session token is unknown or the session has ended.
    SessionInvalid = 5010, "session_invalid", 401, Auth,
        "登入狀態無效，請重新登入", "The session is not valid: please log in again";
    /// The session has expired.
    SessionExpired = 5011, "session_expired", 401, Auth,
        "登入逾時，請重新登入", "The session has expired: please log in again";
    /// The application needs a stronger login than this session has.
    AssuranceTooLow = 5020, "assurance_too_low", 403, Auth,
        "上述反灰的連結請使用自然人憑證登入才可使用", "This application needs a stronger login (use the citizen digital certificate)";
    /// No application has this code.
    ApplicationUnknown = 5021, "application_unknown", 404, Auth,
        "查無此應用系統", "There is no application with this code";
    /// The application has not been added to "my applications".
    ApplicationNotAdded = 5022, "application_not_added", 409, Auth,
        "請先將此應用系統加入「我的應用系統」", "Add this application to \"my applications\" first";
    /// The data belongs to another person or another agency.
    AccessDenied = 5030, "access_denied", 403, Auth,
        "您沒有權限存取此資料", "You may not access this data";
    /// The operation is for personnel officers only.
    NotPersonnelOfficer = 5031, "not_personnel_officer", 403, Auth,
        "僅限人事人員使用", "For personnel officers only";

    /// A certificate-login challenge is unknown (or was never issued to this caller).
    ChallengeUnknown = 5040, "challenge_unknown", 401, Auth,
        "登入挑戰碼無效，請重新登入", "The login challenge is not valid: start the login again";
    /// A certificate-login challenge was already used: a replay.
    ChallengeReplayed = 5041, "challenge_replayed", 401, Auth,
        "登入挑戰碼已使用過，請重新登入", "The login challenge was already used: start the login again";
    /// A certificate-login challenge has expired.
    ChallengeExpired = 5042, "challenge_expired", 401, Auth,
        "登入挑戰碼已逾時，請重新登入", "The login challenge has expired: start the login again";
    /// First login with this certificate: the eCPA account or national ID is needed to bind it.
    CertificateNotBound = 5043, "certificate_not_bound", 401, Auth,
        "首次使用自然人憑證登入，請輸入 eCPA 自訂帳號或身分證字號", "First login with this certificate: enter your eCPA account name or national ID";
    /// The certificate's last four ID digits do not match the person named at first login.
    BindingMismatch = 5044, "binding_mismatch", 401, Auth,
        "憑證與您輸入的帳號或身分證字號不符", "The certificate does not belong to the account or ID entered";
    /// This portal has no trust anchors for certificate logins.
    CertificateLoginUnavailable = 5045, "certificate_login_unavailable", 501, Auth,
        "本系統未設定憑證信任錨點，無法使用自然人憑證登入", "Certificate login is not configured on this portal (no trust anchors)";
    /// A cookie-session request that changes something lacks the matching CSRF token.
    CsrfRejected = 5046, "csrf_rejected", 403, Auth,
        "請求來源驗證失敗，請重新整理頁面後再試", "The request's CSRF token is missing or wrong: reload the page and try again";
    /// Too many logins or registrations from this address: wait before trying again.
    RateLimited = 5047, "rate_limited", 429, Auth,
        "操作過於頻繁，請稍後再試", "Too many attempts from this address: try again shortly";

    /// A personnel officer may not issue an award order to themself or process their own
    /// proofing correction (separation of duties; `[portal] allow_self_approval` for an agency
    /// of one officer).
    SelfApprovalRefused = 5048, "self_approval_refused", 403, Auth,
        "人事人員不可對自己發布獎懲令或核定自己的校對更正，請由機關其他人事人員辦理",
        "A personnel officer may not issue award orders to themself or decide on their own corrections: another officer of the agency must";

    /// Every password-hash slot is busy and stayed busy for the short wait: try again in a moment.
    LoginBusy = 5049, "login_busy", 503, Auth,
        "登入人數眾多，請稍後再試", "Too many logins at once: please try again in a moment";
    /// So many wrong passwords were tried on this card or account today, from wherever, that
    /// only a password reset by mail (for an account: setting it again after a card login)
    /// opens it again.
    LoginHeld = 5050, "login_held", 423, Auth,
        "今日密碼錯誤次數已達上限，請使用「忘記密碼」重設註冊密碼後再登入",
        "Too many wrong passwords were tried today: reset the password by mail (forgot password) before logging in again";
    /// The card's answer to the page's random (`H_Sign`) was checked and is not the card's:
    /// whoever sent it knows the card's data, not the card.
    CardPossessionUnverified = 5051, "card_possession_unverified", 401, Auth,
        "健保卡驗證失敗，無法確認讀卡機中的健保卡，請重新讀卡後再試",
        "The NHI card's answer could not be verified: read the card again and retry";
    /// This portal requires officer functions to be used with the citizen certificate or an
    /// NHI card whose possession was verified (`[portal] officer_requires_verified_card`).
    OfficerLoginTooWeak = 5052, "officer_login_too_weak", 403, Auth,
        "人事人員功能須以自然人憑證或經驗證之健保卡登入",
        "Officer functions need a citizen certificate login or an NHI card login with the card verified";
    /// A single sign-on assertion is not one this portal issued: not a JWT, not ES256, not
    /// signed with the portal's key (forged), or not of the portal as its issuer.
    SsoAssertionInvalid = 5053, "sso_assertion_invalid", 401, Auth,
        "單一登入憑證無效，請回人事服務網重新開啟應用系統",
        "The single sign-on assertion is not valid: open the application again from the portal";
    /// A single sign-on assertion is past its 60 seconds.
    SsoAssertionExpired = 5054, "sso_assertion_expired", 401, Auth,
        "單一登入憑證已逾時，請回人事服務網重新開啟應用系統",
        "The single sign-on assertion has expired: open the application again from the portal";
    /// A single sign-on assertion was already redeemed: a replay.
    SsoAssertionReplayed = 5055, "sso_assertion_replayed", 401, Auth,
        "單一登入憑證已使用過，請回人事服務網重新開啟應用系統",
        "The single sign-on assertion was already used: open the application again from the portal";
    /// A single sign-on assertion was issued to another application than the one redeeming it.
    SsoAudienceMismatch = 5056, "sso_audience_mismatch", 401, Auth,
        "此單一登入憑證不是發給本應用系統的",
        "The single sign-on assertion was issued to another application";
    /// An origin-bound certificate login made for another site's origin (a look-alike page's):
    /// the card signed that origin, not this portal's.
    LoginOriginMismatch = 5057, "login_origin_mismatch", 401, Auth,
        "此登入簽章是為其他網站產生的，不能用於本網站：請確認網址後重新登入",
        "This login signature was made for another site: check the address and log in again";
    /// This portal accepts only origin-bound certificate logins (`[portal] require_origin_bound`).
    OriginBoundRequired = 5058, "origin_bound_required", 401, Auth,
        "本網站僅接受經讀卡代理程式（ecpa agent）產生、綁定網址的憑證登入",
        "This portal accepts only certificate logins bound to its address, made through the card agent (ecpa agent)";

    // ---- 5500–5999 directory ----
    /// No agency has this code.
    AgencyNotFound = 5501, "agency_not_found", 404, Directory,
        "查無此機關", "There is no agency with this code";
    /// No employee has this national ID.
    EmployeeNotFound = 5502, "employee_not_found", 404, Directory,
        "查無此人員", "There is no employee with this ID";
    /// The employee does not serve in the officer's agency.
    EmployeeNotInAgency = 5503, "employee_not_in_agency", 403, Directory,
        "此人員不屬於您服務的機關", "This employee does not serve in your agency";

    // ---- 6000–6999 NHI card online registration ----
    /// Registration is suspended during an announced maintenance window.
    RegistrationMaintenance = 6001, "registration_maintenance", 503, Registration,
        "系統維護中，暫停註冊服務", "Registration is suspended for maintenance";
    /// The card, or the person it names, already has an active registration.
    AlreadyRegistered = 6002, "already_registered", 409, Registration,
        "此健保卡已註冊網路服務", "This NHI card is already registered";
    /// A registration for the person is waiting for its e-mail confirmation: a second one is
    /// refused (it would kill the first one's link), the first one's mail can be sent again.
    RegistrationPending = 6003, "registration_pending", 409, Registration,
        "已有一筆註冊申請等待電子信箱認證，請開啟寄至人事資料電子信箱的認證信，或申請補寄認證信",
        "A registration for you is waiting for its e-mail confirmation: open the mail sent to the address in your personnel record, or ask for it again";
    /// The card's data do not agree with the directory's record of the person (or the directory
    /// does not know them): registering online is not possible.
    RegistrationDataMismatch = 6004, "registration_data_mismatch", 422, Registration,
        "健保卡資料與人事資料不符，無法線上註冊，請洽服務機關人事單位",
        "The card's data do not match your personnel record, so you cannot register online: ask your agency's personnel office";
    /// The directory holds no e-mail address for the person, where the confirmation link must go.
    RegistrationNoAddress = 6005, "registration_no_address", 422, Registration,
        "人事資料未登錄您的電子郵件信箱，無法線上註冊，請洽服務機關人事單位",
        "Your personnel record holds no e-mail address, so you cannot register online: ask your agency's personnel office";
    /// The registration terms (全民健康保險網路服務註冊管理作業要點) were not accepted, or an
    /// older version of them was.
    TermsNotAccepted = 6006, "terms_not_accepted", 422, Registration,
        "請先閱讀全民健康保險網路服務註冊管理作業要點，點選「我已閱讀完畢，並瞭解相關規定」後再填寫註冊資料",
        "Read the NHI online services registration rules and accept them before filling in the form";
    /// 刪除註冊申請 for a registration that is complete: only a pending application is deleted
    /// online; a registration is stopped in person.
    RegistrationStopInPerson = 6007, "registration_stop_in_person", 409, Registration,
        "此健保卡已完成註冊，無法線上刪除；申請註冊停用，請持身分證明文件臨櫃辦理（本署各地聯合服務中心及連絡辦公室）",
        "This card's registration is complete and cannot be deleted online: to stop it, bring your identity document to an NHI counter";
    /// The link's token is unknown or belongs to another card.
    TokenInvalid = 6010, "token_invalid", 400, Registration,
        "連結無效，請確認已插入同一張健保卡", "The link is not valid: check that the same NHI card is inserted";
    /// The link's token has expired.
    TokenExpired = 6011, "token_expired", 410, Registration,
        "連結已逾期，請重新申請", "The link has expired: please ask for a new one";
    /// The link's token was already used.
    TokenUsed = 6012, "token_used", 410, Registration,
        "連結已使用過，請重新申請", "The link was already used: please ask for a new one";
    /// The household address does not match the registered one.
    HouseholdMismatch = 6020, "household_mismatch", 422, Registration,
        "戶號或戶籍地址與註冊資料不符", "The household number or address does not match the registration";

    // ---- 7000–7499 consent ----
    /// The consent text agreed to is not the current one.
    ConsentTextOutdated = 7001, "consent_text_outdated", 409, Consent,
        "同意書版本已更新，請重新檢視訊息後再同意", "The consent text has changed: read it again before agreeing";
    /// Consent, once given, can never be withdrawn.
    ConsentFinal = 7002, "consent_final", 409, Consent,
        "同意採用電子化措施辦理後，不可變更為「不同意」", "Once given, consent to electronic award orders cannot be changed to \"disagree\"";
    /// There is no consent to withdraw.
    ConsentNotGiven = 7003, "consent_not_given", 409, Consent,
        "您尚未同意獎勵令電子化", "You have not consented to electronic award orders";

    // ---- 7500–7999 award orders ----
    /// No award order with this number is visible to the caller.
    AwardOrderNotFound = 7501, "award_order_not_found", 404, Award,
        "查無此獎懲令", "There is no such award order";
    /// An award order's contents are invalid.
    AwardOrderInvalid = 7502, "award_order_invalid", 422, Award,
        "獎懲令內容不正確", "The award order's contents are invalid";
    /// This document number was already issued to this person.
    AwardOrderDuplicate = 7503, "award_order_duplicate", 409, Award,
        "此發文字號已對同一人員發布過", "This document number was already issued to this person";

    // ---- 8000–8999 proofing ----
    /// The field is not one of the proofing fields of that category.
    ProofingFieldUnknown = 8001, "proofing_field_unknown", 422, Proofing,
        "查無此校對欄位", "There is no such proofing field";
    /// The corrected value equals the current one.
    ProofingValueUnchanged = 8002, "proofing_value_unchanged", 422, Proofing,
        "修改後資料內容與修改前相同", "The corrected value equals the current one";
    /// No correction with this number is visible to the caller.
    CorrectionNotFound = 8003, "correction_not_found", 404, Proofing,
        "查無此校對修正", "There is no such correction";
    /// The correction was already approved or rejected.
    CorrectionAlreadyProcessed = 8004, "correction_already_processed", 409, Proofing,
        "此校對修正已處理", "This correction was already processed";
    /// A rejection needs a reason.
    RejectReasonRequired = 8005, "reject_reason_required", 422, Proofing,
        "退回時請填寫理由", "A rejection needs a reason";
    /// The field cannot be corrected through proofing.
    ProofingFieldReadOnly = 8006, "proofing_field_read_only", 422, Proofing,
        "此欄位不開放線上校對修正", "This field cannot be corrected online";

    // ---- 9000–9499 storage ----
    /// The database failed.
    StorageFailure = 9001, "storage_failure", 500, Storage,
        "資料庫錯誤", "The database failed";
    /// The database stayed busy (locked by another process) past the timeout.
    StorageBusy = 9002, "storage_busy", 503, Storage,
        "資料庫忙碌中，請稍後再試", "The database is busy: try again shortly";
    /// The database was written by a newer version of ecpa.
    SchemaTooNew = 9003, "schema_too_new", 500, Storage,
        "資料庫版本比本程式新，請更新 ecpa", "The database was written by a newer ecpa: upgrade ecpa";
    /// A stored row does not decode (the database was changed by hand or is damaged).
    DataCorrupt = 9004, "data_corrupt", 500, Storage,
        "資料庫內容毀損", "The stored data is damaged";
    /// The database server cannot be reached or the connection broke; a transaction in flight
    /// was rolled back by the server.
    StorageUnavailable = 9005, "storage_unavailable", 500, Storage,
        "無法連線至資料庫或連線中斷，進行中的交易未完成，請稍後再試", "The database cannot be reached or the connection broke: the transaction in flight was not completed, try again shortly";
    /// The database URL cannot be read.
    StorageUrlInvalid = 9006, "storage_url_invalid", 500, Storage,
        "資料庫連線字串格式錯誤", "The database URL is malformed";

    // ---- 9500–9799 transport ----
    /// A mail could not be delivered (it stays in the outbox and is retried).
    MailFailed = 9501, "mail_failed", 502, Transport,
        "郵件寄送失敗，稍後將重試", "The mail could not be sent: it will be retried";
    /// A file could not be read or written.
    IoFailed = 9502, "io_failed", 500, Transport,
        "檔案讀寫失敗", "A file could not be read or written";
    /// The mail settings (server, security, sender, credentials) are unusable.
    MailConfigInvalid = 9503, "mail_config_invalid", 500, Transport,
        "郵件伺服器設定錯誤", "The mail server settings are invalid";
    /// The portal service could not be reached (connection refused, name not found).
    HttpUnreachable = 9550, "http_unreachable", 502, Transport,
        "無法連線至人事服務網服務", "The portal service cannot be reached";
    /// The portal service did not answer in time, or a request took longer than the service allows.
    HttpTimeout = 9551, "http_timeout", 503, Transport,
        "人事服務網服務回應逾時", "The portal service did not answer in time";
    /// The portal service answered with something that is not its API (wrong body, unknown code).
    HttpBadResponse = 9552, "http_bad_response", 502, Transport,
        "人事服務網服務回應格式錯誤", "The portal service's answer is not understood";
    /// The TLS certificate or key of the service cannot be loaded, or TLS failed.
    TlsFailed = 9553, "tls_failed", 500, Transport,
        "TLS 憑證或金鑰無法使用", "The TLS certificate or key cannot be used";

    // ---- 9800–9899 the C ABI and the Python module ----
    /// A pointer argument of a C call that must not be NULL was NULL.
    FfiNullPointer = 9801, "ffi_null_pointer", 500, Binding,
        "必要的指標參數為 NULL", "A required pointer argument is NULL";
    /// The caller's output buffer is too small (or NULL, to ask for the size): the size needed is in `out_len`.
    FfiBufferTooSmall = 9802, "ffi_buffer_too_small", 500, Binding,
        "輸出緩衝區太小，所需大小已寫入 out_len", "The output buffer is too small: the size needed is in out_len";
    /// A string passed to a C call is not valid UTF-8.
    FfiStringInvalid = 9803, "ffi_string_invalid", 500, Binding,
        "字串不是有效的 UTF-8 編碼", "A string argument is not valid UTF-8";
    /// ecpa panicked inside a C call; the panic was caught at the boundary.
    FfiPanic = 9804, "ffi_panic", 500, Binding,
        "程式內部錯誤（已攔截），請回報", "ecpa panicked inside the call (caught at the boundary): please report it";
    /// A numeric or JSON argument of a C call is out of range or malformed.
    FfiArgumentInvalid = 9805, "ffi_argument_invalid", 500, Binding,
        "參數內容不正確", "An argument is out of range or malformed";
    /// A handle is not of the kind the call expects, or was already freed.
    FfiHandleInvalid = 9806, "ffi_handle_invalid", 500, Binding,
        "物件代號無效或已釋放", "The handle is of the wrong kind or was already freed";
    /// The call belongs to the operator of an embedded portal (directory import, outbox,
    /// maintenance, certificate trust); a remote portal (`http://…`) does not offer it.
    LocalPortalOnly = 9807, "local_portal_only", 500, Binding,
        "此操作僅適用於本機資料庫，不適用於遠端服務", "This operation needs an embedded portal (a database), not a remote one";

    // ---- 9900–9999 internal ----
    /// A bug in ecpa: please report it.
    Internal = 9999, "internal", 500, Internal,
        "程式內部錯誤，請回報", "Internal error in ecpa: please report it";
}

impl ErrorCode {
    /// The code as its stable number.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one.
    pub fn from_number(number: u32) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.number() == number)
    }
}

impl fmt::Display for ErrorCode {
    /// `E5002 registration_password_wrong`: the form the command prints and scripts match on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E{} {}", self.number(), self.name())
    }
}

/// A message in both languages, for details that vary from one failure to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Traditional Chinese (Taiwan).
    pub zh: Cow<'static, str>,
    /// English.
    pub en: Cow<'static, str>,
}

impl Text {
    /// A detail in both languages.
    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in one language.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhTw => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Every failure of the crate.
///
/// Most failures need nothing but their code and, perhaps, a detail ([`Error::Failed`]); the
/// variants with fields carry what a caller needs to act on: how many tries are left, when a
/// lockout or a maintenance window ends, which login an application needs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure described by its code and an optional detail.
    #[error("{}", display(self))]
    Failed {
        /// What failed.
        code: ErrorCode,
        /// What exactly, when the code alone does not say.
        detail: Option<Text>,
    },
    /// 「註冊密碼輸入錯誤」: wrong registration password, with the tries left before the lockout.
    #[error("{}", display(self))]
    RegistrationPasswordWrong {
        /// Wrong passwords still allowed before logins are suspended.
        tries_left: u32,
    },
    /// Too many wrong passwords for this card or account: logins wait until `until`.
    #[error("{}", display(self))]
    LoginLocked {
        /// When logins are accepted again.
        until: OffsetDateTime,
        /// Whole seconds left until then, rounded up.
        seconds_left: u64,
    },
    /// A failure in other words than its code's own: the code's message with a particular of
    /// this portal in it (E5003 names the support mailbox the portal is configured with).
    #[error("{}", display(self))]
    Worded {
        /// What failed.
        code: ErrorCode,
        /// The whole message, in both languages.
        message: Text,
    },
    /// Registration is suspended for the announced maintenance window.
    #[error("{}", display(self))]
    RegistrationMaintenance {
        /// Start of the window.
        from: OffsetDateTime,
        /// End of the window.
        to: OffsetDateTime,
        /// Why, as the operator announced it (e.g. 「配合戶政系統維護」); `None` for a plain
        /// 「配合系統維護」.
        reason: Option<String>,
    },
    /// A CSV file has bad lines: every one of them, so the person who prepared the file can fix
    /// them all in one pass instead of one per attempt. The code is [`ErrorCode::CsvInvalid`].
    #[error("{}", display(self))]
    CsvLines {
        /// Each bad line with its number, in file order.
        lines: Vec<LineError>,
    },
    /// The application needs a stronger login than the session has.
    #[error("{}", display(self))]
    AssuranceTooLow {
        /// The level the application needs.
        required: AssuranceLevel,
        /// The level of the session.
        actual: AssuranceLevel,
    },
    /// The card or token refused the PIN. Nothing retries it: a citizen card locks after three
    /// wrong PINs, so the caller must show the tries left and let the holder decide.
    #[error("{}", display(self))]
    PinIncorrect {
        /// Tries left before the PIN blocks, when the card or token tells: `Some(1)` is the final
        /// try. `None` when it only says that some wrong tries were made.
        tries_left: Option<u32>,
    },
    /// Something outside the crate failed (the PC/SC service, a PKCS#11 module, the file
    /// system, an HTTP connection): the code and detail say what it means here, and the outside
    /// error itself is the [`source`](std::error::Error::source), for a log or a caller that
    /// walks the chain down to the system's own words.
    #[error("{}", display(self))]
    Caused {
        /// What failed, as the crate names it.
        code: ErrorCode,
        /// What exactly, in both languages.
        detail: Text,
        /// The outside error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Storage failed; the source is the backend's own error.
    #[error("{}", display(self))]
    Storage {
        /// [`ErrorCode::StorageFailure`], [`ErrorCode::StorageBusy`] or another storage code.
        code: ErrorCode,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One bad line of a CSV file: its number and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    /// The code of the line's failure (e.g. [`ErrorCode::NationalIdChecksum`]).
    pub code: ErrorCode,
    /// The full message of the line's failure, without the line number.
    pub message: Text,
}

impl LineError {
    /// The line and its message in one language, as the command prints it: `第 3 行：…`.
    pub fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhTw => format!("第 {} 行：{}", self.line, self.message.get(lang)),
            Lang::En => format!("line {}: {}", self.line, self.message.get(lang)),
        }
    }
}

/// How many bad lines a CSV error's one-line message spells out; [`Error::line_errors`] has all.
const LINES_IN_MESSAGE: usize = 20;

fn display(e: &Error) -> String {
    format!("{}: {} / {}", e.code(), e.message(Lang::ZhTw), e.message(Lang::En))
}

impl Error {
    /// A failure with nothing more to say than its code.
    pub fn new(code: ErrorCode) -> Self {
        Error::Failed { code, detail: None }
    }

    /// A failure with a detail in both languages.
    pub fn with(code: ErrorCode, zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Error::Failed {
            code,
            detail: Some(Text::new(zh, en)),
        }
    }

    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Failed { code, .. }
            | Error::Caused { code, .. }
            | Error::Storage { code, .. }
            | Error::Worded { code, .. } => *code,
            Error::RegistrationPasswordWrong { .. } => ErrorCode::RegistrationPasswordWrong,
            Error::LoginLocked { .. } => ErrorCode::LoginLocked,
            Error::RegistrationMaintenance { .. } => ErrorCode::RegistrationMaintenance,
            Error::CsvLines { .. } => ErrorCode::CsvInvalid,
            Error::AssuranceTooLow { .. } => ErrorCode::AssuranceTooLow,
            Error::PinIncorrect { .. } => ErrorCode::PinIncorrect,
        }
    }

    /// The full message in one language: the code's message and the particulars of this failure.
    pub fn message(&self, lang: Lang) -> String {
        let base = self.code().message(lang);
        let zh = lang == Lang::ZhTw;
        match self {
            Error::Failed { detail: None, .. } => base.to_owned(),
            Error::Worded { message, .. } => message.get(lang).to_owned(),
            Error::Failed { detail: Some(d), .. } | Error::Caused { detail: d, .. } => {
                if zh {
                    format!("{base}：{}", d.get(lang))
                } else {
                    format!("{base}: {}", d.get(lang))
                }
            }
            Error::RegistrationPasswordWrong { tries_left } => {
                if zh {
                    format!("{base}（尚可再試 {tries_left} 次）")
                } else {
                    format!("{base} ({tries_left} tries left)")
                }
            }
            Error::LoginLocked { until, seconds_left } => {
                let minutes = seconds_left.div_ceil(60);
                let until = RocDateTime::from(*until);
                if zh {
                    format!("{base}，請於 {minutes} 分鐘後（{}）再試", until.to_zh())
                } else {
                    format!("{base}: try again in {minutes} minutes ({})", until.to_iso())
                }
            }
            Error::RegistrationMaintenance { from, to, reason } => {
                let (from, to) = (RocDateTime::from(*from), RocDateTime::from(*to));
                if zh {
                    maintenance_notice(from, to, reason.as_deref())
                } else {
                    match reason {
                        Some(r) => format!("{base} from {} to {} ({r})", from.to_iso(), to.to_iso()),
                        None => format!("{base} from {} to {}", from.to_iso(), to.to_iso()),
                    }
                }
            }
            Error::CsvLines { lines } => match lines.as_slice() {
                [one] => {
                    if zh {
                        format!("{base}：{}", one.describe(lang))
                    } else {
                        format!("{base}: {}", one.describe(lang))
                    }
                }
                all => {
                    let shown: Vec<String> = all.iter().take(LINES_IN_MESSAGE).map(|l| l.describe(lang)).collect();
                    if zh {
                        format!("{base}：共 {} 行錯誤：{}", all.len(), shown.join("；"))
                    } else {
                        format!("{base}: {} bad lines: {}", all.len(), shown.join("; "))
                    }
                }
            },
            Error::AssuranceTooLow { required, actual } => {
                if zh {
                    format!("{base}（需要{}，目前為{}）", required.label(lang), actual.label(lang))
                } else {
                    format!(
                        "{base} (needs {}, this login is {})",
                        required.label(lang),
                        actual.label(lang)
                    )
                }
            }
            Error::PinIncorrect { tries_left: Some(n) } => {
                if zh {
                    format!("{base}（尚可再試 {n} 次，錯誤 3 次即鎖卡）")
                } else {
                    format!("{base} ({n} tries left before the card locks)")
                }
            }
            Error::PinIncorrect { tries_left: None } => {
                if zh {
                    format!("{base}（已有錯誤紀錄，剩餘次數不明，請小心輸入）")
                } else {
                    format!("{base} (earlier wrong tries recorded; tries left unknown, take care)")
                }
            }
            Error::Storage { source, .. } => {
                if zh {
                    format!("{base}：{source}")
                } else {
                    format!("{base}: {source}")
                }
            }
        }
    }

    /// Every bad line of a CSV error ([`Error::CsvLines`]); empty for any other error.
    pub fn line_errors(&self) -> &[LineError] {
        match self {
            Error::CsvLines { lines } => lines,
            _ => &[],
        }
    }

    /// The detail of a [`Error::Failed`] or an [`Error::Caused`], if it has one.
    pub fn detail(&self) -> Option<&Text> {
        match self {
            Error::Failed { detail, .. } => detail.as_ref(),
            Error::Caused { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// A failure caused by an outside error, which stays reachable as its source.
    pub fn caused(
        code: ErrorCode,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Caused {
            code,
            detail: Text::new(zh, en),
            source: source.into(),
        }
    }

    /// This failure, with `source` (the outside error it came from) kept as its source:
    /// [`Error::Failed`] becomes [`Error::Caused`]; a variant with fields of its own stays as it
    /// is, since its fields are what a caller acts on.
    pub fn because(self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        match self {
            Error::Failed { code, detail } => Error::Caused {
                code,
                detail: detail.unwrap_or_else(|| Text::new(code.message(Lang::ZhTw), code.message(Lang::En))),
                source: source.into(),
            },
            other => other,
        }
    }

    /// A storage failure from a backend error.
    pub fn storage(code: ErrorCode, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Storage {
            code,
            source: source.into(),
        }
    }

    /// An internal error: an invariant of ecpa itself did not hold.
    pub fn internal(what: impl Into<String>) -> Self {
        let what = what.into();
        Error::with(ErrorCode::Internal, what.clone(), what)
    }
}

/// The registration service's maintenance notice, as the NHI site words it:
/// 「配合戶政系統維護，本系統於107年10月5日20時至…將暫停註冊服務，敬請見諒。」. The reason is the
/// operator's (default 「配合系統維護」).
pub fn maintenance_notice(from: RocDateTime, to: RocDateTime, reason: Option<&str>) -> String {
    format!(
        "{}，本系統於{}至{}將暫停註冊服務，敬請見諒。",
        reason.unwrap_or("配合系統維護"),
        from.to_zh_hour(),
        to.to_zh_hour()
    )
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let words = e.to_string();
        Error::caused(ErrorCode::IoFailed, words.clone(), words, e)
    }
}
