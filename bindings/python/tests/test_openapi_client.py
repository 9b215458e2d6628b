"""The HTTP API as a client generated from its OpenAPI document sees it: docs/openapi.json is a
valid OpenAPI 3.1 document, datamodel-code-generator turns it into typed pydantic models (no
`Any`), those models accept the document's own examples and refuse what the server would
refuse, and they carry a registration to a real `ecpa serve` and read its answer."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import subprocess
import sys
import urllib.request
from types import ModuleType
import pydantic
import pytest
from openapi_spec_validator import validate

from conftest import ROOT, WANG, Served, register_form

DOCUMENT = ROOT / "docs" / "openapi.json"


def models(tmp_path: pathlib.Path) -> ModuleType:
    out = tmp_path / "api_models.py"
    subprocess.run(
        [
            str(pathlib.Path(sys.executable).with_name("datamodel-codegen")),
            "--input", str(DOCUMENT),
            "--input-file-type", "openapi",
            "--output-model-type", "pydantic_v2.BaseModel",
            "--output", str(out),
        ],
        check=True,
        capture_output=True,
    )
    spec = importlib.util.spec_from_file_location("api_models", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # pydantic resolves the models' references through the module's entry.
    sys.modules["api_models"] = module
    spec.loader.exec_module(module)
    return module


def test_the_document_is_valid_openapi() -> None:
    validate(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def test_every_schema_becomes_a_typed_model(tmp_path: pathlib.Path) -> None:
    m = models(tmp_path)
    source = (tmp_path / "api_models.py").read_text(encoding="utf-8")
    assert " Any" not in source, "a schema without a type made an untyped field"
    schemas = json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"]["schemas"]
    for name in schemas:
        assert hasattr(m, name), f"no model for {name}"


def test_the_examples_fit_their_models_and_bad_bodies_do_not(tmp_path: pathlib.Path) -> None:
    m = models(tmp_path)
    doc = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    seen = 0
    for path in doc["paths"].values():
        for op in path.values():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for example in content.get("examples", {}).values():
                model = getattr(m, content["schema"]["$ref"].rsplit("/", 1)[1])
                model.model_validate(example["value"])
                seen += 1
    assert seen >= 8
    card = dict(
        card_number="000011112222", name="王小明", national_id="A123456789",
        birth_date="075/03/15", sex="male", issue_date="110/06/01",
    )
    m.CardWire.model_validate(card)
    for field, bad in [("national_id", "A12345678"), ("card_number", "1234"), ("birth_date", "March 15"), ("sex", "m")]:
        with pytest.raises(pydantic.ValidationError):
            m.CardWire.model_validate({**card, field: bad})
    address = dict(county="63000", township="63000010", village="63000010001", neighbourhood=12)
    m.AddressWire.model_validate(address)
    for field, bad in [("neighbourhood", 0), ("neighbourhood", 1000), ("county", "6300"), ("village", "x")]:
        with pytest.raises(pydantic.ValidationError):
            m.AddressWire.model_validate({**address, field: bad})
    # The generator keeps a password a SecretStr without its length; the schema has it.
    assert doc["components"]["schemas"]["Password"]["minLength"] == 6
    with pytest.raises(pydantic.ValidationError):
        m.AccountWire.model_validate({"account": "wang", "password": "Ecpa#2026ok", "extra": 1})


def test_a_generated_model_registers_over_http(tmp_path: pathlib.Path, served: Served) -> None:
    m = models(tmp_path)
    form = register_form(WANG)
    body = m.RegistrationWire(
        card=m.CardWire(
            card_number="000011112222", name="王小明", national_id="A123456789",
            birth_date="075/03/15", sex="male", issue_date="110/06/01",
        ),
        household_number=form["household_number"],
        address=m.AddressWire(
            county=form["county"], township=form["township"], village=form["village"],
            neighbourhood=form["neighbourhood"],
        ),
        password=WANG.password,
        confirmation=WANG.password,
        phone=form["phone"],
        mobile=form["mobile"],
        email=form["email"],
        terms_version=form["terms_version"],
    )
    # SecretStr fields dump as stars unless revealed; the client sends the real value.
    raw = json.loads(body.model_dump_json(exclude_none=True))
    raw["password"] = raw["confirmation"] = WANG.password
    request = urllib.request.Request(
        served.url + "/api/v1/registrations", data=json.dumps(raw).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        receipt = m.RegistrationReceipt.model_validate(json.loads(response.read()))
    assert receipt.sent_to.endswith("@mail.taipei.gov.tw") and "*" in receipt.sent_to
    assert receipt.link_expires_at.root.utcoffset() is not None
