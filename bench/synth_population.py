"""Synthetic population generation: ``.venv/bin/python bench/synth_population.py [persons] [lg_code]``."""

from __future__ import annotations

import sys

from measure import measured, report

from kiban.registry.synth import generate


def main() -> None:
    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    lg_code = sys.argv[2] if len(sys.argv) > 2 else "011002"
    with measured() as m:
        population = generate(lg_code, persons, seed=1)
    assert population.persons.height == persons
    report(
        "synthetic population (generate)",
        f"{persons:,} persons, {lg_code}",
        m,
        lambda s: f"{persons / s:,.0f} persons/s",
    )


if __name__ == "__main__":
    main()
