"""kill -9 at random moments while batches are made, approved and issued in another process, then resumed: every
batch ends with exactly one file, no household is paid twice and none is lost (``kill_loop.py``; 100 runs per backend
in ``bench/payments_kill_loop.py``)."""

from __future__ import annotations

from conftest import TestDatabase
from kill_loop import LINES, PER_RUN, kill_loop

RUNS = 20


def test_issuing_survives_kill_9_at_any_moment(db: TestDatabase) -> None:
    loop = kill_loop(db.app, db.app_url, RUNS)
    assert loop.problems == []
    assert loop.final is not None
    assert loop.final.lines == (RUNS + 1) * PER_RUN
    assert loop.final.batches >= (RUNS + 1) * PER_RUN // LINES
    assert set(loop.final.files_per_batch) == {1}
    assert loop.killed >= RUNS // 3, f"only {loop.killed} of {RUNS} workers were killed before they finished"
