"""Questions asked of the assessment: why one person's tax is what it is (explain), and what a parameter change
would do to the municipality (what-if). Both compute from the same inputs and the same rules as the stored run
(``municipal_population``), so an explanation never drifts from the assessment it explains."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from sqlalchemy import select

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.core.params.catalogue import ParamValue
from kiban.core.params.service import values_on
from kiban.core.rules.engine import Trace
from kiban.core.rules.whatif import Comparison
from kiban.core.tenants.models import Tenant
from kiban.registry import snapshot
from kiban.tax.access import PURPOSE, may_read
from kiban.tax.assessment import computation_date
from kiban.tax.explain import explain_person, parse_overrides, simulate
from kiban.tax.inputs import DESIGNATED_CITY_KINDS
from kiban.tax.service import assessment_inputs, declared_incomes, levy_date


def designated_city(db_session: TenantSession, lg_code: str) -> bool:
    kind = db_session.scalar(select(Tenant.kind).where(Tenant.lg_code == lg_code))
    return kind in DESIGNATED_CITY_KINDS


def municipal_population(
    db_session: TenantSession, *, actor: Principal, fiscal_year: int
) -> tuple[pl.DataFrame, dict[str, ParamValue], int]:
    """The assessment's population for ``fiscal_year`` (residents on 1 January with their summed declarations), the
    municipality's parameters in force, and how many declared people were not residents then."""
    lg_code = may_read(db_session, actor)
    residents = snapshot.residents(db_session, actor=actor, on=levy_date(fiscal_year))
    declared = declared_incomes(db_session, fiscal_year)
    population, not_resident = assessment_inputs(
        residents, declared, designated_city=designated_city(db_session, lg_code)
    )
    return population, values_on(db_session, computation_date(fiscal_year)), not_resident


def explain_assessment(db_session: TenantSession, *, actor: Principal, person_no: str, fiscal_year: int) -> list[Trace]:
    """Every value and parameter behind ``person_no``'s assessment of ``fiscal_year``. Audited."""
    population, parameters, _ = municipal_population(db_session, actor=actor, fiscal_year=fiscal_year)
    record(
        db_session,
        actor=actor,
        action="tax.explain",
        purpose=PURPOSE,
        subject=person_no,
        detail={"fiscal_year": fiscal_year},
    )
    return explain_person(population, fiscal_year=fiscal_year, parameters=parameters, person_no=person_no)


def what_if(db_session: TenantSession, *, actor: Principal, fiscal_year: int, changes: Mapping[str, str]) -> Comparison:
    """The municipality assessed under its parameters and under ``changes`` (name → typed value). Audited."""
    values = parse_overrides(changes)
    population, parameters, _ = municipal_population(db_session, actor=actor, fiscal_year=fiscal_year)
    result = simulate(population, fiscal_year=fiscal_year, parameters=parameters, changes=values)
    record(
        db_session,
        actor=actor,
        action="tax.what_if",
        purpose=PURPOSE,
        detail={"fiscal_year": fiscal_year, "changes": dict(changes), "persons_changed": result.differing.height},
    )
    return result
