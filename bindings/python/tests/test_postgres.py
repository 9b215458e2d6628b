"""The embedded engine on PostgreSQL (`Portal("postgres://…")`): the server scripts/test runs
(`ECPA_TEST_PG`), or one of this module's own (`initdb` into a temp dir as a non-root user,
`pg_ctl start`, stopped at the end)."""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import CHEN, DATA, WANG, Embedded

import ecpa


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_server() -> Iterator[tuple[str, str]]:
    """(the admin URL, the directory of psql)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("SKIPPED: PostgreSQL is not installed (apt-get install postgresql)")
    bin_dir = os.path.dirname(found[-1])
    url = os.environ.get("ECPA_TEST_PG")
    if url:
        yield url, bin_dir
        return
    run_as: list[str] = []
    if os.getuid() == 0:
        # PostgreSQL refuses to run as root: the same system user scripts/test uses.
        if subprocess.run(["id", "ecpa-pg"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "ecpa-pg"], check=True)
        run_as = ["runuser", "-u", "ecpa-pg", "--"]
    d = pathlib.Path(tempfile.mkdtemp(prefix="ecpa-pypg."))
    if run_as:
        shutil.chown(d, "ecpa-pg")
    port = free_port()
    subprocess.run(
        [*run_as, f"{bin_dir}/initdb", "-D", f"{d}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*run_as, f"{bin_dir}/pg_ctl", "-D", f"{d}/data", "-l", f"{d}/log", "-w", "-o",
         f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres", bin_dir
    finally:
        subprocess.run([*run_as, f"{bin_dir}/pg_ctl", "-D", f"{d}/data", "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pg(pg_server: tuple[str, str], tmp_path: pathlib.Path) -> Embedded:
    admin, bin_dir = pg_server
    name = f"ecpa_py_{uuid.uuid4().hex[:12]}"
    psql = shutil.which("psql") or f"{bin_dir}/psql"
    subprocess.run([psql, admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    url = admin.rsplit("/", 1)[0] + "/" + name
    portal = ecpa.Portal(url)
    portal.import_directory_csv((DATA / "directory.csv").read_bytes())
    return Embedded(portal, ecpa.FileMailer(tmp_path / "mail"), tmp_path / "unused.db")


def test_the_flow_on_postgresql(pg: Embedded) -> None:
    p = pg.portal
    assert p.location.startswith("postgres://") and not p.is_remote
    pg.register(WANG)
    pg.register(CHEN)
    me = pg.login(WANG)
    officer = pg.login(CHEN)
    p.give_consent(me, p.consent_text().version)
    report = p.issue_award_orders(officer, ecpa.read_orders_csv((DATA / "orders.csv").read_bytes()))
    assert (report.electronic, report.paper) == (2, 1)
    with pytest.raises(ecpa.AwardError) as dup:
        p.issue_award_orders(officer, ecpa.read_orders_csv((DATA / "orders.csv").read_bytes()))
    assert dup.value.name == "award_order_duplicate"
    unviewed = p.unviewed_award_orders(me)

    def view(order_id: int) -> str:
        return p.view_award_order(me, order_id).summary.document_number

    with ThreadPoolExecutor(max_workers=4) as pool:
        viewed = list(pool.map(view, [o.id for o in unviewed] * 4))
    assert sorted(set(viewed)) == sorted(o.document_number for o in unviewed)
    assert p.unviewed_award_orders(me) == [] and p.unsigned_award_orders(officer).total == 0
    p.stage_correction(me, "current_post", "email", "hsiaoming.wang@mail.taipei.gov.tw")
    submission = p.complete_proofing(me)
    correction = p.submission_corrections(officer, submission.id)[0]
    assert p.process_correction(officer, correction.id, approve=True).status == "approved"
