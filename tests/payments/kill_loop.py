"""The kill -9 loop, shared by ``test_kill.py`` (20 runs per backend) and ``bench/payments_kill_loop.py`` (100 runs):
each run confirms more households, starts ``issue_worker.py`` (make, approve and issue batches, one step per
transaction), kills it with SIGKILL at a random moment, resumes the work in this process and then counts what must
never happen: a batch without exactly one file, a household in two live lines (paid twice), a confirmed household
left without a line (lost), a file that is not the batch's lines and approved total."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from kiban.benefits.models import CONFIRMED, Entitlement
from kiban.core.db import Database
from kiban.payments.models import PaymentBatch, PaymentFile, PaymentLine
from kiban.payments.zengin import parse

from benefit_town import confirm_all_directly, in_register, run, town
from issue_worker import drive
from residents import A

WORKER = Path(__file__).with_name("issue_worker.py")
PER_RUN = 120
"""Households confirmed before each run (the worker batches them ``LINES`` at a time)."""
LINES = 50
SEED = 20261130


@dataclass(frozen=True)
class State:
    """What the database holds after a run, and every violation of the invariants found in it."""

    batches: int
    lines: int
    files_per_batch: Counter[int]
    """Number of files → number of batches with that many (the invariant: every batch has exactly one)."""
    doubles: list[str]
    """Households with more than one line that is not failed (would be paid twice)."""
    lost: list[str]
    """Confirmed households with no line, or whose line and entitlement disagree (would never be paid)."""
    wrong_files: list[int]
    """Batches whose file is not exactly their lines and approved total."""

    @property
    def problems(self) -> list[str]:
        bad_files = {n: b for n, b in self.files_per_batch.items() if n != 1}
        return [
            *(f"{b} batches with {n} files" for n, b in sorted(bad_files.items())),
            *(f"{h}: in two lines" for h in self.doubles),
            *(f"{h}: confirmed but not in a batch" for h in self.lost),
            *(f"batch {b}: file differs from its lines" for b in self.wrong_files),
        ]


def state(database: Database) -> State:
    with database.tenant(A) as s:
        batches = {b.batch_no: b for b in s.scalars(select(PaymentBatch))}
        files = {f.batch_no: f for f in s.scalars(select(PaymentFile))}
        lines = list(s.scalars(select(PaymentLine)))
        confirmed = list(s.scalars(select(Entitlement).where(Entitlement.status == CONFIRMED)))
    live = Counter(x.household_no for x in lines if x.status != "failed")
    lost = [e.household_no for e in confirmed if e.batch_no is None or live[e.household_no] != 1]
    wrong = []
    for batch_no, f in files.items():
        mine = sorted((x for x in lines if x.batch_no == batch_no), key=lambda x: x.line_no)
        parsed = parse(f.content)
        if (
            {x.status for x in mine} != {"sent"}
            or [(p.amount, p.account_number) for p in parsed.lines] != [(x.amount, x.account_number) for x in mine]
            or not parsed.total == batches[batch_no].approved_total == sum(x.amount for x in mine)
        ):
            wrong.append(batch_no)
    return State(
        batches=len(batches),
        lines=len(lines),
        files_per_batch=Counter(int(b in files) for b in batches),
        doubles=sorted(h for h, n in live.items() if n > 1),
        lost=sorted(lost),
        wrong_files=sorted(wrong),
    )


@dataclass
class Loop:
    runs: int
    killed: int = 0
    window: float = 0.0
    """Seconds an unkilled run took (the first run); kills fall in the first 80 % of it."""
    problems: list[str] = field(default_factory=list)
    """Violations found after any run, prefixed with the run number."""
    final: State | None = None


def kill_loop(database: Database, url: str, runs: int, *, seed: int = SEED) -> Loop:
    """``runs`` killed runs after one unkilled run that measures how long a run takes; the invariants are checked
    after every run (``Loop.problems``)."""
    with database.tenant(A) as s:
        run(s, in_register(s, town((runs + 1) * PER_RUN)))
    rng = random.Random(seed)
    paths = [str(WORKER.parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    loop = Loop(runs)
    for i in range(runs + 1):
        with database.tenant(A) as s:
            confirm_all_directly(s, range(i * PER_RUN, (i + 1) * PER_RUN))
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), url, str(LINES)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("the worker did not start")
        if i == 0:
            started = time.monotonic()
            if worker.stdout.readline().strip() != "done" or worker.wait() != 0:
                raise RuntimeError("the unkilled worker did not finish")
            loop.window = time.monotonic() - started
        else:
            time.sleep(rng.uniform(0.0, 0.8 * loop.window))
            worker.send_signal(signal.SIGKILL)
            loop.killed += worker.wait() == -signal.SIGKILL
        worker.stdout.close()
        drive(database, LINES)  # resume
        loop.problems += [f"run {i}: {p}" for p in state(database).problems]
    loop.final = state(database)
    return loop
