"""Timing and peak memory of one step, printed as a row for docs/benchmarks.md."""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


@contextmanager
def measured() -> Iterator[Measurement]:
    """Wall time of the block; peak resident memory of the process so far (ru_maxrss, Linux: KiB)."""
    result = Measurement()
    started = time.perf_counter()
    yield result
    result.seconds = time.perf_counter() - started
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(what: str, size: str, m: Measurement, rate: Callable[[float], str]) -> None:
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print(f"| {what} | {size} | {m.seconds:.2f} s | {rate(m.seconds)} | {m.peak_rss_mb:,.0f} MB | {machine} |")
