"""OpenFisca-Japan's 住民税 and 住民税非課税世帯 for households read from Parquet; runs in its own virtualenv
(``bench/.venv-openfisca``, see ``openfisca_venv.py``), started by ``resident_tax.py``:

    .venv-openfisca/bin/python openfisca_resident_tax.py INPUT.parquet OUTPUT_PREFIX PERIOD

INPUT has one row per person, grouped by household (``household`` = 0, 1, 2, … in order, the head first in each),
with OpenFisca's own variables as columns (written by ``resident_tax.py``): ``role`` (親/子/祖父母), ``誕生年月日``,
``収入``, ``個人事業主の必要経費``, ``学生``, ``寡婦``, ``身体障害者手帳等級``, ``介護施設入所中``, ``社会保険料控除``
and, per household (on every member), ``居住級地区分1``. PERIOD is a day of the income year (OpenFisca-Japan computes
住民税 on the same DAY period as the income it is based on).

Writes ``OUTPUT_PREFIX.persons.parquet`` (住民税, 住民税所得割, 所得 and the deductions, per person in input order)
and ``OUTPUT_PREFIX.households.parquet`` (住民税非課税世帯 per household), and prints the timings as one JSON line:
``system`` (building the tax-benefit system), ``load`` (reading the file, building the simulation, setting the
inputs) and ``compute`` (住民税 for everyone and 住民税非課税世帯 for every household), in seconds, and the
CPU time of loading and computing (``cpu``), and the process's peak resident memory (``peak_rss_mb``).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
from measure import peak_mb
from openfisca_core.simulation_builder import SimulationBuilder  # type: ignore[import-not-found]
from openfisca_japan import CountryTaxBenefitSystem  # type: ignore[import-not-found]

PERSON_INPUTS = (
    "収入",
    "個人事業主の必要経費",
    "学生",
    "寡婦",
    "身体障害者手帳等級",
    "介護施設入所中",
    "社会保険料控除",
)
PERSON_OUTPUTS = ("住民税", "住民税所得割", "住民税均等割", "所得", "合計所得金額", "住民税所得控除")
HOUSEHOLD_OUTPUTS = ("住民税非課税世帯", "調整控除", "人的控除額の差", "世帯高所得")


def main() -> None:
    source, prefix, period = sys.argv[1], sys.argv[2], sys.argv[3]
    started = time.perf_counter()
    system = CountryTaxBenefitSystem()
    system_seconds = time.perf_counter() - started

    started, cpu = time.perf_counter(), time.process_time()
    table = pq.read_table(source)
    household = table.column("household").to_numpy()
    persons = len(household)
    households = int(household[-1]) + 1 if persons else 0
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("人物", np.arange(persons))
    group = builder.declare_entity("世帯", np.arange(households))
    builder.join_with_persons(group, household, table.column("role").to_numpy(zero_copy_only=False))
    simulation = builder.build(system)
    simulation.set_input("誕生年月日", period, table.column("誕生年月日").to_numpy().astype("datetime64[D]"))
    for name in PERSON_INPUTS:
        values = table.column(name).to_numpy(zero_copy_only=False)
        # OpenFisca encodes an Enum from a unicode array of its item names (an object array is read as items)
        simulation.set_input(name, period, values.astype(str) if values.dtype == object else values)
    first = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
    simulation.set_input("居住級地区分1", period, table.column("居住級地区分1").to_numpy()[first])
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    simulation.calculate("住民税", period)
    simulation.calculate("住民税非課税世帯", period)
    compute_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu

    # the intermediate values, for the comparison (already computed, or cheap)
    person_columns = {name: simulation.calculate(name, period) for name in PERSON_OUTPUTS}
    pq.write_table(pa.table(person_columns), f"{prefix}.persons.parquet")
    household_columns = {name: simulation.calculate(name, period) for name in HOUSEHOLD_OUTPUTS}
    pq.write_table(pa.table(household_columns), f"{prefix}.households.parquet")
    timings = {
        "system": system_seconds,
        "load": load_seconds,
        "compute": compute_seconds,
        "cpu": cpu_seconds,
        "persons": persons,
        "peak_rss_mb": peak_mb(),  # VmHWM: this script is started by fork + exec
    }
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
