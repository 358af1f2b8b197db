"""The registry forms beyond 転入・転居・転出・死亡 (出生, 世帯分離, 世帯合併, 世帯主変更, 氏名変更, 転出取消 and
誤記修正), on SQLite and PostgreSQL. Each one, given good input, changes the register (read back through the
services); given bad input, it answers 422 naming the field in Japanese, marks that input and records nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kiban.core.errors import NotFound
from kiban.registry import service
from kiban.registry.events import HEAD, Status

from form_town import CLERK, households, marked, members, state_of
from residents import CHIYODA, TODAY, A
from web_site import Site


def _saved(posted_location: str, person_no: str) -> int:
    match = re.fullmatch(rf"/registry/persons/{person_no}\?saved=(\d+)", posted_location)
    assert match, posted_location
    return int(match.group(1))


BIRTH = {
    "person_no": "３００１",
    "family_name": "山田",
    "given_name": "一郎",
    "family_name_kana": "やまだ",
    "given_name_kana": "ｲﾁﾛｳ",
    "birth_date": "令和８年５月５日",
    "sex": "男",
    "relationship": "子",
}


def test_birth_records_the_child_in_the_household(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    form = client.get("/registry/households/9001/birth")
    assert form.status_code == 200
    assert 'id="relationship" name="relationship" value="子"' in form.text, "続柄 starts as 子"
    assert "山田　太郎（世帯主、宛名番号 1001）" in form.text
    posted = client.post("/registry/households/9001/birth", data=BIRTH, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    event_no = _saved(posted.headers["location"], "3001")
    child = state_of(site, "3001")
    assert (child.household_no, child.relationship, child.status) == ("9001", "子", Status.RESIDENT)
    assert (child.family_name_kana, child.given_name_kana) == ("ヤマダ", "イチロウ")
    assert child.birth_date == child.resident_since == date(2026, 5, 5)
    assert child.address == state_of(site, "1001").address, "the household's address"
    page = client.get(posted.headers["location"])
    assert f"出生を記録しました（異動番号 {event_no}）" in page.text


def test_birth_with_bad_input_names_the_fields(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    bad_date = client.post("/registry/households/9001/birth", data={**BIRTH, "birth_date": "令和8年13月1日"})
    assert bad_date.status_code == 422
    assert "生年月日：「令和8年13月1日」は受け付けられません。存在しない日付です。" in bad_date.text
    assert marked(bad_date.text, "birth_date")
    bad = client.post("/registry/households/9001/birth", data={**BIRTH, "sex": "", "relationship": "世帯主"})
    assert bad.status_code == 422
    assert "性別：「（空欄）」は受け付けられません。「男」または「女」を選んでください。" in bad.text
    assert "続柄：「世帯主」は受け付けられません。出生した子は世帯主にできません。" in bad.text
    assert marked(bad.text, "relationship")
    assert 'value="ｲﾁﾛｳ"' in bad.text, "what was typed comes back"
    with site.db.app.tenant(A) as s, pytest.raises(NotFound):
        service.person_state(s, actor=CLERK, person_no="3001")


def test_household_split_makes_a_new_household(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    assert client.get("/registry/persons/1002/household-split").status_code == 200
    data = {"effective_date": "令和８年１０月１日", "new_household_no": "９００３"}
    posted = client.post("/registry/persons/1002/household-split", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    _saved(posted.headers["location"], "1002")
    split = state_of(site, "1002")
    assert (split.household_no, split.relationship) == ("9003", HEAD)
    assert split.address_since == date(2020, 4, 1), "世帯分離 keeps 住所を定めた日"
    assert members(site, "9001") == {"1001": HEAD}


def test_household_split_of_a_head_needs_the_new_head(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    data = {"effective_date": "令和8年10月1日", "new_household_no": "9003"}
    refused = client.post("/registry/persons/1001/household-split", data=data)
    assert refused.status_code == 422
    assert "新しい世帯主：「（空欄）」は受け付けられません。世帯主が抜けると世帯員が残るため" in refused.text
    assert marked(refused.text, "new_head_person_no")
    assert 'value="9003"' in refused.text
    assert members(site, "9001") == {"1001": HEAD, "1002": "妻"}


def test_household_merge_moves_every_member(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    form = client.get("/registry/households/9002/merge")
    assert form.status_code == 200
    assert 'name="relationship_2001"' in form.text
    data = {"effective_date": "令和8年10月1日", "into_household_no": "９００１", "relationship_2001": "同居人"}
    posted = client.post("/registry/households/9002/merge", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    _saved(posted.headers["location"], "2001")
    assert members(site, "9001") == {"1001": HEAD, "1002": "妻", "2001": "同居人"}
    assert members(site, "9002") == {}


def test_household_merge_needs_each_members_relationship(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    data = {"effective_date": "令和8年10月1日", "into_household_no": "９００１", "relationship_2001": ""}
    refused = client.post("/registry/households/9002/merge", data=data)
    assert refused.status_code == 422
    assert "続柄：「2001」は受け付けられません。合併する世帯の全員について、合併先の世帯主との続柄を" in refused.text
    assert marked(refused.text, "relationship_2001")
    assert 'value="９００１"' in refused.text
    unknown = client.post("/registry/households/9002/merge", data={**data, "into_household_no": "9999"})
    assert "合併先の世帯番号：「9999」は受け付けられません。" in unknown.text
    assert members(site, "9002") == {"2001": HEAD}


def test_change_head_through_the_household_form(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    form = client.get("/registry/households/9001/change-head")
    assert form.status_code == 200
    assert '<option value="1002">山田　花子（宛名番号 1002）</option>' in form.text
    assert '<option value="1001">' not in form.text, "the head is not offered as the new head"
    data = {"effective_date": "令和8年10月1日", "new_head_person_no": "1002", "relationship_1001": "夫"}
    posted = client.post("/registry/households/9001/change-head", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    event_no = _saved(posted.headers["location"], "1002")
    assert members(site, "9001") == {"1002": HEAD, "1001": "夫"}
    page = client.get(posted.headers["location"])
    assert f"世帯主変更を記録しました（異動番号 {event_no}）" in page.text


def test_change_head_needs_the_former_heads_relationship(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    data = {"effective_date": "令和8年10月1日", "new_head_person_no": "1002", "relationship_1001": "　"}
    refused = client.post("/registry/households/9001/change-head", data=data)
    assert refused.status_code == 422
    assert "続柄：「（空欄）」は受け付けられません。これまでの世帯主（1001）の新しい世帯主との続柄を" in refused.text
    assert marked(refused.text, "relationship_1001")
    no_head = client.post("/registry/households/9001/change-head", data={**data, "new_head_person_no": ""})
    assert "新しい世帯主：「（空欄）」は受け付けられません。" in no_head.text
    assert re.search(r'id="new_head_person_no" name="new_head_person_no" required aria-invalid="true"', no_head.text)
    assert members(site, "9001") == {"1001": HEAD, "1002": "妻"}


def test_name_change_replaces_only_the_names_given(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    assert client.get("/registry/persons/1002/name-change").status_code == 200
    data = {"effective_date": "令和8年10月1日", "family_name": "鈴木", "family_name_kana": "ｽｽﾞｷ"}
    posted = client.post("/registry/persons/1002/name-change", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    _saved(posted.headers["location"], "1002")
    renamed = state_of(site, "1002")
    assert (renamed.family_name, renamed.given_name) == ("鈴木", "花子")
    assert (renamed.family_name_kana, renamed.given_name_kana) == ("スズキ", "ハナコ")


def test_name_change_with_bad_input_names_the_fields(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    empty = client.post("/registry/persons/1002/name-change", data={"effective_date": "令和8年10月1日"})
    assert empty.status_code == 422
    assert "氏名：「（空欄）」は受け付けられません。変更後の氏・名またはフリガナを入力してください。" in empty.text
    latin = client.post(
        "/registry/persons/1002/name-change", data={"effective_date": "令和8年10月1日", "family_name_kana": "suzuki"}
    )
    assert latin.status_code == 422
    assert "氏（フリガナ）：「suzuki」は受け付けられません。" in latin.text
    assert marked(latin.text, "family_name_kana")
    assert state_of(site, "1002").family_name == "山田"


def _moved_out(site: Site) -> None:
    with site.db.app.tenant(A) as s:
        service.register_move_out(
            s,
            actor=CLERK,
            person_no="1002",
            effective_date=date(2026, 10, 1),
            destination="大阪府大阪市北区",
            today=TODAY,
        )


def test_move_out_cancel_makes_the_person_a_resident_again(site: Site) -> None:
    households(site)
    _moved_out(site)
    client = site.login("a_all")
    page = client.get("/registry/persons/1002")
    assert 'href="/registry/persons/1002/move-out-cancel"' in page.text, "offered after a 転出"
    assert 'href="/registry/persons/1002/move-within"' not in page.text
    posted = client.post(
        "/registry/persons/1002/move-out-cancel", data={"effective_date": "令和８年１０月５日"}, follow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    _saved(posted.headers["location"], "1002")
    back = state_of(site, "1002")
    assert (back.status, back.household_no, back.relationship, back.left_on) == (Status.RESIDENT, "9001", "妻", None)


def test_move_out_cancel_with_bad_input_names_the_fields(site: Site) -> None:
    households(site)
    _moved_out(site)
    client = site.login("a_all")
    bad_date = client.post("/registry/persons/1002/move-out-cancel", data={"effective_date": "令和8年2月30日"})
    assert bad_date.status_code == 422
    assert "異動日：「令和8年2月30日」は受け付けられません。存在しない日付です。" in bad_date.text
    assert marked(bad_date.text, "effective_date")
    before = client.post("/registry/persons/1002/move-out-cancel", data={"effective_date": "令和8年9月1日"})
    assert before.status_code == 422
    assert "宛名番号：「1002」は受け付けられません。転出が記録されている人の宛名番号を指定してください。" in before.text
    assert 'value="令和8年9月1日"' in before.text
    assert state_of(site, "1002").status is Status.MOVED_OUT


def test_correction_of_a_move_in(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    form = client.get("/registry/persons/2001/correction")
    assert form.status_code == 200
    assert '<option value="3">令和2年4月1日　転入（異動番号 3）</option>' in form.text
    data = {"event_no": "３", "effective_date": "令和2年3月20日", **CHIYODA, "banchi": "１－２"}
    posted = client.post("/registry/persons/2001/correction", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    event_no = _saved(posted.headers["location"], "2001")
    fixed = state_of(site, "2001")
    assert fixed.resident_since == date(2020, 3, 20)
    assert fixed.address is not None
    assert fixed.address.banchi == "1-2"
    page = client.get(posted.headers["location"])
    assert f"転入の誤記修正を記録しました（異動番号 {event_no}）" in page.text
    assert "修正前" in page.text


def test_correction_with_bad_input_names_the_fields(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    others = client.post(
        "/registry/persons/1001/correction", data={"event_no": "2", "effective_date": "令和2年3月20日"}
    )
    assert others.status_code == 422
    assert '<option value="2">' not in client.get("/registry/persons/1001/correction").text, "only 1001's 異動"
    assert "異動番号：「2」は受け付けられません。この人の異動の履歴から、修正する異動を選んでください。" in others.text
    assert re.search(r'id="event_no" name="event_no" required aria-invalid="true"', others.text)
    nothing = client.post("/registry/persons/1001/correction", data={"event_no": "1"})
    assert "修正内容：「（空欄）」は受け付けられません。修正する異動日または住所を入力してください。" in nothing.text
    assert '<option value="1" selected>' in nothing.text, "the chosen 異動 stays chosen"
    bad_postal = client.post(
        "/registry/persons/1001/correction", data={"event_no": "1", **CHIYODA, "postal_code": "12"}
    )
    assert "郵便番号：「12」は受け付けられません。" in bad_postal.text
    assert marked(bad_postal.text, "postal_code")
    assert state_of(site, "1001").resident_since == date(2020, 4, 1)


def test_the_new_forms_are_linked_and_need_registry_write(site: Site) -> None:
    households(site)
    client = site.login("a_all")
    person = client.get("/registry/persons/1002").text
    for kind in ("household-split", "name-change", "correction"):
        assert f'href="/registry/persons/1002/{kind}"' in person, kind
    for kind in ("birth", "change-head", "merge"):
        assert f'href="/registry/households/9001/{kind}"' in person, kind
        assert f'href="/registry/households/9001/{kind}"' in client.get("/registry/households/9001").text, kind
    school = site.login("a_school")  # reads the register, records nothing
    assert "世帯主変更を登録する" not in school.get("/registry/households/9001").text
    assert school.get("/registry/households/9001/change-head").status_code == 403
    posted = school.post("/registry/households/9001/birth", data=BIRTH)
    assert posted.status_code == 403
    assert "registry.write" in posted.text
    other = site.login("b_all")  # 札幌市
    assert other.get("/registry/households/9001/birth").status_code == 404
    assert other.post("/registry/households/9001/birth", data=BIRTH).status_code == 404
    assert other.post("/registry/persons/1002/name-change", data={"family_name": "鈴木"}).status_code == 404
    assert members(site, "9001") == {"1001": HEAD, "1002": "妻"}
