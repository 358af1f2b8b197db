"""Parameters: the declared catalogue, national values by date, municipal values within bounds, the cache, and
refusals that change nothing. Every test taking ``db`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, select

from kiban.core.errors import InputError, NotFound, PermissionDenied
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.core.params import service
from kiban.core.params.catalogue import CatalogueError, load_catalogue
from kiban.core.params.models import ParameterOverride

from conftest import TestDatabase

CHIYODA = "131016"  # 千代田区, 1級地-1
SAPPORO = "011002"  # 札幌市 (指定都市), 1級地-2
HAKODATE = "012025"  # 函館市, 2級地-1
KITAMI = "012084"  # 北見市, 3級地-1

PER_CAPITA = "resident_tax.per_capita.municipal"
FY2023 = date(2023, 4, 1)
FY2024 = date(2024, 4, 1)
FY2025 = date(2025, 4, 1)
FY2026 = date(2026, 4, 1)


def principal(lg_code: str, role: Role, user_id: str) -> Principal:
    roles = frozenset({role})
    return Principal(
        user_id=user_id,
        display_name=user_id,
        home_lg_code=lg_code,
        lg_code=lg_code,
        roles=roles,
        permissions=permissions_of(roles),
    )


ADMIN = principal(CHIYODA, Role.TENANT_ADMIN, "admin-chiyoda")
CLERK = principal(CHIYODA, Role.TAX, "tax-chiyoda")
SAPPORO_ADMIN = principal(SAPPORO, Role.TENANT_ADMIN, "admin-sapporo")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    service.clear_cache()
    yield
    service.clear_cache()


def set_per_capita(db: TestDatabase, amount: object, start: date, *, actor: Principal = ADMIN) -> None:
    with db.app.tenant(actor.lg_code) as s:
        service.set_municipal_value(
            s, actor=actor, name=PER_CAPITA, value=amount, effective_from=start, reason="市税条例第X条の改正"
        )


def override_count(db: TestDatabase, lg_code: str = CHIYODA) -> int:
    with db.app.tenant(lg_code) as s:
        return s.scalar(select(func.count()).select_from(ParameterOverride)) or 0


def audit_outcomes(db: TestDatabase, lg_code: str = CHIYODA) -> list[str]:
    """Outcomes of the tenant's ``parameters.set`` audit records, oldest first."""
    from kiban.core.audit.models import AuditEntry

    with db.app.tenant(lg_code) as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == service.ACTION_SET).order_by(AuditEntry.seq))
        return [r.outcome for r in rows]


# --- the declared catalogue ---------------------------------------------------------------------------------------


def test_the_shipped_catalogue_declares_cited_parameters() -> None:
    declared = service.catalogue()
    assert len(declared) >= 25
    for p in declared.values():
        # taxes cite the law; benefits cite the 閣議決定 and 交付要綱 that create them (they are budget measures)
        assert ("法" if p.name.startswith(("resident_tax", "forest")) else "") in p.legal_basis.citation, p.name
        assert p.legal_basis.citation.strip(), p.name
        assert (p.bounds is not None) == (p.scope == "municipal" and p.type != "bool"), p.name
    assert service.describe(PER_CAPITA).label == "個人市町村民税 均等割の税率"
    assert service.describe("forest_environment_tax.per_capita").scope == "national"
    with pytest.raises(NotFound, match=r"no\.such"):
        service.describe("no.such")


GOOD = """
version: 1
parameters:
  - name: demo.amount
    label: 例
    type: yen
    unit: 円
    scope: municipal
    legal_basis: {citation: 地方税法第1条}
    national:
      - {from: 2024-04-01, until: 2025-03-31, value: 100}
      - {from: 2025-04-01, until: null, value: 200}
    municipal_bounds: {min: 0, max: 300}
    description: 例
"""


def test_a_well_formed_document_loads() -> None:
    loaded = load_catalogue(GOOD)
    assert loaded["demo.amount"].national_value(date(2025, 3, 31)) == 100
    assert loaded["demo.amount"].national_value(date(2025, 4, 1)) == 200
    assert loaded["demo.amount"].national_value(date(2024, 3, 31)) is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    description: 例\n", "    description: 例\n    colour: red\n", "unknown key"),
        ("until: 2025-03-31", "until: 2025-04-01", "overlaps"),
        ("{min: 0, max: 300}", "{min: 0, max: 150}", "outside municipal_bounds"),
        ("{min: 0, max: 300}", "{min: 400, max: 300}", "above max"),
        ("type: yen", "type: money", "type 'money'"),
        ("scope: municipal", "scope: national", "only for scope municipal"),
        ("    legal_basis: {citation: 地方税法第1条}\n", "", "missing key(s) ['legal_basis']"),
        ("value: 100}", "value: '100'}", "integer number of yen"),
        ("name: demo.amount", "name: Demo Amount", "dotted lower-case"),
        ("until: 2025-03-31", "until: 2024-03-31", "before from"),
        ("version: 1", "version: 2", "version must be 1"),
        ("    municipal_bounds: {min: 0, max: 300}\n", "", "needs municipal_bounds"),
        ("value: 100}", "by_kyuchi: {1: 100, 2: 90}}", "exactly the 級地"),
    ],
)
def test_the_loader_rejects_a_malformed_document(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_catalogue(GOOD.replace(old, new))


def test_the_loader_rejects_floats_for_rates_and_duplicate_names() -> None:
    rate = GOOD.replace("type: yen", "type: rate").replace("value: 100}", "value: 0.06}")
    with pytest.raises(CatalogueError, match="quoted decimal string"):
        load_catalogue(rate)
    body = GOOD.split("parameters:\n", 1)[1]
    with pytest.raises(CatalogueError, match="declared twice"):
        load_catalogue(GOOD + body)


# --- national values ----------------------------------------------------------------------------------------------


def test_national_values_follow_the_fiscal_year(db: TestDatabase) -> None:
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2023) == 3500  # 復興特別 +500 until 令和5年度
        assert service.value(s, PER_CAPITA, FY2024) == 3000
        assert service.value(s, "resident_tax.per_capita.prefectural", date(2024, 3, 31)) == 1500
        assert service.value(s, "resident_tax.per_capita.prefectural", FY2024) == 1000
        with pytest.raises(NotFound, match="2024-03-31時点の値がありません"):
            service.value(s, "forest_environment_tax.per_capita", date(2024, 3, 31))
        assert service.value(s, "forest_environment_tax.per_capita", FY2024) == 1000
        assert service.value(s, "resident_tax.flat_reduction.per_person", FY2024) == 10000
        assert service.value(s, "resident_tax.flat_reduction.per_person", FY2025) == 10000
        with pytest.raises(NotFound):
            service.value(s, "resident_tax.flat_reduction.per_person", FY2026)
        rate = service.value(s, "resident_tax.income_levy.rate.municipal", FY2026)
        assert isinstance(rate, Decimal)
        assert rate == Decimal("0.06")
        with pytest.raises(NotFound, match="定義されていません"):
            service.value(s, "resident_tax.no_such_thing", FY2024)
        everything = service.values_on(s, FY2023)
    assert "forest_environment_tax.per_capita" not in everything
    assert everything[PER_CAPITA] == 3500


def test_exemption_amounts_follow_the_tenants_kyuchi(db: TestDatabase) -> None:
    name = "resident_tax.per_capita.exemption.per_person"
    expected = {CHIYODA: 350_000, HAKODATE: 315_000, KITAMI: 280_000}
    for lg_code, amount in expected.items():
        with db.app.tenant(lg_code) as s:
            assert service.value(s, name, FY2025) == amount
            assert service.values_on(s, FY2025)[name] == amount
    with db.app.tenant(None) as s:
        assert service.value(s, "resident_tax.basic_deduction.amount", FY2025) == 430_000
        with pytest.raises(NotFound, match="級地によって決まりますが、団体が指定されていません"):
            service.value(s, name, FY2025)


# --- municipal values ---------------------------------------------------------------------------------------------


def test_a_municipal_value_applies_to_that_tenant_from_its_date(db: TestDatabase) -> None:
    set_per_capita(db, 3900, FY2025)
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2024) == 3000
        assert service.value(s, PER_CAPITA, date(2025, 3, 31)) == 3000
        assert service.value(s, PER_CAPITA, FY2025) == 3900
        assert service.value(s, PER_CAPITA, FY2026) == 3900
        assert service.values_on(s, FY2026)[PER_CAPITA] == 3900
        [entry] = service.history(s, PER_CAPITA)
    assert (entry.value, entry.effective_from, entry.set_by, entry.revision) == (3900, FY2025, ADMIN.user_id, 1)
    assert entry.reason == "市税条例第X条の改正"
    assert not entry.superseded
    assert audit_outcomes(db) == ["ok"]


def test_another_tenant_does_not_see_the_value(db: TestDatabase) -> None:
    set_per_capita(db, 3900, FY2025)
    with db.app.tenant(SAPPORO) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000
        assert service.values_on(s, FY2025)[PER_CAPITA] == 3000
        assert service.history(s, PER_CAPITA) == []
        with pytest.raises(PermissionDenied):
            service.value(s, PER_CAPITA, FY2025, lg_code=CHIYODA)
    assert override_count(db, SAPPORO) == 0
    assert override_count(db, CHIYODA) == 1


def test_setting_the_same_date_again_adds_a_revision_and_the_latest_wins(db: TestDatabase) -> None:
    set_per_capita(db, 3900, FY2025)
    set_per_capita(db, 3800, FY2025)
    set_per_capita(db, None, FY2026)  # back to the national value
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3800
        assert service.value(s, PER_CAPITA, FY2026) == 3000
        entries = service.history(s, PER_CAPITA)
    assert [(e.value, e.revision, e.superseded) for e in entries] == [
        (3900, 1, True),
        (3800, 2, False),
        (None, 1, False),
    ]
    assert override_count(db) == 3


def test_an_end_date_returns_to_the_national_value(db: TestDatabase) -> None:
    name = "resident_tax.income_levy.rate.municipal"
    with db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(
            s,
            actor=ADMIN,
            name=name,
            value="0.061",
            effective_from=FY2025,
            effective_until=date(2026, 3, 31),
            reason="超過課税（令和7年度限り）",
        )
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, name, FY2025) == Decimal("0.061")
        assert service.value(s, name, FY2026) == Decimal("0.06")


def test_the_cache_sees_a_change_at_once(db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    queries: list[str] = []
    real = service._own_value

    def counting(*args: object, **kwargs: object) -> ParameterOverride | None:
        queries.append("q")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_own_value", counting)
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000
    assert len(queries) == 1, "the second read comes from the cache"

    with db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(s, actor=ADMIN, name=PER_CAPITA, value=3900, effective_from=FY2025, reason="改正")
        assert service.value(s, PER_CAPITA, FY2025) == 3900, "the writing session sees its own change"
        with db.app.tenant(CHIYODA) as other:
            assert service.value(other, PER_CAPITA, FY2025) == 3000, "others see the committed value"
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3900
        assert service.values_on(s, FY2025)[PER_CAPITA] == 3900


def test_a_rolled_back_change_leaves_the_cache_right(db: TestDatabase) -> None:
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000
    with db.app.session(CHIYODA) as s:
        s.begin()
        service.set_municipal_value(s, actor=ADMIN, name=PER_CAPITA, value=3900, effective_from=FY2025, reason="改正")
        assert service.value(s, PER_CAPITA, FY2025) == 3900
        s.rollback()
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000
    assert override_count(db) == 0


# --- refusals change nothing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "reason", "field", "says"),
    [
        ("resident_tax.made_up", 100, "条例", "パラメータ名", "定義済みのパラメータ名"),
        ("forest_environment_tax.per_capita", 1200, "条例", "パラメータ名", "全国一律"),
        (PER_CAPITA, 9000, "条例", "個人市町村民税 均等割の税率", "1,000円以上6,000円以下で入力してください。"),
        (PER_CAPITA, "三千円", "条例", "個人市町村民税 均等割の税率", "円単位の整数"),
        (
            "resident_tax.income_levy.rate.municipal",
            "0.2",
            "条例",
            "個人市町村民税 所得割の税率",
            "5%）以上0.08（8%）以下",
        ),
        ("resident_tax.income_levy.rate.municipal", 0.06, "条例", "個人市町村民税 所得割の税率", "文字列"),
        (PER_CAPITA, 3900, "  ", "変更理由", "理由"),
    ],
)
def test_invalid_input_is_refused_and_changes_nothing(
    db: TestDatabase, name: str, value: object, reason: str, field: str, says: str
) -> None:
    with pytest.raises(InputError) as refused, db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(s, actor=ADMIN, name=name, value=value, effective_from=FY2025, reason=reason)
    [error] = refused.value.errors
    assert error.field.startswith(field)
    assert says in error.message
    assert str(refused.value).startswith(field)
    assert override_count(db) == 0
    assert audit_outcomes(db) == []


def test_a_date_before_the_parameter_exists_is_refused(db: TestDatabase) -> None:
    with pytest.raises(InputError, match="適用開始日") as refused, db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(
            s, actor=ADMIN, name=PER_CAPITA, value=3000, effective_from=date(2010, 4, 1), reason="x"
        )
    assert "2014-04-01以降" in str(refused.value)
    assert override_count(db) == 0


def test_a_change_without_the_tenant_admin_role_is_refused_and_audited(db: TestDatabase) -> None:
    with pytest.raises(PermissionDenied, match="団体管理者"), db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(s, actor=CLERK, name=PER_CAPITA, value=3900, effective_from=FY2025, reason="x")
    assert override_count(db) == 0
    assert audit_outcomes(db) == ["denied"]
    with db.app.tenant(CHIYODA) as s:
        assert service.value(s, PER_CAPITA, FY2025) == 3000


def test_another_tenants_admin_cannot_set_values(db: TestDatabase) -> None:
    with pytest.raises(PermissionDenied, match=CHIYODA), db.app.tenant(CHIYODA) as s:
        service.set_municipal_value(
            s, actor=SAPPORO_ADMIN, name=PER_CAPITA, value=3900, effective_from=FY2025, reason="x"
        )
    assert override_count(db) == 0
    assert override_count(db, SAPPORO) == 0
    assert audit_outcomes(db) == ["denied"]


@pytest.mark.postgres
def test_the_app_role_cannot_rewrite_or_erase_history(pg_db: TestDatabase) -> None:
    set_per_capita(pg_db, 3900, FY2025)
    url = pg_db.app_url.replace("postgresql+psycopg://", "postgresql://")
    for statement in ("UPDATE parameter_override SET value = '5000'", "DELETE FROM parameter_override"):
        with psycopg.connect(url) as conn:
            conn.execute("SELECT set_config('kiban.lg_code', %s, true)", (CHIYODA,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert override_count(pg_db) == 1
