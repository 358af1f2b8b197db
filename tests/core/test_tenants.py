"""The tenant catalogue: every body with a valid code, and the queries the CLI and web app use."""

from __future__ import annotations

from collections import Counter

import pytest

from kiban.core.errors import InputError, NotFound
from kiban.core.tenants import service
from kiban.core.tenants.catalog import load_bodies

from conftest import TestDatabase


def test_catalogue_has_every_municipality_prefecture_and_ward() -> None:
    bodies = load_bodies()
    kinds = Counter(b.kind for b in bodies)
    assert sum(b.is_municipality for b in bodies) == 1741
    assert kinds["prefecture"] == 47
    assert kinds["designated_city_ward"] == 171
    assert kinds["special_ward"] == 23
    assert kinds["designated_city"] == 20
    municipal_population = sum(b.population for b in bodies if b.is_municipality)
    assert municipal_population == sum(b.population for b in bodies if b.kind == "prefecture") == 124_330_690


def test_wards_point_to_their_designated_city() -> None:
    bodies = {b.lg_code: b for b in load_bodies()}
    chuo = bodies["011011"]
    assert chuo.name == "札幌市中央区"
    assert chuo.parent_code == "011002"
    assert bodies["011002"].kind == "designated_city"
    assert bodies["011002"].kyuchi == 1


def test_service_reads_and_activates(db: TestDatabase) -> None:
    with db.owner.tenant(None) as s:
        assert service.get(db_session=s, lg_code="131016").name == "千代田区"
        assert len(service.get_all(db_session=s, pref_code="13", kind="special_ward")) == 23
    with db.app.tenant(None) as s:
        service.activate(db_session=s, lg_code="131016")
    with db.app.tenant(None) as s:
        assert [t.lg_code for t in service.get_all(db_session=s, active=True)] == ["131016"]


def test_unknown_and_malformed_codes_are_refused(db: TestDatabase) -> None:
    with db.app.tenant(None) as s:
        # 999997 has a valid check digit but no body; 131017 fails the check digit (千代田区 is 131016).
        with pytest.raises(NotFound, match="999997"):
            service.get(db_session=s, lg_code="999997")
        with pytest.raises(InputError, match="団体コード"):
            service.get(db_session=s, lg_code="131017")
        with pytest.raises(InputError, match="都道府県"):
            service.activate(db_session=s, lg_code="130001")
