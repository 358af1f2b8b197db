"""Registry API (住民記録): search, a person's record with their 異動, a household, and recording a 転居, on SQLite and
PostgreSQL; only for the caller's own municipality and only with the registry permissions."""

from __future__ import annotations

from datetime import date

from kiban.core.identity.permissions import Role
from kiban.registry import service

from residents import A, move_in, staff
from web_site import Site

CLERK = staff("clerk1", Role.REGISTRY)
MY_NUMBER = "123456789018"
MOVE = {
    "effective_date": "2026-10-01",
    "postal_code": "１００－０００５",
    "pref_name": "東京都",
    "city_name": "千代田区",
    "town": "丸の内一丁目",
    "banchi": "１－１",
}


def _family(site: Site) -> None:
    with site.db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER)
        move_in(
            s,
            CLERK,
            "1002",
            "9001",
            given_name="花子",
            given_name_kana="ハナコ",
            birth_date=date(1982, 7, 7),
            sex="女",
            relationship="妻",
        )


def test_search(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    hits = client.get("/api/v1/registry/persons", params={"kana": "やまだ"}).json()
    assert [h["person_no"] for h in hits] == ["1001", "1002"]
    assert hits[0] == {
        "person_no": "1001",
        "household_no": "9001",
        "status": "resident",
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-05-01",
        "sex": "male",
        "relationship": "世帯主",
        "address": "東京都千代田区千代田1-1",
    }
    born = client.get("/api/v1/registry/persons", params={"birth_date": "1982-07-07"}).json()
    assert [h["person_no"] for h in born] == ["1002"]
    nothing = client.get("/api/v1/registry/persons")
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["field"] == "検索条件"


def test_move_within_then_the_record_and_household(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    recorded = client.post("/api/v1/registry/persons/1001/move-within", json=MOVE)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert body["event_no"] == 3
    assert body["person"]["address"]["text"] == "〒100-0005 東京都千代田区丸の内一丁目1-1"
    assert body["person"]["address_since"] == "2026-10-01"
    record = client.get("/api/v1/registry/persons/1002").json()
    assert [(e["event_no"], e["label"], e["person_no"]) for e in record["events"]] == [
        (2, "転入", "1002"),
        (3, "転居", "1001"),
    ]
    assert record["events"][1]["changes"] == ["住所：〒100-0005 東京都千代田区丸の内一丁目1-1"]
    assert record["person"]["address"]["postal_code"] == "1000005"
    before = client.get("/api/v1/registry/persons/1002", params={"as_of": "2026-09-30"}).json()
    assert before["person"]["address"]["town"] == "千代田"
    assert client.get("/api/v1/registry/persons/1002", params={"as_of": "2019-01-01"}).json()["person"] is None
    household = client.get("/api/v1/registry/households/9001").json()
    assert household["head_person_no"] == "1001"
    assert [(m["person_no"], m["relationship"]) for m in household["members"]] == [("1001", "世帯主"), ("1002", "妻")]
    assert household["address"]["town"] == "丸の内一丁目"
    assert MY_NUMBER not in client.get("/api/v1/registry/persons/1001").text
    with site.db.app.tenant(A) as s:
        service.correct_event(s, actor=CLERK, event_no=3, effective_date=date(2026, 9, 28))
    moved = client.get("/api/v1/registry/persons/1001").json()["events"][1]
    today = date.today().isoformat()
    assert (moved["event_no"], moved["effective_date"], moved["corrected_on"]) == (3, "2026-09-28", today)
    assert moved["superseded"] == [{"recorded_at": today, "effective_date": "2026-10-01", "changes": moved["changes"]}]


def test_bad_input_is_explained_field_by_field(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    refused = client.post("/api/v1/registry/persons/1001/move-within", json={**MOVE, "postal_code": "123", "town": ""})
    assert refused.status_code == 422
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"郵便番号", "町域"}
    assert errors["郵便番号"]["received"] == "123"
    assert errors["郵便番号"]["fix"] == "7桁の数字で入力してください（例：100-0001）。"
    future = client.post("/api/v1/registry/persons/1001/move-within", json={**MOVE, "effective_date": "2999-01-01"})
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "異動日"
    assert [e["label"] for e in client.get("/api/v1/registry/persons/1001").json()["events"]] == ["転入"]


def test_permissions(site: Site) -> None:
    _family(site)
    assert site.client.get("/api/v1/registry/persons/1001").status_code == 401
    site.login("a_admin")  # 団体管理者: no REGISTRY_READ
    for path in ("/api/v1/registry/persons/1001", "/api/v1/registry/households/9001"):
        denied = site.client.get(path)
        assert denied.status_code == 403
        assert "registry.read" in denied.json()["message"]
    site.login("a_school")  # reads, never records
    assert site.client.get("/api/v1/registry/persons/1001").status_code == 200
    denied = site.client.post("/api/v1/registry/persons/1001/move-within", json=MOVE)
    assert denied.status_code == 403
    assert "registry.write" in denied.json()["message"]


def test_another_municipality_gets_not_found(site: Site) -> None:
    _family(site)
    client = site.login("b_all")  # 札幌市, with every municipal role
    for path in ("/api/v1/registry/persons/1001", "/api/v1/registry/households/9001"):
        response = client.get(path)
        assert response.status_code == 404
        assert "山田" not in response.text
    assert client.post("/api/v1/registry/persons/1001/move-within", json=MOVE).status_code == 404
    assert client.get("/api/v1/registry/persons", params={"kana": "ヤマダ"}).json() == []
    site.login("a_all")
    assert [e["label"] for e in site.client.get("/api/v1/registry/persons/1001").json()["events"]] == ["転入"]
