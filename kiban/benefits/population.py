"""What a program's eligibility run reads from the municipality's own records: the residents on its base date
(基準日) from the registry snapshot, each with the 課税区分 of the program's 年度 (and of the year before, for
programs that compare) from the stored 個人住民税 assessment, and the parameters in force on the base date. A person
program (the 定額減税 調整給付) reads instead each person's 定額減税 figures computed from the 年度's declarations
(``kiban.tax.assessment.flat_tax_cut_figures`` over the assessment population on 1 January).

A resident with no stored assessment of that 年度 (e.g. a 転入 after 1 January, assessed by the former municipality)
has no 課税区分: the rules make the household ``needs_review``.

A household made only of people supported by a taxed relative is not paid (「住民税課税者の扶養親族等のみからなる世帯
は対象外」, e.g. 米原市「電力・ガス・食料品等価格高騰緊急支援給付金について」
https://www.city.maibara.lg.jp/kinkyu/kansensho/kojinsetaisien/18441.html; the 低所得世帯支援枠 制度要綱 excludes
「住民税が課税されている他の親族等の扶養を受けている者のみで構成される世帯」 alike). A person is
``supported_by_taxed_relative`` when the stored assessment of the 年度 has them as a taxpayer's 同一生計配偶者 or
扶養親族 (``supported_by``) and that taxpayer's 課税区分 in the same assessment is not 非課税 (均等割のみ課税 or 課税).
Claims are those the assessment knows (``kiban.tax.inputs``: the household head on 1 January claims the
relatives of the household), so the exclusion bites where the household changed before the base date (世帯分離,
転居). A claimant in another municipality (a student supported by parents elsewhere) is not in these records: staff
still exclude such households on review.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from kiban.benefits.programs import Program, Unit
from kiban.benefits.rules import EXEMPT
from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError
from kiban.core.identity.permissions import Principal
from kiban.core.params.catalogue import ParamValue
from kiban.core.params.service import values_on
from kiban.registry import snapshot
from kiban.tax.access import PURPOSE as TAX_PURPOSE
from kiban.tax.access import may_read as may_read_tax
from kiban.tax.assessment import FLAT_TAX_CUT_YEAR, flat_tax_cut_figures
from kiban.tax.models import Assessment
from kiban.tax.service import population_of as tax_population_of


@dataclass(frozen=True)
class Population:
    residents: pl.DataFrame
    """One row per resident on the base date: the ``kiban.benefits.rules.INPUTS`` columns (for a person program,
    one row per person assessed: ``PERSON_INPUTS``)."""
    parameters: dict[str, ParamValue]


def _tax_statuses(db_session: TenantSession, fiscal_year: int | None, column: str) -> pl.DataFrame:
    """``person_no``, the stored 課税区分 of the 年度 as ``column``, and ``supported_by``."""
    schema = {"person_no": pl.Utf8(), column: pl.Utf8(), "supported_by": pl.Utf8()}
    if fiscal_year is None:
        return pl.DataFrame(schema=schema)
    a = Assessment
    rows = db_session.execute(
        select(a.person_no, a.tax_status, a.supported_by).where(a.fiscal_year == fiscal_year)
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _supported_by_taxed_relative(statuses: pl.DataFrame) -> pl.Expr:
    """Whether the person is the 同一生計配偶者 or 扶養親族 of someone whose 課税区分 (``statuses``) is not 非課税."""
    taxed = statuses.filter(pl.col("tax_status") != EXEMPT)["person_no"]
    return pl.col("supported_by").is_in(taxed.implode()).fill_null(value=False)


def population_of(db_session: TenantSession, *, actor: Principal, program: Program) -> Population:
    """The residents on ``program.base_date`` with their 課税区分 and whether a taxed relative supports them (see the
    module docstring), and the parameters on that date. Reads the registry snapshot (``REGISTRY_READ``, audited
    there) and the stored tax assessments (``TAX_READ``, audited)."""
    if program.unit == Unit.PERSON:
        return _tax_figures(db_session, actor=actor, program=program)
    residents = snapshot.residents(db_session, actor=actor, on=program.base_date)
    years = [y for y in (program.tax_fiscal_year, program.previous_tax_fiscal_year) if y is not None]
    if years:
        may_read_tax(db_session, actor)
    current = _tax_statuses(db_session, program.tax_fiscal_year, "tax_status")
    previous = _tax_statuses(db_session, program.previous_tax_fiscal_year, "tax_status_previous")
    if years:
        record(
            db_session,
            actor=actor,
            action="tax.status.read",
            purpose=TAX_PURPOSE,
            detail={"program": program.code, "fiscal_years": years, "count": current.height + previous.height},
        )
    frame = (
        residents.select("person_no", "household_no", "relationship", "birth_date")
        .join(current, on="person_no", how="left")
        .join(previous.drop("supported_by"), on="person_no", how="left")
        .with_columns(_supported_by_taxed_relative(current).alias("supported_by_taxed_relative"))
        .drop("supported_by")
    )
    return Population(frame, values_on(db_session, program.base_date))


def _tax_figures(db_session: TenantSession, *, actor: Principal, program: Program) -> Population:
    """The persons assessed for the program's 年度 with their 定額減税 figures (``PERSON_INPUTS``). Reads the
    declarations (``TAX_READ``, audited) and the registry snapshot on 1 January (audited there)."""
    fiscal_year = program.tax_fiscal_year
    if fiscal_year != FLAT_TAX_CUT_YEAR:
        fix = f"個人単位の給付は{FLAT_TAX_CUT_YEAR}年度の定額減税の調整給付だけが読めます。"
        raise InputError(FieldError("給付事業", program.name, fix))
    may_read_tax(db_session, actor)
    assessed = tax_population_of(db_session, actor=actor, fiscal_year=fiscal_year)
    figures = flat_tax_cut_figures(assessed.inputs, parameters=assessed.parameters)
    record(
        db_session,
        actor=actor,
        action="tax.flat_tax_cut_figures.read",
        purpose=TAX_PURPOSE,
        detail={"program": program.code, "fiscal_year": fiscal_year, "count": figures.height},
    )
    return Population(figures, values_on(db_session, program.base_date))
