"""Questions asked of the assessment: why one person's tax is what it is (explain), and what a parameter change
would do to the municipality (what-if). Both compute from the same inputs and the same rules as the stored run
(``kiban.tax.service.population_of``), so an explanation never drifts from the assessment it explains."""

from __future__ import annotations

from collections.abc import Mapping

from kiban.core.audit.service import record
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Principal
from kiban.core.rules.engine import Trace
from kiban.core.rules.whatif import Comparison
from kiban.tax.access import PURPOSE, may_read
from kiban.tax.explain import explain_person, parse_overrides, simulate
from kiban.tax.service import population_of


def explain_assessment(db_session: TenantSession, *, actor: Principal, person_no: str, fiscal_year: int) -> list[Trace]:
    """Every value and parameter behind ``person_no``'s assessment of ``fiscal_year``. Audited."""
    may_read(db_session, actor)
    population = population_of(db_session, actor=actor, fiscal_year=fiscal_year)
    record(
        db_session,
        actor=actor,
        action="tax.explain",
        purpose=PURPOSE,
        subject=person_no,
        detail={"fiscal_year": fiscal_year},
    )
    return explain_person(
        population.inputs, fiscal_year=fiscal_year, parameters=population.parameters, person_no=person_no
    )


def what_if(db_session: TenantSession, *, actor: Principal, fiscal_year: int, changes: Mapping[str, str]) -> Comparison:
    """The municipality assessed under its parameters and under ``changes`` (name → typed value). Audited."""
    may_read(db_session, actor)
    values = parse_overrides(changes)
    population = population_of(db_session, actor=actor, fiscal_year=fiscal_year)
    result = simulate(population.inputs, fiscal_year=fiscal_year, parameters=population.parameters, changes=values)
    record(
        db_session,
        actor=actor,
        action="tax.what_if",
        purpose=PURPOSE,
        detail={"fiscal_year": fiscal_year, "changes": dict(changes), "persons_changed": result.differing.height},
    )
    return result
