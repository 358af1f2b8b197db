"""The kill -9 loop of ``tests/payments/test_kill.py`` at 100 runs (the suite runs 20), on embedded SQLite and, given
an admin URL, on PostgreSQL set up as in production (the app role under row-level security):

    ../.venv/bin/python payments_kill_loop.py [runs] [ADMIN_URL]

Each run confirms 120 more households, starts ``tests/payments/issue_worker.py`` (make, approve and issue batches of
50 lines, one step per transaction), kills it with SIGKILL at a random moment, resumes the work and counts batches
without exactly one file, households paid twice and confirmed households lost (``tests/payments/kill_loop.py``,
the same code as the test)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import registry_db
from measure import measured, report

from kiban.core.db import Database
from kiban.core.migrate import upgrade
from kiban.core.tenants.service import load_catalog

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "payments")]

from kill_loop import Loop, kill_loop  # noqa: E402
from residents import A  # noqa: E402


def _report(backend: str, runs: int, database: Database, url: str) -> None:
    with measured() as m:
        loop: Loop = kill_loop(database, url, runs)
    final = loop.final
    assert final is not None
    files = ", ".join(
        f"{b} batches with {n} file{'s' if n != 1 else ''}" for n, b in sorted(final.files_per_batch.items())
    )
    report(
        f"payments: kill -9 loop ({backend})",
        f"{runs} killed runs + 1, {final.lines:,} lines in {final.batches:,} batches",
        m,
        lambda s: (
            f"killed before the end: {loop.killed}/{runs}; {files}; paid twice: {len(final.doubles)}; "
            f"lost: {len(final.lost)}; file ≠ lines: {len(final.wrong_files)}; problems after any run: "
            f"{len(loop.problems)}"
        ),
    )
    for problem in loop.problems:
        print(f"  {problem}", file=sys.stderr)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'kiban.sqlite3'}"
        upgrade(url, app_role=registry_db.APP_ROLE)
        database = Database(url)
        with database.tenant(None) as s:
            load_catalog(db_session=s)
        _report("sqlite", runs, database, url)
        database.dispose()
    if len(sys.argv) > 2:
        admin_url = sys.argv[2]
        registry_db.NAME = "kiban_bench_payments"  # the registry benchmarks' database is left alone
        registry_db.create(admin_url, A)
        database = Database(registry_db.app_url(admin_url))
        try:
            _report("postgresql", runs, database, registry_db.app_url(admin_url))
        finally:
            database.dispose()
            registry_db.drop(admin_url)


if __name__ == "__main__":
    main()
