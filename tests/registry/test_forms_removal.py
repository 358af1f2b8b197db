"""The 職権消除 form (住民基本台帳法施行令第12条), on SQLite and PostgreSQL: offered on a resident's page to staff who
record 異動; given good input, the person's record is removed (消除) with its reason; given bad input, it answers 422
naming each field in Japanese, marks that input and records nothing."""

from __future__ import annotations

import re
from datetime import date

from kiban.registry.events import HEAD, Status

from form_town import households, marked, state_of
from web_site import Site

REMOVAL = {"effective_date": "令和８年１０月１日", "reason": "実態調査により居住の事実なし"}


def test_official_removal_removes_the_person(site: Site) -> None:
    households(site, second=False)
    client = site.login("a_all")
    form = client.get("/registry/persons/1002/official-removal")
    assert form.status_code == 200
    assert "住民基本台帳法施行令第8条・第12条" in form.text
    posted = client.post("/registry/persons/1002/official-removal", data=REMOVAL, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    match = re.fullmatch(r"/registry/persons/1002\?saved=(\d+)", posted.headers["location"])
    assert match, posted.headers["location"]
    removed = state_of(site, "1002")
    assert (removed.status, removed.left_on) == (Status.REMOVED, date(2026, 10, 1))
    page = client.get(posted.headers["location"]).text
    assert f"職権消除を記録しました（異動番号 {match.group(1)}）" in page
    assert "理由：実態調査により居住の事実なし" in page
    assert 'data-testid="status">消除（令和8年10月1日）' in page
    assert 'href="/registry/persons/1002/official-removal"' not in page, "offered to residents only"
    assert state_of(site, "1001").relationship == HEAD


def test_official_removal_with_bad_input_names_the_fields(site: Site) -> None:
    households(site, second=False)
    client = site.login("a_all")
    no_reason = client.post("/registry/persons/1002/official-removal", data={**REMOVAL, "reason": "　"})
    assert no_reason.status_code == 422
    assert "職権消除の理由：「（空欄）」は受け付けられません。職権で消除する理由" in no_reason.text
    assert marked(no_reason.text, "reason")
    bad_date = client.post(
        "/registry/persons/1002/official-removal", data={**REMOVAL, "effective_date": "令和8年2月30日"}
    )
    assert bad_date.status_code == 422
    assert "異動日：「令和8年2月30日」は受け付けられません。存在しない日付です。" in bad_date.text
    assert marked(bad_date.text, "effective_date")
    assert 'value="実態調査により居住の事実なし"' in bad_date.text, "what was typed comes back"
    head = client.post("/registry/persons/1001/official-removal", data=REMOVAL)
    assert head.status_code == 422
    assert "新しい世帯主：「（空欄）」は受け付けられません。" in head.text
    assert marked(head.text, "new_head_person_no")
    assert state_of(site, "1001").status is Status.RESIDENT
    assert state_of(site, "1002").status is Status.RESIDENT


def test_official_removal_of_the_head_names_the_new_head(site: Site) -> None:
    households(site, second=False)
    client = site.login("a_all")
    data = {**REMOVAL, "new_head_person_no": "１００２"}
    posted = client.post("/registry/persons/1001/official-removal", data=data, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    assert state_of(site, "1001").status is Status.REMOVED
    assert (state_of(site, "1002").household_no, state_of(site, "1002").relationship) == ("9001", HEAD)


def test_official_removal_is_linked_and_needs_registry_write(site: Site) -> None:
    households(site, second=False)
    client = site.login("a_all")
    assert 'href="/registry/persons/1002/official-removal"' in client.get("/registry/persons/1002").text
    school = site.login("a_school")  # reads the register, records nothing
    assert "職権消除を登録する" not in school.get("/registry/persons/1002").text
    assert school.get("/registry/persons/1002/official-removal").status_code == 403
    assert school.post("/registry/persons/1002/official-removal", data=REMOVAL).status_code == 403
    other = site.login("b_all")  # 札幌市
    assert other.post("/registry/persons/1002/official-removal", data=REMOVAL).status_code == 404
    assert state_of(site, "1002").status is Status.RESIDENT
