"""The next free 宛名番号 and 世帯番号 of a large register (``kiban.registry.numbering.next_free``, what a 転入 or 出生
form left blank takes), each in its own tenant transaction as the app role, with the number-order indexes
(``kiban.registry.models.number_order``) and, for comparison, without them (dropped as the owner, then built again,
timed: what they add to a load is at most that):

    ../.venv/bin/python registry_numbering.py ADMIN_URL [lookups] [lg_code]

Run ``registry_load.py`` first. Prints one row per number and way."""

from __future__ import annotations

import statistics
import sys
import time

import registry_db
from measure import Measurement, measured, report
from sqlalchemy import Index, Table, create_engine
from sqlalchemy.orm import InstrumentedAttribute

from kiban.core.db import Database
from kiban.registry.models import Household, Person
from kiban.registry.numbering import next_free

NUMBERS: list[InstrumentedAttribute[str]] = [Person.person_no, Household.household_no]


def _order_index(column: InstrumentedAttribute[str]) -> Index:
    """The number-order index of ``column``'s table, as the models declare it."""
    table: Table = column.class_.__table__
    return next(index for index in table.indexes if index.name == f"ix_{table.name}_number_order")


def _lookups(database: Database, lg_code: str, lookups: int, way: str, size: str) -> None:
    for column in NUMBERS:
        latencies = []
        with measured() as m:
            for _ in range(lookups):
                with database.tenant(lg_code) as s:
                    started = time.perf_counter()
                    next_free(s, column)
                    latencies.append(time.perf_counter() - started)
        report(
            f"registry: next free {column.key} ({way})",
            f"{lookups} lookups, {size}",
            Measurement(seconds=sum(latencies), peak_rss_mb=m.peak_rss_mb),
            lambda _, values=latencies: f"median {statistics.median(values) * 1000:.1f} ms",  # type: ignore[misc]
        )


def main() -> None:
    admin_url = sys.argv[1]
    lookups = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    lg_code = sys.argv[3] if len(sys.argv) > 3 else registry_db.LG_CODE
    database = Database(registry_db.app_url(admin_url))
    with database.tenant(lg_code) as s:
        persons = s.query(Person).count()
    size = f"{persons:,} persons, {lg_code}, postgresql"
    _lookups(database, lg_code, lookups, "number-order index", size)
    indexes = [_order_index(column) for column in NUMBERS]
    owner = create_engine(registry_db.owner_url(admin_url))
    with owner.begin() as connection:
        for index in indexes:
            index.drop(connection)
    _lookups(database, lg_code, lookups, "every row read, as before the index", size)
    for index in indexes:
        started = time.perf_counter()
        with owner.begin() as connection:
            index.create(connection)
        print(f"  {index.name} built again in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    owner.dispose()
    database.dispose()


if __name__ == "__main__":
    main()
