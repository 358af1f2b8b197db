"""The declared parameter catalogue: loading ``catalogue.yaml`` and checking it strictly.

A parameter is declared once, with its Japanese label, type and unit, legal basis, the national values with the
dates they apply, and whether a municipality may set its own value (``scope: municipal``) and within which bounds.

Value types keep arithmetic exact:

* ``yen`` — ``int`` (integer yen);
* ``rate`` — ``Decimal``, a fraction (``Decimal("0.06")`` is 6%), written in YAML and stored as a decimal string;
  floats are refused everywhere, since ``0.1`` in binary is not one tenth;
* ``bool`` — ``bool``.

Date ranges are inclusive on both ends (``until`` is the last day a value applies; ``null`` means open-ended).

The file is checked when first loaded (unknown or missing keys, wrong types, unordered or overlapping date ranges,
bounds that exclude a national value, duplicate names …) and a :class:`CatalogueError` names the parameter and the
key at fault. A catalogue that loads is therefore safe to resolve without further checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import yaml

ParamValue = int | Decimal | bool
"""A parameter's value in Python: ``int`` for yen, ``Decimal`` for rates, ``bool`` for flags."""

ParamType = Literal["yen", "rate", "bool"]
Scope = Literal["national", "municipal"]

TYPES: tuple[ParamType, ...] = ("yen", "rate", "bool")
SCOPES: tuple[Scope, ...] = ("national", "municipal")
KYUCHI = (1, 2, 3)
"""生活保護 級地 (the grade; 枝番 -1/-2 does not change any parameter declared so far)."""

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_RATE = re.compile(r"^-?\d+(\.\d+)?$")
_TOP_KEYS = {"version", "parameters"}
_PARAM_KEYS = {"name", "label", "type", "unit", "scope", "legal_basis", "national", "municipal_bounds", "description"}
_REQUIRED_PARAM_KEYS = _PARAM_KEYS - {"municipal_bounds"}
_BASIS_KEYS = {"citation", "url"}
_NATIONAL_KEYS = {"from", "until", "value", "by_kyuchi"}
_BOUNDS_KEYS = {"min", "max"}


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message says where and what."""


@dataclass(frozen=True)
class LegalBasis:
    citation: str
    """Article(s) of the law, in Japanese, e.g. 「地方税法第310条」."""
    url: str | None
    """Where the text is published (e-Gov 法令検索)."""


@dataclass(frozen=True)
class NationalValue:
    """The national value over one date range (both ends inclusive)."""

    start: date
    end: date | None
    value: ParamValue | None
    """The value, or ``None`` when it depends on the 級地 (see ``by_kyuchi``)."""
    by_kyuchi: Mapping[int, ParamValue] | None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)

    def for_kyuchi(self, kyuchi: int | None) -> ParamValue | None:
        """The value for a municipality of grade ``kyuchi``; ``None`` if it depends on a grade that is unknown."""
        if self.by_kyuchi is None:
            return self.value
        return None if kyuchi is None else self.by_kyuchi.get(kyuchi)

    def all_values(self) -> tuple[ParamValue, ...]:
        if self.by_kyuchi is not None:
            return tuple(self.by_kyuchi.values())
        return () if self.value is None else (self.value,)


@dataclass(frozen=True)
class Bounds:
    minimum: ParamValue
    maximum: ParamValue


@dataclass(frozen=True)
class Parameter:
    """One declared parameter."""

    name: str
    label: str
    type: ParamType
    unit: str
    scope: Scope
    legal_basis: LegalBasis
    national: tuple[NationalValue, ...]
    bounds: Bounds | None
    """Municipal yen and rate parameters only: the inclusive range a municipality's own value must lie in."""
    description: str

    @property
    def municipal(self) -> bool:
        return self.scope == "municipal"

    @property
    def depends_on_kyuchi(self) -> bool:
        return any(n.by_kyuchi is not None for n in self.national)

    def national_entry(self, on: date) -> NationalValue | None:
        for entry in self.national:
            if entry.covers(on):
                return entry
        return None

    def national_value(self, on: date, kyuchi: int | None = None) -> ParamValue | None:
        """The national value on ``on`` (``None``: none applies on that date, or it needs an unknown 級地)."""
        entry = self.national_entry(on)
        return None if entry is None else entry.for_kyuchi(kyuchi)

    def format(self, value: ParamValue) -> str:
        """A value as people read it: 「3,000円」, 「6%」, 「はい」."""
        return format_value(self.type, value, self.unit)


# --- value conversion (shared with the service and the database column) -------------------------------------------


def format_value(kind: ParamType, value: ParamValue, unit: str = "") -> str:
    if kind == "bool":
        return "はい" if value else "いいえ"
    if kind == "rate":
        percent = (Decimal(value) * 100).normalize()
        return f"{percent:f}%"
    return f"{int(value):,}{unit}"


def to_json(kind: ParamType, value: ParamValue) -> int | str | bool:
    """The JSON form stored in the database and the audit log (rates as decimal strings)."""
    if kind == "rate":
        return f"{Decimal(value):f}"
    if kind == "bool":
        return bool(value)
    return int(value)


def from_json(kind: ParamType, raw: object) -> ParamValue:
    """Inverse of :func:`to_json`; raises ``ValueError`` when ``raw`` is not of the declared type."""
    value = coerce(kind, raw)
    if value is None:
        raise ValueError(f"{raw!r} is not a {kind} value")
    return value


def coerce(kind: ParamType, raw: object) -> ParamValue | None:
    """``raw`` as a value of ``kind``, or ``None`` if it is not one. Floats are never accepted."""
    if kind == "bool":
        return raw if isinstance(raw, bool) else None
    if kind == "yen":
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"-?\d{1,3}(,\d{3})+|-?\d+", raw.strip()):
            return int(raw.strip().replace(",", ""))
        return None
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, str) and _RATE.fullmatch(raw.strip()):
        try:
            return Decimal(raw.strip())
        except InvalidOperation:  # pragma: no cover (the pattern admits only valid decimals)
            return None
    return None


# --- loading ---------------------------------------------------------------------------------------------------------


class Catalogue(Mapping[str, Parameter]):
    """The declared parameters by name, in file order."""

    def __init__(self, parameters: tuple[Parameter, ...]) -> None:
        self._by_name = {p.name: p for p in parameters}

    def __getitem__(self, name: str) -> Parameter:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def national_values(self, on: date, kyuchi: int | None) -> dict[str, ParamValue]:
        """Every parameter's national value in force on ``on`` (for a municipality of that 級地): the parameter set of
        a run that has no database (benchmarks, what-if on files)."""
        values: dict[str, ParamValue] = {}
        for name, parameter in self._by_name.items():
            value = parameter.national_value(on, kyuchi)
            if value is not None:
                values[name] = value
        return values


class _Reader:
    """Checks one parameter's declaration; ``where`` prefixes every error."""

    def __init__(self, source: str, index: int, raw: object) -> None:
        self.where = f"{source}: parameters[{index}]"
        self.raw = raw

    def fail(self, message: str) -> CatalogueError:
        return CatalogueError(f"{self.where}: {message}")

    def mapping(self, raw: object, keys: set[str], required: set[str], what: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(f"{what} must be a mapping, got {type(raw).__name__}")
        unknown = set(map(str, raw)) - keys
        if unknown:
            raise self.fail(f"{what} has unknown key(s) {sorted(unknown)}; allowed: {sorted(keys)}")
        missing = required - set(raw)
        if missing:
            raise self.fail(f"{what} is missing key(s) {sorted(missing)}")
        return cast(dict[str, Any], raw)

    def text(self, raw: object, what: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(f"{what} must be a non-empty string, got {raw!r}")
        return raw.strip()

    def day(self, raw: object, what: str) -> date:
        if not isinstance(raw, date):
            raise self.fail(f"{what} must be a date (YYYY-MM-DD), got {raw!r}")
        return raw

    def value(self, kind: ParamType, raw: object, what: str) -> ParamValue:
        if kind == "rate" and not isinstance(raw, str):
            raise self.fail(f'{what} must be a quoted decimal string for a rate (e.g. "0.06"), got {raw!r}')
        if kind == "yen" and isinstance(raw, str):
            raise self.fail(f"{what} must be an integer number of yen, got the string {raw!r}")
        value = coerce(kind, raw)
        if value is None:
            raise self.fail(f"{what} is not a valid {kind} value: {raw!r}")
        return value

    def read(self) -> Parameter:
        raw = self.mapping(self.raw, _PARAM_KEYS, _REQUIRED_PARAM_KEYS, "the parameter")
        name = self.text(raw["name"], "name")
        if not _NAME.fullmatch(name):
            raise self.fail(f"name {name!r} must be dotted lower-case words, e.g. resident_tax.per_capita.municipal")
        self.where += f" ({name})"
        kind = raw["type"]
        if kind not in TYPES:
            raise self.fail(f"type {kind!r} is not one of {list(TYPES)}")
        scope = raw["scope"]
        if scope not in SCOPES:
            raise self.fail(f"scope {scope!r} is not one of {list(SCOPES)}")
        basis = self.mapping(raw["legal_basis"], _BASIS_KEYS, {"citation"}, "legal_basis")
        url = basis.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
            raise self.fail(f"legal_basis.url must be an https:// address, got {url!r}")
        national = self.national(kind, raw["national"])
        bounds = self.bounds(kind, scope, raw.get("municipal_bounds"), national)
        return Parameter(
            name=name,
            label=self.text(raw["label"], "label"),
            type=kind,
            unit=self.text(raw["unit"], "unit"),
            scope=scope,
            legal_basis=LegalBasis(self.text(basis["citation"], "legal_basis.citation"), url),
            national=national,
            bounds=bounds,
            description=self.text(raw["description"], "description"),
        )

    def national(self, kind: ParamType, raw: object) -> tuple[NationalValue, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("national must be a non-empty list of {from, until, value | by_kyuchi}")
        entries: list[NationalValue] = []
        for i, item in enumerate(raw):
            what = f"national[{i}]"
            entry = self.mapping(item, _NATIONAL_KEYS, {"from", "until"}, what)
            start = self.day(entry["from"], f"{what}.from")
            end = None if entry["until"] is None else self.day(entry["until"], f"{what}.until")
            if end is not None and end < start:
                raise self.fail(f"{what}: until {end} is before from {start}")
            if ("value" in entry) == ("by_kyuchi" in entry):
                raise self.fail(f"{what} needs exactly one of value or by_kyuchi")
            value: ParamValue | None = None
            by_kyuchi: dict[int, ParamValue] | None = None
            if "value" in entry:
                value = self.value(kind, entry["value"], f"{what}.value")
            else:
                grades = entry["by_kyuchi"]
                if not isinstance(grades, dict) or set(grades) != set(KYUCHI):
                    raise self.fail(f"{what}.by_kyuchi must map exactly the 級地 {list(KYUCHI)} to values")
                by_kyuchi = {k: self.value(kind, grades[k], f"{what}.by_kyuchi[{k}]") for k in KYUCHI}
            if entries:
                previous = entries[-1]
                if previous.end is None or previous.end >= start:
                    raise self.fail(
                        f"{what} (from {start}) overlaps or precedes national[{i - 1}] "
                        f"(until {previous.end or 'open-ended'}); list ranges in date order without overlap"
                    )
            entries.append(NationalValue(start, end, value, by_kyuchi))
        return tuple(entries)

    def bounds(self, kind: ParamType, scope: Scope, raw: object, national: tuple[NationalValue, ...]) -> Bounds | None:
        if scope == "national":
            if raw is not None:
                raise self.fail("municipal_bounds is only for scope municipal")
            return None
        if kind == "bool":
            if raw is not None:
                raise self.fail("a bool parameter takes no municipal_bounds")
            return None
        if raw is None:
            raise self.fail("scope municipal needs municipal_bounds {min, max}")
        spec = self.mapping(raw, _BOUNDS_KEYS, _BOUNDS_KEYS, "municipal_bounds")
        low = self.value(kind, spec["min"], "municipal_bounds.min")
        high = self.value(kind, spec["max"], "municipal_bounds.max")
        if low > high:
            raise self.fail(f"municipal_bounds.min {low} is above max {high}")
        for i, entry in enumerate(national):
            for v in entry.all_values():
                if not low <= v <= high:
                    raise self.fail(f"national[{i}] value {v} lies outside municipal_bounds {low}..{high}")
        return Bounds(low, high)


def load_catalogue(text: str, source: str = "catalogue.yaml") -> Catalogue:
    """Parse and check a catalogue document; :class:`CatalogueError` on the first problem found."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise CatalogueError(f"{source}: the document must be a mapping with keys {sorted(_TOP_KEYS)}")
    unknown = set(map(str, document)) - _TOP_KEYS
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level key(s) {sorted(unknown)}")
    if document.get("version") != 1:
        raise CatalogueError(f"{source}: version must be 1, got {document.get('version')!r}")
    raw_parameters = document.get("parameters")
    if not isinstance(raw_parameters, list) or not raw_parameters:
        raise CatalogueError(f"{source}: parameters must be a non-empty list")
    parameters: list[Parameter] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_parameters):
        parameter = _Reader(source, index, raw).read()
        if parameter.name in seen:
            raise CatalogueError(f"{source}: parameters[{index}]: name {parameter.name!r} is declared twice")
        seen.add(parameter.name)
        parameters.append(parameter)
    return Catalogue(tuple(parameters))


@cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, loaded and checked once per process."""
    return load_catalogue(CATALOGUE_PATH.read_text(encoding="utf-8"), source=CATALOGUE_PATH.name)
