"""kill -9 at random moments while batches are made, approved and issued in another process, then resumed: every
batch ends with exactly one file, no household is paid twice and none is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from kiban.benefits.models import CONFIRMED, Entitlement
from kiban.payments.models import PaymentBatch, PaymentFile, PaymentLine
from kiban.payments.zengin import parse

from benefit_town import confirm_all_directly, run, town
from conftest import TestDatabase
from residents import A

WORKER = Path(__file__).with_name("issue_worker.py")
RUNS = 20
PER_RUN = 120
"""Households confirmed before each run (the worker batches them 50 at a time)."""
LINES = 50


def _check(db: TestDatabase) -> tuple[int, int]:
    """The invariants; returns (batches, lines)."""
    with db.app.tenant(A) as s:
        batches = {b.batch_no: b for b in s.scalars(select(PaymentBatch))}
        files = {f.batch_no: f for f in s.scalars(select(PaymentFile))}
        lines = list(s.scalars(select(PaymentLine)))
        confirmed = list(s.scalars(select(Entitlement).where(Entitlement.status == CONFIRMED)))
    assert set(files) == set(batches), "exactly one file per batch"
    live = Counter(x.household_no for x in lines if x.status != "failed")
    assert [h for h, n in live.items() if n > 1] == [], "no household in two lines"
    for e in confirmed:
        assert (live[e.household_no] == 1) == (e.batch_no is not None), f"{e.household_no}: lost or double"
    assert all(e.batch_no is not None for e in confirmed), "everything confirmed was paid out"
    for batch_no, f in files.items():
        mine = sorted((x for x in lines if x.batch_no == batch_no), key=lambda x: x.line_no)
        parsed = parse(f.content)
        assert {x.status for x in mine} == {"sent"}
        assert [(p.amount, p.account_number) for p in parsed.lines] == [(x.amount, x.account_number) for x in mine]
        assert parsed.total == batches[batch_no].approved_total == sum(x.amount for x in mine)
    return len(batches), len(lines)


def test_issuing_survives_kill_9_at_any_moment(db: TestDatabase) -> None:
    from issue_worker import drive

    with db.app.tenant(A) as s:
        run(s, town((RUNS + 1) * PER_RUN))
    rng = random.Random(20261130)
    env = {**os.environ, "PYTHONPATH": str(WORKER.parent.parent)}
    killed, window = 0, 0.0
    for i in range(RUNS + 1):
        with db.app.tenant(A) as s:
            confirm_all_directly(s, range(i * PER_RUN, (i + 1) * PER_RUN))
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), db.app_url, str(LINES)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        if i == 0:  # the first run is not killed: it measures how long a whole run takes here
            started = time.monotonic()
            assert worker.stdout.readline().strip() == "done"
            window = time.monotonic() - started
            assert worker.wait() == 0
        else:
            time.sleep(rng.uniform(0.0, 0.8 * window))
            worker.send_signal(signal.SIGKILL)
            killed += worker.wait() == -signal.SIGKILL
            worker.stdout.close()
        drive(db.app, LINES)  # resume
        _check(db)
    batches, lines = _check(db)
    assert lines == (RUNS + 1) * PER_RUN
    assert batches >= (RUNS + 1) * PER_RUN // LINES
    assert killed >= RUNS // 3, f"only {killed} of {RUNS} workers were killed before they finished"
