//! Pins the error-code table: a published number never changes meaning and is never reused.
//!
//! Adding a code means adding a line here. Changing or removing a line is a breaking change
//! for every C, Python and HTTP client, and this test is there to make that loud.

use ecpa::ErrorCode;
use ecpa::types::Lang;

const TABLE: &[(u32, &str)] = &[
    (1001, "national_id_invalid"),
    (1002, "national_id_checksum"),
    (1010, "date_invalid"),
    (1020, "agency_code_invalid"),
    (1021, "document_number_invalid"),
    (1030, "email_invalid"),
    (1040, "password_policy"),
    (1041, "password_mismatch"),
    (1050, "household_number_invalid"),
    (1051, "admin_division_invalid"),
    (1060, "card_number_invalid"),
    (1061, "card_data_invalid"),
    (1070, "field_invalid"),
    (1080, "csv_invalid"),
    (1090, "request_invalid"),
    (1091, "request_too_large"),
    (1092, "endpoint_unknown"),
    (1093, "content_type_invalid"),
    (1094, "config_invalid"),
    (1095, "method_not_allowed"),
    (2001, "pcsc_unavailable"),
    (2002, "reader_not_found"),
    (2003, "card_absent"),
    (2004, "card_removed"),
    (2005, "card_reset"),
    (2006, "card_not_transacted"),
    (2007, "card_in_use"),
    (2008, "card_timeout"),
    (2010, "card_unsupported"),
    (2011, "card_status"),
    (2012, "apdu_invalid"),
    (2013, "card_transport_failed"),
    (2020, "card_transcript_invalid"),
    (2090, "card_support_missing"),
    (2101, "token_module_not_found"),
    (2102, "token_module_load_failed"),
    (2103, "token_not_present"),
    (2104, "token_signing_certificate_not_found"),
    (2105, "token_mechanism_unsupported"),
    (2106, "token_removed"),
    (2199, "token_module_failed"),
    (2201, "agent_listen_not_loopback"),
    (2202, "agent_port_taken"),
    (2203, "agent_origin_refused"),
    (2204, "agent_host_refused"),
    (2901, "doctor_probe_timed_out"),
    (2903, "doctor_checks_failed"),
    (3101, "pin_format_invalid"),
    (3102, "pin_incorrect"),
    (3103, "pin_blocked"),
    (4001, "certificate_malformed"),
    (4002, "signature_algorithm_unsupported"),
    (4003, "public_key_unsupported"),
    (4004, "signature_invalid"),
    (4010, "certificate_expired"),
    (4011, "certificate_not_yet_valid"),
    (4012, "certificate_revoked"),
    (4013, "unknown_issuer"),
    (4014, "policy_not_acceptable"),
    (4015, "key_usage_invalid"),
    (4016, "path_invalid"),
    (4017, "peer_name_mismatch"),
    (4020, "crl_malformed"),
    (4021, "crl_stale"),
    (4022, "crl_signature_invalid"),
    (4023, "crl_missing"),
    (4030, "cms_malformed"),
    (4031, "cms_digest_mismatch"),
    (4032, "cms_signer_not_found"),
    (5001, "nhi_card_not_registered"),
    (5002, "registration_password_wrong"),
    (5003, "account_not_found"),
    (5004, "account_disabled"),
    (5005, "login_locked"),
    (5006, "account_password_wrong"),
    (5007, "account_name_taken"),
    (5010, "session_invalid"),
    (5011, "session_expired"),
    (5020, "assurance_too_low"),
    (5021, "application_unknown"),
    (5022, "application_not_added"),
    (5030, "access_denied"),
    (5031, "not_personnel_officer"),
    (5040, "challenge_unknown"),
    (5041, "challenge_replayed"),
    (5042, "challenge_expired"),
    (5043, "certificate_not_bound"),
    (5044, "binding_mismatch"),
    (5045, "certificate_login_unavailable"),
    (5046, "csrf_rejected"),
    (5047, "rate_limited"),
    (5048, "self_approval_refused"),
    (5049, "login_busy"),
    (5050, "login_held"),
    (5051, "card_possession_unverified"),
    (5052, "officer_login_too_weak"),
    (5053, "sso_assertion_invalid"),
    (5054, "sso_assertion_expired"),
    (5055, "sso_assertion_replayed"),
    (5056, "sso_audience_mismatch"),
    (5057, "login_origin_mismatch"),
    (5058, "origin_bound_required"),
    (5501, "agency_not_found"),
    (5502, "employee_not_found"),
    (5503, "employee_not_in_agency"),
    (6001, "registration_maintenance"),
    (6002, "already_registered"),
    (6003, "registration_pending"),
    (6004, "registration_data_mismatch"),
    (6005, "registration_no_address"),
    (6006, "terms_not_accepted"),
    (6007, "registration_stop_in_person"),
    (6010, "token_invalid"),
    (6011, "token_expired"),
    (6012, "token_used"),
    (6020, "household_mismatch"),
    (7001, "consent_text_outdated"),
    (7002, "consent_final"),
    (7003, "consent_not_given"),
    (7501, "award_order_not_found"),
    (7502, "award_order_invalid"),
    (7503, "award_order_duplicate"),
    (8001, "proofing_field_unknown"),
    (8002, "proofing_value_unchanged"),
    (8003, "correction_not_found"),
    (8004, "correction_already_processed"),
    (8005, "reject_reason_required"),
    (8006, "proofing_field_read_only"),
    (9001, "storage_failure"),
    (9002, "storage_busy"),
    (9003, "schema_too_new"),
    (9004, "data_corrupt"),
    (9005, "storage_unavailable"),
    (9006, "storage_url_invalid"),
    (9501, "mail_failed"),
    (9502, "io_failed"),
    (9503, "mail_config_invalid"),
    (9550, "http_unreachable"),
    (9551, "http_timeout"),
    (9552, "http_bad_response"),
    (9553, "tls_failed"),
    (9801, "ffi_null_pointer"),
    (9802, "ffi_buffer_too_small"),
    (9803, "ffi_string_invalid"),
    (9804, "ffi_panic"),
    (9805, "ffi_argument_invalid"),
    (9806, "ffi_handle_invalid"),
    (9807, "local_portal_only"),
    (9999, "internal"),
];

#[test]
fn the_table_is_exactly_this() {
    let actual: Vec<(u32, &str)> = ErrorCode::ALL.iter().map(|c| (c.number(), c.name())).collect();
    assert_eq!(actual, TABLE);
}

#[test]
fn numbers_and_names_are_unique_and_round_trip() {
    let mut numbers: Vec<u32> = TABLE.iter().map(|(n, _)| *n).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), TABLE.len(), "a number is used twice");
    let mut names: Vec<&str> = TABLE.iter().map(|(_, n)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), TABLE.len(), "a name is used twice");
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_number(code.number()), Some(*code));
    }
    assert_eq!(ErrorCode::from_number(0), None);
    assert!(
        TABLE.windows(2).all(|w| w[0].0 < w[1].0),
        "the table is in ascending order"
    );
}

#[test]
fn every_code_sits_in_its_area_range_and_has_both_messages() {
    for code in ErrorCode::ALL {
        let n = code.number();
        assert!((1000..=9999).contains(&n), "{code} outside the ranges");
        let zh = code.message(Lang::ZhTw);
        let en = code.message(Lang::En);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{code}: no Chinese in {zh:?}"
        );
        assert!(en.is_ascii() && !en.is_empty(), "{code}: English message {en:?}");
        assert!(
            code.name().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}: name not snake_case"
        );
    }
}

#[test]
fn the_four_login_errors_keep_the_guides_wording() {
    let zh = |c: ErrorCode| c.message(Lang::ZhTw);
    assert_eq!(zh(ErrorCode::NhiCardNotRegistered), "您尚未註冊健保卡網路服務");
    assert_eq!(zh(ErrorCode::RegistrationPasswordWrong), "註冊密碼輸入錯誤");
    assert_eq!(
        zh(ErrorCode::AccountNotFound),
        "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：pemis@dgpa.gov.tw。"
    );
    assert_eq!(
        zh(ErrorCode::AccountDisabled),
        "很抱歉，該帳號已停用，可能是此帳號之人事資料為卸職狀態，若有問題請先洽機關所屬人事部門洽詢。"
    );
}

#[test]
fn display_is_the_form_scripts_match() {
    assert_eq!(
        ErrorCode::RegistrationPasswordWrong.to_string(),
        "E5002 registration_password_wrong"
    );
    let e = ecpa::Error::RegistrationPasswordWrong { tries_left: 2 };
    assert_eq!(e.message(Lang::ZhTw), "註冊密碼輸入錯誤（尚可再試 2 次）");
    assert!(e.to_string().starts_with("E5002 registration_password_wrong: "));
}

#[test]
fn a_retired_number_is_never_given_again_and_every_published_one_is_kept() {
    for (number, name) in ecpa::error::RETIRED {
        assert!(ErrorCode::from_number(*number).is_none(), "{number} {name} was retired");
    }
    for (number, name) in TABLE {
        let kept = ErrorCode::from_number(*number).is_some_and(|c| c.name() == *name);
        let retired = ecpa::error::RETIRED.contains(&(*number, *name));
        assert!(
            kept || retired,
            "{number} {name} vanished without being listed as retired"
        );
    }
}

#[test]
fn the_status_and_class_columns_follow_the_areas() {
    use ecpa::error::ErrorClass;
    // The classes ascend with the numbers: each holds one range of codes, as the module doc says.
    for pair in ErrorCode::ALL.windows(2) {
        assert!(pair[0].class() <= pair[1].class(), "{} before {}", pair[0], pair[1]);
    }
    assert_eq!(ErrorCode::PinIncorrect.class(), ErrorClass::Pin);
    assert_eq!(ErrorCode::Pkcs11TokenRemoved.class(), ErrorClass::Card);
    assert_eq!(ErrorCode::EmployeeNotFound.class(), ErrorClass::Directory);
    assert_eq!(ErrorCode::HttpUnreachable.class(), ErrorClass::Transport);
    assert_eq!(ErrorCode::Internal.class().name(), "InternalError");
    for code in ErrorCode::ALL {
        assert!((400..600).contains(&code.http_status()), "{code}");
    }
    assert_eq!(ErrorCode::LoginLocked.http_status(), 423);
    assert_eq!(ErrorCode::RegistrationPasswordWrong.http_status(), 401);
    assert_eq!(ErrorCode::NationalIdChecksum.http_status(), 422);
    assert_eq!(ErrorCode::Internal.http_status(), 500);
}

#[test]
fn an_io_failure_keeps_the_system_error_as_its_source() {
    let e = ecpa::Error::from(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no entry"));
    assert_eq!(e.code(), ErrorCode::IoFailed);
    assert!(e.message(ecpa::types::Lang::En).contains("no entry"));
    let source = std::error::Error::source(&e).expect("a source");
    let io = source.downcast_ref::<std::io::Error>().expect("the io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}
