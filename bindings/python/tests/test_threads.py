"""One portal, many threads: the GIL is released around the engine, and the portal is safe to
share."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import CHEN, DATA, WANG, Embedded

import ecpa


def test_many_threads_share_one_portal(embedded: Embedded) -> None:
    p = embedded.portal
    embedded.register(WANG)
    embedded.register(CHEN)
    officer = embedded.login(CHEN)
    me = embedded.login(WANG)
    p.give_consent(me, p.consent_text().version)
    orders = ecpa.read_orders_csv((DATA / "orders.csv").read_bytes())
    p.issue_award_orders(officer, orders)
    # Logins one after another: the engine counts each password guess before checking it, so
    # more parallel logins of one card than the failure limit are refused by design.
    sessions = [embedded.login(WANG) for _ in range(8)]

    def work(i: int) -> tuple[str, int]:
        s = sessions[i % len(sessions)]
        name = p.personal_record(s).name
        unviewed = p.unviewed_award_orders(s)
        if i % 4 == 0 and unviewed:
            p.view_award_order(s, unviewed[0].id)
        p.officer_todos(officer)
        p.unsigned_award_orders(officer)
        return name, len(p.award_history(s)[0].orders)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(48)))
    assert results == [("王小明", 3)] * 48
    # Every order was signed for by some thread; none was lost or counted twice.
    assert p.unviewed_award_orders(me) == [] and p.unsigned_award_orders(officer).total == 0
    for s in sessions:
        p.logout(s)


def test_the_gil_is_released_during_engine_work(embedded: Embedded) -> None:
    """While other threads log in (argon2id, tens of ms each), a pure-Python thread keeps running."""
    embedded.register(WANG)
    ticks = 0
    stop = threading.Event()

    def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        before = ticks
        for _ in range(3):
            embedded.portal.logout(embedded.login(WANG))
        during = ticks - before
    finally:
        stop.set()
        t.join()
    assert during > 100, f"the Python thread ran only {during} times while the engine worked"
