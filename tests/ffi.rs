//! The C ABI called from Rust exactly as C calls it: NULL pointers, too-small buffers, invalid
//! UTF-8, handles of the wrong kind, a panic that must not cross the boundary, outputs left
//! untouched on failure, the last error per thread, a portal shared by threads, the whole flow
//! on an SQLite file, and a remote portal over HTTP.
#![cfg(feature = "ffi")]
#![allow(unsafe_code)] // this is the point: calling the exported functions as C does

mod support;

use std::ffi::{CString, c_char};
use std::ptr::{null, null_mut};

use ecpa::ErrorCode;
use ecpa::ffi::*;
use ecpa::portal::Portal;
use support::http::HttpFixture;
use support::{Who, person};

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL inside")
}

fn code(c: ErrorCode) -> u32 {
    c.number()
}

/// A string result through the size query: first NULL, then a buffer of the size asked for.
fn fetch(mut f: impl FnMut(*mut c_char, usize, *mut usize) -> u32) -> Result<String, u32> {
    let mut n = 0usize;
    let rc = f(null_mut(), 0, &mut n);
    if rc != code(ErrorCode::FfiBufferTooSmall) {
        return Err(rc);
    }
    let mut buf = vec![0u8; n];
    let mut written = 0usize;
    let rc = f(buf.as_mut_ptr().cast(), buf.len(), &mut written);
    if rc != ECPA_OK {
        return Err(rc);
    }
    assert_eq!(written, n, "the size asked for is the size written");
    assert_eq!(buf.pop(), Some(0), "NUL-terminated");
    Ok(String::from_utf8(buf).expect("UTF-8 out"))
}

fn json(f: impl FnMut(*mut c_char, usize, *mut usize) -> u32) -> serde_json::Value {
    let s = fetch(f).unwrap_or_else(|rc| panic!("call failed with E{rc}: {}", detail()));
    serde_json::from_str(&s).expect("JSON out")
}

/// A JSON result of a call that acts, into a buffer of `ECPA_SSO_JSON_BUFFER` bytes at once
/// (its size query would be refused).
fn json_up_front(f: impl FnOnce(*mut c_char, usize, *mut usize) -> u32) -> serde_json::Value {
    let mut buf = vec![0u8; ECPA_SSO_JSON_BUFFER];
    let mut n = 0usize;
    ok(f(buf.as_mut_ptr().cast(), buf.len(), &mut n));
    assert_eq!(buf[n - 1], 0, "NUL-terminated");
    serde_json::from_slice(&buf[..n - 1]).expect("JSON out")
}

fn detail() -> String {
    // SAFETY: a valid buffer triple.
    fetch(|b, l, n| unsafe { ecpa_last_error_detail(ECPA_LANG_EN, b, l, n) }).unwrap_or_default()
}

fn ok(rc: u32) {
    assert_eq!(rc, ECPA_OK, "E{rc}: {}", detail());
}

#[test]
fn the_id_check_answers_with_codes_and_writes_outputs_only_on_success() {
    let (mut kind, mut sex) = (77u32, 77u32);
    // SAFETY: NUL-terminated strings and valid outputs throughout.
    unsafe {
        ok(ecpa_id_check(c("A123456789").as_ptr(), &mut kind, &mut sex));
        assert_eq!((kind, sex), (ECPA_ID_KIND_NATIONAL, ECPA_SEX_MALE));
        ok(ecpa_id_check(c("AC01234567").as_ptr(), &mut kind, null_mut()));
        assert_eq!(kind, ECPA_ID_KIND_RESIDENT_OLD);
        ok(ecpa_id_check(c("A800000014").as_ptr(), null_mut(), &mut sex));
        (kind, sex) = (77, 77);
        for (bad, want) in [
            ("A123456788", ErrorCode::NationalIdChecksum),
            ("AB12345678", ErrorCode::NationalIdChecksum),
            ("A12345", ErrorCode::NationalIdInvalid),
            ("", ErrorCode::NationalIdInvalid),
        ] {
            assert_eq!(
                ecpa_id_check(c(bad).as_ptr(), &mut kind, &mut sex),
                code(want),
                "{bad:?}"
            );
            assert_eq!((kind, sex), (77, 77), "outputs untouched for {bad:?}");
        }
        assert_eq!(
            ecpa_id_check(null(), &mut kind, &mut sex),
            code(ErrorCode::FfiNullPointer)
        );
        let latin1 = b"A12345\xe9789\0";
        assert_eq!(
            ecpa_id_check(latin1.as_ptr().cast(), &mut kind, &mut sex),
            code(ErrorCode::FfiStringInvalid)
        );
        assert_eq!((kind, sex), (77, 77));
    }
}

#[test]
fn the_notices_of_a_confirmation_and_a_reset_are_the_guides_words() {
    // SAFETY: valid buffer triples, or a bad argument where the test says.
    unsafe {
        assert_eq!(
            fetch(|b, l, n| ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED, ECPA_LANG_ZH_TW, b, l, n)).as_deref(),
            Ok("已完成電子信箱認證")
        );
        assert_eq!(
            fetch(|b, l, n| ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED, ECPA_LANG_ZH_TW, b, l, n)).as_deref(),
            Ok("註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！")
        );
        assert!(
            fetch(|b, l, n| ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED, ECPA_LANG_EN, b, l, n))
                .expect("English")
                .starts_with("Your registration password is changed")
        );
        assert_eq!(
            fetch(|b, l, n| ecpa_notice_message(99, ECPA_LANG_EN, b, l, n)),
            Err(code(ErrorCode::FfiArgumentInvalid))
        );
        assert_eq!(
            fetch(|b, l, n| ecpa_notice_message(0, ECPA_LANG_EN, b, l, n)),
            Err(code(ErrorCode::FfiArgumentInvalid))
        );
        // Each constant names its notice.
        let constants = [
            ECPA_NOTICE_EMAIL_CONFIRMED,
            ECPA_NOTICE_PASSWORD_CHANGED,
            ECPA_NOTICE_APPLICATION_DELETED,
            ECPA_NOTICE_DETAILS_CHANGED,
            ECPA_NOTICE_EMAIL_CHANGE_SENT,
            ECPA_NOTICE_STOP_IN_PERSON,
            ECPA_NOTICE_ACCOUNT_RECOVERY_SENT,
            ECPA_NOTICE_ACCOUNT_PASSWORD_CHANGED,
        ];
        for (constant, kind) in constants.into_iter().zip(ecpa::portal::NoticeKind::ALL) {
            assert_eq!(
                fetch(|b, l, n| ecpa_notice_message(constant, ECPA_LANG_ZH_TW, b, l, n)).as_deref(),
                Ok(kind.message(ecpa::types::Lang::ZhTw)),
                "{kind:?}"
            );
        }
    }
}

/// The NHI service's own functions and 忘記帳號或密碼, from C.
#[test]
fn the_nhi_services_own_functions_from_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    let maildir = c(&dir.path().join("mail").to_string_lossy());
    // SAFETY: every handle below is live until freed at the end; every string is NUL-terminated.
    unsafe {
        let (mut portal, mut mailer) = (null_mut(), null_mut());
        ok(ecpa_portal_open(db.as_ptr(), &mut portal));
        ok(ecpa_file_mailer_new(maildir.as_ptr(), &mut mailer));
        let csv = support::directory_csv();
        let mut counts = EcpaImportCounts::default();
        ok(ecpa_portal_import_directory_csv(
            portal,
            csv.as_ptr(),
            csv.len(),
            &mut counts,
        ));
        let deliver = || {
            let mut sent = 0;
            ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &mut sent));
            fetch(|b, l, n| ecpa_file_mailer_latest_link_token(mailer, b, l, n)).expect("a link")
        };
        let wang = person(Who::Wang);
        let record = wang.card_data().to_bytes();
        let mut card = null_mut();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let pw = c(wang.password);
        let form = c(&form_json(Who::Wang));

        // 刪除註冊申請: a pending application, through the mailed link.
        ok(ecpa_registration_start(
            portal,
            card,
            pw.as_ptr(),
            pw.as_ptr(),
            form.as_ptr(),
        ));
        deliver();
        ok(ecpa_registration_delete_request(portal, card));
        ok(ecpa_registration_delete_complete(portal, card, c(&deliver()).as_ptr()));
        assert_eq!(
            ecpa_registration_delete_request(portal, card),
            code(ErrorCode::NhiCardNotRegistered)
        );
        ok(ecpa_registration_start(
            portal,
            card,
            pw.as_ptr(),
            pw.as_ptr(),
            form.as_ptr(),
        ));
        ok(ecpa_registration_confirm(portal, card, c(&deliver()).as_ptr()));
        assert_eq!(
            ecpa_registration_delete_request(portal, card),
            code(ErrorCode::RegistrationStopInPerson)
        );

        // 註冊密碼變更: a wrong old password reports the tries left.
        let new = c("Ecpa#2027ok");
        let mut tries = 99;
        assert_eq!(
            ecpa_registration_password_change(
                portal,
                card,
                c("Wrong#2026").as_ptr(),
                new.as_ptr(),
                new.as_ptr(),
                &mut tries
            ),
            code(ErrorCode::RegistrationPasswordWrong)
        );
        assert_eq!(tries, 4);
        ok(ecpa_registration_password_change(
            portal,
            card,
            pw.as_ptr(),
            new.as_ptr(),
            new.as_ptr(),
            null_mut(),
        ));

        // 基本資料異動: a new address waits for its link to the address on file.
        let details = c(r#"{"mobile": "0987-654321", "email": "wang.new@example.net"}"#);
        let mut sent = 99;
        ok(ecpa_registration_details_change(
            portal,
            card,
            new.as_ptr(),
            details.as_ptr(),
            null_mut(),
            &mut sent,
        ));
        assert_eq!(sent, 1, "a link for the new address");
        ok(ecpa_email_change_complete(portal, card, c(&deliver()).as_ptr()));
        let forged = c(r#"{"email": "x@example.net", "admin": true}"#);
        assert_eq!(
            ecpa_registration_details_change(portal, card, new.as_ptr(), forged.as_ptr(), null_mut(), null_mut()),
            code(ErrorCode::RequestInvalid)
        );
        assert_eq!(
            ecpa_password_reset_request_new_address(portal, card, null()),
            code(ErrorCode::FfiNullPointer)
        );

        // 忘記帳號或密碼: no account set, so the mail carries no link; an unknown ID alike.
        ok(ecpa_account_recovery_request(portal, c(wang.id.reveal()).as_ptr()));
        ok(ecpa_account_recovery_request(
            portal,
            c(person(Who::Outsider).id.reveal()).as_ptr(),
        ));
        assert_eq!(
            ecpa_account_recovery_request(portal, c("A123").as_ptr()),
            code(ErrorCode::NationalIdInvalid)
        );
        assert_eq!(
            ecpa_account_recovery_complete(portal, c(&"ab".repeat(32)).as_ptr(), new.as_ptr(), new.as_ptr()),
            code(ErrorCode::TokenInvalid)
        );

        ok(ecpa_nhi_card_free(card));
        ok(ecpa_file_mailer_free(mailer));
        ok(ecpa_portal_close(portal));
    }
}

#[test]
fn the_registration_terms_come_before_the_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    // SAFETY: the handle is live until closed; every string is NUL-terminated.
    unsafe {
        let mut portal = null_mut();
        ok(ecpa_portal_open(db.as_ptr(), &mut portal));
        let title = fetch(|b, l, n| ecpa_registration_terms(portal, ECPA_LANG_ZH_TW, b, l, n)).expect("title");
        assert!(title.starts_with("全民健康保險網路服務註冊管理作業要點（"), "{title}");
        let version = fetch(|b, l, n| ecpa_registration_terms_version(portal, b, l, n)).expect("version");
        assert_eq!(version, ecpa::portal::registration_terms().version);
        // A form without the terms accepted is refused before anything else is read.
        let mut card = null_mut();
        let record = person(Who::Wang).card_data().to_bytes();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let pw = c(person(Who::Wang).password);
        let mut form: serde_json::Value = serde_json::from_str(&form_json(Who::Wang)).expect("json");
        form["terms_version"] = "2000-01-01".into();
        assert_eq!(
            ecpa_registration_start(portal, card, pw.as_ptr(), pw.as_ptr(), c(&form.to_string()).as_ptr()),
            code(ErrorCode::TermsNotAccepted)
        );
        form.as_object_mut().expect("object").remove("terms_version");
        assert_eq!(
            ecpa_registration_start(portal, card, pw.as_ptr(), pw.as_ptr(), c(&form.to_string()).as_ptr()),
            code(ErrorCode::RequestInvalid)
        );
        ok(ecpa_nhi_card_free(card));
        ok(ecpa_portal_close(portal));
    }
}

#[test]
fn buffers_size_queries_and_messages() {
    let cs = code(ErrorCode::NationalIdChecksum);
    // SAFETY: valid buffer triples, or NULLs where the test says.
    unsafe {
        let zh = fetch(|b, l, n| ecpa_error_message(cs, ECPA_LANG_ZH_TW, b, l, n)).expect("zh");
        assert_eq!(zh, ErrorCode::NationalIdChecksum.message(ecpa::types::Lang::ZhTw));
        let en = fetch(|b, l, n| ecpa_error_message(cs, ECPA_LANG_EN, b, l, n)).expect("en");
        assert_eq!(
            en,
            "The national ID or resident certificate number fails its check digit"
        );
        // One byte short: nothing written, the size still reported.
        let mut buf = vec![b'#'; en.len()];
        let mut n = 0usize;
        assert_eq!(
            ecpa_error_message(cs, ECPA_LANG_EN, buf.as_mut_ptr().cast(), buf.len(), &mut n),
            code(ErrorCode::FfiBufferTooSmall)
        );
        assert_eq!(n, en.len() + 1);
        assert!(buf.iter().all(|&b| b == b'#'), "a too-small buffer is left alone");
        // Exactly enough.
        let mut buf = vec![b'#'; en.len() + 1];
        ok(ecpa_error_message(
            cs,
            ECPA_LANG_EN,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut n,
        ));
        assert_eq!(&buf[..en.len()], en.as_bytes());
        assert_eq!(buf[en.len()], 0);
        // NULL out_len, unknown code, unknown language.
        assert_eq!(
            ecpa_error_message(cs, ECPA_LANG_EN, buf.as_mut_ptr().cast(), buf.len(), null_mut()),
            code(ErrorCode::FfiNullPointer)
        );
        assert_eq!(
            ecpa_error_message(4242, ECPA_LANG_EN, buf.as_mut_ptr().cast(), buf.len(), &mut n),
            code(ErrorCode::FfiArgumentInvalid)
        );
        assert_eq!(
            ecpa_error_message(cs, 2, buf.as_mut_ptr().cast(), buf.len(), &mut n),
            code(ErrorCode::FfiArgumentInvalid)
        );
        assert_eq!(
            fetch(|b, l, n| ecpa_error_message(0, ECPA_LANG_ZH_TW, b, l, n)).as_deref(),
            Ok("成功")
        );
        for ec in ErrorCode::ALL {
            assert_eq!(
                fetch(|b, l, n| ecpa_error_name(ec.number(), b, l, n)).as_deref(),
                Ok(ec.name())
            );
        }
    }
}

#[test]
fn the_last_error_is_per_thread_and_survives_being_asked_about() {
    // SAFETY: valid strings and buffers.
    unsafe {
        assert_eq!(
            ecpa_id_check(c("A123456788").as_ptr(), null_mut(), null_mut()),
            code(ErrorCode::NationalIdChecksum)
        );
        assert_eq!(ecpa_last_error_code(), code(ErrorCode::NationalIdChecksum));
        // A too-small buffer while asking does not replace the failure asked about.
        let mut tiny = [0u8; 2];
        let mut n = 0;
        assert_eq!(
            ecpa_last_error_detail(ECPA_LANG_EN, tiny.as_mut_ptr().cast(), 2, &mut n),
            code(ErrorCode::FfiBufferTooSmall)
        );
        assert_eq!(ecpa_last_error_code(), code(ErrorCode::NationalIdChecksum));
        let zh = fetch(|b, l, n| ecpa_last_error_detail(ECPA_LANG_ZH_TW, b, l, n)).expect("detail");
        assert!(zh.starts_with("身分證統一編號或居留證號檢查碼錯誤"), "{zh}");
        // Another thread has its own (empty) last error.
        let other = std::thread::spawn(|| (ecpa_last_error_code(), detail()))
            .join()
            .expect("thread");
        assert_eq!(other, (ECPA_OK, String::new()));
        // Success clears it.
        ok(ecpa_id_check(c("A123456789").as_ptr(), null_mut(), null_mut()));
        assert_eq!(ecpa_last_error_code(), ECPA_OK);
        assert_eq!(detail(), "");
    }
}

#[test]
fn a_panic_never_crosses_the_boundary() {
    assert_eq!(ecpa_selftest_panic(), code(ErrorCode::FfiPanic));
    assert_eq!(ecpa_last_error_code(), code(ErrorCode::FfiPanic));
    assert!(detail().contains("deliberate panic"), "{}", detail());
    // The library keeps working on this thread afterwards.
    // SAFETY: a NUL-terminated string.
    ok(unsafe { ecpa_id_check(c("A123456789").as_ptr(), null_mut(), null_mut()) });
}

#[test]
fn null_handles_wrong_handles_and_failed_constructors_leave_outputs_alone() {
    // SAFETY: every pointer is NULL, a live handle, or a valid string, as each case says.
    unsafe {
        let sentinel = 0x10 as *mut EcpaPortal;
        let mut portal = sentinel;
        assert_eq!(ecpa_portal_open(null(), &mut portal), code(ErrorCode::FfiNullPointer));
        assert_eq!(
            ecpa_portal_open(c(":memory:").as_ptr(), null_mut()),
            code(ErrorCode::FfiNullPointer)
        );
        let rc = ecpa_portal_open(c("/nonexistent-dir/below/ecpa.db").as_ptr(), &mut portal);
        assert_ne!(rc, ECPA_OK);
        assert_eq!(rc, ecpa_last_error_code());
        assert_eq!(portal, sentinel, "a failed open leaves out_portal alone");
        ok(ecpa_portal_open(c(":memory:").as_ptr(), &mut portal));

        let mut card: *mut EcpaNhiCard = null_mut();
        let fields = |id: &str, sex: u32, card: &mut *mut EcpaNhiCard| {
            ecpa_nhi_card_new(
                c("000011112222").as_ptr(),
                c("王小明").as_ptr(),
                c(id).as_ptr(),
                c("075/03/15").as_ptr(),
                sex,
                c("110/06/01").as_ptr(),
                card,
            )
        };
        assert_eq!(
            fields("A123456788", ECPA_SEX_MALE, &mut card),
            code(ErrorCode::NationalIdChecksum)
        );
        assert_eq!(fields("A123456789", 9, &mut card), code(ErrorCode::FfiArgumentInvalid));
        assert!(card.is_null());
        ok(fields("A123456789", ECPA_SEX_MALE, &mut card));
        let shown = json(|b, l, n| ecpa_nhi_card_json(card, false, b, l, n));
        assert_eq!(shown["national_id"], "A12345****");
        assert_eq!(shown["birth_date_iso"], "1986-03-15");
        let revealed = json(|b, l, n| ecpa_nhi_card_json(card, true, b, l, n));
        assert_eq!(revealed["national_id"], "A123456789");

        // A card where a portal belongs, and a NULL portal.
        let mut n = 0;
        assert_eq!(
            ecpa_consent_version(card.cast::<EcpaPortal>(), null_mut(), 0, &mut n),
            code(ErrorCode::FfiHandleInvalid)
        );
        assert_eq!(
            ecpa_nhi_card_free(portal.cast::<EcpaNhiCard>()),
            code(ErrorCode::FfiHandleInvalid)
        );
        assert_eq!(
            ecpa_consent_version(null(), null_mut(), 0, &mut n),
            code(ErrorCode::FfiNullPointer)
        );

        // A failed login writes neither the session nor (for an unregistered card) tries left.
        let mut session: *mut EcpaSession = null_mut();
        let mut tries = 99i32;
        assert_eq!(
            ecpa_login_nhi_card(portal, card, c("Ecpa#2026ok").as_ptr(), &mut tries, &mut session),
            code(ErrorCode::NhiCardNotRegistered)
        );
        assert!(session.is_null());
        assert_eq!(tries, 99);
        assert_eq!(
            ecpa_login_nhi_card(portal, card, c("bad pw").as_ptr(), &mut tries, &mut session),
            code(ErrorCode::PasswordPolicy)
        );
        assert_eq!(
            ecpa_registration_start(
                portal,
                card,
                c("Ecpa#2026ok").as_ptr(),
                c("Ecpa#2026ok").as_ptr(),
                c(r#"{"household_number":"F1234567","unknown":1}"#).as_ptr()
            ),
            code(ErrorCode::RequestInvalid)
        );
        let mut p11: *mut EcpaPkcs11 = null_mut();
        assert_eq!(
            ecpa_pkcs11_open(c("/nonexistent/libhicos.so").as_ptr(), null(), &mut p11),
            code(ErrorCode::Pkcs11ModuleNotFound)
        );
        assert!(p11.is_null());
        assert_eq!(
            ecpa_nhi_card_from_record(b"short".as_ptr(), 5, &mut card),
            code(ErrorCode::CardDataInvalid)
        );

        ok(ecpa_nhi_card_free(card));
        ok(ecpa_nhi_card_free(null_mut()));
        ok(ecpa_portal_close(portal));
        ok(ecpa_portal_close(null_mut()));
    }
}

/// The `form_json` of `ecpa_registration_start` for `who` (the fixture's household data). Wang
/// gives phone and mobile; everyone else leaves them out, as the form allows.
fn form_json(who: Who) -> String {
    let mut form = serde_json::json!({
        "household_number": "F1234567",
        "address": {"county": "63000", "township": "63000010", "village": "63000010001", "neighbourhood": 12},
        "email": person(who).reg_email,
        "terms_version": ecpa::portal::registration_terms().version,
    });
    if matches!(who, Who::Wang) {
        form["phone"] = "02-2720-8889".into();
        form["mobile"] = "0912-345-678".into();
    }
    form.to_string()
}

/// Registration, logins, certificate login, consent, award orders, proofing: the demo's flow.
#[test]
fn the_whole_flow_on_an_sqlite_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    let maildir = c(&dir.path().join("mail").to_string_lossy());
    // SAFETY: every handle below is live until freed at the end; every string is NUL-terminated.
    unsafe {
        let (mut pki, mut trust, mut portal, mut mailer) = (null_mut(), null_mut(), null_mut(), null_mut());
        ok(ecpa_test_pki_new(&mut pki));
        ok(ecpa_test_pki_trust(pki, &mut trust));
        ok(ecpa_portal_open_with_trust(db.as_ptr(), trust, &mut portal));
        ok(ecpa_trust_free(trust));
        ok(ecpa_file_mailer_new(maildir.as_ptr(), &mut mailer));

        let csv = support::directory_csv();
        let mut counts = EcpaImportCounts::default();
        ok(ecpa_portal_import_directory_csv(
            portal,
            csv.as_ptr(),
            csv.len(),
            &mut counts,
        ));
        assert!(counts.rows >= 3 && counts.officers >= 1, "{counts:?}");

        let card_of = |who: Who| {
            let mut card = null_mut();
            let record = person(who).card_data().to_bytes();
            ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
            card
        };
        let register = |who: Who, card: *const EcpaNhiCard| {
            let pw = c(person(who).password);
            ok(ecpa_registration_start(
                portal,
                card,
                pw.as_ptr(),
                pw.as_ptr(),
                c(&form_json(who)).as_ptr(),
            ));
            let mut sent = 0;
            ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &mut sent));
            assert_eq!(sent, 1);
            let token = fetch(|b, l, n| ecpa_file_mailer_latest_link_token(mailer, b, l, n)).expect("token");
            ok(ecpa_registration_confirm(portal, card, c(&token).as_ptr()));
        };
        let login = |who: Who, card: *const EcpaNhiCard| {
            let mut s = null_mut();
            ok(ecpa_login_nhi_card(
                portal,
                card,
                c(person(who).password).as_ptr(),
                null_mut(),
                &mut s,
            ));
            s
        };

        let wang_card = card_of(Who::Wang);
        register(Who::Wang, wang_card);
        let mut tries = 99;
        let mut none = null_mut();
        assert_eq!(
            ecpa_login_nhi_card(portal, wang_card, c("Wrong#2026").as_ptr(), &mut tries, &mut none),
            code(ErrorCode::RegistrationPasswordWrong)
        );
        assert!(none.is_null());
        assert_eq!(tries, 4, "tries left after one wrong password");
        let me = login(Who::Wang, wang_card);
        let info = json(|b, l, n| ecpa_session_info_json(portal, me, b, l, n));
        assert!(
            info["logged_in_at"].is_object() || info["logged_in_at"].is_string(),
            "{info}"
        );
        assert_eq!(info["method"], "nhi_card");
        assert_eq!(info["national_id"], person(Who::Wang).masked());
        ok(ecpa_application_open(portal, me, c("B5").as_ptr()));
        let apps = json(|b, l, n| ecpa_applications_json(portal, me, b, l, n));
        assert!(apps.as_array().is_some_and(|a| !a.is_empty()));

        // Citizen certificate: first login binds by the last four digits.
        let wang = person(Who::Wang);
        let mut signer = null_mut();
        ok(ecpa_test_pki_issue_citizen(
            pki,
            c(wang.name).as_ptr(),
            c(&format!("{:0>16}", wang.id.last_four())).as_ptr(),
            c(wang.id.last_four()).as_ptr(),
            &mut signer,
        ));
        let mut cert_session = null_mut();
        assert_eq!(
            ecpa_login_certificate(portal, signer, null(), &mut cert_session),
            code(ErrorCode::CertificateNotBound)
        );
        ok(ecpa_login_certificate(
            portal,
            signer,
            c(wang.id.reveal()).as_ptr(),
            &mut cert_session,
        ));
        assert_eq!(
            json(|b, l, n| ecpa_session_info_json(portal, cert_session, b, l, n))["method"],
            "certificate"
        );
        ok(ecpa_logout(portal, cert_session));
        ok(ecpa_session_free(cert_session));
        ok(ecpa_signer_free(signer));

        // Consent: text, version, give, status, withdraw refused.
        let version = fetch(|b, l, n| ecpa_consent_version(portal, b, l, n)).expect("version");
        let text = fetch(|b, l, n| ecpa_consent_text(portal, ECPA_LANG_ZH_TW, b, l, n)).expect("text");
        assert!(text.contains("獎勵令"));
        let mut given = true;
        assert_eq!(
            json(|b, l, n| ecpa_consent_status_json(portal, me, &mut given, b, l, n)),
            serde_json::Value::Null
        );
        assert!(!given);
        ok(ecpa_consent_give(portal, me, c(&version).as_ptr()));
        let status = json(|b, l, n| ecpa_consent_status_json(portal, me, &mut given, b, l, n));
        assert!(given);
        assert_eq!(status["text_version"], version.as_str());
        assert_eq!(ecpa_consent_withdraw(portal, me), code(ErrorCode::ConsentFinal));

        // The officer issues one order and a CSV batch.
        let chen_card = card_of(Who::OfficerA);
        register(Who::OfficerA, chen_card);
        let officer = login(Who::OfficerA, chen_card);
        let one = serde_json::json!({
            "national_id": wang.id.reveal(), "approving_agency": "臺北市政府勞動局", "approved_on": "114/09/15",
            "document_number": "北市勞人字第1146001001號", "reason": "推動勞資爭議調解",
            "legal_basis": "公務人員考績法第12條", "kind": "merit", "count": 1, "rating_year": 114,
        });
        let (mut id, mut electronic) = (0i64, false);
        ok(ecpa_award_order_issue(
            portal,
            officer,
            c(&one.to_string()).as_ptr(),
            &mut id,
            &mut electronic,
        ));
        assert!(id > 0 && electronic);
        assert_eq!(
            ecpa_award_order_issue(portal, officer, c(&one.to_string()).as_ptr(), &mut id, &mut electronic),
            code(ErrorCode::AwardOrderDuplicate)
        );
        let batch = format!(
            "national_id,approving_agency,approved_on,document_number,reason,legal_basis,kind,count\n\
             {id},臺北市政府勞動局,114/05/02,北市勞人字第1146000789號,辦理業務認真負責,考績法,嘉獎,2\n\
             {id},臺北市政府勞動局,114/10/01,北市勞人字第1146001200號,公文逾期未辦,考績法,申誡,1\n",
            id = wang.id.reveal()
        );
        let mut bulk = EcpaBulkCounts::default();
        ok(ecpa_award_orders_issue_csv(
            portal,
            officer,
            batch.as_ptr(),
            batch.len(),
            &mut bulk,
        ));
        assert_eq!((bulk.issued, bulk.electronic, bulk.paper), (2, 1, 1));
        let bad_batch = "national_id,approving_agency\nA123456788,x\n";
        assert_eq!(
            ecpa_award_orders_issue_csv(portal, officer, bad_batch.as_ptr(), bad_batch.len(), &mut bulk),
            code(ErrorCode::CsvInvalid)
        );
        let mut sent = 0;
        ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &mut sent));
        assert_eq!(sent, 2, "one notice per electronic order");
        let unsigned = json(|b, l, n| ecpa_award_orders_unsigned_json(portal, officer, 1, 0, b, l, n));
        assert_eq!(unsigned["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            (unsigned["total"].as_u64(), unsigned["per_page"].as_u64()),
            (Some(2), Some(100))
        );
        let second = json(|b, l, n| ecpa_award_orders_unsigned_json(portal, officer, 2, 1, b, l, n));
        assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            fetch(|b, l, n| ecpa_award_orders_unsigned_json(portal, officer, 0, 0, b, l, n)),
            Err(code(ErrorCode::FieldInvalid)),
            "no page 0"
        );
        let agencies = json(|b, l, n| ecpa_officer_agencies_json(portal, officer, b, l, n));
        assert_eq!(agencies[0]["code"], support::AGENCY_A, "{agencies}");

        // The employee lists, views (signs for) and reads the history.
        let mut count = 0usize;
        assert_eq!(
            ecpa_award_orders_unviewed_ids(portal, me, null_mut(), 0, &mut count),
            code(ErrorCode::FfiBufferTooSmall)
        );
        assert_eq!(count, 2);
        let mut ids = [0i64; 1];
        assert_eq!(
            ecpa_award_orders_unviewed_ids(portal, me, ids.as_mut_ptr(), 1, &mut count),
            code(ErrorCode::FfiBufferTooSmall)
        );
        assert_eq!(ids, [0], "a too-small array is left alone");
        let mut ids = [0i64; 4];
        ok(ecpa_award_orders_unviewed_ids(
            portal,
            me,
            ids.as_mut_ptr(),
            4,
            &mut count,
        ));
        let unviewed = json(|b, l, n| ecpa_award_orders_unviewed_json(portal, me, b, l, n));
        assert_eq!(unviewed.as_array().map(Vec::len), Some(count));
        for &order in &ids[..count] {
            let o = json(|b, l, n| ecpa_award_order_view_json(portal, me, order, b, l, n));
            assert_eq!(o["id"], order);
            assert_eq!(o["national_id"], wang.masked());
            assert!(o["viewed_at"].is_string());
        }
        ok(ecpa_award_orders_unviewed_ids(portal, me, null_mut(), 0, &mut count));
        assert_eq!(count, 0);
        let history = json(|b, l, n| ecpa_award_history_json(portal, me, b, l, n));
        assert_eq!(history[0]["rating_year"], 114);
        assert_eq!(history[0]["orders"].as_array().map(Vec::len), Some(3));

        // Proofing: stage, complete, the officer queries and approves.
        assert_eq!(
            ecpa_correction_stage(
                portal,
                me,
                c("no_such_category").as_ptr(),
                c("email").as_ptr(),
                c("x").as_ptr()
            ),
            code(ErrorCode::ProofingFieldUnknown)
        );
        ok(ecpa_correction_stage(
            portal,
            me,
            c("current_post").as_ptr(),
            c("email").as_ptr(),
            c("hsiaoming.wang@mail.taipei.gov.tw").as_ptr(),
        ));
        let record = json(|b, l, n| ecpa_personal_record_json(portal, me, b, l, n));
        assert!(record["categories"].as_array().is_some_and(|c| c.len() == 9));
        let (mut submission, mut corrections) = (0i64, 0u32);
        ok(ecpa_proofing_complete(portal, me, &mut submission, &mut corrections));
        assert_eq!(corrections, 1);
        let todos = json(|b, l, n| ecpa_officer_todos_json(portal, officer, b, l, n));
        assert_eq!(todos[0]["submission_id"], submission);
        let q = c(r#"{"from":"101/01/01","proofed":true,"processed":false}"#);
        let rows = json(|b, l, n| ecpa_proofing_query_json(portal, officer, q.as_ptr(), b, l, n));
        assert_eq!(rows["items"][0]["national_id"], wang.masked());
        assert_eq!((rows["page"].as_u64(), rows["total"].as_u64()), (Some(1), Some(1)));
        let mut cids = [0i64; 4];
        ok(ecpa_submission_correction_ids(
            portal,
            officer,
            submission,
            cids.as_mut_ptr(),
            4,
            &mut count,
        ));
        assert_eq!(count, 1);
        assert_eq!(
            ecpa_correction_process(portal, officer, cids[0], c("").as_ptr()),
            code(ErrorCode::RejectReasonRequired)
        );
        ok(ecpa_correction_process(portal, officer, cids[0], null()));
        let done = json(|b, l, n| ecpa_submission_corrections_json(portal, officer, submission, b, l, n));
        assert_eq!(done[0]["status"], "approved");
        assert_eq!(done[0]["after"], "hsiaoming.wang@mail.taipei.gov.tw");
        // The employee sees the outcome of their own correction.
        let mine = json(|b, l, n| ecpa_my_corrections_json(portal, me, b, l, n));
        assert_eq!(
            (mine[0]["id"].as_i64(), &mine[0]["status"]),
            (Some(cids[0]), &"approved".into())
        );

        // The doctor answers with its table even on a machine with no reader or module.
        let (mut failed, mut doctor) = (false, null_mut());
        ok(ecpa_doctor_run(null(), null(), null(), 500, &mut failed, &mut doctor));
        let report = json(|b, l, n| ecpa_doctor_report_json(doctor, b, l, n));
        ok(ecpa_doctor_report_free(doctor));
        assert!(report["rows"].as_array().is_some_and(|r| !r.is_empty()));
        assert_eq!(report["ok"], !failed);

        // Logged out, the session is refused.
        let token = fetch(|b, l, n| ecpa_session_token(me, b, l, n)).expect("token");
        ok(ecpa_logout(portal, me));
        let mut n = 0;
        assert_eq!(
            ecpa_award_history_json(portal, me, null_mut(), 0, &mut n),
            code(ErrorCode::SessionInvalid)
        );
        let mut again = null_mut();
        ok(ecpa_session_from_token(c(&token).as_ptr(), &mut again));
        assert_eq!(ecpa_consent_withdraw(portal, again), code(ErrorCode::SessionInvalid));

        let mut mails = 0;
        ok(ecpa_file_mailer_count(mailer, &mut mails));
        let last = json(|b, l, n| ecpa_file_mailer_message_json(mailer, mails - 1, b, l, n));
        assert!(
            last["subject"].as_str().is_some_and(|s| s.contains("非社交工程演練")),
            "{last}"
        );
        assert_eq!(
            ecpa_file_mailer_message_json(mailer, mails, null_mut(), 0, &mut n),
            code(ErrorCode::FfiArgumentInvalid)
        );

        for s in [again, me, officer] {
            ok(ecpa_session_free(s));
        }
        for card in [wang_card, chen_card] {
            ok(ecpa_nhi_card_free(card));
        }
        ok(ecpa_file_mailer_free(mailer));
        ok(ecpa_test_pki_free(pki));
        ok(ecpa_portal_close(portal));
    }
}

/// One portal handle, many threads: each call is independent, and each thread's last error is
/// its own.
#[test]
fn a_portal_handle_is_shared_by_threads() {
    let mut portal: *mut EcpaPortal = null_mut();
    // SAFETY: valid string and output.
    ok(unsafe { ecpa_portal_open(c(":memory:").as_ptr(), &mut portal) });
    let shared = portal as usize;
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                let p = shared as *const EcpaPortal;
                for i in 0..50 {
                    // SAFETY: the portal lives until the scope ends; strings are NUL-terminated.
                    unsafe {
                        let v = fetch(|b, l, n| ecpa_consent_version(p, b, l, n)).expect("version");
                        assert_eq!(v, "2024-01-01-draft");
                        let bad = (t + i) % 2 == 0;
                        let id = if bad { "A123456788" } else { "A123456789" };
                        let rc = ecpa_id_check(c(id).as_ptr(), null_mut(), null_mut());
                        let want = if bad {
                            code(ErrorCode::NationalIdChecksum)
                        } else {
                            ECPA_OK
                        };
                        assert_eq!(rc, want);
                        assert_eq!(ecpa_last_error_code(), want, "this thread's own last error");
                    }
                }
            });
        }
    });
    // SAFETY: the portal is no longer used by any thread.
    ok(unsafe { ecpa_portal_close(portal) });
}

/// The same calls against `ecpa serve` over HTTP: the JSON is the JSON the server's engine gives.
#[test]
fn a_remote_portal_over_http() {
    let h = HttpFixture::new();
    let wang = person(Who::Wang);
    h.register(Who::Wang);
    let officer = h.ready(Who::OfficerA);
    let url = c(&h.url());
    // SAFETY: live handles until freed; NUL-terminated strings.
    unsafe {
        let mut portal = null_mut();
        ok(ecpa_portal_open(url.as_ptr(), &mut portal));
        let mut card = null_mut();
        let record = wang.card_data().to_bytes();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let mut tries = 99;
        let mut session = null_mut();
        assert_eq!(
            ecpa_login_nhi_card(portal, card, c("Wrong#2026").as_ptr(), &mut tries, &mut session),
            code(ErrorCode::RegistrationPasswordWrong)
        );
        assert_eq!(tries, 4, "tries left cross HTTP and the C boundary");
        ok(ecpa_login_nhi_card(
            portal,
            card,
            c(wang.password).as_ptr(),
            &mut tries,
            &mut session,
        ));
        let version = fetch(|b, l, n| ecpa_consent_version(portal, b, l, n)).expect("version");
        ok(ecpa_consent_give(portal, session, c(&version).as_ptr()));
        let order = support::order(
            Who::Wang,
            "114/05/02",
            "北市勞人字第1146000789號",
            ecpa::portal::AwardKind::Merit,
            1,
        );
        h.remote.issue_award_order(&officer, &order).expect("issued");

        let token = fetch(|b, l, n| ecpa_session_token(session, b, l, n)).expect("token");
        let engine = h
            .portal
            .unviewed_award_orders(&ecpa::portal::SessionToken::new(token))
            .expect("engine");
        let through_c = fetch(|b, l, n| ecpa_award_orders_unviewed_json(portal, session, b, l, n)).expect("json");
        assert_eq!(through_c, serde_json::to_string(&engine).expect("JSON"));

        // Operator tasks need the database: refused on a remote portal.
        let mut counts = EcpaImportCounts::default();
        assert_eq!(
            ecpa_portal_import_directory_csv(portal, b"x".as_ptr(), 1, &mut counts),
            code(ErrorCode::LocalPortalOnly)
        );
        let mut trust = null_mut();
        ok(ecpa_trust_new(&mut trust));
        let mut other = null_mut();
        assert_eq!(
            ecpa_portal_open_with_trust(url.as_ptr(), trust, &mut other),
            code(ErrorCode::LocalPortalOnly)
        );
        assert_eq!(
            ecpa_trust_add_anchor(trust, b"not a certificate".as_ptr(), 17),
            ecpa_last_error_code()
        );
        assert_ne!(ecpa_last_error_code(), ECPA_OK);
        ok(ecpa_trust_free(trust));

        ok(ecpa_logout(portal, session));
        ok(ecpa_session_free(session));
        ok(ecpa_nhi_card_free(card));
        ok(ecpa_portal_close(portal));
    }
}

/// Single sign-on from C: a front end opens B5A and gets the assertion in the JSON, an
/// application written in C fetches the keys and redeems it once.
#[test]
fn single_sign_on_from_c() {
    let config = ecpa::portal::PortalConfig {
        applications: vec![ecpa::portal::ApplicationLink::new("B5A", "https://b5a.example.gov.tw/sso").expect("link")],
        ..support::fast_config()
    };
    let h = HttpFixture::with(config, support::http::test_server_config());
    let wang = person(Who::Wang);
    h.register(Who::Wang);
    let url = c(&h.url());
    // SAFETY: live handles until freed; NUL-terminated strings.
    unsafe {
        let mut portal = null_mut();
        ok(ecpa_portal_open(url.as_ptr(), &mut portal));
        let mut card = null_mut();
        let record = wang.card_data().to_bytes();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let mut session = null_mut();
        ok(ecpa_login_nhi_card(
            portal,
            card,
            c(wang.password).as_ptr(),
            null_mut(),
            &mut session,
        ));
        // Asking for the size does nothing: no assertion is issued, none spent.
        let mut n = 0usize;
        assert_eq!(
            ecpa_application_open_json(portal, session, c("B5A").as_ptr(), null_mut(), 0, &mut n),
            code(ErrorCode::FfiBufferTooSmall)
        );
        assert_eq!(n, ECPA_SSO_JSON_BUFFER);
        assert_eq!(h.fx.sql_int("SELECT count(*) FROM sso_assertions"), 0);
        let opened = json_up_front(|b, l, n| ecpa_application_open_json(portal, session, c("B5A").as_ptr(), b, l, n));
        assert_eq!(opened["code"], "B5A");
        assert_eq!(opened["group"]["code"], "B");
        assert_eq!(opened["sso"]["url"], "https://b5a.example.gov.tw/sso");
        let token = c(opened["sso"]["token"].as_str().expect("a token"));
        // Without an address: the entry alone.
        let b5 = json_up_front(|b, l, n| ecpa_application_open_json(portal, session, c("B5").as_ptr(), b, l, n));
        assert!(b5.get("sso").is_none(), "{b5}");

        let keys = json(|b, l, n| ecpa_sso_keys_json(portal, b, l, n));
        assert_eq!(keys["keys"][0]["alg"], "ES256");
        let audience = c("B5A");
        assert_eq!(
            ecpa_sso_redeem_json(portal, token.as_ptr(), audience.as_ptr(), null_mut(), 0, &mut n),
            code(ErrorCode::FfiBufferTooSmall)
        );
        let who = json_up_front(|b, l, n| ecpa_sso_redeem_json(portal, token.as_ptr(), audience.as_ptr(), b, l, n));
        let mut buf = vec![0u8; ECPA_SSO_JSON_BUFFER];
        assert_eq!(who["name"], "王小明");
        assert_eq!(who["auth_level"], "nhi_card");
        assert!(!who.to_string().contains(wang.id.reveal()));
        // Once only; and an assertion for another application is refused.
        let (b, l) = (buf.as_mut_ptr().cast(), buf.len());
        assert_eq!(
            ecpa_sso_redeem_json(portal, token.as_ptr(), audience.as_ptr(), b, l, &mut n),
            code(ErrorCode::SsoAssertionReplayed)
        );
        let fresh = json_up_front(|b, l, n| ecpa_application_open_json(portal, session, c("B5A").as_ptr(), b, l, n));
        let fresh = c(fresh["sso"]["token"].as_str().expect("a token"));
        assert_eq!(
            ecpa_sso_redeem_json(portal, fresh.as_ptr(), c("B3").as_ptr(), b, l, &mut n),
            code(ErrorCode::SsoAudienceMismatch)
        );
        assert_eq!(
            ecpa_sso_redeem_json(portal, c("forged").as_ptr(), audience.as_ptr(), b, l, &mut n),
            code(ErrorCode::SsoAssertionInvalid)
        );
        assert_eq!(
            ecpa_sso_redeem_json(portal, null(), audience.as_ptr(), b, l, &mut n),
            code(ErrorCode::FfiNullPointer)
        );
        ok(ecpa_session_free(session));
        ok(ecpa_nhi_card_free(card));
        ok(ecpa_portal_close(portal));
    }
}

/// The calls the demo flow does not make: a software key from PKCS#8, a password reset, a
/// resent confirmation, an account login, a discarded correction.
#[test]
fn software_key_password_reset_resend_account_and_discard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    let maildir = c(&dir.path().join("mail").to_string_lossy());
    let pki = ecpa::pki::testpki::TestPki::new().expect("test PKI");
    // SAFETY: live handles until freed; NUL-terminated strings; valid outputs.
    unsafe {
        let (mut trust, mut portal, mut mailer) = (null_mut(), null_mut(), null_mut());
        ok(ecpa_trust_new(&mut trust));
        ok(ecpa_trust_add_anchor(
            trust,
            pki.root.der().as_ptr(),
            pki.root.der().len(),
        ));
        let pem =
            der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, pki.intermediate.der()).expect("PEM");
        ok(ecpa_trust_add_intermediate(trust, pem.as_ptr(), pem.len()));
        ok(ecpa_portal_open_with_trust(db.as_ptr(), trust, &mut portal));
        ok(ecpa_trust_free(trust));
        ok(ecpa_file_mailer_new(maildir.as_ptr(), &mut mailer));
        let csv = support::directory_csv();
        let mut counts = EcpaImportCounts::default();
        ok(ecpa_portal_import_directory_csv(
            portal,
            csv.as_ptr(),
            csv.len(),
            &mut counts,
        ));
        let deliver = || {
            let mut sent = 0;
            ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &mut sent));
            fetch(|b, l, n| ecpa_file_mailer_latest_link_token(mailer, b, l, n)).expect("a link")
        };

        let wang = person(Who::Wang);
        let record = wang.card_data().to_bytes();
        let mut card = null_mut();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let form = form_json(Who::Wang);
        let pw = c(wang.password);
        assert_eq!(
            ecpa_registration_start(portal, card, pw.as_ptr(), c("Other#2026").as_ptr(), c(&form).as_ptr()),
            code(ErrorCode::PasswordMismatch)
        );
        ok(ecpa_registration_start(
            portal,
            card,
            pw.as_ptr(),
            pw.as_ptr(),
            c(&form).as_ptr(),
        ));
        let first = deliver();
        ok(ecpa_registration_resend(portal, card));
        let second = deliver();
        assert_ne!(first, second, "a fresh link");
        ok(ecpa_registration_confirm(portal, card, c(&second).as_ptr()));

        // Forgot password: the old one works until the reset is done.
        ok(ecpa_password_reset_request(portal, card));
        let reset = deliver();
        let mut s = null_mut();
        ok(ecpa_login_nhi_card(portal, card, pw.as_ptr(), null_mut(), &mut s));
        ok(ecpa_session_free(s));
        let (new, other) = (c("Ecpa#2027ok"), c("Ecpa#2028ok"));
        assert_eq!(
            ecpa_password_reset_complete(portal, card, c(&reset).as_ptr(), new.as_ptr(), other.as_ptr()),
            code(ErrorCode::PasswordMismatch)
        );
        ok(ecpa_password_reset_complete(
            portal,
            card,
            c(&reset).as_ptr(),
            new.as_ptr(),
            new.as_ptr(),
        ));
        assert_eq!(
            ecpa_password_reset_complete(portal, card, c(&reset).as_ptr(), other.as_ptr(), other.as_ptr()),
            code(ErrorCode::TokenUsed)
        );
        let mut tries = 99;
        let mut s: *mut EcpaSession = null_mut();
        assert_eq!(
            ecpa_login_nhi_card(portal, card, pw.as_ptr(), &mut tries, &mut s),
            code(ErrorCode::RegistrationPasswordWrong)
        );
        assert!(s.is_null());
        ok(ecpa_login_nhi_card(
            portal,
            card,
            c("Ecpa#2027ok").as_ptr(),
            &mut tries,
            &mut s,
        ));

        // A proofing correction staged and discarded: completing confirms the record as it is.
        ok(ecpa_correction_stage(
            portal,
            s,
            c("current_post").as_ptr(),
            c("email").as_ptr(),
            c("a@b.gov.tw").as_ptr(),
        ));
        ok(ecpa_correction_discard(
            portal,
            s,
            c("current_post").as_ptr(),
            c("email").as_ptr(),
        ));
        let (mut submission, mut corrections) = (0i64, 99u32);
        ok(ecpa_proofing_complete(portal, s, &mut submission, &mut corrections));
        assert_eq!(corrections, 0);
        ok(ecpa_logout(portal, s));
        ok(ecpa_session_free(s));

        // No eCPA account was set: the account login is refused like a wrong password.
        assert_eq!(
            ecpa_login_account(
                portal,
                c("wang.hsiaoming").as_ptr(),
                c("Whatever#1").as_ptr(),
                &mut tries,
                &mut s
            ),
            code(ErrorCode::AccountPasswordWrong)
        );

        // A software key and certificate given as PKCS#8 and DER.
        let (cert, key) = pki
            .issue(&ecpa::pki::testpki::EndEntitySpec::citizen(
                wang.name,
                "0000000056780001",
                Some(wang.id.last_four()),
            ))
            .expect("issued");
        let pkcs8 = key.to_pkcs8().expect("pkcs8");
        let mut signer = null_mut();
        assert_eq!(
            ecpa_signer_from_pkcs8(b"junk".as_ptr(), 4, cert.der().as_ptr(), cert.der().len(), &mut signer),
            code(ErrorCode::PublicKeyUnsupported)
        );
        assert!(signer.is_null());
        ok(ecpa_signer_from_pkcs8(
            pkcs8.as_ptr(),
            pkcs8.len(),
            cert.der().as_ptr(),
            cert.der().len(),
            &mut signer,
        ));
        let subject = fetch(|b, l, n| ecpa_signer_subject(signer, b, l, n)).expect("subject");
        assert!(subject.contains(wang.name), "{subject}");
        ok(ecpa_login_certificate(
            portal,
            signer,
            c(wang.id.reveal()).as_ptr(),
            &mut s,
        ));
        assert_eq!(
            json(|b, l, n| ecpa_session_info_json(portal, s, b, l, n))["level"],
            "certificate"
        );
        ok(ecpa_logout(portal, s));
        ok(ecpa_session_free(s));
        // Origin-bound: the portal's own origin gets in, a look-alike's is refused, NULL is
        // no origin.
        let mut bound = null_mut();
        ok(ecpa_login_certificate_origin_bound(
            portal,
            signer,
            c("http://127.0.0.1:8080").as_ptr(),
            null(),
            &mut bound,
        ));
        ok(ecpa_session_free(bound));
        let mut refused = null_mut();
        assert_eq!(
            ecpa_login_certificate_origin_bound(
                portal,
                signer,
                c("https://ecpa.example.com").as_ptr(),
                null(),
                &mut refused
            ),
            code(ErrorCode::LoginOriginMismatch)
        );
        assert!(refused.is_null());
        assert_eq!(
            ecpa_login_certificate_origin_bound(portal, signer, null(), null(), &mut refused),
            code(ErrorCode::FfiNullPointer)
        );
        ok(ecpa_signer_free(signer));

        ok(ecpa_nhi_card_free(card));
        ok(ecpa_file_mailer_free(mailer));
        ok(ecpa_portal_close(portal));
    }
}

/// A person without a mailbox in the directory cannot register online; the counter registers
/// them from C, and the registration works at once.
#[test]
fn a_counter_registration_from_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = c(&dir.path().join("ecpa.db").to_string_lossy());
    // SAFETY: every handle below is live until freed at the end; every string is NUL-terminated.
    unsafe {
        let mut portal = null_mut();
        ok(ecpa_portal_open(db.as_ptr(), &mut portal));
        let csv = support::directory_csv();
        let mut counts = EcpaImportCounts::default();
        ok(ecpa_portal_import_directory_csv(
            portal,
            csv.as_ptr(),
            csv.len(),
            &mut counts,
        ));
        let p = person(Who::NoMail);
        let mut card = null_mut();
        let record = p.card_data().to_bytes();
        ok(ecpa_nhi_card_from_record(record.as_ptr(), record.len(), &mut card));
        let form = c(&form_json(Who::NoMail));
        let pw = c(p.password);
        assert_eq!(
            ecpa_registration_start(portal, card, pw.as_ptr(), pw.as_ptr(), form.as_ptr()),
            code(ErrorCode::RegistrationNoAddress)
        );
        // The clerk's name is required: NULL is refused, nothing registered.
        assert_eq!(
            ecpa_registration_in_person(portal, card, pw.as_ptr(), pw.as_ptr(), form.as_ptr(), null()),
            code(ErrorCode::FfiNullPointer)
        );
        ok(ecpa_registration_in_person(
            portal,
            card,
            pw.as_ptr(),
            pw.as_ptr(),
            form.as_ptr(),
            c("counter.chen").as_ptr(),
        ));
        let mut s = null_mut();
        ok(ecpa_login_nhi_card(portal, card, pw.as_ptr(), null_mut(), &mut s));
        ok(ecpa_session_free(s));
        // Twice is refused: the registration is active.
        assert_eq!(
            ecpa_registration_in_person(
                portal,
                card,
                pw.as_ptr(),
                pw.as_ptr(),
                form.as_ptr(),
                c("counter.chen").as_ptr()
            ),
            code(ErrorCode::AlreadyRegistered)
        );
        ok(ecpa_nhi_card_free(card));
        ok(ecpa_portal_close(portal));
    }
}
