/*
 * ecpa.h: the C ABI of ecpa, Taiwan's eCPA award-order flow (login, consent, award orders,
 * proofing). Generated from src/ffi by cbindgen and tests/ffi_header.rs: do not edit.
 *
 * Conventions (see each function for its particulars):
 * - every function returns ECPA_OK (0) or a stable error code (enum ecpa_code);
 *   ecpa_error_message() and ecpa_last_error_detail() give the zh-TW / English messages;
 * - the object (handle) comes first, then inputs, then outputs; outputs are written only on
 *   success (a string output's size is also written when the buffer is too small);
 * - strings in are NUL-terminated UTF-8; binary data is pointer + length; nothing passed in
 *   is kept after the call returns;
 * - strings out go to the caller's buffer (buf, len, out_len): out_len receives the size
 *   needed including the NUL; a NULL or small buf returns ECPA_E_FFI_BUFFER_TOO_SMALL
 *   (allocate *out_len bytes and call again, looping if a live listing grew meanwhile);
 * - handles are released by their _free / _close function (NULL is ignored);
 * - an ecpa_portal may be used by many threads at once; other handles by one thread at a time;
 * - panics never cross the boundary (ECPA_E_FFI_PANIC).
 */

#ifndef ECPA_H
#define ECPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/*
 * The stable error codes every function returns (0 = ECPA_OK). A number never changes
 * meaning; ecpa_error_message() gives the message in zh-TW or English.
 */
enum ecpa_code {
    /* Success. 成功 */
    ECPA_CODE_OK = 0,
    /* The national ID or resident certificate number is malformed 身分證統一編號或居留證號格式錯誤 */
    ECPA_E_NATIONAL_ID_INVALID = 1001,
    /* The national ID or resident certificate number fails its check digit 身分證統一編號或居留證號檢查碼錯誤 */
    ECPA_E_NATIONAL_ID_CHECKSUM = 1002,
    /* The date is malformed or does not exist 日期格式錯誤或日期不存在 */
    ECPA_E_DATE_INVALID = 1010,
    /* The agency code is malformed 機關代碼格式錯誤 */
    ECPA_E_AGENCY_CODE_INVALID = 1020,
    /* The document number is malformed 發文字號格式錯誤 */
    ECPA_E_DOCUMENT_NUMBER_INVALID = 1021,
    /* The e-mail address is malformed 電子郵件信箱格式錯誤 */
    ECPA_E_EMAIL_INVALID = 1030,
    /* The password breaks the policy 密碼不符合規則 */
    ECPA_E_PASSWORD_POLICY = 1040,
    /* The password and its confirmation differ 兩次輸入的密碼不一致 */
    ECPA_E_PASSWORD_MISMATCH = 1041,
    /* The household number is malformed: one letter and seven digits 戶號格式錯誤：應為 1 個英文字母加 7 位數字 */
    ECPA_E_HOUSEHOLD_NUMBER_INVALID = 1050,
    /* The administrative division code is invalid 行政區域代碼錯誤 */
    ECPA_E_ADMIN_DIVISION_INVALID = 1051,
    /* The NHI card number is malformed: twelve digits 健保卡號格式錯誤：應為 12 位數字 */
    ECPA_E_CARD_NUMBER_INVALID = 1060,
    /* The NHI card's basic data is malformed 健保卡基本資料格式錯誤 */
    ECPA_E_CARD_DATA_INVALID = 1061,
    /* A field is empty, too long or holds forbidden characters 欄位內容不正確 */
    ECPA_E_FIELD_INVALID = 1070,
    /* The CSV file has an error CSV 檔案內容錯誤 */
    ECPA_E_CSV_INVALID = 1080,
    /* The request body is not valid for this endpoint 請求內容格式錯誤 */
    ECPA_E_REQUEST_INVALID = 1090,
    /* The request body is too large 請求內容過大 */
    ECPA_E_REQUEST_TOO_LARGE = 1091,
    /* There is no endpoint with this path and method 查無此服務路徑 */
    ECPA_E_ENDPOINT_UNKNOWN = 1092,
    /* The request body must be sent as application/json 請求內容類型應為 application/json */
    ECPA_E_CONTENT_TYPE_INVALID = 1093,
    /* The configuration is invalid 設定檔內容錯誤 */
    ECPA_E_CONFIG_INVALID = 1094,
    /* This endpoint does not accept this method 此服務路徑不支援此請求方法 */
    ECPA_E_METHOD_NOT_ALLOWED = 1095,
    /* The smart card service (PC/SC) is not running: start pcscd or the Smart Card service 智慧卡服務（PC/SC）未執行，請啟動 pcscd 或 Smart Card 服務 */
    ECPA_E_PCSC_UNAVAILABLE = 2001,
    /* No card reader was found: check that the reader is connected 找不到讀卡機，請確認讀卡機已連接 */
    ECPA_E_READER_NOT_FOUND = 2002,
    /* There is no card in the reader: insert the card 讀卡機中沒有卡片，請插入卡片 */
    ECPA_E_CARD_ABSENT = 2003,
    /* The card was removed: insert it again and retry 卡片已被取出，請重新插入卡片後再試 */
    ECPA_E_CARD_REMOVED = 2004,
    /* Another program reset the card: try again 卡片已被其他程式重置，請再試一次 */
    ECPA_E_CARD_RESET = 2005,
    /* The exchange with the card was cut off: check the card is inserted and retry 與卡片的傳輸中斷，請確認卡片插妥後再試 */
    ECPA_E_CARD_NOT_TRANSACTED = 2006,
    /* Another program holds the reader exclusively: close it and retry 讀卡機正被其他程式獨占使用，請關閉該程式後再試 */
    ECPA_E_CARD_IN_USE = 2007,
    /* Timed out waiting for the card 等候卡片逾時 */
    ECPA_E_CARD_TIMEOUT = 2008,
    /* This is not the card asked for: insert the NHI card 卡片種類不符，請插入健保卡 */
    ECPA_E_CARD_UNSUPPORTED = 2010,
    /* The card answered with an error status 卡片回應錯誤 */
    ECPA_E_CARD_STATUS = 2011,
    /* A card command or response is malformed 卡片指令或回應格式錯誤 */
    ECPA_E_APDU_INVALID = 2012,
    /* Communication with the card reader failed 讀卡機通訊失敗 */
    ECPA_E_CARD_TRANSPORT_FAILED = 2013,
    /* A card transcript is malformed or does not match the commands sent 卡片交換紀錄格式錯誤或與實際指令不符 */
    ECPA_E_CARD_TRANSCRIPT_INVALID = 2020,
    /* This build of ecpa has no smart-card support: rebuild it with `--features card`, which needs libpcsclite-dev 此版本的 ecpa 未包含讀卡功能（未啟用 card 功能）：請以 --features card 重新建置（須安裝 libpcsclite-dev） */
    ECPA_E_CARD_SUPPORT_MISSING = 2090,
    /* The PKCS#11 module was not found: install the HiCOS card tool from the MOICA site or give the module path 找不到 PKCS#11 模組（請安裝內政部憑證管理中心的 HiCOS 卡片管理工具，或指定模組路徑） */
    ECPA_E_TOKEN_MODULE_NOT_FOUND = 2101,
    /* The PKCS#11 module could not be loaded or initialised PKCS#11 模組無法載入或初始化 */
    ECPA_E_TOKEN_MODULE_LOAD_FAILED = 2102,
    /* No card token found: check that the reader is connected and the citizen card inserted 找不到憑證卡，請確認讀卡機已連接並已插入自然人憑證 */
    ECPA_E_TOKEN_NOT_PRESENT = 2103,
    /* The card holds no signing certificate with its private key 憑證卡上找不到簽章用憑證及其私密金鑰 */
    ECPA_E_TOKEN_SIGNING_CERTIFICATE_NOT_FOUND = 2104,
    /* The card does not support RSA PKCS#1 v1.5 SHA-256 signatures 憑證卡不支援 RSA PKCS#1 v1.5 SHA-256 簽章 */
    ECPA_E_TOKEN_MECHANISM_UNSUPPORTED = 2105,
    /* The card was removed or the session ended: insert it again and retry 憑證卡已被移除或連線已中斷，請重新插卡後再試 */
    ECPA_E_TOKEN_REMOVED = 2106,
    /* The PKCS#11 module reported an error PKCS#11 模組回報錯誤 */
    ECPA_E_TOKEN_MODULE_FAILED = 2199,
    /* The card agent listens on a loopback address only (127.0.0.1 or ::1) 讀卡代理程式只能在本機位址（127.0.0.1、::1）上接聽 */
    ECPA_E_AGENT_LISTEN_NOT_LOOPBACK = 2201,
    /* The card agent's port is taken by another program: pick another with --listen 讀卡代理程式的連接埠已被其他程式使用，請以 --listen 指定其他連接埠 */
    ECPA_E_AGENT_PORT_TAKEN = 2202,
    /* This site is not allowed to use the card agent 此網站未獲准使用讀卡代理程式 */
    ECPA_E_AGENT_ORIGIN_REFUSED = 2203,
    /* The card agent answers only requests addressed to this machine by a loopback name 讀卡代理程式只接受以本機名稱連線的要求 */
    ECPA_E_AGENT_HOST_REFUSED = 2204,
    /* An environment check did not answer in time 環境檢測項目逾時未回應 */
    ECPA_E_DOCTOR_PROBE_TIMED_OUT = 2901,
    /* Some environment checks failed 環境檢測有未通過的項目 */
    ECPA_E_DOCTOR_CHECKS_FAILED = 2903,
    /* The PIN must be 6 to 8 letters or digits PIN 碼格式錯誤：應為 6 至 8 碼英文字母或數字 */
    ECPA_E_PIN_FORMAT_INVALID = 3101,
    /* Wrong PIN PIN 碼錯誤 */
    ECPA_E_PIN_INCORRECT = 3102,
    /* The PIN is blocked: have it unblocked with the card's unblock code or at a household registration office PIN 碼已鎖住，請持卡至戶政事務所或以憑證卡解鎖碼解鎖 */
    ECPA_E_PIN_BLOCKED = 3103,
    /* The certificate is malformed 憑證格式錯誤 */
    ECPA_E_CERTIFICATE_MALFORMED = 4001,
    /* The signature algorithm is not supported 不支援的簽章演算法 */
    ECPA_E_SIGNATURE_ALGORITHM_UNSUPPORTED = 4002,
    /* The public key type, curve or size is not supported 不支援的公開金鑰（類型、曲線或長度） */
    ECPA_E_PUBLIC_KEY_UNSUPPORTED = 4003,
    /* The signature does not verify 簽章驗證失敗 */
    ECPA_E_SIGNATURE_INVALID = 4004,
    /* The certificate has expired 憑證已逾期 */
    ECPA_E_CERTIFICATE_EXPIRED = 4010,
    /* The certificate is not yet valid 憑證尚未生效 */
    ECPA_E_CERTIFICATE_NOT_YET_VALID = 4011,
    /* The certificate has been revoked 憑證已廢止 */
    ECPA_E_CERTIFICATE_REVOKED = 4012,
    /* No path to a trust anchor: the issuer is unknown 找不到可信任的簽發者（無法建立至信任錨點的憑證路徑） */
    ECPA_E_UNKNOWN_ISSUER = 4013,
    /* The certificate policy is not acceptable 憑證政策不符 */
    ECPA_E_POLICY_NOT_ACCEPTABLE = 4014,
    /* The certificate's key usage does not allow this use 憑證金鑰用途不符 */
    ECPA_E_KEY_USAGE_INVALID = 4015,
    /* The certificate path breaks a constraint 憑證路徑不符合限制 */
    ECPA_E_PATH_INVALID = 4016,
    /* The certificate is not valid for the expected name 憑證名稱與對象不符 */
    ECPA_E_PEER_NAME_MISMATCH = 4017,
    /* The CRL is malformed 憑證廢止清冊格式錯誤 */
    ECPA_E_CRL_MALFORMED = 4020,
    /* The CRL is not current 憑證廢止清冊已過期 */
    ECPA_E_CRL_STALE = 4021,
    /* The CRL's signature does not verify 憑證廢止清冊簽章驗證失敗 */
    ECPA_E_CRL_SIGNATURE_INVALID = 4022,
    /* No usable CRL covers the certificate 找不到適用的憑證廢止清冊 */
    ECPA_E_CRL_MISSING = 4023,
    /* The CMS signed data is malformed CMS 簽章資料格式錯誤 */
    ECPA_E_CMS_MALFORMED = 4030,
    /* The signed content does not match its message digest 簽章內容與訊息摘要不符 */
    ECPA_E_CMS_DIGEST_MISMATCH = 4031,
    /* The signer's certificate is not in the CMS signed data 找不到簽章者憑證 */
    ECPA_E_CMS_SIGNER_NOT_FOUND = 4032,
    /* This NHI card is not registered for online services 您尚未註冊健保卡網路服務 */
    ECPA_E_NHI_CARD_NOT_REGISTERED = 5001,
    /* The registration password is wrong 註冊密碼輸入錯誤 */
    ECPA_E_REGISTRATION_PASSWORD_WRONG = 5002,
    /* Verification failed: no account was found for you. For security reasons, please write to the DGPA's support mailbox: pemis@dgpa.gov.tw. 驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：pemis@dgpa.gov.tw。 */
    ECPA_E_ACCOUNT_NOT_FOUND = 5003,
    /* Sorry, this account is disabled: the personnel record may show that the person has left office. If in doubt, ask your agency's personnel office first. 很抱歉，該帳號已停用，可能是此帳號之人事資料為卸職狀態，若有問題請先洽機關所屬人事部門洽詢。 */
    ECPA_E_ACCOUNT_DISABLED = 5004,
    /* Too many wrong passwords: login is suspended for a while 密碼錯誤次數過多，暫停登入 */
    ECPA_E_LOGIN_LOCKED = 5005,
    /* The account name or password is wrong 帳號或密碼錯誤 */
    ECPA_E_ACCOUNT_PASSWORD_WRONG = 5006,
    /* This account name is already taken 此帳號名稱已有人使用 */
    ECPA_E_ACCOUNT_NAME_TAKEN = 5007,
    /* The session is not valid: please log in again 登入狀態無效，請重新登入 */
    ECPA_E_SESSION_INVALID = 5010,
    /* The session has expired: please log in again 登入逾時，請重新登入 */
    ECPA_E_SESSION_EXPIRED = 5011,
    /* This application needs a stronger login (use the citizen digital certificate) 上述反灰的連結請使用自然人憑證登入才可使用 */
    ECPA_E_ASSURANCE_TOO_LOW = 5020,
    /* There is no application with this code 查無此應用系統 */
    ECPA_E_APPLICATION_UNKNOWN = 5021,
    /* Add this application to "my applications" first 請先將此應用系統加入「我的應用系統」 */
    ECPA_E_APPLICATION_NOT_ADDED = 5022,
    /* You may not access this data 您沒有權限存取此資料 */
    ECPA_E_ACCESS_DENIED = 5030,
    /* For personnel officers only 僅限人事人員使用 */
    ECPA_E_NOT_PERSONNEL_OFFICER = 5031,
    /* The login challenge is not valid: start the login again 登入挑戰碼無效，請重新登入 */
    ECPA_E_CHALLENGE_UNKNOWN = 5040,
    /* The login challenge was already used: start the login again 登入挑戰碼已使用過，請重新登入 */
    ECPA_E_CHALLENGE_REPLAYED = 5041,
    /* The login challenge has expired: start the login again 登入挑戰碼已逾時，請重新登入 */
    ECPA_E_CHALLENGE_EXPIRED = 5042,
    /* First login with this certificate: enter your eCPA account name or national ID 首次使用自然人憑證登入，請輸入 eCPA 自訂帳號或身分證字號 */
    ECPA_E_CERTIFICATE_NOT_BOUND = 5043,
    /* The certificate does not belong to the account or ID entered 憑證與您輸入的帳號或身分證字號不符 */
    ECPA_E_BINDING_MISMATCH = 5044,
    /* Certificate login is not configured on this portal (no trust anchors) 本系統未設定憑證信任錨點，無法使用自然人憑證登入 */
    ECPA_E_CERTIFICATE_LOGIN_UNAVAILABLE = 5045,
    /* The request's CSRF token is missing or wrong: reload the page and try again 請求來源驗證失敗，請重新整理頁面後再試 */
    ECPA_E_CSRF_REJECTED = 5046,
    /* Too many attempts from this address: try again shortly 操作過於頻繁，請稍後再試 */
    ECPA_E_RATE_LIMITED = 5047,
    /* A personnel officer may not issue award orders to themself or decide on their own corrections: another officer of the agency must 人事人員不可對自己發布獎懲令或核定自己的校對更正，請由機關其他人事人員辦理 */
    ECPA_E_SELF_APPROVAL_REFUSED = 5048,
    /* Too many logins at once: please try again in a moment 登入人數眾多，請稍後再試 */
    ECPA_E_LOGIN_BUSY = 5049,
    /* Too many wrong passwords were tried today: reset the password by mail (forgot password) before logging in again 今日密碼錯誤次數已達上限，請使用「忘記密碼」重設註冊密碼後再登入 */
    ECPA_E_LOGIN_HELD = 5050,
    /* The NHI card's answer could not be verified: read the card again and retry 健保卡驗證失敗，無法確認讀卡機中的健保卡，請重新讀卡後再試 */
    ECPA_E_CARD_POSSESSION_UNVERIFIED = 5051,
    /* Officer functions need a citizen certificate login or an NHI card login with the card verified 人事人員功能須以自然人憑證或經驗證之健保卡登入 */
    ECPA_E_OFFICER_LOGIN_TOO_WEAK = 5052,
    /* The single sign-on assertion is not valid: open the application again from the portal 單一登入憑證無效，請回人事服務網重新開啟應用系統 */
    ECPA_E_SSO_ASSERTION_INVALID = 5053,
    /* The single sign-on assertion has expired: open the application again from the portal 單一登入憑證已逾時，請回人事服務網重新開啟應用系統 */
    ECPA_E_SSO_ASSERTION_EXPIRED = 5054,
    /* The single sign-on assertion was already used: open the application again from the portal 單一登入憑證已使用過，請回人事服務網重新開啟應用系統 */
    ECPA_E_SSO_ASSERTION_REPLAYED = 5055,
    /* The single sign-on assertion was issued to another application 此單一登入憑證不是發給本應用系統的 */
    ECPA_E_SSO_AUDIENCE_MISMATCH = 5056,
    /* This login signature was made for another site: check the address and log in again 此登入簽章是為其他網站產生的，不能用於本網站：請確認網址後重新登入 */
    ECPA_E_LOGIN_ORIGIN_MISMATCH = 5057,
    /* This portal accepts only certificate logins bound to its address, made through the card agent (ecpa agent) 本網站僅接受經讀卡代理程式（ecpa agent）產生、綁定網址的憑證登入 */
    ECPA_E_ORIGIN_BOUND_REQUIRED = 5058,
    /* There is no agency with this code 查無此機關 */
    ECPA_E_AGENCY_NOT_FOUND = 5501,
    /* There is no employee with this ID 查無此人員 */
    ECPA_E_EMPLOYEE_NOT_FOUND = 5502,
    /* This employee does not serve in your agency 此人員不屬於您服務的機關 */
    ECPA_E_EMPLOYEE_NOT_IN_AGENCY = 5503,
    /* Registration is suspended for maintenance 系統維護中，暫停註冊服務 */
    ECPA_E_REGISTRATION_MAINTENANCE = 6001,
    /* This NHI card is already registered 此健保卡已註冊網路服務 */
    ECPA_E_ALREADY_REGISTERED = 6002,
    /* A registration for you is waiting for its e-mail confirmation: open the mail sent to the address in your personnel record, or ask for it again 已有一筆註冊申請等待電子信箱認證，請開啟寄至人事資料電子信箱的認證信，或申請補寄認證信 */
    ECPA_E_REGISTRATION_PENDING = 6003,
    /* The card's data do not match your personnel record, so you cannot register online: ask your agency's personnel office 健保卡資料與人事資料不符，無法線上註冊，請洽服務機關人事單位 */
    ECPA_E_REGISTRATION_DATA_MISMATCH = 6004,
    /* Your personnel record holds no e-mail address, so you cannot register online: ask your agency's personnel office 人事資料未登錄您的電子郵件信箱，無法線上註冊，請洽服務機關人事單位 */
    ECPA_E_REGISTRATION_NO_ADDRESS = 6005,
    /* Read the NHI online services registration rules and accept them before filling in the form 請先閱讀全民健康保險網路服務註冊管理作業要點，點選「我已閱讀完畢，並瞭解相關規定」後再填寫註冊資料 */
    ECPA_E_TERMS_NOT_ACCEPTED = 6006,
    /* This card's registration is complete and cannot be deleted online: to stop it, bring your identity document to an NHI counter 此健保卡已完成註冊，無法線上刪除；申請註冊停用，請持身分證明文件臨櫃辦理（本署各地聯合服務中心及連絡辦公室） */
    ECPA_E_REGISTRATION_STOP_IN_PERSON = 6007,
    /* The link is not valid: check that the same NHI card is inserted 連結無效，請確認已插入同一張健保卡 */
    ECPA_E_TOKEN_INVALID = 6010,
    /* The link has expired: please ask for a new one 連結已逾期，請重新申請 */
    ECPA_E_TOKEN_EXPIRED = 6011,
    /* The link was already used: please ask for a new one 連結已使用過，請重新申請 */
    ECPA_E_TOKEN_USED = 6012,
    /* The household number or address does not match the registration 戶號或戶籍地址與註冊資料不符 */
    ECPA_E_HOUSEHOLD_MISMATCH = 6020,
    /* The consent text has changed: read it again before agreeing 同意書版本已更新，請重新檢視訊息後再同意 */
    ECPA_E_CONSENT_TEXT_OUTDATED = 7001,
    /* Once given, consent to electronic award orders cannot be changed to "disagree" 同意採用電子化措施辦理後，不可變更為「不同意」 */
    ECPA_E_CONSENT_FINAL = 7002,
    /* You have not consented to electronic award orders 您尚未同意獎勵令電子化 */
    ECPA_E_CONSENT_NOT_GIVEN = 7003,
    /* There is no such award order 查無此獎懲令 */
    ECPA_E_AWARD_ORDER_NOT_FOUND = 7501,
    /* The award order's contents are invalid 獎懲令內容不正確 */
    ECPA_E_AWARD_ORDER_INVALID = 7502,
    /* This document number was already issued to this person 此發文字號已對同一人員發布過 */
    ECPA_E_AWARD_ORDER_DUPLICATE = 7503,
    /* There is no such proofing field 查無此校對欄位 */
    ECPA_E_PROOFING_FIELD_UNKNOWN = 8001,
    /* The corrected value equals the current one 修改後資料內容與修改前相同 */
    ECPA_E_PROOFING_VALUE_UNCHANGED = 8002,
    /* There is no such correction 查無此校對修正 */
    ECPA_E_CORRECTION_NOT_FOUND = 8003,
    /* This correction was already processed 此校對修正已處理 */
    ECPA_E_CORRECTION_ALREADY_PROCESSED = 8004,
    /* A rejection needs a reason 退回時請填寫理由 */
    ECPA_E_REJECT_REASON_REQUIRED = 8005,
    /* This field cannot be corrected online 此欄位不開放線上校對修正 */
    ECPA_E_PROOFING_FIELD_READ_ONLY = 8006,
    /* The database failed 資料庫錯誤 */
    ECPA_E_STORAGE_FAILURE = 9001,
    /* The database is busy: try again shortly 資料庫忙碌中，請稍後再試 */
    ECPA_E_STORAGE_BUSY = 9002,
    /* The database was written by a newer ecpa: upgrade ecpa 資料庫版本比本程式新，請更新 ecpa */
    ECPA_E_SCHEMA_TOO_NEW = 9003,
    /* The stored data is damaged 資料庫內容毀損 */
    ECPA_E_DATA_CORRUPT = 9004,
    /* The database cannot be reached or the connection broke: the transaction in flight was not completed, try again shortly 無法連線至資料庫或連線中斷，進行中的交易未完成，請稍後再試 */
    ECPA_E_STORAGE_UNAVAILABLE = 9005,
    /* The database URL is malformed 資料庫連線字串格式錯誤 */
    ECPA_E_STORAGE_URL_INVALID = 9006,
    /* The mail could not be sent: it will be retried 郵件寄送失敗，稍後將重試 */
    ECPA_E_MAIL_FAILED = 9501,
    /* A file could not be read or written 檔案讀寫失敗 */
    ECPA_E_IO_FAILED = 9502,
    /* The mail server settings are invalid 郵件伺服器設定錯誤 */
    ECPA_E_MAIL_CONFIG_INVALID = 9503,
    /* The portal service cannot be reached 無法連線至人事服務網服務 */
    ECPA_E_HTTP_UNREACHABLE = 9550,
    /* The portal service did not answer in time 人事服務網服務回應逾時 */
    ECPA_E_HTTP_TIMEOUT = 9551,
    /* The portal service's answer is not understood 人事服務網服務回應格式錯誤 */
    ECPA_E_HTTP_BAD_RESPONSE = 9552,
    /* The TLS certificate or key cannot be used TLS 憑證或金鑰無法使用 */
    ECPA_E_TLS_FAILED = 9553,
    /* A required pointer argument is NULL 必要的指標參數為 NULL */
    ECPA_E_FFI_NULL_POINTER = 9801,
    /* The output buffer is too small: the size needed is in out_len 輸出緩衝區太小，所需大小已寫入 out_len */
    ECPA_E_FFI_BUFFER_TOO_SMALL = 9802,
    /* A string argument is not valid UTF-8 字串不是有效的 UTF-8 編碼 */
    ECPA_E_FFI_STRING_INVALID = 9803,
    /* ecpa panicked inside the call (caught at the boundary): please report it 程式內部錯誤（已攔截），請回報 */
    ECPA_E_FFI_PANIC = 9804,
    /* An argument is out of range or malformed 參數內容不正確 */
    ECPA_E_FFI_ARGUMENT_INVALID = 9805,
    /* The handle is of the wrong kind or was already freed 物件代號無效或已釋放 */
    ECPA_E_FFI_HANDLE_INVALID = 9806,
    /* This operation needs an embedded portal (a database), not a remote one 此操作僅適用於本機資料庫，不適用於遠端服務 */
    ECPA_E_LOCAL_PORTAL_ONLY = 9807,
    /* Internal error in ecpa: please report it 程式內部錯誤，請回報 */
    ECPA_E_INTERNAL = 9999,
};


/**
 * Success: every function returns it when it did what was asked.
 */
#define ECPA_OK 0

/**
 * `lang` argument: Traditional Chinese (Taiwan), the default language of messages.
 */
#define ECPA_LANG_ZH_TW 0

/**
 * `lang` argument: English.
 */
#define ECPA_LANG_EN 1

/**
 * Sex (性別) as the NHI card and the national ID's second digit say: male.
 */
#define ECPA_SEX_MALE 1

/**
 * Sex: female.
 */
#define ECPA_SEX_FEMALE 2

/**
 * Kind of identifier: 身分證統一編號 (national ID).
 */
#define ECPA_ID_KIND_NATIONAL 1

/**
 * Kind of identifier: old-style resident certificate (舊式居留證, second character A–D).
 */
#define ECPA_ID_KIND_RESIDENT_OLD 2

/**
 * Kind of identifier: new-style resident certificate (新式居留證, second digit 8 or 9).
 */
#define ECPA_ID_KIND_RESIDENT_NEW 3

/**
 * Tries left written to an `out_tries_left` when the card or service does not say how many.
 */
#define ECPA_TRIES_UNKNOWN -1

/**
 * `notice` argument of [`ecpa_notice_message`]: a registration's (or new) e-mail address is
 * confirmed, 「已完成電子信箱認證」.
 */
#define ECPA_NOTICE_EMAIL_CONFIRMED 1

/**
 * `notice` argument of [`ecpa_notice_message`]: a reset link set the new registration
 * password, 「註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！」.
 */
#define ECPA_NOTICE_PASSWORD_CHANGED 2

/**
 * `notice` argument of [`ecpa_notice_message`]: 刪除註冊申請 is done.
 */
#define ECPA_NOTICE_APPLICATION_DELETED 3

/**
 * `notice` argument of [`ecpa_notice_message`]: 基本資料異動 changed the phones.
 */
#define ECPA_NOTICE_DETAILS_CHANGED 4

/**
 * `notice` argument of [`ecpa_notice_message`]: a new e-mail address waits for its link.
 */
#define ECPA_NOTICE_EMAIL_CHANGE_SENT 5

/**
 * `notice` argument of [`ecpa_notice_message`]: the service's note that a registration is
 * stopped in person.
 */
#define ECPA_NOTICE_STOP_IN_PERSON 6

/**
 * `notice` argument of [`ecpa_notice_message`]: the answer to 忘記帳號或密碼.
 */
#define ECPA_NOTICE_ACCOUNT_RECOVERY_SENT 7

/**
 * `notice` argument of [`ecpa_notice_message`]: a recovery link set the account's password.
 */
#define ECPA_NOTICE_ACCOUNT_PASSWORD_CHANGED 8

/**
 * The buffer `ecpa_application_open_json` and `ecpa_sso_redeem_json` take up front: each call
 * of them acts (issues an assertion, spends one), so a size query must not come first. A
 * smaller buffer is refused with `ECPA_E_FFI_BUFFER_TOO_SMALL`, and this size in `out_len`,
 * before anything is done.
 */
#define ECPA_SSO_JSON_BUFFER 4096

/**
 * `ecpa_doctor_report`: the table of one run of the environment check, kept so it can be read
 * (and its size asked) without probing again.
 */
typedef struct ecpa_doctor_report ecpa_doctor_report;

/**
 * `ecpa_file_mailer`: a mailer that writes each mail as a file in a directory (the demo's
 * and tests' stand-in for SMTP), and reads them back.
 */
typedef struct ecpa_file_mailer ecpa_file_mailer;

/**
 * `ecpa_nhi_card`: an NHI card's basic data (健保卡基本資料), read from a reader or built from
 * fields. Holds the full national ID; JSON output masks it unless asked.
 */
typedef struct ecpa_nhi_card ecpa_nhi_card;

/**
 * `ecpa_pkcs11`: a PKCS#11 module (HiCOS for the citizen card) and the token chosen in it.
 */
typedef struct ecpa_pkcs11 ecpa_pkcs11;

/**
 * `ecpa_portal`: the eCPA portal (人事服務網), embedded or remote. Shared freely between threads.
 */
typedef struct ecpa_portal ecpa_portal;

/**
 * `ecpa_session`: a login. Holds the bearer token (wiped when released), never a password.
 */
typedef struct ecpa_session ecpa_session;

/**
 * `ecpa_signer`: something that signs citizen-certificate login challenges with its
 * certificate: a citizen card logged in over PKCS#11, or a software key.
 */
typedef struct ecpa_signer ecpa_signer;

/**
 * `ecpa_test_pki`: the demo's own GRCA-like root and MOICA-like intermediate, issuing
 * citizen certificates with software keys. For demos and tests only: nothing trusts it
 * unless given its trust explicitly.
 */
typedef struct ecpa_test_pki ecpa_test_pki;

/**
 * `ecpa_trust`: the certificates a portal trusts for citizen-certificate login (GRCA anchors,
 * MOICA intermediates), collected before the portal is opened.
 */
typedef struct ecpa_trust ecpa_trust;

/**
 * What a bulk issuance did, as C receives it.
 */
typedef struct {
    /**
     * Orders issued.
     */
    size_t issued;
    /**
     * Of which delivered electronically (one notice mail each).
     */
    size_t electronic;
    /**
     * Of which on paper (above the e-delivery ceiling, a punishment, or no consent).
     */
    size_t paper;
} ecpa_bulk_counts;

/**
 * What a directory import did, as C receives it.
 */
typedef struct {
    /**
     * Data lines read.
     */
    size_t rows;
    /**
     * Agencies created or renamed.
     */
    size_t agencies;
    /**
     * Employees created.
     */
    size_t created;
    /**
     * Employees updated.
     */
    size_t updated;
    /**
     * Personnel officers (人事人員) set.
     */
    size_t officers;
} ecpa_import_counts;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Writes the general message of an error code, in zh-TW (`ECPA_LANG_ZH_TW`) or English
 * (`ECPA_LANG_EN`), to the caller's buffer. Code 0 is "成功" / "Success". An unknown code gives
 * `ECPA_E_FFI_ARGUMENT_INVALID`. Never changes what `ecpa_last_error_detail` reports.
 * Thread-safe; reads only static text.
 */
uint32_t ecpa_error_message(uint32_t code, uint32_t lang, char *buf, size_t len, size_t *out_len);

/**
 * Writes what the service tells the person after a call succeeded, in the guide's words, in
 * zh-TW or English: `ECPA_NOTICE_EMAIL_CONFIRMED` after `ecpa_registration_confirm`,
 * `ECPA_NOTICE_PASSWORD_CHANGED` after `ecpa_password_reset_complete`, and so on as each call
 * says (`ECPA_NOTICE_STOP_IN_PERSON` is the service's standing note). An unknown notice gives
 * `ECPA_E_FFI_ARGUMENT_INVALID`. Thread-safe; reads only static text.
 */
uint32_t ecpa_notice_message(uint32_t notice,
                             uint32_t lang,
                             char *buf,
                             size_t len,
                             size_t *out_len);

/**
 * Writes the stable snake_case name of an error code (e.g. `registration_password_wrong`;
 * `ok` for 0). ASCII. Never changes what `ecpa_last_error_detail` reports. Thread-safe.
 */
uint32_t ecpa_error_name(uint32_t code, char *buf, size_t len, size_t *out_len);

/**
 * Writes the full message of the last call that failed on this thread: the code's message and
 * the particulars of that failure (which field, how many tries are left, until when a lockout
 * lasts), in zh-TW or English. An empty string when the last call on this thread succeeded.
 * National IDs in it are masked. Per thread: each thread sees its own last failure. Asking
 * (even with a too-small buffer) never replaces the failure being asked about.
 */
uint32_t ecpa_last_error_detail(uint32_t lang, char *buf, size_t len, size_t *out_len);

/**
 * The code of the last call that failed on this thread (0 when the last call succeeded), the
 * failure `ecpa_last_error_detail` describes. Per thread; never changes it.
 */
uint32_t ecpa_last_error_code(void);

/**
 * Checks a national ID (身分證統一編號) or resident certificate number (居留證號): returns
 * `ECPA_OK` when valid, else `ECPA_E_NATIONAL_ID_INVALID` (shape) or
 * `ECPA_E_NATIONAL_ID_CHECKSUM` (check digit). On success writes the kind
 * (`ECPA_ID_KIND_*`) to `out_kind` and the sex (`ECPA_SEX_*`) to `out_sex`; both may be NULL.
 * `id` is NUL-terminated UTF-8 and is not kept. Thread-safe; no I/O.
 */
uint32_t ecpa_id_check(const char *id,
                       uint32_t *out_kind,
                       uint32_t *out_sex);

/**
 * Panics inside the library on purpose and returns `ECPA_E_FFI_PANIC`: lets an embedder (and
 * the tests) check that a panic becomes a code and never unwinds into C. Thread-safe.
 */
uint32_t ecpa_selftest_panic(void);

/**
 * Builds NHI card data from its fields, each validated: `card_number` twelve digits, `name`
 * UTF-8 (stored as Big5 as on the card), `national_id`, `birth_date` and `issue_date` as ROC
 * (`075/03/15`, `0750315`) or ISO (`1986-03-15`) dates, `sex` `ECPA_SEX_MALE` or
 * `ECPA_SEX_FEMALE`. Writes a new handle to `out_card`; release with `ecpa_nhi_card_free`.
 */
uint32_t ecpa_nhi_card_new(const char *card_number,
                           const char *name,
                           const char *national_id,
                           const char *birth_date,
                           uint32_t sex,
                           const char *issue_date,
                           ecpa_nhi_card **out_card);

/**
 * Parses the 57-byte basic-data record an NHI card returns (`record`, `len` must be 57):
 * for programs that talk to the reader themselves. Writes a new handle to `out_card`.
 */
uint32_t ecpa_nhi_card_from_record(const uint8_t *record, size_t len, ecpa_nhi_card **out_card);

/**
 * Reads the NHI card over PC/SC: in reader `reader` (its name or a unique prefix; NULL for
 * any reader), waiting up to `timeout_ms` for a card to be inserted. Writes a new handle to
 * `out_card`. Blocks the calling thread; other threads may read other readers meanwhile.
 */
uint32_t ecpa_nhi_card_read(const char *reader, uint32_t timeout_ms, ecpa_nhi_card **out_card);

/**
 * Writes the card's data as JSON, the same fields `ecpa card read --json` prints:
 * `{"reader" (null when not read from a reader), "card_number", "name", "name_raw" (Big5,
 * hex), "name_lossy", "national_id", "birth_date" (ROC `yyy/mm/dd`), "birth_date_iso", "sex"
 * ("male" / "female"), "issue_date", "issue_date_iso"}`. The card number and national ID are masked
 * (`A12345****`) unless `reveal` is true.
 */
uint32_t ecpa_nhi_card_json(const ecpa_nhi_card *card,
                            bool reveal,
                            char *buf,
                            size_t len,
                            size_t *out_len);

/**
 * Releases card data (it holds a full national ID: release it when done). NULL is ignored.
 */
uint32_t ecpa_nhi_card_free(ecpa_nhi_card *card);

/**
 * Writes the card readers and the kind of card in each as JSON, as `ecpa card list --json`:
 * `[{"name", "kind" ("nhi" | "moica" | "unknown" | "empty"), "atr" (hex or null)}]`, within
 * `timeout_ms`.
 */
uint32_t ecpa_card_readers_json(uint32_t timeout_ms, char *buf, size_t len, size_t *out_len);

/**
 * A software signer from an RSA private key (`key`, `key_len` bytes of PKCS#8 DER) and its
 * certificate (`cert`, `cert_len` bytes, DER or PEM). The key bytes are copied and wiped with
 * the handle. Writes a new handle to `out_signer`; release with `ecpa_signer_free`.
 */
uint32_t ecpa_signer_from_pkcs8(const uint8_t *key,
                                size_t key_len,
                                const uint8_t *cert,
                                size_t cert_len,
                                ecpa_signer **out_signer);

/**
 * Writes the signer's certificate subject, e.g. `C=TW, CN=王小明, serialNumber=...` (UTF-8).
 */
uint32_t ecpa_signer_subject(const ecpa_signer *signer, char *buf, size_t len, size_t *out_len);

/**
 * Releases a signer. A card signer logs out of the card and closes its session. NULL is ignored.
 */
uint32_t ecpa_signer_free(ecpa_signer *signer);

/**
 * A fresh demo PKI (new RSA-2048 keys each time; takes a moment). Writes a new handle to
 * `out_pki`; release with `ecpa_test_pki_free`. For demos and tests only.
 */
uint32_t ecpa_test_pki_new(ecpa_test_pki **out_pki);

/**
 * Writes a new trust holding the demo PKI's root (as anchor) and intermediate, for
 * `ecpa_portal_open_with_trust`. Release with `ecpa_trust_free`.
 */
uint32_t ecpa_test_pki_trust(const ecpa_test_pki *pki, ecpa_trust **out_trust);

/**
 * Issues a citizen signing certificate (MOICA profile, class-3 policy) to `name` with the
 * 16-character subject `serial_number` and, when not NULL, the last four digits of the
 * national ID (`id_last_four`, which the first login checks); writes a software signer for
 * it to `out_signer`.
 */
uint32_t ecpa_test_pki_issue_citizen(const ecpa_test_pki *pki,
                                     const char *name,
                                     const char *serial_number,
                                     const char *id_last_four,
                                     ecpa_signer **out_signer);

/**
 * Releases a demo PKI. NULL is ignored.
 */
uint32_t ecpa_test_pki_free(ecpa_test_pki *pki);

/**
 * Loads a PKCS#11 module and chooses a token in it: `module_path` is the module file (NULL:
 * `ECPA_PKCS11_MODULE`, then where HiCOS is usually installed); `token` is a token label or
 * serial (NULL: the only token present). Writes a new handle to `out_pkcs11`; release with
 * `ecpa_pkcs11_free`. Nothing is logged in yet and no PIN is asked.
 */
uint32_t ecpa_pkcs11_open(const char *module_path, const char *token, ecpa_pkcs11 **out_pkcs11);

/**
 * Writes the PIN tries left as the token's flags tell, without spending a try: 1 on the final
 * try, 0 when locked, `ECPA_TRIES_UNKNOWN` (-1) when the module does not say (a citizen card
 * locks after three wrong PINs).
 */
uint32_t ecpa_pkcs11_pin_tries_left(const ecpa_pkcs11 *pkcs11, int32_t *out_tries_left);

/**
 * Logs in to the token with `pin` (copied into wiped memory, sent to the module once, never
 * retried) and writes a signer for its signing certificate to `out_signer`. On
 * `ECPA_E_PIN_INCORRECT` writes the tries left to `out_tries_left` (1 on the final try,
 * `ECPA_TRIES_UNKNOWN` when the module does not say); on `ECPA_E_PIN_BLOCKED` writes 0;
 * otherwise leaves it alone. `out_tries_left` may be NULL. Show the tries left to the holder
 * and let them decide: a citizen card locks after three wrong PINs.
 */
uint32_t ecpa_pkcs11_login(const ecpa_pkcs11 *pkcs11,
                           const char *pin,
                           int32_t *out_tries_left,
                           ecpa_signer **out_signer);

/**
 * Releases a PKCS#11 handle (signers made from it stay usable). NULL is ignored.
 */
uint32_t ecpa_pkcs11_free(ecpa_pkcs11 *pkcs11);

/**
 * Runs the environment check (`ecpa doctor`) and writes a new report handle to `out_report`
 * (read it with `ecpa_doctor_report_json`, release it with `ecpa_doctor_report_free`).
 * Optional inputs (NULL to skip or use the default): the PKCS#11 module path, the trust
 * anchors directory, the portal URL. Each probe gets `timeout_ms`; the call blocks the calling
 * thread for up to a few times that. Writes whether any row failed to `out_failed` (may be
 * NULL); the call itself succeeds whether rows fail or not.
 */
uint32_t ecpa_doctor_run(const char *pkcs11_module,
                         const char *anchors,
                         const char *portal_url,
                         uint32_t timeout_ms,
                         bool *out_failed,
                         ecpa_doctor_report **out_report);

/**
 * Writes a doctor report as JSON, the same as `ecpa doctor --json`: `{"ok": no row failed,
 * "rows": [{"id", "title": {"zh-TW", "en"}, "found": {...}, "expected": {...}, "status":
 * "ok" | "warn" | "fail", "fix": {...} or null}]}`.
 */
uint32_t ecpa_doctor_report_json(const ecpa_doctor_report *report,
                                 char *buf,
                                 size_t len,
                                 size_t *out_len);

/**
 * Releases a doctor report. NULL is ignored.
 */
uint32_t ecpa_doctor_report_free(ecpa_doctor_report *report);

/**
 * Writes the consent text currently shown (線上檢視訊息) in zh-TW (`ECPA_LANG_ZH_TW`) or English.
 */
uint32_t ecpa_consent_text(const ecpa_portal *portal,
                           uint32_t lang,
                           char *buf,
                           size_t len,
                           size_t *out_len);

/**
 * Writes the version of the current consent text (ASCII, e.g. `2019-07-01`): pass it to
 * `ecpa_consent_give` to agree to exactly the text shown.
 */
uint32_t ecpa_consent_version(const ecpa_portal *portal, char *buf, size_t len, size_t *out_len);

/**
 * Writes the caller's consent as JSON, the HTTP API's `ConsentRecord` or `null` when not
 * given: `{"text_version", "agreed_at" (ROC and ISO), "login_method"}`. Writes whether
 * consent was given to `out_given` (may be NULL).
 */
uint32_t ecpa_consent_status_json(const ecpa_portal *portal,
                                  const ecpa_session *session,
                                  bool *out_given,
                                  char *buf,
                                  size_t len,
                                  size_t *out_len);

/**
 * Agrees to the consent text of `version` (from `ecpa_consent_version`). Final: agreeing again
 * changes nothing, and it can never be withdrawn. An outdated version gives
 * `ECPA_E_CONSENT_TEXT_OUTDATED`.
 */
uint32_t ecpa_consent_give(const ecpa_portal *portal,
                           const ecpa_session *session,
                           const char *version);

/**
 * Asks to withdraw consent: always refused (`ECPA_E_CONSENT_FINAL`, or
 * `ECPA_E_CONSENT_NOT_GIVEN` when there is none), because consent is final.
 */
uint32_t ecpa_consent_withdraw(const ecpa_portal *portal, const ecpa_session *session);

/**
 * A personnel officer issues one award order to an employee of their agency. `order_json` is
 * the HTTP API's `AwardOrderWire`: `{"national_id": full ID, "approving_agency",
 * "approved_on": ROC or ISO date, "document_number": e.g. "北市勞人字第1136000456號",
 * "reason", "legal_basis", "kind": "commendation" | "merit" | "major_merit" | "reprimand" |
 * "demerit" | "major_demerit", "count": 1–9, "special": bool (optional), "rating_year":
 * ROC year, e.g. 114}`. Writes the new order's number to `out_order_id` and whether it is delivered
 * electronically (else on paper) to `out_electronic` (may be NULL).
 */
uint32_t ecpa_award_order_issue(const ecpa_portal *portal,
                                const ecpa_session *session,
                                const char *order_json,
                                int64_t *out_order_id,
                                bool *out_electronic);

/**
 * A personnel officer issues many orders from a CSV file (`csv`, `len` bytes of UTF-8 with a
 * header row; columns in any order): `national_id, approving_agency, approved_on` (ROC date),
 * `document_number, reason, legal_basis, kind` (嘉獎 … 記大過 or the stable names), `count`,
 * and optionally `special` (`Y`/`是` for 專案) and `rating_year` (ROC; default the approval
 * year). All of them or none: a bad line fails the whole file, naming the lines. Writes the
 * counts to `out_counts`.
 */
uint32_t ecpa_award_orders_issue_csv(const ecpa_portal *portal,
                                     const ecpa_session *session,
                                     const uint8_t *csv,
                                     size_t len,
                                     ecpa_bulk_counts *out_counts);

/**
 * Writes the caller's award orders not yet viewed (未檢視獎令) as JSON, the HTTP API's list of
 * `AwardOrderSummary`: `[{"id", "document_number", "approving_agency", "approved_on", "kind",
 * "count", "special", "rating_year", "delivery", "viewed_at": null}]`.
 */
uint32_t ecpa_award_orders_unviewed_json(const ecpa_portal *portal,
                                         const ecpa_session *session,
                                         char *buf,
                                         size_t len,
                                         size_t *out_len);

/**
 * Writes the numbers of the caller's unviewed orders to the caller's array `ids` of `cap`
 * slots, oldest first, and their count to `out_count`. When `ids` is NULL or `cap` too small,
 * only `*out_count` is written and the call returns `ECPA_E_FFI_BUFFER_TOO_SMALL`.
 */
uint32_t ecpa_award_orders_unviewed_ids(const ecpa_portal *portal,
                                        const ecpa_session *session,
                                        int64_t *ids,
                                        size_t cap,
                                        size_t *out_count);

/**
 * Opens one of the caller's orders and writes it as JSON, the HTTP API's `AwardOrder` (the
 * summary fields plus `"person_name", "national_id" (masked), "unit", "title", "reason",
 * "legal_basis", "issued_at"`). The first view signs for it (簽收); viewing again changes
 * nothing, so the call can be repeated to size the buffer.
 */
uint32_t ecpa_award_order_view_json(const ecpa_portal *portal,
                                    const ecpa_session *session,
                                    int64_t order_id,
                                    char *buf,
                                    size_t len,
                                    size_t *out_len);

/**
 * Writes the caller's rewards and punishments year by year (查詢個人歷年獎懲資料) as JSON, the
 * HTTP API's list of `YearlyAwards`: `[{"rating_year", "orders": [...], "net_reward",
 * "net_punishment", ...}]`.
 */
uint32_t ecpa_award_history_json(const ecpa_portal *portal,
                                 const ecpa_session *session,
                                 char *buf,
                                 size_t len,
                                 size_t *out_len);

/**
 * A personnel officer's list of electronically delivered orders not yet signed for, page
 * `page` (from 1) of `per_page` rows (1 to 100; 0 for 100), as JSON, the HTTP API's page of
 * `UnsignedOrder`: `{"items": [{"order": {...summary}, "national_id" (masked), "name",
 * "unit", "issued_at"}], "page", "per_page", "total"}`. Each person on the page is a read in
 * their audit trail.
 */
uint32_t ecpa_award_orders_unsigned_json(const ecpa_portal *portal,
                                         const ecpa_session *session,
                                         uint32_t page,
                                         uint32_t per_page,
                                         char *buf,
                                         size_t len,
                                         size_t *out_len);

/**
 * Writes the agencies the officer queries and processes (the query screen's 機關代號 list)
 * as JSON: `[{"code", "name", "parent_code"}]`, their own first.
 */
uint32_t ecpa_officer_agencies_json(const ecpa_portal *portal,
                                    const ecpa_session *session,
                                    char *buf,
                                    size_t len,
                                    size_t *out_len);

/**
 * Writes the caller's own corrections as JSON, newest first, the HTTP API's
 * `ProofingCorrection` list: each with its `status` (`pending`, `approved`, `rejected`) and the
 * officer's `reject_reason`.
 */
uint32_t ecpa_my_corrections_json(const ecpa_portal *portal,
                                  const ecpa_session *session,
                                  char *buf,
                                  size_t len,
                                  size_t *out_len);

/**
 * Writes the caller's personal record as JSON, the HTTP API's `PersonalRecord`: `{"categories":
 * [{"category", "label_zh", "label_en", "fields": [{"key", "label_zh", "value", "staged",
 * ...}]}]}` in the nine proofing categories.
 */
uint32_t ecpa_personal_record_json(const ecpa_portal *portal,
                                   const ecpa_session *session,
                                   char *buf,
                                   size_t len,
                                   size_t *out_len);

/**
 * Stages a correction of one field (修改前 / 修改後): `category` is the category's stable name
 * (`basic`, `current_post`, `education`, `examination`, `training`, `career`,
 * `performance`, `rewards_punishments`, `others`), `field` the field's key (e.g. `email`),
 * `new_value` the corrected value (UTF-8).
 */
uint32_t ecpa_correction_stage(const ecpa_portal *portal,
                               const ecpa_session *session,
                               const char *category,
                               const char *field,
                               const char *new_value);

/**
 * Drops a staged correction of `field` in `category`.
 */
uint32_t ecpa_correction_discard(const ecpa_portal *portal,
                                 const ecpa_session *session,
                                 const char *category,
                                 const char *field);

/**
 * 校對完成: submits the staged corrections; the officer's to-do appears at once. Writes the
 * submission's number to `out_submission_id` and the corrections submitted to
 * `out_corrections` (may be NULL; 0 means the record was confirmed as it is).
 */
uint32_t ecpa_proofing_complete(const ecpa_portal *portal,
                                const ecpa_session *session,
                                int64_t *out_submission_id,
                                uint32_t *out_corrections);

/**
 * The officer's query (人事人員校對查詢): `query_json` is the HTTP API's `ProofingQueryWire`,
 * every field optional: `{"agency": code, "unit": name, "from": date, "to": date, "proofed":
 * bool, "processed": bool, "page": 1, "per_page": 100}` (dates ROC `101/01/01` or ISO); `{}`
 * for the first page of everything. Writes the page as JSON, the HTTP API's page of
 * `ProofingQueryRow`: `{"items": [{"national_id" (masked), "name", "agency_code", "unit",
 * "proofed_on", ...}], "page", "per_page", "total"}`.
 */
uint32_t ecpa_proofing_query_json(const ecpa_portal *portal,
                                  const ecpa_session *session,
                                  const char *query_json,
                                  char *buf,
                                  size_t len,
                                  size_t *out_len);

/**
 * Writes the officer's open to-do items as JSON, the HTTP API's list of `TodoItem`:
 * `[{"submission_id", "national_id" (masked), "name", "unit", "corrections", "completed_at"}]`.
 */
uint32_t ecpa_officer_todos_json(const ecpa_portal *portal,
                                 const ecpa_session *session,
                                 char *buf,
                                 size_t len,
                                 size_t *out_len);

/**
 * Writes the corrections of one submission as JSON (for an officer of its agency), the HTTP
 * API's list of `ProofingCorrection`: `[{"id", "category", "field", "label_zh", "before",
 * "after", "status", ...}]`.
 */
uint32_t ecpa_submission_corrections_json(const ecpa_portal *portal,
                                          const ecpa_session *session,
                                          int64_t submission_id,
                                          char *buf,
                                          size_t len,
                                          size_t *out_len);

/**
 * Writes the numbers of a submission's corrections to the caller's array, as
 * `ecpa_award_orders_unviewed_ids` does.
 */
uint32_t ecpa_submission_correction_ids(const ecpa_portal *portal,
                                        const ecpa_session *session,
                                        int64_t submission_id,
                                        int64_t *ids,
                                        size_t cap,
                                        size_t *out_count);

/**
 * The officer processes one correction (人事人員處理): `reject_reason` NULL approves it (and
 * applies the new value to the record); a reason rejects it with that reason shown to the
 * person (an empty reason gives `ECPA_E_REJECT_REASON_REQUIRED`).
 */
uint32_t ecpa_correction_process(const ecpa_portal *portal,
                                 const ecpa_session *session,
                                 int64_t correction_id,
                                 const char *reject_reason);

/**
 * Opens a portal. `url` (NUL-terminated UTF-8) is a SQLite file path (created if missing,
 * also `sqlite:PATH`), `:memory:` for a throwaway database, a `postgres://` URL, or an
 * `http://` / `https://` URL of an `ecpa serve` service. Writes a new handle to `out_portal`;
 * release it with `ecpa_portal_close`. Citizen-certificate login is unavailable on an
 * embedded portal opened this way (see `ecpa_portal_open_with_trust`). The handle may be
 * used by many threads at once.
 */
uint32_t ecpa_portal_open(const char *url, ecpa_portal **out_portal);

/**
 * Opens an embedded portal (as `ecpa_portal_open`) that accepts citizen-certificate logins
 * whose certificates chain to the anchors of `trust`. The trust is copied: it may be released
 * right after. A remote URL gives `ECPA_E_LOCAL_PORTAL_ONLY` (its trust lives on the server).
 */
uint32_t ecpa_portal_open_with_trust(const char *url,
                                     const ecpa_trust *trust,
                                     ecpa_portal **out_portal);

/**
 * Closes a portal (and its database connection). NULL is ignored. No other thread may be
 * using the handle; sessions made with it stay valid in the database until they expire.
 */
uint32_t ecpa_portal_close(ecpa_portal *portal);

/**
 * Imports an agency directory (機關人員名冊) from CSV: `csv` is `len` bytes of UTF-8 with the
 * header `agency_code,agency_name,unit,national_id,name,title,email` and optionally
 * `status,left_on,left_reason,officer` (as `ecpa demo` and the HTTP operator use). All rows or
 * none. Writes the counts to `out_counts`. Embedded portals only.
 */
uint32_t ecpa_portal_import_directory_csv(const ecpa_portal *portal,
                                          const uint8_t *csv,
                                          size_t len,
                                          ecpa_import_counts *out_counts);

/**
 * A file mailer writing to directory `dir` (NUL-terminated UTF-8 path, created if missing).
 * Release with `ecpa_file_mailer_free`.
 */
uint32_t ecpa_file_mailer_new(const char *dir, ecpa_file_mailer **out_mailer);

/**
 * Releases a file mailer (the mail files stay). NULL is ignored.
 */
uint32_t ecpa_file_mailer_free(ecpa_file_mailer *mailer);

/**
 * Sends up to `limit` waiting mails of the portal's outbox (registration links, award-order
 * notices) through `mailer`; writes how many were sent to `out_sent`. Embedded portals only.
 */
uint32_t ecpa_portal_deliver_outbox(const ecpa_portal *portal,
                                    const ecpa_file_mailer *mailer,
                                    size_t limit,
                                    size_t *out_sent);

/**
 * Writes how many mails the mailer's directory holds to `out_count`.
 */
uint32_t ecpa_file_mailer_count(const ecpa_file_mailer *mailer, size_t *out_count);

/**
 * Writes mail number `index` (0 = oldest; `ecpa_file_mailer_count` - 1 = newest) as JSON:
 * `{"to": address, "subject": decoded subject, "body": plain text, "link_token": the token of
 * the registration / reset link in it, or null}`. An index past the end gives
 * `ECPA_E_FFI_ARGUMENT_INVALID`.
 */
uint32_t ecpa_file_mailer_message_json(const ecpa_file_mailer *mailer,
                                       size_t index,
                                       char *buf,
                                       size_t len,
                                       size_t *out_len);

/**
 * Writes the link token of the newest mail that carries one (the link a person opens to
 * confirm a registration or reset a password), ASCII hex. None gives
 * `ECPA_E_FFI_ARGUMENT_INVALID`.
 */
uint32_t ecpa_file_mailer_latest_link_token(const ecpa_file_mailer *mailer,
                                            char *buf,
                                            size_t len,
                                            size_t *out_len);

/**
 * Starts an NHI card online registration (健保卡網路服務註冊) for the card's holder and puts
 * the confirmation mail in the outbox. `password` and `confirmation` (6–12 characters, no
 * space, `<`, `>`, `'`, `"`) are copied into wiped memory. `form_json` holds the rest:
 * `{"household_number": "F1234567", "address": {"county": "63000", "township": "63000010",
 * "village": "63000010001", "neighbourhood": 12}, "phone": "..." (optional), "mobile": "..."
 * (optional), "email": "...", "spare_email": "..." or null, "terms_version": "..."}` (unknown
 * fields are refused). `terms_version` is the version of the registration terms the person
 * accepted before the form (`ecpa_registration_terms_version`).
 */
uint32_t ecpa_registration_start(const ecpa_portal *portal,
                                 const ecpa_nhi_card *card,
                                 const char *password,
                                 const char *confirmation,
                                 const char *form_json);

/**
 * Registers an NHI card at a counter (臨櫃) for a person who cannot register online (no
 * mailbox in the directory, or not in it): active at once, no link. The arguments are those of
 * `ecpa_registration_start`, and `operator` (NUL-terminated UTF-8) is the clerk's name for the
 * audit trail. An embedded portal only (`E9807 local_portal_only` for a remote one).
 */
uint32_t ecpa_registration_in_person(const ecpa_portal *portal,
                                     const ecpa_nhi_card *card,
                                     const char *password,
                                     const char *confirmation,
                                     const char *form_json,
                                     const char *operator_);

/**
 * Writes the title of the registration terms in force (全民健康保險網路服務註冊管理作業要點)
 * with its amendment, in zh-TW or English: the page shows them, with the button 「我已閱讀完畢，
 * 並瞭解相關規定」, before the form.
 */
uint32_t ecpa_registration_terms(const ecpa_portal *portal,
                                 uint32_t lang,
                                 char *buf,
                                 size_t len,
                                 size_t *out_len);

/**
 * Writes the version of the registration terms in force (ASCII): the form's `terms_version`
 * once the person has accepted them.
 */
uint32_t ecpa_registration_terms_version(const ecpa_portal *portal,
                                         char *buf,
                                         size_t len,
                                         size_t *out_len);

/**
 * Mails a fresh confirmation link for a registration still waiting (重寄認證信).
 */
uint32_t ecpa_registration_resend(const ecpa_portal *portal, const ecpa_nhi_card *card);

/**
 * Completes a registration: `token` is the token of the mailed link (ASCII), opened with the
 * same card inserted. On success, show the person `ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED)`
 * (「已完成電子信箱認證」).
 */
uint32_t ecpa_registration_confirm(const ecpa_portal *portal,
                                   const ecpa_nhi_card *card,
                                   const char *token);

/**
 * Forgot password: mails a 30-minute, single-use reset link to the registered address.
 */
uint32_t ecpa_password_reset_request(const ecpa_portal *portal, const ecpa_nhi_card *card);

/**
 * 修改電子郵件信箱寄送重設註冊密碼信, the second variant of forgot password: `delivery_json` is
 * `{"email": "...", "address": {"county": "63000", "township": "63000010", "village":
 * "63000010001", "neighbourhood": 12}, "mobile": "..." (optional), "household_number": "..."
 * (optional: the form does not ask it; checked when given)}` (unknown fields are refused).
 * The household address must match the registration, and wrong answers count as wrong
 * passwords. The link goes to the official mailbox, never to the typed address, which the
 * registration takes (with the mobile) when the reset is done.
 */
uint32_t ecpa_password_reset_request_new_address(const ecpa_portal *portal,
                                                 const ecpa_nhi_card *card,
                                                 const char *delivery_json);

/**
 * Sets a new registration password, typed twice, with a reset link's `token`; both
 * passwords are copied into wiped memory, and differing ones give
 * `ECPA_E_PASSWORD_MISMATCH` without spending the link. Until this succeeds the old password
 * keeps working. On success, show the person `ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED)`.
 */
uint32_t ecpa_password_reset_complete(const ecpa_portal *portal,
                                      const ecpa_nhi_card *card,
                                      const char *token,
                                      const char *new_password,
                                      const char *confirmation);

/**
 * 刪除註冊申請: mails a 30-minute, single-use link that deletes the card's pending application
 * to the person's official mailbox. A complete registration gives
 * `ECPA_E_REGISTRATION_STOP_IN_PERSON` (it is stopped at a counter).
 */
uint32_t ecpa_registration_delete_request(const ecpa_portal *portal,
                                          const ecpa_nhi_card *card);

/**
 * Opens a deletion link (`token`) with the same card: the pending application is gone. Show
 * `ecpa_notice_message(ECPA_NOTICE_APPLICATION_DELETED)`.
 */
uint32_t ecpa_registration_delete_complete(const ecpa_portal *portal,
                                           const ecpa_nhi_card *card,
                                           const char *token);

/**
 * 註冊密碼變更: the registration password now (`old_password`, a counted try: a wrong one
 * writes the tries left to `out_tries_left`, which may be NULL) and the new one twice. Every
 * NHI-card session of the person ends. Show `ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED)`.
 */
uint32_t ecpa_registration_password_change(const ecpa_portal *portal,
                                           const ecpa_nhi_card *card,
                                           const char *old_password,
                                           const char *new_password,
                                           const char *confirmation,
                                           int32_t *out_tries_left);

/**
 * 基本資料異動: with the registration password (a counted try, as for
 * `ecpa_registration_password_change`), `details_json` `{"phone": "..." (optional), "mobile":
 * "..." (optional), "email": "..."}` sets the phones at once (absent or blank clears one); a
 * new e-mail address is confirmed through a link to the address on file. Writes to
 * `out_email_link_sent` (may be NULL) 1 when such a link was mailed (show
 * `ECPA_NOTICE_EMAIL_CHANGE_SENT`), else 0 (show `ECPA_NOTICE_DETAILS_CHANGED`).
 */
uint32_t ecpa_registration_details_change(const ecpa_portal *portal,
                                          const ecpa_nhi_card *card,
                                          const char *password,
                                          const char *details_json,
                                          int32_t *out_tries_left,
                                          int32_t *out_email_link_sent);

/**
 * Opens an e-mail change's link (`token`) with the same card: the registration takes the new
 * address, and the old one is told. Show `ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED)`.
 */
uint32_t ecpa_email_change_complete(const ecpa_portal *portal,
                                    const ecpa_nhi_card *card,
                                    const char *token);

/**
 * 忘記帳號或密碼 for account logins: mails the account name and a link to set a new password
 * to the official mailbox of the serving employee with `national_id`. Succeeds alike whoever
 * is on file; show `ecpa_notice_message(ECPA_NOTICE_ACCOUNT_RECOVERY_SENT)`.
 */
uint32_t ecpa_account_recovery_request(const ecpa_portal *portal, const char *national_id);

/**
 * Sets the eCPA account's new password, typed twice, with a recovery link's `token`. Show
 * `ecpa_notice_message(ECPA_NOTICE_ACCOUNT_PASSWORD_CHANGED)`.
 */
uint32_t ecpa_account_recovery_complete(const ecpa_portal *portal,
                                        const char *token,
                                        const char *new_password,
                                        const char *confirmation);

/**
 * Logs in with the NHI card and its registered password (copied into wiped memory). Writes a
 * new session to `out_session` (release with `ecpa_session_free`; log out with
 * `ecpa_logout`). On `ECPA_E_REGISTRATION_PASSWORD_WRONG` writes the wrong passwords still
 * allowed before logins are suspended to `out_tries_left` (may be NULL); on other outcomes
 * leaves it alone. The four errors of the guide each have their code:
 * `ECPA_E_NHI_CARD_NOT_REGISTERED`, `ECPA_E_REGISTRATION_PASSWORD_WRONG`,
 * `ECPA_E_ACCOUNT_NOT_FOUND`, `ECPA_E_ACCOUNT_DISABLED`.
 */
uint32_t ecpa_login_nhi_card(const ecpa_portal *portal,
                             const ecpa_nhi_card *card,
                             const char *password,
                             int32_t *out_tries_left,
                             ecpa_session **out_session);

/**
 * Logs in with the citizen digital certificate (自然人憑證): asks the portal for a challenge,
 * has `signer` (a card logged in with its PIN, or a software key) sign it, and sends the
 * signature with the certificate. On the first login of a certificate pass the eCPA account
 * name or national ID in `identify` (its last four digits must match the certificate's);
 * later logins pass NULL. Writes a new session to `out_session`.
 */
uint32_t ecpa_login_certificate(const ecpa_portal *portal,
                                const ecpa_signer *signer,
                                const char *identify,
                                ecpa_session **out_session);

/**
 * `ecpa_login_certificate`, origin-bound (`ecpa-origin:1`, as `ecpa agent` signs): the card
 * signs SHA-256(`origin`) ‖ SHA-256(the challenge), and the portal accepts it only if
 * `origin` (`https://host[:port]`) is its own public origin (`ECPA_E_LOGIN_ORIGIN_MISMATCH`
 * otherwise).
 */
uint32_t ecpa_login_certificate_origin_bound(const ecpa_portal *portal,
                                             const ecpa_signer *signer,
                                             const char *origin,
                                             const char *identify,
                                             ecpa_session **out_session);

/**
 * Logs in with an eCPA account name and password (the lowest assurance level). Tries left
 * as in `ecpa_login_nhi_card`.
 */
uint32_t ecpa_login_account(const ecpa_portal *portal,
                            const char *account,
                            const char *password,
                            int32_t *out_tries_left,
                            ecpa_session **out_session);

/**
 * A session from a bearer token kept elsewhere (e.g. by a web front end): no check is made
 * until it is used. Release with `ecpa_session_free`.
 */
uint32_t ecpa_session_from_token(const char *token, ecpa_session **out_session);

/**
 * Writes the session's bearer token (ASCII). Whoever holds it acts as the person: keep it
 * as secret as a password.
 */
uint32_t ecpa_session_token(const ecpa_session *session, char *buf, size_t len, size_t *out_len);

/**
 * Writes who the session belongs to as JSON, the HTTP API's `SessionInfo`:
 * `{"name", "national_id" (masked), "agency_code", "agency_name", "method"
 * ("nhi_card" | "certificate" | "account"), "level", "officer", "expires_at", ...}`.
 */
uint32_t ecpa_session_info_json(const ecpa_portal *portal,
                                const ecpa_session *session,
                                char *buf,
                                size_t len,
                                size_t *out_len);

/**
 * Ends the session in the portal (the handle must still be released with `ecpa_session_free`).
 */
uint32_t ecpa_logout(const ecpa_portal *portal, const ecpa_session *session);

/**
 * Releases a session handle and wipes its token; it does not log out. NULL is ignored.
 */
uint32_t ecpa_session_free(ecpa_session *session);

/**
 * Writes the application catalogue (應用系統) as JSON, the HTTP API's list of `Application`:
 * `[{"code", "name_zh", "name_en", "usable", ...}]`, each marked usable or greyed out for
 * this session's login.
 */
uint32_t ecpa_applications_json(const ecpa_portal *portal,
                                const ecpa_session *session,
                                char *buf,
                                size_t len,
                                size_t *out_len);

/**
 * Adds application `code` (e.g. `B5`, the proofing site) to "my applications" and opens it:
 * fails with `ECPA_E_ASSURANCE_TOO_LOW` when the login is not strong enough for it.
 */
uint32_t ecpa_application_open(const ecpa_portal *portal,
                               const ecpa_session *session,
                               const char *code);

/**
 * Adds application `code` to "my applications", opens it, and writes the answer as JSON, the
 * HTTP API's `Application`: for an application this portal opens with single sign-on, its
 * `sso` holds `{"url", "token", "expires_at"}`, the assertion to post to `url` as the form
 * field `assertion` within 60 seconds (the token is a credential: do not log it). `buf` must
 * hold `ECPA_SSO_JSON_BUFFER` bytes (each call issues a new assertion). Fails as
 * `ecpa_application_open` does.
 */
uint32_t ecpa_application_open_json(const ecpa_portal *portal,
                                    const ecpa_session *session,
                                    const char *code,
                                    char *buf,
                                    size_t len,
                                    size_t *out_len);

/**
 * Writes the portal's single sign-on keys as JSON, a JSON Web Key Set
 * (`{"keys": [{"kty": "EC", "crv": "P-256", "x", "y", "kid", "alg": "ES256", "use": "sig"}]}`,
 * as `/.well-known/jwks.json` serves it): what an application checks assertions with.
 */
uint32_t ecpa_sso_keys_json(const ecpa_portal *portal, char *buf, size_t len, size_t *out_len);

/**
 * For an application written in C: redeems the single sign-on assertion `token` it was
 * posted, once, for `audience`, its own code (both NUL-terminated), and writes what the
 * portal tells of the person as JSON: `{"sub", "aud", "auth_level", "name", "issued_at",
 * "expires_at"}` (`sub` is the person's id in this application, never the national ID).
 * `buf` must hold `ECPA_SSO_JSON_BUFFER` bytes: the assertion is spent by the call. Fails
 * `ECPA_E_SSO_ASSERTION_INVALID` (forged or malformed), `_EXPIRED`, `_REPLAYED` or
 * `ECPA_E_SSO_AUDIENCE_MISMATCH` otherwise.
 */
uint32_t ecpa_sso_redeem_json(const ecpa_portal *portal,
                              const char *token,
                              const char *audience,
                              char *buf,
                              size_t len,
                              size_t *out_len);

/**
 * A new, empty trust. Add certificates with `ecpa_trust_add_anchor` /
 * `ecpa_trust_add_intermediate`; release with `ecpa_trust_free`.
 */
uint32_t ecpa_trust_new(ecpa_trust **out_trust);

/**
 * Adds trust anchors (GRCA root certificates): `data` is `len` bytes of one DER certificate
 * or PEM text holding one or more. A certificate that does not parse gives its PKI code and
 * adds nothing.
 */
uint32_t ecpa_trust_add_anchor(ecpa_trust *trust, const uint8_t *data, size_t len);

/**
 * Adds intermediate CA certificates (MOICA), DER or PEM as in `ecpa_trust_add_anchor`.
 */
uint32_t ecpa_trust_add_intermediate(ecpa_trust *trust, const uint8_t *data, size_t len);

/**
 * Releases a trust. NULL is ignored.
 */
uint32_t ecpa_trust_free(ecpa_trust *trust);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* ECPA_H */
