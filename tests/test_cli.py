"""The ``kiban`` command end to end on a fresh SQLite file: upgrade, tenants, users, audit, params, seed."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from kiban.cli.main import main


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
            main, ["seed", "--lg-code", "131016", "--persons", "2000", "--seed", "7", "--parquet", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
    first = pl.read_parquet(tmp_path / "a" / "persons.parquet")
    assert first.height == 2000
    assert first.equals(pl.read_parquet(tmp_path / "b" / "persons.parquet"))


def test_demo_builds_a_municipality_with_staff_who_can_sign_in(tmp_path: Path) -> None:
    from kiban.core.db import Database
    from kiban.core.identity import service
    from kiban.core.tenants.models import Tenant

    result = CliRunner().invoke(main, ["demo", "--no-serve", "--data-dir", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    database = Database(f"sqlite:///{tmp_path / 'kiban.sqlite3'}")
    with database.tenant(None) as s:
        assert s.get_one(Tenant, "131016").active
    row = next(line for line in result.output.splitlines() if " kansa " in line)
    password = row.split("│")[3].strip()
    with database.tenant("131016") as s:
        assert not service.sign_in(s, user_id="kansa", password=password).needs_second_factor
    database.dispose()


def test_activating_a_prefecture_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade", "--database-url", url])
    refused = runner.invoke(main, ["tenants", "activate", "130001", "--database-url", url])
    assert refused.exit_code == 1
    assert "都道府県は利用団体になれません" in refused.output
    done = runner.invoke(main, ["tenants", "activate", "011002", "--database-url", url])
    assert "札幌市（011002）を利用開始にしました" in done.output
