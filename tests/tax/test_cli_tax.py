"""``kiban tax`` end to end on a fresh SQLite file: a seeded town's incomes as declarations (by ``kiban seed``, or
``kiban tax declarations synth``), the assessment with its counts per 課税区分, a rerun that changes nothing, and a
refused declarations file in Japanese."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from kiban.cli.main import main
from kiban.core.db import Database
from kiban.tax.assessment import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from kiban.tax.models import Assessment, AssessmentRun, IncomeDeclaration


def flat(result: Result) -> str:
    """The output without the line breaks the console adds at 80 columns."""
    return result.output.replace("\n", "")


def test_a_seeded_town_is_assessed_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, [*args, "--database-url", url])

    assert run("db", "upgrade").exit_code == 0
    inactive = run("tax", "assess", "--lg-code", "131016", "--fiscal-year", "2026")
    assert inactive.exit_code == 1
    assert "千代田区（131016）は利用開始されていません" in flat(inactive)
    assert run("tenants", "activate", "131016").exit_code == 0
    wrong = run("seed", "--lg-code", "131016", "--persons", "400", "--tax-year", "2031")
    assert wrong.exit_code == 1
    assert "年度：「2031」は受け付けられません" in flat(wrong)
    made = run("seed", "--lg-code", "131016", "--persons", "400", "--seed", "3")
    assert made.exit_code == 0, made.output
    assert "kiban tax assess --lg-code 131016 --fiscal-year 2026" in flat(made)
    synth = ("tax", "declarations", "synth", "--lg-code", "131016", "--fiscal-year", "2026")
    twice = run(*synth, "--persons", "400", "--seed", "3")
    assert twice.exit_code == 1
    assert "すでに登録されています" in flat(twice)

    first = run("tax", "assess", "--lg-code", "131016", "--fiscal-year", "2026")
    assert first.exit_code == 0, first.output
    for label in ("非課税", "均等割のみ課税", "課税", "年税額 合計", "森林環境税"):
        assert label in flat(first)
    again = run("tax", "assess", "--lg-code", "131016", "--fiscal-year", "2026")
    assert again.exit_code == 0, again.output
    assert "前回の計算から変わった結果はありません" in flat(again)

    database = Database(url)
    try:
        with database.tenant("131016") as s:
            assessed = s.scalar(select(func.count()).select_from(Assessment))
            runs = list(s.scalars(select(AssessmentRun.changed).order_by(AssessmentRun.run_no)))
            declared = s.scalar(select(func.count()).select_from(IncomeDeclaration))
            someone = s.scalar(select(Assessment.person_no).order_by(Assessment.person_no).limit(1))
    finally:
        database.dispose()
    assert assessed is not None
    assert assessed > 300
    assert runs == [assessed, 0]
    assert f"2026年度の申告等 {declared:,} 件" in flat(made)
    assert f"計 {assessed:,}".replace(" ", "") in first.output.replace(" ", "").replace("│", "")

    bad = tmp_path / "bad.csv"
    bad.write_bytes(f"宛名番号,年度,種別,給与収入\n{someone},2026,給与支払報告書,１２万円也\n".encode("cp932"))
    refused = run("tax", "declarations", "import", "--lg-code", "131016", str(bad))
    assert refused.exit_code == 1
    assert "2行目「給与収入」：「１２万円也」は受け付けられません" in flat(refused)
    good = tmp_path / "good.csv"
    good.write_text(f"宛名番号,年度,種別,給与収入\n{someone},2026,給与支払報告書,120000\n", encoding="utf-8-sig")
    imported = run("tax", "declarations", "import", "--lg-code", "131016", str(good))
    assert imported.exit_code == 0, imported.output
    assert "申告等 1 件（1 人）を取り込みました" in flat(imported)
    wrong_year = run("tax", "assess", "--lg-code", "131016", "--fiscal-year", "2031")
    assert wrong_year.exit_code == 1
    assert f"{FIRST_FISCAL_YEAR}〜{LAST_FISCAL_YEAR}年度を指定してください（2031）" in flat(wrong_year)


def test_declarations_synth_registers_a_seeded_towns_incomes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiban.sqlite3'}"
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, [*args, "--database-url", url])

    assert run("db", "upgrade").exit_code == 0
    assert run("tenants", "activate", "131016").exit_code == 0
    assert run("seed", "--lg-code", "131016", "--persons", "300", "--seed", "5", "--tax-year", "2025").exit_code == 0
    made = run("tax", "declarations", "synth", "--lg-code", "131016", "--fiscal-year", "2026", "--persons", "300")
    assert made.exit_code == 1, "another seed: people the register does not know"
    assert "住民記録にない宛名番号です" in flat(made)
    made = run(*("tax", "declarations", "synth", "--lg-code", "131016"), *("--persons", "300", "--seed", "5"))
    assert made.exit_code == 0, made.output
    database = Database(url)
    try:
        with database.tenant("131016") as s:
            years = dict(
                s.execute(
                    select(IncomeDeclaration.fiscal_year, func.count()).group_by(IncomeDeclaration.fiscal_year)
                ).all()
            )
    finally:
        database.dispose()
    assert set(years) == {2025, 2026}
    assert years[2025] == years[2026] > 100
    assert f"2026年度の申告等 {years[2026]:,} 件" in flat(made)
