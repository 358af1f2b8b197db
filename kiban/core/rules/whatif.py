"""What-if: the same rules over the same population under two parameter sets, and what changes.

Both runs use the same formulas (``plan`` is called twice with the same rule set), so a difference can only come
from the parameters: the policy question "what if the 均等割 非課税限度額 were 10,000 yen higher?" is answered on
the real population with the code that assesses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from kiban.core.params.catalogue import ParamValue
from kiban.core.rules.engine import RuleSet, plan


@dataclass(frozen=True)
class Change:
    target: str
    changed: int
    """Rows whose value differs."""
    total_before: int | None
    total_after: int | None
    """Sums for numeric quantities (yen); ``None`` for flags and text."""
    counts_before: dict[str, int]
    counts_after: dict[str, int]
    """Rows per value for flags and categories (課税区分); empty for amounts."""


@dataclass(frozen=True)
class Comparison:
    changes: list[Change]
    differing: pl.DataFrame
    """The rows where any target differs: the key, then ``<target>_before`` and ``<target>_after``."""
    parameters_changed: dict[str, tuple[ParamValue | None, ParamValue | None]]


def _counts(column: pl.Series) -> dict[str, int]:
    counted = column.cast(pl.Utf8).fill_null("").value_counts(sort=True)
    return {str(v): int(n) for v, n in counted.iter_rows()}


def compare(
    rules: RuleSet,
    population: pl.DataFrame,
    *,
    targets: Iterable[str],
    on: date,
    before: Mapping[str, ParamValue],
    after: Mapping[str, ParamValue],
    key: str,
) -> Comparison:
    names = list(targets)
    runs = []
    for parameters in (before, after):
        computation = plan(rules, names, on=on, parameters=parameters, inputs=population.columns)
        runs.append(computation.compute(population, keep=[key, *names], backend="polars"))
    joined = runs[0].join(runs[1], on=key, suffix="__after", how="inner", maintain_order="left")
    changes: list[Change] = []
    differs = pl.lit(value=False)
    for name in names:
        a, b = joined[name], joined[f"{name}__after"]
        different = pl.col(name).ne_missing(pl.col(f"{name}__after"))
        differs = differs | different
        numeric = a.dtype.is_integer()
        changes.append(
            Change(
                target=name,
                changed=int(joined.select(different.sum()).item()),
                total_before=int(a.sum()) if numeric else None,
                total_after=int(b.sum()) if numeric else None,
                counts_before={} if numeric else _counts(a),
                counts_after={} if numeric else _counts(b),
            )
        )
    differing = joined.filter(differs).select(
        key, *[c for n in names for c in (pl.col(n).alias(f"{n}_before"), pl.col(f"{n}__after").alias(f"{n}_after"))]
    )
    keys = sorted(set(before) | set(after))
    changed_parameters = {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
    return Comparison(changes=changes, differing=differing, parameters_changed=changed_parameters)
