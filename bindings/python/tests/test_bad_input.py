"""Bad input from Python raises the right exception and never crashes the interpreter: wrong
types and None raise TypeError, invalid values the typed InvalidInputError."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from conftest import WANG, Embedded, register_form

import ecpa


@pytest.mark.parametrize("value", [None, 5, b"A123456789", 1.5, ["A123456789"], object()])
def test_wrong_types_are_type_errors(value: Any) -> None:
    with pytest.raises(TypeError):
        ecpa.check_national_id(value)
    with pytest.raises(TypeError):
        ecpa.is_valid_national_id(value)


@pytest.mark.parametrize(
    "value, name",
    [
        ("", "national_id_invalid"),
        ("A12345678", "national_id_invalid"),
        ("AB12345678", "national_id_checksum"),
        ("A123456788", "national_id_checksum"),
        ("1234567890", "national_id_invalid"),
        ("Ａ123456789", "national_id_invalid"),
        ("A12345678\x00", "national_id_invalid"),
        ("王小明王小明王小明王", "national_id_invalid"),
        ("A" * 100_000, "national_id_invalid"),
    ],
)
def test_invalid_ids(value: str, name: str) -> None:
    check = ecpa.check_national_id(value)
    assert not check.valid and check.error_name == name
    assert not ecpa.is_valid_national_id(value)
    with pytest.raises(ecpa.InvalidInputError) as e:
        ecpa.NhiCard("000011112222", "王小明", value, "075/03/15", "M", "110/06/01")
    assert e.value.name == name


def test_valid_ids_of_every_kind() -> None:
    for value, kind in [("A123456789", "national"), ("AC01234567", "resident_old"), ("A800000014", "resident_new")]:
        check = ecpa.check_national_id(value)
        assert check.valid and check.kind == kind and check.input == value[:6] + "****"


@pytest.mark.parametrize("value", ["108/02/30", "000/01/01", "1080230", "2019-02-30", "yesterday", "", "108/13/01"])
def test_invalid_dates(value: str) -> None:
    with pytest.raises(ecpa.InvalidInputError) as e:
        ecpa.NhiCard("000011112222", "王小明", "A123456789", value, "M", "110/06/01")
    assert e.value.name == "date_invalid"


def test_dates_before_the_republic_and_of_the_wrong_type() -> None:
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.NhiCard("000011112222", "王小明", "A123456789", datetime.date(1900, 1, 1), "M", "110/06/01")
    for bad in [None, 19860315, (1986, 3, 15)]:
        with pytest.raises(TypeError):
            ecpa.NhiCard("000011112222", "王小明", "A123456789", bad, "M", "110/06/01")  # type: ignore[arg-type]
    card = ecpa.NhiCard("000011112222", "王小明", "A123456789", datetime.datetime(1986, 3, 15, 12, 0), "M", "2021-06-01")
    assert card.birth_date == datetime.date(1986, 3, 15) and card.issue_date_roc == "110/06/01"


def test_card_records_and_fields() -> None:
    card = ecpa.NhiCard("000011112222", "王小明", "A123456789", "075/03/15", "M", "110/06/01")
    assert ecpa.NhiCard.from_record(card.to_record()).reveal_national_id() == "A123456789"
    for record in [b"", b"\x00" * 57, card.to_record()[:-1], b"\xff" * 57]:
        with pytest.raises(ecpa.InvalidInputError):
            ecpa.NhiCard.from_record(record)
    with pytest.raises(TypeError):
        ecpa.NhiCard.from_record("not bytes")  # type: ignore[arg-type]
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.NhiCard("12", "王小明", "A123456789", "075/03/15", "M", "110/06/01")
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.NhiCard("000011112222", "王小明", "A123456789", "075/03/15", "X", "110/06/01")
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.NhiCard.read(timeout=-1)
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.NhiCard.read(timeout=float("nan"))


def test_portal_arguments(embedded: Embedded) -> None:
    p = embedded.portal
    form = register_form(WANG)
    for key, value, cls in [
        ("password", "short", ecpa.InvalidInputError),
        ("password", "has space1", ecpa.InvalidInputError),
        ("email", "not-an-address", ecpa.InvalidInputError),
        ("household_number", "12345678", ecpa.InvalidInputError),
        ("county", "99999", ecpa.InvalidInputError),
        ("neighbourhood", -1, OverflowError),
        ("neighbourhood", "12", TypeError),
        ("password", None, TypeError),
    ]:
        with pytest.raises(cls):
            p.start_nhi_registration(WANG.card, **{**form, key: value})  # type: ignore[arg-type]
    with pytest.raises(ecpa.InvalidInputError) as mismatch:
        p.start_nhi_registration(WANG.card, **{**form, "confirmation": "Other#2026"})  # type: ignore[arg-type]
    assert mismatch.value.name == "password_mismatch"
    with pytest.raises(TypeError):
        p.start_nhi_registration(None, **form)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.login_nhi_card("A123456789", "Ecpa#2026ok")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.unviewed_award_orders("a token string")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.import_directory_csv(None)  # type: ignore[arg-type]
    with pytest.raises(ecpa.InvalidInputError) as csv:
        p.import_directory_csv("agency_code,name\n1,2\n")
    assert csv.value.name == "csv_invalid"
    with pytest.raises(ecpa.AuthError):
        p.resume_session("forged-token")
    with pytest.raises(TypeError):
        p.announce_maintenance("tomorrow", "later")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p.login_certificate(b"a certificate")  # type: ignore[arg-type]
    with pytest.raises(ecpa.PkiError):
        ecpa.CertificateTrust([b"not a certificate"])
    with pytest.raises(ecpa.PkiError):
        ecpa.CertificateTrust([])
    with pytest.raises(TypeError):
        ecpa.Portal(None)  # type: ignore[arg-type]


def test_award_order_fields() -> None:
    base: dict[str, Any] = dict(
        national_id="A123456789",
        approving_agency="臺北市政府勞動局",
        approved_on="114/05/02",
        document_number="北市勞人字第1146000789號",
        reason="辦理業務認真負責",
        legal_basis="公務人員考績法第12條",
        kind="嘉獎",
    )
    order = ecpa.NewAwardOrder(**base)
    assert order.kind == "commendation" and order.rating_year == 114 and order.national_id == "A12345****"
    assert "A123456789" not in repr(order)
    for key, value, cls in [
        ("kind", "記小功", ecpa.AwardError),
        ("document_number", "", ecpa.InvalidInputError),
        ("approved_on", "114/02/29", ecpa.InvalidInputError),
        ("national_id", "A123456780", ecpa.InvalidInputError),
        ("count", 256, OverflowError),
        ("count", "2", TypeError),
    ]:
        with pytest.raises(cls):
            ecpa.NewAwardOrder(**{**base, key: value})
    with pytest.raises(TypeError):
        ecpa.NewAwardOrder("A123456789")  # type: ignore[misc]
    with pytest.raises(ecpa.InvalidInputError):
        ecpa.read_orders_csv("national_id\nA123456789\n")
    with pytest.raises(TypeError):
        ecpa.read_orders_csv(42)  # type: ignore[arg-type]
