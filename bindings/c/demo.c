/*
 * The eCPA flow from C, through include/ecpa.h only.
 *
 *   demo flow DB MAILDIR    the whole flow of `ecpa demo` on a fresh SQLite file DB, mails in
 *                           MAILDIR: import, register, confirm, log in (the errors first),
 *                           certificate login, consent, the officer issues orders, the employee
 *                           signs for them, history, proofing, the officer processes it.
 *   demo bad-input          NULL pointers, small buffers, invalid UTF-8, invalid IDs, wrong
 *                           handles, a panic inside the library: every code is checked.
 *   demo bench N            N calls of ecpa_id_check timed with clock_gettime, against the same
 *                           loop calling a C implementation of the same checksum.
 *
 * Every return code is checked; failures print the zh-TW message and exit 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecpa.h"

static int failures = 0;

/* Prints the zh-TW message of the failure: its particulars when it is the last failure of this
 * thread, else the code's general message (the calls that report on failures do not record
 * their own). */
static void print_error(uint32_t rc) {
    char msg[1024];
    size_t n = 0;
    if (ecpa_last_error_code() != rc ||
        ecpa_last_error_detail(ECPA_LANG_ZH_TW, msg, sizeof msg, &n) != ECPA_OK) {
        if (ecpa_error_message(rc, ECPA_LANG_ZH_TW, msg, sizeof msg, &n) != ECPA_OK) {
            snprintf(msg, sizeof msg, "(無訊息)");
        }
    }
    printf("  E%u %s\n", rc, msg);
}

/* A call that must succeed. */
static void ok(uint32_t rc, const char *what) {
    if (rc != ECPA_OK) {
        fprintf(stderr, "失敗 failed: %s\n", what);
        print_error(rc);
        exit(1);
    }
}

/* A call that must fail with `want`; prints the zh-TW message it gave. */
static void expect(uint32_t rc, uint32_t want, const char *what) {
    if (rc != want) {
        fprintf(stderr, "錯誤 %s: 預期 E%u，得到 E%u\n", what, want, rc);
        if (rc != ECPA_OK) {
            print_error(rc);
        }
        failures++;
        return;
    }
    if (want != ECPA_OK) {
        print_error(rc);
    }
}

/*
 * A string result: EXPR is called with buf = NULL to learn the size, then with a buffer of
 * that size (again, should the result have grown in between). EXPR must use the names `buf_`,
 * `len_` and `&n_`. The result is malloc'd.
 */
#define FETCH(out, expr)                                                                          \
    do {                                                                                          \
        char *buf_ = NULL;                                                                        \
        size_t len_ = 0;                                                                          \
        size_t n_ = 0;                                                                            \
        uint32_t rc_;                                                                             \
        while ((rc_ = (expr)) == ECPA_E_FFI_BUFFER_TOO_SMALL) {                                   \
            free(buf_);                                                                           \
            buf_ = malloc(n_);                                                                    \
            if (buf_ == NULL) {                                                                   \
                fprintf(stderr, "out of memory\n");                                               \
                exit(1);                                                                          \
            }                                                                                     \
            len_ = n_;                                                                            \
        }                                                                                         \
        ok(rc_, #expr);                                                                           \
        (out) = buf_;                                                                             \
    } while (0)

static void step(const char *title) { printf("\n== %s ==\n", title); }

static const char DIRECTORY_CSV[] =
    "agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer\n"
    "379130000C,臺北市政府勞動局,勞動檢查處,A123456789,王小明,科員,wang.hsiaoming@mail.taipei.gov.tw,在職,,,\n"
    "379130000C,臺北市政府勞動局,人事室,F223456786,陳美玲,人事管理員,chen.meiling@mail.taipei.gov.tw,在職,,,Y\n"
    "379130000C,臺北市政府勞動局,勞動檢查處,F128765439,林志豪,技士,,卸職,113/12/31,退休,\n";

static const char FORM_JSON[] =
    "{\"household_number\":\"F1234567\",\"address\":{\"county\":\"63000\",\"township\":\"63000010\","
    "\"village\":\"63000010001\",\"neighbourhood\":12},\"phone\":\"02-2720-8889\","
    "\"mobile\":\"0912-345-678\",\"email\":\"%s\",\"terms_version\":\"%s\"}";

static const char ORDERS_CSV[] =
    "national_id,approving_agency,approved_on,document_number,reason,legal_basis,kind,count\n"
    "A123456789,臺北市政府勞動局,113/03/01,北市勞人字第1136000456號,協助重大職災調查,"
    "公務人員考績法第12條,記大功,1\n"
    "A123456789,臺北市政府勞動局,114/05/02,北市勞人字第1146000789號,辦理業務認真負責,"
    "公務人員考績法第12條,嘉獎,2\n"
    "A123456789,臺北市政府勞動局,114/10/01,北市勞人字第1146001200號,公文逾期未辦,"
    "公務人員考績法第12條,申誡,1\n";

/* Registers the card's holder: start, deliver the mail, open its link with the card. */
static void register_card(const ecpa_portal *portal, const ecpa_file_mailer *mailer,
                          const ecpa_nhi_card *card, const char *password, const char *email) {
    char form[640];
    size_t sent = 0;
    char *token = NULL;
    char *terms = NULL;
    char *version = NULL;
    char *notice = NULL;
    /* The terms come before the form: the person reads them and accepts them. */
    FETCH(terms, ecpa_registration_terms(portal, ECPA_LANG_ZH_TW, buf_, len_, &n_));
    FETCH(version, ecpa_registration_terms_version(portal, buf_, len_, &n_));
    printf("閱讀%s，點選「我已閱讀完畢，並瞭解相關規定」\n", terms);
    snprintf(form, sizeof form, FORM_JSON, email, version);
    ok(ecpa_registration_start(portal, card, password, password, form), "registration_start");
    ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &sent), "deliver_outbox");
    FETCH(token, ecpa_file_mailer_latest_link_token(mailer, buf_, len_, &n_));
    printf("認證信已寄出 %zu 封，開啟連結（token %.8s…）\n", sent, token);
    ok(ecpa_registration_confirm(portal, card, token), "registration_confirm");
    FETCH(notice, ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED, ECPA_LANG_ZH_TW, buf_, len_, &n_));
    printf("%s\n", notice);
    free(notice);
    free(version);
    free(terms);
    free(token);
}

static int flow(const char *db, const char *maildir) {
    ecpa_test_pki *pki = NULL;
    ecpa_trust *trust = NULL;
    ecpa_portal *portal = NULL;
    ecpa_file_mailer *mailer = NULL;
    ecpa_nhi_card *wang = NULL, *chen = NULL, *stranger = NULL;
    ecpa_session *me = NULL, *officer = NULL, *cert_session = NULL;
    ecpa_signer *signer = NULL;
    ecpa_import_counts imported;
    ecpa_bulk_counts bulk;
    char *s = NULL;
    size_t sent = 0;
    int32_t tries = -99;

    step("開啟入口網站（SQLite）與示範憑證機構");
    ok(ecpa_test_pki_new(&pki), "test_pki_new");
    ok(ecpa_test_pki_trust(pki, &trust), "test_pki_trust");
    ok(ecpa_portal_open_with_trust(db, trust, &portal), "portal_open_with_trust");
    ok(ecpa_trust_free(trust), "trust_free");
    ok(ecpa_file_mailer_new(maildir, &mailer), "file_mailer_new");
    printf("資料庫 %s，郵件目錄 %s\n", db, maildir);

    step("環境檢測（ecpa doctor）");
    {
        ecpa_doctor_report *report = NULL;
        bool failed = false;
        ok(ecpa_doctor_run(NULL, NULL, NULL, 1000, &failed, &report), "doctor_run");
        FETCH(s, ecpa_doctor_report_json(report, buf_, len_, &n_));
        printf("%s（%zu 位元組 JSON）\n", failed ? "有檢查項目失敗（本機沒有讀卡機或憑證模組時為正常）" : "全部通過",
               strlen(s));
        free(s);
        ok(ecpa_doctor_report_free(report), "doctor_report_free");
    }

    step("匯入機關人員名冊（CSV）");
    ok(ecpa_portal_import_directory_csv(portal, (const uint8_t *)DIRECTORY_CSV,
                                        strlen(DIRECTORY_CSV), &imported),
       "import_directory_csv");
    printf("匯入 %zu 筆（新增 %zu、更新 %zu），人事人員 %zu 位\n", imported.rows, imported.created,
           imported.updated, imported.officers);

    step("健保卡網路服務註冊");
    ok(ecpa_nhi_card_new("000011112222", "王小明", "A123456789", "075/03/15", ECPA_SEX_MALE,
                         "110/06/01", &wang),
       "nhi_card_new");
    FETCH(s, ecpa_nhi_card_json(wang, false, buf_, len_, &n_));
    printf("讀取健保卡：%s\n", s);
    free(s);
    register_card(portal, mailer, wang, "Ecpa#2026ok", "wang.hsiaoming@mail.taipei.gov.tw");
    printf("註冊完成\n");

    step("登入：錯誤情形與成功登入");
    ok(ecpa_nhi_card_new("000099998888", "路人甲", "E222223335", "080/01/01", ECPA_SEX_FEMALE,
                         "112/01/01", &stranger),
       "nhi_card_new stranger");
    expect(ecpa_login_nhi_card(portal, stranger, "Whatever1", &tries, &me),
           ECPA_E_NHI_CARD_NOT_REGISTERED, "login unregistered");
    expect(ecpa_login_nhi_card(portal, wang, "Wrong#2026", &tries, &me),
           ECPA_E_REGISTRATION_PASSWORD_WRONG, "login wrong password");
    printf("  尚可再試 %d 次\n", tries);
    if (me != NULL) {
        fprintf(stderr, "a failed login wrote its session output\n");
        failures++;
    }
    ok(ecpa_login_nhi_card(portal, wang, "Ecpa#2026ok", &tries, &me), "login_nhi_card");
    FETCH(s, ecpa_session_info_json(portal, me, buf_, len_, &n_));
    printf("健保卡＋註冊密碼登入成功：%s\n", s);
    free(s);
    ok(ecpa_application_open(portal, me, "B5"), "application_open B5");
    printf("已將 B5 個人資料校對加入「我的應用系統」並開啟\n");

    step("自然人憑證登入：首次綁定");
    ok(ecpa_test_pki_issue_citizen(pki, "王小明", "0000000056780001", "6789", &signer),
       "issue_citizen");
    FETCH(s, ecpa_signer_subject(signer, buf_, len_, &n_));
    printf("軟體憑證：%s\n", s);
    free(s);
    expect(ecpa_login_certificate(portal, signer, NULL, &cert_session),
           ECPA_E_CERTIFICATE_NOT_BOUND, "certificate login before binding");
    ok(ecpa_login_certificate(portal, signer, "A123456789", &cert_session), "login_certificate");
    FETCH(s, ecpa_session_info_json(portal, cert_session, buf_, len_, &n_));
    printf("綁定並登入：%s\n", s);
    free(s);
    ok(ecpa_logout(portal, cert_session), "logout certificate session");
    ok(ecpa_session_free(cert_session), "session_free");
    ok(ecpa_signer_free(signer), "signer_free");

    step("同意獎勵令電子化");
    FETCH(s, ecpa_consent_text(portal, ECPA_LANG_ZH_TW, buf_, len_, &n_));
    printf("%s\n", s);
    free(s);
    FETCH(s, ecpa_consent_version(portal, buf_, len_, &n_));
    ok(ecpa_consent_give(portal, me, s), "consent_give");
    printf("已同意（版本 %s）\n", s);
    free(s);
    {
        bool given = false;
        FETCH(s, ecpa_consent_status_json(portal, me, &given, buf_, len_, &n_));
        printf("同意紀錄（%s）：%s\n", given ? "已同意" : "未同意", s);
        free(s);
    }
    expect(ecpa_consent_withdraw(portal, me), ECPA_E_CONSENT_FINAL, "withdraw consent");

    step("人事人員發布獎懲令");
    ok(ecpa_nhi_card_new("000077778888", "陳美玲", "F223456786", "072/08/08", ECPA_SEX_FEMALE,
                         "111/11/11", &chen),
       "nhi_card_new chen");
    register_card(portal, mailer, chen, "Officer#2026", "chen.meiling@mail.taipei.gov.tw");
    ok(ecpa_login_nhi_card(portal, chen, "Officer#2026", &tries, &officer), "officer login");
    {
        int64_t id = 0;
        bool electronic = false;
        ok(ecpa_award_order_issue(
               portal, officer,
               "{\"national_id\":\"A123456789\",\"approving_agency\":\"臺北市政府勞動局\","
               "\"approved_on\":\"114/09/15\",\"document_number\":\"北市勞人字第1146001001號\","
               "\"reason\":\"推動勞資爭議調解\",\"legal_basis\":\"公務人員考績法第12條\","
               "\"kind\":\"merit\",\"count\":1,\"rating_year\":114}",
               &id, &electronic),
           "award_order_issue");
        printf("發布獎懲令第 %lld 號：%s\n", (long long)id, electronic ? "電子化" : "紙本");
    }
    ok(ecpa_award_orders_issue_csv(portal, officer, (const uint8_t *)ORDERS_CSV,
                                   strlen(ORDERS_CSV), &bulk),
       "award_orders_issue_csv");
    printf("一次發布 %zu 件：電子 %zu 件、紙本 %zu 件\n", bulk.issued, bulk.electronic, bulk.paper);
    ok(ecpa_portal_deliver_outbox(portal, mailer, 100, &sent), "deliver notices");
    printf("寄出通知信 %zu 封\n", sent);

    step("人事人員：尚未簽收名單");
    FETCH(s, ecpa_award_orders_unsigned_json(portal, officer, 1, 0, buf_, len_, &n_));
    printf("%s\n", s);
    free(s);

    step("未檢視獎令：檢視即簽收");
    {
        size_t count = 0;
        int64_t *ids = NULL;
        uint32_t rc = ecpa_award_orders_unviewed_ids(portal, me, NULL, 0, &count);
        if (rc != ECPA_E_FFI_BUFFER_TOO_SMALL && rc != ECPA_OK) {
            ok(rc, "unviewed_ids (size)");
        }
        printf("未檢視獎令 %zu 件\n", count);
        ids = calloc(count == 0 ? 1 : count, sizeof *ids);
        if (ids == NULL) {
            return 1;
        }
        ok(ecpa_award_orders_unviewed_ids(portal, me, ids, count, &count), "unviewed_ids");
        for (size_t i = 0; i < count; i++) {
            FETCH(s, ecpa_award_order_view_json(portal, me, ids[i], buf_, len_, &n_));
            printf("檢視並簽收：%s\n", s);
            free(s);
        }
        free(ids);
        ok(ecpa_award_orders_unviewed_ids(portal, me, NULL, 0, &count), "unviewed_ids after");
        printf("尚未簽收 %zu 件\n", count);
        if (count != 0) {
            failures++;
        }
    }

    step("查詢個人歷年獎懲資料");
    FETCH(s, ecpa_award_history_json(portal, me, buf_, len_, &n_));
    printf("%s\n", s);
    free(s);

    step("個人資料校對：修正電子郵件信箱");
    {
        int64_t submission = 0;
        uint32_t corrections = 0;
        size_t count = 0;
        int64_t ids[8];
        ok(ecpa_correction_stage(portal, me, "current_post", "email",
                                 "hsiaoming.wang@mail.taipei.gov.tw"),
           "correction_stage");
        ok(ecpa_proofing_complete(portal, me, &submission, &corrections), "proofing_complete");
        printf("按下「校對完成」：第 %lld 號，%u 項修正\n", (long long)submission, corrections);

        step("人事人員校對查詢與處理");
        FETCH(s, ecpa_officer_todos_json(portal, officer, buf_, len_, &n_));
        printf("待辦事項：%s\n", s);
        free(s);
        FETCH(s, ecpa_proofing_query_json(portal, officer,
                                          "{\"from\":\"101/01/01\",\"proofed\":true,\"processed\":false}",
                                          buf_, len_, &n_));
        printf("查詢（校對日期 101/01/01 起、已校對、未處理）：%s\n", s);
        free(s);
        ok(ecpa_submission_correction_ids(portal, officer, submission, ids, 8, &count),
           "submission_correction_ids");
        for (size_t i = 0; i < count; i++) {
            ok(ecpa_correction_process(portal, officer, ids[i], NULL), "correction_process");
        }
        FETCH(s, ecpa_submission_corrections_json(portal, officer, submission, buf_, len_, &n_));
        printf("核准：%s\n", s);
        free(s);
        expect(ecpa_correction_process(portal, officer, ids[0], NULL),
               ECPA_E_CORRECTION_ALREADY_PROCESSED, "process twice");
    }

    step("登出");
    ok(ecpa_logout(portal, me), "logout");
    ok(ecpa_logout(portal, officer), "logout officer");
    expect(ecpa_award_history_json(portal, me, NULL, 0, &sent), ECPA_E_SESSION_INVALID,
           "a logged-out session");
    ok(ecpa_session_free(me), "session_free");
    ok(ecpa_session_free(officer), "session_free");
    ok(ecpa_nhi_card_free(wang), "card_free");
    ok(ecpa_nhi_card_free(chen), "card_free");
    ok(ecpa_nhi_card_free(stranger), "card_free");
    ok(ecpa_file_mailer_free(mailer), "mailer_free");
    ok(ecpa_test_pki_free(pki), "pki_free");
    ok(ecpa_portal_close(portal), "portal_close");
    printf("\n%s\n", failures == 0 ? "全部步驟完成" : "有步驟失敗");
    return failures == 0 ? 0 : 1;
}

static int bad_input(void) {
    char buf[256];
    char small[4];
    size_t n = 12345;
    uint32_t kind = 99, sex = 99;
    ecpa_portal *portal = NULL;
    ecpa_nhi_card *card = NULL;
    ecpa_session *session = NULL;

    printf("== 錯誤輸入 bad input ==\n");
    /* ID check: valid, bad checksum, malformed, NULL, invalid UTF-8. */
    expect(ecpa_id_check("A123456789", &kind, &sex), ECPA_OK, "valid ID");
    if (kind != ECPA_ID_KIND_NATIONAL || sex != ECPA_SEX_MALE) {
        failures++;
    }
    expect(ecpa_id_check("A800000014", &kind, NULL), ECPA_OK, "new resident certificate");
    if (kind != ECPA_ID_KIND_RESIDENT_NEW) {
        failures++;
    }
    kind = 99;
    expect(ecpa_id_check("A123456788", &kind, &sex), ECPA_E_NATIONAL_ID_CHECKSUM, "checksum");
    expect(ecpa_id_check("AB12345678", &kind, &sex), ECPA_E_NATIONAL_ID_CHECKSUM, "AB12345678");
    expect(ecpa_id_check("A1234", &kind, &sex), ECPA_E_NATIONAL_ID_INVALID, "too short");
    expect(ecpa_id_check("1234567890", &kind, &sex), ECPA_E_NATIONAL_ID_INVALID, "no letter");
    expect(ecpa_id_check("", &kind, &sex), ECPA_E_NATIONAL_ID_INVALID, "empty");
    if (kind != 99) {
        fprintf(stderr, "a failed check wrote its output\n");
        failures++;
    }
    expect(ecpa_id_check(NULL, NULL, NULL), ECPA_E_FFI_NULL_POINTER, "NULL id");
    expect(ecpa_id_check("A12345\xff" "789", NULL, NULL), ECPA_E_FFI_STRING_INVALID, "invalid UTF-8");

    /* Messages: size query, too small, unknown code, unknown language. */
    expect(ecpa_error_message(ECPA_E_NATIONAL_ID_CHECKSUM, ECPA_LANG_ZH_TW, NULL, 0, &n),
           ECPA_E_FFI_BUFFER_TOO_SMALL, "size query");
    printf("  所需大小 %zu 位元組\n", n);
    memcpy(small, "xyz", 4);
    expect(ecpa_error_message(ECPA_E_NATIONAL_ID_CHECKSUM, ECPA_LANG_EN, small, sizeof small, &n),
           ECPA_E_FFI_BUFFER_TOO_SMALL, "small buffer");
    if (memcmp(small, "xyz", 4) != 0) {
        fprintf(stderr, "a too-small buffer was written\n");
        failures++;
    }
    expect(ecpa_error_message(ECPA_E_NATIONAL_ID_CHECKSUM, ECPA_LANG_EN, buf, sizeof buf, &n),
           ECPA_OK, "message");
    if (n != strlen(buf) + 1) {
        failures++;
    }
    printf("  %s\n", buf);
    expect(ecpa_error_message(4242, ECPA_LANG_EN, buf, sizeof buf, &n), ECPA_E_FFI_ARGUMENT_INVALID,
           "unknown code");
    expect(ecpa_error_message(1001, 7, buf, sizeof buf, &n), ECPA_E_FFI_ARGUMENT_INVALID,
           "unknown language");
    expect(ecpa_error_message(1001, ECPA_LANG_EN, buf, sizeof buf, NULL), ECPA_E_FFI_NULL_POINTER,
           "NULL out_len");
    expect(ecpa_error_name(ECPA_E_PIN_INCORRECT, buf, sizeof buf, &n), ECPA_OK, "error name");
    if (strcmp(buf, "pin_incorrect") != 0) {
        failures++;
    }

    /* Handles: NULL everywhere, a handle of the wrong kind, invalid fields. */
    expect(ecpa_portal_open(NULL, &portal), ECPA_E_FFI_NULL_POINTER, "NULL url");
    expect(ecpa_portal_open(":memory:", NULL), ECPA_E_FFI_NULL_POINTER, "NULL out_portal");
    expect(ecpa_portal_open(":memory:", &portal), ECPA_OK, "open in memory");
    expect(ecpa_consent_version(NULL, buf, sizeof buf, &n), ECPA_E_FFI_NULL_POINTER, "NULL portal");
    expect(ecpa_nhi_card_new("000011112222", "王小明", "A123456788", "075/03/15", ECPA_SEX_MALE,
                             "110/06/01", &card),
           ECPA_E_NATIONAL_ID_CHECKSUM, "card with a bad ID");
    expect(ecpa_nhi_card_new("0000111", "王小明", "A123456789", "075/03/15", ECPA_SEX_MALE,
                             "110/06/01", &card),
           ECPA_E_CARD_NUMBER_INVALID, "card with a bad number");
    expect(ecpa_nhi_card_new("000011112222", "王小明", "A123456789", "075/02/30", ECPA_SEX_MALE,
                             "110/06/01", &card),
           ECPA_E_DATE_INVALID, "card with a bad date");
    expect(ecpa_nhi_card_new("000011112222", "王小明", "A123456789", "075/03/15", 3, "110/06/01",
                             &card),
           ECPA_E_FFI_ARGUMENT_INVALID, "card with a bad sex");
    if (card != NULL) {
        fprintf(stderr, "a failed constructor wrote its handle\n");
        failures++;
    }
    expect(ecpa_nhi_card_from_record((const uint8_t *)"short", 5, &card), ECPA_E_CARD_DATA_INVALID,
           "short record");
    expect(ecpa_nhi_card_new("000011112222", "王小明", "A123456789", "075/03/15", ECPA_SEX_MALE,
                             "110/06/01", &card),
           ECPA_OK, "card");
    /* A handle of another kind where a portal is expected. */
    expect(ecpa_consent_version((const ecpa_portal *)(const void *)card, buf, sizeof buf, &n),
           ECPA_E_FFI_HANDLE_INVALID, "a card where a portal belongs");
    expect(ecpa_login_nhi_card(portal, card, "short", NULL, &session), ECPA_E_PASSWORD_POLICY,
           "password breaking the policy");
    expect(ecpa_login_nhi_card(portal, card, "Ecpa#2026ok", NULL, &session),
           ECPA_E_NHI_CARD_NOT_REGISTERED, "unregistered card");
    expect(ecpa_registration_start(portal, card, "Ecpa#2026ok", "Ecpa#2026ok", "{not json"),
           ECPA_E_REQUEST_INVALID, "bad form JSON");
    expect(ecpa_award_orders_issue_csv(portal, session, (const uint8_t *)"x", 1, NULL),
           ECPA_E_FFI_NULL_POINTER, "NULL out_counts");
    expect(ecpa_session_from_token("not-a-session", &session), ECPA_OK, "session from token");
    expect(ecpa_consent_give(portal, session, "2019-07-01"), ECPA_E_SESSION_INVALID,
           "unknown session");
    expect(ecpa_portal_import_directory_csv(portal, NULL, 10, NULL), ECPA_E_FFI_NULL_POINTER,
           "NULL csv");
    expect(ecpa_pkcs11_open("/nonexistent/libhicos.so", NULL, NULL), ECPA_E_FFI_NULL_POINTER,
           "NULL out_pkcs11");
    {
        ecpa_pkcs11 *p11 = NULL;
        expect(ecpa_pkcs11_open("/nonexistent/libhicos.so", NULL, &p11),
               ECPA_E_TOKEN_MODULE_NOT_FOUND, "missing PKCS#11 module");
    }

    /* The last error detail survives being asked about, and a panic becomes a code. */
    expect(ecpa_id_check("A123456788", NULL, NULL), ECPA_E_NATIONAL_ID_CHECKSUM, "checksum again");
    expect(ecpa_last_error_detail(ECPA_LANG_EN, small, sizeof small, &n), ECPA_E_FFI_BUFFER_TOO_SMALL,
           "detail, small buffer");
    expect(ecpa_last_error_detail(ECPA_LANG_EN, buf, sizeof buf, &n), ECPA_OK, "detail");
    if (strstr(buf, "check digit") == NULL) {
        fprintf(stderr, "detail lost: %s\n", buf);
        failures++;
    }
    expect(ecpa_selftest_panic(), ECPA_E_FFI_PANIC, "panic caught");
    expect(ecpa_id_check("A123456789", NULL, NULL), ECPA_OK, "works after a panic");

    expect(ecpa_session_free(session), ECPA_OK, "session_free");
    expect(ecpa_session_free(NULL), ECPA_OK, "free NULL");
    expect(ecpa_nhi_card_free(card), ECPA_OK, "card_free");
    expect(ecpa_portal_close(portal), ECPA_OK, "portal_close");
    printf("%s（%d 項不符）\n", failures == 0 ? "錯誤輸入全部得到預期的代碼" : "有不符預期的代碼",
           failures);
    return failures == 0 ? 0 : 1;
}

/* The same checksum in plain C: the baseline of the bench. */
static int c_id_check(const char *id) {
    static const int letters[26] = {10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
                                    22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33};
    int sum;
    if (strlen(id) != 10 || id[0] < 'A' || id[0] > 'Z') {
        return 0;
    }
    sum = letters[id[0] - 'A'] / 10 + (letters[id[0] - 'A'] % 10) * 9;
    for (int i = 1; i < 9; i++) {
        if (id[i] < '0' || id[i] > '9') {
            return 0;
        }
        sum += (id[i] - '0') * (9 - i);
    }
    sum += id[9] - '0';
    return sum % 10 == 0;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bench(long n) {
    volatile uint32_t sink = 0;
    const char *volatile id = "A123456789";
    double t0, t1, t2;
    for (long i = 0; i < n / 10; i++) { /* warm up */
        sink += ecpa_id_check(id, NULL, NULL);
    }
    t0 = seconds();
    for (long i = 0; i < n; i++) {
        sink += ecpa_id_check(id, NULL, NULL);
    }
    t1 = seconds();
    for (long i = 0; i < n; i++) {
        sink += (uint32_t)c_id_check(id);
    }
    t2 = seconds();
    if (sink != (uint32_t)n) {
        /* ecpa_id_check returns ECPA_OK (0) for a valid ID and c_id_check 1: the sum is n. */
        fprintf(stderr, "unexpected results (%u)\n", (unsigned)sink);
        return 1;
    }
    printf("ecpa_id_check from C: %.1f ns/call (%ld calls)\n", (t1 - t0) / (double)n * 1e9, n);
    printf("plain C checksum:     %.1f ns/call (baseline)\n", (t2 - t1) / (double)n * 1e9);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "flow") == 0) {
        return flow(argv[2], argv[3]);
    }
    if (argc == 2 && strcmp(argv[1], "bad-input") == 0) {
        return bad_input();
    }
    if (argc == 3 && strcmp(argv[1], "bench") == 0) {
        long n = strtol(argv[2], NULL, 10);
        return bench(n > 0 ? n : 1000000);
    }
    fprintf(stderr, "usage: %s flow DB MAILDIR | bad-input | bench N\n", argv[0]);
    return 2;
}
