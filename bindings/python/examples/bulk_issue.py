#!/usr/bin/env python3
"""A personnel officer's batch job: issue a CSV of award orders at once, then list who has not
signed for their orders yet (人事人員：批次發布獎懲令並列出尚未簽收名單).

    ECPA_SESSION=<the officer's session token> python bulk_issue.py PORTAL ORDERS.csv

PORTAL is the portal's database (a SQLite file, `postgres://…`) or the URL of `ecpa serve`.
The session comes from the environment, not the command line, where other users of the machine
could read it. The batch is all or nothing. Orders at or below the electronic-delivery ceiling,
for people who consented, go by e-mail notice; the rest go on paper, each with its reason.

CSV columns: national_id, approving_agency, approved_on (ROC, e.g. 114/05/02), document_number,
reason, legal_basis, kind (嘉獎 … 記大過), count, and optionally special (Y) and rating_year.

Exit status: 0 done, 1 the portal refused (the error is printed with its code), 2 usage.
"""

from __future__ import annotations

import os
import pathlib
import sys

import ecpa

def run(location: str, csv_path: pathlib.Path, token: str) -> None:
    orders = ecpa.read_orders_csv(csv_path.read_bytes())
    portal = ecpa.Portal(location)
    session = portal.resume_session(token)
    report = portal.issue_award_orders(session, orders)
    print(
        f"發布 {report.issued} 件：電子 {report.electronic} 件、紙本 {report.paper} 件"
        f" / issued {report.issued}: {report.electronic} electronic, {report.paper} on paper"
    )
    for order, issued in zip(orders, report.orders):
        how = "電子 electronic" if issued.delivery == "electronic" else f"紙本 paper（{issued.paper_reason_zh} / {issued.paper_reason_en}）"
        print(
            f"  #{issued.id} {order.national_id} {order.approved_on_roc} {order.document_number}"
            f" {order.kind} ×{order.count} → {how}"
        )
    unsigned = portal.unsigned_award_orders(session)
    print(f"尚未簽收 {len(unsigned)} 件 / {len(unsigned)} not signed for yet")
    for u in unsigned:
        o = u.order
        print(
            f"  {u.national_id} {u.name} {u.unit}：{o.document_number}（核定 {o.approved_on_roc}，"
            f"通知 {u.issued_at_roc}）/ approved {o.approved_on.isoformat()}"
        )


def main(argv: list[str]) -> int:
    token = os.environ.get("ECPA_SESSION")
    if len(argv) != 2 or not token:
        print("用法 usage: ECPA_SESSION=TOKEN bulk_issue.py PORTAL ORDERS.csv", file=sys.stderr)
        return 2
    try:
        run(argv[0], pathlib.Path(argv[1]), token)
    except ecpa.EcpaError as e:
        print(f"E{e.code} {e.name}: {e.message_zh}", file=sys.stderr)
        print(e.message_en, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"無法讀取檔案 cannot read the file: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
