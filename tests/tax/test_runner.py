"""Population-wide runs split by municipality: the process pool and a Dask cluster give exactly what ``assess``
gives directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from distributed import Client, LocalCluster

from kiban.tax.assessment import assess, national_parameters
from kiban.tax.runner import DaskRunner, LocalRunner, Partition, PartitionSummary, SyntheticInputs, summarize

FY = 2026
TOWNS = [SyntheticInputs("131016", 600, seed=1), SyntheticInputs("011002", 900, seed=2, designated_city=True)]
"""千代田区 from a Parquet file, 札幌市 (a designated city) built where it runs."""


def _partitions(directory: Path, tag: str) -> list[Partition]:
    parquet = directory / "131016-inputs.parquet"
    if not parquet.exists():
        TOWNS[0]().write_parquet(parquet)
    return [
        Partition("131016", parquet, FY, kyuchi=1, results=directory / f"131016-{tag}.parquet"),
        Partition("011002", TOWNS[1], FY, kyuchi=1, results=directory / f"011002-{tag}.parquet"),
    ]


def _direct(partitions: list[Partition]) -> tuple[list[PartitionSummary], list[pl.DataFrame]]:
    summaries, frames = [], []
    for partition, town in zip(partitions, TOWNS, strict=True):
        results = assess(town(), fiscal_year=FY, parameters=national_parameters(FY, kyuchi=1))
        summaries.append(summarize(partition, results))
        frames.append(results)
    return summaries, frames


def _check(summaries: list[PartitionSummary], partitions: list[Partition]) -> None:
    expected, frames = _direct(partitions)
    assert summaries == expected
    assert summaries[0].by_status["taxable"] > 0
    assert summaries[1].totals["annual_tax"] > 0
    for summary, frame in zip(summaries, frames, strict=True):
        assert summary.results is not None
        assert pl.read_parquet(summary.results).equals(frame)


def test_the_local_runner_gives_what_assess_gives(tmp_path: Path) -> None:
    partitions = _partitions(tmp_path, "local")
    summaries = LocalRunner(workers=2).run(partitions)
    assert [s.lg_code for s in summaries] == ["131016", "011002"]
    _check(summaries, partitions)
    assert LocalRunner().run([]) == []


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,  # type: ignore[no-untyped-call]
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def test_the_dask_runner_gives_what_assess_gives(tmp_path: Path, dask_client: Client) -> None:
    partitions = _partitions(tmp_path, "dask")
    summaries = DaskRunner(dask_client).run(partitions)
    _check(summaries, partitions)
