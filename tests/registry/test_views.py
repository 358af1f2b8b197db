"""Registry pages (住民記録): search, a person's record and timeline, a household on a date, and the forms recording
転入, 転居, 転出 and 死亡, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kiban.core.identity.permissions import Role
from kiban.registry import service
from kiban.registry.events import Address

from residents import TODAY, A, move_in, staff
from web_site import Site

CLERK = staff("clerk1", Role.REGISTRY)
MY_NUMBER = "123456789018"
NEW_ADDRESS = {
    "postal_code": "１００－０００５",
    "pref_name": "東京都",
    "city_name": "千代田区",
    "town": "丸の内一丁目",
    "banchi": "１－１",
}


def _family(site: Site) -> int:
    """山田 太郎 (1001, head) and 花子 (1002) in household 9001 since 2020-04-01; returns 太郎's 転入 event."""
    with site.db.app.tenant(A) as s:
        event_no = move_in(s, CLERK, "1001", "9001", my_number=MY_NUMBER)
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
    return event_no


def _timeline(html: str) -> str:
    match = re.search(r'<table data-testid="timeline">(.*?)</table>', html, re.S)
    assert match, "the person page has a timeline"
    return match.group(1)


def test_search_by_kana_and_wareki_birth_date(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    empty = client.get("/registry")
    assert empty.status_code == 200
    assert "検索結果" not in empty.text
    found = client.get("/registry", params={"kana": "やまだ"})
    assert found.status_code == 200
    assert "検索結果（2件）" in found.text
    assert '<a href="/registry/persons/1001">山田　太郎</a>' in found.text
    assert "昭和55年5月1日" in found.text
    one = client.get("/registry", params={"kana": "ﾔﾏﾀﾞ", "birth_date": "Ｓ５５．５．１"})
    assert "検索結果（1件）" in one.text
    assert "/registry/persons/1002" not in one.text
    none = client.get("/registry", params={"name": "鈴木"})
    assert "条件に当てはまる人はいません" in none.text


def test_unreadable_search_date_is_explained(site: Site) -> None:
    client = site.login("a_all")
    response = client.get("/registry", params={"kana": "ヤマダ", "birth_date": "昭和65年1月1日"})
    assert response.status_code == 422
    assert "生年月日：「昭和65年1月1日」は受け付けられません。昭和は1989年1月7日までです。" in response.text
    assert 'value="昭和65年1月1日"' in response.text


def test_move_within_through_the_form_appears_in_the_timeline(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    form = client.get("/registry/persons/1001/move-within")
    assert form.status_code == 200
    assert 'value="千代田区"' in form.text, "都道府県 and 市区町村 start as the current ones"
    posted = client.post(
        "/registry/persons/1001/move-within",
        data={"effective_date": "令和８年１０月１日", **NEW_ADDRESS},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/registry/persons/1001?saved=3"
    page = client.get(posted.headers["location"])
    assert "転居を記録しました（異動番号 3）" in page.text
    assert 'href="/registry/persons/1001/copy"' in page.text, "the person page leads to the 住民票の写し"
    rows = re.findall(r"<tr data-event-no=\"(\d+)\">(.*?)</tr>", _timeline(page.text), re.S)
    assert [no for no, _ in rows] == ["1", "3"], "花子's 転入 is hers, not 太郎's"
    moved = rows[1][1]
    assert "令和8年10月1日" in moved
    assert "転居" in moved
    assert "住所：〒100-0005 東京都千代田区丸の内一丁目1-1" in moved
    assert "〒100-0005 東京都千代田区丸の内一丁目1-1" in page.text.split('data-testid="timeline"')[0]
    spouse = client.get("/registry/persons/1002")
    assert "住所：〒100-0005 東京都千代田区丸の内一丁目1-1" in _timeline(spouse.text)
    assert '<a href="/registry/persons/1001">宛名番号 1001</a> の届出による' in spouse.text


def test_household_page_on_a_date(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    page = client.get("/registry/households/9001")
    assert page.status_code == 200
    members = re.search(r'data-testid="members">(.*?)</table>', page.text, re.S)
    assert members
    assert members.group(1).index("1001") < members.group(1).index("1002")
    assert "<td>妻</td>" in members.group(1)
    assert '<a href="/registry/persons/1001">山田　太郎</a>' in page.text
    before = client.get("/registry/households/9001", params={"on": "令和2年3月31日"})
    assert "この日にこの世帯に住民はいません" in before.text
    bad = client.get("/registry/households/9001", params={"on": "きのう"})
    assert bad.status_code == 422
    assert "基準日：「きのう」は受け付けられません" in bad.text


def test_bad_form_input_is_422_with_the_fix_and_the_typed_values(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    data = {"effective_date": "令和8年10月1日", **NEW_ADDRESS, "postal_code": "１２３", "town": ""}
    response = client.post("/registry/persons/1001/move-within", data=data)
    assert response.status_code == 422
    assert "郵便番号：「１２３」は受け付けられません。7桁の数字で入力してください（例：100-0001）。" in response.text
    assert "町域：「（空欄）」は受け付けられません。入力してください。" in response.text
    assert re.search(r'id="postal_code" name="postal_code" value="１２３"[^>]*aria-invalid="true"', response.text)
    assert 'value="１－１"' in response.text
    bad_date = client.post("/registry/persons/1001/move-within", data={**data, "effective_date": "令和8年13月1日"})
    assert bad_date.status_code == 422
    assert "異動日：「令和8年13月1日」は受け付けられません。存在しない日付です。" in bad_date.text
    page = client.get("/registry/persons/1001")
    assert "転居" not in _timeline(page.text), "nothing was recorded"


def test_move_in_form_and_a_suspected_duplicate(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    assert client.get("/registry/move-in").status_code == 200
    data = {
        "person_no": "３００１",
        "household_no": "９００３",
        "family_name": "鈴木",
        "given_name": "一郎",
        "family_name_kana": "すずき",
        "given_name_kana": "ｲﾁﾛｳ",
        "birth_date": "平成2年2月3日",
        "sex": "男",
        "relationship": "世帯主",
        **NEW_ADDRESS,
        "effective_date": "2026-10-15",
    }
    posted = client.post("/registry/move-in", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/registry/persons/3001?saved=3"
    page = client.get(posted.headers["location"])
    assert "転入を記録しました" in page.text
    assert "スズキ　イチロウ" in page.text
    assert "平成2年2月3日" in page.text
    again = {**data, "person_no": "3002", "household_no": "9004"}
    held = client.post("/registry/move-in", data=again)
    assert held.status_code == 422
    assert "宛名番号 3001" in held.text
    assert 'name="confirmed_distinct"' in held.text
    assert 'value="すずき"' in held.text
    confirmed = client.post("/registry/move-in", data={**again, "confirmed_distinct": "1"}, follow_redirects=False)
    assert confirmed.headers["location"] == "/registry/persons/3002?saved=4"


def test_move_out_and_death_forms(site: Site) -> None:
    _family(site)
    client = site.login("a_all")
    head_leaving = client.post(
        "/registry/persons/1001/move-out",
        data={"effective_date": "令和8年9月30日", "destination": "大阪府大阪市北区中之島1-3-20"},
    )
    assert head_leaving.status_code == 422
    assert "新しい世帯主" in head_leaving.text
    assert "1002" in head_leaving.text
    moved_out = client.post(
        "/registry/persons/1001/move-out",
        data={
            "effective_date": "令和8年9月30日",
            "destination": "大阪府大阪市北区中之島1-3-20",
            "new_head_person_no": "１００２",
        },
    )
    assert moved_out.status_code == 200  # followed the redirect
    assert "転出（令和8年9月30日、転出先：大阪府大阪市北区中之島1-3-20）" in moved_out.text
    assert "転居を登録する" not in moved_out.text, "no 異動 for someone who left"
    died = client.post("/registry/persons/1002/death", data={"effective_date": "令和8年10月2日"})
    assert 'data-testid="status">死亡（令和8年10月2日）' in died.text
    assert client.get("/registry/persons/1002/adoption").status_code == 404


def test_pages_need_the_registry_permissions(site: Site) -> None:
    _family(site)
    admin = site.login("a_admin")  # 団体管理者: no REGISTRY_READ
    assert "住民記録" not in admin.get("/").text
    for path in ("/registry", "/registry/persons/1001", "/registry/households/9001"):
        refused = admin.get(path, params={"kana": "ヤマダ"})
        assert refused.status_code == 403, path
        assert "registry.read" in refused.text
        assert "山田" not in refused.text
    school = site.login("a_school")  # reads the register, records nothing
    assert '<a href="/registry">住民記録</a>' in school.get("/").text
    page = school.get("/registry/persons/1001")
    assert page.status_code == 200
    assert "転居を登録する" not in page.text
    assert school.get("/registry/persons/1001/move-within").status_code == 403
    posted = school.post("/registry/persons/1001/move-within", data={"effective_date": "令和8年10月1日", **NEW_ADDRESS})
    assert posted.status_code == 403
    assert "registry.write" in posted.text


def test_another_municipality_sees_nothing(site: Site) -> None:
    _family(site)
    client = site.login("b_all")  # 札幌市, with every municipal role
    for path in ("/registry/persons/1001", "/registry/households/9001", "/registry/persons/1001/move-within"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "山田" not in response.text
    posted = client.post("/registry/persons/1001/move-within", data={"effective_date": "令和8年10月1日", **NEW_ADDRESS})
    assert posted.status_code == 404
    assert "検索結果（0件）" in client.get("/registry", params={"kana": "ヤマダ"}).text
    site.login("a_all")
    assert "転居" not in _timeline(site.client.get("/registry/persons/1001").text)


def test_corrections_stay_visible_and_my_number_is_never_shown(site: Site) -> None:
    _family(site)
    with site.db.app.tenant(A) as s:
        move_in_no = move_in(s, CLERK, "2001", "9002", family_name="佐藤", family_name_kana="サトウ")
        fixed = Address("1000001", "東京都", "千代田区", "千代田", "1-2")
        service.correct_event(
            s, actor=CLERK, event_no=move_in_no, effective_date=date(2020, 3, 20), address=fixed, today=TODAY
        )
    client = site.login("a_all")
    page = client.get("/registry/persons/2001")
    timeline = _timeline(page.text)
    assert "誤記修正あり" in timeline
    assert "令和2年3月20日" in timeline
    assert "住所：〒100-0001 東京都千代田区千代田1-2" in timeline
    superseded = re.search(r"修正前（(.*?)記録）：(.*?)</p>", timeline, re.S)
    assert superseded
    assert "異動日 令和2年4月1日" in superseded.group(2)
    assert "〒100-0001 東京都千代田区千代田1-1" in superseded.group(2)
    assert "令和8年11月1日 修正" in timeline
    for path in ("/registry/persons/1001", "/registry/households/9001", "/registry?kana=ヤマダ"):
        assert MY_NUMBER not in client.get(path).text


@pytest.mark.parametrize("kind", ["move-within", "move-out", "death"])
def test_every_event_form_opens(site: Site, kind: str) -> None:
    _family(site)
    client = site.login("a_all")
    page = client.get(f"/registry/persons/1002/{kind}")
    assert page.status_code == 200
    assert "山田　花子" in page.text
    assert f'action="/registry/persons/1002/{kind}"' in page.text
