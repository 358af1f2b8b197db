"""Imports every model module so that ``Base.metadata`` knows every table (migrations, catalog tests).

One line per model module (kept sorted).
"""

# ruff: noqa: F401
import kiban.benefits.models
import kiban.core.audit.models
import kiban.core.identity.models
import kiban.core.params.models
import kiban.core.tenants.models
import kiban.payments.models
import kiban.portal.models
import kiban.registry.models
import kiban.tax.models
