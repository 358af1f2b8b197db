"""Audit log append and verification: ``.venv/bin/python bench/audit_chain.py [entries] [database_url]``.

Appends in transactions of 1,000 entries (a batch job's pace), then verifies the whole chain.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from measure import measured, report

from kiban.core.audit import service
from kiban.core.db import Database
from kiban.core.migrate import upgrade

LG_CODE = "131016"


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    upgrade(url, app_role="kiban_app")
    database = Database(url)
    with measured() as m:
        for start in range(0, entries, 1000):
            with database.tenant(LG_CODE) as s:
                for i in range(start, min(start + 1000, entries)):
                    service.record(
                        s, actor=None, action="registry.person.read", purpose="住民記録事務", subject=f"P{i}"
                    )
    report("audit append", f"{entries:,} entries, {database.dialect}", m, lambda s: f"{entries / s:,.0f} entries/s")
    with measured() as m, database.tenant(LG_CODE) as s:
        result = service.verify_chain(s, LG_CODE)
    assert result.ok
    assert result.entries == entries
    report("audit verify", f"{entries:,} entries, {database.dialect}", m, lambda s: f"{entries / s:,.0f} entries/s")


if __name__ == "__main__":
    main()
