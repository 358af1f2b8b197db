"""Timing and peak memory of one step, printed as a row for docs/benchmarks.md; the process's resident high-water
mark, which can be reset between steps (``reset_peak``, ``peak_mb``). Standard library only: the OpenFisca script
imports it from its own virtual environment."""

from __future__ import annotations

import gc
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


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


def reset_peak() -> None:
    """Reset the process's resident-memory high-water mark (Linux ≥ 4.0)."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """The process's resident high-water mark (VmHWM) since it started or since ``reset_peak``; unlike ru_maxrss,
    not inherited by a child started by fork + exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
