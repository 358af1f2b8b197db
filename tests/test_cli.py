"""The ``kiban`` command end to end on a fresh SQLite file: upgrade, tenants, users, audit, params, seed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import String, func, select

from kiban.cli.main import main
from kiban.core import crypto
from kiban.core.audit import service as audit
from kiban.core.config import get_settings
from kiban.core.db import Database
from kiban.core.identity.models import StaffUser
from kiban.core.identity.permissions import Principal, Role, permissions_of
from kiban.core.tenants import service as tenants
from kiban.registry import snapshot
from kiban.registry.models import Person
from kiban.registry.search import search

from conftest import TestDatabase


def test_commands_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(main, [*args, "--database-url", url], input=input, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "1,959" in run("db", "upgrade")
    assert "千代田区" in run("tenants", "show", "131016")
    assert "23 団体" in run("tenants", "list", "--kind", "special_ward")
    created = run(
        "users",
        "create",
        "--lg-code",
        "131016",
        "--user-id",
        "juki",
        "--name",
        "住記 一郎",
        "--role",
        "registry",
        input="long enough password\nlong enough password\n",
    )
    assert "otpauth://" in created
    head = json.loads(run("audit", "export-head", "--lg-code", "131016"))
    assert head["seq"] == 0
    assert "3,000円" in run("params", "list", "--lg-code", "131016", "--on", "令和7年4月1日")


def test_errors_are_one_japanese_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade", "--database-url", url])
    result = runner.invoke(main, ["tenants", "show", "131017", "--database-url", url])
    assert result.exit_code == 1
    assert "検査数字" in result.output
    assert "Traceback" not in result.output


def test_seed_writes_a_deterministic_population(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            main,
            [
                *("seed", "--lg-code", "131016", "--persons", "2000", "--seed", "7"),
                *("--no-database", "--parquet", str(tmp_path / name)),
            ],
        )
        assert result.exit_code == 0, result.output
    first = pl.read_parquet(tmp_path / "a" / "persons.parquet")
    assert first.height == 2000
    assert first.equals(pl.read_parquet(tmp_path / "b" / "persons.parquet"))


def _registry_clerk(lg_code: str = "131016") -> Principal:
    roles = frozenset({Role.REGISTRY})
    return Principal("juki", "住記 一郎", lg_code, lg_code, roles, permissions_of(roles))


def test_seed_loads_an_active_tenants_empty_register_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()

    def seed(*args: str) -> Result:
        return runner.invoke(main, ["seed", "--lg-code", "131016", *args, "--database-url", url])

    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    inactive = seed("--persons", "500")
    assert inactive.exit_code == 1
    assert "千代田区（131016）は利用開始されていません" in inactive.output.replace("\n", "")
    assert runner.invoke(main, ["tenants", "activate", "131016", "--database-url", url]).exit_code == 0

    loaded = seed("--persons", "500", "--seed", "3", "--parquet", str(tmp_path / "parquet"))
    assert loaded.exit_code == 0, loaded.output
    assert "読み込みました" in loaded.output
    assert pl.read_parquet(tmp_path / "parquet" / "persons.parquet").height == 500
    database = Database(url)
    persons = pl.read_parquet(tmp_path / "parquet" / "persons.parquet")
    with database.tenant("131016") as s:
        on = snapshot.residents(s, actor=_registry_clerk(), on=date.today())
        someone = persons.row(0, named=True)
        hits = search(s, actor=_registry_clerk(), resident_code=someone["resident_code"])
        chain = audit.verify_chain(s, "131016")
    assert on.height == 500
    assert [h.person_no for h in hits] == [someone["person_no"]]
    assert chain.ok
    assert chain.entries >= 1

    again = seed("--persons", "500", "--seed", "4", "--parquet", str(tmp_path / "again"))
    assert again.exit_code == 1
    assert "すでに住民が記録されています" in again.output.replace("\n", "")
    assert "Traceback" not in again.output
    assert not (tmp_path / "again").exists()
    with database.tenant("131016") as s:
        assert snapshot.residents(s, actor=_registry_clerk(), on=date.today()).height == 500
    database.dispose()


def test_seed_loads_the_register_on_each_backend(db: TestDatabase) -> None:
    with db.owner.tenant(None) as s:
        tenants.activate(db_session=s, lg_code="011002")
    result = CliRunner().invoke(
        main, ["seed", "--lg-code", "011002", "--persons", "300", "--seed", "5", "--database-url", db.app_url]
    )
    assert result.exit_code == 0, result.output
    clerk = _registry_clerk("011002")
    with db.app.tenant("011002") as s:
        residents = snapshot.residents(s, actor=clerk, on=date.today())
        someone = residents.row(0, named=True)
        hits = search(s, actor=clerk, kana=someone["family_name_kana"], birth_date=someone["birth_date"])
        person = s.get_one(Person, ("011002", someone["person_no"]))
        assert person.my_number is not None
        assert len(person.my_number) == 12
    assert residents.height == 300
    assert someone["person_no"] in [h.person_no for h in hits]


def test_seed_needs_a_database_or_a_parquet_directory() -> None:
    result = CliRunner().invoke(main, ["seed", "--lg-code", "131016", "--persons", "5", "--no-database"])
    assert result.exit_code == 2
    assert "--parquet" in result.output


@pytest.fixture
def use_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Sets KIBAN_DATA_KEYS for the rest of the test (settings are cached per process; the keyring per spec)."""

    def use(spec: str) -> None:
        monkeypatch.setenv("KIBAN_DATA_KEYS", spec)
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


def test_keys_rotate_re_encrypts_under_the_first_key(tmp_path: Path, use_keys: Callable[[str], None]) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    key_a, key_b = crypto.generate_key("a"), crypto.generate_key("b")
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, [*args, "--database-url", url], catch_exceptions=False)

    use_keys(key_a)
    assert run("db", "upgrade").exit_code == 0
    assert run("tenants", "activate", "131016").exit_code == 0
    assert run("seed", "--lg-code", "131016", "--persons", "50").exit_code == 0
    password = "long enough password\n"
    created = runner.invoke(
        main,
        [
            *("users", "create", "--lg-code", "131016", "--user-id", "juki", "--name", "住記 一郎"),
            *("--role", "registry", "--database-url", url),
        ],
        input=password * 2,
    )
    assert created.exit_code == 0, created.output
    database = Database(url)
    with database.tenant("131016") as s:
        stored = s.scalars(select(Person.my_number.cast(String)).where(Person.my_number.is_not(None))).all()
        secret = s.scalar(select(StaffUser.totp_secret))
    assert stored
    assert all(token.startswith("v1:a:") for token in stored)

    use_keys(f"{key_b},{key_a}")
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert f"{len(stored) + 1:,} 件を鍵「b」で暗号化し直しました" in rotated.output
    assert "131016" in rotated.output
    again = run("keys", "rotate")
    assert "0 件" in again.output

    use_keys(key_b)
    with database.tenant("131016") as s:
        after = s.scalars(select(Person.my_number.cast(String)).where(Person.my_number.is_not(None))).all()
        assert all(token.startswith("v1:b:") for token in after)
        numbers = s.scalars(select(Person.my_number).where(Person.my_number.is_not(None))).all()
        assert [n for n in numbers if n is None or len(n) != 12 or not n.isdigit()] == []
        assert s.scalar(select(StaffUser.totp_secret)) == secret
    use_keys(key_a)
    with database.tenant("131016") as s, pytest.raises(crypto.CryptoError):
        s.scalars(select(Person.my_number).where(Person.my_number.is_not(None))).all()
    database.dispose()


def test_keys_generate_prints_a_usable_key() -> None:
    result = CliRunner().invoke(main, ["keys", "generate", "k2"])
    assert result.exit_code == 0, result.output
    ring = crypto.Keyring.parse(result.output.strip())
    assert ring.active == "k2"
    refused = CliRunner().invoke(main, ["keys", "generate", "k-2"])
    assert refused.exit_code == 1
    assert "英数字" in refused.output


def test_demo_builds_a_municipality_with_staff_who_can_sign_in_and_pays_a_benefit(tmp_path: Path) -> None:
    """Two runs in the same directory (the second starts afresh): registry, tax, and a benefit paid end to end."""
    from sqlalchemy import text

    from kiban.benefits.models import Entitlement
    from kiban.cli.demo import DEMO_FAILED_LINE, DEMO_PROGRAM, DEMO_REPLIES
    from kiban.core.db import Database
    from kiban.core.identity import service
    from kiban.core.tenants.models import Tenant
    from kiban.payments.models import PaymentBatch
    from kiban.payments.zengin import parse, parse_result

    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--no-serve", "--data-dir", str(tmp_path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    database = Database(f"sqlite:///{tmp_path / 'kiban.sqlite3'}")
    with database.tenant(None) as s:
        assert s.get_one(Tenant, "131016").active
    row = next(line for line in result.output.splitlines() if " kansa " in line)
    password = row.split("│")[3].strip()
    with database.tenant("131016") as s:
        assert not service.sign_in(s, user_id="kansa", password=password).needs_second_factor
        statuses: dict[str, int] = dict(
            s.execute(text("SELECT tax_status, count(*) FROM tax_assessment WHERE fiscal_year = 2026 GROUP BY 1")).all()
        )
        benefit: dict[str, int] = dict(
            s.execute(select(Entitlement.status, func.count()).group_by(Entitlement.status)).all()
        )
        batches = [(b.batch_no, b.maker, b.approved_by) for b in s.scalars(select(PaymentBatch))]
    database.dispose()
    assert {"exempt", "taxable"} <= set(statuses)
    assert sum(statuses.values()) > 2_000, "the demo's residents on 1 January 2026 are assessed"

    assert batches == [(1, "kiso", "shonin")], "one batch, made and approved by two people"
    assert benefit["paid"] == DEMO_REPLIES - 1
    assert benefit["failed"] == 1
    assert benefit["eligible"] > 100, "the other households wait for their 確認書"
    output = tmp_path / "output"
    issued = parse((output / "zengin-0001.txt").read_bytes())
    returned = parse_result((output / "zengin-0001-result.txt").read_bytes())
    assert issued.count == DEMO_REPLIES
    assert [x.line.customer_code for x in returned.lines if not x.paid] == [f"0001{DEMO_FAILED_LINE:06d}"]
    assert len(list((output / "notices").glob("*_notices.zip"))) == 1, "the first run's files were replaced"
    prints = list((output / "notices").glob("*_print.csv"))
    assert len(prints) == 1
    assert len(prints[0].read_bytes().decode("cp932").splitlines()) == benefit["eligible"] + 1 + DEMO_REPLIES
    assert DEMO_PROGRAM.name in result.output
    assert f"振込済 {DEMO_REPLIES - 1} 件" in result.output
    assert "振込不能 1 件 70,000円" in result.output.replace("\n", "")


def test_activating_a_prefecture_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade", "--database-url", url])
    refused = runner.invoke(main, ["tenants", "activate", "130001", "--database-url", url])
    assert refused.exit_code == 1
    assert "都道府県は利用団体になれません" in refused.output
    done = runner.invoke(main, ["tenants", "activate", "011002", "--database-url", url])
    assert "札幌市（011002）を利用開始にしました" in done.output
