"""The shipped list of local public bodies, read from ``data/`` (see ``data/SOURCES.md`` for provenance).

Sources: 総務省「全国地方公共団体コード」(令和6年1月1日現在) https://www.soumu.go.jp/denshijiti/code.html ;
総務省「住民基本台帳に基づく人口、人口動態及び世帯数」(令和7年1月1日現在); 生活保護 級地区分 (厚生労働省告示
「生活保護法による保護の基準」別表第9). The six Northern-Territories villages have codes but no residents and no
administration, so they are not tenants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files

from kiban.core.identifiers import is_valid_lg_code

KINDS = ("prefecture", "designated_city", "city", "special_ward", "town", "village", "designated_city_ward")


@dataclass(frozen=True)
class Body:
    lg_code: str
    name: str
    name_kana: str
    kind: str
    pref_code: str
    pref_name: str
    parent_code: str | None
    gun: str | None
    population: int
    households: int
    kyuchi: int | None
    kyuchi_sub: int | None

    @property
    def is_municipality(self) -> bool:
        """One of the 1,741 basic municipalities (市町村 and 東京23区)."""
        return self.kind in ("designated_city", "city", "special_ward", "town", "village")


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = files("kiban.core.tenants").joinpath("data", name).read_text(encoding="utf-8")
    yield from csv.DictReader(io.StringIO(text, newline=""))


def load_bodies() -> list[Body]:
    """Every prefecture, municipality and designated-city ward; raises if a code fails its check digit."""
    kyuchi = {r["code"]: (int(r["kyuchi"]), int(r["kyuchi_sub"])) for r in _rows("municipality_kyuchi.csv")}
    bodies: list[Body] = []
    prefs: dict[str, str] = {}
    for r in _rows("prefectures.csv"):
        prefs[r["pref_code"]] = r["name"]
        bodies.append(
            Body(
                r["code"],
                r["name"],
                r["name_kana"],
                "prefecture",
                r["pref_code"],
                r["name"],
                None,
                None,
                int(r["population_total"]),
                int(r["households"]),
                None,
                None,
            )
        )
    for r in _rows("municipalities.csv"):
        if r["northern_territories"] == "1":
            continue
        grade = kyuchi.get(r["code"])
        bodies.append(
            Body(
                r["code"],
                r["name"],
                r["name_kana"],
                r["type_en"],
                r["pref_code"],
                r["pref_name"],
                r["parent_code"] or None,
                r["gun"] or None,
                int(r["population_total"]),
                int(r["households"]),
                grade[0] if grade else None,
                grade[1] if grade else None,
            )
        )
    bad = [b.lg_code for b in bodies if not is_valid_lg_code(b.lg_code) or b.kind not in KINDS]
    if bad:
        raise ValueError(f"invalid local government codes in the shipped data: {bad[:5]}")
    return bodies
