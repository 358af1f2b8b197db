"""Benefit and payment test data: a town whose households are entitled to the 令和5年度 低所得世帯支援 (7万円 per
住民税非課税世帯, こども加算 5万円 per child), the staff who run, confirm, make and approve, and helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select, text

from kiban.benefits.eligibility import national_parameters
from kiban.benefits.models import Entitlement
from kiban.benefits.programs import PROGRAMS
from kiban.benefits.service import BankAccount, RunResult, run_eligibility
from kiban.core.db import Database, TenantSession
from kiban.core.identity import service as identity
from kiban.core.identity.permissions import Role
from kiban.payments.service import IssuedFile, approve, batch_lines, create_batch, issue_file
from kiban.payments.zengin import Account, Sender
from kiban.registry.load import IDENTITY, load_population
from kiban.registry.synth import Population
from kiban.tax import declarations
from kiban.tax.service import assess_municipality

from residents import CHIYODA, TODAY, A, move_in, staff
from web_site import PASSWORD, Site, Staff

PROGRAM = "low_income_2023"
PARAMETERS = national_parameters(PROGRAMS[PROGRAM])
WELFARE = staff("welfare1", Role.WELFARE)
MAKER = staff("maker1", Role.PAYMENT_MAKER)
CHECKER = staff("checker1", Role.PAYMENT_CHECKER)
CHECKER2 = staff("checker2", Role.PAYMENT_CHECKER)
TAX = staff("tax1", Role.TAX)
SENDER = Sender(
    client_code="1234567890", name="チヨダク", account=Account("0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳ", "1", "1234567")
)
TRANSFER_DAY = date(2026, 12, 1)
"""A Tuesday (a bank business day)."""


def household_no(i: int) -> str:
    return f"H{i:05d}"


def resident(no: str, household: str, relationship: str, birth: date, status: str | None) -> dict[str, Any]:
    return {
        "person_no": no,
        "household_no": household,
        "relationship": relationship,
        "birth_date": birth,
        "tax_status": status,
    }


def town(households: int, *, children: dict[int, int] | None = None, taxable: set[int] | None = None) -> pl.DataFrame:
    """``households`` one-adult 住民税非課税世帯 (70,000 yen each), with ``children[i]`` children in household ``i``
    (+50,000 each) and the households in ``taxable`` taxed (not entitled)."""
    rows = []
    for i in range(households):
        status = "taxable" if taxable and i in taxable else "exempt"
        rows.append(resident(f"P{i:05d}", household_no(i), "世帯主", date(1970, 1, 1), status))
        for c in range((children or {}).get(i, 0)):
            rows.append(resident(f"P{i:05d}c{c}", household_no(i), "子", date(2015, 1, 1), "exempt"))
    return pl.DataFrame(rows)


def in_register(s: TenantSession, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (a ``town``, or any run input with ``person_no``, ``household_no``, ``relationship`` and
    ``birth_date``) loaded into the municipality's empty register as residents since 2020-04-01, each with a
    個人番号 of their own (so the national duplicate check keys every one of them); returns ``frame``."""
    persons = frame.select(
        "person_no",
        "household_no",
        "relationship",
        pl.lit("山田").alias("family_name"),
        pl.lit("太郎").alias("given_name"),
        pl.lit("ヤマダ").alias("family_name_kana"),
        pl.lit("タロウ").alias("given_name_kana"),
        "birth_date",
        pl.lit("male").alias("sex"),
        pl.lit("JPN").alias("nationality"),
        pl.lit(None, dtype=pl.Utf8).alias("residence_status"),
        pl.lit(None, dtype=pl.Date).alias("residence_expiry"),
        pl.lit(None, dtype=pl.Utf8).alias("resident_code"),
        pl.format("9{}", pl.int_range(pl.len()).cast(pl.Utf8).str.zfill(11)).alias("my_number"),
        pl.lit(date(2020, 4, 1)).alias("resident_since"),
        pl.lit(date(2020, 4, 1)).alias("address_since"),
    )
    households = persons.group_by("household_no", maintain_order=True).agg(
        pl.col("person_no").first().alias("head_person_no")
    )
    households = households.with_columns(
        *(pl.lit(v.replace("-", "")).alias(k) for k, v in CHIYODA.items()),
        pl.lit(None, dtype=pl.Utf8).alias("ward_name"),
        pl.lit(None, dtype=pl.Utf8).alias("katagaki"),
    )
    departed = persons.clear().select(
        *IDENTITY,
        "resident_code",
        "my_number",
        pl.lit(None, dtype=pl.Utf8).alias("departure"),
        pl.lit(None, dtype=pl.Date).alias("departure_date"),
        pl.lit(None, dtype=pl.Utf8).alias("other_lg_code"),
    )
    events = persons.select(pl.lit("move_in").alias("event_type"), "person_no")
    population = Population(A, 0, date(2020, 4, 1), households, persons, events, departed)
    load_population(s, actor=staff("clerk1", Role.REGISTRY), population=population, today=TODAY)
    return frame


def account(i: int) -> BankAccount:
    return BankAccount("0005", "123", "1", f"{i:07d}", "ヤマダ タロウ")


def run(s: TenantSession, residents: pl.DataFrame) -> RunResult:
    return run_eligibility(s, actor=WELFARE, program_code=PROGRAM, residents=residents, parameters=PARAMETERS)


def confirm_all_directly(s: TenantSession, numbers: range) -> None:
    """Test setup shortcut: mark households confirmed with an account in one statement (``confirm`` is tested on
    its own)."""
    for i in numbers:
        a = account(i)
        s.execute(
            text(
                "UPDATE benefit_entitlement SET status = 'confirmed', bank_code = :b, branch_code = :br, "
                "account_type = :t, account_number = :n, holder_kana = 'ﾔﾏﾀﾞ ﾀﾛｳ' "
                "WHERE lg_code = :lg AND program = :p AND household_no = :h AND status = 'eligible'"
            ),
            {
                "b": a.bank_code,
                "br": a.branch_code,
                "t": a.account_type,
                "n": a.account_number,
                "lg": A,
                "p": PROGRAM,
                "h": household_no(i),
            },
        )


def made_batch(database: Database) -> int:
    """A payment batch of every confirmed household, made by ``MAKER``."""
    with database.tenant(A) as s:
        return create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY).batch_no


def approved_batch(database: Database) -> int:
    """``made_batch``, approved by ``CHECKER`` on the hash they were shown."""
    batch_no = made_batch(database)
    with database.tenant(A) as s:
        seen = batch_lines(s, actor=CHECKER, batch_no=batch_no)
        approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=seen.content_hash)
    return batch_no


def issued_batch(database: Database) -> IssuedFile:
    """``approved_batch``, its 全銀 file issued by ``MAKER``."""
    batch_no = approved_batch(database)
    with database.tenant(A) as s:
        return issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)


def entitlements(database: Database) -> dict[str, Entitlement]:
    with database.tenant(A) as s:
        return {e.household_no: e for e in s.scalars(select(Entitlement).order_by(Entitlement.household_no))}


def registered_town(
    s: TenantSession, households: int, *, children: dict[int, int] | None = None, taxable: int = 0
) -> None:
    """The same town in the municipality's records, for runs that read them (``kiban.benefits.population``):
    household ``9000 + i`` (at most 50) has its head ``1000 + i`` born in ``1950 + i`` (moved in on 2020-04-01) and
    ``children[i]`` children born in 2015; the first ``taxable`` heads earn a salary of 5,000,000 yen in 2022, so the
    令和5年度 assessment (stored here) taxes them and the others are 非課税."""
    clerk = staff("clerk1", Role.REGISTRY)
    for i in range(households):
        move_in(s, clerk, str(1000 + i), str(9000 + i), birth_date=date(1950 + i, 1, 1))
        for c in range((children or {}).get(i, 0)):
            move_in(
                s,
                clerk,
                f"{2000 + i}{c}",
                str(9000 + i),
                given_name="花子",
                given_name_kana="ハナコ",
                sex="female",
                relationship="子",
                birth_date=date(2015, 1, 1 + c),
            )
    rows = "".join(f"{1000 + i},2023,給与支払報告書,5000000,700000\n" for i in range(taxable))
    if rows:
        declarations.import_file(s, actor=TAX, data=("宛名番号,年度,種別,給与収入,社会保険料\n" + rows).encode())
    assess_municipality(s, actor=TAX, fiscal_year=2023)


def add_user(site: Site, user_id: str, role: Role) -> None:
    """A staff account of 千代田区 holding ``role``, signed in with ``site.login(user_id)``."""
    with site.db.app.tenant(A) as s:
        created = identity.create_user(
            s, user_id=user_id, display_name=f"{user_id} 職員", password=PASSWORD, roles=frozenset({role})
        )
    site.staff[user_id] = Staff(A, user_id, created.totp_secret)
