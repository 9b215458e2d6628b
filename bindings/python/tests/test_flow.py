"""The whole flow on an embedded portal, as `ecpa demo` runs it: registration, the four login
errors, the catalogue, certificate login, consent, bulk issuance, signing, yearly history,
proofing and the officer's processing."""

from __future__ import annotations

import datetime
import pathlib

import pytest
from conftest import CHEN, DATA, LIN, NOBODY, STRANGER, WANG, Embedded, register_form

import ecpa

TAIWAN = datetime.timezone(datetime.timedelta(hours=8))


def taiwan_today() -> datetime.date:
    return datetime.datetime.now(TAIWAN).date()


def test_version_is_the_crates() -> None:
    cargo = (DATA.parents[3] / "Cargo.toml").read_text(encoding="utf-8")
    assert f'version = "{ecpa.__version__}"' in cargo


def test_registration_password_reset_and_the_four_login_errors(embedded: Embedded) -> None:
    p = embedded.portal
    receipt = p.start_nhi_registration(WANG.card, **register_form(WANG))  # type: ignore[arg-type]
    assert receipt.sent_to == "wa***@mail.taipei.gov.tw"  # the official mailbox, masked
    assert isinstance(receipt.link_expires_at, datetime.datetime)
    assert receipt.link_expires_at.utcoffset() == datetime.timedelta(hours=8)
    mail = embedded.deliver()[-1]
    assert mail.to == WANG.email and mail.link_token
    confirmed = p.confirm_nhi_registration(WANG.card, mail.link_token)
    assert isinstance(confirmed, ecpa.Notice)
    assert (confirmed.kind, confirmed.message_zh) == ("email_confirmed", "已完成電子信箱認證")

    # Forgot password: the old password works until the reset is done; the link works once.
    p.request_password_reset(WANG.card)
    reset = embedded.newest_token()
    p.logout(p.login_nhi_card(WANG.card, WANG.password))
    with pytest.raises(ecpa.InvalidInputError) as differ:
        p.complete_password_reset(WANG.card, reset, "Ecpa#2027ok", "Ecpa#2027no")
    assert differ.value.name == "password_mismatch"
    changed = p.complete_password_reset(WANG.card, reset, "Ecpa#2027ok", "Ecpa#2027ok")
    assert changed.kind == "password_changed"
    assert changed.message_zh == "註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！"
    with pytest.raises(ecpa.RegistrationError) as used:
        p.complete_password_reset(WANG.card, reset, "Ecpa#2028ok", "Ecpa#2028ok")
    assert used.value.name == "token_used"

    # Neither can register online (not in the directory; no mailbox in it): the NHI counter can.
    for who in (NOBODY, LIN):
        with pytest.raises(ecpa.RegistrationError) as refused:
            p.start_nhi_registration(who.card, **register_form(who))  # type: ignore[arg-type]
        assert refused.value.name in ("registration_data_mismatch", "registration_no_address")
        p.register_nhi_card_in_person(who.card, operator="counter", **register_form(who))  # type: ignore[arg-type]
    expected = [
        (STRANGER, "Whatever1", 5001, "您尚未註冊健保卡網路服務"),
        (WANG, "Wrong#2026", 5002, "註冊密碼輸入錯誤"),
        (NOBODY, NOBODY.password, 5003, "驗證失敗 查無您的帳號 基於安全考量，請洽本總處 客服信箱：pemis@dgpa.gov.tw。"),
        (LIN, LIN.password, 5004, "很抱歉，該帳號已停用"),
    ]
    for who, password, code, words in expected:
        with pytest.raises(ecpa.AuthError) as e:
            p.login_nhi_card(who.card, password)
        assert e.value.code == code
        assert e.value.message_zh.startswith(words)
    session = p.login_nhi_card(WANG.card, "Ecpa#2027ok")
    assert session.info.name == "王小明"
    # 登入時間（本次／上次）: Wang logged in before the reset.
    assert isinstance(session.info.logged_in_at, datetime.datetime) and session.info.logged_in_at_roc
    assert session.info.previous_login_at is not None and session.info.previous_login_at <= session.info.logged_in_at
    assert session.info.national_id == "A12345****"
    assert session.info.level == "nhi_card" and not session.info.officer
    assert "A123456789" not in repr(session) and session.token not in repr(session)


def test_the_whole_flow_from_consent_to_processing(embedded: Embedded) -> None:
    p = embedded.portal
    embedded.register(WANG)
    embedded.register(CHEN)
    me = embedded.login(WANG)
    officer = embedded.login(CHEN)
    assert officer.info.officer

    # The catalogue: B5 opens with the NHI card; A1 needs the citizen certificate.
    apps = {a.code: a for a in p.applications(me)}
    assert apps["B5"].usable and not apps["A1"].usable
    p.add_my_application(me, "B5")
    assert p.open_application(me, "B5").code == "B5"
    p.add_my_application(me, "A1")
    with pytest.raises(ecpa.AuthError) as low:
        p.open_application(me, "A1")
    assert low.value.name == "assurance_too_low"
    assert [a.code for a in p.my_applications(me)] == ["A1", "B5"] or {a.code for a in p.my_applications(me)} == {"A1", "B5"}

    # Consent, once and for good.
    assert p.consent_status(me) is None
    text = p.consent_text()
    record = p.give_consent(me, text.version)
    assert record.text_version == text.version and record.login_method == "nhi_card"
    assert (text.covers, text.draft, record.covers, record.newer_version) == ("major_merit", True, "major_merit", None)
    assert text.effective_from == datetime.date(2024, 1, 1) and text.effective_from_roc == "113/01/01"
    again = p.give_consent(me, text.version)
    assert again.agreed_at == record.agreed_at
    with pytest.raises(ecpa.ConsentError) as final:
        p.withdraw_consent(me)
    assert final.value.code == 7002

    # The officer issues a batch; the reprimand goes on paper.
    orders = ecpa.read_orders_csv((DATA / "orders.csv").read_bytes())
    assert [o.kind for o in orders] == ["commendation", "merit", "reprimand"]
    report = p.issue_award_orders(officer, orders)
    assert (report.issued, report.electronic, report.paper) == (3, 2, 1)
    assert [o.delivery for o in report.orders] == ["electronic", "electronic", "paper"]
    assert report.orders[2].paper_reason == "punishment"
    notices = embedded.deliver()
    assert sum("個人獎勵令通知信" in m.subject for m in notices) == 2

    unviewed = p.unviewed_award_orders(me)
    assert len(unviewed) == 2
    first = unviewed[0]
    assert first.approved_on == datetime.date(2025, 5, 2) and first.approved_on_roc == "114/05/02"
    assert first.viewed_at is None
    unsigned = p.unsigned_award_orders(officer)
    assert len(unsigned) == 2 and all(u.national_id == "A12345****" for u in unsigned)
    order = p.view_award_order(me, first.id)
    assert order.reason == "辦理業務認真負責"
    assert order.summary.viewed_at is not None and order.summary.viewed_at_roc
    assert "A123456789" not in repr(order)
    assert len(p.unviewed_award_orders(me)) == 1
    assert len(p.unsigned_award_orders(officer)) == 1

    history = p.award_history(me)
    year = next(y for y in history if y.rating_year == 114)
    assert len(year.orders) == 3
    assert year.ordinary_rewards.minor == 2 and year.ordinary_rewards.middle == 1

    # Proofing the e-mail address, then the officer's query and processing.
    record_before = p.personal_record(me)
    post = next(c for c in record_before.categories if c.category == "current_post")
    email = next(f for f in post.fields if f.key == "email")
    assert email.value == WANG.email
    staged = p.stage_correction(me, "現職資料", "email", "hsiaoming.wang@mail.taipei.gov.tw")
    assert (staged.before, staged.after) == (WANG.email, "hsiaoming.wang@mail.taipei.gov.tw")
    submission = p.complete_proofing(me)
    assert submission.corrections == 1
    roc_year = str(taiwan_today().year - 1911)
    assert submission.completed_at_roc.startswith(roc_year + "/")
    assert submission.completed_at.year - 1911 == int(roc_year)
    todos = p.officer_todos(officer)
    assert len(todos) == 1 and todos[0].national_id == "A12345****"
    rows = p.proofing_query(officer, date_from="101/01/01", date_to=taiwan_today(), proofed=True, processed=False)
    assert [r.name for r in rows] == ["王小明"]
    assert rows[0].proofed_on_roc is not None
    corrections = p.submission_corrections(officer, submission.id)
    done = p.process_correction(officer, corrections[0].id, approve=True)
    assert done.status == "approved" and done.processed_at is not None
    mine = p.my_corrections(me)
    assert [(c.id, c.status) for c in mine] == [(done.id, "approved")]
    assert p.officer_todos(officer) == []

    # The next notice goes to the corrected address.
    today = taiwan_today()
    roc_year = today.year - 1911
    p.issue_award_order(
        officer,
        ecpa.NewAwardOrder(
            national_id="A123456789",
            approving_agency="臺北市政府勞動局",
            approved_on=today,
            document_number=f"北市勞人字第{roc_year}6000001號",
            reason="協助校對作業",
            legal_basis="公務人員考績法第12條",
            kind="嘉獎",
        ),
    )
    assert embedded.deliver()[-1].to == "hsiaoming.wang@mail.taipei.gov.tw"

    employees = p.agency_employees(officer)
    assert {e.name for e in employees} >= {"王小明", "陳美玲"}
    assert employees.page == 1 and employees.per_page == 100 and employees.total == len(employees)
    small = p.agency_employees(officer, page=2, per_page=1)
    assert len(small) == 1 and small[0].name == employees[1].name
    with pytest.raises(ecpa.InvalidInputError) as too_many:
        p.agency_employees(officer, per_page=101)
    assert too_many.value.name == "field_invalid"
    assert [a.code for a in p.officer_agencies(officer)] == ["379130000C"]
    trail = p.audit_trail(me, limit=50)
    # The officer changed my record: the trail says who, with masked IDs.
    assert any("陳美玲" in (e.actor or "") for e in trail)
    listed = next(e for e in trail if e.action == "directory.list")
    assert listed.summary_zh.endswith("查閱機關人員名冊時看到您的資料") and "directory.list" not in listed.summary_en
    assert all("A123456789" not in repr(e) for e in trail)

    stats = p.outbox_stats()
    assert stats.pending == 0 and stats.sent >= 5

    p.logout(me)
    with pytest.raises(ecpa.AuthError) as gone:
        p.unviewed_award_orders(me)
    assert gone.value.name == "session_invalid"

    # A lost card: the officer stops my registration, and the card logs in to nothing.
    with pytest.raises(ecpa.InvalidInputError):
        p.stop_nhi_registration(officer, "A12345678")
    stopped = p.stop_nhi_registration(officer, "A123456789")
    assert stopped.removed == 1
    assert stopped.notified and all("@" in n and "*" in n for n in stopped.notified)
    with pytest.raises(ecpa.AuthError) as unregistered:
        p.login_nhi_card(WANG.card, WANG.password)
    assert unregistered.value.name == "nhi_card_not_registered"
    assert p.remove_certificate_binding(officer, "A123456789").removed == 0


def test_certificate_login_binds_at_first_and_then_goes_straight_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pki = ecpa.TestPki()
    portal = ecpa.Portal(str(tmp_path / "ecpa.db"), trust=pki.trust())
    portal.import_directory_csv((DATA / "directory.csv").read_bytes())
    key = pki.issue_citizen("王小明", "0000000056780001", "6789")
    assert key.id_last_four == "6789"
    with pytest.raises(ecpa.AuthError) as unbound:
        portal.login_certificate(key)
    assert unbound.value.name == "certificate_not_bound"
    bound = portal.login_certificate(key, identify="A123456789")
    assert bound.info.level == "certificate"
    later = portal.login_certificate(key)
    # Origin-bound, as ecpa agent signs: the embedded portal's own origin only.
    assert portal.login_certificate(key, origin="http://127.0.0.1:8080").info.level == "certificate"
    with pytest.raises(ecpa.AuthError) as phished:
        portal.login_certificate(key, origin="https://ecpa.example.com")
    assert phished.value.name == "login_origin_mismatch"
    portal.add_my_application(later, "A1")
    assert portal.open_application(later, "A1").usable

    # The two steps by hand, and a replay of the same answer.
    challenge = portal.begin_certificate_login()
    signature = key.sign(challenge.to_sign.encode())
    portal.complete_certificate_login(challenge.challenge_id, key.certificate, signature)
    with pytest.raises(ecpa.AuthError) as replay:
        portal.complete_certificate_login(challenge.challenge_id, key.certificate, signature)
    assert replay.value.name == "challenge_replayed"

    # A certificate of another PKI does not chain to the portal's anchors.
    stranger = ecpa.TestPki().issue_citizen("王小明", "0000000056780001", "6789")
    with pytest.raises(ecpa.PkiError) as unknown:
        portal.login_certificate(stranger, identify="A123456789")
    assert unknown.value.name == "unknown_issuer"

    # A software certificate rebuilt from DER + PKCS#8 must match its key.
    with pytest.raises(ecpa.PkiError):
        ecpa.SoftwareCertificate(key.certificate, b"not a key")


def test_phone_and_mobile_are_optional_as_on_the_form(embedded: Embedded) -> None:
    form = register_form(WANG)
    del form["phone"], form["mobile"]
    receipt = embedded.portal.start_nhi_registration(WANG.card, **form)  # type: ignore[arg-type]
    assert receipt.sent_to == "wa***@mail.taipei.gov.tw"
    notice = embedded.portal.confirm_nhi_registration(WANG.card, embedded.newest_token())
    assert notice.kind == "email_confirmed"
    embedded.portal.login_nhi_card(WANG.card, WANG.password)


def test_the_nhi_services_own_functions(embedded: Embedded) -> None:
    p = embedded.portal
    # 刪除註冊申請: a pending application, through the link to the official mailbox.
    p.start_nhi_registration(WANG.card, **register_form(WANG))  # type: ignore[arg-type]
    embedded.deliver()
    assert p.request_registration_deletion(WANG.card).sent_to == "wa***@mail.taipei.gov.tw"
    deleted = p.complete_registration_deletion(WANG.card, embedded.newest_token())
    assert deleted.kind == "application_deleted"
    embedded.register(WANG)
    with pytest.raises(ecpa.RegistrationError) as stop:
        p.request_registration_deletion(WANG.card)
    assert stop.value.name == "registration_stop_in_person"
    # 註冊密碼變更: a wrong old password is a counted try.
    with pytest.raises(ecpa.AuthError) as wrong:
        p.change_registration_password(WANG.card, "Wrong#2026", "Ecpa#2027ok", "Ecpa#2027ok")
    assert wrong.value.tries_left == 4
    changed = p.change_registration_password(WANG.card, WANG.password, "Ecpa#2027ok", "Ecpa#2027ok")
    assert changed.kind == "password_changed"
    # 基本資料異動: the mobile at once, a new address through the link to the address on file.
    change = p.change_registration_details(WANG.card, "Ecpa#2027ok", email="wang.new@example.net", mobile="0987-654321")
    assert isinstance(change, ecpa.DetailsChange) and change.phones_changed
    assert change.email_confirmation is not None
    assert change.email_confirmation.sent_to == "wa***@mail.taipei.gov.tw"
    assert change.notice.kind == "email_change_sent"
    assert p.complete_email_change(WANG.card, embedded.newest_token()).message_zh == "已完成電子信箱認證"
    with pytest.raises(TypeError):
        p.change_registration_details(WANG.card, "Ecpa#2027ok", email=None)  # type: ignore[arg-type]


def test_a_forgotten_account_through_the_official_mailbox(embedded: Embedded) -> None:
    p = embedded.portal
    embedded.register(WANG)
    s = p.login_nhi_card(WANG.card, WANG.password)
    p.set_account(s, "wang.xm", "Acct#2026ok")
    embedded.deliver()
    answers = {p.request_account_recovery(national_id).message_zh for national_id in ("A123456789", "B123456708")}
    assert len(answers) == 1, "the same answer whoever is on file"
    mail = embedded.deliver()[-1]
    assert mail.to == WANG.email and "wang.xm" in mail.body and "A123456789" not in mail.body
    token = mail.link_token
    assert token is not None
    done = p.complete_account_recovery(token, "Recov#2026ok", "Recov#2026ok")
    assert done.kind == "account_password_changed"
    with pytest.raises(ecpa.RegistrationError) as used:
        p.complete_account_recovery(token, "Recov#2026ok", "Recov#2026ok")
    assert used.value.name == "token_used"
    p.login_account("wang.xm", "Recov#2026ok")


def test_the_terms_come_before_the_form(embedded: Embedded) -> None:
    terms = embedded.portal.registration_terms()
    assert terms.stop_in_person.message_zh.startswith("申請健保卡網路服務註冊停用，請持身分證明文件臨櫃辦理")
    assert terms.title_zh == "全民健康保險網路服務註冊管理作業要點"
    assert terms.accept_zh == "我已閱讀完畢，並瞭解相關規定"
    form = register_form(WANG)
    form["terms_version"] = ""
    with pytest.raises(ecpa.RegistrationError) as e:
        embedded.portal.start_nhi_registration(WANG.card, **form)  # type: ignore[arg-type]
    assert e.value.name == "terms_not_accepted"


def test_maintenance_window_suspends_registration(embedded: Embedded) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    window = embedded.portal.announce_maintenance(now - datetime.timedelta(minutes=1), now + datetime.timedelta(hours=1))
    assert window.announcement_zh
    assert [w.id for w in embedded.portal.maintenance_windows()] == [window.id]
    with pytest.raises(ecpa.RegistrationError) as e:
        embedded.register(WANG)
    assert e.value.code == 6001 and "暫停註冊服務" in e.value.message_zh


def test_doctor_reports_every_row_in_both_languages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "root.der").write_bytes(ecpa.TestPki().root)
    report = ecpa.doctor(anchors=str(anchors), pkcs11_module="/nonexistent/libhicos.so", timeout=2.0)
    ids = [row.id for row in report.rows]
    assert "pkcs11.module" in ids and len(ids) == len(set(ids))
    for row in report.rows:
        assert row.status in {"ok", "warn", "fail"}
        assert row.title_zh and row.title_en and row.expected_en
    module = next(r for r in report.rows if r.id == "pkcs11.module")
    assert module.status == "fail" and module.fix_en
    assert report.failed


def test_the_catalogue_and_single_sign_on(tmp_path: pathlib.Path) -> None:
    url = "https://b5a.example.gov.tw/sso"
    p = ecpa.Portal(str(tmp_path / "sso.db"), applications={"B5A": url})
    p.import_directory_csv((DATA / "directory.csv").read_bytes())
    embedded = Embedded(p, ecpa.FileMailer(tmp_path / "mail"), tmp_path / "sso.db")
    embedded.register(WANG)
    me = embedded.login(WANG)

    # The catalogue as eCPA has it: groups A, B, D and X (非人事總處機關及系統), in order.
    apps = p.applications(me)
    assert [(a.group_code, a.code) for a in apps] == [
        ("A", "A1"),
        ("B", "B5"),
        ("B", "B5A"),
        ("B", "B6"),
        ("D", "B3"),
        ("X", "C1"),
        ("X", "WebHR"),
    ]
    b5a = next(a for a in apps if a.code == "B5A")
    assert (b5a.group_name_zh, b5a.name_zh, b5a.url, b5a.sso) == ("人事資料服務", "個人簡要自述", url, None)

    # Opening it hands over an assertion to post; the token never shows in a repr.
    p.add_my_application(me, "B5A")
    opened = p.open_application(me, "B5A")
    assert opened.sso is not None and opened.sso.url == url
    assert isinstance(opened.sso.expires_at, datetime.datetime)
    assert opened.sso.token not in repr(opened) and opened.sso.token not in repr(opened.sso)
    assert ecpa.SSO_ASSERTION_FIELD == "assertion"
    keys = p.sso_keys()
    assert keys["keys"][0]["kty"] == "EC" and keys["keys"][0]["alg"] == "ES256" and "d" not in keys["keys"][0]

    # The application redeems it once.
    who = p.redeem_sso_assertion(opened.sso.token, "B5A")
    assert (who.name, who.aud, who.auth_level) == ("王小明", "B5A", "nhi_card")
    assert "A123456789" not in who.sub and "A123456789" not in opened.sso.token
    with pytest.raises(ecpa.AuthError) as again:
        p.redeem_sso_assertion(opened.sso.token, "B5A")
    assert (again.value.code, again.value.name) == (5055, "sso_assertion_replayed")
    fresh = p.open_application(me, "B5A").sso
    assert fresh is not None
    with pytest.raises(ecpa.AuthError) as other:
        p.redeem_sso_assertion(fresh.token, "B3")
    assert other.value.name == "sso_audience_mismatch"
    with pytest.raises(ecpa.AuthError) as forged:
        p.redeem_sso_assertion(fresh.token[:-4] + "AAAA", "B5A")
    assert forged.value.name == "sso_assertion_invalid"

    # Plain HTTP to another machine would show the assertion to the network: refused.
    with pytest.raises(ecpa.InvalidInputError) as plain:
        ecpa.Portal(":memory:", applications={"B5A": "http://b5a.example.gov.tw/sso"})
    assert plain.value.name == "config_invalid"
