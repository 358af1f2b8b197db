"""The rules engine: named, typed, dated quantities computed over a whole population at once.

A ``Rule`` is one quantity (給与所得, 所得割額, 住民税非課税世帯, …) on an entity (person or household), with one or
more *formulas*, each in force from a date: a change in the law is a new formula from its start date, never an
``if year >= …`` inside one. A formula is a function of a ``Scope`` returning a Polars expression over the
population's columns: it reads other quantities with ``scope("name")`` and parameters with ``scope.yen(...)`` /
``scope.rate(...)`` / ``scope.flag(...)``, the values in force on the computation date for the municipality
(national value overlaid with its own, resolved once per run by ``kiban.core.params``). Formulas never loop over
persons.

Building a formula's expression also records what it read, so a ``Plan`` resolves dependencies by itself, orders
the quantities in layers (each layer one ``with_columns``, which Polars runs in parallel), and computes each quantity
once per run. A quantity that gathers values from other rows (the dependants a taxpayer claims) is an ``Aggregate``:
a group-by on a key column joined back by another.

``explain`` gives, for one row, every intermediate value in dependency order with the parameters it used; the
what-if comparison (``kiban.core.rules.whatif``) runs the same plan under two parameter sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import polars as pl

from kiban.core.params.catalogue import ParamValue


class Entity(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"
    """Constant over the members of a household (computed on every member's row with ``.over(household key)``)."""


class RuleError(ValueError):
    """A rule set that cannot be computed (unknown quantity, cycle, missing parameter, no formula for the date)."""


@dataclass(frozen=True)
class Aggregate:
    """A quantity gathered from other rows: ``agg`` of quantity ``source`` over the rows whose column ``by`` equals this
    row's column ``key`` (for example, the number of dependants whose ``claimant_no`` is this person's
    ``person_no``). Rows with nothing to gather get ``empty``."""

    source: str
    by: str
    key: str
    agg: str = "sum"
    empty: int = 0

    def expression(self) -> pl.Expr:
        col = pl.col(self.source)
        aggregations = {"sum": col.sum(), "count": col.count(), "max": col.max(), "any": col.any()}
        if self.agg not in aggregations:
            raise RuleError(f"unknown aggregation {self.agg!r}")
        return aggregations[self.agg]


Formula = Callable[["Scope"], pl.Expr]


@dataclass
class Rule:
    name: str
    label: str
    """Japanese name as on forms (給与所得, 所得割額)."""
    reference: str
    """Legal basis (law and article)."""
    entity: Entity
    dtype: pl.DataType
    formulas: list[tuple[date, Formula | Aggregate]] = field(default_factory=list)

    def formula_on(self, on: date) -> Formula | Aggregate:
        chosen: Formula | Aggregate | None = None
        for start, formula in sorted(self.formulas, key=lambda item: item[0]):
            if start <= on:
                chosen = formula
        if chosen is None:
            raise RuleError(f"{self.name}（{self.label}）: {on.isoformat()} に適用される計算式がありません")
        return chosen


class RuleSet:
    """The rules of one domain, declared with the ``rule`` decorator (or ``aggregate``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rules: dict[str, Rule] = {}

    def _declare(self, name: str, label: str, reference: str, entity: Entity, dtype: pl.DataType, since: date) -> Rule:
        existing = self.rules.get(name)
        if existing is None:
            existing = self.rules[name] = Rule(name, label, reference, entity, dtype)
        elif (existing.label, existing.entity, existing.dtype) != (label, entity, dtype):
            raise RuleError(f"{name}: a later formula must keep the label, entity and type")
        if any(start == since for start, _ in existing.formulas):
            raise RuleError(f"{name}: two formulas from {since.isoformat()}")
        return existing

    def rule(
        self,
        name: str,
        *,
        label: str,
        reference: str,
        entity: Entity = Entity.PERSON,
        dtype: pl.DataType | None = None,
        since: date = date.min,
    ) -> Callable[[Formula], Formula]:
        """Declare ``name`` (or a new formula of it from ``since``) computed by the decorated function."""

        def register(formula: Formula) -> Formula:
            rule = self._declare(name, label, reference, entity, dtype or pl.Int64(), since)
            rule.formulas.append((since, formula))
            return formula

        return register

    def aggregate(
        self,
        name: str,
        aggregate: Aggregate,
        *,
        label: str,
        reference: str,
        dtype: pl.DataType | None = None,
        since: date = date.min,
    ) -> None:
        rule = self._declare(name, label, reference, Entity.PERSON, dtype or pl.Int64(), since)
        rule.formulas.append((since, aggregate))

    def merged(self, *others: RuleSet) -> RuleSet:
        combined = RuleSet("+".join([self.name, *(o.name for o in others)]))
        for source in (self, *others):
            for name, rule in source.rules.items():
                if name in combined.rules:
                    raise RuleError(f"{name} is declared twice ({combined.name})")
                combined.rules[name] = rule
        return combined


class Scope:
    """What a formula reads: other quantities (as columns) and parameters (as values), recorded as it reads them."""

    def __init__(self, on: date, parameters: Mapping[str, ParamValue]) -> None:
        self.on = on
        self._parameters = parameters
        self.read: list[str] = []
        self.used: dict[str, ParamValue] = {}

    def __call__(self, name: str) -> pl.Expr:
        if name not in self.read:
            self.read.append(name)
        return pl.col(name)

    def _param(self, name: str) -> ParamValue:
        if name not in self._parameters:
            raise RuleError(f"パラメータ {name} に {self.on.isoformat()} の値がありません")
        value = self._parameters[name]
        self.used[name] = value
        return value

    def yen(self, name: str) -> int:
        value = self._param(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(f"パラメータ {name} は円の値ではありません")
        return value

    def rate(self, name: str) -> Decimal:
        value = self._param(name)
        if not isinstance(value, Decimal):
            raise RuleError(f"パラメータ {name} は率ではありません")
        return value

    def flag(self, name: str) -> bool:
        value = self._param(name)
        if not isinstance(value, bool):
            raise RuleError(f"パラメータ {name} は真偽値ではありません")
        return value


@dataclass(frozen=True)
class Step:
    """One quantity of a plan: its rule, the expression (or aggregate) for this run, what it read and used."""

    rule: Rule
    formula: pl.Expr | Aggregate
    reads: tuple[str, ...]
    parameters: Mapping[str, ParamValue]


@dataclass(frozen=True)
class Plan:
    """The quantities needed for ``targets`` on ``on`` in dependency layers, with the inputs they read."""

    on: date
    layers: tuple[tuple[Step, ...], ...]
    inputs: frozenset[str]

    @property
    def steps(self) -> list[Step]:
        return [step for layer in self.layers for step in layer]

    @property
    def parameters(self) -> dict[str, ParamValue]:
        """Every parameter value the run uses (stored with results, so a result says which values made it)."""
        used: dict[str, ParamValue] = {}
        for step in self.steps:
            used.update(step.parameters)
        return dict(sorted(used.items()))

    def compute(self, population: pl.DataFrame) -> pl.DataFrame:
        """Every planned quantity added as a column to ``population`` (which must hold the plan's inputs).

        Each layer is computed eagerly (its expressions in parallel): one lazy query over every layer would make
        Polars' optimizer re-expand the whole chain of expressions at each step."""
        missing = self.inputs - set(population.columns)
        if missing:
            raise RuleError(f"入力に列がありません: {', '.join(sorted(missing))}")
        frame = population
        positions: dict[tuple[str, str], pl.Series] = {}
        for layer in self.layers:
            expressions = [
                s.formula.cast(s.rule.dtype).alias(s.rule.name) for s in layer if isinstance(s.formula, pl.Expr)
            ]
            if expressions:
                frame = frame.with_columns(expressions)
            gathered: dict[tuple[str, str], list[Step]] = {}
            for step in layer:
                if isinstance(step.formula, Aggregate):
                    gathered.setdefault((step.formula.by, step.formula.key), []).append(step)
            for pair, steps in gathered.items():
                if pair not in positions:
                    positions[pair] = _positions(frame, *pair)
                frame = _join_aggregates(frame, positions[pair], steps)
        return frame


def _positions(frame: pl.DataFrame, by: str, key: str) -> pl.Series:
    """For each row, the position of the row whose ``key`` equals this row's ``by`` (null where there is none): one
    join on the keys, after which every aggregate over (``by``, ``key``) is integer work."""
    rows = frame.select(pl.col(key).alias("__key")).with_row_index("__position")
    return (
        frame.select(pl.col(by).alias("__key"))
        .join(rows, on="__key", how="left", maintain_order="left")
        .get_column("__position")
    )


def _join_aggregates(frame: pl.DataFrame, positions: pl.Series, steps: list[Step]) -> pl.DataFrame:
    """Every aggregate of one layer over the same (``by``, ``key``): grouped by the target row's position, then
    scattered into full columns."""
    aggregates = [(s.rule, s.formula) for s in steps if isinstance(s.formula, Aggregate)]
    grouped = (
        frame.select([a.source for _, a in aggregates])
        .with_columns(positions.alias("__position"))
        .filter(pl.col("__position").is_not_null())
        .group_by("__position")
        .agg([a.expression().cast(rule.dtype).alias(rule.name) for rule, a in aggregates])
    )
    targets = grouped.get_column("__position")
    columns = []
    for rule, a in aggregates:
        column = pl.Series(rule.name, [a.empty], dtype=rule.dtype).extend_constant(a.empty, frame.height - 1)
        columns.append(column.scatter(targets, grouped.get_column(rule.name)) if targets.len() else column)
    return frame.hstack(columns)


def plan(
    rules: RuleSet, targets: Iterable[str], *, on: date, parameters: Mapping[str, ParamValue], inputs: Iterable[str]
) -> Plan:
    """Resolve ``targets`` and everything they need; names in ``inputs`` are columns given with the population."""
    given = set(inputs)
    steps: dict[str, Step] = {}
    visiting: list[str] = []
    needed_inputs: set[str] = set()

    def visit(name: str) -> None:
        if name in steps:
            return
        if name in given and name not in rules.rules:
            needed_inputs.add(name)
            return
        if name not in rules.rules:
            raise RuleError(f"{name} は規則にも入力にもありません")
        if name in visiting:
            raise RuleError("規則が循環しています: " + " → ".join([*visiting[visiting.index(name) :], name]))
        visiting.append(name)
        rule = rules.rules[name]
        formula = rule.formula_on(on)
        if isinstance(formula, Aggregate):
            reads: tuple[str, ...] = (formula.source, formula.by, formula.key)
            step = Step(rule, formula, reads, {})
        else:
            scope = Scope(on, parameters)
            expression = formula(scope)
            step = Step(rule, expression, tuple(scope.read), dict(scope.used))
        for dependency in step.reads:
            visit(dependency)
        visiting.pop()
        steps[name] = step

    for target in targets:
        visit(target)
    depth: dict[str, int] = {}
    for name, step in steps.items():  # insertion order is a topological order (dependencies first)
        depth[name] = 1 + max((depth.get(d, 0) for d in step.reads), default=0)
    layers = [
        tuple(steps[n] for n in steps if depth[n] == level) for level in range(1, max(depth.values(), default=0) + 1)
    ]
    return Plan(on=on, layers=tuple(layer for layer in layers if layer), inputs=frozenset(needed_inputs))


@dataclass(frozen=True)
class Trace:
    """One line of an explanation: a quantity's value for the row, and what it was computed from."""

    name: str
    label: str
    reference: str
    value: Any
    reads: tuple[str, ...]
    parameters: Mapping[str, ParamValue]


def explain(computed: pl.DataFrame, computation: Plan, *, key: str, value: str) -> list[Trace]:
    """The trace of every planned quantity for the row whose ``key`` is ``value`` in ``computed`` (a result of
    ``computation.compute``), inputs first, in dependency order."""
    rows = computed.filter(pl.col(key) == value)
    if rows.height != 1:
        raise RuleError(f"{key}={value} の行が {rows.height} 件あります（1件のはずです）")
    row = rows.row(0, named=True)
    traces = [Trace(name, "入力", "", row[name], (), {}) for name in sorted(computation.inputs)]
    for step in computation.steps:
        r = step.rule
        traces.append(Trace(r.name, r.label, r.reference, row[r.name], step.reads, step.parameters))
    return traces
