"""Registry screens (住民記録): search, a person's record with the timeline of every 異動, a household on a date,
and the forms recording 転入, a person's 異動 (転居, 転出, 死亡, 職権消除, 世帯分離, 氏名変更, 転出取消, 誤記修正)
and a household's (出生, 世帯主変更, 世帯合併): POST, then redirect to the page of the person whose 異動 it is.

A form with a problem comes back with status 422, the services' Japanese messages naming each field, and what was
typed. My Numbers are never shown on these pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from kiban.core.dates import age_on, parse_date
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.http.auth import require, tenant_session
from kiban.core.http.runtime import NavItem
from kiban.core.http.templates import render
from kiban.core.identity.permissions import Permission, Principal
from kiban.registry import forms, search, service
from kiban.registry.events import HEAD, PersonState, Status
from kiban.registry.timeline import address_text, person_timeline, sex_label

router = APIRouter(prefix="/registry", include_in_schema=False)
NAV = [NavItem("住民記録", "/registry", Permission.REGISTRY_READ)]
Reader = Annotated[Principal, Depends(require(Permission.REGISTRY_READ))]
Writer = Annotated[Principal, Depends(require(Permission.REGISTRY_WRITE))]
HELPERS = {"address_text": address_text, "sex_label": sex_label, "age_on": age_on, "today": date.today}


async def _posted(request: Request) -> dict[str, str]:
    """The posted form's text fields."""
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


Posted = Annotated[dict[str, str], Depends(_posted)]


def _page(
    request: Request,
    principal: Principal,
    template: str,
    context: Mapping[str, object],
    errors: Sequence[FieldError] = (),
) -> Response:
    page = {**HELPERS, **context, "errors": errors, "bad": {e.field for e in errors}}
    return render(request, template, page, principal=principal, status_code=422 if errors else 200)


def _state(s: TenantSession, principal: Principal, person_no: str) -> PersonState:
    state = service.person_state(s, actor=principal, person_no=person_no)
    if state is None:  # recorded, but with no event yet in force (cannot happen without an as-of date)
        raise NotFound(f"宛名番号「{person_no}」の住民の記録はまだありません。")
    return state


@router.get("")
def search_page(
    request: Request,
    principal: Reader,
    kana: str = "",
    name: str = "",
    birth_date: str = "",
    address: str = "",
    resident_code: str = "",
    include_departed: str = "",
) -> Response:
    form = {
        "kana": kana,
        "name": name,
        "birth_date": birth_date,
        "address": address,
        "resident_code": resident_code,
        "include_departed": include_departed,
    }
    hits = None
    try:
        if forms.is_search(form):
            with tenant_session(request, principal) as s:
                hits = forms.run_search(s, principal, form)
    except InputError as exc:
        return _page(request, principal, "registry/search.html", {"form": form, "hits": None}, exc.errors)
    return _page(request, principal, "registry/search.html", {"form": form, "hits": hits, "limit": search.LIMIT})


@router.get("/persons/{person_no}")
def person_page(request: Request, principal: Reader, person_no: str, saved: str = "") -> Response:
    with tenant_session(request, principal) as s:
        state = _state(s, principal, person_no)
        timeline = person_timeline(s, actor=principal, person_no=person_no)
    saved_entry = next((e for e in timeline if str(e.event_no) == saved), None)
    context = {"person_no": person_no, "state": state, "timeline": timeline, "saved": saved_entry}
    context["forms"] = forms.offered(state)
    context["household_forms"] = forms.HOUSEHOLD_FORMS if state.status is Status.RESIDENT else {}
    return _page(request, principal, "registry/person.html", context)


@router.get("/households/{household_no}")
def household_page(request: Request, principal: Reader, household_no: str, on: str = "") -> Response:
    errors: tuple[FieldError, ...] = ()
    day = date.today()
    try:
        day = parse_date(on, field="基準日") if on.strip() else day
    except InputError as exc:
        errors = exc.errors
    with tenant_session(request, principal) as s:
        members = service.household_members(s, actor=principal, household_no=household_no, as_of=day)
    head = next((m for m in members if m.relationship == HEAD), None)
    context = {
        "household_no": household_no,
        "members": members,
        "head": head,
        "on": day,
        "form": {"on": on},
        "household_forms": forms.HOUSEHOLD_FORMS,
    }
    return _page(request, principal, "registry/household.html", context, errors)


def _move_in_page(
    request: Request, principal: Principal, form: dict[str, str], errors: Sequence[FieldError] = ()
) -> Response:
    return _page(request, principal, "registry/move_in.html", {"form": form}, errors)


@router.get("/move-in")
def move_in_form(request: Request, principal: Writer) -> Response:
    return _move_in_page(request, principal, {"nationality": "JPN"})


@router.post("/move-in")
def move_in(request: Request, principal: Writer, posted: Posted) -> Response:
    try:
        with tenant_session(request, principal) as s:
            person_no, event_no = forms.record_move_in(s, principal, posted)
    except InputError as exc:
        return _move_in_page(request, principal, forms.kept(posted, forms.MOVE_IN_FIELDS), exc.errors)
    return RedirectResponse(f"/registry/persons/{person_no}?saved={event_no}", status_code=303)


def _person_event_page(
    request: Request,
    principal: Principal,
    person_no: str,
    kind: str,
    form: dict[str, str] | None = None,
    errors: Sequence[FieldError] = (),
) -> Response:
    spec = forms.PERSON_FORMS[kind]
    with tenant_session(request, principal) as s:
        state = _state(s, principal, person_no)
        history = person_timeline(s, actor=principal, person_no=person_no) if spec.shows_history else []
    form = spec.prefill(state) if form is None else form
    context = {"person_no": person_no, "state": state, "spec": spec, "kind": kind, "form": form, "history": history}
    return _page(request, principal, spec.template, context, errors)


def _add_person_form(kind: str) -> None:
    """GET and POST ``/registry/persons/{person_no}/<kind>`` (one fixed path per form, so other routes under a
    person, such as the 住民票の写し, never collide with them)."""
    spec = forms.PERSON_FORMS[kind]

    def show(request: Request, principal: Writer, person_no: str) -> Response:
        return _person_event_page(request, principal, person_no, kind)

    def record(request: Request, principal: Writer, person_no: str, posted: Posted) -> Response:
        try:
            with tenant_session(request, principal) as s:
                service.known_person(s, principal.lg_code, person_no)
                event_no = spec.record(s, principal, person_no, posted)
        except InputError as exc:
            form = forms.kept(posted, spec.fields)
            return _person_event_page(request, principal, person_no, kind, form, exc.errors)
        return RedirectResponse(f"/registry/persons/{person_no}?saved={event_no}", status_code=303)

    path = f"/persons/{{person_no}}/{kind}"
    router.add_api_route(path, show, methods=["GET"], name=f"registry_{spec.page}_form")
    router.add_api_route(path, record, methods=["POST"], name=f"registry_{spec.page}")


for _kind in forms.PERSON_FORMS:
    _add_person_form(_kind)


def _household_event_page(
    request: Request,
    principal: Principal,
    household_no: str,
    kind: str,
    form: dict[str, str] | None = None,
    errors: Sequence[FieldError] = (),
) -> Response:
    spec = forms.HOUSEHOLD_FORMS[kind]
    with tenant_session(request, principal) as s:
        members = service.household_members(s, actor=principal, household_no=household_no)
    head = next((m for m in members if m.relationship == HEAD), None)
    context = {
        "household_no": household_no,
        "members": members,
        "head": head,
        "spec": spec,
        "kind": kind,
        "form": dict(spec.starts_with) if form is None else form,
        "relationship_prefix": forms.RELATIONSHIP_PREFIX,
    }
    return _page(request, principal, spec.template, context, errors)


def _add_household_form(kind: str) -> None:
    """GET and POST ``/registry/households/{household_no}/<kind>``; the redirect goes to the page of the person
    whose 異動 it is (the child for a 出生, the new head for a 世帯主変更, the joining head for a 世帯合併)."""
    spec = forms.HOUSEHOLD_FORMS[kind]

    def show(request: Request, principal: Writer, household_no: str) -> Response:
        return _household_event_page(request, principal, household_no, kind)

    def record(request: Request, principal: Writer, household_no: str, posted: Posted) -> Response:
        try:
            with tenant_session(request, principal) as s:
                service.known_household(s, principal.lg_code, household_no)
                event_no = spec.record(s, principal, household_no, posted)
                person_no = forms.person_of_event(s, principal, event_no)
        except InputError as exc:
            return _household_event_page(request, principal, household_no, kind, spec.kept(posted), exc.errors)
        return RedirectResponse(f"/registry/persons/{person_no}?saved={event_no}", status_code=303)

    path = f"/households/{{household_no}}/{kind}"
    router.add_api_route(path, show, methods=["GET"], name=f"registry_{spec.page}_form")
    router.add_api_route(path, record, methods=["POST"], name=f"registry_{spec.page}")


for _kind in forms.HOUSEHOLD_FORMS:
    _add_household_form(_kind)
