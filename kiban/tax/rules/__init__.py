"""個人住民税 as rules: importing this package declares every rule in ``rules`` (``kiban.tax.rules.common``), with the
所得税 estimate the 令和6年 定額減税 調整給付 compares (``income_tax``)."""

from kiban.tax.rules import deductions, dependants, donations, income, income_tax, levy, results
from kiban.tax.rules.common import rules

__all__ = ["deductions", "dependants", "donations", "income", "income_tax", "levy", "results", "rules"]
