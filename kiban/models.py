"""Imports every model module so that ``Base.metadata`` knows every table (migrations, catalog tests).

One line per model module; keep the list append-only.
"""

# ruff: noqa: F401
import kiban.core.tenants.models
