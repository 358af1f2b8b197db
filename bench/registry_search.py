"""Searches of a large register, the staff UI's way: each in its own tenant transaction as the app role (row-level
security on), through ``kiban.registry.search.search`` (checked and audited):

    ../.venv/bin/python registry_search.py ADMIN_URL [searches] [lg_code]

Run ``registry_load.py`` first. The searches cycle through five kinds, with values drawn from random current
residents: フリガナ (氏, from the start), 氏名 (氏, from the start), 生年月日 + フリガナ (氏), 住所 (町域, from the
start) and 住民票コード. Prints one row per kind and one for all."""

from __future__ import annotations

import random
import statistics
import sys
import time
from typing import Any

import registry_db
from measure import Measurement, measured, report
from sqlalchemy import text

from kiban.core.db import Database
from kiban.registry.search import search

KINDS = ("kana prefix", "name prefix", "birth date + kana", "address prefix", "resident code")


def _samples(database: Database, lg_code: str, n: int) -> list[dict[str, Any]]:
    with database.tenant(lg_code) as s:
        rows = s.execute(
            text(
                "SELECT v.family_name, v.family_name_kana, v.birth_date, v.town, p.resident_code"
                " FROM person_version v JOIN person p USING (lg_code, person_no)"
                " WHERE v.valid_to IS NULL AND v.status = 'resident' ORDER BY random() LIMIT :n"
            ),
            {"n": n},
        ).mappings()
        return [dict(r) for r in rows]


def _criteria(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    if kind == "kana prefix":
        return {"kana": row["family_name_kana"]}
    if kind == "name prefix":
        return {"name": row["family_name"]}
    if kind == "birth date + kana":
        return {"birth_date": row["birth_date"], "kana": row["family_name_kana"]}
    if kind == "address prefix":
        return {"address": row["town"]}
    return {"resident_code": row["resident_code"]}


def _percentiles(latencies: list[float]) -> str:
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"


def main() -> None:
    admin_url = sys.argv[1]
    searches = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    lg_code = sys.argv[3] if len(sys.argv) > 3 else registry_db.LG_CODE
    database = Database(registry_db.app_url(admin_url))
    actor = registry_db.clerk(lg_code)
    samples = _samples(database, lg_code, searches)
    random.Random(1).shuffle(samples)
    with database.tenant(lg_code) as s:  # warm the pool and the caches of the first kind
        search(s, actor=actor, kana="ア")
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found = 0
    with measured() as m:
        for i, row in enumerate(samples):
            kind = KINDS[i % len(KINDS)]
            criteria = _criteria(kind, row)
            started = time.perf_counter()
            with database.tenant(lg_code) as s:
                hits = search(s, actor=actor, **criteria)
            latencies[kind].append(time.perf_counter() - started)
            found += bool(hits)
    assert found == len(samples), f"{len(samples) - found} searches found nobody"
    with database.tenant(lg_code) as s:
        total = s.scalar(text("SELECT count(*) FROM person_version WHERE valid_to IS NULL"))
    database.dispose()
    size = f"{total:,} persons, {lg_code}, postgresql"
    for kind, values in latencies.items():
        report(
            f"registry search: {kind}",
            f"{len(values):,} searches, {size}",
            Measurement(seconds=sum(values), peak_rss_mb=m.peak_rss_mb),
            lambda _, values=values: _percentiles(values),  # type: ignore[misc]
        )
    everything = [x for values in latencies.values() for x in values]
    report("registry search: all kinds", f"{len(everything):,} searches, {size}", m, lambda _: _percentiles(everything))


if __name__ == "__main__":
    main()
