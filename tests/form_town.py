"""What the registry form tests share: a registry clerk, two households recorded through the service, and reading
the register and the form pages back."""

from __future__ import annotations

import re

from kiban.core.identity.permissions import Role
from kiban.registry import service
from kiban.registry.events import PersonState

from residents import A, move_in, staff
from web_site import Site

CLERK = staff("clerk1", Role.REGISTRY)


def households(site: Site, *, second: bool = True) -> None:
    """9001: 山田 太郎 (1001, head, event 1) and 花子 (1002, 妻, event 2); with ``second``, 9002: 佐藤 次郎 (2001, head,
    event 3); all at the same address since 2020-04-01."""
    with site.db.app.tenant(A) as s:
        move_in(s, CLERK, "1001", "9001")
        move_in(s, CLERK, "1002", "9001", given_name="花子", given_name_kana="ハナコ", sex="女", relationship="妻")
        if second:
            move_in(s, CLERK, "2001", "9002", family_name="佐藤", given_name="次郎", family_name_kana="サトウ")


def state_of(site: Site, person_no: str) -> PersonState:
    with site.db.app.tenant(A) as s:
        state = service.person_state(s, actor=CLERK, person_no=person_no)
    assert state is not None
    return state


def members(site: Site, household_no: str) -> dict[str, str]:
    """宛名番号 → 続柄 of the household's residents now."""
    with site.db.app.tenant(A) as s:
        return {
            m.person_no: m.relationship for m in service.household_members(s, actor=CLERK, household_no=household_no)
        }


def marked(html: str, name: str) -> bool:
    """Whether the input ``name`` is marked invalid."""
    return re.search(rf'id="{name}" name="{name}"[^>]*aria-invalid="true"', html) is not None
