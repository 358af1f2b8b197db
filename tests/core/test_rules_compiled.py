"""A plan run compiled gives exactly what Polars gives: every kind of expression the translation knows, aggregates
of every kind, text codes, dates (before 1970 and leap days too); and what it does not know, or a population it
cannot run (nulls, a division by zero), goes to Polars instead."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kiban.core.money import times_rate_expr, times_ratio_up_expr
from kiban.core.params.catalogue import ParamValue
from kiban.core.rules import compiled
from kiban.core.rules.engine import Aggregate, Entity, RuleError, RuleSet, Scope, plan

ON = date(2025, 4, 1)
PARAMS: dict[str, ParamValue] = {"toy.base": 430_000, "toy.rate": Decimal("0.06"), "toy.on": True}
toy = RuleSet("compiled-toy")


@toy.rule("age", label="年齢", reference="test", dtype=pl.Int32())
def _age(s: Scope) -> pl.Expr:
    born = s("birth_date")
    before = (born.dt.month().cast(pl.Int32) * 100 + born.dt.day()) > 1231
    return (2024 - born.dt.year().cast(pl.Int32) - before.cast(pl.Int32)).cast(pl.Int32)


@toy.rule("born_in_window", label="期間内の出生", reference="test", dtype=pl.Boolean())
def _window(s: Scope) -> pl.Expr:
    return s("birth_date").is_between(date(1960, 2, 29), date(2000, 3, 1)) & (s("birth_date") <= date(1999, 12, 31))


@toy.rule("income", label="所得", reference="test")
def _income(s: Scope) -> pl.Expr:
    revenue = s("revenue")
    deduction = (
        pl.when(revenue <= 1_625_000)
        .then(550_000)
        .when(revenue <= 1_800_000)
        .then(times_rate_expr(revenue, Decimal("0.4")) - 100_000)
        .otherwise(pl.min_horizontal(times_rate_expr(revenue, Decimal("0.2")) + 440_000, 1_950_000))
    )
    return (revenue - deduction).clip(lower_bound=0)


@toy.rule("signed", label="負の数を含む計算", reference="test")
def _signed(s: Scope) -> pl.Expr:
    delta = s("delta")
    return (delta // 7) + (-delta // 3) + delta.abs() * 2 - pl.max_horizontal(delta, -5) + delta.clip(-100, 100)


@toy.rule("levy", label="税額", reference="test")
def _levy(s: Scope) -> pl.Expr:
    taxable = (s("income") - s.yen("toy.base") - s("children") * 330_000).clip(lower_bound=0) // 1000 * 1000
    return times_rate_expr(taxable, s.rate("toy.rate")) // 100 * 100


@toy.rule("rounded_up", label="切上げ", reference="test")
def _rounded_up(s: Scope) -> pl.Expr:
    return times_ratio_up_expr(s("levy"), 2, 3)


@toy.rule("special", label="特別障害者", reference="test", dtype=pl.Boolean())
def _special(s: Scope) -> pl.Expr:
    return (s("disability") == "special") | ~(s("disability") != "ordinary") & pl.lit(s.flag("toy.on"))


@toy.rule("status", label="区分", reference="test", dtype=pl.Utf8())
def _status(s: Scope) -> pl.Expr:
    return (
        pl.when(s("levy") == 0)
        .then(pl.lit("exempt"))
        .when(s("special"))
        .then(pl.lit("reduced"))
        .otherwise(pl.lit("taxed"))
    )


@toy.rule("taxed", label="課税", reference="test", dtype=pl.Boolean())
def _taxed(s: Scope) -> pl.Expr:
    return s("status") == "taxed"


@toy.rule("is_child", label="子", reference="test")
def _is_child(s: Scope) -> pl.Expr:
    return (s("parent").is_not_null() & (s("age") < 16)).cast(pl.Int64)


@toy.rule("claimed_by", label="扶養者", reference="test", dtype=pl.Utf8())
def _claimed_by(s: Scope) -> pl.Expr:
    return pl.when(s("is_child") > 0).then(s("parent"))  # compiled as its condition, the text never copied


@toy.rule("claimed_by_or_none", label="扶養者（なしを含む）", reference="test", dtype=pl.Utf8())
def _claimed_by_or_none(s: Scope) -> pl.Expr:
    return pl.when(s("is_child") > 0).then(s("parent")).otherwise(pl.lit("none"))  # an input text or a literal: Polars


toy.aggregate("children", Aggregate("is_child", by="parent", key="id"), label="子の数", reference="test")
toy.aggregate("child_count", Aggregate("age", by="parent", key="id", agg="count"), label="数", reference="test")
toy.aggregate(
    "oldest_child", Aggregate("age", by="parent", key="id", agg="max", empty=-1), label="最年長", reference="test"
)
toy.aggregate(
    "household_levy",
    Aggregate("levy", by="household", key="household"),
    label="世帯の税額",
    reference="test",
    entity=Entity.HOUSEHOLD,
)
toy.aggregate(
    "household_all_exempt",
    Aggregate("taxed", by="household", key="household", agg="all", empty=True),
    label="世帯全員非課税",
    reference="test",
    entity=Entity.HOUSEHOLD,
    dtype=pl.Boolean(),
)
toy.aggregate(
    "household_any_special",
    Aggregate("special", by="household", key="household", agg="any"),
    label="特別障害者のいる世帯",
    reference="test",
    entity=Entity.HOUSEHOLD,
    dtype=pl.Boolean(),
)


@toy.rule("net", label="差引", reference="test")
def _net(s: Scope) -> pl.Expr:
    return s("levy") - s("household_levy") // 10 + s("children") + s("oldest_child") + s("child_count")


LENT = compiled._Memory(frozenset())
"""Memory for the arrays a test asks of the compiled module's helpers directly."""

TARGETS = [
    "born_in_window",
    "signed",
    "rounded_up",
    "status",
    "claimed_by",
    "claimed_by_or_none",
    "household_all_exempt",
    "household_any_special",
    "net",
]


def population(rows: int, seed: int) -> pl.DataFrame:
    """People in households (not sorted by household; a few in none), some claimed by another row (or by no one in
    the population, or by an id two rows have), born from 1900 to 2024 (leap days and dates before 1970 included)."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:06d}" for i in range(rows)]
    parents = rng.integers(-rows // 2, rows, rows)
    first, days = date(1900, 1, 1), (date(2024, 12, 31) - date(1900, 1, 1)).days
    births = [first + timedelta(days=int(d)) for d in rng.integers(0, days, rows)]
    births[:3] = [date(1960, 2, 29), date(2000, 3, 1), date(1969, 12, 31)]
    ids[5] = ids[4]  # a key twice: whoever names it feeds both rows
    return pl.DataFrame(
        {
            "id": ids,
            "household": [f"H{h}" if h % 17 else None for h in rng.integers(0, max(rows // 3, 1), rows)],
            "parent": [ids[p] if p >= 0 else (None if p % 2 else "NOBODY") for p in parents],
            "birth_date": births,
            "revenue": rng.choice([0, 550_000, 1_625_000, 1_625_001, 3_000_000, 12_000_000], rows)
            + rng.integers(0, 2, rows),
            "delta": rng.integers(-1_000, 1_000, rows),
            "disability": rng.choice(["none", "ordinary", "special", "other"], rows),
        }
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_and_polars_give_the_same_columns(seed: int) -> None:
    people = population(2_000, seed)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    polars = computation.compute(people, backend="polars")
    fast = computation.compute(people, backend="compiled")
    assert fast.columns == polars.columns
    assert fast.schema == polars.schema
    for name in polars.columns:
        assert fast[name].equals(polars[name]), name
    assert polars["status"].n_unique() == 3, "the data exercises the rules"
    assert (polars["children"] > 0).any()
    assert (polars["oldest_child"] == -1).any()
    assert 0 < polars["claimed_by"].null_count() < polars.height
    assert (polars["claimed_by"] == "NOBODY").any(), "a parent no row has, kept as given"


def test_kept_columns_only() -> None:
    people = population(500, 3)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    keep = ["id", "status", "net", "claimed_by"]
    fast = computation.compute(people, keep=keep, backend="compiled")
    assert fast.equals(computation.compute(people, keep=keep, backend="polars"))


def test_quantities_it_cannot_translate_run_in_polars_at_the_end() -> None:
    people = population(300, 4)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None
    assert [s.rule.name for s in compiled_plan.in_polars] == ["claimed_by_or_none"]
    assert compiled_plan.masked == {"claimed_by": "parent"}


def test_a_population_it_cannot_run_goes_to_polars() -> None:
    people = population(300, 5)
    computation = plan(toy, ["signed", "net"], on=ON, parameters=PARAMS, inputs=people.columns)
    with_null = people.with_columns(pl.when(pl.col("delta") > 900).then(None).otherwise(pl.col("delta")).alias("delta"))
    assert with_null["delta"].null_count() > 0
    expected = computation.compute(with_null, backend="polars")
    assert computation.compute(with_null).equals(expected), "auto: Polars, with its nulls"
    with pytest.raises(RuleError, match="コンパイル"):
        computation.compute(with_null, backend="compiled")


def test_a_division_by_zero_goes_to_polars() -> None:
    rules = RuleSet("divide")

    @rules.rule("share", label="按分", reference="test")
    def _share(s: Scope) -> pl.Expr:
        return s("amount") // s("parts")

    people = pl.DataFrame({"amount": [10, 20, 30], "parts": [3, 0, 4]})
    computation = plan(rules, ["share"], on=ON, parameters={}, inputs=people.columns)
    assert computation.compute(people)["share"].to_list() == [3, None, 7]
    with pytest.raises(RuleError):
        computation.compute(people, backend="compiled")


def test_a_formula_with_floats_is_not_compiled() -> None:
    rules = RuleSet("floats")

    @rules.rule("half", label="半分", reference="test")
    def _half(s: Scope) -> pl.Expr:
        return (s("amount") * 0.5).cast(pl.Int64)

    @rules.rule("more", label="加算", reference="test")
    def _more(s: Scope) -> pl.Expr:
        return s("half") + 1

    people = pl.DataFrame({"amount": [10, 21]})
    computation = plan(rules, ["more"], on=ON, parameters={}, inputs=people.columns)
    assert compiled.compile_plan(computation, people.schema, ["more"]) is None, "a compiled quantity reads it"
    assert computation.compute(people)["more"].to_list() == [6, 11]


def test_auto_compiles_from_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    people = population(400, 6)
    computation = plan(toy, ["net"], on=ON, parameters=PARAMS, inputs=people.columns)
    seen: list[int] = []
    original = compiled.CompiledPlan.compute

    def counting(self: compiled.CompiledPlan, frame: pl.DataFrame) -> pl.DataFrame | None:
        seen.append(frame.height)
        return original(self, frame)

    monkeypatch.setattr(compiled.CompiledPlan, "compute", counting)
    monkeypatch.setattr("kiban.core.rules.engine.COMPILE_FROM_ROWS", 300)
    computation.compute(people.head(299))
    assert seen == []
    computation.compute(people)
    assert seen == [400]


def test_the_generated_module_is_written_once_and_reused(kernel_cache: Path) -> None:
    people = population(50, 7)
    computation = plan(toy, ["signed"], on=ON, parameters=PARAMS, inputs=people.columns)
    first = compiled.compile_plan(computation, people.schema, ["signed"])
    again = plan(toy, ["signed"], on=ON, parameters=PARAMS, inputs=people.columns)
    second = compiled.compile_plan(again, people.schema, ["signed"])
    assert first is not None
    assert second is not None
    assert first.module is second.module, "the same source is the same module"
    assert len(list(kernel_cache.glob("plan_*.py"))) >= 1


def test_without_a_kernel_cache_the_plan_runs_in_polars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("KIBAN_KERNEL_CACHE", str(blocked))
    people = population(200, 8)
    parameters = {**PARAMS, "toy.base": 123_457}  # a plan never compiled in this process
    computation = plan(toy, ["net"], on=ON, parameters=parameters, inputs=people.columns)
    assert compiled.compile_plan(computation, people.schema, ["net"]) is None
    with pytest.raises(RuleError):
        computation.compute(people, keep=["net"], backend="compiled")
    assert computation.compute(people, keep=["net"]).equals(computation.compute(people, keep=["net"], backend="polars"))


@pytest.mark.parametrize("layout", ["same chunks", "columns chunked differently"])
def test_a_population_in_chunks(layout: str) -> None:
    """As a file read in row groups comes: the compiled code reads each column's chunks where they lie, or copies
    the columns whole where their chunks differ."""
    people = population(1_500, 9)
    parts = pl.concat([people.slice(0, 400), people.slice(400, 700), people.slice(1_100)], rechunk=False)
    if layout != "same chunks":
        parts = parts.with_columns(parts.get_column("revenue").rechunk())
    assert parts.get_column("delta").n_chunks() == 3
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    expected = computation.compute(people, backend="polars")
    assert computation.compute(parts, backend="compiled").equals(expected)


def test_a_plan_numba_cannot_compile_runs_in_polars() -> None:
    people = population(300, 10)
    computation = plan(toy, ["net"], on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, ["net"])
    assert compiled_plan is not None

    def cannot(*_: object) -> None:
        raise TypeError("Cannot unify int64 and unicode_type")  # as numba's TypingError says it

    object.__setattr__(compiled_plan.stages[0], "function", cannot)  # this plan's own compiled form, kept for it
    assert compiled_plan.compute(people) is None
    with pytest.raises(RuleError):
        computation.compute(people, keep=["net"], backend="compiled")
    assert computation.compute(people, keep=["net"]).equals(computation.compute(people, keep=["net"], backend="polars"))


def test_a_home_that_cannot_be_written_caches_kernels_in_the_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.write_text("a file where a directory would be")
    monkeypatch.delenv("KIBAN_KERNEL_CACHE")
    monkeypatch.setenv("HOME", str(home))
    written = compiled._written("probe = 1\n", f"probe_{os.getpid()}_{id(home)}.py")
    assert written.parent == Path(tempfile.gettempdir()) / f"kiban-kernels-{os.getuid()}"
    assert written.read_text(encoding="utf-8") == "probe = 1\n"
    written.unlink()


def test_a_division_by_a_quantity_floors_as_polars_does() -> None:
    """What divides by a quantity skips the division where the quotient is 0: signs, zero and remainders alike."""
    rules = RuleSet("divide-signed")

    @rules.rule("share", label="按分", reference="test")
    def _share(s: Scope) -> pl.Expr:
        return s("amount") // s("parts") + s("parts") // s("amount")

    values = [-7, -3, -1, 1, 2, 3, 7, 1_000_001]
    people = pl.DataFrame({"amount": [a for a in values for _ in values], "parts": [b for _ in values for b in values]})
    computation = plan(rules, ["share"], on=ON, parameters={}, inputs=people.columns)
    expected = computation.compute(people, backend="polars")
    assert computation.compute(people, backend="compiled").equals(expected)
    zero = people.with_columns(pl.col("amount").clip(lower_bound=0) * 0)
    with pytest.raises(RuleError):  # 0 // 0 too: null in Polars
        computation.compute(zero, backend="compiled")


def named(ids: list[str | None], seed: int) -> pl.DataFrame:
    """The toy population in household order, each household's members together; most name a member of their own
    household, some a person far away, nobody known, or no one."""
    people = population(len(ids), seed).drop("household", "parent")
    rng = np.random.default_rng(seed)
    households = np.cumsum(rng.random(len(ids)) < 0.4)
    parents: list[str | None] = []
    for household in households:
        members = np.flatnonzero(households == household)
        draw = rng.random()
        if draw < 0.55:
            parents.append(ids[int(rng.choice(members))])
        elif draw < 0.65:
            parents.append(ids[int(rng.integers(0, len(ids)))])
        else:
            parents.append(None if draw < 0.95 else "ghost")
    return people.with_columns(
        pl.Series("id", ids), pl.Series("household", [f"H{h:06d}" for h in households]), pl.Series("parent", parents)
    )


@pytest.mark.parametrize(
    "case",
    [
        "unique short ids",
        "an id twice",
        "ids over 12 bytes",
        "an empty id and a null one",
        "rows in chunks",
        "rows not in household order",
    ],
)
def test_who_names_whom_is_found_exactly(case: str) -> None:
    """The compiled join of short texts (``_join``) gives the pairs Polars' join gives: a member of one's own
    household or anyone far away, every row of a repeated id, nothing for a null; longer texts go to Polars' join."""
    rows = 40_000 if case == "rows not in household order" else 3_000
    width = 14 if case == "ids over 12 bytes" else 8
    ids: list[str | None] = [f"{i:0{width}d}" for i in range(rows)]
    if case == "an id twice":
        ids[1_500] = ids[20]
    if case == "an empty id and a null one":
        ids[7], ids[8] = None, ""
    people = named(ids, seed=len(case))
    named_anew: dict[str, dict[int, str | None]] = {
        "an id twice": {21: ids[20], 1_501: ids[20]},
        "an empty id and a null one": {9: "", 30: ""},
    }
    for row, value in named_anew.get(case, {}).items():  # next to the row they name, and far from the other
        people = people.with_columns(
            pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise("parent").alias("parent")
        )
    if case == "rows not in household order":
        people = people.sample(fraction=1.0, shuffle=True, seed=1)
    if case == "rows in chunks":
        people = pl.concat([people.slice(0, 1_001), people.slice(1_001, 999), people.slice(2_000)], rechunk=False)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None
    named_rows, ids_column = people.get_column("parent"), people.get_column("id")
    joined = compiled_plan._joined(named_rows, ids_column, LENT) is not None
    assert joined == (case not in ("ids over 12 bytes", "rows not in household order")), "else joined by Polars"
    expected = computation.compute(people, backend="polars")
    assert (expected["child_count"] > 0).sum() > rows // 4, "the data exercises the join"
    assert computation.compute(people, backend="compiled").equals(expected)


def test_short_texts_are_compared_up_to_their_length() -> None:
    """The bytes of a view past its text's length are not part of it (``_text``), and the length is: each text
    twice, with zeros and with other bytes after it, is one run of equal texts (``_groups``)."""
    people = population(300, 10)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None

    def view(text: bytes, garbage: int) -> list[int]:
        inline = (text + bytes([garbage]) * 12)[:12]
        words = np.frombuffer(len(text).to_bytes(4, "little") + inline, np.uint64)
        return [int(w) for w in words]

    texts = sorted(t.encode() for t in ["", "a", "abc", "abcd", "abcde", "abcdefghijk", "abcdefghijkl", "均等割"])
    views = np.array([view(t, g) for t in texts for g in (0, 0x5A)], dtype=np.uint64)
    slots, size, grouped = compiled_plan.module._groups(views, np.empty(len(views), np.int64))
    assert grouped
    assert slots.tolist() == [i for i in range(len(texts)) for _ in (0, 0x5A)]
    assert size == len(texts)
    longer = views.copy()
    longer[-1, 0] = (longer[-1, 0] & ~np.uint64(0xFFFFFFFF)) | np.uint64(13)  # a length of 13: not within its view
    assert not compiled_plan.module._groups(longer, np.empty(len(longer), np.int64))[2]
    # coded against literals by the bits each literal covers (``_words``), whatever lies past the text
    literals = ["abcd", "", "abcdefghijkl", "abc", "均等割"]
    words = np.array([compiled._words(text) for text in literals], np.uint64)
    codes = np.empty(len(views), np.int64)
    compiled_plan.module._codes(views, words, codes)
    named = [text.decode() for text in texts for _ in (0, 0x5A)]
    assert codes.tolist() == [literals.index(text) if text in literals else -1 for text in named]
    compiled_plan.module._codes(longer, words, codes)
    assert codes[-1] == -1, "a text longer than its view is none of the literals"


TEXTS = RuleSet("texts")


@TEXTS.rule("kind", label="区分", reference="test")
def _kind(s: Scope) -> pl.Expr:
    status = s("status")
    return (
        pl.when(status == "非課税")
        .then(1)
        .when(status == "均等割のみ課税")  # 21 bytes: not within a view, so the column is coded by Polars
        .then(2)
        .when(status == "")
        .then(3)
        .otherwise(0)
    )


@TEXTS.rule("short_kind", label="短い区分", reference="test")
def _short_kind(s: Scope) -> pl.Expr:
    note = s("note")
    twelve = "要確認ab1"  # 12 bytes: the longest a view holds whole
    return pl.when(note == "要確認").then(1).when(note == "ab").then(2).when(note == twelve).then(3).otherwise(0)


def test_text_compared_with_literals_short_long_and_japanese() -> None:
    values = [
        "非課税",
        "均等割のみ課税",
        "",
        "課税",
        "非課税 ",
        "ab",
        "abc",
        "要確認",
        "要確認の世帯（長い）",
        "要確認ab1",
        "要確認ab12",
    ]
    people = pl.DataFrame({"status": values * 30_000, "note": values[::-1] * 30_000})
    computation = plan(TEXTS, ["kind", "short_kind"], on=ON, parameters={}, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None
    expected = computation.compute(people, backend="polars")
    assert computation.compute(people, backend="compiled").equals(expected)
    chunked = pl.concat([people[:100_001], people[100_001:]], rechunk=False)
    assert chunked["note"].n_chunks() == 2
    assert computation.compute(chunked, backend="compiled").equals(expected), "coded chunk by chunk"
    assert set(expected["kind"]) == {0, 1, 2, 3}
    assert set(expected["short_kind"]) == {0, 1, 2, 3}


@pytest.mark.parametrize("views", [True, False], ids=["from views", "by Polars"])
def test_a_text_column_is_coded_by_its_literals_either_way(monkeypatch: pytest.MonkeyPatch, views: bool) -> None:
    """Codes of a text column, from its views or (a literal over 12 bytes, or no views) by Polars: the literal's
    number, −1 for any other text, all −1 when no literal is compared with it (a column with nulls never runs
    compiled)."""
    people = population(300, 16)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None
    if not views:
        monkeypatch.setattr(compiled, "_chunk_views", lambda column: None)
    column = pl.Series("status", ["課税", "非課税", "均等割のみ課税", "", "課税"])
    long = {"課税": 0, "均等割のみ課税": 1}  # 21 bytes: by Polars whatever the views
    assert compiled_plan._codes(column, long, LENT).tolist() == [0, -1, 1, -1, 0]
    assert compiled_plan._codes(column, {"": 0, "非課税": 1}, LENT).tolist() == [-1, 1, -1, 0, -1]
    assert compiled_plan._codes(column, {}, LENT).tolist() == [-1] * 5


@pytest.mark.parametrize(
    "texts",
    [
        ["", "", "a", "a", "ab", "ab\x00", "abc", "b", "世帯0001", "世帯0001", "世帯0002", "世帯00020"],
        ["H000002", "H000002", "H000010", "H000100"],
        ["H2", "H10"],  # equal values together, but not in order: Polars groups them
        ["a", "b", "a"],
        ["a" * 12, "a" * 13],  # longer than a view holds
    ],
)
def test_a_household_key_is_grouped_as_polars_groups_it(texts: list[str]) -> None:
    people = population(300, 11)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=people.columns)
    compiled_plan = compiled.compile_plan(computation, people.schema, people.columns)
    assert compiled_plan is not None
    column = pl.Series("household", texts)
    views = compiled._views(column, LENT)
    assert views is not None
    slots, size, grouped = compiled_plan.module._groups(views, np.empty(len(views), np.int64))
    assert grouped == (column.is_sorted() and all(len(t.encode()) <= 12 for t in texts))
    if grouped:
        assert slots.tolist() == column.rle_id().to_list()
        assert size == column.n_unique()


def test_booleans_are_read_from_their_bits_wherever_a_chunk_starts() -> None:
    """``_array`` unpacks a boolean chunk from its Arrow bits: a chunk starting inside a byte, an empty one, and one
    with more rows than a byte holds give what Polars gives."""
    values = pl.Series("flag", [bool(v) for v in np.random.default_rng(4).integers(0, 2, 1_000)])
    parts = pl.concat([values.slice(0, 3), values.slice(3, 0), values.slice(3, 13), values.slice(16)], rechunk=False)
    chunks = parts.get_chunks()
    assert [len(c) for c in chunks if len(c)] == [3, 13, 984]
    for chunk in chunks:
        assert compiled._array(chunk).tolist() == chunk.to_list()
    assert compiled._array(values.slice(5, 11)).tolist() == values.slice(5, 11).to_list()


def test_a_runs_results_are_its_own_and_its_intermediates_are_lent_again() -> None:
    """Intermediate columns are borrowed from the scratch and given back (the next run writes over them); what a
    run returns never lies there, so an earlier run's results stay as they were."""
    first, second = population(3_000, 11), population(3_000, 12)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=first.columns)
    earlier = computation.compute(first, backend="compiled")
    expected = earlier.clone()
    later = computation.compute(second, backend="compiled")
    assert earlier.equals(expected), "the second run wrote nowhere the first run's results lie"
    assert later.equals(computation.compute(second, backend="polars"))
    compiled_plan = compiled.compile_plan(computation, first.schema, [*first.columns, *TARGETS])
    assert compiled_plan is not None
    memory = compiled._Memory(frozenset(compiled_plan.keep))
    result = compiled_plan._run(second, memory)
    assert result is not None
    assert memory.lent, "intermediates were borrowed"
    returned = [result[name].to_numpy() for name in ("signed", "rounded_up", "net")]
    assert not any(np.shares_memory(column, buffer) for column in returned for buffer in memory.lent)
    memory.give_back()


def test_a_runs_results_memory_is_written_again_only_once_nothing_refers_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A returned column's memory serves a later run once the frame it went into is gone, and not while anything
    taken from that frame (a column) still refers to it."""
    recycled = compiled._Recycled()
    monkeypatch.setattr(compiled, "_RECYCLED", recycled)
    first, second = population(3_000, 14), population(3_000, 15)
    computation = plan(toy, TARGETS, on=ON, parameters=PARAMS, inputs=first.columns)
    earlier = computation.compute(first, backend="compiled")
    allocations = len(recycled._allocations)
    assert allocations >= len(TARGETS) - 1, "the returned columns (one may be an input's own)"
    kept = earlier["net"]
    expected = kept.clone()
    del earlier
    later = computation.compute(second, backend="compiled")
    assert kept.equals(expected), "a column still held is not written over"
    assert len(recycled._allocations) == allocations + 1, "only the held column's memory is allocated anew"
    assert later.equals(computation.compute(second, backend="polars"))


def test_returned_memory_goes_to_the_smallest_unused_allocation_and_the_unused_beyond_the_largest_run_are_let_go() -> (
    None
):
    recycled = compiled._Recycled()
    small, large = recycled.take(1_000, np.uint8), recycled.take(100_000, np.int64)
    small_address, large_address = small.ctypes.data, large.ctypes.data
    del small, large
    assert recycled.take(800, np.uint8).ctypes.data == small_address, "the smallest that fits (then let go)"
    held = recycled.take(5_000, np.int64)
    assert held.ctypes.data == large_address
    assert recycled.take(8, np.int64).ctypes.data == small_address
    recycled.trim(0)
    assert [a.capacity for a in recycled._allocations] == [100_000], "only the one in use is kept"
    del held
    recycled.trim(100_000)
    assert len(recycled._allocations) == 1, "unused, within what a run returned"
    recycled.trim(8)
    assert len(recycled._allocations) == 1, "a smaller run after it lets go of nothing the largest needs"
    recycled.take(200_000, np.uint8)
    recycled.trim(8)
    assert [a.capacity for a in recycled._allocations] == [100_000], "beyond the largest run, let go"


def test_the_scratch_lends_the_smallest_buffer_that_fits_and_lets_go_of_those_too_small() -> None:
    scratch = compiled._Scratch()
    small, large = scratch.take(1_000), scratch.take(100_000)
    assert small.nbytes >= 1_000
    assert large.nbytes >= 100_000
    scratch.give([large, small])
    assert scratch.take(500) is small
    assert scratch.take(50_000) is large
    scratch.give([small])
    bigger = scratch.take(200_000)  # nothing fits: a new buffer, and the one too small is let go
    assert bigger.nbytes >= 200_000
    assert bigger is not small
    scratch.give([bigger])
    assert scratch.take(1_000) is bigger


def test_large_arrays_start_on_a_huge_page() -> None:
    array = compiled._aligned(1_000_000, np.int64)
    assert array.ctypes.data % compiled._HUGE_PAGE == 0
    assert array.shape == (1_000_000,)
    assert array.dtype == np.int64
    assert pl.Series(array).to_numpy().ctypes.data == array.ctypes.data, "Polars takes it without copying"


def test_a_run_that_stops_early_gives_back_its_memory_once_its_gathering_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run stopped by a division by zero in its first stage leaves who feeds whom being found on another thread,
    writing into memory the run borrowed: the memory goes back to the scratch (and to the next run) only after."""
    rules = RuleSet("divide-and-gather")

    @rules.rule("share", label="按分", reference="test")
    def _share(s: Scope) -> pl.Expr:
        return s("amount") // s("parts")

    rules.aggregate("shares", Aggregate("share", by="parent", key="id"), label="合計", reference="test")
    people = population(2_000, 13).with_columns(
        amount=pl.int_range(pl.len()),
        parts=pl.int_range(pl.len()) % 7,  # a division by zero on every 7th row
    )
    computation = plan(rules, ["shares"], on=ON, parameters={}, inputs=people.columns)
    original = compiled.CompiledPlan._gathering
    finished: list[bool] = []

    def slow(self: compiled.CompiledPlan, *args: object) -> object:
        time.sleep(0.3)
        gathering = original(self, *args)  # type: ignore[arg-type]
        finished.append(True)
        return gathering

    given: list[bool] = []
    give = compiled._SCRATCH.give

    def giving(buffers: list[np.ndarray]) -> None:
        given.append(bool(finished))
        give(buffers)

    monkeypatch.setattr(compiled.CompiledPlan, "_gathering", slow)
    monkeypatch.setattr(compiled._SCRATCH, "give", giving)
    with pytest.raises(RuleError):
        computation.compute(people, backend="compiled")
    assert given == [True], "given back once, after the gathering had finished"
