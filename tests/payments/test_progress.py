"""The program dashboard of every stage (``kiban.payments.progress``): households and amounts from 対象・未通知 to
振込済み／振込不能, each household in exactly one stage, the progress as paid amount over entitled amount, each count
linking to its households; the pages, the JSON API, and the speed on a few thousand households; on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import time

import polars as pl
import pytest
from sqlalchemy import event, text

from kiban.core.db import Database
from kiban.core.identity.permissions import Role
from kiban.payments.progress import STAGES, program_progress, stage_households
from kiban.payments.results import import_result
from kiban.payments.service import approve, batch_lines, create_batch, customer_code, issue_file
from kiban.payments.zengin import bank_result

from benefit_town import (
    CHECKER,
    MAKER,
    PROGRAM,
    SENDER,
    TRANSFER_DAY,
    WELFARE,
    add_user,
    confirm_all_directly,
    household_no,
    in_register,
    run,
    town,
)
from conftest import TestDatabase
from residents import A
from web_site import Site

EXPECTED = {
    "unnotified": (1, 70_000),
    "notified": (2, 140_000),
    "needs_review": (1, 0),
    "confirmed": (1, 70_000),
    "awaiting_approval": (1, 70_000),
    "approved": (1, 70_000),
    "issued": (2, 140_000),
    "paid": (3, 310_000),
    "failed": (1, 70_000),
    "withdrawn": (1, 70_000),
}
"""What ``lifecycle_town`` leaves in each stage (households, yen)."""


def _batch(database: Database, households: range, *, approved: bool = False, issued: bool = False) -> int:
    with database.tenant(A) as s:
        confirm_all_directly(s, households)
        batch_no = create_batch(s, actor=MAKER, program_code=PROGRAM, transfer_date=TRANSFER_DAY).batch_no
        if approved or issued:
            seen = batch_lines(s, actor=CHECKER, batch_no=batch_no)
            approve(s, actor=CHECKER, batch_no=batch_no, seen_hash=seen.content_hash)
        if issued:
            issue_file(s, actor=MAKER, batch_no=batch_no, sender=SENDER)
    return batch_no


def lifecycle_town(database: Database) -> None:
    """15 households, in every stage (``EXPECTED``): 0–3 in batch 1, settled with household 3 振込不能 (0 and 1 paid,
    1 with 2 children: 170,000); 4–5 in batch 2, issued; 6 in batch 3, approved; 7 in batch 4, awaiting approval;
    8 confirmed; 9–10 notified; 11 not notified; 12 without a 課税区分 (要確認); 13 withdrawn by a second run; 14
    taxed (no entitlement)."""
    frame = town(15, children={1: 2}, taxable={14})
    unknown = pl.col("household_no") == household_no(12)
    residents = frame.with_columns(pl.when(unknown).then(None).otherwise(pl.col("tax_status")).alias("tax_status"))
    with database.tenant(A) as s:
        run(s, in_register(s, residents))
    first = _batch(database, range(4), issued=True)
    with database.tenant(A) as s:
        issued = s.execute(text("SELECT content FROM payment_file WHERE batch_no = :b"), {"b": first}).scalar_one()
        result = bank_result(issued, {customer_code(first, 4): "2"})
        import_result(s, actor=MAKER, batch_no=first, content=result)
    _batch(database, range(4, 6), issued=True)
    _batch(database, range(6, 7), approved=True)
    _batch(database, range(7, 8))
    with database.tenant(A) as s:
        confirm_all_directly(s, range(8, 9))
        s.execute(
            text("UPDATE benefit_entitlement SET notified_at = CURRENT_TIMESTAMP WHERE household_no IN (:a, :b)"),
            {"a": household_no(9), "b": household_no(10)},
        )
        run(s, residents.filter(pl.col("household_no") != household_no(13)))


def _counts(database: Database) -> dict[str, tuple[int, int]]:
    with database.tenant(A) as s:
        (found,) = program_progress(s, actor=WELFARE, program_code=PROGRAM)
    return {stage: (c.households, c.amount) for stage, c in found.stages.items()}


def test_every_household_is_in_exactly_one_stage_and_progress_is_the_paid_amount(db: TestDatabase) -> None:
    lifecycle_town(db.app)
    assert _counts(db.app) == EXPECTED
    assert list(EXPECTED) == list(STAGES)
    with db.app.tenant(A) as s:
        (found,) = program_progress(s, actor=WELFARE, program_code=PROGRAM)
        entitled = sum(amount for stage, (_, amount) in EXPECTED.items() if stage != "withdrawn")
        assert (found.entitled.households, found.entitled.amount) == (13, entitled)
        assert found.paid_share == pytest.approx(310_000 / entitled)
        listed = {
            stage: [e.household_no for e in stage_households(s, actor=WELFARE, program_code=PROGRAM, stage=stage).rows]
            for stage in STAGES
        }
    assert listed["paid"] == [household_no(i) for i in (0, 1, 2)]
    assert listed["failed"] == [household_no(3)]
    assert listed["issued"] == [household_no(4), household_no(5)]
    assert listed["approved"] == [household_no(6)]
    assert listed["awaiting_approval"] == [household_no(7)]
    assert listed["notified"] == [household_no(9), household_no(10)]
    assert listed["unnotified"] == [household_no(11)]
    everyone = sorted(h for households in listed.values() for h in households)
    assert everyone == [household_no(i) for i in range(14)], "each stored household listed once"


def test_the_counts_are_one_grouped_query_on_a_few_thousand_households(db: TestDatabase) -> None:
    households = 3_000
    with db.app.tenant(A) as s:
        run(s, in_register(s, town(households)))
    _batch(db.app, range(1_000), approved=True)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with db.app.tenant(A) as s:
        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            (found,) = program_progress(s, actor=WELFARE, program_code=PROGRAM)
            elapsed = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert found.stages["approved"].households == 1_000
    assert found.stages["unnotified"].households == households - 1_000
    assert len([x for x in statements if "benefit_entitlement" in x]) == 1
    assert elapsed < 1.0, elapsed


def _row(html: str, stage: str) -> str:
    row = re.search(rf'<tr data-stage="{stage}">(.*?)</tr>', html, re.S)
    assert row is not None, stage
    return row.group(1)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_the_progress_pages_and_api(site: Site) -> None:
    lifecycle_town(site.db.app)
    add_user(site, "welfare", Role.WELFARE)
    client = site.login("welfare")

    benefits = client.get("/benefits").text
    assert 'href="/payments/progress"' in benefits
    assert client.get(f"/benefits/{PROGRAM}").text.count(f'href="/payments/progress/{PROGRAM}"') == 1

    overview = client.get("/payments/progress")
    assert overview.status_code == 200
    page = client.get(f"/payments/progress/{PROGRAM}")
    assert page.status_code == 200
    section = re.search(rf'data-testid="progress-{PROGRAM}">(.*?)</section>', overview.text, re.S)
    assert section is not None
    for html in (section.group(1), page.text):
        for stage, (households, amount) in EXPECTED.items():
            text_of_row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _row(html, stage)))
            assert f"{households:,}世帯" in text_of_row, stage
            assert f"{amount:,}円" in text_of_row, stage
    # counts link to the benefits search where it filters the same households, else to the stage's list
    assert f'href="/benefits/{PROGRAM}/entitlements?status=paid"' in _row(page.text, "paid")
    assert f'href="/payments/progress/{PROGRAM}/issued"' in _row(page.text, "issued")
    listed = client.get(f"/payments/progress/{PROGRAM}/issued")
    assert listed.status_code == 200
    assert re.findall(r'<tr data-household="([^"]+)">', listed.text) == [household_no(4), household_no(5)]
    assert 'href="/payments/2"' in listed.text
    searched = client.get(f"/benefits/{PROGRAM}/entitlements?status=paid").text
    assert all(household_no(i) in searched for i in (0, 1, 2))

    unknown = client.get(f"/payments/progress/{PROGRAM}/nothing")
    assert unknown.status_code == 422
    assert "段階" in unknown.text

    api = client.get(f"/api/v1/payments/progress/{PROGRAM}")
    assert api.status_code == 200
    body = api.json()
    assert {k: (v["households"], v["amount"]) for k, v in body["stages"].items()} == EXPECTED
    assert body["stages"]["issued"]["label"] == "振込依頼済み（送付済み）"
    assert body["paid_share"] == pytest.approx(310_000 / body["entitled_amount"])
    every = client.get("/api/v1/payments/progress").json()
    assert PROGRAM in [p["program"] for p in every]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_progress_needs_the_benefit_read_permission(site: Site) -> None:
    add_user(site, "clerk", Role.REGISTRY)
    client = site.login("clerk")
    assert client.get("/payments/progress").status_code == 403
    assert client.get("/api/v1/payments/progress").status_code == 403
