"""Bulk load of a synthetic population into PostgreSQL, through the code path of ``kiban seed`` (generate, then
``kiban.registry.load`` in one transaction as the app role, COPY through staging tables):

    ../.venv/bin/python registry_load.py ADMIN_URL [persons] [lg_code]

ADMIN_URL is a superuser URL (``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); the register is loaded into
a fresh database ``kiban_bench_registry`` (see ``registry_db.py``), kept for ``registry_search.py`` and
``registry_snapshot.py``. Then, timed apart, ``VACUUM ANALYZE`` as the owner: what autovacuum does after a large
load (statistics for the planner, the visibility map for index-only scans); the app role may not run it, and this
machine's server runs with autovacuum off."""

from __future__ import annotations

import sys
import time

import registry_db
from measure import measured, report

from kiban.cli.seed import load_synthetic
from kiban.core.db import Database


def main() -> None:
    admin_url = sys.argv[1]
    persons = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    lg_code = sys.argv[3] if len(sys.argv) > 3 else registry_db.LG_CODE
    registry_db.create(admin_url, lg_code)
    database = Database(registry_db.app_url(admin_url))
    started = time.perf_counter()

    def step(done: str) -> None:
        print(f"  {time.perf_counter() - started:7.1f} s  {done}", file=sys.stderr)

    with measured() as m:
        _, loaded = load_synthetic(database, lg_code, persons, seed=1, step=step)
    database.dispose()
    with measured() as vacuum:
        registry_db.vacuum_analyze(admin_url)
    report(
        "registry load (generate + load, kiban seed)",
        f"{persons:,} persons ({loaded.persons:,} with those who left, {loaded.events:,} events), {lg_code}, "
        "postgresql",
        m,
        lambda s: f"{persons / s:,.0f} persons/s",
    )
    report("registry load: VACUUM ANALYZE (owner)", f"{loaded.persons:,} persons", vacuum, lambda s: "")


if __name__ == "__main__":
    main()
