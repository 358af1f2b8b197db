"""Put the pieces together: ``generate()`` returns columnar frames for one municipality; ``write_parquet()`` saves them.

Deterministic: the random streams come from ``numpy.random.SeedSequence([seed, lg_code])`` (one child stream per
step), so the same ``(lg_code, persons, seed, as_of)`` always gives identical frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from kiban.registry.synth import addresses, foreign, history, households, ids, incomes, names
from kiban.registry.synth.households import HOUSEHOLD_TYPES, MARITAL, RELATIONSHIPS
from kiban.registry.synth.reference import foreign_share, given_names, surnames

IntArray = npt.NDArray[np.int64]

# probability of a 方書 (named building, room number) by household type, before the municipality factor
_APARTMENT_BY_TYPE = np.array([0.60, 0.30, 0.25, 0.40, 0.05, 0.35])
_APARTMENT_BY_KIND = {"special_ward": 1.4, "designated_city": 1.2, "designated_city_ward": 1.2, "town": 0.4}


@dataclass(frozen=True)
class Population:
    """A synthetic municipality population (see ``kiban.registry.synth`` for the columns)."""

    lg_code: str
    seed: int
    as_of: date
    households: pl.DataFrame
    persons: pl.DataFrame
    events: pl.DataFrame
    persons_departed: pl.DataFrame


def _dates(days: IntArray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _strings(values: tuple[str, ...], index: IntArray) -> pl.Series:
    return pl.Series(values, dtype=pl.Utf8).gather(pl.Series(index.astype(np.int64)))


def _optional(values: npt.NDArray[np.str_]) -> pl.Series:
    series = pl.Series(values, dtype=pl.Utf8)
    return series.set(series == "", None)


def generate(
    lg_code: str,
    persons: int,
    seed: int = 0,
    as_of: date = date(2026, 4, 1),
    history_years: int = 3,
) -> Population:
    """A synthetic population of ``persons`` residents of municipality (or ward) ``lg_code`` on ``as_of``."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if history_years < 1:
        raise ValueError("history_years must be at least 1")
    place = addresses.municipality(lg_code)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, int(lg_code)]).spawn(7)]
    r_structure, r_foreign, r_history, r_names, r_ids, r_address, r_income = streams

    s = households.build(persons, as_of, r_structure)
    n, h = persons, len(s.head)
    size = np.bincount(s.household, minlength=h)
    is_foreign_household = foreign.choose_households(r_foreign, foreign_share(lg_code), size, s.age[s.head])
    today = int(np.datetime64(as_of, "D").astype(np.int64))
    fr = foreign.foreign_residents(r_foreign, is_foreign_household, s.household, s.age, s.female, today)
    past = history.history(r_history, lg_code, s, is_foreign_household, as_of, history_years)
    gone = past.departed
    d = len(gone.birth)

    # --- names ------------------------------------------------------------------------------------------------------
    household_surname = names.draw_surnames(r_names, h + past.closed_households)
    own_surname = names.draw_surnames(r_names, n)
    surname_index = np.where(s.shares_surname, household_surname[s.household], own_surname)
    all_female = np.concatenate([s.female, gone.female])
    all_birth = np.concatenate([s.birth, gone.birth])
    birth_year = all_birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    given_index = names.draw_given_names(r_names, all_female, birth_year)
    family_kanji, family_kana = names.lookup(
        surnames(), np.concatenate([surname_index, household_surname[gone.household]])
    )
    given_kanji, given_kana = names.lookup(given_names(), given_index)

    # --- identifiers: 宛名番号 in order of registration, random 住民票コード and 個人番号 -------------------------
    registered = np.concatenate([past.resident_since, gone.birth])
    number_order = np.argsort(registered, kind="stable")
    person_base = np.empty(n + d, dtype=np.int64)
    person_base[number_order] = ids.sequential(r_ids, n + d, 100_000_000, 200_000_000)
    person_no = ids.with_check_digit(person_base, 10)
    resident_code = ids.with_check_digit(ids.unique_random(r_ids, n + d, 0, 10**10), 11)
    my_number = ids.with_check_digit(ids.unique_random(r_ids, n + d, 10**10, 10**11), 12)
    household_key = np.concatenate([past.resident_since[s.head], np.full(past.closed_households, today)])
    household_base = np.empty(h + past.closed_households, dtype=np.int64)
    household_base[np.argsort(household_key, kind="stable")] = ids.sequential(
        r_ids, h + past.closed_households, 300_000_000, 400_000_000
    )
    household_no = ids.with_check_digit(household_base, 10)

    # --- circumstances ---------------------------------------------------------------------------------------------
    c = incomes.circumstances(r_income, s.age, s.female, s.marital, s.household, s.household_type, s.head)
    young_child = (s.relationship == households.CHILD) & (s.age < 20)
    has_young_child = np.bincount(s.household[young_child], minlength=h) > 0
    single_parent = (
        (s.relationship == households.HEAD)
        & (s.household_type[s.household] == households.H_SINGLE_PARENT)
        & has_young_child[s.household]
    )

    current = pl.Series(np.arange(n, dtype=np.int64))
    departed_rows = pl.Series(np.arange(n, n + d, dtype=np.int64))
    status = pl.Series(foreign.STATUSES, dtype=pl.Utf8).gather(pl.Series(np.maximum(fr.status, 0)))
    persons_frame = (
        pl.DataFrame(
            {
                "person_no": person_no.gather(current),
                "household_no": household_no.gather(pl.Series(s.household)),
                "relationship": _strings(RELATIONSHIPS, s.relationship),
                "family_name": fr.family_latin.fill_null(family_kanji.gather(current)),
                "given_name": fr.given_latin.fill_null(given_kanji.gather(current)),
                "family_name_kana": fr.family_kana.fill_null(family_kana.gather(current)),
                "given_name_kana": fr.given_kana.fill_null(given_kana.gather(current)),
                "birth_date": _dates(s.birth),
                "sex": pl.Series(np.where(s.female, "female", "male")),
                "nationality": fr.nationality.fill_null("JPN"),
                "residence_status": status.set(pl.Series(fr.status < 0), None),
                "residence_expiry": _dates(np.maximum(fr.expiry, 0)).set(pl.Series(fr.expiry < 0), None),
                "resident_code": resident_code.gather(current),
                "my_number": my_number.gather(current),
                "marital_status": _strings(MARITAL, s.marital),
                "widowed": pl.Series(s.marital == households.WIDOWED),
                "single_parent": pl.Series(single_parent),
                "student": pl.Series(c.student),
                "disability": _strings(incomes.DISABILITY, c.disability),
                "care_need_level": pl.Series(c.care_need_level).cast(pl.Int8),
                "welfare_recipient": pl.Series(c.welfare_recipient),
                "salary_income": pl.Series(c.salary_income, dtype=pl.Int64),
                "pension_income": pl.Series(c.pension_income, dtype=pl.Int64),
                "business_income": pl.Series(c.business_income, dtype=pl.Int64),
                "resident_since": _dates(past.resident_since),
                "address_since": _dates(past.address_since),
                "_rel": pl.Series(s.relationship),
            }
        )
        .sort("household_no", "_rel", "birth_date", "person_no")
        .drop("_rel")
    )

    # --- households ------------------------------------------------------------------------------------------------
    factor = _APARTMENT_BY_KIND.get(place.body.kind, 1.0 if place.body.kind == "city" else 0.3)
    apartment = np.clip(_APARTMENT_BY_TYPE[s.household_type] * factor, 0, 0.9)
    address = addresses.addresses(lg_code, apartment, r_address)
    households_frame = (
        pl.DataFrame(
            {
                "household_no": household_no.head(h),
                "head_person_no": person_no.gather(pl.Series(s.head)),
                "household_type": _strings(HOUSEHOLD_TYPES, s.household_type),
                "members": pl.Series(size, dtype=pl.Int32),
            }
        )
        .hstack(address)
        .sort("household_no")
    )

    # --- history ---------------------------------------------------------------------------------------------------
    e = past.events
    events_frame = (
        pl.DataFrame(
            {
                "event_type": _strings(history.EVENT_TYPES, e.event_type),
                "event_date": _dates(e.event_date),
                "recorded_date": _dates(e.recorded_date),
                "person_no": person_no.gather(pl.Series(e.person)),
                "household_no": household_no.gather(pl.Series(e.household)),
                "other_lg_code": _optional(e.other_lg_code),
            }
        )
        .sort("recorded_date", "event_date", "person_no", "event_type")
        .with_row_index("event_no", offset=1)
        .with_columns(pl.col("event_no").cast(pl.Int64))
    )
    departed_frame = pl.DataFrame(
        {
            "person_no": person_no.gather(departed_rows),
            "household_no": household_no.gather(pl.Series(gone.household)),
            "relationship": _strings(RELATIONSHIPS, gone.relationship),
            "family_name": family_kanji.gather(departed_rows),
            "given_name": given_kanji.gather(departed_rows),
            "family_name_kana": family_kana.gather(departed_rows),
            "given_name_kana": given_kana.gather(departed_rows),
            "birth_date": _dates(gone.birth),
            "sex": pl.Series(np.where(gone.female, "female", "male")),
            "nationality": pl.repeat("JPN", d, eager=True, dtype=pl.Utf8),
            "resident_code": resident_code.gather(departed_rows),
            "my_number": my_number.gather(departed_rows),
            "departure": _strings(history.DEPARTURES, gone.departure),
            "departure_date": _dates(gone.departure_date),
            "other_lg_code": _optional(gone.other_lg_code),
        }
    ).sort("departure_date", "person_no")
    return Population(lg_code, seed, as_of, households_frame, persons_frame, events_frame, departed_frame)


def write_parquet(population: Population, directory: str | Path) -> list[Path]:
    """Write the four frames as ``households.parquet``, ``persons.parquet``, ``events.parquet`` and
    ``persons_departed.parquet`` into ``directory`` (created if needed); returns the paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("households", "persons", "events", "persons_departed"):
        path = target / f"{name}.parquet"
        frame: pl.DataFrame = getattr(population, name)
        frame.write_parquet(path)
        paths.append(path)
    return paths
