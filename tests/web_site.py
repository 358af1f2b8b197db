"""Two municipalities with staff, and the web app in front of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import pytest
from fastapi.testclient import TestClient

from kiban.core.config import Settings
from kiban.core.identity import service
from kiban.core.identity.permissions import PLATFORM, Role
from kiban.web.app import create_app

from conftest import TestDatabase

A = "131016"  # 千代田区
B = "011002"  # 札幌市
PASSWORD = "web test password 1"
MUNICIPAL_ROLES = frozenset(r for r in Role if r is not Role.NATIONAL_OPERATOR)


@dataclass
class Staff:
    lg_code: str
    user_id: str
    totp_secret: str | None


@dataclass
class Site:
    db: TestDatabase
    client: TestClient
    staff: dict[str, Staff]

    def login(self, who: str) -> TestClient:
        """Sign ``who`` in on the shared client (cookie jar), completing the TOTP step when needed."""
        person = self.staff[who]
        self.client.cookies.clear()
        form = {"lg_code": person.lg_code, "user_id": person.user_id, "password": PASSWORD}
        response = self.client.post("/login", data=form, follow_redirects=False)
        assert response.status_code == 303, response.text
        if response.headers["location"].startswith("/login/totp"):
            assert person.totp_secret is not None
            code = pyotp.TOTP(person.totp_secret).now()
            response = self.client.post("/login/totp", data={"code": code}, follow_redirects=False)
            assert response.status_code == 303
        return self.client


def _add(tdb: TestDatabase, lg_code: str, user_id: str, roles: frozenset[Role]) -> Staff:
    with tdb.app.tenant(lg_code) as s:
        created = service.create_user(
            s, user_id=user_id, display_name=f"{user_id} 職員", password=PASSWORD, roles=roles
        )
    return Staff(lg_code, user_id, created.totp_secret)


@pytest.fixture
def site(db: TestDatabase) -> Iterator[Site]:
    staff = {
        "a_all": _add(db, A, "a-all", MUNICIPAL_ROLES),
        "a_school": _add(db, A, "a-school", frozenset({Role.SCHOOL})),
        "a_admin": _add(db, A, "a-admin", frozenset({Role.TENANT_ADMIN})),
        "b_all": _add(db, B, "b-all", MUNICIPAL_ROLES),
        "operator": _add(db, PLATFORM, "op", frozenset({Role.NATIONAL_OPERATOR})),
    }
    app = create_app(db.app, Settings(environment="test"))
    with TestClient(app) as client:
        yield Site(db, client, staff)
