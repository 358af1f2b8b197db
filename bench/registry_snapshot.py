"""As-of snapshot of a large register to Parquet, as a batch job would take it: one tenant transaction as the app
role (row-level security on), through ``kiban.registry.snapshot.write_residents_parquet`` (COPY out, Polars,
zstd Parquet; checked and audited):

    ../.venv/bin/python registry_snapshot.py ADMIN_URL [YYYY-MM-DD] [lg_code]

Run ``registry_load.py`` first. The date defaults to today."""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import registry_db
from measure import measured, report

from kiban.core.db import Database
from kiban.registry.snapshot import write_residents_parquet


def main() -> None:
    admin_url = sys.argv[1]
    on = date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else date.today()
    lg_code = sys.argv[3] if len(sys.argv) > 3 else registry_db.LG_CODE
    database = Database(registry_db.app_url(admin_url))
    actor = registry_db.clerk(lg_code)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "residents.parquet"
        with measured() as m, database.tenant(lg_code) as s:
            count = write_residents_parquet(s, actor=actor, on=on, path=path)
        assert pl.scan_parquet(path).select(pl.len()).collect().item() == count
        size_mb = path.stat().st_size / 1024 / 1024
    database.dispose()
    report(
        "registry snapshot to Parquet",
        f"{count:,} residents on {on.isoformat()}, {lg_code}, postgresql ({size_mb:,.0f} MB zstd)",
        m,
        lambda s: f"{count / s:,.0f} residents/s",
    )


if __name__ == "__main__":
    main()
