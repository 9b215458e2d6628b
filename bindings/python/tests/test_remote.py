"""The same flow against a real `ecpa serve` on loopback, through `RemotePortal`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import CHEN, DATA, STRANGER, WANG, Served, register_form

import ecpa


def register(portal: ecpa.Portal, served: Served, who, mails_before: int) -> None:  # type: ignore[no-untyped-def]
    portal.start_nhi_registration(who.card, **register_form(who))
    mails = served.mails(mails_before + 1)
    assert len(mails) == mails_before + 1, "the service did not deliver the confirmation mail"
    token = mails[-1].link_token
    assert token is not None and mails[-1].to == who.email
    notice = portal.confirm_nhi_registration(who.card, token)
    assert notice.kind == "email_confirmed" and notice.message_zh == "已完成電子信箱認證"


def test_remote_flow(served: Served) -> None:
    p = ecpa.Portal(served.url)
    assert p.is_remote and p.location == served.url
    register(p, served, WANG, 0)
    register(p, served, CHEN, 1)
    with pytest.raises(ecpa.AuthError) as e:
        p.login_nhi_card(STRANGER.card, STRANGER.password)
    assert e.value.code == 5001
    me = p.login_nhi_card(WANG.card, WANG.password)
    officer = p.login_nhi_card(CHEN.card, CHEN.password)
    p.give_consent(me, p.consent_text().version)
    with pytest.raises(ecpa.ConsentError):
        p.withdraw_consent(me)
    report = p.issue_award_orders(officer, ecpa.read_orders_csv((DATA / "orders.csv").read_bytes()))
    assert (report.electronic, report.paper) == (2, 1)
    unviewed = p.unviewed_award_orders(me)
    assert len(unviewed) == 2
    assert p.view_award_order(me, unviewed[0].id).summary.viewed_at is not None
    assert len(p.unsigned_award_orders(officer)) == 1
    p.stage_correction(me, "current_post", "email", "hsiaoming.wang@mail.taipei.gov.tw")
    submission = p.complete_proofing(me)
    corrections = p.submission_corrections(officer, submission.id)
    assert p.process_correction(officer, corrections[0].id, approve=False, reason="請附證明").status == "rejected"
    again = p.resume_session(me.token)
    assert again.info.name == "王小明"

    with ThreadPoolExecutor(max_workers=4) as pool:
        sizes = list(pool.map(lambda _: len(p.award_history(me)), range(16)))
    assert len(set(sizes)) == 1

    with pytest.raises(ecpa.BindingError):
        p.deliver_outbox(ecpa.FileMailer(served.maildir))
    p.logout(me)
    with pytest.raises(ecpa.AuthError):
        p.personal_record(me)


def test_the_service_redeems_an_assertion_another_process_issued(served: Served) -> None:
    remote = ecpa.Portal(served.url)
    register(remote, served, WANG, 0)
    # An embedded portal on the same database signs with the same stored key.
    local = ecpa.Portal(str(served.db), applications={"B5A": "https://b5a.example.gov.tw/sso"})
    me = local.login_nhi_card(WANG.card, WANG.password)
    local.add_my_application(me, "B5A")
    sso = local.open_application(me, "B5A").sso
    assert sso is not None
    assert remote.sso_keys() == local.sso_keys()
    who = remote.redeem_sso_assertion(sso.token, "B5A")
    assert who.name == "王小明" and who.auth_level == "nhi_card"
    with pytest.raises(ecpa.AuthError) as again:
        remote.redeem_sso_assertion(sso.token, "B5A")
    assert again.value.name == "sso_assertion_replayed"
    with pytest.raises(ecpa.BindingError):
        ecpa.Portal(served.url, applications={"B5A": "https://b5a.example.gov.tw/sso"})
