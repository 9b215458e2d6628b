"""The officer's example script, run once as an officer would run it."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from conftest import CHEN, DATA, WANG, Embedded

EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "bulk_issue.py"


def test_bulk_issue_prints_who_has_not_signed(embedded: Embedded) -> None:
    embedded.register(WANG)
    embedded.register(CHEN)
    me = embedded.login(WANG)
    embedded.portal.give_consent(me, embedded.portal.consent_text().version)
    officer = embedded.login(CHEN)
    env = {**os.environ, "ECPA_SESSION": officer.token}
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(embedded.path), str(DATA / "orders.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "發布 3 件：電子 2 件、紙本 1 件 / issued 3: 2 electronic, 1 on paper" in out
    assert "尚未簽收 2 件 / 2 not signed for yet" in out
    assert "A12345**** 王小明 勞動檢查處：北市勞人字第1146000789號（核定 114/05/02" in out
    assert "A123456789" not in out
    assert "紙本 paper（" in out

    # Viewing one order takes it off the list.
    first = embedded.portal.unviewed_award_orders(me)[0]
    embedded.portal.view_award_order(me, first.id)
    unsigned = embedded.portal.unsigned_award_orders(officer)
    assert len(unsigned) == 1

    # A second run of the same batch is refused whole, with the code printed.
    again = subprocess.run(
        [sys.executable, str(EXAMPLE), str(embedded.path), str(DATA / "orders.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 1
    assert "E7503 award_order_duplicate" in again.stderr
    usage = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage" in usage.stderr
