"""個人住民税 assessment of synthetic populations, and the comparison with OpenFisca-Japan:

    ../.venv/bin/python resident_tax.py [persons] [--partition 1000000] [--compare 100000] [--repeat 5]
                                        [--fiscal-year 2025]

**Assessment.** ``persons`` residents (default 1,000,000) in municipality partitions of ``--partition`` persons (a
population-wide run is one ``assess`` per municipality): partition *i* is ``generate(PARTITIONS[i], partition,
seed=1, as_of=date(fiscal_year, 1, 1))`` (the residents on the 賦課期日), then timed apart: input preparation
(``from_synthetic``: who claims whom, defaults and types) and the assessment (``assess`` with the national
parameters for the municipality's 級地), ``--repeat`` times each, the median kept. Generation is not timed (see
``synth_population.py``). Peak memory is the high-water mark of resident memory from the start of the preparation to
the end of the assessment of a partition (``VmHWM`` after resetting it through ``/proc/self/clear_refs``), so the
population frame being assessed is counted but not the generator's own peak; the largest over the partitions.

**Comparison** (``--compare N``, 0 to skip). A population of N persons of 131016 (千代田区, 1級地, not a designated
city) is assessed by both engines on the same households, both files in household order and written alike
(``INPUT_COMPRESSION``): Kiban reads its inputs from Parquet and assesses; OpenFisca-Japan (in ``.venv-openfisca``,
``openfisca_resident_tax.py``) reads the same persons from Parquet, mapped to its own variables, builds its simulation
and computes 住民税 and 住民税非課税世帯. Both rates include reading the file. Kiban runs twice each time: the whole
assessment (``assess``, every stored result) and only what OpenFisca computes here (``SAME_AS_OPENFISCA``: 住民税 per
person and 住民税非課税世帯, with everything they need; the same values). The engines run ``--repeat`` times,
alternately (Kiban, Kiban, OpenFisca, …: the machine's state is shared; the two Kiban runs take turns to come first,
as the first after OpenFisca's run finds the memory it had freed given back to the system and faults it in again), and
the medians are reported, with the ratio of each pair. Every Kiban run must give the same results to the yen (checked
against the first as it comes, then freed, as a batch frees each partition's results once written). Then the
agreement, on the households both model (see ``comparable_households``), is printed; the mapping and every difference
are explained in ``docs/tax_differences.md``.

**First run.** Populations this size run compiled (``kiban.core.rules.compiled``): the first ``assess`` in the
process imports numba and loads the compiled plan from the kernel cache, or compiles it where the cache lacks it (once
per plan and parameter values). It is run and timed apart, not counted, as OpenFisca's building of its tax-benefit
system is not. The comparison also runs the same plan once in Polars (``backend="polars"``) and checks that it gives
the same results to the yen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Final

import openfisca_venv
import polars as pl
from measure import Measurement, peak_mb, report, reset_peak

from kiban.core.params.catalogue import ParamValue
from kiban.registry.synth import generate
from kiban.registry.synth.addresses import bodies_by_code
from kiban.tax.assessment import assess, assessment_plan, national_parameters, with_defaults
from kiban.tax.inputs import DESIGNATED_CITY_KINDS, SPOUSE, from_synthetic

PARTITIONS = (
    "011002",  # 札幌市 (designated city, 1級地)
    "041009",  # 仙台市
    "131016",  # 千代田区 (special ward)
    "141003",  # 横浜市
    "151009",  # 新潟市 (2級地)
    "231002",  # 名古屋市
    "271004",  # 大阪市
    "342076",  # 福山市 (city)
    "401307",  # 福岡市
    "472018",  # 那覇市 (city, 2級地)
)
COMPARE_LG_CODE = "131016"
HERE = Path(__file__).resolve().parent


# --- assessment --------------------------------------------------------------------------------------------------


@dataclass
class Totals:
    persons: int = 0
    prepare: float = 0.0
    assess: float = 0.0
    assess_cpu: float = 0.0
    peak_mb: float = 0.0
    annual_tax: int = 0


def levy_date(fiscal_year: int) -> date:
    """The 賦課期日 (地方税法第318条): the population assessed is that registered on 1 January of the 年度."""
    return date(fiscal_year, 1, 1)


def municipality(lg_code: str) -> tuple[bool, int]:
    """Whether the municipality levies at the designated-city rates, and its 級地 (3 where none is listed)."""
    body = bodies_by_code()[lg_code]
    return body.kind in DESIGNATED_CITY_KINDS, body.kyuchi or 3


def assess_partition(lg_code: str, persons: int, fiscal_year: int, repeat: int, totals: Totals) -> None:
    designated, kyuchi = municipality(lg_code)
    parameters = national_parameters(fiscal_year, kyuchi)
    run = partial(assess, fiscal_year=fiscal_year, parameters=parameters)
    population = generate(lg_code, persons, seed=1, as_of=levy_date(fiscal_year))
    first = first_run(lambda: run(from_synthetic(population.persons, designated_city=designated)))
    prepares, assessments, cpus = [], [], []
    first_result: pl.DataFrame | None = None
    for _ in range(repeat):
        reset_peak()
        started = time.perf_counter()
        inputs = from_synthetic(population.persons, designated_city=designated)
        prepared, cpu = time.perf_counter(), time.process_time()
        result = run(inputs)
        assessments.append(time.perf_counter() - prepared)
        cpus.append(time.process_time() - cpu)
        prepares.append(prepared - started)
        totals.peak_mb = max(totals.peak_mb, peak_mb())
        first_result = result if first_result is None else first_result
        assert result.equals(first_result), "every run gives the same results"
        del inputs, result  # as a batch frees a partition's results once written
    assert first_result is not None
    assert first_result.height == persons
    prepare, seconds = statistics.median(prepares), statistics.median(assessments)
    totals.persons += persons
    totals.prepare += prepare
    totals.assess += seconds
    totals.assess_cpu += statistics.median(cpus)
    totals.annual_tax += int(first_result["annual_tax"].sum())
    print(
        f"  {lg_code}: first run {first:.2f} s (not counted); prepare {prepare:.2f} s, assess {seconds:.2f} s "
        f"(median of {repeat}: "
        f"{', '.join(f'{a:.2f}' for a in assessments)}), {persons / seconds:,.0f} persons/s",
        file=sys.stderr,
    )


def run_assessment(persons: int, partition: int, fiscal_year: int, repeat: int) -> None:
    parts = -(-persons // partition)
    if parts > len(PARTITIONS):
        raise SystemExit(f"at most {len(PARTITIONS)} partitions ({persons:,} / {partition:,})")
    totals = Totals()
    for i in range(parts):
        assess_partition(PARTITIONS[i], min(partition, persons - i * partition), fiscal_year, repeat, totals)
    codes = PARTITIONS[0] if parts == 1 else f"{parts} partitions of {partition:,} ({PARTITIONS[0]}…)"
    size = f"{totals.persons:,} persons, {codes}, FY{fiscal_year}"
    rate = lambda s: f"{totals.persons / s:,.0f} persons/s"  # noqa: E731
    report("resident tax: assess", size, Measurement(totals.assess, totals.peak_mb), rate)
    both = Measurement(totals.prepare + totals.assess, totals.peak_mb)
    report("resident tax: prepare inputs + assess", size, both, rate)
    print(
        f"  annual tax (all partitions): {totals.annual_tax:,} yen; assess CPU time (all threads, medians) "
        f"{totals.assess_cpu:.2f} s",
        file=sys.stderr,
    )


# --- comparison with OpenFisca-Japan --------------------------------------------------------------------------------

ROLE_PARENT = ("世帯主", *SPOUSE)
"""OpenFisca-Japan's 世帯 roles: 親 (at most two: the head and the spouse), 子 (the head's children) and 祖父母 (its
"other individuals living in the 世帯": parents, grandchildren, siblings, …)."""


def openfisca_inputs(persons: pl.DataFrame, inputs: pl.DataFrame, kyuchi: int) -> pl.DataFrame:
    """The same persons as OpenFisca-Japan variables, grouped by household with the head first (see
    ``docs/tax_differences.md`` for the mapping)."""
    business = pl.col("business_income")
    self_employed = business != 0
    disability = pl.col("disability").replace_strict(
        {"none": "無", "ordinary": "三級", "special": "一級"}, return_dtype=pl.Utf8
    )
    relationship = pl.col("relationship")
    role = (
        pl.when(relationship.is_in(ROLE_PARENT))
        .then(pl.lit("親"))
        .when(relationship == "子")
        .then(pl.lit("子"))
        .otherwise(pl.lit("祖父母"))
    )
    return (
        inputs.join(persons.select("person_no", "relationship"), on="person_no", how="left")
        .with_columns((relationship != "世帯主").alias("_not_head"))
        .sort("household_no", "_not_head", "person_no")
        .select(
            "person_no",
            "household_no",
            pl.col("household_no").rank("dense").cast(pl.Int64).sub(1).alias("household"),
            role.alias("role"),
            pl.col("birth_date").alias("誕生年月日"),
            # one 収入 per person: 給与収入, or for a 個人事業主 (必要経費 > 0) 収入 − 必要経費 = 事業所得
            pl.when(self_employed)
            .then(business.clip(lower_bound=0) + 1)
            .otherwise(pl.col("salary_revenue"))
            .cast(pl.Float64)
            .alias("収入"),
            pl.when(self_employed)
            .then(pl.when(business > 0).then(1).otherwise(-business))
            .otherwise(0)
            .cast(pl.Float64)
            .alias("個人事業主の必要経費"),
            pl.col("working_student").alias("学生"),
            pl.col("widow").alias("寡婦"),
            disability.alias("身体障害者手帳等級"),
            pl.lit(False).alias("介護施設入所中"),
            pl.lit(0.0).alias("社会保険料控除"),
            pl.lit(kyuchi, dtype=pl.Int64).alias("居住級地区分1"),
        )
    )


@dataclass
class Run:
    seconds: float
    peak_mb: float
    cpu: float
    """CPU time of the process (all threads): less sensitive than wall time to other jobs on the machine."""
    read: float = 0.0
    """Of ``seconds``, reading the input file (Kiban; OpenFisca's is inside its ``load``)."""


def run_openfisca(source: Path, prefix: Path, fiscal_year: int) -> tuple[Run, dict[str, float]]:
    python = openfisca_venv.ensure()
    # OpenFisca-Japan computes on a DAY of the income year (ages of dependants on its 31 December)
    period = f"{fiscal_year - 1}-12-31"
    script = HERE / "openfisca_resident_tax.py"
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [str(python), str(script), str(source), str(prefix), period], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    timings: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    timings["wall"] = wall
    run = Run(timings["load"] + timings["compute"], timings["peak_rss_mb"], timings["cpu"])
    return run, timings


def comparable_households() -> pl.Expr:
    """Households both engines model alike (a boolean per person, the same for every member): no 公的年金等 (OpenFisca
    has no pension income), nobody with both 給与 and 事業 income (one 収入 per person), no 同居人/縁故者 (OpenFisca
    counts every member but the two 親 as a dependant), no 生活保護 (no effect on its 住民税), the head has the
    highest 所得 (OpenFisca's claimant of every deduction), and OpenFisca's ひとり親 (one 親 and a 子) is ours."""
    h = pl.col("household_no")
    member_ok = (
        (pl.col("pension_revenue") == 0)
        & ~((pl.col("salary_revenue") > 0) & (pl.col("business_income") != 0))
        & ~pl.col("relationship").is_in(("同居人", "縁故者"))
        & ~pl.col("welfare_recipient")
    )
    head = pl.col("relationship") == "世帯主"
    head_income = pl.col("of_所得").filter(head).first().over(h)
    top = pl.col("of_所得").max().over(h) <= head_income
    parents = (pl.col("role") == "親").sum().over(h)
    children = (pl.col("role") == "子").sum().over(h)
    of_single_parent = (parents == 1) & (children >= 1)
    our_single_parent = pl.col("single_parent").filter(head).first().over(h)
    return member_ok.all().over(h) & top & (of_single_parent == our_single_parent)


def share(part: int, whole: int) -> str:
    return f"{part:,} / {whole:,} ({100 * part / whole:.2f} %)" if whole else "0 / 0"


def agreement(frame: pl.DataFrame, households: pl.DataFrame) -> None:
    """Print the agreement of the two engines (persons: 所得, 所得割, 住民税; households: 住民税非課税世帯)."""
    comparable = frame.filter(pl.col("comparable"))
    n, h = frame.height, frame["household_no"].n_unique()
    counted = share(comparable["household_no"].n_unique(), h)
    print(f"\nComparable households: {counted}; persons {share(comparable.height, n)}")
    for label, part in (("all persons", frame), ("comparable households", comparable)):
        diff_income = (part["total_income"] - part["of_所得"]).abs()
        levy_diff = (part["income_levy"] - part["of_住民税所得割"]).abs()
        print(f"\n[{label}] persons {part.height:,}")
        print(f"  所得 (ours total_income vs 所得): exact {share(int((diff_income < 0.5).sum()), part.height)}")
        print(f"  所得割: exact {share(int((levy_diff < 0.5).sum()), part.height)}")
        print(f"  所得割: within 100 yen {share(int((levy_diff <= 100).sum()), part.height)}")
        print(f"  所得割: within 1,000 yen {share(int((levy_diff <= 1000).sum()), part.height)}")
        levied = (part["income_levy"] > 0) | (part["of_住民税所得割"] > 0)
        exact_levied = int(((levy_diff < 0.5) & levied).sum())
        near_levied = int(((levy_diff < 300) & levied).sum())
        print(f"  所得割 > 0 in either engine: exact {share(exact_levied, int(levied.sum()))}")
        print(f"  所得割 > 0 in either engine: within 300 yen {share(near_levied, int(levied.sum()))}")
        ours, theirs = int(part["income_levy"].sum()), float(part["of_住民税所得割"].sum())
        print(f"  所得割 totals: Kiban {ours:,} yen, OpenFisca {theirs:,.0f} yen ({100 * (theirs / ours - 1):+.3f} %)")
        taxed = part.filter(pl.col("tax_status") != "exempt")
        annual_diff = (taxed["annual_tax"] - taxed["of_住民税"]).abs()
        print(f"  住民税 of persons we tax: exact {share(int((annual_diff < 0.5).sum()), taxed.height)}")
        exempt = part.filter(pl.col("tax_status") == "exempt")
        charged = int((exempt["of_住民税"] > 0).sum())
        print(f"  persons we exempt (非課税) whom OpenFisca charges: {share(charged, exempt.height)}")
        ours_t, theirs_t = int(part["annual_tax"].sum()), float(part["of_住民税"].sum())
        print(f"  住民税 totals: Kiban {ours_t:,} yen, OpenFisca {theirs_t:,.0f} yen")
    for label, part in (("all households", households), ("comparable households", households.filter("comparable"))):
        table = (
            part.group_by("household_exempt", "of_住民税非課税世帯")
            .len()
            .sort("household_exempt", "of_住民税非課税世帯")
        )
        same = int(part.filter(pl.col("household_exempt") == pl.col("of_住民税非課税世帯")).height)
        print(f"\n[{label}] 住民税非課税世帯 agreement {share(same, part.height)}")
        for row in table.iter_rows(named=True):
            print(f"  ours {row['household_exempt']!s:5} OpenFisca {row['of_住民税非課税世帯']!s:5}: {row['len']:,}")


ROUNDING = "rounding only (課税標準 1,000円・税額 100円未満切捨て; float32)"


def disagreements(frame: pl.DataFrame, households: pl.DataFrame) -> None:
    """Attribute each difference on the comparable households to the first difference of definitions that explains
    it (see docs/tax_differences.md)."""
    levy_diff = pl.col("income_levy") - pl.col("of_住民税所得割")
    our_adjustment = pl.col("adjustment_credit_municipal") + pl.col("adjustment_credit_prefectural")
    minimum = (pl.col("adjustment_credit_base") == 50_000) & (pl.col("taxable_income") > 2_000_000)
    other_income_differs = ((pl.col("total_income") - pl.col("of_所得")).abs() >= 0.5).any().over("household")
    deductions_differ = (pl.col("total_deductions") - pl.col("of_住民税所得控除")).abs() >= 0.5
    birth = pl.col("birth_date")
    born_on_new_year = ((birth.dt.month() == 1) & (birth.dt.day() == 1)).any().over("household")
    elderly = pl.col("is_dependant") & (pl.col("age_at_year_end") >= 70) & ~pl.col("parent_of_claimant")
    elderly_not_parent = elderly.any().over("household")
    after_credits = pl.col("income_levy_after_credits_municipal") + pl.col("income_levy_after_credits_prefectural")
    before_flat = pl.col("income_levy_before_flat_reduction_municipal") + pl.col(
        "income_levy_before_flat_reduction_prefectural"
    )
    reduced = ~pl.col("income_levy_exempt") & (before_flat < after_credits)
    cause = (
        pl.when(levy_diff.abs() < 0.5)
        .then(pl.lit("agree"))
        .when(pl.col("income_levy_exempt") & (pl.col("of_住民税所得割") > 0))
        .then(pl.lit("所得割の非課税限度額 (地方税法附則第3条の3) not modelled"))
        .when(reduced)
        .then(pl.lit("所得割の減額 just above the 非課税限度額 (附則第3条の3第2項・第5項) not modelled"))
        .when(pl.col("income_adjustment_children") > 0)
        .then(pl.lit("所得金額調整控除 (給与850万円超, 子・特別障害者; 措置法第41条の3の11) not modelled"))
        .when((pl.col("total_income") - pl.col("of_所得")).abs() >= 0.5)
        .then(pl.lit("給与所得: 別表第五 (所得税法第28条第4項) vs formula"))
        .when(((pl.col("total_deductions") - pl.col("of_住民税所得控除")).abs() >= 0.5) & other_income_differs)
        .then(pl.lit("配偶者特別控除 step from the spouse's 給与所得 (別表第五)"))
        .when(deductions_differ & born_on_new_year)
        .then(pl.lit("扶養 age class of a relative born on 1 January (legal vs calendar age)"))
        .when(deductions_differ & elderly_not_parent)
        .then(pl.lit("同居老親等: a 70+ relative who is not the head's 父母 (45万 vs 38万)"))
        .when(deductions_differ)
        .then(pl.lit("所得控除 differ"))
        .when((pl.col("relationship") != "世帯主") & (pl.col("of_住民税所得割") > 0))
        .then(pl.lit("not the top earner: no 調整控除 in OpenFisca"))
        .when(((our_adjustment - pl.col("of_調整控除")).abs() >= 0.5) & minimum)
        .then(pl.lit("調整控除 minimum 5万円 × 5% (第314条の6第1号ロ)"))
        .when((our_adjustment - pl.col("of_調整控除")).abs() >= 0.5)
        .then(pl.lit("調整控除 on household sums (all members' 所得控除 and 人的控除額の差)"))
        .when(levy_diff.abs() < 300)
        .then(pl.lit(ROUNDING))
        .otherwise(pl.lit("other"))
    )
    comparable = frame.filter("comparable").with_columns(cause.alias("cause"))
    table = comparable.group_by("cause").agg(
        pl.len().alias("n"), levy_diff.mean().alias("mean"), levy_diff.sum().alias("sum")
    )
    coincide = comparable.filter(pl.col("cause").is_in(("agree", ROUNDING, "other")))
    exact = int((coincide["cause"] == "agree").sum())
    rounding = int((coincide["cause"] != "other").sum())
    print(
        f"\n所得割 where the definitions coincide (no cause below applies): {coincide.height:,} persons, exact "
        f"{share(exact, coincide.height)}, within the law's rounding (< 300 yen) {share(rounding, coincide.height)}"
    )
    print("所得割 differences on comparable households (persons), by first explaining cause:")
    for row in table.filter(pl.col("cause") != "agree").sort("n", descending=True).iter_rows(named=True):
        amounts = f"mean {row['mean']:>10,.1f}  sum {row['sum']:>14,.0f} yen"
        print(f"  {row['n']:>8,}  {amounts} (Kiban − OpenFisca)  {row['cause']}")

    deductions = frame.filter(
        pl.col("comparable")
        & ((pl.col("total_income") - pl.col("of_所得")).abs() < 0.5)
        & ((pl.col("total_deductions") - pl.col("of_住民税所得控除")).abs() >= 0.5)
    )
    print("\n所得控除 differences (comparable, same 所得), Kiban − OpenFisca → persons (taxable of them):")
    by_amount = deductions.group_by((pl.col("total_deductions") - pl.col("of_住民税所得控除")).alias("diff")).agg(
        pl.len().alias("n"), (pl.col("taxable_income") > 0).sum().alias("taxable")
    )
    for row in by_amount.sort("n", descending=True).head(12).iter_rows(named=True):
        print(f"  {row['diff']:>12,.0f} yen: {row['n']:>7,} ({row['taxable']:,})")

    head = pl.col("relationship") == "世帯主"
    members = frame.group_by("household").agg(
        (pl.col("exempt_special_person") & (pl.col("total_income") > pl.col("per_capita_exemption_limit")))
        .any()
        .alias("special"),
        (~head & ~pl.col("exempt")).any().alias("other_member_liable"),
        (head & ~pl.col("exempt")).any().alias("head_liable"),
        (head & ((pl.col("total_income") - pl.col("of_所得")).abs() >= 0.5)).any().alias("head_income_differs"),
    )
    odd = households.filter(pl.col("comparable") & (pl.col("household_exempt") != pl.col("of_住民税非課税世帯")))
    odd = odd.join(members, on="household", how="left")
    ours = pl.col("household_exempt")
    reason = (
        pl.when(ours & pl.col("special"))
        .then(pl.lit("ours only: a member 非課税 as 障害者・未成年者・寡婦・ひとり親 (第295条第1項第2号)"))
        .when(~ours & pl.col("other_member_liable"))
        .then(pl.lit("OpenFisca only: it tests the top earner alone; another member is liable under their own limit"))
        .when(~ours & pl.col("head_liable") & ~pl.col("head_income_differs"))
        .then(pl.lit("OpenFisca only: its limit counts every member (世帯人数), not 本人+同一生計配偶者+扶養親族"))
        .when(pl.col("head_income_differs"))
        .then(pl.lit("the head's 給与所得 (別表第五 vs formula) falls on the other side of the limit"))
        .otherwise(pl.lit("other"))
    )
    print("\n住民税非課税世帯 differences on comparable households, by cause:")
    for row in odd.group_by(reason.alias("reason")).len().sort("len", descending=True).iter_rows(named=True):
        print(f"  {row['len']:>8,}  {row['reason']}")


def first_run(run: Callable[[], object]) -> float:
    """The first run in the process, not counted: it imports numba and loads the compiled plan from the kernel cache
    (``kiban.core.rules.compiled``), or compiles it where the cache has none (once per plan and parameter values),
    as OpenFisca's building of its tax-benefit system is not counted either."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


INPUT_COMPRESSION: Final = "lz4"
"""Both input files are written with LZ4, Parquet's codec fastest to read (a 1M-person file: 20 MB, read in 0.04 s;
with zstd, Polars' default: 14 MB, 0.07 s), as a batch's partition files would be."""

SAME_AS_OPENFISCA = ["annual_tax", "household_exempt"]
"""What OpenFisca-Japan computes in the comparison: 住民税 per person and 住民税非課税世帯."""


def run_kiban(
    path: Path, fiscal_year: int, parameters: Mapping[str, ParamValue], targets: list[str] | None = None
) -> tuple[Run, pl.DataFrame]:
    """Kiban's rate as the comparison counts it: reading its inputs from Parquet, then the assessment (``assess``:
    every stored result; with ``targets``, only those and what they need)."""
    reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    population = pl.read_parquet(path)
    read = time.perf_counter() - started
    if targets is None:
        result = assess(population, fiscal_year=fiscal_year, parameters=parameters)
    else:
        keep = ["person_no", "household_no", *targets]
        result = assessment_plan(fiscal_year, parameters, targets).compute(with_defaults(population), keep=keep)
    return Run(time.perf_counter() - started, peak_mb(), time.process_time() - cpu, read), result


def median_run(runs: list[Run]) -> Run:
    """Median times of several runs, and the highest peak."""
    return Run(
        statistics.median(r.seconds for r in runs),
        max(r.peak_mb for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.read for r in runs),
    )


def run_comparison(persons: int, fiscal_year: int, repeat: int, keep: Path | None) -> None:
    designated, kyuchi = municipality(COMPARE_LG_CODE)
    assert not designated
    parameters = national_parameters(fiscal_year, kyuchi)
    population = generate(COMPARE_LG_CODE, persons, seed=1, as_of=levy_date(fiscal_year))
    # in household order, as a registry extract lists them and as OpenFisca's file must be
    inputs = from_synthetic(population.persons, designated_city=designated).sort("household_no", "person_no")
    of_inputs = openfisca_inputs(population.persons, inputs, kyuchi)
    with tempfile.TemporaryDirectory(prefix="kiban-bench-") as tmp:
        directory = keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        ours_path, theirs_path = directory / "kiban_inputs.parquet", directory / "openfisca_inputs.parquet"
        inputs.write_parquet(ours_path, compression=INPUT_COMPRESSION)
        of_inputs.drop("person_no", "household_no").write_parquet(theirs_path, compression=INPUT_COMPRESSION)

        pairs: list[tuple[Run, Run, dict[str, float]]] = []
        first = first_run(lambda: run_kiban(ours_path, fiscal_year, parameters))
        first_run(lambda: run_kiban(ours_path, fiscal_year, parameters, SAME_AS_OPENFISCA))
        same_runs: list[Run] = []
        expected: pl.DataFrame | None = None
        for turn in range(repeat):
            # each first in turn after OpenFisca's run, when the memory freed before it has been given back
            if turn % 2 == 0:
                ours, result = run_kiban(ours_path, fiscal_year, parameters)
                same, same_result = run_kiban(ours_path, fiscal_year, parameters, SAME_AS_OPENFISCA)
            else:
                same, same_result = run_kiban(ours_path, fiscal_year, parameters, SAME_AS_OPENFISCA)
                ours, result = run_kiban(ours_path, fiscal_year, parameters)
            expected = result if expected is None else expected
            assert result.equals(expected), "every Kiban run gives the same results to the yen"
            same_runs.append(same)
            assert same_result.equals(result.select(same_result.columns)), "the same 住民税 and 非課税世帯"
            del result, same_result  # as a batch frees a partition's results once written
            theirs, timings = run_openfisca(theirs_path, directory / "openfisca", fiscal_year)
            pairs.append((ours, theirs, timings))
        of_persons = pl.read_parquet(directory / "openfisca.persons.parquet")
        of_households = pl.read_parquet(directory / "openfisca.households.parquet")
    assert expected is not None
    assert expected.height == persons
    started = time.perf_counter()
    in_polars = assessment_plan(fiscal_year, parameters).compute(
        with_defaults(inputs), keep=expected.columns, backend="polars"
    )
    polars_seconds = time.perf_counter() - started
    assert in_polars.equals(expected), "compiled and in Polars, the same results to the yen"

    ours, theirs = median_run([p[0] for p in pairs]), median_run([p[1] for p in pairs])
    size = f"{persons:,} persons, {COMPARE_LG_CODE}, FY{fiscal_year}, median of {repeat}"
    rate = lambda s: f"{persons / s:,.0f} persons/s"  # noqa: E731
    report("resident tax: Kiban (read Parquet + assess)", size, Measurement(ours.seconds, ours.peak_mb), rate)
    same = median_run(same_runs)
    report(
        "resident tax: Kiban, only 住民税 and 住民税非課税世帯 (read Parquet + assess)",
        size,
        Measurement(same.seconds, same.peak_mb),
        rate,
    )
    report(
        f"resident tax: OpenFisca-Japan (read Parquet + build + compute; {openfisca_venv.versions()})",
        size,
        Measurement(theirs.seconds, theirs.peak_mb),
        rate,
    )
    load, compute = (statistics.median(p[2][k] for p in pairs) for k in ("load", "compute"))
    ratios = sorted(p[1].seconds / p[0].seconds for p in pairs)
    print(
        f"  Kiban: first run {first:.2f} s (not counted), then read {ours.read:.2f} s, assess "
        f"{ours.seconds - ours.read:.2f} s (medians); the same plan in Polars (not compiled): assess "
        f"{polars_seconds:.2f} s, the same results; OpenFisca: system "
        f"{pairs[0][2]['system']:.2f} s (not counted), load {load:.2f} s, compute {compute:.2f} s (medians)\n"
        f"  Kiban is {theirs.seconds / ours.seconds:.1f}× as fast (medians, reading included); pair by pair "
        f"{', '.join(f'{r:.1f}×' for r in ratios)}; computing only what OpenFisca computes "
        f"{theirs.seconds / same.seconds:.1f}× (read {same.read:.2f} s, assess {same.seconds - same.read:.2f} s)\n"
        f"  CPU time (all threads, medians): Kiban {ours.cpu:.2f} s, OpenFisca {theirs.cpu:.2f} s "
        f"({theirs.cpu / ours.cpu:.1f}×)\n"
        f"  annual tax (Kiban): {int(expected['annual_tax'].sum()):,} yen",
        file=sys.stderr,
    )

    full = assess(inputs, fiscal_year=fiscal_year, parameters=parameters, keep_all=True)
    frame = (
        of_inputs.select("person_no", "household_no", "household", "role")
        .hstack(of_persons.select(pl.all().name.prefix("of_")))
        .join(inputs, on=["person_no", "household_no"], how="left")
        .join(population.persons.select("person_no", "relationship"), on="person_no", how="left")
        .join(full.select(pl.all().exclude(inputs.columns), "person_no"), on="person_no", how="left")
        .with_columns(
            (pl.col("income_levy_municipal") + pl.col("income_levy_prefectural")).alias("income_levy"),
        )
    )
    frame = frame.with_columns(comparable_households().alias("comparable"))
    of_households = of_households.select(pl.all().name.prefix("of_")).with_row_index("household")
    households = (
        frame.group_by("household")
        .agg(pl.col("household_exempt").first(), pl.col("comparable").first())
        .join(of_households.with_columns(pl.col("household").cast(pl.Int64)), on="household", how="left")
    )
    frame = frame.join(households.select("household", "of_調整控除"), on="household", how="left")
    agreement(frame, households)
    disagreements(frame, households)
    if keep:
        frame.write_parquet(keep / "comparison.parquet")
        households.write_parquet(keep / "comparison_households.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("persons", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--partition", type=int, default=1_000_000, help="persons per municipality partition")
    parser.add_argument("--compare", type=int, default=100_000, help="persons compared with OpenFisca (0: none)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (the median is reported)")
    parser.add_argument("--fiscal-year", type=int, default=2025)
    parser.add_argument("--keep", type=Path, help="keep the Parquet files and the comparison in this directory")
    args = parser.parse_args()
    if args.persons:
        run_assessment(args.persons, args.partition, args.fiscal_year, args.repeat)
    if args.compare:
        run_comparison(args.compare, args.fiscal_year, args.repeat, args.keep)


if __name__ == "__main__":
    main()
