"""Every exception class, each raised by a real failure of the engine, with its stable code,
name and messages; the classes follow the code ranges of the Rust crate."""

from __future__ import annotations

import base64
import os
import pathlib
import shutil
import subprocess

import pytest
from conftest import CHEN, WANG, Embedded

import ecpa

AREAS = [
    (1000, 1999, ecpa.InvalidInputError),
    (2000, 2999, ecpa.CardError),
    (3000, 3999, ecpa.PinError),
    (4000, 4999, ecpa.PkiError),
    (5000, 5499, ecpa.AuthError),
    (5500, 5999, ecpa.DirectoryError),
    (6000, 6999, ecpa.RegistrationError),
    (7000, 7499, ecpa.ConsentError),
    (7500, 7999, ecpa.AwardError),
    (8000, 8999, ecpa.ProofingError),
    (9000, 9499, ecpa.StorageError),
    (9500, 9799, ecpa.TransportError),
    (9800, 9899, ecpa.BindingError),
    (9900, 9999, ecpa.InternalError),
]


def raised(cls: type[ecpa.EcpaError], name: str, call) -> ecpa.EcpaError:  # type: ignore[no-untyped-def]
    """Runs `call`, which must fail with exactly this class and code name."""
    with pytest.raises(cls) as info:
        call()
    e = info.value
    assert type(e) is cls, f"{type(e).__name__} is not {cls.__name__}"
    assert e.name == name
    lo, hi = next((lo, hi) for lo, hi, c in AREAS if c is cls)
    assert lo <= e.code <= hi
    assert str(e).startswith(f"E{e.code} {name}: ")
    assert e.message_zh and e.message_en and e.message_zh != e.message_en
    assert ecpa.error_message(e.code, "en") in e.message_en
    return e


def test_the_classes_are_one_hierarchy() -> None:
    for _, _, cls in AREAS:
        assert issubclass(cls, ecpa.EcpaError) and issubclass(cls, Exception)
        assert cls.__module__ == "ecpa"
    assert ecpa.EcpaError.code == 0 and ecpa.EcpaError.tries_left is None
    assert ecpa.error_message(9999, "en") == "Internal error in ecpa: please report it"
    assert ecpa.error_message(5002) == "註冊密碼輸入錯誤"
    raised(ecpa.InvalidInputError, "field_invalid", lambda: ecpa.error_message(4242))
    raised(ecpa.InvalidInputError, "field_invalid", lambda: ecpa.error_message(9999, "fr"))


def test_domain_failures(embedded: Embedded) -> None:
    p = embedded.portal
    raised(ecpa.InvalidInputError, "national_id_checksum", lambda: ecpa.NhiCard("000011112222", "王小明", "A123456788", "075/03/15", "M", "110/06/01"))
    embedded.register(WANG)
    raised(ecpa.RegistrationError, "already_registered", lambda: embedded.register(WANG))
    e = raised(ecpa.AuthError, "registration_password_wrong", lambda: p.login_nhi_card(WANG.card, "Wrong#2026"))
    assert e.tries_left == 4
    me = embedded.login(WANG)
    embedded.register(CHEN)
    officer = embedded.login(CHEN)
    raised(ecpa.ConsentError, "consent_not_given", lambda: p.withdraw_consent(me))
    raised(ecpa.ConsentError, "consent_text_outdated", lambda: p.give_consent(me, "0"))
    p.give_consent(me, p.consent_text().version)
    raised(ecpa.AwardError, "award_order_not_found", lambda: p.view_award_order(me, 424242))
    other_agency = ecpa.NewAwardOrder(
        national_id="A234567893",
        approving_agency="臺北市政府勞動局",
        approved_on="114/05/02",
        document_number="北市勞人字第1146000001號",
        reason="測試",
        legal_basis="公務人員考績法第12條",
        kind="嘉獎",
    )
    raised(ecpa.DirectoryError, "employee_not_in_agency", lambda: p.issue_award_order(officer, other_agency))
    raised(ecpa.AuthError, "not_personnel_officer", lambda: p.issue_award_order(me, other_agency))
    raised(ecpa.ProofingError, "proofing_field_unknown", lambda: p.stage_correction(me, "current_post", "shoe_size", "42"))
    raised(ecpa.ProofingError, "proofing_field_unknown", lambda: p.stage_correction(me, "no_such_category", "email", "x"))


def test_storage_transport_and_binding_failures(tmp_path: pathlib.Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a SQLite database, not at all" * 10)
    raised(ecpa.StorageError, "storage_failure", lambda: ecpa.Portal(str(junk)))
    raised(ecpa.StorageError, "storage_url_invalid", lambda: ecpa.Portal("sqlite:"))
    unavailable = raised(ecpa.StorageError, "storage_unavailable", lambda: ecpa.Portal("postgres://ecpa:hunter2@127.0.0.1:1/ecpa"))
    assert "hunter2" not in str(unavailable)
    remote = ecpa.Portal("http://127.0.0.1:1")
    assert remote.is_remote
    raised(ecpa.TransportError, "http_unreachable", remote.consent_text)
    raised(ecpa.BindingError, "local_portal_only", lambda: remote.import_directory_csv("agency_code\n"))
    raised(ecpa.TransportError, "io_failed", lambda: ecpa.FileMailer(junk / "mail"))


def test_card_failures_say_what_is_missing() -> None:
    expected = {"card_support_missing", "pcsc_unavailable", "reader_not_found", "card_absent", "card_unsupported"}
    try:
        card = ecpa.NhiCard.read(timeout=0.2)
    except ecpa.CardError as e:
        assert e.name in expected
    else:  # a machine with an NHI card in a reader (or a virtual one inserted meanwhile)
        assert card.national_id.endswith("****")
    if not ecpa.CARD_SUPPORT:
        raised(ecpa.CardError, "card_support_missing", lambda: ecpa.NhiCard.read(timeout=0.2))
        raised(ecpa.CardError, "card_support_missing", ecpa.CitizenCard)
    else:
        raised(ecpa.CardError, "token_module_not_found", lambda: ecpa.CitizenCard(module="/nonexistent/libhicos.so"))


SOFTHSM = pathlib.Path("/usr/lib/softhsm/libsofthsm2.so")


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> tuple[ecpa.TestPki, ecpa.SoftwareCertificate]:
    """A SoftHSM token holding a citizen certificate of a test PKI and its key, PIN 123456."""
    if not ecpa.CARD_SUPPORT:
        pytest.skip("SKIPPED: this build has no card support (build with --features python,card)")
    if not SOFTHSM.exists() or not shutil.which("softhsm2-util") or not shutil.which("pkcs11-tool"):
        pytest.skip("SKIPPED: SoftHSM2 or pkcs11-tool (opensc) is not installed")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n")
    # The module reads the configuration when this process first loads it.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    env = dict(os.environ)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, env=env, capture_output=True)

    pki = ecpa.TestPki()
    key = pki.issue_citizen("王小明", "0000000056780001", "6789")
    pem = base64.encodebytes(key.private_key_pkcs8()).decode()
    (d / "key.pem").write_text(f"-----BEGIN PRIVATE KEY-----\n{pem}-----END PRIVATE KEY-----\n")
    (d / "cert.der").write_bytes(key.certificate)
    run("softhsm2-util", "--init-token", "--free", "--label", "ecpa-test", "--so-pin", "12345678", "--pin", "123456")
    run("softhsm2-util", "--import", str(d / "key.pem"), "--token", "ecpa-test", "--label", "sign", "--id", "01", "--pin", "123456")
    run(
        "pkcs11-tool", "--module", str(SOFTHSM), "--token-label", "ecpa-test", "--login", "--pin", "123456",
        "--write-object", str(d / "cert.der"), "--type", "cert", "--id", "01", "--label", "sign",
    )
    return pki, key


def test_pin_errors_and_a_citizen_card_login_over_pkcs11(token, tmp_path: pathlib.Path) -> None:  # type: ignore[no-untyped-def]
    pki, key = token
    card = ecpa.CitizenCard(module=str(SOFTHSM), token="ecpa-test")
    assert "ecpa-test" in repr(card)
    raised(ecpa.PinError, "pin_format_invalid", lambda: card.unlock("12"))
    wrong = raised(ecpa.PinError, "pin_incorrect", lambda: card.unlock("654321"))
    assert wrong.tries_left is None or wrong.tries_left >= 0
    unlocked = card.unlock("123456")
    assert unlocked.certificate == key.certificate
    portal = ecpa.Portal(str(tmp_path / "ecpa.db"), trust=pki.trust())
    from conftest import DATA

    portal.import_directory_csv((DATA / "directory.csv").read_bytes())
    session = portal.login_certificate(unlocked, identify="A123456789")
    assert session.info.method == "certificate" and session.info.name == "王小明"
