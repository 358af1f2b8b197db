"""Bulk loading of a population into an empty register: a synthetic one from ``kiban.registry.synth`` (``kiban
seed``), and the shape a legacy system's data takes when a municipality is onboarded.

Each person becomes one 移行 (``MIGRATION``) event on the day they became a resident, holding their state as the
source held it (its ``origin`` says whether that day was a 出生 or a 転入, for statistics); each person who has
since left gets the 死亡 / 転出 event too. ``person_version`` rows are computed column-wise from the same frames
(they equal a fold of those events: tested), and everything is written in one transaction — with ``COPY`` through
a temporary table on PostgreSQL (``COPY FROM`` does not apply row-level security, an ``INSERT … SELECT`` does), with
batched inserts on SQLite. Nothing is loaded into a register that already has events."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import String, Table, column, insert, select, text
from sqlalchemy import table as sql_table

from kiban.core.audit.service import record
from kiban.core.crypto import EncryptedString, blind_indexes, encrypt_all
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Principal
from kiban.registry.access import PURPOSE, may_write
from kiban.registry.events import HEAD, EventType, Status
from kiban.registry.models import Household, Person, PersonVersion, RegistryEvent
from kiban.registry.service import MY_NUMBER_CONTEXT
from kiban.registry.synth import Population
from kiban.registry.synth.addresses import bodies_by_code

Progress = Callable[[str, int], None]
"""Called with (step label, rows written)."""

_DEPARTURE = {"death": (EventType.DEATH, Status.DEAD), "move_out": (EventType.MOVE_OUT, Status.MOVED_OUT)}


@dataclass(frozen=True)
class Loaded:
    households: int
    persons: int
    events: int
    versions: int


def _addresses(population: Population) -> pl.DataFrame:
    """One address per household: 市区町村 includes the ward of a designated city; 番地 includes the 方書."""
    h = population.households
    return h.select(
        "household_no",
        "postal_code",
        "pref_name",
        (pl.col("city_name") + pl.col("ward_name").fill_null("")).alias("city_name"),
        "town",
        pl.when(pl.col("katagaki").is_null())
        .then(pl.col("banchi"))
        .otherwise(pl.col("banchi") + "\u3000" + pl.col("katagaki"))
        .alias("banchi"),
    )


IDENTITY = (
    "person_no",
    "household_no",
    "relationship",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "nationality",
)
"""Columns every loaded person carries as generated, current or departed."""


def _people(population: Population) -> pl.DataFrame:
    """Current and departed persons in one frame, with the day each became a resident and, for those who left,
    the departure. Departed spouses of a current household are recorded as 夫 / 妻 (the survivor heads it)."""
    current_households = population.households.select("household_no", "head_person_no")
    current = population.persons.select(
        *IDENTITY,
        "residence_status",
        pl.col("residence_expiry").alias("residence_until"),
        "resident_code",
        "my_number",
        "resident_since",
        "address_since",
        pl.lit(None, dtype=pl.Utf8).alias("departure"),
        pl.lit(None, dtype=pl.Date).alias("departure_date"),
        pl.lit(None, dtype=pl.Utf8).alias("other_lg_code"),
    )
    gone = population.persons_departed
    heads_since = current.filter(pl.col("relationship") == HEAD).select(
        "household_no", pl.col("resident_since").alias("_head_since")
    )
    departed = (
        gone.join(current_households, on="household_no", how="left")
        .join(heads_since, on="household_no", how="left")
        .with_columns(
            relationship=pl.when(pl.col("head_person_no").is_not_null() & (pl.col("relationship") == HEAD))
            .then(pl.when(pl.col("sex") == "male").then(pl.lit("夫")).otherwise(pl.lit("妻")))
            .otherwise(pl.col("relationship")),
            resident_since=pl.min_horizontal(
                pl.max_horizontal(pl.col("birth_date"), pl.col("_head_since").fill_null(pl.col("birth_date"))),
                pl.col("departure_date") - pl.duration(days=1),
            ),
        )
        .select(
            *IDENTITY,
            pl.lit(None, dtype=pl.Utf8).alias("residence_status"),
            pl.lit(None, dtype=pl.Date).alias("residence_until"),
            "resident_code",
            "my_number",
            "resident_since",
            pl.col("resident_since").alias("address_since"),
            "departure",
            "departure_date",
            "other_lg_code",
        )
    )
    people = pl.concat([current, departed])
    addresses = _addresses(population)
    fallback = addresses.row(0, named=True)
    people = people.join(addresses, on="household_no", how="left").with_columns(
        [pl.col(k).fill_null(v) for k, v in fallback.items() if k != "household_no"]
    )
    origin = population.events.filter(pl.col("event_type").is_in(["birth", "move_in"])).select(
        "person_no", pl.col("event_type").alias("origin")
    )
    names = {
        code: f"{b.pref_name}{b.name}" if b.kind != "prefecture" else b.name for code, b in bodies_by_code().items()
    }
    return people.join(origin.unique("person_no"), on="person_no", how="left").with_columns(
        destination=pl.col("other_lg_code").replace_strict(names, default=pl.col("other_lg_code"), return_dtype=pl.Utf8)
    )


def _events(people: pl.DataFrame, today: date) -> pl.DataFrame:
    """Every event, numbered in 異動日 order (on one day: arrivals, then departures of members, then of heads)."""
    address = pl.struct("postal_code", "pref_name", "city_name", "town", "banchi").alias("address")
    arrival_payload = pl.struct(
        address,
        pl.col("address_since").dt.to_string("%Y-%m-%d"),
        pl.col("birth_date").dt.to_string("%Y-%m-%d"),
        "family_name",
        "family_name_kana",
        "given_name",
        "given_name_kana",
        "nationality",
        "origin",
        "relationship",
        "residence_status",
        pl.col("residence_until").dt.to_string("%Y-%m-%d"),
        pl.col("resident_since").dt.to_string("%Y-%m-%d"),
        "sex",
        pl.lit(Status.RESIDENT.value).alias("status"),
    ).struct.json_encode()
    arrivals = people.select(
        pl.lit(EventType.MIGRATION.value).alias("event_type"),
        "person_no",
        "household_no",
        pl.col("resident_since").alias("effective_date"),
        arrival_payload.alias("payload"),
        pl.lit(0).alias("_order"),
    )
    gone = people.filter(pl.col("departure").is_not_null())
    departures = gone.select(
        pl.col("departure").replace_strict({k: v[0].value for k, v in _DEPARTURE.items()}).alias("event_type"),
        "person_no",
        "household_no",
        pl.col("departure_date").alias("effective_date"),
        pl.struct(
            pl.when(pl.col("departure") == "move_out").then(pl.col("destination")).alias("destination"),
            pl.col("departure").replace_strict({k: v[1].value for k, v in _DEPARTURE.items()}).alias("status"),
        )
        .struct.json_encode()
        .alias("payload"),
        pl.when(pl.col("relationship") == HEAD).then(2).otherwise(1).alias("_order"),
    )
    return (
        pl.concat([arrivals, departures])
        .sort("effective_date", "_order", "person_no")
        .with_row_index("event_no", offset=1)
        .with_columns(pl.col("event_no").cast(pl.Int64), pl.lit(today).alias("recorded_at"))
        .drop("_order")
    )


def _versions(people: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``person_version`` rows: resident from arrival; for those who left, a second row from the departure."""
    numbers = events.select("person_no", "event_type", "event_no")
    arrival_no = numbers.filter(pl.col("event_type") == EventType.MIGRATION.value).select(
        "person_no", pl.col("event_no").alias("_arrival_no")
    )
    departure_no = numbers.filter(pl.col("event_type") != EventType.MIGRATION.value).select(
        "person_no", pl.col("event_no").alias("_departure_no")
    )
    base = people.join(arrival_no, on="person_no").join(departure_no, on="person_no", how="left")
    common: list[str | pl.Expr] = [
        *IDENTITY,
        (pl.col("family_name") + pl.col("given_name")).alias("name"),
        (pl.col("family_name_kana") + pl.col("given_name_kana")).alias("name_kana"),
        "residence_status",
        "residence_until",
        "resident_since",
        "address_since",
        "postal_code",
        "pref_name",
        "city_name",
        "town",
        "banchi",
        (pl.col("town") + pl.col("banchi")).alias("address_key"),
    ]
    resident = base.select(
        *common,
        pl.col("resident_since").alias("valid_from"),
        pl.col("departure_date").alias("valid_to"),
        pl.col("_arrival_no").alias("event_no"),
        pl.lit(Status.RESIDENT.value).alias("status"),
        pl.lit(None, dtype=pl.Date).alias("left_on"),
        pl.lit(None, dtype=pl.Utf8).alias("destination"),
    )
    left = base.filter(pl.col("departure").is_not_null()).select(
        *common,
        pl.col("departure_date").alias("valid_from"),
        pl.lit(None, dtype=pl.Date).alias("valid_to"),
        pl.col("_departure_no").alias("event_no"),
        pl.col("departure").replace_strict({k: v[1].value for k, v in _DEPARTURE.items()}).alias("status"),
        pl.col("departure_date").alias("left_on"),
        pl.when(pl.col("departure") == "move_out").then(pl.col("destination")).alias("destination"),
    )
    return pl.concat([resident, left])


def _write(db_session: TenantSession, table: Table, frame: pl.DataFrame) -> None:
    connection = db_session.connection()
    if connection.dialect.name != "postgresql":
        # Values arrive as stored (My Numbers already encrypted): bind encrypted columns as plain strings.
        plain = sql_table(
            table.name,
            *(
                column(c, String() if isinstance(table.c[c].type, EncryptedString) else table.c[c].type)
                for c in frame.columns
            ),
        )
        for batch in frame.iter_slices(20_000):
            connection.execute(insert(plain), batch.to_dicts())
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    staging = f"staging_{table.name}"
    connection.execute(text(f'CREATE TEMP TABLE "{staging}" (LIKE "{table.name}") ON COMMIT DROP'))
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{staging}" ({columns}) FROM STDIN (FORMAT CSV)') as copy:
            for batch in frame.iter_slices(100_000):
                buffer = io.BytesIO()
                batch.write_csv(buffer, include_header=False, null_value="")
                copy.write(buffer.getvalue())
        # names come from the model, not from input
        cursor.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{staging}"')  # noqa: S608


def ensure_empty(db_session: TenantSession, *, actor: Principal) -> str:
    """The tenant's lg_code if ``actor`` may write and the register is empty (what a load needs; callers can ask
    before generating a population); otherwise refused."""
    lg_code = may_write(db_session, actor)
    if db_session.scalar(select(RegistryEvent.event_no).limit(1)) is not None:
        raise InputError(
            FieldError(
                "団体コード",
                lg_code,
                "この団体の住民記録にはすでに住民が記録されています。空の住民記録にだけ読み込めます。",
            )
        )
    return lg_code


def load_population(
    db_session: TenantSession,
    *,
    actor: Principal,
    population: Population,
    today: date | None = None,
    progress: Progress | None = None,
) -> Loaded:
    """Load ``population`` (of this tenant) into an empty register."""
    lg_code = ensure_empty(db_session, actor=actor)
    today = today or date.today()
    if population.lg_code != lg_code:
        raise InputError(
            FieldError("団体コード", population.lg_code, f"この団体（{lg_code}）の住民を指定してください。")
        )
    step = progress or (lambda label, rows: None)
    people = _people(population)
    events = _events(people, today)
    versions = _versions(people, events)
    households = (
        events.select("household_no")
        .unique()
        .with_columns(pl.lit(lg_code).alias("lg_code"), pl.lit(today).alias("created"))
    )
    _write(db_session, Household.__table__, households)  # type: ignore[arg-type]
    step("世帯", households.height)
    numbers = people["my_number"].to_list()
    persons = people.select(
        pl.lit(lg_code).alias("lg_code"),
        "person_no",
        "resident_code",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        pl.Series("my_number", encrypt_all(numbers, context=MY_NUMBER_CONTEXT), dtype=pl.Utf8),
        pl.Series("my_number_index", blind_indexes(numbers, context=MY_NUMBER_CONTEXT), dtype=pl.Utf8),
    )
    _write(db_session, Person.__table__, persons)  # type: ignore[arg-type]
    step("住民", persons.height)
    _write(db_session, RegistryEvent.__table__, events.with_columns(pl.lit(lg_code).alias("lg_code")))  # type: ignore[arg-type]
    step("異動", events.height)
    _write(db_session, PersonVersion.__table__, versions.with_columns(pl.lit(lg_code).alias("lg_code")))  # type: ignore[arg-type]
    step("住民の状態", versions.height)
    loaded = Loaded(households.height, persons.height, events.height, versions.height)
    record(
        db_session,
        actor=actor,
        action="registry.load",
        purpose=PURPOSE,
        detail={
            "seed": population.seed,
            "households": loaded.households,
            "persons": loaded.persons,
            "events": loaded.events,
        },
    )
    return loaded
