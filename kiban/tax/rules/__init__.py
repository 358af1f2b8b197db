"""個人住民税 as rules: importing this package declares every rule in ``rules`` (``kiban.tax.rules.common``)."""

from kiban.tax.rules import deductions, dependants, income, levy, results
from kiban.tax.rules.common import rules

__all__ = ["deductions", "dependants", "income", "levy", "results", "rules"]
