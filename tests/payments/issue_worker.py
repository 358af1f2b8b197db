"""Drives a program's payments to the end, one step per transaction: approve and issue the batches that are not
issued yet, then make, approve and issue new batches of at most ``--lines`` lines until nothing is payable.

Run as a script by ``test_kill.py`` (``python issue_worker.py <database url> <lines>``), which kills it with SIGKILL at
random moments and then calls ``drive`` itself to finish the work. Prints ``ready`` once connected."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from kiban.core.db import Database
from kiban.core.errors import InputError
from kiban.payments.models import PaymentBatch, PaymentFile
from kiban.payments.service import approve, batch_lines, create_batch, issue_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benefit_town import CHECKER, MAKER, PROGRAM, SENDER, TRANSFER_DAY
from residents import A


def _finish(database: Database, batch_no: int) -> None:
    with database.tenant(A) as s:
        view = batch_lines(s, actor=CHECKER, batch_no=batch_no)
        if view.approved_hash is None:
            approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=view.content_hash)
    with database.tenant(A) as s:
        issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)


def drive(database: Database, lines: int) -> None:
    with database.tenant(A) as s:
        issued = select(PaymentFile.batch_no)
        waiting = list(s.scalars(select(PaymentBatch.batch_no).where(PaymentBatch.batch_no.not_in(issued))))
    for batch_no in sorted(waiting):
        _finish(database, batch_no)
    while True:
        try:
            with database.tenant(A) as s:
                batch_no = create_batch(
                    s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY, max_lines=lines
                ).batch_no
        except InputError:
            return  # nothing left to pay
        _finish(database, batch_no)


if __name__ == "__main__":
    url, size = sys.argv[1], int(sys.argv[2])
    db = Database(url)
    with db.tenant(A) as session:
        session.execute(select(1))
    print("ready", flush=True)
    drive(db, size)
    print("done", flush=True)
