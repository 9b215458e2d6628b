"""Fixtures of the Python suite: a real embedded portal on a SQLite file per test, the people of
the demo's directory (data/directory.csv), the file mailer, and a real `ecpa serve`."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import ecpa

DATA = pathlib.Path(__file__).parent / "data"
ROOT = pathlib.Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Person:
    card: ecpa.NhiCard
    password: str
    email: str


def person(number: str, name: str, national_id: str, birth: str, sex: str, issued: str, password: str, email: str) -> Person:
    return Person(ecpa.NhiCard(number, name, national_id, birth, sex, issued), password, email)


WANG = person("000011112222", "王小明", "A123456789", "075/03/15", "M", "110/06/01", "Ecpa#2026ok", "wang.hsiaoming@mail.taipei.gov.tw")
CHEN = person("000077778888", "陳美玲", "F223456786", "072/08/08", "F", "111/11/11", "Officer#2026", "chen.meiling@mail.taipei.gov.tw")
LIN = person("000033334444", "林志豪", "F128765439", "060/05/05", "M", "105/05/05", "Retired#2026", "lin@example.com.tw")
NOBODY = person("000055556666", "黃大華", "B123456708", "070/10/10", "M", "109/09/09", "Nobody#2026", "someone@example.com.tw")
STRANGER = person("000099998888", "路人甲", "E222223335", "080/01/01", "F", "112/01/01", "Whatever1", "x@example.com.tw")
# The registration terms are accepted before the form: every form carries their version.
TERMS_VERSION = ecpa.Portal(":memory:").registration_terms().version


def register_form(p: Person) -> dict[str, object]:
    return dict(
        household_number="F1234567",
        county="63000",
        township="63000010",
        village="63000010001",
        neighbourhood=12,
        password=p.password,
        confirmation=p.password,
        phone="02-2720-8889",
        mobile="0912-345-678",
        email=p.email,
        terms_version=TERMS_VERSION,
    )


@dataclass
class Embedded:
    portal: ecpa.Portal
    mailer: ecpa.FileMailer
    path: pathlib.Path

    def deliver(self) -> list[ecpa.Mail]:
        self.portal.deliver_outbox(self.mailer)
        return self.mailer.messages()

    def newest_token(self) -> str:
        token = self.deliver()[-1].link_token
        assert token is not None
        return token

    def register(self, p: Person) -> None:
        self.portal.start_nhi_registration(p.card, **register_form(p))  # type: ignore[arg-type]
        self.portal.confirm_nhi_registration(p.card, self.newest_token())

    def login(self, p: Person) -> ecpa.Session:
        return self.portal.login_nhi_card(p.card, p.password)


@pytest.fixture
def embedded(tmp_path: pathlib.Path) -> Embedded:
    db = tmp_path / "ecpa.db"
    portal = ecpa.Portal(str(db))
    portal.import_directory_csv((DATA / "directory.csv").read_bytes())
    return Embedded(portal, ecpa.FileMailer(tmp_path / "mail"), db)


def ecpa_binary() -> pathlib.Path:
    """The `ecpa` command (`cargo build --features http`), or ECPA_BIN."""
    path = pathlib.Path(os.environ.get("ECPA_BIN", ROOT / "target" / "debug" / "ecpa"))
    if not path.exists():
        pytest.skip(f"no ecpa binary at {path}: run `cargo build --features http` (or set ECPA_BIN)")
    return path


@dataclass
class Served:
    url: str
    db: pathlib.Path
    maildir: pathlib.Path

    def mails(self, count: int, timeout: float = 15.0) -> list[ecpa.Mail]:
        """Waits until the service has delivered at least `count` mails to its maildir."""
        deadline = time.monotonic() + timeout
        while True:
            mails = ecpa.FileMailer(self.maildir).messages() if self.maildir.exists() else []
            if len(mails) >= count or time.monotonic() > deadline:
                return mails
            time.sleep(0.05)


@pytest.fixture
def served(tmp_path: pathlib.Path) -> Iterator[Served]:
    """A real `ecpa serve` on a free loopback port, on a SQLite file whose directory was
    imported through the embedded portal first; its maildir is `mail/` beside the file."""
    binary = ecpa_binary()
    db = tmp_path / "ecpa.db"
    ecpa.Portal(str(db)).import_directory_csv((DATA / "directory.csv").read_bytes())
    proc = subprocess.Popen(
        [str(binary), "serve", "--db", str(db), "--listen", "127.0.0.1:0", "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"ecpa serve did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield Served(json.loads(line)["listening"], db, tmp_path / "mail")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
