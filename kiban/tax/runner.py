"""Population-wide assessment runs split by municipality, on this machine or on a cluster.

A run is a list of ``Partition``s, one per municipality: its inputs (a Parquet file of ``kiban.tax.assessment.INPUTS``
columns, or a callable that builds them, e.g. ``SyntheticInputs``), the 年度 and the parameters (the municipality's
own set, or the national values for its 級地). ``assess_partition`` is the one function every runner executes per
partition: it computes with ``kiban.tax.assessment.assess``, optionally writes the results as Parquet, and returns a
``PartitionSummary``. Runners differ only in where that function runs:

* ``LocalRunner`` — a pool of processes on this machine (``spawn``: no forked Polars thread pools);
* ``DaskRunner`` — the workers of a ``dask.distributed`` cluster (``Client``), for the whole country at once.

Both return the summaries in the partitions' order, so their results can be compared one to one."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import polars as pl

from kiban.core.params.catalogue import ParamValue
from kiban.registry.synth import generate
from kiban.tax.assessment import assess, national_parameters
from kiban.tax.inputs import from_synthetic
from kiban.tax.rules.results import STATUS_LABELS

if TYPE_CHECKING:
    from distributed import Client

InputsSource = str | Path | Callable[[], pl.DataFrame]
"""Where a partition's inputs come from: a Parquet path, or a picklable callable returning the frame."""

TOTALS = (
    "income_levy_municipal",
    "income_levy_prefectural",
    "per_capita_municipal",
    "per_capita_prefectural",
    "forest_environment_tax",
    "annual_tax",
)


@dataclass(frozen=True)
class Partition:
    """One municipality's share of a run."""

    lg_code: str
    inputs: InputsSource
    fiscal_year: int
    parameters: Mapping[str, ParamValue] | None = None
    """The municipality's parameter set (``kiban.core.params.service.values_on``); ``None``: national values."""
    kyuchi: int | None = None
    """生活保護 級地 for the national values (when ``parameters`` is ``None``)."""
    results: str | Path | None = None
    """Where to write the results as Parquet (optional)."""


@dataclass(frozen=True)
class PartitionSummary:
    lg_code: str
    fiscal_year: int
    persons: int
    by_status: dict[str, int]
    """People per 課税区分."""
    totals: dict[str, int]
    """Sums over the municipality (yen) of ``TOTALS``."""
    results: str | None
    seconds: float = field(compare=False)
    """Wall time of the computation (not compared: two runs differ)."""


@dataclass(frozen=True)
class SyntheticInputs:
    """A callable partition source: a synthetic municipality's inputs (``kiban.registry.synth``), generated where
    the partition runs."""

    lg_code: str
    persons: int
    seed: int = 0
    designated_city: bool = False

    def __call__(self) -> pl.DataFrame:
        population = generate(self.lg_code, self.persons, seed=self.seed)
        return from_synthetic(population.persons, designated_city=self.designated_city)


def summarize(partition: Partition, results: pl.DataFrame, *, seconds: float = 0.0) -> PartitionSummary:
    """Counts per 課税区分 and totals of a partition's ``assess`` results."""
    counts = dict.fromkeys(STATUS_LABELS, 0) | {
        str(k): int(v) for k, v in results.group_by("tax_status").len().iter_rows()
    }
    return PartitionSummary(
        lg_code=partition.lg_code,
        fiscal_year=partition.fiscal_year,
        persons=results.height,
        by_status=counts,
        totals={name: int(results[name].sum()) for name in TOTALS},
        results=str(partition.results) if partition.results is not None else None,
        seconds=seconds,
    )


def load_inputs(source: InputsSource) -> pl.DataFrame:
    return pl.read_parquet(source) if isinstance(source, str | Path) else source()


def assess_partition(partition: Partition) -> PartitionSummary:
    """Assess one municipality's inputs: the function every runner runs."""
    started = time.perf_counter()
    inputs = load_inputs(partition.inputs)
    parameters = partition.parameters
    if parameters is None:
        parameters = national_parameters(partition.fiscal_year, partition.kyuchi)
    results = assess(inputs, fiscal_year=partition.fiscal_year, parameters=parameters)
    if partition.results is not None:
        results.write_parquet(partition.results, compression="zstd")
    return summarize(partition, results, seconds=time.perf_counter() - started)


class Runner(Protocol):
    def run(self, partitions: Sequence[Partition]) -> list[PartitionSummary]:
        """``assess_partition`` of every partition, summaries in the partitions' order."""
        ...


class LocalRunner:
    """Partitions on a pool of ``workers`` processes of this machine (default: one per core)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def run(self, partitions: Sequence[Partition]) -> list[PartitionSummary]:
        if not partitions:
            return []
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers or multiprocessing.cpu_count(), len(partitions))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(assess_partition, partitions))


class DaskRunner:
    """Partitions on the workers of a ``dask.distributed`` cluster, through ``client``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def run(self, partitions: Sequence[Partition]) -> list[PartitionSummary]:
        if not partitions:
            return []
        futures = self.client.map(assess_partition, list(partitions), pure=False)
        summaries: list[PartitionSummary] = self.client.gather(futures)  # type: ignore[no-untyped-call]
        return summaries
