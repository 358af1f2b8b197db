"""The rules engine: named, typed, dated quantities computed over a whole population at once.

A ``Rule`` is one quantity (給与所得, 所得割額, 住民税非課税世帯, …) on an entity (person or household), with one or
more *formulas*, each in force from a date: a change in the law is a new formula from its start date, never an
``if year >= …`` inside one. A formula is a function of a ``Scope`` returning a Polars expression over the
population's columns: it reads other quantities with ``scope("name")`` and parameters with ``scope.yen(...)`` /
``scope.rate(...)`` / ``scope.flag(...)``, the values in force on the computation date for the municipality
(national value overlaid with its own, resolved once per run by ``kiban.core.params``). Formulas never loop over
persons.

Building a formula's expression also records what it read, so a ``Plan`` resolves dependencies by itself, orders
the quantities in layers, and computes each quantity once per run. A quantity that gathers values from other rows
(the dependants a taxpayer claims, the members of a household) is an ``Aggregate``.

How a run executes (``Plan.compute``): the layers of formulas are one lazy Polars query (one ``with_columns`` per
layer; Polars shares common subexpressions, runs the expressions in parallel and leaves out what no result needs),
collected only where an ``Aggregate`` is due. An aggregate is integer work on NumPy arrays: which rows feed which is
worked out once per run for each pair of columns (``_Gathering``, the feeding rows in the order of the rows they
feed), after which each aggregate is one reduction of consecutive runs (``ufunc.reduceat``) and one gather, exact in
integers.

``explain`` gives, for one row, every intermediate value in dependency order with the parameters it used; the
what-if comparison (``kiban.core.rules.whatif``) runs the same plan under two parameter sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

import numpy as np
import polars as pl

from kiban.core.params.catalogue import ParamValue
from kiban.core.rules.compiled import COMPILE_FROM_ROWS, compile_plan


class Entity(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"
    """Constant over the members of a household (on every member's row: an ``Aggregate`` by the household key, or a
    formula of such quantities)."""


class RuleError(ValueError):
    """A rule set that cannot be computed (unknown quantity, cycle, missing parameter, no formula for the date)."""


@dataclass(frozen=True)
class Aggregate:
    """A quantity gathered from other rows: ``agg`` of quantity ``source`` over the rows whose column ``by`` equals this
    row's column ``key`` (for example, the number of dependants whose ``claimant_no`` is this person's
    ``person_no``; with ``by`` and ``key`` the same column, over the rows of the same group, such as the members of a
    household). Rows with nothing to gather (no such row, or only nulls) get ``empty``."""

    source: str
    by: str
    key: str
    agg: str = "sum"
    empty: int | bool = 0

    def __post_init__(self) -> None:
        if self.agg not in _REDUCTIONS:
            raise RuleError(f"unknown aggregation {self.agg!r}")


_REDUCTIONS: dict[str, tuple[np.ufunc, Callable[[pl.Series], pl.Series], int | bool]] = {
    # agg: (how two values combine, the source's values as NumPy combines them, the value of no rows)
    "sum": (np.add, lambda s: s.cast(pl.Int64), 0),
    "count": (np.add, lambda s: s.is_not_null().cast(pl.Int64), 0),
    "max": (np.maximum, lambda s: s.cast(pl.Int64), int(np.iinfo(np.int64).min)),
    "any": (np.logical_or, lambda s: s.cast(pl.Boolean), False),
    "all": (np.logical_and, lambda s: s.cast(pl.Boolean), True),
}


Formula = Callable[["Scope"], pl.Expr]
Backend = Literal["auto", "polars", "compiled"]


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
        entity: Entity = Entity.PERSON,
        dtype: pl.DataType | None = None,
        since: date = date.min,
    ) -> None:
        rule = self._declare(name, label, reference, entity, dtype or pl.Int64(), since)
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
class Stage:
    """Layers computed between two collections of a run: their formulas, layer by layer, then the aggregates due
    after them (a stage ends before the first layer that reads an aggregate of it)."""

    start: int
    """The number of the stage's first layer in the plan."""
    layers: tuple[tuple[Step, ...], ...]
    """The formulas of each layer."""
    aggregates: tuple[Step, ...]

    @property
    def formulas(self) -> list[Step]:
        return [step for layer in self.layers for step in layer]


@dataclass(frozen=True)
class Plan:
    """The quantities needed for ``targets`` on ``on`` in dependency layers, with the inputs they read."""

    on: date
    layers: tuple[tuple[Step, ...], ...]
    inputs: frozenset[str]

    @property
    def steps(self) -> list[Step]:
        return [step for layer in self.layers for step in layer]

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        """The layers grouped by the aggregates they wait for (how both the Polars run and the compiled one go)."""
        stages: list[Stage] = []
        start, layers, aggregates = 0, list[tuple[Step, ...]](), list[Step]()
        for level, layer in enumerate(self.layers):
            reads = {name for step in layer for name in step.reads}
            if any(step.rule.name in reads for step in aggregates):
                stages.append(Stage(start, tuple(layers), tuple(aggregates)))
                start, layers, aggregates = level, [], []
            layers.append(tuple(s for s in layer if isinstance(s.formula, pl.Expr)))
            aggregates += [s for s in layer if isinstance(s.formula, Aggregate)]
        return (*stages, Stage(start, tuple(layers), tuple(aggregates)))

    @property
    def parameters(self) -> dict[str, ParamValue]:
        """Every parameter value the run uses (stored with results, so a result says which values made it)."""
        used: dict[str, ParamValue] = {}
        for step in self.steps:
            used.update(step.parameters)
        return dict(sorted(used.items()))

    def compute(
        self, population: pl.DataFrame, *, keep: Iterable[str] | None = None, backend: Backend = "auto"
    ) -> pl.DataFrame:
        """Every planned quantity added as a column to ``population`` (which must hold the plan's inputs); with
        ``keep``, only those columns (inputs or quantities), and nothing is materialized that they do not need.

        ``backend``: ``"polars"`` evaluates the expressions with Polars (below); ``"compiled"`` runs the plan compiled
        (``kiban.core.rules.compiled``, the same results) and fails where it cannot; ``"auto"`` runs compiled from
        ``COMPILE_FROM_ROWS`` rows where it can, in Polars otherwise.

        In Polars, the layers are one lazy query. Before the first layer that reads an aggregate not computed yet, the
        query is collected (with only the columns still needed) and every pending aggregate is added to it."""
        missing = self.inputs - set(population.columns)
        if missing:
            raise RuleError(f"入力に列がありません: {', '.join(sorted(missing))}")
        if backend == "compiled" or (backend == "auto" and population.height >= COMPILE_FROM_ROWS):
            compiled = compile_plan(
                self, population.schema, self._columns(population.columns) if keep is None else keep
            )
            result = None if compiled is None else compiled.compute(population)
            if result is not None:
                return result
            if backend == "compiled":
                raise RuleError("この計算はコンパイルして実行できません（Polars で実行してください）")
        wanted = None if keep is None else list(keep)
        needed = _needed_from(self.layers, wanted)
        gatherings: dict[tuple[str, str], _Gathering] = {}
        frame = population.lazy()
        for number, stage in enumerate(self.stages):
            if number:
                before = self.stages[number - 1].aggregates
                frame = _with_aggregates(frame, list(before), needed[stage.start], gatherings).lazy()
            for layer in stage.layers:
                expressions = [
                    s.formula.cast(s.rule.dtype).alias(s.rule.name) for s in layer if isinstance(s.formula, pl.Expr)
                ]
                if expressions:
                    frame = frame.with_columns(expressions)
        last, pending = needed[len(self.layers)], list(self.stages[-1].aggregates)
        computed = _with_aggregates(frame, pending, last, gatherings) if pending else _collect(frame, last)
        return computed if wanted is None else computed.select(wanted)

    def _columns(self, given: list[str]) -> list[str]:
        """The columns of a run that keeps everything, in the order the Polars run adds them (each aggregate where
        the query is collected for it)."""
        added = [s.rule.name for stage in self.stages for s in (*stage.formulas, *stage.aggregates)]
        return list(dict.fromkeys([*given, *added]))


def _needed_from(layers: tuple[tuple[Step, ...], ...], keep: list[str] | None) -> list[set[str] | None]:
    """For each layer (and the end), the columns the rest of the run reads or keeps (``None``: every column)."""
    if keep is None:
        return [None] * (len(layers) + 1)
    needed = set(keep)
    result: list[set[str] | None] = [set(needed)]
    for layer in reversed(layers):
        needed |= {name for step in layer for name in step.reads}
        result.append(set(needed))
    return result[::-1]


def _collect(frame: pl.LazyFrame, needed: set[str] | None) -> pl.DataFrame:
    if needed is not None:
        frame = frame.select([c for c in frame.collect_schema().names() if c in needed])
    return frame.collect(engine="streaming")  # morsel by morsel: the intermediate columns stay in cache


def _with_aggregates(
    frame: pl.LazyFrame, steps: list[Step], needed: set[str] | None, gatherings: dict[tuple[str, str], _Gathering]
) -> pl.DataFrame:
    """``frame`` collected, with the aggregates of ``steps`` added."""
    aggregates = [(s.rule, s.formula) for s in steps if isinstance(s.formula, Aggregate)]
    sources = {name for _, a in aggregates for name in (a.source, a.by, a.key)}
    table = _collect(frame, None if needed is None else needed | sources)
    for rule, a in aggregates:
        pair = (a.by, a.key)
        if pair not in gatherings:
            gatherings[pair] = _Gathering.of(table, *pair)
        gathered = gatherings[pair].gather(table.get_column(a.source), a)
        table = table.with_columns(gathered.cast(rule.dtype).alias(rule.name))
    return table


@dataclass(frozen=True)
class _Gathering:
    """Which rows feed which, for every aggregate over one (``by``, ``key``): the value of row ``sources[i]`` goes to
    slot ``slots[i]`` (of ``size``), with ``slots`` in increasing order, so that each slot's values are one run; and
    row *r* reads slot ``reads[r]`` (−1: none)."""

    sources: np.ndarray | None
    """Row numbers of the rows that feed a slot, in slot order (``None``: every row, already in slot order)."""
    slots: np.ndarray
    size: int
    reads: np.ndarray | None
    """``None``: row *r* reads slot *r*."""

    @staticmethod
    def of(frame: pl.DataFrame, by: str, key: str, *, ordered: bool = True) -> _Gathering:
        """``ordered=False`` leaves the pairs of rows as the join gives them (slots not in runs: only for a reduction
        that takes them in any order, the compiled one of ``kiban.core.rules.compiled``), which spares the sort on the
        critical path of a compiled run."""
        if by == key:
            return _Gathering.groups(frame.get_column(key), ordered=ordered)
        # every (source row, target row) pair with equal values: a join of the rows that name someone on the values'
        # 64-bit hashes (much faster than on text), keeping the pairs whose values are equal (no hash collision)
        named = frame.lazy().select(pl.col(by).alias("__value")).with_row_index("__source").drop_nulls("__value")
        rows = frame.lazy().select(pl.col(key).alias("__value")).with_row_index("__target")
        pairs = (
            named.with_columns(pl.col("__value").hash().alias("__hash"))
            .join(rows.with_columns(pl.col("__value").hash().alias("__hash")), on="__hash", suffix="_key")
            .filter(pl.col("__value") == pl.col("__value_key"))
            .select("__source", "__target")
        )
        found = pairs.collect()
        found = found.sort("__target", "__source") if ordered else found
        return _Gathering(found["__source"].to_numpy(), found["__target"].to_numpy(), frame.height, None)

    @staticmethod
    def groups(column: pl.Series, *, ordered: bool = True) -> _Gathering:
        """One slot per distinct value: consecutive numbers where equal values are adjacent (a population sorted by
        household), a dense rank otherwise. Rows whose value is null neither feed nor read a slot. ``ordered=False``:
        the rows feed their slots in row order (see ``of``)."""
        adjacent = column.is_sorted()
        codes = column.rle_id().cast(pl.Int64) if adjacent else column.rank("dense").cast(pl.Int64) - 1
        if (adjacent or not ordered) and column.null_count() == 0:
            slots = codes.to_numpy()
            return _Gathering(None, slots, int(slots.max(initial=-1)) + 1, slots)
        everyone = np.where(column.is_not_null().to_numpy(), codes.fill_null(-1).to_numpy(), -1)
        size = int(everyone.max(initial=-1)) + 1
        sources = np.flatnonzero(everyone >= 0)
        if ordered:
            sources = sources[np.argsort(everyone[sources], kind="stable")]
        return _Gathering(sources, everyone[sources], size, everyone)

    @cached_property
    def runs(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each slot's run of values starts (in ``slots``), and that slot."""
        if not len(self.slots):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, self.slots[1:] != self.slots[:-1]])
        return starts, self.slots[starts]

    def gather(self, source: pl.Series, aggregate: Aggregate) -> pl.Series:
        combine, values_of, start = _REDUCTIONS[aggregate.agg]
        array = values_of(source).fill_null(start).to_numpy()
        present = source.is_not_null().to_numpy() if source.null_count() else None
        if self.sources is not None:
            array = array[self.sources]
            present = None if present is None else present[self.sources]
        starts, slots = self.runs
        result = np.full(self.size, aggregate.empty, dtype=array.dtype)
        if len(starts):
            # each run reduced at once (exact in integers); a slot whose values are all null reads as empty
            totals = combine.reduceat(array, starts)
            if present is not None:
                fed = np.logical_or.reduceat(present, starts)
                totals, slots = totals[fed], slots[fed]
            result[slots] = totals
        if self.reads is not None:
            result = np.append(result, result.dtype.type(aggregate.empty))[self.reads]  # slot −1 reads as empty
        return pl.Series(source.name, result)


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
